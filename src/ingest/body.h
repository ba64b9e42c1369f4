/*
 * body.h — the shapes of an ingest request body, read with the streaming
 * JSON reader (src/codec/json_lex.h) and never turned into a tree:
 *
 *  - INGEST_BODY_JSON: one JSON object (one event) or an array of objects;
 *  - INGEST_BODY_NDJSON: one object per line, blank lines skipped; a line
 *    is a range of the body, split in place (a JSON string cannot hold a
 *    raw newline, so the split is exact);
 *  - INGEST_BODY_REST_JSON / _AVRO: Confluent REST Proxy v2's produce
 *    body, {"records":[{"key":..,"value":..,"partition":p}],
 *    "value_schema": "..", "value_schema_id": n, "key_schema": "..",
 *    "key_schema_id": n}.
 *
 * JSON and NDJSON bodies are walked once: the caller's visit function is
 * called with the reader positioned at each event's value and consumes it
 * (encoding it as it reads). A REST Proxy body is scanned first, because
 * its schema may come after its records: the scan validates all of it and
 * returns each record's spans, which the caller then encodes.
 *
 * Errors say what and where. A body that is not JSON (or an event that is
 * not an object, or too many events) is an ingest_body_error; the first
 * syntax error wins over a structural one, which wins over the visits'
 * own verdicts, so a request is judged the way a tree parse would judge
 * it: malformed first, then shape, then schema.
 *
 * Pure: no I/O, no globals; any thread. fuzz/fuzz_ingest_body.c drives it
 * with arbitrary bytes.
 */
#ifndef SLUICE_INGEST_BODY_H
#define SLUICE_INGEST_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/json_lex.h"

typedef enum ingest_body_kind {
    INGEST_BODY_JSON,
    INGEST_BODY_NDJSON,
    INGEST_BODY_REST_JSON,
    INGEST_BODY_REST_AVRO,
} ingest_body_kind;

/* The body kind of a Content-Type for a route (rest_proxy: the /topics/
 * route); -1 if that route does not take it. Parameters (;charset=...) are
 * ignored; the media type is matched case-insensitively. */
int ingest_body_kind_of(const char *content_type, int rest_proxy);

typedef struct ingest_body_error {
    bool syntax; /* malformed JSON (message has line, column and byte) */
    char msg[400];
} ingest_body_error;

/* Called for event `index` with lx at its value (an object). It must
 * consume exactly that value, or leave lx->err set (malformed JSON). */
typedef void (*ingest_visit_fn)(void *ctx, json_lex *lx, size_t index);

/* Walk a JSON or NDJSON body of lx's text. Returns the number of events
 * (>= 1), or -1 with err filled (nothing more is visited once the body is
 * known to be bad, but the whole body is still read for its syntax). */
long ingest_body_walk(json_lex *lx, ingest_body_kind kind, size_t max_events, ingest_visit_fn visit,
                      void *ctx, ingest_body_error *err);

/* One record of a REST Proxy body: spans of the body's text. */
typedef struct ingest_rest_record {
    size_t value_at, value_len;
    bool value_null;
    size_t key_at, key_len; /* key_len 0: no key (absent or null) */
    int32_t partition;      /* -1: the partitioner chooses */
} ingest_rest_record;

typedef struct ingest_rest {
    ingest_rest_record *records;
    size_t n;
    char *value_schema, *key_schema; /* decoded (malloc'd), or NULL */
    size_t value_schema_len, key_schema_len;
    int32_t value_schema_id, key_schema_id; /* -1 when absent */
} ingest_rest;

/* Scan a REST Proxy body. 0, or -1 with err filled. */
int ingest_rest_scan(json_lex *lx, size_t max_events, ingest_rest *out, ingest_body_error *err);
void ingest_rest_free(ingest_rest *r);

/* The span of the value of top-level member `name` of the object at
 * [at, at + len) (already validated); 0 if found, -1 if not. */
int ingest_find_member(json_lex *lx, size_t at, size_t len, const char *name, size_t *vat,
                       size_t *vlen);

#endif
