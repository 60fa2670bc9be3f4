"""Denominator guards: when a TMB figure must not be reported as a clean call.

A TMB is a count over a footprint; when the footprint is tiny the count is a handful of variants
and the rate is noise (a 3,078 bp callable footprint with 9 variants is "2924 mut/Mb").  The
Friends of Cancer Research TMB Harmonization Project, phase II (Vega DM et al., Ann Oncol
2021;32:1626-1636), found panel TMB agreed with whole-exome TMB only for panels covering more than
0.667 Mb; :data:`DEFAULT_MIN_FOOTPRINT_MB` (0.5 Mb) is a floor below which no call is made.

Checks (each gives a warning; the first two also make every cut-point status
``insufficient_footprint`` and the result's ``footprint_status`` the same):

* the counting footprint (and a declared denominator) is under ``min_footprint_mb``;
* the callable part (a callable BED or BAM depth) keeps under ``min_callable_fraction`` of the
  footprint it restricts (a sample sequenced far too shallowly for the panel);
* the callable depth threshold (``--min-coverage``) is below the variant read-depth rule
  (profile ``min_depth``): bases count as callable where no variant could pass the rule.

A *declared* denominator (``footprint_mb=``, e.g. a vendor's published TMB Mb or PyTMB's effective
genome size) replaces the measured footprint as the divisor; the measured one is kept beside it.
Units: Mb = 1,000,000 bp.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..checks import check_number
from ..errors import UsageError

if TYPE_CHECKING:
    from .result import SampleTmb

DEFAULT_MIN_FOOTPRINT_MB = 0.5
DEFAULT_MIN_CALLABLE_FRACTION = 0.5
INSUFFICIENT = "insufficient_footprint"
CALLABLE_STAGES = ("intersect_callable_bed", "intersect_callable_from_bams")


@dataclass
class DenominatorCheck:
    """The divisor of a run (bp), how it was chosen, and the guards' verdict."""

    divisor_bp: int
    measured_bp: int
    declared_mb: float | None
    min_footprint_mb: float
    min_callable_fraction: float
    callable_fraction: float | None
    status: str = "ok"
    warnings: list[str] = field(default_factory=list)

    def doc(self) -> dict[str, Any]:
        """Fields merged into the result's ``denominator`` (JSON)."""
        return {"denominator_kind": "declared" if self.declared_mb is not None else "measured",
                "declared_mb": self.declared_mb, "measured_footprint_bp": self.measured_bp,
                "measured_footprint_mb": self.measured_bp / 1e6, "callable_fraction": self.callable_fraction,
                "min_footprint_mb": self.min_footprint_mb, "min_callable_fraction": self.min_callable_fraction,
                "status": self.status, "warnings": list(self.warnings)}

    def apply(self, samples: list[SampleTmb]) -> list[SampleTmb]:
        """Samples with every cut-point status replaced by ``insufficient_footprint`` when the
        footprint is insufficient (the TMB, interval and probabilities are kept)."""
        if self.status == "ok":
            return samples
        return [replace(s, status={k: INSUFFICIENT for k in s.status}) for s in samples]


def check_guard_options(footprint_mb: float | None, min_footprint_mb: float, min_callable_fraction: float) -> None:
    """Range-check the guard options (finite; a declared denominator > 0; fraction in [0, 1])."""
    if footprint_mb is not None:
        check_number(footprint_mb, "footprint_mb (declared denominator, Mb)", lo=0.0, lo_open=True)
    check_number(min_footprint_mb, "min_footprint_mb", lo=0.0)
    check_number(min_callable_fraction, "min_callable_fraction", lo=0.0, hi=1.0)


def _callable_fraction(stages: list[dict[str, Any]]) -> float | None:
    """bp kept by the callable stage(s) / bp of the footprint they restrict; None without one."""
    names = [s.get("stage") for s in stages]
    first = next((i for i, n in enumerate(names) if n in CALLABLE_STAGES), None)
    if first is None or first == 0:
        return None
    before = int(stages[first - 1]["bp"])
    return int(stages[-1]["bp"]) / before if before else None


def check_denominator(measured_bp: int, stages: list[dict[str, Any]], *, declared_mb: float | None,
                      min_footprint_mb: float = DEFAULT_MIN_FOOTPRINT_MB,
                      min_callable_fraction: float = DEFAULT_MIN_CALLABLE_FRACTION,
                      min_coverage: int | None = None, min_depth: int | None = None) -> DenominatorCheck:
    """Apply the guards to a resolved footprint (``measured_bp``, its ``stages``)."""
    check_guard_options(declared_mb, min_footprint_mb, min_callable_fraction)
    divisor = measured_bp if declared_mb is None else int(round(declared_mb * 1e6))
    if divisor <= 0:
        raise UsageError(f"footprint_mb {declared_mb!r} rounds to 0 bp", params=("footprint_mb",))
    res = DenominatorCheck(divisor, measured_bp, declared_mb, min_footprint_mb, min_callable_fraction,
                           _callable_fraction(stages))
    sizes = [("footprint", measured_bp)] + ([("declared denominator", divisor)] if declared_mb is not None else [])
    for what, bp in sizes:
        if bp / 1e6 >= min_footprint_mb:
            continue
        res.warnings.append(f"{INSUFFICIENT}: the {what} is {bp:,} bp ({bp / 1e6:.4g} Mb), under the minimum "
                            f"{min_footprint_mb:g} Mb (FoCR phase II, Vega et al. Ann Oncol 2021: panel TMB "
                            f"agrees with exome TMB above 0.667 Mb); no TMB call is made")
    if res.callable_fraction is not None and res.callable_fraction < min_callable_fraction:
        res.warnings.append(f"{INSUFFICIENT}: only {res.callable_fraction:.1%} of the footprint is callable "
                            f"(minimum {min_callable_fraction:.0%}); no TMB call is made")
    if res.warnings:
        res.status = INSUFFICIENT
    if min_coverage is not None and min_depth is not None and min_coverage < min_depth:
        res.warnings.append(f"callable depth --min-coverage {min_coverage} is below the variant depth rule "
                            f"min_depth {min_depth}: bases where no variant can pass the rule count as callable, "
                            f"which lowers TMB")
    return res


__all__ = ["DenominatorCheck", "check_denominator", "check_guard_options", "DEFAULT_MIN_FOOTPRINT_MB",
           "DEFAULT_MIN_CALLABLE_FRACTION", "INSUFFICIENT"]
