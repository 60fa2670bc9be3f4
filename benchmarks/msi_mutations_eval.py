#!/usr/bin/env python3
"""Evaluate the fitted rule of ``tmbcalc msi mutations`` on labelled TCGA tumours.

    python benchmarks/msi_mutations_eval.py [--shared ../shared/data] [--rule RULE.json] [--json OUT.json]

The rule is fitted by ``scripts/fit_msi_mutations_rule.py`` on the MSIseq training set only
(feature and rule chosen by cross-validation there).  This script:

1. converts the MSIseq TCGA training set into a minimal MAF, runs :func:`tmbcalc.msi_mutations`
   with MSIseq's per-tumour captured lengths and checks that indels/Mb and SNVs/Mb equal
   MSIseq's own ``T.ind`` / ``T.sns`` (``train.mutationNum``);
2. evaluates the rule once on:
   * held-out: Firehose COAD tumours with clinical ``microsatellite_instability`` YES/NO that
     are *not* in the MSIseq training set (29 tumours);
   * all 66 Firehose COAD tumours with a clinical label (37 of them are training tumours: not
     held out for those; reported separately), with every miss listed (barcode, rates, clinical
     and MSIseq training label, MSIseq's own S.ind where the tumour is in MSIseq's sets);
   * MSIseq's test set (165 tumours, no labels shipped) where a Firehose COAD clinical label exists;
   * transfer (labels not independent): Firehose COAD/STAD/UCEC MAFs (another caller run) of
     training tumours, with the training labels.
   Firehose MAFs are divided by the captured length MSIseq assigned to that cancer type's TCGA
   exomes (colon/rectal 44 Mb, endometrial/gastric 38 Mb), so their rates are on the training
   features' scale; ``--firehose-mb 38`` gives MSIseq's package default instead.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from fit_msi_mutations_rule import NO_FILTER_COLUMN, msiseq_rates, sens_spec  # noqa: E402

from tmbcalc.msi.indel_rule import IndelRule  # noqa: E402
from tmbcalc.msi.mutations import msi_mutations  # noqa: E402

# captured length (Mb) MSIseq's NGStrainseqLen gives each cancer type's TCGA exomes
MSISEQ_MB = {"COAD": 44.0, "STAD": 38.0, "UCEC": 38.0}


def _labels(shared: Path) -> tuple[pd.Series, dict[str, bool], pd.DataFrame]:
    """(MSIseq training labels, Firehose COAD clinical MSI-H by patient, MSIseq's own per-Mb
    figures of its training and test tumours)."""
    d = shared / "somatic" / "msiseq_tcga"
    train_lab = pd.read_csv(d / "MSIseq_NGStrainclass.tsv", sep="\t").set_index("Tumor_Sample_Barcode")["MSI_status"]
    clin = pd.read_csv(shared / "somatic/tcga_firehose/TCGA_Firehose_COAD.clinical.tsv.gz", sep="\t",
                       low_memory=False).dropna(subset=["microsatellite_instability"])
    coad = dict(zip(clin.Tumor_Sample_Barcode.str[:12], clin.microsatellite_instability == "YES"))
    mnum = pd.concat([pd.read_csv(d / f"MSIseq_{w}.mutationNum.tsv", sep="\t").set_index("rownames")
                      for w in ("train", "test")])
    return train_lab, coad, mnum


def firehose_rates(shared: Path, rule: IndelRule, mb: float | None) -> dict[str, pd.DataFrame]:
    """Per-tumour figures and calls of the Firehose COAD/STAD/UCEC MAFs (one row per patient)."""
    fire = {}
    for c in ("COAD", "STAD", "UCEC"):
        res = msi_mutations(shared / f"somatic/tcga_firehose/TCGA_Firehose_{c}.maf.tsv.gz",
                            footprint_mb=mb or MSISEQ_MB[c], rule=rule, profile_overrides=NO_FILTER_COLUMN)
        df = pd.DataFrame([s.to_dict() for s in res.samples])
        df["barcode"] = df["sample"].str[:12]
        fire[c] = df.drop_duplicates("barcode").set_index("barcode")
    return fire


def _row(b: str, r: pd.Series, clinical: bool, train_lab: pd.Series, mnum: pd.DataFrame) -> dict:
    return {"clinical_msi_h": bool(clinical), "status": r.status, "probability": round(float(r.fitted_probability), 4),
            "indels_per_mb": round(float(r.indels_per_mb), 4),
            "deletions_1bp_per_mb": round(float(r.deletions_1bp_per_mb), 4),
            "snvs_per_mb": round(float(r.snvs_per_mb), 4), "in_msiseq_training": b in train_lab.index,
            "msiseq_training_label": train_lab.get(b),
            "msiseq_S.ind": None if b not in mnum.index else round(float(mnum.loc[b, "S.ind"]), 4),
            "msiseq_T.ind": None if b not in mnum.index else round(float(mnum.loc[b, "T.ind"]), 4)}


def evaluate(shared: Path, rule: IndelRule, tmp: Path, mb: float | None = None) -> dict:
    train_lab, coad_lab, mnum = _labels(shared)
    out: dict = {}
    # published rule on MSIseq's own S.ind (reference figures; not computed by tmbcalc)
    tr = mnum.loc[mnum.index.isin(train_lab.index)]
    out["msiseq_published_rule_on_msiseq_S.ind_train"] = sens_spec(
        tr["S.ind"].to_numpy() > 0.395, (train_lab.reindex(tr.index) == "MSI-H").to_numpy())
    fire = firehose_rates(shared, rule, mb)
    allc = fire["COAD"][fire["COAD"].index.isin(list(coad_lab))]
    sets = {"heldout_firehose_COAD_clinical": allc[~allc.index.isin(train_lab.index)],
            "firehose_COAD_clinical_in_msiseq_training": allc[allc.index.isin(train_lab.index)],
            "firehose_COAD_all_clinical_labels": allc}
    for name, sub in sets.items():
        truth = np.array([coad_lab[b] for b in sub.index], dtype=bool)
        out[name] = sens_spec(sub.status == "MSI-H", truth)
        out[name]["misclassified"] = {b: _row(b, r, coad_lab[b], train_lab, mnum) for b, r in sub.iterrows()
                                      if (r.status == "MSI-H") != coad_lab[b]}
    test = msiseq_rates(shared, "test", tmp)
    test["status"] = np.where(rule.probability(test[rule.feature], test.snvs_per_mb) > rule.probability_cutoff,
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
    ap.add_argument("--rule", help="rule JSON (default: the bundled default rule)")
    ap.add_argument("--firehose-mb", type=float, help="captured Mb for every Firehose MAF (default: MSIseq's "
                    "length for the cancer type: COAD 44, STAD/UCEC 38)")
    ap.add_argument("--json", help="write the evaluation figures here")
    a = ap.parse_args(argv)
    shared = Path(a.shared)
    d = shared / "somatic" / "msiseq_tcga"
    rule = IndelRule.load(a.rule)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        train = msiseq_rates(shared, "train", tmp)
        mnum = pd.read_csv(d / "MSIseq_train.mutationNum.tsv", sep="\t").set_index("rownames")
        dind = np.abs(train.indels_per_mb.reindex(mnum.index) - mnum["T.ind"]).max()
        dsnv = np.abs(train.snvs_per_mb.reindex(mnum.index) - mnum["T.sns"]).max()
        print(f"train: {len(train)} tumours; max |indels/Mb - MSIseq T.ind| = {dind:.3g}, "
              f"max |SNVs/Mb - T.sns| = {dsnv:.3g}")
        ev = evaluate(shared, rule, tmp, a.firehose_mb)
    ev["train_agreement"] = {"max_abs_diff_indels_per_mb": float(dind), "max_abs_diff_snvs_per_mb": float(dsnv)}
    ev["rule"] = rule.to_json()
    ev["parameters"] = {"rule": rule.path, "firehose_mb": a.firehose_mb or MSISEQ_MB}
    print(f"rule {rule.id} v{rule.version}: {rule.feature} > {rule.threshold():.4g}")
    for k, v in ev.items():
        if isinstance(v, dict) and "sensitivity" in v:
            print(f"{k}: n={v['n']} MSI-H={v['msi_h']} sens={v['sensitivity']} spec={v['specificity']} "
                  f"(tp {v['tp']} fn {v['fn']} tn {v['tn']} fp {v['fp']})")
            for b, m in v.get("misclassified", {}).items():
                print(f"   miss {b}: {m}")
    if a.json:
        Path(a.json).write_text(json.dumps(ev, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
