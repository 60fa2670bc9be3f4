"""Callable footprint from BAM/CRAM read depth, without numpy, pandas or the pysam Python package.

This is the engine behind ``tmbcalc callable`` (which imports only this module, the BED parser
:mod:`tmbcalc.io.bed_text` and the compiled kernel) and behind
:func:`tmbcalc.callable.compute_callable` (which wraps the result in RegionSets and arrays).

A base of the footprint is *callable* when the tumor depth is >= ``min_depth`` and, if a normal
is given, the normal depth is >= ``min_normal_depth``.  Depth follows mosdepth's conventions by
default (see ``docs/callable.md`` and :mod:`tmbcalc.ext._depth`).  Coordinates are 0-based
half-open; footprints are ``{canonical contig: [(start, end), ...]}`` sorted and merged
(book-ended intervals fused); depths are integers (reads per base).
"""
from __future__ import annotations

import math
import threading
from array import array
from pathlib import Path
from typing import Any, NamedTuple

from ..contigs import canonical, check_same_build, detect_build, native_map, shared_contigs
from ..io.alignment import open_alignment as checked_open
from ..errors import ContigMismatchError, InputError, UsageError, require_readable
from ..intervals import Footprint, Targets, intersect_intervals, merge_intervals

DEFAULT_MAPQ = 20
DEFAULT_EXCLUDE_FLAGS = 1796  # BAM_FUNMAP | BAM_FSECONDARY | BAM_FQCFAIL | BAM_FDUP (as mosdepth -F)
MATE_OVERLAP_MODES = {"none": 0, "fragment": 1, "mosdepth": 2}
MIN_CHUNK_BP = 50_000  # with threads > 1, contigs are cut into chunks of at least this footprint size

def mosdepth_equivalent(mapq: int, exclude_flags: int, mate_overlap: str, count_deletions: bool) -> str | None:
    """The mosdepth options giving the same per-base depth, or None if mosdepth cannot."""
    if count_deletions or mate_overlap == "none":
        return None
    extra = "" if mate_overlap == "mosdepth" else " (identical except mates contained in a single-block mate)"
    return f"mosdepth -F {exclude_flags} -Q {mapq}{extra}"


class CoreResult(NamedTuple):
    """Callable part of a footprint and the coverage behind it (plain Python containers).

    ``callable`` maps canonical contigs (tumor header order) to merged runs; ``target_columns``
    are the PREFIX.coverage.tsv columns (lists, NaN for empty targets); ``contig_rows`` one dict
    per footprint contig.
    """

    callable: Footprint
    footprint: Footprint
    parameters: dict[str, Any]
    target_columns: dict[str, list]
    contig_rows: list[dict[str, Any]]
    inputs: dict[str, str | None]
    native_names: dict[str, str]
    contig_order: tuple[str, ...]

    @property
    def callable_bp(self) -> int:
        return sum(e - s for iv in self.callable.values() for s, e in iv)

    @property
    def footprint_bp(self) -> int:
        return sum(e - s for iv in self.footprint.values() for s, e in iv)


# ---------------------------------------------------------------------------------------------
# input checks

def _kernel():
    from ..ext import load_kernel

    return load_kernel("_depth")


def bam_contig_lengths(path: str | Path) -> dict[str, int] | None:
    """Contig name -> length from a BAM/CRAM header (None when the file cannot be opened)."""
    try:
        rdr = _kernel().DepthReader(str(path), None, 0, False)
    except (OSError, ValueError):
        return None
    return dict(rdr.contigs())


def share_one_malloc_arena() -> None:
    """Let worker threads share one malloc arena (see ``_depth.single_malloc_arena``)."""
    _kernel().single_malloc_arena()


def write_bgzf_with_tabix(text: bytes, bgzf_path: str | Path, tbi_path: str | Path) -> None:
    """Write BED ``text`` BGZF-compressed with its tabix index (as ``bgzip`` + ``tabix -p bed``)."""
    _kernel().write_bgzf_with_tabix(text, str(bgzf_path), str(tbi_path))


def open_alignment(path: Path, reference: Path | None, what: str):
    """Open an alignment file with its index (:func:`tmbcalc.io.alignment.open_alignment`'s checks);
    raise InputError for every bad-input case."""
    def reader(p: Path, ref: Path | None):
        rdr = _kernel().DepthReader(str(p), None if ref is None else str(ref))
        return rdr, bool(rdr.has_index)

    return checked_open(path, reference, reader, what)


def _check_contigs(footprint: Footprint, lengths: dict[str, int], path: Path, fp_name: str) -> None:
    """Every footprint contig must be in the alignment header and the intervals inside it."""
    shared_contigs(list(footprint), list(lengths), fp_name, str(path))
    canon = {canonical(n): ln for n, ln in lengths.items()}
    missing = [c for c in footprint if c not in canon]
    if missing:
        raise ContigMismatchError(
            f"footprint contig(s) {', '.join(missing[:6])}{'...' if len(missing) > 6 else ''} of {fp_name} "
            f"are not in this alignment header (different reference?)", path)
    for c, iv in footprint.items():
        if iv and iv[-1][1] > canon[c]:
            raise ContigMismatchError(
                f"{fp_name} has intervals on {c} up to {iv[-1][1]} but the contig is {canon[c]} bp long "
                f"in this alignment header (different genome build?)", path)


def _check_parameters(min_depth: int, min_normal_depth: int | None, normal_bam: Any, mapq: int,
                      exclude_flags: int, threads: int, mate_overlap: str) -> int | None:
    """Validate the thresholds/options; return the effective min_normal_depth."""
    if isinstance(min_depth, bool) or int(min_depth) < 1:
        raise UsageError(f"min_depth must be >= 1 (got {min_depth})", params=("min_depth",))
    if normal_bam is None and min_normal_depth is not None:
        raise UsageError("min_normal_depth needs normal_bam", params=("min_normal_depth", "normal_bam"))
    if normal_bam is not None and min_normal_depth is None:
        min_normal_depth = int(min_depth)
    if min_normal_depth is not None and int(min_normal_depth) < 1:
        raise UsageError(f"min_normal_depth must be >= 1 (got {min_normal_depth})", params=("min_normal_depth",))
    if not 0 <= int(mapq) <= 255:
        raise UsageError(f"mapq must be in 0..255 (got {mapq})", params=("mapq",))
    if not 0 <= int(exclude_flags) <= 0xFFFF:
        raise UsageError(f"exclude_flags must be in 0..65535 (got {exclude_flags})", params=("exclude_flags",))
    if int(threads) < 1:
        raise UsageError(f"threads must be >= 1 (got {threads})", params=("threads",))
    if mate_overlap not in MATE_OVERLAP_MODES:
        raise UsageError(f"mate_overlap must be one of {', '.join(MATE_OVERLAP_MODES)} (got {mate_overlap!r})",
                         params=("mate_overlap",))
    return min_normal_depth


# ---------------------------------------------------------------------------------------------
# main entry point

def compute(tumor_bam: str | Path, footprint: Footprint, *, normal_bam: str | Path | None = None,
            min_depth: int, min_normal_depth: int | None = None, mapq: int | None = DEFAULT_MAPQ,
            exclude_flags: int = DEFAULT_EXCLUDE_FLAGS, reference: str | Path | None = None,
            threads: int = 1, targets: Targets | None = None, count_deletions: bool = False,
            mate_overlap: str = "fragment", footprint_name: str = "footprint") -> CoreResult:
    """Callable footprint: bases with tumor depth >= ``min_depth`` (and normal >= ``min_normal_depth``).

    ``footprint``: {canonical contig: sorted merged [(start, end)]}.  ``min_normal_depth``
    defaults to ``min_depth`` when a normal is given; ``mapq`` is the minimum mapping quality
    (mosdepth ``-Q``).  ``threads`` workers read consecutive chunks of the footprint in parallel
    (one file handle each); results do not depend on it.  ``targets`` give the rows of the
    per-target table; without them the footprint's intervals are used.
    """
    mapq = DEFAULT_MAPQ if mapq is None else int(mapq)
    min_normal_depth = _check_parameters(min_depth, min_normal_depth, normal_bam, mapq, exclude_flags,
                                         threads, mate_overlap)
    footprint = {c: iv for c, iv in footprint.items() if iv}
    if not footprint:
        raise InputError(f"{footprint_name} is empty: no bases to compute coverage on")

    from ..io.inputs import require_seekable

    require_seekable(tumor_bam, "tumor BAM/CRAM"), require_seekable(normal_bam, "normal BAM/CRAM")
    tumor = require_readable(tumor_bam, "tumor BAM/CRAM")
    normal = require_readable(normal_bam, "normal BAM/CRAM") if normal_bam is not None else None
    ref = require_readable(reference, "reference FASTA") if reference is not None else None

    t_rdr = open_alignment(tumor, ref, "tumor BAM/CRAM")
    t_contigs = dict(t_rdr.contigs())
    _check_contigs(footprint, t_contigs, tumor, footprint_name)
    n_rdr = None
    n_contigs: dict[str, int] = {}
    if normal is not None:
        n_rdr = open_alignment(normal, ref, "normal BAM/CRAM")
        n_contigs = dict(n_rdr.contigs())
        _check_contigs(footprint, n_contigs, normal, footprint_name)
        check_same_build((str(tumor), detect_build(t_contigs)), (str(normal), detect_build(n_contigs)))
        tc = {canonical(k): v for k, v in t_contigs.items()}
        nc = {canonical(k): v for k, v in n_contigs.items()}
        diff = [c for c in footprint if tc[c] != nc[c]]
        if diff:
            raise ContigMismatchError(f"contig length differs from the tumor's for {', '.join(diff[:6])} "
                                      f"(different reference?)", normal)
    if targets is not None and len(targets):
        # (zero-length records have no bases: they become NA rows wherever they are)
        missing = sorted({c for c, s, e in zip(targets.contigs, targets.starts, targets.ends)
                          if e > s and c not in footprint})
        if missing:
            raise ContigMismatchError(f"targets on contig(s) {', '.join(missing[:6])} are outside the footprint",
                                      targets.source)

    t_native = native_map(t_contigs)
    n_native = native_map(n_contigs)
    t_tid = {name: i for i, name in enumerate(t_contigs)}
    n_tid = {name: i for i, name in enumerate(n_contigs)}
    order = sorted(footprint, key=lambda c: t_tid[t_native[c]])  # tumor header order
    params = {
        "min_depth": int(min_depth),
        "min_normal_depth": None if min_normal_depth is None else int(min_normal_depth),
        "mapq": mapq,
        "exclude_flags": int(exclude_flags),
        "count_deletions": bool(count_deletions),
        "mate_overlap": mate_overlap,
        "threads": int(threads),
        "mosdepth_equivalent": mosdepth_equivalent(mapq, int(exclude_flags), mate_overlap, bool(count_deletions)),
    }
    # target rows (row index, contig, start, end, name)
    if targets is not None and len(targets):
        rows = list(zip(targets.contigs, targets.starts, targets.ends, targets.names))
    else:
        rows = [(c, s, e, "") for c in order for s, e in footprint[c]]

    plan = _Plan(footprint, rows, order, int(threads))
    spec = _ScanSpec(tumor, normal, ref, n_rdr is not None, t_tid, n_tid, t_native, n_native, int(min_depth),
                     int(min_normal_depth or 0), mapq, int(exclude_flags), MATE_OVERLAP_MODES[mate_overlap],
                     bool(count_deletions))
    outs = _run_jobs(spec, plan.jobs, t_rdr, n_rdr, int(threads))
    return plan.assemble(outs, params, t_native, normal is not None, {
        "tumor_bam": str(tumor), "normal_bam": None if normal is None else str(normal),
        "reference": None if ref is None else str(ref)})


class _ScanSpec(NamedTuple):
    tumor: Path
    normal: Path | None
    ref: Path | None
    has_normal: bool
    t_tid: dict[str, int]
    n_tid: dict[str, int]
    t_native: dict[str, str]
    n_native: dict[str, str]
    min_depth: int
    min_normal: int
    mapq: int
    flags: int
    overlap: int
    count_del: bool


class _Job(NamedTuple):
    """One chunk of one contig: a layout and the (clipped) targets inside it."""

    contig: str
    layout: list[tuple[int, int]]
    count_from: int
    cut_inside: bool  # the chunk starts at a cut inside a footprint interval (not at its start)
    rows: list[int]  # target row per kernel target (negative: hidden footprint rows)
    t_starts: list[int]
    t_ends: list[int]
    complete: bytes


class _Plan:
    """Cut the contigs into chunks (jobs) and put the chunk results back together."""

    def __init__(self, footprint: Footprint, rows: list[tuple[str, int, int, str]], order: list[str],
                 workers: int) -> None:
        self.footprint = footprint
        self.rows = rows
        self.order = order
        by_contig: dict[str, list[tuple[int, int, int]]] = {c: [] for c in order}
        for i, (c, s, e, _n) in enumerate(rows):
            if e > s:
                by_contig[c].append((s, e, i))
        self.region: Footprint = {}
        self.jobs: list[_Job] = []
        self.hidden: dict[str, int] = {}  # contigs whose footprint sum comes from hidden rows
        for c in order:
            region = merge_intervals([*footprint[c], *((s, e) for s, e, _ in by_contig[c])])
            tgts = by_contig[c]
            if region != footprint[c]:  # targets outside the footprint: footprint sums separately
                self.hidden[c] = len(tgts)
                tgts = tgts + [(s, e, -1 - k) for k, (s, e) in enumerate(footprint[c])]
            tgts.sort()
            self.region[c] = region
            self.jobs += self._chunks(c, region, tgts, workers)

    @staticmethod
    def _chunks(c: str, region: list[tuple[int, int]], tgts: list[tuple[int, int, int]], pieces: int) -> list[_Job]:
        """Cut a contig's intervals into <= ``pieces`` consecutive chunks of ~equal size."""
        total = sum(e - s for s, e in region)
        pieces = max(1, min(pieces, total // MIN_CHUNK_BP or 1))
        cuts = []
        acc, j = 0, 0
        for k in range(1, pieces):
            want = total * k // pieces
            while acc + region[j][1] - region[j][0] <= want:
                acc += region[j][1] - region[j][0]
                j += 1
            cuts.append(region[j][0] + want - acc)
        bounds = [region[0][0], *cuts, region[-1][1]]
        jobs = []
        prev_end = -1
        interval_starts = {s for s, _ in region}
        for k in range(len(bounds) - 1):
            a, b = bounds[k], bounds[k + 1]
            layout = [(max(s, a), min(e, b)) for s, e in region if s < b and e > a]
            if not layout:
                continue
            sel = [(max(s, a), min(e, b), i, s >= a and e <= b) for s, e, i in tgts if s < b and e > a]
            jobs.append(_Job(c, layout, prev_end, layout[0][0] not in interval_starts, [x[2] for x in sel],
                             [x[0] for x in sel], [x[1] for x in sel], bytes(int(x[3]) for x in sel)))
            prev_end = layout[-1][1]
        return jobs

    def assemble(self, outs: list, params: dict[str, Any], t_native: dict[str, str], has_normal: bool,
                 inputs: dict[str, str | None]) -> CoreResult:
        m = len(self.rows)
        samples = ("t", "n") if has_normal else ("t",)
        acc = {x: _TargetAcc(m) for x in samples}
        contig_acc: dict[str, dict[str, Any]] = {}
        runs: dict[str, list[tuple[int, int]]] = {c: [] for c in self.order}
        for job, res in zip(self.jobs, outs):
            ca = contig_acc.setdefault(job.contig, {"sum_t": 0, "sum_n": 0, "used_t": 0, "used_n": 0,
                                                    "fp_t": 0, "fp_n": 0})
            ca["sum_t"] += res.sum_t
            ca["sum_n"] += res.sum_n
            ca["used_t"] += res.used_t
            ca["used_n"] += res.used_n
            r = res.runs
            lst = runs[job.contig]
            for k in range(0, len(r), 2):
                if lst and lst[-1][1] == r[k]:  # a run continuing across a chunk edge
                    lst[-1] = (lst[-1][0], r[k + 1])
                else:
                    lst.append((r[k], r[k + 1]))
            for x, stats in (("t", res.tumor), ("n", res.normal)):
                if x not in acc:
                    continue
                for i, row in enumerate(job.rows):
                    if row < 0:
                        ca["fp_" + x] += stats.total[i]
                    else:
                        acc[x].add(row, stats, i)
        callable_runs: Footprint = {}
        contig_rows = []
        for c in self.order:
            cr = runs[c] if self.region[c] == self.footprint[c] else intersect_intervals(runs[c], self.footprint[c])
            if cr:
                callable_runs[c] = cr
            fp_bp = sum(e - s for s, e in self.footprint[c])
            cbp = sum(e - s for s, e in cr)
            ca = contig_acc[c]
            fsum = ca["fp_t"] if c in self.hidden else ca["sum_t"]
            row = {"contig": t_native[c], "footprint_bp": fp_bp, "callable_bp": cbp, "callable_fraction": cbp / fp_bp,
                   "mean_depth": fsum / fp_bp, "reads_used": ca["used_t"]}
            if has_normal:
                nsum = ca["fp_n"] if c in self.hidden else ca["sum_n"]
                row["normal_mean_depth"] = nsum / fp_bp
                row["normal_reads_used"] = ca["used_n"]
            contig_rows.append(row)
        cols: dict[str, list] = {
            "chrom": [t_native.get(r[0], r[0]) for r in self.rows], "start": [r[1] for r in self.rows],
            "end": [r[2] for r in self.rows], "name": [r[3] for r in self.rows]}
        for x, prefix in (("t", ""), ("n", "normal_")):
            if x in acc:
                mean, med, frac = acc[x].finish()
                cols[prefix + "mean_depth"], cols[prefix + "median_depth"] = mean, med
                cols[prefix + "frac_ge_min_depth"] = frac
        return CoreResult(callable=callable_runs, footprint=self.footprint, parameters=params, target_columns=cols,
                          contig_rows=contig_rows, inputs=inputs, native_names=t_native,
                          contig_order=tuple(self.order))


class _TargetAcc:
    """Per-target sums over chunks; medians of targets cut by chunk edges from merged histograms."""

    def __init__(self, m: int) -> None:
        self.n = [0] * m
        self.total = [0] * m
        self.ge = [0] * m
        self.median = [math.nan] * m
        self.hist: dict[int, dict[int, int]] = {}

    def add(self, row: int, stats, i: int) -> None:
        self.n[row] += stats.n[i]
        self.total[row] += stats.total[i]
        self.ge[row] += stats.ge[i]
        part = stats.partial.get(i)
        if part is None:
            self.median[row] = stats.median[i]
        else:
            h = self.hist.setdefault(row, {})
            for v, k in part:
                h[v] = h.get(v, 0) + k

    def finish(self) -> tuple[list[float], list[float], list[float]]:
        for row, h in self.hist.items():
            self.median[row] = _hist_median(h)
        mean = [t / n if n else math.nan for t, n in zip(self.total, self.n)]
        frac = [g / n if n else math.nan for g, n in zip(self.ge, self.n)]
        return mean, self.median, frac


def _hist_median(h: dict[int, int]) -> float:
    """Median of a {value: count} histogram (mean of the two middle values for an even count)."""
    n = sum(h.values())
    if not n:
        return math.nan
    want = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
    got = []
    cum = 0
    for v in sorted(h):
        cum += h[v]
        while want and cum > want[0]:
            got.append(v)
            want.pop(0)
    return float(got[0]) if len(got) == 1 else (got[0] + got[1]) / 2.0


def _run_jobs(spec: _ScanSpec, jobs: list[_Job], t_rdr, n_rdr, workers: int) -> list:
    """Scan every chunk (in parallel with workers > 1, one pair of file handles per thread)."""
    kernel = _kernel()
    local = threading.local()
    spare = [(t_rdr, n_rdr)]  # the first worker reuses the handles already open
    spare_lock = threading.Lock()

    def readers():
        if workers == 1:
            return t_rdr, n_rdr
        if not hasattr(local, "t"):
            with spare_lock:
                pair = spare.pop() if spare else None
            if pair is None:
                ref_s = None if spec.ref is None else str(spec.ref)
                path = spec.tumor
                try:  # e.g. out of file handles: a one-line error, as for the first handle
                    t = kernel.DepthReader(str(path), ref_s, 0)
                    path = spec.normal
                    pair = (t, kernel.DepthReader(str(path), ref_s, 0) if spec.has_normal else None)
                except (OSError, ValueError) as exc:
                    raise InputError(f"cannot open another reader for a worker thread ({exc})", path) from None
            local.t, local.n = pair
        return local.t, local.n

    def one(job: _Job):
        tr, nr = readers()
        c = job.contig
        t_tid = spec.t_tid[spec.t_native[c]]
        n_tid = spec.n_tid[spec.n_native[c]] if nr is not None else -1
        try:
            query_from = -1
            # see _depth.earliest_start; only at cuts, so that the chunks of a footprint interval
            # see the same reads as one scan of it (footprint interval starts get no look-back)
            if spec.overlap == 2 and job.cut_inside:
                start = job.layout[0][0]
                query_from = kernel.earliest_start(tr, t_tid, start)
                if nr is not None:
                    try:
                        query_from = min(query_from, kernel.earliest_start(nr, n_tid, start))
                    except ValueError as exc:
                        raise ValueError(f"normal: {exc}") from None
            return kernel.scan(tr, t_tid, array("q", [s for s, _ in job.layout]),
                               array("q", [e for _, e in job.layout]), array("q", job.t_starts),
                               array("q", job.t_ends), job.complete, spec.min_depth, spec.mapq, spec.flags,
                               spec.overlap, spec.count_del, job.count_from, nr, n_tid, spec.min_normal,
                               query_from=query_from)
        except ValueError as exc:
            raise _scan_error(str(exc), spec) from None

    if workers == 1 or len(jobs) == 1:
        return [one(j) for j in jobs]
    # plain threads pulling the next chunk (concurrent.futures costs another ~0.4 MB of imports)
    results: list = [None] * len(jobs)
    errors: list[BaseException] = []
    lock = threading.Lock()
    todo = iter(range(len(jobs)))

    def worker() -> None:
        while not errors:
            with lock:
                k = next(todo, None)
            if k is None:
                return
            try:
                results[k] = one(jobs[k])
            except BaseException as exc:  # re-raised in the calling thread
                errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(workers, len(jobs)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def _scan_error(msg: str, spec: _ScanSpec) -> InputError:
    what, path = "tumor BAM/CRAM", spec.tumor
    if msg.startswith("normal: "):
        what, path, msg = "normal BAM/CRAM", spec.normal, msg[len("normal: "):]
    if msg == "truncated":
        return InputError(f"{what} is truncated or corrupt (htslib read error)", path)
    if msg == "unsorted":
        return InputError(f"{what} is not sorted by coordinate (reads out of order); run "
                          f"`samtools sort` and `samtools index`", path)
    return InputError(f"{what}: {msg} (stale or mismatched index? re-run `samtools index {path}`)", path)


__all__ = ["compute", "CoreResult", "mosdepth_equivalent", "DEFAULT_MAPQ",
           "DEFAULT_EXCLUDE_FLAGS", "MATE_OVERLAP_MODES"]
