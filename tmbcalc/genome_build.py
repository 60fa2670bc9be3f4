"""The genome build of a run, decided once from evidence and recorded with how it was decided.

Evidence, strongest first:

1. the user states it (``--genome-build`` / ``genome_build=``);
2. a header that tells: a VCF's ``##contig`` lengths, a MAF's ``NCBI_Build`` column, a BAM/CRAM
   header's ``@SQ`` lengths (every file that tells must agree, and a stated build must agree with
   them);
3. the data, when a registry panel ships a footprint for several builds: the share of the input's
   variant positions inside each build's footprint (a GRCh38 call set lands in the GRCh38 targets,
   a handful of its calls in the GRCh37 ones by chance);
4. variant positions past a build's chromosome ends (excludes that build).

When the build decides the footprint (a panel with several builds) and the evidence does not
decide it, the run is refused with a one-line message saying how to state it.  The decision is a
:class:`BuildCall` whose ``to_dict()`` goes into every output.  Positions are 0-based.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .contigs import BUILD_LENGTHS, canonical, detect_build
from .errors import ContigMismatchError, InputError, UsageError

BUILDS = tuple(BUILD_LENGTHS)
# decided from footprint shares when the best build holds at least MIN_IN_FOOTPRINT positions and
# at least SHARE_RATIO times as many as any other build (otherwise: ambiguous, refused)
MIN_IN_FOOTPRINT = 5
SHARE_RATIO = 3.0
HOW_TO_STATE = "state it with --genome-build GRCh37 or --genome-build GRCh38 (API: genome_build=)"
# the same advice in an error message: names the parameter (params=STATE_PARAMS), the CLI writes the option
STATE_BUILD = "state it with genome_build GRCh37 or genome_build GRCh38"
STATE_PARAMS = ("genome_build",)


@dataclass(frozen=True)
class BuildClaim:
    """What one file's header says about the build (``build`` None: it does not tell)."""

    source: str
    build: str | None
    how: str            # 'header contig lengths', 'NCBI_Build column', 'alignment header contig lengths'


@dataclass(frozen=True)
class BuildCall:
    """The run's genome build and how it was chosen (``build`` None: not determined, allowed only
    when the footprint does not depend on it)."""

    build: str | None
    method: str
    evidence: str
    shares: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"build": self.build, "method": self.method, "evidence": self.evidence}
        if self.shares:
            out["variant_positions_in_footprint"] = self.shares
        return out

    def describe(self) -> str:
        """One line for text headers: ``GRCh38 (how)``."""
        return f"{self.build or 'not determined'} ({self.evidence})"


def check_stated(build: str | None) -> str | None:
    """Validate a user-stated build name (None = not stated)."""
    if build is None:
        return None
    if build not in BUILDS:
        raise UsageError(f"genome_build must be one of {', '.join(BUILDS)}, not {build!r}", params=("genome_build",))
    return build


def claim_from_meta(source: str, meta: Mapping[str, Any]) -> BuildClaim:
    """The claim of a variant file's reader metadata: a MAF's NCBI_Build column, else contig lengths."""
    if meta.get("format") == "maf":
        return BuildClaim(source, meta.get("build") or None, "NCBI_Build column")
    lengths = meta.get("contig_lengths") or {}
    build = meta.get("build") or (detect_build(lengths) if lengths else None)
    return BuildClaim(source, build, "header contig lengths")


def decide_declared(stated: str | None, claims: Sequence[BuildClaim]) -> BuildCall | None:
    """The build from a statement and/or headers; None when neither tells.  Files that disagree
    with each other or with the statement are refused."""
    telling = [c for c in claims if c.build]
    builds = {c.build for c in telling}
    if len(builds) > 1:
        parts = "; ".join(f"{c.source} is {c.build} by its {c.how}" for c in telling)
        raise ContigMismatchError(f"genome build mismatch: {parts}; use inputs on one build", telling[-1].source)
    if stated:
        for c in telling:
            if c.build != stated:
                raise ContigMismatchError(f"genome_build {stated} contradicts the file, which is {c.build} by its "
                                          f"{c.how}", c.source, params=("genome_build",))
        return BuildCall(stated, "stated", "stated by the user (--genome-build)")
    if telling:
        first = telling[0]
        names = ", ".join(dict.fromkeys(c.source for c in telling))
        method = {"NCBI_Build column": "ncbi_build_column",
                  "alignment header contig lengths": "alignment_header_contig_lengths"}.get(first.how,
                                                                                             "header_contig_lengths")
        return BuildCall(first.build, method, f"{first.how} of {names}")
    return None


def decide_from_shares(total: int, inside: Mapping[str, int], what: str, source: str) -> BuildCall:
    """The build whose footprint holds clearly the most variant positions, else refuse.

    ``what`` names the footprints in messages (e.g. "panel tso500's")."""
    shares = {b: {"in_footprint": int(k), "of": int(total), "share": (k / total) if total else 0.0}
              for b, k in inside.items()}
    text = ", ".join(f"{b} {k}/{total} ({100.0 * k / total if total else 0.0:.1f}%)" for b, k in inside.items())
    ranked = sorted(inside, key=lambda b: -inside[b])
    best = ranked[0]
    runner = inside[ranked[1]] if len(ranked) > 1 else 0
    if inside[best] >= MIN_IN_FOOTPRINT and inside[best] >= SHARE_RATIO * runner:
        return BuildCall(best, "variant_positions_in_footprints",
                         f"variant positions in {what} footprint per build: {text}", shares)
    raise InputError(f"cannot tell the genome build: the header has no contig lengths and the variant positions "
                     f"in {what} footprint per build are {text}; {STATE_BUILD}", source,
                     params=STATE_PARAMS)


def builds_fitting(max_end: Mapping[str, int]) -> list[str]:
    """Builds whose primary chromosomes hold every variant end (``max_end``: canonical contig -> largest
    0-based exclusive end seen); contigs a build does not list are not held against it."""
    out = []
    for b, lengths in BUILD_LENGTHS.items():
        if all(end <= lengths[c] for c, end in max_end.items() if c in lengths):
            out.append(b)
    return out


def positions_call(max_end: Mapping[str, int], source: str) -> BuildCall:
    """After reading, without any other evidence: a build only if the positions exclude the other."""
    fit = builds_fitting(max_end)
    if len(fit) == 1:
        return BuildCall(fit[0], "variant_positions_vs_contig_ends",
                         f"variant positions run past the {'/'.join(b for b in BUILDS if b not in fit)} "
                         f"chromosome ends of {source}")
    why = "no build holds every variant position" if not fit else "neither header nor positions tell"
    return BuildCall(None, "not_determined", f"{why}; the footprint does not depend on it; {HOW_TO_STATE}")


def check_positions_fit(build: str, max_end: Mapping[str, int], source: str) -> None:
    """Refuse variants past the chosen build's chromosome ends (a call set on another build)."""
    lengths = BUILD_LENGTHS.get(build, {})
    for c, end in sorted(max_end.items()):
        if c in lengths and end > lengths[c]:
            raise ContigMismatchError(f"a variant on {c} ends at {end}, past the {build} length {lengths[c]}: the "
                                      f"input is not {build}; {STATE_BUILD}", source, params=STATE_PARAMS)


def track_max_end(max_end: dict[str, int], table: Any) -> None:
    """Update canonical contig -> largest 0-based exclusive variant end with one chunk."""
    n = len(table)
    if not n:
        return
    end = table["pos"].astype(np.int64) + np.maximum(table["ref_len"].astype(np.int64), 1)
    best = np.full(len(table.contigs), -1, dtype=np.int64)
    np.maximum.at(best, table["contig"], end)
    for ci in np.flatnonzero(best >= 0).tolist():
        c = canonical(table.contigs[ci])
        max_end[c] = max(max_end.get(c, 0), int(best[ci]))


__all__ = ["BuildCall", "BuildClaim", "BUILDS", "HOW_TO_STATE", "STATE_BUILD", "STATE_PARAMS", "check_stated", "claim_from_meta",
           "decide_declared", "decide_from_shares", "builds_fitting", "positions_call",
           "check_positions_fit", "track_max_end"]
