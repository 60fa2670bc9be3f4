"""The genome build of a TMB run, decided once before any record is judged.

Order of evidence (see :mod:`tmbcalc.genome_build`): the user's statement; the headers of the variant
files (VCF contig lengths, MAF NCBI_Build) and of the tumor/normal BAMs; for a registry panel with
footprints for several builds, the share of the input's variant positions inside each build's
footprint (one extra pass over the positions, only when nothing else tells).  A panel with one
build uses it (the positions are checked against its chromosome ends after reading); with a BED
footprint the build is left to the positions (:func:`tmbcalc.genome_build.positions_call`).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ContigMismatchError, InputError
from ..genome_build import STATE_BUILD, STATE_PARAMS, BuildCall, BuildClaim, claim_from_meta, decide_declared, decide_from_shares
from ..regions import RegionSet
from ..variants import VariantTable
from .rules import in_footprint
from .sources import VariantSource


def _bam_claims(bams: Sequence[str | Path]) -> list[BuildClaim]:
    if not bams:
        return []
    from ..callable.lean import bam_build

    return [BuildClaim(str(b), bam_build(b), "alignment header contig lengths") for b in bams]


def decide_build(parts: Sequence[VariantSource], stated: str | None, panel, bams: Sequence[str | Path],
                 panel_bed: str | Path | None, name: str) -> BuildCall | None:
    """The run's build, or None when only the positions (after reading) can tell and the footprint
    does not depend on it (a BED footprint).  Raises when files disagree or a multi-build panel's
    footprint cannot be chosen."""
    claims = [claim_from_meta(p.source, p.meta) for p in parts] + _bam_claims(bams)
    call = decide_declared(stated, claims)
    if call is not None or panel is None:
        return call
    if len(panel.builds) == 1:
        b = panel.build
        return BuildCall(b, "panel_only_build", f"panel {panel.id} has a {b} footprint only and no header states "
                                                f"the input's build (variant positions checked against the {b} "
                                                f"chromosome ends)")
    available = [b for b in panel.builds if panel.bed_path(b) is not None] if panel_bed is None else []
    if len(available) < 2:
        raise InputError(f"the header does not state the genome build and panel {panel.id}'s footprints for "
                         f"{', '.join(panel.builds)} cannot be compared (BED not available); {STATE_BUILD}", name,
                         params=STATE_PARAMS)
    total, inside = _positions_in(parts, {b: panel.footprint(b) for b in available})
    return decide_from_shares(total, inside, f"panel {panel.id}'s", name)


def _positions_in(parts: Sequence[VariantSource], footprints: Mapping[str, RegionSet]) -> tuple[int, dict[str, int]]:
    """(variant rows of every input, rows inside each build's footprint), reading positions again."""
    total, inside = 0, {b: 0 for b in footprints}
    for p in parts:
        n, k = count_in_footprints(_positions(p), footprints)
        total += n
        for b in footprints:
            inside[b] += k[b]
    return total, inside


def count_in_footprints(tables: Iterable[VariantTable], footprints: Mapping[str, RegionSet]
                        ) -> tuple[int, dict[str, int]]:
    """(variant rows read, rows inside each build's footprint), "inside" by the TMB rule's overlap
    convention (:func:`~tmbcalc.tmb.rules.in_footprint`: the bases a variant changes)."""
    total, inside = 0, {b: 0 for b in footprints}
    for t in tables:
        total += len(t)
        for b, regions in footprints.items():
            inside[b] += int(np.count_nonzero(in_footprint(t, regions)))
    return total, inside


def _positions(part: VariantSource) -> Iterator[VariantTable]:
    """The variant rows of one input again, positions only (a MAF is already in memory)."""
    if part.kind != "vcf":          # a MAF or a table already in memory
        yield from part
        return
    from ..io.vcf import iter_vcf_chunks

    yield from iter_vcf_chunks(part.source, sites_only=True, keep_alleles=False, pop_af_fields=())


@lru_cache(maxsize=1)
def fingerprint_footprints() -> dict[str, RegionSet]:
    """Per build, the union of the footprints of every registry panel shipped for both builds
    (e.g. F1CDx, TSO500, MSK-IMPACT 505): the same genes in both coordinate systems, so a call set's
    positions land in one build's copy and only by chance in the other's."""
    from ..panels.registry import list_panels

    prints: dict[str, RegionSet] = {}
    for panel in list_panels():
        if len(panel.builds) < 2 or any(panel.bed_path(b) is None for b in panel.builds):
            continue
        for b in panel.builds:
            prints[b] = prints[b].union(panel.footprint(b)) if b in prints else panel.footprint(b)
    return prints if len(prints) >= 2 else {}


def _regions_build(regions: RegionSet, prints: Mapping[str, RegionSet]) -> str | None:
    """The build whose fingerprint a footprint overlaps clearly most (>= 1 kb and 3x the other)."""
    overlap = {b: fp.intersect(regions).total_bp() for b, fp in prints.items()}
    ranked = sorted(overlap, key=lambda b: -overlap[b])
    if overlap[ranked[0]] >= 1000 and overlap[ranked[0]] >= 3 * overlap[ranked[1]]:
        return ranked[0]
    return None


def cross_check_build(call: BuildCall | None, parts: Sequence[VariantSource], regions: RegionSet,
                      name: str) -> BuildCall | None:
    """Without a statement or a header that tells (``call`` None, or a one-build panel's default):
    vote with the variant positions in the two-build fingerprint and refuse an input whose
    positions are in the other build's coordinates than the footprint's.  An inconclusive vote
    (too few variants in the fingerprint) leaves the call as it was, saying so."""
    if call is not None and call.method != "panel_only_build":
        return call
    prints = fingerprint_footprints()
    if not prints:
        return call
    total, inside = _positions_in(parts, prints)
    try:
        vote = decide_from_shares(total, inside, "the two-build registry panels'", name)
    except InputError:
        vote = None
    fp_build = call.build if call is not None else _regions_build(regions, prints)
    if vote is not None and fp_build is not None and vote.build != fp_build:
        raise ContigMismatchError(f"the header does not state the genome build and the variant positions are in "
                                  f"{vote.build} coordinates ({vote.evidence}) while the footprint is {fp_build}: "
                                  f"lift one over, or {STATE_BUILD}", name, params=STATE_PARAMS)
    if call is None:
        return vote if vote is not None and fp_build in (None, vote.build) else None
    how = vote.evidence if vote is not None else "too few variants in the two-build panels to confirm it"
    return BuildCall(call.build, call.method, f"{call.evidence}; variant positions: {how}", call.shares)


__all__ = ["decide_build", "count_in_footprints", "cross_check_build", "fingerprint_footprints"]
