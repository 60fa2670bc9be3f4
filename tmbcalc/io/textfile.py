"""Open plain, gzip or BGZF text files, turning low-level failures into InputError."""
from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import InputError, require_readable


def open_text(path: str | Path) -> IO[str]:
    """Open a text file, transparently decompressing gzip/BGZF (detected by magic bytes)."""
    p = require_readable(path)
    with open(p, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", errors="replace")
    return open(p, encoding="utf-8", errors="replace")


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without newline); truncated gzip becomes InputError."""
    try:
        with open_text(path) as fh:
            for n, line in enumerate(fh, 1):
                yield n, line.rstrip("\r\n")
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"compressed file is truncated or corrupt ({exc})", path) from None


def load_toml(path: str | Path, what: str) -> dict:
    """A TOML file as a dict; every failure is one InputError naming ``what`` and the file."""
    import tomllib

    p = Path(path)
    try:
        with open(p, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{what} does not exist", p) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{what} is not valid TOML ({exc})", p) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text (byte {exc.start})", p) from None
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", p) from None
