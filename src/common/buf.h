/*
 * buf.h — a growable byte buffer with a hard cap.
 *
 * Every buffer in sluice has a bound (STYLE.md: memory has a bound, set in
 * config). buf_reserve() fails with SLUICE_ENOMEM rather than growing past
 * `cap`, so a caller that appends untrusted input can never exceed it. Not
 * thread safe: a buf has one owner at a time.
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

void buf_init(buf *b, size_t cap);
void buf_free(buf *b);
void buf_reset(buf *b); /* len = 0, keeps the allocation */
int buf_reserve(buf *b, size_t extra);
int buf_append(buf *b, const void *p, size_t n);
int buf_append_str(buf *b, const char *s);
int buf_append_byte(buf *b, uint8_t c);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal (quotes and escapes). */
int buf_append_json_string(buf *b, const char *s, size_t n);
/* Hand the bytes to the caller (NUL-terminated; *len excludes the NUL) and reset. */
char *buf_detach(buf *b, size_t *len);

#endif
