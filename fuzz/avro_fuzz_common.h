/*
 * avro_fuzz_common.h — what the two JSON <-> Avro fuzz targets share
 * (fuzz_avro_decode.c, fuzz_json_to_avro.c): a fixed set of schemas,
 * compiled once on the first call and kept for the life of the process, and
 * an independent reader of Avro binary that tells whether an encoding is the
 * one canonical form our encoder would write.
 *
 * Why a canonical check: decoding then re-encoding must give back the input
 * bytes, except where the spec lets one value be written in several ways or
 * where JSON cannot carry the difference. Those cases, each skipped only
 * when present:
 *   - a varint longer than it needs be (0x80 0x00 for 0);
 *   - an array or map in several blocks, or in a block with a negative
 *     count and a byte size;
 *   - a NaN other than the quiet NaN our encoder writes (JSON says "NaN");
 *   - a map with a key twice (a JSON object keeps one);
 *   - a decimal whose raw bytes read as a decimal number ("12"): the encoder
 *     takes such a string as the number (see src/codec/avro_json_encode.c);
 *   - a uuid-typed string that is not a UUID: the decoder shows what is
 *     there, the encoder accepts only UUIDs;
 *   - (fuzz_avro_decode.c) a map key holding U+0000, which the decoder
 *     writes as valid JSON but jansson's parser refuses in object keys.
 * The reader is written separately from the decoder on purpose: when the
 * decoder accepts bytes this reader cannot walk, the target aborts.
 *
 * Single-threaded (libFuzzer calls one input at a time).
 */
#ifndef SLUICE_FUZZ_AVRO_COMMON_H
#define SLUICE_FUZZ_AVRO_COMMON_H

#include "codec/avro_json.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fuzz_schema_texts[] = {
    /* 0: every primitive */
    "{\"type\":\"record\",\"name\":\"Prims\",\"fields\":["
    "{\"name\":\"n\",\"type\":\"null\"},{\"name\":\"b\",\"type\":\"boolean\"},"
    "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"l\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"by\",\"type\":\"bytes\"},{\"name\":\"s\",\"type\":\"string\"}]}",
    /* 1: an event: nullable strings, enum, array of records with an inner
     * string array, map, defaults */
    "{\"type\":\"record\",\"name\":\"Event\",\"namespace\":\"com.acme\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"string\"},"
    "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"user\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"VIEW\","
    "\"CLICK\",\"BUY\"]},\"default\":\"VIEW\"},"
    "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":"
    "\"Item\",\"fields\":[{\"name\":\"sku\",\"type\":\"string\"},{\"name\":\"qty\",\"type\":"
    "\"int\",\"default\":1},{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":"
    "\"string\"},\"default\":[]}]}},\"default\":[]},"
    "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"string\"},\"default\":{}}]}",
    /* 2: recursion through a union and through an array */
    "{\"type\":\"record\",\"name\":\"Node\",\"fields\":["
    "{\"name\":\"v\",\"type\":\"long\"},{\"name\":\"next\",\"type\":[\"null\",\"Node\"]},"
    "{\"name\":\"kids\",\"type\":{\"type\":\"array\",\"items\":\"Node\"}}]}",
    /* 3: logical types */
    "{\"type\":\"record\",\"name\":\"L\",\"fields\":["
    "{\"name\":\"date\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
    "{\"name\":\"tm\",\"type\":{\"type\":\"int\",\"logicalType\":\"time-millis\"}},"
    "{\"name\":\"tu\",\"type\":{\"type\":\"long\",\"logicalType\":\"time-micros\"}},"
    "{\"name\":\"tsm\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"tsu\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
    "{\"name\":\"lts\",\"type\":{\"type\":\"long\",\"logicalType\":\"local-timestamp-millis\"}},"
    "{\"name\":\"uuid\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
    "{\"name\":\"db\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":"
    "12,\"scale\":3}},"
    "{\"name\":\"df\",\"type\":{\"type\":\"fixed\",\"name\":\"D8\",\"size\":8,\"logicalType\":"
    "\"decimal\",\"precision\":18,\"scale\":2}},"
    "{\"name\":\"dur\",\"type\":{\"type\":\"fixed\",\"name\":\"Dur\",\"size\":12,"
    "\"logicalType\":\"duration\"}}]}",
    /* 4: a union of every kind */
    "[\"null\",\"boolean\",\"int\",\"long\",\"float\",\"double\",\"bytes\",\"string\","
    "{\"type\":\"array\",\"items\":\"int\"},{\"type\":\"map\",\"values\":\"string\"},"
    "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"C\"]},"
    "{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},"
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}]",
    /* 5: containers in containers */
    "{\"type\":\"array\",\"items\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":"
    "[\"null\",\"string\",\"double\"]}}}",
    /* 6: same short name in two namespaces */
    "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\":\"u\",\"type\":["
    "{\"type\":\"record\",\"name\":\"X\",\"namespace\":\"a\",\"fields\":[{\"name\":\"p\","
    "\"type\":\"int\"}]},"
    "{\"type\":\"record\",\"name\":\"X\",\"namespace\":\"\",\"fields\":[{\"name\":\"q\","
    "\"type\":\"string\"}]}]}]}",
    /* 7: values that take no bytes */
    "{\"type\":\"record\",\"name\":\"Z\",\"fields\":["
    "{\"name\":\"nulls\",\"type\":{\"type\":\"array\",\"items\":\"null\"}},"
    "{\"name\":\"empty\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"record\","
    "\"name\":\"Nothing\",\"fields\":[]}}},"
    "{\"name\":\"f0\",\"type\":{\"type\":\"fixed\",\"name\":\"F0\",\"size\":0}}]}",
};
#define FUZZ_N_SCHEMAS (sizeof fuzz_schema_texts / sizeof fuzz_schema_texts[0])

static sluice_avro_schema *fuzz_parsed[FUZZ_N_SCHEMAS];

/* The root of schema i, parsing every schema on the first call. */
static const sluice_avro_node *fuzz_schema(size_t i)
{
    if (!fuzz_parsed[0]) {
        for (size_t k = 0; k < FUZZ_N_SCHEMAS; k++) {
            sluice_error err = {0};
            const char *t = fuzz_schema_texts[k];
            if (sluice_avro_schema_parse(t, strlen(t), &fuzz_parsed[k], &err) != 0) {
                fprintf(stderr, "fuzz schema %zu does not parse: %s\n", k, err.msg);
                abort();
            }
        }
    }
    return sluice_avro_schema_root(fuzz_parsed[i % FUZZ_N_SCHEMAS]);
}

/* ---- the independent reader ------------------------------------------------------- */

/* Why an encoding is not canonical (a bit each). */
enum {
    CANON_LONG_VARINT = 1,
    CANON_BLOCKS = 2,
    CANON_NAN = 4,
    CANON_DUP_KEY = 8,
    CANON_DECIMAL_TEXT = 16,
    CANON_NOT_UUID = 32,
    CANON_UNCHECKED = 64,
};

typedef struct canon_reader {
    const uint8_t *p;
    size_t n, pos;
    unsigned why; /* 0: canonical */
} canon_reader;

/* -1 when the bytes cannot be read at all. */
static int canon_long(canon_reader *r, int64_t *v)
{
    uint64_t u = 0;
    size_t len = 0;
    uint8_t b;
    do {
        if (r->pos >= r->n || len == 10) return -1;
        b = r->p[r->pos++];
        u |= (uint64_t)(b & 0x7f) << (7 * len);
        len++;
    } while (b & 0x80);
    if (len > 1 && b == 0) r->why |= CANON_LONG_VARINT; /* a zero top group: longer than needed */
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

static bool canon_looks_decimal(const uint8_t *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    size_t d = i;
    while (i < n && isdigit(s[i]))
        i++;
    if (i == d) return false;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        while (i < n && isdigit(s[i]))
            i++;
        if (i == f) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t e = i;
        while (i < n && isdigit(s[i]))
            i++;
        if (i == e) return false;
    }
    return i == n;
}

static bool canon_is_uuid(const uint8_t *s, size_t n)
{
    if (n != 36) return false;
    for (size_t i = 0; i < n; i++)
        if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !isxdigit(s[i])) return false;
    return true;
}

static int canon_take(canon_reader *r, size_t n, const uint8_t **at)
{
    if (r->n - r->pos < n) return -1;
    *at = r->p + r->pos;
    r->pos += n;
    return 0;
}

static int canon_value(canon_reader *r, const sluice_avro_node *t, int depth);

static int canon_blocks(canon_reader *r, const sluice_avro_node *t, int depth)
{
    bool is_map = t->type == SLUICE_AVRO_MAP;
    int blocks = 0;
    /* Keys seen in this map, for the duplicate check (small inputs only). */
    const uint8_t *keys[256];
    size_t key_len[256], n_keys = 0;
    for (;;) {
        int64_t count, size;
        if (canon_long(r, &count)) return -1;
        if (count == 0) break;
        if (++blocks > 1) r->why |= CANON_BLOCKS;
        if (count < 0) {
            r->why |= CANON_BLOCKS;
            if (count == INT64_MIN || canon_long(r, &size)) return -1;
            count = -count;
        }
        for (int64_t i = 0; i < count; i++) {
            if (is_map) {
                int64_t klen;
                const uint8_t *key;
                if (canon_long(r, &klen) || klen < 0 || canon_take(r, (size_t)klen, &key))
                    return -1;
                for (size_t k = 0; k < n_keys; k++)
                    if (key_len[k] == (size_t)klen && memcmp(keys[k], key, (size_t)klen) == 0)
                        r->why |= CANON_DUP_KEY;
                if (n_keys < 256) {
                    keys[n_keys] = key;
                    key_len[n_keys++] = (size_t)klen;
                } else {
                    r->why |= CANON_UNCHECKED; /* do not claim canonical */
                }
            }
            if (canon_value(r, is_map ? t->values : t->items, depth + 1)) return -1;
        }
    }
    return 0;
}

static int canon_value(canon_reader *r, const sluice_avro_node *t, int depth)
{
    const uint8_t *at;
    int64_t v;
    if (depth > 200) return -1;
    switch (t->type) {
    case SLUICE_AVRO_NULL:
        return 0;
    case SLUICE_AVRO_BOOLEAN:
        return canon_take(r, 1, &at);
    case SLUICE_AVRO_INT:
    case SLUICE_AVRO_LONG:
    case SLUICE_AVRO_ENUM:
        return canon_long(r, &v);
    case SLUICE_AVRO_FLOAT: {
        if (canon_take(r, 4, &at)) return -1;
        uint32_t bits =
            (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
        if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) && bits != 0x7fc00000u)
            r->why |= CANON_NAN;
        return 0;
    }
    case SLUICE_AVRO_DOUBLE: {
        if (canon_take(r, 8, &at)) return -1;
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++)
            bits |= (uint64_t)at[i] << (8 * i);
        uint64_t exp = 0x7ff0000000000000ULL, frac = 0x000fffffffffffffULL;
        if ((bits & exp) == exp && (bits & frac) && bits != 0x7ff8000000000000ULL)
            r->why |= CANON_NAN;
        return 0;
    }
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_STRING: {
        if (canon_long(r, &v) || v < 0 || canon_take(r, (size_t)v, &at)) return -1;
        if (t->logical == SLUICE_AVRO_LOGICAL_DECIMAL && canon_looks_decimal(at, (size_t)v))
            r->why |= CANON_DECIMAL_TEXT;
        if (t->logical == SLUICE_AVRO_LOGICAL_UUID && !canon_is_uuid(at, (size_t)v))
            r->why |= CANON_NOT_UUID;
        return 0;
    }
    case SLUICE_AVRO_FIXED:
        if (canon_take(r, t->size, &at)) return -1;
        if (t->logical == SLUICE_AVRO_LOGICAL_DECIMAL && canon_looks_decimal(at, t->size))
            r->why |= CANON_DECIMAL_TEXT;
        return 0;
    case SLUICE_AVRO_ARRAY:
    case SLUICE_AVRO_MAP:
        return canon_blocks(r, t, depth);
    case SLUICE_AVRO_RECORD:
        for (size_t i = 0; i < t->n_fields; i++)
            if (canon_value(r, t->fields[i].type, depth + 1)) return -1;
        return 0;
    case SLUICE_AVRO_UNION:
        if (canon_long(r, &v) || v < 0 || (uint64_t)v >= t->n_branches) return -1;
        return canon_value(r, t->branches[v], depth + 1);
    }
    return -1;
}

/* 0 canonical, else the CANON_* reasons it is not; -1 unreadable. */
static int fuzz_canonical(const sluice_avro_node *t, const uint8_t *p, size_t n)
{
    canon_reader r = {p, n, 0, 0};
    if (canon_value(&r, t, 0) || r.pos != n) return -1;
    return (int)r.why;
}

#endif
