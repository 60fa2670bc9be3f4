"""The cohort page of a batch run, built from its ``batch.json`` and the per-sample result files.

``batch.json`` (written by ``tmbcalc batch``) is read tolerantly: a JSON object with a list under
``samples`` (or ``rows``), or a bare list.  Each row is one sample::

    {"sample": "S1", "run_status": "ok" | "failed" | ..., "error": null | "message",
     "prefix": "out/S1"            # or "outputs": {"tmb_json": "out/S1.tmb.json", ...} / [paths]
     "tmb": 12.3, "msi_score": 4.1, "msi_status": "MSS", ...   # optional copies of the results
     "report": "out/S1.report.html"}                          # optional per-sample page (linked)

Relative paths are taken relative to the folder of ``batch.json``; without ``prefix``/``outputs``
the ``tmbcalc batch`` layout ``OUTDIR/SAMPLE/SAMPLE.*`` (beside batch.json) is used when present.
The copies may also carry the ``tmbcalc batch`` column names (``tmb_ci95_low``, ``status_ge_10``,
``p_ge_10``, ``tmb_harmonized``, ``footprint_mb``); ``reused`` counts as completed.  Where result files exist the
values shown come from them (``tmb.json``, ``msi.json``, ``callable.json``); a row's own copies are
used only for samples whose files are absent, and the page says which.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError, TmbcalcError
from . import svg
from .load import SUFFIXES, SampleView, classify, load_prefix


COMPLETED = ("ok", "reused", "done", "success", "skipped")


def read_batch(path: Path) -> list[dict[str, Any]]:
    """The rows of a batch.json (validated: each row names its sample)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read batch.json: {exc.strerror}", path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON: {exc}", path) from None
    rows = doc.get("samples", doc.get("rows")) if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        raise InputError("no list of sample rows (expected 'samples': [...])", path)
    for i, r in enumerate(rows):
        if not isinstance(r, dict) or not isinstance(r.get("sample"), (str, int)):
            raise InputError(f"row {i + 1} has no 'sample' name", path)
    return rows


def _locations(row: dict[str, Any], base: Path) -> dict[str, dict[str, Path]]:
    paths: list[Path] = []
    out = row.get("outputs", row.get("files"))
    if isinstance(out, dict):
        paths = [Path(p) for p in out.values() if isinstance(p, str)]
    elif isinstance(out, list):
        paths = [Path(p) for p in out if isinstance(p, str)]
    groups: dict[str, dict[str, Path]] = {}
    for p in paths:
        p = p if p.is_absolute() else base / p
        c = classify(p)
        if c and p.is_file():
            groups.setdefault(c[0], {})[c[1]] = p
    prefixes = []
    if isinstance(row.get("prefix"), str):
        prefixes.append(Path(row["prefix"]) if Path(row["prefix"]).is_absolute() else base / row["prefix"])
    elif not paths:                       # the tmbcalc batch layout: OUTDIR/SAMPLE/SAMPLE.*
        name = str(row["sample"])
        if name not in (".", "..") and "/" not in name:
            prefixes.append(base / name / name)
    for pre in prefixes:
        found = {s: Path(str(pre) + s) for s in SUFFIXES if Path(str(pre) + s).is_file()}
        if found:
            groups.setdefault(str(pre), {}).update(found)
    return groups


def _view_for(row: dict[str, Any], base: Path) -> SampleView | None:
    name = str(row["sample"])
    views: list[SampleView] = []
    for prefix, files in _locations(row, base).items():
        views += load_prefix(prefix, files, max_loci=0)
    if not views:
        return None
    merged = next((v for v in views if v.name == name), views[0])
    for v in views:   # tmb and msi may come from different prefixes of one sample
        for attr in ("tmb", "tmb_doc", "msi", "callable", "coverage"):
            if getattr(merged, attr) is None and getattr(v, attr) is not None and v.name in (name, merged.name):
                setattr(merged, attr, getattr(v, attr))
    return merged


def _row(row: dict[str, Any], view: SampleView | None, cuts: list[str]) -> dict[str, Any]:
    status = str(row.get("run_status", row.get("status", "ok")))
    r: dict[str, Any] = {"sample": str(row["sample"]), "run_status": status, "error": row.get("error"),
                         "report": row.get("report"), "source": "result files" if view else "batch.json"}
    if view is not None and view.tmb is not None:
        t = view.tmb
        r.update(tmb=t["tmb"], low=t["ci95_low"], high=t["ci95_high"], eligible=t["eligible_variants"],
                 mb=t["footprint_bp"] / 1e6, status=t.get("status", {}), p=t.get("p_tmb_ge_cut", {}))
        for c in (view.tmb_doc or {}).get("cutpoints", []):
            if f"{float(c):g}" not in cuts:
                cuts.append(f"{float(c):g}")
        h = harmonized_section_light(view)
        r["harmonized"] = h
    else:
        status = {k[len("status_ge_"):]: v for k, v in row.items() if k.startswith("status_ge_") and v}
        p = {k[len("p_ge_"):]: v for k, v in row.items() if k.startswith("p_ge_") and v is not None}
        for c in status:
            if c not in cuts:
                cuts.append(c)
        r.update(tmb=row.get("tmb"), low=row.get("ci95_low", row.get("tmb_ci95_low")),
                 high=row.get("ci95_high", row.get("tmb_ci95_high")), eligible=row.get("eligible_variants"),
                 mb=row.get("footprint_mb"), status=status, p=p,
                 harmonized=row.get("harmonized_tmb", row.get("tmb_harmonized")))
    if view is not None and view.msi is not None:
        r.update(msi_score=view.msi.get("msi_score"), msi_status=view.msi.get("status"), msi_mode=view.msi.get("mode"))
    else:
        r.update(msi_score=row.get("msi_score"), msi_status=row.get("msi_status"), msi_mode=row.get("msi_mode"))
    if view is not None and view.callable is not None:
        r["callable_mb"] = (view.callable.get("callable_bp") or 0) / 1e6
    else:
        r["callable_mb"] = row.get("callable_mb")
    return r


def harmonized_section_light(view: SampleView) -> float | None:
    h = view.harmonized
    return h.get("value") if h else None


def build_batch(path: Path, *, tumor_type: str | None = None) -> dict[str, Any]:
    """Context of the batch page: rows, cut labels, cohort figures, failures."""
    rows_in = read_batch(path)
    base = path.parent
    cuts: list[str] = []
    rows = []
    for r in rows_in:
        view = None
        if str(r.get("run_status", r.get("status", "ok"))) != "failed":
            try:
                view = _view_for(r, base)
            except TmbcalcError as exc:     # one unreadable sample must not hide the cohort
                r = {**r, "run_status": "unreadable", "error": f"result files: {exc}"}
        rows.append(_row(r, view, cuts))
    ok_tmb = [(r["sample"], float(r["tmb"])) for r in rows if isinstance(r.get("tmb"), (int, float))]
    ok_msi = [(r["sample"], float(r["msi_score"])) for r in rows if isinstance(r.get("msi_score"), (int, float))]
    cut_vals = [float(c) for c in cuts]
    failed = [r for r in rows if r["run_status"] not in COMPLETED]
    return {"rows": rows, "cuts": cuts, "n": len(rows), "n_failed": len(failed), "failed": failed,
            "tmb_figure": svg.strip(ok_tmb, cut_vals, "cohort TMB", "mut/Mb (log scale)") if ok_tmb else None,
            "msi_figure": svg.strip(ok_msi, [], "cohort MSI score", "% unstable loci", log=False) if ok_msi else None,
            "n_tmb": len(ok_tmb), "n_msi": len(ok_msi), "batch_json": str(path), "tumor_type": tumor_type,
            "any_harmonized": any(r.get("harmonized") is not None for r in rows)}


__all__ = ["read_batch", "build_batch"]
