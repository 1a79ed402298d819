/* test_features.c - hashed n-gram counts, vocabulary lookup, tf-idf. */
#include "internal.h"
#include "unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    st_counter *c = NULL;
    CHECK_INT(st_counter_new(&c), 0);
    st_feat_config fc = {0x5eed, 18, 2, 0, 0, ST_NORM_FLAGS_V1, 1};
    const char *tok[] = {"russia", "condemned", "the", "raid", "the"};
    size_t len[] = {6, 9, 3, 4, 3};
    /* words only: 5 unigrams (4 distinct) + 4 bigrams (distinct) */
    int n = st_count_features(c, &fc, tok, len, 5);
    CHECK_INT(n, 8);
    uint32_t total = 0, maxc = 0;
    for (int i = 0; i < n; i++) {
        total += st_counter_counts(c)[i];
        if (st_counter_counts(c)[i] > maxc)
            maxc = st_counter_counts(c)[i];
        CHECK(st_counter_buckets(c)[i] < (1u << 18));
    }
    CHECK_INT(total, 9);
    CHECK_INT(maxc, 2); /* "the" twice */
    /* character n-grams 2-3 of "<ab>": 3 bigrams + 2 trigrams, plus the word */
    st_feat_config fc2 = {0x5eed, 20, 1, 2, 3, ST_NORM_FLAGS_V1, 1};
    const char *ab[] = {"ab"};
    size_t ablen[] = {2};
    n = st_count_features(c, &fc2, ab, ablen, 1);
    CHECK_INT(n, 6);
    /* deterministic: same input, same buckets; different seed, different */
    n = st_count_features(c, &fc, tok, len, 5);
    uint32_t first[16];
    memcpy(first, st_counter_buckets(c), (size_t)n * sizeof *first);
    CHECK_INT(st_count_features(c, &fc, tok, len, 5), n);
    CHECK(memcmp(first, st_counter_buckets(c), (size_t)n * sizeof *first) == 0);
    st_feat_config fc3 = fc;
    fc3.hash_seed = 7;
    st_count_features(c, &fc3, tok, len, 5);
    CHECK(memcmp(first, st_counter_buckets(c), (size_t)n * sizeof *first) != 0);
    /* a very long token is capped, not a crash */
    char *longtok = malloc(100000);
    memset(longtok, 'x', 99999);
    longtok[99999] = 0;
    const char *lt[] = {longtok};
    size_t ll[] = {99999};
    st_feat_config fc4 = {1, 22, 2, 2, 5, ST_NORM_FLAGS_V1, 1};
    CHECK(st_count_features(c, &fc4, lt, ll, 1) > 0);
    free(longtok);
    /* many tokens make the table grow */
    static char words[5000][8];
    const char *wt[5000];
    size_t wl[5000];
    for (int i = 0; i < 5000; i++) {
        snprintf(words[i], sizeof words[i], "w%d", i);
        wt[i] = words[i];
        wl[i] = strlen(words[i]);
    }
    n = st_count_features(c, &fc, wt, wl, 5000);
    CHECK(n > 9000 && n <= 9999);

    /* vocabulary and tf-idf: the known buckets only, sorted, unit length */
    n = st_count_features(c, &fc, tok, len, 5);
    st_vocab v = {0};
    v.n = 3;
    v.bucket = malloc(3 * sizeof *v.bucket);
    v.idf = malloc(3 * sizeof *v.idf);
    uint32_t b[8];
    memcpy(b, st_counter_buckets(c), 8 * sizeof *b);
    /* pick three distinct buckets and sort them */
    uint32_t pick[3] = {b[0], b[1], b[2]};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (pick[j] < pick[i]) {
                uint32_t t = pick[i];
                pick[i] = pick[j];
                pick[j] = t;
            }
    for (int i = 0; i < 3; i++) {
        v.bucket[i] = pick[i];
        v.idf[i] = 1.0 + i;
    }
    CHECK_INT(st_vocab_index(&v), 0);
    CHECK_INT(st_vocab_find(&v, pick[1]), 1);
    uint32_t absent = 0;
    while (absent == pick[0] || absent == pick[1] || absent == pick[2])
        absent++;
    CHECK(st_vocab_find(&v, absent) == UINT32_MAX);
    st_fvec x = {0};
    CHECK_INT(st_vectorize(c, &fc, &v, &x), 0);
    CHECK_INT(x.n, 3);
    double norm = 0;
    for (size_t i = 0; i < x.n; i++) {
        norm += x.value[i] * x.value[i];
        CHECK(i == 0 || x.index[i] > x.index[i - 1]);
    }
    CHECK(fabs(norm - 1.0) < 1e-12);
    st_fvec_free(&x);
    st_vocab_free(&v);
    st_counter_free(c);
    return UNIT_REPORT("test_features");
}
