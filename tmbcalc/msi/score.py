"""``msi score``: the MSI call of a tumor from its reads, as a short sequence of named stages.

    settings -> load inputs (loci, baseline) -> profile reads -> score (registry: paired,
    tumor-only) -> call (sample statistic, or marker fraction rule) -> MsiScore result

The scorers live in :mod:`tmbcalc.msi.paired` and :mod:`tmbcalc.msi.tumor_only`; the call
rules in :mod:`tmbcalc.msi.call`.  Nothing here writes files: the result's ``write(prefix)``
does (the CLI calls it).  Units: shares are fractions 0..1, ``msi_score`` is % of evaluable loci
called unstable (informational; the status comes from the sample statistic), lengths in bp.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import InputError, UsageError
from . import defaults as D
from .baseline import (MIN_SHIFT_UNITS, Baseline, adjacent_fraction_vs_reference, distant_fraction_vs_reference,
                       plus_one_fraction_vs_reference, read_baseline)
from .call import MARKER_FRACTION, CallRules, call_from_statistic, call_markers, pair_check
from .loci import LociTable, read_loci
from .paired import DEFAULT_CORE_FRACTION, DEFAULT_MIN_EXCESS, score_paired
from .profile import RepeatLengthHistogram, profile_bam, profile_many
from .result import MsiScore
from .statistics import bh_qvalues, chisq_pooled
from .tumor_only import score_tumor_only, stutter_inflation

PER_LOCUS_TESTS = ("contraction", "chisq")


@dataclass(frozen=True)
class ScoreSettings:
    """Every parameter of one ``msi_score`` run (recorded in the outputs' provenance)."""

    min_coverage: int = D.MIN_COVERAGE
    alpha: float = D.ALPHA
    test: str = "contraction"
    core_fraction: float = DEFAULT_CORE_FRACTION
    min_shift_units: int = MIN_SHIFT_UNITS
    min_excess: float = DEFAULT_MIN_EXCESS
    rules: CallRules = CallRules()
    markers: bool = False
    marker_fraction: float = MARKER_FRACTION

    def check(self) -> None:
        if self.test not in PER_LOCUS_TESTS:
            raise UsageError(f"test must be one of {', '.join(PER_LOCUS_TESTS)}")
        if not 0 < self.alpha < 1 or not 0 < self.rules.msi_alpha < self.rules.mss_alpha < 1:
            raise UsageError("alpha, msi_alpha and mss_alpha must lie in (0, 1), msi_alpha < mss_alpha",
                             params=("alpha", "msi_alpha", "mss_alpha"))
        if self.min_coverage < 1:
            raise UsageError("min_coverage must be >= 1", params=("min_coverage",))
        if not 0 < self.marker_fraction <= 1:
            raise UsageError("marker_fraction must lie in (0, 1]", params=("marker_fraction",))

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in ("min_coverage", "alpha", "test", "core_fraction", "min_shift_units",
                                            "min_excess", "markers", "marker_fraction")}
        d.update(self.rules.to_dict())
        return d


# --- scorers: one entry per mode; each returns per-locus columns, masks and the sample statistic --

def _paired(tumor: RepeatLengthHistogram, normal: RepeatLengthHistogram | None, base: Baseline | None,
            s: ScoreSettings) -> dict[str, Any]:
    assert normal is not None
    r = score_paired(tumor.hist, normal.hist, tumor.loci.unit_length(), min_coverage=s.min_coverage,
                     alpha=s.alpha, min_excess=s.min_excess, core_fraction=s.core_fraction,
                     min_shift_units=s.min_shift_units)
    r["loci"].update({"normal_reads": normal.reads, "normal_modal_length": normal.modal_length()})
    r["pair_check"] = pair_check(r["pair_check"], s.rules)
    r["informational"] = {"mantis_mean_difference": _mean(r["loci"]["mantis_difference"], r["evaluable"])}
    return r


def _tumor_only(tumor: RepeatLengthHistogram, normal: RepeatLengthHistogram | None, base: Baseline | None,
                s: ScoreSettings) -> dict[str, Any]:
    assert base is not None
    support, bmean, bsd, badj, bplus, breads, bshift = align_baseline(tumor.loci, base)
    st = int(base.parameters.get("min_shift_units", s.min_shift_units))
    direction = str(base.parameters.get("direction", "shorter"))
    share = distant_fraction_vs_reference(tumor, np.where(bshift > 0, bshift, st).astype(np.int64), direction)
    ev = (tumor.reads >= s.min_coverage) & (support >= base.min_support) & np.isfinite(bmean)
    if np.isfinite(bplus[ev]).any():  # expansion (+1 unit) stutter: blind to MSI contractions
        ratio, infl = stutter_inflation(plus_one_fraction_vs_reference(tumor)[ev], bplus[ev])
    else:  # v1 baseline
        ratio, infl = stutter_inflation(adjacent_fraction_vs_reference(tumor, st)[ev], badj[ev])
    r = score_tumor_only(share, tumor.reads, ev, bmean, bsd, infl, breads, support, alpha=s.alpha,
                         min_excess=s.min_excess, null=base.parameters.get("null"))
    r["loci"].update({"baseline_support": support, "baseline_mean": bmean, "baseline_sd": bsd,
                      "baseline_shift_units": np.where(bshift > 0, bshift, st)})
    r["stutter"] = {"ratio": ratio, "inflation": infl}
    r["baseline"] = {"min_support": base.min_support, "direction": direction, "normals": base.parameters.get("normals"),
                     "null": base.parameters.get("null")}
    return r


SCORERS: dict[str, Callable[..., dict[str, Any]]] = {"paired": _paired, "tumor-only": _tumor_only}


def _mean(x: np.ndarray, ev: np.ndarray) -> float | None:
    v = np.asarray(x, dtype=float)[ev]
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else None


# --- stages ---------------------------------------------------------------------------------------

def load_inputs(loci: str | Path | LociTable, baseline: str | Path | Baseline | None, reference: Any,
                read_selection: dict[str, Any]) -> tuple[LociTable, Baseline | None]:
    """Read the loci (and baseline), refuse a baseline built with other read-selection rules."""
    table = loci if isinstance(loci, LociTable) else read_loci(loci)
    base = None
    if baseline is not None:
        base = baseline if isinstance(baseline, Baseline) else read_baseline(baseline)
        diff = {k: (base.parameters.get(k), v) for k, v in read_selection.items()
                if k in base.parameters and base.parameters.get(k) != v}
        if diff:
            what = ", ".join(f"{k} {b} in the baseline vs {v} here" for k, (b, v) in diff.items())
            raise UsageError(f"read selection differs from the baseline's ({what}); score with the "
                             "baseline's settings or rebuild the baseline")
    if reference is not None:
        from .baseline import check_reference

        check_reference(table, reference)
    return table, base


def chisq_unstable(tumor: np.ndarray, normal: np.ndarray, ev: np.ndarray, alpha: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per-locus chi-square p (MSIsensor-like) and its BH-based unstable mask (``--test chisq``)."""
    p = np.full(len(ev), np.nan)
    for i in np.nonzero(ev)[0]:
        p[i] = chisq_pooled(tumor[i], normal[i])[2]
    q = bh_qvalues(p)
    return p, ev & (q < alpha)


def make_call(r: dict[str, Any], n_loci: int, s: ScoreSettings) -> tuple[str, str]:
    """Status and basis: marker fraction rule with ``markers``, else the sample statistic."""
    ev, un = r["evaluable"], r["unstable"]
    if s.markers:
        pc = r.get("pair_check")
        if pc is not None and pc["flag"]:
            return "indeterminate", "pair check failed: " + str(pc["reason"])
        return call_markers(int(un.sum()), int(ev.sum()), n_loci, s.marker_fraction)
    return call_from_statistic(r["sample"], int(ev.sum()), n_loci, s.rules, r.get("pair_check"))


def msi_score(tumor_bam: str | Path, loci: str | Path | LociTable, *, normal_bam: str | Path | None = None,
              baseline: str | Path | Baseline | None = None, reference: str | Path | None = None,
              sample: str | None = None, settings: ScoreSettings | None = None, mapq: int = D.MAPQ,
              exclude_flags: int = D.EXCLUDE_FLAGS, anchor: int = D.ANCHOR, threads: int = 1,
              mate_dedup: bool = True, **setting_overrides: Any) -> MsiScore:
    """Score ``tumor_bam`` at ``loci`` against ``normal_bam`` (paired) or ``baseline`` (tumor-only).

    ``settings`` (or keyword overrides of :class:`ScoreSettings` fields, e.g. ``alpha=0.01``,
    ``markers=True``; call-rule fields ``msi_alpha``, ``mss_alpha``, ``min_fraction``,
    ``min_evaluable``) set the scoring.  Returns an :class:`MsiScore`; write it with
    ``.write(prefix)``.
    """
    s = _settings(settings, setting_overrides)
    if (normal_bam is None) == (baseline is None):
        raise UsageError("give exactly one of normal_bam (paired) or baseline (tumor-only)",
                         params=("normal_bam", "baseline"))
    mode = "paired" if normal_bam is not None else "tumor-only"
    from ..io.inputs import open_inputs, require_seekable

    loci, baseline = open_inputs(loci, baseline)  # a stream is read once; BAM/CRAM need random access
    require_seekable(tumor_bam, "tumor BAM/CRAM"), require_seekable(normal_bam, "normal BAM/CRAM")
    read_sel = {"mapq": mapq, "exclude_flags": exclude_flags, "anchor": anchor, "mate_dedup": mate_dedup}
    table, base = load_inputs(loci, baseline, reference, read_sel)
    build = _check_builds(table, [b for b in (tumor_bam, normal_bam) if b is not None], reference)
    popts = {"reference": reference, **read_sel, "threads": threads}
    if mode == "paired":  # tumor and normal at once when threads >= 2
        tumor, normal = profile_many([tumor_bam, normal_bam], table, **popts)  # type: ignore[list-item]
    else:
        tumor, normal = profile_bam(tumor_bam, table, **popts), None
    r = SCORERS[mode](tumor, normal, base, s)
    if s.test == "chisq" and normal is not None:
        r["loci"]["p_value"], r["unstable"] = chisq_unstable(tumor.hist, normal.hist, r["evaluable"], s.alpha)
        r["loci"]["q_value"] = bh_qvalues(r["loci"]["p_value"])
    status, basis = make_call(r, len(table), s)
    inputs = {"tumor_bam": tumor_bam, "normal_bam": normal_bam,
              "baseline": None if isinstance(baseline, Baseline) else baseline,
              "loci": None if isinstance(loci, LociTable) else loci, "reference": reference}
    return MsiScore.from_scorer(sample or tumor.sample, mode, status, basis, r, table, tumor, normal,
                                parameters={**read_sel, "threads": threads, **s.to_dict(), "genome_build": build},
                                inputs=inputs)


def _check_builds(table: LociTable, bams: list[str | Path], reference) -> dict[str, Any]:
    """The loci file's build (from its provenance) against each alignment's header build."""
    from .build import check_alignment_builds
    from .profile import open_alignment

    return check_alignment_builds(table.source or "loci", table.comments,
                                  {str(b): open_alignment(b, reference)[2] for b in bams})


def _settings(settings: ScoreSettings | None, over: dict[str, Any]) -> ScoreSettings:
    rule_keys = {"msi_alpha", "mss_alpha", "min_fraction", "min_evaluable"}
    unknown = set(over) - rule_keys - set(ScoreSettings.__dataclass_fields__)
    if unknown:
        raise UsageError(f"unknown msi_score setting(s): {', '.join(sorted(unknown))}")
    base = settings or ScoreSettings()
    rules = {k: over.pop(k) for k in list(over) if k in rule_keys}
    if over.get("test") == "excess":  # the former name of the default per-locus test
        over["test"] = "contraction"
    if rules:
        over["rules"] = CallRules(**{**base.rules.to_dict(), **rules})
    from dataclasses import replace

    s = replace(base, **over)
    s.check()
    return s


def align_baseline(table: LociTable, base: Baseline) -> tuple[np.ndarray, ...]:
    """Baseline support, mean, sd, adjacent share, +1-unit share and mean reads per locus of
    ``table`` (0/NaN where the baseline lacks a locus); raise when the baseline shares no locus
    with the loci file."""
    index = {k: i for i, k in enumerate(base.keys())}
    keys = [(str(c), int(s), int(e), str(u)) for c, s, e, u in
            zip(table.canonical_chroms(), table.start, table.end, table.unit)]
    j = np.array([index.get(k, -1) for k in keys])
    if not (j >= 0).any():
        raise InputError("the baseline shares no locus with the loci file; build it with "
                         "'msi baseline' on the same loci", base.loci.source or None)
    ok = j >= 0
    jj = np.maximum(j, 0)
    support = np.where(ok, base.support[jj], 0).astype(np.int32)
    return (support, *(np.where(ok, a[jj], np.nan) for a in (base.mean, base.sd, base.mean_adjacent,
                                                               base.mean_plus1, base.mean_reads)),
            np.where(ok, base.shift_of()[jj], 0).astype(np.int64))


__all__ = ["MsiScore", "ScoreSettings", "SCORERS", "msi_score"]
