/* dcd.c - our own dual coordinate descent for the linear L1-loss C-SVC, the
 * solver for very large corpora.
 *
 * The problem is the one liblinear's L2R_L1LOSS_SVC_DUAL solves (Hsieh,
 * Chang, Lin, Keerthi and Sundararajan, "A dual coordinate descent method
 * for large-scale linear SVM", ICML 2008): the bias is a constant feature of
 * value 1 (so it is regularised, unlike libsvm's rho), and
 *
 *     min_a  1/2 a'Qa - e'a,   0 <= a_i <= U_i,   Q_ij = y_i y_j x_i'x_j,
 *
 * with U_i the cost of example i's class.  The algorithm keeps
 * w = sum_i y_i a_i x_i, visits the active examples in a random order, takes
 * the exact one-variable Newton step clipped to the box, shrinks examples
 * stuck at a bound (the rule of the paper's Algorithm 3), and stops when the
 * spread of projected gradients over a pass falls below eps over all
 * examples - the paper's and liblinear's stopping rule.
 *
 * Why not liblinear itself: liblinear draws its random order from the C
 * library's global rand(), so to stay deterministic it has to run one class
 * pair at a time under a lock; this solver has its own seeded generator per
 * call and runs the pairs on every core with the same bytes whatever the
 * thread count.  It also reads the compact training matrix (st_csr, 8 bytes
 * per entry, shared by every pair and fold) where liblinear needs a 16-byte
 * feature_node per entry, copied anew for every call. */
#include "internal.h"
#include "svm/solvers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The weight of an escaped count at position pos of the matrix. */
static double escaped_tf(const st_csr *X, uint64_t pos)
{
    size_t lo = 0, hi = X->novf;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (X->ovf_pos[mid] < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < X->novf && X->ovf_pos[lo] == pos ? X->ovf_tf[lo] : X->tf[ST_CSR_ESCAPE];
}

/* wi holds each column's weight and IDF side by side (wi[2c], wi[2c+1]): the
 * two numbers an entry needs share a cache line. */
static inline double entry_x(const st_csr *X, const uint32_t *p, const double *wi)
{
    uint32_t code = *p >> ST_CSR_SHIFT;
    double tf = code != ST_CSR_ESCAPE ? X->tf[code] : escaped_tf(X, (uint64_t)(p - X->ent));
    return tf * wi[2 * (size_t)(*p & ST_CSR_CMASK) + 1];
}

/* Row r times w, before the row's scale inv_norm.  Four partial sums: with
 * one, every entry would wait for the addition before it. */
static double row_dot(const st_csr *X, const uint32_t *b, const uint32_t *e, const double *wi)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const uint32_t *p = b;
    for (; p + 4 <= e; p += 4) {
        s0 += entry_x(X, p, wi) * wi[2 * (size_t)(p[0] & ST_CSR_CMASK)];
        s1 += entry_x(X, p + 1, wi) * wi[2 * (size_t)(p[1] & ST_CSR_CMASK)];
        s2 += entry_x(X, p + 2, wi) * wi[2 * (size_t)(p[2] & ST_CSR_CMASK)];
        s3 += entry_x(X, p + 3, wi) * wi[2 * (size_t)(p[3] & ST_CSR_CMASK)];
    }
    for (; p < e; p++)
        s0 += entry_x(X, p, wi) * wi[2 * (size_t)(*p & ST_CSR_CMASK)];
    return (s0 + s1) + (s2 + s3);
}

static void row_axpy(const st_csr *X, const uint32_t *b, const uint32_t *e, double d, double *wi)
{
    for (const uint32_t *p = b; p < e; p++)
        wi[2 * (size_t)(*p & ST_CSR_CMASK)] += d * entry_x(X, p, wi);
}

double st_csr_dot(const st_csr *X, size_t r, const double *w)
{
    double s = 0;
    for (uint64_t j = X->start[r]; j < X->start[r + 1]; j++) {
        uint32_t v = X->ent[j], code = v >> ST_CSR_SHIFT, c = v & ST_CSR_CMASK;
        double tf = code != ST_CSR_ESCAPE ? X->tf[code] : escaped_tf(X, j);
        s += tf * X->idf[c] * w[c];
    }
    return s * X->inv_norm[r];
}

/* An example of this problem: everything a visit reads, in one cache line,
 * since the visits go in random order (separate arrays for alpha, the
 * diagonal and the label cost one cache miss each). */
typedef struct example {
    const uint32_t *b, *e;  /* its entries */
    double inv;             /* its scale */
    double qd;              /* Q_ii: |x|^2 + 1 for the bias */
    double alpha;
    double U;               /* its box: the cost of its class */
    double y;               /* +1 or -1 */
} example;

/* The visit after next: fetch its record; the next: start on its row (the
 * hardware's stream prefetcher follows once the row has begun). */
static inline void prefetch_ahead(const example *ex, const size_t *order, size_t s, size_t active)
{
    if (s + 2 < active)
        __builtin_prefetch(&ex[order[s + 2]]);
    if (s + 1 < active) {
        const example *x = &ex[order[s + 1]];
        const char *p = (const char *)x->b, *e = (const char *)x->e;
        for (int k = 0; k < 4 && p < e; k++, p += 64)
            __builtin_prefetch(p);
    }
}

int st_dcd_binary(const st_csr *X, uint32_t nfeat, const size_t *idx, const signed char *y,
                  size_t n, double Cp, double Cn, const st_dcd_opts *opt, double *alpha,
                  double *w, double *bias, st_dcd_info *info)
{
    const double eps = opt && opt->eps > 0 ? opt->eps : 0.01;
    const int max_iter = opt && opt->max_iter > 0 ? opt->max_iter : 1000;
    double *wi = malloc(2 * ((size_t)nfeat + 1) * sizeof *wi);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    example *ex = aligned_alloc(64, ((n ? n : 1) * sizeof *ex + 63) / 64 * 64);
    if (!wi || !order || !ex) {
        free(wi), free(order), free(ex);
        return STANCE_ERR_NOMEM;
    }
    for (uint32_t c = 0; c < nfeat; c++) {
        wi[2 * (size_t)c] = 0;
        wi[2 * (size_t)c + 1] = X->idf[c];
    }
    /* the bias, a constant feature of value 1, is kept apart in wb */
    double wb = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = idx[i];
        example *x = &ex[i];
        x->b = X->ent + X->start[r];
        x->e = X->ent + X->start[r + 1];
        x->inv = X->inv_norm[r];
        x->qd = X->sqnorm[r] + 1.0;
        x->y = y[i] > 0 ? 1.0 : -1.0;
        x->U = y[i] > 0 ? Cp : Cn;
        /* warm start: w from the given a, clipped to this problem's box */
        double a = alpha[i] < 0 ? 0 : alpha[i] > x->U ? x->U : alpha[i];
        x->alpha = a;
        if (a != 0) {
            row_axpy(X, x->b, x->e, x->y * a * x->inv, wi);
            wb += x->y * a;
        }
        order[i] = i;
    }
    st_rng rng;
    st_rng_seed(&rng, opt ? opt->seed : 1);
    size_t active = n;
    double pgmax_old = INFINITY, pgmin_old = -INFINITY;
    int iter = 0;
    while (iter < max_iter) {
        double pgmax = -INFINITY, pgmin = INFINITY;
        /* a fresh random order of the active examples every pass */
        for (size_t i = 0; i + 1 < active; i++) {
            size_t j = i + (size_t)st_rng_below(&rng, active - i);
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (size_t s = 0; s < active; s++) {
            size_t i = order[s];
            example *x = &ex[i];
            prefetch_ahead(ex, order, s, active);
            double G = x->y * (row_dot(X, x->b, x->e, wi) * x->inv + wb) - 1.0;
            double PG = 0;
            if (x->alpha == 0) {
                if (G > pgmax_old) {
                    /* at the lower bound and pushed further out: set aside
                     * (the last active example moves into this slot) */
                    active--;
                    order[s] = order[active];
                    order[active] = i;
                    s--;
                    continue;
                }
                if (G < 0)
                    PG = G;
            } else if (x->alpha == x->U) {
                if (G < pgmin_old) {
                    active--;
                    order[s] = order[active];
                    order[active] = i;
                    s--;
                    continue;
                }
                if (G > 0)
                    PG = G;
            } else {
                PG = G;
            }
            if (PG > pgmax)
                pgmax = PG;
            if (PG < pgmin)
                pgmin = PG;
            if (fabs(PG) > 1e-12) {
                double old = x->alpha, a = old - G / x->qd;
                a = a < 0 ? 0 : a > x->U ? x->U : a;
                x->alpha = a;
                double d = (a - old) * x->y;
                if (d != 0) {
                    row_axpy(X, x->b, x->e, d * x->inv, wi);
                    wb += d;
                }
            }
        }
        iter++;
        if (pgmax - pgmin <= eps) {
            if (active == n)
                break;
            /* converged on the active set: check everything once more */
            active = n;
            pgmax_old = INFINITY;
            pgmin_old = -INFINITY;
            continue;
        }
        pgmax_old = pgmax <= 0 ? INFINITY : pgmax;
        pgmin_old = pgmin >= 0 ? -INFINITY : pgmin;
    }
    double wsq = wb * wb, asum = 0;
    for (uint32_t f = 0; f < nfeat; f++) {
        w[f] = wi[2 * (size_t)f];
        wsq += w[f] * w[f];
    }
    for (size_t i = 0; i < n; i++) {
        alpha[i] = ex[i].alpha;
        asum += alpha[i];
    }
    *bias = wb;
    if (info) {
        info->iterations = iter;
        info->dual_objective = asum - 0.5 * wsq;
    }
    free(wi);
    free(order);
    free(ex);
    return STANCE_OK;
}
