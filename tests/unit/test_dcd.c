/* test_dcd.c - our dual coordinate descent solver against liblinear on the
 * same data: on a separable and a non-separable problem, with equal and
 * unequal class costs, its dual objective comes within a tight tolerance of
 * the optimum that liblinear's primal objective certifies (weak duality:
 * every feasible dual point lies below every primal point), its primal
 * objective matches liblinear's, and the two agree on the predictions.  Then
 * warm starts, seeds, and whole multi-class training that gives the same
 * bytes for any thread count. */
#include "internal.h"
#include "unit.h"
#include "svm/solvers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct data {
    size_t n;
    uint32_t nfeat;
    st_fvec *x;       /* for liblinear */
    st_csr X;         /* the same values, for ours */
    signed char *ys;  /* +1 / -1 */
    double *yd;
    size_t *idx;      /* 0..n-1 */
} data;

/* n sparse tf-idf rows over nfeat columns (random IDF per column, counts of
 * 1 to 3, now and then one of 300 that needs the overflow list), L2
 * normalised; the label is the sign of a hidden linear function, with
 * examples inside the margin dropped (separable) or a share of labels
 * flipped (noisy).  liblinear gets the same values as st_fvec rows. */
static void make(data *d, size_t n, uint32_t nfeat, double flip, uint64_t seed)
{
    st_rng r;
    st_rng_seed(&r, seed);
    double *truth = malloc(nfeat * sizeof *truth);
    memset(d, 0, sizeof *d);
    d->nfeat = nfeat;
    d->X.ncol = nfeat;
    d->X.idf = malloc(nfeat * sizeof *d->X.idf);
    for (uint32_t f = 0; f < nfeat; f++) {
        truth[f] = ((double)st_rng_below(&r, 2001) - 1000.0) / 1000.0;
        d->X.idf[f] = 1.0 + (double)st_rng_below(&r, 4000) / 1000.0;
    }
    d->X.tf[0] = 0;
    for (int k = 1; k < 256; k++)
        d->X.tf[k] = 1.0 + log((double)k);
    d->x = calloc(n, sizeof *d->x);
    d->ys = malloc(n);
    d->yd = malloc(n * sizeof *d->yd);
    d->idx = malloc(n * sizeof *d->idx);
    d->X.start = malloc((n + 1) * sizeof *d->X.start);
    d->X.ent = malloc(n * 16 * sizeof *d->X.ent);
    d->X.inv_norm = malloc(n * sizeof *d->X.inv_norm);
    d->X.sqnorm = malloc(n * sizeof *d->X.sqnorm);
    d->X.ovf_pos = malloc(n * sizeof *d->X.ovf_pos);
    d->X.ovf_tf = malloc(n * sizeof *d->X.ovf_tf);
    d->X.feature = NULL; /* columns are features */
    size_t k = 0;
    uint64_t pos = 0;
    while (k < n) {
        uint32_t used[16];
        size_t m = 4 + st_rng_below(&r, 12), u = 0;
        for (size_t j = 0; j < m; j++) {
            uint32_t f = (uint32_t)st_rng_below(&r, nfeat), q;
            for (q = 0; q < u && used[q] != f; q++)
                ;
            if (q == u)
                used[u++] = f;
        }
        for (size_t a = 1; a < u; a++)
            for (size_t b = a; b > 0 && used[b - 1] > used[b]; b--) {
                uint32_t t = used[b];
                used[b] = used[b - 1];
                used[b - 1] = t;
            }
        double x[16], tf[16], norm = 0, score = 0;
        uint32_t code[16];
        int escaped = st_rng_below(&r, 50) == 0;
        for (size_t a = 0; a < u; a++) {
            uint32_t cnt = escaped && a == 0 ? 300 : 1 + (uint32_t)st_rng_below(&r, 3);
            code[a] = cnt < ST_CSR_ESCAPE ? cnt : ST_CSR_ESCAPE;
            tf[a] = 1.0 + log((double)cnt);
            x[a] = tf[a] * d->X.idf[used[a]];
            norm += x[a] * x[a];
        }
        double inv = 1.0 / sqrt(norm);
        for (size_t a = 0; a < u; a++)
            score += x[a] * inv * truth[used[a]];
        score -= 0.05; /* a bias to learn */
        if (flip == 0 && fabs(score) < 0.3)
            continue; /* a margin: separable */
        int y = score > 0 ? 1 : -1;
        if (flip > 0 && (double)st_rng_below(&r, 1000000) / 1e6 < flip)
            y = -y;
        st_fvec *v = &d->x[k];
        v->index = malloc(u * sizeof *v->index);
        v->value = malloc(u * sizeof *v->value);
        v->n = v->cap = u;
        d->X.start[k] = pos;
        d->X.inv_norm[k] = inv;
        d->X.sqnorm[k] = norm * inv * inv;
        for (size_t a = 0; a < u; a++) {
            v->index[a] = used[a];
            v->value[a] = x[a] * inv;
            if (code[a] == ST_CSR_ESCAPE) {
                d->X.ovf_pos[d->X.novf] = pos;
                d->X.ovf_tf[d->X.novf++] = tf[a];
            }
            d->X.ent[pos++] = used[a] | code[a] << ST_CSR_SHIFT;
        }
        d->ys[k] = (signed char)y;
        d->yd[k] = y;
        d->idx[k] = k;
        k++;
    }
    d->n = n;
    d->X.n = n;
    d->X.start[n] = pos;
    free(truth);
}

static void release(data *d)
{
    for (size_t i = 0; i < d->n; i++)
        st_fvec_free(&d->x[i]);
    free(d->x);
    free(d->ys);
    free(d->yd);
    free(d->idx);
    free(d->X.start);
    free(d->X.ent);
    free(d->X.inv_norm);
    free(d->X.sqnorm);
    free(d->X.idf);
    free(d->X.ovf_pos);
    free(d->X.ovf_tf);
}

static double decision(const data *d, size_t i, const double *w, double b)
{
    double s = b;
    for (size_t j = 0; j < d->x[i].n; j++)
        s += w[d->x[i].index[j]] * d->x[i].value[j];
    return s;
}

/* 1/2 (|w|^2 + b^2) + sum_i C_i max(0, 1 - y_i f(x_i)): liblinear's primal,
 * its bias a regularised constant feature. */
static double primal(const data *d, const double *w, double b, double Cp, double Cn)
{
    double p = 0.5 * b * b;
    for (uint32_t f = 0; f < d->nfeat; f++)
        p += 0.5 * w[f] * w[f];
    for (size_t i = 0; i < d->n; i++) {
        double h = 1.0 - d->yd[i] * decision(d, i, w, b);
        if (h > 0)
            p += (d->ys[i] > 0 ? Cp : Cn) * h;
    }
    return p;
}

static size_t agreements(const data *d, const double *w1, double b1, const double *w2, double b2)
{
    size_t same = 0;
    for (size_t i = 0; i < d->n; i++)
        same += (decision(d, i, w1, b1) > 0) == (decision(d, i, w2, b2) > 0);
    return same;
}

static void compare(const char *name, double flip, double Cp, double Cn, uint64_t seed)
{
    data d;
    make(&d, 600, 300, flip, seed);
    st_problem prob = {d.n, d.x, NULL, 2, d.nfeat, NULL};
    double *wl = malloc(d.nfeat * sizeof *wl), *wo = malloc(d.nfeat * sizeof *wo);
    double *alpha = calloc(d.n, sizeof *alpha);
    /* the compact rows decode to the values liblinear sees, escaped counts
     * included */
    for (uint32_t f = 0; f < d.nfeat; f++)
        wl[f] = sin((double)f);
    size_t escaped = 0;
    for (size_t i = 0; i < d.n; i++) {
        double a = st_csr_dot(&d.X, i, wl), b = decision(&d, i, wl, 0);
        CHECK_MSG(fabs(a - b) <= 1e-12 * (1 + fabs(b)), "%s: row %zu decodes to %.17g, not %.17g",
                  name, i, a, b);
        escaped += d.X.ent[d.X.start[i]] >> ST_CSR_SHIFT == ST_CSR_ESCAPE;
    }
    CHECK_MSG(escaped > 0 && escaped == d.X.novf, "%s: %zu escaped counts", name, escaped);
    for (int pass = 0; pass < 2; pass++) {
        /* tight tolerance: both near the optimum; liblinear's default: both
         * where training stops */
        const double eps = pass == 0 ? 1e-5 : 0.01;
        double rho = 0, bo = 0;
        CHECK(st_liblinear_binary_eps(&prob, d.idx, d.yd, d.n, Cp, Cn, eps, wl, &rho) == 0);
        memset(alpha, 0, d.n * sizeof *alpha);
        st_dcd_opts opt = {eps, 0, seed};
        st_dcd_info info = {0, 0};
        CHECK(st_dcd_binary(&d.X, d.nfeat, d.idx, d.ys, d.n, Cp, Cn, &opt, alpha, wo, &bo,
                            &info) == 0);
        double pl = primal(&d, wl, -rho, Cp, Cn), po = primal(&d, wo, bo, Cp, Cn);
        double D = info.dual_objective;
        /* weak duality holds for any feasible point: a violation is a bug
         * in the solver's bookkeeping of w */
        CHECK_MSG(D <= pl + 1e-9 * fabs(pl) && D <= po + 1e-9 * fabs(po),
                  "%s eps %g: dual %.10g above a primal (%.10g, %.10g)", name, eps, D, pl, po);
        double tol = pass == 0 ? 1e-4 : 2e-2;
        CHECK_MSG((pl - D) / pl < tol, "%s eps %g: dual %.10g not within %g of liblinear's %.10g",
                  name, eps, D, tol, pl);
        CHECK_MSG(fabs(po - pl) / pl < tol, "%s eps %g: primal %.10g against liblinear's %.10g",
                  name, eps, po, pl);
        size_t agree = agreements(&d, wo, bo, wl, -rho);
        size_t need = pass == 0 ? d.n - d.n / 200 : d.n - d.n / 25;
        CHECK_MSG(agree >= need, "%s eps %g: predictions agree on %zu of %zu", name, eps, agree,
                  d.n);
        for (size_t i = 0; i < d.n; i++)
            CHECK_MSG(alpha[i] >= 0 && alpha[i] <= (d.ys[i] > 0 ? Cp : Cn),
                      "%s: alpha %zu = %g outside its box", name, i, alpha[i]);
        if (flip == 0) {
            /* separable: everything on the right side */
            size_t right = 0;
            for (size_t i = 0; i < d.n; i++)
                right += d.yd[i] * decision(&d, i, wo, bo) > 0;
            CHECK_MSG(right == d.n, "%s eps %g: %zu of %zu training examples right", name, eps,
                      right, d.n);
        }
        if (pass == 0) {
            /* a warm start at the solution stops at once, at the same point */
            double *w2 = malloc(d.nfeat * sizeof *w2), b2 = 0;
            st_dcd_info i2 = {0, 0};
            CHECK(st_dcd_binary(&d.X, d.nfeat, d.idx, d.ys, d.n, Cp, Cn, &opt, alpha, w2, &b2,
                                &i2) == 0);
            CHECK_MSG(i2.iterations <= 5 && i2.iterations * 10 <= info.iterations,
                      "%s: warm start took %d passes, cold %d", name, i2.iterations,
                      info.iterations);
            CHECK_MSG(fabs(i2.dual_objective - D) <= 1e-6 * fabs(D),
                      "%s: warm start moved the objective %.10g -> %.10g", name, D,
                      i2.dual_objective);
            /* the same seed gives the same bits; another seed the same
             * optimum */
            memset(alpha, 0, d.n * sizeof *alpha);
            CHECK(st_dcd_binary(&d.X, d.nfeat, d.idx, d.ys, d.n, Cp, Cn, &opt, alpha, w2, &b2,
                                &i2) == 0);
            CHECK_MSG(memcmp(w2, wo, d.nfeat * sizeof *wo) == 0 && b2 == bo,
                      "%s: same seed, different weights", name);
            st_dcd_opts other = {eps, 0, seed + 12345};
            memset(alpha, 0, d.n * sizeof *alpha);
            CHECK(st_dcd_binary(&d.X, d.nfeat, d.idx, d.ys, d.n, Cp, Cn, &other, alpha, w2, &b2,
                                &i2) == 0);
            CHECK_MSG(fabs(i2.dual_objective - D) / fabs(D) < 1e-4,
                      "%s: another seed, objective %.10g against %.10g", name, i2.dual_objective,
                      D);
            free(w2);
        }
    }
    free(wl);
    free(wo);
    free(alpha);
    release(&d);
}

/* A wrong solver must fail the comparison: stopping it after one pass
 * leaves a dual objective far from liblinear's optimum. */
static void comparison_can_fail(void)
{
    data d;
    make(&d, 600, 300, 0.2, 99);
    st_problem prob = {d.n, d.x, NULL, 2, d.nfeat, NULL};
    double *wl = malloc(d.nfeat * sizeof *wl), *wo = malloc(d.nfeat * sizeof *wo);
    double *alpha = calloc(d.n, sizeof *alpha), rho = 0, bo = 0;
    CHECK(st_liblinear_binary_eps(&prob, d.idx, d.yd, d.n, 1.0, 1.0, 1e-5, wl, &rho) == 0);
    st_dcd_opts opt = {1e-5, 1, 99};
    st_dcd_info info = {0, 0};
    CHECK(st_dcd_binary(&d.X, d.nfeat, d.idx, d.ys, d.n, 1.0, 1.0, &opt, alpha, wo, &bo,
                        &info) == 0);
    double pl = primal(&d, wl, -rho, 1.0, 1.0);
    CHECK_MSG((pl - info.dual_objective) / pl > 1e-3,
              "one pass already within 1e-3 (%.10g vs %.10g): the tolerance cannot fail",
              info.dual_objective, pl);
    free(wl);
    free(wo);
    free(alpha);
    release(&d);
}

/* Three classes through st_svm_train: the model is the same, bit for bit,
 * on 1, 2 and 4 threads, with 5-fold and held-out calibration. */
static void threads_same_model(void)
{
    data d;
    make(&d, 900, 200, 0.1, 7);
    int *y = malloc(d.n * sizeof *y);
    for (size_t i = 0; i < d.n; i++)
        y[i] = d.ys[i] > 0 ? (int)(i % 2) : 2;
    double cw[3] = {1.0, 1.3, 0.7};
    st_problem prob = {d.n, NULL, y, 3, d.nfeat, &d.X};
    for (int platt = 0; platt < 2; platt++) {
        st_svm *ref = NULL;
        for (int threads = 1; threads <= 4; threads *= 2) {
            st_svm_params par = {STANCE_KERNEL_LINEAR, STANCE_SOLVER_DCD, 1.0, 0, cw, 1, 5,
                                 threads, platt};
            st_svm *s = NULL;
            stance_error err = {0};
            if (!CHECK_MSG(st_svm_train(&prob, &par, &s, &err) == 0, "train: %s", err.msg))
                continue;
            if (!ref) {
                ref = s;
                /* the pairs learnt something: most examples right */
                size_t right = 0;
                double dec[3], pr[3], scratch[18];
                for (size_t i = 0; i < d.n; i++) {
                    st_svm_decision(s, &d.x[i], dec);
                    right += st_svm_probability(s, dec, pr, scratch) == y[i];
                }
                /* classes 0 and 1 differ by chance only: about 2/3 can be right */
                CHECK_MSG(right > d.n * 6 / 10, "only %zu of %zu right", right, d.n);
                continue;
            }
            CHECK_MSG(memcmp(s->w, ref->w, (size_t)d.nfeat * 3 * sizeof *s->w) == 0 &&
                          memcmp(s->rho, ref->rho, 3 * sizeof *s->rho) == 0 &&
                          memcmp(s->probA, ref->probA, 3 * sizeof *s->probA) == 0 &&
                          memcmp(s->probB, ref->probB, 3 * sizeof *s->probB) == 0,
                      "platt_folds %d: %d threads give another model than 1", platt, threads);
            st_svm_free(s);
        }
        st_svm_free(ref);
    }
    free(y);
    release(&d);
}

int main(void)
{
    compare("separable", 0.0, 5.0, 5.0, 1);
    compare("noisy", 0.15, 1.0, 1.0, 2);
    compare("noisy, unequal costs", 0.15, 0.5, 2.0, 3);
    compare("noisy, C = 3", 0.05, 3.0, 3.0, 4);
    comparison_can_fail();
    threads_same_model();
    return UNIT_REPORT("test_dcd");
}
