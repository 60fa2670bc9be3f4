"""Agreement of two binary calls (TMB-high by a panel vs by the reference).

The reference is treated as the comparator ("truth"): with ``tp`` = both high, ``fn`` =
reference high / panel low, ``fp`` = reference low / panel high, ``tn`` = both low::

    PPA = tp / (tp + fn)           positive percent agreement
    NPA = tn / (tn + fp)           negative percent agreement
    OPA = (tp + tn) / n            overall percent agreement
    kappa = (po - pe) / (1 - pe)   Cohen (1960), po = OPA,
            pe = ((tp+fp)(tp+fn) + (fn+tn)(fp+tn)) / n^2

Undefined ratios (a zero denominator) are ``None`` (JSON null), never NaN.
Agreement values are fractions in [0, 1].
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Agreement:
    tp: int
    fp: int
    fn: int
    tn: int
    ppa: float | None
    npa: float | None
    opa: float | None
    kappa: float | None

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["n"] = self.n
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def agreement_from_counts(tp: int, fp: int, fn: int, tn: int) -> Agreement:
    n = tp + fp + fn + tn
    po = _ratio(tp + tn, n)
    kappa = None
    if n:
        pe = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
        kappa = (po - pe) / (1.0 - pe) if pe < 1.0 else None
    return Agreement(int(tp), int(fp), int(fn), int(tn), _ratio(tp, tp + fn), _ratio(tn, tn + fp), po, kappa)


def agreement(reference_high: np.ndarray, panel_high: np.ndarray) -> Agreement:
    """2x2 agreement of two boolean arrays (reference first)."""
    r = np.asarray(reference_high, dtype=bool)
    p = np.asarray(panel_high, dtype=bool)
    if r.shape != p.shape:
        raise ValueError("reference and panel calls differ in length")
    tp = int(np.count_nonzero(r & p))
    fp = int(np.count_nonzero(~r & p))
    fn = int(np.count_nonzero(r & ~p))
    tn = int(np.count_nonzero(~r & ~p))
    return agreement_from_counts(tp, fp, fn, tn)


def rmse_log(pred: np.ndarray, ref: np.ndarray) -> float | None:
    """Root mean squared error on the natural-log scale ``ln(1 + TMB)`` (TMB in mut/Mb)."""
    pred = np.asarray(pred, float)
    ref = np.asarray(ref, float)
    if pred.size == 0:
        return None
    d = np.log1p(pred) - np.log1p(ref)
    return float(np.sqrt(np.mean(d * d)))


__all__ = ["Agreement", "agreement", "agreement_from_counts", "rmse_log"]
