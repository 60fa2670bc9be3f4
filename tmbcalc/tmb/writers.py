"""Writers of the TMB outputs: PREFIX.tmb.json, PREFIX.tmb.tsv, PREFIX.variants.tsv.gz.

All three are written through :class:`tmbcalc.output.OutputSet` (temporary files renamed only
when every file is complete).  The variants report is formatted by a small Cython kernel
(``tmbcalc/ext/_report.pyx``) in blocks by :class:`VariantReportWriter` (which streamed TMB runs
feed chunk by chunk while reading) and compressed as concatenated gzip members (level 1,
valid gzip read by zcat/pandas/Python), so a million rows take about a second and little memory.
When the optional ``isal`` package (Intel ISA-L bindings) is installed its gzip compressor is used:
about 3x faster than zlib at level 1 with the same format.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import annotation
from ..output import OutputSet
from .rules import RULES, listed_rules
from .relax import describe, doc_warning
from .inputs import INPUT_COLUMN, input_names
from .statistics import cut_label
from ..variants import VTYPE_NAMES

if TYPE_CHECKING:
    from .result import TmbResult

VARIANT_COLUMNS = ("sample", "chrom", "pos", "ref", "alt", "type", "filter", "depth", "alt_reads", "vaf",
                   "normal_depth", "normal_alt_reads", "pop_af", "consequence", "in_footprint", "eligible",
                   "first_failing_rule", "failing_rules", "record")
FILTER_NAMES = ("PASS", ".", "FAIL")
CHUNK = 1 << 16
GZIP_LEVEL = 1


# appended to PREFIX.tmb.tsv when the result is harmonized (``tmb --calibrate-to``); per reference cut
# C also harmonized_high_C and equivocal_C (raw value in the equivocal zone of the equivalent panel cut)
HARMONIZED_COLUMNS = ["harmonized_tmb", "harmonized_pi95_low", "harmonized_pi95_high", "harmonized_reference",
                      "harmonized_model", "harmonized_recommended", "harmonized_extrapolated"]


def _harmonized_columns(h) -> list[str]:
    return HARMONIZED_COLUMNS + [f"harmonized_high_{c}" for c in h.high] + [f"equivocal_{c}" for c in h.equivocal]


def _harmonized_row(h) -> list[str]:
    yn = (lambda b: "yes" if b else "no")
    return ([_fmt(h.value), _fmt(h.pi_low), _fmt(h.pi_high), h.reference, h.model, yn(h.recommended),
             yn(h.extrapolated)] + [yn(v) for v in h.high.values()] + [yn(v) for v in h.equivocal.values()])


def summary_columns(cuts: list[float], rules: list[str] | None = None) -> list[str]:
    """Columns of PREFIX.tmb.tsv; ``rules`` named in ``excluded_<rule>`` columns (default: every rule
    of a single-file run, see :func:`~tmbcalc.tmb.rules.listed_rules`)."""
    cols = ["sample", "tmb", "eligible_variants", "footprint_bp", "footprint_mb", "ci95_low", "ci95_high"]
    for c in cuts:
        cols += [f"p_tmb_ge_{cut_label(c)}", f"status_{cut_label(c)}"]
    cols += ["records", "in_footprint"]
    cols += [f"excluded_{r}" for r in (rules if rules is not None else listed_rules(()))]
    cols += ["profile", "denominator"]
    return cols


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.6g}"
    return str(v)


def summary_tsv(result: TmbResult, plain: bool = False) -> str:
    """PREFIX.tmb.tsv text; ``plain`` leaves out the leading ``#`` lines (provenance is in tmb.json)."""
    prov = result.provenance
    rules = listed_rules(prov.get("rules_active", ()))
    build = result.denominator.get("genome_build") or {}
    lines = [f"# tmbcalc {prov['version']} tmb  created {prov['created_utc']}",
             f"# profile: {result.profile.name}  denominator: {result.denominator['kind']} "
             f"{result.denominator['footprint_bp']} bp",
             f"# genome build: {build.get('build') or 'not determined'} ({build.get('evidence', '')})",
             "# parameters: " + json.dumps(prov["parameters"], sort_keys=True, default=str),
             "# inputs: " + json.dumps({k: (v["sha256"] if isinstance(v, dict) else [x["sha256"] for x in v])
                                        for k, v in prov["inputs"].items()}, sort_keys=True),
             "# excluded_<rule> = variants whose FIRST failing rule is <rule> (empty = rule not applied)"]
    lines += _denominator_lines(result.denominator) + relaxed_lines(prov)
    cols = summary_columns(result.cutpoints, rules)
    hz = result.harmonization
    if hz is not None and result.samples:
        lines.append(f"# harmonized to {hz.reference} with model {hz.model} ({hz.method}; "
                     f"{'recommended' if hz.recommended else 'NOT recommended: ' + hz.recommendation}); "
                     f"pi95 = prediction interval (panel Poisson sampling + mapping)")
        cols = cols + _harmonized_columns(result.samples[0].harmonized)
    lines.append("\t".join(cols))
    for s in result.samples:
        row = [s.sample, _fmt(s.tmb), str(s.eligible_variants), str(s.footprint_bp), _fmt(s.footprint_bp / 1e6),
               _fmt(s.ci95_low), _fmt(s.ci95_high)]
        for c in result.cutpoints:
            row += [_fmt(s.p_tmb_ge_cut[cut_label(c)]), s.status[cut_label(c)]]
        row += [str(s.records), str(s.in_footprint)]
        row += [str(s.excluded[r]) if r in s.excluded else "" for r in rules]
        row += [result.profile.name, result.denominator["kind"]]
        if hz is not None:
            row += _harmonized_row(s.harmonized)
        lines.append("\t".join(row))
    if plain:
        lines = [ln for ln in lines if not ln.startswith("#")]
    return "\n".join(lines) + "\n"


def relaxed_lines(prov: dict[str, Any]) -> list[str]:
    """``# relaxed rules:`` line (``missing_fields="relax"``: which rules were switched off for which
    input and why); none when no rule was switched off."""
    text = describe(prov.get("relaxed_rules") or {})
    return [f"# relaxed rules (missing_fields relax; the counting profile minus these): {text}"] if text else []


def _denominator_lines(den: dict[str, Any]) -> list[str]:
    """Comment lines for a declared denominator and the denominator guards' warnings."""
    lines = []
    if den.get("denominator_kind") == "declared":
        lines.append(f"# denominator declared: {den['declared_mb']:g} Mb (measured footprint "
                     f"{den['measured_footprint_bp']} bp kept in PREFIX.tmb.json)")
    lines += [f"# warning: {w}" for w in den.get("warnings", ())]
    return lines


def _pack(strings: list[str | bytes]) -> tuple[np.ndarray, np.ndarray]:
    enc = [s.encode() if isinstance(s, str) else s for s in strings]
    off = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in enc], out=off[1:])
    buf = np.frombuffer(b"".join(enc) or b"\0", dtype=np.uint8)
    return buf, off


def _clean(name: str) -> str:
    return name.replace("\t", " ").replace("\n", " ")


def _gzip_compressor():
    """gzip-member compressor: ISA-L (optional ``isal`` package) if installed, else zlib."""
    try:
        from isal import igzip

        return lambda data: igzip.compress(data, GZIP_LEVEL, mtime=0)
    except ImportError:
        import gzip

        return lambda data: gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def report_header(version: str, profile_name: str, source: str, params: dict[str, Any],
                  indel_anchor_n: bool = False, inputs: list[str] | None = None,
                  warnings: list[str] | tuple[str, ...] = ()) -> bytes:
    """The comment lines and column header of PREFIX.variants.tsv.gz; with several ``inputs`` (file
    names) a last column ``input`` names each row's file; ``warnings``: one ``# warning:`` line each
    (e.g. the denominator guards')."""
    what = f"inputs {', '.join(inputs)}" if inputs else f"input {Path(source).name}"
    cols = VARIANT_COLUMNS + ((INPUT_COLUMN,) if inputs else ())
    return (f"# tmbcalc {version} tmb variants report; profile {profile_name}; "
            f"{what}; pos 1-based; alleles VCF-style"
            f"{' (MAF indel anchor base N)' if indel_anchor_n else ''}\n"
            "# parameters: " + json.dumps(params, sort_keys=True, default=str) + "\n"
            + "".join(f"# warning: {w}\n" for w in warnings)
            + "\t".join(cols) + "\n").encode()


class VariantReportWriter:
    """Format and gzip report rows chunk by chunk into a binary file handle.

    ``add(table, outcome)`` may be called once per input chunk (the rows are written in call
    order); formatting (Cython, no GIL) and compression (one gzip member per block of
    :data:`CHUNK` rows) run on ``threads`` worker threads with a bounded look-ahead, so memory
    stays at a few blocks.  ``close()`` waits for the last blocks (call it, or use ``with``).
    """

    def __init__(self, fh, header: bytes, threads: int = 1, inputs: list[str] | None = None) -> None:
        from ..ext import load_kernel

        self._fh = fh
        self._kernel = load_kernel("_report")
        self._compress = _gzip_compressor()
        self._workers = max(1, min(int(threads), 8)) + 1
        self._pool = ThreadPoolExecutor(max_workers=self._workers)
        self._pending: list = []
        self._fixed = [_pack(list(VTYPE_NAMES)), _pack(list(FILTER_NAMES)),
                       _pack(["."] + list(annotation.CLASSES)), _pack([""] + list(RULES))]
        self._mask_strings: dict[int, bytes] = {}
        self._inputs = _pack([_clean(x) for x in inputs]) if inputs else None
        self.rows = 0
        fh.write(self._compress(header))

    def _masks_table(self, bits: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """(code per row, lookup table code -> 'rule,rule') for the fail-bit masks of one chunk."""
        masks, codes = np.unique(bits, return_inverse=True)
        for m in masks.tolist():
            if m not in self._mask_strings:
                self._mask_strings[m] = ",".join(r for i, r in enumerate(RULES) if m & (1 << i)).encode()
        return codes.reshape(-1).astype(np.int32), _pack([self._mask_strings[m] for m in masks.tolist()])

    def add(self, t, o) -> None:
        n = len(t)
        if n == 0:
            return
        c = t.columns
        mask_code, mask_table = self._masks_table(o.fail_bits)
        tables = [_pack([_clean(x) for x in (t.samples or ["."])]), _pack([_clean(x) for x in (t.contigs or ["."])]),
                  *self._fixed, mask_table]
        have_alleles = t.allele_text is not None
        abuf, aoff = t.allele_text if have_alleles else (np.zeros(1, np.uint8), np.zeros(n + 1, np.int64))
        cols = (c["sample"].astype(np.int32, copy=False), c["contig"].astype(np.int32, copy=False),
                c["pos"].astype(np.int64, copy=False), c["vtype"].astype(np.int8, copy=False),
                c["filter"].astype(np.int8, copy=False), c["t_depth"].astype(np.int32, copy=False),
                c["t_alt"].astype(np.int32, copy=False), c["t_vaf"].astype(np.float32, copy=False),
                c["n_depth"].astype(np.int32, copy=False), c["n_alt"].astype(np.int32, copy=False),
                c["pop_af"].astype(np.float32, copy=False), c["csq"].astype(np.int8, copy=False),
                o.in_footprint.view(np.uint8), o.first_fail.astype(np.int8, copy=False), mask_code,
                c["record"].astype(np.int64, copy=False), np.ascontiguousarray(abuf, dtype=np.uint8),
                np.ascontiguousarray(aoff, dtype=np.int64), have_alleles)
        flat = [x for pair in tables for x in pair]
        if self._inputs is not None:            # several call files: the input column
            tables.append(self._inputs)
            src: tuple = (c[INPUT_COLUMN].astype(np.int32, copy=False), True, *self._inputs)
        else:
            src = (np.zeros(1, np.int32), False, np.zeros(1, np.uint8), np.zeros(2, np.int64))
        # bytes one line may need besides its alleles: longest string of each lookup table + numbers
        reserve = sum(int(np.diff(off).max()) for _, off in tables) + 256
        kernel, compress = self._kernel, self._compress

        def job(start: int) -> bytes:
            return compress(kernel.format_rows(start, min(start + CHUNK, n), *cols, *flat, *src, reserve))

        for s in range(0, n, CHUNK):
            self._pending.append(self._pool.submit(job, s))
            while len(self._pending) > 2 * self._workers:
                self._fh.write(self._pending.pop(0).result())
        self.rows += n

    def close(self) -> None:
        try:
            while self._pending:
                self._fh.write(self._pending.pop(0).result())
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> VariantReportWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _first_member(fh) -> tuple[int, bytes]:
    """(end offset, text) of the first gzip member of ``fh`` (the report header)."""
    import zlib

    d = zlib.decompressobj(31)
    consumed, text = 0, b""
    while not d.eof:
        chunk = fh.read(1 << 16)
        if not chunk:
            raise ValueError("variants report spool ends inside its header")
        text += d.decompress(chunk)
        consumed += len(chunk)
    return consumed - len(d.unused_data), text


def _without_comments(header: bytes) -> bytes:
    return b"".join(ln for ln in header.splitlines(keepends=True) if not ln.startswith(b"#"))


def write_variants(result: TmbResult, path: Path, threads: int = 1, plain: bool = False) -> None:
    """PREFIX.variants.tsv.gz; ``plain`` leaves out the ``#`` lines (only the column header)."""
    spool = getattr(result, "variants_spool", None)
    if spool is not None:                      # streamed run: the report was written while reading
        import shutil

        spool.seek(0)
        with open(path, "wb") as fh:
            if plain:                          # the header is the spool's first gzip member
                end, header = _first_member(spool)
                spool.seek(end)
                fh.write(_gzip_compressor()(_without_comments(header)))
            shutil.copyfileobj(spool, fh, 1 << 20)
        return
    t = result.table
    prov = result.provenance
    names = input_names(result.inputs["files"]) if result.inputs else None
    header = report_header(prov["version"], result.profile.name, t.source, prov["parameters"],
                           t.meta.get("indel_anchor") == "N", names,
                           [*result.denominator.get("warnings", ()), *doc_warning(prov.get("relaxed_rules") or {})])
    if plain:
        header = _without_comments(header)
    with open(path, "wb") as fh, VariantReportWriter(fh, header, threads, names) as w:
        w.add(t, result.outcome)


def json_document(result: TmbResult) -> dict[str, Any]:
    return _nan_to_none(result.to_dict())


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, np.generic):
        return _nan_to_none(obj.item())
    return obj


@dataclass(frozen=True)
class OutputFormat:
    """One file of a TMB result: ``suffix`` after the prefix, ``key`` in the JSON ``outputs`` block,
    and ``write(result, outs, suffix, options)`` producing it (and its ``companions``) inside the
    output set."""

    suffix: str
    key: str
    write: Callable[[TmbResult, OutputSet, str, dict[str, Any]], None]
    companions: tuple[str, ...] = ()    # further files it writes (e.g. an index), full suffixes

    def suffixes(self) -> tuple[str, ...]:
        return (self.suffix, *self.companions)


def _write_json(result: TmbResult, outs: OutputSet, suffix: str, options: dict[str, Any]) -> None:
    doc = json_document(result)
    doc["outputs"] = {f.key: str(outs.path(f.suffix)) for f in OUTPUT_FORMATS}
    if options["plain_tsv"]:
        doc["outputs"]["tsv_comment_lines"] = False
    outs.write_text(suffix, json.dumps(doc, indent=2, allow_nan=False, default=str) + "\n")


def _write_tsv(result: TmbResult, outs: OutputSet, suffix: str, options: dict[str, Any]) -> None:
    outs.write_text(suffix, summary_tsv(result, options["plain_tsv"]))


def _write_variants(result: TmbResult, outs: OutputSet, suffix: str, options: dict[str, Any]) -> None:
    outs.write_with(suffix, lambda p: write_variants(result, p, options["threads"], options["plain_tsv"]))


def _contig_order(name: str) -> tuple[int, int, str]:
    """Chromosomes 1..22, X, Y, MT in that order (canonical names), then other contigs by name."""
    if name.isdigit():
        return (0, int(name), "")
    return (1, {"X": 0, "Y": 1, "MT": 2}.get(name, 3), name)


def footprint_bed(result: TmbResult, plain: bool = False) -> str:
    """The measured denominator regions as BED text: 0-based half-open, merged, contigs spelled as in
    the call file (canonical names where it does not name them), chromosome order, starts ascending.
    Unless ``plain``, ``#`` lines first say what the regions are and where their provenance is."""
    regions = result.footprint
    lines: list[str] = []
    if not plain:
        den, prov = result.denominator, result.provenance
        build = (den.get("genome_build") or {}).get("build")
        lines.append(f"# {prov.get('tool', 'tmbcalc')} {prov.get('version', '')} tmb: the denominator footprint "
                     f"(kind {den.get('kind')}, {regions.total_bp() if regions else 0} bp measured, "
                     f"genome build {build or 'not determined'}); BED, 0-based half-open")
        if den.get("declared_mb") is not None:
            lines.append(f"# TMB divides by the declared {den['declared_mb']:g} Mb; these are the measured regions")
        lines.append("# provenance: the PREFIX.tmb.json written with this file")
    if regions is not None:
        spell = result.contig_spelling
        for contig in sorted(regions.by_contig, key=_contig_order):
            starts, ends = regions.by_contig[contig]
            name = spell.get(contig, contig)
            lines.extend(f"{name}\t{a}\t{b}" for a, b in zip(starts.tolist(), ends.tolist()))
    return "\n".join(lines) + "\n" if lines else ""


def _write_footprint(result: TmbResult, outs: OutputSet, suffix: str, options: dict[str, Any]) -> None:
    """PREFIX.footprint.bed.gz (BGZF) and its tabix index, published with the other files."""
    from ..callable.writers import write_indexed_bed

    write_indexed_bed(outs, suffix, footprint_bed(result, options["plain_tsv"]).encode())


# the registry of a TMB result's files: adding an output format is one entry here (plus its tests)
OUTPUT_FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat(".tmb.json", "json", _write_json),
    OutputFormat(".tmb.tsv", "tsv", _write_tsv),
    OutputFormat(".variants.tsv.gz", "variants", _write_variants),
    OutputFormat(".footprint.bed.gz", "footprint_bed", _write_footprint, (".footprint.bed.gz.tbi",)),
)


def write_outputs(result: TmbResult, prefix: str | Path, *, threads: int = 1, plain_tsv: bool = False) -> list[Path]:
    """Write every file of :data:`OUTPUT_FORMATS` atomically; returns their paths.  ``plain_tsv``:
    the TSVs carry no ``#`` lines (``outputs.tsv_comment_lines`` is then false in the JSON, which
    holds the provenance)."""
    options = {"threads": threads, "plain_tsv": plain_tsv}
    with OutputSet(prefix, inputs=result.provenance.get("inputs")) as outs:
        for fmt in OUTPUT_FORMATS:
            fmt.write(result, outs, fmt.suffix, options)
    return [outs.path(s) for f in OUTPUT_FORMATS for s in f.suffixes()]


__all__ = ["write_outputs", "OUTPUT_FORMATS", "OutputFormat", "footprint_bed", "summary_tsv", "summary_columns", "VARIANT_COLUMNS", "json_document",
           "VariantReportWriter", "report_header"]
