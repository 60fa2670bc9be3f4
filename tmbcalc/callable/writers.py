"""Writers of the callable outputs (numpy-free): PREFIX.callable.bed.gz (+ .tbi),
PREFIX.callable.json and PREFIX.coverage.tsv, published together through the atomic output set.
Coordinates in the BED are 0-based half-open, contigs spelled as in the tumor BAM."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


def summary_json(callable_bp: int, footprint_bp: int, parameters: Mapping[str, Any], inputs: Mapping[str, Any],
                 contig_rows: Sequence[Mapping[str, Any]],
                 provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The PREFIX.callable.json document (no NaN: missing values are None)."""
    out: dict[str, Any] = {
        "callable_bp": int(callable_bp),
        "footprint_bp": int(footprint_bp),
        "callable_mb": callable_bp / 1e6,
        "callable_fraction": _clean(callable_bp / footprint_bp if footprint_bp else None),
        "thresholds": {"min_depth": parameters["min_depth"], "min_normal_depth": parameters["min_normal_depth"]},
        "parameters": dict(parameters),
        "inputs": dict(inputs),
        "per_contig": [{k: _clean(v) for k, v in row.items()} for row in contig_rows],
    }
    if provenance is not None:
        out["provenance"] = dict(provenance)
    return out


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return None if math.isnan(v) else v
    if hasattr(v, "item"):  # numpy scalar
        return _clean(v.item())
    return v


def write_outputs(prefix: str | Path, callable_rows: Iterable[tuple[str, int, int]],
                  target_columns: Mapping[str, Sequence], summary: Mapping[str, Any],
                  provenance: Mapping[str, Any]) -> list[Path]:
    """Write PREFIX.callable.bed.gz (+ .tbi), PREFIX.callable.json and PREFIX.coverage.tsv atomically.

    ``callable_rows``: (contig as spelled in the BAM, start, end), sorted as the BAM header.
    """
    from ..output import OutputSet

    header = _comment_header(provenance)
    with OutputSet(prefix, inputs=provenance.get("inputs")) as outs:
        bed_text = header + "".join(f"{c}\t{s}\t{e}\n" for c, s, e in callable_rows)
        write_indexed_bed(outs, ".callable.bed.gz", bed_text.encode())
        outs.write_json(".callable.json", summary)
        with outs.open(".coverage.tsv") as fh:
            fh.write(header)
            fh.write("\t".join(target_columns) + "\n")
            text = [[_fmt(v) for v in col] for col in target_columns.values()]
            fh.writelines("\t".join(row) + "\n" for row in zip(*text))
        paths = [outs.path(s) for s in (".callable.bed.gz", ".callable.bed.gz.tbi", ".callable.json",
                                        ".coverage.tsv")]
    return paths


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "NA" if math.isnan(v) else f"{v:.4f}"
    return str(v)


def write_indexed_bed(outs: Any, suffix: str, text: bytes) -> None:
    """Put BED ``text`` into the output set ``outs`` as PREFIX``suffix`` (BGZF) and its tabix index
    PREFIX``suffix``.tbi, both written by one kernel call into the set's temporary files."""
    from .engine import write_bgzf_with_tabix

    bgzf: list[Path] = []
    outs.write_with(suffix, bgzf.append)      # the path only: the index writer below fills both
    outs.write_with(suffix + ".tbi", lambda tbi: write_bgzf_with_tabix(text, bgzf[0], tbi))


def _comment_header(provenance: Mapping[str, Any]) -> str:
    import json

    p = dict(provenance)
    line1 = (f"# {p.get('tool', 'tmbcalc')} {p.get('version', '')} {p.get('command', 'callable')} "
             f"created {p.get('created_utc', '')}")
    return (line1 + "\n# parameters: " + json.dumps(p.get("parameters", {}), sort_keys=True)
            + "\n# inputs: " + json.dumps({k: (v.get("name"), v.get("sha256")) if isinstance(v, dict) else v
                                           for k, v in p.get("inputs", {}).items()}, sort_keys=True) + "\n")


__all__ = ["summary_json", "write_indexed_bed", "write_outputs"]
