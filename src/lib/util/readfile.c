/* readfile.c - read a whole file into memory, gunzipping transparently: the
 * stream reader (stream.c) to its end, so that whole-file and streaming
 * readers judge gzip data alike. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int st_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len,
                 stance_error *err)
{
    *out = NULL;
    *out_len = 0;
    stance_stream *s = NULL;
    int rc = stance_stream_open(path, &s, err);
    if (rc)
        return rc;
    st_buf b = {0};
    for (;;) {
        if (st_buf_reserve(&b, 1 << 16)) {
            rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        size_t got = 0;
        if ((rc = stance_stream_read(s, b.data + b.len, b.cap - b.len - 1, &got, err)))
            break;
        if (got == 0)
            break;
        b.len += got;
        if (max_bytes && b.len > max_bytes) {
            rc = st_error(err, STANCE_ERR_TOOBIG, "%s: larger than the limit of %zu bytes", path,
                          max_bytes);
            break;
        }
    }
    stance_stream_close(s);
    if (rc) {
        st_buf_free(&b);
        return rc;
    }
    if (!b.data && st_buf_reserve(&b, 0))
        return st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
    b.data[b.len] = '\0';
    *out = b.data;
    *out_len = b.len;
    return STANCE_OK;
}

int stance_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                     stance_error *err)
{
    return st_read_file(path, max_bytes, out, len, err);
}
