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

/* The liblinear version this library runs with (e.g. 230). */
STANCE_HIDDEN int st_liblinear_version(void);

/* Platt sigmoid fit on decision values dec with signs y. */
STANCE_HIDDEN void st_sigmoid_fit(const double *dec, const double *y, size_t n, double *A,
                                  double *B);

#endif
