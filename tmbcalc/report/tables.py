"""Readers of the tabular result files the reports summarise (counts only; nothing is recomputed).

* :func:`read_variants`  ``PREFIX.variants.tsv.gz`` -> per sample: eligible VAF histogram (20 bins
  of 0.05 on the VAF as written, 3 decimals), consequence mix (eligible / in footprint), types;
* :func:`read_coverage`  ``PREFIX.coverage.tsv`` -> per-target depth summary and worst targets;
* :func:`read_msi_loci`  ``PREFIX.msi_loci.tsv.gz`` -> the most informative evaluable loci;
* :func:`read_msi_dis`   ``PREFIX.msi_dis`` -> tumor/normal length histograms (whole repeat copies).
"""
from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import InputError

VAF_BINS = 20          # bins of width 0.05 over [0, 1]; VAF 1.0 falls in the last bin


def _rows(path: Path, required: tuple[str, ...]):
    """(header, row iterator) of a tab-separated result file, skipping leading '#' lines."""
    from .load import open_text

    fh = open_text(path)
    reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        for header in reader:
            if header and not header[0].startswith("#"):
                break
        else:
            raise InputError("no column header line", path)
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        fh.close()
        raise InputError(f"cannot read: {exc}", path) from None
    missing = [c for c in required if c not in header]
    if missing:
        fh.close()
        raise InputError(f"missing column(s) {', '.join(missing)}", path)
    return fh, header, reader


def _comment_lines(path: Path) -> int:
    """Number of leading '#' lines of a (gzipped) TSV."""
    from .load import open_text

    n = 0
    with open_text(path) as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            n += 1
    return n


def read_variants(path: Path, samples: list[str]) -> dict[str, dict[str, Any]]:
    """Per sample: ``vaf_hist`` (list of 20 counts of eligible variants), ``vaf_missing``,
    ``eligible``, ``in_footprint``, ``rows``, ``consequence_eligible`` / ``consequence_in_footprint``
    (Counter of the consequence class), ``type_eligible`` (Counter of snv/mnv/ins/del/...).
    Read with pandas (about 1 s per million rows)."""
    import numpy as np
    import pandas as pd

    cols = ["sample", "vaf", "consequence", "in_footprint", "eligible", "type"]
    try:
        df = pd.read_csv(path, sep="\t", skiprows=_comment_lines(path), usecols=cols, dtype=str,
                         quoting=csv.QUOTE_NONE, keep_default_na=False, na_filter=False)
    except ValueError as exc:      # a missing column
        raise InputError(f"not a tmbcalc variants report: {exc}", path) from None
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read (truncated or malformed?): {exc}", path) from None
    out: dict[str, dict[str, Any]] = {}
    groups = {k: g for k, g in df.groupby("sample", sort=False)}
    for name in samples:
        d = groups.get(name, df.iloc[:0])
        fp = d[d["in_footprint"] == "yes"]
        el = d[d["eligible"] == "yes"]
        milli = np.round(pd.to_numeric(el["vaf"], errors="coerce").to_numpy(float) * 1000)
        ok = np.isfinite(milli) & (milli >= 0) & (milli <= 1000)
        bins = np.minimum(milli[ok].astype(np.int64) // 50, VAF_BINS - 1)
        out[name] = {"vaf_hist": np.bincount(bins, minlength=VAF_BINS).tolist(),
                     "vaf_missing": int((~ok).sum()), "eligible": len(el), "in_footprint": len(fp), "rows": len(d),
                     "consequence_eligible": Counter(el["consequence"].value_counts().to_dict()),
                     "consequence_in_footprint": Counter(fp["consequence"].value_counts().to_dict()),
                     "type_eligible": Counter(el["type"].value_counts().to_dict())}
    return out


def _num(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _quantile(sorted_vals: list[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of an ascending list."""
    if not sorted_vals:
        return float("nan")
    pos = q * (len(sorted_vals) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def read_coverage(path: Path, worst: int = 10) -> dict[str, Any]:
    """Per-target coverage summary: n targets, bp, quantiles (10/50/90%) of the targets' mean
    depth, targets fully / partly / not callable (``frac_ge_min_depth`` 1 / (0,1) / 0), and the
    ``worst`` targets by fraction of bases at the minimum depth."""
    fh, header, reader = _rows(path, ("chrom", "start", "end", "mean_depth", "frac_ge_min_depth"))
    ix = {c: i for i, c in enumerate(header)}
    targets = []
    with fh:
        for row in reader:
            if len(row) < len(header):
                raise InputError(f"truncated row {reader.line_num}", path)
            t = {"chrom": row[ix["chrom"]], "start": int(row[ix["start"]]), "end": int(row[ix["end"]]),
                 "name": row[ix["name"]] if "name" in ix else "", "mean_depth": _num(row[ix["mean_depth"]]),
                 "frac": _num(row[ix["frac_ge_min_depth"]])}
            if "normal_frac_ge_min_depth" in ix:
                t["normal_frac"] = _num(row[ix["normal_frac_ge_min_depth"]])
            targets.append(t)
    depths = sorted(t["mean_depth"] for t in targets if t["mean_depth"] is not None)
    fr = [t["frac"] for t in targets if t["frac"] is not None]
    order = sorted((t for t in targets if t["frac"] is not None), key=lambda t: (t["frac"], t["mean_depth"] or 0))
    return {"targets": len(targets), "bp": sum(t["end"] - t["start"] for t in targets),
            "mean_depth_p10": _quantile(depths, 0.1), "mean_depth_p50": _quantile(depths, 0.5),
            "mean_depth_p90": _quantile(depths, 0.9),
            "fully_callable": sum(1 for f in fr if f >= 1.0), "partly_callable": sum(1 for f in fr if 0 < f < 1),
            "not_callable": sum(1 for f in fr if f <= 0), "has_normal": "normal_frac_ge_min_depth" in ix,
            "worst": order[:worst]}


def read_msi_loci(path: Path, top: int = 6) -> list[dict[str, Any]]:
    """The ``top`` most informative evaluable loci: smallest q (then p) value, largest statistic."""
    fh, header, reader = _rows(path, ("chrom", "start", "end", "unit", "evaluable", "unstable"))
    rows = []
    with fh:
        for row in reader:
            if len(row) < len(header):
                raise InputError(f"truncated row {reader.line_num}", path)
            r = dict(zip(header, row))
            if r["evaluable"] != "1":
                continue
            rows.append(r)

    def key(r: dict[str, str]) -> tuple[float, float, float]:
        q = _num(r.get("q_value", "NA"))
        p = _num(r.get("p_value", "NA"))
        st = _num(r.get("statistic", "NA"))
        return (q if q is not None else 2.0, p if p is not None else 2.0, -(st if st is not None else 0.0))

    rows.sort(key=key)
    return rows[:top]


def read_msi_dis(path: Path, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Histograms of ``PREFIX.msi_dis`` for the loci in ``wanted`` ((chrom, start) pairs):
    ``{(chrom, start): {"unit", "ref_copies", "N": [...] or None, "T": [...]}}``; list index i
    holds reads with i+1 whole copies of the unit."""
    from .load import open_text

    out: dict[tuple[str, int], dict[str, Any]] = {}
    cur: dict[str, Any] | None = None
    with open_text(path) as fh:
        for n, line in enumerate(fh, 1):
            parts = line.split()
            if not parts:
                continue
            if parts[0] in ("N:", "T:"):
                if cur is not None:
                    try:
                        cur[parts[0][0]] = [int(x) for x in parts[1:]]
                    except ValueError:
                        raise InputError(f"line {n}: non-integer read count", path) from None
                continue
            if len(parts) < 5 or "[" not in parts[3]:
                raise InputError(f"line {n}: not an MSIsensor-style locus line", path)
            try:
                key = (parts[0], int(parts[1]))
                copies, unit = parts[3].rstrip("]").split("[")
                ref_copies = int(copies)
            except ValueError:
                raise InputError(f"line {n}: bad locus line", path) from None
            cur = None
            if key in wanted:
                cur = out[key] = {"unit": unit, "ref_copies": ref_copies, "N": None, "T": None}
    return out


__all__ = ["read_variants", "read_coverage", "read_msi_loci", "read_msi_dis", "VAF_BINS"]
