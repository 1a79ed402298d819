/* test_corpus.c - reading TSV and JSON Lines corpora, gzip, duplicates,
 * metadata, and every kind of error with its exact "FILE:LINE: ..." text. */
#include "corpus/corpus.h"
#include "internal.h"
#include "unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[256];

/* A path in the temporary folder (static storage, rotating). */
static const char *tmp_path(const char *name)
{
    static char paths[8][512];
    static int k;
    char *p = paths[k++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    const char *p = tmp_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", p);
        exit(2);
    }
    fclose(f);
    return p;
}

static const char *write_str(const char *name, const char *s)
{
    return write_file(name, s, strlen(s));
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

#define H "id\tlabel\tlang\tvoice\tsituation\ttext\n"

/* Adding path must fail with status rc and exactly the message want
 * ("%s" in want stands for the path), leaving the corpus as it was. */
static void expect_error(stance_corpus *c, const char *path, int rc, const char *want)
{
    size_t n = stance_corpus_size(c), d = stance_corpus_duplicates(c);
    int nf = st_corpus_nfiles(c);
    char msg[1024];
    snprintf(msg, sizeof msg, want, path);
    stance_error err = {0, ""};
    int got = stance_corpus_add_file(c, path, &err);
    CHECK_MSG(got == rc, "%s: status %d, want %d (%s)", path, got, rc, err.msg);
    CHECK_MSG(err.code == rc, "%s: err.code %d", path, err.code);
    CHECK_STR(err.msg, msg);
    CHECK_MSG(stance_corpus_size(c) == n && stance_corpus_duplicates(c) == d &&
                  st_corpus_nfiles(c) == nf,
              "%s: a failed file changed the corpus", path);
}

static void test_tsv(void)
{
    stance_corpus *c = NULL;
    CHECK(stance_corpus_new(&c) == STANCE_OK && c);
    const char *data = "\xEF\xBB\xBF" H
                       "a1\tneutral\ten\tnews\tx-1\tThe ministers met in Geneva.\r\n"
                       "\n"
                       "a2\t restraint \tes\tofficial\tx-2\t  Pidi\xc3\xb3 moderaci\xc3\xb3n.  \r\n"
                       "a3\tcondemnation\tru\tanalysis\t\t\xd0\x9e\xd1\x81\xd1\x83\xd0\xb6\xd0\xb4\xd0\xb0\xd0\xb5\xd0\xbc.";
    const char *p = write_str("ok.tsv", data);
    stance_error err = {0, ""};
    CHECK_MSG(stance_corpus_add_file(c, p, &err) == STANCE_OK, "%s", err.msg);
    CHECK_INT(stance_corpus_size(c), 3);
    CHECK_INT(stance_corpus_duplicates(c), 0);
    CHECK_STR(stance_corpus_label(c, 0), "neutral");
    CHECK_STR(stance_corpus_text(c, 0), "The ministers met in Geneva.");
    CHECK_STR(stance_corpus_field(c, 0, "id"), "a1"); /* BOM stripped from the header */
    CHECK_STR(stance_corpus_field(c, 0, "situation"), "x-1");
    CHECK_STR(stance_corpus_field(c, 0, "label"), "neutral");
    CHECK(stance_corpus_field(c, 0, "missing") == NULL);
    CHECK(stance_corpus_field(c, 0, "Label") == NULL);
    CHECK_STR(stance_corpus_label(c, 1), "restraint");
    CHECK_STR(stance_corpus_text(c, 1), "Pidi\xc3\xb3 moderaci\xc3\xb3n.");
    CHECK_STR(stance_corpus_field(c, 1, "voice"), "official"); /* CR stripped */
    CHECK_STR(stance_corpus_field(c, 2, "situation"), "");
    CHECK_STR(stance_corpus_text(c, 2), "\xd0\x9e\xd1\x81\xd1\x83\xd0\xb6\xd0\xb4\xd0\xb0\xd0\xb5\xd0\xbc.");
    CHECK(stance_corpus_text(c, 3) == NULL && stance_corpus_label(c, 3) == NULL);
    CHECK(stance_corpus_field(c, 3, "id") == NULL);
    CHECK_INT(st_corpus_line(c, 0), 2);
    CHECK_INT(st_corpus_line(c, 1), 4); /* the blank line 3 is skipped */
    CHECK_INT(st_corpus_line(c, 2), 5);
    CHECK_INT(st_corpus_source(c, 2), 0);
    CHECK_INT(st_corpus_nfiles(c), 1);
    CHECK_STR(st_corpus_file_name(c, 0), p);
    CHECK_INT(st_corpus_file_records(c, 0), 3);
    char sha[65];
    st_sha256_hex(data, strlen(data), sha);
    CHECK_STR(st_corpus_file_sha256(c, 0), sha);
    CHECK(st_corpus_file_name(c, 1) == NULL && st_corpus_file_sha256(c, -1) == NULL);

    /* only label and text are required; any column order */
    p = write_str("min.tsv", "text\tlabel\nSome text here.\tneutral\n");
    CHECK_MSG(stance_corpus_add_file(c, p, &err) == STANCE_OK, "%s", err.msg);
    CHECK_INT(stance_corpus_size(c), 4);
    CHECK_STR(stance_corpus_text(c, 3), "Some text here.");
    CHECK(stance_corpus_field(c, 3, "id") == NULL); /* no such column in this file */
    CHECK_INT(st_corpus_source(c, 3), 1);
    stance_corpus_free(c);
    stance_corpus_free(NULL);
}

static void test_jsonl(void)
{
    stance_corpus *c = NULL;
    stance_corpus_new(&c);
    const char *data =
        "\xEF\xBB\xBF{\"id\":\"j1\",\"label\":\"neutral\",\"text\":\"Talks \\\"resume\\\" \\u2014 "
        "today.\\n\",\"n\":-1.5e3,\"ok\":true,\"obj\":{\"x\":[1]},\"nul\":null}\r\n"
        "   \n"
        "{\"text\":\"  Second \\u00e9\\uD83D\\uDE00 text  \",\"label\":\"restraint\",\"id\":\"j2\","
        "\"id\":\"dup\",\"l\\u0061bel\":\"ignored\",\"k\\u00e9y\":7}\n"
        "{\"label\":\"neutral\",\"text\":\"Third.\",\"label\":\"ignored\",\"text\":5}";
    const char *p = write_str("ok.jsonl", data);
    stance_error err = {0, ""};
    CHECK_MSG(stance_corpus_add_file(c, p, &err) == STANCE_OK, "%s", err.msg);
    CHECK_INT(stance_corpus_size(c), 3);
    CHECK_STR(stance_corpus_label(c, 0), "neutral");
    CHECK_STR(stance_corpus_text(c, 0), "Talks \"resume\" \xe2\x80\x94 today.");
    CHECK_STR(stance_corpus_field(c, 0, "id"), "j1");
    CHECK_STR(stance_corpus_field(c, 0, "n"), "-1.5e3"); /* raw number text */
    CHECK(stance_corpus_field(c, 0, "ok") == NULL);        /* booleans are not kept */
    CHECK(stance_corpus_field(c, 0, "obj") == NULL);
    CHECK(stance_corpus_field(c, 0, "nul") == NULL);
    CHECK_STR(stance_corpus_text(c, 1), "Second \xc3\xa9\xf0\x9f\x98\x80 text");
    CHECK_STR(stance_corpus_label(c, 1), "restraint");
    CHECK_STR(stance_corpus_field(c, 1, "id"), "j2"); /* the first of duplicate keys */
    CHECK_STR(stance_corpus_field(c, 1, "k\xc3\xa9y"), "7"); /* escaped key decoded */
    CHECK(stance_corpus_field(c, 1, "n") == NULL);
    CHECK_INT(st_corpus_line(c, 1), 3);
    CHECK_STR(stance_corpus_label(c, 2), "neutral");
    CHECK_STR(stance_corpus_text(c, 2), "Third.");
    CHECK_INT(st_corpus_line(c, 2), 4);
    stance_corpus_free(c);
}

static void test_duplicates(void)
{
    stance_corpus *c = NULL;
    stance_corpus_new(&c);
    stance_error err = {0, ""};
    const char *a = write_str("dup-a.tsv", "label\ttext\tsrc\n"
                                           "neutral\tSame words.\ta1\n"
                                           "neutral\t  Same words.\ta2\n" /* dup (trimmed) */
                                           "restraint\tSame words.\ta3\n" /* conflict */
                                           "neutral\tOther words.\ta4\n"
                                           "restraint\tSame words.\ta5\n"); /* dup of a3 */
    CHECK_MSG(stance_corpus_add_file(c, a, &err) == STANCE_OK, "%s", err.msg);
    CHECK_INT(stance_corpus_size(c), 3);
    CHECK_INT(stance_corpus_duplicates(c), 2);
    CHECK_INT(st_corpus_conflicts(c), 1);
    CHECK_INT(st_corpus_file_records(c, 0), 3);
    CHECK_STR(stance_corpus_field(c, 1, "src"), "a3");
    CHECK_STR(stance_corpus_field(c, 2, "src"), "a4");
    CHECK_INT(st_corpus_line(c, 2), 5);

    const char *b = write_str("dup-b.jsonl",
                              "{\"label\":\"neutral\",\"text\":\"Other words. \"}\n"  /* dup */
                              "{\"label\":\"restraint\",\"text\":\"Same words.\"}\n" /* dup */
                              "{\"label\":\"neutral\",\"text\":\"New words.\"}\n"
                              "{\"label\":\"pragmatic\",\"text\":\"Same words.\"}\n"); /* conflict */
    CHECK_MSG(stance_corpus_add_file(c, b, &err) == STANCE_OK, "%s", err.msg);
    CHECK_INT(stance_corpus_size(c), 5);
    CHECK_INT(stance_corpus_duplicates(c), 4);
    CHECK_INT(st_corpus_conflicts(c), 2);
    CHECK_INT(st_corpus_file_records(c, 1), 2);
    CHECK_STR(stance_corpus_text(c, 3), "New words.");
    CHECK_INT(st_corpus_source(c, 3), 1);
    CHECK_INT(st_corpus_line(c, 3), 3);

    /* a file whose records are all duplicates is fine, and adds nothing */
    CHECK_MSG(stance_corpus_add_file(c, a, &err) == STANCE_OK, "%s", err.msg);
    CHECK_INT(stance_corpus_size(c), 5);
    CHECK_INT(stance_corpus_duplicates(c), 9);
    CHECK_INT(st_corpus_nfiles(c), 3);
    CHECK_INT(st_corpus_file_records(c, 2), 0);

    int added = -1;
    CHECK(stance_corpus_add(c, "neutral", " New words.\n", &added, &err) == STANCE_OK);
    CHECK_INT(added, 0);
    CHECK_INT(stance_corpus_duplicates(c), 10);
    CHECK(stance_corpus_add(c, "neutral", "Brand new.", &added, &err) == STANCE_OK);
    CHECK_INT(added, 1);
    CHECK_INT(stance_corpus_size(c), 6);
    CHECK_STR(stance_corpus_text(c, 5), "Brand new.");
    CHECK_INT(st_corpus_source(c, 5), -1);
    CHECK_INT(st_corpus_line(c, 5), 0);
    CHECK(stance_corpus_field(c, 5, "src") == NULL);
    CHECK(stance_corpus_add(c, "restraint", "Brand new.", NULL, &err) == STANCE_OK);
    CHECK_INT(st_corpus_conflicts(c), 3);
    CHECK(stance_corpus_add(c, "", "Text.", &added, &err) == STANCE_ERR_FORMAT);
    CHECK_STR(err.msg, "empty label");
    CHECK(stance_corpus_add(c, "neutral", " \t\n", &added, &err) == STANCE_ERR_FORMAT);
    CHECK_STR(err.msg, "empty text");
    CHECK(stance_corpus_add(c, "neutral", "bad \xff", &added, &err) == STANCE_ERR_FORMAT);
    CHECK_STR(err.msg, "invalid UTF-8 at byte 5 of the text");
    CHECK(stance_corpus_add(c, NULL, "x", &added, &err) == STANCE_ERR_ARG);
    CHECK_INT(stance_corpus_size(c), 7);

    /* many records: the table grows and still finds every duplicate */
    stance_corpus *big = NULL;
    stance_corpus_new(&big);
    char text[64];
    int ok = 1;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 20000; i++) {
            snprintf(text, sizeof text, "sentence %d", i);
            ok &= stance_corpus_add(big, i % 3 ? "a" : "b", text, &added, NULL) == STANCE_OK;
            ok &= added == !round;
        }
    CHECK(ok);
    CHECK_INT(stance_corpus_size(big), 20000);
    CHECK_INT(stance_corpus_duplicates(big), 20000);
    CHECK_INT(st_corpus_conflicts(big), 0);
    stance_corpus_free(big);
    stance_corpus_free(c);
}

static void test_errors(void)
{
    stance_corpus *c = NULL;
    stance_corpus_new(&c);
    stance_error err;
    /* one good file first, so "unchanged" is checked against a non-empty corpus */
    const char *good = write_str("good.tsv", H "a1\tneutral\ten\tnews\tx-1\tA sentence.\n");
    CHECK(stance_corpus_add_file(c, good, &err) == STANCE_OK);

    expect_error(c, write_str("fields.tsv", H "a1\tneutral\ten\tnews\tx-1\tFine.\n"
                                            "a2\tneutral\ten\tx-1\tShort.\n"),
                 STANCE_ERR_FORMAT, "%s:3: expected 6 fields, found 5");
    expect_error(c, write_str("fields7.tsv", H "a1\tneutral\ten\tnews\tx-1\tFine.\tmore\n"),
                 STANCE_ERR_FORMAT, "%s:2: expected 6 fields, found 7");
    expect_error(c, write_str("blankish.tsv", H "a1\tneutral\ten\tnews\tx-1\tFine.\n \n"),
                 STANCE_ERR_FORMAT, "%s:3: expected 6 fields, found 1");
    expect_error(c, write_str("label.tsv", H "a1\t \ten\tnews\tx-1\tFine.\n"),
                 STANCE_ERR_FORMAT, "%s:2: empty label");
    expect_error(c, write_str("text.tsv", H "a1\tneutral\ten\tnews\tx-1\tFine.\r\n"
                                          "a2\tneutral\ten\tnews\tx-1\t \t\r\n"),
                 STANCE_ERR_FORMAT, "%s:3: expected 6 fields, found 7");
    expect_error(c, write_str("text2.tsv", H "a1\tneutral\ten\tnews\tx-1\t   \r\n"),
                 STANCE_ERR_FORMAT, "%s:2: empty text");
    expect_error(c, write_str("text3.tsv", H "a1\tneutral\ten\tnews\tx-1\t\n"),
                 STANCE_ERR_FORMAT, "%s:2: empty text");
    expect_error(c, write_str("utf8.tsv", H "a1\tneutral\ten\tnews\tx-1\tFine.\n"
                                          "a2\tneutral\ten\tnews\tx-1\tBad \xc3\x28 byte.\n"),
                 STANCE_ERR_FORMAT, "%s:3: invalid UTF-8 at byte 28 of the line");
    expect_error(c, write_str("utf8h.tsv", "id\tla\xffl\ttext\n"), STANCE_ERR_FORMAT,
                 "%s:1: invalid UTF-8 at byte 6 of the line");
    expect_error(c, write_str("overlong.tsv", H "a1\tneutral\ten\tnews\tx-1\t\xc0\xaf.\n"),
                 STANCE_ERR_FORMAT, "%s:2: invalid UTF-8 at byte 24 of the line");
    expect_error(c, write_str("surrogate.tsv", H "a1\tneutral\ten\tnews\tx-1\t\xed\xa0\x80.\n"),
                 STANCE_ERR_FORMAT, "%s:2: invalid UTF-8 at byte 24 of the line");
    expect_error(c, write_file("nul.tsv", H "a1\tneutral\ten\tnews\tx-1\tNo\0pe.\n",
                               sizeof(H) - 1 + 30),
                 STANCE_ERR_FORMAT, "%s:2: NUL byte at byte 26 of the line");
    expect_error(c, write_str("header.tsv", H), STANCE_ERR_FORMAT, "%s: no records");
    expect_error(c, write_str("header2.tsv", H "\n\r\n"), STANCE_ERR_FORMAT, "%s: no records");
    expect_error(c, write_str("empty.tsv", ""), STANCE_ERR_FORMAT,
                 "%s: empty file, no header line");
    expect_error(c, write_str("nolabel.tsv", "id\tcategory\ttext\na\tb\tc\n"), STANCE_ERR_FORMAT,
                 "%s:1: the header must have 'label' and 'text' columns (no 'label' column)");
    expect_error(c, write_str("notext.tsv", "label\tTEXT\na\tb\n"), STANCE_ERR_FORMAT,
                 "%s:1: the header must have 'label' and 'text' columns (no 'text' column)");
    expect_error(c, write_str("dupcol.tsv", "label\ttext\tid\tid\na\tb\tc\td\n"),
                 STANCE_ERR_FORMAT, "%s:1: duplicate column 'id'");
    expect_error(c, write_str("duplabel.tsv", "label\ttext\tlabel\na\tb\tc\n"),
                 STANCE_ERR_FORMAT, "%s:1: duplicate column 'label'");
    expect_error(c, write_str("emptycol.tsv", "label\t\ttext\na\tb\tc\n"), STANCE_ERR_FORMAT,
                 "%s:1: column 2 has no name");

    /* JSON Lines */
    expect_error(c, write_str("missing.jsonl", "{\"label\":\"neutral\",\"text\":\"Fine.\"}\n"
                                               "{\"label\":\"neutral\"}\n"),
                 STANCE_ERR_FORMAT, "%s:2: missing field \"text\"");
    expect_error(c, write_str("missing2.jsonl", "\n{\"text\":\"Fine.\"}\n"), STANCE_ERR_FORMAT,
                 "%s:2: missing field \"label\"");
    expect_error(c, write_str("type.jsonl", "{\"label\":1,\"text\":\"Fine.\"}\n"),
                 STANCE_ERR_FORMAT, "%s:1: field \"label\" is not a string");
    expect_error(c, write_str("type2.jsonl", "{\"label\":\"a\",\"text\":[\"Fine.\"]}\n"),
                 STANCE_ERR_FORMAT, "%s:1: field \"text\" is not a string");
    expect_error(c, write_str("type3.jsonl", "{\"label\":\"a\",\"text\":null}\n"),
                 STANCE_ERR_FORMAT, "%s:1: field \"text\" is not a string");
    expect_error(c, write_str("syntax.jsonl", "{\"label\":\"a\",\"text\":\"b\"}\n"
                                              "{\"label\":\"a\",\"text\":\"c\",}\n"),
                 STANCE_ERR_FORMAT, "%s:2: column 25: trailing comma before '}'");
    expect_error(c, write_str("array.jsonl", "[\"a\",\"b\"]\n"), STANCE_ERR_FORMAT,
                 "%s:1: column 1: unexpected '[', expected '{' (a record must be a JSON object)");
    expect_error(c, write_str("two.jsonl", "{\"label\":\"a\",\"text\":\"b\"} {}\n"),
                 STANCE_ERR_FORMAT,
                 "%s:1: column 26: unexpected '{', expected nothing after the object");
    expect_error(c, write_str("emptyj.jsonl", "{\"label\":\"a\",\"text\":\" \\n \"}\n"),
                 STANCE_ERR_FORMAT, "%s:1: empty text");
    expect_error(c, write_str("emptyl.jsonl", "{\"label\":\"\",\"text\":\"b\"}\n"),
                 STANCE_ERR_FORMAT, "%s:1: empty label");
    expect_error(c, write_str("nulj.jsonl", "{\"label\":\"a\",\"text\":\"b\\u0000c\"}\n"),
                 STANCE_ERR_FORMAT, "%s:1: field \"text\" contains a NUL character");
    expect_error(c, write_str("nulm.jsonl", "{\"label\":\"a\",\"text\":\"b\",\"m\":\"\\u0000\"}\n"),
                 STANCE_ERR_FORMAT, "%s:1: field \"m\" contains a NUL character");
    expect_error(c, write_str("utf8.jsonl", "{\"label\":\"a\",\"text\":\"\xe2\x82\"}\n"),
                 STANCE_ERR_FORMAT, "%s:1: invalid UTF-8 at byte 22 of the line");
    expect_error(c, write_str("surr.jsonl", "{\"label\":\"a\",\"text\":\"\\uDC00\"}\n"),
                 STANCE_ERR_FORMAT, "%s:1: column 22: lone low surrogate \\uDC00");
    expect_error(c, write_file("nul.jsonl", "{\"label\":\"a\",\"text\":\"b\0\"}\n", 26),
                 STANCE_ERR_FORMAT, "%s:1: NUL byte at byte 23 of the line");
    expect_error(c, write_str("blank.jsonl", "\n  \n\r\n"), STANCE_ERR_FORMAT, "%s: no records");
    expect_error(c, write_str("zero.jsonl", ""), STANCE_ERR_FORMAT, "%s: no records");

    /* I/O */
    expect_error(c, tmp_path("does-not-exist.tsv"), STANCE_ERR_IO,
                 "%s: No such file or directory");

    CHECK_INT(stance_corpus_size(c), 1);
    CHECK_INT(st_corpus_nfiles(c), 1);
    CHECK(stance_corpus_add_file(c, NULL, &err) == STANCE_ERR_ARG);
    CHECK(stance_corpus_add_file(NULL, good, &err) == STANCE_ERR_ARG);
    stance_corpus_free(c);
}

static void test_long_lines(void)
{
    stance_corpus *c = NULL;
    stance_corpus_new(&c);
    stance_error err = {0, ""};
    /* exactly 1 MiB of line (without the '\n') is accepted, one byte more is not */
    size_t limit = (size_t)1 << 20;
    const char *pre = "neutral\t";
    size_t hl = strlen("label\ttext\n");
    char *buf = malloc(hl + limit + 2);
    memcpy(buf, "label\ttext\n", hl);
    memcpy(buf + hl, pre, strlen(pre));
    memset(buf + hl + strlen(pre), 'a', limit - strlen(pre));
    buf[hl + limit] = '\n';
    const char *p = write_file("mib.tsv", buf, hl + limit + 1);
    CHECK_MSG(stance_corpus_add_file(c, p, &err) == STANCE_OK, "%s", err.msg);
    CHECK_INT(stance_corpus_size(c), 1);
    CHECK(stance_corpus_text(c, 0) && strlen(stance_corpus_text(c, 0)) == limit - strlen(pre));
    buf[hl + limit] = 'a';
    buf[hl + limit + 1] = '\n';
    p = write_file("mib1.tsv", buf, hl + limit + 2);
    expect_error(c, p, STANCE_ERR_TOOBIG, "%s:2: line is 1048577 bytes, over the 1 MiB limit");
    /* CR counts as part of the line for the limit, as any other byte */
    buf[hl + limit] = '\r';
    p = write_file("mibcr.tsv", buf, hl + limit + 2);
    expect_error(c, p, STANCE_ERR_TOOBIG, "%s:2: line is 1048577 bytes, over the 1 MiB limit");
    free(buf);
    stance_corpus_free(c);
}

/* Write text as a gzip file with zlib's gz* API. */
static const char *write_gz(const char *name, const char *text)
{
    const char *p = tmp_path(name);
    gzFile g = gzopen(p, "wb9");
    if (!g || gzwrite(g, text, (unsigned)strlen(text)) != (int)strlen(text) || gzclose(g) != Z_OK) {
        fprintf(stderr, "cannot write %s\n", p);
        exit(2);
    }
    return p;
}

static void test_gzip(void)
{
    stance_corpus *c = NULL;
    stance_corpus_new(&c);
    stance_error err = {0, ""};
    const char *tsv = H "g1\tneutral\ten\tnews\tx-1\tCompressed sentence one.\n"
                        "g2\trestraint\ten\tnews\tx-1\tCompressed sentence two.\n";
    const char *p = write_gz("corpus.tsv.gz", tsv);
    CHECK_MSG(stance_corpus_add_file(c, p, &err) == STANCE_OK, "%s", err.msg);
    CHECK_INT(stance_corpus_size(c), 2);
    CHECK_STR(stance_corpus_text(c, 1), "Compressed sentence two.");
    CHECK_STR(stance_corpus_field(c, 1, "id"), "g2");
    /* the provenance hash is of the compressed bytes on disk */
    size_t len = 0;
    char *raw = slurp(p, &len);
    char sha[65], plain_sha[65];
    st_sha256_hex(raw, len, sha);
    st_sha256_hex(tsv, strlen(tsv), plain_sha);
    CHECK_STR(st_corpus_file_sha256(c, 0), sha);
    CHECK(strcmp(st_corpus_file_sha256(c, 0), plain_sha) != 0);

    const char *jsonl = "{\"label\":\"neutral\",\"text\":\"Compressed JSON line.\",\"id\":\"j9\"}\n";
    const char *q = write_gz("corpus.jsonl.gz", jsonl);
    CHECK_MSG(stance_corpus_add_file(c, q, &err) == STANCE_OK, "%s", err.msg);
    CHECK_INT(stance_corpus_size(c), 3);
    CHECK_STR(stance_corpus_text(c, 2), "Compressed JSON line.");
    CHECK_STR(stance_corpus_field(c, 2, "id"), "j9");

    /* truncated: every cut of the compressed file fails and changes nothing */
    int all_failed = 1, unchanged = 1;
    for (size_t cut = 1; cut < len; cut += 3) {
        const char *t = write_file("cut.tsv.gz", raw, cut);
        int rc = stance_corpus_add_file(c, t, &err);
        all_failed &= rc != STANCE_OK;
        unchanged &= stance_corpus_size(c) == 3 && st_corpus_nfiles(c) == 2;
    }
    CHECK(all_failed);
    CHECK(unchanged);
    const char *t = write_file("half.tsv.gz", raw, len / 2);
    CHECK(stance_corpus_add_file(c, t, &err) == STANCE_ERR_FORMAT);
    CHECK_MSG(strncmp(err.msg, t, strlen(t)) == 0 && strstr(err.msg, "truncated gzip"),
              "%s", err.msg);
    free(raw);
    stance_corpus_free(c);
}

static const char *srcdir(void)
{
    const char *d = getenv("STANCE_SRCDIR");
    return d && *d ? d : ".";
}

/* The committed broken corpora, each with its exact error. */
static void test_fixtures(void)
{
    static const struct {
        const char *file;
        int rc;
        const char *msg; /* after "PATH" */
    } cases[] = {
        {"unknown-columns.tsv", STANCE_ERR_FORMAT,
         ":1: the header must have 'label' and 'text' columns (no 'label' column)"},
        {"empty-text.tsv", STANCE_ERR_FORMAT, ":3: empty text"},
        {"empty-label.tsv", STANCE_ERR_FORMAT, ":2: empty label"},
        {"invalid-utf8.tsv", STANCE_ERR_FORMAT, ":2: invalid UTF-8 at byte 48 of the line"},
        {"invalid-utf8.jsonl", STANCE_ERR_FORMAT, ":1: invalid UTF-8 at byte 52 of the line"},
        {"missing-field.jsonl", STANCE_ERR_FORMAT, ":2: missing field \"text\""},
        {"text-not-string.jsonl", STANCE_ERR_FORMAT, ":1: field \"text\" is not a string"},
        {"bad-json.jsonl", STANCE_ERR_FORMAT, ":1: column 44: trailing comma before '}'"},
        {"wrong-field-count.tsv", STANCE_ERR_FORMAT, ":3: expected 6 fields, found 5"},
        {"header-only.tsv", STANCE_ERR_FORMAT, ": no records"},
        {"nul-byte.tsv", STANCE_ERR_FORMAT, ":2: NUL byte at byte 41 of the line"},
    };
    stance_corpus *c = NULL;
    stance_corpus_new(&c);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1024], want[1200];
        snprintf(path, sizeof path, "%s/tests/bad-corpora/%s", srcdir(), cases[i].file);
        if (access(path, R_OK) != 0) {
            CHECK_MSG(0, "fixture %s missing (run from the repository root or set "
                         "STANCE_SRCDIR)", path);
            continue;
        }
        snprintf(want, sizeof want, "%%s%s", cases[i].msg);
        expect_error(c, path, cases[i].rc, want);
    }
    CHECK_INT(stance_corpus_size(c), 0);

    /* the big ones are made at test time */
    char cmd[2048], dir[600];
    snprintf(dir, sizeof dir, "%s/big", tmpdir);
    snprintf(cmd, sizeof cmd, "sh '%s/tests/bad-corpora/make-big.sh' '%s'", srcdir(), dir);
    if (!CHECK_MSG(system(cmd) == 0, "%s failed", cmd)) {
        stance_corpus_free(c);
        return;
    }
    expect_error(c, tmp_path("big/long-line.tsv"), STANCE_ERR_TOOBIG,
                 "%s:2: line is 10485760 bytes, over the 1 MiB limit");
    expect_error(c, tmp_path("big/long-line.jsonl"), STANCE_ERR_TOOBIG,
                 "%s:1: line is 10485760 bytes, over the 1 MiB limit");
    const char *t = tmp_path("big/truncated.tsv.gz");
    stance_error err = {0, ""};
    CHECK(stance_corpus_add_file(c, t, &err) == STANCE_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, "truncated gzip") != NULL, "%s", err.msg);
    CHECK_INT(stance_corpus_size(c), 0);
    stance_corpus_free(c);
}

static void test_buffer(void)
{
    stance_corpus *c = NULL;
    stance_corpus_new(&c);
    stance_error err = {0, ""};
    const char data[] = "label\ttext\nneutral\tFrom memory.";
    CHECK(st_corpus_add_buffer(c, "mem.tsv", data, sizeof data - 1, &err) == STANCE_OK);
    CHECK_STR(stance_corpus_text(c, 0), "From memory.");
    CHECK_STR(data, "label\ttext\nneutral\tFrom memory."); /* borrowed, not modified */
    char sha[65];
    st_sha256_hex(data, sizeof data - 1, sha);
    CHECK_STR(st_corpus_file_sha256(c, 0), sha);
    const char js[] = "{\"label\":\"x\",\"text\":\"y\"}";
    CHECK(st_corpus_add_buffer(c, "mem.jsonl", js, sizeof js - 1, &err) == STANCE_OK);
    CHECK(st_corpus_add_buffer(c, "mem.jsonl", js, sizeof js - 2, &err) == STANCE_ERR_FORMAT);
    CHECK_STR(err.msg, "mem.jsonl:1: column 24: unexpected end of input, expected ',' or '}'");
    CHECK(st_corpus_add_buffer(c, "mem.tsv", NULL, 0, &err) == STANCE_ERR_FORMAT);
    CHECK_INT(stance_corpus_size(c), 2);
    CHECK_INT(st_corpus_nfiles(c), 2);
    stance_corpus_free(c);
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_corpus.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_tsv();
    test_jsonl();
    test_duplicates();
    test_errors();
    test_long_lines();
    test_gzip();
    test_fixtures();
    test_buffer();
    rm_rf(tmpdir);
    return UNIT_REPORT("test_corpus");
}
