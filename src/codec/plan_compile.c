/*
 * plan_compile.c — an Avro plan compiled: (writer, reader, table,
 * transform) into an op tree (plan_int.h has the types, plan.h the
 * contract).
 *
 * The op tree mirrors the *writer* schema, because the bytes come in writer
 * order: a record op has one child per writer field; a field the reader
 * drops is a skip op; a field the reader adds (with a default) is a
 * constant, encoded for its column once at compile time and appended per
 * row. Leaves decode one Avro value into a cvalue and hand it to the column
 * encoder (ch_encode_value) for the column's type at that nesting level —
 * the element type inside Array columns — and/or keep it in a slot for
 * transform expressions. Compilation decides everything, so that running
 * (plan_run.c) is a walk.
 *
 * Ownership: the plan owns its ops, strings and compiled expressions in one
 * arena, and is immutable after compilation.
 */
#include "codec/plan_int.h"

#include "codec/avro_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- compile-time helpers ------------------------------------------------ */

int plan_fail(compiler *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int plan_fail(compiler *c, int code, const char *fmt, ...)
{
    char msg[SLUICE_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sluice_error_set(c->err, code, "%s: %s", c->opt->route ? c->opt->route : "route", msg);
}

static char *join_path(arena *a, const char *prefix, char sep, const char *name)
{
    if (!prefix || !*prefix) return arena_strdup(a, name);
    size_t n = strlen(prefix) + strlen(name) + 2;
    char *s = arena_alloc(a, n, 1);
    if (s) snprintf(s, n, "%s%c%s", prefix, sep, name);
    return s;
}

static char *err_path(arena *a, const char *parent, const char *field, int array)
{
    size_t n = strlen(parent) + strlen(field) + 4;
    char *s = arena_alloc(a, n, 1);
    if (s) snprintf(s, n, array ? "%s[]" : "%s.%s", parent, field);
    return s;
}

int plan_find_column(const plan *p, const char *name)
{
    for (size_t i = 0; i < p->n_cols; i++)
        if (p->cols[i].insertable && strcmp(p->cols[i].name, name) == 0) return (int)i;
    return -1;
}

/* Peel Nullable and LowCardinality: the type that says what kind of column this is. */
static const ch_type *core_type(const ch_type *t)
{
    while (t && (t->kind == CH_NULLABLE || t->kind == CH_LOW_CARDINALITY))
        t = t->inner;
    return t;
}

static int slot_for_path(compiler *c, const char *path)
{
    for (size_t i = 0; i < c->n_paths; i++)
        if (strcmp(c->paths[i], path) == 0) return c->path_slots[i];
    return -1;
}

static void note_column(compiler *c, int col)
{
    c->fed[col] = 1;
    if (c->in_explode && c->collect_columns) c->collect_columns[c->n_collect_columns++] = col;
}

static void note_slot(compiler *c, int slot)
{
    if (slot >= 0 && c->in_explode && c->collect_slots)
        c->collect_slots[c->n_collect_slots++] = slot;
}

static const sluice_avro_node *non_null_branch(const sluice_avro_node *n, int *nullable)
{
    *nullable = 0;
    if (n->type != SLUICE_AVRO_UNION) return n;
    const sluice_avro_node *only = NULL;
    for (size_t i = 0; i < n->n_branches; i++) {
        if (n->branches[i]->type == SLUICE_AVRO_NULL) {
            *nullable = 1;
        } else if (only) {
            return NULL; /* several non-null branches */
        } else {
            only = n->branches[i];
        }
    }
    return only;
}

size_t plan_min_bytes(const sluice_avro_node *n, int depth)
{
    if (depth > SLUICE_AVRO_MAX_DEPTH) return 0;
    switch (n->type) {
    case SLUICE_AVRO_NULL:
        return 0;
    case SLUICE_AVRO_FLOAT:
        return 4;
    case SLUICE_AVRO_DOUBLE:
        return 8;
    case SLUICE_AVRO_FIXED:
        return n->size;
    case SLUICE_AVRO_RECORD: {
        size_t s = 0;
        for (size_t i = 0; i < n->n_fields; i++)
            s += plan_min_bytes(n->fields[i].type, depth + 1);
        return s;
    }
    default:
        return 1;
    }
}

/* Which reader branch reads writer type w (Avro: the first that matches). */
static const sluice_avro_node *reader_branch_for(const sluice_avro_node *r,
                                                 const sluice_avro_node *w)
{
    if (r->type != SLUICE_AVRO_UNION) return r;
    for (size_t i = 0; i < r->n_branches; i++)
        if (sluice_avro_can_read(r->branches[i], w, NULL) == 0) return r->branches[i];
    return NULL;
}

/* ---- the mapping pass ---------------------------------------------------- */

static int map_value(compiler *c, op *o, const sluice_avro_node *w, const sluice_avro_node *r,
                     const char *name, const char *epath, const ch_type *level, int column);
static int map_record(compiler *c, op *o, const sluice_avro_node *w, const sluice_avro_node *r,
                      const char *prefix, const char *epath, int array_level);

static void init_op(op *o, int code, const sluice_avro_node *w, const char *epath)
{
    memset(o, 0, sizeof *o);
    o->code = code;
    o->w = w;
    o->path = epath;
    o->column = -1;
    o->slot = -1;
    o->key_column = -1;
    o->decimal_scale = -1;
}

/* Pick a fast path for this leaf, if its pair is a common one. */
static void choose_fast(compiler *c, op *o, const sluice_avro_node *w)
{
    const ch_type *t = o->enc;
    if (t->kind == CH_LOW_CARDINALITY) t = t->inner;
    if (t->kind == CH_NULLABLE) {
        o->nullable = 1;
        t = t->inner;
    }
    if (t->kind == CH_LOW_CARDINALITY) t = t->inner;
    int plain_int = o->unit == CV_UNIT_NONE;
    switch (w->type) {
    case SLUICE_AVRO_STRING:
    case SLUICE_AVRO_BYTES:
        if (t->kind == CH_STRING && o->decimal_scale < 0) o->fast = FAST_STRING;
        break;
    case SLUICE_AVRO_LONG:
        if (t->kind == CH_INT64 && plain_int)
            o->fast = FAST_INT_TO_I64;
        else if (t->kind == CH_DATETIME && o->unit == CV_UNIT_TS_MS)
            o->fast = FAST_TS_MS_DATETIME;
        break;
    case SLUICE_AVRO_INT:
        if (t->kind == CH_INT64 && plain_int)
            o->fast = FAST_INT_TO_I64;
        else if (t->kind == CH_INT32 && plain_int)
            o->fast = FAST_INT_TO_I32;
        break;
    case SLUICE_AVRO_DOUBLE:
        if (t->kind == CH_FLOAT64) o->fast = FAST_DOUBLE_F64;
        break;
    case SLUICE_AVRO_FLOAT:
        if (t->kind == CH_FLOAT32) o->fast = FAST_FLOAT_F32;
        break;
    case SLUICE_AVRO_BOOLEAN:
        if (t->kind == CH_UINT8) o->fast = FAST_BOOL_U8;
        break;
    case SLUICE_AVRO_ENUM: {
        if (t->kind != CH_ENUM8 && t->kind != CH_ENUM16) break;
        /* Each writer symbol's column value, resolved now; a symbol the
         * column lacks keeps the general path, which reports it. */
        int16_t *vals = arena_alloc(&c->p->a, (w->n_symbols ? w->n_symbols : 1) * sizeof *vals,
                                    _Alignof(int16_t));
        if (!vals) return;
        for (size_t i = 0; i < w->n_symbols; i++) {
            const char *sym = o->enum_map[i];
            size_t k = 0;
            while (sym && k < t->n_enum && strcmp(t->enum_names[k], sym) != 0)
                k++;
            if (!sym || k == t->n_enum) return;
            vals[i] = t->enum_values[k];
        }
        o->enum_values = vals;
        o->fast = t->kind == CH_ENUM8 ? FAST_ENUM8 : FAST_ENUM16;
        break;
    }
    default:
        break;
    }
}

/* A writer scalar (or enum/fixed) read as reader type r into column/slot. */
static int map_scalar(compiler *c, op *o, const sluice_avro_node *w, const sluice_avro_node *r,
                      const char *epath, int column, const ch_type *enc, int slot)
{
    init_op(o, OP_SCALAR, w, epath);
    o->column = column;
    o->enc = enc;
    o->slot = slot;
    switch (r->logical) {
    case SLUICE_AVRO_LOGICAL_DATE:
        o->unit = CV_UNIT_DATE_DAYS;
        break;
    case SLUICE_AVRO_LOGICAL_TIME_MILLIS:
        o->unit = CV_UNIT_TIME_MS;
        break;
    case SLUICE_AVRO_LOGICAL_TIME_MICROS:
        o->unit = CV_UNIT_TIME_US;
        break;
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
        o->unit = CV_UNIT_TS_MS;
        break;
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MICROS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS:
        o->unit = CV_UNIT_TS_US;
        break;
    case SLUICE_AVRO_LOGICAL_DECIMAL:
        o->decimal_scale = r->scale;
        break;
    default:
        break;
    }
    o->as_string = r->type == SLUICE_AVRO_STRING;
    if (w->type == SLUICE_AVRO_ENUM) {
        const char **map = arena_calloc(&c->p->a, w->n_symbols ? w->n_symbols : 1, sizeof *map,
                                        _Alignof(const char *));
        if (!map) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
        for (size_t i = 0; i < w->n_symbols; i++) {
            map[i] = NULL;
            if (r->type != SLUICE_AVRO_ENUM) {
                map[i] = w->symbols[i];
                continue;
            }
            for (size_t k = 0; k < r->n_symbols; k++)
                if (strcmp(r->symbols[k], w->symbols[i]) == 0) map[i] = r->symbols[k];
            if (!map[i]) map[i] = r->enum_default; /* may stay NULL: a row error if seen */
        }
        o->enum_map = map;
    }
    if (column >= 0) choose_fast(c, o, w);
    o->once = !c->in_items && !c->in_explode;
    if (column >= 0) note_column(c, column);
    note_slot(c, slot);
    return 0;
}

static int column_list_op_null(compiler *c, op *o, const sluice_avro_node *w, const char *epath,
                               const int *cols, const ch_type *const *types, size_t n,
                               const int *slots, size_t n_slots)
{
    init_op(o, OP_NULL, w, epath);
    o->once = !c->in_items && !c->in_explode;
    o->null_columns = cols;
    o->null_types = types;
    o->n_null_columns = n;
    o->null_slots = slots;
    o->n_null_slots = n_slots;
    (void)c;
    return 0;
}

/* Columns and slots an op (sub)tree writes, for null-filling a union's
 * null branch. Appends to the arrays (bounded by n_cols / n_paths). */
static void collect_outputs(const op *o, int *cols, const ch_type **types, size_t *n, int *slots,
                            size_t *n_slots, int depth)
{
    if (!o || depth > 2 * SLUICE_AVRO_MAX_DEPTH) return;
    if (o->code == OP_SCALAR || o->code == OP_JSON || o->code == OP_ARRAY || o->code == OP_MAP) {
        int col = o->code == OP_ARRAY ? (o->n_count_columns ? o->count_columns[0] : -1) : o->column;
        const ch_type *t = o->enc;
        if (o->code == OP_ARRAY) {
            /* An array below a null: every column it feeds gets NULL/empty. */
            for (size_t i = 0; i < o->n_count_columns; i++) {
                int cc = o->count_columns[i];
                int dup = 0;
                for (size_t k = 0; k < *n; k++)
                    dup |= cols[k] == cc;
                if (!dup) {
                    cols[*n] = cc;
                    types[(*n)++] = o->enc; /* the array's own level type */
                }
            }
            col = -1;
        }
        if (col >= 0) {
            int dup = 0;
            for (size_t k = 0; k < *n; k++)
                dup |= cols[k] == col;
            if (!dup) {
                cols[*n] = col;
                types[(*n)++] = t;
            }
        }
        if (o->slot >= 0) slots[(*n_slots)++] = o->slot;
        if (o->code == OP_MAP && o->key_column >= 0) {
            cols[*n] = o->key_column;
            types[(*n)++] = o->key_enc;
        }
        return;
    }
    for (size_t i = 0; i < o->n_children; i++)
        collect_outputs(&o->children[i], cols, types, n, slots, n_slots, depth + 1);
    for (size_t i = 0; i < o->n_consts; i++) {
        int dup = 0;
        for (size_t k = 0; k < *n; k++)
            dup |= cols[k] == o->consts[i].column;
        if (!dup) {
            cols[*n] = o->consts[i].column;
            types[(*n)++] = NULL; /* NULL: the column's own type */
        }
    }
    for (size_t i = 0; i < o->n_branches; i++)
        if (o->branches[i].code != OP_NULL)
            collect_outputs(&o->branches[i], cols, types, n, slots, n_slots, depth + 1);
}

static int map_union(compiler *c, op *o, const sluice_avro_node *w, const sluice_avro_node *r,
                     const char *name, const char *epath, const ch_type *level, int column)
{
    init_op(o, OP_UNION, w, epath);
    o->n_branches = w->n_branches;
    o->branches =
        arena_calloc(&c->p->a, w->n_branches ? w->n_branches : 1, sizeof(op), _Alignof(op));
    if (!o->branches) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
    int null_index = -1;
    for (size_t i = 0; i < w->n_branches; i++) {
        const sluice_avro_node *wb = w->branches[i];
        if (wb->type == SLUICE_AVRO_NULL) {
            null_index = (int)i;
            continue;
        }
        const sluice_avro_node *rb = reader_branch_for(r, wb);
        if (!rb) {
            /* The writer may write a branch the reader cannot read: a row
             * error if it ever appears, not a plan error. */
            init_op(&o->branches[i], OP_UNREADABLE, wb, epath);
            continue;
        }
        int rc = map_value(c, &o->branches[i], wb, rb, name, epath, level, column);
        if (rc) return rc;
    }
    if (null_index >= 0) {
        size_t cap = c->p->n_cols + 1;
        int *cols = arena_alloc(&c->p->a, cap * sizeof(int), _Alignof(int));
        const ch_type **types = arena_alloc(&c->p->a, cap * sizeof(ch_type *), _Alignof(ch_type *));
        int *slots = arena_alloc(&c->p->a, (c->n_paths + 1) * sizeof(int), _Alignof(int));
        if (!cols || !types || !slots) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
        size_t n = 0, n_slots = 0;
        for (size_t i = 0; i < w->n_branches; i++)
            if ((int)i != null_index)
                collect_outputs(&o->branches[i], cols, types, &n, slots, &n_slots, 0);
        /* A nullable column that nothing else below feeds still gets its NULL. */
        if (n == 0 && column >= 0) {
            cols[n] = column;
            types[n++] = level;
        }
        int slot = slot_for_path(c, name);
        if (n_slots == 0 && slot >= 0) slots[n_slots++] = slot;
        column_list_op_null(c, &o->branches[null_index], w->branches[null_index], epath, cols,
                            types, n, slots, n_slots);
        for (size_t i = 0; i < n; i++)
            note_column(c, cols[i]);
        for (size_t i = 0; i < n_slots; i++)
            note_slot(c, slots[i]);
    }
    return 0;
}

/* An Avro array into Array column(s): `level` is the column type at this
 * nesting level (an Array), elements are encoded with level->inner. */
static int map_array_into(compiler *c, op *o, const sluice_avro_node *w, const sluice_avro_node *r,
                          const char *name, const char *epath, const ch_type *level, int column)
{
    init_op(o, OP_ARRAY, w, epath);
    o->enc = level;
    o->min_item_bytes = plan_min_bytes(w->items, 0);
    o->elem = arena_calloc(&c->p->a, 1, sizeof(op), _Alignof(op));
    int *cc = arena_alloc(&c->p->a, sizeof(int), _Alignof(int));
    if (!o->elem || !cc) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
    cc[0] = column;
    o->count_columns = cc;
    o->n_count_columns = 1;
    note_column(c, column);
    char *ep = err_path(&c->p->a, epath, "", 1);
    c->in_items++;
    int rc = map_value(c, o->elem, w->items, r->items, name, ep, core_type(level)->inner, column);
    c->in_items--;
    return rc;
}

/* An array of records into Nested-style columns name.sub (each Array(T)). */
static int map_nested(compiler *c, op *o, const sluice_avro_node *w, const sluice_avro_node *r,
                      const char *name, const char *epath)
{
    init_op(o, OP_ARRAY, w, epath);
    o->min_item_bytes = plan_min_bytes(w->items, 0);
    o->elem = arena_calloc(&c->p->a, 1, sizeof(op), _Alignof(op));
    if (!o->elem) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
    char *ep = err_path(&c->p->a, epath, "", 1);
    c->in_items++;
    int rc = map_record(c, o->elem, w->items, r->items, name, ep, 1);
    c->in_items--;
    if (rc) return rc;
    /* The count goes to every column the element record feeds. */
    size_t cap = c->p->n_cols + 1;
    int *cols = arena_alloc(&c->p->a, cap * sizeof(int), _Alignof(int));
    const ch_type **types = arena_alloc(&c->p->a, cap * sizeof(ch_type *), _Alignof(ch_type *));
    int *slots = arena_alloc(&c->p->a, (c->n_paths + 1) * sizeof(int), _Alignof(int));
    if (!cols || !types || !slots) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
    size_t n = 0, n_slots = 0;
    collect_outputs(o->elem, cols, types, &n, slots, &n_slots, 0);
    if (n > MAX_COUNT_COLUMNS)
        return plan_fail(c, SLUICE_EINVAL, "field %s feeds %zu columns; at most %d", epath, n,
                         MAX_COUNT_COLUMNS);
    if (n_slots)
        return plan_fail(c, SLUICE_EINVAL,
                         "field %s is inside an array: transforms can only use it with explode",
                         epath);
    o->count_columns = cols;
    o->n_count_columns = n;
    o->enc = NULL;
    return 0;
}

static int map_json(compiler *c, op *o, const sluice_avro_node *w, const char *epath,
                    const ch_type *level, int column)
{
    init_op(o, OP_JSON, w, epath);
    o->column = column;
    o->enc = level;
    o->once = !c->in_items && !c->in_explode;
    note_column(c, column);
    return 0;
}

static int is_complex(const sluice_avro_node *n)
{
    return n->type == SLUICE_AVRO_RECORD || n->type == SLUICE_AVRO_ARRAY ||
           n->type == SLUICE_AVRO_MAP;
}

/* A map into Map(K, V) (column), or into name.keys / name.values arrays. */
static int map_map(compiler *c, op *o, const sluice_avro_node *w, const sluice_avro_node *r,
                   const char *name, const char *epath, const ch_type *level, int column)
{
    init_op(o, OP_MAP, w, epath);
    o->min_item_bytes = 1 + plan_min_bytes(w->values, 0);
    o->elem = arena_calloc(&c->p->a, 1, sizeof(op), _Alignof(op));
    if (!o->elem) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
    char *ep = err_path(&c->p->a, epath, "", 1);
    if (column >= 0) { /* Map(K, V) */
        const ch_type *m = core_type(level);
        o->column = column;
        o->enc = level;
        o->key_column = -1;
        o->key_enc = m->inner;
        note_column(c, column);
        c->in_items++;
        int rc = map_value(c, o->elem, w->values, r->values, name, ep, m->inner2, column);
        c->in_items--;
        return rc;
    }
    char *kname = join_path(&c->p->a, name, c->p->separator, "keys");
    char *vname = join_path(&c->p->a, name, c->p->separator, "values");
    int kc = plan_find_column(c->p, kname), vc = plan_find_column(c->p, vname);
    if (kc < 0 || vc < 0 || c->fed[kc] || c->fed[vc] ||
        core_type(c->p->cols[kc].type)->kind != CH_ARRAY ||
        core_type(c->p->cols[vc].type)->kind != CH_ARRAY)
        return 1; /* not mapped this way */
    int *cc = arena_alloc(&c->p->a, 2 * sizeof(int), _Alignof(int));
    if (!cc) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
    cc[0] = kc;
    cc[1] = vc;
    o->count_columns = cc;
    o->n_count_columns = 2;
    o->key_column = kc;
    o->key_enc = core_type(c->p->cols[kc].type)->inner;
    o->column = vc;
    o->enc = c->p->cols[vc].type;
    note_column(c, kc);
    note_column(c, vc);
    c->in_items++;
    int rc = map_value(c, o->elem, w->values, r->values, vname, ep,
                       core_type(c->p->cols[vc].type)->inner, vc);
    c->in_items--;
    return rc;
}

/* The heart of the mapping: writer value w, read as reader type r, named
 * `name` (flattened). `column`/`level`: when >= 0, we are inside an Array
 * column at that nesting level and must write into it. */
static int map_value(compiler *c, op *o, const sluice_avro_node *w, const sluice_avro_node *r,
                     const char *name, const char *epath, const ch_type *level, int column)
{
    if (++c->depth > SLUICE_AVRO_MAX_DEPTH) {
        c->depth--;
        return plan_fail(c, SLUICE_EINVAL, "field %s nests deeper than %d levels", epath,
                         SLUICE_AVRO_MAX_DEPTH);
    }
    int rc = 0;
    int slot = slot_for_path(c, name);
    if (column < 0) { /* top-level name: does a column have it? */
        column = plan_find_column(c->p, name);
        if (column >= 0 && c->fed[column])
            column = -1; /* a derived column (or an earlier source) owns it */
        level = column >= 0 ? c->p->cols[column].type : NULL;
    }
    const ch_type *core = level ? core_type(level) : NULL;

    if (c->opt->explode && !c->in_explode && strcmp(name, c->opt->explode) == 0 &&
        w->type == SLUICE_AVRO_ARRAY) {
        init_op(o, OP_EXPLODE, w, epath);
        o->min_item_bytes = plan_min_bytes(w->items, 0);
        o->elem = arena_calloc(&c->p->a, 1, sizeof(op), _Alignof(op));
        size_t cap = c->p->n_cols + 1;
        c->collect_columns = arena_alloc(&c->p->a, cap * 4 * sizeof(int), _Alignof(int));
        c->collect_slots = arena_alloc(&c->p->a, (MAX_PATHS + 1) * sizeof(int), _Alignof(int));
        if (!o->elem || !c->collect_columns || !c->collect_slots)
            return plan_fail(c, SLUICE_ENOMEM, "out of memory");
        c->in_explode = 1;
        c->p->explode = o;
        char *ep = err_path(&c->p->a, epath, "", 1);
        if (r->items->type == SLUICE_AVRO_RECORD)
            rc = map_record(c, o->elem, w->items, r->items, name, ep, 0);
        else
            rc = map_value(c, o->elem, w->items, r->items, name, ep, NULL, -1);
        c->in_explode = 0;
        c->p->elem_columns = c->collect_columns;
        c->p->n_elem_columns = c->n_collect_columns;
        c->p->elem_slots = c->collect_slots;
        c->p->n_elem_slots = c->n_collect_slots;
        c->depth--;
        return rc;
    }

    if (w->type == SLUICE_AVRO_UNION) {
        rc = map_union(c, o, w, r, name, epath, level, column);
    } else if (column >= 0 && is_complex(w) && core->kind == CH_STRING) {
        rc = map_json(c, o, w, epath, level, column);
    } else if (column >= 0 && w->type == SLUICE_AVRO_ARRAY) {
        if (core->kind != CH_ARRAY)
            rc = plan_fail(c, SLUICE_EINVAL, "field %s (array) cannot go into column %s (%s)",
                           epath, c->p->cols[column].name, level->text);
        else
            rc = map_array_into(c, o, w, r, name, epath, level, column);
    } else if (column >= 0 && w->type == SLUICE_AVRO_MAP) {
        if (core->kind != CH_MAP)
            rc = plan_fail(c, SLUICE_EINVAL, "field %s (map) cannot go into column %s (%s)", epath,
                           c->p->cols[column].name, level->text);
        else
            rc = map_map(c, o, w, r, name, epath, level, column);
    } else if (column >= 0 && w->type == SLUICE_AVRO_RECORD) {
        rc = plan_fail(c, SLUICE_EINVAL,
                       "field %s (record) cannot go into column %s (%s): use a String column for "
                       "its JSON, or columns named %s%csub-field",
                       epath, c->p->cols[column].name, level->text, name, c->p->separator);
    } else if (column >= 0 || slot >= 0) {
        if (is_complex(w)) { /* only a slot wants it */
            rc = plan_fail(c, SLUICE_EINVAL, "transforms cannot use %s: it is a %s", epath,
                           sluice_avro_type_name(w->type));
        } else {
            rc = map_scalar(c, o, w, r, epath, column, level, slot);
        }
    } else if (w->type == SLUICE_AVRO_RECORD) {
        rc = map_record(c, o, w, r, name, epath, 0);
    } else if (w->type == SLUICE_AVRO_ARRAY && w->items->type == SLUICE_AVRO_RECORD &&
               r->items->type == SLUICE_AVRO_RECORD) {
        rc = map_nested(c, o, w, r, name, epath);
    } else if (w->type == SLUICE_AVRO_MAP &&
               (rc = map_map(c, o, w, r, name, epath, NULL, -1)) <= 0) {
        /* mapped into name.keys / name.values (rc 0) or failed (rc < 0) */
    } else {
        rc = 0;
        if (c->opt->extra_fields == PLAN_EXTRA_REJECT)
            rc = plan_fail(c, SLUICE_EINVAL, "field %s has no column named %s in the table", epath,
                           name);
        else
            init_op(o, OP_SKIP, w, epath);
    }
    c->depth--;
    return rc;
}

/* Constants for reader fields the writer does not have: the reader's
 * default, encoded for each column it would feed. */
static int add_default_constants(compiler *c, const sluice_avro_field *rf, const char *name,
                                 op_const *consts, size_t *n)
{
    json_error_t je;
    json_t *def = json_loads(rf->default_json, JSON_DECODE_ANY, &je);
    if (!def) return plan_fail(c, SLUICE_EINTERNAL, "default of %s does not parse", name);
    int rc = 0;
    const sluice_avro_node *t = rf->type;
    if (t->type == SLUICE_AVRO_UNION && t->n_branches > 0)
        t = t->branches[0]; /* a union's default is of its first branch */
    int slot = slot_for_path(c, name);
    if (slot >= 0 && c->p->slot_consts) {
        cvalue v = cv_null();
        if (json_is_integer(def))
            v = cv_int(json_integer_value(def), CV_UNIT_NONE);
        else if (json_is_real(def))
            v = cv_double(json_real_value(def));
        else if (json_is_boolean(def))
            v = cv_bool(json_is_true(def));
        else if (json_is_string(def)) {
            char *copy = arena_strndup(&c->p->a, json_string_value(def), json_string_length(def));
            v = cv_string(copy ? copy : "", copy ? json_string_length(def) : 0);
            if (t->type == SLUICE_AVRO_ENUM) v.kind = CV_ENUM;
        }
        c->p->slot_consts[c->p->n_slot_consts++] = (slot_const){slot, v};
    }
    int column = plan_find_column(c->p, name);
    if (column >= 0 && !c->fed[column]) {
        buf b;
        buf_init(&b, SCRATCH_CAP);
        sluice_error e;
        const ch_type *ct = c->p->cols[column].type;
        if (is_complex(t) && core_type(ct)->kind == CH_STRING) {
            char *text = json_dumps(def, JSON_COMPACT | JSON_ENCODE_ANY);
            json_t *s = json_string(text ? text : "null");
            rc = ch_encode_json(ct, s, &b, &e);
            json_decref(s);
            free(text);
        } else {
            rc = ch_encode_json(ct, def, &b, &e);
            if (rc && json_is_null(def)) {
                buf_reset(&b);
                rc = ch_encode_default(ct, &b);
            }
        }
        if (rc) {
            rc = plan_fail(c, SLUICE_EINVAL, "default of field %s cannot go into column %s: %s",
                           name, c->p->cols[column].name, e.msg);
        } else {
            uint8_t *copy = arena_alloc(&c->p->a, b.len ? b.len : 1, 1);
            if (!copy) {
                rc = plan_fail(c, SLUICE_ENOMEM, "out of memory");
            } else {
                memcpy(copy, b.data, b.len);
                consts[*n] = (op_const){column, copy, b.len};
                (*n)++;
                note_column(c, column);
            }
        }
        buf_free(&b);
    } else if (t->type == SLUICE_AVRO_RECORD && json_is_object(def)) {
        /* Flattened: each sub-field's default from the record default. */
        for (size_t i = 0; i < t->n_fields && rc == 0; i++) {
            json_t *sub = json_object_get(def, t->fields[i].name);
            sluice_avro_field f = t->fields[i];
            char *text = sub ? json_dumps(sub, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            if (!text) continue;
            f.default_json = arena_strdup(&c->p->a, text);
            free(text);
            char *sub_name = join_path(&c->p->a, name, c->p->separator, t->fields[i].name);
            rc = add_default_constants(c, &f, sub_name, consts, n);
        }
    }
    json_decref(def);
    return rc;
}

static const sluice_avro_field *reader_field_for(const sluice_avro_node *r,
                                                 const sluice_avro_field *wf)
{
    for (size_t i = 0; i < r->n_fields; i++) {
        const sluice_avro_field *rf = &r->fields[i];
        if (strcmp(rf->name, wf->name) == 0) return rf;
    }
    for (size_t i = 0; i < r->n_fields; i++) {
        const sluice_avro_field *rf = &r->fields[i];
        for (size_t k = 0; k < rf->n_aliases; k++)
            if (strcmp(rf->aliases[k], wf->name) == 0) return rf;
    }
    return NULL;
}

static int map_record(compiler *c, op *o, const sluice_avro_node *w, const sluice_avro_node *r,
                      const char *prefix, const char *epath, int array_level)
{
    init_op(o, OP_RECORD, w, epath);
    o->n_children = w->n_fields;
    o->children = arena_calloc(&c->p->a, w->n_fields ? w->n_fields : 1, sizeof(op), _Alignof(op));
    op_const *consts =
        arena_calloc(&c->p->a, c->p->n_cols + 1, sizeof(op_const), _Alignof(op_const));
    if (!o->children || !consts) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
    size_t n_consts = 0;
    for (size_t i = 0; i < w->n_fields; i++) {
        const sluice_avro_field *wf = &w->fields[i];
        const sluice_avro_field *rf = reader_field_for(r, wf);
        char *ep = err_path(&c->p->a, epath, wf->name, 0);
        if (!ep) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
        if (!rf) {
            init_op(&o->children[i], OP_SKIP, wf->type, ep);
            continue;
        }
        char *name = join_path(&c->p->a, prefix, c->p->separator, rf->name);
        if (!name) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
        int rc;
        if (array_level) {
            /* Inside an array of records: each sub-field feeds the Array
             * column of its name, one element per item. */
            int col = plan_find_column(c->p, name);
            if (col >= 0 && !c->fed[col] && core_type(c->p->cols[col].type)->kind == CH_ARRAY) {
                const ch_type *inner = core_type(c->p->cols[col].type)->inner;
                if (is_complex(wf->type) && wf->type->type != SLUICE_AVRO_ARRAY &&
                    core_type(inner)->kind == CH_STRING) {
                    rc = map_json(c, &o->children[i], wf->type, ep, inner, col);
                } else {
                    rc = map_value(c, &o->children[i], wf->type, rf->type, name, ep, inner, col);
                }
            } else if (c->opt->extra_fields == PLAN_EXTRA_REJECT) {
                rc = plan_fail(c, SLUICE_EINVAL, "field %s has no Array column named %s", ep, name);
            } else {
                init_op(&o->children[i], OP_SKIP, wf->type, ep);
                rc = 0;
            }
        } else {
            rc = map_value(c, &o->children[i], wf->type, rf->type, name, ep, NULL, -1);
        }
        if (rc) return rc;
    }
    /* Reader fields the writer lacks: defaults (schema resolution). */
    for (size_t i = 0; i < r->n_fields && !array_level; i++) {
        const sluice_avro_field *rf = &r->fields[i];
        int in_writer = 0;
        for (size_t k = 0; k < w->n_fields && !in_writer; k++)
            in_writer = reader_field_for(r, &w->fields[k]) == rf;
        if (in_writer) continue;
        if (!rf->default_json)
            return plan_fail(c, SLUICE_EINVAL,
                             "reader field %s has no default and the writer does not have it",
                             rf->name);
        char *name = join_path(&c->p->a, prefix, c->p->separator, rf->name);
        int rc = add_default_constants(c, rf, name, consts, &n_consts);
        if (rc) return rc;
    }
    o->consts = consts;
    o->n_consts = n_consts;
    o->once = !array_level && !c->in_items && !c->in_explode; /* for its constants */
    return 0;
}

/* ---- expressions ---------------------------------------------------------- */

static int resolve_path(void *ctx, const char *path)
{
    compiler *c = ctx;
    for (size_t i = 0; i < c->n_paths; i++)
        if (strcmp(c->paths[i], path) == 0) {
            if (c->path_slots[i] < 0) c->path_slots[i] = (int)c->p->n_slots++;
            return c->path_slots[i];
        }
    return -1;
}

/* Every name an expression may use: scalar leaves of the reader schema,
 * flattened; under explode, the element's fields. */
static void enumerate_paths(compiler *c, const sluice_avro_node *r, const char *prefix, int depth)
{
    if (depth > 8 || c->n_paths >= MAX_PATHS) return;
    int nullable;
    const sluice_avro_node *t = non_null_branch(r, &nullable);
    if (!t) t = r; /* a multi-branch union: usable as a whole value */
    if (t->type == SLUICE_AVRO_RECORD) {
        for (size_t i = 0; i < t->n_fields; i++) {
            char *name = join_path(&c->p->a, prefix, c->p->separator, t->fields[i].name);
            if (name) enumerate_paths(c, t->fields[i].type, name, depth + 1);
        }
        return;
    }
    if (t->type == SLUICE_AVRO_ARRAY && c->opt->explode && strcmp(prefix, c->opt->explode) == 0) {
        const sluice_avro_node *items = t->items;
        if (items->type == SLUICE_AVRO_RECORD) {
            enumerate_paths(c, items, prefix, depth + 1);
        } else {
            c->paths[c->n_paths] = prefix;
            c->path_slots[c->n_paths++] = -1;
        }
        return;
    }
    if (is_complex(t)) return;
    c->paths[c->n_paths] = prefix;
    c->path_slots[c->n_paths++] = -1;
}

static int compile_expressions(compiler *c, const sluice_avro_node *reader_root)
{
    plan *p = c->p;
    const plan_options *opt = c->opt;
    if (reader_root) enumerate_paths(c, reader_root, "", 0);
    if (opt->explode && c->n_paths < MAX_PATHS) {
        c->paths[c->n_paths] = "#index";
        c->path_slots[c->n_paths++] = -1;
    }
    expr_resolver res = {resolve_path, c};
    sluice_error e;
    if (opt->filter && *opt->filter) {
        if (expr_compile(opt->filter, &res, &p->a, &p->filter, &e) != 0)
            return plan_fail(c, SLUICE_ECONFIG, "transform.filter: %s", e.msg);
    }
    if (opt->n_derived) {
        p->derived =
            arena_calloc(&p->a, opt->n_derived, sizeof(derived_col), _Alignof(derived_col));
        if (!p->derived) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < opt->n_derived; i++) {
        const plan_derived *d = &opt->derived[i];
        int col = plan_find_column(p, d->column);
        if (col < 0)
            return plan_fail(c, SLUICE_ECONFIG,
                             "transform.columns.%s: the table has no insertable column %s",
                             d->column, d->column);
        if (c->fed[col])
            return plan_fail(c, SLUICE_ECONFIG, "transform.columns.%s: defined twice", d->column);
        if (expr_compile(d->expression, &res, &p->a, &p->derived[i].e, &e) != 0)
            return plan_fail(c, SLUICE_ECONFIG, "transform.columns.%s: %s", d->column, e.msg);
        p->derived[i].column = col;
        p->derived[i].name = d->column;
        c->fed[col] = 1;
        p->n_derived++;
    }
    p->index_slot = opt->explode ? slot_for_path(c, "#index") : -1;
    return 0;
}

/* Does any op write a column or slot? */
static int op_writes(const op *o, int depth)
{
    if (!o || depth > 2 * SLUICE_AVRO_MAX_DEPTH) return 1;
    switch (o->code) {
    case OP_SCALAR:
        return o->column >= 0 || o->slot >= 0;
    case OP_JSON:
        return 1;
    case OP_NULL:
        return o->n_null_columns || o->n_null_slots;
    case OP_ARRAY:
    case OP_MAP:
        return o->n_count_columns || o->column >= 0 || op_writes(o->elem, depth + 1);
    case OP_EXPLODE:
        return 1;
    case OP_RECORD:
        if (o->n_consts) return 1;
        for (size_t i = 0; i < o->n_children; i++)
            if (op_writes(&o->children[i], depth + 1)) return 1;
        return 0;
    case OP_UNION:
        for (size_t i = 0; i < o->n_branches; i++)
            if (op_writes(&o->branches[i], depth + 1)) return 1;
        return 0;
    default:
        return 0;
    }
}

/* Walking in decode order: does anything after the explode op write? */
static int writes_after(const op *o, const op *explode, int *seen, int depth)
{
    if (depth > 2 * SLUICE_AVRO_MAX_DEPTH) return 1;
    if (o == explode) {
        *seen = 1;
        return 0;
    }
    if (*seen) return op_writes(o, depth);
    if (o->code == OP_RECORD) {
        for (size_t i = 0; i < o->n_children; i++)
            if (writes_after(&o->children[i], explode, seen, depth + 1)) return 1;
        return *seen && o->n_consts; /* constants come after the children */
    }
    if (o->code == OP_UNION) {
        for (size_t i = 0; i < o->n_branches; i++) {
            int branch_seen = 0;
            if (writes_after(&o->branches[i], explode, &branch_seen, depth + 1)) return 1;
            *seen |= branch_seen;
        }
    }
    return 0;
}

/* ---- building the plan ------------------------------------------------------ */

int plan_copy_columns(plan *p, const plan_column *columns, size_t n)
{
    plan_column *cols = arena_calloc(&p->a, n ? n : 1, sizeof *cols, _Alignof(plan_column));
    if (!cols) return SLUICE_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        cols[i] = columns[i];
        cols[i].name = arena_strdup(&p->a, columns[i].name);
        if (!cols[i].name) return SLUICE_ENOMEM;
        /* The plan owns its types: the caller's column list may be freed
         * and replaced (a table re-read after an ALTER) while plans live. */
        if (columns[i].type &&
            ch_type_parse(columns[i].type->text, &p->a, &cols[i].type, NULL) != 0)
            return SLUICE_ENOMEM; /* the text came from ch_type_parse: only memory can fail */
    }
    p->cols = cols;
    p->n_cols = n;
    return 0;
}

int plan_finish_list(plan *p, const char *fed)
{
    p->in_list = arena_calloc(&p->a, p->n_cols ? p->n_cols : 1, sizeof(int), _Alignof(int));
    p->list = arena_calloc(&p->a, p->n_cols ? p->n_cols : 1, sizeof(int), _Alignof(int));
    if (!p->in_list || !p->list) return SLUICE_ENOMEM;
    buf sql;
    buf_init(&sql, SIZE_MAX);
    int rc = buf_append_byte(&sql, '(');
    for (size_t i = 0; i < p->n_cols && rc == 0; i++) {
        if (!fed[i]) continue;
        p->in_list[i] = 1;
        if (p->n_list) rc = buf_append_str(&sql, ", ");
        p->list[p->n_list++] = (int)i;
        rc = rc ? rc : buf_append_byte(&sql, '`');
        for (const char *s = p->cols[i].name; *s && rc == 0; s++) {
            if (*s == '`' || *s == '\\') rc = buf_append_byte(&sql, '\\');
            rc = rc ? rc : buf_append_byte(&sql, (uint8_t)*s);
        }
        rc = rc ? rc : buf_append_byte(&sql, '`');
    }
    rc = rc ? rc : buf_append_byte(&sql, ')');
    if (rc == 0) {
        p->columns_sql = arena_strndup(&p->a, (const char *)sql.data, sql.len);
        if (!p->columns_sql) rc = SLUICE_ENOMEM;
    }
    buf_free(&sql);
    return rc;
}

plan *plan_alloc(const plan_options *opt)
{
    plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    arena_init(&p->a, 16384, SIZE_MAX);
    p->separator = opt->separator ? opt->separator : '.';
    p->index_slot = -1;
    p->route = opt->route ? arena_strdup(&p->a, opt->route) : "route";
    return p;
}

int plan_compile_avro(const sluice_avro_node *writer, const sluice_avro_node *reader,
                      const plan_column *columns, size_t n_columns, const plan_options *opt,
                      plan **out, sluice_error *err)
{
    *out = NULL;
    if (!reader) reader = writer;
    plan *p = plan_alloc(opt);
    if (!p) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    compiler *c = calloc(1, sizeof *c);
    char *fed = calloc(n_columns ? n_columns : 1, 1);
    int rc = c && fed ? plan_copy_columns(p, columns, n_columns) : SLUICE_ENOMEM;
    if (rc) {
        sluice_error_set(err, rc, "out of memory");
        goto done;
    }
    c->p = p;
    c->opt = opt;
    c->err = err;
    c->fed = fed;
    sluice_error cerr;
    if (writer != reader && sluice_avro_can_read(reader, writer, &cerr) != 0) {
        rc = plan_fail(c, SLUICE_EINVAL, "the route's schema cannot read this writer schema: %s",
                       cerr.msg);
        goto done;
    }
    if (writer->type != SLUICE_AVRO_RECORD || reader->type != SLUICE_AVRO_RECORD) {
        rc =
            plan_fail(c, SLUICE_EINVAL, "messages must be Avro records to map onto columns, not %s",
                      sluice_avro_type_name(writer->type));
        goto done;
    }
    rc = compile_expressions(c, reader);
    if (rc == 0 && p->n_slots) {
        p->slot_consts = arena_calloc(&p->a, MAX_PATHS, sizeof(slot_const), _Alignof(slot_const));
        if (!p->slot_consts) rc = plan_fail(c, SLUICE_ENOMEM, "out of memory");
    }
    if (rc == 0) rc = map_record(c, &p->root, writer, reader, "", "$", 0);
    if (rc == 0 && opt->explode && !p->explode)
        rc = plan_fail(c, SLUICE_ECONFIG,
                       "transform.explode: %s is not an array field of the schema", opt->explode);
    if (rc == 0 && p->explode) {
        int seen = 0;
        p->explode_inline = !writes_after(&p->root, p->explode, &seen, 0);
    }
    if (rc == 0 && (rc = plan_finish_list(p, fed)) != 0) sluice_error_set(err, rc, "out of memory");
    if (rc == 0 && p->n_list == 0)
        rc = plan_fail(c, SLUICE_EINVAL, "no field of the schema matches a column of the table");
done:
    free(fed);
    free(c);
    if (rc) {
        plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void plan_free(plan *p)
{
    if (!p) return;
    arena_free(&p->a);
    free(p);
}

const char *plan_columns_sql(const plan *p)
{
    return p->columns_sql;
}
