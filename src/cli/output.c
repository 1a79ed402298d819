/* output.c - record formatting shared by classify and score. */
#include "cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int cli_buf_put(cli_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int cli_buf_uint(cli_buf *b, size_t v)
{
    char d[24];
    size_t n = sizeof d;
    do {
        d[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return cli_buf_put(b, d + n, sizeof d - n);
}

/* Probabilities and shares are printed by the million: printf's general
 * float conversion was a tenth of classify --probs.  Here x = man * 2^-shift
 * is multiplied by 10^prec exactly (at most 83 bits) and rounded as printf
 * rounds in the default mode: to the nearest, a tie to the even neighbour,
 * judged on the exact binary value.  Only 0 <= x <= 1 takes this path. */
int cli_buf_fixed(cli_buf *b, double x, int prec)
{
    static const uint32_t pow10[] = {1,      10,      100,      1000,      10000,
                                     100000, 1000000, 10000000, 100000000, 1000000000};
    if (!(x >= 0.0 && x <= 1.0) || signbit(x) || prec < 0 || prec > 9)
        return cli_buf_printf(b, "%.*f", prec, x);
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int ex = (int)(bits >> 52);
    uint64_t man = bits & ((UINT64_C(1) << 52) - 1);
    if (ex)
        man |= UINT64_C(1) << 52;
    else
        ex = 1; /* subnormal */
    const int shift = 1075 - ex; /* at least 52, as x <= 1 */
    uint64_t q = 0;
    if (shift < 84) { /* else x * 10^prec < 2^83 / 2^84: below one half */
        unsigned __int128 v = (unsigned __int128)man * pow10[prec];
        q = (uint64_t)(v >> shift);
        unsigned __int128 rem = v & (((unsigned __int128)1 << shift) - 1);
        unsigned __int128 half = (unsigned __int128)1 << (shift - 1);
        q += rem > half || (rem == half && (q & 1));
    }
    char d[12];
    size_t n = 0;
    d[n++] = (char)('0' + q / pow10[prec]); /* 0 or 1 */
    if (prec) {
        uint32_t f = (uint32_t)(q % pow10[prec]);
        d[n++] = '.';
        for (int i = prec - 1; i >= 0; i--) {
            d[n + (size_t)i] = (char)('0' + f % 10);
            f /= 10;
        }
        n += (size_t)prec;
    }
    return cli_buf_put(b, d, n);
}

int cli_buf_printf(cli_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return cli_buf_put(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = cli_buf_put(b, big, (size_t)n);
    free(big);
    return rc;
}

int cli_buf_json(cli_buf *b, const char *s, size_t n)
{
    return stance_json_append_string(&b->data, &b->len, &b->cap, s, n) ? -1 : 0;
}

void cli_buf_free(cli_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int cli_put_flat(cli_buf *b, const char *p, size_t n)
{
    /* room for the worst case, every byte invalid and replaced by 3 */
    if (b->len + 3 * n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + 3 * n + 1 > cap)
            cap *= 2;
        char *q = realloc(b->data, cap);
        if (!q)
            return -1;
        b->data = q;
        b->cap = cap;
    }
    /* runs of printable ASCII are copied as they are; tabs, line breaks and
     * other control characters (NUL among them) would break the line or the
     * column, so they become spaces; runs of bytes above 0x7f are repaired
     * to valid UTF-8 (an ASCII byte always ends an invalid sequence, so a
     * run repairs as it would in its context) */
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && u[j] >= 0x20 && u[j] < 0x7f)
            j++;
        memcpy(b->data + b->len, p + i, j - i);
        b->len += j - i;
        if (j == n)
            break;
        if (u[j] < 0x80) {
            b->data[b->len++] = ' ';
            i = j + 1;
            continue;
        }
        size_t k = j;
        while (k < n && u[k] >= 0x80)
            k++;
        b->len += stance_utf8_repair(p + j, k - j, b->data + b->len, NULL);
        i = k;
    }
    return 0;
}

int cli_sentence_json(cli_buf *b, const char *doc, size_t doc_len, size_t index,
                      const stance_sentence *s, const stance_model *m, const char *text,
                      int with_probs, int with_doc)
{
    return cli_sentence_json_text(b, doc, doc_len, index, s, m, text + s->start,
                                  s->end - s->start, with_probs, with_doc);
}

int cli_sentence_json_text(cli_buf *b, const char *doc, size_t doc_len, size_t index,
                           const stance_sentence *s, const stance_model *m, const char *sent,
                           size_t sent_len, int with_probs, int with_doc)
{
    int rc = cli_buf_put(b, "{", 1);
    if (with_doc) {
        rc |= cli_buf_put(b, "\"doc\":", 6);
        rc |= cli_buf_json(b, doc, doc_len);
        rc |= cli_buf_put(b, ",", 1);
    }
    rc |= cli_buf_put(b, "\"sentence\":", 11);
    rc |= cli_buf_uint(b, index);
    rc |= cli_buf_put(b, ",\"start\":", 9);
    rc |= cli_buf_uint(b, s->start);
    rc |= cli_buf_put(b, ",\"end\":", 7);
    rc |= cli_buf_uint(b, s->end);
    rc |= cli_buf_put(b, ",\"label\":", 9);
    const char *label = stance_model_label(m, s->label);
    rc |= cli_buf_json(b, label, strlen(label));
    if (with_probs) {
        rc |= cli_buf_put(b, ",\"probs\":{", 10);
        for (int k = 0; k < stance_model_nlabels(m); k++) {
            const char *l = stance_model_label(m, k);
            if (k)
                rc |= cli_buf_put(b, ",", 1);
            rc |= cli_buf_json(b, l, strlen(l));
            rc |= cli_buf_put(b, ":", 1);
            rc |= cli_buf_fixed(b, s->probs[k], 6);
        }
        rc |= cli_buf_put(b, "}", 1);
    }
    rc |= cli_buf_put(b, ",\"text\":", 8);
    rc |= cli_buf_json(b, sent, sent_len);
    rc |= cli_buf_put(b, "}", 1);
    return rc ? -1 : 0;
}
