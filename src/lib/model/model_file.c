/*
 * model_file.c - the model file's bytes: the only code that knows them.
 *
 * Layout (every integer little-endian, every double its IEEE-754 bits as a
 * little-endian u64; never a raw struct):
 *
 *   header, 36 bytes
 *     0  magic "STANCEMD"              8 bytes
 *     8  u32 format version (2; 1 is still read)
 *    12  u32 header flags (0)
 *    16  u64 payload length
 *    24  u64 length of what follows (= the bytes after the header, exactly)
 *    32  u32 CRC-32 of the payload (zlib's crc32)
 *   36  format 2: the payload as it is, so the length at 24 is the payload
 *       length; format 1: the payload deflate-compressed (zlib, level 9, raw
 *       deflate).  Deflate only saved a third of a model's bytes (its
 *       weights are doubles with random low bits) and inflating them was
 *       three quarters of the loading time; stored, the reader decodes each
 *       section as it reads it, straight into the tables prediction uses.
 *
 *   A format 2 payload is the very payload format 1 deflated, so the model
 *   id (below) is the same in both formats.
 *
 *   payload: sections, each u32 tag (4 ASCII bytes), u64 length, bytes.
 *   Each section's length must be consumed exactly; a tag this version does
 *   not know is an error (a later format that adds one bumps the version).
 *   Format 2 keeps the sections in the order below, each at most once, so
 *   that each can be decoded as it is read; format 1 allowed any order.
 *
 *   LABL  u32 n; n x (u32 len, bytes)          labels, sorted, distinct
 *   FEAT  u32 hash_seed; u8 hash_bits, word_ngram_max, char_ngram_min,
 *         char_ngram_max; u32 norm_flags; u8 sublinear_tf
 *   VOCB  u64 n; u32 bucket[n]; f64 idf[n]
 *   SVMC  u32 nclass, npairs, kernel; f64 gamma; f64 rho[npairs],
 *         probA[npairs], probB[npairs]; then
 *           linear: u64 nfeat; f64 w[nfeat * npairs]
 *           RBF:    u64 nsv; u32 nsv_class[nclass]; f64 sv_coef[(nclass-1) nsv];
 *                   u64 sv_start[nsv + 1]; u32 sv_index[nnz]; f64 sv_value[nnz]
 *                   with nnz = sv_start[nsv]
 *   TRAI  u32 kernel, solver; u8 balanced, grid; u32 cv_folds; f64 C, gamma;
 *         u64 seed; u32 min_df; u32 len + bytes group_by (0 = none);
 *         u64 sentences, duplicates
 *   CVMT  (optional) labels as in LABL; i64 confusion[k*k]; f64 precision[k],
 *         recall[k], f1[k]; i64 support[k]; i64 total; f64 accuracy,
 *         macro P/R/F1, weighted P/R/F1
 *   SRCS  u32 n; n x (u32 len + bytes name, 64 bytes sha256 hex, u64 records,
 *         u64 per_label[nlabels])
 *   IDNT  32 bytes: the SHA-256 of the payload bytes before this section.
 *         The model's id is its first 8 bytes in hex.  Stored rather than
 *         computed at load, which would cost more than the rest of loading;
 *         the CRC-32 protects it like every other section.
 *
 * The reader treats the file as hostile: every count is checked against a cap
 * and against the bytes left in its section before anything is allocated,
 * and every cross-reference (class counts, feature indices, offsets) and the
 * CRC-32 are checked before the model is handed out.  (A format 2 file is
 * checked as it is read, so its CRC-32 is known last; a damaged file is
 * still reported as a checksum mismatch first, as from memory.)
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "STANCEMD"
#define HEADER_LEN 36u
#define FORMAT_DEFLATE 1u /* the payload is raw deflate */
#define FORMAT_STORED 2u  /* the payload is stored as it is */
#define FORMAT_VERSION ((unsigned)ST_MODEL_FORMAT)

#define MAX_LABELS 1024u
#define MAX_LABEL_LEN 256u
#define MIN_HASH_BITS 10u
#define MAX_HASH_BITS 28u
#define MAX_VOCAB 50000000u
#define MAX_NSV 10000000u
#define MAX_CHAR_NGRAM 16u
#define MAX_CV_FOLDS 1000u
#define MAX_GROUP_BY_LEN 1024u
#define MAX_SOURCES 65536u
#define MAX_SOURCE_NAME 4096u
#define MAX_PAYLOAD ((uint64_t)1 << 31)        /* 2 GiB uncompressed */
#define MAX_FILE ((uint64_t)4 << 30)           /* 4 GiB on disk */
/* zlib's deflate cannot compress better than 1032:1; a header promising more
 * is lying, and must not make us allocate its promise. */
#define MAX_DEFLATE_RATIO 1032u

enum { SEC_LABL, SEC_FEAT, SEC_VOCB, SEC_SVMC, SEC_TRAI, SEC_CVMT, SEC_SRCS, SEC_IDNT, NSEC };
static const struct {
    char tag[5];
    int required;
} sections[NSEC] = {
    {"LABL", 1}, {"FEAT", 1}, {"VOCB", 1}, {"SVMC", 1},
    {"TRAI", 1}, {"CVMT", 0}, {"SRCS", 1}, {"IDNT", 1},
};

static inline uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    return st_crc32(0, p, n);
}

/* ================================================================ writer */

/* A payload under construction; the first failure sticks, so the encoder
 * checks once at the end instead of after every field. */
typedef struct wr {
    st_buf b;
    int status;
} wr;

static void w_bytes(wr *w, const void *p, size_t n)
{
    if (w->status == STANCE_OK)
        w->status = st_buf_append(&w->b, p, n);
}

static void w_u8(wr *w, unsigned v)
{
    unsigned char c = (unsigned char)v;
    w_bytes(w, &c, 1);
}

static void w_u32(wr *w, uint32_t v)
{
    unsigned char c[4];
    put32(c, v);
    w_bytes(w, c, 4);
}

static void w_u64(wr *w, uint64_t v)
{
    unsigned char c[8];
    put64(c, v);
    w_bytes(w, c, 8);
}

static void w_i64(wr *w, long v)
{
    w_u64(w, (uint64_t)(int64_t)v);
}

static void w_f64(wr *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    w_u64(w, u);
}

static void w_str(wr *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > UINT32_MAX) {
        if (w->status == STANCE_OK)
            w->status = STANCE_ERR_ARG;
        return;
    }
    w_u32(w, (uint32_t)n);
    w_bytes(w, s, n);
}

/* Opens a section; returns where its length goes, for w_end. */
static size_t w_begin(wr *w, const char *tag)
{
    w_bytes(w, tag, 4);
    size_t at = w->b.len;
    w_u64(w, 0);
    return at;
}

static void w_end(wr *w, size_t at)
{
    if (w->status == STANCE_OK)
        put64((unsigned char *)w->b.data + at, (uint64_t)(w->b.len - at - 8));
}

static void w_labels(wr *w, int n, char *const *labels)
{
    w_u32(w, (uint32_t)n);
    for (int i = 0; i < n; i++)
        w_str(w, labels[i]);
}

/* The encoder trusts the model's counts to size its reads, so the counts that
 * do so are checked first; everything else is left to the full decode that
 * st_model_encode runs on its own output. */
static int check_encodable(const stance_model *m, stance_error *err)
{
#define BAD(...) return st_error(err, STANCE_ERR_ARG, "cannot encode the model: " __VA_ARGS__)
    if (!m)
        BAD("no model");
    if (m->nlabels < 2 || (unsigned)m->nlabels > MAX_LABELS || !m->labels)
        BAD("%d labels", m->nlabels);
    for (int i = 0; i < m->nlabels; i++)
        if (!m->labels[i])
            BAD("label %d is missing", i);
    if (m->vocab.n > 0 && (!m->vocab.bucket || !m->vocab.idf))
        BAD("the vocabulary has no arrays");
    const st_svm *s = m->svm;
    if (!s)
        BAD("no classifier");
    int k = m->nlabels;
    if (s->nclass != k || s->npairs != k * (k - 1) / 2)
        BAD("classifier has %d classes and %d pairs for %d labels", s->nclass, s->npairs, k);
    if (!s->rho || !s->probA || !s->probB)
        BAD("classifier has no decision or probability parameters");
    if (s->kernel == STANCE_KERNEL_LINEAR) {
        if (s->nfeat != m->vocab.n)
            BAD("linear classifier has %" PRIu32 " features, vocabulary %" PRIu32, s->nfeat,
                m->vocab.n);
        if (s->nfeat > 0 && !s->w && !(s->fused && s->frow))
            BAD("linear classifier has no weights");
    } else if (s->kernel == STANCE_KERNEL_RBF) {
        if (!s->nsv_class || !s->sv_start || (s->nsv > 0 && !s->sv_coef))
            BAD("RBF classifier has no support vectors");
        uint64_t sum = 0;
        for (int c = 0; c < k; c++)
            sum += s->nsv_class[c];
        if (sum != s->nsv)
            BAD("RBF classes hold %" PRIu64 " support vectors, nsv is %" PRIu32, sum, s->nsv);
        for (uint32_t i = 0; i < s->nsv; i++)
            if (s->sv_start[i + 1] < s->sv_start[i])
                BAD("sv_start decreases at %" PRIu32, i);
        if (s->sv_start[s->nsv] > 0 && (!s->sv_index || !s->sv_value))
            BAD("RBF support vectors have no values");
    } else {
        BAD("unknown kernel %d", s->kernel);
    }
    if (m->cv) {
        const stance_metrics *mt = m->cv;
        if (mt->nlabels < 0 || (unsigned)mt->nlabels > MAX_LABELS || !mt->labels ||
            !mt->confusion || !mt->precision || !mt->recall || !mt->f1 || !mt->support)
            BAD("incomplete cross-validation metrics");
        for (int i = 0; i < mt->nlabels; i++)
            if (!mt->labels[i])
                BAD("cross-validation label %d is missing", i);
    }
    if (m->nsources > 0 && !m->sources)
        BAD("no sources");
    if (m->nsources > MAX_SOURCES)
        BAD("%zu sources", m->nsources);
    for (size_t i = 0; i < m->nsources; i++)
        if (!m->sources[i].name || !m->sources[i].per_label)
            BAD("source %zu is incomplete", i);
    return STANCE_OK;
#undef BAD
}

static void w_payload(wr *w, const stance_model *m)
{
    const st_svm *s = m->svm;
    int k = m->nlabels;
    size_t at;

    at = w_begin(w, "LABL");
    w_labels(w, k, m->labels);
    w_end(w, at);

    at = w_begin(w, "FEAT");
    w_u32(w, m->fc.hash_seed);
    w_u8(w, m->fc.hash_bits);
    w_u8(w, m->fc.word_ngram_max);
    w_u8(w, m->fc.char_ngram_min);
    w_u8(w, m->fc.char_ngram_max);
    w_u32(w, m->fc.norm_flags);
    w_u8(w, m->fc.sublinear_tf);
    w_end(w, at);

    at = w_begin(w, "VOCB");
    w_u64(w, m->vocab.n);
    for (uint32_t i = 0; i < m->vocab.n; i++)
        w_u32(w, m->vocab.bucket[i]);
    for (uint32_t i = 0; i < m->vocab.n; i++)
        w_f64(w, m->vocab.idf[i]);
    w_end(w, at);

    at = w_begin(w, "SVMC");
    w_u32(w, (uint32_t)s->nclass);
    w_u32(w, (uint32_t)s->npairs);
    w_u32(w, (uint32_t)s->kernel);
    w_f64(w, s->gamma);
    for (int p = 0; p < s->npairs; p++)
        w_f64(w, s->rho[p]);
    for (int p = 0; p < s->npairs; p++)
        w_f64(w, s->probA[p]);
    for (int p = 0; p < s->npairs; p++)
        w_f64(w, s->probB[p]);
    if (s->kernel == STANCE_KERNEL_LINEAR) {
        w_u64(w, s->nfeat);
        for (uint32_t f = 0; f < s->nfeat; f++) {
            const double *wf = st_svm_weights(s, f);
            for (int p = 0; p < s->npairs; p++)
                w_f64(w, wf[p]);
        }
    } else {
        w_u64(w, s->nsv);
        for (int c = 0; c < k; c++)
            w_u32(w, s->nsv_class[c]);
        uint64_t ncoef = (uint64_t)(k - 1) * s->nsv;
        for (uint64_t i = 0; i < ncoef; i++)
            w_f64(w, s->sv_coef[i]);
        for (uint64_t i = 0; i <= s->nsv; i++)
            w_u64(w, s->sv_start[i]);
        uint64_t nnz = s->sv_start[s->nsv];
        for (uint64_t i = 0; i < nnz; i++)
            w_u32(w, s->sv_index[i]);
        for (uint64_t i = 0; i < nnz; i++)
            w_f64(w, s->sv_value[i]);
    }
    w_end(w, at);

    at = w_begin(w, "TRAI");
    w_u32(w, (uint32_t)m->train.kernel);
    w_u32(w, (uint32_t)m->train.solver);
    w_u8(w, m->train.balanced != 0);
    w_u8(w, m->train.grid != 0);
    w_u32(w, (uint32_t)m->train.cv_folds);
    w_f64(w, m->train.C);
    w_f64(w, m->train.gamma);
    w_u64(w, m->train.seed);
    w_u32(w, m->train.min_df);
    w_str(w, m->train.group_by);
    w_u64(w, m->train.sentences);
    w_u64(w, m->train.duplicates);
    w_end(w, at);

    if (m->cv) {
        const stance_metrics *mt = m->cv;
        int n = mt->nlabels;
        at = w_begin(w, "CVMT");
        w_labels(w, n, mt->labels);
        for (size_t i = 0; i < (size_t)n * (size_t)n; i++)
            w_i64(w, mt->confusion[i]);
        for (int i = 0; i < n; i++)
            w_f64(w, mt->precision[i]);
        for (int i = 0; i < n; i++)
            w_f64(w, mt->recall[i]);
        for (int i = 0; i < n; i++)
            w_f64(w, mt->f1[i]);
        for (int i = 0; i < n; i++)
            w_i64(w, mt->support[i]);
        w_i64(w, mt->total);
        w_f64(w, mt->accuracy);
        w_f64(w, mt->macro_precision);
        w_f64(w, mt->macro_recall);
        w_f64(w, mt->macro_f1);
        w_f64(w, mt->weighted_precision);
        w_f64(w, mt->weighted_recall);
        w_f64(w, mt->weighted_f1);
        w_end(w, at);
    }

    at = w_begin(w, "SRCS");
    w_u32(w, (uint32_t)m->nsources);
    for (size_t i = 0; i < m->nsources; i++) {
        const st_source *src = &m->sources[i];
        w_str(w, src->name);
        w_bytes(w, src->sha256, 64);
        w_u64(w, src->records);
        for (int l = 0; l < k; l++)
            w_u64(w, src->per_label[l]);
    }
    w_end(w, at);
}

static int parse_model(const unsigned char *data, size_t len, const char *name,
                       stance_model **out, stance_error *err);

/* The payload deflated (format 1): a third smaller, three times slower to
 * load.  *clen is the compressed length; file has HEADER_LEN bytes free in
 * front. */
static int deflate_payload(const unsigned char *p, size_t n, unsigned char **file, size_t *clen,
                           stance_error *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return st_error(err, STANCE_ERR_NOMEM, "cannot encode the model: out of memory");
    uLong bound = deflateBound(&z, (uLong)n);
    unsigned char *f = malloc(HEADER_LEN + (size_t)bound);
    if (!f) {
        deflateEnd(&z);
        return st_error(err, STANCE_ERR_NOMEM, "cannot encode the model: out of memory");
    }
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n; /* at most 2 GiB, checked by the caller */
    z.next_out = f + HEADER_LEN;
    z.avail_out = (uInt)bound;
    int zrc = deflate(&z, Z_FINISH);
    *clen = (size_t)z.total_out;
    deflateEnd(&z);
    if (zrc != Z_STREAM_END) {
        free(f);
        return st_error(err, zrc == Z_MEM_ERROR ? STANCE_ERR_NOMEM : STANCE_ERR_ARG,
                        "cannot encode the model: zlib deflate failed (%d)", zrc);
    }
    *file = f;
    return STANCE_OK;
}

int st_model_encode(const stance_model *m, unsigned char **out, size_t *len, stance_error *err)
{
    return st_model_encode_format(m, FORMAT_STORED, out, len, err);
}

int st_model_encode_format(const stance_model *m, unsigned format, unsigned char **out,
                           size_t *len, stance_error *err)
{
    wr w = {{0}, STANCE_OK};
    unsigned char *file = NULL;
    int rc;

    if (!out || !len)
        return st_error(err, STANCE_ERR_ARG, "st_model_encode: no output");
    *out = NULL;
    *len = 0;
    if ((rc = check_encodable(m, err)) != STANCE_OK)
        return rc;

    w_payload(&w, m);
    if (w.status == STANCE_OK) {
        unsigned char digest[32];
        st_sha256 ctx;
        st_sha256_init(&ctx);
        st_sha256_update(&ctx, w.b.data, w.b.len);
        st_sha256_final(&ctx, digest);
        size_t at = w_begin(&w, "IDNT");
        w_bytes(&w, digest, 32);
        w_end(&w, at);
    }
    if (w.status != STANCE_OK) {
        rc = st_error(err, w.status, "cannot encode the model: %s",
                      w.status == STANCE_ERR_NOMEM ? "out of memory" : "a string is too long");
        goto done;
    }
    if ((uint64_t)w.b.len > MAX_PAYLOAD) {
        rc = st_error(err, STANCE_ERR_TOOBIG,
                      "cannot encode the model: %zu bytes is over the 2 GiB format limit",
                      w.b.len);
        goto done;
    }

    /* Format 2 stores the payload as it is: deflate saves a third of the
     * bytes of a model (its weights are doubles with random low bits) and
     * inflating them back was most of the loading time.  Format 1, on
     * request, deflates it for distribution. */
    size_t clen = w.b.len;
    if (format == FORMAT_DEFLATE) {
        if ((rc = deflate_payload((const unsigned char *)w.b.data, w.b.len, &file, &clen, err)))
            goto done;
    } else {
        file = malloc(HEADER_LEN + w.b.len);
        if (!file) {
            rc = st_error(err, STANCE_ERR_NOMEM, "cannot encode the model: out of memory");
            goto done;
        }
        memcpy(file + HEADER_LEN, w.b.data, w.b.len);
    }
    size_t total = HEADER_LEN + clen;
    memcpy(file, MAGIC, 8);
    put32(file + 8, format == FORMAT_DEFLATE ? FORMAT_DEFLATE : FORMAT_STORED);
    put32(file + 12, 0);
    put64(file + 16, (uint64_t)w.b.len);
    put64(file + 24, (uint64_t)clen);
    put32(file + 32, crc32_of((const unsigned char *)w.b.data, w.b.len));

    /* Never produce bytes that stance_model_load would refuse: run the full
     * validating reader over them now, when the trainer can still be told. */
    stance_model *back = NULL;
    rc = parse_model(file, total, "invalid model", &back, err);
    stance_model_free(back);
    if (rc != STANCE_OK) {
        if (rc != STANCE_ERR_NOMEM) {
            rc = STANCE_ERR_ARG;
            if (err)
                err->code = rc;
        }
        goto done;
    }
    *out = file;
    *len = total;
    file = NULL;
    rc = STANCE_OK;
done:
    free(file);
    st_buf_free(&w.b);
    return rc;
}

/* ================================================================ reader */

/* The payload as the section decoders see it: in memory (a format 1 payload
 * once inflated, a format 2 file given as a buffer), or still in a format 2
 * file, read through a buffer as the decoders ask for bytes, so that nothing
 * is held twice; large arrays are taken in pieces and decoded straight into
 * their final place. */
typedef struct pin {
    const unsigned char *mem; /* the payload in memory, or NULL: read from fd */
    uint64_t len;             /* payload bytes */
    uint64_t pos;             /* payload bytes consumed */
    int fd;
    unsigned char *buf;       /* file: bytes [head, fill) are read, not consumed */
    size_t cap, head, fill;
    uint64_t got;             /* file: payload bytes read so far */
    uint32_t crc;             /* file: CRC-32 of those bytes */
    int status;               /* file: a read failed (STANCE_ERR_IO / _MODEL) */
    const char *name;
    stance_error *err;
} pin;

#define PIN_CHUNK ((size_t)1 << 18)

/* Make n bytes available at buf + head (n <= payload bytes not yet read). */
static int pin_fill(pin *in, size_t n)
{
    if (in->status != STANCE_OK)
        return in->status;
    if (in->fill - in->head >= n)
        return STANCE_OK;
    if (in->cap - in->head < n) {
        memmove(in->buf, in->buf + in->head, in->fill - in->head);
        in->fill -= in->head;
        in->head = 0;
        if (in->cap < n) {
            /* only a field longer than PIN_CHUNK: bounded by the section
             * length, itself checked against the file's size */
            unsigned char *nb = realloc(in->buf, n);
            if (!nb)
                return in->status = st_error(in->err, STANCE_ERR_NOMEM,
                                             "%s: out of memory reading the payload", in->name);
            in->buf = nb;
            in->cap = n;
        }
    }
    while (in->fill - in->head < n) {
        size_t want = in->cap - in->fill;
        if ((uint64_t)want > in->len - in->got)
            want = (size_t)(in->len - in->got);
        ssize_t r = pread(in->fd, in->buf + in->fill, want, (off_t)(HEADER_LEN + in->got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return in->status = st_error(in->err, STANCE_ERR_IO, "%s: read error: %s",
                                         in->name, strerror(errno));
        if (r == 0)
            return in->status = st_error(in->err, STANCE_ERR_MODEL,
                                         "%s: truncated: the file ends after %" PRIu64
                                         " of its %" PRIu64 " payload bytes (changed while read?)",
                                         in->name, in->got, in->len);
        in->crc = st_crc32(in->crc, in->buf + in->fill, (size_t)r);
        in->fill += (size_t)r;
        in->got += (uint64_t)r;
    }
    return STANCE_OK;
}

/* Read what the decoders left, for the CRC-32 of the whole payload. */
static int pin_drain(pin *in)
{
    while (in->status == STANCE_OK && in->got < in->len) {
        in->head = in->fill = 0;
        uint64_t rest = in->len - in->got;
        pin_fill(in, rest < in->cap ? (size_t)rest : in->cap);
    }
    in->head = in->fill = 0;
    return in->status;
}

/* A cursor over one section (or, for its header, over the rest of the
 * payload): left bytes of it are still to be taken from in. */
typedef struct rd {
    pin *in;
    uint64_t left;
    const char *name; /* file name, for messages */
    const char *sec;  /* section tag */
    stance_error *err;
} rd;

static int rd_fail(rd *r, const char *fmt, ...) STANCE_PRINTF(2, 3);
static int rd_fail(rd *r, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return st_error(r->err, STANCE_ERR_MODEL, "%s: section %s: %s", r->name, r->sec, msg);
}

static int rd_nomem(rd *r)
{
    return st_error(r->err, STANCE_ERR_NOMEM, "%s: section %s: out of memory", r->name, r->sec);
}

/* count items of size bytes must fit in what is left of the section. */
static int rd_need(rd *r, uint64_t count, uint64_t size, const char *what)
{
    if (count > r->left / size)
        return rd_fail(r, "truncated at %s: %" PRIu64 " x %" PRIu64 " bytes needed, %" PRIu64
                       " left", what, count, size, r->left);
    return STANCE_OK;
}

/* The next n bytes of the section, which the caller has checked are there
 * (rd_need); *p stays valid until the next take. */
static int rd_take(rd *r, size_t n, const unsigned char **p)
{
    pin *in = r->in;
    if (in->mem) {
        *p = in->mem + in->pos;
    } else {
        int rc = pin_fill(in, n);
        if (rc != STANCE_OK)
            return rc;
        *p = in->buf + in->head;
        in->head += n;
    }
    in->pos += n;
    r->left -= n;
    return STANCE_OK;
}

/* Items per piece when an array is taken in pieces: 64 KiB at a time. */
static size_t rd_piece(uint64_t left, size_t size)
{
    size_t most = ((size_t)1 << 16) / size;
    return left < most ? (size_t)left : most;
}

static int rd_u8(rd *r, uint8_t *v, const char *what)
{
    const unsigned char *p;
    int rc = rd_need(r, 1, 1, what);
    if (rc || (rc = rd_take(r, 1, &p)))
        return rc;
    *v = p[0];
    return STANCE_OK;
}

static int rd_u32(rd *r, uint32_t *v, const char *what)
{
    const unsigned char *p;
    int rc = rd_need(r, 1, 4, what);
    if (rc || (rc = rd_take(r, 4, &p)))
        return rc;
    *v = get32(p);
    return STANCE_OK;
}

static int rd_u64(rd *r, uint64_t *v, const char *what)
{
    const unsigned char *p;
    int rc = rd_need(r, 1, 8, what);
    if (rc || (rc = rd_take(r, 8, &p)))
        return rc;
    *v = get64(p);
    return STANCE_OK;
}

static double bits_to_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static int rd_f64(rd *r, double *v, const char *what)
{
    uint64_t u;
    int rc = rd_u64(r, &u, what);
    if (rc)
        return rc;
    *v = bits_to_f64(u);
    if (!isfinite(*v))
        return rd_fail(r, "%s is not a finite number", what);
    return STANCE_OK;
}

/* n finite doubles into dst (room for n, already allocated). */
static int rd_f64s(rd *r, double *dst, uint64_t n, const char *what)
{
    int rc = rd_need(r, n, 8, what);
    if (rc)
        return rc;
    for (uint64_t i = 0; i < n;) {
        size_t c = rd_piece(n - i, 8);
        const unsigned char *p;
        if ((rc = rd_take(r, c * 8, &p)))
            return rc;
        for (size_t j = 0; j < c; j++, i++) {
            dst[i] = bits_to_f64(get64(p + 8 * j));
            if (!isfinite(dst[i]))
                return rd_fail(r, "%s[%" PRIu64 "] is not a finite number", what, i);
        }
    }
    return STANCE_OK;
}

/* Signed 64-bit counts that must be >= 0 and fit a long. */
static int rd_count(rd *r, long *v, const char *what)
{
    uint64_t u;
    int rc = rd_u64(r, &u, what);
    if (rc)
        return rc;
    if (u > (uint64_t)LONG_MAX)
        return rd_fail(r, "%s is out of range (%" PRIu64 ")", what, u);
    *v = (long)u;
    return STANCE_OK;
}

static int rd_prob(rd *r, double *v, const char *what)
{
    int rc = rd_f64(r, v, what);
    if (rc)
        return rc;
    if (*v < 0 || *v > 1)
        return rd_fail(r, "%s is %g, outside [0, 1]", what, *v);
    return STANCE_OK;
}

static int rd_end(rd *r)
{
    if (r->left != 0)
        return rd_fail(r, "%" PRIu64 " unread bytes at the end of the section", r->left);
    return STANCE_OK;
}

/* calloc for n items whose bytes were already checked against the section
 * (so n * size is far below SIZE_MAX); never asks for 0 bytes. */
static void *alloc_n(uint64_t n, size_t size)
{
    return calloc(n ? (size_t)n : 1, size);
}

/* The same for arrays that are filled completely before they are used. */
static void *alloc_raw(uint64_t n, size_t size)
{
    return malloc((n ? (size_t)n : 1) * size);
}

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != STANCE_OK)                                                                      \
            return rc_;                                                                            \
    } while (0)

static void free_labels(char **labels, int n)
{
    if (!labels)
        return;
    for (int i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
}

/* Labels as in LABL.  *labels and *n are set as soon as the array exists, so
 * the caller frees whatever was read when this fails. */
static int rd_labels(rd *r, char ***labels, int *n)
{
    uint32_t count;
    TRY(rd_u32(r, &count, "label count"));
    if (count < 2)
        return rd_fail(r, "%" PRIu32 " labels: a model needs at least 2", count);
    if (count > MAX_LABELS)
        return rd_fail(r, "%" PRIu32 " labels is more than the limit of %u", count, MAX_LABELS);
    TRY(rd_need(r, count, 5, "labels"));
    char **l = alloc_n(count, sizeof *l);
    if (!l)
        return rd_nomem(r);
    *labels = l;
    *n = (int)count;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len;
        const unsigned char *p;
        TRY(rd_u32(r, &len, "label length"));
        if (len == 0)
            return rd_fail(r, "label %" PRIu32 " is empty", i);
        if (len > MAX_LABEL_LEN)
            return rd_fail(r, "label %" PRIu32 " is %" PRIu32 " bytes long, more than %u", i,
                           len, MAX_LABEL_LEN);
        TRY(rd_need(r, len, 1, "label"));
        TRY(rd_take(r, len, &p));
        const char *s = (const char *)p;
        if (!st_utf8_valid(s, len))
            return rd_fail(r, "label %" PRIu32 " is not valid UTF-8 or contains a NUL byte", i);
        for (uint32_t j = 0; j < len; j++)
            if ((unsigned char)s[j] < 0x20 || s[j] == 0x7f)
                return rd_fail(r, "label %" PRIu32 " contains a control character", i);
        if (!(l[i] = st_strndup(s, len)))
            return rd_nomem(r);
        if (i > 0) {
            int cmp = strcmp(l[i - 1], l[i]); /* strcmp compares as unsigned char */
            if (cmp == 0)
                return rd_fail(r, "label %" PRIu32 " ('%s') is a duplicate", i, l[i]);
            if (cmp > 0)
                return rd_fail(r, "label %" PRIu32 " ('%s') is not after '%s': labels must be "
                               "sorted", i, l[i], l[i - 1]);
        }
    }
    return STANCE_OK;
}

static int dec_labl(rd *r, stance_model *m)
{
    TRY(rd_labels(r, &m->labels, &m->nlabels));
    return rd_end(r);
}

static int dec_feat(rd *r, stance_model *m)
{
    st_feat_config *fc = &m->fc;
    uint8_t bits, wmax, cmin, cmax, sub;
    uint32_t seed, norm;
    TRY(rd_u32(r, &seed, "hash_seed"));
    TRY(rd_u8(r, &bits, "hash_bits"));
    TRY(rd_u8(r, &wmax, "word_ngram_max"));
    TRY(rd_u8(r, &cmin, "char_ngram_min"));
    TRY(rd_u8(r, &cmax, "char_ngram_max"));
    TRY(rd_u32(r, &norm, "norm_flags"));
    TRY(rd_u8(r, &sub, "sublinear_tf"));
    TRY(rd_end(r));
    if (bits < MIN_HASH_BITS || bits > MAX_HASH_BITS)
        return rd_fail(r, "hash_bits %u is outside %u..%u", bits, MIN_HASH_BITS, MAX_HASH_BITS);
    if (wmax < 1 || wmax > 3)
        return rd_fail(r, "word_ngram_max %u is outside 1..3", wmax);
    if (cmax > MAX_CHAR_NGRAM)
        return rd_fail(r, "char_ngram_max %u is more than %u", cmax, MAX_CHAR_NGRAM);
    if (cmin != 0 && cmin > cmax)
        return rd_fail(r, "char_ngram_min %u is above char_ngram_max %u", cmin, cmax);
    if (norm != ST_NORM_FLAGS_V1)
        return rd_fail(r, "unknown text normalisation 0x%" PRIx32, norm);
    if (sub > 1)
        return rd_fail(r, "sublinear_tf is %u, not 0 or 1", sub);
    fc->hash_seed = seed;
    fc->hash_bits = bits;
    fc->word_ngram_max = wmax;
    fc->char_ngram_min = cmin;
    fc->char_ngram_max = cmax;
    fc->norm_flags = norm;
    fc->sublinear_tf = sub;
    return STANCE_OK;
}

static int dec_vocb(rd *r, stance_model *m)
{
    st_vocab *v = &m->vocab;
    uint64_t n;
    uint64_t buckets = (uint64_t)1 << m->fc.hash_bits;
    TRY(rd_u64(r, &n, "feature count"));
    if (n > MAX_VOCAB)
        return rd_fail(r, "%" PRIu64 " features is more than the limit of %u", n, MAX_VOCAB);
    if (n > buckets)
        return rd_fail(r, "%" PRIu64 " features for %" PRIu64 " buckets (hash_bits %u)", n,
                       buckets, m->fc.hash_bits);
    TRY(rd_need(r, n, 12, "features"));
    if (!(v->bucket = alloc_raw(n, sizeof *v->bucket)) ||
        !(v->idf = alloc_raw(n, sizeof *v->idf)))
        return rd_nomem(r);
    v->n = (uint32_t)n;
    uint32_t prev = 0;
    for (uint64_t i = 0; i < n;) {
        size_t c = rd_piece(n - i, 4);
        const unsigned char *p;
        TRY(rd_take(r, c * 4, &p));
        for (size_t j = 0; j < c; j++, i++) {
            uint32_t b = get32(p + 4 * j);
            if (b >= buckets)
                return rd_fail(r, "bucket %" PRIu32 " (feature %" PRIu64 ") is outside the %"
                               PRIu64 " buckets of hash_bits %u", b, i, buckets,
                               m->fc.hash_bits);
            if (i > 0 && b <= prev)
                return rd_fail(r, "bucket %" PRIu32 " is not above the previous one (%" PRIu32
                               ", feature %" PRIu64 ")", b, prev, i);
            v->bucket[i] = prev = b;
        }
    }
    TRY(rd_f64s(r, v->idf, n, "idf"));
    for (uint64_t i = 0; i < n; i++)
        if (!(v->idf[i] > 0))
            return rd_fail(r, "idf[%" PRIu64 "] is %g, not positive", i, v->idf[i]);
    return rd_end(r);
}

static int dec_svm_rbf(rd *r, stance_model *m, st_svm *s)
{
    uint64_t nsv;
    uint64_t k = (uint64_t)s->nclass;
    TRY(rd_u64(r, &nsv, "support vector count"));
    if (nsv > MAX_NSV)
        return rd_fail(r, "%" PRIu64 " support vectors is more than the limit of %u", nsv,
                       MAX_NSV);
    /* nsv_class, sv_coef and sv_start, before any of them is allocated. */
    uint64_t fixed = 4 * k + 8 * (k - 1) * nsv + 8 * (nsv + 1);
    TRY(rd_need(r, fixed, 1, "support vector tables"));
    if (!(s->nsv_class = alloc_n(k, sizeof *s->nsv_class)) ||
        !(s->sv_coef = alloc_n((k - 1) * nsv, sizeof *s->sv_coef)) ||
        !(s->sv_start = alloc_n(nsv + 1, sizeof *s->sv_start)))
        return rd_nomem(r);
    s->nsv = (uint32_t)nsv;
    s->nfeat = m->vocab.n;

    uint64_t sum = 0;
    for (uint64_t c = 0; c < k; c++) {
        TRY(rd_u32(r, &s->nsv_class[c], "nsv_class"));
        sum += s->nsv_class[c]; /* at most 1024 * 2^32: no overflow */
    }
    if (sum != nsv)
        return rd_fail(r, "the classes hold %" PRIu64 " support vectors, not %" PRIu64, sum,
                       nsv);
    TRY(rd_f64s(r, s->sv_coef, (k - 1) * nsv, "sv_coef"));
    for (uint64_t i = 0; i <= nsv; i++) {
        TRY(rd_u64(r, &s->sv_start[i], "sv_start"));
        if (i == 0 && s->sv_start[0] != 0)
            return rd_fail(r, "sv_start[0] is %" PRIu64 ", not 0", s->sv_start[0]);
        if (i > 0 && s->sv_start[i] < s->sv_start[i - 1])
            return rd_fail(r, "sv_start[%" PRIu64 "] = %" PRIu64 " goes back from %" PRIu64, i,
                           s->sv_start[i], s->sv_start[i - 1]);
    }
    uint64_t nnz = s->sv_start[nsv];
    if (nnz > r->left / 12 || nnz * 12 != r->left)
        return rd_fail(r, "the support vectors hold %" PRIu64 " values (%" PRIu64
                       " bytes) but %" PRIu64 " bytes are left", nnz,
                       nnz > UINT64_MAX / 12 ? UINT64_MAX : nnz * 12, r->left);
    if (!(s->sv_index = alloc_n(nnz, sizeof *s->sv_index)) ||
        !(s->sv_value = alloc_n(nnz, sizeof *s->sv_value)))
        return rd_nomem(r);
    for (uint64_t v = 0, i = 0; i < nnz;) {
        size_t c = rd_piece(nnz - i, 4);
        const unsigned char *p;
        TRY(rd_take(r, c * 4, &p));
        for (size_t j = 0; j < c; j++, i++) {
            while (i >= s->sv_start[v + 1]) /* i < nnz = sv_start[nsv]: v stays < nsv */
                v++;
            uint32_t f = get32(p + 4 * j);
            if (f >= m->vocab.n)
                return rd_fail(r, "support vector %" PRIu64 " uses feature %" PRIu32
                               " of a vocabulary of %" PRIu32, v, f, m->vocab.n);
            if (i > s->sv_start[v] && f <= s->sv_index[i - 1])
                return rd_fail(r, "support vector %" PRIu64 ": feature %" PRIu32
                               " is not above the previous one", v, f);
            s->sv_index[i] = f;
        }
    }
    TRY(rd_f64s(r, s->sv_value, nnz, "sv_value"));
    return STANCE_OK;
}

/* The weights go straight into the fused rows that prediction reads (laid
 * out by IDF, known from VOCB); the model keeps no other copy. */
static int dec_svm_linear(rd *r, stance_model *m, st_svm *s)
{
    uint64_t nfeat, np = (uint64_t)s->npairs;
    TRY(rd_u64(r, &nfeat, "nfeat"));
    if (nfeat != m->vocab.n)
        return rd_fail(r, "%" PRIu64 " weights per pair for a vocabulary of %" PRIu32, nfeat,
                       m->vocab.n);
    uint64_t nw = nfeat * np; /* <= 5e7 * 523776: fits */
    TRY(rd_need(r, nw, 8, "weights"));
    s->nfeat = (uint32_t)nfeat;
    if (st_svm_layout(s, &m->vocab) != STANCE_OK)
        return rd_nomem(r);
    if (np == 0)
        return STANCE_OK;
    for (uint64_t f = 0; f < nfeat;) {
        size_t c = rd_piece(nfeat - f, (size_t)np * 8);
        if (c == 0)
            c = 1; /* a row of more than 64 KiB: one at a time */
        const unsigned char *p;
        TRY(rd_take(r, c * (size_t)np * 8, &p));
        for (size_t j = 0; j < c; j++, f++) {
            if (f + 8 < nfeat) /* rows are in IDF order, not in feature order */
                __builtin_prefetch(st_svm_weights(s, (uint32_t)(f + 8)), 1);
            double *dst = st_svm_fill_row(s, (uint32_t)f, m->vocab.idf[f]);
            for (uint64_t q = 0; q < np; q++, p += 8) {
                double w = bits_to_f64(get64(p));
                if (!isfinite(w))
                    return rd_fail(r, "w[%" PRIu64 "] is not a finite number", f * np + q);
                dst[q] = w;
            }
        }
    }
    return STANCE_OK;
}

static int dec_svmc(rd *r, stance_model *m)
{
    st_svm *s = calloc(1, sizeof *s);
    if (!s)
        return rd_nomem(r);
    m->svm = s;
    uint32_t nclass, npairs, kernel;
    double gamma;
    TRY(rd_u32(r, &nclass, "nclass"));
    if (nclass != (uint32_t)m->nlabels)
        return rd_fail(r, "%" PRIu32 " classes for %d labels", nclass, m->nlabels);
    TRY(rd_u32(r, &npairs, "npairs"));
    if (npairs != nclass * (nclass - 1) / 2)
        return rd_fail(r, "%" PRIu32 " pairs for %" PRIu32 " classes, not %" PRIu32, npairs,
                       nclass, nclass * (nclass - 1) / 2);
    TRY(rd_u32(r, &kernel, "kernel"));
    if (kernel != STANCE_KERNEL_LINEAR && kernel != STANCE_KERNEL_RBF)
        return rd_fail(r, "unknown kernel %" PRIu32, kernel);
    TRY(rd_f64(r, &gamma, "gamma"));
    if (kernel == STANCE_KERNEL_RBF ? !(gamma > 0) : gamma < 0)
        return rd_fail(r, "gamma %g is out of range", gamma);
    s->nclass = (int)nclass;
    s->npairs = (int)npairs;
    s->kernel = (int)kernel;
    s->gamma = gamma;

    TRY(rd_need(r, npairs, 24, "rho, probA and probB"));
    if (!(s->rho = alloc_n(npairs, sizeof(double))) ||
        !(s->probA = alloc_n(npairs, sizeof(double))) ||
        !(s->probB = alloc_n(npairs, sizeof(double))))
        return rd_nomem(r);
    TRY(rd_f64s(r, s->rho, npairs, "rho"));
    TRY(rd_f64s(r, s->probA, npairs, "probA"));
    TRY(rd_f64s(r, s->probB, npairs, "probB"));

    if (kernel == STANCE_KERNEL_LINEAR)
        TRY(dec_svm_linear(r, m, s));
    else
        TRY(dec_svm_rbf(r, m, s));
    return rd_end(r);
}

static int dec_trai(rd *r, stance_model *m)
{
    st_train_record *t = &m->train;
    uint32_t kernel, solver, cv_folds, min_df, glen;
    uint8_t balanced, grid;
    double C, gamma;
    TRY(rd_u32(r, &kernel, "kernel"));
    if (kernel != (uint32_t)m->svm->kernel)
        return rd_fail(r, "kernel %" PRIu32 " is not the classifier's (%d)", kernel,
                       m->svm->kernel);
    TRY(rd_u32(r, &solver, "solver"));
    if (solver != STANCE_SOLVER_LIBSVM && solver != STANCE_SOLVER_LIBLINEAR &&
        solver != STANCE_SOLVER_DCD)
        return rd_fail(r, "unknown solver %" PRIu32, solver);
    if (kernel == STANCE_KERNEL_RBF && solver != STANCE_SOLVER_LIBSVM)
        return rd_fail(r, "an RBF kernel needs the libsvm solver");
    TRY(rd_u8(r, &balanced, "balanced"));
    TRY(rd_u8(r, &grid, "grid"));
    if (balanced > 1 || grid > 1)
        return rd_fail(r, "balanced (%u) and grid (%u) must be 0 or 1", balanced, grid);
    TRY(rd_u32(r, &cv_folds, "cv_folds"));
    if (cv_folds > MAX_CV_FOLDS)
        return rd_fail(r, "cv_folds %" PRIu32 " is more than %u", cv_folds, MAX_CV_FOLDS);
    TRY(rd_f64(r, &C, "C"));
    if (!(C > 0))
        return rd_fail(r, "C is %g, not positive", C);
    TRY(rd_f64(r, &gamma, "gamma"));
    if (gamma < 0)
        return rd_fail(r, "gamma is %g, negative", gamma);
    t->kernel = (int)kernel;
    t->solver = (int)solver;
    t->balanced = balanced;
    t->grid = grid;
    t->cv_folds = (int)cv_folds;
    t->C = C;
    t->gamma = gamma;
    TRY(rd_u64(r, &t->seed, "seed"));
    TRY(rd_u32(r, &min_df, "min_df"));
    t->min_df = min_df;
    TRY(rd_u32(r, &glen, "group_by length"));
    if (glen > MAX_GROUP_BY_LEN)
        return rd_fail(r, "group_by is %" PRIu32 " bytes, more than %u", glen, MAX_GROUP_BY_LEN);
    if (glen > 0) {
        const unsigned char *p;
        TRY(rd_need(r, glen, 1, "group_by"));
        TRY(rd_take(r, glen, &p));
        if (!st_utf8_valid((const char *)p, glen))
            return rd_fail(r, "group_by is not valid UTF-8 or contains a NUL byte");
        if (!(t->group_by = st_strndup((const char *)p, glen)))
            return rd_nomem(r);
    }
    TRY(rd_u64(r, &t->sentences, "sentences"));
    TRY(rd_u64(r, &t->duplicates, "duplicates"));
    return rd_end(r);
}

static int dec_cvmt(rd *r, stance_model *m)
{
    char **labels = NULL;
    int n = 0;
    int rc = rd_labels(r, &labels, &n);
    if (rc == STANCE_OK && n != m->nlabels)
        rc = rd_fail(r, "%d labels, the model has %d", n, m->nlabels);
    for (int i = 0; rc == STANCE_OK && i < n; i++)
        if (strcmp(labels[i], m->labels[i]) != 0)
            rc = rd_fail(r, "label %d ('%s') is not the model's ('%s')", i, labels[i],
                         m->labels[i]);
    free_labels(labels, n);
    if (rc != STANCE_OK)
        return rc;

    uint64_t k = (uint64_t)n;
    TRY(rd_need(r, k * k + 4 * k + 8, 8, "metrics"));
    stance_metrics *mt = NULL;
    if (st_metrics_new(n, (const char *const *)m->labels, &mt) != STANCE_OK || !mt)
        return rd_nomem(r);
    m->cv = mt;

    char what[48];
    for (int g = 0; g < n; g++) {
        uint64_t row = 0;
        for (int p = 0; p < n; p++) {
            long *cell = &mt->confusion[(size_t)g * (size_t)n + (size_t)p];
            snprintf(what, sizeof what, "confusion[%d][%d]", g, p);
            TRY(rd_count(r, cell, what));
            row += (uint64_t)*cell; /* <= 1024 * 2^63: may wrap, checked below */
            if (row < (uint64_t)*cell || row > (uint64_t)LONG_MAX)
                return rd_fail(r, "confusion row %d overflows", g);
        }
        /* support is read later; keep the row sum in the slot meanwhile */
        mt->support[g] = (long)row;
    }
    static const char *const per[3] = {"precision", "recall", "f1"};
    double *arr[3] = {mt->precision, mt->recall, mt->f1};
    for (int a = 0; a < 3; a++)
        for (int i = 0; i < n; i++) {
            snprintf(what, sizeof what, "%s[%d]", per[a], i);
            TRY(rd_prob(r, &arr[a][i], what));
        }
    uint64_t sum = 0;
    for (int i = 0; i < n; i++) {
        long s = 0;
        snprintf(what, sizeof what, "support[%d]", i);
        TRY(rd_count(r, &s, what));
        if (s != mt->support[i])
            return rd_fail(r, "support[%d] is %ld but confusion row %d sums to %ld", i, s, i,
                           mt->support[i]);
        sum += (uint64_t)s;
        if (sum > (uint64_t)LONG_MAX)
            return rd_fail(r, "the supports overflow");
    }
    TRY(rd_count(r, &mt->total, "total"));
    if ((uint64_t)mt->total != sum)
        return rd_fail(r, "total is %ld but the supports sum to %" PRIu64, mt->total, sum);
    TRY(rd_prob(r, &mt->accuracy, "accuracy"));
    TRY(rd_prob(r, &mt->macro_precision, "macro_precision"));
    TRY(rd_prob(r, &mt->macro_recall, "macro_recall"));
    TRY(rd_prob(r, &mt->macro_f1, "macro_f1"));
    TRY(rd_prob(r, &mt->weighted_precision, "weighted_precision"));
    TRY(rd_prob(r, &mt->weighted_recall, "weighted_recall"));
    TRY(rd_prob(r, &mt->weighted_f1, "weighted_f1"));
    return rd_end(r);
}

static int dec_srcs(rd *r, stance_model *m)
{
    uint32_t n;
    uint64_t k = (uint64_t)m->nlabels;
    TRY(rd_u32(r, &n, "source count"));
    if (n > MAX_SOURCES)
        return rd_fail(r, "%" PRIu32 " sources is more than the limit of %u", n, MAX_SOURCES);
    TRY(rd_need(r, n, 4 + 1 + 64 + 8 + 8 * k, "sources"));
    if (!(m->sources = alloc_n(n, sizeof *m->sources)))
        return rd_nomem(r);
    m->nsources = n;
    for (uint32_t i = 0; i < n; i++) {
        st_source *src = &m->sources[i];
        uint32_t len;
        const unsigned char *p;
        TRY(rd_u32(r, &len, "source name length"));
        if (len == 0 || len > MAX_SOURCE_NAME)
            return rd_fail(r, "source %" PRIu32 ": name of %" PRIu32 " bytes (1..%u allowed)", i,
                           len, MAX_SOURCE_NAME);
        TRY(rd_need(r, len, 1, "source name"));
        TRY(rd_take(r, len, &p));
        if (!st_utf8_valid((const char *)p, len))
            return rd_fail(r, "source %" PRIu32 ": name is not valid UTF-8 or contains a NUL",
                           i);
        if (!(src->name = st_strndup((const char *)p, len)))
            return rd_nomem(r);
        TRY(rd_need(r, 64, 1, "sha256"));
        TRY(rd_take(r, 64, &p));
        for (int j = 0; j < 64; j++) {
            unsigned char c = p[j];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return rd_fail(r, "source %" PRIu32 ": sha256 is not 64 lowercase hex digits",
                               i);
            src->sha256[j] = (char)c;
        }
        src->sha256[64] = '\0';
        TRY(rd_u64(r, &src->records, "records"));
        TRY(rd_need(r, k, 8, "per_label"));
        if (!(src->per_label = alloc_n(k, sizeof *src->per_label)))
            return rd_nomem(r);
        TRY(rd_take(r, 8 * k, &p)); /* k <= 1024 */
        uint64_t sum = 0;
        for (uint64_t l = 0; l < k; l++) {
            src->per_label[l] = get64(p + 8 * l);
            if (src->per_label[l] > UINT64_MAX - sum)
                return rd_fail(r, "source %" PRIu32 ": per-label counts overflow", i);
            sum += src->per_label[l];
        }
        if (sum != src->records)
            return rd_fail(r, "source %" PRIu32 ": per-label counts sum to %" PRIu64
                           ", records is %" PRIu64, i, sum, src->records);
    }
    return rd_end(r);
}

static int dec_idnt(rd *r, stance_model *m)
{
    const unsigned char *p;
    if (r->left != 32)
        return rd_fail(r, "the identity is %" PRIu64 " bytes, not 32", r->left);
    TRY(rd_take(r, 32, &p));
    for (int i = 0; i < 8; i++)
        snprintf(m->id + 2 * i, 3, "%02x", p[i]);
    return STANCE_OK;
}

static int (*const decoders[NSEC])(rd *, stance_model *) = {
    dec_labl, dec_feat, dec_vocb, dec_svmc, dec_trai, dec_cvmt, dec_srcs, dec_idnt,
};

/* Inflate exactly ulen bytes out of exactly clen bytes.  The output buffer
 * has one byte to spare so that a stream longer than announced is caught. */
static int inflate_exact(const unsigned char *in, size_t clen, unsigned char *out, size_t ulen,
                         const char *name, stance_error *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return st_error(err, STANCE_ERR_NOMEM, "%s: cannot start zlib", name);
    size_t in_left = clen;
    z.next_out = out;
    z.avail_out = (uInt)(ulen + 1); /* ulen <= 2 GiB */
    int rc = STANCE_OK, zrc;
    for (;;) {
        if (z.avail_in == 0 && in_left > 0) {
            uInt chunk = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
            z.next_in = (Bytef *)(uintptr_t)(in + (clen - in_left));
            z.avail_in = chunk;
            in_left -= chunk;
        }
        zrc = inflate(&z, Z_NO_FLUSH);
        if (zrc == Z_STREAM_END)
            break;
        if (zrc == Z_OK && z.avail_out > 0)
            continue;
        if (zrc == Z_OK || (zrc == Z_BUF_ERROR && z.avail_out == 0)) {
            rc = st_error(err, STANCE_ERR_MODEL,
                          "%s: the payload inflates to more than the %zu bytes announced", name,
                          ulen);
        } else if (zrc == Z_BUF_ERROR) {
            rc = st_error(err, STANCE_ERR_MODEL, "%s: the compressed payload is truncated",
                          name);
        } else if (zrc == Z_MEM_ERROR) {
            rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory inflating the payload",
                          name);
        } else {
            rc = st_error(err, STANCE_ERR_MODEL, "%s: the compressed payload is corrupt (%s)",
                          name, z.msg ? z.msg : "zlib error");
        }
        goto done;
    }
    size_t produced = ulen + 1 - z.avail_out;
    size_t unused = in_left + z.avail_in;
    if (produced != ulen)
        rc = st_error(err, STANCE_ERR_MODEL,
                      "%s: the payload inflates to %zu bytes, the header says %zu", name,
                      produced, ulen);
    else if (unused != 0)
        rc = st_error(err, STANCE_ERR_MODEL,
                      "%s: the compressed stream ends %zu bytes before its announced length",
                      name, unused);
done:
    inflateEnd(&z);
    return rc;
}


/* What a header announces, once check_header has accepted it. */
typedef struct hdr {
    uint32_t version;
    uint64_t ulen, clen;
    uint32_t crc;
} hdr;

/* data holds the first min(len, HEADER_LEN) bytes of a file of len bytes. */
static int check_header(const unsigned char *data, uint64_t len, const char *name, hdr *h,
                        stance_error *err)
{
    if (len == 0)
        return st_error(err, STANCE_ERR_MODEL, "%s: not a stance model file (empty)", name);
    if (memcmp(data, MAGIC, len < 8 ? (size_t)len : 8) != 0)
        return st_error(err, STANCE_ERR_MODEL, "%s: not a stance model file (bad magic)", name);
    if (len < HEADER_LEN)
        return st_error(err, STANCE_ERR_MODEL,
                        "%s: truncated: %" PRIu64 " bytes, shorter than the %u-byte header", name,
                        len, HEADER_LEN);
    uint32_t version = get32(data + 8);
    if (version == 0)
        return st_error(err, STANCE_ERR_MODEL, "%s: invalid model format version 0", name);
    if (version > FORMAT_VERSION)
        return st_error(err, STANCE_ERR_VERSION,
                        "%s: model format version %" PRIu32
                        " is newer than this build supports (%u)",
                        name, version, FORMAT_VERSION);
    uint32_t flags = get32(data + 12);
    if (flags != 0)
        return st_error(err, STANCE_ERR_MODEL, "%s: unknown header flags 0x%08" PRIx32, name,
                        flags);
    uint64_t ulen = get64(data + 16);
    uint64_t clen = get64(data + 24);
    uint64_t rest = len - HEADER_LEN;
    const char *what = version == FORMAT_DEFLATE ? "compressed" : "payload";
    if (clen > rest)
        return st_error(err, STANCE_ERR_MODEL,
                        "%s: truncated: the header announces %" PRIu64
                        " %s bytes but %" PRIu64 " follow",
                        name, clen, what, rest);
    if (clen < rest)
        return st_error(err, STANCE_ERR_MODEL,
                        "%s: %" PRIu64 " bytes of trailing garbage after the %" PRIu64
                        "-byte %s%s",
                        name, rest - clen, clen, what,
                        version == FORMAT_DEFLATE ? " payload" : "");
    if (ulen < 12)
        return st_error(err, STANCE_ERR_MODEL,
                        "%s: the header announces a payload of %" PRIu64 " bytes, too small",
                        name, ulen);
    if (ulen > MAX_PAYLOAD)
        return st_error(err, STANCE_ERR_MODEL,
                        "%s: the header announces a payload of %" PRIu64
                        " bytes, over the 2 GiB limit",
                        name, ulen);
    if (version == FORMAT_DEFLATE && ulen / MAX_DEFLATE_RATIO > clen)
        return st_error(err, STANCE_ERR_MODEL,
                        "%s: a payload of %" PRIu64 " bytes cannot come from %" PRIu64
                        " compressed bytes",
                        name, ulen, clen);
    if (version == FORMAT_STORED && ulen != clen)
        return st_error(err, STANCE_ERR_MODEL,
                        "%s: the header announces a payload of %" PRIu64 " bytes in %" PRIu64
                        " bytes, but format %u stores it as it is",
                        name, ulen, clen, FORMAT_STORED);
    h->version = version;
    h->ulen = ulen;
    h->clen = clen;
    h->crc = get32(data + 32);
    return STANCE_OK;
}

static int bad_crc(uint32_t actual, uint32_t want, const char *name, stance_error *err)
{
    return st_error(err, STANCE_ERR_MODEL,
                    "%s: checksum mismatch: the payload's CRC-32 is %08" PRIx32
                    ", the header says %08" PRIx32 " (corrupt file)",
                    name, actual, want);
}

/* The tag and length of the section at in->pos, which must be one this
 * version knows; *which is its index in sections[]. */
static int section_header(pin *in, int *which, uint64_t *slen, const char *name,
                          stance_error *err)
{
    uint64_t pos = in->pos, left = in->len - in->pos;
    if (left < 12)
        return st_error(err, STANCE_ERR_MODEL,
                        "%s: truncated section header at payload offset %" PRIu64, name, pos);
    rd r = {in, left, name, "header", err};
    const unsigned char *p;
    TRY(rd_take(&r, 12, &p));
    char tag[5];
    for (int i = 0; i < 4; i++)
        tag[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    tag[4] = '\0';
    *slen = get64(p + 4);
    *which = -1;
    for (int i = 0; i < NSEC; i++)
        if (memcmp(p, sections[i].tag, 4) == 0)
            *which = i;
    if (*slen > left - 12)
        return st_error(err, STANCE_ERR_MODEL,
                        "%s: section %s at payload offset %" PRIu64 ": its %" PRIu64
                        " bytes run past the payload's end (%" PRIu64 " left)",
                        name, tag, pos, *slen, left - 12);
    if (*which < 0)
        return st_error(err, STANCE_ERR_MODEL,
                        "%s: unknown section '%s' at payload offset %" PRIu64, name, tag, pos);
    return STANCE_OK;
}

static int missing(int i, const char *name, stance_error *err)
{
    return st_error(err, STANCE_ERR_MODEL, "%s: missing section %s", name, sections[i].tag);
}

static int twice(int i, const char *name, stance_error *err)
{
    return st_error(err, STANCE_ERR_MODEL, "%s: section %s appears twice", name,
                    sections[i].tag);
}

/* Format 1: the sections may come in any order, and are decoded in the
 * order their cross-checks need.  The payload is in memory. */
static int decode_any_order(pin *in, stance_model *m, const char *name, stance_error *err)
{
    uint64_t at[NSEC] = {0}, len[NSEC] = {0};
    int seen[NSEC] = {0};
    while (in->pos < in->len) {
        int which;
        uint64_t slen;
        TRY(section_header(in, &which, &slen, name, err));
        if (seen[which])
            return twice(which, name, err);
        seen[which] = 1;
        at[which] = in->pos;
        len[which] = slen;
        in->pos += slen;
    }
    for (int i = 0; i < NSEC; i++)
        if (sections[i].required && !seen[i])
            return missing(i, name, err);
    for (int i = 0; i < NSEC; i++) {
        if (!seen[i])
            continue;
        in->pos = at[i];
        rd r = {in, len[i], name, sections[i].tag, err};
        TRY(decoders[i](&r, m));
    }
    return STANCE_OK;
}

/* Format 2: the sections come in the order of sections[], so that each is
 * decoded as it is read, after those it depends on. */
static int decode_in_order(pin *in, stance_model *m, const char *name, stance_error *err)
{
    int seen[NSEC] = {0}, last = -1;
    while (in->pos < in->len) {
        int which;
        uint64_t slen;
        TRY(section_header(in, &which, &slen, name, err));
        if (seen[which])
            return twice(which, name, err);
        for (int i = 0; i < which; i++)
            if (sections[i].required && !seen[i])
                return st_error(err, STANCE_ERR_MODEL,
                                "%s: missing section %s before section %s (format %u keeps "
                                "the sections in order)", name, sections[i].tag,
                                sections[which].tag, FORMAT_STORED);
        if (which < last)
            return st_error(err, STANCE_ERR_MODEL,
                            "%s: section %s comes after %s: format %u keeps the sections in "
                            "order", name, sections[which].tag, sections[last].tag,
                            FORMAT_STORED);
        seen[which] = 1;
        last = which;
        rd r = {in, slen, name, sections[which].tag, err};
        TRY(decoders[which](&r, m));
    }
    for (int i = 0; i < NSEC; i++)
        if (sections[i].required && !seen[i])
            return missing(i, name, err);
    return STANCE_OK;
}

/* Validates and decodes a whole file in memory; leaves out the vocabulary
 * index. */
static int parse_model(const unsigned char *data, size_t len, const char *name,
                       stance_model **out, stance_error *err)
{
    unsigned char *payload = NULL;
    stance_model *m = NULL;
    hdr h;
    int rc;

    if (!out)
        return st_error(err, STANCE_ERR_ARG, "no place for the model");
    *out = NULL;
    if (!name)
        name = "<buffer>";
    if (!data && len > 0)
        return st_error(err, STANCE_ERR_ARG, "%s: no data", name);
    if ((rc = check_header(data, len, name, &h, err)) != STANCE_OK)
        return rc;

    const unsigned char *pl = data + HEADER_LEN;
    if (h.version == FORMAT_DEFLATE) {
        if (!(payload = malloc((size_t)h.ulen + 1)))
            return st_error(err, STANCE_ERR_NOMEM, "%s: out of memory for the payload", name);
        rc = inflate_exact(pl, (size_t)h.clen, payload, (size_t)h.ulen, name, err);
        if (rc != STANCE_OK)
            goto done;
        pl = payload;
    }
    uint32_t actual = crc32_of(pl, (size_t)h.ulen);
    if (actual != h.crc) {
        rc = bad_crc(actual, h.crc, name, err);
        goto done;
    }
    if (!(m = st_model_alloc())) {
        rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    m->format = (int)h.version;
    pin in = {.mem = pl, .len = h.ulen, .name = name, .err = err};
    rc = h.version == FORMAT_DEFLATE ? decode_any_order(&in, m, name, err)
                                     : decode_in_order(&in, m, name, err);
    if (rc != STANCE_OK)
        goto done;
    *out = m;
    m = NULL;
done:
    stance_model_free(m);
    free(payload);
    return rc;
}

/* The vocabulary index and the classifier's prediction tables. */
static int finish_model(stance_model *m, const char *name, stance_error *err)
{
    int rc;
    if ((rc = st_vocab_index(&m->vocab)) != STANCE_OK ||
        (rc = st_svm_prepare(m->svm, &m->vocab)) != STANCE_OK)
        return st_error(err, rc == STANCE_ERR_NOMEM ? STANCE_ERR_NOMEM : STANCE_ERR_MODEL,
                        "%s: cannot index the vocabulary (%s)", name ? name : "<buffer>",
                        stance_status_name(rc));
    return STANCE_OK;
}

int st_model_decode(const unsigned char *data, size_t len, const char *name, stance_model **out,
                    stance_error *err)
{
    stance_model *m = NULL;
    if (out)
        *out = NULL;
    int rc = parse_model(data, len, name, out ? &m : NULL, err);
    if (rc != STANCE_OK)
        return rc;
    if ((rc = finish_model(m, name, err)) != STANCE_OK) {
        stance_model_free(m);
        return rc;
    }
    *out = m;
    return STANCE_OK;
}

/* A format 2 file of size bytes, decoded as it is read (header already
 * read).  The CRC-32 is only known at the end: a section that fails to
 * decode leaves the rest to be read anyway, so that a corrupt file is
 * reported as such whatever the corruption looks like, as from memory. */
static int load_stream(int fd, const unsigned char *header, uint64_t size, const char *name,
                       stance_model **out, stance_error *err)
{
    stance_model *m = NULL;
    hdr h;
    int rc = check_header(header, size, name, &h, err);
    if (rc != STANCE_OK)
        return rc;
    pin in = {.len = h.ulen, .fd = fd, .name = name, .err = err};
    in.crc = 0;
    in.cap = h.ulen < PIN_CHUNK ? (size_t)h.ulen : PIN_CHUNK;
    if (!(in.buf = malloc(in.cap)) || !(m = st_model_alloc())) {
        rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    m->format = (int)h.version;
    rc = decode_in_order(&in, m, name, err);
    if (in.status == STANCE_OK) {
        if (pin_drain(&in) != STANCE_OK)
            rc = in.status;
        else if (in.crc != h.crc)
            rc = bad_crc(in.crc, h.crc, name, err);
    }
    if (rc == STANCE_OK)
        rc = finish_model(m, name, err);
    if (rc == STANCE_OK) {
        *out = m;
        m = NULL;
    }
done:
    stance_model_free(m);
    free(in.buf);
    return rc;
}

int st_model_set_id(stance_model *m, stance_error *err)
{
    wr w = {{0}, STANCE_OK};
    w_payload(&w, m);
    if (w.status != STANCE_OK) {
        st_buf_free(&w.b);
        return st_error(err, w.status, "cannot encode the model to compute its id");
    }
    unsigned char digest[32];
    st_sha256 ctx;
    st_sha256_init(&ctx);
    st_sha256_update(&ctx, w.b.data, w.b.len);
    st_sha256_final(&ctx, digest);
    st_buf_free(&w.b);
    for (int i = 0; i < 8; i++)
        snprintf(m->id + 2 * i, 3, "%02x", digest[i]);
    return STANCE_OK;
}

int stance_model_load_buffer(const void *data, size_t len, stance_model **out, stance_error *err)
{
    return st_model_decode(data, len, "<buffer>", out, err);
}

int stance_model_load(const char *path, stance_model **out, stance_error *err)
{
    if (!out)
        return st_error(err, STANCE_ERR_ARG, "stance_model_load: no place for the model");
    *out = NULL;
    if (!path)
        return st_error(err, STANCE_ERR_ARG, "stance_model_load: no path");

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return st_error(err, STANCE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* A format 2 file is decoded as it is read, straight into the model's
     * tables; anything else (format 1, a pipe, not a model) is read whole
     * first. */
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)HEADER_LEN &&
        (uint64_t)st.st_size <= MAX_FILE) {
        unsigned char header[HEADER_LEN];
        size_t got = 0;
        while (got < HEADER_LEN) {
            ssize_t r = pread(fd, header + got, HEADER_LEN - got, (off_t)got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got == HEADER_LEN && memcmp(header, MAGIC, 8) == 0 &&
            get32(header + 8) == FORMAT_STORED) {
            int rc = load_stream(fd, header, (uint64_t)st.st_size, path, out, err);
            close(fd);
            return rc;
        }
    }

    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        return st_error(err, STANCE_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = STANCE_OK;
    const size_t max = (uint64_t)SIZE_MAX < MAX_FILE ? SIZE_MAX - 1 : (size_t)MAX_FILE;
    for (;;) {
        if (len == cap) {
            if (cap >= max) {
                rc = st_error(err, STANCE_ERR_MODEL,
                              "%s: 4 GiB or more, too large for a stance model file", path);
                goto done;
            }
            size_t ncap = cap ? (cap > max / 2 ? max : cap * 2) : 65536;
            unsigned char *p = realloc(buf, ncap);
            if (!p) {
                rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory reading the file", path);
                goto done;
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (ferror(f)) {
            rc = st_error(err, STANCE_ERR_IO, "%s: read error: %s", path, strerror(errno));
            goto done;
        }
        if (got == 0 || feof(f))
            break;
        /* Not a model (a FIFO, /dev/zero, a large text file): no need to
         * read gigabytes to say so. */
        if (len >= 8 && memcmp(buf, MAGIC, 8) != 0)
            break;
    }
    fclose(f);
    f = NULL;
    rc = st_model_decode(buf, len, path, out, err);
done:
    if (f)
        fclose(f);
    free(buf);
    return rc;
}

typedef struct bytes {
    const unsigned char *p;
    size_t n;
} bytes;

static int write_bytes(FILE *f, void *ctx)
{
    const bytes *b = ctx;
    return fwrite(b->p, 1, b->n, f) == b->n ? 0 : -1;
}

static int save(const stance_model *m, const char *path, unsigned format, stance_error *err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    if (!m || !path || !*path)
        return st_error(err, STANCE_ERR_ARG, "stance_model_save: no model or no path");
    int rc = st_model_encode_format(m, format, &data, &len, err);
    if (rc != STANCE_OK)
        return rc;
    bytes b = {data, len};
    rc = st_write_atomic(path, write_bytes, &b, err);
    free(data);
    return rc;
}

int stance_model_save(const stance_model *m, const char *path, stance_error *err)
{
    return save(m, path, FORMAT_STORED, err);
}

int stance_model_save_compressed(const stance_model *m, const char *path, stance_error *err)
{
    return save(m, path, FORMAT_DEFLATE, err);
}
