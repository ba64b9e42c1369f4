/*
 * plan.c — compile (writer, reader, table, transform) into an op tree, and
 * run it on messages (contract in plan.h).
 *
 * The op tree mirrors the *writer* schema, because the bytes come in writer
 * order: a record op has one child per writer field; a field the reader
 * drops is a skip op; a field the reader adds (with a default) is a
 * constant, encoded for its column once at compile time and appended per
 * row. Leaves decode one Avro value into a cvalue and hand it to the column
 * encoder (ch_encode_value) for the column's type at that nesting level —
 * the element type inside Array columns — and/or keep it in a slot for
 * transform expressions. Each column has its own scratch buffer; a row is
 * the concatenation of the scratches in INSERT order, which is what lets
 * writer order differ from table order and lets explode repeat the parent's
 * columns for every element without decoding them again.
 *
 * Ownership: the plan owns its ops, strings and compiled expressions in one
 * arena, and is immutable after compilation. A plan_state (one per running
 * thread) owns the scratch buffers and slot values.
 */
#include "codec/plan.h"

#include "codec/avro_binary.h"
#include "codec/avro_json.h"
#include "codec/expr.h"
#include "common/arena.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COUNT_COLUMNS 64          /* columns one Avro array may feed (Nested) */
#define MAX_ITEMS_PER_ARRAY (1 << 24) /* bounds work on zero-byte items (arrays of null) */
#define SCRATCH_CAP ((size_t)64 << 20)
#define MAX_PATHS 4096

/* Fast paths for the (Avro type, column type) pairs that make up most
 * events. Everything else goes through cvalue + ch_encode_value, which
 * handles every pair; a fast path must produce exactly the same bytes (the
 * plan tests and the ClickHouse round trip run through both). */
enum fast {
    FAST_NONE,
    FAST_STRING,         /* string/bytes -> String */
    FAST_INT_TO_I64,     /* int/long -> Int64 */
    FAST_INT_TO_I32,     /* int -> Int32 */
    FAST_DOUBLE_F64,     /* double -> Float64 */
    FAST_FLOAT_F32,      /* float -> Float32 */
    FAST_BOOL_U8,        /* boolean -> UInt8 */
    FAST_ENUM8,          /* enum -> Enum8 (values precomputed) */
    FAST_ENUM16,         /* enum -> Enum16 */
    FAST_TS_MS_DATETIME, /* timestamp-millis -> DateTime */
};

enum opcode {
    OP_SKIP,       /* decode nothing out of this writer value */
    OP_SCALAR,     /* one value into a column (enc) and/or a slot */
    OP_RECORD,     /* children in writer order, then constants */
    OP_UNION,      /* branch index, then branches[i] */
    OP_NULL,       /* a null branch: NULL (or the default) into every column below */
    OP_ARRAY,      /* block counts into count columns, elem per item */
    OP_MAP,        /* Map(K, V) column, or keys/values array columns */
    OP_JSON,       /* the writer value as JSON text into a String column */
    OP_EXPLODE,    /* the exploded array: skipped now, one row per item later */
    OP_UNREADABLE, /* a writer union branch the reader cannot read: a row error if seen */
};

typedef struct op op;

typedef struct op_const {
    int column;
    const uint8_t *bytes;
    size_t len;
} op_const;

struct op {
    int code;
    const sluice_avro_node *w; /* writer node decoded here */
    const char *path;          /* "$.items[].qty", for errors */
    /* OP_SCALAR */
    int column;
    const ch_type *enc;
    int slot;
    cv_unit unit;
    int decimal_scale;           /* >= 0 when the value is a decimal */
    int as_string;               /* reader says string where the writer has bytes */
    const char *const *enum_map; /* writer symbol index -> reader symbol (NULL: not in reader) */
    int fast;                    /* FAST_*: a direct decode+encode for a common pair, or 0 */
    int once;                    /* writes its column(s) exactly once per row, at top level:
                                  * may write straight into the row (see row_target) */
    int nullable;                /* fast path: the column is Nullable: write the flag first */
    const int16_t *enum_values;  /* FAST_ENUM*: writer symbol index -> column value */
    /* OP_RECORD */
    op *children;
    size_t n_children;
    const op_const *consts;
    size_t n_consts;
    /* OP_UNION */
    op *branches;
    size_t n_branches;
    /* OP_NULL */
    const int *null_columns;
    const ch_type *const *null_types;
    size_t n_null_columns;
    const int *null_slots;
    size_t n_null_slots;
    /* OP_ARRAY, OP_MAP, OP_EXPLODE */
    op *elem;
    const int *count_columns;
    size_t n_count_columns;
    size_t min_item_bytes;
    int key_column; /* OP_MAP: the column keys go to (-1: same column as values, Map) */
    const ch_type *key_enc;
};

typedef struct slot_const {
    int slot;
    cvalue v; /* strings point into the plan's arena */
} slot_const;

typedef struct derived_col {
    int column;
    const expr *e;
    const char *name;
} derived_col;

struct plan {
    arena a;
    int is_json;
    const plan_column *cols; /* copies, in the arena */
    size_t n_cols;
    int *in_list; /* per column: 1 if written */
    int *list;    /* column indexes in INSERT order */
    size_t n_list;
    char *columns_sql;
    op root;
    op *explode;             /* the explode op inside the tree, or NULL */
    int explode_inline;      /* nothing after the exploded array feeds a column or slot:
                              * rows are emitted as its items are decoded (one pass) */
    const int *elem_columns; /* columns fed below the explode op: reset per element */
    size_t n_elem_columns;
    const int *elem_slots;
    size_t n_elem_slots;
    int index_slot;
    size_t n_slots;
    slot_const *slot_consts; /* reader defaults that expressions read */
    size_t n_slot_consts;
    const expr *filter;
    derived_col *derived;
    size_t n_derived;
    char separator;
    const char *route;
    /* JSON plans */
    const char **json_paths; /* per column: the field path to look up */
    const char **slot_paths; /* per slot: the JSON path to read */
    const char *explode_path;
};

struct plan_state {
    size_t n_cols;
    buf *scratch; /* per column */
    char *set;    /* per column: written this row */
    cvalue *slots;
    buf expr_scratch;
    buf json_tmp;
};

/* ---- compile-time helpers ------------------------------------------------ */

typedef struct compiler {
    plan *p;
    const plan_options *opt;
    sluice_error *err;
    char *fed; /* per column: some op writes it */
    /* paths known to expressions: name -> slot (assigned on first use) */
    const char *paths[MAX_PATHS];
    int path_slots[MAX_PATHS];
    size_t n_paths;
    int in_explode;
    int in_items; /* > 0 inside an array's or map's items */
    /* columns and slots touched below the current explode op */
    int *collect_columns;
    size_t n_collect_columns;
    int *collect_slots;
    size_t n_collect_slots;
    int depth;
} compiler;

static int fail(compiler *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(compiler *c, int code, const char *fmt, ...)
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

static int find_column(const plan *p, const char *name)
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

static size_t min_bytes(const sluice_avro_node *n, int depth)
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
            s += min_bytes(n->fields[i].type, depth + 1);
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
        if (!map) return fail(c, SLUICE_ENOMEM, "out of memory");
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
    if (!o->branches) return fail(c, SLUICE_ENOMEM, "out of memory");
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
        if (!cols || !types || !slots) return fail(c, SLUICE_ENOMEM, "out of memory");
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
    o->min_item_bytes = min_bytes(w->items, 0);
    o->elem = arena_calloc(&c->p->a, 1, sizeof(op), _Alignof(op));
    int *cc = arena_alloc(&c->p->a, sizeof(int), _Alignof(int));
    if (!o->elem || !cc) return fail(c, SLUICE_ENOMEM, "out of memory");
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
    o->min_item_bytes = min_bytes(w->items, 0);
    o->elem = arena_calloc(&c->p->a, 1, sizeof(op), _Alignof(op));
    if (!o->elem) return fail(c, SLUICE_ENOMEM, "out of memory");
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
    if (!cols || !types || !slots) return fail(c, SLUICE_ENOMEM, "out of memory");
    size_t n = 0, n_slots = 0;
    collect_outputs(o->elem, cols, types, &n, slots, &n_slots, 0);
    if (n > MAX_COUNT_COLUMNS)
        return fail(c, SLUICE_EINVAL, "field %s feeds %zu columns; at most %d", epath, n,
                    MAX_COUNT_COLUMNS);
    if (n_slots)
        return fail(c, SLUICE_EINVAL,
                    "field %s is inside an array: transforms can only use it with explode", epath);
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
    o->min_item_bytes = 1 + min_bytes(w->values, 0);
    o->elem = arena_calloc(&c->p->a, 1, sizeof(op), _Alignof(op));
    if (!o->elem) return fail(c, SLUICE_ENOMEM, "out of memory");
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
    int kc = find_column(c->p, kname), vc = find_column(c->p, vname);
    if (kc < 0 || vc < 0 || c->fed[kc] || c->fed[vc] ||
        core_type(c->p->cols[kc].type)->kind != CH_ARRAY ||
        core_type(c->p->cols[vc].type)->kind != CH_ARRAY)
        return 1; /* not mapped this way */
    int *cc = arena_alloc(&c->p->a, 2 * sizeof(int), _Alignof(int));
    if (!cc) return fail(c, SLUICE_ENOMEM, "out of memory");
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
        return fail(c, SLUICE_EINVAL, "field %s nests deeper than %d levels", epath,
                    SLUICE_AVRO_MAX_DEPTH);
    }
    int rc = 0;
    int slot = slot_for_path(c, name);
    if (column < 0) { /* top-level name: does a column have it? */
        column = find_column(c->p, name);
        if (column >= 0 && c->fed[column])
            column = -1; /* a derived column (or an earlier source) owns it */
        level = column >= 0 ? c->p->cols[column].type : NULL;
    }
    const ch_type *core = level ? core_type(level) : NULL;

    if (c->opt->explode && !c->in_explode && strcmp(name, c->opt->explode) == 0 &&
        w->type == SLUICE_AVRO_ARRAY) {
        init_op(o, OP_EXPLODE, w, epath);
        o->min_item_bytes = min_bytes(w->items, 0);
        o->elem = arena_calloc(&c->p->a, 1, sizeof(op), _Alignof(op));
        size_t cap = c->p->n_cols + 1;
        c->collect_columns = arena_alloc(&c->p->a, cap * 4 * sizeof(int), _Alignof(int));
        c->collect_slots = arena_alloc(&c->p->a, (MAX_PATHS + 1) * sizeof(int), _Alignof(int));
        if (!o->elem || !c->collect_columns || !c->collect_slots)
            return fail(c, SLUICE_ENOMEM, "out of memory");
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
            rc = fail(c, SLUICE_EINVAL, "field %s (array) cannot go into column %s (%s)", epath,
                      c->p->cols[column].name, level->text);
        else
            rc = map_array_into(c, o, w, r, name, epath, level, column);
    } else if (column >= 0 && w->type == SLUICE_AVRO_MAP) {
        if (core->kind != CH_MAP)
            rc = fail(c, SLUICE_EINVAL, "field %s (map) cannot go into column %s (%s)", epath,
                      c->p->cols[column].name, level->text);
        else
            rc = map_map(c, o, w, r, name, epath, level, column);
    } else if (column >= 0 && w->type == SLUICE_AVRO_RECORD) {
        rc = fail(c, SLUICE_EINVAL,
                  "field %s (record) cannot go into column %s (%s): use a String column for "
                  "its JSON, or columns named %s%csub-field",
                  epath, c->p->cols[column].name, level->text, name, c->p->separator);
    } else if (column >= 0 || slot >= 0) {
        if (is_complex(w)) { /* only a slot wants it */
            rc = fail(c, SLUICE_EINVAL, "transforms cannot use %s: it is a %s", epath,
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
            rc =
                fail(c, SLUICE_EINVAL, "field %s has no column named %s in the table", epath, name);
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
    if (!def) return fail(c, SLUICE_EINTERNAL, "default of %s does not parse", name);
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
    int column = find_column(c->p, name);
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
            rc = fail(c, SLUICE_EINVAL, "default of field %s cannot go into column %s: %s", name,
                      c->p->cols[column].name, e.msg);
        } else {
            uint8_t *copy = arena_alloc(&c->p->a, b.len ? b.len : 1, 1);
            if (!copy) {
                rc = fail(c, SLUICE_ENOMEM, "out of memory");
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
    if (!o->children || !consts) return fail(c, SLUICE_ENOMEM, "out of memory");
    size_t n_consts = 0;
    for (size_t i = 0; i < w->n_fields; i++) {
        const sluice_avro_field *wf = &w->fields[i];
        const sluice_avro_field *rf = reader_field_for(r, wf);
        char *ep = err_path(&c->p->a, epath, wf->name, 0);
        if (!ep) return fail(c, SLUICE_ENOMEM, "out of memory");
        if (!rf) {
            init_op(&o->children[i], OP_SKIP, wf->type, ep);
            continue;
        }
        char *name = join_path(&c->p->a, prefix, c->p->separator, rf->name);
        if (!name) return fail(c, SLUICE_ENOMEM, "out of memory");
        int rc;
        if (array_level) {
            /* Inside an array of records: each sub-field feeds the Array
             * column of its name, one element per item. */
            int col = find_column(c->p, name);
            if (col >= 0 && !c->fed[col] && core_type(c->p->cols[col].type)->kind == CH_ARRAY) {
                const ch_type *inner = core_type(c->p->cols[col].type)->inner;
                if (is_complex(wf->type) && wf->type->type != SLUICE_AVRO_ARRAY &&
                    core_type(inner)->kind == CH_STRING) {
                    rc = map_json(c, &o->children[i], wf->type, ep, inner, col);
                } else {
                    rc = map_value(c, &o->children[i], wf->type, rf->type, name, ep, inner, col);
                }
            } else if (c->opt->extra_fields == PLAN_EXTRA_REJECT) {
                rc = fail(c, SLUICE_EINVAL, "field %s has no Array column named %s", ep, name);
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
            return fail(c, SLUICE_EINVAL,
                        "reader field %s has no default and the writer does not have it", rf->name);
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
            return fail(c, SLUICE_ECONFIG, "transform.filter: %s", e.msg);
    }
    if (opt->n_derived) {
        p->derived =
            arena_calloc(&p->a, opt->n_derived, sizeof(derived_col), _Alignof(derived_col));
        if (!p->derived) return fail(c, SLUICE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < opt->n_derived; i++) {
        const plan_derived *d = &opt->derived[i];
        int col = find_column(p, d->column);
        if (col < 0)
            return fail(c, SLUICE_ECONFIG,
                        "transform.columns.%s: the table has no insertable column %s", d->column,
                        d->column);
        if (c->fed[col])
            return fail(c, SLUICE_ECONFIG, "transform.columns.%s: defined twice", d->column);
        if (expr_compile(d->expression, &res, &p->a, &p->derived[i].e, &e) != 0)
            return fail(c, SLUICE_ECONFIG, "transform.columns.%s: %s", d->column, e.msg);
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

static int copy_columns(plan *p, const plan_column *columns, size_t n)
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

static int finish_list(plan *p, const char *fed)
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

static plan *plan_new(const plan_options *opt)
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
    plan *p = plan_new(opt);
    if (!p) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    compiler *c = calloc(1, sizeof *c);
    char *fed = calloc(n_columns ? n_columns : 1, 1);
    int rc = c && fed ? copy_columns(p, columns, n_columns) : SLUICE_ENOMEM;
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
        rc = fail(c, SLUICE_EINVAL, "the route's schema cannot read this writer schema: %s",
                  cerr.msg);
        goto done;
    }
    if (writer->type != SLUICE_AVRO_RECORD || reader->type != SLUICE_AVRO_RECORD) {
        rc = fail(c, SLUICE_EINVAL, "messages must be Avro records to map onto columns, not %s",
                  sluice_avro_type_name(writer->type));
        goto done;
    }
    rc = compile_expressions(c, reader);
    if (rc == 0 && p->n_slots) {
        p->slot_consts = arena_calloc(&p->a, MAX_PATHS, sizeof(slot_const), _Alignof(slot_const));
        if (!p->slot_consts) rc = fail(c, SLUICE_ENOMEM, "out of memory");
    }
    if (rc == 0) rc = map_record(c, &p->root, writer, reader, "", "$", 0);
    if (rc == 0 && opt->explode && !p->explode)
        rc = fail(c, SLUICE_ECONFIG, "transform.explode: %s is not an array field of the schema",
                  opt->explode);
    if (rc == 0 && p->explode) {
        int seen = 0;
        p->explode_inline = !writes_after(&p->root, p->explode, &seen, 0);
    }
    if (rc == 0 && (rc = finish_list(p, fed)) != 0) sluice_error_set(err, rc, "out of memory");
    if (rc == 0 && p->n_list == 0)
        rc = fail(c, SLUICE_EINVAL, "no field of the schema matches a column of the table");
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

plan_state *plan_state_new(const plan *p)
{
    plan_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->scratch = calloc(p->n_cols ? p->n_cols : 1, sizeof *st->scratch);
    st->set = calloc(p->n_cols ? p->n_cols : 1, 1);
    st->slots = calloc(p->n_slots ? p->n_slots : 1, sizeof *st->slots);
    if (!st->scratch || !st->set || !st->slots) {
        plan_state_free(st);
        return NULL;
    }
    st->n_cols = p->n_cols;
    for (size_t i = 0; i < p->n_cols; i++)
        buf_init(&st->scratch[i], SCRATCH_CAP);
    buf_init(&st->expr_scratch, SCRATCH_CAP);
    buf_init(&st->json_tmp, SCRATCH_CAP);
    return st;
}

void plan_state_free(plan_state *st)
{
    if (!st) return;
    for (size_t i = 0; st->scratch && i < st->n_cols; i++)
        buf_free(&st->scratch[i]);
    free(st->scratch);
    free(st->set);
    free(st->slots);
    buf_free(&st->expr_scratch);
    buf_free(&st->json_tmp);
    free(st);
}

/* ---- running ------------------------------------------------------------------ */

typedef struct run {
    const plan *p;
    plan_state *st;
    buf *out;    /* the batch the row goes to */
    size_t next; /* rows written straight into out: list position reached */
    int direct;  /* straight writes allowed (not under explode) */
    avro_reader r;
    sluice_error *err;
    const uint8_t *explode_at; /* where the exploded array's bytes start */
    int64_t now_s;             /* for rows emitted in place (explode_inline) */
    plan_result *res;
    int depth;
} run;

static int run_fail(run *x, const op *o, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int run_fail(run *x, const op *o, int code, const char *fmt, ...)
{
    char msg[SLUICE_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sluice_error_set(x->err, code, "offset %zu, %s: %s", avro_reader_offset(&x->r),
                            o ? o->path : "$", msg);
}

static int read_fail(run *x, const op *o, int avro_code)
{
    return run_fail(x, o, SLUICE_EINVAL, "%s", avro_strerror(avro_code));
}

/* Skip a primitive in place: returns 1 and sets *rc when w is one (the
 * common case, handled without a call), 0 for complex types. */
static inline int skip_primitive(avro_reader *r, const sluice_avro_node *w, int *rc)
{
    int64_t n;
    const uint8_t *p;
    size_t len;
    switch (w->type) {
    case SLUICE_AVRO_NULL:
        *rc = 0;
        return 1;
    case SLUICE_AVRO_INT:
    case SLUICE_AVRO_LONG:
        *rc = avro_read_long(r, &n);
        return 1;
    case SLUICE_AVRO_FLOAT:
        *rc = avro_read_fixed(r, 4, &p);
        return 1;
    case SLUICE_AVRO_DOUBLE:
        *rc = avro_read_fixed(r, 8, &p);
        return 1;
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_STRING:
        *rc = avro_read_bytes(r, &p, &len);
        return 1;
    case SLUICE_AVRO_FIXED:
        *rc = avro_read_fixed(r, w->size, &p);
        return 1;
    default:
        return 0; /* boolean and enum need range checks: the full path */
    }
}

/* Skip one writer value. Uses block byte sizes where the writer gave them. */
static int skip_value(run *x, const op *o, const sluice_avro_node *w, int depth)
{
    if (depth > SLUICE_AVRO_MAX_DEPTH)
        return run_fail(x, o, SLUICE_EINVAL, "nested deeper than %d levels", SLUICE_AVRO_MAX_DEPTH);
    avro_reader *r = &x->r;
    int64_t n;
    int32_t i32;
    const uint8_t *p;
    size_t len;
    int rc = 0, b;
    switch (w->type) {
    case SLUICE_AVRO_NULL:
        return 0;
    case SLUICE_AVRO_BOOLEAN:
        rc = avro_read_boolean(r, &b);
        break;
    case SLUICE_AVRO_INT:
        rc = avro_read_int(r, &i32);
        break;
    case SLUICE_AVRO_LONG:
        rc = avro_read_long(r, &n);
        break;
    case SLUICE_AVRO_FLOAT:
        rc = avro_read_fixed(r, 4, &p);
        break;
    case SLUICE_AVRO_DOUBLE:
        rc = avro_read_fixed(r, 8, &p);
        break;
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_STRING:
        rc = avro_read_bytes(r, &p, &len);
        break;
    case SLUICE_AVRO_FIXED:
        rc = avro_read_fixed(r, w->size, &p);
        break;
    case SLUICE_AVRO_ENUM:
        rc = avro_read_int(r, &i32);
        if (rc == 0 && (i32 < 0 || (size_t)i32 >= w->n_symbols))
            return run_fail(x, o, SLUICE_EINVAL, "enum index %d out of range (%zu symbols)",
                            (int)i32, w->n_symbols);
        break;
    case SLUICE_AVRO_UNION:
        rc = avro_read_long(r, &n);
        if (rc == 0 && (n < 0 || (uint64_t)n >= w->n_branches))
            return run_fail(x, o, SLUICE_EINVAL, "union branch %lld out of range (%zu branches)",
                            (long long)n, w->n_branches);
        if (rc == 0) return skip_value(x, o, w->branches[n], depth + 1);
        break;
    case SLUICE_AVRO_RECORD:
        for (size_t k = 0; k < w->n_fields; k++) {
            const sluice_avro_node *f = w->fields[k].type;
            if (skip_primitive(r, f, &rc)) {
                if (rc) return read_fail(x, o, rc);
            } else if ((rc = skip_value(x, o, f, depth + 1)) != 0) {
                return rc;
            }
        }
        return 0;
    case SLUICE_AVRO_ARRAY:
    case SLUICE_AVRO_MAP: {
        const sluice_avro_node *item = w->type == SLUICE_AVRO_ARRAY ? w->items : w->values;
        uint64_t total = 0;
        for (;;) {
            int64_t count, bytes;
            if ((rc = avro_read_block_count(r, &count, &bytes)) != 0) break;
            if (count == 0) return 0;
            if (bytes >= 0) {
                r->p += bytes; /* checked against the input by avro_read_block_count */
                continue;
            }
            /* Only items that can take zero bytes may outnumber the bytes
             * left; count those against a cap so they cannot spin. */
            if ((uint64_t)count > avro_reader_left(r) &&
                (w->type == SLUICE_AVRO_MAP || min_bytes(item, 0) > 0))
                return run_fail(x, o, SLUICE_EINVAL, "block of %lld items is longer than the input",
                                (long long)count);
            if ((total += (uint64_t)count) > MAX_ITEMS_PER_ARRAY)
                return run_fail(x, o, SLUICE_EINVAL, "array of more than %d items",
                                MAX_ITEMS_PER_ARRAY);
            for (int64_t k = 0; k < count; k++) {
                if (w->type == SLUICE_AVRO_MAP && (rc = avro_read_bytes(r, &p, &len)) != 0)
                    return read_fail(x, o, rc);
                if (skip_primitive(r, item, &rc)) {
                    if (rc) return read_fail(x, o, rc);
                } else if ((rc = skip_value(x, o, item, depth + 1)) != 0) {
                    return rc;
                }
            }
        }
        break;
    }
    }
    return rc ? read_fail(x, o, rc) : 0;
}

static int decode_scalar(run *x, const op *o, cvalue *v)
{
    avro_reader *r = &x->r;
    const sluice_avro_node *w = o->w;
    int rc = 0, b;
    int32_t i32;
    int64_t i64;
    float f;
    const uint8_t *p;
    size_t len;
    *v = cv_null();
    switch (w->type) {
    case SLUICE_AVRO_NULL:
        return 0;
    case SLUICE_AVRO_BOOLEAN:
        if ((rc = avro_read_boolean(r, &b)) == 0) *v = cv_bool(b);
        break;
    case SLUICE_AVRO_INT:
        if ((rc = avro_read_int(r, &i32)) == 0) *v = cv_int(i32, o->unit);
        break;
    case SLUICE_AVRO_LONG:
        if ((rc = avro_read_long(r, &i64)) == 0) *v = cv_int(i64, o->unit);
        break;
    case SLUICE_AVRO_FLOAT:
        if ((rc = avro_read_float(r, &f)) == 0) {
            *v = cv_double(f);
            v->is_float32 = 1;
        }
        break;
    case SLUICE_AVRO_DOUBLE:
        if ((rc = avro_read_double(r, &v->d)) == 0) v->kind = CV_DOUBLE;
        break;
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_STRING:
    case SLUICE_AVRO_FIXED:
        rc = w->type == SLUICE_AVRO_FIXED ? (len = w->size, avro_read_fixed(r, w->size, &p))
                                          : avro_read_bytes(r, &p, &len);
        if (rc == 0) {
            *v = cv_string((const char *)p, len);
            if (o->decimal_scale >= 0) {
                v->kind = CV_DECIMAL;
                v->scale = o->decimal_scale;
            } else if (!o->as_string) {
                v->kind = CV_BYTES;
            }
        }
        break;
    case SLUICE_AVRO_ENUM:
        if ((rc = avro_read_int(r, &i32)) != 0) break;
        if (i32 < 0 || (size_t)i32 >= w->n_symbols)
            return run_fail(x, o, SLUICE_EINVAL, "enum index %d out of range (%zu symbols)",
                            (int)i32, w->n_symbols);
        if (!o->enum_map[i32])
            return run_fail(x, o, SLUICE_EINVAL,
                            "symbol '%s' is not in the route's enum and it has no default",
                            w->symbols[i32]);
        *v = cv_string(o->enum_map[i32], strlen(o->enum_map[i32]));
        v->kind = CV_ENUM;
        v->i = i32;
        break;
    default:
        return run_fail(x, o, SLUICE_EINTERNAL, "not a scalar");
    }
    return rc ? read_fail(x, o, rc) : 0;
}

/* Where column col's bytes go: straight into the row when the op writes it
 * once per row and it is the very next column of the INSERT list (true for
 * most columns of most tables, which mirror their schema), else into the
 * column's scratch, appended in list order when the row is emitted. Either
 * way the row's bytes come out in list order. */
static inline buf *row_target(run *x, const op *o, int col)
{
    if (o->once && x->direct && x->next < x->p->n_list && x->p->list[x->next] == col) {
        x->next++;
        return x->out;
    }
    x->st->set[col] = 1;
    return &x->st->scratch[col];
}

/* Encode v for column col at type enc (NULL into a non-Nullable type writes
 * the type's default, as ClickHouse's input_format_null_as_default does). */
static int put_column(run *x, const op *o, int col, const ch_type *enc, const cvalue *v)
{
    buf *b = row_target(x, o, col);
    sluice_error e;
    int rc = ch_encode_value(enc, v, b, &e);
    if (rc && v->kind == CV_NULL && rc != SLUICE_ENOMEM) rc = ch_encode_default(enc, b);
    if (rc == SLUICE_ENOMEM)
        return run_fail(x, o, SLUICE_ENOMEM, "column %s: value larger than its scratch bound",
                        x->p->cols[col].name);
    if (rc) return run_fail(x, o, rc, "column %s: %s", x->p->cols[col].name, e.msg);
    return 0;
}

static inline int put_varint(buf *b, uint64_t v)
{
    if (b->alloc - b->len <= 10 && buf_reserve(b, 10) != 0) return SLUICE_ENOMEM;
    uint8_t *d = b->data + b->len;
    while (v > 0x7f) {
        *d++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *d++ = (uint8_t)v;
    b->len = (size_t)(d - b->data);
    return 0;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v > 0x7f) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Rewrite the count written at pos (as `was`) to `now`, moving what follows. */
static int patch_count(buf *b, size_t pos, uint64_t was, uint64_t now)
{
    size_t old_len = varint_len(was), new_len = varint_len(now);
    if (new_len > old_len) {
        int rc = buf_reserve(b, new_len - old_len);
        if (rc) return rc;
        memmove(b->data + pos + new_len, b->data + pos + old_len, b->len - pos - old_len);
        b->len += new_len - old_len;
    } else if (new_len < old_len) {
        memmove(b->data + pos + new_len, b->data + pos + old_len, b->len - pos - old_len);
        b->len -= old_len - new_len;
    }
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((now & 0x7f) | (now > 0x7f ? 0x80 : 0));
        now >>= 7;
    } while (now);
    memcpy(b->data + pos, tmp, n);
    return 0;
}

static int exec(run *x, const op *o);
static int explode_items(run *x, const op *o);

static inline void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Decode one leaf and write its column bytes directly (see enum fast). Any
 * value the fast path cannot take as is (out of range) is re-run through
 * the general path from the same input position, which reports it. */
static int exec_fast(run *x, const op *o, cvalue *slot_value)
{
    avro_reader *r = &x->r;
    const uint8_t *start = r->p;
    uint8_t tmp[16];
    size_t n = 0;
    int rc = 0;
    int64_t i64;
    const uint8_t *p;
    size_t len;
    if (o->nullable) tmp[n++] = 0;
    switch (o->fast) {
    case FAST_STRING: {
        if ((rc = avro_read_bytes(r, &p, &len)) != 0) return read_fail(x, o, rc);
        buf *b = row_target(x, o, o->column);
        /* flag (1) + LEB128 length (<= 10) + bytes, in one reservation */
        if (b->alloc - b->len <= len + 11 && buf_reserve(b, len + 11) != 0)
            return run_fail(x, o, SLUICE_ENOMEM, "row buffer bound reached");
        uint8_t *d = b->data + b->len;
        if (o->nullable) *d++ = 0;
        uint64_t v = len;
        while (v > 0x7f) {
            *d++ = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        *d++ = (uint8_t)v;
        memcpy(d, p, len);
        b->len = (size_t)(d + len - b->data);
        if (slot_value)
            *slot_value = (cvalue){
                .kind = o->as_string ? CV_STRING : CV_BYTES, .s = (const char *)p, .len = len};
        return 0;
    }
    case FAST_INT_TO_I64:
        if ((rc = avro_read_long(r, &i64)) != 0) return read_fail(x, o, rc);
        if (o->w->type == SLUICE_AVRO_INT && (i64 < INT32_MIN || i64 > INT32_MAX))
            return read_fail(x, o, AVRO_ERANGE);
        put_le(tmp + n, (uint64_t)i64, 8);
        n += 8;
        if (slot_value) *slot_value = cv_int(i64, CV_UNIT_NONE);
        break;
    case FAST_INT_TO_I32: {
        int32_t i32;
        if ((rc = avro_read_int(r, &i32)) != 0) return read_fail(x, o, rc);
        put_le(tmp + n, (uint32_t)i32, 4);
        n += 4;
        if (slot_value) *slot_value = cv_int(i32, CV_UNIT_NONE);
        break;
    }
    case FAST_DOUBLE_F64:
    case FAST_FLOAT_F32: {
        size_t w = o->fast == FAST_DOUBLE_F64 ? 8 : 4;
        if (avro_reader_left(r) < w) return read_fail(x, o, AVRO_ETRUNCATED);
        memcpy(tmp + n, r->p, w); /* both little-endian IEEE: the same bytes */
        if (slot_value) {
            if (w == 8) {
                *slot_value = cv_double(0);
                memcpy(&slot_value->d, r->p, 8);
            } else {
                float f;
                memcpy(&f, r->p, 4);
                *slot_value = cv_double(f);
                slot_value->is_float32 = 1;
            }
        }
        r->p += w;
        n += w;
        break;
    }
    case FAST_BOOL_U8: {
        int bv;
        if ((rc = avro_read_boolean(r, &bv)) != 0) return read_fail(x, o, rc);
        tmp[n++] = (uint8_t)bv;
        if (slot_value) *slot_value = cv_bool(bv);
        break;
    }
    case FAST_ENUM8:
    case FAST_ENUM16: {
        int32_t idx;
        if ((rc = avro_read_int(r, &idx)) != 0) return read_fail(x, o, rc);
        if (idx < 0 || (size_t)idx >= o->w->n_symbols)
            return run_fail(x, o, SLUICE_EINVAL, "enum index %d out of range (%zu symbols)",
                            (int)idx, o->w->n_symbols);
        int16_t v = o->enum_values[idx];
        put_le(tmp + n, (uint16_t)v, o->fast == FAST_ENUM8 ? 1 : 2);
        n += o->fast == FAST_ENUM8 ? 1 : 2;
        if (slot_value) {
            const char *sym = o->enum_map[idx];
            *slot_value = (cvalue){.kind = CV_ENUM, .s = sym, .len = strlen(sym), .i = idx};
        }
        break;
    }
    case FAST_TS_MS_DATETIME: {
        if ((rc = avro_read_long(r, &i64)) != 0) return read_fail(x, o, rc);
        int64_t s = i64 / 1000 - (i64 % 1000 < 0); /* floor */
        if (s < 0 || s > UINT32_MAX) {
            r->p = start; /* the general path says why */
            cvalue v;
            if ((rc = decode_scalar(x, o, &v)) != 0) return rc;
            if (slot_value) *slot_value = v;
            return put_column(x, o, o->column, o->enc, &v);
        }
        put_le(tmp + n, (uint64_t)s, 4);
        n += 4;
        if (slot_value) *slot_value = cv_int(i64, CV_UNIT_TS_MS);
        break;
    }
    default:
        return run_fail(x, o, SLUICE_EINTERNAL, "unknown fast path");
    }
    if (buf_append(row_target(x, o, o->column), tmp, n) != 0)
        return run_fail(x, o, SLUICE_ENOMEM, "row buffer bound reached");
    return 0;
}

static int exec_items(run *x, const op *o)
{
    avro_reader *r = &x->r;
    plan_state *st = x->st;
    size_t pos[MAX_COUNT_COLUMNS];
    uint64_t total = 0, first_count = 0;
    int first = 1, rc;
    for (size_t i = 0; i < o->n_count_columns; i++)
        pos[i] = st->scratch[o->count_columns[i]].len;
    for (;;) {
        int64_t count, bytes;
        if ((rc = avro_read_block_count(r, &count, &bytes)) != 0) return read_fail(x, o, rc);
        if (count == 0) break;
        if ((o->min_item_bytes && (uint64_t)count > avro_reader_left(r) / o->min_item_bytes) ||
            total + (uint64_t)count > MAX_ITEMS_PER_ARRAY)
            return run_fail(x, o, SLUICE_EINVAL, "block of %lld items is longer than the input",
                            (long long)count);
        if (first) {
            for (size_t i = 0; i < o->n_count_columns; i++)
                if (put_varint(&st->scratch[o->count_columns[i]], (uint64_t)count))
                    return run_fail(x, o, SLUICE_ENOMEM, "scratch bound reached");
            first_count = (uint64_t)count;
            first = 0;
        }
        for (int64_t k = 0; k < count; k++) {
            if (o->code == OP_MAP) {
                const uint8_t *key;
                size_t klen;
                if ((rc = avro_read_bytes(r, &key, &klen)) != 0) return read_fail(x, o, rc);
                int kc = o->key_column >= 0 ? o->key_column : o->column;
                if (o->key_enc->kind == CH_STRING) {
                    buf *kb = &st->scratch[kc];
                    if (put_varint(kb, klen) || buf_append(kb, key, klen))
                        return run_fail(x, o, SLUICE_ENOMEM, "scratch bound reached");
                } else {
                    cvalue kv = cv_string((const char *)key, klen);
                    if ((rc = put_column(x, o, kc, o->key_enc, &kv)) != 0) return rc;
                }
            }
            if ((rc = exec(x, o->elem)) != 0) return rc;
        }
        total += (uint64_t)count;
    }
    for (size_t i = 0; i < o->n_count_columns; i++) {
        buf *b = &st->scratch[o->count_columns[i]];
        if (first                  ? put_varint(b, 0)
            : total != first_count ? patch_count(b, pos[i], first_count, total)
                                   : 0)
            return run_fail(x, o, SLUICE_ENOMEM, "scratch bound reached");
        st->set[o->count_columns[i]] = 1;
    }
    return 0;
}

static int exec_json(run *x, const op *o)
{
    const uint8_t *start = x->r.p;
    int rc = skip_value(x, o, o->w, 0);
    if (rc) return rc;
    buf *tmp = &x->st->json_tmp;
    buf_reset(tmp);
    sluice_error e;
    rc = avro_json_decode(o->w, start, (size_t)(x->r.p - start), AVRO_JSON_PLAIN, tmp, &e);
    if (rc) return run_fail(x, o, rc, "%s", e.msg);
    cvalue v = cv_string((const char *)tmp->data, tmp->len);
    return put_column(x, o, o->column, o->enc, &v);
}

static int exec(run *x, const op *o)
{
    plan_state *st = x->st;
    int rc = 0;
    if (++x->depth > 2 * SLUICE_AVRO_MAX_DEPTH) {
        x->depth--;
        return run_fail(x, o, SLUICE_EINVAL, "nested deeper than %d levels", SLUICE_AVRO_MAX_DEPTH);
    }
    switch (o->code) {
    case OP_SKIP:
        rc = skip_value(x, o, o->w, 0);
        break;
    case OP_UNREADABLE:
        rc = run_fail(x, o, SLUICE_EINVAL,
                      "the writer used a union branch (%s) the route's schema cannot read",
                      sluice_avro_type_name(o->w->type));
        break;
    case OP_SCALAR: {
        if (o->fast) {
            rc = exec_fast(x, o, o->slot >= 0 ? &st->slots[o->slot] : NULL);
            break;
        }
        cvalue v;
        if ((rc = decode_scalar(x, o, &v)) != 0) break;
        if (o->column >= 0 && (rc = put_column(x, o, o->column, o->enc, &v)) != 0) break;
        if (o->slot >= 0) st->slots[o->slot] = v;
        break;
    }
    case OP_RECORD:
        for (size_t i = 0; i < o->n_children && rc == 0; i++) {
            const op *ch = &o->children[i];
            if (ch->code == OP_SCALAR && ch->fast)
                rc = exec_fast(x, ch, ch->slot >= 0 ? &st->slots[ch->slot] : NULL);
            else if (ch->code == OP_SKIP && skip_primitive(&x->r, ch->w, &rc))
                rc = rc ? read_fail(x, ch, rc) : 0;
            else
                rc = exec(x, ch);
        }
        for (size_t i = 0; i < o->n_consts && rc == 0; i++) {
            const op_const *k = &o->consts[i];
            if (buf_append(row_target(x, o, k->column), k->bytes, k->len))
                rc = run_fail(x, o, SLUICE_ENOMEM, "row buffer bound reached");
        }
        break;
    case OP_UNION: {
        int64_t idx;
        if ((rc = avro_read_long(&x->r, &idx)) != 0) {
            rc = read_fail(x, o, rc);
            break;
        }
        if (idx < 0 || (uint64_t)idx >= o->n_branches) {
            rc = run_fail(x, o, SLUICE_EINVAL, "union branch %lld out of range (%zu branches)",
                          (long long)idx, o->n_branches);
            break;
        }
        rc = exec(x, &o->branches[idx]);
        break;
    }
    case OP_NULL: {
        cvalue null = cv_null();
        for (size_t i = 0; i < o->n_null_columns && rc == 0; i++) {
            int col = o->null_columns[i];
            const ch_type *t = o->null_types[i] ? o->null_types[i] : x->p->cols[col].type;
            rc = put_column(x, o, col, t, &null);
        }
        for (size_t i = 0; i < o->n_null_slots; i++)
            st->slots[o->null_slots[i]] = null;
        break;
    }
    case OP_ARRAY:
    case OP_MAP:
        if (o->code == OP_MAP && o->key_column < 0) {
            /* Map(K, V): the count goes to the Map column itself. */
            op tmp = *o;
            int cc = o->column;
            tmp.count_columns = &cc;
            tmp.n_count_columns = 1;
            rc = exec_items(x, &tmp);
        } else {
            rc = exec_items(x, o);
        }
        break;
    case OP_JSON:
        rc = exec_json(x, o);
        break;
    case OP_EXPLODE:
        x->explode_at = x->r.p;
        rc = x->p->explode_inline ? explode_items(x, o) : skip_value(x, o, o->w, 0);
        break;
    }
    x->depth--;
    return rc;
}

/* Filter, derived columns, then the row in INSERT order. */
/* row_start: where this row began in out (columns written straight into
 * out may already be there; a filtered row takes them back). */
static int emit_row(run *x, int64_t now_s, buf *out, size_t row_start, plan_result *res)
{
    const plan *p = x->p;
    plan_state *st = x->st;
    expr_ctx ctx = {.slots = st->slots, .now_s = now_s, .scratch = &st->expr_scratch};
    sluice_error e;
    buf_reset(&st->expr_scratch);
    if (p->filter) {
        int keep = 0;
        if (expr_eval_bool(p->filter, &ctx, &keep, &e) != 0)
            return sluice_error_set(x->err, SLUICE_EINVAL, "transform.filter: %s", e.msg);
        if (!keep) {
            out->len = row_start;
            res->filtered++;
            return 0;
        }
    }
    for (size_t i = 0; i < p->n_derived; i++) {
        const derived_col *d = &p->derived[i];
        cvalue v;
        if (expr_eval(d->e, &ctx, &v, &e) != 0)
            return sluice_error_set(x->err, SLUICE_EINVAL, "transform.columns.%s: %s", d->name,
                                    e.msg);
        buf_reset(&st->scratch[d->column]);
        int rc = ch_encode_value(p->cols[d->column].type, &v, &st->scratch[d->column], &e);
        if (rc && v.kind == CV_NULL && rc != SLUICE_ENOMEM)
            rc = ch_encode_default(p->cols[d->column].type, &st->scratch[d->column]);
        if (rc) return sluice_error_set(x->err, rc, "transform.columns.%s: %s", d->name, e.msg);
        st->set[d->column] = 1;
    }
    for (size_t i = x->next; i < p->n_list; i++) {
        int col = p->list[i];
        int rc = st->set[col] ? buf_append(out, st->scratch[col].data, st->scratch[col].len)
                              : ch_encode_default(p->cols[col].type, out);
        if (rc) return sluice_error_set(x->err, rc, "batch buffer full");
    }
    res->rows++;
    return 0;
}

static void reset_row(const plan *p, plan_state *st)
{
    for (size_t i = 0; i < p->n_cols; i++) {
        buf_reset(&st->scratch[i]);
        st->set[i] = 0;
    }
    for (size_t i = 0; i < p->n_slots; i++)
        st->slots[i] = cv_null();
    for (size_t i = 0; i < p->n_slot_consts; i++)
        st->slots[p->slot_consts[i].slot] = p->slot_consts[i].v;
}

/* One row per item of the exploded array at the reader's position: the
 * item's columns and slots are reset, decoded, and the row emitted. */
static int explode_items(run *x, const op *o)
{
    const plan *p = x->p;
    plan_state *st = x->st;
    int64_t index = 0;
    for (;;) {
        int64_t count, bytes;
        int rc = avro_read_block_count(&x->r, &count, &bytes);
        if (rc) return read_fail(x, o, rc);
        if (count == 0) return 0;
        size_t minb = o->min_item_bytes;
        if ((minb && (uint64_t)count > avro_reader_left(&x->r) / minb) ||
            index + count > MAX_ITEMS_PER_ARRAY)
            return run_fail(x, o, SLUICE_EINVAL, "block of %lld items is longer than the input",
                            (long long)count);
        for (int64_t k = 0; k < count; k++, index++) {
            for (size_t i = 0; i < p->n_elem_columns; i++) {
                buf_reset(&st->scratch[p->elem_columns[i]]);
                st->set[p->elem_columns[i]] = 0;
            }
            for (size_t i = 0; i < p->n_elem_slots; i++)
                st->slots[p->elem_slots[i]] = cv_null();
            if (p->index_slot >= 0) st->slots[p->index_slot] = cv_int(index, CV_UNIT_NONE);
            if ((rc = exec(x, o->elem)) != 0 ||
                (rc = emit_row(x, x->now_s, x->out, x->out->len, x->res)) != 0)
                return rc;
        }
    }
}

/* The two-pass explode: the parent was decoded with the array skipped;
 * now go back to the array and emit its rows. */
static int run_explode(run *x)
{
    x->r.p = x->explode_at;
    return explode_items(x, x->p->explode);
}

static int run_json(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s,
                    buf *out, plan_result *res, sluice_error *err);

int plan_run(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s, buf *out,
             plan_result *res, sluice_error *err)
{
    size_t mark = out->len;
    res->rows = res->filtered = 0;
    int rc;
    if (p->is_json) {
        rc = run_json(p, st, msg, len, now_s, out, res, err);
    } else {
        run x = {.p = p,
                 .st = st,
                 .err = err,
                 .out = out,
                 .direct = !p->explode,
                 .now_s = now_s,
                 .res = res};
        avro_reader_init(&x.r, msg, len);
        reset_row(p, st);
        rc = exec(&x, &p->root);
        if (rc == 0 && avro_reader_left(&x.r) > 0)
            rc = run_fail(&x, NULL, SLUICE_EINVAL, "%zu bytes left over after the message",
                          avro_reader_left(&x.r));
        if (rc == 0 && !p->explode)
            rc = emit_row(&x, now_s, out, mark, res);
        else if (rc == 0 && !p->explode_inline)
            rc = run_explode(&x);
    }
    if (rc) {
        out->len = mark; /* nothing of a failed message stays in the batch */
        res->rows = res->filtered = 0;
    }
    return rc;
}

/* ---- schemaless JSON ------------------------------------------------------------ */

static int resolve_json_path(void *ctx, const char *path)
{
    compiler *c = ctx;
    plan *p = c->p;
    if (strcmp(path, "#index") == 0 && !c->opt->explode) return -1;
    for (size_t i = 0; i < p->n_slots; i++)
        if (strcmp(p->slot_paths[i], path) == 0) return (int)i;
    if (p->n_slots >= MAX_PATHS) return -1;
    p->slot_paths[p->n_slots] = arena_strdup(&p->a, path);
    return p->slot_paths[p->n_slots] ? (int)p->n_slots++ : -1;
}

int plan_compile_json(const plan_column *columns, size_t n_columns, const plan_options *opt,
                      plan **out, sluice_error *err)
{
    *out = NULL;
    plan *p = plan_new(opt);
    if (!p) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    p->is_json = 1;
    compiler c = {.p = p, .opt = opt, .err = err};
    char *fed = calloc(n_columns ? n_columns : 1, 1);
    p->slot_paths = arena_calloc(&p->a, MAX_PATHS, sizeof(char *), _Alignof(char *));
    int rc = fed && p->slot_paths ? copy_columns(p, columns, n_columns) : SLUICE_ENOMEM;
    if (rc) {
        sluice_error_set(err, rc, "out of memory");
        goto done;
    }
    c.fed = fed;
    p->explode_path = opt->explode ? arena_strdup(&p->a, opt->explode) : NULL;
    expr_resolver res = {resolve_json_path, &c};
    sluice_error e;
    if (opt->filter && *opt->filter &&
        expr_compile(opt->filter, &res, &p->a, &p->filter, &e) != 0) {
        rc = fail(&c, SLUICE_ECONFIG, "transform.filter: %s", e.msg);
        goto done;
    }
    p->derived = arena_calloc(&p->a, opt->n_derived ? opt->n_derived : 1, sizeof(derived_col),
                              _Alignof(derived_col));
    for (size_t i = 0; p->derived && i < opt->n_derived; i++) {
        int col = find_column(p, opt->derived[i].column);
        if (col < 0) {
            rc = fail(&c, SLUICE_ECONFIG,
                      "transform.columns.%s: the table has no insertable column %s",
                      opt->derived[i].column, opt->derived[i].column);
            goto done;
        }
        if (expr_compile(opt->derived[i].expression, &res, &p->a, &p->derived[i].e, &e) != 0) {
            rc =
                fail(&c, SLUICE_ECONFIG, "transform.columns.%s: %s", opt->derived[i].column, e.msg);
            goto done;
        }
        p->derived[i].column = col;
        p->derived[i].name = opt->derived[i].column;
        p->n_derived++;
    }
    p->index_slot = opt->explode ? resolve_json_path(&c, "#index") : -1;
    for (size_t i = 0; i < n_columns; i++)
        fed[i] = (char)p->cols[i].insertable;
    if ((rc = finish_list(p, fed)) != 0)
        sluice_error_set(err, rc, "out of memory");
    else if (p->n_list == 0)
        rc = fail(&c, SLUICE_EINVAL, "the table has no insertable column");
done:
    free(fed);
    if (rc) {
        plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* obj[path], where path may also walk nested objects at separators:
 * "a.b" finds {"a.b": v} or {"a": {"b": v}}. */
static json_t *json_lookup(json_t *obj, const char *path, char sep, int depth)
{
    if (!json_is_object(obj) || depth > 16) return NULL;
    json_t *v = json_object_get(obj, path);
    if (v) return v;
    for (const char *dot = strchr(path, sep); dot; dot = strchr(dot + 1, sep)) {
        char head[512];
        size_t n = (size_t)(dot - path);
        if (n >= sizeof head) break;
        memcpy(head, path, n);
        head[n] = '\0';
        json_t *sub = json_object_get(obj, head);
        if (json_is_object(sub) && (v = json_lookup(sub, dot + 1, sep, depth + 1)) != NULL)
            return v;
    }
    return NULL;
}

/* A field of the row: under explode, names below the exploded path are
 * read from the current element. */
static json_t *row_lookup(const plan *p, json_t *root, json_t *elem, const char *path)
{
    if (elem && p->explode_path) {
        size_t n = strlen(p->explode_path);
        if (strcmp(path, p->explode_path) == 0) return elem;
        if (strncmp(path, p->explode_path, n) == 0 && path[n] == p->separator)
            return json_lookup(elem, path + n + 1, p->separator, 0);
    }
    return json_lookup(root, path, p->separator, 0);
}

static cvalue json_to_cvalue(json_t *v)
{
    if (json_is_string(v)) return cv_string(json_string_value(v), json_string_length(v));
    if (json_is_integer(v)) return cv_int(json_integer_value(v), CV_UNIT_NONE);
    if (json_is_real(v)) return cv_double(json_real_value(v));
    if (json_is_boolean(v)) return cv_bool(json_is_true(v));
    return cv_null(); /* null, absent, objects and arrays */
}

static int json_row(run *x, json_t *root, json_t *elem, int64_t index, int64_t now_s, buf *out,
                    plan_result *res)
{
    const plan *p = x->p;
    plan_state *st = x->st;
    reset_row(p, st);
    for (size_t i = 0; i < p->n_slots; i++)
        st->slots[i] = json_to_cvalue(row_lookup(p, root, elem, p->slot_paths[i]));
    if (p->index_slot >= 0) st->slots[p->index_slot] = cv_int(index, CV_UNIT_NONE);
    for (size_t i = 0; i < p->n_list; i++) {
        int col = p->list[i];
        json_t *v = row_lookup(p, root, elem, p->cols[col].name);
        sluice_error e;
        int rc = ch_encode_json(p->cols[col].type, v ? v : json_null(), &st->scratch[col], &e);
        if (rc && (!v || json_is_null(v)) && rc != SLUICE_ENOMEM) {
            buf_reset(&st->scratch[col]);
            rc = ch_encode_default(p->cols[col].type, &st->scratch[col]);
        }
        if (rc)
            return sluice_error_set(x->err, rc, "$.%s: column %s: %s", p->cols[col].name,
                                    p->cols[col].name, e.msg);
        st->set[col] = 1;
    }
    return emit_row(x, now_s, out, out->len, res);
}

static int run_json(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s,
                    buf *out, plan_result *res, sluice_error *err)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)msg, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return sluice_error_set(err, SLUICE_EINVAL, "not JSON: %s at line %d column %d (offset %d)",
                                je.text, je.line, je.column, je.position);
    run x = {.p = p, .st = st, .err = err, .out = out};
    int rc = 0;
    if (!json_is_object(root)) {
        rc = sluice_error_set(err, SLUICE_EINVAL, "a JSON message must be an object");
    } else if (p->explode_path) {
        json_t *arr = json_lookup(root, p->explode_path, p->separator, 0);
        if (arr && !json_is_array(arr) && !json_is_null(arr))
            rc = sluice_error_set(err, SLUICE_EINVAL, "$.%s: explode needs an array",
                                  p->explode_path);
        for (size_t i = 0; rc == 0 && json_is_array(arr) && i < json_array_size(arr); i++)
            rc = json_row(&x, root, json_array_get(arr, i), (int64_t)i, now_s, out, res);
    } else {
        rc = json_row(&x, root, NULL, 0, now_s, out, res);
    }
    json_decref(root);
    return rc;
}
