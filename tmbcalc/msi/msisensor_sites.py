"""MSIsensor / MSIsensor-pro microsatellite site lists (``msisensor-pro scan`` output) as loci.

Two layouts exist, both tab-separated with a header line naming the columns:

* the classic ``scan`` list: ``chromosome location repeat_unit_length repeat_unit_binary
  repeat_times left_flank_binary right_flank_binary repeat_unit_bases left_flank_bases
  right_flank_bases`` (MSIsensor, MSIsensor-pro up to 1.2);
* the newer list: ``chromosome location repeat_unit_length repeat_times repeat_unit_bases
  left_flank_bases right_flank_bases threshold support_num filter``; only rows whose ``filter``
  is ``PASS`` are used (MSIsensor-pro's rule, docs/5_files_type.md).

``location`` is the 0-based position of the first repeat base (MSIsensor's scan stores the
index into the contig sequence; e.g. the chrM ``G`` x 6 run at rCRS 66-71 is listed at 65), so
the repeat span is [location, location + repeat_unit_length x repeat_times).  Columns are found
by name, so extra columns are ignored.  A repeat unit that is not minimal (``ATAT``) is written
with its minimal unit and the copies multiplied.  The result is validated like any loci file
(:mod:`tmbcalc.msi.loci`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io.textfile import iter_lines
from .loci import COLUMNS, LociTable, _check_overlaps, _check_row, minimal_unit

NEEDED = ("chromosome", "location", "repeat_unit_length", "repeat_times", "repeat_unit_bases",
          "left_flank_bases", "right_flank_bases")


def is_msisensor_header(line: str) -> bool:
    """True for the header line of an MSIsensor(-pro) site list."""
    f = line.rstrip("\n").split("\t")
    return len(f) >= 2 and f[0] == "chromosome" and f[1] == "location"


def _row(f: list[str], idx: dict[str, int], n: int, src: str) -> tuple[Any, ...] | None:
    if "filter" in idx and f[idx["filter"]].strip() != "PASS":
        return None
    try:
        start, ulen, times = int(f[idx["location"]]), int(f[idx["repeat_unit_length"]]), int(f[idx["repeat_times"]])
    except (ValueError, IndexError):
        raise InputError(f"line {n}: location, repeat_unit_length and repeat_times must be integers", src) from None
    unit = f[idx["repeat_unit_bases"]].strip().upper()
    if len(unit) != ulen:
        raise InputError(f"line {n}: repeat_unit_bases '{unit}' is not {ulen} bases long", src)
    m = minimal_unit(unit) if unit else unit
    times *= len(unit) // max(len(m), 1)
    return (f[idx["chromosome"]].strip(), start, start + len(m) * times, m, times,
            f[idx["left_flank_bases"]].strip().upper(), f[idx["right_flank_bases"]].strip().upper(), "")


def read_msisensor_sites(path: str | Path) -> LociTable:
    """Read an MSIsensor(-pro) site list (see module docstring); errors name the file and line."""
    p = Path(path)
    src = str(p)
    idx: dict[str, int] | None = None
    rows, lines = [], []
    for n, line in iter_lines(p):
        if not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if idx is None:
            if not is_msisensor_header(line):
                raise InputError(f"line {n}: not an MSIsensor site list (header must start "
                                 "'chromosome<TAB>location')", src)
            idx = {name.strip(): i for i, name in enumerate(f)}
            missing = [c for c in NEEDED if c not in idx]
            if missing:
                raise InputError(f"line {n}: MSIsensor site list lacks column(s) {', '.join(missing)}", src)
            continue
        r = _row(f, idx, n, src)
        if r is not None:
            rows.append(r)
            lines.append(n)
    if not rows:
        raise InputError("MSIsensor site list holds no (PASS) sites", src)
    cols = {c: [r[k] for r in rows] for k, c in enumerate(COLUMNS)}
    t = LociTable._from_lists(cols, [f"converted from the MSIsensor site list {p.name}"], src)
    for i in range(len(t)):
        _check_row(t, i, lines[i], src)
    _check_overlaps(t, lines, src)
    return t
