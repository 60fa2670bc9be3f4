"""``tmbcalc panels``: list, show, validate and build panel definitions."""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from ..checks import number_arg
from ..errors import InputError, TmbcalcError, UsageError

NAME = "panels"
HELP = "panel registry: list, show, validate definitions, build a footprint BED from genes + exons"

BUILD_EPILOG = """\
CDS vs UTR: --cds-only (default) keeps coding sequence only, the TMB region of most panels;
--include-utr keeps whole exons (5'/3' UTRs included).  What a table can give:
  gtf          CDS features (stop codon excluded) or exon features        -> either
  genepred     UCSC refGene/genePred; exons clipped to cdsStart..cdsEnd   -> either
  bed          4th column gene name; 'GENE:CDS' / 'SYM;HGNC;ENSG;ENST;CDS' marked rows (UCLA,
               UMCCR) keep CDS/stop_codon/start_codon rows                -> CDS only;
               unmarked names ('GENE')                                    -> whole exons only
  exomedepth   ExomeDepth exons.hg19 (1-based; coding parts of exons incl. stop codon)
                                                                          -> CDS only
  spliceai     SpliceAI/GENCODE canonical transcripts (exon lists)       -> whole exons only
Asking a table for what it cannot give is an error (exit 2).
--pad N adds N bp on both sides of every interval before merging (e.g. 2 = canonical splice
sites; the footprint then also counts those bases).
--exons may be repeated: each gene is taken from the first table that has it.  --aliases maps a
gene-list symbol to table symbols (renamed genes).  Genes found in no table are reported on
stderr and in PREFIX.genes.tsv; --require-all-genes turns that into an error.
Outputs: PREFIX.bed (chrom, start, end, gene; per-gene merged, sorted), PREFIX.genes.tsv,
PREFIX.json (summary + provenance)."""


def _dirs(args) -> list[str] | None:
    return getattr(args, "panels_dir", None) or None


def add_panel_options(parser: argparse.ArgumentParser, *, with_bed: bool = True) -> None:
    """Options other commands may reuse to accept a registry panel."""
    parser.add_argument("--panels-dir", action="append", metavar="DIR", default=None,
                        help="extra folder of panel TOMLs (repeatable; also $TMBCALC_PANELS_DIR)")
    if with_bed:
        parser.add_argument("--panel-bed", metavar="BED", default=None,
                            help="footprint BED of the panel when it is not shipped (sha256-checked)")


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="panels_command", metavar="SUBCOMMAND")

    p = sub.add_parser("list", help="table of registered panels")
    add_panel_options(p, with_bed=False)
    p.add_argument("--format", choices=("table", "tsv", "json"), default="table")
    p.set_defaults(func=run_list)

    p = sub.add_parser("show", help="every field of one panel")
    p.add_argument("panel", metavar="ID", help="panel id (or path of a panel TOML)")
    add_panel_options(p)
    p.add_argument("--build", default=None, help="footprint build to report (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run_show)

    p = sub.add_parser("validate", help="check panel TOMLs: keys, types, profile, builds, BEDs, sha256")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="TOML files or folders (default: every registered panel)")
    add_panel_options(p, with_bed=False)
    p.set_defaults(func=run_validate)

    p = sub.add_parser("build", help="footprint BED from a gene list and exon table(s)",
                       epilog=BUILD_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--genes", required=True, metavar="FILE", help="gene symbols, one per line")
    p.add_argument("--exons", required=True, action="append", metavar="TABLE",
                   help="exon table (repeatable; first table having a gene wins)")
    p.add_argument("--exon-format", default="auto",
                   choices=("auto", "bed", "exomedepth", "spliceai", "genepred", "gtf"),
                   help="exon table format (default auto: detected from the first data line)")
    p.add_argument("--build", required=True, choices=("GRCh37", "GRCh38"), help="genome build of the tables")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--cds-only", dest="cds_only", action="store_true", default=True,
                      help="coding sequence only (default)")
    mode.add_argument("--include-utr", dest="cds_only", action="store_false",
                      help="whole exons including UTRs")
    p.add_argument("--pad", type=number_arg(integer=True, lo=0), default=0, metavar="N", help="bp added to both sides (default 0)")
    p.add_argument("--aliases", metavar="FILE", default=None,
                   help="'list_symbol<TAB>table_symbol[,...]' lines for renamed genes")
    p.add_argument("--require-all-genes", action="store_true",
                   help="fail (no output) when a gene is missing from the tables")
    p.add_argument("-o", "--output", required=True, metavar="PREFIX", help="output prefix")
    p.set_defaults(func=run_build, output_suffixes=(".bed", ".genes.tsv", ".json"))


def run(args) -> int:  # bare `tmbcalc panels`
    raise UsageError("panels: choose a subcommand: list, show, validate, build")


# -- list -------------------------------------------------------------------------------------------
def _fmt_mb(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _bed_status(panel, build: str) -> str:
    spec = panel.footprints[build]
    if panel.bed_path(build) is None:
        return "missing"
    return "shipped" if spec.shipped else "supplied"


def panel_rows(panels) -> list[dict]:
    rows = []
    for p in panels:
        fp = {}
        status = {}
        for b in p.builds:
            status[b] = _bed_status(p, b)
            fp[b] = None if status[b] == "missing" else p.footprint(b).total_mb()
        rows.append({"id": p.id, "version": p.version, "builds": p.builds, "genes": p.gene_count,
                     "footprint_mb": fp, "declared_tmb_mb": p.declared_tmb_mb, "profile": p.profile,
                     "cutpoints": p.cutpoints, "bed": status})
    return rows


def run_list(args) -> int:
    from ..panels.registry import list_panels

    rows = panel_rows(list_panels(_dirs(args)))
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    header = ["id", "version", "builds", "genes", "footprint_mb", "declared_tmb_mb", "profile",
              "cutpoints", "bed"]
    table = []
    for r in rows:
        table.append([
            r["id"], r["version"], ",".join(r["builds"]), str(r["genes"]),
            ",".join(f"{b}:{_fmt_mb(v)}" for b, v in r["footprint_mb"].items()),
            _fmt_mb(r["declared_tmb_mb"]), r["profile"],
            ",".join(f"{c:g}" for c in r["cutpoints"]) or "-",
            ",".join(f"{b}:{v}" for b, v in r["bed"].items()),
        ])
    if args.format == "tsv":
        print("\t".join(header))
        for t in table:
            print("\t".join(t))
        return 0
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    for t in table:
        print("  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip())
    return 0


# -- show -------------------------------------------------------------------------------------------
def run_show(args) -> int:
    from ..panels.registry import load_panel

    p = load_panel(args.panel, _dirs(args))
    builds = p.builds if args.build is None else [args.build]
    if args.build is not None and args.build not in p.builds:
        raise InputError(f"panel '{p.id}' has no footprint for build {args.build} "
                         f"(available: {', '.join(p.builds)})", p.path)
    if args.panel_bed and len(builds) > 1:
        raise UsageError(f"--panel-bed: panel '{p.id}' has several builds ({', '.join(p.builds)}); "
                         f"say which with --build")
    footprints = {}
    for b in builds:
        spec = p.footprints[b]
        bed = Path(args.panel_bed) if args.panel_bed else p.bed_path(b)
        mb = p.footprint(b, bed=bed).total_mb() if bed is not None else None
        footprints[b] = {"bed": spec.bed, "shipped": spec.shipped, "path": str(bed) if bed else None,
                         "footprint_mb": mb, "registered_mb": spec.mb, "sha256": spec.sha256,
                         "obtain": spec.obtain or None}
    info = {"id": p.id, "name": p.name, "version": p.version, "vendor": p.vendor,
            "builds": p.builds, "profile": p.profile, "declared_tmb_mb": p.declared_tmb_mb,
            "declared_tmb_mb_source": p.declared_tmb_mb_source or None, "cutpoints": p.cutpoints,
            "cutpoint_sources": p.cutpoint_sources, "citation": p.citation,
            "footprint_source": p.footprint_source, "footprint_licence": p.footprint_licence,
            "footprint_method": p.footprint_method, "approximation": p.approximation or None,
            "notes": p.notes or None, "gene_source": p.gene_source or None,
            "gene_count": p.gene_count, "genes": p.genes, "definition": str(p.path),
            "footprints": footprints}
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    wrap = textwrap.TextWrapper(width=100, subsequent_indent=" " * 24)
    for k, v in info.items():
        if k in ("footprints", "genes") or v is None or v == []:
            continue
        if isinstance(v, list):
            v = "; ".join(f"{x:g}" if isinstance(x, float) else str(x) for x in v)
        elif isinstance(v, float):
            v = f"{v:g}"
        print(wrap.fill(f"{k + ':':<23} {v}"))
    for b, f in footprints.items():
        where = f["path"] or f"not available ({'shipped' if f['shipped'] else 'not shipped'}: {f['bed']})"
        print(f"footprint {b}:{'':<10} {_fmt_mb(f['footprint_mb'])} Mb (registered "
              f"{_fmt_mb(f['registered_mb'])} Mb) {where}")
        if f["path"] is None and f["obtain"]:
            print(wrap.fill(f"{'  obtain:':<23} {f['obtain']}"))
    if p.genes:
        print(textwrap.fill(" ".join(p.genes), width=100, initial_indent="genes:                  ",
                            subsequent_indent=" " * 24))
    return 0


# -- validate --------------------------------------------------------------------------------------
def _expand(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for s in paths:
        p = Path(s)
        if p.is_dir():
            found = sorted(p.glob("*.toml"))
            if not found:
                raise InputError("folder holds no panel TOML files", p)
            out.extend(found)
        elif not p.exists():
            raise InputError("panel definition does not exist", p)
        else:
            out.append(p)
    return out


def run_validate(args) -> int:
    from ..panels.registry import search_dirs, validate_panel_file

    if args.paths:
        files = _expand(args.paths)
    else:
        files = [t for d in search_dirs(_dirs(args)) if d.is_dir() for t in sorted(d.glob("*.toml"))]
    failed = 0
    for f in files:
        try:
            report = validate_panel_file(f)
        except TmbcalcError as exc:
            failed += 1
            print(f"tmbcalc: error: {exc}", file=sys.stderr)
            continue
        print(f"ok\t{f}\t{report}")
    if failed:
        print(f"tmbcalc: error: {failed} of {len(files)} panel definitions failed validation",
              file=sys.stderr)
        return 1
    return 0


# -- build ------------------------------------------------------------------------------------------
def run_build(args) -> int:
    from ..panels.build import build_panel

    res = build_panel(args.genes, args.exons, build=args.build, exon_format=args.exon_format,
                      cds_only=args.cds_only, pad=args.pad, aliases_file=args.aliases,
                      require_all_genes=args.require_all_genes)
    res.write(args.output)
    s = res.to_dict()["summary"]
    print(f"{s['genes_found']}/{s['genes_requested']} genes, {s['intervals']} intervals, "
          f"{res.footprint_mb:.6f} Mb ({'CDS only' if res.cds_only else 'whole exons'}, pad "
          f"{res.pad}) -> {args.output}.bed")
    if res.missing:
        print(f"tmbcalc: warning: {len(res.missing)} genes not found in the exon table(s): "
              f"{', '.join(res.missing)}", file=sys.stderr)
    return 0
