"""``tmbcalc calibrate``: cross-panel TMB calibration (simulate, fit, translate, apply, uncertainty, plot)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from ..checks import check_number, number_arg
from ..calibrate.outputs import cell
from ..output import OutputSet

NAME = "calibrate"
HELP = "cross-panel TMB calibration: simulate panels from exomes, fit, translate cut points, apply"
# API parameter -> option dest, for error messages (cli.in_option_names)
API_NAMES = {"reference_cut": "cutpoints", "cuts": "cutpoints", "hotspots": "exclude_hotspots",
             "folds": "holdout_folds", "input_path": "input", "min_alt_reads": "min_alt",
             "max_normal_alt_reads": "max_normal_alt"}


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _one_cut(text: str) -> float:
    cuts = _floats(text, "--cutpoints")
    if len(cuts) != 1:
        raise UsageError(f"--cutpoints: this command takes one cut point, got {text!r}")
    return cuts[0]


def _floats(text: str, what: str) -> list[float]:
    try:
        vals = [float(t) for t in _csv(text)]
    except ValueError:
        raise UsageError(f"{what}: expected comma-separated numbers, got {text!r}") from None
    if not vals:
        raise UsageError(f"{what}: empty list")
    return [check_number(v, what) for v in vals]


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="calibrate_command", metavar="SUBCOMMAND", parser_class=type(parser))
    _register_simulate(sub)
    _register_fit(sub)
    _register_others(sub)


def _register_simulate(sub) -> None:
    p = sub.add_parser("simulate", help="exome and in-silico panel TMB per tumour from exome MAFs")
    p.add_argument("--maf", nargs="+", required=True, metavar="FILE", help="exome MAF(s), one cohort per file")
    p.add_argument("--panels", required=True, help="comma-separated panel ids")
    p.add_argument("--reference-profile", default="wes-merino", help="counting profile of the reference TMB")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--reference-panel", default=None, help="registry panel giving the exome footprint "
                   "(default exome-sureselect-v4-grch37)")
    g.add_argument("--reference-bed", default=None, help="exome footprint BED instead of a registry panel")
    p.add_argument("--reference-panel-bed", default=None, metavar="BED",
                   help="BED of the reference panel when it is not shipped (checked against its sha256)")
    p.add_argument("--reference-restrict", default=None, metavar="BED",
                   help="intersect the reference footprint with this BED (e.g. exons, as the shipped models do)")
    p.add_argument("--reference-mb", type=number_arg(lo=0.0, lo_open=True), default=None,
                   help="reference TMB denominator in Mb (default: the footprint's merged size)")
    p.add_argument("--reference-name", default=None, help="name of the reference (default exome-PROFILE with --reference-restrict, "
                   "exome-PROFILE-kit for a whole capture-kit footprint)")
    p.add_argument("--cohort-name-from", choices=["filename"], default="filename",
                   help="cohort label source (file name without extensions)")
    p.add_argument("--cohorts", default=None, help="comma-separated cohort names, one per MAF (overrides file names)")
    p.add_argument("--exclude-hotspots", default=None, metavar="FILE",
                   help="hotspot list for profiles that exclude hotspots (e.g. cancerhotspots v2)")
    p.add_argument("--tumor-suppressor-bed", default=None, metavar="BED",
                   help="coding regions of tumor-suppressor genes: truncations there are excluded for profiles "
                        "that ask for it (f1cdx-like)")
    p.add_argument("--missing-fields", choices=["relax", "error"], default="relax",
                   help="a rule whose data a whole MAF lacks: switch it off for that file (relax) or refuse")
    p.add_argument("--build", default="GRCh37", choices=["GRCh37", "GRCh38"], help="genome build of the MAFs")
    p.add_argument("--panels-dir", action="append", default=None, help="extra panel definition folder")
    p.add_argument("-o", "--output", required=True, metavar="PREFIX", help="writes PREFIX.simulated.tsv.gz")
    p.set_defaults(func=run_simulate, output_suffixes=(".simulated.tsv.gz",))


def _register_fit(sub) -> None:
    p = sub.add_parser("fit", help="fit panel -> reference models (bootstrap CIs, cohort hold-out)")
    p.add_argument("--table", required=True, help="PREFIX.simulated.tsv.gz from 'calibrate simulate'")
    p.add_argument("--panels", default=None, help="comma-separated panel ids (default: all in the table)")
    p.add_argument("--reference", default=None, help="reference name (default: from the table)")
    p.add_argument("--methods", default="ols,deming,huber-log,isotonic,anchored-log,anchored-log2", help="comma-separated methods")
    p.add_argument("--bootstrap", type=number_arg(integer=True, lo=0), default=1000, help="bootstrap replicates (default 1000)")
    p.add_argument("--seed", type=number_arg(integer=True, lo=0), default=1, help="random seed (default 1)")
    h = p.add_mutually_exclusive_group()
    h.add_argument("--holdout-cohorts", action="store_true", help="leave-one-cohort-out validation (default)")
    h.add_argument("--holdout-folds", type=number_arg(integer=True, lo=2), default=None, metavar="K", help="grouped K-fold over cohorts")
    h.add_argument("--no-holdout", action="store_true", help="skip hold-out validation")
    p.add_argument("--cutpoints", "--reference-cuts", dest="cutpoints", default="10", metavar="C1,C2",
                   help="cut points on the reference scale (mut/Mb), e.g. 10,16; the first anchors anchored-log and "
                        "the recommendation (--reference-cuts is an old spelling)")
    p.add_argument("--deming-delta", type=number_arg(lo=0.0, lo_open=True), default=None,
                   help="Deming error-variance ratio var(ref error)/var(panel error) (default L_panel/L_reference)")
    p.add_argument("--model-version", type=number_arg(integer=True, lo=0), default=1, help="version number in model ids (default 1)")
    p.add_argument("--plots", default=None, metavar="DIR", help="also write one PNG per model into DIR")
    p.add_argument("-o", "--out-dir", required=True, metavar="DIR",
                   help="folder for <model-id>.json files and fit_summary.tsv")
    p.set_defaults(func=run_fit)


def _register_others(sub) -> None:
    p = sub.add_parser("translate", help="panel cut point equivalent to a reference cut, with CI and agreement")
    p.add_argument("--model", required=True, help="model id (bundled) or path to a model JSON")
    p.add_argument("--cutpoints", "--reference-cut", dest="cutpoints", default="10", metavar="C",
                   help="cut point on the reference scale (mut/Mb), default 10 (--reference-cut is an old spelling)")
    p.add_argument("--table", default=None, help="simulation table for agreement at this cut")
    p.add_argument("--alpha", type=number_arg(lo=0.0, hi=1.0, lo_open=True, hi_open=True), default=0.05, help="equivocal-zone level (default 0.05)")
    p.add_argument("-o", "--output", default=None, metavar="PREFIX", help="writes PREFIX.translate.json")
    p.set_defaults(func=run_translate, output_suffixes=(".translate.json",))

    p = sub.add_parser("apply", help="harmonize panel TMB values with a model")
    p.add_argument("--model", required=True, help="model id (bundled) or path to a model JSON")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", help="PREFIX.tmb.json or a TSV with 'sample' and 'tmb' columns")
    src.add_argument("--values", help="comma-separated panel TMB values (mut/Mb)")
    p.add_argument("--allow-panel-mismatch", action="store_true",
                   help="apply even if the input names another panel than the model's")
    p.add_argument("-o", "--output", required=True, metavar="PREFIX",
                   help="writes PREFIX.calibrated.tsv and PREFIX.calibrated.json")
    p.set_defaults(func=run_apply, output_suffixes=(".calibrated.tsv", ".calibrated.json"))

    p = sub.add_parser("uncertainty", help="Poisson probability of a TMB-high call and equivocal zones")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--panels", help="comma-separated panel ids (declared TMB Mb, else footprint Mb)")
    g.add_argument("--mb", help="comma-separated footprint sizes in Mb")
    p.add_argument("--cutpoints", "--cut", dest="cutpoints", default="10", metavar="C1,C2",
                   help="cut point(s) in mut/Mb, comma-separated (default 10; --cut is an old spelling)")
    p.add_argument("--alpha", type=number_arg(lo=0.0, hi=1.0, lo_open=True, hi_open=True), default=0.05, help="equivocal zone: P(high) in [alpha/2, 1-alpha/2]")
    p.add_argument("--panels-dir", action="append", default=None, help="extra panel definition folder")
    p.add_argument("-o", "--output", default=None, metavar="PREFIX", help="writes PREFIX.uncertainty.tsv")
    p.set_defaults(func=run_uncertainty, output_suffixes=(".uncertainty.tsv",))

    p = sub.add_parser("plot", help="scatter with fit/band/cuts and Bland-Altman for a model")
    p.add_argument("--model", required=True, help="model id or path")
    p.add_argument("--table", required=True, help="simulation table")
    p.add_argument("--cutpoints", "--reference-cut", dest="cutpoints", default="10", metavar="C",
                   help="cut point on the reference scale (mut/Mb), default 10")
    p.add_argument("-o", "--output", required=True, metavar="PREFIX", help="writes PREFIX.png")
    p.set_defaults(func=run_plot, output_suffixes=(".png",))

    p = sub.add_parser("models", help="list the bundled calibration models")
    p.set_defaults(func=run_models)


def run(args: argparse.Namespace) -> int:  # pragma: no cover - argparse dispatches to subcommands
    raise UsageError("give a subcommand: simulate, fit, translate, apply, uncertainty, plot, models")


# -- simulate ------------------------------------------------------------------------------------
def _parameters(args: argparse.Namespace, *skip: str) -> dict[str, Any]:
    """The options a result's provenance records: every parsed argument but the dispatch ones."""
    return {k: v for k, v in vars(args).items() if k not in ("func", "calibrate_command", *skip)}


def run_simulate(args: argparse.Namespace) -> int:
    from ..calibrate import calibrate_simulate

    panel_ids = _csv(args.panels)
    if not panel_ids:
        raise UsageError("--panels: give at least one panel id")
    res = calibrate_simulate([str(Path(m)) for m in args.maf], panel_ids, reference_profile=args.reference_profile,
                             reference_panel=args.reference_panel, reference_bed=args.reference_bed,
                             reference_mb=args.reference_mb, reference_name=args.reference_name,
                             cohorts=_csv(args.cohorts) if args.cohorts else None, hotspots=args.exclude_hotspots,
                             missing_fields=args.missing_fields, build=args.build,
                             reference_panel_bed=args.reference_panel_bed, reference_restrict=args.reference_restrict,
                             tumor_suppressor_bed=args.tumor_suppressor_bed, panels_dir=args.panels_dir,
                             parameters=_parameters(args, "maf"))
    res.write(args.output)
    print(f"{res.n_tumours} tumours x {len(panel_ids)} panels -> {args.output}.simulated.tsv.gz", file=sys.stderr)
    return 0


# -- fit -------------------------------------------------------------------------------------------
def run_fit(args: argparse.Namespace) -> int:
    from ..calibrate import FitOptions, calibrate_fit

    OutputSet(args.out_dir, folder=True)  # refuses a file in the way before the work; folders made on publishing
    if args.plots:
        OutputSet(args.plots, folder=True)
    holdout = "none" if args.no_holdout else ("kfold" if args.holdout_folds else "cohort")
    opts = FitOptions(methods=tuple(_csv(args.methods)), bootstrap=args.bootstrap, seed=args.seed,
                      holdout=holdout, folds=args.holdout_folds or 5,
                      reference_cuts=tuple(_floats(args.cutpoints, "--cutpoints")),
                      deming_delta=args.deming_delta, version=args.model_version)
    res = calibrate_fit(args.table, panels=_csv(args.panels) if args.panels else None, reference=args.reference,
                        options=opts, parameters=_parameters(args))
    res.write(args.out_dir, plots=args.plots)
    _print_summary(res.validation)
    return 0


def _print_summary(rows: list[dict[str, Any]]) -> None:
    print("model\trmse_log_raw\trmse_log_calibrated\trecommended")
    for r in rows:
        print(f"{r['model']}\t{cell(r['rmse_log_raw'])}\t{cell(r['rmse_log_calibrated'])}\t{cell(r['recommended'])}")


# -- translate ------------------------------------------------------------------------------------
def run_translate(args: argparse.Namespace) -> int:
    from ..calibrate import calibrate_translate

    res = calibrate_translate(args.model, _one_cut(args.cutpoints), table=args.table, alpha=args.alpha,
                              parameters=_parameters(args))
    _print_translation(res)
    if args.output:
        res.write(args.output)
    return 0


def _print_translation(res) -> None:
    d = res.to_dict()
    print(f"model\t{res.model}")
    print(f"reference_cut\t{res.reference_cut:g}")
    print(f"panel_cut\t{cell(res.panel_cut)}\tci95\t{cell(res.ci_low)}-{cell(res.ci_high)}")
    for label, key in (("training", "agreement_training"), ("holdout", "agreement_holdout"),
                       ("raw_cut", "agreement_raw_cut")):
        a = d.get(key)
        if a:
            print(f"agreement_{label}\tPPA {cell(a['ppa'])}\tNPA {cell(a['npa'])}\tOPA {cell(a['opa'])}"
                  f"\tkappa {cell(a['kappa'])}\tn {a['n']}")
    for label, key in (("panel", "equivocal_panel"), ("reference", "equivocal_reference")):
        z = d.get(key)
        if z:
            print(f"equivocal_{label}\t{z['low']:.4g}-{z['high']:.4g} mut/Mb (cut {z['cut']:.4g}, {z['mb']:.4g} Mb, "
                  f"k_min {z['k_min']})")
    if res.equivocal_panel_values and res.equivocal_panel_values.get("low") is not None:
        z = res.equivocal_panel_values
        print(f"equivocal_panel_values\t{z['low']:.4g}-{z['high']:.4g} mut/Mb (P(true TMB >= {z['cut']:.4g}) in "
              f"0.10-0.90 on {z['mb']:.4g} Mb)")
    for name, r in (res.definitions or {}).items():
        h = r["holdout"]
        print(f"definition\t{name}\tpanel_cut {cell(r['panel_cut'])}\tholdout PPA {cell(h['ppa'])}\t"
              f"NPA {cell(h['npa'])}\tkappa {cell(h['kappa'])}")
    if res.recommended_definition:
        r = res.recommended_definition
        print(f"recommended_definition\t{r['definition']}\tpanel_cut {cell(r['panel_cut'])}\t{r['reason']}")
    for n in res.notes:
        print(f"note\t{n}")


# -- apply ------------------------------------------------------------------------------------------
def run_apply(args: argparse.Namespace) -> int:
    from ..calibrate import calibrate_apply

    values = None if args.input else _floats(args.values, "--values")
    res = calibrate_apply(args.model, values, input_path=args.input, allow_panel_mismatch=args.allow_panel_mismatch,
                          parameters=_parameters(args))
    res.write(args.output)
    sys.stdout.write(res.table_text())
    return 0


# -- uncertainty -------------------------------------------------------------------------------------
def run_uncertainty(args: argparse.Namespace) -> int:
    from ..calibrate import calibrate_uncertainty

    cuts = _floats(args.cutpoints, "--cutpoints")
    if any(c <= 0 for c in cuts):
        raise UsageError("--cutpoints values must be > 0")
    mb = None
    if not args.panels:
        mb = _floats(args.mb, "--mb")
        if any(v <= 0 for v in mb):
            raise UsageError("--mb values must be > 0")
    res = calibrate_uncertainty(_csv(args.panels) if args.panels else None, mb=mb, cuts=cuts, alpha=args.alpha,
                                panels_dir=args.panels_dir, parameters=_parameters(args))
    if args.output:
        res.write(args.output)
    sys.stdout.write(res.table_text())
    return 0


# -- plot / models ---------------------------------------------------------------------------------------
def run_plot(args: argparse.Namespace) -> int:
    from ..calibrate import load_model, read_simulated
    from ..calibrate.plots import plot_model
    from ..calibrate.table import paired

    model = load_model(args.model)
    df, _ = read_simulated(args.table)
    pairs = paired(df, model.panel_id, model.reference)
    if pairs.empty:
        raise InputError(f"no rows pair panel '{model.panel_id}' with reference '{model.reference}'", args.table)
    with OutputSet(args.output) as outs:
        outs.write_with(".png", lambda p: plot_model(model, pairs, p, reference_cut=_one_cut(args.cutpoints)))
    return 0


def run_models(args: argparse.Namespace) -> int:
    from ..calibrate import list_models

    print("id\tpanel\treference\tmethod\tversion\tstatus\trecommended\trmse_log_raw\trmse_log_calibrated")
    for m in list_models():
        print("\t".join(cell(m[k]) for k in ("id", "panel", "reference", "method", "version", "status",
                                              "recommended", "rmse_log_raw", "rmse_log_calibrated")))
    return 0
