/* error.c - status names and the caller-supplied error record. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

int st_error(stance_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

const char *stance_status_name(int status)
{
    switch (status) {
    case STANCE_OK: return "ok";
    case STANCE_ERR_NOMEM: return "out of memory";
    case STANCE_ERR_IO: return "input/output error";
    case STANCE_ERR_FORMAT: return "malformed input";
    case STANCE_ERR_MODEL: return "malformed model file";
    case STANCE_ERR_VERSION: return "unsupported model format version";
    case STANCE_ERR_ARG: return "invalid argument";
    case STANCE_ERR_BINARY: return "binary content";
    case STANCE_ERR_TOOBIG: return "input too large";
    case STANCE_ERR_ICU: return "ICU failure";
    case STANCE_ERR_TRAIN: return "training failed";
    default: return "unknown status";
    }
}
