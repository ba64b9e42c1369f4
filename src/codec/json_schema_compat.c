/*
 * json_schema_compat.c — Confluent's JSON Schema compatibility rules
 * (contract in json_schema_compat.h).
 *
 * Confluent compares schemas as the everit library loads them; this file
 * walks two such views of our flat nodes (json_schema_view.c) the way
 * Confluent's diff package does:
 *   entry:    singleton unions unwrapped; a union in the update that one of
 *             its branches satisfies is SUM_TYPE_EXTENDED; different kinds
 *             are TYPE_CHANGED unless the original is `false` or the update
 *             accepts everything;
 *   object:   required, properties against open / closed / partially open
 *             content models, dependencies, additionalProperties, bounds;
 *   array:    items, tuple items against the content model, additionalItems,
 *             bounds, uniqueItems;
 *   string, number, enum, const, combined (a maximum matching of
 *             compatible subschema pairs), not.
 * Each difference has Confluent's kind name; compatible_kinds[] is its
 * COMPATIBLE_CHANGES list. Attempts that Confluent makes in a sub-context
 * and may throw away (a union branch that does not fit) are made in a
 * sub-context here too.
 *
 * Termination: `$ref`s make the graph cyclic. A pair of views already being
 * compared higher up is skipped (Confluent's SchemaScope); a pair compared
 * before replays its verdict; WORK_BUDGET bounds the rest.
 */
#include "codec/json_schema_compat.h"
#include "codec/json_schema_view.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORK_BUDGET 2000000
#define MAX_REPORTED 6
#define REASON_CAP 2048

static const char *const compatible_kinds[] = {
    "ID_CHANGED",
    "DESCRIPTION_CHANGED",
    "TITLE_CHANGED",
    "DEFAULT_CHANGED",
    "SCHEMA_REMOVED",
    "TYPE_EXTENDED",
    "MAX_LENGTH_INCREASED",
    "MAX_LENGTH_REMOVED",
    "MIN_LENGTH_DECREASED",
    "MIN_LENGTH_REMOVED",
    "PATTERN_REMOVED",
    "MAXIMUM_INCREASED",
    "MAXIMUM_REMOVED",
    "MINIMUM_DECREASED",
    "MINIMUM_REMOVED",
    "EXCLUSIVE_MAXIMUM_INCREASED",
    "EXCLUSIVE_MAXIMUM_REMOVED",
    "EXCLUSIVE_MINIMUM_DECREASED",
    "EXCLUSIVE_MINIMUM_REMOVED",
    "MULTIPLE_OF_REDUCED",
    "MULTIPLE_OF_REMOVED",
    "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
    "REQUIRED_ATTRIBUTE_REMOVED",
    "DEPENDENCY_ARRAY_NARROWED",
    "DEPENDENCY_ARRAY_REMOVED",
    "DEPENDENCY_SCHEMA_REMOVED",
    "MAX_PROPERTIES_INCREASED",
    "MAX_PROPERTIES_REMOVED",
    "MIN_PROPERTIES_DECREASED",
    "MIN_PROPERTIES_REMOVED",
    "ADDITIONAL_PROPERTIES_ADDED",
    "ADDITIONAL_PROPERTIES_EXTENDED",
    "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
    "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
    "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
    "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
    "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "MAX_ITEMS_INCREASED",
    "MAX_ITEMS_REMOVED",
    "MIN_ITEMS_DECREASED",
    "MIN_ITEMS_REMOVED",
    "UNIQUE_ITEMS_REMOVED",
    "ADDITIONAL_ITEMS_ADDED",
    "ADDITIONAL_ITEMS_EXTENDED",
    "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
    "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
    "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
    "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "ENUM_ARRAY_EXTENDED",
    "COMBINED_TYPE_EXTENDED",
    "PRODUCT_TYPE_NARROWED",
    "SUM_TYPE_EXTENDED",
    "NOT_TYPE_NARROWED",
};

static bool compatible_kind(const char *kind)
{
    for (size_t i = 0; i < sizeof compatible_kinds / sizeof compatible_kinds[0]; i++)
        if (strcmp(compatible_kinds[i], kind) == 0) return true;
    return false;
}

/* ---- contexts ------------------------------------------------------------------ */

struct memo {
    json_view o, u;
    int state;        /* 0 free slot, 1 being compared, 2 compatible, 3 incompatible */
    const char *kind; /* 3: the kind of its last incompatible difference */
};

struct walk {
    long work;
    int error;
    struct memo *memo; /* open addressing, power-of-two capacity */
    size_t n_memo, cap_memo;
    const char *last_kind; /* the last incompatible difference's kind */
};

typedef struct ctx {
    struct walk *w;
    char path[1024];
    size_t path_len;
    unsigned incompatible;
    unsigned reported;
    char *text; /* malloc'd, at most REASON_CAP */
    size_t text_len;
} ctx;

static void ctx_init(ctx *c, struct walk *w, const ctx *parent)
{
    memset(c, 0, sizeof *c);
    c->w = w;
    if (parent) {
        memcpy(c->path, parent->path, parent->path_len + 1);
        c->path_len = parent->path_len;
    } else {
        strcpy(c->path, "#");
        c->path_len = 1;
    }
}

static void ctx_free(ctx *c)
{
    free(c->text);
}

static void append_text(ctx *c, const char *s)
{
    size_t n = strlen(s);
    if (c->text_len + n + 1 > REASON_CAP) return;
    char *t = realloc(c->text, c->text_len + n + 1);
    if (!t) return;
    memcpy(t + c->text_len, s, n + 1);
    c->text = t;
    c->text_len += n;
}

/* Take a sub-context's differences into c. */
static void ctx_merge(ctx *c, ctx *sub)
{
    c->incompatible += sub->incompatible;
    for (const char *p = sub->text; p && *p && c->reported < MAX_REPORTED;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char line[600];
        snprintf(line, sizeof line, "%.*s\n", (int)(n < 590 ? n : 590), p);
        append_text(c, line);
        c->reported++;
        p = end ? end + 1 : p + n;
    }
}

static size_t path_push(ctx *c, const char *seg)
{
    size_t saved = c->path_len;
    int n = snprintf(c->path + c->path_len, sizeof c->path - c->path_len, "/%s", seg);
    if (n > 0) c->path_len += (size_t)n;
    if (c->path_len >= sizeof c->path) c->path_len = sizeof c->path - 1;
    return saved;
}

static void path_pop(ctx *c, size_t len)
{
    c->path_len = len;
    c->path[len] = '\0';
}

static void diff(ctx *c, const char *attribute, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void diff(ctx *c, const char *attribute, const char *kind, const char *fmt, ...)
{
    if (compatible_kind(kind)) return;
    c->incompatible++;
    c->w->last_kind = kind;
    if (c->reported >= MAX_REPORTED) return;
    char detail[256], line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s at %s%s%s: %s\n", kind, c->path, attribute ? "/" : "",
             attribute ? attribute : "", detail);
    append_text(c, line);
    c->reported++;
}

static bool spend(ctx *c)
{
    if (c->w->error) return false;
    if (++c->w->work > WORK_BUDGET) {
        c->w->error = SLUICE_ERANGE;
        return false;
    }
    return true;
}

static bool same_view(json_view a, json_view b)
{
    return a.node == b.node && a.part == b.part && a.type == b.type;
}

static size_t view_hash(json_view o, json_view u)
{
    uintptr_t h = (uintptr_t)o.node * 31 + (uintptr_t)u.node;
    h = h * 131 + (uintptr_t)o.part * 17 + (uintptr_t)u.part * 7 + o.type * 3 + u.type;
    h ^= h >> 15;
    h *= 0x2c1b3c6dU;
    h ^= h >> 12;
    return (size_t)h;
}

/* The memo entry of (o, u), inserted (state 1) when absent and insert is
 * set; NULL when absent (or out of memory). Entries never move while a
 * caller holds one: the table grows only in memo_insert's first step. */
static struct memo *memo_find(struct walk *w, json_view o, json_view u, bool insert)
{
    if (insert && (w->n_memo + 1) * 2 > w->cap_memo) {
        size_t cap = w->cap_memo ? w->cap_memo * 2 : 256;
        struct memo *m = calloc(cap, sizeof *m);
        if (!m) {
            w->error = SLUICE_ENOMEM;
            return NULL;
        }
        for (size_t i = 0; i < w->cap_memo; i++)
            if (w->memo[i].state) {
                size_t h = view_hash(w->memo[i].o, w->memo[i].u);
                while (m[h & (cap - 1)].state)
                    h++;
                m[h & (cap - 1)] = w->memo[i];
            }
        free(w->memo);
        w->memo = m;
        w->cap_memo = cap;
    }
    if (!w->cap_memo) return NULL;
    for (size_t h = view_hash(o, u);; h++) {
        struct memo *e = &w->memo[h & (w->cap_memo - 1)];
        if (!e->state) {
            if (!insert) return NULL;
            *e = (struct memo){o, u, 1, NULL};
            w->n_memo++;
            return e;
        }
        if (same_view(e->o, o) && same_view(e->u, u)) return e;
    }
}

/* ---- comparisons ---------------------------------------------------------------- */

static void compare(ctx *c, json_view o, json_view u);

static void compare_nodes(ctx *c, const json_schema_node *o, const json_schema_node *u)
{
    compare(c, (json_view){o, JV_WHOLE, 0}, (json_view){u, JV_WHOLE, 0});
}

/* Compare in a throw-away sub-context; true when compatible. With keep,
 * a compatible attempt's differences are kept. */
static bool try_compare(ctx *c, json_view o, json_view u, bool keep)
{
    ctx sub;
    ctx_init(&sub, c->w, c);
    compare(&sub, o, u);
    bool ok = sub.incompatible == 0;
    if (ok && keep) ctx_merge(c, &sub);
    ctx_free(&sub);
    return ok;
}

/* Added / removed / increased / decreased for an optional bound; kinds
 * lists the four difference kinds in that order. */
static void compare_bound(ctx *c, const char *attr, const char *const kinds[4], json_schema_bound o,
                          json_schema_bound u)
{
    if (!o.has && !u.has) return;
    if (o.has && u.has && o.value == u.value) return;
    if (o.has && u.has)
        diff(c, attr, kinds[o.value < u.value ? 2 : 3], "%s changed from %g to %g", attr, o.value,
             u.value);
    else if (u.has)
        diff(c, attr, kinds[0], "%s %g was added", attr, u.value);
    else
        diff(c, attr, kinds[1], "%s was removed", attr);
}

#define BOUND_KINDS(prefix)                                                                        \
    (const char *const[4])                                                                         \
    {                                                                                              \
        prefix "_ADDED", prefix "_REMOVED", prefix "_INCREASED", prefix "_DECREASED"               \
    }

static void compare_string(ctx *c, const json_schema_node *o, const json_schema_node *u)
{
    compare_bound(c, "maxLength", BOUND_KINDS("MAX_LENGTH"), o->max_length, u->max_length);
    compare_bound(c, "minLength", BOUND_KINDS("MIN_LENGTH"), o->min_length, u->min_length);
    if (!o->pattern && u->pattern)
        diff(c, "pattern", "PATTERN_ADDED", "pattern '%s' was added", u->pattern);
    else if (o->pattern && !u->pattern)
        diff(c, "pattern", "PATTERN_REMOVED", "pattern removed");
    else if (o->pattern && u->pattern && strcmp(o->pattern, u->pattern) != 0)
        diff(c, "pattern", "PATTERN_CHANGED", "pattern changed from '%s' to '%s'", o->pattern,
             u->pattern);
}

static bool is_multiple(double a, double b) /* a is a whole multiple of b */
{
    if (b == 0) return false;
    double q = a / b;
    return fabs(q - round(q)) < 1e-9 * fmax(1, fabs(q));
}

static void compare_number(ctx *c, const json_view_expanded *oe, const json_view_expanded *ue)
{
    const json_schema_node *o = oe->node, *u = ue->node;
    compare_bound(c, "maximum", BOUND_KINDS("MAXIMUM"), o->maximum, u->maximum);
    compare_bound(c, "minimum", BOUND_KINDS("MINIMUM"), o->minimum, u->minimum);
    compare_bound(c, "exclusiveMaximum", BOUND_KINDS("EXCLUSIVE_MAXIMUM"), o->exclusive_maximum,
                  u->exclusive_maximum);
    compare_bound(c, "exclusiveMinimum", BOUND_KINDS("EXCLUSIVE_MINIMUM"), o->exclusive_minimum,
                  u->exclusive_minimum);
    json_schema_bound om = o->multiple_of, um = u->multiple_of;
    if (om.has != um.has || (om.has && om.value != um.value)) {
        if (!om.has)
            diff(c, "multipleOf", "MULTIPLE_OF_ADDED", "multipleOf %g was added", um.value);
        else if (!um.has)
            diff(c, "multipleOf", "MULTIPLE_OF_REMOVED", "multipleOf removed");
        else if (is_multiple(um.value, om.value))
            diff(c, "multipleOf", "MULTIPLE_OF_EXPANDED", "multipleOf changed from %g to %g",
                 om.value, um.value);
        else if (is_multiple(om.value, um.value))
            diff(c, "multipleOf", "MULTIPLE_OF_REDUCED", "multipleOf reduced");
        else
            diff(c, "multipleOf", "MULTIPLE_OF_CHANGED", "multipleOf changed from %g to %g",
                 om.value, um.value);
    }
    if (oe->integer && !ue->integer)
        diff(c, NULL, "TYPE_EXTENDED", "integer became number");
    else if (!oe->integer && ue->integer)
        diff(c, NULL, "TYPE_NARROWED", "the type was narrowed from number to integer");
}

static bool value_in(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, list[i]) == 0) return true;
    return false;
}

static bool values_subset(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    for (size_t i = 0; i < na; i++)
        if (!value_in(a[i], b, nb)) return false;
    return true;
}

static void compare_enum(ctx *c, const json_schema_node *o, const json_schema_node *u)
{
    bool o_in_u = values_subset(o->enum_values, o->n_enum, u->enum_values, u->n_enum);
    bool u_in_o = values_subset(u->enum_values, u->n_enum, o->enum_values, o->n_enum);
    if (o_in_u && u_in_o) return;
    if (o_in_u)
        diff(c, "enum", "ENUM_ARRAY_EXTENDED", "enum extended");
    else if (u_in_o)
        diff(c, "enum", "ENUM_ARRAY_NARROWED", "the enum lost values");
    else
        diff(c, "enum", "ENUM_ARRAY_CHANGED", "the enum's values changed");
}

/* Maximum bipartite matching (Kuhn's augmenting paths) over the
 * compatible (original, update) subschema pairs. */
static bool augment(const bool *edge, size_t nu, size_t i, int *match_u, bool *seen)
{
    for (size_t j = 0; j < nu; j++) {
        if (!edge[i * nu + j] || seen[j]) continue;
        seen[j] = true;
        if (match_u[j] < 0 || augment(edge, nu, (size_t)match_u[j], match_u, seen)) {
            match_u[j] = (int)i;
            return true;
        }
    }
    return false;
}

static void compare_combined(ctx *c, const json_view_expanded *o, const json_view_expanded *u)
{
    if (o->criterion != u->criterion) {
        bool extended = u->criterion == JC_ANY || (u->criterion == JC_ONE && o->n_subs == 1) ||
                        (u->criterion == JC_ALL && o->n_subs == 1 && u->n_subs == 1);
        if (!extended) {
            diff(c, NULL, "COMBINED_TYPE_CHANGED", "%s became %s",
                 json_view_criterion_names[o->criterion], json_view_criterion_names[u->criterion]);
            return;
        }
    }
    if (o->n_subs < u->n_subs)
        diff(c, NULL, u->criterion == JC_ALL ? "PRODUCT_TYPE_EXTENDED" : "SUM_TYPE_EXTENDED",
             "%s gained subschemas (%zu to %zu)", json_view_criterion_names[u->criterion],
             o->n_subs, u->n_subs);
    else if (o->n_subs > u->n_subs)
        diff(c, NULL, u->criterion == JC_ALL ? "PRODUCT_TYPE_NARROWED" : "SUM_TYPE_NARROWED",
             "%s lost subschemas (%zu to %zu)", json_view_criterion_names[u->criterion], o->n_subs,
             u->n_subs);
    size_t no = o->n_subs, nu = u->n_subs;
    bool *edge = calloc(no * nu + 1, sizeof *edge);
    int *match_u = malloc((nu + 1) * sizeof *match_u);
    bool *seen = malloc(nu + 1);
    if (!edge || !match_u || !seen) {
        c->w->error = SLUICE_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < no && spend(c); i++) {
        char seg[32];
        snprintf(seg, sizeof seg, "%s/%zu", json_view_criterion_names[o->criterion], i);
        size_t saved = path_push(c, seg);
        for (size_t j = 0; j < nu; j++)
            edge[i * nu + j] = try_compare(c, o->subs[i], u->subs[j], false);
        path_pop(c, saved);
    }
    for (size_t j = 0; j < nu; j++)
        match_u[j] = -1;
    size_t matched = 0;
    for (size_t i = 0; i < no; i++) {
        memset(seen, 0, nu + 1);
        if (augment(edge, nu, i, match_u, seen)) matched++;
    }
    if (matched < (no < nu ? no : nu))
        diff(c, NULL, "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
             "only %zu of the %s subschemas have a compatible counterpart", matched,
             json_view_criterion_names[o->criterion]);
out:
    free(edge);
    free(match_u);
    free(seen);
}

/* additionalProperties: permitted at all, and with what schema. */
static bool permits_additional(const json_schema_node *add)
{
    return !add || json_schema_deref(add)->boolean != 0;
}

static const json_schema_node *schema_of_additional(const json_schema_node *add)
{
    return add && json_schema_deref(add)->boolean < 0 ? add : NULL;
}

static bool open_object(const json_schema_node *n)
{
    return n->n_pattern_props == 0 && !schema_of_additional(n->additional_properties) &&
           permits_additional(n->additional_properties);
}

static bool pattern_finds(const char *pattern, const char *s)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) return false;
    bool found = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return found;
}

static const json_schema_node *schema_from_partially_open(const json_schema_node *n,
                                                          const char *key)
{
    for (size_t i = 0; i < n->n_pattern_props; i++)
        if (pattern_finds(n->pattern_props[i].pattern, key)) return n->pattern_props[i].schema;
    return schema_of_additional(n->additional_properties);
}

static const json_schema_prop *prop_named(const json_schema_node *n, const char *name)
{
    for (size_t i = 0; i < n->n_props; i++)
        if (strcmp(n->props[i].name, name) == 0) return &n->props[i];
    return NULL;
}

static bool name_required(const json_schema_node *n, const char *name)
{
    for (size_t i = 0; i < n->n_required; i++)
        if (strcmp(n->required[i], name) == 0) return true;
    return false;
}

static bool has_default(const json_schema_node *n)
{
    return json_schema_deref(n)->default_value != NULL;
}

static bool is_empty_schema(const json_schema_node *n)
{
    json_view_expanded e;
    if (!json_view_expand((json_view){n, JV_WHOLE, 0}, &e)) return false;
    free(e.subs);
    return e.kind == JK_EMPTY;
}

static bool is_false_schema(const json_schema_node *n)
{
    return json_schema_deref(n)->boolean == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void compare_property_removed(ctx *c, const json_schema_node *u, const char *key,
                                     const json_schema_node *orig_schema)
{
    if (open_object(u)) {
        diff(c, NULL, "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", "removed");
        return;
    }
    const json_schema_node *partial = schema_from_partially_open(u, key);
    if (partial) {
        if (try_compare(c, (json_view){orig_schema, JV_WHOLE, 0}, (json_view){partial, JV_WHOLE, 0},
                        true))
            diff(c, NULL, "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "ok");
        else
            diff(c, NULL, "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                 "property '%s' was removed and the schema for other properties does not accept "
                 "its old values",
                 key);
    } else if (is_false_schema(orig_schema)) {
        diff(c, NULL, "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", "ok");
    } else {
        diff(c, NULL, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
             "property '%s' was removed from a closed content model (additionalProperties is "
             "false)",
             key);
    }
}

static void compare_property_added(ctx *c, const json_schema_node *o, const json_schema_node *u,
                                   const char *key, const json_schema_node *upd_schema)
{
    if (open_object(o)) {
        if (is_empty_schema(upd_schema))
            diff(c, NULL, "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", "ok");
        else
            diff(c, NULL, "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
                 "property '%s' was added to an open content model (the old schema allowed any "
                 "value for it)",
                 key);
        return;
    }
    const json_schema_node *partial = schema_from_partially_open(o, key);
    if (partial) {
        if (try_compare(c, (json_view){partial, JV_WHOLE, 0}, (json_view){upd_schema, JV_WHOLE, 0},
                        true))
            diff(c, NULL, "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", "ok");
        else
            diff(c, NULL, "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                 "property '%s' was added with a schema that does not accept what the old "
                 "schema allowed for it",
                 key);
    }
    if (name_required(u, key)) {
        if (has_default(upd_schema))
            diff(c, NULL, "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL", "ok");
        else
            diff(c, NULL, "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
                 "required property '%s' was added without a default", key);
    } else {
        diff(c, NULL, "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", "ok");
    }
}

static void compare_object(ctx *c, const json_schema_node *o, const json_schema_node *u)
{
    /* required */
    size_t saved = path_push(c, "required");
    for (size_t i = 0; i < o->n_props; i++) {
        const char *key = o->props[i].name;
        const json_schema_prop *up = prop_named(u, key);
        if (!up) continue;
        bool oreq = name_required(o, key), ureq = name_required(u, key);
        size_t s2 = path_push(c, key);
        if (oreq && !ureq)
            diff(c, NULL, "REQUIRED_ATTRIBUTE_REMOVED", "ok");
        else if (!oreq && ureq)
            diff(c, NULL,
                 has_default(up->schema) ? "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
                                         : "REQUIRED_ATTRIBUTE_ADDED",
                 "property '%s' became required without a default", key);
        path_pop(c, s2);
    }
    path_pop(c, saved);

    /* properties, by sorted name */
    const char **names = malloc((o->n_props + u->n_props + 1) * sizeof *names);
    if (!names) {
        c->w->error = SLUICE_ENOMEM;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < o->n_props; i++)
        names[n++] = o->props[i].name;
    for (size_t i = 0; i < u->n_props; i++)
        names[n++] = u->props[i].name;
    qsort(names, n, sizeof *names, cmp_str);
    saved = path_push(c, "properties");
    for (size_t i = 0; i < n && spend(c); i++) {
        if (i && strcmp(names[i], names[i - 1]) == 0) continue;
        const json_schema_prop *op = prop_named(o, names[i]), *up = prop_named(u, names[i]);
        size_t s2 = path_push(c, names[i]);
        if (!up)
            compare_property_removed(c, u, names[i], op->schema);
        else if (!op)
            compare_property_added(c, o, u, names[i], up->schema);
        else
            compare_nodes(c, op->schema, up->schema);
        path_pop(c, s2);
    }
    path_pop(c, saved);
    free(names);

    /* dependencies */
    saved = path_push(c, "dependencies");
    for (int pass = 0; pass < 2; pass++) {
        const json_schema_node *a = pass ? u : o, *b = pass ? o : u;
        for (size_t i = 0; i < a->n_deps; i++) {
            const json_schema_dep *ad = &a->deps[i], *bd = NULL;
            for (size_t k = 0; k < b->n_deps; k++)
                if (strcmp(b->deps[k].name, ad->name) == 0) bd = &b->deps[k];
            const json_schema_dep *od = pass ? bd : ad, *ud = pass ? ad : bd;
            if (pass && bd) continue; /* both: compared in pass 0 */
            size_t s2 = path_push(c, ad->name);
            bool array = ad->schema == NULL;
            if (!ud)
                diff(c, NULL, array ? "DEPENDENCY_ARRAY_REMOVED" : "DEPENDENCY_SCHEMA_REMOVED",
                     "ok");
            else if (!od)
                diff(c, NULL, array ? "DEPENDENCY_ARRAY_ADDED" : "DEPENDENCY_SCHEMA_ADDED",
                     "a dependency of '%s' was added", ad->name);
            else if (od->schema && ud->schema)
                compare_nodes(c, od->schema, ud->schema);
            else if (!od->schema && !ud->schema) {
                bool o_in_u = values_subset(od->props, od->n_props, ud->props, ud->n_props);
                bool u_in_o = values_subset(ud->props, ud->n_props, od->props, od->n_props);
                if (!(o_in_u && u_in_o))
                    diff(c, NULL,
                         o_in_u   ? "DEPENDENCY_ARRAY_EXTENDED"
                         : u_in_o ? "DEPENDENCY_ARRAY_NARROWED"
                                  : "DEPENDENCY_ARRAY_CHANGED",
                         "the properties '%s' depends on changed", ad->name);
            } else {
                diff(c, NULL, "DEPENDENCY_ARRAY_CHANGED",
                     "the dependency of '%s' changed between a list and a schema", ad->name);
            }
            path_pop(c, s2);
        }
    }
    path_pop(c, saved);

    /* additionalProperties */
    saved = path_push(c, "additionalProperties");
    bool op = permits_additional(o->additional_properties),
         up = permits_additional(u->additional_properties);
    const json_schema_node *os = schema_of_additional(o->additional_properties),
                           *us = schema_of_additional(u->additional_properties);
    if (op != up)
        diff(c, NULL, up ? "ADDITIONAL_PROPERTIES_ADDED" : "ADDITIONAL_PROPERTIES_REMOVED",
             "additional properties are no longer allowed");
    else if (!os && us)
        diff(c, NULL, "ADDITIONAL_PROPERTIES_NARROWED",
             "additional properties, allowed with any value before, now need a schema");
    else if (os && !us)
        diff(c, NULL, "ADDITIONAL_PROPERTIES_EXTENDED", "ok");
    else if (os && us)
        compare_nodes(c, os, us);
    path_pop(c, saved);

    compare_bound(c, "maxProperties", BOUND_KINDS("MAX_PROPERTIES"), o->max_properties,
                  u->max_properties);
    compare_bound(c, "minProperties", BOUND_KINDS("MIN_PROPERTIES"), o->min_properties,
                  u->min_properties);
}

static bool permits_additional_items(const json_schema_node *n)
{
    return !n->additional_items || json_schema_deref(n->additional_items)->boolean != 0;
}

static const json_schema_node *schema_of_additional_items(const json_schema_node *n)
{
    return n->additional_items && json_schema_deref(n->additional_items)->boolean < 0
               ? n->additional_items
               : NULL;
}

static bool open_array(const json_schema_node *n)
{
    return permits_additional_items(n) && !schema_of_additional_items(n);
}

static void compare_array(ctx *c, const json_schema_node *o, const json_schema_node *u)
{
    size_t saved = path_push(c, "items");
    compare(c, (json_view){o->items, JV_WHOLE, 0}, (json_view){u->items, JV_WHOLE, 0});
    path_pop(c, saved);

    size_t no = o->n_tuple_items, nu = u->n_tuple_items;
    for (size_t i = 0; i < (no > nu ? no : nu) && spend(c); i++) {
        char seg[32];
        snprintf(seg, sizeof seg, "items/%zu", i);
        size_t s2 = path_push(c, seg);
        if (i < no && i < nu) {
            compare_nodes(c, o->tuple_items[i], u->tuple_items[i]);
        } else if (i < no) { /* item removed */
            const json_schema_node *partial = schema_of_additional_items(u);
            if (open_array(u))
                diff(c, NULL, "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL", "ok");
            else if (partial)
                diff(c, NULL,
                     try_compare(c, (json_view){o->tuple_items[i], JV_WHOLE, 0},
                                 (json_view){partial, JV_WHOLE, 0}, true)
                         ? "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                         : "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                     "tuple item %zu was removed and additionalItems does not accept its values",
                     i);
            else if (is_false_schema(o->tuple_items[i]))
                diff(c, NULL, "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", "ok");
            else
                diff(c, NULL, "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
                     "tuple item %zu was removed from a closed content model", i);
        } else { /* item added */
            const json_schema_node *partial = schema_of_additional_items(o);
            if (open_array(o))
                diff(c, NULL,
                     is_empty_schema(u->tuple_items[i])
                         ? "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
                         : "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
                     "tuple item %zu was added to an open content model", i);
            else if (partial)
                diff(c, NULL,
                     try_compare(c, (json_view){partial, JV_WHOLE, 0},
                                 (json_view){u->tuple_items[i], JV_WHOLE, 0}, true)
                         ? "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                         : "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                     "tuple item %zu was added with a schema additionalItems did not imply", i);
            else
                diff(c, NULL, "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", "ok");
        }
        path_pop(c, s2);
    }

    saved = path_push(c, "additionalItems");
    bool op = permits_additional_items(o), up = permits_additional_items(u);
    const json_schema_node *os = schema_of_additional_items(o), *us = schema_of_additional_items(u);
    if (op != up)
        diff(c, NULL, op ? "ADDITIONAL_ITEMS_REMOVED" : "ADDITIONAL_ITEMS_ADDED",
             "additional items are no longer allowed");
    else if (!os && us)
        diff(c, NULL, "ADDITIONAL_ITEMS_NARROWED", "additional items now need a schema");
    else if (os && !us)
        diff(c, NULL, "ADDITIONAL_ITEMS_EXTENDED", "ok");
    else if (os && us)
        compare_nodes(c, os, us);
    path_pop(c, saved);

    compare_bound(c, "maxItems", BOUND_KINDS("MAX_ITEMS"), o->max_items, u->max_items);
    compare_bound(c, "minItems", BOUND_KINDS("MIN_ITEMS"), o->min_items, u->min_items);
    if (o->unique_items != u->unique_items)
        diff(c, "uniqueItems", o->unique_items ? "UNIQUE_ITEMS_REMOVED" : "UNIQUE_ITEMS_ADDED",
             "uniqueItems was added");
}

static void compare_expanded(ctx *c, const json_view_expanded *o, const json_view_expanded *u)
{
    switch (o->kind) {
    case JK_STRING:
        compare_string(c, o->node, u->node);
        break;
    case JK_NUMBER:
        compare_number(c, o, u);
        break;
    case JK_ENUM:
        compare_enum(c, o->node, u->node);
        break;
    case JK_CONST:
        if (strcmp(o->node->const_value, u->node->const_value) != 0)
            diff(c, "const", "ENUM_ARRAY_CHANGED", "const changed from %s to %s",
                 o->node->const_value, u->node->const_value);
        break;
    case JK_COMBINED:
        compare_combined(c, o, u);
        break;
    case JK_NOT: {
        size_t saved = path_push(c, "not");
        /* reversed: the update must not reject what the original did not */
        bool ok = try_compare(c, (json_view){u->node->not_, JV_WHOLE, 0},
                              (json_view){o->node->not_, JV_WHOLE, 0}, false);
        diff(c, NULL, ok ? "NOT_TYPE_NARROWED" : "NOT_TYPE_EXTENDED",
             "the schema under 'not' now rejects values it accepted");
        path_pop(c, saved);
        break;
    }
    case JK_OBJECT:
        compare_object(c, o->node, u->node);
        break;
    case JK_ARRAY:
        compare_array(c, o->node, u->node);
        break;
    default:
        break;
    }
}

static void compare(ctx *c, json_view o, json_view u)
{
    if (!spend(c)) return;
    if (!o.node && !u.node) return;
    if (!o.node) {
        diff(c, NULL, "SCHEMA_ADDED", "a schema was added where there was none");
        return;
    }
    if (!u.node) {
        diff(c, NULL, "SCHEMA_REMOVED", "ok");
        return;
    }
    struct memo *m = memo_find(c->w, o, u, false);
    if (m) {
        /* 1: being compared higher up (a cycle through $ref): skip, as
         * Confluent's SchemaScope does; else replay the verdict */
        if (m->state == 3)
            diff(c, NULL, m->kind, "as where %s was compared with %s before", o.node->path,
                 u.node->path);
        return;
    }
    json_view_expanded oe, ue;
    if (!json_view_expand(o, &oe)) {
        c->w->error = SLUICE_ENOMEM;
        return;
    }
    if (!json_view_expand(u, &ue)) {
        free(oe.subs);
        c->w->error = SLUICE_ENOMEM;
        return;
    }
    if (!memo_find(c->w, o, u, true)) {
        free(oe.subs);
        free(ue.subs);
        return;
    }
    unsigned before = c->incompatible;
    bool done = false;
    if (oe.kind != JK_COMBINED && ue.kind == JK_COMBINED) {
        if (ue.n_subs == 1) {
            done = try_compare(c, o, ue.subs[0], true);
        } else if (ue.criterion == JC_ANY || ue.criterion == JC_ONE) {
            for (size_t i = 0; i < ue.n_subs && !done; i++)
                done = try_compare(c, o, ue.subs[i], true);
            if (done) diff(c, NULL, "SUM_TYPE_EXTENDED", "ok");
        }
    } else if (oe.kind == JK_COMBINED && ue.kind != JK_COMBINED && oe.n_subs == 1) {
        done = try_compare(c, oe.subs[0], u, true);
    }
    if (!done) {
        if (oe.kind != ue.kind) {
            if (!(oe.kind == JK_FALSE || ue.kind == JK_EMPTY))
                diff(c, NULL, "TYPE_CHANGED", "the type changed from %s to %s",
                     json_view_kind_names[oe.kind], json_view_kind_names[ue.kind]);
        } else {
            compare_expanded(c, &oe, &ue);
        }
    }
    m = memo_find(c->w, o, u, false); /* the table may have grown meanwhile */
    if (m) {
        m->state = c->incompatible > before ? 3 : 2;
        m->kind = c->w->last_kind;
    }
    free(oe.subs);
    free(ue.subs);
}

int json_schema_compatible(const json_schema *original, const json_schema *update, char *reason,
                           size_t reason_len, sluice_error *err)
{
    struct walk w = {0};
    ctx c;
    ctx_init(&c, &w, NULL);
    compare(&c, (json_view){json_schema_root(original), JV_WHOLE, 0},
            (json_view){json_schema_root(update), JV_WHOLE, 0});
    if (reason && reason_len) {
        /* differences one per line → "a; b; c" */
        size_t used = 0;
        reason[0] = '\0';
        for (const char *p = c.text; p && *p && used + 1 < reason_len;) {
            const char *end = strchr(p, '\n');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            int k =
                snprintf(reason + used, reason_len - used, "%s%.*s", used ? "; " : "", (int)n, p);
            if (k < 0) break;
            used += (size_t)k;
            if (used >= reason_len) used = reason_len - 1;
            p = end ? end + 1 : p + n;
        }
        if (c.incompatible > c.reported && used + 8 < reason_len)
            snprintf(reason + used, reason_len - used, "; ...");
    }
    int error = w.error;
    ctx_free(&c);
    free(w.memo);
    if (error == SLUICE_ENOMEM)
        return sluice_error_set(err, SLUICE_ENOMEM, "JSON schema compatibility: out of memory");
    if (error)
        return sluice_error_set(err, SLUICE_ERANGE,
                                "JSON schema compatibility: the schemas are too large to compare "
                                "(more than %d steps)",
                                WORK_BUDGET);
    return c.incompatible == 0;
}
