/* predict.c - the sixth stage at prediction time: a feature vector ->
 * pairwise decision values -> class probabilities.
 *
 * For the linear kernel the support vectors were folded at training (or
 * load) time into one weight vector per class pair, stored feature-major, so
 * a prediction costs O(features of the sentence x pairs) whatever the number
 * of support vectors.  Pairwise probabilities come from Platt sigmoids and
 * are coupled into class probabilities by the second method of Wu, Lin and
 * Weng (2004), iterated exactly as libsvm iterates it, so our numbers agree
 * with libsvm's svm_predict_probability (tests/unit/test_svm.c checks 1e-9). */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void st_svm_free(st_svm *s)
{
    if (!s)
        return;
    free(s->rho);
    free(s->probA);
    free(s->probB);
    free(s->w);
    free(s->nsv_class);
    free(s->sv_coef);
    free(s->sv_start);
    free(s->sv_index);
    free(s->sv_value);
    free(s->fused);
    free(s->fslot);
    free(s->frow);
    free(s);
}

/* The rows of a linear classifier in order of increasing IDF, ties by
 * feature number: row r holds feature rank[r].  Positive doubles order like
 * their bit patterns, so an LSD radix sort on (bits, feature) does it; a
 * pass whose digit is the same for every feature moves nothing and is
 * skipped (IDF values share their sign, exponent and leading mantissa
 * bits).  rank must hold n entries. */
static int idf_order(const st_vocab *v, uint32_t *rank)
{
    const size_t n = v->n;
    uint64_t *key = malloc((n ? n : 1) * sizeof *key), *tmpk = malloc((n ? n : 1) * sizeof *tmpk);
    uint32_t *tmpr = malloc((n ? n : 1) * sizeof *tmpr), *r = rank;
    size_t *count = malloc(65537 * sizeof *count);
    if (!key || !tmpk || !tmpr || !count) {
        free(key);
        free(tmpk);
        free(tmpr);
        free(count);
        return STANCE_ERR_NOMEM;
    }
    for (size_t f = 0; f < n; f++) {
        memcpy(&key[f], &v->idf[f], sizeof key[f]);
        r[f] = (uint32_t)f; /* already in feature order: stability breaks ties */
    }
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, 65537 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[((key[i] >> shift) & 0xffff) + 1]++;
        if (n == 0 || count[((key[0] >> shift) & 0xffff) + 1] == n)
            continue;
        for (size_t b = 0; b < 65536; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++) {
            size_t d = count[(key[i] >> shift) & 0xffff]++;
            tmpk[d] = key[i];
            tmpr[d] = r[i];
        }
        uint64_t *tk = key;
        key = tmpk;
        tmpk = tk;
        uint32_t *tr = r;
        r = tmpr;
        tmpr = tr;
    }
    if (r != rank) {
        memcpy(rank, r, n * sizeof *rank);
        tmpr = r;
    }
    free(count);
    free(key);
    free(tmpk);
    free(tmpr);
    return STANCE_OK;
}

int st_svm_layout(st_svm *s, const st_vocab *v)
{
    if (s->kernel != STANCE_KERNEL_LINEAR || s->nfeat != v->n)
        return STANCE_OK;
    const size_t np = (size_t)s->npairs, row = (np + 1 + 3) / 4 * 4, n = s->nfeat;
    free(s->fused);
    free(s->fslot);
    free(s->frow);
    s->fslot = NULL;
    s->frow = NULL;
    size_t size = 16;
    while (size < n * 2 + 2)
        size *= 2;
    uint32_t *rank = malloc((n ? n : 1) * sizeof *rank);
    s->fused = st_alloc_table((n * row + 1) * sizeof *s->fused, 0);
    s->fslot = st_alloc_table(size * sizeof *s->fslot, 1);
    s->frow = malloc((n ? n : 1) * sizeof *s->frow);
    if (!rank || !s->fused || !s->fslot || !s->frow || idf_order(v, rank) != STANCE_OK) {
        free(rank);
        free(s->fused);
        free(s->fslot);
        free(s->frow);
        s->fused = NULL;
        s->fslot = NULL;
        s->frow = NULL;
        return STANCE_ERR_NOMEM;
    }
    for (int t = 1; t < 16; t++)
        s->sublinear[t] = 1.0 + log((double)t); /* the very values st_vectorize uses */
    s->fmask = (uint32_t)(size - 1);
    s->fstride = (uint32_t)row;
    enum { AHEAD = 16 }; /* slots are random: ask for them early */
    for (size_t r = 0; r < n; r++) {
        if (r + AHEAD < n)
            __builtin_prefetch(s->fslot + st_rowmap_hash(v->bucket[rank[r + AHEAD]], s->fmask),
                               1);
        size_t f = rank[r];
        s->frow[f] = (uint32_t)r;
        st_rowmap_insert(s->fslot, s->fmask, v->bucket[f], (uint32_t)r);
    }
    free(rank);
    return STANCE_OK;
}

double *st_svm_fill_row(st_svm *s, uint32_t f, double idf)
{
    double *row = s->fused + (size_t)s->frow[f] * s->fstride;
    row[0] = idf;
    for (size_t pad = (size_t)s->npairs + 1; pad < s->fstride; pad++)
        row[pad] = 0;
    return row + 1;
}

const double *st_svm_weights(const st_svm *s, uint32_t f)
{
    if (s->w)
        return s->w + (size_t)f * (size_t)s->npairs;
    return s->fused + (size_t)s->frow[f] * s->fstride + 1;
}

int st_svm_prepare(st_svm *s, const st_vocab *v)
{
    /* without w the weights are already in the rows: the loader put them
     * there */
    if (s->kernel != STANCE_KERNEL_LINEAR || s->nfeat != v->n || !s->w)
        return STANCE_OK;
    int rc = st_svm_layout(s, v);
    if (rc != STANCE_OK)
        return rc;
    const size_t np = (size_t)s->npairs;
    for (uint32_t f = 0; f < s->nfeat; f++)
        memcpy(st_svm_fill_row(s, f, v->idf[f]), s->w + f * np, np * sizeof *s->w);
    return STANCE_OK;
}

st_rowmap st_svm_rowmap(const st_svm *s)
{
    st_rowmap m = {s->fslot, s->fmask, s->nfeat, (const char *)s->fused,
                   (size_t)s->fstride * sizeof *s->fused};
    return m;
}

/* Accumulate the rows of one sentence into n_pairs sums.  NP is a
 * compile-time pair count for the common label counts, so the sums live in
 * registers; the order of additions is the same for every NP. */
#define DECISION_ROWS(NP)                                                                   \
    do {                                                                                    \
        double acc[NP] = {0};                                                               \
        for (size_t i = 0; i < n; i++) {                                                    \
            if (i + AHEAD < n) {                                                            \
                __builtin_prefetch(fused + (size_t)rows[i + AHEAD] * row);                  \
                __builtin_prefetch(fused + (size_t)rows[i + AHEAD] * row + 8);              \
            }                                                                               \
            const double *r = fused + (size_t)rows[i] * row;                                \
            uint32_t tf = count[i];                                                         \
            double x = (sublinear_tf ? (tf < 16 ? s->sublinear[tf] : 1.0 + log((double)tf)) \
                                     : (double)tf) * r[0];                                  \
            norm += x * x;                                                                  \
            /* unrolled, so that the sums stay in registers */                              \
            _Pragma("GCC unroll 16") for (int p = 0; p < (NP); p++)                         \
                acc[p] += x * r[1 + p];                                                     \
        }                                                                                   \
        for (int p = 0; p < (NP); p++)                                                      \
            dec[p] = acc[p];                                                                \
    } while (0)

void st_svm_decision_rows(const st_svm *s, const st_counter *c, int sublinear_tf, double *dec)
{
    enum { AHEAD = 16 };
    const int np = s->npairs;
    const size_t row = s->fstride;
    const size_t n = st_counter_size(c);
    const uint32_t *rows = st_counter_buckets(c), *count = st_counter_counts(c);
    const double *fused = s->fused;
    double norm = 0;
    for (size_t i = 0; i < n && i < AHEAD; i++)
        __builtin_prefetch(fused + (size_t)rows[i] * row);
    switch (np) {
    case 1: DECISION_ROWS(1); break;
    case 3: DECISION_ROWS(3); break;
    case 6: DECISION_ROWS(6); break;
    case 10: DECISION_ROWS(10); break;
    case 15: DECISION_ROWS(15); break;
    default:
        for (int p = 0; p < np; p++)
            dec[p] = 0;
        for (size_t i = 0; i < n; i++) {
            const double *r = fused + (size_t)rows[i] * row;
            uint32_t tf = count[i];
            double x = (sublinear_tf ? (tf < 16 ? s->sublinear[tf] : 1.0 + log((double)tf))
                                     : (double)tf) * r[0];
            norm += x * x;
            for (int p = 0; p < np; p++)
                dec[p] += x * r[1 + p];
        }
    }
    double inv = norm > 0 ? 1.0 / sqrt(norm) : 0.0;
    for (int p = 0; p < np; p++)
        dec[p] = dec[p] * inv - s->rho[p];
}

double st_sparse_sqdist(const st_fvec *x, const uint32_t *ix, const double *v, size_t n)
{
    double sum = 0;
    size_t a = 0, b = 0;
    while (a < x->n && b < n) {
        if (x->index[a] == ix[b]) {
            double d = x->value[a++] - v[b++];
            sum += d * d;
        } else if (x->index[a] < ix[b]) {
            sum += x->value[a] * x->value[a];
            a++;
        } else {
            sum += v[b] * v[b];
            b++;
        }
    }
    for (; a < x->n; a++)
        sum += x->value[a] * x->value[a];
    for (; b < n; b++)
        sum += v[b] * v[b];
    return sum;
}

void st_svm_decision(const st_svm *s, const st_fvec *x, double *dec)
{
    const int np = s->npairs;
    for (int p = 0; p < np; p++)
        dec[p] = 0;
    if (s->kernel == STANCE_KERNEL_LINEAR) {
        for (size_t i = 0; i < x->n; i++) {
            if (x->index[i] >= s->nfeat)
                continue;
            const double *w = st_svm_weights(s, x->index[i]);
            const double v = x->value[i];
            for (int p = 0; p < np; p++)
                dec[p] += v * w[p];
        }
    } else {
        /* RBF: one kernel value per support vector, shared by all pairs */
        double stackk[256];
        double *kv = s->nsv <= 256 ? stackk : malloc(s->nsv * sizeof *kv);
        if (!kv) {
            for (int p = 0; p < np; p++)
                dec[p] = NAN;
            return;
        }
        for (uint32_t j = 0; j < s->nsv; j++) {
            uint64_t a = s->sv_start[j], b = s->sv_start[j + 1];
            kv[j] = exp(-s->gamma * st_sparse_sqdist(x, s->sv_index + a, s->sv_value + a, b - a));
        }
        const int k = s->nclass;
        uint32_t start[1024 + 1];
        start[0] = 0;
        for (int c = 0; c < k; c++)
            start[c + 1] = start[c] + s->nsv_class[c];
        int p = 0;
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++, p++) {
                double sum = 0;
                const double *ci = s->sv_coef + (size_t)(j - 1) * s->nsv;
                const double *cj = s->sv_coef + (size_t)i * s->nsv;
                for (uint32_t t = start[i]; t < start[i + 1]; t++)
                    sum += ci[t] * kv[t];
                for (uint32_t t = start[j]; t < start[j + 1]; t++)
                    sum += cj[t] * kv[t];
                dec[p] = sum;
            }
        if (kv != stackk)
            free(kv);
    }
    for (int p = 0; p < np; p++)
        dec[p] -= s->rho[p];
}

static double sigmoid_predict(double f, double A, double B)
{
    double fApB = f * A + B;
    /* the two forms avoid overflow of exp() on either side */
    if (fApB >= 0) {
        double e = exp(-fApB); /* once: exp() may set errno, so the compiler calls it twice */
        return e / (1.0 + e);
    }
    return 1.0 / (1 + exp(fApB));
}

/* Pairwise coupling: find p minimising sum_i sum_{j!=i} (r_ji p_i - r_ij p_j)^2
 * subject to sum p = 1, by the fixed-point iteration of Wu, Lin and Weng. */
static void couple(int k, const double *r, double *p, double *Q)
{
    double Qp[1024];
    const int max_iter = k > 100 ? k : 100;
    const double eps = 0.005 / k;
    for (int t = 0; t < k; t++) {
        p[t] = 1.0 / k;
        Q[t * k + t] = 0;
        for (int j = 0; j < t; j++) {
            Q[t * k + t] += r[j * k + t] * r[j * k + t];
            Q[t * k + j] = Q[j * k + t];
        }
        for (int j = t + 1; j < k; j++) {
            Q[t * k + t] += r[j * k + t] * r[j * k + t];
            Q[t * k + j] = -r[j * k + t] * r[t * k + j];
        }
    }
    for (int iter = 0; iter < max_iter; iter++) {
        /* recompute Qp and pQp each round for numerical accuracy */
        double pQp = 0;
        for (int t = 0; t < k; t++) {
            Qp[t] = 0;
            for (int j = 0; j < k; j++)
                Qp[t] += Q[t * k + j] * p[j];
            pQp += p[t] * Qp[t];
        }
        double max_error = 0;
        for (int t = 0; t < k; t++) {
            double e = fabs(Qp[t] - pQp);
            if (e > max_error)
                max_error = e;
        }
        if (max_error < eps)
            break;
        for (int t = 0; t < k; t++) {
            double diff = (-Qp[t] + pQp) / Q[t * k + t];
            p[t] += diff;
            pQp = (pQp + diff * (diff * Q[t * k + t] + 2 * Qp[t])) / (1 + diff) / (1 + diff);
            for (int j = 0; j < k; j++) {
                Qp[j] = (Qp[j] + diff * Q[t * k + j]) / (1 + diff);
                p[j] /= (1 + diff);
            }
        }
    }
}

int st_svm_probability(const st_svm *s, const double *dec, double *prob, double *scratch)
{
    const int k = s->nclass;
    const double min_prob = 1e-7;
    double *r = scratch;          /* k*k pairwise probabilities */
    double *Q = scratch + k * k;  /* k*k */
    int p = 0;
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++, p++) {
            double v = sigmoid_predict(dec[p], s->probA[p], s->probB[p]);
            v = v < min_prob ? min_prob : v;
            v = v > 1 - min_prob ? 1 - min_prob : v;
            r[i * k + j] = v;
            r[j * k + i] = 1 - v;
        }
    if (k == 2) {
        prob[0] = r[1];
        prob[1] = r[2];
    } else {
        couple(k, r, prob, Q);
    }
    int best = 0;
    for (int i = 1; i < k; i++)
        if (prob[i] > prob[best])
            best = i;
    return best;
}
