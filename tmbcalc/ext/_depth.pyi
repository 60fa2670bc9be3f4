"""Type stub for the compiled read-depth kernel (tmbcalc/ext/_depth.pyx).

The kernel imports neither numpy nor pysam: integer inputs are any C-contiguous int64 buffers
(``array('q')``, numpy int64 arrays), results are ``array.array`` objects and lists.
"""
from __future__ import annotations

from array import array
from collections.abc import Buffer

FAST_BAM_AVAILABLE: bool  # the system libdeflate was found (dlopen) for the fast BAM reader
WINDOW: int  # offsets per window of the streaming difference buffer
HIST_MIN_LEN: int  # targets longer than this keep a depth histogram instead of their values

class DepthReader:
    path: str
    is_cram: bool
    fast: bool  # this handle reads BAM blocks with libdeflate
    eof_status: int  # hts_check_EOF: 1 present, 0 absent (truncated), 2 cannot check, 3 not applicable

    def __init__(self, path: str, reference: str | None = None, hts_threads: int = 0,
                 load_index: bool = True, fast: bool = True) -> None: ...
    @property
    def has_index(self) -> bool: ...
    def contigs(self) -> list[tuple[str, int]]: ...
    def sort_order(self) -> str | None: ...
    def depth(self, tid: int, starts: Buffer, ends: Buffer, min_mapq: int, exclude_flags: int, overlap_mode: int,
              count_deletions: bool) -> tuple[array, int]: ...

class TargetStats:
    n: array  # 'q': bases
    total: array  # 'q': depth sum
    ge: array  # 'q': bases with depth >= threshold
    median: array  # 'd': NaN for targets marked incomplete
    partial: dict[int, list[tuple[int, int]]]  # target index -> [(depth, count), ...]

class ScanResult:
    runs: array  # 'q': [s0, e0, s1, e1, ...] callable runs
    tumor: TargetStats
    normal: TargetStats | None
    sum_t: int
    sum_n: int
    used_t: int
    used_n: int

def scan(tumor: DepthReader, tid_t: int, starts: Buffer, ends: Buffer, t_starts: Buffer, t_ends: Buffer,
         t_complete: Buffer, min_depth: int, min_mapq: int, exclude_flags: int, overlap_mode: int,
         count_deletions: bool, count_from: int = -1, normal: DepthReader | None = None, tid_n: int = -1,
         min_normal: int = 0, window: int = ..., query_from: int = -1) -> ScanResult: ...

def earliest_start(rdr: DepthReader, tid: int, pos: int) -> int: ...

def write_bgzf_with_tabix(text: bytes, gz_path: str, tbi_path: str) -> None: ...

def single_malloc_arena() -> bool: ...
