"""Result types of a TMB run: one :class:`SampleTmb` per tumor inside a :class:`TmbResult`.

Units: TMB in mutations/Mb (1 Mb = 1,000,000 bp), footprint in bp; intervals are exact (Garwood)
95% Poisson intervals of the rate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..harmonized import Harmonization, HarmonizedTmb
from ..variants import VariantTable
from .profiles import Profile
from .rules import RuleOutcome

if TYPE_CHECKING:
    from ..regions import RegionSet


@dataclass
class SampleTmb:
    """TMB of one tumor sample (mutations/Mb; interval exact Garwood 95%)."""

    sample: str
    tmb: float
    eligible_variants: int
    footprint_bp: int
    ci95_low: float
    ci95_high: float
    p_tmb_ge_cut: dict[str, float]
    status: dict[str, str]
    at_or_above_cut: dict[str, bool]
    records: int
    in_footprint: int
    excluded: dict[str, int]          # first failing rule -> count
    failing: dict[str, int]           # every failing rule -> count (a variant may fail several)
    harmonized: HarmonizedTmb | None = None   # reference-scale TMB (tmbcalc.calibrate.harmonize_tmb)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "sample": self.sample, "tmb": self.tmb, "eligible_variants": self.eligible_variants,
            "footprint_bp": self.footprint_bp, "footprint_mb": self.footprint_bp / 1e6,
            "ci95_low": self.ci95_low, "ci95_high": self.ci95_high, "p_tmb_ge_cut": self.p_tmb_ge_cut,
            "status": self.status, "at_or_above_cut": self.at_or_above_cut, "records": self.records,
            "in_footprint": self.in_footprint, "excluded": self.excluded, "failing": self.failing,
        }
        if self.harmonized is not None:
            out["harmonized"] = self.harmonized.to_dict()
        return out


@dataclass
class TmbResult:
    """Everything a TMB run produced (what the output files contain, plus the row-level table)."""

    samples: list[SampleTmb]
    profile: Profile
    cutpoints: list[float]
    denominator: dict[str, Any]
    provenance: dict[str, Any]
    warnings: list[str]
    table: VariantTable | None = field(repr=False)      # None when computed with keep_table=False
    outcome: RuleOutcome | None = field(repr=False)
    variants_spool: Any = field(repr=False, default=None)  # streamed report (temporary file) or None
    # several call files for one tumor: {"files": [...], "duplicates_across_files": n}; None for one file
    inputs: dict[str, Any] | None = None
    footprint_status: str = "ok"      # or "insufficient_footprint" (see tmbcalc.tmb.guards)
    harmonization: Harmonization | None = None  # model shared by the samples' harmonized values
    # the measured denominator regions (canonical contig names, 0-based half-open) and the spelling of
    # each contig in the call file (canonical -> native), for PREFIX.footprint.bed.gz
    footprint: RegionSet | None = field(repr=False, default=None)
    contig_spelling: dict[str, str] = field(repr=False, default_factory=dict)

    def sample(self, name: str) -> SampleTmb:
        for s in self.samples:
            if s.sample == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (what ``PREFIX.tmb.json`` holds, before NaN -> null)."""
        doc = {"samples": [s.to_dict() for s in self.samples], "cutpoints": self.cutpoints,
               "footprint_status": self.footprint_status, "denominator": self.denominator}
        if self.inputs is not None:
            doc["inputs"] = self.inputs
        doc.update(warnings=self.warnings, provenance=self.provenance)
        if self.harmonization is not None:
            doc["harmonization"] = self.harmonization.to_dict()
        return doc

    def write(self, prefix: str | Path, *, threads: int = 2, plain_tsv: bool = False) -> list[Path]:
        """Write PREFIX.tmb.json, PREFIX.tmb.tsv, PREFIX.variants.tsv.gz and PREFIX.footprint.bed.gz
        (+ .tbi) atomically (``plain_tsv``:
        the two TSVs without their ``#`` lines; the provenance stays in PREFIX.tmb.json)."""
        from .writers import write_outputs

        return write_outputs(self, prefix, threads=threads, plain_tsv=plain_tsv)


__all__ = ["SampleTmb", "TmbResult"]
