/* corpus.c - labelled corpus files: TSV with a header row, or JSON Lines,
 * either possibly gzip-compressed.
 *
 * Memory: a file's bytes (as returned by st_read_file) are kept and the
 * records point into them: fields are cut out in place by writing NULs over
 * the delimiters, and JSON strings are decoded in place (a decoded string is
 * never longer than its quoted source).  Labels and metadata column names are
 * interned in a small arena, so a record costs one fixed-size struct plus one
 * small entry per metadata field.
 *
 * Atomicity: a file's records are parsed onto the end of the record array
 * (the staging area) and only committed - deduplicated and counted - once the
 * whole file has parsed.  A failure truncates the arrays back, so nothing of
 * a failed file remains visible.  Commit cannot fail: the duplicate table is
 * grown before it starts.
 *
 * Duplicates: one open-addressing table over every kept record, keyed by a
 * 64-bit hash of the (trimmed) text.  Records with the same text share a
 * probe run, so a lookup sees all of them: same label -> duplicate, dropped;
 * only other labels -> a conflict, kept and counted.
 */
#include "corpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ data types */

typedef struct rec {
    const char *label; /* interned: equal labels are equal pointers */
    const char *text;  /* NUL-terminated, trimmed */
    size_t text_len;
    uint64_t hash;     /* of the text */
    size_t meta;       /* first entry in c->meta */
    size_t line;       /* 0 for stance_corpus_add */
    uint32_t nmeta;
    int32_t file;      /* -1 for stance_corpus_add */
} rec;

typedef struct meta {
    uint32_t name; /* id in c->names */
    const char *value;
} meta;

typedef struct cfile {
    char *name;
    char sha256[65];
    size_t records;
} cfile;

/* Strings copied into a list of blocks that never move. */
typedef struct arena {
    char **blocks;
    size_t nblocks, cap;
    size_t used, size; /* in the last block */
} arena;

/* A set of distinct strings, each with a small id. */
typedef struct intern {
    const char **str;
    size_t *len;
    uint32_t n, cap;
    uint32_t *slot; /* id + 1, 0 = empty */
    size_t mask;
} intern;

struct stance_corpus {
    rec *recs;
    size_t n, cap;
    meta *meta;
    size_t nmeta, metacap;
    cfile *files;
    size_t nfiles, filecap;
    char **bufs; /* file contents the records point into */
    size_t nbufs, bufcap;
    arena strings;
    intern labels, names;
    uint32_t *dedup; /* record index + 1, 0 = empty */
    size_t dmask, dcount;
    size_t duplicates, conflicts;
    uint64_t *name_stamp; /* per name id: the last header or record it was seen in */
    size_t stampcap, nstamped;
    uint64_t stamp;
};

/* --------------------------------------------------------------- helpers */

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/* A fast 64-bit hash, eight bytes at a time (MurmurHash3-style mixing); only
 * used in memory, so it need not be stable across platforms. */
static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    const uint64_t k1 = 0x87c37b91114253d5ULL, k2 = 0x4cf5ad432745937fULL;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w *= k1;
        w = rotl64(w, 31);
        w *= k2;
        h ^= w;
        h = rotl64(h, 27) * 5 + 0x52dce729;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)(unsigned char)p[i] << (8 * i);
    w *= k1;
    w = rotl64(w, 31);
    w *= k2;
    h ^= w;
    return fmix64(h);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Trim outer ASCII white space of [*p, *p + *n). */
static void trim(const char **p, size_t *n)
{
    const char *s = *p;
    size_t len = *n;
    while (len && is_space((unsigned char)s[0])) {
        s++;
        len--;
    }
    while (len && is_space((unsigned char)s[len - 1]))
        len--;
    *p = s;
    *n = len;
}

/* Offset of the first NUL byte or invalid UTF-8 sequence, or len.  *nul says
 * which.  ASCII runs go eight bytes at a time. */
static size_t first_bad_byte(const char *p, size_t len, int *nul)
{
    const unsigned char *s = (const unsigned char *)p;
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & highs) && !((w - ones) & ~w & highs)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c == 0) {
            *nul = 1;
            return i;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = st_utf8_seq(s + i, len - i);
        if (!k) {
            *nul = 0;
            return i;
        }
        i += k;
    }
    return len;
}

/* Grow *arr (of elements of size sz) to hold at least need elements. */
static int grow(void **arr, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return STANCE_OK;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return STANCE_ERR_NOMEM;
        nc *= 2;
    }
    if (nc > SIZE_MAX / sz)
        return STANCE_ERR_NOMEM;
    void *p = realloc(*arr, nc * sz);
    if (!p)
        return STANCE_ERR_NOMEM;
    *arr = p;
    *cap = nc;
    return STANCE_OK;
}

/* ----------------------------------------------------------------- arena */

#define ARENA_BLOCK ((size_t)64 << 10)

static char *arena_copy(arena *a, const char *s, size_t n)
{
    if (n >= SIZE_MAX - ARENA_BLOCK)
        return NULL;
    if (!a->nblocks || a->size - a->used < n + 1) {
        size_t size = n + 1 > ARENA_BLOCK / 4 ? n + 1 : ARENA_BLOCK;
        if (grow((void **)&a->blocks, &a->cap, a->nblocks + 1, sizeof *a->blocks))
            return NULL;
        char *b = malloc(size);
        if (!b)
            return NULL;
        if (size == n + 1 && a->nblocks) {
            /* a big string gets a block of its own, inserted before the
             * current block so that block's free space stays usable */
            a->blocks[a->nblocks] = a->blocks[a->nblocks - 1];
            a->blocks[a->nblocks - 1] = b;
            a->nblocks++;
            memcpy(b, s, n);
            b[n] = '\0';
            return b;
        }
        a->blocks[a->nblocks++] = b;
        a->used = 0;
        a->size = size;
    }
    char *d = a->blocks[a->nblocks - 1] + a->used;
    memcpy(d, s, n);
    d[n] = '\0';
    a->used += n + 1;
    return d;
}

static void arena_free(arena *a)
{
    for (size_t i = 0; i < a->nblocks; i++)
        free(a->blocks[i]);
    free(a->blocks);
    memset(a, 0, sizeof *a);
}

/* ---------------------------------------------------------------- intern */

static int64_t intern_find(const intern *in, const char *s, size_t n)
{
    if (!in->slot)
        return -1;
    for (size_t i = (size_t)hash_bytes(s, n) & in->mask;; i = (i + 1) & in->mask) {
        uint32_t v = in->slot[i];
        if (!v)
            return -1;
        if (in->len[v - 1] == n && memcmp(in->str[v - 1], s, n) == 0)
            return v - 1;
    }
}

/* The id of s, adding a copy of it when new; -1 when out of memory. */
static int64_t intern_add(intern *in, arena *a, const char *s, size_t n)
{
    int64_t id = intern_find(in, s, n);
    if (id >= 0)
        return id;
    if (in->n >= UINT32_MAX - 1)
        return -1;
    if (!in->slot || (size_t)(in->n + 1) * 2 > in->mask + 1) {
        size_t size = in->slot ? (in->mask + 1) * 2 : 64;
        uint32_t *slot = calloc(size, sizeof *slot);
        if (!slot)
            return -1;
        for (uint32_t k = 0; k < in->n; k++) {
            size_t i = (size_t)hash_bytes(in->str[k], in->len[k]) & (size - 1);
            while (slot[i])
                i = (i + 1) & (size - 1);
            slot[i] = k + 1;
        }
        free(in->slot);
        in->slot = slot;
        in->mask = size - 1;
    }
    if (in->n == in->cap) {
        uint32_t nc = in->cap ? in->cap * 2 : 16;
        const char **str = realloc((void *)in->str, nc * sizeof *str);
        if (!str)
            return -1;
        in->str = str;
        size_t *len = realloc(in->len, nc * sizeof *len);
        if (!len)
            return -1;
        in->len = len;
        in->cap = nc;
    }
    char *copy = arena_copy(a, s, n);
    if (!copy)
        return -1;
    size_t i = (size_t)hash_bytes(s, n) & in->mask;
    while (in->slot[i])
        i = (i + 1) & in->mask;
    in->slot[i] = in->n + 1;
    in->str[in->n] = copy;
    in->len[in->n] = n;
    return in->n++;
}

static void intern_free(intern *in)
{
    free((void *)in->str);
    free(in->len);
    free(in->slot);
    memset(in, 0, sizeof *in);
}

/* ---------------------------------------------------------------- public */

int stance_corpus_new(stance_corpus **out)
{
    if (!out)
        return STANCE_ERR_ARG;
    *out = calloc(1, sizeof **out);
    return *out ? STANCE_OK : STANCE_ERR_NOMEM;
}

void stance_corpus_free(stance_corpus *c)
{
    if (!c)
        return;
    free(c->recs);
    free(c->meta);
    for (size_t i = 0; i < c->nfiles; i++)
        free(c->files[i].name);
    free(c->files);
    for (size_t i = 0; i < c->nbufs; i++)
        free(c->bufs[i]);
    free(c->bufs);
    arena_free(&c->strings);
    intern_free(&c->labels);
    intern_free(&c->names);
    free(c->dedup);
    free(c->name_stamp);
    free(c);
}

size_t stance_corpus_size(const stance_corpus *c) { return c ? c->n : 0; }

size_t stance_corpus_duplicates(const stance_corpus *c) { return c ? c->duplicates : 0; }

const char *stance_corpus_text(const stance_corpus *c, size_t i)
{
    return c && i < c->n ? c->recs[i].text : NULL;
}

const char *stance_corpus_label(const stance_corpus *c, size_t i)
{
    return c && i < c->n ? c->recs[i].label : NULL;
}

/* "label" and "text" answer with the record's label and text, so a caller
 * grouping by any column need not special-case them. */
const char *stance_corpus_field(const stance_corpus *c, size_t i, const char *name)
{
    if (!c || i >= c->n || !name)
        return NULL;
    if (strcmp(name, "label") == 0)
        return c->recs[i].label;
    if (strcmp(name, "text") == 0)
        return c->recs[i].text;
    int64_t id = intern_find(&c->names, name, strlen(name));
    if (id < 0)
        return NULL;
    const meta *m = c->meta + c->recs[i].meta;
    for (uint32_t k = 0; k < c->recs[i].nmeta; k++)
        if (m[k].name == (uint32_t)id)
            return m[k].value;
    return NULL;
}

size_t st_corpus_conflicts(const stance_corpus *c) { return c ? c->conflicts : 0; }

int st_corpus_source(const stance_corpus *c, size_t i)
{
    return c && i < c->n ? c->recs[i].file : -1;
}

size_t st_corpus_line(const stance_corpus *c, size_t i)
{
    return c && i < c->n ? c->recs[i].line : 0;
}

int st_corpus_nfiles(const stance_corpus *c) { return c ? (int)c->nfiles : 0; }

const char *st_corpus_file_name(const stance_corpus *c, int f)
{
    return c && f >= 0 && (size_t)f < c->nfiles ? c->files[f].name : NULL;
}

const char *st_corpus_file_sha256(const stance_corpus *c, int f)
{
    return c && f >= 0 && (size_t)f < c->nfiles ? c->files[f].sha256 : NULL;
}

size_t st_corpus_file_records(const stance_corpus *c, int f)
{
    return c && f >= 0 && (size_t)f < c->nfiles ? c->files[f].records : 0;
}

/* ------------------------------------------------------ staging, commit */

/* Make room for `more` staged records (and their dedup slots at commit). */
static int reserve_records(stance_corpus *c, size_t more)
{
    if (more > UINT32_MAX - 2 - c->n)
        return STANCE_ERR_TOOBIG;
    return grow((void **)&c->recs, &c->cap, c->n + more, sizeof *c->recs);
}

/* Grow the duplicate table for `more` new entries, keeping it at most half
 * full. */
static int reserve_dedup(stance_corpus *c, size_t more)
{
    size_t want = c->dcount + more;
    size_t size = c->dedup ? c->dmask + 1 : 0;
    if (size && want <= size / 2)
        return STANCE_OK;
    size_t ns = size ? size : 1024;
    while (ns / 2 < want) {
        if (ns > SIZE_MAX / 2 / sizeof(uint32_t))
            return STANCE_ERR_NOMEM;
        ns *= 2;
    }
    uint32_t *t = calloc(ns, sizeof *t);
    if (!t)
        return STANCE_ERR_NOMEM;
    for (size_t k = 0; k < size; k++) {
        uint32_t v = c->dedup[k];
        if (!v)
            continue;
        size_t i = (size_t)c->recs[v - 1].hash & (ns - 1);
        while (t[i])
            i = (i + 1) & (ns - 1);
        t[i] = v;
    }
    free(c->dedup);
    c->dedup = t;
    c->dmask = ns - 1;
    return STANCE_OK;
}

/* Deduplicate and keep the staged records [base, c->n); returns how many
 * were kept.  reserve_dedup(c, c->n - base) must have succeeded. */
static size_t commit(stance_corpus *c, size_t base)
{
    size_t w = base;
    for (size_t r = base; r < c->n; r++) {
        rec x = c->recs[r];
        int dup = 0, other = 0;
        size_t i = (size_t)x.hash & c->dmask;
        for (; c->dedup[i]; i = (i + 1) & c->dmask) {
            const rec *e = &c->recs[c->dedup[i] - 1];
            if (e->hash != x.hash || e->text_len != x.text_len ||
                memcmp(e->text, x.text, x.text_len) != 0)
                continue;
            if (e->label == x.label) {
                dup = 1;
                break;
            }
            other = 1;
        }
        if (dup) {
            c->duplicates++;
            continue;
        }
        if (other)
            c->conflicts++;
        c->recs[w] = x;
        c->dedup[i] = (uint32_t)(w + 1);
        c->dcount++;
        w++;
    }
    size_t kept = w - base;
    c->n = w;
    return kept;
}

/* Fill in a staged record's text fields, NUL-terminating the text in place
 * (text[len] must be writable). */
static void stage(stance_corpus *c, const char *label, char *text, size_t len, size_t meta0,
                  size_t line, int32_t file)
{
    rec *r = &c->recs[c->n++];
    text[len] = '\0';
    r->label = label;
    r->text = text;
    r->text_len = len;
    r->hash = hash_bytes(text, len);
    r->meta = meta0;
    r->nmeta = (uint32_t)(c->nmeta - meta0);
    r->line = line;
    r->file = file;
}

int stance_corpus_add(stance_corpus *c, const char *label, const char *text, int *added,
                      stance_error *err)
{
    if (added)
        *added = 0;
    if (!c || !label || !text)
        return st_error(err, STANCE_ERR_ARG, "stance_corpus_add: NULL argument");
    const char *l = label, *t = text;
    size_t ll = strlen(label), tl = strlen(text);
    int nul;
    size_t bad = first_bad_byte(l, ll, &nul);
    if (bad < ll)
        return st_error(err, STANCE_ERR_FORMAT, "invalid UTF-8 at byte %zu of the label",
                        bad + 1);
    bad = first_bad_byte(t, tl, &nul);
    if (bad < tl)
        return st_error(err, STANCE_ERR_FORMAT, "invalid UTF-8 at byte %zu of the text",
                        bad + 1);
    trim(&l, &ll);
    trim(&t, &tl);
    if (!ll)
        return st_error(err, STANCE_ERR_FORMAT, "empty label");
    if (!tl)
        return st_error(err, STANCE_ERR_FORMAT, "empty text");
    int64_t id = intern_add(&c->labels, &c->strings, l, ll);
    if (id < 0 || reserve_records(c, 1) || reserve_dedup(c, 1))
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    char *copy = arena_copy(&c->strings, t, tl);
    if (!copy)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    size_t base = c->n;
    stage(c, c->labels.str[id], copy, tl, c->nmeta, 0, -1);
    size_t kept = commit(c, base);
    if (added)
        *added = kept == 1;
    return STANCE_OK;
}

/* ---------------------------------------------------------------- parsing */

typedef struct reader {
    stance_corpus *c;
    const char *name;
    char *buf;
    size_t len, pos;
    size_t lineno;
    int32_t file;
    stance_error *err;
} reader;

/* The next line: *p and *n without the '\n' and a trailing '\r', checked for
 * length, NUL bytes and UTF-8, with a leading BOM removed on line 1.  Returns
 * 1 with a line, 0 at the end, or a negative status. */
static int next_line(reader *rd, char **p, size_t *n)
{
    if (rd->pos >= rd->len)
        return 0;
    char *s = rd->buf + rd->pos;
    size_t left = rd->len - rd->pos;
    char *nl = memchr(s, '\n', left);
    size_t len = nl ? (size_t)(nl - s) : left;
    rd->pos += nl ? len + 1 : len;
    rd->lineno++;
    if (len > ST_CORPUS_MAX_LINE)
        return st_error(rd->err, STANCE_ERR_TOOBIG, "%s:%zu: line is %zu bytes, over the 1 MiB limit",
                        rd->name, rd->lineno, len);
    int nul = 0;
    size_t bad = first_bad_byte(s, len, &nul);
    if (bad < len)
        return st_error(rd->err, STANCE_ERR_FORMAT, "%s:%zu: %s at byte %zu of the line",
                        rd->name, rd->lineno, nul ? "NUL byte" : "invalid UTF-8", bad + 1);
    if (len && s[len - 1] == '\r')
        len--;
    if (rd->lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        len -= 3;
    }
    *p = s;
    *n = len;
    return 1;
}

static size_t count_lines(const char *s, size_t len)
{
    size_t n = 1;
    const char *end = s + len;
    while ((s = memchr(s, '\n', (size_t)(end - s))) != NULL) {
        n++;
        s++;
    }
    return n;
}

/* Make c->name_stamp[id] exist (new entries 0, never a current stamp); the
 * stamps find a name twice in one header or one JSON record in O(1). */
static int stamp_name(stance_corpus *c, size_t id)
{
    if (grow((void **)&c->name_stamp, &c->stampcap, id + 1, sizeof *c->name_stamp))
        return STANCE_ERR_NOMEM;
    while (c->nstamped <= id)
        c->name_stamp[c->nstamped++] = 0;
    return STANCE_OK;
}

static int nomem(reader *rd)
{
    return st_error(rd->err, STANCE_ERR_NOMEM, "%s: out of memory", rd->name);
}

static int parse_tsv(reader *rd)
{
    stance_corpus *c = rd->c;
    char *line;
    size_t n;
    int rc = next_line(rd, &line, &n);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return st_error(rd->err, STANCE_ERR_FORMAT, "%s: empty file, no header line", rd->name);

    /* header */
    size_t ncol = 1;
    for (size_t i = 0; i < n; i++)
        ncol += line[i] == '\t';
    char **field = malloc(ncol * sizeof *field);
    size_t *flen = malloc(ncol * sizeof *flen);
    uint32_t *name_id = malloc(ncol * sizeof *name_id);
    if (!field || !flen || !name_id) {
        rc = nomem(rd);
        goto done;
    }
    size_t label_col = SIZE_MAX, text_col = SIZE_MAX;
    c->stamp++;
    {
        char *p = line, *end = line + n;
        for (size_t k = 0; k < ncol; k++) {
            char *tab = memchr(p, '\t', (size_t)(end - p));
            size_t fl = tab ? (size_t)(tab - p) : (size_t)(end - p);
            if (!fl) {
                rc = st_error(rd->err, STANCE_ERR_FORMAT, "%s:1: column %zu has no name",
                              rd->name, k + 1);
                goto done;
            }
            int dup = 0;
            if (fl == 5 && memcmp(p, "label", 5) == 0) {
                dup = label_col != SIZE_MAX;
                label_col = k;
            } else if (fl == 4 && memcmp(p, "text", 4) == 0) {
                dup = text_col != SIZE_MAX;
                text_col = k;
            } else {
                int64_t id = intern_add(&c->names, &c->strings, p, fl);
                if (id < 0 || stamp_name(c, (size_t)id)) {
                    rc = nomem(rd);
                    goto done;
                }
                dup = c->name_stamp[id] == c->stamp;
                c->name_stamp[id] = c->stamp;
                name_id[k] = (uint32_t)id;
            }
            if (dup) {
                rc = st_error(rd->err, STANCE_ERR_FORMAT, "%s:1: duplicate column '%.*s'",
                              rd->name, (int)(fl > 100 ? 100 : fl), p);
                goto done;
            }
            p += fl + 1;
        }
    }
    if (label_col == SIZE_MAX || text_col == SIZE_MAX) {
        rc = st_error(rd->err, STANCE_ERR_FORMAT,
                      "%s:1: the header must have 'label' and 'text' columns (no '%s' column)",
                      rd->name, label_col == SIZE_MAX ? "label" : "text");
        goto done;
    }

    size_t nlines = count_lines(rd->buf + rd->pos, rd->len - rd->pos);
    if ((rc = reserve_records(c, nlines))) {
        rc = rc == STANCE_ERR_TOOBIG
                 ? st_error(rd->err, rc, "%s: too many records", rd->name)
                 : nomem(rd);
        goto done;
    }
    /* every metadata field takes at least its tab, which bounds the guess */
    size_t guess = rd->len - rd->pos;
    if (ncol - 2 == 0 || nlines <= guess / (ncol - 2))
        guess = nlines * (ncol - 2);
    if (grow((void **)&c->meta, &c->metacap, c->nmeta + guess, sizeof *c->meta)) {
        rc = nomem(rd);
        goto done;
    }

    size_t records = 0;
    while ((rc = next_line(rd, &line, &n)) == 1) {
        if (n == 0)
            continue; /* blank lines separate nothing, but are harmless */
        char *p = line, *end = line + n;
        size_t k = 0;
        for (;;) {
            char *tab = memchr(p, '\t', (size_t)(end - p));
            char *fe = tab ? tab : end;
            if (k < ncol) {
                field[k] = p;
                flen[k] = (size_t)(fe - p);
            }
            k++;
            if (!tab)
                break;
            p = tab + 1;
        }
        if (k != ncol) {
            rc = st_error(rd->err, STANCE_ERR_FORMAT, "%s:%zu: expected %zu fields, found %zu",
                          rd->name, rd->lineno, ncol, k);
            goto done;
        }
        const char *lab = field[label_col];
        size_t ll = flen[label_col];
        trim(&lab, &ll);
        if (!ll) {
            rc = st_error(rd->err, STANCE_ERR_FORMAT, "%s:%zu: empty label", rd->name,
                          rd->lineno);
            goto done;
        }
        const char *txt = field[text_col];
        size_t tl = flen[text_col];
        trim(&txt, &tl);
        if (!tl) {
            rc = st_error(rd->err, STANCE_ERR_FORMAT, "%s:%zu: empty text", rd->name,
                          rd->lineno);
            goto done;
        }
        int64_t id = intern_add(&c->labels, &c->strings, lab, ll);
        if (id < 0) {
            rc = nomem(rd);
            goto done;
        }
        if (grow((void **)&c->meta, &c->metacap, c->nmeta + ncol - 2, sizeof *c->meta)) {
            rc = nomem(rd);
            goto done;
        }
        size_t meta0 = c->nmeta;
        for (size_t j = 0; j < ncol; j++) {
            if (j == label_col || j == text_col)
                continue;
            field[j][flen[j]] = '\0';
            c->meta[c->nmeta].name = name_id[j];
            c->meta[c->nmeta].value = field[j];
            c->nmeta++;
        }
        stage(c, c->labels.str[id], (char *)txt, tl, meta0, rd->lineno, rd->file);
        records++;
    }
    if (rc < 0)
        goto done;
    rc = records ? STANCE_OK
                 : st_error(rd->err, STANCE_ERR_FORMAT, "%s: no records", rd->name);
done:
    free(field);
    free(flen);
    free(name_id);
    return rc;
}

/* A member key, decoded when it has escapes; *tmp gets any allocation. */
static int member_key(const stance_json_member *m, const char **k, size_t *kl, char **tmp)
{
    *tmp = NULL;
    if (!memchr(m->key, '\\', m->key_len)) {
        *k = m->key;
        *kl = m->key_len;
        return STANCE_OK;
    }
    int rc = stance_json_decode_string(m->key - 1, m->key_len + 2, tmp, kl, NULL);
    *k = *tmp;
    return rc;
}

static int key_is(const char *k, size_t kl, const char *word)
{
    return kl == strlen(word) && memcmp(k, word, kl) == 0;
}

/* Decode a string member's value in place; *len gets its length. */
static int decode_in_place(const stance_json_member *m, char **out, size_t *len)
{
    char *v = (char *)m->value;
    if (!memchr(v, '\\', m->value_len)) {
        *len = m->value_len - 2;
        v[m->value_len - 1] = '\0';
        *out = v + 1;
        return STANCE_OK;
    }
    char *tmp;
    int rc = stance_json_decode_string(v, m->value_len, &tmp, len, NULL);
    if (rc)
        return rc;
    memcpy(v, tmp, *len + 1);
    free(tmp);
    *out = v;
    return STANCE_OK;
}

static int parse_jsonl(reader *rd)
{
    stance_corpus *c = rd->c;
    size_t cap = 16;
    stance_json_member *mem = malloc(cap * sizeof *mem);
    if (!mem)
        return nomem(rd);
    int rc;
    size_t nlines = count_lines(rd->buf, rd->len);
    if ((rc = reserve_records(c, nlines))) {
        rc = rc == STANCE_ERR_TOOBIG
                 ? st_error(rd->err, rc, "%s: too many records", rd->name)
                 : nomem(rd);
        goto done;
    }
    size_t records = 0;
    char *line, *tmp = NULL;
    size_t n;
    while ((rc = next_line(rd, &line, &n)) == 1) {
        size_t i = 0;
        while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i == n)
            continue;
        size_t nm;
        stance_error jerr;
        for (;;) {
            rc = stance_json_parse_object(line, n, mem, cap, &nm, &jerr);
            if (rc) {
                rc = st_error(rd->err, rc, "%s:%zu: %s", rd->name, rd->lineno, jerr.msg);
                goto done;
            }
            if (nm <= cap)
                break;
            stance_json_member *bigger = realloc(mem, nm * sizeof *mem);
            if (!bigger) {
                rc = nomem(rd);
                goto done;
            }
            mem = bigger;
            cap = nm;
        }

        /* first pass: find label and text (first occurrence wins) */
        const stance_json_member *lab = NULL, *txt = NULL;
        for (size_t j = 0; j < nm && !(lab && txt); j++) {
            const char *k;
            size_t kl;
            if (member_key(&mem[j], &k, &kl, &tmp)) {
                rc = nomem(rd);
                goto done;
            }
            if (!lab && key_is(k, kl, "label"))
                lab = &mem[j];
            else if (!txt && key_is(k, kl, "text"))
                txt = &mem[j];
            free(tmp);
            tmp = NULL;
        }
        const char *what = !lab ? "label" : !txt ? "text" : NULL;
        if (what) {
            rc = st_error(rd->err, STANCE_ERR_FORMAT, "%s:%zu: missing field \"%s\"", rd->name,
                          rd->lineno, what);
            goto done;
        }
        what = !lab->is_string ? "label" : !txt->is_string ? "text" : NULL;
        if (what) {
            rc = st_error(rd->err, STANCE_ERR_FORMAT, "%s:%zu: field \"%s\" is not a string",
                          rd->name, rd->lineno, what);
            goto done;
        }

        /* second pass: metadata, each name once (first wins) */
        size_t meta0 = c->nmeta;
        c->stamp++;
        for (size_t j = 0; j < nm; j++) {
            const stance_json_member *m = &mem[j];
            char v0 = m->value[0];
            if (m == lab || m == txt || !(m->is_string || v0 == '-' || (v0 >= '0' && v0 <= '9')))
                continue;
            const char *k;
            size_t kl;
            if (member_key(m, &k, &kl, &tmp)) {
                rc = nomem(rd);
                goto done;
            }
            if (key_is(k, kl, "label") || key_is(k, kl, "text")) {
                free(tmp);
                tmp = NULL;
                continue;
            }
            if (memchr(k, '\0', kl)) {
                free(tmp);
                tmp = NULL;
                rc = st_error(rd->err, STANCE_ERR_FORMAT,
                              "%s:%zu: a field name contains a NUL character", rd->name,
                              rd->lineno);
                goto done;
            }
            int64_t id = intern_add(&c->names, &c->strings, k, kl);
            free(tmp);
            tmp = NULL;
            if (id < 0 || stamp_name(c, (size_t)id)) {
                rc = nomem(rd);
                goto done;
            }
            if (c->name_stamp[id] == c->stamp)
                continue;
            c->name_stamp[id] = c->stamp;
            char *val;
            size_t vl;
            if (m->is_string) {
                if (decode_in_place(m, &val, &vl)) {
                    rc = nomem(rd);
                    goto done;
                }
                if (memchr(val, '\0', vl)) {
                    rc = st_error(rd->err, STANCE_ERR_FORMAT,
                                  "%s:%zu: field \"%.*s\" contains a NUL character", rd->name,
                                  rd->lineno, (int)(kl > 100 ? 100 : kl), c->names.str[id]);
                    goto done;
                }
            } else {
                val = (char *)m->value;
                val[m->value_len] = '\0'; /* the byte after a number is a delimiter */
            }
            if (grow((void **)&c->meta, &c->metacap, c->nmeta + 1, sizeof *c->meta)) {
                rc = nomem(rd);
                goto done;
            }
            c->meta[c->nmeta].name = (uint32_t)id;
            c->meta[c->nmeta].value = val;
            c->nmeta++;
        }

        char *lv, *tv;
        size_t ll, tl;
        if (decode_in_place(lab, &lv, &ll) || decode_in_place(txt, &tv, &tl)) {
            rc = nomem(rd);
            goto done;
        }
        if (memchr(lv, '\0', ll) || memchr(tv, '\0', tl)) {
            rc = st_error(rd->err, STANCE_ERR_FORMAT,
                          "%s:%zu: field \"%s\" contains a NUL character", rd->name, rd->lineno,
                          memchr(lv, '\0', ll) ? "label" : "text");
            goto done;
        }
        const char *l = lv, *t = tv;
        trim(&l, &ll);
        trim(&t, &tl);
        if (!ll || !tl) {
            rc = st_error(rd->err, STANCE_ERR_FORMAT, "%s:%zu: empty %s", rd->name, rd->lineno,
                          !ll ? "label" : "text");
            goto done;
        }
        int64_t id = intern_add(&c->labels, &c->strings, l, ll);
        if (id < 0) {
            rc = nomem(rd);
            goto done;
        }
        stage(c, c->labels.str[id], (char *)t, tl, meta0, rd->lineno, rd->file);
        records++;
    }
    if (rc < 0)
        goto done;
    rc = records ? STANCE_OK
                 : st_error(rd->err, STANCE_ERR_FORMAT, "%s: no records", rd->name);
done:
    free(mem);
    return rc;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int st_corpus_is_jsonl(const char *name)
{
    return ends_with(name, ".jsonl") || ends_with(name, ".jsonl.gz");
}

/* Parse buf (len bytes, buf[len] writable) as file `name`, taking ownership
 * of buf whatever happens. */
static int add_owned(stance_corpus *c, const char *name, char *buf, size_t len,
                     const char *sha256, stance_error *err)
{
    size_t base = c->n, meta_base = c->nmeta;
    int rc;
    if (c->nfiles >= INT32_MAX ||
        grow((void **)&c->files, &c->filecap, c->nfiles + 1, sizeof *c->files) ||
        grow((void **)&c->bufs, &c->bufcap, c->nbufs + 1, sizeof *c->bufs)) {
        free(buf);
        return st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", name);
    }
    char *fname = st_strdup(name);
    if (!fname) {
        free(buf);
        return st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", name);
    }
    reader rd = {c, name, buf, len, 0, 0, (int32_t)c->nfiles, err};
    rc = st_corpus_is_jsonl(name) ? parse_jsonl(&rd)
                                                                    : parse_tsv(&rd);
    if (!rc && reserve_dedup(c, c->n - base))
        rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", name);
    if (rc) {
        c->n = base;
        c->nmeta = meta_base;
        free(buf);
        free(fname);
        return rc;
    }
    cfile *f = &c->files[c->nfiles++];
    f->name = fname;
    memcpy(f->sha256, sha256, 65);
    f->records = commit(c, base);
    if (f->records)
        c->bufs[c->nbufs++] = buf;
    else
        free(buf); /* every record was a duplicate: nothing points into it */
    return STANCE_OK;
}

int st_corpus_add_buffer(stance_corpus *c, const char *name, const void *data, size_t len,
                         stance_error *err)
{
    if (!c || !name || (!data && len) || len == SIZE_MAX)
        return st_error(err, STANCE_ERR_ARG, "st_corpus_add_buffer: invalid argument");
    char *buf = malloc(len + 1);
    if (!buf)
        return st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", name);
    if (len)
        memcpy(buf, data, len);
    buf[len] = '\0';
    char sha[65];
    st_sha256_hex(buf, len, sha);
    return add_owned(c, name, buf, len, sha, err);
}

/* SHA-256 of the file as stored.  For a gzip file that means hashing the
 * compressed bytes again from disk; otherwise the bytes read are the file. */
static int file_sha256(const char *path, const char *data, size_t len, char out[65],
                       stance_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "rb");
    unsigned char chunk[65536];
    size_t got = f ? fread(chunk, 1, sizeof chunk, f) : 0;
    if (!f || got < 2 || chunk[0] != 0x1f || chunk[1] != 0x8b) {
        if (f)
            fclose(f);
        st_sha256_hex(data, len, out);
        return STANCE_OK;
    }
    st_sha256 h;
    st_sha256_init(&h);
    do
        st_sha256_update(&h, chunk, got);
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0);
    int bad = ferror(f);
    int e = errno;
    fclose(f);
    if (bad)
        return st_error(err, STANCE_ERR_IO, "%s: read error: %s", path, strerror(e));
    unsigned char d[32];
    st_sha256_final(&h, d);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
    return STANCE_OK;
}

int stance_corpus_add_file(stance_corpus *c, const char *path, stance_error *err)
{
    if (!c || !path)
        return st_error(err, STANCE_ERR_ARG, "stance_corpus_add_file: NULL argument");
    char *buf;
    size_t len;
    int rc = st_read_file(path, 0, &buf, &len, err);
    if (rc)
        return rc;
    /* st_read_file's buffer may be up to twice the data; the records keep
     * pointing into it, so give the slack back */
    char *shrunk = realloc(buf, len + 1);
    if (shrunk)
        buf = shrunk;
    char sha[65];
    if ((rc = file_sha256(path, buf, len, sha, err))) {
        free(buf);
        return rc;
    }
    return add_owned(c, path, buf, len, sha, err);
}
