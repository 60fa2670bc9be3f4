# cython: language_level=3
"""Read-length profile kernel: per microsatellite locus, a histogram of repeat lengths in reads.

For each locus i (repeat span [start, end), anchor length k) the kernel takes the reads of the
indexed BAM/CRAM overlapping the query window [start - k, end + k) (a read overlaps when its
first aligned base lies before the window end and ``bam_endpos`` after the window start, as
for ``sam_itr_queryi``) and, per read and locus:

1. rejects it if ``flag & exclude_flags`` (reason 0) or ``MAPQ < min_mapq`` (reason 1);
2. walks the CIGAR to find the query positions qa and qb aligned (M/=/X) to reference
   positions ``start - k`` and ``end + k - 1``; if either is not aligned - outside the read,
   soft-clipped, or inside a deletion/skip - the read does not span the locus (reason 2);
3. checks that the read bases ``qa .. qa+k-1`` equal the k reference bases before ``start``
   and ``qb-k+1 .. qb`` equal the k bases from ``end`` on (anchors; reason 3 if not, or if the
   two anchors would overlap in the read);
4. the observed repeat length is the number of read bases between the anchors,
   ``L = qb - qa + 1 - 2k``; it is counted in column ``L - ref_len + W`` of the locus' row
   (W = ``window``); lengths outside [ref_len - W, ref_len + W] are reason 4.

With ``mate_dedup`` (checked after step 1), read 2 of a pair is not counted (reason 5) when its
mate - read 1, mapped to the same contig, starting at or before ``start - k`` - also covers
``end + k - 1`` according to the mate CIGAR in the ``MC`` tag: one DNA fragment, one count.
Without an ``MC`` tag both mates count.

The reads of a block of loci are read once: the loci are sorted by (contig, window start),
their windows merged, and one multi-region iterator (``sam_itr_regions``) walks the index chunks
of all windows, each BGZF block decompressed once and each read returned once; a read is then
handed to every locus whose window it overlaps (binary search over the sorted windows).  A
read overlapping the windows of several loci is counted at each of them, exactly as with one
query per locus.  Optional htslib decompression threads (``io_threads``) do not change results.

Because the length comes from read *sequence* between anchors that are aligned outside the
repeat, it does not depend on where the aligner placed indels inside or at the edge of the
repeat.  No Python object is created per read; the loop runs without the GIL.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport strdup
from pysam.libchtslib cimport (BAM_FMUNMAP, BAM_FPAIRED, BAM_FREAD2, bam_aux_get, BAM_CDEL, BAM_CDIFF, BAM_CEQUAL, BAM_CHARD_CLIP, BAM_CINS, BAM_CMATCH,
                               BAM_CPAD, BAM_CREF_SKIP, BAM_CSOFT_CLIP, bam1_t, bam_destroy1,
                               bam_get_cigar, bam_get_seq, bam_init1, bam_seqi, hts_close,
                               hts_idx_destroy, hts_idx_t, hts_itr_destroy, hts_itr_t, hts_open,
                               hts_set_fai_filename, htsFile, sam_hdr_destroy, sam_hdr_read,
                               sam_hdr_t, sam_index_load, bam_endpos,
                               hts_pair_pos_t, hts_reglist_t, hts_set_threads, sam_hdr_tid2name,
                               sam_itr_multi_next, sam_itr_regions)

NREASONS = 6
REASONS = ("flag", "low_mapq", "not_spanning", "anchor_mismatch", "length_out_of_window", "mate_counted")


cdef inline int64_t _cigar_string_ref_len(const char* c) noexcept nogil:
    """Reference length of a CIGAR string (M, D, N, =, X consume the reference); -1 if malformed."""
    cdef int64_t total = 0, num = 0
    cdef bint have = False
    while c[0] != 0:
        if 48 <= c[0] <= 57:
            num = num * 10 + (c[0] - 48)
            have = True
        else:
            if not have:
                return -1
            if c[0] == 77 or c[0] == 68 or c[0] == 78 or c[0] == 61 or c[0] == 88:  # M D N = X
                total += num
            num = 0
            have = False
        c += 1
    return total


cdef inline bint _mate_covers(bam1_t* b, int64_t A, int64_t B) noexcept nogil:
    """True when b is read 2 of a pair whose read 1 maps to the same contig and spans [A, B]."""
    cdef uint8_t* mc
    cdef int64_t mlen
    if not (b.core.flag & BAM_FPAIRED) or (b.core.flag & BAM_FMUNMAP) or not (b.core.flag & BAM_FREAD2):
        return False
    if b.core.mtid != b.core.tid or b.core.mpos > A:
        return False
    mc = bam_aux_get(b, b"MC")
    if mc == NULL or mc[0] != 90:  # 'Z'
        return False
    mlen = _cigar_string_ref_len(<const char*> (mc + 1))
    return mlen > 0 and b.core.mpos + mlen - 1 >= B


cdef inline int _measure(bam1_t* b, int64_t A, int64_t B, int k,
                         const uint8_t* left, const uint8_t* right, int64_t* length) noexcept nogil:
    """0 = measured (length set), 2 = not spanning, 3 = anchor mismatch."""
    cdef uint32_t* cig = bam_get_cigar(b)
    cdef uint32_t n = b.core.n_cigar, j
    cdef uint32_t c, op, oplen
    cdef int64_t rpos = b.core.pos, qpos = 0, qa = -1, qb = -1
    cdef uint8_t* seq
    cdef int t
    for j in range(n):
        c = cig[j]
        op = c & 0xF
        oplen = c >> 4
        if op == BAM_CMATCH or op == BAM_CEQUAL or op == BAM_CDIFF:
            if rpos <= A < rpos + oplen:
                qa = qpos + (A - rpos)
            if rpos <= B < rpos + oplen:
                qb = qpos + (B - rpos)
            rpos += oplen
            qpos += oplen
        elif op == BAM_CINS or op == BAM_CSOFT_CLIP:
            qpos += oplen
        elif op == BAM_CDEL or op == BAM_CREF_SKIP:
            rpos += oplen
        if rpos > B:
            break
    if qa < 0 or qb < 0:
        return 2
    length[0] = qb - qa + 1 - 2 * k
    if length[0] < 0:
        return 3
    seq = bam_get_seq(b)
    for t in range(k):
        if bam_seqi(seq, qa + t) != left[t]:
            return 3
        if bam_seqi(seq, qb - k + 1 + t) != right[t]:
            return 3
    return 0


cdef hts_reglist_t* _reglist(sam_hdr_t* hdr, const int32_t* stid, const int64_t* sa,
                             const int64_t* sb, Py_ssize_t n, int* nreg) noexcept:
    """Region list for ``sam_itr_regions``: per contig, the merged windows [sa, sb + 1) of the
    n loci (sorted by contig, then window start).  NULL on allocation failure."""
    cdef Py_ssize_t i, j, r = 0, c
    cdef int ntid = 0
    cdef hts_reglist_t* rl
    cdef const char* name
    for i in range(n):
        if i == 0 or stid[i] != stid[i - 1]:
            ntid += 1
    rl = <hts_reglist_t*> calloc(ntid if ntid > 0 else 1, sizeof(hts_reglist_t))
    if rl == NULL:
        return NULL
    i = 0
    while i < n:
        j = i
        while j < n and stid[j] == stid[i]:
            j += 1
        name = sam_hdr_tid2name(hdr, stid[i])
        rl[r].reg = strdup(name) if name != NULL else NULL
        rl[r].intervals = <hts_pair_pos_t*> malloc((j - i) * sizeof(hts_pair_pos_t))
        rl[r].tid = stid[i]
        if rl[r].reg == NULL or rl[r].intervals == NULL:
            nreg[0] = r + 1
            return _free_reglist(rl, r + 1)
        c = 0
        rl[r].intervals[0].beg = sa[i]
        rl[r].intervals[0].end = sb[i] + 1
        for i in range(i + 1, j):
            if sa[i] <= rl[r].intervals[c].end:
                if sb[i] + 1 > rl[r].intervals[c].end:
                    rl[r].intervals[c].end = sb[i] + 1
            else:
                c += 1
                rl[r].intervals[c].beg = sa[i]
                rl[r].intervals[c].end = sb[i] + 1
        rl[r].count = <uint32_t> (c + 1)
        rl[r].min_beg = rl[r].intervals[0].beg
        rl[r].max_end = rl[r].intervals[c].end
        r += 1
        i = j
    nreg[0] = ntid
    return rl


cdef hts_reglist_t* _free_reglist(hts_reglist_t* rl, int n) noexcept:
    cdef int i
    for i in range(n):
        free(<void*> rl[i].reg)
        free(rl[i].intervals)
    free(rl)
    return NULL


cdef inline void _count(bam1_t* b, Py_ssize_t i, int64_t A, int64_t B, int64_t reflen, int k,
                        int min_mapq, int exclude_flags, bint mate_dedup, int window, int ncol,
                        const uint8_t* left, const uint8_t* right,
                        int32_t[:, ::1] hist, int32_t[:, ::1] rejected) noexcept nogil:
    """Classify read b at locus i (window [A, B]) and add it to the locus' histogram or to one
    rejection reason."""
    cdef int why
    cdef int64_t L
    if b.core.flag & exclude_flags:
        rejected[i, 0] += 1
        return
    if b.core.qual < min_mapq:
        rejected[i, 1] += 1
        return
    if mate_dedup and _mate_covers(b, A, B):
        rejected[i, 5] += 1
        return
    why = _measure(b, A, B, k, left, right, &L)
    if why:
        rejected[i, why] += 1
        return
    L = L - reflen + window
    if L < 0 or L >= ncol:
        rejected[i, 4] += 1
        return
    hist[i, L] += 1


def profile_range(bytes path, bytes reference, const int32_t[::1] tid, const int64_t[::1] start,
                  const int64_t[::1] end, const uint8_t[:, ::1] left, const uint8_t[:, ::1] right,
                  const int64_t[::1] order, Py_ssize_t lo, Py_ssize_t hi, int min_mapq,
                  int exclude_flags, int window, int32_t[:, ::1] hist, int32_t[:, ::1] rejected,
                  bint mate_dedup=True, int io_threads=0):
    """Fill ``hist`` and ``rejected`` at the loci ``order[lo:hi]`` with its own file handle.

    ``order`` lists locus indices sorted by (tid, start) - loci with ``tid < 0`` (contig absent
    from the file) left out; the block ``order[lo:hi]`` is read with one multi-region iterator.
    ``left``/``right`` hold the k anchor bases per locus as htslib 4-bit codes (A=1, C=2, G=4,
    T=8).  ``io_threads`` > 0 adds that many htslib BGZF decompression threads.  Returns the
    number of reads taken from the file, or raises OSError/RuntimeError (file, index,
    iterator or read failures).
    """
    cdef int k = left.shape[1]
    cdef int ncol = hist.shape[1]
    cdef Py_ssize_t n = hi - lo
    cdef htsFile* fp = NULL
    cdef sam_hdr_t* hdr = NULL
    cdef hts_idx_t* idx = NULL
    cdef hts_itr_t* itr = NULL
    cdef hts_reglist_t* rl = NULL
    cdef bam1_t* b = NULL
    cdef int32_t* stid = NULL
    cdef int64_t* sa = NULL
    cdef int64_t* sb = NULL
    cdef Py_ssize_t* si = NULL
    cdef Py_ssize_t i, j, ts = 0, te = 0, a, z, m
    cdef int r = 0, nreg = 0, cur = -1
    cdef int64_t pos, endp, lowA, maxspan = 0
    cdef int64_t nread = 0
    if n <= 0:
        return 0
    for j in range(lo, hi):
        i = order[j]
        if tid[i] < 0:
            raise ValueError("order must not list loci with tid < 0")
        if j > lo and (tid[i] < tid[order[j - 1]] or (tid[i] == tid[order[j - 1]]
                                                       and start[i] < start[order[j - 1]])):
            raise ValueError("order must sort the loci by (tid, start)")
    fp = hts_open(path, b"r")
    if fp == NULL:
        raise OSError(f"cannot open {path.decode()}")
    try:
        if reference and hts_set_fai_filename(fp, reference) != 0:
            raise OSError(f"cannot use reference {reference.decode()}")
        if io_threads > 0 and hts_set_threads(fp, io_threads) != 0:
            raise OSError(f"cannot start {io_threads} decompression threads for {path.decode()}")
        hdr = sam_hdr_read(fp)
        if hdr == NULL:
            raise OSError(f"cannot read the header of {path.decode()}")
        idx = sam_index_load(fp, path)
        if idx == NULL:
            raise OSError(f"cannot load the index of {path.decode()}")
        stid = <int32_t*> malloc(n * sizeof(int32_t))
        sa = <int64_t*> malloc(n * sizeof(int64_t))
        sb = <int64_t*> malloc(n * sizeof(int64_t))
        si = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
        if stid == NULL or sa == NULL or sb == NULL or si == NULL:
            raise MemoryError()
        for j in range(n):
            i = order[lo + j]
            si[j] = i
            stid[j] = tid[i]
            sa[j] = start[i] - k
            sb[j] = end[i] + k - 1
            if sb[j] - sa[j] + 1 > maxspan:
                maxspan = sb[j] - sa[j] + 1
        rl = _reglist(hdr, stid, sa, sb, n, &nreg)
        if rl == NULL:
            raise MemoryError()
        itr = sam_itr_regions(idx, hdr, rl, <unsigned int> nreg)
        rl = NULL  # owned (and freed) by the iterator, or already freed on failure
        if itr == NULL:
            raise RuntimeError(f"cannot query {path.decode()} at the loci")
        b = bam_init1()
        with nogil:
            while True:
                r = sam_itr_multi_next(fp, itr, b)
                if r < 0:
                    break
                nread += 1
                if b.core.tid != cur:  # loci of this contig: [ts, te)
                    cur = b.core.tid
                    ts = 0
                    while ts < n and stid[ts] != cur:
                        ts += 1
                    te = ts
                    while te < n and stid[te] == cur:
                        te += 1
                pos = b.core.pos
                endp = bam_endpos(b)
                lowA = pos - maxspan + 1
                a = ts
                z = te
                while a < z:  # first window starting at or after lowA
                    m = (a + z) // 2
                    if sa[m] < lowA:
                        a = m + 1
                    else:
                        z = m
                while a < te and sa[a] < endp:
                    if sb[a] >= pos:
                        i = si[a]
                        _count(b, i, sa[a], sb[a], end[i] - start[i], k, min_mapq, exclude_flags,
                               mate_dedup, window, ncol, &left[i, 0], &right[i, 0], hist, rejected)
                    a += 1
        if r < -1:
            raise OSError(f"{path.decode()} is truncated or corrupt (read error)")
        return nread
    finally:
        if itr != NULL:
            hts_itr_destroy(itr)
        if b != NULL:
            bam_destroy1(b)
        free(stid)
        free(sa)
        free(sb)
        free(si)
        if idx != NULL:
            hts_idx_destroy(idx)
        if hdr != NULL:
            sam_hdr_destroy(hdr)
        hts_close(fp)
