/* metrics.c - precision, recall, F1, accuracy and the confusion matrix.
 *
 * Conventions (as scikit-learn's zero_division=0): the precision of a class
 * never predicted is 0, the recall of a class with no support is 0, and F1 is
 * 0 when precision + recall is 0.  Macro averages weigh every label equally,
 * weighted averages by support. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int st_metrics_new(int nlabels, const char *const *labels, stance_metrics **out)
{
    if (!out)
        return STANCE_ERR_ARG;
    *out = NULL;
    if (nlabels < 1 || !labels || (size_t)nlabels > 65536)
        return STANCE_ERR_ARG;
    size_t k = (size_t)nlabels;
    stance_metrics *mt = calloc(1, sizeof *mt);
    if (!mt)
        return STANCE_ERR_NOMEM;
    mt->nlabels = nlabels;
    mt->labels = calloc(k, sizeof *mt->labels);
    mt->confusion = calloc(k * k, sizeof *mt->confusion);
    mt->precision = calloc(k, sizeof *mt->precision);
    mt->recall = calloc(k, sizeof *mt->recall);
    mt->f1 = calloc(k, sizeof *mt->f1);
    mt->support = calloc(k, sizeof *mt->support);
    if (!mt->labels || !mt->confusion || !mt->precision || !mt->recall || !mt->f1 ||
        !mt->support)
        goto fail;
    for (size_t i = 0; i < k; i++)
        if (!labels[i] || !(mt->labels[i] = st_strdup(labels[i])))
            goto fail;
    *out = mt;
    return STANCE_OK;
fail:
    stance_metrics_free(mt);
    return STANCE_ERR_NOMEM;
}

/* Out-of-range indices are ignored: the caller maps unknown gold labels to
 * rows of their own before counting. */
void st_metrics_add(stance_metrics *mt, int gold, int pred)
{
    if (!mt || gold < 0 || pred < 0 || gold >= mt->nlabels || pred >= mt->nlabels)
        return;
    mt->confusion[(size_t)gold * (size_t)mt->nlabels + (size_t)pred]++;
}

void st_metrics_finish(stance_metrics *mt)
{
    if (!mt)
        return;
    size_t k = (size_t)mt->nlabels;
    long total = 0, correct = 0;
    size_t present = 0; /* labels in the gold data or the predictions */
    double mp = 0, mr = 0, mf = 0, wp = 0, wr = 0, wf = 0;
    for (size_t i = 0; i < k; i++) {
        long support = 0, predicted = 0;
        for (size_t j = 0; j < k; j++) {
            support += mt->confusion[i * k + j];
            predicted += mt->confusion[j * k + i];
        }
        long tp = mt->confusion[i * k + i];
        double p = predicted ? (double)tp / (double)predicted : 0.0;
        double r = support ? (double)tp / (double)support : 0.0;
        double f = p + r > 0 ? 2.0 * p * r / (p + r) : 0.0;
        mt->precision[i] = p;
        mt->recall[i] = r;
        mt->f1[i] = f;
        mt->support[i] = support;
        total += support;
        correct += tp;
        /* macro averages run over the labels that occur, in the gold data
         * or the predictions, as scikit-learn's do: a test file without a
         * label says nothing about it */
        if (support || predicted) {
            present++;
            mp += p;
            mr += r;
            mf += f;
        }
        wp += p * (double)support;
        wr += r * (double)support;
        wf += f * (double)support;
    }
    mt->total = total;
    mt->accuracy = total ? (double)correct / (double)total : 0.0;
    mt->macro_precision = present ? mp / (double)present : 0.0;
    mt->macro_recall = present ? mr / (double)present : 0.0;
    mt->macro_f1 = present ? mf / (double)present : 0.0;
    mt->weighted_precision = total ? wp / (double)total : 0.0;
    mt->weighted_recall = total ? wr / (double)total : 0.0;
    mt->weighted_f1 = total ? wf / (double)total : 0.0;
}

void stance_metrics_free(stance_metrics *mt)
{
    if (!mt)
        return;
    if (mt->labels)
        for (int i = 0; i < mt->nlabels; i++)
            free(mt->labels[i]);
    free(mt->labels);
    free(mt->confusion);
    free(mt->precision);
    free(mt->recall);
    free(mt->f1);
    free(mt->support);
    free(mt);
}

/* %.6g, with the decimal point forced to '.' whatever LC_NUMERIC the
 * application chose (the library never calls setlocale, but its caller may). */
static int put_num(st_buf *b, double v)
{
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%.6g", v);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return STANCE_ERR_ARG;
    for (int i = 0; i < n; i++)
        if (tmp[i] == ',')
            tmp[i] = '.';
    return st_buf_append(b, tmp, (size_t)n);
}

static int put_str(st_buf *b, const char *s)
{
    /* stance_json_append_string works on (buf, len, cap) triples */
    return stance_json_append_string(&b->data, &b->len, &b->cap, s, strlen(s));
}

static int put_prf(st_buf *b, double p, double r, double f)
{
    int rc = st_buf_append(b, "{\"precision\":", 13);
    rc = rc ? rc : put_num(b, p);
    rc = rc ? rc : st_buf_append(b, ",\"recall\":", 10);
    rc = rc ? rc : put_num(b, r);
    rc = rc ? rc : st_buf_append(b, ",\"f1\":", 6);
    rc = rc ? rc : put_num(b, f);
    return rc;
}

char *stance_metrics_json(const stance_metrics *mt)
{
    if (!mt)
        return NULL;
    size_t k = (size_t)mt->nlabels;
    st_buf b = {0};
    int rc = st_buf_append(&b, "{\"labels\":[", 11);
    for (size_t i = 0; i < k && !rc; i++) {
        if (i)
            rc = st_buf_append(&b, ",", 1);
        rc = rc ? rc : put_str(&b, mt->labels[i]);
    }
    rc = rc ? rc : st_buf_append(&b, "],\"accuracy\":", 13);
    rc = rc ? rc : put_num(&b, mt->accuracy);
    rc = rc ? rc : st_buf_append(&b, ",\"macro\":", 9);
    rc = rc ? rc : put_prf(&b, mt->macro_precision, mt->macro_recall, mt->macro_f1);
    rc = rc ? rc : st_buf_append(&b, "},\"weighted\":", 13);
    rc = rc ? rc : put_prf(&b, mt->weighted_precision, mt->weighted_recall, mt->weighted_f1);
    rc = rc ? rc : st_buf_append(&b, "},\"per_class\":{", 15);
    for (size_t i = 0; i < k && !rc; i++) {
        if (i)
            rc = st_buf_append(&b, ",", 1);
        rc = rc ? rc : put_str(&b, mt->labels[i]);
        rc = rc ? rc : st_buf_append(&b, ":", 1);
        rc = rc ? rc : put_prf(&b, mt->precision[i], mt->recall[i], mt->f1[i]);
        rc = rc ? rc : st_buf_printf(&b, ",\"support\":%ld}", mt->support[i]);
    }
    rc = rc ? rc : st_buf_append(&b, "},\"confusion\":[", 15);
    for (size_t i = 0; i < k && !rc; i++) {
        rc = st_buf_append(&b, i ? ",[" : "[", i ? 2 : 1);
        for (size_t j = 0; j < k && !rc; j++)
            rc = st_buf_printf(&b, j ? ",%ld" : "%ld", mt->confusion[i * k + j]);
        rc = rc ? rc : st_buf_append(&b, "]", 1);
    }
    rc = rc ? rc : st_buf_printf(&b, "],\"total\":%ld}", mt->total);
    if (rc) {
        st_buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* ------------------------------------------------------------------ text */

/* Code points in s (display width for the scripts labels use). */
static size_t u8_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Append s cut to at most max code points, padded with spaces to width
 * (left-aligned when left, else right-aligned). */
static int put_cell(st_buf *b, const char *s, size_t max, size_t width, int left)
{
    size_t bytes = 0, cps = 0;
    while (s[bytes] && cps < max) {
        bytes++;
        while (((unsigned char)s[bytes] & 0xC0) == 0x80)
            bytes++;
        cps++;
    }
    size_t pad = width > cps ? width - cps : 0;
    int rc = 0;
    if (!left)
        for (size_t i = 0; i < pad && !rc; i++)
            rc = st_buf_append(b, " ", 1);
    rc = rc ? rc : st_buf_append(b, s, bytes);
    if (left)
        for (size_t i = 0; i < pad && !rc; i++)
            rc = st_buf_append(b, " ", 1);
    return rc;
}

static int put_row(st_buf *b, const char *name, size_t w, const double *prf, long support)
{
    int rc = put_cell(b, name, (size_t)-1, w, 1);
    for (int i = 0; i < 3 && !rc; i++)
        rc = prf[i] < 0 ? st_buf_printf(b, "%10s", "") : st_buf_printf(b, "%10.4f", prf[i]);
    rc = rc ? rc : st_buf_printf(b, "%10ld\n", support);
    return rc;
}

#define ABBREV 12

/* A classification report in the manner of scikit-learn's, then the
 * confusion matrix with labels cut to 12 characters (padding counts code
 * points, not bytes).  Unlike the JSON, the decimal point follows the
 * caller's LC_NUMERIC: this text is for people. */
char *stance_metrics_text(const stance_metrics *mt)
{
    if (!mt)
        return NULL;
    size_t k = (size_t)mt->nlabels;
    size_t w = strlen("weighted avg");
    for (size_t i = 0; i < k; i++) {
        size_t lw = u8_width(mt->labels[i]);
        if (lw > w)
            w = lw;
    }
    w += 2;
    st_buf b = {0};
    int rc = put_cell(&b, "", 0, w, 1);
    rc = rc ? rc
            : st_buf_printf(&b, "%10s%10s%10s%10s\n\n", "precision", "recall", "f1", "support");
    for (size_t i = 0; i < k && !rc; i++) {
        double prf[3] = {mt->precision[i], mt->recall[i], mt->f1[i]};
        rc = put_row(&b, mt->labels[i], w, prf, mt->support[i]);
    }
    rc = rc ? rc : st_buf_append(&b, "\n", 1);
    {
        double acc[3] = {-1, -1, mt->accuracy};
        double mac[3] = {mt->macro_precision, mt->macro_recall, mt->macro_f1};
        double wei[3] = {mt->weighted_precision, mt->weighted_recall, mt->weighted_f1};
        rc = rc ? rc : put_row(&b, "accuracy", w, acc, mt->total);
        rc = rc ? rc : put_row(&b, "macro avg", w, mac, mt->total);
        rc = rc ? rc : put_row(&b, "weighted avg", w, wei, mt->total);
    }

    /* confusion matrix: columns as wide as the widest (abbreviated) label
     * or count */
    size_t cw = 1, rw = 0;
    for (size_t i = 0; i < k; i++) {
        size_t lw = u8_width(mt->labels[i]);
        if (lw > ABBREV)
            lw = ABBREV;
        if (lw > cw)
            cw = lw;
        if (lw > rw)
            rw = lw;
        for (size_t j = 0; j < k; j++) {
            char num[32];
            size_t nw = (size_t)snprintf(num, sizeof num, "%ld", mt->confusion[i * k + j]);
            if (nw > cw)
                cw = nw;
        }
    }
    const char *head = "gold \\ predicted";
    if (strlen(head) > rw)
        rw = strlen(head);
    rc = rc ? rc : st_buf_append(&b, "\nconfusion matrix (rows: gold, columns: predicted)\n", 51);
    rc = rc ? rc : put_cell(&b, head, (size_t)-1, rw, 1);
    for (size_t j = 0; j < k && !rc; j++) {
        rc = st_buf_append(&b, "  ", 2);
        rc = rc ? rc : put_cell(&b, mt->labels[j], ABBREV, cw, 0);
    }
    rc = rc ? rc : st_buf_append(&b, "\n", 1);
    for (size_t i = 0; i < k && !rc; i++) {
        rc = put_cell(&b, mt->labels[i], ABBREV, rw, 1);
        for (size_t j = 0; j < k && !rc; j++)
            rc = st_buf_printf(&b, "  %*ld", (int)cw, mt->confusion[i * k + j]);
        rc = rc ? rc : st_buf_append(&b, "\n", 1);
    }
    if (rc || !b.data) {
        st_buf_free(&b);
        return NULL;
    }
    return b.data;
}
