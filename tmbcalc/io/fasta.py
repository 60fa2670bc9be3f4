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


def _read_fai(fai: Path) -> list[tuple[str, int, int, int, int]]:
    """(name, length, offset, line bases, line bytes) per .fai line; InputError if malformed."""
    rows = []
    try:
        text = fai.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read FASTA index ({exc})", fai) from None
    for n, line in enumerate(text.splitlines(), 1):
        f = line.split("\t")
        try:
            rows.append((f[0], int(f[1]), int(f[2]), int(f[3]), int(f[4])))
        except (IndexError, ValueError):
            raise InputError(f"line {n}: not a FASTA index line (name, length, offset, linebases, linebytes)",
                             fai) from None
    return rows


def check_index(path: Path) -> None:
    """Refuse a ``.fai`` that does not describe ``path`` (stale, or from another FASTA) and a
    FASTA with duplicate sequence names.  Plain FASTA: each entry's header line must end just
    before its offset and its sequence must end (newline, next '>' or end of file) where its
    length and line layout say.  bgzip FASTA: names and lengths are compared with a streaming
    read of the file."""
    fai = Path(str(path) + ".fai")
    rows = _read_fai(fai)
    names = [r[0] for r in rows]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise InputError(f"duplicate sequence name '{dup}' (in its .fai index); names must be unique", path)
    stale = f"FASTA index {fai.name} does not match the FASTA (stale, or from another file): re-create it " \
            f"with 'samtools faidx'"
    if _is_gzip(path):
        seen = [(name, len(seq or b"")) for name, seq in _stream(path, lambda _n: True)]
        if seen != [(r[0], r[1]) for r in rows]:
            raise InputError(stale, path)
        return
    size = path.stat().st_size
    prev_end = 0                                       # byte after the previous sequence
    with open(path, "rb") as fh:
        for name, length, offset, lb, lbytes in sorted(rows, key=lambda r: r[2]):
            if lb <= 0 or lbytes < lb or offset > size:
                raise InputError(stale, path)
            fh.seek(max(0, offset - len(name) - 4096))
            start = fh.tell()
            before = fh.read(offset - start)
            body = before.rstrip(b"\r\n")
            cut = body.rfind(b"\n") + 1
            header = body[cut:]
            if not header.startswith(b">") or header[1:].split(None, 1)[:1] != [name.encode()]:
                raise InputError(stale, path)
            if start + cut - prev_end > 2:             # bytes the index does not cover: an unindexed record
                raise InputError(f"{stale} (or a duplicate sequence name the index skipped)", path)
            last = length - 1                          # byte of the last base, by the index's line layout
            end = offset + (last // lb) * lbytes + last % lb + 1 if length else offset
            fh.seek(max(offset, end - 1))
            tail = fh.read(2)
            last_ok = length == 0 or (tail[:1] not in (b"\n", b"\r", b">", b""))
            after = tail[1:] if length else tail[:1]
            if end > size or not last_ok or after not in (b"", b"\n", b"\r", b">"):
                raise InputError(stale, path)
            prev_end = end
        fh.seek(prev_end)
        if fh.read(4096).strip():                      # anything after the last indexed sequence
            raise InputError(f"{stale} (or a duplicate sequence name the index skipped)", path)


def contig_names(path: str | Path) -> list[str]:
    """Contig names of a FASTA (from the index when there is one, else by reading headers)."""
    p = require_readable(path, "reference FASTA")
    if indexed(p):
        import pysam

        check_index(p)
        with pysam.FastaFile(str(p)) as fa:
            return list(fa.references)
    return [name for name, _ in _stream(p, lambda _n: False)]


def index_lengths(path: str | Path) -> dict[str, int]:
    """Contig name -> length (bp) from the FASTA's index, or {} without one."""
    p = Path(path)
    if not indexed(p):
        return {}
    import pysam

    check_index(p)
    with pysam.FastaFile(str(p)) as fa:
        return dict(zip(fa.references, fa.lengths))


def iter_contigs(path: str | Path, want: Callable[[str], bool] = lambda _n: True
                 ) -> Iterator[tuple[str, bytes | None]]:
    """Yield ``(name, sequence bytes)`` per contig in file order; ``None`` for unwanted ones."""
    p = require_readable(path, "reference FASTA")
    if indexed(p):
        import pysam

        check_index(p)
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
    names: set[str] = set()
    try:
        with opener(p, "rb") as fh:
            for n, line in enumerate(fh, 1):
                if line.startswith(b">"):
                    if name is not None:
                        yield name, (b"".join(parts) if keep else None)
                    name = line[1:].split(None, 1)[0].decode("ascii", "replace") if line[1:].strip() else ""
                    if not name:
                        raise InputError(f"line {n}: FASTA header without a name", p)
                    if name in names:
                        raise InputError(f"line {n}: duplicate sequence name '{name}'; names must be unique", p)
                    names.add(name)
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
