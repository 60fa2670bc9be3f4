# distutils: language = c++
# cython: language_level=3
"""Read-depth kernel: stream alignments through htslib into a difference array.

Private module (use :func:`tmbcalc.coverage.compute_callable`).  Conventions:

* Coordinates are 0-based half-open.  Depth is computed only over a set of disjoint, sorted
  intervals of one contig (the footprint, and the targets); the output array holds the depth of
  every base of those intervals, concatenated in interval order (int32, no per-base objects).
* A read is skipped when ``flag & exclude_flags`` is non-zero or its MAPQ < ``min_mapq``.
* CIGAR M/=/X add depth; D adds depth only when ``count_deletions``; I, S, H, P add nothing;
  N is a gap.  Adjacent covered operations (e.g. ``5M1I5M``) form one block.
* Mate overlap (``overlap_mode``): 0 = count both mates; 1 = count each base once per
  fragment (the overlapping part of the later mate of a properly paired, non-supplementary
  pair on one contig is not counted, computed on aligned blocks); 2 = as 1 but reproducing
  mosdepth 0.3.x exactly, including its handling of a single-block read whose single-block mate
  contains it (mosdepth removes the depth of the whole span from the later mate's start to the
  earlier mate's end).
"""
from libc.stdint cimport int32_t, int64_t, uint32_t, uint16_t, uint8_t
from libc.stdlib cimport malloc, free, realloc
from libc.string cimport memcpy
from libc.stdint cimport uint64_t
from posix.unistd cimport pread, close
from posix.fcntl cimport open as posix_open, O_RDONLY
from posix.dlfcn cimport dlopen, dlsym, RTLD_NOW, RTLD_LOCAL
from libcpp.string cimport string
from libcpp.vector cimport vector
from libcpp.unordered_map cimport unordered_map
from libcpp.algorithm cimport nth_element, sort as cpp_sort
from cython.operator cimport dereference as deref

import numpy as np
cimport numpy as cnp

from pysam.libchtslib cimport (
    htsFile, hts_open, hts_close, hts_set_threads, hts_set_fai_filename, hts_check_EOF,
    hts_idx_t, hts_idx_destroy, hts_itr_t, hts_itr_destroy, hts_set_opt, hts_fmt_option,
    sam_hdr_t, sam_hdr_read, sam_hdr_destroy, sam_hdr_nref, sam_hdr_tid2name, sam_hdr_tid2len,
    sam_hdr_find_tag_hd, kstring_t, bam1_t, bam_init1, bam_destroy1, bam_get_qname, bam_get_cigar,
    bam_endpos, sam_index_load3, sam_itr_regarray, sam_itr_next, HTS_IDX_SILENT_FAIL, sam_itr_queryi,
    hts_get_format, htsExactFormat,
)

cnp.import_array()

cdef extern from "htslib/hts_log.h":
    ctypedef enum htsLogLevel:
        HTS_LOG_OFF
    void hts_set_log_level(htsLogLevel level)
    htsLogLevel hts_get_log_level()

cdef extern from "htslib/hts.h":
    int CRAM_OPT_REQUIRED_FIELDS_ "CRAM_OPT_REQUIRED_FIELDS"
    int CRAM_OPT_DECODE_MD_ "CRAM_OPT_DECODE_MD"

cdef extern from "htslib/sam.h":
    int SAM_QNAME, SAM_FLAG, SAM_RNAME, SAM_POS, SAM_MAPQ, SAM_CIGAR, SAM_RNEXT, SAM_PNEXT

cdef extern from "stdlib.h":
    void free_ks "free"(char *p)

cdef enum:
    FPROPER = 2
    FSUPPL = 2048

cdef enum:  # return codes of the nogil loop
    OK = 0
    ERR_TRUNCATED = 1
    ERR_UNSORTED = 2
    ERR_WRONG_CONTIG = 4
    ERR_FALLBACK = 5


# ---------------------------------------------------------------------------------------------
# Fast BAM path: pysam's bundled htslib inflates BGZF with zlib; when the system libdeflate is
# present (loaded at run time with dlopen, so it is optional) BAM blocks are inflated with it
# and records parsed here.  The chunk list still comes from htslib's index; CRAM, and BAMs
# whose long CIGARs live in a CG tag, use the htslib iterator.
ctypedef void *(*deflate_alloc_t)() noexcept nogil
ctypedef int (*deflate_decompress_t)(void *, const void *, size_t, void *, size_t, size_t *) noexcept nogil
ctypedef void (*deflate_free_t)(void *) noexcept nogil
ctypedef uint32_t (*deflate_crc32_t)(uint32_t, const void *, size_t) noexcept nogil

cdef deflate_alloc_t _dfl_alloc = NULL
cdef deflate_decompress_t _dfl_decompress = NULL
cdef deflate_free_t _dfl_free = NULL
cdef deflate_crc32_t _dfl_crc32 = NULL


cdef void _load_libdeflate():
    global _dfl_alloc, _dfl_decompress, _dfl_free, _dfl_crc32
    cdef void *h = NULL
    for name in (b"libdeflate.so.0", b"libdeflate.so"):
        h = dlopen(name, RTLD_NOW | RTLD_LOCAL)
        if h != NULL:
            break
    if h == NULL:
        return
    _dfl_alloc = <deflate_alloc_t>dlsym(h, b"libdeflate_alloc_decompressor")
    _dfl_decompress = <deflate_decompress_t>dlsym(h, b"libdeflate_deflate_decompress")
    _dfl_free = <deflate_free_t>dlsym(h, b"libdeflate_free_decompressor")
    _dfl_crc32 = <deflate_crc32_t>dlsym(h, b"libdeflate_crc32")
    if _dfl_alloc == NULL or _dfl_decompress == NULL or _dfl_free == NULL or _dfl_crc32 == NULL:
        _dfl_alloc = NULL


_load_libdeflate()
FAST_BAM_AVAILABLE = _dfl_alloc != NULL

DEF_BLOCK = 65536


cdef struct Bgzf:
    int fd
    int64_t addr       # file offset of the loaded block
    int64_t next_addr  # file offset of the following block
    int ulen
    int upos
    uint8_t *cbuf
    uint8_t *ubuf
    void *dec


cdef inline uint32_t le32(const uint8_t *p) noexcept nogil:
    cdef uint32_t v
    memcpy(&v, p, 4)
    return v


cdef int bgzf_load(Bgzf *z, int64_t addr) noexcept nogil:
    """Load and inflate the BGZF block at ``addr``: 0 ok, 1 end of file, -1 corrupt/truncated."""
    cdef ssize_t n = pread(z.fd, z.cbuf, 65536, addr)
    cdef int xlen, bsize, total, dlen, j
    cdef uint32_t isize
    cdef size_t actual = 0
    if n == 0:
        return 1
    if n < 18 or z.cbuf[0] != 31 or z.cbuf[1] != 139 or z.cbuf[2] != 8 or (z.cbuf[3] & 4) == 0:
        return -1
    xlen = z.cbuf[10] | (z.cbuf[11] << 8)
    bsize = -1
    j = 12
    while j + 4 <= 12 + xlen and j + 4 <= n:
        if z.cbuf[j] == 66 and z.cbuf[j + 1] == 67 and z.cbuf[j + 2 + 0] == 2 and z.cbuf[j + 3] == 0:
            bsize = z.cbuf[j + 4] | (z.cbuf[j + 5] << 8)
            break
        j += 4 + (z.cbuf[j + 2] | (z.cbuf[j + 3] << 8))
    if bsize < 0:
        return -1
    total = bsize + 1
    if total > n or total < 12 + xlen + 8:
        return -1
    isize = le32(z.cbuf + total - 4)
    if isize > 65536:
        return -1
    dlen = total - 12 - xlen - 8
    if _dfl_decompress(z.dec, z.cbuf + 12 + xlen, dlen, z.ubuf, isize, &actual) != 0 or actual != isize:
        return -1
    if _dfl_crc32(0, z.ubuf, isize) != le32(z.cbuf + total - 8):  # CRC32 of the block, as htslib checks
        return -1
    z.addr = addr
    z.next_addr = addr + total
    z.ulen = <int>isize
    z.upos = 0
    return 0


cdef inline int bgzf_normalize(Bgzf *z) noexcept nogil:
    """Move past exhausted (or empty) blocks: 0 ok, 1 end of file, -1 error."""
    cdef int r
    while z.upos >= z.ulen:
        r = bgzf_load(z, z.next_addr)
        if r != 0:
            return r
    return 0


cdef int bgzf_read(Bgzf *z, uint8_t *dst, int n) noexcept nogil:
    """Copy n bytes: 0 ok, -1 truncated/corrupt."""
    cdef int got = 0, take
    while got < n:
        if bgzf_normalize(z) != 0:
            return -1
        take = z.ulen - z.upos
        if take > n - got:
            take = n - got
        memcpy(dst + got, z.ubuf + z.upos, take)
        z.upos += take
        got += take
    return 0


cdef int run_contig_fast(Bgzf *z, vector[uint64_t] &chunks, int64_t *qs, int64_t *qe, Py_ssize_t nq,
                         Layout *L, Params *P, int64_t *n_used) noexcept nogil:
    """Stream the records of merged index chunks [u0, v0, u1, v1, ...] (virtual offsets)."""
    cdef State S
    cdef size_t c
    cdef int r, bs
    cdef uint64_t u, v, vo
    cdef uint8_t hdr4[4]
    cdef vector[uint8_t] rec
    cdef vector[uint32_t] cig
    cdef const uint8_t *d
    cdef int32_t rtid, rpos, mtid, mpos, l_seq
    cdef uint8_t l_qname, mapq
    cdef uint16_t n_cigar, flag
    cdef int64_t endpos, rlen
    cdef uint32_t k, op
    cdef Py_ssize_t q = 0
    cdef int64_t qmax = qe[nq - 1]
    S.last_pos = -1
    S.used = 0
    S.first = 0
    for c in range(0, chunks.size(), 2):
        u = chunks[c]
        v = chunks[c + 1]
        r = bgzf_load(z, <int64_t>(u >> 16))
        if r != 0:
            return ERR_TRUNCATED
        z.upos = <int>(u & 0xffff)
        while True:
            r = bgzf_normalize(z)
            if r == 1:
                break
            if r < 0:
                return ERR_TRUNCATED
            vo = (<uint64_t>z.addr << 16) | <uint64_t>z.upos
            if vo >= v:
                break
            if bgzf_read(z, hdr4, 4) != 0:
                return ERR_TRUNCATED
            bs = <int>le32(hdr4)
            if bs < 32:
                return ERR_TRUNCATED
            rec.resize(bs)
            if bgzf_read(z, rec.data(), bs) != 0:
                return ERR_TRUNCATED
            d = rec.data()
            memcpy(&rtid, d, 4)
            memcpy(&rpos, d + 4, 4)
            l_qname = d[8]
            mapq = d[9]
            memcpy(&n_cigar, d + 12, 2)
            memcpy(&flag, d + 14, 2)
            memcpy(&l_seq, d + 16, 4)
            memcpy(&mtid, d + 20, 4)
            memcpy(&mpos, d + 24, 4)
            if l_qname < 1 or 32 + <int>l_qname + 4 * <int>n_cigar > bs:
                return ERR_TRUNCATED
            if rtid != P.tid:
                if rtid < 0 or rtid > P.tid:
                    break  # sorted file: past this contig
                continue
            if rpos >= qmax:
                n_used[0] = S.used
                return OK
            cig.resize(n_cigar)
            if n_cigar:
                memcpy(cig.data(), d + 32 + l_qname, 4 * n_cigar)
            # long CIGAR kept in a CG tag: let htslib decode it
            if n_cigar == 2 and (cig[0] & 0xf) == 4 and <int32_t>(cig[0] >> 4) == l_seq and (cig[1] & 0xf) == 3:
                return ERR_FALLBACK
            # alignment end as htslib's bam_endpos
            rlen = 0
            if (flag & 4) == 0:
                for k in range(n_cigar):
                    op = cig[k] & 0xf
                    if op == 0 or op == 2 or op == 3 or op == 7 or op == 8:
                        rlen += cig[k] >> 4
            if rlen == 0:
                rlen = 1
            endpos = rpos + rlen
            # keep only reads overlapping a query interval (as htslib's region iterator)
            while q < nq and qe[q] <= rpos:
                q += 1
            if q >= nq or qs[q] >= endpos:
                if rpos < S.last_pos:
                    return ERR_UNSORTED
                continue
            r = process_read(L, P, &S, rpos, endpos, flag, mapq, mtid, mpos, <const char *>(d + 32),
                             l_qname - 1, cig.data(), n_cigar)
            if r != OK:
                return r
    n_used[0] = S.used
    return OK


cdef struct Layout:
    # disjoint sorted intervals of one contig; slot j covers [starts[j], ends[j]] in the
    # difference array at offs[j] (one extra slot per interval for block ends at its end)
    int64_t *starts
    int64_t *ends
    int64_t *offs
    Py_ssize_t n
    int32_t *diff


cdef inline void add_range(Layout *L, Py_ssize_t first, int64_t s, int64_t e, int32_t delta) noexcept nogil:
    """Add ``delta`` depth over [s, e) clipped to the intervals (searching from ``first``)."""
    cdef Py_ssize_t j = first
    cdef int64_t cs, ce
    if e <= s:
        return
    while j < L.n and L.ends[j] <= s:
        j += 1
    while j < L.n and L.starts[j] < e:
        cs = s if s > L.starts[j] else L.starts[j]
        ce = e if e < L.ends[j] else L.ends[j]
        L.diff[L.offs[j] + cs - L.starts[j]] += delta
        L.diff[L.offs[j] + ce - L.starts[j]] -= delta
        if L.ends[j] >= e:
            break
        j += 1


cdef inline Py_ssize_t read_blocks(const uint32_t *cig, uint32_t n_cigar, int64_t pos, bint count_del,
                                   vector[int64_t] &blk) noexcept nogil:
    """Fill ``blk`` with merged covered blocks [s0, e0, s1, e1, ...]; return the count."""
    cdef uint32_t i, op, ln
    cdef int64_t bs = -1, be = -1
    blk.clear()
    for i in range(n_cigar):
        op = cig[i] & 0xf
        ln = cig[i] >> 4
        # M=0 I=1 D=2 N=3 S=4 H=5 P=6 ==7 X=8
        if op == 0 or op == 7 or op == 8 or (op == 2 and count_del):
            if bs >= 0 and be == pos:
                be = pos + ln
            else:
                if bs >= 0:
                    blk.push_back(bs)
                    blk.push_back(be)
                bs = pos
                be = pos + ln
            pos += ln
        elif op == 2 or op == 3:
            pos += ln
    if bs >= 0 and be > bs:
        blk.push_back(bs)
        blk.push_back(be)
    return <Py_ssize_t>(blk.size() // 2)


cdef inline void subtract_intersection(Layout *L, Py_ssize_t first, vector[int64_t] &a,
                                       vector[int64_t] &b) noexcept nogil:
    """Remove one unit of depth where the block lists ``a`` and ``b`` intersect."""
    cdef size_t i = 0, j = 0
    cdef int64_t s, e
    while i < a.size() and j < b.size():
        s = a[i] if a[i] > b[j] else b[j]
        e = a[i + 1] if a[i + 1] < b[j + 1] else b[j + 1]
        if s < e:
            add_range(L, first, s, e, -1)
        if a[i + 1] < b[j + 1]:
            i += 2
        else:
            j += 2


cdef struct Params:
    int tid
    int min_mapq
    int exclude
    int overlap_mode
    bint count_del
    int64_t count_from


cdef cppclass State:
    # per-query streaming state (mate table, scratch vectors, counters)
    vector[int64_t] blk
    unordered_map[string, vector[int64_t]] seen
    string key
    int64_t last_pos
    int64_t used
    Py_ssize_t first


cdef inline int process_read(Layout *L, Params *P, State *S, int64_t pos, int64_t endpos, uint16_t flag,
                             uint8_t mapq, int32_t mtid, int64_t mpos, const char *qname, int l_qname,
                             const uint32_t *cig, uint32_t n_cigar) noexcept nogil:
    """Add one read (already known to be on the contig) to the difference array."""
    cdef bint counted
    cdef uint32_t mate_ncig
    cdef int64_t mate_end
    cdef size_t i
    cdef unordered_map[string, vector[int64_t]].iterator it
    if pos < S.last_pos:
        return ERR_UNSORTED
    S.last_pos = pos
    if (flag & P.exclude) != 0 or mapq < P.min_mapq:
        return OK
    while S.first < L.n and L.ends[S.first] <= pos:
        S.first += 1
    # a read belongs to the chunk holding the first interval base its span overlaps; reads
    # of an earlier chunk (count_from > 0, parallel mode) only register as earlier mates
    counted = P.count_from <= 0 or (S.first < L.n and (pos if pos > L.starts[S.first] else L.starts[S.first])
                                    >= P.count_from)
    read_blocks(cig, n_cigar, pos, P.count_del, S.blk)
    if counted:
        S.used += 1
    if P.overlap_mode != 0 and (flag & FPROPER) != 0 and (flag & FSUPPL) == 0:
        S.key.assign(qname, l_qname)
        if P.tid == mtid and endpos > mpos and (pos < mpos or (pos == mpos and S.seen.count(S.key) == 0)):
            # earlier mate of a pair whose later mate starts inside it: remember its blocks
            # (then its end position and n_cigar, for the mosdepth-compatible mode)
            S.seen[S.key] = S.blk
            S.seen[S.key].push_back(endpos)
            S.seen[S.key].push_back(n_cigar)
        elif counted and not S.seen.empty():
            it = S.seen.find(S.key)
            if it != S.seen.end():
                mate_ncig = <uint32_t>deref(it).second.back()
                deref(it).second.pop_back()
                mate_end = deref(it).second.back()
                deref(it).second.pop_back()
                if P.overlap_mode == 2 and mate_ncig == 1 and n_cigar == 1:
                    add_range(L, S.first, pos, mate_end, -1)
                else:
                    subtract_intersection(L, S.first, S.blk, deref(it).second)
                S.seen.erase(it)
    if not counted:
        return OK
    for i in range(S.blk.size() // 2):
        add_range(L, S.first, S.blk[2 * i], S.blk[2 * i + 1], 1)
    return OK


cdef int run_contig(htsFile *fp, hts_itr_t *itr, bam1_t *b, Layout *L, Params *P,
                    int64_t *n_used) noexcept nogil:
    """Stream the reads of an htslib iterator (BAM or CRAM)."""
    cdef int ret, r
    cdef State S
    S.last_pos = -1
    S.used = 0
    S.first = 0
    while True:
        ret = sam_itr_next(fp, itr, b)
        if ret < 0:
            break
        if b.core.tid != P.tid:
            return ERR_WRONG_CONTIG
        r = process_read(L, P, &S, b.core.pos, bam_endpos(b), b.core.flag, b.core.qual, b.core.mtid,
                         b.core.mpos, bam_get_qname(b), b.core.l_qname - 1 - b.core.l_extranul,
                         bam_get_cigar(b), b.core.n_cigar)
        if r != OK:
            return r
    n_used[0] = S.used
    if ret < -1:
        return ERR_TRUNCATED
    return OK


cdef class DepthReader:
    """One open alignment file (BAM/CRAM) with its index; compute depth contig by contig.

    ``hts_threads`` > 0 adds that many BGZF/CRAM decoding threads to this handle.
    """

    cdef htsFile *fp
    cdef sam_hdr_t *hdr
    cdef hts_idx_t *idx
    cdef bam1_t *b
    cdef readonly str path
    cdef readonly bint is_cram
    cdef readonly int eof_status
    cdef readonly bint fast
    cdef Bgzf z

    def __cinit__(self):
        self.fp = NULL
        self.hdr = NULL
        self.idx = NULL
        self.b = NULL
        self.z.fd = -1
        self.z.cbuf = NULL
        self.z.ubuf = NULL
        self.z.dec = NULL

    def __init__(self, str path, str reference=None, int hts_threads=0, bint load_index=True,
                 bint fast=True):
        cdef bytes bpath = path.encode()
        cdef bytes bref
        cdef htsLogLevel level = hts_get_log_level()
        self.path = path
        hts_set_log_level(HTS_LOG_OFF)
        try:
            self.fp = hts_open(bpath, b"r")
            if self.fp == NULL:
                raise OSError(f"cannot open {path} as an alignment file")
            self.is_cram = self.fp.is_cram
            if self.is_cram:
                if reference is not None:
                    bref = reference.encode()
                    if hts_set_fai_filename(self.fp, bref) != 0:
                        raise OSError(f"cannot use reference {reference}")
                hts_set_opt(self.fp, <hts_fmt_option>CRAM_OPT_REQUIRED_FIELDS_,
                            <int>(SAM_QNAME | SAM_FLAG | SAM_RNAME | SAM_POS | SAM_MAPQ | SAM_CIGAR
                                  | SAM_RNEXT | SAM_PNEXT))
                hts_set_opt(self.fp, <hts_fmt_option>CRAM_OPT_DECODE_MD_, <int>0)
            self.eof_status = hts_check_EOF(self.fp)
            if hts_threads > 0:
                hts_set_threads(self.fp, hts_threads)
            self.hdr = sam_hdr_read(self.fp)
            if self.hdr == NULL:
                raise ValueError("cannot read the alignment header")
            if load_index:
                self.idx = sam_index_load3(self.fp, bpath, NULL, HTS_IDX_SILENT_FAIL)
            self.b = bam_init1()
        finally:
            hts_set_log_level(level)
        # libdeflate path for BGZF-compressed BAM (not with extra decoding threads: htslib's
        # thread pool is then the faster choice)
        self.fast = False
        if (fast and FAST_BAM_AVAILABLE and hts_get_format(self.fp).format == htsExactFormat.bam
                and self.fp.is_bgzf and hts_threads == 0):
            self.z.fd = posix_open(bpath, O_RDONLY)
            self.z.cbuf = <uint8_t *>malloc(65536)
            self.z.ubuf = <uint8_t *>malloc(65536)
            self.z.dec = _dfl_alloc()
            self.z.ulen = 0
            self.z.upos = 0
            self.z.addr = 0
            self.z.next_addr = 0
            self.fast = self.z.fd >= 0 and self.z.cbuf != NULL and self.z.ubuf != NULL and self.z.dec != NULL

    def __dealloc__(self):
        if self.z.fd >= 0:
            close(self.z.fd)
        if self.z.cbuf != NULL:
            free(self.z.cbuf)
        if self.z.ubuf != NULL:
            free(self.z.ubuf)
        if self.z.dec != NULL:
            _dfl_free(self.z.dec)
        if self.b != NULL:
            bam_destroy1(self.b)
        if self.idx != NULL:
            hts_idx_destroy(self.idx)
        if self.hdr != NULL:
            sam_hdr_destroy(self.hdr)
        if self.fp != NULL:
            hts_close(self.fp)

    @property
    def has_index(self) -> bool:
        return self.idx != NULL

    def contigs(self):
        """List of (name, length) from the header, in header order."""
        cdef int i
        return [(sam_hdr_tid2name(self.hdr, i).decode(), int(sam_hdr_tid2len(self.hdr, i)))
                for i in range(sam_hdr_nref(self.hdr))]

    def sort_order(self):
        """The @HD SO value, or None."""
        cdef kstring_t ks
        ks.l = 0
        ks.m = 0
        ks.s = NULL
        cdef int r = sam_hdr_find_tag_hd(self.hdr, b"SO", &ks)
        out = None
        if r == 0 and ks.s != NULL:
            out = ks.s[:ks.l].decode()
        if ks.s != NULL:
            free_ks(ks.s)
        return out

    def depth(self, int tid, cnp.int64_t[::1] starts, cnp.int64_t[::1] ends, int min_mapq,
              int exclude_flags, int overlap_mode, bint count_deletions, query_starts=None,
              query_ends=None, int64_t count_from=-1):
        """Depth over disjoint sorted intervals of contig ``tid``.

        Returns (depth int32 array of length sum(ends - starts), number of reads used).
        For parallel chunks: ``query_starts/ends`` (a sub-range of the intervals) select the
        reads, and only reads whose first overlapped interval base is >= ``count_from`` are
        counted (earlier ones only serve as mates); chunk arrays add up to the whole.
        Raises ValueError('truncated'|'unsorted'|...) on a bad file.
        """
        cdef cnp.int64_t[::1] qs = starts if query_starts is None else query_starts
        cdef cnp.int64_t[::1] qe = ends if query_ends is None else query_ends
        cdef Py_ssize_t n = starts.shape[0], j
        cdef cnp.ndarray[cnp.int64_t, ndim=1] offs = np.empty(n + 1, dtype=np.int64)
        cdef int64_t tot = 0, total_bp = 0
        for j in range(n):
            offs[j] = tot
            tot += ends[j] - starts[j] + 1
            total_bp += ends[j] - starts[j]
        offs[n] = tot
        diff_arr = np.zeros(max(tot, 1), dtype=np.int32)
        cdef int32_t[::1] diff = diff_arr
        if n == 0:
            return diff_arr[:0], 0
        if self.idx == NULL:
            raise ValueError("no index")
        # region strings for the multi-region iterator (reads overlapping several intervals are
        # returned once); name in braces so that contig names with ':' parse
        name = sam_hdr_tid2name(self.hdr, tid).decode()
        cdef Py_ssize_t nq = qs.shape[0]
        if nq == 0:
            return np.zeros(total_bp, dtype=np.int32), 0
        cdef Layout L
        L.starts = &starts[0]
        L.ends = &ends[0]
        L.offs = <int64_t *>offs.data
        L.n = n
        L.diff = &diff[0]
        cdef Params P
        P.tid = tid
        P.min_mapq = min_mapq
        P.exclude = exclude_flags
        P.overlap_mode = overlap_mode
        P.count_del = count_deletions
        P.count_from = count_from
        cdef int ret = ERR_FALLBACK
        cdef int64_t used = 0
        cdef vector[uint64_t] chunks
        cdef hts_itr_t *qitr
        cdef int ci
        if self.fast:
            pairs = []
            for j in range(nq):
                qitr = sam_itr_queryi(self.idx, tid, qs[j], qe[j])
                if qitr == NULL:
                    raise ValueError(f"cannot query contig {tid}")
                for ci in range(qitr.n_off):
                    pairs.append((qitr.off[ci].u, qitr.off[ci].v))
                hts_itr_destroy(qitr)
            pairs.sort()
            # merge overlapping chunks so that every record is read once (note: no negative
            # indexing here, the module is compiled with wraparound off)
            for pu, pv in pairs:
                if chunks.size() and <uint64_t>pu <= chunks[chunks.size() - 1]:
                    if <uint64_t>pv > chunks[chunks.size() - 1]:
                        chunks[chunks.size() - 1] = pv
                else:
                    chunks.push_back(pu)
                    chunks.push_back(pv)
            if chunks.size():
                with nogil:
                    ret = run_contig_fast(&self.z, chunks, &qs[0], &qe[0], nq, &L, &P, &used)
            else:
                ret = OK
            if ret == ERR_FALLBACK:
                diff_arr[:] = 0
                used = 0
        if ret == ERR_FALLBACK:
            ret = self._run_htslib(tid, qs, qe, &L, &P, &used)
        if ret == ERR_TRUNCATED:
            raise ValueError("truncated")
        if ret == ERR_UNSORTED:
            raise ValueError("unsorted")
        if ret == ERR_WRONG_CONTIG:
            raise ValueError("wrong contig")
        # prefix sum, then compact away the one extra slot per interval (in place)
        cdef int32_t run = 0
        cdef int64_t k, out = 0
        with nogil:
            for j in range(n):
                for k in range(offs[j], offs[j + 1] - 1):
                    run += diff[k]
                    diff[out] = run
                    out += 1
                run += diff[offs[j + 1] - 1]
        return diff_arr[:total_bp], int(used)

    cdef int _run_htslib(self, int tid, cnp.int64_t[::1] qs, cnp.int64_t[::1] qe, Layout *L, Params *P,
                         int64_t *used) except -1:
        """The htslib multi-region iterator path (CRAM, no libdeflate, CG-tag CIGARs)."""
        cdef Py_ssize_t nq = qs.shape[0], j
        name = sam_hdr_tid2name(self.hdr, tid).decode()
        regs = [f"{{{name}}}:{qs[j] + 1}-{qe[j]}".encode() for j in range(nq)]
        cdef char **regarray = <char **>malloc(nq * sizeof(char *))
        if regarray == NULL:
            raise MemoryError()
        for j in range(nq):
            regarray[j] = regs[j]
        cdef hts_itr_t *itr = sam_itr_regarray(self.idx, self.hdr, regarray, <unsigned int>nq)
        free(regarray)
        if itr == NULL:
            raise ValueError(f"cannot query {name}")
        cdef int ret
        cdef htsLogLevel level = hts_get_log_level()
        hts_set_log_level(HTS_LOG_OFF)
        with nogil:
            ret = run_contig(self.fp, itr, self.b, L, P, used)
        hts_set_log_level(level)
        hts_itr_destroy(itr)
        return ret


def callable_intervals(cnp.int32_t[::1] depth, cnp.int64_t[::1] starts, cnp.int64_t[::1] ends,
                       int min_depth, cnp.int32_t[::1] normal=None, int min_normal=0):
    """Genomic [start, end) runs where depth >= min_depth (and normal >= min_normal if given).

    ``depth``/``normal`` are laid out as returned by :meth:`DepthReader.depth` for the same
    intervals.  Returns (starts, ends) int64 arrays, runs not merged across interval edges.
    """
    cdef Py_ssize_t n = starts.shape[0], j
    cdef int64_t k, off = 0, p, run_s
    cdef bint ok, inrun
    cdef bint has_n = normal is not None
    cdef vector[int64_t] out
    with nogil:
        for j in range(n):
            inrun = False
            run_s = 0
            for k in range(ends[j] - starts[j]):
                ok = depth[off + k] >= min_depth
                if ok and has_n:
                    ok = normal[off + k] >= min_normal
                if ok and not inrun:
                    inrun = True
                    run_s = starts[j] + k
                elif not ok and inrun:
                    inrun = False
                    out.push_back(run_s)
                    out.push_back(starts[j] + k)
            if inrun:
                out.push_back(run_s)
                out.push_back(ends[j])
            off += ends[j] - starts[j]
    arr = np.empty(out.size(), dtype=np.int64)
    cdef cnp.int64_t[::1] av = arr
    for k in range(<int64_t>out.size()):
        av[k] = out[k]
    return arr[0::2].copy(), arr[1::2].copy()


def target_stats(cnp.int32_t[::1] depth, cnp.int64_t[::1] starts, cnp.int64_t[::1] ends,
                 cnp.int64_t[::1] t_starts, cnp.int64_t[::1] t_ends, int min_depth):
    """Per-target mean depth, median depth and fraction of bases with depth >= min_depth.

    Targets must lie inside the intervals (``depth`` layout as in :meth:`DepthReader.depth`).
    The median of an even number of bases is the mean of the two middle values.
    Empty targets give NaN.
    """
    cdef Py_ssize_t n = starts.shape[0], m = t_starts.shape[0], i, j
    offs_arr = np.zeros(n + 1, dtype=np.int64)
    cdef cnp.int64_t[::1] offs = offs_arr
    for j in range(n):
        offs[j + 1] = offs[j] + ends[j] - starts[j]
    mean_a = np.full(m, np.nan)
    med_a = np.full(m, np.nan)
    frac_a = np.full(m, np.nan)
    cdef double[::1] mean = mean_a, med = med_a, frac = frac_a
    cdef vector[int32_t] buf
    cdef int64_t a, ln, k, ge, lo, hi, mid
    cdef double s
    cdef int32_t v1, v2
    cdef bint bad = False
    with nogil:
        for i in range(m):
            ln = t_ends[i] - t_starts[i]
            if ln <= 0:
                continue
            # binary search: interval j with starts[j] <= t_start < ends[j]
            lo = 0
            hi = n
            while lo < hi:
                mid = (lo + hi) // 2
                if ends[mid] <= t_starts[i]:
                    lo = mid + 1
                else:
                    hi = mid
            if lo >= n or starts[lo] > t_starts[i] or ends[lo] < t_ends[i]:
                bad = True
                break
            a = offs[lo] + t_starts[i] - starts[lo]
            s = 0
            ge = 0
            buf.resize(ln)
            for k in range(ln):
                s += depth[a + k]
                if depth[a + k] >= min_depth:
                    ge += 1
                buf[k] = depth[a + k]
            mean[i] = s / ln
            frac[i] = (<double>ge) / ln
            nth_element(buf.begin(), buf.begin() + ln // 2, buf.end())
            v2 = buf[ln // 2]
            if ln % 2 == 1:
                med[i] = v2
            else:
                nth_element(buf.begin(), buf.begin() + ln // 2 - 1, buf.begin() + ln // 2)
                v1 = buf[ln // 2 - 1]
                med[i] = (v1 + <double>v2) / 2.0
    if bad:
        raise ValueError("a target is not inside the depth intervals")
    return mean_a, med_a, frac_a
