"""Resume: a sample is skipped on a rerun when its marker says it was done with the same inputs,
parameters and tmbcalc version and every output it lists is still there.

The fingerprint identifies each input file by resolved path, size and modification time (cheap
to recheck for a sheet of hundreds of BAMs; the outputs' provenance carries the sha256), and holds
the whole row (every column, paths resolved), the tmbcalc version and whether checksums were on.
The marker ``OUTDIR/SAMPLE/SAMPLE.batch.json`` is written last, atomically, after all of the
sample's outputs: a run killed at any point leaves either a complete sample with its marker or a
sample without one, which the rerun redoes from scratch.  An output edited or removed since is
noticed (the marker holds each output's sha256) and the sample redone.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from .._version import __version__
from .sheet import SampleSpec

MARKER = ".batch.json"


def fingerprint(spec: SampleSpec, checksums: bool) -> dict[str, Any]:
    row = {k: v for k, v in dataclasses.asdict(spec).items() if k not in ("line", "options")}
    files = []
    for col, path in spec.input_files():
        st = os.stat(path)
        files.append({"column": col, "path": os.path.realpath(path), "bytes": st.st_size,
                      "mtime_ns": st.st_mtime_ns})
    return {"tmbcalc": __version__, "checksums": bool(checksums), "row": _jsonable(row), "inputs": files}


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def write_marker(prefix: Path, fp: dict[str, Any], outputs: list[str], seconds: float, peak_mb: float) -> Path:
    """The marker: fingerprint, every output with its sha256, time and peak memory of the run."""
    from ..output import OutputSet
    from ..provenance import sha256_file

    listed = {name: sha256_file(prefix.parent / name) for name in outputs}
    doc = {"sample": prefix.name, "fingerprint": fp, "outputs": listed,
           "seconds": round(seconds, 3), "peak_rss_mb": peak_mb}
    with OutputSet(prefix) as outs:
        path = outs.write_json(MARKER, doc)
    return path


def read_marker(prefix: Path) -> dict[str, Any] | None:
    try:
        return json.loads(Path(str(prefix) + MARKER).read_text())
    except (OSError, ValueError):
        return None


def reusable(prefix: Path, fp: dict[str, Any]) -> dict[str, Any] | None:
    """The marker when the sample can be reused as it is (same fingerprint; every output still there
    with the content it was written with), else None."""
    from ..provenance import sha256_file

    marker = read_marker(prefix)
    if not marker or marker.get("fingerprint") != fp or not isinstance(marker.get("outputs"), dict):
        return None
    for name, digest in marker["outputs"].items():
        path = prefix.parent / name
        if not path.is_file() or sha256_file(path) != digest:
            return None
    return marker
