/* train.c - from a labelled corpus to a model: features for every record,
 * the vocabulary and IDF learnt from the training part only, optional grid
 * search and k-fold cross-validation (stratified, or grouped so that no
 * group - a situation, a source - is in both the training and the test
 * folds), then the final model on everything.  Deterministic: the same
 * corpus, parameters and seed give the same bytes. */
#include "internal.h"
#include "corpus/corpus.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void stance_train_params_default(stance_train_params *p)
{
    memset(p, 0, sizeof *p);
    p->kernel = STANCE_KERNEL_LINEAR;
    p->solver = STANCE_SOLVER_AUTO;
    p->C = 1.0;
    p->gamma = 0;
    p->balanced = 1;
    p->word_ngram_max = 2;
    p->char_ngram_min = 5;
    p->char_ngram_max = 5;
    p->hash_bits = 22;
    p->hash_seed = 0x5eed;
    p->min_df = 2;
    p->cv_folds = 0;
    p->group_by = NULL;
    p->grid = 0;
    p->seed = 1;
    p->large_corpus = 2000;
    p->threads = 1;
    p->huge_corpus = 10000;
    p->calibration = STANCE_CALIBRATION_AUTO;
}

/* Ask for transparent huge pages for a large array: a thousandth of the
 * page faults while it is filled, and far fewer TLB misses when the solver
 * reads its rows in random order.  Only advice: nothing changes if the
 * system says no. */
static void advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (!p || bytes < 4 * huge)
        return;
    uintptr_t b = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (e > b)
        (void)madvise((void *)b, e - b, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

/* Hashed counts of every record, computed once and reused by every fold. */
typedef struct counts {
    size_t n;
    uint64_t *start;   /* n + 1 */
    uint32_t *bucket;
    uint32_t *count;
} counts;

static void counts_free(counts *c)
{
    free(c->start);
    free(c->bucket);
    free(c->count);
}

/* One record's text -> its bucket counts in ctr; returns the number of
 * distinct buckets, or a negative status. */
static int count_text(st_tokenizer *tk, st_counter *ctr, const st_feat_config *fc,
                      const char *text, stance_error *err)
{
    const char *const *tok;
    const size_t *tlen;
    size_t ntok;
    int rc = st_tokenize(tk, text, strlen(text), &tok, &tlen, &ntok, err);
    if (rc)
        return rc;
    int m = st_count_features(ctr, fc, tok, tlen, ntok);
    if (m < 0)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    return m;
}

/* The counts of records [r0, r1), for one thread of featurize. */
typedef struct feat_part {
    const stance_corpus *c;
    const st_feat_config *fc;
    size_t r0, r1;
    uint64_t *start;       /* the corpus-wide start array; this part's rows,
                            * relative to the part until joined */
    uint32_t *bucket, *count;
    size_t used;
    int rc;
    stance_error err;
    stance_progress_fn progress; /* the first part only */
    void *pctx;
    size_t total, nparts;
} feat_part;

/* Run fn on n parts of an array (part i at (char *)parts + i * size, n at
 * most 64): part 0 on this thread, the others on threads of their own, and
 * any whose thread cannot be started here after part 0, so that the work
 * is done whatever the system allows. */
static void run_parts(void *(*fn)(void *), void *parts, size_t size, int n)
{
    pthread_t tid[64];
    char *at = parts;
    int started = 1;
    for (int t = 1; t < n && t < 64; t++) {
        if (pthread_create(&tid[t], NULL, fn, at + (size_t)t * size) != 0)
            break;
        started++;
    }
    fn(at);
    for (int t = started; t < n; t++)
        fn(at + (size_t)t * size);
    for (int t = 1; t < started; t++)
        pthread_join(tid[t], NULL);
}

static void *feat_part_run(void *arg)
{
    feat_part *pt = arg;
    st_tokenizer *tk = NULL;
    st_counter *ctr = NULL;
    size_t cap = (pt->r1 - pt->r0) * 64 + 64, used = 0;
    pt->rc = st_tokenizer_new(&tk, &pt->err);
    if (pt->rc)
        return NULL;
    pt->bucket = malloc(cap * sizeof *pt->bucket);
    pt->count = malloc(cap * sizeof *pt->count);
    advise_huge(pt->bucket, cap * sizeof *pt->bucket);
    advise_huge(pt->count, cap * sizeof *pt->count);
    if (st_counter_new(&ctr) || !pt->bucket || !pt->count) {
        pt->rc = st_error(&pt->err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = pt->r0; i < pt->r1; i++) {
        int m = count_text(tk, ctr, pt->fc, stance_corpus_text(pt->c, i), &pt->err);
        if (m < 0) {
            pt->rc = m;
            goto done;
        }
        if (used + (size_t)m > cap) {
            while (used + (size_t)m > cap)
                cap *= 2;
            uint32_t *b = realloc(pt->bucket, cap * sizeof *b);
            if (b)
                pt->bucket = b;
            uint32_t *k = realloc(pt->count, cap * sizeof *k);
            if (k)
                pt->count = k;
            advise_huge(b, cap * sizeof *b);
            advise_huge(k, cap * sizeof *k);
            if (!b || !k) {
                pt->rc = st_error(&pt->err, STANCE_ERR_NOMEM, "out of memory");
                goto done;
            }
        }
        pt->start[i] = used;
        memcpy(pt->bucket + used, st_counter_buckets(ctr), (size_t)m * sizeof *pt->bucket);
        memcpy(pt->count + used, st_counter_counts(ctr), (size_t)m * sizeof *pt->count);
        used += (size_t)m;
        size_t done_here = i + 1 - pt->r0;
        if (pt->progress && (done_here % 1000 == 0 || i + 1 == pt->r1)) {
            /* an estimate: the other parts go at about the same pace */
            size_t est = done_here * pt->nparts;
            pt->progress(pt->pctx, "features", (long)(est < pt->total ? est : pt->total - 1),
                         (long)pt->total);
        }
    }
done:
    pt->used = used;
    st_counter_free(ctr);
    st_tokenizer_free(tk);
    return NULL;
}

/* The hashed counts of every record, on `threads` threads: each record's
 * counts depend on its text alone, so the result is the same for any thread
 * count. */
static int featurize(const stance_corpus *c, const st_feat_config *fc, int threads, counts *out,
                     stance_progress_fn progress, void *pctx, stance_error *err)
{
    const size_t n = stance_corpus_size(c);
    memset(out, 0, sizeof *out);
    out->n = n;
    out->start = malloc((n + 1) * sizeof *out->start);
    if (!out->start)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    if ((size_t)threads > n / 256 + 1)
        threads = (int)(n / 256 + 1);
    feat_part part[64];
    for (int t = 0; t < threads; t++) {
        memset(&part[t], 0, sizeof part[t]);
        part[t].c = c;
        part[t].fc = fc;
        part[t].r0 = n * (size_t)t / (size_t)threads;
        part[t].r1 = n * (size_t)(t + 1) / (size_t)threads;
        part[t].start = out->start;
        part[t].total = n;
        part[t].nparts = (size_t)threads;
    }
    part[0].progress = progress;
    part[0].pctx = pctx;
    run_parts(feat_part_run, part, sizeof *part, threads);
    int rc = STANCE_OK;
    for (int t = 0; t < threads && !rc; t++)
        if (part[t].rc) {
            /* the first failing record in corpus order, whatever the threads */
            rc = part[t].rc;
            if (err)
                *err = part[t].err;
        }
    if (!rc) {
        /* join: the first part's arrays grow to hold the others */
        size_t total = 0;
        for (int t = 0; t < threads; t++)
            total += part[t].used;
        uint32_t *b = realloc(part[0].bucket, (total ? total : 1) * sizeof *b);
        if (b)
            part[0].bucket = b;
        uint32_t *k = realloc(part[0].count, (total ? total : 1) * sizeof *k);
        if (k)
            part[0].count = k;
        advise_huge(b, total * sizeof *b);
        advise_huge(k, total * sizeof *k);
        if (!b || !k)
            rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        size_t o = part[0].used;
        for (int t = 1; t < threads && !rc; t++) {
            memcpy(part[0].bucket + o, part[t].bucket, part[t].used * sizeof *b);
            memcpy(part[0].count + o, part[t].count, part[t].used * sizeof *k);
            free(part[t].bucket);
            free(part[t].count);
            part[t].bucket = part[t].count = NULL;
            for (size_t i = part[t].r0; i < part[t].r1; i++)
                out->start[i] += o;
            o += part[t].used;
        }
        out->start[n] = o;
    }
    for (int t = rc ? 0 : 1; t < threads; t++) {
        free(part[t].bucket);
        free(part[t].count);
    }
    if (!rc) {
        out->bucket = part[0].bucket;
        out->count = part[0].count;
        if (progress)
            progress(pctx, "features", (long)n, (long)n);
    }
    return rc;
}

/* The vocabulary of the records in `use` (NULL: all): buckets seen in at
 * least min_df of them, with smoothed IDF ln((1+N)/(1+df)) + 1. */
static int build_vocab(const counts *cn, const unsigned char *use, const st_feat_config *fc,
                       uint32_t min_df, st_vocab *v)
{
    memset(v, 0, sizeof *v);
    size_t nb = (size_t)1 << fc->hash_bits;
    uint32_t *df = calloc(nb, sizeof *df);
    if (!df)
        return STANCE_ERR_NOMEM;
    size_t N = 0;
    for (size_t i = 0; i < cn->n; i++) {
        if (use && !use[i])
            continue;
        N++;
        for (uint64_t j = cn->start[i], e = cn->start[i + 1]; j < e; j++) {
            if (j + 16 < e)
                __builtin_prefetch(&df[cn->bucket[j + 16]], 1);
            df[cn->bucket[j]]++;
        }
    }
    uint32_t nf = 0;
    for (size_t b = 0; b < nb; b++)
        nf += df[b] >= min_df && df[b] > 0;
    v->n = nf;
    v->bucket = malloc((nf ? nf : 1) * sizeof *v->bucket);
    v->idf = malloc((nf ? nf : 1) * sizeof *v->idf);
    if (!v->bucket || !v->idf) {
        free(df);
        st_vocab_free(v);
        return STANCE_ERR_NOMEM;
    }
    uint32_t f = 0;
    for (size_t b = 0; b < nb; b++)
        if (df[b] >= min_df && df[b] > 0) {
            v->bucket[f] = (uint32_t)b;
            v->idf[f] = log((1.0 + (double)N) / (1.0 + df[b])) + 1.0;
            f++;
        }
    free(df);
    if (st_vocab_index(v)) {
        st_vocab_free(v);
        return STANCE_ERR_NOMEM;
    }
    return STANCE_OK;
}

/* The tf-idf vector of one stored record, as st_vectorize computes it from
 * a counter, sorted as the solvers need. */
static int vectorize_record(const counts *cn, size_t i, const st_feat_config *fc,
                            const st_vocab *v, st_fvec *out)
{
    size_t m = (size_t)(cn->start[i + 1] - cn->start[i]);
    const uint32_t *b = cn->bucket + cn->start[i], *k = cn->count + cn->start[i];
    out->n = 0;
    if (m + 1 > out->cap) {
        size_t cap = m + 1;
        uint32_t *ix = realloc(out->index, cap * sizeof *ix);
        if (!ix)
            return STANCE_ERR_NOMEM;
        out->index = ix;
        double *val = realloc(out->value, cap * sizeof *val);
        if (!val)
            return STANCE_ERR_NOMEM;
        out->value = val;
        out->cap = cap;
    }
    double norm = 0;
    size_t o = 0;
    for (size_t j = 0; j < m; j++) {
        uint32_t f = st_vocab_find(v, b[j]);
        if (f == UINT32_MAX)
            continue;
        double x = (fc->sublinear_tf ? 1.0 + log((double)k[j]) : (double)k[j]) * v->idf[f];
        out->index[o] = f;
        out->value[o] = x;
        o++;
        norm += x * x;
    }
    if (norm > 0) {
        double inv = 1.0 / sqrt(norm);
        for (size_t j = 0; j < o; j++)
            out->value[j] *= inv;
    }
    out->n = o;
    st_fvec_sort(out);
    return STANCE_OK;
}

static void free_vectors(st_fvec *x, size_t n)
{
    if (!x)
        return;
    for (size_t i = 0; i < n; i++)
        st_fvec_free(&x[i]);
    free(x);
}

typedef struct job {
    const stance_corpus *c;
    const stance_train_params *p;
    st_feat_config fc;
    counts cn;
    int nlabels;
    char **labels;
    int *y;
    double *class_weight;
    stance_progress_fn progress;
    void *pctx;
    st_vocab *vocab_all;   /* the vocabulary of every record, built once; taken
                            * by the fit on all records */
} job;

static void class_weights(const job *jb, const unsigned char *use, double *w)
{
    const int k = jb->nlabels;
    size_t total = 0;
    for (int c = 0; c < k; c++)
        w[c] = 0;
    for (size_t i = 0; i < jb->cn.n; i++)
        if (!use || use[i]) {
            w[jb->y[i]] += 1;
            total++;
        }
    for (int c = 0; c < k; c++)
        w[c] = (jb->p->balanced && w[c] > 0) ? (double)total / ((double)k * w[c]) : 1.0;
}

/* The solver for a corpus of n sentences.  libsvm's SMO grows faster than
 * linearly, so above large_corpus (2,000) liblinear takes over; above
 * huge_corpus (10,000) our own DCD solver does.  It solves liblinear's
 * problem with liblinear's stopping rule, but liblinear's global rand()
 * serialises it to one class pair at a time, where DCD runs the pairs on
 * every core from a matrix of 4 bytes per entry built once.  Measured with
 * tools/bench --train data on 2 cores: 100,000 sentences, CPU seconds:
 * liblinear 61.8 s and 1.47 GB with 5-fold calibration, 25.7 s with the
 * held-out one; DCD 50.7 s with 5 folds, 13.2 s and 0.59 GB held out, with
 * the same held-out macro-F1 (0.809 / 0.810).  The default (DCD, held out)
 * against liblinear with 5 folds, wall seconds: 2.0 against 7.2 at 10,000
 * sentences, 3.6 against 17.5 at 30,000.  Up to 10,000 sentences nothing
 * changes: the default model (5,121) is liblinear's, byte for byte. */
static int resolve_solver(const job *jb, size_t n)
{
    if (jb->p->kernel == STANCE_KERNEL_RBF)
        return STANCE_SOLVER_LIBSVM;
    if (jb->p->solver != STANCE_SOLVER_AUTO)
        return jb->p->solver;
    if (n > jb->p->huge_corpus)
        return STANCE_SOLVER_DCD;
    return n > jb->p->large_corpus ? STANCE_SOLVER_LIBLINEAR : STANCE_SOLVER_LIBSVM;
}

/* Platt's decision values for a corpus of n sentences: 5-fold
 * cross-validated, as libsvm does, up to huge_corpus; above, those of one
 * held-out fold of the five - one extra training per pair instead of five -
 * for every class pair of at least ST_HOLDOUT_MIN_PAIR examples (500
 * held-out values or more for the sigmoid's two parameters; smaller pairs
 * of a skewed label set keep 5 folds).  On the bench's held-out records
 * this calibrates no worse: log-loss 0.556 against 0.599 and expected
 * calibration error 0.066 against 0.083 at 100,000 sentences, 0.523 / 0.529
 * and 0.025 / 0.041 at 10,000, 0.630 / 0.695 and 0.089 / 0.102 at
 * 1,000,000, macro-F1 within 0.001. */
static int platt_folds(const job *jb, size_t n)
{
    if (jb->p->calibration == STANCE_CALIBRATION_HOLDOUT)
        return 1;
    if (jb->p->calibration == STANCE_CALIBRATION_CV)
        return 0;
    return n > jb->p->huge_corpus ? 2 : 0;
}

static void csr_free(st_csr *X)
{
    free(X->start);
    free(X->ent);
    free(X->inv_norm);
    free(X->sqnorm);
    free(X->idf);
    free(X->feature);
    free(X->ovf_pos);
    free(X->ovf_tf);
    memset(X, 0, sizeof *X);
}

/* A range of rows for one thread of build_csr. */
typedef struct csr_part {
    const counts *cn;
    const st_feat_config *fc;
    const st_vocab *v;
    const size_t *rec;     /* the record of each row */
    size_t r0, r1;         /* rows of this part */
    st_csr *X;
    const uint32_t *col;   /* hash bucket -> column, UINT32_MAX: none */
    uint64_t base, used;   /* where the part's entries start, and how many */
    size_t novf;           /* escaped counts */
} csr_part;

static double tf_weight(const st_feat_config *fc, uint32_t k)
{
    return fc->sublinear_tf ? 1.0 + log((double)k) : (double)k;
}

static void *csr_part_run(void *arg)
{
    csr_part *pt = arg;
    st_csr *X = pt->X;
    const counts *cn = pt->cn;
    uint64_t o = pt->base;
    size_t novf = 0;
    for (size_t r = pt->r0; r < pt->r1; r++) {
        size_t i = pt->rec[r];
        double norm = 0;
        X->start[r] = o;
        /* the norm as vectorize_record computes it */
        const uint64_t end = cn->start[i + 1];
        for (uint64_t j = cn->start[i]; j < end; j++) {
            /* the table look-ups are the cost: start them early */
            if (j + 16 < end)
                __builtin_prefetch(&pt->col[cn->bucket[j + 16]]);
            uint32_t c = pt->col[cn->bucket[j]];
            if (c == UINT32_MAX)
                continue;
            uint32_t k = cn->count[j];
            uint32_t code = k < ST_CSR_ESCAPE ? k : ST_CSR_ESCAPE;
            double x = (code < ST_CSR_ESCAPE ? X->tf[code] : tf_weight(pt->fc, k)) * X->idf[c];
            norm += x * x;
            novf += code == ST_CSR_ESCAPE;
            X->ent[o++] = c | code << ST_CSR_SHIFT;
        }
        double inv = norm > 0 ? 1.0 / sqrt(norm) : 0.0;
        X->inv_norm[r] = inv;
        X->sqnorm[r] = norm * inv * inv;
    }
    pt->used = o - pt->base;
    pt->novf = novf;
    return NULL;
}

typedef struct idf_feature {
    double idf;
    uint32_t f;
} idf_feature;

static int cmp_idf_feature(const void *a, const void *b)
{
    const idf_feature *x = a, *y = b;
    return x->idf < y->idf ? -1 : x->idf > y->idf ? 1 : (x->f > y->f) - (x->f < y->f);
}

/* The records in `use` (NULL: all) as a compact matrix over vocabulary v,
 * built on `threads` threads (each row depends on its record only, so the
 * result does not depend on the thread count). */
static int build_csr(const counts *cn, const unsigned char *use, const st_feat_config *fc,
                     const st_vocab *v, int threads, st_csr *X)
{
    memset(X, 0, sizeof *X);
    size_t n = 0;
    for (size_t i = 0; i < cn->n; i++)
        n += !use || use[i];
    size_t *rec = malloc((n ? n : 1) * sizeof *rec);
    /* a direct table from hash bucket to column: one look-up per entry, in
     * a table whose frequent part stays in the cache */
    uint32_t *col = malloc(((size_t)1 << fc->hash_bits) * sizeof *col);
    X->n = n;
    X->ncol = v->n;
    X->start = malloc((n + 1) * sizeof *X->start);
    X->inv_norm = malloc((n ? n : 1) * sizeof *X->inv_norm);
    X->sqnorm = malloc((n ? n : 1) * sizeof *X->sqnorm);
    X->idf = malloc(((size_t)v->n + 1) * sizeof *X->idf);
    X->feature = malloc(((size_t)v->n + 1) * sizeof *X->feature);
    uint64_t cap = 0;
    size_t m = 0;
    if (!rec || !col || !X->start || !X->inv_norm || !X->sqnorm || !X->idf || !X->feature)
        goto nomem;
    for (size_t i = 0; i < cn->n; i++)
        if (!use || use[i]) {
            rec[m++] = i;
            cap += cn->start[i + 1] - cn->start[i];
        }
    X->ent = malloc((cap ? cap : 1) * sizeof *X->ent);
    if (!X->ent)
        goto nomem;
    advise_huge(X->ent, cap * sizeof *X->ent);
    /* columns by increasing IDF (decreasing document frequency), ties in
     * feature order */
    idf_feature *order = malloc(((size_t)v->n + 1) * sizeof *order);
    if (!order)
        goto nomem;
    for (uint32_t f = 0; f < v->n; f++)
        order[f] = (idf_feature){v->idf[f], f};
    qsort(order, v->n, sizeof *order, cmp_idf_feature);
    for (uint32_t c = 0; c < v->n; c++)
        X->feature[c] = order[c].f;
    free(order);
    memset(col, 0xff, ((size_t)1 << fc->hash_bits) * sizeof *col);
    for (uint32_t c = 0; c < v->n; c++) {
        col[v->bucket[X->feature[c]]] = c;
        X->idf[c] = v->idf[X->feature[c]];
    }
    X->tf[0] = 0;
    for (uint32_t k = 1; k < 256; k++)
        X->tf[k] = tf_weight(fc, k);
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    if ((size_t)threads > n / 1024 + 1)
        threads = (int)(n / 1024 + 1);
    csr_part part[64];
    uint64_t base = 0;
    for (int t = 0; t < threads; t++) {
        part[t] = (csr_part){cn, fc, v, rec, n * (size_t)t / (size_t)threads,
                             n * (size_t)(t + 1) / (size_t)threads, X, col, base, 0, 0};
        for (size_t r = part[t].r0; r < part[t].r1; r++)
            base += cn->start[rec[r] + 1] - cn->start[rec[r]];
    }
    run_parts(csr_part_run, part, sizeof *part, threads);
    /* join the parts: each moves down to follow the one before */
    uint64_t o = part[0].used;
    size_t novf = part[0].novf;
    for (int t = 1; t < threads; t++) {
        uint64_t shift = part[t].base - o;
        if (shift) {
            memmove(X->ent + o, X->ent + part[t].base, part[t].used * sizeof *X->ent);
            for (size_t r = part[t].r0; r < part[t].r1; r++)
                X->start[r] -= shift;
        }
        o += part[t].used;
        novf += part[t].novf;
    }
    X->start[n] = o;
    uint32_t *e2 = realloc(X->ent, (o ? o : 1) * sizeof *X->ent);
    if (e2)
        X->ent = e2;
    if (novf) {
        /* the exact weights of counts too large for the code (a word
         * repeated 255 times in a sentence), in position order */
        X->ovf_pos = malloc(novf * sizeof *X->ovf_pos);
        X->ovf_tf = malloc(novf * sizeof *X->ovf_tf);
        if (!X->ovf_pos || !X->ovf_tf)
            goto nomem;
        size_t q = 0;
        for (size_t r = 0; r < n; r++) {
            size_t i = rec[r];
            uint64_t pos = X->start[r];
            for (uint64_t j = cn->start[i]; j < cn->start[i + 1]; j++) {
                if (col[cn->bucket[j]] == UINT32_MAX)
                    continue;
                if (cn->count[j] >= ST_CSR_ESCAPE) {
                    X->ovf_pos[q] = pos;
                    X->ovf_tf[q] = tf_weight(fc, cn->count[j]);
                    q++;
                }
                pos++;
            }
        }
        X->novf = q;
    }
    free(col);
    free(rec);
    return STANCE_OK;
nomem:
    free(col);
    free(rec);
    csr_free(X);
    return STANCE_ERR_NOMEM;
}

/* Train on the records in `use` (NULL: all), returning the vocabulary and
 * the classifier. */
static int fit(const job *jb, const unsigned char *use, double C, double gamma, int probability,
               st_vocab *v, st_svm **svm, stance_error *err)
{
    *svm = NULL;
    const size_t N = jb->cn.n;
    size_t n = 0;
    for (size_t i = 0; i < N; i++)
        n += !use || use[i];
    if (!use && jb->vocab_all && jb->vocab_all->slot) {
        *v = *jb->vocab_all;
        memset(jb->vocab_all, 0, sizeof *jb->vocab_all);
    } else if (build_vocab(&jb->cn, use, &jb->fc, (uint32_t)jb->p->min_df, v)) {
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    }
    const int solver = resolve_solver(jb, jb->cn.n); /* one solver for every fold */
    const int compact = solver == STANCE_SOLVER_DCD;
    st_fvec *x = compact ? NULL : calloc(n ? n : 1, sizeof *x);
    int *y = malloc((n ? n : 1) * sizeof *y);
    double *cw = malloc(jb->nlabels * sizeof *cw);
    st_csr X;
    memset(&X, 0, sizeof X);
    int rc = STANCE_OK;
    if ((!compact && !x) || !y || !cw) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (compact && build_csr(&jb->cn, use, &jb->fc, v, jb->p->threads, &X)) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t m = 0;
    for (size_t i = 0; i < N; i++) {
        if (use && !use[i])
            continue;
        if (!compact && vectorize_record(&jb->cn, i, &jb->fc, v, &x[m])) {
            rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
            goto done;
        }
        y[m++] = jb->y[i];
    }
    class_weights(jb, use, cw);
    st_problem prob = {n, x, y, jb->nlabels, v->n, compact ? &X : NULL};
    st_svm_params sp;
    memset(&sp, 0, sizeof sp);
    sp.kernel = jb->p->kernel;
    sp.solver = solver;
    sp.platt_folds = platt_folds(jb, jb->cn.n);
    sp.C = C;
    sp.gamma = gamma;
    sp.class_weight = cw;
    sp.probability = probability;
    sp.seed = jb->p->seed;
    sp.threads = jb->p->threads;
    rc = st_svm_train(&prob, &sp, svm, err);
done:
    free_vectors(x, n);
    csr_free(&X);
    free(y);
    free(cw);
    if (rc)
        st_vocab_free(v);
    return rc;
}

/* Every record must have the --group-by field.  The first one without it,
 * in the order of the files, is named: in a TSV file that is the header,
 * which lacks the column; in JSON Lines the record's own line. */
static int check_group_field(const job *jb, size_t n, stance_error *err)
{
    const char *field = jb->p->group_by;
    size_t first = 0;
    while (first < n && stance_corpus_field(jb->c, first, field))
        first++;
    if (first == n)
        return STANCE_OK;
    int f = st_corpus_source(jb->c, first);
    if (f < 0)
        return st_error(err, STANCE_ERR_FORMAT,
                        "record %zu has no '%s' field to group cross-validation by", first + 1,
                        field);
    const char *name = st_corpus_file_name(jb->c, f);
    if (!st_corpus_is_jsonl(name))
        return st_error(err, STANCE_ERR_FORMAT,
                        "%s:1: the header has no '%s' column to group cross-validation by", name,
                        field);
    return st_error(err, STANCE_ERR_FORMAT, "%s:%zu: no '%s' field to group cross-validation by",
                    name, st_corpus_line(jb->c, first), field);
}

/* Fold of each record: stratified round-robin over a seeded shuffle, or by
 * group, whole groups dealt to the currently smallest fold. */

static int assign_folds(const job *jb, int k, int *fold, stance_error *err)
{
    const size_t n = jb->cn.n;
    if (!jb->p->group_by && n < (size_t)k)
        return st_error(err, STANCE_ERR_ARG, "only %zu sentences for %d folds", n, k);
    st_rng rng;
    st_rng_seed(&rng, jb->p->seed * 0x2545F4914F6CDD1DULL + 7);
    size_t *perm = malloc((n ? n : 1) * sizeof *perm);
    if (!perm)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    st_rng_shuffle(&rng, perm, n);
    if (!jb->p->group_by) {
        int *next = calloc(jb->nlabels, sizeof *next);
        if (!next) {
            free(perm);
            return st_error(err, STANCE_ERR_NOMEM, "out of memory");
        }
        for (int c = 0; c < jb->nlabels; c++)
            next[c] = c % k; /* spread the first of each class */
        for (size_t i = 0; i < n; i++) {
            size_t e = perm[i];
            fold[e] = next[jb->y[e]];
            next[jb->y[e]] = (next[jb->y[e]] + 1) % k;
        }
        free(next);
        free(perm);
        return STANCE_OK;
    }
    /* grouped: the distinct group values in shuffled order of first
     * appearance, each dealt whole to the fold with fewest records */
    const char **gname = malloc((n ? n : 1) * sizeof *gname);
    size_t *gsize = calloc(n ? n : 1, sizeof *gsize);
    int *gfold = malloc((n ? n : 1) * sizeof *gfold);
    size_t *gof = malloc((n ? n : 1) * sizeof *gof);
    size_t *fsize = calloc(k, sizeof *fsize);
    size_t ng = 0, gmask = 15;
    while (gmask < 2 * n)
        gmask = gmask * 2 + 1;
    size_t *gslot = calloc(gmask + 1, sizeof *gslot); /* group number + 1, 0 = empty */
    int rc = STANCE_OK;
    if (!gname || !gsize || !gfold || !gof || !fsize || !gslot) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = check_group_field(jb, n, err)) != STANCE_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        size_t e = perm[i];
        const char *g = stance_corpus_field(jb->c, e, jb->p->group_by);
        /* the group's number, through an open-addressing table of names */
        uint64_t h = 1469598103934665603ULL;
        for (const unsigned char *c = (const unsigned char *)g; *c; c++)
            h = (h ^ *c) * 1099511628211ULL;
        size_t j = (size_t)(h ^ (h >> 32)) & gmask, q;
        while (gslot[j] && strcmp(gname[gslot[j] - 1], g) != 0)
            j = (j + 1) & gmask;
        if (gslot[j]) {
            q = gslot[j] - 1;
        } else {
            q = ng;
            gname[ng++] = g;
            gslot[j] = ng;
        }
        gof[e] = q;
        gsize[q]++;
    }
    if (ng < (size_t)k) {
        rc = st_error(err, STANCE_ERR_ARG,
                      "only %zu distinct values of '%s' for %d folds", ng, jb->p->group_by, k);
        goto done;
    }
    for (size_t q = 0; q < ng; q++) {
        int best = 0;
        for (int f = 1; f < k; f++)
            if (fsize[f] < fsize[best])
                best = f;
        gfold[q] = best;
        fsize[best] += gsize[q];
    }
    for (size_t i = 0; i < n; i++)
        fold[i] = gfold[gof[i]];
done:
    free(gslot);
    free(gname);
    free(gsize);
    free(gfold);
    free(gof);
    free(fsize);
    free(perm);
    return rc;
}

static int predict_into(const job *jb, const st_vocab *v, const st_svm *svm, size_t i,
                        st_fvec *tmp, double *dec, double *prob, double *scratch)
{
    if (vectorize_record(&jb->cn, i, &jb->fc, v, tmp))
        return -1;
    st_svm_decision(svm, tmp, dec);
    return st_svm_probability(svm, dec, prob, scratch);
}

/* k-fold cross-validation of (C, gamma): metrics over all held-out
 * predictions. */
static int cross_validate(const job *jb, int k, const int *fold, double C, double gamma,
                          int probability, stance_metrics **out, stance_error *err)
{
    *out = NULL;
    const size_t n = jb->cn.n;
    const int nl = jb->nlabels;
    unsigned char *use = malloc(n ? n : 1);
    double *dec = malloc((size_t)nl * nl * sizeof *dec);
    double *prob = malloc(nl * sizeof *prob);
    double *scratch = malloc(2 * (size_t)nl * nl * sizeof *scratch);
    st_fvec tmp = {0};
    stance_metrics *mt = NULL;
    int rc = STANCE_OK;
    if (!use || !dec || !prob || !scratch ||
        st_metrics_new(nl, (const char *const *)jb->labels, &mt)) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int f = 0; f < k; f++) {
        for (size_t i = 0; i < n; i++)
            use[i] = fold[i] != f;
        st_vocab v;
        st_svm *svm;
        rc = fit(jb, use, C, gamma, probability, &v, &svm, err);
        if (rc)
            goto done;
        for (size_t i = 0; i < n; i++) {
            if (use[i])
                continue;
            int pred = predict_into(jb, &v, svm, i, &tmp, dec, prob, scratch);
            if (pred < 0) {
                rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
                break;
            }
            st_metrics_add(mt, jb->y[i], pred);
        }
        st_svm_free(svm);
        st_vocab_free(&v);
        if (rc)
            goto done;
        if (jb->progress)
            jb->progress(jb->pctx, "cross-validation", f + 1, k);
    }
    st_metrics_finish(mt);
    *out = mt;
    mt = NULL;
done:
    stance_metrics_free(mt);
    st_fvec_free(&tmp);
    free(use);
    free(dec);
    free(prob);
    free(scratch);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_params(const stance_train_params *p, stance_error *err)
{
    if (p->kernel != STANCE_KERNEL_LINEAR && p->kernel != STANCE_KERNEL_RBF)
        return st_error(err, STANCE_ERR_ARG, "unknown kernel %d", (int)p->kernel);
    if (p->solver != STANCE_SOLVER_AUTO && p->solver != STANCE_SOLVER_LIBSVM &&
        p->solver != STANCE_SOLVER_LIBLINEAR && p->solver != STANCE_SOLVER_DCD)
        return st_error(err, STANCE_ERR_ARG, "unknown solver %d", (int)p->solver);
    if (p->kernel == STANCE_KERNEL_RBF && p->solver == STANCE_SOLVER_LIBLINEAR)
        return st_error(err, STANCE_ERR_ARG, "the liblinear solver is for the linear kernel only");
    if (p->kernel == STANCE_KERNEL_RBF && p->solver == STANCE_SOLVER_DCD)
        return st_error(err, STANCE_ERR_ARG, "the dcd solver is for the linear kernel only");
    if (p->calibration != STANCE_CALIBRATION_AUTO && p->calibration != STANCE_CALIBRATION_CV &&
        p->calibration != STANCE_CALIBRATION_HOLDOUT)
        return st_error(err, STANCE_ERR_ARG, "unknown calibration %d", (int)p->calibration);
    if (!(p->C > 0) || !isfinite(p->C) || p->C > 1e6)
        return st_error(err, STANCE_ERR_ARG, "C must be above 0 and at most 1e6");
    if (p->gamma < 0 || !isfinite(p->gamma))
        return st_error(err, STANCE_ERR_ARG, "gamma must be positive (0 means 1/features)");
    if (p->word_ngram_max < 1 || p->word_ngram_max > 3)
        return st_error(err, STANCE_ERR_ARG, "word n-gram order must be 1 to 3");
    if (p->char_ngram_min != 0 &&
        (p->char_ngram_min < 1 || p->char_ngram_max < p->char_ngram_min || p->char_ngram_max > 8))
        return st_error(err, STANCE_ERR_ARG, "character n-grams must satisfy 1 <= min <= max <= 8");
    if (p->hash_bits < 16 || p->hash_bits > 24)
        return st_error(err, STANCE_ERR_ARG, "hash bits must be 16 to 24");
    if (p->min_df < 1)
        return st_error(err, STANCE_ERR_ARG, "min_df must be at least 1");
    if (p->cv_folds < 0 || p->cv_folds == 1 || p->cv_folds > 100)
        return st_error(err, STANCE_ERR_ARG, "cross-validation needs 2 to 100 folds");
    return STANCE_OK;
}

int stance_train(const stance_corpus *c, const stance_train_params *p,
                 const char *const *sources, size_t nsources, stance_progress_fn progress,
                 void *pctx, stance_model **out, stance_metrics **cv_out, stance_error *err)
{
    *out = NULL;
    if (cv_out)
        *cv_out = NULL;
    int rc = check_params(p, err);
    if (rc)
        return rc;
    job jb;
    memset(&jb, 0, sizeof jb);
    jb.c = c;
    jb.p = p;
    jb.progress = progress;
    jb.pctx = pctx;
    jb.fc.hash_seed = p->hash_seed;
    jb.fc.hash_bits = (uint8_t)p->hash_bits;
    jb.fc.word_ngram_max = (uint8_t)p->word_ngram_max;
    jb.fc.char_ngram_min = (uint8_t)p->char_ngram_min;
    jb.fc.char_ngram_max = (uint8_t)(p->char_ngram_min ? p->char_ngram_max : 0);
    jb.fc.norm_flags = ST_NORM_FLAGS_V1;
    jb.fc.sublinear_tf = 1;
    const size_t n = stance_corpus_size(c);
    stance_model *m = NULL;
    stance_metrics *cv = NULL;
    int *fold = NULL;
    st_vocab vocab_all;
    memset(&vocab_all, 0, sizeof vocab_all);
    if (n < 2)
        return st_error(err, STANCE_ERR_TRAIN, "the corpus has %zu records; training needs more", n);

    /* labels: sorted, distinct */
    const char **names = malloc(n * sizeof *names);
    if (!names)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        names[i] = stance_corpus_label(c, i);
    qsort(names, n, sizeof *names, cmp_str);
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
            names[k++] = names[i];
    if (k < 2 || k > 1024) {
        free(names);
        return st_error(err, STANCE_ERR_TRAIN,
                        "the corpus has %d distinct label%s; training needs 2 to 1024", k,
                        k == 1 ? "" : "s");
    }
    jb.nlabels = k;
    jb.labels = calloc(k, sizeof *jb.labels);
    jb.y = malloc(n * sizeof *jb.y);
    if (!jb.labels || !jb.y) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < k; i++)
        if (!(jb.labels[i] = st_strdup(names[i]))) {
            rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
            goto done;
        }
    for (size_t i = 0; i < n; i++) {
        const char *l = stance_corpus_label(c, i);
        const char **hit = bsearch(&l, names, k, sizeof *names, cmp_str);
        jb.y[i] = (int)(hit - names);
    }

    rc = featurize(c, &jb.fc, p->threads, &jb.cn, progress, pctx, err);
    if (rc)
        goto done;
    {
        /* before any solver runs: is there anything to learn, and does the
         * model fit in memory and in the file format (2 GiB of payload)? */
        if (build_vocab(&jb.cn, NULL, &jb.fc, (uint32_t)p->min_df, &vocab_all)) {
            rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
            goto done;
        }
        jb.vocab_all = &vocab_all;
        uint32_t nfeat = vocab_all.n;
        if (nfeat == 0) {
            rc = st_error(err, STANCE_ERR_TRAIN,
                          "no features: every word and character n-gram occurs in fewer than "
                          "%d sentences (--min-df)",
                          p->min_df);
            goto done;
        }
        double gib = (double)nfeat * (double)(k * (k - 1) / 2) * 8.0 / (1u << 30);
        if (p->kernel == STANCE_KERNEL_LINEAR && gib > 1.5) {
            rc = st_error(err, STANCE_ERR_TRAIN,
                          "%d labels and %u features need %.1f GiB of weights, over the "
                          "1.5 GiB a model may hold: use fewer labels or fewer features "
                          "(--min-df, --char-ngrams)",
                          k, nfeat, gib);
            goto done;
        }
    }

    double C = p->C;
    double gamma = p->gamma;
    if (p->kernel == STANCE_KERNEL_RBF && gamma == 0)
        gamma = 1.0; /* vectors are unit length: squared distances lie in [0, 4] */
    int folds = p->cv_folds ? p->cv_folds : 5;
    if ((p->cv_folds || p->grid) && !(fold = malloc(n * sizeof *fold))) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (p->cv_folds || p->grid) {
        if ((rc = assign_folds(&jb, folds, fold, err)))
            goto done;
        /* every training part must see every label, or the folds measure
         * a classifier that cannot predict some labels at all */
        for (int f = 0; f < folds && !rc; f++) {
            size_t *seen = calloc((size_t)k, sizeof *seen);
            if (!seen) {
                rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
                goto done;
            }
            for (size_t i = 0; i < n; i++)
                if (fold[i] != f)
                    seen[jb.y[i]]++;
            for (int l = 0; l < k; l++)
                if (!seen[l]) {
                    if (p->group_by)
                        rc = st_error(err, STANCE_ERR_TRAIN,
                                      "label '%s' occurs in only one '%s' group: with that group "
                                      "held out no fold can learn it; use fewer folds or "
                                      "another grouping",
                                      jb.labels[l], p->group_by);
                    else
                        rc = st_error(err, STANCE_ERR_TRAIN,
                                      "label '%s' has fewer records than the %d folds of "
                                      "cross-validation need",
                                      jb.labels[l], folds);
                    break;
                }
            free(seen);
        }
        if (rc)
            goto done;
    }
    if (p->grid) {
        /* each candidate is judged as the final model will be used: by its
         * calibrated probabilities, on at most 5 folds (an uncalibrated vote
         * picked C = 3 on our corpus, which calibrated scores 0.8 points
         * below C = 1) */
        static const double Cs[] = {0.3, 1, 3};
        static const double gammas[] = {0.5, 1, 2};
        const int nc = (int)(sizeof Cs / sizeof *Cs);
        const int ng = p->kernel == STANCE_KERNEL_RBF ? (int)(sizeof gammas / sizeof *gammas) : 1;
        int gfolds = folds < 5 ? folds : 5;
        int *gfold = fold;
        if (gfolds != folds) {
            if (!(gfold = malloc(n * sizeof *gfold))) {
                rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
                goto done;
            }
            if ((rc = assign_folds(&jb, gfolds, gfold, err))) {
                free(gfold);
                goto done;
            }
        }
        double best = -1;
        for (int gi = 0; gi < ng && !rc; gi++)
            for (int ci = 0; ci < nc; ci++) {
                double g = p->kernel == STANCE_KERNEL_RBF ? gammas[gi] : 0;
                stance_metrics *mt;
                if ((rc = cross_validate(&jb, gfolds, gfold, Cs[ci], g, 1, &mt, err)))
                    break;
                if (mt->macro_f1 > best + 1e-12) {
                    best = mt->macro_f1;
                    C = Cs[ci];
                    gamma = g;
                }
                stance_metrics_free(mt);
                if (progress)
                    progress(pctx, "grid search", (long)(gi * nc + ci + 1), (long)(ng * nc));
            }
        if (gfold != fold)
            free(gfold);
        if (rc)
            goto done;
    }
    if (p->cv_folds && (rc = cross_validate(&jb, folds, fold, C, gamma, 1, &cv, err)))
        goto done;

    m = st_model_alloc();
    if (!m) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = fit(&jb, NULL, C, gamma, 1, &m->vocab, &m->svm, err)))
        goto done;
    if (st_svm_prepare(m->svm, &m->vocab)) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (progress)
        progress(pctx, "final model", 1, 1);
    m->nlabels = k;
    m->labels = jb.labels;
    jb.labels = NULL;
    m->fc = jb.fc;
    m->train.kernel = p->kernel;
    m->train.solver = resolve_solver(&jb, n);
    m->train.balanced = p->balanced;
    m->train.grid = p->grid;
    m->train.cv_folds = p->cv_folds;
    m->train.C = C;
    m->train.gamma = gamma;
    m->train.seed = p->seed;
    m->train.min_df = (uint32_t)p->min_df;
    m->train.group_by = p->group_by ? st_strdup(p->group_by) : NULL;
    m->train.sentences = n;
    m->train.duplicates = stance_corpus_duplicates(c);
    m->cv = cv;
    cv = NULL;
    if (m->cv && cv_out) {
        /* a copy for the caller, through the JSON-free constructor */
        stance_metrics *copy;
        if (st_metrics_new(k, (const char *const *)m->labels, &copy)) {
            rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (int g = 0; g < k; g++)
            for (int q = 0; q < k; q++)
                for (long r = 0; r < m->cv->confusion[g * k + q]; r++)
                    st_metrics_add(copy, g, q);
        st_metrics_finish(copy);
        *cv_out = copy;
    }
    /* provenance: one entry per corpus file, as named by the caller */
    int nf = st_corpus_nfiles(c);
    if (nf > 0) {
        m->sources = calloc((size_t)nf, sizeof *m->sources);
        if (!m->sources) {
            rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
            goto done;
        }
        m->nsources = (size_t)nf;
        for (int f = 0; f < nf; f++) {
            st_source *s = &m->sources[f];
            const char *nm = (sources && (size_t)f < nsources) ? sources[f]
                                                               : st_corpus_file_name(c, f);
            s->name = st_strdup(nm);
            memcpy(s->sha256, st_corpus_file_sha256(c, f), 64);
            s->sha256[64] = '\0';
            s->records = st_corpus_file_records(c, f);
            s->per_label = calloc(k, sizeof *s->per_label);
            if (!s->name || !s->per_label) {
                rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
                goto done;
            }
        }
        for (size_t i = 0; i < n; i++) {
            int f = st_corpus_source(c, i);
            if (f >= 0 && f < nf)
                m->sources[f].per_label[jb.y[i]]++;
        }
    }
    if ((rc = st_model_set_id(m, err)))
        goto done;
    *out = m;
    m = NULL;
done:
    if (rc && cv_out && *cv_out) {
        stance_metrics_free(*cv_out);
        *cv_out = NULL;
    }
    stance_model_free(m);
    stance_metrics_free(cv);
    free(fold);
    free(names);
    st_vocab_free(&vocab_all);
    counts_free(&jb.cn);
    if (jb.labels)
        for (int i = 0; i < k; i++)
            free(jb.labels[i]);
    free(jb.labels);
    free(jb.y);
    return rc;
}

int stance_evaluate(const stance_model *m, const stance_corpus *c, stance_metrics **out,
                    stance_error *err)
{
    *out = NULL;
    const int k = m->nlabels;
    const size_t n = stance_corpus_size(c);
    /* gold labels unknown to the model get rows of their own */
    size_t cap = (size_t)k + 8, nl = (size_t)k;
    char **names = malloc(cap * sizeof *names);
    int *gold = malloc((n ? n : 1) * sizeof *gold);
    stance_metrics *mt = NULL;
    st_tokenizer *tk = NULL;
    st_counter *ctr = NULL;
    st_fvec vec = {0};
    double *dec = malloc((size_t)k * k * sizeof *dec);
    double *prob = malloc(k * sizeof *prob);
    double *scratch = malloc(2 * (size_t)k * k * sizeof *scratch);
    int rc = STANCE_OK;
    if (!names || !gold || !dec || !prob || !scratch) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < k; i++)
        names[i] = m->labels[i];
    for (size_t i = 0; i < n; i++) {
        const char *l = stance_corpus_label(c, i);
        size_t q;
        for (q = 0; q < nl; q++)
            if (strcmp(names[q], l) == 0)
                break;
        if (q == nl) {
            /* the report grows with the square of the rows: past 32 labels
             * the model does not know, the rest share one row */
            static char other[] = "(other labels not in the model)";
            if (nl >= (size_t)k + 32) {
                for (q = (size_t)k + 32; q < nl; q++)
                    if (names[q] == other)
                        break;
                l = other;
            }
        }
        if (q == nl) {
            if (nl == cap) {
                char **t = realloc(names, (cap *= 2) * sizeof *names);
                if (!t) {
                    rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
                    goto done;
                }
                names = t;
            }
            names[nl++] = (char *)l;
        }
        gold[i] = (int)q;
    }
    if (st_metrics_new((int)nl, (const char *const *)names, &mt)) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = st_tokenizer_new(&tk, err)))
        goto done;
    if (st_counter_new(&ctr)) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        int nb = count_text(tk, ctr, &m->fc, stance_corpus_text(c, i), err);
        if (nb < 0) {
            rc = nb;
            goto done;
        }
        if (st_vectorize(ctr, &m->fc, &m->vocab, &vec)) {
            rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
            goto done;
        }
        st_svm_decision(m->svm, &vec, dec);
        st_metrics_add(mt, gold[i], st_svm_probability(m->svm, dec, prob, scratch));
    }
    st_metrics_finish(mt);
    *out = mt;
    mt = NULL;
done:
    stance_metrics_free(mt);
    st_tokenizer_free(tk);
    st_counter_free(ctr);
    st_fvec_free(&vec);
    free(names);
    free(gold);
    free(dec);
    free(prob);
    free(scratch);
    return rc;
}
