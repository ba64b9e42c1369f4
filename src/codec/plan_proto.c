/*
 * plan_proto.c — Protobuf messages into ClickHouse RowBinary: a plan
 * compiled from one message type of a parsed schema (proto_schema.h) and
 * the table's columns, run on the wire bytes with no intermediate tree
 * (plan.h has the contract, plan_int.h the shared parts).
 *
 * Why its own op tables and not plan_compile.c's op tree: Avro bytes come
 * in schema order, so an Avro plan is a walk in that order. Protobuf bytes
 * come as (field number, wire type, value) in any order, a field may be
 * absent (then it takes a default, or NULL), repeated (its values
 * scattered between other fields, packed or not) or even present twice
 * (the last value wins, messages merge). So a compiled message here is a
 * table from field number to what the field feeds (a dense array for
 * numbers up to 1024, binary search above), and running it is a loop over
 * tags that looks each one up. What it shares with the Avro plan is
 * everything after the decode: the table's columns, the INSERT column
 * list, per-column scratch, straight writes into the batch for columns
 * written once and in table order, transforms' slots and plan_emit_row.
 *
 * Compilation decides (per field, along the flattened name "a.b" / "a_b"):
 *   SH_LEAF      one value into a column (and/or a transform slot): a
 *                scalar, an enum, a google.protobuf.Timestamp or a
 *                wrapper (google.protobuf.Int64Value, …), each with its
 *                encoded default and, for fields with presence in Nullable
 *                columns, the NULL that stands for "absent";
 *   SH_REPEATED  a repeated leaf into an Array column, packed or not;
 *   SH_MESSAGE   a singular message flattened into its fields' columns;
 *   SH_NESTED    a repeated message into Nested-style Array columns
 *                "a.b", one element per item in every column it feeds;
 *   SH_MAP       map<K, V> into Map(K, V) or "a.keys" / "a.values";
 *   SH_SKIP      no column: skipped by wire type (so are unknown numbers).
 * A oneof may also feed a column named after it with the name of the
 * member that is set.
 *
 * Running keeps, per field of the compiled tree (numbered depth first, so
 * a message's fields and everything below it are one range): seen (this
 * row or item), where its bytes began in its column (to replace a value
 * seen twice), and how many values a repeated field has had (Array counts
 * are known at the end: one byte is reserved when the first value comes
 * and patched, moving the bytes only past 127 values). After the message,
 * fields never seen are filled from their defaults, top-level arrays get
 * their counts, and the row is emitted. A field seen twice when its first
 * value already went straight into the batch starts the message over with
 * straight writes off (rare: only concatenated messages do that).
 *
 * Wire types are checked against the field's type (a repeated scalar takes
 * both its own wire type and LEN, packed); a mismatch is an error naming
 * both, as is a proto2 required field that is absent. Every error names
 * the byte offset in the Protobuf bytes and the field path.
 *
 * Only the C model is read (no call into proto_schema.cc), so this file is
 * part of libsluice's C objects like the rest of the plan. The plan points
 * into the schema, which must outlive it.
 */
#include "codec/iso8601.h"
#include "codec/plan_int.h"
#include "codec/proto_wire.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROTO_MAX_FLATTEN 32 /* messages flattened inside each other */
#define DENSE_MAX 1024       /* field numbers below this are looked up directly */
#define RESTART 1            /* run_message: start over with straight writes off */

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
};

struct proto_plan {
    pmsg *root;
    int n_ids;
    int n_oneofs;
};

struct proto_state {
    uint8_t *seen;
    size_t *pos;     /* where the field's bytes began in its column's scratch */
    uint32_t *count; /* values of a repeated field, items of a nested one */
    int32_t *oneof;  /* the member (field index) set, or -1 */
    int n_ids, n_oneofs;
};

/* ---- compiling ------------------------------------------------------------------------ */

typedef struct pcomp {
    compiler c;
    int n_ids, n_oneofs;
    const proto_message *stack[PROTO_MAX_FLATTEN];
    size_t depth;
} pcomp;

static const ch_type *core_of(const ch_type *t)
{
    while (t && (t->kind == CH_NULLABLE || t->kind == CH_LOW_CARDINALITY))
        t = t->inner;
    return t;
}

static char *join_name(arena *a, const char *prefix, char sep, const char *name)
{
    if (!prefix || !*prefix) return arena_strdup(a, name);
    size_t n = strlen(prefix) + strlen(name) + 2;
    char *s = arena_alloc(a, n, 1);
    if (s) snprintf(s, n, "%s%c%s", prefix, sep, name);
    return s;
}

static char *join_path(arena *a, const char *parent, const char *name, int item)
{
    size_t n = strlen(parent) + strlen(name) + 4;
    char *s = arena_alloc(a, n, 1);
    if (s) snprintf(s, n, item ? "%s[]" : "%s.%s", parent, name);
    return s;
}

static int wire_of(int ptype)
{
    switch (ptype) {
    case PROTO_DOUBLE:
    case PROTO_FIXED64:
    case PROTO_SFIXED64:
        return PROTO_WIRE_I64;
    case PROTO_FLOAT:
    case PROTO_FIXED32:
    case PROTO_SFIXED32:
        return PROTO_WIRE_I32;
    case PROTO_STRING:
    case PROTO_BYTES:
    case PROTO_MESSAGE:
        return PROTO_WIRE_LEN;
    case PROTO_GROUP:
        return PROTO_WIRE_SGROUP;
    default:
        return PROTO_WIRE_VARINT;
    }
}

static const char *type_name(int ptype)
{
    static const char *const names[] = {"?",        "double",   "float",   "int64",  "uint64",
                                        "int32",    "fixed64",  "fixed32", "bool",   "string",
                                        "group",    "message",  "bytes",   "uint32", "enum",
                                        "sfixed32", "sfixed64", "sint32",  "sint64"};
    return ptype > 0 && ptype <= 18 ? names[ptype] : "?";
}

/* Well-known message types that are values, not records. */
static int wrapper_type(const proto_message *m)
{
    static const struct {
        const char *name;
        int type;
    } w[] = {{"google.protobuf.DoubleValue", PROTO_DOUBLE},
             {"google.protobuf.FloatValue", PROTO_FLOAT},
             {"google.protobuf.Int64Value", PROTO_INT64},
             {"google.protobuf.UInt64Value", PROTO_UINT64},
             {"google.protobuf.Int32Value", PROTO_INT32},
             {"google.protobuf.UInt32Value", PROTO_UINT32},
             {"google.protobuf.BoolValue", PROTO_BOOL},
             {"google.protobuf.StringValue", PROTO_STRING},
             {"google.protobuf.BytesValue", PROTO_BYTES}};
    if (!m) return 0;
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (strcmp(m->full_name, w[i].name) == 0) return w[i].type;
    return 0;
}

static int is_timestamp(const proto_message *m)
{
    return m && strcmp(m->full_name, "google.protobuf.Timestamp") == 0;
}

static int is_integer_kind(ch_kind k)
{
    return k >= CH_INT8 && k <= CH_UINT64;
}

/* ---- values to cvalues and bytes (compile time and run time alike) ---- */

static int64_t signed_value(int ptype, uint64_t u)
{
    switch (ptype) {
    case PROTO_INT32:
    case PROTO_SFIXED32:
    case PROTO_ENUM:
        return (int32_t)(uint32_t)u;
    case PROTO_SINT32: {
        uint32_t z = (uint32_t)u;
        return (int32_t)((z >> 1) ^ (0u - (z & 1)));
    }
    case PROTO_SINT64:
        return (int64_t)((u >> 1) ^ (0 - (u & 1)));
    case PROTO_UINT32:
    case PROTO_FIXED32:
        return (uint32_t)u;
    case PROTO_BOOL:
        return u != 0;
    default: /* int64, sfixed64; uint64 and fixed64 when they fit */
        return (int64_t)u;
    }
}

static int is_unsigned64(int ptype)
{
    return ptype == PROTO_UINT64 || ptype == PROTO_FIXED64;
}

static const proto_enum_value *enum_value(const proto_enum *e, int32_t number)
{
    for (size_t i = 0; e && i < e->n_values; i++)
        if (e->values[i].number == number) return &e->values[i];
    return NULL;
}

/* RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits, as proto3's JSON
 * mapping writes a Timestamp. */
static size_t format_timestamp(int64_t secs, int32_t nanos, char *out, size_t cap)
{
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) sod += 86400, days--;
    int64_t y;
    unsigned mo, d;
    iso8601_civil_from_days(days, &y, &mo, &d);
    int n = snprintf(out, cap, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, mo, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    if (nanos % 1000000 == 0 && nanos)
        n += snprintf(out + n, cap - (size_t)n, ".%03d", (int)(nanos / 1000000));
    else if (nanos % 1000 == 0 && nanos)
        n += snprintf(out + n, cap - (size_t)n, ".%06d", (int)(nanos / 1000));
    else if (nanos)
        n += snprintf(out + n, cap - (size_t)n, ".%09d", (int)nanos);
    n += snprintf(out + n, cap - (size_t)n, "Z");
    return (size_t)n;
}

static int64_t pow10_of(int k)
{
    int64_t v = 1;
    while (k-- > 0)
        v *= 10;
    return v;
}

/* The value as the column encoder takes it; tmp holds text or bytes the
 * cvalue points to (so the cvalue lives only as long as tmp). */
static cvalue leaf_cvalue(const pleaf *l, const pval *v, char tmp[48])
{
    if (l->kind == LK_TIMESTAMP) {
        int64_t secs = (int64_t)v->u;
        switch (l->core->kind) {
        case CH_DATETIME64: {
            int p = l->core->precision;
            int64_t ticks;
            if (!__builtin_mul_overflow(secs, pow10_of(p), &ticks) &&
                !__builtin_add_overflow(ticks, v->nanos / pow10_of(9 - p), &ticks))
                return cv_int(ticks, CV_UNIT_NONE);
            return cv_int(secs, CV_UNIT_TS_S); /* out of range: the encoder says so */
        }
        case CH_STRING:
        case CH_FIXED_STRING:
            return cv_string(tmp, format_timestamp(secs, v->nanos, tmp, 48));
        default:
            return cv_int(secs, CV_UNIT_TS_S);
        }
    }
    switch (l->ptype) {
    case PROTO_DOUBLE: {
        double d;
        memcpy(&d, &v->u, 8);
        return cv_double(d);
    }
    case PROTO_FLOAT: {
        uint32_t bits = (uint32_t)v->u;
        float f;
        memcpy(&f, &bits, 4);
        cvalue c = cv_double(f);
        c.is_float32 = 1;
        return c;
    }
    case PROTO_BOOL:
        return cv_bool(v->u != 0);
    case PROTO_STRING:
        return cv_string((const char *)v->s, v->n);
    case PROTO_BYTES: {
        cvalue c = cv_string((const char *)v->s, v->n);
        c.kind = CV_BYTES;
        return c;
    }
    case PROTO_ENUM: {
        int32_t number = (int32_t)(uint32_t)v->u;
        const proto_enum_value *ev = l->enum_as_int ? NULL : enum_value(l->en, number);
        if (!ev) return cv_int(number, CV_UNIT_NONE);
        cvalue c = cv_string(ev->name, strlen(ev->name));
        c.kind = CV_ENUM;
        c.i = number;
        return c;
    }
    default:
        if (is_unsigned64(l->ptype) && v->u > INT64_MAX) {
            /* Past int64: an unscaled decimal of 9 big-endian bytes. */
            tmp[0] = 0;
            for (int i = 0; i < 8; i++)
                tmp[1 + i] = (char)(uint8_t)(v->u >> (56 - 8 * i));
            cvalue c = cv_string(tmp, 9);
            c.kind = CV_DECIMAL;
            c.scale = 0;
            return c;
        }
        return cv_int(signed_value(l->ptype, v->u), CV_UNIT_NONE);
    }
}

/* What a transform expression sees: no pointers into temporaries. */
static cvalue slot_cvalue(const pleaf *l, const pval *v)
{
    if (l->kind == LK_TIMESTAMP) {
        int64_t us;
        if (__builtin_mul_overflow((int64_t)v->u, (int64_t)1000000, &us) ||
            __builtin_add_overflow(us, v->nanos / 1000, &us))
            return cv_null();
        return cv_int(us, CV_UNIT_TS_US);
    }
    if (is_unsigned64(l->ptype) && v->u > INT64_MAX) return cv_double((double)v->u);
    if (l->ptype == PROTO_ENUM && !l->enum_as_int) {
        char unused[48];
        return leaf_cvalue(l, v, unused); /* names point into the schema */
    }
    char unused[48];
    if (l->ptype == PROTO_STRING || l->ptype == PROTO_BYTES || l->ptype == PROTO_DOUBLE ||
        l->ptype == PROTO_FLOAT || l->ptype == PROTO_BOOL)
        return leaf_cvalue(l, v, unused);
    return cv_int(signed_value(l->ptype, v->u), CV_UNIT_NONE);
}

static inline void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Encode v for the leaf's column type into b: the fast pairs directly, the
 * rest through ch_encode_value. 0, SLUICE_ENOMEM, or a conversion error in
 * *e (b as it was). */
static int encode_leaf(const pleaf *l, const pval *v, buf *b, sluice_error *e)
{
    uint8_t tmp[16];
    size_t n = 0;
    if (l->nullable) tmp[n++] = 0;
    switch (l->fast) {
    case PF_STRING: {
        if (b->alloc - b->len <= v->n + 11 && buf_reserve(b, v->n + 11) != 0)
            return sluice_error_set(e, SLUICE_ENOMEM, "scratch bound reached");
        uint8_t *d = b->data + b->len;
        if (l->nullable) *d++ = 0;
        uint64_t len = v->n;
        while (len > 0x7f) {
            *d++ = (uint8_t)(len | 0x80);
            len >>= 7;
        }
        *d++ = (uint8_t)len;
        if (v->n) memcpy(d, v->s, v->n);
        b->len = (size_t)(d + v->n - b->data);
        return 0;
    }
    case PF_I64:
        put_le(tmp + n, (uint64_t)signed_value(l->ptype, v->u), 8);
        n += 8;
        break;
    case PF_I32:
        put_le(tmp + n, (uint64_t)signed_value(l->ptype, v->u), 4);
        n += 4;
        break;
    case PF_U64:
        put_le(tmp + n, is_unsigned64(l->ptype) ? v->u : (uint32_t)v->u, 8);
        n += 8;
        break;
    case PF_U32:
        put_le(tmp + n, (uint32_t)v->u, 4);
        n += 4;
        break;
    case PF_BOOL_U8:
        tmp[n++] = v->u != 0;
        break;
    case PF_F64:
        put_le(tmp + n, v->u, 8);
        n += 8;
        break;
    case PF_F32:
        put_le(tmp + n, (uint32_t)v->u, 4);
        n += 4;
        break;
    case PF_ENUM: {
        uint32_t number = (uint32_t)v->u;
        if (number > 255 || !l->enum_known[number]) goto general; /* it says why */
        put_le(tmp + n, (uint64_t)(int64_t)l->enum_values[number], l->enum_width);
        n += l->enum_width;
        break;
    }
    case PF_DATETIME:
        if ((int64_t)v->u < 0 || (int64_t)v->u > (int64_t)UINT32_MAX) goto general;
        put_le(tmp + n, v->u, 4);
        n += 4;
        break;
    default:
        goto general;
    }
    if (buf_append(b, tmp, n) != 0) return sluice_error_set(e, SLUICE_ENOMEM, "scratch bound");
    return 0;
general:;
    char text[48];
    cvalue c = leaf_cvalue(l, v, text);
    return ch_encode_value(l->enc, &c, b, e);
}

/* ---- compiling fields ---- */

static int find_column(pcomp *pc, const char *name)
{
    int col = plan_find_column(pc->c.p, name);
    return col >= 0 && !pc->c.fed[col] ? col : -1;
}

/* A field's column: by its name, else by its JSON name. *name is set to
 * the name that matched (or the field name). */
static int field_column(pcomp *pc, const char *prefix, const proto_field *f, const char **name)
{
    arena *a = &pc->c.p->a;
    *name = join_name(a, prefix, pc->c.p->separator, f->name);
    if (!*name) return -1;
    int col = find_column(pc, *name);
    if (col < 0 && f->json_name && strcmp(f->json_name, f->name) != 0) {
        const char *alt = join_name(a, prefix, pc->c.p->separator, f->json_name);
        if (alt && (col = find_column(pc, alt)) >= 0) *name = alt;
    }
    return col;
}

static void choose_fast(pleaf *l)
{
    const ch_type *t = l->enc;
    if (t->kind == CH_LOW_CARDINALITY) t = t->inner;
    if (t->kind == CH_NULLABLE) {
        l->nullable = 1;
        t = t->inner;
    }
    if (t->kind == CH_LOW_CARDINALITY) t = t->inner;
    if (l->kind == LK_TIMESTAMP) {
        if (t->kind == CH_DATETIME) l->fast = PF_DATETIME;
        return;
    }
    switch (l->ptype) {
    case PROTO_STRING:
    case PROTO_BYTES:
        if (t->kind == CH_STRING) l->fast = PF_STRING;
        break;
    case PROTO_INT64:
    case PROTO_SINT64:
    case PROTO_SFIXED64:
        if (t->kind == CH_INT64) l->fast = PF_I64;
        break;
    case PROTO_INT32:
    case PROTO_SINT32:
    case PROTO_SFIXED32:
        if (t->kind == CH_INT64) l->fast = PF_I64;
        if (t->kind == CH_INT32) l->fast = PF_I32;
        break;
    case PROTO_UINT32:
    case PROTO_FIXED32:
        if (t->kind == CH_INT64) l->fast = PF_I64;
        if (t->kind == CH_UINT64) l->fast = PF_U64;
        if (t->kind == CH_UINT32) l->fast = PF_U32;
        break;
    case PROTO_UINT64:
    case PROTO_FIXED64:
        if (t->kind == CH_UINT64) l->fast = PF_U64;
        break;
    case PROTO_BOOL:
        if (t->kind == CH_UINT8) l->fast = PF_BOOL_U8;
        break;
    case PROTO_DOUBLE:
        if (t->kind == CH_FLOAT64) l->fast = PF_F64;
        break;
    case PROTO_FLOAT:
        if (t->kind == CH_FLOAT32) l->fast = PF_F32;
        break;
    case PROTO_ENUM:
        if (t->kind == CH_ENUM8 || t->kind == CH_ENUM16) l->fast = PF_ENUM;
        break;
    default:
        break;
    }
}

/* The enum's numbers 0..255 mapped to the column's values, by name. */
static int enum_table(pcomp *pc, pleaf *l)
{
    const ch_type *t = l->core;
    int16_t *vals = arena_calloc(&pc->c.p->a, 256, sizeof *vals, _Alignof(int16_t));
    uint8_t *known = arena_calloc(&pc->c.p->a, 256, 1, 1);
    if (!vals || !known) return SLUICE_ENOMEM;
    for (size_t i = 0; l->en && i < l->en->n_values; i++) {
        int32_t num = l->en->values[i].number;
        if (num < 0 || num > 255 || known[num]) continue; /* aliases: the first name */
        for (size_t k = 0; k < t->n_enum; k++)
            if (strcmp(t->enum_names[k], l->en->values[i].name) == 0) {
                vals[num] = t->enum_values[k];
                known[num] = 1;
            }
    }
    l->enum_values = vals;
    l->enum_known = known;
    l->enum_width = t->kind == CH_ENUM8 ? 1 : 2;
    return 0;
}

/* C escapes of a proto2 bytes default (\n, \\, \ooo, \xHH). */
static size_t unescape(const char *s, char *out)
{
    size_t n = 0;
    while (*s) {
        if (*s != '\\' || !s[1]) {
            out[n++] = *s++;
            continue;
        }
        s++;
        if (*s >= '0' && *s <= '7') {
            int v = 0;
            for (int k = 0; k < 3 && *s >= '0' && *s <= '7'; k++)
                v = v * 8 + (*s++ - '0');
            out[n++] = (char)v;
        } else if (*s == 'x' && s[1]) {
            int v = 0;
            s++;
            for (int k = 0; k < 2 && *s && strchr("0123456789abcdefABCDEF", *s); k++, s++)
                v = v * 16 + (*s <= '9' ? *s - '0' : (*s | 32) - 'a' + 10);
            out[n++] = (char)v;
        } else {
            const char *from = "ntr\\'\"?abfv", *to = "\n\t\r\\'\"?\a\b\f\v";
            const char *k = strchr(from, *s);
            out[n++] = k ? to[k - from] : *s;
            s++;
        }
    }
    return n;
}

/* The value an absent field reads as: proto2's [default = …], else the
 * type's zero (an enum's first value). */
static int default_value(pcomp *pc, const pleaf *l, const proto_field *f, pval *v)
{
    memset(v, 0, sizeof *v);
    v->s = (const uint8_t *)"";
    if (l->kind == LK_TIMESTAMP || l->kind == LK_WRAPPER) return 0;
    const char *d = f->default_value;
    if (l->ptype == PROTO_ENUM) {
        const proto_enum *e = l->en;
        if (e && e->n_values) v->u = (uint64_t)(uint32_t)e->values[0].number;
        for (size_t i = 0; d && e && i < e->n_values; i++)
            if (strcmp(e->values[i].name, d) == 0) {
                v->u = (uint64_t)(uint32_t)e->values[i].number;
                break;
            }
        return 0;
    }
    if (!d) return 0;
    switch (l->ptype) {
    case PROTO_STRING:
        v->s = (const uint8_t *)d;
        v->n = strlen(d);
        return 0;
    case PROTO_BYTES: {
        char *copy = arena_alloc(&pc->c.p->a, strlen(d) + 1, 1);
        if (!copy) return SLUICE_ENOMEM;
        v->n = unescape(d, copy);
        v->s = (const uint8_t *)copy;
        return 0;
    }
    case PROTO_BOOL:
        v->u = strcmp(d, "true") == 0;
        return 0;
    case PROTO_DOUBLE:
    case PROTO_FLOAT: {
        double x = strcmp(d, "inf") == 0    ? INFINITY
                   : strcmp(d, "-inf") == 0 ? -INFINITY
                   : strcmp(d, "nan") == 0  ? NAN
                                            : strtod(d, NULL);
        if (l->ptype == PROTO_DOUBLE) {
            memcpy(&v->u, &x, 8);
        } else {
            float fl = (float)x;
            uint32_t bits;
            memcpy(&bits, &fl, 4);
            v->u = bits;
        }
        return 0;
    }
    default:
        if (is_unsigned64(l->ptype) || l->ptype == PROTO_UINT32 || l->ptype == PROTO_FIXED32) {
            v->u = strtoull(d, NULL, 0);
        } else {
            int64_t x = strtoll(d, NULL, 0);
            if (l->ptype == PROTO_SINT32 || l->ptype == PROTO_SINT64)
                v->u = ((uint64_t)x << 1) ^ (uint64_t)(x >> 63); /* stored as on the wire */
            else
                v->u = (uint64_t)x;
        }
        return 0;
    }
}

/* One value into a column (enc at this level) and/or a slot: its fast
 * path, its default bytes and its NULL. */
static int compile_leaf(pcomp *pc, pleaf *l, const proto_field *f, int column, const ch_type *enc,
                        int slot, int once, const char *path)
{
    memset(l, 0, sizeof *l);
    l->column = column;
    l->slot = slot;
    l->once = (uint8_t)once;
    l->kind = LK_SCALAR;
    l->ptype = (uint8_t)f->type;
    if (f->type == PROTO_MESSAGE && is_timestamp(f->message)) {
        l->kind = LK_TIMESTAMP;
        l->ptype = PROTO_INT64;
    } else if (f->type == PROTO_MESSAGE) {
        l->kind = LK_WRAPPER;
        l->ptype = (uint8_t)wrapper_type(f->message);
    }
    l->en = f->type == PROTO_ENUM ? f->enum_type : NULL;
    if (column < 0) { /* a slot only */
        l->enc = NULL;
        return default_value(pc, l, f, &l->dflt_val)
                   ? plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory")
                   : 0;
    }
    l->enc = enc;
    l->core = core_of(enc);
    const char *cname = pc->c.p->cols[column].name;
    if (l->core->kind == CH_ARRAY || l->core->kind == CH_MAP)
        return plan_fail(&pc->c, SLUICE_EINVAL, "field %s (%s) cannot go into column %s (%s)", path,
                         l->kind == LK_TIMESTAMP ? "google.protobuf.Timestamp" : type_name(f->type),
                         cname, enc->text);
    if (l->kind == LK_TIMESTAMP && l->core->kind != CH_DATETIME && l->core->kind != CH_DATETIME64 &&
        l->core->kind != CH_DATE && l->core->kind != CH_STRING && l->core->kind != CH_FIXED_STRING)
        return plan_fail(&pc->c, SLUICE_EINVAL,
                         "field %s (google.protobuf.Timestamp) cannot go into column %s (%s): "
                         "use Date, DateTime, DateTime64 or String",
                         path, cname, enc->text);
    l->enum_as_int = l->ptype == PROTO_ENUM && is_integer_kind(l->core->kind);
    choose_fast(l);
    if (l->fast == PF_ENUM && enum_table(pc, l) != 0)
        return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    int rc = default_value(pc, l, f, &l->dflt_val);
    if (rc) return plan_fail(&pc->c, rc, "out of memory");
    /* The bytes of "absent", encoded once. */
    buf b;
    buf_init(&b, 1 << 20);
    sluice_error e;
    cvalue null = cv_null();
    if (ch_encode_value(enc, &null, &b, &e) == 0) l->has_null = 1;
    buf_reset(&b);
    rc = encode_leaf(l, &l->dflt_val, &b, &e);
    if (rc == SLUICE_ENOMEM) {
        buf_free(&b);
        return plan_fail(&pc->c, rc, "out of memory");
    }
    if (rc) {
        char msg[SLUICE_ERROR_MSG_MAX + 64];
        snprintf(msg, sizeof msg, "absent, and its default cannot go into column %s: %s", cname,
                 e.msg);
        l->dflt_err = arena_strdup(&pc->c.p->a, msg);
    } else {
        uint8_t *copy = arena_alloc(&pc->c.p->a, b.len ? b.len : 1, 1);
        if (copy) memcpy(copy, b.data, b.len);
        l->dflt = copy;
        l->dflt_len = b.len;
    }
    buf_free(&b);
    if (!l->dflt && !l->dflt_err) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    pc->c.fed[column] = 1;
    return 0;
}

static int compile_message(pcomp *pc, pmsg *pm, const proto_message *m, const char *prefix,
                           const char *epath, int in_item);

static int slot_for(pcomp *pc, const char *name)
{
    for (size_t i = 0; i < pc->c.n_paths; i++)
        if (strcmp(pc->c.paths[i], name) == 0) return pc->c.path_slots[i];
    return -1;
}

/* Columns an item's fields write (for the count of a Nested field). */
static void item_columns(const pmsg *m, int *cols, size_t *n, int depth)
{
    if (depth > PROTO_MAX_FLATTEN) return;
    for (size_t i = 0; i < m->n_fields; i++) {
        const pfield *f = &m->fields[i];
        if ((f->shape == SH_LEAF || f->shape == SH_REPEATED) && f->leaf.column >= 0)
            cols[(*n)++] = f->leaf.column;
        else if (f->shape == SH_MESSAGE)
            item_columns(f->msg, cols, n, depth + 1);
    }
    for (size_t i = 0; i < m->n_oneofs; i++)
        if (m->oneofs[i].column >= 0) cols[(*n)++] = m->oneofs[i].column;
}

static int reject_unmapped(pcomp *pc, const char *path, const char *name)
{
    if (pc->c.opt->extra_fields != PLAN_EXTRA_REJECT) return 0;
    return plan_fail(&pc->c, SLUICE_EINVAL, "field %s has no column named %s in the table", path,
                     name);
}

/* A column whose name starts with prefix + separator: something below
 * `prefix` was meant to be mapped. */
static const char *column_below(pcomp *pc, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < pc->c.p->n_cols; i++) {
        const char *c = pc->c.p->cols[i].name;
        if (pc->c.p->cols[i].insertable && strncmp(c, prefix, n) == 0 && c[n] == pc->c.p->separator)
            return c;
    }
    return NULL;
}

static int compile_map(pcomp *pc, pfield *pf, const proto_field *f, const char *name,
                       const char *path)
{
    const proto_message *entry = f->message;
    const proto_field *kf = NULL, *vf = NULL;
    for (size_t i = 0; i < entry->n_fields; i++) {
        if (entry->fields[i].number == 1) kf = &entry->fields[i];
        if (entry->fields[i].number == 2) vf = &entry->fields[i];
    }
    arena *a = &pc->c.p->a;
    char sep = pc->c.p->separator;
    int mc = find_column(pc, name);
    int kc = -1, vc = -1;
    if (mc < 0) {
        kc = find_column(pc, join_name(a, name, sep, "keys"));
        vc = find_column(pc, join_name(a, name, sep, "values"));
    }
    if (mc < 0 && (kc < 0 || vc < 0)) {
        pf->shape = SH_SKIP;
        return reject_unmapped(pc, path, name);
    }
    if (!kf || !vf) return plan_fail(&pc->c, SLUICE_EINVAL, "map %s has no key or value", path);
    if (pf->in_item)
        return plan_fail(&pc->c, SLUICE_EINVAL,
                         "field %s: maps inside repeated messages cannot go into columns", path);
    if (vf->type == PROTO_MESSAGE && !is_timestamp(vf->message) && !wrapper_type(vf->message))
        return plan_fail(&pc->c, SLUICE_EINVAL,
                         "field %s: map values of message type %s cannot go into columns", path,
                         vf->message->full_name);
    const char *vpath = join_path(a, path, "", 1);
    int *cc = arena_alloc(a, 2 * sizeof(int), _Alignof(int));
    if (!cc || !vpath) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    int rc;
    if (mc >= 0) {
        const ch_type *m = core_of(pc->c.p->cols[mc].type);
        if (m->kind != CH_MAP)
            return plan_fail(&pc->c, SLUICE_EINVAL, "field %s (map) cannot go into column %s (%s)",
                             path, name, pc->c.p->cols[mc].type->text);
        rc = compile_leaf(pc, &pf->key, kf, mc, m->inner, -1, 0, vpath);
        rc = rc ? rc : compile_leaf(pc, &pf->leaf, vf, mc, m->inner2, -1, 0, vpath);
        cc[0] = mc;
        pf->n_count_columns = 1;
    } else {
        const ch_type *kt = core_of(pc->c.p->cols[kc].type), *vt = core_of(pc->c.p->cols[vc].type);
        if (kt->kind != CH_ARRAY || vt->kind != CH_ARRAY)
            return plan_fail(&pc->c, SLUICE_EINVAL,
                             "field %s (map) needs Array columns %s%ckeys and %s%cvalues", path,
                             name, sep, name, sep);
        rc = compile_leaf(pc, &pf->key, kf, kc, kt->inner, -1, 0, vpath);
        rc = rc ? rc : compile_leaf(pc, &pf->leaf, vf, vc, vt->inner, -1, 0, vpath);
        cc[0] = kc;
        cc[1] = vc;
        pf->n_count_columns = 2;
    }
    pf->count_columns = cc;
    pf->shape = SH_MAP;
    return rc;
}

static int compile_nested(pcomp *pc, pfield *pf, const proto_field *f, const char *name,
                          const char *path)
{
    if (pf->in_item) {
        if (column_below(pc, name) || find_column(pc, name) >= 0)
            return plan_fail(&pc->c, SLUICE_EINVAL,
                             "field %s: repeated messages inside repeated messages cannot go "
                             "into columns",
                             path);
        pf->shape = SH_SKIP;
        return 0;
    }
    if (pc->depth >= PROTO_MAX_FLATTEN) {
        pf->shape = SH_SKIP;
        return 0;
    }
    pmsg *item = arena_calloc(&pc->c.p->a, 1, sizeof *item, _Alignof(pmsg));
    const char *ipath = join_path(&pc->c.p->a, path, "", 1);
    if (!item || !ipath) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    pc->stack[pc->depth++] = f->message;
    int rc = compile_message(pc, item, f->message, name, ipath, 1);
    pc->depth--;
    if (rc) return rc;
    int *cols = arena_alloc(&pc->c.p->a, (pc->c.p->n_cols + 1) * sizeof(int), _Alignof(int));
    if (!cols) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    size_t n = 0;
    item_columns(item, cols, &n, 0);
    if (n == 0) {
        pf->shape = SH_SKIP;
        return reject_unmapped(pc, path, name);
    }
    pf->shape = SH_NESTED;
    pf->msg = item;
    pf->count_columns = cols;
    pf->n_count_columns = n;
    return 0;
}

static int compile_field(pcomp *pc, pfield *pf, const proto_field *f, const char *prefix,
                         const char *epath, int in_item)
{
    arena *a = &pc->c.p->a;
    pf->number = (uint32_t)f->number;
    pf->name = f->name;
    pf->required = f->label == PROTO_REQUIRED;
    pf->presence = f->has_presence;
    pf->oneof = f->oneof_index;
    pf->in_item = (uint8_t)in_item;
    pf->id = pc->n_ids++;
    pf->wire = (uint8_t)wire_of(f->type);
    pf->path = join_path(a, epath, f->name, 0);
    if (!pf->path) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    const char *name;
    int col = field_column(pc, prefix, f, &name);
    if (!name) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    int repeated = f->label == PROTO_REPEATED;
    int leafish = f->type != PROTO_MESSAGE && f->type != PROTO_GROUP;
    leafish |= f->type == PROTO_MESSAGE && (is_timestamp(f->message) || wrapper_type(f->message));

    if (f->type == PROTO_GROUP) {
        pf->shape = SH_SKIP;
        if (col >= 0)
            return plan_fail(&pc->c, SLUICE_EINVAL,
                             "field %s is a proto2 group, which cannot go into columns", pf->path);
        return 0;
    }
    if (f->type == PROTO_MESSAGE && f->message && f->message->map_entry)
        return compile_map(pc, pf, f, name, pf->path);
    if (!leafish && repeated) return compile_nested(pc, pf, f, name, pf->path);
    if (!leafish) { /* a singular message: flattened */
        if (col >= 0)
            return plan_fail(&pc->c, SLUICE_EINVAL,
                             "field %s (message %s) cannot go into column %s (%s): use columns "
                             "named %s%csub-field",
                             pf->path, f->message->full_name, name, pc->c.p->cols[col].type->text,
                             name, pc->c.p->separator);
        /* A message inside itself flattens only as deep as columns ask. */
        int recursive = 0;
        for (size_t i = 0; i < pc->depth; i++)
            recursive |= pc->stack[i] == f->message;
        if ((recursive && !column_below(pc, name)) || pc->depth >= PROTO_MAX_FLATTEN) {
            pf->shape = SH_SKIP;
            return 0;
        }
        pmsg *sub = arena_calloc(a, 1, sizeof *sub, _Alignof(pmsg));
        if (!sub) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
        pc->stack[pc->depth++] = f->message;
        int rc = compile_message(pc, sub, f->message, name, pf->path, in_item);
        pc->depth--;
        pf->shape = SH_MESSAGE;
        pf->msg = sub;
        return rc;
    }
    /* A leaf, singular or repeated. */
    if (f->type == PROTO_MESSAGE) pf->wire = PROTO_WIRE_LEN;
    int slot = !in_item && !repeated ? slot_for(pc, name) : -1;
    if (col < 0 && slot < 0) {
        pf->shape = SH_SKIP;
        return reject_unmapped(pc, pf->path, name);
    }
    const ch_type *enc = col >= 0 ? pc->c.p->cols[col].type : NULL;
    int levels = in_item + repeated; /* Array levels above the value */
    for (int i = 0; i < levels && enc; i++) {
        const ch_type *core = core_of(enc);
        if (core->kind != CH_ARRAY)
            return plan_fail(
                &pc->c, SLUICE_EINVAL, "field %s%s cannot go into column %s (%s): it needs %s",
                pf->path, repeated ? " (repeated)" : " (in a repeated message)", name,
                pc->c.p->cols[col].type->text, levels == 2 ? "Array(Array(T))" : "an Array(T)");
        enc = core->inner;
    }
    pf->shape = repeated ? SH_REPEATED : SH_LEAF;
    pf->packable = repeated && pf->wire != PROTO_WIRE_LEN;
    return compile_leaf(pc, &pf->leaf, f, col, enc, slot, !in_item && !repeated, pf->path);
}

static int collect_closers(pcomp *pc, pmsg *pm)
{
    size_t cap = 0;
    for (size_t i = 0; i < pm->n_fields; i++) {
        const pfield *f = &pm->fields[i];
        cap += f->shape == SH_MESSAGE ? f->msg->n_closers : 1;
    }
    const pfield **list =
        arena_calloc(&pc->c.p->a, cap ? cap : 1, sizeof *list, _Alignof(const pfield *));
    if (!list) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < pm->n_fields; i++) {
        const pfield *f = &pm->fields[i];
        if (f->shape == SH_REPEATED || f->shape == SH_NESTED || f->shape == SH_MAP)
            list[n++] = f;
        else if (f->shape == SH_MESSAGE)
            for (size_t k = 0; k < f->msg->n_closers; k++)
                list[n++] = f->msg->closers[k];
    }
    pm->closers = list;
    pm->n_closers = n;
    return 0;
}

static int compile_message(pcomp *pc, pmsg *pm, const proto_message *m, const char *prefix,
                           const char *epath, int in_item)
{
    arena *a = &pc->c.p->a;
    pm->m = m;
    pm->path = epath;
    pm->id_lo = pc->n_ids;
    pm->oneof_lo = pm->oneof_base = pc->n_oneofs;
    pm->n_fields = m->n_fields;
    pm->fields = arena_calloc(a, m->n_fields ? m->n_fields : 1, sizeof(pfield), _Alignof(pfield));
    pm->n_oneofs = m->n_oneofs;
    pm->oneofs = arena_calloc(a, m->n_oneofs ? m->n_oneofs : 1, sizeof(poneof), _Alignof(poneof));
    if (!pm->fields || !pm->oneofs) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    pc->n_oneofs += (int)m->n_oneofs;
    /* A oneof's own column: the name of the member that is set. */
    for (size_t i = 0; i < m->n_oneofs; i++) {
        poneof *o = &pm->oneofs[i];
        const char *name = join_name(a, prefix, pc->c.p->separator, m->oneofs[i].name);
        o->column = name ? find_column(pc, name) : -1;
        if (o->column < 0) continue;
        o->enc = pc->c.p->cols[o->column].type;
        if (in_item) {
            const ch_type *core = core_of(o->enc);
            if (core->kind != CH_ARRAY)
                return plan_fail(&pc->c, SLUICE_EINVAL,
                                 "oneof %s (in a repeated message) cannot go into column %s (%s): "
                                 "it needs an Array(T)",
                                 name, name, o->enc->text);
            o->enc = core->inner;
        }
        o->once = !in_item;
        pc->c.fed[o->column] = 1;
    }
    for (size_t i = 0; i < m->n_fields; i++) {
        pfield *pf = &pm->fields[i];
        pf->index = i;
        int rc = compile_field(pc, pf, m->by_number[i], prefix, epath, in_item);
        if (rc) return rc;
    }
    pm->id_hi = pc->n_ids;
    pm->oneof_hi = pc->n_oneofs;
    /* Numbers below DENSE_MAX: one array lookup. */
    uint32_t top = m->n_fields ? (uint32_t)m->by_number[m->n_fields - 1]->number : 0;
    pm->n_dense = top < DENSE_MAX ? top + 1 : DENSE_MAX;
    pm->dense = arena_calloc(a, pm->n_dense, sizeof(int32_t), _Alignof(int32_t));
    if (!pm->dense) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n_fields; i++)
        if (pm->fields[i].number < pm->n_dense) pm->dense[pm->fields[i].number] = (int32_t)i + 1;
    return collect_closers(pc, pm);
}

/* ---- transforms ---- */

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

/* Every name an expression may use: singular values, flattened. */
static void enumerate_paths(pcomp *pc, const proto_message *m, const char *prefix, size_t depth)
{
    compiler *c = &pc->c;
    if (depth >= PROTO_MAX_FLATTEN) return;
    for (size_t i = 0; i < m->n_fields && c->n_paths < MAX_PATHS; i++) {
        const proto_field *f = &m->fields[i];
        if (f->label == PROTO_REPEATED || f->type == PROTO_GROUP) continue;
        char *name = join_name(&c->p->a, prefix, c->p->separator, f->name);
        if (!name) return;
        if (f->type == PROTO_MESSAGE && !is_timestamp(f->message) && !wrapper_type(f->message)) {
            int recursive = 0;
            for (size_t k = 0; k < depth; k++)
                recursive |= pc->stack[k] == f->message;
            if (recursive) continue;
            pc->stack[depth] = f->message;
            enumerate_paths(pc, f->message, name, depth + 1);
            continue;
        }
        c->paths[c->n_paths] = name;
        c->path_slots[c->n_paths++] = -1;
    }
}

static int compile_transforms(pcomp *pc, const proto_message *m)
{
    compiler *c = &pc->c;
    plan *p = c->p;
    const plan_options *opt = c->opt;
    if (opt->explode)
        return plan_fail(c, SLUICE_ECONFIG,
                         "transform.explode: not supported for Protobuf messages (filter and "
                         "derived columns are)");
    pc->stack[0] = m;
    enumerate_paths(pc, m, "", 1);
    expr_resolver res = {resolve_path, c};
    sluice_error e;
    if (opt->filter && *opt->filter && expr_compile(opt->filter, &res, &p->a, &p->filter, &e) != 0)
        return plan_fail(c, SLUICE_ECONFIG, "transform.filter: %s", e.msg);
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
    return 0;
}

int plan_compile_proto(const proto_message *message, const plan_column *columns, size_t n_columns,
                       const plan_options *opt, plan **out, sluice_error *err)
{
    *out = NULL;
    plan *p = plan_alloc(opt);
    if (!p) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    pcomp *pc = calloc(1, sizeof *pc);
    char *fed = calloc(n_columns ? n_columns : 1, 1);
    struct proto_plan *pp = arena_calloc(&p->a, 1, sizeof *pp, _Alignof(struct proto_plan));
    pmsg *root = arena_calloc(&p->a, 1, sizeof *root, _Alignof(pmsg));
    int rc = pc && fed && pp && root ? plan_copy_columns(p, columns, n_columns) : SLUICE_ENOMEM;
    if (rc) {
        sluice_error_set(err, rc, "out of memory");
        goto done;
    }
    pc->c.p = p;
    pc->c.opt = opt;
    pc->c.err = err;
    pc->c.fed = fed;
    p->index_slot = -1;
    rc = compile_transforms(pc, message);
    pc->depth = 1;
    pc->stack[0] = message;
    if (rc == 0) rc = compile_message(pc, root, message, "", "$", 0);
    if (rc == 0 && (rc = plan_finish_list(p, fed)) != 0) sluice_error_set(err, rc, "out of memory");
    if (rc == 0 && p->n_list == 0)
        rc = plan_fail(&pc->c, SLUICE_EINVAL,
                       "no field of message %s matches a column of the table", message->full_name);
    if (rc == 0) {
        pp->root = root;
        pp->n_ids = pc->n_ids;
        pp->n_oneofs = pc->n_oneofs;
        p->proto = pp;
    }
done:
    free(fed);
    free(pc);
    if (rc) {
        plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* ---- running --------------------------------------------------------------------------- */

struct proto_state *plan_proto_state_new(const plan *p)
{
    const struct proto_plan *pp = p->proto;
    struct proto_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    size_t n = pp->n_ids ? (size_t)pp->n_ids : 1, k = pp->n_oneofs ? (size_t)pp->n_oneofs : 1;
    s->seen = calloc(n, 1);
    s->pos = calloc(n, sizeof *s->pos);
    s->count = calloc(n, sizeof *s->count);
    s->oneof = calloc(k, sizeof *s->oneof);
    s->n_ids = pp->n_ids;
    s->n_oneofs = pp->n_oneofs;
    if (!s->seen || !s->pos || !s->count || !s->oneof) {
        plan_proto_state_free(s);
        return NULL;
    }
    return s;
}

void plan_proto_state_free(struct proto_state *s)
{
    if (!s) return;
    free(s->seen);
    free(s->pos);
    free(s->count);
    free(s->oneof);
    free(s);
}

typedef struct prun {
    run base; /* what plan_emit_row needs: plan, state, batch, straight-write position */
    struct proto_state *ps;
    proto_reader r;
} prun;

static int prun_fail(prun *x, size_t at, const char *path, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int prun_fail(prun *x, size_t at, const char *path, int code, const char *fmt, ...)
{
    char msg[SLUICE_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sluice_error_set(x->base.err, code, "offset %zu, %s: %s", at, path, msg);
}

static int wire_fail(prun *x, size_t at, const char *path, int code)
{
    return prun_fail(x, at, path, SLUICE_EINVAL, "%s", proto_strerror(code));
}

/* Where column col's bytes go (plan_run.c's row_target, for leaves). */
static inline buf *target(prun *x, const pleaf *l, int col)
{
    run *b = &x->base;
    if (l->once && b->direct && b->next < b->p->n_list && b->p->list[b->next] == col) {
        b->next++;
        return b->out;
    }
    b->st->set[col] = 1;
    return &b->st->scratch[col];
}

static int put_value(prun *x, const pfield *f, const pleaf *l, const pval *v, size_t at)
{
    if (l->slot >= 0) x->base.st->slots[l->slot] = slot_cvalue(l, v);
    if (l->column < 0) return 0;
    sluice_error e;
    int rc = encode_leaf(l, v, target(x, l, l->column), &e);
    if (rc == SLUICE_ENOMEM)
        return prun_fail(x, at, f->path, rc, "column %s: value larger than its scratch bound",
                         x->base.p->cols[l->column].name);
    if (rc)
        return prun_fail(x, at, f->path, rc, "column %s: %s", x->base.p->cols[l->column].name,
                         e.msg);
    return 0;
}

/* "absent": NULL when the column can hold it and the field has presence
 * (or its message is absent), else the default. */
static int put_absent(prun *x, const pfield *f, const pleaf *l, int present, size_t at)
{
    int null = l->has_null && (!present || f->presence);
    if (l->slot >= 0) x->base.st->slots[l->slot] = null ? cv_null() : slot_cvalue(l, &l->dflt_val);
    if (l->column < 0) return 0;
    if (!null && !l->dflt) return prun_fail(x, at, f->path, SLUICE_EINVAL, "%s", l->dflt_err);
    static const uint8_t null_flag = 1;
    if (buf_append(target(x, l, l->column), null ? &null_flag : l->dflt, null ? 1 : l->dflt_len))
        return prun_fail(x, at, f->path, SLUICE_ENOMEM, "row buffer bound reached");
    return 0;
}

/* One value of a scalar of wire type `wire` at the reader. */
static inline int read_scalar(prun *x, int wire, pval *v)
{
    uint32_t u32;
    switch (wire) {
    case PROTO_WIRE_VARINT:
        return proto_read_varint(&x->r, &v->u);
    case PROTO_WIRE_I64:
        return proto_read_fixed64(&x->r, &v->u);
    case PROTO_WIRE_I32: {
        int rc = proto_read_fixed32(&x->r, &u32);
        v->u = u32;
        return rc;
    }
    default:
        return proto_read_len(&x->r, &v->s, &v->n);
    }
}

/* A Timestamp or wrapper message at the reader: its fields 1 (and 2). */
static int read_wellknown(prun *x, const pfield *f, const pleaf *l, pval *v)
{
    const uint8_t *body;
    size_t len;
    size_t at = proto_reader_offset(&x->r);
    int rc = proto_read_len(&x->r, &body, &len);
    if (rc) return wire_fail(x, at, f->path, rc);
    memset(v, 0, sizeof *v);
    v->s = (const uint8_t *)"";
    proto_reader saved = x->r;
    x->r.p = body;
    x->r.end = body + len;
    int value_wire = l->kind == LK_TIMESTAMP ? PROTO_WIRE_VARINT : wire_of(l->ptype);
    while (rc == 0 && x->r.p < x->r.end) {
        uint32_t num;
        int wire;
        at = proto_reader_offset(&x->r);
        if ((rc = proto_read_tag(&x->r, &num, &wire)) != 0) break;
        int want = num == 1                              ? value_wire
                   : num == 2 && l->kind == LK_TIMESTAMP ? PROTO_WIRE_VARINT
                                                         : -1;
        if (want < 0) {
            rc = proto_skip_value(&x->r, num, wire);
            continue;
        }
        if (wire != want) {
            x->r = saved;
            return prun_fail(x, at, f->path, SLUICE_EINVAL,
                             "wire type %s where field %u of %s needs %s", proto_wire_name(wire),
                             num,
                             l->kind == LK_TIMESTAMP ? "google.protobuf.Timestamp" : "a wrapper",
                             proto_wire_name(want));
        }
        if (num == 1) {
            rc = read_scalar(x, want, v);
        } else {
            uint64_t n;
            if ((rc = proto_read_varint(&x->r, &n)) == 0) v->nanos = (int32_t)(uint32_t)n;
        }
    }
    if (rc) {
        at = proto_reader_offset(&x->r);
        x->r = saved;
        return wire_fail(x, at, f->path, rc);
    }
    x->r = saved;
    if (l->kind == LK_TIMESTAMP && (v->nanos < 0 || v->nanos > 999999999))
        return prun_fail(x, at, f->path, SLUICE_EINVAL,
                         "google.protobuf.Timestamp nanos %d out of range (0..999999999)",
                         (int)v->nanos);
    return 0;
}

/* One value of a leaf whose wire type was checked. */
static int read_leaf(prun *x, const pfield *f, const pleaf *l, pval *v)
{
    if (l->kind != LK_SCALAR) return read_wellknown(x, f, l, v);
    size_t at = proto_reader_offset(&x->r);
    int rc = read_scalar(x, f->wire, v);
    return rc ? wire_fail(x, at, f->path, rc) : 0;
}

static int patch_count(buf *b, size_t pos, uint32_t count)
{
    if (count < 0x80) {
        b->data[pos] = (uint8_t)count;
        return 0;
    }
    uint8_t tmp[5];
    size_t n = 0;
    uint32_t v = count;
    while (v > 0x7f) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    if (buf_reserve(b, n - 1)) return SLUICE_ENOMEM;
    memmove(b->data + pos + n, b->data + pos + 1, b->len - pos - 1);
    memcpy(b->data + pos, tmp, n);
    b->len += n - 1;
    return 0;
}

/* The next value of an Array: its count byte reserved on the first. */
static int array_next(prun *x, const pfield *f, const int *cols, size_t n_cols, size_t at)
{
    struct proto_state *ps = x->ps;
    if (ps->count[f->id] >= MAX_ITEMS_PER_ARRAY)
        return prun_fail(x, at, f->path, SLUICE_EINVAL, "more than %d values", MAX_ITEMS_PER_ARRAY);
    if (ps->count[f->id]++ == 0)
        for (size_t i = 0; i < n_cols; i++) {
            buf *b = &x->base.st->scratch[cols[i]];
            x->base.st->set[cols[i]] = 1;
            if (i == 0) ps->pos[f->id] = b->len;
            if (buf_append_byte(b, 0))
                return prun_fail(x, at, f->path, SLUICE_ENOMEM, "scratch bound reached");
        }
    return 0;
}

/* The end of an Array scope (the row, or one item): counts written. */
static int close_arrays(prun *x, const pmsg *m, size_t at)
{
    struct proto_state *ps = x->ps;
    plan_state *st = x->base.st;
    for (size_t i = 0; i < m->n_closers; i++) {
        const pfield *f = m->closers[i];
        uint32_t count = ps->count[f->id];
        if (f->shape == SH_REPEATED) {
            buf *b = &st->scratch[f->leaf.column];
            int rc = count ? patch_count(b, ps->pos[f->id], count)
                           : (f->in_item ? buf_append_byte(b, 0) : 0);
            if (rc) return prun_fail(x, at, f->path, SLUICE_ENOMEM, "scratch bound reached");
            if (f->in_item) st->set[f->leaf.column] = 1;
            continue;
        }
        for (size_t k = 0; count && k < f->n_count_columns; k++)
            if (patch_count(&st->scratch[f->count_columns[k]], 0, count))
                return prun_fail(x, at, f->path, SLUICE_ENOMEM, "scratch bound reached");
    }
    return 0;
}

static int fill(prun *x, const pmsg *m, int present, size_t at, int depth);
static int run_message(prun *x, const pmsg *m, int depth);

/* The reader is at a LEN value: run m over it. */
static int run_sub(prun *x, const pfield *f, const pmsg *m, int depth)
{
    const uint8_t *body;
    size_t len;
    size_t at = proto_reader_offset(&x->r);
    int rc = proto_read_len(&x->r, &body, &len);
    if (rc) return wire_fail(x, at, f->path, rc);
    const uint8_t *end = x->r.end;
    x->r.p = body;
    x->r.end = body + len;
    rc = run_message(x, m, depth + 1);
    x->r.end = end; /* p is at body + len when rc is 0 */
    return rc;
}

static int run_item(prun *x, const pfield *f, int depth)
{
    struct proto_state *ps = x->ps;
    const pmsg *m = f->msg;
    size_t at = proto_reader_offset(&x->r);
    int rc = array_next(x, f, f->count_columns, f->n_count_columns, at);
    if (rc) return rc;
    memset(ps->seen + m->id_lo, 0, (size_t)(m->id_hi - m->id_lo));
    memset(ps->count + m->id_lo, 0, (size_t)(m->id_hi - m->id_lo) * sizeof *ps->count);
    for (int i = m->oneof_lo; i < m->oneof_hi; i++)
        ps->oneof[i] = -1;
    if ((rc = run_sub(x, f, m, depth)) != 0) return rc;
    if ((rc = fill(x, m, 1, at, depth + 1)) != 0) return rc;
    return close_arrays(x, m, at);
}

static int run_map_entry(prun *x, const pfield *f)
{
    const uint8_t *body;
    size_t len;
    size_t at = proto_reader_offset(&x->r);
    int rc = array_next(x, f, f->count_columns, f->n_count_columns, at);
    if (rc || (rc = proto_read_len(&x->r, &body, &len)) != 0)
        return rc > 0 ? wire_fail(x, at, f->path, rc) : rc;
    proto_reader saved = x->r;
    x->r.p = body;
    x->r.end = body + len;
    pval k = f->key.dflt_val, v = f->leaf.dflt_val;
    int has_k = 0, has_v = 0;
    while (x->r.p < x->r.end) {
        uint32_t num;
        int wire;
        size_t tag_at = proto_reader_offset(&x->r);
        if ((rc = proto_read_tag(&x->r, &num, &wire)) != 0) break;
        const pleaf *l = num == 1 ? &f->key : num == 2 ? &f->leaf : NULL;
        int want = num == 1 ? wire_of(f->key.ptype)
                   : num == 2
                       ? (f->leaf.kind == LK_SCALAR ? wire_of(f->leaf.ptype) : PROTO_WIRE_LEN)
                       : -1;
        if (!l) {
            rc = proto_skip_value(&x->r, num, wire);
            continue;
        }
        if (wire != want) {
            x->r = saved;
            return prun_fail(x, tag_at, f->path, SLUICE_EINVAL,
                             "wire type %s where the map %s needs %s", proto_wire_name(wire),
                             num == 1 ? "key" : "value", proto_wire_name(want));
        }
        pfield one = *f;
        one.wire = (uint8_t)want;
        if ((rc = read_leaf(x, &one, l, num == 1 ? &k : &v)) != 0) {
            x->r = saved;
            return rc;
        }
        if (num == 1)
            has_k = 1;
        else
            has_v = 1;
    }
    if (rc) {
        size_t bad = proto_reader_offset(&x->r);
        x->r = saved;
        return wire_fail(x, bad, f->path, rc);
    }
    x->r = saved;
    rc = has_k ? put_value(x, f, &f->key, &k, at) : put_absent(x, f, &f->key, 1, at);
    if (rc == 0) rc = has_v ? put_value(x, f, &f->leaf, &v, at) : put_absent(x, f, &f->leaf, 1, at);
    return rc;
}

/* A oneof member arrives: the member set before it (if another) is
 * cleared, as Protobuf's "last one wins" says. */
static int oneof_set(prun *x, const pmsg *m, const pfield *f, size_t at)
{
    struct proto_state *ps = x->ps;
    int32_t *cur = &ps->oneof[m->oneof_base + f->oneof];
    if (*cur >= 0 && *cur != (int32_t)f->index && m->fields[*cur].shape != SH_SKIP) {
        if (x->base.direct) return RESTART;
        const pfield *old = &m->fields[*cur];
        if (old->shape == SH_SKIP) {
            /* no column held its value */
        } else if (old->shape == SH_LEAF) {
            if (ps->seen[old->id] && old->leaf.column >= 0)
                x->base.st->scratch[old->leaf.column].len = ps->pos[old->id];
            ps->seen[old->id] = 0;
        } else {
            return prun_fail(x, at, f->path, SLUICE_EINVAL,
                             "a second member of oneof %s after %s (a message): sluice does not "
                             "merge a oneof's members",
                             m->m->oneofs[f->oneof].name, old->name);
        }
    }
    *cur = (int32_t)f->index;
    return 0;
}

static int run_leaf(prun *x, const pmsg *m, const pfield *f, size_t at)
{
    struct proto_state *ps = x->ps;
    const pleaf *l = &f->leaf;
    int rc;
    if (f->oneof >= 0 && (rc = oneof_set(x, m, f, at)) != 0) return rc;
    if (ps->seen[f->id]) {
        /* Last one wins: the earlier value's bytes are taken back. */
        if (x->base.direct && l->once) return RESTART;
        if (l->column >= 0) x->base.st->scratch[l->column].len = ps->pos[f->id];
    } else {
        ps->seen[f->id] = 1;
        if (l->column >= 0) ps->pos[f->id] = x->base.st->scratch[l->column].len;
    }
    pval v;
    if ((rc = read_leaf(x, f, l, &v)) != 0) return rc;
    return put_value(x, f, l, &v, at);
}

static int run_repeated(prun *x, const pfield *f, int wire, size_t at)
{
    const pleaf *l = &f->leaf;
    int col = l->column;
    pval v;
    int rc;
    if (wire == f->wire) { /* one value */
        if ((rc = array_next(x, f, &col, 1, at)) != 0) return rc;
        if ((rc = read_leaf(x, f, l, &v)) != 0) return rc;
        return put_value(x, f, l, &v, at);
    }
    /* packed: a run of values */
    const uint8_t *body;
    size_t len;
    if ((rc = proto_read_len(&x->r, &body, &len)) != 0) return wire_fail(x, at, f->path, rc);
    if ((f->wire == PROTO_WIRE_I32 && len % 4) || (f->wire == PROTO_WIRE_I64 && len % 8))
        return prun_fail(x, at, f->path, SLUICE_EINVAL,
                         "packed run of %zu bytes is not a whole number of %d-byte values", len,
                         f->wire == PROTO_WIRE_I32 ? 4 : 8);
    proto_reader saved = x->r;
    x->r.p = body;
    x->r.end = body + len;
    while (rc == 0 && x->r.p < x->r.end) {
        size_t vat = proto_reader_offset(&x->r);
        if ((rc = array_next(x, f, &col, 1, vat)) != 0) break;
        if ((rc = read_scalar(x, f->wire, &v)) != 0) {
            rc = wire_fail(x, vat, f->path, rc);
            break;
        }
        rc = put_value(x, f, l, &v, vat);
    }
    x->r = saved;
    return rc;
}

/* The fields of message m from the reader's position to its end. */
static int run_message(prun *x, const pmsg *m, int depth)
{
    struct proto_state *ps = x->ps;
    proto_reader *r = &x->r;
    if (depth > 2 * PROTO_MAX_FLATTEN + 2)
        return prun_fail(x, proto_reader_offset(r), m->path, SLUICE_EINVAL, "nested too deeply");
    while (r->p < r->end) {
        size_t at = proto_reader_offset(r);
        uint32_t num;
        int wire, rc = proto_read_tag(r, &num, &wire);
        if (rc) return wire_fail(x, at, m->path, rc);
        const pfield *f = NULL;
        if (num < m->n_dense) {
            int32_t i = m->dense[num];
            f = i ? &m->fields[i - 1] : NULL;
        } else {
            size_t lo = 0, hi = m->n_fields;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (m->fields[mid].number < num)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            f = lo < m->n_fields && m->fields[lo].number == num ? &m->fields[lo] : NULL;
        }
        if (!f || f->shape == SH_SKIP) {
            if (f) {
                ps->seen[f->id] = 1;
                if (f->oneof >= 0 && (rc = oneof_set(x, m, f, at)) != 0) return rc;
            }
            if ((rc = proto_skip_value(r, num, wire)) != 0)
                return wire_fail(x, at, f ? f->path : m->path, rc);
            continue;
        }
        if (wire != f->wire && !(wire == PROTO_WIRE_LEN && f->packable))
            return prun_fail(x, at, f->path, SLUICE_EINVAL, "wire type %s where %s%s needs %s",
                             proto_wire_name(wire), f->shape == SH_REPEATED ? "repeated " : "",
                             f->shape == SH_MESSAGE || f->shape == SH_NESTED || f->shape == SH_MAP
                                 ? "a message"
                             : f->leaf.kind == LK_TIMESTAMP ? "google.protobuf.Timestamp"
                                                            : type_name(f->leaf.ptype),
                             proto_wire_name(f->wire));
        switch (f->shape) {
        case SH_LEAF:
            rc = run_leaf(x, m, f, at);
            break;
        case SH_REPEATED:
            rc = run_repeated(x, f, wire, at);
            break;
        case SH_MESSAGE:
            if (f->oneof >= 0 && (rc = oneof_set(x, m, f, at)) != 0) break;
            ps->seen[f->id] = 1; /* a second one merges into the first */
            rc = run_sub(x, f, f->msg, depth);
            break;
        case SH_NESTED:
            rc = run_item(x, f, depth);
            break;
        case SH_MAP:
            rc = run_map_entry(x, f);
            break;
        }
        if (rc) return rc;
    }
    return 0;
}

/* After a message (or an item, or an absent message): every field not
 * seen takes its default or NULL; oneof columns get the member's name. */
static int fill(prun *x, const pmsg *m, int present, size_t at, int depth)
{
    struct proto_state *ps = x->ps;
    int rc = 0;
    for (size_t i = 0; i < m->n_fields && rc == 0; i++) {
        const pfield *f = &m->fields[i];
        int seen = ps->seen[f->id];
        if (f->required && present && !seen && f->shape != SH_REPEATED)
            return prun_fail(x, at, f->path, SLUICE_EINVAL, "required field is missing");
        if (f->shape == SH_LEAF && !seen)
            rc = put_absent(x, f, &f->leaf, present, at);
        else if (f->shape == SH_MESSAGE && depth <= 2 * PROTO_MAX_FLATTEN)
            rc = fill(x, f->msg, present && seen, at, depth + 1);
    }
    for (size_t i = 0; i < m->n_oneofs && rc == 0; i++) {
        const poneof *o = &m->oneofs[i];
        if (o->column < 0) continue;
        int32_t cur = present ? ps->oneof[m->oneof_base + (int)i] : -1;
        cvalue v =
            cur >= 0 ? cv_string(m->fields[cur].name, strlen(m->fields[cur].name)) : cv_null();
        pleaf as_leaf = {.once = (uint8_t)o->once};
        buf *b = target(x, &as_leaf, o->column);
        sluice_error e;
        rc = ch_encode_value(o->enc, &v, b, &e);
        if (rc && v.kind == CV_NULL && rc != SLUICE_ENOMEM) rc = ch_encode_default(o->enc, b);
        if (rc)
            return prun_fail(x, at, m->path, rc, "oneof %s: column %s: %s", m->m->oneofs[i].name,
                             x->base.p->cols[o->column].name, e.msg);
    }
    return rc;
}

int plan_run_proto(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s,
                   buf *out, plan_result *res, sluice_error *err)
{
    const struct proto_plan *pp = p->proto;
    struct proto_state *ps = st->proto;
    size_t mark = out->len;
    for (int direct = 1;; direct = 0) {
        prun x = {.base = {.p = p,
                           .st = st,
                           .err = err,
                           .out = out,
                           .direct = direct,
                           .now_s = now_s,
                           .res = res},
                  .ps = ps};
        proto_reader_init(&x.r, msg, msg, len);
        plan_reset_row(p, st);
        memset(ps->seen, 0, (size_t)ps->n_ids);
        memset(ps->count, 0, (size_t)ps->n_ids * sizeof *ps->count);
        for (int i = 0; i < ps->n_oneofs; i++)
            ps->oneof[i] = -1;
        int rc = run_message(&x, pp->root, 0);
        if (rc == RESTART && direct) {
            out->len = mark;
            continue;
        }
        if (rc == 0) rc = fill(&x, pp->root, 1, len, 0);
        if (rc == 0) rc = close_arrays(&x, pp->root, len);
        if (rc == 0) rc = plan_emit_row(&x.base, now_s, out, mark, res);
        return rc;
    }
}
