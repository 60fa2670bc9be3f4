"""``tmbcalc report``: the HTML shows what the result files say (checked against the files, read
independently with json/pandas), every section is present, untrusted text is escaped, and bad
input gives a one-line error with no output."""
from __future__ import annotations

import json
import math
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests._html import parse, with_attr, with_class
from tests._report_fixtures import copy_prefix, results  # noqa: F401  (session fixture)
from tests.conftest import REPO, SHARED, run_cli

SECTIONS = ("summary", "tmb", "context", "variants", "denominator", "msi", "harmonized", "provenance",
            "limitations")
XSS = "<script>alert(1)</script>"


def _report(tmp_path, *args) -> tuple[str, list[dict]]:
    out = tmp_path / "r.html"
    r = run_cli("report", *map(str, args), "-o", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text(encoding="utf-8")
    return html, parse(html)


def _shown(els, key):
    """(text shown, exact value) of the number labelled ``key``."""
    hits = with_attr(els, "data-k", key)
    assert hits, f"no figure labelled {key}"
    return hits[0]["text"].strip(), hits[0]["attrs"]["data-value"]


@pytest.fixture(scope="module")
def tumor_page(results, tmp_path_factory):  # noqa: F811
    return _report(tmp_path_factory.mktemp("page"), results["TUMOR"], "--tumor-type", "COAD")


def test_every_section_present_and_nothing_external(tumor_page):
    html, els = tumor_page
    assert [e["attrs"]["data-section"] for e in with_attr(els, "data-section")] == list(SECTIONS)
    assert not [e for e in els if e["tag"] in ("script", "link", "iframe", "img", "object")]
    for e in els:
        for k, v in e["attrs"].items():
            assert not k.startswith("on"), e
            if k in ("src", "href") and v:
                assert not re.match(r"(?i)(https?:|//)", v), e
    csp = with_attr(els, "http-equiv", "Content-Security-Policy")[0]["attrs"]["content"]
    assert "default-src 'none'" in csp and "script-src 'none'" in csp


def test_tmb_figures_equal_the_json(results, tumor_page):  # noqa: F811
    html, els = tumor_page
    doc = json.loads((results["TUMOR"].parent / "TUMOR.tmb.json").read_text())
    s = doc["samples"][0]
    for key, json_key, nd in (("tmb", "tmb", 2), ("ci95_low", "ci95_low", 2), ("ci95_high", "ci95_high", 2),
                              ("tmb_again", "tmb", 4), ("eligible_variants", "eligible_variants", 0),
                              ("records", "records", 0), ("in_footprint", "in_footprint", 0)):
        text, exact = _shown(els, key)
        assert float(exact) == s[json_key]
        assert text == f"{s[json_key]:.{nd}f}"
    text, exact = _shown(els, "p_ge_10")
    assert float(exact) == s["p_tmb_ge_cut"]["10"] and text == f"{s['p_tmb_ge_cut']['10']:.4f}"
    cut_row = [e for e in els if e["attrs"].get("data-cut") == "10" and e["tag"] == "tr"][0]
    assert s["status"]["10"] in cut_row["text"]
    point = with_class(els, "point")[0]["attrs"]
    assert float(point["data-value"]) == s["tmb"]
    ci = with_class(els, "ci")[0]["attrs"]
    assert (float(ci["data-low"]), float(ci["data-high"])) == (s["ci95_low"], s["ci95_high"])
    # waterfall: start = records, one bar per rule with a first-failure count, end = eligible
    assert float(with_class(els, "wf-start")[0]["attrs"]["data-value"]) == s["records"]
    steps = {e["attrs"]["data-rule"]: int(e["attrs"]["data-value"]) for e in with_class(els, "wf-step")}
    assert steps == {r: n for r, n in s["excluded"].items() if n}
    assert float(with_class(els, "wf-end")[0]["attrs"]["data-value"]) == s["eligible_variants"]
    assert s["records"] - sum(steps.values()) == s["eligible_variants"]
    stages = {e["attrs"]["data-key"]: float(e["attrs"]["data-value"]) for e in with_class(els, "stage-bar")}
    assert stages == {st_["stage"]: st_["bp"] / 1e6 for st_ in doc["denominator"]["stages"]}


def test_vaf_histogram_and_consequences_match_the_variants_report(results, tumor_page):  # noqa: F811
    _, els = tumor_page
    v = pd.read_csv(results["TUMOR"].parent / "TUMOR.variants.tsv.gz", sep="\t", comment="#", dtype=str)
    elig = v[v["eligible"] == "yes"]
    vaf = pd.to_numeric(elig["vaf"], errors="coerce").dropna()
    edges = [k / 20 for k in range(21)]
    expect = pd.cut(vaf.clip(upper=0.999999), bins=edges, right=False).value_counts(sort=False).tolist()
    bars = sorted(with_class(els, "hist-bar"), key=lambda e: int(e["attrs"]["data-bin"]))
    assert [int(b["attrs"]["data-value"]) for b in bars] == expect
    assert sum(expect) == len(elig) == 18
    csq = {e["attrs"]["data-key"]: int(float(e["attrs"]["data-value"])) for e in with_class(els, "csq-bar")}
    assert csq == elig["consequence"].value_counts().to_dict()


def test_callable_and_msi_sections_match_their_files(results, tumor_page):  # noqa: F811
    html, els = tumor_page
    cal = json.loads((results["TUMOR"].parent / "TUMOR.callable.json").read_text())
    text, exact = _shown(els, "callable_bp")
    assert int(float(exact)) == cal["callable_bp"] and text == str(cal["callable_bp"])
    msi = json.loads((results["TUMOR"].parent / "TUMOR.msi.json").read_text())
    text, exact = _shown(els, "msi_score")
    assert float(exact) == msi["msi_score"] and text == f"{msi['msi_score']:.2f}"
    assert _shown(els, "evaluable_loci")[0] == str(msi["evaluable_loci"])
    stat = msi.get("statistic")
    if isinstance(stat, dict) and stat.get("unstable_read_fraction") is not None:
        text, exact = _shown(els, "unstable_read_fraction")
        assert float(exact) == stat["unstable_read_fraction"] and text == f"{stat['unstable_read_fraction']:.4f}"
    from markupsafe import escape

    assert str(escape(msi["call_basis"])) in html
    # per-locus evidence: the drawn tumor/normal counts are the msi_dis lines of that locus
    dis = (results["TUMOR"].parent / "TUMOR.msi_dis").read_text().splitlines()
    svgs = [e for e in els if e["tag"] == "svg" and re.match(r"^\S+:\d+ \d+x", e["attrs"].get("aria-label", ""))]
    assert svgs, "no per-locus length distributions drawn"
    label = svgs[0]["attrs"]["aria-label"]
    chrom, start = label.split()[0].split(":")
    i = next(k for k, line in enumerate(dis) if line.split()[:2] == [chrom, start])
    normal = [int(x) for x in dis[i + 1].split()[1:]]
    tumor = [int(x) for x in dis[i + 2].split()[1:]]
    for series, counts in (("normal", normal), ("tumor", tumor)):
        bars = [e["attrs"] for e in with_class(els, "len-bar") if e["attrs"]["data-locus"] == f"{chrom}:{start}"
                and e["attrs"]["data-series"] == series]
        drawn = {int(b["data-copies"]): int(b["data-value"]) for b in bars}
        assert all(counts[c - 1] == n for c, n in drawn.items())
        assert sum(drawn.values()) == sum(counts) > 0      # every read of the locus is drawn


def test_tcga_context_for_the_tumor_type(tumor_page):
    html, els = tumor_page
    assert "not measured on the TCGA reference scale" in html     # a 0.75 Mb panel is not an exome
    ref = json.loads((REPO / "tmbcalc/report/data/tcga_exome_tmb.json").read_text())
    boxes = {e["attrs"]["data-code"]: float(e["attrs"]["data-median"]) for e in with_class(els, "box")}
    assert boxes == {k: v["percentiles"][50] for k, v in ref["tumor_types"].items()}
    assert float(with_class(els, "sample-line")[0]["attrs"]["data-value"]) == float(_shown(els, "context_value")[1])


def test_harmonized_value_and_model_curve(results, tmp_path):  # noqa: F811
    html, els = _report(tmp_path, str(results["chol"]) + ".tmb.json")
    doc = json.loads((results["chol"].parent / "chol.tmb.json").read_text())
    hz = doc["harmonization"]
    harm = [s["harmonized"] for s in doc["samples"]]
    assert len(with_attr(els, "data-sample")) >= len(doc["samples"])
    shown = [float(e["attrs"]["data-value"]) for e in with_attr(els, "data-k", "harmonized_value")]
    assert shown == [h["value"] for h in harm]
    lows = [float(e["attrs"]["data-value"]) for e in with_attr(els, "data-k", "harmonized_low_detail")]
    assert lows == [h["pi_low"] for h in harm]
    assert len(with_class(els, "model-curve")) == len(doc["samples"])
    pts = [e["attrs"] for e in with_class(els, "point") if "data-x" in e["attrs"]]
    assert [(float(p["data-x"]), float(p["data-value"])) for p in pts] == [(s["tmb"], h["value"])
                                                                          for s, h in zip(doc["samples"], harm)]
    # the curve drawn is the model named in the result: it maps each raw TMB to the harmonized value
    from tmbcalc.calibrate.models import load_model

    m = load_model(hz["model_file"])
    assert m.id == hz["model"]
    for s_, h in zip(doc["samples"][:5], harm[:5]):
        assert float(m.predict(np.array([s_["tmb"]]))[0]) == pytest.approx(h["value"], abs=1e-4)


def test_untrusted_text_is_escaped(results, tmp_path):  # noqa: F811
    evil_dir = tmp_path / '"><img src=x onerror=alert(2)>'
    evil_dir.mkdir()
    pre = copy_prefix(results["TUMOR"], evil_dir / "S")
    doc = json.loads((pre.parent / "S.tmb.json").read_text())
    doc["samples"][0]["sample"] = XSS
    doc["provenance"]["profile"]["description"] = "<b onmouseover=alert(3)>x</b>"
    (pre.parent / "S.tmb.json").write_text(json.dumps(doc))
    msi = json.loads((pre.parent / "S.msi.json").read_text())
    msi["sample"] = XSS
    (pre.parent / "S.msi.json").write_text(json.dumps(msi))
    html, els = _report(tmp_path, pre)
    assert XSS not in html and "<img src=x" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not [e for e in els if e["tag"] in ("script", "img")]
    assert not [k for e in els for k in e["attrs"] if k.startswith("on")]
    assert any(XSS in e["text"] for e in els if e["tag"] == "h2")   # shown as text


def test_batch_report(results, tmp_path):  # noqa: F811
    chol = json.loads((results["chol"].parent / "chol.tmb.json").read_text())
    rows = [{"sample": "TUMOR", "run_status": "ok", "prefix": str(results["TUMOR"])},
            {"sample": chol["samples"][0]["sample"], "run_status": "ok", "prefix": str(results["chol"])},
            {"sample": XSS, "run_status": "failed", "error": "tmbcalc: error: x.vcf: <b>truncated</b>"}]
    (tmp_path / "batch.json").write_text(json.dumps({"samples": rows}))
    out = tmp_path / "b.html"
    r = run_cli("report", "--batch", str(tmp_path / "batch.json"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    els = parse(html)
    trs = [e for e in els if e["tag"] == "tr" and "data-sample" in e["attrs"]]
    table_rows = trs[:3]
    assert [t["attrs"]["data-sample"] for t in table_rows] == [r_["sample"] for r_ in rows]
    tmbs = [float(e["attrs"]["data-value"]) for e in with_attr(els, "data-k", "tmb") if e["attrs"]["data-value"]]
    tumor = json.loads((results["TUMOR"].parent / "TUMOR.tmb.json").read_text())
    assert tmbs == [tumor["samples"][0]["tmb"], chol["samples"][0]["tmb"]]
    assert "<b>truncated</b>" not in html and "&lt;b&gt;truncated&lt;/b&gt;" in html
    scripts = [e for e in els if e["tag"] == "script"]
    assert len(scripts) == 1 and XSS not in html
    from tmbcalc.report.render import SORT_SCRIPT, script_hash

    csp = with_attr(els, "http-equiv", "Content-Security-Policy")[0]["attrs"]["content"]
    assert scripts[0]["text"] == SORT_SCRIPT and f"script-src {script_hash(SORT_SCRIPT)};" in csp
    assert not [k for e in els for k in e["attrs"] if k.startswith("on")]
    assert [e["attrs"]["data-section"] for e in with_attr(els, "data-section")] == \
        ["summary", "table", "tmb-distribution", "msi-distribution", "failed"]


def test_api_returns_html_and_writes_atomically(results, tmp_path):  # noqa: F811
    from tmbcalc.report import render_report, write_report

    html = render_report([results["TUMOR"]])
    assert html.startswith("<!DOCTYPE html>")
    out = write_report([results["TUMOR"]], tmp_path / "x.html")
    assert out.read_text() != "" and not list(tmp_path.glob(".x.html*"))


def test_missing_output_folder_is_created(results, tmp_path):  # noqa: F811
    out = tmp_path / "new" / "sub" / "r.html"
    r = run_cli("report", str(results["TUMOR"]), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("case", ["missing", "nan", "not_json", "bad_type"])
def test_bad_input_one_line_error_no_output(results, tmp_path, case):  # noqa: F811
    out = tmp_path / "r.html"
    args = [str(tmp_path / "nothing-here")]
    code = 1
    if case in ("nan", "not_json"):
        pre = copy_prefix(results["TUMOR"], tmp_path / "B")
        text = (tmp_path / "B.tmb.json").read_text()
        (tmp_path / "B.tmb.json").write_text(text.replace('"tmb": 23.9', '"tmb": NaN, "x": 23.9', 1)
                                             if case == "nan" else text[:200])
        args = [str(pre)]
    if case == "bad_type":
        args, code = [str(results["TUMOR"]), "--tumor-type", "XYZ"], 2
    r = run_cli("report", *args, "-o", str(out))
    assert r.returncode == code, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tmbcalc: error:") and "Traceback" not in r.stderr
    assert not out.exists() and not list(out.parent.glob(".r.html*")) if out.parent.exists() else True


@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=2, max_size=50), st.floats(0, 1000))
def test_percentile_rank_is_monotone_and_bounded(values, x):
    from tmbcalc.report.tcga import percentile_rank

    pct = np.percentile(np.array(values), np.arange(101)).tolist()
    r = percentile_rank(x, pct)
    assert 0 <= r <= 100
    assert percentile_rank(x + 1, pct) >= r - 1e-9
    if x < pct[0]:
        assert r == 0
    if x > pct[-1]:
        assert r == 100


def test_tcga_table_agrees_with_maftools_mc3_totals():
    """Independent check of the shipped table: per tumour type, the order of median exome TMB agrees
    with the order of median total mutation counts in maftools' MC3 tcga_cohort table (Spearman rho)."""
    ref = json.loads((REPO / "tmbcalc/report/data/tcga_exome_tmb.json").read_text())
    mc3 = pd.read_csv(SHARED / "somatic/maftools/tcga_cohort.txt.gz", sep="\t")
    med = mc3.groupby("cohort")["total"].median()
    common = sorted(set(med.index) & set(ref["tumor_types"]))
    assert len(common) >= 25
    a = pd.Series([ref["tumor_types"][c]["median"] for c in common]).rank()
    b = pd.Series([med[c] for c in common]).rank()
    rho = float(np.corrcoef(a, b)[0, 1])
    assert rho > 0.85, rho
    assert ref["n_tumours"] == sum(v["n"] for v in ref["tumor_types"].values())
    for v in ref["tumor_types"].values():
        p = v["percentiles"]
        assert len(p) == 101 and all(x <= y for x, y in zip(p, p[1:])) and all(math.isfinite(x) for x in p)


def test_tcga_table_is_what_the_script_makes(tmp_path):
    """The shipped table is reproduced exactly by scripts/build_tcga_tmb_reference.py."""
    import subprocess
    import sys

    out = tmp_path / "t.json"
    r = subprocess.run([sys.executable, str(REPO / "scripts/build_tcga_tmb_reference.py"), "--shared", str(SHARED),
                        "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    new, shipped = json.loads(out.read_text()), json.loads((REPO / "tmbcalc/report/data/tcga_exome_tmb.json").read_text())
    for d in (new, shipped):
        d.pop("provenance")
    assert new == shipped
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_output_named_like_a_result_is_refused(results, tmp_path):  # noqa: F811
    pre = copy_prefix(results["TUMOR"], tmp_path / "S")
    before = (tmp_path / "S.tmb.json").read_bytes()
    r = run_cli("report", str(pre), "-o", str(tmp_path / "S.tmb.json"))
    assert r.returncode == 2 and "result file" in r.stderr and len(r.stderr.splitlines()) == 1
    assert (tmp_path / "S.tmb.json").read_bytes() == before


def test_batch_page_survives_an_unreadable_sample(results, tmp_path):  # noqa: F811
    bad = copy_prefix(results["TUMOR"], tmp_path / "BAD")
    (tmp_path / "BAD.tmb.json").write_text("{not json")
    rows = [{"sample": "TUMOR", "run_status": "ok", "prefix": str(results["TUMOR"])},
            {"sample": "TUMOR2", "run_status": "ok", "prefix": str(bad)}]
    (tmp_path / "batch.json").write_text(json.dumps(rows))
    out = tmp_path / "b.html"
    r = run_cli("report", "--batch", str(tmp_path / "batch.json"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    els = parse(out.read_text())
    failed = [e for e in els if e["tag"] == "tr" and e["attrs"].get("data-sample") == "TUMOR2"]
    assert len(failed) == 2 and "BAD.tmb.json" in failed[1]["text"] and "unreadable" in failed[1]["text"]


@given(st.text(alphabet=st.one_of(st.sampled_from('<>&"\'/= '), st.characters(blacklist_categories=("Cs", "Cc"))),
               min_size=1, max_size=60))
def test_svg_text_and_attributes_are_escaped(s):
    """Any text (names, loci, labels) put into a figure comes back as the same text, in one element."""
    from tmbcalc.report.svg import Svg

    g = Svg(100, 20, s)
    g.text(1, 2, s, data_key=s)
    els = parse(str(g.render()))
    assert [e["tag"] for e in els] == ["svg", "text"]
    assert els[0]["attrs"]["aria-label"] == s and els[1]["attrs"]["data-key"] == s and els[1]["text"] == s


def test_tumor_only_msi_page(results, tmp_path):  # noqa: F811
    m = results["dir"] / "msi"
    base = tmp_path / "baseline.tsv"
    r = run_cli("msi", "baseline", str(m / "normal.bam"), str(m / "normal.bam"), "--loci", str(m / "loci.tsv"),
                "--min-support", "2", "-o", str(base))
    assert r.returncode == 0, r.stderr
    r = run_cli("msi", "score", str(m / "tumor.bam"), "--baseline", str(base), "--loci", str(m / "loci.tsv"),
                "--sample", "T1", "--min-evaluable", "10", "--write-dis", "-o", str(tmp_path / "T1"))
    assert r.returncode == 0, r.stderr
    html, els = _report(tmp_path, tmp_path / "T1")
    msi = json.loads((tmp_path / "T1.msi.json").read_text())
    assert msi["mode"] == "tumor-only"
    assert float(_shown(els, "msi_score")[1]) == msi["msi_score"]
    series = {e["attrs"]["data-series"] for e in with_class(els, "len-bar")}
    assert series == {"tumor"}                        # no normal histogram in tumor-only mode
    assert "baseline of normals" in html


def test_equivocal_zones_of_a_harmonized_result(results, tmp_path):  # noqa: F811
    """The equivocal zones the result carries (around the panel cut equivalent to each reference cut)
    are drawn and tabulated as written; the zone whose panel cut equals a TMB cut sits in that row."""
    doc = json.loads((results["chol"].parent / "chol.tmb.json").read_text())
    name = doc["samples"][0]["sample"]
    html, els = _report(tmp_path, results["chol"], "--sample", name)
    zones = doc["harmonization"]["equivocal_zones"]
    drawn = sorted((float(e["attrs"]["data-low"]), float(e["attrs"]["data-high"])) for e in with_class(els, "zone")
                   if "data-low" in e["attrs"])
    assert drawn == sorted((z["low"], z["high"]) for z in zones.values())
    for i, z in enumerate(zones.values(), 1):
        assert _shown(els, f"zone_low_{i}")[0] == f"{z['low']:.2f}" and _shown(els, f"zone_high_{i}")[0] == f"{z['high']:.2f}"
        assert f"panel cut {z['panel_cut']:g} = reference {z['reference_cut']:g}" in html
    row10 = [e for e in els if e["tag"] == "tr" and e["attrs"].get("data-cut") == "10"][0]
    z10 = next(z for z in zones.values() if z["panel_cut"] == 10.0)
    assert f"{z10['low']:.2f}" in row10["text"] and f"{z10['high']:.2f}" in row10["text"]


def test_batch_page_reads_the_batch_command_layout(results, tmp_path):  # noqa: F811
    """``tmbcalc batch`` writes OUTDIR/SAMPLE/SAMPLE.* and a batch.json without prefixes; a row whose
    files are gone is shown from its copied values, marked as such."""
    (tmp_path / "S1").mkdir()
    copy_prefix(results["TUMOR"], tmp_path / "S1" / "S1")
    doc = json.loads((tmp_path / "S1/S1.tmb.json").read_text())
    doc["samples"][0]["sample"] = "S1"
    (tmp_path / "S1/S1.tmb.json").write_text(json.dumps(doc))
    rows = [{"sample": "S1", "run_status": "reused", "error": None, "tmb": 1.0},
            {"sample": "S2", "run_status": "ok", "error": None, "tmb": 7.25, "tmb_ci95_low": 3.5,
             "tmb_ci95_high": 14.0, "status_ge_10": "equivocal", "p_ge_10": 0.2, "msi_score": 2.0, "msi_status": "MSS"},
            {"sample": "S3", "run_status": "failed", "error": "no such file"}]
    (tmp_path / "batch.json").write_text(json.dumps({"counts": {}, "samples": rows}))
    out = tmp_path / "b.html"
    r = run_cli("report", "--batch", str(tmp_path / "batch.json"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    els = parse(out.read_text())
    tmbs = [e["attrs"]["data-value"] for e in with_attr(els, "data-k", "tmb")]
    assert [float(x) for x in tmbs[:2]] == [doc["samples"][0]["tmb"], 7.25]     # S1 from its files, not 1.0
    s2 = [e for e in els if e["tag"] == "tr" and e["attrs"].get("data-sample") == "S2"][0]
    assert "equivocal" in s2["text"] and "batch.json" in s2["text"] and "3.50" in s2["text"]
    failed = [e for e in els if e["tag"] == "tr" and e["attrs"].get("data-sample") == "S3"]
    assert len(failed) == 2 and "no such file" in failed[1]["text"]
