"""Side-by-side timing: ``tmbcalc callable`` vs mosdepth and samtools depth, in one run.

Generates (or reuses) the benchmark BAM with benchmarks/make_bam.py under WORKDIR (5.2 M reads,
1.6 Mb footprint), then runs each command REPEATS times, interleaved, each under
``flock /tmp/tmbcalc-bench/lock /usr/bin/time`` (one timing run on the machine at a time), and
prints the median wall time, CPU time (user + sys) and peak RSS, and the ratios the issue asks
for:

* tmbcalc / ``mosdepth -t 1`` wall time          (goal <= 1.0)
* tmbcalc / ``samtools depth`` wall time         (goal <= 0.5)
* tmbcalc peak memory / mosdepth peak memory     (goal <= 1.5)

The commands, all writing their outputs:

* tmbcalc: the real CLI, ``tmbcalc callable BAM --bed BED --min-depth N --mapq Q -o PREFIX
  [--threads T]`` (Python start-up, BED parsing, sha256 provenance of the inputs, BGZF + tabix,
  JSON and TSV outputs all included).  ``--threads 2`` is the default: the same number of
  threads as ``mosdepth -t 1`` (main thread + 1 BGZF decompression thread).
* mosdepth ``-n -F 1796 -Q Q --quantize 0:N:`` (callable bins, no per-base output), at
  ``-t 0`` and ``-t 1`` (``-t`` = extra decompression threads).
* ``samtools depth -a -Q Q -b BED`` (per-base depth of every footprint base, to /dev/null) and
  the same with ``-s``.  Plain ``samtools depth`` counts both mates of a fragment where they
  overlap; tmbcalc and mosdepth count such a base once (mate-overlap correction), which is what
  ``-s`` does, so ``samtools depth -s`` is the equivalent computation.  Both are reported.

A second scenario runs the same tools on a real GRCh38 exome test BAM (ghga SEQC2 HCC1395
tumour, full GRCh38 header) with its 24-target BED: there mosdepth and samtools depth walk every
contig of the header while tmbcalc reads only the footprint.

Usage: python benchmarks/callable_vs_peers.py [WORKDIR] [--repeats 5] [--min-depth 50] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import precompile, tmbcalc_cmd  # noqa: E402

HERE = Path(__file__).resolve().parent
SHARED_BAM = HERE.parent.parent / "shared" / "data" / "bam"
LOCK = Path("/tmp/tmbcalc-bench/lock")


def timed(cmd: list[str]) -> dict[str, float]:
    """Run under flock + /usr/bin/time; return wall s, user+sys s, peak RSS MB (of the command)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        proc = subprocess.run(["flock", str(LOCK), "/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name, *cmd],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
        e, u, s, m = tf.read().split()[-4:]
    return {"wall": float(e), "cpu": float(u) + float(s), "rss_mb": int(m) / 1024}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workdir", nargs="?", default="/tmp/tmbcalc-bench-callable")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-depth", type=int, default=50)
    ap.add_argument("--mapq", type=int, default=20)
    ap.add_argument("--pairs", type=int, default=2_600_000)
    ap.add_argument("--no-real", action="store_true", help="skip the real GRCh38 exome scenario")
    ap.add_argument("--json", help="also write the measurements here")
    a = ap.parse_args(argv)

    sys.path.insert(0, str(HERE))
    from make_bam import make

    precompile()
    bam, bed, _ref = make(a.workdir, a.pairs)
    out = Path(a.workdir) / "peers"
    out.mkdir(exist_ok=True)
    report = {"generated": scenario(bam, bed, a.min_depth, a.mapq, a.repeats, out,
                                    "generated BAM (2 contigs, 1.6 Mb footprint)")}
    real = SHARED_BAM / "ghga_seqc2_hcc1395" / "seqc2_somatic_calling"
    if real.is_dir() and not a.no_real:
        report["real_grch38"] = scenario(real / "WES_LL_T_1_test.bam", real / "seqc2.bed", 20, a.mapq, a.repeats,
                                         out, "real GRCh38 exome test BAM (full GRCh38 header) + its 24-target BED")
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=2))
    return 0


def scenario(bam: Path, bed: Path, n: int, q: int, repeats: int, out: Path, label: str) -> dict:
    base = tmbcalc_cmd()
    args = ["callable", str(bam), "--bed", str(bed), "--min-depth", str(n), "--mapq", str(q)]
    tb = [*base, *args]
    md = ["mosdepth", "-n", "-F", "1796", "-Q", str(q), "--quantize", f"0:{n}:"]
    sd = ["samtools", "depth", "-a", "-Q", str(q), "-b", str(bed), "-o", "/dev/null"]
    tools = {
        "tmbcalc --threads 1": [*tb, "--threads", "1", "-o", str(out / "tb1")],
        "tmbcalc --threads 2": [*tb, "--threads", "2", "-o", str(out / "tb2")],
        # the same, without sha256-ing the BAM for provenance (peers hash nothing)
        "tmbcalc --threads 2 --no-checksums": [*base, "--no-checksums", *args, "--threads", "2",
                                               "-o", str(out / "tb2n")],
        "mosdepth -t 0": [*md, "-t", "0", str(out / "md0"), str(bam)],
        "mosdepth -t 1": [*md, "-t", "1", str(out / "md1"), str(bam)],
        "samtools depth": [*sd, str(bam)],
        "samtools depth -s": [*sd, "-s", str(bam)],
    }
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in tools}
    # one untimed warm-up each (page cache), then interleaved repeats
    for cmd in tools.values():
        timed(cmd)
    for _ in range(repeats):
        for name, cmd in tools.items():
            runs[name].append(timed(cmd))
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "cpu", "rss_mb")} for k, v in runs.items()}
    reads = subprocess.run(["samtools", "idxstats", str(bam)], capture_output=True, text=True).stdout
    n_reads = sum(int(x.split("\t")[2]) for x in reads.splitlines() if x)
    summary = json.loads((out / "tb1.callable.json").read_text())
    fp_bp = summary["footprint_bp"]
    print(f"\n== {label}\n{bam} ({n_reads:,} mapped reads), footprint {fp_bp:,} bp, min depth {n}, MAPQ {q}, "
          f"{repeats} interleaved repeats (median)")
    print(f"{'tool':<36}{'wall s':>9}{'cpu s':>9}{'peak MB':>10}")
    for k, v in med.items():
        print(f"{k:<36}{v['wall']:>9.2f}{v['cpu']:>9.2f}{v['rss_mb']:>10.1f}")
    ratios = {}
    for t in ("tmbcalc --threads 1", "tmbcalc --threads 2", "tmbcalc --threads 2 --no-checksums"):
        ratios[t] = {
            "wall / mosdepth -t 1 (goal <= 1.0)": med[t]["wall"] / med["mosdepth -t 1"]["wall"],
            "wall / mosdepth -t 0": med[t]["wall"] / med["mosdepth -t 0"]["wall"],
            "wall / samtools depth (goal <= 0.5)": med[t]["wall"] / med["samtools depth"]["wall"],
            "wall / samtools depth -s (same computation)": med[t]["wall"] / med["samtools depth -s"]["wall"],
            "cpu / mosdepth -t 1": med[t]["cpu"] / med["mosdepth -t 1"]["cpu"],
            "peak memory / mosdepth -t 1 (goal <= 1.5)": med[t]["rss_mb"] / med["mosdepth -t 1"]["rss_mb"],
        }
    for t, r in ratios.items():
        print(t)
        for k, v in r.items():
            print(f"    {k:<46}{v:6.2f}")
    return {"label": label, "median": med, "runs": runs, "ratios": ratios, "reads": n_reads, "footprint_bp": fp_bp}


if __name__ == "__main__":
    sys.exit(main())
