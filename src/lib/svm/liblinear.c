/* liblinear.c - the linear solver for large corpora.
 *
 * libsvm's SMO solver grows faster than linearly with the number of
 * sentences; liblinear's dual coordinate descent solves the same L1-loss
 * C-SVC problem for linear kernels in about linear time.  Its bias is a
 * constant feature (regularised, unlike libsvm's rho); the difference is
 * immaterial at these sizes and the probabilities are fitted the same way.
 *
 * liblinear shuffles with the C library's rand(): calls are serialised and
 * each reseeds it, so that training stays deterministic under threads - and
 * so only one core works.  dcd.c solves the same problem with its own
 * generator on every core; it takes over above huge_corpus sentences. */
#include "internal.h"
#include "svm/solvers.h"

#include <linear.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t rand_lock = PTHREAD_MUTEX_INITIALIZER;

static void quiet(const char *s) { (void)s; }

int st_liblinear_binary(const st_problem *prob, const size_t *idx, const double *y, size_t n,
                        double Cp, double Cn, double *w, double *rho)
{
    return st_liblinear_binary_eps(prob, idx, y, n, Cp, Cn, 0.01, w, rho);
}

int st_liblinear_binary_eps(const st_problem *prob, const size_t *idx, const double *y,
                            size_t n, double Cp, double Cn, double eps, double *w, double *rho)
{
    if (n > INT32_MAX || prob->nfeat >= INT32_MAX)
        return STANCE_ERR_TOOBIG;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += prob->x[idx[i]].n + 2;
    struct feature_node *nodes = malloc(total * sizeof *nodes);
    struct feature_node **rows = malloc((n ? n : 1) * sizeof *rows);
    double *yy = malloc((n ? n : 1) * sizeof *yy);
    if (!nodes || !rows || !yy) {
        free(nodes), free(rows), free(yy);
        return STANCE_ERR_NOMEM;
    }
    struct feature_node *p = nodes;
    const int bias_index = (int)prob->nfeat + 1;
    for (size_t i = 0; i < n; i++) {
        const st_fvec *x = &prob->x[idx[i]];
        rows[i] = p;
        for (size_t j = 0; j < x->n; j++, p++) {
            p->index = (int)x->index[j] + 1;
            p->value = x->value[j];
        }
        p->index = bias_index;
        p->value = 1.0;
        p++;
        p->index = -1;
        p->value = 0;
        p++;
        yy[i] = y[i];
    }
    struct problem lp = {(int)n, bias_index, yy, rows, 1.0};
    int wl[2] = {+1, -1};
    double wv[2] = {Cp, Cn};
    struct parameter par;
    memset(&par, 0, sizeof par);
    par.solver_type = L2R_L1LOSS_SVC_DUAL;
    par.eps = eps;
    par.C = 1.0;
    par.nr_weight = 2;
    par.weight_label = wl;
    par.weight = wv;
    pthread_mutex_lock(&rand_lock);
    set_print_string_function(quiet);
    srand(1);
    struct model *m = train(&lp, &par);
    pthread_mutex_unlock(&rand_lock);
    int rc = STANCE_OK;
    if (!m) {
        rc = STANCE_ERR_NOMEM;
        goto done;
    }
    /* liblinear numbers classes by first appearance; for two classes its
     * single weight vector favours label[0] */
    double sign = m->label[0] == +1 ? 1.0 : -1.0;
    for (uint32_t f = 0; f < prob->nfeat; f++)
        w[f] = sign * m->w[f];
    *rho = -sign * m->w[prob->nfeat];
    free_and_destroy_model(&m);
done:
    free(nodes);
    free(rows);
    free(yy);
    return rc;
}

int st_liblinear_version(void)
{
    return liblinear_version;
}
