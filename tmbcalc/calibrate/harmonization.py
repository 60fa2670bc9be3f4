"""Harmonize a TMB result to a reference scale: raw and harmonized TMB side by side.

:func:`harmonize_tmb` is the API step behind ``tmbcalc tmb --panel P --calibrate-to REF``: it
takes the :class:`~tmbcalc.tmb.TmbResult` of ``compute_tmb``, checks that the result's panel
value is the one the model was fitted on (:func:`definition_differences`: TMB region and its
size, optionally restricted to the bases the run could call, every counting rule of the resolved profile, hotspot handling) and refuses with a one-line
error naming the first difference otherwise; then fills ``SampleTmb.harmonized`` (value,
prediction interval, calls and equivocal flags per reference cut) and ``TmbResult.harmonization``
(model, definition, recommendation, equivocal zones).  It never writes files.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..harmonized import Harmonization, HarmonizedTmb
from . import prediction
from .models import CalibrationModel, find_model, load_model
from .uncertainty import equivocal_panel_values
from ..tmb.guards import CALLABLE_STAGES, DEFAULT_MIN_CALLABLE_FRACTION, DEFAULT_MIN_FOOTPRINT_MB
from ..tmb.relax import switched_fields

_DESCRIPTIVE = ("name", "description", "citation", "approximations", "cutpoints", "source")


def _fmt(v: Any) -> str:
    return "off" if v is None else str(v)


def definition_differences(model: CalibrationModel, result: Any) -> list[str]:
    """How the result's panel value differs from the model's definition (empty = the same value)."""
    d = model.definition
    if not d or not d.get("panel"):
        st = model.status
        why = f" ({st['reason']})" if st["status"] == "deprecated" else ""
        return [f"model '{model.id}' records no panel-value definition (format_version "
                f"{model.data.get('format_version')}{why}); use a current model"]
    pdef = d["panel"]
    fp = pdef["footprint"]
    out: list[str] = []
    panel = (result.provenance.get("panel") or {})
    if panel.get("id") != fp["panel"]:
        out.append(f"the model maps panel '{fp['panel']}' values, this run's denominator is "
                   f"{('panel ' + repr(panel.get('id'))) if panel.get('id') else 'a BED, not a registry panel'}")
        return out
    if panel.get("version") != fp["panel_version"]:
        out.append(f"panel version: model {fp['panel_version']!r}, this run {panel.get('version')!r}")
    out += _footprint_differences(fp, result.denominator)
    off, relaxed_diff = _relaxed_differences(model, result)
    if relaxed_diff:
        return out + relaxed_diff
    want = {k: v for k, v in pdef["profile"].items() if k not in _DESCRIPTIVE}
    want.update(switched_fields(off))      # the rules the run's input had no data for, off as in training
    have = {k: v for k, v in result.profile.to_dict().items() if k not in _DESCRIPTIVE}
    for k in sorted(set(want) | set(have)):
        a, b = want.get(k), have.get(k)
        if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
            a = [list(x) if isinstance(x, tuple) else x for x in (a or [])]
            b = [list(x) if isinstance(x, tuple) else x for x in (b or [])]
        if a != b:
            out.append(f"counting rule {k}: model {_fmt(a)}, this run {_fmt(b)}")
    out += _hotspot_differences(pdef["hotspots"], result)
    out += _tsg_differences(pdef["hotspots"], result)
    return out


def _footprint_differences(fp: dict[str, Any], den: dict[str, Any]) -> list[str]:
    """How the run's denominator differs from the model's: the panel TMB region, of the model's size,
    optionally restricted to the bases the run interrogated (:data:`CALLABLE_STAGES`: a callable BED
    or the callable part from BAMs).  Such a restriction measures the same per-Mb rate on fewer bases
    (the model itself was simulated on the part of the region with exome truth); any other stage
    (coding intersection, exclusion BED) or a declared denominator redefines the value."""
    out: list[str] = []
    kind = den.get("denominator_kind", "measured")
    if kind != "measured":
        out.append(f"footprint: this run divides by a {kind} denominator ({den.get('declared_mb')} Mb), the "
                   f"model's panel value by the panel TMB region ({fp['bp']} bp)")
    if den.get("status", "ok") != "ok":
        out.append(f"footprint: this run's denominator is {den['status']}")
    stages = den.get("stages", [])
    names = [s["stage"] for s in stages]
    if not names or names[0] != "panel_tmb_region" or any(n not in CALLABLE_STAGES for n in names[1:]):
        out.append(f"footprint: the model's panel value divides by the panel TMB region ({fp['bp']} bp), "
                   f"optionally restricted to callable bases; this run's denominator is {' -> '.join(names)} "
                   f"({den['footprint_bp']} bp)")
    elif int(stages[0]["bp"]) != fp["bp"]:
        out.append(f"footprint: model {fp['bp']} bp ({fp['tmb_region']}), this run {stages[0]['bp']} bp")
    elif len(names) > 1:   # the default guards hold for harmonizing, whatever guard options the run lowered
        kept = int(den["footprint_bp"])
        if kept < DEFAULT_MIN_CALLABLE_FRACTION * fp["bp"] or kept < DEFAULT_MIN_FOOTPRINT_MB * 1e6:
            out.append(f"footprint: only {kept} of the region's {fp['bp']} bp are callable (harmonizing needs >= "
                       f"{DEFAULT_MIN_CALLABLE_FRACTION:.0%} and >= {DEFAULT_MIN_FOOTPRINT_MB:g} Mb)")
    return out


def callable_restriction(den: dict[str, Any]) -> dict[str, Any] | None:
    """The callable restriction of a panel TMB region (bp before and after, stages), or None."""
    stages = den.get("stages", [])
    rest = [s for s in stages[1:] if s["stage"] in CALLABLE_STAGES]
    if not stages or not rest:
        return None
    region_bp, kept = int(stages[0]["bp"]), int(den["footprint_bp"])
    return {"stages": [s["stage"] for s in rest], "region_bp": region_bp, "callable_bp": kept,
            "fraction": kept / region_bp if region_bp else None}


def _relaxed_differences(model: CalibrationModel, result: Any) -> tuple[list[str], list[str]]:
    """(rules the run switched off because its input lacks their data, differences).

    A run with ``missing_fields="relax"`` computes the model's panel value only if some training
    cohort of the model had exactly the same rules switched off (``training.relaxed_rules``, for the
    panel's profile): the value is then defined as it was for those training tumours."""
    off = list((result.provenance.get("relaxed_rules") or {}).get("rules_off") or [])
    if not off:
        return [], []
    trained = (model.data.get("training") or {}).get("relaxed_rules")
    if trained is None:
        return off, [f"relaxed rules: this run switched off {', '.join(off)} (missing_fields relax) but the model "
                     "records no relaxed rules of its training data"]
    seen: dict[frozenset, list[str]] = {}
    for cohort, rules in trained.items():
        seen.setdefault(frozenset(rules), []).append(cohort)
    if frozenset(off) in seen:
        return off, []
    had = "; ".join(f"{', '.join(sorted(k))} ({len(v)} cohort(s), e.g. {v[0]})" for k, v in seen.items()) or "none"
    return off, [f"relaxed rules: this run switched off {', '.join(off)} (missing_fields relax), no training cohort "
                 f"of the model had exactly these switched off (training: {had})"]


def _hotspot_differences(want: dict[str, Any], result: Any) -> list[str]:
    inputs = result.provenance.get("inputs") or {}
    given = inputs.get("exclude_hotspots")
    given = given if isinstance(given, list) else ([given] if given else [])
    if not want.get("excluded"):
        return ["hotspots: the model's panel value counts known hotspots, this run excluded them"] if given else []
    lst = want.get("list") or {}
    if not given:
        return [f"hotspots: the model's panel value excludes the hotspots of {lst.get('name')}, this run "
                "excluded none"]
    from ..provenance import sha256_file

    shas = [(g.get("sha256") or sha256_file(g["path"])) if isinstance(g, dict) else None for g in given]
    if len(given) != 1 or (lst.get("sha256") and shas[0] != lst["sha256"]):
        return [f"hotspots: the model excluded {lst.get('name')} (sha256 {str(lst.get('sha256'))[:12]}...), this "
                f"run excluded {len(given)} list(s) with sha256 {', '.join(str(x)[:12] for x in shas)}"]
    return []


def _tsg_differences(want: dict[str, Any], result: Any) -> list[str]:
    t = want.get("tumor_suppressor_truncations") or {}
    given = (result.provenance.get("inputs") or {}).get("tumor_suppressor_bed")
    if not t.get("excluded"):
        return ["tumor-suppressor truncations: the model's panel value counts them, this run excluded them"] \
            if given else []
    if not given:
        return ["tumor-suppressor truncations: the model's panel value excludes those in "
                f"{(t.get('bed') or {}).get('name')}, this run excluded none"]
    from ..io.bed import read_bed
    from ..panels.registry import footprint_digest

    want_fp = (t.get("bed") or {}).get("footprint_sha256")
    have_fp = footprint_digest(read_bed(given["path"]))
    if want_fp and have_fp != want_fp:
        return [f"tumor-suppressor truncations: the model used the regions of {(t.get('bed') or {}).get('name')} "
                f"(footprint sha256 {want_fp[:12]}...), this run {given.get('name')} ({have_fp[:12]}...)"]
    return []


def _choose_model(result: Any, reference: str | None, method: str | None,
                  model: str | Path | CalibrationModel | None) -> CalibrationModel:
    if model is not None:
        m = model if isinstance(model, CalibrationModel) else load_model(model)
        if reference and m.reference != reference:
            raise UsageError(f"calibration model '{m.id}' maps to '{m.reference}', not '{reference}'")
        return m
    panel = (result.provenance.get("panel") or {}).get("id")
    if not panel:
        raise UsageError("harmonizing needs a TMB result computed with panel: calibration models are specific to a "
                         "panel's TMB value", params=("panel",))
    if not reference:
        raise UsageError("give the reference scale to harmonize to (calibrate_to)", params=("calibrate_to",))
    return find_model(panel, reference, method)


def harmonize_tmb(result: Any, reference: str | None = None, *, method: str | None = None,
                  model: str | Path | CalibrationModel | None = None) -> Any:
    """Fill ``result.samples[i].harmonized`` and ``result.harmonization``; returns ``result``.

    Raises :class:`~tmbcalc.errors.UsageError` (one line) when the result's panel value is not the
    one the model maps, naming the first difference.
    """
    m = _choose_model(result, reference, method, model)
    diffs = definition_differences(m, result)
    if diffs:
        more = f" (+{len(diffs) - 1} more)" if len(diffs) > 1 else ""
        raise UsageError(f"calibration model '{m.id}' maps a different panel value: {diffs[0]}{more}; "
                         "run with the panel's own TMB region, profile and hotspot list, or fit a model for "
                         "this definition")
    samples = result.samples
    mb = result.denominator["footprint_bp"] / 1e6
    counts = np.array([s.eligible_variants for s in samples], float)
    raw = counts / mb
    cal = m.predict(raw)
    band_lo, band_hi = m.band(raw)
    pi = m.data.get("prediction_interval") or {}
    level = float(pi.get("level", 0.95))
    if pi.get("mapping_log_halfwidth"):
        m_lo, m_hi = pi["mapping_log_halfwidth"]
        p_lo, p_hi = prediction.poisson_log_halfwidths(counts, mb, level)
        lo, hi = prediction.interval(cal, p_lo, p_hi, m_lo, m_hi)
    else:   # a model fitted without hold-out has no mapping error estimate: Poisson part only
        p_lo, p_hi = prediction.poisson_log_halfwidths(counts, mb, level)
        lo, hi = prediction.interval(cal, p_lo, p_hi, 0.0, 0.0)
    vmax = (m.data.get("valid_range") or {}).get("panel_tmb_max")
    zones = _zones(m, mb)
    rec = bool(m.data.get("recommended"))
    for i, s in enumerate(samples):
        high = {c: bool(cal[i] >= z["reference_cut"] - 1e-12) for c, z in zones.items()}
        equiv = {c: bool(z["low"] is not None and z["low"] <= raw[i] <= z["high"]) for c, z in zones.items()}
        s.harmonized = HarmonizedTmb(
            reference=m.reference, raw=float(raw[i]), value=round(float(cal[i]), 4),
            pi_low=round(float(lo[i]), 4), pi_high=round(float(hi[i]), 4),
            band_low=round(float(band_lo[i]), 4), band_high=round(float(band_hi[i]), 4), level=level,
            model=m.id, model_version=m.version, method=m.method, recommended=rec,
            extrapolated=bool(vmax is not None and raw[i] > vmax), high=high, equivocal=equiv)
    result.harmonization = _summary(m, zones, pi, level)
    restricted = callable_restriction(result.denominator)
    if restricted:
        result.harmonization.notes.append(
            f"panel value measured on the callable part of the model's TMB region ({' -> '.join(restricted['stages'])}: "
            f"{restricted['callable_bp']:,} of {restricted['region_bp']:,} bp, {restricted['fraction']:.1%}); the "
            "per-Mb rate estimates the model's panel value, and the Poisson part of the interval and the "
            "equivocal zones use this run's callable Mb")
    off = (result.provenance.get("relaxed_rules") or {}).get("rules_off")
    if off:
        result.harmonization.notes.append(
            f"panel value computed with {', '.join(off)} switched off (missing_fields relax: the input lacks their "
            "data), as for the model's training cohorts that lacked the same data")
    return result


def _zones(m: CalibrationModel, mb: float) -> dict[str, Any]:
    """Per reference cut: the model's equivalent panel cut and its equivocal zone on this footprint."""
    out: dict[str, Any] = {}
    for key, t in (m.data.get("cut_translations") or {}).items():
        c = float(t["reference_cut"])
        pc = m.inverse(c)
        z = equivocal_panel_values(mb, pc) if np.isfinite(pc) and pc > 0 else None
        out[key] = {"reference_cut": c, "panel_cut": None if not np.isfinite(pc) else round(float(pc), 4),
                    "low": z["low"] if z else None, "high": z["high"] if z else None,
                    "probability_range": [0.1, 0.9]}
    return out


def _summary(m: CalibrationModel, zones: dict[str, Any], pi: dict[str, Any], level: float) -> Harmonization:
    from ..provenance import sha256_file

    rec = m.data.get("recommendation") or {}
    notes = []
    if not m.data.get("recommended"):
        notes.append(f"model NOT recommended: {rec.get('reason', 'no agreement-based recommendation recorded')}")
    cov = (pi.get("holdout") or {}).get("coverage")
    if not pi.get("mapping_log_halfwidth"):
        notes.append("the model has no held-out mapping error (fitted without hold-out): the interval holds the "
                     "panel's Poisson sampling error only and is too narrow")
    return Harmonization(
        reference=m.reference, model=m.id, model_version=m.version, method=m.method, model_file=m.path,
        model_sha256=sha256_file(m.path) if m.path else None, recommended=bool(m.data.get("recommended")),
        recommendation=rec.get("reason", ""), definition=m.definition or {},
        interval={"level": level, "method": pi.get("method"), "mapping_log_halfwidth": pi.get("mapping_log_halfwidth"),
                  "holdout_coverage": cov},
        equivocal_zones=zones, notes=notes)


__all__ = ["harmonize_tmb", "definition_differences", "callable_restriction"]
