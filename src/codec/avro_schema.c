/*
 * avro_schema.c — Avro schema text → immutable node graph (see sluice/avro.h),
 * plus the schema's normalised JSON, Parsing Canonical Form and CRC-64-AVRO
 * fingerprint.
 *
 * Parsing happens in one pass over the jansson document, in document order,
 * which is also the order the spec (and Java's parser) require definitions to
 * come in: a named type is registered when its definition starts (a record
 * before its fields, so it may refer to itself) and a name may be used only
 * after that. References resolve to the one node of the definition, so the
 * graph can be cyclic.
 *
 * Field defaults are checked after the whole schema is parsed, because a
 * default may have to be checked against a record whose fields are not all
 * parsed yet (a record field whose type is the enclosing record).
 *
 * Bounds: the type nesting is limited to SLUICE_AVRO_MAX_DEPTH, so every
 * recursive walk over the definitions (parse, canonical form) is bounded;
 * JSON nesting (custom properties, defaults) is limited by jansson's parser
 * (JSON_PARSER_MAX_DEPTH, 2048), and the default checker, which follows the
 * default's JSON, carries its own depth guard as well.
 *
 * Ownership: everything a schema hands out lives in its arena; the named-type
 * index is a malloc'd table owned by the schema. A schema is written only by
 * the thread that parses it and read-only afterwards.
 */
#include <sluice/avro.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/name_index.h"

#include <jansson.h>

#include <limits.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The public node plus what the parser and canonical writer need. The public
 * struct is the first member, so a sluice_avro_node of a schema can be cast
 * back to its node_ex. */
typedef struct node_ex {
    sluice_avro_node pub;
    size_t named_id;     /* index in schema->named (record, enum, fixed) */
    unsigned long stamp; /* parse-time scratch: last union this node was seen in */
} node_ex;

struct sluice_avro_schema {
    arena arena;
    const sluice_avro_node *root;
    node_ex **named; /* named types in definition order (malloc'd) */
    size_t n_named, named_alloc;
    size_t *slots;  /* open-addressing index into named, id + 1; 0 empty */
    size_t n_slots; /* power of two, kept >= 2 * n_named */
    const char *normalized;
    const char *canonical;
    uint64_t fingerprint;
};

/* A default waiting to be checked once every type is complete. */
typedef struct pending_default {
    const sluice_avro_node *type;
    json_t *value;    /* borrowed from the document, alive until parse ends */
    const char *path; /* "$.fields[0].default", in the arena */
} pending_default;

#define PATH_CAP 2048
/* Longer paths are shown as their head, "..." and their tail. */
#define PATH_SHOWN_HEAD 40
#define PATH_SHOWN_TAIL 200
#define DEFAULT_MAX_DEPTH 4096

typedef struct parser {
    sluice_avro_schema *s;
    sluice_error *err;
    char path[PATH_CAP];
    size_t path_len;
    int code; /* the first error's code, also when err is NULL */
    unsigned long union_serial;
    pending_default *pending;
    size_t n_pending, pending_alloc;
} parser;

static const char *const primitive_names[] = {
    [SLUICE_AVRO_NULL] = "null",   [SLUICE_AVRO_BOOLEAN] = "boolean",
    [SLUICE_AVRO_INT] = "int",     [SLUICE_AVRO_LONG] = "long",
    [SLUICE_AVRO_FLOAT] = "float", [SLUICE_AVRO_DOUBLE] = "double",
    [SLUICE_AVRO_BYTES] = "bytes", [SLUICE_AVRO_STRING] = "string",
};
#define N_PRIMITIVES (sizeof primitive_names / sizeof primitive_names[0])

const char *sluice_avro_type_name(sluice_avro_type type)
{
    switch (type) {
    case SLUICE_AVRO_NULL:
        return "null";
    case SLUICE_AVRO_BOOLEAN:
        return "boolean";
    case SLUICE_AVRO_INT:
        return "int";
    case SLUICE_AVRO_LONG:
        return "long";
    case SLUICE_AVRO_FLOAT:
        return "float";
    case SLUICE_AVRO_DOUBLE:
        return "double";
    case SLUICE_AVRO_BYTES:
        return "bytes";
    case SLUICE_AVRO_STRING:
        return "string";
    case SLUICE_AVRO_RECORD:
        return "record";
    case SLUICE_AVRO_ENUM:
        return "enum";
    case SLUICE_AVRO_ARRAY:
        return "array";
    case SLUICE_AVRO_MAP:
        return "map";
    case SLUICE_AVRO_UNION:
        return "union";
    case SLUICE_AVRO_FIXED:
        return "fixed";
    }
    return "unknown";
}

/* ---- paths and errors ---------------------------------------------------- */

/* Append to the JSON path, clipping at PATH_CAP; returns the length to
 * restore with path_pop. Clipping only shortens error messages. */
static size_t path_push(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t path_push(parser *p, const char *fmt, ...)
{
    size_t saved = p->path_len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->path + p->path_len, PATH_CAP - p->path_len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        p->path_len += (size_t)n;
        if (p->path_len > PATH_CAP - 1) p->path_len = PATH_CAP - 1;
    }
    return saved;
}

static void path_pop(parser *p, size_t saved)
{
    p->path_len = saved;
    p->path[saved] = '\0';
}

static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *p, const char *fmt, ...)
{
    char what[SLUICE_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    p->code = SLUICE_EINVAL;
    if (p->path_len > PATH_SHOWN_HEAD + PATH_SHOWN_TAIL)
        return sluice_error_set(p->err, SLUICE_EINVAL, "%.*s...%s: %s", PATH_SHOWN_HEAD, p->path,
                                p->path + p->path_len - PATH_SHOWN_TAIL, what);
    return sluice_error_set(p->err, SLUICE_EINVAL, "%s: %s", p->path, what);
}

static int fail_nomem(parser *p)
{
    p->code = SLUICE_ENOMEM;
    return sluice_error_set(p->err, SLUICE_ENOMEM, "%s: out of memory parsing schema", p->path);
}

/* ---- names --------------------------------------------------------------- */

static bool is_name_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* [A-Za-z_][A-Za-z0-9_]* over exactly n bytes (so an embedded NUL fails). */
static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || !is_name_start((unsigned char)s[0])) return false;
    for (size_t i = 1; i < n; i++)
        if (!is_name_char((unsigned char)s[i])) return false;
    return true;
}

/* One or more valid names joined by dots. */
static bool valid_dotted(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!valid_name(s + start, i - start)) return false;
            start = i + 1;
        }
    }
    return true;
}

static int primitive_by_name(const char *s, size_t n)
{
    for (size_t i = 0; i < N_PRIMITIVES; i++)
        if (strlen(primitive_names[i]) == n && memcmp(primitive_names[i], s, n) == 0) return (int)i;
    return -1;
}

/* "ns" + "." + "name", or "name" when ns is empty, in the arena. */
static char *join_name(arena *a, const char *ns, const char *name, size_t name_len)
{
    size_t ns_len = strlen(ns);
    size_t total = ns_len + (ns_len ? 1 : 0) + name_len;
    char *out = arena_alloc(a, total + 1, 1);
    if (!out) return NULL;
    size_t at = 0;
    if (ns_len) {
        memcpy(out, ns, ns_len);
        out[ns_len] = '.';
        at = ns_len + 1;
    }
    memcpy(out + at, name, name_len);
    out[total] = '\0';
    return out;
}

/* ---- named-type index ---------------------------------------------------- */

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static node_ex *named_find(const sluice_avro_schema *s, const char *fullname)
{
    if (!s->n_slots) return NULL;
    size_t mask = s->n_slots - 1;
    for (size_t i = (size_t)hash_name(fullname) & mask;; i = (i + 1) & mask) {
        size_t slot = s->slots[i];
        if (slot == 0) return NULL;
        node_ex *n = s->named[slot - 1];
        if (strcmp(n->pub.fullname, fullname) == 0) return n;
    }
}

static void slots_insert(size_t *slots, size_t n_slots, node_ex *const *named, size_t id)
{
    size_t mask = n_slots - 1;
    size_t i = (size_t)hash_name(named[id]->pub.fullname) & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = id + 1;
}

/* Registers n under its fullname; the caller has checked it is new. */
static int named_add(sluice_avro_schema *s, node_ex *n)
{
    if (s->n_named == s->named_alloc) {
        size_t cap = s->named_alloc ? s->named_alloc * 2 : 16;
        node_ex **grown = realloc(s->named, cap * sizeof *grown);
        if (!grown) return SLUICE_ENOMEM;
        s->named = grown;
        s->named_alloc = cap;
    }
    if (2 * (s->n_named + 1) > s->n_slots) {
        size_t cap = s->n_slots ? s->n_slots * 2 : 32;
        size_t *slots = calloc(cap, sizeof *slots);
        if (!slots) return SLUICE_ENOMEM;
        for (size_t id = 0; id < s->n_named; id++)
            slots_insert(slots, cap, s->named, id);
        free(s->slots);
        s->slots = slots;
        s->n_slots = cap;
    }
    n->named_id = s->n_named;
    s->named[s->n_named++] = n;
    slots_insert(s->slots, s->n_slots, s->named, n->named_id);
    return 0;
}

/* ---- small JSON helpers ---------------------------------------------------- */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "value";
}

/* Optional string member into *out: NULL if absent or not a string (as
 * Java's parser treats "doc"). Fails only when out of memory. */
static int opt_string(parser *p, json_t *obj, const char *key, const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!json_is_string(v)) return 0;
    *out = arena_strndup(&p->s->arena, json_string_value(v), json_string_length(v));
    return *out ? 0 : fail_nomem(p);
}

static node_ex *new_node(parser *p, sluice_avro_type type)
{
    node_ex *n = arena_calloc(&p->s->arena, 1, sizeof *n, alignof(node_ex));
    if (n) n->pub.type = type;
    return n;
}

/* ---- named type headers (name, namespace, aliases, doc) ------------------ */

/* Fills fullname/name/namespace_/doc/aliases of n from obj. `enclosing` is
 * the namespace a short name inherits. */
static int parse_name(parser *p, json_t *obj, const char *enclosing, node_ex *n)
{
    arena *a = &p->s->arena;
    const char *kind = sluice_avro_type_name(n->pub.type);
    json_t *jname = json_object_get(obj, "name");
    if (!jname) return fail(p, "%s is missing \"name\"", kind);
    if (!json_is_string(jname))
        return fail(p, "%s \"name\" must be a string, got %s", kind, json_kind(jname));
    const char *name = json_string_value(jname);
    size_t name_len = json_string_length(jname);

    json_t *jns = json_object_get(obj, "namespace");
    if (jns) {
        if (!json_is_string(jns))
            return fail(p, "\"namespace\" must be a string, got %s", json_kind(jns));
        size_t len = json_string_length(jns);
        if (len && !valid_dotted(json_string_value(jns), len))
            return fail(p, "invalid namespace '%s'", json_string_value(jns));
    }
    if (!valid_dotted(name, name_len)) return fail(p, "invalid name '%s'", name);

    const char *dot = memchr(name, '.', name_len) ? strrchr(name, '.') : NULL;
    const char *shortname = dot ? dot + 1 : name;
    if (primitive_by_name(shortname, name_len - (size_t)(shortname - name)) >= 0)
        return fail(p, "'%s' is a primitive type and cannot be used as a name", shortname);

    if (dot) {
        n->pub.fullname = arena_strndup(a, name, name_len);
        n->pub.namespace_ = arena_strndup(a, name, (size_t)(dot - name));
        n->pub.name = n->pub.fullname + (dot - name) + 1;
    } else {
        const char *ns = jns ? json_string_value(jns) : enclosing;
        n->pub.namespace_ = arena_strdup(a, ns);
        n->pub.fullname = join_name(a, ns, name, name_len);
        n->pub.name =
            n->pub.fullname ? n->pub.fullname + (strlen(n->pub.fullname) - name_len) : NULL;
    }
    if (!n->pub.fullname || !n->pub.namespace_) return fail_nomem(p);

    json_t *jaliases = json_object_get(obj, "aliases");
    if (jaliases) {
        size_t saved = path_push(p, ".aliases");
        if (!json_is_array(jaliases))
            return fail(p, "expected an array of names, got %s", json_kind(jaliases));
        size_t na = json_array_size(jaliases);
        const char **aliases = arena_calloc(a, na, sizeof *aliases, alignof(const char *));
        if (!aliases) return fail_nomem(p);
        for (size_t i = 0; i < na; i++) {
            json_t *al = json_array_get(jaliases, i);
            size_t s2 = path_push(p, "[%zu]", i);
            if (!json_is_string(al))
                return fail(p, "alias must be a string, got %s", json_kind(al));
            const char *as = json_string_value(al);
            size_t alen = json_string_length(al);
            if (!valid_dotted(as, alen)) return fail(p, "invalid alias '%s'", as);
            /* A short alias lives in the type's own namespace (spec, Aliases). */
            aliases[i] = memchr(as, '.', alen) ? arena_strndup(a, as, alen)
                                               : join_name(a, n->pub.namespace_, as, alen);
            if (!aliases[i]) return fail_nomem(p);
            path_pop(p, s2);
        }
        n->pub.aliases = aliases;
        n->pub.n_aliases = na;
        path_pop(p, saved);
    }
    if (opt_string(p, obj, "doc", &n->pub.doc)) return SLUICE_ENOMEM;

    if (named_find(p->s, n->pub.fullname))
        return fail(p, "type '%s' is already defined", n->pub.fullname);
    return 0;
}

static int register_named(parser *p, node_ex *n)
{
    return named_add(p->s, n) ? fail_nomem(p) : 0;
}

/* ---- logical types ----------------------------------------------------------- */

/* An integer member in [lo, hi], or fall back to dflt when absent. */
static bool int_member(json_t *obj, const char *key, long long lo, long long hi, long long dflt,
                       bool required, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required) return false;
        *out = (int)dflt;
        return true;
    }
    if (!json_is_integer(v)) return false;
    long long x = json_integer_value(v);
    if (x < lo || x > hi) return false;
    *out = (int)x;
    return true;
}

/* Applies the "logicalType" of obj to n when it is valid for n's underlying
 * type; otherwise leaves n as it is (spec: invalid annotations are ignored). */
static void apply_logical(json_t *obj, node_ex *n)
{
    json_t *jl = json_object_get(obj, "logicalType");
    if (!json_is_string(jl)) return;
    const char *l = json_string_value(jl);
    sluice_avro_type t = n->pub.type;
    static const struct {
        const char *name;
        sluice_avro_logical logical;
        sluice_avro_type on;
    } simple[] = {
        {"date", SLUICE_AVRO_LOGICAL_DATE, SLUICE_AVRO_INT},
        {"time-millis", SLUICE_AVRO_LOGICAL_TIME_MILLIS, SLUICE_AVRO_INT},
        {"time-micros", SLUICE_AVRO_LOGICAL_TIME_MICROS, SLUICE_AVRO_LONG},
        {"timestamp-millis", SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS, SLUICE_AVRO_LONG},
        {"timestamp-micros", SLUICE_AVRO_LOGICAL_TIMESTAMP_MICROS, SLUICE_AVRO_LONG},
        {"local-timestamp-millis", SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS, SLUICE_AVRO_LONG},
        {"local-timestamp-micros", SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS, SLUICE_AVRO_LONG},
        {"uuid", SLUICE_AVRO_LOGICAL_UUID, SLUICE_AVRO_STRING},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        if (strcmp(l, simple[i].name) == 0) {
            if (t == simple[i].on) n->pub.logical = simple[i].logical;
            return;
        }
    }
    if (strcmp(l, "duration") == 0) {
        if (t == SLUICE_AVRO_FIXED && n->pub.size == 12)
            n->pub.logical = SLUICE_AVRO_LOGICAL_DURATION;
        return;
    }
    if (strcmp(l, "decimal") == 0) {
        if (t != SLUICE_AVRO_BYTES && t != SLUICE_AVRO_FIXED) return;
        int precision, scale;
        if (!int_member(obj, "precision", 1, INT_MAX, 0, true, &precision)) return;
        if (!int_member(obj, "scale", 0, precision, 0, false, &scale)) return;
        if (t == SLUICE_AVRO_FIXED) {
            /* The most digits a signed two's-complement number of `size`
             * bytes always holds: floor(log10(2^(8*size-1) - 1)). */
            double bits = 8.0 * (double)n->pub.size - 1.0;
            if (bits < 1.0 || (double)precision > floor(bits * log10(2.0))) return;
        }
        n->pub.logical = SLUICE_AVRO_LOGICAL_DECIMAL;
        n->pub.precision = precision;
        n->pub.scale = scale;
    }
}

/* ---- types ----------------------------------------------------------------- */

static node_ex *parse_type(parser *p, json_t *j, const char *ns, int depth);

/* A type given by name: a primitive, or a named type defined earlier. */
static node_ex *resolve_name(parser *p, const char *name, size_t len, const char *ns)
{
    int prim = primitive_by_name(name, len);
    if (prim >= 0) return new_node(p, (sluice_avro_type)prim);
    if (len == strlen(name)) {
        node_ex *n = NULL;
        if (memchr(name, '.', len)) {
            n = named_find(p->s, name);
        } else {
            /* Short name: the enclosing namespace first, then the null
             * namespace, as Java's parser does. */
            char *full = *ns ? join_name(&p->s->arena, ns, name, len) : NULL;
            if (*ns && !full) {
                fail_nomem(p);
                return NULL;
            }
            n = full ? named_find(p->s, full) : NULL;
            if (!n) n = named_find(p->s, name);
        }
        if (n) return n;
    }
    fail(p, "unknown type '%s'", name);
    return NULL;
}

/* Field i of record rec, from jf, into f; names holds the earlier fields. */
static int parse_field(parser *p, json_t *jf, node_ex *rec, sluice_avro_field *f, size_t i,
                       int depth, name_index *names)
{
    arena *a = &p->s->arena;
    size_t s_field = path_push(p, "[%zu]", i);
    if (!json_is_object(jf)) return fail(p, "a field must be an object, got %s", json_kind(jf));
    json_t *jname = json_object_get(jf, "name");
    if (!jname) return fail(p, "field is missing \"name\"");
    if (!json_is_string(jname))
        return fail(p, "field \"name\" must be a string, got %s", json_kind(jname));
    if (!valid_name(json_string_value(jname), json_string_length(jname)))
        return fail(p, "invalid field name '%s'", json_string_value(jname));
    f->name = arena_strdup(a, json_string_value(jname));
    if (!f->name) return fail_nomem(p);
    if (name_index_add(names, f->name, i, NULL) != 1)
        return fail(p, "duplicate field name '%s'", f->name);
    f->index = i;
    if (opt_string(p, jf, "doc", &f->doc)) return SLUICE_ENOMEM;

    json_t *jtype = json_object_get(jf, "type");
    if (!jtype) return fail(p, "field '%s' is missing \"type\"", f->name);
    size_t s_type = path_push(p, ".type");
    node_ex *t = parse_type(p, jtype, rec->pub.namespace_, depth + 1);
    if (!t) return SLUICE_EINVAL;
    path_pop(p, s_type);
    f->type = &t->pub;

    json_t *jorder = json_object_get(jf, "order");
    f->order = SLUICE_AVRO_ORDER_ASCENDING;
    if (jorder) {
        const char *o = json_is_string(jorder) ? json_string_value(jorder) : "";
        if (strcmp(o, "ascending") == 0)
            f->order = SLUICE_AVRO_ORDER_ASCENDING;
        else if (strcmp(o, "descending") == 0)
            f->order = SLUICE_AVRO_ORDER_DESCENDING;
        else if (strcmp(o, "ignore") == 0)
            f->order = SLUICE_AVRO_ORDER_IGNORE;
        else {
            path_push(p, ".order");
            return fail(p, "invalid order (expected \"ascending\", \"descending\" or "
                           "\"ignore\")");
        }
    }

    json_t *jaliases = json_object_get(jf, "aliases");
    if (jaliases) {
        size_t s_al = path_push(p, ".aliases");
        size_t in_aliases = p->path_len;
        if (!json_is_array(jaliases))
            return fail(p, "expected an array of names, got %s", json_kind(jaliases));
        size_t na = json_array_size(jaliases);
        const char **aliases = arena_calloc(a, na, sizeof *aliases, alignof(const char *));
        if (!aliases) return fail_nomem(p);
        for (size_t k = 0; k < na; k++) {
            json_t *al = json_array_get(jaliases, k);
            path_push(p, "[%zu]", k);
            if (!json_is_string(al))
                return fail(p, "alias must be a string, got %s", json_kind(al));
            if (!valid_name(json_string_value(al), json_string_length(al)))
                return fail(p, "invalid field alias '%s'", json_string_value(al));
            aliases[k] = arena_strdup(a, json_string_value(al));
            if (!aliases[k]) return fail_nomem(p);
            path_pop(p, in_aliases);
        }
        f->aliases = aliases;
        f->n_aliases = na;
        path_pop(p, s_al);
    }

    json_t *jdefault = json_object_get(jf, "default");
    if (jdefault) {
        char *text = json_dumps(jdefault, JSON_COMPACT | JSON_ENCODE_ANY);
        f->default_json = text ? arena_strdup(a, text) : NULL;
        free(text);
        if (!f->default_json) return fail_nomem(p);
        size_t s_def = path_push(p, ".default");
        if (p->n_pending == p->pending_alloc) {
            size_t cap = p->pending_alloc ? p->pending_alloc * 2 : 16;
            pending_default *grown = realloc(p->pending, cap * sizeof *grown);
            if (!grown) return fail_nomem(p);
            p->pending = grown;
            p->pending_alloc = cap;
        }
        const char *where = arena_strdup(a, p->path);
        if (!where) return fail_nomem(p);
        p->pending[p->n_pending++] = (pending_default){f->type, jdefault, where};
        path_pop(p, s_def);
    }
    path_pop(p, s_field);
    return 0;
}

static int parse_fields(parser *p, json_t *obj, node_ex *rec, int depth)
{
    arena *a = &p->s->arena;
    json_t *jfields = json_object_get(obj, "fields");
    if (!jfields) return fail(p, "record '%s' is missing \"fields\"", rec->pub.fullname);
    size_t saved = path_push(p, ".fields");
    if (!json_is_array(jfields)) return fail(p, "expected an array, got %s", json_kind(jfields));
    size_t nf = json_array_size(jfields);
    sluice_avro_field *fields = arena_calloc(a, nf, sizeof *fields, alignof(sluice_avro_field));
    if (!fields) return fail_nomem(p);
    rec->pub.fields = fields;
    name_index names;
    if (name_index_init(&names, nf)) return fail_nomem(p);
    int rc = 0;
    for (size_t i = 0; i < nf && rc == 0; i++)
        rc = parse_field(p, json_array_get(jfields, i), rec, &fields[i], i, depth, &names);
    name_index_free(&names);
    if (rc) return rc;
    /* Published only now: until here a self-reference sees an empty record,
     * and nothing reads the fields before the deferred default checks. */
    rec->pub.n_fields = nf;
    path_pop(p, saved);
    return 0;
}

static node_ex *parse_record(parser *p, json_t *obj, const char *ns, int depth)
{
    node_ex *n = new_node(p, SLUICE_AVRO_RECORD);
    if (!n) {
        fail_nomem(p);
        return NULL;
    }
    if (parse_name(p, obj, ns, n) || register_named(p, n) || parse_fields(p, obj, n, depth))
        return NULL;
    return n;
}

static node_ex *parse_enum(parser *p, json_t *obj, const char *ns)
{
    arena *a = &p->s->arena;
    node_ex *n = new_node(p, SLUICE_AVRO_ENUM);
    if (!n) {
        fail_nomem(p);
        return NULL;
    }
    if (parse_name(p, obj, ns, n)) return NULL;
    json_t *jsyms = json_object_get(obj, "symbols");
    if (!jsyms) {
        fail(p, "enum '%s' is missing \"symbols\"", n->pub.fullname);
        return NULL;
    }
    size_t saved = path_push(p, ".symbols");
    if (!json_is_array(jsyms)) {
        fail(p, "expected an array, got %s", json_kind(jsyms));
        return NULL;
    }
    size_t ns_count = json_array_size(jsyms);
    const char **syms = arena_calloc(a, ns_count, sizeof *syms, alignof(const char *));
    if (!syms) {
        fail_nomem(p);
        return NULL;
    }
    for (size_t i = 0; i < ns_count; i++) {
        json_t *js = json_array_get(jsyms, i);
        size_t s_sym = path_push(p, "[%zu]", i);
        if (!json_is_string(js)) {
            fail(p, "symbol must be a string, got %s", json_kind(js));
            return NULL;
        }
        if (!valid_name(json_string_value(js), json_string_length(js))) {
            fail(p, "invalid symbol '%s'", json_string_value(js));
            return NULL;
        }
        syms[i] = arena_strdup(a, json_string_value(js));
        if (!syms[i]) {
            fail_nomem(p);
            return NULL;
        }
        path_pop(p, s_sym);
    }
    name_index seen;
    if (name_index_init(&seen, ns_count)) {
        fail_nomem(p);
        return NULL;
    }
    for (size_t i = 0; i < ns_count; i++) {
        if (name_index_add(&seen, syms[i], i, NULL) != 1) {
            name_index_free(&seen);
            path_push(p, "[%zu]", i);
            fail(p, "duplicate symbol '%s'", syms[i]);
            return NULL;
        }
    }
    name_index_free(&seen);
    path_pop(p, saved);
    n->pub.symbols = syms;
    n->pub.n_symbols = ns_count;

    json_t *jdef = json_object_get(obj, "default");
    if (jdef) {
        size_t s_def = path_push(p, ".default");
        if (!json_is_string(jdef)) {
            fail(p, "enum default must be a string, got %s", json_kind(jdef));
            return NULL;
        }
        for (size_t i = 0; i < ns_count && !n->pub.enum_default; i++)
            if (strcmp(syms[i], json_string_value(jdef)) == 0 &&
                strlen(syms[i]) == json_string_length(jdef))
                n->pub.enum_default = syms[i];
        if (!n->pub.enum_default) {
            fail(p, "enum default '%s' is not one of the symbols", json_string_value(jdef));
            return NULL;
        }
        path_pop(p, s_def);
    }
    return register_named(p, n) ? NULL : n;
}

static node_ex *parse_fixed(parser *p, json_t *obj, const char *ns)
{
    node_ex *n = new_node(p, SLUICE_AVRO_FIXED);
    if (!n) {
        fail_nomem(p);
        return NULL;
    }
    if (parse_name(p, obj, ns, n)) return NULL;
    json_t *jsize = json_object_get(obj, "size");
    if (!jsize) {
        fail(p, "fixed '%s' is missing \"size\"", n->pub.fullname);
        return NULL;
    }
    size_t saved = path_push(p, ".size");
    /* Java reads the size as an int; so do we, which also keeps size*8 and
     * any buffer the codec sizes from it sane. */
    if (!json_is_integer(jsize) || json_integer_value(jsize) < 0 ||
        json_integer_value(jsize) > INT_MAX) {
        fail(p, "fixed size must be an integer from 0 to %d", INT_MAX);
        return NULL;
    }
    path_pop(p, saved);
    n->pub.size = (size_t)json_integer_value(jsize);
    apply_logical(obj, n);
    return register_named(p, n) ? NULL : n;
}

static node_ex *parse_container(parser *p, json_t *obj, const char *ns, int depth,
                                sluice_avro_type type)
{
    const char *key = type == SLUICE_AVRO_ARRAY ? "items" : "values";
    json_t *jinner = json_object_get(obj, key);
    if (!jinner) {
        fail(p, "%s is missing \"%s\"", sluice_avro_type_name(type), key);
        return NULL;
    }
    node_ex *n = new_node(p, type);
    if (!n) {
        fail_nomem(p);
        return NULL;
    }
    size_t saved = path_push(p, ".%s", key);
    node_ex *inner = parse_type(p, jinner, ns, depth + 1);
    if (!inner) return NULL;
    path_pop(p, saved);
    if (type == SLUICE_AVRO_ARRAY)
        n->pub.items = &inner->pub;
    else
        n->pub.values = &inner->pub;
    return n;
}

static node_ex *parse_union(parser *p, json_t *arr, const char *ns, int depth)
{
    node_ex *n = new_node(p, SLUICE_AVRO_UNION);
    size_t nb = json_array_size(arr);
    const sluice_avro_node **branches =
        n ? arena_calloc(&p->s->arena, nb, sizeof *branches, alignof(sluice_avro_node *)) : NULL;
    if (!branches) {
        fail_nomem(p);
        return NULL;
    }
    for (size_t i = 0; i < nb; i++) {
        json_t *jb = json_array_get(arr, i);
        size_t saved = path_push(p, "[%zu]", i);
        if (json_is_array(jb)) {
            fail(p, "a union may not directly contain another union");
            return NULL;
        }
        node_ex *b = parse_type(p, jb, ns, depth + 1);
        if (!b) return NULL;
        branches[i] = &b->pub;
        path_pop(p, saved);
    }
    /* Duplicates, in a pass of their own: unnamed types by kind, named ones
     * by stamping the (unique per fullname) node with this pass's serial.
     * Stamping while parsing would not do: a union nested inside a later
     * branch would restamp the nodes this union has seen. */
    bool seen[SLUICE_AVRO_FIXED + 1] = {false};
    unsigned long serial = ++p->union_serial;
    for (size_t i = 0; i < nb; i++) {
        node_ex *b = (node_ex *)branches[i];
        sluice_avro_type t = b->pub.type;
        bool named = t == SLUICE_AVRO_RECORD || t == SLUICE_AVRO_ENUM || t == SLUICE_AVRO_FIXED;
        if (named ? b->stamp == serial : seen[t]) {
            path_push(p, "[%zu]", i);
            if (named)
                fail(p, "union already contains type '%s'", b->pub.fullname);
            else
                fail(p, "union already contains a branch of type %s", sluice_avro_type_name(t));
            return NULL;
        }
        if (named)
            b->stamp = serial;
        else
            seen[t] = true;
    }
    n->pub.branches = branches;
    n->pub.n_branches = nb;
    return n;
}

static node_ex *parse_object(parser *p, json_t *obj, const char *ns, int depth)
{
    json_t *jtype = json_object_get(obj, "type");
    if (!jtype) {
        fail(p, "missing \"type\"");
        return NULL;
    }
    if (!json_is_string(jtype)) {
        path_push(p, ".type");
        fail(p, "expected a type name, got %s", json_kind(jtype));
        return NULL;
    }
    const char *t = json_string_value(jtype);
    size_t tlen = json_string_length(jtype);
    int prim = primitive_by_name(t, tlen);
    if (prim >= 0) {
        node_ex *n = new_node(p, (sluice_avro_type)prim);
        if (!n) {
            fail_nomem(p);
            return NULL;
        }
        apply_logical(obj, n);
        return n;
    }
    if (strcmp(t, "record") == 0) return parse_record(p, obj, ns, depth);
    if (strcmp(t, "enum") == 0) return parse_enum(p, obj, ns);
    if (strcmp(t, "fixed") == 0) return parse_fixed(p, obj, ns);
    if (strcmp(t, "array") == 0) return parse_container(p, obj, ns, depth, SLUICE_AVRO_ARRAY);
    if (strcmp(t, "map") == 0) return parse_container(p, obj, ns, depth, SLUICE_AVRO_MAP);
    /* {"type": "SomeName"}: a reference to a defined type, as Java allows. */
    size_t saved = path_push(p, ".type");
    node_ex *n = resolve_name(p, t, tlen, ns);
    if (n) path_pop(p, saved);
    return n;
}

static node_ex *parse_type(parser *p, json_t *j, const char *ns, int depth)
{
    if (depth > SLUICE_AVRO_MAX_DEPTH) {
        fail(p, "schema nested deeper than %d levels", SLUICE_AVRO_MAX_DEPTH);
        return NULL;
    }
    if (json_is_string(j)) return resolve_name(p, json_string_value(j), json_string_length(j), ns);
    if (json_is_object(j)) return parse_object(p, j, ns, depth);
    if (json_is_array(j)) return parse_union(p, j, ns, depth);
    fail(p, "expected a type name, object or array, got %s", json_kind(j));
    return NULL;
}

/* ---- defaults -------------------------------------------------------------- */

/* Number of code points of a UTF-8 string if each is at most U+00FF (so the
 * string stands for that many bytes), or -1. jansson guarantees valid UTF-8. */
static long long byte_string_length(const json_t *v)
{
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    size_t n = json_string_length(v);
    long long count = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c < 0x80)
            count++;
        else if (c == 0xC2 || c == 0xC3)
            count++;
        else if (c < 0xC0)
            continue; /* continuation byte of a counted lead */
        else
            return -1;
    }
    return count;
}

static int check_default(parser *p, const sluice_avro_node *t, json_t *v, int depth);

static int check_record_default(parser *p, const sluice_avro_node *t, json_t *v, int depth)
{
    for (size_t i = 0; i < t->n_fields; i++) {
        const sluice_avro_field *f = &t->fields[i];
        json_t *fv = json_object_get(v, f->name);
        if (!fv) {
            if (!f->default_json)
                return fail(p,
                            "record '%s' default has no value for field '%s', which has "
                            "no default",
                            t->fullname, f->name);
            continue;
        }
        size_t saved = path_push(p, ".%.64s", f->name);
        int rc = check_default(p, f->type, fv, depth + 1);
        if (rc) return rc;
        path_pop(p, saved);
    }
    return 0;
}

static int check_default(parser *p, const sluice_avro_node *t, json_t *v, int depth)
{
    if (depth > DEFAULT_MAX_DEPTH)
        return fail(p, "default nested deeper than %d levels", DEFAULT_MAX_DEPTH);
    const char *want = sluice_avro_type_name(t->type);
    switch (t->type) {
    case SLUICE_AVRO_NULL:
        return json_is_null(v) ? 0 : fail(p, "expected null, got %s", json_kind(v));
    case SLUICE_AVRO_BOOLEAN:
        return json_is_boolean(v) ? 0 : fail(p, "expected boolean, got %s", json_kind(v));
    case SLUICE_AVRO_INT:
        if (!json_is_integer(v)) return fail(p, "expected int, got %s", json_kind(v));
        if (json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX)
            return fail(p, "%lld is out of range for int", (long long)json_integer_value(v));
        return 0;
    case SLUICE_AVRO_LONG:
        return json_is_integer(v) ? 0 : fail(p, "expected long, got %s", json_kind(v));
    case SLUICE_AVRO_FLOAT:
    case SLUICE_AVRO_DOUBLE:
        return json_is_number(v) ? 0 : fail(p, "expected %s, got %s", want, json_kind(v));
    case SLUICE_AVRO_STRING:
        return json_is_string(v) ? 0 : fail(p, "expected string, got %s", json_kind(v));
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_FIXED: {
        if (!json_is_string(v))
            return fail(p, "expected %s (a string of code points 0-255), got %s", want,
                        json_kind(v));
        long long n = byte_string_length(v);
        if (n < 0) return fail(p, "%s default has a character above \\u00ff", want);
        if (t->type == SLUICE_AVRO_FIXED && (unsigned long long)n != t->size)
            return fail(p, "fixed '%s' default has %lld bytes, expected %zu", t->fullname, n,
                        t->size);
        return 0;
    }
    case SLUICE_AVRO_ENUM:
        if (!json_is_string(v)) return fail(p, "expected enum symbol, got %s", json_kind(v));
        for (size_t i = 0; i < t->n_symbols; i++)
            if (strcmp(t->symbols[i], json_string_value(v)) == 0 &&
                strlen(t->symbols[i]) == json_string_length(v))
                return 0;
        return fail(p, "'%s' is not a symbol of enum '%s'", json_string_value(v), t->fullname);
    case SLUICE_AVRO_RECORD:
        if (!json_is_object(v)) return fail(p, "expected record (an object), got %s", json_kind(v));
        return check_record_default(p, t, v, depth);
    case SLUICE_AVRO_ARRAY: {
        if (!json_is_array(v)) return fail(p, "expected array, got %s", json_kind(v));
        for (size_t i = 0; i < json_array_size(v); i++) {
            size_t saved = path_push(p, "[%zu]", i);
            int rc = check_default(p, t->items, json_array_get(v, i), depth + 1);
            if (rc) return rc;
            path_pop(p, saved);
        }
        return 0;
    }
    case SLUICE_AVRO_MAP: {
        if (!json_is_object(v)) return fail(p, "expected map (an object), got %s", json_kind(v));
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val)
        {
            size_t saved = path_push(p, "[\"%.64s\"]", key);
            int rc = check_default(p, t->values, val, depth + 1);
            if (rc) return rc;
            path_pop(p, saved);
        }
        return 0;
    }
    case SLUICE_AVRO_UNION:
        /* Spec 1.11: a union's default matches its first branch. */
        if (t->n_branches == 0) return fail(p, "an empty union cannot have a default");
        return check_default(p, t->branches[0], v, depth + 1);
    }
    return fail(p, "unknown type");
}

static int check_pending_defaults(parser *p)
{
    for (size_t i = 0; i < p->n_pending; i++) {
        pending_default *d = &p->pending[i];
        path_pop(p, 0);
        path_push(p, "%s", d->path);
        int rc = check_default(p, d->type, d->value, 0);
        if (rc) return rc;
    }
    return 0;
}

/* ---- Parsing Canonical Form ------------------------------------------------ */

/* Writes n per the spec's [PRIMITIVES] [FULLNAMES] [STRIP] [ORDER] [STRINGS]
 * [INTEGERS] [WHITESPACE] rules. A named type is written in full where it is
 * first met (its definition, since definitions precede uses) and as its
 * fullname afterwards. Names and symbols are [A-Za-z0-9_.] only, so they
 * need no escaping. Recursion follows the definitions, so its depth is the
 * parse depth. */
static int canonical_write(buf *b, const sluice_avro_node *n, unsigned char *written)
{
    int rc = 0;
    switch (n->type) {
    case SLUICE_AVRO_NULL:
    case SLUICE_AVRO_BOOLEAN:
    case SLUICE_AVRO_INT:
    case SLUICE_AVRO_LONG:
    case SLUICE_AVRO_FLOAT:
    case SLUICE_AVRO_DOUBLE:
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_STRING:
        return buf_printf(b, "\"%s\"", sluice_avro_type_name(n->type));
    case SLUICE_AVRO_RECORD:
    case SLUICE_AVRO_ENUM:
    case SLUICE_AVRO_FIXED: {
        size_t id = ((const node_ex *)n)->named_id;
        if (written[id]) return buf_printf(b, "\"%s\"", n->fullname);
        written[id] = 1;
        rc = buf_printf(b, "{\"name\":\"%s\",\"type\":\"%s\"", n->fullname,
                        sluice_avro_type_name(n->type));
        if (n->type == SLUICE_AVRO_RECORD) {
            rc = rc ? rc : buf_append_str(b, ",\"fields\":[");
            for (size_t i = 0; i < n->n_fields && !rc; i++) {
                rc = buf_printf(b, "%s{\"name\":\"%s\",\"type\":", i ? "," : "", n->fields[i].name);
                rc = rc ? rc : canonical_write(b, n->fields[i].type, written);
                rc = rc ? rc : buf_append_byte(b, '}');
            }
            rc = rc ? rc : buf_append_byte(b, ']');
        } else if (n->type == SLUICE_AVRO_ENUM) {
            rc = rc ? rc : buf_append_str(b, ",\"symbols\":[");
            for (size_t i = 0; i < n->n_symbols && !rc; i++)
                rc = buf_printf(b, "%s\"%s\"", i ? "," : "", n->symbols[i]);
            rc = rc ? rc : buf_append_byte(b, ']');
        } else {
            rc = rc ? rc : buf_printf(b, ",\"size\":%zu", n->size);
        }
        return rc ? rc : buf_append_byte(b, '}');
    }
    case SLUICE_AVRO_ARRAY:
        rc = buf_append_str(b, "{\"type\":\"array\",\"items\":");
        rc = rc ? rc : canonical_write(b, n->items, written);
        return rc ? rc : buf_append_byte(b, '}');
    case SLUICE_AVRO_MAP:
        rc = buf_append_str(b, "{\"type\":\"map\",\"values\":");
        rc = rc ? rc : canonical_write(b, n->values, written);
        return rc ? rc : buf_append_byte(b, '}');
    case SLUICE_AVRO_UNION:
        rc = buf_append_byte(b, '[');
        for (size_t i = 0; i < n->n_branches && !rc; i++) {
            rc = i ? buf_append_byte(b, ',') : 0;
            rc = rc ? rc : canonical_write(b, n->branches[i], written);
        }
        return rc ? rc : buf_append_byte(b, ']');
    }
    return SLUICE_EINTERNAL;
}

/* CRC-64-AVRO (spec, "Schema Fingerprints"): a Rabin fingerprint with the
 * polynomial the spec gives as EMPTY. The 256-entry table is rebuilt per
 * call: it is cheap next to parsing and keeps the module free of shared
 * mutable state. */
static uint64_t crc64_avro(const char *data, size_t len)
{
    const uint64_t empty = 0xc15d213aa4d7a795ULL;
    uint64_t table[256];
    for (int i = 0; i < 256; i++) {
        uint64_t fp = (uint64_t)i;
        for (int j = 0; j < 8; j++)
            fp = (fp >> 1) ^ (empty & (0 - (fp & 1)));
        table[i] = fp;
    }
    uint64_t fp = empty;
    for (size_t i = 0; i < len; i++)
        fp = (fp >> 8) ^ table[(fp ^ (unsigned char)data[i]) & 0xff];
    return fp;
}

static int build_forms(parser *p, json_t *doc)
{
    sluice_avro_schema *s = p->s;
    char *norm = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    s->normalized = norm ? arena_strdup(&s->arena, norm) : NULL;
    free(norm);
    if (!s->normalized)
        return sluice_error_set(p->err, SLUICE_ENOMEM, "out of memory normalising schema");

    unsigned char *written = calloc(s->n_named ? s->n_named : 1, 1);
    buf b;
    buf_init(&b, SIZE_MAX);
    int rc = written ? canonical_write(&b, s->root, written) : SLUICE_ENOMEM;
    free(written);
    size_t len = 0;
    char *canon = rc ? NULL : buf_detach(&b, &len);
    buf_free(&b);
    if (!canon)
        return sluice_error_set(p->err, SLUICE_ENOMEM, "out of memory writing canonical form");
    s->canonical = arena_strndup(&s->arena, canon, len);
    s->fingerprint = crc64_avro(canon, len);
    free(canon);
    return s->canonical
               ? 0
               : sluice_error_set(p->err, SLUICE_ENOMEM, "out of memory writing canonical form");
}

/* ---- public API ------------------------------------------------------------ */

int sluice_avro_schema_parse(const char *json, size_t len, sluice_avro_schema **out,
                             sluice_error *err)
{
    if (!out || (!json && len))
        return sluice_error_set(err, SLUICE_EINVAL, "sluice_avro_schema_parse: no input");
    *out = NULL;
    json_error_t jerr;
    /* NUL is allowed inside strings because a bytes default may hold byte 0
     * ("\u0000"); names are checked with their length, so a NUL in a name is
     * still rejected. Duplicate keys are rejected: which one wins would be
     * up to the JSON library, and two readers could disagree. */
    json_t *doc = json_loadb(json ? json : "", len,
                             JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!doc)
        return sluice_error_set(err, SLUICE_EINVAL, "invalid JSON at line %d, column %d: %s",
                                jerr.line, jerr.column, jerr.text);

    sluice_avro_schema *s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(doc);
        return sluice_error_set(err, SLUICE_ENOMEM, "out of memory parsing schema");
    }
    arena_init(&s->arena, 8192, SIZE_MAX);
    parser p = {.s = s, .err = err};
    strcpy(p.path, "$");
    p.path_len = 1;

    int rc = SLUICE_EINVAL;
    node_ex *root = parse_type(&p, doc, "", 1);
    if (root) {
        s->root = &root->pub;
        rc = check_pending_defaults(&p);
        if (rc == 0) rc = build_forms(&p, doc);
    } else {
        rc = p.code ? p.code : SLUICE_EINTERNAL;
    }
    free(p.pending);
    json_decref(doc);
    if (rc) {
        sluice_avro_schema_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sluice_avro_schema_free(sluice_avro_schema *schema)
{
    if (!schema) return;
    arena_free(&schema->arena);
    free(schema->named);
    free(schema->slots);
    free(schema);
}

const sluice_avro_node *sluice_avro_schema_root(const sluice_avro_schema *schema)
{
    return schema ? schema->root : NULL;
}

const sluice_avro_node *sluice_avro_schema_named(const sluice_avro_schema *schema,
                                                 const char *fullname)
{
    if (!schema || !fullname) return NULL;
    node_ex *n = named_find(schema, fullname);
    return n ? &n->pub : NULL;
}

const char *sluice_avro_schema_normalized(const sluice_avro_schema *schema)
{
    return schema ? schema->normalized : NULL;
}

const char *sluice_avro_schema_canonical(const sluice_avro_schema *schema)
{
    return schema ? schema->canonical : NULL;
}

uint64_t sluice_avro_schema_fingerprint(const sluice_avro_schema *schema)
{
    return schema ? schema->fingerprint : 0;
}
