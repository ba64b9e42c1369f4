/*
 * plan_int.h — the inside of a plan (plan.h), shared by the files that
 * compile and run it and by nothing else:
 *   plan_compile.c  Avro (writer, reader, table, transform) → op tree;
 *   plan_run.c      running an Avro plan on a message, emitting rows;
 *   plan_json.c     JSON messages: columns found by path, values encoded
 *                   straight from the text with the streaming reader;
 *   plan_proto_*.c  Protobuf messages: their own op tables (keyed by field
 *                   number), compiled and run there, rows emitted through
 *                   plan_emit_row like the others.
 * Ownership and threads are plan.h's: a plan is immutable after
 * compilation and shared; a plan_state belongs to one running thread.
 */
#ifndef SLUICE_CODEC_PLAN_INT_H
#define SLUICE_CODEC_PLAN_INT_H

#include "codec/avro_binary.h"
#include "codec/expr.h"
#include "codec/json_lex.h"
#include "codec/plan.h"
#include "common/arena.h"

#include <stdarg.h>

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

/* JSON plans (plan_json.c): what a key feeds. */
typedef struct jtarget {
    int column;  /* -1: none */
    int slot;    /* -1: none */
    int explode; /* the exploded array itself */
    int rank;    /* among the ways to reach this path: lower wins */
} jtarget;

typedef struct jlevel jlevel;
/* A column an array of objects under an entry fills one element per item
 * (Nested-style "items.sku Array(T)"; plan_json.c, gather). */
typedef struct jgather {
    int column;
    int rank; /* the best of the column's ways below the entry */
} jgather;
typedef struct jentry {
    const char *key;
    size_t len;
    uint32_t hash;
    jtarget *targets; /* the rest of a path written as this one key */
    size_t n_targets;
    jlevel *nest; /* this key as a prefix: paths continue one object down */
    uint32_t id;  /* among all the plan's entries: plan_state.jseen */
    /* the Array columns reached below nest: gathered when the value is an
     * array of objects */
    const jgather *gather;
    size_t n_gather;
} jentry;

struct jlevel {
    jentry *entries;
    size_t n;
    uint32_t *index; /* open addressing on the key hash: entry index + 1 */
    size_t mask;
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
    jlevel *jroot;        /* the message's keys */
    jlevel *jelem;        /* an exploded element's keys */
    uint32_t n_jentries;  /* entries of all levels */
    const jtarget *jself; /* targets that are the exploded element itself */
    size_t n_jself;
    /* Protobuf plans (plan_proto_compile.c): the compiled message, or NULL */
    const struct proto_plan *proto;
};

/* A column while an array of objects is gathered into it (plan_json.c):
 * the row's own value set aside (its scratch, rank, set and error), the
 * items' elements so far, and whether one of them failed. */
typedef struct gather_col {
    buf save, acc;
    int save_rank;
    char save_set, save_err, failed;
} gather_col;

struct plan_state {
    size_t n_cols;
    buf *scratch; /* per column */
    char *set;    /* per column: written this row */
    cvalue *slots;
    buf expr_scratch;
    buf json_tmp;
    /* JSON plans: the reader, the rank of what each column and slot holds,
     * a column's encoding failure (kept while a better spelling may come),
     * decoded strings the slots point at (per message) */
    json_lex lex;
    int *col_rank, *slot_rank;
    char *col_error;
    sluice_error col_err; /* the message of the last such failure */
    arena json_text;
    /* per JSON plan entry: the serial of the object it was last seen in
     * (duplicate keys among the plan's own keys, plan_json.c walk) */
    uint32_t *jseen;
    uint32_t jserial;
    /* JSON plans: per column, while an array of objects is gathered */
    struct gather_col *gather;
    struct proto_state *proto; /* Protobuf plans: per-field row state */
};

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

/* plan_compile.c: building blocks every plan kind uses. */
int plan_fail(compiler *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
plan *plan_alloc(const plan_options *opt);
int plan_find_column(const plan *p, const char *name);
int plan_copy_columns(plan *p, const plan_column *columns, size_t n);
int plan_finish_list(plan *p, const char *fed);
/* The fewest bytes an Avro value of n can take (a lower bound). */
size_t plan_min_bytes(const sluice_avro_node *n, int depth);

/* plan_run.c: a row's end — filter, derived columns, then the columns in
 * INSERT order (row_start: where the row began in out; a filtered row
 * takes back what was written there) — and a fresh row. */
int plan_emit_row(run *x, int64_t now_s, buf *out, size_t row_start, plan_result *res);
void plan_reset_row(const plan *p, plan_state *st);

/* plan_proto_run.c: a Protobuf plan's per-thread state and its run. */
struct proto_state *plan_proto_state_new(const plan *p);
void plan_proto_state_free(struct proto_state *s);
int plan_run_proto(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s,
                   buf *out, plan_result *res, sluice_error *err);

/* plan_json.c */
int plan_run_json(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s,
                  buf *out, plan_result *res, sluice_error *err);

/* LEB128, as RowBinary writes counts and lengths. */
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

#endif
