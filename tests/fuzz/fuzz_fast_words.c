/* fuzz_fast_words.c - the tokenizer's fast paths (ASCII, and the code point
 * tables for simple non-ASCII text) must give exactly the tokens of
 * utf8proc's normalisation and ICU's word break iterator.  The input is made
 * into text, tokenised both ways, and compared; any difference aborts.  An
 * even first byte folds every byte into ASCII (high bit dropped, NUL made a
 * space); an odd one keeps bytes below 0x80 as ASCII and reads each other
 * byte with the next as a code point between U+0080 and U+2E7F (the tables'
 * range, surrogates skipped), so that marks, joiners and other scripts mix
 * with letters of our languages.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc/lib \
 *       tests/fuzz/fuzz_fast_words.c src/lib/[a-z]*\/[a-z]*.c \
 *       $(pkg-config --cflags --libs icu-uc icu-i18n libutf8proc zlib) -lsvm -llinear -lm -lpthread
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static st_tokenizer *fast, *icu;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    stance_error err;
    if (!fast) {
        if (st_tokenizer_new(&fast, &err) || st_tokenizer_new(&icu, &err))
            abort();
        st_tokenizer_force_icu(icu, 1);
    }
    if (size > 4096)
        size = 4096;
    char buf[4096 * 2];
    size_t n = 0;
    if (size && (data[0] & 1)) {
        for (size_t i = 1; i < size; i++) {
            if (data[i] < 0x80) {
                buf[n++] = data[i] ? (char)data[i] : ' ';
                continue;
            }
            if (i + 1 == size)
                break;
            int32_t cp = 0x80 + (int32_t)((((unsigned)data[i] << 8) | data[i + 1]) % (0x2E80 - 0x80));
            i++;
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 'x';
            n += (size_t)utf8proc_encode_char(cp, (unsigned char *)buf + n);
        }
    } else {
        for (size_t i = 0; i < size; i++) {
            buf[n] = (char)(data[i] & 0x7f);
            if (buf[n] == 0)
                buf[n] = ' ';
            n++;
        }
    }
    size = n;
    const char *const *a, *const *b;
    const size_t *al, *bl;
    size_t na, nb;
    if (st_tokenize(fast, buf, size, &a, &al, &na, &err))
        abort();
    /* copy: both tokenizers own their buffers, but be safe about reuse */
    char **ta = malloc((na ? na : 1) * sizeof *ta);
    size_t *la = malloc((na ? na : 1) * sizeof *la);
    for (size_t i = 0; i < na; i++) {
        ta[i] = malloc(al[i] + 1);
        memcpy(ta[i], a[i], al[i]);
        la[i] = al[i];
    }
    if (st_tokenize(icu, buf, size, &b, &bl, &nb, &err))
        abort();
    if (na != nb)
        abort();
    for (size_t i = 0; i < na; i++)
        if (la[i] != bl[i] || memcmp(ta[i], b[i], la[i]) != 0)
            abort();
    for (size_t i = 0; i < na; i++)
        free(ta[i]);
    free(ta);
    free(la);
    return 0;
}
