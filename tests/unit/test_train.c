/* test_train.c - training end to end on a real corpus file: determinism
 * (byte-identical models), save/load round trip with identical
 * probabilities, cross-validation recorded, grouped folds, provenance. */
#include "internal.h"
#include "corpus/corpus.h"
#include "unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static stance_model *train(const char *path, int solver, int cv, const char *group,
                           stance_metrics **mt)
{
    stance_corpus *c = NULL;
    stance_model *m = NULL;
    stance_error err = {0};
    stance_corpus_new(&c);
    if (!CHECK_MSG(stance_corpus_add_file(c, path, &err) == 0, "%s", err.msg))
        goto done;
    stance_train_params p;
    stance_train_params_default(&p);
    p.solver = solver;
    p.cv_folds = cv;
    p.group_by = group;
    p.threads = 2;
    const char *names[] = {path};
    CHECK_MSG(stance_train(c, &p, names, 1, NULL, NULL, &m, mt, &err) == 0, "%s", err.msg);
done:
    stance_corpus_free(c);
    return m;
}

static unsigned char *encode(const stance_model *m, size_t *len)
{
    unsigned char *b = NULL;
    stance_error err = {0};
    CHECK(st_model_encode(m, &b, len, &err) == 0);
    return b;
}

int main(void)
{
    const char *corpus = "tests/unit/data/train-small.tsv";
    stance_metrics *cv = NULL;
    stance_model *a = train(corpus, STANCE_SOLVER_LIBSVM, 3, NULL, &cv);
    stance_model *b = train(corpus, STANCE_SOLVER_LIBSVM, 3, NULL, NULL);
    if (!a || !b)
        return UNIT_REPORT("test_train");
    size_t la, lb;
    unsigned char *ea = encode(a, &la), *eb = encode(b, &lb);
    CHECK(la == lb && memcmp(ea, eb, la) == 0); /* deterministic */
    CHECK_STR(stance_model_id(a), stance_model_id(b));
    free(ea);
    free(eb);

    /* cross-validation metrics recorded, and sane */
    CHECK(cv != NULL && a->cv != NULL);
    if (cv) {
        CHECK_INT(cv->total, a->train.sentences);
        CHECK(cv->macro_f1 > 0.3 && cv->macro_f1 <= 1.0);
    }
    CHECK_INT(stance_model_nlabels(a), 5);
    CHECK_STR(stance_model_label(a, 0), "condemnation");
    /* provenance */
    CHECK_INT(a->nsources, 1);
    if (a->nsources == 1) {
        CHECK_STR(a->sources[0].name, corpus);
        CHECK_INT(strlen(a->sources[0].sha256), 64);
        uint64_t sum = 0;
        for (int k = 0; k < a->nlabels; k++)
            sum += a->sources[0].per_label[k];
        CHECK_INT(sum, a->sources[0].records);
    }

    /* save, load, classify: identical probabilities to the last bit */
    char path[] = "/tmp/stance-test-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    stance_error err = {0};
    CHECK_MSG(stance_model_save(a, path, &err) == 0, "%s", err.msg);
    stance_model *l = NULL;
    CHECK_MSG(stance_model_load(path, &l, &err) == 0, "%s", err.msg);
    unlink(path);
    if (l) {
        CHECK_STR(stance_model_id(l), stance_model_id(a));
        stance_session *s1 = NULL, *s2 = NULL;
        stance_session_new(a, &s1, &err);
        stance_session_new(l, &s2, &err);
        const char *doc = "Moscow condemned the raid as an act of aggression. "
                          "Beijing declined to comment and urged restraint. "
                          "The ministry said contracts with the new government remain in force.";
        const stance_result *r1, *r2;
        CHECK(stance_classify(s1, doc, strlen(doc), 0, &r1, &err) == 0);
        CHECK(stance_classify(s2, doc, strlen(doc), 0, &r2, &err) == 0);
        CHECK_INT(r1->n, 3);
        CHECK_INT(r2->n, 3);
        int same = r1->n == r2->n;
        for (size_t i = 0; same && i < r1->n; i++) {
            same &= r1->sentences[i].label == r2->sentences[i].label;
            for (int k = 0; k < l->nlabels; k++)
                same &= r1->sentences[i].probs[k] == r2->sentences[i].probs[k];
        }
        CHECK_MSG(same, "probabilities differ after save/load");
        double sum = 0;
        for (int k = 0; k < l->nlabels; k++)
            sum += r1->sentences[0].probs[k];
        CHECK(fabs(sum - 1.0) < 1e-6);
        stance_session_free(s1);
        stance_session_free(s2);
        stance_model_free(l);
    }

    /* liblinear: deterministic too, and its own solver is recorded */
    stance_model *c1 = train(corpus, STANCE_SOLVER_LIBLINEAR, 0, NULL, NULL);
    stance_model *c2 = train(corpus, STANCE_SOLVER_LIBLINEAR, 0, NULL, NULL);
    if (c1 && c2) {
        size_t l1, l2;
        unsigned char *e1 = encode(c1, &l1), *e2 = encode(c2, &l2);
        CHECK(l1 == l2 && memcmp(e1, e2, l1) == 0);
        CHECK_INT(c1->train.solver, STANCE_SOLVER_LIBLINEAR);
        free(e1);
        free(e2);
    }

    /* the automatic choice: above huge_corpus sentences our DCD solver, and
     * held-out calibration for class pairs of ST_HOLDOUT_MIN_PAIR examples
     * or more (5 folds for these small ones); the same model for any thread
     * count, and the explicit choices give the same bytes as the automatic
     * one */
    {
        stance_corpus *c = NULL;
        stance_corpus_new(&c);
        stance_corpus_add_file(c, corpus, &err);
        stance_train_params p;
        stance_train_params_default(&p);
        p.huge_corpus = 100;
        unsigned char *e[3] = {NULL, NULL, NULL};
        size_t len[3] = {0, 0, 0};
        for (int run = 0; run < 3; run++) {
            stance_model *m = NULL;
            p.threads = run == 1 ? 3 : 1;
            if (run == 2) {
                p.solver = STANCE_SOLVER_DCD;
                p.calibration = STANCE_CALIBRATION_CV;
                p.huge_corpus = 50000;
            }
            if (!CHECK_MSG(stance_train(c, &p, NULL, 0, NULL, NULL, &m, NULL, &err) == 0, "%s",
                           err.msg))
                continue;
            CHECK_INT(m->train.solver, STANCE_SOLVER_DCD);
            e[run] = encode(m, &len[run]);
            stance_model_free(m);
        }
        CHECK(e[0] && e[1] && len[0] == len[1] && memcmp(e[0], e[1], len[0]) == 0);
        CHECK(e[0] && e[2] && len[0] == len[2] && memcmp(e[0], e[2], len[0]) == 0);
        for (int run = 0; run < 3; run++)
            free(e[run]);
        /* below the switch: liblinear as before */
        stance_model *m = NULL;
        stance_train_params_default(&p);
        p.large_corpus = 100;
        if (CHECK(stance_train(c, &p, NULL, 0, NULL, NULL, &m, NULL, &err) == 0))
            CHECK_INT(m->train.solver, STANCE_SOLVER_LIBLINEAR);
        stance_model_free(m);
        stance_corpus_free(c);
    }

    /* grouped cross-validation by a metadata column, and its errors */
    stance_metrics *gcv = NULL;
    stance_model *g = train(corpus, STANCE_SOLVER_LIBLINEAR, 3, "situation", &gcv);
    CHECK(g && gcv && gcv->total == (long)g->train.sentences);
    CHECK_STR(g ? g->train.group_by : NULL, "situation");
    {
        stance_corpus *c = NULL;
        stance_model *m = NULL;
        stance_corpus_new(&c);
        stance_corpus_add_file(c, corpus, &err);
        stance_train_params p;
        stance_train_params_default(&p);
        p.cv_folds = 3;
        p.group_by = "no-such-column";
        CHECK_INT(stance_train(c, &p, NULL, 0, NULL, NULL, &m, NULL, &err), STANCE_ERR_FORMAT);
        CHECK(strstr(err.msg, "no-such-column") != NULL);
        p.group_by = NULL;
        p.C = -1;
        CHECK_INT(stance_train(c, &p, NULL, 0, NULL, NULL, &m, NULL, &err), STANCE_ERR_ARG);
        CHECK(m == NULL);
        stance_corpus_free(c);
        /* a single label cannot be trained */
        stance_corpus_new(&c);
        stance_corpus_add(c, "only", "one sentence here", NULL, &err);
        stance_corpus_add(c, "only", "another sentence there", NULL, &err);
        stance_train_params_default(&p);
        CHECK_INT(stance_train(c, &p, NULL, 0, NULL, NULL, &m, NULL, &err), STANCE_ERR_TRAIN);
        stance_corpus_free(c);
    }
    /* evaluation of the model on its own training data is near perfect */
    {
        stance_corpus *c = NULL;
        stance_metrics *mt = NULL;
        stance_corpus_new(&c);
        stance_corpus_add_file(c, corpus, &err);
        CHECK(stance_evaluate(a, c, &mt, &err) == 0);
        CHECK(mt && mt->accuracy > 0.9);
        stance_metrics_free(mt);
        stance_corpus_free(c);
    }
    stance_metrics_free(cv);
    stance_metrics_free(gcv);
    stance_model_free(a);
    stance_model_free(b);
    stance_model_free(c1);
    stance_model_free(c2);
    stance_model_free(g);
    return UNIT_REPORT("test_train");
}
