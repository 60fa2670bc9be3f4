"""Benchmarks of the MSI engine on simulated BAMs and of ``msi mutations`` on TCGA MAFs.

Opt-in (they build BAMs with bwa first)::

    python -m pytest benchmarks/bench_msi.py -m heavy --benchmark-enable -s

The side-by-side comparison with MSIsensor-pro (wall time and memory ratios in one run) is
``benchmarks/msi_vs_msisensorpro.py``; these pytest-benchmark files time tmbcalc alone so that
regressions show up in the benchmark history.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SHARED = HERE.parent.parent / "shared" / "data"
REF = SHARED / "reference/dndscv_grch37_chr3_segment/chr3_segment.fa"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    import msi_simulate

    return msi_simulate.simulate(REF, tmp_path_factory.mktemp("benchsim"), purities=(0.2,), n_loci=150,
                                 coverage=400, seed=3, threads=2, samples=["msi_p020", "msi_normal"])


@pytest.mark.heavy
def test_bench_profile(benchmark, sim):
    """Histogram kernel: 150 loci x ~400 reads, one BAM."""
    from tmbcalc.msi.loci import read_loci
    from tmbcalc.msi.profile import profile_bam

    loci = read_loci(sim.loci_tsv)
    prof = benchmark(profile_bam, sim.bams["msi_p020"], loci)
    assert prof.reads.min() > 100


@pytest.mark.heavy
def test_bench_score_paired(benchmark, sim, tmp_path):
    from tmbcalc.msi import msi_score

    res = benchmark(msi_score, sim.bams["msi_p020"], sim.loci_tsv, normal_bam=sim.bams["msi_normal"],
)
    assert res.status == "MSI-H"


@pytest.mark.heavy
def test_bench_scan_reference(benchmark):
    """Scan of the 500 kb GRCh37 chr3 piece."""
    from tmbcalc.msi.scan import msi_scan

    res = benchmark(msi_scan, REF)
    assert len(res.loci) > 100


@pytest.mark.heavy
def test_bench_mutations_firehose_coad(benchmark):
    """``msi mutations`` over the Firehose COAD MAF (367 tumours, 186k rows)."""
    from tmbcalc.msi.mutations import msi_mutations

    res = benchmark(msi_mutations, SHARED / "somatic/tcga_firehose/TCGA_Firehose_COAD.maf.tsv.gz",
                    footprint_mb=38.0, profile_overrides={"filter_missing_is_pass": True})
    assert len(res.samples) > 300
