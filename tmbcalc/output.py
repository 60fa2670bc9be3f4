"""Atomic, all-or-nothing output writing.

Every file of one run is first written to a hidden temporary file beside its destination;
only when all of them are complete are they renamed into place.  On any error the temporaries
are removed, so a failed run leaves no partial output behind.
"""
from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .errors import UsageError


class OutputSet:
    """Collect several outputs and publish them together.

    >>> with OutputSet("out/sample") as outs:          # doctest: +SKIP
    ...     outs.write_json(".tmb.json", {...})
    ...     outs.write_text(".tmb.tsv", text)
    """

    def __init__(self, prefix: str | Path) -> None:
        self.prefix = str(prefix)
        parent = Path(self.prefix).parent
        if not parent.is_dir():
            raise UsageError(f"output directory '{parent}' does not exist")
        self._pending: list[tuple[Path, Path]] = []

    def path(self, suffix: str) -> Path:
        return Path(self.prefix + suffix)

    def _temp_for(self, final: Path) -> Path:
        tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}-{len(self._pending)}")
        self._pending.append((tmp, final))
        return tmp

    def open(self, suffix: str, *, gzip_level: int | None = None) -> IO[str]:
        """A text handle to a temporary file that becomes PREFIX+suffix on commit."""
        final = self.path(suffix)
        tmp = self._temp_for(final)
        if gzip_level is not None or suffix.endswith(".gz"):
            # The gzip header records the final name (not the temp name) and no time stamp, so
            # identical content gives byte-identical files.
            raw = gzip.GzipFile(filename=final.name.removesuffix(".gz"), mode="wb",
                                compresslevel=gzip_level or 6, mtime=0, fileobj=open(tmp, "wb"))
            return io.TextIOWrapper(_ClosingGzip(raw), encoding="utf-8", newline="\n")
        return open(tmp, "w", encoding="utf-8", newline="\n")

    def write_text(self, suffix: str, text: str) -> Path:
        with self.open(suffix) as fh:
            fh.write(text)
        return self.path(suffix)

    def write_json(self, suffix: str, obj: Any) -> Path:
        return self.write_text(suffix, json.dumps(obj, indent=2, sort_keys=False, default=json_default) + "\n")

    def write_with(self, suffix: str, writer: Callable[[Path], None]) -> Path:
        """Let ``writer(tmp_path)`` produce the file (e.g. bgzip + tabix, matplotlib savefig)."""
        final = self.path(suffix)
        writer(self._temp_for(final))
        return final

    def commit(self) -> list[Path]:
        for tmp, final in self._pending:
            os.replace(tmp, final)
        done = [final for _, final in self._pending]
        self._pending.clear()
        return done

    def abort(self) -> None:
        for tmp, _ in self._pending:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
        self._pending.clear()

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class _ClosingGzip(io.RawIOBase):
    """Gzip stream that also closes the underlying file object it was given."""

    def __init__(self, gz: gzip.GzipFile) -> None:
        self._gz = gz

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self._gz.write(data)

    def close(self) -> None:
        if not self.closed:
            fileobj = self._gz.fileobj
            self._gz.close()
            if fileobj is not None:
                fileobj.close()
        super().close()


def json_default(obj: Any) -> Any:
    """``json.dumps`` default for numpy scalars/arrays and paths; non-finite numpy floats -> null."""
    import math

    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")
