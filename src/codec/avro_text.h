/*
 * avro_text.h — Avro values as text, shared by the two JSON → Avro encoders
 * (json_avro.c, the streaming one ingest runs; avro_json_encode.c, the tree one
 * that encodes schema defaults and serves as the tests' oracle) and the
 * Avro → JSON decoder, so that all of them accept the same text and word
 * their errors the same way:
 *   - the path of the value being worked on ("$.items[3].sku"), pushed and
 *     popped as a walk goes and rendered only when an error is reported;
 *   - names of types and unions for messages;
 *   - logical types from text: ISO-8601 dates and times (iso8601.h, strict
 *     form), UUIDs, decimals from decimal literals (exact, any length up to
 *     AVRO_DECIMAL_MAX_BYTES of magnitude);
 *   - bytes and fixed as strings of code points 0-255 (Avro's JSON
 *     encoding), and the shortest round-trip text of a double.
 * Pure functions; any thread.
 */
#ifndef SLUICE_CODEC_AVRO_TEXT_H
#define SLUICE_CODEC_AVRO_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/avro.h>

#include "common/buf.h"

/* ---- paths ----------------------------------------------------------------------------- */

typedef enum avro_seg_kind { AVRO_SEG_FIELD, AVRO_SEG_INDEX, AVRO_SEG_KEY } avro_seg_kind;

typedef struct avro_path_seg {
    avro_seg_kind kind;
    const char *name; /* FIELD, KEY */
    size_t len;       /* AVRO_NAME_IS_CSTR: name is NUL-terminated (schema names) */
    size_t index;     /* INDEX */
} avro_path_seg;

/* Every segment is pushed by a record, array or map, and those are limited
 * to SLUICE_AVRO_MAX_DEPTH levels, so this many always suffice. */
#define AVRO_PATH_MAX_SEGS (SLUICE_AVRO_MAX_DEPTH + 4)
#define AVRO_NAME_IS_CSTR SIZE_MAX

typedef struct avro_path {
    avro_path_seg segs[AVRO_PATH_MAX_SEGS];
    int n;
} avro_path;

static inline void avro_path_push(avro_path *p, avro_seg_kind kind, const char *name, size_t len,
                                  size_t index)
{
    if (p->n < AVRO_PATH_MAX_SEGS) p->segs[p->n] = (avro_path_seg){kind, name, len, index};
    p->n++; /* counted even past the array, so pops stay balanced */
}

static inline void avro_path_pop(avro_path *p)
{
    p->n--;
}

/* Renders "$.a.b[3][\"k\"]" into dst (cap bytes). Names and keys longer
 * than 64 bytes are cut; a path longer than cap - 1 keeps its head and its
 * tail around "...". */
void avro_path_render(const avro_path *p, char *dst, size_t cap);

/* ---- names for messages ------------------------------------------------------------------ */

const char *avro_logical_name(sluice_avro_logical l); /* NULL for NONE */
/* The name a union branch goes by in Avro's JSON encoding: the primitive
 * name (also under a logical type), the fullname of a named type, or
 * "array"/"map". */
const char *avro_branch_name(const sluice_avro_node *t);
/* "int", "timestamp-millis", "record com.acme.User", ... */
void avro_describe_type(const sluice_avro_node *t, char *dst, size_t cap);
/* "[null, string, com.acme.Rec]", cut with "..." past cap. */
void avro_describe_union(const sluice_avro_node *t, char *dst, size_t cap);
/* The branch whose Avro-JSON name is key (then a named type's short name);
 * -1 if none. */
long avro_branch_by_name(const sluice_avro_node *u, const char *key, size_t klen);

/* ---- numbers ------------------------------------------------------------------------------ */

/* Shortest "%.Ng" text that reads back to the same double (or, as_float,
 * the same float); always looks like a real ("1.0", not "1"). */
void avro_format_real(double d, bool as_float, char *dst, size_t cap);
/* -?digits(.digits)?([eE][+-]?digits)? over exactly n bytes (a leading '+'
 * is allowed too). */
bool avro_is_decimal_literal(const char *s, size_t n);
/* "NaN", "Infinity", "-Infinity" (how JSON carries what it cannot hold). */
bool avro_special_real(const char *s, size_t n, double *d);
/* Past FLT_MAX plus half an ulp a finite double rounds to an infinite float. */
bool avro_float_overflow(double d);

/* Largest unscaled decimal converted, in bytes of magnitude (about 616
 * digits). The conversion is quadratic in the digits, so the bound keeps
 * one hostile value cheap; real schemas use precision <= 76. */
#define AVRO_DECIMAL_MAX_BYTES 256
/* The decimal literal s scaled to t's scale, as minimal big-endian two's
 * complement (bytes, with its length) or sign-extended to t's size (fixed),
 * appended to out. 0; -1 with why filled (inexact, too many digits, does
 * not fit); SLUICE_ENOMEM when out is full. */
int avro_decimal_from_text(const sluice_avro_node *t, const char *s, size_t n, buf *out, char *why,
                           size_t why_cap);

/* ---- strings ------------------------------------------------------------------------------ */

bool avro_is_iso_logical(sluice_avro_logical l);
/* The ISO-8601 text a logical type accepts, for messages. */
const char *avro_iso_form(sluice_avro_logical l);
/* An ISO-8601 string for a date/time/timestamp logical type → its number
 * (days, or units since midnight UTC or since the epoch). NULL, or why not. */
const char *avro_iso_to_number(sluice_avro_logical l, const char *s, size_t n, int64_t *out);
bool avro_is_uuid(const char *s, size_t n);
/* Number of code points of valid UTF-8 text if each is at most U+00FF (the
 * string then stands for that many bytes), else -1. */
long long avro_code_point_bytes(const char *s, size_t n);
/* Writes the `count` bytes such a string stands for; dst has room. */
void avro_put_code_points(uint8_t *dst, const char *s, size_t n);
/* Index of symbol s in enum t, or -1. */
long avro_find_symbol(const sluice_avro_node *t, const char *s, size_t n);
/* "A, B, C" (cut with ", ..." past cap). */
void avro_symbol_list(const sluice_avro_node *t, char *dst, size_t cap);

/* ---- binary --------------------------------------------------------------------------------- */

/* Zig-zag varint of v appended to out. */
static inline int avro_put_long(buf *b, int64_t v)
{
    uint8_t tmp[10];
    uint64_t u = (uint64_t)v;
    uint64_t z = (u << 1) ^ (0 - (u >> 63));
    size_t n = 0;
    while (z > 0x7f) {
        tmp[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    tmp[n++] = (uint8_t)z;
    if (b->alloc > b->len + n) { /* buf keeps one spare byte */
        memcpy(b->data + b->len, tmp, n);
        b->len += n;
        return 0;
    }
    return buf_append(b, tmp, n);
}

#endif
