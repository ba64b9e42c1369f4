/*
 * buf.c — growable, capped byte buffer (see buf.h). Grows by doubling up to
 * the cap so appends are amortised O(1); always keeps one spare byte so
 * buf_detach can NUL-terminate without another allocation.
 */
#include "common/buf.h"

#include <sluice/error.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void buf_free(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

int buf_reserve(buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1) return SLUICE_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->alloc) return 0;
    if (need > b->cap) return SLUICE_ENOMEM;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? SIZE_MAX : n * 2;
    if (n > b->cap) n = b->cap;
    uint8_t *p = realloc(b->data, n);
    if (!p) return SLUICE_ENOMEM;
    b->data = p;
    b->alloc = n;
    return 0;
}

int buf_append_str(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return SLUICE_EINVAL;
    int rc = buf_reserve(b, (size_t)n);
    if (rc) return rc;
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int buf_append_json_string(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = buf_append_byte(b, '"');
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            rc = buf_append(b, "\\\"", 2);
            break;
        case '\\':
            rc = buf_append(b, "\\\\", 2);
            break;
        case '\n':
            rc = buf_append(b, "\\n", 2);
            break;
        case '\r':
            rc = buf_append(b, "\\r", 2);
            break;
        case '\t':
            rc = buf_append(b, "\\t", 2);
            break;
        default:
            if (c < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                rc = buf_append(b, esc, 6);
            } else {
                rc = buf_append_byte(b, c);
            }
        }
    }
    return rc ? rc : buf_append_byte(b, '"');
}

char *buf_detach(buf *b, size_t *len)
{
    if (buf_reserve(b, 0) != 0) /* ensures room for the NUL */
        return NULL;
    b->data[b->len] = '\0';
    char *p = (char *)b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}
