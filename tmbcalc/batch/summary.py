"""The batch summary: one row per sample, read back from the sample's own output files (so the
summary says exactly what the files say, whether the sample was computed now, reused, or run by
a workflow engine), written as ``OUTDIR/batch.tsv`` and ``OUTDIR/batch.json``.

Columns (``batch.tsv``; empty = not computed for this row)::

    sample, run_status (ok | failed | reused), error,
    tmb, tmb_ci95_low, tmb_ci95_high (mutations/Mb, exact Garwood 95%), eligible_variants,
    footprint_kind, footprint_mb (denominator), status_ge_CUT / p_ge_CUT per cut point (mut/Mb),
    tmb_harmonized, harmonized_to, msi_score (% unstable loci), msi_status, msi_mode,
    msi_calls_status, msi_calls_indels_per_mb, msi_calls_repeat_indels_per_mb,
    seconds (wall time of the sample), peak_rss_mb (peak resident memory of its worker, MB)

Floats are written in their shortest exact form (``repr``), so the summary holds the same numbers
as the per-sample files.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .job import Outcome

HEAD = ["sample", "run_status", "error", "tmb", "tmb_ci95_low", "tmb_ci95_high", "eligible_variants",
        "footprint_kind", "footprint_mb"]
TAIL = ["tmb_harmonized", "harmonized_to", "msi_score", "msi_status", "msi_mode", "msi_calls_status",
        "msi_calls_indels_per_mb", "msi_calls_repeat_indels_per_mb", "seconds", "peak_rss_mb"]


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def results_row(prefix: Path) -> dict[str, Any]:
    """Figures of one sample from PREFIX.tmb.json, PREFIX.msi.json, PREFIX.calls.msi.json."""
    row: dict[str, Any] = {}
    tmb = _load(Path(str(prefix) + ".tmb.json"))
    if tmb is not None:
        s = tmb["samples"][0]
        row.update(tmb=s["tmb"], tmb_ci95_low=s["ci95_low"], tmb_ci95_high=s["ci95_high"],
                   eligible_variants=s["eligible_variants"], footprint_kind=tmb["denominator"]["kind"],
                   footprint_mb=tmb["denominator"]["footprint_mb"])
        for cut, status in s["status"].items():
            row[f"status_ge_{cut}"] = status
            row[f"p_ge_{cut}"] = s["p_tmb_ge_cut"].get(cut)
        h = s.get("harmonized")
        if h:
            row.update(tmb_harmonized=h["value"], harmonized_to=h["reference"])
    msi = _load(Path(str(prefix) + ".msi.json"))
    if msi is not None:
        row.update(msi_score=msi.get("msi_score"), msi_status=msi.get("status"), msi_mode=msi.get("mode"))
    mut = _load(Path(str(prefix) + ".calls.msi.json"))
    if mut is not None:
        s = mut["samples"][0]
        row.update(msi_calls_status=s["status"], msi_calls_indels_per_mb=s["indels_per_mb"],
                   msi_calls_repeat_indels_per_mb=s["repeat_indels_per_mb"])
    return row


def summary_row(prefix: Path, outcome: Outcome) -> dict[str, Any]:
    row: dict[str, Any] = {"sample": outcome.sample, "run_status": outcome.run_status, "error": outcome.error}
    if outcome.run_status != "failed":
        row.update(results_row(prefix))
    row["seconds"] = None if outcome.seconds is None else round(outcome.seconds, 3)
    row["peak_rss_mb"] = outcome.peak_rss_mb
    return row


def columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cuts = sorted({k[len("status_ge_"):] for r in rows for k in r if k.startswith("status_ge_")}, key=float)
    return HEAD + [c for cut in cuts for c in (f"status_ge_{cut}", f"p_ge_{cut}")] + TAIL


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return repr(v)
    return " ".join(str(v).split())


def to_tsv(rows: Sequence[dict[str, Any]]) -> str:
    cols = columns(rows)
    lines = ["\t".join(cols)] + ["\t".join(_cell(r.get(c)) for c in cols) for r in rows]
    return "\n".join(lines) + "\n"


def counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    out = {"samples": len(rows), "ok": 0, "reused": 0, "failed": 0}
    for r in rows:
        out[r["run_status"]] += 1
    return out


def write_summary(outdir: Path, rows: Sequence[dict[str, Any]], provenance: dict[str, Any]) -> list[Path]:
    """OUTDIR/batch.tsv and OUTDIR/batch.json, atomically together."""
    from ..output import OutputSet

    doc = {"counts": counts(rows), "failed": [{"sample": r["sample"], "error": r["error"]}
                                              for r in rows if r["run_status"] == "failed"],
           "columns": columns(rows), "samples": [{c: r.get(c) for c in columns(rows)} for r in rows],
           "provenance": provenance}
    with OutputSet(outdir / "batch") as outs:
        outs.write_text(".tsv", to_tsv(rows))
        outs.write_json(".json", doc)
    return [outdir / "batch.tsv", outdir / "batch.json"]
