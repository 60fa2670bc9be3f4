"""Sample names from an untrusted sheet, checked before they become folder names.

A sample name becomes ``OUTDIR/NAME/`` and the prefix ``OUTDIR/NAME/NAME``.  It is accepted only
if it is 1-100 characters of ASCII letters, digits, ``.``, ``_``, ``-`` and ``+``, does not
start with ``.`` or ``-`` (no hidden files, no option look-alikes, no ``..``), is not one of the
batch's own file names, and does not collide with another sample after case-folding (two names
that differ only in case are one folder on case-insensitive file systems).
"""
from __future__ import annotations

import re

NAME_RE = re.compile(r"[A-Za-z0-9_+][A-Za-z0-9._+-]{0,99}")
# files of OUTDIR itself; a sample folder may not take these names
# files of the batch output folder (a sample folder of the same name would collide)
RESERVED = frozenset({"batch.tsv", "batch.json", "batch.log", "batch.html", "batch.tmbcalc_generalstats_mqc.json",
                      "batch.tmbcalc_tmb_mqc.json"})


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a sample folder name, or None when it can."""
    if not name:
        return "empty sample name"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"sample name {name!r} contains control characters"
    if "/" in name or "\\" in name:
        return f"sample name {name!r} contains a path separator"
    if ".." in name:
        return f"sample name {name!r} contains '..'"
    if not NAME_RE.fullmatch(name):
        return (f"sample name {name!r} is not allowed: use 1-100 ASCII letters, digits, '.', '_', '-', '+', "
                "not starting with '.' or '-'")
    if name.casefold() in RESERVED:
        return f"sample name {name!r} is reserved (a file of the batch output folder)"
    return None


def fold(name: str) -> str:
    """Key under which two names are the same folder (case-insensitive file systems)."""
    return name.casefold()
