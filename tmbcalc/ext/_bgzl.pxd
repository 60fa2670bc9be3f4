# cython: language_level=3
"""Declarations of bgzf_lines.h (libdeflate BGZF reading, shared by the VCF, depth and MSI kernels).

Extern declarations only: cimporting this file adds no import at run time.
"""
from libc.stdint cimport uint8_t, uint64_t

cdef extern from "bgzf_lines.h":
    ctypedef struct bgzl_t:
        pass
    int bgzl_available() nogil  # 1 if libdeflate loaded; TMBCALC_NO_LIBDEFLATE=1 turns it off
    void *bgzl_dfl_alloc() noexcept nogil
    void bgzl_dfl_free(void *) noexcept nogil
    long bgzl_block_size(const uint8_t *p, size_t avail, size_t *need) noexcept nogil
    long bgzl_inflate_block(void *dec, const uint8_t *p, size_t total, void *out) noexcept nogil
    bgzl_t *bgzl_open(const char *path, uint64_t voffset, int threaded) nogil
    int bgzl_getline(bgzl_t *z, char **line, size_t *len) nogil
    void bgzl_close(bgzl_t *z) nogil
