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
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
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
    int icu_only;           /* tests: utf8proc and ICU only, no fast paths */
    struct norm_entry *ntab; /* code point -> normal form, filled as met */
    uint8_t *ctab;          /* code point -> word class + 1, filled as met */
    uint8_t *cls;           /* per code point of a sentence: class, */
    uint32_t *off;          /* and byte offset */
    size_t cls_cap;
    char *safe;             /* the sentence with overlong mark runs cut */
    size_t safe_cap;
    size_t table_norms, class_words; /* sentences the two table paths took */
    uint8_t ascii_class[128]; /* aclass() of every ASCII byte */
};

void st_tokenizer_counts(const st_tokenizer *tk, size_t *table_norms, size_t *class_words)
{
    *table_norms = tk->table_norms;
    *class_words = tk->class_words;
}

void st_tokenizer_force_icu(st_tokenizer *tk, int on)
{
    tk->icu_only = on;
}

/* decomposition happens in utf8proc_decompose only when COMPOSE or
 * DECOMPOSE is among the options */
#define NORM_OPTS                                                                           \
    ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |            \
                         UTF8PROC_IGNORE | UTF8PROC_COMPOSE))

static inline int aclass(unsigned char c);

int st_tokenizer_new(st_tokenizer **out, stance_error *err)
{
    *out = NULL;
    st_tokenizer *tk = calloc(1, sizeof *tk);
    if (!tk)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    for (int c = 0; c < 128; c++)
        tk->ascii_class[c] = (uint8_t)aclass((unsigned char)c);
    /* ICU's word break iterator is opened when a sentence first needs it:
     * ASCII and simple text never do */
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
    free(tk->ntab);
    free(tk->ctab);
    free(tk->cls);
    free(tk->off);
    free(tk);
}

static int is_ascii(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL)
            return 0;
    }
    for (; i < n; i++)
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
    if (tk->cls_cap > keep && len + 1 < tk->cls_cap / 4) {
        free(tk->cls);
        free(tk->off);
        tk->cls = NULL;
        tk->off = NULL;
        tk->cls_cap = 0;
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

/* NFKC with case folding of an ASCII character: tolower. */
static inline char ascii_fold(unsigned char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* Typographic apostrophes are one with "'" (after decomposition). */
static inline utf8proc_int32_t fold_apostrophe(utf8proc_int32_t c)
{
    return c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0xFF07 ? '\'' : c;
}

/* ---- the table path for other simple text --------------------------------
 *
 * Most non-ASCII sentences in our languages are ASCII plus precomposed
 * Latin, Greek and Cyrillic letters and typographic punctuation.  For those,
 * normalisation works one code point at a time: utf8proc's decomposition and
 * case folding are per code point, and the canonical reordering and
 * composition that follow can only join a code point to the one before it
 * if its decomposition begins with a character that lacks a normalisation
 * boundary before it (a combining mark, or the second half of a composition
 * pair).  A code point whose decomposition begins with a boundary (ICU's
 * NFC data says which) is "simple": the normal form of a run of simple code
 * points is the concatenation of their own normal forms.  Each one is
 * normalised once through the very utf8proc calls above and remembered in a
 * per-tokenizer table; a sentence with any other code point (or invalid
 * UTF-8) takes the utf8proc path.  tests/unit/test_tokens.c and
 * tests/fuzz/fuzz_fast_words.c hold this path to the utf8proc-and-ICU one. */

#define NT_LIMIT 0x2E80 /* code points below this have table entries */

struct norm_entry {
    uint8_t state; /* 0 not yet known, 1 simple, 2 not simple */
    uint8_t len;   /* bytes of out */
    char out[14];  /* the code point's normal form, UTF-8 */
};

static int utf8proc_path(st_tokenizer *tk, const char *text, size_t len, stance_error *err);

static const struct norm_entry *norm_entry_of(st_tokenizer *tk, int32_t cp)
{
    struct norm_entry *e = &tk->ntab[cp];
    if (e->state)
        return e;
    e->state = 2;
    utf8proc_int32_t dec[32];
    int last = 0;
    utf8proc_ssize_t nd = utf8proc_decompose_char(cp, dec, 32, NORM_OPTS, &last);
    if (nd < 0 || nd > 32)
        return e;
    if (nd > 0) {
        UErrorCode st = U_ZERO_ERROR;
        const UNormalizer2 *nfc = unorm2_getNFCInstance(&st);
        utf8proc_int32_t first = fold_apostrophe(dec[0]);
        if (U_FAILURE(st) || !unorm2_hasBoundaryBefore(nfc, first))
            return e;
    }
    /* its normal form, by the general path on the code point alone */
    unsigned char one[4];
    utf8proc_ssize_t w = utf8proc_encode_char(cp, one);
    stance_error ignore;
    if (w <= 0 || utf8proc_path(tk, (const char *)one, (size_t)w, &ignore) != STANCE_OK ||
        tk->norm_len > sizeof e->out)
        return e;
    memcpy(e->out, tk->norm, tk->norm_len);
    e->len = (uint8_t)tk->norm_len;
    e->state = 1;
    return e;
}

/* 1: text normalised into tk->ascii; 0: not simple text (nothing done);
 * negative: out of memory. */
static int table_normalise(st_tokenizer *tk, const char *text, size_t len)
{
    if (!tk->ntab && !(tk->ntab = calloc(NT_LIMIT, sizeof *tk->ntab)))
        return STANCE_ERR_NOMEM;
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        /* room for the longest entry */
        if (o + sizeof tk->ntab->out + 1 > tk->ascii_cap) {
            size_t cap = tk->ascii_cap ? tk->ascii_cap * 2 : 256;
            while (cap < len + sizeof tk->ntab->out + 1)
                cap *= 2;
            char *p = realloc(tk->ascii, cap);
            if (!p)
                return STANCE_ERR_NOMEM;
            tk->ascii = p;
            tk->ascii_cap = cap;
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            tk->ascii[o++] = ascii_fold(c);
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t w =
            utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i < 4 ? len - i : 4), &cp);
        if (w <= 0 || cp >= NT_LIMIT)
            return 0;
        const struct norm_entry *e = norm_entry_of(tk, cp);
        if (e->state != 1)
            return 0;
        memcpy(tk->ascii + o, e->out, e->len);
        o += e->len;
        i += (size_t)w;
    }
    tk->ascii[o] = '\0';
    tk->norm = tk->ascii;
    tk->norm_len = o;
    return 1;
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
            tk->ascii[i] = ascii_fold(c);
        }
        tk->ascii[len] = '\0';
        tk->norm = tk->ascii;
        tk->norm_len = len;
        return STANCE_OK;
    }
    if (!tk->icu_only) {
        int r = table_normalise(tk, text, len);
        if (r < 0)
            return st_error(err, STANCE_ERR_NOMEM, "out of memory");
        if (r > 0) {
            tk->table_norms++;
            return STANCE_OK;
        }
    }
    return utf8proc_path(tk, text, len, err);
}

/* NFKC, case folding, ignorables dropped, apostrophes folded: utf8proc's
 * normalisation, for any text. */
static int utf8proc_path(st_tokenizer *tk, const char *text, size_t len, stance_error *err)
{
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
        for (utf8proc_ssize_t i = 0; i < n; i++)
            tk->cp[i] = fold_apostrophe(tk->cp[i]);
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
 * tests/fuzz/fuzz_fast_words.c does so on anything a fuzzer finds. */

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

/* Room for the classes (and offsets) of n code points. */
static int reserve_classes(st_tokenizer *tk, size_t n)
{
    if (n + 1 <= tk->cls_cap)
        return STANCE_OK;
    size_t cap = n + 1 > 256 ? n + 1 : 256;
    uint8_t *k = realloc(tk->cls, cap);
    if (!k)
        return STANCE_ERR_NOMEM;
    tk->cls = k;
    uint32_t *o = realloc(tk->off, cap * sizeof *o);
    if (!o)
        return STANCE_ERR_NOMEM;
    tk->off = o;
    tk->cls_cap = cap;
    return STANCE_OK;
}

/* The word rules over the classes of m code points of s; code point i
 * starts at byte off[i] (off[m] is the end), or at byte i when off is
 * NULL. */
static int words_by_class(st_tokenizer *tk, const char *s, const uint8_t *cls,
                          const uint32_t *off, size_t m, size_t *ntok)
{
    size_t i = 0, count = 0;
    while (i < m) {
        if (!is_wordish(cls[i])) {
            i++;
            continue;
        }
        size_t start = i++;
        while (i < m) {
            int nk = cls[i];
            if (is_wordish(nk)) { /* WB5, WB8-10, WB13a/b */
                i++;
                continue;
            }
            if ((nk == C_MIDLN || nk == C_MIDNUM) && i + 1 < m) {
                int last = cls[i - 1], after = cls[i + 1];
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
        if (i - start == 1 && cls[start] == C_UNDER)
            continue;
        size_t b = off ? off[start] : start, e = off ? off[i] : i;
        if (push(tk, &count, s + b, e - b))
            return STANCE_ERR_NOMEM;
    }
    *ntok = count;
    return STANCE_OK;
}

static int ascii_words(st_tokenizer *tk, const char *s, size_t n, size_t *ntok)
{
    if (reserve_classes(tk, n))
        return STANCE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        tk->cls[i] = tk->ascii_class[(unsigned char)s[i]];
    return words_by_class(tk, s, tk->cls, NULL, n, ntok);
}

/* Word classes beyond ASCII, for normalised text: letters of the Latin,
 * Greek and Cyrillic scripts are ALetter to ICU as to UAX #29, and
 * punctuation and symbols with no word-break property join nothing.  Any
 * other code point (marks, formats, non-ASCII digits and joiners, the
 * scripts ICU segments with dictionaries, pictographs) sends the sentence
 * to ICU.  C_NONE marks those. */
enum { C_NONE = 0xff };

static int uclass(st_tokenizer *tk, int32_t cp)
{
    if (cp < 0x80)
        return tk->ascii_class[cp];
    if (cp >= NT_LIMIT)
        return C_NONE;
    uint8_t k = tk->ctab[cp];
    if (k)
        return k - 1;
    int wb = u_getIntPropertyValue(cp, UCHAR_WORD_BREAK);
    int lb = u_getIntPropertyValue(cp, UCHAR_LINE_BREAK);
    UErrorCode st = U_ZERO_ERROR;
    UScriptCode sc = uscript_getScript(cp, &st);
    int gc = u_charType(cp);
    int cls = C_NONE;
    if (U_FAILURE(st) || lb == U_LB_COMPLEX_CONTEXT ||
        u_hasBinaryProperty(cp, UCHAR_EXTENDED_PICTOGRAPHIC))
        cls = C_NONE;
    else if (wb == U_WB_ALETTER &&
             (sc == USCRIPT_LATIN || sc == USCRIPT_GREEK || sc == USCRIPT_CYRILLIC))
        cls = C_LETTER;
    else if (wb == U_WB_OTHER &&
             (gc == U_DASH_PUNCTUATION || gc == U_START_PUNCTUATION ||
              gc == U_END_PUNCTUATION || gc == U_INITIAL_PUNCTUATION ||
              gc == U_FINAL_PUNCTUATION || gc == U_OTHER_PUNCTUATION || gc == U_MATH_SYMBOL ||
              gc == U_CURRENCY_SYMBOL || gc == U_MODIFIER_SYMBOL || gc == U_OTHER_SYMBOL))
        cls = C_OTHER;
    tk->ctab[cp] = (uint8_t)(cls + 1);
    return cls;
}

/* The word rules over the code points of normalised text.  1: tokens
 * found; 0: a code point of no known class (nothing pushed); negative: out
 * of memory. */
static int class_words(st_tokenizer *tk, const char *s, size_t n, size_t *ntok)
{
    if (!tk->ctab && !(tk->ctab = calloc(NT_LIMIT, 1)))
        return STANCE_ERR_NOMEM;
    if (reserve_classes(tk, n))
        return STANCE_ERR_NOMEM;
    /* classes and byte offsets of the code points; off[m] is the end */
    const unsigned char *u = (const unsigned char *)s;
    size_t m = 0;
    for (size_t i = 0; i < n; m++) {
        int32_t cp;
        size_t w;
        if (u[i] < 0x80) {
            cp = u[i];
            w = 1;
        } else {
            utf8proc_int32_t c;
            utf8proc_ssize_t r =
                utf8proc_iterate(u + i, (utf8proc_ssize_t)(n - i < 4 ? n - i : 4), &c);
            if (r <= 0)
                return 0;
            cp = c;
            w = (size_t)r;
        }
        int k = uclass(tk, cp);
        if (k == C_NONE)
            return 0;
        tk->cls[m] = (uint8_t)k;
        tk->off[m] = (uint32_t)i;
        i += w;
    }
    tk->off[m] = (uint32_t)n;
    if (words_by_class(tk, s, tk->cls, tk->off, m, ntok))
        return STANCE_ERR_NOMEM;
    return 1;
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
    if (!tk->icu_only) {
        size_t n = 0;
        int r = class_words(tk, tk->norm, tk->norm_len, &n);
        if (r < 0)
            return st_error(err, STANCE_ERR_NOMEM, "out of memory");
        if (r > 0) {
            tk->class_words++;
            *tokens = tk->tok;
            *tok_len = tk->tok_len;
            *ntok = n;
            return STANCE_OK;
        }
    }
    UErrorCode st = U_ZERO_ERROR;
    if (!tk->bi) {
        tk->bi = ubrk_open(UBRK_WORD, "", NULL, 0, &st);
        if (U_FAILURE(st)) {
            tk->bi = NULL;
            return st_error(err, STANCE_ERR_ICU, "ICU word break iterator: %s",
                            u_errorName(st));
        }
    }
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
