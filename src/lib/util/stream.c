/* stream.c - read a file, or standard input, piece by piece, inflating gzip
 * member after member, and saying so when the data ends badly: a member cut
 * short, corrupt deflate data, or bytes after a member that are not another
 * one (zlib's own gzread ignores those in silence).
 *
 * Reads are read(2) on the descriptor, not fread: a read hands back what has
 * arrived, so that records coming slowly down a pipe (`tail -f feed.jsonl |
 * stance score --jsonl`) are scored as they come, not when 256 KiB have
 * gathered or the writer closes the pipe. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define RAW_CHUNK (256u << 10)

struct stance_stream {
    int fd;               /* -1: none */
    int is_stdin;
    char *name;
    unsigned char *raw;   /* compressed input */
    size_t raw_beg, raw_end;
    int raw_eof;
    uint64_t consumed;    /* raw bytes taken from the file */
    int gzip;             /* 0 plain, 1 gzip */
    int in_member;        /* inside a gzip member */
    int done;
    z_stream z;
    int pending;          /* an error met after some output: reported next */
    stance_error pending_err;
};

/* Read what has arrived, up to n bytes: their count, 0 at the end, or -1
 * (errno set). */
static ssize_t read_some(int fd, void *buf, size_t n)
{
    ssize_t k;
    do
        k = read(fd, buf, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n);
    while (k < 0 && errno == EINTR);
    return k;
}

/* Top up the raw buffer so that at least `want` bytes are available if the
 * file has them. */
static int fill(stance_stream *s, size_t want, stance_error *err)
{
    if (s->raw_end - s->raw_beg >= want || s->raw_eof)
        return STANCE_OK;
    if (s->raw_beg) {
        memmove(s->raw, s->raw + s->raw_beg, s->raw_end - s->raw_beg);
        s->raw_end -= s->raw_beg;
        s->raw_beg = 0;
    }
    while (s->raw_end < want && !s->raw_eof) {
        ssize_t n = read_some(s->fd, s->raw + s->raw_end, RAW_CHUNK - s->raw_end);
        if (n < 0)
            return st_error(err, STANCE_ERR_IO, "%s: read error: %s", s->name,
                            strerror(errno));
        s->raw_end += (size_t)n;
        if (n == 0)
            s->raw_eof = 1;
    }
    return STANCE_OK;
}

int stance_stream_open(const char *path, stance_stream **out, stance_error *err)
{
    *out = NULL;
    stance_stream *s = calloc(1, sizeof *s);
    if (!s)
        return st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
    s->fd = -1;
    s->is_stdin = strcmp(path, "-") == 0;
    s->name = st_strdup(s->is_stdin ? "stdin" : path);
    s->raw = malloc(RAW_CHUNK);
    if (!s->name || !s->raw) {
        stance_stream_close(s);
        return st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
    }
    s->fd = s->is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        int rc = st_error(err, STANCE_ERR_IO, "%s: %s", s->name, strerror(errno));
        stance_stream_close(s);
        return rc;
    }
    int rc = fill(s, 2, err);
    if (rc) {
        stance_stream_close(s);
        return rc;
    }
    if (s->raw_end >= 2 && s->raw[0] == 0x1f && s->raw[1] == 0x8b) {
        s->gzip = 1;
        if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
            stance_stream_close(s);
            return st_error(err, STANCE_ERR_NOMEM, "%s: cannot start decompression", path);
        }
        s->in_member = 1;
    }
    *out = s;
    return STANCE_OK;
}

/* Inflate into buf; *got has the bytes produced even when an error is
 * returned. */
static int read_gzip(stance_stream *s, unsigned char *buf, size_t n, size_t *got,
                     stance_error *err)
{
    size_t out = 0;
    *got = 0;
    while (out < n && !s->done) {
        /* hand out what is inflated rather than wait for more input */
        if (out > 0 && s->raw_beg == s->raw_end && !s->raw_eof)
            break;
        if (!s->in_member) {
            /* between members: another member, zero padding, or the end */
            int rc;
            for (;;) {
                if ((rc = fill(s, 2, err)))
                    return rc;
                while (s->raw_beg < s->raw_end && s->raw[s->raw_beg] == 0) {
                    s->raw_beg++;
                    s->consumed++;
                }
                /* stop on data, or at the end; zeros up to the buffer's
                 * end may hide more zeros or a member behind them */
                if (s->raw_beg < s->raw_end || s->raw_eof)
                    break;
            }
            if (s->raw_end - s->raw_beg < 2 && !s->raw_eof && (rc = fill(s, 2, err)))
                return rc;
            size_t left = s->raw_end - s->raw_beg;
            if (left == 0) {
                s->done = 1;
                break;
            }
            if (left < 2 || s->raw[s->raw_beg] != 0x1f || s->raw[s->raw_beg + 1] != 0x8b)
                return st_error(err, STANCE_ERR_FORMAT,
                                "%s: bytes after gzip data at byte %llu are not a gzip member "
                                "(corrupt or trailing garbage)",
                                s->name, (unsigned long long)s->consumed);
            inflateReset(&s->z);
            s->in_member = 1;
        }
        if (s->raw_beg == s->raw_end) {
            int rc = fill(s, 1, err);
            if (rc)
                return rc;
            if (s->raw_beg == s->raw_end)
                return st_error(err, STANCE_ERR_FORMAT,
                                "%s: truncated gzip data (the file ends inside a member, after "
                                "%llu bytes)",
                                s->name, (unsigned long long)s->consumed);
        }
        *got = out;
        s->z.next_in = s->raw + s->raw_beg;
        s->z.avail_in = (uInt)(s->raw_end - s->raw_beg);
        s->z.next_out = buf + out;
        s->z.avail_out = (uInt)((n - out) > (1u << 30) ? (1u << 30) : (n - out));
        int zr = inflate(&s->z, Z_NO_FLUSH);
        size_t used = (size_t)(s->z.next_in - (s->raw + s->raw_beg));
        s->raw_beg += used;
        s->consumed += used;
        out = (size_t)(s->z.next_out - buf);
        *got = out;
        if (zr == Z_STREAM_END) {
            s->in_member = 0;
            continue;
        }
        if (zr == Z_BUF_ERROR && used == 0 && s->raw_eof && s->raw_beg == s->raw_end)
            return st_error(err, STANCE_ERR_FORMAT,
                            "%s: truncated gzip data (the file ends inside a member, after "
                            "%llu bytes)",
                            s->name, (unsigned long long)s->consumed);
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return st_error(err, zr == Z_MEM_ERROR ? STANCE_ERR_NOMEM : STANCE_ERR_FORMAT,
                            "%s: corrupt gzip data near byte %llu: %s", s->name,
                            (unsigned long long)s->consumed, s->z.msg ? s->z.msg : "inflate");
    }
    *got = out;
    return STANCE_OK;
}

int stance_stream_read(stance_stream *s, void *buf, size_t n, size_t *got, stance_error *err)
{
    *got = 0;
    if (s->pending) {
        if (err)
            *err = s->pending_err;
        return s->pending;
    }
    if (!n || s->done)
        return STANCE_OK;
    if (s->gzip) {
        /* the data before a bad spot is handed out first, the error after */
        size_t out = 0;
        int rc = read_gzip(s, buf, n, &out, &s->pending_err);
        if (rc && out == 0) {
            if (err)
                *err = s->pending_err;
            return rc;
        }
        if (rc) {
            s->pending = rc;
            *got = out;
            return STANCE_OK;
        }
        *got = out;
        return STANCE_OK;
    }
    /* what has arrived, without waiting for more: the bytes left in the
     * raw buffer (read to recognise gzip), or one read straight into the
     * caller's buffer */
    size_t out = 0;
    if (s->raw_beg < s->raw_end) {
        out = s->raw_end - s->raw_beg < n ? s->raw_end - s->raw_beg : n;
        memcpy(buf, s->raw + s->raw_beg, out);
        s->raw_beg += out;
        s->consumed += out;
    } else if (!s->raw_eof) {
        ssize_t k = read_some(s->fd, buf, n);
        if (k < 0)
            return st_error(err, STANCE_ERR_IO, "%s: read error: %s", s->name,
                            strerror(errno));
        s->consumed += (size_t)k;
        out = (size_t)k;
        if (k == 0)
            s->raw_eof = 1;
    }
    if (out == 0 && s->raw_eof && s->raw_beg == s->raw_end)
        s->done = 1;
    *got = out;
    return STANCE_OK;
}

int stance_stream_ready(stance_stream *s, int timeout_ms)
{
    if (s->pending || s->done || s->raw_eof || s->raw_beg < s->raw_end)
        return 1;
    /* inflate stopped by a full output buffer may have more to give */
    if (s->gzip && s->in_member && s->z.avail_out == 0)
        return 1;
    struct pollfd p = {s->fd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) != 0; /* ready, or an error the read reports */
}

uint64_t stance_stream_offset(const stance_stream *s)
{
    return s->consumed;
}

void stance_stream_close(stance_stream *s)
{
    if (!s)
        return;
    if (s->gzip)
        inflateEnd(&s->z);
    if (s->fd >= 0)
        close(s->fd);
    free(s->raw);
    free(s->name);
    free(s);
}
