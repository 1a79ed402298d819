/* chunks.c - a document read as a stream of chunks that end at line
 * breaks (at blank lines with --wrapped), which never fall inside a
 * sentence: memory stays bounded by the longest line or paragraph, not by
 * the file, and offsets stay those of the whole document. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where the first line of buf[0..n) longer than max starts (paragraph,
 * with --wrapped), or n if there is none. */
static size_t first_long_unit(const char *buf, size_t n, int wrapped, size_t max)
{
    size_t start = 0;
    if (!wrapped) {
        /* lines: from one line break to the next, found by memchr */
        const char *p = buf, *end = buf + n, *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            if ((size_t)(nl - p) > max)
                return (size_t)(p - buf);
            p = nl + 1;
        }
        return (size_t)(end - p) > max ? (size_t)(p - buf) : n;
    }
    for (size_t i = 0; i <= n; i++) {
        if (i < n && buf[i] != '\n')
            continue;
        if (i < n) {
            /* a paragraph ends only at a blank line */
            size_t j = i + 1;
            while (j < n && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r'))
                j++;
            if (j < n && buf[j] != '\n')
                continue;
        }
        if (i - start > max)
            return start;
        start = i + 1;
    }
    return n;
}

/* Line breaks in buf[0..n). */
static size_t count_lines(const char *buf, size_t n)
{
    size_t k = 0;
    const char *p = buf, *end = buf + n;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        k++;
        p++;
    }
    return k;
}

/* Where a chunk of buf[0..n) may end without cutting a sentence: after the
 * last line break, or with --wrapped after the last blank line.  0 if
 * none. */
static size_t cut_point(const char *buf, size_t n, int wrapped)
{
    for (size_t i = n; i > 0; i--) {
        if (buf[i - 1] != '\n')
            continue;
        if (!wrapped)
            return i;
        /* a blank line: another line break before this one, with only
         * spaces, tabs or CRs between */
        size_t j = i - 1;
        while (j > 0 && (buf[j - 1] == ' ' || buf[j - 1] == '\t' || buf[j - 1] == '\r'))
            j--;
        if (j > 0 && buf[j - 1] == '\n')
            return i;
    }
    return 0;
}

size_t cli_first_invalid_line(const char *text, size_t len, size_t first_line)
{
    size_t at = stance_utf8_valid_prefix(text, len);
    return at == len ? 0 : first_line + count_lines(text, at);
}

void cli_warn_invalid_utf8(const char *cmd, const char *doc, size_t n, size_t line)
{
    cli_error(cmd, "%s:%zu: warning: %zu invalid UTF-8 sequence%s replaced by U+FFFD (the first "
                   "on this line)", doc, line, n, n == 1 ? "" : "s");
}

int cli_stream_chunks(const char *cmd, const char *path, int wrapped, size_t max_line,
                      cli_chunk_fn fn, cli_idle_fn idle, void *ctx)
{
    enum { CHUNK = 1 << 20 };
    const char *doc = strcmp(path, "-") == 0 ? "stdin" : path;
    const char *unit = wrapped ? "paragraph" : "line";
    stance_error err = {0};
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error(cmd, "%s: a folder, not a file (stance score reads folders)", path);
        return EXIT_IO;
    }
    stance_stream *in = NULL;
    int rc = stance_stream_open(path, &in, &err);
    if (rc) {
        /* "stance classify 'Moscow condemned the raid.'" names no file */
        int sentence = strcmp(cmd, "classify") == 0 && strchr(path, ' ') != NULL &&
                       access(path, F_OK) != 0;
        cli_error(cmd, "%s%s", err.msg, sentence ? " (to pass text itself, use --text)" : "");
        return cli_exit_code(rc);
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, base = 0;
    size_t line = 1; /* the line number of buf[0] */
    int status = EXIT_OK, eof = 0;
    while (!eof) {
        if (cap - len < CHUNK) {
            size_t ncap = cap ? cap * 2 : 2 * CHUNK;
            char *p = realloc(buf, ncap);
            if (!p) {
                cli_error(cmd, "%s: out of memory", doc);
                status = EXIT_IO;
                goto done;
            }
            buf = p;
            cap = ncap;
        }
        if (idle && !stance_stream_ready(in, CLI_IDLE_MS) && (status = idle(ctx, doc)))
            goto done;
        size_t got = 0;
        if ((rc = stance_stream_read(in, buf + len, CHUNK, &got, &err))) {
            cli_error(cmd, "%s", err.msg);
            status = cli_exit_code(rc);
            goto done;
        }
        len += got;
        eof = got == 0;
        size_t cut = eof ? len : cut_point(buf, len, wrapped);
        if (cut == 0) {
            if (len > max_line) {
                cli_error(cmd, "%s:%zu: a %s of over %zu bytes (--max-bytes)", doc, line, unit,
                          max_line);
                status = EXIT_DATA;
                goto done;
            }
            continue;
        }
        if (cut < len / 2 && !eof && len < 2 * CHUNK)
            continue; /* read on: a larger chunk amortises the calls */
        /* A line that is too long or holds a NUL byte stops the document
         * where it starts: the lines before it are classified first. */
        size_t bad = first_long_unit(buf, cut, wrapped, max_line);
        const char *nul = memchr(buf, '\0', bad < cut ? bad : cut);
        if (nul)
            bad = cut_point(buf, (size_t)(nul - buf), wrapped);
        if (bad < cut) {
            if (bad && (status = fn(ctx, doc, buf, bad, base, line)))
                goto done;
            size_t at = line + count_lines(buf, bad);
            if (nul)
                cli_error(cmd, "%s:%zu: binary content (NUL byte at byte %zu)", doc,
                          at + count_lines(buf + bad, (size_t)(nul - buf) - bad),
                          base + (size_t)(nul - buf));
            else
                cli_error(cmd, "%s:%zu: a %s of over %zu bytes (--max-bytes)", doc, at, unit,
                          max_line);
            status = EXIT_DATA;
            goto done;
        }
        if ((status = fn(ctx, doc, buf, cut, base, line)))
            goto done;
        line += count_lines(buf, cut);
        memmove(buf, buf + cut, len - cut);
        len -= cut;
        base += cut;
    }
done:
    stance_stream_close(in);
    free(buf);
    return status;
}
