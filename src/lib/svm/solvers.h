/* solvers.h - what svm.c needs from the other solver files. */
#ifndef STANCE_SVM_SOLVERS_H
#define STANCE_SVM_SOLVERS_H

#include "internal.h"

/* Train one binary linear SVM (L1-loss, as libsvm's C-SVC) with liblinear's
 * dual coordinate descent over examples idx[0..n) of prob with signs y
 * (+1/-1) and per-class costs Cp, Cn.  Writes w (prob->nfeat) and rho so
 * that f(x) = w.x - rho, positive for +1. */
STANCE_HIDDEN int st_liblinear_binary(const st_problem *prob, const size_t *idx, const double *y,
                                      size_t n, double Cp, double Cn, double *w, double *rho);

/* Our dual coordinate descent (dcd.c) for the same problem as
 * st_liblinear_binary, over rows idx[0..n) of the compact matrix X with signs
 * y (+1/-1).  alpha (n) is the starting point on entry (zeros for a cold
 * start; a previous solution for a warm one) and the solution on return.
 * Writes w (nfeat) and the bias b, so that f(x) = w.x + b.  Deterministic
 * for a given opts->seed; thread-safe (no global state). */
typedef struct st_dcd_opts {
    double eps;       /* stopping tolerance on the projected gradient; 0: 0.01 */
    int max_iter;     /* passes; 0: 1000 */
    uint64_t seed;    /* the visiting order */
} st_dcd_opts;
typedef struct st_dcd_info {
    int iterations;         /* passes made */
    double dual_objective;  /* sum(a) - |w|^2/2, bias included: at most the primal */
} st_dcd_info;
STANCE_HIDDEN int st_dcd_binary(const st_csr *X, uint32_t nfeat, const size_t *idx,
                                const signed char *y, size_t n, double Cp, double Cn,
                                const st_dcd_opts *opts, double *alpha, double *w, double *bias,
                                st_dcd_info *info);
/* The dot product of row r of X with w. */
STANCE_HIDDEN double st_csr_dot(const st_csr *X, size_t r, const double *w);

/* The same problem through liblinear with a chosen tolerance (the tests
 * compare the two solvers; training uses eps 0.01). */
STANCE_HIDDEN int st_liblinear_binary_eps(const st_problem *prob, const size_t *idx,
                                          const double *y, size_t n, double Cp, double Cn,
                                          double eps, double *w, double *rho);

/* The liblinear version this library runs with (e.g. 230). */
STANCE_HIDDEN int st_liblinear_version(void);

/* Platt sigmoid fit on decision values dec with signs y. */
STANCE_HIDDEN void st_sigmoid_fit(const double *dec, const double *y, size_t n, double *A,
                                  double *B);

#endif
