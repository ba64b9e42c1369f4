/*
 * error.c — sluice_strerror and the helpers that fill a sluice_error.
 * Pure functions; safe from any thread.
 */
#include <sluice/error.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sluice_strerror(int code)
{
    switch (code) {
    case SLUICE_OK:
        return "success";
    case SLUICE_EINVAL:
        return "invalid input";
    case SLUICE_ENOMEM:
        return "out of memory or over a configured bound";
    case SLUICE_EIO:
        return "transport error";
    case SLUICE_ETIMEDOUT:
        return "timed out";
    case SLUICE_ENOTFOUND:
        return "not found";
    case SLUICE_ECONFLICT:
        return "conflict";
    case SLUICE_EPARSE:
        return "unparseable response";
    case SLUICE_EREMOTE:
        return "remote error";
    case SLUICE_ERANGE:
        return "value out of range";
    case SLUICE_EFULL:
        return "full";
    case SLUICE_EUNSUPPORTED:
        return "unsupported";
    case SLUICE_ESTATE:
        return "invalid state";
    case SLUICE_EAUTH:
        return "not authorised";
    case SLUICE_ECONFIG:
        return "configuration error";
    case SLUICE_EINTERNAL:
        return "internal error";
    default:
        return "unknown error";
    }
}

int sluice_error_set(sluice_error *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        err->remote_code = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void sluice_error_prefix(sluice_error *err, const char *fmt, ...)
{
    if (!err) return;
    char prefix[SLUICE_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    /* Shift the old message right by the prefix (truncating its tail). */
    size_t plen = (size_t)n < sizeof prefix ? (size_t)n : sizeof prefix - 1;
    size_t cap = sizeof err->msg - 1;
    if (plen > cap) plen = cap;
    size_t mlen = strnlen(err->msg, cap);
    if (mlen > cap - plen) mlen = cap - plen;
    memmove(err->msg + plen, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + mlen] = '\0';
}

void sluice_error_clear(sluice_error *err)
{
    if (err) {
        err->code = 0;
        err->remote_code = 0;
        err->msg[0] = '\0';
    }
}
