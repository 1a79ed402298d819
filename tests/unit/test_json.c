/* test_json.c - the JSON Lines record parser, string decoding and writing. */
#include "internal.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

typedef struct vec {
    const char *in;
    size_t len;         /* 0: strlen(in) */
    const char *error;  /* NULL: valid; else a substring of the message */
} vec;

#define V(s) {s, sizeof(s) - 1, NULL}
#define X(s, e) {s, sizeof(s) - 1, e}

static const vec vectors[] = {
    /* valid */
    V("{}"),
    V("  {}  "),
    V("\t\r\n{ }\n"),
    V("{\"a\":1}"),
    V("{\"a\":-0}"),
    V("{\"a\":0.5}"),
    V("{\"a\":-12.5e+10}"),
    V("{\"a\":1E-3}"),
    V("{\"a\":1e5,\"b\":0e0}"),
    V("{\"a\":true,\"b\":false,\"c\":null}"),
    V("{\"a\":[]}"),
    V("{\"a\":[1,[2,[3]],{\"b\":{}}]}"),
    V("{\"a\":\"\"}"),
    V("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}"),
    V("{\"a\":\"\\u0041\\u00e9\\u4e2d\"}"),
    V("{\"a\":\"\\uD83D\\uDE00\"}"),
    V("{\"a\":\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"}"),
    V("{\"a\":1,\"a\":2}"),
    V("{\"\":0}"),
    V("{\"a\" : [ 1 , 2 ] , \"b\" : { \"c\" : \"d\" } }"),
    V("{\"\\u0000\":\"\\u0000\"}"),
    V("{\"a\":\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"}"),
    /* invalid */
    X("", "empty input"),
    X("   ", "empty input"),
    X("[]", "expected '{'"),
    X("\"a\"", "expected '{'"),
    X("1", "expected '{'"),
    X("{", "unexpected end of input"),
    X("{\"a\"", "expected ':'"),
    X("{\"a\":", "expected a value"),
    X("{\"a\":1", "expected ',' or '}'"),
    X("{\"a\":1,}", "trailing comma before '}'"),
    X("{\"a\":[1,]}", "trailing comma before ']'"),
    X("{\"a\":[1 2]}", "expected ',' or ']'"),
    X("{,}", "expected a string key"),
    X("{a:1}", "expected a string key"),
    X("{'a':1}", "expected a string key"),
    X("{1:1}", "expected a string key"),
    X("{\"a\":1}x", "expected nothing after the object"),
    X("{\"a\":1}{}", "expected nothing after the object"),
    X("{\"a\":01}", "leading zeros"),
    X("{\"a\":-01}", "leading zeros"),
    X("{\"a\":00}", "leading zeros"),
    X("{\"a\":1.}", "expected a digit after '.'"),
    X("{\"a\":.5}", "expected a value"),
    X("{\"a\":-}", "expected a digit"),
    X("{\"a\":+1}", "expected a value"),
    X("{\"a\":1e}", "exponent"),
    X("{\"a\":1e+}", "exponent"),
    X("{\"a\":0x10}", "expected ',' or '}'"),
    X("{\"a\":NaN}", "expected a value"),
    X("{\"a\":Infinity}", "expected a value"),
    X("{\"a\":tru}", "invalid literal"),
    X("{\"a\":True}", "expected a value"),
    X("{\"a\":nul}", "invalid literal"),
    X("{\"a\":\"abc}", "unterminated string"),
    X("{\"a\":\"\\x41\"}", "invalid escape '\\x'"),
    X("{\"a\":\"\\'\"}", "invalid escape"),
    X("{\"a\":\"\\u12\"}", "four hex digits"),
    X("{\"a\":\"\\u12G4\"}", "four hex digits"),
    X("{\"a\":\"\\uD83D\"}", "lone high surrogate"),
    X("{\"a\":\"\\uD83Dx\"}", "lone high surrogate"),
    X("{\"a\":\"\\uD83D\\u0041\"}", "lone high surrogate"),
    X("{\"a\":\"\\uD83D\\uD83D\"}", "lone high surrogate"),
    X("{\"a\":\"\\uDE00\"}", "lone low surrogate"),
    X("{\"a\":\"\\uDE00\\uD83D\"}", "lone low surrogate"),
    X("{\"a\":\"tab\there\"}", "unescaped control character 0x09"),
    X("{\"a\":\"nl\nhere\"}", "unescaped control character 0x0A"),
    X("{\"a\":\"nul\0here\"}", "unescaped control character 0x00"),
    X("{\"a\":\"\x80\"}", "invalid UTF-8"),
    X("{\"a\":\"\xc3\"}", "invalid UTF-8"),
    X("{\"a\":\"\xc0\xaf\"}", "invalid UTF-8"),            /* overlong '/' */
    X("{\"a\":\"\xe0\x80\xaf\"}", "invalid UTF-8"),        /* overlong */
    X("{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8"),        /* encoded surrogate */
    X("{\"a\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8"),    /* above U+10FFFF */
    X("{\"a\":\"\xf5\x80\x80\x80\"}", "invalid UTF-8"),
    X("{\"a\":\"\xff\"}", "invalid UTF-8"),
    X("{\"a\":\"\xe4\xb8\"}", "invalid UTF-8"),            /* truncated */
    X("{\"\xe9\":1}", "invalid UTF-8"),                     /* in a key */
    X("{\"a\":1}\xef\xbb\xbf", "expected nothing after the object"),
    X("\xef\xbb\xbf{\"a\":1}", "expected '{'"),             /* the caller strips a BOM */
    X("{\"a\":[}", "expected a value"),
    X("{\"a\":{]}", "expected a string key"),
    X("{\"a\":[1}", "expected ',' or ']'"),
    X("{\"a\":{\"b\":1]}", "expected ',' or '}'"),
    X("{\"a\" 1}", "expected ':'"),
    X("{\"a\":1 \"b\":2}", "expected ',' or '}'"),
    X("{\"a\":1}}", "expected nothing after the object"),
    X("{\"a\":\x01}", "unexpected byte 0x01"),
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const vec *v = &vectors[i];
        stance_json_member m[8];
        size_t n = 99;
        stance_error err = {0, ""};
        int rc = stance_json_parse_object(v->in, v->len, m, 8, &n, &err);
        if (!v->error) {
            CHECK_MSG(rc == STANCE_OK, "vector %zu should parse: %s", i, err.msg);
        } else {
            CHECK_MSG(rc == STANCE_ERR_FORMAT, "vector %zu should fail (%s)", i, v->error);
            CHECK_MSG(err.code == STANCE_ERR_FORMAT, "vector %zu: err.code", i);
            CHECK_MSG(strncmp(err.msg, "column ", 7) == 0, "vector %zu: '%s'", i, err.msg);
            CHECK_MSG(strstr(err.msg, v->error) != NULL, "vector %zu: '%s' lacks '%s'", i,
                      err.msg, v->error);
            CHECK_MSG(n == 0, "vector %zu: n must be 0 on failure", i);
        }
    }
}

static void test_columns(void)
{
    stance_error err;
    size_t n;
    CHECK(stance_json_parse_object("{\"a\":01}", 8, NULL, 0, &n, &err) == STANCE_ERR_FORMAT);
    CHECK_STR(err.msg, "column 6: leading zeros are not allowed in numbers");
    CHECK(stance_json_parse_object("{\"a\":1,}", 8, NULL, 0, &n, &err) == STANCE_ERR_FORMAT);
    CHECK_STR(err.msg, "column 8: trailing comma before '}'");
    CHECK(stance_json_parse_object("  x", 3, NULL, 0, &n, &err) == STANCE_ERR_FORMAT);
    CHECK_STR(err.msg, "column 3: unexpected 'x', expected '{' (a record must be a JSON object)");
    CHECK(stance_json_parse_object("{\"a\":\"\\uDE00\"}", 14, NULL, 0, &n, &err) != 0);
    CHECK_STR(err.msg, "column 7: lone low surrogate \\uDE00");
}

static void test_members(void)
{
    const char *s = " {\"label\" : \"neutral\", \"n\":-1.5e3,\"obj\":{\"x\":[1,{}]},"
                    "\"arr\":[],\"t\":true,\"k\\\"q\":\"v\\n\"} ";
    stance_json_member m[8];
    size_t n = 0;
    stance_error err;
    CHECK(stance_json_parse_object(s, strlen(s), m, 8, &n, &err) == STANCE_OK);
    CHECK_INT(n, 6);
    if (n != 6)
        return;
    CHECK(m[0].key_len == 5 && memcmp(m[0].key, "label", 5) == 0);
    CHECK(m[0].value_len == 9 && memcmp(m[0].value, "\"neutral\"", 9) == 0);
    CHECK_INT(m[0].is_string, 1);
    CHECK(m[1].value_len == 6 && memcmp(m[1].value, "-1.5e3", 6) == 0);
    CHECK_INT(m[1].is_string, 0);
    CHECK(m[2].value_len == 12 && memcmp(m[2].value, "{\"x\":[1,{}]}", 12) == 0);
    CHECK_INT(m[2].is_string, 0);
    CHECK(m[3].value_len == 2 && memcmp(m[3].value, "[]", 2) == 0);
    CHECK(m[4].value_len == 4 && memcmp(m[4].value, "true", 4) == 0);
    CHECK(m[5].key_len == 4 && memcmp(m[5].key, "k\\\"q", 4) == 0); /* still escaped */
    CHECK(m[5].value_len == 5 && m[5].is_string);

    /* more members than room: the first cap are filled, n counts all */
    stance_json_member two[2];
    CHECK(stance_json_parse_object(s, strlen(s), two, 2, &n, &err) == STANCE_OK);
    CHECK_INT(n, 6);
    CHECK(two[1].key_len == 1 && two[1].key[0] == 'n');
    CHECK(stance_json_parse_object(s, strlen(s), NULL, 0, &n, &err) == STANCE_OK);
    CHECK_INT(n, 6);

    /* duplicate keys are both reported, in order */
    CHECK(stance_json_parse_object("{\"a\":1,\"a\":2}", 13, m, 8, &n, &err) == STANCE_OK);
    CHECK(n == 2 && m[0].value[0] == '1' && m[1].value[0] == '2');

    /* the length bounds the input: bytes after it are not looked at */
    CHECK(stance_json_parse_object("{\"a\":1}garbage", 7, m, 8, &n, &err) == STANCE_OK);
    CHECK(stance_json_parse_object("{\"a\":1}", 6, m, 8, &n, &err) == STANCE_ERR_FORMAT);
    CHECK(stance_json_parse_object("{\"a\":12", 6, m, 8, &n, &err) == STANCE_ERR_FORMAT);
}

/* "{"a":" then depth-1 more levels of nesting */
static char *nested(int depth, int objects)
{
    size_t cap = (size_t)depth * 8 + 16;
    char *s = malloc(cap), *p = s;
    p += sprintf(p, "{\"a\":");
    for (int i = 1; i < depth; i++)
        p += sprintf(p, objects ? "{\"b\":" : "[");
    *p++ = '0';
    for (int i = 1; i < depth; i++)
        *p++ = objects ? '}' : ']';
    *p++ = '}';
    *p = '\0';
    return s;
}

static void test_depth(void)
{
    stance_error err;
    size_t n;
    for (int objects = 0; objects < 2; objects++) {
        char *s = nested(64, objects);
        CHECK_MSG(stance_json_parse_object(s, strlen(s), NULL, 0, &n, &err) == STANCE_OK,
                  "64 levels must parse: %s", err.msg);
        free(s);
        s = nested(65, objects);
        CHECK(stance_json_parse_object(s, strlen(s), NULL, 0, &n, &err) == STANCE_ERR_FORMAT);
        CHECK(strstr(err.msg, "nested deeper than 64 levels") != NULL);
        free(s);
    }
    /* a megabyte of '[' fails fast at the cap instead of recursing */
    size_t big = 1 << 20;
    char *s = malloc(big);
    s[0] = '{';
    memcpy(s + 1, "\"a\":", 4);
    memset(s + 5, '[', big - 5);
    CHECK(stance_json_parse_object(s, big, NULL, 0, &n, &err) == STANCE_ERR_FORMAT);
    CHECK(strstr(err.msg, "nested deeper") != NULL);
    free(s);
}

static void check_decode(const char *raw, const char *want, size_t want_len)
{
    char *out = NULL;
    size_t len = 0;
    stance_error err = {0, ""};
    int rc = stance_json_decode_string(raw, strlen(raw), &out, &len, &err);
    CHECK_MSG(rc == STANCE_OK, "decode %s: %s", raw, err.msg);
    CHECK_MSG(out && len == want_len && memcmp(out, want, want_len) == 0 && out[len] == '\0',
              "decode %s", raw);
    free(out);
}

static void test_decode(void)
{
    check_decode("\"\"", "", 0);
    check_decode("\"plain\"", "plain", 5);
    check_decode("\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d", 7);
    check_decode("\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 5);
    check_decode("\"\\u0041\\u00E9\\u4e2d\"", "A\xc3\xa9\xe4\xb8\xad", 6);
    check_decode("\"\\uD83D\\uDE00!\"", "\xf0\x9f\x98\x80!", 5);
    check_decode("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);
    check_decode("\"x\\u0000y\"", "x\0y", 3);
    check_decode("\"caf\xc3\xa9\"", "caf\xc3\xa9", 5);

    char *out = (char *)1;
    size_t len;
    stance_error err;
    CHECK(stance_json_decode_string("\"\\uD800\"", 8, &out, &len, &err) == STANCE_ERR_FORMAT);
    CHECK(out == NULL);
    CHECK(strstr(err.msg, "lone high surrogate") != NULL);
    CHECK(stance_json_decode_string("\"ab\"c", 5, &out, &len, &err) == STANCE_ERR_FORMAT);
    CHECK(stance_json_decode_string("abc", 3, &out, &len, &err) == STANCE_ERR_FORMAT);
    CHECK(stance_json_decode_string("\"abc", 4, &out, &len, &err) == STANCE_ERR_FORMAT);
    CHECK(stance_json_decode_string("\"\xff\"", 3, &out, &len, &err) == STANCE_ERR_FORMAT);
    CHECK(stance_json_decode_string("\"\\q\"", 4, &out, &len, &err) == STANCE_ERR_FORMAT);
}

/* Append text and compare with the expected JSON. */
static void check_append(const char *text, size_t len, const char *want)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;
    CHECK(stance_json_append_string(&buf, &n, &cap, text, len) == STANCE_OK);
    CHECK_MSG(buf && n == strlen(want) && memcmp(buf, want, n) == 0 && buf[n] == '\0',
              "append: got '%s', want '%s'", buf ? buf : "(null)", want);
    /* what is written must parse back to the same (repaired) text */
    char *dec = NULL;
    size_t dl = 0;
    CHECK(buf && stance_json_decode_string(buf, n, &dec, &dl, NULL) == STANCE_OK);
    free(dec);
    free(buf);
}

static void test_append(void)
{
    check_append("", 0, "\"\"");
    check_append("plain text", 10, "\"plain text\"");
    check_append("q\"b\\s/", 6, "\"q\\\"b\\\\s/\"");
    check_append("\n\t\r\b\f", 5, "\"\\n\\t\\r\\b\\f\"");
    check_append("\x01\x1f\0x", 4, "\"\\u0001\\u001f\\u0000x\"");
    check_append("caf\xc3\xa9 \xf0\x9f\x98\x80", 10, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
    check_append("a\xffz", 3, "\"a\xef\xbf\xbdz\"");
    check_append("\xc3", 1, "\"\xef\xbf\xbd\"");
    check_append("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    check_append("\x7f", 1, "\"\x7f\"");

    /* appending to a buffer that already holds something, growing it */
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int ok = 1;
    for (int i = 0; i < 1000; i++) {
        ok &= stance_json_append_string(&buf, &n, &cap, "abc\n", 4) == STANCE_OK;
        ok &= stance_json_append_string(&buf, &n, &cap, ",", 1) == STANCE_OK;
    }
    CHECK(ok);
    CHECK_INT(n, 1000 * 10);
    CHECK(cap > n && buf[n] == '\0' && memcmp(buf, "\"abc\\n\"\",\"", 10) == 0);
    free(buf);
    buf = NULL;
    n = cap = 0;
    CHECK(stance_json_append_string(&buf, &n, &cap, NULL, 1) == STANCE_ERR_ARG);
    CHECK(stance_json_append_string(&buf, &n, &cap, NULL, 0) == STANCE_OK);
    CHECK(buf && strcmp(buf, "\"\"") == 0);
    free(buf);

    /* every single byte value comes out as valid JSON */
    for (int c = 0; c < 256; c++) {
        char in = (char)c;
        buf = NULL;
        n = cap = 0;
        CHECK(stance_json_append_string(&buf, &n, &cap, &in, 1) == STANCE_OK);
        char wrapped[32];
        snprintf(wrapped, sizeof wrapped, "{\"k\":%s}", buf);
        size_t nm;
        stance_error err;
        CHECK_MSG(stance_json_parse_object(wrapped, strlen(wrapped), NULL, 0, &nm, &err) == 0,
                  "byte 0x%02x: %s", c, err.msg);
        free(buf);
    }
}

int main(void)
{
    test_vectors();
    test_columns();
    test_members();
    test_depth();
    test_decode();
    test_append();
    return UNIT_REPORT("test_json");
}
