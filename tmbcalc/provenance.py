"""Provenance block carried by every result file: what produced it, from what, and how."""
from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._version import __version__


_SHA_CACHE: dict[tuple, str] = {}

# Files up to this size are hashed with CPython's built-in sha256 (~270 MB/s here); larger ones
# with OpenSSL's (hashlib, ~1.3 GB/s with SHA extensions).  Loading OpenSSL's libcrypto costs
# ~3.6 MB of resident memory and ~2 ms, more than hashing a small input takes: a panel-sized
# 'msi score' or 'callable' run then stays below MSIsensor-pro's / mosdepth's memory.  Same digest.
SMALL_FILE_BYTES = 16 << 20


def new_sha256(size_hint: int | None = None) -> Any:
    """A sha256 object: the built-in one for data of at most :data:`SMALL_FILE_BYTES` (known
    size), OpenSSL's otherwise (unknown size: streams)."""
    if size_hint is not None and size_hint <= SMALL_FILE_BYTES:
        try:
            from _sha2 import sha256  # Python >= 3.12
        except ImportError:
            try:
                from _sha256 import sha256  # Python 3.11
            except ImportError:  # pragma: no cover - a build without the built-in hashes
                from hashlib import sha256
        return sha256()
    import hashlib

    return hashlib.sha256()


def sha256_file(path: str | Path, chunk: int = 1 << 18) -> str:
    """sha256 of a file; cached per (real path, size, mtime) so a file hashed ahead of time (e.g.
    on a background thread while it is being read) is not hashed twice.  Reads into one reused
    ``chunk``-byte buffer (no new block per read)."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    if key in _SHA_CACHE:
        return _SHA_CACHE[key]
    h = new_sha256(st.st_size)
    buf = bytearray(chunk)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
    _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]


# Inputs read from a stream (FIFO, process substitution) are copied once to a private regular
# file while being hashed (tmbcalc.io.inputs); provenance names the stream, not the copy.
_STREAMS: dict[str, str] = {}   # copy path -> name the user gave
_STREAM_OF: dict[str, str] = {}  # name the user gave -> copy path


class HashingCopy:
    """Write-through sha256: ``write(chunk)`` appends to ``dest`` and hashes the chunk, so a stream
    is read once for both its copy and its checksum."""

    def __init__(self, dest: str | Path) -> None:
        self.dest = str(dest)
        self._fh = open(dest, "wb")
        self._hash = new_sha256()

    def write(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self._fh.write(chunk)

    def close(self) -> None:
        self._fh.close()

    def finish(self, original: str) -> str:
        """Close the copy and record it as the content of ``original``; returns the sha256."""
        self._fh.close()
        digest = self._hash.hexdigest()
        st = os.stat(self.dest)
        _SHA_CACHE[(os.path.realpath(self.dest), st.st_size, st.st_mtime_ns)] = digest
        _STREAMS[self.dest] = original
        _STREAM_OF[original] = self.dest
        return digest


def stream_copy(original: str | Path) -> str | None:
    """The private copy of a stream input given as ``original`` (None if it was not a stream)."""
    return _STREAM_OF.get(str(original))


def stream_names() -> dict[str, str]:
    """Every private stream copy of this process -> the name the user gave."""
    return dict(_STREAMS)


def stream_name(path: str | Path) -> str | None:
    """The name the user gave for the stream whose private copy is ``path`` (None otherwise)."""
    return _STREAMS.get(str(path))


_CHECKSUMS = True


def set_checksums(enabled: bool) -> None:
    """Turn input checksums on or off for this process (``tmbcalc --no-checksums``): hashing a
    30 GB BAM costs ~20 s; without it inputs are identified by name, size and modification time."""
    global _CHECKSUMS
    _CHECKSUMS = bool(enabled)


def checksums_enabled() -> bool:
    return _CHECKSUMS


def describe_input(path: str | Path) -> dict[str, Any]:
    """Name, path, size, modification time (UTC) and sha256 of one input file (sha256 ``None``
    when checksums are off)."""
    given = _STREAMS.get(str(path), str(path))
    copy = _STREAM_OF.get(given)
    p = Path(copy or path)
    st = p.stat()
    mtime = _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).replace(microsecond=0).isoformat()
    out = {"name": Path(given).name, "path": given, "bytes": st.st_size, "modified_utc": mtime,
           # a stream was hashed while it was copied: its checksum costs nothing
           "sha256": sha256_file(p) if (_CHECKSUMS or copy) else None}
    if copy:
        out["stream"] = True
    return out


def software_versions() -> dict[str, str]:
    """Versions of tmbcalc and of the libraries this run used: the htslib the kernels run on
    (``hts_version()``), pysam (whose htslib that is), and numpy/pandas when loaded.  Read without
    importing anything heavy (``importlib.metadata`` alone costs ~10 ms of start-up)."""
    import re
    import sys

    from .ext import htslib_version
    from .ext import pysam_dir as locate_pysam

    versions = {"tmbcalc": __version__, "python": platform.python_version(), "htslib": htslib_version()}
    pysam_dir = locate_pysam()
    try:
        text = (pysam_dir / "version.py").read_text() if pysam_dir is not None else ""
    except OSError:  # pragma: no cover - unusual install
        text = ""
    m = re.search(r'^__version__\s*=\s*["\']([^"\']+)', text, re.M)
    versions["pysam"] = m.group(1) if m else ""
    for lib in ("numpy", "pandas"):
        mod = sys.modules.get(lib)
        if mod is not None:
            versions[lib] = str(getattr(mod, "__version__", ""))
    return versions


def build_provenance(command: str, parameters: Mapping[str, Any],
                     inputs: Mapping[str, str | Path | list[str | Path] | None],
                     **extra: Any) -> dict[str, Any]:
    """Provenance dict: tool version, command, parameters, inputs (with sha256), time (UTC).

    ``inputs`` maps a role ("vcf", "bed", "tumor_bam") to a path, a list of paths or None.
    ``extra`` adds e.g. ``panel={"id":..., "version":...}`` or ``calibration_model=...``.
    """
    described: dict[str, Any] = {}
    for role, value in inputs.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            described[role] = [describe_input(v) for v in value]
        else:
            described[role] = describe_input(value)
    return {
        "tool": "tmbcalc",
        "version": __version__,
        "command": command,
        "command_line": " ".join(sys.argv) if sys.argv and sys.argv[0] else "",
        "created_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "software": software_versions(),
        "parameters": dict(parameters),
        "inputs": described,
        **extra,
    }
