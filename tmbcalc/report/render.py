"""Render the HTML reports with Jinja2 (autoescape on) and write them atomically.

Public API (re-exported by :mod:`tmbcalc.report`)::

    render_report(results, tumor_type=None, title=None) -> str      # one page, one or more samples
    write_report(results, output, tumor_type=None, title=None) -> Path
    render_batch_report(batch_json, tumor_type=None, title=None) -> str
    write_batch_report(batch_json, output, tumor_type=None, title=None) -> Path

``results``: result files, prefixes or folders (see :mod:`tmbcalc.report.load`).  The pages are
self-contained: inline CSS and SVG, no web fonts, no network; the only script (batch table
sorting) is inline, allowed by its sha256 in the page's Content-Security-Policy, and attaches
its click handlers with ``addEventListener`` (nothing built from data).
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from .._version import __version__
from ..output import OutputSet

SORT_SCRIPT = """(function () {
  function key(td) {
    var v = td.getAttribute("data-sort");
    if (v === null) { v = td.textContent; }
    var x = parseFloat(v);
    return isNaN(x) ? v.toLowerCase() : x;
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute("data-dir") !== "asc";
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    th.setAttribute("data-dir", asc ? "asc" : "desc");
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.classList.add("sort-ready");
    table.querySelectorAll("th.sortable").forEach(function (th, col) {
      th.addEventListener("click", function () { sortBy(table, col, th); });
    });
  });
})();"""


def _fmt(v: Any, nd: int = 2) -> str:
    import jinja2

    if v is None or isinstance(v, jinja2.Undefined):
        return "-"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if not math.isfinite(v):
        return "-"
    return f"{v:.{nd}f}"


def _compact(v: Any) -> str:
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, sort_keys=True, default=str, ensure_ascii=False)
    return "" if v is None else str(v)


@lru_cache(maxsize=1)
def environment():
    """The Jinja2 environment: package templates, autoescape for every template.  A key missing from
    a result file (older/newer layouts) renders as empty / '-' rather than failing the report."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("tmbcalc.report", "templates"),
                             autoescape=True, undefined=jinja2.ChainableUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["compact"] = _compact
    return env


def script_hash(script: str) -> str:
    """CSP source expression allowing exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _common(title: str, script: str | None) -> dict[str, Any]:
    return {"version": __version__, "title": title,
            "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
            "script_src": script_hash(script) if script else "'none'", "script": script}


def render_report(results: Sequence[str | Path], *, tumor_type: str | None = None,
                  title: str | None = None, samples: Sequence[str] | None = None) -> str:
    """HTML of one report page for every sample found in ``results`` (read, never recomputed);
    ``samples`` keeps only the named ones."""
    from ..errors import UsageError
    from .context import build_sample
    from .load import load_results
    from .tcga import check_tumor_type

    views = load_results(list(results), tumor_type=check_tumor_type(tumor_type))
    if samples:
        missing = [s for s in samples if s not in {v.name for v in views}]
        if missing:
            raise UsageError(f"sample(s) {', '.join(missing)} not in the results (found: "
                             f"{', '.join(v.name for v in views[:10])}{' ...' if len(views) > 10 else ''})")
        views = [v for v in views if v.name in set(samples)]
    pages = [build_sample(v) for v in views]
    if title is None:
        title = "tmbcalc report: " + (pages[0]["name"] if len(pages) == 1 else f"{len(pages)} samples")
    return environment().get_template("sample.html.j2").render(samples=pages, **_common(title, None))


def check_output_name(output: str | Path) -> Path:
    """Refuse an output that is a folder or named like a result file (it could overwrite an input)."""
    from ..errors import UsageError
    from .load import classify

    out = Path(output)
    if out.is_dir():
        raise UsageError(f"output '{out}' is a folder; give a file name such as report.html")
    if classify(out) is not None:
        raise UsageError(f"output '{out}' is named like a tmbcalc result file; choose another name")
    return out


def _write(text: str, output: str | Path) -> Path:
    out = check_output_name(output)
    with OutputSet(str(out)) as outs:
        outs.write_text("", text)
    return out


def write_report(results: Sequence[str | Path], output: str | Path, *, tumor_type: str | None = None,
                 title: str | None = None, samples: Sequence[str] | None = None) -> Path:
    """Render :func:`render_report` and write it to ``output`` atomically; returns the path."""
    check_output_name(output)
    return _write(render_report(results, tumor_type=tumor_type, title=title, samples=samples), output)


def render_batch_report(batch_json: str | Path, *, tumor_type: str | None = None,
                        title: str | None = None) -> str:
    """HTML of the cohort page of a batch run (see :mod:`tmbcalc.report.batch` for batch.json)."""
    from .batch import build_batch
    from .tcga import check_tumor_type

    ctx = build_batch(Path(batch_json), tumor_type=check_tumor_type(tumor_type))
    title = title or f"tmbcalc batch report: {ctx['n']} samples"
    return environment().get_template("batch.html.j2").render(batch=ctx, **_common(title, SORT_SCRIPT))


def write_batch_report(batch_json: str | Path, output: str | Path, *, tumor_type: str | None = None,
                       title: str | None = None) -> Path:
    check_output_name(output)
    return _write(render_batch_report(batch_json, tumor_type=tumor_type, title=title), output)


__all__ = ["render_report", "write_report", "render_batch_report", "write_batch_report", "environment",
           "SORT_SCRIPT", "script_hash"]
