"""Plain-Python interval lists (no numpy): the footprint arithmetic of the lean commands.

Coordinates are 0-based half-open.  A *footprint* maps canonical contig names to sorted,
merged ``(start, end)`` lists (book-ended intervals fused, as ``bedtools merge`` does).  The numpy
equivalent for large region algebra is :class:`tmbcalc.regions.RegionSet`.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

Footprint = dict[str, list[tuple[int, int]]]


class Targets:
    """Unmerged target records (BED rows): canonical contigs, 0-based half-open, file order.

    (Plain classes rather than dataclasses in this module: ``dataclasses`` imports ``inspect``,
    ~1 MB of the lean command's memory.)
    """

    __slots__ = ("contigs", "starts", "ends", "names", "source")

    def __init__(self, contigs: list[str], starts: list[int], ends: list[int], names: list[str],
                 source: str | None = None) -> None:
        self.contigs, self.starts, self.ends, self.names, self.source = contigs, starts, ends, names, source

    def __len__(self) -> int:
        return len(self.starts)

    def footprint(self) -> Footprint:
        """The merged footprint of the records (contigs in first-seen order)."""
        by: dict[str, list[tuple[int, int]]] = {}
        for c, s, e in zip(self.contigs, self.starts, self.ends):
            by.setdefault(c, []).append((s, e))
        return {c: m for c, iv in by.items() if (m := merge_intervals(iv))}


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort and merge overlapping or book-ended intervals; drop empty ones (as ``bedtools merge``)."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(iv for iv in intervals if iv[1] > iv[0]):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def intersect_intervals(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Intersection of two sorted, merged interval lists."""
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


__all__ = ["Footprint", "Targets", "merge_intervals", "intersect_intervals"]
