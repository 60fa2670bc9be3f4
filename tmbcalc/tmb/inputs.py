"""Several call files for one tumor (e.g. Strelka2's SNV and indel VCFs) read as one variant input.

Each file is opened and checked on its own (header, samples, rule requirements); the chunks are
then read file after file with one contig numbering (canonical names, a list that only grows) and
one sample numbering (the first file's order), and every row carries the 0-based index of its
file in an extra ``input`` column (the variants report names the file).  Every file must hold the
same tumor sample(s).

Duplicates across files: a row whose (contig, 0-based position, REF, ALT) was already counted as
eligible from an EARLIER file fails the rule ``duplicate_across_files`` (the last rule, applied only
to rows that pass every other rule), so a variant present in several files is counted once,
whichever file holds its eligible copy first.  Duplicates inside one file are left as they are.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..contigs import canonical
from ..errors import InputError
from ..variants import VariantTable
from .rules import BIT, DUPLICATE_RULE, RULES, RuleOutcome
from .sources import VariantSource

INPUT_COLUMN = "input"


class MultiSource(VariantSource):
    """Several :class:`VariantSource` objects of one tumor read in order as one source."""

    def __init__(self, parts: Sequence[VariantSource]) -> None:
        first = parts[0]
        for p in parts[1:]:
            if sorted(p.samples) != sorted(first.samples):
                raise InputError(f"holds tumor sample(s) {', '.join(p.samples) or 'none'} but {first.source} holds "
                                 f"{', '.join(first.samples) or 'none'}: several call files must be of one tumor "
                                 f"with the same sample name (pick it with tumor_sample, or rename a sample "
                                 f"column with bcftools reheader -s)", p.source, params=("tumor_sample",))
        self.parts = list(parts)
        self.contigs: list[str] = []
        self._cindex: dict[str, int] = {}
        meta = dict(first.meta)
        meta["inputs"] = [p.source for p in parts]
        super().__init__("multi", first.source, list(first.samples), meta, self._chunks(),
                         closer=self._close_all, final=self._final_meta)

    @property
    def sources(self) -> list[str]:
        return [p.source for p in self.parts]

    def _remap(self, t: VariantTable, k: int, samples: list[str]) -> VariantTable:
        for c in t.contigs:
            cc = canonical(c)
            if cc not in self._cindex:
                self._cindex[cc] = len(self.contigs)
                self.contigs.append(cc)
        cols = dict(t.columns)
        if len(t):
            lut = np.array([self._cindex[canonical(c)] for c in t.contigs] or [0], dtype=np.int32)
            cols["contig"] = lut[t["contig"]]
            if list(t.samples) != samples and t.samples:
                slut = np.array([samples.index(s) for s in t.samples], dtype=np.int32)
                cols["sample"] = slut[t["sample"]]
        cols[INPUT_COLUMN] = np.full(len(t), k, dtype=np.int32)
        return VariantTable(cols, list(self.contigs), list(samples), t.source, t.meta, t.allele_text)

    def _chunks(self) -> Iterator[VariantTable]:
        for k, part in enumerate(self.parts):
            for t in part:
                yield self._remap(t, k, self.samples)

    def rename_sample(self, name: str) -> None:
        """``--sample``: every file's one tumor reported as ``name``."""
        for part in self.parts:
            part.rename_sample(name)
        super().rename_sample(name)

    def part_metas(self) -> list[dict[str, Any]]:
        """Each file's reader metadata after reading."""
        return [p.final_meta() for p in self.parts]

    def _final_meta(self) -> dict[str, Any]:
        metas = self.part_metas()
        out = dict(metas[0])
        out["inputs"] = [{"path": p.source, "format": m.get("format"), "caller": m.get("caller"),
                          "records": m.get("records", m.get("rows")), "fields": m.get("fields")}
                         for p, m in zip(self.parts, metas)]
        out["records"] = sum(int(m.get("records", m.get("rows", 0)) or 0) for m in metas)
        return out

    def _close_all(self) -> None:
        for p in self.parts:
            p.close()


class CrossFileDuplicates:
    """Marks rows already counted as eligible from an earlier file (see the module docstring)."""

    def __init__(self) -> None:
        self._earlier: set[tuple[str, int, int]] = set()   # eligible keys of finished files
        self._current: set[tuple[str, int, int]] = set()
        self._file = 0
        self.count = 0

    def _keys(self, t: VariantTable, rows: np.ndarray) -> list[tuple[str, int, int]]:
        names = t.contigs
        return list(zip([names[c] for c in t["contig"][rows].tolist()], t["pos"][rows].tolist(),
                        t["allele_key"][rows].tolist()))

    def mark(self, t: VariantTable, o: RuleOutcome) -> None:
        """Fail ``duplicate_across_files`` on eligible rows whose key an earlier file counted."""
        k = int(t[INPUT_COLUMN][0]) if len(t) else self._file
        if k != self._file:
            self._earlier |= self._current
            self._current = set()
            self._file = k
        o.active = tuple(r for r in RULES if r in o.active or r == DUPLICATE_RULE)
        rows = np.flatnonzero(o.eligible)
        if not rows.size:
            return
        keys = self._keys(t, rows)
        dup = np.array([key in self._earlier for key in keys], dtype=bool)
        self._current.update(key for key, d in zip(keys, dup) if not d)
        hit = rows[dup]
        if hit.size:
            o.fail_bits[hit] |= BIT[DUPLICATE_RULE]
            o.first_fail[hit] = RULES.index(DUPLICATE_RULE)
            o.eligible[hit] = False
            self.count += int(hit.size)


def input_names(paths: Sequence[str | Path]) -> list[str]:
    """File names for the variants report's ``input`` column (full paths when names collide)."""
    names = [Path(p).name for p in paths]
    return names if len(set(names)) == len(names) else [str(p) for p in paths]


__all__ = ["MultiSource", "CrossFileDuplicates", "INPUT_COLUMN", "input_names"]
