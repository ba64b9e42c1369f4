/*
 * json_schema_view.c — everit's view of a flat JSON Schema node (contract in
 * json_schema_view.h): which parts a schema object is made of and of which
 * kind each is.
 */
#include "codec/json_schema_view.h"

#include <stdlib.h>
#include <string.h>

const char *const json_view_kind_names[] = {"empty",  "false",  "object",   "array",
                                            "string", "number", "boolean",  "null",
                                            "enum",   "const",  "combined", "not"};
const char *const json_view_criterion_names[] = {"allOf", "anyOf", "oneOf"};

static bool has_object_keywords(const json_schema_node *n)
{
    return n->n_props || n->n_required || n->n_pattern_props || n->additional_properties ||
           n->n_deps || n->property_names || n->min_properties.has || n->max_properties.has;
}

static bool has_array_keywords(const json_schema_node *n)
{
    return n->items || n->items_is_tuple || n->additional_items || n->contains ||
           n->min_items.has || n->max_items.has || n->unique_items;
}

static bool has_string_keywords(const json_schema_node *n)
{
    return n->min_length.has || n->max_length.has || n->pattern || n->format;
}

static bool has_number_keywords(const json_schema_node *n)
{
    return n->minimum.has || n->maximum.has || n->exclusive_minimum.has ||
           n->exclusive_maximum.has || n->multiple_of.has;
}

static enum json_view_kind kind_of_type(unsigned bit)
{
    switch (bit) {
    case JSON_SCHEMA_OBJECT:
        return JK_OBJECT;
    case JSON_SCHEMA_ARRAY:
        return JK_ARRAY;
    case JSON_SCHEMA_STRING:
        return JK_STRING;
    case JSON_SCHEMA_NUMBER:
    case JSON_SCHEMA_INTEGER:
        return JK_NUMBER;
    case JSON_SCHEMA_BOOLEAN:
        return JK_BOOLEAN;
    default:
        return JK_NULL;
    }
}

static bool push_sub(json_view_expanded *e, json_view v)
{
    json_view *s = realloc(e->subs, (e->n_subs + 1) * sizeof *s);
    if (!s) return false;
    e->subs = s;
    e->subs[e->n_subs++] = v;
    return true;
}

static bool push_list(json_view_expanded *e, const json_schema_node *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!push_sub(e, (json_view){list[i], JV_WHOLE, 0})) return false;
    return true;
}

bool json_view_expand(json_view v, json_view_expanded *e)
{
    memset(e, 0, sizeof *e);
    const json_schema_node *n = v.node ? json_schema_deref(v.node) : NULL;
    e->node = n;
    switch (v.part) {
    case JV_TYPED:
        e->kind = kind_of_type(v.type);
        e->integer = v.type == JSON_SCHEMA_INTEGER;
        return true;
    case JV_ENUM:
        e->kind = JK_ENUM;
        return true;
    case JV_CONST:
        e->kind = JK_CONST;
        return true;
    case JV_NOT:
        e->kind = JK_NOT;
        return true;
    case JV_TYPES_UNION:
        e->kind = JK_COMBINED;
        e->criterion = JC_ANY;
        for (unsigned bit = 1; bit <= JSON_SCHEMA_STRING; bit <<= 1)
            if ((n->types & bit) && !push_sub(e, (json_view){n, JV_TYPED, bit})) return false;
        return true;
    case JV_ALL_OF:
    case JV_ANY_OF:
    case JV_ONE_OF:
        e->kind = JK_COMBINED;
        e->criterion = v.part == JV_ALL_OF ? JC_ALL : v.part == JV_ANY_OF ? JC_ANY : JC_ONE;
        return v.part == JV_ALL_OF   ? push_list(e, n->all_of, n->n_all_of)
               : v.part == JV_ANY_OF ? push_list(e, n->any_of, n->n_any_of)
                                     : push_list(e, n->one_of, n->n_one_of);
    case JV_WHOLE:
        break;
    }
    if (n->boolean >= 0) {
        e->kind = n->boolean ? JK_EMPTY : JK_FALSE;
        return true;
    }
    /* the parts everit makes of one schema object */
    json_view_expanded parts = {0};
    bool ok = true;
    if (n->types) {
        unsigned t = n->types;
        bool single = !n->type_is_list && (t & (t - 1)) == 0;
        ok = push_sub(&parts,
                      single ? (json_view){n, JV_TYPED, t} : (json_view){n, JV_TYPES_UNION, 0});
    } else {
        if (ok && has_object_keywords(n))
            ok = push_sub(&parts, (json_view){n, JV_TYPED, JSON_SCHEMA_OBJECT});
        if (ok && has_array_keywords(n))
            ok = push_sub(&parts, (json_view){n, JV_TYPED, JSON_SCHEMA_ARRAY});
        if (ok && has_string_keywords(n))
            ok = push_sub(&parts, (json_view){n, JV_TYPED, JSON_SCHEMA_STRING});
        if (ok && has_number_keywords(n))
            ok = push_sub(&parts, (json_view){n, JV_TYPED, JSON_SCHEMA_NUMBER});
    }
    if (ok && n->has_enum) ok = push_sub(&parts, (json_view){n, JV_ENUM, 0});
    if (ok && n->const_value) ok = push_sub(&parts, (json_view){n, JV_CONST, 0});
    if (ok && n->n_all_of) ok = push_sub(&parts, (json_view){n, JV_ALL_OF, 0});
    if (ok && n->n_any_of) ok = push_sub(&parts, (json_view){n, JV_ANY_OF, 0});
    if (ok && n->n_one_of) ok = push_sub(&parts, (json_view){n, JV_ONE_OF, 0});
    if (ok && n->not_) ok = push_sub(&parts, (json_view){n, JV_NOT, 0});
    if (!ok) {
        free(parts.subs);
        return false;
    }
    if (parts.n_subs == 0) {
        e->kind = JK_EMPTY;
        free(parts.subs);
        return true;
    }
    if (parts.n_subs == 1) {
        json_view only = parts.subs[0];
        free(parts.subs);
        return json_view_expand(only, e);
    }
    e->kind = JK_COMBINED;
    e->criterion = JC_ALL;
    e->subs = parts.subs;
    e->n_subs = parts.n_subs;
    return true;
}
