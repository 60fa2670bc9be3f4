import numpy as np

NREASONS: int
REASONS: tuple[str, ...]
FAST_BAM_AVAILABLE: bool

def header_info(path: bytes) -> tuple[str, list[str], list[int], bool, str | None]: ...
def profile_range(path: bytes, reference: bytes, tid: np.ndarray, start: np.ndarray, end: np.ndarray,
                  left: np.ndarray, right: np.ndarray, order: np.ndarray, lo: int, hi: int,
                  min_mapq: int, exclude_flags: int, window: int, hist: np.ndarray,
                  rejected: np.ndarray, mate_dedup: bool = ..., io_threads: int = ...,
                  fast: bool = ...) -> int: ...
