/* atomic.c - write a file so that a crash never leaves half of it: into a
 * temporary file beside it, flushed to disk, then renamed into place. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int st_write_atomic(const char *path, int (*writer)(FILE *f, void *ctx), void *ctx,
                    stance_error *err)
{
    char *tmp = NULL;
    FILE *f = NULL;
    int fd = -1, rc = STANCE_OK;

    if (!path || !*path)
        return st_error(err, STANCE_ERR_ARG, "no file name to write to");
    /* The rename below replaces whatever the name points at: a symbolic
     * link is followed to the file it names; a device or a FIFO (/dev/null,
     * /dev/stdout, a pipe) is written in place, never replaced; anything
     * else that is not a regular file is refused. */
    char *real = NULL;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        if (!(real = realpath(path, NULL)) && errno != ENOENT)
            return st_error(err, STANCE_ERR_IO, "%s: %s", path, strerror(errno));
        if (real)
            path = real;
    }
    if (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
        if (!(f = fopen(path, "wb")))
            rc = st_error(err, STANCE_ERR_IO, "%s: %s", path, strerror(errno));
        else if (writer(f, ctx) != 0 || fflush(f) != 0 || ferror(f)) {
            rc = st_error(err, STANCE_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
            fclose(f);
        } else if (fclose(f) != 0)
            rc = st_error(err, STANCE_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        free(real);
        return rc;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        rc = st_error(err, STANCE_ERR_IO, "%s: not a regular file; refusing to replace it", path);
        free(real);
        return rc;
    }
    size_t plen = strlen(path);
    if (!(tmp = malloc(plen + sizeof ".tmp.XXXXXX"))) {
        rc = st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
        free(real);
        return rc;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    if ((fd = mkstemp(tmp)) < 0) {
        rc = st_error(err, STANCE_ERR_IO, "%s: cannot create a temporary file: %s", path,
                      strerror(errno));
        goto done;
    }
    /* mkstemp makes the file 0600; these files are meant to be shared like
     * any other data file.  Filesystems that cannot chmod are no error. */
    (void)fchmod(fd, 0644);
    if (!(f = fdopen(fd, "wb"))) {
        rc = st_error(err, STANCE_ERR_IO, "%s: %s", tmp, strerror(errno));
        close(fd);
        goto unlink_tmp;
    }
    if (writer(f, ctx) != 0 || fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        rc = st_error(err, STANCE_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
        fclose(f);
        goto unlink_tmp;
    }
    if (fclose(f) != 0) {
        rc = st_error(err, STANCE_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
        goto unlink_tmp;
    }
    if (rename(tmp, path) != 0) {
        rc = st_error(err, STANCE_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp,
                      strerror(errno));
        goto unlink_tmp;
    }
    /* Make the rename itself durable; a failure here cannot be undone and
     * the file is already complete, so it is not reported. */
    char *slash = strrchr(tmp, '/');
    if (slash) {
        *slash = '\0';
        fd = open(slash == tmp ? "/" : tmp, O_RDONLY);
    } else {
        fd = open(".", O_RDONLY);
    }
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    goto done;
unlink_tmp:
    unlink(tmp);
done:
    free(tmp);
    free(real);
    return rc;
}
