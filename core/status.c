/* status.c — the error record every library function fills instead of printing or exiting. */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>

StatusCode status_fail(Status *st, StatusCode code, const char *fmt, ...)
{
    if (st) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->msg, sizeof st->msg, fmt, ap);
        va_end(ap);
        st->code = code;
    }
    return code;
}

void status_clear(Status *st)
{
    if (st) {
        st->code = TK_OK;
        st->msg[0] = '\0';
    }
}

const char *status_code_name(StatusCode code)
{
    switch (code) {
    case TK_OK: return "ok";
    case TK_EINVAL: return "invalid argument";
    case TK_EIO: return "input/output error";
    case TK_EFORMAT: return "malformed input";
    case TK_EUNSUPPORTED: return "unsupported";
    case TK_ENOMEM: return "out of memory";
    }
    return "unknown error";
}
