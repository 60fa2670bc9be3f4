"""``tmbcalc tmb --calibrate-to REF``: harmonized TMB beside the raw value.

Plugs into the extension hooks of :mod:`tmbcalc.commands.tmb` (``EXTRA_REGISTRARS`` /
``EXTRA_HANDLERS``).  The handler runs after the TMB result is computed and before it is
written; it puts a ``calibration`` block into the result's provenance, which ``PREFIX.tmb.json``
carries::

    "calibration": {"reference": REF, "model": ID, "method": ..., "samples": [
        {"sample", "tmb", "tmb_calibrated", "ci95_low", "ci95_high", "extrapolated"}]}
"""
from __future__ import annotations

import argparse
from typing import Any

from ..errors import UsageError


def register_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("calibration")
    g.add_argument("--calibrate-to", metavar="REF", default=None,
                   help="also report TMB harmonized to reference REF (e.g. exome-wes-merino) with the bundled "
                        "model for --panel (see 'tmbcalc calibrate models')")
    g.add_argument("--calibration-method", default=None, choices=("ols", "deming", "huber-log", "isotonic"),
                   help="calibration method (default: the panel's recommended model)")
    g.add_argument("--calibration-model", default=None, metavar="ID|PATH",
                   help="use this calibration model instead of looking one up")


def handle(args: argparse.Namespace, result: Any) -> None:
    ref = getattr(args, "calibrate_to", None)
    path = getattr(args, "calibration_model", None)
    if not ref and not path:
        return
    from .apply import apply_model
    from .models import find_model, load_model

    if path:
        model = load_model(path)
        if ref and model.reference != ref:
            raise UsageError(f"--calibration-model '{model.id}' maps to '{model.reference}', not '{ref}'")
    else:
        if not getattr(args, "panel", None):
            raise UsageError("--calibrate-to needs --panel ID: calibration models are specific to a panel")
        model = find_model(args.panel, ref, getattr(args, "calibration_method", None))
    if getattr(args, "panel", None) and model.panel_id != args.panel:
        raise UsageError(f"calibration model '{model.id}' is for panel '{model.panel_id}', not '{args.panel}'")
    h = apply_model(model, [s.tmb for s in result.samples])
    rows = []
    for i, s in enumerate(result.samples):
        rows.append({"sample": s.sample, "tmb": s.tmb, "tmb_calibrated": round(float(h.calibrated[i]), 4),
                     "ci95_low": round(float(h.ci_low[i]), 4), "ci95_high": round(float(h.ci_high[i]), 4),
                     "extrapolated": bool(h.extrapolated[i])})
    result.provenance["calibration"] = {"reference": model.reference, "model": model.id, "method": model.method,
                                        "model_file": model.path, "samples": rows}


def install() -> None:
    """Add the option and handler to ``tmbcalc tmb`` (idempotent)."""
    from ..commands import tmb

    if register_options not in tmb.EXTRA_REGISTRARS:
        tmb.EXTRA_REGISTRARS.append(register_options)
    if handle not in tmb.EXTRA_HANDLERS:
        tmb.EXTRA_HANDLERS.append(handle)


__all__ = ["register_options", "handle", "install"]
