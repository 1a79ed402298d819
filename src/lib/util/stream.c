/* stream.c - read a file, or standard input, piece by piece, inflating gzip
 * member after member, and saying so when the data ends badly: a member cut
 * short, corrupt deflate data, or bytes after a member that are not another
 * one (zlib's own gzread ignores those in silence). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define RAW_CHUNK (256u << 10)

struct stance_stream {
    FILE *f;
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
        size_t n = fread(s->raw + s->raw_end, 1, RAW_CHUNK - s->raw_end, s->f);
        s->raw_end += n;
        if (n == 0) {
            if (ferror(s->f))
                return st_error(err, STANCE_ERR_IO, "%s: read error: %s", s->name,
                                strerror(errno));
            s->raw_eof = 1;
        }
    }
    return STANCE_OK;
}

int stance_stream_open(const char *path, stance_stream **out, stance_error *err)
{
    *out = NULL;
    stance_stream *s = calloc(1, sizeof *s);
    if (!s)
        return st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
    s->is_stdin = strcmp(path, "-") == 0;
    s->name = st_strdup(s->is_stdin ? "stdin" : path);
    s->raw = malloc(RAW_CHUNK);
    if (!s->name || !s->raw) {
        stance_stream_close(s);
        return st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
    }
    if (s->is_stdin) {
        int fd = dup(STDIN_FILENO);
        s->f = fd < 0 ? NULL : fdopen(fd, "rb");
        if (!s->f && fd >= 0)
            close(fd);
    } else {
        s->f = fopen(path, "rb");
    }
    if (!s->f) {
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
    size_t out = 0;
    unsigned char *b = buf;
    while (out < n) {
        if (s->raw_beg < s->raw_end) {
            size_t k = s->raw_end - s->raw_beg < n - out ? s->raw_end - s->raw_beg : n - out;
            memcpy(b + out, s->raw + s->raw_beg, k);
            s->raw_beg += k;
            s->consumed += k;
            out += k;
            continue;
        }
        if (s->raw_eof)
            break;
        /* large reads go straight to the caller's buffer */
        size_t k = fread(b + out, 1, n - out, s->f);
        s->consumed += k;
        out += k;
        if (k == 0) {
            if (ferror(s->f))
                return st_error(err, STANCE_ERR_IO, "%s: read error: %s", s->name,
                                strerror(errno));
            s->raw_eof = 1;
        }
        break;
    }
    if (out == 0 && s->raw_eof && s->raw_beg == s->raw_end)
        s->done = 1;
    *got = out;
    return STANCE_OK;
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
    if (s->f)
        fclose(s->f);
    free(s->raw);
    free(s->name);
    free(s);
}
