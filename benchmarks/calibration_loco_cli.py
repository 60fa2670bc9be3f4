#!/usr/bin/env python3
"""Leave-one-cohort-out check of harmonized TMB THROUGH THE COMMAND A LAB RUNS.

For every staged TCGA training cohort C and every panel P with a shipped v2 model:

1. simulate panel/reference TMB for all cohorts exactly as ``scripts/fit_calibration.py`` does;
2. fit P's recommended method (as shipped) on every cohort but C (no bootstrap; grouped 5-fold
   hold-out inside the training cohorts for the prediction interval and the recommendation);
3. run ``tmbcalc tmb C.maf --panel P --callable-bed EXOME.bed --calibrate-to exome-wes-merino
   --calibration-model LOCO.json --missing-fields relax`` (plus ``--exclude-hotspots`` /
   ``--tumor-suppressor-bed`` when P's profile excludes known drivers) and read PREFIX.tmb.json.
   EXOME.bed is the reference footprint (exome kit ∩ exons): the bases the exome calls of the MAF
   interrogated, so the panel value is measured where the data can see, as a lab passes the
   callable part of its panel.  (``--callable none`` divides by the whole TMB region instead: an
   exome MAF has no calls in the part of the panel outside the exome, so that value is diluted by
   the uncovered fraction, ~12% for GOAL-497.)  The raw values then equal the simulated training
   values of the same tumours; the largest difference is printed.  A MAF lacking a rule's data (no FILTER, read or
   normal counts) has that rule switched off, as ``calibrate simulate`` did for its training rows,
   and ``--calibrate-to`` accepts it only if a training cohort had the same rules switched off;
4. compare raw (``tmb``) and harmonized (``harmonized.value``) calls at 10 mut/Mb with the exome
   reference TMB of the same tumour: PPA, NPA, kappa, RMSE on ln(1 + TMB), prediction-interval
   coverage.

Cohorts refused by ``tmb`` (one-line error; with ``--missing-fields error`` every MAF lacking a
rule's data) are listed, not counted.  Writes a Markdown table to stdout (and ``--out FILE``); the
per-tumour values go to ``--tumours FILE`` (TSV) for residual analyses.

    python benchmarks/calibration_loco_cli.py [--panels f1cdx,...] [--cohorts A,B] [--out loco.md]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import fit_calibration as fc  # noqa: E402

from tmbcalc.calibrate import FitOptions, calibrate_simulate  # noqa: E402
from tmbcalc.calibrate.agreement_stats import agreement, rmse_log  # noqa: E402
from tmbcalc.calibrate.fit import calibrate_fit  # noqa: E402
from tmbcalc.calibrate.models import find_model  # noqa: E402
from tmbcalc.calibrate.simulate import excludes_hotspots  # noqa: E402
from tmbcalc.panels import load_panel  # noqa: E402
from tmbcalc.tmb.profiles import load_profile  # noqa: E402

REF = "exome-wes-merino"


def simulate(shared: Path):
    mafs = fc.training_mafs(shared)
    ref = load_panel(fc.REFERENCE_PANEL)
    if ref.bed_path("GRCh37") is None:
        os.environ[ref.bed_env_var("GRCh37")] = str(shared / fc.EXOME_BED)
    panels = fc.calibration_panels()
    hotspots = shared / "popfreq_hotspots/maftools/cancerhotspots_v2_GRCh37.tsv"
    tsg = fc.tumor_suppressor_bed(shared)
    sim = calibrate_simulate([str(m) for m in mafs], panels, reference_profile=fc.REFERENCE_PROFILE,
                             reference_regions=fc.reference_footprint(ref, shared / fc.EXONS), hotspots=str(hotspots),
                             tumor_suppressor_bed=tsg)
    table, _ = fc.dedupe_patients(sim.table)
    prov = {"reference": sim.reference, "panels": sim.panels, "relaxed_rules": sim.relaxed_rules}
    return mafs, table, prov, (hotspots, tsg), fc.reference_footprint(ref, shared / fc.EXONS)


def write_reference_bed(regions, path: Path) -> Path:
    """The reference footprint as a BED (0-based half-open), for ``tmb --callable-bed``."""
    with open(path, "w") as out:
        for contig, (starts, ends) in regions.by_contig.items():
            out.writelines(f"{contig}\t{a}\t{b}\n" for a, b in zip(starts.tolist(), ends.tolist()))
    return path


def run_cohort(maf: Path, cohort: str, pid: str, model_path: Path, lists: tuple[Path, Path], tmp: Path,
               missing_fields: str = "relax", callable_bed: Path | None = None) -> dict | str:
    prefix = tmp / f"{cohort}.{pid}"
    cmd = ["tmbcalc", "tmb", str(maf), "--panel", pid, "--calibrate-to", REF, "--calibration-model",
           str(model_path), "-o", str(prefix), "--quiet", "--missing-fields", missing_fields]
    if callable_bed is not None:
        cmd += ["--callable-bed", str(callable_bed)]
    prof = load_profile(load_panel(pid).profile)
    if excludes_hotspots(prof):
        cmd += ["--exclude-hotspots", str(lists[0])]
    if prof.tsg_truncating == "required":
        cmd += ["--tumor-suppressor-bed", str(lists[1])]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
    doc = json.loads((prefix.parent / (prefix.name + ".tmb.json")).read_text())
    return {s["sample"]: s for s in doc["samples"]}


def loco_one(pid: str, method: str, cohort: str, maf: Path, table, prov, lists, tmp: Path,
             missing_fields: str, callable_bed: Path | None) -> list[dict] | str:
    """Fit ``pid`` without ``cohort``, run ``tmb --calibrate-to`` on the cohort's MAF; per-tumour rows."""
    train = table[table["cohort"] != cohort]
    opts = FitOptions(methods=(method,), bootstrap=0, holdout="kfold", folds=5, reference_cuts=(10.0,),
                      version=99, timestamp=False, cut_definitions=False)
    m = calibrate_fit(train, prov, panels=[pid], options=opts).models[0]
    path = tmp / f"{m.id}.{cohort}.json"
    path.write_text(m.to_json())
    got = run_cohort(maf, cohort, pid, path, lists, tmp, missing_fields, callable_bed)
    if isinstance(got, str):
        return got
    ref = table[(table["cohort"] == cohort) & (table["panel"] == REF)].set_index("sample")["tmb"]
    sim = table[(table["cohort"] == cohort) & (table["panel"] == pid)].set_index("sample")["tmb"]
    return [{"panel": pid, "cohort": cohort, "sample": sample, "reference": float(ref[sample]),
             "simulated": float(sim[sample]), "raw": s["tmb"],
             "harmonized": s["harmonized"]["value"], "pi_low": s["harmonized"]["pi_low"],
             "pi_high": s["harmonized"]["pi_high"]} for sample, s in got.items() if sample in ref.index]


def summary_row(pid: str, method: str, n_cohorts: int, rows: list[dict]) -> list[str]:
    y = np.array([r["reference"] for r in rows])
    x = np.array([r["raw"] for r in rows])
    z = np.array([r["harmonized"] for r in rows])
    lo = np.array([r["pi_low"] for r in rows])
    hi = np.array([r["pi_high"] for r in rows])
    ar, ah = agreement(y >= 10, x >= 10), agreement(y >= 10, z >= 10)
    ok = (ah.kappa >= ar.kappa) and (ah.ppa >= ar.ppa - 0.02) and (rmse_log(z, y) < rmse_log(x, y))
    gap = max(abs(r["raw"] - r["simulated"]) for r in rows)
    return [pid, method, str(n_cohorts), str(y.size), f"{gap:.2g}", f"{ar.ppa:.3f}", f"{ah.ppa:.3f}", f"{ar.npa:.3f}",
            f"{ah.npa:.3f}", f"{ar.kappa:.3f}", f"{ah.kappa:.3f}", f"{rmse_log(x, y):.3f}", f"{rmse_log(z, y):.3f}",
            f"{np.mean((y >= lo - 1e-9) & (y <= hi + 1e-9)):.3f}", "yes" if ok else "NO"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--panels", default=None, help="comma-separated panel ids (default: every calibrated panel)")
    ap.add_argument("--cohorts", default=None, help="comma-separated cohorts to hold out (default: all)")
    ap.add_argument("--method", default=None, help="method to refit (default: the shipped recommended one)")
    ap.add_argument("--missing-fields", choices=("relax", "error"), default="relax",
                    help="passed to 'tmbcalc tmb' (error: MAFs lacking a rule's data are refused, as before)")
    ap.add_argument("--callable", choices=("reference", "none"), default="reference",
                    help="reference: --callable-bed = the exome reference footprint (the bases the MAF's calls "
                         "interrogated; default); none: divide by the whole panel TMB region")
    ap.add_argument("--jobs", type=int, default=1, help="(panel, cohort) runs in parallel (default 1)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--tumours", type=Path, default=None, help="per-tumour values (TSV)")
    a = ap.parse_args()
    t0 = time.time()
    mafs, table, prov, hotspots, ref_regions = simulate(a.shared)
    panels = a.panels.split(",") if a.panels else [p.id for p in fc.calibration_panels()]
    cohorts = {fc_cohort(m): m for m in mafs}
    if a.cohorts:
        cohorts = {c: cohorts[c] for c in a.cohorts.split(",")}
    methods = {pid: a.method or find_model(pid, REF).method for pid in panels}
    rows, refused, per_tumour = [], {}, []
    from concurrent.futures import ThreadPoolExecutor

    with tempfile.TemporaryDirectory(prefix="tmbcalc-loco-") as td, ThreadPoolExecutor(a.jobs) as pool:
        tmp = Path(td)
        bed = write_reference_bed(ref_regions, tmp / "reference_footprint.bed") if a.callable == "reference" else None
        jobs = {(pid, c): pool.submit(loco_one, pid, methods[pid], c, maf, table, prov, hotspots, tmp,
                                      a.missing_fields, bed) for pid in panels for c, maf in cohorts.items()}
        for pid in panels:
            got = []
            for c in cohorts:
                r = jobs[(pid, c)].result()
                if isinstance(r, str):
                    refused.setdefault(pid, []).append((c, r))
                else:
                    got += r
            per_tumour += got
            rows.append(summary_row(pid, methods[pid], len(cohorts) - len(refused.get(pid, [])), got))
            print(f"{pid}: done ({time.time() - t0:.0f} s)", file=sys.stderr)
    head = ["panel", "method", "cohorts run", "tumours", "max abs(raw - simulated)", "PPA raw", "PPA harm.", "NPA raw", "NPA harm.",
            "kappa raw", "kappa harm.", "RMSE raw", "RMSE harm.", "PI95 coverage", "criteria met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
    if refused:
        lines += ["", "Refused by `tmbcalc tmb` (the panel value cannot be computed on the model's definition):", ""]
    for pid, lst in refused.items():
        lines.append(f"- {pid}: " + "; ".join(f"{c}" for c, _ in lst) + f" (e.g. `{lst[0][1][:160]}`)")
    lines.append(f"\nRun time: {time.time() - t0:.0f} s (tmb --missing-fields {a.missing_fields}, "
                 f"--callable {a.callable}).")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        a.out.write_text(text)
    if a.tumours:
        import pandas as pd

        pd.DataFrame(per_tumour).to_csv(a.tumours, sep="\t", index=False)
    return 0


def fc_cohort(path: Path) -> str:
    from tmbcalc.calibrate.simulate import cohort_from_filename

    return cohort_from_filename(path)


if __name__ == "__main__":
    sys.exit(main())
