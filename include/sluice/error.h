/*
 * error.h — the one error convention of sluice (and libsluice).
 *
 * Every fallible function returns 0 on success or a negative sluice_err code,
 * as libuv does; sluice_strerror() names the code. Where the caller needs to
 * know *what* and *where* (a parser naming a field path and byte offset, the
 * registry naming a subject), the function also takes a `sluice_error *`
 * (may be NULL) that receives the code, a human message and, for errors that
 * came from a remote peer, the peer's own code (HTTP status or Confluent
 * error_code such as 40401).
 *
 * The struct is a fixed-size value so that filling it never allocates: an
 * out-of-memory path must be able to report itself.
 */
#ifndef SLUICE_ERROR_H
#define SLUICE_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sluice_err {
    SLUICE_OK = 0,
    SLUICE_EINVAL = -1,    /* invalid argument or malformed input */
    SLUICE_ENOMEM = -2,    /* allocation failed or a configured bound was hit */
    SLUICE_EIO = -3,       /* transport error (connect, send, receive) */
    SLUICE_ETIMEDOUT = -4, /* a deadline passed */
    SLUICE_ENOTFOUND = -5, /* the thing asked for does not exist */
    SLUICE_ECONFLICT = -6, /* incompatible / already exists */
    SLUICE_EPARSE = -7,    /* a peer's response could not be parsed */
    SLUICE_EREMOTE = -8,   /* a peer answered with an error status */
    SLUICE_ERANGE = -9,    /* value out of range for its type */
    SLUICE_EFULL = -10,    /* a bounded queue or buffer is full */
    SLUICE_EUNSUPPORTED = -11,
    SLUICE_ESTATE = -12,    /* call not valid in the object's current state */
    SLUICE_EAUTH = -13,     /* authentication or authorisation refused */
    SLUICE_ECONFIG = -14,   /* bad configuration */
    SLUICE_EINTERNAL = -15, /* a bug: an invariant did not hold */
} sluice_err;

#define SLUICE_ERROR_MSG_MAX 512

typedef struct sluice_error {
    int code;        /* a sluice_err */
    int remote_code; /* peer's code (HTTP status, registry error_code), 0 if none */
    char msg[SLUICE_ERROR_MSG_MAX];
} sluice_error;

/* The static name of a sluice_err code ("invalid input", ...). */
const char *sluice_strerror(int code);

/* Fill *err (if not NULL) and return code, so callers can write
 * `return sluice_error_set(err, SLUICE_EINVAL, "field %s", name);`. */
int sluice_error_set(sluice_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in *err with more context ("$.a: " + msg). */
void sluice_error_prefix(sluice_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sluice_error_clear(sluice_error *err);

#ifdef __cplusplus
}
#endif
#endif
