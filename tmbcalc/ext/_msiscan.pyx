# cython: language_level=3
"""Microsatellite scan kernel: maximal tandem runs of 1-6 bp units in one contig sequence.

Works on a bytes-like buffer (upper or lower case; anything but ACGT/acgt breaks a run).  For
each period p, a run is a maximal stretch of positions i with seq[i] == seq[i + p] (both ACGT);
it spans ``r + p`` bases, of which ``(r + p) // p`` whole copies of the unit ``seq[a:a+p]`` form
the repeat.  Runs whose unit is itself periodic (``ATAT``, ``AA``) are dropped: the shorter
period reports them.  Overlap resolution and flank checks are done by the caller
(:mod:`tmbcalc.msi.scan`) and by :func:`flanks_ok`.
"""
import numpy as np
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from libc.stdint cimport int64_t, int32_t, uint8_t

cdef uint8_t CODE[256]
cdef int _k
for _k in range(256):
    CODE[_k] = 4
CODE[ord('A')] = 0; CODE[ord('a')] = 0
CODE[ord('C')] = 1; CODE[ord('c')] = 1
CODE[ord('G')] = 2; CODE[ord('g')] = 2
CODE[ord('T')] = 3; CODE[ord('t')] = 3


cdef inline bint _motif_is_minimal(const uint8_t* s, int64_t a, int p) noexcept nogil:
    cdef int d, j
    cdef bint periodic
    for d in range(1, p):
        if p % d:
            continue
        periodic = True
        for j in range(d, p):
            if CODE[s[a + j]] != CODE[s[a + j - d]]:
                periodic = False
                break
        if periodic:
            return False
    return True


cdef struct Buf:
    int64_t* start
    int32_t* copies
    int32_t* unit
    Py_ssize_t n
    Py_ssize_t cap


cdef int _push(Buf* b, int64_t start, int32_t copies, int32_t unit) except -1:
    cdef Py_ssize_t newcap
    if b.n == b.cap:
        newcap = b.cap * 2 if b.cap else 4096
        b.start = <int64_t*> PyMem_Realloc(b.start, newcap * sizeof(int64_t))
        b.copies = <int32_t*> PyMem_Realloc(b.copies, newcap * sizeof(int32_t))
        b.unit = <int32_t*> PyMem_Realloc(b.unit, newcap * sizeof(int32_t))
        if b.start == NULL or b.copies == NULL or b.unit == NULL:
            raise MemoryError()
        b.cap = newcap
    b.start[b.n] = start
    b.copies[b.n] = copies
    b.unit[b.n] = unit
    b.n += 1
    return 0


def find_runs(const uint8_t[::1] seq, int max_unit, int min_homopolymer, int min_copies):
    """Maximal runs with a minimal unit meeting the minimum size.

    Returns ``(start int64, copies int32, unit_len int32)`` arrays (0-based start of the
    repeat; span = copies * unit_len bp), ordered by period then start.  Homopolymers qualify
    with >= ``min_homopolymer`` bases, 2..``max_unit`` bp units with >= ``min_copies`` copies.
    """
    cdef Py_ssize_t n = seq.shape[0]
    cdef const uint8_t* s = &seq[0] if n else NULL
    cdef Buf b
    b.start = NULL; b.copies = NULL; b.unit = NULL; b.n = 0; b.cap = 0
    cdef int p
    cdef int64_t i, a, r, L, copies
    cdef uint8_t c
    try:
        for p in range(1, max_unit + 1):
            a = -1
            i = 0
            while i <= n:
                if i + p < n:
                    c = CODE[s[i]]
                    if c < 4 and c == CODE[s[i + p]]:
                        if a < 0:
                            a = i
                        i += 1
                        continue
                if a >= 0:
                    r = i - a
                    L = r + p
                    copies = L // p
                    if (copies >= min_copies if p > 1 else L >= min_homopolymer) and copies >= 2:
                        if p == 1 or _motif_is_minimal(s, a, p):
                            _push(&b, a, <int32_t> copies, p)
                    a = -1
                i += 1
        start = np.empty(b.n, dtype=np.int64)
        cps = np.empty(b.n, dtype=np.int32)
        unit = np.empty(b.n, dtype=np.int32)
        for i in range(b.n):
            start[i] = b.start[i]
            cps[i] = b.copies[i]
            unit[i] = b.unit[i]
        return start, cps, unit
    finally:
        PyMem_Free(b.start); PyMem_Free(b.copies); PyMem_Free(b.unit)


def flanks_ok(const uint8_t[::1] seq, const int64_t[::1] start, const int64_t[::1] end, int flank):
    """uint8 mask: 1 where ``flank`` bases each side lie inside the sequence and are all ACGT."""
    cdef Py_ssize_t n = seq.shape[0], m = start.shape[0], k
    cdef int64_t j
    out = np.zeros(m, dtype=np.uint8)
    cdef uint8_t[::1] o = out
    cdef bint ok
    with nogil:
        for k in range(m):
            if start[k] - flank < 0 or end[k] + flank > n:
                continue
            ok = True
            for j in range(start[k] - flank, start[k]):
                if CODE[seq[j]] > 3:
                    ok = False
                    break
            if ok:
                for j in range(end[k], end[k] + flank):
                    if CODE[seq[j]] > 3:
                        ok = False
                        break
            o[k] = ok
    return out
