"""Calibration v2 (issue #11): one scale end to end, honest intervals, cuts judged by agreement.

Values are derived independently of the code under test: the TMB region from bedtools on the
shipped target BED and the ExomeDepth exon table; harmonized values from the model's stored
formula by hand; cut definitions and equivocal zones by brute force over every candidate.
"""
from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from tmbcalc.calibrate.cuts import agreement_preserving, cut_for
from tmbcalc.calibrate.models import list_models, load_model
from tmbcalc.calibrate.uncertainty import equivocal_panel_values

from .conftest import REPO, need_tool

UVM = "somatic/tcga_mc3/TCGA_MC3_UVM.maf.tsv.gz"
EXONS = "annotation/exomedepth_hg19/ExomeDepth_exons.hg19_autosomes_plus_X.tsv.gz"
V2 = [m for m in list_models() if m["status"] == "current"]   # the current (v4) models


def _tmb(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["tmbcalc", "tmb", *args], capture_output=True, text=True)


def _kappa(truth: np.ndarray, called: np.ndarray) -> float:
    n = truth.size
    tp = np.sum(truth & called); tn = np.sum(~truth & ~called)
    po = (tp + tn) / n
    pe = (called.sum() * truth.sum() + (~called).sum() * (~truth).sum()) / n ** 2
    return (po - pe) / (1 - pe) if pe < 1 else float("nan")


def test_tmb_region_is_coding_part_of_targets(shared, tmp_path):
    """`tmb --panel msk-impact-468` divides by targets ∩ coding exons (bedtools), and says so."""
    bedtools = need_tool("bedtools")
    ex = tmp_path / "exons.bed"
    with gzip.open(shared / EXONS, "rt") as fh, open(ex, "w") as out:
        next(fh)
        for line in fh:
            c, s, e = line.split("\t")[:3]
            out.write(f"{c}\t{int(s) - 1}\t{e}\n")
    tg = tmp_path / "targets.bed"
    with gzip.open(REPO / "panels/msk-impact-468.GRCh37.bed.gz", "rt") as fh:
        tg.write_text("".join(x for x in fh if not x.startswith("#")))
    cmd = (f"{bedtools} sort -i {ex} | {bedtools} merge > {tmp_path}/ex.m.bed && "
           f"{bedtools} intersect -a {tg} -b {tmp_path}/ex.m.bed | {bedtools} sort | {bedtools} merge")
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True, check=True).stdout
    bp = sum(int(r.split("\t")[2]) - int(r.split("\t")[1]) for r in out.splitlines())
    p = _tmb(str(shared / UVM), "--panel", "msk-impact-468", "-o", str(tmp_path / "o"), "--quiet")
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    assert doc["denominator"]["footprint_bp"] == bp
    assert doc["denominator"]["stages"][0]["stage"] == "panel_tmb_region"
    assert "coding part of the capture targets" in doc["denominator"]["panel_tmb_region"]["description"]


@pytest.mark.skipif(not V2, reason="v2 models not shipped")
def test_harmonized_side_by_side(shared, tmp_path):
    """Raw and harmonized TMB in JSON and TSV; the value is the model's formula at the raw TMB."""
    p = _tmb(str(shared / UVM), "--panel", "msk-impact-468", "--calibrate-to", "exome-wes-merino",
             "-o", str(tmp_path / "o"), "--quiet")
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    hz = doc["harmonization"]
    m = load_model(hz["model"])
    assert hz["definition"]["panel"]["footprint"]["bp"] == doc["denominator"]["footprint_bp"]
    for s in doc["samples"]:
        h = s["harmonized"]
        x = s["eligible_variants"] / (s["footprint_bp"] / 1e6)
        assert h["raw"] == pytest.approx(x, rel=1e-12)
        if m.method == "anchored-log":
            want = max(math.expm1(m.params["intercept"] + m.params["slope"] * math.log1p(x)), 0.0)
            assert h["value"] == pytest.approx(want, abs=1e-4)
        if m.method == "anchored-log2":    # one slope below the anchor, another at and above it
            q = m.params
            lx, lt = math.log1p(x), math.log1p(q["panel_cut"])
            u = (q["intercept"] + q["slope"] * lx if lx < lt else math.log1p(q["cut"]) + q["slope_high"] * (lx - lt))
            assert h["value"] == pytest.approx(max(math.expm1(u), 0.0), abs=1e-4)
            assert h["high"]["10"] == (x >= q["panel_cut"])     # calls at the cut = panel >= anchor
        assert h["pi_low"] <= h["value"] <= h["pi_high"]
        # the prediction interval is wider than the mapping band alone (it adds Poisson sampling)
        assert h["pi_high"] - h["pi_low"] > h["band_high"] - h["band_low"]
    rows = [r for r in (tmp_path / "o.tmb.tsv").read_text().splitlines() if not r.startswith("#")]
    head = rows[0].split("\t")
    for col in ("tmb", "harmonized_tmb", "harmonized_pi95_low", "harmonized_pi95_high", "equivocal_10"):
        assert col in head
    first = dict(zip(head, rows[1].split("\t")))
    assert float(first["harmonized_tmb"]) == pytest.approx(doc["samples"][0]["harmonized"]["value"], rel=1e-5)


@pytest.mark.skipif(not V2, reason="v2 models not shipped")
@pytest.mark.parametrize("extra,word", [(["--min-vaf", "0.1"], "min_vaf"),
                                        (["--profile", "wes-merino"], "counting rule")])
def test_other_definition_refused_one_line(shared, tmp_path, extra, word):
    p = _tmb(str(shared / UVM), "--panel", "msk-impact-468", "--calibrate-to", "exome-wes-merino",
             *extra, "-o", str(tmp_path / "o"), "--quiet")
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tmbcalc: error:") and word in lines[0]
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not V2, reason="v2 models not shipped")
def test_bed_denominator_refused(shared, tmp_path):
    bed = REPO / "panels/msk-impact-468.GRCh37.bed.gz"
    p = _tmb(str(shared / UVM), "--bed", str(bed), "--calibration-model",
             next(m["id"] for m in V2 if m["panel"] == "msk-impact-468"), "-o", str(tmp_path / "o"), "--quiet")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "not a registry panel" in p.stderr


def test_deprecated_v1_refused(shared, tmp_path):
    p = _tmb(str(shared / UVM), "--panel", "msk-impact-468", "--calibration-model",
             "msk-impact-468__to__exome-wes-merino__isotonic__v1", "-o", str(tmp_path / "o"), "--quiet")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "deprecated" in p.stderr or "no panel-value definition" in p.stderr


@pytest.mark.skipif(not V2, reason="v2 models not shipped")
def test_v2_models_intervals_cover_heldout():
    """Every shipped v2 model's 95% prediction interval covers >= 90% of held-out tumours."""
    for m in V2:
        pi = load_model(m["path"]).data["prediction_interval"]
        assert pi["level"] == 0.95
        assert pi["holdout"]["coverage"] >= 0.90, m["id"]


@pytest.mark.skipif(not V2, reason="v2 models not shipped")
def test_recommended_models_keep_agreement():
    for m in V2:
        d = load_model(m["path"]).data
        if d["recommended"]:
            a = d["validation"]["agreement"]["10"]
            assert a["calibrated"]["kappa"] >= a["raw"]["kappa"]
            assert a["calibrated"]["ppa"] >= a["raw"]["ppa"] - 0.02
            assert d["validation"]["rmse_log_calibrated"] < d["validation"]["rmse_log_raw"]
        else:
            assert d["recommendation"]["reason"]


def test_cut_definitions_brute_force():
    rng = np.random.default_rng(7)
    y = rng.gamma(1.2, 6.0, 400)
    x = y * rng.lognormal(0.3, 0.4, 400)
    c = 10.0
    truth = y >= c
    cands = np.unique(x)
    kap = [_kappa(truth, x >= t) for t in cands]
    assert cut_for("kappa_optimal", x, y, c) == pytest.approx(cands[int(np.nanargmax(kap))])
    raw_ppa = np.mean(x[truth] >= c)
    best = max((k, -t) for t, k in zip(np.r_[cands, c], kap + [_kappa(truth, x >= c)])
               if np.mean(x[truth] >= t) >= raw_ppa - 0.02 - 1e-12)
    assert agreement_preserving(x, y, c, 0.02) == pytest.approx(-best[1])
    k = int(truth.sum())
    t = cut_for("prevalence_matched", x, y, c)
    assert np.sum(x >= t) >= k and np.sum(x > t) < k


def test_equivocal_panel_values_brute_force():
    for mb, cut in ((0.8, 10.0), (1.146183, 10.0), (1.3, 20.0)):
        z = equivocal_panel_values(mb, cut)
        ks = [k for k in range(200) if 0.1 <= special.gammaincc(k + 0.5, cut * mb) <= 0.9]
        assert (z["k_low"], z["k_high"]) == (ks[0], ks[-1])
        assert z["low"] == pytest.approx(ks[0] / mb, abs=1e-4)


def _tsg_bed(shared):
    sys.path.insert(0, str(REPO / "scripts"))
    import fit_calibration

    return fit_calibration.tumor_suppressor_bed(shared)


def test_driver_lists_only_where_profile_asks(shared):
    """Hotspot and tumor-suppressor lists change f1cdx-like counts only, never the exome reference or
    MSK-IMPACT; in UVM (GNAQ/GNA11 hotspots) they lower f1cdx-like counts below the same rules without them."""
    import dataclasses

    from tmbcalc.calibrate import calibrate_simulate
    from tmbcalc.calibrate.simulate import PanelSpec
    from tmbcalc.panels import load_panel
    from tmbcalc.tmb.profiles import load_profile

    hs = shared / "popfreq_hotspots/maftools/cancerhotspots_v2_GRCh37.tsv"
    tsg = _tsg_bed(shared)
    ref = load_panel("msk-impact-505").footprint("GRCh37")
    kw = dict(reference_regions=ref, reference_label="msk-505 coding exons")
    a = calibrate_simulate([shared / UVM], ["msk-impact-468"], **kw).table
    b = calibrate_simulate([shared / UVM], ["msk-impact-468", "f1cdx"], hotspots=hs, tumor_suppressor_bed=tsg,
                           **kw).table
    keep = b[b["panel"] != "f1cdx"].reset_index(drop=True)
    assert keep["count"].tolist() == a["count"].tolist()
    f1 = load_panel("f1cdx").footprint("GRCh37").intersect(ref)
    free = dataclasses.replace(load_profile("f1cdx-like"), name="f1cdx-free", hotspots="optional",
                               tsg_truncating="optional")
    c = calibrate_simulate([shared / UVM], [PanelSpec("f1cdx-free", free, f1, f1.total_mb())], **kw).table
    with_lists = b[b["panel"] == "f1cdx"]["count"].sum()
    without = c[c["panel"] == "f1cdx-free"]["count"].sum()
    assert with_lists < without
    with pytest.raises(Exception, match="hotspot"):
        calibrate_simulate([shared / UVM], ["f1cdx"], **kw)
    with pytest.raises(Exception, match="tumor-suppressor"):
        calibrate_simulate([shared / UVM], ["f1cdx"], hotspots=hs, **kw)


def test_msk_profile_counts_hotspots(shared, tmp_path):
    hs = shared / "popfreq_hotspots/maftools/cancerhotspots_v2_GRCh37.tsv"
    p = _tmb(str(shared / UVM), "--panel", "msk-impact-468", "--exclude-hotspots", str(hs),
             "-o", str(tmp_path / "o"), "--quiet")
    assert p.returncode == 2 and "counts known hotspots" in p.stderr


def test_fit_deterministic(shared):
    """Identical table and options give byte-identical model JSON (no timestamp)."""
    from tmbcalc.calibrate import FitOptions
    from tmbcalc.calibrate.fit import calibrate_fit
    from tmbcalc.calibrate import calibrate_simulate

    mafs = [shared / "somatic/tcga_mc3" / f"TCGA_MC3_{c}.maf.tsv.gz" for c in ("UVM", "PCPG", "KICH")]
    ref = __import__("tmbcalc.panels", fromlist=["load_panel"]).load_panel("msk-impact-505").footprint("GRCh37")
    sim = calibrate_simulate(mafs, ["msk-impact-468"], reference_regions=ref, reference_label="x")
    prov = {"reference": sim.reference, "panels": sim.panels}
    opts = FitOptions(methods=("anchored-log", "deming"), bootstrap=20, timestamp=False, reference_cuts=(2.0,))
    one = [m.to_json() for m in calibrate_fit(sim.table, prov, options=opts).models]
    two = [m.to_json() for m in calibrate_fit(sim.table, prov, options=opts).models]
    assert one == two and "created_utc" not in one[0]


@pytest.mark.heavy
def test_shipped_models_refit_byte_identically(tmp_path):
    """scripts/fit_calibration.py reproduces every shipped current model and VALIDATION.md byte for byte."""
    subprocess.run([sys.executable, str(REPO / "scripts/fit_calibration.py"), "--out", str(tmp_path)], check=True)
    version = max(m["version"] for m in list_models() if m["status"] == "current")
    shipped = sorted(p for p in (REPO / "calibration").glob(f"*__v{version}.json"))
    assert shipped
    for p in [*shipped, REPO / "calibration/VALIDATION.md"]:
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name


@pytest.mark.skipif(not V2, reason="v2 models not shipped")
def test_api_typed_harmonized_field(shared):
    """compute_tmb + harmonize_tmb: a typed HarmonizedTmb per sample (no untyped provenance dict)."""
    import tmbcalc
    from tmbcalc.harmonized import Harmonization, HarmonizedTmb

    res = tmbcalc.compute_tmb(shared / UVM, panel="msk-impact-468")
    assert all(s.harmonized is None for s in res.samples) and "harmonized" not in res.samples[0].to_dict()
    tmbcalc.harmonize_tmb(res, "exome-wes-merino")
    assert isinstance(res.harmonization, Harmonization) and "calibration" not in res.provenance
    for s in res.samples:
        assert isinstance(s.harmonized, HarmonizedTmb)
        assert s.harmonized.raw == pytest.approx(s.tmb) and s.harmonized.pi_low <= s.harmonized.value
    zone = res.harmonization.equivocal_zones["10"]
    assert zone["low"] < zone["panel_cut"] < zone["high"]
