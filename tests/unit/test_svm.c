/* test_svm.c - the folded classifier against libsvm itself: for linear and
 * RBF kernels and 2, 3 and 5 classes, the probabilities from our folded
 * weights and our pairwise coupling equal svm_predict_probability's to 1e-9;
 * and our own per-pair training separates what it should. */
#include "internal.h"
#include "unit.h"
#include "svm/solvers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sparse unit vectors whose class shows in a few features, plus noise. */
static void make_data(int k, size_t n, uint32_t nfeat, uint64_t seed, st_fvec *x, int *y)
{
    st_rng r;
    st_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int)(i % (size_t)k);
        size_t m = 6 + st_rng_below(&r, 6);
        x[i].index = malloc((m + 3) * sizeof *x[i].index);
        x[i].value = malloc((m + 3) * sizeof *x[i].value);
        x[i].cap = m + 3;
        /* class signal in features 0..3k, noise above */
        uint32_t used[32];
        size_t u = 0;
        used[u++] = (uint32_t)(3 * y[i] + st_rng_below(&r, 3));
        for (size_t j = 0; j < m; j++)
            used[u++] = (uint32_t)(3 * k + st_rng_below(&r, nfeat - 3 * k));
        /* sort and dedupe */
        for (size_t a = 0; a < u; a++)
            for (size_t b = a + 1; b < u; b++)
                if (used[b] < used[a]) {
                    uint32_t t = used[a];
                    used[a] = used[b];
                    used[b] = t;
                }
        double norm = 0;
        size_t o = 0;
        for (size_t a = 0; a < u; a++) {
            if (o && x[i].index[o - 1] == used[a])
                continue;
            double v = 0.2 + (double)st_rng_below(&r, 1000) / 1000.0;
            if (used[a] < (uint32_t)(3 * k))
                v += 1.5;
            x[i].index[o] = used[a];
            x[i].value[o] = v;
            norm += v * v;
            o++;
        }
        for (size_t a = 0; a < o; a++)
            x[i].value[a] /= sqrt(norm);
        x[i].n = o;
    }
}

static void reference_case(int k, int kernel, double C, uint64_t seed)
{
    const size_t n = 40 * (size_t)k, ntest = 30;
    const uint32_t nfeat = 60;
    st_fvec *x = calloc(n + ntest, sizeof *x);
    int *y = malloc((n + ntest) * sizeof *y);
    make_data(k, n + ntest, nfeat, seed, x, y);
    double cw[8] = {1, 1.5, 0.8, 1.2, 1, 1, 1, 1};
    st_problem prob = {n, x, y, k, nfeat, NULL};
    st_svm_params par = {kernel, STANCE_SOLVER_LIBSVM, C, 0.7, cw, 1, seed, 1, 0};
    double *ref = malloc(ntest * (size_t)k * sizeof *ref);
    st_svm *s = NULL;
    stance_error err = {0};
    int rc = st_svm_reference_probabilities(&prob, &par, x + n, ntest, &s, ref, &err);
    if (!CHECK_MSG(rc == 0, "reference training: %s", err.msg))
        goto done;
    double dec[64], prob_out[8], scratch[2 * 8 * 8], worst = 0;
    for (size_t t = 0; t < ntest; t++) {
        st_svm_decision(s, &x[n + t], dec);
        st_svm_probability(s, dec, prob_out, scratch);
        for (int c = 0; c < k; c++) {
            double d = fabs(prob_out[c] - ref[t * k + c]);
            if (d > worst)
                worst = d;
        }
    }
    CHECK_MSG(worst <= 1e-9, "k=%d kernel=%d: largest difference from libsvm %.3g", k, kernel,
              worst);
done:
    st_svm_free(s);
    for (size_t i = 0; i < n + ntest; i++)
        st_fvec_free(&x[i]);
    free(x);
    free(y);
    free(ref);
}

/* Our own per-pair training: accurate on separable data, deterministic. */
static void own_training(int solver, int kernel)
{
    const int k = 4;
    const size_t n = 200, ntest = 100;
    st_fvec *x = calloc(n + ntest, sizeof *x);
    int *y = malloc((n + ntest) * sizeof *y);
    make_data(k, n + ntest, 80, 99, x, y);
    st_problem prob = {n, x, y, k, 80, NULL};
    st_svm_params par = {kernel, solver, 1.0, 1.0, NULL, 1, 5, 2, 0};
    st_svm *a = NULL, *b = NULL;
    stance_error err = {0};
    CHECK_INT(st_svm_train(&prob, &par, &a, &err), 0);
    par.threads = 1;
    CHECK_INT(st_svm_train(&prob, &par, &b, &err), 0);
    if (!a || !b)
        goto done;
    int right = 0, same = 1;
    double dec[16], p1[4], p2[4], scratch[32];
    for (size_t t = 0; t < ntest; t++) {
        st_svm_decision(a, &x[n + t], dec);
        int l1 = st_svm_probability(a, dec, p1, scratch);
        st_svm_decision(b, &x[n + t], dec);
        st_svm_probability(b, dec, p2, scratch);
        right += l1 == y[n + t];
        double sum = 0;
        for (int c = 0; c < k; c++) {
            same &= p1[c] == p2[c];
            sum += p1[c];
        }
        CHECK(fabs(sum - 1) < 1e-9);
    }
    CHECK_MSG(right >= 90, "solver %d kernel %d: %d of 100 right", solver, kernel, right);
    CHECK_MSG(same, "2 threads and 1 thread give different probabilities");
done:
    st_svm_free(a);
    st_svm_free(b);
    for (size_t i = 0; i < n + ntest; i++)
        st_fvec_free(&x[i]);
    free(x);
    free(y);
}

int main(void)
{
    reference_case(2, STANCE_KERNEL_LINEAR, 1.0, 1);
    reference_case(3, STANCE_KERNEL_LINEAR, 1.0, 2);
    reference_case(5, STANCE_KERNEL_LINEAR, 0.5, 3);
    reference_case(3, STANCE_KERNEL_RBF, 2.0, 4);
    reference_case(5, STANCE_KERNEL_RBF, 1.0, 5);
    own_training(STANCE_SOLVER_LIBSVM, STANCE_KERNEL_LINEAR);
    own_training(STANCE_SOLVER_LIBLINEAR, STANCE_KERNEL_LINEAR);
    own_training(STANCE_SOLVER_LIBSVM, STANCE_KERNEL_RBF);
    /* the sigmoid fit recovers a clean separation's direction */
    double dec[6] = {-2, -1, -0.5, 0.5, 1, 2}, lab[6] = {-1, -1, -1, 1, 1, 1}, A, B;
    st_sigmoid_fit(dec, lab, 6, &A, &B);
    CHECK(A < 0);
    return UNIT_REPORT("test_svm");
}
