/*
 * body.h — ingest's request-body parser: the bytes of a POST into a list of
 * events, or an error naming where the body is malformed.
 *
 *  - INGEST_BODY_JSON: one JSON object (one event) or an array of objects.
 *  - INGEST_BODY_NDJSON: one object per line; blank lines are skipped.
 *  - INGEST_BODY_REST_JSON / _AVRO: Confluent REST Proxy v2's produce body,
 *    {"records":[{"key":..,"value":..,"partition":p}], "value_schema": "..",
 *    "value_schema_id": n, "key_schema": "..", "key_schema_id": n}.
 *
 * JSON parsing is jansson's (JSON_REJECT_DUPLICATES). Errors say what and
 * where: "line 3, column 7 (byte 41): ..." for syntax, "record 2: ..." for
 * structure. Events keep a pointer to their own bytes when the body has them
 * as one span (a single object, an NDJSON line), so a schemaless topic gets
 * exactly the bytes the client sent.
 *
 * Pure: no I/O, no globals; safe on any thread; the libFuzzer target
 * fuzz/fuzz_ingest_body.c drives it with arbitrary bytes.
 */
#ifndef SLUICE_INGEST_BODY_H
#define SLUICE_INGEST_BODY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ingest_body_kind {
    INGEST_BODY_JSON,
    INGEST_BODY_NDJSON,
    INGEST_BODY_REST_JSON,
    INGEST_BODY_REST_AVRO,
} ingest_body_kind;

typedef struct ingest_event {
    json_t *value;   /* borrowed from the batch's roots */
    json_t *key;     /* REST Proxy record key, or NULL (also for JSON null) */
    const char *raw; /* the event's own bytes inside the body, or NULL */
    size_t raw_len;
    int32_t partition; /* -1: the partitioner chooses */
} ingest_event;

typedef struct ingest_batch {
    ingest_event *events;
    size_t n;
    json_t **roots; /* owned: one per NDJSON line, else one */
    size_t n_roots;
    /* REST Proxy only (NULL / -1 when absent); strings borrowed from roots. */
    const char *value_schema;
    const char *key_schema;
    int32_t value_schema_id;
    int32_t key_schema_id;
} ingest_batch;

/* Parse `body` (len bytes; need not be NUL-terminated). At most max_events
 * events (more is an error). 0, or -1 with err filled; out is empty then. */
int ingest_parse_body(const char *body, size_t len, ingest_body_kind kind, size_t max_events,
                      ingest_batch *out, char *err, size_t err_len);
void ingest_batch_free(ingest_batch *b);

/* The body kind of a Content-Type for a route (rest_proxy: the /topics/
 * route); -1 if that route does not take it. Parameters (;charset=...) are
 * ignored; the media type is matched case-insensitively. */
int ingest_body_kind_of(const char *content_type, int rest_proxy);

#endif
