/* fuzz_corpus.c - libFuzzer target for the corpus reader (TSV and JSON Lines)
 * through st_corpus_add_buffer, which stance_corpus_add_file uses after
 * reading (and gunzipping) the file.
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc/lib \
 *       tests/fuzz/fuzz_corpus.c src/lib/corpus/corpus.c src/lib/util/json.c \
 *       src/lib/util/error.c src/lib/util/buf.c src/lib/util/readfile.c \
 *       src/lib/util/sha256.c -lz -o build/fuzz_corpus
 *   build/fuzz_corpus -max_total_time=60 CORPUS_DIR
 *
 * The first input byte picks the format (even: TSV, odd: JSON Lines); the
 * rest is the file.  Beyond memory safety it checks that a failure leaves the
 * corpus unchanged, that every record reads back as valid non-empty strings,
 * and that adding the same file twice adds nothing the second time. */
#include "corpus/corpus.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *name = data[0] & 1 ? "fuzz.jsonl" : "fuzz.tsv";
    stance_corpus *c = NULL;
    if (stance_corpus_new(&c) != STANCE_OK)
        return 0;
    /* a record already there, to check that failures leave it alone */
    int added = 0;
    if (stance_corpus_add(c, "seed", "A record already in the corpus.", &added, NULL) ||
        !added)
        abort();
    stance_error err;
    int rc = st_corpus_add_buffer(c, name, data + 1, size - 1, &err);
    if (rc != STANCE_OK) {
        if (rc != STANCE_ERR_FORMAT && rc != STANCE_ERR_TOOBIG && rc != STANCE_ERR_NOMEM)
            abort();
        if (err.code != rc || strncmp(err.msg, name, strlen(name)) != 0)
            abort();
        if (stance_corpus_size(c) != 1 || st_corpus_nfiles(c) != 0)
            abort();
        stance_corpus_free(c);
        return 0;
    }
    size_t n = stance_corpus_size(c);
    if (st_corpus_nfiles(c) != 1 || st_corpus_file_records(c, 0) != n - 1)
        abort();
    for (size_t i = 0; i < n; i++) {
        const char *l = stance_corpus_label(c, i), *t = stance_corpus_text(c, i);
        if (!l || !t || !*l || !*t)
            abort();
        if (i > 0 && (st_corpus_source(c, i) != 0 || st_corpus_line(c, i) < 1))
            abort();
        /* touch every metadata value the record may have */
        const char *f = stance_corpus_field(c, i, "id");
        if (f)
            (void)strlen(f);
        f = stance_corpus_field(c, i, "label");
        if (!f || strcmp(f, l) != 0)
            abort();
    }
    size_t dups = stance_corpus_duplicates(c);
    rc = st_corpus_add_buffer(c, name, data + 1, size - 1, &err);
    if (rc == STANCE_OK) {
        if (stance_corpus_size(c) != n || stance_corpus_duplicates(c) <= dups ||
            st_corpus_file_records(c, 1) != 0)
            abort();
    } else if (rc != STANCE_ERR_NOMEM) {
        abort(); /* the same bytes parsed a moment ago */
    }
    stance_corpus_free(c);
    return 0;
}
