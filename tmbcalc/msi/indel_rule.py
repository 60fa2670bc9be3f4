"""The fitted indel rule of ``msi mutations`` (versioned JSON in ``calibration/``).

A logistic model P(MSI-H) = 1 / (1 + exp(-(b0 + b1 log10(indels/Mb + pseudo) + b2 log10(SNVs/Mb +
pseudo)))), called MSI-H above ``probability_cutoff``.  Version 2 (``msi_mutations_msiseq_tcga_v2.json``,
the default) has b2 = 0: the call does not depend on SNV load.  A rule with b2 > 0 rewards SNV
load (an ultramutated MSS tumour with few indels is called MSI-H) and is refused; version 1
(b2 = +2.2) is kept in ``calibration/`` for the record only (its ``status`` says so).
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import check_number
from ..errors import InputError, require_readable
from ..resources import calibration_dir

DEFAULT_RULE_FILE = "msi_mutations_msiseq_tcga_v2.json"
PSEUDO = 0.01  # per-Mb pseudo-count inside the logs


@dataclass
class IndelRule:
    """Logistic rule on log10 per-Mb indel (and, with weight <= 0, SNV) rates."""

    id: str
    version: str
    coef_log_indels: float
    coef_log_snvs: float
    intercept: float
    probability_cutoff: float
    pseudo: float
    training: dict[str, Any]
    status: str = "current"
    path: str = ""

    def __post_init__(self) -> None:
        """Every coefficient finite, a cut-off strictly inside (0, 1), a positive pseudo-count."""
        where = self.path or None
        for name in ("coef_log_indels", "coef_log_snvs", "intercept"):
            check_number(getattr(self, name), f"indel rule {name}", path=where, error=InputError)
        if self.coef_log_indels == 0:
            raise InputError("indel rule coef_log_indels is 0 (the rule would ignore indels)", where)
        check_number(self.probability_cutoff, "indel rule probability_cutoff", path=where, error=InputError,
                     lo=0.0, hi=1.0, lo_open=True, hi_open=True)
        check_number(self.pseudo, "indel rule pseudo", path=where, error=InputError, lo=0.0, lo_open=True)

    def probability(self, indels_per_mb: np.ndarray, snvs_per_mb: np.ndarray) -> np.ndarray:
        z = (self.intercept + self.coef_log_indels * np.log10(np.asarray(indels_per_mb, dtype=float) + self.pseudo)
             + self.coef_log_snvs * np.log10(np.asarray(snvs_per_mb, dtype=float) + self.pseudo))
        return 1.0 / (1.0 + np.exp(-z))

    def indel_threshold(self, snvs_per_mb: float = 1.0) -> float:
        """Indels/Mb above which the rule calls MSI-H (at a given SNV rate when b2 != 0)."""
        logit = math.log(self.probability_cutoff / (1 - self.probability_cutoff))
        x = (logit - self.intercept - self.coef_log_snvs * math.log10(snvs_per_mb + self.pseudo)) \
            / self.coef_log_indels
        return max(0.0, 10 ** x - self.pseudo)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("path")
        return d

    @classmethod
    def load(cls, path: str | Path | None = None) -> IndelRule:
        """Load a rule file (default: the bundled v2); refuse rules that reward SNV load."""
        p = Path(path) if path is not None else calibration_dir() / DEFAULT_RULE_FILE
        require_readable(p, "indel rule")
        try:
            d = json.loads(p.read_text())
            rule = cls(id=d["id"], version=str(d["version"]), coef_log_indels=float(d["coef_log_indels"]),
                       coef_log_snvs=float(d["coef_log_snvs"]), intercept=float(d["intercept"]),
                       probability_cutoff=float(d["probability_cutoff"]), pseudo=float(d["pseudo"]),
                       training=dict(d.get("training", {})), status=str(d.get("status", "current")), path=str(p))
        except (ValueError, KeyError, TypeError) as exc:    # UnicodeDecodeError is a ValueError
            raise InputError(f"not a valid indel rule file ({str(exc).splitlines()[0][:120]})", p) from None
        if rule.coef_log_snvs > 0 or rule.coef_log_indels <= 0:
            raise InputError(f"indel rule {rule.id} v{rule.version} rewards SNV load (SNV weight "
                             f"{rule.coef_log_snvs:+.3g}) or not indels: not usable ({rule.status})", p)
        return rule


def fit_indel_rule(indels_per_mb: np.ndarray, msi_h: np.ndarray, *, rule_id: str, version: str,
                   training: Mapping[str, Any]) -> IndelRule:
    """Fit the one-feature logistic rule (scikit-learn, weak L2: C=100) on labelled tumours."""
    from sklearn.linear_model import LogisticRegression

    x = np.log10(np.asarray(indels_per_mb, dtype=float) + PSEUDO)[:, None]
    y = np.asarray(msi_h, dtype=int)
    lr = LogisticRegression(C=100.0, max_iter=1000).fit(x, y)
    return IndelRule(rule_id, version, float(lr.coef_[0, 0]), 0.0, float(lr.intercept_[0]), 0.5, PSEUDO,
                     dict(training))
