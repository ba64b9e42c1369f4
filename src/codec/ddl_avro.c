/*
 * ddl_avro.c — the Avro front end of `sluice ddl` (ddl_columns.h): the columns the
 * sink's plan compiler (plan_compile.c) maps an Avro record onto, then that plan
 * compiled against them as proof.
 *
 * The walk follows plan_compile.c's map_value / map_record / map_nested / map_map
 * decision by decision, proposing at each the column the compiler looks
 * for by name:
 *   record            flattened: one column per field, "parent<sep>field"
 *   array of records  Nested: "name<sep>field" Array(T) per field of the
 *                     items (a Nested(...) group under '.')
 *   array of T        Array(T)
 *   map of T          Map(String, T) where the server has Map (21.1+), else
 *                     "name<sep>keys" Array(String) + "name<sep>values" Array(T)
 *   [null, T]         Nullable(T) for scalars; a record's columns each
 *                     Nullable; arrays and maps stay as they are (NULL is
 *                     written as the empty array, as the sink does)
 *   other unions      String (the branch's value as text, records as JSON)
 *   a record met again inside itself, or inside an array's or map's items:
 *                     String (its JSON), as the compiler writes it
 * Scalars take the types the sink's fast paths are built for: boolean
 * UInt8 (Bool from 21.12), int Int32, long Int64, float Float32, double
 * Float64, string and bytes String, enum Enum8/Enum16 with Avro's ordinals
 * as values (String past 32 768 symbols), fixed FixedString(N); logical
 * types: date Date, timestamp-millis/micros DateTime64(3)/(6) from 20.1
 * (DateTime before, whole seconds), time-millis Int32 and time-micros Int64
 * (ClickHouse has no time of day), uuid UUID, decimal(P, S) Decimal(P, S)
 * (String past precision 38).
 *
 * Then plan_compile_avro runs on the proposal with extra fields rejected:
 * every field must land in a column and every column must be fed, or the
 * proposal is an internal error. If plan_compile.c's rules change, this walk must
 * follow, and tests/unit/test_ddl_mapping.c and tests/integration/test_ddl.c (which
 * runs the real sink into a table made from this output) say so.
 */
#include "codec/ddl_columns.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct walker {
    const ddl_options *opt;
    ddl_columns *out;
    sluice_error *err;
    arena scratch; /* names and types while walking; ddl_columns_add copies them */
    const sluice_avro_node *path[SLUICE_AVRO_MAX_DEPTH + 1]; /* records being flattened */
    int depth;
} walker;

static int walk_field(walker *w, const sluice_avro_node *t, const char *name, const char *src,
                      int nullable);

/* printf into the walker's arena; NULL (and err set) when out of memory. */
static const char *fmt(walker *w, const char *format, ...) __attribute__((format(printf, 2, 3)));
static const char *fmt(walker *w, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(NULL, 0, format, ap);
    va_end(ap);
    char *s = n >= 0 ? arena_alloc(&w->scratch, (size_t)n + 1, 1) : NULL;
    if (!s) {
        sluice_error_set(w->err, SLUICE_ENOMEM, "out of memory");
        return NULL;
    }
    va_start(ap, format);
    vsnprintf(s, (size_t)n + 1, format, ap);
    va_end(ap);
    return s;
}

static int on_path(const walker *w, const sluice_avro_node *record)
{
    for (int i = 0; i < w->depth; i++)
        if (w->path[i] == record) return 1;
    return 0;
}

/* The one non-null branch of a [null, T] union (*has_null set), NULL when
 * the union has several (or no) non-null branches. Non-unions: themselves. */
static const sluice_avro_node *nullable_branch(const sluice_avro_node *t, int *has_null)
{
    *has_null = 0;
    if (t->type != SLUICE_AVRO_UNION) return t;
    const sluice_avro_node *only = NULL;
    size_t others = 0;
    for (size_t i = 0; i < t->n_branches; i++) {
        if (t->branches[i]->type == SLUICE_AVRO_NULL) {
            *has_null = 1;
        } else {
            only = t->branches[i];
            others++;
        }
    }
    return others == 1 ? only : NULL;
}

static const char *enum_type(walker *w, const sluice_avro_node *t)
{
    if (t->n_symbols > 32768 || t->n_symbols == 0) return "String";
    /* Avro symbols are [A-Za-z_][A-Za-z0-9_]*: nothing to escape. */
    const char *s = fmt(w, "Enum%d(", t->n_symbols <= 128 ? 8 : 16);
    for (size_t i = 0; i < t->n_symbols && s; i++)
        s = fmt(w, "%s%s'%s' = %zu", s, i ? ", " : "", t->symbols[i], i);
    return s ? fmt(w, "%s)", s) : NULL;
}

/* A scalar's ClickHouse type (no Nullable). */
static const char *scalar_type(walker *w, const sluice_avro_node *t)
{
    const ch_features *f = &w->opt->features;
    switch (t->logical) {
    case SLUICE_AVRO_LOGICAL_DATE:
        return "Date";
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
        return f->datetime64 ? "DateTime64(3)" : "DateTime";
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MICROS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS:
        return f->datetime64 ? "DateTime64(6)" : "DateTime";
    case SLUICE_AVRO_LOGICAL_UUID:
        return "UUID";
    case SLUICE_AVRO_LOGICAL_DECIMAL:
        if (t->precision >= 1 && t->precision <= 38)
            return fmt(w, "Decimal(%d, %d)", t->precision, t->scale);
        return "String";
    default:
        break; /* time-millis/micros: their integer type below */
    }
    switch (t->type) {
    case SLUICE_AVRO_BOOLEAN:
        return f->bool_type ? "Bool" : "UInt8";
    case SLUICE_AVRO_INT:
        return "Int32";
    case SLUICE_AVRO_LONG:
        return "Int64";
    case SLUICE_AVRO_FLOAT:
        return "Float32";
    case SLUICE_AVRO_DOUBLE:
        return "Float64";
    case SLUICE_AVRO_FIXED:
        return fmt(w, "FixedString(%zu)", t->size);
    case SLUICE_AVRO_ENUM:
        return enum_type(w, t);
    default: /* null (always NULL), string, bytes */
        return "String";
    }
}

static const char *maybe_nullable(walker *w, const char *type, int nullable)
{
    return type && nullable ? fmt(w, "Nullable(%s)", type) : type;
}

/* The type of one element inside an Array or Map column (plan_compile.c's `level`
 * below an array): scalars as above, Nullable for [null, scalar], nested
 * arrays as Array, maps as Map where the server has it, and records, maps
 * without Map and several-branch unions as String (JSON / text). NULL on
 * error (err set). */
static const char *item_type(walker *w, const sluice_avro_node *t, int depth)
{
    if (depth > SLUICE_AVRO_MAX_DEPTH) {
        sluice_error_set(w->err, SLUICE_EINVAL, "the schema nests deeper than %d levels",
                         SLUICE_AVRO_MAX_DEPTH);
        return NULL;
    }
    int has_null;
    const sluice_avro_node *b = nullable_branch(t, &has_null);
    if (!b) return maybe_nullable(w, "String", has_null);
    const char *inner;
    switch (b->type) {
    case SLUICE_AVRO_ARRAY:
        inner = item_type(w, b->items, depth + 1);
        return inner ? fmt(w, "Array(%s)", inner) : NULL;
    case SLUICE_AVRO_MAP:
        if (!w->opt->features.map) return maybe_nullable(w, "String", has_null);
        inner = item_type(w, b->values, depth + 1);
        return inner ? fmt(w, "Map(String, %s)", inner) : NULL;
    case SLUICE_AVRO_RECORD:
        return maybe_nullable(w, "String", has_null);
    default:
        return maybe_nullable(w, scalar_type(w, b), has_null);
    }
}

static const char *join(walker *w, const char *prefix, const char *name)
{
    return *prefix ? fmt(w, "%s%c%s", prefix, w->opt->separator, name) : fmt(w, "%s", name);
}

static int add(walker *w, const char *name, const char *type, const char *src)
{
    if (!name || !type || !src) return w->err->code ? w->err->code : SLUICE_ENOMEM;
    return ddl_columns_add(w->out, name, type, NULL, NULL, NULL, src, w->err);
}

/* A column of a group (ddl_columns_add_grouped); elem NULL: item_type
 * failed (err set). */
static int add_grouped(walker *w, const char *name, const char *sub, const char *elem,
                       const char *src)
{
    if (!elem || !src) return w->err->code ? w->err->code : SLUICE_ENOMEM;
    return ddl_columns_add_grouped(w->out, w->opt->separator, name, sub, elem, src, w->err);
}

/* An array of records: one Array column per field of the items (plan_compile.c's
 * map_nested and map_record with array_level). */
static int walk_nested(walker *w, const sluice_avro_node *items, const char *name, const char *src)
{
    for (size_t i = 0; i < items->n_fields; i++) {
        const sluice_avro_field *f = &items->fields[i];
        int rc = add_grouped(w, name, f->name, item_type(w, f->type, 0),
                             fmt(w, "%s[].%s", src, f->name));
        if (rc) return rc;
    }
    return 0;
}

static int walk_record(walker *w, const sluice_avro_node *t, const char *prefix, const char *src,
                       int nullable)
{
    if (w->depth >= SLUICE_AVRO_MAX_DEPTH)
        return sluice_error_set(w->err, SLUICE_EINVAL, "%s nests deeper than %d levels", src,
                                SLUICE_AVRO_MAX_DEPTH);
    w->path[w->depth++] = t;
    int rc = 0;
    for (size_t i = 0; i < t->n_fields && rc == 0; i++) {
        const char *name = join(w, prefix, t->fields[i].name);
        const char *fsrc = fmt(w, "%s.%s", src, t->fields[i].name);
        rc = name && fsrc ? walk_field(w, t->fields[i].type, name, fsrc, nullable) : SLUICE_ENOMEM;
    }
    w->depth--;
    return rc;
}

/* One top-level (flattened) field: plan_compile.c's map_value with no column yet. */
static int walk_field(walker *w, const sluice_avro_node *t, const char *name, const char *src,
                      int nullable)
{
    int has_null;
    const sluice_avro_node *b = nullable_branch(t, &has_null);
    nullable |= has_null;
    if (!b) /* several branches: their values as text in one column */
        return add(w, name, maybe_nullable(w, "String", nullable), src);
    switch (b->type) {
    case SLUICE_AVRO_RECORD:
        if (on_path(w, b)) /* recursive: the value's JSON */
            return add(w, name, maybe_nullable(w, "String", nullable), src);
        return walk_record(w, b, name, src, nullable);
    case SLUICE_AVRO_ARRAY: {
        if (b->items->type == SLUICE_AVRO_RECORD && !on_path(w, b->items))
            return walk_nested(w, b->items, name, src);
        const char *elem = item_type(w, b->items, 0);
        return add(w, name, elem ? fmt(w, "Array(%s)", elem) : NULL, src);
    }
    case SLUICE_AVRO_MAP: {
        const char *elem = item_type(w, b->values, 0);
        if (w->opt->features.map)
            return add(w, name, elem ? fmt(w, "Map(String, %s)", elem) : NULL, src);
        int rc = add_grouped(w, name, "keys", "String", fmt(w, "%s (keys)", src));
        return rc ? rc : add_grouped(w, name, "values", elem, fmt(w, "%s (values)", src));
    }
    default:
        return add(w, name, maybe_nullable(w, scalar_type(w, b), nullable), src);
    }
}

/* The proof: the sink's plan compiler maps every field onto these columns
 * (extra fields rejected) and writes every one of them. */
static int check_with_plan(const sluice_avro_node *root, const ddl_options *opt,
                           const ddl_columns *cols, sluice_error *err)
{
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    plan_column *pc = NULL;
    int rc = ddl_plan_columns(cols, &a, &pc, err);
    plan *p = NULL;
    plan_options po = {
        .separator = opt->separator, .extra_fields = PLAN_EXTRA_REJECT, .route = "sluice ddl"};
    sluice_error pe;
    if (rc == 0 && plan_compile_avro(root, NULL, pc, cols->n, &po, &p, &pe) != 0)
        rc = sluice_error_set(err, SLUICE_EINTERNAL,
                              "the sink would not accept these columns (a bug in sluice ddl): %s",
                              pe.msg);
    if (rc == 0) rc = ddl_check_written(p, cols, err);
    plan_free(p);
    free(pc);
    arena_free(&a);
    return rc;
}

int ddl_columns_for_avro(const sluice_avro_node *root, const ddl_options *opt, ddl_columns *out,
                         sluice_error *err)
{
    if (root->type != SLUICE_AVRO_RECORD)
        return sluice_error_set(err, SLUICE_EINVAL,
                                "the schema is %s, not a record: the sink maps a record's fields "
                                "onto columns",
                                sluice_avro_type_name(root->type));
    if (opt->separator != '.' && opt->separator != '_')
        return sluice_error_set(err, SLUICE_EINVAL, "the separator must be '.' or '_'");
    sluice_error local;
    if (!err) err = &local;
    sluice_error_clear(err);
    walker w = {.opt = opt, .out = out, .err = err};
    arena_init(&w.scratch, 4096, SIZE_MAX);
    int rc = walk_record(&w, root, "", "$", 0);
    arena_free(&w.scratch);
    return rc ? rc : check_with_plan(root, opt, out, err);
}
