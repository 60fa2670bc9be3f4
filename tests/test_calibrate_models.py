"""The calibration models shipped in calibration/: well-formed, small, usable through harmonize(),
and (heavy, opt-in) reproducible from the staged data by scripts/fit_calibration.py's recipe."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tmbcalc.calibrate import harmonize, list_models, load_model
from tmbcalc.errors import UsageError
from tmbcalc.resources import calibration_dir

REPO = Path(__file__).resolve().parent.parent


def _shipped():
    """The current (v4) shipped models; v1 files stay for reproducing old reports but are deprecated."""
    return [m for m in list_models() if m["reference"] == "exome-wes-merino" and m["status"] == "current"]


def test_v2_and_v3_models_are_deprecated_for_v4():
    for version, why in ((2, "relaxed"), (3, "population AF")):
        old = [m for m in list_models() if m["version"] == version and m["reference"] == "exome-wes-merino"]
        assert old and all(m["status"] == "deprecated" for m in old)
        assert why in load_model(old[0]["id"]).status["reason"]
    assert _shipped() and all(m["version"] == 4 for m in _shipped())


def test_v1_models_are_deprecated():
    old = [m for m in list_models() if m["version"] == 1 and m["reference"] == "exome-wes-merino"]
    assert old and all(m["status"] == "deprecated" for m in old)
    assert "fitted on panel" in load_model(old[0]["id"]).status["reason"]


def test_every_grch37_panel_has_six_models_at_most_one_recommended():
    from tmbcalc.panels.registry import list_panels

    models = _shipped()
    panels = {p.id for p in list_panels() if "GRCh37" in p.builds and not p.id.startswith("exome")}
    assert panels and panels <= {m["panel"] for m in models}
    for pid in panels:
        mine = [m for m in models if m["panel"] == pid]
        assert sorted(m["method"] for m in mine) == ["anchored-log", "anchored-log2", "deming", "huber-log", "isotonic", "ols"]
        assert sum(m["recommended"] for m in mine) <= 1
        assert all(m["version"] == 4 for m in mine)


def test_shipped_files_are_strict_small_json():
    for m in _shipped():
        p = Path(m["path"])
        assert p.stat().st_size < 60_000
        json.loads(p.read_text(), parse_constant=lambda c: pytest.fail(f"{p.name}: {c} in JSON"))
        d = load_model(p).data
        assert d["id"] == p.stem and d["bootstrap"]["replicates"] == 1000 and d["bootstrap"]["seed"] == 1
        assert d["training"]["n_samples"] > 5000 and len(d["training"]["data_inputs"]) >= 30
        assert all(len(i["sha256"]) == 64 for i in d["training"]["data_inputs"])
        assert d["validation"]["scheme"] == "leave-one-cohort-out"


def test_recommended_models_beat_raw_on_held_out_cohorts():
    for m in _shipped():
        if m["recommended"]:
            assert m["rmse_log_calibrated"] < m["rmse_log_raw"], m["id"]


def test_harmonize_uses_recommended_model():
    vals = np.array([0.0, 4.0, 10.0, 25.0])
    out, lo, hi, mid = harmonize("msk-impact-468", "exome-wes-merino", vals)
    model = load_model(mid)
    assert model.panel_id == "msk-impact-468" and model.version == 4
    assert model.data["recommended"] or not any(
        m["recommended"] for m in _shipped() if m["panel"] == "msk-impact-468")
    assert np.allclose(out, model.predict(vals))
    assert np.all(lo <= out + 1e-9) and np.all(out <= hi + 1e-9)
    out2, _, _, mid2 = harmonize("msk-impact-468", "exome-wes-merino", vals, method="deming")
    d = load_model(mid2).params
    assert mid2.endswith("__deming__v4")
    assert np.allclose(out2, np.maximum(d["intercept"] + d["slope"] * vals, 0))
    with pytest.raises(UsageError, match="no calibration model"):
        harmonize("no-such-panel", "exome-wes-merino", vals)


def test_validation_report_lists_every_model():
    text = (calibration_dir() / "VALIDATION.md").read_text()
    for m in _shipped():
        assert f"| {m['panel']} |" in text and f"| {m['method']} |" in text


@pytest.mark.heavy
def test_shipped_point_estimates_are_reproducible(tmp_path):
    """Re-run the script's simulation recipe and refit without bootstrap: the point estimates of
    the shipped deming/ols/isotonic models must come back exactly."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fit_calibration", REPO / "scripts/fit_calibration.py")
    fc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fc)
    from tmbcalc.calibrate import FitOptions, calibrate_simulate
    from tmbcalc.calibrate.fit import calibrate_fit
    from tmbcalc.panels.registry import load_panel

    shared = REPO.parent / "shared" / "data"
    ref = load_panel(fc.REFERENCE_PANEL)
    if ref.bed_path("GRCh37") is None:
        import os

        os.environ[ref.bed_env_var("GRCh37")] = str(shared / fc.EXOME_BED)
    panels = fc.calibration_panels()
    sim = calibrate_simulate([str(m) for m in fc.training_mafs(shared)], panels,
                             reference_regions=fc.reference_footprint(ref, shared / fc.EXONS),
                             hotspots=str(shared / "popfreq_hotspots/maftools/cancerhotspots_v2_GRCh37.tsv"),
                             tumor_suppressor_bed=fc.tumor_suppressor_bed(shared))
    table, _ = fc.dedupe_patients(sim.table)
    res = calibrate_fit(table, {"reference": sim.reference, "panels": sim.panels},
                        options=FitOptions(methods=("ols", "deming", "isotonic"), bootstrap=0, holdout="none"))
    for m in res.models:
        shipped = load_model(m.id)
        for k, v in m.params.items():
            sv = shipped.params[k]
            if isinstance(v, list):
                assert np.allclose(v, sv, rtol=1e-9), (m.id, k)
            else:
                assert math.isclose(v, sv, rel_tol=1e-9), (m.id, k)


def test_tmb_output_to_apply_and_calibrate_to(shared, tmp_path):
    """`tmbcalc tmb --panel msk-impact-468` output feeds `calibrate apply`; `--calibrate-to` gives the
    same harmonized values (deming model: max(a + b*tmb, 0) recomputed here)."""
    from tests.conftest import run_cli

    maf = shared / "somatic/tcga_mc3/TCGA_MC3_UVM.maf.tsv.gz"
    mid = "msk-impact-468__to__exome-wes-merino__deming__v4"
    r = run_cli("tmb", str(maf), "--panel", "msk-impact-468", "--quiet", "--calibrate-to", "exome-wes-merino",
                "--calibration-method", "deming", "-o", str(tmp_path / "t"))
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "t.tmb.json").read_text())
    p = load_model(mid).params
    assert res["harmonization"]["model"] == mid
    expect = {s["sample"]: max(p["intercept"] + p["slope"] * s["tmb"], 0.0) for s in res["samples"]}
    for s in res["samples"]:
        assert s["harmonized"]["value"] == pytest.approx(expect[s["sample"]], abs=1e-4)
    r = run_cli("calibrate", "apply", "--model", mid, "--input", str(tmp_path / "t.tmb.tsv"), "-o", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr
    out = json.loads((tmp_path / "a.calibrated.json").read_text())
    assert out["input_panel"] == "msk-impact-468"
    for row in out["rows"]:
        assert row["tmb_calibrated"] == pytest.approx(expect[row["sample"]], abs=1e-4)
    for row in out["rows"]:   # the same prediction interval through `apply` (count implied on the same Mb)
        s = next(x for x in res["samples"] if x["sample"] == row["sample"])
        assert row["pi_low"] == pytest.approx(s["harmonized"]["pi_low"], abs=2e-4)
        assert row["pi_high"] == pytest.approx(s["harmonized"]["pi_high"], abs=2e-4)
    r = run_cli("calibrate", "apply", "--model", "f1cdx__to__exome-wes-merino__deming__v4",
                "--input", str(tmp_path / "t.tmb.tsv"), "-o", str(tmp_path / "b"))
    assert r.returncode == 2 and "msk-impact-468" in r.stderr
