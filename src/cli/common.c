/* common.c - helpers shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_exit_code(int status)
{
    switch (status) {
    case STANCE_OK:
        return EXIT_OK;
    case STANCE_ERR_IO:
        return EXIT_IO;
    case STANCE_ERR_ARG:
        return EXIT_USAGE;
    case STANCE_ERR_FORMAT:
    case STANCE_ERR_MODEL:
    case STANCE_ERR_VERSION:
    case STANCE_ERR_BINARY:
    case STANCE_ERR_TOOBIG:
    case STANCE_ERR_TRAIN:
        return EXIT_DATA;
    default: /* out of memory, ICU failures */
        return EXIT_IO;
    }
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "stance %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int readable(const char *p) { return access(p, R_OK) == 0; }

const char *cli_default_model_path(void)
{
    static char path[PATH_MAX + 64];
    const char *env = getenv("STANCE_MODEL");
    if (env && *env)
        return env;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            /* installed: PREFIX/bin/stance and PREFIX/share/stance/default.stm */
            snprintf(path, sizeof path, "%s/../share/stance/default.stm", exe);
            if (readable(path))
                return path;
            /* built in the source tree: ./stance and ./models/default.stm */
            snprintf(path, sizeof path, "%s/models/default.stm", exe);
            if (readable(path))
                return path;
        }
    }
#ifdef STANCE_DATADIR
    snprintf(path, sizeof path, "%s/stance/default.stm", STANCE_DATADIR);
    if (readable(path))
        return path;
#endif
    return NULL;
}

int cli_load_model(const char *cmd, const char *path, stance_model **out)
{
    *out = NULL;
    if (!path) {
        path = cli_default_model_path();
        if (!path) {
            cli_error(cmd, "no default model found: build it with `make`, set STANCE_MODEL, "
                           "or pass -m MODEL");
            return EXIT_IO;
        }
    }
    stance_error err = {0};
    int rc = stance_model_load(path, out, &err);
    if (rc) {
        cli_error(cmd, "%s", err.msg);
        return cli_exit_code(rc);
    }
    return EXIT_OK;
}

int cli_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_error(cmd, "%s: expected a whole number from %ld to %ld, got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi,
                     double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        cli_error(cmd, "%s: expected a number from %g to %g, got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

char **cli_input_paths(int argc, char **argv, int first, int other_inputs, int *n)
{
    static char dash[] = "-";
    static char *stdin_only[] = {dash, NULL};
    *n = argc - first;
    if (*n == 0 && !other_inputs) {
        *n = 1;
        return stdin_only;
    }
    return argv + first;
}

int cli_finish_stdout(const char *cmd)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "stance %s: error writing output: %s\n", cmd, strerror(errno));
        return EXIT_IO;
    }
    return EXIT_OK;
}

int cli_json_str(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    return stance_json_append_string(buf, len, cap, s, n);
}
