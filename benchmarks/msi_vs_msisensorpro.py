#!/usr/bin/env python3
"""Side by side: ``tmbcalc msi`` vs MSIsensor-pro on simulated BAMs with per-locus truth.

    python benchmarks/msi_vs_msisensorpro.py --msisensor-pro /path/to/msisensor-pro \
        [--outdir /tmp/msi_bench] [--loci 100] [--coverage 150] [--json results.json]

The MSIsensor-pro binary is taken from ``--msisensor-pro`` or ``$MSISENSOR_PRO``; without one the
script prints a message and exits 0 (it is never built or downloaded here: build it yourself
from its public source).  Both tools get the same BAMs (``benchmarks/msi_simulate.py``) and the
same loci (the simulated ones, written in each tool's format), one thread each:

* paired: ``msisensor-pro msi -d SITES -n N -t T`` vs ``tmbcalc msi score T --normal-bam N``;
* tumor-only: ``msisensor-pro pro`` on each of the 5 baseline normals + ``baseline -s 5`` +
  ``pro -d BASELINE -t T`` vs ``tmbcalc msi baseline`` + ``tmbcalc msi score --baseline``.

* scan (``--scan``): ``msisensor-pro scan -d REF`` vs ``tmbcalc msi scan --reference REF``
  (each tool's defaults; the loci counts are printed next to the times).

Named read sets (``--set``; README's figures): ``small150`` (100 loci, 150x), ``deep2000`` (the
same loci at 2000x), ``panel150`` / ``panel500`` / ``panel1000`` (every clean locus of the chr3
piece, 154, at that depth), ``panel370_150`` / ``panel370_500`` (~370 clean loci of the chr3 piece
plus the real 1.1 Mb of the hg19 chr20 test FASTA) and ``exome150`` (reads over the whole piece,
~560 loci).  ``--no-checksums-too`` also times ``tmbcalc --no-checksums`` (no sha256 of the
inputs; MSIsensor-pro hashes nothing, tmbcalc's default does), ``--floors`` times doing nothing in
Python (``python -S -c pass``, ``python -c pass``, ``import numpy``, ``tmbcalc --version``) next to
MSIsensor-pro's per-command time.  The pytest form with the goal as assertions is
``benchmarks/bench_msi_vs_msisensorpro.py``.

Read sets (``benchmarks/msi_simulate.py`` options), e.g. the four of docs/msi-validation.md::

    --loci 100 --coverage 150                  # 100 loci, reads only at loci, 150x
    --loci 100 --coverage 2000                 # the same at 2000x
    --loci 400 --spacing 400 --coverage 1000   # panel-like: every clean locus of the piece
                                               # (~150), reads only at loci, 1000x
    --loci 100 --coverage 150 --background 150 --scan-loci
        # exome/genome-like: reads tile the whole reference piece at 150x; both tools score
        # all ~560 loci that 'tmbcalc msi scan' finds there (truth at the simulated ones)

Reported: per-locus sensitivity/specificity against the truth at 50% purity (unstable = the
MSI clone shifted the locus), the sample score and call in every scenario (MSIsensor-pro's
score is called MSI-H at the same cut-offs tmbcalc uses by default: 3.5% paired, 20%
tumor-only), and wall time / peak RSS of every command (``/usr/bin/time -v``) with the
tmbcalc / MSIsensor-pro ratios.  Every timed step is run ``--repeats`` times, the two tools
interleaved (alternating which goes first); a step's wall time is the median over repeats,
its memory the largest peak RSS; step times are summed over scenarios, memory is the largest
peak over scenarios (one command at a time, so the peak of a step is what a machine must hold).
Every timed command runs under ``flock /tmp/tmbcalc-bench/lock`` (one timing run at a time on
a shared machine; waiting for the lock is not timed).  tmbcalc is run through its console
script next to the running interpreter (not a version-manager shim, which adds ~40 ms of shell
per command).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import msi_simulate  # noqa: E402

DEFAULT_REF = HERE.parent.parent / "shared/data/reference/dndscv_grch37_chr3_segment/chr3_segment.fa"
CHR20 = HERE.parent.parent / "shared/data/reference/nucleus_hg19_chr20/ucsc.hg19.chr20.unittest.fasta.gz"
CHR20_REAL = (9_995_000, 11_095_000)  # the real sequence of that test FASTA (the rest is N)
CUTOFF = {"paired": 3.5, "tumor-only": 20.0}
LOCK = Path("/tmp/tmbcalc-bench/lock")


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, int, str, float]:
    """Run under /usr/bin/time -v: (wall seconds, max RSS kB, stdout, CPU seconds user + system).

    PYTHONDONTWRITEBYTECODE is dropped from the environment: an installed tmbcalc runs from
    cached bytecode, and recompiling its modules in every process would add ~0.08 s per command.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["flock", str(LOCK), "/usr/bin/time", "-v", *cmd], capture_output=True, text=True,
                       cwd=cwd, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-1500:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", p.stderr).group(1)
    parts = [float(x) for x in wall.split(":")]
    secs = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): (\S+)", p.stderr).group(1)) for k in ("User", "System"))
    return secs, rss, p.stdout, cpu


def timed_seq(cmds: list[list[str]]) -> tuple[float, int, str, float]:
    """Run commands one after the other: (summed wall seconds, largest max RSS kB, last stdout,
    summed CPU seconds)."""
    wall, rss, out, cpu = 0.0, 0, "", 0.0
    for c in cmds:
        w, r, out, u = timed(c)
        wall += w
        cpu += u
        rss = max(rss, r)
    return wall, rss, out, cpu


def timed_group(groups: dict[str, list[list[str]]], repeats: int) -> dict[str, tuple[float, int, str, float]]:
    """Each named command sequence ``repeats`` times, interleaved (the order rotates every
    repeat): name -> (median wall, max RSS, last stdout, median CPU seconds).  On a loaded
    machine the CPU time (user + system) is the steadier figure; wall time is the goal's."""
    names = list(groups)
    walls: dict[str, list[float]] = {k: [] for k in names}
    cpus: dict[str, list[float]] = {k: [] for k in names}
    rss = dict.fromkeys(names, 0)
    out = dict.fromkeys(names, "")
    for rep in range(repeats):
        for key in names[rep % len(names):] + names[:rep % len(names)]:
            w, r, o, u = timed_seq(groups[key])
            walls[key].append(w)
            cpus[key].append(u)
            rss[key] = max(rss[key], r)
            out[key] = o
    return {k: (statistics.median(walls[k]), rss[k], out[k], statistics.median(cpus[k])) for k in names}


def timed_pair(mp_cmds: list[list[str]], tb_cmds: list[list[str]], repeats: int
               ) -> tuple[tuple[float, int, str], tuple[float, int, str]]:
    """Both tools' command sequences ``repeats`` times, interleaved (alternating which runs
    first): ((median wall, max RSS, stdout) for MSIsensor-pro, the same for tmbcalc)."""
    res = timed_group({"mp": mp_cmds, "tb": tb_cmds}, repeats)
    return res["mp"][:3], res["tb"][:3]


def start_up_floors(repeats: int) -> dict[str, dict[str, float]]:
    """Wall time and peak RSS of doing nothing in Python: the floor under any ``tmbcalc`` command
    (interleaved, medians).  ``python -S`` skips site-packages' start-up files (``.pth``)."""
    py = sys.executable
    probes = {"python -S -c pass": [[py, "-S", "-c", "pass"]], "python -c pass": [[py, "-c", "pass"]],
              "python -c 'import numpy'": [[py, "-c", "import numpy"]],
              "tmbcalc --version": [[*tmbcalc_cmd(), "--version"]]}
    res = timed_group(probes, repeats)
    return {k: {"wall": w, "rss": r, "cpu": u} for k, (w, r, _, u) in res.items()}


def write_msisensor_sites(reference: Path, loci_tsv: Path, path: Path) -> int:
    """The loci of a tmbcalc loci file in MSIsensor-pro's scan-list layout (0-based location,
    5 bp flanks from the reference); returns the number of loci."""
    ref = msi_simulate.read_fasta(reference)
    rows = _tsv_rows(loci_tsv)
    with open(path, "w") as fh:
        fh.write("chromosome\tlocation\trepeat_unit_length\trepeat_times\trepeat_unit_bases\t"
                 "left_flank_bases\tright_flank_bases\tthreshold\tsupport_num\tfilter\n")
        for r in rows:
            seq, s, e = ref[r["chrom"]], int(r["start"]), int(r["end"])
            fh.write(f"{r['chrom']}\t{s}\t{len(r['unit'])}\t{r['ref_copies']}\t{r['unit']}\t"
                     f"{seq[s - 5:s]}\t{seq[e:e + 5]}\t-1\t-1\tPASS\n")
    return len(rows)


def _tsv_rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        lines = [ln for ln in fh if not ln.startswith("#") and ln.strip()]
    return list(csv.DictReader(io.StringIO("".join(lines)), delimiter="\t"))


# ---------------------------------------------------------------------------------------------
# MSIsensor-pro

def mp_summary(prefix: Path) -> tuple[float, int, int]:
    """(% unstable, total sites, unstable sites) from MSIsensor-pro's summary file."""
    rows = _tsv_rows(prefix)
    r = rows[0]
    return float(r["%"]), int(r["Total_Number_of_Sites"]), int(r["Number_of_Unstable_Sites"])


def mp_loci(prefix: Path) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """(evaluated sites, unstable sites) as (chrom, 0-based start)."""
    evaluated = {(r["chromosome"], int(r["location"])) for r in _tsv_rows(Path(f"{prefix}_all"))}
    unstable = {(r["chromosome"], int(r["location"])) for r in _tsv_rows(Path(f"{prefix}_unstable"))}
    return evaluated, unstable


# ---------------------------------------------------------------------------------------------
# tmbcalc

def tb_result(prefix: Path) -> tuple[dict, set[tuple[str, int]], set[tuple[str, int]]]:
    d = json.loads(Path(f"{prefix}.msi.json").read_text())
    rows = _tsv_rows(Path(f"{prefix}.msi_loci.tsv.gz"))
    evaluated = {(r["chrom"], int(r["start"])) for r in rows if r.get("evaluable", "yes") in ("yes", "1", "True")}
    unstable = {(r["chrom"], int(r["start"])) for r in rows if r["unstable"] in ("yes", "1", "True")}
    return d, evaluated, unstable


def tmbcalc_cmd() -> list[str]:
    """The console script installed with the running interpreter, else ``python -m tmbcalc``."""
    exe = Path(sys.executable).parent / "tmbcalc"
    if exe.is_file() and os.access(exe, os.X_OK):
        return [str(exe)]
    return [sys.executable, "-m", "tmbcalc"]


# ---------------------------------------------------------------------------------------------

def locus_metrics(sim: msi_simulate.Simulation, tumor: str, evaluated: set, unstable: set) -> dict:
    truth = msi_simulate.read_truth(sim.truth_tsv)[tumor]
    tp = fp = fn = tn = 0
    for row in truth.values():
        key = (row["chrom"], row["start"])
        if key not in evaluated:
            continue
        t, c = row["unstable"] == "yes", key in unstable
        tp += t and c
        fn += t and not c
        fp += (not t) and c
        tn += (not t) and not c
    n_unst = sum(r["unstable"] == "yes" for r in truth.values())
    return {"evaluable": len(evaluated & {(r["chrom"], r["start"]) for r in truth.values()}),
            "truth_unstable": n_unst, "tp": tp, "fn": fn, "fp": fp, "tn": tn,
            "sensitivity": tp / (tp + fn) if tp + fn else None,
            "specificity": tn / (tn + fp) if tn + fp else None,
            # sensitivity over all truly unstable loci (unevaluated ones count as missed)
            "sensitivity_all": tp / n_unst if n_unst else None}


def run(args: argparse.Namespace) -> dict:
    mp = args.msisensor_pro
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    specs, scen = msi_simulate.default_samples([1.0, 0.5, 0.2, 0.1])
    names = list(scen) if not args.scenarios else args.scenarios.split(",")
    unknown = [n for n in names if n not in scen]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {', '.join(unknown)} (known: {', '.join(scen)})")
    wanted = sorted({x for n in names for x in (scen[n]["tumor"], scen[n]["normal"], *scen[n]["baseline"])})
    sim = msi_simulate.simulate(args.reference, out / "sim", n_loci=args.loci, coverage=args.coverage,
                                seed=args.seed, threads=2, samples=wanted, background=args.background,
                                spacing=args.spacing)
    sim.scenarios = {n: sim.scenarios[n] for n in names}
    work = out / "runs"
    work.mkdir(exist_ok=True)
    tb = tmbcalc_cmd()
    loci_tsv = sim.loci_tsv
    if args.scan_loci:  # every locus of the reference piece, as tmbcalc's scan finds them
        loci_tsv = work / "scan_loci.tsv"
        timed([*tb, "msi", "scan", "--reference", str(sim.reference), "-o", str(loci_tsv)])
    sites = work / "sites.list"
    n_sites = write_msisensor_sites(sim.reference, loci_tsv, sites)
    res: dict = {"params": {**sim.params, "scored_loci": n_sites, "scan_loci": bool(args.scan_loci)},
                 "scenarios": {}, "timing": {}}
    tools = ("mp", "tb", "tbnc") if args.no_checksums_too else ("mp", "tb")
    tim = {f"{t}_{k}": {"wall": 0.0, "rss": 0, "cpu": 0.0} for k in ("paired", "tonly", "baseline") for t in tools}

    def acc(key: str, wall: float, rss: int, cpu: float = 0.0) -> None:
        tim[key]["wall"] += wall
        tim[key]["cpu"] += cpu
        tim[key]["rss"] = max(tim[key]["rss"], rss)

    def step(kind: str, mp_cmds: list[list[str]], tb_cmds: list[list[str]]) -> None:
        """Time one step of both tools (and tmbcalc --no-checksums), interleaved."""
        groups = {"mp": mp_cmds, "tb": tb_cmds}
        if "tbnc" in tools:  # the same commands without the inputs' sha256
            groups["tbnc"] = [[*c[:len(tb)], "--no-checksums", *c[len(tb):]] for c in tb_cmds]
        for key, (w, r, _, u) in timed_group(groups, R).items():
            acc(f"{key}_{kind}", w, r, u)

    base_normals = next(iter(sim.scenarios.values()))["baseline"]
    R = args.repeats
    # --- baselines
    cfg = work / "mp_baseline.cfg"
    cfg.write_text("".join(f"{n}\t{work / f'mp_{n}'}_all\n" for n in base_normals))
    mp_cmds = [[mp, "pro", "-d", str(sites), "-t", str(sim.bams[n]), "-o", str(work / f"mp_{n}"),
                "-c", str(args.min_coverage)] for n in base_normals]
    mp_cmds.append([mp, "baseline", "-d", str(sites), "-i", str(cfg), "-o", str(work / "mp_baseline.tsv"),
                    "-s", str(len(base_normals))])
    tb_cmds = [[*tb, "msi", "baseline", "--loci", str(loci_tsv), *[str(sim.bams[n]) for n in base_normals],
                "-o", str(work / "tb_baseline.tsv"), *args.tmbcalc_args]]
    step("baseline", mp_cmds, tb_cmds)

    for name, sc in sim.scenarios.items():
        t, n = sim.bams[sc["tumor"]], sim.bams[sc["normal"]]
        row: dict = {"truth": sc["truth"], "purity": sc.get("purity")}
        # paired
        step("paired", [[mp, "msi", "-d", str(sites), "-n", str(n), "-t", str(t), "-o", str(work / f"mp_{name}"),
                          "-c", str(args.min_coverage)]],
             [[*tb, "msi", "score", str(t), "--normal-bam", str(n), "--loci", str(loci_tsv),
               "-o", str(work / f"tb_{name}"), *args.tmbcalc_args]])
        score, total, _ = mp_summary(work / f"mp_{name}")
        ev, un = mp_loci(work / f"mp_{name}")
        row["msisensor_pro_paired"] = {"score": score, "evaluable": total,
                                       "status": "MSI-H" if score >= CUTOFF["paired"] else "MSS",
                                       "loci": locus_metrics(sim, sc["tumor"], ev, un)}
        d, ev, un = tb_result(work / f"tb_{name}")
        row["tmbcalc_paired"] = {"score": d["msi_score"], "evaluable": d["evaluable_loci"], "status": d["status"],
                                 "loci": locus_metrics(sim, sc["tumor"], ev, un)}
        # tumor-only
        step("tonly", [[mp, "pro", "-d", str(work / "mp_baseline.tsv"), "-t", str(t), "-o",
                        str(work / f"mpto_{name}"), "-c", str(args.min_coverage)]],
             [[*tb, "msi", "score", str(t), "--baseline", str(work / "tb_baseline.tsv"),
               "--loci", str(loci_tsv), "-o", str(work / f"tbto_{name}"), *args.tmbcalc_args]])
        score, total, _ = mp_summary(work / f"mpto_{name}")
        ev, un = mp_loci(work / f"mpto_{name}")
        row["msisensor_pro_tumor_only"] = {"score": score, "evaluable": total,
                                           "status": "MSI-H" if score >= CUTOFF["tumor-only"] else "MSS",
                                           "loci": locus_metrics(sim, sc["tumor"], ev, un)}
        d, ev, un = tb_result(work / f"tbto_{name}")
        row["tmbcalc_tumor_only"] = {"score": d["msi_score"], "evaluable": d["evaluable_loci"], "status": d["status"],
                                     "loci": locus_metrics(sim, sc["tumor"], ev, un)}
        res["scenarios"][name] = row
    if args.scan:
        tim["mp_scan"] = {"wall": 0.0, "rss": 0}
        tim["tb_scan"] = {"wall": 0.0, "rss": 0}
        (w, r, _), (w2, r2, _) = timed_pair([[mp, "scan", "-d", str(args.reference), "-o", str(work / "mp_scan.list")]],
                                           [[*tb, "msi", "scan", "--reference", str(args.reference),
                                             "-o", str(work / "tb_scan.tsv")]], R)
        acc("mp_scan", w, r)
        acc("tb_scan", w2, r2)
        with open(work / "mp_scan.list") as fh:
            mp_n = sum(1 for _ in fh) - 1
        tb_n = len(_tsv_rows(work / "tb_scan.tsv"))
        res["scan_loci"] = {"msisensor_pro": mp_n, "tmbcalc": tb_n}
    res["timing"] = tim
    res["ratios"] = {
        "paired_wall": tim["tb_paired"]["wall"] / tim["mp_paired"]["wall"],
        "paired_rss": tim["tb_paired"]["rss"] / tim["mp_paired"]["rss"],
        "tumor_only_wall": tim["tb_tonly"]["wall"] / tim["mp_tonly"]["wall"],
        "tumor_only_rss": tim["tb_tonly"]["rss"] / tim["mp_tonly"]["rss"],
        "baseline_wall": tim["tb_baseline"]["wall"] / tim["mp_baseline"]["wall"],
        "baseline_rss": tim["tb_baseline"]["rss"] / tim["mp_baseline"]["rss"],
    }
    for k, lab in (("paired", "paired"), ("tonly", "tumor_only"), ("baseline", "baseline")):
        res["ratios"][f"{lab}_cpu"] = tim[f"tb_{k}"]["cpu"] / max(tim[f"mp_{k}"]["cpu"], 1e-9)
    if "tbnc_paired" in tim:
        for k, lab in (("paired", "paired"), ("tonly", "tumor_only"), ("baseline", "baseline")):
            res["ratios"][f"{lab}_wall_no_checksums"] = tim[f"tbnc_{k}"]["wall"] / tim[f"mp_{k}"]["wall"]
    n_cmd = len(res["scenarios"])
    res["msisensor_pro_per_command"] = {"paired": tim["mp_paired"]["wall"] / n_cmd,
                                        "tumor_only": tim["mp_tonly"]["wall"] / n_cmd,
                                        "paired_cpu": tim["mp_paired"]["cpu"] / n_cmd,
                                        "tumor_only_cpu": tim["mp_tonly"]["cpu"] / n_cmd}
    if args.floors:
        res["floors"] = start_up_floors(max(R, 5))
    if "tb_scan" in tim:
        res["ratios"]["scan_wall"] = tim["tb_scan"]["wall"] / tim["mp_scan"]["wall"]
        res["ratios"]["scan_rss"] = tim["tb_scan"]["rss"] / tim["mp_scan"]["rss"]
    res["repeats"] = R
    res["tmbcalc_args"] = list(args.tmbcalc_args)
    return res


def report(res: dict) -> str:
    out = []
    p = res["params"]
    out.append(f"simulation: {p['n_loci']} loci, {p['coverage']}x, seed {p['seed']}"
               f"{', background ' + str(p['background']) + 'x' if p.get('background') else ''}"
               f"{', spacing ' + str(p['spacing']) if p.get('spacing') else ''}; scored at "
               f"{p.get('scored_loci', p['n_loci'])} loci{' (scan of the reference)' if p.get('scan_loci') else ''}")
    hdr = f"{'scenario':<20}{'truth':<7}" + "".join(f"{k:>26}" for k in
                                                   ("tmbcalc paired", "MSIsensor-pro msi", "tmbcalc tumor-only",
                                                    "MSIsensor-pro pro"))
    out.append(hdr)
    for name, r in res["scenarios"].items():
        cells = []
        for k in ("tmbcalc_paired", "msisensor_pro_paired", "tmbcalc_tumor_only", "msisensor_pro_tumor_only"):
            v = r[k]
            cells.append(f"{v['score']:6.2f}% {v['status']:<6}({v['evaluable']:>3} ev)")
        out.append(f"{name:<20}{r['truth']:<7}" + "".join(f"{c:>26}" for c in cells))
    out.append("per-locus calls vs truth (sens / spec over evaluable loci; sens_all over all unstable loci):")
    for name, r in res["scenarios"].items():
        if r["truth"] != "MSI-H":
            continue
        bits = []
        for k in ("tmbcalc_paired", "msisensor_pro_paired", "tmbcalc_tumor_only", "msisensor_pro_tumor_only"):
            m = r[k]["loci"]
            f = lambda x: "  NA" if x is None else f"{x:.2f}"  # noqa: E731
            bits.append(f"{k}: {f(m['sensitivity'])}/{f(m['specificity'])}/{f(m['sensitivity_all'])}")
        out.append(f"  {name}: " + "; ".join(bits))
    t = res["timing"]
    out.append(f"timing (median of {res['repeats']} interleaved repeats, summed over scenarios; one thread "
               f"each{'; tmbcalc ' + ' '.join(res['tmbcalc_args']) if res['tmbcalc_args'] else ''}): "
               "wall s / peak RSS MB")
    for a, b, lab in _steps(t):
        out.append(f"  {lab:<11} tmbcalc {t[a]['wall']:7.2f} s {t[a]['rss'] / 1024:7.1f} MB | MSIsensor-pro "
                   f"{t[b]['wall']:7.2f} s {t[b]['rss'] / 1024:7.1f} MB | ratio wall {t[a]['wall'] / t[b]['wall']:.2f}"
                   f" rss {t[a]['rss'] / t[b]['rss']:.2f}")
    for a, b, lab in _steps(t):
        if "cpu" in t[a]:
            out.append(f"  {lab:<11} CPU (user+sys) tmbcalc {t[a]['cpu']:7.2f} s | MSIsensor-pro {t[b]['cpu']:7.2f} s"
                       f" | ratio {t[a]['cpu'] / max(t[b]['cpu'], 1e-9):.2f}")
    for a, b, lab in _steps(t):
        nc = a.replace("tb_", "tbnc_")
        if nc in t:
            out.append(f"  {lab:<11} tmbcalc --no-checksums {t[nc]['wall']:7.2f} s | ratio wall "
                       f"{t[nc]['wall'] / t[b]['wall']:.2f}")
    if "floors" in res:
        per = res["msisensor_pro_per_command"]
        out.append(f"start-up floors (median wall s / peak RSS MB; MSIsensor-pro per command: paired "
                   f"{per['paired']:.3f} s (CPU {per['paired_cpu']:.3f} s), tumor-only {per['tumor_only']:.3f} s "
                   f"(CPU {per['tumor_only_cpu']:.3f} s), peak "
                   f"{t['mp_paired']['rss'] / 1024:.1f} / {t['mp_tonly']['rss'] / 1024:.1f} MB):")
        for k, v in res["floors"].items():
            out.append(f"  {k:<26} wall {v['wall']:.3f} s = {v['wall'] / per['paired']:.2f}x / "
                       f"{v['wall'] / per['tumor_only']:.2f}x MSIsensor-pro's (paired / tumor-only); CPU "
                       f"{v['cpu']:.3f} s = {v['cpu'] / max(per['paired_cpu'], 1e-9):.2f}x / "
                       f"{v['cpu'] / max(per['tumor_only_cpu'], 1e-9):.2f}x; {v['rss'] / 1024:.1f} MB = "
                       f"{v['rss'] / t['mp_paired']['rss']:.2f}x its memory")
    if "scan_loci" in res:
        out.append(f"  scan loci (each tool's defaults): tmbcalc {res['scan_loci']['tmbcalc']}, "
                   f"MSIsensor-pro {res['scan_loci']['msisensor_pro']}")
    return "\n".join(out)


def _steps(t: dict) -> list[tuple[str, str, str]]:
    steps = [("tb_paired", "mp_paired", "paired score"), ("tb_tonly", "mp_tonly", "tumor-only score"),
             ("tb_baseline", "mp_baseline", "baseline")]
    if "tb_scan" in t:
        steps.append(("tb_scan", "mp_scan", "scan"))
    return steps


def markdown(res: dict) -> str:
    """The figures as markdown tables (for docs/msi-validation.md)."""
    keys = ("tmbcalc_paired", "msisensor_pro_paired", "tmbcalc_tumor_only", "msisensor_pro_tumor_only")
    out = ["| scenario | truth | tmbcalc paired | MSIsensor-pro `msi` | tmbcalc tumor-only | MSIsensor-pro `pro` |",
           "|---|---|---|---|---|---|"]
    for name, r in res["scenarios"].items():
        out.append(f"| {name} | {r['truth']} | " + " | ".join(f"{r[k]['score']:.0f}% {r[k]['status']}" for k in keys) + " |")
    out += ["", "| scenario | tmbcalc paired | MSIsensor-pro `msi` | tmbcalc tumor-only | MSIsensor-pro `pro` |",
            "|---|---|---|---|---|"]
    for name, r in res["scenarios"].items():
        if r["truth"] != "MSI-H":
            continue
        cells = []
        for k in keys:
            m = r[k]["loci"]
            cells.append(f"{m['sensitivity']:.2f} / {m['specificity']:.2f}" if m["sensitivity"] is not None else "NA")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    t = res["timing"]
    out += ["", "| step | tmbcalc wall s | MSIsensor-pro wall s | ratio | tmbcalc peak RSS MB | MSIsensor-pro peak RSS MB | ratio |",
            "|---|---|---|---|---|---|---|"]
    for a, b, lab in _steps(t):
        out.append(f"| {lab} | {t[a]['wall']:.2f} | {t[b]['wall']:.2f} | {t[a]['wall'] / t[b]['wall']:.2f} | "
                   f"{t[a]['rss'] / 1024:.1f} | {t[b]['rss'] / 1024:.1f} | {t[a]['rss'] / t[b]['rss']:.2f} |")
    return "\n".join(out)


# Named read sets (the figures of README and docs/msi-validation.md); explicit options override them.
SETS = {
    "small150": {"loci": 100, "coverage": 150.0},                     # 100 loci at 150x: start-up bound
    "deep2000": {"loci": 100, "coverage": 2000.0},                    # the same loci at 2000x
    "panel150": {"loci": 400, "spacing": 400, "coverage": 150.0},     # every clean locus of the piece (~150)
    "panel500": {"loci": 400, "spacing": 400, "coverage": 500.0},
    "panel1000": {"loci": 400, "spacing": 400, "coverage": 1000.0},
    "exome150": {"loci": 100, "coverage": 150.0, "background": 150.0, "scan_loci": True},  # ~560 loci
    # ~370 loci: clean loci of the chr3 piece and of the real 1.1 Mb of the hg19 chr20 test FASTA
    "panel370_150": {"loci": 400, "spacing": 400, "coverage": 150.0, "reference": "chr3+chr20"},
    "panel370_500": {"loci": 400, "spacing": 400, "coverage": 500.0, "reference": "chr3+chr20"},
}


def combined_reference(outdir: Path) -> Path:
    """The chr3 piece plus the real part of the chr20 test FASTA (contig ``chr20_9995000``) as one
    FASTA in ``outdir``: more clean loci than either piece has alone."""
    import pysam

    path = outdir / "ref_chr3_chr20.fa"
    if not path.exists():
        outdir.mkdir(parents=True, exist_ok=True)
        seqs = dict(msi_simulate.read_fasta(DEFAULT_REF))
        with pysam.FastaFile(str(CHR20)) as fa:
            seqs[f"chr20_{CHR20_REAL[0]}"] = fa.fetch("chr20", *CHR20_REAL).upper()
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as fh:
            fh.writelines(f">{name}\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60)) + "\n"
                          for name, seq in seqs.items())
        tmp.rename(path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", choices=sorted(SETS), help="a named read set (sets --loci, --coverage, ...; options "
                    "given explicitly win)")
    ap.add_argument("--no-checksums-too", action="store_true",
                    help="also time tmbcalc with --no-checksums (no sha256 of the inputs), interleaved")
    ap.add_argument("--floors", action="store_true",
                    help="also time doing nothing in Python (python -S / python / import numpy / tmbcalc --version)")
    ap.add_argument("--msisensor-pro", default=os.environ.get("MSISENSOR_PRO"),
                    help="path of the msisensor-pro binary (default $MSISENSOR_PRO)")
    ap.add_argument("--reference", default=str(DEFAULT_REF),
                    help="reference FASTA of the simulation ('chr3+chr20': the chr3 piece and the real part "
                         "of the chr20 test FASTA; default the chr3 piece)")
    ap.add_argument("--outdir", default="/tmp/tmbcalc_msi_vs_msisensorpro")
    ap.add_argument("--loci", type=int, default=100)
    ap.add_argument("--coverage", type=float, default=150.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--min-coverage", type=int, default=20, help="both tools' per-locus read minimum (20)")
    ap.add_argument("--scenarios", help="comma-separated subset of the scenarios (default: all)")
    ap.add_argument("--background", type=float, default=0.0,
                    help="simulate reads tiling the whole reference at this depth too (default 0)")
    ap.add_argument("--spacing", type=int, default=msi_simulate.MIN_SPACING,
                    help=f"least distance between simulated loci (default {msi_simulate.MIN_SPACING})")
    ap.add_argument("--scan-loci", action="store_true",
                    help="score both tools at every locus 'tmbcalc msi scan' finds in the reference")
    ap.add_argument("--json", help="write all figures here")
    ap.add_argument("--markdown", action="store_true", help="also print the figures as markdown tables")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per step, interleaved; median reported (3)")
    ap.add_argument("--scan", action="store_true", help="also time both tools' reference scan")
    ap.add_argument("--tmbcalc-arg", dest="tmbcalc_args", action="append", default=[],
                    help="extra argument for tmbcalc's baseline/score commands (repeatable), e.g. "
                         "--tmbcalc-arg=--threads --tmbcalc-arg=2")
    if argv is None:
        argv = sys.argv[1:]
    a = ap.parse_args(argv)
    if a.set:  # the set's values, except where an option was given explicitly
        given = {x.split("=")[0] for x in argv if x.startswith("--")}
        for k, v in SETS[a.set].items():
            if f"--{k.replace('_', '-')}" not in given:
                setattr(a, k, v)
    if not a.msisensor_pro:
        print("msi_vs_msisensorpro: skipped - no MSIsensor-pro binary given (--msisensor-pro PATH or "
              "$MSISENSOR_PRO); build it from https://github.com/xjtu-omics/msisensor-pro yourself")
        return 0
    if not (Path(a.msisensor_pro).is_file() and os.access(a.msisensor_pro, os.X_OK)):
        print(f"msi_vs_msisensorpro: '{a.msisensor_pro}' is not an executable file", file=sys.stderr)
        return 1
    if a.reference == "chr3+chr20":
        a.reference = str(combined_reference(Path(a.outdir)))
    res = run(a)
    print(report(res))
    if a.markdown:
        print(markdown(res))
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
