/* fuzz_json.c - libFuzzer target for the JSON Lines record parser, the
 * string decoder and the string writer.
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc/lib \
 *       tests/fuzz/fuzz_json.c src/lib/util/json.c src/lib/util/error.c \
 *       src/lib/util/buf.c -o build/fuzz_json
 *   build/fuzz_json -max_total_time=60 CORPUS_DIR
 *
 * Checks, beyond "no crash, no leak, no undefined behaviour": every string
 * member decodes; writing any bytes with stance_json_append_string gives a
 * JSON string that parses and decodes back to the (U+FFFD-repaired) text, and
 * writing a decoded string reproduces it exactly. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static void roundtrip(const char *text, size_t len, int exact)
{
    char *buf = NULL, *obj;
    size_t n = 0, cap = 0;
    if (stance_json_append_string(&buf, &n, &cap, text, len) != STANCE_OK)
        return; /* out of memory only */
    if (n < 2 || buf[0] != '"' || buf[n - 1] != '"' || buf[n] != '\0')
        abort();
    /* {"k":<string>} around the written string */
    obj = malloc(n + 7);
    if (!obj) {
        free(buf);
        return;
    }
    memcpy(obj, "{\"k\":", 5);
    memcpy(obj + 5, buf, n);
    obj[n + 5] = '}';
    stance_json_member m;
    size_t nm = 0;
    stance_error err;
    if (stance_json_parse_object(obj, n + 6, &m, 1, &nm, &err) != STANCE_OK || nm != 1 ||
        !m.is_string || m.value_len != n)
        abort();
    char *dec = NULL;
    size_t dl = 0;
    if (stance_json_decode_string(m.value, m.value_len, &dec, &dl, &err) != STANCE_OK)
        abort();
    if (exact && (dl != len || memcmp(dec, text, len) != 0))
        abort();
    free(dec);
    free(obj);
    free(buf);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *s = (const char *)data;
    stance_json_member mem[16];
    size_t n = 0;
    stance_error err;
    int rc = stance_json_parse_object(s, size, mem, 16, &n, &err);
    if (rc != STANCE_OK && rc != STANCE_ERR_FORMAT)
        abort();
    if (rc == STANCE_OK) {
        for (size_t i = 0; i < n && i < 16; i++) {
            if (mem[i].key < s || mem[i].key + mem[i].key_len > s + size ||
                mem[i].value < s || mem[i].value + mem[i].value_len > s + size)
                abort();
            char *out = NULL;
            size_t len = 0;
            if (stance_json_decode_string(mem[i].key - 1, mem[i].key_len + 2, &out, &len,
                                          &err) != STANCE_OK)
                abort();
            free(out);
            if (!mem[i].is_string)
                continue;
            if (stance_json_decode_string(mem[i].value, mem[i].value_len, &out, &len, &err) !=
                STANCE_OK)
                abort();
            roundtrip(out, len, 1);
            free(out);
        }
    } else if (strncmp(err.msg, "column ", 7) != 0) {
        abort();
    }
    /* the raw bytes as a value: decode may fail, but must not misbehave */
    char *out = NULL;
    size_t len;
    if (stance_json_decode_string(s, size, &out, &len, &err) == STANCE_OK)
        free(out);
    roundtrip(s, size, 0);
    return 0;
}
