"""``tmbcalc callable``: the callable part of a footprint from tumor (and normal) read depth.

Writes PREFIX.callable.bed.gz (+ .tbi), PREFIX.callable.json and PREFIX.coverage.tsv, all or
nothing.  See docs/callable.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError

NAME = "callable"
DEFAULT_THREADS = 2
HELP = "callable footprint (bases with enough read depth) from a tumor BAM/CRAM and optional normal"


def _flags(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer flag mask (e.g. 1796 or 0x704), got {text!r}") from None


def register(p: argparse.ArgumentParser) -> None:
    from ..callable_core import DEFAULT_EXCLUDE_FLAGS, DEFAULT_MAPQ, MATE_OVERLAP_MODES

    p.add_argument("bam", metavar="BAM", help="tumor BAM or CRAM (coordinate-sorted and indexed)")
    p.add_argument("-o", "--output", metavar="PREFIX", required=True,
                   help="output prefix: PREFIX.callable.bed.gz(.tbi), PREFIX.callable.json, PREFIX.coverage.tsv")
    p.add_argument("--normal-bam", metavar="BAM", help="matched-normal BAM/CRAM; a base is callable only if "
                   "the normal also reaches --min-normal-depth")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--panel", metavar="ID", help="footprint of a registered panel (tmbcalc panels list)")
    g.add_argument("--bed", metavar="BED", help="footprint BED/interval_list (its records are the targets "
                   "of PREFIX.coverage.tsv)")
    p.add_argument("--panel-bed", metavar="BED", help="footprint BED of --panel when it is not shipped")
    p.add_argument("--panels-dir", action="append", metavar="DIR", default=None,
                   help="extra folder of panel TOMLs for --panel (repeatable; also $TMBCALC_PANELS_DIR)")
    p.add_argument("--min-depth", metavar="N", type=int, required=True,
                   help="tumor depth a base needs to be callable (reads per base)")
    p.add_argument("--min-normal-depth", metavar="M", type=int,
                   help="normal depth a base needs (default: --min-depth)")
    p.add_argument("--mapq", metavar="Q", type=int, default=DEFAULT_MAPQ,
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
    p.add_argument("--threads", metavar="N", type=int, default=DEFAULT_THREADS,
                   help=f"worker threads: the footprint is cut into N chunks read in parallel, each with "
                        f"its own decompression (default {DEFAULT_THREADS}, as many threads as "
                        f"`mosdepth -t 1` runs); results do not depend on N")
    p.set_defaults(output_suffixes=(".callable.bed.gz", ".callable.bed.gz.tbi", ".callable.json", ".coverage.tsv"))


def _bam_build(path: str) -> str | None:
    """GRCh37/GRCh38 from the BAM/CRAM header's contig lengths (None if unknown/unreadable)."""
    from ..contigs import detect_build
    from ..errors import require_readable
    from ..ext import load_kernel

    require_readable(path, "tumor BAM/CRAM")
    try:
        rdr = load_kernel("_depth").DepthReader(str(path), None, 0, False)
    except (OSError, ValueError):
        return None  # compute_callable reports the unreadable file
    return detect_build(dict(rdr.contigs()))


def run(args: argparse.Namespace) -> int:
    """Lean path: neither numpy, pandas nor the pysam package is imported for --bed."""
    from .. import callable_core as core
    from ..provenance import build_provenance

    extra = {}
    targets = None
    if args.panel:
        from ..panels import load_panel

        panel = load_panel(args.panel, args.panels_dir)
        fp_set = panel.footprint(_bam_build(args.bam), bed=args.panel_bed)
        footprint = {c: list(zip(s.tolist(), e.tolist())) for c, (s, e) in fp_set.by_contig.items()}
        fp_name = f"panel {panel.id}"
        extra["panel"] = panel.to_dict() if hasattr(panel, "to_dict") else {"id": args.panel}
        bed_path = args.panel_bed
    else:
        from ..io.bed_text import read_targets

        if args.panel_bed:
            raise UsageError("--panel-bed needs --panel")
        targets, _native = read_targets(args.bed)
        footprint = targets.footprint()
        fp_name = str(args.bed)
        bed_path = args.bed
    if args.threads > 1:  # worker threads share one malloc arena (see _depth.single_malloc_arena)
        from ..ext import load_kernel

        load_kernel("_depth").single_malloc_arena()
    res = core.compute(args.bam, footprint, normal_bam=args.normal_bam, min_depth=args.min_depth,
                       min_normal_depth=args.min_normal_depth, mapq=args.mapq, exclude_flags=args.exclude_flags,
                       reference=args.reference, threads=args.threads, targets=targets,
                       count_deletions=args.count_deletions, mate_overlap=args.mate_overlap, footprint_name=fp_name)
    prov = build_provenance("callable", res.parameters,
                            {"tumor_bam": args.bam, "normal_bam": args.normal_bam, "bed": bed_path,
                             "reference": args.reference}, **extra)
    cbp, fbp = res.callable_bp, res.footprint_bp
    rows = ((res.native_names.get(c, c), s, e) for c in res.contig_order for s, e in res.callable.get(c, ()))
    core.write_outputs(Path(args.output), rows, res.target_columns,
                       core.summary_json(cbp, fbp, res.parameters, res.inputs, res.contig_rows, prov), prov)
    print(f"callable {cbp} of {fbp} bp ({100 * cbp / fbp:.2f}%) at tumor depth >= "
          f"{args.min_depth}" + (f", normal depth >= {res.parameters['min_normal_depth']}"
                                 if args.normal_bam else "") + f"; wrote {args.output}.callable.*",
          file=sys.stderr)
    return 0
