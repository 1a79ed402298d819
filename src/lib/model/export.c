/*
 * export.c - the model and its feature vectors in libsvm's text formats, for
 * benchmarks against svm-predict and for interoperation.
 *
 * The libsvm model is written here as text, field by field, the way
 * svm_save_model lays it out; <libsvm/svm.h> stays private to svm/svm.c.
 * Every number is printed with 17 significant digits, so it reads back as
 * the same double and svm-predict computes the same decision values as
 * st_svm_decision, term by term (see stance_model_export_libsvm in
 * stance.h).
 *
 * The vectors come from stance_session_features (classify/session.c), the
 * classification pipeline itself; tests/cli/cases/export-*.case check that
 * svm-predict on them reproduces `stance classify`.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------- libsvm model */

/* %.17g round-trips every double; an application's locale may have made
 * the decimal separator a comma, which libsvm's reader would not take. */
static int put_num(FILE *f, const char *pre, double v)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.17g", v);
    for (char *p = tmp; *p; p++)
        if (*p == ',')
            *p = '.';
    return fprintf(f, "%s%s", pre, tmp) < 0 ? -1 : 0;
}

static int put_row(FILE *f, const char *key, const double *v, int n)
{
    if (fprintf(f, "%s", key) < 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (put_num(f, " ", v[i]))
            return -1;
    return fputc('\n', f) == EOF ? -1 : 0;
}

/* The body of the model file.  Returns 0, or -1 on a write error. */
static int write_libsvm(FILE *f, const st_svm *s)
{
    const int k = s->nclass, np = s->npairs;
    const int linear = s->kernel == STANCE_KERNEL_LINEAR;
    /* linear: class i owns one pseudo support vector per pair (i, j > i) */
    uint64_t total = 0;
    if (linear)
        total = (uint64_t)np;
    else
        total = s->nsv;
    if (fprintf(f, "svm_type c_svc\nkernel_type %s\n", linear ? "linear" : "rbf") < 0)
        return -1;
    if (!linear && (put_num(f, "gamma ", s->gamma) || fputc('\n', f) == EOF))
        return -1;
    if (fprintf(f, "nr_class %d\ntotal_sv %llu\n", k, (unsigned long long)total) < 0)
        return -1;
    if (put_row(f, "rho", s->rho, np))
        return -1;
    if (fprintf(f, "label") < 0)
        return -1;
    for (int c = 0; c < k; c++)
        if (fprintf(f, " %d", c) < 0)
            return -1;
    if (fputc('\n', f) == EOF || put_row(f, "probA", s->probA, np) ||
        put_row(f, "probB", s->probB, np) || fprintf(f, "nr_sv") < 0)
        return -1;
    for (int c = 0; c < k; c++)
        if (fprintf(f, " %lu", linear ? (unsigned long)(k - 1 - c)
                                      : (unsigned long)s->nsv_class[c]) < 0)
            return -1;
    if (fprintf(f, "\nSV\n") < 0)
        return -1;

    if (linear) {
        /* Pairs are numbered (0,1), (0,2) ... (0,k-1), (1,2) ..., so walking
         * them in order lists the pseudo vectors grouped by class i in class
         * order, as libsvm requires.  For pair (i, j) the coefficient row
         * j-1 is the one libsvm reads for class i against j (j > i); a
         * class-i vector is never read in another pair's row j-1, so the
         * zeros leave every other decision value untouched. */
        int p = 0;
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++, p++) {
                for (int r = 0; r < k - 1; r++)
                    if (fprintf(f, r ? " %d" : "%d", r == j - 1) < 0)
                        return -1;
                for (uint32_t x = 0; x < s->nfeat; x++) {
                    double w = st_svm_weights(s, x)[p];
                    if (w == 0)
                        continue;
                    if (fprintf(f, " %lu:", (unsigned long)x + 1) < 0 || put_num(f, "", w))
                        return -1;
                }
                if (fputc('\n', f) == EOF)
                    return -1;
            }
        return 0;
    }
    for (uint32_t t = 0; t < s->nsv; t++) {
        for (int r = 0; r < k - 1; r++)
            if (put_num(f, r ? " " : "", s->sv_coef[(size_t)r * s->nsv + t]))
                return -1;
        for (uint64_t a = s->sv_start[t]; a < s->sv_start[t + 1]; a++)
            if (fprintf(f, " %lu:", (unsigned long)s->sv_index[a] + 1) < 0 ||
                put_num(f, "", s->sv_value[a]))
                return -1;
        if (fputc('\n', f) == EOF)
            return -1;
    }
    return 0;
}

static int write_svm(FILE *f, void *ctx)
{
    return write_libsvm(f, ctx);
}

int stance_model_export_libsvm(const stance_model *m, const char *path, stance_error *err)
{
    if (!m || !m->svm || !path || !*path)
        return st_error(err, STANCE_ERR_ARG, "stance_model_export_libsvm: no model or no path");
    return st_write_atomic(path, write_svm, m->svm, err);
}
