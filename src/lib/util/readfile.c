/* readfile.c - read a whole file into memory, gunzipping transparently. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int read_raw(const char *path, size_t max_bytes, char **out, size_t *out_len,
                    stance_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return st_error(err, STANCE_ERR_IO, "%s: %s", path, strerror(errno));
    st_buf b = {0};
    int rc = STANCE_OK;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (max_bytes && b.len + n > max_bytes) {
            rc = st_error(err, STANCE_ERR_TOOBIG, "%s: larger than the limit of %zu bytes",
                          path, max_bytes);
            goto done;
        }
        if (st_buf_append(&b, chunk, n)) {
            rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
    }
    if (ferror(f)) {
        rc = st_error(err, STANCE_ERR_IO, "%s: read error: %s", path, strerror(errno));
        goto done;
    }
    if (!b.data && st_buf_reserve(&b, 0)) {
        rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    b.data[b.len] = '\0';
    *out = b.data;
    *out_len = b.len;
    b.data = NULL;
done:
    if (f != stdin)
        fclose(f);
    st_buf_free(&b);
    return rc;
}

/* Inflate every gzip member in turn; anything short of a clean end of the
 * last member is a truncated or corrupt file. */
static int gunzip(const char *path, const unsigned char *in, size_t len, size_t max_bytes,
                  char **out, size_t *out_len, stance_error *err)
{
    st_buf b = {0};
    z_stream z;
    memset(&z, 0, sizeof z);
    int rc = STANCE_OK;
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return st_error(err, STANCE_ERR_NOMEM, "%s: cannot start decompression", path);
    size_t pos = 0;
    unsigned char chunk[65536];
    for (;;) {
        size_t avail = len - pos;
        z.next_in = (unsigned char *)in + pos;
        z.avail_in = avail > UINT32_MAX ? UINT32_MAX : (uInt)avail;
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        int zr = inflate(&z, Z_NO_FLUSH);
        size_t produced = sizeof chunk - z.avail_out;
        pos += (size_t)(z.next_in - (in + pos));
        if (produced) {
            if (max_bytes && b.len + produced > max_bytes) {
                rc = st_error(err, STANCE_ERR_TOOBIG,
                              "%s: decompresses to more than the limit of %zu bytes", path,
                              max_bytes);
                goto done;
            }
            if (st_buf_append(&b, chunk, produced)) {
                rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
        }
        if (zr == Z_STREAM_END) {
            /* another member may follow (concatenated gzip files) */
            while (pos < len && in[pos] == 0)
                pos++; /* tolerate zero padding after the last member */
            if (pos >= len)
                break;
            if (len - pos < 2 || in[pos] != 0x1f || in[pos + 1] != 0x8b) {
                rc = st_error(err, STANCE_ERR_FORMAT,
                              "%s: trailing garbage after gzip member at byte %zu", path, pos);
                goto done;
            }
            inflateReset(&z);
            continue;
        }
        if (zr == Z_BUF_ERROR || (zr == Z_OK && pos >= len && produced == 0)) {
            rc = st_error(err, STANCE_ERR_FORMAT,
                          "%s: truncated gzip data (the file ends inside a member, after %zu bytes)", path,
                          len);
            goto done;
        }
        if (zr != Z_OK) {
            rc = st_error(err, STANCE_ERR_FORMAT, "%s: corrupt gzip data near byte %zu: %s", path,
                          pos, z.msg ? z.msg : "inflate failed");
            goto done;
        }
    }
    if (!b.data && st_buf_reserve(&b, 0)) {
        rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    b.data[b.len] = '\0';
    *out = b.data;
    *out_len = b.len;
    b.data = NULL;
done:
    inflateEnd(&z);
    st_buf_free(&b);
    return rc;
}

int st_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len,
                 stance_error *err)
{
    char *raw = NULL;
    size_t n = 0;
    *out = NULL;
    *out_len = 0;
    /* a compressed file may be far smaller than the limit; bound the raw read
     * by the same limit, then the output again while inflating */
    int rc = read_raw(path, max_bytes, &raw, &n, err);
    if (rc)
        return rc;
    if (n >= 2 && (unsigned char)raw[0] == 0x1f && (unsigned char)raw[1] == 0x8b) {
        rc = gunzip(path, (unsigned char *)raw, n, max_bytes, out, out_len, err);
        free(raw);
        return rc;
    }
    *out = raw;
    *out_len = n;
    return STANCE_OK;
}

int stance_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                     stance_error *err)
{
    return st_read_file(path, max_bytes, out, len, err);
}
