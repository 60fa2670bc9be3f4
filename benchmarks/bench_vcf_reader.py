"""Benchmark: streaming a 1,000,000-record VEP-annotated tumor/normal VCF into a VariantTable.

Peer: ``bcftools view -H -f PASS FILE | wc -l`` on the same file, measured in the same run.
Issue #2 goal for the whole ``tmbcalc tmb`` run: <= 1.0x that wall time, peak memory < 300 MB;
the reader is most of that budget.

    python -m pytest benchmarks/bench_vcf_reader.py -m heavy --benchmark-enable -s
    python benchmarks/bench_vcf_reader.py [--records 1000000]     # side-by-side table

The synthetic VCF (benchmarks/make_vcf.py, seed 7) is cached in $TMBCALC_BENCH_DIR
(default: the system temp dir) so that repeated runs do not regenerate it.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_vcf import make_vcf  # noqa: E402

RECORDS = 1_000_000


def bench_vcf(records: int = RECORDS) -> tuple[Path, int]:
    """(path, expected ALT rows) of the cached synthetic VCF, generating it if needed."""
    d = Path(os.environ.get("TMBCALC_BENCH_DIR", tempfile.gettempdir())) / "tmbcalc-bench"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"somatic_vep_{records}.vcf.gz"
    rows_file = path.with_suffix(".rows")
    if not path.exists() or not rows_file.exists():
        rows = make_vcf(path, records, seed=7)
        rows_file.write_text(str(rows))
    return path, int(rows_file.read_text())


@pytest.mark.heavy
@pytest.mark.parametrize("threads", [1, 2])
def test_bench_read_vcf(benchmark, threads):
    from tmbcalc.io.vcf import read_vcf
    path, rows = bench_vcf()
    table = benchmark.pedantic(read_vcf, args=(path,), kwargs={"threads": threads}, rounds=3,
                               iterations=1)
    assert len(table) == rows
    assert table.meta["records"] == RECORDS
    assert table.meta["consequences"] == "CSQ"


# ------------------------------------------------------------------------------------------------
# side-by-side with bcftools
# ------------------------------------------------------------------------------------------------
_READER = """
import sys
from tmbcalc.io.vcf import read_vcf
t = read_vcf(sys.argv[1], threads=int(sys.argv[2]), keep_alleles=sys.argv[3] == "1")
print(len(t))
"""


def _timed(cmd: list[str], shell: bool = False) -> tuple[float, int, str, float]:
    """(wall seconds, peak RSS kB, stdout, user+sys CPU seconds) of one command via /usr/bin/time -v.

    For a pipeline, RSS is the largest process's and CPU the sum over the pipeline."""
    timer = shutil.which("time") or "/usr/bin/time"
    full = [timer, "-v", "bash", "-c", cmd[0]] if shell else [timer, "-v", *cmd]
    t0 = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", proc.stderr))
    return wall, int(m.group(1)) if m else -1, proc.stdout.strip(), cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="tmbcalc VCF reader vs bcftools view -H -f PASS | wc -l")
    ap.add_argument("--records", type=int, default=RECORDS)
    ap.add_argument("--repeat", type=int, default=5, help="best of N interleaved rounds")
    a = ap.parse_args(argv)
    path, rows = bench_vcf(a.records)
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {a.records} records, {rows} ALT rows)")
    peer_cmd = [f"bcftools view -H -f PASS {path} | wc -l"]
    runs = {"bcftools view -H -f PASS | wc -l": (peer_cmd, True)}
    for threads in (1, 2):
        for keep in ("1", "0"):
            runs[f"tmbcalc read_vcf threads={threads} keep_alleles={keep == '1'}"] = (
                [sys.executable, "-c", _READER, str(path), str(threads), keep], False)
    results: dict[str, tuple] = {}
    for _ in range(a.repeat):          # interleaved rounds, so load changes hit every command alike
        for name, (cmd, shell) in runs.items():
            wall, rss, out, cpu = _timed(cmd, shell)
            if name not in results or wall < results[name][0]:
                results[name] = (wall, rss, out, cpu)
    peer = results["bcftools view -H -f PASS | wc -l"][0]
    print(f"{'command':50s} {'wall s':>8s} {'ratio':>7s} {'cpu s':>7s} {'peak RSS MB':>12s}  output")
    for name, (wall, rss, out, cpu) in results.items():
        print(f"{name:50s} {wall:8.2f} {wall / peer:7.2f} {cpu:7.2f} {rss / 1024:12.1f}  {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
