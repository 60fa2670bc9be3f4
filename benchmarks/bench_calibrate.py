"""Benchmark: ``calibrate simulate`` over every staged TCGA exome cohort x every GRCh37 panel.

Goal (issue #4): about 11,000 tumours x all panels in < 60 s on a 2-core machine.  Opt-in:

    python -m pytest benchmarks/bench_calibrate.py -m heavy --benchmark-enable -s
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tmbcalc.calibrate import calibrate_simulate
from tmbcalc.panels.registry import list_panels, load_panel

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def _inputs():
    s = SHARED / "somatic"
    mafs = sorted((s / "tcga_mc3").glob("*.maf.tsv.gz")) + sorted((s / "tcga_firehose").glob("*.maf.tsv.gz")) \
        + sorted((s / "somaticcanceralterations_tcga").glob("*.tsv.gz"))
    panels = [p for p in list_panels() if "GRCh37" in p.builds and not p.id.startswith("exome")
              and p.bed_path("GRCh37") is not None]
    return [str(m) for m in mafs], panels


@pytest.mark.heavy
def test_bench_simulate_all_cohorts(benchmark):
    ref = load_panel("exome-sureselect-v4-grch37")
    if ref.bed_path("GRCh37") is None:  # vendor BED is not shipped: use the staged copy (sha256-checked)
        import os

        os.environ[ref.bed_env_var("GRCh37")] = str(
            SHARED / "panels/exome_kits/SureSelect_Human_All_Exon_V4_S03723314_Covered_hg19.bed.gz")
    mafs, panels = _inputs()
    assert len(mafs) >= 40 and len(panels) >= 6
    hs = str(SHARED / "popfreq_hotspots/maftools/cancerhotspots_v2_GRCh37.tsv")

    def run():
        return calibrate_simulate(mafs, panels, reference_panel=ref, hotspots=hs)

    t0 = time.perf_counter()
    res = benchmark.pedantic(run, rounds=1, iterations=1)
    elapsed = time.perf_counter() - t0
    n = int((res.table["panel"] == res.reference["name"]).sum())
    print(f"\ncalibrate simulate: {n} tumours x {len(panels)} panels (+reference) from {len(mafs)} MAFs "
          f"in {elapsed:.1f} s")
    assert n >= 11000
    assert elapsed < 60.0
