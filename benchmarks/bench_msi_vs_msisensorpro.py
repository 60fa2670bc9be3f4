"""Issue #12's speed and memory goal for MSI from reads, as opt-in pytest checks: ``msi score``
(paired, tumor-only) and ``msi baseline`` against MSIsensor-pro on the same simulated BAMs, same
loci, one thread each (``benchmarks/msi_vs_msisensorpro.py`` does the runs and the interleaved
timing)::

    MSISENSOR_PRO=/path/to/msisensor-pro python -m pytest benchmarks/bench_msi_vs_msisensorpro.py -m heavy -s

``MSI_BENCH_DIR=DIR`` keeps the simulated BAMs in DIR/SET for the next run (the 2000x set takes
minutes to simulate).  Without ``$MSISENSOR_PRO`` every check is reported as skipped with that
reason (``-ra`` lists it);
the binary is never built or downloaded here.  Goal: wall time <= 0.5x and peak RSS <= 1.0x
MSIsensor-pro's.  The 150x sets are start-up bound (a Python interpreter plus numpy cost more
than half of MSIsensor-pro's whole tumor-only run there, and more memory than all of it): they
are expected failures, reported with their ratios, not left out.  On the 374-locus 500x panel the
tumor-only ratio sits at the limit (0.50-0.52x measured) and may fail.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

STEPS = ("paired", "tumor_only", "baseline")
START_UP_BOUND = pytest.mark.xfail(reason="start-up bound: interpreter + numpy > 0.5x MSIsensor-pro's run "
                                          "(see README and docs/msi-validation.md)", strict=False)


@pytest.fixture(scope="module")
def msisensor_pro() -> str:
    path = os.environ.get("MSISENSOR_PRO")
    if not path:
        pytest.skip("MSIsensor-pro binary absent: set MSISENSOR_PRO=/path/to/msisensor-pro "
                    "(build it yourself from https://github.com/xjtu-omics/msisensor-pro)")
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"MSISENSOR_PRO={path} is not an executable file")
    return path


@pytest.mark.heavy
@pytest.mark.parametrize("read_set", [pytest.param("small150", marks=START_UP_BOUND), "deep2000",
                                      pytest.param("panel370_150", marks=START_UP_BOUND), "panel370_500"])
def test_msi_speed_and_memory_vs_msisensorpro(read_set, msisensor_pro, tmp_path_factory):
    import msi_vs_msisensorpro as side

    keep = os.environ.get("MSI_BENCH_DIR")  # reuse simulations across runs (they are cached per folder)
    out = Path(keep) / read_set if keep else tmp_path_factory.mktemp(f"msibench_{read_set}")
    out.mkdir(parents=True, exist_ok=True)
    argv = ["--set", read_set, "--msisensor-pro", msisensor_pro, "--outdir", str(out), "--repeats", "3",
            "--floors", "--json", str(out / "figures.json")]
    assert side.main(argv) == 0
    ratios = json.loads((out / "figures.json").read_text())["ratios"]
    print(f"{read_set}: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(ratios.items())))
    slow = {s: round(ratios[f"{s}_wall"], 2) for s in STEPS if ratios[f"{s}_wall"] > 0.5}
    big = {s: round(ratios[f"{s}_rss"], 2) for s in STEPS if ratios[f"{s}_rss"] > 1.0}
    assert not slow and not big, f"{read_set}: wall ratios > 0.5 {slow}; RSS ratios > 1.0 {big}"
