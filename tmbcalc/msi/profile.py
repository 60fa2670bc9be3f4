"""Repeat-length histograms of one BAM/CRAM at the loci (the compiled kernel does the reads).

Histogram layout: ``hist[i, j]`` counts reads whose repeat at locus i is ``ref_len - W + j``
bp long (W = ``window``, default 30; j = 0..2W), i.e. column W is the reference length.
Read selection and measurement rules are in :mod:`tmbcalc.ext._msiprofile` and docs/msi.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..contigs import native_map
from ..io.alignment import alignment_format
from ..io.alignment import open_alignment as checked_open
from ..errors import ContigMismatchError, InputError, UsageError
from ..ext import load_kernel
from .defaults import ANCHOR as DEFAULT_ANCHOR
from .defaults import EXCLUDE_FLAGS as DEFAULT_EXCLUDE_FLAGS
from .defaults import MAPQ as DEFAULT_MAPQ
from .loci import LociTable

DEFAULT_WINDOW = 30
REASONS = ("flag", "low_mapq", "not_spanning", "anchor_mismatch", "length_out_of_window", "mate_counted")
_NT16 = {"A": 1, "C": 2, "G": 4, "T": 8}


@dataclass
class RepeatLengthHistogram:
    """Per-locus repeat-length histograms of one sample."""

    loci: LociTable
    hist: np.ndarray  # (n_loci, 2W+1) int32; column W = reference length
    rejected: np.ndarray  # (n_loci, len(REASONS)) int32
    window: int
    bam: str
    sample: str
    parameters: dict[str, Any] = field(default_factory=dict)
    contigs_missing: list[str] = field(default_factory=list)  # loci contigs absent from the BAM

    @property
    def reads(self) -> np.ndarray:
        """Measured (anchored, spanning) reads per locus."""
        return self.hist.sum(axis=1)

    def lengths(self, i: int) -> np.ndarray:
        """Repeat length in bp of each histogram column of locus i."""
        ref = int(self.loci.end[i] - self.loci.start[i])
        return np.arange(ref - self.window, ref + self.window + 1)

    def modal_length(self) -> np.ndarray:
        """Most frequent repeat length (bp) per locus; -1 without reads (ties: shorter)."""
        ref = (self.loci.end - self.loci.start).astype(np.int64)
        mode = ref - self.window + self.hist.argmax(axis=1)
        return np.where(self.reads > 0, mode, -1)


def anchor_codes(flanks: np.ndarray, k: int, side: str) -> np.ndarray:
    """(n, k) uint8 htslib 4-bit codes of the k flank bases next to the repeat."""
    out = np.empty((len(flanks), k), dtype=np.uint8)
    for i, f in enumerate(flanks):
        part = f[-k:] if side == "left" else f[:k]
        out[i] = [_NT16[c] for c in part]
    return out


def open_alignment(path: str | Path, reference: str | Path | None
                   ) -> tuple[str | None, list[str], dict[str, int]]:
    """Validate a BAM/CRAM with :func:`tmbcalc.io.alignment.open_alignment`'s checks (readable,
    end-of-file marker, CRAM has a reference, coordinate-sorted, index present and current), its
    header and index read by the kernel (no pysam import); return (first read-group SM or None,
    contig names, contig lengths)."""
    def reader(p: Path, ref: Path | None):
        fmt, names, lens, has_index, sm = load_kernel("_msiprofile").header_info(str(p).encode())
        if not fmt:
            raise OSError("not a BAM or CRAM file")
        return (sm, list(names), dict(zip(names, lens))), bool(has_index)

    return checked_open(path, reference, reader)


def sample_name(sm: str | None, path: str | Path) -> str:
    """``sm`` (SM of the first read group) if set, else the file name without extension."""
    if sm:
        return str(sm)
    name = Path(path).name
    for ext in (".bam", ".cram", ".sam"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def map_loci_to_file(loci: LociTable, names: list[str], lengths: dict[str, int], path: str
                     ) -> tuple[np.ndarray, list[str]]:
    """tid per locus (-1 when the contig is absent) and the absent contigs; raise on no overlap or
    on a locus beyond the end of its contig (other build)."""
    native = native_map(names)
    tids = {n: i for i, n in enumerate(names)}
    canon = loci.canonical_chroms()
    shared = set(canon.tolist()) & set(native)
    if not shared:
        ex_l = ", ".join(sorted(set(loci.chrom.tolist()))[:4])
        ex_b = ", ".join(names[:4]) or "none"
        raise ContigMismatchError(f"shares no contigs with the loci file (loci: {ex_l}...; "
                                  f"alignment file: {ex_b}...)", path)
    tid = np.full(len(loci), -1, dtype=np.int32)
    missing: list[str] = []
    for c in dict.fromkeys(canon.tolist()):
        sel = canon == c
        if c not in native:
            missing.append(str(loci.chrom[sel][0]))
            continue
        n = native[c]
        too_far = loci.end[sel] + 0 > lengths[n]
        if too_far.any():
            j = np.nonzero(sel)[0][np.argmax(too_far)]
            raise ContigMismatchError(
                f"locus {loci.chrom[j]}:{int(loci.start[j])}-{int(loci.end[j])} lies beyond the end of "
                f"contig {n} ({lengths[n]:,} bp) in the alignment file: loci and reads are from "
                f"different builds", path)
        tid[sel] = tids[n]
    return tid, missing


def profile_bam(bam: str | Path, loci: LociTable, *, reference: str | Path | None = None,
                mapq: int = DEFAULT_MAPQ, exclude_flags: int = DEFAULT_EXCLUDE_FLAGS,
                anchor: int = DEFAULT_ANCHOR, threads: int = 1, window: int = DEFAULT_WINDOW,
                mate_dedup: bool = True, require_reads: bool = True, io_threads: int = 0) -> RepeatLengthHistogram:
    """Repeat-length histograms of ``bam`` at ``loci`` (see module docstring for the layout).

    ``mate_dedup`` counts a fragment once when both mates span a locus (read 2 is skipped;
    needs the ``MC`` tag).  ``threads`` splits the loci (sorted by position) into that many
    contiguous blocks, each read with its own file handle and one multi-region iterator;
    ``io_threads`` adds htslib BGZF decompression threads to each handle.  The result depends on
    neither.  Raises InputError when no read is measured at any
    locus (``require_reads``), ContigMismatchError on contig/build mismatches.
    """
    if threads < 1:
        raise UsageError("threads must be >= 1", params=("threads",))
    if io_threads < 0:
        raise UsageError("io_threads must be >= 0")
    if mapq < 0:
        raise UsageError("mapq must be >= 0", params=("mapq",))
    if anchor < 1:
        raise UsageError("anchor must be >= 1", params=("anchor",))
    if window < 1:
        raise UsageError("window must be >= 1")
    min_flank = min(len(f) for f in loci.left_flank)
    if anchor > min_flank:
        raise UsageError(f"anchor {anchor} is longer than the shortest flank in the loci file "
                         f"({min_flank} bp)", params=("anchor",))
    p = Path(bam)
    sm, names, lengths = open_alignment(p, reference)
    sample = sample_name(sm, p)
    tid, missing = map_loci_to_file(loci, names, lengths, str(p))
    kern = load_kernel("_msiprofile")
    n = len(loci)
    hist = np.zeros((n, 2 * window + 1), dtype=np.int32)
    rejected = np.zeros((n, len(REASONS)), dtype=np.int32)
    left = anchor_codes(loci.left_flank, anchor, "left")
    right = anchor_codes(loci.right_flank, anchor, "right")
    start = np.ascontiguousarray(loci.start, dtype=np.int64)
    end = np.ascontiguousarray(loci.end, dtype=np.int64)
    ref_b = str(reference).encode() if reference is not None and alignment_format(p) == "cram" else b""
    path_b = str(p).encode()

    # loci sorted by (contig, start); each block of this order is read with one iterator
    order = np.lexsort((start, tid)).astype(np.int64)
    order = np.ascontiguousarray(order[tid[order] >= 0])
    m = len(order)

    def run(lo: int, hi: int) -> None:
        kern.profile_range(path_b, ref_b, tid, start, end, left, right, order, lo, hi, mapq,
                           exclude_flags, window, hist, rejected, mate_dedup, io_threads)

    try:
        if threads == 1 or m < 2:
            run(0, m)
        else:
            nblocks = min(m, threads)
            bounds = np.linspace(0, m, nblocks + 1).astype(int)
            from concurrent.futures import ThreadPoolExecutor  # only here: costs ~3 ms to import

            with ThreadPoolExecutor(max_workers=threads) as pool:
                for f in [pool.submit(run, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]:
                    f.result()
    except (OSError, RuntimeError) as exc:
        raise InputError(str(exc), p) from None
    if require_reads and not hist.any():
        raise InputError(f"no read spans any of the {n} loci with anchored flanks (after filters: "
                         f"MAPQ >= {mapq}, flags {exclude_flags:#x}); is this the right BAM for these loci?", p)
    params = {"mapq": mapq, "exclude_flags": exclude_flags, "anchor": anchor, "window": window,
              "mate_dedup": mate_dedup}
    return RepeatLengthHistogram(loci, hist, rejected, window, str(p), sample, params, missing)


def profile_many(bams: list[str | Path], loci: LociTable, *, threads: int = 1, **kwargs: Any) -> list[RepeatLengthHistogram]:
    """``profile_bam`` of several BAM/CRAMs (same keyword arguments), in input order.

    With ``threads`` >= 2 up to ``threads`` files are profiled at once (the kernel runs without
    the GIL), each with ``threads // files`` (at least 1) threads of its own; with 1 thread they
    are profiled one after the other.  Results do not depend on ``threads``.  When several files
    fail, the error of the first in input order is raised.
    """
    if threads < 1:
        raise UsageError("threads must be >= 1", params=("threads",))
    bams = list(bams)
    if threads == 1 or len(bams) < 2:
        return [profile_bam(b, loci, threads=threads, **kwargs) for b in bams]
    at_once = min(threads, len(bams))
    per_file = max(1, threads // len(bams))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        futures = [pool.submit(profile_bam, b, loci, threads=per_file, **kwargs) for b in bams]
        errors = [f.exception() for f in futures]
    for e in errors:
        if e is not None:
            raise e
    return [f.result() for f in futures]
