/* oracle.h - checks the fuzz targets make with code written apart from the
 * library's, so that a bug there cannot hide itself. */
#ifndef STANCE_FUZZ_ORACLE_H
#define STANCE_FUZZ_ORACLE_H

#include <stddef.h>

/* Strict UTF-8 as Unicode defines it: no overlongs, surrogates or code
 * points over U+10FFFF; NUL bytes allowed only if allow_nul. */
static int oracle_utf8_valid(const unsigned char *s, size_t len, int allow_nul)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c == 0 && !allow_nul)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else {
            return 0;
        }
        if (len - i - 1 < need)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return 0;
        i += need + 1;
    }
    return 1;
}

#endif
