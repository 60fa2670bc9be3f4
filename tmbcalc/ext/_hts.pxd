# cython: language_level=3
"""htslib declarations shared by the BAM kernels (_depth, _msiprofile).

Declared from htslib's own headers (shipped with pysam) instead of cimported from pysam's .pxd
files: a cimport from ``pysam.libchtslib`` makes a module import pysam at load time, and these
kernels load without it (tmbcalc.ext maps pysam's ``libchtslib`` with ctypes).  Extern
declarations only, so cimporting this file adds no import at run time.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from "htslib/kstring.h":
    ctypedef struct kstring_t:
        size_t l
        size_t m
        char *s

cdef extern from "htslib/hts_log.h":
    cdef enum htsLogLevel:
        HTS_LOG_OFF
    void hts_set_log_level(htsLogLevel level)
    htsLogLevel hts_get_log_level()

cdef extern from "htslib/hts.h":
    ctypedef int64_t hts_pos_t
    ctypedef struct hts_pair64_max_t:
        uint64_t u
        uint64_t v
    ctypedef struct hts_itr_t:
        int n_off
        hts_pair64_max_t *off
    ctypedef struct hts_idx_t:
        pass
    ctypedef struct htsFile:
        uint32_t is_cram
        uint32_t is_bgzf
    cdef enum htsExactFormat:
        bam
        cram
    ctypedef struct htsFormat:
        htsExactFormat format
    ctypedef enum hts_fmt_option:
        CRAM_OPT_REQUIRED_FIELDS
        CRAM_OPT_DECODE_MD
    ctypedef struct hts_pair_pos_t:
        hts_pos_t beg
        hts_pos_t end
    ctypedef struct hts_reglist_t:
        const char *reg
        hts_pair_pos_t *intervals
        int tid
        uint32_t count
        hts_pos_t min_beg
        hts_pos_t max_end
    int HTS_IDX_SILENT_FAIL
    htsFile *hts_open(const char *fn, const char *mode) nogil
    int hts_close(htsFile *fp) nogil
    int hts_set_threads(htsFile *fp, int n)
    int hts_set_fai_filename(htsFile *fp, const char *fn_aux)
    int hts_check_EOF(htsFile *fp)
    int hts_set_opt(htsFile *fp, hts_fmt_option opt, ...)
    const htsFormat *hts_get_format(htsFile *fp)
    void hts_idx_destroy(hts_idx_t *idx)
    void hts_itr_destroy(hts_itr_t *iter)

cdef extern from "htslib/sam.h":
    ctypedef struct sam_hdr_t:
        pass
    ctypedef struct bam1_core_t:
        hts_pos_t pos
        int32_t tid
        uint16_t bin
        uint8_t qual
        uint8_t l_extranul
        uint16_t flag
        uint16_t l_qname
        uint32_t n_cigar
        int32_t l_qseq
        int32_t mtid
        hts_pos_t mpos
        hts_pos_t isize
    ctypedef struct bam1_t:
        bam1_core_t core
        uint8_t *data
        int l_data
        uint32_t m_data
    int BAM_FPAIRED, BAM_FMUNMAP, BAM_FREAD2, BAM_FUNMAP
    int BAM_CMATCH, BAM_CINS, BAM_CDEL, BAM_CREF_SKIP, BAM_CSOFT_CLIP, BAM_CEQUAL, BAM_CDIFF
    int SAM_QNAME, SAM_FLAG, SAM_RNAME, SAM_POS, SAM_MAPQ, SAM_CIGAR, SAM_RNEXT, SAM_PNEXT
    sam_hdr_t *sam_hdr_read(htsFile *fp)
    void sam_hdr_destroy(sam_hdr_t *h)
    int sam_hdr_nref(const sam_hdr_t *h)
    const char *sam_hdr_tid2name(const sam_hdr_t *h, int tid)
    hts_pos_t sam_hdr_tid2len(const sam_hdr_t *h, int tid)
    int sam_hdr_count_lines(sam_hdr_t *h, const char *type)
    int sam_hdr_find_tag_hd(sam_hdr_t *h, const char *key, kstring_t *ks)
    int sam_hdr_find_tag_pos(sam_hdr_t *h, const char *type, int pos, const char *key, kstring_t *ks)
    bam1_t *bam_init1()
    void bam_destroy1(bam1_t *b)
    char *bam_get_qname(bam1_t *b) nogil
    uint32_t *bam_get_cigar(bam1_t *b) nogil
    uint8_t *bam_get_seq(bam1_t *b) nogil
    int bam_seqi(uint8_t *s, int64_t i) nogil
    hts_pos_t bam_endpos(const bam1_t *b) nogil
    uint8_t *bam_aux_get(const bam1_t *b, const char *tag) nogil
    hts_idx_t *sam_index_load(htsFile *fp, const char *fn)
    hts_idx_t *sam_index_load3(htsFile *fp, const char *fn, const char *fnidx, int flags)
    hts_itr_t *sam_itr_queryi(const hts_idx_t *idx, int tid, hts_pos_t beg, hts_pos_t end)
    hts_itr_t *sam_itr_regarray(const hts_idx_t *idx, sam_hdr_t *hdr, char **regarray, unsigned int regcount)
    hts_itr_t *sam_itr_regions(const hts_idx_t *idx, sam_hdr_t *hdr, hts_reglist_t *reglist,
                               unsigned int regcount)
    int sam_itr_next(htsFile *htsfp, hts_itr_t *itr, bam1_t *r) nogil
    int sam_itr_multi_next(htsFile *htsfp, hts_itr_t *itr, bam1_t *r) nogil
