"""``tmbcalc export``: files other tools read (MultiQC, DRAGEN-style metrics, cBioPortal).

Parsing and printing only; the writers are in :mod:`tmbcalc.report.interop` (see docs/report.md).
"""
from __future__ import annotations

import argparse
import sys

NAME = "export"
HELP = "write MultiQC custom content, DRAGEN-style TMB/MSI metrics or a cBioPortal clinical file"


def _results(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", metavar="RESULTS", nargs="+",
                   help="result files (PREFIX.tmb.json, .msi.json, .callable.json, ...), prefixes or folders")


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="export_format", metavar="FORMAT", parser_class=type(parser))
    m = sub.add_parser("multiqc", help="MultiQC custom content (general statistics + TMB bar plot)",
                       description="Write PREFIX.tmbcalc_generalstats_mqc.json and PREFIX.tmbcalc_tmb_mqc.json.")
    _results(m)
    m.add_argument("-o", "--output", metavar="PREFIX", required=True, help="output prefix, e.g. out/cohort")
    m.set_defaults(func=_run_multiqc)
    d = sub.add_parser("dragen", help="DRAGEN-style SAMPLE.tmb.metrics.csv and SAMPLE.microsat_output.json",
                       description="Write DRAGEN v4-style TMB metrics CSV and MSI JSON per sample.")
    _results(d)
    d.add_argument("-o", "--output", dest="out_dir", metavar="DIR", required=True,
                   help="output folder (created when missing)")
    d.set_defaults(func=_run_dragen)
    c = sub.add_parser("cbioportal", help="cBioPortal clinical sample file (TMB_NONSYNONYMOUS, MSI_SCORE, MSI_TYPE)",
                       description="Write a cBioPortal clinical sample attribute file for a cohort.")
    _results(c)
    c.add_argument("-o", "--output", metavar="FILE", required=True, help="e.g. data_clinical_sample.txt")
    c.add_argument("--patients", metavar="TSV", help="two columns without header: sample, patient "
                   "(default: PATIENT_ID = SAMPLE_ID)")
    c.set_defaults(func=_run_cbioportal)
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])


def _views(args: argparse.Namespace):
    from ..report.load import load_results

    return load_results(args.results)


def _done(paths) -> int:
    print("wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)
    return 0


def _run_multiqc(args: argparse.Namespace) -> int:
    from ..report.interop import write_multiqc

    return _done(write_multiqc(_views(args), args.output))


def _run_dragen(args: argparse.Namespace) -> int:
    from ..report.interop import write_dragen

    return _done(write_dragen(_views(args), args.out_dir))


def _read_patients(path: str) -> dict[str, str]:
    from ..errors import InputError, require_readable

    out: dict[str, str] = {}
    with open(require_readable(path, "patients TSV"), encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 2 or not all(parts):
                raise InputError(f"line {n}: expected two tab-separated columns (sample, patient)", path)
            out[parts[0]] = parts[1]
    return out


def _run_cbioportal(args: argparse.Namespace) -> int:
    from ..report.interop import write_cbioportal

    patients = _read_patients(args.patients) if args.patients else None
    return _done([write_cbioportal(_views(args), args.output, patients)])
