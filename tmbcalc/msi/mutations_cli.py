"""``tmbcalc msi mutations``: MSI from somatic calls (parsing and printing only).

Registered by :mod:`tmbcalc.commands.msi` as a nested subcommand; the work is done by
:func:`tmbcalc.msi.mutations.msi_mutations`.
"""
from __future__ import annotations

import argparse
import json
import sys

from ..checks import number_arg


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = ("MSI from somatic calls (MSIseq-style, Huang et al. 2015): indels in simple "
                          "repeats per Mb of footprint with the published rule (MSI-H if > 0.395), or, "
                          "when the repeats do not cover the input, an indel rule fitted on labelled "
                          "TCGA tumours. Writes PREFIX.msi_mutations.json and .tsv.")
    parser.add_argument("input", metavar="INPUT", help="somatic VCF/VCF.gz/BCF or MAF (detected by its header)")
    rep = parser.add_mutually_exclusive_group()
    rep.add_argument("--loci", metavar="LOCI", help="simple repeats from a loci file ('tmbcalc msi scan')")
    rep.add_argument("--repeats", metavar="BED", help="simple repeats from a BED file")
    fp = parser.add_argument_group("denominator (exactly one)")
    fp.add_argument("--panel", metavar="ID", help="panel id from the registry; variants outside it are ignored")
    fp.add_argument("--panel-bed", metavar="BED", help="footprint BED of --panel when it is not shipped")
    parser.add_argument("--genome-build", choices=("GRCh37", "GRCh38"), default=None,
                        help="build whose --panel footprint is used (default: from the input's header or, for a "
                             "panel with several builds, the variant positions)")
    fp.add_argument("--bed", metavar="BED", help="footprint BED; variants outside it are ignored")
    fp.add_argument("--footprint-mb", metavar="MB", type=number_arg(lo=0.0, lo_open=True),
                    help="captured size in Mb, every variant counted (MSIseq's seq.len, e.g. 38 for "
                         "TCGA exomes)")
    parser.add_argument("--tumor-sample", metavar="NAME",
                        help="tumor sample (VCF column or one MAF Tumor_Sample_Barcode; default: all "
                             "MAF samples / the VCF's tumor)")
    parser.add_argument("--sample", metavar="NAME", help="report the tumor under this name instead of its "
                        "VCF column / MAF barcode (one tumor: a multi-tumor input needs --tumor-sample)")
    parser.add_argument("--include-filtered", action="store_true",
                        help="also count calls whose FILTER is not PASS or '.'")
    parser.add_argument("--rule", metavar="JSON", help="fitted indel rule (default: the bundled "
                        "calibration/msi_mutations_msiseq_tcga_v1.json)")
    parser.add_argument("--reference", metavar="FASTA", help="reference FASTA (MAF indel anchor bases)")
    parser.add_argument("--threads", type=number_arg(integer=True, lo=1), default=1, metavar="N", help="VCF decompression threads")
    parser.add_argument("-o", "--output", required=True, metavar="PREFIX")
    parser.set_defaults(func=run, output_suffixes=(".msi_mutations.json", ".msi_mutations.tsv"))


def run(args: argparse.Namespace) -> int:
    from .mutations import msi_mutations

    res = msi_mutations(args.input, loci=args.loci, repeats_bed=args.repeats, panel=args.panel,
                        bed=args.bed, panel_bed=args.panel_bed, footprint_mb=args.footprint_mb,
                        tumor_sample=args.tumor_sample, include_filtered=args.include_filtered,
                        rule=args.rule, reference=args.reference, threads=args.threads,
                        genome_build=args.genome_build)
    if args.sample is not None:
        if len(res.samples) != 1:
            from ..errors import UsageError

            raise UsageError(f"--sample names one tumor but {args.input} holds {len(res.samples)}; "
                             "pick one with --tumor-sample")
        res.samples[0].sample = args.sample
    res.write(args.output)
    for w in res.warnings:
        print(f"tmbcalc: warning: {w}", file=sys.stderr)
    if len(res.samples) == 1:
        s = res.samples[0]
        print(json.dumps({"sample": s.sample, "status": s.status, "rule_used": s.rule_used,
                          "indels_per_mb": round(s.indels_per_mb, 4),
                          "repeat_indels_per_mb": None if s.repeat_indels_per_mb is None
                          else round(s.repeat_indels_per_mb, 4)}))
    else:
        n = sum(s.status == "MSI-H" for s in res.samples)
        print(f"{len(res.samples)} samples: {n} MSI-H ({res.rule_used}) -> {args.output}.msi_mutations.json/.tsv",
              file=sys.stderr)
    return 0
