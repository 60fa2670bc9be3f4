"""Files other tools read, written from tmbcalc result files (values copied, never recomputed).

* **MultiQC** custom content (:func:`write_multiqc`): ``PREFIX.tmbcalc_generalstats_mqc.json``
  (TMB, status per cut, MSI score and status, callable Mb in the General Statistics table) and
  ``PREFIX.tmbcalc_tmb_mqc.json`` (a TMB bar plot).  MultiQC finds them by their ``_mqc.json``
  ending (tested with MultiQC 1.35); no plugin needs to be installed beside MultiQC.
* **DRAGEN-style** (:func:`write_dragen`): per sample ``SAMPLE.tmb.metrics.csv`` with the
  section/subsection/metric/value rows of DRAGEN's TMB metrics (``TMB SUMMARY,,<metric>,<value>``:
  Total Input Variant Count, Total Input Variant Count in TMB region, Filtered Variant Count,
  Filtered Nonsyn Variant Count, Eligible Region (MB), TMB, Nonsyn TMB) and
  ``SAMPLE.microsat_output.json`` with the keys of DRAGEN's MSI output
  (TotalMicrosatelliteSitesAssessed, TotalMicrosatelliteSitesUnstable, PercentageUnstableSites,
  ResultIsValid, ResultMessage, Settings) -- the layout of DRAGEN v4.x (v4.2-v4.4 biomarker
  documentation: metrics CSVs are Section, Subsection, Metric, Value; MSI reports assessed sites,
  unstable sites and the percentage unstable).  See docs/report.md for the mapping.
* **cBioPortal** (:func:`write_cbioportal`): a sample clinical-attribute file with the four
  ``#`` metadata rows (display names, descriptions, datatypes, priorities) and the columns
  PATIENT_ID, SAMPLE_ID, TMB_NONSYNONYMOUS (NUMBER), MSI_SCORE (NUMBER), MSI_TYPE (STRING).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from .._version import __version__
from ..annotation import GROUPS
from ..errors import InputError, UsageError
from ..output import OutputSet
from .load import SampleView

NONSYNONYMOUS = GROUPS["nonsynonymous"]
SAFE_ID = re.compile(r"^[A-Za-z0-9._-]+$")
MSI_TYPE = {"MSI-H": "Instable", "MSS": "Stable", "indeterminate": "Indeterminate"}


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def nonsynonymous_count(v: SampleView) -> int | None:
    """Eligible variants whose consequence is nonsynonymous (tmbcalc's ``nonsynonymous`` group):
    counted from the variants report when given; else all eligible variants when the profile
    counts only nonsynonymous classes; else None (unknown)."""
    if v.tmb is None:
        return None
    if v.variants:
        return sum(n for c, n in v.variants["consequence_eligible"].items() if c in NONSYNONYMOUS)
    prof = ((v.tmb_doc or {}).get("provenance") or {}).get("profile") or {}
    classes = prof.get("consequences") or []
    if classes and set(classes) <= set(NONSYNONYMOUS):
        return int(v.tmb["eligible_variants"])
    return None


def _callable_mb(v: SampleView) -> float | None:
    if v.callable and _finite(v.callable.get("callable_bp")):
        return v.callable["callable_bp"] / 1e6
    den = (v.tmb_doc or {}).get("denominator") or {}
    if "callable" in str(den.get("kind", "")) and _finite(den.get("footprint_bp")):
        return den["footprint_bp"] / 1e6
    return None


def multiqc_rows(views: list[SampleView]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """General-statistics values per sample and the cut labels found."""
    data: dict[str, dict[str, Any]] = {}
    cuts: list[str] = []
    for v in views:
        row: dict[str, Any] = {}
        if v.tmb is not None:
            row["tmb"] = v.tmb["tmb"]
            row["tmb_mb"] = v.tmb["footprint_bp"] / 1e6
            for label, st in (v.tmb.get("status") or {}).items():
                row[f"tmb_status_{label}"] = st
                if label not in cuts:
                    cuts.append(label)
            h = v.harmonized
            if h and _finite(h.get("value")):
                row["tmb_harmonized"] = h["value"]
        if v.msi is not None:
            if _finite(v.msi.get("msi_score")):
                row["msi_score"] = v.msi["msi_score"]
            row["msi_status"] = v.msi.get("status")
        cmb = _callable_mb(v)
        if cmb is not None:
            row["callable_mb"] = cmb
        if v.name in data:
            raise InputError(f"sample '{v.name}' appears twice among the results; MultiQC needs unique names",
                             v.prefix)
        data[v.name] = row
    return data, cuts


def _mqc_headers(cuts: list[str]) -> dict[str, dict[str, Any]]:
    h: dict[str, dict[str, Any]] = {
        "tmb": {"title": "TMB", "description": "tmbcalc TMB: eligible mutations per Mb of the footprint",
                "suffix": " mut/Mb", "format": "{:,.2f}", "min": 0, "scale": "OrRd"},
    }
    for c in cuts:
        h[f"tmb_status_{c}"] = {"title": f"TMB >={c}", "description": f"tmbcalc TMB status at cut {c} mut/Mb "
                                "(high / low / equivocal by the exact 95% interval)"}
    h["tmb_harmonized"] = {"title": "TMB harm.", "description": "TMB harmonized to the reference scale",
                           "suffix": " mut/Mb", "format": "{:,.2f}", "min": 0, "hidden": True}
    h["tmb_mb"] = {"title": "TMB Mb", "description": "TMB denominator (Mb)", "format": "{:,.3f}", "hidden": True}
    h["msi_score"] = {"title": "MSI score", "description": "tmbcalc MSI score (% unstable of evaluable loci)",
                      "suffix": "%", "format": "{:,.2f}", "min": 0, "max": 100, "scale": "Purples"}
    h["msi_status"] = {"title": "MSI", "description": "tmbcalc MSI call (MSI-H / MSS / indeterminate)"}
    h["callable_mb"] = {"title": "Callable Mb", "description": "callable footprint (Mb)", "format": "{:,.3f}",
                        "min": 0}
    return h


def write_multiqc(views: list[SampleView], prefix: str | Path) -> list[Path]:
    """MultiQC custom-content files for these samples; returns their paths."""
    data, cuts = multiqc_rows(views)
    if not data:
        raise InputError("no samples to export", prefix)
    headers = {k: v for k, v in _mqc_headers(cuts).items() if any(k in row for row in data.values())}
    gs = {"id": "tmbcalc", "section_name": "tmbcalc", "plot_type": "generalstats",
          "description": f"tmbcalc {__version__}: TMB, MSI and callable footprint", "pconfig": headers,
          "data": data}
    bar = {"id": "tmbcalc_tmb", "section_name": "tmbcalc TMB", "plot_type": "bargraph",
           "description": "Tumor mutational burden per sample (mut/Mb), from PREFIX.tmb.json",
           "pconfig": {"id": "tmbcalc_tmb_plot", "title": "tmbcalc: TMB", "ylab": "mut/Mb", "cpswitch": False},
           "data": {s: {"TMB": r["tmb"]} for s, r in data.items() if "tmb" in r}}
    with OutputSet(str(prefix)) as outs:
        outs.write_json(".tmbcalc_generalstats_mqc.json", gs)
        paths = [outs.path(".tmbcalc_generalstats_mqc.json")]
        if bar["data"]:
            outs.write_json(".tmbcalc_tmb_mqc.json", bar)
            paths.append(outs.path(".tmbcalc_tmb_mqc.json"))
    return paths


def _safe_name(name: str, what: str) -> str:
    if not SAFE_ID.match(name):
        raise UsageError(f"sample name '{name}' cannot be used for {what}: only letters, digits, '.', '_' and '-' "
                         "are allowed (rename the sample)")
    return name


def dragen_tmb_csv(v: SampleView) -> str:
    """DRAGEN-style ``tmb.metrics.csv`` text (4 columns: section, subsection, metric, value)."""
    t = v.tmb
    assert t is not None
    mb = t["footprint_bp"] / 1e6
    ns = nonsynonymous_count(v)
    rows = [("Total Input Variant Count", str(int(t["records"]))),
            ("Total Input Variant Count in TMB region", str(int(t["in_footprint"])) if "in_footprint" in t else "NA"),
            ("Filtered Variant Count", str(int(t["eligible_variants"]))),
            ("Filtered Nonsyn Variant Count", "NA" if ns is None else str(ns)),
            ("Eligible Region (MB)", f"{mb:.6f}"),
            ("TMB", f"{t['tmb']:.4f}"),
            ("Nonsyn TMB", "NA" if ns is None else f"{ns / mb:.4f}")]
    return "".join(f"TMB SUMMARY,,{m},{val}\n" for m, val in rows)


def dragen_msi_json(v: SampleView) -> dict[str, Any]:
    """DRAGEN-style ``microsat_output.json`` (flat documented keys; tmbcalc details under Settings)."""
    from .context import msi_param

    m = v.msi
    assert m is not None
    evaluable, unstable = int(m.get("evaluable_loci") or 0), int(m.get("unstable_loci") or 0)
    min_ev = msi_param(m, "min_evaluable")
    valid = _finite(m.get("msi_score")) and (not _finite(min_ev) or evaluable >= min_ev)
    return {"TotalMicrosatelliteSitesAssessed": evaluable, "TotalMicrosatelliteSitesUnstable": unstable,
            "PercentageUnstableSites": round(float(m["msi_score"]), 4) if _finite(m.get("msi_score")) else "NaN",
            "ResultIsValid": bool(valid),
            "ResultMessage": "" if valid else f"fewer than {min_ev} evaluable loci",
            "Settings": {"Tool": f"tmbcalc {__version__}", "Mode": m.get("mode"), "MsiStatus": m.get("status"),
                         "CallBasis": m.get("call_basis"), "MsiHighCutoffPercent": msi_param(m, "cutoff"),
                         "IndeterminateBand": msi_param(m, "indeterminate_band"),
                         "MinEvaluableLoci": min_ev, "MinCoverage": msi_param(m, "min_coverage")}}


def write_dragen(views: list[SampleView], outdir: str | Path) -> list[Path]:
    """``SAMPLE.tmb.metrics.csv`` / ``SAMPLE.microsat_output.json`` per sample into ``outdir``."""
    out = Path(outdir)
    names = [_safe_name(v.name, "a DRAGEN-style file name") for v in views]
    if len(set(names)) != len(names):
        raise InputError("two results have the same sample name", out)
    with OutputSet(out, folder=True) as outs:
        paths = []
        for v, name in zip(views, names):
            if v.tmb is not None:
                outs.write_text(f"{name}.tmb.metrics.csv", dragen_tmb_csv(v))
                paths.append(outs.path(f"{name}.tmb.metrics.csv"))
            if v.msi is not None:
                outs.write_text(f"{name}.microsat_output.json", json.dumps(dragen_msi_json(v), indent=2) + "\n")
                paths.append(outs.path(f"{name}.microsat_output.json"))
    if not paths:
        raise InputError("no tmb.json or msi.json among the results", out)
    return paths


CBIO_COLUMNS = (("PATIENT_ID", "Patient Identifier", "Identifier to uniquely specify a patient.", "STRING"),
                ("SAMPLE_ID", "Sample Identifier", "A unique sample identifier.", "STRING"),
                ("TMB_NONSYNONYMOUS", "TMB (nonsynonymous)",
                 "Nonsynonymous eligible somatic mutations per Mb of the callable footprint (tmbcalc).", "NUMBER"),
                ("MSI_SCORE", "MSI Score", "Percentage of evaluable microsatellite loci called unstable (tmbcalc).",
                 "NUMBER"),
                ("MSI_TYPE", "MSI Type", "MSI call from the MSI score: Stable, Instable or Indeterminate.", "STRING"))


def cbioportal_text(views: list[SampleView], patients: dict[str, str] | None = None) -> str:
    """The clinical sample file: 4 metadata rows, the header row, one row per sample ('NA' = none)."""
    lines = ["#" + "\t".join(c[1] for c in CBIO_COLUMNS), "#" + "\t".join(c[2] for c in CBIO_COLUMNS),
             "#" + "\t".join(c[3] for c in CBIO_COLUMNS), "#" + "\t".join("1" for _ in CBIO_COLUMNS),
             "\t".join(c[0] for c in CBIO_COLUMNS)]
    seen = set()
    for v in views:
        sid = _safe_name(v.name, "a cBioPortal SAMPLE_ID")
        if sid in seen:
            raise InputError(f"sample '{sid}' appears twice among the results", v.prefix)
        seen.add(sid)
        pid = _safe_name((patients or {}).get(sid, sid), "a cBioPortal PATIENT_ID")
        ns = nonsynonymous_count(v)
        tmb = f"{ns / (v.tmb['footprint_bp'] / 1e6):.4f}" if ns is not None and v.tmb else "NA"
        m = v.msi or {}
        score = f"{m['msi_score']:.4f}" if _finite(m.get("msi_score")) else "NA"
        mtype = MSI_TYPE.get(m.get("status"), "NA") if m else "NA"
        lines.append("\t".join((pid, sid, tmb, score, mtype)))
    return "\n".join(lines) + "\n"


def write_cbioportal(views: list[SampleView], output: str | Path, patients: dict[str, str] | None = None) -> Path:
    """Write :func:`cbioportal_text` atomically to ``output`` (e.g. data_clinical_sample.txt)."""
    from .render import check_output_name

    check_output_name(output)
    text = cbioportal_text(views, patients)
    with OutputSet(str(output)) as outs:
        outs.write_text("", text)
    return Path(output)


__all__ = ["write_multiqc", "write_dragen", "write_cbioportal", "dragen_tmb_csv", "dragen_msi_json",
           "cbioportal_text", "multiqc_rows", "nonsynonymous_count", "CBIO_COLUMNS"]
