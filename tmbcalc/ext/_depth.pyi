"""Type stub for the compiled read-depth kernel (tmbcalc/ext/_depth.pyx)."""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

FAST_BAM_AVAILABLE: bool  # the system libdeflate was found (dlopen) for the fast BAM reader

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
    def depth(self, tid: int, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64], min_mapq: int,
              exclude_flags: int, overlap_mode: int, count_deletions: bool,
              query_starts: npt.NDArray[np.int64] | None = None, query_ends: npt.NDArray[np.int64] | None = None,
              count_from: int = -1) -> tuple[npt.NDArray[np.int32], int]: ...

def callable_intervals(depth: npt.NDArray[np.int32], starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64],
                       min_depth: int, normal: npt.NDArray[np.int32] | None = None,
                       min_normal: int = 0) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...

def target_stats(depth: npt.NDArray[np.int32], starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64],
                 t_starts: npt.NDArray[np.int64], t_ends: npt.NDArray[np.int64],
                 min_depth: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                                          npt.NDArray[np.float64]]: ...
