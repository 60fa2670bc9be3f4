"""Calibration plots (matplotlib, Agg backend, PNG).

One figure per model with two panels:

* left: panel TMB (x) vs reference TMB (y) per tumour on ``symlog`` axes (linear below 1 mut/Mb),
  the identity line, the fitted calibration curve with its 95% bootstrap band, the reference
  cut (horizontal) and the equivalent panel cut (vertical) with its CI shaded;
* right: Bland-Altman on the ``ln(1 + TMB)`` scale: mean of calibrated and reference vs their
  difference (calibrated - reference), with the mean difference and +-1.96 SD limits.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .models import CalibrationModel


def plot_model(model: CalibrationModel, pairs: pd.DataFrame, path: str | Path, *,
               reference_cut: float = 10.0) -> Path:
    """Write the two-panel figure for ``model`` and its (x, y) pairs to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    x = pairs["x"].to_numpy(float)
    y = pairs["y"].to_numpy(float)
    cal = model.predict(x)
    gx, lo, hi = model.band_arrays()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.8), dpi=100)
    ax.scatter(x, y, s=5, alpha=0.35, color="0.35", linewidths=0, label=f"tumours (n={x.size})")
    top = max(float(x.max()), float(y.max()), reference_cut) * 1.1
    ax.plot([0, top], [0, top], ls=":", color="0.6", lw=1, label="identity")
    ax.fill_between(gx, lo, hi, color="tab:blue", alpha=0.25, lw=0, label="95% bootstrap band")
    grid = np.unique(np.concatenate([gx, [top]]))
    ax.plot(grid, model.predict(grid), color="tab:blue", lw=1.6, label=f"{model.method} fit")
    ax.axhline(reference_cut, color="tab:red", lw=1, ls="--", label=f"reference cut {reference_cut:g}")
    pc = model.inverse(reference_cut)
    if np.isfinite(pc):
        from .translate import translate_cut

        t = translate_cut(model, reference_cut)
        ax.axvline(pc, color="tab:orange", lw=1, ls="--", label=f"panel cut {pc:.3g}")
        if t.ci_low is not None and t.ci_high is not None:
            ax.axvspan(t.ci_low, t.ci_high, color="tab:orange", alpha=0.12, lw=0)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"panel TMB, {model.panel_id} (mut/Mb)")
    ax.set_ylabel(f"reference TMB, {model.reference} (mut/Mb)")
    ax.set_title(model.id, fontsize=8)
    ax.legend(fontsize=7, loc="upper left")

    a, b = np.log1p(cal), np.log1p(y)
    mean, diff = (a + b) / 2, a - b
    md, sd = float(diff.mean()), float(diff.std(ddof=1)) if diff.size > 1 else 0.0
    bx.scatter(mean, diff, s=5, alpha=0.35, color="0.35", linewidths=0)
    bx.axhline(md, color="tab:blue", lw=1.2, label=f"mean {md:+.3f}")
    for s in (-1.96, 1.96):
        bx.axhline(md + s * sd, color="tab:blue", lw=1, ls="--")
    bx.axhline(0, color="0.6", lw=0.8, ls=":")
    bx.set_xlabel("mean of ln(1+calibrated) and ln(1+reference)")
    bx.set_ylabel("ln(1+calibrated) - ln(1+reference)")
    bx.set_title(f"Bland-Altman (limits +-1.96 SD = {1.96 * sd:.3f})", fontsize=9)
    bx.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path = Path(path)
    from .._version import __version__

    fig.savefig(path, format="png", metadata={  # provenance in PNG text chunks
        "Software": f"tmbcalc {__version__}", "Title": model.id,
        "Source": f"model {model.id} ({model.path or 'in memory'}); {x.size} tumours",
        "Comment": f"reference cut {reference_cut:g} mut/Mb; method {model.method}"})
    plt.close(fig)
    return path


__all__ = ["plot_model"]
