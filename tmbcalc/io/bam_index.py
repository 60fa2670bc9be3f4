"""What is wrong with a BAM/CRAM's index, in words a user can act on.

htslib only says whether an index could be loaded.  :func:`index_problem` tells apart: no index
file at all; an index file that exists but cannot be read (permissions, a folder, corrupt or
truncated bytes); and a stale index, older than its alignment file (the alignments were
rewritten after indexing, so the index's offsets may point anywhere).
"""
from __future__ import annotations

import os
import struct
from pathlib import Path


def index_candidates(path: str | Path) -> list[Path]:
    """Index files htslib would look for, in its order: ``X.bam.bai``, ``X.bai``, ``X.bam.csi``,
    ``X.cram.crai``, ``X.crai``."""
    p = Path(path)
    stem = p.with_suffix("")
    return [Path(f"{p}.bai"), Path(f"{stem}.bai"), Path(f"{p}.csi"), Path(f"{p}.crai"), Path(f"{stem}.crai")]


def _bai_intact(idx: Path) -> bool:
    """Does a ``.bai`` parse to its end (magic, per-reference bins, chunks and linear index)?
    htslib can crash on some truncated ``.bai`` files instead of failing, so they are checked first."""
    try:
        data = idx.read_bytes()
    except OSError:
        return True                  # unreadable: reported by index_problem
    if len(data) < 8 or data[:4] != b"BAI\x01":
        return False
    pos, end = 8, len(data)
    try:
        (n_ref,) = struct.unpack_from("<i", data, 4)
        for _ in range(n_ref):
            (n_bin,) = struct.unpack_from("<i", data, pos)
            pos += 4
            for _ in range(n_bin):
                _bin, n_chunk = struct.unpack_from("<Ii", data, pos)
                pos += 8 + 16 * n_chunk
            (n_intv,) = struct.unpack_from("<i", data, pos)
            pos += 4 + 8 * n_intv
            if pos > end:
                return False
    except struct.error:
        return False
    return pos <= end


def precheck(path: str | Path) -> str | None:
    """Before htslib loads it: a ``.bai`` that is truncated or not a BAI gives a problem string."""
    p = Path(path)
    for idx in index_candidates(p):
        if idx.exists():
            if idx.suffix == ".bai" and idx.is_file() and os.access(idx, os.R_OK) and not _bai_intact(idx):
                return (f"its index {idx.name} is corrupt or truncated (not a complete BAI); re-create it with "
                        f"'samtools index {p}'")
            return None
    return None


def index_problem(path: str | Path, *, loaded: bool) -> str | None:
    """A one-line description of the index problem of ``path``, or None when there is none.
    ``loaded`` says whether htslib could load an index."""
    p = Path(path)
    found = [c for c in index_candidates(p) if c.exists()]
    fix = f"re-create it with 'samtools index {p}'"
    if not found:
        return None if loaded else f"has no index (.bai/.csi/.crai); create one with 'samtools index {p}'"
    idx = found[0]
    if not loaded:
        if idx.is_dir():
            return f"its index {idx.name} is a folder, not an index file; {fix}"
        if not os.access(idx, os.R_OK):
            return f"its index {idx.name} is not readable (permission denied)"
        return f"its index {idx.name} exists but cannot be read (corrupt, truncated or not an index); {fix}"
    try:
        if idx.stat().st_mtime < p.stat().st_mtime - 1.0:
            return f"its index {idx.name} is older than the alignment file (stale index); {fix}"
    except OSError:
        return None
    return None


__all__ = ["index_problem", "index_candidates", "precheck"]
