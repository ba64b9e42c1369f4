/*
 * json_avro.h — JSON text → Avro binary in one pass, with no tree: the
 * encoder ingest runs on every event.
 *
 * A schema is compiled once (json_avro_compile) into a mirror of its graph
 * that holds what the walk would otherwise work out per event: each
 * record's field names with their lengths and a hash index, each field's
 * default already encoded as Avro bytes, which union branches take objects
 * or arrays. Running it (json_avro_encode) pulls tokens from a json_lex and
 * writes Avro straight into the caller's buffer.
 *
 * The rules are avro_json.h's, to the byte (avro_text.c holds them once):
 * plain JSON or Avro's JSON encoding of unions, defaults for absent fields,
 * unknown fields rejected, ISO-8601 strings for date/time logical types,
 * UUIDs checked, decimals from numbers or decimal strings, every error
 * collected with its $.path (up to AVRO_JSON_MAX_ERRORS). The tree encoder
 * is the oracle: tests/unit/test_json_avro.c and fuzz/fuzz_json_avro.c
 * check that both give the same bytes, or both fail at the same paths.
 * Where this one is more exact, by design:
 *   - a decimal given as a JSON number is read from its literal, not
 *     through a double (the tree path rounds 0.1234567890123456789 to 17
 *     digits first);
 *   - an integer literal past int64 or a real past double's range is named
 *     by its field ("does not fit in long", "is out of range for double")
 *     instead of failing the whole body as malformed JSON; a double or
 *     decimal field takes a long integer literal.
 *
 * How it streams:
 *   - records: fields that arrive in schema order are encoded as they are
 *     read. A field that arrives early has its value's offset remembered
 *     (one slot per field, taken only when the order breaks) and is skipped
 *     (validated); it is encoded from that offset when its turn comes, and
 *     what is still missing at '}' takes its default. A repeated key is
 *     malformed JSON, as jansson says.
 *   - arrays and maps: Avro writes the item count first, which is known only
 *     at the end; one byte is reserved for it and the items are moved in
 *     the rare case (64 items or more) the count needs more.
 *   - unions: a scalar is read first and the branch chosen by its value; an
 *     object or array is looked ahead (its keys, its items' kinds) only when
 *     more than one branch could take it, or its only key names a branch.
 * On a syntax error the reader stops (lx->err) and the call returns
 * SLUICE_EPARSE; a value error is recorded and the walk goes on past that
 * value, so one call reports every problem of an event.
 *
 * Threads: a compiled json_avro is immutable and shared; a call uses only
 * its arguments (the json_lex and the buffer belong to the caller's thread).
 */
#ifndef SLUICE_CODEC_JSON_AVRO_H
#define SLUICE_CODEC_JSON_AVRO_H

#include <stddef.h>

#include <sluice/avro.h>
#include <sluice/error.h>

#include "codec/avro_json.h"
#include "codec/json_lex.h"
#include "common/buf.h"

typedef struct json_avro json_avro;

/* Compile schema (which must outlive the result). Fails only when a
 * default does not encode (the schema parser checked them) or on memory. */
int json_avro_compile(const sluice_avro_node *schema, json_avro **out, sluice_error *err);
void json_avro_free(json_avro *p);

/* Encode the one JSON value at lx's position, appending Avro to out.
 * Returns 0 (lx after the value); SLUICE_EINVAL with every error in *errs
 * (may be NULL), out rolled back, lx after the value; SLUICE_EPARSE when
 * the text is not JSON (lx->err, lx->err_at, lx->err_msg say where), out
 * rolled back; SLUICE_ENOMEM when out's cap is reached. */
int json_avro_encode(const json_avro *p, json_lex *lx, buf *out, avro_json_errors *errs);

#endif
