/* fuzz_ascii_words.c - the ASCII fast path of the tokenizer must give
 * exactly ICU's word tokens.  Every input byte is folded into ASCII (high
 * bit dropped, NUL made a space), tokenised both ways, and compared; any
 * difference aborts.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc/lib \
 *       tests/fuzz/fuzz_ascii_words.c src/lib/[a-z]*\/[a-z]*.c \
 *       $(pkg-config --cflags --libs icu-uc icu-i18n libutf8proc zlib) -lsvm -llinear -lm -lpthread
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

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
    char buf[4096];
    for (size_t i = 0; i < size; i++) {
        buf[i] = (char)(data[i] & 0x7f);
        if (buf[i] == 0)
            buf[i] = ' ';
    }
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
