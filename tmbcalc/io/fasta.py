"""Whole-contig sequences from a plain, gzip or bgzip FASTA, one contig at a time.

An indexed FASTA (``.fai``, plus ``.gzi`` for bgzip) is read through :class:`pysam.FastaFile`,
which lets contigs be skipped without reading them.  Anything else (plain text without index,
ordinary gzip) is streamed line by line; no index is ever written next to the user's file.
Both paths give identical bytes (upper/lower case preserved, newlines removed).
"""
from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import InputError, require_readable


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _is_bgzf(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(18)
    # BGZF: gzip with FEXTRA and a 'BC' subfield.
    return len(head) >= 16 and head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"


def indexed(path: Path) -> bool:
    """True when pysam can open ``path`` with random access without writing any index."""
    if not Path(str(path) + ".fai").exists():
        return False
    if _is_gzip(path):
        return _is_bgzf(path) and Path(str(path) + ".gzi").exists()
    return True


def contig_names(path: str | Path) -> list[str]:
    """Contig names of a FASTA (from the index when there is one, else by reading headers)."""
    p = require_readable(path, "reference FASTA")
    if indexed(p):
        import pysam

        with pysam.FastaFile(str(p)) as fa:
            return list(fa.references)
    return [name for name, _ in _stream(p, lambda _n: False)]


def iter_contigs(path: str | Path, want: Callable[[str], bool] = lambda _n: True
                 ) -> Iterator[tuple[str, bytes | None]]:
    """Yield ``(name, sequence bytes)`` per contig in file order; ``None`` for unwanted ones."""
    p = require_readable(path, "reference FASTA")
    if indexed(p):
        import pysam

        try:
            fa = pysam.FastaFile(str(p))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot open FASTA: {exc}", p) from None
        with fa:
            for name in fa.references:
                yield name, (fa.fetch(name).encode("ascii") if want(name) else None)
        return
    yield from _stream(p, want)


def _stream(p: Path, want: Callable[[str], bool]) -> Iterator[tuple[str, bytes | None]]:
    opener = gzip.open if _is_gzip(p) else open
    name: str | None = None
    parts: list[bytes] = []
    keep = False
    seen = False
    try:
        with opener(p, "rb") as fh:
            for n, line in enumerate(fh, 1):
                if line.startswith(b">"):
                    if name is not None:
                        yield name, (b"".join(parts) if keep else None)
                    name = line[1:].split(None, 1)[0].decode("ascii", "replace") if line[1:].strip() else ""
                    if not name:
                        raise InputError(f"line {n}: FASTA header without a name", p)
                    keep = want(name)
                    parts = []
                    seen = True
                elif name is None:
                    if line.strip():
                        raise InputError(f"line {n}: not a FASTA file (sequence before any '>' header)", p)
                elif keep:
                    parts.append(line.strip())
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"compressed FASTA is truncated or corrupt ({exc})", p) from None
    if name is not None:
        yield name, (b"".join(parts) if keep else None)
    if not seen:
        raise InputError("no FASTA records ('>' lines) found", p)
