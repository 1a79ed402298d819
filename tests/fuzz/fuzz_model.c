/*
 * fuzz_model.c - libFuzzer target for the model file reader.
 *
 * Any byte string must give either a model or a clean STANCE_ERR_MODEL /
 * STANCE_ERR_VERSION with a message and no model: no crash, no leak, no
 * sanitizer report, no huge allocation.
 *
 * Each input is tried three times through stance_model_load_buffer: as a
 * whole file, and as a payload wrapped in a well-formed header (length,
 * CRC-32) of format 1 (deflated) and of format 2 (stored).  Random bytes
 * almost never get past the checksum, so the wrapped forms are what reach
 * the section decoders; the header layout used here is documented at the top
 * of src/lib/model/model_file.c.  The format 2 file is also loaded from a
 * file by stance_model_load, which decodes it as it reads it, another path:
 * it must give the same model, or the same error.
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
#define _GNU_SOURCE /* memfd_create */
#include "stance.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
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

/* The same bytes from a file: the same outcome.  A model is compared by its
 * description, an error by its code and its message after the file name. */
static void try_file(const uint8_t *data, size_t size)
{
    static int fd = -2;
    static char path[64];
    if (fd == -2) {
        fd = memfd_create("fuzz_model", 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (fd < 0 || ftruncate(fd, 0) != 0)
        return;
    if (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size)
        return;
    stance_model *a = NULL, *b = NULL;
    stance_error ea, eb;
    memset(&ea, 0, sizeof ea);
    memset(&eb, 0, sizeof eb);
    int ra = stance_model_load_buffer(data, size, &a, &ea);
    int rb = stance_model_load(path, &b, &eb);
    if (ra != rb)
        abort();
    if (ra == STANCE_OK) {
        char *ja = stance_model_info_json(a), *jb = stance_model_info_json(b);
        if (!ja || !jb || strcmp(ja, jb) != 0)
            abort();
        free(ja);
        free(jb);
    } else {
        size_t la = strlen("<buffer>"), lb = strlen(path);
        if (b || strncmp(eb.msg, path, lb) != 0 || strcmp(ea.msg + la, eb.msg + lb) != 0)
            abort();
    }
    stance_model_free(a);
    stance_model_free(b);
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

    f = malloc(36 + size);
    if (!f)
        return 0;
    memcpy(f, "STANCEMD", 8);
    le(f + 8, 2, 4);
    le(f + 12, 0, 4);
    le(f + 16, size, 8);
    le(f + 24, size, 8);
    le(f + 32, crc32(crc32(0, Z_NULL, 0), data, (uInt)size), 4);
    memcpy(f + 36, data, size);
    try_load(f, 36 + size);
    try_file(f, 36 + size);
    free(f);
    return 0;
}
