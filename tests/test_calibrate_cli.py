"""End-to-end `tmbcalc calibrate ...` on real TCGA cohorts with an in-house panel folder
(TOML definitions written here, BEDs linked from ../shared/data), plus bad-input behaviour."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli

COHORTS = ["ACC", "CHOL", "UVM", "KICH"]
EXOME = "panels/exome_kits/SureSelect_Human_All_Exon_V4_S03723314_Covered_hg19.bed.gz"
BEDS = {"t-exome": (EXOME, "wes-merino"),
        "t-impact468": ("panels/msk_impact_gnomeR/IMPACT468_targets_GRCh37.bed", "msk-impact-like"),
        "t-goal": ("panels/goal_consortium/GOAL_Core_497_genes_sorted.bed", "tso500-like")}


def _toml(pid: str, bed: str, profile: str) -> str:
    return f'''id = "{pid}"
name = "test panel {pid}"
version = "test"
vendor = "test"
builds = ["GRCh37"]
profile = "{profile}"
cutpoints = [10.0]
citation = "test fixture"
[footprint]
source = "../shared/data"
licence = "see MANIFEST"
method = "target-bed"
[footprint.GRCh37]
bed = "{bed}"
shipped = false
obtain = "linked by the test"
'''


@pytest.fixture(scope="module")
def panels_dir(shared, tmp_path_factory):
    d = tmp_path_factory.mktemp("panels")
    for pid, (rel, prof) in BEDS.items():
        src = shared / rel
        (d / src.name).symlink_to(src)
        (d / f"{pid}.toml").write_text(_toml(pid, src.name, prof))
    return d


@pytest.fixture(scope="module")
def simulated(shared, panels_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "run"
    mafs = [str(shared / f"somatic/tcga_mc3/TCGA_MC3_{c}.maf.tsv.gz") for c in COHORTS]
    r = run_cli("calibrate", "simulate", "--maf", *mafs, "--panels", "t-impact468,t-goal",
                "--reference-panel", "t-exome", "--panels-dir", str(panels_dir), "-o", str(out))
    assert r.returncode == 0, r.stderr
    return Path(str(out) + ".simulated.tsv.gz"), mafs


def _samples_in(mafs) -> int:
    return sum(pd.read_csv(m, sep="\t", usecols=["Tumor_Sample_Barcode"])["Tumor_Sample_Barcode"].nunique()
               for m in mafs)


def test_simulate_table_and_provenance(simulated):
    path, mafs = simulated
    text = gzip.decompress(path.read_bytes()).decode()
    lines = text.splitlines()
    assert lines[0].startswith("# tmbcalc ")
    prov = json.loads(lines[1][len("# provenance: "):])
    assert prov["reference"]["name"] == "exome-wes-merino-kit"
    assert [i["name"] for i in prov["inputs"]["maf"]] == [Path(m).name for m in mafs]
    assert all(len(i["sha256"]) == 64 for i in prov["inputs"]["maf"])
    df = pd.read_csv(path, sep="\t", comment="#")
    assert list(df.columns) == ["sample", "cohort", "panel", "profile", "count", "mb", "tmb"]
    assert len(df) == 3 * _samples_in(mafs)
    assert set(df.cohort) == {f"TCGA_MC3_{c}" for c in COHORTS}
    assert np.allclose(df["tmb"], df["count"] / df["mb"], rtol=1e-5)
    # panel Mb = |panel ∩ exome| (smaller than the panel and than the exome)
    mb = df.groupby("panel")["mb"].first()
    assert mb["t-impact468"] < 1.71 and mb["exome-wes-merino-kit"] > 50


@pytest.fixture(scope="module")
def fitted(simulated, tmp_path_factory):
    table, _ = simulated
    out = tmp_path_factory.mktemp("models")
    plots = tmp_path_factory.mktemp("plots")
    r = run_cli("calibrate", "fit", "--table", str(table), "--methods", "ols,deming,huber-log,isotonic",
                "--bootstrap", "40", "--seed", "1", "--holdout-cohorts", "--reference-cuts", "1,10",
                "--plots", str(plots), "-o", str(out))
    assert r.returncode == 0, r.stderr
    return out, plots


def test_fit_writes_models_plots_and_is_deterministic(simulated, fitted, tmp_path):
    out, plots = fitted
    models = sorted(out.glob("*.json"))
    assert len(models) == 8
    names = {m.stem for m in models}
    assert "t-impact468__to__exome-wes-merino-kit__deming__v1" in names
    for m in models:
        d = json.loads(m.read_text())
        assert d["format"] == "tmbcalc-calibration-model" and d["training"]["n_samples"] > 100
        assert m.stat().st_size < 60_000
    pngs = sorted(plots.glob("*.png"))
    assert len(pngs) == 8
    for p in pngs:
        assert p.stat().st_size > 5000 and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "fit_summary.tsv").read_text().startswith("# tmbcalc")
    # same seed -> same model content
    again = tmp_path / "again"
    again.mkdir()
    r = run_cli("calibrate", "fit", "--table", str(simulated[0]), "--methods", "ols,deming,huber-log,isotonic",
                "--bootstrap", "40", "--seed", "1", "--reference-cuts", "1,10", "-o", str(again))
    assert r.returncode == 0, r.stderr
    for m in models:
        a, b = json.loads(m.read_text()), json.loads((again / m.name).read_text())
        for d in (a, b):
            d.pop("created_utc")
            d.pop("provenance")
        assert a == b


def test_translate_agreement_matches_pandas(simulated, fitted):
    table, _ = simulated
    out, _ = fitted
    model = out / "t-impact468__to__exome-wes-merino-kit__deming__v1.json"
    d = json.loads(model.read_text())
    r = run_cli("calibrate", "translate", "--model", str(model), "--reference-cut", "1", "--table", str(table),
                "-o", str(out / "tr"))
    assert r.returncode == 0, r.stderr
    res = json.loads((out / "tr.translate.json").read_text())
    a, b = d["parameters"]["intercept"], d["parameters"]["slope"]
    cut = (1 - a) / b
    assert res["panel_cut"] == pytest.approx(cut, rel=1e-5)
    assert res["ci_low"] <= res["panel_cut"] <= res["ci_high"]
    df = pd.read_csv(table, sep="\t", comment="#")
    w = df.pivot_table(index=["cohort", "sample"], columns="panel", values="tmb")
    ref_hi = w["exome-wes-merino-kit"] >= 1
    pan_hi = w["t-impact468"] >= res["panel_cut"]
    tp, fp = int((ref_hi & pan_hi).sum()), int((~ref_hi & pan_hi).sum())
    fn, tn = int((ref_hi & ~pan_hi).sum()), int((~ref_hi & ~pan_hi).sum())
    ag = res["agreement_training"]
    assert (ag["tp"], ag["fp"], ag["fn"], ag["tn"]) == (tp, fp, fn, tn)
    assert ag["ppa"] == pytest.approx(tp / (tp + fn), abs=1e-6)
    assert res["equivocal_panel"]["k_min"] >= 1
    assert "panel_cut" in r.stdout


def test_apply_values_and_tmb_json(fitted, tmp_path):
    out, _ = fitted
    model = out / "t-impact468__to__exome-wes-merino-kit__ols__v1.json"
    d = json.loads(model.read_text())
    r = run_cli("calibrate", "apply", "--model", str(model), "--values", "0,5,12.5", "-o", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "a.calibrated.json").read_text())
    a, b = d["parameters"]["intercept"], d["parameters"]["slope"]
    for row, x in zip(res["rows"], (0, 5, 12.5)):
        assert row["tmb_calibrated"] == pytest.approx(max(a + b * x, 0), abs=1e-4)
        assert row["ci_low"] <= row["tmb_calibrated"] <= row["ci_high"]
    tsv = (tmp_path / "a.calibrated.tsv").read_text().splitlines()
    assert tsv[0].startswith("# tmbcalc") and tsv[2].split("\t")[:3] == ["sample", "tmb_raw", "tmb_calibrated"]
    # a tmbcalc-style TMB JSON input naming another panel is refused unless allowed
    inp = tmp_path / "x.tmb.json"
    inp.write_text(json.dumps({"samples": [{"sample": "S1", "tmb": 7.0}],
                               "provenance": {"panel": {"id": "f1cdx"}}}))
    r = run_cli("calibrate", "apply", "--model", str(model), "--input", str(inp), "-o", str(tmp_path / "b"))
    assert r.returncode == 2 and "panel" in r.stderr and not (tmp_path / "b.calibrated.tsv").exists()
    r = run_cli("calibrate", "apply", "--model", str(model), "--input", str(inp), "--allow-panel-mismatch",
                "-o", str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr


def test_uncertainty_command_matches_scipy(tmp_path):
    from scipy.stats import poisson

    r = run_cli("calibrate", "uncertainty", "--mb", "0.8,1.14", "--cutpoints", "10", "-o", str(tmp_path / "u"))
    assert r.returncode == 0, r.stderr
    rows = [l.split("\t") for l in r.stdout.strip().splitlines()[1:]]
    for row, mb in zip(rows, (0.8, 1.14)):
        k, lo, hi = int(row[4]), float(row[5]), float(row[6])
        assert k == {0.8: 8, 1.14: 12}[mb]
        assert poisson.sf(k - 1, lo * mb) == pytest.approx(0.025, abs=1e-3)
        assert poisson.sf(k - 1, hi * mb) == pytest.approx(0.975, abs=1e-3)
    assert (tmp_path / "u.uncertainty.tsv").read_text().startswith("# tmbcalc")


def test_bad_inputs_one_line_errors_no_outputs(shared, panels_dir, tmp_path):
    ok = str(shared / "somatic/tcga_mc3/TCGA_MC3_ACC.maf.tsv.gz")
    bad = tmp_path / "bad.maf"
    bad.write_text("Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\t"
                   "Tumor_Sample_Barcode\nX\tchrUn_weird\tnotanumber\tA\tT\tS1\n")
    r = run_cli("calibrate", "simulate", "--maf", ok, str(bad), "--panels", "t-impact468", "--reference-panel",
                "t-exome", "--panels-dir", str(panels_dir), "-o", str(tmp_path / "s"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "bad.maf" in r.stderr
    assert "Traceback" not in r.stderr and not list(tmp_path.glob("s*"))
    r = run_cli("calibrate", "simulate", "--maf", str(tmp_path / "missing.maf"), "--panels", "t-impact468",
                "-o", str(tmp_path / "s"))
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = run_cli("calibrate", "translate", "--model", "nope__to__x__ols__v1")
    assert r.returncode == 2 and "unknown calibration model" in r.stderr
    broken = tmp_path / "m.json"
    broken.write_text('{"format": "tmbcalc-calibration-model", "format_version": 1}')
    r = run_cli("calibrate", "apply", "--model", str(broken), "--values", "1", "-o", str(tmp_path / "z"))
    assert r.returncode == 1 and "lacks key" in r.stderr and not list(tmp_path.glob("z*"))
    tab = tmp_path / "t.tsv"
    tab.write_text("sample\tcohort\n")
    r = run_cli("calibrate", "fit", "--table", str(tab), "-o", str(tmp_path))
    assert r.returncode == 1 and "lacks column" in r.stderr
    r = run_cli("calibrate", "fit", "--table", str(tab), "-o", str(tab / "nodir"))  # a file in the way
    assert r.returncode == 2 and "is not a folder" in r.stderr
    r = run_cli("calibrate", "fit", "--table", str(tab), "-o", str(tmp_path / "nodir"))  # made when publishing
    assert r.returncode == 1 and "lacks column" in r.stderr and not (tmp_path / "nodir").exists()


def test_tmb_calibrate_option_reports_harmonized_values(shared, panels_dir, fitted, tmp_path):
    """`tmbcalc tmb --panel P --calibration-model M` adds harmonized values (model prediction, prediction
    interval) beside raw TMB when the run computes the model's panel value; otherwise it refuses."""
    out, _ = fitted
    model = out / "t-impact468__to__exome-wes-merino-kit__deming__v1.json"
    d = json.loads(model.read_text())
    assert d["definition"]["panel"]["footprint"]["panel"] == "t-impact468"
    maf = shared / "somatic/tcga_mc3/TCGA_MC3_CHOL.maf.tsv.gz"
    r = run_cli("tmb", str(maf), "--panel", "t-impact468", "--panels-dir", str(panels_dir), "--quiet",
                "--calibration-model", str(model), "--calibrate-to", "exome-wes-merino-kit", "-o", str(tmp_path / "t"))
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "t.tmb.json").read_text())
    assert res["harmonization"]["model"] == d["id"]
    a, b = d["parameters"]["intercept"], d["parameters"]["slope"]
    for s in res["samples"]:
        h = s["harmonized"]
        assert h["raw"] == pytest.approx(s["tmb"], rel=1e-12)
        assert h["value"] == pytest.approx(max(a + b * s["tmb"], 0.0), abs=1e-4)
        assert h["pi_low"] <= h["value"] <= h["pi_high"]
    tsv = pd.read_csv(tmp_path / "t.tmb.tsv", sep="\t", comment="#", dtype={"sample": str})
    for s, (_, row) in zip(res["samples"], tsv.iterrows()):
        assert row["sample"] == s["sample"] and row["harmonized_model"] == d["id"]
        assert row["harmonized_tmb"] == pytest.approx(max(a + b * s["tmb"], 0.0), abs=1e-4)
        assert row["harmonized_pi95_low"] <= row["harmonized_tmb"] <= row["harmonized_pi95_high"]
    # a BED denominator is not the model's panel value: refused in one line, nothing written
    bed = shared / BEDS["t-impact468"][0]
    r = run_cli("tmb", str(maf), "--bed", str(bed), "--profile", "msk-impact-like", "--quiet",
                "--calibration-model", str(model), "-o", str(tmp_path / "v"))
    assert r.returncode == 2 and "not a registry panel" in r.stderr and not list(tmp_path.glob("v.*"))
    r = run_cli("tmb", str(maf), "--bed", str(bed), "--calibrate-to", "exome-wes-merino", "-o", str(tmp_path / "u"))
    assert r.returncode == 2 and "--panel" in r.stderr and not list(tmp_path.glob("u.*"))


def test_reference_restrict_gives_the_exonic_exome(shared, panels_dir, tmp_path):
    """--reference-restrict intersects the exome with exons; its Mb equals bedtools' answer and the
    reference counts only calls inside the intersection (bedtools intersect -u)."""
    from tests.conftest import run_tool

    ex = pd.read_csv(shared / "annotation/exomedepth_hg19/ExomeDepth_exons.hg19_autosomes_plus_X.tsv.gz",
                     sep="\t", dtype={"chromosome": str})
    exons = tmp_path / "exons.bed"
    pd.DataFrame({"c": ex["chromosome"], "s": ex["start"] - 1, "e": ex["end"]}).to_csv(
        exons, sep="\t", header=False, index=False)
    kit = tmp_path / "kit.bed"
    kit.write_text(run_tool("bash", "-c", f"zcat {shared / EXOME} | cut -f1-3 | sort -k1,1 -k2,2n | bedtools merge"))
    inter = tmp_path / "inter.bed"
    inter.write_text(run_tool("bash", "-c", f"sort -k1,1 -k2,2n {exons} | bedtools merge | "
                                            f"bedtools intersect -a {kit} -b - | sort -k1,1 -k2,2n | bedtools merge"))
    bp = sum(int(l.split("\t")[2]) - int(l.split("\t")[1]) for l in inter.read_text().splitlines())
    maf = shared / "somatic/tcga_mc3/TCGA_MC3_UVM.maf.tsv.gz"
    r = run_cli("calibrate", "simulate", "--maf", str(maf), "--panels", "t-impact468", "--reference-panel", "t-exome",
                "--reference-restrict", str(exons), "--panels-dir", str(panels_dir), "-o", str(tmp_path / "s"))
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(tmp_path / "s.simulated.tsv.gz", sep="\t", comment="#")
    ref = df[df.panel == "exome-wes-merino"]
    assert ref["mb"].iloc[0] == pytest.approx(bp / 1e6, abs=1e-6)
    m = pd.read_csv(maf, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
    depth = pd.to_numeric(m["t_ref_count"]) + pd.to_numeric(m["t_alt_count"])
    alt = pd.to_numeric(m["t_alt_count"])
    ok = (m["FILTER"] == "PASS") & m["Variant_Classification"].isin(
        ["Missense_Mutation", "Nonsense_Mutation", "Nonstop_Mutation", "Translation_Start_Site", "Frame_Shift_Del",
         "Frame_Shift_Ins", "In_Frame_Del", "In_Frame_Ins"]) & (depth >= 25) & (alt >= 3) & (alt / depth >= 0.05)
    s0 = pd.to_numeric(m["Start_Position"]) - 1
    end = s0 + np.where(m["Reference_Allele"] == "-", 2, m["Reference_Allele"].str.len())
    spans = tmp_path / "spans.bed"
    pd.DataFrame({"c": m["Chromosome"], "s": s0, "e": end, "i": range(len(m))})[ok.to_numpy()].to_csv(
        spans, sep="\t", header=False, index=False)
    hits = run_tool("bedtools", "intersect", "-u", "-a", str(spans), "-b", str(inter)).splitlines()
    assert int(ref["count"].sum()) == len(hits) > 100


def test_simulate_refuses_a_maf_of_another_build(shared, panels_dir, tmp_path):
    """A MAF whose NCBI_Build says GRCh38 is not counted on GRCh37 footprints (--build GRCh37)."""
    import gzip as _gzip

    src = shared / "somatic/tcga_mc3/TCGA_MC3_ACC.maf.tsv.gz"
    lines = _gzip.open(src, "rt").read().splitlines()
    head = [ln for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if not ln.startswith("#")]
    maf = tmp_path / "g38.maf"
    maf.write_text("\n".join(head + [body[0] + "\tNCBI_Build"] + [ln + "\tGRCh38" for ln in body[1:200]]) + "\n")
    r = run_cli("calibrate", "simulate", "--maf", str(maf), "--panels", "t-impact468", "--reference-panel",
                "t-exome", "--panels-dir", str(panels_dir), "--build", "GRCh37", "-o", str(tmp_path / "s"))
    assert r.returncode == 1, r.stderr
    line, = r.stderr.strip().splitlines()
    assert "g38.maf" in line and "GRCh38" in line and "GRCh37" in line
    assert not list(tmp_path.glob("s*"))


# -- the API returns results that carry their provenance and write what the command writes ----------
def _body(path: Path) -> list[str]:
    """A calibration table without its two provenance comment lines."""
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
    lines = text.splitlines()
    assert lines[0].startswith("# tmbcalc ") and lines[1].startswith("# provenance: ")
    return lines[2:]


def test_api_results_write_what_the_commands_write(simulated, fitted, panels_dir, tmp_path):
    from tmbcalc import calibrate_apply, calibrate_fit, calibrate_simulate, calibrate_translate
    from tmbcalc import calibrate_uncertainty

    table, mafs = simulated
    sim = calibrate_simulate(mafs, ["t-impact468", "t-goal"], reference_panel="t-exome", panels_dir=[panels_dir])
    assert sim.provenance["command"] == "calibrate simulate" and sim.provenance["parameters"]["panels_dir"] == [
        str(panels_dir)]
    assert [i["name"] for i in sim.provenance["inputs"]["maf"]] == [Path(m).name for m in mafs]
    doc = json.loads(json.dumps(sim.to_dict()))
    assert len(doc["rows"]) == len(sim.table) and doc["reference"]["name"] == "exome-wes-merino-kit"
    assert sim.write(tmp_path / "s") == [tmp_path / "s.simulated.tsv.gz"]
    assert _body(tmp_path / "s.simulated.tsv.gz") == _body(table)

    out, _ = fitted
    fit = calibrate_fit(table, methods=("ols", "deming", "huber-log", "isotonic"), bootstrap=40, seed=1,
                        reference_cuts=(1.0, 10.0))
    assert fit.provenance["inputs"]["table"]["sha256"] == json.loads(
        (out / f"{fit.models[0].id}.json").read_text())["training"]["table"]["sha256"]
    written = fit.write(tmp_path / "m")
    # the command's folder also holds tr.translate.json (test_translate_agreement_matches_pandas)
    assert sorted(p.name for p in written) == sorted(p.name for p in out.iterdir() if p.name != "tr.translate.json")
    assert _body(tmp_path / "m" / "fit_summary.tsv") == _body(out / "fit_summary.tsv")
    for m in fit.models:
        a, b = (json.loads((d / f"{m.id}.json").read_text()) for d in (tmp_path / "m", out))
        for d in (a, b):
            d.pop("created_utc")
        assert a.pop("provenance")["command"] == b.pop("provenance")["command"] == "calibrate fit"
        assert a == b
    assert json.loads(json.dumps(fit.to_dict()))["validation"] == fit.validation

    model = out / "t-impact468__to__exome-wes-merino-kit__ols__v1.json"
    tr = calibrate_translate(model, 1.0, table=table)
    tr.write(tmp_path / "t")
    d = json.loads((tmp_path / "t.translate.json").read_text())
    assert d["provenance"]["inputs"]["table"]["name"] == table.name and d["provenance"]["calibration_model"] == \
        "t-impact468__to__exome-wes-merino-kit__ols__v1"
    ap = calibrate_apply(model, [0.0, 5.0, 12.5])
    ap.write(tmp_path / "a")
    r = run_cli("calibrate", "apply", "--model", str(model), "--values", "0,5,12.5", "-o", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    assert _body(tmp_path / "a.calibrated.tsv") == _body(tmp_path / "c.calibrated.tsv") == r.stdout.splitlines()
    cli_doc = json.loads((tmp_path / "c.calibrated.json").read_text())
    assert {**ap.to_dict(), "provenance": None} == {**cli_doc, "provenance": None}
    un = calibrate_uncertainty(mb=[0.8, 1.14], cuts=[10.0])
    un.write(tmp_path / "u")
    r = run_cli("calibrate", "uncertainty", "--mb", "0.8,1.14", "--cutpoints", "10")
    assert _body(tmp_path / "u.uncertainty.tsv") == r.stdout.splitlines()
    assert [row["k_min"] for row in un.to_dict()["rows"]] == [8, 12]   # ceil(10 * 0.8), ceil(10 * 1.14)
