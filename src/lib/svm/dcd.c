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

static double row_dot(const st_csr *X, size_t r, const double *w)
{
    const uint32_t *col = X->col;
    const float *val = X->val;
    double s = 0;
    for (uint64_t j = X->start[r], e = X->start[r + 1]; j < e; j++)
        s += (double)val[j] * w[col[j]];
    return s;
}

static void row_axpy(const st_csr *X, size_t r, double d, double *w)
{
    const uint32_t *col = X->col;
    const float *val = X->val;
    for (uint64_t j = X->start[r], e = X->start[r + 1]; j < e; j++)
        w[col[j]] += d * (double)val[j];
}

double st_csr_dot(const st_csr *X, size_t r, const double *w)
{
    return row_dot(X, r, w);
}

static double row_sqnorm(const st_csr *X, size_t r)
{
    double s = 0;
    for (uint64_t j = X->start[r], e = X->start[r + 1]; j < e; j++)
        s += (double)X->val[j] * X->val[j];
    return s;
}

int st_dcd_binary(const st_csr *X, uint32_t nfeat, const size_t *idx, const signed char *y,
                  size_t n, double Cp, double Cn, const st_dcd_opts *opt, double *alpha,
                  double *w, double *bias, st_dcd_info *info)
{
    const double eps = opt && opt->eps > 0 ? opt->eps : 0.01;
    const int max_iter = opt && opt->max_iter > 0 ? opt->max_iter : 1000;
    double *wi = malloc(((size_t)nfeat + 1) * sizeof *wi);
    double *qd = malloc((n ? n : 1) * sizeof *qd);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!wi || !qd || !order) {
        free(wi), free(qd), free(order);
        return STANCE_ERR_NOMEM;
    }
    /* the bias, feature nfeat of value 1, is kept apart in wb */
    memset(wi, 0, ((size_t)nfeat + 1) * sizeof *wi);
    double wb = 0;
    /* warm start: w from the given a, clipped to this problem's box */
    for (size_t i = 0; i < n; i++) {
        double U = y[i] > 0 ? Cp : Cn;
        if (alpha[i] < 0)
            alpha[i] = 0;
        else if (alpha[i] > U)
            alpha[i] = U;
        if (alpha[i] != 0) {
            row_axpy(X, idx[i], y[i] * alpha[i], wi);
            wb += y[i] * alpha[i];
        }
        qd[i] = row_sqnorm(X, idx[i]) + 1.0;
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
            const double yi = y[i], U = yi > 0 ? Cp : Cn;
            const size_t r = idx[i];
            /* prefetch the next example's row while this one is computed */
            if (s + 1 < active)
            {
                const uint64_t nx = X->start[idx[order[s + 1]]];
                __builtin_prefetch(X->col + nx);
                __builtin_prefetch(X->val + nx);
            }
            double G = yi * (row_dot(X, r, wi) + wb) - 1.0;
            double PG = 0;
            if (alpha[i] == 0) {
                if (G > pgmax_old) {
                    /* at the lower bound and pushed further out: set aside */
                    active--;
                    order[s] = order[active];
                    order[active] = i;
                    s--;
                    continue;
                }
                if (G < 0)
                    PG = G;
            } else if (alpha[i] == U) {
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
                double old = alpha[i], a = old - G / qd[i];
                a = a < 0 ? 0 : a > U ? U : a;
                alpha[i] = a;
                double d = (a - old) * yi;
                if (d != 0) {
                    row_axpy(X, r, d, wi);
                    wb += d;
                }
            }
        }
        iter++;
#ifdef ST_TRAIN_TIMING
        if (getenv("DCD_TRACE"))
            fprintf(stderr, "  it %d active %zu spread %.4f\n", iter, active, pgmax - pgmin);
#endif
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
        w[f] = wi[f];
        wsq += w[f] * w[f];
    }
    for (size_t i = 0; i < n; i++)
        asum += alpha[i];
    *bias = wb;
#ifdef ST_TRAIN_TIMING
    fprintf(stderr, "DCD n=%zu iter=%d active=%zu nnz/row=%.1f\n", n, iter, active, (double)X->start[X->n] / X->n);
#endif
    if (info) {
        info->iterations = iter;
        info->dual_objective = asum - 0.5 * wsq;
    }
    free(wi);
    free(qd);
    free(order);
    return STANCE_OK;
}
