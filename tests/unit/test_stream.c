/* test_stream.c - stance_stream: plain files, gzip members one after the
 * other, and every way gzip data can end badly. */
#include "internal.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char dir[] = "/tmp/stance-stream-XXXXXX";

static size_t gz(const char *text, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    return n;
}

static char *write_file(const char *name, const void *data, size_t n)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
    return path;
}

/* Read the whole stream in small pieces; returns the status of the end. */
static int slurp(const char *path, char *out, size_t cap, size_t *len, stance_error *err)
{
    stance_stream *s = NULL;
    int rc = stance_stream_open(path, &s, err);
    *len = 0;
    if (rc)
        return rc;
    for (;;) {
        size_t got = 0;
        size_t want = cap - *len < 7 ? cap - *len : 7;
        rc = stance_stream_read(s, out + *len, want, &got, err);
        if (rc || got == 0)
            break;
        *len += got;
    }
    out[*len] = '\0';
    stance_stream_close(s);
    return rc;
}

/* A pipe that delivers slowly: reads give what has arrived, and
 * stance_stream_ready tells a pause from data and from the end. */
static void test_slow_pipe(void)
{
    int fds[2];
    if (!CHECK(pipe(fds) == 0))
        return;
    int saved = dup(STDIN_FILENO);
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    stance_error err = {0};
    stance_stream *s = NULL;
    char out[64];
    size_t got = 0;
    CHECK(write(fds[1], "ab", 2) == 2);
    CHECK_INT(stance_stream_open("-", &s, &err), 0);
    if (s) {
        CHECK_INT(stance_stream_ready(s, 0), 1); /* read at open, not yet handed out */
        CHECK_INT(stance_stream_read(s, out, sizeof out, &got, &err), 0);
        CHECK_INT(got, 2);
        CHECK_INT(stance_stream_ready(s, 20), 0); /* a pause */
        CHECK(write(fds[1], "c\n", 2) == 2);
        CHECK_INT(stance_stream_ready(s, 1000), 1);
        /* what has arrived, without waiting for the rest of the buffer */
        CHECK_INT(stance_stream_read(s, out, sizeof out, &got, &err), 0);
        CHECK_INT(got, 2);
        close(fds[1]);
        fds[1] = -1;
        CHECK_INT(stance_stream_ready(s, 1000), 1); /* the end is news too */
        CHECK_INT(stance_stream_read(s, out, sizeof out, &got, &err), 0);
        CHECK_INT(got, 0);
        stance_stream_close(s);
    }
    if (fds[1] >= 0)
        close(fds[1]);
    dup2(saved, STDIN_FILENO);
    close(saved);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    char out[4096];
    size_t len;
    stance_error err = {0};
    unsigned char a[512], b[512];
    size_t na = gz("first member\n", a, sizeof a), nb = gz("second member\n", b, sizeof b);

    /* plain text passes through */
    const char *p = write_file("plain.txt", "hello\nworld\n", 12);
    CHECK_INT(slurp(p, out, sizeof out, &len, &err), 0);
    CHECK_STR(out, "hello\nworld\n");

    /* two gzip members, then zero padding */
    unsigned char two[1100];
    memcpy(two, a, na);
    memcpy(two + na, b, nb);
    memset(two + na + nb, 0, 16);
    p = write_file("two.gz", two, na + nb + 16);
    CHECK_INT(slurp(p, out, sizeof out, &len, &err), 0);
    CHECK_STR(out, "first member\nsecond member\n");

    /* zero padding that ends at, or runs across, the reader's 256 KiB
     * buffer: accepted at every alignment */
    {
        size_t big = na + 262144 + 8 + nb;
        unsigned char *pad = calloc(1, big);
        int ok = 1;
        for (size_t z = 262144 - na - 4; z < 262144 - na + 4; z++) {
            memcpy(pad, a, na);
            memset(pad + na, 0, z);
            memcpy(pad + na + z, b, nb);
            p = write_file("pad.gz", pad, na + z + nb);
            ok &= slurp(p, out, sizeof out, &len, &err) == 0 &&
                  strcmp(out, "first member\nsecond member\n") == 0;
        }
        CHECK_MSG(ok, "zero padding across the buffer boundary: %s", err.msg);
        free(pad);
    }

    /* the second member damaged: the first is delivered, then the error */
    two[na] = 'X';
    p = write_file("garbage.gz", two, na + nb);
    CHECK_INT(slurp(p, out, sizeof out, &len, &err), STANCE_ERR_FORMAT);
    CHECK_STR(out, "first member\n");
    CHECK(strstr(err.msg, "garbage.gz") && strstr(err.msg, "not a gzip member"));

    /* cut short inside a member, at every length */
    int all = 1;
    for (size_t cut = 3; cut < na; cut++) {
        p = write_file("cut.gz", a, cut);
        int rc = slurp(p, out, sizeof out, &len, &err);
        all &= rc == STANCE_ERR_FORMAT && strstr(err.msg, "cut.gz") != NULL;
    }
    CHECK_MSG(all, "a truncated member was not reported");

    /* corrupt deflate data */
    memcpy(two, a, na);
    for (size_t i = 10; i < na - 8; i++)
        two[i] ^= 0x55;
    p = write_file("corrupt.gz", two, na);
    CHECK_INT(slurp(p, out, sizeof out, &len, &err), STANCE_ERR_FORMAT);

    /* offsets count the file's bytes */
    stance_stream *s = NULL;
    p = write_file("off.gz", a, na);
    CHECK_INT(stance_stream_open(p, &s, &err), 0);
    size_t got;
    while (stance_stream_read(s, out, sizeof out, &got, &err) == 0 && got)
        ;
    CHECK_INT(stance_stream_offset(s), na);
    stance_stream_close(s);

    /* a missing file */
    snprintf(out, sizeof out, "%s/none", dir);
    CHECK_INT(stance_stream_open(out, &s, &err), STANCE_ERR_IO);
    CHECK(s == NULL && strstr(err.msg, "none"));
    stance_stream_close(NULL);

    test_slow_pipe();

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return UNIT_REPORT("test_stream");
}
