# cython: language_level=3
"""Read-length profile kernel: per microsatellite locus, a histogram of repeat lengths in reads.

For each locus i (repeat span [start, end), anchor length k) the kernel iterates the reads of
the indexed BAM/CRAM overlapping [start - k, end + k) (``sam_itr_queryi``) and, per read:

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

Because the length comes from read *sequence* between anchors that are aligned outside the
repeat, it does not depend on where the aligner placed indels inside or at the edge of the
repeat.  No Python object is created per read; the loop runs without the GIL.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t
from pysam.libchtslib cimport (BAM_FMUNMAP, BAM_FPAIRED, BAM_FREAD2, bam_aux_get, BAM_CDEL, BAM_CDIFF, BAM_CEQUAL, BAM_CHARD_CLIP, BAM_CINS, BAM_CMATCH,
                               BAM_CPAD, BAM_CREF_SKIP, BAM_CSOFT_CLIP, bam1_t, bam_destroy1,
                               bam_get_cigar, bam_get_seq, bam_init1, bam_seqi, hts_close,
                               hts_idx_destroy, hts_idx_t, hts_itr_destroy, hts_itr_t, hts_open,
                               hts_set_fai_filename, htsFile, sam_hdr_destroy, sam_hdr_read,
                               sam_hdr_t, sam_index_load, sam_itr_next, sam_itr_queryi)

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


def profile_range(bytes path, bytes reference, const int32_t[::1] tid, const int64_t[::1] start,
                  const int64_t[::1] end, const uint8_t[:, ::1] left, const uint8_t[:, ::1] right,
                  Py_ssize_t lo, Py_ssize_t hi, int min_mapq, int exclude_flags, int window,
                  int32_t[:, ::1] hist, int32_t[:, ::1] rejected, bint mate_dedup=True):
    """Fill ``hist[lo:hi]`` and ``rejected[lo:hi]`` for loci lo..hi-1 with its own file handle.

    ``left``/``right`` hold the k anchor bases per locus as htslib 4-bit codes (A=1, C=2, G=4,
    T=8).  Loci with ``tid < 0`` (contig absent from the file) are left at zero.  Returns 0,
    or raises OSError/RuntimeError (file, index, iterator or read failures).
    """
    cdef int k = left.shape[1]
    cdef int ncol = hist.shape[1]
    cdef htsFile* fp = hts_open(path, b"r")
    cdef sam_hdr_t* hdr = NULL
    cdef hts_idx_t* idx = NULL
    cdef hts_itr_t* itr = NULL
    cdef bam1_t* b = NULL
    cdef Py_ssize_t i
    cdef int r, status = 0, why
    cdef int64_t A, B, L, reflen
    if fp == NULL:
        raise OSError(f"cannot open {path.decode()}")
    try:
        if reference and hts_set_fai_filename(fp, reference) != 0:
            raise OSError(f"cannot use reference {reference.decode()}")
        hdr = sam_hdr_read(fp)
        if hdr == NULL:
            raise OSError(f"cannot read the header of {path.decode()}")
        idx = sam_index_load(fp, path)
        if idx == NULL:
            raise OSError(f"cannot load the index of {path.decode()}")
        b = bam_init1()
        with nogil:
            for i in range(lo, hi):
                if tid[i] < 0:
                    continue
                A = start[i] - k
                B = end[i] + k - 1
                reflen = end[i] - start[i]
                itr = sam_itr_queryi(idx, tid[i], A, B + 1)
                if itr == NULL:
                    status = -1
                    break
                while True:
                    r = sam_itr_next(fp, itr, b)
                    if r < 0:
                        break
                    if b.core.flag & exclude_flags:
                        rejected[i, 0] += 1
                        continue
                    if b.core.qual < min_mapq:
                        rejected[i, 1] += 1
                        continue
                    if mate_dedup and _mate_covers(b, A, B):
                        rejected[i, 5] += 1
                        continue
                    why = _measure(b, A, B, k, &left[i, 0], &right[i, 0], &L)
                    if why:
                        rejected[i, why] += 1
                        continue
                    L = L - reflen + window
                    if L < 0 or L >= ncol:
                        rejected[i, 4] += 1
                        continue
                    hist[i, L] += 1
                hts_itr_destroy(itr)
                itr = NULL
                if r < -1:
                    status = -2
                    break
        if status == -1:
            raise RuntimeError(f"cannot query {path.decode()} at locus {i}")
        if status == -2:
            raise OSError(f"{path.decode()} is truncated or corrupt (read error at locus {i})")
        return 0
    finally:
        if b != NULL:
            bam_destroy1(b)
        if idx != NULL:
            hts_idx_destroy(idx)
        if hdr != NULL:
            sam_hdr_destroy(hdr)
        hts_close(fp)
