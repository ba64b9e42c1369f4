/*
 * json_schema_view.h — a JSON Schema node as the everit library (and so
 * Confluent's compatibility checker) sees it.
 *
 * everit loads a schema object into one typed schema (ObjectSchema,
 * StringSchema, …), a union of them ("type": [...] is an anyOf), an
 * EnumSchema, a CombinedSchema for allOf/anyOf/oneOf, a NotSchema, or an
 * allOf of several of these when one object carries several (a "type" and
 * an "enum", or keywords of two types without a "type"); `true` and `{}`
 * accept anything, `false` nothing. Our node is flat (json_schema.h), so a
 * view is (node, which part of it), and json_view_expand() gives one level
 * of that structure: the kind, and for combined ones the parts as views.
 * Used by json_schema_compat.c; pure, allocation only for the parts list.
 */
#ifndef SLUICE_CODEC_JSON_SCHEMA_VIEW_H
#define SLUICE_CODEC_JSON_SCHEMA_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "codec/json_schema.h"

enum json_view_part {
    JV_WHOLE,       /* the node as everit loads it */
    JV_TYPES_UNION, /* "type": [...] as an anyOf of typed schemas */
    JV_TYPED,       /* one type's schema (type = the JSON_SCHEMA_* bit) */
    JV_ENUM,
    JV_CONST,
    JV_NOT,
    JV_ALL_OF,
    JV_ANY_OF,
    JV_ONE_OF,
};

typedef struct json_view {
    const json_schema_node *node; /* NULL: no schema (an absent "items") */
    enum json_view_part part;
    unsigned type; /* JV_TYPED: one JSON_SCHEMA_* bit */
} json_view;

enum json_view_kind {
    JK_EMPTY,
    JK_FALSE,
    JK_OBJECT,
    JK_ARRAY,
    JK_STRING,
    JK_NUMBER,
    JK_BOOLEAN,
    JK_NULL,
    JK_ENUM,
    JK_CONST,
    JK_COMBINED,
    JK_NOT
};
/* "empty", "object", ... for messages */
extern const char *const json_view_kind_names[];
enum json_view_criterion { JC_ALL, JC_ANY, JC_ONE };
/* "allOf", "anyOf", "oneOf" */
extern const char *const json_view_criterion_names[];

/* A json_view json_view_expanded one level: its kind and, for combined ones, the parts. */
typedef struct json_view_expanded {
    enum json_view_kind kind;
    const json_schema_node *node;
    bool integer;
    enum json_view_criterion criterion;
    json_view *subs; /* malloc'd */
    size_t n_subs;
} json_view_expanded;

/* Expand v one level into *e (free e->subs); false only when out of memory. */
bool json_view_expand(json_view v, json_view_expanded *e);

#endif
