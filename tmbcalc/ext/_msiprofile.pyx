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
   two anchors would overlap in the read, or if the read stores no sequence, SEQ '*');
4. the observed repeat length is the number of read bases between the anchors,
   ``L = qb - qa + 1 - 2k``; it is counted in column ``L - ref_len + W`` of the locus' row
   (W = ``window``); lengths outside [ref_len - W, ref_len + W] are reason 4.

With ``mate_dedup`` (checked after step 1), read 2 of a pair is not counted (reason 5) when its
mate - read 1, mapped to the same contig, starting at or before ``start - k`` - also covers
``end + k - 1`` according to the mate CIGAR in the ``MC`` tag: one DNA fragment, one count.
Without an ``MC`` tag both mates count.

The reads of a block of loci are read once: the loci are sorted by (contig, window start),
their windows merged, and the index chunks of all merged windows collected, sorted and merged,
so that each BGZF block is decompressed once and each read seen once; a read is then handed to
every locus whose window it overlaps (binary search over the sorted windows).  A read
overlapping the windows of several loci is counted at each of them, exactly as with one query
per locus.  For BAM, when the system libdeflate can be loaded, the kernel reads those chunks
itself (large ``pread`` calls, libdeflate inflate + CRC32 check, records decoded as htslib's
``bam_read1`` does); otherwise - CRAM, ``io_threads`` > 0, no libdeflate, a path only htslib
opens (URL, ``##idx##``), a CIGAR stored in a CG tag or a read name lacking its NUL (both
repaired by htslib) - one htslib multi-region iterator (``sam_itr_regions``) walks the same
windows.
Both give identical counts (tested).

Because the length comes from read *sequence* between anchors that are aligned outside the
repeat, it does not depend on where the aligner placed indels inside or at the edge of the
repeat.  No Python object is created per read; the loop runs without the GIL.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset, strdup
from posix.fcntl cimport O_RDONLY
from posix.fcntl cimport open as posix_open
from posix.unistd cimport close, pread

# htslib declarations: tmbcalc/ext/_hts.pxd (no pysam import at load time)
from tmbcalc.ext._hts cimport *

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
    if qb >= b.core.l_qseq:  # no stored sequence (SEQ '*'): the anchors cannot be checked
        return 3
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


# ---------------------------------------------------------------------------------------------
# Fast BAM path.  pysam's bundled htslib inflates BGZF blocks with zlib; when the system
# libdeflate is present (loaded at run time with dlopen, so it stays optional) the index chunks
# of the loci windows are read here: compressed bytes with large ``pread`` calls, blocks
# inflated (and CRC-checked) with libdeflate, records decoded into a ``bam1_t`` exactly as
# htslib's ``bam_read1`` lays them out.  CRAM, decompression threads, and BAMs whose long CIGARs
# live in a CG tag use the htslib multi-region iterator instead; both give the same counts.
from tmbcalc.ext._bgzl cimport *  # bgzf_lines.h: libdeflate BGZF reading


FAST_BAM_AVAILABLE = bgzl_available() == 1

DEF CBUF = 1048576  # bytes of compressed data read per pread, at most
DEF BLOCK = 65536   # BGZF block size limit (compressed and inflated)
DEF R_OK = 0
DEF R_EOF = 1
DEF R_ERR = -1
DEF R_FALLBACK = -2


cdef struct Reader:
    int fd
    uint8_t* cbuf      # compressed bytes of the file range [cbeg, cbeg + clen)
    int64_t cbeg
    int64_t clen
    int64_t want_end   # file offset up to which the current chunk needs compressed bytes
    uint8_t* ubuf      # the inflated block
    int ulen
    int upos
    int64_t addr       # file offset of the inflated block
    int64_t next_addr  # file offset of the block after it
    void* dec
    int32_t n_targets  # contigs in the header: a record's tid and mtid must be below it


cdef inline uint32_t _le32(const uint8_t* p) noexcept nogil:
    cdef uint32_t v
    memcpy(&v, p, 4)
    return v


cdef inline uint16_t _le16(const uint8_t* p) noexcept nogil:
    cdef uint16_t v
    memcpy(&v, p, 2)
    return v


cdef int _fill(Reader* z, int64_t addr, int64_t need) noexcept nogil:
    """Make file bytes [addr, addr + need) available in cbuf: 0 ok, 1 end of file, -1 short."""
    cdef int64_t want
    cdef ssize_t got
    if addr >= z.cbeg and addr + need <= z.cbeg + z.clen:
        return 0
    want = z.want_end - addr  # the rest of the chunk, in one read, but at least one block
    if want < BLOCK:
        want = BLOCK
    if want > CBUF:
        want = CBUF
    got = pread(z.fd, z.cbuf, <size_t> want, addr)
    if got < 0:
        return -1
    z.cbeg = addr
    z.clen = got
    if got == 0:
        return 1
    return 0 if got >= need else -1


cdef int _load_block(Reader* z, int64_t addr) noexcept nogil:
    """Inflate the BGZF block at ``addr``: R_OK, R_EOF (no block there) or R_ERR."""
    cdef int r
    cdef size_t need = 18
    cdef long total = 0, isize
    cdef const uint8_t* p
    r = _fill(z, addr, <int64_t> need)
    if r == 1:
        return R_EOF
    if r < 0:
        return R_ERR
    while total == 0:  # the header may need more bytes than the first read gave
        if _fill(z, addr, <int64_t> need) != 0:
            return R_ERR
        p = z.cbuf + (addr - z.cbeg)
        total = bgzl_block_size(p, <size_t> (z.cbeg + z.clen - addr), &need)
    if total < 0 or _fill(z, addr, total) != 0:
        return R_ERR
    p = z.cbuf + (addr - z.cbeg)
    isize = bgzl_inflate_block(z.dec, p, <size_t> total, z.ubuf)
    if isize < 0:
        return R_ERR
    z.addr = addr
    z.next_addr = addr + total
    z.ulen = <int> isize
    z.upos = 0
    return R_OK


cdef inline int _next_block(Reader* z) noexcept nogil:
    """Move past exhausted (or empty) blocks: R_OK, R_EOF or R_ERR."""
    cdef int r
    while z.upos >= z.ulen:
        r = _load_block(z, z.next_addr)
        if r != R_OK:
            return r
    return R_OK


cdef int _read_bytes(Reader* z, uint8_t* dst, int64_t n) noexcept nogil:
    """Copy n inflated bytes (across blocks): R_OK or R_ERR."""
    cdef int64_t got = 0, take
    while got < n:
        if _next_block(z) != R_OK:
            return R_ERR
        take = z.ulen - z.upos
        if take > n - got:
            take = n - got
        memcpy(dst + got, z.ubuf + z.upos, take)
        z.upos += <int> take
        got += take
    return R_OK


cdef int _read_record(Reader* z, bam1_t* b) noexcept nogil:
    """Decode the next BAM record into b as htslib's bam_read1 does (read name padded with NULs
    to a multiple of 4 bytes): R_OK, R_ERR, or R_FALLBACK for a CIGAR kept in a CG tag or a
    read name without its NUL (htslib repairs both)."""
    cdef uint8_t x[36]
    cdef uint32_t bs, l_qname, extranul, n_cigar, l_data, m
    cdef int32_t l_qseq
    cdef uint8_t* d
    cdef uint32_t* cig
    cdef uint32_t j
    cdef uint64_t qlen
    if _read_bytes(z, x, 36) != R_OK:
        return R_ERR
    bs = _le32(x)
    if bs < 32 or bs > 0x7fffffff:
        return R_ERR
    l_qname = x[12]
    n_cigar = _le16(x + 16)
    memcpy(&l_qseq, x + 20, 4)
    if l_qname < 1 or l_qseq < 0 or \
            <uint64_t> 32 + l_qname + 4 * <uint64_t> n_cigar + (<uint64_t> l_qseq + 1) // 2 + <uint64_t> l_qseq > bs:
        return R_ERR
    extranul = (4 - (l_qname & 3)) & 3
    l_data = bs - 32 + extranul
    if b.m_data < l_data:
        m = l_data + (l_data >> 2) + 64
        d = <uint8_t*> realloc(b.data, m)
        if d == NULL:
            return R_ERR
        b.data = d
        b.m_data = m
    d = b.data
    if _read_bytes(z, d, l_qname) != R_OK:
        return R_ERR
    if d[l_qname - 1] != 0:  # htslib repairs a read name without its NUL: let it do so
        return R_FALLBACK
    memset(d + l_qname, 0, extranul)
    if _read_bytes(z, d + l_qname + extranul, bs - 32 - l_qname) != R_OK:
        return R_ERR
    b.l_data = <int> l_data
    b.core.tid = <int32_t> _le32(x + 4)
    b.core.pos = <int32_t> _le32(x + 8)
    b.core.l_qname = <uint16_t> (l_qname + extranul)
    b.core.l_extranul = <uint8_t> extranul
    b.core.qual = x[13]
    b.core.bin = _le16(x + 14)
    b.core.n_cigar = n_cigar
    b.core.flag = _le16(x + 18)
    b.core.l_qseq = l_qseq
    b.core.mtid = <int32_t> _le32(x + 24)
    b.core.mpos = <int32_t> _le32(x + 28)
    b.core.isize = <int32_t> _le32(x + 32)
    if b.core.tid < -1 or b.core.tid >= z.n_targets or b.core.mtid < -1 or b.core.mtid >= z.n_targets:
        return R_ERR  # as htslib's reader (ERANGE)
    cig = bam_get_cigar(b)
    if n_cigar == 2:  # kS mN placeholder: the real CIGAR is in the CG tag (htslib moves it back)
        if (cig[0] & 0xF) == BAM_CSOFT_CLIP and <int32_t> (cig[0] >> 4) == l_qseq \
                and (cig[1] & 0xF) == BAM_CREF_SKIP:
            return R_FALLBACK
    if n_cigar > 0 and l_qseq > 0 and not (b.core.flag & BAM_FUNMAP):  # as htslib: CIGAR, SEQ agree
        qlen = 0
        for j in range(n_cigar):
            if (0x193 >> (cig[j] & 0xF)) & 1:  # M I S = X consume the query
                qlen += cig[j] >> 4
        if qlen != <uint64_t> l_qseq:
            return R_ERR
    return R_OK


cdef struct Block:
    # the loci of one profile_range call, sorted by (contig, window start)
    Py_ssize_t n
    int32_t* stid
    int64_t* sa       # window start (0-based, inclusive)
    int64_t* sb       # window end (inclusive)
    Py_ssize_t* si    # locus index
    int64_t maxspan   # longest window
    int cur           # contig of the last read, and its loci [ts, te)
    Py_ssize_t ts
    Py_ssize_t te


cdef struct Rules:
    int k
    int ncol
    int min_mapq
    int exclude_flags
    int window
    bint mate_dedup


cdef inline bint _dispatch(bam1_t* b, Block* B, Rules* P, const int64_t[::1] start,
                           const int64_t[::1] end, const uint8_t[:, ::1] left,
                           const uint8_t[:, ::1] right, int32_t[:, ::1] hist,
                           int32_t[:, ::1] rejected) noexcept nogil:
    """Hand read b to every locus whose window it overlaps; True if there was one."""
    cdef Py_ssize_t a, z, m, i
    cdef int64_t pos, endp, lowA
    cdef bint hit = False
    if b.core.tid != B.cur:  # loci of this contig: [ts, te)
        B.cur = b.core.tid
        B.ts = 0
        while B.ts < B.n and B.stid[B.ts] != B.cur:
            B.ts += 1
        B.te = B.ts
        while B.te < B.n and B.stid[B.te] == B.cur:
            B.te += 1
    if B.ts == B.te:
        return False
    pos = b.core.pos
    endp = bam_endpos(b)
    lowA = pos - B.maxspan + 1
    a = B.ts
    z = B.te
    while a < z:  # first window starting at or after lowA
        m = (a + z) // 2
        if B.sa[m] < lowA:
            a = m + 1
        else:
            z = m
    while a < B.te and B.sa[a] < endp:
        if B.sb[a] >= pos:
            i = B.si[a]
            hit = True
            _count(b, i, B.sa[a], B.sb[a], end[i] - start[i], P.k, P.min_mapq, P.exclude_flags,
                   P.mate_dedup, P.window, P.ncol, &left[i, 0], &right[i, 0], hist, rejected)
        a += 1
    return hit


cdef int _run_fast(Reader* z, const uint64_t* chunks, Py_ssize_t nchunks, bam1_t* b, Block* B,
                   Rules* P, const int64_t[::1] start, const int64_t[::1] end,
                   const uint8_t[:, ::1] left, const uint8_t[:, ::1] right, int32_t[:, ::1] hist,
                   int32_t[:, ::1] rejected, int64_t* nread) noexcept nogil:
    """Stream the records of the merged index chunks [u0, v0, u1, v1, ...] (virtual offsets,
    sorted, disjoint): R_OK, R_ERR or R_FALLBACK."""
    cdef Py_ssize_t c
    cdef uint64_t u, v
    cdef int r
    cdef int32_t last_tid = B.stid[B.n - 1]
    cdef int64_t last_end = B.sb[B.n - 1]
    cdef Py_ssize_t j
    for j in range(B.n):  # windows are sorted by start only: the block's furthest end
        if B.stid[j] == last_tid and B.sb[j] > last_end:
            last_end = B.sb[j]
    for c in range(nchunks):
        u = chunks[2 * c]
        v = chunks[2 * c + 1]
        z.want_end = <int64_t> (v >> 16) + BLOCK
        if _load_block(z, <int64_t> (u >> 16)) != R_OK:
            return R_ERR
        z.upos = <int> (u & 0xFFFF)
        while True:
            r = _next_block(z)
            if r == R_EOF:
                break
            if r != R_OK:
                return R_ERR
            if ((<uint64_t> z.addr << 16) | <uint64_t> z.upos) >= v:
                break
            r = _read_record(z, b)
            if r != R_OK:
                return r
            if b.core.tid < 0:
                continue
            if b.core.tid > last_tid or (b.core.tid == last_tid and b.core.pos > last_end):
                return R_OK  # coordinate-sorted: every later record lies beyond the loci
            if _dispatch(b, B, P, start, end, left, right, hist, rejected):
                nread[0] += 1
    return R_OK


cdef uint64_t* _chunks(hts_idx_t* idx, hts_reglist_t* rl, int nreg, Py_ssize_t* nchunks) noexcept:
    """Index chunks of every interval of the region list, sorted by offset and merged: a flat
    array [u0, v0, u1, v1, ...] (caller frees); NULL on failure."""
    cdef Py_ssize_t cap = 64, n = 0, w, t
    cdef uint64_t* out = <uint64_t*> malloc(cap * 2 * sizeof(uint64_t))
    cdef uint64_t* grown
    cdef hts_itr_t* it
    cdef int r, c
    cdef uint32_t q
    if out == NULL:
        return NULL
    for r in range(nreg):
        for q in range(rl[r].count):
            it = sam_itr_queryi(idx, rl[r].tid, rl[r].intervals[q].beg, rl[r].intervals[q].end)
            if it == NULL:
                free(out)
                return NULL
            for c in range(it.n_off):
                if n == cap:
                    cap *= 2
                    grown = <uint64_t*> realloc(out, cap * 2 * sizeof(uint64_t))
                    if grown == NULL:
                        hts_itr_destroy(it)
                        free(out)
                        return NULL
                    out = grown
                out[2 * n] = it.off[c].u
                out[2 * n + 1] = it.off[c].v
                n += 1
            hts_itr_destroy(it)
    _sort_pairs(out, n)
    w = 0
    for t in range(n):  # merge overlapping or touching chunks: every record is read once
        if w > 0 and out[2 * t] <= out[2 * w - 1]:
            if out[2 * t + 1] > out[2 * w - 1]:
                out[2 * w - 1] = out[2 * t + 1]
        else:
            out[2 * w] = out[2 * t]
            out[2 * w + 1] = out[2 * t + 1]
            w += 1
    nchunks[0] = w
    return out


cdef void _sort_pairs(uint64_t* a, Py_ssize_t n) noexcept:
    """Insertion sort of n (u, v) pairs by u (chunk lists are short and nearly sorted)."""
    cdef Py_ssize_t i, j
    cdef uint64_t u, v
    for i in range(1, n):
        u = a[2 * i]
        v = a[2 * i + 1]
        j = i - 1
        while j >= 0 and a[2 * j] > u:
            a[2 * j + 2] = a[2 * j]
            a[2 * j + 3] = a[2 * j + 1]
            j -= 1
        a[2 * j + 2] = u
        a[2 * j + 3] = v


def header_info(bytes path):
    """(format, contig names, contig lengths, has_index, sample) of an alignment file.

    ``format`` is "bam" or "cram" ("" for anything else); ``sample`` is the SM of the first
    @RG line that has one, else None.  Raises OSError when the file cannot be opened or its
    header read, or a contig name is not UTF-8.  htslib's own messages are silenced.
    """
    cdef htsLogLevel level = hts_get_log_level()
    cdef htsFile* fp = NULL
    cdef sam_hdr_t* hdr = NULL
    cdef hts_idx_t* idx = NULL
    cdef kstring_t ks
    cdef int i, nrg
    cdef str fmt
    ks.l = 0
    ks.m = 0
    ks.s = NULL
    hts_set_log_level(HTS_LOG_OFF)
    try:
        fp = hts_open(path, b"r")
        if fp == NULL:
            raise OSError("cannot open the file")
        f = hts_get_format(fp).format
        fmt = "bam" if f == bam else "cram" if f == cram else ""
        if not fmt:
            return "", [], [], False, None
        hdr = sam_hdr_read(fp)
        if hdr == NULL:
            raise OSError("cannot read the alignment header")
        try:
            names = [sam_hdr_tid2name(hdr, i).decode() for i in range(sam_hdr_nref(hdr))]
        except UnicodeDecodeError:
            raise OSError("a contig name in the header is not UTF-8 text") from None
        lengths = [int(sam_hdr_tid2len(hdr, i)) for i in range(sam_hdr_nref(hdr))]
        sample = None
        nrg = sam_hdr_count_lines(hdr, b"RG")
        for i in range(max(nrg, 0)):
            ks.l = 0
            if sam_hdr_find_tag_pos(hdr, b"RG", i, b"SM", &ks) == 0 and ks.l > 0:
                sample = ks.s[:ks.l].decode(errors="replace")
                break
        idx = sam_index_load3(fp, path, NULL, HTS_IDX_SILENT_FAIL)
        return fmt, names, lengths, idx != NULL, sample
    finally:
        free(ks.s)
        if idx != NULL:
            hts_idx_destroy(idx)
        if hdr != NULL:
            sam_hdr_destroy(hdr)
        if fp != NULL:
            hts_close(fp)
        hts_set_log_level(level)


def profile_range(bytes path, bytes reference, const int32_t[::1] tid, const int64_t[::1] start,
                  const int64_t[::1] end, const uint8_t[:, ::1] left, const uint8_t[:, ::1] right,
                  const int64_t[::1] order, Py_ssize_t lo, Py_ssize_t hi, int min_mapq,
                  int exclude_flags, int window, int32_t[:, ::1] hist, int32_t[:, ::1] rejected,
                  bint mate_dedup=True, int io_threads=0, bint fast=True):
    """Fill ``hist`` and ``rejected`` at the loci ``order[lo:hi]`` with its own file handle.

    ``order`` lists locus indices sorted by (tid, start) - loci with ``tid < 0`` (contig absent
    from the file) left out; the block ``order[lo:hi]`` is read in one pass over the index
    chunks of its merged windows.  ``left``/``right`` hold the k anchor bases per locus as
    htslib 4-bit codes (A=1, C=2, G=4, T=8).  ``io_threads`` > 0 adds that many htslib BGZF
    decompression threads (htslib iterator).  ``fast`` allows the libdeflate reader for BAM
    (see above); the counts do not depend on it.  Returns the number of reads overlapping a
    window, or raises OSError/RuntimeError (file, index, iterator or read failures).
    """
    cdef Py_ssize_t n = hi - lo
    cdef htsFile* fp = NULL
    cdef sam_hdr_t* hdr = NULL
    cdef hts_idx_t* idx = NULL
    cdef hts_itr_t* itr = NULL
    cdef hts_reglist_t* rl = NULL
    cdef bam1_t* b = NULL
    cdef uint64_t* chunks = NULL
    cdef Py_ssize_t nchunks = 0, i, j
    cdef Block B
    cdef Rules P
    cdef Reader z
    cdef int r = 0, nreg = 0
    cdef int64_t nread = 0
    cdef bint use_fast
    if n <= 0:
        return 0
    for j in range(lo, hi):
        i = order[j]
        if tid[i] < 0:
            raise ValueError("order must not list loci with tid < 0")
        if j > lo and (tid[i] < tid[order[j - 1]] or (tid[i] == tid[order[j - 1]]
                                                       and start[i] < start[order[j - 1]])):
            raise ValueError("order must sort the loci by (tid, start)")
    P.k = left.shape[1]
    P.ncol = hist.shape[1]
    P.min_mapq = min_mapq
    P.exclude_flags = exclude_flags
    P.window = window
    P.mate_dedup = mate_dedup
    B.n = n
    B.stid = NULL
    B.sa = NULL
    B.sb = NULL
    B.si = NULL
    B.maxspan = 0
    B.cur = -1
    B.ts = 0
    B.te = 0
    memset(&z, 0, sizeof(Reader))
    z.fd = -1
    fp = hts_open(path, b"r")
    if fp == NULL:
        raise OSError(f"cannot open {path.decode()}")
    try:
        if reference and hts_set_fai_filename(fp, reference) != 0:
            raise OSError(f"cannot use reference {reference.decode()}")
        use_fast = (fast and bgzl_available() == 1 and io_threads == 0
                    and hts_get_format(fp).format == bam)
        if hts_get_format(fp).format == bam and hts_check_EOF(fp) == 0:
            raise OSError(f"{path.decode()} is truncated (no BGZF end-of-file marker)")
        if io_threads > 0 and hts_set_threads(fp, io_threads) != 0:
            raise OSError(f"cannot start {io_threads} decompression threads for {path.decode()}")
        hdr = sam_hdr_read(fp)
        if hdr == NULL:
            raise OSError(f"cannot read the header of {path.decode()}")
        idx = sam_index_load(fp, path)
        if idx == NULL:
            raise OSError(f"cannot load the index of {path.decode()}")
        B.stid = <int32_t*> malloc(n * sizeof(int32_t))
        B.sa = <int64_t*> malloc(n * sizeof(int64_t))
        B.sb = <int64_t*> malloc(n * sizeof(int64_t))
        B.si = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
        if B.stid == NULL or B.sa == NULL or B.sb == NULL or B.si == NULL:
            raise MemoryError()
        for j in range(n):
            i = order[lo + j]
            B.si[j] = i
            B.stid[j] = tid[i]
            B.sa[j] = start[i] - P.k
            B.sb[j] = end[i] + P.k - 1
            if B.sb[j] - B.sa[j] + 1 > B.maxspan:
                B.maxspan = B.sb[j] - B.sa[j] + 1
        rl = _reglist(hdr, B.stid, B.sa, B.sb, n, &nreg)
        if rl == NULL:
            raise MemoryError()
        b = bam_init1()
        if b == NULL:
            raise MemoryError()
        if use_fast:
            chunks = _chunks(idx, rl, nreg, &nchunks)
            rl = _free_reglist(rl, nreg)
            if chunks == NULL:
                raise RuntimeError(f"cannot query {path.decode()} at the loci")
            z.fd = posix_open(path, O_RDONLY)  # fails for what only htslib opens (URL, ##idx##)
            z.cbuf = <uint8_t*> malloc(CBUF)
            z.ubuf = <uint8_t*> malloc(BLOCK)
            z.dec = bgzl_dfl_alloc()
            z.n_targets = sam_hdr_nref(hdr)
            if z.cbuf == NULL or z.ubuf == NULL or z.dec == NULL:
                raise MemoryError()
            r = R_FALLBACK
            if z.fd >= 0:
                with nogil:
                    r = _run_fast(&z, chunks, nchunks, b, &B, &P, start, end, left, right, hist,
                                  rejected, &nread)
            if r == R_ERR:
                raise OSError(f"{path.decode()} is truncated or corrupt (read error)")
            if r == R_OK:
                return nread
            # a CG-tag CIGAR or a read name without NUL: start again with htslib, which repairs it
            for j in range(n):
                hist[B.si[j], :] = 0
                rejected[B.si[j], :] = 0
            nread = 0
            B.cur = -1
            rl = _reglist(hdr, B.stid, B.sa, B.sb, n, &nreg)
            if rl == NULL:
                raise MemoryError()
        itr = sam_itr_regions(idx, hdr, rl, <unsigned int> nreg)
        rl = NULL  # owned (and freed) by the iterator, or already freed on failure
        if itr == NULL:
            raise RuntimeError(f"cannot query {path.decode()} at the loci")
        with nogil:
            while True:
                r = sam_itr_multi_next(fp, itr, b)
                if r < 0:
                    break
                if _dispatch(b, &B, &P, start, end, left, right, hist, rejected):
                    nread += 1
        if r < -1:
            raise OSError(f"{path.decode()} is truncated or corrupt (read error)")
        return nread
    finally:
        if rl != NULL:
            _free_reglist(rl, nreg)
        free(chunks)
        if z.fd >= 0:
            close(z.fd)
        free(z.cbuf)
        free(z.ubuf)
        if z.dec != NULL:
            bgzl_dfl_free(z.dec)
        if itr != NULL:
            hts_itr_destroy(itr)
        if b != NULL:
            bam_destroy1(b)
        free(B.stid)
        free(B.sa)
        free(B.sb)
        free(B.si)
        if idx != NULL:
            hts_idx_destroy(idx)
        if hdr != NULL:
            sam_hdr_destroy(hdr)
        hts_close(fp)
