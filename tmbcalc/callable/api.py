"""Callable footprint from BAM/CRAM read depth (tumor, and optionally the matched normal).

A base of the footprint is *callable* when the tumor depth is >= ``min_depth`` and, if a normal
is given, the normal depth is >= ``min_normal_depth``.  Depth is counted by the compiled kernel
:mod:`tmbcalc.ext._depth` with mosdepth's conventions by default (see ``docs/callable.md``):

* reads with any bit of ``exclude_flags`` set (default 1796 = unmapped, secondary, QC-fail,
  duplicate) or MAPQ < ``mapq`` are skipped;
* CIGAR M/=/X bases count; deletions count only with ``count_deletions``; I/S/H/P/N do not;
* the overlapping part of the two mates of a properly paired fragment counts once
  (``mate_overlap="fragment"``; ``"mosdepth"`` reproduces mosdepth 0.3 exactly; ``"none"``
  counts both mates).

Coordinates are 0-based half-open, contigs canonical (``chr1`` -> ``1``); sizes in bp, Mb =
1,000,000 bp.  Depth values are integers (reads per base).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import engine as core
from .engine import DEFAULT_EXCLUDE_FLAGS, DEFAULT_MAPQ, MATE_OVERLAP_MODES, mosdepth_equivalent
from ..intervals import Footprint, Targets
from ..io.bed import BedRecords
from ..regions import RegionSet

if TYPE_CHECKING:  # pandas is imported only when a table is asked for
    import pandas as pd


@dataclass(frozen=True)
class CallableResult:
    """Callable part of a footprint and the coverage behind it.

    ``callable`` and ``footprint`` are RegionSets (canonical contigs); ``per_target`` has one
    row per target (or per footprint interval when no targets were given) with columns
    ``chrom, start, end, name, mean_depth, median_depth, frac_ge_min_depth`` (+ ``normal_*``
    columns when a normal was given); ``per_contig`` one row per footprint contig.
    """

    callable: RegionSet
    footprint: RegionSet
    parameters: dict[str, Any]
    target_columns: dict[str, np.ndarray]  # per_target columns, in order
    contig_rows: list[dict[str, Any]]  # per_contig rows
    inputs: dict[str, str | None]
    native_names: dict[str, str] = field(default_factory=dict)
    contig_order: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def per_target(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.target_columns)

    @cached_property
    def per_contig(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.contig_rows)

    @property
    def callable_bp(self) -> int:
        return self.callable.total_bp()

    @property
    def footprint_bp(self) -> int:
        return self.footprint.total_bp()

    @property
    def callable_mb(self) -> float:
        return self.callable_bp / 1e6

    @property
    def callable_fraction(self) -> float | None:
        fp = self.footprint_bp
        return self.callable_bp / fp if fp else None

    def to_dict(self) -> dict[str, Any]:
        """The PREFIX.callable.json document (no NaN: missing values are None)."""
        from .writers import summary_json

        return summary_json(self.callable_bp, self.footprint_bp, self.parameters, self.inputs,
                            self.contig_rows, self.provenance)

    def write(self, prefix: str | Path) -> list[Path]:
        """PREFIX.callable.bed.gz (+ .tbi), PREFIX.callable.json and PREFIX.coverage.tsv, all or nothing."""
        from .writers import write_outputs

        rows = ((self.native_names.get(c, c), s, e) for c, s, e in self.callable)
        cols = {k: v.tolist() for k, v in self.target_columns.items()}
        return write_outputs(prefix, rows, cols, self.to_dict(), self.provenance)


# ---------------------------------------------------------------------------------------------
# main entry point (the computation is tmbcalc.callable.engine's; this layer converts)

def compute_callable(tumor_bam: str | Path, footprint: RegionSet, *, normal_bam: str | Path | None = None,
                     min_depth: int, min_normal_depth: int | None = None, mapq: int | None = DEFAULT_MAPQ,
                     exclude_flags: int = DEFAULT_EXCLUDE_FLAGS, reference: str | Path | None = None,
                     threads: int = 1, targets: BedRecords | None = None, count_deletions: bool = False,
                     mate_overlap: str = "fragment", footprint_name: str = "footprint") -> CallableResult:
    """Callable footprint: bases with tumor depth >= ``min_depth`` (and normal >= ``min_normal_depth``).

    ``min_normal_depth`` defaults to ``min_depth`` when a normal is given.  ``mapq`` is the
    minimum mapping quality (default 20; mosdepth ``-Q``).  ``threads`` workers read consecutive
    chunks of the footprint in parallel (one file handle each); results do not depend on it.
    ``targets`` (unmerged BED records, e.g. from :func:`tmbcalc.io.bed.read_bed_records`) give
    the rows of ``per_target``; without them the footprint's merged intervals are used.
    """
    fp = {c: list(zip(s.tolist(), e.tolist())) for c, (s, e) in footprint.by_contig.items()}
    tg = None
    if targets is not None:
        tg = Targets(list(targets.contigs), targets.starts.tolist(), targets.ends.tolist(),
                          list(targets.names), targets.source)
    res = core.compute(tumor_bam, fp, normal_bam=normal_bam, min_depth=min_depth,
                       min_normal_depth=min_normal_depth, mapq=mapq, exclude_flags=exclude_flags,
                       reference=reference, threads=threads, targets=tg, count_deletions=count_deletions,
                       mate_overlap=mate_overlap, footprint_name=footprint_name)
    from ..provenance import build_provenance

    prov = build_provenance("callable", res.parameters, {"tumor_bam": tumor_bam, "normal_bam": normal_bam,
                                                         "reference": reference})
    return from_core(res, footprint, prov)


def from_core(res: core.CoreResult, footprint: RegionSet | None = None,
              provenance: dict[str, Any] | None = None) -> CallableResult:
    """Wrap a :class:`tmbcalc.callable.engine.CoreResult` (RegionSets, numpy columns)."""
    callable_set = _regionset(res.callable)
    if footprint is None:
        footprint = _regionset(res.footprint)
    cols = {}
    for k, v in res.target_columns.items():
        kind = object if k in ("chrom", "name") else (np.int64 if k in ("start", "end") else np.float64)
        cols[k] = np.array(v, dtype=kind)
    return CallableResult(callable=callable_set, footprint=footprint, parameters=res.parameters,
                          target_columns=cols, contig_rows=res.contig_rows, inputs=res.inputs,
                          native_names=res.native_names, contig_order=res.contig_order,
                          provenance=dict(provenance or {}))


def _regionset(intervals: Footprint) -> RegionSet:
    """RegionSet of already sorted, merged interval lists."""
    return RegionSet({c: (np.array([s for s, _ in iv], dtype=np.int64), np.array([e for _, e in iv], dtype=np.int64))
                      for c, iv in intervals.items()})


__all__ = ["compute_callable", "CallableResult", "DEFAULT_MAPQ", "DEFAULT_EXCLUDE_FLAGS",
           "MATE_OVERLAP_MODES", "mosdepth_equivalent", "from_core"]
