"""MAF reader (GDC/TCGA MC3, cBioPortal, maftools/Firehose exports) -> VariantTable.

Columns are found by name (first match wins; see ``ROLES``).  Required: chromosome, start
position, reference allele, tumor allele and tumor sample; a missing one is an InputError naming
it.  Every MAF row becomes one table row (``record`` = 0-based data-row ordinal); many tumors in
one file give one ``samples`` entry per Tumor_Sample_Barcode (in order of appearance).

Allele convention: MAF alleles are converted to VCF style so that ``allele_key`` and positions
agree with VCF input.  SNVs/MNVs keep their position.  A MAF deletion (``Reference_Allele`` =
deleted bases, ``Tumor_Seq_Allele2`` = ``-``, ``Start_Position`` = first deleted base) becomes
``POS = Start_Position - 1``, ``REF = anchor + deleted``, ``ALT = anchor``; a MAF insertion
(``Reference_Allele`` = ``-``, ``Start_Position`` = base before the insertion) becomes
``POS = Start_Position``, ``REF = anchor``, ``ALT = anchor + inserted``.  The anchor base is read
from ``reference`` (FASTA with .fai) when given, otherwise it is ``N`` — then MAF indel keys
match other MAF-derived keys but not VCF records (hotspot matching of indels does not need the
anchor, see :mod:`tmbcalc.tmb.hotspots`).

Depth = ``t_depth`` or ``t_ref_count + t_alt_count``; VAF = alt / depth (or a ``tumor_f``/``VAF``
column when counts are absent).  FILTER: ``PASS`` -> pass, empty/``.`` -> missing, else fail;
a MAF without a FILTER column has every row "missing" and ``meta["has_filter"] = False``.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import annotation
from ..checks import INT32_MAX
from ..contigs import canonical
from ..errors import InputError, require_readable
from ..variants import FILTER_FAIL, FILTER_MISSING, FILTER_PASS, VariantTable, allele_key, classify
from .textfile import open_text

ROLES: dict[str, tuple[str, ...]] = {
    "contig": ("Chromosome", "chr", "Chrom", "chrom", "seqnames", "CHROM"),
    "start": ("Start_Position", "Start_position", "startPosition", "start", "Start"),
    "ref": ("Reference_Allele", "referenceAllele", "ref", "REF"),
    "alt": ("Tumor_Seq_Allele2", "variantAllele", "alt", "ALT"),
    "alt1": ("Tumor_Seq_Allele1",),
    "sample": ("Tumor_Sample_Barcode", "sampleId", "Sample_ID", "Tumor_Sample_Barcode_min", "sample"),
    "classification": ("Variant_Classification", "mutationType"),
    "consequence": ("Consequence",),
    "filter": ("FILTER", "filter"),
    "t_depth": ("t_depth", "tumor_depth"),
    "t_ref": ("t_ref_count", "tumorRefCount"),
    "t_alt": ("t_alt_count", "tumorAltCount"),
    "t_vaf": ("tumor_f", "t_vaf", "VAF", "i_TumorVAF_WU"),
    "n_depth": ("n_depth", "normal_depth"),
    "n_ref": ("n_ref_count", "normalRefCount"),
    "n_alt": ("n_alt_count", "normalAltCount"),
    "build": ("NCBI_Build", "ncbiBuild"),
}
REQUIRED = ("contig", "start", "ref", "alt", "sample")
DEFAULT_POP_AF_COLUMNS = ("gnomAD_AF", "gnomADe_AF", "ExAC_AF", "AF_gnomad", "GMAF", "MAX_AF")
_SHORT = 24  # alleles up to this length are hashed in a vectorised matrix


def _header(path: Path) -> tuple[list[str], int]:
    """Column names and number of leading '#' lines (GDC ``#version``)."""
    skip = 0
    try:
        with open_text(path) as fh:
            for line in fh:
                if line.startswith("#"):
                    skip += 1
                    continue
                _refuse_binary(line, path)
                return line.rstrip("\r\n").split("\t"), skip
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(f"cannot read MAF ({exc})", path) from None
    raise InputError("MAF has no header line", path)


def _refuse_binary(line: str, path: Path) -> None:
    """A header line with NUL/control bytes or undecodable bytes is binary data, not a MAF:
    refuse it without echoing it."""
    if "\ufffd" in line or any(ord(c) < 32 and c not in "\t\r\n" for c in line):
        raise InputError("not a MAF, VCF or BCF file: binary data (not tab-separated UTF-8 text, "
                         "plain or gzip)", path)


def looks_like_maf(path: str | Path) -> bool:
    """True if the file's header names MAF columns (chromosome, start, alleles, sample)."""
    try:
        cols, _ = _header(Path(path))
    except InputError:
        return False
    have = set(cols)
    return all(any(c in have for c in ROLES[r]) for r in REQUIRED)


def fnv1a_many(texts: list[bytes] | np.ndarray) -> np.ndarray:
    """Vectorised 64-bit FNV-1a of byte strings (same function as variants.allele_key)."""
    n = len(texts)
    out = np.full(n, 0xCBF29CE484222325, dtype=np.uint64)
    if n == 0:
        return out
    arr = np.asarray(texts, dtype=object)
    lens = np.fromiter((len(t) for t in arr), dtype=np.int64, count=n)
    prime = np.uint64(0x100000001B3)
    short = lens <= _SHORT
    if short.any():
        mat = np.array(arr[short].tolist(), dtype=f"S{_SHORT}").view(np.uint8).reshape(-1, _SHORT)
        h = out[short]
        sl = lens[short]
        for j in range(int(sl.max())):
            m = sl > j
            h[m] = (h[m] ^ mat[m, j].astype(np.uint64)) * prime
        out[short] = h
    from ..variants import allele_key
    for i in np.flatnonzero(~short).tolist():
        ref, _, alt = arr[i].partition(b">")
        out[i] = allele_key(ref, alt)
    return out


def _pick(cols: list[str], role: str) -> str | None:
    for name in ROLES[role]:
        if name in cols:
            return name
    return None


def _numeric(series: pd.Series | None, n: int, dtype, fill, where: tuple[int, Path] | None = None,
             hi: float = INT32_MAX) -> np.ndarray:
    """A numeric column (unparsable cells -> ``fill``); with ``where`` = (skip, path), a value that
    is infinite, negative (but -1, read as missing) or above ``hi`` is refused with the line and column named."""
    if series is None:
        return np.full(n, fill, dtype=dtype)
    v = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if where is not None:
        bad = np.flatnonzero(np.isinf(v) | ((v < 0) & (v != -1)) | (v > hi))    # -1: a common "missing"
        if bad.size:
            row = int(bad[0])
            top = f"{hi:g}" if hi < INT32_MAX else "2^31 - 1"
            raise InputError(f"line {where[0] + row + 2}: {series.name} {_cell(series.iloc[row])} is outside "
                             f"[0, {top}]", where[1])
    if np.issubdtype(np.dtype(dtype), np.integer):
        out = np.where(np.isnan(v), fill, v)
        return out.astype(dtype)
    return v.astype(dtype)


def _pop_af(series: pd.Series) -> np.ndarray:
    """Numeric AF; ``GMAF``-style ``A:0.0012`` values keep the number after the colon."""
    if series.dtype.kind in "fiu":
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    codes, uniq = pd.factorize(series.to_numpy(dtype=object), sort=False)
    vals = np.full(len(uniq) + 1, np.nan)
    for i, u in enumerate(uniq):
        try:
            vals[i] = float(str(u).rsplit(":", 1)[-1])
        except ValueError:
            pass
    return vals[np.where(codes < 0, len(uniq), codes)]


def read_maf(path: str | Path, *, pop_af_fields: tuple[str, ...] | list[str] = DEFAULT_POP_AF_COLUMNS,
             reference: str | Path | None = None, keep_alleles: bool = True) -> VariantTable:
    """Read a MAF into a VariantTable (see module doc for conventions)."""
    p = require_readable(path, "MAF")
    cols, skip = _header(p)
    found = {role: _pick(cols, role) for role in ROLES}
    missing = [ROLES[r][0] for r in REQUIRED if found[r] is None]
    if missing:
        raise InputError(f"MAF lacks required column(s) {', '.join(missing)} "
                         f"(header has {', '.join(cols[:8])}{'...' if len(cols) > 8 else ''})", p)
    pop_cols = [c for c in pop_af_fields if c in cols]
    df = _read_frame(p, skip, found, pop_cols)
    n = len(df)
    if n == 0:
        return _empty(p, found)
    start = _start_positions(df, found, skip, p)
    contig, cnames, scodes, suniq = _contigs_and_samples(df, found, skip, p)
    al = _alleles(df, found, skip, p)
    pos0 = start - 1
    pos0[al.dele] -= 1                       # anchor = base before the first deleted base
    if (pos0 < 0).any():
        bad_row = int(np.flatnonzero(pos0 < 0)[0])
        raise InputError(f"line {skip + bad_row + 2}: position {start[bad_row]} is invalid", p)
    row_text = _reference_anchors(al, reference, cnames, contig, pos0) if reference is not None else None
    csq, has_csq = _consequences(df, found, n)
    counts = _read_counts(df, found, n, (skip, p))
    pop_af = np.full(n, np.nan)
    for c in pop_cols:
        pop_af = np.fmax(pop_af, _pop_af(df[c]))  # the largest AF over the listed fields
    columns = {
        "record": np.arange(n, dtype=np.int64), "sample": scodes.astype(np.int32), "contig": contig,
        "pos": pos0.astype(np.int64), "ref_len": al.ref_len, "alt_len": al.alt_len, "vtype": al.vtype,
        "allele_index": np.ones(n, np.int16), "n_alts": np.ones(n, np.int16), "filter": _filters(df, found, n),
        **counts, "pop_af": pop_af.astype(np.float32), "csq": csq.astype(np.int8), "allele_key": al.key,
    }
    allele_text = _gather_text(al.unique_text(), al.inv, row_text) if keep_alleles else None
    meta = _meta(df, found, counts, has_csq, pop_cols, reference)
    return VariantTable(columns, cnames, [str(s) for s in suniq], str(p), meta, allele_text)


def _read_frame(p: Path, skip: int, found: dict, pop_cols: list[str]) -> pd.DataFrame:
    wanted = sorted({c for c in found.values() if c} | set(pop_cols))
    str_cols = {found[r] for r in ("contig", "ref", "alt", "alt1", "sample", "classification",
                                   "consequence", "filter", "build") if found[r]}
    try:
        return pd.read_csv(p, sep="\t", skiprows=skip, usecols=wanted, low_memory=False, quoting=3,
                           dtype={c: object for c in str_cols}, keep_default_na=False, na_values=[""],
                           engine="c")
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, ValueError) as exc:
        raise InputError(f"malformed MAF ({str(exc).splitlines()[0]})", p) from None


def _cell(value) -> str:
    """A cell as the user wrote it (numpy scalars unwrapped)."""
    return repr(value.item() if hasattr(value, "item") else value)


def _start_positions(df: pd.DataFrame, found: dict, skip: int, p: Path) -> np.ndarray:
    """1-based Start_Position as int64; refuses non-integers."""
    start = pd.to_numeric(df[found["start"]], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    wrong = np.isnan(start) | (start != np.floor(np.where(np.isfinite(start), start, 0.5)))
    if wrong.any():
        bad = int(np.flatnonzero(wrong)[0])
        raise InputError(f"line {skip + bad + 2}: {found['start']} is not an integer "
                         f"({df[found['start']].iloc[bad]!r})", p)
    out_of_range = (start < 1) | (start > INT32_MAX)
    if out_of_range.any():
        bad = int(np.flatnonzero(out_of_range)[0])
        raise InputError(f"line {skip + bad + 2}: {found['start']} {_cell(df[found['start']].iloc[bad])} is outside "
                         f"[1, {INT32_MAX}] (positions beyond 2^31 are not supported by any contig)", p)
    return start.astype(np.int64)


def _contigs_and_samples(df: pd.DataFrame, found: dict, skip: int, p: Path):
    """(contig code per row, canonical contig names, sample code per row, sample names)."""
    ccodes, cuniq = pd.factorize(df[found["contig"]].to_numpy(dtype=object), sort=False)
    canon = [canonical(str(c)) for c in cuniq]
    cnames = list(dict.fromkeys(canon))
    remap = np.array([cnames.index(c) for c in canon], dtype=np.int32)
    scodes, suniq = pd.factorize(df[found["sample"]].to_numpy(dtype=object), sort=False)
    for codes, role in ((ccodes, "contig"), (scodes, "sample")):
        if (codes < 0).any():
            bad = int(np.flatnonzero(codes < 0)[0])
            raise InputError(f"line {skip + bad + 2}: empty {found[role]}", p)
    return remap[ccodes], cnames, scodes, suniq


@dataclass
class _Alleles:
    """Alleles per row, computed once per distinct (REF, ALT) pair (``u_*``) and broadcast by ``inv``;
    VCF-style texts with an ``N`` anchor for indels."""

    inv: np.ndarray
    u_ref: list[str]
    u_alt: list[str]
    u_del: np.ndarray
    u_vref: list[str]
    u_valt: list[str]
    ins: np.ndarray
    dele: np.ndarray
    ref_len: np.ndarray
    alt_len: np.ndarray
    vtype: np.ndarray
    key: np.ndarray

    def unique_text(self) -> list[bytes]:
        return [f"{r}\t{a}".encode("ascii", errors="replace") for r, a in zip(self.u_vref, self.u_valt)]


def _alleles(df: pd.DataFrame, found: dict, skip: int, p: Path) -> _Alleles:
    ref_id, alt_id, texts = _allele_ids(df, found)
    pairs = ref_id.astype(np.int64) * np.int64(len(texts)) + alt_id
    upairs, inv = np.unique(pairs, return_inverse=True)
    inv = inv.reshape(-1)
    u_ref = [texts[int(x) // len(texts)] for x in upairs]
    u_alt = [texts[int(x) % len(texts)] for x in upairs]
    bad = [i for i, (r, a) in enumerate(zip(u_ref, u_alt)) if r == a]
    if bad:
        row = int(np.flatnonzero(inv == bad[0])[0])
        raise InputError(f"line {skip + row + 2}: tumor allele equals the reference allele ({u_ref[bad[0]]})", p)
    u_ins = np.array([r == "-" for r in u_ref], dtype=bool)
    u_del = np.array([a == "-" for a in u_alt], dtype=bool)
    u_rlen = np.array([len(r) for r in u_ref], dtype=np.int64)
    u_alen = np.array([len(a) for a in u_alt], dtype=np.int64)
    u_ref_len = np.where(u_ins, 1, np.where(u_del, u_rlen + 1, u_rlen)).astype(np.int32)
    u_alt_len = np.where(u_del, 1, np.where(u_ins, u_alen + 1, u_alen)).astype(np.int32)
    u_same = np.array([(r[:1] == a[:1]) or ins or dl for r, a, ins, dl in zip(u_ref, u_alt, u_ins, u_del)],
                      dtype=bool)
    u_vref = ["N" if ins else ("N" + r if dl else r) for r, ins, dl in zip(u_ref, u_ins, u_del)]
    u_valt = ["N" + a if ins else ("N" if dl else a) for a, ins, dl in zip(u_alt, u_ins, u_del)]
    u_key = fnv1a_many([f"{r}>{a}".encode("ascii", errors="replace") for r, a in zip(u_vref, u_valt)])
    ref_len, alt_len = u_ref_len[inv], u_alt_len[inv]
    return _Alleles(inv, u_ref, u_alt, u_del, u_vref, u_valt, u_ins[inv], u_del[inv], ref_len, alt_len,
                    classify(ref_len, alt_len, u_same[inv]), u_key[inv])


def _reference_anchors(al: _Alleles, reference: str | Path, cnames: list[str], contig: np.ndarray,
                       pos0: np.ndarray) -> dict[int, bytes] | None:
    """With a reference: real anchor bases for indel rows (their keys, in place, and texts per row)."""
    indel = al.ins | al.dele
    if not indel.any():
        return None
    rows = np.flatnonzero(indel)
    anchors = _anchor_bases(reference, np.asarray(cnames, dtype=object)[contig[rows]], pos0[rows])
    row_text = {}
    for r, anc in zip(rows.tolist(), anchors.tolist()):
        u = int(al.inv[r])
        vr = anc + al.u_ref[u] if al.u_del[u] else anc
        va = anc if al.u_del[u] else anc + al.u_alt[u]
        al.key[r] = allele_key(vr, va)
        row_text[r] = f"{vr}\t{va}".encode()
    return row_text


def _consequences(df: pd.DataFrame, found: dict, n: int) -> tuple[np.ndarray, bool]:
    """Consequence code per row (Variant_Classification, else a VEP-style Consequence column)."""
    if found["classification"]:
        codes, uniq = pd.factorize(df[found["classification"]].fillna("").to_numpy(dtype=object), sort=False)
        lut = np.array([annotation.maf_class_code(u) for u in uniq] or [-1], dtype=np.int8)
        return lut[codes], True
    if found["consequence"]:
        codes, uniq = pd.factorize(df[found["consequence"]].fillna("").to_numpy(dtype=object), sort=False)
        lut = np.array([annotation.most_severe(re.split("[,&;]", u)) for u in uniq] or [-1], dtype=np.int8)
        return lut[codes], True
    return np.full(n, annotation.UNANNOTATED, dtype=np.int8), False


def _filters(df: pd.DataFrame, found: dict, n: int) -> np.ndarray:
    if not found["filter"]:
        return np.full(n, FILTER_MISSING, dtype=np.int8)
    codes, uniq = pd.factorize(df[found["filter"]].to_numpy(dtype=object), sort=False)
    lut = np.full(len(uniq) + 1, FILTER_MISSING, dtype=np.int8)   # last slot: empty cell
    for i, u in enumerate(uniq):
        u = str(u).strip()
        lut[i] = FILTER_PASS if u == "PASS" else (FILTER_MISSING if u in ("", ".") else FILTER_FAIL)
    return lut[np.where(codes < 0, len(uniq), codes)]


def _read_counts(df: pd.DataFrame, found: dict, n: int, where: tuple[int, Path]) -> dict[str, np.ndarray]:
    """t_depth, t_alt, t_vaf (fraction), n_depth, n_alt; depth = ref + alt where only those are given.
    Counts beyond 2^31 - 1 or negative, and VAFs outside [0, 1], are refused (``where`` = skip, path)."""
    get = lambda r: df[found[r]] if found[r] else None  # noqa: E731
    t_alt = _numeric(get("t_alt"), n, np.int32, -1, where)
    t_ref = _numeric(get("t_ref"), n, np.int32, -1, where)
    t_depth = _numeric(get("t_depth"), n, np.int32, -1, where)
    with np.errstate(over="ignore"):
        t_sum = t_ref.astype(np.int64) + t_alt
    if (t_sum > INT32_MAX).any():
        raise InputError("t_ref_count + t_alt_count exceeds 2^31 - 1", where[1])
    fill = (t_depth < 0) & (t_ref >= 0) & (t_alt >= 0)
    t_depth[fill] = t_ref[fill] + t_alt[fill]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_vaf = np.where((t_depth > 0) & (t_alt >= 0), t_alt / np.maximum(t_depth, 1), np.nan)
    if found["t_vaf"]:
        given = _numeric(get("t_vaf"), n, np.float64, np.nan, where, hi=1.0)
        t_vaf = np.where(np.isnan(t_vaf), given, t_vaf)
    n_alt = _numeric(get("n_alt"), n, np.int32, -1, where)
    n_ref = _numeric(get("n_ref"), n, np.int32, -1, where)
    n_depth = _numeric(get("n_depth"), n, np.int32, -1, where)
    if ((n_ref.astype(np.int64) + n_alt) > INT32_MAX).any():
        raise InputError("n_ref_count + n_alt_count exceeds 2^31 - 1", where[1])
    fill = (n_depth < 0) & (n_ref >= 0) & (n_alt >= 0)
    n_depth[fill] = n_ref[fill] + n_alt[fill]
    return {"t_depth": t_depth, "t_alt": t_alt, "t_vaf": t_vaf.astype(np.float32), "n_depth": n_depth,
            "n_alt": n_alt}


def _meta(df: pd.DataFrame, found: dict, counts: dict[str, np.ndarray], has_csq: bool, pop_cols: list[str],
          reference) -> dict:
    build = None
    if found["build"]:
        build = _build_name(df[found["build"]].dropna().astype(str).unique().tolist())
    return {
        "format": "maf", "columns": {r: c for r, c in found.items() if c}, "has_consequence": has_csq,
        "consequence_source": found["classification"] or found["consequence"],
        "has_filter": found["filter"] is not None,
        "has_depth": bool((counts["t_depth"] >= 0).any()), "has_alt_reads": bool((counts["t_alt"] >= 0).any()),
        "has_vaf": bool((~np.isnan(counts["t_vaf"])).any()),
        "has_normal": bool((counts["n_depth"] >= 0).any() or (counts["n_alt"] >= 0).any()),
        "has_pop_af": bool(pop_cols), "pop_af_fields": pop_cols, "build": build,
        "indel_anchor": "reference" if reference is not None else "N", "caller": "maf",
    }


def _allele_ids(df: pd.DataFrame, found: dict) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Row ids into one list of distinct upper-case allele strings ('-' for empty) for REF and the
    tumor allele (Tumor_Seq_Allele2, or Tumor_Seq_Allele1 where Allele2 equals REF)."""
    ids: dict[str, int] = {}
    texts: list[str] = []

    def encode(col: str) -> np.ndarray:
        codes, uniq = pd.factorize(df[col].to_numpy(dtype=object), sort=False, use_na_sentinel=True)
        lut = np.empty(len(uniq) + 1, dtype=np.int64)
        for i, u in enumerate(list(uniq) + ["-"]):
            t = str(u).strip().upper()
            t = "-" if t in ("", ".", "NAN") else t
            if t not in ids:
                ids[t] = len(texts)
                texts.append(t)
            lut[i] = ids[t]
        return lut[np.where(codes < 0, len(uniq), codes)]

    ref_id = encode(found["ref"])
    alt_id = encode(found["alt"])
    if found["alt1"]:
        same = alt_id == ref_id
        if same.any():
            alt1 = encode(found["alt1"])
            use = same & (alt1 != ref_id)
            alt_id = np.where(use, alt1, alt_id)
    return ref_id, alt_id, texts


def _gather_text(u_text: list[bytes], inv: np.ndarray, row_text: dict[int, bytes] | None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per-row 'REF\tALT' buffer + offsets from per-pair texts (and per-row overrides)."""
    if row_text:
        texts = list(u_text)
        inv = inv.copy()
        for r, t in row_text.items():
            inv[r] = len(texts)
            texts.append(t)
        u_text = texts
    u_len = np.array([len(t) for t in u_text], dtype=np.int64)
    u_off = np.zeros(len(u_text) + 1, dtype=np.int64)
    np.cumsum(u_len, out=u_off[1:])
    u_buf = np.frombuffer(b"".join(u_text) or b"\0", dtype=np.uint8)
    lens = u_len[inv]
    offsets = np.zeros(inv.size + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    idx = np.repeat(u_off[:-1][inv] - offsets[:-1], lens) + np.arange(int(offsets[-1]), dtype=np.int64)
    return u_buf[idx], offsets


def _build_name(values: list[str]) -> str | None:
    names = set()
    for v in values:
        v = v.strip()
        if v in ("37", "GRCh37", "hg19", "GRCh37-lite"):
            names.add("GRCh37")
        elif v in ("38", "GRCh38", "hg38"):
            names.add("GRCh38")
    return names.pop() if len(names) == 1 else None


def _anchor_bases(reference: str | Path, contigs: np.ndarray, pos0: np.ndarray) -> np.ndarray:
    import pysam

    ref = require_readable(reference, "reference FASTA")
    try:
        fa = pysam.FastaFile(str(ref))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot open reference FASTA ({exc})", ref) from None
    native = {canonical(c): c for c in fa.references}
    out = np.empty(pos0.size, dtype=object)
    for i, (c, p) in enumerate(zip(contigs.tolist(), pos0.tolist())):
        name = native.get(c)
        if name is None:
            raise InputError(f"contig {c} of the MAF is not in the reference", ref)
        out[i] = fa.fetch(name, p, p + 1).upper() or "N"
    fa.close()
    return out


def header_probe(path: str | Path, pop_af_fields: tuple[str, ...] | list[str] = DEFAULT_POP_AF_COLUMNS
                 ) -> VariantTable | None:
    """One placeholder row whose metadata says which values the MAF's *header* offers (depth,
    alt reads, VAF, normal, population AF, consequence, FILTER), for checking a profile's
    requirements before the whole file is read.  Values are "missing" sentinels, so only the
    header flags count.  None when a required column is absent (:func:`read_maf` reports it)."""
    p = Path(path)
    cols, _ = _header(p)
    f = {role: _pick(cols, role) for role in ROLES}
    if any(f[r] is None for r in REQUIRED):
        return None
    t = VariantTable.empty(str(p))
    one = {k: np.full(1, np.nan if v.dtype.kind == "f" else (-1 if v.dtype.kind == "i" else 0), dtype=v.dtype)
           for k, v in t.columns.items()}
    depth = bool(f["t_depth"] or (f["t_ref"] and f["t_alt"]))
    t.columns, t.contigs, t.samples = one, ["1"], ["(probe)"]
    t.meta.update({"format": "maf", "has_consequence": bool(f["classification"] or f["consequence"]),
                   "has_filter": f["filter"] is not None, "has_depth": depth, "has_alt_reads": bool(f["t_alt"]),
                   "has_vaf": bool(f["t_vaf"] or (depth and f["t_alt"])),
                   "has_normal": bool(f["n_depth"] or f["n_alt"] or (f["n_ref"] and f["n_alt"])),
                   "has_pop_af": any(c in cols for c in pop_af_fields), "caller": "maf"})
    return t


def _empty(p: Path, found: dict) -> VariantTable:
    t = VariantTable.empty(str(p))
    t.meta.update({"format": "maf", "columns": {r: c for r, c in found.items() if c},
                   "has_consequence": bool(found["classification"] or found["consequence"]),
                   "has_filter": found["filter"] is not None, "has_depth": False, "has_alt_reads": False,
                   "has_vaf": False, "has_normal": False, "has_pop_af": False, "build": None, "caller": "maf"})
    t.allele_text = (np.empty(0, np.uint8), np.zeros(1, np.int64))
    return t


__all__ = ["read_maf", "header_probe", "looks_like_maf", "fnv1a_many", "ROLES"]
