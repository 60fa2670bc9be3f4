"""Harmonized TMB on the callable part of a panel's TMB region (issue #11, one scale end to end).

A calibration model maps a per-Mb rate measured on the panel's TMB region.  A run that restricts
that region to the bases it interrogated (``--callable-bed``, or the callable part from BAMs)
measures the same rate and is harmonized, with a note; any other change of the region (coding
intersection, exclusion BED) is refused.  Expected values come from bedtools on the shipped
TMB-region BED and a real exome kit BED, and from the unrestricted run's variants report.
"""
from __future__ import annotations

import gzip
import json
import math
import subprocess

import pytest

from tmbcalc.calibrate.harmonization import callable_restriction, definition_differences
from tmbcalc.calibrate.models import find_model

from .conftest import REPO, need_tool

UVM = "somatic/tcga_mc3/TCGA_MC3_UVM.maf.tsv.gz"
KIT = "panels/exome_kits/SureSelect_Human_All_Exon_V4_S03723314_Covered_hg19.bed.gz"
REGION = REPO / "panels/msk-impact-468.tmb.GRCh37.bed.gz"
HARMONIZE = ("--panel", "msk-impact-468", "--calibrate-to", "exome-wes-merino", "--quiet")


def _tmb(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["tmbcalc", "tmb", *args], capture_output=True, text=True)


def _plain_bed(src, dst) -> str:
    """A gzipped BED without header lines, 'chr' dropped (the MAF spells contigs 1, 2, ...)."""
    with gzip.open(src, "rt") as fh, open(dst, "w") as out:
        for line in fh:
            if not line.startswith(("#", "track", "browser")):
                c, s, e = line.split("\t")[:3]
                out.write(f"{c.removeprefix('chr')}\t{s}\t{e.strip()}\n")
    return str(dst)


def _bp(bedtools: str, cmd: str) -> int:
    out = subprocess.run(f"{cmd} | sort -k1,1 -k2,2n | {bedtools} merge", shell=True, capture_output=True,
                         text=True, check=True).stdout
    return sum(int(r.split("\t")[2]) - int(r.split("\t")[1]) for r in out.splitlines())


def test_callable_bed_restriction_is_harmonized(shared, tmp_path):
    """UVM on MSK-IMPACT 468 restricted to the SureSelect V4 kit: the denominator is region ∩ kit
    (bedtools), the count is the unrestricted run's eligible variants inside the kit (bedtools), the
    raw value is their ratio, and the harmonized value is the model's at that raw value."""
    bedtools = need_tool("bedtools")
    region, kit = _plain_bed(REGION, tmp_path / "region.bed"), _plain_bed(shared / KIT, tmp_path / "kit.bed")
    region_bp = _bp(bedtools, f"cat {region}")
    kept_bp = _bp(bedtools, f"{bedtools} intersect -a {region} -b {kit}")
    assert 0.5 < kept_bp / region_bp < 1.0
    full = _tmb(str(shared / UVM), "--panel", "msk-impact-468", "-o", str(tmp_path / "full"), "--quiet")
    assert full.returncode == 0, full.stderr
    with gzip.open(tmp_path / "full.variants.tsv.gz", "rt") as fh:
        rows = [r.rstrip("\n").split("\t") for r in fh if not r.startswith("#")]
    head, rows = rows[0], rows[1:]
    col = {k: i for i, k in enumerate(head)}
    el = tmp_path / "eligible.bed"
    el.write_text("".join(f"{r[col['chrom']]}\t{int(r[col['pos']]) - 1}\t{r[col['pos']]}\t{r[col['sample']]}\n"
                          for r in rows if r[col["eligible"]] == "yes"))
    inside = subprocess.run([bedtools, "intersect", "-u", "-a", str(el), "-b", kit], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    want = {}
    for line in inside:
        want[line.split("\t")[3]] = want.get(line.split("\t")[3], 0) + 1
    assert 0 < len(inside) < len(el.read_text().splitlines())

    p = _tmb(str(shared / UVM), *HARMONIZE, "--callable-bed", str(shared / KIT), "-o", str(tmp_path / "o"))
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    assert doc["denominator"]["footprint_bp"] == kept_bp
    note = " ".join(doc["harmonization"]["notes"])
    assert f"{kept_bp:,} of {region_bp:,} bp" in note
    model = find_model("msk-impact-468", "exome-wes-merino")
    for s in doc["samples"]:
        h = s["harmonized"]
        assert s["eligible_variants"] == want.get(s["sample"], 0)
        assert h["raw"] == pytest.approx(s["eligible_variants"] / (kept_bp / 1e6), rel=1e-12)
        if model.method == "anchored-log2":
            q = model.params
            lx, lt = math.log1p(h["raw"]), math.log1p(q["panel_cut"])
            u = q["intercept"] + q["slope"] * lx if lx < lt else math.log1p(q["cut"]) + q["slope_high"] * (lx - lt)
            assert h["value"] == pytest.approx(max(math.expm1(u), 0.0), abs=1e-4)
        assert h["pi_low"] <= h["value"] <= h["pi_high"]


@pytest.mark.parametrize("option", ["--exclude-bed", "--coding-bed"])
def test_other_region_changes_refused(shared, tmp_path, option):
    """Excluding regions or intersecting with a coding BED redefines the panel value: refused, one line."""
    kit = _plain_bed(shared / KIT, tmp_path / "kit.bed")
    p = _tmb(str(shared / UVM), *HARMONIZE, option, kit, "-o", str(tmp_path / "o"))
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "maps a different panel value" in lines[0]
    assert not list(tmp_path.glob("o.*"))


def test_mostly_uncallable_region_refused(shared, tmp_path):
    """A callable BED keeping under half of the region makes the denominator insufficient: refused."""
    region = _plain_bed(REGION, tmp_path / "region.bed")
    lines = open(region).read().splitlines()
    small = tmp_path / "small.bed"
    small.write_text("\n".join(lines[:50]) + "\n")
    p = _tmb(str(shared / UVM), *HARMONIZE, "--callable-bed", str(small), "-o", str(tmp_path / "o"))
    assert p.returncode == 2 and "insufficient" in p.stderr
    assert not list(tmp_path.glob("o.*"))
    # lowering the guards lets tmb report it, but harmonizing still needs half the region and 0.5 Mb
    p = _tmb(str(shared / UVM), *HARMONIZE, "--callable-bed", str(small), "--min-callable-fraction", "0",
             "--min-footprint-mb", "0", "-o", str(tmp_path / "o"))
    assert p.returncode == 2 and "callable (harmonizing needs" in p.stderr
    assert not list(tmp_path.glob("o.*"))


class _Result:
    """The two attributes definition_differences reads of a TMB result, for stage-order cases."""

    def __init__(self, stages: list[tuple[str, int]], profile) -> None:
        self.denominator = {"stages": [{"stage": s, "bp": bp} for s, bp in stages], "footprint_bp": stages[-1][1],
                            "status": "ok", "denominator_kind": "measured"}
        self.provenance = {"panel": {"id": "msk-impact-468", "version": None}, "inputs": {}}
        self.profile = profile


@pytest.mark.parametrize("stages,accepted", [
    ([("panel_tmb_region", None), ("intersect_callable_from_bams", 900_000)], True),
    ([("panel_tmb_region", None), ("intersect_callable_bed", 950_000), ("intersect_callable_from_bams", 900_000)],
     True),
    ([("panel_tmb_region", None), ("subtract_excluded", 1_000_000), ("intersect_callable_bed", 900_000)], False),
    ([("footprint", None), ("intersect_callable_bed", 900_000)], False),
    ([("panel_tmb_region", 1_000_000)], False),   # a region of another size
])
def test_stage_orders(stages, accepted):
    from tmbcalc.tmb.profiles import load_profile

    m = find_model("msk-impact-468", "exome-wes-merino")
    fp = m.definition["panel"]["footprint"]
    stages = [(s, fp["bp"] if bp is None else bp) for s, bp in stages]
    res = _Result(stages, load_profile(m.definition["panel"]["profile"]["name"]))
    res.provenance["panel"]["version"] = fp["panel_version"]
    footprint = [d for d in definition_differences(m, res) if d.startswith("footprint")]
    assert (footprint == []) is accepted, footprint
    got = callable_restriction(res.denominator)
    if accepted:
        assert got["region_bp"] == fp["bp"] and got["callable_bp"] == stages[-1][1]
