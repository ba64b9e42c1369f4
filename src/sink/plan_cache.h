/*
 * plan_cache.h — one writer's plans, by what a message was written with.
 *
 * A plan turns a message into RowBinary rows of a route's table (codec,
 * plan.h). Which plan depends on the message:
 *   - not framed: the route's JSON plan;
 *   - framed (Confluent's magic byte and schema id), by the writer schema's
 *     type in the registry:
 *       AVRO     the writer schema resolved against the reader (the
 *                subject's latest, or the one an exactly-once batch pinned);
 *       PROTOBUF the message type the frame's message-index array names
 *                (proto_frame_resolve), fed by field number;
 *       JSON     the route's JSON plan, after the writer's JSON Schema
 *                validated the payload.
 * Plans are compiled once per (route, schema, reader or message type,
 * table columns) and kept: the cache holds PLAN_CACHE entries and evicts
 * the least recently used one the current batch does not use. Schemas and
 * validators live as long as the plans that point into them (one entry
 * owns both).
 *
 * Owned by one writer thread: no lock, except the route's mutex around its
 * column list while compiling. The registry client is shared (it locks).
 */
#ifndef SLUICE_SINK_PLAN_CACHE_H
#define SLUICE_SINK_PLAN_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/avro.h>
#include <sluice/error.h>
#include <sluice/sr.h>

#include "codec/json_schema.h"
#include "codec/json_schema_validate.h"
#include "codec/plan.h"
#include "codec/proto_schema.h"
#include "sink/route.h"

#define PLAN_CACHE 64

/* The reader schema an Avro lookup uses: the subject's latest ... */
#define READER_LATEST INT32_MIN
/* ... or a pinned id (>= 0), or -1 for none (the writer's own). */

typedef enum plan_kind {
    PLAN_KIND_JSON,        /* the route's JSON plan */
    PLAN_KIND_AVRO,        /* framed Avro */
    PLAN_KIND_PROTO,       /* framed Protobuf, one message type */
    PLAN_KIND_PROTO_FILE,  /* a parsed Protobuf schema, to read frames with (no plan) */
    PLAN_KIND_JSON_SCHEMA, /* framed JSON: validator, then the JSON plan */
} plan_kind;

typedef struct plan_entry {
    int used;
    plan_kind kind;
    int route;
    int32_t writer_id; /* -1 for the route's JSON plan */
    int32_t reader_id;
    char *message; /* Protobuf: the message type's full name */
    uint64_t cols_gen;
    plan *p;
    plan_state *st;
    sluice_avro_schema *w, *r;
    proto_schema *ps;
    const proto_message *pm;
    json_schema *js;
    json_validator *jv;
    char *error; /* compiling failed: every message it would read gets this */
    uint64_t last_used;
} plan_entry;

/* What the current batch's framed messages resolved to, by schema id: a
 * batch's messages nearly always share one or two ids, and asking the
 * registry client (two lookups under its locks for an Avro message: the
 * writer's schema and the subject's latest) and scanning the cache for
 * each message was 40 % of a writer's CPU at 800 k rows/s (perf). Only
 * Avro and JSON Schema entries: a Protobuf plan also depends on the
 * frame's message-index array. Cleared at every batch, so a batch reads
 * every message with the reader it found first (what the registry said
 * then) and the next batch asks again. */
#define PLAN_MEMO 8
typedef struct plan_memo {
    int route;
    int32_t id, pin;
    uint64_t cols_gen;
    plan_entry *e;
} plan_memo;

typedef struct plan_cache {
    plan_entry e[PLAN_CACHE];
    plan_memo memo[PLAN_MEMO];
    int n_memo;
    uint64_t tick;
    sluice_sr *sr; /* may be NULL: framed messages are then undecodable */
} plan_cache;

void plan_cache_init(plan_cache *c, sluice_sr *sr);
void plan_cache_free(plan_cache *c);
/* Call at the start of each batch: entries used from now on are not
 * evicted until the next batch. Returns the batch's tick. */
uint64_t plan_cache_batch(plan_cache *c);

enum {
    PLAN_READY,       /* *out (whose error may say it cannot decode) */
    PLAN_UNDECODABLE, /* why says it: the message goes to the DLQ */
    PLAN_RETRY,       /* the registry failed (err): wait and ask again */
};

/* The route's JSON plan. */
int plan_cache_json(plan_cache *c, route_rt *r, uint64_t batch_tick, plan_entry **out, char *why,
                    size_t why_len);

/* The plan for a framed message (frame: the whole value, header
 * included). *payload_at: where the bytes the plan reads begin. */
int plan_cache_framed(plan_cache *c, route_rt *r, const uint8_t *frame, size_t len, int32_t pin,
                      uint64_t batch_tick, plan_entry **out, size_t *payload_at, char *why,
                      size_t why_len, sluice_error *err);

/* A JSON-Schema entry checks the payload before its plan runs: 0, or
 * SLUICE_EINVAL with every problem in why ("$.a: ...; $.b: ..."). */
int plan_entry_validate(const plan_entry *e, const uint8_t *payload, size_t len, char *why,
                        size_t why_len);

#endif
