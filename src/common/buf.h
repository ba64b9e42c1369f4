/*
 * buf.h — a growable byte buffer with a hard cap.
 *
 * Every buffer in sluice has a bound (docs/ARCHITECTURE.md, "Where each
 * bound lives"; most are config keys). buf_reserve() fails with
 * SLUICE_ENOMEM rather than growing past `cap`, so a caller that appends
 * untrusted input can never exceed it. Not thread safe: a buf has one owner
 * at a time.
 */
#ifndef SLUICE_COMMON_BUF_H
#define SLUICE_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    uint8_t *data;
    size_t len;
    size_t alloc;
    size_t cap; /* hard upper bound on alloc; SIZE_MAX for "only bounded by the caller" */
} buf;

#include <string.h>

void buf_init(buf *b, size_t cap);
void buf_free(buf *b);
static inline void buf_reset(buf *b) /* len = 0, keeps the allocation */
{
    b->len = 0;
}
int buf_reserve(buf *b, size_t extra);
int buf_append_str(buf *b, const char *s);

/* Appends are inline: the codec appends once per field of every message,
 * and the common case (room already there) is a compare and a copy. */
static inline int buf_append(buf *b, const void *p, size_t n)
{
    if (n == 0) return 0;
    if (n >= b->alloc - b->len) { /* keep one spare byte for buf_detach */
        int rc = buf_reserve(b, n);
        if (rc) return rc;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static inline int buf_append_byte(buf *b, uint8_t c)
{
    if (b->len + 1 >= b->alloc) {
        int rc = buf_reserve(b, 1);
        if (rc) return rc;
    }
    b->data[b->len++] = c;
    return 0;
}
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal (quotes and escapes). */
int buf_append_json_string(buf *b, const char *s, size_t n);
/* Hand the bytes to the caller (NUL-terminated; *len excludes the NUL) and reset. */
char *buf_detach(buf *b, size_t *len);

#endif
