"""Side-by-side timing: tmbcalc callable vs mosdepth and samtools depth, in one run.

Generates (or reuses) the benchmark BAM with benchmarks/make_bam.py under WORKDIR (5.2 M reads,
1.6 Mb footprint), then runs each tool REPEATS times, interleaved, under ``/usr/bin/time`` and
prints median wall time, CPU time and peak RSS, and the ratios the issue asks for:

* tmbcalc callable computation / ``mosdepth -t 1`` wall time      (goal <= 1.0)
* tmbcalc / ``samtools depth`` wall time                           (goal <= 0.5)
* tmbcalc peak memory / mosdepth peak memory                       (goal <= 1.5)

Equivalent work: mosdepth ``-n -F 1796 -Q Q --quantize 0:N:`` (callable bins, no per-base
output); samtools depth ``-a -Q Q -b BED`` (per-base depth over the footprint, output discarded);
tmbcalc = :func:`tmbcalc.coverage.compute_callable` with ``mate_overlap='mosdepth'``, in a fresh
process (``--run-tmbcalc``; Python interpreter, numpy, pysam and pandas included in its wall time
and memory).  ``mosdepth -t T`` adds T BGZF decompression threads to its main thread; tmbcalc
``--threads N`` uses N threads in total.

A second scenario runs the same tools on a real GRCh38 exome test BAM (ghga SEQC2 HCC1395 tumour,
full GRCh38 header) with its 24-target BED: there mosdepth and samtools depth walk every contig
of the header while tmbcalc reads only the footprint.

Usage: python benchmarks/callable_vs_peers.py WORKDIR [--repeats 3] [--min-depth 50] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED_BAM = HERE.parent.parent / "shared" / "data" / "bam"


def timed(cmd: list[str]) -> dict[str, float]:
    """Run under /usr/bin/time; return wall s, user+sys s, peak RSS MB."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name, *cmd],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
        e, u, s, m = tf.read().split()[-4:]
    return {"wall": wall, "cpu": float(u) + float(s), "rss_mb": int(m) / 1024}


def run_tmbcalc(bam: str, bed: str, min_depth: int, mapq: int, threads: int) -> None:
    """Child-process entry: compute the callable footprint (what the tmb command does)."""
    from tmbcalc.coverage import compute_callable
    from tmbcalc.io.bed import read_bed_records

    recs = read_bed_records(bed)
    res = compute_callable(bam, recs.regions(), min_depth=min_depth, mapq=mapq, threads=threads,
                           targets=recs, mate_overlap="mosdepth")
    print(res.callable_bp, res.footprint_bp)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workdir", nargs="?", default="/tmp/tmbcalc-bench-callable")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-depth", type=int, default=50)
    ap.add_argument("--mapq", type=int, default=20)
    ap.add_argument("--pairs", type=int, default=2_600_000)
    ap.add_argument("--json", help="also write the measurements here")
    ap.add_argument("--run-tmbcalc", nargs=5, metavar=("BAM", "BED", "N", "Q", "T"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.run_tmbcalc:
        bam, bed, n, q, t = a.run_tmbcalc
        run_tmbcalc(bam, bed, int(n), int(q), int(t))
        return 0

    sys.path.insert(0, str(HERE))
    from make_bam import make

    bam, bed, _ref = make(a.workdir, a.pairs)
    out = Path(a.workdir) / "peers"
    out.mkdir(exist_ok=True)
    report = {"generated": scenario(bam, bed, a.min_depth, a.mapq, a.repeats, out,
                                    "generated BAM (2 contigs, 1.6 Mb footprint)")}
    real = SHARED_BAM / "ghga_seqc2_hcc1395" / "seqc2_somatic_calling"
    if real.is_dir():
        report["real_grch38"] = scenario(real / "WES_LL_T_1_test.bam", real / "seqc2.bed", 20, a.mapq, a.repeats,
                                         out, "real GRCh38 exome test BAM (full GRCh38 header) + its 24-target BED")
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=2))
    return 0


def scenario(bam: Path, bed: Path, n: int, q: int, repeats: int, out: Path, label: str) -> dict:
    me = [sys.executable, str(Path(__file__).resolve()), "--run-tmbcalc", str(bam), str(bed), str(n), str(q)]
    tools = {
        "tmbcalc --threads 1": [*me, "1"],
        "tmbcalc --threads 2": [*me, "2"],
        "mosdepth -t 0": ["mosdepth", "-n", "-t", "0", "-F", "1796", "-Q", str(q), "--quantize", f"0:{n}:",
                          str(out / "md0"), str(bam)],
        "mosdepth -t 1": ["mosdepth", "-n", "-t", "1", "-F", "1796", "-Q", str(q), "--quantize", f"0:{n}:",
                          str(out / "md1"), str(bam)],
        "samtools depth": ["samtools", "depth", "-a", "-Q", str(q), "-b", str(bed), "-o", "/dev/null", str(bam)],
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
    from tmbcalc.io.bed import read_bed

    fp_bp = read_bed(bed).total_bp()
    print(f"\n== {label}\n{bam} ({n_reads:,} mapped reads), footprint {fp_bp:,} bp, min depth {n}, MAPQ {q}, "
          f"{repeats} interleaved repeats (median)")
    print(f"{'tool':<22}{'wall s':>9}{'cpu s':>9}{'peak MB':>10}")
    for k, v in med.items():
        print(f"{k:<22}{v['wall']:>9.2f}{v['cpu']:>9.2f}{v['rss_mb']:>10.1f}")
    ratios = {}
    for t in ("tmbcalc --threads 1", "tmbcalc --threads 2"):
        ratios[t] = {
            "wall / mosdepth -t 0": med[t]["wall"] / med["mosdepth -t 0"]["wall"],
            "wall / mosdepth -t 1 (goal <= 1.0)": med[t]["wall"] / med["mosdepth -t 1"]["wall"],
            "wall / samtools depth (goal <= 0.5)": med[t]["wall"] / med["samtools depth"]["wall"],
            "cpu / mosdepth -t 0": med[t]["cpu"] / med["mosdepth -t 0"]["cpu"],
            "peak memory / mosdepth -t 1 (goal <= 1.5)": med[t]["rss_mb"] / med["mosdepth -t 1"]["rss_mb"],
        }
    for t, r in ratios.items():
        print(t)
        for k, v in r.items():
            print(f"    {k:<44}{v:6.2f}")
    return {"label": label, "median": med, "runs": runs, "ratios": ratios, "reads": n_reads, "footprint_bp": fp_bp}


if __name__ == "__main__":
    sys.exit(main())
