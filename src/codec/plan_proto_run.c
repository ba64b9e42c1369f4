/*
 * plan_proto_run.c — running a Protobuf plan (plan_proto_compile.c has the
 * design, plan_proto_int.h the types): a loop over the message's tags that
 * looks each field up by number, checks its wire type, decodes its value
 * and writes it into its column — straight into the batch when the column
 * is the next of the INSERT list and the field is written once, else into
 * the column's scratch — then fills what was absent, closes the Arrays
 * and emits the row through plan_emit_row (plan_run.c).
 *
 * Straight writes and Protobuf's "absent" meet in one place: a field that
 * is absent leaves its column unwritten until the message ends, which
 * would push every later column into scratch. Messages are nearly always
 * written in field-number order, so when field N arrives, a singular
 * top-level field with a smaller number that has not been seen is taken
 * as absent at once and its default written in its turn ("gap fill"). If
 * it turns up after all (an out-of-order writer), the message starts over
 * with straight writes off, like any value seen twice.
 *
 * Also here: a value's conversion into column bytes (plan_proto_encode_leaf
 * and its fast pairs), which compilation uses for defaults too.
 *
 * Threads: the plan is shared and read-only; the plan_state (and its
 * proto_state) belong to the calling thread.
 */
#include "codec/iso8601.h"
#include "codec/plan_proto_int.h"
#include "codec/proto_wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A field type's wire type, and its name for messages (the compiler uses
 * both too; they live here, with the reader, which the compiler calls down
 * into). */
int plan_proto_wire_of(int ptype)
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

const char *plan_proto_type_name(int ptype)
{
    static const char *const names[] = {"?",        "double",   "float",   "int64",  "uint64",
                                        "int32",    "fixed64",  "fixed32", "bool",   "string",
                                        "group",    "message",  "bytes",   "uint32", "enum",
                                        "sfixed32", "sfixed64", "sint32",  "sint64"};
    return ptype > 0 && ptype <= 18 ? names[ptype] : "?";
}

#define RESTART 1 /* run_message: start over with straight writes off */

/* ---- values into column bytes --------------------------------------------------------- */

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

static int encode_general(const pleaf *l, const pval *v, buf *b, sluice_error *e)
    __attribute__((noinline));

static inline __attribute__((always_inline)) int encode_leaf(const pleaf *l, const pval *v, buf *b,
                                                             sluice_error *e)
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
general:
    return encode_general(l, v, b, e);
}

/* Every pair the fast paths do not take, and the values they hand back
 * (an enum number the column lacks, a time out of DateTime's range): the
 * general encoder says why. */
static int encode_general(const pleaf *l, const pval *v, buf *b, sluice_error *e)
{
    char text[48];
    cvalue c = leaf_cvalue(l, v, text);
    return ch_encode_value(l->enc, &c, b, e);
}

int plan_proto_encode_leaf(const pleaf *l, const pval *v, buf *b, sluice_error *e)
{
    return encode_leaf(l, v, b, e);
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
    const struct proto_plan *pp;
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

static int put_absent(prun *x, const pfield *f, const pleaf *l, int present, size_t at);

/* Field f (a top-level leaf) is about to be written but its column is not
 * the next of the INSERT list: the columns before it that belong to
 * top-level fields with smaller numbers, not seen yet, are taken as absent
 * now (see the top of this file), so that f can still go straight into
 * the batch. Stops at the first column that is anything else. */
static int gap_fill(prun *x, const pfield *f, size_t at)
{
    run *b = &x->base;
    const plan *p = b->p;
    while (b->next < p->n_list && p->list[b->next] != f->leaf.column) {
        const pfield *g = x->pp->gap_leaf[p->list[b->next]];
        if (!g || g->number >= f->number || x->ps->seen[g->id]) return 0;
        x->ps->seen[g->id] = 2; /* absent, written: if it comes after all, start over */
        int rc = put_absent(x, g, &g->leaf, 1, at);
        if (rc) return rc;
    }
    return 0;
}

/* The column's bytes could not be written: say why (kept out of line). */
static int put_fail(prun *x, const pfield *f, const pleaf *l, int rc, const sluice_error *e,
                    size_t at) __attribute__((noinline, cold));
static int put_fail(prun *x, const pfield *f, const pleaf *l, int rc, const sluice_error *e,
                    size_t at)
{
    const char *col = x->base.p->cols[l->column].name;
    if (rc == SLUICE_ENOMEM)
        return prun_fail(x, at, f->path, rc, "column %s: value larger than its scratch bound", col);
    return prun_fail(x, at, f->path, rc, "column %s: %s", col, e->msg);
}

/* Where a leaf's bytes go: straight into the batch when its column is the
 * next of the INSERT list (after a gap fill, for a top-level field), else
 * the column's scratch. NULL, with *rc and the error set, if a gap fill
 * failed. */
static inline __attribute__((always_inline)) buf *leaf_target(prun *x, const pfield *f,
                                                              const pleaf *l, size_t at, int *rc)
{
    run *r = &x->base;
    int col = l->column;
    if (l->once && r->direct && r->next < r->p->n_list) {
        if (r->p->list[r->next] != col && x->pp->gap_leaf[col] == f &&
            (*rc = gap_fill(x, f, at)) != 0)
            return NULL;
        if (r->next < r->p->n_list && r->p->list[r->next] == col) {
            r->next++;
            return r->out;
        }
    }
    r->st->set[col] = 1;
    return &r->st->scratch[col];
}

static inline __attribute__((always_inline)) int put_value(prun *x, const pfield *f, const pleaf *l,
                                                           const pval *v, size_t at)
{
    if (l->slot >= 0) x->base.st->slots[l->slot] = slot_cvalue(l, v);
    if (l->column < 0) return 0;
    int rc = 0;
    buf *b = leaf_target(x, f, l, at, &rc);
    if (!b) return rc;
    sluice_error e;
    rc = encode_leaf(l, v, b, &e);
    return rc ? put_fail(x, f, l, rc, &e, at) : 0;
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
static inline __attribute__((always_inline)) int read_scalar(prun *x, int wire, pval *v)
{
    uint32_t u32 = 0;
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
static int read_wellknown(prun *x, const char *path, const pleaf *l, pval *v)
{
    const uint8_t *body;
    size_t len;
    size_t at = proto_reader_offset(&x->r);
    int rc = proto_read_len(&x->r, &body, &len);
    if (rc) return wire_fail(x, at, path, rc);
    memset(v, 0, sizeof *v);
    v->s = (const uint8_t *)"";
    proto_reader saved = x->r;
    x->r.p = body;
    x->r.end = body + len;
    int value_wire = l->kind == LK_TIMESTAMP ? PROTO_WIRE_VARINT : plan_proto_wire_of(l->ptype);
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
            return prun_fail(x, at, path, SLUICE_EINVAL,
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
        return wire_fail(x, at, path, rc);
    }
    x->r = saved;
    if (l->kind == LK_TIMESTAMP && (v->nanos < 0 || v->nanos > 999999999))
        return prun_fail(x, at, path, SLUICE_EINVAL,
                         "google.protobuf.Timestamp nanos %d out of range (0..999999999)",
                         (int)v->nanos);
    return 0;
}

/* One value of a leaf whose wire type was checked. */
static inline int read_leaf(prun *x, const char *path, const pleaf *l, int wire, pval *v)
{
    if (l->kind != LK_SCALAR) return read_wellknown(x, path, l, v);
    size_t at = proto_reader_offset(&x->r);
    int rc = read_scalar(x, wire, v);
    return rc ? wire_fail(x, at, path, rc) : 0;
}

static inline __attribute__((always_inline)) int patch_count(buf *b, size_t pos, uint32_t count)
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
static inline __attribute__((always_inline)) int
array_next(prun *x, const pfield *f, const int *cols, size_t n_cols, size_t at)
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
    for (size_t i = 0; i < m->n_closers; i++) /* the item's own Arrays start empty */
        ps->count[m->closers[i]->id] = 0;
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
    if (f->leaf.kind == LK_SCALAR && len >= 2 && body[0] == (8 | f->key.wire)) {
        /* The entry as every serializer writes it: key, value, nothing else. */
        x->r.p++;
        if (read_scalar(x, f->key.wire, &k) == 0 && x->r.p < x->r.end &&
            *x->r.p == (16 | f->leaf.wire)) {
            x->r.p++;
            if (read_scalar(x, f->leaf.wire, &v) == 0 && x->r.p == x->r.end) {
                x->r = saved;
                rc = put_value(x, f, &f->key, &k, at);
                return rc ? rc : put_value(x, f, &f->leaf, &v, at);
            }
        }
        x->r.p = body; /* anything else: the general reading below */
        k = f->key.dflt_val;
        v = f->leaf.dflt_val;
    }
    int has_k = 0, has_v = 0;
    while (x->r.p < x->r.end) {
        uint32_t num;
        int wire;
        size_t tag_at = proto_reader_offset(&x->r);
        if ((rc = proto_read_tag(&x->r, &num, &wire)) != 0) break;
        const pleaf *l = num == 1 ? &f->key : num == 2 ? &f->leaf : NULL;
        int want = l ? l->wire : -1;
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
        if ((rc = read_leaf(x, f->path, l, want, num == 1 ? &k : &v)) != 0) {
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
    if ((rc = read_leaf(x, f->path, l, f->wire, &v)) != 0) return rc;
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
        if ((rc = read_leaf(x, f->path, l, f->wire, &v)) != 0) return rc;
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
                                                            : plan_proto_type_name(f->leaf.ptype),
                             proto_wire_name(f->wire));
        if (f->shape == SH_LEAF && f->oneof < 0 && f->leaf.kind == LK_SCALAR) {
            /* the common case, inline: run_leaf without oneofs or sub-messages */
            const pleaf *l = &f->leaf;
            if (ps->seen[f->id]) {
                if (x->base.direct && l->once) return RESTART;
                if (l->column >= 0) x->base.st->scratch[l->column].len = ps->pos[f->id];
            } else {
                ps->seen[f->id] = 1;
                if (l->column >= 0 && !(x->base.direct && l->once))
                    ps->pos[f->id] = x->base.st->scratch[l->column].len;
            }
            pval v;
            size_t value_at = proto_reader_offset(r);
            if ((rc = read_scalar(x, wire, &v)) != 0) return wire_fail(x, value_at, f->path, rc);
            if ((rc = put_value(x, f, l, &v, at)) != 0) return rc;
            continue;
        }
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
    for (size_t i = 0; i < m->n_fillers && rc == 0; i++) {
        const pfield *f = m->fillers[i];
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
        prun x = {.pp = pp,
                  .base = {.p = p,
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
