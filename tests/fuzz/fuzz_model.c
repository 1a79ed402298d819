/*
 * fuzz_model.c - libFuzzer target for the model file reader.
 *
 * Any byte string must give either a model or a clean STANCE_ERR_MODEL /
 * STANCE_ERR_VERSION with a message and no model: no crash, no leak, no
 * sanitizer report, no huge allocation.  Build (from the repository root):
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc/lib \
 *       tests/fuzz/fuzz_model.c src/lib/.../*.c -o fuzz_model \
 *       -lsvm -llinear $(pkg-config --libs icu-uc icu-i18n libutf8proc zlib) -lm
 *   mkdir -p seeds && build/tests/test_model_file --write-model seeds/valid.stm
 *   ./fuzz_model -max_total_time=60 -rss_limit_mb=2048 corpus-dir seeds tests/bad-models
 *
 * The valid seed matters: without it the fuzzer rarely gets past the
 * checksum into the section decoders.
 */
#include "stance.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stance_model *m = NULL;
    stance_error err;
    int rc = stance_model_load_buffer(data, size, &m, &err);
    if (rc == STANCE_OK) {
        /* Exercise what a loaded model offers; it must be self-consistent. */
        char *js = stance_model_info_json(m);
        free(js);
        if (stance_model_nlabels(m) < 2 || !stance_model_label(m, 0))
            abort();
        stance_model_free(m);
    } else if (m != NULL || err.msg[0] == '\0' ||
               (rc != STANCE_ERR_MODEL && rc != STANCE_ERR_VERSION && rc != STANCE_ERR_NOMEM)) {
        abort();
    }
    return 0;
}
