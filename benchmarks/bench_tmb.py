"""pytest-benchmark timings of the TMB engine (opt-in: ``pytest -m heavy benchmarks/bench_tmb.py``).

The 1,000,000-record VCF is generated once per session by ``benchmarks/make_vcf.py`` into
``$TMBCALC_BENCH_DIR`` (default /tmp/tmbbench) and reused.  Side-by-side ratios against bcftools,
PyTMB and pandas are printed by ``benchmarks/tmb_vs_peers.py``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
pytestmark = pytest.mark.heavy


@pytest.fixture(scope="session")
def big_vcf() -> Path:
    work = Path(os.environ.get("TMBCALC_BENCH_DIR", "/tmp/tmbbench"))
    work.mkdir(parents=True, exist_ok=True)
    vcf = work / "bench_1000000.vcf.gz"
    if not vcf.exists():
        subprocess.run([sys.executable, str(REPO / "benchmarks/make_vcf.py"), str(vcf), "--records", "1000000"],
                       check=True)
    return vcf


@pytest.fixture(scope="session")
def exome_bed() -> Path:
    p = SHARED / "annotation/sigprofiler_pypi/GRCh38_exome.interval_list.gz"
    if not p.exists():
        pytest.fail(f"{p} missing: clone the project beside shared/")
    return p


def test_tmb_vcf_1m(benchmark, big_vcf, exome_bed, tmp_path):
    from tmbcalc import compute_tmb

    def run():
        res = compute_tmb(big_vcf, bed=exome_bed, profile="wes-merino")
        res.write(tmp_path / "b")
        return res

    res = benchmark.pedantic(run, rounds=3, iterations=1)
    assert res.samples[0].records >= 1_000_000


def test_tmb_vcf_1m_streamed(benchmark, big_vcf, exome_bed, tmp_path):
    """What the CLI does: chunked reading, report spooled while reading (keep_table=False)."""
    from tmbcalc import compute_tmb

    def run():
        res = compute_tmb(big_vcf, bed=exome_bed, profile="wes-merino", keep_table=False, threads=2,
                          spool_dir=tmp_path)
        res.write(tmp_path / "s", threads=2)
        return res

    res = benchmark.pedantic(run, rounds=3, iterations=1)
    assert res.table is None and res.samples[0].records >= 1_000_000


def test_rules_only_1m(benchmark, big_vcf, exome_bed):
    from tmbcalc.io.bed import read_bed
    from tmbcalc.io.vcf import read_vcf
    from tmbcalc.tmb.profiles import load_profile
    from tmbcalc.tmb.rules import evaluate

    table = read_vcf(big_vcf)
    fp = read_bed(exome_bed)
    prof = load_profile("wes-merino")
    out = benchmark(evaluate, table, prof, fp)
    assert out.eligible.size == len(table)


def test_maf_100k(benchmark, tmp_path):
    from tmbcalc import compute_tmb
    from tmbcalc.contigs import BUILD_LENGTHS

    maf = SHARED / "somatic/tcga_mc3/TCGA_MC3_CESC.maf.tsv.gz"
    bed = tmp_path / "genome.bed"
    bed.write_text("".join(f"{c}\t0\t{n}\n" for c, n in BUILD_LENGTHS["GRCh37"].items()))

    def run():
        res = compute_tmb(maf, bed=bed, profile="wes-merino")
        res.write(tmp_path / "m")
        return res

    res = benchmark.pedantic(run, rounds=5, iterations=1)
    assert sum(s.records for s in res.samples) >= 100_000
