/*
 * model.c - the model in memory: allocation, release, accessors and the JSON
 * description printed by `stance info`.  The file's bytes are model_file.c's
 * business.
 */
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

stance_model *st_model_alloc(void)
{
    return calloc(1, sizeof(stance_model));
}

void stance_model_free(stance_model *m)
{
    if (!m)
        return;
    if (m->labels) {
        for (int i = 0; i < m->nlabels; i++)
            free(m->labels[i]);
        free(m->labels);
    }
    st_vocab_free(&m->vocab);
    st_svm_free(m->svm);
    free(m->train.group_by);
    stance_metrics_free(m->cv);
    if (m->sources) {
        for (size_t i = 0; i < m->nsources; i++) {
            free(m->sources[i].name);
            free(m->sources[i].per_label);
        }
        free(m->sources);
    }
    free(m);
}

int stance_model_nlabels(const stance_model *m)
{
    return m ? m->nlabels : 0;
}

const char *stance_model_label(const stance_model *m, int i)
{
    if (!m || i < 0 || i >= m->nlabels)
        return NULL;
    return m->labels[i];
}

const char *stance_model_id(const stance_model *m)
{
    return m ? m->id : NULL;
}

/* ------------------------------------------------------------------ JSON */

/* Doubles are printed with the shortest of %.15g/%.17g that reads back
 * exactly; the library never calls setlocale, but the application may have,
 * so a locale's decimal comma is turned back into JSON's point. */
static int put_double(st_buf *b, double v)
{
    if (!isfinite(v))
        return st_buf_append(b, "null", 4);
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof tmp, "%.17g", v);
    for (char *p = tmp; *p; p++)
        if (*p == ',')
            *p = '.';
    return st_buf_append(b, tmp, strlen(tmp));
}

static int put_str(st_buf *b, const char *s)
{
    if (!s)
        return st_buf_append(b, "null", 4);
    return stance_json_append_string(&b->data, &b->len, &b->cap, s, strlen(s));
}

static int put_key(st_buf *b, const char *key)
{
    /* Keys are our own ASCII literals: no escaping needed. */
    return st_buf_printf(b, "\"%s\":", key);
}

#define J(call)                                                                                    \
    do {                                                                                           \
        if ((call) != STANCE_OK)                                                                   \
            goto fail;                                                                             \
    } while (0)

char *stance_model_info_json(const stance_model *m)
{
    st_buf b = {0};
    char *cvj = NULL;
    if (!m)
        return NULL;
    const st_svm *s = m->svm;
    int rbf = s && s->kernel == STANCE_KERNEL_RBF;

    J(st_buf_append(&b, "{", 1));
    J(put_key(&b, "id"));
    J(put_str(&b, m->id));
    J(st_buf_printf(&b, ",\"format_version\":%d,\"labels\":[",
                    m->format ? m->format : ST_MODEL_FORMAT));
    for (int i = 0; i < m->nlabels; i++) {
        if (i)
            J(st_buf_append(&b, ",", 1));
        J(put_str(&b, m->labels[i]));
    }
    J(st_buf_printf(&b,
                    "],\"features\":{\"hash_seed\":%" PRIu32 ",\"hash_bits\":%u,"
                    "\"word_ngram_max\":%u,\"char_ngram_min\":%u,\"char_ngram_max\":%u,"
                    "\"normalisation\":\"NFKC+casefold\",\"sublinear_tf\":%s,"
                    "\"vocabulary\":%" PRIu32 "}",
                    m->fc.hash_seed, (unsigned)m->fc.hash_bits, (unsigned)m->fc.word_ngram_max,
                    (unsigned)m->fc.char_ngram_min, (unsigned)m->fc.char_ngram_max,
                    m->fc.sublinear_tf ? "true" : "false", m->vocab.n));

    J(st_buf_printf(&b, ",\"svm\":{\"kernel\":\"%s\",\"solver\":\"%s\",\"C\":",
                    rbf ? "rbf" : "linear",
                    m->train.solver == STANCE_SOLVER_LIBLINEAR ? "liblinear"
                    : m->train.solver == STANCE_SOLVER_DCD     ? "dcd"
                                                               : "libsvm"));
    J(put_double(&b, m->train.C));
    J(st_buf_printf(&b, ",\"gamma\":"));
    if (rbf)
        J(put_double(&b, s->gamma));
    else
        J(st_buf_append(&b, "null", 4));
    if (rbf)
        J(st_buf_printf(&b, ",\"support_vectors\":%" PRIu32, s->nsv));
    J(st_buf_append(&b, "}", 1));

    J(st_buf_printf(&b,
                    ",\"training\":{\"seed\":%" PRIu64 ",\"balanced\":%s,\"grid\":%s,"
                    "\"cv_folds\":%d,\"group_by\":",
                    m->train.seed, m->train.balanced ? "true" : "false",
                    m->train.grid ? "true" : "false", m->train.cv_folds));
    J(put_str(&b, m->train.group_by));
    J(st_buf_printf(&b,
                    ",\"min_df\":%" PRIu32 ",\"sentences\":%" PRIu64
                    ",\"duplicates_dropped\":%" PRIu64 "}",
                    m->train.min_df, m->train.sentences, m->train.duplicates));

    J(st_buf_printf(&b, ",\"cross_validation\":"));
    if (m->cv) {
        cvj = stance_metrics_json(m->cv);
        if (!cvj)
            goto fail;
        J(st_buf_append(&b, cvj, strlen(cvj)));
        free(cvj);
        cvj = NULL;
    } else {
        J(st_buf_append(&b, "null", 4));
    }

    J(st_buf_printf(&b, ",\"sources\":["));
    for (size_t i = 0; i < m->nsources; i++) {
        const st_source *src = &m->sources[i];
        J(st_buf_printf(&b, "%s{\"name\":", i ? "," : ""));
        J(put_str(&b, src->name));
        J(st_buf_printf(&b, ",\"sha256\":\"%s\",\"records\":%" PRIu64 ",\"per_label\":{",
                        src->sha256, src->records));
        for (int l = 0; l < m->nlabels; l++) {
            if (l)
                J(st_buf_append(&b, ",", 1));
            J(put_str(&b, m->labels[l]));
            J(st_buf_printf(&b, ":%" PRIu64, src->per_label ? src->per_label[l] : 0));
        }
        J(st_buf_append(&b, "}}", 2));
    }
    J(st_buf_append(&b, "]}", 2));
    /* stance_json_append_string manages the buffer itself: make sure the
     * result is terminated whichever function wrote last. */
    J(st_buf_append(&b, "", 0));
    return b.data;

fail:
    free(cvj);
    st_buf_free(&b);
    return NULL;
}
