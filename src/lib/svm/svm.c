/* svm.c - the sixth stage at training time, and the only file that includes
 * <libsvm/svm.h>.
 *
 * A k-class model is k(k-1)/2 binary C-SVCs, one per class pair, exactly as
 * libsvm's one-vs-one scheme, but trained pair by pair so that the pairs run
 * on all cores and so that the liblinear solver (liblinear.c) or our own
 * dual coordinate descent (dcd.c) can stand in for libsvm on large linear
 * problems with the same model semantics.  Each pair's Platt sigmoid is
 * fitted on 5-fold cross-validated decision values, as libsvm does, but with
 * our own generator so that training is deterministic and thread-safe
 * (libsvm's own probability fit calls rand()); with platt_folds (large
 * corpora) on the decision values of the first of those folds only, held
 * out from a model trained on the other four.
 *
 * libsvm trap: a model from svm_train points into the training vectors
 * (free_sv = 0).  Every model here is folded into our own st_svm and freed
 * before the node pool it points into. */
#include "internal.h"
#include "svm/solvers.h"

#include <libsvm/svm.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void quiet(const char *s) { (void)s; }

/* All training vectors as libsvm rows in one pool: row r starts at rows[r]
 * and ends with index -1. */
typedef struct node_pool {
    struct svm_node *nodes;
    struct svm_node **rows;
} node_pool;

static int pool_build(const st_problem *prob, node_pool *np)
{
    size_t total = 0;
    for (size_t i = 0; i < prob->n; i++)
        total += prob->x[i].n + 1;
    np->nodes = malloc(total * sizeof *np->nodes);
    np->rows = malloc((prob->n ? prob->n : 1) * sizeof *np->rows);
    if (!np->nodes || !np->rows)
        return STANCE_ERR_NOMEM;
    struct svm_node *p = np->nodes;
    for (size_t i = 0; i < prob->n; i++) {
        np->rows[i] = p;
        for (size_t j = 0; j < prob->x[i].n; j++) {
            p->index = (int)prob->x[i].index[j] + 1;
            p->value = prob->x[i].value[j];
            p++;
        }
        p->index = -1;
        p->value = 0;
        p++;
    }
    return STANCE_OK;
}

static void pool_free(node_pool *np)
{
    free(np->nodes);
    free(np->rows);
}

static void base_param(struct svm_parameter *sp, const st_svm_params *par, double Cp, double Cn,
                       int *wl, double *wv)
{
    memset(sp, 0, sizeof *sp);
    sp->svm_type = C_SVC;
    sp->kernel_type = par->kernel == STANCE_KERNEL_RBF ? RBF : LINEAR;
    sp->gamma = par->gamma;
    sp->cache_size = 200;
    sp->eps = 1e-3;
    sp->C = 1.0;
    sp->shrinking = 1;
    sp->probability = 0;
    wl[0] = +1;
    wl[1] = -1;
    wv[0] = Cp;
    wv[1] = Cn;
    sp->nr_weight = 2;
    sp->weight_label = wl;
    sp->weight = wv;
}

/* Train one binary libsvm problem over rows idx[0..n) with signs y (+1/-1,
 * every +1 first).  Linear: w (nfeat, zeroed here) and *rho.  RBF: support
 * vectors as positions into idx with their coefficients. */
static int libsvm_binary(const node_pool *np, const size_t *idx, const double *y, size_t n,
                         const st_svm_params *par, double Cp, double Cn, uint32_t nfeat,
                         double *w, double *rho, size_t **sv, double **coef, size_t *nsv,
                         struct svm_node ***xbuf)
{
    struct svm_problem sp;
    struct svm_parameter param;
    int wl[2];
    double wv[2];
    base_param(&param, par, Cp, Cn, wl, wv);
    struct svm_node **x = *xbuf;
    for (size_t i = 0; i < n; i++)
        x[i] = np->rows[idx[i]];
    sp.l = (int)n;
    sp.y = (double *)y;
    sp.x = x;
    struct svm_model *m = svm_train(&sp, &param);
    if (!m)
        return STANCE_ERR_NOMEM;
    /* libsvm numbers classes by first appearance: +1 comes first here */
    double sign = m->label[0] == +1 ? 1.0 : -1.0;
    *rho = sign * m->rho[0];
    if (w) {
        memset(w, 0, nfeat * sizeof *w);
        for (int s = 0; s < m->l; s++) {
            double c = sign * m->sv_coef[0][s];
            for (const struct svm_node *q = m->SV[s]; q->index != -1; q++)
                w[q->index - 1] += c * q->value;
        }
    }
    if (sv) {
        *nsv = (size_t)m->l;
        *sv = malloc((size_t)(m->l ? m->l : 1) * sizeof **sv);
        *coef = malloc((size_t)(m->l ? m->l : 1) * sizeof **coef);
        if (!*sv || !*coef) {
            svm_free_and_destroy_model(&m);
            return STANCE_ERR_NOMEM;
        }
        for (int s = 0; s < m->l; s++) {
            (*sv)[s] = (size_t)m->sv_indices[s] - 1;
            (*coef)[s] = sign * m->sv_coef[0][s];
        }
    }
    svm_free_and_destroy_model(&m);
    return STANCE_OK;
}

/* ------------------------------------------------------- Platt sigmoid */

/* Fit P(y=+1|f) = 1/(1+exp(A f + B)) by Newton's method with backtracking
 * (Lin, Lin and Weng 2007), on targets smoothed as Platt proposes. */
void st_sigmoid_fit(const double *dec, const double *y, size_t n, double *A, double *B)
{
    double prior1 = 0, prior0 = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] > 0)
            prior1 += 1;
        else
            prior0 += 1;
    }
    const int max_iter = 100;
    const double min_step = 1e-10, sigma = 1e-12, eps = 1e-5;
    const double hi = (prior1 + 1.0) / (prior1 + 2.0), lo = 1 / (prior0 + 2.0);
    double a = 0.0, b = log((prior0 + 1.0) / (prior1 + 1.0)), fval = 0.0;
    for (size_t i = 0; i < n; i++) {
        double t = y[i] > 0 ? hi : lo;
        double fApB = dec[i] * a + b;
        fval += fApB >= 0 ? t * fApB + log(1 + exp(-fApB)) : (t - 1) * fApB + log(1 + exp(fApB));
    }
    for (int iter = 0; iter < max_iter; iter++) {
        double h11 = sigma, h22 = sigma, h21 = 0, g1 = 0, g2 = 0;
        for (size_t i = 0; i < n; i++) {
            double t = y[i] > 0 ? hi : lo;
            double fApB = dec[i] * a + b, p, q;
            if (fApB >= 0) {
                p = exp(-fApB) / (1.0 + exp(-fApB));
                q = 1.0 / (1.0 + exp(-fApB));
            } else {
                p = 1.0 / (1.0 + exp(fApB));
                q = exp(fApB) / (1.0 + exp(fApB));
            }
            double d2 = p * q;
            h11 += dec[i] * dec[i] * d2;
            h22 += d2;
            h21 += dec[i] * d2;
            double d1 = t - p;
            g1 += dec[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < eps && fabs(g2) < eps)
            break;
        double det = h11 * h22 - h21 * h21;
        double dA = -(h22 * g1 - h21 * g2) / det;
        double dB = -(-h21 * g1 + h11 * g2) / det;
        double gd = g1 * dA + g2 * dB;
        double step = 1;
        while (step >= min_step) {
            double na = a + step * dA, nb = b + step * dB, nf = 0.0;
            for (size_t i = 0; i < n; i++) {
                double t = y[i] > 0 ? hi : lo;
                double fApB = dec[i] * na + nb;
                nf += fApB >= 0 ? t * fApB + log(1 + exp(-fApB))
                                : (t - 1) * fApB + log(1 + exp(fApB));
            }
            if (nf < fval + 0.0001 * step * gd) {
                a = na;
                b = nb;
                fval = nf;
                break;
            }
            step /= 2.0;
        }
        if (step < min_step)
            break;
    }
    *A = a;
    *B = b;
}

/* ------------------------------------------------------------ pairs */

typedef struct pair_out {
    double rho, A, B;
    double *w;          /* linear: nfeat */
    size_t nsv;         /* RBF: support vectors as example indices */
    size_t *sv;
    double *coef;
    int status;
} pair_out;

typedef struct train_ctx {
    const st_problem *prob;
    const st_svm_params *par;
    node_pool pool;
    size_t **by_class;  /* example indices of each class */
    size_t *count;
    pair_out *out;
    int npairs;
    int next;           /* next pair to take */
    pthread_mutex_t lock;
} train_ctx;

static double pair_dot(const double *w, const st_fvec *x)
{
    double s = 0;
    for (size_t i = 0; i < x->n; i++)
        s += w[x->index[i]] * x->value[i];
    return s;
}

/* The seed of the DCD solver's visiting order for pair p and fold f (-1: all
 * the pair's examples): a function of the training seed and the job only,
 * never of the thread that runs it. */
static uint64_t dcd_seed(uint64_t seed, int p, int f)
{
    return seed * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL * (uint64_t)(p + 1) +
           0x9e3779b97f4a7c15ULL * (uint64_t)(f + 2);
}

/* Pair (ci, cj) with our DCD solver on the compact matrix.  Out-of-sample
 * decision values for Platt come from the same seeded 5-fold split as the
 * other solvers use; with platt_folds only the first fold is held out (a
 * fifth of the pair's examples, at least 500 values in automatic mode:
 * plenty for a two-parameter fit).  Each solve starts warm from
 * a neighbouring solution - the folds from the full model's dual variables,
 * or the full model from the held-out model's - which saves most of the
 * passes; the answer is the same optimum within the stopping tolerance. */
/* Does a class pair of n examples fit its Platt sigmoid on one held-out
 * fold (instead of 5-fold cross-validation)? */
static int platt_holdout(const st_svm_params *par, size_t n)
{
    return par->platt_folds == 1 || (par->platt_folds == 2 && n >= ST_HOLDOUT_MIN_PAIR);
}

static int train_pair_dcd(train_ctx *t, int p, int ci, int cj, const size_t *cls_i,
                          size_t ni, const size_t *cls_j, size_t nj)
{
    const st_problem *prob = t->prob;
    const st_svm_params *par = t->par;
    const st_csr *X = prob->csr;
    pair_out *o = &t->out[p];
    const size_t n = ni + nj;
    double cw_i = par->class_weight ? par->class_weight[ci] : 1.0;
    double cw_j = par->class_weight ? par->class_weight[cj] : 1.0;
    const double Cp = par->C * cw_i, Cn = par->C * cw_j;
    const uint32_t nfeat = prob->nfeat;
    int rc = STANCE_OK;
    size_t *idx = malloc(n * sizeof *idx), *perm = malloc(n * sizeof *perm);
    size_t *sub = malloc(n * sizeof *sub);
    signed char *y = malloc(n), *suby = malloc(n);
    double *alpha = calloc(n, sizeof *alpha), *subalpha = malloc(n * sizeof *subalpha);
    double *dec = malloc(n * sizeof *dec), *decy = malloc(n * sizeof *decy);
    double *w = malloc((nfeat ? nfeat : 1) * sizeof *w);   /* by column */
    double *wfull = malloc((nfeat ? nfeat : 1) * sizeof *wfull);
    o->w = malloc((nfeat ? nfeat : 1) * sizeof *o->w);    /* by feature */
    if (!idx || !perm || !sub || !y || !suby || !alpha || !subalpha || !dec || !decy || !w ||
        !wfull || !o->w) {
        rc = STANCE_ERR_NOMEM;
        goto done;
    }
    memcpy(idx, cls_i, ni * sizeof *idx);
    memcpy(idx + ni, cls_j, nj * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        y[i] = i < ni ? 1 : -1;
    st_dcd_opts opt = {0.01, 0, 0};
    double b = 0;
    if (!par->probability) {
        opt.seed = dcd_seed(par->seed, p, -1);
        rc = st_dcd_binary(X, nfeat, idx, y, n, Cp, Cn, &opt, alpha, wfull, &b, NULL);
        o->rho = -b;
        o->A = -1.0;
        o->B = 0.0;
        goto done;
    }
    st_rng rng;
    st_rng_seed(&rng, par->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(p + 1)));
    st_rng_shuffle(&rng, perm, n);
    const size_t nfold = 5;
    const int holdout = platt_holdout(par, n);
    if (!holdout) {
        opt.seed = dcd_seed(par->seed, p, -1);
        if ((rc = st_dcd_binary(X, nfeat, idx, y, n, Cp, Cn, &opt, alpha, wfull, &b, NULL)))
            goto done;
        o->rho = -b;
    }
    size_t ndec = 0;
    for (size_t f = 0; f < (holdout ? 1 : nfold); f++) {
        size_t begin = f * n / nfold, end = (f + 1) * n / nfold;
        size_t m = 0, npos = 0;
        for (size_t i = 0; i < n; i++) {
            if (i >= begin && i < end)
                continue;
            size_t e = perm[i];
            sub[m] = idx[e];
            suby[m] = y[e];
            subalpha[m] = holdout ? 0.0 : alpha[e];
            npos += y[e] > 0;
            m++;
        }
        if (npos == 0 || npos == m) {
            for (size_t i = begin; i < end; i++) {
                dec[ndec] = npos ? 1.0 : -1.0;
                decy[ndec++] = y[perm[i]];
            }
            continue;
        }
        double fb = 0;
        opt.seed = dcd_seed(par->seed, p, (int)f);
        if ((rc = st_dcd_binary(X, nfeat, sub, suby, m, Cp, Cn, &opt, subalpha, w, &fb, NULL)))
            goto done;
        for (size_t i = begin; i < end; i++) {
            size_t e = perm[i];
            dec[ndec] = st_csr_dot(X, idx[e], w) + fb;
            decy[ndec++] = y[e];
        }
        if (holdout) {
            /* the full model starts from this one's solution */
            m = 0;
            for (size_t i = 0; i < n; i++)
                if (i < begin || i >= end)
                    alpha[perm[i]] = subalpha[m++];
        }
    }
    if (holdout) {
        opt.seed = dcd_seed(par->seed, p, -1);
        if ((rc = st_dcd_binary(X, nfeat, idx, y, n, Cp, Cn, &opt, alpha, wfull, &b, NULL)))
            goto done;
        o->rho = -b;
    }
    st_sigmoid_fit(dec, decy, ndec, &o->A, &o->B);
done:
    if (!rc)
        for (uint32_t c = 0; c < nfeat; c++)
            o->w[X->feature ? X->feature[c] : c] = wfull[c];
    free(wfull);
    free(idx);
    free(perm);
    free(sub);
    free(y);
    free(suby);
    free(alpha);
    free(subalpha);
    free(dec);
    free(decy);
    free(w);
    return rc;
}

/* Train pair (ci, cj): the decision function on all its examples, then the
 * Platt sigmoid on 5-fold cross-validated decision values. */
static int train_pair(train_ctx *t, int p, int ci, int cj)
{
    const st_problem *prob = t->prob;
    const st_svm_params *par = t->par;
    pair_out *o = &t->out[p];
    const int linear = par->kernel == STANCE_KERNEL_LINEAR;
    const size_t ni = t->count[ci], nj = t->count[cj], n = ni + nj;
    double cw_i = par->class_weight ? par->class_weight[ci] : 1.0;
    double cw_j = par->class_weight ? par->class_weight[cj] : 1.0;
    const double Cp = par->C * cw_i, Cn = par->C * cw_j;
    int rc = STANCE_OK;
    size_t *idx = NULL, *perm = NULL, *sub = NULL;
    double *y = NULL, *suby = NULL, *dec = NULL, *w = NULL;
    struct svm_node **xbuf = NULL;

    if (ni == 0 || nj == 0) {
        /* a class absent from this training set (possible in grouped
         * cross-validation): the present class always wins the pair */
        o->rho = ni ? -1.0 : 1.0;
        o->A = 0;
        o->B = ni ? -20.0 : 20.0;
        if (linear && !(o->w = calloc(prob->nfeat ? prob->nfeat : 1, sizeof *o->w)))
            return STANCE_ERR_NOMEM;
        return STANCE_OK;
    }
    if (par->solver == STANCE_SOLVER_DCD)
        return train_pair_dcd(t, p, ci, cj, t->by_class[ci], ni, t->by_class[cj], nj);
    idx = malloc(n * sizeof *idx);
    perm = malloc(n * sizeof *perm);
    sub = malloc(n * sizeof *sub);
    y = malloc(n * sizeof *y);
    suby = malloc(n * sizeof *suby);
    dec = malloc(n * sizeof *dec);
    xbuf = malloc(n * sizeof *xbuf);
    if (linear)
        w = malloc((prob->nfeat ? prob->nfeat : 1) * sizeof *w);
    if (!idx || !perm || !sub || !y || !suby || !dec || !xbuf || (linear && !w)) {
        rc = STANCE_ERR_NOMEM;
        goto done;
    }
    memcpy(idx, t->by_class[ci], ni * sizeof *idx);
    memcpy(idx + ni, t->by_class[cj], nj * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        y[i] = i < ni ? +1.0 : -1.0;

    if (linear && !(o->w = malloc((prob->nfeat ? prob->nfeat : 1) * sizeof *o->w))) {
        rc = STANCE_ERR_NOMEM;
        goto done;
    }
    if (par->solver == STANCE_SOLVER_LIBLINEAR)
        rc = st_liblinear_binary(prob, idx, y, n, Cp, Cn, o->w, &o->rho);
    else
        rc = libsvm_binary(&t->pool, idx, y, n, par, Cp, Cn, prob->nfeat, o->w, &o->rho,
                           linear ? NULL : &o->sv, linear ? NULL : &o->coef, &o->nsv, &xbuf);
    if (rc)
        goto done;
    if (!linear)
        for (size_t s = 0; s < o->nsv; s++)
            o->sv[s] = idx[o->sv[s]];
    if (!par->probability) {
        o->A = -1.0; /* a plain logistic of the decision value */
        o->B = 0.0;
        goto done;
    }

    /* Platt: decision values of each example from a model that did not see
     * it, 5 folds in a seeded random order */
    st_rng rng;
    st_rng_seed(&rng, par->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(p + 1)));
    st_rng_shuffle(&rng, perm, n);
    const size_t nfold = 5;
    const size_t nrun = platt_holdout(par, n) ? 1 : nfold;
    for (size_t f = 0; f < nrun; f++) {
        size_t begin = f * n / nfold, end = (f + 1) * n / nfold;
        /* training rows: positives first, so +1 is libsvm's first class */
        size_t m = 0, npos = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < n; i++) {
                if (i >= begin && i < end)
                    continue;
                size_t e = perm[i];
                if ((y[e] > 0) != (pass == 0))
                    continue;
                sub[m] = idx[e];
                suby[m] = y[e];
                m++;
                npos += pass == 0;
            }
        if (npos == 0 || npos == m) {
            for (size_t i = begin; i < end; i++)
                dec[perm[i]] = npos ? 1.0 : -1.0;
            continue;
        }
        double frho = 0;
        size_t *fsv = NULL, fnsv = 0;
        double *fcoef = NULL;
        if (par->solver == STANCE_SOLVER_LIBLINEAR)
            rc = st_liblinear_binary(prob, sub, suby, m, Cp, Cn, w, &frho);
        else
            rc = libsvm_binary(&t->pool, sub, suby, m, par, Cp, Cn, prob->nfeat, w, &frho,
                               linear ? NULL : &fsv, linear ? NULL : &fcoef, &fnsv, &xbuf);
        if (rc) {
            free(fsv);
            free(fcoef);
            goto done;
        }
        for (size_t i = begin; i < end; i++) {
            size_t e = perm[i];
            const st_fvec *x = &prob->x[idx[e]];
            double v;
            if (linear) {
                v = pair_dot(w, x);
            } else {
                v = 0;
                for (size_t s = 0; s < fnsv; s++) {
                    const st_fvec *sx = &prob->x[sub[fsv[s]]];
                    double d = st_sparse_sqdist(x, sx->index, sx->value, sx->n);
                    v += fcoef[s] * exp(-par->gamma * d);
                }
            }
            dec[e] = v - frho;
        }
        free(fsv);
        free(fcoef);
    }
    if (nrun == 1) {
        /* the held-out fold's values only, in fold order */
        size_t nh = n / nfold;
        double *hdec = malloc((nh ? nh : 1) * sizeof *hdec);
        if (!hdec) {
            rc = STANCE_ERR_NOMEM;
            goto done;
        }
        for (size_t i = 0; i < nh; i++) {
            hdec[i] = dec[perm[i]];
            suby[i] = y[perm[i]];
        }
        st_sigmoid_fit(hdec, suby, nh, &o->A, &o->B);
        free(hdec);
        goto done;
    }
    st_sigmoid_fit(dec, y, n, &o->A, &o->B);
done:
    free(idx);
    free(perm);
    free(sub);
    free(y);
    free(suby);
    free(dec);
    free(w);
    free(xbuf);
    return rc;
}

static void pair_classes(int k, int p, int *ci, int *cj)
{
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++)
            if (p-- == 0) {
                *ci = i;
                *cj = j;
                return;
            }
}

static void *worker(void *arg)
{
    train_ctx *t = arg;
    for (;;) {
        pthread_mutex_lock(&t->lock);
        int p = t->next++;
        pthread_mutex_unlock(&t->lock);
        if (p >= t->npairs)
            break;
        int ci = 0, cj = 0;
        pair_classes(t->prob->nclass, p, &ci, &cj);
        t->out[p].status = train_pair(t, p, ci, cj);
    }
    return NULL;
}

/* Gather the per-pair results into one classifier. */
static int assemble(const train_ctx *t, st_svm **out)
{
    const st_problem *prob = t->prob;
    const int k = prob->nclass, np = t->npairs;
    st_svm *s = calloc(1, sizeof *s);
    if (!s)
        return STANCE_ERR_NOMEM;
    s->nclass = k;
    s->npairs = np;
    s->kernel = t->par->kernel;
    s->gamma = t->par->gamma;
    s->nfeat = prob->nfeat;
    s->rho = malloc(np * sizeof *s->rho);
    s->probA = malloc(np * sizeof *s->probA);
    s->probB = malloc(np * sizeof *s->probB);
    if (!s->rho || !s->probA || !s->probB)
        goto nomem;
    for (int p = 0; p < np; p++) {
        s->rho[p] = t->out[p].rho;
        s->probA[p] = t->out[p].A;
        s->probB[p] = t->out[p].B;
    }
    if (s->kernel == STANCE_KERNEL_LINEAR) {
        s->w = malloc(((size_t)prob->nfeat * np + 1) * sizeof *s->w);
        if (!s->w)
            goto nomem;
        for (uint32_t f = 0; f < prob->nfeat; f++)
            for (int p = 0; p < np; p++)
                s->w[(size_t)f * np + p] = t->out[p].w[f];
        *out = s;
        return STANCE_OK;
    }
    /* RBF: the union of every pair's support vectors, grouped by class in
     * example order, with libsvm's coefficient layout */
    int32_t *slot = malloc((prob->n ? prob->n : 1) * sizeof *slot);
    if (!slot)
        goto nomem;
    for (size_t i = 0; i < prob->n; i++)
        slot[i] = -1;
    for (int p = 0; p < np; p++)
        for (size_t q = 0; q < t->out[p].nsv; q++)
            slot[t->out[p].sv[q]] = 0;
    s->nsv_class = calloc(k, sizeof *s->nsv_class);
    if (!s->nsv_class) {
        free(slot);
        goto nomem;
    }
    uint32_t nsv = 0;
    size_t nvals = 0;
    for (int c = 0; c < k; c++)
        for (size_t q = 0; q < t->count[c]; q++) {
            size_t e = t->by_class[c][q];
            if (slot[e] < 0)
                continue;
            slot[e] = (int32_t)nsv++;
            s->nsv_class[c]++;
            nvals += prob->x[e].n;
        }
    s->nsv = nsv;
    s->sv_coef = calloc((size_t)(k - 1) * (nsv ? nsv : 1), sizeof *s->sv_coef);
    s->sv_start = malloc((nsv + 1) * sizeof *s->sv_start);
    s->sv_index = malloc((nvals ? nvals : 1) * sizeof *s->sv_index);
    s->sv_value = malloc((nvals ? nvals : 1) * sizeof *s->sv_value);
    if (!s->sv_coef || !s->sv_start || !s->sv_index || !s->sv_value) {
        free(slot);
        goto nomem;
    }
    size_t pos = 0;
    uint32_t j = 0;
    for (int c = 0; c < k; c++)
        for (size_t q = 0; q < t->count[c]; q++) {
            size_t e = t->by_class[c][q];
            if (slot[e] < 0)
                continue;
            s->sv_start[j++] = pos;
            memcpy(s->sv_index + pos, prob->x[e].index, prob->x[e].n * sizeof *s->sv_index);
            memcpy(s->sv_value + pos, prob->x[e].value, prob->x[e].n * sizeof *s->sv_value);
            pos += prob->x[e].n;
        }
    s->sv_start[nsv] = pos;
    for (int p = 0; p < np; p++) {
        int ci = 0, cj = 0;
        pair_classes(k, p, &ci, &cj);
        for (size_t q = 0; q < t->out[p].nsv; q++) {
            size_t e = t->out[p].sv[q];
            int c = prob->y[e];
            int row = c == ci ? cj - 1 : ci;
            s->sv_coef[(size_t)row * nsv + (size_t)slot[e]] = t->out[p].coef[q];
        }
    }
    free(slot);
    *out = s;
    return STANCE_OK;
nomem:
    st_svm_free(s);
    return STANCE_ERR_NOMEM;
}

int st_svm_train(const st_problem *prob, const st_svm_params *par, st_svm **out,
                 stance_error *err)
{
    *out = NULL;
    const int k = prob->nclass;
    if (k < 2 || k > 1024)
        return st_error(err, STANCE_ERR_TRAIN, "training needs 2 to 1024 labels, not %d", k);
    if (!(par->C > 0) || (par->kernel == STANCE_KERNEL_RBF && !(par->gamma > 0)))
        return st_error(err, STANCE_ERR_ARG, "C and gamma must be positive");
    svm_set_print_string_function(quiet);
    train_ctx t;
    memset(&t, 0, sizeof t);
    t.prob = prob;
    t.par = par;
    t.npairs = k * (k - 1) / 2;
    int rc = STANCE_OK;
    t.by_class = calloc(k, sizeof *t.by_class);
    t.count = calloc(k, sizeof *t.count);
    t.out = calloc(t.npairs, sizeof *t.out);
    if (!t.by_class || !t.count || !t.out) {
        rc = STANCE_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < prob->n; i++)
        t.count[prob->y[i]]++;
    for (int c = 0; c < k; c++)
        if (!(t.by_class[c] = malloc((t.count[c] ? t.count[c] : 1) * sizeof **t.by_class))) {
            rc = STANCE_ERR_NOMEM;
            goto done;
        }
    memset(t.count, 0, k * sizeof *t.count);
    for (size_t i = 0; i < prob->n; i++) {
        int c = prob->y[i];
        t.by_class[c][t.count[c]++] = i;
    }
    if (par->solver == STANCE_SOLVER_DCD && (!prob->csr || par->kernel != STANCE_KERNEL_LINEAR)) {
        rc = STANCE_ERR_ARG;
        goto done;
    }
    if (par->solver == STANCE_SOLVER_LIBSVM && (rc = pool_build(prob, &t.pool)))
        goto done;
    pthread_mutex_init(&t.lock, NULL);
    int nthreads = par->threads > 0 ? par->threads : 1;
    if (nthreads > t.npairs)
        nthreads = t.npairs;
    pthread_t tid[64];
    int started = 0;
    for (int i = 1; i < nthreads && i < 64; i++)
        if (pthread_create(&tid[started], NULL, worker, &t) == 0)
            started++;
    worker(&t);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&t.lock);
    for (int p = 0; p < t.npairs && !rc; p++)
        rc = t.out[p].status;
    if (!rc)
        rc = assemble(&t, out);
done:
    if (t.out)
        for (int p = 0; p < t.npairs; p++) {
            free(t.out[p].w);
            free(t.out[p].sv);
            free(t.out[p].coef);
        }
    free(t.out);
    if (t.by_class)
        for (int c = 0; c < k; c++)
            free(t.by_class[c]);
    free(t.by_class);
    free(t.count);
    pool_free(&t.pool);
    if (rc == STANCE_ERR_NOMEM)
        return st_error(err, rc, "out of memory while training");
    if (rc)
        return st_error(err, rc, "training failed (status %d)", rc);
    return STANCE_OK;
}

/* ------------------------------------------------- test reference path */

int st_svm_reference_probabilities(const st_problem *prob, const st_svm_params *par,
                                   const st_fvec *test, size_t ntest, st_svm **out,
                                   double *ref_probs, stance_error *err)
{
    *out = NULL;
    const int k = prob->nclass;
    svm_set_print_string_function(quiet);
    /* present the classes in order so that libsvm's class i is ours */
    size_t *order = malloc((prob->n ? prob->n : 1) * sizeof *order);
    double *y = malloc((prob->n ? prob->n : 1) * sizeof *y);
    struct svm_node **x = malloc((prob->n ? prob->n : 1) * sizeof *x);
    int *wl = malloc(k * sizeof *wl);
    double *wv = malloc(k * sizeof *wv);
    node_pool pool = {0};
    struct svm_model *m = NULL;
    st_svm *s = NULL;
    int rc = STANCE_OK;
    if (!order || !y || !x || !wl || !wv || pool_build(prob, &pool)) {
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t n = 0;
    for (int c = 0; c < k; c++)
        for (size_t i = 0; i < prob->n; i++)
            if (prob->y[i] == c)
                order[n++] = i;
    for (size_t i = 0; i < n; i++) {
        y[i] = prob->y[order[i]];
        x[i] = pool.rows[order[i]];
    }
    struct svm_problem sp = {(int)n, y, x};
    struct svm_parameter param;
    memset(&param, 0, sizeof param);
    param.svm_type = C_SVC;
    param.kernel_type = par->kernel == STANCE_KERNEL_RBF ? RBF : LINEAR;
    param.gamma = par->gamma;
    param.cache_size = 200;
    param.eps = 1e-3;
    param.C = par->C;
    param.shrinking = 1;
    param.probability = 1;
    for (int c = 0; c < k; c++) {
        wl[c] = c;
        wv[c] = par->class_weight ? par->class_weight[c] : 1.0;
    }
    param.nr_weight = k;
    param.weight_label = wl;
    param.weight = wv;
    srand((unsigned)par->seed);
    m = svm_train(&sp, &param);
    if (!m || m->nr_class != k) {
        rc = st_error(err, STANCE_ERR_TRAIN, "libsvm reference training failed");
        goto done;
    }
    for (int c = 0; c < k; c++)
        if (m->label[c] != c) {
            rc = st_error(err, STANCE_ERR_TRAIN, "libsvm reordered the classes");
            goto done;
        }
    const int np = k * (k - 1) / 2;
    s = calloc(1, sizeof *s);
    if (!s) {
        rc = STANCE_ERR_NOMEM;
        goto done;
    }
    s->nclass = k;
    s->npairs = np;
    s->kernel = par->kernel;
    s->gamma = par->gamma;
    s->nfeat = prob->nfeat;
    s->rho = malloc(np * sizeof *s->rho);
    s->probA = malloc(np * sizeof *s->probA);
    s->probB = malloc(np * sizeof *s->probB);
    if (!s->rho || !s->probA || !s->probB) {
        rc = STANCE_ERR_NOMEM;
        goto done;
    }
    memcpy(s->rho, m->rho, np * sizeof *s->rho);
    memcpy(s->probA, m->probA, np * sizeof *s->probA);
    memcpy(s->probB, m->probB, np * sizeof *s->probB);
    int start[1025];
    start[0] = 0;
    for (int c = 0; c < k; c++)
        start[c + 1] = start[c] + m->nSV[c];
    if (s->kernel == STANCE_KERNEL_LINEAR) {
        s->w = calloc((size_t)prob->nfeat * np + 1, sizeof *s->w);
        if (!s->w) {
            rc = STANCE_ERR_NOMEM;
            goto done;
        }
        int p = 0;
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++, p++) {
                for (int t = start[i]; t < start[i + 1]; t++)
                    for (const struct svm_node *q = m->SV[t]; q->index != -1; q++)
                        s->w[(size_t)(q->index - 1) * np + p] += m->sv_coef[j - 1][t] * q->value;
                for (int t = start[j]; t < start[j + 1]; t++)
                    for (const struct svm_node *q = m->SV[t]; q->index != -1; q++)
                        s->w[(size_t)(q->index - 1) * np + p] += m->sv_coef[i][t] * q->value;
            }
    } else {
        s->nsv = (uint32_t)m->l;
        s->nsv_class = malloc(k * sizeof *s->nsv_class);
        s->sv_coef = malloc((size_t)(k - 1) * m->l * sizeof *s->sv_coef + 1);
        s->sv_start = malloc((size_t)(m->l + 1) * sizeof *s->sv_start);
        size_t nv = 0;
        for (int t = 0; t < m->l; t++)
            for (const struct svm_node *q = m->SV[t]; q->index != -1; q++)
                nv++;
        s->sv_index = malloc((nv + 1) * sizeof *s->sv_index);
        s->sv_value = malloc((nv + 1) * sizeof *s->sv_value);
        if (!s->nsv_class || !s->sv_coef || !s->sv_start || !s->sv_index || !s->sv_value) {
            rc = STANCE_ERR_NOMEM;
            goto done;
        }
        for (int c = 0; c < k; c++)
            s->nsv_class[c] = (uint32_t)m->nSV[c];
        for (int r = 0; r < k - 1; r++)
            memcpy(s->sv_coef + (size_t)r * m->l, m->sv_coef[r], m->l * sizeof(double));
        size_t pos = 0;
        for (int t = 0; t < m->l; t++) {
            s->sv_start[t] = pos;
            for (const struct svm_node *q = m->SV[t]; q->index != -1; q++, pos++) {
                s->sv_index[pos] = (uint32_t)(q->index - 1);
                s->sv_value[pos] = q->value;
            }
        }
        s->sv_start[m->l] = pos;
    }
    for (size_t i = 0; i < ntest; i++) {
        struct svm_node *xn = malloc((test[i].n + 1) * sizeof *xn);
        if (!xn) {
            rc = STANCE_ERR_NOMEM;
            goto done;
        }
        for (size_t j = 0; j < test[i].n; j++) {
            xn[j].index = (int)test[i].index[j] + 1;
            xn[j].value = test[i].value[j];
        }
        xn[test[i].n].index = -1;
        svm_predict_probability(m, xn, ref_probs + i * (size_t)k);
        free(xn);
    }
    *out = s;
    s = NULL;
done:
    if (m)
        svm_free_and_destroy_model(&m);
    st_svm_free(s);
    pool_free(&pool);
    free(order);
    free(y);
    free(x);
    free(wl);
    free(wv);
    return rc;
}

/* ------------------------------------------------------------ versions */

#include <unicode/uversion.h>
#include <utf8proc.h>
#include <zlib.h>

const char *stance_versions(void)
{
    static char buf[256];
    UVersionInfo v;
    char icu[U_MAX_VERSION_STRING_LENGTH];
    u_getVersion(v);
    u_versionToString(v, icu);
    snprintf(buf, sizeof buf,
             "stance %s (libsvm %d, liblinear %d, ICU %s, utf8proc %s, zlib %s)", STANCE_VERSION,
             libsvm_version, st_liblinear_version(), icu, utf8proc_version(), zlibVersion());
    return buf;
}
