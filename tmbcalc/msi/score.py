"""``msi score``: per-locus instability and the sample's MSI score and call.

Paired mode (tumor + matched normal), per locus with >= ``min_coverage`` reads in both:

* core alleles = lengths holding >= ``core_fraction`` of the normal's reads (plus its mode);
  *distant* lengths = lengths >= ``min_shift_units`` repeat units from every core allele;
* excess test (default): one-sided Fisher exact test that the tumor's share of reads at
  distant lengths exceeds the normal's; BH q-values over evaluable loci; unstable when
  q < ``alpha`` and the share difference >= ``min_excess``.  It looks only at new lengths,
  so a 10%-purity clone that moves ~5-10% of reads still counts, while loss of one germline
  allele (LOH) does not;
* chi-square test of the full length distributions (adjacent lengths pooled until expected
  counts >= 5; MSIsensor-like) - reported, and used for the call with ``test="chisq"``;
* MANTIS-style difference = sum |t - n| / 2 of the normalised histograms, with its own mean
  over loci and threshold;
* sample level: Cochran-Mantel-Haenszel one-sided test of the distant-read tables over all
  evaluable loci, and the pooled excess share (sum over loci of tumor distant reads minus
  those expected at the normal's share, over all tumor reads).  A significant pooled excess
  (p < ``aggregate_alpha`` and excess >= ``min_pooled_excess``) calls MSI-H even when few
  single loci reach significance - the low-purity rule.

Tumor-only mode (baseline from normals), per locus with >= ``min_coverage`` tumor reads and
baseline support >= its ``min_support``: distant share vs the *reference* length, z =
(share - mean) / sqrt(sd^2 + mean(1-mean)/reads + 1e-4), one-sided normal p, BH q; unstable
when q < alpha and share - mean >= ``min_excess``.

Score = 100 x unstable / evaluable.  Status: 'indeterminate' with < ``min_evaluable`` evaluable
loci or a score within +/- ``indeterminate_band`` of the cut-off; else 'MSI-H' at or above,
'MSS' below (paired: the low-purity rule can turn MSS/indeterminate into MSI-H).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, UsageError
from . import defaults as D
from .baseline import (MIN_SHIFT_UNITS, Baseline, adjacent_fraction_vs_reference, distant_fraction_vs_reference,
                       read_baseline)
from .loci import LociTable, read_loci
from .profile import REASONS, Profile, profile_bam, profile_many
from .stats import (norm_sf, adjacent_mask, bh_qvalues, chisq_pooled, cmh_greater, core_mask, distant_mask, fisher_greater,
                    total_variation)

DEFAULT_CORE_FRACTION = 0.2
DEFAULT_MIN_EXCESS = 0.02
DEFAULT_AGGREGATE_ALPHA = 1e-6
DEFAULT_MIN_POOLED_EXCESS = 0.01
DEFAULT_MANTIS_THRESHOLD = 0.4
MAX_STUTTER_INFLATION = 25.0


@dataclass
class MsiScore:
    """Result of :func:`msi_score`.  ``loci`` is a per-locus table (dict of numpy columns)."""

    sample: str
    mode: str  # "paired" | "tumor-only"
    msi_score: float | None  # % unstable among evaluable loci (None if none evaluable)
    status: str  # "MSI-H" | "MSS" | "indeterminate"
    evaluable_loci: int
    unstable_loci: int
    cutoff: float
    call_basis: str
    loci: dict[str, np.ndarray]
    summary: dict[str, Any] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)


def paired_tests(tumor: np.ndarray, normal: np.ndarray, unit_len: np.ndarray, *, min_coverage: int,
                 core_fraction: float = DEFAULT_CORE_FRACTION, min_shift_units: int = MIN_SHIFT_UNITS,
                 ) -> dict[str, Any]:
    """Per-locus paired statistics on aligned histograms (rows = loci, same column grid).

    Also returns the sample-wide stutter ratio R (tumor / normal share of reads in the
    adjacent, +/-1 unit, bins over evaluable loci) and the inflation max(1, R)^2 applied to
    the normal's distant share to get the tumor's expected distant share: a library with
    stronger polymerase slippage raises 1-unit stutter by R and 2-unit stutter by ~R^2.
    """
    nt, nn = tumor.sum(axis=1), normal.sum(axis=1)
    evaluable = (nt >= min_coverage) & (nn >= min_coverage)
    core = core_mask(normal, core_fraction)
    far = distant_mask(core, unit_len, min_shift_units)
    adj = adjacent_mask(core, unit_len, min_shift_units)
    xt, xn = (tumor * far).sum(axis=1), (normal * far).sum(axis=1)
    at, an = (tumor * adj).sum(axis=1), (normal * adj).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ft = np.where(nt > 0, xt / np.maximum(nt, 1), np.nan)
        fn = np.where(nn > 0, xn / np.maximum(nn, 1), np.nan)
    ev = evaluable
    ratio = 1.0
    if ev.any() and an[ev].sum() > 0 and nt[ev].sum() > 0:
        ratio = float((at[ev].sum() / nt[ev].sum()) / (an[ev].sum() / nn[ev].sum()))
    inflation = min(max(1.0, ratio) ** 2, MAX_STUTTER_INFLATION)
    expected = np.minimum(1.0, fn * inflation)
    fisher = np.full(len(nt), np.nan)
    fisher[ev] = fisher_greater(xt[ev], nt[ev], xn[ev], nn[ev])
    chisq = np.full(len(nt), np.nan)
    for i in np.nonzero(ev)[0]:
        chisq[i] = chisq_pooled(tumor[i], normal[i])[2]
    return {"evaluable": ev, "tumor_distant": xt, "normal_distant": xn, "tumor_distant_fraction": ft,
            "normal_distant_fraction": fn, "expected_distant_fraction": expected,
            "excess_fraction": ft - expected, "fisher_p": fisher, "chisq_p": chisq,
            "mantis_difference": total_variation(tumor, normal), "stutter_ratio": ratio,
            "stutter_inflation": inflation}


def aggregate_excess(xt: np.ndarray, nt: np.ndarray, fn: np.ndarray, nn: np.ndarray, inflation: float
                     ) -> tuple[float, float, float]:
    """Sample-level one-sided test that tumor reads at distant lengths exceed expectation.

    Expected distant reads E = sum nt * q with q = min(1, fn * inflation); variance = binomial
    sampling of the tumor plus that of the normal's share: sum nt q(1-q) + nt^2 infl^2
    fn(1-fn)/nn.  Returns (pooled excess share (X - E)/sum nt, z, upper-tail p).
    """
    xt, nt, fn, nn = (np.asarray(a, dtype=float) for a in (xt, nt, fn, nn))
    if nt.sum() == 0:
        return float("nan"), 0.0, 1.0
    q = np.minimum(1.0, fn * inflation)
    E = float((nt * q).sum())
    V = float((nt * q * (1 - q) + nt ** 2 * inflation ** 2 * fn * (1 - fn) / np.maximum(nn, 1)).sum())
    X = float(xt.sum())
    excess = (X - E) / float(nt.sum())
    if V <= 0:
        return excess, (math.inf if X > E else 0.0), (0.0 if X > E else 1.0)
    z = (X - E) / math.sqrt(V)
    return excess, z, float(norm_sf(z))


def call_status(score: float | None, evaluable: int, cutoff: float, band: float, min_evaluable: int,
                aggregate_positive: bool = False) -> tuple[str, str]:
    """(status, basis) from the score (%), evaluable loci and the low-purity aggregate rule."""
    if evaluable < min_evaluable or score is None:
        return "indeterminate", f"fewer than {min_evaluable} evaluable loci"
    if score >= cutoff + band:
        return "MSI-H", f"score >= cutoff {cutoff} + band {band}"
    if aggregate_positive:
        return "MSI-H", "sample-level excess of non-germline repeat lengths (low-purity rule)"
    if score < cutoff - band:
        return "MSS", f"score < cutoff {cutoff} - band {band}"
    return "indeterminate", f"score within +/-{band} of cutoff {cutoff}"


def _num(x: Any) -> Any:
    """JSON-safe number: NaN/inf -> None, numpy -> Python."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def msi_score(tumor_bam: str | Path, loci: str | Path | LociTable, *, normal_bam: str | Path | None = None,
              baseline: str | Path | Baseline | None = None, reference: str | Path | None = None,
              sample: str | None = None, min_coverage: int = D.MIN_COVERAGE, alpha: float = D.ALPHA,
              msi_h_cutoff: float | None = None, indeterminate_band: float | None = None,
              min_evaluable: int = D.MIN_EVALUABLE, test: str = "excess",
              core_fraction: float = DEFAULT_CORE_FRACTION, min_shift_units: int = MIN_SHIFT_UNITS,
              min_excess: float = DEFAULT_MIN_EXCESS, aggregate_alpha: float = DEFAULT_AGGREGATE_ALPHA,
              min_pooled_excess: float = DEFAULT_MIN_POOLED_EXCESS,
              mantis_threshold: float = DEFAULT_MANTIS_THRESHOLD, mapq: int = D.MAPQ,
              exclude_flags: int = D.EXCLUDE_FLAGS, anchor: int = D.ANCHOR, threads: int = 1,
              mate_dedup: bool = True, write_dis: bool = False, output: str | Path | None = None) -> MsiScore:
    """Score ``tumor_bam`` at ``loci`` against ``normal_bam`` (paired) or ``baseline`` (tumor-only).

    Writes ``PREFIX.msi.json`` and ``PREFIX.msi_loci.tsv.gz`` (and ``PREFIX.msi_dis`` with
    ``write_dis``) when ``output`` (PREFIX) is given - all or nothing.
    """
    if (normal_bam is None) == (baseline is None):
        raise UsageError("give exactly one of --normal-bam (paired) or --baseline (tumor-only)")
    if test not in ("excess", "chisq"):
        raise UsageError("test must be 'excess' or 'chisq'")
    if not 0 < alpha < 1:
        raise UsageError("--alpha must be between 0 and 1")
    if min_coverage < 1:
        raise UsageError("--min-coverage must be >= 1")
    mode = "paired" if normal_bam is not None else "tumor-only"
    from ..io.inputs import open_inputs, require_seekable

    loci, baseline = open_inputs(loci, baseline)  # a stream is read once; BAM/CRAM need random access
    require_seekable(tumor_bam, "tumor BAM/CRAM"), require_seekable(normal_bam, "normal BAM/CRAM")
    cutoff = D.CUTOFFS[mode] if msi_h_cutoff is None else float(msi_h_cutoff)
    band = D.INDETERMINATE_BAND[mode] if indeterminate_band is None else float(indeterminate_band)
    if band < 0:
        raise UsageError("--indeterminate-band must be >= 0")
    if output is not None:
        from ..output import OutputSet

        OutputSet(str(output))  # checks the output directory before the work
    table = loci if isinstance(loci, LociTable) else read_loci(loci)
    base: Baseline | None = None
    if baseline is not None:
        base = baseline if isinstance(baseline, Baseline) else read_baseline(baseline)
    if base is not None:
        mine = {"mapq": mapq, "exclude_flags": exclude_flags, "anchor": anchor, "mate_dedup": mate_dedup}
        diff = {k: (base.parameters.get(k), v) for k, v in mine.items()
                if k in base.parameters and base.parameters.get(k) != v}
        if diff:
            what = ", ".join(f"{k} {b} in the baseline vs {v} here" for k, (b, v) in diff.items())
            raise UsageError(f"read selection differs from the baseline's ({what}); score with the "
                             "baseline's settings or rebuild the baseline")
    if reference is not None:
        from .baseline import _check_reference

        _check_reference(table, reference)
    popts = {"reference": reference, "mapq": mapq, "exclude_flags": exclude_flags, "anchor": anchor,
             "threads": threads, "mate_dedup": mate_dedup}
    if mode == "paired":  # tumor and normal at once when threads >= 2
        tprof, nprof_ = profile_many([tumor_bam, normal_bam], table, **popts)  # type: ignore[list-item]
    else:
        tprof = profile_bam(tumor_bam, table, **popts)
    name = sample or tprof.sample
    unit_len = table.unit_length()
    cols: dict[str, np.ndarray] = {}
    summary: dict[str, Any] = {}
    nprof: Profile | None = None
    if mode == "paired":
        nprof = nprof_
        r = paired_tests(tprof.hist, nprof.hist, unit_len, min_coverage=min_coverage,
                         core_fraction=core_fraction, min_shift_units=min_shift_units)
        ev = r["evaluable"]
        p = r["fisher_p"] if test == "excess" else r["chisq_p"]
        q = bh_qvalues(np.where(ev, p, np.nan))
        unstable = ev & (q < alpha)
        if test == "excess":
            unstable &= r["excess_fraction"] >= min_excess
        cmh_z, cmh_p = cmh_greater(r["tumor_distant"][ev], tprof.reads[ev], r["normal_distant"][ev],
                                   nprof.reads[ev])
        pooled, z, agg_p = aggregate_excess(r["tumor_distant"][ev], tprof.reads[ev],
                                            r["normal_distant_fraction"][ev], nprof.reads[ev],
                                            r["stutter_inflation"])
        aggregate_positive = bool(ev.any() and agg_p < aggregate_alpha and pooled >= min_pooled_excess)
        mean_diff = float(np.nanmean(r["mantis_difference"][ev])) if ev.any() else float("nan")
        summary["sample_level"] = {"test": "stutter-adjusted pooled excess of distant-length reads, one-sided z",
                                   "z": _num(z), "p_value": _num(agg_p), "pooled_excess_fraction": _num(pooled),
                                   "stutter_ratio": _num(r["stutter_ratio"]),
                                   "stutter_inflation": _num(r["stutter_inflation"]),
                                   "cmh_z_unadjusted": _num(cmh_z), "cmh_p_unadjusted": _num(cmh_p),
                                   "aggregate_alpha": aggregate_alpha, "min_pooled_excess": min_pooled_excess,
                                   "positive": aggregate_positive}
        summary["mantis"] = {"mean_difference": _num(mean_diff), "threshold": mantis_threshold,
                             "status": None if not ev.any() else ("MSI-H" if mean_diff >= mantis_threshold
                                                                 else "MSS")}
        cols.update({"normal_reads": nprof.reads, "normal_modal_length": nprof.modal_length(),
                     "tumor_distant_fraction": r["tumor_distant_fraction"],
                     "normal_distant_fraction": r["normal_distant_fraction"],
                     "expected_distant_fraction": r["expected_distant_fraction"],
                     "statistic": r["excess_fraction"], "fisher_p": r["fisher_p"], "chisq_p": r["chisq_p"],
                     "mantis_difference": r["mantis_difference"]})
    else:
        assert base is not None
        support, bmean, bsd, badj = _align_baseline(table, base)
        st = int(base.parameters.get("min_shift_units", min_shift_units))
        direction = str(base.parameters.get("direction", "both"))
        frac = distant_fraction_vs_reference(tprof, st, direction)
        reads = tprof.reads
        ev = (reads >= min_coverage) & (support >= base.min_support) & np.isfinite(bmean)
        ratio, inflation = tumor_only_stutter(adjacent_fraction_vs_reference(tprof, st)[ev], badj[ev])
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.minimum(1.0, np.nan_to_num(bmean) * inflation)
            sdv = np.nan_to_num(bsd) * inflation
            se = np.sqrt(sdv ** 2 + m * (1 - m) / np.maximum(reads, 1) + 1e-4)
            z = (frac - m) / se
        p = np.where(ev, norm_sf(z), np.nan)
        q = bh_qvalues(p)
        unstable = ev & (q < alpha) & ((frac - m) >= min_excess)
        aggregate_positive = False
        cols.update({"baseline_support": support, "baseline_mean": bmean, "baseline_sd": bsd,
                     "tumor_distant_fraction": frac, "expected_distant_fraction": m, "statistic": z})
        summary["baseline"] = {"min_support": base.min_support, "direction": direction,
                               "stutter_ratio": _num(ratio), "stutter_inflation": _num(inflation),
                               "parameters": base.parameters}
    n_ev = int(ev.sum())
    n_un = int(unstable.sum())
    score = round(100.0 * n_un / n_ev, 4) if n_ev else None
    status, basis = call_status(score, n_ev, cutoff, band, min_evaluable, aggregate_positive)
    locus_cols = {"tumor_reads": tprof.reads, "tumor_modal_length": tprof.modal_length(), **cols,
                  "p_value": p, "q_value": q, "evaluable": ev, "unstable": unstable}
    summary.update({
        "loci_total": len(table), "test": test if mode == "paired" else "z vs baseline",
        "alpha": alpha, "min_coverage": min_coverage, "min_excess": min_excess,
        "min_shift_units": min_shift_units, "core_fraction": core_fraction,
        "indeterminate_band": band, "min_evaluable": min_evaluable,
        "reads": {"tumor_measured": int(tprof.reads.sum()),
                  "tumor_rejected": dict(zip(REASONS, map(int, tprof.rejected.sum(axis=0)))),
                  **({"normal_measured": int(nprof.reads.sum()),
                      "normal_rejected": dict(zip(REASONS, map(int, nprof.rejected.sum(axis=0))))}
                     if nprof is not None else {})},
        "contigs_missing_in_tumor": tprof.contigs_missing,
    })
    res = MsiScore(name, mode, score, status, n_ev, n_un, cutoff, basis, locus_cols, summary)
    if output is not None:
        from .report import write_outputs

        res.outputs = write_outputs(res, table, tprof, nprof, output, write_dis=write_dis,
                                    inputs={"tumor_bam": tumor_bam, "normal_bam": normal_bam,
                                            "baseline": None if isinstance(baseline, Baseline) else baseline,
                                            "loci": None if isinstance(loci, LociTable) else loci,
                                            "reference": reference},
                                    parameters={"mapq": mapq, "exclude_flags": exclude_flags, "anchor": anchor,
                                                "threads": threads, "mate_dedup": mate_dedup, "cutoff": cutoff, **{
                                                    k: v for k, v in summary.items()
                                                    if k in ("test", "alpha", "min_coverage", "min_excess",
                                                             "min_shift_units", "core_fraction",
                                                             "indeterminate_band", "min_evaluable")}})
    return res


def tumor_only_stutter(tumor_adjacent: np.ndarray, baseline_adjacent: np.ndarray) -> tuple[float, float]:
    """Stutter ratio R = median over loci of tumor / baseline adjacent share (loci where the
    baseline share is > 0 and the tumor's is known) and the inflation max(1, R)^2 (capped).

    The median keeps the few loci where this patient carries a 1-unit germline polymorphism
    from inflating R."""
    t = np.asarray(tumor_adjacent, dtype=float)
    b = np.asarray(baseline_adjacent, dtype=float)
    ok = np.isfinite(t) & np.isfinite(b) & (b > 0)
    if not ok.any():
        return 1.0, 1.0
    r = np.sort(t[ok] / b[ok])  # median (np.median would import numpy.ma: ~12 ms per command)
    ratio = float((r[(r.size - 1) // 2] + r[r.size // 2]) / 2)
    return ratio, min(max(1.0, ratio) ** 2, MAX_STUTTER_INFLATION)


def _align_baseline(table: LociTable, base: Baseline
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Baseline support/mean/sd per locus of ``table`` (0/NaN where the baseline lacks a locus);
    raise when the baseline shares no locus with the loci file."""
    index = {k: i for i, k in enumerate(base.keys())}
    keys = [(str(c), int(s), int(e), str(u)) for c, s, e, u in
            zip(table.canonical_chroms(), table.start, table.end, table.unit)]
    j = np.array([index.get(k, -1) for k in keys])
    if not (j >= 0).any():
        raise InputError("the baseline shares no locus with the loci file; build it with "
                         "'tmbcalc msi baseline --loci' on the same loci", base.loci.source or None)
    ok = j >= 0
    jj = np.maximum(j, 0)
    support = np.where(ok, base.support[jj], 0).astype(np.int32)
    mean = np.where(ok, base.mean[jj], np.nan)
    sd = np.where(ok, base.sd[jj], np.nan)
    adj = np.where(ok, base.mean_adjacent[jj], np.nan)
    return support, mean, sd, adj


__all__ = ["MsiScore", "msi_score", "paired_tests", "call_status"]
