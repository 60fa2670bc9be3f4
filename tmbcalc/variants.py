"""The columnar variant table every reader produces and every rule consumes.

One row per (record, ALT allele) that a reader emits — see ``allele_index`` and the profile's
multi-allelic rule.  Columns are numpy arrays of equal length; strings are interned into small
lookup lists (``contigs``, ``samples``) so that no Python object exists per record.

Conventions: ``pos`` is 0-based (VCF POS - 1); ``ref_len``/``alt_len`` are allele lengths in
bases; depths and read counts are integers with -1 for missing; VAF and population AF are
fractions in [0, 1] with NaN for missing; ``csq`` is a class code of
:mod:`tmbcalc.annotation` (-1 unannotated).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# variant type codes
SNV, MNV, INS, DEL, COMPLEX = 0, 1, 2, 3, 4
VTYPE_NAMES = ("snv", "mnv", "ins", "del", "complex")
# FILTER status codes
FILTER_PASS, FILTER_MISSING, FILTER_FAIL = 0, 1, 2

COLUMNS: dict[str, Any] = {
    "record": np.int64,        # 0-based ordinal of the input record (VCF line / MAF row)
    "sample": np.int32,        # index into VariantTable.samples
    "contig": np.int32,        # index into VariantTable.contigs (canonical names)
    "pos": np.int64,           # 0-based start
    "ref_len": np.int32,
    "alt_len": np.int32,
    "vtype": np.int8,          # SNV/MNV/INS/DEL/COMPLEX
    "allele_index": np.int16,  # 1-based ALT index within the record
    "n_alts": np.int16,        # number of ALT alleles in the record
    "filter": np.int8,         # FILTER_PASS / FILTER_MISSING / FILTER_FAIL
    "t_depth": np.int32,
    "t_alt": np.int32,
    "t_vaf": np.float32,
    "n_depth": np.int32,
    "n_alt": np.int32,
    "pop_af": np.float32,
    "csq": np.int8,
    "allele_key": np.uint64,   # allele_key(REF, ALT): matches hotspot / population-AF resources
}


_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3


def allele_key(ref: str | bytes, alt: str | bytes) -> int:
    """64-bit FNV-1a hash of ``REF + ">" + ALT`` (VCF-style alleles, upper case).

    The VCF kernel computes the same value in C; readers of other formats convert their alleles
    to VCF style first.  Used to match variants against hotspot lists and resource VCFs by
    (contig, pos, allele_key).
    """
    data = (ref.encode() if isinstance(ref, str) else ref).upper() + b">" + \
        (alt.encode() if isinstance(alt, str) else alt).upper()
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


@dataclass
class VariantTable:
    """Columnar variants of one input file (one or many tumor samples).

    ``allele_text`` optionally holds each row's ``REF\tALT`` text for reports without a Python
    object per row: ``(buffer uint8[N], offsets int64[n+1])``, row i being
    ``buffer[offsets[i]:offsets[i+1]]``.  ``meta`` describes the source: caller, fields found,
    which FORMAT/INFO field filled each column, contig lengths, detected build.
    """

    columns: dict[str, np.ndarray]
    contigs: list[str]
    samples: list[str]
    source: str
    meta: dict[str, Any] = field(default_factory=dict)
    allele_text: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return int(self.columns["pos"].size)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def contig_names(self) -> np.ndarray:
        """Canonical contig name per row (object array; builds one object per row: for reports)."""
        return np.asarray(self.contigs, dtype=object)[self.columns["contig"]]

    def alleles(self, i: int) -> tuple[str, str]:
        """(REF, ALT) of row i (for reports and tests; not for per-row loops over big tables)."""
        if self.allele_text is None:
            raise ValueError(f"{self.source}: allele text was not kept")
        buf, off = self.allele_text
        ref, _, alt = bytes(buf[off[i]:off[i + 1]]).decode().partition("\t")
        return ref, alt

    def take(self, mask_or_index: np.ndarray) -> VariantTable:
        """Row subset (allele text is dropped: re-read with the row indices if needed)."""
        cols = {k: v[mask_or_index] for k, v in self.columns.items()}
        return VariantTable(cols, self.contigs, self.samples, self.source, dict(self.meta), None)

    @classmethod
    def empty(cls, source: str) -> VariantTable:
        return cls({k: np.empty(0, dtype=t) for k, t in COLUMNS.items()}, [], [], source)


def classify(ref_len: np.ndarray, alt_len: np.ndarray, same_first_base: np.ndarray | None = None) -> np.ndarray:
    """Variant type codes from allele lengths (VCF-style alleles, padding base included).

    SNV: 1/1; MNV: equal lengths > 1; INS: alt longer; DEL: ref longer.  Complex (unequal
    lengths without a shared padding base) when ``same_first_base`` is given and False.
    """
    ref_len = np.asarray(ref_len)
    alt_len = np.asarray(alt_len)
    out = np.full(ref_len.shape, COMPLEX, dtype=np.int8)
    out[(ref_len == 1) & (alt_len == 1)] = SNV
    out[(ref_len == alt_len) & (ref_len > 1)] = MNV
    out[alt_len > ref_len] = INS
    out[alt_len < ref_len] = DEL
    if same_first_base is not None:
        out[(ref_len != alt_len) & ~np.asarray(same_first_base, dtype=bool)] = COMPLEX
    return out
