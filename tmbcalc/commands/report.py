"""``tmbcalc report``: a self-contained HTML report from result files (per sample, or a batch).

Parsing and printing only; the pages are built by :mod:`tmbcalc.report`.
"""
from __future__ import annotations

import argparse
import sys

NAME = "report"
HELP = "self-contained HTML report from tmbcalc result files (TMB, MSI, callable, harmonized)"


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", metavar="RESULTS", nargs="*",
                   help="result files (PREFIX.tmb.json, .variants.tsv.gz, .callable.json, .coverage.tsv, "
                        ".msi.json, .msi_loci.tsv.gz, .msi_dis), output prefixes or folders")
    p.add_argument("-o", "--output", metavar="HTML", required=True, help="the report file to write")
    p.add_argument("--batch", metavar="BATCH_JSON",
                   help="write the cohort page of a batch run from its batch.json instead")
    p.add_argument("--tumor-type", metavar="CODE",
                   help="TCGA study code (e.g. COAD, LUAD, SKCM) to place the TMB in its TCGA distribution")
    p.add_argument("--sample", metavar="NAME", action="append",
                   help="only this sample (repeatable; e.g. one tumour of a MAF cohort)")
    p.add_argument("--title", metavar="TEXT", help="page title")


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..report.render import write_batch_report, write_report

    if args.batch and args.results:
        raise UsageError("give either RESULTS or --batch, not both")
    if args.batch:
        path = write_batch_report(args.batch, args.output, tumor_type=args.tumor_type, title=args.title)
    elif args.results:
        path = write_report(args.results, args.output, tumor_type=args.tumor_type, title=args.title,
                            samples=args.sample)
    else:
        raise UsageError("give RESULTS (files, prefixes or folders) or --batch BATCH_JSON")
    print(f"wrote {path}", file=sys.stderr)
    return 0
