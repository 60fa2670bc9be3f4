"""The sample's MSI call from a sample-level statistic (read modes) or a marker fraction rule.

Statistic rule (paired and tumor-only; the same defaults for every panel size and depth):

* ``indeterminate`` when fewer loci are evaluable than :func:`needed_loci` asks for, or when the
  pair check fails (paired: the normal is significantly more contracted than the tumor);
* ``MSI-H`` when the one-sided p of the sample statistic is < ``msi_alpha`` (default 1e-3: the
  false-positive rate per MSS sample when the statistic's null holds) **and** the estimated
  unstable read fraction is >= ``min_fraction`` (default 0.01, so a statistically detectable
  but negligible shift on a large panel is not MSI-H);
* ``MSS`` when p >= ``mss_alpha`` (default 0.05), or when the upper end of the fraction's 95%
  interval is below ``min_fraction``;
* otherwise ``indeterminate``: the evidence lies between the two error rates - the zone comes
  from the statistic's uncertainty, not from a fixed band around a cut-off.

Marker rule (``--markers``, panels of 1-10 named markers): MSI-H when unstable / all markers >=
``marker_fraction`` (default 0.4: the Bethesda-style ">= 2 of 5"), MSS when even counting every
non-evaluable marker as unstable the fraction stays below it, else ``indeterminate`` (the
missing markers could change the call).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MSI_ALPHA = 1e-3
MSS_ALPHA = 0.05
MIN_FRACTION = 0.01
MAX_NEEDED_LOCI = 30
MARKER_FRACTION = 0.4


@dataclass(frozen=True)
class CallRules:
    """Parameters of the statistic rule (see module docstring)."""

    msi_alpha: float = MSI_ALPHA
    mss_alpha: float = MSS_ALPHA
    min_fraction: float = MIN_FRACTION
    min_evaluable: int | None = None  # None: needed_loci(total)

    def to_dict(self) -> dict[str, Any]:
        return {"msi_alpha": self.msi_alpha, "mss_alpha": self.mss_alpha, "min_fraction": self.min_fraction,
                "min_evaluable": self.min_evaluable}


def needed_loci(total: int, min_evaluable: int | None = None) -> int:
    """Evaluable loci needed for a call: ``min_evaluable`` when given, else half the loci (rounded
    up), at most 30 and at least 1 - so a 5-marker panel needs 3, a 500-locus panel 30."""
    if min_evaluable is not None:
        return max(1, int(min_evaluable))
    return max(1, min(MAX_NEEDED_LOCI, math.ceil(total / 2)))


def call_from_statistic(stat: dict[str, Any], evaluable: int, total: int, rules: CallRules,
                        pair_check: dict[str, Any] | None = None) -> tuple[str, str]:
    """(status, call_basis) from a pooled statistic dict (keys p, fraction, ci95)."""
    need = needed_loci(total, rules.min_evaluable)
    if evaluable < need or stat.get("p") is None:
        return "indeterminate", f"{evaluable} evaluable loci, {need} needed"
    if pair_check is not None and pair_check.get("flag"):
        return "indeterminate", "pair check failed: " + str(pair_check["reason"])
    p, w = float(stat["p"]), float(stat["fraction"])
    hi = float(stat["ci95"][1])
    if p < rules.msi_alpha and w >= rules.min_fraction:
        return "MSI-H", (f"sample statistic p = {p:.3g} < {rules.msi_alpha} and unstable read fraction "
                         f"{w:.4f} >= {rules.min_fraction}")
    if p >= rules.mss_alpha:
        return "MSS", f"sample statistic p = {p:.3g} >= {rules.mss_alpha}"
    if hi < rules.min_fraction:
        return "MSS", f"unstable read fraction 95% upper bound {hi:.4f} < {rules.min_fraction}"
    return "indeterminate", (f"sample statistic p = {p:.3g} between {rules.msi_alpha} and {rules.mss_alpha} "
                             f"(unstable read fraction {w:.4f}, 95% CI up to {hi:.4f})")


def pair_check(swapped: dict[str, Any], rules: CallRules) -> dict[str, Any]:
    """Flag a swapped pair / tumor-contaminated normal: the normal, scored against the tumor as
    if it were the tumor, shows significant contraction (p < msi_alpha, fraction >= min_fraction)."""
    p, w = swapped.get("p"), swapped.get("fraction")
    flag = p is not None and w is not None and p < rules.msi_alpha and w >= rules.min_fraction
    out = {"flag": bool(flag), "z": swapped.get("z"), "p": p, "normal_unstable_fraction": w,
           "ci95": swapped.get("ci95")}
    out["reason"] = ("the normal is more contracted than the tumor (normal unstable read fraction "
                     f"{w:.4f}, p = {p:.3g}): swapped tumor/normal or a normal contaminated with tumor"
                     if flag else None)
    return out


def call_markers(unstable: int, evaluable: int, total: int, fraction: float = MARKER_FRACTION
                 ) -> tuple[str, str]:
    """(status, basis) of the marker fraction rule (see module docstring)."""
    if total < 1:
        return "indeterminate", "no markers"
    if unstable / total >= fraction - 1e-12:
        return "MSI-H", f"{unstable} of {total} markers unstable (>= {fraction:.0%})"
    worst = unstable + (total - evaluable)
    if evaluable and worst / total < fraction:
        return "MSS", f"{unstable} of {evaluable} evaluable markers unstable (< {fraction:.0%} of {total})"
    return "indeterminate", (f"{unstable} of {evaluable} evaluable markers unstable; {total - evaluable} "
                             "not evaluable could change the call")
