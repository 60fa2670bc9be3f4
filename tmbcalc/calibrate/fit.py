"""Fit panel -> reference TMB mappings with bootstrap CIs and whole-cohort hold-out validation.

For each panel the simulation table gives pairs (x = panel TMB, y = reference TMB) per tumour.
For each method (:mod:`tmbcalc.calibrate.mappings`):

1. fit on all pairs;
2. **bootstrap**: ``B`` resamples of the tumours with replacement (``numpy.random.default_rng(seed)``,
   the same resamples for every method), refit; percentile CIs of intercept/slope and a pointwise
   95% band of the calibrated curve on a grid of panel values.  Because every bootstrap curve is
   non-decreasing, the CI of the panel cut equivalent to a reference cut ``c`` is read off the
   band exactly: its lower end is where the upper band reaches ``c``, its upper end where the lower
   band does (quantiles commute with monotone maps);
3. **hold-out**: leave-one-cohort-out (or grouped K-fold over cohorts): refit without the cohort,
   predict it.  Out-of-fold predictions give RMSE on ``ln(1 + TMB)`` raw vs calibrated and the
   agreement with the reference at each reference cut, raw (panel >= c) vs calibrated
   (calibrated panel >= c).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, UsageError
from ..provenance import software_versions
from . import mappings
from . import prediction
from .agreement_stats import agreement, rmse_log
from .cuts import PPA_MARGIN, holdout_cuts as cut_definitions, recommend as recommend_cut
from .models import FORMAT, FORMAT_VERSION, CalibrationModel, model_id
from .table import paired


@dataclass
class FitOptions:
    methods: tuple[str, ...] = mappings.METHODS
    bootstrap: int = 1000
    seed: int = 1
    holdout: str = "cohort"            # "cohort" (leave-one-cohort-out), "kfold" (grouped), "none"
    folds: int = 5
    reference_cuts: tuple[float, ...] = (10.0,)
    deming_delta: float | None = None  # None: Poisson ratio L_panel / L_reference
    level: float = 0.95
    version: int = 1
    timestamp: bool = True             # False: no created_utc (byte-reproducible models)
    cut_definitions: bool = True       # per-cut held-out agreement of every cut definition (cuts.py)
    band_points: int = 120
    min_samples: int = 20


# how cut_translations[*].ci_low/ci_high are computed (models before v4 read them off the gridded band)
CUT_CI_METHOD = "percentiles of the bootstrap resamples' panel cuts"

# the part of the fit's provenance each model JSON carries
MODEL_PROVENANCE_KEYS = ("tool", "version", "command", "command_line", "parameters")


@dataclass
class FitResult:
    """Fitted models (one per panel and method), one validation row per model, and the provenance.

    ``table`` (the simulation table fitted) and ``reference_cut`` (the first reference cut,
    mut/Mb) are kept for the optional per-model plots of :meth:`write`."""

    models: list[CalibrationModel]
    validation: list[dict[str, Any]] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    table: pd.DataFrame | None = field(default=None, repr=False)
    reference_cut: float = 10.0

    def set_provenance(self, provenance: dict[str, Any]) -> None:
        """Record the run's provenance here and its :data:`MODEL_PROVENANCE_KEYS` in every model."""
        self.provenance = provenance
        for m in self.models:
            m.data["provenance"] = {k: provenance[k] for k in MODEL_PROVENANCE_KEYS}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every model document, the validation rows and the provenance."""
        return {"models": [m.data for m in self.models], "validation": self.validation,
                "provenance": self.provenance}

    def summary_text(self) -> str:
        """fit_summary.tsv: provenance header, then one row per model (columns: union of the rows' keys)."""
        from .outputs import provenance_header, tsv

        cols: list[str] = []
        for r in self.validation:
            cols.extend(k for k in r if k not in cols)
        return (provenance_header(self.provenance, "calibrate fit")
                + tsv(cols, ([r.get(c) for c in cols] for r in self.validation)))

    def write(self, out_dir: str | Path, *, plots: str | Path | None = None) -> list[Path]:
        """DIR/<model-id>.json per model and DIR/fit_summary.tsv; with ``plots`` also PLOTS/<model-id>.png
        (scatter, fit, band, cuts and Bland-Altman).  The plots are published just before the models,
        or not at all."""
        from ..output import OutputSet

        with OutputSet(out_dir, folder=True, inputs=self.provenance.get("inputs")) as outs:
            for m in self.models:
                outs.write_text(f"{m.id}.json", m.to_json())
            outs.write_text("fit_summary.tsv", self.summary_text())
            if plots is not None:  # nested set: committed before the models' set
                self._write_plots(plots)
        return [outs.path(f"{m.id}.json") for m in self.models] + [outs.path("fit_summary.tsv")]

    def _write_plots(self, folder: str | Path) -> None:
        from ..output import OutputSet
        from .plots import plot_model

        if self.table is None:
            raise UsageError("plots need the simulation table the models were fitted on", params=("plots",))
        cut = self.reference_cut
        with OutputSet(folder, folder=True) as outs:
            for m in self.models:
                pairs = paired(self.table, m.panel_id, m.reference)
                outs.write_with(f"{m.id}.png", lambda p, m=m, pairs=pairs: plot_model(m, pairs, p, reference_cut=cut))


def _r(v: Any, digits: int = 6) -> Any:
    if v is None:
        return None
    v = float(v)
    if not np.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


def _grid(x: np.ndarray, points: int) -> np.ndarray:
    top = max(float(np.max(x)) * 1.02, 1.0)
    g = np.concatenate([[0.0], np.geomspace(0.05, top, points - 1)])
    return np.unique(np.array([_r(v, 5) for v in g]))


def first_crossing(gx: np.ndarray, curve: np.ndarray, c: float) -> float:
    """Smallest grid x at which a non-decreasing piecewise-linear curve reaches c (NaN if never)."""
    hit = np.flatnonzero(curve >= c)
    if hit.size == 0:
        return float("nan")
    i = int(hit[0])
    if i == 0:
        return float(gx[0])
    x0, x1, y0, y1 = gx[i - 1], gx[i], curve[i - 1], curve[i]
    return float(x0 + (c - y0) * (x1 - x0) / (y1 - y0)) if y1 > y0 else float(x1)


def _folds(cohorts: np.ndarray, opts: FitOptions) -> list[np.ndarray]:
    """Boolean test masks, one per fold (whole cohorts held out)."""
    uniq = np.unique(cohorts)
    if opts.holdout == "none":
        return []
    if len(uniq) < 2:
        raise UsageError(f"hold-out validation needs >= 2 cohorts in the table, found {len(uniq)} "
                         "(or turn hold-out validation off)")
    if opts.holdout == "cohort":
        return [cohorts == c for c in uniq]
    if opts.holdout == "kfold":
        from sklearn.model_selection import GroupKFold

        k = min(opts.folds, len(uniq))
        out = []
        for _, test in GroupKFold(n_splits=k).split(cohorts, groups=cohorts):
            m = np.zeros(cohorts.size, bool)
            m[test] = True
            out.append(m)
        return out
    raise UsageError(f"unknown hold-out scheme '{opts.holdout}' (cohort, kfold, none)")


def _validate(method: str, x: np.ndarray, y: np.ndarray, cohorts: np.ndarray, fopts: dict[str, Any],
              opts: FitOptions, panel_mb: float) -> dict[str, Any] | None:
    folds = _folds(cohorts, opts)
    if not folds:
        return None
    oof = np.full(x.size, np.nan)
    for test in folds:
        train = ~test
        if train.sum() < 3:
            continue
        try:
            p = mappings.fit(method, x[train], y[train], **fopts)
        except ValueError:  # degenerate training fold (e.g. constant x): leave its cohort unscored
            continue
        oof[test] = mappings.predict(method, p, x[test])
    ok = np.isfinite(oof)
    xs, ys, ps, cs = x[ok], y[ok], oof[ok], cohorts[ok]
    per_cohort = {}
    for c in np.unique(cs):
        m = cs == c
        per_cohort[str(c)] = {"n": int(m.sum()), "rmse_log_raw": _r(rmse_log(xs[m], ys[m])),
                              "rmse_log_calibrated": _r(rmse_log(ps[m], ys[m]))}
    agree = {}
    for c in opts.reference_cuts:
        agree[_cutkey(c)] = {"raw": agreement(ys >= c, xs >= c).to_dict(),
                             "calibrated": agreement(ys >= c, ps >= c).to_dict()}
    resid = np.log1p(ys) - np.log1p(ps)
    a = (1 - opts.level) / 2
    counts = np.rint(xs * panel_mb)     # simulated panel counts (x = count / panel Mb)
    p_lo, p_hi = prediction.poisson_log_halfwidths(counts, panel_mb, opts.level)
    m_lo, m_hi = prediction.mapping_halfwidths(resid, p_lo, p_hi, opts.level)
    pi = {"method": "log-scale: Garwood half-width of the panel rate at the observed count (+) mapping "
                    "half-width from held-out residuals, combined in quadrature (docs/calibration.md)",
          "level": opts.level, "mapping_log_halfwidth": [_r(m_lo), _r(m_hi)],
          "holdout": prediction.holdout_coverage(ys, ps, counts, panel_mb, cs, opts.level)}
    return {
        "prediction_interval": pi,
        "scheme": {"cohort": "leave-one-cohort-out", "kfold": f"grouped {opts.folds}-fold by cohort"}[opts.holdout],
        "n_samples": int(ok.sum()),
        "n_cohorts": int(len(per_cohort)),
        "rmse_log_raw": _r(rmse_log(xs, ys)),
        "rmse_log_calibrated": _r(rmse_log(ps, ys)),
        "agreement": agree,
        "residual_log_quantiles": [_r(np.quantile(resid, a)), _r(np.quantile(resid, 1 - a))] if resid.size else None,
        "per_cohort": per_cohort,
        "_oof": oof,
    }


def _cutkey(c: float) -> str:
    return f"{float(c):g}"


def _inverse_or_inf(method: str, params: dict[str, Any], c: float) -> float:
    """Panel value at which a fitted curve reaches ``c``; +inf when it never does."""
    v = mappings.inverse(method, params, c)
    return float(v) if np.isfinite(v) else float("inf")


def _bootstrap(method: str, x: np.ndarray, y: np.ndarray, params: dict[str, Any], fopts: dict[str, Any],
               opts: FitOptions) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any], dict[float, np.ndarray]]:
    """Resample tumours ``opts.bootstrap`` times: grid, pointwise band (low, high), coefficient CIs,
    and per reference cut the panel cut of every resample (its percentiles are the cut's CI)."""
    n = x.size
    rng = np.random.default_rng(opts.seed)
    gx = _grid(x, opts.band_points)
    curves = np.empty((opts.bootstrap, gx.size))
    names = mappings.coefficient_names(method)
    coefs = {k: np.empty(opts.bootstrap) for k in names}
    inverses = {float(c): np.empty(opts.bootstrap) for c in opts.reference_cuts}
    for b in range(opts.bootstrap):
        idx = rng.integers(0, n, n)
        try:
            pb = mappings.fit(method, x[idx], y[idx], **fopts)
        except ValueError:
            curves[b] = np.nan
            for arr in (*coefs.values(), *inverses.values()):
                arr[b] = np.nan
            continue
        curves[b] = mappings.predict(method, pb, gx)
        for k in names:
            coefs[k][b] = pb[k]
        for c, arr in inverses.items():
            arr[b] = _inverse_or_inf(method, pb, c)
    a = (1 - opts.level) / 2
    if opts.bootstrap:
        lo = np.nanquantile(curves, a, axis=0)
        hi = np.nanquantile(curves, 1 - a, axis=0)
        lo = np.maximum.accumulate(lo)  # guard against float noise; quantiles of monotone curves are monotone
        hi = np.maximum.accumulate(hi)
    else:
        lo = hi = mappings.predict(method, params, gx)
    coef_ci = {k: {"estimate": params[k], "ci_low": _r(np.nanquantile(v, a)) if opts.bootstrap else None,
                   "ci_high": _r(np.nanquantile(v, 1 - a)) if opts.bootstrap else None}
               for k, v in coefs.items()}

    return gx, lo, hi, coef_ci, inverses


def _cut_ci(inverses: np.ndarray | None, level: float) -> tuple[float, float]:
    """Percentile CI of the resamples' panel cuts (an end at +inf: the curve did not reach the cut)."""
    ok = inverses[~np.isnan(inverses)] if inverses is not None else np.empty(0)
    if ok.size == 0:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    big = np.finfo(float).max                # +inf as the largest float: interpolation stays defined
    q = np.quantile(np.where(np.isinf(ok), big, ok), [a, 1 - a])
    q = np.where(q >= big / 2, np.inf, q)    # an end that falls among the never-reaching resamples
    return float(q[0]), float(q[1])


def _cut_entries(method: str, params: dict[str, Any], x: np.ndarray, y: np.ndarray, cohorts: np.ndarray,
                 fopts: dict[str, Any], opts: FitOptions, inverses: dict[float, np.ndarray]) -> dict[str, Any]:
    """Per reference cut: the model's panel cut with its bootstrap CI, agreement, and every cut definition.

    The CI is the percentile interval of the resamples' own panel cuts.  (Equal in theory to where
    the pointwise band reaches the cut, since every curve is monotone, but exact: the band is
    stored on a grid, and a chord between grid points misses a kinked curve, e.g. anchored-log2.)"""
    delta = fopts["delta"]
    cuts = {}
    for c in opts.reference_cuts:
        pc = mappings.inverse(method, params, c)
        lo, hi = _cut_ci(inverses.get(float(c)) if opts.bootstrap else None, opts.level)
        entry: dict[str, Any] = {"reference_cut": float(c), "panel_cut": _r(pc), "ci_low": _r(lo), "ci_high": _r(hi),
                                 "ci_method": CUT_CI_METHOD}
        if np.isfinite(pc):
            entry["agreement_training"] = agreement(y >= c, x >= pc).to_dict()
        entry["agreement_training_raw_cut"] = agreement(y >= c, x >= c).to_dict()
        if opts.holdout != "none" and opts.cut_definitions:
            model_inv = (lambda xa, ya, c=c: mappings.inverse(method, mappings.fit(method, xa, ya, **fopts), c))
            defs = cut_definitions(x, y, cohorts, c, delta=delta, extra={"this_model": model_inv})
            entry["definitions"] = defs
            entry["recommended_definition"] = recommend_cut(defs)
        cuts[_cutkey(c)] = entry
    return cuts


def fit_one(pairs: pd.DataFrame, method: str, *, panel: dict[str, Any], reference: dict[str, Any],
            opts: FitOptions, table_info: dict[str, Any]) -> tuple[CalibrationModel, np.ndarray | None]:
    """Fit one method for one panel; returns the model and the out-of-fold predictions (or None)."""
    x = pairs["x"].to_numpy(float)
    y = pairs["y"].to_numpy(float)
    cohorts = pairs["cohort"].to_numpy(str)
    n = x.size
    delta = opts.deming_delta if opts.deming_delta is not None else panel["mb"] / reference["mb"]
    fopts = {"delta": delta, "cut": float(opts.reference_cuts[0])}
    try:
        params = mappings.fit(method, x, y, **fopts)
    except ValueError as exc:
        raise InputError(f"panel '{panel['id']}': cannot fit {method} ({exc})",
                         table_info.get("table", {}).get("name") or None) from None

    gx, lo, hi, coef_ci, inverses = _bootstrap(method, x, y, params, fopts, opts)
    val = _validate(method, x, y, cohorts, fopts, opts, float(panel["mb"]))
    oof = val.pop("_oof") if val else None
    pi = val.pop("prediction_interval") if val else None

    cuts = _cut_entries(method, params, x, y, cohorts, fopts, opts, inverses)

    panel = dict(panel)
    reference = dict(reference)
    definition = {"panel": panel.pop("definition", None), "reference": reference.pop("definition", None)}
    counts = pairs.groupby("cohort").size()
    mid = model_id(panel["id"], reference["name"], method, opts.version)
    software = software_versions()
    import scipy
    import sklearn

    software.update({"scikit-learn": sklearn.__version__, "scipy": scipy.__version__})
    data: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "id": mid,
        "version": opts.version,
        "recommended": False,
        "panel": panel,
        "reference": reference,
        "definition": definition,
        "method": method,
        "description": mappings.DESCRIPTIONS[method],
        "parameters": params,
        "valid_range": {"panel_tmb_min": _r(x.min()), "panel_tmb_max": _r(x.max())},
        "bootstrap": {"replicates": opts.bootstrap, "seed": opts.seed, "level": opts.level,
                      "resampling": "tumours with replacement",
                      "coefficients": coef_ci,
                      "band": {"x": gx.tolist(), "low": [_r(v) for v in lo], "high": [_r(v) for v in hi]}},
        "training": {"n_samples": int(n), "cohorts": {str(k): int(v) for k, v in counts.items()},
                     **table_info},
        "validation": val,
        "prediction_interval": pi,
        "cut_translations": cuts,
        "software": software,
    }
    if opts.timestamp:
        data["created_utc"] = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    return CalibrationModel(data), oof


def calibrate_fit(table: pd.DataFrame, provenance: dict[str, Any] | None = None, *,
                  panels: list[str] | None = None, reference: str | None = None,
                  options: FitOptions | None = None, table_name: str = "", table_sha256: str = "") -> FitResult:
    """Fit every (panel, method) of a simulation table (see :mod:`tmbcalc.calibrate.table`).

    ``reference`` defaults to the table's ``provenance.reference.name``.  Returns models (not yet
    written) and one validation row per model; the method with the lowest held-out RMSE per
    panel is marked ``recommended``.
    """
    opts = options or FitOptions()
    prov = provenance or {}
    for m in opts.methods:
        if m not in mappings.METHODS:
            raise UsageError(f"unknown calibration method '{m}' (known: {', '.join(mappings.METHODS)})")
    if opts.bootstrap < 0:
        raise UsageError("bootstrap must be >= 0", params=("bootstrap",))
    if opts.holdout == "kfold" and opts.folds < 2:
        raise UsageError("folds must be >= 2", params=("folds",))
    if opts.deming_delta is not None and not opts.deming_delta > 0:
        raise UsageError("deming_delta must be > 0", params=("deming_delta",))
    ref_info = dict(prov.get("reference") or {})
    ref_name = reference or ref_info.get("name")
    if not ref_name:
        raise UsageError("the table's provenance names no reference: give reference", params=("reference",))
    present = list(dict.fromkeys(table["panel"].tolist()))
    if ref_name not in present:
        raise InputError(f"reference '{ref_name}' has no rows in the simulation table (panels: "
                         f"{', '.join(present)})", table_name or None)
    wanted = panels or [p for p in present if p != ref_name]
    missing = [p for p in wanted if p not in present]
    if missing:
        raise UsageError(f"panel(s) not in the simulation table: {', '.join(missing)} "
                         f"(table has: {', '.join(p for p in present if p != ref_name)})")
    ref_rows = table[table["panel"] == ref_name]
    reference_block = {"name": ref_name, "profile": str(ref_rows["profile"].iloc[0]),
                       "mb": _r(ref_rows["mb"].median()),
                       **{k: v for k, v in ref_info.items() if k not in ("name", "profile", "mb")}}
    panel_meta = prov.get("panels") or {}
    inputs = []
    for item in (prov.get("inputs") or {}).get("maf", []) or []:
        inputs.append({"name": item.get("name"), "sha256": item.get("sha256")})
    table_info = {"table": {"name": table_name, "sha256": table_sha256}, "data_inputs": inputs,
                  "simulation_parameters": prov.get("parameters", {}),
                  "_relaxed": prov.get("relaxed_rules") if "relaxed_rules" in prov else None}

    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # thousands of tiny fits: BLAS threads only add overhead
        res = _fit_panels(table, wanted, ref_name, reference_block, panel_meta, opts, table_info, table_name)
    res.table, res.reference_cut = table, opts.reference_cuts[0]
    return res


def _fit_panels(table, wanted, ref_name, reference_block, panel_meta, opts, table_info, table_name) -> FitResult:
    models: list[CalibrationModel] = []
    rows: list[dict[str, Any]] = []
    for pid in wanted:
        pairs = paired(table, pid, ref_name)
        if len(pairs) < opts.min_samples:
            raise InputError(f"panel '{pid}': only {len(pairs)} tumours pair with the reference "
                             f"(need >= {opts.min_samples})", table_name or None)
        prow = table[table["panel"] == pid]
        pmeta = dict(panel_meta.get(pid) or {})
        panel_block = {"id": pid, "profile": str(prow["profile"].iloc[0]), "mb": _r(prow["mb"].median()),
                       **{k: v for k, v in pmeta.items() if k not in ("id", "profile", "mb")}}
        fitted = []
        info = _training_info(table_info, pairs, panel_block["profile"])
        for method in opts.methods:
            model, _ = fit_one(pairs, method, panel=panel_block, reference=reference_block, opts=opts,
                               table_info=info)
            fitted.append(model)
        recommend_by_agreement(fitted, opts.reference_cuts[0])
        for m in fitted:
            rows.append(validation_row(m))
        models.extend(fitted)
    return FitResult(models, rows)


def _training_info(table_info: dict[str, Any], pairs: pd.DataFrame, profile: str) -> dict[str, Any]:
    """The model's ``training`` inputs; ``relaxed_rules`` {cohort: [rules switched off for the panel's
    profile]} of the training cohorts (from the simulation provenance; absent when it records none), so
    ``tmb --missing-fields relax --calibrate-to`` can check that its input was treated like training data."""
    info = {k: v for k, v in table_info.items() if k != "_relaxed"}
    relaxed = table_info.get("_relaxed")
    if relaxed is not None:
        present = set(pairs["cohort"].astype(str))
        info["relaxed_rules"] = {str(c): list(v.get(profile) or []) for c, v in relaxed.items()
                                 if str(c) in present and v.get(profile)}
    return info


def _verdict(model: CalibrationModel, cut: float) -> tuple[bool, str, float]:
    """Does the model's held-out agreement at ``cut`` keep the raw cut's (and its RMSE beat raw)?"""
    v = model.data.get("validation") or {}
    a = (v.get("agreement") or {}).get(_cutkey(cut))
    if not a:
        return False, "no held-out validation", -1.0
    raw, cal = a["raw"], a["calibrated"]
    if cal["kappa"] is None or raw["kappa"] is None or cal["ppa"] is None or raw["ppa"] is None:
        return False, "held-out agreement undefined", -1.0
    bad = []
    if cal["kappa"] < raw["kappa"]:
        bad.append(f"held-out kappa at {cut:g} {cal['kappa']:.3f} < raw {raw['kappa']:.3f}")
    if cal["ppa"] < raw["ppa"] - PPA_MARGIN:
        bad.append(f"held-out PPA at {cut:g} {cal['ppa']:.3f} < raw {raw['ppa']:.3f} - {PPA_MARGIN}")
    if v["rmse_log_calibrated"] >= v["rmse_log_raw"]:
        bad.append(f"held-out RMSE on ln(1+TMB) {v['rmse_log_calibrated']:.3f} >= raw {v['rmse_log_raw']:.3f}")
    return not bad, "; ".join(bad), float(cal["kappa"])


def recommend_by_agreement(models: list[CalibrationModel], cut: float) -> None:
    """Mark the model to use for a panel: by held-out agreement at the cut, not by RMSE.

    Eligible: held-out kappa >= raw kappa, PPA >= raw PPA - 0.02 and RMSE below raw; the eligible
    model with the highest kappa (ties: the lower held-out RMSE) is recommended.  Every model
    records its verdict and why.
    """
    verdicts = [(m, *_verdict(m, cut)) for m in models]
    # ties in kappa (e.g. two mappings through the same anchor make the same calls): lower held-out RMSE
    ok = [(kappa, -m.data["validation"]["rmse_log_calibrated"], m) for m, good, _, kappa in verdicts if good]
    best = max(ok, key=lambda t: t[:2])[2] if ok else None
    for m, good, why, _ in verdicts:
        m.data["recommended"] = m is best
        if m is best:
            reason = (f"highest held-out kappa at {cut:g} among models that keep the raw cut's agreement "
                      "(ties: lowest held-out RMSE)")
        elif good:
            reason = (f"keeps the raw cut's agreement at {cut:g} but another model has a higher held-out kappa "
                      "(or the same kappa and a lower RMSE)")
        else:
            reason = "held-out agreement worse than raw: " + why
        m.data["recommendation"] = {"recommended": m is best, "reason": reason, "criterion":
                                    f"held-out kappa >= raw, PPA >= raw - {PPA_MARGIN}, RMSE < raw at "
                                    f"reference cut {cut:g}"}


def validation_row(model: CalibrationModel) -> dict[str, Any]:
    d = model.data
    v = d.get("validation") or {}
    row: dict[str, Any] = {"model": d["id"], "panel": d["panel"]["id"], "method": d["method"],
                           "recommended": d.get("recommended", False), "panel_mb": d["panel"]["mb"],
                           "n": v.get("n_samples"), "cohorts": v.get("n_cohorts"),
                           "rmse_log_raw": v.get("rmse_log_raw"), "rmse_log_calibrated": v.get("rmse_log_calibrated")}
    for key, ag in (v.get("agreement") or {}).items():
        for kind in ("raw", "calibrated"):
            for stat in ("ppa", "npa", "opa", "kappa"):
                row[f"{stat}_{kind}@{key}"] = ag[kind][stat]
    for key, t in (d.get("cut_translations") or {}).items():
        row[f"panel_cut@{key}"] = t["panel_cut"]
        row[f"panel_cut_ci@{key}"] = [t["ci_low"], t["ci_high"]]
    return row


__all__ = ["CUT_CI_METHOD", "FitOptions", "FitResult", "calibrate_fit", "recommend_by_agreement", "fit_one", "first_crossing", "validation_row"]
