"""``tmbcalc batch SHEET -o OUTDIR``: score a whole run or cohort from a sample sheet.

Parsing and printing only; the work is :func:`tmbcalc.batch.run_batch`.  Exit codes: 0 when
every sample succeeded (computed or reused), 1 when some failed (the summary names them), 2 when
the sheet is invalid (every problem listed; nothing run).  See docs/scaling.md.
"""
from __future__ import annotations

import argparse
import sys

NAME = "batch"
HELP = "score every sample of a sample sheet (TMB, MSI, harmonization) with resume and progress"


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("sheet", metavar="SHEET", help="sample sheet, TSV or CSV with a header: sample, calls, "
                   "tumor_bam, normal_bam, panel, bed, profile, loci, baseline, msi_normal_bam, "
                   "calibrate_to, and option columns named like the tmb/msi flags (docs/scaling.md)")
    p.add_argument("-o", "--output", dest="out_dir", metavar="OUTDIR", required=True,
                   help="output folder (created): OUTDIR/SAMPLE/ per sample, OUTDIR/batch.tsv, batch.json, "
                        "batch.log")
    ex = p.add_argument_group("execution")
    ex.add_argument("--workers", type=int, metavar="N", default=None,
                    help="local worker processes, each scoring one sample at a time (default: CPU count; "
                         "0 = in this process)")
    ex.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask distributed cluster "
                    "(tcp://HOST:PORT); workers must see the inputs and OUTDIR at the same paths")
    ex.add_argument("--dask-workers", type=int, metavar="N", help="run on a local Dask cluster of N worker "
                    "processes")
    ex.add_argument("--attempts", type=int, default=2, metavar="N",
                    help="tries of a sample whose worker process dies (killed, out of memory) before it is "
                         "recorded as failed (default 2)")
    p.add_argument("--force", action="store_true", help="recompute every sample, even those whose outputs "
                   "are up to date")
    p.add_argument("--skip-invalid", action="store_true", help="record rows that fail validation as failed "
                   "and run the others (default: refuse the sheet, exit 2)")
    p.add_argument("--aggregate-only", action="store_true", help="run nothing: summarize outputs already in "
                   "OUTDIR (e.g. written by workflows/Snakefile) into batch.tsv/json")
    p.add_argument("--quiet", action="store_true", help="no progress bar or log lines (batch.log is still "
                   "written)")


def run(args: argparse.Namespace) -> int:
    from ..batch import run_batch
    from ..errors import UsageError

    if args.attempts < 1:
        raise UsageError("--attempts must be >= 1")
    if args.dask_workers is not None and args.dask_workers < 1:
        raise UsageError("--dask-workers must be >= 1")
    if args.workers is not None and (args.scheduler or args.dask_workers):
        raise UsageError("--workers is for the local pool; with Dask give --dask-workers or --scheduler")
    res = run_batch(args.sheet, args.out_dir, workers=args.workers, scheduler=args.scheduler,
                    dask_workers=args.dask_workers, force=args.force, attempts=args.attempts,
                    skip_invalid=args.skip_invalid, aggregate_only=args.aggregate_only, quiet=args.quiet)
    if res.failed:
        names = ", ".join(r["sample"] for r in res.failed[:20])
        print(f"tmbcalc: error: {len(res.failed)} of {len(res.rows)} samples failed ({names}"
              f"{' ...' if len(res.failed) > 20 else ''}); see {res.outputs[0]}", file=sys.stderr)
    return res.exit_code
