"""Provenance block carried by every result file: what produced it, from what, and how."""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._version import __version__


_SHA_CACHE: dict[tuple, str] = {}


def sha256_file(path: str | Path, chunk: int = 1 << 18) -> str:
    """sha256 of a file; cached per (real path, size, mtime) so a file hashed ahead of time (e.g.
    on a background thread while it is being read) is not hashed twice.  Reads into one reused
    ``chunk``-byte buffer (no new block per read)."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    if key in _SHA_CACHE:
        return _SHA_CACHE[key]
    h = hashlib.sha256()
    buf = bytearray(chunk)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
    _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]


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
    p = Path(path)
    st = p.stat()
    mtime = _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).replace(microsecond=0).isoformat()
    return {"name": p.name, "path": str(p), "bytes": st.st_size, "modified_utc": mtime,
            "sha256": sha256_file(p) if _CHECKSUMS else None}


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
