/*
 * json_schema_validate.c — JSON Schema validation on the streaming reader
 * (json_schema_validate.h has the subset and the contract).
 *
 * Compiling walks the schema graph from the root (following properties,
 * additionalProperties, items and $refs, each node once, with an explicit
 * work list so a deep or recursive schema costs no stack) into one `jv`
 * per schema node: the property names with a hash index when there are
 * many, the required names, the enum/const values decoded (strings, numbers
 * and literals compared as values; an object or array value kept as a
 * jansson tree), the pattern compiled by regcomp(3), the format as a code.
 * Everything it cannot check is refused here, by keyword and place.
 *
 * Running follows the value with the schema: a scalar is read and checked;
 * an object's members are looked up as they come (each key checked for
 * duplicates as jansson would) and the required ones counted; an array's
 * items are checked in turn. A value whose schema is `true` (or a property
 * nobody constrains) is only skipped, i.e. still read and proved to be
 * JSON. Errors are collected, not stopped at; past AVRO_JSON_MAX_ERRORS
 * the walk stops and the rest of the value is skipped. The one place a
 * value is read twice is an enum or const holding an object or array: its
 * text is parsed by jansson after the walk and compared as a tree (cold,
 * rare).
 *
 * Threads: the compiled validator is read-only; regexec(3) may be called
 * on one regex_t from several threads.
 */
#include "codec/json_schema_validate.h"

#include "codec/avro_text.h"
#include "codec/iso8601.h"
#include "common/arena.h"

#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FMT_NONE, FMT_DATE_TIME, FMT_DATE, FMT_UUID };
enum { ADD_ANY, ADD_NONE, ADD_SCHEMA };
#define STOP (-1)
#define INDEX_AT 8 /* objects with more properties than this get a hash index */

typedef struct jv jv;

typedef struct jv_value {
    json_vkind kind;
    const char *s; /* string, decoded */
    size_t len;
    double d;         /* number */
    bool int_ok;      /* number: an integer within int64 */
    int64_t i;        /* ... that integer */
    json_t *tree;     /* object or array */
    const char *text; /* as the schema wrote it (canonical), for messages */
} jv_value;

typedef struct jv_prop {
    const char *name;
    size_t len;
    const jv *schema; /* NULL: only named by "required" */
    bool required;
} jv_prop;

struct jv {
    const json_schema_node *src;
    int boolean; /* 1: true, 0: false, -1: an object schema */
    unsigned types;
    jv_prop *props;
    size_t n_props;
    uint32_t *index; /* hash of name -> prop index + 1 */
    size_t index_mask;
    int additional;
    const jv *additional_schema;
    const jv *items;
    const jv **tuple;
    size_t n_tuple;
    bool is_tuple;
    json_schema_bound min_items, max_items, min_len, max_len;
    json_schema_bound minimum, maximum, xmin, xmax;
    regex_t *re;
    const char *pattern;
    int format;
    jv_value *values;
    size_t n_values;
    bool has_values, is_const;
};

struct json_validator {
    arena a;
    const jv *root;
    regex_t **regexes;
    size_t n_regexes, cap_regexes;
    json_t **trees;
    size_t n_trees, cap_trees;
};

/* ---- compiling ---------------------------------------------------------------------------- */

typedef struct comp {
    json_validator *v;
    sluice_error *err;
    /* node -> jv, open addressing on the pointer */
    const json_schema_node **keys;
    jv **vals;
    size_t cap;
    size_t n;
    /* work list of jvs whose node is still to be read */
    jv **todo;
    size_t n_todo, cap_todo;
} comp;

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static size_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static int grow_map(comp *c)
{
    size_t cap = c->cap ? c->cap * 2 : 64;
    const json_schema_node **keys = calloc(cap, sizeof *keys);
    jv **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return SLUICE_ENOMEM;
    }
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->keys[i]) continue;
        size_t h = ptr_hash(c->keys[i]) & (cap - 1);
        while (keys[h])
            h = (h + 1) & (cap - 1);
        keys[h] = c->keys[i];
        vals[h] = c->vals[i];
    }
    free(c->keys);
    free(c->vals);
    c->keys = keys;
    c->vals = vals;
    c->cap = cap;
    return 0;
}

/* The jv of node n (after its $refs), made and queued the first time. */
static jv *jv_for(comp *c, const json_schema_node *n)
{
    n = json_schema_deref(n);
    if (c->n * 2 >= c->cap && grow_map(c) != 0) return NULL;
    size_t h = ptr_hash(n) & (c->cap - 1);
    while (c->keys[h]) {
        if (c->keys[h] == n) return c->vals[h];
        h = (h + 1) & (c->cap - 1);
    }
    jv *j = arena_calloc(&c->v->a, 1, sizeof *j, _Alignof(jv));
    if (!j) return NULL;
    j->src = n;
    c->keys[h] = n;
    c->vals[h] = j;
    c->n++;
    if (c->n_todo == c->cap_todo) {
        size_t cap = c->cap_todo ? c->cap_todo * 2 : 64;
        jv **t = realloc(c->todo, cap * sizeof *t);
        if (!t) return NULL;
        c->todo = t;
        c->cap_todo = cap;
    }
    c->todo[c->n_todo++] = j;
    return j;
}

static int refuse(comp *c, const json_schema_node *n, const char *keyword, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(comp *c, const json_schema_node *n, const char *keyword, const char *fmt, ...)
{
    char why[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return sluice_error_set(c->err, SLUICE_EUNSUPPORTED, "%s%s/%s: %s",
                            n->document ? n->document : "", n->path ? n->path : "#", keyword, why);
}

/* Keywords that validate and are outside the subset. */
static int refuse_unsupported(comp *c, const json_schema_node *n)
{
    static const char *const why = "not supported by sluice's JSON Schema validator";
    const struct {
        bool present;
        const char *keyword;
    } k[] = {
        {n->n_pattern_props > 0, "patternProperties"},
        {n->property_names != NULL, "propertyNames"},
        {n->n_deps > 0, "dependencies"},
        {n->min_properties.has, "minProperties"},
        {n->max_properties.has, "maxProperties"},
        {n->contains != NULL, "contains"},
        {n->unique_items, "uniqueItems"},
        {n->additional_items != NULL, "additionalItems"},
        {n->multiple_of.has, "multipleOf"},
        {n->n_all_of > 0, "allOf"},
        {n->n_any_of > 0, "anyOf"},
        {n->n_one_of > 0, "oneOf"},
        {n->not_ != NULL, "not"},
        {n->if_ != NULL, "if"},
        {n->then_ != NULL, "then"},
        {n->else_ != NULL, "else"},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (k[i].present) return refuse(c, n, k[i].keyword, "keyword %s is %s", k[i].keyword, why);
    if (n->n_newer_keywords)
        return refuse(c, n, n->newer_keywords[0],
                      "keyword %s (JSON Schema 2019-09 and later) is %s", n->newer_keywords[0],
                      why);
    return 0;
}

/* ECMA-262 and POSIX agree on punctuation escapes; not on \d, \w, \1,
 * \u...., or on (?...), so those are refused rather than misread. */
static const char *ecma_only(const char *p)
{
    for (; *p; p++) {
        if (p[0] == '\\' && p[1]) {
            char e = p[1];
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))
                return "a backslash before a letter or digit (ECMA-262 escapes such as \\d read "
                       "otherwise in POSIX; write [0-9])";
            p++;
        } else if (p[0] == '(' && p[1] == '?') {
            return "\"(?\" (lookarounds and non-capturing groups are not POSIX)";
        }
    }
    return NULL;
}

static int keep_regex(comp *c, regex_t *re)
{
    json_validator *v = c->v;
    if (v->n_regexes == v->cap_regexes) {
        size_t cap = v->cap_regexes ? v->cap_regexes * 2 : 8;
        regex_t **r = realloc(v->regexes, cap * sizeof *r);
        if (!r) return SLUICE_ENOMEM;
        v->regexes = r;
        v->cap_regexes = cap;
    }
    v->regexes[v->n_regexes++] = re;
    return 0;
}

static int keep_tree(comp *c, json_t *t)
{
    json_validator *v = c->v;
    if (v->n_trees == v->cap_trees) {
        size_t cap = v->cap_trees ? v->cap_trees * 2 : 8;
        json_t **r = realloc(v->trees, cap * sizeof *r);
        if (!r) return SLUICE_ENOMEM;
        v->trees = r;
        v->cap_trees = cap;
    }
    v->trees[v->n_trees++] = t;
    return 0;
}

static int compile_pattern(comp *c, jv *j, const json_schema_node *n)
{
    const char *why = ecma_only(n->pattern);
    if (why) return refuse(c, n, "pattern", "pattern '%.100s' has %s", n->pattern, why);
    regex_t *re = malloc(sizeof *re);
    if (!re) return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
    int rc = regcomp(re, n->pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[160];
        regerror(rc, re, msg, sizeof msg);
        free(re);
        return refuse(c, n, "pattern",
                      "pattern '%.100s' is not a POSIX extended regular expression: %s", n->pattern,
                      msg);
    }
    if (keep_regex(c, re) != 0) {
        regfree(re);
        free(re);
        return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
    }
    j->re = re;
    j->pattern = n->pattern;
    return 0;
}

static int compile_values(comp *c, jv *j, const json_schema_node *n)
{
    size_t count = n->const_value ? 1 : n->n_enum;
    const char *const *texts = n->const_value ? &n->const_value : n->enum_values;
    j->values = arena_calloc(&c->v->a, count ? count : 1, sizeof *j->values, _Alignof(jv_value));
    if (!j->values) return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        json_error_t je;
        json_t *t = json_loads(texts[i], JSON_DECODE_ANY, &je);
        if (!t) return sluice_error_set(c->err, SLUICE_EINTERNAL, "enum value does not parse");
        jv_value *val = &j->values[i];
        val->text = texts[i];
        switch (json_typeof(t)) {
        case JSON_STRING:
            val->kind = JSON_V_STRING;
            val->len = json_string_length(t);
            val->s = arena_strndup(&c->v->a, json_string_value(t), val->len);
            break;
        case JSON_INTEGER:
            val->kind = JSON_V_NUMBER;
            val->int_ok = true;
            val->i = json_integer_value(t);
            val->d = (double)val->i;
            break;
        case JSON_REAL:
            val->kind = JSON_V_NUMBER;
            val->d = json_real_value(t);
            break;
        case JSON_TRUE:
            val->kind = JSON_V_TRUE;
            break;
        case JSON_FALSE:
            val->kind = JSON_V_FALSE;
            break;
        case JSON_NULL:
            val->kind = JSON_V_NULL;
            break;
        default:
            val->kind = json_is_object(t) ? JSON_V_OBJECT : JSON_V_ARRAY;
            val->tree = t;
            if (keep_tree(c, t) != 0) {
                json_decref(t);
                return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
            }
            continue; /* kept */
        }
        json_decref(t);
        if (val->kind == JSON_V_STRING && !val->s)
            return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
    }
    j->n_values = count;
    j->has_values = true;
    j->is_const = n->const_value != NULL;
    return 0;
}

static int compile_props(comp *c, jv *j, const json_schema_node *n)
{
    arena *a = &c->v->a;
    size_t extra = 0;
    for (size_t i = 0; i < n->n_required; i++) {
        bool declared = false;
        for (size_t k = 0; k < n->n_props && !declared; k++)
            declared = strcmp(n->props[k].name, n->required[i]) == 0;
        extra += !declared;
    }
    size_t total = n->n_props + extra;
    j->props = arena_calloc(a, total ? total : 1, sizeof *j->props, _Alignof(jv_prop));
    if (!j->props) return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n->n_props; i++) {
        jv_prop *p = &j->props[j->n_props++];
        p->name = n->props[i].name;
        p->len = strlen(p->name);
        if (!(p->schema = jv_for(c, n->props[i].schema)))
            return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n->n_required; i++) {
        jv_prop *p = NULL;
        for (size_t k = 0; k < j->n_props && !p; k++)
            if (strcmp(j->props[k].name, n->required[i]) == 0) p = &j->props[k];
        if (!p) { /* required, but not among the properties: any value */
            p = &j->props[j->n_props++];
            p->name = n->required[i];
            p->len = strlen(p->name);
            p->schema = NULL;
        }
        p->required = true;
    }
    if (j->n_props > INDEX_AT) {
        size_t cap = 16;
        while (cap < j->n_props * 2)
            cap *= 2;
        j->index = arena_calloc(a, cap, sizeof *j->index, _Alignof(uint32_t));
        if (!j->index) return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
        j->index_mask = cap - 1;
        for (size_t i = 0; i < j->n_props; i++) {
            size_t h = name_hash(j->props[i].name, j->props[i].len) & j->index_mask;
            while (j->index[h])
                h = (h + 1) & j->index_mask;
            j->index[h] = (uint32_t)i + 1;
        }
    }
    return 0;
}

static int compile_node(comp *c, jv *j)
{
    const json_schema_node *n = j->src;
    j->boolean = n->boolean;
    if (n->boolean >= 0) return 0;
    int rc = refuse_unsupported(c, n);
    if (rc) return rc;
    if (n->format) {
        if (strcmp(n->format, "date-time") == 0)
            j->format = FMT_DATE_TIME;
        else if (strcmp(n->format, "date") == 0)
            j->format = FMT_DATE;
        else if (strcmp(n->format, "uuid") == 0)
            j->format = FMT_UUID;
        else
            return refuse(c, n, "format",
                          "format '%.60s' is not supported by sluice's JSON Schema validator "
                          "(date-time, date and uuid are)",
                          n->format);
    }
    if (n->pattern && (rc = compile_pattern(c, j, n)) != 0) return rc;
    j->types = n->types;
    if ((rc = compile_props(c, j, n)) != 0) return rc;
    j->additional = ADD_ANY;
    if (n->additional_properties) {
        const json_schema_node *ap = json_schema_deref(n->additional_properties);
        if (ap->boolean == 0) {
            j->additional = ADD_NONE;
        } else if (ap->boolean < 0) {
            j->additional = ADD_SCHEMA;
            if (!(j->additional_schema = jv_for(c, ap)))
                return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
        }
    }
    if (n->items_is_tuple) {
        j->is_tuple = true;
        j->n_tuple = n->n_tuple_items;
        j->tuple =
            arena_calloc(&c->v->a, j->n_tuple ? j->n_tuple : 1, sizeof *j->tuple, _Alignof(jv *));
        if (!j->tuple) return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
        for (size_t i = 0; i < j->n_tuple; i++)
            if (!(j->tuple[i] = jv_for(c, n->tuple_items[i])))
                return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
    } else if (n->items && !(j->items = jv_for(c, n->items))) {
        return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
    }
    j->min_items = n->min_items;
    j->max_items = n->max_items;
    j->min_len = n->min_length;
    j->max_len = n->max_length;
    j->minimum = n->minimum;
    j->maximum = n->maximum;
    j->xmin = n->exclusive_minimum;
    j->xmax = n->exclusive_maximum;
    if ((n->has_enum || n->const_value) && (rc = compile_values(c, j, n)) != 0) return rc;
    return 0;
}

int json_validator_compile(const json_schema *schema, json_validator **out, sluice_error *err)
{
    *out = NULL;
    json_validator *v = calloc(1, sizeof *v);
    if (!v) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    arena_init(&v->a, 8192, SIZE_MAX);
    comp c = {.v = v, .err = err};
    int rc = 0;
    if (!(v->root = jv_for(&c, json_schema_root(schema))))
        rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < c.n_todo; i++)
        rc = compile_node(&c, c.todo[i]);
    free(c.keys);
    free(c.vals);
    free(c.todo);
    if (rc) {
        json_validator_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

void json_validator_free(json_validator *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->n_regexes; i++) {
        regfree(v->regexes[i]);
        free(v->regexes[i]);
    }
    free(v->regexes);
    for (size_t i = 0; i < v->n_trees; i++)
        json_decref(v->trees[i]);
    free(v->trees);
    arena_free(&v->a);
    free(v);
}

/* ---- running ------------------------------------------------------------------------------ */

typedef struct vrun {
    json_lex *lx;
    avro_json_errors *errs;
    size_t n_errors;
    bool stopped; /* too many errors: the walk gave up */
    avro_path path;
} vrun;

static int verr(vrun *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int verr(vrun *r, const char *fmt, ...)
{
    r->n_errors++;
    if (!r->errs) return 0;
    if (r->errs->n >= AVRO_JSON_MAX_ERRORS) {
        r->errs->truncated = 1;
        r->stopped = true;
        return STOP;
    }
    avro_json_error *e = &r->errs->items[r->errs->n++];
    avro_path_render(&r->path, e->path, sizeof e->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return 0;
}

static const char *kind_name(json_vkind k)
{
    switch (k) {
    case JSON_V_OBJECT:
        return "object";
    case JSON_V_ARRAY:
        return "array";
    case JSON_V_STRING:
        return "string";
    case JSON_V_NUMBER:
        return "number";
    case JSON_V_TRUE:
    case JSON_V_FALSE:
        return "boolean";
    case JSON_V_NULL:
        return "null";
    default:
        return "nothing";
    }
}

static void types_text(unsigned types, char *out, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *name;
    } t[] = {{JSON_SCHEMA_OBJECT, "object"}, {JSON_SCHEMA_ARRAY, "array"},
             {JSON_SCHEMA_STRING, "string"}, {JSON_SCHEMA_INTEGER, "integer"},
             {JSON_SCHEMA_NUMBER, "number"}, {JSON_SCHEMA_BOOLEAN, "boolean"},
             {JSON_SCHEMA_NULL, "null"}};
    size_t n = 0, w = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (types & t[i].bit) n++;
    size_t k = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0] && w < cap; i++) {
        if (!(types & t[i].bit)) continue;
        k++;
        w += (size_t)snprintf(out + w, cap - w, "%s%s",
                              k == 1   ? ""
                              : k == n ? " or "
                                       : ", ",
                              t[i].name);
    }
}

static int shown(size_t len)
{
    return (int)(len > 64 ? 64 : len);
}

/* Is the number integral (1, 1.0, 1e3)? */
static bool is_integral(json_lex *lx, const json_num *num)
{
    if (num->is_int) return true;
    double d;
    json_num_double(lx, num, &d);
    return isfinite(d) && d == floor(d);
}

static bool type_ok(unsigned types, json_vkind k, json_lex *lx, const json_num *num)
{
    switch (k) {
    case JSON_V_NULL:
        return types & JSON_SCHEMA_NULL;
    case JSON_V_TRUE:
    case JSON_V_FALSE:
        return types & JSON_SCHEMA_BOOLEAN;
    case JSON_V_OBJECT:
        return types & JSON_SCHEMA_OBJECT;
    case JSON_V_ARRAY:
        return types & JSON_SCHEMA_ARRAY;
    case JSON_V_STRING:
        return types & JSON_SCHEMA_STRING;
    case JSON_V_NUMBER:
        return (types & JSON_SCHEMA_NUMBER) ||
               ((types & JSON_SCHEMA_INTEGER) && is_integral(lx, num));
    default:
        return false;
    }
}

static size_t code_points(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((uint8_t)s[i] & 0xc0) != 0x80;
    return c;
}

static bool is_uuid(const char *s, size_t n)
{
    if (n != 36) return false;
    for (size_t i = 0; i < 36; i++) {
        char ch = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? ch != '-'
                 : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                     (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return true;
}

static int check_string(vrun *r, const jv *s, const json_str *str)
{
    if (s->min_len.has || s->max_len.has) {
        size_t cp = code_points(str->s, str->len);
        if (s->min_len.has && (double)cp < s->min_len.value &&
            verr(r, "%zu characters, fewer than minLength %.0f", cp, s->min_len.value))
            return STOP;
        if (s->max_len.has && (double)cp > s->max_len.value &&
            verr(r, "%zu characters, more than maxLength %.0f", cp, s->max_len.value))
            return STOP;
    }
    if (s->re) {
        /* A NUL-terminated copy (regexec's callers may assume one, and
         * sanitizers do); REG_STARTEND still matches across a \u0000. */
        char small[256], *copy = str->len < sizeof small ? small : malloc(str->len + 1);
        if (!copy) return STOP;
        memcpy(copy, str->s, str->len);
        copy[str->len] = '\0';
        regmatch_t m[1] = {{.rm_so = 0, .rm_eo = (regoff_t)str->len}};
        int miss = regexec(s->re, copy, 1, m, REG_STARTEND) != 0;
        if (copy != small) free(copy);
        if (miss && verr(r, "'%.*s' does not match the pattern '%.100s'", shown(str->len), str->s,
                         s->pattern))
            return STOP;
    }
    if (s->format == FMT_UUID && !is_uuid(str->s, str->len) &&
        verr(r, "'%.*s' is not a uuid", shown(str->len), str->s))
        return STOP;
    if (s->format == FMT_DATE_TIME || s->format == FMT_DATE) {
        iso8601 t;
        const char *why = iso8601_parse(str->s, str->len, 0, &t);
        bool dt = s->format == FMT_DATE_TIME;
        if (!why && dt && !(t.has_time && t.has_zone)) why = "a date-time needs a time and a zone";
        if (!why && !dt && t.has_time) why = "a date has no time";
        if (why && verr(r, "'%.*s' is not a %s (RFC 3339): %s", shown(str->len), str->s,
                        dt ? "date-time" : "date", why))
            return STOP;
    }
    return 0;
}

static int check_number(vrun *r, const jv *s, json_lex *lx, const json_num *num)
{
    if (!s->minimum.has && !s->maximum.has && !s->xmin.has && !s->xmax.has) return 0;
    double d;
    json_num_double(lx, num, &d);
    const struct {
        const json_schema_bound *b;
        bool bad;
        const char *what;
    } k[] = {
        {&s->minimum, s->minimum.has && d < s->minimum.value, "less than the minimum"},
        {&s->maximum, s->maximum.has && d > s->maximum.value, "greater than the maximum"},
        {&s->xmin, s->xmin.has && d <= s->xmin.value, "not greater than the exclusiveMinimum"},
        {&s->xmax, s->xmax.has && d >= s->xmax.value, "not less than the exclusiveMaximum"},
    };
    for (size_t i = 0; i < 4; i++)
        if (k[i].bad &&
            verr(r, "%.*s is %s %.17g", shown(num->len), num->text, k[i].what, k[i].b->value))
            return STOP;
    return 0;
}

static bool scalar_equal(json_lex *lx, const jv_value *v, json_vkind k, const json_str *str,
                         const json_num *num)
{
    if (k == JSON_V_STRING)
        return v->kind == JSON_V_STRING && v->len == str->len && memcmp(v->s, str->s, v->len) == 0;
    if (k == JSON_V_NUMBER) {
        if (v->kind != JSON_V_NUMBER) return false;
        if (v->int_ok && num->int_ok) return v->i == num->i;
        double d;
        json_num_double(lx, num, &d);
        return d == v->d;
    }
    return v->kind == k;
}

/* enum / const on a container: its text, parsed and compared as trees. */
static int check_tree_values(vrun *r, const jv *s, size_t from, size_t to)
{
    json_error_t je;
    json_t *t = json_loadb(r->lx->base + from, to - from, JSON_DECODE_ANY, &je);
    bool found = false;
    for (size_t i = 0; t && i < s->n_values && !found; i++)
        found = s->values[i].tree && json_equal(s->values[i].tree, t);
    json_decref(t);
    if (found) return 0;
    if (s->is_const) return verr(r, "is not the const value %.100s", s->values[0].text);
    return verr(r, "is not one of the enum values");
}

static int check(vrun *r, const jv *s);

static const jv_prop *find_prop(const jv *s, const char *key, size_t len)
{
    if (s->index) {
        size_t h = name_hash(key, len) & s->index_mask;
        for (uint32_t v; (v = s->index[h]) != 0; h = (h + 1) & s->index_mask) {
            const jv_prop *p = &s->props[v - 1];
            if (p->len == len && memcmp(p->name, key, len) == 0) return p;
        }
        return NULL;
    }
    for (size_t i = 0; i < s->n_props; i++)
        if (s->props[i].len == len && memcmp(s->props[i].name, key, len) == 0) return &s->props[i];
    return NULL;
}

static int check_object(vrun *r, const jv *s)
{
    json_lex *lx = r->lx;
    json_lex_dups dups;
    if (json_lex_open_object(lx, &dups)) return STOP;
    /* a bit per declared property: met in this object (duplicates and
     * required ones) */
    uint64_t small[2] = {0, 0};
    uint64_t *had = small;
    if (s->n_props > 128 && !(had = calloc((s->n_props + 63) / 64, sizeof *had))) return STOP;
    size_t count = 0;
    json_str key;
    int rc;
    while ((rc = json_lex_next_key(lx, &count, &key)) == 1) {
        /* A duplicate among the schema's own properties is found by a bit
         * per property of this object; only other keys go to the reader's
         * check, whose table past 8 keys (allocated per message) was a
         * fifth of the validator's time on a 15-key event (perf). */
        const char *stable = key.s;
        const jv_prop *p = find_prop(s, key.s, key.len);
        if (p) {
            size_t i = (size_t)(p - s->props);
            if (had[i / 64] & (1ull << (i % 64))) {
                json_lex_fail(lx, key.at, "duplicate key \"%.*s\" in an object",
                              (int)(key.len > 64 ? 64 : key.len), key.s);
                rc = STOP;
                break;
            }
            had[i / 64] |= 1ull << (i % 64);
            /* an escaped key is in the reader's scratch: it keeps a copy */
            int escaped = key.s < lx->base || key.s >= lx->text_end;
            if (escaped && json_lex_key_unique(lx, &dups, &key, &stable) != 1) {
                rc = STOP;
                break;
            }
        } else if (json_lex_key_unique(lx, &dups, &key, &stable) != 1) {
            rc = STOP;
            break;
        }
        avro_path_push(&r->path, AVRO_SEG_FIELD, stable, key.len, 0);
        if (p && p->schema) {
            rc = check(r, p->schema);
        } else if (s->additional == ADD_NONE) {
            rc = verr(r, "property '%.*s' is not allowed (additionalProperties is false)",
                      shown(key.len), stable);
            if (rc == 0) rc = json_lex_skip(lx) ? STOP : 0;
        } else if (s->additional == ADD_SCHEMA) {
            rc = check(r, s->additional_schema);
        } else {
            rc = json_lex_skip(lx) ? STOP : 0;
        }
        avro_path_pop(&r->path);
        if (rc) break;
    }
    for (size_t i = 0; rc == 0 && i < s->n_props; i++) {
        const jv_prop *p = &s->props[i];
        if (p->required && !(had[i / 64] & (1ull << (i % 64))))
            rc = verr(r, "missing required property '%.*s'", shown(p->len), p->name);
    }
    if (had != small) free(had);
    return rc < 0 ? STOP : 0;
}

static int check_array(vrun *r, const jv *s)
{
    json_lex *lx = r->lx;
    if (json_lex_open_array(lx)) return STOP;
    size_t count = 0;
    int rc;
    while ((rc = json_lex_next_item(lx, &count)) == 1) {
        size_t i = count - 1;
        const jv *item = s->is_tuple ? (i < s->n_tuple ? s->tuple[i] : NULL) : s->items;
        avro_path_push(&r->path, AVRO_SEG_INDEX, NULL, 0, i);
        rc = item ? check(r, item) : (json_lex_skip(lx) ? STOP : 0);
        avro_path_pop(&r->path);
        if (rc) return STOP;
    }
    if (rc < 0) return STOP;
    if (s->min_items.has && (double)count < s->min_items.value &&
        verr(r, "%zu items, fewer than minItems %.0f", count, s->min_items.value))
        return STOP;
    if (s->max_items.has && (double)count > s->max_items.value &&
        verr(r, "%zu items, more than maxItems %.0f", count, s->max_items.value))
        return STOP;
    return 0;
}

static int check(vrun *r, const jv *s)
{
    json_lex *lx = r->lx;
    json_vkind k = json_lex_peek(lx);
    if (k == JSON_V_NONE) {
        json_lex_skip(lx); /* records the syntax error */
        return STOP;
    }
    if (s->boolean == 1) return json_lex_skip(lx) ? STOP : 0;
    if (s->boolean == 0) {
        if (verr(r, "no value is allowed here (the schema is false)")) return STOP;
        return json_lex_skip(lx) ? STOP : 0;
    }
    json_str str = {0};
    json_num num = {0};
    size_t start = json_lex_offset(lx);
    switch (k) {
    case JSON_V_STRING:
        if (json_lex_string(lx, &str)) return STOP;
        break;
    case JSON_V_NUMBER:
        if (json_lex_number(lx, &num)) return STOP;
        break;
    case JSON_V_TRUE:
    case JSON_V_FALSE:
    case JSON_V_NULL:
        if (json_lex_literal(lx) == JSON_V_NONE) return STOP;
        break;
    default:
        break;
    }
    if (s->types && !type_ok(s->types, k, lx, &num)) {
        char want[80];
        types_text(s->types, want, sizeof want);
        int rc = k == JSON_V_NUMBER
                     ? verr(r, "expected %s, got number %.*s", want, shown(num.len), num.text)
                     : verr(r, "expected %s, got %s", want, kind_name(k));
        if (rc) return STOP;
        if (k == JSON_V_OBJECT || k == JSON_V_ARRAY) return json_lex_skip(lx) ? STOP : 0;
        return 0;
    }
    int rc = 0;
    switch (k) {
    case JSON_V_STRING:
        rc = check_string(r, s, &str);
        break;
    case JSON_V_NUMBER:
        rc = check_number(r, s, lx, &num);
        break;
    case JSON_V_OBJECT:
        rc = check_object(r, s);
        break;
    case JSON_V_ARRAY:
        rc = check_array(r, s);
        break;
    default:
        break;
    }
    if (rc || !s->has_values) return rc;
    if (k == JSON_V_OBJECT || k == JSON_V_ARRAY)
        return check_tree_values(r, s, start, json_lex_offset(lx));
    for (size_t i = 0; i < s->n_values; i++)
        if (scalar_equal(lx, &s->values[i], k, &str, &num)) return 0;
    if (s->is_const) return verr(r, "is not the const value %.100s", s->values[0].text);
    if (k == JSON_V_STRING)
        return verr(r, "'%.*s' is not one of the enum values", shown(str.len), str.s);
    if (k == JSON_V_NUMBER)
        return verr(r, "%.*s is not one of the enum values", shown(num.len), num.text);
    return verr(r, "%s is not one of the enum values",
                k == JSON_V_TRUE    ? "true"
                : k == JSON_V_FALSE ? "false"
                                    : "null");
}

int json_validator_run(const json_validator *v, json_lex *lx, avro_json_errors *errs)
{
    vrun r = {.lx = lx, .errs = errs};
    if (errs) {
        errs->n = 0;
        errs->truncated = 0;
    }
    json_lex_ws(lx);
    size_t at = json_lex_offset(lx);
    int depth = lx->depth;
    int rc = check(&r, v->root);
    if (lx->err) return SLUICE_EPARSE;
    if (rc == 0 && r.n_errors == 0) return 0;
    if (r.stopped || rc == STOP) {
        /* The walk stopped part-way: read the rest so the caller is past
         * the value (and learns if it is malformed further on). */
        lx->p = lx->base + at;
        lx->depth = depth;
        if (json_lex_skip(lx)) return SLUICE_EPARSE;
    }
    return SLUICE_EINVAL;
}
