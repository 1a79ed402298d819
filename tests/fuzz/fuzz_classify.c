/* fuzz_classify.c - libFuzzer target for the document pipeline: UTF-8 repair,
 * unwrapping, sentence segmentation, tokens, features and the classifier.
 *
 *   make fuzz                      (builds build-fuzz/fuzz_classify)
 *   build-fuzz/fuzz_classify -max_len=65536 WORK_DIR tests/fuzz/seeds/fuzz_classify
 *
 * (by hand: clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined
 * -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc/lib
 * $(pkg-config --cflags icu-uc) tests/fuzz/fuzz_classify.c $(find src/lib -name '*.c')
 * -lsvm -llinear $(pkg-config --libs icu-uc icu-i18n libutf8proc zlib) -lm -lpthread)
 *
 * The input is one document, as bytes.  It goes through stance_segment on a
 * session without a model and through stance_classify on a session bound to a
 * tiny model trained once in LLVMFuzzerInitialize from sentences held in
 * memory (liblinear, character n-grams), each with and without
 * STANCE_WRAPPED.  Any violation of these aborts:
 *
 *   - a document with a NUL byte is STANCE_ERR_BINARY, any other is STANCE_OK
 *     (it is far below the size limit); a failure fills the error record;
 *   - invalid_utf8 is 0 exactly when the input is valid UTF-8;
 *   - 0 <= start < end <= len, sentences in increasing order and disjoint;
 *   - sentences are trimmed: the first and last bytes are not white space;
 *   - on valid UTF-8 input no sentence starts or ends inside a multi-byte
 *     sequence (neither offset points at a continuation byte);
 *   - classify finds exactly the sentences segment finds (same flags);
 *   - labels are in [0, nlabels), probabilities finite, in [0, 1], summing to
 *     1 within 1e-6, and the label has the largest probability;
 *   - classifying the same document again gives the same result.
 */
#include "oracle.h"
#include "stance.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static stance_model *model;
static stance_session *seg_session; /* no model */
static stance_session *cls_session; /* bound to model */
static int nlabels;

static const char *const training[][2] = {
    {"condemnation", "We strongly condemn this act of armed aggression against a sovereign state."},
    {"condemnation", "The government denounces the illegal seizure as a gross violation of law."},
    {"condemnation", "This outrageous attack is a flagrant breach of the United Nations Charter."},
    {"condemnation", "The ministry condemned the invasion in the strongest possible terms."},
    {"neutral", "The delegation arrived in the capital on Tuesday for two days of talks."},
    {"neutral", "The meeting took place at the foreign ministry and lasted three hours."},
    {"neutral", "Officials said the talks would resume in Geneva next month."},
    {"neutral", "La reunión se celebró el martes en la sede de la cancillería."},
    {"restraint", "We call on all parties to exercise restraint and avoid escalation."},
    {"restraint", "Moscow urged calm and a return to dialogue to avoid further escalation."},
    {"restraint", "All sides should show restraint and resolve the dispute through dialogue."},
    {"restraint", "Призываем все стороны проявлять сдержанность и избегать эскалации."},
};

static void die(const char *what, const stance_error *err)
{
    fprintf(stderr, "fuzz_classify: %s: %s\n", what, err ? err->msg : "");
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    stance_error err;
    stance_corpus *c = NULL;
    if (stance_corpus_new(&c) != STANCE_OK)
        die("stance_corpus_new", NULL);
    for (size_t i = 0; i < sizeof training / sizeof *training; i++) {
        int added = 0;
        if (stance_corpus_add(c, training[i][0], training[i][1], &added, &err) != STANCE_OK)
            die("stance_corpus_add", &err);
        if (!added)
            die("stance_corpus_add dropped a distinct record", NULL);
    }
    stance_train_params p;
    stance_train_params_default(&p);
    p.solver = STANCE_SOLVER_LIBLINEAR;
    p.char_ngram_min = 2;
    p.char_ngram_max = 5;
    if (stance_train(c, &p, NULL, 0, NULL, NULL, &model, NULL, &err) != STANCE_OK)
        die("stance_train", &err);
    stance_corpus_free(c);
    nlabels = stance_model_nlabels(model);
    if (nlabels != 3)
        die("the model does not have 3 labels", NULL);
    if (stance_session_new(NULL, &seg_session, &err) != STANCE_OK)
        die("stance_session_new (no model)", &err);
    if (stance_session_new(model, &cls_session, &err) != STANCE_OK)
        die("stance_session_new", &err);
    return 0;
}

static int ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

static void fail(const char *what, unsigned flags, size_t i, const stance_result *r)
{
    fprintf(stderr, "fuzz_classify: %s (flags %u, sentence %zu of %zu", what, flags, i,
            r ? r->n : 0);
    if (r && i < r->n)
        fprintf(stderr, ", [%zu, %zu)", r->sentences[i].start, r->sentences[i].end);
    fprintf(stderr, ")\n");
    abort();
}

/* Checks common to segment and classify; returns 1 when there is a result. */
static int check_result(int rc, const stance_result *r, const stance_error *err,
                        const unsigned char *d, size_t len, int has_nul, int valid,
                        unsigned flags)
{
    if (has_nul) {
        if (rc != STANCE_ERR_BINARY || r != NULL)
            fail("a document with a NUL byte is not STANCE_ERR_BINARY", flags, 0, NULL);
        if (err->code != rc || err->msg[0] == '\0')
            fail("the error record is not filled", flags, 0, NULL);
        return 0;
    }
    if (rc != STANCE_OK || r == NULL) {
        fprintf(stderr, "fuzz_classify: status %d: %s\n", rc, err->msg);
        fail("a document without NUL bytes failed", flags, 0, NULL);
    }
    if ((r->invalid_utf8 == 0) != (valid != 0))
        fail(valid ? "valid UTF-8 counted as invalid" : "invalid UTF-8 not counted", flags, 0,
             r);
    if (r->n > 0 && r->sentences == NULL)
        fail("no sentence array", flags, 0, r);
    size_t prev_end = 0;
    for (size_t i = 0; i < r->n; i++) {
        const stance_sentence *s = &r->sentences[i];
        if (s->end > len)
            fail("end past the document", flags, i, r);
        if (s->start >= s->end)
            fail("empty or reversed sentence", flags, i, r);
        if (s->start < prev_end)
            fail("sentences overlap or are out of order", flags, i, r);
        prev_end = s->end;
        if (ascii_space(d[s->start]) || ascii_space(d[s->end - 1]))
            fail("sentence not trimmed", flags, i, r);
        if (valid) {
            if (continuation(d[s->start]))
                fail("sentence starts inside a UTF-8 sequence", flags, i, r);
            if (s->end < len && continuation(d[s->end]))
                fail("sentence ends inside a UTF-8 sequence", flags, i, r);
        }
    }
    return 1;
}

static void check_probs(const stance_result *r, unsigned flags)
{
    for (size_t i = 0; i < r->n; i++) {
        const stance_sentence *s = &r->sentences[i];
        if (s->label < 0 || s->label >= nlabels)
            fail("label out of range", flags, i, r);
        if (!s->probs)
            fail("no probabilities", flags, i, r);
        double sum = 0, best = -1;
        for (int k = 0; k < nlabels; k++) {
            double p = s->probs[k];
            if (!isfinite(p) || p < 0 || p > 1)
                fail("probability not finite or outside [0, 1]", flags, i, r);
            sum += p;
            if (p > best)
                best = p;
        }
        if (fabs(sum - 1) > 1e-6)
            fail("probabilities do not sum to 1", flags, i, r);
        if (s->probs[s->label] < best)
            fail("label is not the most probable class", flags, i, r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    int has_nul = memchr(data, 0, size) != NULL;
    int valid = oracle_utf8_valid(data, size, 1);
    static const unsigned flag_set[2] = {0, STANCE_WRAPPED};

    for (int f = 0; f < 2; f++) {
        unsigned flags = flag_set[f];
        stance_error err;
        memset(&err, 0, sizeof err);
        const stance_result *seg = (const stance_result *)1;
        int rc = stance_segment(seg_session, text, size, flags, &seg, &err);
        if (!check_result(rc, seg, &err, data, size, has_nul, valid, flags))
            continue;
        for (size_t i = 0; i < seg->n; i++)
            if (seg->sentences[i].label != -1 || seg->sentences[i].probs != NULL)
                fail("segment gave a label or probabilities", flags, i, seg);

        /* the model session is separate, so seg stays valid */
        const stance_result *cls = (const stance_result *)1;
        memset(&err, 0, sizeof err);
        rc = stance_classify(cls_session, text, size, flags, &cls, &err);
        if (!check_result(rc, cls, &err, data, size, has_nul, valid, flags))
            fail("classify failed where segment did not", flags, 0, NULL);
        if (cls->n != seg->n || cls->invalid_utf8 != seg->invalid_utf8)
            fail("classify and segment disagree on the sentences", flags, 0, cls);
        for (size_t i = 0; i < cls->n; i++)
            if (cls->sentences[i].start != seg->sentences[i].start ||
                cls->sentences[i].end != seg->sentences[i].end)
                fail("classify and segment disagree on a sentence", flags, i, cls);
        check_probs(cls, flags);

        /* the same document again through a warm session: the same answer.
         * Keep a copy of the first answer, since the result is reused. */
        size_t n = cls->n;
        int *labels = malloc((n ? n : 1) * sizeof *labels);
        double *probs = malloc((n ? n : 1) * (size_t)nlabels * sizeof *probs);
        if (!labels || !probs) {
            free(labels);
            free(probs);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            labels[i] = cls->sentences[i].label;
            memcpy(probs + i * (size_t)nlabels, cls->sentences[i].probs,
                   (size_t)nlabels * sizeof *probs);
        }
        rc = stance_classify(cls_session, text, size, flags, &cls, &err);
        if (rc != STANCE_OK || cls->n != n)
            fail("classifying twice gave a different number of sentences", flags, 0, cls);
        for (size_t i = 0; i < n; i++)
            if (cls->sentences[i].label != labels[i] ||
                memcmp(cls->sentences[i].probs, probs + i * (size_t)nlabels,
                       (size_t)nlabels * sizeof *probs) != 0)
                fail("classifying twice gave a different answer", flags, i, cls);
        free(labels);
        free(probs);
    }
    return 0;
}
