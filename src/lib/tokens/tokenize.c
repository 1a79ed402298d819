/* tokenize.c - the third and fourth stages: a sentence -> normalised text ->
 * tokens.
 *
 * Normalisation is utf8proc's NFKC with case folding, default-ignorable code
 * points removed, and typographic apostrophes folded to "'" so that
 * "Maduro’s" and "Maduro's" are one token (ST_NORM_FLAGS_V1, recorded in
 * the model).  Tokens are ICU word-break segments whose rule status says
 * word, number, kana or ideograph: punctuation and spaces are dropped. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>
#include <utf8proc.h>

struct st_tokenizer {
    UBreakIterator *bi;
    UText *ut;
    utf8proc_int32_t *cp;   /* code point workspace, reencoded in place */
    size_t cp_cap;          /* in code points */
    const char *norm;       /* normalised sentence (into cp or ascii) */
    size_t norm_len;
    char *ascii;
    size_t ascii_cap;
    const char **tok;
    size_t *tok_len;
    size_t tok_cap;
    int icu_only;           /* tests: no ASCII fast path */
    char *safe;             /* the sentence with overlong mark runs cut */
    size_t safe_cap;
};

void st_tokenizer_force_icu(st_tokenizer *tk, int on)
{
    tk->icu_only = on;
}

/* decomposition happens in utf8proc_decompose only when COMPOSE or
 * DECOMPOSE is among the options */
#define NORM_OPTS                                                                           \
    ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |            \
                         UTF8PROC_IGNORE | UTF8PROC_COMPOSE))

int st_tokenizer_new(st_tokenizer **out, stance_error *err)
{
    *out = NULL;
    st_tokenizer *tk = calloc(1, sizeof *tk);
    if (!tk)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    UErrorCode st = U_ZERO_ERROR;
    tk->bi = ubrk_open(UBRK_WORD, "", NULL, 0, &st);
    if (U_FAILURE(st)) {
        st_tokenizer_free(tk);
        return st_error(err, STANCE_ERR_ICU, "ICU word break iterator: %s", u_errorName(st));
    }
    *out = tk;
    return STANCE_OK;
}

void st_tokenizer_free(st_tokenizer *tk)
{
    if (!tk)
        return;
    if (tk->bi)
        ubrk_close(tk->bi);
    if (tk->ut)
        utext_close(tk->ut);
    free(tk->cp);
    free(tk->ascii);
    free(tk->safe);
    free(tk->tok);
    free(tk->tok_len);
    free(tk);
}

static int is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* For pure ASCII, NFKC is the identity, case folding is tolower and there is
 * nothing ignorable, so the copy below equals utf8proc's result (the unit
 * tests check this over the whole printable range). */
/* Buffers grown for one huge sentence are given back before a small one. */
static void trim_buffers(st_tokenizer *tk, size_t len)
{
    const size_t keep = (size_t)1 << 20;
    if (tk->cp_cap > keep && len + 1 < tk->cp_cap / 4) {
        free(tk->cp);
        tk->cp = NULL;
        tk->cp_cap = 0;
    }
    if (tk->ascii_cap > keep && len + 1 < tk->ascii_cap / 4) {
        free(tk->ascii);
        tk->ascii = NULL;
        tk->ascii_cap = 0;
    }
    if (tk->safe_cap > keep && len + 1 < tk->safe_cap / 4) {
        free(tk->safe);
        tk->safe = NULL;
        tk->safe_cap = 0;
    }
    if (tk->tok_cap > 65536 && len / 2 < tk->tok_cap / 4) {
        free(tk->tok);
        free(tk->tok_len);
        tk->tok = NULL;
        tk->tok_len = NULL;
        tk->tok_cap = 0;
    }
}

static int normalise(st_tokenizer *tk, const char *text, size_t len, stance_error *err)
{
    trim_buffers(tk, len);
    if (is_ascii(text, len)) {
        if (len + 1 > tk->ascii_cap) {
            size_t cap = len + 1 > 256 ? len + 1 : 256;
            char *p = realloc(tk->ascii, cap);
            if (!p)
                return st_error(err, STANCE_ERR_NOMEM, "out of memory");
            tk->ascii = p;
            tk->ascii_cap = cap;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)text[i];
            tk->ascii[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        tk->ascii[len] = '\0';
        tk->norm = tk->ascii;
        tk->norm_len = len;
        return STANCE_OK;
    }
    if (len > (size_t)INT32_MAX / 8)
        return st_error(err, STANCE_ERR_TOOBIG, "sentence of %zu bytes is too long", len);
    /* utf8proc orders a run of combining marks by insertion sort: a hostile
     * run of thousands makes normalisation quadratic.  As the Stream-Safe
     * Text Format of UAX #15 does, no run may pass 30 marks.  The run is
     * counted on each code point's own decomposition (U+0F73 is no mark but
     * decomposes into two, and ignorables vanish before the sort), and the
     * code points that would pass the limit are left out of the features
     * (offsets do not depend on them). */
    if (len + 1 > tk->safe_cap) {
        char *p = realloc(tk->safe, len + 1);
        if (!p)
            return st_error(err, STANCE_ERR_NOMEM, "out of memory");
        tk->safe = p;
        tk->safe_cap = len + 1;
    }
    size_t o = 0, run = 0;
    int dropped = 0;
    for (utf8proc_ssize_t i = 0, w; i < (utf8proc_ssize_t)len; i += w) {
        utf8proc_int32_t cp, dec[32];
        w = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)len - i, &cp);
        if (w <= 0)
            break;
        int last = 0;
        utf8proc_ssize_t nd =
            cp < 0x80 ? 1 : utf8proc_decompose_char(cp, dec, 32, NORM_OPTS, &last);
        if (cp < 0x80)
            dec[0] = cp;
        /* marks at the head of the decomposition extend the run; a starter
         * ends it, and the marks after the last starter begin the next */
        size_t lead = 0, trail = 0;
        int starter = 0;
        for (utf8proc_ssize_t k = 0; k < nd && k < 32; k++) {
            if (utf8proc_get_property(dec[k])->combining_class) {
                if (starter)
                    trail++;
                else
                    lead++;
            } else {
                starter = 1;
                trail = 0;
            }
        }
        if (run + lead > 30) {
            dropped = 1;
            continue;
        }
        run = starter ? trail : run + lead;
        memcpy(tk->safe + o, text + i, (size_t)w);
        o += (size_t)w;
    }
    if (dropped) {
        text = tk->safe;
        len = o;
    }
    for (;;) {
        utf8proc_ssize_t n = utf8proc_decompose((const utf8proc_uint8_t *)text,
                                                (utf8proc_ssize_t)len, tk->cp,
                                                (utf8proc_ssize_t)tk->cp_cap, NORM_OPTS);
        if (n < 0)
            return st_error(err, STANCE_ERR_FORMAT, "normalisation failed: %s",
                            utf8proc_errmsg(n));
        if ((size_t)n + 1 > tk->cp_cap) {
            size_t cap = (size_t)n + 1 > 256 ? (size_t)n + 1 : 256;
            utf8proc_int32_t *p = realloc(tk->cp, cap * sizeof *p);
            if (!p)
                return st_error(err, STANCE_ERR_NOMEM, "out of memory");
            tk->cp = p;
            tk->cp_cap = cap;
            continue;
        }
        for (utf8proc_ssize_t i = 0; i < n; i++) {
            utf8proc_int32_t c = tk->cp[i];
            if (c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0xFF07)
                tk->cp[i] = '\'';
        }
        n = utf8proc_normalize_utf32(tk->cp, n, NORM_OPTS);
        if (n < 0)
            return st_error(err, STANCE_ERR_FORMAT, "normalisation failed: %s",
                            utf8proc_errmsg(n));
        n = utf8proc_reencode(tk->cp, n, NORM_OPTS);
        if (n < 0)
            return st_error(err, STANCE_ERR_FORMAT, "normalisation failed: %s",
                            utf8proc_errmsg(n));
        tk->norm = (const char *)tk->cp;
        tk->norm_len = (size_t)n;
        return STANCE_OK;
    }
}

static int push(st_tokenizer *tk, size_t *n, const char *p, size_t len)
{
    if (*n == tk->tok_cap) {
        size_t cap = tk->tok_cap ? tk->tok_cap * 2 : 128;
        const char **t = realloc(tk->tok, cap * sizeof *t);
        if (!t)
            return STANCE_ERR_NOMEM;
        tk->tok = t;
        size_t *l = realloc(tk->tok_len, cap * sizeof *l);
        if (!l)
            return STANCE_ERR_NOMEM;
        tk->tok_len = l;
        tk->tok_cap = cap;
    }
    tk->tok[*n] = p;
    tk->tok_len[*n] = len;
    (*n)++;
    return STANCE_OK;
}

/* ---- the ASCII fast path ------------------------------------------------
 *
 * ICU's word break iterator costs more than everything else in a sentence's
 * features.  For text that is ASCII after normalisation, the word rules of
 * UAX #29 as ICU's root rules apply them reduce to a few character classes,
 * and the rule status ICU gives a segment to a function of its last two
 * characters.  tests/unit/test_tokens.c checks this path against ICU on
 * every sentence of the corpus and on random ASCII text, and
 * tests/fuzz/fuzz_ascii_words.c does so on anything a fuzzer finds. */

enum { C_OTHER, C_LETTER, C_DIGIT, C_UNDER, C_MIDLN, C_MIDNUM };

/* MidNumLet (.) and Single_Quote (') join letters (WB6/7) and digits
 * (WB11/12); MidNum (, ;) joins digits only.  ICU's root rules take the
 * colon out of MidLetter, so it joins nothing, and count '@' as a letter,
 * so that e-mail addresses stay whole. */
static inline int aclass(unsigned char c)
{
    if (((c | 32) >= 'a' && (c | 32) <= 'z') || c == '@')
        return C_LETTER;
    if (c >= '0' && c <= '9')
        return C_DIGIT;
    switch (c) {
    case '_': return C_UNDER;
    case '.':
    case '\'': return C_MIDLN;
    case ',':
    case ';': return C_MIDNUM;
    default: return C_OTHER;
    }
}

static int is_wordish(int k) { return k == C_LETTER || k == C_DIGIT || k == C_UNDER; }

static int ascii_words(st_tokenizer *tk, const char *s, size_t n, size_t *ntok)
{
    size_t i = 0, count = 0;
    while (i < n) {
        if (!is_wordish(aclass((unsigned char)s[i]))) {
            i++;
            continue;
        }
        size_t start = i++;
        while (i < n) {
            int nk = aclass((unsigned char)s[i]);
            if (is_wordish(nk)) { /* WB5, WB8-10, WB13a/b */
                i++;
                continue;
            }
            if ((nk == C_MIDLN || nk == C_MIDNUM) && i + 1 < n) {
                int last = aclass((unsigned char)s[i - 1]);
                int after = aclass((unsigned char)s[i + 1]);
                if ((last == C_LETTER && after == C_LETTER && nk == C_MIDLN) ||
                    (last == C_DIGIT && after == C_DIGIT)) {
                    i += 2;
                    continue;
                }
            }
            break;
        }
        /* ICU's rule status is a word (letter at the end: 200, digit: 100,
         * an underscore after either or another underscore: 100 or 200) for
         * every segment but a lone underscore, which is no word */
        size_t len = i - start;
        if (len == 1 && s[start] == '_')
            continue;
        if (push(tk, &count, s + start, len))
            return STANCE_ERR_NOMEM;
    }
    *ntok = count;
    return STANCE_OK;
}

int st_tokenize(st_tokenizer *tk, const char *text, size_t len, const char *const **tokens,
                const size_t **tok_len, size_t *ntok, stance_error *err)
{
    *ntok = 0;
    int rc = normalise(tk, text, len, err);
    if (rc)
        return rc;
    if (!tk->icu_only && is_ascii(tk->norm, tk->norm_len)) {
        size_t n = 0;
        if (ascii_words(tk, tk->norm, tk->norm_len, &n))
            return st_error(err, STANCE_ERR_NOMEM, "out of memory");
        *tokens = tk->tok;
        *tok_len = tk->tok_len;
        *ntok = n;
        return STANCE_OK;
    }
    UErrorCode st = U_ZERO_ERROR;
    tk->ut = utext_openUTF8(tk->ut, tk->norm, (int64_t)tk->norm_len, &st);
    ubrk_setUText(tk->bi, tk->ut, &st);
    if (U_FAILURE(st))
        return st_error(err, STANCE_ERR_ICU, "ICU word segmentation: %s", u_errorName(st));
    size_t n = 0;
    int32_t start = ubrk_first(tk->bi), end;
    while ((end = ubrk_next(tk->bi)) != UBRK_DONE) {
        int32_t status = ubrk_getRuleStatus(tk->bi);
        if (status >= UBRK_WORD_NUMBER && status < UBRK_WORD_IDEO_LIMIT)
            if (push(tk, &n, tk->norm + start, (size_t)(end - start)))
                return st_error(err, STANCE_ERR_NOMEM, "out of memory");
        start = end;
    }
    *tokens = tk->tok;
    *tok_len = tk->tok_len;
    *ntok = n;
    return STANCE_OK;
}
