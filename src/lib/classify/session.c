/* session.c - the pipeline end to end for one document, in a per-thread
 * workspace: text -> sentences -> tokens -> features -> SVM.  Nothing here
 * allocates per sentence or per token once the buffers have grown to fit. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct stance_session {
    const stance_model *m;
    st_segmenter *sg;
    st_tokenizer *tk;
    st_counter *ctr;
    st_rowcache *rows;     /* token -> model rows, for prepared linear models */
    st_fvec vec;
    char *clean;           /* repaired or unwrapped copy of the document */
    uint32_t *map;         /* clean offset -> caller offset, after a repair */
    size_t clean_cap, map_cap;
    const char *doc;       /* what is segmented: the caller's text or clean */
    int mapped;            /* doc is a repaired copy: offsets go through map */
    stance_sentence *sent;
    size_t sent_cap;
    double *probs;         /* nlabels per sentence */
    double *dec, *scratch;
    st_buf tokens;
    stance_result res;
};

int stance_session_new(const stance_model *m, stance_session **out, stance_error *err)
{
    *out = NULL;
    stance_session *s = calloc(1, sizeof *s);
    if (!s)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    s->m = m;
    int rc = st_segmenter_new(&s->sg, err);
    if (!rc)
        rc = st_tokenizer_new(&s->tk, err);
    if (!rc && st_counter_new(&s->ctr))
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
    if (!rc && m && m->svm->fused && st_rowcache_new(&s->rows))
        rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
    if (!rc && m) {
        int k = m->nlabels, np = m->svm->npairs;
        s->dec = malloc((np ? np : 1) * sizeof *s->dec);
        s->scratch = malloc(2 * (size_t)k * k * sizeof *s->scratch);
        if (!s->dec || !s->scratch)
            rc = st_error(err, STANCE_ERR_NOMEM, "out of memory");
    }
    if (rc) {
        stance_session_free(s);
        return rc;
    }
    *out = s;
    return STANCE_OK;
}

void stance_session_free(stance_session *s)
{
    if (!s)
        return;
    st_segmenter_free(s->sg);
    st_tokenizer_free(s->tk);
    st_counter_free(s->ctr);
    st_rowcache_free(s->rows);
    st_fvec_free(&s->vec);
    free(s->clean);
    free(s->map);
    free(s->sent);
    free(s->probs);
    free(s->dec);
    free(s->scratch);
    st_buf_free(&s->tokens);
    free(s);
}

/* Does a line start with a list mark: "1. ", "12) ", "- ", "* ", "• "?  One
 * or two digits only: a hard-wrapped line that starts with "2015. " or
 * "150. " more often ends a sentence than opens an item. */
static int list_mark(const char *t, size_t n)
{
    size_t d = 0;
    while (d < n && d < 3 && t[d] >= '0' && t[d] <= '9')
        d++;
    if (d > 0 && d < 3 && d + 1 < n && (t[d] == '.' || t[d] == ')') && t[d + 1] == ' ')
        return 1;
    if (n >= 2 && (t[0] == '-' || t[0] == '*') && t[1] == ' ')
        return 1;
    return n >= 4 && memcmp(t, "\xe2\x80\xa2 ", 4) == 0;
}

/* For hard-wrapped text: a line break alone (white space around it, but no
 * second line break) becomes a space, unless a list item follows; blank
 * lines still end paragraphs.  The replacement keeps every byte offset. */
static void unwrap(char *t, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (t[i] != ' ' && t[i] != '\t' && t[i] != '\r' && t[i] != '\n') {
            i++;
            continue;
        }
        size_t j = i, breaks = 0;
        while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\n'))
            breaks += t[j++] == '\n';
        if (breaks == 1 && i > 0 && j < n && !list_mark(t + j, n - j))
            for (size_t k = i; k < j; k++)
                if (t[k] == '\n' || t[k] == '\r')
                    t[k] = ' ';
        i = j;
    }
}

/* Buffers grown for one huge document are given back once a document a
 * quarter of their size comes, so a long-lived session (one per thread of
 * `stance score`) does not keep the peak of its largest document. */
#define KEEP_BYTES ((size_t)4 << 20)

static int reserve_clean(stance_session *s, size_t need, int with_map)
{
    if (st_scratch(&s->clean, &s->clean_cap, need, KEEP_BYTES))
        return STANCE_ERR_NOMEM;
    if (s->map_cap > KEEP_BYTES && (!with_map || need < s->map_cap / 4)) {
        free(s->map);
        s->map = NULL;
        s->map_cap = 0;
    }
    if (with_map && need > s->map_cap) {
        uint32_t *mp = realloc(s->map, need * sizeof *mp);
        if (!mp)
            return STANCE_ERR_NOMEM;
        s->map = mp;
        s->map_cap = need;
    }
    return STANCE_OK;
}

/* Make the document segmentable: valid UTF-8 is used as it is (copied only
 * when --wrapped must rewrite line breaks), and only text with invalid
 * sequences is repaired into a copy with a map back to the caller's
 * offsets. */
static int prepare(stance_session *s, const char *text, size_t len, unsigned flags,
                   const st_span **spans, size_t *n, stance_error *err)
{
    if (len >= UINT32_MAX / 3)
        return st_error(err, STANCE_ERR_TOOBIG, "document of %zu bytes is over the limit of %u",
                        len, UINT32_MAX / 3 - 1);
    const int wrapped = (flags & STANCE_WRAPPED) != 0;
    size_t clen = len;
    s->res.invalid_utf8 = 0;
    s->mapped = 0;
    if (st_utf8_valid(text, len)) {
        s->doc = text;
        if (wrapped) {
            if (reserve_clean(s, len + 1, 0))
                return st_error(err, STANCE_ERR_NOMEM, "out of memory");
            memcpy(s->clean, text, len);
            s->clean[len] = '\0';
            unwrap(s->clean, len);
            s->doc = s->clean;
        }
    } else {
        if (reserve_clean(s, 3 * len + 1, 1))
            return st_error(err, STANCE_ERR_NOMEM, "out of memory");
        int has_nul = 0;
        size_t ninvalid = 0;
        clen = st_utf8_repair(text, len, s->clean, s->map, &ninvalid, &has_nul);
        if (has_nul) {
            const char *nul = memchr(text, '\0', len);
            size_t line = 1;
            for (const char *p = text; (p = memchr(p, '\n', (size_t)(nul - p))) != NULL; p++)
                line++;
            return st_error(err, STANCE_ERR_BINARY, "binary content (NUL byte on line %zu, byte %zu)",
                            line, (size_t)(nul - text));
        }
        if (wrapped)
            unwrap(s->clean, clen);
        s->res.invalid_utf8 = ninvalid;
        s->doc = s->clean;
        s->mapped = 1;
    }
    return st_segment(s->sg, s->doc, clen, wrapped, spans, n, err);
}

/* The caller's offset of a byte of the segmented text. */
static size_t origin(const stance_session *s, size_t i)
{
    return s->mapped ? s->map[i] : i;
}

static int reserve_sentences(stance_session *s, size_t n, int k)
{
    /* as for the text buffers: a huge document's arrays are given back */
    if (s->sent_cap > 65536 && n < s->sent_cap / 4) {
        free(s->sent);
        free(s->probs);
        s->sent = NULL;
        s->probs = NULL;
        s->sent_cap = 0;
    }
    if (n <= s->sent_cap)
        return STANCE_OK;
    size_t cap = s->sent_cap ? s->sent_cap : 64;
    while (cap < n)
        cap *= 2;
    stance_sentence *p = realloc(s->sent, cap * sizeof *p);
    if (!p)
        return STANCE_ERR_NOMEM;
    s->sent = p;
    if (k) {
        double *q = realloc(s->probs, cap * (size_t)k * sizeof *q);
        if (!q)
            return STANCE_ERR_NOMEM;
        s->probs = q;
    }
    s->sent_cap = cap;
    return STANCE_OK;
}

int stance_segment(stance_session *s, const char *text, size_t len, unsigned flags,
                   const stance_result **out, stance_error *err)
{
    *out = NULL;
    const st_span *spans;
    size_t n;
    int rc = prepare(s, text, len, flags, &spans, &n, err);
    if (rc)
        return rc;
    int k = s->m ? s->m->nlabels : 0;
    if (reserve_sentences(s, n, k))
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        s->sent[i].start = origin(s, spans[i].start);
        s->sent[i].end = origin(s, spans[i].end);
        s->sent[i].label = -1;
        s->sent[i].probs = NULL;
    }
    s->res.n = n;
    s->res.sentences = s->sent;
    *out = &s->res;
    return STANCE_OK;
}

/* The pipeline after segmentation, for stance_classify and, with a
 * callback, stance_session_features. */
static int classify_doc(stance_session *s, const char *text, size_t len, unsigned flags,
                        stance_features_fn cb, void *ctx, stance_error *err)
{
    const stance_model *m = s->m;
    if (!m)
        return st_error(err, STANCE_ERR_ARG, "this session has no model");
    const st_span *spans;
    size_t n;
    int rc = prepare(s, text, len, flags, &spans, &n, err);
    if (rc)
        return rc;
    const int k = m->nlabels;
    if (reserve_sentences(s, n, k))
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *const *tok;
        const size_t *tlen;
        size_t ntok;
        rc = st_tokenize(s->tk, s->doc + spans[i].start, spans[i].end - spans[i].start, &tok,
                         &tlen, &ntok, err);
        if (rc)
            return rc;
        if (s->rows) {
            const st_rowmap map = st_svm_rowmap(m->svm);
            if (st_count_rows(s->ctr, s->rows, &m->fc, &map, tok, tlen, ntok) < 0)
                return st_error(err, STANCE_ERR_NOMEM, "out of memory");
            st_svm_decision_rows(m->svm, s->ctr, m->fc.sublinear_tf, s->dec);
        }
        if (!s->rows || cb) {
            /* the vector itself: for kernels other than the folded linear
             * one, and for callers who asked to see it */
            if (st_count_features(s->ctr, &m->fc, tok, tlen, ntok) < 0 ||
                st_vectorize(s->ctr, &m->fc, &m->vocab, &s->vec))
                return st_error(err, STANCE_ERR_NOMEM, "out of memory");
            if (!s->rows)
                st_svm_decision(m->svm, &s->vec, s->dec);
        }
        double *p = s->probs + i * (size_t)k;
        s->sent[i].label = st_svm_probability(m->svm, s->dec, p, s->scratch);
        s->sent[i].start = origin(s, spans[i].start);
        s->sent[i].end = origin(s, spans[i].end);
        s->sent[i].probs = p;
        if (cb && cb(ctx, i, &s->sent[i], s->vec.index, s->vec.value, s->vec.n))
            return st_error(err, STANCE_ERR_IO, "stopped by the feature callback");
    }
    s->res.n = n;
    s->res.sentences = s->sent;
    return STANCE_OK;
}

int stance_classify(stance_session *s, const char *text, size_t len, unsigned flags,
                    const stance_result **out, stance_error *err)
{
    *out = NULL;
    int rc = classify_doc(s, text, len, flags, NULL, NULL, err);
    if (rc == STANCE_OK)
        *out = &s->res;
    return rc;
}

int stance_session_features(stance_session *s, const char *text, size_t len, unsigned flags,
                            stance_features_fn cb, void *ctx, stance_error *err)
{
    return classify_doc(s, text, len, flags, cb, ctx, err);
}

int stance_tokens(stance_session *s, const char *text, size_t len, const char **out,
                  stance_error *err)
{
    *out = NULL;
    if (!st_utf8_valid(text, len))
        return st_error(err, STANCE_ERR_FORMAT, "invalid UTF-8 or NUL byte");
    const char *const *tok;
    const size_t *tlen;
    size_t ntok;
    int rc = st_tokenize(s->tk, text, len, &tok, &tlen, &ntok, err);
    if (rc)
        return rc;
    s->tokens.len = 0;
    if (st_buf_append(&s->tokens, "", 0))
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ntok; i++)
        if ((i && st_buf_append(&s->tokens, " ", 1)) || st_buf_append(&s->tokens, tok[i], tlen[i]))
            return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    *out = s->tokens.data;
    return STANCE_OK;
}
