#!/usr/bin/env python3
"""Side-by-side timings of ``tmbcalc tmb`` against its peers, measured in the same run.

    python benchmarks/tmb_vs_peers.py [--workdir /tmp/tmbbench] [--records 1000000] [--repeat 5]
                                      [--threads 2] [--rss-records 1000000,3000000] [--skip-pytmb]

Prints the median wall time (s) of each side (the sides run in turn, ``--repeat`` times, so load
changes on a shared machine hit both) and their ratio:

1. ``tmbcalc tmb`` (full rule evaluation, all three outputs) vs ``bcftools view -H -f PASS FILE | wc -l``
   on a generated bgzipped VCF with VEP CSQ and tumor/normal FORMAT (``benchmarks/make_vcf.py``);
   target ratio <= 1.0.  Also against ``bcftools view --threads N-1`` (the same number of BGZF
   decompression threads as ``tmbcalc --threads N``) and single-threaded against single-threaded.
2. ``tmbcalc tmb`` vs PyTMB (PyPI ``pytmb-curie``, command ``pyTMB``) with the nearest rule set it
   offers: ``--filterLowQual`` (PASS), ``--vaf 0.05 --minDepth 25 --minAltDepth 3``, ``--filterNonCoding
   --filterSyn --filterSplice`` (nonsynonymous), ``--filterPolym --maf 0.001`` (population AF) and the same
   footprint BED (``--bed``; PyTMB uses it only for the denominator, as the raw sum of its lines, and
   does not restrict variants to it); target ratio <= 0.1.  PyTMB is skipped when it is not installed.
3. Peak resident memory of ``tmbcalc tmb`` (``/usr/bin/time -v``) at 1M and 3M records; target < 300 MB
   whatever the input size (the input is streamed in chunks).
4. A >= 100,000-row multi-sample MAF (TCGA MC3 CESC, 103,980 rows, from ../shared/data) scored by
   ``compute_tmb`` + writing all outputs vs ``pandas.read_csv`` of the same file (both in-process,
   after a warm-up); target ratio < 2.

The footprint is the Agilent GRCh38 exome from ../shared/data when present (a realistic WES
denominator), else a generated BED.  Timings on a shared machine are noisy: use --repeat.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
EXOME = SHARED / "annotation/sigprofiler_pypi/GRCh38_exome.interval_list.gz"
MAF = SHARED / "somatic/tcga_mc3/TCGA_MC3_CESC.maf.tsv.gz"


def run_once(cmd: str) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   executable="/bin/bash")
    return time.perf_counter() - t


def wall(cmd: str, repeat: int) -> float:
    return statistics.median(run_once(cmd) for _ in range(repeat))


def interleaved(cmds: dict[str, str], repeat: int) -> dict[str, float]:
    """Median wall time of each command, the commands run in turn ``repeat`` times (so that load
    changes on a shared machine hit every side alike)."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for k, cmd in cmds.items():
            times[k].append(run_once(cmd))
    return {k: statistics.median(v) for k, v in times.items()}


def peak_rss_mb(cmd: str) -> float:
    proc = subprocess.run(f"/usr/bin/time -v {cmd}", shell=True, capture_output=True, text=True,
                          executable="/bin/bash")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return int(m.group(1)) / 1024 if m else float("nan")


def ensure_inputs(workdir: Path, records: int) -> tuple[Path, Path]:
    vcf = workdir / f"bench_{records}.vcf.gz"
    if not vcf.exists():
        subprocess.run([sys.executable, str(REPO / "benchmarks/make_vcf.py"), str(vcf), "--records", str(records)],
                       check=True)
    if EXOME.exists():
        return vcf, EXOME
    bed = workdir / "bench_targets.bed"
    if not bed.exists():
        import random

        rng = random.Random(3)
        with open(bed, "w") as fh:
            for _ in range(150_000):
                c = rng.randint(1, 22)
                s = rng.randint(1_000_000, 45_000_000)
                fh.write(f"chr{c}\t{s}\t{s + rng.randint(100, 400)}\n")
    return vcf, bed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", default="/tmp/tmbbench")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--rss-records", default="1000000,3000000",
                    help="comma-separated input sizes for the peak-memory comparison (streaming: flat)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="tmbcalc --threads (default 2, its default)")
    ap.add_argument("--skip-pytmb", action="store_true")
    ap.add_argument("--pytmb-repeat", type=int, default=1)
    a = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import precompile, tmbcalc_cmd

    precompile()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    vcf, bed = ensure_inputs(work, a.records)
    tmbcalc = " ".join(tmbcalc_cmd())
    tmb = f"{tmbcalc} tmb {{vcf}} --bed {bed} --profile wes-merino --threads {{t}} --quiet -o {work}/bench"
    extra = a.threads - 1              # tmbcalc --threads N = N-1 extra BGZF threads, as bcftools --threads N-1
    load = os.getloadavg()
    print(f"# input {vcf.name} ({a.records} records), footprint {bed.name}, median of {a.repeat} interleaved "
          f"runs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    cmds = {
        "bcftools": f"bcftools view -H -f PASS {vcf} | wc -l",
        f"bcftools --threads {extra}": f"bcftools view --threads {extra} -H -f PASS {vcf} | wc -l",
        "tmbcalc --threads 1": tmb.format(vcf=vcf, t=1),
        f"tmbcalc --threads {a.threads}": tmb.format(vcf=vcf, t=a.threads),
    }
    med = interleaved(cmds, a.repeat)
    for k, v in med.items():
        print(f"  {k:<28} {v:6.2f} s")
    t_tmb = med[f"tmbcalc --threads {a.threads}"]
    print(f"(a) tmbcalc tmb --threads {a.threads} / bcftools view -H -f PASS | wc -l: "
          f"ratio {t_tmb / med['bcftools']:.2f} (target <= 1.0)")
    print(f"(a) tmbcalc tmb --threads {a.threads} / bcftools view --threads {extra} (same decompression threads): "
          f"ratio {t_tmb / med[f'bcftools --threads {extra}']:.2f}")
    print(f"(a) tmbcalc tmb --threads 1 / bcftools view (both single-threaded): "
          f"ratio {med['tmbcalc --threads 1'] / med['bcftools']:.2f}")

    pytmb = shutil.which("pyTMB")
    if pytmb and not a.skip_pytmb:
        import pytmb as _p

        cfg = Path(_p.__file__).resolve().parent.parent / "config"
        cmd = (f"{pytmb} -i {vcf} --dbConfig {cfg}/vep.yml --varConfig {cfg}/mutect2.yml --sample TUMOR_S1 "
               f"--bed {bed} --vaf 0.05 --minDepth 25 --minAltDepth 3 --filterLowQual --filterNonCoding "
               f"--filterSyn --filterSplice --filterPolym --maf 0.001")
        if not str(bed).endswith(".bed"):
            plain = work / "footprint_for_pytmb.bed"
            if not plain.exists():
                subprocess.run(f"zcat -f {bed} | grep -v '^@' > {plain}", shell=True, check=True)
            cmd = cmd.replace(f"--bed {bed}", f"--bed {plain}")
        both = interleaved({"pytmb": cmd, "tmbcalc": tmb.format(vcf=vcf, t=a.threads)}, a.pytmb_repeat)
        t_py = both["pytmb"]
        print(f"(b) tmbcalc tmb / PyTMB: {both['tmbcalc']:.2f} s vs {t_py:.2f} s  ratio {both['tmbcalc'] / t_py:.3f} "
              f"= {t_py / both['tmbcalc']:.1f}x faster (target >= 10x; PyTMB {a.records / t_py:,.0f} records/s)")
    elif not a.skip_pytmb:
        print("PyTMB not installed (pip install pytmb-curie): comparison skipped")

    for n in [int(x) for x in a.rss_records.split(",") if x.strip()]:
        v, _ = ensure_inputs(work, n)
        rss = peak_rss_mb(tmb.format(vcf=v, t=a.threads))
        print(f"(c) tmbcalc tmb peak RSS at {n:,} records ({v.stat().st_size / 1e6:.0f} MB .vcf.gz): {rss:.0f} MB "
              f"(target < 300 MB)")

    if MAF.exists():
        import pandas as pd

        from tmbcalc import compute_tmb
        from tmbcalc.contigs import BUILD_LENGTHS

        gbed = work / "grch37_genome.bed"
        gbed.write_text("".join(f"{c}\t0\t{n}\n" for c, n in BUILD_LENGTHS["GRCh37"].items()))
        pd.read_csv(MAF, sep="\t", low_memory=False)                 # warm-up (page cache, imports)
        compute_tmb(MAF, bed=gbed, profile="wes-merino")
        tp, tt = [], []
        for _ in range(a.repeat):
            t = time.perf_counter()
            df = pd.read_csv(MAF, sep="\t", low_memory=False)
            tp.append(time.perf_counter() - t)
            t = time.perf_counter()
            res = compute_tmb(MAF, bed=gbed, profile="wes-merino")
            res.write(work / "maf_bench")
            tt.append(time.perf_counter() - t)
        p, q = statistics.median(tp), statistics.median(tt)
        print(f"(d) MAF {len(df):,} rows / {len(res.samples)} tumours: tmbcalc {q:.2f} s vs pandas.read_csv {p:.2f} s"
              f"  ratio {q / p:.2f} (target < 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
