"""``tmbcalc callable``: the callable part of a footprint from tumor (and normal) read depth.

Writes PREFIX.callable.bed.gz (+ .tbi), PREFIX.callable.json and PREFIX.coverage.tsv, all or
nothing.  See docs/callable.md.
"""
from __future__ import annotations

from ..checks import number_arg

import argparse
import sys

from ..errors import UsageError

NAME = "callable"
DEFAULT_THREADS = 2
# API parameter -> option dest, for messages (see tmbcalc.cli.in_option_names)
API_NAMES = {"min_depth": "min_coverage", "min_normal_depth": "min_normal_coverage", "panels_dirs": "panels_dir"}
HELP = "callable footprint (bases with enough read depth) from a tumor BAM/CRAM and optional normal"


def _flags(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer flag mask (e.g. 1796 or 0x704), got {text!r}") from None


def register(p: argparse.ArgumentParser) -> None:
    from ..callable.engine import DEFAULT_EXCLUDE_FLAGS, DEFAULT_MAPQ, MATE_OVERLAP_MODES

    p.add_argument("bam", metavar="BAM", help="tumor BAM or CRAM (coordinate-sorted and indexed)")
    p.add_argument("-o", "--output", metavar="PREFIX", required=True,
                   help="output prefix: PREFIX.callable.bed.gz(.tbi), PREFIX.callable.json, PREFIX.coverage.tsv")
    p.add_argument("--normal-bam", metavar="BAM", help="matched-normal BAM/CRAM; a base is callable only if "
                   "the normal also reaches --min-normal-coverage")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--panel", metavar="ID", help="footprint of a registered panel (tmbcalc panels list)")
    g.add_argument("--bed", metavar="BED", help="footprint BED/interval_list (its records are the targets "
                   "of PREFIX.coverage.tsv)")
    p.add_argument("--panel-bed", metavar="BED", help="footprint BED of --panel when it is not shipped")
    p.add_argument("--genome-build", choices=("GRCh37", "GRCh38"), default=None,
                   help="build whose --panel footprint is used (default: from the BAM header's contig lengths)")
    p.add_argument("--panels-dir", action="append", metavar="DIR", default=None,
                   help="extra folder of panel TOMLs for --panel (repeatable; also $TMBCALC_PANELS_DIR)")
    # --min-coverage as in `tmb --tumor-bam` (in `tmb`, --min-depth is the variant read-depth rule);
    # the first spelling, --min-depth, is kept as an alias
    p.add_argument("--min-coverage", "--min-depth", dest="min_coverage", metavar="N",
                   type=number_arg(integer=True, lo=0), required=True,
                   help="tumor depth a base needs to be callable (reads per base)")
    p.add_argument("--min-normal-coverage", "--min-normal-depth", dest="min_normal_coverage", metavar="M",
                   type=number_arg(integer=True, lo=0), help="normal depth a base needs (default: --min-coverage)")
    p.add_argument("--mapq", metavar="Q", type=number_arg(integer=True, lo=0, hi=255), default=DEFAULT_MAPQ,
                   help=f"skip reads with mapping quality < Q (default {DEFAULT_MAPQ}; mosdepth -Q)")
    p.add_argument("--exclude-flags", metavar="FLAGS", type=_flags, default=DEFAULT_EXCLUDE_FLAGS,
                   help=f"skip reads with any of these SAM flag bits (default {DEFAULT_EXCLUDE_FLAGS} = "
                        "unmapped, secondary, QC-fail, duplicate; mosdepth -F)")
    p.add_argument("--count-deletions", action="store_true",
                   help="count CIGAR deletions (D) as covered (default: not, as mosdepth)")
    p.add_argument("--mate-overlap", choices=list(MATE_OVERLAP_MODES), default="fragment",
                   help="overlapping mates: 'fragment' counts a base once per fragment (default), "
                        "'mosdepth' reproduces mosdepth 0.3 exactly, 'none' counts both mates")
    p.add_argument("--reference", metavar="FASTA", help="reference FASTA (required for CRAM)")
    p.add_argument("--threads", metavar="N", type=number_arg(integer=True, lo=1), default=DEFAULT_THREADS,
                   help=f"worker threads: the footprint is cut into N chunks read in parallel, each with "
                        f"its own decompression (default {DEFAULT_THREADS}, as many threads as "
                        f"`mosdepth -t 1` runs); results do not depend on N")
    p.set_defaults(output_suffixes=(".callable.bed.gz", ".callable.bed.gz.tbi", ".callable.json", ".coverage.tsv"))


def run(args: argparse.Namespace) -> int:
    """Lean path: neither numpy, pandas nor the pysam package is imported."""
    from ..callable.lean import run_callable

    if args.panel_bed and not args.panel:
        raise UsageError("--panel-bed needs --panel")
    res = run_callable(args.bam, min_depth=args.min_coverage, normal_bam=args.normal_bam, panel=args.panel,
                       panel_bed=args.panel_bed, panels_dirs=args.panels_dir, bed=args.bed,
                       genome_build=args.genome_build,
                       min_normal_depth=args.min_normal_coverage, mapq=args.mapq, exclude_flags=args.exclude_flags,
                       reference=args.reference, threads=args.threads, count_deletions=args.count_deletions,
                       mate_overlap=args.mate_overlap)
    res.write(args.output)
    cbp, fbp = res.callable_bp, res.footprint_bp
    print(f"callable {cbp} of {fbp} bp ({100 * cbp / fbp:.2f}%) at tumor depth >= "
          f"{args.min_coverage}" + (f", normal depth >= {res.core.parameters['min_normal_depth']}"
                                 if args.normal_bam else "") + f"; wrote {args.output}.callable.*",
          file=sys.stderr)
    return 0
