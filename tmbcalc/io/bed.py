"""BED and Picard interval_list readers/writers.

BED is 0-based half-open; Picard interval_list (SAM-style ``@HD``/``@SQ`` header lines, then
contig, start, end, strand, name) is 1-based inclusive and is converted on reading.  Other ``@``
lines (e.g. the ``@track`` line of the Agilent BED shipped as SigProfiler's
``GRCh38_exome.interval_list``) are skipped as headers and do not make a file Picard: a file is
read as Picard when it has a SAM-style header, or is named ``*.interval_list`` and its rows carry
the strand column.  ``track``/``browser``/``#``
lines are skipped.  Malformed lines raise :class:`InputError` naming the file and line.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..regions import RegionSet
from .bed_text import read_targets


@dataclass(frozen=True)
class BedRecords:
    """Unmerged BED records (targets), canonical contigs, 0-based half-open."""

    contigs: np.ndarray  # object (canonical names)
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    names: np.ndarray  # object ('' where absent)
    native_contigs: tuple[str, ...]  # contig spellings as found in the file
    source: str

    def __len__(self) -> int:
        return int(self.starts.size)

    def regions(self) -> RegionSet:
        return RegionSet.from_arrays(self.contigs, self.starts, self.ends)


def read_bed_records(path: str | Path, *, allow_empty: bool = False) -> BedRecords:
    """Read a BED (plain/gz) or Picard interval_list into unmerged records (see
    :func:`tmbcalc.io.bed_text.read_targets` for the format rules)."""
    t, native = read_targets(path, allow_empty=allow_empty)
    return BedRecords(np.array(t.contigs, dtype=object), np.array(t.starts, dtype=np.int64),
                      np.array(t.ends, dtype=np.int64), np.array(t.names, dtype=object), native, str(Path(path)))


def read_bed(path: str | Path, *, allow_empty: bool = False) -> RegionSet:
    """Read a BED/interval_list and return its merged footprint."""
    return read_bed_records(path, allow_empty=allow_empty).regions()
