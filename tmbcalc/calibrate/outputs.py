"""Text conventions shared by the calibration results' files.

Every calibration table starts with two comment lines::

    # tmbcalc VERSION COMMAND
    # provenance: {single-line JSON}

Cells: ``NA`` for missing, ``yes``/``no`` for booleans, floats with 6 significant digits, lists
comma-joined.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def cell(v: Any) -> str:
    """One TSV cell (see the module docstring)."""
    if v is None:
        return "NA"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return ",".join(cell(x) for x in v)
    return str(v)


def provenance_header(provenance: Mapping[str, Any], command: str | None = None, *, allow_nan: bool = True) -> str:
    """The two comment lines (newline-terminated) that open a calibration table."""
    cmd = provenance.get("command", "") if command is None else command
    return (f"# tmbcalc {provenance.get('version', '')} {cmd}\n# provenance: "
            + json.dumps(dict(provenance), separators=(",", ":"), allow_nan=allow_nan) + "\n")


def tsv(columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """Header and rows, tab-separated, each cell through :func:`cell`, newline-terminated."""
    lines = ["\t".join(columns)] + ["\t".join(cell(v) for v in r) for r in rows]
    return "\n".join(lines) + "\n"


def record_parameters(given: Mapping[str, Any] | None, own: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a result's provenance records: ``given`` when the caller states them (the
    command line records its options), else the API call's own arguments ``own``."""
    return dict(given) if given is not None else dict(own)


__all__ = ["cell", "provenance_header", "tsv", "record_parameters"]
