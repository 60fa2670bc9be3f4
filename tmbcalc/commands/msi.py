"""``tmbcalc msi``: microsatellite scan, normal baseline, MSI scoring (and MSI from mutations).

Parsing and printing only; the work is done by :mod:`tmbcalc.msi`.
"""
from __future__ import annotations

import argparse
import json
import sys

from ..checks import number_arg

NAME = "msi"
HELP = "microsatellite instability: scan a reference, build a normal baseline, score a tumor"
# API parameter -> option dest, for error messages (cli.in_option_names)
API_NAMES = {"min_copies": "min_repeat_copies", "repeats_bed": "repeats", "min_fraction": "min_unstable_fraction",
             "min_alt_reads": "min_alt", "normal_bams": "normal_bams"}


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
    sub = parser.add_subparsers(dest="msi_command", metavar="SUBCOMMAND", parser_class=type(parser))
    for add in (_add_scan, _add_baseline, _add_score, _add_mutations):
        add(sub)
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])


def _add_scan(sub: argparse._SubParsersAction) -> None:
    from ..msi import defaults as d

    s = sub.add_parser("scan", help="find homopolymers and 2-6 bp repeats in a reference FASTA",
                       description="Find microsatellites in a reference FASTA (plain, gzip or bgzip) and "
                                   "write a loci file.")
    s.add_argument("--reference", required=True, metavar="REF.fa", help="reference FASTA (.fa, .fa.gz, bgzip)")
    s.add_argument("--bed", metavar="FOOTPRINT", help="keep only repeats lying fully inside these regions")
    s.add_argument("--min-homopolymer", type=number_arg(integer=True, lo=1), default=d.MIN_HOMOPOLYMER, metavar="BP",
                   help=f"minimum homopolymer length in bp (default {d.MIN_HOMOPOLYMER})")
    s.add_argument("--max-homopolymer", type=number_arg(integer=True, lo=1), default=d.MAX_HOMOPOLYMER, metavar="BP",
                   help=f"longer homopolymers are not reported (default {d.MAX_HOMOPOLYMER})")
    s.add_argument("--min-repeat-copies", type=number_arg(integer=True, lo=1), default=d.MIN_COPIES, metavar="N",
                   help=f"minimum copies of a 2-6 bp unit (default {d.MIN_COPIES})")
    s.add_argument("--max-repeat-length", type=number_arg(integer=True, lo=1), default=d.MAX_REPEAT_LENGTH, metavar="BP",
                   help=f"longer 2-6 bp repeats are not reported (default {d.MAX_REPEAT_LENGTH})")
    s.add_argument("--max-unit", type=int, default=6, choices=range(1, 7), metavar="BP",
                   help="longest repeat unit (1-6, default 6; 1 = homopolymers only)")
    s.add_argument("--flank", type=number_arg(integer=True, lo=0), default=d.FLANK, metavar="BP",
                   help=f"flank bases stored each side (default {d.FLANK})")
    s.add_argument("-o", "--output", required=True, metavar="LOCI", help="output loci file (.gz = gzip)")
    s.set_defaults(func=_run_scan, output_suffixes=("",))


def _add_baseline(sub: argparse._SubParsersAction) -> None:
    from ..msi import defaults as d

    b = sub.add_parser("baseline", help="per-locus statistics over normal samples (for tumor-only scoring)",
                       description="Profile normal BAM/CRAMs at the loci and write a baseline.")
    b.add_argument("normal_bams", nargs="+", metavar="NORMAL.bam")
    b.add_argument("--loci", required=True, metavar="LOCI")
    b.add_argument("--min-coverage", type=number_arg(integer=True, lo=1), default=d.MIN_COVERAGE, metavar="N",
                   help=f"a normal supports a locus when >= N reads are measured there "
                        f"(default {d.MIN_COVERAGE})")
    b.add_argument("--min-support", type=number_arg(integer=True, lo=1), default=d.MIN_SUPPORT, metavar="N",
                   help=f"tumor-only scoring uses loci supported by >= N normals (default {d.MIN_SUPPORT})")
    _add_profile_options(b)
    b.add_argument("-o", "--output", required=True, metavar="BASELINE", help="output baseline file (.tsv[.gz])")
    b.set_defaults(func=_run_baseline, output_suffixes=("",))


def _add_score(sub: argparse._SubParsersAction) -> None:
    from ..msi import call
    from ..msi import defaults as d

    c = sub.add_parser("score", help="score a tumor BAM against its normal or a baseline",
                       description="MSI call of a tumor: paired (--normal-bam) or tumor-only (--baseline).")
    c.add_argument("tumor_bam", metavar="TUMOR.bam")
    mode = c.add_mutually_exclusive_group(required=True)
    mode.add_argument("--normal-bam", metavar="NORMAL.bam", help="matched normal (paired mode)")
    mode.add_argument("--baseline", metavar="BASELINE", help="baseline from 'msi baseline' (tumor-only mode)")
    c.add_argument("--loci", required=True, metavar="LOCI", help="loci file ('msi scan') or an MSIsensor-pro "
                   "scan site list")
    c.add_argument("--sample", metavar="NAME", help="sample name in outputs (default: BAM read group SM or file name)")
    c.add_argument("--min-coverage", type=number_arg(integer=True, lo=1), default=d.MIN_COVERAGE, metavar="N",
                   help=f"a locus is evaluable when tumor (and normal) have >= N measured reads "
                        f"(default {d.MIN_COVERAGE})")
    c.add_argument("--alpha", type=number_arg(lo=0.0, hi=1.0, lo_open=True, hi_open=True), default=d.ALPHA, metavar="Q",
                   help=f"FDR (Benjamini-Hochberg q) below which a single locus is called unstable (default {d.ALPHA})")
    c.add_argument("--test", choices=("contraction", "chisq", "excess"), default="contraction",
                   help="per-locus test: one-sided contraction beyond the normal's stutter (default; 'excess' "
                        "is its former name) or chi-square on the whole length distribution (paired only)")
    g = c.add_argument_group("sample call (docs/msi.md section 3)")
    g.add_argument("--msi-alpha", type=number_arg(lo=0.0, hi=1.0, lo_open=True, hi_open=True), default=call.MSI_ALPHA, metavar="P",
                   help=f"MSI-H when the sample statistic's p is below P (false-positive rate per MSS sample; "
                        f"default {call.MSI_ALPHA})")
    g.add_argument("--mss-alpha", type=number_arg(lo=0.0, hi=1.0, lo_open=True, hi_open=True), default=call.MSS_ALPHA, metavar="P",
                   help=f"MSS when p >= P (default {call.MSS_ALPHA}); between the two: indeterminate")
    g.add_argument("--min-unstable-fraction", type=number_arg(lo=0.0, hi=1.0), default=call.MIN_FRACTION, metavar="F",
                   help=f"smallest unstable read fraction called MSI-H (default {call.MIN_FRACTION})")
    g.add_argument("--min-evaluable", type=number_arg(integer=True, lo=1), metavar="N",
                   help="fewer evaluable loci give 'indeterminate' (default: half the loci, at most 30)")
    g.add_argument("--markers", action="store_true",
                   help="marker-panel call (1-10 named markers): MSI-H when >= --marker-fraction of the markers "
                        "are unstable (Bethesda: 2 of 5)")
    g.add_argument("--marker-fraction", type=number_arg(lo=0.0, hi=1.0, lo_open=True), default=call.MARKER_FRACTION, metavar="F",
                   help=f"fraction of markers unstable for MSI-H with --markers (default {call.MARKER_FRACTION})")
    _add_profile_options(c)
    c.add_argument("--write-dis", action="store_true",
                   help="also write PREFIX.msi_dis (histograms in MSIsensor's _dis layout)")
    c.add_argument("-o", "--output", required=True, metavar="PREFIX",
                   help="writes PREFIX.msi.json, PREFIX.msi_loci.tsv.gz, PREFIX.msi_msisensor.tsv")
    c.set_defaults(func=_run_score, output_suffixes=(".msi.json", ".msi_loci.tsv.gz", ".msi_msisensor.tsv",
                                                     ".msi_dis"))


def _add_mutations(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser("mutations", help="MSI from somatic calls: repeat indels per Mb (MSIseq-style)",
                       description="MSI from somatic calls (MSIseq-style, Huang et al. 2015): indels in simple "
                                   "repeats per Mb of footprint with the published rule (MSI-H if > 0.395), or, "
                                   "when no repeats cover the input, single-base deletions per Mb with the fitted rule "
                                   "(calibration/msi_mutations_msiseq_tcga_v3.json). Calls are counted by tmb's "
                                   "eligibility rules. Writes PREFIX.msi.json and PREFIX.msi.tsv.")
    m.add_argument("input", metavar="INPUT", help="somatic VCF/VCF.gz/BCF or MAF (detected by its header)")
    rep = m.add_mutually_exclusive_group()
    rep.add_argument("--loci", metavar="LOCI", help="simple repeats from a loci file ('tmbcalc msi scan')")
    rep.add_argument("--repeats", metavar="BED", help="simple repeats from a BED file")
    fp = m.add_argument_group("denominator (exactly one)")
    fp.add_argument("--panel", metavar="ID", help="panel id from the registry; variants outside it are ignored")
    fp.add_argument("--panel-bed", metavar="BED", help="footprint BED of --panel when it is not shipped")
    m.add_argument("--genome-build", choices=("GRCh37", "GRCh38"), default=None,
                   help="build whose --panel footprint is used (default: from the input's header or, for a "
                        "panel with several builds, the variant positions)")
    fp.add_argument("--bed", metavar="BED", help="footprint BED; variants outside it are ignored")
    fp.add_argument("--footprint-mb", metavar="MB", type=number_arg(lo=0.0, lo_open=True),
                    help="captured size in Mb, every variant counted (MSIseq's seq.len, e.g. 38 for TCGA exomes)")
    m.add_argument("--sample", metavar="NAME", help="report the tumor under this name instead of its VCF column / "
                   "MAF barcode (one tumor: a multi-tumor input needs --tumor-sample)")
    m.add_argument("--tumor-sample", metavar="NAME",
                   help="tumor sample (VCF column or one MAF Tumor_Sample_Barcode; default: all MAF samples / "
                        "the VCF's tumor)")
    g = m.add_argument_group("counting rules (tmb's eligibility rules; default profile: PASS SNVs and indels)")
    g.add_argument("--profile", metavar="NAME|PATH", help="a tmb counting profile instead of the default")
    g.add_argument("--filter-missing-is-pass", action="store_true", default=None,
                   help="FILTER '.' (or a MAF without FILTER column) counts as PASS")
    g.add_argument("--include-filtered", action="store_true", help="count calls whatever their FILTER")
    g.add_argument("--min-depth", type=number_arg(integer=True, lo=0), metavar="N", help="minimum tumor read depth")
    g.add_argument("--min-vaf", type=number_arg(lo=0.0, hi=1.0), metavar="F", help="minimum tumor VAF (fraction)")
    g.add_argument("--min-alt", type=number_arg(integer=True, lo=0), metavar="N", help="minimum tumor alt reads")
    m.add_argument("--rule", metavar="JSON", help="fitted indel rule (default: the bundled "
                   "calibration/msi_mutations_msiseq_tcga_v3.json)")
    m.add_argument("--reference", metavar="FASTA", help="reference FASTA (MAF indel anchor bases)")
    m.add_argument("--threads", type=number_arg(integer=True, lo=1), default=1, metavar="N", help="VCF decompression threads")
    m.add_argument("-o", "--output", required=True, metavar="PREFIX", help="writes PREFIX.msi.json, PREFIX.msi.tsv")
    m.set_defaults(func=_run_mutations, output_suffixes=(".msi.json", ".msi.tsv"))


def _profile_kwargs(args: argparse.Namespace) -> dict:
    return {"reference": args.reference, "mapq": args.mapq, "exclude_flags": args.exclude_flags,
            "anchor": args.anchor, "threads": args.threads, "mate_dedup": not args.count_both_mates}


def _run_scan(args: argparse.Namespace) -> int:
    from ..msi.scan import msi_scan

    res = msi_scan(args.reference, footprint=args.bed, min_homopolymer=args.min_homopolymer,
                   max_homopolymer=args.max_homopolymer, min_copies=args.min_repeat_copies,
                   max_repeat_length=args.max_repeat_length, max_unit=args.max_unit, flank=args.flank)
    res.write(args.output)
    print(f"{len(res.loci)} loci ({res.n_homopolymers} homopolymers, {len(res.loci) - res.n_homopolymers} "
          f"2-{args.max_unit} bp repeats) in {res.bases_scanned:,} bp scanned -> {args.output}",
          file=sys.stderr)
    return 0


def _run_baseline(args: argparse.Namespace) -> int:
    from ..msi.baseline import msi_baseline

    res = msi_baseline(args.loci, args.normal_bams, min_coverage=args.min_coverage,
                       min_support=args.min_support, **_profile_kwargs(args))
    res.write(args.output)
    print(f"baseline of {len(args.normal_bams)} normals: {res.n_supported} of {len(res.loci)} loci "
          f"supported by >= {res.min_support} normals -> {args.output}", file=sys.stderr)
    return 0


def _run_score(args: argparse.Namespace) -> int:
    from ..msi.score import msi_score

    res = msi_score(args.tumor_bam, args.loci, normal_bam=args.normal_bam, baseline=args.baseline,
                    sample=args.sample, min_coverage=args.min_coverage, alpha=args.alpha, test=args.test,
                    msi_alpha=args.msi_alpha, mss_alpha=args.mss_alpha, min_fraction=args.min_unstable_fraction,
                    min_evaluable=args.min_evaluable, markers=args.markers, marker_fraction=args.marker_fraction,
                    **_profile_kwargs(args))
    res.write(args.output, dis=args.write_dis)
    for w in res.to_dict()["warnings"]:
        print(f"tmbcalc: warning: {w}", file=sys.stderr)
    print(json.dumps({"sample": res.sample, "mode": res.mode, "status": res.status,
                      "unstable_read_fraction": res.statistic.get("unstable_read_fraction"),
                      "p": res.statistic.get("p"), "msi_score": res.msi_score,
                      "evaluable_loci": res.evaluable_loci, "unstable_loci": res.unstable_loci}))
    return 0


def _run_mutations(args: argparse.Namespace) -> int:
    from ..msi.mutations import msi_mutations

    over = {"filter_missing_is_pass": args.filter_missing_is_pass, "min_depth": args.min_depth,
            "min_vaf": args.min_vaf, "min_alt_reads": args.min_alt}
    res = msi_mutations(args.input, loci=args.loci, repeats_bed=args.repeats, panel=args.panel,
                        bed=args.bed, panel_bed=args.panel_bed, footprint_mb=args.footprint_mb,
                        tumor_sample=args.tumor_sample, profile=args.profile,
                        profile_overrides={k: v for k, v in over.items() if v is not None},
                        include_filtered=args.include_filtered, rule=args.rule, reference=args.reference,
                        threads=args.threads, genome_build=args.genome_build)
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
        print(json.dumps({"sample": s.sample, "mode": "mutations", "status": s.status, "rule_used": s.rule_used,
                          "indels_per_mb": round(s.indels_per_mb, 4),
                          "deletions_1bp_per_mb": round(s.deletions_1bp_per_mb, 4),
                          "repeat_indels_per_mb": None if s.repeat_indels_per_mb is None
                          else round(s.repeat_indels_per_mb, 4)}))
    else:
        n = sum(s.status == "MSI-H" for s in res.samples)
        print(f"{len(res.samples)} samples: {n} MSI-H ({res.rule_used}) -> {args.output}.msi.json/.msi.tsv",
              file=sys.stderr)
    return 0
