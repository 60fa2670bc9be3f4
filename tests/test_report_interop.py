"""``tmbcalc export``: MultiQC (run for real), DRAGEN-style files (parsed the way downstream tools
parse them), cBioPortal clinical file (checked like cBioPortal's validator), and TSV hygiene."""
from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from tests._report_fixtures import copy_prefix, results  # noqa: F401  (session fixture)
from tests.conftest import run_cli

NONSYN = {"splice_site", "nonsense", "frameshift", "stop_lost", "start_lost", "inframe", "missense"}


def _ok(r):
    assert r.returncode == 0, r.stderr
    return r


def _tmb(results, name):  # noqa: F811
    return json.loads((results[name].parent / f"{name}.tmb.json").read_text())


def _nonsyn_eligible(results, name):  # noqa: F811
    """Per sample: eligible variants with a nonsynonymous consequence (pandas on the variants report)."""
    v = pd.read_csv(results[name].parent / f"{name}.variants.tsv.gz", sep="\t", comment="#", dtype=str)
    e = v[(v["eligible"] == "yes") & v["consequence"].isin(NONSYN)]
    return e.groupby("sample").size().to_dict()


def test_multiqc_general_stats(results, tmp_path):  # noqa: F811
    if shutil.which("multiqc") is None and not _has_module("multiqc"):
        pytest.fail("multiqc is not installed: pip install -e '.[test]'")
    folder = tmp_path / "run"
    folder.mkdir()
    _ok(run_cli("export", "multiqc", str(results["TUMOR"]), str(results["chol"]), "-o", str(folder / "cohort")))
    r = subprocess.run([sys.executable, "-m", "multiqc", str(folder), "-o", str(tmp_path / "mq"), "--no-ansi", "-q",
                        "--force"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    gs = pd.read_csv(tmp_path / "mq/multiqc_data/multiqc_general_stats.txt", sep="\t", dtype={"Sample": str})
    cols = {c.split("-", 1)[-1]: c for c in gs.columns if c.startswith("custom_content_tmbcalc")}
    assert {"tmb", "tmb_status_10", "msi_score", "msi_status", "callable_mb"} <= set(cols)
    gs = gs.set_index("Sample")
    tumor = _tmb(results, "TUMOR")["samples"][0]
    msi = json.loads((results["TUMOR"].parent / "TUMOR.msi.json").read_text())
    cal = json.loads((results["TUMOR"].parent / "TUMOR.callable.json").read_text())
    row = gs.loc["TUMOR"]
    assert row[cols["tmb"]] == pytest.approx(tumor["tmb"], rel=1e-12)
    assert row[cols["tmb_status_10"]] == tumor["status"]["10"]
    assert row[cols["msi_score"]] == pytest.approx(msi["msi_score"]) and row[cols["msi_status"]] == msi["status"]
    assert row[cols["callable_mb"]] == pytest.approx(cal["callable_bp"] / 1e6)
    chol = _tmb(results, "chol")["samples"]
    assert len(gs) == 1 + len(chol)
    for s in chol:
        assert gs.loc[s["sample"], cols["tmb"]] == pytest.approx(s["tmb"], rel=1e-12)
        assert gs.loc[s["sample"], cols["tmb_status_10"]] == s["status"]["10"]
    bar = pd.read_csv(tmp_path / "mq/multiqc_data/multiqc_tmbcalc_tmb_plot.txt", sep="\t", dtype={"Sample": str})
    assert len(bar) == 1 + len(chol)


def _has_module(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _dragen_parse(path):
    """The way downstream MultiQC/DRAGEN plugins read tmb.metrics.csv: 4 comma fields per line."""
    data = {}
    for line in path.read_text().splitlines():
        section, sub, metric, stat = line.split(",")
        assert section == "TMB SUMMARY" and sub == ""
        try:
            data[metric] = float(stat)
        except ValueError:
            data[metric] = stat
    return data


def test_dragen_style_files(results, tmp_path):  # noqa: F811
    out = tmp_path / "dragen"
    out.mkdir()
    _ok(run_cli("export", "dragen", str(results["TUMOR"]), str(results["chol"]), "-o", str(out)))
    tumor = _tmb(results, "TUMOR")["samples"][0]
    d = _dragen_parse(out / "TUMOR.tmb.metrics.csv")
    assert list(d) == ["Total Input Variant Count", "Total Input Variant Count in TMB region", "Filtered Variant Count",
                       "Filtered Nonsyn Variant Count", "Eligible Region (MB)", "TMB", "Nonsyn TMB"]
    mb = tumor["footprint_bp"] / 1e6
    ns = _nonsyn_eligible(results, "TUMOR")["TUMOR"]
    assert d["Total Input Variant Count"] == tumor["records"] and d["Filtered Variant Count"] == tumor["eligible_variants"]
    assert d["Total Input Variant Count in TMB region"] == tumor["in_footprint"]
    assert d["Eligible Region (MB)"] == pytest.approx(mb, abs=1e-6)
    assert d["TMB"] == pytest.approx(tumor["tmb"], abs=5e-5)
    assert d["Filtered Nonsyn Variant Count"] == ns and d["Nonsyn TMB"] == pytest.approx(ns / mb, abs=5e-5)
    # the same file through pandas as other pipelines read it
    t = pd.read_csv(out / "TUMOR.tmb.metrics.csv", sep=",", names=["group", "fill", "metric", "value"])
    assert set(t["group"]) == {"TMB SUMMARY"} and len(t) == 7
    m = json.loads((out / "TUMOR.microsat_output.json").read_text())
    msi = json.loads((results["TUMOR"].parent / "TUMOR.msi.json").read_text())
    assert m["TotalMicrosatelliteSitesAssessed"] == msi["evaluable_loci"]
    assert m["TotalMicrosatelliteSitesUnstable"] == msi["unstable_loci"]
    assert m["PercentageUnstableSites"] == pytest.approx(msi["msi_score"]) and m["ResultIsValid"] is True
    flat = {k: v for k, v in m.items() if k != "Settings"}
    assert all(not isinstance(v, (dict, list)) for v in flat.values())   # tibble-row / DataFrame friendly
    for s in _tmb(results, "chol")["samples"][:3]:
        assert _dragen_parse(out / f"{s['sample']}.tmb.metrics.csv")["TMB"] == pytest.approx(s["tmb"], abs=5e-5)


def validate_cbioportal_clinical(path):
    """The checks cBioPortal's validator makes on a clinical sample file: four '#' metadata rows
    (display name, description, datatype, priority) as wide as the header, datatypes STRING /
    NUMBER / BOOLEAN, integer priorities, upper-case attribute ids, PATIENT_ID and SAMPLE_ID
    present, sample ids unique and of [A-Za-z0-9._-], NUMBER values numeric or NA."""
    lines = path.read_text().split("\n")
    assert lines[-1] == "" and all("\r" not in ln for ln in lines)
    meta, header, rows = lines[:4], lines[4].split("\t"), [ln.split("\t") for ln in lines[5:-1]]
    assert all(m.startswith("#") for m in meta) and not lines[4].startswith("#")
    names, descs, types, prios = [m[1:].split("\t") for m in meta]
    assert len({len(names), len(descs), len(types), len(prios), len(header)}) == 1
    assert set(types) <= {"STRING", "NUMBER", "BOOLEAN"} and all(p.isdigit() for p in prios)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", h) for h in header) and len(set(header)) == len(header)
    assert header[:2] == ["PATIENT_ID", "SAMPLE_ID"]
    ids = [r[1] for r in rows]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[A-Za-z0-9._-]+", i) for i in ids)
    for r in rows:
        assert len(r) == len(header)
        for v, t in zip(r, types):
            if t == "NUMBER" and v != "NA":
                float(v)
    return header, rows


def test_cbioportal_clinical_file(results, tmp_path):  # noqa: F811
    out = tmp_path / "data_clinical_sample.txt"
    pat = tmp_path / "patients.tsv"
    chol = _tmb(results, "chol")["samples"]
    pat.write_text("".join(f"{s['sample']}\t{s['sample'][:12]}\n" for s in chol))
    _ok(run_cli("export", "cbioportal", str(results["TUMOR"]), str(results["chol"]), "--patients", str(pat),
                "-o", str(out)))
    header, rows = validate_cbioportal_clinical(out)
    assert header == ["PATIENT_ID", "SAMPLE_ID", "TMB_NONSYNONYMOUS", "MSI_SCORE", "MSI_TYPE"]
    by = {r[1]: dict(zip(header, r)) for r in rows}
    tumor = _tmb(results, "TUMOR")["samples"][0]
    ns = _nonsyn_eligible(results, "TUMOR")["TUMOR"]
    assert float(by["TUMOR"]["TMB_NONSYNONYMOUS"]) == pytest.approx(ns / (tumor["footprint_bp"] / 1e6), abs=5e-5)
    assert by["TUMOR"]["MSI_TYPE"] == "Instable" and by["TUMOR"]["PATIENT_ID"] == "TUMOR"
    counts = _nonsyn_eligible(results, "chol")
    for s in chol:
        r = by[s["sample"]]
        assert r["PATIENT_ID"] == s["sample"][:12] and r["MSI_SCORE"] == "NA" and r["MSI_TYPE"] == "NA"
        expect = counts.get(s["sample"], 0) / (s["footprint_bp"] / 1e6)
        assert float(r["TMB_NONSYNONYMOUS"]) == pytest.approx(expect, abs=5e-5)


def test_export_refuses_unsafe_sample_names(results, tmp_path):  # noqa: F811
    pre = copy_prefix(results["TUMOR"], tmp_path / "S")
    doc = json.loads((tmp_path / "S.tmb.json").read_text())
    doc["samples"][0]["sample"] = "bad name/../x"
    (tmp_path / "S.tmb.json").write_text(json.dumps(doc))
    (tmp_path / "S.msi.json").unlink()
    for fmt, out in (("cbioportal", tmp_path / "c.txt"), ("dragen", tmp_path)):
        r = run_cli("export", fmt, str(pre), "-o", str(out))
        assert r.returncode == 2 and r.stderr.startswith("tmbcalc: error:") and len(r.stderr.splitlines()) == 1
    assert not (tmp_path / "c.txt").exists() and not list(tmp_path.glob("*.tmb.metrics.csv"))


def test_tsv_values_are_ascii_and_plain_tsv_has_no_comment_lines(results, tmp_path):  # noqa: F811
    from tests._report_fixtures import EXAMPLE_BED, EXAMPLE_VCF

    coding = tmp_path / "coding.bed"
    excl = tmp_path / "excl.bed"
    coding.write_text("".join(f"chr{c}\t0\t250000000\n" for c in range(1, 23)))
    excl.write_text("chr1\t0\t1000000\n")
    _ok(run_cli("tmb", str(EXAMPLE_VCF), "--bed", str(EXAMPLE_BED), "--coding-bed", str(coding), "--exclude-bed",
                str(excl), "--quiet", "-o", str(tmp_path / "a")))
    _ok(run_cli("tmb", str(EXAMPLE_VCF), "--bed", str(EXAMPLE_BED), "--coding-bed", str(coding), "--exclude-bed",
                str(excl), "--quiet", "--plain-tsv", "-o", str(tmp_path / "p")))
    a = (tmp_path / "a.tmb.tsv").read_bytes()
    assert a.isascii()
    doc = json.loads((tmp_path / "a.tmb.json").read_text())
    assert doc["denominator"]["kind"] == "panel_bed+coding-excluded"
    p = (tmp_path / "p.tmb.tsv").read_text()
    assert not [ln for ln in p.splitlines() if ln.startswith("#")]
    body = [ln for ln in a.decode().splitlines() if not ln.startswith("#")]
    assert p.splitlines() == body                                   # same table, only the # lines gone
    with gzip.open(tmp_path / "p.variants.tsv.gz", "rt") as fh:
        plain_rows = list(csv.reader(fh, delimiter="\t"))
    with gzip.open(tmp_path / "a.variants.tsv.gz", "rt") as fh:
        full_rows = [r for r in csv.reader(fh, delimiter="\t") if not r[0].startswith("#")]
    assert plain_rows == full_rows and plain_rows[0][0] == "sample"
    pdoc = json.loads((tmp_path / "p.tmb.json").read_text())
    assert pdoc["outputs"]["tsv_comment_lines"] is False and pdoc["provenance"]["inputs"]["input"]["sha256"]
    # the plain TSV is read by pandas with no comment handling at all
    t = pd.read_csv(tmp_path / "p.tmb.tsv", sep="\t")
    assert t.loc[0, "tmb"] == pytest.approx(pdoc["samples"][0]["tmb"], rel=1e-5)
