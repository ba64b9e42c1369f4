/*
 * plan.h — a compiled program that turns one message into ClickHouse
 * RowBinary rows for one target table.
 *
 * Compiled once per (writer schema, reader schema, table, transform) and
 * cached by the sink; run on every message. Compilation does all the
 * thinking — which writer field feeds which column (by name, nested records
 * flattened as "a.b" or "a_b"), Avro schema resolution (fields the writer
 * lacks take the reader's default; fields the reader lacks are skipped;
 * int→long→float→double and string↔bytes promotions), how each value is
 * encoded for its column type, which values transforms need — so that
 * running is a walk over a small op tree that decodes the Avro bytes in
 * writer order straight into per-column RowBinary scratch, with no
 * intermediate value tree and no allocation per field. Rows are assembled
 * from the scratch in the INSERT's column order.
 *
 * Threads: a plan is immutable after compilation and shared; each thread
 * that runs it owns a plan_state (scratch buffers, slots).
 *
 * The INSERT column list is a property of the plan: columns of the table
 * that no source feeds are left out so the server fills their DEFAULT (or
 * the type's default); MATERIALIZED and ALIAS columns are never written.
 * Messages whose plans have different column lists go to different INSERTs
 * (the sink batches by plan_columns_sql()).
 */
#ifndef SLUICE_CODEC_PLAN_H
#define SLUICE_CODEC_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/avro.h>
#include <sluice/error.h>

#include "codec/ch_type.h"
#include "codec/proto_schema.h"
#include "common/buf.h"

/* One column of the target table, as system.columns describes it. */
typedef struct plan_column {
    const char *name;
    const ch_type *type;
    int has_default_expression; /* default_kind DEFAULT: omit when unfed */
    int insertable;             /* 0 for MATERIALIZED / ALIAS */
    /* as system.columns says (may be NULL): "", DEFAULT, MATERIALIZED or
     * ALIAS, and the expression; the plan does not read them */
    const char *default_kind;
    const char *default_expression;
} plan_column;

typedef enum plan_extra {
    PLAN_EXTRA_IGNORE, /* source fields without a column are skipped */
    PLAN_EXTRA_REJECT, /* ... are a compile error naming them */
} plan_extra;

typedef struct plan_derived {
    const char *column;
    const char *expression;
} plan_derived;

typedef struct plan_options {
    char separator; /* flattening: '.' (default) or '_' */
    plan_extra extra_fields;
    const char *explode; /* path of an array field, or NULL */
    const char *filter;  /* predicate text, or NULL */
    const plan_derived *derived;
    size_t n_derived;
    const char *route; /* for messages: "sink.routes[0]" */
} plan_options;

typedef struct plan plan;

/* Avro messages: writer is the schema the message was written with; reader
 * is the route's schema (NULL: the writer itself). Compile errors name the
 * route, field and column: "sink.routes[0]: field $.price (string) cannot
 * go into column price (Decimal(18, 2))...", "...: column line_total:
 * offset 9: unknown field 'items.prise'". */
int plan_compile_avro(const sluice_avro_node *writer, const sluice_avro_node *reader,
                      const plan_column *columns, size_t n_columns, const plan_options *opt,
                      plan **out, sluice_error *err);

/* Protobuf messages of one message type (the one a frame's message-index
 * array names; proto_wire.h, proto_frame_resolve): columns are fed by field
 * name along the same rules as Avro (flattened "a.b" / "a_b", repeated
 * fields into Array columns, repeated messages into Nested columns "a.b",
 * maps into Map or "a.keys"/"a.values", a oneof's name into a column of its
 * own), with the fields Protobuf adds: google.protobuf.Timestamp into
 * Date/DateTime/DateTime64/String, wrapper types as nullable scalars,
 * enums by name into Enum and String columns (by number into integers),
 * absent fields as proto3/proto2 defaults, or NULL in Nullable columns when
 * the field has presence. plan_run takes the Protobuf bytes after the
 * message-index array; errors name the offset in them and the field path
 * ("offset 12, $.items[].qty: wire type LEN where int32 needs VARINT").
 * The schema that holds `message` must outlive the plan. Transforms:
 * filter and derived columns over the message's singular fields; explode
 * is refused. */
int plan_compile_proto(const proto_message *message, const plan_column *columns, size_t n_columns,
                       const plan_options *opt, plan **out, sluice_error *err);

/* Messages a Protobuf plan flattens inside each other; deeper ones are
 * skipped (sluice ddl follows the same bound). */
#define PLAN_PROTO_MAX_FLATTEN 32

/* Schemaless JSON messages (one JSON object each): every insertable column
 * is written; a field found by name (or by flattened path: column "a.b" ←
 * {"a":{"b":…}}) is encoded with ch_encode_json, an absent one gets the
 * column type's default. */
int plan_compile_json(const plan_column *columns, size_t n_columns, const plan_options *opt,
                      plan **out, sluice_error *err);

void plan_free(plan *p);

/* "(`a`, `b.c`, `d`)": the INSERT's column list, identical for every row
 * this plan writes. */
const char *plan_columns_sql(const plan *p);

typedef struct plan_state plan_state;
plan_state *plan_state_new(const plan *p);
void plan_state_free(plan_state *st);

typedef struct plan_result {
    size_t rows;     /* rows appended to out */
    size_t filtered; /* rows the filter dropped */
} plan_result;

/* Decode one message (the Avro payload after the Confluent header, the
 * Protobuf bytes after the message-index array, or the JSON text) into rows appended to out. now_s
 * is what now() returns. On error nothing is appended (out keeps its length), and err says where:
 * "offset 17, $.items[].qty: truncated input", "$.status: 'PAUSED' is not
 * a value of Enum8('A' = 1, 'B' = 2)", "filter: integer overflow in a + b".
 * SLUICE_ENOMEM means out's cap was reached (the batch is full), not that
 * the message is bad. */
int plan_run(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s, buf *out,
             plan_result *res, sluice_error *err);

#endif
