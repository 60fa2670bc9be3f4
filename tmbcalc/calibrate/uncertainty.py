"""Sampling uncertainty of a panel TMB call from the footprint size alone (Poisson).

A panel interrogating ``L`` Mb of a tumour whose true TMB is ``t`` mut/Mb observes
``K ~ Poisson(t * L)`` eligible mutations and reports ``K / L``.  It calls TMB-high at cut ``c``
when ``K / L >= c``, i.e. ``K >= k_min = ceil(c * L)``, so::

    P(high | t) = P(K >= k_min) = P(Gamma(k_min, 1) <= t L) = gammainc(k_min, t L)

(regularised lower incomplete gamma; exact, no normal approximation).  This is increasing in
``t``.  The **equivocal zone** of a cut is the range of true TMB over which the call is not
reproducible at level ``alpha``: ``{t : alpha/2 <= P(high | t) <= 1 - alpha/2}``, i.e.
``[t_low, t_high]`` with ``t_low = gammaincinv(k_min, alpha/2) / L`` and
``t_high = gammaincinv(k_min, 1 - alpha/2) / L``.  A tumour whose true TMB lies below ``t_low``
is called low (and above ``t_high`` high) with probability >= 1 - alpha/2.  Counting
(biological/technical) noise beyond Poisson sampling is not included, so the zone is a lower
bound on the real one.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import gammainc, gammaincinv


def min_count(cut: float, mb: float) -> int:
    """Smallest count K with K / mb >= cut (robust to float round-off in cut * mb)."""
    if mb <= 0:
        raise ValueError(f"footprint must be > 0 Mb, got {mb}")
    if cut <= 0:
        return 0
    return max(int(math.ceil(round(cut * mb, 9))), 0)


def prob_high(true_tmb: float | np.ndarray, mb: float, cut: float) -> np.ndarray | float:
    """P(panel of ``mb`` Mb reports TMB >= ``cut``) when the true TMB is ``true_tmb`` mut/Mb."""
    k = min_count(cut, mb)
    mu = np.asarray(true_tmb, float) * mb
    if k == 0:
        out = np.ones_like(mu)
    else:
        out = gammainc(k, mu)
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class EquivocalZone:
    """Equivocal zone of one cut point for one footprint (TMB in mut/Mb, footprint in Mb)."""

    mb: float
    cut: float
    alpha: float
    k_min: int
    low: float             # true TMB where P(high) = alpha/2
    high: float            # true TMB where P(high) = 1 - alpha/2
    p_high_at_cut: float   # P(high) when the true TMB equals the cut

    @property
    def width(self) -> float:
        return self.high - self.low

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["width"] = self.width
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}


def equivocal_zone(mb: float, cut: float, alpha: float = 0.05) -> EquivocalZone:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not (math.isfinite(mb) and mb > 0 and math.isfinite(cut) and cut > 0):
        raise ValueError(f"footprint Mb and cut must be finite and > 0, got {mb}, {cut}")
    k = min_count(cut, mb)
    if k == 0:
        return EquivocalZone(mb, cut, alpha, 0, 0.0, 0.0, 1.0)
    lo = float(gammaincinv(k, alpha / 2)) / mb
    hi = float(gammaincinv(k, 1 - alpha / 2)) / mb
    return EquivocalZone(float(mb), float(cut), float(alpha), k, lo, hi, float(prob_high(cut, mb, cut)))


def equivocal_panel_values(mb: float, cut: float, low: float = 0.10, high: float = 0.90) -> dict[str, Any]:
    """Panel values (mut/Mb, on an ``mb`` Mb footprint) where P(true TMB >= cut | count) lies in [low, high].

    P(true TMB >= cut | k) is the Jeffreys posterior probability ``Q(k + 1/2, cut * mb)`` that
    ``tmbcalc tmb`` reports as ``p_tmb_ge_cut`` (:func:`tmbcalc.tmb.statistics.prob_rate_at_least`); it
    increases with the count k.  Returns the smallest and largest count in the zone, their panel
    values ``k / mb`` (``low``/``high``) and the probabilities there; ``None`` bounds when no count
    falls in the zone (a footprint so large that one mutation moves P across it).
    """
    from ..tmb.statistics import prob_rate_at_least

    if mb <= 0 or cut <= 0:
        raise ValueError("footprint and cut must be > 0")
    top = int(math.ceil(cut * mb * 4 + 50))
    k = np.arange(top + 1)
    p = prob_rate_at_least(k, mb, cut)
    inside = np.flatnonzero((p >= low) & (p <= high))
    if inside.size == 0:
        return {"mb": mb, "cut": cut, "k_low": None, "k_high": None, "low": None, "high": None,
                "probability_range": [low, high]}
    k0, k1 = int(inside[0]), int(inside[-1])
    return {"mb": round(mb, 6), "cut": cut, "k_low": k0, "k_high": k1, "low": round(k0 / mb, 4),
            "high": round(k1 / mb, 4), "p_at_low": round(float(p[k0]), 4), "p_at_high": round(float(p[k1]), 4),
            "probability_range": [low, high]}


UNCERTAINTY_COLUMNS = ("panel", "mb", "mb_source", "cut", "k_min", "equivocal_low", "equivocal_high", "width",
                       "p_high_at_cut", "alpha", "equivocal_panel_low", "equivocal_panel_high")


@dataclass
class UncertaintyResult:
    """Equivocal zones per footprint and cut (one row each, columns :data:`UNCERTAINTY_COLUMNS`;
    ``mb_source`` is ``tmb_region`` for a panel, ``given`` for a size), with the provenance."""

    rows: list[dict[str, Any]]
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [dict(r) for r in self.rows], "provenance": self.provenance}

    def table_text(self) -> str:
        """The rows as TSV with a header line (zones to 4 decimals)."""
        from .outputs import cell

        lines = ["\t".join(UNCERTAINTY_COLUMNS)]
        for r in self.rows:
            lines.append("\t".join([r["panel"], f"{r['mb']:.6g}", r["mb_source"], f"{r['cut']:g}", str(r["k_min"]),
                                    f"{r['equivocal_low']:.4f}", f"{r['equivocal_high']:.4f}", f"{r['width']:.4f}",
                                    f"{r['p_high_at_cut']:.4f}", f"{r['alpha']:g}", cell(r["equivocal_panel_low"]),
                                    cell(r["equivocal_panel_high"])]))
        return "\n".join(lines) + "\n"

    def write(self, prefix: str | Path) -> list[Path]:
        """PREFIX.uncertainty.tsv: provenance header + :meth:`table_text`."""
        from ..output import OutputSet
        from .outputs import provenance_header

        with OutputSet(prefix, inputs=self.provenance.get("inputs")) as outs:
            outs.write_text(".uncertainty.tsv", provenance_header(self.provenance, "calibrate uncertainty")
                            + self.table_text())
        return [outs.path(".uncertainty.tsv")]


def calibrate_uncertainty(panels: Sequence[Any] | None = None, *, mb: Sequence[float] | None = None,
                          cuts: Sequence[float] = (10.0,), alpha: float = 0.05,
                          panels_dir: Sequence[str | Path] | None = None,
                          parameters: dict[str, Any] | None = None) -> UncertaintyResult:
    """Equivocal zones of each cut (mut/Mb) for registry panels (ids or objects: the Mb of their
    TMB region, as ``tmb --panel`` divides by) or for footprint sizes ``mb`` (exactly one of the
    two).  ``parameters``: what the provenance records (default: these arguments)."""
    from ..checks import check_number
    from ..errors import UsageError
    from ..provenance import build_provenance
    from .outputs import record_parameters

    if (panels is None) == (mb is None):
        raise UsageError("give exactly one of panels or mb", params=("panels", "mb"))
    check_number(alpha, "alpha", lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    for c in cuts:
        check_number(c, "cuts", lo=0.0, lo_open=True)
    items = _panel_sizes(panels, panels_dir) if panels is not None else [
        (f"{check_number(v, 'mb', lo=0.0, lo_open=True):g}Mb", float(v), "given") for v in mb]  # type: ignore[union-attr]
    rows = []
    for name, size, source in items:
        for c in cuts:
            z = equivocal_zone(size, c, alpha)
            pv = equivocal_panel_values(size, c)
            rows.append({"panel": name, "mb": size, "mb_source": source, "cut": float(c), "k_min": z.k_min,
                         "equivocal_low": z.low, "equivocal_high": z.high, "width": z.width,
                         "p_high_at_cut": z.p_high_at_cut, "alpha": alpha, "equivocal_panel_low": pv["low"],
                         "equivocal_panel_high": pv["high"]})
    own = {"panels": None if panels is None else [p if isinstance(p, str) else p.id for p in panels],
           "mb": None if mb is None else [float(v) for v in mb], "cuts": [float(c) for c in cuts], "alpha": alpha,
           "panels_dir": None if panels_dir is None else [str(d) for d in panels_dir]}
    return UncertaintyResult(rows, build_provenance("calibrate uncertainty", record_parameters(parameters, own), {}))


def _panel_sizes(panels: Sequence[Any], panels_dir) -> list[tuple[str, float, str]]:
    """(id, Mb of the TMB region, 'tmb_region') per panel; a panel whose BED is not at hand is refused."""
    from ..errors import InputError
    from ..panels.registry import load_panel

    out = []
    for p in panels:
        panel = load_panel(p, panels_dir) if isinstance(p, str) else p
        if panel.bed_path() is None and panel.footprints[panel.build].tmb_bed is None:
            raise InputError(f"panel '{panel.id}': its footprint BED is not available; give mb", panel.path,
                             params=("mb",))
        out.append((panel.id, panel.tmb_region().total_mb(), "tmb_region"))
    return out


__all__ = ["min_count", "prob_high", "EquivocalZone", "equivocal_zone", "equivocal_panel_values",
           "UncertaintyResult", "UNCERTAINTY_COLUMNS", "calibrate_uncertainty"]
