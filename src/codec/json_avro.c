/*
 * json_avro.c — the streaming JSON → Avro encoder (json_avro.h has the
 * design). Two halves: compiling a schema graph into jnodes, and the walk
 * that pulls tokens and writes Avro.
 *
 * Every enc_* function consumes exactly one JSON value, whatever happens,
 * unless it returns STOP: a syntax error (lx->err), a full output (rc =
 * SLUICE_ENOMEM) or a full error list (stopped). That invariant is what
 * lets a value error be recorded and the walk go on to the next field.
 */
#include "codec/json_avro.h"

#include "codec/avro_text.h"
#include "common/arena.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================================== */
/* ---- compiled schema ------------------------------------------------------------------ */
/* ===================================================================================== */

typedef struct jnode jnode;

typedef struct jfield {
    const char *name;
    size_t len;
    const jnode *type;
    const uint8_t *dflt; /* the default's Avro bytes; NULL: none */
    size_t dflt_len;
} jfield;

struct jnode {
    const sluice_avro_node *n;
    sluice_avro_type type;
    /* RECORD */
    jfield *fields;
    size_t n_fields;
    size_t n_required;      /* fields without a default */
    uint64_t required_mask; /* bit i: field i (< 64) has no default */
    uint32_t *index;        /* open addressing on the name hash: field index + 1 */
    size_t index_mask;
    /* ARRAY items, MAP values */
    const jnode *child;
    /* UNION */
    const jnode **branches;
    size_t n_branches;
    int object_takers; /* branches that take a JSON object (records, maps) */
};

struct json_avro {
    arena a;
    const jnode *root;
};

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Node → jnode while compiling (named types recur: a record may hold
 * itself), a linear map since schemas have tens of named types. */
typedef struct memo {
    const sluice_avro_node **keys;
    jnode **vals;
    size_t n, cap;
} memo;

typedef struct compiler {
    json_avro *p;
    memo m;
    sluice_error *err;
    buf tmp;
} compiler;

static jnode *compile_node(compiler *c, const sluice_avro_node *n, int depth);

static int compile_record(compiler *c, jnode *j, const sluice_avro_node *n, int depth)
{
    j->n_fields = n->n_fields;
    j->fields =
        arena_calloc(&c->p->a, n->n_fields ? n->n_fields : 1, sizeof *j->fields, _Alignof(jfield));
    size_t slots = 8;
    while (slots < n->n_fields * 2)
        slots *= 2;
    j->index = arena_calloc(&c->p->a, slots, sizeof *j->index, _Alignof(uint32_t));
    if (!j->fields || !j->index) return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
    j->index_mask = slots - 1;
    for (size_t i = 0; i < n->n_fields; i++) {
        const sluice_avro_field *f = &n->fields[i];
        jfield *jf = &j->fields[i];
        jf->name = f->name;
        jf->len = strlen(f->name);
        jf->type = compile_node(c, f->type, depth + 1);
        if (!jf->type) return SLUICE_ENOMEM;
        size_t h = name_hash(jf->name, jf->len) & j->index_mask;
        while (j->index[h])
            h = (h + 1) & j->index_mask;
        j->index[h] = (uint32_t)i + 1;
        if (!f->default_json) {
            j->n_required++;
            if (i < 64) j->required_mask |= (uint64_t)1 << i;
            continue;
        }
        avro_json_errors errs;
        buf_reset(&c->tmp);
        int rc = avro_json_encode_default(f, &c->tmp, &errs);
        if (rc)
            return sluice_error_set(c->err, rc == SLUICE_ENOMEM ? SLUICE_ENOMEM : SLUICE_EINVAL,
                                    "%s: default does not encode: %s",
                                    errs.n ? errs.items[0].path : f->name,
                                    errs.n ? errs.items[0].message : "out of memory");
        uint8_t *d = arena_alloc(&c->p->a, c->tmp.len, 1);
        if (!d) return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
        if (c->tmp.len) memcpy(d, c->tmp.data, c->tmp.len);
        jf->dflt = d;
        jf->dflt_len = c->tmp.len;
    }
    return 0;
}

static jnode *compile_node(compiler *c, const sluice_avro_node *n, int depth)
{
    for (size_t i = 0; i < c->m.n; i++)
        if (c->m.keys[i] == n) return c->m.vals[i];
    if (depth > 4 * SLUICE_AVRO_MAX_DEPTH) { /* the parser bounds nesting; belt and braces */
        sluice_error_set(c->err, SLUICE_EINVAL, "schema nested too deeply");
        return NULL;
    }
    jnode *j = arena_calloc(&c->p->a, 1, sizeof *j, _Alignof(jnode));
    if (!j) goto nomem;
    j->n = n;
    j->type = n->type;
    if (c->m.n == c->m.cap) {
        size_t ncap = c->m.cap ? c->m.cap * 2 : 32;
        const sluice_avro_node **k = realloc(c->m.keys, ncap * sizeof *k);
        if (!k) goto nomem;
        c->m.keys = k;
        jnode **v = realloc(c->m.vals, ncap * sizeof *v);
        if (!v) goto nomem;
        c->m.vals = v;
        c->m.cap = ncap;
    }
    c->m.keys[c->m.n] = n;
    c->m.vals[c->m.n++] = j;
    switch (n->type) {
    case SLUICE_AVRO_RECORD:
        if (compile_record(c, j, n, depth)) return NULL;
        break;
    case SLUICE_AVRO_ARRAY:
        if (!(j->child = compile_node(c, n->items, depth + 1))) return NULL;
        break;
    case SLUICE_AVRO_MAP:
        if (!(j->child = compile_node(c, n->values, depth + 1))) return NULL;
        break;
    case SLUICE_AVRO_UNION:
        j->n_branches = n->n_branches;
        j->branches = arena_calloc(&c->p->a, n->n_branches ? n->n_branches : 1, sizeof *j->branches,
                                   _Alignof(jnode *));
        if (!j->branches) goto nomem;
        for (size_t i = 0; i < n->n_branches; i++) {
            if (!(j->branches[i] = compile_node(c, n->branches[i], depth + 1))) return NULL;
            sluice_avro_type bt = n->branches[i]->type;
            j->object_takers += bt == SLUICE_AVRO_RECORD || bt == SLUICE_AVRO_MAP;
        }
        break;
    default:
        break;
    }
    return j;
nomem:
    sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory");
    return NULL;
}

int json_avro_compile(const sluice_avro_node *schema, json_avro **out, sluice_error *err)
{
    *out = NULL;
    json_avro *p = calloc(1, sizeof *p);
    if (!p) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    arena_init(&p->a, 8192, SIZE_MAX);
    compiler c = {.p = p, .err = err};
    buf_init(&c.tmp, SIZE_MAX);
    sluice_error_clear(err);
    p->root = compile_node(&c, schema, 0);
    free(c.m.keys);
    free(c.m.vals);
    buf_free(&c.tmp);
    if (!p->root) {
        int code = err && err->code ? err->code : SLUICE_ENOMEM;
        json_avro_free(p);
        return code;
    }
    *out = p;
    return 0;
}

void json_avro_free(json_avro *p)
{
    if (!p) return;
    arena_free(&p->a);
    free(p);
}

/* ===================================================================================== */
/* ---- the walk ---------------------------------------------------------------------------- */
/* ===================================================================================== */

#define STOP (-1)

typedef struct enc {
    json_lex *lx;
    buf *out;
    avro_json_errors *errs;
    int n_errors;
    int rc;       /* SLUICE_ENOMEM once out's cap is hit */
    bool stopped; /* the error list filled up before the value was read */
    int depth;    /* records, arrays and maps entered (the tree encoder's limit) */
    /* Out-of-order fields: value offsets + 1 per field of each record that
     * needed them, stacked (a record takes n_fields on first need and
     * gives them back at '}'). Bounded by the schema: depth × fields. */
    size_t *slots;
    size_t n_slots, cap_slots;
    avro_path path;
} enc;

/* One scalar read ahead (or the kind of a container not yet read). */
typedef struct tok {
    json_vkind kind;
    json_str s;
    json_num num;
} tok;

static const char *tok_name(const tok *t)
{
    switch (t->kind) {
    case JSON_V_OBJECT:
        return "object";
    case JSON_V_ARRAY:
        return "array";
    case JSON_V_STRING:
        return "string";
    case JSON_V_NUMBER:
        return t->num.is_int ? "integer" : "number";
    case JSON_V_TRUE:
    case JSON_V_FALSE:
        return "boolean";
    case JSON_V_NULL:
        return "null";
    default:
        return "value";
    }
}

static int enc_error(enc *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int enc_error(enc *e, const char *fmt, ...)
{
    e->n_errors++;
    if (!e->errs || e->errs->n >= AVRO_JSON_MAX_ERRORS) {
        if (e->errs) e->errs->truncated = 1;
        e->stopped = true;
        return STOP;
    }
    avro_json_error *item = &e->errs->items[e->errs->n++];
    avro_path_render(&e->path, item->path, sizeof item->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(item->message, sizeof item->message, fmt, ap);
    va_end(ap);
    return 0;
}

static int enc_nomem(enc *e)
{
    if (e->rc == 0) {
        e->rc = SLUICE_ENOMEM;
        if (e->errs && e->errs->n < AVRO_JSON_MAX_ERRORS) {
            avro_json_error *item = &e->errs->items[e->errs->n++];
            avro_path_render(&e->path, item->path, sizeof item->path);
            snprintf(item->message, sizeof item->message,
                     "encoded value exceeds the output cap of %zu bytes", e->out->cap);
        }
    }
    return STOP;
}

static int skip(enc *e)
{
    return json_lex_skip(e->lx) ? STOP : 0;
}

/* "expected int, got string"; a container value not yet read is skipped. */
static int mismatch(enc *e, const jnode *t, const tok *k)
{
    char want[160];
    avro_describe_type(t->n, want, sizeof want);
    if (enc_error(e, "expected %s, got %s", want, tok_name(k))) return STOP;
    if (k->kind == JSON_V_OBJECT || k->kind == JSON_V_ARRAY) return skip(e);
    return 0;
}

static int put_raw(enc *e, const void *p, size_t n)
{
    return buf_append(e->out, p, n) ? enc_nomem(e) : 0;
}

static int put_long(enc *e, int64_t v)
{
    return avro_put_long(e->out, v) ? enc_nomem(e) : 0;
}

static int put_le(enc *e, uint64_t bits, size_t n)
{
    uint8_t tmp[8];
    for (size_t i = 0; i < n; i++)
        tmp[i] = (uint8_t)(bits >> (8 * i));
    return put_raw(e, tmp, n);
}

/* Reads the next value if it is a scalar; a container is only peeked. */
static int read_token(enc *e, tok *k)
{
    json_lex *lx = e->lx;
    k->kind = json_lex_peek(lx);
    switch (k->kind) {
    case JSON_V_STRING:
        return json_lex_string(lx, &k->s) ? STOP : 0;
    case JSON_V_NUMBER:
        return json_lex_number(lx, &k->num) ? STOP : 0;
    case JSON_V_TRUE:
    case JSON_V_FALSE:
    case JSON_V_NULL:
        return json_lex_literal(lx) == JSON_V_NONE ? STOP : 0;
    case JSON_V_OBJECT:
    case JSON_V_ARRAY:
        return 0;
    default:
        json_lex_skip(lx); /* records the syntax error */
        return STOP;
    }
}

static int shown(size_t len)
{
    return (int)(len > 64 ? 64 : len);
}

/* ---- scalars ---------------------------------------------------------------------------- */

static int enc_int_like(enc *e, const jnode *t, const tok *k)
{
    int64_t x;
    bool is_int32 = t->type == SLUICE_AVRO_INT;
    if (k->kind == JSON_V_NUMBER && k->num.is_int) {
        if (!k->num.int_ok)
            return enc_error(e, "%.*s does not fit in %s", shown(k->num.len), k->num.text,
                             is_int32 ? "int (32-bit)" : "long (64-bit)");
        x = k->num.i;
    } else if (k->kind == JSON_V_STRING && avro_is_iso_logical(t->n->logical)) {
        const char *why = avro_iso_to_number(t->n->logical, k->s.s, k->s.len, &x);
        if (why)
            return enc_error(e, "'%.*s' is not a valid %s: %s (expected %s)", shown(k->s.len),
                             k->s.s, avro_logical_name(t->n->logical), why,
                             avro_iso_form(t->n->logical));
    } else {
        return mismatch(e, t, k);
    }
    if (is_int32 && (x < INT32_MIN || x > INT32_MAX))
        return enc_error(e, "%" PRId64 " does not fit in int (32-bit)", x);
    return put_long(e, x);
}

/* The number as a double; -1 (error recorded) past double's range. */
static int number_value(enc *e, const tok *k, double *d)
{
    if (k->num.int_ok) {
        *d = (double)k->num.i;
        return 0;
    }
    if (json_num_double(e->lx, &k->num, d) == 0) return 0;
    return enc_error(e, "%.*s is out of range for double", shown(k->num.len), k->num.text) ? STOP
                                                                                           : 1;
}

static int enc_real(enc *e, const jnode *t, const tok *k)
{
    double d;
    if (k->kind == JSON_V_NUMBER) {
        int rc = number_value(e, k, &d);
        if (rc) return rc == STOP ? STOP : 0;
    } else if (k->kind == JSON_V_STRING && avro_special_real(k->s.s, k->s.len, &d)) {
        if (t->type == SLUICE_AVRO_FLOAT && isnan(d)) return put_le(e, 0x7fc00000u, 4);
    } else {
        return mismatch(e, t, k);
    }
    if (t->type == SLUICE_AVRO_DOUBLE) {
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return put_le(e, bits, 8);
    }
    if (avro_float_overflow(d)) {
        char text[40];
        avro_format_real(d, false, text, sizeof text);
        return enc_error(e, "%s is out of range for float", text);
    }
    float f = (float)d;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return put_le(e, bits, 4);
}

static int enc_string(enc *e, const jnode *t, const tok *k)
{
    if (k->kind != JSON_V_STRING) return mismatch(e, t, k);
    if (t->n->logical == SLUICE_AVRO_LOGICAL_UUID && !avro_is_uuid(k->s.s, k->s.len))
        return enc_error(e, "'%.*s' is not a UUID (expected 8-4-4-4-12 hex digits)",
                         shown(k->s.len), k->s.s);
    if (put_long(e, (int64_t)k->s.len)) return STOP;
    return put_raw(e, k->s.s, k->s.len);
}

static int enc_raw_bytes(enc *e, const jnode *t, const tok *k)
{
    if (k->kind != JSON_V_STRING) return mismatch(e, t, k);
    long long count = avro_code_point_bytes(k->s.s, k->s.len);
    if (count < 0)
        return enc_error(e,
                         "%s must be a string of code points 0-255, got a character above "
                         "\\u00ff",
                         t->type == SLUICE_AVRO_FIXED ? "fixed" : "bytes");
    if (t->type == SLUICE_AVRO_FIXED) {
        if ((unsigned long long)count != t->n->size)
            return enc_error(e, "fixed %s needs %zu bytes, got %lld", t->n->fullname, t->n->size,
                             count);
    } else if (put_long(e, count)) {
        return STOP;
    }
    if (buf_reserve(e->out, (size_t)count)) return enc_nomem(e);
    avro_put_code_points(e->out->data + e->out->len, k->s.s, k->s.len);
    e->out->len += (size_t)count;
    return 0;
}

static int enc_decimal_text(enc *e, const jnode *t, const char *s, size_t n)
{
    char why[160];
    int rc = avro_decimal_from_text(t->n, s, n, e->out, why, sizeof why);
    if (rc == SLUICE_ENOMEM) return enc_nomem(e);
    if (rc) return enc_error(e, "%s", why);
    return 0;
}

static int enc_decimal(enc *e, const jnode *t, const tok *k)
{
    /* A JSON number is read from its literal: exact however many digits. */
    if (k->kind == JSON_V_NUMBER) return enc_decimal_text(e, t, k->num.text, k->num.len);
    if (k->kind == JSON_V_STRING) {
        if (avro_is_decimal_literal(k->s.s, k->s.len))
            return enc_decimal_text(e, t, k->s.s, k->s.len);
        return enc_raw_bytes(e, t, k); /* Avro's JSON encoding: the raw bytes */
    }
    return mismatch(e, t, k);
}

static int enc_enum(enc *e, const jnode *t, const tok *k)
{
    if (k->kind != JSON_V_STRING) return mismatch(e, t, k);
    long idx = avro_find_symbol(t->n, k->s.s, k->s.len);
    if (idx >= 0) return put_long(e, idx);
    char list[160];
    avro_symbol_list(t->n, list, sizeof list);
    return enc_error(e, "'%.*s' is not a symbol of enum %s (%s)", shown(k->s.len), k->s.s,
                     t->n->fullname, list);
}

static int enc_scalar(enc *e, const jnode *t, const tok *k)
{
    switch (t->type) {
    case SLUICE_AVRO_NULL:
        return k->kind == JSON_V_NULL ? 0 : mismatch(e, t, k);
    case SLUICE_AVRO_BOOLEAN:
        if (k->kind == JSON_V_TRUE) return put_raw(e, "\1", 1);
        if (k->kind == JSON_V_FALSE) return put_raw(e, "\0", 1);
        return mismatch(e, t, k);
    case SLUICE_AVRO_INT:
    case SLUICE_AVRO_LONG:
        return enc_int_like(e, t, k);
    case SLUICE_AVRO_FLOAT:
    case SLUICE_AVRO_DOUBLE:
        return enc_real(e, t, k);
    case SLUICE_AVRO_STRING:
        return enc_string(e, t, k);
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_FIXED:
        if (t->n->logical == SLUICE_AVRO_LOGICAL_DECIMAL) return enc_decimal(e, t, k);
        return enc_raw_bytes(e, t, k);
    case SLUICE_AVRO_ENUM:
        return enc_enum(e, t, k);
    default:
        return mismatch(e, t, k);
    }
}

/* ---- containers ------------------------------------------------------------------------- */

static int enc_value(enc *e, const jnode *t);

/* The tree encoder's depth limit on records, arrays and maps: an error for
 * the value (then skipped), not for the body. 1 when refused. */
static int enter(enc *e)
{
    if (e->depth < SLUICE_AVRO_MAX_DEPTH) {
        e->depth++;
        return 0;
    }
    if (enc_error(e, "nested deeper than %d levels", SLUICE_AVRO_MAX_DEPTH)) return STOP;
    return skip(e) ? STOP : 1;
}

/* A container whose value is something else: mismatch (a scalar is read). */
static int not_container(enc *e, const jnode *t)
{
    tok k;
    if (read_token(e, &k)) return STOP;
    return mismatch(e, t, &k);
}

/* Avro's block: a count, the items, a zero. One byte was reserved at pos
 * for the count; a count of 64 or more needs more, so the items move. */
static int end_block(enc *e, size_t pos, size_t count)
{
    buf *b = e->out;
    if (count == 0) {
        b->len = pos;
        return put_long(e, 0);
    }
    uint8_t tmp[10];
    uint64_t z = (uint64_t)count << 1;
    size_t n = 0;
    while (z > 0x7f) {
        tmp[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    tmp[n++] = (uint8_t)z;
    if (n > 1) {
        if (buf_reserve(b, n - 1)) return enc_nomem(e);
        memmove(b->data + pos + n, b->data + pos + 1, b->len - pos - 1);
        b->len += n - 1;
    }
    memcpy(b->data + pos, tmp, n);
    return put_long(e, 0);
}

static int enc_array(enc *e, const jnode *t)
{
    json_lex *lx = e->lx;
    if (json_lex_peek(lx) != JSON_V_ARRAY) return not_container(e, t);
    int rc = enter(e);
    if (rc) return rc == STOP ? STOP : 0;
    if (json_lex_open_array(lx)) return STOP;
    size_t pos = e->out->len, count = 0;
    if (put_raw(e, "", 1)) return STOP;
    while ((rc = json_lex_next_item(lx, &count)) == 1) {
        avro_path_push(&e->path, AVRO_SEG_INDEX, NULL, 0, count - 1);
        rc = enc_value(e, t->child);
        avro_path_pop(&e->path);
        if (rc) return STOP;
    }
    if (rc < 0) return STOP;
    e->depth--;
    return end_block(e, pos, count);
}

static int enc_map(enc *e, const jnode *t)
{
    json_lex *lx = e->lx;
    if (json_lex_peek(lx) != JSON_V_OBJECT) return not_container(e, t);
    int rc = enter(e);
    if (rc) return rc == STOP ? STOP : 0;
    json_lex_dups dups;
    if (json_lex_open_object(lx, &dups)) return STOP;
    size_t pos = e->out->len, count = 0;
    if (put_raw(e, "", 1)) return STOP;
    json_str key;
    while ((rc = json_lex_next_key(lx, &count, &key)) == 1) {
        const char *stable;
        if (json_lex_key_unique(lx, &dups, &key, &stable) != 1) return STOP;
        if (put_long(e, (int64_t)key.len) || put_raw(e, key.s, key.len)) return STOP;
        avro_path_push(&e->path, AVRO_SEG_KEY, stable, key.len, 0);
        rc = enc_value(e, t->child);
        avro_path_pop(&e->path);
        if (rc) return STOP;
    }
    if (rc < 0) return STOP;
    e->depth--;
    return end_block(e, pos, count);
}

static long field_index(const jnode *t, const char *key, size_t len)
{
    size_t h = name_hash(key, len) & t->index_mask;
    for (uint32_t v; (v = t->index[h]) != 0; h = (h + 1) & t->index_mask) {
        const jfield *f = &t->fields[v - 1];
        if (f->len == len && memcmp(f->name, key, len) == 0) return (long)v - 1;
    }
    return -1;
}

/* A field whose value was seen earlier at offset `at`: encode it now. */
static int enc_field_at(enc *e, const jfield *f, size_t at)
{
    json_lex *lx = e->lx;
    const char *resume = lx->p;
    lx->p = lx->base + at;
    avro_path_push(&e->path, AVRO_SEG_FIELD, f->name, f->len, 0);
    int rc = enc_value(e, f->type);
    avro_path_pop(&e->path);
    if (!lx->err) lx->p = resume;
    return rc;
}

static int take_slots(enc *e, size_t n, size_t *base)
{
    if (e->n_slots + n > e->cap_slots) {
        size_t ncap = e->cap_slots ? e->cap_slots : 64;
        while (ncap < e->n_slots + n)
            ncap *= 2;
        size_t *s = realloc(e->slots, ncap * sizeof *s);
        if (!s) return enc_nomem(e);
        e->slots = s;
        e->cap_slots = ncap;
    }
    *base = e->n_slots;
    memset(e->slots + *base, 0, n * sizeof *e->slots);
    e->n_slots += n;
    return 0;
}

/* Returned by record_fields when a field it took for absent (and wrote
 * the default of) turns up after all: the record starts over. */
#define RESTART (-2)

/* The fields of one record object, in schema order whatever the order of
 * the keys. Optimistic (records of at most 64 fields): a key that skips
 * over fields with defaults takes those fields to be absent and writes
 * their defaults at once, which keeps the common case — fields in order,
 * optional ones left out — a single pass; if a skipped field turns up
 * later, RESTART. Otherwise (or once a required field is skipped) early
 * fields are remembered in slots and encoded when their turn comes. */
static int record_fields(enc *e, const jnode *t, bool optimistic)
{
    json_lex *lx = e->lx;
    json_lex_dups dups;
    if (json_lex_open_object(lx, &dups)) return STOP;
    const size_t n = t->n_fields;
    size_t next = 0, count = 0, base = 0;
    bool slotted = false; /* slots taken: some field came before its turn */
    uint64_t seen = 0;    /* optimistic: fields below next that the JSON had */
    json_str key;
    int rc;
    for (;;) {
        long idx;
        if (next < n && json_lex_key_is(lx, count, t->fields[next].name, t->fields[next].len)) {
            count++;
            idx = (long)next;
            key.s = t->fields[next].name; /* for messages; never in the text's scratch */
            key.len = t->fields[next].len;
            key.at = json_lex_offset(lx);
        } else {
            rc = json_lex_next_key(lx, &count, &key);
            if (rc != 1) break;
            idx = field_index(t, key.s, key.len);
        }
        if (idx < 0) {
            /* Not a field: an error (it would be lost), then its value is
             * skipped. Repeats among such keys are still malformed JSON. */
            if (json_lex_key_unique(lx, &dups, &key, NULL) != 1) return STOP;
            avro_path_push(&e->path, AVRO_SEG_FIELD, key.s, key.len, 0);
            rc = enc_error(e, "unknown field, not in record %s", t->n->fullname);
            avro_path_pop(&e->path);
            if (rc || skip(e)) return STOP;
            continue;
        }
        size_t i = (size_t)idx;
        if (i < next && optimistic && !(seen >> i & 1)) return RESTART;
        if (i < next || (slotted && e->slots[base + i])) {
            json_lex_fail(lx, key.at, "duplicate key \"%.*s\" in an object", shown(key.len), key.s);
            return STOP;
        }
        if (i > next && optimistic && !slotted &&
            (t->required_mask & (((uint64_t)1 << i) - ((uint64_t)1 << next))) == 0) {
            for (; next < i; next++) /* taken for absent: their defaults */
                if (put_raw(e, t->fields[next].dflt, t->fields[next].dflt_len)) return STOP;
        }
        if (i > next) { /* early: remember where its value is */
            if (!slotted) {
                if (take_slots(e, n, &base)) return STOP;
                slotted = true;
            }
            json_lex_ws(lx);
            e->slots[base + i] = json_lex_offset(lx) + 1;
            if (skip(e)) return STOP;
            continue;
        }
        avro_path_push(&e->path, AVRO_SEG_FIELD, t->fields[i].name, t->fields[i].len, 0);
        rc = enc_value(e, t->fields[i].type);
        avro_path_pop(&e->path);
        if (rc) return STOP;
        if (optimistic) seen |= (uint64_t)1 << i;
        next++;
        while (slotted && next < n && e->slots[base + next]) {
            if (enc_field_at(e, &t->fields[next], e->slots[base + next] - 1)) return STOP;
            next++;
        }
    }
    if (rc < 0) return STOP;
    for (; next < n; next++) {
        const jfield *f = &t->fields[next];
        if (slotted && e->slots[base + next]) {
            rc = enc_field_at(e, f, e->slots[base + next] - 1);
        } else if (f->dflt) {
            rc = put_raw(e, f->dflt, f->dflt_len);
        } else {
            avro_path_push(&e->path, AVRO_SEG_FIELD, f->name, f->len, 0);
            rc = enc_error(e, "missing required field (no default)");
            avro_path_pop(&e->path);
        }
        if (rc) return STOP;
    }
    if (slotted) e->n_slots = base;
    return 0;
}

static int enc_record(enc *e, const jnode *t)
{
    json_lex *lx = e->lx;
    if (json_lex_peek(lx) != JSON_V_OBJECT) return not_container(e, t);
    int rc = enter(e);
    if (rc) return rc == STOP ? STOP : 0;
    /* What a restart rolls back to. */
    const char *open = lx->p;
    int lx_depth = lx->depth;
    size_t out_len = e->out->len, n_slots = e->n_slots;
    int listed = e->errs ? e->errs->n : 0, n_errors = e->n_errors;
    rc = record_fields(e, t, t->n_fields <= 64);
    if (rc == RESTART) {
        lx->p = open;
        lx->depth = lx_depth;
        e->out->len = out_len;
        e->n_slots = n_slots;
        if (e->errs) e->errs->n = listed;
        e->n_errors = n_errors;
        rc = record_fields(e, t, false);
    }
    if (rc) return STOP;
    e->depth--;
    return 0;
}

/* ---- unions ------------------------------------------------------------------------------ */

/* What a union needs to know about a JSON value to choose a branch by the
 * tree encoder's rules (avro_json_encode.c, fits and kind_accepts). */
typedef enum vclass {
    VC_OBJECT,
    VC_ARRAY,
    VC_STRING,
    VC_INTEGER,
    VC_REAL,
    VC_BOOL,
    VC_NULL
} vclass;

static vclass class_of(const tok *k)
{
    switch (k->kind) {
    case JSON_V_OBJECT:
        return VC_OBJECT;
    case JSON_V_ARRAY:
        return VC_ARRAY;
    case JSON_V_STRING:
        return VC_STRING;
    case JSON_V_NUMBER:
        return k->num.is_int ? VC_INTEGER : VC_REAL;
    case JSON_V_NULL:
        return VC_NULL;
    default:
        return VC_BOOL;
    }
}

/* Could t take a JSON value of this class at all? */
static bool class_accepts(const sluice_avro_node *t, vclass c)
{
    switch (t->type) {
    case SLUICE_AVRO_NULL:
        return c == VC_NULL;
    case SLUICE_AVRO_BOOLEAN:
        return c == VC_BOOL;
    case SLUICE_AVRO_INT:
    case SLUICE_AVRO_LONG:
        return c == VC_INTEGER || (c == VC_STRING && avro_is_iso_logical(t->logical));
    case SLUICE_AVRO_FLOAT:
    case SLUICE_AVRO_DOUBLE:
        return c == VC_INTEGER || c == VC_REAL;
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_FIXED:
        return c == VC_STRING ||
               (t->logical == SLUICE_AVRO_LOGICAL_DECIMAL && (c == VC_INTEGER || c == VC_REAL));
    case SLUICE_AVRO_STRING:
    case SLUICE_AVRO_ENUM:
        return c == VC_STRING;
    case SLUICE_AVRO_ARRAY:
        return c == VC_ARRAY;
    case SLUICE_AVRO_MAP:
    case SLUICE_AVRO_RECORD:
        return c == VC_OBJECT;
    case SLUICE_AVRO_UNION:
        return false;
    }
    return false;
}

/* Does the scalar token fit branch t (avro_json_encode.c's fits())? */
static bool scalar_fits(enc *e, const sluice_avro_node *t, const tok *k)
{
    vclass c = class_of(k);
    switch (t->type) {
    case SLUICE_AVRO_INT:
        if (c == VC_INTEGER) return k->num.int_ok && k->num.i >= INT32_MIN && k->num.i <= INT32_MAX;
        break;
    case SLUICE_AVRO_LONG:
        if (c == VC_INTEGER) return k->num.int_ok;
        break;
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_FIXED: {
        bool decimal = t->logical == SLUICE_AVRO_LOGICAL_DECIMAL;
        if (decimal && (c == VC_INTEGER || c == VC_REAL)) return true;
        if (c != VC_STRING) return false;
        if (decimal && avro_is_decimal_literal(k->s.s, k->s.len)) return true;
        long long n = avro_code_point_bytes(k->s.s, k->s.len);
        return t->type == SLUICE_AVRO_BYTES ? n >= 0 : n >= 0 && (size_t)n == t->size;
    }
    case SLUICE_AVRO_FLOAT: {
        if (c == VC_INTEGER) return true;
        if (c != VC_REAL) return false;
        double d;
        json_num_double(e->lx, &k->num, &d);
        return !avro_float_overflow(d);
    }
    case SLUICE_AVRO_ENUM:
        return c == VC_STRING && avro_find_symbol(t, k->s.s, k->s.len) >= 0;
    default:
        break;
    }
    if ((t->type == SLUICE_AVRO_INT || t->type == SLUICE_AVRO_LONG) && c == VC_STRING) {
        int64_t x;
        return avro_is_iso_logical(t->logical) &&
               !avro_iso_to_number(t->logical, k->s.s, k->s.len, &x) &&
               (t->type == SLUICE_AVRO_LONG || (x >= INT32_MIN && x <= INT32_MAX));
    }
    return class_accepts(t, c);
}

/* The one branch that takes this class of value, or -1 (none or several). */
static long only_taker(const jnode *u, vclass c)
{
    long idx = -1;
    for (size_t i = 0; i < u->n_branches; i++) {
        if (!class_accepts(u->branches[i]->n, c)) continue;
        if (idx >= 0) return -1;
        idx = (long)i;
    }
    return idx;
}

static int no_branch(enc *e, const jnode *u, vclass c, const tok *k)
{
    char names[200];
    avro_describe_union(u->n, names, sizeof names);
    if (enc_error(e, "union %s has no branch for %s%s", names, c == VC_NULL ? "JSON " : "a JSON ",
                  tok_name(k)))
        return STOP;
    return (c == VC_OBJECT || c == VC_ARRAY) ? skip(e) : 0;
}

/* What a look at an object (without encoding it) tells the union: how many
 * keys, whether its only key names a branch, and which branches it fits. */
typedef struct object_look {
    size_t keys;
    long first_key_branch; /* branch named by the first key, or -1 */
    bool *fits;            /* per branch */
} object_look;

static int look_at_object(enc *e, const jnode *u, object_look *look)
{
    json_lex *lx = e->lx;
    const char *start = lx->p;
    int depth = lx->depth;
    size_t nb = u->n_branches;
    size_t req_small[16];
    size_t *req_seen = nb <= 16 ? req_small : calloc(nb, sizeof *req_seen);
    if (!req_seen) return enc_nomem(e);
    for (size_t i = 0; i < nb; i++) {
        sluice_avro_type bt = u->branches[i]->type;
        look->fits[i] = bt == SLUICE_AVRO_RECORD || bt == SLUICE_AVRO_MAP;
        req_seen[i] = 0;
    }
    look->keys = 0;
    look->first_key_branch = -1;
    json_lex_dups dups;
    json_str key;
    int rc = json_lex_open_object(lx, &dups);
    while (rc == 0 && (rc = json_lex_next_key(lx, &look->keys, &key)) == 1) {
        rc = 0;
        if (json_lex_key_unique(lx, &dups, &key, NULL) != 1) {
            rc = -1;
            break;
        }
        if (look->keys == 1) look->first_key_branch = avro_branch_by_name(u->n, key.s, key.len);
        for (size_t i = 0; i < nb; i++)
            if (look->fits[i] && u->branches[i]->type == SLUICE_AVRO_RECORD) {
                long f = field_index(u->branches[i], key.s, key.len);
                if (f < 0)
                    look->fits[i] = false;
                else if (!u->branches[i]->fields[f].dflt)
                    req_seen[i]++;
            }
        /* Maps need the class of each value; records only skip it. */
        tok v;
        if (read_token(e, &v)) {
            rc = -1;
            break;
        }
        vclass c = class_of(&v);
        for (size_t i = 0; i < nb; i++)
            if (look->fits[i] && u->branches[i]->type == SLUICE_AVRO_MAP &&
                !class_accepts(u->branches[i]->child->n, c))
                look->fits[i] = false;
        if ((c == VC_OBJECT || c == VC_ARRAY) && json_lex_skip(lx)) {
            rc = -1;
            break;
        }
    }
    for (size_t i = 0; i < nb; i++)
        if (look->fits[i] && u->branches[i]->type == SLUICE_AVRO_RECORD &&
            req_seen[i] != u->branches[i]->n_required)
            look->fits[i] = false;
    if (req_seen != req_small) free(req_seen);
    if (rc < 0) return STOP;
    lx->p = start;
    lx->depth = depth;
    return 0;
}

/* {"branch name": value}: Avro's JSON encoding of a union value. */
static int enc_wrapped(enc *e, const jnode *u, long idx)
{
    json_lex *lx = e->lx;
    size_t count = 0;
    json_str key;
    if (put_long(e, idx) || json_lex_open_object(lx, NULL) ||
        json_lex_next_key(lx, &count, &key) != 1)
        return STOP;
    if (enc_value(e, u->branches[idx])) return STOP;
    return json_lex_next_key(lx, &count, &key) == 0 ? 0 : STOP;
}

/* The first key of the object ahead names a branch? (Only then can it be
 * Avro's JSON encoding.) */
static int first_key_names_branch(enc *e, const jnode *u, bool *names)
{
    json_lex *lx = e->lx;
    const char *start = lx->p;
    int depth = lx->depth;
    size_t count = 0;
    json_str key;
    *names = false;
    if (json_lex_open_object(lx, NULL)) return STOP;
    int r = json_lex_next_key(lx, &count, &key);
    if (r < 0) return STOP;
    if (r == 1) *names = avro_branch_by_name(u->n, key.s, key.len) >= 0;
    lx->p = start;
    lx->depth = depth;
    return 0;
}

static int enc_union_object(enc *e, const jnode *u)
{
    tok k = {.kind = JSON_V_OBJECT};
    bool names;
    if (first_key_names_branch(e, u, &names)) return STOP;
    long idx = -1;
    if (!names && u->object_takers <= 1) {
        idx = only_taker(u, VC_OBJECT); /* fits or not, it is the one */
    } else {
        bool small[16];
        bool *fits = u->n_branches <= 16 ? small : calloc(u->n_branches, sizeof *fits);
        if (!fits) return enc_nomem(e);
        object_look look = {.fits = fits};
        int rc = look_at_object(e, u, &look);
        if (rc == 0 && look.keys == 1 && look.first_key_branch >= 0) {
            if (fits != small) free(fits);
            return enc_wrapped(e, u, look.first_key_branch);
        }
        for (size_t i = 0; rc == 0 && idx < 0 && i < u->n_branches; i++)
            if (fits[i]) idx = (long)i;
        if (fits != small) free(fits);
        if (rc) return STOP;
        if (idx < 0) idx = only_taker(u, VC_OBJECT);
    }
    if (idx < 0) return no_branch(e, u, VC_OBJECT, &k);
    if (put_long(e, idx)) return STOP;
    return enc_value(e, u->branches[idx]);
}

static int enc_union(enc *e, const jnode *u)
{
    if (u->n_branches == 0) {
        if (enc_error(e, "an empty union has no values")) return STOP;
        return skip(e);
    }
    tok k;
    if (read_token(e, &k)) return STOP;
    if (k.kind == JSON_V_OBJECT) return enc_union_object(e, u);
    vclass c = class_of(&k);
    long idx = -1;
    if (k.kind == JSON_V_ARRAY) {
        idx = only_taker(u, VC_ARRAY); /* a union has at most one array branch */
    } else {
        for (size_t i = 0; idx < 0 && i < u->n_branches; i++)
            if (scalar_fits(e, u->branches[i]->n, &k)) idx = (long)i;
        if (idx < 0) idx = only_taker(u, c);
    }
    if (idx < 0) return no_branch(e, u, c, &k);
    if (put_long(e, idx)) return STOP;
    if (k.kind == JSON_V_ARRAY) return enc_value(e, u->branches[idx]);
    return enc_scalar(e, u->branches[idx], &k);
}

static int enc_value(enc *e, const jnode *t)
{
    switch (t->type) {
    case SLUICE_AVRO_RECORD:
        return enc_record(e, t);
    case SLUICE_AVRO_ARRAY:
        return enc_array(e, t);
    case SLUICE_AVRO_MAP:
        return enc_map(e, t);
    case SLUICE_AVRO_UNION:
        return enc_union(e, t);
    default: {
        tok k;
        if (read_token(e, &k)) return STOP;
        return enc_scalar(e, t, &k);
    }
    }
}

int json_avro_encode(const json_avro *p, json_lex *lx, buf *out, avro_json_errors *errs)
{
    if (errs) {
        errs->n = 0;
        errs->truncated = 0;
    }
    enc e;
    e.lx = lx;
    e.out = out;
    e.errs = errs;
    e.n_errors = 0;
    e.rc = 0;
    e.stopped = false;
    e.depth = 0;
    e.slots = NULL;
    e.n_slots = e.cap_slots = 0;
    e.path.n = 0;
    size_t start = out->len;
    json_lex_ws(lx);
    size_t value_at = json_lex_offset(lx);
    int depth = lx->depth;
    enc_value(&e, p->root);
    free(e.slots);
    if (lx->err) {
        out->len = start;
        return SLUICE_EPARSE;
    }
    if (e.rc == 0 && e.n_errors == 0) return 0;
    out->len = start;
    if (e.rc) return e.rc;
    if (e.stopped) {
        /* The walk stopped part-way: read the rest so the caller is past
         * the value (and learns if it is malformed further on). */
        lx->p = lx->base + value_at;
        lx->depth = depth;
        if (json_lex_skip(lx)) return SLUICE_EPARSE;
    }
    return SLUICE_EINVAL;
}
