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

from ..contigs import canonical
from ..errors import InputError
from ..regions import RegionSet
from .textfile import iter_lines


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


_SAM_HEADER = ("@HD", "@SQ", "@RG", "@PG", "@CO")


def _is_interval_list(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".interval_list", ".interval_list.gz", ".intervals"))


def read_bed_records(path: str | Path, *, allow_empty: bool = False) -> BedRecords:
    """Read a BED (plain/gz) or Picard interval_list into unmerged records."""
    p = Path(path)
    contigs: list[str] = []
    canon: dict[str, str] = {}  # native spelling -> canonical name (insertion order = file order)
    starts: list[int] = []
    ends: list[int] = []
    names: list[str] = []
    named_picard = _is_interval_list(p)
    picard = False
    for n, line in iter_lines(p):
        if not line.strip():
            continue
        if line.startswith("@"):
            if line.startswith(_SAM_HEADER):
                picard = True
            continue
        if line.startswith(("#", "track", "browser")):
            continue
        fields = line.split("\t")
        if len(fields) < 3:
            fields = line.split()
        if named_picard and not picard and not starts and len(fields) >= 5 and fields[3] in ("+", "-"):
            picard = True
        if len(fields) < 3:
            raise InputError(f"line {n}: expected at least 3 tab-separated columns (chrom, start, end), "
                             f"got {len(fields)}", p)
        try:
            s, e = int(fields[1]), int(fields[2])
        except ValueError:
            if n == 1 or not starts:  # a header line without '#'
                continue
            raise InputError(f"line {n}: start/end are not integers ({fields[1]!r}, {fields[2]!r})", p) from None
        if picard:
            s -= 1  # 1-based inclusive -> 0-based half-open
        if s < 0 or e < s:
            raise InputError(f"line {n}: invalid interval {fields[0]}:{fields[1]}-{fields[2]} "
                             f"(need 0 <= start <= end)", p)
        name = canon.get(fields[0])
        if name is None:
            name = canon[fields[0]] = canonical(fields[0])
        contigs.append(name)
        starts.append(s)
        ends.append(e)
        names.append(fields[4] if picard and len(fields) > 4 else (fields[3] if len(fields) > 3 else ""))
    if not starts and not allow_empty:
        raise InputError("contains no intervals", p)
    return BedRecords(np.array(contigs, dtype=object), np.array(starts, dtype=np.int64),
                      np.array(ends, dtype=np.int64), np.array(names, dtype=object),
                      tuple(canon), str(p))


def read_bed(path: str | Path, *, allow_empty: bool = False) -> RegionSet:
    """Read a BED/interval_list and return its merged footprint."""
    return read_bed_records(path, allow_empty=allow_empty).regions()


def format_bed(regions: RegionSet, native: dict[str, str] | None = None) -> str:
    """BED text (0-based half-open) of a RegionSet, contigs in the set's order."""
    native = native or {}
    return "".join(f"{native.get(c, c)}\t{s}\t{e}\n" for c, s, e in regions)
