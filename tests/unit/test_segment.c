/* test_segment.c - text and sentence stages: UTF-8 repair, ICU sentence
 * segmentation with abbreviation suppressions, line handling, offsets. */
#include "internal.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static stance_session *S;

/* Segment and return the sentences joined by '|'. */
static char *seg(const char *text, unsigned flags)
{
    static char out[8192];
    const stance_result *r;
    stance_error err = {0};
    out[0] = '\0';
    if (stance_segment(S, text, strlen(text), flags, &r, &err) != STANCE_OK)
        return strcpy(out, "ERROR");
    size_t o = 0;
    for (size_t i = 0; i < r->n; i++) {
        size_t n = r->sentences[i].end - r->sentences[i].start;
        if (i)
            out[o++] = '|';
        memcpy(out + o, text + r->sentences[i].start, n);
        o += n;
    }
    out[o] = '\0';
    return out;
}

static void test_utf8(void)
{
    char dst[64];
    uint32_t map[64];
    size_t bad;
    int nul;
    /* valid text passes through unchanged */
    size_t n = st_utf8_repair("caf\xc3\xa9", 5, dst, map, &bad, &nul);
    CHECK_INT(n, 5);
    CHECK_INT(bad, 0);
    CHECK_STR(dst, "caf\xc3\xa9");
    /* a stray continuation byte, an overlong, a surrogate, a truncated tail */
    n = st_utf8_repair("a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xe2\x82", 12, dst, map, &bad, &nul);
    CHECK_INT(bad, 1 + 2 + 3 + 1);
    CHECK_STR(dst, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                   "d\xef\xbf\xbd");
    CHECK_INT(map[0], 0);
    CHECK_INT(map[1], 1);  /* the replacement maps to the bad byte */
    CHECK_INT(map[4], 2);  /* "b" */
    CHECK_INT(map[n], 12); /* one past the end */
    CHECK(!nul);
    st_utf8_repair("a\0b", 3, dst, map, &bad, &nul);
    CHECK(nul);
    CHECK(st_utf8_valid("\xd0\x9c\xd0\x98\xd0\x94", 6));
    CHECK(!st_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    CHECK(!st_utf8_valid("a\0", 2));
    /* where the first invalid sequence starts */
    CHECK_INT(stance_utf8_valid_prefix("caf\xc3\xa9", 5), 5);
    CHECK_INT(stance_utf8_valid_prefix("ab\xc3", 3), 2);          /* truncated tail */
    CHECK_INT(stance_utf8_valid_prefix("a\0b\xff", 4), 3);        /* NUL is valid here */
    CHECK_INT(stance_utf8_valid_prefix("\xed\xa0\x80", 3), 0);    /* a surrogate */
    CHECK_INT(stance_utf8_valid_prefix("", 0), 0);
    /* against the repair, on random bytes: the prefix repairs to itself
     * with nothing replaced, and what follows starts with a replacement */
    st_rng rng;
    st_rng_seed(&rng, 7);
    long agree = 0;
    for (int t = 0; t < 20000; t++) {
        char in[16], out[3 * 16 + 1];
        size_t len = (size_t)st_rng_below(&rng, 17);
        for (size_t i = 0; i < len; i++) {
            uint64_t r = st_rng_next(&rng);
            /* mostly ASCII and lead/continuation bytes of real letters */
            in[i] = (char)(r % 4 == 0 ? 0x80 + (r >> 8) % 0x80 : r % 4 == 1 ? 0xC2 + (r >> 8) % 0x34
                                                                            : 'a' + (r >> 8) % 26);
        }
        size_t p = stance_utf8_valid_prefix(in, len), nbad = 0;
        size_t m = stance_utf8_repair(in, p, out, &nbad);
        int ok = m == p && nbad == 0 && memcmp(in, out, p) == 0;
        if (p < len) {
            stance_utf8_repair(in + p, len - p, out, &nbad);
            ok = ok && nbad >= 1 && memcmp(out, "\xef\xbf\xbd", 3) == 0;
        }
        agree += ok;
    }
    CHECK_INT(agree, 20000);
}

static void test_seed_article(void)
{
    char *text = NULL;
    size_t len = 0;
    stance_error err = {0};
    int rc = stance_read_file("corpus/seed/article.txt", 0, &text, &len, &err);
    if (!CHECK_MSG(rc == STANCE_OK, "read seed: %s", err.msg))
        return;
    const stance_result *r;
    rc = stance_segment(S, text, len, 0, &r, &err);
    CHECK_INT(rc, STANCE_OK);
    /* the title, the date line and exactly 19 body sentences */
    CHECK_INT(r->n, 21);
    if (r->n == 21) {
        CHECK(strncmp(text + r->sentences[0].start, "Why Russia Has Remained", 23) == 0);
        CHECK(strncmp(text + r->sentences[1].start, "January 8, 2026", r->sentences[1].end - r->sentences[1].start) == 0);
        CHECK(strncmp(text + r->sentences[2].start, "In a dramatic turn", 18) == 0);
        /* "U.S. special forces" stays inside sentence 2 */
        const char *us = strstr(text, "U.S. special forces");
        CHECK((size_t)(us - text) > r->sentences[2].start && (size_t)(us - text) < r->sentences[2].end);
        CHECK(strncmp(text + r->sentences[20].start, "As events unfold", 16) == 0);
        CHECK_INT(r->sentences[20].end, len - (text[len - 1] == '\n'));
    }
    /* offsets are increasing and never cut a UTF-8 sequence */
    for (size_t i = 0; i < r->n; i++) {
        CHECK(r->sentences[i].start < r->sentences[i].end);
        CHECK(i == 0 || r->sentences[i].start >= r->sentences[i - 1].end);
        CHECK(((unsigned char)text[r->sentences[i].start] & 0xC0) != 0x80);
    }
    free(text);
}

static void test_abbreviations(void)
{
    CHECK_STR(seg("Mr. Lavrov spoke. He left.", 0), "Mr. Lavrov spoke.|He left.");
    CHECK_STR(seg("U.S. forces landed. Nobody fired.", 0), "U.S. forces landed.|Nobody fired.");
    CHECK_STR(seg("El Sr. Maduro fue capturado. La Sra. Flores también.", 0),
              "El Sr. Maduro fue capturado.|La Sra. Flores también.");
    CHECK_STR(seg("Lo dijo EE. UU. ayer. Nadie respondió.", 0),
              "Lo dijo EE. UU. ayer.|Nadie respondió.");
    /* "UU." may end a sentence */
    CHECK_STR(seg("Fue capturado por EE. UU. La Cancillería calló.", 0),
              "Fue capturado por EE. UU.|La Cancillería calló.");
    CHECK_STR(seg("В 2026 г. США провели рейд. Москва промолчала.", 0),
              "В 2026 г. США провели рейд.|Москва промолчала.");
    CHECK_STR(seg("Это т.е. Россия. Всё.", 0), "Это т.е. Россия.|Всё.");
    /* a no-break space after an abbreviation is a space */
    CHECK_STR(seg("El Sr.\xc2\xa0García llegó. Nadie lo esperaba.", 0),
              "El Sr.\xc2\xa0García llegó.|Nadie lo esperaba.");
    CHECK_STR(seg("Mr.\xc2\xa0Lavrov arrived. Talks began.", 0), "Mr.\xc2\xa0Lavrov arrived.|Talks began.");
    /* initials, bloc abbreviations before a capital, list numbers */
    CHECK_STR(seg("U.S. Secretary of State Antony J. Blinken condemned the strike. The E.U. "
                  "Commission agreed.", 0),
              "U.S. Secretary of State Antony J. Blinken condemned the strike.|The E.U. "
              "Commission agreed.");
    CHECK_STR(seg("Президент В. В. Путин подписал указ. Указ вступает в силу.", 0),
              "Президент В. В. Путин подписал указ.|Указ вступает в силу.");
    CHECK_STR(seg("1. The ministry condemned the strike.\n2. Beijing called for calm.", 0),
              "1. The ministry condemned the strike.|2. Beijing called for calm.");
    CHECK_STR(seg("The vote was 14 to 1. The resolution passed.", 0),
              "The vote was 14 to 1.|The resolution passed.");
    /* a capital letter that ends a sentence is no initial when a common
     * opener follows */
    CHECK_STR(seg("After World War I. The treaty was signed.", 0),
              "After World War I.|The treaty was signed.");
    CHECK_STR(seg("La reunión fue en el Grupo C. Luego hablaron.", 0),
              "La reunión fue en el Grupo C.|Luego hablaron.");
    CHECK_STR(seg("Министр С. Лавров заявил о протесте.", 0), "Министр С. Лавров заявил о протесте.");
    /* a number after a question is not a list mark */
    CHECK(strcmp(seg("How many? 15. All were journalists.", 0),
                 "How many?|15. All were journalists.") != 0);
    /* a line separator still ends a sentence after an abbreviation */
    CHECK_STR(seg("He met the Sr.\xe2\x80\xa8Then he left.", 0), "He met the Sr.|Then he left.");
    /* an abbreviation at the end of a line still ends the sentence */
    CHECK_STR(seg("He met the Sr.\nThen he left.", 0), "He met the Sr.|Then he left.");
    /* ranks; times of day go on before a weekday, a time zone or "X time",
     * and end the sentence before anything else with a capital */
    CHECK_STR(seg("The spokesman, Brig. Gen. Pat Ryder, declined to comment. Talks went on.", 0),
              "The spokesman, Brig. Gen. Pat Ryder, declined to comment.|Talks went on.");
    CHECK_STR(seg("Officials met at 9 a.m. Monday to discuss the plan. It failed.", 0),
              "Officials met at 9 a.m. Monday to discuss the plan.|It failed.");
    CHECK_STR(seg("Voting closes at 8 p.m. GMT on Sunday. Counting starts then.", 0),
              "Voting closes at 8 p.m. GMT on Sunday.|Counting starts then.");
    CHECK_STR(seg("The envoy lands at 10 a.m. Moscow time. He will go straight in.", 0),
              "The envoy lands at 10 a.m. Moscow time.|He will go straight in.");
    CHECK_STR(seg("The talks ended at 9 p.m. The minister left.", 0),
              "The talks ended at 9 p.m.|The minister left.");
    CHECK_STR(seg("They ended at 9 p.m. Moscow said nothing.", 0),
              "They ended at 9 p.m.|Moscow said nothing.");
}

/* An ellipsis character ends a sentence where three full stops would. */
static void test_ellipsis(void)
{
    CHECK_STR(seg("The talks collapsed\xe2\x80\xa6 The minister left.", 0),
              "The talks collapsed\xe2\x80\xa6|The minister left.");
    CHECK_STR(seg("He said: \"We will see\xe2\x80\xa6\" Then he left.", 0),
              "He said: \"We will see\xe2\x80\xa6\"|Then he left.");
    CHECK_STR(seg("We will see\xe2\x80\xa6 and then decide.", 0),
              "We will see\xe2\x80\xa6 and then decide.");
    CHECK_STR(seg("\xd0\x9c\xd1\x8b \xd0\xbf\xd0\xbe\xd0\xb4\xd0\xbe\xd0\xb6\xd0\xb4\xd1\x91\xd0\xbc"
                  "\xe2\x80\xa6 \xd0\x9d\xd0\xbe \xd0\xbd\xd0\xb5\xd0\xb4\xd0\xbe\xd0\xbb\xd0\xb3\xd0\xbe.", 0),
              "\xd0\x9c\xd1\x8b \xd0\xbf\xd0\xbe\xd0\xb4\xd0\xbe\xd0\xb6\xd0\xb4\xd1\x91\xd0\xbc\xe2\x80\xa6|"
              "\xd0\x9d\xd0\xbe \xd0\xbd\xd0\xb5\xd0\xb4\xd0\xbe\xd0\xbb\xd0\xb3\xd0\xbe.");
    /* other characters that start with the same byte change nothing */
    CHECK_STR(seg("He said \xe2\x80\x9cno\xe2\x80\x9d and left. Then\xe2\x80\x94silence.", 0),
              "He said \xe2\x80\x9cno\xe2\x80\x9d and left.|Then\xe2\x80\x94silence.");
    /* whatever the text around it, U+2026 splits exactly as "..." does:
     * random mixes of words, capitals, ellipses, dots, quotes, spaces and
     * line breaks, segmented as written and with every U+2026 as "..." */
    static const char *const piece[] = {
        "word", "Word", "\xd0\x9d\xd0\xbe", "\xd0\xbd\xd0\xbe", "\xe2\x80\xa6", "\xe2\x80\xa6",
        "...", ".", "?", "!", "\"", "\xe2\x80\x9d", ")", " ", " ", " ", "\n", "12", "Mr.", "U.S.",
        "Sr.", "A.", ",", "\xc2\xa0", "\xe2\x80\x94"};
    const size_t npiece = sizeof piece / sizeof *piece;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int same = 1;
    for (int round = 0; round < 20000 && same; round++) {
        char a[512], b[512];
        size_t la = 0, lb = 0;
        int parts = 1 + (int)((x >> 33) % 24);
        for (int k = 0; k < parts; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char *pc = piece[(x >> 20) % npiece];
            size_t n = strlen(pc);
            memcpy(a + la, pc, n);
            la += n;
            const char *pb = strcmp(pc, "\xe2\x80\xa6") ? pc : "...";
            memcpy(b + lb, pb, n);
            lb += n;
        }
        const stance_result *ra, *rb;
        stance_error err = {0};
        size_t na = 0, sa[64][2];
        if (stance_segment(S, a, la, 0, &ra, &err) != STANCE_OK) {
            same = 0;
            break;
        }
        for (size_t i = 0; i < ra->n && i < 64; i++)
            sa[i][0] = ra->sentences[i].start, sa[i][1] = ra->sentences[i].end;
        na = ra->n;
        if (stance_segment(S, b, lb, 0, &rb, &err) != STANCE_OK || rb->n != na) {
            fprintf(stderr, "ellipsis and dots split differently: \"%.*s\"\n", (int)la, a);
            same = 0;
            break;
        }
        for (size_t i = 0; i < na && i < 64; i++)
            if (rb->sentences[i].start != sa[i][0] || rb->sentences[i].end != sa[i][1])
                same = 0;
        if (!same)
            fprintf(stderr, "ellipsis and dots split differently: \"%.*s\"\n", (int)la, a);
    }
    CHECK(same);
}

static void test_lines(void)
{
    /* one sentence per line works without punctuation */
    CHECK_STR(seg("first line\nsecond line\n\nthird", 0), "first line|second line|third");
    /* --wrapped joins single line breaks, keeps paragraphs */
    CHECK_STR(seg("A long sentence\nwrapped here. Next one.\n\nNew paragraph", STANCE_WRAPPED),
              "A long sentence\nwrapped here.|Next one.|New paragraph");
    /* ... but not before a list item, numbered or bulleted, which starts a
     * sentence; a year at the start of a line is no list number */
    CHECK_STR(seg("Intro.\n1. First item.\n2. Second item.\n12) Twelfth.", STANCE_WRAPPED),
              "Intro.|1. First item.|2. Second item.|12) Twelfth.");
    CHECK_STR(seg("The steps:\n- talks\n* calm\n\xe2\x80\xa2 trade ties that\ngo on", STANCE_WRAPPED),
              "The steps:|- talks|* calm|\xe2\x80\xa2 trade ties that\ngo on");
    CHECK_STR(seg("The accord was signed in\n2015. The ministry said so.", STANCE_WRAPPED),
              "The accord was signed in\n2015.|The ministry said so.");
    CHECK_STR(seg("   \n\t\n  ", 0), "");
    CHECK_STR(seg("", 0), "");
    CHECK_STR(seg("  Padded.  ", 0), "Padded.");
    CHECK_STR(seg("Crlf line\r\nnext", 0), "Crlf line|next");
}

static void test_offsets_with_repair(void)
{
    /* invalid bytes are replaced in the copy, offsets stay in the original */
    const char *t = "Bad \xff byte here. Second \xc3 one.";
    const stance_result *r;
    stance_error err = {0};
    CHECK_INT(stance_segment(S, t, strlen(t), 0, &r, &err), STANCE_OK);
    CHECK_INT(r->n, 2);
    CHECK_INT(r->invalid_utf8, 2);
    if (r->n == 2) {
        CHECK_INT(r->sentences[0].start, 0);
        CHECK_INT(r->sentences[0].end, 16);
        CHECK_INT(r->sentences[1].start, 17);
        CHECK_INT(r->sentences[1].end, strlen(t));
    }
    CHECK_INT(stance_segment(S, "a\0b", 3, 0, &r, &err), STANCE_ERR_BINARY);
}

int main(void)
{
    stance_error err = {0};
    if (stance_session_new(NULL, &S, &err)) {
        fprintf(stderr, "session: %s\n", err.msg);
        return 1;
    }
    test_utf8();
    test_seed_article();
    test_abbreviations();
    test_ellipsis();
    test_lines();
    test_offsets_with_repair();
    stance_session_free(S);
    return UNIT_REPORT("test_segment");
}
