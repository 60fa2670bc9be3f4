"""pytest-benchmark: callable footprint on the generated 5.2 M-read BAM (opt-in, heavy).

    TMBCALC_BENCH_WORKDIR=/tmp/tmbcalc-bench-callable \\
        python -m pytest benchmarks/bench_callable.py -m heavy --benchmark-enable

The BAM is generated once by benchmarks/make_bam.py and cached in the work directory (not in
the repository).  The side-by-side comparison with mosdepth/samtools is
benchmarks/callable_vs_peers.py.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

WORKDIR = os.environ.get("TMBCALC_BENCH_WORKDIR", "/tmp/tmbcalc-bench-callable")


@pytest.fixture(scope="module")
def bench_data():
    from make_bam import make

    bam, bed, _ref = make(WORKDIR)
    return bam, bed


@pytest.mark.heavy
@pytest.mark.parametrize("threads", [1, 2])
def test_bench_callable_core(benchmark, bench_data, threads):
    """The computation behind ``tmbcalc callable`` (numpy-free core, plain Python results)."""
    from tmbcalc.io.bed_text import read_targets
    from tmbcalc.callable.engine import compute

    bam, bed = bench_data
    targets, _ = read_targets(bed)
    res = benchmark.pedantic(compute, args=(bam, targets.footprint()),
                             kwargs={"min_depth": 50, "targets": targets, "threads": threads},
                             rounds=3, iterations=1)
    assert res.footprint_bp == 1_600_001
    assert res.callable_bp > 0.9 * res.footprint_bp


@pytest.mark.heavy
@pytest.mark.parametrize("threads", [1, 2])
def test_bench_compute_callable(benchmark, bench_data, threads):
    """The public API (RegionSet in, RegionSet and numpy columns out)."""
    from tmbcalc.callable.api import compute_callable
    from tmbcalc.io.bed import read_bed_records

    bam, bed = bench_data
    recs = read_bed_records(bed)
    res = benchmark.pedantic(compute_callable, args=(bam, recs.regions()),
                             kwargs={"min_depth": 50, "targets": recs, "threads": threads},
                             rounds=3, iterations=1)
    assert res.footprint_bp == 1_600_001
    assert res.callable_bp > 0.9 * res.footprint_bp
