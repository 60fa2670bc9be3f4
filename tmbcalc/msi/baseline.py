"""``msi baseline``: per-locus behaviour of normal samples, for tumor-only scoring.

Per normal and locus the statistic is the *distant fraction*: the share of measured reads whose
repeat length is at least ``min_shift_units`` repeat units away from the reference length
(stutter of +/-1 unit is not counted) - by default only *shorter* lengths (``direction``
"shorter": MSI in homopolymers is dominated by deletions, while germline length polymorphisms
go both ways, so half of them drop out).  The baseline keeps, per locus, the number of normals
with >= ``min_coverage`` measured reads (support), the mean and sample SD of their distant
fractions and the mean *adjacent* fraction (reads exactly 1 to <2 units from the reference
length, either direction; the stutter level used to rescale expectations for a tumor library
with stronger slippage).  Loci supported by fewer than ``min_support`` normals are not scored
tumor-only.

File format (TSV, plain or gzip)::

    ##tmbcalc-msi-baseline v1
    # provenance: {...}
    # parameters: {"min_coverage": 20, "min_support": 5, "min_shift_units": 2, "mapq": 20, ...}
    chrom start end unit ref_copies support mean_distant_fraction sd_distant_fraction mean_reads
    mean_adjacent_fraction
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, UsageError
from ..io.textfile import iter_lines
from .defaults import ANCHOR, EXCLUDE_FLAGS, MAPQ, MIN_COVERAGE, MIN_SUPPORT
from .loci import LociTable, read_loci
from .profile import DEFAULT_WINDOW, RepeatLengthHistogram, profile_many

MAGIC = "##tmbcalc-msi-baseline v2"  # v2 adds mean_plus1_fraction; v1 files are still read
COLUMNS_V1 = ("chrom", "start", "end", "unit", "ref_copies", "support", "mean_distant_fraction",
              "sd_distant_fraction", "mean_reads", "mean_adjacent_fraction")
COLUMNS = (*COLUMNS_V1, "mean_plus1_fraction", "shift_units")
MAX_NULL_SHARE = 0.05  # per locus, the contraction cut is deepened until the normals' mean share <= this
MAX_EXTRA_SHIFT = 2    # ... by at most 2 units beyond min_shift_units


def locus_shift(shares: np.ndarray, ok: np.ndarray, shifts: tuple[int, ...]) -> np.ndarray:
    """Per locus, the smallest shift (units) at which the supporting normals' mean contraction
    share is <= MAX_NULL_SHARE (the deepest one when none is): a locus whose library stutters a
    lot is tested where stutter no longer reaches.  ``shares``: (normals, shifts, loci)."""
    with np.errstate(invalid="ignore"):
        w = ok[:, None, :]
        mean = np.where(w, shares, 0.0).sum(axis=0) / np.maximum(w.sum(axis=0), 1)
    low = mean <= MAX_NULL_SHARE
    first = np.where(low.any(axis=0), low.argmax(axis=0), len(shifts) - 1)
    return np.asarray(shifts, dtype=np.int64)[first]
DIRECTIONS = ("shorter", "both")
MIN_SHIFT_UNITS = 2


def _shares(prof: RepeatLengthHistogram, mask: np.ndarray) -> np.ndarray:
    reads = prof.hist.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(reads > 0, (prof.hist * mask).sum(axis=1) / np.maximum(reads, 1), np.nan)


def distant_fraction_vs_reference(prof: RepeatLengthHistogram, min_shift_units: int | np.ndarray = MIN_SHIFT_UNITS,
                                  direction: str = "shorter") -> np.ndarray:
    """Per locus: share of measured reads >= min_shift_units units shorter than the reference
    length (``direction="both"``: shorter or longer); NaN without reads."""
    dev = (np.arange(prof.hist.shape[1]) - prof.window)[None, :]  # deviation from reference, bp
    shift = np.broadcast_to(np.asarray(min_shift_units, dtype=np.int64), (len(prof.loci),))
    need = (prof.loci.unit_length().astype(np.int64) * shift)[:, None]
    far = (dev <= -need) if direction == "shorter" else (np.abs(dev) >= need)
    return _shares(prof, far)


def plus_one_fraction_vs_reference(prof: RepeatLengthHistogram) -> np.ndarray:
    """Per locus: share of reads exactly one repeat unit longer than the reference (expansion
    stutter; MSI contractions rarely land there, so it measures the library's slippage)."""
    dev = (np.arange(prof.hist.shape[1]) - prof.window)[None, :]
    return _shares(prof, dev == prof.loci.unit_length().astype(np.int64)[:, None])


def adjacent_fraction_vs_reference(prof: RepeatLengthHistogram, min_shift_units: int = MIN_SHIFT_UNITS) -> np.ndarray:
    """Per locus: share of reads 1 bp to < min_shift_units units away from the reference length."""
    dev = np.abs(np.arange(prof.hist.shape[1]) - prof.window)[None, :]
    need = prof.loci.unit_length().astype(np.int64)[:, None] * min_shift_units
    return _shares(prof, (dev >= 1) & (dev < need))


@dataclass
class Baseline:
    """Per-locus normal statistics (arrays aligned with ``loci``)."""

    loci: LociTable
    support: np.ndarray  # int32: normals with >= min_coverage reads
    mean: np.ndarray  # float: mean distant fraction over supporting normals (NaN if none)
    sd: np.ndarray  # float: sample SD (ddof=1; 0 with one normal; NaN if none)
    mean_reads: np.ndarray  # float: mean measured reads over supporting normals
    mean_adjacent: np.ndarray  # float: mean adjacent (stutter) fraction over supporting normals
    mean_plus1: np.ndarray  # float: mean share exactly +1 unit above the reference (NaN: v1 file)
    parameters: dict[str, Any] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    shift_units: np.ndarray | None = None  # int: per-locus contraction cut in units (None: min_shift_units)

    def shift_of(self) -> np.ndarray:
        """Per-locus contraction cut in units (the baseline's ``min_shift_units`` for v1 files)."""
        if self.shift_units is not None:
            return self.shift_units
        return np.full(len(self.loci), int(self.parameters.get("min_shift_units", MIN_SHIFT_UNITS)), dtype=np.int32)

    def write(self, path: str | Path) -> list[Path]:
        """Write the baseline file (see module docstring) atomically; returns [path]."""
        return [write_baseline(self, path)]

    def to_dict(self) -> dict[str, Any]:
        """Summary (not the per-locus table): parameters, normals, supported loci, provenance."""
        return {"loci": len(self.loci), "supported_loci": self.n_supported, "min_support": self.min_support,
                "samples": self.samples, "parameters": self.parameters, "provenance": self.provenance}

    @property
    def min_support(self) -> int:
        return int(self.parameters.get("min_support", MIN_SUPPORT))

    @property
    def n_supported(self) -> int:
        return int((self.support >= self.min_support).sum())

    def keys(self) -> list[tuple[str, int, int, str]]:
        return [(str(c), int(s), int(e), str(u)) for c, s, e, u in
                zip(self.loci.canonical_chroms(), self.loci.start, self.loci.end, self.loci.unit)]


def msi_baseline(loci: str | Path | LociTable, normal_bams: list[str | Path], *,
                 reference: str | Path | None = None, min_coverage: int = MIN_COVERAGE,
                 min_support: int = MIN_SUPPORT, min_shift_units: int = MIN_SHIFT_UNITS,
                 direction: str = "shorter", mapq: int = MAPQ, exclude_flags: int = EXCLUDE_FLAGS,
                 anchor: int = ANCHOR, threads: int = 1, mate_dedup: bool = True) -> Baseline:
    """Profile each normal at ``loci`` and summarise per locus (write it with ``.write(path)``).

    Raises UsageError when fewer normals than ``min_support`` are given, and InputError when no
    locus reaches ``min_support`` supporting normals: such a baseline could score nothing.
    The leave-one-out null of the sample statistic (:func:`tmbcalc.msi.tumor_only.null_statistics`)
    is stored under ``parameters["null"]``.
    """
    from .tumor_only import null_statistics

    if min_coverage < 1 or min_support < 1 or min_shift_units < 1:
        raise UsageError("min_coverage, min_support and min_shift_units must be >= 1",
                         params=("min_coverage", "min_support", "min_shift_units"))
    if len(normal_bams) < min_support:
        raise UsageError(f"msi baseline got {len(normal_bams)} normal(s) but min_support is {min_support}: "
                         f"no locus could be supported; give at least {min_support} normals", params=("min_support",))
    if direction not in DIRECTIONS:
        raise UsageError(f"direction must be one of {', '.join(DIRECTIONS)}")
    from ..io.inputs import open_inputs, require_seekable

    loci, = open_inputs(loci)  # a stream is read once; BAM/CRAM need random access
    for bam in normal_bams:
        require_seekable(bam, "normal BAM/CRAM")
    table = loci if isinstance(loci, LociTable) else read_loci(loci)
    if reference is not None:
        check_reference(table, reference)
    from .build import check_alignment_builds
    from .profile import open_alignment

    check_alignment_builds(table.source or "loci", table.comments,
                           {str(b): open_alignment(b, reference)[2] for b in normal_bams})
    fracs, adjs, plus1, reads, samples = [], [], [], [], []
    profiles = profile_many(list(normal_bams), table, reference=reference, mapq=mapq,
                            exclude_flags=exclude_flags, anchor=anchor, threads=threads,
                            mate_dedup=mate_dedup)
    shifts = tuple(range(min_shift_units, min_shift_units + MAX_EXTRA_SHIFT + 1))
    for prof in profiles:  # (shifts, loci) shares per normal
        fracs.append([distant_fraction_vs_reference(prof, k, direction) for k in shifts])
        adjs.append(adjacent_fraction_vs_reference(prof, min_shift_units))
        plus1.append(plus_one_fraction_vs_reference(prof))
        reads.append(prof.reads)
        samples.append(prof.sample)
    R = np.array(reads)
    ok = R >= min_coverage
    support = ok.sum(axis=0).astype(np.int32)
    shift = locus_shift(np.array(fracs), ok, shifts)
    F = np.take_along_axis(np.array(fracs), (shift - shifts[0])[None, None, :], axis=1)[:, 0, :]
    Fm = np.where(ok, F, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(Fm, axis=0)
            sd = np.where(support >= 2, np.nanstd(Fm, axis=0, ddof=1), np.where(support == 1, 0.0, np.nan))
            mean_reads = np.nanmean(np.where(ok, R, np.nan), axis=0)
            mean_adj = np.nanmean(np.where(ok, np.array(adjs), np.nan), axis=0)
            mean_plus1 = np.nanmean(np.where(ok, np.array(plus1), np.nan), axis=0)
    params = {"min_coverage": min_coverage, "min_support": min_support, "min_shift_units": min_shift_units,
              "direction": direction,
              "mapq": mapq, "exclude_flags": exclude_flags, "anchor": anchor, "window": DEFAULT_WINDOW,
              "mate_dedup": mate_dedup,
              "normals": len(normal_bams)}
    if not (support >= min_support).any():
        raise InputError(f"no locus has >= {min_coverage} measured reads in >= {min_support} of the "
                         f"{len(normal_bams)} normals: this baseline could score nothing (most loci "
                         f"measured: {int(support.max()) if support.size else 0} normals)", str(normal_bams[0]))
    params["null"] = null_statistics(F, R, min_coverage, min_support)
    from ..provenance import build_provenance

    prov = build_provenance("msi baseline", params,
                            {"loci": None if isinstance(loci, LociTable) else loci, "normal_bams": list(normal_bams),
                             "reference": reference}, samples=samples)
    return Baseline(table, support, mean, sd, mean_reads, mean_adj, mean_plus1, params, samples, provenance=prov,
                    shift_units=shift.astype(np.int32))


def check_reference(table: LociTable, reference: str | Path) -> None:
    """Refuse a reference that is not indexed, shares no contig with the loci, or disagrees with
    any locus' repeat and flanks (loci from another build)."""
    import pysam

    from ..contigs import canonical
    from ..errors import ContigMismatchError
    from ..errors import require_readable
    from ..io.fasta import indexed
    from .loci import check_against_reference

    ref = require_readable(reference, "reference FASTA")
    if not indexed(ref):
        raise InputError("reference FASTA has no index (.fai, and .gzi when bgzip-compressed); create "
                         f"it with 'samtools faidx {ref}'", ref)
    try:
        fa = pysam.FastaFile(str(ref))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot open reference FASTA ({exc})", ref) from None
    with fa:
        if not {canonical(c) for c in table.contigs()} & {canonical(c) for c in fa.references}:
            raise ContigMismatchError(
                f"shares no contigs with the loci file {table.source} (reference: "
                f"{', '.join(list(fa.references)[:4])}...; loci: {', '.join(table.contigs()[:4])}...)", ref)
        check_against_reference(table, fa, str(ref))


def _fmt(x: float) -> str:
    return "NA" if not np.isfinite(x) else f"{x:.6g}"


def write_baseline(base: Baseline, output: str | Path) -> Path:
    """Write ``base`` to ``output`` (``.gz``: gzip) atomically."""
    from ..output import OutputSet

    out = Path(output)
    with OutputSet(str(out), inputs=base.provenance.get("inputs")) as outs:
        with outs.open("", gzip_level=6 if out.name.endswith(".gz") else None) as fh:
            fh.write(MAGIC + "\n")
            fh.write(f"# provenance: {json.dumps(base.provenance, sort_keys=True)}\n")
            fh.write(f"# parameters: {json.dumps(base.parameters, sort_keys=True)}\n")
            fh.write("\t".join(COLUMNS) + "\n")
            t = base.loci
            for i in range(len(t)):
                fh.write(f"{t.chrom[i]}\t{int(t.start[i])}\t{int(t.end[i])}\t{t.unit[i]}\t{int(t.ref_copies[i])}\t"
                         f"{int(base.support[i])}\t{_fmt(base.mean[i])}\t{_fmt(base.sd[i])}\t"
                         f"{_fmt(base.mean_reads[i])}\t{_fmt(base.mean_adjacent[i])}\t{_fmt(base.mean_plus1[i])}\t"
                         f"{int(base.shift_of()[i])}\n")
    return out


def _row_problem(row: tuple) -> str | None:
    """What is wrong with one parsed baseline row (support, fractions in [0, 1], SD >= 0; NA only
    where no normal supports the locus), or None."""
    start, end, copies, support, mean, sd, reads, adjacent = row[1], row[2], row[4], row[5], *row[6:10]
    if start < 0 or end <= start or copies < 0 or support < 0:
        return "negative or empty coordinates, copies or support"
    for name, v, hi in (("mean_distant_fraction", mean, 1.0), ("sd_distant_fraction", sd, 1.0),
                        ("mean_reads", reads, math.inf), ("mean_adjacent_fraction", adjacent, 1.0),
                        ("mean_plus1_fraction", row[10], 1.0)):
        if math.isnan(v):
            if support > 0 and name != "mean_plus1_fraction":  # absent from v1 files
                return f"{name} is NA at a locus supported by {support} normal(s)"
        elif not (0.0 <= v <= hi) or math.isinf(v):
            return f"{name} {v!r} is outside [0, {hi:g}]"
    if row[11] == 0 or row[11] < -1:
        return f"shift_units {row[11]} must be >= 1"
    return None


def read_baseline(path: str | Path) -> Baseline:
    """Read a baseline file written by :func:`msi_baseline` (errors name the line)."""
    p = Path(path)
    params: dict[str, Any] | None = None
    rows: list[tuple] = []
    header = False
    ncol = len(COLUMNS)
    for n, line in iter_lines(p):
        if not line.strip():
            continue
        if not header:
            if line.startswith("# parameters:"):
                try:
                    params = json.loads(line.split(":", 1)[1])
                except json.JSONDecodeError:
                    raise InputError(f"line {n}: unreadable parameters line", p) from None
                continue
            if line.startswith("#"):
                continue
            if tuple(line.split("\t")) == COLUMNS_V1:
                ncol = len(COLUMNS_V1)
            elif tuple(line.split("\t")) != COLUMNS:
                raise InputError(f"line {n}: not a tmbcalc MSI baseline (expected header "
                                 f"'{' '.join(COLUMNS)}')", p)
            header = True
            continue
        f = line.split("\t")
        if len(f) != ncol:
            raise InputError(f"line {n}: expected {ncol} columns, found {len(f)}", p)
        try:
            rows.append((f[0], int(f[1]), int(f[2]), f[3], int(f[4]), int(f[5]),
                         *(float("nan") if x == "NA" else float(x) for x in f[6:11]),
                         *([float("nan")] if ncol == len(COLUMNS_V1) else []),
                         int(f[11]) if ncol == len(COLUMNS) else -1))
        except ValueError:
            raise InputError(f"line {n}: non-numeric value", p) from None
        problem = _row_problem(rows[-1])
        if problem:
            raise InputError(f"line {n}: {problem}", p)
    if not header or params is None:
        raise InputError("not a tmbcalc MSI baseline (no '# parameters:' and header lines)", p)
    if not rows:
        raise InputError("baseline lists no loci", p)
    cols = list(zip(*rows))
    k = len(rows)
    table = LociTable(np.array(cols[0], dtype=object), np.array(cols[1], dtype=np.int64),
                      np.array(cols[2], dtype=np.int64), np.array(cols[3], dtype=object),
                      np.array(cols[4], dtype=np.int32), np.array([""] * k, dtype=object),
                      np.array([""] * k, dtype=object), np.array([""] * k, dtype=object), source=str(p))
    return Baseline(table, np.array(cols[5], dtype=np.int32), np.array(cols[6], dtype=float),
                    np.array(cols[7], dtype=float), np.array(cols[8], dtype=float), np.array(cols[9], dtype=float), np.array(cols[10], dtype=float),
                    params, shift_units=None if ncol != len(COLUMNS) else np.array(cols[11], dtype=np.int32))
