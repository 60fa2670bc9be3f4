"""Hotspot lists (variants to exclude from TMB) and matching variants against them.

Accepted files (plain or gzip):

* cancerhotspots.org-style TSV without header (as shipped by maftools): ``chrom pos ref alt ...``
  with MAF-style alleles (``-`` for the empty allele, 1-based ``pos`` of the first reference base);
* TSV with a header naming ``chr``/``chrom``/``Chromosome``, ``pos``/``Start_Position``, ``ref``,
  ``alt`` (e.g. dndscv ``knownhotspots``), MAF-style or VCF-style alleles;
* VCF (``##fileformat=VCF``): CHROM POS REF ALT (every ALT allele).

Matching convention (what "the same variant" means):

* SNVs, MNVs and alleles that are not simple indels match on (contig, position, REF>ALT);
* deletions match on (contig, first deleted base, deleted length);
* insertions match on (contig, base before the insertion, inserted length) — the inserted
  sequence is not compared, because MAF-style lists carry no anchor base and a VCF-style
  input would need the reference to convert.  An insertion of the same length at the same
  point as a listed insertion is therefore treated as that hotspot (documented approximation).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..contigs import canonical
from ..errors import InputError
from ..io.textfile import iter_lines
from ..variants import DEL, INS, VariantTable, allele_key

KIND_EXACT, KIND_DEL, KIND_INS = 0, 1, 2
_SHIFT = np.int64(1) << np.int64(36)  # contig index << 36 | event position (positions < 6.8e10)


@dataclass(frozen=True)
class HotspotList:
    """Parsed hotspot sites as (canonical contig, event position 0-based, kind, key) tuples."""

    sites: frozenset[tuple[str, int, int, int]]
    source: str
    n_lines: int

    def __len__(self) -> int:
        return len(self.sites)

    def contigs(self) -> set[str]:
        return {s[0] for s in self.sites}


def _site_from_alleles(contig: str, pos1: int, ref: str, alt: str) -> tuple[str, int, int, int]:
    """Event tuple of one variant given 1-based position and MAF- or VCF-style alleles."""
    ref = "" if ref in ("-", ".") else ref.upper()
    alt = "" if alt in ("-", ".") else alt.upper()
    c = canonical(contig)
    if ref and alt and len(ref) != len(alt) and ref[0] == alt[0]:
        # VCF-style anchored indel: POS is the anchor base
        if len(ref) > len(alt) and alt == ref[:len(alt)]:
            return (c, pos1 - 1 + len(alt), KIND_DEL, len(ref) - len(alt))
        if len(alt) > len(ref) and ref == alt[:len(ref)]:
            return (c, pos1 - 1 + len(ref) - 1, KIND_INS, len(alt) - len(ref))
    if not alt and ref:   # MAF deletion: pos1 = first deleted base
        return (c, pos1 - 1, KIND_DEL, len(ref))
    if not ref and alt:   # MAF insertion: pos1 = base before the insertion
        return (c, pos1 - 1, KIND_INS, len(alt))
    return (c, pos1 - 1, KIND_EXACT, allele_key(ref, alt))


def read_hotspots(path: str | Path) -> HotspotList:
    """Read a hotspot list (see module doc for formats); malformed lines raise InputError."""
    p = Path(path)
    sites: set[tuple[str, int, int, int]] = set()
    cols: tuple[int, int, int, int] | None = None
    is_vcf = False
    n = 0
    for lineno, line in iter_lines(p):
        if not line.strip():
            continue
        if line.startswith("##"):
            is_vcf = is_vcf or line.startswith("##fileformat=VCF")
            continue
        fields = line.split("\t")
        if line.startswith("#") or (cols is None and not is_vcf and len(fields) > 1
                                    and not fields[1].strip().isdigit()):
            header = [f.strip().lstrip("#").lower() for f in fields]
            cols = _header_columns(header, p, lineno)
            continue
        if cols is None:
            cols = (0, 1, 3, 4) if is_vcf else (0, 1, 2, 3)
        try:
            contig, pos, ref, alt = (fields[i].strip() for i in cols)
            pos1 = int(pos)
        except (IndexError, ValueError):
            raise InputError(f"line {lineno}: expected chrom, pos, ref, alt columns, got {line[:60]!r}", p) from None
        if pos1 < 1 or not ref or not alt:
            raise InputError(f"line {lineno}: bad position or empty allele", p)
        for a in alt.split(","):
            sites.add(_site_from_alleles(contig, pos1, ref, a))
        n += 1
    if not sites:
        raise InputError("hotspot list has no entries", p)
    return HotspotList(frozenset(sites), str(p), n)


def _header_columns(header: list[str], p: Path, lineno: int) -> tuple[int, int, int, int]:
    def find(*names: str) -> int:
        for nm in names:
            if nm in header:
                return header.index(nm)
        raise InputError(f"line {lineno}: header lacks a column named {' or '.join(names)}", p)
    return (find("chrom", "chr", "chromosome", "contig"), find("pos", "position", "start_position", "start"),
            find("ref", "reference_allele", "reference"), find("alt", "tumor_seq_allele2", "alternate", "mut"))


def event_positions(table: VariantTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(event position, kind, key) per row under the matching convention of the module doc."""
    pos = table["pos"]
    vt = table["vtype"]
    rl = table["ref_len"].astype(np.int64)
    al = table["alt_len"].astype(np.int64)
    kind = np.full(pos.size, KIND_EXACT, dtype=np.int8)
    ev = pos.astype(np.int64).copy()
    key = table["allele_key"].astype(np.uint64).copy()
    d = vt == DEL
    kind[d] = KIND_DEL
    ev[d] = pos[d] + al[d]
    key[d] = (rl[d] - al[d]).astype(np.uint64)
    i = vt == INS
    kind[i] = KIND_INS
    ev[i] = pos[i] + rl[i] - 1
    key[i] = (al[i] - rl[i]).astype(np.uint64)
    # complex alleles (neither INS nor DEL) keep the exact key
    return ev, kind, key


TRUNCATING = ("nonsense", "frameshift")


@dataclass(frozen=True)
class TruncatingInRegions:
    """Known-driver list of another kind: truncating variants (nonsense, frameshift) inside
    regions, e.g. the coding exons of tumor-suppressor genes (FoundationOne-style exclusion)."""

    regions: Any
    source: str


def match_truncating(table: VariantTable, drivers: TruncatingInRegions) -> np.ndarray:
    """Rows whose consequence is truncating and whose changed bases overlap the regions."""
    from .. import annotation
    from .rules import in_footprint

    codes = [annotation.CODE[c] for c in TRUNCATING]
    return np.isin(table["csq"], codes) & in_footprint(table, drivers.regions)


def match_drivers(table: VariantTable, lists: list) -> np.ndarray | None:
    """Union of hotspot lists and truncating-in-regions lists (None when there are none)."""
    if not lists:
        return None
    mask = np.zeros(len(table), dtype=bool)
    for d in lists:
        mask |= match_truncating(table, d) if isinstance(d, TruncatingInRegions) else match_hotspots(table, d)
    return mask


def match_hotspots(table: VariantTable, hotspots: HotspotList) -> np.ndarray:
    """Boolean mask: which rows of ``table`` are listed hotspots."""
    out = np.zeros(len(table), dtype=bool)
    if not len(table) or not len(hotspots):
        return out
    cindex = {c: i for i, c in enumerate(table.contigs)}
    hs = [(cindex[c], p, k, v) for c, p, k, v in hotspots.sites if c in cindex]
    if not hs:
        return out
    ev, kind, key = event_positions(table)
    packed = table["contig"].astype(np.int64) * _SHIFT + ev
    hs_packed = np.array([c * _SHIFT + p for c, p, _, _ in hs], dtype=np.int64)
    cand = np.flatnonzero(np.isin(packed, hs_packed))
    lookup = {(c, p, k, v) for c, p, k, v in hs}
    contig = table["contig"]
    for r in cand.tolist():
        if (int(contig[r]), int(ev[r]), int(kind[r]), int(key[r])) in lookup:
            out[r] = True
    return out


def join_sites(table: VariantTable, other: VariantTable, values: np.ndarray) -> np.ndarray:
    """For each row of ``table``, the value of the row of ``other`` with the same contig,
    position and allele_key (NaN where none); used to add population AF from a resource VCF."""
    out = np.full(len(table), np.nan, dtype=np.float64)
    if not len(table) or not len(other):
        return out
    import pandas as pd

    name_to_other = {c: i for i, c in enumerate(other.contigs)}
    remap = np.array([name_to_other.get(c, -1) for c in table.contigs], dtype=np.int64)
    t_contig = remap[table["contig"]]
    right = pd.MultiIndex.from_arrays([other["contig"].astype(np.int64), other["pos"].astype(np.int64),
                                       other["allele_key"].astype(np.uint64)])
    vals = np.asarray(values, dtype=np.float64)
    first = ~right.duplicated(keep="first")
    right, vals = right[first], vals[first]
    left = pd.MultiIndex.from_arrays([t_contig, table["pos"].astype(np.int64), table["allele_key"].astype(np.uint64)])
    idx = right.get_indexer(left)
    hit = idx >= 0
    out[hit] = vals[idx[hit]]
    return out


__all__ = ["HotspotList", "read_hotspots", "match_hotspots", "join_sites", "event_positions"]
