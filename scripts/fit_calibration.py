#!/usr/bin/env python3
"""Regenerate the calibration models shipped in ``calibration/`` and ``calibration/VALIDATION.md``.

Steps (all through the public tmbcalc API, so the result is what the commands would produce):

1. ``calibrate_simulate`` over the TCGA exome cohorts of ../shared/data/somatic (training set
   below: one source per patient), every registry panel with a GRCh37 footprint, reference =
   ``wes-merino`` on the exonic part of the ``exome-sureselect-v4-grch37`` footprint (kit ∩
   ExomeDepth hg19 exons, 28.07 Mb), hotspots = cancerhotspots v2;
2. tumours whose TCGA patient id (first 12 characters of the barcode) already appeared in an
   earlier cohort are dropped (guards against one patient in two hold-out folds);
3. ``calibrate_fit`` per panel with OLS, Deming, Huber-log, isotonic, anchored-log and
   anchored-log2; 1000 bootstrap replicates, seed 1; leave-one-cohort-out validation; reference
   cuts 10 and 20 mut/Mb; each model records the rules switched off per training cohort
   (``training.relaxed_rules``, from the simulation provenance);
4. writes ``calibration/<model-id>.json`` and ``calibration/VALIDATION.md``.

Usage:  python scripts/fit_calibration.py [--shared ../shared/data] [--out calibration]
                                          [--bootstrap 1000] [--seed 1] [--plots DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tmbcalc.calibrate import FitOptions, calibrate_simulate  # noqa: E402
from tmbcalc.calibrate.fit import calibrate_fit  # noqa: E402
from tmbcalc.calibrate.table import format_simulated, paired  # noqa: E402
from tmbcalc.output import OutputSet  # noqa: E402
from tmbcalc.panels.registry import list_panels, load_panel  # noqa: E402
from tmbcalc.provenance import build_provenance, sha256_file  # noqa: E402

REFERENCE_PANEL = "exome-sureselect-v4-grch37"
REFERENCE_PROFILE = "wes-merino"
EXOME_BED = "panels/exome_kits/SureSelect_Human_All_Exon_V4_S03723314_Covered_hg19.bed.gz"  # under --shared
# Exon table (autosomes + X, hg19, 1-based inclusive): the reference footprint is the exonic part of
# the exome kit, so its denominator is not inflated by the kit's intronic/flanking bait padding.
EXONS = "annotation/exomedepth_hg19/ExomeDepth_exons.hg19_autosomes_plus_X.tsv.gz"
# MC3 LAML (no PASS rows) and OV (mostly 'wga' non-PASS) are left out; Firehose BLCA/BRCA
# repeat the MC3 v2020 BLCA/BRCA patients; SCA LUAD/LUSC repeat Firehose, SCA GBM/HNSC/KIRC/
# THCA repeat MC3.
MC3 = ["ACC", "BLCA_v2020", "BRCA_v2020", "CESC", "CHOL", "DLBC", "ESCA", "GBM", "HNSC", "KICH", "KIRC",
       "KIRP", "LGG", "LIHC", "MESO", "PAAD", "PCPG", "PRAD", "READ", "SARC", "TGCT", "THCA", "THYM", "UCS",
       "UVM"]
FIREHOSE = ["COAD", "LUAD", "LUSC", "STAD", "UCEC"]
SCA = ["skcm", "ov"]
MODEL_VERSION = 4  # v1, v2, v3: deprecated (see calibration/status.json)


def training_mafs(shared: Path) -> list[Path]:
    s = shared / "somatic"
    files = [s / f"tcga_mc3/TCGA_MC3_{c}.maf.tsv.gz" for c in MC3]
    files += [s / f"tcga_firehose/TCGA_Firehose_{c}.maf.tsv.gz" for c in FIREHOSE]
    files += [s / f"somaticcanceralterations_tcga/SCA_{c}_tcga.tsv.gz" for c in SCA]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        sys.exit(f"missing input(s): {', '.join(missing)}")
    return files


def reference_footprint(ref_panel, exons_path: Path):
    """Exome kit footprint (registry, sha256-checked) ∩ exon intervals (1-based inclusive -> BED)."""
    import pandas as pd

    from tmbcalc.regions import RegionSet

    ex = pd.read_csv(exons_path, sep="\t", dtype={"chromosome": str})
    exons = RegionSet.from_arrays(ex["chromosome"], ex["start"].to_numpy() - 1, ex["end"].to_numpy())
    return ref_panel.footprint("GRCh37").intersect(exons)


TSG_LIST = "panels/tmbler/HumanTumorSuppressors_from_TSGene2.tsv"   # TSGene 2.0 via TMBleR (GPL-3)


def tumor_suppressor_bed(shared: Path) -> Path:
    """Coding exons (ExomeDepth hg19) of the TSGene 2.0 tumor suppressors, for f1cdx-like.

    Built at fit time into a temporary file (the list is GPL-3 packaged, so it is not shipped; a
    user builds the same BED with ``tmbcalc panels build --genes ... --exons ...``).  The models
    record its footprint digest, which ``tmb --calibrate-to`` checks.
    """
    import tempfile

    import pandas as pd

    from tmbcalc.panels.build import build_panel_bed, read_exon_table

    genes = pd.read_csv(shared / TSG_LIST, sep="\t", dtype=str)["GeneSymbol"].dropna().tolist()
    res = build_panel_bed(list(dict.fromkeys(genes)), [read_exon_table(shared / EXONS, cds_only=True)])
    path = Path(tempfile.mkdtemp(prefix="tmbcalc-tsg-")) / "TSGene2_coding_exons_hg19.bed"
    path.write_text("".join(f"{c}\t{s}\t{e}\n" for c, s, e, *_ in res.records))
    return path


def calibration_panels() -> list:
    out = []
    for p in list_panels():
        if p.id.startswith("exome") or "GRCh37" not in p.builds:
            continue
        if p.bed_path("GRCh37") is None:
            print(f"skip {p.id}: GRCh37 footprint BED not available", file=sys.stderr)
            continue
        out.append(p)
    return out


def dedupe_patients(df):
    """Keep each TCGA patient (barcode[:12]) in the first cohort it appears in."""
    patient = df["sample"].str.slice(0, 12)
    first = df.assign(patient=patient).drop_duplicates("patient")[["patient", "cohort"]]
    keep_cohort = dict(zip(first["patient"], first["cohort"]))
    mask = [keep_cohort[p] == c for p, c in zip(patient, df["cohort"])]
    return df[mask].reset_index(drop=True), int(len(df) - sum(mask))


def fmt(v, nd=3):
    if v is None:
        return "NA"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def validation_markdown(models, sim_info) -> str:
    lines = ["# Calibration validation (held-out cohorts)", "",
             "Generated by `scripts/fit_calibration.py`; do not edit by hand.", "",
             f"Training: {sim_info['n_tumours']} TCGA tumours in {sim_info['n_cohorts']} cohorts "
             f"({sim_info['dropped']} duplicate-patient rows dropped); reference = `{sim_info['reference']}` "
             f"({sim_info['reference_mb']:.3f} Mb). Validation = leave-one-cohort-out: each cohort is predicted "
             "by a model fitted without it. RMSE is on ln(1 + TMB). Agreement: reference >= 10 mut/Mb vs "
             "panel >= 10 (raw) or harmonized panel >= 10; PPA/NPA are fractions, kappa is Cohen's. "
             "PI cov. = held-out coverage of the 95% prediction interval (panel Poisson + mapping). "
             "Recommended = highest held-out kappa among models with kappa >= raw, PPA >= raw - 0.02 and "
             "RMSE < raw, ties broken by the lower held-out RMSE (none: no model keeps the raw cut's "
             "agreement). The two anchored mappings make the same calls at 10 (same anchor); anchored-log2 "
             "has one slope on each side of the anchor.", "",
             "| panel | Mb | method | rec. | n | RMSE raw | RMSE harm. | PPA raw | PPA harm. | NPA raw | NPA harm. "
             "| kappa raw | kappa harm. | PI cov. | panel cut @10 [95% CI] |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    verdicts, cuts = [], []
    for m in models:
        d = m.data
        v = d["validation"]
        a = v["agreement"]["10"]
        t = d["cut_translations"]["10"]
        cov = d["prediction_interval"]["holdout"]["coverage"]
        lines.append(
            f"| {d['panel']['id']} | {d['panel']['mb']:.3f} | {d['method']} | {'yes' if d['recommended'] else ''} "
            f"| {v['n_samples']} | {fmt(v['rmse_log_raw'])} | {fmt(v['rmse_log_calibrated'])} "
            f"| {fmt(a['raw']['ppa'])} | {fmt(a['calibrated']['ppa'])} | {fmt(a['raw']['npa'])} "
            f"| {fmt(a['calibrated']['npa'])} | {fmt(a['raw']['kappa'])} | {fmt(a['calibrated']['kappa'])} "
            f"| {fmt(cov)} | {fmt(t['panel_cut'], 2)} [{fmt(t['ci_low'], 2)}, {fmt(t['ci_high'], 2)}] |")
        verdicts.append(f"- `{d['id']}`: {d['recommendation']['reason']}.")
        if d["method"] == "isotonic":
            defs = t["definitions"]
            rec = t["recommended_definition"]
            cuts.append(f"| {d['panel']['id']} | " + " | ".join(
                f"{fmt(defs[k]['panel_cut'], 2)} ({fmt(defs[k]['holdout']['ppa'], 2)}/{fmt(defs[k]['holdout']['kappa'], 2)})"
                for k in DEF_ORDER) + f" | {rec['definition']} |")
    lines += ["", "## Panel cut equivalent to exome 10 mut/Mb, by definition", "",
              "Cut (held-out PPA / kappa: each cohort called with the cut learnt without it). The recommended "
              "definition has the highest held-out kappa among cuts keeping PPA >= raw - 0.02 and kappa >= raw.", "",
              "| panel | " + " | ".join(DEF_ORDER) + " | recommended |",
              "|---|" + "---|" * (len(DEF_ORDER) + 1), *cuts,
              "", "## Recommendation per model", "", *verdicts, ""]
    return "\n".join(lines)


DEF_ORDER = ("raw", "deming", "median_ratio", "kappa_optimal", "agreement_preserving", "prevalence_matched",
             "fitted_mean_inverse")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(REPO / "calibration"))
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--table", default=None, help="also keep the simulated table here (PREFIX)")
    ap.add_argument("--plots", default=None, help="write one PNG per model into this folder")
    args = ap.parse_args()
    t0 = time.time()
    shared = Path(args.shared)
    mafs = training_mafs(shared)
    ref = load_panel(REFERENCE_PANEL)
    if ref.bed_path("GRCh37") is None:  # not redistributable: point the registry at the staged copy
        os.environ[ref.bed_env_var("GRCh37")] = str(shared / EXOME_BED)
    panels = calibration_panels()
    hotspots = shared / "popfreq_hotspots/maftools/cancerhotspots_v2_GRCh37.tsv"
    ref_regions = reference_footprint(ref, shared / EXONS)
    tsg_bed = tumor_suppressor_bed(shared)
    sim = calibrate_simulate([str(m) for m in mafs], panels, reference_profile=REFERENCE_PROFILE,
                             reference_regions=ref_regions, hotspots=str(hotspots), tumor_suppressor_bed=tsg_bed,
                             reference_label=f"panel {ref.id} {ref.version} (GRCh37) ∩ exons of {EXONS}")
    kit = ref.bed_path("GRCh37")
    sim.reference.update({"panel": ref.id, "bed": {"name": kit.name, "sha256": sha256_file(kit)},
                          "exons": {"name": Path(EXONS).name, "sha256": sha256_file(shared / EXONS)}})
    table, dropped = dedupe_patients(sim.table)
    print(f"simulated {len(table)} rows in {time.time() - t0:.1f} s ({dropped} duplicate-patient rows dropped)",
          file=sys.stderr)
    prov = build_provenance("scripts/fit_calibration.py (calibrate simulate)",
                            {"reference_profile": REFERENCE_PROFILE, "reference_panel": REFERENCE_PANEL,
                             "panels": [p.id for p in panels], "missing_fields": "relax",
                             "dedupe": "TCGA patient (barcode[:12]) kept in its first cohort"},
                            {"maf": [str(m) for m in mafs], "hotspots": str(hotspots),
                             "tumor_suppressors": str(shared / TSG_LIST),
                             "exons": str(shared / EXONS)},
                            reference=sim.reference, panels=sim.panels, relaxed_rules=sim.relaxed_rules)
    for volatile in ("created_utc", "command_line"):  # keep the table text (its sha256 is in every model) stable
        prov.pop(volatile, None)
    text = format_simulated(table, prov)
    sha = hashlib.sha256(text.encode()).hexdigest()
    if args.table:
        with OutputSet(args.table) as outs:
            with outs.open(".simulated.tsv.gz") as fh:
                fh.write(text)
    opts = FitOptions(bootstrap=args.bootstrap, seed=args.seed, holdout="cohort", reference_cuts=(10.0, 20.0),
                      version=MODEL_VERSION, timestamp=False)
    res = calibrate_fit(table, prov, options=opts, table_name="fit_calibration.simulated.tsv.gz (not stored; "
                        "sha256 of its uncompressed text)", table_sha256=sha)
    ref_rows = table[table["panel"] == sim.reference["name"]]
    info = {"n_tumours": len(ref_rows), "n_cohorts": ref_rows["cohort"].nunique(),
            "dropped": dropped // (len(panels) + 1), "reference": sim.reference["name"],
            "reference_mb": sim.reference["mb"]}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with OutputSet(str(out), folder=True) as outs:
        for m in res.models:
            m.data["provenance"] = {"tool": "tmbcalc", "command": "scripts/fit_calibration.py",
                                    "parameters": {"bootstrap": args.bootstrap, "seed": args.seed,
                                                   "holdout": "leave-one-cohort-out",
                                                   "reference_cuts": [10.0, 20.0]}}
            outs.write_text(f"{m.id}.json", m.to_json())
        outs.write_text("VALIDATION.md", validation_markdown(res.models, info))
        if args.plots:
            from tmbcalc.calibrate.plots import plot_model

            for m in res.models:
                plot_model(m, paired(table, m.panel_id, m.reference), Path(args.plots) / f"{m.id}.png")
    print(f"wrote {len(res.models)} models to {out} in {time.time() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
