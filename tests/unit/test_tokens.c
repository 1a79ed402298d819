/* test_tokens.c - normalisation and word tokens, and that the fast paths
 * (ASCII, and the code point tables) give exactly what utf8proc and ICU give. */
#include "internal.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static st_tokenizer *T;

static char *toks(const char *text)
{
    static char out[4096];
    const char *const *tok;
    const size_t *len;
    size_t n;
    stance_error err = {0};
    out[0] = '\0';
    if (st_tokenize(T, text, strlen(text), &tok, &len, &n, &err))
        return strcpy(out, "ERROR");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[o++] = ' ';
        memcpy(out + o, tok[i], len[i]);
        o += len[i];
    }
    out[o] = '\0';
    return out;
}

/* The ASCII fast path against ICU: same tokens, same order. */
static st_tokenizer *ICU;

static int same_tokens(const char *text, size_t len)
{
    const char *const *a, *const *b;
    const size_t *al, *bl;
    size_t na, nb;
    stance_error err = {0};
    if (st_tokenize(T, text, len, &a, &al, &na, &err) || st_tokenize(ICU, text, len, &b, &bl, &nb, &err))
        return 0;
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (al[i] != bl[i] || memcmp(a[i], b[i], al[i]) != 0)
            return 0;
    return 1;
}

static void differential(void)
{
    stance_error err = {0};
    if (st_tokenizer_new(&ICU, &err))
        return;
    st_tokenizer_force_icu(ICU, 1);
    /* every sentence of the corpus */
    const char *files[] = {"corpus/seed.tsv", "corpus/en-americas.tsv", "corpus/en-europe.tsv",
                           "corpus/en-mideast-africa.tsv", "corpus/en-asia-pacific.tsv",
                           "corpus/es.tsv", "corpus/ru.tsv"};
    size_t checked = 0, differ = 0;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char *data = NULL;
        size_t len = 0;
        if (stance_read_file(files[f], 0, &data, &len, &err))
            continue;
        char *line = data;
        while (line && *line) {
            char *nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);
            const char *tab = line;
            for (int k = 0; k < 5 && tab; k++) {
                tab = memchr(tab, '\t', n - (size_t)(tab - line));
                if (tab)
                    tab++;
            }
            if (tab) {
                checked++;
                if (!same_tokens(tab, n - (size_t)(tab - line))) {
                    differ++;
                    CHECK_MSG(0, "fast path differs from ICU on: %.*s",
                              (int)(n - (size_t)(tab - line)), tab);
                }
            }
            line = nl ? nl + 1 : NULL;
        }
        free(data);
    }
    CHECK_MSG(checked > 5000, "only %zu corpus sentences checked", checked);
    /* tricky cases and random strings over the characters that matter */
    const char *tricky[] = {"_", "__", "a_", "_a", "1_", "1__", "__1", "a_1", "s:t a:b", "1:2",
                            "u.s. 1.5 a.1 1.a", "can't 'x' x'", "1,200;3 a,b", "a  b\tc",
                            "2nd a1 1a1", "a.b.c", "x..y", "1..2", "_._", "x'1", "1'2", "1.'2",
                            "ab12cd34", "_,_", "1_,2", "a.'b", "U.S.-led", "e.g.,", "3.5%",
                            "c\001c@", "a@b", "@", "@1", "x @ y", "press@mfa.gov.ru"};
    for (size_t i = 0; i < sizeof tricky / sizeof *tricky; i++)
        CHECK_MSG(same_tokens(tricky[i], strlen(tricky[i])), "fast path differs on '%s'",
                  tricky[i]);
    static const char alphabet[] = "ab1_.',;: -\"\t\nZ9";
    st_rng r;
    st_rng_seed(&r, 42);
    char buf[24];
    int bad = 0;
    for (int t = 0; t < 200000 && bad < 5; t++) {
        size_t n = 1 + st_rng_below(&r, sizeof buf - 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = alphabet[st_rng_below(&r, sizeof alphabet - 1)];
        if (!same_tokens(buf, n)) {
            bad++;
            CHECK_MSG(0, "fast path differs on random '%.*s'", (int)n, buf);
        }
    }
    CHECK(bad == 0);
    /* and over all of ASCII */
    bad = 0;
    for (int t = 0; t < 200000 && bad < 5; t++) {
        size_t n = 1 + st_rng_below(&r, sizeof buf - 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(1 + st_rng_below(&r, 127));
        if (!same_tokens(buf, n)) {
            bad++;
            CHECK_MSG(0, "fast path differs on random ASCII (%zu bytes)", n);
        }
    }
    CHECK(bad == 0);

    /* beyond ASCII: the sentences above must mostly have taken the table
     * paths, or this test proves nothing about them */
    size_t tn0 = 0, cw0 = 0;
    st_tokenizer_counts(T, &tn0, &cw0);
    CHECK_MSG(tn0 > 1000 && cw0 > 1000, "table paths taken %zu and %zu times", tn0, cw0);
    /* every code point of the table's range, alone and in contexts where
     * normalisation or word breaks could join it to its neighbours */
    static const char *ctx[][2] = {{"", ""},       {"a", "b"},   {"1", "2"},   {"x.", "y"},
                                   {"", "\xcc\x81"}, {"e", ""},    {"", "a"},    {"a'", "'b"},
                                   {"_", "_"},     {"\xce\xb1", "\xd0\xb6"}, {"a", "\xcd\x85"}};
    bad = 0;
    size_t tn1, cw1;
    for (int32_t cp = 0x80; cp < 0x2E80 && bad < 5; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        unsigned char u[4];
        utf8proc_ssize_t w = utf8proc_encode_char(cp, u);
        for (size_t c = 0; c < sizeof ctx / sizeof *ctx; c++) {
            char s[32];
            size_t a = strlen(ctx[c][0]), b = strlen(ctx[c][1]);
            memcpy(s, ctx[c][0], a);
            memcpy(s + a, u, (size_t)w);
            memcpy(s + a + (size_t)w, ctx[c][1], b);
            size_t n = a + (size_t)w + b;
            if (!same_tokens(s, n)) {
                bad++;
                CHECK_MSG(0, "fast paths differ on U+%04X in context %zu", (unsigned)cp, c);
            }
        }
    }
    CHECK(bad == 0);
    st_tokenizer_counts(T, &tn1, &cw1);
    CHECK_MSG(tn1 - tn0 > 20000 && cw1 - cw0 > 20000, "table paths taken %zu and %zu times",
              tn1 - tn0, cw1 - cw0);
    /* random strings over a mix of ASCII and the code points of our
     * languages, marks, joiners, digits and scripts the paths must leave to
     * ICU */
    static const int32_t pool[] = {
        'a', 'Z', '1', '_', '.', '\'', ',', ';', ':', ' ', '-', '"', '@', 0xE9, 0xC9, 0xF1,
        0xDF, 0xE7, 0xFC, 0xAA, 0xB2, 0xBC, 0xA0, 0xAD, 0xB7, 0xAB, 0xBB, 0x130, 0x131, 0x149,
        0x17F, 0x1C5, 0x301, 0x308, 0x327, 0x345, 0x386, 0x390, 0x3A3, 0x3C2, 0x3C3, 0x401,
        0x416, 0x436, 0x451, 0x419, 0x439, 0x306, 0x483, 0x5D0, 0x627, 0x660, 0x966, 0xE01,
        0x200B, 0x200C, 0x200D, 0x2010, 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2024,
        0x2026, 0x2027, 0x2044, 0x20AC, 0x2122, 0x2160, 0x2460, 0x3001, 0x4E2D, 0x30A2, 0xFB01,
        0xFF21, 0xFF0E, 0x1F600, 0x2028, 0x85, 0x1E9E, 0x1E9B, 0x2126, 0x212A, 0x1FBE};
    bad = 0;
    st_tokenizer_counts(T, &tn0, &cw0);
    for (int t = 0; t < 300000 && bad < 5; t++) {
        char s[16 * 4];
        size_t n = 0, m = 1 + st_rng_below(&r, 15);
        for (size_t i = 0; i < m; i++) {
            int32_t cp = pool[st_rng_below(&r, sizeof pool / sizeof *pool)];
            n += (size_t)utf8proc_encode_char(cp, (unsigned char *)s + n);
        }
        if (!same_tokens(s, n)) {
            bad++;
            CHECK_MSG(0, "fast paths differ on random '%.*s'", (int)n, s);
        }
    }
    CHECK(bad == 0);
    st_tokenizer_counts(T, &tn1, &cw1);
    CHECK_MSG(tn1 - tn0 > 10000 && cw1 - cw0 > 10000, "table paths taken %zu and %zu times",
              tn1 - tn0, cw1 - cw0);
    st_tokenizer_free(ICU);
}

int main(void)
{
    stance_error err = {0};
    if (st_tokenizer_new(&T, &err))
        return 1;
    CHECK_STR(toks("Russia CONDEMNED the raid, calling it \"illegal\"."),
              "russia condemned the raid calling it illegal");
    CHECK_STR(toks("U.S.-led order"), "u.s led order");
    CHECK_STR(toks("Maduro’s ouster"), toks("Maduro's ouster"));
    CHECK_STR(toks("Maduro’s ouster"), "maduro's ouster");
    CHECK_STR(toks("ﬁnal ＡＢＣ"), "final abc");              /* NFKC */
    CHECK_STR(toks("МИД РОССИИ осудил"), "мид россии осудил"); /* case folding */
    CHECK_STR(toks("Straße"), "strasse");
    CHECK_STR(toks("la Cancillería"), "la cancillería");
    CHECK_STR(toks("on 3 January 2026, 1,200 troops"), "on 3 january 2026 1,200 troops");
    CHECK_STR(toks("北京拒绝谴责"), toks("北京拒绝谴责")); /* ideographs kept */
    CHECK(strlen(toks("北京拒绝谴责")) > 0);
    CHECK_STR(toks("  ...  !!! "), "");
    CHECK_STR(toks("soft\xc2\xad" "hyphen"), "softhyphen"); /* default ignorable dropped */

    /* the ASCII fast path equals utf8proc's NFKC + case fold on every
     * printable ASCII character and on mixed strings */
    for (int c = 0x20; c < 0x7f; c++) {
        char s[2] = {(char)c, 0};
        utf8proc_uint8_t *ref = NULL;
        utf8proc_map((const utf8proc_uint8_t *)s, 1, &ref,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                         UTF8PROC_IGNORE | UTF8PROC_COMPOSE);
        char low = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        CHECK_MSG(ref && (unsigned char)ref[0] == (unsigned char)low && ref[1] == 0,
                  "ASCII 0x%02x normalises differently", c);
        free(ref);
    }
    /* the same sentence with one non-ASCII byte takes the utf8proc path */
    char a[256], b[256];
    strcpy(a, toks("The KREMLIN refrained from any Response, officials said"));
    strcpy(b, toks("The KREMLIN refrained from any Response, officials said \xc3\xa9"));
    CHECK(strncmp(a, b, strlen(a)) == 0);
    /* a hostile run of combining marks is cut at 30 (UAX #15 stream-safe),
     * so normalisation stays linear: 40,000 marks, one short token */
    {
        size_t n = 1 + 40000 * 2 + 2;
        char *comb = malloc(n + 1);
        comb[0] = 'a';
        for (size_t i = 0; i < 20000; i++)
            memcpy(comb + 1 + 4 * i, "\xcc\x81\xcc\x96", 4); /* U+0301 U+0316 */
        memcpy(comb + 1 + 80000, " b", 2);
        comb[n] = 0;
        const char *const *tok;
        const size_t *tl;
        size_t nt;
        stance_error e = {0};
        CHECK(st_tokenize(T, comb, n, &tok, &tl, &nt, &e) == 0);
        CHECK_INT(nt, 2);
        CHECK(nt >= 1 && tl[0] <= 1 + 30 * 2);
        free(comb);
        /* and runs that only appear in the decomposition, or hide behind
         * ignorable code points, are cut as well */
        const char *units[] = {"\xe0\xbd\xb3",                 /* U+0F73 -> two marks */
                               "\xcc\x81\xcc\x96\xc2\xad",    /* marks, soft hyphen */
                               "\xcc\x81\xef\xbe\x9e"};        /* mark, U+FF9E */
        for (size_t u = 0; u < 3; u++) {
            size_t ul = strlen(units[u]), reps = 30000;
            char *t = malloc(1 + ul * reps + 1);
            t[0] = 'a';
            for (size_t i = 0; i < reps; i++)
                memcpy(t + 1 + i * ul, units[u], ul);
            t[1 + ul * reps] = 0;
            /* what reached normalisation is the letter and at most 30 marks
             * of at most 3 bytes: the cap worked (uncapped, it takes minutes) */
            CHECK(st_tokenize(T, t, 1 + ul * reps, &tok, &tl, &nt, &e) == 0);
            CHECK_MSG(nt == 1 && tl[0] <= 1 + 30 * 3, "run %zu: %zu tokens, first of %zu bytes",
                      u, nt, nt ? tl[0] : 0);
            free(t);
        }
    }
    differential();
    st_tokenizer_free(T);
    return UNIT_REPORT("test_tokens");
}
