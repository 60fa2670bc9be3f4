/* Sequential line reader over a BGZF file, inflating with libdeflate.
 *
 * pysam's bundled htslib inflates BGZF with zlib; libdeflate inflates the same blocks 2-3x faster.
 * libdeflate is not linked: it is loaded at run time with dlopen (Debian/Ubuntu package
 * libdeflate0), so it stays optional and callers fall back to htslib when bgzl_available() is 0.
 *
 * A reader starts at a BGZF virtual offset (the position htslib reports after reading the header),
 * reads compressed data in slabs of whole blocks, inflates them (checking each block's CRC32 and
 * size, as htslib does) into one of BGZL_SLOTS slab buffers, and hands out lines in file order.
 * With `threaded`, one background thread inflates ahead of the consumer, so decompression overlaps
 * parsing; otherwise slabs are inflated on demand.  No locking is needed by the caller: a reader is
 * used from one consumer thread.
 *
 * Lines are returned without the trailing '\n' (and '\r'), NUL-terminated, pointing into the slab
 * (or into a carry buffer for a line that crosses slabs); valid until the next call.
 */
#ifndef TMBCALC_BGZF_LINES_H
#define TMBCALC_BGZF_LINES_H

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void *(*bgzl_alloc_fn)(void);
typedef int (*bgzl_decompress_fn)(void *, const void *, size_t, void *, size_t, size_t *);
typedef void (*bgzl_free_fn)(void *);
typedef uint32_t (*bgzl_crc32_fn)(uint32_t, const void *, size_t);

static bgzl_alloc_fn bgzl_dfl_alloc = NULL;
static bgzl_decompress_fn bgzl_dfl_decompress = NULL;
static bgzl_free_fn bgzl_dfl_free = NULL;
static bgzl_crc32_fn bgzl_dfl_crc32 = NULL;
static int bgzl_loaded = -1; /* -1 not tried, 0 absent, 1 present */

/* 1 if libdeflate could be loaded (tried once; call while holding the GIL the first time).
 * TMBCALC_NO_LIBDEFLATE=1 in the environment disables it (tests compare both paths). */
static int bgzl_available(void) {
    if (bgzl_loaded >= 0) return bgzl_loaded;
    const char *off = getenv("TMBCALC_NO_LIBDEFLATE");
    if (off != NULL && off[0] != 0 && off[0] != '0') { bgzl_loaded = 0; return 0; }
    const char *names[] = {"libdeflate.so.0", "libdeflate.so"};
    void *h = NULL;
    for (int i = 0; i < 2 && h == NULL; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    bgzl_loaded = 0;
    if (h == NULL) return 0;
    bgzl_dfl_alloc = (bgzl_alloc_fn)dlsym(h, "libdeflate_alloc_decompressor");
    bgzl_dfl_decompress = (bgzl_decompress_fn)dlsym(h, "libdeflate_deflate_decompress");
    bgzl_dfl_free = (bgzl_free_fn)dlsym(h, "libdeflate_free_decompressor");
    bgzl_dfl_crc32 = (bgzl_crc32_fn)dlsym(h, "libdeflate_crc32");
    if (bgzl_dfl_alloc && bgzl_dfl_decompress && bgzl_dfl_free && bgzl_dfl_crc32) bgzl_loaded = 1;
    return bgzl_loaded;
}

static inline uint32_t bgzl_le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Size of the BGZF block starting at p, read from its header (the BC extra subfield holds the size
 * minus one): > 0 the whole block's size; 0 if the header is longer than the `avail` bytes given
 * (*need is then set to the bytes needed); -1 if p is not a BGZF block header. */
static long bgzl_block_size(const uint8_t *p, size_t avail, size_t *need) {
    if (avail < 18) { *need = 18; return 0; }
    if (p[0] != 31 || p[1] != 139 || p[2] != 8 || (p[3] & 4) == 0) return -1;
    size_t xlen = (size_t)(p[10] | (p[11] << 8));
    if (avail < 12 + xlen) { *need = 12 + xlen; return 0; }
    for (size_t j = 12; j + 6 <= 12 + xlen;) {
        size_t slen = (size_t)(p[j + 2] | (p[j + 3] << 8));
        if (p[j] == 66 && p[j + 1] == 67 && slen == 2) {
            long total = (long)(p[j + 4] | (p[j + 5] << 8)) + 1;
            return total < (long)(12 + xlen + 8) ? -1 : total;
        }
        j += 4 + slen;
    }
    return -1;
}

/* Inflate the complete BGZF block p[0, total) into out (room for 65536 bytes), checking its
 * length and CRC32 as htslib does: the inflated length, or -1 if the block is corrupt. */
static long bgzl_inflate_block(void *dec, const uint8_t *p, size_t total, void *out) {
    size_t xlen = (size_t)(p[10] | (p[11] << 8)), actual = 0;
    uint32_t isize = bgzl_le32(p + total - 4);
    if (isize > 65536) return -1;
    if (bgzl_dfl_decompress(dec, p + 12 + xlen, total - 12 - xlen - 8, out, isize, &actual) != 0 ||
        actual != isize || bgzl_dfl_crc32(0, out, isize) != bgzl_le32(p + total - 8))
        return -1;
    return (long)isize;
}

#define BGZL_SLOTS 3
#define BGZL_CSLAB (1 << 20)       /* compressed bytes read per slab (whole blocks only) */
#define BGZL_USLAB (4 << 20)       /* uncompressed capacity of a slab buffer (+1 for a NUL) */
#define BGZL_BLOCK 65536

enum { BGZL_EMPTY = 0, BGZL_FULL = 1 };

typedef struct {
    char *data;                    /* BGZL_USLAB + 1 bytes */
    size_t len;
    int state;                     /* BGZL_EMPTY / BGZL_FULL */
    int status;                    /* with FULL: 0 data, 1 end of file, -1 corrupt/truncated/io */
} bgzl_slot_t;

typedef struct {
    int fd;
    int threaded;
    int64_t coff;                  /* next compressed offset the producer reads */
    int skip;                      /* uncompressed bytes to drop from the first block */
    int producer_done;
    int stop;
    uint8_t *cbuf;
    void *dec;
    bgzl_slot_t slot[BGZL_SLOTS];
    int prod_i, cons_i;            /* next slot to fill / to consume */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* consumer state */
    int have;                      /* cons_i slot is held by the consumer */
    size_t pos;                    /* read position inside the held slot */
    char *carry;
    size_t carry_len, carry_cap;
    int final_status;              /* 0 running, 1 eof reached, -1 error reached */
} bgzl_t;

/* Inflate whole blocks starting at z->coff into `s`; sets s->status and advances z->coff. */
static void bgzl_fill(bgzl_t *z, bgzl_slot_t *s) {
    ssize_t n = pread(z->fd, z->cbuf, BGZL_CSLAB, z->coff);
    size_t at = 0;
    s->len = 0;
    s->status = 0;
    if (n < 0) { s->status = -1; return; }
    if (n == 0) { s->status = 1; return; }
    while (at < (size_t)n) {
        const uint8_t *b = z->cbuf + at;
        size_t avail = (size_t)n - at, need = 0;
        long total = bgzl_block_size(b, avail, &need);
        if (total < 0) { s->status = -1; return; }
        if (total == 0 || (size_t)total > avail) {      /* block continues past this read */
            if (at == 0 && (ssize_t)avail < BGZL_CSLAB) { s->status = -1; return; }   /* cut short */
            break;                                      /* re-read from this block next slab */
        }
        if (s->len + BGZL_BLOCK > BGZL_USLAB) break;
        long isize = bgzl_inflate_block(z->dec, b, (size_t)total, s->data + s->len);
        if (isize < 0) { s->status = -1; return; }
        if (z->skip > 0) {                               /* first block: drop what the header used */
            if (z->skip > isize) { s->status = -1; return; }
            memmove(s->data + s->len, s->data + s->len + z->skip, (size_t)(isize - z->skip));
            isize -= z->skip;
            z->skip = 0;
        }
        s->len += (size_t)isize;
        at += (size_t)total;
    }
    z->coff += (int64_t)at;
}

static void *bgzl_producer(void *arg) {
    bgzl_t *z = (bgzl_t *)arg;
    while (1) {
        pthread_mutex_lock(&z->mu);
        while (!z->stop && z->slot[z->prod_i].state != BGZL_EMPTY) pthread_cond_wait(&z->cv, &z->mu);
        if (z->stop) { pthread_mutex_unlock(&z->mu); break; }
        bgzl_slot_t *s = &z->slot[z->prod_i];
        pthread_mutex_unlock(&z->mu);
        bgzl_fill(z, s);
        pthread_mutex_lock(&z->mu);
        s->state = BGZL_FULL;
        int last = s->status != 0;
        z->prod_i = (z->prod_i + 1) % BGZL_SLOTS;
        pthread_cond_broadcast(&z->cv);
        pthread_mutex_unlock(&z->mu);
        if (last) break;
    }
    return NULL;
}

static void bgzl_close(bgzl_t *z) {
    if (z == NULL) return;
    if (z->thread_started) {
        pthread_mutex_lock(&z->mu);
        z->stop = 1;
        pthread_cond_broadcast(&z->cv);
        pthread_mutex_unlock(&z->mu);
        pthread_join(z->thread, NULL);
    }
    pthread_mutex_destroy(&z->mu);
    pthread_cond_destroy(&z->cv);
    for (int i = 0; i < BGZL_SLOTS; i++) free(z->slot[i].data);
    free(z->cbuf);
    free(z->carry);
    if (z->dec) bgzl_dfl_free(z->dec);
    if (z->fd >= 0) close(z->fd);
    free(z);
}

/* Open `path` at BGZF virtual offset `voffset`; NULL on failure (libdeflate absent, no memory,
 * cannot open or start the thread).  Call bgzl_available() first. */
static bgzl_t *bgzl_open(const char *path, uint64_t voffset, int threaded) {
    if (bgzl_available() != 1) return NULL;
    bgzl_t *z = (bgzl_t *)calloc(1, sizeof(bgzl_t));
    if (z == NULL) return NULL;
    z->fd = -1;
    pthread_mutex_init(&z->mu, NULL);
    pthread_cond_init(&z->cv, NULL);
    z->coff = (int64_t)(voffset >> 16);
    z->skip = (int)(voffset & 0xFFFF);
    z->threaded = threaded;
    z->cbuf = (uint8_t *)malloc(BGZL_CSLAB);
    z->dec = bgzl_dfl_alloc();
    for (int i = 0; i < BGZL_SLOTS; i++) {
        z->slot[i].data = (char *)malloc(BGZL_USLAB + 1);
        if (z->slot[i].data == NULL) { bgzl_close(z); return NULL; }
    }
    z->fd = open(path, O_RDONLY);
    if (z->cbuf == NULL || z->dec == NULL || z->fd < 0) { bgzl_close(z); return NULL; }
    if (threaded) {
        if (pthread_create(&z->thread, NULL, bgzl_producer, z) != 0) { bgzl_close(z); return NULL; }
        z->thread_started = 1;
    }
    return z;
}

/* Take the next slab in order (waiting for the producer, or inflating it here when unthreaded):
 * 0 data, 1 end of file, -1 error. */
static int bgzl_take(bgzl_t *z) {
    bgzl_slot_t *s = &z->slot[z->cons_i];
    if (z->threaded) {
        pthread_mutex_lock(&z->mu);
        while (s->state != BGZL_FULL) pthread_cond_wait(&z->cv, &z->mu);
        pthread_mutex_unlock(&z->mu);
    } else {
        bgzl_fill(z, s);
        s->state = BGZL_FULL;
    }
    z->have = 1;
    z->pos = 0;
    return s->status;
}

static void bgzl_release(bgzl_t *z) {
    bgzl_slot_t *s = &z->slot[z->cons_i];
    if (z->threaded) pthread_mutex_lock(&z->mu);
    s->state = BGZL_EMPTY;
    z->cons_i = (z->cons_i + 1) % BGZL_SLOTS;
    if (z->threaded) { pthread_cond_broadcast(&z->cv); pthread_mutex_unlock(&z->mu); }
    z->have = 0;
}

static int bgzl_carry_append(bgzl_t *z, const char *p, size_t n) {
    if (z->carry_len + n + 1 > z->carry_cap) {
        size_t cap = z->carry_cap ? z->carry_cap : 4096;
        while (cap < z->carry_len + n + 1) cap *= 2;
        char *c = (char *)realloc(z->carry, cap);
        if (c == NULL) return -1;
        z->carry = c;
        z->carry_cap = cap;
    }
    memcpy(z->carry + z->carry_len, p, n);
    z->carry_len += n;
    z->carry[z->carry_len] = 0;
    return 0;
}

static inline void bgzl_trim(char *s, size_t *len) {
    if (*len > 0 && s[*len - 1] == '\r') (*len)--;
    s[*len] = 0;
}

/* Next line: 0 ok (*line, *len set), -1 end of file, -2 truncated/corrupt/io error, -3 no memory. */
static int bgzl_getline(bgzl_t *z, char **line, size_t *len) {
    int carrying = 0;
    z->carry_len = 0;
    while (1) {
        if (z->final_status) {
            if (z->final_status < 0) return -2;
            if (carrying) {            /* last line without a newline */
                bgzl_trim(z->carry, &z->carry_len);
                *line = z->carry; *len = z->carry_len;
                z->carry_len = 0;
                return 0;
            }
            return -1;
        }
        if (!z->have) {
            int st = bgzl_take(z);
            if (st != 0) {
                bgzl_release(z);
                z->final_status = st > 0 ? 1 : -1;
                continue;
            }
        }
        bgzl_slot_t *s = &z->slot[z->cons_i];
        char *start = s->data + z->pos;
        size_t left = s->len - z->pos;
        char *nl = left ? (char *)memchr(start, '\n', left) : NULL;
        if (nl != NULL) {
            size_t n = (size_t)(nl - start);
            z->pos += n + 1;
            if (!carrying) {
                *line = start; *len = n;
                bgzl_trim(start, len);
                return 0;
            }
            if (bgzl_carry_append(z, start, n) < 0) return -3;
            bgzl_trim(z->carry, &z->carry_len);
            *line = z->carry; *len = z->carry_len;
            return 0;
        }
        if (left && bgzl_carry_append(z, start, left) < 0) return -3;
        if (left) carrying = 1;
        bgzl_release(z);
    }
}

#endif
