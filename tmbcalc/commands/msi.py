"""``tmbcalc msi``: microsatellite scan, normal baseline, MSI scoring (and MSI from mutations).

Parsing and printing only; the work is done by :mod:`tmbcalc.msi`.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys

from ..checks import number_arg

NAME = "msi"
HELP = "microsatellite instability: scan a reference, build a normal baseline, score a tumor"


def _add_profile_options(p: argparse.ArgumentParser) -> None:
    from ..msi.defaults import ANCHOR as DEFAULT_ANCHOR
    from ..msi.defaults import EXCLUDE_FLAGS as DEFAULT_EXCLUDE_FLAGS
    from ..msi.defaults import MAPQ as DEFAULT_MAPQ

    g = p.add_argument_group("read selection (profile)")
    g.add_argument("--reference", metavar="REF.fa", help="reference FASTA (required for CRAM; when given, "
                   "the loci are checked against it)")
    g.add_argument("--mapq", type=number_arg(integer=True, lo=0, hi=255), default=DEFAULT_MAPQ, metavar="Q",
                   help=f"minimum mapping quality of a read (default {DEFAULT_MAPQ})")
    g.add_argument("--exclude-flags", type=lambda x: int(x, 0), default=DEFAULT_EXCLUDE_FLAGS, metavar="FLAGS",
                   help=f"reads with any of these SAM flag bits are ignored (default {DEFAULT_EXCLUDE_FLAGS:#x} = "
                        "unmapped, secondary, QC-fail, duplicate, supplementary)")
    g.add_argument("--anchor", type=number_arg(integer=True, lo=0), default=DEFAULT_ANCHOR, metavar="K",
                   help=f"flank bases each side that a read must carry, aligned and identical to the "
                        f"reference flank (default {DEFAULT_ANCHOR})")
    g.add_argument("--count-both-mates", action="store_true",
                   help="count both reads of a pair that both span a locus (default: the fragment once, "
                        "via the MC tag)")
    g.add_argument("--threads", type=number_arg(integer=True, lo=1), default=1, metavar="N", help="threads: tumor and normal (or the "
                   "baseline normals) are read at once, and the loci of each file split across the "
                   "threads left (results are identical for every N; default 1)")


def register(parser: argparse.ArgumentParser) -> None:
    from ..msi import defaults as d

    DEFAULT_FLANK, DEFAULT_MAX_HOMOPOLYMER, DEFAULT_MAX_REPEAT_LENGTH = d.FLANK, d.MAX_HOMOPOLYMER, d.MAX_REPEAT_LENGTH
    DEFAULT_MIN_COPIES, DEFAULT_MIN_HOMOPOLYMER = d.MIN_COPIES, d.MIN_HOMOPOLYMER
    DEFAULT_ALPHA, DEFAULT_CUTOFFS, DEFAULT_MIN_COVERAGE = d.ALPHA, d.CUTOFFS, d.MIN_COVERAGE
    DEFAULT_MIN_EVALUABLE, DEFAULT_INDETERMINATE_BAND = d.MIN_EVALUABLE, d.INDETERMINATE_BAND

    sub = parser.add_subparsers(dest="msi_command", metavar="SUBCOMMAND", parser_class=type(parser))

    s = sub.add_parser("scan", help="find homopolymers and 2-6 bp repeats in a reference FASTA",
                       description="Find microsatellites in a reference FASTA (plain, gzip or bgzip) and "
                                   "write a loci file.")
    s.add_argument("--reference", required=True, metavar="REF.fa", help="reference FASTA (.fa, .fa.gz, bgzip)")
    s.add_argument("--bed", metavar="FOOTPRINT", help="keep only repeats lying fully inside these regions")
    s.add_argument("--min-homopolymer", type=number_arg(integer=True, lo=1), default=DEFAULT_MIN_HOMOPOLYMER, metavar="BP",
                   help=f"minimum homopolymer length in bp (default {DEFAULT_MIN_HOMOPOLYMER})")
    s.add_argument("--max-homopolymer", type=number_arg(integer=True, lo=1), default=DEFAULT_MAX_HOMOPOLYMER, metavar="BP",
                   help=f"longer homopolymers are not reported (default {DEFAULT_MAX_HOMOPOLYMER})")
    s.add_argument("--min-repeat-copies", type=number_arg(integer=True, lo=1), default=DEFAULT_MIN_COPIES, metavar="N",
                   help=f"minimum copies of a 2-6 bp unit (default {DEFAULT_MIN_COPIES})")
    s.add_argument("--max-repeat-length", type=number_arg(integer=True, lo=1), default=DEFAULT_MAX_REPEAT_LENGTH, metavar="BP",
                   help=f"longer 2-6 bp repeats are not reported (default {DEFAULT_MAX_REPEAT_LENGTH})")
    s.add_argument("--max-unit", type=int, default=6, choices=range(1, 7), metavar="BP",
                   help="longest repeat unit (1-6, default 6; 1 = homopolymers only)")
    s.add_argument("--flank", type=number_arg(integer=True, lo=0), default=DEFAULT_FLANK, metavar="BP",
                   help=f"flank bases stored each side (default {DEFAULT_FLANK})")
    s.add_argument("-o", "--output", required=True, metavar="LOCI", help="output loci file (.gz = gzip)")
    s.set_defaults(func=_run_scan, output_suffixes=("",))

    b = sub.add_parser("baseline", help="per-locus statistics over normal samples (for tumor-only scoring)",
                       description="Profile normal BAM/CRAMs at the loci and write a baseline.")
    b.add_argument("normal_bams", nargs="+", metavar="NORMAL.bam")
    b.add_argument("--loci", required=True, metavar="LOCI")
    b.add_argument("--min-coverage", type=number_arg(integer=True, lo=1), default=DEFAULT_MIN_COVERAGE, metavar="N",
                   help=f"a normal supports a locus when >= N reads are measured there "
                        f"(default {DEFAULT_MIN_COVERAGE})")
    b.add_argument("--min-support", type=number_arg(integer=True, lo=1), default=d.MIN_SUPPORT, metavar="N",
                   help=f"tumor-only scoring uses loci supported by >= N normals (default {d.MIN_SUPPORT})")
    _add_profile_options(b)
    b.add_argument("-o", "--output", required=True, metavar="BASELINE", help="output baseline file (.tsv[.gz])")
    b.set_defaults(func=_run_baseline, output_suffixes=("",))

    c = sub.add_parser("score", help="score a tumor BAM against its normal or a baseline",
                       description="MSI score of a tumor: paired (--normal-bam) or tumor-only (--baseline).")
    c.add_argument("tumor_bam", metavar="TUMOR.bam")
    mode = c.add_mutually_exclusive_group(required=True)
    mode.add_argument("--normal-bam", metavar="NORMAL.bam", help="matched normal (paired mode)")
    mode.add_argument("--baseline", metavar="BASELINE", help="baseline from 'msi baseline' (tumor-only mode)")
    c.add_argument("--loci", required=True, metavar="LOCI")
    c.add_argument("--sample", metavar="NAME", help="sample name in outputs (default: BAM read group SM or file name)")
    c.add_argument("--min-coverage", type=number_arg(integer=True, lo=1), default=DEFAULT_MIN_COVERAGE, metavar="N",
                   help=f"a locus is evaluable when tumor (and normal) have >= N measured reads "
                        f"(default {DEFAULT_MIN_COVERAGE})")
    c.add_argument("--alpha", type=number_arg(lo=0.0, hi=1.0, lo_open=True, hi_open=True), default=DEFAULT_ALPHA, metavar="Q",
                   help=f"FDR (Benjamini-Hochberg q) below which a locus is unstable (default {DEFAULT_ALPHA})")
    c.add_argument("--msi-h-cutoff", type=number_arg(lo=0.0, hi=100.0), metavar="PCT",
                   help="MSI-H when the score (%% unstable loci) is >= PCT (default: paired "
                        f"{DEFAULT_CUTOFFS['paired']}, tumor-only {DEFAULT_CUTOFFS['tumor-only']})")
    c.add_argument("--indeterminate-band", type=number_arg(lo=0.0, hi=100.0), metavar="PCT",
                   help="scores within +/-PCT of the cut-off are 'indeterminate' (default: paired "
                        f"{DEFAULT_INDETERMINATE_BAND['paired']}, tumor-only {DEFAULT_INDETERMINATE_BAND['tumor-only']})")
    c.add_argument("--test", choices=("excess", "chisq"), default="excess",
                   help="paired per-locus test driving 'unstable': one-sided Fisher test on reads at "
                        "non-germline lengths (excess, default) or chi-square on the whole distribution")
    c.add_argument("--min-evaluable", type=number_arg(integer=True, lo=1), default=DEFAULT_MIN_EVALUABLE, metavar="N",
                   help=f"fewer evaluable loci give 'indeterminate' (default {DEFAULT_MIN_EVALUABLE})")
    _add_profile_options(c)
    c.add_argument("--write-dis", action="store_true",
                   help="also write PREFIX.msi_dis (histograms in MSIsensor's _dis layout)")
    c.add_argument("-o", "--output", required=True, metavar="PREFIX")
    c.set_defaults(func=_run_score, output_suffixes=(".msi.json", ".msi_loci.tsv.gz", ".msi_dis"))

    try:  # written separately (MSI from somatic calls); registered only when present
        mutations_cli = importlib.import_module("tmbcalc.msi.mutations_cli")
    except ModuleNotFoundError as exc:
        if exc.name != "tmbcalc.msi.mutations_cli":
            raise
    else:
        m = sub.add_parser("mutations", help="MSI from somatic calls: repeat indels per Mb (MSIseq-style)")
        mutations_cli.register(m)

    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])


def _profile_kwargs(args: argparse.Namespace) -> dict:
    return {"reference": args.reference, "mapq": args.mapq, "exclude_flags": args.exclude_flags,
            "anchor": args.anchor, "threads": args.threads, "mate_dedup": not args.count_both_mates}


def _run_scan(args: argparse.Namespace) -> int:
    from ..msi.scan import msi_scan

    res = msi_scan(args.reference, footprint=args.bed, min_homopolymer=args.min_homopolymer,
                   max_homopolymer=args.max_homopolymer, min_copies=args.min_repeat_copies,
                   max_repeat_length=args.max_repeat_length, max_unit=args.max_unit, flank=args.flank,
                   output=args.output)
    print(f"{len(res.loci)} loci ({res.n_homopolymers} homopolymers, {len(res.loci) - res.n_homopolymers} "
          f"2-{args.max_unit} bp repeats) in {res.bases_scanned:,} bp scanned -> {args.output}",
          file=sys.stderr)
    return 0


def _run_baseline(args: argparse.Namespace) -> int:
    from ..msi.baseline import msi_baseline

    res = msi_baseline(args.loci, args.normal_bams, min_coverage=args.min_coverage,
                       min_support=args.min_support, output=args.output,
                       **_profile_kwargs(args))
    print(f"baseline of {len(args.normal_bams)} normals: {res.n_supported} of {len(res.loci)} loci "
          f"supported by >= {res.min_support} normals -> {args.output}", file=sys.stderr)
    return 0


def _run_score(args: argparse.Namespace) -> int:
    from ..msi.score import msi_score

    res = msi_score(args.tumor_bam, args.loci, normal_bam=args.normal_bam, baseline=args.baseline,
                    sample=args.sample, min_coverage=args.min_coverage, alpha=args.alpha,
                    msi_h_cutoff=args.msi_h_cutoff, indeterminate_band=args.indeterminate_band,
                    min_evaluable=args.min_evaluable, test=args.test, write_dis=args.write_dis, output=args.output,
                    **_profile_kwargs(args))
    print(json.dumps({"sample": res.sample, "mode": res.mode, "msi_score": res.msi_score,
                      "status": res.status, "evaluable_loci": res.evaluable_loci,
                      "unstable_loci": res.unstable_loci}))
    return 0
