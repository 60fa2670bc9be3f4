"""The denominator footprint, resolved one way for every capability.

panel (registry id -> its BED for the build) | footprint BEDs (merged, overlaps counted once),
then optionally ∩ a coding BED, − excluded regions, ∩ a callable BED.  Each stage is recorded
with its source and size, and the result names its *kind* (``panel_bed``, ``callable_bed``,
``panel_bed+coding-excluded`` ...).  The part computed from BAM depth is added by the caller
(:mod:`tmbcalc.callable` sits above this module).  Coordinates are 0-based half-open; sizes in
bp (1 Mb = 1,000,000 bp).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .contigs import shared_contigs
from .errors import ContigMismatchError, InputError, require_readable
from .regions import RegionSet

if TYPE_CHECKING:
    from .panels.registry import Panel


@dataclass
class Denominator:
    """A resolved footprint: ``regions`` (canonical contigs), its ``kind``, the ``stages`` that
    built it (dicts with ``stage``, ``source``, ``bp``), the ``name`` messages use for it and the
    registry panel it came from (if any)."""

    regions: RegionSet
    kind: str
    stages: list[dict[str, Any]] = field(default_factory=list)
    name: str = ""
    panel: Panel | None = None
    build: str | None = None       # the registry panel's build whose BED was used (None for BEDs)

    @property
    def bp(self) -> int:
        return self.regions.total_bp()

    def add_stage(self, regions: RegionSet, kind: str, stage: dict[str, Any]) -> None:
        """Replace the regions by a further restricted set and record the stage."""
        self.regions, self.kind = regions, kind
        self.stages.append({**stage, "bp": regions.total_bp()} if "bp" not in stage else stage)


def read_beds(paths: Sequence[str | Path], what: str) -> RegionSet:
    """Union (merged) of one or more BED files; ``what`` names them in error messages."""
    from .io.bed import read_bed

    out = RegionSet({})
    for path in paths:
        require_readable(path, what)
        out = out.union(read_bed(path))
    return out


def base_footprint(panel: Panel | None, panel_bed: str | Path | None, beds: Sequence[str | Path],
                   build: str | None = None) -> Denominator:
    """The panel's footprint for ``build`` (None: its primary build) or the merged BEDs; refuses an
    empty one."""
    if panel is not None:
        # the assay's TMB region (e.g. the coding part of a capture-target list), not every target
        regions = panel.tmb_region(build, bed=panel_bed)
        den = Denominator(regions, "panel_bed", name=f"panel {panel.id}", panel=panel, build=build or panel.build)
        den.stages.append({"stage": "panel_tmb_region", "source": panel.id, "bp": regions.total_bp(),
                           "note": panel.tmb_region_info(build)["description"]})
    else:
        regions = read_beds(beds, "footprint BED")
        den = Denominator(regions, "panel_bed", name=", ".join(Path(b).name for b in beds))
        den.stages.append({"stage": "footprint", "source": [str(b) for b in beds], "bp": regions.total_bp(),
                           "note": "BEDs merged (overlaps counted once)"})
    if regions.is_empty():
        raise InputError("footprint is empty (no intervals)", beds[0] if beds else panel.id if panel else None)
    return den


def resolve_footprint(*, panel: Panel | None = None, panel_bed: str | Path | None = None,
                      beds: Sequence[str | Path] = (), coding_bed: str | Path | None = None,
                      exclude_beds: Sequence[str | Path] = (), callable_bed: str | Path | None = None,
                      build: str | None = None) -> Denominator:
    """Footprint (a panel's BED for ``build``, default its primary build) -> ∩ coding -> − excluded
    -> ∩ callable BED, each stage recorded."""
    den = base_footprint(panel, panel_bed, beds, build)
    if coding_bed:
        coding = read_beds([coding_bed], "coding BED")
        shared_contigs(den.regions.contigs, coding.contigs, den.name, str(coding_bed))
        den.add_stage(den.regions.intersect(coding), den.kind + "+coding",
                      {"stage": "intersect_coding", "source": str(coding_bed)})
    if exclude_beds:
        excluded = read_beds(exclude_beds, "exclusion BED")
        den.add_stage(den.regions.subtract(excluded), den.kind + "-excluded",
                      {"stage": "subtract_excluded", "source": [str(e) for e in exclude_beds]})
    if callable_bed:
        cb = read_beds([callable_bed], "callable BED")
        shared_contigs(den.regions.contigs, cb.contigs, den.name, str(callable_bed))
        kind = "callable_bed" if den.kind == "panel_bed" else den.kind + "+callable_bed"
        den.add_stage(den.regions.intersect(cb), kind, {"stage": "intersect_callable_bed", "source": str(callable_bed)})
    if den.regions.is_empty():
        last = den.stages[-1]
        raise InputError(f"footprint is empty after {last['stage']}",
                         last.get("source") if isinstance(last.get("source"), str) else None)
    return den


def check_input_build(input_name: str, input_build: str, den: Denominator, beds: Sequence[str | Path],
                      how: str = "header / NCBI_Build column") -> None:
    """Refuse an input whose genome build differs from the footprint's (the build of the registry
    panel's BED in use, or BED intervals that run past that build's contig ends)."""
    if den.panel is not None:
        if input_build != den.build:
            have = ", ".join(den.panel.builds)
            raise ContigMismatchError(f"genome build mismatch: {Path(input_name).name} is {input_build} ({how}) but "
                                      f"panel {den.panel.id} has a footprint for {have} only", input_name)
        return
    from .panels.registry import check_regions_fit_build

    try:
        check_regions_fit_build(den.regions, input_build, Path(beds[0]))
    except InputError as exc:
        raise ContigMismatchError(f"{exc.message} (the input {Path(input_name).name} is {input_build} by its "
                                  f"{how})", exc.path) from None


__all__ = ["Denominator", "read_beds", "base_footprint", "resolve_footprint", "check_input_build"]
