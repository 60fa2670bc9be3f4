# cython: language_level=3
"""Streaming VCF/BCF scanner: htslib records -> columnar C buffers, no Python object per record.

Private kernel of :mod:`tmbcalc.io.vcf`.  The Python layer inspects the header, decides which
FORMAT/INFO tags fill which column (a *plan* of source specs) and calls :func:`scan`; this module
only executes the plan.  Conventions of the output columns are those of
:mod:`tmbcalc.variants` (0-based positions, -1 / NaN for missing values).
"""
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, realloc, free, strtod
from libc.string cimport memcpy, memcmp, memchr, strlen, strcmp
from libc.math cimport NAN, isnan
from cython.view cimport array as cvarray
from cpython.exc cimport PyErr_CheckSignals

import numpy as np

cdef extern from "htslib/kstring.h":
    ctypedef struct kstring_t:
        size_t l, m
        char *s

cdef extern from "htslib/hts_log.h":
    cdef enum htsLogLevel:
        HTS_LOG_OFF
    void hts_set_log_level(htsLogLevel level) nogil
    htsLogLevel hts_get_log_level() nogil

cdef extern from "htslib/hts.h":
    ctypedef struct htsFile:
        pass
    cdef enum htsFormatCategory:
        unknown_category, sequence_data, variant_data, index_file, region_list
    cdef enum htsExactFormat:
        unknown_format, binary_format, text_format, sam, bam, bai, cram, crai, vcf, bcf
    cdef enum htsCompression:
        no_compression, gzip, bgzf, custom
    ctypedef struct htsFormat:
        htsFormatCategory category
        htsExactFormat format
        htsCompression compression
    htsFile *hts_open(const char *fn, const char *mode) nogil
    int hts_close(htsFile *fp) nogil
    const htsFormat *hts_get_format(htsFile *fp) nogil
    int hts_set_threads(htsFile *fp, int n) nogil
    int hts_getline(htsFile *fp, int delimiter, kstring_t *str) nogil
    char *hts_format_description(const htsFormat *format) nogil
    int hts_check_EOF(htsFile *fp) nogil

cdef extern from "htslib/bgzf.h":
    pass

cdef extern from *:
    """
    static uint64_t tmbcalc_vcf_voffset(htsFile *fp) { return (uint64_t)bgzf_tell(fp->fp.bgzf); }
    """
    uint64_t tmbcalc_vcf_voffset(htsFile *fp) nogil

from tmbcalc.ext._bgzl cimport *  # bgzf_lines.h: libdeflate BGZF reading

cdef extern from "htslib/vcf.h":
    ctypedef struct bcf_hrec_t:
        int type
        char *key
        char *value
    ctypedef struct bcf_idinfo_t:
        uint64_t info[3]
        bcf_hrec_t *hrec[3]
        int id
    ctypedef struct bcf_idpair_t:
        const char *key
        const bcf_idinfo_t *val
    ctypedef struct bcf_hdr_t:
        int32_t n[3]
        bcf_idpair_t *id[3]
        char **samples
    ctypedef struct bcf_fmt_t:
        int id
        int n, size, type
        uint8_t *p
    ctypedef union bcf_info_v1:
        int64_t i
        float f
    ctypedef struct bcf_info_t:
        int key
        int type
        uint8_t *vptr
        int len
    ctypedef struct bcf_dec_t:
        int n_flt
        int *flt
        char **allele
        bcf_info_t *info
        bcf_fmt_t *fmt
    ctypedef struct bcf1_t:
        int64_t pos
        int64_t rlen
        int32_t rid
        uint32_t n_info, n_allele, n_fmt, n_sample
        bcf_dec_t d
        int max_unpack
        int errcode
    int BCF_DT_ID, BCF_DT_CTG, BCF_DT_SAMPLE
    int BCF_HL_FLT, BCF_HL_INFO, BCF_HL_FMT
    int BCF_BT_INT8, BCF_BT_INT16, BCF_BT_INT32, BCF_BT_FLOAT, BCF_BT_CHAR
    int BCF_UN_STR, BCF_UN_FLT, BCF_UN_INFO, BCF_UN_FMT
    int8_t bcf_int8_missing, bcf_int8_vector_end
    int16_t bcf_int16_missing, bcf_int16_vector_end
    int32_t bcf_int32_missing, bcf_int32_vector_end
    bcf_hdr_t *bcf_hdr_read(htsFile *fp) nogil
    void bcf_hdr_destroy(bcf_hdr_t *h) nogil
    int bcf_hdr_format(const bcf_hdr_t *hdr, int is_bcf, kstring_t *str) nogil
    int bcf_hdr_id2int(const bcf_hdr_t *hdr, int type, const char *id) nogil
    bcf1_t *bcf_init() nogil
    void bcf_destroy(bcf1_t *v) nogil
    int bcf_read(htsFile *fp, const bcf_hdr_t *h, bcf1_t *v) nogil
    int bcf_unpack(bcf1_t *b, int which) nogil
    bcf_info_t *bcf_get_info_id(bcf1_t *line, const int id) nogil
    bcf_fmt_t *bcf_get_fmt_id(bcf1_t *line, const int id) nogil


class VcfScanError(Exception):
    """Raised by the kernel; ``kind`` is 'open', 'format', 'header', 'read', 'record' or 'memory'."""

    def __init__(self, kind, message, record=-1, chrom=None, pos=-1):
        super().__init__(message)
        self.kind = kind
        self.record = record
        self.chrom = chrom
        self.pos = pos


# ---------------------------------------------------------------------------------------------
# source specs: how one output value is obtained for one ALT allele
# ---------------------------------------------------------------------------------------------
# kinds
DEF K_NONE = 0
DEF K_FMT = 1          # FORMAT tag ids[0] of sample, element chosen by mode
DEF K_INFO = 2         # INFO tag ids[0], element chosen by mode
DEF K_FMT_SUM2 = 3     # FORMAT ids[0][0] + ids[1][0] (Strelka indel TAR+TIR tier1)
DEF K_STRELKA_ALT = 4  # FORMAT {ALT}U tier1 (ids = AU, CU, GU, TU)
DEF K_STRELKA_DEPTH = 5  # sum of AU+CU+GU+TU tier1 (single-base REF and ALT only)
DEF K_STRELKA_REFALT = 6  # {REF}U + {ALT}U tier1 (Strelka's VAF denominator)
DEF K_RATIO = 7        # t_alt / vaf_den (vaf target only)
# modes (element selection)
DEF M_FIRST = 0
DEF M_R = 1            # allele_index (REF = 0)
DEF M_A = 2            # allele_index - 1
DEF M_SUM = 3          # sum of all non-missing elements
DEF M_AUTO = 4         # Number=. : R if n == n_alts+1, A if n == n_alts, else first
DEF M_MAX = 5          # max of all non-missing elements

# targets
DEF T_DEPTH = 0
DEF T_ALT = 1
DEF T_VAF_DEN = 2
DEF T_VAF = 3
DEF N_DEPTH = 4
DEF N_ALT = 5
DEF N_TARGETS = 6
DEF N_ALTERN = 3

DEF MAX_POPAF = 16
DEF MAX_CSQ_SUB = 16
DEF MAX_SLOTS = 32      # distinct INFO (or FORMAT) tags a plan may read
DEF TERM_TAB = 1024     # SO term hash table size (power of two, > 4x the vocabulary)
DEF MAX_FIELDS = 512    # CSQ/ANN sub-fields addressable per entry
DEF MAX_FMT_KEYS = 256  # FORMAT keys per record (text VCF path)

ctypedef struct Val:
    # one INFO value or one sample's FORMAT value: a typed BCF vector, or text (BCF_BT_CHAR,
    # n = byte length) when parsed straight from a VCF line; p == NULL when absent
    const uint8_t *p
    int type
    int n

ctypedef struct View:
    # the fields of one record that a plan reads, from either a bcf1_t or a VCF text line
    int64_t pos
    int32_t rid
    int n_allele
    const char **al
    int *al_n
    int al_cap
    int8_t fcode
    Val info[MAX_SLOTS]
    Val fmt[MAX_SLOTS][2]

ctypedef struct Spec:
    int kind
    int mode
    int sample
    int ids[4]

ctypedef struct Cols:
    int64_t *record
    int32_t *contig
    int64_t *pos
    int32_t *ref_len
    int32_t *alt_len
    int8_t *vtype
    int16_t *allele_index
    int16_t *n_alts
    int8_t *filter
    int32_t *t_depth
    int32_t *t_alt
    float *t_vaf
    int32_t *n_depth
    int32_t *n_alt
    float *pop_af
    int8_t *csq
    uint64_t *akey
    int64_t *text_off
    char *text
    int64_t n, cap, text_n, text_cap

ctypedef struct AltInfo:
    const char *s       # ALT allele text
    int n               # length
    const char *vep     # VEP-trimmed allele text
    int vep_n
    int best            # most severe class code (-1)
    int canon           # canonical transcript code (-2 = none seen)
    int first           # first annotation entry's code (-2 = none seen)
    double popaf

ctypedef struct Plan:
    Spec spec[N_TARGETS][N_ALTERN]
    int need_fmt
    int pass_id
    # tag slots: header ids (BCF path) and names (text path)
    int n_islot, n_fslot
    int islot_hid[MAX_SLOTS]
    int fslot_hid[MAX_SLOTS]
    const char *islot_name[MAX_SLOTS]
    const char *fslot_name[MAX_SLOTS]
    int islot_len[MAX_SLOTS]
    int fslot_len[MAX_SLOTS]
    int sample_index[2]  # original sample column index of sample slot 0 / 1 (-1 unused)
    int n_popaf
    int popaf_id[MAX_POPAF]   # INFO slot
    int popaf_mode[MAX_POPAF]
    int csq_id          # INFO slot of CSQ/ANN, -1 none
    int csq_kind        # 1 VEP, 2 SnpEff
    int f_conseq, f_allele, f_allele_num, f_canonical
    int n_sub
    int f_sub[MAX_CSQ_SUB]
    int pick_canonical
    int keep_text
    # SO term table (sorted)
    int n_terms
    char **terms
    int *term_len
    int8_t *term_code
    int16_t term_tab[TERM_TAB]
    int f_max           # highest sub-field index the plan reads

ctypedef struct CtgCache:
    char *name
    int n
    int32_t rid
    int n_hdr
    int n_extra
    char **extra
    int undefined

ctypedef struct FmtCache:
    char *text
    int n
    int nkeys
    int slot[MAX_FMT_KEYS]

ctypedef struct Counts:
    int64_t records, rows, symbolic, no_alt, csq_unmatched, canonical_fallback, annotated_records
    int64_t undefined_contig, undefined_tag


# ---------------------------------------------------------------------------------------------
# numeric helpers
# ---------------------------------------------------------------------------------------------
cdef double POW10[23]
cdef int _k
for _k in range(23):
    POW10[_k] = 10.0 ** _k


cdef double slow_num(const char *p, int n) noexcept nogil:
    cdef char buf[64]
    cdef char *end
    cdef double v
    if n >= 63:
        return NAN
    memcpy(buf, p, n)
    buf[n] = 0
    v = strtod(buf, &end)
    if end == buf:
        return NAN
    if end[0] == b'%':      # VarScan-style FREQ "12.5%"
        v = v / 100.0
    return v


cdef inline double parse_num(const char *p, int n) noexcept nogil:
    """Parse a decimal/float text field of length n ('.' or empty -> NaN).

    Plain decimals with up to 15 significant digits and a small exponent are converted with
    one exact-operand multiplication/division (correctly rounded, same result as strtod);
    anything else goes to strtod.
    """
    cdef int i = 0, sig = 0, frac = 0, ex = 0, e10
    cdef bint neg = False, dot = False, anyd = False, eneg = False
    cdef uint64_t m = 0
    cdef char ch
    cdef double v
    while n > 0 and p[0] == b' ':
        p += 1
        n -= 1
    if n <= 0 or (n == 1 and p[0] == b'.'):
        return NAN
    if p[0] == b'-' or p[0] == b'+':
        neg = p[0] == b'-'
        i = 1
    while i < n:
        ch = p[i]
        if ch >= b'0' and ch <= b'9':
            anyd = True
            if m != 0 or ch != b'0':
                sig += 1
                if sig > 15:
                    return slow_num(p, n)
            m = m * 10 + <uint64_t> (ch - 48)
            if dot:
                frac += 1
        elif ch == b'.' and not dot:
            dot = True
        elif (ch == b'e' or ch == b'E') and anyd:
            i += 1
            if i < n and (p[i] == b'-' or p[i] == b'+'):
                eneg = p[i] == b'-'
                i += 1
            if i >= n:
                return slow_num(p, n)
            while i < n:
                ch = p[i]
                if ch < b'0' or ch > b'9' or ex > 1000:
                    return slow_num(p, n)
                ex = ex * 10 + (ch - 48)
                i += 1
            break
        else:
            return slow_num(p, n)
        i += 1
    if not anyd:
        return slow_num(p, n)
    e10 = (-ex if eneg else ex) - frac
    if e10 == 0:
        v = <double> m
    elif e10 > 0 and e10 <= 22:
        v = <double> m * POW10[e10]
    elif e10 < 0 and e10 >= -22:
        v = <double> m / POW10[-e10]
    else:
        return slow_num(p, n)
    return -v if neg else v


cdef inline double char_elem(const char *s, int len, int k, int *count) noexcept nogil:
    """k-th comma-separated number in a (possibly NUL-padded) string; also counts elements."""
    cdef int i = 0, start = 0, idx = 0
    cdef double out = NAN
    while len > 0 and s[len - 1] == 0:
        len -= 1
    if len == 0:
        count[0] = 0
        return NAN
    while i <= len:
        if i == len or s[i] == b',':
            if idx == k:
                out = parse_num(s + start, i - start)
            idx += 1
            start = i + 1
        i += 1
    count[0] = idx
    return out


cdef inline double raw_elem(const uint8_t *p, int type, int n, int k) noexcept nogil:
    """k-th element of a typed BCF vector, NaN when missing / vector end / out of range."""
    cdef int8_t v8
    cdef int16_t v16
    cdef int32_t v32
    cdef float vf
    if k < 0 or k >= n:
        return NAN
    if type == BCF_BT_INT8:
        v8 = (<const int8_t *> p)[k]
        if v8 == bcf_int8_missing or v8 == bcf_int8_vector_end:
            return NAN
        return v8
    elif type == BCF_BT_INT16:
        v16 = (<const int16_t *> p)[k]
        if v16 == bcf_int16_missing or v16 == bcf_int16_vector_end:
            return NAN
        return v16
    elif type == BCF_BT_INT32:
        v32 = (<const int32_t *> p)[k]
        if v32 == bcf_int32_missing or v32 == bcf_int32_vector_end:
            return NAN
        return v32
    elif type == BCF_BT_FLOAT:
        vf = (<const float *> p)[k]
        if isnan(vf):
            return NAN
        return vf
    return NAN


cdef inline int vec_count(const uint8_t *p, int type, int n) noexcept nogil:
    """Number of elements before the vector end (or comma-separated items of a string)."""
    cdef int i, c
    if type == BCF_BT_CHAR:
        char_elem(<const char *> p, n, -1, &c)
        return c
    for i in range(n):
        if type == BCF_BT_INT8 and (<const int8_t *> p)[i] == bcf_int8_vector_end:
            return i
        if type == BCF_BT_INT16 and (<const int16_t *> p)[i] == bcf_int16_vector_end:
            return i
        if type == BCF_BT_INT32 and (<const int32_t *> p)[i] == bcf_int32_vector_end:
            return i
        if type == BCF_BT_FLOAT and (<const uint32_t *> p)[i] == 0x7F800002:
            return i
    return n


cdef inline double vec_elem(const uint8_t *p, int type, int n, int k) noexcept nogil:
    cdef int c
    if type == BCF_BT_CHAR:
        return char_elem(<const char *> p, n, k, &c)
    return raw_elem(p, type, n, k)


cdef double vec_pick(const uint8_t *p, int type, int n, int mode, int ai, int n_alts) noexcept nogil:
    """Element for ALT allele ``ai`` (1-based) according to ``mode``."""
    cdef int cnt, i
    cdef double v, acc
    cdef bint any_ = False
    if mode == M_FIRST:
        return vec_elem(p, type, n, 0)
    if mode == M_R:
        return vec_elem(p, type, n, ai)
    if mode == M_A:
        return vec_elem(p, type, n, ai - 1)
    cnt = vec_count(p, type, n)
    if mode == M_AUTO:
        if cnt == n_alts + 1:
            return vec_elem(p, type, n, ai)
        if cnt == n_alts:
            return vec_elem(p, type, n, ai - 1)
        return vec_elem(p, type, n, 0)
    acc = 0.0
    for i in range(cnt):
        v = vec_elem(p, type, n, i)
        if not isnan(v):
            if mode == M_SUM:
                acc += v
            elif not any_ or v > acc:
                acc = v
            any_ = True
    return acc if any_ else NAN


cdef inline double fmt_first(View *v, int slot, int sample) noexcept nogil:
    cdef Val *x
    if slot < 0 or sample < 0:
        return NAN
    x = &v.fmt[slot][sample]
    if x.p == NULL:
        return NAN
    return vec_elem(x.p, x.type, x.n, 0)


cdef inline int base_slot(char c) noexcept nogil:
    if c == b'A' or c == b'a':
        return 0
    if c == b'C' or c == b'c':
        return 1
    if c == b'G' or c == b'g':
        return 2
    if c == b'T' or c == b't':
        return 3
    return -1


cdef double eval_spec(Spec *sp, View *vw, int ai, int n_alts) noexcept nogil:
    cdef Val *x
    cdef double a, b, v
    cdef int slot, rslot, i
    if sp.kind == K_FMT:
        if sp.ids[0] < 0 or sp.sample < 0:
            return NAN
        x = &vw.fmt[sp.ids[0]][sp.sample]
        if x.p == NULL:
            return NAN
        return vec_pick(x.p, x.type, x.n, sp.mode, ai, n_alts)
    if sp.kind == K_INFO:
        if sp.ids[0] < 0:
            return NAN
        x = &vw.info[sp.ids[0]]
        if x.p == NULL:
            return NAN
        return vec_pick(x.p, x.type, x.n, sp.mode, ai, n_alts)
    if sp.kind == K_FMT_SUM2:
        a = fmt_first(vw, sp.ids[0], sp.sample)
        b = fmt_first(vw, sp.ids[1], sp.sample)
        if isnan(a) or isnan(b):
            return NAN
        return a + b
    if sp.kind == K_STRELKA_ALT or sp.kind == K_STRELKA_REFALT:
        if vw.al_n[ai] != 1 or vw.al_n[0] != 1:
            return NAN
        slot = base_slot(vw.al[ai][0])
        if slot < 0:
            return NAN
        a = fmt_first(vw, sp.ids[slot], sp.sample)
        if sp.kind == K_STRELKA_ALT:
            return a
        rslot = base_slot(vw.al[0][0])
        if rslot < 0:
            return NAN
        b = fmt_first(vw, sp.ids[rslot], sp.sample)
        if isnan(a) or isnan(b):
            return NAN
        return a + b
    if sp.kind == K_STRELKA_DEPTH:
        # per-record layout: the per-base counts describe single-base REF/ALT records only, so an
        # indel record of a merged SNV+indel file falls through to its TAR/TIR alternative
        if vw.al_n[ai] != 1 or vw.al_n[0] != 1:
            return NAN
        a = 0.0
        for i in range(4):
            v = fmt_first(vw, sp.ids[i], sp.sample)
            if isnan(v):
                return NAN
            a += v
        return a
    return NAN


cdef double eval_target(Plan *pl, int t, View *vw, int ai, int n_alts) noexcept nogil:
    cdef int j
    cdef double v
    for j in range(N_ALTERN):
        if pl.spec[t][j].kind == K_NONE:
            break
        v = eval_spec(&pl.spec[t][j], vw, ai, n_alts)
        if not isnan(v):
            return v
    return NAN


cdef inline int32_t to_i32(double v) noexcept nogil:
    if isnan(v) or v < 0 or v > 2147483647.0:
        return -1
    return <int32_t> (v + 0.5)


# ---------------------------------------------------------------------------------------------
# consequence annotation (VEP CSQ / SnpEff ANN)
# ---------------------------------------------------------------------------------------------
cdef inline uint32_t term_hash(const char *p, int n) noexcept nogil:
    cdef uint32_t h = 2166136261u
    cdef int i
    for i in range(n):
        h = (h ^ <uint8_t> p[i]) * 16777619u
    return h


cdef int term_lookup(Plan *pl, const char *p, int n) noexcept nogil:
    """Class code of one SO term (open-addressing hash table built from the sorted list)."""
    cdef uint32_t h
    cdef int slot, idx
    while n > 0 and p[0] == b' ':
        p += 1
        n -= 1
    while n > 0 and p[n - 1] == b' ':
        n -= 1
    h = term_hash(p, n)
    slot = <int> (h & (TERM_TAB - 1))
    while True:
        idx = pl.term_tab[slot]
        if idx < 0:
            return -1
        if pl.term_len[idx] == n and memcmp(pl.terms[idx], p, n) == 0:
            return pl.term_code[idx]
        slot = (slot + 1) & (TERM_TAB - 1)


cdef int terms_code(Plan *pl, const char *p, int n) noexcept nogil:
    """Most severe class among '&'-joined SO terms (-1 if none known)."""
    cdef int i = 0, start = 0, c, best = -1
    cdef const char *q
    while start <= n:
        q = <const char *> memchr(p + start, b'&', n - start)
        i = n if q == NULL else <int> (q - p)
        if i > start:
            c = term_lookup(pl, p + start, i - start)
            if c >= 0 and (best < 0 or c < best):
                best = c
        start = i + 1
    return best


cdef double amp_max(const char *p, int n) noexcept nogil:
    """Max of '&'-joined numbers (NaN if none)."""
    cdef int i = 0, start = 0
    cdef double v, best = NAN
    while i <= n:
        if i == n or p[i] == b'&':
            v = parse_num(p + start, i - start)
            if not isnan(v) and (isnan(best) or v > best):
                best = v
            start = i + 1
        i += 1
    return best


cdef inline bint same_ci(const char *a, int na, const char *b, int nb) noexcept nogil:
    cdef int i
    cdef char x, y
    if na != nb:
        return False
    for i in range(na):
        x = a[i]
        y = b[i]
        if x >= b'a' and x <= b'z':
            x = x - 32
        if y >= b'a' and y <= b'z':
            y = y - 32
        if x != y:
            return False
    return True


cdef void apply_entry(AltInfo *alt, int code, bint canonical, double af) noexcept nogil:
    if code >= 0 and (alt.best < 0 or code < alt.best):
        alt.best = code
    if alt.first == -2:
        alt.first = code
    if canonical and alt.canon == -2:
        alt.canon = code
    if not isnan(af) and (isnan(alt.popaf) or af > alt.popaf):
        alt.popaf = af


cdef extern from *:
    """
    static inline int vcfscan_ctz64(unsigned long long x) { return __builtin_ctzll(x); }
    """
    int vcfscan_ctz64(unsigned long long x) nogil


cdef inline int find_pipe(const char *s, int j, int e) noexcept nogil:
    """Index of the first '|' in s[j:e] (or e), eight bytes at a time (SWAR zero-byte test)."""
    cdef uint64_t w, x, t
    while j + 8 <= e:
        memcpy(&w, s + j, 8)
        x = w ^ <uint64_t> 0x7C7C7C7C7C7C7C7C
        t = (x - <uint64_t> 0x0101010101010101) & ~x & <uint64_t> 0x8080808080808080
        if t != 0:
            return j + (vcfscan_ctz64(t) >> 3)
        j += 8
    while j < e and s[j] != b'|':
        j += 1
    return j


cdef inline bint fld(const char **fs, int *fl, int idx) noexcept nogil:
    return idx >= 0 and fl[idx] >= 0


cdef void scan_csq(Plan *pl, const char *s, int len, AltInfo *alts, int n_alts, Counts *cnt) noexcept nogil:
    """Walk entries (',') and sub-fields ('|') of one CSQ/ANN value, updating per-ALT results.

    Only sub-fields up to the highest one the plan reads are located; the rest of an entry is
    skipped with memchr.
    """
    cdef int i = 0, field, k, a, target, code, fmax = pl.f_max, nf, e, j, b
    cdef uint64_t w, x, t
    cdef bint done
    cdef const char *fs[MAX_FIELDS]
    cdef int fl[MAX_FIELDS]
    cdef double af, v
    cdef bint canonical
    cdef const char *q
    cdef const char *ap
    cdef int an
    while len > 0 and s[len - 1] == 0:
        len -= 1
    while i < len:
        # entry = [i, e); locate its sub-fields 0..fmax
        q = <const char *> memchr(s + i, b',', len - i)
        e = len if q == NULL else <int> (q - s)
        for k in range(fmax + 1):
            fl[k] = -1
        field = 0
        fs[0] = s + i
        j = i
        done = False
        # eight bytes at a time: exact per-byte '|' mask, one field boundary per set bit
        while not done and j + 8 <= e:
            memcpy(&w, s + j, 8)
            x = w ^ <uint64_t> 0x7C7C7C7C7C7C7C7C
            t = ~(((x & <uint64_t> 0x7F7F7F7F7F7F7F7F) + <uint64_t> 0x7F7F7F7F7F7F7F7F) | x) & \
                <uint64_t> 0x8080808080808080
            while t != 0:
                b = j + (vcfscan_ctz64(t) >> 3)
                fl[field] = <int> (s + b - fs[field])
                if field == fmax:
                    done = True
                    break
                field += 1
                fs[field] = s + b + 1
                t &= t - 1
            j += 8
        if not done:
            while j < e:
                if s[j] == b'|':
                    fl[field] = <int> (s + j - fs[field])
                    if field == fmax:
                        done = True
                        break
                    field += 1
                    fs[field] = s + j + 1
                j += 1
            if not done:
                fl[field] = <int> (s + e - fs[field])
        nf = field + 1
        i = e + 1
        code = -1
        if fld(fs, fl, pl.f_conseq):
            code = terms_code(pl, fs[pl.f_conseq], fl[pl.f_conseq])
        canonical = False
        if fld(fs, fl, pl.f_canonical) and fl[pl.f_canonical] == 3:
            canonical = same_ci(fs[pl.f_canonical], 3, b"YES", 3)
        af = NAN
        for k in range(pl.n_sub):
            if fld(fs, fl, pl.f_sub[k]) and fl[pl.f_sub[k]] > 0:
                v = amp_max(fs[pl.f_sub[k]], fl[pl.f_sub[k]])
                if not isnan(v) and (isnan(af) or v > af):
                    af = v
        target = -1
        if n_alts == 1:
            target = 0
        else:
            if fld(fs, fl, pl.f_allele_num) and fl[pl.f_allele_num] > 0:
                v = parse_num(fs[pl.f_allele_num], fl[pl.f_allele_num])
                if not isnan(v) and v >= 1 and v <= n_alts:
                    target = <int> v - 1
            if target < 0 and fld(fs, fl, pl.f_allele):
                ap = fs[pl.f_allele]
                an = fl[pl.f_allele]
                for a in range(n_alts):
                    if same_ci(ap, an, alts[a].s, alts[a].n) or \
                            (alts[a].vep != NULL and same_ci(ap, an, alts[a].vep, alts[a].vep_n)):
                        target = a
                        break
        if target >= 0:
            apply_entry(&alts[target], code, canonical, af)
        elif nf > 1:
            cnt.csq_unmatched += 1
            for a in range(n_alts):
                apply_entry(&alts[a], code, canonical, af)


# ---------------------------------------------------------------------------------------------
# output buffers
# ---------------------------------------------------------------------------------------------
cdef int grow(void **p, size_t newsize) noexcept nogil:
    cdef void *q = realloc(p[0], newsize)
    if q == NULL:
        return -1
    p[0] = q
    return 0


cdef int cols_reserve(Cols *c, int64_t need) noexcept nogil:
    cdef int64_t cap
    if need <= c.cap:
        return 0
    cap = c.cap + (c.cap >> 1) + 4096
    if cap < need:
        cap = need
    if (grow(<void **> &c.record, cap * 8) or grow(<void **> &c.contig, cap * 4) or
            grow(<void **> &c.pos, cap * 8) or grow(<void **> &c.ref_len, cap * 4) or
            grow(<void **> &c.alt_len, cap * 4) or grow(<void **> &c.vtype, cap) or
            grow(<void **> &c.allele_index, cap * 2) or grow(<void **> &c.n_alts, cap * 2) or
            grow(<void **> &c.filter, cap) or grow(<void **> &c.t_depth, cap * 4) or
            grow(<void **> &c.t_alt, cap * 4) or grow(<void **> &c.t_vaf, cap * 4) or
            grow(<void **> &c.n_depth, cap * 4) or grow(<void **> &c.n_alt, cap * 4) or
            grow(<void **> &c.pop_af, cap * 4) or grow(<void **> &c.csq, cap) or
            grow(<void **> &c.akey, cap * 8) or grow(<void **> &c.text_off, (cap + 1) * 8)):
        return -1
    c.cap = cap
    return 0


cdef int text_reserve(Cols *c, int64_t need) noexcept nogil:
    cdef int64_t cap
    if need <= c.text_cap:
        return 0
    cap = c.text_cap + (c.text_cap >> 1) + 65536
    if cap < need:
        cap = need
    if grow(<void **> &c.text, cap):
        return -1
    c.text_cap = cap
    return 0


cdef void cols_free(Cols *c) noexcept nogil:
    free(c.record); free(c.contig); free(c.pos); free(c.ref_len); free(c.alt_len)
    free(c.vtype); free(c.allele_index); free(c.n_alts); free(c.filter); free(c.t_depth)
    free(c.t_alt); free(c.t_vaf); free(c.n_depth); free(c.n_alt); free(c.pop_af); free(c.csq)
    free(c.akey); free(c.text_off); free(c.text)


cdef inline uint64_t fnv_upper(uint64_t h, const char *s, int n) noexcept nogil:
    cdef int i
    cdef uint8_t ch
    for i in range(n):
        ch = <uint8_t> s[i]
        if ch >= 97 and ch <= 122:
            ch -= 32
        h = (h ^ ch) * <uint64_t> 0x100000001B3
    return h


cdef inline bint is_symbolic(const char *a, int n) noexcept nogil:
    cdef int i
    if n == 1 and (a[0] == b'*' or a[0] == b'.'):
        return True
    for i in range(n):
        if a[i] == b'<' or a[i] == b'[' or a[i] == b']':
            return True
    if n > 1 and (a[0] == b'.' or a[n - 1] == b'.'):   # single breakends
        return True
    return False


cdef inline char up(char c) noexcept nogil:
    if c >= b'a' and c <= b'z':
        return c - 32
    return c


# ---------------------------------------------------------------------------------------------
# the record loop
# ---------------------------------------------------------------------------------------------
cdef int view_alleles(View *vw, int n) noexcept nogil:
    if n > vw.al_cap:
        if grow(<void **> &vw.al, n * sizeof(char *)) < 0 or grow(<void **> &vw.al_n, n * sizeof(int)) < 0:
            return -1
        vw.al_cap = n
    return 0


cdef int fill_view_bcf(Plan *pl, bcf1_t *rec, View *vw) noexcept nogil:
    """Point the view at an unpacked BCF/htslib record."""
    cdef int i, s, unpack = BCF_UN_STR | BCF_UN_FLT | BCF_UN_INFO
    cdef bcf_info_t *inf
    cdef bcf_fmt_t *f
    if pl.need_fmt:
        unpack = unpack | BCF_UN_FMT
    bcf_unpack(rec, unpack)
    vw.pos = rec.pos
    vw.rid = rec.rid
    vw.n_allele = <int> rec.n_allele
    if view_alleles(vw, vw.n_allele) < 0:
        return -2
    for i in range(vw.n_allele):
        vw.al[i] = rec.d.allele[i]
        vw.al_n[i] = <int> strlen(rec.d.allele[i])
    if rec.d.n_flt == 0:
        vw.fcode = 1
    elif rec.d.n_flt == 1 and rec.d.flt[0] == pl.pass_id:
        vw.fcode = 0
    else:
        vw.fcode = 2
    for i in range(pl.n_islot):
        vw.info[i].p = NULL
        if pl.islot_hid[i] >= 0:
            inf = bcf_get_info_id(rec, pl.islot_hid[i])
            if inf != NULL and inf.vptr != NULL:
                vw.info[i].p = inf.vptr
                vw.info[i].type = inf.type
                vw.info[i].n = inf.len
    for i in range(pl.n_fslot):
        vw.fmt[i][0].p = NULL
        vw.fmt[i][1].p = NULL
        if pl.fslot_hid[i] < 0 or not pl.need_fmt:
            continue
        f = bcf_get_fmt_id(rec, pl.fslot_hid[i])
        if f == NULL or f.p == NULL:
            continue
        for s in range(2):
            if pl.sample_index[s] >= 0 and pl.sample_index[s] < <int> rec.n_sample:
                vw.fmt[i][s].p = f.p + pl.sample_index[s] * f.size
                vw.fmt[i][s].type = f.type
                vw.fmt[i][s].n = f.n
    return 0


cdef inline int find_char(const char *s, int start, int end, char ch) noexcept nogil:
    """Index of the first ``ch`` in s[start:end] (or end): first 8 bytes by a SWAR test (most
    VCF fields are short), the rest by memchr."""
    cdef uint64_t w, x, t
    cdef const char *q
    if start + 8 <= end:
        memcpy(&w, s + start, 8)
        x = w ^ (<uint64_t> <uint8_t> ch * <uint64_t> 0x0101010101010101)
        t = ~(((x & <uint64_t> 0x7F7F7F7F7F7F7F7F) + <uint64_t> 0x7F7F7F7F7F7F7F7F) | x) & \
            <uint64_t> 0x8080808080808080
        if t != 0:
            return start + (vcfscan_ctz64(t) >> 3)
        start += 8
    elif start < end:
        while start < end and s[start] != ch:
            start += 1
        return start
    q = <const char *> memchr(s + start, ch, end - start)
    return end if q == NULL else <int> (q - s)


cdef int parse_line(Plan *pl, char *s, int len, View *vw, bcf_hdr_t *hdr, CtgCache *cc,
                    FmtCache *fc) noexcept nogil:
    """Parse one VCF text line into the view (fields the plan needs only).

    Returns 0, 1 for a line to skip (empty), -1 if malformed, -2 on allocation failure.
    """
    cdef int tabs[10]
    cdef int ntab = 0, i = 0, j, k, st, en, ks, ke, na, col, want, s_i, fi, slot
    cdef int64_t pos = 0
    cdef char saved
    while len > 0 and (s[len - 1] == b'\r' or s[len - 1] == b'\n'):
        len -= 1
    if len == 0:
        return 1
    # column boundaries: CHROM POS ID REF ALT QUAL FILTER INFO [FORMAT]
    want = 9 if pl.need_fmt else 8
    while ntab < want:
        j = find_char(s, i, len, b'\t')
        if j >= len:
            break
        tabs[ntab] = j
        ntab += 1
        i = j + 1
    if ntab < 7:
        return -1
    if ntab == 7:
        tabs[7] = len          # INFO is the last column
        ntab = 8
    # CHROM -> rid (cached: records of one contig are contiguous)
    en = tabs[0]
    if en == 0:
        return -1
    if not (cc.n == en and memcmp(cc.name, s, en) == 0):
        if grow(<void **> &cc.name, en + 1) < 0:
            return -2
        memcpy(cc.name, s, en)
        cc.name[en] = 0
        cc.n = en
        cc.rid = bcf_hdr_id2int(hdr, BCF_DT_CTG, cc.name)
        if cc.rid < 0:
            cc.rid = extra_contig(cc)
            if cc.rid == -2:
                return -2
            cc.undefined = 1
    vw.rid = cc.rid
    # POS
    st = tabs[0] + 1
    en = tabs[1]
    if en <= st:
        return -1
    for k in range(st, en):
        if s[k] < b'0' or s[k] > b'9':
            return -1
        pos = pos * 10 + (s[k] - 48)
        if pos > 2147483647:          # beyond 2^31 - 1 (BCF's limit; no contig is longer): refuse, never wrap
            return -1
    if pos < 1:
        return -1
    vw.pos = pos - 1
    # REF, ALT
    st = tabs[2] + 1
    en = tabs[3]
    if en <= st:
        return -1
    na = 1
    for k in range(tabs[3] + 1, tabs[4]):
        if s[k] == b',':
            na += 1
    if tabs[4] <= tabs[3] + 1:
        return -1
    if view_alleles(vw, na + 1) < 0:
        return -2
    vw.al[0] = s + st
    vw.al_n[0] = en - st
    k = tabs[3] + 1
    for i in range(1, na + 1):
        j = find_char(s, k, tabs[4], b',')
        vw.al[i] = s + k
        vw.al_n[i] = j - k
        k = j + 1
    vw.n_allele = na + 1
    # FILTER
    st = tabs[5] + 1
    en = tabs[6]
    if en - st == 4 and memcmp(s + st, b"PASS", 4) == 0:
        vw.fcode = 0
    elif en - st == 1 and s[st] == b'.':
        vw.fcode = 1
    elif en <= st:
        return -1
    else:
        vw.fcode = 2
    # INFO key=value pairs the plan reads
    for i in range(pl.n_islot):
        vw.info[i].p = NULL
    st = tabs[6] + 1
    en = tabs[7]
    if pl.n_islot > 0 and not (en - st == 1 and s[st] == b'.'):
        k = st
        while k < en:
            j = find_char(s, k, en, b';')
            ke = find_char(s, k, j, b'=')
            for slot in range(pl.n_islot):
                if pl.islot_len[slot] == ke - k and memcmp(pl.islot_name[slot], s + k, ke - k) == 0:
                    if ke < j:
                        vw.info[slot].p = <const uint8_t *> (s + ke + 1)
                        vw.info[slot].n = j - ke - 1
                        vw.info[slot].type = BCF_BT_CHAR
                    break
            k = j + 1
    # FORMAT and the (at most two) sample columns the plan reads
    for i in range(pl.n_fslot):
        vw.fmt[i][0].p = NULL
        vw.fmt[i][1].p = NULL
    if not pl.need_fmt or ntab < 9:
        return 0
    st = tabs[7] + 1
    en = tabs[8]
    if not (fc.n == en - st and memcmp(fc.text, s + st, en - st) == 0):
        if grow(<void **> &fc.text, en - st + 1) < 0:
            return -2
        memcpy(fc.text, s + st, en - st)
        fc.n = en - st
        fc.nkeys = 0
        k = st
        while k <= en and fc.nkeys < MAX_FMT_KEYS:
            j = find_char(s, k, en, b':')
            fc.slot[fc.nkeys] = -1
            for slot in range(pl.n_fslot):
                if pl.fslot_len[slot] == j - k and memcmp(pl.fslot_name[slot], s + k, j - k) == 0:
                    fc.slot[fc.nkeys] = slot
                    break
            fc.nkeys += 1
            k = j + 1
    # walk the sample columns up to the last one needed
    col = 0
    k = en + 1
    while k <= len:
        j = find_char(s, k, len, b'\t')
        for s_i in range(2):
            if pl.sample_index[s_i] == col:
                fi = 0
                st = k
                while st <= j and fi < fc.nkeys:
                    ke = find_char(s, st, j, b':')
                    slot = fc.slot[fi]
                    if slot >= 0:
                        vw.fmt[slot][s_i].p = <const uint8_t *> (s + st)
                        vw.fmt[slot][s_i].n = ke - st
                        vw.fmt[slot][s_i].type = BCF_BT_CHAR
                    fi += 1
                    st = ke + 1
        col += 1
        if col > pl.sample_index[0] and col > pl.sample_index[1]:
            break
        k = j + 1
    return 0


cdef int extra_contig(CtgCache *cc) noexcept nogil:
    """Index for a contig missing from the header: n_header + position among extras."""
    cdef int i
    cdef char *copy
    for i in range(cc.n_extra):
        if strcmp(cc.extra[i], cc.name) == 0:
            return cc.n_hdr + i
    if grow(<void **> &cc.extra, (cc.n_extra + 1) * sizeof(char *)) < 0:
        return -2
    copy = <char *> malloc(cc.n + 1)
    if copy == NULL:
        return -2
    memcpy(copy, cc.name, cc.n + 1)
    cc.extra[cc.n_extra] = copy
    cc.n_extra += 1
    return cc.n_hdr + cc.n_extra - 1


cdef int process(Plan *pl, View *vw, Cols *c, Counts *cnt, AltInfo **altbuf, int *altcap,
                 int64_t ordinal) noexcept nogil:
    """Append the rows of one record; returns 0, or -1 on allocation failure."""
    cdef int n_alts = vw.n_allele - 1
    cdef int a, ai, i, ref_n, alt_n, code
    cdef const char *ref
    cdef const char *alt
    cdef int8_t fcode, vt
    cdef bint trim, symb
    cdef Val *x
    cdef double v, den, talt
    cdef int64_t row
    cdef uint64_t h
    cdef AltInfo *alts
    if n_alts < 1 or (n_alts == 1 and vw.al_n[1] == 1 and vw.al[1][0] == b'.'):
        cnt.no_alt += 1
        return 0
    if cols_reserve(c, c.n + n_alts) < 0:
        return -1
    if n_alts > altcap[0]:
        if grow(<void **> altbuf, n_alts * sizeof(AltInfo)) < 0:
            return -1
        altcap[0] = n_alts
    alts = altbuf[0]
    fcode = vw.fcode
    ref = vw.al[0]
    ref_n = vw.al_n[0]
    # VEP trims the shared first base when every allele starts with the same base
    trim = ref_n > 0
    for a in range(n_alts):
        alt = vw.al[a + 1]
        alts[a].s = alt
        alts[a].n = vw.al_n[a + 1]
        alts[a].best = -1
        alts[a].canon = -2
        alts[a].first = -2
        alts[a].popaf = NAN
        if alts[a].n == 0 or up(alt[0]) != up(ref[0]) or is_symbolic(alt, alts[a].n):
            trim = False
    for a in range(n_alts):
        if trim:
            if alts[a].n > 1:
                alts[a].vep = alts[a].s + 1
                alts[a].vep_n = alts[a].n - 1
            else:
                alts[a].vep = b"-"
                alts[a].vep_n = 1
        else:
            alts[a].vep = NULL
            alts[a].vep_n = 0
    # INFO population AF
    for i in range(pl.n_popaf):
        x = &vw.info[pl.popaf_id[i]]
        if x.p == NULL:
            continue
        for a in range(n_alts):
            v = vec_pick(x.p, x.type, x.n, pl.popaf_mode[i], a + 1, n_alts)
            if not isnan(v) and (isnan(alts[a].popaf) or v > alts[a].popaf):
                alts[a].popaf = v
    # consequences
    if pl.csq_id >= 0:
        x = &vw.info[pl.csq_id]
        if x.p != NULL and x.type == BCF_BT_CHAR and x.n > 0:
            cnt.annotated_records += 1
            scan_csq(pl, <const char *> x.p, x.n, alts, n_alts, cnt)
    for a in range(n_alts):
        ai = a + 1
        row = c.n
        alt = alts[a].s
        alt_n = alts[a].n
        symb = is_symbolic(alt, alt_n)
        if symb:
            vt = 4
            cnt.symbolic += 1
        elif ref_n == 1 and alt_n == 1:
            vt = 0
        elif ref_n == alt_n:
            vt = 1
        elif up(ref[0]) != up(alt[0]):
            vt = 4
        elif alt_n > ref_n:
            vt = 2
        else:
            vt = 3
        c.record[row] = ordinal
        c.contig[row] = vw.rid
        c.pos[row] = vw.pos
        c.ref_len[row] = ref_n
        c.alt_len[row] = alt_n
        c.vtype[row] = vt
        c.allele_index[row] = <int16_t> ai
        c.n_alts[row] = <int16_t> n_alts
        c.filter[row] = fcode
        talt = eval_target(pl, T_ALT, vw, ai, n_alts)
        c.t_alt[row] = to_i32(talt)
        c.t_depth[row] = to_i32(eval_target(pl, T_DEPTH, vw, ai, n_alts))
        v = NAN
        for i in range(N_ALTERN):
            if pl.spec[T_VAF][i].kind == K_NONE:
                break
            if pl.spec[T_VAF][i].kind == K_RATIO:
                den = eval_target(pl, T_VAF_DEN, vw, ai, n_alts)
                if not isnan(talt) and not isnan(den) and den > 0:
                    v = talt / den
            else:
                v = eval_spec(&pl.spec[T_VAF][i], vw, ai, n_alts)
            if not isnan(v):
                break
        c.t_vaf[row] = <float> v
        c.n_depth[row] = to_i32(eval_target(pl, N_DEPTH, vw, ai, n_alts))
        c.n_alt[row] = to_i32(eval_target(pl, N_ALT, vw, ai, n_alts))
        c.pop_af[row] = <float> alts[a].popaf
        if pl.pick_canonical:
            if alts[a].canon != -2:
                code = alts[a].canon
            elif pl.csq_kind == 2 and alts[a].first != -2:
                code = alts[a].first
            else:
                code = alts[a].best
                if alts[a].best >= 0:
                    cnt.canonical_fallback += 1
        else:
            code = alts[a].best
        c.csq[row] = <int8_t> code
        h = <uint64_t> 0xCBF29CE484222325
        h = fnv_upper(h, ref, ref_n)
        h = (h ^ <uint8_t> b'>') * <uint64_t> 0x100000001B3
        h = fnv_upper(h, alt, alt_n)
        c.akey[row] = h
        if pl.keep_text:
            if text_reserve(c, c.text_n + ref_n + alt_n + 1) < 0:
                return -1
            c.text_off[row] = c.text_n
            memcpy(c.text + c.text_n, ref, ref_n)
            c.text[c.text_n + ref_n] = b'\t'
            memcpy(c.text + c.text_n + ref_n + 1, alt, alt_n)
            c.text_n += ref_n + alt_n + 1
        c.n += 1
    cnt.rows += n_alts
    return 0


cdef object take(void *ptr, int64_t n, int itemsize, str fmt, object dtype):
    """Wrap a malloc'd buffer as a numpy array that frees it (shrunk to n items first)."""
    cdef cvarray arr
    cdef void *q
    if n == 0:
        free(ptr)
        return np.empty(0, dtype=dtype)
    q = realloc(ptr, n * itemsize)
    if q == NULL:
        q = ptr
    arr = cvarray(shape=(n,), itemsize=itemsize, format=fmt, allocate_buffer=False)
    arr.data = <char *> q
    arr.callback_free_data = free
    return np.asarray(arr).view(dtype)


cdef bytes hdr_text(bcf_hdr_t *hdr):
    cdef kstring_t ks
    ks.l = 0
    ks.m = 0
    ks.s = NULL
    if bcf_hdr_format(hdr, 0, &ks) < 0:
        free(ks.s)
        return b""
    out = ks.s[:ks.l] if ks.s != NULL else b""
    free(ks.s)
    return out


cdef object header_dict(bcf_hdr_t *hdr, const htsFormat *fmt):
    cdef int i, t
    cdef const bcf_idinfo_t *val
    contigs = []
    for i in range(hdr.n[BCF_DT_CTG]):
        val = hdr.id[BCF_DT_CTG][i].val
        contigs.append((hdr.id[BCF_DT_CTG][i].key.decode(), int(val.info[0]) if val != NULL else 0))
    samples = [hdr.samples[i].decode() for i in range(hdr.n[BCF_DT_SAMPLE])]
    info = {}
    fmts = {}
    for i in range(hdr.n[BCF_DT_ID]):
        val = hdr.id[BCF_DT_ID][i].val
        if val == NULL or hdr.id[BCF_DT_ID][i].key == NULL:
            continue
        key = hdr.id[BCF_DT_ID][i].key.decode()
        for t, dest in ((BCF_HL_INFO, info), (BCF_HL_FMT, fmts)):
            if val.hrec[t] != NULL:
                # (Number kind BCF_VL_*, fixed number, BCF_HT_* type)
                dest[key] = (int((val.info[t] >> 8) & 0xf), int(val.info[t] >> 12), int((val.info[t] >> 4) & 0xf))
    kind = "bcf" if fmt.format == bcf else "vcf"
    comp = {no_compression: "none", gzip: "gzip", bgzf: "bgzf"}.get(fmt.compression, "other")
    return {"text": hdr_text(hdr).decode("utf-8", "replace"), "contigs": contigs, "samples": samples,
            "info": info, "format": fmts, "kind": kind, "compression": comp}


cdef htsFile *open_checked(bytes path) except NULL:
    cdef htsFile *fp = hts_open(path, b"r")
    cdef const htsFormat *f
    if fp == NULL:
        raise VcfScanError("open", "cannot open file (not readable, or not a recognised format)")
    cdef char *desc
    f = hts_get_format(fp)
    if f.category != variant_data or (f.format != vcf and f.format != bcf):
        desc = hts_format_description(f)
        what = desc.decode("utf-8", "replace") if desc != NULL else "unknown"
        free(desc)
        hts_close(fp)
        raise VcfScanError("format", what)
    return fp


def read_header(bytes path):
    """Header summary: dict(text, contigs [(name, length)], samples, info, format, kind, compression)."""
    cdef htsFile *fp
    cdef bcf_hdr_t *hdr
    cdef htsLogLevel lvl = hts_get_log_level()
    hts_set_log_level(HTS_LOG_OFF)
    try:
        fp = open_checked(path)
        hdr = bcf_hdr_read(fp)
        if hdr == NULL:
            hts_close(fp)
            raise VcfScanError("header", "cannot parse the VCF/BCF header")
        try:
            return header_dict(hdr, hts_get_format(fp))
        finally:
            bcf_hdr_destroy(hdr)
            hts_close(fp)
    finally:
        hts_set_log_level(lvl)


cdef int add_slot(bcf_hdr_t *hdr, Plan *pl, list keep, dict slots, str name, bint is_fmt) except -2:
    """Slot number of an INFO (or FORMAT) tag for this plan, created on first use."""
    key = ("F:" if is_fmt else "I:") + name
    if key in slots:
        return slots[key]
    cdef int n = pl.n_fslot if is_fmt else pl.n_islot
    if n >= MAX_SLOTS:
        raise ValueError("too many INFO/FORMAT tags in the read plan")
    cdef bytes b = name.encode()
    keep.append(b)
    cdef int hid = bcf_hdr_id2int(hdr, BCF_DT_ID, b)
    if is_fmt:
        pl.fslot_hid[n] = hid
        pl.fslot_name[n] = <const char *> b
        pl.fslot_len[n] = len(b)
        pl.n_fslot += 1
    else:
        pl.islot_hid[n] = hid
        pl.islot_name[n] = <const char *> b
        pl.islot_len[n] = len(b)
        pl.n_islot += 1
    slots[key] = n
    return n


cdef void set_spec(bcf_hdr_t *hdr, Plan *pl, list keep, dict slots, Spec *sp, tuple t) except *:
    """t = (kind, mode, sample slot, tag names...): tag names become INFO/FORMAT slots."""
    cdef int k
    sp.kind = t[0]
    sp.mode = t[1]
    sp.sample = t[2]
    for k in range(4):
        sp.ids[k] = -1
    for k, name in enumerate(t[3:7]):
        sp.ids[k] = add_slot(hdr, pl, keep, slots, name, sp.kind != K_INFO)


cdef class Scanner:
    """Persistent scanner: an open htsFile, its header, the plan and the column buffers.

    ``next_chunk(max_rows)`` returns the next rows (at most ``max_rows``, never splitting the
    ALT rows of one record: a record that does not fit starts the next chunk; a single record
    with more ALTs than ``max_rows`` is a chunk of its own), or None at the end of the file.
    ``record`` ordinals are global (0-based record number in the file); contig indices are
    stable across chunks (``contigs`` lists every native name seen so far, by index).
    ``plan`` keys: ``sample_index`` [original column of sample slot 0, of slot 1 (-1)],
    ``targets`` {target index: [spec tuples]}, ``need_fmt``, ``popaf`` [(tag, mode)], ``csq``
    None or dict(tag, kind, conseq, allele, allele_num, canonical, sub [indices]),
    ``pick_canonical``, ``terms`` [(bytes, code)] sorted by bytes.  Spec tuples are
    ``(kind, mode, sample slot, tag, ...)``.  Text VCF lines are parsed here (only the needed
    fields); BCF records go through htslib's decoder.  ``threads`` > 1 adds ``threads - 1``
    BGZF decompression threads (decompression then overlaps parsing).
    """
    cdef htsFile *fp
    cdef bcf_hdr_t *hdr
    cdef bcf1_t *rec
    cdef Plan pl
    cdef Cols c
    cdef Counts cnt
    cdef View vw
    cdef CtgCache cc
    cdef FmtCache fc
    cdef kstring_t line
    cdef bgzl_t *fast              # libdeflate line reader for bgzipped text VCF (NULL: htslib reads)
    cdef AltInfo *altbuf
    cdef int altcap, is_text, pending, done
    cdef bint eof_missing          # BGZF input without its end-of-file block: truncated
    cdef int64_t ordinal, last_pos
    cdef int32_t last_rid
    cdef bint keep_alleles
    cdef list keep
    cdef list term_bytes
    cdef list final_contigs
    cdef dict slots

    def __cinit__(self):
        self.fp = NULL
        self.hdr = NULL
        self.rec = NULL
        self.altbuf = NULL
        self.altcap = 0
        memset_plan(&self.pl)
        memset_cols(&self.c)
        memset_counts(&self.cnt)
        self.vw.al = NULL
        self.vw.al_n = NULL
        self.vw.al_cap = 0
        self.cc.name = NULL
        self.cc.n = -1
        self.cc.rid = -1
        self.cc.n_extra = 0
        self.cc.extra = NULL
        self.cc.undefined = 0
        self.cc.n_hdr = 0
        self.fc.text = NULL
        self.fc.n = -1
        self.fc.nkeys = 0
        self.line.l = 0
        self.line.m = 0
        self.line.s = NULL
        self.fast = NULL
        self.pending = 0
        self.done = 0
        self.eof_missing = False
        self.ordinal = 0
        self.last_pos = -1
        self.last_rid = -1
        self.keep = []
        self.term_bytes = []
        self.final_contigs = None
        self.slots = {}

    def __init__(self, bytes path, dict plan, int threads=1, bint keep_alleles=True):
        cdef int t, j, k
        cdef const htsFormat *fmt
        cdef bint use_fast
        cdef Plan *pl = &self.pl
        cdef htsLogLevel lvl = hts_get_log_level()
        self.keep_alleles = keep_alleles
        hts_set_log_level(HTS_LOG_OFF)
        try:
            self.fp = open_checked(path)
            fmt = hts_get_format(self.fp)
            # a BGZF file cut at a block boundary reads as a shorter valid file: without the
            # end-of-file marker, reaching the end is a read error (htslib only warns)
            self.eof_missing = fmt.compression == bgzf and hts_check_EOF(self.fp) == 0
            # bgzipped text VCF: after the header, lines come from bgzf_lines.h (libdeflate, with
            # its own inflate thread when threads > 1) instead of htslib's zlib-based reader
            use_fast = fmt.format == vcf and fmt.compression == bgzf and bgzl_available() == 1
            if threads > 1 and not use_fast:
                hts_set_threads(self.fp, threads - 1)
            self.hdr = bcf_hdr_read(self.fp)
            if self.hdr == NULL:
                raise VcfScanError("header", "cannot parse the VCF/BCF header")
            self.is_text = hts_get_format(self.fp).format == vcf
            if use_fast:
                self.fast = bgzl_open(path, tmbcalc_vcf_voffset(self.fp), 1 if threads > 1 else 0)
                if self.fast == NULL and threads > 1:
                    hts_set_threads(self.fp, threads - 1)
            self.cc.n_hdr = self.hdr.n[BCF_DT_CTG]
            sidx = list(plan.get("sample_index", [-1, -1])) + [-1, -1]
            for k in range(2):
                pl.sample_index[k] = sidx[k] if sidx[k] is not None else -1
            for t, specs in plan["targets"].items():
                for j, sp in enumerate(specs[:N_ALTERN]):
                    set_spec(self.hdr, pl, self.keep, self.slots, &pl.spec[t][j], tuple(sp))
            pl.need_fmt = 1 if plan.get("need_fmt") else 0
            pl.pass_id = bcf_hdr_id2int(self.hdr, BCF_DT_ID, b"PASS")
            popaf = plan.get("popaf", [])[:MAX_POPAF]
            pl.n_popaf = len(popaf)
            for k, (name, mode) in enumerate(popaf):
                pl.popaf_id[k] = add_slot(self.hdr, pl, self.keep, self.slots, name, False)
                pl.popaf_mode[k] = mode
            csq = plan.get("csq")
            pl.csq_id = -1
            if csq:
                pl.csq_id = add_slot(self.hdr, pl, self.keep, self.slots, csq["tag"], False)
                pl.csq_kind = csq["kind"]
                pl.f_conseq = csq["conseq"]
                pl.f_allele = csq["allele"]
                pl.f_allele_num = csq["allele_num"]
                pl.f_canonical = csq["canonical"]
                sub = [x for x in csq["sub"] if 0 <= x < MAX_FIELDS][:MAX_CSQ_SUB]
                pl.n_sub = len(sub)
                for k, v in enumerate(sub):
                    pl.f_sub[k] = v
                for fname in ("conseq", "allele", "allele_num", "canonical"):
                    if csq[fname] >= MAX_FIELDS:
                        raise ValueError(f"{csq['tag']} sub-field {fname} beyond index {MAX_FIELDS}")
                pl.f_max = max([0] + [csq[f] for f in ("conseq", "allele", "allele_num", "canonical")] + sub)
            pl.pick_canonical = 1 if plan.get("pick_canonical") else 0
            pl.keep_text = 1 if keep_alleles else 0
            self.term_bytes = [bytes(x[0]) for x in plan.get("terms", [])]
            pl.n_terms = len(self.term_bytes)
            pl.terms = <char **> malloc(max(1, pl.n_terms) * sizeof(char *))
            pl.term_len = <int *> malloc(max(1, pl.n_terms) * sizeof(int))
            pl.term_code = <int8_t *> malloc(max(1, pl.n_terms))
            if pl.n_terms * 4 > TERM_TAB:
                raise ValueError("consequence vocabulary too large for the term table")
            for k in range(TERM_TAB):
                pl.term_tab[k] = -1
            for k, (term, code) in enumerate(plan.get("terms", [])):
                pl.terms[k] = <char *> self.term_bytes[k]
                pl.term_len[k] = len(self.term_bytes[k])
                pl.term_code[k] = code
                j = <int> (term_hash(pl.terms[k], pl.term_len[k]) & (TERM_TAB - 1))
                while pl.term_tab[j] >= 0:
                    j = (j + 1) & (TERM_TAB - 1)
                pl.term_tab[j] = k
            self.rec = bcf_init()
            if not pl.need_fmt:
                self.rec.max_unpack = BCF_UN_INFO
        except BaseException:
            self.close()
            raise
        finally:
            hts_set_log_level(lvl)

    def __dealloc__(self):
        self.close()

    def close(self):
        """Release the file, header and buffers (idempotent)."""
        cdef int k
        if self.hdr != NULL and self.final_contigs is None:
            self.final_contigs = self.contigs
        cols_free(&self.c)
        memset_cols(&self.c)
        free(self.altbuf)
        self.altbuf = NULL
        self.altcap = 0
        free(self.vw.al)
        free(self.vw.al_n)
        self.vw.al = NULL
        self.vw.al_n = NULL
        self.vw.al_cap = 0
        free(self.cc.name)
        self.cc.name = NULL
        for k in range(self.cc.n_extra):
            free(self.cc.extra[k])
        free(self.cc.extra)
        self.cc.extra = NULL
        self.cc.n_extra = 0
        free(self.fc.text)
        self.fc.text = NULL
        free(self.line.s)
        self.line.s = NULL
        self.line.l = self.line.m = 0
        free(self.pl.terms)
        free(self.pl.term_len)
        free(self.pl.term_code)
        self.pl.terms = NULL
        self.pl.term_len = NULL
        self.pl.term_code = NULL
        if self.rec != NULL:
            bcf_destroy(self.rec)
            self.rec = NULL
        if self.hdr != NULL:
            bcf_hdr_destroy(self.hdr)
            self.hdr = NULL
        if self.fast != NULL:
            bgzl_close(self.fast)
            self.fast = NULL
        if self.fp != NULL:
            hts_close(self.fp)
            self.fp = NULL
        self.done = 1

    @property
    def contigs(self):
        """Native contig names by index (header contigs, then undefined ones met so far)."""
        if self.hdr == NULL:
            return list(self.final_contigs or [])
        names = [self.hdr.id[BCF_DT_CTG][k].key.decode() for k in range(self.hdr.n[BCF_DT_CTG])]
        if self.is_text:
            names += [self.cc.extra[k].decode() for k in range(self.cc.n_extra)]
        return names

    @property
    def counts(self):
        """Cumulative counters over every record read so far."""
        return {"records": self.ordinal, "rows": self.cnt.rows, "symbolic": self.cnt.symbolic,
                "no_alt": self.cnt.no_alt, "csq_unmatched": self.cnt.csq_unmatched,
                "canonical_fallback": self.cnt.canonical_fallback,
                "annotated_records": self.cnt.annotated_records,
                "undefined_contig": self.cnt.undefined_contig, "undefined_tag": self.cnt.undefined_tag}

    def next_chunk(self, int64_t max_rows=200000):
        """dict(columns, allele_text, contigs, counts) of the next <= max_rows rows, or None at EOF."""
        cdef int ret = 0, perr = 0, stop = 0
        cdef int64_t n
        cdef char *fline = NULL
        cdef size_t flen = 0
        cdef Plan *pl = &self.pl
        cdef Cols *c = &self.c
        cdef htsLogLevel lvl
        if self.done:
            return None
        if max_rows < 1:
            max_rows = 1
        lvl = hts_get_log_level()
        hts_set_log_level(HTS_LOG_OFF)
        try:
            with nogil:
                if self.pending:
                    self.pending = 0
                    if process(pl, &self.vw, c, &self.cnt, &self.altbuf, &self.altcap, self.ordinal) < 0:
                        perr = 1
                    else:
                        self.ordinal += 1
                while not perr:
                    if (self.ordinal & 0x3FFFF) == 0 and self.ordinal > 0:
                        with gil:
                            PyErr_CheckSignals()     # let Ctrl-C interrupt a long scan
                    if self.fast != NULL:
                        ret = bgzl_getline(self.fast, &fline, &flen)   # -1 EOF, -2 corrupt, -3 memory
                        if ret == -3:
                            perr = 1
                            break
                        if ret < 0:
                            break
                        if flen > 0x7FFFFFFF:
                            ret = -3
                            break
                        ret = parse_line(pl, fline, <int> flen, &self.vw, self.hdr, &self.cc, &self.fc)
                    elif self.is_text:
                        ret = hts_getline(self.fp, 2, &self.line)     # 2 = KS_SEP_LINE
                        if ret < 0:
                            break
                        ret = parse_line(pl, self.line.s, <int> self.line.l, &self.vw, self.hdr,
                                         &self.cc, &self.fc)
                    if self.is_text:
                        if ret == 1:
                            continue
                        if ret == -2:
                            perr = 1
                            break
                        if ret == -1:
                            ret = -3
                            break
                        if self.vw.rid >= self.cc.n_hdr:
                            self.cnt.undefined_contig += 1
                    else:
                        ret = bcf_read(self.fp, self.hdr, self.rec)
                        if ret < 0:
                            break
                        if self.rec.errcode != 0:
                            if self.rec.errcode & (1 | 2):   # undefined contig / tag: htslib added it
                                if self.rec.errcode & 1:
                                    self.cnt.undefined_contig += 1
                                if self.rec.errcode & 2:
                                    self.cnt.undefined_tag += 1
                                self.rec.errcode = 0
                            else:
                                ret = -3
                                break
                        if fill_view_bcf(pl, self.rec, &self.vw) < 0:
                            perr = 1
                            break
                    self.last_rid = self.vw.rid
                    self.last_pos = self.vw.pos
                    if c.n > 0 and c.n + self.vw.n_allele - 1 > max_rows:
                        self.pending = 1          # does not fit: first record of the next chunk
                        stop = 1
                        break
                    if process(pl, &self.vw, c, &self.cnt, &self.altbuf, &self.altcap, self.ordinal) < 0:
                        perr = 1
                        break
                    self.ordinal += 1
                    if c.n >= max_rows:
                        stop = 1
                        break
            self.cnt.records = self.ordinal
            if ret == -1 and not stop and self.eof_missing:
                ret = -2                  # clean end of data, but the file lost its last block(s)
            if perr:
                err = VcfScanError("memory", "out of memory while reading records", self.ordinal)
                self.close()
                raise err
            if ret < -1 and not stop:
                chrom = None
                if self.last_rid >= 0 and self.last_rid < self.hdr.n[BCF_DT_CTG]:
                    chrom = self.hdr.id[BCF_DT_CTG][self.last_rid].key.decode()
                elif self.last_rid >= self.cc.n_hdr and self.last_rid - self.cc.n_hdr < self.cc.n_extra:
                    chrom = self.cc.extra[self.last_rid - self.cc.n_hdr].decode()
                err = VcfScanError("record" if ret == -3 else "read", "read error", self.ordinal, chrom,
                                   self.last_pos)
                self.close()
                raise err
            n = c.n
            if n == 0 and not stop:
                self.close()
                return None
            contig_names = self.contigs
            if c.n > 0:
                c.text_off[c.n] = c.text_n
            cols = {
                "record": take(c.record, n, 8, "q", np.int64),
                "contig": take(c.contig, n, 4, "i", np.int32),
                "pos": take(c.pos, n, 8, "q", np.int64),
                "ref_len": take(c.ref_len, n, 4, "i", np.int32),
                "alt_len": take(c.alt_len, n, 4, "i", np.int32),
                "vtype": take(c.vtype, n, 1, "b", np.int8),
                "allele_index": take(c.allele_index, n, 2, "h", np.int16),
                "n_alts": take(c.n_alts, n, 2, "h", np.int16),
                "filter": take(c.filter, n, 1, "b", np.int8),
                "t_depth": take(c.t_depth, n, 4, "i", np.int32),
                "t_alt": take(c.t_alt, n, 4, "i", np.int32),
                "t_vaf": take(c.t_vaf, n, 4, "f", np.float32),
                "n_depth": take(c.n_depth, n, 4, "i", np.int32),
                "n_alt": take(c.n_alt, n, 4, "i", np.int32),
                "pop_af": take(c.pop_af, n, 4, "f", np.float32),
                "csq": take(c.csq, n, 1, "b", np.int8),
                "allele_key": take(c.akey, n, 8, "Q", np.uint64),
            }
            c.record = NULL; c.contig = NULL; c.pos = NULL; c.ref_len = NULL; c.alt_len = NULL
            c.vtype = NULL; c.allele_index = NULL; c.n_alts = NULL; c.filter = NULL; c.t_depth = NULL
            c.t_alt = NULL; c.t_vaf = NULL; c.n_depth = NULL; c.n_alt = NULL; c.pop_af = NULL
            c.csq = NULL; c.akey = NULL
            text = None
            if self.keep_alleles:
                offs = take(c.text_off, n + 1, 8, "q", np.int64)
                buf = take(c.text, c.text_n, 1, "B", np.uint8)
                c.text_off = NULL
                c.text = NULL
                text = (buf, offs)
            cols_free(c)                 # whatever was not handed over (text buffers when not kept)
            memset_cols(c)
            return {"columns": cols, "allele_text": text, "contigs": contig_names, "counts": self.counts}
        finally:
            hts_set_log_level(lvl)


cdef void memset_plan(Plan *pl) noexcept:
    cdef int t, j, k
    for t in range(N_TARGETS):
        for j in range(N_ALTERN):
            pl.spec[t][j].kind = K_NONE
            pl.spec[t][j].mode = 0
            pl.spec[t][j].sample = -1
            for k in range(4):
                pl.spec[t][j].ids[k] = -1
    pl.need_fmt = 0
    pl.pass_id = 0
    pl.n_popaf = 0
    pl.n_islot = 0
    pl.n_fslot = 0
    pl.sample_index[0] = -1
    pl.sample_index[1] = -1
    pl.csq_id = -1
    pl.csq_kind = 0
    pl.f_conseq = -1
    pl.f_allele = -1
    pl.f_allele_num = -1
    pl.f_canonical = -1
    pl.n_sub = 0
    pl.f_max = 0
    pl.pick_canonical = 0
    pl.keep_text = 1
    pl.n_terms = 0
    pl.terms = NULL
    pl.term_len = NULL
    pl.term_code = NULL


cdef void memset_cols(Cols *c) noexcept:
    c.record = NULL; c.contig = NULL; c.pos = NULL; c.ref_len = NULL; c.alt_len = NULL
    c.vtype = NULL; c.allele_index = NULL; c.n_alts = NULL; c.filter = NULL; c.t_depth = NULL
    c.t_alt = NULL; c.t_vaf = NULL; c.n_depth = NULL; c.n_alt = NULL; c.pop_af = NULL
    c.csq = NULL; c.akey = NULL; c.text_off = NULL; c.text = NULL
    c.n = 0; c.cap = 0; c.text_n = 0; c.text_cap = 0


cdef void memset_counts(Counts *n) noexcept:
    n.records = 0; n.rows = 0; n.symbolic = 0; n.no_alt = 0; n.csq_unmatched = 0
    n.canonical_fallback = 0; n.annotated_records = 0; n.undefined_contig = 0; n.undefined_tag = 0


# constants for the Python planner
KINDS = {"none": K_NONE, "fmt": K_FMT, "info": K_INFO, "fmt_sum2": K_FMT_SUM2,
         "strelka_alt": K_STRELKA_ALT, "strelka_depth": K_STRELKA_DEPTH,
         "strelka_refalt": K_STRELKA_REFALT, "ratio": K_RATIO}
MODES = {"first": M_FIRST, "R": M_R, "A": M_A, "sum": M_SUM, "auto": M_AUTO, "max": M_MAX}
TARGETS = {"t_depth": T_DEPTH, "t_alt": T_ALT, "vaf_den": T_VAF_DEN, "t_vaf": T_VAF,
           "n_depth": N_DEPTH, "n_alt": N_ALT}
