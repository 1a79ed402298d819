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

/* The process's umask, read without changing it (umask() cannot read it
 * without setting it, which would race with other threads). */
static mode_t current_umask(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned int m = 022;
    if (f) {
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &m) == 1)
                break;
        fclose(f);
    }
    return (mode_t)m;
}

int st_write_atomic(const char *path, int (*writer)(FILE *f, void *ctx), void *ctx,
                    stance_error *err)
{
    char *tmp = NULL;
    FILE *f = NULL;
    int fd = -1, rc = STANCE_OK;

    if (!path || !*path)
        return st_error(err, STANCE_ERR_ARG, "no file name to write to");
    /* The rename below replaces whatever the name points at, so first:
     * /dev/stdout, /dev/fd/N and /proc/self/fd/N are descriptors this
     * process already has, written through as they are (a shell's >> must
     * keep appending); a symbolic link is followed to the file it names,
     * which is created if missing; a device or a FIFO is written in place;
     * anything else that is not a regular file is refused. */
    int fdn = -1;
    if (strcmp(path, "/dev/stdout") == 0)
        fdn = STDOUT_FILENO;
    else if (strcmp(path, "/dev/stderr") == 0)
        fdn = STDERR_FILENO;
    else if (strncmp(path, "/dev/fd/", 8) == 0 || strncmp(path, "/proc/self/fd/", 14) == 0) {
        const char *d = path + (path[1] == 'd' ? 8 : 14);
        char *end;
        long v = strtol(d, &end, 10);
        if (end != d && !*end && v >= 0 && v < 1 << 20)
            fdn = (int)v;
    }
    if (fdn >= 0) {
        int dupfd = dup(fdn);
        if (dupfd < 0 || !(f = fdopen(dupfd, "wb"))) {
            if (dupfd >= 0)
                close(dupfd);
            return st_error(err, STANCE_ERR_IO, "%s: %s", path, strerror(errno));
        }
        if (writer(f, ctx) != 0 || fflush(f) != 0 || ferror(f)) {
            rc = st_error(err, STANCE_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
            fclose(f);
            return rc;
        }
        if (fclose(f) != 0)
            rc = st_error(err, STANCE_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        return rc;
    }
    char *real = NULL;
    struct stat st;
    for (int hops = 0; hops < 40 && lstat(path, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
        /* follow the link by hand: realpath() fails on a dangling one */
        char target[4096];
        ssize_t k = readlink(path, target, sizeof target - 1);
        if (k < 0) {
            rc = st_error(err, STANCE_ERR_IO, "%s: %s", path, strerror(errno));
            free(real);
            return rc;
        }
        target[k] = '\0';
        const char *slash = strrchr(path, '/');
        size_t dl = target[0] == '/' || !slash ? 0 : (size_t)(slash - path) + 1;
        char *next = malloc(dl + (size_t)k + 1);
        if (!next) {
            free(real);
            return st_error(err, STANCE_ERR_NOMEM, "%s: out of memory", path);
        }
        memcpy(next, path, dl);
        memcpy(next + dl, target, (size_t)k + 1);
        free(real);
        real = next;
        path = real;
    }
    int existed = stat(path, &st) == 0;
    mode_t mode = existed ? (st.st_mode & 07777) : (0666 & ~current_umask());
    if (existed && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
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
    if (existed && !S_ISREG(st.st_mode)) {
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
    /* mkstemp makes the file 0600: give it the mode of the file it
     * replaces, or what the umask allows a new file.  Filesystems that
     * cannot chmod are no error. */
    (void)fchmod(fd, mode);
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
