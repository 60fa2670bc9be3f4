#!/usr/bin/env python3
"""Fit and evaluate the indel rule of ``tmbcalc msi mutations`` on labelled TCGA tumours.

    python benchmarks/msi_mutations_eval.py [--shared ../shared/data] [--fit] [--json OUT.json]

1. Converts the MSIseq TCGA training set (CRAN MSIseq ``NGStraindata``: Chrom, Start/End,
   Variant_Type, barcode; 361 tumours, MSI-H labels in ``NGStrainclass``) into a minimal MAF and
   runs :func:`tmbcalc.msi_mutations` on it with MSIseq's per-tumour captured lengths
   (``NGStrainseqLen``); checks that indels/Mb and SNVs/Mb equal MSIseq's own ``T.ind`` /
   ``T.sns`` (``train.mutationNum``).
2. ``--fit``: fits the logistic indel rule (log10 indels/Mb only: no SNV term) on those 361
   tumours and writes ``calibration/msi_mutations_msiseq_tcga_v2.json`` with its 5-fold
   cross-validated sensitivity/specificity.
3. Evaluates the rule (and MSIseq's published S.ind > 0.395 on MSIseq's own S.ind figures, for
   reference) on:
   * held-out: Firehose COAD tumours with clinical ``microsatellite_instability`` YES/NO that
     are *not* in the training set;
   * MSIseq's test set (165 tumours, no labels shipped) where a Firehose COAD clinical label
     exists;
   * transfer (labels not independent): Firehose COAD/STAD/UCEC MAFs (another caller run) of
     training tumours, with the training labels.
   Firehose MAFs are scored with MSIseq's default captured length (38 Mb).
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

from tmbcalc.msi.indel_rule import DEFAULT_RULE_FILE, PSEUDO, IndelRule, fit_indel_rule  # noqa: E402
from tmbcalc.msi.mutations import msi_mutations  # noqa: E402

DUMMY_RULE = IndelRule("none", "0", 1.0, 0.0, 0.0, 0.5, PSEUDO, {})
# MSIseq's tables and the Firehose MAFs carry no FILTER column: their rows are the released calls
NO_FILTER_COLUMN = {"filter_missing_is_pass": True}


def msiseq_to_maf(table: pd.DataFrame, out: Path) -> Path:
    """MSIseq's 5-column mutation table -> minimal MAF (alleles are placeholders of the right
    length: only Variant_Type and positions matter to MSIseq)."""
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


def rates_msiseq(shared: Path, which: str, tmp: Path) -> pd.DataFrame:
    d = shared / "somatic" / "msiseq_tcga"
    data = pd.read_csv(d / f"MSIseq_NGS{which}data.tsv.gz", sep="\t")
    seqlen = pd.read_csv(d / f"MSIseq_NGS{which}seqLen.tsv", sep="\t")
    maf = msiseq_to_maf(data, tmp / f"msiseq_{which}.maf")
    res = msi_mutations(maf, footprint_mb=dict(zip(seqlen.Tumor_Sample_Barcode, seqlen.Sequence_Length)),
                        rule=DUMMY_RULE, profile_overrides=NO_FILTER_COLUMN)
    return pd.DataFrame([s.to_dict() for s in res.samples]).set_index("sample")


def sens_spec(pred: np.ndarray, truth: np.ndarray) -> dict:
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    tp, fn = int((pred & truth).sum()), int((~pred & truth).sum())
    tn, fp = int((~pred & ~truth).sum()), int((pred & ~truth).sum())
    return {"n": int(truth.size), "msi_h": int(truth.sum()), "tp": tp, "fn": fn, "tn": tn, "fp": fp,
            "sensitivity": tp / (tp + fn) if tp + fn else None,
            "specificity": tn / (tn + fp) if tn + fp else None}


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def evaluate(shared: Path, rule: IndelRule, tmp: Path) -> dict:
    d = shared / "somatic" / "msiseq_tcga"
    fh = shared / "somatic" / "tcga_firehose"
    train_lab = pd.read_csv(d / "MSIseq_NGStrainclass.tsv", sep="\t").set_index("Tumor_Sample_Barcode")["MSI_status"]
    mnum = pd.read_csv(d / "MSIseq_train.mutationNum.tsv", sep="\t").set_index("rownames")
    out: dict = {}
    # published rule on MSIseq's own S.ind (reference figures; not computed by tmbcalc)
    y = (train_lab.reindex(mnum.index) == "MSI-H").to_numpy()
    out["msiseq_published_rule_on_msiseq_S.ind_train"] = sens_spec(mnum["S.ind"].to_numpy() > 0.395, y)
    coad_clin = pd.read_csv(fh / "TCGA_Firehose_COAD.clinical.tsv.gz", sep="\t", low_memory=False)
    coad_clin = coad_clin.dropna(subset=["microsatellite_instability"])
    coad_lab = dict(zip(coad_clin.Tumor_Sample_Barcode.str[:12], coad_clin.microsatellite_instability == "YES"))
    fire: dict[str, pd.DataFrame] = {}
    for c in ("COAD", "STAD", "UCEC"):
        res = msi_mutations(fh / f"TCGA_Firehose_{c}.maf.tsv.gz", footprint_mb=38.0, rule=rule,
                            profile_overrides=NO_FILTER_COLUMN)
        df = pd.DataFrame([s.to_dict() for s in res.samples])
        df["barcode"] = df["sample"].str[:12]
        fire[c] = df.drop_duplicates("barcode").set_index("barcode")
    held = fire["COAD"][fire["COAD"].index.isin(list(coad_lab)) & ~fire["COAD"].index.isin(train_lab.index)]
    out["heldout_firehose_COAD_clinical"] = sens_spec(held.status == "MSI-H",
                                                      [coad_lab[b] for b in held.index])
    out["heldout_firehose_COAD_clinical"]["samples"] = {
        b: {"msi_h": bool(coad_lab[b]), "indels_per_mb": round(float(r.indels_per_mb), 4),
            "snvs_per_mb": round(float(r.snvs_per_mb), 4), "status": r.status} for b, r in held.iterrows()}
    allc = fire["COAD"][fire["COAD"].index.isin(list(coad_lab))]
    out["firehose_COAD_all_clinical_labels"] = sens_spec(allc.status == "MSI-H", [coad_lab[b] for b in allc.index])
    out["firehose_COAD_all_clinical_labels"]["misclassified"] = {
        b: {"clinical_msi_h": bool(coad_lab[b]), "indels_per_mb": round(float(r.indels_per_mb), 4),
            "snvs_per_mb": round(float(r.snvs_per_mb), 4), "in_msiseq_training": b in train_lab.index,
            "msiseq_training_label": train_lab.get(b)}
        for b, r in allc.iterrows() if (r.status == "MSI-H") != coad_lab[b]}
    test = rates_msiseq(shared, "test", tmp)
    test["status"] = np.where(rule.probability(test.indels_per_mb, test.snvs_per_mb) > rule.probability_cutoff,
                              "MSI-H", "MSS")
    tl = test[test.index.isin(list(coad_lab))]
    out["msiseq_testset_with_COAD_clinical_label"] = sens_spec(tl.status == "MSI-H", [coad_lab[b] for b in tl.index])
    for c, df in fire.items():
        sub = df[df.index.isin(train_lab.index)]
        out[f"transfer_firehose_{c}_training_labels"] = sens_spec(sub.status == "MSI-H",
                                                                  (train_lab.reindex(sub.index) == "MSI-H").to_numpy())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--fit", action="store_true", help="refit and write the calibration JSON")
    ap.add_argument("--json", help="write the evaluation figures here")
    a = ap.parse_args(argv)
    shared = Path(a.shared)
    d = shared / "somatic" / "msiseq_tcga"
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        train = rates_msiseq(shared, "train", tmp)
        mnum = pd.read_csv(d / "MSIseq_train.mutationNum.tsv", sep="\t").set_index("rownames")
        dind = np.abs(train.indels_per_mb.reindex(mnum.index) - mnum["T.ind"]).max()
        dsnv = np.abs(train.snvs_per_mb.reindex(mnum.index) - mnum["T.sns"]).max()
        print(f"train: {len(train)} tumours; max |indels/Mb - MSIseq T.ind| = {dind:.3g}, "
              f"max |SNVs/Mb - T.sns| = {dsnv:.3g}")
        lab = pd.read_csv(d / "MSIseq_NGStrainclass.tsv", sep="\t").set_index("Tumor_Sample_Barcode")["MSI_status"]
        y = (lab.reindex(train.index) == "MSI-H").to_numpy()
        rule_path = REPO / "calibration" / DEFAULT_RULE_FILE
        if a.fit:
            from sklearn.model_selection import StratifiedKFold
            cv_pred = np.zeros(len(y), dtype=bool)
            for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(train, y):
                r = fit_indel_rule(train.indels_per_mb.to_numpy()[tr], y[tr], rule_id="cv", version="0", training={})
                cv_pred[te] = r.probability(train.indels_per_mb.to_numpy()[te],
                                            train.snvs_per_mb.to_numpy()[te]) > 0.5
            files = ["MSIseq_NGStraindata.tsv.gz", "MSIseq_NGStrainseqLen.tsv", "MSIseq_NGStrainclass.tsv"]
            training = {
                "data": "CRAN MSIseq 1.0.0 TCGA training set (NGStraindata/NGStrainseqLen/NGStrainclass), "
                        "361 tumours (69 MSI-H), per-tumour captured length 38 or 44 Mb",
                "files_sha256": {f: sha256(d / f) for f in files},
                "fit": "scikit-learn LogisticRegression(C=100) on log10(indels/Mb+0.01); no SNV term",
                "supersedes": "msi_mutations_msiseq_tcga_v1.json (its positive SNV weight called ultramutated "
                              "MSS tumours MSI-H on few indels)",
                "cv_5fold": sens_spec(cv_pred, y),
                "resubstitution": None,
            }
            rule = fit_indel_rule(train.indels_per_mb, y, rule_id="msi-mutations-msiseq-tcga", version="2",
                                  training=training)
            rule.status = "current (default of tmbcalc msi mutations)"
            rule.training["resubstitution"] = sens_spec(
                rule.probability(train.indels_per_mb, train.snvs_per_mb) > 0.5, y)
            rule_path.write_text(json.dumps(rule.to_json(), indent=2) + "\n")
            print(f"wrote {rule_path}: CV {training['cv_5fold']}")
        rule = IndelRule.load(rule_path)
        ev = evaluate(shared, rule, tmp)
    ev["train_agreement"] = {"max_abs_diff_indels_per_mb": float(dind), "max_abs_diff_snvs_per_mb": float(dsnv)}
    ev["rule"] = rule.to_json()
    for k, v in ev.items():
        if isinstance(v, dict) and "sensitivity" in v:
            print(f"{k}: n={v['n']} MSI-H={v['msi_h']} sens={v['sensitivity']} spec={v['specificity']} "
                  f"(tp {v['tp']} fn {v['fn']} tn {v['tn']} fp {v['fp']})")
    if a.json:
        Path(a.json).write_text(json.dumps(ev, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
