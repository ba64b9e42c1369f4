/*
 * ddl_columns.h — the ClickHouse table a schema maps onto, exactly as the
 * sink writes it, and the CREATE TABLE statement `sluice ddl` prints.
 *
 * Two halves. A front end per schema type proposes the columns the sink's
 * plan would map the schema's fields onto (by name: records, messages and
 * objects flattened with the route's separator, arrays of records and
 * repeated messages as Nested, maps as keys/values arrays or a Map column,
 * nullable values as Nullable, ...) and then proves the proposal against
 * the sink's own plan: a column list the sink would not fill column for
 * column is an error, never printed. The table half turns any column list
 * into CREATE TABLE text (Nested groups, engine, ORDER BY).
 *
 * One front end per schema type, each proved against its own plan:
 * ddl_avro.c (plan_compile_avro), ddl_protobuf.c (plan_compile_proto, for
 * one message type of the file), ddl_json.c (plan_compile_json, with the
 * JSON Schema validator the sink runs first). A field the sink's plan
 * cannot put into any column (a Protobuf map inside a repeated message, a
 * JSON array of objects, ...) is listed as not mapped, with the reason,
 * and printed as a comment above the statement; the table is still one the
 * sink fills column for column. Which front end a registry schema goes to
 * is ddl.h's business (the front door, above these files).
 *
 * Pure functions over caller-owned data; any thread; not on a hot path.
 */
#ifndef SLUICE_CODEC_DDL_COLUMNS_H
#define SLUICE_CODEC_DDL_COLUMNS_H

#include <stddef.h>

#include <sluice/avro.h>
#include <sluice/error.h>

#include "codec/ch_type.h"
#include "codec/json_schema.h"
#include "codec/plan.h"
#include "codec/proto_schema.h"
#include "common/arena.h"
#include "common/buf.h"

/* One column as system.columns will list it. A column of a Nested group
 * (an array of records, or a map's keys/values, under the '.' separator)
 * also names its group and its element type, so the table text can declare
 * `items Nested(sku String, qty Int32)` for items.sku and items.qty. */
typedef struct ddl_column {
    const char *name;       /* "user.id", "items.sku" (unquoted) */
    const char *type;       /* "Nullable(String)", "Array(Int32)" */
    const char *nested;     /* "items", or NULL */
    const char *nested_sub; /* "sku": the name inside Nested(...) */
    const char *elem_type;  /* "Int32": the type inside Nested(...) */
    const char *source;     /* the schema path it comes from: "$.items[].sku" */
} ddl_column;

/* A field of the schema that no column takes, and why (the sink skips it). */
typedef struct ddl_skipped {
    const char *source; /* "$.lines[].attrs" */
    const char *why;    /* "a map inside a repeated message" */
} ddl_skipped;

typedef struct ddl_columns {
    arena a; /* owns every string */
    ddl_column *items;
    size_t n, cap;
    ddl_skipped *skipped;
    size_t n_skipped, cap_skipped;
    const char *root; /* what was mapped when the schema holds several: "message shop.Event" */
} ddl_columns;

typedef struct ddl_options {
    char separator;       /* '.' (the sink's default) or '_': the route's `flatten` */
    ch_features features; /* what the target server can store (ch_server_features) */
    const char *message;  /* PROTOBUF: the message type by full name; NULL: the file's first */
} ddl_options;

void ddl_columns_init(ddl_columns *c);
void ddl_columns_free(ddl_columns *c);
/* Append a column (strings copied). SLUICE_ECONFLICT when the name is
 * already taken, naming both sources (two fields that flatten alike). */
int ddl_columns_add(ddl_columns *c, const char *name, const char *type, const char *nested,
                    const char *nested_sub, const char *elem_type, const char *source,
                    sluice_error *err);

/* A column of a group (an array of records or objects): name<sep>sub,
 * type Array(elem); under '.' it is declared inside `name Nested(...)`. */
int ddl_columns_add_grouped(ddl_columns *c, char sep, const char *name, const char *sub,
                            const char *elem, const char *source, sluice_error *err);

/* Record a field no column takes (strings copied). */
int ddl_columns_skip(ddl_columns *c, const char *source, const char *why, sluice_error *err);

/* The Avro front end (ddl_avro.c): root must be a record. */
int ddl_columns_for_avro(const sluice_avro_node *root, const ddl_options *opt, ddl_columns *out,
                         sluice_error *err);

/* The Protobuf front end (ddl_protobuf.c): one message type (the one the
 * frames' message-index array names). */
int ddl_columns_for_proto(const proto_message *m, const ddl_options *opt, ddl_columns *out,
                          sluice_error *err);

/* The JSON Schema front end (ddl_json.c): the root must describe an object.
 * A schema the sink's validator refuses (a keyword outside its subset) is
 * refused here with the same message. */
int ddl_columns_for_json(const json_schema *schema, const ddl_options *opt, ddl_columns *out,
                         sluice_error *err);

/* For the front ends: printf into an arena (NULL, and err set, when out
 * of memory); */
const char *ddl_fmt(arena *a, sluice_error *err, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* the proposal as plan columns (types parsed into a;
 * free the array), and the check that a compiled plan writes every one of
 * them. Both fail with SLUICE_EINTERNAL: a proposal the sink would not
 * take is a bug in sluice ddl. */
int ddl_plan_columns(const ddl_columns *cols, arena *a, plan_column **out, sluice_error *err);
int ddl_check_written(const plan *p, const ddl_columns *cols, sluice_error *err);

typedef struct ddl_table_options {
    const char *table;        /* "db.table" or "table" (required) */
    const char *engine;       /* NULL: "MergeTree" */
    const char *order_by;     /* MergeTree engines; NULL: "tuple()" */
    const char *partition_by; /* NULL: none */
    const char *header;       /* a comment line for the top (without "-- "), or NULL */
    int if_not_exists;
} ddl_table_options;

/* Append `CREATE TABLE ...;\n` to out, after the header and one comment
 * line per field not mapped. ORDER BY and PARTITION BY are
 * written for engines of the MergeTree family only (a PARTITION BY given
 * for another engine is SLUICE_EINVAL). Names are quoted with backticks. */
int ddl_create_table(const ddl_columns *cols, const ddl_table_options *opt, buf *out,
                     sluice_error *err);

#endif
