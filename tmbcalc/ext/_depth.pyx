# distutils: language = c++
# distutils: extra_link_args = -static-libstdc++ -static-libgcc
# cython: language_level=3
"""Read-depth kernel: stream alignments through htslib into a bounded difference buffer.

Private module (use :mod:`tmbcalc.callable.engine` / :func:`tmbcalc.callable.compute_callable`).
It imports neither numpy nor the pysam Python package (htslib functions are declared here and
resolved from the already loaded ``libchtslib``); results are ``array.array`` objects and lists.

Conventions:

* Coordinates are 0-based half-open.  Depth is computed over a *layout*: disjoint, sorted,
  non-adjacent intervals of one contig.  Their bases, concatenated in order, have *offsets*
  0 .. total-1.
* A read is skipped when ``flag & exclude_flags`` is non-zero or its MAPQ < ``min_mapq``.
* CIGAR M/=/X add depth; D adds depth only when ``count_deletions``; I, S, H, P add nothing;
  N is a gap.  Adjacent covered operations (e.g. ``5M1I5M``) form one block.
* Mate overlap (``overlap_mode``): 0 = count both mates; 1 = count each base once per
  fragment (the overlapping part of the later mate of a properly paired, non-supplementary
  pair on one contig is not counted, computed on aligned blocks); 2 = as 1 but reproducing
  mosdepth 0.3.x exactly, including its handling of a single-block read whose single-block mate
  contains it (mosdepth removes the depth of the whole span from the later mate's start to the
  earlier mate's end).
* Every read overlapping the layout adds its depth, so the depth of a layout is exact whatever
  lies outside it: a contig cut into pieces gives, piece by piece, the depth of the whole.

Memory: reads arrive sorted by position, so once a read starting at offset o has been added no
later read can change the depth before o.  The difference buffer therefore holds only a window
of ``WINDOW`` offsets (plus the span of the reads reaching past it); finished windows are turned
into depth, consumed (callable runs, per-target statistics) and dropped.
"""
from libc.stdint cimport int32_t, int64_t, uint32_t, uint16_t, uint8_t, uint64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memcmp
from libc.math cimport NAN
from posix.unistd cimport pread, close
from posix.fcntl cimport open as posix_open, O_RDONLY
from libcpp.vector cimport vector
from libcpp.algorithm cimport nth_element, sort as cpp_sort
from libcpp.utility cimport pair
from cpython cimport array
import array


# ---------------------------------------------------------------------------------------------
# htslib declarations (the subset used here; the library is pysam's libchtslib)

from tmbcalc.ext._hts cimport *

cdef extern from "htslib/bgzf.h":
    ctypedef struct BGZF:
        pass
    BGZF *bgzf_open(const char *path, const char *mode)
    int bgzf_close(BGZF *fp)
    ssize_t bgzf_write(BGZF *fp, const void *data, size_t length)

cdef extern from "htslib/tbx.h":
    ctypedef struct tbx_conf_t:
        pass
    const tbx_conf_t tbx_conf_bed
    int tbx_index_build2(const char *fn, const char *fnidx, int min_shift, const tbx_conf_t *conf)

cdef extern from "stdlib.h":
    void free_ks "free"(char *p)

cdef enum:
    FPROPER = 2
    FSUPPL = 2048

cdef enum:  # return codes of the nogil loops
    OK = 0
    ERR_TRUNCATED = 1
    ERR_UNSORTED = 2
    ERR_WRONG_CONTIG = 4
    ERR_FALLBACK = 5
    ERR_INTERNAL = 6

WINDOW = 1 << 16  # offsets per window of the difference buffer (256 KB of int32)
ctypedef pair[int64_t, size_t] pair_t

HIST_MIN_LEN = 1 << 16  # targets longer than this keep a depth histogram instead of their values


# ---------------------------------------------------------------------------------------------
# Fast BAM path: pysam's bundled htslib inflates BGZF with zlib; when the system libdeflate is
# present (loaded at run time with dlopen, so it is optional) BAM blocks are inflated with it
# and records parsed here.  The chunk list still comes from htslib's index; CRAM, and BAMs
# whose long CIGARs live in a CG tag, use the htslib iterator.
from tmbcalc.ext._bgzl cimport *  # bgzf_lines.h: libdeflate BGZF reading


FAST_BAM_AVAILABLE = bgzl_available() == 1

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
    cdef size_t need = 0
    cdef long total, isize
    if n == 0:
        return 1
    if n < 0:
        return -1
    total = bgzl_block_size(z.cbuf, <size_t> n, &need)
    if total <= 0 or total > n:  # not BGZF, or cut short (a block is at most 64 KiB)
        return -1
    isize = bgzl_inflate_block(z.dec, z.cbuf, <size_t> total, z.ubuf)
    if isize < 0:
        return -1
    z.addr = addr
    z.next_addr = addr + total
    z.ulen = <int> isize
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




# ---------------------------------------------------------------------------------------------
# streaming depth over a layout

cdef struct Params:
    int tid
    int min_mapq
    int exclude
    int overlap_mode
    bint count_del
    int64_t count_from  # reads starting before this position are not added to ``used`` (-1: all)


cdef struct Mate:
    # an earlier mate waiting for its later mate: name and blocks live in the table's arenas
    uint64_t h  # hash of the read name (0 = empty slot)
    uint32_t name_off
    uint32_t name_len
    size_t blk_off
    uint32_t blk_n  # number of int64 values (2 per block)
    uint32_t ncig
    int64_t end


cdef cppclass MateTable:
    # open addressing (linear probing, backward-shift deletion) keyed by the read name; names
    # and blocks are appended to two arenas, compacted when mostly dead or the table is half
    # full (compaction also drops entries whose later mate can no longer arrive, see mt_compact)
    vector[Mate] slots
    size_t live
    vector[char] names
    vector[int64_t] blks
    size_t live_names
    size_t live_blks


cdef inline uint64_t name_hash(const char *s, int n) noexcept nogil:
    cdef uint64_t h = 1469598103934665603ULL
    cdef int i
    for i in range(n):
        h = (h ^ <uint8_t>s[i]) * 1099511628211ULL
    h ^= h >> 29
    return h | 1


cdef void mt_clear(MateTable *M) noexcept nogil:
    M.slots.assign(1024, Mate(0, 0, 0, 0, 0, 0, 0))
    M.live = 0
    M.names.clear()
    M.blks.clear()
    M.live_names = 0
    M.live_blks = 0


cdef inline Py_ssize_t mt_find(MateTable *M, uint64_t h, const char *name, int n) noexcept nogil:
    cdef size_t mask = M.slots.size() - 1
    cdef size_t i = h & mask
    while M.slots[i].h != 0:
        if (M.slots[i].h == h and M.slots[i].name_len == <uint32_t>n
                and memcmp(M.names.data() + M.slots[i].name_off, name, n) == 0):
            return <Py_ssize_t>i
        i = (i + 1) & mask
    return -1


cdef void mt_place(MateTable *M, Mate *e) noexcept nogil:
    cdef size_t mask = M.slots.size() - 1
    cdef size_t i = e.h & mask
    while M.slots[i].h != 0:
        i = (i + 1) & mask
    M.slots[i] = e[0]


cdef void mt_compact(MateTable *M, int64_t now) noexcept nogil:
    """Rebuild the arenas (and the slots, at a size fitting the live entries), dropping the
    entries that ``end`` <= ``now``: their later mate starts before that end and reads come
    sorted, so it was filtered out or is elsewhere and can no longer arrive."""
    cdef vector[Mate] old
    cdef vector[char] names
    cdef vector[int64_t] blks
    cdef size_t i, size = 1024
    cdef Mate e
    M.live = 0
    M.live_names = 0
    M.live_blks = 0
    for i in range(M.slots.size()):
        if M.slots[i].h != 0 and M.slots[i].end > now:
            M.live += 1
            M.live_names += M.slots[i].name_len
            M.live_blks += M.slots[i].blk_n
    while size < 4 * (M.live + 1):
        size *= 2
    old.swap(M.slots)
    M.slots.assign(size, Mate(0, 0, 0, 0, 0, 0, 0))
    for i in range(old.size()):
        if old[i].h == 0 or old[i].end <= now:
            continue
        e = old[i]
        e.name_off = <uint32_t>names.size()
        names.insert(names.end(), M.names.begin() + old[i].name_off,
                     M.names.begin() + old[i].name_off + old[i].name_len)
        e.blk_off = blks.size()
        blks.insert(blks.end(), M.blks.begin() + old[i].blk_off, M.blks.begin() + old[i].blk_off + old[i].blk_n)
        mt_place(M, &e)
    M.names.swap(names)
    M.blks.swap(blks)


cdef void mt_put(MateTable *M, uint64_t h, const char *name, int n, vector[int64_t] &blk, int64_t end,
                 uint32_t ncig, int64_t now) noexcept nogil:
    """Insert (or replace) the entry of ``name`` (``now``: position of the current read)."""
    cdef Py_ssize_t i = mt_find(M, h, name, n)
    cdef Mate e
    if i >= 0:
        M.live_names -= M.slots[i].name_len
        M.live_blks -= M.slots[i].blk_n
        mt_erase(M, <size_t>i)
    if (M.live + 1) * 2 > M.slots.size() or M.names.size() > 2 * M.live_names + 65536 \
            or M.blks.size() > 2 * M.live_blks + 65536:
        mt_compact(M, now)
    e.h = h
    e.name_off = <uint32_t>M.names.size()
    e.name_len = <uint32_t>n
    M.names.insert(M.names.end(), name, name + n)
    e.blk_off = M.blks.size()
    e.blk_n = <uint32_t>blk.size()
    M.blks.insert(M.blks.end(), blk.begin(), blk.end())
    e.ncig = ncig
    e.end = end
    mt_place(M, &e)
    M.live += 1
    M.live_names += n
    M.live_blks += blk.size()


cdef void mt_erase(MateTable *M, size_t i) noexcept nogil:
    cdef size_t mask = M.slots.size() - 1
    cdef size_t j = i, k
    while True:
        j = (j + 1) & mask
        if M.slots[j].h == 0:
            break
        k = M.slots[j].h & mask
        if (i < k <= j) if i <= j else (i < k or k <= j):
            continue
        M.slots[i] = M.slots[j]
        i = j
    M.slots[i].h = 0
    M.live -= 1


cdef cppclass State:
    # per-stream read state (mate table, scratch vectors, counters)
    vector[int64_t] blk
    MateTable seen
    int64_t last_pos
    int64_t used
    Py_ssize_t first  # first layout interval ending after the current read's start


cdef cppclass Stream:
    # layout: intervals [starts[j], ends[j]) at offsets offs[j] .. offs[j + 1] - 1
    vector[int64_t] starts
    vector[int64_t] ends
    vector[int64_t] offs
    Py_ssize_t n
    int64_t total
    # difference buffer over offsets [base, base + diff.size()); depth before base is ``run``
    vector[int32_t] diff
    int64_t base
    int32_t run
    bint bad
    State S
    Params P
    # read source: libdeflate BGZF reader over merged index chunks, or an htslib iterator
    bint fast
    bint done
    Bgzf *z
    vector[uint64_t] chunks
    size_t c
    bint in_chunk
    uint64_t v
    Py_ssize_t q
    int64_t qfrom  # reads are taken from this position on (<= starts[0]; see scan's query_from)
    vector[uint8_t] rec
    vector[uint32_t] cig
    htsFile *fp
    hts_itr_t *itr
    bam1_t *b


cdef inline void bump(Stream *T, int64_t off, int32_t delta) noexcept nogil:
    cdef int64_t i = off - T.base
    if i < 0:  # cannot happen for a sorted stream (see the module docstring)
        T.bad = True
        return
    if i >= <int64_t>T.diff.size():
        T.diff.resize(i + 4096, 0)
    T.diff[i] += delta


cdef inline void add_range(Stream *T, Py_ssize_t first, int64_t s, int64_t e, int32_t delta) noexcept nogil:
    """Add ``delta`` depth over genomic [s, e) clipped to the layout (searching from ``first``)."""
    cdef Py_ssize_t j = first
    cdef int64_t cs, ce
    if e <= s:
        return
    while j < T.n and T.ends[j] <= s:
        j += 1
    while j < T.n and T.starts[j] < e:
        cs = s if s > T.starts[j] else T.starts[j]
        ce = e if e < T.ends[j] else T.ends[j]
        bump(T, T.offs[j] + cs - T.starts[j], delta)
        bump(T, T.offs[j] + ce - T.starts[j], -delta)
        if T.ends[j] >= e:
            break
        j += 1


cdef inline int64_t first_offset(Stream *T, int64_t pos) noexcept nogil:
    """Offset of the first layout base >= pos (``S.first`` already advanced to pos)."""
    cdef Py_ssize_t j = T.S.first
    if j >= T.n:
        return T.total
    if pos <= T.starts[j]:
        return T.offs[j]
    return T.offs[j] + pos - T.starts[j]


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


cdef inline void subtract_intersection(Stream *T, Py_ssize_t first, vector[int64_t] &a,
                                       const int64_t *b, size_t nb) noexcept nogil:
    """Remove one unit of depth where the block lists ``a`` and ``b`` intersect."""
    cdef size_t i = 0, j = 0
    cdef int64_t s, e
    while i < a.size() and j < nb:
        s = a[i] if a[i] > b[j] else b[j]
        e = a[i + 1] if a[i + 1] < b[j + 1] else b[j + 1]
        if s < e:
            add_range(T, first, s, e, -1)
        if a[i + 1] < b[j + 1]:
            i += 2
        else:
            j += 2


cdef inline int process_read(Stream *T, int64_t pos, int64_t endpos, uint16_t flag, uint8_t mapq,
                             int32_t mtid, int64_t mpos, const char *qname, int l_qname,
                             const uint32_t *cig, uint32_t n_cigar) noexcept nogil:
    """Add one read (already known to be on the contig) to the difference buffer."""
    cdef State *S = &T.S
    cdef Params *P = &T.P
    cdef uint64_t h
    cdef Py_ssize_t k
    cdef Mate *mate
    cdef size_t i
    if pos < S.last_pos:
        return ERR_UNSORTED
    S.last_pos = pos
    while S.first < T.n and T.ends[S.first] <= pos:
        S.first += 1
    if (flag & P.exclude) != 0 or mapq < P.min_mapq:
        return OK
    if (P.count_from < 0 or pos >= P.count_from) and S.first < T.n and T.starts[S.first] < endpos:
        S.used += 1
    read_blocks(cig, n_cigar, pos, P.count_del, S.blk)
    if P.overlap_mode != 0 and (flag & FPROPER) != 0 and (flag & FSUPPL) == 0:
        h = name_hash(qname, l_qname)
        if P.tid == mtid and endpos > mpos and (pos < mpos or (pos == mpos and
                                                                mt_find(&S.seen, h, qname, l_qname) < 0)):
            # earlier mate of a pair whose later mate starts inside it: remember its blocks,
            # end position and n_cigar (the last two for the mosdepth-compatible mode)
            mt_put(&S.seen, h, qname, l_qname, S.blk, endpos, n_cigar, pos)
        elif S.seen.live:
            k = mt_find(&S.seen, h, qname, l_qname)
            if k >= 0:
                mate = &S.seen.slots[k]
                if P.overlap_mode == 2 and mate.ncig == 1 and n_cigar == 1 and mate.blk_n == 2:
                    # mosdepth's shortcut; only when the earlier mate's one operation is covered
                    # (for a lone D/N/S/I it would make the depth negative, as it does in mosdepth)
                    add_range(T, S.first, pos, mate.end, -1)
                else:
                    subtract_intersection(T, S.first, S.blk, S.seen.blks.data() + mate.blk_off, mate.blk_n)
                S.seen.live_names -= mate.name_len
                S.seen.live_blks -= mate.blk_n
                mt_erase(&S.seen, <size_t>k)
    for i in range(S.blk.size() // 2):
        add_range(T, S.first, S.blk[2 * i], S.blk[2 * i + 1], 1)
    return OK


cdef int advance_fast(Stream *T, int64_t lim) noexcept nogil:
    """Read records (libdeflate path) until one starting at offset >= lim has been added."""
    cdef Bgzf *z = T.z
    cdef int r, bs
    cdef uint64_t u, vo
    cdef uint8_t hdr4[4]
    cdef const uint8_t *d
    cdef int32_t rtid, rpos, mtid, mpos, l_seq
    cdef uint8_t l_qname, mapq
    cdef uint16_t n_cigar, flag
    cdef int64_t endpos, rlen
    cdef uint32_t k, op
    while not T.done:
        if not T.in_chunk:
            if T.c >= T.chunks.size():
                T.done = True
                break
            u = T.chunks[T.c]
            T.v = T.chunks[T.c + 1]
            T.c += 2
            if bgzf_load(z, <int64_t>(u >> 16)) != 0:
                return ERR_TRUNCATED
            z.upos = <int>(u & 0xffff)
            T.in_chunk = True
        r = bgzf_normalize(z)
        if r == 1:
            T.in_chunk = False
            continue
        if r < 0:
            return ERR_TRUNCATED
        vo = (<uint64_t>z.addr << 16) | <uint64_t>z.upos
        if vo >= T.v:
            T.in_chunk = False
            continue
        if z.ulen - z.upos >= 4 + 32 and <int64_t>le32(z.ubuf + z.upos) <= z.ulen - z.upos - 4:
            # the whole record is in this block: parse it in place
            bs = <int>le32(z.ubuf + z.upos)
            if bs < 32:
                return ERR_TRUNCATED
            d = z.ubuf + z.upos + 4
            z.upos += 4 + bs
        else:
            if bgzf_read(z, hdr4, 4) != 0:
                return ERR_TRUNCATED
            bs = <int>le32(hdr4)
            if bs < 32:
                return ERR_TRUNCATED
            T.rec.resize(bs)
            if bgzf_read(z, T.rec.data(), bs) != 0:
                return ERR_TRUNCATED
            d = T.rec.data()
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
        if rtid != T.P.tid:
            if rtid < 0 or rtid > T.P.tid:
                T.in_chunk = False  # sorted file: past this contig
            continue
        if rpos >= T.ends[T.n - 1]:
            T.done = True
            break
        T.cig.resize(n_cigar)
        if n_cigar:
            memcpy(T.cig.data(), d + 32 + l_qname, 4 * n_cigar)
        # long CIGAR kept in a CG tag: let htslib decode it
        if n_cigar == 2 and (T.cig[0] & 0xf) == 4 and <int32_t>(T.cig[0] >> 4) == l_seq and (T.cig[1] & 0xf) == 3:
            return ERR_FALLBACK
        # alignment end as htslib's bam_endpos
        rlen = 0
        if (flag & 4) == 0:
            for k in range(n_cigar):
                op = T.cig[k] & 0xf
                if op == 0 or op == 2 or op == 3 or op == 7 or op == 8:
                    rlen += T.cig[k] >> 4
        if rlen == 0:
            rlen = 1
        endpos = rpos + rlen
        # keep only reads overlapping a layout interval (as htslib's region iterator)
        while T.q < T.n and T.ends[T.q] <= rpos:
            T.q += 1
        if T.q >= T.n or (T.starts[T.q] if T.q else T.qfrom) >= endpos:
            if rpos < T.S.last_pos:
                return ERR_UNSORTED
            continue
        r = process_read(T, rpos, endpos, flag, mapq, mtid, mpos, <const char *>(d + 32), l_qname - 1,
                         T.cig.data(), n_cigar)
        if r != OK:
            return r
        if T.bad:
            return ERR_INTERNAL
        if first_offset(T, rpos) >= lim:
            break
    return OK


cdef int advance_hts(Stream *T, int64_t lim) noexcept nogil:
    """Read records (htslib iterator) until one starting at offset >= lim has been added."""
    cdef int ret, r
    cdef bam1_t *b = T.b
    while not T.done:
        ret = sam_itr_next(T.fp, T.itr, b)
        if ret < 0:
            T.done = True
            if ret < -1:
                return ERR_TRUNCATED
            break
        if b.core.tid != T.P.tid:
            return ERR_WRONG_CONTIG
        r = process_read(T, b.core.pos, bam_endpos(b), b.core.flag, b.core.qual, b.core.mtid, b.core.mpos,
                         bam_get_qname(b), b.core.l_qname - 1 - b.core.l_extranul, bam_get_cigar(b),
                         b.core.n_cigar)
        if r != OK:
            return r
        if T.bad:
            return ERR_INTERNAL
        if first_offset(T, b.core.pos) >= lim:
            break
    return OK


cdef inline int advance(Stream *T, int64_t lim) noexcept nogil:
    if T.fast:
        return advance_fast(T, lim)
    return advance_hts(T, lim)


cdef inline int32_t *finish_window(Stream *T, int64_t lim) noexcept nogil:
    """Depth of offsets [base, lim) (final once ``advance(lim)`` returned), in place."""
    cdef int64_t i, m = lim - T.base
    if <int64_t>T.diff.size() < m + 1:
        T.diff.resize(m + 1, 0)
    for i in range(m):
        T.run += T.diff[i]
        T.diff[i] = T.run
    return T.diff.data()


cdef inline void drop_window(Stream *T, int64_t lim) noexcept nogil:
    T.diff.erase(T.diff.begin(), T.diff.begin() + (lim - T.base))
    T.base = lim


cdef class DepthReader:
    """One open alignment file (BAM/CRAM) with its index.

    ``hts_threads`` > 0 adds that many BGZF/CRAM decoding threads to this handle (then BAM is
    read through htslib rather than the libdeflate reader).
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
                hts_set_opt(self.fp, CRAM_OPT_REQUIRED_FIELDS,
                            <int>(SAM_QNAME | SAM_FLAG | SAM_RNAME | SAM_POS | SAM_MAPQ | SAM_CIGAR
                                  | SAM_RNEXT | SAM_PNEXT))
                hts_set_opt(self.fp, CRAM_OPT_DECODE_MD, <int>0)
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
        if (fast and FAST_BAM_AVAILABLE and hts_get_format(self.fp).format == bam
                and self.fp.is_bgzf and hts_threads == 0):
            self.z.fd = posix_open(bpath, O_RDONLY)
            self.z.cbuf = <uint8_t *>malloc(65536)
            self.z.ubuf = <uint8_t *>malloc(65536)
            self.z.dec = bgzl_dfl_alloc()
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
            bgzl_dfl_free(self.z.dec)
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

    def depth(self, int tid, const int64_t[::1] starts, const int64_t[::1] ends, int min_mapq,
              int exclude_flags, int overlap_mode, bint count_deletions):
        """Per-base depth over a layout of contig ``tid`` (sorted, disjoint, not touching).

        Returns (array('i') of length sum(ends - starts), number of reads used).  Holds the
        whole layout in memory: for tests and small regions (:func:`scan` streams).
        Raises ValueError('truncated'|'unsorted'|...) on a bad file.
        """
        cdef Py_ssize_t n = starts.shape[0]
        cdef Stream T
        cdef int ret = ERR_FALLBACK
        cdef bint allow_fast = True
        cdef const int32_t *dp = NULL
        if ends.shape[0] != n:
            raise ValueError("array lengths differ")
        while ret == ERR_FALLBACK:
            stream_open(&T, self, tid, &starts[0] if n else NULL, &ends[0] if n else NULL, n, min_mapq,
                        exclude_flags, overlap_mode, count_deletions, -1, allow_fast)
            try:
                with nogil:
                    ret = advance(&T, T.total)
                    if ret == OK:
                        dp = finish_window(&T, T.total)
            finally:
                stream_close(&T)
            allow_fast = False
        raise_code(ret)
        cdef array.array out = array.array("i", [0]) * T.total
        if T.total:
            memcpy(out.data.as_ints, dp, T.total * sizeof(int32_t))
        return out, int(T.S.used)


# ---------------------------------------------------------------------------------------------
# per-target statistics

cdef cppclass Acc:
    # running statistics of one target in one sample
    int64_t n
    int64_t total
    int64_t ge
    bint use_hist
    vector[int32_t] vals    # the target's depths (short targets)
    vector[int64_t] hist    # count per depth value (long targets)


cdef inline void acc_feed(Acc *A, const int32_t *d, int64_t m, int32_t thr) noexcept nogil:
    cdef int64_t k, s = 0, ge = 0
    cdef int32_t x
    for k in range(m):
        x = d[k]
        s += x
        if x >= thr:
            ge += 1
    A.total += s
    A.ge += ge
    A.n += m
    if A.use_hist:
        for k in range(m):
            x = d[k]
            if x >= <int64_t>A.hist.size():
                A.hist.resize(x + 1, 0)
            A.hist[x] += 1
    else:
        A.vals.insert(A.vals.end(), d, d + m)


cdef inline void acc_to_hist(Acc *A) noexcept nogil:
    """Turn collected values into the histogram form."""
    cdef size_t k
    if A.use_hist:
        return
    for k in range(A.vals.size()):
        if A.vals[k] >= <int64_t>A.hist.size():
            A.hist.resize(A.vals[k] + 1, 0)
        A.hist[A.vals[k]] += 1
    A.vals.clear()
    A.use_hist = True


cdef inline int32_t hist_rank(vector[int64_t] &hist, int64_t rank) noexcept nogil:
    """The value of 0-based rank ``rank`` in sorted order."""
    cdef int64_t cum = 0
    cdef size_t v
    for v in range(hist.size()):
        cum += hist[v]
        if cum > rank:
            return <int32_t>v
    return <int32_t>(hist.size() - 1)


cdef inline double acc_median(Acc *A) noexcept nogil:
    """Median; for an even count the mean of the two middle values."""
    cdef int64_t ln = A.n
    cdef int32_t v1, v2
    if ln == 0:
        return NAN
    if A.use_hist:
        v2 = hist_rank(A.hist, ln // 2)
        if ln % 2 == 1:
            return v2
        v1 = hist_rank(A.hist, ln // 2 - 1)
        return (v1 + <double>v2) / 2.0
    nth_element(A.vals.begin(), A.vals.begin() + ln // 2, A.vals.end())
    v2 = A.vals[ln // 2]
    if ln % 2 == 1:
        return v2
    nth_element(A.vals.begin(), A.vals.begin() + ln // 2 - 1, A.vals.begin() + ln // 2)
    v1 = A.vals[ln // 2 - 1]
    return (v1 + <double>v2) / 2.0


cdef class TargetStats:
    """Per-target statistics of one sample from :func:`scan` (targets in the order given).

    ``n`` bases, ``total`` depth sum and ``ge`` bases >= threshold (array('q')); ``median``
    (array('d'), NaN for partial targets); ``partial``: {target index: [(depth, count), ...]}
    for targets marked incomplete (cut by a chunk edge), to be merged by the caller.
    """

    cdef readonly object n, total, ge, median, partial

    def __init__(self, n, total, ge, median, partial):
        self.n, self.total, self.ge, self.median, self.partial = n, total, ge, median, partial


cdef TargetStats collect_stats(vector[Acc] &accs, const uint8_t *complete):
    cdef size_t m = accs.size(), i, v
    cdef array.array n = array.array("q", [0]) * m, tot = array.array("q", [0]) * m
    cdef array.array ge = array.array("q", [0]) * m, med = array.array("d", [NAN]) * m
    partial = {}
    for i in range(m):
        n.data.as_longlongs[i] = accs[i].n
        tot.data.as_longlongs[i] = accs[i].total
        ge.data.as_longlongs[i] = accs[i].ge
        if complete[i]:
            med.data.as_doubles[i] = acc_median(&accs[i])
        else:
            acc_to_hist(&accs[i])
            partial[i] = [(int(v), int(accs[i].hist[v])) for v in range(accs[i].hist.size()) if accs[i].hist[v]]
    return TargetStats(n, tot, ge, med, partial)


# ---------------------------------------------------------------------------------------------
# the scan: stream one or two files over a layout, window by window

cdef struct Consumer:
    int32_t min_depth
    int32_t min_normal
    bint has_normal
    bint inrun
    int64_t run_s
    int64_t sum_t
    int64_t sum_n


cdef void consume(Stream *T, const int32_t *dt, const int32_t *dn, int64_t lim, Consumer *C,
                  vector[int64_t] &runs, vector[int64_t] &t_a, vector[int64_t] &t_e, vector[size_t] &order,
                  size_t *next_t, vector[size_t] &active, vector[Acc] &acc_t, vector[Acc] &acc_n) noexcept nogil:
    """Use the final depths of offsets [T.base, lim): callable runs, sums, target statistics."""
    cdef int64_t base = T.base, o, a, e, seg_s, seg_e
    cdef Py_ssize_t j
    cdef bint ok
    cdef size_t i, k, t
    # callable runs (not merged across interval edges), per layout interval segment
    # locate the interval holding offset base (binary search on offs)
    cdef Py_ssize_t lo = 0, hi = T.n
    while lo < hi:
        j = (lo + hi) // 2
        if T.offs[j + 1] <= base:
            lo = j + 1
        else:
            hi = j
    j = lo
    while j < T.n and T.offs[j] < lim:
        seg_s = T.offs[j] if T.offs[j] > base else base
        seg_e = T.offs[j + 1] if T.offs[j + 1] < lim else lim
        for o in range(seg_s, seg_e):
            ok = dt[o - base] >= C.min_depth
            C.sum_t += dt[o - base]
            if C.has_normal:
                C.sum_n += dn[o - base]
                if ok:
                    ok = dn[o - base] >= C.min_normal
            if ok and not C.inrun:
                C.inrun = True
                C.run_s = T.starts[j] + o - T.offs[j]
            elif not ok and C.inrun:
                C.inrun = False
                runs.push_back(C.run_s)
                runs.push_back(T.starts[j] + o - T.offs[j])
        if seg_e == T.offs[j + 1]:  # interval finished
            if C.inrun:
                C.inrun = False
                runs.push_back(C.run_s)
                runs.push_back(T.ends[j])
            j += 1
        else:
            break
    # targets: open those starting before lim, feed the active ones, close the finished ones
    while next_t[0] < order.size() and t_a[order[next_t[0]]] < lim:
        active.push_back(order[next_t[0]])
        next_t[0] += 1
    k = 0
    for i in range(active.size()):
        t = active[i]
        a = t_a[t] if t_a[t] > base else base
        e = t_e[t] if t_e[t] < lim else lim
        if e > a:
            acc_feed(&acc_t[t], dt + (a - base), e - a, C.min_depth)
            if C.has_normal:
                acc_feed(&acc_n[t], dn + (a - base), e - a, C.min_normal)
        if t_e[t] > lim:
            active[k] = t
            k += 1
    active.resize(k)


cdef int stream_open(Stream *T, DepthReader rdr, int tid, const int64_t *starts, const int64_t *ends,
                     Py_ssize_t n, int min_mapq, int exclude, int overlap_mode, bint count_del,
                     int64_t count_from, bint allow_fast, int64_t query_from=-1) except -1:
    """Set up a stream over the layout (index queries done here, with the GIL).

    Reads are taken from ``query_from`` on when it lies before the layout (they add no depth
    outside the layout but take part in the mate-overlap bookkeeping)."""
    cdef Py_ssize_t j
    cdef int ci
    cdef hts_itr_t *qitr
    cdef int64_t tot = 0
    T.n = n
    T.starts.assign(starts, starts + n)
    T.ends.assign(ends, ends + n)
    T.offs.resize(n + 1)
    for j in range(n):
        if ends[j] <= starts[j] or (j > 0 and starts[j] <= ends[j - 1]):
            raise ValueError("layout intervals must be non-empty, sorted and not touching")
        T.offs[j] = tot
        tot += ends[j] - starts[j]
    T.offs[n] = tot
    T.total = tot
    T.diff.assign(4096, 0)
    T.base = 0
    T.run = 0
    T.bad = False
    T.S.last_pos = -1
    mt_clear(&T.S.seen)
    T.S.used = 0
    T.S.first = 0
    T.P.tid = tid
    T.P.min_mapq = min_mapq
    T.P.exclude = exclude
    T.P.overlap_mode = overlap_mode
    T.P.count_del = count_del
    T.P.count_from = count_from
    T.done = n == 0
    T.fast = allow_fast and rdr.fast
    T.itr = NULL
    T.fp = rdr.fp
    T.b = rdr.b
    T.z = &rdr.z
    T.c = 0
    T.q = 0
    T.in_chunk = False
    if n == 0:
        return 0
    T.qfrom = query_from if 0 <= query_from < starts[0] else starts[0]
    if rdr.idx == NULL:
        raise ValueError("no index")
    if T.fast:
        pairs = []
        for j in range(n):
            qitr = sam_itr_queryi(rdr.idx, tid, T.qfrom if j == 0 else starts[j], ends[j])
            if qitr == NULL:
                raise ValueError(f"cannot query contig {tid}")
            for ci in range(qitr.n_off):
                pairs.append((qitr.off[ci].u, qitr.off[ci].v))
            hts_itr_destroy(qitr)
        pairs.sort()
        # merge overlapping chunks so that every record is read once
        T.chunks.clear()
        for pu, pv in pairs:
            if T.chunks.size() and <uint64_t>pu <= T.chunks[T.chunks.size() - 1]:
                if <uint64_t>pv > T.chunks[T.chunks.size() - 1]:
                    T.chunks[T.chunks.size() - 1] = pv
            else:
                T.chunks.push_back(pu)
                T.chunks.push_back(pv)
        return 0
    # the htslib multi-region iterator (reads overlapping several intervals are returned once);
    # name in braces so that contig names with ':' parse
    name = sam_hdr_tid2name(rdr.hdr, tid).decode()
    regs = [f"{{{name}}}:{(T.qfrom if j == 0 else starts[j]) + 1}-{ends[j]}".encode() for j in range(n)]
    cdef char **regarray = <char **>malloc(n * sizeof(char *))
    if regarray == NULL:
        raise MemoryError()
    for j in range(n):
        regarray[j] = regs[j]
    T.itr = sam_itr_regarray(rdr.idx, rdr.hdr, regarray, <unsigned int>n)
    free(regarray)
    if T.itr == NULL:
        raise ValueError(f"cannot query {name}")
    return 0


cdef void stream_close(Stream *T) noexcept:
    if T.itr != NULL:
        hts_itr_destroy(T.itr)
        T.itr = NULL


cdef raise_code(int ret):
    if ret == ERR_TRUNCATED:
        raise ValueError("truncated")
    if ret == ERR_UNSORTED:
        raise ValueError("unsorted")
    if ret == ERR_WRONG_CONTIG:
        raise ValueError("wrong contig")
    if ret != OK:
        raise ValueError("internal error (unsorted stream)")


cdef class ScanResult:
    """Result of :func:`scan` for one layout (one contig or one chunk of it).

    ``runs``: array('q') [s0, e0, s1, e1, ...] of callable genomic runs (tumor >= min_depth and
    normal >= min_normal), not merged across layout interval edges; ``sum_t``/``sum_n``: depth
    summed over all layout bases; ``used_t``/``used_n``: reads that passed the filters;
    ``tumor``/``normal``: :class:`TargetStats` (``normal`` None without a normal).
    """

    cdef readonly object runs, tumor, normal
    cdef readonly int64_t sum_t, sum_n, used_t, used_n

    def __init__(self, runs, tumor, normal, sum_t, sum_n, used_t, used_n):
        self.runs, self.tumor, self.normal = runs, tumor, normal
        self.sum_t, self.sum_n, self.used_t, self.used_n = sum_t, sum_n, used_t, used_n


cdef int _scan_once(Stream *T, Stream *N, Consumer *C, vector[int64_t] &runs, vector[int64_t] &t_a,
                    vector[int64_t] &t_e, vector[size_t] &order, vector[Acc] &acc_t,
                    vector[Acc] &acc_n, int64_t window) noexcept nogil:
    cdef int64_t lim
    cdef int ret
    cdef size_t next_t = 0
    cdef vector[size_t] active
    cdef const int32_t *dt
    cdef const int32_t *dn = NULL
    while T.base < T.total:
        lim = T.base + window
        if lim > T.total:
            lim = T.total
        ret = advance(T, lim)
        if ret != OK:
            return ret
        dt = finish_window(T, lim)
        if N != NULL:
            ret = advance(N, lim)
            if ret != OK:
                return ret + 100
            dn = finish_window(N, lim)
        consume(T, dt, dn, lim, C, runs, t_a, t_e, order, &next_t, active, acc_t, acc_n)
        drop_window(T, lim)
        if N != NULL:
            drop_window(N, lim)
    return OK


def scan(DepthReader tumor, int tid_t, const int64_t[::1] starts, const int64_t[::1] ends,
         const int64_t[::1] t_starts, const int64_t[::1] t_ends, const uint8_t[::1] t_complete, int min_depth,
         int min_mapq, int exclude_flags, int overlap_mode, bint count_deletions, int64_t count_from=-1,
         DepthReader normal=None, int tid_n=-1, int min_normal=0, int64_t window=WINDOW,
         int64_t query_from=-1):
    """Callable runs, depth sums and per-target statistics over a layout of one contig.

    ``starts``/``ends``: the layout (sorted, disjoint, not touching); ``t_starts``/``t_ends``:
    targets, each inside one layout interval (any order); ``t_complete[i]`` = 0 marks a target
    that continues outside this layout (its statistics come back as a histogram to merge).
    ``count_from``: reads starting before it are not counted in ``used`` (chunks after the first).
    ``query_from`` (< the layout start): also read the reads from there on, for the mate-overlap
    bookkeeping only (see :func:`earliest_start`).
    Raises ValueError('truncated'|'unsorted'|...) for a bad tumor file, and the same message
    prefixed with 'normal: ' for a bad normal file.
    """
    cdef Py_ssize_t n = starts.shape[0], m = t_starts.shape[0], i, lo, hi, mid
    if ends.shape[0] != n or t_ends.shape[0] != m or t_complete.shape[0] != m:
        raise ValueError("array lengths differ")
    if window < 1:
        raise ValueError("window must be >= 1")
    cdef Stream T
    cdef Stream N
    cdef Consumer C
    cdef vector[int64_t] runs
    cdef vector[int64_t] t_a
    cdef vector[int64_t] t_e
    cdef vector[size_t] order
    cdef vector[Acc] acc_t
    cdef vector[Acc] acc_n
    cdef vector[pair_t] keyed
    cdef int ret = ERR_FALLBACK
    cdef bint allow_fast = True
    cdef bint has_n = normal is not None
    # target offsets (binary search for the layout interval holding each target)
    offs = [0] * (n + 1)
    for i in range(n):
        offs[i + 1] = offs[i] + ends[i] - starts[i]
    t_a.resize(m)
    t_e.resize(m)
    for i in range(m):
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            if ends[mid] <= t_starts[i]:
                lo = mid + 1
            else:
                hi = mid
        if t_ends[i] <= t_starts[i] or lo >= n or starts[lo] > t_starts[i] or ends[lo] < t_ends[i]:
            raise ValueError("a target is empty or not inside the depth intervals")
        t_a[i] = offs[lo] + t_starts[i] - starts[lo]
        t_e[i] = offs[lo] + t_ends[i] - starts[lo]
        keyed.push_back(pair_t(t_a[i], i))
    cpp_sort(keyed.begin(), keyed.end())
    for i in range(m):
        order.push_back(keyed[i].second)
    while ret == ERR_FALLBACK:
        runs.clear()
        acc_t.clear()
        acc_n.clear()
        acc_t.resize(m)
        acc_n.resize(m if has_n else 0)
        for i in range(m):
            acc_t[i].use_hist = t_e[i] - t_a[i] > HIST_MIN_LEN
            if has_n:
                acc_n[i].use_hist = acc_t[i].use_hist
        C.min_depth = min_depth
        C.min_normal = min_normal
        C.has_normal = has_n
        C.inrun = False
        C.run_s = 0
        C.sum_t = 0
        C.sum_n = 0
        stream_open(&T, tumor, tid_t, &starts[0] if n else NULL, &ends[0] if n else NULL, n, min_mapq,
                    exclude_flags, overlap_mode, count_deletions, count_from, allow_fast, query_from)
        try:
            if has_n:
                stream_open(&N, normal, tid_n, &starts[0] if n else NULL, &ends[0] if n else NULL, n, min_mapq,
                            exclude_flags, overlap_mode, count_deletions, count_from, allow_fast, query_from)
            with nogil:
                ret = _scan_once(&T, &N if has_n else NULL, &C, runs, t_a, t_e, order, acc_t, acc_n, window)
        finally:
            stream_close(&T)
            if has_n:
                stream_close(&N)
        if ret == ERR_FALLBACK or ret == ERR_FALLBACK + 100:
            ret = ERR_FALLBACK
            allow_fast = False
    if ret >= 100:
        try:
            raise_code(ret - 100)
        except ValueError as exc:
            raise ValueError(f"normal: {exc}") from None
    raise_code(ret)
    cdef array.array out = array.array("q", [0]) * runs.size()
    for i in range(<Py_ssize_t>runs.size()):
        out.data.as_longlongs[i] = runs[i]
    tstats = collect_stats(acc_t, &t_complete[0] if m else NULL)
    nstats = collect_stats(acc_n, &t_complete[0] if m else NULL) if has_n else None
    return ScanResult(out, tstats, nstats, C.sum_t, C.sum_n, T.S.used, N.S.used if has_n else 0)


def write_bgzf_with_tabix(bytes text, str gz_path, str tbi_path):
    """Write ``text`` (BED lines, '#' comments first) BGZF-compressed and build its tabix index
    (BED preset, as ``tabix -p bed``) with htslib."""
    cdef bytes bgz = gz_path.encode(), btbi = tbi_path.encode()
    cdef BGZF *fp = bgzf_open(bgz, b"w")
    if fp == NULL:
        raise OSError(f"cannot write {gz_path}")
    cdef ssize_t w = bgzf_write(fp, <const char *>text, len(text))
    if bgzf_close(fp) != 0 or w != <ssize_t>len(text):
        raise OSError(f"cannot write {gz_path}")
    if tbx_index_build2(bgz, btbi, 0, &tbx_conf_bed) != 0:
        raise OSError(f"cannot build the tabix index of {gz_path}")


def earliest_start(DepthReader rdr, int tid, int64_t pos):
    """Smallest start of the reads (any flags) whose alignment span covers ``pos`` (or ``pos``).

    A chunk of a contig starting at ``pos`` reads from there so that it sees the later mate of
    every pair whose earlier mate reaches into the chunk: in mosdepth-compatible mode a
    contained later mate removes depth up to its earlier mate's end, beyond its own end.
    """
    cdef hts_itr_t *itr
    cdef int64_t best = pos
    cdef int ret
    if rdr.idx == NULL:
        raise ValueError("no index")
    itr = sam_itr_queryi(rdr.idx, tid, pos, pos + 1)
    if itr == NULL:
        raise ValueError(f"cannot query contig {tid}")
    try:
        while True:
            ret = sam_itr_next(rdr.fp, itr, rdr.b)
            if ret < 0:
                if ret < -1:
                    raise ValueError("truncated")
                break
            if rdr.b.core.pos < best and bam_endpos(rdr.b) > pos:
                best = rdr.b.core.pos
    finally:
        hts_itr_destroy(itr)
    return best


cdef extern from "malloc.h":
    int mallopt(int param, int value)
    int M_ARENA_MAX


def single_malloc_arena():
    """Let all threads of this process share glibc's main malloc arena (``M_ARENA_MAX`` = 1).

    For the ``tmbcalc callable`` command process only: its worker threads allocate little and
    not in their hot loops, and a per-thread arena costs ~1 MB of resident memory each.
    Returns True if the setting was accepted (glibc), False otherwise.
    """
    return mallopt(M_ARENA_MAX, 1) == 1
