/*
 * json_lex.h — a pull tokenizer over JSON text held in memory: the one JSON
 * reader of sluice's hot paths (ingest's JSON → Avro, the sink's JSON →
 * RowBinary). jansson stays for cold paths (config, registry answers,
 * schema defaults).
 *
 * Why hand-written (the project prefers a maintained library unless a measured hot
 * path says otherwise): ingest spent 8.1 µs of its ~14 µs per 600-byte
 * event in jansson building a tree that was thrown away (docs/BENCHMARKS.md,
 * "JSON → Avro"). libyajl, the SAX parser Debian ships, avoids the tree but
 * pushes tokens into callbacks, which turns a schema-directed recursive
 * encoder inside out (an explicit state machine per schema node) and still
 * copies every string it hands over; bench/bench_codec.c measures yajl's
 * bare parse of the same events beside this reader. A pull reader lets
 * the compiled schema plan ask for exactly the token it expects next, and
 * look ahead (unions, fields out of order) by remembering a byte offset,
 * because the whole body is in memory anyway.
 *
 * What it accepts is exactly RFC 8259 JSON with jansson's extra rules, so
 * that the tree path it replaces and this one agree on every input
 * (tests/unit/test_json_avro.c and fuzz/fuzz_json_avro.c check that):
 * strings must be valid UTF-8 (no overlong forms, no encoded surrogates,
 * nothing past U+10FFFF), escapes are the eight of RFC 8259 plus \uXXXX
 * with surrogate pairs combined, a lone surrogate is an error, \u0000 is
 * allowed (Avro's JSON encoding writes bytes as code points 0-255, zeros
 * included; jansson's JSON_ALLOW_NUL), control characters must be escaped, and a key repeated in
 * one object is an error (json_lex_keyset). Nesting is limited to JSON_LEX_MAX_DEPTH levels
 * (jansson's limit too). Two deliberate differences, both on the side of naming the field instead
 * of rejecting the body: an integer literal outside int64 is still a number (int_ok = false; a long
 * field says it does not fit, a double field takes it), and a real that overflows a double is still
 * a number (json_num_double says so).
 *
 * Errors: the first syntax error stops the reader (err set, every later
 * call fails at once) and records the byte offset; json_lex_where()
 * turns that into line and column only when a message is built.
 *
 * Speed: strings are scanned 16 bytes at a time (SSE2, every x86-64) for
 * the bytes that end a plain run — '"', '\\', a control character, a
 * non-ASCII byte — and only those are looked at one by one; a real number
 * of at most 15 digits and a power of ten within 10^±22 is converted
 * exactly with one multiplication or division (Clinger's fast path),
 * anything else by strtod.
 *
 * Threads: a json_lex belongs to one thread. The small primitives are
 * inline so that the encoders built on them compile to one loop.
 */
#ifndef SLUICE_CODEC_JSON_LEX_H
#define SLUICE_CODEC_JSON_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"

#define JSON_LEX_MAX_DEPTH 2048

typedef enum json_vkind {
    JSON_V_NONE, /* end of input or a byte no value starts with */
    JSON_V_OBJECT,
    JSON_V_ARRAY,
    JSON_V_STRING,
    JSON_V_NUMBER,
    JSON_V_TRUE,
    JSON_V_FALSE,
    JSON_V_NULL,
} json_vkind;

/* A decoded string: points into the text when it had no escapes, else into
 * the reader's scratch (valid until the next string is read). */
typedef struct json_str {
    const char *s;
    size_t len;
    size_t at; /* byte offset of the opening quote */
} json_str;

/* A number as written. i is exact when int_ok. */
typedef struct json_num {
    const char *text;
    size_t len;
    size_t at;
    bool is_int; /* no fraction, no exponent */
    bool int_ok; /* is_int and within int64 */
    int64_t i;
} json_num;

/* Duplicate-key detection: keys of every open object, each tagged with its
 * object's serial number, in one open-addressing table that is emptied per
 * top-level value (json_lex_reset_keys). Memory: a few words per key, so
 * bounded by the text's size. */
typedef struct json_key_slot {
    const char *key;
    uint32_t len;
    uint32_t hash;
    uint32_t owner; /* 0: empty slot */
} json_key_slot;

typedef struct json_lex_keyset {
    json_key_slot *slots;
    size_t cap, n;   /* cap: a power of two (or 0) */
    uint32_t serial; /* last object number handed out */
    arena copies;    /* keys that had escapes (the scratch is reused) */
} json_lex_keyset;

typedef struct json_lex {
    const char *base; /* where offsets count from (the body's first byte) */
    const char *p;    /* next byte */
    const char *end;
    const char *text_end; /* end of the whole text (json_lex_range stays inside) */
    int depth;
    int err; /* 0, or -1 after the first syntax error */
    size_t err_at;
    char err_msg[160];
    buf scratch; /* strings with escapes, long numbers */
    json_lex_keyset keys;
} json_lex;

/* A reader over text[0, len). Offsets and positions count from text. */
void json_lex_init(json_lex *lx, const char *text, size_t len);
void json_lex_free(json_lex *lx);
/* Move to [from, to) of the same text (NDJSON lines, a value seen before);
 * clears depth. Errors stay. */
void json_lex_range(json_lex *lx, size_t from, size_t to);
static inline size_t json_lex_offset(const json_lex *lx)
{
    return (size_t)(lx->p - lx->base);
}
/* Forget the keys seen so far (between top-level values). */
void json_lex_reset_keys(json_lex *lx);

/* Record a syntax error at offset `at` (the first one wins); returns -1. */
int json_lex_fail(json_lex *lx, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Line (1-based), column (1-based, in bytes) of an offset. */
void json_lex_where(const json_lex *lx, size_t at, size_t *line, size_t *column);

/* ---- reading ------------------------------------------------------------------------ */

static inline bool json_lex_is_ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Skips whitespace; the next byte, or -1 at the end. */
static inline int json_lex_ws(json_lex *lx)
{
    const char *p = lx->p, *end = lx->end;
    while (p < end && json_lex_is_ws((unsigned char)*p))
        p++;
    lx->p = p;
    return p < end ? (unsigned char)*p : -1;
}

/* The kind of value each first byte starts (JSON_V_NONE for the rest). */
extern const unsigned char json_lex_first[256];

/* The kind of the value that starts at the next non-blank byte (consumes
 * only whitespace). */
static inline json_vkind json_lex_peek(json_lex *lx)
{
    int c = json_lex_ws(lx);
    return c < 0 ? JSON_V_NONE : (json_vkind)json_lex_first[c];
}

/* One value of each kind; each returns 0, or -1 with a syntax error
 * recorded (also when the next value is of another kind). */
int json_lex_string(json_lex *lx, json_str *out);
int json_lex_number(json_lex *lx, json_num *out);
/* true, false or null: the kind read, or JSON_V_NONE with an error. */
json_vkind json_lex_literal(json_lex *lx);
/* The number as a double: 0, or -1 if it overflows (*out is ±HUGE_VAL). */
int json_num_double(json_lex *lx, const json_num *n, double *out);

/* Duplicate keys of one open object: its first few keys (those that are
 * spans of the text) are compared directly; past that, or for a key that
 * had escapes, they move to the reader's key table under the object's
 * serial. Most objects never touch the table, so nothing is cleared for
 * them between values. */
#define JSON_LEX_DUPS_SMALL 8
typedef struct json_lex_dups {
    uint32_t serial;
    int n; /* keys held below; -1 once they moved to the key table */
    const char *key[JSON_LEX_DUPS_SMALL];
    uint32_t len[JSON_LEX_DUPS_SMALL];
} json_lex_dups;

/* Containers. json_lex_open_object consumes '{' and readies d (may be
 * NULL when the caller checks no keys); json_lex_next_key reads `,"key":`
 * (or the first `"key":`) and returns 1, or consumes '}' and returns 0, or
 * returns -1 on a syntax error. *count is the members read so far. */
int json_lex_open_object(json_lex *lx, json_lex_dups *d);
int json_lex_next_key(json_lex *lx, size_t *count, json_str *key);
int json_lex_open_array(json_lex *lx);
/* 1: an element follows (its comma consumed); 0: ']' consumed; -1. */
int json_lex_next_item(json_lex *lx, size_t *count);

/* a[0, n) == b[0, n), for the short names of records: 8 bytes at a time
 * inline rather than a call into memcmp per key. */
static inline bool json_lex_same(const char *a, const char *b, size_t n)
{
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return false;
        a += 8, b += 8, n -= 8;
    }
    while (n--)
        if (*a++ != *b++) return false;
    return true;
}

/* Is the next member's key exactly `name` (len bytes of a plain name: no
 * '"', '\\' or control characters, as Avro and column names are)? Then it
 * consumes `,"name":` (the comma when count > 0) and returns 1; otherwise
 * it consumes nothing but whitespace and returns 0, and the caller reads
 * the key with json_lex_next_key. The common case of a record whose keys
 * come in schema order costs one compare per key, no scan. */
static inline int json_lex_key_is(json_lex *lx, size_t count, const char *name, size_t len)
{
    const char *p = lx->p, *end = lx->end;
    while (p < end && json_lex_is_ws((unsigned char)*p))
        p++;
    lx->p = p;
    if (count > 0) {
        if (p >= end || *p != ',') return 0;
        p++;
        while (p < end && json_lex_is_ws((unsigned char)*p))
            p++;
    }
    if ((size_t)(end - p) < len + 3 || p[0] != '"' || p[len + 1] != '"' ||
        !json_lex_same(p + 1, name, len))
        return 0;
    p += len + 2;
    while (p < end && json_lex_is_ws((unsigned char)*p))
        p++;
    if (p >= end || *p != ':') return 0;
    lx->p = p + 1;
    return 1;
}

/* Is `key` new in its object? 1 yes (now remembered), 0 a duplicate (a
 * syntax error is recorded, naming the key), -1 out of memory. *stable
 * (may be NULL) gets a copy of the key that outlives the scratch (the text
 * itself when the key had no escapes), valid until json_lex_reset_keys. */
int json_lex_key_unique(json_lex *lx, json_lex_dups *d, const json_str *key, const char **stable);

/* Validate and skip one value of any kind (duplicate keys, UTF-8, depth
 * included). 0 or -1. */
int json_lex_skip(json_lex *lx);

/* After the last value: only whitespace may be left. 0 or -1. */
int json_lex_end(json_lex *lx);

/* "an object", "a string", ... for messages. */
const char *json_kind_phrase(json_vkind k);

#endif
