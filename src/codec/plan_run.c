/*
 * plan_run.c — running an Avro plan on a message (plan_int.h has the
 * types, plan.h the contract).
 *
 * Each column has its own scratch buffer; a row is the concatenation of the
 * scratches in INSERT order, which is what lets writer order differ from
 * table order and lets explode repeat the parent's columns for every
 * element without decoding them again. A column written once per row and
 * in table order goes straight into the batch instead (row_target). A
 * plan_state (one per running thread) owns the scratch buffers and slot
 * values; running allocates nothing per field.
 */
#include "codec/plan_int.h"

#include "codec/avro_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

plan_state *plan_state_new(const plan *p)
{
    plan_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->scratch = calloc(p->n_cols ? p->n_cols : 1, sizeof *st->scratch);
    st->set = calloc(p->n_cols ? p->n_cols : 1, 1);
    st->slots = calloc(p->n_slots ? p->n_slots : 1, sizeof *st->slots);
    st->col_rank = calloc(p->n_cols ? p->n_cols : 1, sizeof *st->col_rank);
    st->col_error = calloc(p->n_cols ? p->n_cols : 1, 1);
    st->slot_rank = calloc(p->n_slots ? p->n_slots : 1, sizeof *st->slot_rank);
    arena_init(&st->json_text, 4096, SCRATCH_CAP);
    st->jseen = calloc(p->n_jentries ? p->n_jentries : 1, sizeof *st->jseen);
    if (p->is_json) st->gather = calloc(p->n_cols ? p->n_cols : 1, sizeof *st->gather);
    if (!st->scratch || !st->set || !st->slots || !st->col_rank || !st->col_error ||
        !st->slot_rank || !st->jseen || (p->is_json && !st->gather)) {
        plan_state_free(st);
        return NULL;
    }
    st->n_cols = p->n_cols;
    if (p->proto && !(st->proto = plan_proto_state_new(p))) {
        plan_state_free(st);
        return NULL;
    }
    for (size_t i = 0; i < p->n_cols; i++) {
        buf_init(&st->scratch[i], SCRATCH_CAP);
        if (st->gather) {
            buf_init(&st->gather[i].save, SCRATCH_CAP);
            buf_init(&st->gather[i].acc, SCRATCH_CAP);
        }
    }
    buf_init(&st->expr_scratch, SCRATCH_CAP);
    buf_init(&st->json_tmp, SCRATCH_CAP);
    return st;
}

void plan_state_free(plan_state *st)
{
    if (!st) return;
    for (size_t i = 0; st->scratch && i < st->n_cols; i++)
        buf_free(&st->scratch[i]);
    for (size_t i = 0; st->gather && i < st->n_cols; i++) {
        buf_free(&st->gather[i].save);
        buf_free(&st->gather[i].acc);
    }
    free(st->scratch);
    free(st->gather);
    free(st->set);
    free(st->slots);
    buf_free(&st->expr_scratch);
    buf_free(&st->json_tmp);
    free(st->col_rank);
    free(st->col_error);
    free(st->slot_rank);
    free(st->jseen);
    arena_free(&st->json_text);
    plan_proto_state_free(st->proto);
    free(st);
}

/* ---- running ------------------------------------------------------------------ */

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
                (w->type == SLUICE_AVRO_MAP || plan_min_bytes(item, 0) > 0))
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
                (rc = plan_emit_row(x, x->now_s, x->out, x->out->len, x->res)) != 0)
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

int plan_run(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s, buf *out,
             plan_result *res, sluice_error *err)
{
    size_t mark = out->len;
    res->rows = res->filtered = 0;
    int rc;
    if (p->is_json) {
        rc = plan_run_json(p, st, msg, len, now_s, out, res, err);
    } else if (p->proto) {
        rc = plan_run_proto(p, st, msg, len, now_s, out, res, err);
    } else {
        run x = {.p = p,
                 .st = st,
                 .err = err,
                 .out = out,
                 .direct = !p->explode,
                 .now_s = now_s,
                 .res = res};
        avro_reader_init(&x.r, msg, len);
        plan_reset_row(p, st);
        rc = exec(&x, &p->root);
        if (rc == 0 && avro_reader_left(&x.r) > 0)
            rc = run_fail(&x, NULL, SLUICE_EINVAL, "%zu bytes left over after the message",
                          avro_reader_left(&x.r));
        if (rc == 0 && !p->explode)
            rc = plan_emit_row(&x, now_s, out, mark, res);
        else if (rc == 0 && !p->explode_inline)
            rc = run_explode(&x);
    }
    if (rc) {
        out->len = mark; /* nothing of a failed message stays in the batch */
        res->rows = res->filtered = 0;
    }
    return rc;
}
