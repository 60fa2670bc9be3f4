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

import math
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .contigs import canonical, check_same_build, detect_build, native_map, shared_contigs
from .errors import ContigMismatchError, InputError, UsageError, require_readable
from .io.bed import BedRecords
from .regions import RegionSet

if TYPE_CHECKING:  # pandas is imported only when a table is asked for
    import pandas as pd

DEFAULT_MAPQ = 20
DEFAULT_EXCLUDE_FLAGS = 1796  # BAM_FUNMAP | BAM_FSECONDARY | BAM_FQCFAIL | BAM_FDUP (as mosdepth -F)
MATE_OVERLAP_MODES = {"none": 0, "fragment": 1, "mosdepth": 2}
MIN_CHUNK_BP = 50_000  # with threads > 1, contigs are cut into chunks of at least this footprint size


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

    def to_json(self, provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """JSON-ready summary (no NaN: missing values are None)."""
        contigs = [{k: _clean(v) for k, v in row.items()} for row in self.contig_rows]
        out: dict[str, Any] = {
            "callable_bp": int(self.callable_bp),
            "footprint_bp": int(self.footprint_bp),
            "callable_mb": self.callable_mb,
            "callable_fraction": _clean(self.callable_fraction),
            "thresholds": {"min_depth": self.parameters["min_depth"],
                           "min_normal_depth": self.parameters["min_normal_depth"]},
            "parameters": dict(self.parameters),
            "inputs": dict(self.inputs),
            "per_contig": contigs,
        }
        if provenance is not None:
            out["provenance"] = dict(provenance)
        return out


def _clean(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(float(v)) else float(v)
    return v


# ---------------------------------------------------------------------------------------------
# input checks

def _kernel():
    from .ext import load_kernel

    return load_kernel("_depth")


def _open(path: Path, reference: Path | None, what: str, hts_threads: int = 0):
    """Open an alignment file with its index; raise InputError for every bad-input case."""
    try:
        rdr = _kernel().DepthReader(str(path), None if reference is None else str(reference), hts_threads)
    except (OSError, ValueError):
        raise InputError(f"{what} is not a readable BAM/CRAM file", path) from None
    if rdr.is_cram and reference is None:
        raise InputError(f"{what} is CRAM: give the reference FASTA it was written against with "
                         f"--reference", path)
    if rdr.eof_status == 0:
        raise InputError(f"{what} is truncated (no end-of-file marker); re-create or re-download it", path)
    so = rdr.sort_order()
    if so is not None and so not in ("coordinate", "unknown"):
        raise InputError(f"{what} is not coordinate-sorted (@HD SO:{so}); run `samtools sort` "
                         f"and `samtools index`", path)
    if not rdr.has_index:
        kind = "CRAM" if rdr.is_cram else "BAM"
        raise InputError(f"{what} has no index (.{'crai' if rdr.is_cram else 'bai/.csi'}); create one with "
                         f"`samtools index {path}` ({kind} must be coordinate-sorted)", path)
    return rdr


def _check_contigs(footprint: RegionSet, lengths: dict[str, int], path: Path, fp_name: str) -> None:
    """Every footprint contig must be in the alignment header and the intervals inside it."""
    shared_contigs(footprint.contigs, list(lengths), fp_name, str(path))
    canon = {canonical(n): ln for n, ln in lengths.items()}
    missing = [c for c in footprint.contigs if c not in canon]
    if missing:
        raise ContigMismatchError(
            f"footprint contig(s) {', '.join(missing[:6])}{'...' if len(missing) > 6 else ''} of {fp_name} "
            f"are not in this alignment header (different reference?)", path)
    for c, (_s, e) in footprint.by_contig.items():
        if e.size and int(e[-1]) > canon[c]:
            raise ContigMismatchError(
                f"{fp_name} has intervals on {c} up to {int(e[-1])} but the contig is {canon[c]} bp long "
                f"in this alignment header (different genome build?)", path)


# ---------------------------------------------------------------------------------------------
# main entry point

def compute_callable(tumor_bam: str | Path, footprint: RegionSet, *, normal_bam: str | Path | None = None,
                     min_depth: int, min_normal_depth: int | None = None, mapq: int | None = DEFAULT_MAPQ,
                     exclude_flags: int = DEFAULT_EXCLUDE_FLAGS, reference: str | Path | None = None,
                     threads: int = 1, targets: BedRecords | None = None, count_deletions: bool = False,
                     mate_overlap: str = "fragment", footprint_name: str = "footprint") -> CallableResult:
    """Callable footprint: bases with tumor depth >= ``min_depth`` (and normal >= ``min_normal_depth``).

    ``min_normal_depth`` defaults to ``min_depth`` when a normal is given.  ``mapq`` is the
    minimum mapping quality (default 20; mosdepth ``-Q``).  ``threads`` > 1 processes contigs in
    parallel (one file handle per worker) or, for a single contig, adds BGZF decoding threads;
    results do not depend on it.  ``targets`` (unmerged BED records, e.g. from
    :func:`tmbcalc.io.bed.read_bed_records`) give the rows of ``per_target``; without them the
    footprint's merged intervals are used.
    """
    if mapq is None:
        mapq = DEFAULT_MAPQ
    if isinstance(min_depth, bool) or int(min_depth) < 1:
        raise UsageError(f"--min-depth must be >= 1 (got {min_depth})")
    if normal_bam is None and min_normal_depth is not None:
        raise UsageError("--min-normal-depth needs --normal-bam")
    if normal_bam is not None and min_normal_depth is None:
        min_normal_depth = int(min_depth)
    if min_normal_depth is not None and int(min_normal_depth) < 1:
        raise UsageError(f"--min-normal-depth must be >= 1 (got {min_normal_depth})")
    if not 0 <= int(mapq) <= 255:
        raise UsageError(f"--mapq must be in 0..255 (got {mapq})")
    if not 0 <= int(exclude_flags) <= 0xFFFF:
        raise UsageError(f"--exclude-flags must be in 0..65535 (got {exclude_flags})")
    if int(threads) < 1:
        raise UsageError(f"--threads must be >= 1 (got {threads})")
    if mate_overlap not in MATE_OVERLAP_MODES:
        raise UsageError(f"mate_overlap must be one of {', '.join(MATE_OVERLAP_MODES)} (got {mate_overlap!r})")
    if footprint.is_empty():
        raise InputError(f"{footprint_name} is empty: no bases to compute coverage on")

    tumor = require_readable(tumor_bam, "tumor BAM/CRAM")
    normal = require_readable(normal_bam, "normal BAM/CRAM") if normal_bam is not None else None
    ref = require_readable(reference, "reference FASTA") if reference is not None else None

    t_rdr = _open(tumor, ref, "tumor BAM/CRAM")
    t_contigs = dict(t_rdr.contigs())
    _check_contigs(footprint, t_contigs, tumor, footprint_name)
    n_rdr = None
    if normal is not None:
        n_rdr = _open(normal, ref, "normal BAM/CRAM")
        n_contigs = dict(n_rdr.contigs())
        _check_contigs(footprint, n_contigs, normal, footprint_name)
        check_same_build((str(tumor), detect_build(t_contigs)), (str(normal), detect_build(n_contigs)))
        tc = {canonical(k): v for k, v in t_contigs.items()}
        nc = {canonical(k): v for k, v in n_contigs.items()}
        diff = [c for c in footprint.contigs if tc[c] != nc[c]]
        if diff:
            raise ContigMismatchError(f"contig length differs from the tumor's for {', '.join(diff[:6])} "
                                      f"(different reference?)", normal)

    # region over which depth is counted: footprint plus targets (targets normally lie inside)
    if targets is not None and len(targets):
        tgt_regions = targets.regions()
        missing = [c for c in tgt_regions.contigs if c not in footprint.by_contig]
        if missing:
            raise ContigMismatchError(f"targets on contig(s) {', '.join(missing[:6])} are outside the footprint",
                                      targets.source)
        depth_region = footprint.union(tgt_regions)
    else:
        depth_region = footprint

    t_native = native_map(t_contigs)
    n_native = native_map(n_contigs) if normal is not None else {}
    t_tid = {name: i for i, name in enumerate(t_contigs)}
    n_tid = {name: i for i, name in enumerate(n_contigs)} if normal is not None else {}
    # process contigs in the tumor header's order (so output is sorted as the BAM)
    order = sorted(footprint.contigs, key=lambda c: t_tid[t_native[c]])

    params = {
        "min_depth": int(min_depth),
        "min_normal_depth": None if min_normal_depth is None else int(min_normal_depth),
        "mapq": int(mapq),
        "exclude_flags": int(exclude_flags),
        "count_deletions": bool(count_deletions),
        "mate_overlap": mate_overlap,
        "threads": int(threads),
        "mosdepth_equivalent": mosdepth_equivalent(int(mapq), int(exclude_flags), mate_overlap,
                                                   bool(count_deletions)),
    }
    ov = MATE_OVERLAP_MODES[mate_overlap]
    # target rows: per contig, the rows that belong to it
    if targets is not None and len(targets):
        t_contig_col = np.asarray(targets.contigs, dtype=object)
        t_starts_all = np.asarray(targets.starts, dtype=np.int64)
        t_ends_all = np.asarray(targets.ends, dtype=np.int64)
        t_names = np.asarray(targets.names, dtype=object)
    else:
        rows = list(footprint)
        t_contig_col = np.array([r[0] for r in rows], dtype=object)
        t_starts_all = np.array([r[1] for r in rows], dtype=np.int64)
        t_ends_all = np.array([r[2] for r in rows], dtype=np.int64)
        t_names = np.array([""] * len(rows), dtype=object)

    # threads > 1: each contig is cut into `threads` chunks of equal footprint size, processed
    # in parallel (one file handle per worker); the chunk arrays add up to the contig's depth
    workers = int(threads)
    local = threading.local()
    ref_s = None if ref is None else str(ref)

    def readers():
        if workers == 1:
            return t_rdr, n_rdr
        if not hasattr(local, "t"):  # one pair of file handles per worker thread
            local.t = _kernel().DepthReader(str(tumor), ref_s, 0)
            local.n = _kernel().DepthReader(str(normal), ref_s, 0) if normal is not None else None
        return local.t, local.n

    def chunk_depth(c: str, starts, ends, qs, qe, count_from: int):
        tr, nr = readers()
        t = _run(tr, t_tid[t_native[c]], starts, ends, mapq, exclude_flags, ov, count_deletions, tumor,
                 "tumor BAM/CRAM", qs, qe, count_from)
        n = (None, 0)
        if nr is not None:
            n = _run(nr, n_tid[n_native[c]], starts, ends, mapq, exclude_flags, ov, count_deletions, normal,
                     "normal BAM/CRAM", qs, qe, count_from)
        return t, n

    def contig_depth(c: str, starts, ends, pool):
        if pool is None:
            return chunk_depth(c, starts, ends, None, None, -1)
        jobs = [pool.submit(chunk_depth, c, starts, ends, qs, qe, cf)
                for qs, qe, cf in _chunks(starts, ends, workers)]
        parts = [j.result() for j in jobs]
        t_depth = parts[0][0][0]
        for p in parts[1:]:
            t_depth += p[0][0]
        t_used = sum(p[0][1] for p in parts)
        n_depth, n_used = None, 0
        if normal is not None:
            n_depth = parts[0][1][0]
            for p in parts[1:]:
                n_depth += p[1][0]
            n_used = sum(p[1][1] for p in parts)
        return (t_depth, t_used), (n_depth, n_used)

    def one_contig(c: str, pool) -> dict[str, Any]:
        starts, ends = depth_region.by_contig[c]
        starts = np.ascontiguousarray(starts, dtype=np.int64)
        ends = np.ascontiguousarray(ends, dtype=np.int64)
        k = _kernel()
        (t_depth, t_used), (n_depth, n_used) = contig_depth(c, starts, ends, pool)
        cs, ce = k.callable_intervals(t_depth, starts, ends, int(min_depth), n_depth,
                                      int(min_normal_depth or 0))
        fp_s, fp_e = footprint.by_contig[c]
        call = RegionSet.from_arrays([c] * cs.size, cs, ce).intersect(
            RegionSet({c: (fp_s, fp_e)}))
        sel = np.flatnonzero(t_contig_col == c)
        ts = np.ascontiguousarray(t_starts_all[sel])
        te = np.ascontiguousarray(t_ends_all[sel])
        stats = {"rows": sel}
        stats["mean"], stats["median"], stats["frac"] = k.target_stats(t_depth, starts, ends, ts, te,
                                                                       int(min_depth))
        fpm, _fmed, _ff = k.target_stats(t_depth, starts, ends, np.ascontiguousarray(fp_s),
                                         np.ascontiguousarray(fp_e), int(min_depth))
        fp_len = (fp_e - fp_s).astype(np.float64)
        out = {"contig": c, "callable": call, "stats": stats, "reads_used": t_used,
               "footprint_bp": int(fp_len.sum()),
               "mean_depth": float((fpm * fp_len).sum() / fp_len.sum())}
        if n_depth is not None:
            stats["n_mean"], stats["n_median"], stats["n_frac"] = k.target_stats(
                n_depth, starts, ends, ts, te, int(min_normal_depth))
            nfm, _a, _b = k.target_stats(n_depth, starts, ends, np.ascontiguousarray(fp_s),
                                         np.ascontiguousarray(fp_e), int(min_normal_depth))
            out["normal_mean_depth"] = float((nfm * fp_len).sum() / fp_len.sum())
            out["normal_reads_used"] = n_used
        return out

    if workers == 1:
        results = [one_contig(c, None) for c in order]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = [one_contig(c, pool) for c in order]

    merged: dict[str, Any] = {}
    for r in results:
        merged.update(r["callable"].by_contig)
    callable_set = RegionSet({c: merged[c] for c in order if c in merged})

    m = len(t_starts_all)
    cols = {k: np.full(m, np.nan) for k in ("mean", "median", "frac", "n_mean", "n_median", "n_frac")}
    for r in results:
        st = r["stats"]
        for k in cols:
            if k in st:
                cols[k][st["rows"]] = st[k]
    native_chrom = np.array([t_native.get(c, c) for c in t_contig_col.tolist()], dtype=object)
    per_target = {
        "chrom": native_chrom, "start": t_starts_all, "end": t_ends_all, "name": t_names,
        "mean_depth": cols["mean"], "median_depth": cols["median"], "frac_ge_min_depth": cols["frac"],
    }
    if normal is not None:
        per_target["normal_mean_depth"] = cols["n_mean"]
        per_target["normal_median_depth"] = cols["n_median"]
        per_target["normal_frac_ge_min_depth"] = cols["n_frac"]

    contig_rows = []
    for r in results:
        c = r["contig"]
        cbp = callable_set.restrict([c]).total_bp()
        row = {"contig": t_native[c], "footprint_bp": r["footprint_bp"], "callable_bp": cbp,
               "callable_fraction": cbp / r["footprint_bp"], "mean_depth": r["mean_depth"],
               "reads_used": r["reads_used"]}
        if normal is not None:
            row["normal_mean_depth"] = r["normal_mean_depth"]
            row["normal_reads_used"] = r["normal_reads_used"]
        contig_rows.append(row)
    inputs = {"tumor_bam": str(tumor), "normal_bam": None if normal is None else str(normal),
              "reference": None if ref is None else str(ref)}
    return CallableResult(callable=callable_set, footprint=footprint, parameters=params,
                          target_columns=per_target, contig_rows=contig_rows, inputs=inputs,
                          native_names=t_native, contig_order=tuple(order))


def _chunks(starts: np.ndarray, ends: np.ndarray, pieces: int):
    """Cut sorted disjoint intervals into <= ``pieces`` consecutive chunks of ~equal size.

    Yields (query_starts, query_ends, count_from) for :meth:`DepthReader.depth`.
    """
    lens = ends - starts
    total = int(lens.sum())
    pieces = max(1, min(pieces, total // MIN_CHUNK_BP or 1))  # small contigs: one chunk
    cum = np.concatenate([[0], np.cumsum(lens)])
    cuts = []
    for k in range(1, pieces):
        target = total * k // pieces
        j = int(np.searchsorted(cum, target, side="right") - 1)
        cuts.append(int(starts[j] + (target - cum[j])))
    bounds = [int(starts[0]), *cuts, int(ends[-1])]
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        if b <= a:
            continue
        qs = np.maximum(starts, a)
        qe = np.minimum(ends, b)
        keep = qe > qs
        yield (np.ascontiguousarray(qs[keep]), np.ascontiguousarray(qe[keep]), -1 if k == 0 else a)


def _run(rdr, tid: int, starts: np.ndarray, ends: np.ndarray, mapq: int, flags: int, ov: int,
         count_del: bool, path: Path, what: str, qs=None, qe=None, count_from: int = -1):
    try:
        return rdr.depth(tid, starts, ends, int(mapq), int(flags), ov, bool(count_del), qs, qe, int(count_from))
    except ValueError as exc:
        msg = str(exc)
        if msg == "truncated":
            raise InputError(f"{what} is truncated or corrupt (htslib read error)", path) from None
        if msg == "unsorted":
            raise InputError(f"{what} is not sorted by coordinate (reads out of order); run "
                             f"`samtools sort` and `samtools index`", path) from None
        raise InputError(f"{what}: {msg} (stale or mismatched index? re-run `samtools index {path}`)",
                         path) from None


def mosdepth_equivalent(mapq: int, exclude_flags: int, mate_overlap: str, count_deletions: bool) -> str | None:
    """The mosdepth options giving the same per-base depth, or None if mosdepth cannot."""
    if count_deletions or mate_overlap == "none":
        return None
    extra = "" if mate_overlap == "mosdepth" else " (identical except mates contained in a single-block mate)"
    return f"mosdepth -F {exclude_flags} -Q {mapq}{extra}"


# ---------------------------------------------------------------------------------------------
# outputs

def write_outputs(result: CallableResult, prefix: str | Path, provenance: Mapping[str, Any]) -> list[Path]:
    """Write PREFIX.callable.bed.gz (+ .tbi), PREFIX.callable.json and PREFIX.coverage.tsv atomically."""
    import pysam

    from .output import OutputSet

    header = _comment_header(provenance)
    with OutputSet(prefix) as outs:
        bed_text = header + "".join(f"{result.native_names.get(c, c)}\t{s}\t{e}\n"
                                    for c, s, e in result.callable)
        gz_tmp: list[Path] = []

        def write_bgzf(tmp: Path) -> None:
            plain = tmp.with_name(tmp.name + ".txt")
            try:
                plain.write_text(bed_text)
                pysam.tabix_compress(str(plain), str(tmp), force=True)
            finally:
                plain.unlink(missing_ok=True)
            gz_tmp.append(tmp)

        outs.write_with(".callable.bed.gz", write_bgzf)
        outs.write_with(".callable.bed.gz.tbi",
                        lambda tmp: pysam.tabix_index(str(gz_tmp[0]), preset="bed", index=str(tmp), force=True))
        outs.write_json(".callable.json", result.to_json(provenance))
        with outs.open(".coverage.tsv") as fh:
            fh.write(header)
            cols = result.target_columns
            fh.write("\t".join(cols) + "\n")
            text = [[_fmt(v) for v in col.tolist()] for col in cols.values()]
            fh.writelines("\t".join(row) + "\n" for row in zip(*text))
        paths = [outs.path(s) for s in (".callable.bed.gz", ".callable.bed.gz.tbi", ".callable.json",
                                        ".coverage.tsv")]
    return paths


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "NA" if math.isnan(v) else f"{v:.4f}"
    return str(v)


def _comment_header(provenance: Mapping[str, Any]) -> str:
    import json

    p = dict(provenance)
    line1 = (f"# {p.get('tool', 'tmbcalc')} {p.get('version', '')} {p.get('command', 'callable')} "
             f"created {p.get('created_utc', '')}")
    return (line1 + "\n# parameters: " + json.dumps(p.get("parameters", {}), sort_keys=True)
            + "\n# inputs: " + json.dumps({k: (v.get("name"), v.get("sha256")) if isinstance(v, dict) else v
                                           for k, v in p.get("inputs", {}).items()}, sort_keys=True) + "\n")


__all__ = ["compute_callable", "CallableResult", "write_outputs", "DEFAULT_MAPQ", "DEFAULT_EXCLUDE_FLAGS",
           "MATE_OVERLAP_MODES", "mosdepth_equivalent"]
