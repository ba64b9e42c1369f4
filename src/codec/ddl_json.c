/*
 * ddl_json.c — the JSON Schema front end of `sluice ddl` (ddl_columns.h): the
 * columns the sink's JSON plan (plan_json.c) fills from messages a JSON
 * Schema allows, then that plan run as proof.
 *
 * The sink validates a JSON-Schema message with the schema (the validator
 * of json_schema_validate.c: a schema it refuses is refused here, with its
 * message) and then decodes it with the route's JSON plan, which looks
 * every column up by name as a path ("a.b" is {"a": {"b": …}}) and encodes
 * the value it finds with the column's type; an absent value (or null in a
 * column that cannot hold it) takes the type's default. So the mapping is
 * about which ClickHouse type takes every value the schema allows:
 *   object with properties  flattened: one column per property,
 *                           "parent<sep>name" (16 levels deep at most, as
 *                           deep as the plan looks)
 *   object of any keys      (additionalProperties a schema, no properties)
 *                           Map(String, V) where the server has Map (21.1+)
 *   array                   Array(T) of its items' type ("items" one schema)
 *   array of objects        a Nested group: "name<sep>prop" Array(T) per
 *                           property of the items (declared inside
 *                           `name Nested(...)` under '.'); the plan gives
 *                           every column one element per item, the type's
 *                           default where an item lacks the property or is
 *                           null
 *   string                  String; format date-time DateTime64(6) from
 *                           20.1 (DateTime before: whole seconds; more
 *                           digits are cut), date Date, uuid UUID
 *   integer                 Int64 (UInt64 when minimum >= 0 and maximum is
 *                           past Int64)
 *   number                  Float64 (also number and integer together)
 *   boolean                 UInt8 (Bool from 21.12)
 *   enum / const            Enum8/Enum16 of the strings ('a' = 1, ...) when
 *                           every value is a string, else the values' type
 *   several scalar types    String (the JSON plan writes numbers and
 *                           booleans as their text)
 *   null among the types    Nullable(T) (and every column below a nullable
 *                           object); arrays take [] for null
 * A property that is not required and absent lands as its column's default
 * (0, '', 1970-01-01), as an absent Avro field with a default would; add
 * "null" to its type for NULL. Integers past the column's range are
 * dead-lettered by the sink with the column named.
 * Not mapped (listed, with the reason, by ddl_columns_skip): tuples,
 * objects with properties inside the items of an array of objects (the
 * plan gathers one level) or inside any other array, values of no type or
 * of several kinds one of which is an object or an array, objects of any
 * keys before 21.1, an object met again inside itself, deeper nesting than
 * the plan looks.
 *
 * The proof: plan_compile_json on the proposal writes every column, and
 * the plan turns, without an error, a sample message with a value of the
 * schema's kind in every column, one with every nullable property null and
 * the empty object into one row each. tests/integration/test_ddl.c runs
 * the real sink into a table made from this output.
 */
#include "codec/ddl_columns.h"

#include "codec/json_schema_validate.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_PLAN_MAX_NESTING 16 /* plan_json.c's add_ways looks this deep */

typedef struct walker {
    const ddl_options *opt;
    ddl_columns *out;
    sluice_error *err;
    arena scratch; /* names and types while walking; ddl_columns_add copies them */
    const json_schema_node *stack[JSON_PLAN_MAX_NESTING + 2]; /* objects being flattened */
    size_t depth;
} walker;

#define FMT(w, ...) ddl_fmt(&(w)->scratch, (w)->err, __VA_ARGS__)

/* A type for one value position, and the sample value it takes. */
typedef struct mapped {
    const char *type; /* NULL: not mapped, why says why */
    const char *why;
    json_t *sample; /* a value of the schema's kind (owned) */
} mapped;

static const char *join(walker *w, const char *prefix, const char *name)
{
    return *prefix ? FMT(w, "%s%c%s", prefix, w->opt->separator, name) : FMT(w, "%s", name);
}

static int skip(walker *w, const char *src, const char *why)
{
    return src && why ? ddl_columns_skip(w->out, src, why, w->err) : SLUICE_ENOMEM;
}

/* The kinds a node allows: its "type" bits, or, without one, what its
 * enum or const values are (0: anything). */
static unsigned kinds_of(const json_schema_node *n, int *from_values)
{
    *from_values = 0;
    const char *const *vals = n->enum_values;
    size_t nv = n->has_enum ? n->n_enum : 0;
    const char *one[1] = {n->const_value};
    if (n->const_value) {
        vals = one;
        nv = 1;
    }
    if (!nv) return n->types;
    unsigned k = 0;
    for (size_t i = 0; i < nv; i++) {
        json_t *v = json_loads(vals[i], JSON_DECODE_ANY, NULL);
        switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_OBJECT:
            k |= JSON_SCHEMA_OBJECT;
            break;
        case JSON_ARRAY:
            k |= JSON_SCHEMA_ARRAY;
            break;
        case JSON_STRING:
            k |= JSON_SCHEMA_STRING;
            break;
        case JSON_INTEGER:
            k |= JSON_SCHEMA_INTEGER;
            break;
        case JSON_REAL:
            k |= JSON_SCHEMA_NUMBER;
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            k |= JSON_SCHEMA_BOOLEAN;
            break;
        default:
            k |= JSON_SCHEMA_NULL;
        }
        json_decref(v);
    }
    *from_values = 1;
    /* Values must also be of the declared type, when there is one (1.0 is
     * an integer: numbers are not told apart here). */
    unsigned allowed = n->types;
    if (allowed & (JSON_SCHEMA_NUMBER | JSON_SCHEMA_INTEGER))
        allowed |= JSON_SCHEMA_NUMBER | JSON_SCHEMA_INTEGER;
    return allowed ? k & allowed : k;
}

/* 'text' as a ClickHouse string literal; NULL for text with a NUL. */
static const char *quote(walker *w, const char *s, size_t len)
{
    char *q = arena_alloc(&w->scratch, len * 4 + 3, 1);
    if (!q) {
        sluice_error_set(w->err, SLUICE_ENOMEM, "out of memory");
        return NULL;
    }
    size_t n = 0;
    q[n++] = '\'';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0) return NULL;
        if (c == '\'' || c == '\\') {
            q[n++] = '\\';
            q[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(q + n, 5, "\\x%02x", c);
        } else {
            q[n++] = (char)c;
        }
    }
    q[n++] = '\'';
    q[n] = '\0';
    return q;
}

/* Enum8/Enum16 of the string values ('a' = 1, ...), the first as sample;
 * NULL type (why set) when a value cannot be an Enum name. */
static mapped enum_of_strings(walker *w, const json_schema_node *n)
{
    const char *const *vals = n->enum_values;
    size_t nv = n->has_enum ? n->n_enum : 0;
    const char *one[1] = {n->const_value};
    if (n->const_value) {
        vals = one;
        nv = 1;
    }
    mapped m = {0};
    size_t strings = 0;
    for (size_t i = 0; i < nv; i++)
        strings += vals[i][0] == '"';
    if (strings > 32767) return (mapped){.type = "String", .sample = json_string("s")};
    const char *s = FMT(w, "Enum%d(", strings <= 127 ? 8 : 16);
    size_t k = 0;
    for (size_t i = 0; i < nv && s; i++) {
        json_t *v = json_loads(vals[i], JSON_DECODE_ANY, NULL);
        if (!json_is_string(v)) {
            json_decref(v);
            continue;
        }
        const char *q = quote(w, json_string_value(v), json_string_length(v));
        if (!q) {
            json_decref(v);
            json_decref(m.sample);
            if (w->err->code) return (mapped){0};
            return (mapped){.type = "String", .sample = json_string("s")};
        }
        if (!m.sample) m.sample = json_incref(v);
        json_decref(v);
        s = FMT(w, "%s%s%s = %zu", s, k ? ", " : "", q, k + 1);
        k++;
    }
    m.type = s ? FMT(w, "%s)", s) : NULL;
    return m;
}

/* A scalar position's type without Nullable, from the non-null kinds. */
static mapped scalar(walker *w, const json_schema_node *n, unsigned kinds, int from_values)
{
    const ch_features *f = &w->opt->features;
    if (from_values && kinds == JSON_SCHEMA_STRING) return enum_of_strings(w, n);
    switch (kinds) {
    case JSON_SCHEMA_STRING:
        if (n->format && strcmp(n->format, "date-time") == 0)
            return (mapped){.type = f->datetime64 ? "DateTime64(6)" : "DateTime",
                            .sample = json_string("2001-02-03T04:05:06.789012Z")};
        if (n->format && strcmp(n->format, "date") == 0)
            return (mapped){.type = "Date", .sample = json_string("2001-02-03")};
        if (n->format && strcmp(n->format, "uuid") == 0)
            return (mapped){.type = "UUID",
                            .sample = json_string("01234567-89ab-4def-8123-456789abcdef")};
        return (mapped){.type = "String", .sample = json_string("s")};
    case JSON_SCHEMA_INTEGER:
        if (n->minimum.has && n->minimum.value >= 0 && n->maximum.has &&
            n->maximum.value > (double)INT64_MAX)
            return (mapped){.type = "UInt64", .sample = json_integer(1)};
        return (mapped){.type = "Int64", .sample = json_integer(-1)};
    case JSON_SCHEMA_NUMBER:
    case JSON_SCHEMA_NUMBER | JSON_SCHEMA_INTEGER:
        return (mapped){.type = "Float64", .sample = json_real(1.5)};
    case JSON_SCHEMA_BOOLEAN:
        return (mapped){.type = f->bool_type ? "Bool" : "UInt8", .sample = json_true()};
    default: /* several scalar kinds: their text */
        return (mapped){.type = "String", .sample = json_integer(7)};
    }
}

static mapped not_mapped(const char *why)
{
    return (mapped){.why = why};
}

static mapped item_type(walker *w, const json_schema_node *n, int depth);

/* An object of any keys (additionalProperties a schema, no properties):
 * Map(String, V) where the server has it. */
static mapped map_of(walker *w, const json_schema_node *n, int depth)
{
    const json_schema_node *ap = n->additional_properties;
    if (n->n_props || !ap || ap->boolean >= 0)
        return not_mapped(depth ? "objects with properties inside an array's items (the JSON "
                                  "plan gathers the objects of one array into a Nested group, "
                                  "not deeper)"
                                : "an object with no properties");
    if (!w->opt->features.map)
        return not_mapped("an object of any keys needs a Map column (ClickHouse 21.1+)");
    mapped v = item_type(w, ap, depth + 1);
    if (!v.type) return v;
    json_t *sample = json_object();
    json_object_set_new(sample, "k", v.sample);
    return (mapped){.type = FMT(w, "Map(String, %s)", v.type), .sample = sample};
}

/* The type of a value inside an array (or a map): no flattening there, so
 * objects with properties cannot be mapped. */
static mapped item_type(walker *w, const json_schema_node *n, int depth)
{
    n = json_schema_deref(n);
    if (depth > 64) return not_mapped("nested too deeply");
    if (n->boolean == 1) return not_mapped("items of any value (schema true)");
    if (n->boolean == 0) return not_mapped("items that are never valid (schema false)");
    int from_values;
    unsigned kinds = kinds_of(n, &from_values);
    unsigned nonnull = kinds & ~(unsigned)JSON_SCHEMA_NULL;
    int has_null = (kinds & JSON_SCHEMA_NULL) != 0;
    if (!nonnull) return not_mapped(kinds ? "null items" : "items of any value (no type)");
    if (nonnull & JSON_SCHEMA_OBJECT) {
        if (nonnull != JSON_SCHEMA_OBJECT || has_null)
            return not_mapped("items that may be an object or something else");
        return map_of(w, n, depth + 1);
    }
    if (nonnull & JSON_SCHEMA_ARRAY) {
        if (nonnull != JSON_SCHEMA_ARRAY || has_null)
            return not_mapped("items that may be an array or something else (or null)");
        if (n->items_is_tuple || !n->items) return not_mapped("arrays of any items");
        mapped v = item_type(w, n->items, depth + 1);
        if (!v.type) return v;
        json_t *sample = json_array();
        json_array_append_new(sample, v.sample);
        return (mapped){.type = FMT(w, "Array(%s)", v.type), .sample = sample};
    }
    mapped v = scalar(w, n, nonnull, from_values);
    if (v.type && has_null) v.type = FMT(w, "Nullable(%s)", v.type);
    return v;
}

static int walk_object(walker *w, const json_schema_node *n, const char *prefix, const char *src,
                       int nullable, json_t *full, json_t *nulls);

/* Items that are objects with properties (null allowed besides): an array
 * of them is a Nested group. */
static int object_items(const json_schema_node *items)
{
    items = json_schema_deref(items);
    if (items->boolean >= 0) return 0;
    int from_values;
    unsigned kinds = kinds_of(items, &from_values);
    if (!kinds && items->n_props) kinds = JSON_SCHEMA_OBJECT;
    return (kinds & ~(unsigned)JSON_SCHEMA_NULL) == JSON_SCHEMA_OBJECT && items->n_props > 0;
}

/* An array of objects: one Array column per property of the items
 * (plan_json.c's gather fills them, one element per item). The full
 * sample gets one item with every property; the nulls sample an empty
 * array (null when the array may be null). */
static int walk_items(walker *w, const json_schema_node *items, const char *name, const char *psrc,
                      const char *key, int nullable, json_t *full, json_t *nulls)
{
    items = json_schema_deref(items);
    json_t *item = json_object();
    if (!item) return SLUICE_ENOMEM;
    int rc = 0;
    size_t added = 0;
    for (size_t i = 0; i < items->n_props && rc == 0; i++) {
        const char *pname = items->props[i].name;
        const char *isrc = FMT(w, "%s[].%s", psrc, pname);
        if (!isrc) {
            rc = SLUICE_ENOMEM;
            break;
        }
        if (!*pname) {
            rc = skip(w, isrc, "an empty property name cannot be a column");
            continue;
        }
        mapped m = item_type(w, items->props[i].schema, 1);
        if (!m.type) {
            json_decref(m.sample);
            rc = w->err->code ? w->err->code : skip(w, isrc, m.why);
            continue;
        }
        json_object_set_new(item, pname, m.sample);
        rc = ddl_columns_add_grouped(w->out, w->opt->separator, name, pname, m.type, isrc, w->err);
        added++;
    }
    if (rc) {
        json_decref(item);
        return rc;
    }
    if (!added) {
        json_decref(item);
        return skip(w, psrc, "an array of objects none of whose properties can be a column");
    }
    json_t *list = json_array();
    json_array_append_new(list, item);
    json_object_set_new(full, key, list);
    json_object_set_new(nulls, key, nullable ? json_null() : json_array());
    return 0;
}

/* One property: a column (or the columns of a flattened object). full and
 * nulls are the sample objects it goes into. */
static int walk_property(walker *w, const json_schema_node *n, const char *key, const char *prefix,
                         const char *src, int nullable, json_t *full, json_t *nulls)
{
    const char *name = join(w, prefix, key), *psrc = FMT(w, "%s.%s", src, key);
    if (!name || !psrc) return SLUICE_ENOMEM;
    if (!*key) return skip(w, psrc, "an empty property name cannot be a column");
    n = json_schema_deref(n);
    if (n->boolean == 1) return skip(w, psrc, "any value (schema true)");
    if (n->boolean == 0) return skip(w, psrc, "never valid (schema false)");
    int from_values;
    unsigned kinds = kinds_of(n, &from_values);
    unsigned nonnull = kinds & ~(unsigned)JSON_SCHEMA_NULL;
    int has_null = (kinds & JSON_SCHEMA_NULL) != 0;
    if (!kinds && n->n_props) nonnull = JSON_SCHEMA_OBJECT; /* properties: only objects have them */
    if (!nonnull) return skip(w, psrc, kinds ? "always null" : "any value (no type)");
    if (has_null || nullable) json_object_set_new(nulls, key, json_null());
    mapped m;
    if (nonnull == JSON_SCHEMA_OBJECT && n->n_props) {
        for (size_t i = 0; i < w->depth; i++)
            if (w->stack[i] == n) return skip(w, psrc, "an object inside itself (recursive)");
        if (w->depth > JSON_PLAN_MAX_NESTING)
            return skip(w, psrc,
                        FMT(w, "nested deeper than the JSON plan looks (%d levels)",
                            JSON_PLAN_MAX_NESTING));
        json_t *sub_full = json_object(), *sub_nulls = json_object();
        json_object_set_new(full, key, sub_full);
        if (!has_null && !nullable) json_object_set_new(nulls, key, sub_nulls);
        w->stack[w->depth++] = n;
        int rc = walk_object(w, n, name, psrc, nullable || has_null, sub_full, sub_nulls);
        w->depth--;
        if (has_null || nullable) json_decref(sub_nulls);
        return rc;
    }
    if (nonnull == JSON_SCHEMA_OBJECT) {
        m = map_of(w, n, 0); /* null: the empty map */
    } else if (nonnull == JSON_SCHEMA_ARRAY && !n->items_is_tuple && n->items &&
               object_items(n->items)) {
        return walk_items(w, n->items, name, psrc, key, has_null || nullable, full, nulls);
    } else if (nonnull == JSON_SCHEMA_ARRAY) {
        if (n->items_is_tuple || !n->items) {
            m = not_mapped(n->items_is_tuple ? "a tuple (items as a list)"
                                             : "an array of any items");
        } else {
            m = item_type(w, n->items, 0);
            if (m.type) {
                json_t *a = json_array();
                json_array_append_new(a, m.sample);
                m.sample = a;
                m.type = FMT(w, "Array(%s)", m.type);
            }
        }
    } else if (nonnull & (JSON_SCHEMA_OBJECT | JSON_SCHEMA_ARRAY)) {
        m = not_mapped("a value that may be an object or an array or something else");
    } else {
        m = scalar(w, n, nonnull, from_values);
        if (m.type && (has_null || nullable)) m.type = FMT(w, "Nullable(%s)", m.type);
    }
    if (!m.type) {
        json_decref(m.sample);
        if (w->err->code) return w->err->code;
        return skip(w, psrc, m.why);
    }
    json_object_set_new(full, key, m.sample);
    return ddl_columns_add(w->out, name, m.type, NULL, NULL, NULL, psrc, w->err);
}

static int walk_object(walker *w, const json_schema_node *n, const char *prefix, const char *src,
                       int nullable, json_t *full, json_t *nulls)
{
    int rc = 0;
    for (size_t i = 0; i < n->n_props && rc == 0; i++)
        rc = walk_property(w, n->props[i].schema, n->props[i].name, prefix, src, nullable, full,
                           nulls);
    return rc;
}

/* One message through the plan: one row, no error. */
static int run_sample(const plan *p, plan_state *st, const char *what, json_t *sample,
                      sluice_error *err)
{
    char *text = json_dumps(sample, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    buf rows;
    buf_init(&rows, 16u << 20);
    plan_result res = {0};
    sluice_error pe = {0};
    int rc = plan_run(p, st, (const uint8_t *)text, strlen(text), 0, &rows, &res, &pe);
    if (rc != 0 || res.rows != 1)
        rc = sluice_error_set(err, SLUICE_EINTERNAL,
                              "%s (%.300s) would not land (a bug in sluice ddl): %s", what, text,
                              pe.msg);
    buf_free(&rows);
    free(text);
    return rc;
}

/* The proof: the JSON plan writes every column, and takes the samples. */
static int check_with_plan(const ddl_options *opt, const ddl_columns *cols, json_t *full,
                           json_t *nulls, sluice_error *err)
{
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    plan_column *pc = NULL;
    int rc = ddl_plan_columns(cols, &a, &pc, err);
    plan *p = NULL;
    plan_options po = {.separator = opt->separator, .route = "sluice ddl"};
    sluice_error pe;
    if (rc == 0 && plan_compile_json(pc, cols->n, &po, &p, &pe) != 0)
        rc = sluice_error_set(err, SLUICE_EINTERNAL,
                              "the sink would not accept these columns (a bug in sluice ddl): %s",
                              pe.msg);
    if (rc == 0) rc = ddl_check_written(p, cols, err);
    plan_state *st = rc == 0 ? plan_state_new(p) : NULL;
    if (rc == 0 && !st) rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    json_t *empty = json_object();
    if (rc == 0) rc = run_sample(p, st, "a message with a value in every column", full, err);
    if (rc == 0) rc = run_sample(p, st, "a message with every nullable property null", nulls, err);
    if (rc == 0) rc = run_sample(p, st, "the empty object", empty, err);
    json_decref(empty);
    plan_state_free(st);
    plan_free(p);
    free(pc);
    arena_free(&a);
    return rc;
}

int ddl_columns_for_json(const json_schema *schema, const ddl_options *opt, ddl_columns *out,
                         sluice_error *err)
{
    if (opt->separator != '.' && opt->separator != '_')
        return sluice_error_set(err, SLUICE_EINVAL, "the separator must be '.' or '_'");
    sluice_error local;
    if (!err) err = &local;
    sluice_error_clear(err);
    /* The sink validates every message first: a schema its validator
     * refuses has no messages to land. */
    json_validator *v = NULL;
    sluice_error verr;
    if (json_validator_compile(schema, &v, &verr) != 0)
        return sluice_error_set(err, verr.code,
                                "the sink cannot validate messages with this schema: %s", verr.msg);
    json_validator_free(v);
    const json_schema_node *root = json_schema_deref(json_schema_root(schema));
    int from_values;
    unsigned kinds = root->boolean < 0 ? kinds_of(root, &from_values) : 0;
    if (!root->n_props || (kinds && !(kinds & JSON_SCHEMA_OBJECT)))
        return sluice_error_set(err, SLUICE_EINVAL,
                                "the schema does not describe an object with properties: the sink "
                                "maps an object's properties onto columns");
    walker w = {.opt = opt, .out = out, .err = err};
    arena_init(&w.scratch, 4096, SIZE_MAX);
    w.stack[w.depth++] = root;
    json_t *full = json_object(), *nulls = json_object();
    int rc = full && nulls ? walk_object(&w, root, "", "$", 0, full, nulls)
                           : sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    arena_free(&w.scratch);
    if (rc == 0 && out->n == 0)
        rc = sluice_error_set(err, SLUICE_EINVAL, "no property of the schema can be a column");
    if (rc == 0) rc = check_with_plan(opt, out, full, nulls, err);
    json_decref(full);
    json_decref(nulls);
    return rc;
}
