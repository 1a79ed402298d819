/* segment.c - the second stage: valid UTF-8 -> sentence spans.
 *
 * ICU's sentence break iterator runs directly over the UTF-8 bytes through a
 * UText (no UTF-16 copy of the document), with CLDR's English abbreviation
 * suppressions ("en@ss=standard": "U.S. forces", "Mr. Lavrov").  CLDR ships
 * no suppressions that cover Spanish and Russian press abbreviations well
 * ("EE. UU.", "Sr.", "г.", "т.е."), so a small table of our own is applied on
 * top: a break right after one of those tokens is not a sentence end unless
 * a line break separates them.
 *
 * An ellipsis character (U+2026) is three full stops to the reader, but not
 * to UAX #29, which gives it no sentence-break class: "The talks
 * failed... The minister left" is two sentences to ICU and "The talks
 * failed… The minister left" one.  ICU is given a copy of a document that
 * has one, with each U+2026 written as "..." (the same three bytes, so every
 * offset holds), and so treats both alike. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>
#include <unicode/utext.h>

struct st_segmenter {
    UBreakIterator *bi;
    UText *ut;
    st_span *spans;
    size_t cap;
    char *dots;       /* a document with its ellipses as "..." */
    size_t dots_cap;
};

/* Abbreviations (with their final dot) that do not end a sentence, besides
 * initials and list numbers (see suppressed()).  The price of "U.S." here
 * is a missed break in "... sanctions on the U.S. The ministry ...", rarer
 * in diplomatic text than "U.S. Secretary of State".  Case
 * matters: "Sr." is an abbreviation, "SR." at the end of a sentence is not
 * ours to guess.  "EE." is here but "UU." is not: "EE. UU." ends Spanish
 * sentences as often as it opens a name ("EE. UU. Donald Trump"), and ICU
 * does not break before a lower-case word anyway. */
static const char *const abbreviations[] = {
    /* Spanish */
    "Sr.", "Sra.", "Srta.", "Sres.", "Sras.", "Dr.", "Dra.", "Lic.", "Ing.", "Arq.", "Gral.",
    "Cnel.", "Tte.", "Cap.", "Excmo.", "Excma.", "Ilmo.", "Ilma.", "Av.", "Avda.", "núm.",
    "Núm.", "pág.", "págs.", "aprox.", "EE.", "Ud.", "Uds.", "Vd.", "Vds.", "ej.",
    "Dña.", "Dª.", "Mons.", "Pdte.", "Vda.", "art.", "Art.", "inc.", "col.", "Sto.", "Sta.",
    /* Russian */
    "г.", "гг.", "т.е.", "т.к.", "т.н.", "т.д.", "т.п.", "им.", "ул.", "д.", "св.", "др.",
    "пр.", "стр.", "см.", "ст.", "тыс.", "млн.", "млрд.", "руб.", "долл.", "ок.", "вв.",
    "н.э.", "т.", "г-н.", "гос.", "зам.", "ген.", "проф.", "акад.", "обл.", "р-н.", "пос.",
    "напр.", "англ.", "рус.", "Г.", "Т.е.", "Им.", "Ул.", "Св.", "См.", "Ст.",
    /* English ones ICU's list lacks */
    "Gen.", "Lt.", "Col.", "Sgt.", "Capt.", "Adm.", "Sen.", "Rep.", "Gov.", "Amb.", "Hon.",
    "Rev.", "approx.", "No.", "Nos.", "vs.", "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.",
    "Aug.", "Sep.", "Sept.", "Oct.", "Nov.", "Dec.", "Mt.", "St.", "Ft.", "Jr.", "Sr.", "Messrs.",
    "Brig.", "Maj.", "Cmdr.", "Cpl.", "Pvt.", "Supt.", "Sens.", "Reps.", "Govs.", "Dept.",
    /* ICU has these, but only before an ordinary space; and the country
     * and bloc abbreviations that open so many diplomatic sentences */
    "Mr.", "Mrs.", "Ms.", "Prof.", "U.S.", "U.K.", "E.U.", "U.N.", "U.S.A.", "U.S.S.R.",
};

static int is_space_at(const unsigned char *s, size_t len, size_t i, size_t *w)
{
    unsigned char c = s[i];
    *w = 1;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
        return 1;
    if (c == 0xC2 && i + 1 < len && (s[i + 1] == 0xA0 || s[i + 1] == 0x85)) {
        *w = 2;
        return 1;
    }
    if (c == 0xE2 && i + 2 < len && s[i + 1] == 0x80 &&
        ((s[i + 2] >= 0x80 && s[i + 2] <= 0x8A) || s[i + 2] == 0xA8 || s[i + 2] == 0xA9 ||
         s[i + 2] == 0xAF)) {
        *w = 3;
        return 1;
    }
    if (c == 0xE3 && i + 2 < len && s[i + 1] == 0x80 && s[i + 2] == 0x80) {
        *w = 3;
        return 1;
    }
    /* U+FEFF, a byte order mark at the start of a file, is trimmed too */
    if (c == 0xEF && i + 2 < len && s[i + 1] == 0xBB && s[i + 2] == 0xBF) {
        *w = 3;
        return 1;
    }
    return 0;
}

/* Is byte i the last byte of a white-space character?  Returns its width. */
static size_t space_before(const unsigned char *s, size_t i)
{
    if (i == 0)
        return 0;
    unsigned char c = s[i - 1];
    size_t w;
    if (c < 0x80)
        return is_space_at(s, i, i - 1, &w) ? 1 : 0;
    if (i >= 2 && is_space_at(s, i, i - 2, &w) && w == 2)
        return 2;
    if (i >= 3 && is_space_at(s, i, i - 3, &w) && w == 3)
        return 3;
    return 0;
}

static void trim(const char *text, size_t len, size_t *start, size_t *end)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t w;
    while (*start < *end && is_space_at(s, len, *start, &w))
        *start += w;
    while (*end > *start && (w = space_before(s, *end)) > 0)
        *end -= w;
}

/* Words that open sentences far more often than they follow an initial:
 * "World War I. The treaty", "Plan B. It failed", "Grupo C. Luego". */
static const char *const openers[] = {
    "The", "A", "An", "It", "Its", "He", "She", "They", "We", "I", "You", "This", "That",
    "These", "Those", "There", "In", "On", "At", "But", "And", "Or", "So", "As", "For", "With",
    "After", "Before", "When", "While", "If", "His", "Her", "Their", "Our", "No", "Yes", "Not",
    "El", "La", "Los", "Las", "Un", "Una", "Luego", "Pero", "Y", "En", "Con", "Por", "Para",
    "Sin", "Tras", "Este", "Esta", "Eso", "Esto", "Ese", "Esa", "Sí", "Según", "Además",
    "Но", "И", "Это", "Он", "Она", "Они", "Мы", "По", "После", "Однако", "Так", "Как", "Не",
    "На", "Тем",
};

/* Does the word at b open a new sentence rather than continue a name after
 * an initial?  Another initial ("В. В. Путин") continues it; a common
 * sentence opener does not. */
static int opens_sentence(const char *text, size_t len, size_t b)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t w = b;
    /* the word: letters, by code point ("Но" ends before "…" or "—") */
    while (w < len) {
        if (s[w] < 0x80) {
            if (!((s[w] >= 'A' && s[w] <= 'Z') || (s[w] >= 'a' && s[w] <= 'z')))
                break;
            w++;
            continue;
        }
        UChar32 c;
        int32_t i = 0, n8 = len - w < 4 ? (int32_t)(len - w) : 4;
        U8_NEXT(s + w, i, n8, c);
        if (c < 0 || !u_isalpha(c))
            break;
        w += (size_t)i;
    }
    size_t n = w - b;
    if (n == 0)
        return 0;
    if (w < len && s[w] == '.' && (n == 1 || (n == 2 && s[b] >= 0x80)))
        return 0; /* another initial */
    for (size_t i = 0; i < sizeof openers / sizeof *openers; i++)
        if (strlen(openers[i]) == n && memcmp(openers[i], text + b, n) == 0)
            return 1;
    return 0;
}

/* Words after which "a.m." and "p.m." go on with the sentence: "at 9 a.m.
 * Monday", "at 10 p.m. GMT".  Before any other capital the time ends it
 * ("The talks ended at 9 p.m. The minister left."). */
static const char *const after_time[] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "GMT", "UTC",
    "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT", "ET", "CT", "PT", "CET", "CEST",
    "BST", "MSK", "IST", "JST", "KST",
};

/* Does the word at b continue a time of day ("9 a.m. Monday", "9 a.m.
 * Moscow time")? */
static int continues_time(const char *text, size_t len, size_t b)
{
    size_t w = b;
    while (w < len && ((text[w] >= 'A' && text[w] <= 'Z') || (text[w] >= 'a' && text[w] <= 'z')))
        w++;
    for (size_t i = 0; i < sizeof after_time / sizeof *after_time; i++)
        if (strlen(after_time[i]) == w - b && memcmp(after_time[i], text + b, w - b) == 0)
            return 1;
    /* "Moscow time", "Beijing time" */
    return w > b && w + 5 <= len && memcmp(text + w, " time", 5) == 0 &&
           (w + 5 == len || !((text[w + 5] >= 'a' && text[w + 5] <= 'z')));
}

/* Does the candidate break at b follow one of our abbreviations on the same
 * line? */
static int suppressed(const char *text, size_t len, size_t seg_start, size_t b)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t e = b, w;
    while (e > seg_start && (w = space_before(s, e)) > 0) {
        /* a line or paragraph break always ends the sentence: LF, CR, FF,
         * NEL (C2 85), LINE and PARAGRAPH SEPARATOR (E2 80 A8/A9); a
         * no-break space is a space like any other */
        if (s[e - 1] == '\n' || s[e - 1] == '\r' || s[e - 1] == '\f' ||
            (w == 2 && s[e - 1] == 0x85) || (w == 3 && (s[e - 1] == 0xA8 || s[e - 1] == 0xA9)))
            return 0;
        e -= w;
    }
    if (e == seg_start || s[e - 1] != '.')
        return 0;
    size_t t = e;
    while (t > seg_start && !space_before(s, t))
        t--;
    /* skip opening punctuation glued to the word */
    while (t < e && (s[t] == '(' || s[t] == '"' || s[t] == '[' || s[t] == '\''))
        t++;
    if (t < e && s[t] == 0xC2 && t + 1 < e && s[t + 1] == 0xAB) /* « */
        t += 2;
    size_t n = e - t;
    /* an initial: one capital letter (Latin, Latin-1 or Cyrillic) and its
     * dot, as in "Antony J. Blinken" or "В. В. Путин" */
    if ((n == 2 && s[t] >= 'A' && s[t] <= 'Z') ||
        (n == 3 && s[t] == 0xD0 && ((s[t + 1] >= 0x90 && s[t + 1] <= 0xAF) || s[t + 1] == 0x81)) ||
        (n == 3 && s[t] == 0xC3 && s[t + 1] >= 0x80 && s[t + 1] <= 0x9E && s[t + 1] != 0x97))
        return !opens_sentence(text, len, b);
    /* a list number at the start of its line: "1. The ministry ..." */
    if (n >= 2 && n <= 4) {
        size_t d = t;
        while (d < e - 1 && s[d] >= '0' && s[d] <= '9')
            d++;
        if (d == e - 1) {
            /* only at the start of a line: after "detained? 15." the number
             * is an answer, not a list mark */
            size_t q = t;
            while (q > 0 && space_before(s, q) && s[q - 1] != '\n' && s[q - 1] != '\r')
                q -= space_before(s, q);
            if (q == 0 || s[q - 1] == '\n' || s[q - 1] == '\r')
                return 1;
        }
    }
    if (n == 4 && (s[t] == 'a' || s[t] == 'p') && memcmp(text + t + 1, ".m.", 3) == 0)
        return continues_time(text, len, b);
    if (n > 16)
        return 0; /* longer than every entry */
    for (size_t i = 0; i < sizeof abbreviations / sizeof *abbreviations; i++) {
        const char *a = abbreviations[i];
        /* the first byte rules out nearly every entry */
        if (a[0] == text[t] && strlen(a) == n && memcmp(a, text + t, n) == 0)
            return 1;
    }
    (void)len;
    return 0;
}

int st_segmenter_new(st_segmenter **out, stance_error *err)
{
    *out = NULL;
    st_segmenter *sg = calloc(1, sizeof *sg);
    if (!sg)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    UErrorCode st = U_ZERO_ERROR;
    sg->bi = ubrk_open(UBRK_SENTENCE, "en@ss=standard", NULL, 0, &st);
    if (U_FAILURE(st)) {
        st_segmenter_free(sg);
        return st_error(err, STANCE_ERR_ICU, "ICU sentence break iterator: %s", u_errorName(st));
    }
    *out = sg;
    return STANCE_OK;
}

void st_segmenter_free(st_segmenter *sg)
{
    if (!sg)
        return;
    if (sg->bi)
        ubrk_close(sg->bi);
    if (sg->ut)
        utext_close(sg->ut);
    free(sg->spans);
    free(sg->dots);
    free(sg);
}

static int push(st_segmenter *sg, size_t *n, size_t start, size_t end)
{
    if (*n == sg->cap) {
        size_t cap = sg->cap ? sg->cap * 2 : 64;
        st_span *p = realloc(sg->spans, cap * sizeof *p);
        if (!p)
            return STANCE_ERR_NOMEM;
        sg->spans = p;
        sg->cap = cap;
    }
    sg->spans[(*n)++] = (st_span){start, end};
    return STANCE_OK;
}

#define ELLIPSIS "\xe2\x80\xa6"

/* The first U+2026 in text, or NULL. */
static const char *find_ellipsis(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (end - p >= 3 && (p = memchr(p, 0xe2, (size_t)(end - p - 2))) != NULL) {
        if (memcmp(p, ELLIPSIS, 3) == 0)
            return p;
        p++;
    }
    return NULL;
}

/* The text ICU reads: text itself, or a copy in sg->dots with every U+2026
 * as "..."; NULL without memory. */
static const char *text_for_icu(st_segmenter *sg, const char *text, size_t len)
{
    const char *e = find_ellipsis(text, len);
    if (!e)
        return text;
    if (st_scratch(&sg->dots, &sg->dots_cap, len, (size_t)1 << 20))
        return NULL;
    memcpy(sg->dots, text, len);
    for (; e; e = find_ellipsis(e + 3, len - (size_t)(e + 3 - text)))
        memcpy(sg->dots + (e - text), "...", 3);
    return sg->dots;
}

int st_segment(st_segmenter *sg, const char *text, size_t len, int wrapped,
               const st_span **spans, size_t *nspans, stance_error *err)
{
    *spans = NULL;
    *nspans = 0;
    if (len > INT32_MAX)
        return st_error(err, STANCE_ERR_TOOBIG, "document of %zu bytes is over the 2 GiB limit",
                        len);
    (void)wrapped; /* the caller has already turned single line breaks into spaces */
    /* a huge document's spans are given back before a small one (no span
     * is shorter than 2 bytes) */
    if (sg->cap > 65536 && len / 2 < sg->cap / 4) {
        free(sg->spans);
        sg->spans = NULL;
        sg->cap = 0;
    }
    const char *icu_text = text_for_icu(sg, text, len);
    if (!icu_text)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    UErrorCode st = U_ZERO_ERROR;
    sg->ut = utext_openUTF8(sg->ut, icu_text, (int64_t)len, &st);
    ubrk_setUText(sg->bi, sg->ut, &st);
    if (U_FAILURE(st))
        return st_error(err, STANCE_ERR_ICU, "ICU sentence segmentation: %s", u_errorName(st));
    size_t n = 0;
    size_t start = 0;
    int32_t b;
    ubrk_first(sg->bi);
    while ((b = ubrk_next(sg->bi)) != UBRK_DONE) {
        size_t end = (size_t)b;
        if (end < len && suppressed(text, len, start, end))
            continue;
        size_t s0 = start, e0 = end;
        trim(text, len, &s0, &e0);
        if (e0 > s0 && push(sg, &n, s0, e0))
            return st_error(err, STANCE_ERR_NOMEM, "out of memory");
        start = end;
    }
    *spans = sg->spans;
    *nspans = n;
    return STANCE_OK;
}
