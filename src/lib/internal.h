/*
 * internal.h - what the library's modules share with each other and with the
 * unit tests, and nobody else.  Symbols here are hidden from libstance.so.
 *
 * Module map (one folder per pipeline stage):
 *   text/       bytes -> validated UTF-8 (U+FFFD repair, NUL = binary)
 *   sentences/  UTF-8 -> sentence spans (ICU ubrk over UText, no UTF-16 copy)
 *   tokens/     sentence -> normalised tokens (utf8proc NFKC+casefold, ICU words)
 *   features/   tokens -> hashed n-gram counts -> sublinear tf-idf, L2 normalised
 *   svm/        features -> pairwise decision values -> probabilities
 *   model/      the model in memory, and model_file.c: its bytes on disk
 *   corpus/     labelled corpus files (TSV, JSON Lines, gzip)
 *   train/      training, cross-validation, grid search
 *   eval/       precision, recall, F1, confusion matrix
 *   util/       errors, growable buffers, JSON, SHA-256, PRNG
 */
#ifndef STANCE_INTERNAL_H
#define STANCE_INTERNAL_H

#include "stance.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define STANCE_HIDDEN __attribute__((visibility("hidden")))
#define STANCE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define STANCE_HIDDEN
#define STANCE_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------ util */

/* Fill err (may be NULL) with code and a formatted message; returns code. */
STANCE_HIDDEN int st_error(stance_error *err, int code, const char *fmt, ...) STANCE_PRINTF(3, 4);

/* A growable byte buffer; always NUL-terminated when data != NULL. */
typedef struct st_buf {
    char *data;
    size_t len, cap;
} st_buf;
STANCE_HIDDEN int st_buf_reserve(st_buf *b, size_t extra);
STANCE_HIDDEN int st_buf_append(st_buf *b, const void *p, size_t n);
STANCE_HIDDEN int st_buf_printf(st_buf *b, const char *fmt, ...) STANCE_PRINTF(2, 3);
STANCE_HIDDEN void st_buf_free(st_buf *b);
/* A reusable scratch array of at least need bytes at *p (capacity *cap).
 * One that a huge input grew past keep bytes is freed first when need is
 * under a quarter of it, so a long-lived owner does not keep its peak.
 * STANCE_OK, or STANCE_ERR_NOMEM (*p and *cap then describe what is left:
 * the old array, or none if it was the one freed). */
STANCE_HIDDEN int st_scratch(char **p, size_t *cap, size_t need, size_t keep);
/* A large table read at random: 2 MiB aligned and offered for transparent
 * huge pages (zeroed if zero); NULL when out of memory; free() frees it. */
STANCE_HIDDEN void *st_alloc_table(size_t size, int zero);

/* strdup that returns NULL on NULL input or on failure. */
STANCE_HIDDEN char *st_strdup(const char *s);
STANCE_HIDDEN char *st_strndup(const char *s, size_t n);

/* SHA-256. */
typedef struct st_sha256 {
    uint32_t h[8];
    uint64_t nbytes;
    unsigned char block[64];
    size_t fill;
} st_sha256;
STANCE_HIDDEN void st_sha256_init(st_sha256 *c);
STANCE_HIDDEN void st_sha256_update(st_sha256 *c, const void *p, size_t n);
STANCE_HIDDEN void st_sha256_final(st_sha256 *c, unsigned char out[32]);
STANCE_HIDDEN void st_sha256_hex(const void *p, size_t n, char out[65]);

/* splitmix64-seeded xoshiro256** : deterministic across platforms. */
typedef struct st_rng { uint64_t s[4]; } st_rng;
STANCE_HIDDEN void st_rng_seed(st_rng *r, uint64_t seed);
STANCE_HIDDEN uint64_t st_rng_next(st_rng *r);
STANCE_HIDDEN uint64_t st_rng_below(st_rng *r, uint64_t n); /* uniform in [0,n) */
/* perm[0..n) = a uniformly random permutation of 0..n-1. */
STANCE_HIDDEN void st_rng_shuffle(st_rng *r, size_t *perm, size_t n);

/* Write path through writer(f, ctx) (non-zero: failure) into a temporary
 * file beside it, flushed and fsync'ed, then renamed into place: a crash
 * leaves the old file or the new one, never half of one. */
STANCE_HIDDEN int st_write_atomic(const char *path, int (*writer)(FILE *f, void *ctx), void *ctx,
                                  stance_error *err);

/* Read a whole file, transparently gunzipping when it starts with the gzip
 * magic (concatenated members too).  A truncated or corrupt gzip stream is
 * STANCE_ERR_FORMAT naming the file.  max_bytes 0 means no limit; over it is
 * STANCE_ERR_TOOBIG. *out is malloc'ed and NUL-terminated. */
STANCE_HIDDEN int st_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len,
                               stance_error *err);

/* ------------------------------------------------------------------ text */

/* Copy src into dst (capacity >= 3*len+1), replacing each invalid UTF-8
 * sequence by U+FFFD.  map (capacity >= 3*len+1, may be NULL) receives, for
 * each output byte, the source offset it came from, and map[out_len] = len.
 * Returns the output length; *ninvalid counts replacements; *has_nul is set
 * if a NUL byte occurs. */
STANCE_HIDDEN size_t st_utf8_repair(const char *src, size_t len, char *dst, uint32_t *map,
                                    size_t *ninvalid, int *has_nul);

/* Length (1..4) of the valid UTF-8 sequence at s, `left` bytes available,
 * or 0 if it is invalid: overlongs, surrogates, code points above U+10FFFF,
 * stray continuation bytes, truncated sequences. */
STANCE_HIDDEN size_t st_utf8_seq(const unsigned char *s, size_t left);

/* Non-zero when the bytes are valid UTF-8 with no NUL. */
STANCE_HIDDEN int st_utf8_valid(const char *s, size_t len);

/* ------------------------------------------------------------- sentences */

typedef struct st_span { size_t start, end; } st_span;

typedef struct st_segmenter st_segmenter;
STANCE_HIDDEN int st_segmenter_new(st_segmenter **out, stance_error *err);
STANCE_HIDDEN void st_segmenter_free(st_segmenter *sg);
/* Split valid UTF-8 text into sentence spans (byte offsets into text).  Line
 * breaks end sentences unless `wrapped`, where a single line break is a space
 * and a blank line ends a paragraph.  Whitespace-only spans are dropped and
 * spans are trimmed of surrounding white space.  *spans is owned by sg and
 * valid until the next call. */
STANCE_HIDDEN int st_segment(st_segmenter *sg, const char *text, size_t len, int wrapped,
                             const st_span **spans, size_t *n, stance_error *err);

/* ---------------------------------------------------------------- tokens */

/* utf8proc options used for normalisation; recorded in the model. */
#define ST_NORM_FLAGS_V1 0x1u /* NFKC + case folding + ignore default ignorables */

typedef struct st_tokenizer st_tokenizer;
STANCE_HIDDEN int st_tokenizer_new(st_tokenizer **out, stance_error *err);
STANCE_HIDDEN void st_tokenizer_free(st_tokenizer *tk);
/* Tests: on = always utf8proc's normalisation and ICU's word break
 * iterator, never a fast path. */
STANCE_HIDDEN void st_tokenizer_force_icu(st_tokenizer *tk, int on);
/* Tests: how many sentences were normalised by the code point table, and
 * split by word classes beyond ASCII, instead of utf8proc and ICU. */
STANCE_HIDDEN void st_tokenizer_counts(const st_tokenizer *tk, size_t *table_norms,
                                       size_t *class_words);
/* Normalise one sentence and split it into word, number and ideographic
 * tokens.  On success tokens[i] points at tok_len[i] bytes inside a buffer
 * owned by tk, valid until the next call. */
STANCE_HIDDEN int st_tokenize(st_tokenizer *tk, const char *text, size_t len,
                              const char *const **tokens, const size_t **tok_len, size_t *n,
                              stance_error *err);

/* -------------------------------------------------------------- features */

typedef struct st_feat_config {
    uint32_t hash_seed;
    uint8_t hash_bits;       /* buckets = 1 << hash_bits */
    uint8_t word_ngram_max;  /* 1..3 */
    uint8_t char_ngram_min;  /* 0 = no character n-grams */
    uint8_t char_ngram_max;
    uint32_t norm_flags;     /* ST_NORM_FLAGS_V1 */
    uint8_t sublinear_tf;    /* 1: 1+log(tf) */
} st_feat_config;

/* A sparse vector: feature indices ascending, values L2-normalised. */
typedef struct st_fvec {
    uint32_t *index;
    double *value;
    size_t n, cap;
} st_fvec;
STANCE_HIDDEN void st_fvec_free(st_fvec *v);

/* Bucket counts for one sentence, before the vocabulary is known. */
typedef struct st_counter st_counter;
STANCE_HIDDEN int st_counter_new(st_counter **out);
STANCE_HIDDEN void st_counter_free(st_counter *c);
/* Count the hashed n-grams of the tokens into c (cleared first).  Returns the
 * number of distinct buckets; buckets()/counts() read them back. */
STANCE_HIDDEN int st_count_features(st_counter *c, const st_feat_config *fc,
                                    const char *const *tokens, const size_t *tok_len, size_t n);
STANCE_HIDDEN size_t st_counter_size(const st_counter *c);

/* Bucket -> row (dense feature number) of a model: open addressing, key and
 * value in one word, (bucket + 1) << 32 | row, 0 = empty; mask + 1 slots,
 * at most half of them full. */
typedef struct st_rowmap {
    const uint64_t *slot;
    uint32_t mask;
    uint32_t nrows;     /* every row in slot is below this */
    /* optional: what will be read of each row counted, requested from
     * memory as soon as the row is first seen (NULL: nothing) */
    const char *prefetch;
    size_t stride;
} st_rowmap;

/* The first slot to probe for a bucket in a table of mask + 1 slots. */
static inline uint32_t st_rowmap_hash(uint32_t bucket, uint32_t mask)
{
    return ((bucket + 1) * 0x9E3779B1u) & mask;
}

static inline uint32_t st_rowmap_home(const st_rowmap *m, uint32_t bucket)
{
    return st_rowmap_hash(bucket, m->mask);
}

/* Put bucket -> row into a table being built (the bucket is not in it yet,
 * and it has a free slot). */
static inline void st_rowmap_insert(uint64_t *slot, uint32_t mask, uint32_t bucket, uint32_t row)
{
    uint32_t j = st_rowmap_hash(bucket, mask);
    while (slot[j])
        j = (j + 1) & mask;
    slot[j] = (uint64_t)(bucket + 1) << 32 | row;
}

/* The row of a bucket, UINT32_MAX if the model has none. */
static inline uint32_t st_rowmap_find(const st_rowmap *m, uint32_t bucket)
{
    uint32_t k = bucket + 1, j = st_rowmap_home(m, bucket);
    uint64_t e;
    while ((e = m->slot[j]) != 0) {
        if ((uint32_t)(e >> 32) == k)
            return (uint32_t)e;
        j = (j + 1) & m->mask;
    }
    return UINT32_MAX;
}
/* A per-session cache: token -> the rows of its unigram and character
 * n-grams. */
typedef struct st_rowcache st_rowcache;
STANCE_HIDDEN int st_rowcache_new(st_rowcache **out);
STANCE_HIDDEN void st_rowcache_free(st_rowcache *rc);
/* Like st_count_features, but counting model rows instead of buckets and
 * leaving out features the model does not have; the counter then holds
 * rows in the order their buckets would have come.  A row cache belongs to
 * one model (its map). */
STANCE_HIDDEN int st_count_rows(st_counter *c, st_rowcache *rc, const st_feat_config *fc,
                                const st_rowmap *map, const char *const *tokens,
                                const size_t *tok_len, size_t n);
STANCE_HIDDEN const uint32_t *st_counter_buckets(const st_counter *c);
STANCE_HIDDEN const uint32_t *st_counter_counts(const st_counter *c);

/* Vocabulary: sorted bucket ids -> dense feature index, with IDF weights. */
typedef struct st_vocab {
    uint32_t n;          /* features */
    uint32_t *bucket;    /* n, strictly ascending, < 1 << hash_bits */
    double *idf;         /* n, > 0 */
    /* lookup table, built by st_vocab_index (not stored in the file): open
     * addressing, key and value in one word so a probe is one cache miss;
     * (bucket + 1) << 32 | feature, 0 = empty */
    uint64_t *slot;
    uint32_t mask;
} st_vocab;
STANCE_HIDDEN int st_vocab_index(st_vocab *v);
STANCE_HIDDEN void st_vocab_free(st_vocab *v);
/* Dense index of a bucket, or UINT32_MAX when not in the vocabulary. */
STANCE_HIDDEN uint32_t st_vocab_find(const st_vocab *v, uint32_t bucket);
/* counts -> tf-idf vector over the vocabulary (sorted, L2-normalised). */
STANCE_HIDDEN int st_vectorize(const st_counter *c, const st_feat_config *fc, const st_vocab *v,
                               st_fvec *out);
/* The same without sorting the indices, for the linear decision function,
 * whose sum does not need them in order. */
STANCE_HIDDEN int st_vectorize_unordered(const st_counter *c, const st_feat_config *fc,
                                         const st_vocab *v, st_fvec *out);
/* Sort a vector's entries by index (in place). */
STANCE_HIDDEN void st_fvec_sort(st_fvec *x);

/* ------------------------------------------------------------------- svm */

/* The classifier: pairwise (one-vs-one) decision functions with Platt
 * sigmoids, coupled into class probabilities as libsvm does.  Pair p of
 * classes (i, j), i < j, is numbered in the order (0,1), (0,2) ... (0,k-1),
 * (1,2) ...; a positive decision value votes for i. */
typedef struct st_svm {
    int nclass;
    int npairs;          /* nclass*(nclass-1)/2 */
    int kernel;          /* stance_kernel */
    double gamma;        /* RBF */
    double *rho;         /* npairs: f_p(x) = w_p . x - rho_p */
    double *probA, *probB; /* npairs: P(i | i or j) = 1 / (1 + exp(A f + B)) */
    /* linear: nfeat * npairs weights, feature-major (w[f * npairs + p]);
     * NULL in a model loaded from a file, whose weights live only in the
     * fused rows (st_svm_weights finds them either way) */
    uint32_t nfeat;
    double *w;
    /* RBF: support vectors, grouped by class (nsv_class[c] each) */
    uint32_t nsv;
    uint32_t *nsv_class;   /* nclass */
    double *sv_coef;       /* (nclass - 1) * nsv, libsvm layout */
    uint64_t *sv_start;    /* nsv + 1 offsets into sv_index / sv_value */
    uint32_t *sv_index;    /* feature indices, ascending within a vector */
    double *sv_value;
    /* linear, built by st_svm_prepare (never stored): one row per feature,
     * its IDF then its npairs weights, so a sentence feature touches one
     * row; rows in order of decreasing document frequency (increasing IDF),
     * so the features most sentences use share a small, cache-resident
     * region; fslot maps (bucket + 1) << 32 | row, open addressing; frow
     * maps a feature to its row */
    double *fused;
    uint64_t *fslot;
    uint32_t *frow;
    uint32_t fmask;
    uint32_t fstride;  /* doubles from one fused row to the next: npairs + 1
                        * rounded up to 4, so a row never spans more cache
                        * lines than it must */
    double sublinear[16];  /* 1 + ln(tf) for the small counts of nearly every feature */
} st_svm;

STANCE_HIDDEN void st_svm_free(st_svm *s);
/* Squared Euclidean distance between x and the sparse vector (ix, v, n),
 * both with ascending indices. */
STANCE_HIDDEN double st_sparse_sqdist(const st_fvec *x, const uint32_t *ix, const double *v,
                                      size_t n);
/* Build the fused IDF-and-weights rows of a linear classifier over v from
 * its w (nothing to do when w is NULL: the loader built them). */
STANCE_HIDDEN int st_svm_prepare(st_svm *s, const st_vocab *v);
/* Allocate the fused rows, frow and the bucket index of a linear classifier
 * of nfeat == v->n features, and fill in all but the rows, which the caller
 * then fills, every one: st_svm_fill_row(s, f, idf of f) writes feature f's
 * IDF and padding and returns where its npairs weights go.  (Each row is
 * written once, in the order the caller has the weights.) */
STANCE_HIDDEN int st_svm_layout(st_svm *s, const st_vocab *v);
STANCE_HIDDEN double *st_svm_fill_row(st_svm *s, uint32_t f, double idf);
/* The npairs weights of feature f of a linear classifier: in w, or in its
 * fused row when there is no w. */
STANCE_HIDDEN const double *st_svm_weights(const st_svm *s, uint32_t f);
/* The bucket -> row map of a prepared linear classifier, for st_count_rows;
 * and the decision values from a counter of rows. */
STANCE_HIDDEN st_rowmap st_svm_rowmap(const st_svm *s);
STANCE_HIDDEN void st_svm_decision_rows(const st_svm *s, const st_counter *c, int sublinear_tf,
                                        double *dec);
/* Pairwise decision values (npairs) for x. */
STANCE_HIDDEN void st_svm_decision(const st_svm *s, const st_fvec *x, double *dec);
/* Class probabilities (nclass) from decision values; returns the argmax. The
 * scratch must hold 2 * nclass * nclass doubles. */
STANCE_HIDDEN int st_svm_probability(const st_svm *s, const double *dec, double *prob,
                                     double *scratch);

/* A compact training matrix for the dual coordinate descent solver: 4 bytes
 * per entry, against st_fvec's 12 and the 16 of a liblinear feature_node
 * (the solver is bound by memory traffic, so this is its speed as much as
 * its size).  Row r's entries are ent[start[r] .. start[r+1]), each a column
 * in the low 24 bits (vocabularies have at most 2^24 features) and a count
 * code above.  Entry (r, c) has the value tf[code] * idf[c] * inv_norm[r]:
 * the tf-idf vector of st_vectorize, L2-normalised, computed in double.
 * Code ST_CSR_ESCAPE marks a count too large for the code, its weight in
 * the overflow list (positions ascending).  Columns are features in order of
 * decreasing document frequency, so the weights nearly every row reads
 * share a few cache lines. */
#define ST_CSR_SHIFT 24
#define ST_CSR_CMASK 0xffffffu
#define ST_CSR_ESCAPE 255u
typedef struct st_csr {
    size_t n;
    uint64_t *start;        /* n + 1 */
    uint32_t *ent;
    double *inv_norm;       /* n: 1 / the row's norm before scaling (0: empty row) */
    double *sqnorm;         /* n: the row's squared norm after scaling (1, or 0) */
    uint32_t ncol;
    double *idf;            /* ncol: the IDF of each column */
    uint32_t *feature;      /* ncol: the feature number of each column (NULL: the same) */
    double tf[256];         /* count code -> term frequency weight */
    uint64_t *ovf_pos;      /* novf positions into ent, ascending */
    double *ovf_tf;         /* their weights */
    size_t novf;
} st_csr;

/* Training problem handed to the solvers. */
typedef struct st_problem {
    size_t n;
    const st_fvec *x;   /* n vectors (NULL when csr is given) */
    const int *y;       /* n labels in [0, nclass) */
    int nclass;
    uint32_t nfeat;
    const st_csr *csr;  /* the same rows compactly, for STANCE_SOLVER_DCD; or NULL */
} st_problem;

typedef struct st_svm_params {
    int kernel;
    int solver;         /* STANCE_SOLVER_LIBSVM, _LIBLINEAR or _DCD (resolved) */
    double C, gamma;
    const double *class_weight; /* nclass, or NULL */
    int probability;    /* fit the Platt sigmoids */
    uint64_t seed;
    int threads;        /* class pairs trained in parallel */
    int platt_folds;    /* Platt's decision values: 0 = 5-fold cross-validation;
                         * 1 = only the first of those 5 folds held out;
                         * 2 = held out for class pairs of at least
                         *     ST_HOLDOUT_MIN_PAIR examples, 5 folds below */
} st_svm_params;

/* A held-out fifth of this many examples is 500 decision values for the
 * sigmoid's two parameters; smaller class pairs keep 5 folds (platt_folds 2). */
#define ST_HOLDOUT_MIN_PAIR 2500

/* Train; the result owns all its memory (nothing points into prob). */
STANCE_HIDDEN int st_svm_train(const st_problem *prob, const st_svm_params *par, st_svm **out,
                               stance_error *err);

/* Test hook: train with libsvm and return both our folded classifier and
 * libsvm's own probability estimates for each x in `test` (ntest*nclass,
 * row-major, our class order). */
STANCE_HIDDEN int st_svm_reference_probabilities(const st_problem *prob, const st_svm_params *par,
                                                 const st_fvec *test, size_t ntest,
                                                 st_svm **out, double *ref_probs,
                                                 stance_error *err);

/* ----------------------------------------------------------------- model */

typedef struct st_source {
    char *name;          /* as given on the command line */
    char sha256[65];     /* hex */
    uint64_t records;    /* records kept from this file */
    uint64_t *per_label; /* nlabels */
} st_source;

typedef struct st_train_record {
    int kernel, solver, balanced, grid, cv_folds;
    double C, gamma;
    uint64_t seed;
    uint32_t min_df;
    char *group_by;      /* may be NULL */
    uint64_t sentences, duplicates;
} st_train_record;

struct stance_model {
    int nlabels;
    char **labels;       /* sorted, distinct, non-empty */
    st_feat_config fc;
    st_vocab vocab;
    st_svm *svm;
    st_train_record train;
    stance_metrics *cv;  /* may be NULL */
    size_t nsources;
    st_source *sources;
    char id[17];
    int format;          /* the file's format version; 0: not from a file */
};

STANCE_HIDDEN stance_model *st_model_alloc(void);

/* CRC-32 as zlib's crc32 computes it (st_crc32(0, p, n) == crc32(0, p, n)),
 * for any n. */
STANCE_HIDDEN uint32_t st_crc32(uint32_t crc, const void *p, size_t n);

/* model_file.c: the only code that knows the file's bytes. */
#define ST_MODEL_FORMAT 2 /* the file format version the writer writes */
STANCE_HIDDEN int st_model_encode(const stance_model *m, unsigned char **out, size_t *len,
                                  stance_error *err);
/* The same, in a given format version: 2 (stored, what st_model_encode
 * writes) or 1 (deflated). */
STANCE_HIDDEN int st_model_encode_format(const stance_model *m, unsigned format,
                                         unsigned char **out, size_t *len, stance_error *err);
STANCE_HIDDEN int st_model_decode(const unsigned char *data, size_t len, const char *name,
                                  stance_model **out, stance_error *err);
/* Set m->id as the file will record it (the SHA-256 of the encoded payload). */
STANCE_HIDDEN int st_model_set_id(stance_model *m, stance_error *err);

/* ------------------------------------------------------------------ eval */

STANCE_HIDDEN int st_metrics_new(int nlabels, const char *const *labels, stance_metrics **out);
STANCE_HIDDEN void st_metrics_add(stance_metrics *mt, int gold, int pred);
STANCE_HIDDEN void st_metrics_finish(stance_metrics *mt);

#endif /* STANCE_INTERNAL_H */
