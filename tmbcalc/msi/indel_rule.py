"""The fitted indel rule of ``msi mutations`` (versioned JSON in ``calibration/``).

A logistic model P(MSI-H) = 1 / (1 + exp(-(b0 + b1 log10(F + pseudo) + b2 log10(SNVs/Mb + pseudo)))),
called MSI-H above ``probability_cutoff``, where F is the rule's ``feature`` (a per-Mb rate of
:data:`FEATURES`).  Version 3 (``msi_mutations_msiseq_tcga_v3.json``, the default) uses
F = single-base deletions per Mb, chosen by cross-validation on the MSIseq training set
(``scripts/fit_msi_mutations_rule.py``); version 2 used all indels per Mb.  Both have b2 = 0: the
call does not depend on SNV load.  A rule with b2 > 0 rewards SNV load (an ultramutated MSS tumour
with few indels is called MSI-H) and is refused; version 1 (b2 = +2.2) is kept in ``calibration/``
for the record only (its ``status`` says so).

Files of v1/v2 name the coefficient ``coef_log_indels`` and no feature: they read as
``feature = "indels_per_mb"``.
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

DEFAULT_RULE_FILE = "msi_mutations_msiseq_tcga_v3.json"
PSEUDO = 0.01  # per-Mb pseudo-count inside the logs
# per-Mb rates a rule can key on (names of SampleMsiMutations fields) -> their unit; every rate
# counts eligible calls; a single-base deletion has REF length - ALT length = 1
FEATURES = {
    "indels_per_mb": "indels per Mb",
    "deletions_per_mb": "deletions per Mb",
    "deletions_1bp_per_mb": "single-base deletions per Mb",
}


@dataclass
class IndelRule:
    """Logistic rule on a log10 per-Mb indel rate (:data:`FEATURES`; with weight <= 0, SNVs/Mb)."""

    id: str
    version: str
    coef_log_feature: float
    coef_log_snvs: float
    intercept: float
    probability_cutoff: float
    pseudo: float
    training: dict[str, Any]
    status: str = "current"
    path: str = ""
    feature: str = "indels_per_mb"

    def __post_init__(self) -> None:
        """Every coefficient finite, a cut-off strictly inside (0, 1), a positive pseudo-count."""
        where = self.path or None
        for name in ("coef_log_feature", "coef_log_snvs", "intercept"):
            check_number(getattr(self, name), f"indel rule {name}", path=where, error=InputError)
        if self.coef_log_feature == 0:
            raise InputError("indel rule coef_log_feature is 0 (the rule would ignore indels)", where)
        if self.feature not in FEATURES:
            raise InputError(f"indel rule feature '{self.feature}' is not one of {', '.join(FEATURES)}", where)
        check_number(self.probability_cutoff, "indel rule probability_cutoff", path=where, error=InputError,
                     lo=0.0, hi=1.0, lo_open=True, hi_open=True)
        check_number(self.pseudo, "indel rule pseudo", path=where, error=InputError, lo=0.0, lo_open=True)

    def probability(self, feature_per_mb: np.ndarray, snvs_per_mb: np.ndarray) -> np.ndarray:
        """P(MSI-H) from the rule's feature (per Mb) and SNVs/Mb (ignored when its weight is 0)."""
        z = (self.intercept + self.coef_log_feature * np.log10(np.asarray(feature_per_mb, dtype=float) + self.pseudo)
             + self.coef_log_snvs * np.log10(np.asarray(snvs_per_mb, dtype=float) + self.pseudo))
        return 1.0 / (1.0 + np.exp(-z))

    def threshold(self, snvs_per_mb: float = 1.0) -> float:
        """Feature rate (per Mb) above which the rule calls MSI-H (at a given SNV rate when b2 != 0)."""
        logit = math.log(self.probability_cutoff / (1 - self.probability_cutoff))
        x = (logit - self.intercept - self.coef_log_snvs * math.log10(snvs_per_mb + self.pseudo)) \
            / self.coef_log_feature
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
            coef = d["coef_log_feature"] if "coef_log_feature" in d else d["coef_log_indels"]
            rule = cls(id=d["id"], version=str(d["version"]), coef_log_feature=float(coef),
                       coef_log_snvs=float(d["coef_log_snvs"]), intercept=float(d["intercept"]),
                       probability_cutoff=float(d["probability_cutoff"]), pseudo=float(d["pseudo"]),
                       training=dict(d.get("training", {})), status=str(d.get("status", "current")), path=str(p),
                       feature=str(d.get("feature", "indels_per_mb")))
        except (ValueError, KeyError, TypeError) as exc:    # UnicodeDecodeError is a ValueError
            raise InputError(f"not a valid indel rule file ({str(exc).splitlines()[0][:120]})", p) from None
        if rule.coef_log_snvs > 0 or rule.coef_log_feature <= 0:
            raise InputError(f"indel rule {rule.id} v{rule.version} rewards SNV load (SNV weight "
                             f"{rule.coef_log_snvs:+.3g}) or not indels: not usable ({rule.status})", p)
        return rule


def fit_indel_rule(feature_per_mb: np.ndarray, msi_h: np.ndarray, *, rule_id: str, version: str,
                   training: Mapping[str, Any], feature: str = "indels_per_mb") -> IndelRule:
    """Fit the one-feature logistic rule (scikit-learn, weak L2: C=100) on labelled tumours;
    ``feature_per_mb`` holds the rate named by ``feature`` (:data:`FEATURES`)."""
    from sklearn.linear_model import LogisticRegression

    x = np.log10(np.asarray(feature_per_mb, dtype=float) + PSEUDO)[:, None]
    y = np.asarray(msi_h, dtype=int)
    lr = LogisticRegression(C=100.0, max_iter=1000).fit(x, y)
    return IndelRule(rule_id, version, float(lr.coef_[0, 0]), 0.0, float(lr.intercept_[0]), 0.5, PSEUDO,
                     dict(training), feature=feature)
