"""One scale end to end (issue #11): the panel value `tmbcalc tmb` computes is the training value.

`calibrate simulate` computes each tumour's panel value on the TMB region ∩ the exome footprint
(the bases with exome truth).  `tmbcalc tmb MAF --panel P --callable-bed EXOME` measures the same
thing the way a lab runs it.  For every tumour the two must agree exactly (same count, same bp),
on a real cohort that stresses the reading: 40 tumours of the MC3 BLCA 2020 compile, which has no
FILTER column (rules relaxed), a GMAF column (not among the profiles' population-AF fields) and
population AFs written exactly at the tso500-like threshold (``C:0.0010``).
"""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pytest

from .conftest import REPO

BLCA = "somatic/tcga_mc3/TCGA_MC3_BLCA_v2020.maf.tsv.gz"
HOTSPOTS = "popfreq_hotspots/maftools/cancerhotspots_v2_GRCh37.tsv"
N_TUMOURS = 40


def _subset(src, dst, n: int) -> None:
    """The header and the rows of the first ``n`` tumours (Tumor_Sample_Barcode) of a MAF."""
    keep: set[str] = set()
    with gzip.open(src, "rt") as fh, gzip.open(dst, "wt") as out:
        head = fh.readline()
        out.write(head)
        col = head.rstrip("\n").split("\t").index("Tumor_Sample_Barcode")
        for line in fh:
            s = line.split("\t")[col]
            if s in keep or len(keep) < n:
                keep.add(s)
                out.write(line)


@pytest.fixture(scope="module")
def simulated(shared, tmp_path_factory):
    sys.path.insert(0, str(REPO / "scripts"))
    import fit_calibration as fc

    from tmbcalc.calibrate import calibrate_simulate
    from tmbcalc.panels import load_panel

    tmp = tmp_path_factory.mktemp("one_scale")
    maf = tmp / "blca40.maf.tsv.gz"
    _subset(shared / BLCA, maf, N_TUMOURS)
    ref = load_panel(fc.REFERENCE_PANEL)
    if ref.bed_path("GRCh37") is None:
        os.environ[ref.bed_env_var("GRCh37")] = str(shared / fc.EXOME_BED)
    regions = fc.reference_footprint(ref, shared / fc.EXONS)
    bed = tmp / "exome_footprint.bed"
    with open(bed, "w") as out:
        for contig, (starts, ends) in regions.by_contig.items():
            out.writelines(f"{contig}\t{a}\t{b}\n" for a, b in zip(starts.tolist(), ends.tolist()))
    tsg = fc.tumor_suppressor_bed(shared)
    sim = calibrate_simulate([maf], ["tso500", "f1cdx", "msk-impact-468"], reference_profile=fc.REFERENCE_PROFILE,
                             reference_regions=regions, hotspots=shared / HOTSPOTS, tumor_suppressor_bed=tsg)
    return maf, bed, tsg, sim.table


@pytest.mark.parametrize("panel", ["tso500", "f1cdx", "msk-impact-468"])
def test_tmb_reproduces_the_training_value(shared, simulated, tmp_path, panel):
    maf, bed, tsg, table = simulated
    cmd = ["tmbcalc", "tmb", str(maf), "--panel", panel, "--callable-bed", str(bed), "--missing-fields", "relax",
           "--calibrate-to", "exome-wes-merino", "-o", str(tmp_path / "o"), "--quiet"]
    if panel == "f1cdx":
        cmd += ["--exclude-hotspots", str(shared / HOTSPOTS), "--tumor-suppressor-bed", str(tsg)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    rows = table[table["panel"] == panel].set_index("sample")
    assert len(rows) == N_TUMOURS == len(doc["samples"])
    assert {round(mb * 1e6) for mb in rows["mb"]} == {doc["denominator"]["footprint_bp"]}
    got = {s["sample"]: s["eligible_variants"] for s in doc["samples"]}
    want = rows["count"].to_dict()
    assert got == want
    assert sum(want.values()) > N_TUMOURS            # a real comparison, not zeros against zeros
