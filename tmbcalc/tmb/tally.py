"""Per-sample tallies of a TMB run, summed chunk by chunk (results do not depend on chunking).

For each tumor: records read, records in the footprint, eligible variants, the first failing
rule of each excluded record and every failing rule; at the end the TMB (eligible / footprint Mb),
its exact 95% interval and the statistics per cut point.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..variants import FILTER_MISSING, VariantTable
from . import statistics as stats
from .result import SampleTmb
from .rules import BIT, BIT_DTYPE, RULES, RuleOutcome, missing_values
from .sources import VariantSource


class SampleTally:
    """Per-sample tallies summed over chunks (counts, first/all failing rules, contigs seen)."""

    def __init__(self, samples: list[str], active: tuple[str, ...]) -> None:
        self.names = list(samples) or ["(no sample)"]
        ns = len(self.names)
        self.active = active
        self.eligible = np.zeros(ns, np.int64)
        self.records = np.zeros(ns, np.int64)
        self.inside = np.zeros(ns, np.int64)
        self.first = np.zeros((ns, len(RULES)), np.int64)
        self.all = np.zeros((ns, len(RULES)), np.int64)
        self.contigs: set[str] = set()
        self.rows = 0
        self.pop_af_seen = False
        self.all_filter_missing = True
        self.missing: dict[str, int] = {}     # value column -> rows in the footprint lacking it
        self.judged = 0                       # rows in the footprint

    def add(self, t: VariantTable, o: RuleOutcome) -> None:
        n = len(t)
        if n == 0:
            return
        ns, nr = len(self.names), len(RULES)
        s = t["sample"].astype(np.int64)
        ff = o.first_fail.astype(np.int64)
        if ns == 1:
            self.eligible[0] += int(np.count_nonzero(o.eligible))
            self.records[0] += n
            self.inside[0] += int(np.count_nonzero(o.in_footprint))
            self.first[0] += np.bincount(ff + 1, minlength=nr + 1)[1:]
        else:
            self.eligible += np.bincount(s[o.eligible], minlength=ns)
            self.records += np.bincount(s, minlength=ns)
            self.inside += np.bincount(s[o.in_footprint], minlength=ns)
            sel = ff >= 0
            self.first += np.bincount(s[sel] * nr + ff[sel], minlength=ns * nr).reshape(ns, nr)
        bits = o.fail_bits
        for i, r in enumerate(RULES):
            if r in self.active:
                if ns == 1:
                    self.all[0, i] += int(np.count_nonzero(bits & BIT[r]))
                else:
                    self.all[:, i] += np.bincount(s[(bits & BIT[r]) != 0], minlength=ns)
        self.contigs.update(t.contigs[i] for i in np.unique(t["contig"]).tolist())
        self.pop_af_seen = self.pop_af_seen or bool((~np.isnan(t["pop_af"])).any())
        self.all_filter_missing = self.all_filter_missing and bool((t["filter"] == FILTER_MISSING).all())
        for col, k in missing_values(t, o.in_footprint).items():
            self.missing[col] = self.missing.get(col, 0) + k
        self.judged += int(np.count_nonzero(o.in_footprint))
        self.rows += n

    def results(self, fp_bp: int, cuts: list[float]) -> list[SampleTmb]:
        mb = fp_bp / 1e6
        low, high = stats.garwood_interval(self.eligible, mb)
        out = []
        for i, name in enumerate(self.names):
            k = int(self.eligible[i])
            p = {stats.cut_label(c): float(stats.prob_rate_at_least(k, mb, c)) for c in cuts}
            st = {stats.cut_label(c): stats.status(float(low[i]), float(high[i]), c) for c in cuts}
            tmb = k / mb
            above = {stats.cut_label(c): bool(tmb >= c) for c in cuts}
            first = {r: int(self.first[i, j]) for j, r in enumerate(RULES) if r in self.active}
            every = {r: int(self.all[i, j]) for j, r in enumerate(RULES) if r in self.active}
            out.append(SampleTmb(name, tmb, k, fp_bp, float(low[i]), float(high[i]), p, st, above,
                                 int(self.records[i]), int(self.inside[i]), first, every))
        return out


def concat_kept(kept: list[tuple[VariantTable, RuleOutcome]], src: VariantSource, meta: dict[str, Any],
                 active: tuple[str, ...]) -> tuple[VariantTable, RuleOutcome]:
    from ..io.vcf import concat_tables

    if src.kind == "maf":
        t, o = kept[0]
        t.meta = meta
        return t, o
    contigs = kept[-1][0].contigs if kept else []
    table = concat_tables([t for t, _ in kept], src.source, src.samples, contigs, meta)
    if len(kept) == 1:
        o = kept[0][1]
    else:
        outs = [o for _, o in kept]
        active = outs[0].active if outs else ()
        cat = (lambda name, dt: np.concatenate([getattr(x, name) for x in outs]) if outs else np.empty(0, dt))
        o = RuleOutcome(cat("fail_bits", BIT_DTYPE), cat("first_fail", np.int8), cat("eligible", bool),
                        cat("in_footprint", bool), active)
    if not kept:
        o = RuleOutcome(np.empty(0, BIT_DTYPE), np.empty(0, np.int8), np.empty(0, bool), np.empty(0, bool),
                        active)
    return table, o


__all__ = ["SampleTally", "concat_kept"]
