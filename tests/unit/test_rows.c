/* test_rows.c - the prediction path of a linear model: tokens -> model rows
 * (row cache, dense counter) -> fused decision values.  It must agree with
 * the reference path (hashed counts -> tf-idf vector -> weights) on every
 * sentence, and give the same bits whether the row cache is cold or warm,
 * however long the sentence and however often the cache is emptied. */
#include "internal.h"
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXP 64

typedef struct {
    const stance_model *m;
    st_tokenizer *tk;
    st_counter *c;
    st_rowcache *rc;
    st_fvec vec;
} bench;

static int tokens(bench *b, const char *text, const char *const **tok, const size_t **len,
                  size_t *n)
{
    stance_error e = {0};
    return st_tokenize(b->tk, text, strlen(text), tok, len, n, &e);
}

/* decision values by rows (with b's cache) and by the reference vector */
static void both(bench *b, st_rowcache *rc, const char *const *tok, const size_t *len, size_t n,
                 double *rows, double *ref)
{
    const st_svm *s = b->m->svm;
    st_rowmap map = st_svm_rowmap(s);
    CHECK(st_count_rows(b->c, rc, &b->m->fc, &map, tok, len, n) >= 0);
    st_svm_decision_rows(s, b->c, b->m->fc.sublinear_tf, rows);
    CHECK(st_count_features(b->c, &b->m->fc, tok, len, n) >= 0);
    CHECK(st_vectorize(b->c, &b->m->fc, &b->m->vocab, &b->vec) == 0);
    st_svm_decision(s, &b->vec, ref);
}

static int close_enough(const double *a, const double *b, int n)
{
    for (int p = 0; p < n; p++)
        if (!(fabs(a[p] - b[p]) <= 1e-9 * (1.0 + fabs(b[p]))))
            return 0;
    return 1;
}

int main(void)
{
    stance_model *m = NULL;
    stance_error err = {0};
    if (!CHECK_MSG(stance_model_load("models/default.stm", &m, &err) == 0,
                   "models/default.stm: %s (run from the top folder after make)", err.msg))
        return UNIT_REPORT("test_rows");
    bench b = {m, NULL, NULL, NULL, {0}};
    CHECK(st_tokenizer_new(&b.tk, &err) == 0);
    CHECK(st_counter_new(&b.c) == 0);
    CHECK(st_rowcache_new(&b.rc) == 0);
    const int np = m->svm->npairs;
    CHECK(np > 0 && np <= MAXP);

    /* every sentence of the corpus: rows agree with the reference, and a
     * second pass over a warm cache gives the same bits as the first */
    static const char *files[] = {"corpus/seed.tsv", "corpus/en-americas.tsv",
                                  "corpus/en-europe.tsv", "corpus/en-mideast-africa.tsv",
                                  "corpus/en-asia-pacific.tsv", "corpus/es.tsv", "corpus/ru.tsv"};
    size_t cap = 8192, nsent = 0;
    char **sent = malloc(cap * sizeof *sent);
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        FILE *fp = fopen(files[f], "r");
        if (!CHECK_MSG(fp != NULL, "cannot open %s", files[f]))
            continue;
        char line[8192];
        int first = 1;
        while (fgets(line, sizeof line, fp)) {
            if (first) { /* header */
                first = 0;
                continue;
            }
            line[strcspn(line, "\n")] = '\0';
            char *tab = strrchr(line, '\t');
            if (tab && nsent < cap)
                sent[nsent++] = strdup(tab + 1);
        }
        fclose(fp);
    }
    CHECK(nsent > 5000);
    double (*first)[MAXP] = malloc(nsent * sizeof *first);
    double rows[MAXP], ref[MAXP];
    size_t agree = 0, same = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nsent; i++) {
            const char *const *tok;
            const size_t *len;
            size_t n;
            if (tokens(&b, sent[i], &tok, &len, &n))
                continue;
            both(&b, b.rc, tok, len, n, rows, ref);
            if (pass == 0) {
                memcpy(first[i], rows, (size_t)np * sizeof *rows);
                agree += close_enough(rows, ref, np);
            } else {
                same += memcmp(first[i], rows, (size_t)np * sizeof *rows) == 0;
            }
        }
    CHECK_MSG(agree == nsent, "rows agree with the tf-idf vector on %zu of %zu sentences", agree,
              nsent);
    CHECK_MSG(same == nsent, "a warm cache repeats a cold one on %zu of %zu sentences", same,
              nsent);

    /* a cold cache for each of a few sentences gives the same bits too */
    for (size_t i = 0; i < nsent; i += nsent / 25) {
        st_rowcache *cold = NULL;
        CHECK(st_rowcache_new(&cold) == 0);
        const char *const *tok;
        const size_t *len;
        size_t n;
        CHECK(tokens(&b, sent[i], &tok, &len, &n) == 0);
        both(&b, cold, tok, len, n, rows, ref);
        CHECK_MSG(memcmp(first[i], rows, (size_t)np * sizeof *rows) == 0,
                  "cold cache differs on sentence %zu", i);
        st_rowcache_free(cold);
    }

    /* one long "sentence" of many blocks of tokens (block edges, repeated
     * tokens across blocks, counts far above the small-count table) */
    size_t biglen = 0;
    for (size_t i = 0; i < 60; i++)
        biglen += strlen(sent[i]) + 1;
    char *big = malloc(biglen * 3 + 1);
    big[0] = '\0';
    for (int rep = 0; rep < 3; rep++)
        for (size_t i = 0; i < 60; i++) {
            strcat(big, sent[i]);
            strcat(big, " ");
        }
    {
        const char *const *tok;
        const size_t *len;
        size_t n;
        CHECK(tokens(&b, big, &tok, &len, &n) == 0);
        CHECK(n > 1000);
        both(&b, b.rc, tok, len, n, rows, ref);
        CHECK(close_enough(rows, ref, np));
        double warm[MAXP];
        memcpy(warm, rows, (size_t)np * sizeof *rows);
        st_rowcache *cold = NULL;
        CHECK(st_rowcache_new(&cold) == 0);
        both(&b, cold, tok, len, n, rows, ref);
        CHECK(memcmp(warm, rows, (size_t)np * sizeof *rows) == 0);
        st_rowcache_free(cold);
    }

    /* empty the cache many times over with distinct made-up tokens, then
     * the corpus sentences again: still the same bits */
    {
        char fake[64 * 40 + 1]; /* 480,000 distinct tokens: the pool fills several times */
        for (int round = 0; round < 12000; round++) {
            size_t o = 0;
            for (int w = 0; w < 40; w++)
                o += (size_t)snprintf(fake + o, sizeof fake - o, "tok%dx%dqzvabcdefgh ", round, w);
            const char *const *tok;
            const size_t *len;
            size_t n;
            if (tokens(&b, fake, &tok, &len, &n) == 0) {
                st_rowmap map = st_svm_rowmap(m->svm);
                CHECK(st_count_rows(b.c, b.rc, &m->fc, &map, tok, len, n) >= 0);
            }
        }
        size_t again = 0;
        for (size_t i = 0; i < nsent; i += 7) {
            const char *const *tok;
            const size_t *len;
            size_t n;
            if (tokens(&b, sent[i], &tok, &len, &n))
                continue;
            both(&b, b.rc, tok, len, n, rows, ref);
            again += memcmp(first[i], rows, (size_t)np * sizeof *rows) == 0;
        }
        CHECK_MSG(again == (nsent + 6) / 7, "after the cache was emptied: %zu of %zu", again,
                  (nsent + 6) / 7);
    }

    /* no tokens at all: zero features, decision values are -rho */
    {
        st_rowmap map = st_svm_rowmap(m->svm);
        CHECK_INT(st_count_rows(b.c, b.rc, &m->fc, &map, NULL, NULL, 0), 0);
        st_svm_decision_rows(m->svm, b.c, m->fc.sublinear_tf, rows);
        int ok = 1;
        for (int p = 0; p < np; p++)
            ok &= rows[p] == -m->svm->rho[p];
        CHECK(ok);
    }

    free(big);
    free(first);
    for (size_t i = 0; i < nsent; i++)
        free(sent[i]);
    free(sent);
    st_fvec_free(&b.vec);
    st_rowcache_free(b.rc);
    st_counter_free(b.c);
    st_tokenizer_free(b.tk);
    stance_model_free(m);
    return UNIT_REPORT("test_rows");
}
