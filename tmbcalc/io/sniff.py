"""Format sniffing: which reader a calls file needs, decided from its first bytes."""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path


def is_tabular_text(path: str | Path) -> bool:
    """True for tab-separated text that is not VCF/BCF (a MAF or another table).

    The (decompressed) start must begin with neither ``##fileformat=VCF``, ``#CHROM`` nor BCF's
    magic, and its first line must hold a tab (a header row) or be a MAF ``#version`` line.
    """
    p = Path(path)
    with open(p, "rb") as fh:
        head = fh.read(2)
    try:
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(p, "rb") as fh:
            start = fh.read(4096)
    except (OSError, EOFError, zlib.error):   # corrupt: the VCF/BCF reader names the problem
        return False
    if start.startswith(b"##fileformat=VCF") or start.startswith(b"BCF") or start.startswith(b"#CHROM"):
        return False
    first = start.split(b"\n", 1)[0]
    return b"\t" in first or first.startswith(b"#version")


__all__ = ["is_tabular_text"]
