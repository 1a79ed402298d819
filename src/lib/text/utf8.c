/* utf8.c - the first stage: raw bytes -> valid UTF-8.
 *
 * Invalid sequences (overlongs, surrogates, code points above U+10FFFF,
 * truncated sequences, stray continuation bytes) are replaced by U+FFFD, one
 * replacement per maximal invalid subpart as the Unicode standard recommends,
 * and counted.  A byte map lets later stages report offsets in the caller's
 * original bytes. */
#include "internal.h"

/* Length of the valid sequence at s (1..4), or 0 if invalid; `left` bytes
 * are available.  *bad gets the length of the maximal invalid subpart. */
static size_t seq_len(const unsigned char *s, size_t left, size_t *bad)
{
    unsigned char c = s[0];
    *bad = 1;
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    for (size_t i = 1; i < need; i++) {
        if (i >= left)
            return 0;
        unsigned char b = s[i];
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (b < l || b > h)
            return 0;
        *bad = i + 1;
    }
    return need;
}

size_t st_utf8_seq(const unsigned char *s, size_t left)
{
    size_t bad;
    return seq_len(s, left, &bad);
}

size_t st_utf8_repair(const char *src, size_t len, char *dst, uint32_t *map, size_t *ninvalid,
                      int *has_nul)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, o = 0, nbad = 0;
    int nul = 0;
    while (i < len) {
        /* ASCII fast path */
        if (s[i] < 0x80) {
            if (s[i] == 0)
                nul = 1;
            if (map)
                map[o] = (uint32_t)i;
            dst[o++] = (char)s[i++];
            continue;
        }
        size_t bad;
        size_t n = seq_len(s + i, len - i, &bad);
        if (n) {
            for (size_t k = 0; k < n; k++) {
                if (map)
                    map[o] = (uint32_t)(i + k);
                dst[o++] = (char)s[i + k];
            }
            i += n;
        } else {
            /* the replacement covers the maximal invalid subpart */
            static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
            for (int k = 0; k < 3; k++) {
                if (map)
                    map[o] = (uint32_t)i;
                dst[o++] = fffd[k];
            }
            i += bad;
            nbad++;
        }
    }
    if (map)
        map[o] = (uint32_t)len;
    dst[o] = '\0';
    if (ninvalid)
        *ninvalid = nbad;
    if (has_nul)
        *has_nul = nul;
    return o;
}

int st_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        if (s[i] == 0)
            return 0;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t bad;
        size_t n = seq_len(s + i, len - i, &bad);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

size_t stance_utf8_valid_prefix(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, bad;
    while (i < len) {
        size_t n = s[i] < 0x80 ? 1 : seq_len(s + i, len - i, &bad);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

size_t stance_utf8_repair(const char *src, size_t len, char *dst, size_t *ninvalid)
{
    int has_nul;
    return st_utf8_repair(src, len, dst, NULL, ninvalid, &has_nul);
}
