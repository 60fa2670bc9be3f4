"""Build a panel footprint BED from a gene list and an exon table.

Exon tables differ in what they can give:

* tables with both: GTF (``CDS`` vs ``exon`` features) and UCSC genePred / refGene
  (``cdsStart``/``cdsEnd`` clip the exons) give either footprint;
* CDS-only tables: BEDs whose names mark the feature (``GENE:CDS`` / ``GENE:exon`` as in the UCLA
  pancan targets, ``SYMBOL;HGNC;ENSG;ENST;CDS|stop_codon`` as in the UMCCR cancer-gene BED; rows
  marked CDS/stop_codon/start_codon are kept, others such as non-coding genes' ``exon`` rows are
  dropped) and ExomeDepth ``exons.hg19`` (1-based inclusive, ``GENE_N[,OTHER_GENE...]`` names, an
  exon listed under every gene that shares it; the coding parts of
  exons, stop codon included, for protein-coding genes - non-coding genes appear as whole exons)
  give only the coding footprint (``cds_only=True``);
* exon-only tables - the SpliceAI GENCODE canonical-transcript table (comma lists of 0-based exon
  starts / ends) and plain ``chrom start end gene`` BEDs - have no CDS boundaries, so whole exons
  (UTRs included) are the only possible footprint and the caller must ask for it explicitly
  (``cds_only=False``).

A GTF's ``CDS`` features exclude the stop codon; genePred ``cdsEnd`` includes it.  Padding adds
``pad`` bp to both sides of every interval before merging (e.g. 2 bp captures canonical splice
sites).  Coordinates are returned 0-based half-open with contig names as spelled in the table.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..contigs import canonical
from ..errors import InputError, UsageError
from ..io.textfile import iter_lines
from ..regions import RegionSet

FORMATS = ("auto", "bed", "exomedepth", "spliceai", "genepred", "gtf")
CDS_FORMATS = ("gtf", "genepred")  # always carry CDS boundaries
_SUFFIX_N = re.compile(r"_\d+$")
_GTF_ATTR = re.compile(r'(\S+)\s+"([^"]*)"')


@dataclass(frozen=True)
class ExonTable:
    """Intervals (0-based half-open, native contig names) labelled with gene symbols."""

    contigs: np.ndarray  # object, native names
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    genes: np.ndarray  # object
    format: str
    cds_only: bool  # True: intervals are coding sequence only; False: whole exons
    source: str

    def __len__(self) -> int:
        return int(self.starts.size)


@dataclass(frozen=True)
class GeneResult:
    gene: str  # symbol as in the gene list
    table_symbol: str  # symbol looked up in the exon table ('' if not found)
    table: str  # exon table the gene was taken from ('' if not found)
    n_intervals: int  # merged intervals of this gene
    bp: int  # merged bp of this gene (after padding)


@dataclass(frozen=True)
class PanelBuildResult:
    """Per-gene merged intervals plus a summary; ``regions`` is the merged footprint."""

    records: list[tuple[str, int, int, str]]  # (native contig, start, end, gene), sorted
    genes: list[GeneResult]
    missing: list[str]  # genes of the list absent from the exon table
    regions: RegionSet
    table_format: str
    cds_only: bool
    pad: int
    build: str = ""
    provenance: dict = field(default_factory=dict)

    @property
    def footprint_mb(self) -> float:
        return self.regions.total_mb()

    def bed_text(self) -> str:
        return "".join(f"{c}\t{s}\t{e}\t{g}\n" for c, s, e, g in self.records)

    def to_dict(self) -> dict:
        """The PREFIX.json document: a summary (counts in genes and intervals, bp and Mb) and the provenance."""
        found = len(self.genes) - len(self.missing)
        summary = {"genes_requested": len(self.genes), "genes_found": found, "genes_missing": self.missing,
                   "intervals": len(self.records), "footprint_bp": self.regions.total_bp(),
                   "footprint_mb": self.footprint_mb, "cds_only": self.cds_only, "pad": self.pad,
                   "table_format": self.table_format, "build": self.build}
        return {"summary": summary, "provenance": self.provenance}

    def write(self, prefix: str | Path) -> list[Path]:
        """PREFIX.bed (0-based half-open, one row per gene interval), PREFIX.genes.tsv, PREFIX.json."""
        import json

        from ..output import OutputSet

        prov = self.provenance
        head = (f"# tmbcalc {prov.get('version', '')} panels build\n"
                f"# parameters: {json.dumps(prov.get('parameters', {}), sort_keys=True)}\n"
                f"# inputs: {json.dumps(_input_digests(prov.get('inputs', {})))}\n")
        with OutputSet(prefix, inputs=prov.get("inputs")) as outs:
            outs.write_text(".bed", head + self.bed_text())
            outs.write_text(".genes.tsv", head + "gene\tfound\ttable_symbol\ttable\tintervals\tbp\n" + "".join(
                f"{g.gene}\t{'yes' if g.table_symbol else 'no'}\t{g.table_symbol}\t{g.table}\t{g.n_intervals}\t{g.bp}\n"
                for g in self.genes))
            outs.write_json(".json", self.to_dict())
        return [outs.path(s) for s in (".bed", ".genes.tsv", ".json")]


def _input_digests(inputs: dict) -> dict:
    return {k: v["sha256"] if isinstance(v, dict) else [x["sha256"] for x in v] for k, v in inputs.items()}


def build_panel(genes_file: str | Path, exon_tables: Sequence[str | Path], *, build: str, exon_format: str = "auto",
                cds_only: bool = True, pad: int = 0, aliases_file: str | Path | None = None,
                require_all_genes: bool = False) -> PanelBuildResult:
    """A panel footprint from a gene list and exon tables (the API behind ``tmbcalc panels build``):
    refuses an empty result, missing genes when ``require_all_genes``, and intervals past ``build``'s
    contig ends; the result carries its provenance and writes itself."""
    import dataclasses

    from ..provenance import build_provenance
    from .registry import check_regions_fit_build

    if pad < 0:
        raise UsageError("pad must be >= 0", params=("pad",))
    genes = read_gene_list(genes_file)
    aliases = read_aliases(aliases_file) if aliases_file else None
    tables = [read_exon_table(t, exon_format, cds_only=cds_only) for t in exon_tables]
    res = build_panel_bed(genes, tables, pad=pad, aliases=aliases)
    if res.regions.is_empty():
        raise InputError(f"none of the {len(genes)} genes was found in the exon table(s)", genes_file)
    if res.missing and require_all_genes:
        raise InputError(f"{len(res.missing)} genes not found in the exon table(s): {', '.join(res.missing)}",
                         genes_file)
    for t in exon_tables:
        check_regions_fit_build(res.regions, build, Path(t))
    params = {"build": build, "cds_only": cds_only, "pad": pad, "exon_format": exon_format,
              "require_all_genes": require_all_genes}
    prov = build_provenance("panels build", params, {"genes": genes_file, "exons": list(exon_tables),
                                                    "aliases": aliases_file})
    return dataclasses.replace(res, build=build, provenance=prov)


# -- gene lists ---------------------------------------------------------------------------------
def read_gene_list(path: str | Path) -> list[str]:
    """Gene symbols, first whitespace-separated field per line; '#' comments and a header
    line named gene/symbol/hugo_symbol are skipped; duplicates are dropped keeping order."""
    genes: dict[str, None] = {}
    for n, line in iter_lines(path):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        sym = line.split()[0]
        if n == 1 and sym.lower() in {"gene", "genes", "symbol", "hugo_symbol", "gene_symbol"}:
            continue
        genes.setdefault(sym)
    if not genes:
        raise InputError("gene list contains no gene symbols", path)
    return list(genes)


def read_aliases(path: str | Path) -> dict[str, list[str]]:
    """Alias table: 'symbol_in_list<TAB>symbol_in_table[,another]' per line ('#' comments)."""
    out: dict[str, list[str]] = {}
    for n, line in iter_lines(path):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise InputError(f"line {n}: expected 2 columns (list symbol, table symbol[s])", path)
        out.setdefault(parts[0], []).extend(x for x in parts[1].split(",") if x)
    return out


# -- exon tables -------------------------------------------------------------------------------------
def _detect_format(path: Path) -> str:
    for _, line in iter_lines(path):
        if not line.strip() or line.startswith(("track", "browser")):
            continue
        low = line.lower()
        if low.startswith("#name\tchrom\tstrand"):
            return "spliceai"
        if low.startswith("chromosome\tstart\tend\tname"):
            return "exomedepth"
        if line.startswith("#"):
            continue
        f = line.split("\t")
        if len(f) >= 9 and f[3].isdigit() and f[4].isdigit() and f[6] in "+-." and "gene" in f[8]:
            return "gtf"
        if len(f) >= 10 and (f[2] in ("+", "-") or (len(f) >= 11 and f[3] in ("+", "-"))):
            return "genepred"
        return "bed"
    raise InputError("exon table is empty", path)


_CODING_FEATURES = {"CDS", "stop_codon", "start_codon"}


def _bed_gene(name: str) -> tuple[str, str]:
    """(gene symbol, feature) from a BED name column such as 'KRAS:CDS' or
    'TP53;HGNC:11998;ENSG...;ENST...;stop_codon'; feature is '' when the name has no marker."""
    for sep in (";", ":", "|"):
        if sep in name:
            parts = name.split(sep)
            return parts[0], parts[-1]
    return name, ""


def _ints(x: str) -> list[int]:
    return [int(v) for v in x.strip(",").split(",") if v != ""]


def _rows_exomedepth(f: list[str], n: int, p: Path, cds_only: bool):
    if f[0] == "chromosome":
        return
    # 1-based inclusive; 'GENE_N' or 'GENE_N,OTHER' (an exon shared by several genes)
    for g in dict.fromkeys(_SUFFIX_N.sub("", x) for x in f[3].split(",") if x):
        yield f[0], int(f[1]) - 1, int(f[2]), g, None


def _rows_spliceai(f: list[str], n: int, p: Path, cds_only: bool):
    ex_s, ex_e = _ints(f[5]), _ints(f[6])
    if len(ex_s) != len(ex_e):
        raise ValueError("exon start/end lists differ in length")
    for s, e in zip(ex_s, ex_e):
        yield f[1], s, e, f[0], None


def _rows_bed(f: list[str], n: int, p: Path, cds_only: bool):
    if len(f) < 4:
        raise InputError(f"line {n}: a BED exon table needs a 4th column with the gene name", p)
    g, feature = _bed_gene(f[3])
    yield f[0], int(f[1]), int(f[2]), g, feature


def _rows_genepred(f: list[str], n: int, p: Path, cds_only: bool):
    off = 1 if f[3] in ("+", "-") else 0  # refGene-style leading 'bin' column
    chrom, tx_name = f[off + 1], f[off]
    cds_s, cds_e = int(f[off + 5]), int(f[off + 6])
    ex_s, ex_e = _ints(f[off + 8]), _ints(f[off + 9])
    gene = f[off + 11] if len(f) > off + 11 and f[off + 11] else tx_name
    for s, e in zip(ex_s, ex_e):
        if cds_only:
            s, e = max(s, cds_s), min(e, cds_e)
        if e > s:
            yield chrom, s, e, gene, None


def _rows_gtf(f: list[str], n: int, p: Path, cds_only: bool):
    if len(f) < 9:
        raise ValueError("expected 9 GTF columns")
    if f[2] != ("CDS" if cds_only else "exon"):
        return
    attrs = dict(_GTF_ATTR.findall(f[8]))
    yield f[0], int(f[3]) - 1, int(f[4]), attrs.get("gene_name") or attrs.get("gene_id") or "", None


# one row parser per exon-table format: (fields, line number, path, cds_only) -> (contig, start0,
# end, gene, BED feature mark or None) rows, 0-based half-open
_ROW_PARSERS = {"exomedepth": _rows_exomedepth, "spliceai": _rows_spliceai, "bed": _rows_bed,
                "genepred": _rows_genepred, "gtf": _rows_gtf}


def read_exon_table(path: str | Path, fmt: str = "auto", *, cds_only: bool = True) -> ExonTable:
    """Read an exon table in one of :data:`FORMATS`.

    ``cds_only`` asks for coding sequence; tables without CDS boundaries then raise UsageError
    (exit 2) telling the user to pass ``--include-utr``, and CDS-only tables refuse
    ``cds_only=False`` because they cannot supply UTRs.
    """
    p = Path(path)
    if fmt not in FORMATS:
        raise UsageError(f"unknown exon table format '{fmt}' (known: {', '.join(FORMATS)})")
    if fmt == "auto":
        fmt = _detect_format(p)
    rows = _parse_rows(p, fmt, cds_only)
    marked = fmt == "bed" and any(r[4] == "CDS" for r in rows)
    if marked and cds_only:
        rows = [r for r in rows if r[4] in _CODING_FEATURES]
    table_cds = _table_is_cds(p, fmt, marked, cds_only)
    contigs, starts, ends, genes = ([r[i] for r in rows] for i in range(4))
    s_arr, e_arr = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
    bad = np.flatnonzero((s_arr < 0) | (e_arr < s_arr))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"invalid interval {contigs[i]}:{starts[i]}-{ends[i]} (gene {genes[i]})", p)
    return ExonTable(np.asarray(contigs, object), s_arr, e_arr, np.asarray(genes, object), fmt,
                     table_cds, str(p))


def _parse_rows(p: Path, fmt: str, cds_only: bool) -> list[tuple]:
    parse = _ROW_PARSERS[fmt]
    rows: list[tuple] = []
    for n, line in iter_lines(p):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        try:
            rows.extend(parse(line.split("\t"), n, p, cds_only))
        except (ValueError, IndexError) as exc:
            raise InputError(f"line {n}: not a valid {fmt} exon table row ({exc})", p) from None
    if not rows:
        raise InputError(f"exon table ({fmt}) contains no intervals"
                         + (" of the requested kind" if fmt in CDS_FORMATS else ""), p)
    return rows


def _table_is_cds(p: Path, fmt: str, marked: bool, cds_only: bool) -> bool:
    """Whether the table's intervals are coding sequence; refuses requests it cannot serve."""
    if fmt in CDS_FORMATS:
        return cds_only
    if fmt == "exomedepth" or marked:
        if not cds_only:
            what = ("ExomeDepth exons are the coding parts of exons (CDS incl. stop codon)"
                    if fmt == "exomedepth" else "the BED's rows are marked CDS")
            raise UsageError(f"{p}: {what}, so it cannot supply UTRs; keep cds_only (the default) or use "
                             f"a table with whole exons (GTF, genePred, SpliceAI table)", params=("cds_only",))
        return True
    if cds_only:
        raise UsageError(f"{p}: the {fmt} exon table carries no CDS boundaries, so a CDS-only "
                         f"footprint (cds_only) cannot be built from it; ask for whole exons (UTRs included) instead, "
                         f"or use a GTF/genePred/CDS BED", params=("cds_only",))
    return False


# -- building ---------------------------------------------------------------------------------------
def _contig_key(name: str) -> tuple[int, str]:
    c = canonical(name)
    if c.isdigit():
        return int(c), ""
    return {"X": 23, "Y": 24, "MT": 25}.get(c, 26), c


def _gene_index(table: ExonTable) -> tuple[np.ndarray, dict[str, tuple[int, int]]]:
    """(row order sorted by gene, gene -> [lo, hi) slice of that order)."""
    order = np.argsort(table.genes, kind="stable")
    sorted_genes = table.genes[order]
    uniq, first = np.unique(sorted_genes, return_index=True)
    ends = [*first[1:].tolist(), int(sorted_genes.size)]
    return order, dict(zip(uniq.tolist(), zip(first.tolist(), ends)))


def build_panel_bed(genes: Iterable[str], tables: ExonTable | Sequence[ExonTable], *, pad: int = 0,
                    aliases: Mapping[str, list[str]] | None = None) -> PanelBuildResult:
    """Footprint of ``genes``: each gene's intervals padded by ``pad`` bp and merged per gene.

    Each gene is taken from the first of ``tables`` that has it, under its own symbol or, failing
    that, under one of its ``aliases`` (first hit wins).  Genes found nowhere are listed in
    ``missing``.  A gene whose intervals lie on several contigs (e.g. PAR genes) keeps them all.
    All tables must be of the same kind (all CDS-only or all whole-exon).
    """
    if pad < 0:
        raise UsageError("pad must be >= 0", params=("pad",))
    tables = [tables] if isinstance(tables, ExonTable) else list(tables)
    if not tables:
        raise UsageError("at least one exon table is needed")
    if len({t.cds_only for t in tables}) > 1:
        raise UsageError("exon tables mix CDS-only and whole-exon intervals: "
                         + ", ".join(f"{t.source} ({'CDS' if t.cds_only else 'exons'})" for t in tables))
    aliases = aliases or {}
    indexes = [_gene_index(t) for t in tables]

    records: list[tuple[str, int, int, str]] = []
    results: list[GeneResult] = []
    missing: list[str] = []
    for g in dict.fromkeys(genes):
        hit = None
        for t, (order, bounds) in zip(tables, indexes):
            sym = next((s for s in [g, *aliases.get(g, [])] if s in bounds), None)
            if sym is not None:
                hit = (t, order, bounds[sym], sym)
                break
        if hit is None:
            missing.append(g)
            results.append(GeneResult(g, "", "", 0, 0))
            continue
        t, order, (lo, hi), sym = hit
        idx = order[lo:hi]
        natives = t.contigs[idx]
        rs = RegionSet.from_arrays(natives, np.maximum(t.starts[idx] - pad, 0), t.ends[idx] + pad)
        native_of = {canonical(str(c)): str(c) for c in natives.tolist()}
        n_iv = 0
        for c, s, e in rs:
            records.append((native_of[c], s, e, g))
            n_iv += 1
        results.append(GeneResult(g, sym, t.source, n_iv, rs.total_bp()))
    records.sort(key=lambda r: (_contig_key(r[0]), r[1], r[2], r[3]))
    regions = RegionSet.from_arrays([r[0] for r in records], [r[1] for r in records],
                                    [r[2] for r in records])
    return PanelBuildResult(records, results, missing, regions,
                            ",".join(dict.fromkeys(t.format for t in tables)), tables[0].cds_only, pad)


__all__ = ["ExonTable", "GeneResult", "PanelBuildResult", "FORMATS", "read_gene_list",
           "read_aliases", "read_exon_table", "build_panel_bed"]
