/*
 * ddl.h — the ClickHouse table a registry schema maps onto, exactly as the
 * sink writes it, and the CREATE TABLE statement `sluice ddl` prints.
 *
 * Two halves. A front end per schema type proposes the columns the sink's
 * plan compiler would map the schema's fields onto (by name: records
 * flattened with the route's separator, arrays of records as Nested, maps
 * as keys/values arrays or a Map column, unions with null as Nullable, ...)
 * and then proves the proposal by compiling the sink's own plan against it
 * with unknown fields rejected: a column list the sink would not accept
 * field for field is an error, never printed. The table half turns any
 * column list into CREATE TABLE text (Nested groups, engine, ORDER BY).
 *
 * Adding a schema type (Protobuf, JSON Schema) is one new ddl_<type>.c with
 * its entry in ddl.c's front-end table; nothing else changes.
 *
 * Pure functions over caller-owned data; any thread; not on a hot path.
 */
#ifndef SLUICE_CODEC_DDL_H
#define SLUICE_CODEC_DDL_H

#include <stddef.h>

#include <sluice/avro.h>
#include <sluice/error.h>

#include "codec/ch_type.h"
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

typedef struct ddl_columns {
    arena a; /* owns every string */
    ddl_column *items;
    size_t n, cap;
} ddl_columns;

typedef struct ddl_options {
    char separator;       /* '.' (the sink's default) or '_': the route's `flatten` */
    ch_features features; /* what the target server can store (ch_server_features) */
} ddl_options;

void ddl_columns_init(ddl_columns *c);
void ddl_columns_free(ddl_columns *c);
/* Append a column (strings copied). SLUICE_ECONFLICT when the name is
 * already taken, naming both sources (two fields that flatten alike). */
int ddl_columns_add(ddl_columns *c, const char *name, const char *type, const char *nested,
                    const char *nested_sub, const char *elem_type, const char *source,
                    sluice_error *err);

/* The columns for a schema as the registry returns it: schema_type "AVRO"
 * (or NULL/"", which the registry means as Avro) and its text. A type with
 * no front end yet is SLUICE_EUNSUPPORTED, naming it and the ones known. */
int ddl_columns_for_schema(const char *schema_type, const char *text, size_t len,
                           const ddl_options *opt, ddl_columns *out, sluice_error *err);

/* The Avro front end (ddl_avro.c): root must be a record. */
int ddl_columns_for_avro(const sluice_avro_node *root, const ddl_options *opt, ddl_columns *out,
                         sluice_error *err);

typedef struct ddl_table_options {
    const char *table;        /* "db.table" or "table" (required) */
    const char *engine;       /* NULL: "MergeTree" */
    const char *order_by;     /* MergeTree engines; NULL: "tuple()" */
    const char *partition_by; /* NULL: none */
    const char *header;       /* a comment line for the top (without "-- "), or NULL */
    int if_not_exists;
} ddl_table_options;

/* Append `CREATE TABLE ...;\n` to out. ORDER BY and PARTITION BY are
 * written for engines of the MergeTree family only (a PARTITION BY given
 * for another engine is SLUICE_EINVAL). Names are quoted with backticks. */
int ddl_create_table(const ddl_columns *cols, const ddl_table_options *opt, buf *out,
                     sluice_error *err);

#endif
