"""Turn a :class:`~tmbcalc.report.load.SampleView` into the values and figures one sample's page
shows.  Every number shown comes from a result file (or the shipped TCGA table / calibration
model for context); nothing is recomputed here.
"""
from __future__ import annotations

import math
from typing import Any

from . import svg
from .load import SampleView
from .tcga import load_reference, percentile_rank, rows_by_median

EXOME_MIN_BP = 20_000_000   # a footprint this large is treated as an exome for the TCGA comparison

LIMITATIONS = [
    "TMB counts the somatic variants that pass the counting profile inside the stated footprint; it is "
    "not comparable between assays whose footprint or rules differ unless harmonized.",
    "The 95% interval is the exact (Garwood) Poisson interval of the count: it covers sampling of "
    "mutations by the footprint only, not calling errors, purity, ploidy or subclonality.",
    "P(TMB >= cut) is the posterior probability of the true rate being at or above the cut under the "
    "same Poisson model (Jeffreys prior); a status near a cut is less reproducible than the point suggests.",
    "Calls depend on the variant caller, its filters and annotation; tmbcalc does not re-call variants.",
    "MSI from reads is a research measurement (percentage of unstable loci); its cut-off is "
    "assay-specific and should be validated against PCR/IHC on the lab's own samples.",
    "The TCGA context uses exome TMB under the wes-merino rules; a panel TMB sits on that scale only "
    "after harmonization with a calibration model.",
]


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _zone_pair(d: Any) -> tuple[float, float] | None:
    """(low, high) of a zone written as [low, high] or {"low": .., "high": ..}; None otherwise."""
    if isinstance(d, (list, tuple)) and len(d) == 2 and all(_finite(x) for x in d):
        return float(d[0]), float(d[1])
    if isinstance(d, dict) and _finite(d.get("low")) and _finite(d.get("high")):
        return float(d["low"]), float(d["high"])
    return None


def equivocal_zones(v: SampleView) -> list[dict[str, Any]]:
    """Equivocal zones (panel TMB, mut/Mb) wherever the result JSON carries them: per TMB cut
    (``equivocal_zones`` of the sample or the document, keyed by cut label) and, for a harmonized
    result, around the panel cut equivalent to each reference cut (``harmonization.equivocal_zones``).
    Each: {label, cut (the panel cut the zone surrounds, or None), low, high, probability_range}."""
    out: list[dict[str, Any]] = []
    for src in ((v.tmb or {}).get("equivocal_zones"), (v.tmb_doc or {}).get("equivocal_zones")):
        if isinstance(src, dict):
            for cut, d in src.items():
                pair = _zone_pair(d)
                if pair and not any(z["label"] == f"cut {cut}" for z in out):
                    c = d.get("cut") if isinstance(d, dict) else None
                    out.append({"label": f"cut {cut}", "cut": float(c) if _finite(c) else _as_float(cut),
                                "low": pair[0], "high": pair[1],
                                "probability_range": d.get("probability_range") if isinstance(d, dict) else None})
    zones = (v.harmonized or {}).get("zones")
    if isinstance(zones, dict):
        for ref_cut, d in zones.items():
            pair = _zone_pair(d)
            if pair:
                pc = d.get("panel_cut")
                out.append({"label": f"panel cut {pc:g} = reference {ref_cut}" if _finite(pc) else f"reference {ref_cut}",
                            "cut": float(pc) if _finite(pc) else None, "low": pair[0], "high": pair[1],
                            "probability_range": d.get("probability_range")})
    return out


def _as_float(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def tmb_section(v: SampleView) -> dict[str, Any] | None:
    if v.tmb is None:
        return None
    t, doc = v.tmb, v.tmb_doc or {}
    cuts = [float(c) for c in doc.get("cutpoints", [])]
    zones = equivocal_zones(v)
    rows = []
    for c in cuts:
        label = f"{c:g}"
        zone = next(((z["low"], z["high"]) for z in zones if z["cut"] is not None and abs(z["cut"] - c) < 1e-9), None)
        rows.append({"cut": label, "status": t.get("status", {}).get(label, "-"),
                     "p": t.get("p_tmb_ge_cut", {}).get(label), "zone": zone})
    fig = svg.tmb_scale(t["tmb"], t["ci95_low"], t["ci95_high"], cuts,
                        {z["label"]: (z["low"], z["high"]) for z in zones})
    return {"tmb": t["tmb"], "low": t["ci95_low"], "high": t["ci95_high"], "eligible": t["eligible_variants"],
            "mb": t["footprint_bp"] / 1e6, "footprint_bp": t["footprint_bp"], "cuts": rows, "figure": fig,
            "zones": zones,
            "warnings": doc.get("warnings", [])}


def context_section(v: SampleView) -> dict[str, Any]:
    """Where the sample falls among TCGA exomes (harmonized value when there is one)."""
    ref = load_reference()
    h = v.harmonized
    if h and _finite(h.get("value")) and str(h.get("reference", "")).startswith(ref["scale"]):
        value, label, on_scale = float(h["value"]), "harmonized TMB", True
    elif v.tmb is not None:
        value, label = float(v.tmb["tmb"]), "TMB"
        prof = ((v.tmb_doc or {}).get("provenance") or {}).get("profile") or {}
        # on the reference scale only with the reference rules on an exome-sized footprint
        on_scale = prof.get("name") == "wes-merino" and v.tmb["footprint_bp"] >= EXOME_MIN_BP
    else:
        value, label, on_scale = None, "TMB", False
    rows = rows_by_median()
    tt = v.tumor_type
    pct = None
    if value is not None and tt:
        pct = percentile_rank(value, ref["tumor_types"][tt]["percentiles"])
    pan = percentile_rank(value, ref["pan_cancer"]["percentiles"]) if value is not None else None
    return {"value": value, "label": label, "on_scale": on_scale, "tumor_type": tt, "percentile": pct,
            "pan_percentile": pan, "type_row": ref["tumor_types"].get(tt) if tt else None,
            "figure": svg.distribution(rows, value, tt, label), "n": ref["n_tumours"],
            "n_types": len(rows), "definition": ref["definition"], "reference_mb": ref["reference_mb"],
            "scale": ref["scale"], "inputs": ref["inputs"], "relaxed": ref.get("relaxed_rules", {})}


def variants_section(v: SampleView) -> dict[str, Any] | None:
    if v.tmb is None:
        return None
    t, doc = v.tmb, v.tmb_doc or {}
    order = (doc.get("provenance") or {}).get("rules_order") or list(t.get("excluded", {}))
    steps = [(r, int(t["excluded"][r])) for r in order if r in t.get("excluded", {}) and t["excluded"][r]]
    out: dict[str, Any] = {"records": t["records"], "in_footprint": t.get("in_footprint"),
                           "eligible": t["eligible_variants"], "steps": steps,
                           "failing": t.get("failing", {}), "excluded": t.get("excluded", {}),
                           "waterfall": svg.waterfall(int(t["records"]), steps, int(t["eligible_variants"])),
                           "vaf_hist": None}
    vs = v.variants
    if vs:
        out["vaf_hist"] = svg.histogram(vs["vaf_hist"], 0.0, 1.0, "VAF of eligible variants", "tumor VAF (fraction)")
        out["vaf_missing"] = vs["vaf_missing"]
        out["vaf_counted"] = sum(vs["vaf_hist"])
        mix = sorted(vs["consequence_eligible"].items(), key=lambda kv: (-kv[1], kv[0]))
        mix_fp = sorted(vs["consequence_in_footprint"].items(), key=lambda kv: (-kv[1], kv[0]))
        out["csq"] = svg.hbars([(k, float(n)) for k, n in mix], "consequence of eligible variants", cls="csq-bar")
        out["csq_fp"] = svg.hbars([(k, float(n)) for k, n in mix_fp[:12]], "consequence in footprint",
                                  cls="csq-fp-bar")
        out["types"] = sorted(vs["type_eligible"].items(), key=lambda kv: (-kv[1], kv[0]))
        out["report_eligible"] = vs["eligible"]
    return out


def denominator_section(v: SampleView) -> dict[str, Any] | None:
    doc = v.tmb_doc or {}
    den = doc.get("denominator")
    out: dict[str, Any] = {"kind": None, "bp": None, "stages": [], "figure": None, "panel_declared_mb": None,
                           "convention": None, "callable": None, "coverage": None, "fraction_of_first": None,
                           "warnings": []}
    if den:
        stages = [(s.get("stage", "?"), s.get("bp", 0) / 1e6) for s in den.get("stages", [])]
        out.update({"kind": den.get("kind"), "bp": den.get("footprint_bp"), "stages": den.get("stages", []),
                    "figure": svg.hbars(stages, "Mb per denominator stage", " Mb", nd=4, cls="stage-bar"),
                    "panel_declared_mb": den.get("panel_declared_tmb_mb"),
                    "convention": den.get("variant_overlap_convention"),
                    "warnings": [str(w) for w in den.get("warnings") or []]})
        first = den.get("stages", [{}])[0].get("bp")
        if first:
            out["fraction_of_first"] = den["footprint_bp"] / first
    if v.callable:
        c = v.callable
        out["callable"] = {"callable_bp": c.get("callable_bp"), "footprint_bp": c.get("footprint_bp"),
                           "fraction": c.get("callable_fraction"), "thresholds": c.get("thresholds", {}),
                           "per_contig": c.get("per_contig", [])}
    if v.coverage:
        out["coverage"] = v.coverage
    return out if (den or v.callable or v.coverage) else None


def msi_param(m: dict[str, Any], key: str) -> Any:
    """A scoring parameter of an msi.json: top level (older layout) or under ``parameters``."""
    if m.get(key) is not None:
        return m[key]
    return (m.get("parameters") or {}).get(key)


def msi_section(v: SampleView) -> dict[str, Any] | None:
    m = v.msi
    if m is None:
        return None
    cutoff, band = msi_param(m, "cutoff"), msi_param(m, "indeterminate_band")
    stat = m.get("statistic") if isinstance(m.get("statistic"), dict) else None
    out = {"score": m.get("msi_score"), "status": m.get("status"), "mode": m.get("mode"),
           "cutoff": cutoff, "band": band, "evaluable": m.get("evaluable_loci"),
           "unstable": m.get("unstable_loci"), "total": m.get("loci_total"), "basis": m.get("call_basis"),
           "unit": m.get("score_unit", "% unstable of evaluable loci"), "statistic": stat,
           "warnings": [str(w) for w in m.get("warnings") or []],
           "pair_check": m.get("pair_check") if isinstance(m.get("pair_check"), dict) else None,
           "figure": svg.score_scale(m.get("msi_score"), cutoff, band, "MSI score"),
           "loci": [], "baseline_note": m.get("mode") == "tumor-only"}
    for r in v.msi_loci or []:
        key = (r["chrom"], int(r["start"]))
        dis = (v.msi_dis or {}).get(key)
        fig = None
        if dis and dis.get("T"):
            fig = svg.length_hist(dis.get("N"), dis.get("T"), dis["ref_copies"],
                                  f"{r['chrom']}:{r['start']} {dis['ref_copies']}x{dis['unit']}",
                                  locus=f"{r['chrom']}:{r['start']}")
        out["loci"].append({**r, "figure": fig})
    return out


def harmonized_section(v: SampleView) -> dict[str, Any] | None:
    h = v.harmonized
    if h is None:
        return None
    out = dict(h)
    out["raw"] = v.tmb["tmb"] if v.tmb else None
    out["figure"] = None
    model = _load_model(h.get("model_file"), h.get("model"))
    if model is not None and out["raw"] is not None and _finite(h.get("value")):
        import numpy as np

        bx, lo, hi = model.band_arrays()
        top = max(float(out["raw"]) * 1.5, 50.0)
        xs = np.unique(np.concatenate([np.linspace(0, top, 200), bx[bx <= top]]))
        keep = bx <= top
        out["figure"] = svg.curve(xs.tolist(), model.predict(xs).tolist(),
                                  (bx[keep].tolist(), lo[keep].tolist(), hi[keep].tolist()),
                                  (float(out["raw"]), float(h["value"]), float(h.get("low") or h["value"]),
                                   float(h.get("high") or h["value"])),
                                  f"panel TMB ({model.panel_id})", f"harmonized ({model.reference})")
        out["model_panel"] = model.panel_id
    return out


def _load_model(path: str | None, model_id: str | None):
    """The calibration model whose curve is drawn (file named in the result, else the registry)."""
    from ..errors import TmbcalcError

    try:
        from ..calibrate.models import load_model

        if path:
            return load_model(path)
        if model_id:
            return load_model(model_id)
    except (TmbcalcError, OSError, ImportError, KeyError, ValueError):
        return None
    return None


def provenance_section(v: SampleView) -> dict[str, Any]:
    docs = []
    for what, doc in (("tmb", (v.tmb_doc or {}).get("provenance")), ("msi score", (v.msi or {}).get("provenance")),
                      ("callable", (v.callable or {}).get("provenance"))):
        if not isinstance(doc, dict):
            continue
        inputs = []
        for role, val in (doc.get("inputs") or {}).items():
            for item in (val if isinstance(val, list) else [val]):
                if isinstance(item, dict):
                    inputs.append({"role": role, "name": item.get("name"), "sha256": item.get("sha256"),
                                   "bytes": item.get("bytes")})
                else:
                    inputs.append({"role": role, "name": str(item), "sha256": None, "bytes": None})
        prof = doc.get("profile") if isinstance(doc.get("profile"), dict) else None
        docs.append({"what": what, "version": doc.get("version"), "created": doc.get("created_utc"),
                     "command": doc.get("command_line") or doc.get("command"), "parameters": doc.get("parameters", {}),
                     "software": doc.get("software", {}), "inputs": inputs, "profile": prof,
                     "panel": doc.get("panel")})
    return {"runs": docs, "files": v.files}


def limitations(v: SampleView) -> list[str]:
    out = list(LIMITATIONS)
    prof = ((v.tmb_doc or {}).get("provenance") or {}).get("profile") or {}
    if prof.get("approximations"):
        out.append(f"Profile '{prof.get('name')}': {prof['approximations']}")
    meta = ((v.tmb_doc or {}).get("provenance") or {}).get("input_meta") or {}
    if v.tmb is not None and not meta.get("normal_sample") and meta.get("format") == "vcf":
        out.append("No matched normal column was found in the VCF: germline variants are removed only by the "
                   "profile's population-frequency and germline rules (tumor-only TMB tends to be higher).")
    if v.msi and v.msi.get("mode") == "tumor-only":
        out.append("MSI was scored tumor-only against a baseline of normals; loci with little baseline "
                   "support are not evaluable.")
    return out


def build_sample(v: SampleView) -> dict[str, Any]:
    """Everything the sample template needs."""
    return {"name": v.name, "prefix": v.prefix, "tumor_type": v.tumor_type, "tmb": tmb_section(v),
            "context": context_section(v), "variants": variants_section(v), "denominator": denominator_section(v),
            "msi": msi_section(v), "harmonized": harmonized_section(v), "provenance": provenance_section(v),
            "limitations": limitations(v)}


__all__ = ["build_sample", "equivocal_zones", "LIMITATIONS"]
