"""``tmbcalc tmb``: tumor mutational burden from a somatic VCF/BCF or MAF.

With ``--calibrate-to REF`` the result is also harmonized to the reference scale REF
(:func:`tmbcalc.calibrate.harmonize_tmb`): raw and harmonized TMB side by side.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..checks import number_arg, numbers_arg
from ..errors import UsageError
from ..tmb.guards import DEFAULT_MIN_CALLABLE_FRACTION, DEFAULT_MIN_FOOTPRINT_MB

NAME = "tmb"
HELP = "tumor mutational burden (mutations/Mb) from a somatic VCF/BCF or MAF"
# API parameter -> option dest, for error messages (cli.in_option_names)
API_NAMES = {"sample_name": "sample", "panels_dirs": "panels_dir", "min_alt_reads": "min_alt",
             "max_normal_alt_reads": "max_normal_alt"}


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


_FRACTION_OR_OFF = number_arg(off=True, lo=0.0, hi=1.0)
_COUNT_OR_OFF = number_arg(integer=True, off=True, lo=0)
_COUNT = number_arg(integer=True, lo=0)
_POSITIVE = number_arg(integer=True, lo=1)


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT", nargs="+",
                   help="somatic VCF/VCF.gz/BCF or MAF (detected by its header); several call files of the same "
                        "tumor (e.g. Strelka2 SNVs and indels) are read as one, a variant in several counted once")
    p.add_argument("-o", "--output", metavar="PREFIX", required=True,
                   help="output prefix: writes PREFIX.tmb.json, PREFIX.tmb.tsv, PREFIX.variants.tsv.gz")
    g = p.add_argument_group("samples")
    g.add_argument("--tumor-sample", metavar="NAME", help="tumor sample (VCF column or MAF Tumor_Sample_Barcode; "
                   "a MAF without it gives one result per tumor)")
    g.add_argument("--normal-sample", metavar="NAME", help="matched-normal VCF column (default: auto-detected)")
    g.add_argument("--sample", metavar="NAME", help="report the tumor under this name instead of its VCF column / "
                   "MAF barcode (one tumor: a multi-tumor input needs --tumor-sample)")

    g = p.add_argument_group("denominator (footprint)")
    g.add_argument("--panel", metavar="ID", help="panel id from the registry (tmbcalc panels list)")
    g.add_argument("--panel-bed", metavar="BED", help="footprint BED of --panel when it is not shipped")
    g.add_argument("--genome-build", choices=("GRCh37", "GRCh38"), default=None,
                   help="genome build of the inputs (default: from header contig lengths / NCBI_Build, else from "
                        "the variant positions; a --panel uses its footprint for this build)")
    g.add_argument("--panels-dir", action="append", metavar="DIR", default=None,
                   help="extra folder of panel TOMLs for --panel (repeatable; also $TMBCALC_PANELS_DIR)")
    g.add_argument("--bed", metavar="BED", nargs="+", action="extend",
                   help="footprint BED(s); several are merged (overlaps counted once)")
    g.add_argument("--coding-bed", metavar="BED", help="intersect the footprint with these coding regions")
    g.add_argument("--exclude-bed", metavar="BED", nargs="+", action="extend",
                   help="subtract these regions from the footprint")
    g.add_argument("--callable-bed", metavar="BED", help="intersect the footprint with a callable-regions BED")
    g.add_argument("--tumor-bam", metavar="BAM", help="compute the callable footprint from this tumor BAM/CRAM")
    g.add_argument("--normal-bam", metavar="BAM", help="... and this matched-normal BAM/CRAM")
    g.add_argument("--min-coverage", metavar="N", type=_COUNT,
                   help="callable threshold: tumor read depth >= N at a base (BAM coverage; not the "
                        "variant read-depth rule --min-depth, which is also its default)")
    g.add_argument("--min-normal-coverage", metavar="N", type=_COUNT, help="callable threshold for the normal BAM")
    g.add_argument("--mapq", metavar="Q", type=number_arg(integer=True, lo=0, hi=255), default=20,
                   help="min mapping quality for BAM coverage (20)")
    g.add_argument("--reference", metavar="FASTA", help="reference FASTA (CRAM decoding; MAF indel anchor bases)")
    g.add_argument("--footprint-mb", metavar="MB", type=number_arg(lo=0.0, lo_open=True),
                   help="declared denominator in Mb (a vendor's TMB Mb or a genome-wide effective size): TMB = "
                        "eligible / MB; the measured footprint still selects the variants and is reported beside it")
    g.add_argument("--min-footprint-mb", metavar="MB", type=number_arg(lo=0.0), default=DEFAULT_MIN_FOOTPRINT_MB,
                   help=f"smaller footprints give status insufficient_footprint, not a call (default "
                        f"{DEFAULT_MIN_FOOTPRINT_MB}; FoCR phase II: panels need > 0.667 Mb)")
    g.add_argument("--min-callable-fraction", metavar="F", type=number_arg(lo=0.0, hi=1.0),
                   default=DEFAULT_MIN_CALLABLE_FRACTION,
                   help=f"a callable BED/BAM keeping less of the footprint gives insufficient_footprint "
                        f"(default {DEFAULT_MIN_CALLABLE_FRACTION})")

    _register_rules(p)


def _register_rules(p: argparse.ArgumentParser) -> None:
    """The counting-rule options (each overrides one profile field)."""
    g = p.add_argument_group("counting rules (override the profile; 'off' switches a threshold off)")
    g.add_argument("--profile", metavar="NAME|PATH",
                   help="counting profile: wes-merino (default), f1cdx-like, msk-impact-like, tso500-like, or a "
                        "TOML file; with --panel the panel's profile is the default")
    g.add_argument("--min-vaf", metavar="F", type=_FRACTION_OR_OFF, help="minimum tumor VAF (fraction)")
    g.add_argument("--max-vaf", metavar="F", type=_FRACTION_OR_OFF, help="maximum tumor VAF (fraction)")
    g.add_argument("--min-depth", metavar="N", type=_COUNT_OR_OFF, help="minimum tumor read depth at the variant")
    g.add_argument("--min-alt", metavar="N", type=_COUNT_OR_OFF, help="minimum tumor alt reads")
    g.add_argument("--max-normal-alt", metavar="N", type=_COUNT_OR_OFF, help="maximum matched-normal alt reads")
    g.add_argument("--min-normal-depth", metavar="N", type=_COUNT_OR_OFF, help="minimum matched-normal depth")
    g.add_argument("--max-pop-af", metavar="F", type=_FRACTION_OR_OFF, help="maximum population AF (fraction)")
    g.add_argument("--pop-af-fields", metavar="F1,F2", type=_csv,
                   help="INFO fields / MAF columns holding population AF (largest is used)")
    g.add_argument("--pop-af-vcf", metavar="VCF", help="population-AF resource VCF (joined on contig, pos, alleles)")
    g.add_argument("--variant-types", metavar="T1,T2", type=_csv, help="counted types: snv,mnv,indel (ins,del,complex)")
    g.add_argument("--consequences", metavar="C1,C2", type=_csv,
                   help="counted consequence classes or groups: nonsynonymous, coding, all, or class names")
    g.add_argument("--multiallelic", choices=("first", "all", "skip"), help="ALT alleles of multi-allelic records")
    g.add_argument("--csq-pick", choices=("most_severe", "canonical"), help="VEP/SnpEff consequence choice")
    g.add_argument("--germline-filter", choices=("off", "tumor_only", "always"),
                   help="tumor-only likely-germline heuristic (VAF window + population database)")
    g.add_argument("--filter-missing-is-pass", action="store_true", default=None,
                   help="count FILTER '.' (or a MAF without FILTER column) as PASS")
    g.add_argument("--missing-fields", choices=("relax", "error"), default="error",
                   help="a rule whose data a whole input lacks (e.g. a MAF without FILTER column, without read or "
                        "normal counts): refuse the input (error, default) or switch the rule off for the run "
                        "(relax; as 'calibrate simulate --missing-fields relax'; recorded in every output)")
    g.add_argument("--exclude-hotspots", metavar="FILE", nargs="+", action="extend",
                   help="hotspot list(s) to exclude (cancerhotspots TSV, chr/pos/ref/alt TSV, or VCF)")
    g.add_argument("--tumor-suppressor-bed", metavar="BED",
                   help="coding regions of tumor-suppressor genes: truncating variants (nonsense, frameshift) there "
                        "are excluded as known drivers (f1cdx-like requires it; see docs/calibration.md)")
    g.add_argument("--cutpoints", metavar="C1,C2", type=numbers_arg(lo=0.0),
                   help="TMB cut points (mut/Mb; default: panel/profile, 10)")
    p.add_argument("--threads", type=_POSITIVE, default=2,
                   help="threads: N-1 for BGZF decompression (overlapping parsing) and N+1 for report "
                        "formatting/compression (default 2)")
    p.add_argument("--chunk-rows", type=_POSITIVE, default=200_000, metavar="N",
                   help="VCF rows held in memory at a time (default 200000; results do not depend on it)")
    p.add_argument("--quiet", action="store_true", help="do not print the per-sample summary")
    p.add_argument("--plain-tsv", action="store_true",
                   help="write PREFIX.tmb.tsv and PREFIX.variants.tsv.gz without '#' lines (column header "
                        "first); the provenance stays in PREFIX.tmb.json")
    p.set_defaults(output_suffixes=(".tmb.json", ".tmb.tsv", ".variants.tsv.gz"))
    g = p.add_argument_group("harmonization (reference-scale TMB from a calibration model)")
    g.add_argument("--calibrate-to", metavar="REF", default=None,
                   help="also report TMB harmonized to reference REF (e.g. exome-wes-merino) with the bundled "
                        "model for --panel; the run must compute the panel value the model was fitted on: the "
                        "panel's TMB region (optionally only its callable bases: --callable-bed, --tumor-bam), "
                        "profile and lists (see 'tmbcalc calibrate models')")
    g.add_argument("--calibration-method", default=None,
                   choices=("ols", "deming", "huber-log", "isotonic", "anchored-log", "anchored-log2"),
                   help="calibration method (default: the panel's recommended model)")
    g.add_argument("--calibration-model", default=None, metavar="ID|PATH",
                   help="use this calibration model instead of looking one up")


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "min_vaf": args.min_vaf, "max_vaf": args.max_vaf, "min_depth": args.min_depth,
        "min_alt_reads": args.min_alt, "max_normal_alt_reads": args.max_normal_alt,
        "min_normal_depth": args.min_normal_depth, "max_pop_af": args.max_pop_af,
        "pop_af_fields": args.pop_af_fields, "variant_types": args.variant_types,
        "consequences": args.consequences, "multiallelic": args.multiallelic, "csq_pick": args.csq_pick,
        "germline_filter": args.germline_filter, "filter_missing_is_pass": args.filter_missing_is_pass,
    }


def _missing_fields(args: argparse.Namespace) -> dict[str, Any]:
    mode = getattr(args, "missing_fields", None)
    return {"missing_fields": mode} if mode else {}


def compute_from_args(args: argparse.Namespace):
    from ..tmb.compute import compute_tmb

    if args.threads < 1:
        raise UsageError("--threads must be >= 1")
    if getattr(args, "chunk_rows", 200_000) < 1:
        raise UsageError("--chunk-rows must be >= 1")
    from pathlib import Path

    out_dir = Path(args.output).parent
    # stream: the variants report is spooled next to the outputs while the input is read, so memory is
    # bounded by --chunk-rows, not by the input size
    spool_dir = out_dir if out_dir.is_dir() else None
    return compute_tmb(
        args.input[0] if len(args.input) == 1 else list(args.input), bed=args.bed, panel=args.panel, panel_bed=args.panel_bed, panels_dirs=args.panels_dir,
        tumor_sample=args.tumor_sample,
        normal_sample=args.normal_sample, profile=args.profile, coding_bed=args.coding_bed,
        exclude_bed=args.exclude_bed, callable_bed=args.callable_bed, tumor_bam=args.tumor_bam,
        normal_bam=args.normal_bam, min_coverage=args.min_coverage, min_normal_coverage=args.min_normal_coverage,
        mapq=args.mapq, reference=args.reference, exclude_hotspots=args.exclude_hotspots,
        tumor_suppressor_bed=args.tumor_suppressor_bed,
        pop_af_vcf=args.pop_af_vcf, cutpoints=args.cutpoints, threads=args.threads, keep_table=False,
        chunk_rows=getattr(args, "chunk_rows", 200_000), spool_dir=spool_dir, footprint_mb=args.footprint_mb,
        min_footprint_mb=args.min_footprint_mb, min_callable_fraction=args.min_callable_fraction,
        genome_build=getattr(args, "genome_build", None), sample_name=getattr(args, "sample", None),
        **_missing_fields(args), **overrides_from_args(args))


def run(args: argparse.Namespace) -> int:
    try:
        result = compute_from_args(args)
    except OSError as exc:
        if exc.filename is not None:
            raise
        # the variants report is formatted into a temporary file while the input is read
        from ..output import OutputError, write_problem

        raise OutputError(write_problem(exc), f"{args.output}.variants.tsv.gz") from None
    if args.calibrate_to or args.calibration_model:
        from ..calibrate.harmonization import harmonize_tmb

        harmonize_tmb(result, args.calibrate_to, method=args.calibration_method, model=args.calibration_model)
    paths = result.write(args.output, threads=args.threads, plain_tsv=args.plain_tsv)
    if not args.quiet:
        for s in result.samples[:20]:
            status = ", ".join(f">={k}: {v}" for k, v in s.status.items())
            print(f"{s.sample}\tTMB {s.tmb:.2f} mut/Mb ({s.eligible_variants} / {s.footprint_bp / 1e6:.4f} Mb; "
                  f"95% CI {s.ci95_low:.2f}-{s.ci95_high:.2f}; {status})", file=sys.stderr)
        if len(result.samples) > 20:
            print(f"... {len(result.samples) - 20} more samples", file=sys.stderr)
        if result.harmonization is not None:
            _print_harmonized(result)
        for w in result.warnings:
            print(f"tmbcalc: warning: {w}", file=sys.stderr)
        print("wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)
    return 0



def _print_harmonized(result) -> None:
    hz = result.harmonization
    print(f"harmonized to {hz.reference} with {hz.model}"
          + ("" if hz.recommended else f" (NOT recommended: {hz.recommendation})"), file=sys.stderr)
    for s in result.samples[:20]:
        h = s.harmonized
        eq = "".join(f"; equivocal at {c}" for c, v in h.equivocal.items() if v)
        print(f"{s.sample}\tTMB raw {h.raw:.2f} -> harmonized {h.value:.2f} mut/Mb "
              f"(95% PI {h.pi_low:.2f}-{h.pi_high:.2f}{'; extrapolated' if h.extrapolated else ''}{eq})",
              file=sys.stderr)
