"""Opening a BAM/CRAM with one set of checks, for every capability that reads alignments.

:func:`open_alignment` refuses, each with a one-line :class:`~tmbcalc.errors.InputError` naming
the file, in this order:

1. a missing or unreadable file (and an unreadable ``reference``);
2. a file that is neither BAM (BGZF whose data start with ``BAM\\1``) nor CRAM (``CRAM`` magic);
3. a CRAM without ``reference`` (the FASTA it was written against);
4. a file without its end-of-file marker (the 28-byte empty BGZF block of a BAM, the EOF container
   of a CRAM 3): a truncated transfer;
5. a header whose ``@HD SO`` names another order than ``coordinate`` (or ``unknown``);
6. a truncated or corrupt ``.bai`` (before htslib loads it: htslib can crash on some);
7. a file that htslib cannot open (the caller's ``open_reader``, see below);
8. a missing, unreadable or stale index (:func:`tmbcalc.io.bam_index.index_problem`).

The checks read only the first and last bytes of the file (the header is decompressed with
:mod:`zlib`), so they import neither pysam nor a kernel; the capability that owns a kernel passes
``open_reader(path, reference) -> (reader, has_index)`` which opens the file with it.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..errors import InputError, require_readable
from .bam_index import index_problem
from .bam_index import precheck as precheck_index

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
CRAM3_EOF = bytes.fromhex("0f000000ffffffff0fe0454f4600000000010005bdd94f0001000606010001000100ee63014b")
_HEADER_MAX = 1 << 24  # bytes of a header read for its @HD line

R = TypeVar("R")


def alignment_format(path: str | Path) -> str | None:
    """``"bam"``, ``"cram"`` or None (anything else, SAM text included)."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if head[:4] == b"CRAM":
        return "cram"
    if head[:4] == b"\x1f\x8b\x08\x04":
        try:
            if zlib.decompressobj(-15).decompress(_first_block_data(path), 4)[:4] == b"BAM\x01":
                return "bam"
        except zlib.error:
            return None
    return None


def _first_block_data(path: str | Path) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(12)
        xlen = struct.unpack_from("<H", head, 10)[0]
        fh.read(xlen)
        return fh.read(1 << 16)


def eof_marker_missing(path: str | Path, fmt: str) -> bool:
    """True when a BAM lacks its BGZF end-of-file block or a CRAM 3 its EOF container (earlier
    CRAM versions are not checked)."""
    with open(path, "rb") as fh:
        major = fh.read(5)[4:5] if fmt == "cram" else b""
        if fmt == "cram" and major != b"\x03":
            return False
        tail = BGZF_EOF if fmt == "bam" else CRAM3_EOF
        fh.seek(0, 2)
        if fh.tell() < len(tail):
            return True
        fh.seek(-len(tail), 2)
        return fh.read(len(tail)) != tail


def sort_order(path: str | Path, fmt: str) -> str | None:
    """``SO`` of the header's ``@HD`` line, None when absent or the header cannot be read here
    (a CRAM header block compressed with other than gzip, a damaged first block)."""
    try:
        text = _bam_header_text(path) if fmt == "bam" else _cram_header_text(path)
    except (OSError, EOFError, zlib.error, struct.error, ValueError):
        return None
    if text is None or not text.startswith("@HD"):
        return None
    for field in text.split("\n", 1)[0].split("\t")[1:]:
        if field.startswith("SO:"):
            return field[3:].strip()
    return None


def _bam_header_text(path: str | Path) -> str:
    import gzip

    with gzip.open(path, "rb") as fh:
        magic, l_text = fh.read(4), struct.unpack("<i", fh.read(4))[0]
        if magic != b"BAM\x01" or not 0 <= l_text <= _HEADER_MAX:
            raise ValueError("not a BAM header")
        return fh.read(min(l_text, 1 << 16)).decode("utf-8", "replace")


def _itf8(buf: bytes, pos: int) -> tuple[int, int]:
    """CRAM ITF-8 integer at ``pos``: (value, next position)."""
    b0 = buf[pos]
    n = 0 if b0 < 0x80 else 1 if b0 < 0xC0 else 2 if b0 < 0xE0 else 3 if b0 < 0xF0 else 4
    val = b0 & (0xFF >> (n + 1)) if n < 4 else b0 & 0x0F
    for i in range(1, n + 1):
        val = (val << 8) | buf[pos + i] if i < 4 or n < 4 else (val << 4) | (buf[pos + i] & 0x0F)
    return val, pos + n + 1


def _cram_header_text(path: str | Path) -> str | None:
    """The SAM header of a CRAM 3: the first block of the first container (raw or gzip)."""
    with open(path, "rb") as fh:
        data = fh.read(1 << 20)
    if data[4] != 3:
        return None
    pos = 26 + 4                         # file definition, container length
    for _ in range(4):                   # ref id, start, span, records
        _, pos = _itf8(data, pos)
    for _ in range(2):                   # record counter, bases (LTF-8; small in a header container)
        pos += 1 + (bin(data[pos]).find("0", 2) - 2 if data[pos] >= 0x80 else 0)
    _, pos = _itf8(data, pos)            # blocks
    n, pos = _itf8(data, pos)            # landmarks
    for _ in range(n):
        _, pos = _itf8(data, pos)
    pos += 4                             # crc32
    method = data[pos]
    _, pos = _itf8(data, pos + 2)        # content type, content id
    size, pos = _itf8(data, pos)
    _, pos = _itf8(data, pos)            # raw size
    block = data[pos:pos + size]
    if method == 1:
        block = zlib.decompress(block, 31)
    elif method != 0:
        return None
    l_text = struct.unpack_from("<i", block, 0)[0]
    return block[4:4 + min(l_text, 1 << 16)].decode("utf-8", "replace")


def open_alignment(path: str | Path, reference: str | Path | None, open_reader: Callable[[Path, Path | None],
                   tuple[R, bool]], what: str = "alignment file") -> R:
    """Check a BAM/CRAM (see the module docstring), open it with ``open_reader`` and return its
    reader.  ``what`` names the file's role in messages (e.g. ``tumor BAM/CRAM``); ``reference``
    is the FASTA a CRAM decodes against (named ``reference`` in messages)."""
    p = require_readable(path, what)
    ref = None if reference is None else require_readable(reference, "reference FASTA")
    fmt = alignment_format(p)
    if fmt is None:
        raise InputError(f"{what} is not a BAM or CRAM file", p)
    if fmt == "cram" and ref is None:
        raise InputError(f"{what} is CRAM: give the FASTA it was written against as reference", p,
                         params=("reference",))
    if eof_marker_missing(p, fmt):
        raise InputError(f"{what} is truncated (no end-of-file marker); re-create or re-download it", p)
    so = sort_order(p, fmt)
    if so is not None and so not in ("coordinate", "unknown"):
        raise InputError(f"{what} is not coordinate-sorted (@HD SO:{so}); run `samtools sort` "
                         f"and `samtools index`", p)
    problem = precheck_index(p)
    if problem:
        raise InputError(f"{what}: {problem}", p)
    try:
        reader, has_index = open_reader(p, ref)
    except (OSError, ValueError) as exc:
        detail = f" ({exc})" if str(exc) else ""
        raise InputError(f"{what} is not a readable BAM/CRAM file{detail}", p) from None
    problem = index_problem(p, loaded=bool(has_index))
    if problem:
        raise InputError(f"{what}: {problem}", p)
    return reader


__all__ = ["open_alignment", "alignment_format", "eof_marker_missing", "sort_order", "BGZF_EOF", "CRAM3_EOF"]

