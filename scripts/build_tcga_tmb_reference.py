#!/usr/bin/env python3
"""Regenerate ``tmbcalc/report/data/tcga_exome_tmb.json``: exome TMB per TCGA tumour type.

The HTML report (``tmbcalc report``) places a sample's TMB against the TCGA distribution of its
tumour type.  This script computes that distribution with tmbcalc's own API, on exactly the
reference scale of the shipped calibration models (``exome-wes-merino``), so a harmonized TMB
and the distribution are in the same unit:

* cohorts: the calibration training set of ``scripts/fit_calibration.py`` (TCGA MC3, Broad
  Firehose and SomaticCancerAlterations exome MAFs staged in ../shared/data/somatic), one cohort
  per tumour type, each TCGA patient kept once (first cohort it appears in);
* TMB per tumour = ``calibrate_simulate`` reference TMB: eligible mutations under the
  ``wes-merino`` profile (rules whose input column a cohort lacks are relaxed, as recorded in the
  output) inside the exonic part of the SureSelect V4 exome (kit ∩ ExomeDepth hg19 exons,
  28.07 Mb), divided by that Mb; the cancerhotspots v2 list is passed as scripts/fit_calibration.py
  passes it, and ``calibrate_simulate`` removes hotspots only for a profile whose ``hotspots`` is
  ``required`` (``wes-merino`` says ``optional``: hotspot mutations are counted);
* per tumour type: n, mean, the 0th..100th percentiles (numpy ``linear`` interpolation), and the
  fractions at or above 10 and 20 mut/Mb.

Usage:  python scripts/build_tcga_tmb_reference.py [--shared ../shared/data] [--out PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import numpy as np  # noqa: E402

from fit_calibration import (EXOME_BED, EXONS, REFERENCE_PANEL, REFERENCE_PROFILE,  # noqa: E402
                             dedupe_patients, reference_footprint, training_mafs)
from tmbcalc.calibrate import calibrate_simulate  # noqa: E402
from tmbcalc.panels import load_panel  # noqa: E402
from tmbcalc.provenance import build_provenance, sha256_file  # noqa: E402

OUT = REPO / "tmbcalc" / "report" / "data" / "tcga_exome_tmb.json"


def tumor_type(cohort: str) -> str:
    """TCGA study code from a cohort label: TCGA_MC3_BLCA_v2020 -> BLCA, SCA_skcm_tcga -> SKCM."""
    m = re.match(r"TCGA_(?:MC3|Firehose)_([A-Z]+)", cohort) or re.match(r"SCA_([a-z]+)_tcga", cohort)
    if not m:
        raise ValueError(f"cannot name the tumour type of cohort {cohort!r}")
    return m.group(1).upper()


def summarise(tmb: np.ndarray) -> dict:
    pct = np.percentile(tmb, np.arange(101), method="linear")
    return {"n": int(tmb.size), "mean": round(float(tmb.mean()), 4),
            "median": round(float(np.median(tmb)), 4),
            "percentiles": [round(float(x), 4) for x in pct],
            "fraction_ge_10": round(float((tmb >= 10).mean()), 4),
            "fraction_ge_20": round(float((tmb >= 20).mean()), 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    t0 = time.time()
    shared = Path(args.shared)
    mafs = training_mafs(shared)
    ref = load_panel(REFERENCE_PANEL)
    if ref.bed_path("GRCh37") is None:
        os.environ[ref.bed_env_var("GRCh37")] = str(shared / EXOME_BED)
    hotspots = shared / "popfreq_hotspots/maftools/cancerhotspots_v2_GRCh37.tsv"
    regions = reference_footprint(ref, shared / EXONS)
    sim = calibrate_simulate([str(m) for m in mafs], [], reference_profile=REFERENCE_PROFILE,
                             reference_regions=regions, hotspots=str(hotspots),
                             reference_label=f"panel {ref.id} {ref.version} (GRCh37) + exons of {EXONS}")
    table, dropped = dedupe_patients(sim.table)
    table = table.assign(tumor_type=[tumor_type(c) for c in table["cohort"]])
    types = {}
    for code, grp in table.groupby("tumor_type", sort=True):
        types[code] = {"cohort": sorted(set(grp["cohort"])), **summarise(grp["tmb"].to_numpy(float))}
    prov = build_provenance("scripts/build_tcga_tmb_reference.py", {
        "reference_profile": REFERENCE_PROFILE, "reference_panel": REFERENCE_PANEL, "missing_fields": "relax",
        "dedupe": "TCGA patient (barcode[:12]) kept in its first cohort", "percentiles": "numpy linear, 0..100"},
        {"maf": [str(m) for m in mafs], "hotspots": str(hotspots), "exons": str(shared / EXONS)})
    prov.pop("command_line", None)
    doc = {"format": "tmbcalc-tcga-tmb-reference", "format_version": 1,
           "scale": "exome-wes-merino", "unit": "mutations per Mb",
           "definition": ("eligible mutations under the wes-merino profile (hotspot mutations counted) inside "
                          "the exonic part of the SureSelect V4 exome (kit intersected with ExomeDepth hg19 exons), "
                          "divided by its Mb; the reference scale of the shipped calibration models"),
           "reference_mb": round(float(sim.reference["mb"]), 6),
           "n_tumours": int(len(table)), "duplicate_patients_dropped": int(dropped),
           "relaxed_rules": sim.relaxed_rules,
           "inputs": [{"name": Path(m).name, "sha256": sha256_file(m)} for m in mafs],
           "tumor_types": types, "pan_cancer": summarise(table["tmb"].to_numpy(float)),
           "provenance": prov}
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(table)} tumours, {len(types)} tumour types in {time.time() - t0:.0f} s -> {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
