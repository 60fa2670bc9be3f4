"""Read somatic VCF/BCF files into a :class:`~tmbcalc.variants.VariantTable`.

The header is inspected in Python (caller, tumor/normal samples, which FORMAT/INFO tags exist);
the records are streamed by the compiled kernel ``tmbcalc.ext._vcfscan`` over htslib, which
fills numpy columns without creating a Python object per record.  See ``docs/vcf-input.md``
for the supported callers and which field fills which column.

Units and conventions: positions 0-based; depths and read counts are integers (-1 missing);
VAF and population AF are fractions in [0, 1] (NaN missing); one row per (record, ALT allele).
"""
from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .. import annotation
from ..contigs import canonical, detect_build
from ..errors import InputError, require_readable
from ..variants import VariantTable
from .vcf_callers import CALLER_SPECS, Target, detect_caller, simple_values

DEFAULT_POP_AF_FIELDS: tuple[str, ...] = ("gnomAD_AF", "gnomADe_AF", "gnomADg_AF", "ExAC_AF",
                                          "AF_POPMAX", "MAX_AF")

# htslib Number kinds (BCF_VL_*) and types (BCF_HT_*)
_VL_FIXED, _VL_VAR, _VL_A, _VL_G, _VL_R = 0, 1, 2, 3, 4
_NUMBER_TEXT = {_VL_VAR: ".", _VL_A: "A", _VL_G: "G", _VL_R: "R"}
_TYPE_TEXT = {0: "Flag", 1: "Integer", 2: "Float", 3: "String"}



def _kernel():
    from ..ext import load_kernel
    return load_kernel("_vcfscan")


@dataclass(frozen=True)
class TagDef:
    """One INFO or FORMAT header definition: ``number`` is '1', 'A', 'R', 'G', '.' ...; ``type``
    is Integer/Float/String/Flag."""

    id: str
    number: str
    type: str

    @property
    def vl(self) -> int:
        return {".": _VL_VAR, "A": _VL_A, "G": _VL_G, "R": _VL_R}.get(self.number, _VL_FIXED)


@dataclass
class VcfInfo:
    """What a VCF/BCF header says (no records are read).

    ``tumor_sample``/``normal_sample`` are the names detected from the header (None when the
    header does not tell); ``sample_source`` says how.  ``contigs`` maps native contig names to
    lengths in bp (0 when the header gives none), in header order; ``build`` is GRCh37/GRCh38 or
    None.  ``annotation`` is 'CSQ' (VEP), 'ANN' (SnpEff) or None, with its sub-field names.
    """

    path: str
    file_format: str                 # 'vcf' or 'bcf'
    compression: str                 # 'none', 'gzip', 'bgzf'
    samples: list[str]
    caller: str
    caller_evidence: str
    tumor_sample: str | None
    normal_sample: str | None
    sample_source: str
    info: dict[str, TagDef]
    format: dict[str, TagDef]
    contigs: dict[str, int]
    build: str | None
    annotation: str | None
    annotation_fields: list[str]
    header_text: str = field(repr=False, default="")   # as htslib formats it

    @property
    def info_ids(self) -> list[str]:
        return list(self.info)

    @property
    def format_ids(self) -> list[str]:
        return list(self.format)

    @property
    def has_csq(self) -> bool:
        return self.annotation == "CSQ"

    @property
    def has_ann(self) -> bool:
        return self.annotation == "ANN"

    def native_contigs(self) -> dict[str, str]:
        """Canonical -> native contig spelling."""
        out: dict[str, str] = {}
        for n in self.contigs:
            out.setdefault(canonical(n), n)
        return out


# ------------------------------------------------------------------------------------------------
# header
# ------------------------------------------------------------------------------------------------
def _meta_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("##")]


def _structured(line: str) -> dict[str, str]:
    """Parse ``##KEY=<A=1,B="x, y">`` into {'A': '1', 'B': 'x, y'} (quotes and escapes handled)."""
    body = line.split("=", 1)[1].strip()
    if not (body.startswith("<") and body.endswith(">")):
        return {}
    body = body[1:-1]
    out: dict[str, str] = {}
    i, n = 0, len(body)
    while i < n:
        eq = body.find("=", i)
        if eq < 0:
            break
        key = body[i:eq].strip()
        j = eq + 1
        if j < n and body[j] == '"':
            j += 1
            val = []
            while j < n and body[j] != '"':
                if body[j] == "\\" and j + 1 < n:
                    j += 1
                val.append(body[j])
                j += 1
            out[key] = "".join(val)
            j += 1
            while j < n and body[j] != ",":
                j += 1
        else:
            k = body.find(",", j)
            k = n if k < 0 else k
            out[key] = body[j:k].strip()
            j = k
        i = j + 1
    return out


def _annotation_fields(lines: list[str], tag: str) -> list[str]:
    for ln in lines:
        if ln.startswith("##INFO=<"):
            d = _structured(ln)
            if d.get("ID") != tag:
                continue
            desc = d.get("Description", "")
            if tag == "CSQ":
                m = re.search(r"Format:\s*(.*)$", desc)
                text = m.group(1) if m else ""
            else:
                text = desc.split(":", 1)[1] if ":" in desc else desc
            text = text.strip().strip("'\"").strip()
            return [f.strip().strip("'\"").strip() for f in text.split("|")] if text else []
    return []


def _detect_samples(lines: list[str], samples: list[str], caller: str
                    ) -> tuple[str | None, str | None, str]:
    """(tumor, normal, how) from header conventions; None where the header does not tell."""
    tumor = normal = None
    how = ""
    t_hdr = simple_values(lines, "tumor_sample")
    n_hdr = simple_values(lines, "normal_sample")
    if t_hdr and t_hdr[0] in samples:
        tumor, how = t_hdr[0], "##tumor_sample header"
    if n_hdr and n_hdr[0] in samples:
        normal = n_hdr[0]
    if tumor is None:
        # ##SAMPLE=<ID=TUMOR,...> / ##PEDIGREE=<Derived=..., Original=...> (VCF spec, GDC)
        for ln in lines:
            if ln.startswith("##PEDIGREE="):
                d = _structured(ln)
                if d.get("Derived") in samples and d.get("Original") in samples:
                    tumor, normal, how = d["Derived"], d["Original"], "##PEDIGREE header"
                    break
    if tumor is None:
        upper = {s.upper(): s for s in samples}
        for name in ("TUMOR", "TUMOUR"):
            if name in upper and len(samples) > 1:
                tumor, how = upper[name], "sample named TUMOR"
                break
        if normal is None and "NORMAL" in upper and len(samples) > 1:
            normal = upper["NORMAL"]
    if tumor is None and len(samples) == 1:
        tumor, how = samples[0], "only sample"
    if tumor is None and caller == "vardict" and len(samples) == 2:
        tumor, how = samples[0], "VarDict paired convention (tumor first)"
    if tumor is not None and normal is None and len(samples) == 2 and caller != "generic":
        normal = samples[1] if samples[0] == tumor else samples[0]
    return tumor, normal, how


def _raw_header(path: Path) -> dict[str, Any]:
    k = _kernel()
    try:
        return k.read_header(str(path).encode())
    except k.VcfScanError as exc:
        raise InputError(_open_message(exc, path), path) from None
    except UnicodeDecodeError as exc:
        bad = exc.object[max(0, exc.start - 20):exc.end + 20].decode("utf-8", "replace")
        raise InputError(f"header holds a sample, contig or field name that is not UTF-8 text (near "
                         f"{bad!r}); rename it (bcftools reheader)", path) from None


def _open_message(exc: Exception, path: Path) -> str:
    kind = getattr(exc, "kind", "")
    if kind == "format":
        seen = str(exc)
        if seen and not seen.lower().startswith(("unknown", "plain text", "gzip-compressed")):
            return f"not a VCF or BCF file (htslib sees: {seen})"
        with open(path, "rb") as fh:
            head = fh.read(4)
        what = "a compressed file" if head[:2] == b"\x1f\x8b" else "a file"
        return f"not a VCF or BCF file ({what} without a '##fileformat=VCF' header)"
    if kind == "header":
        with open(path, "rb") as fh:
            compressed = fh.read(2) == b"\x1f\x8b"
        if compressed and not _compressed_intact(path):
            return "compressed data is corrupt or truncated (bad gzip/BGZF block in the header); re-create the file"
        return "malformed VCF header (htslib could not parse it)"
    return "cannot open as VCF/BCF (not a VCF/BCF file, or unreadable)"


def inspect_vcf(path: str | Path) -> VcfInfo:
    """Read a VCF/BCF header: samples, caller, tumor/normal names, tags, contigs, build, CSQ/ANN."""
    p = require_readable(path, "VCF file")
    h = _raw_header(p)
    text: str = h["text"]
    lines = _meta_lines(text)
    info = {k: TagDef(k, _NUMBER_TEXT.get(v[0], str(v[1])), _TYPE_TEXT.get(v[2], "?"))
            for k, v in h["info"].items()}
    fmt = {k: TagDef(k, _NUMBER_TEXT.get(v[0], str(v[1])), _TYPE_TEXT.get(v[2], "?"))
           for k, v in h["format"].items()}
    caller, evidence = detect_caller(lines, fmt)
    tumor, normal, how = _detect_samples(lines, h["samples"], caller)
    contigs = {name: int(length) for name, length in h["contigs"]}
    ann = "CSQ" if "CSQ" in info else ("ANN" if "ANN" in info else None)
    return VcfInfo(
        path=str(p), file_format=h["kind"], compression=h["compression"], samples=list(h["samples"]),
        caller=caller, caller_evidence=evidence, tumor_sample=tumor, normal_sample=normal,
        sample_source=how, info=info, format=fmt, contigs=contigs,
        build=detect_build(contigs), annotation=ann,
        annotation_fields=_annotation_fields(lines, ann) if ann else [],
        header_text=text)


# ------------------------------------------------------------------------------------------------
# plan: which tag fills which column
# ------------------------------------------------------------------------------------------------
def _mode(tag: TagDef, allele_indexed: bool = True) -> str:
    if not allele_indexed:
        return "first"
    if tag.vl == _VL_A:
        return "A"
    if tag.vl == _VL_R:
        return "R"
    if tag.vl == _VL_FIXED and tag.number == "1":
        return "first"
    return "auto"


def _sample_targets(vi: VcfInfo, s: int, role: str, targets: dict[str, Target]) -> None:
    """Fill depth/alt (and for the tumor VAF) sources for sample index ``s``."""
    fmt = vi.format
    depth, alt = targets[f"{role}_depth"], targets[f"{role}_alt"]
    layout = CALLER_SPECS[vi.caller].sample_targets
    if layout is not None and layout(fmt, s, role, targets):
        return
    # per-allele read counts (Number=R, or '.' like PCGR's ADT) vs VarScan2's AD = ALT reads
    # only (Number=1, with RD = REF reads)
    ad_like = [t for t in ("AD", "ADT" if role == "t" else "") if t in fmt and fmt[t].number in ("R", ".")]
    alt_only = "AD" in fmt and fmt["AD"].number == "1"
    for t in ad_like:
        alt.add(("fmt", _mode(fmt[t]), s, t), f"FORMAT/{t}")
    if alt_only:
        alt.add(("fmt", "first", s, "AD"), "FORMAT/AD (ALT reads, Number=1)")
    if "VD" in fmt:
        alt.add(("fmt", "first", s, "VD"), "FORMAT/VD")
    if "AO" in fmt:
        alt.add(("fmt", _mode(fmt["AO"]), s, "AO"), "FORMAT/AO")
    for t in ("DP",) + (("DPT",) if role == "t" else ()):
        if t in fmt:
            depth.add(("fmt", "first", s, t), f"FORMAT/{t}")
    if role == "t" and "TDP" in vi.info:
        depth.add(("info", "first", -1, "TDP"), "INFO/TDP")
    for t in ad_like:
        depth.add(("fmt", "sum", s, t), f"sum of FORMAT/{t}")
    if alt_only and "RD" in fmt:
        depth.add(("fmt_sum2", "first", s, "RD", "AD"), "FORMAT/RD+AD")
    if role == "t":
        vaf = targets["t_vaf"]
        den = targets["vaf_den"]
        if "AF" in fmt:
            vaf.add(("fmt", _mode(fmt["AF"]), s, "AF"), "FORMAT/AF")
        if "TVAF" in vi.info:
            vaf.add(("info", _mode(vi.info["TVAF"]), -1, "TVAF"), "INFO/TVAF")
        if "FREQ" in fmt:
            vaf.add(("fmt", _mode(fmt["FREQ"]), s, "FREQ"), "FORMAT/FREQ")
        for t in ad_like:
            den.add(("fmt", "sum", s, t), f"sum of FORMAT/{t}")
        if alt_only and "RD" in fmt:
            den.add(("fmt_sum2", "first", s, "RD", "AD"), "FORMAT/RD+AD")
        if not den.specs:
            for spec, label in zip(depth.specs, depth.labels):
                den.add(spec, label)
        if alt.specs and den.specs:
            vaf.add(("ratio", "first", -1), f"{alt.labels[0]} / ({den.labels[0]})")


def _control_targets(vi: VcfInfo, s: int, targets: dict[str, Target]) -> bool:
    """PCGR/TCGA style: control depth/allele counts (DPC/ADC) inside the tumor sample column."""
    fmt = vi.format
    found = False
    if "DPC" in fmt:
        targets["n_depth"].add(("fmt", "first", s, "DPC"), "FORMAT/DPC (control, tumor column)")
        found = True
    if "ADC" in fmt:
        targets["n_alt"].add(("fmt", _mode(fmt["ADC"]), s, "ADC"), "FORMAT/ADC (control, tumor column)")
        targets["n_depth"].add(("fmt", "sum", s, "ADC"), "sum of FORMAT/ADC")
        found = True
    return found


@lru_cache(maxsize=1)
def _term_table() -> tuple[tuple[bytes, int], ...]:
    """SO term -> class code table, sorted by the term's bytes (binary search in the kernel)."""
    return tuple(sorted((t.encode(), annotation.CODE[c]) for t, c in annotation.SO_TERMS.items()))


def _resolve_samples(vi: VcfInfo, tumor_sample: str | None, normal_sample: str | None
                     ) -> tuple[str | None, str | None, str]:
    samples = vi.samples
    listing = ", ".join(samples[:20]) + (" ..." if len(samples) > 20 else "")
    for name, what in ((tumor_sample, "tumor"), (normal_sample, "normal")):
        if name is not None and name not in samples:
            raise InputError(f"{what} sample '{name}' is not in the file (samples: {listing or 'none'})",
                             vi.path)
    if tumor_sample is not None and normal_sample is not None and tumor_sample == normal_sample:
        raise InputError(f"tumor and normal sample are both '{tumor_sample}'", vi.path)
    if not samples:
        return None, None, "no sample columns"
    if tumor_sample is not None:
        tumor, how = tumor_sample, "argument"
    elif vi.tumor_sample is not None and vi.tumor_sample != normal_sample:
        tumor, how = vi.tumor_sample, vi.sample_source
    else:
        rest = [s for s in samples if s != normal_sample]
        if len(rest) == 1:
            tumor, how = rest[0], "only non-normal sample"
        else:
            raise InputError(
                f"has {len(samples)} samples and the header does not say which is the tumor: pass "
                f"tumor_sample (samples: {listing})", vi.path, params=("tumor_sample",))
    if normal_sample is not None:
        normal = normal_sample
    elif vi.normal_sample is not None and vi.normal_sample != tumor:
        normal = vi.normal_sample
    elif len(samples) == 2 and vi.caller != "generic":
        normal = samples[1] if samples[0] == tumor else samples[0]
    else:
        normal = None
    return tumor, normal, how


def _build_plan(vi: VcfInfo, tumor: str | None, normal: str | None, pop_af_fields: Sequence[str],
                csq_pick: str) -> tuple[dict[str, Any], dict[str, Any]]:
    kern = _kernel()
    # sample slot 0 = tumor, 1 = normal; the kernel maps slots to sample columns
    sample_index = [vi.samples.index(tumor) if tumor is not None else -1,
                    vi.samples.index(normal) if normal is not None else -1]
    targets = {name: Target() for name in ("t_depth", "t_alt", "vaf_den", "t_vaf", "n_depth", "n_alt")}
    if tumor is not None:
        _sample_targets(vi, 0, "t", targets)
        if normal is not None:
            _sample_targets(vi, 1, "n", targets)
        else:
            _control_targets(vi, 0, targets)
    else:  # sites-only: INFO fields may still carry tumor values
        if "TDP" in vi.info:
            targets["t_depth"].add(("info", "first", -1, "TDP"), "INFO/TDP")
        if "TVAF" in vi.info:
            targets["t_vaf"].add(("info", _mode(vi.info["TVAF"]), -1, "TVAF"), "INFO/TVAF")
    need_fmt = any(sp[0] not in ("info", "ratio") for t in targets.values() for sp in t.specs)
    kt = {kern.TARGETS[name]: [(kern.KINDS[sp[0]], kern.MODES[sp[1]], *sp[2:]) for sp in t.specs]
          for name, t in targets.items() if t.specs}
    popaf = [(f, kern.MODES[_mode(vi.info[f])] if vi.info[f].vl in (_VL_A, _VL_R)
              else kern.MODES["max"]) for f in pop_af_fields if f in vi.info]
    csq = None
    sub_names: list[str] = []
    if vi.annotation:
        fields = vi.annotation_fields
        pos = {f: i for i, f in enumerate(fields)}
        if vi.annotation == "CSQ":
            conseq = pos.get("Consequence", -1)
            sub = [pos[f] for f in pop_af_fields if f in pos]
            sub_names = [f for f in pop_af_fields if f in pos]
            csq = {"tag": "CSQ", "kind": 1, "conseq": conseq, "allele": pos.get("Allele", -1),
                   "allele_num": pos.get("ALLELE_NUM", -1), "canonical": pos.get("CANONICAL", -1),
                   "sub": sub}
        else:
            conseq = pos.get("Annotation", 1)
            csq = {"tag": "ANN", "kind": 2, "conseq": conseq, "allele": pos.get("Allele", 0),
                   "allele_num": -1, "canonical": -1, "sub": []}
        if csq["conseq"] < 0:
            raise InputError(f"the {vi.annotation} header has no Consequence sub-field "
                             f"(fields: {'|'.join(fields)})", vi.path)
    plan = {"sample_index": sample_index, "targets": kt, "need_fmt": need_fmt,
            "popaf": popaf, "csq": csq, "pick_canonical": csq_pick == "canonical",
            "terms": list(_term_table())}
    pop_desc = [f"INFO/{f}" for f, _ in popaf] + [f"{vi.annotation}/{f}" for f in sub_names]
    sources = {name: t.describe() for name, t in targets.items() if name != "vaf_den"}
    sources["pop_af"] = "max of " + ", ".join(pop_desc) if pop_desc else None
    sources["csq"] = f"INFO/{vi.annotation}" if vi.annotation else None
    return plan, sources


# ------------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------------
def _compressed_intact(path: Path) -> bool:
    """True if a gzip/BGZF file decompresses to its end (used only on the error path)."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
        return True
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError):
        return False


def _count_header_lines(path: Path) -> int:
    """Number of leading '#' lines of a text VCF as written in the file (error path only)."""
    from .textfile import iter_lines
    n = 0
    for _, line in iter_lines(path):
        if not line.startswith("#"):
            break
        n += 1
    return n


def _scan_error(exc: Exception, vi: VcfInfo) -> InputError:
    path = Path(vi.path)
    kind = getattr(exc, "kind", "")
    rec = int(getattr(exc, "record", -1))
    chrom, pos = getattr(exc, "chrom", None), int(getattr(exc, "pos", -1))
    after = f" after record {rec} ({chrom}:{pos + 1})" if chrom is not None and rec > 0 else ""
    if kind in ("open", "format", "header"):
        return InputError(_open_message(exc, path), path)
    if kind == "memory":
        return InputError(f"out of memory after {rec} records", path)
    if kind == "read" and vi.compression in ("gzip", "bgzf") and not _compressed_intact(path):
        return InputError(f"compressed data is truncated or corrupt{after}; re-create the file "
                          f"(bgzip) or check the download", path)
    if kind == "read":
        return InputError(f"read error{after}: the file is truncated or corrupt", path)
    if vi.file_format == "vcf":
        return InputError(f"malformed VCF record at line {_count_header_lines(path) + rec + 1} (record "
                          f"{rec + 1}): fewer than 8 tab-separated columns, POS not an integer in [1, 2^31 - 1], "
                          f"or empty REF/ALT/FILTER", path)
    return InputError(f"malformed BCF record {rec + 1}{after}", path)


DEFAULT_CHUNK_ROWS = 200_000


class VcfChunks:
    """A VCF/BCF opened for streaming: header facts now, the records chunk by chunk.

    Iterating yields :class:`VariantTable` chunks of at most ``chunk_rows`` rows (the ALT rows
    of one record are never split; a record with more ALTs than ``chunk_rows`` forms a chunk of
    its own).  Every chunk shares the same ``contigs`` numbering (the list only grows: a chunk's
    ``contigs`` is a prefix of the next one's) and carries ``meta`` with counters cumulative up
    to its last record; the ``record`` column is the global 0-based record number.  Memory is
    bounded by the chunk size, not the file size.  Before iterating, ``meta`` already says which
    columns the file cannot fill (``missing_fields``), the samples and the build.
    """

    def __init__(self, path: str | Path, *, tumor_sample: str | None = None, normal_sample: str | None = None,
                 pop_af_fields: Sequence[str] = DEFAULT_POP_AF_FIELDS, csq_pick: str = "most_severe",
                 keep_alleles: bool = True, threads: int = 1, sites_only: bool = False,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS) -> None:
        if csq_pick not in ("most_severe", "canonical"):
            raise ValueError(f"csq_pick must be 'most_severe' or 'canonical', not {csq_pick!r}")
        if int(chunk_rows) < 1:
            raise ValueError("chunk_rows must be >= 1")
        vi = inspect_vcf(path)
        if sites_only:
            if tumor_sample is not None or normal_sample is not None:
                raise ValueError("sites_only=True cannot be combined with tumor_sample/normal_sample")
            tumor, normal, how = None, None, "sites_only (sample columns ignored)"
        else:
            tumor, normal, how = _resolve_samples(vi, tumor_sample, normal_sample)
        self.plan, self.sources = _build_plan(vi, tumor, normal, pop_af_fields, csq_pick)
        self.info = vi
        self.source = str(path)
        self.samples = [tumor] if tumor is not None else []
        self.keep_alleles = bool(keep_alleles)
        self.threads = max(1, int(threads))
        self.chunk_rows = int(chunk_rows)
        self.meta: dict[str, Any] = {
            "format": vi.file_format, "compression": vi.compression,
            "caller": vi.caller, "caller_evidence": vi.caller_evidence,
            "tumor_sample": tumor, "normal_sample": normal, "tumor_sample_source": how,
            "fields": self.sources, "missing_fields": sorted(n for n, src in self.sources.items() if src is None),
            "consequences": vi.annotation, "consequence_fields": vi.annotation_fields,
            "csq_pick": csq_pick, "build": vi.build, "pop_af_fields": list(pop_af_fields),
        }
        self._canon: list[str] = []
        self._cindex: dict[str, int] = {}
        self._native: list[str] = []

    def empty_table(self) -> VariantTable:
        """A zero-row table with this file's metadata (for requirement checks before reading)."""
        t = VariantTable.empty(self.source)
        t.samples = list(self.samples)
        t.meta = dict(self.meta)
        return t

    def _lut(self, native: list[str]) -> np.ndarray:
        for name in native[len(self._native):]:
            c = canonical(name)
            if c not in self._cindex:
                self._cindex[c] = len(self._canon)
                self._canon.append(c)
            self._native.append(name)
        lut = np.empty(max(1, len(native)), dtype=np.int32)
        for i, name in enumerate(native):
            lut[i] = self._cindex[canonical(name)]
        return lut

    def _meta(self, counts: dict[str, int], native: list[str]) -> dict[str, Any]:
        m = dict(self.meta)
        m.update({
            "records": counts["records"], "rows": counts["rows"],
            "annotated_records": counts["annotated_records"],
            "symbolic_alleles": counts["symbolic"], "skipped_no_alt": counts["no_alt"],
            "csq_entries_unmatched": counts["csq_unmatched"],
            "canonical_fallback_rows": counts["canonical_fallback"],
            "undefined_contig_records": counts["undefined_contig"],
            "undefined_tag_records": counts["undefined_tag"],
            "contig_lengths": {canonical(n): self.info.contigs.get(n, 0) for n in native},
            "native_contigs": _first_spelling(native),
        })
        return m

    def _table(self, res: dict[str, Any]) -> VariantTable:
        cols = res["columns"]
        native = list(res["contigs"])
        lut = self._lut(native)
        if len(cols["contig"]):
            cols["contig"] = lut[cols["contig"]]
        cols["sample"] = np.zeros(len(cols["pos"]), dtype=np.int32)
        return VariantTable(cols, list(self._canon), list(self.samples), self.source,
                            self._meta(res["counts"], native), res["allele_text"])

    def __iter__(self):
        k = _kernel()
        try:
            sc = k.Scanner(str(self.info.path).encode(), self.plan, self.threads, self.keep_alleles)
        except k.VcfScanError as exc:
            raise _scan_error(exc, self.info) from None
        try:
            while True:
                try:
                    res = sc.next_chunk(self.chunk_rows)
                except k.VcfScanError as exc:
                    raise _scan_error(exc, self.info) from None
                if res is None:
                    self.final_meta = self._meta(sc.counts, list(sc.contigs))
                    self.final_contigs = list(self._canon)
                    return
                yield self._table(res)
        finally:
            sc.close()


def iter_vcf_chunks(path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, **kwargs: Any) -> VcfChunks:
    """Open a VCF/VCF.gz/BCF for chunked reading (see :class:`VcfChunks`; keyword arguments as
    :func:`read_vcf`).  Header problems and sample-resolution errors raise here, record errors
    while iterating."""
    return VcfChunks(path, chunk_rows=chunk_rows, **kwargs)


def concat_tables(chunks: Sequence[VariantTable], source: str, samples: list[str], contigs: list[str],
                  meta: dict[str, Any]) -> VariantTable:
    """Concatenate chunk tables of one file (same contig numbering) into one table."""
    if not chunks:
        t = VariantTable.empty(source)
        t.samples, t.contigs, t.meta = list(samples), list(contigs), dict(meta)
        return t
    names = list(chunks[0].columns)
    cols = {n: np.concatenate([c.columns[n] for c in chunks]) for n in names}
    text = None
    if all(c.allele_text is not None for c in chunks):
        bufs = [c.allele_text[0] for c in chunks]
        offs = [c.allele_text[1] for c in chunks]
        shift = np.cumsum([0] + [len(b) for b in bufs[:-1]])
        off = np.concatenate([offs[0][:1]] + [o[1:] + s for o, s in zip(offs, shift)])
        text = (np.concatenate(bufs) if len(bufs) > 1 else bufs[0], off.astype(np.int64))
    return VariantTable(cols, list(contigs), list(samples), source, dict(meta), text)


def read_vcf(path: str | Path, *, tumor_sample: str | None = None, normal_sample: str | None = None,
             pop_af_fields: Sequence[str] = DEFAULT_POP_AF_FIELDS, csq_pick: str = "most_severe",
             keep_alleles: bool = True, threads: int = 1, sites_only: bool = False) -> VariantTable:
    """Stream a VCF/VCF.gz/BCF into a VariantTable (one row per record and ALT allele).

    ``tumor_sample`` defaults to the header's choice (##tumor_sample, Strelka TUMOR column,
    single sample); ``normal_sample`` likewise.  ``pop_af_fields``: INFO tags (and VEP CSQ
    sub-fields) whose maximum is ``pop_af``.  ``csq_pick``: 'most_severe' over all transcripts of
    the allele, or 'canonical' (VEP CANONICAL=YES; SnpEff: first annotation; falls back to the
    most severe when no canonical transcript is annotated).  ``threads`` > 1 adds BGZF
    decompression threads.  ``sites_only`` ignores the sample columns (for population/resource
    VCFs: no tumor is needed, FORMAT is not parsed).  Raises InputError for
    missing/garbage/truncated/malformed input.  The whole file is held in memory: use
    :func:`iter_vcf_chunks` to stream large files.
    """
    vc = VcfChunks(path, tumor_sample=tumor_sample, normal_sample=normal_sample, pop_af_fields=pop_af_fields,
                   csq_pick=csq_pick, keep_alleles=keep_alleles, threads=threads, sites_only=sites_only,
                   chunk_rows=1 << 62)
    chunks = list(vc)
    if len(chunks) == 1:
        t = chunks[0]
        t.meta = vc.final_meta
        t.contigs = list(vc.final_contigs)
        return t
    return concat_tables(chunks, str(path), vc.samples, vc.final_contigs, vc.final_meta)


def _first_spelling(names: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for n in names:
        out.setdefault(canonical(n), n)
    return out


# what would fill each column, for error messages
_NEEDS = {
    "t_depth": ("tumor depth", "FORMAT/DP, FORMAT/AD, FORMAT/DPT, INFO/TDP, Strelka AU/CU/GU/TU or TAR/TIR"),
    "t_alt": ("tumor alt reads", "FORMAT/AD, FORMAT/VD, FORMAT/ADT, FORMAT/AO, Strelka {ALT}U or TIR"),
    "t_vaf": ("tumor VAF", "FORMAT/AF, INFO/TVAF, FORMAT/FREQ, or FORMAT/AD (alt/sum), Strelka tier-1 counts"),
    "n_depth": ("normal depth", "a normal sample column with FORMAT/DP or AD (normal_sample), or FORMAT/DPC"),
    "n_alt": ("normal alt reads", "a normal sample column with FORMAT/AD (normal_sample), or FORMAT/ADC"),
    "pop_af": ("population allele frequency", "INFO or VEP CSQ gnomAD_AF/gnomADe_AF/gnomADg_AF/ExAC_AF/"
               "AF_POPMAX/MAX_AF"),
    "csq": ("consequence annotation", "INFO/CSQ (Ensembl VEP) or INFO/ANN (SnpEff)"),
}
_PROFILE_HINT = {
    "t_depth": "a Mutect2/DRAGEN (AD, AF, DP), VarDict (AF, DP, VD) or Strelka2 VCF",
    "t_alt": "a Mutect2/DRAGEN (AD, AF, DP), VarDict (AF, DP, VD) or Strelka2 VCF",
    "t_vaf": "a Mutect2/DRAGEN (AD, AF, DP), VarDict (AF, DP, VD) or Strelka2 VCF",
    "n_depth": "a tumor/normal VCF (Mutect2, Strelka2, VarDict paired)",
    "n_alt": "a tumor/normal VCF (Mutect2, Strelka2, VarDict paired)",
    "pop_af": "a VCF annotated by VEP with --af_gnomade/--max_af, or by vcfanno",
    "csq": "a VCF annotated by Ensembl VEP or SnpEff",
}


def describe_missing(table: VariantTable, needed: set[str] | Sequence[str]) -> str:
    """Human sentence naming the needed columns the table could not fill ('' if none missing).

    ``needed`` holds column names (t_depth, t_alt, t_vaf, n_depth, n_alt, pop_af, csq).  The
    sentence names the fields that would fill each one and an input/caller profile that has them.
    """
    missing = [n for n in sorted(needed) if _column_missing(table, n)]
    if not missing:
        return ""
    parts = []
    for n in missing:
        what, fields = _NEEDS.get(n, (n, "?"))
        hint = _PROFILE_HINT.get(n)
        parts.append(f"{what} ({n}) needs {fields}" + (f" - e.g. {hint}" if hint else ""))
    caller = table.meta.get("caller", "?")
    return (f"{table.source} (caller '{caller}') lacks " + "; ".join(parts))


def _column_missing(table: VariantTable, name: str) -> bool:
    return name in table.meta.get("missing_fields", ())
