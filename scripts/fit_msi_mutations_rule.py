#!/usr/bin/env python3
"""Fit the indel rule of ``tmbcalc msi mutations`` and write ``calibration/msi_mutations_msiseq_tcga_v3.json``.

Everything here uses the MSIseq TCGA training set only (CRAN MSIseq 1.0.0 ``NGStraindata``,
``NGStrainseqLen``, ``NGStrainclass``, ``NGStraintype``: 361 tumours, 69 MSI-H); no Firehose
label is read, so the Firehose COAD clinical labels stay held out for
``benchmarks/msi_mutations_eval.py``.

1. The training mutations become a minimal MAF and go through :func:`tmbcalc.msi_mutations`
   with MSIseq's per-tumour captured lengths: per-Mb rates of every candidate feature
   (:data:`tmbcalc.msi.indel_rule.FEATURES`: indels, deletions, single-base deletions; all
   available in a MAF or VCF without a reference or a repeat annotation).
2. Feature choice: the candidate with most correct calls over 10 x stratified 5-fold
   cross-validation (seeds 0-9; ties go to the earlier candidate).  The whole choice is also
   cross-validated (nested: 5 x 5-fold outer, seeds 100-104, the choice redone inside each outer
   training part with 2 x 5-fold) - the honest estimate of the procedure - and the chosen
   feature is checked leave-one-cancer-type-out (colorectal / endometrial / gastric).
3. The one-feature logistic rule (:func:`tmbcalc.msi.indel_rule.fit_indel_rule`, no SNV term)
   is fitted on all 361 tumours; coefficients are rounded to 12 significant digits so that a
   refit is byte-identical (tests/test_msi_mutations.py runs this script and compares bytes).

Usage:  python scripts/fit_msi_mutations_rule.py [--shared ../shared/data] [--out calibration]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tmbcalc.msi.indel_rule import FEATURES, PSEUDO, IndelRule, fit_indel_rule  # noqa: E402
from tmbcalc.msi.mutations import msi_mutations  # noqa: E402

RULE_FILE = "msi_mutations_msiseq_tcga_v3.json"
CANDIDATES = ("indels_per_mb", "deletions_per_mb", "deletions_1bp_per_mb")
TRAIN_FILES = ("MSIseq_NGStraindata.tsv.gz", "MSIseq_NGStrainseqLen.tsv", "MSIseq_NGStrainclass.tsv",
               "MSIseq_NGStraintype.tsv")
DUMMY_RULE = IndelRule("none", "0", 1.0, 0.0, 0.0, 0.5, PSEUDO, {})
# MSIseq's tables carry no FILTER column: their rows are the released calls
NO_FILTER_COLUMN = {"filter_missing_is_pass": True}
CV_SEEDS = range(10)
NESTED_SEEDS = range(100, 105)
INNER_SEEDS = range(2)


def msiseq_to_maf(table: pd.DataFrame, out: Path) -> Path:
    """MSIseq's 5-column mutation table -> minimal MAF.  Alleles are placeholders of the right
    length (a deletion of End - Start + 1 bases; insertion length is not in MSIseq's table)."""
    vt = table["Variant_Type"]
    n_del = (table["End_Position"] - table["Start_Position"] + 1).clip(lower=1)
    ref = np.where(vt == "SNP", "A", np.where(vt == "INS", "-", n_del.map(lambda k: "N" * k)))
    alt = np.where(vt == "SNP", "C", np.where(vt == "INS", "N", "-"))
    maf = pd.DataFrame({"Chromosome": table["Chrom"], "Start_Position": table["Start_Position"],
                        "End_Position": table["End_Position"], "Reference_Allele": ref,
                        "Tumor_Seq_Allele2": alt, "Variant_Type": vt,
                        "Tumor_Sample_Barcode": table["Tumor_Sample_Barcode"]})
    maf.to_csv(out, sep="\t", index=False)
    return out


def msiseq_rates(shared: Path, which: str, tmp: Path) -> pd.DataFrame:
    """Per-tumour counts and rates of MSIseq's ``which`` set ("train"/"test") by msi_mutations."""
    d = shared / "somatic" / "msiseq_tcga"
    data = pd.read_csv(d / f"MSIseq_NGS{which}data.tsv.gz", sep="\t")
    seqlen = pd.read_csv(d / f"MSIseq_NGS{which}seqLen.tsv", sep="\t")
    maf = msiseq_to_maf(data, tmp / f"msiseq_{which}.maf")
    res = msi_mutations(maf, footprint_mb=dict(zip(seqlen.Tumor_Sample_Barcode, seqlen.Sequence_Length)),
                        rule=DUMMY_RULE, profile_overrides=NO_FILTER_COLUMN)
    return pd.DataFrame([s.to_dict() for s in res.samples]).set_index("sample")


def training_set(shared: Path, tmp: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(rates of the 361 training tumours, MSI-H labels, cancer-type groups with colon+rectal = CRC)."""
    d = shared / "somatic" / "msiseq_tcga"
    rates = msiseq_rates(shared, "train", tmp)
    lab = pd.read_csv(d / "MSIseq_NGStrainclass.tsv", sep="\t").set_index("Tumor_Sample_Barcode")["MSI_status"]
    typ = pd.read_csv(d / "MSIseq_NGStraintype.tsv", sep="\t").set_index("Tumor_Sample_Barcode")["cancer_type"]
    y = (lab.reindex(rates.index) == "MSI-H").to_numpy()
    groups = typ.reindex(rates.index).replace({"colon": "colorectal", "rectal": "colorectal"}).to_numpy()
    return rates, y, groups


def sens_spec(pred: np.ndarray, truth: np.ndarray) -> dict:
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    tp, fn = int((pred & truth).sum()), int((~pred & truth).sum())
    tn, fp = int((~pred & ~truth).sum()), int((pred & ~truth).sum())
    return {"n": int(truth.size), "msi_h": int(truth.sum()), "tp": tp, "fn": fn, "tn": tn, "fp": fp,
            "sensitivity": tp / (tp + fn) if tp + fn else None,
            "specificity": tn / (tn + fp) if tn + fp else None}


def _predict(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    r = fit_indel_rule(x[train], y[train], rule_id="cv", version="0", training={})
    return r.probability(x[test], np.zeros(len(test))) > r.probability_cutoff


def cv_correct(x: np.ndarray, y: np.ndarray, idx: np.ndarray, seeds: range) -> tuple[int, int]:
    """(true positives, true negatives) summed over repeated stratified 5-fold CV within ``idx``."""
    from sklearn.model_selection import StratifiedKFold

    tp = tn = 0
    for seed in seeds:
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(idx, y[idx]):
            p, t = _predict(x, y, idx[tr], idx[te]), y[idx[te]]
            tp, tn = tp + int((p & t).sum()), tn + int((~p & ~t).sum())
    return tp, tn


def choose(rates: pd.DataFrame, y: np.ndarray, idx: np.ndarray, seeds: range) -> tuple[str, dict]:
    """The candidate with most correct CV calls within ``idx`` and every candidate's figures."""
    scores = {f: cv_correct(rates[f].to_numpy(), y, idx, seeds) for f in CANDIDATES}
    best = max(CANDIDATES, key=lambda f: (sum(scores[f]), -CANDIDATES.index(f)))
    return best, scores


def nested_cv(rates: pd.DataFrame, y: np.ndarray) -> dict:
    """Cross-validated figures of the whole procedure (feature choice + fit)."""
    from sklearn.model_selection import StratifiedKFold

    tp = tn = 0
    chosen: dict[str, int] = {}
    for seed in NESTED_SEEDS:
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(rates, y):
            f, _ = choose(rates, y, tr, INNER_SEEDS)
            chosen[f] = chosen.get(f, 0) + 1
            p = _predict(rates[f].to_numpy(), y, tr, te)
            tp, tn = tp + int((p & y[te]).sum()), tn + int((~p & ~y[te]).sum())
    k = len(NESTED_SEEDS)
    return {"repeats": k, "folds": 5, "seeds": [NESTED_SEEDS.start, NESTED_SEEDS.stop - 1],
            "mean_tp": tp / k, "mean_tn": tn / k, "msi_h": int(y.sum()), "non_msi_h": int((~y).sum()),
            "sensitivity": tp / k / y.sum(), "specificity": tn / k / (~y).sum(), "features_chosen": chosen}


def leave_one_type_out(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> dict:
    out = {}
    pred = np.zeros(len(y), dtype=bool)
    for g in sorted(set(groups)):
        te = np.flatnonzero(groups == g)
        pred[te] = _predict(x, y, np.flatnonzero(groups != g), te)
        out[g] = sens_spec(pred[te], y[te])
    out["all"] = sens_spec(pred, y)
    return out


def _round(v: float) -> float:
    return float(f"{v:.12g}")


def fit(shared: Path) -> IndelRule:
    """The v3 rule with its training record (see the module docstring)."""
    import sklearn

    d = shared / "somatic" / "msiseq_tcga"
    with tempfile.TemporaryDirectory() as t:
        rates, y, groups = training_set(shared, Path(t))
    idx = np.arange(len(y))
    feature, scores = choose(rates, y, idx, CV_SEEDS)
    x = rates[feature].to_numpy()
    k = len(CV_SEEDS)
    training = {
        "data": "CRAN MSIseq 1.0.0 TCGA training set (NGStraindata/NGStrainseqLen/NGStrainclass/NGStraintype), "
                "361 tumours (69 MSI-H), per-tumour captured length 38 or 44 Mb",
        "files_sha256": {f: hashlib.sha256((d / f).read_bytes()).hexdigest() for f in TRAIN_FILES},
        "fit": f"scikit-learn {sklearn.__version__} LogisticRegression(C=100) on log10({feature} + {PSEUDO}); "
               "no SNV term; coefficients rounded to 12 significant digits",
        "script": "scripts/fit_msi_mutations_rule.py",
        "feature_choice": {
            "rule": f"most correct calls over {k} x stratified 5-fold CV (seeds {CV_SEEDS.start}-{CV_SEEDS.stop - 1})",
            "candidates": {f: {"mean_tp": tp / k, "mean_tn": tn / k} for f, (tp, tn) in scores.items()},
            "chosen": feature},
        "nested_cv": nested_cv(rates, y),
        "leave_one_cancer_type_out": leave_one_type_out(x, y, groups),
        "supersedes": "msi_mutations_msiseq_tcga_v2.json (all indels per Mb; CV 62/69, 285/292)",
    }
    rule = fit_indel_rule(x, y, rule_id="msi-mutations-msiseq-tcga", version="3", training=training,
                          feature=feature)
    rule.coef_log_feature, rule.intercept = _round(rule.coef_log_feature), _round(rule.intercept)
    rule.status = "current (default of tmbcalc msi mutations)"
    rule.training["threshold_per_mb"] = _round(rule.threshold())
    rule.training["resubstitution"] = sens_spec(rule.probability(x, np.zeros(len(x))) > rule.probability_cutoff, y)
    return rule


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(REPO / "calibration"), help="folder for the rule JSON")
    a = ap.parse_args(argv)
    rule = fit(Path(a.shared))
    out = Path(a.out) / RULE_FILE
    out.write_text(json.dumps(rule.to_json(), indent=2) + "\n")
    tr = rule.training
    print(f"wrote {out}: feature {rule.feature}, threshold {tr['threshold_per_mb']:.4g}/Mb; nested CV sensitivity "
          f"{tr['nested_cv']['sensitivity']:.3f} specificity {tr['nested_cv']['specificity']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
