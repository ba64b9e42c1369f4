/*
 * json_schema.c — JSON Schema text → immutable node graph (json_schema.h).
 *
 * Three steps, all on jansson (a cold path: schemas are parsed when they are
 * registered or first seen, never per message):
 *   1. Every document (the root, then each reference) is loaded and walked
 *      from its root through the keywords that hold schemas (properties,
 *      items, allOf, definitions, …). Each schema object becomes one node;
 *      each keyword is checked against draft-07's meta-schema as it is
 *      read, and an error names the keyword's JSON pointer. Nodes are
 *      remembered by their jansson value, so a schema reached twice is one
 *      node, and `$ref`s are queued.
 *   2. The queue is drained and chains of `$ref` that loop without
 *      reaching a schema are refused (json_schema_refs.c).
 *
 * Bounds: schema nesting (JSON_SCHEMA_MAX_DEPTH) bounds the recursion of
 * step 1; jansson bounds JSON nesting (2048); nodes and documents are
 * counted; everything lives in one capped arena.
 *
 * Ownership: the arena is the schema's; jansson documents live only during
 * the parse. Threads: the parser is the only writer; afterwards read-only.
 */
#include "codec/json_schema_int.h"

#include "common/arena.h"

#include <jansson.h>

#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors and memory --------------------------------------------------- */

void *jsparse_fail(parser *p, int code, const char *fmt, ...)
{
    if (p->failed) return NULL;
    p->failed = true;
    p->code = code;
    char msg[SLUICE_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a long path is shown as its head and its tail */
    char where[240];
    if (p->path_len < sizeof where)
        memcpy(where, p->path, p->path_len + 1);
    else
        snprintf(where, sizeof where, "%.60s...%s", p->path, p->path + p->path_len - 160);
    if (p->doc > 0)
        sluice_error_set(p->err, code, "reference '%s': %s: %s", p->docs[p->doc].name, where, msg);
    else
        sluice_error_set(p->err, code, "%s: %s", where, msg);
    return NULL;
}

static void *oom(parser *p)
{
    return jsparse_fail(p, SLUICE_ENOMEM, "out of memory (the bound is %u MiB)",
                        JSPARSE_ARENA_CAP >> 20);
}

static char *dup_str(parser *p, const char *s)
{
    char *d = arena_strdup(&p->s->mem, s);
    if (!d) oom(p);
    return d;
}

static void *alloc_array(parser *p, size_t n, size_t size)
{
    void *a = arena_calloc(&p->s->mem, n ? n : 1, size, alignof(max_align_t));
    if (!a) oom(p);
    return a;
}

/* Compact JSON with sorted keys, in the arena. */
static const char *dump(parser *p, const json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!t) return oom(p);
    char *d = dup_str(p, t);
    free(t);
    return d;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

/* ---- the path (a JSON pointer) ------------------------------------------- */

/* Append "/seg" with ~ and / escaped; returns the length to restore. */
static size_t path_push(parser *p, const char *seg)
{
    size_t saved = p->path_len;
    if (p->path_len + 2 >= JSPARSE_PATH_CAP) return saved;
    p->path[p->path_len++] = '/';
    for (const char *c = seg; *c && p->path_len + 3 < JSPARSE_PATH_CAP; c++) {
        if (*c == '~' || *c == '/') {
            p->path[p->path_len++] = '~';
            p->path[p->path_len++] = *c == '~' ? '0' : '1';
        } else {
            p->path[p->path_len++] = *c;
        }
    }
    p->path[p->path_len] = '\0';
    return saved;
}

static size_t path_push_index(parser *p, size_t i)
{
    char n[24];
    snprintf(n, sizeof n, "%zu", i);
    return path_push(p, n);
}

static void path_pop(parser *p, size_t len)
{
    p->path_len = len;
    p->path[len] = '\0';
}

/* ---- nodes by jansson value ------------------------------------------------ */

static size_t ptr_hash(const void *v)
{
    uintptr_t x = (uintptr_t)v;
    x ^= x >> 17;
    x *= 0xed5ad4bbu;
    x ^= x >> 11;
    return (size_t)x;
}

json_schema_node *jsparse_seen(parser *p, const json_t *j)
{
    if (!p->seen_cap) return NULL;
    for (size_t h = ptr_hash(j);; h++) {
        struct seen *e = &p->seen[h & (p->seen_cap - 1)];
        if (e->json == j) return e->node;
        if (!e->json) return NULL;
    }
}

static bool seen_put(parser *p, const json_t *j, json_schema_node *n)
{
    if ((p->n_nodes + 1) * 2 > p->seen_cap) {
        size_t cap = p->seen_cap ? p->seen_cap * 2 : 256;
        struct seen *t = calloc(cap, sizeof *t);
        if (!t) return oom(p), false;
        for (size_t i = 0; i < p->seen_cap; i++)
            if (p->seen[i].json) {
                size_t h = ptr_hash(p->seen[i].json);
                while (t[h & (cap - 1)].json)
                    h++;
                t[h & (cap - 1)] = p->seen[i];
            }
        free(p->seen);
        p->seen = t;
        p->seen_cap = cap;
    }
    size_t h = ptr_hash(j);
    while (p->seen[h & (p->seen_cap - 1)].json)
        h++;
    p->seen[h & (p->seen_cap - 1)] = (struct seen){j, n};
    p->n_nodes++;
    return true;
}

/* ---- keyword readers ------------------------------------------------------- */

/* The schema under key of object j (NULL when absent or on error). */
static const json_schema_node *sub_schema(parser *p, json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    if (!v) return NULL;
    size_t saved = path_push(p, key);
    const json_schema_node *n = jsparse_build(p, v);
    path_pop(p, saved);
    return n;
}

/* A non-empty (or, with may_be_empty, any) array of schemas. */
static bool schema_array(parser *p, json_t *j, const char *key, bool may_be_empty,
                         const json_schema_node *const **out, size_t *n_out)
{
    json_t *v = json_object_get(j, key);
    if (!v) return true;
    size_t saved = path_push(p, key);
    if (!json_is_array(v) || (!may_be_empty && json_array_size(v) == 0)) {
        jsparse_fail(p, SLUICE_EINVAL, "expected a non-empty array of schemas, got %s",
                     json_is_array(v) ? "an empty array" : json_type_name(v));
        return false;
    }
    size_t n = json_array_size(v);
    const json_schema_node **a = alloc_array(p, n, sizeof *a);
    for (size_t i = 0; a && i < n; i++) {
        size_t s2 = path_push_index(p, i);
        a[i] = jsparse_build(p, json_array_get(v, i));
        path_pop(p, s2);
        if (!a[i]) return false;
    }
    path_pop(p, saved);
    *out = a;
    *n_out = n;
    return a != NULL;
}

static bool expect_string(parser *p, json_t *j, const char *key, const char **out)
{
    json_t *v = json_object_get(j, key);
    if (!v) return true;
    if (!json_is_string(v)) {
        size_t saved = path_push(p, key);
        jsparse_fail(p, SLUICE_EINVAL, "expected a string, got %s", json_type_name(v));
        path_pop(p, saved);
        return false;
    }
    *out = dup_str(p, json_string_value(v));
    return *out != NULL;
}

static bool expect_count(parser *p, json_t *j, const char *key, json_schema_bound *out)
{
    json_t *v = json_object_get(j, key);
    if (!v) return true;
    double d = json_is_number(v) ? json_number_value(v) : -1;
    if (!json_is_number(v) || d < 0 || d != floor(d) || d > 9007199254740992.0) {
        size_t saved = path_push(p, key);
        jsparse_fail(p, SLUICE_EINVAL, "expected a non-negative integer, got %s",
                     json_is_number(v) ? "a negative or fractional number" : json_type_name(v));
        path_pop(p, saved);
        return false;
    }
    *out = (json_schema_bound){true, d};
    return true;
}

static bool expect_number(parser *p, json_t *j, const char *key, json_schema_bound *out)
{
    json_t *v = json_object_get(j, key);
    if (!v) return true;
    if (!json_is_number(v)) {
        size_t saved = path_push(p, key);
        jsparse_fail(p, SLUICE_EINVAL, "expected a number, got %s", json_type_name(v));
        path_pop(p, saved);
        return false;
    }
    *out = (json_schema_bound){true, json_number_value(v)};
    return true;
}

static const struct {
    const char *name;
    unsigned bit;
} type_names[] = {{"null", JSON_SCHEMA_NULL},     {"boolean", JSON_SCHEMA_BOOLEAN},
                  {"object", JSON_SCHEMA_OBJECT}, {"array", JSON_SCHEMA_ARRAY},
                  {"number", JSON_SCHEMA_NUMBER}, {"integer", JSON_SCHEMA_INTEGER},
                  {"string", JSON_SCHEMA_STRING}};

static unsigned type_bit(const json_t *v)
{
    if (!json_is_string(v)) return 0;
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(json_string_value(v), type_names[i].name) == 0) return type_names[i].bit;
    return 0;
}

static bool read_type(parser *p, json_t *j, json_schema_node *n)
{
    json_t *v = json_object_get(j, "type");
    if (!v) return true;
    size_t saved = path_push(p, "type");
    if (json_is_array(v)) {
        n->type_is_list = true;
        if (json_array_size(v) == 0) {
            jsparse_fail(p, SLUICE_EINVAL,
                         "expected a type name or a non-empty array of type names");
            return false;
        }
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t)
        {
            unsigned bit = type_bit(t);
            size_t s2 = path_push_index(p, i);
            if (!bit)
                jsparse_fail(p, SLUICE_EINVAL, "unknown type %s%s%s", json_is_string(t) ? "'" : "",
                             json_is_string(t) ? json_string_value(t) : json_type_name(t),
                             json_is_string(t) ? "'" : "");
            else if (n->types & bit)
                jsparse_fail(p, SLUICE_EINVAL, "type '%s' is listed twice", json_string_value(t));
            if (p->failed) return false;
            path_pop(p, s2);
            n->types |= bit;
        }
    } else {
        n->types = type_bit(v);
        if (!n->types) {
            if (json_is_string(v))
                jsparse_fail(
                    p, SLUICE_EINVAL,
                    "unknown type '%s' (expected null, boolean, object, array, number, integer "
                    "or string)",
                    json_string_value(v));
            else
                jsparse_fail(p, SLUICE_EINVAL, "expected a type name or an array of them, got %s",
                             json_type_name(v));
            return false;
        }
    }
    path_pop(p, saved);
    return true;
}

static bool read_properties(parser *p, json_t *j, json_schema_node *n)
{
    json_t *v = json_object_get(j, "properties");
    if (v) {
        size_t saved = path_push(p, "properties");
        if (!json_is_object(v)) {
            jsparse_fail(p, SLUICE_EINVAL, "expected an object of schemas, got %s",
                         json_type_name(v));
            return false;
        }
        json_schema_prop *props = alloc_array(p, json_object_size(v), sizeof *props);
        if (!props) return false;
        const char *key;
        json_t *s;
        size_t i = 0;
        json_object_foreach(v, key, s)
        {
            props[i].name = dup_str(p, key);
            props[i].schema = sub_schema(p, v, key);
            if (!props[i].name || !props[i].schema) return false;
            i++;
        }
        n->props = props;
        n->n_props = i;
        path_pop(p, saved);
    }
    v = json_object_get(j, "required");
    if (v) {
        size_t saved = path_push(p, "required");
        if (!json_is_array(v)) {
            jsparse_fail(p, SLUICE_EINVAL, "expected an array of property names, got %s",
                         json_type_name(v));
            return false;
        }
        const char **req = alloc_array(p, json_array_size(v), sizeof *req);
        if (!req) return false;
        size_t i;
        json_t *name;
        json_array_foreach(v, i, name)
        {
            size_t s2 = path_push_index(p, i);
            if (!json_is_string(name))
                return jsparse_fail(p, SLUICE_EINVAL, "expected a property name, got %s",
                                    json_type_name(name)),
                       false;
            for (size_t k = 0; k < i; k++)
                if (strcmp(req[k], json_string_value(name)) == 0)
                    return jsparse_fail(p, SLUICE_EINVAL, "'%s' is listed twice", req[k]), false;
            if (!(req[i] = dup_str(p, json_string_value(name)))) return false;
            for (size_t k = 0; k < n->n_props; k++)
                if (strcmp(n->props[k].name, req[i]) == 0)
                    ((json_schema_prop *)n->props)[k].required = true;
            path_pop(p, s2);
        }
        n->required = req;
        n->n_required = json_array_size(v);
        path_pop(p, saved);
    }
    v = json_object_get(j, "patternProperties");
    if (v) {
        size_t saved = path_push(p, "patternProperties");
        if (!json_is_object(v)) {
            jsparse_fail(p, SLUICE_EINVAL, "expected an object of schemas, got %s",
                         json_type_name(v));
            return false;
        }
        json_schema_pattern_prop *pp = alloc_array(p, json_object_size(v), sizeof *pp);
        if (!pp) return false;
        const char *key;
        json_t *s;
        size_t i = 0;
        json_object_foreach(v, key, s)
        {
            pp[i].pattern = dup_str(p, key);
            pp[i].schema = sub_schema(p, v, key);
            if (!pp[i].pattern || !pp[i].schema) return false;
            i++;
        }
        n->pattern_props = pp;
        n->n_pattern_props = i;
        path_pop(p, saved);
    }
    v = json_object_get(j, "dependencies");
    if (v) {
        size_t saved = path_push(p, "dependencies");
        if (!json_is_object(v)) {
            jsparse_fail(p, SLUICE_EINVAL, "expected an object, got %s", json_type_name(v));
            return false;
        }
        json_schema_dep *deps = alloc_array(p, json_object_size(v), sizeof *deps);
        if (!deps) return false;
        const char *key;
        json_t *d;
        size_t i = 0;
        json_object_foreach(v, key, d)
        {
            deps[i].name = dup_str(p, key);
            if (!deps[i].name) return false;
            if (json_is_array(d)) {
                size_t s2 = path_push(p, key);
                const char **names = alloc_array(p, json_array_size(d), sizeof *names);
                if (!names) return false;
                size_t k;
                json_t *nm;
                json_array_foreach(d, k, nm)
                {
                    if (!json_is_string(nm))
                        return jsparse_fail(p, SLUICE_EINVAL,
                                            "expected an array of property names"),
                               false;
                    if (!(names[k] = dup_str(p, json_string_value(nm)))) return false;
                }
                deps[i].props = names;
                deps[i].n_props = json_array_size(d);
                path_pop(p, s2);
            } else if (!(deps[i].schema = sub_schema(p, v, key))) {
                return false;
            }
            i++;
        }
        n->deps = deps;
        n->n_deps = i;
        path_pop(p, saved);
    }
    json_t *ap = json_object_get(j, "additionalProperties");
    if (ap && !(n->additional_properties = sub_schema(p, j, "additionalProperties"))) return false;
    json_t *pn = json_object_get(j, "propertyNames");
    if (pn && !(n->property_names = sub_schema(p, j, "propertyNames"))) return false;
    return expect_count(p, j, "minProperties", &n->min_properties) &&
           expect_count(p, j, "maxProperties", &n->max_properties);
}

static bool read_items(parser *p, json_t *j, json_schema_node *n)
{
    json_t *v = json_object_get(j, "items");
    if (v && json_is_array(v)) {
        n->items_is_tuple = true;
        if (!schema_array(p, j, "items", true, &n->tuple_items, &n->n_tuple_items)) return false;
    } else if (v && !(n->items = sub_schema(p, j, "items"))) {
        return false;
    }
    /* 2020-12 spells the tuple form "prefixItems" and additionalItems "items" */
    if (json_object_get(j, "prefixItems") && !n->items_is_tuple) {
        n->items_is_tuple = true;
        if (!schema_array(p, j, "prefixItems", true, &n->tuple_items, &n->n_tuple_items))
            return false;
        n->additional_items = n->items;
        n->items = NULL;
    }
    if (json_object_get(j, "additionalItems") &&
        !(n->additional_items = sub_schema(p, j, "additionalItems")))
        return false;
    if (json_object_get(j, "contains") && !(n->contains = sub_schema(p, j, "contains")))
        return false;
    json_t *u = json_object_get(j, "uniqueItems");
    if (u && !json_is_boolean(u)) {
        size_t saved = path_push(p, "uniqueItems");
        jsparse_fail(p, SLUICE_EINVAL, "expected a boolean, got %s", json_type_name(u));
        path_pop(p, saved);
        return false;
    }
    n->unique_items = json_is_true(u);
    return expect_count(p, j, "minItems", &n->min_items) &&
           expect_count(p, j, "maxItems", &n->max_items);
}

static bool read_numbers(parser *p, json_t *j, json_schema_node *n)
{
    if (!expect_number(p, j, "minimum", &n->minimum) ||
        !expect_number(p, j, "maximum", &n->maximum))
        return false;
    /* draft-04: exclusiveMinimum/Maximum are booleans that make
     * minimum/maximum exclusive; later drafts give the bound itself. */
    static const char *const ex_keys[2] = {"exclusiveMinimum", "exclusiveMaximum"};
    json_schema_bound *ex[2] = {&n->exclusive_minimum, &n->exclusive_maximum};
    json_schema_bound *plain[2] = {&n->minimum, &n->maximum};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(j, ex_keys[k]);
        if (json_is_boolean(v)) {
            if (json_is_true(v) && plain[k]->has) {
                *ex[k] = *plain[k];
                plain[k]->has = false;
            }
        } else if (!expect_number(p, j, ex_keys[k], ex[k])) {
            return false;
        }
    }
    if (!expect_number(p, j, "multipleOf", &n->multiple_of)) return false;
    if (n->multiple_of.has && !(n->multiple_of.value > 0)) {
        size_t saved = path_push(p, "multipleOf");
        jsparse_fail(p, SLUICE_EINVAL, "expected a number greater than 0");
        path_pop(p, saved);
        return false;
    }
    return true;
}

static bool read_values(parser *p, json_t *j, json_schema_node *n)
{
    json_t *v = json_object_get(j, "enum");
    if (v) {
        if (!json_is_array(v)) {
            size_t saved = path_push(p, "enum");
            jsparse_fail(p, SLUICE_EINVAL, "expected an array, got %s", json_type_name(v));
            path_pop(p, saved);
            return false;
        }
        const char **vals = alloc_array(p, json_array_size(v), sizeof *vals);
        if (!vals) return false;
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (!(vals[i] = dump(p, e))) return false;
        n->enum_values = vals;
        n->n_enum = json_array_size(v);
        n->has_enum = true;
    }
    if ((v = json_object_get(j, "const")) && !(n->const_value = dump(p, v))) return false;
    if ((v = json_object_get(j, "default")) && !(n->default_value = dump(p, v))) return false;
    return true;
}

static bool read_combinators(parser *p, json_t *j, json_schema_node *n)
{
    if (!schema_array(p, j, "allOf", false, &n->all_of, &n->n_all_of) ||
        !schema_array(p, j, "anyOf", false, &n->any_of, &n->n_any_of) ||
        !schema_array(p, j, "oneOf", false, &n->one_of, &n->n_one_of))
        return false;
    static const char *const keys[4] = {"not", "if", "then", "else"};
    const json_schema_node **slots[4] = {&n->not_, &n->if_, &n->then_, &n->else_};
    for (int k = 0; k < 4; k++)
        if (json_object_get(j, keys[k]) && !(*slots[k] = sub_schema(p, j, keys[k]))) return false;
    return true;
}

/* "definitions" / "$defs": schemas that exist to be referenced. */
static bool read_definitions(parser *p, json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    if (!v) return true;
    size_t saved = path_push(p, key);
    if (!json_is_object(v)) {
        jsparse_fail(p, SLUICE_EINVAL, "expected an object of schemas, got %s", json_type_name(v));
        return false;
    }
    const char *name;
    json_t *s;
    json_object_foreach(v, name, s) if (!sub_schema(p, v, name)) return false;
    path_pop(p, saved);
    return true;
}

static bool known_meta_schema(const char *uri)
{
    static const char *const known[] = {
        "json-schema.org/draft-04/schema",      "json-schema.org/draft-06/schema",
        "json-schema.org/draft-07/schema",      "json-schema.org/draft/2019-09/schema",
        "json-schema.org/draft/2020-12/schema",
    };
    const char *rest = strncmp(uri, "https://", 8) == 0  ? uri + 8
                       : strncmp(uri, "http://", 7) == 0 ? uri + 7
                                                         : NULL;
    if (!rest) return false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i]);
        if (strncmp(rest, known[i], n) == 0 && (rest[n] == '\0' || strcmp(rest + n, "#") == 0))
            return true;
    }
    return false;
}

static bool queue_ref(parser *p, json_schema_node *n, const char *ref)
{
    if (p->n_refs == p->refs_cap) {
        size_t cap = p->refs_cap ? p->refs_cap * 2 : 32;
        struct pending_ref *r = realloc(p->refs, cap * sizeof *r);
        if (!r) return oom(p), false;
        p->refs = r;
        p->refs_cap = cap;
    }
    p->refs[p->n_refs++] = (struct pending_ref){n, ref, p->doc};
    return true;
}

static bool add_anchor(parser *p, const char *id, json_schema_node *n)
{
    if (p->n_anchors == p->anchors_cap) {
        size_t cap = p->anchors_cap ? p->anchors_cap * 2 : 16;
        struct anchor *a = realloc(p->anchors, cap * sizeof *a);
        if (!a) return oom(p), false;
        p->anchors = a;
        p->anchors_cap = cap;
    }
    p->anchors[p->n_anchors++] = (struct anchor){id, n, p->doc};
    return true;
}

/* Keywords of later drafts that change validation (see newer_keywords). */
static bool read_newer_keywords(parser *p, json_t *j, json_schema_node *n)
{
    static const char *const newer[] = {
        "unevaluatedProperties", "unevaluatedItems", "dependentSchemas",
        "dependentRequired",     "prefixItems",      "minContains",
        "maxContains",           "$dynamicRef",      "$recursiveRef",
    };
    const char **list = NULL;
    for (size_t i = 0; i < sizeof newer / sizeof newer[0]; i++) {
        if (!json_object_get(j, newer[i])) continue;
        if (!list) {
            list = arena_calloc(&p->s->mem, sizeof newer / sizeof newer[0], sizeof *list,
                                alignof(const char *));
            if (!list) return oom(p), false;
        }
        list[n->n_newer_keywords++] = newer[i];
    }
    n->newer_keywords = list;
    return true;
}

/* One schema (object or boolean) into a node, once per jansson value. */
json_schema_node *jsparse_build(parser *p, json_t *j)
{
    if (p->failed) return NULL;
    json_schema_node *n = jsparse_seen(p, j);
    if (n) return n;
    if (!json_is_object(j) && !json_is_boolean(j))
        return jsparse_fail(p, SLUICE_EINVAL, "a schema must be an object or a boolean, got %s",
                            json_type_name(j));
    if (p->n_nodes >= JSON_SCHEMA_MAX_NODES)
        return jsparse_fail(p, SLUICE_ERANGE, "more than %d schemas", JSON_SCHEMA_MAX_NODES);
    if (p->depth >= JSON_SCHEMA_MAX_DEPTH)
        return jsparse_fail(p, SLUICE_EINVAL, "schemas nested deeper than %d levels",
                            JSON_SCHEMA_MAX_DEPTH);
    n = arena_calloc(&p->s->mem, 1, sizeof *n, alignof(json_schema_node));
    if (!n) return oom(p);
    n->path = dup_str(p, p->path);
    n->document = p->docs[p->doc].name;
    if (!n->path || !seen_put(p, j, n)) return NULL;
    if (json_is_boolean(j)) {
        n->boolean = json_is_true(j);
        return n;
    }
    n->boolean = -1;
    p->depth++;
    const char *schema_uri = NULL, *ref = NULL;
    json_t *draft4_id = json_object_get(j, "id");
    if (json_is_string(draft4_id) && !json_object_get(j, "$id") &&
        !(n->id = dup_str(p, json_string_value(draft4_id))))
        return NULL;
    bool ok = expect_string(p, j, "$schema", &schema_uri) && expect_string(p, j, "$ref", &ref) &&
              expect_string(p, j, "$id", &n->id) && expect_string(p, j, "title", &n->title) &&
              expect_string(p, j, "description", &n->description) &&
              expect_string(p, j, "pattern", &n->pattern) &&
              expect_string(p, j, "format", &n->format);
    if (ok && schema_uri && !known_meta_schema(schema_uri)) {
        size_t saved = path_push(p, "$schema");
        jsparse_fail(p, SLUICE_EINVAL,
                     "unsupported meta-schema '%s' (draft-04, -06, -07, 2019-09 and 2020-12 are)",
                     schema_uri);
        path_pop(p, saved);
        ok = false;
    }
    if (ok && ref) {
        n->ref_text = ref;
        ok = queue_ref(p, n, ref);
    }
    if (ok && n->id && !(p->path_len == 1 && n->id[0] != '#')) ok = add_anchor(p, n->id, n);
    ok = ok && read_type(p, j, n) && read_properties(p, j, n) && read_items(p, j, n) &&
         read_numbers(p, j, n) && expect_count(p, j, "minLength", &n->min_length) &&
         expect_count(p, j, "maxLength", &n->max_length) && read_values(p, j, n) &&
         read_combinators(p, j, n) && read_definitions(p, j, "definitions") &&
         read_definitions(p, j, "$defs") && read_newer_keywords(p, j, n);
    p->depth--;
    return ok ? n : NULL;
}

/* ---- documents ------------------------------------------------------------- */

static bool load_document(parser *p, const char *name, const char *text, size_t len)
{
    if (p->n_docs == JSON_SCHEMA_MAX_DOCUMENTS) {
        jsparse_fail(p, SLUICE_ERANGE, "more than %d documents", JSON_SCHEMA_MAX_DOCUMENTS);
        return false;
    }
    json_error_t je;
    json_t *j =
        json_loadb(text ? text : "", text ? len : 0, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    struct doc *d = &p->docs[p->n_docs];
    d->name = dup_str(p, name);
    if (!d->name) {
        json_decref(j);
        return false;
    }
    if (!j) {
        p->failed = true;
        p->code = SLUICE_EINVAL;
        if (p->n_docs)
            sluice_error_set(p->err, SLUICE_EINVAL, "reference '%s': line %d column %d: %s", name,
                             je.line, je.column, je.text);
        else
            sluice_error_set(p->err, SLUICE_EINVAL, "line %d column %d: %s", je.line, je.column,
                             je.text);
        return false;
    }
    d->json = j;
    json_t *id = json_is_object(j) ? json_object_get(j, "$id") : NULL;
    if (!id && json_is_object(j)) id = json_object_get(j, "id");
    if (json_is_string(id) && !(d->id = dup_str(p, json_string_value(id)))) return false;
    p->n_docs++;
    return true;
}

static json_schema_node *build_document(parser *p, size_t d)
{
    p->doc = d;
    p->path[0] = '#';
    p->path[1] = '\0';
    p->path_len = 1;
    p->depth = 0;
    json_schema_node *n = jsparse_build(p, p->docs[d].json);
    return n;
}

int json_schema_parse(const char *text, size_t len, const json_schema_source *deps, size_t n_deps,
                      json_schema **out, sluice_error *err)
{
    *out = NULL;
    json_schema *s = calloc(1, sizeof *s);
    parser *p = calloc(1, sizeof *p);
    if (!s || !p) {
        free(s);
        free(p);
        return sluice_error_set(err, SLUICE_ENOMEM, "JSON schema: out of memory");
    }
    arena_init(&s->mem, 16384, JSPARSE_ARENA_CAP);
    p->s = s;
    p->err = err;
    bool ok = load_document(p, "", text, len);
    for (size_t i = 0; ok && i < n_deps; i++)
        ok = load_document(p, deps[i].name ? deps[i].name : "", deps[i].text, deps[i].len);
    json_schema_node *root = NULL;
    if (ok) ok = (root = build_document(p, 0)) != NULL;
    for (size_t d = 1; ok && d < p->n_docs; d++)
        ok = build_document(p, d) != NULL;
    ok = ok && jsparse_resolve_refs(p);
    if (ok) {
        s->root = root;
        s->normalized = dump(p, p->docs[0].json);
        ok = s->normalized != NULL;
    }
    for (size_t d = 0; d < p->n_docs; d++)
        json_decref(p->docs[d].json);
    free(p->seen);
    free(p->refs);
    free(p->anchors);
    int rc = ok ? 0 : p->failed ? p->code : SLUICE_EINVAL;
    if (!ok && !p->failed) rc = sluice_error_set(err, SLUICE_EINVAL, "JSON schema: invalid");
    free(p);
    if (!ok) {
        arena_free(&s->mem);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void json_schema_free(json_schema *s)
{
    if (!s) return;
    arena_free(&s->mem);
    free(s);
}

const json_schema_node *json_schema_root(const json_schema *s)
{
    return s->root;
}

const char *json_schema_normalized(const json_schema *s)
{
    return s->normalized;
}

const json_schema_node *json_schema_deref(const json_schema_node *n)
{
    /* parse refused loops, so this ends */
    while (n->ref)
        n = n->ref;
    return n;
}
