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
anchor, see :mod:`tmbcalc.hotspots`).

Depth = ``t_depth`` or ``t_ref_count + t_alt_count``; VAF = alt / depth (or a ``tumor_f``/``VAF``
column when counts are absent).  FILTER: ``PASS`` -> pass, empty/``.`` -> missing, else fail;
a MAF without a FILTER column has every row "missing" and ``meta["has_filter"] = False``.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import annotation
from ..contigs import canonical
from ..errors import InputError, require_readable
from ..variants import FILTER_FAIL, FILTER_MISSING, FILTER_PASS, VariantTable, classify
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
                return line.rstrip("\r\n").split("\t"), skip
    except (EOFError, OSError) as exc:
        raise InputError(f"cannot read MAF ({exc})", path) from None
    raise InputError("MAF has no header line", path)


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


def _numeric(series: pd.Series | None, n: int, dtype, fill) -> np.ndarray:
    if series is None:
        return np.full(n, fill, dtype=dtype)
    v = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if np.issubdtype(np.dtype(dtype), np.integer):
        out = np.where(np.isnan(v), fill, v)
        return out.astype(dtype)
    return v.astype(dtype)


def _pop_af(series: pd.Series) -> np.ndarray:
    """Numeric AF; ``GMAF``-style ``A:0.0012`` values keep the number after the colon."""
    s = series.astype(str)
    if s.str.contains(":", regex=False).any():
        s = s.str.rsplit(":", n=1).str[-1]
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


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
    wanted = sorted({c for c in found.values() if c} | set(pop_cols))
    str_cols = {found[r] for r in ("contig", "ref", "alt", "alt1", "sample", "classification",
                                   "consequence", "filter", "build") if found[r]}
    try:
        df = pd.read_csv(p, sep="\t", skiprows=skip, usecols=wanted, low_memory=False, quoting=3,
                         dtype={c: str for c in str_cols}, keep_default_na=False, na_values=[""],
                         engine="c")
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, ValueError) as exc:
        raise InputError(f"malformed MAF ({str(exc).splitlines()[0]})", p) from None
    n = len(df)
    if n == 0:
        return _empty(p, found)

    start = pd.to_numeric(df[found["start"]], errors="coerce")
    if start.isna().any():
        bad = int(np.flatnonzero(start.isna().to_numpy())[0])
        raise InputError(f"line {skip + bad + 2}: {found['start']} is not an integer "
                         f"({df[found['start']].iloc[bad]!r})", p)
    start = start.to_numpy(dtype=np.int64)
    ref = df[found["ref"]].fillna("-").str.upper()
    alt = df[found["alt"]].fillna("-").str.upper()
    if found["alt1"]:
        a1 = df[found["alt1"]].fillna("-").str.upper()
        same = (alt == ref) & (a1 != ref)
        alt = alt.where(~same, a1)
    ref = ref.replace(".", "-")
    alt = alt.replace(".", "-")
    if (ref == alt).any():
        bad = int(np.flatnonzero((ref == alt).to_numpy())[0])
        raise InputError(f"line {skip + bad + 2}: tumor allele equals the reference allele "
                         f"({ref.iloc[bad]})", p)
    ins = (ref == "-").to_numpy()
    dele = (alt == "-").to_numpy()
    rlen = ref.str.len().to_numpy(dtype=np.int64)
    alen = alt.str.len().to_numpy(dtype=np.int64)

    pos0 = start - 1
    pos0[dele] -= 1                       # anchor = base before the first deleted base
    ref_len = np.where(ins, 1, np.where(dele, rlen + 1, rlen)).astype(np.int32)
    alt_len = np.where(dele, 1, np.where(ins, alen + 1, alen)).astype(np.int32)
    if (pos0 < 0).any():
        bad = int(np.flatnonzero(pos0 < 0)[0])
        raise InputError(f"line {skip + bad + 2}: position {start[bad]} is invalid", p)

    # contigs (canonical) and samples
    ccodes, cuniq = pd.factorize(df[found["contig"]].astype(str), sort=False)
    canon = [canonical(c) for c in cuniq]
    cnames = list(dict.fromkeys(canon))
    remap = np.array([cnames.index(c) for c in canon], dtype=np.int32)
    contig = remap[ccodes]
    scodes, suniq = pd.factorize(df[found["sample"]].astype(str), sort=False)

    # VCF-style alleles (anchor N or from the reference)
    indel = ins | dele
    anchors = np.full(n, "N", dtype=object)
    if reference is not None and indel.any():
        anchors[indel] = _anchor_bases(reference, np.asarray(cnames, dtype=object)[contig[indel]], pos0[indel])
    ref_v = ref.to_numpy(dtype=object).copy()
    alt_v = alt.to_numpy(dtype=object).copy()
    if indel.any():
        idx = np.flatnonzero(ins)
        ref_v[idx] = anchors[idx]
        alt_v[idx] = anchors[idx] + alt_v[idx]
        idx = np.flatnonzero(dele)
        ref_v[idx] = anchors[idx] + ref_v[idx]
        alt_v[idx] = anchors[idx]
    same_first = np.ones(n, dtype=bool)
    neq = (ref_len != alt_len) & ~indel
    if neq.any():
        idx = np.flatnonzero(neq)
        same_first[idx] = [r[:1] == a[:1] for r, a in zip(ref_v[idx], alt_v[idx])]
    vtype = classify(ref_len, alt_len, same_first)
    keys_text = (pd.Series(ref_v) + ">" + pd.Series(alt_v)).str.encode("ascii", errors="replace")
    akey = fnv1a_many(keys_text.to_numpy(dtype=object))

    # consequences
    has_csq = True
    if found["classification"]:
        cls = df[found["classification"]].fillna("")
        codes, uniq = pd.factorize(cls, sort=False)
        lut = np.array([annotation.maf_class_code(u) for u in uniq] or [-1], dtype=np.int8)
        csq = lut[codes]
    elif found["consequence"]:
        cls = df[found["consequence"]].fillna("")
        codes, uniq = pd.factorize(cls, sort=False)
        lut = np.array([annotation.most_severe(re.split("[,&;]", u)) for u in uniq] or [-1], dtype=np.int8)
        csq = lut[codes]
    else:
        has_csq = False
        csq = np.full(n, annotation.UNANNOTATED, dtype=np.int8)

    # filter
    if found["filter"]:
        f = df[found["filter"]].fillna(".").str.strip()
        filt = np.full(n, FILTER_FAIL, dtype=np.int8)
        filt[(f == "PASS").to_numpy()] = FILTER_PASS
        filt[((f == ".") | (f == "")).to_numpy()] = FILTER_MISSING
    else:
        filt = np.full(n, FILTER_MISSING, dtype=np.int8)

    # read counts
    get = lambda r: df[found[r]] if found[r] else None  # noqa: E731
    t_alt = _numeric(get("t_alt"), n, np.int32, -1)
    t_ref = _numeric(get("t_ref"), n, np.int32, -1)
    t_depth = _numeric(get("t_depth"), n, np.int32, -1)
    fill = (t_depth < 0) & (t_ref >= 0) & (t_alt >= 0)
    t_depth[fill] = t_ref[fill] + t_alt[fill]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_vaf = np.where((t_depth > 0) & (t_alt >= 0), t_alt / np.maximum(t_depth, 1), np.nan)
    if found["t_vaf"]:
        given = _numeric(get("t_vaf"), n, np.float64, np.nan)
        t_vaf = np.where(np.isnan(t_vaf), given, t_vaf)
    n_alt = _numeric(get("n_alt"), n, np.int32, -1)
    n_ref = _numeric(get("n_ref"), n, np.int32, -1)
    n_depth = _numeric(get("n_depth"), n, np.int32, -1)
    fill = (n_depth < 0) & (n_ref >= 0) & (n_alt >= 0)
    n_depth[fill] = n_ref[fill] + n_alt[fill]

    pop_af = np.full(n, np.nan)
    for c in pop_cols:
        v = _pop_af(df[c])
        pop_af = np.fmax(pop_af, v)  # the largest AF over the listed fields

    columns = {
        "record": np.arange(n, dtype=np.int64), "sample": scodes.astype(np.int32), "contig": contig,
        "pos": pos0.astype(np.int64), "ref_len": ref_len, "alt_len": alt_len, "vtype": vtype,
        "allele_index": np.ones(n, np.int16), "n_alts": np.ones(n, np.int16), "filter": filt,
        "t_depth": t_depth, "t_alt": t_alt, "t_vaf": t_vaf.astype(np.float32), "n_depth": n_depth,
        "n_alt": n_alt, "pop_af": pop_af.astype(np.float32), "csq": csq.astype(np.int8), "allele_key": akey,
    }
    allele_text = None
    if keep_alleles:
        joined = (pd.Series(ref_v) + "\t" + pd.Series(alt_v)).str.encode("ascii", errors="replace")
        lens = joined.str.len().to_numpy(dtype=np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        allele_text = (np.frombuffer(b"".join(joined.tolist()), dtype=np.uint8), offsets)
    build = None
    if found["build"]:
        vals = df[found["build"]].dropna().astype(str).unique().tolist()
        build = _build_name(vals)
    meta = {
        "format": "maf", "columns": {r: c for r, c in found.items() if c}, "has_consequence": has_csq,
        "consequence_source": found["classification"] or found["consequence"],
        "has_filter": found["filter"] is not None,
        "has_depth": bool((t_depth >= 0).any()), "has_alt_reads": bool((t_alt >= 0).any()),
        "has_vaf": bool((~np.isnan(t_vaf)).any()),
        "has_normal": bool((n_depth >= 0).any() or (n_alt >= 0).any()),
        "has_pop_af": bool(pop_cols), "pop_af_fields": pop_cols, "build": build,
        "indel_anchor": "reference" if reference is not None else "N", "caller": "maf",
    }
    return VariantTable(columns, cnames, [str(s) for s in suniq], str(p), meta, allele_text)


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


def _empty(p: Path, found: dict) -> VariantTable:
    t = VariantTable.empty(str(p))
    t.meta.update({"format": "maf", "columns": {r: c for r, c in found.items() if c},
                   "has_consequence": bool(found["classification"] or found["consequence"]),
                   "has_filter": found["filter"] is not None, "has_depth": False, "has_alt_reads": False,
                   "has_vaf": False, "has_normal": False, "has_pop_af": False, "build": None, "caller": "maf"})
    t.allele_text = (np.empty(0, np.uint8), np.zeros(1, np.int64))
    return t


__all__ = ["read_maf", "looks_like_maf", "fnv1a_many", "ROLES"]
