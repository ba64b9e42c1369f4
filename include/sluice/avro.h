/*
 * avro.h — Avro schemas as sluice sees them: parsed once into an immutable
 * graph of nodes that the registry (validation, compatibility) and the codec
 * (plan compiler) both read.
 *
 * Ownership: a sluice_avro_schema owns every node, string and field through
 * one arena; nodes are never freed one by one. After sluice_avro_schema_parse
 * returns, the schema is read-only and may be shared by any number of
 * threads without locks. Named types appear once and are referenced by
 * pointer wherever they are used, so the graph may be cyclic (a record that
 * contains itself through a union or array); walkers must carry a depth or
 * visited set.
 */
#ifndef SLUICE_AVRO_H
#define SLUICE_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sluice_avro_type {
    SLUICE_AVRO_NULL,
    SLUICE_AVRO_BOOLEAN,
    SLUICE_AVRO_INT,
    SLUICE_AVRO_LONG,
    SLUICE_AVRO_FLOAT,
    SLUICE_AVRO_DOUBLE,
    SLUICE_AVRO_BYTES,
    SLUICE_AVRO_STRING,
    SLUICE_AVRO_RECORD,
    SLUICE_AVRO_ENUM,
    SLUICE_AVRO_ARRAY,
    SLUICE_AVRO_MAP,
    SLUICE_AVRO_UNION,
    SLUICE_AVRO_FIXED,
} sluice_avro_type;

/* Logical types. An invalid logical type annotation (wrong underlying type,
 * bad precision/scale) is ignored as the Avro spec requires: the node keeps
 * its underlying type and logical stays NONE. */
typedef enum sluice_avro_logical {
    SLUICE_AVRO_LOGICAL_NONE,
    SLUICE_AVRO_LOGICAL_DATE,             /* int: days since epoch */
    SLUICE_AVRO_LOGICAL_TIME_MILLIS,      /* int */
    SLUICE_AVRO_LOGICAL_TIME_MICROS,      /* long */
    SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS, /* long */
    SLUICE_AVRO_LOGICAL_TIMESTAMP_MICROS, /* long */
    SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS,
    SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS,
    SLUICE_AVRO_LOGICAL_UUID,     /* string */
    SLUICE_AVRO_LOGICAL_DECIMAL,  /* bytes or fixed, precision/scale */
    SLUICE_AVRO_LOGICAL_DURATION, /* fixed(12) */
} sluice_avro_logical;

typedef struct sluice_avro_node sluice_avro_node;

typedef enum sluice_avro_order {
    SLUICE_AVRO_ORDER_ASCENDING,
    SLUICE_AVRO_ORDER_DESCENDING,
    SLUICE_AVRO_ORDER_IGNORE,
} sluice_avro_order;

typedef struct sluice_avro_field {
    const char *name;
    const char *doc; /* NULL if none */
    const sluice_avro_node *type;
    /* The field's default as compact JSON text (NULL if the field has none).
     * Validated against the field's type at parse time (for a union: against
     * its first branch), so the codec may rely on it. */
    const char *default_json;
    const char *const *aliases;
    size_t n_aliases;
    sluice_avro_order order;
    size_t index; /* position in the record */
} sluice_avro_field;

struct sluice_avro_node {
    sluice_avro_type type;
    sluice_avro_logical logical;
    int precision, scale; /* DECIMAL only */

    /* Named types (record, enum, fixed): fullname ("ns.Name"), the short name
     * and the namespace ("" when none), aliases as fullnames. */
    const char *fullname;
    const char *name;
    const char *namespace_;
    const char *doc;
    const char *const *aliases;
    size_t n_aliases;

    /* RECORD */
    const sluice_avro_field *fields;
    size_t n_fields;

    /* ENUM: symbols in order; enum_default is the "default" symbol or NULL. */
    const char *const *symbols;
    size_t n_symbols;
    const char *enum_default;

    /* ARRAY: items. MAP: values (keys are always strings). */
    const sluice_avro_node *items;
    const sluice_avro_node *values;

    /* UNION: the branches in declaration order. */
    const sluice_avro_node *const *branches;
    size_t n_branches;

    /* FIXED */
    size_t size;
};

typedef struct sluice_avro_schema sluice_avro_schema;

/* Parse a schema from its JSON text (len bytes; need not be NUL-terminated).
 * Rejects invalid schemas with a reason that names the place, e.g.
 *   "$.fields[2].type: unknown type 'strin'"
 *   "$.fields[1]: duplicate field name 'id'"
 *   "$.fields[0].default: expected int, got string"
 * Checks: JSON syntax (with line/column), known primitive and named types,
 * names match [A-Za-z_][A-Za-z0-9_]*, no duplicate names (types, fields,
 * symbols), unions have no nested unions and no two branches of the same
 * type (or same name for named types), fixed size >= 0, enum symbols valid,
 * defaults match their types, nesting depth bounded (SLUICE_AVRO_MAX_DEPTH). */
#define SLUICE_AVRO_MAX_DEPTH 64
int sluice_avro_schema_parse(const char *json, size_t len, sluice_avro_schema **out,
                             sluice_error *err);
void sluice_avro_schema_free(sluice_avro_schema *schema);

const sluice_avro_node *sluice_avro_schema_root(const sluice_avro_schema *schema);

/* Look up a named type (record, enum, fixed) by fullname; NULL if absent. */
const sluice_avro_node *sluice_avro_schema_named(const sluice_avro_schema *schema,
                                                 const char *fullname);

/* The schema as compact JSON with object keys sorted, whitespace removed and
 * everything else kept (docs, defaults, custom properties). Two texts that
 * differ only in formatting or key order normalise to the same string; the
 * registry uses it to give the same schema the same id. Owned by the schema. */
const char *sluice_avro_schema_normalized(const sluice_avro_schema *schema);

/* Avro's Parsing Canonical Form (spec, "Parsing Canonical Form for Schemas")
 * and its CRC-64-AVRO fingerprint. Owned by the schema. */
const char *sluice_avro_schema_canonical(const sluice_avro_schema *schema);
uint64_t sluice_avro_schema_fingerprint(const sluice_avro_schema *schema);

/* Can data written with `writer` be read with `reader`, under Avro's schema
 * resolution rules (spec, "Schema Resolution")? Returns 0 if so; otherwise
 * SLUICE_ECONFLICT and err names the first place it fails, e.g.
 *   "$.user.age: reader type int cannot read writer type long"
 *   "$.status: writer symbol 'PAUSED' not in reader enum and reader has no default"
 *   "$: reader field 'email' has no default and is missing from writer" */
int sluice_avro_can_read(const sluice_avro_node *reader, const sluice_avro_node *writer,
                         sluice_error *err);

const char *sluice_avro_type_name(sluice_avro_type type);

/* How sluice_avro_to_json writes a value. */
typedef enum sluice_avro_json_style {
    /* Plain JSON: union values unwrapped, bytes and fixed as strings whose
     * code points 0..255 are the bytes, logical types as their underlying
     * values (a timestamp-millis is its number). */
    SLUICE_AVRO_JSON_PLAIN = 0,
    /* Avro's JSON encoding (spec, "JSON Encoding"): a non-null union value
     * as {"branch type name": value}, which other Avro tools read back. */
    SLUICE_AVRO_JSON_AVRO = 1,
} sluice_avro_json_style;

/* The most JSON text sluice_avro_to_json writes for one value (a few bytes
 * of input can describe millions of array items). */
#define SLUICE_AVRO_JSON_MAX_BYTES ((size_t)64 << 20)

/* Decode one Avro binary value written with schema `writer` (for a
 * Confluent-framed message: the payload sluice_wire_read returns, decoded
 * with the schema of its id) into JSON text. All len bytes must be the
 * value. On success *json is a NUL-terminated string the caller frees with
 * free(), and *json_len (if not NULL) its length. Errors: SLUICE_EINVAL for
 * malformed input, naming the byte offset and the field path ("offset 17,
 * $.items[2].qty: truncated varint", "offset 9: 12 bytes left over after
 * the value"); SLUICE_ENOMEM past SLUICE_AVRO_JSON_MAX_BYTES. Doubles and
 * floats are written as the shortest text that reads back to the same
 * bits; NaN and the infinities as the strings "NaN", "Infinity",
 * "-Infinity". Pure: safe from any thread on a shared schema. */
int sluice_avro_to_json(const sluice_avro_node *writer, const void *data, size_t len,
                        sluice_avro_json_style style, char **json, size_t *json_len,
                        sluice_error *err);

#ifdef __cplusplus
}
#endif
#endif
