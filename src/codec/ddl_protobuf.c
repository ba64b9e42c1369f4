/*
 * ddl_protobuf.c — the Protobuf front end of `sluice ddl` (ddl_columns.h): the
 * columns the sink's Protobuf plan (plan_proto_compile.c) feeds from one
 * message type, then that plan compiled against them as proof.
 *
 * The walk follows compile_message / compile_field / compile_nested /
 * compile_map decision by decision, proposing the column each looks for
 * by name (the field's name, joined to its parents' with the separator):
 *   singular message     flattened: one column per field, "parent<sep>field"
 *   repeated message     Nested-style: one Array column per field of the
 *                        items, "name<sep>field" (a Nested(...) group under
 *                        '.'); a repeated scalar inside: Array(Array(T))
 *   repeated scalar      Array(T), packed or not
 *   map<K, V>            Map(K, V) where the server has Map (21.1+), else
 *                        "name<sep>keys" Array(K) + "name<sep>values" Array(V)
 *   oneof                a column named after it, Nullable(Enum8('member'
 *                        = 1, ...)): which member is set, NULL for none
 * Scalars: double Float64, float Float32, int32/sint32/sfixed32 Int32,
 * int64/sint64/sfixed64 Int64, uint32/fixed32 UInt32, uint64/fixed64
 * UInt64, bool UInt8 (Bool from 21.12), string and bytes String, enums
 * Enum8/Enum16 with the .proto's numbers as values (the first name of a
 * number that has aliases; String when a number is past Int16),
 * google.protobuf.Timestamp DateTime64(9) from 20.1 (DateTime before: whole
 * seconds), the wrapper types (google.protobuf.Int64Value, ...) their
 * scalar's type.
 * Nullable: what can be told absent and is not a message — wrappers,
 * proto3 `optional` fields and oneof members — and every column below a
 * message that is itself a oneof member or `optional`; the plan writes NULL
 * for them when absent. Everything else takes its default when absent
 * (proto3's zero, proto2's [default = ...]), as Protobuf's own readers do;
 * a message that is absent reads as one whose fields are all absent.
 * Not mapped (listed, with the reason, by ddl_columns_skip): maps and
 * repeated messages inside a repeated message, maps whose values are
 * messages, proto2 groups, a message met again inside itself, messages
 * flattened deeper than the plan goes (PLAN_PROTO_MAX_FLATTEN), a repeated
 * message whose items map onto nothing.
 *
 * Then plan_compile_proto runs on the proposal — with extra fields
 * rejected when nothing was left out — every column must be written, and
 * an empty message (every field absent) must make one row. If the plan's
 * rules change, this walk must follow; tests/unit/test_ddl_mapping.c and
 * tests/integration/test_ddl.c (the real sink into a table made from this
 * output) say so.
 */
#include "codec/ddl_columns.h"
#include "codec/proto_wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct walker {
    const ddl_options *opt;
    ddl_columns *out;
    sluice_error *err;
    arena scratch; /* names and types while walking; ddl_columns_add copies them */
    const proto_message *stack[PLAN_PROTO_MAX_FLATTEN + 1]; /* messages being flattened */
    size_t depth;
    const char *group; /* the repeated message's column prefix while walking its items */
    int has_required;  /* a proto2 required field: an empty message is not a message */
} walker;

static int walk_message(walker *w, const proto_message *m, const char *prefix, const char *src,
                        int in_item, int nullable);

#define FMT(w, ...) ddl_fmt(&(w)->scratch, (w)->err, __VA_ARGS__)

/* A field that is one value (a scalar, an enum, a Timestamp, a wrapper). */
static int is_leaf(const proto_field *f)
{
    if (f->type == PROTO_GROUP) return 0;
    return f->type != PROTO_MESSAGE || proto_is_timestamp(f->message) ||
           proto_wrapper_type(f->message);
}

/* Told apart from its default when absent, and written NULL then. */
static int absent_is_null(const proto_field *f)
{
    return f->proto3_optional || f->oneof_index >= 0 ||
           (f->type == PROTO_MESSAGE && proto_wrapper_type(f->message));
}

/* Enum8/Enum16 of the enum's names with its numbers (the first name of a
 * number with aliases), or String when a number does not fit Int16. */
static const char *enum_type(walker *w, const proto_enum *e)
{
    int32_t lo = 0, hi = 0;
    for (size_t i = 0; i < e->n_values; i++) {
        if (e->values[i].number < lo) lo = e->values[i].number;
        if (e->values[i].number > hi) hi = e->values[i].number;
    }
    if (e->n_values == 0 || lo < INT16_MIN || hi > INT16_MAX) return "String";
    /* .proto names are identifiers: nothing to escape. */
    const char *s = FMT(w, "Enum%d(", lo >= INT8_MIN && hi <= INT8_MAX ? 8 : 16);
    int first = 1;
    for (size_t i = 0; i < e->n_values && s; i++) {
        int alias = 0;
        for (size_t k = 0; k < i && !alias; k++)
            alias = e->values[k].number == e->values[i].number;
        if (alias) continue;
        s = FMT(w, "%s%s'%s' = %d", s, first ? "" : ", ", e->values[i].name,
                (int)e->values[i].number);
        first = 0;
    }
    return s ? FMT(w, "%s)", s) : NULL;
}

static const char *scalar_type(walker *w, proto_type t, const proto_enum *e)
{
    switch (t) {
    case PROTO_DOUBLE:
        return "Float64";
    case PROTO_FLOAT:
        return "Float32";
    case PROTO_INT64:
    case PROTO_SINT64:
    case PROTO_SFIXED64:
        return "Int64";
    case PROTO_INT32:
    case PROTO_SINT32:
    case PROTO_SFIXED32:
        return "Int32";
    case PROTO_UINT32:
    case PROTO_FIXED32:
        return "UInt32";
    case PROTO_UINT64:
    case PROTO_FIXED64:
        return "UInt64";
    case PROTO_BOOL:
        return w->opt->features.bool_type ? "Bool" : "UInt8";
    case PROTO_ENUM:
        return enum_type(w, e);
    default: /* string, bytes */
        return "String";
    }
}

/* The type of a leaf's value (no Nullable, no Array). */
static const char *value_type(walker *w, const proto_field *f)
{
    if (f->type == PROTO_MESSAGE && proto_is_timestamp(f->message))
        return w->opt->features.datetime64 ? "DateTime64(9)" : "DateTime";
    if (f->type == PROTO_MESSAGE)
        return scalar_type(w, (proto_type)proto_wrapper_type(f->message), NULL);
    return scalar_type(w, f->type, f->enum_type);
}

static const char *join(walker *w, const char *prefix, const char *name)
{
    return *prefix ? FMT(w, "%s%c%s", prefix, w->opt->separator, name) : FMT(w, "%s", name);
}

static int skip(walker *w, const char *src, const char *why)
{
    return src && why ? ddl_columns_skip(w->out, src, why, w->err) : SLUICE_ENOMEM;
}

/* A column: plain, or inside the items of a repeated message, where it is
 * Array(elem) and, under '.', part of the Nested group of those items. */
static int add(walker *w, const char *name, const char *type, const char *src, int in_item)
{
    if (!name || !type || !src) return w->err->code ? w->err->code : SLUICE_ENOMEM;
    if (!in_item) return ddl_columns_add(w->out, name, type, NULL, NULL, NULL, src, w->err);
    const char *array = FMT(w, "Array(%s)", type);
    if (!array) return SLUICE_ENOMEM;
    if (w->opt->separator != '.')
        return ddl_columns_add(w->out, name, array, NULL, NULL, NULL, src, w->err);
    return ddl_columns_add(w->out, name, array, w->group, name + strlen(w->group) + 1, type, src,
                           w->err);
}

/* map<K, V>: plan_proto_compile.c's compile_map. */
static int walk_map(walker *w, const proto_field *f, const char *name, const char *src, int in_item)
{
    const proto_message *entry = f->message;
    const proto_field *kf = NULL, *vf = NULL;
    for (size_t i = 0; i < entry->n_fields; i++) {
        if (entry->fields[i].number == 1) kf = &entry->fields[i];
        if (entry->fields[i].number == 2) vf = &entry->fields[i];
    }
    if (!kf || !vf)
        return sluice_error_set(w->err, SLUICE_EINVAL, "map %s has no key or value", src);
    if (in_item) return skip(w, src, "a map inside a repeated message");
    if (vf->type == PROTO_MESSAGE && !is_leaf(vf))
        return skip(w, src, FMT(w, "a map whose values are messages (%s)", vf->message->full_name));
    const char *kt = value_type(w, kf), *vt = value_type(w, vf);
    if (vt && absent_is_null(vf)) vt = FMT(w, "Nullable(%s)", vt);
    if (!kt || !vt) return SLUICE_ENOMEM;
    if (w->opt->features.map) return add(w, name, FMT(w, "Map(%s, %s)", kt, vt), src, 0);
    /* keys and values: a group of their own, as a Nested under '.' */
    const char *saved = w->group;
    w->group = name;
    int rc = add(w, join(w, name, "keys"), kt, FMT(w, "%s (keys)", src), 1);
    if (rc == 0) rc = add(w, join(w, name, "values"), vt, FMT(w, "%s (values)", src), 1);
    w->group = saved;
    return rc;
}

/* A repeated message: compile_nested, its items' fields one Array each. */
static int walk_nested(walker *w, const proto_field *f, const char *name, const char *src,
                       int in_item)
{
    if (in_item) return skip(w, src, "a repeated message inside a repeated message");
    if (w->depth >= PLAN_PROTO_MAX_FLATTEN)
        return skip(w, src, FMT(w, "nested deeper than %d messages", PLAN_PROTO_MAX_FLATTEN));
    size_t before = w->out->n;
    const char *saved = w->group;
    w->group = name;
    w->stack[w->depth++] = f->message;
    int rc = walk_message(w, f->message, name, FMT(w, "%s[]", src), 1, 0);
    w->depth--;
    w->group = saved;
    if (rc == 0 && w->out->n == before) rc = skip(w, src, "no field of its items takes a column");
    return rc;
}

static int walk_field(walker *w, const proto_field *f, const char *prefix, const char *src,
                      int in_item, int nullable)
{
    const char *name = join(w, prefix, f->name), *fsrc = FMT(w, "%s.%s", src, f->name);
    if (!name || !fsrc) return SLUICE_ENOMEM;
    int repeated = f->label == PROTO_REPEATED;
    if (f->label == PROTO_REQUIRED) w->has_required = 1;
    if (f->type == PROTO_GROUP) return skip(w, fsrc, "a proto2 group");
    if (f->type == PROTO_MESSAGE && f->message->map_entry)
        return walk_map(w, f, name, fsrc, in_item);
    if (!is_leaf(f) && repeated) return walk_nested(w, f, name, fsrc, in_item);
    if (!is_leaf(f)) { /* a singular message: flattened */
        for (size_t i = 0; i < w->depth; i++)
            if (w->stack[i] == f->message)
                return skip(w, fsrc,
                            FMT(w, "message %s inside itself (recursive)", f->message->full_name));
        if (w->depth >= PLAN_PROTO_MAX_FLATTEN)
            return skip(w, fsrc, FMT(w, "nested deeper than %d messages", PLAN_PROTO_MAX_FLATTEN));
        w->stack[w->depth++] = f->message;
        int rc = walk_message(w, f->message, name, fsrc, in_item, nullable || absent_is_null(f));
        w->depth--;
        return rc;
    }
    const char *type = value_type(w, f);
    if (type && repeated)
        type = FMT(w, "Array(%s)", type);
    else if (type && (nullable || absent_is_null(f)))
        type = FMT(w, "Nullable(%s)", type);
    return add(w, name, type, fsrc, in_item);
}

/* A oneof's own column: which member is set (NULL: none). */
static int walk_oneof(walker *w, const proto_oneof *o, const char *prefix, const char *src,
                      int in_item)
{
    const char *s = FMT(w, "Enum%d(", o->n_fields <= 127 ? 8 : 16);
    for (size_t i = 0; i < o->n_fields && s; i++)
        s = FMT(w, "%s%s'%s' = %zu", s, i ? ", " : "", o->fields[i]->name, i + 1);
    if (!s) return SLUICE_ENOMEM;
    const char *type = o->n_fields <= 32767 ? FMT(w, "Nullable(%s))", s) : "Nullable(String)";
    return add(w, join(w, prefix, o->name), type,
               FMT(w, "%s.%s (which member is set)", src, o->name), in_item);
}

static int walk_message(walker *w, const proto_message *m, const char *prefix, const char *src,
                        int in_item, int nullable)
{
    if (!src) return SLUICE_ENOMEM;
    char *oneof_done = calloc(m->n_oneofs ? m->n_oneofs : 1, 1);
    if (!oneof_done) return sluice_error_set(w->err, SLUICE_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < m->n_fields && rc == 0; i++) {
        const proto_field *f = &m->fields[i];
        if (f->oneof_index >= 0 && !oneof_done[f->oneof_index]) { /* before its first member */
            oneof_done[f->oneof_index] = 1;
            rc = walk_oneof(w, &m->oneofs[f->oneof_index], prefix, src, in_item);
        }
        if (rc == 0) rc = walk_field(w, f, prefix, src, in_item, nullable);
    }
    free(oneof_done);
    return rc;
}

/* The proof: the sink's plan compiler maps the message onto these columns
 * (every field, when nothing was left out) and writes every one of them,
 * and a message with every field absent lands. */
static int check_with_plan(const proto_message *m, const ddl_options *opt, const ddl_columns *cols,
                           int run_empty, sluice_error *err)
{
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    plan_column *pc = NULL;
    int rc = ddl_plan_columns(cols, &a, &pc, err);
    plan *p = NULL;
    plan_options po = {.separator = opt->separator,
                       .extra_fields = cols->n_skipped ? PLAN_EXTRA_IGNORE : PLAN_EXTRA_REJECT,
                       .route = "sluice ddl"};
    sluice_error pe;
    if (rc == 0 && plan_compile_proto(m, pc, cols->n, &po, &p, &pe) != 0)
        rc = sluice_error_set(err, SLUICE_EINTERNAL,
                              "the sink would not accept these columns (a bug in sluice ddl): %s",
                              pe.msg);
    if (rc == 0) rc = ddl_check_written(p, cols, err);
    if (rc == 0 && run_empty) {
        plan_state *st = plan_state_new(p);
        buf rows;
        buf_init(&rows, 1 << 20);
        plan_result res = {0};
        if (!st)
            rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
        else if (plan_run(p, st, (const uint8_t *)"", 0, 0, &rows, &res, &pe) != 0 || res.rows != 1)
            rc = sluice_error_set(err, SLUICE_EINTERNAL,
                                  "a message with every field absent would not land (a bug in "
                                  "sluice ddl): %s",
                                  pe.msg);
        buf_free(&rows);
        plan_state_free(st);
    }
    plan_free(p);
    free(pc);
    arena_free(&a);
    return rc;
}

int ddl_columns_for_proto(const proto_message *m, const ddl_options *opt, ddl_columns *out,
                          sluice_error *err)
{
    if (opt->separator != '.' && opt->separator != '_')
        return sluice_error_set(err, SLUICE_EINVAL, "the separator must be '.' or '_'");
    sluice_error local;
    if (!err) err = &local;
    sluice_error_clear(err);
    walker w = {.opt = opt, .out = out, .err = err, .group = ""};
    arena_init(&w.scratch, 4096, SIZE_MAX);
    w.stack[w.depth++] = m;
    out->root = ddl_fmt(&out->a, err, "message %s", m->full_name);
    int rc = out->root ? walk_message(&w, m, "", "$", 0, 0) : SLUICE_ENOMEM;
    arena_free(&w.scratch);
    if (rc == 0 && out->n == 0)
        rc = sluice_error_set(err, SLUICE_EINVAL, "no field of message %s can be a column",
                              m->full_name);
    return rc ? rc : check_with_plan(m, opt, out, !w.has_required, err);
}
