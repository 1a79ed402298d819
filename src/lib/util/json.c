/* json.c - the strict RFC 8259 subset the library needs: validate one JSON
 * Lines record (an object) and hand back its top-level members as byte spans,
 * decode string values, and write strings as JSON.
 *
 * The parser is iterative with an explicit stack of at most ST_JSON_DEPTH
 * containers, so hostile nesting cannot exhaust the C stack.  Columns in
 * error messages are 1-based byte offsets into the parsed text; the caller
 * prefixes "file:line: ".
 *
 * Duplicate keys are accepted (RFC 8259 only says they SHOULD be unique); the
 * members are reported in input order and every caller takes the first
 * occurrence of a key, so for lookups the first one wins. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define ST_JSON_DEPTH 64

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Describe the byte at s[at] (or the end of input) for an error message. */
static int unexpected(const char *s, size_t len, size_t at, const char *wanted, stance_error *err)
{
    if (at >= len)
        return st_error(err, STANCE_ERR_FORMAT, "column %zu: unexpected end of input, %s", at + 1,
                        wanted);
    unsigned char c = (unsigned char)s[at];
    if (c > 0x20 && c < 0x7f)
        return st_error(err, STANCE_ERR_FORMAT, "column %zu: unexpected '%c', %s", at + 1, c,
                        wanted);
    return st_error(err, STANCE_ERR_FORMAT, "column %zu: unexpected byte 0x%02X, %s", at + 1, c,
                    wanted);
}

/* Four hex digits at s[at..at+4) -> *u, or -1. */
static int hex4(const unsigned char *s, size_t len, size_t at, unsigned *u)
{
    if (len - at < 4)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < 4; i++) {
        int h = hexval(s[at + i]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    *u = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Scan the string whose opening quote is at s[pos]; *end gets the offset
 * after the closing quote.  When out is not NULL the decoded bytes are
 * written there (never more than the raw length) and *out_len set. */
static int scan_string(const char *str, size_t len, size_t pos, size_t *end, char *out,
                       size_t *out_len, stance_error *err)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = pos + 1, o = 0;
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    for (;;) {
        /* eight plain ASCII bytes at a time: none is '"', '\\', a control
         * character or part of a multi-byte sequence */
        while (len - i >= 8) {
            uint64_t w, q, b;
            memcpy(&w, s + i, 8);
            q = w ^ (ones * '"');
            b = w ^ (ones * '\\');
            if ((w & highs) || ((w - ones * 0x20) & ~w & highs) || ((q - ones) & ~q & highs) ||
                ((b - ones) & ~b & highs))
                break;
            if (out)
                memcpy(out + o, s + i, 8);
            o += 8;
            i += 8;
        }
        if (i >= len)
            return st_error(err, STANCE_ERR_FORMAT,
                            "column %zu: unterminated string (opened at column %zu)", i + 1,
                            pos + 1);
        unsigned char c = s[i];
        if (c == '"') {
            i++;
            break;
        }
        if (c < 0x20)
            return st_error(err, STANCE_ERR_FORMAT,
                            "column %zu: unescaped control character 0x%02X in string", i + 1, c);
        if (c == '\\') {
            if (i + 1 >= len)
                return st_error(err, STANCE_ERR_FORMAT,
                                "column %zu: unterminated string (opened at column %zu)", i + 2,
                                pos + 1);
            unsigned char e = s[i + 1];
            char simple = 0;
            switch (e) {
            case '"': simple = '"'; break;
            case '\\': simple = '\\'; break;
            case '/': simple = '/'; break;
            case 'b': simple = '\b'; break;
            case 'f': simple = '\f'; break;
            case 'n': simple = '\n'; break;
            case 'r': simple = '\r'; break;
            case 't': simple = '\t'; break;
            case 'u': break;
            default:
                if (e > 0x20 && e < 0x7f)
                    return st_error(err, STANCE_ERR_FORMAT, "column %zu: invalid escape '\\%c'",
                                    i + 1, e);
                return st_error(err, STANCE_ERR_FORMAT,
                                "column %zu: invalid escape: byte 0x%02X after '\\'", i + 1, e);
            }
            if (simple) {
                if (out)
                    out[o++] = simple;
                i += 2;
                continue;
            }
            unsigned u;
            if (hex4(s, len, i + 2, &u))
                return st_error(err, STANCE_ERR_FORMAT,
                                "column %zu: '\\u' must be followed by four hex digits", i + 1);
            if (u >= 0xDC00 && u <= 0xDFFF)
                return st_error(err, STANCE_ERR_FORMAT,
                                "column %zu: lone low surrogate \\u%04X", i + 1, u);
            unsigned cp = u;
            size_t used = 6;
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned lo;
                if (len - (i + 6) < 2 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
                    hex4(s, len, i + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return st_error(err, STANCE_ERR_FORMAT,
                                    "column %zu: lone high surrogate \\u%04X", i + 1, u);
                cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                used = 12;
            }
            if (out)
                o += put_utf8(out + o, cp);
            i += used;
            continue;
        }
        if (c < 0x80) {
            if (out)
                out[o++] = (char)c;
            i++;
            continue;
        }
        size_t n = st_utf8_seq(s + i, len - i);
        if (!n)
            return st_error(err, STANCE_ERR_FORMAT, "column %zu: invalid UTF-8 in string",
                            i + 1);
        if (out) {
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
    }
    *end = i;
    if (out_len)
        *out_len = o;
    return STANCE_OK;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? starting at s[pos]. */
static int scan_number(const char *str, size_t len, size_t pos, size_t *end, stance_error *err)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = pos;
#define DIGIT(k) ((k) < len && s[k] >= '0' && s[k] <= '9')
    if (i < len && s[i] == '-')
        i++;
    if (!DIGIT(i))
        return unexpected(str, len, i, "expected a digit", err);
    if (s[i] == '0') {
        i++;
        if (DIGIT(i))
            return st_error(err, STANCE_ERR_FORMAT,
                            "column %zu: leading zeros are not allowed in numbers", pos + 1);
    } else
        while (DIGIT(i))
            i++;
    if (i < len && s[i] == '.') {
        i++;
        if (!DIGIT(i))
            return unexpected(str, len, i, "expected a digit after '.'", err);
        while (DIGIT(i))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!DIGIT(i))
            return unexpected(str, len, i, "expected a digit in the exponent", err);
        while (DIGIT(i))
            i++;
    }
#undef DIGIT
    *end = i;
    return STANCE_OK;
}

enum { S_OBJ_FIRST, S_OBJ_KEY, S_ARR_FIRST, S_VALUE, S_AFTER };

int stance_json_parse_object(const char *line, size_t len, stance_json_member *members,
                             size_t cap, size_t *n, stance_error *err)
{
    char stack[ST_JSON_DEPTH];
    int depth = 0;
    size_t count = 0, pos = 0, vstart = 0;
    int state, rc;

    if (n)
        *n = 0;
    if (!members)
        cap = 0;
    if (!line && len)
        return st_error(err, STANCE_ERR_ARG, "no input");
    while (pos < len && is_ws((unsigned char)line[pos]))
        pos++;
    if (pos >= len)
        return st_error(err, STANCE_ERR_FORMAT, "column %zu: empty input, expected an object",
                        pos + 1);
    if (line[pos] != '{')
        return unexpected(line, len, pos, "expected '{' (a record must be a JSON object)", err);
    stack[depth++] = '{';
    pos++;
    state = S_OBJ_FIRST;

    for (;;) {
        while (pos < len && is_ws((unsigned char)line[pos]))
            pos++;
        char c = pos < len ? line[pos] : '\0';
        int is_string = 0;
        size_t end = pos;

        switch (state) {
        case S_OBJ_FIRST:
        case S_OBJ_KEY:
            if (pos < len && c == '}') {
                if (state == S_OBJ_KEY)
                    return st_error(err, STANCE_ERR_FORMAT,
                                    "column %zu: trailing comma before '}'", pos + 1);
                pos++;
                depth--;
                goto value_done;
            }
            if (pos >= len || c != '"')
                return unexpected(line, len, pos, "expected a string key", err);
            if ((rc = scan_string(line, len, pos, &end, NULL, NULL, err)))
                return rc;
            if (depth == 1 && count < cap) {
                members[count].key = line + pos + 1;
                members[count].key_len = end - pos - 2;
            }
            pos = end;
            while (pos < len && is_ws((unsigned char)line[pos]))
                pos++;
            if (pos >= len || line[pos] != ':')
                return unexpected(line, len, pos, "expected ':' after the key", err);
            pos++;
            state = S_VALUE;
            continue;

        case S_ARR_FIRST:
            if (pos < len && c == ']') {
                pos++;
                depth--;
                goto value_done;
            }
            /* fall through */
        case S_VALUE:
            if (depth == 1)
                vstart = pos;
            if (pos >= len)
                return unexpected(line, len, pos, "expected a value", err);
            if (c == '{' || c == '[') {
                if (depth >= ST_JSON_DEPTH)
                    return st_error(err, STANCE_ERR_FORMAT,
                                    "column %zu: nested deeper than %d levels", pos + 1,
                                    ST_JSON_DEPTH);
                stack[depth++] = c;
                pos++;
                state = c == '{' ? S_OBJ_FIRST : S_ARR_FIRST;
                continue;
            }
            if (c == '"') {
                if ((rc = scan_string(line, len, pos, &end, NULL, NULL, err)))
                    return rc;
                is_string = 1;
                pos = end;
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                if ((rc = scan_number(line, len, pos, &end, err)))
                    return rc;
                pos = end;
            } else if (c == 't' || c == 'f' || c == 'n') {
                const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
                size_t wl = strlen(word);
                if (len - pos < wl || memcmp(line + pos, word, wl) != 0)
                    return st_error(err, STANCE_ERR_FORMAT,
                                    "column %zu: invalid literal, expected '%s'", pos + 1, word);
                pos += wl;
            } else if (c == ']' && stack[depth - 1] == '[') {
                return st_error(err, STANCE_ERR_FORMAT, "column %zu: trailing comma before ']'",
                                pos + 1);
            } else
                return unexpected(line, len, pos, "expected a value", err);
            goto value_done;

        case S_AFTER:
            if (pos < len && c == ',') {
                pos++;
                state = stack[depth - 1] == '{' ? S_OBJ_KEY : S_VALUE;
                continue;
            }
            if (pos < len && c == stack[depth - 1] + 2) { /* '{'+2 == '}', '['+2 == ']' */
                pos++;
                depth--;
                goto value_done;
            }
            return unexpected(line, len, pos,
                              stack[depth - 1] == '{' ? "expected ',' or '}'"
                                                      : "expected ',' or ']'",
                              err);
        }

    value_done:
        if (depth == 0)
            break;
        if (depth == 1) {
            /* a member value of the top object just ended: a scalar at depth
             * 1, or a container that closed back to depth 1 */
            if (count < cap) {
                members[count].value = line + vstart;
                members[count].value_len = pos - vstart;
                members[count].is_string = is_string;
            }
            count++;
        }
        state = S_AFTER;
    }

    while (pos < len && is_ws((unsigned char)line[pos]))
        pos++;
    if (pos < len)
        return unexpected(line, len, pos, "expected nothing after the object", err);
    if (n)
        *n = count;
    return STANCE_OK;
}

int stance_json_decode_string(const char *value, size_t len, char **out, size_t *out_len,
                              stance_error *err)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!value || len < 2 || value[0] != '"')
        return st_error(err, STANCE_ERR_FORMAT, "column 1: expected a JSON string");
    char *buf = malloc(len); /* decoded bytes never exceed the raw ones minus quotes */
    if (!buf)
        return st_error(err, STANCE_ERR_NOMEM, "out of memory");
    size_t end, n;
    int rc = scan_string(value, len, 0, &end, buf, &n, err);
    if (rc) {
        free(buf);
        return rc;
    }
    if (end != len) {
        free(buf);
        return unexpected(value, len, end, "expected the end of the string", err);
    }
    buf[n] = '\0';
    *out = buf;
    if (out_len)
        *out_len = n;
    return STANCE_OK;
}

/* Bytes needed to write text as JSON (without quotes). */
static size_t escaped_len(const unsigned char *s, size_t len, int *overflow)
{
    size_t need = 0, i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t add, step = 1;
        if (c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r' || c == '\b' ||
            c == '\f')
            add = 2;
        else if (c < 0x20)
            add = 6;
        else if (c < 0x80)
            add = 1;
        else {
            size_t k = st_utf8_seq(s + i, len - i);
            add = k ? k : 3; /* U+FFFD */
            step = k ? k : 1;
        }
        if (need > SIZE_MAX - add) {
            *overflow = 1;
            return 0;
        }
        need += add;
        i += step;
    }
    return need;
}

int stance_json_append_string(char **buf, size_t *len, size_t *cap, const char *text,
                              size_t text_len)
{
    static const char hex[] = "0123456789abcdef";
    if (!buf || !len || !cap || (!text && text_len))
        return STANCE_ERR_ARG;
    const unsigned char *s = (const unsigned char *)text;
    int overflow = 0;
    size_t need = escaped_len(s, text_len, &overflow);
    /* quotes and a terminating NUL kept after the data */
    if (overflow || need > SIZE_MAX - 3 || *len > SIZE_MAX - 3 - need)
        return STANCE_ERR_NOMEM;
    size_t want = *len + need + 3;
    if (want > *cap || !*buf) {
        size_t nc = *cap ? *cap : 64;
        while (nc < want)
            nc = nc > SIZE_MAX / 2 ? want : nc * 2;
        char *p = realloc(*buf, nc);
        if (!p)
            return STANCE_ERR_NOMEM;
        *buf = p;
        *cap = nc;
    }
    char *o = *buf + *len;
    *o++ = '"';
    size_t i = 0;
    while (i < text_len) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char)c;
            i++;
            continue;
        }
        if (c < 0x80) {
            *o++ = '\\';
            switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\n': *o++ = 'n'; break;
            case '\t': *o++ = 't'; break;
            case '\r': *o++ = 'r'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default:
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 15];
            }
            i++;
            continue;
        }
        size_t k = st_utf8_seq(s + i, text_len - i);
        if (k) {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        } else {
            *o++ = (char)0xEF;
            *o++ = (char)0xBF;
            *o++ = (char)0xBD;
            i++;
        }
    }
    *o++ = '"';
    *o = '\0';
    *len = (size_t)(o - *buf);
    return STANCE_OK;
}
