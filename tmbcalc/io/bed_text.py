"""BED and Picard interval_list parsing into plain lists (no numpy): the one parser behind
:func:`tmbcalc.io.bed.read_bed_records` (numpy arrays) and the lean ``tmbcalc callable``.

BED is 0-based half-open; Picard interval_list (recognised by its SAM-style ``@HD``/``@SQ``
header or, for ``*.interval_list`` files, by the strand column) is 1-based inclusive and is
converted on reading.  ``track``/``browser``/``#`` lines and other ``@`` lines (e.g. the
``@track`` line of the Agilent BED shipped as SigProfiler's ``GRCh38_exome.interval_list``) are
skipped; a first line whose start/end are not integers is a header.  Malformed lines raise
:class:`InputError` naming the file and line.
"""
from __future__ import annotations

from pathlib import Path

from ..contigs import canonical
from ..errors import InputError
from ..intervals import Targets
from .textfile import iter_lines

_MAX_END = 2**31 - 1          # no contig is longer; larger ends would overflow the int32/int64 arrays
_SAM_HEADER = ("@HD", "@SQ", "@RG", "@PG", "@CO")


def _is_interval_list(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".interval_list", ".interval_list.gz", ".intervals"))


def read_targets(path: str | Path, *, allow_empty: bool = False) -> tuple[Targets, tuple[str, ...]]:
    """Read a BED (plain/gz) or Picard interval_list: (unmerged targets, native contig spellings)."""
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
        if s < 0 or e < s or e > _MAX_END:
            raise InputError(f"line {n}: invalid interval {fields[0]}:{fields[1]}-{fields[2]} "
                             f"(need 0 <= start <= end <= 2^31 - 1)", p)
        name = canon.get(fields[0])
        if name is None:
            name = canon[fields[0]] = canonical(fields[0])
        contigs.append(name)
        starts.append(s)
        ends.append(e)
        name_col = 4 if picard else 3            # Picard: contig start end strand name; BED: name 4th
        names.append(fields[name_col] if len(fields) > name_col else "")
    if not starts and not allow_empty:
        raise InputError("contains no intervals", p)
    return Targets(contigs, starts, ends, names, str(p)), tuple(canon)


__all__ = ["read_targets"]
