/*
 * json_schema.h — JSON Schema documents (draft-07, with draft-04/06 and the
 * 2019-09/2020-12 spellings sluice meets in registries) parsed once into an
 * immutable graph of schema nodes.
 *
 * Who reads it: the registry (validation with a message naming the
 * keyword's JSON pointer, the normalised text that dedupes schemas, and
 * Confluent's compatibility rules in json_schema_compat.c) today; the
 * compiled JSON-Schema plan for decoding and ingest validation next
 * (docs/ARCHITECTURE.md, "Protobuf and JSON Schema"). The node is therefore
 * flat — every keyword of one schema object in one struct, properties in
 * document order with their `required` flag, `$ref` already resolved to
 * its target node — so a plan compiler reads one node per value position
 * without re-parsing anything, and keywords outside a plan's subset are
 * visible (non-NULL / non-zero) so it can refuse them by name.
 *
 * `$ref` resolves within the document (JSON pointers, "#" and plain-name
 * "$id" anchors, percent-encoding and ~0/~1 escapes) and to other documents
 * handed in as references (Confluent's schema references: the reference
 * name is the URI a `$ref` uses, compared as written and resolved against
 * the root's `$id`). A chain of `$ref`s that never reaches a schema is an
 * error; a schema that contains itself through properties or items is fine
 * (the graph is cyclic; walkers carry a visited set or depth).
 *
 * Ownership: a json_schema owns every node and string through one arena and
 * is read-only after json_schema_parse, so threads may share it. jansson is
 * used only while parsing (a cold path).
 */
#ifndef SLUICE_CODEC_JSON_SCHEMA_H
#define SLUICE_CODEC_JSON_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bits of the "type" keyword. */
enum {
    JSON_SCHEMA_NULL = 1,
    JSON_SCHEMA_BOOLEAN = 2,
    JSON_SCHEMA_OBJECT = 4,
    JSON_SCHEMA_ARRAY = 8,
    JSON_SCHEMA_NUMBER = 16,
    JSON_SCHEMA_INTEGER = 32,
    JSON_SCHEMA_STRING = 64,
};

typedef struct json_schema_node json_schema_node;

typedef struct json_schema_prop {
    const char *name;
    const json_schema_node *schema;
    bool required; /* listed in the object's "required" */
} json_schema_prop;

typedef struct json_schema_pattern_prop {
    const char *pattern; /* an ECMA-262 regular expression (not checked) */
    const json_schema_node *schema;
} json_schema_pattern_prop;

/* "dependencies": a property that needs other properties, or a schema. */
typedef struct json_schema_dep {
    const char *name;
    const char *const *props; /* array form; NULL for the schema form */
    size_t n_props;
    const json_schema_node *schema; /* schema form; NULL for the array form */
} json_schema_dep;

/* An optional bound: has = false when the keyword is absent. */
typedef struct json_schema_bound {
    bool has;
    double value;
} json_schema_bound;

struct json_schema_node {
    const char *path;     /* JSON pointer in its document: "#/properties/a" */
    const char *document; /* "" for the root document, else the reference name */
    int boolean;          /* 1: the schema `true`, 0: `false`, -1: a schema object */

    unsigned types;    /* JSON_SCHEMA_* bits of "type"; 0 when absent */
    bool type_is_list; /* "type" was written as an array */

    /* "$ref", resolved: when set, draft-07 ignores the other keywords. */
    const json_schema_node *ref;
    const char *ref_text; /* as written */

    /* object */
    const json_schema_prop *props; /* document order */
    size_t n_props;
    const char *const *required; /* as written (may name absent properties) */
    size_t n_required;
    const json_schema_pattern_prop *pattern_props;
    size_t n_pattern_props;
    const json_schema_node *additional_properties; /* NULL when absent */
    const json_schema_node *property_names;
    const json_schema_dep *deps;
    size_t n_deps;
    json_schema_bound min_properties, max_properties;

    /* array */
    const json_schema_node *items;              /* "items": one schema for every item */
    const json_schema_node *const *tuple_items; /* "items": [...] */
    size_t n_tuple_items;
    bool items_is_tuple;
    const json_schema_node *additional_items;
    const json_schema_node *contains;
    json_schema_bound min_items, max_items;
    bool unique_items;

    /* string */
    json_schema_bound min_length, max_length;
    const char *pattern;
    const char *format; /* "date-time", "date", "uuid", ... or NULL */

    /* number (draft-04's boolean exclusiveMinimum/Maximum are turned into
     * the draft-06 numeric form here) */
    json_schema_bound minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of;

    /* values, as compact JSON text with sorted keys */
    const char *const *enum_values;
    size_t n_enum;
    bool has_enum;
    const char *const_value; /* NULL when absent ("null" when it is null) */
    const char *default_value;

    /* combinators */
    const json_schema_node *const *all_of;
    size_t n_all_of;
    const json_schema_node *const *any_of;
    size_t n_any_of;
    const json_schema_node *const *one_of;
    size_t n_one_of;
    const json_schema_node *not_;
    const json_schema_node *if_, *then_, *else_;

    /* 2019-09 / 2020-12 keywords present in the object ("prefixItems",
     * "unevaluatedProperties", ...): read as draft-07, so they apply to
     * nothing here; listed so a validator can refuse them by name. */
    const char *const *newer_keywords;
    size_t n_newer_keywords;

    /* annotations */
    const char *id; /* "$id" (draft-04: "id") */
    const char *title;
    const char *description;
};

/* A document handed in as a reference: its name is what `$ref`s use. */
typedef struct json_schema_source {
    const char *name;
    const char *text;
    size_t len;
} json_schema_source;

typedef struct json_schema json_schema;

#define JSON_SCHEMA_MAX_DEPTH 128     /* nested schemas */
#define JSON_SCHEMA_MAX_NODES 1000000 /* schema objects in one parse */
#define JSON_SCHEMA_MAX_DOCUMENTS 256 /* root + references */

/* Parse and validate `text` (len bytes; need not be NUL-terminated) as a
 * JSON Schema, with the documents its `$ref`s may point into. Errors name
 * the place: "line 3 column 14: ..." for JSON syntax, the keyword's JSON
 * pointer for schema errors ("#/properties/age/minimum: expected a number,
 * got string"), and the document when it is a reference. */
int json_schema_parse(const char *text, size_t len, const json_schema_source *deps, size_t n_deps,
                      json_schema **out, sluice_error *err);
void json_schema_free(json_schema *s);

const json_schema_node *json_schema_root(const json_schema *s);

/* The root document as compact JSON with sorted keys: the registry's
 * dedupe key (whitespace and key order do not matter). */
const char *json_schema_normalized(const json_schema *s);

/* Follow `$ref`s to the schema they name (never NULL for a parsed node). */
const json_schema_node *json_schema_deref(const json_schema_node *n);

#ifdef __cplusplus
}
#endif
#endif
