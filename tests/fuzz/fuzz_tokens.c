/* fuzz_tokens.c - libFuzzer target for the tokenizer (NFKC + case folding,
 * ICU word segments) through stance_tokens.
 *
 *   make fuzz                      (builds build-fuzz/fuzz_tokens)
 *   build-fuzz/fuzz_tokens -max_len=65536 WORK_DIR tests/fuzz/seeds/fuzz_tokens
 *
 * (by hand: clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined
 * -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc/lib
 * $(pkg-config --cflags icu-uc libutf8proc) tests/fuzz/fuzz_tokens.c
 * $(find src/lib -name '*.c') -lsvm -llinear
 * $(pkg-config --libs icu-uc icu-i18n libutf8proc zlib) -lm -lpthread)
 *
 * The input is one sentence, as bytes.  Any violation of these aborts:
 *
 *   - input that is not valid UTF-8, or has a NUL byte, is STANCE_ERR_FORMAT
 *     with a filled error record and no output; valid input is STANCE_OK;
 *   - the output is valid UTF-8: tokens separated by single spaces, none
 *     empty (no leading, trailing or doubled space) and none containing
 *     white space (Unicode White_Space: ASCII controls, U+0085, Z*);
 *   - idempotence: tokenising the output again gives the output;
 *   - tokenising the same input twice gives the same output.
 */
#include "oracle.h"
#include "stance.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Any code point from U+2E80 (CJK radicals, kana, ideographs, Hangul and
 * the compatibility forms above them) or Thai, Lao, Khmer and Myanmar. */
static int has_dictionary_script(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0xE3 && *p <= 0xEF && *p != 0xEF)
            return 1;                                  /* U+3000..U+EFFF */
        if (*p == 0xE2 && (p[1] & 0x3F) >= 0x3A)
            return 1;                                  /* U+2E80..U+2FFF */
        if (*p == 0xEF && p[1] >= 0xA4 && p[1] <= 0xAB)
            return 1;                                  /* CJK compatibility U+F900.. */
        if (*p == 0xE0 && p[1] >= 0xB8 && p[1] <= 0xBF)
            return 1;                                  /* Thai .. Tibetan */
        if (*p == 0xE1 && p[1] >= 0x80 && p[1] <= 0x9F)
            return 1;                                  /* Myanmar, Khmer... */
        if (*p >= 0xF0)
            return 1;                                  /* supplementary ideographs */
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static stance_session *session;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    stance_error err;
    if (stance_session_new(NULL, &session, &err) != STANCE_OK) {
        fprintf(stderr, "fuzz_tokens: stance_session_new: %s\n", err.msg);
        abort();
    }
    return 0;
}

static int white_space(utf8proc_int32_t c)
{
    if ((c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85)
        return 1;
    utf8proc_category_t cat = utf8proc_category(c);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP;
}

static void fail(const char *what, const char *out)
{
    fprintf(stderr, "fuzz_tokens: %s\n", what);
    if (out)
        fprintf(stderr, "output: \"%s\"\n", out);
    abort();
}

/* Check the shape of the output of a successful call. */
static void check_output(const char *out)
{
    size_t len = strlen(out);
    if (!oracle_utf8_valid((const unsigned char *)out, len, 0))
        fail("output is not valid UTF-8", NULL);
    if (len == 0)
        return;
    if (out[0] == ' ' || out[len - 1] == ' ' || strstr(out, "  "))
        fail("empty token", out);
    size_t i = 0;
    while (i < len) {
        if (out[i] == ' ') { /* the separator */
            i++;
            continue;
        }
        utf8proc_int32_t c;
        utf8proc_ssize_t w =
            utf8proc_iterate((const utf8proc_uint8_t *)out + i, (utf8proc_ssize_t)(len - i), &c);
        if (w <= 0)
            fail("output does not decode", out);
        if (white_space(c))
            fail("a token contains white space", out);
        i += (size_t)w;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    int valid = oracle_utf8_valid(data, size, 0);
    stance_error err;
    memset(&err, 0, sizeof err);
    const char *out = (const char *)1;
    int rc = stance_tokens(session, text, size, &out, &err);
    if (!valid) {
        if (rc != STANCE_ERR_FORMAT || out != NULL || err.code != rc || err.msg[0] == '\0')
            fail("invalid UTF-8 or a NUL byte is not STANCE_ERR_FORMAT", NULL);
        return 0;
    }
    if (rc != STANCE_OK || out == NULL) {
        fprintf(stderr, "fuzz_tokens: status %d: %s\n", rc, err.msg);
        fail("valid UTF-8 failed", NULL);
    }
    check_output(out);

    /* the output belongs to the session: copy it before the next call */
    char *first = strdup(out);
    if (!first)
        return 0;
    rc = stance_tokens(session, first, strlen(first), &out, &err);
    if (rc != STANCE_OK || out == NULL) {
        fprintf(stderr, "fuzz_tokens: status %d: %s\n", rc, err.msg);
        fail("tokenising the output failed", first);
    }
    /* ICU splits Chinese and Japanese words with a dictionary, and the split
     * of a run depends on what surrounds it, so spaces between its pieces
     * may split them differently: idempotence holds for other scripts only */
    if (strcmp(out, first) != 0 && !has_dictionary_script(first)) {
        fprintf(stderr, "fuzz_tokens: first:  \"%s\"\n", first);
        fail("not idempotent: tokenising the output changes it", out);
    }
    rc = stance_tokens(session, text, size, &out, &err);
    if (rc != STANCE_OK || out == NULL || strcmp(out, first) != 0)
        fail("tokenising the same input twice gave different tokens", first);
    free(first);
    return 0;
}
