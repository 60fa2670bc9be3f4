"""``msi scan``: find microsatellites in a reference FASTA and write a loci file.

Rules (documented in docs/msi.md; the tests check them against an independent regex oracle):

1. Candidates: for every unit length p = 1..``max_unit``, maximal runs in which each base
   equals the base p positions later (ACGT only; any other letter - N, IUPAC - breaks runs).
   Whole copies form the repeat span; a trailing partial copy belongs to the right flank.
   Candidates whose unit is itself a repetition (``ATAT``, ``AA``) are dropped: the minimal
   unit reports the same sequence.  Homopolymers need >= ``min_homopolymer`` bp, 2-6 bp units
   >= ``min_copies`` copies.
2. Overlaps (compound repeats): among candidates whose spans overlap, the longest span wins
   (ties: shorter unit, then leftmost); losers are dropped.  This is done *before* the
   filters below, so a too-long repeat still suppresses a shorter one inside or beside it.
3. Filters: homopolymers longer than ``max_homopolymer`` and 2-6 bp repeats longer than
   ``max_repeat_length`` bp are dropped (reads cannot span them with anchors); both flanks of
   ``flank`` bp must lie inside the contig and consist of ACGT only; with a footprint, the
   repeat span must lie fully inside one footprint interval.

Defaults follow MSIsensor-pro's documented ``scan`` defaults (homopolymer >= 8 bp and <= 50
bp, >= 5 copies for 2-6 bp units; Jia et al. 2020) except the flank, 10 bp instead of 5, which
gives the profile step room to anchor reads.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..contigs import canonical, shared_contigs
from ..errors import InputError, UsageError
from ..ext import load_kernel
from ..regions import RegionSet
from ..io.fasta import contig_names, index_lengths, iter_contigs
from .build import reference_build
from .loci import LociTable, write_loci

from .defaults import FLANK as DEFAULT_FLANK
from .defaults import MAX_HOMOPOLYMER as DEFAULT_MAX_HOMOPOLYMER
from .defaults import MAX_REPEAT_LENGTH as DEFAULT_MAX_REPEAT_LENGTH
from .defaults import MIN_COPIES as DEFAULT_MIN_COPIES
from .defaults import MIN_HOMOPOLYMER as DEFAULT_MIN_HOMOPOLYMER


@dataclass
class ScanResult:
    """Loci found by :func:`msi_scan` plus what was scanned."""

    loci: LociTable
    contigs_scanned: list[str]
    bases_scanned: int
    n_homopolymers: int
    parameters: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Summary (not the loci themselves): counts, contigs, parameters, provenance."""
        return {"loci": len(self.loci), "homopolymers": self.n_homopolymers, "contigs_scanned": self.contigs_scanned,
                "bases_scanned": self.bases_scanned, "parameters": self.parameters, "provenance": self.provenance}

    def write(self, path: str | Path) -> list[Path]:
        """Write the loci file (``.gz``: gzip) atomically; returns [path]."""
        from ..output import OutputSet

        prov = self.provenance
        lines = [f"tmbcalc {prov.get('version')} msi scan; created {prov.get('created_utc')}",
                 f"provenance: {json.dumps(prov, sort_keys=True)}",
                 "coordinates: 0-based half-open repeat spans; flanks = reference bases beside the span"]
        out = Path(path)
        with OutputSet(str(out), inputs=prov.get("inputs")) as outs:
            with outs.open("", gzip_level=6 if out.name.endswith(".gz") else None) as fh:
                write_loci(self.loci, fh, lines)
        return [out]


def resolve_overlaps(start: np.ndarray, span: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Indices kept after overlap resolution (longest span, then shortest unit, then leftmost).

    Candidates are grouped into clusters of transitively overlapping spans; single-member
    clusters are kept as they are, larger ones are resolved greedily by priority.
    """
    n = start.size
    if n == 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(start, kind="stable")
    s = start[order]
    e = s + span[order]
    run_end = np.maximum.accumulate(e)
    new_cluster = np.ones(n, dtype=bool)
    new_cluster[1:] = s[1:] >= run_end[:-1]
    cid = np.cumsum(new_cluster) - 1
    sizes = np.bincount(cid)
    single = sizes[cid] == 1
    keep = [order[single]]
    multi = np.nonzero(~single)[0]
    if multi.size:
        bounds = np.nonzero(np.diff(cid[multi]))[0] + 1
        for group in np.split(multi, bounds):
            idx = order[group]
            prio = sorted(idx.tolist(), key=lambda k: (-int(span[k]), int(unit[k]), int(start[k])))
            taken: list[tuple[int, int]] = []
            for k in prio:
                a, b = int(start[k]), int(start[k] + span[k])
                if all(b <= x or a >= y for x, y in taken):
                    taken.append((a, b))
                    keep.append(np.array([k]))
    out = np.concatenate(keep)
    return np.sort(out)


def _footprint(bed: str | Path | RegionSet | None) -> RegionSet | None:
    if bed is None or isinstance(bed, RegionSet):
        return bed
    from ..io.bed import read_bed

    return read_bed(bed)


def scan_sequence(seq: bytes, *, min_homopolymer: int = DEFAULT_MIN_HOMOPOLYMER,
                  max_homopolymer: int = DEFAULT_MAX_HOMOPOLYMER, min_copies: int = DEFAULT_MIN_COPIES,
                  max_repeat_length: int = DEFAULT_MAX_REPEAT_LENGTH, max_unit: int = 6,
                  flank: int = DEFAULT_FLANK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loci of one sequence as ``(start, copies, unit_len)`` arrays sorted by start (rules 1-3,
    without the footprint)."""
    kern = load_kernel("_msiscan")
    buf = np.frombuffer(seq, dtype=np.uint8)
    start, copies, unit = kern.find_runs(buf, max_unit, min_homopolymer, min_copies)
    span = copies.astype(np.int64) * unit
    keep = resolve_overlaps(start, span, unit)
    start, copies, unit, span = start[keep], copies[keep], unit[keep], span[keep]
    ok = np.where(unit == 1, span <= max_homopolymer, span <= max_repeat_length)
    start, copies, unit, span = start[ok], copies[ok], unit[ok], span[ok]
    ok = kern.flanks_ok(buf, np.ascontiguousarray(start), np.ascontiguousarray(start + span), flank).view(bool)
    start, copies, unit = start[ok], copies[ok], unit[ok]
    order = np.argsort(start, kind="stable")
    return start[order], copies[order], unit[order]


def _validate(min_homopolymer: int, max_homopolymer: int, min_copies: int, max_repeat_length: int,
              max_unit: int, flank: int) -> None:
    if min_homopolymer < 2 or max_homopolymer < min_homopolymer:
        raise UsageError("min_homopolymer must be >= 2 and <= max_homopolymer",
                         params=("min_homopolymer", "max_homopolymer"))
    if min_copies < 2:
        raise UsageError("min_copies must be >= 2", params=("min_copies",))
    if not 1 <= max_unit <= 6:
        raise UsageError("max_unit must be 1-6", params=("max_unit",))
    if max_repeat_length < 4:
        raise UsageError("max_repeat_length must be >= 4", params=("max_repeat_length",))
    if not 1 <= flank <= 100:
        raise UsageError("flank must be 1-100", params=("flank",))


def msi_scan(reference: str | Path, *, footprint: str | Path | RegionSet | None = None,
             min_homopolymer: int = DEFAULT_MIN_HOMOPOLYMER, max_homopolymer: int = DEFAULT_MAX_HOMOPOLYMER,
             min_copies: int = DEFAULT_MIN_COPIES, max_repeat_length: int = DEFAULT_MAX_REPEAT_LENGTH,
             max_unit: int = 6, flank: int = DEFAULT_FLANK) -> ScanResult:
    """Scan ``reference`` (plain/gzip/bgzip FASTA) for microsatellites (write with ``.write(path)``).

    ``footprint`` (BED path or RegionSet) keeps only repeats lying fully inside it.  Lengths in
    bp; ``min_copies`` applies to 2-6 bp units.  Raises InputError/UsageError on bad input.
    """
    _validate(min_homopolymer, max_homopolymer, min_copies, max_repeat_length, max_unit, flank)
    from ..io.inputs import open_inputs

    reference, footprint = open_inputs(reference, footprint)  # a stream is read once (FIFO, <(cmd))
    ref = Path(reference)
    regions = _footprint(footprint)
    names = contig_names(ref)
    if regions is not None:
        if regions.is_empty():
            raise InputError("footprint BED has no intervals", str(footprint))
        shared_contigs(names, regions.contigs, str(ref), str(footprint))
    params = {"min_homopolymer": min_homopolymer, "max_homopolymer": max_homopolymer,
              "min_repeat_copies": min_copies, "max_repeat_length": max_repeat_length,
              "max_unit": max_unit, "flank": flank}

    def want(name: str) -> bool:
        return regions is None or canonical(name) in regions.by_contig

    cols: dict[str, list[Any]] = {k: [] for k in ("chrom", "start", "end", "unit", "ref_copies",
                                                   "left_flank", "right_flank", "name")}
    scanned: list[str] = []
    bases = 0
    lengths = index_lengths(ref)
    for name, seq in iter_contigs(ref, want):
        if seq is None:
            continue
        scanned.append(name)
        bases += len(seq)
        lengths[name] = len(seq)
        start, copies, unit = scan_sequence(seq, min_homopolymer=min_homopolymer,
                                            max_homopolymer=max_homopolymer, min_copies=min_copies,
                                            max_repeat_length=max_repeat_length, max_unit=max_unit,
                                            flank=flank)
        end = start + copies.astype(np.int64) * unit
        if regions is not None:
            iv_s, iv_e = regions.by_contig[canonical(name)]
            j = np.searchsorted(iv_s, start, side="right") - 1
            inside = (j >= 0) & (iv_e[np.maximum(j, 0)] >= end)
            start, copies, unit, end = start[inside], copies[inside], unit[inside], end[inside]
        for s, e, u, c in zip(start.tolist(), end.tolist(), unit.tolist(), copies.tolist()):
            cols["chrom"].append(name)
            cols["start"].append(s)
            cols["end"].append(e)
            cols["unit"].append(seq[s:s + u].decode().upper())
            cols["ref_copies"].append(c)
            cols["left_flank"].append(seq[s - flank:s].decode().upper())
            cols["right_flank"].append(seq[e:e + flank].decode().upper())
            cols["name"].append("")
    from ..provenance import build_provenance

    table = LociTable._from_lists(cols, [], "")
    n_homo = int(sum(1 for u in table.unit if len(u) == 1))
    build = reference_build(lengths, str(ref))
    if build["build"] and regions is not None and not isinstance(footprint, RegionSet):
        from ..panels.registry import check_regions_fit_build

        check_regions_fit_build(regions, build["build"], Path(footprint))
    prov = build_provenance("msi scan", params, {"reference": ref, "footprint": footprint
                                                 if not isinstance(footprint, RegionSet) else None},
                            genome_build=build)
    res = ScanResult(table, scanned, bases, n_homo, params, prov)
    return res
