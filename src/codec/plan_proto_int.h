/*
 * plan_proto_int.h — the inside of a Protobuf plan, shared by the file that
 * compiles it (plan_proto_compile.c) and the one that runs it
 * (plan_proto_run.c), and by nothing else. plan_proto_compile.c's opening
 * comment has the design; plan.h the contract.
 *
 * Ownership: a proto_plan lives in its plan's arena and is immutable after
 * compilation; a proto_state (seen flags, positions and counts per field)
 * belongs to the plan_state of the one thread that runs the plan.
 */
#ifndef SLUICE_CODEC_PLAN_PROTO_INT_H
#define SLUICE_CODEC_PLAN_PROTO_INT_H

#include "codec/plan_int.h"
#include "codec/proto_schema.h"
#include "codec/proto_wire.h"

#define PROTO_MAX_FLATTEN PLAN_PROTO_MAX_FLATTEN /* messages flattened inside each other */
#define DENSE_MAX 1024 /* field numbers below this are looked up directly */

enum shape { SH_SKIP, SH_LEAF, SH_REPEATED, SH_MESSAGE, SH_NESTED, SH_MAP };
enum leaf_kind { LK_SCALAR, LK_TIMESTAMP, LK_WRAPPER };
enum pfast {
    PF_NONE,
    PF_I64,      /* any signed or 32-bit unsigned integer -> Int64 */
    PF_I32,      /* int32/sint32/sfixed32 -> Int32 */
    PF_U64,      /* unsigned -> UInt64 */
    PF_U32,      /* uint32/fixed32 -> UInt32 */
    PF_BOOL_U8,  /* bool -> UInt8 */
    PF_F64,      /* double -> Float64 */
    PF_F32,      /* float -> Float32 */
    PF_STRING,   /* string/bytes -> String */
    PF_ENUM,     /* enum -> Enum8/Enum16 through a table of numbers 0..255 */
    PF_DATETIME, /* Timestamp -> DateTime */
};

/* One decoded value before it is encoded: integers and the bits of floats
 * in u, strings in s/n, a Timestamp's seconds in u (as int64) and nanos. */
typedef struct pval {
    uint64_t u;
    int32_t nanos;
    const uint8_t *s;
    size_t n;
} pval;

typedef struct pleaf {
    uint8_t kind;  /* leaf_kind */
    uint8_t ptype; /* proto_type of the value (a wrapper's: of its field 1) */
    uint8_t fast;  /* pfast */
    uint8_t nullable;
    uint8_t once;        /* top level, singular: may be written straight into the batch */
    uint8_t enum_as_int; /* an enum into an integer column: its number */
    uint8_t enum_width;  /* PF_ENUM: 1 or 2 bytes */
    uint8_t wire;        /* the wire type one value comes in */
    int column;          /* -1: only a slot wants it */
    int slot;
    const ch_type *enc;   /* the column's type at this level (the element type in arrays) */
    const ch_type *core;  /* enc without Nullable / LowCardinality */
    const proto_enum *en; /* ENUM */
    const int16_t *enum_values;
    const uint8_t *enum_known; /* PF_ENUM: 1 where enum_values holds a value */
    /* Absent: the encoded default, and NULL when the column is Nullable. */
    const uint8_t *dflt;
    size_t dflt_len;
    const char *dflt_err; /* the default does not encode for the column: why */
    pval dflt_val;
    int has_null;
} pleaf;

typedef struct pmsg pmsg;

typedef struct pfield {
    uint32_t number;
    uint8_t shape;            /* enum shape */
    uint8_t wire;             /* wire type of one value */
    uint8_t packable;         /* repeated scalar of a non-LEN wire type: LEN is a packed run */
    uint8_t presence;         /* absent is not the default: NULL in Nullable columns */
    uint8_t required;         /* proto2 required */
    uint8_t in_item;          /* inside a repeated message's item */
    int oneof;                /* the message's oneof index, or -1 */
    size_t index;             /* in its pmsg's fields */
    int id;                   /* row state index */
    const char *name;         /* the field's name, for oneof columns */
    const char *path;         /* "$.a.b", "$.items[].qty" */
    pleaf leaf;               /* SH_LEAF, SH_REPEATED; SH_MAP: the value */
    pleaf key;                /* SH_MAP */
    pmsg *msg;                /* SH_MESSAGE, SH_NESTED (the item) */
    const int *count_columns; /* SH_NESTED, SH_MAP: columns whose Array count is this field's */
    size_t n_count_columns;
} pfield;

typedef struct poneof {
    int column; /* the column the member's name goes to, or -1 */
    const ch_type *enc;
    int once;
} poneof;

struct pmsg {
    const proto_message *m;
    const char *path; /* "$.a", for errors */
    pfield *fields;   /* by number */
    size_t n_fields;
    int32_t *dense; /* number -> index + 1 (0: unknown), for numbers < n_dense */
    uint32_t n_dense;
    poneof *oneofs; /* the message's real oneofs */
    size_t n_oneofs;
    int oneof_base; /* row state index of oneof 0 */
    int id_lo, id_hi, oneof_lo, oneof_hi;
    /* Repeated, nested and map fields of this message and of the messages
     * flattened into it: their Arrays close when this message (the row, or
     * one item) ends. */
    const pfield **closers;
    size_t n_closers;
    /* The fields an absent value must be filled in for (leaves, flattened
     * messages, required fields): what fill() walks after the message. */
    const pfield **fillers;
    size_t n_fillers;
};

struct proto_plan {
    pmsg *root;
    int n_ids;
    int n_oneofs;
    /* Per column: the root message's singular, optional leaf that writes it
     * once (NULL for any other column): what a gap fill may take as absent
     * (plan_proto_run.c). */
    const pfield **gap_leaf;
};

struct proto_state {
    uint8_t *seen;
    size_t *pos;     /* where the field's bytes began in its column's scratch */
    uint32_t *count; /* values of a repeated field, items of a nested one */
    int32_t *oneof;  /* the member (field index) set, or -1 */
    int n_ids, n_oneofs;
};

/* plan_proto_compile.c */
int plan_proto_wire_of(int ptype);
const char *plan_proto_type_name(int ptype);

/* plan_proto_run.c: v encoded for the leaf's column type into b (the fast
 * pairs directly, the rest through ch_encode_value); 0, SLUICE_ENOMEM, or
 * a conversion error in *e with b as it was. Compilation uses it for the
 * bytes of each leaf's default. */
int plan_proto_encode_leaf(const pleaf *l, const pval *v, buf *b, sluice_error *e);

#endif
