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
    bam_endpos, sam_index_load3, sam_itr_regarray, sam_itr_next, HTS_IDX_SILENT_FAIL,
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


cdef inline Py_ssize_t read_blocks(bam1_t *b, bint count_del, vector[int64_t] &blk) noexcept nogil:
    """Fill ``blk`` with merged covered blocks [s0, e0, s1, e1, ...]; return the count."""
    cdef uint32_t *cig = bam_get_cigar(b)
    cdef uint32_t i, op, ln
    cdef int64_t pos = b.core.pos
    cdef int64_t bs = -1, be = -1
    blk.clear()
    for i in range(b.core.n_cigar):
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


cdef int run_contig(htsFile *fp, hts_itr_t *itr, bam1_t *b, int tid, Layout *L, int min_mapq,
                    int exclude, int overlap_mode, bint count_del, int64_t count_from,
                    int64_t *n_used) noexcept nogil:
    cdef int ret
    cdef int64_t last_pos = -1, pos, endpos
    cdef uint16_t flag
    cdef Py_ssize_t first = 0
    cdef vector[int64_t] blk
    cdef unordered_map[string, vector[int64_t]] seen
    cdef unordered_map[string, vector[int64_t]].iterator it
    cdef string key
    cdef bint counted
    cdef int64_t used = 0
    cdef uint32_t mate_ncig
    cdef size_t i
    while True:
        ret = sam_itr_next(fp, itr, b)
        if ret < 0:
            break
        if b.core.tid != tid:
            return ERR_WRONG_CONTIG
        pos = b.core.pos
        if pos < last_pos:
            return ERR_UNSORTED
        last_pos = pos
        flag = b.core.flag
        if (flag & exclude) != 0 or b.core.qual < min_mapq:
            continue
        while first < L.n and L.ends[first] <= pos:
            first += 1
        # a read belongs to the chunk holding the first interval base its span overlaps; reads
        # of an earlier chunk (count_from > 0, parallel mode) only register as earlier mates
        counted = count_from <= 0 or (first < L.n and (pos if pos > L.starts[first] else L.starts[first])
                                      >= count_from)
        read_blocks(b, count_del, blk)
        if counted:
            used += 1
        if overlap_mode != 0 and (flag & FPROPER) != 0 and (flag & FSUPPL) == 0:
            endpos = bam_endpos(b)
            key.assign(bam_get_qname(b), b.core.l_qname - 1 - b.core.l_extranul)
            if b.core.tid == b.core.mtid and endpos > b.core.mpos and (
                    pos < b.core.mpos or (pos == b.core.mpos and seen.count(key) == 0)):
                # earlier mate of a pair whose later mate starts inside it: remember its blocks
                # (last element = n_cigar, then end position, for the mosdepth-compatible mode)
                seen[key] = blk
                seen[key].push_back(endpos)
                seen[key].push_back(b.core.n_cigar)
            elif counted and not seen.empty():
                it = seen.find(key)
                if it != seen.end():
                    mate_ncig = <uint32_t>deref(it).second.back()
                    deref(it).second.pop_back()
                    endpos = deref(it).second.back()
                    deref(it).second.pop_back()
                    if overlap_mode == 2 and mate_ncig == 1 and b.core.n_cigar == 1:
                        add_range(L, first, pos, endpos, -1)
                    else:
                        subtract_intersection(L, first, blk, deref(it).second)
                    seen.erase(it)
        if not counted:
            continue
        for i in range(blk.size() // 2):
            add_range(L, first, blk[2 * i], blk[2 * i + 1], 1)
    n_used[0] = used
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

    def __cinit__(self):
        self.fp = NULL
        self.hdr = NULL
        self.idx = NULL
        self.b = NULL

    def __init__(self, str path, str reference=None, int hts_threads=0, bint load_index=True):
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

    def __dealloc__(self):
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
        cdef Layout L
        L.starts = &starts[0]
        L.ends = &ends[0]
        L.offs = <int64_t *>offs.data
        L.n = n
        L.diff = &diff[0]
        cdef int ret
        cdef int64_t used = 0
        cdef htsLogLevel level = hts_get_log_level()
        hts_set_log_level(HTS_LOG_OFF)
        with nogil:
            ret = run_contig(self.fp, itr, self.b, tid, &L, min_mapq, exclude_flags, overlap_mode,
                             count_deletions, count_from, &used)
        hts_set_log_level(level)
        hts_itr_destroy(itr)
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
