/* features.c - the fifth stage: tokens -> hashed n-gram counts -> a sparse
 * tf-idf vector.
 *
 * Feature kinds and their hashes:
 *   word n-grams, n = 1..word_ngram_max: the token hashes combined in order;
 *   character n-grams, n = char_ngram_min..char_ngram_max, over code points
 *   of "<token>" (the angle brackets mark the word's edges).
 * Each kind is salted differently so that, say, the word "us" and the
 * character bigram "us" land in unrelated buckets.  Buckets are the top
 * hash_bits bits of a 64-bit hash.  Nothing here allocates per token: the
 * counter is an open-addressing table that is reused sentence after
 * sentence. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- hashing */

#define M64 0xc6a4a7935bd1e995ULL

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* A multiply-xorshift hash over bytes (after the Murmur2 64-bit design);
 * byte-order independent, so models move between machines. */
static inline uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ (len * M64);
    while (len >= 8) {
        uint64_t k = load64(p);
        k *= M64;
        k ^= k >> 47;
        k *= M64;
        h ^= k;
        h *= M64;
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t k = 0;
        for (size_t i = 0; i < len; i++)
            k |= (uint64_t)p[i] << (8 * i);
        h ^= k;
        h *= M64;
    }
    h ^= h >> 47;
    h *= M64;
    h ^= h >> 47;
    return h;
}

static inline uint64_t mix2(uint64_t a, uint64_t b)
{
    uint64_t h = a * M64 ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    h ^= h >> 47;
    h *= M64;
    h ^= h >> 47;
    return h;
}

/* ------------------------------------------------------------- counter */

struct st_counter {
    uint32_t *key;    /* bucket + 1; 0 = empty */
    uint32_t *count;
    uint32_t mask;
    uint32_t *used;   /* slots in use, for clearing and reading back */
    uint32_t *out_bucket, *out_count;
    size_t out_cap;   /* of out_bucket and out_count, >= mask + 1 */
    size_t n;
    int hashed;       /* key/count hold the last sentence (st_count_features) */
};

int st_counter_new(st_counter **out)
{
    *out = NULL;
    st_counter *c = calloc(1, sizeof *c);
    if (!c)
        return STANCE_ERR_NOMEM;
    size_t size = 4096;
    c->key = calloc(size, sizeof *c->key);
    c->count = calloc(size, sizeof *c->count);
    c->used = malloc(size * sizeof *c->used);
    c->out_bucket = malloc(size * sizeof *c->out_bucket);
    c->out_count = malloc(size * sizeof *c->out_count);
    if (!c->key || !c->count || !c->used || !c->out_bucket || !c->out_count) {
        st_counter_free(c);
        return STANCE_ERR_NOMEM;
    }
    c->mask = (uint32_t)size - 1;
    c->out_cap = size;
    *out = c;
    return STANCE_OK;
}

void st_counter_free(st_counter *c)
{
    if (!c)
        return;
    free(c->key);
    free(c->count);
    free(c->used);
    free(c->out_bucket);
    free(c->out_count);
    free(c);
}

static void counter_clear(st_counter *c)
{
    if (c->hashed)
        for (size_t i = 0; i < c->n; i++)
            c->key[c->used[i]] = 0;
    c->n = 0;
    c->hashed = 0;
}

static int counter_grow(st_counter *c)
{
    size_t size = ((size_t)c->mask + 1) * 2;
    if (size > (1u << 30))
        return STANCE_ERR_TOOBIG;
    uint32_t *key = calloc(size, sizeof *key), *count = calloc(size, sizeof *count);
    uint32_t *used = malloc(size * sizeof *used);
    uint32_t *ob = malloc(size * sizeof *ob), *oc = malloc(size * sizeof *oc);
    if (!key || !count || !used || !ob || !oc) {
        free(key), free(count), free(used), free(ob), free(oc);
        return STANCE_ERR_NOMEM;
    }
    uint32_t mask = (uint32_t)size - 1;
    for (size_t i = 0; i < c->n; i++) {
        uint32_t s = c->used[i], k = c->key[s];
        uint32_t j = (k * 0x9E3779B1u) & mask;
        while (key[j])
            j = (j + 1) & mask;
        key[j] = k;
        count[j] = c->count[s];
        used[i] = j;
    }
    free(c->key), free(c->count), free(c->used), free(c->out_bucket), free(c->out_count);
    c->key = key, c->count = count, c->used = used, c->out_bucket = ob, c->out_count = oc;
    c->mask = mask;
    c->out_cap = size;
    return STANCE_OK;
}

static inline int counter_add(st_counter *c, uint32_t bucket)
{
    if ((c->n + 1) * 2 > (size_t)c->mask + 1 && counter_grow(c))
        return STANCE_ERR_NOMEM;
    uint32_t k = bucket + 1;
    uint32_t j = (k * 0x9E3779B1u) & c->mask;
    while (c->key[j]) {
        if (c->key[j] == k) {
            c->count[j]++;
            return STANCE_OK;
        }
        j = (j + 1) & c->mask;
    }
    c->key[j] = k;
    c->count[j] = 1;
    c->used[c->n++] = j;
    return STANCE_OK;
}

/* Length in bytes of the UTF-8 sequence starting with c (input is valid). */
static inline size_t u8len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

#define SALT_WORD 0x776f7264ULL
#define SALT_CHAR 0x63686172ULL

/* The most character n-grams one token can give: 127 code points plus the
 * two edge marks, for every order up to the format's limit of 16. */
#define MAX_CHAR_GRAMS (16 * 129)

/* The buckets of the character n-grams of one token, in the order the
 * counter sees them: by order n, then by position.  Tokens are capped at
 * 126 code points (URLs, digit runs), which bounds the work per token. */
static size_t char_buckets(const st_feat_config *fc, const char *token, size_t len,
                           uint32_t *out)
{
    const unsigned shift = 64u - fc->hash_bits;
    unsigned char wbuf[4 * 127 + 2];
    size_t cpos[130];
    const unsigned char *tp = (const unsigned char *)token;
    size_t ncp = 0, o = 1, i = 0, m = 0;
    wbuf[0] = '<';
    cpos[ncp++] = 0;
    while (i < len && ncp < 127) {
        size_t w = u8len(tp[i]);
        if (i + w > len)
            break;
        cpos[ncp++] = o;
        memcpy(wbuf + o, tp + i, w);
        o += w;
        i += w;
    }
    cpos[ncp++] = o;
    wbuf[o++] = '>';
    cpos[ncp] = o;
    for (unsigned k = fc->char_ngram_min; k <= fc->char_ngram_max && k <= 16; k++) {
        if (k > ncp)
            break;
        uint64_t cseed = SALT_CHAR + fc->hash_seed + k;
        for (size_t q = 0; q + k <= ncp; q++)
            out[m++] = (uint32_t)(hash_bytes(wbuf + cpos[q], cpos[q + k] - cpos[q], cseed) >> shift);
    }
    return m;
}

static void counter_finish(st_counter *c)
{
    for (size_t i = 0; i < c->n; i++) {
        c->out_bucket[i] = c->key[c->used[i]] - 1;
        c->out_count[i] = c->count[c->used[i]];
    }
}

int st_count_features(st_counter *c, const st_feat_config *fc, const char *const *tokens,
                      const size_t *tok_len, size_t n)
{
    counter_clear(c);
    c->hashed = 1;
    const unsigned shift = 64u - fc->hash_bits;
    const uint64_t wseed = SALT_WORD ^ ((uint64_t)fc->hash_seed << 32);
    uint64_t h1 = 0, h2 = 0; /* hashes of the previous one and two tokens */
    uint32_t grams[MAX_CHAR_GRAMS];
    for (size_t t = 0; t < n; t++) {
        uint64_t h = hash_bytes(tokens[t], tok_len[t], wseed);
        if (counter_add(c, (uint32_t)(h >> shift)))
            return STANCE_ERR_NOMEM;
        if (fc->word_ngram_max >= 2 && t >= 1) {
            uint64_t b = mix2(h1, h ^ 2);
            if (counter_add(c, (uint32_t)(b >> shift)))
                return STANCE_ERR_NOMEM;
            if (fc->word_ngram_max >= 3 && t >= 2) {
                uint64_t tri = mix2(mix2(h2, h1 ^ 3), h);
                if (counter_add(c, (uint32_t)(tri >> shift)))
                    return STANCE_ERR_NOMEM;
            }
        }
        h2 = h1;
        h1 = h;
        if (fc->char_ngram_min == 0)
            continue;
        size_t m = char_buckets(fc, tokens[t], tok_len[t], grams);
        for (size_t q = 0; q < m; q++)
            if (counter_add(c, grams[q]))
                return STANCE_ERR_NOMEM;
    }
    counter_finish(c);
    return (int)c->n;
}

/* ------------------------------------------------------------ row cache */

/* Per token, the model rows of its unigram and character n-grams (absent
 * ones left out), so that a token seen before costs one hash and one lookup
 * instead of dozens.  Direct-mapped by the token's hash; the token's bytes
 * are kept and compared, so a hit is exact; the pool is emptied when full. */
#define RC_SLOTS (1u << 17)
#define RC_POOL ((size_t)1 << 20) /* u32 words: 4 MiB a session */

typedef struct rc_entry {
    uint64_t hash;
    uint32_t off;     /* into pool: token bytes (padded to words), then rows */
    uint16_t len;     /* token bytes; 0 = empty entry */
    uint16_t nrows;   /* char n-gram rows after the unigram's */
    uint32_t uni;     /* the unigram's row, or UINT32_MAX */
    uint32_t epoch;
} rc_entry;

/* Tokens are looked up in blocks: the hashes of a whole block first, with
 * the cache lines they will need requested ahead, then the counting.  Most
 * sentences fit in one block. */
#define RC_BLOCK 64

struct st_rowcache {
    rc_entry *slot;
    uint32_t *pool;
    size_t used;
    uint32_t epoch;
    /* the counter of one sentence, indexed by row: rows are dense, so a
     * count is one array access instead of a hash probe; zero between
     * sentences */
    uint32_t *dense;
    size_t dense_n;
};

int st_rowcache_new(st_rowcache **out)
{
    *out = NULL;
    st_rowcache *rc = calloc(1, sizeof *rc);
    if (!rc)
        return STANCE_ERR_NOMEM;
    rc->slot = st_alloc_table(RC_SLOTS * sizeof *rc->slot, 1);
    rc->pool = st_alloc_table(RC_POOL * sizeof *rc->pool, 0);
    if (!rc->slot || !rc->pool) {
        st_rowcache_free(rc);
        return STANCE_ERR_NOMEM;
    }
    rc->epoch = 1;
    *out = rc;
    return STANCE_OK;
}

void st_rowcache_free(st_rowcache *rc)
{
    if (!rc)
        return;
    free(rc->slot);
    free(rc->pool);
    free(rc->dense);
    free(rc);
}

static inline rc_entry *rc_slot(st_rowcache *rc, uint64_t h)
{
    return &rc->slot[(uint32_t)(h ^ (h >> 32)) & (RC_SLOTS - 1)];
}

static inline int rc_hit(const st_rowcache *rc, const rc_entry *e, uint64_t h, const char *tok,
                         size_t len)
{
    if (e->epoch != rc->epoch || e->hash != h || e->len != len)
        return 0;
    /* most tokens are a few bytes: a loop beats a call to memcmp */
    const unsigned char *a = (const unsigned char *)(rc->pool + e->off);
    const unsigned char *b = (const unsigned char *)tok;
    if (len > 16)
        return memcmp(a, b, len) == 0;
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Fill the entry for a token on a miss; NULL only if the token is too long
 * to cache (the caller then computes it directly). */
static const rc_entry *rc_fill(st_rowcache *rc, rc_entry *e, const st_feat_config *fc,
                               const st_rowmap *map, const char *tok, size_t len,
                               uint64_t h, uint32_t *grams)
{
    if (len > 4 * 127)
        return NULL;
    size_t words = (len + 3) / 4;
    size_t m = fc->char_ngram_min ? char_buckets(fc, tok, len, grams) : 0;
    if (rc->used + words + m > RC_POOL) {
        rc->epoch++; /* every entry is stale at once */
        rc->used = 0;
    }
    uint32_t off = (uint32_t)rc->used;
    memcpy(rc->pool + off, tok, len);
    uint32_t *rows = rc->pool + off + words;
    size_t nrows = 0;
    for (size_t q = 0; q < m; q++) {
        uint32_t r = st_rowmap_find(map, grams[q]);
        if (r != UINT32_MAX)
            rows[nrows++] = r;
    }
    const unsigned shift = 64u - fc->hash_bits;
    e->hash = h;
    e->off = off;
    e->len = (uint16_t)len;
    e->nrows = (uint16_t)nrows;
    e->uni = st_rowmap_find(map, (uint32_t)(h >> shift));
    e->epoch = rc->epoch;
    rc->used += words + nrows;
    return e;
}

/* Room in the counter's output for `more` new distinct rows. */
static int rows_reserve(st_counter *c, size_t more)
{
    if (c->n + more <= c->out_cap)
        return STANCE_OK;
    size_t cap = c->out_cap * 2;
    while (cap < c->n + more)
        cap *= 2;
    uint32_t *ob = realloc(c->out_bucket, cap * sizeof *ob);
    if (!ob)
        return STANCE_ERR_NOMEM;
    c->out_bucket = ob;
    uint32_t *oc = realloc(c->out_count, cap * sizeof *oc);
    if (!oc)
        return STANCE_ERR_NOMEM;
    c->out_count = oc;
    c->out_cap = cap;
    return STANCE_OK;
}

/* A count for every row of the map. */
static int dense_reserve(st_rowcache *rc, uint32_t nrows)
{
    if (nrows <= rc->dense_n)
        return STANCE_OK;
    size_t n = nrows;
    uint32_t *d = realloc(rc->dense, n * sizeof *d);
    if (!d)
        return STANCE_ERR_NOMEM;
    memset(d + rc->dense_n, 0, (n - rc->dense_n) * sizeof *d);
    rc->dense = d;
    rc->dense_n = n;
    return STANCE_OK;
}

/* One occurrence of row r (r < map->nrows, room reserved). */
static inline void rows_add(st_counter *c, uint32_t *dense, const st_rowmap *map, uint32_t r)
{
    /* without a branch: whether a row is new is a coin toss to the
     * processor, and a mispredicted branch costs more than the store and
     * the request for a row that is already on its way */
    uint32_t v = dense[r];
    dense[r] = v + 1;
    c->out_bucket[c->n] = r;
    c->n += v == 0;
    if (map->prefetch) {
        __builtin_prefetch(map->prefetch + r * map->stride);
        __builtin_prefetch(map->prefetch + r * map->stride + 64);
    }
}

int st_count_rows(st_counter *c, st_rowcache *rc, const st_feat_config *fc,
                  const st_rowmap *map, const char *const *tokens, const size_t *tok_len, size_t n)
{
    counter_clear(c);
    if (dense_reserve(rc, map->nrows))
        return STANCE_ERR_NOMEM;
    const unsigned shift = 64u - fc->hash_bits;
    const uint64_t wseed = SALT_WORD ^ ((uint64_t)fc->hash_seed << 32);
    uint64_t h1 = 0, h2 = 0;
    uint32_t grams[MAX_CHAR_GRAMS];
    uint64_t hb[RC_BLOCK];
    uint32_t big[RC_BLOCK]; /* bigram buckets of the block */
    int rc_status = STANCE_OK;
    for (size_t base = 0; base < n; base += RC_BLOCK) {
        const size_t m = n - base < RC_BLOCK ? n - base : RC_BLOCK;
        /* the block's hashes, and the cache lines of their slots in the
         * row cache (tokens) and in the model's map (word pairs) */
        uint64_t p1 = h1;
        for (size_t i = 0; i < m; i++) {
            uint64_t h = hash_bytes(tokens[base + i], tok_len[base + i], wseed);
            hb[i] = h;
            __builtin_prefetch(rc_slot(rc, h));
            if (fc->word_ngram_max >= 2 && base + i >= 1) {
                big[i] = (uint32_t)(mix2(p1, h ^ 2) >> shift);
                __builtin_prefetch(map->slot + st_rowmap_home(map, big[i]));
            }
            p1 = h;
        }
        /* the pooled rows of the tokens that hit */
        for (size_t i = 0; i < m; i++) {
            const rc_entry *e = rc_slot(rc, hb[i]);
            if (e->epoch == rc->epoch && e->hash == hb[i]) {
                const uint32_t *p = rc->pool + e->off;
                __builtin_prefetch(p);
                __builtin_prefetch(p + 16);
            }
        }
        for (size_t i = 0; i < m; i++) {
            const size_t t = base + i;
            const uint64_t h = hb[i];
            rc_entry *slot = rc_slot(rc, h);
            const rc_entry *e = rc_hit(rc, slot, h, tokens[t], tok_len[t])
                                    ? slot
                                    : rc_fill(rc, slot, fc, map, tokens[t], tok_len[t], h, grams);
            /* the same sequence of features as st_count_features, each
             * mapped to its row and the absent ones skipped: the counter
             * sees the rows in the order it would have seen their buckets */
            size_t ncg = 0;
            if (fc->char_ngram_min)
                ncg = e ? e->nrows : char_buckets(fc, tokens[t], tok_len[t], grams);
            if ((rc_status = rows_reserve(c, ncg + 3)) != STANCE_OK)
                goto fail;
            uint32_t r = e ? e->uni : st_rowmap_find(map, (uint32_t)(h >> shift));
            uint32_t wr[3];
            size_t nw = 0;
            if (r != UINT32_MAX)
                wr[nw++] = r;
            if (fc->word_ngram_max >= 2 && t >= 1) {
                r = st_rowmap_find(map, big[i]);
                if (r != UINT32_MAX)
                    wr[nw++] = r;
                if (fc->word_ngram_max >= 3 && t >= 2) {
                    r = st_rowmap_find(map, (uint32_t)(mix2(mix2(h2, h1 ^ 3), h) >> shift));
                    if (r != UINT32_MAX)
                        wr[nw++] = r;
                }
            }
            h2 = h1;
            h1 = h;
            for (size_t q = 0; q < nw; q++)
                rows_add(c, rc->dense, map, wr[q]);
            if (!fc->char_ngram_min)
                continue;
            if (e) {
                const uint32_t *rows = rc->pool + e->off + (e->len + 3) / 4;
                for (size_t q = 0; q < ncg; q++)
                    rows_add(c, rc->dense, map, rows[q]);
            } else {
                for (size_t q = 0; q < ncg; q++) {
                    r = st_rowmap_find(map, grams[q]);
                    if (r != UINT32_MAX)
                        rows_add(c, rc->dense, map, r);
                }
            }
        }
    }
    for (size_t i = 0; i < c->n; i++) {
        uint32_t r = c->out_bucket[i];
        c->out_count[i] = rc->dense[r];
        rc->dense[r] = 0;
    }
    return (int)c->n;
fail:
    for (size_t i = 0; i < c->n; i++)
        rc->dense[c->out_bucket[i]] = 0;
    c->n = 0;
    return rc_status;
}

size_t st_counter_size(const st_counter *c) { return c->n; }
const uint32_t *st_counter_buckets(const st_counter *c) { return c->out_bucket; }
const uint32_t *st_counter_counts(const st_counter *c) { return c->out_count; }

/* ---------------------------------------------------------- vocabulary */

int st_vocab_index(st_vocab *v)
{
    free(v->slot);
    v->slot = NULL;
    size_t size = 16;
    while (size < (size_t)v->n * 2 + 2)
        size *= 2;
    v->slot = calloc(size, sizeof *v->slot);
    if (!v->slot)
        return STANCE_ERR_NOMEM;
    v->mask = (uint32_t)(size - 1);
    for (uint32_t i = 0; i < v->n; i++)
        st_rowmap_insert(v->slot, v->mask, v->bucket[i], i);
    return STANCE_OK;
}

uint32_t st_vocab_find(const st_vocab *v, uint32_t bucket)
{
    if (!v->slot)
        return UINT32_MAX;
    const st_rowmap map = {v->slot, v->mask, v->n, NULL, 0}; /* the same table layout */
    return st_rowmap_find(&map, bucket);
}

void st_vocab_free(st_vocab *v)
{
    if (!v)
        return;
    free(v->bucket);
    free(v->idf);
    free(v->slot);
    memset(v, 0, sizeof *v);
}

void st_fvec_free(st_fvec *v)
{
    if (!v)
        return;
    free(v->index);
    free(v->value);
    memset(v, 0, sizeof *v);
}

static int fvec_reserve(st_fvec *v, size_t n)
{
    if (n <= v->cap)
        return STANCE_OK;
    size_t cap = v->cap ? v->cap : 64;
    while (cap < n)
        cap *= 2;
    uint32_t *ix = realloc(v->index, cap * sizeof *ix);
    if (!ix)
        return STANCE_ERR_NOMEM;
    v->index = ix;
    double *val = realloc(v->value, cap * sizeof *val);
    if (!val)
        return STANCE_ERR_NOMEM;
    v->value = val;
    v->cap = cap;
    return STANCE_OK;
}

/* Sort (index, value) pairs by index: a least-significant-digit radix sort
 * on the 32-bit index, 11 bits a pass, through a scratch copy.  Linear in
 * the length, no comparisons, stable; short vectors use insertion sort. */
void st_fvec_sort(st_fvec *x)
{
    size_t n = x->n;
    if (n < 64) {
        for (size_t i = 1; i < n; i++) {
            uint32_t k = x->index[i];
            double v = x->value[i];
            size_t j = i;
            while (j > 0 && x->index[j - 1] > k) {
                x->index[j] = x->index[j - 1];
                x->value[j] = x->value[j - 1];
                j--;
            }
            x->index[j] = k;
            x->value[j] = v;
        }
        return;
    }
    uint32_t *ti = malloc(n * sizeof *ti);
    double *tv = malloc(n * sizeof *tv);
    if (!ti || !tv) {
        /* no memory for the scratch copy: fall back to a shell sort */
        free(ti);
        free(tv);
        static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
        for (size_t g = 0; g < sizeof gaps / sizeof *gaps; g++)
            for (size_t i = gaps[g]; i < n; i++) {
                uint32_t k = x->index[i];
                double v = x->value[i];
                size_t j = i;
                while (j >= gaps[g] && x->index[j - gaps[g]] > k) {
                    x->index[j] = x->index[j - gaps[g]];
                    x->value[j] = x->value[j - gaps[g]];
                    j -= gaps[g];
                }
                x->index[j] = k;
                x->value[j] = v;
            }
        return;
    }
    uint32_t *si = x->index, *di = ti;
    double *sv = x->value, *dv = tv;
    for (int shift = 0; shift < 33; shift += 11) {
        size_t count[2049] = {0};
        for (size_t i = 0; i < n; i++)
            count[((si[i] >> shift) & 2047) + 1]++;
        for (int b = 0; b < 2048; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++) {
            size_t d = count[(si[i] >> shift) & 2047]++;
            di[d] = si[i];
            dv[d] = sv[i];
        }
        uint32_t *t1 = si;
        si = di;
        di = t1;
        double *t2 = sv;
        sv = dv;
        dv = t2;
    }
    /* three passes: the sorted data is in the scratch arrays */
    memcpy(x->index, si, n * sizeof *si);
    memcpy(x->value, sv, n * sizeof *sv);
    free(ti);
    free(tv);
}

int st_vectorize_unordered(const st_counter *c, const st_feat_config *fc, const st_vocab *v,
                           st_fvec *out)
{
    out->n = 0;
    if (fvec_reserve(out, c->n ? c->n : 1))
        return STANCE_ERR_NOMEM;
    size_t m = 0;
    double norm = 0;
    for (size_t i = 0; i < c->n; i++) {
        uint32_t f = st_vocab_find(v, c->out_bucket[i]);
        if (f == UINT32_MAX)
            continue;
        double tf = (double)c->out_count[i];
        double x = (fc->sublinear_tf ? 1.0 + log(tf) : tf) * v->idf[f];
        out->index[m] = f;
        out->value[m] = x;
        norm += x * x;
        m++;
    }
    if (norm > 0) {
        double inv = 1.0 / sqrt(norm);
        for (size_t i = 0; i < m; i++)
            out->value[i] *= inv;
    }
    out->n = m;
    return STANCE_OK;
}

int st_vectorize(const st_counter *c, const st_feat_config *fc, const st_vocab *v, st_fvec *out)
{
    int rc = st_vectorize_unordered(c, fc, v, out);
    if (rc == STANCE_OK)
        st_fvec_sort(out);
    return rc;
}
