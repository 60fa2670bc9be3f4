# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Fast text formatting of the per-variant TMB report (one TSV line per VariantTable row).

String columns are passed as lookup tables packed into one byte buffer plus offsets, so the
inner loop touches no Python object and runs without the GIL.
"""
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy
from libc.math cimport isnan, llround
from cython.view cimport array as cvarray


ctypedef unsigned long long uint64_t_


cdef struct Buf:
    char *data
    Py_ssize_t len
    Py_ssize_t cap


cdef inline int grow(Buf *b, Py_ssize_t need) noexcept nogil:
    cdef Py_ssize_t cap
    cdef char *nd
    if b.len + need <= b.cap:
        return 0
    cap = b.cap * 2
    while cap < b.len + need:
        cap *= 2
    nd = <char *> realloc(b.data, cap)
    if nd == NULL:
        return -1
    b.data = nd
    b.cap = cap
    return 0


cdef inline void put(Buf *b, const uint8_t *s, Py_ssize_t n) noexcept nogil:
    memcpy(b.data + b.len, s, n)
    b.len += n


cdef inline void putc(Buf *b, char c) noexcept nogil:
    b.data[b.len] = c
    b.len += 1


cdef inline void put_int(Buf *b, int64_t v) noexcept nogil:
    cdef char tmp[24]
    cdef int n = 0
    cdef uint64_t_ u
    if v < 0:
        putc(b, b'-')
        u = <uint64_t_> (-v)
    else:
        u = <uint64_t_> v
    if u == 0:
        putc(b, b'0')
        return
    while u > 0:
        tmp[n] = <char> (48 + u % 10)
        u //= 10
        n += 1
    while n > 0:
        n -= 1
        putc(b, tmp[n])


cdef inline void put_frac(Buf *b, double v, int digits) noexcept nogil:
    """Fixed-point decimal with ``digits`` decimals, trailing zeros trimmed (v >= 0)."""
    cdef int64_t scale = 1
    cdef int i
    cdef int64_t q, ip, fp
    cdef char tmp[24]
    cdef int n
    for i in range(digits):
        scale *= 10
    if v < 0:
        putc(b, b'-')
        v = -v
    q = llround(v * scale)
    ip = q // scale
    fp = q % scale
    put_int(b, ip)
    if fp == 0:
        return
    n = digits
    while fp % 10 == 0:
        fp //= 10
        n -= 1
    putc(b, b'.')
    for i in range(n):
        tmp[n - 1 - i] = <char> (48 + fp % 10)
        fp //= 10
    for i in range(n):
        putc(b, tmp[i])


cdef inline void put_lut(Buf *b, const uint8_t *buf, const int64_t *off, Py_ssize_t i) noexcept nogil:
    put(b, buf + off[i], off[i + 1] - off[i])


def format_rows(Py_ssize_t start, Py_ssize_t stop,
                const int32_t[:] sample, const int32_t[:] contig, const int64_t[:] pos,
                const int8_t[:] vtype, const int8_t[:] filt, const int32_t[:] t_depth,
                const int32_t[:] t_alt, const float[:] t_vaf, const int32_t[:] n_depth,
                const int32_t[:] n_alt, const float[:] pop_af, const int8_t[:] csq,
                const uint8_t[:] in_fp, const int8_t[:] first_fail, const int32_t[:] mask_code,
                const int64_t[:] record,
                const uint8_t[:] allele_buf, const int64_t[:] allele_off, bint have_alleles,
                const uint8_t[:] s_buf, const int64_t[:] s_off,
                const uint8_t[:] c_buf, const int64_t[:] c_off,
                const uint8_t[:] v_buf, const int64_t[:] v_off,
                const uint8_t[:] f_buf, const int64_t[:] f_off,
                const uint8_t[:] q_buf, const int64_t[:] q_off,
                const uint8_t[:] first_buf, const int64_t[:] first_off,
                const uint8_t[:] all_buf, const int64_t[:] all_off,
                const int32_t[:] src, bint have_src, const uint8_t[:] i_buf, const int64_t[:] i_off,
                Py_ssize_t reserve):
    """TSV lines for rows [start, stop) as bytes (columns: see tmbcalc.tmb.writers.VARIANT_COLUMNS).

    Lookup tables: s=sample names, c=contigs, v=variant types, f=filter names, q=consequence
    names indexed by code+1 (index 0 = unannotated), first=first-failing-rule name by bit index
    (+1; index 0 = ''), all=comma-joined failing rules by ``mask_code`` (the row's fail-bit mask as
    an index into this chunk's distinct masks); ``first_fail`` is the first failing rule's index, -1
    for an eligible row.
    With ``have_src`` a last column names each row's input file (``src`` indexes the i lookup).
    ``reserve``: bytes needed by one line besides its alleles (the longest lookup strings + numbers).
    """
    cdef Buf b
    cdef Py_ssize_t i
    cdef int fi
    cdef int failed = 0
    cdef const uint8_t *ab = &allele_buf[0] if allele_buf.shape[0] > 0 else NULL
    b.cap = max(4096, (stop - start) * 160)   # ~125 bytes a line with VEP-style alleles: rarely grown
    b.len = 0
    b.data = <char *> malloc(b.cap)
    if b.data == NULL:
        raise MemoryError()
    with nogil:
        for i in range(start, stop):
            if grow(&b, reserve + (allele_off[i + 1] - allele_off[i] if have_alleles else 0)) != 0:
                failed = 1
                break
            put_lut(&b, &s_buf[0], &s_off[0], sample[i]); putc(&b, b'\t')
            put_lut(&b, &c_buf[0], &c_off[0], contig[i]); putc(&b, b'\t')
            put_int(&b, pos[i] + 1); putc(&b, b'\t')
            if have_alleles:
                put(&b, ab + allele_off[i], allele_off[i + 1] - allele_off[i])   # "REF\tALT"
            else:
                putc(&b, b'.'); putc(&b, b'\t'); putc(&b, b'.')
            putc(&b, b'\t')
            put_lut(&b, &v_buf[0], &v_off[0], vtype[i]); putc(&b, b'\t')
            put_lut(&b, &f_buf[0], &f_off[0], filt[i]); putc(&b, b'\t')
            if t_depth[i] >= 0:
                put_int(&b, t_depth[i])
            else:
                putc(&b, b'.')
            putc(&b, b'\t')
            if t_alt[i] >= 0:
                put_int(&b, t_alt[i])
            else:
                putc(&b, b'.')
            putc(&b, b'\t')
            if isnan(t_vaf[i]):
                putc(&b, b'.')
            else:
                put_frac(&b, t_vaf[i], 4)
            putc(&b, b'\t')
            if n_depth[i] >= 0:
                put_int(&b, n_depth[i])
            else:
                putc(&b, b'.')
            putc(&b, b'\t')
            if n_alt[i] >= 0:
                put_int(&b, n_alt[i])
            else:
                putc(&b, b'.')
            putc(&b, b'\t')
            if isnan(pop_af[i]):
                putc(&b, b'.')
            else:
                put_frac(&b, pop_af[i], 6)
            putc(&b, b'\t')
            put_lut(&b, &q_buf[0], &q_off[0], csq[i] + 1); putc(&b, b'\t')
            if in_fp[i]:
                put(&b, <const uint8_t *> b"yes", 3)
            else:
                put(&b, <const uint8_t *> b"no", 2)
            putc(&b, b'\t')
            fi = first_fail[i]
            if fi < 0:
                put(&b, <const uint8_t *> b"yes\t.\t.", 7)
            else:
                put(&b, <const uint8_t *> b"no\t", 3)
                put_lut(&b, &first_buf[0], &first_off[0], fi + 1); putc(&b, b'\t')
                put_lut(&b, &all_buf[0], &all_off[0], mask_code[i])
            putc(&b, b'\t')
            put_int(&b, record[i] + 1)
            if have_src:
                putc(&b, b'\t')
                put_lut(&b, &i_buf[0], &i_off[0], src[i])
            putc(&b, b'\n')
    if failed:
        free(b.data)
        raise MemoryError()
    if b.len == 0:
        free(b.data)
        return b""
    # hand the buffer over without copying it (the compressor reads any buffer-protocol object)
    arr = cvarray(shape=(b.len,), itemsize=1, format="B", mode="c", allocate_buffer=False)
    arr.data = b.data
    arr.callback_free_data = free
    return memoryview(arr)
