"""The tidy simulation table: one row per (sample, panel), TMB in mut/Mb.

File layout (``PREFIX.simulated.tsv.gz``)::

    # tmbcalc 0.1.0 calibrate simulate
    # provenance: {single-line JSON: parameters, inputs with sha256, panels, reference}
    sample  cohort  panel  profile  count  mb  tmb

``panel`` is a panel id or the reference name (e.g. ``exome-wes-merino``; the provenance's
``reference.name`` says which); ``count`` = eligible mutations inside the footprint;
``mb`` = footprint size used as denominator (Mb); ``tmb = count / mb``.
"""
from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, require_readable

COLUMNS = ("sample", "cohort", "panel", "profile", "count", "mb", "tmb")
PROV_TAG = "# provenance: "


def read_simulated(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a simulation table; returns (DataFrame, provenance dict or {})."""
    p = require_readable(path, "simulation table")
    try:
        raw = p.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"cannot read simulation table ({exc})", p) from None
    except UnicodeDecodeError:
        raise InputError("simulation table is not UTF-8 text", p) from None
    prov: dict[str, Any] = {}
    body_start = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not line.startswith("#"):
            body_start = i
            break
        if line.startswith(PROV_TAG):
            try:
                prov = json.loads(line[len(PROV_TAG):])
            except json.JSONDecodeError as exc:
                raise InputError(f"line {i + 1}: provenance is not valid JSON ({exc.msg})", p) from None
    else:
        body_start = len(lines)
    body = "\n".join(lines[body_start:])
    if not body.strip():
        raise InputError("simulation table has no header or rows", p)
    try:
        df = pd.read_csv(io.StringIO(body), sep="\t", dtype={"sample": str, "cohort": str, "panel": str,
                                                            "profile": str})
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"simulation table is malformed ({str(exc).splitlines()[0]})", p) from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"simulation table lacks column(s): {', '.join(missing)} "
                         f"(expected {', '.join(COLUMNS)}; make it with 'tmbcalc calibrate simulate')", p)
    for c in ("count", "mb", "tmb"):
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise InputError(f"column '{c}' is not numeric", p)
    if df[["count", "mb", "tmb"]].isna().any().any():
        raise InputError("simulation table has empty count/mb/tmb cells", p)
    if (df["mb"] <= 0).any():
        raise InputError("simulation table has a footprint size (mb) <= 0", p)
    values = df[["count", "mb", "tmb"]].to_numpy(dtype=float)
    if not np.isfinite(values).all() or (values < 0).any():
        raise InputError("simulation table has an infinite or negative count/mb/tmb", p)
    dup = df.duplicated(["cohort", "sample", "panel"], keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        r = df.iloc[i]
        raise InputError(f"line {body_start + i + 2}: duplicate row for cohort '{r['cohort']}', sample "
                         f"'{r['sample']}', panel '{r['panel']}' ({int(dup.sum())} duplicate rows)", p)
    return df, prov


def format_simulated(df: pd.DataFrame, provenance: dict[str, Any]) -> str:
    head = f"# tmbcalc {provenance.get('version', '')} {provenance.get('command', '')}\n"
    head += PROV_TAG + json.dumps(provenance, separators=(",", ":"), allow_nan=False) + "\n"
    out = df.loc[:, list(COLUMNS)].copy()
    return head + out.to_csv(sep="\t", index=False, float_format="%.10g", lineterminator="\n")


def paired(df: pd.DataFrame, panel: str, reference: str) -> pd.DataFrame:
    """Panel and reference TMB side by side: columns cohort, sample, x (panel), y (reference), x_mb, y_mb."""
    a = df.loc[df["panel"] == panel, ["cohort", "sample", "tmb", "mb", "count"]]
    b = df.loc[df["panel"] == reference, ["cohort", "sample", "tmb", "mb", "count"]]
    m = a.merge(b, on=["cohort", "sample"], suffixes=("_x", "_y"), how="inner", validate="one_to_one")
    m = m.rename(columns={"tmb_x": "x", "tmb_y": "y", "mb_x": "x_mb", "mb_y": "y_mb",
                          "count_x": "x_count", "count_y": "y_count"})
    return m.sort_values(["cohort", "sample"], kind="stable").reset_index(drop=True)


__all__ = ["COLUMNS", "read_simulated", "format_simulated", "paired"]
