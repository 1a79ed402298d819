/*
 * fuzz_model.c - libFuzzer target for the model file reader.
 *
 * Any byte string must give either a model or a clean STANCE_ERR_MODEL /
 * STANCE_ERR_VERSION with a message and no model: no crash, no leak, no
 * sanitizer report, no huge allocation.
 *
 * Each input is tried twice through stance_model_load_buffer: as a whole file,
 * and as an uncompressed payload wrapped in a well-formed header (length,
 * zlib, CRC-32).  Random bytes almost never get past the checksum, so the
 * second form is what reaches the section decoders; the header layout used
 * here is documented at the top of src/lib/model/model_file.c.
 *
 * Build and run (from the repository root):
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc/lib \
 *       tests/fuzz/fuzz_model.c $(find src/lib -name '*.c') -o fuzz_model \
 *       -lsvm -llinear $(pkg-config --libs icu-uc icu-i18n libutf8proc zlib) -lm -lpthread
 *   mkdir -p seeds && build/tests/test_model_file --write-model seeds/linear.stm &&
 *       build/tests/test_model_file --write-model seeds/rbf.stm rbf
 *   ./fuzz_model -max_total_time=60 corpus-dir seeds tests/bad-models
 *
 * Seeds that are whole files also seed the payload form poorly; adding their
 * inflated payloads (python3 -c 'import sys,zlib; ...[36:]') as seeds helps.
 */
#include "stance.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_load(const uint8_t *data, size_t size)
{
    stance_model *m = NULL;
    stance_error err;
    memset(&err, 0, sizeof err);
    int rc = stance_model_load_buffer(data, size, &m, &err);
    if (rc == STANCE_OK) {
        /* A loaded model must be usable: describe it. */
        char *js = stance_model_info_json(m);
        if (!js || stance_model_nlabels(m) < 2 || !stance_model_label(m, 0))
            abort();
        free(js);
        stance_model_free(m);
    } else if (m != NULL || err.msg[0] == '\0' || err.code != rc ||
               (rc != STANCE_ERR_MODEL && rc != STANCE_ERR_VERSION && rc != STANCE_ERR_NOMEM)) {
        abort();
    }
}

/* The model file's payload is raw deflate (no zlib header or Adler-32). */
static int raw_deflate(const unsigned char *in, size_t n, unsigned char *out, uLongf *outlen,
                       int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)*outlen;
    int rc = deflate(&z, Z_FINISH);
    *outlen = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

static void le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_load(data, size);

    uLongf clen = compressBound((uLong)size) + 64;
    unsigned char *f = malloc(36 + (size_t)clen);
    if (!f)
        return 0;
    if (raw_deflate(data, size, f + 36, &clen, 1) == 0) {
        memcpy(f, "STANCEMD", 8);
        le(f + 8, 1, 4);
        le(f + 12, 0, 4);
        le(f + 16, size, 8);
        le(f + 24, clen, 8);
        le(f + 32, crc32(crc32(0, Z_NULL, 0), data, (uInt)size), 4);
        try_load(f, 36 + (size_t)clen);
    }
    free(f);
    return 0;
}
