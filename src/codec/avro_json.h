/*
 * avro_json.h — JSON ⇄ Avro binary, walking a parsed schema (avro.h).
 *
 * JSON -> Avro binary: the rules every event of an ingest request is
 * validated and encoded by (json_avro.h runs them without a tree). Avro
 * binary -> JSON serves the dead-letter topic, the CLI and
 * debugging (and the cross-checks against avsc).
 *
 * Both walk the schema graph directly. The encoder takes a jansson tree:
 * it encodes schema defaults and is the oracle the streaming encoder that
 * ingest runs (json_avro.h) is tested against; avro_json_encode.c and
 * avro_json_decode.c say more. Pure functions over caller-owned data; safe
 * from any thread.
 */
#ifndef SLUICE_CODEC_AVRO_JSON_H
#define SLUICE_CODEC_AVRO_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/avro.h>
#include <sluice/error.h>

#include "common/buf.h"

/* Every problem found in one value, each with a JSONPath-like location:
 *   $.user.age: expected int, got string
 *   $.items[3].sku: missing required field (no default)
 *   $.status: 'PAUSED' is not a symbol of enum Status (ACTIVE, CLOSED)
 *   $.count: 3000000000 does not fit in int (32-bit)
 *   $.id: fixed Id needs 16 bytes, got 15
 *   $.payload: union [null, string, Rec] has no branch for a JSON object
 * The list is bounded (AVRO_JSON_MAX_ERRORS); `truncated` says more existed. */
#define AVRO_JSON_MAX_ERRORS 16
typedef struct avro_json_error {
    char path[256];
    char message[256];
} avro_json_error;

typedef struct avro_json_errors {
    avro_json_error items[AVRO_JSON_MAX_ERRORS];
    int n;
    int truncated;
} avro_json_errors;

/* Encode `value` as Avro binary of `schema`, appending to out. Accepts plain
 * JSON (a union takes the first branch the value fits) and Avro's JSON
 * encoding (a union value as {"branch name": value}; bytes and fixed as
 * strings whose code points 0..255 are the bytes). Record fields absent from
 * the JSON take their schema default; fields in the JSON but not in the
 * schema are errors (they would be silently lost otherwise). Logical types:
 * timestamp-*, date and time-* accept integers, and also ISO-8601 strings
 * ("2026-11-22T20:12:01.123Z", "2026-11-22"); uuid accepts the canonical
 * 36-character form; decimal accepts a JSON number or a decimal string and is
 * scaled to the schema's scale (an inexact value is an error). Returns 0, or
 * SLUICE_EINVAL with every error in *errs (and out rolled back to its length
 * on entry), or SLUICE_ENOMEM when out's cap is reached.
 *
 * Details (avro_json_encode.c says why): a single-key object whose key names a
 * union branch is read as Avro's JSON encoding, before any plain reading;
 * float and double also take "NaN", "Infinity" and "-Infinity"; a decimal
 * string that reads as a number ("12.50", "-1e3") is that number, any other
 * string is the raw bytes of Avro's JSON encoding (defaults are always raw);
 * a JSON real given for a decimal is exact only to its shortest round-trip
 * text (15-17 significant digits). */
int avro_json_encode(const sluice_avro_node *schema, const json_t *value, buf *out,
                     avro_json_errors *errs);

/* The Avro binary of a record field's default (its default_json, read by
 * the spec's rules: a union's default belongs to its first branch, bytes
 * and fixed are raw code points). 0, or SLUICE_EINVAL / SLUICE_ENOMEM as
 * avro_json_encode. The streaming encoder (json_avro.h) calls this once per
 * field when it compiles a schema. */
int avro_json_encode_default(const sluice_avro_field *f, buf *out, avro_json_errors *errs);

typedef enum avro_json_style {
    AVRO_JSON_PLAIN, /* unions unwrapped, bytes/fixed as \u00XX strings, logical types as their
                        numbers */
    AVRO_JSON_AVRO,  /* Avro's JSON encoding: non-null union values wrapped as {"type": value} */
} avro_json_style;

/* Decode one Avro binary value written with `writer` (the whole input must
 * be consumed) and append its JSON text to out. Errors name the byte offset
 * and the path: "offset 17, $.items[2].qty: truncated varint", "offset 4,
 * $.name: string length -3 is negative", "offset 9: 12 bytes left over after
 * the value", "offset 0, $: union branch 5 out of range (3 branches)",
 * nesting deeper than SLUICE_AVRO_MAX_DEPTH, lengths beyond the input.
 * Doubles and floats are written as the shortest text that reads back to
 * the same bits; NaN and the infinities, which JSON cannot hold, as the
 * strings "NaN", "Infinity" and "-Infinity". out is rolled back on error. */
int avro_json_decode(const sluice_avro_node *writer, const uint8_t *data, size_t len,
                     avro_json_style style, buf *out, sluice_error *err);

#endif
