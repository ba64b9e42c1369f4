/*
 * json_proto.c — JSON text → Protobuf binary (json_proto.h has the mapping
 * and the contract).
 *
 * Compiling mirrors every message reachable from the root once (an
 * explicit work list, so recursive schemas cost nothing extra): its fields
 * with their tags already encoded, a hash index over both spellings of
 * each name (json_name and the proto name), and what kind of value each
 * field takes (scalar, enum, message, map, or one of the well-known types
 * that have a JSON form of their own).
 *
 * Encoding pulls tokens from a json_lex and writes straight into the
 * caller's buffer. A message or packed run has its length written last:
 * one byte is reserved and the bytes moved only when the length needs
 * more. A value error is recorded with its path and the walk goes on past
 * that value; at the end the output is rolled back if there was any error.
 * Per object, a bit per field catches a field given twice (under its two
 * names) and proto2 required fields left out, and a slot per oneof catches
 * a second member.
 *
 * Threads: the compiled encoder is read-only; each call uses its own
 * state.
 */
#include "codec/json_proto.h"
#include "codec/proto_wire.h"

#include "codec/avro_text.h"
#include "codec/iso8601.h"
#include "common/arena.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOP (-1)

enum wk {
    WK_NONE,
    WK_TIMESTAMP,
    WK_DURATION,
    WK_WRAPPER,     /* google.protobuf.*Value of a scalar */
    WK_UNSUPPORTED, /* Struct, Value, ListValue, Any, FieldMask */
};

typedef struct jmsg jmsg;

typedef struct jfield {
    const proto_field *f;
    const char *name; /* the proto name, for messages */
    int type;         /* proto_type */
    int wire;         /* wire type of one value */
    bool repeated, packed, map, presence;
    int oneof;        /* the message's oneof index, or -1 */
    int wk;           /* enum wk, for MESSAGE fields */
    int wrapped_type; /* WK_WRAPPER: the type of field 1 */
    const jmsg *msg;  /* MESSAGE (not well-known) */
    /* maps: the entry's key and value fields */
    const struct jfield *key, *value;
    uint8_t tag[5], len_tag[5]; /* (number, wire) and (number, LEN) as varints */
    uint8_t tag_n, len_tag_n;
} jfield;

struct jmsg {
    const proto_message *m;
    jfield *fields; /* declaration order */
    size_t n_fields;
    uint32_t *index; /* name hash -> field index + 1; each field under both names */
    const char **index_names;
    size_t index_mask;
    size_t n_oneofs;
    bool has_required;
};

struct json_proto {
    arena a;
    const jmsg *root;
};

/* ---- compiling ------------------------------------------------------------------------------ */

typedef struct comp {
    json_proto *p;
    sluice_error *err;
    const proto_message **seen;
    jmsg **made;
    size_t n, cap;
    jmsg **todo;
    size_t n_todo, cap_todo;
} comp;

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static int wire_of(int type)
{
    switch (type) {
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

static size_t put_varint_to(uint8_t *d, uint64_t v)
{
    size_t n = 0;
    while (v > 0x7f) {
        d[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    d[n++] = (uint8_t)v;
    return n;
}

static const char *type_name(int t)
{
    static const char *const names[] = {"?",        "double",   "float",   "int64",  "uint64",
                                        "int32",    "fixed64",  "fixed32", "bool",   "string",
                                        "group",    "message",  "bytes",   "uint32", "enum",
                                        "sfixed32", "sfixed64", "sint32",  "sint64"};
    return t > 0 && t <= 18 ? names[t] : "?";
}

static int well_known(const proto_message *m, int *wrapped)
{
    if (!m) return WK_NONE;
    const char *n = m->full_name;
    if (proto_is_timestamp(m)) return WK_TIMESTAMP;
    if (strcmp(n, "google.protobuf.Duration") == 0) return WK_DURATION;
    if ((*wrapped = proto_wrapper_type(m)) != 0) return WK_WRAPPER;
    if (strcmp(n, "google.protobuf.Struct") == 0 || strcmp(n, "google.protobuf.Value") == 0 ||
        strcmp(n, "google.protobuf.ListValue") == 0 || strcmp(n, "google.protobuf.Any") == 0 ||
        strcmp(n, "google.protobuf.FieldMask") == 0)
        return WK_UNSUPPORTED;
    return WK_NONE;
}

static jmsg *jmsg_for(comp *c, const proto_message *m)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->seen[i] == m) return c->made[i];
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        const proto_message **s = realloc(c->seen, cap * sizeof *s);
        if (!s) return NULL;
        c->seen = s;
        jmsg **mm = realloc(c->made, cap * sizeof *mm);
        if (!mm) return NULL;
        c->made = mm;
        c->cap = cap;
    }
    jmsg *j = arena_calloc(&c->p->a, 1, sizeof *j, _Alignof(jmsg));
    if (!j) return NULL;
    j->m = m;
    c->seen[c->n] = m;
    c->made[c->n++] = j;
    if (c->n_todo == c->cap_todo) {
        size_t cap = c->cap_todo ? c->cap_todo * 2 : 16;
        jmsg **t = realloc(c->todo, cap * sizeof *t);
        if (!t) return NULL;
        c->todo = t;
        c->cap_todo = cap;
    }
    c->todo[c->n_todo++] = j;
    return j;
}

static int index_name(jmsg *j, const char *name, uint32_t value)
{
    size_t h = name_hash(name, strlen(name)) & j->index_mask;
    while (j->index[h]) {
        if (strcmp(j->index_names[h], name) == 0) return 0; /* json_name == name */
        h = (h + 1) & j->index_mask;
    }
    j->index[h] = value;
    j->index_names[h] = name;
    return 0;
}

static int fill_field(comp *c, jfield *jf, const proto_field *f)
{
    jf->f = f;
    jf->name = f->name;
    jf->type = f->type;
    jf->wire = wire_of(f->type);
    jf->repeated = f->label == PROTO_REPEATED;
    jf->presence = f->has_presence;
    jf->oneof = f->oneof_index;
    jf->packed = jf->repeated && f->packed && jf->wire != PROTO_WIRE_LEN;
    jf->tag_n = (uint8_t)put_varint_to(jf->tag, (uint64_t)f->number << 3 | (uint64_t)jf->wire);
    jf->len_tag_n = (uint8_t)put_varint_to(jf->len_tag, (uint64_t)f->number << 3 | PROTO_WIRE_LEN);
    if (f->type != PROTO_MESSAGE) return 0;
    if (f->message->map_entry) {
        jf->map = true;
        jfield *kv = arena_calloc(&c->p->a, 2, sizeof *kv, _Alignof(jfield));
        if (!kv) return SLUICE_ENOMEM;
        for (size_t i = 0; i < f->message->n_fields; i++) {
            const proto_field *ef = &f->message->fields[i];
            if (ef->number != 1 && ef->number != 2) continue;
            int rc = fill_field(c, &kv[ef->number - 1], ef);
            if (rc) return rc;
        }
        if (!kv[0].f || !kv[1].f)
            return sluice_error_set(c->err, SLUICE_EINVAL, "map entry %s has no key or value",
                                    f->message->full_name);
        jf->key = &kv[0];
        jf->value = &kv[1];
        return 0;
    }
    jf->wk = well_known(f->message, &jf->wrapped_type);
    if (jf->wk == WK_NONE && !(jf->msg = jmsg_for(c, f->message))) return SLUICE_ENOMEM;
    return 0;
}

static int compile_message(comp *c, jmsg *j)
{
    const proto_message *m = j->m;
    arena *a = &c->p->a;
    j->n_fields = m->n_fields;
    j->n_oneofs = m->n_oneofs;
    j->fields = arena_calloc(a, m->n_fields ? m->n_fields : 1, sizeof *j->fields, _Alignof(jfield));
    size_t cap = 8;
    while (cap < m->n_fields * 4)
        cap *= 2;
    j->index = arena_calloc(a, cap, sizeof *j->index, _Alignof(uint32_t));
    j->index_names = arena_calloc(a, cap, sizeof *j->index_names, _Alignof(char *));
    if (!j->fields || !j->index || !j->index_names) return SLUICE_ENOMEM;
    j->index_mask = cap - 1;
    for (size_t i = 0; i < m->n_fields; i++) {
        const proto_field *f = &m->fields[i];
        if (f->type == PROTO_GROUP)
            return sluice_error_set(c->err, SLUICE_EUNSUPPORTED,
                                    "%s.%s: proto2 groups have no JSON form", m->full_name,
                                    f->name);
        int rc = fill_field(c, &j->fields[i], f);
        if (rc) return rc == SLUICE_ENOMEM ? sluice_error_set(c->err, rc, "out of memory") : rc;
        j->has_required |= f->label == PROTO_REQUIRED;
        index_name(j, f->name, (uint32_t)i + 1);
        if (f->json_name) index_name(j, f->json_name, (uint32_t)i + 1);
    }
    return 0;
}

int json_proto_compile(const proto_message *m, json_proto **out, sluice_error *err)
{
    *out = NULL;
    json_proto *p = calloc(1, sizeof *p);
    if (!p) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    arena_init(&p->a, 8192, SIZE_MAX);
    comp c = {.p = p, .err = err};
    int rc = 0;
    if (!(p->root = jmsg_for(&c, m))) rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < c.n_todo; i++)
        if ((rc = compile_message(&c, c.todo[i])) == SLUICE_ENOMEM)
            sluice_error_set(err, rc, "out of memory");
    free(c.seen);
    free(c.made);
    free(c.todo);
    if (rc) {
        json_proto_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void json_proto_free(json_proto *p)
{
    if (!p) return;
    arena_free(&p->a);
    free(p);
}

/* ---- encoding -------------------------------------------------------------------------------- */

typedef struct enc {
    json_lex *lx;
    buf *out;
    avro_json_errors *errs;
    size_t n_errors;
    int rc; /* SLUICE_ENOMEM once the output is full */
    bool stopped;
    int depth;
    avro_path path;
} enc;

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

static int nomem(enc *e)
{
    if (e->rc == 0) e->rc = SLUICE_ENOMEM;
    return STOP;
}

static int put(enc *e, const void *p, size_t n)
{
    return buf_append(e->out, p, n) ? nomem(e) : 0;
}

static int put_varint(enc *e, uint64_t v)
{
    uint8_t tmp[10];
    return put(e, tmp, put_varint_to(tmp, v));
}

/* Reserve one byte for a length at the output's end; *at is where. */
static int open_len(enc *e, size_t *at)
{
    *at = e->out->len;
    return put(e, "", 1);
}

/* Write the length of what followed the reserved byte at `at`. */
static int close_len(enc *e, size_t at)
{
    buf *b = e->out;
    size_t len = b->len - at - 1;
    if (len < 0x80) {
        b->data[at] = (uint8_t)len;
        return 0;
    }
    uint8_t tmp[10];
    size_t n = put_varint_to(tmp, len);
    if (buf_reserve(b, n - 1)) return nomem(e);
    memmove(b->data + at + n, b->data + at + 1, len);
    memcpy(b->data + at, tmp, n);
    b->len += n - 1;
    return 0;
}

static int skip(enc *e)
{
    return json_lex_skip(e->lx) ? STOP : 0;
}

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
        return "number";
    case JSON_V_TRUE:
    case JSON_V_FALSE:
        return "boolean";
    case JSON_V_NULL:
        return "null";
    default:
        return "value";
    }
}

/* A scalar is read; a container only peeked. */
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

static int shown(size_t n)
{
    return (int)(n > 64 ? 64 : n);
}

static int mismatch(enc *e, const char *want, const tok *k)
{
    if (enc_error(e, "expected %s, got %s", want, tok_name(k))) return STOP;
    if (k->kind == JSON_V_OBJECT || k->kind == JSON_V_ARRAY) return skip(e);
    return 0;
}

/* ---- scalars ---- */

static bool is_signed(int t)
{
    return t == PROTO_INT32 || t == PROTO_SINT32 || t == PROTO_SFIXED32 || t == PROTO_INT64 ||
           t == PROTO_SINT64 || t == PROTO_SFIXED64 || t == PROTO_ENUM;
}

static bool is_64(int t)
{
    return t == PROTO_INT64 || t == PROTO_SINT64 || t == PROTO_SFIXED64 || t == PROTO_UINT64 ||
           t == PROTO_FIXED64;
}

/* An integer of field type t from a number or a string; *neg tells the
 * sign of *mag. 0, or an error recorded (1). */
static int read_integer(enc *e, int t, const tok *k, uint64_t *u)
{
    const char *type = t == PROTO_ENUM ? "enum number" : is_64(t) ? "64-bit integer" : "integer";
    const char *text;
    size_t len;
    if (k->kind == JSON_V_NUMBER) {
        text = k->num.text;
        len = k->num.len;
        if (k->num.int_ok) {
            int64_t v = k->num.i;
            if (!is_signed(t) && v < 0) goto range;
            *u = (uint64_t)v;
            goto check;
        }
        if (!k->num.is_int) { /* 1.0, 1e3: fine when integral */
            double d;
            if (json_num_double(e->lx, &k->num, &d) != 0 || d != floor(d)) {
                return enc_error(e, "%.*s is not an integer", shown(len), text) ? STOP : 1;
            }
            if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
                if (!is_signed(t) && d < 0) goto range;
                *u = (uint64_t)(int64_t)d;
                goto check;
            }
            if (!is_signed(t) && d >= 0 && d < 18446744073709551616.0) {
                *u = (uint64_t)d;
                goto check;
            }
            goto range;
        }
    } else if (k->kind == JSON_V_STRING) {
        text = k->s.s;
        len = k->s.len;
    } else {
        return mismatch(e, type, k) ? STOP : 1;
    }
    /* digits as text: past int64 (a number), or a string */
    {
        char tmp[32];
        if (len == 0 || len >= sizeof tmp) goto bad_text;
        memcpy(tmp, text, len);
        tmp[len] = '\0';
        size_t first = tmp[0] == '-';
        if (len == first) goto bad_text;
        for (size_t i = first; i < len; i++)
            if (tmp[i] < '0' || tmp[i] > '9') goto bad_text;
        errno = 0;
        char *end;
        if (tmp[0] == '-') {
            if (!is_signed(t)) goto range;
            long long v = strtoll(tmp, &end, 10);
            if (errno || *end) goto range;
            *u = (uint64_t)v;
        } else {
            unsigned long long v = strtoull(tmp, &end, 10);
            if (errno || *end) goto range;
            if (is_signed(t) && v > INT64_MAX) goto range;
            *u = v;
        }
    }
check:
    if (!is_64(t)) {
        int64_t s = (int64_t)*u;
        if (is_signed(t) ? (s < INT32_MIN || s > INT32_MAX) : *u > UINT32_MAX) goto range;
    }
    return 0;
range:
    return enc_error(e, "%.*s does not fit in %s", shown(len), text,
                     t == PROTO_ENUM ? "an enum (int32)" : type_name(t))
               ? STOP
               : 1;
bad_text:
    return enc_error(e, "'%.*s' is not an integer", shown(len), text) ? STOP : 1;
}

static int read_real(enc *e, int t, const tok *k, double *d)
{
    const char *type = t == PROTO_FLOAT ? "float" : "double";
    if (k->kind == JSON_V_NUMBER) {
        if (json_num_double(e->lx, &k->num, d) != 0)
            return enc_error(e, "%.*s is out of range for %s", shown(k->num.len), k->num.text, type)
                       ? STOP
                       : 1;
    } else if (k->kind == JSON_V_STRING) {
        if (!avro_special_real(k->s.s, k->s.len, d)) {
            char tmp[64];
            char *end;
            if (k->s.len == 0 || k->s.len >= sizeof tmp ||
                !avro_is_decimal_literal(k->s.s, k->s.len))
                return enc_error(e, "'%.*s' is not a number", shown(k->s.len), k->s.s) ? STOP : 1;
            memcpy(tmp, k->s.s, k->s.len);
            tmp[k->s.len] = '\0';
            *d = strtod(tmp, &end);
            if (!isfinite(*d))
                return enc_error(e, "'%s' is out of range for %s", tmp, type) ? STOP : 1;
        }
    } else {
        return mismatch(e, type, k) ? STOP : 1;
    }
    if (t == PROTO_FLOAT && isfinite(*d) && avro_float_overflow(*d))
        return enc_error(e, "%g is out of range for float", *d) ? STOP : 1;
    return 0;
}

/* base64 (standard or URL-safe, padding optional) straight into out,
 * after its length. 0, or an error recorded (1). */
static int put_base64(enc *e, const json_str *s)
{
    static signed char dec[256];
    if (!dec['B']) {
        memset(dec, -1, sizeof dec);
        const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        for (int i = 0; i < 62; i++)
            dec[(uint8_t)a[i]] = (signed char)i;
        dec['+'] = dec['-'] = 62;
        dec['/'] = dec['_'] = 63;
    }
    size_t n = s->len;
    while (n > 0 && s->s[n - 1] == '=' && s->len - n < 2)
        n--;
    if (n % 4 == 1 || (n < s->len && s->len % 4 != 0))
        return enc_error(e, "'%.*s' is not base64 (its length)", shown(s->len), s->s) ? STOP : 1;
    size_t out_len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (put_varint(e, out_len)) return STOP;
    if (buf_reserve(e->out, out_len)) return nomem(e);
    uint8_t *d = e->out->data + e->out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = dec[(uint8_t)s->s[i]];
        if (v < 0)
            return enc_error(e, "'%.*s' is not base64 (character %zu)", shown(s->len), s->s, i)
                       ? STOP
                       : 1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *d++ = (uint8_t)(acc >> bits);
        }
    }
    e->out->len += out_len;
    return 0;
}

/* The value of one scalar field (not its tag) into out; *is_default says
 * whether it was the type's default (proto3 leaves those out). 0, an
 * error recorded (1), or STOP. */
static int put_scalar(enc *e, const jfield *f, int t, const tok *k, bool *is_default)
{
    uint64_t u = 0;
    double d;
    int rc;
    *is_default = false;
    switch (t) {
    case PROTO_BOOL:
        if (k->kind != JSON_V_TRUE && k->kind != JSON_V_FALSE)
            return mismatch(e, "boolean", k) ? STOP : 1;
        *is_default = k->kind == JSON_V_FALSE;
        return put(e, k->kind == JSON_V_TRUE ? "\1" : "\0", 1);
    case PROTO_STRING:
        if (k->kind != JSON_V_STRING) return mismatch(e, "string", k) ? STOP : 1;
        *is_default = k->s.len == 0;
        return put_varint(e, k->s.len) || put(e, k->s.s, k->s.len) ? STOP : 0;
    case PROTO_BYTES:
        if (k->kind != JSON_V_STRING) return mismatch(e, "base64 string", k) ? STOP : 1;
        *is_default = k->s.len == 0;
        return put_base64(e, &k->s);
    case PROTO_DOUBLE:
    case PROTO_FLOAT: {
        if ((rc = read_real(e, t, k, &d)) != 0) return rc;
        uint8_t b[8];
        if (t == PROTO_DOUBLE) {
            memcpy(&u, &d, 8);
            for (int i = 0; i < 8; i++)
                b[i] = (uint8_t)(u >> (8 * i));
            *is_default = u == 0;
            return put(e, b, 8);
        }
        float fl = (float)d;
        uint32_t bits;
        memcpy(&bits, &fl, 4);
        for (int i = 0; i < 4; i++)
            b[i] = (uint8_t)(bits >> (8 * i));
        *is_default = bits == 0;
        return put(e, b, 4);
    }
    case PROTO_ENUM: {
        const proto_enum *en = f->f->enum_type;
        int32_t number = 0;
        if (k->kind == JSON_V_STRING) {
            size_t i = 0;
            while (en && i < en->n_values &&
                   !(strlen(en->values[i].name) == k->s.len &&
                     memcmp(en->values[i].name, k->s.s, k->s.len) == 0))
                i++;
            if (!en || i == en->n_values)
                return enc_error(e, "'%.*s' is not a value of enum %s", shown(k->s.len), k->s.s,
                                 en ? en->full_name : "?")
                           ? STOP
                           : 1;
            number = en->values[i].number;
        } else {
            if ((rc = read_integer(e, PROTO_ENUM, k, &u)) != 0) return rc;
            number = (int32_t)(int64_t)u;
            bool known = false;
            for (size_t i = 0; en && i < en->n_values && !known; i++)
                known = en->values[i].number == number;
            if (!known && en && en->closed)
                return enc_error(e, "%d is not a value of enum %s", (int)number, en->full_name)
                           ? STOP
                           : 1;
        }
        *is_default = number == 0;
        return put_varint(e, (uint64_t)(int64_t)number);
    }
    default:
        break;
    }
    if ((rc = read_integer(e, t, k, &u)) != 0) return rc;
    *is_default = u == 0;
    uint8_t b[8];
    switch (t) {
    case PROTO_SINT32: {
        int32_t v = (int32_t)(int64_t)u;
        return put_varint(e, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
    }
    case PROTO_SINT64: {
        int64_t v = (int64_t)u;
        return put_varint(e, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
    }
    case PROTO_FIXED32:
    case PROTO_SFIXED32:
        for (int i = 0; i < 4; i++)
            b[i] = (uint8_t)(u >> (8 * i));
        return put(e, b, 4);
    case PROTO_FIXED64:
    case PROTO_SFIXED64:
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)(u >> (8 * i));
        return put(e, b, 8);
    case PROTO_INT32:
        return put_varint(e, (uint64_t)(int64_t)(int32_t)(int64_t)u); /* negative: 10 bytes */
    default:                                                          /* int64, uint64, uint32 */
        return put_varint(e, u);
    }
}

/* ---- well-known types ---- */

static int put_seconds_nanos(enc *e, int64_t secs, int32_t nanos)
{
    if (secs && (put(e, "\x08", 1) || put_varint(e, (uint64_t)secs))) return STOP;
    if (nanos && (put(e, "\x10", 1) || put_varint(e, (uint64_t)(int64_t)nanos))) return STOP;
    return 0;
}

static int put_timestamp(enc *e, const tok *k)
{
    if (k->kind != JSON_V_STRING) return mismatch(e, "an RFC 3339 timestamp string", k) ? STOP : 1;
    iso8601 t;
    const char *why = iso8601_parse(k->s.s, k->s.len, 0, &t);
    if (!why && !(t.has_time && t.has_zone)) why = "it needs a time and a zone";
    int64_t secs = why ? 0 : iso8601_epoch_seconds(&t);
    /* 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as the spec says */
    if (!why && (secs < -62135596800LL || secs > 253402300799LL)) why = "out of range";
    if (why)
        return enc_error(e, "'%.*s' is not an RFC 3339 timestamp: %s", shown(k->s.len), k->s.s, why)
                   ? STOP
                   : 1;
    return put_seconds_nanos(e, secs, t.nanos);
}

/* "-1.5s", "3s", "0.000001s" */
static int put_duration(enc *e, const tok *k)
{
    if (k->kind != JSON_V_STRING) return mismatch(e, "a duration string (\"1.5s\")", k) ? STOP : 1;
    const char *s = k->s.s;
    size_t n = k->s.len, i = 0;
    bool neg = n > 0 && s[0] == '-';
    i += neg;
    int64_t secs = 0;
    int32_t nanos = 0;
    size_t digits = 0;
    bool ok = n >= 2 && s[n - 1] == 's';
    for (; ok && i < n - 1 && s[i] >= '0' && s[i] <= '9'; i++, digits++)
        ok = !__builtin_mul_overflow(secs, 10, &secs) &&
             !__builtin_add_overflow(secs, s[i] - '0', &secs);
    ok = ok && digits > 0;
    if (ok && i < n - 1 && s[i] == '.') {
        size_t f = 0;
        for (i++; i < n - 1 && s[i] >= '0' && s[i] <= '9' && f < 9; i++, f++)
            nanos = nanos * 10 + (s[i] - '0');
        ok = f > 0;
        for (; f < 9; f++)
            nanos *= 10;
    }
    ok = ok && i == n - 1 && secs <= 315576000000LL;
    if (!ok)
        return enc_error(e, "'%.*s' is not a duration (seconds with an 's': \"1.5s\")", shown(n), s)
                   ? STOP
                   : 1;
    return put_seconds_nanos(e, neg ? -secs : secs, neg ? -nanos : nanos);
}

/* ---- fields ---- */

static int enc_message(enc *e, const jmsg *m);

static int enter(enc *e)
{
    if (e->depth < JSON_PROTO_MAX_DEPTH) {
        e->depth++;
        return 0;
    }
    if (enc_error(e, "nested deeper than %d messages", JSON_PROTO_MAX_DEPTH)) return STOP;
    return skip(e) ? STOP : 1;
}

/* One value of field f with its tag (a singular field, an element of an
 * unpacked repeated one, a map entry's key or value). `keep_default`:
 * write it even when it is the default. */
static int enc_value(enc *e, const jfield *f, bool keep_default)
{
    tok k;
    if (read_token(e, &k)) return STOP;
    if (f->type == PROTO_MESSAGE) {
        if (f->wk == WK_UNSUPPORTED) {
            if (enc_error(e, "%s values are not supported by sluice's encoder",
                          f->f->message->full_name))
                return STOP;
            return k.kind == JSON_V_OBJECT || k.kind == JSON_V_ARRAY ? skip(e) : 0;
        }
        size_t at;
        if (put(e, f->len_tag, f->len_tag_n) || open_len(e, &at)) return STOP;
        int rc;
        if (f->wk == WK_TIMESTAMP) {
            rc = put_timestamp(e, &k);
        } else if (f->wk == WK_DURATION) {
            rc = put_duration(e, &k);
        } else if (f->wk == WK_WRAPPER) {
            jfield inner = {.f = f->f, .type = f->wrapped_type};
            bool dflt;
            size_t tag_at = e->out->len;
            uint8_t tag = (uint8_t)(1 << 3 | wire_of(f->wrapped_type));
            rc = put(e, &tag, 1);
            if (rc == 0) rc = put_scalar(e, &inner, f->wrapped_type, &k, &dflt);
            if (rc == 0 && dflt) e->out->len = tag_at; /* the wrapper alone says "set" */
        } else if (k.kind != JSON_V_OBJECT) {
            rc = mismatch(e, "object", &k);
        } else {
            rc = enter(e);
            if (rc == 0) {
                rc = enc_message(e, f->msg);
                e->depth--;
            }
        }
        if (rc == STOP) return STOP;
        return close_len(e, at);
    }
    size_t start = e->out->len;
    if (put(e, f->tag, f->tag_n)) return STOP;
    bool dflt;
    int rc = put_scalar(e, f, f->type, &k, &dflt);
    if (rc == STOP) return STOP;
    if (rc == 0 && dflt && !keep_default) e->out->len = start;
    return 0;
}

static int enc_repeated(enc *e, const jfield *f)
{
    json_lex *lx = e->lx;
    json_vkind kind = json_lex_peek(lx);
    if (kind != JSON_V_ARRAY) {
        tok k;
        if (read_token(e, &k)) return STOP;
        return mismatch(e, "array", &k) == STOP ? STOP : 0;
    }
    if (json_lex_open_array(lx)) return STOP;
    size_t count = 0, at = 0, start = e->out->len;
    int rc;
    if (f->packed && (put(e, f->len_tag, f->len_tag_n) || open_len(e, &at))) return STOP;
    while ((rc = json_lex_next_item(lx, &count)) == 1) {
        avro_path_push(&e->path, AVRO_SEG_INDEX, NULL, 0, count - 1);
        if (f->packed) {
            tok k;
            bool dflt;
            rc = read_token(e, &k);
            if (rc == 0) rc = put_scalar(e, f, f->type, &k, &dflt);
        } else if (json_lex_peek(lx) == JSON_V_NULL) {
            tok k;
            rc = read_token(e, &k) || enc_error(e, "null is not a value of a repeated field") ? STOP
                                                                                              : 0;
        } else {
            rc = enc_value(e, f, true);
        }
        avro_path_pop(&e->path);
        if (rc == STOP) return STOP;
    }
    if (rc < 0) return STOP;
    if (f->packed) {
        if (count == 0) {
            e->out->len = start; /* nothing: no field at all */
            return 0;
        }
        return close_len(e, at);
    }
    return 0;
}

/* A map key (a JSON object key, always text) as the key field's type. */
static int put_map_key(enc *e, const jfield *kf, const json_str *key)
{
    if (put(e, kf->tag, kf->tag_n)) return STOP;
    tok k = {.kind = JSON_V_STRING, .s = *key};
    if (kf->type == PROTO_STRING)
        return put_varint(e, key->len) || put(e, key->s, key->len) ? STOP : 0;
    if (kf->type == PROTO_BOOL) {
        bool t = key->len == 4 && memcmp(key->s, "true", 4) == 0;
        if (!t && !(key->len == 5 && memcmp(key->s, "false", 5) == 0))
            return enc_error(e, "map key '%.*s' is not true or false", shown(key->len), key->s)
                       ? STOP
                       : 1;
        return put(e, t ? "\1" : "\0", 1);
    }
    bool dflt;
    return put_scalar(e, kf, kf->type, &k, &dflt);
}

static int enc_map(enc *e, const jfield *f)
{
    json_lex *lx = e->lx;
    if (json_lex_peek(lx) != JSON_V_OBJECT) {
        tok k;
        if (read_token(e, &k)) return STOP;
        return mismatch(e, "object (a map)", &k) == STOP ? STOP : 0;
    }
    json_lex_dups dups;
    if (json_lex_open_object(lx, &dups)) return STOP;
    size_t count = 0;
    json_str key;
    int rc;
    while ((rc = json_lex_next_key(lx, &count, &key)) == 1) {
        const char *stable;
        if (json_lex_key_unique(lx, &dups, &key, &stable) != 1) return STOP;
        avro_path_push(&e->path, AVRO_SEG_KEY, stable, key.len, 0);
        size_t at;
        json_str k = {.s = stable, .len = key.len};
        rc = put(e, f->len_tag, f->len_tag_n) || open_len(e, &at) ? STOP : 0;
        if (rc == 0 && put_map_key(e, f->key, &k) == STOP) rc = STOP;
        if (rc == 0 && json_lex_peek(lx) == JSON_V_NULL) {
            tok t;
            rc = read_token(e, &t) || enc_error(e, "null is not a map value") ? STOP : 0;
        } else if (rc == 0) {
            rc = enc_value(e, f->value, true) == STOP ? STOP : 0;
        }
        if (rc == 0) rc = close_len(e, at);
        avro_path_pop(&e->path);
        if (rc == STOP) return STOP;
    }
    return rc < 0 ? STOP : 0;
}

static const jfield *field_by_name(const jmsg *m, const char *key, size_t len)
{
    size_t h = name_hash(key, len) & m->index_mask;
    for (uint32_t v; (v = m->index[h]) != 0; h = (h + 1) & m->index_mask) {
        const char *n = m->index_names[h];
        if (strlen(n) == len && memcmp(n, key, len) == 0) return &m->fields[v - 1];
    }
    return NULL;
}

static int enc_message(enc *e, const jmsg *m)
{
    json_lex *lx = e->lx;
    json_lex_dups dups;
    if (json_lex_open_object(lx, &dups)) return STOP;
    uint64_t small_seen[4] = {0}, *seen = small_seen;
    int32_t small_oneof[16], *oneof = small_oneof;
    if (m->n_fields > 256 && !(seen = calloc((m->n_fields + 63) / 64, sizeof *seen)))
        return nomem(e);
    if (m->n_oneofs > 16 && !(oneof = malloc(m->n_oneofs * sizeof *oneof))) {
        if (seen != small_seen) free(seen);
        return nomem(e);
    }
    for (size_t i = 0; i < m->n_oneofs; i++)
        oneof[i] = -1;
    size_t count = 0;
    json_str key;
    int rc;
    while ((rc = json_lex_next_key(lx, &count, &key)) == 1) {
        const char *stable;
        if (json_lex_key_unique(lx, &dups, &key, &stable) != 1) {
            rc = STOP;
            break;
        }
        avro_path_push(&e->path, AVRO_SEG_FIELD, stable, key.len, 0);
        const jfield *f = field_by_name(m, stable, key.len);
        size_t idx = f ? (size_t)(f - m->fields) : 0;
        if (!f) {
            rc = enc_error(e, "unknown field '%.*s' (message %s)", shown(key.len), stable,
                           m->m->full_name);
            rc = rc ? STOP : skip(e);
        } else if (seen[idx / 64] & (1ull << (idx % 64))) {
            rc = enc_error(e, "field %s is given twice (under its two names)", f->name);
            rc = rc ? STOP : skip(e);
        } else if (json_lex_peek(lx) == JSON_V_NULL) {
            tok k;
            rc = read_token(e, &k); /* null: absent */
        } else {
            seen[idx / 64] |= 1ull << (idx % 64);
            if (f->oneof >= 0 && oneof[f->oneof] >= 0 && oneof[f->oneof] != (int32_t)idx) {
                rc = enc_error(e, "field %s and field %s are members of the same oneof (%s)",
                               m->fields[oneof[f->oneof]].name, f->name,
                               m->m->oneofs[f->oneof].name);
                rc = rc ? STOP : skip(e);
            } else {
                if (f->oneof >= 0) oneof[f->oneof] = (int32_t)idx;
                if (f->map)
                    rc = enc_map(e, f);
                else if (f->repeated)
                    rc = enc_repeated(e, f);
                else
                    rc = enc_value(e, f, f->presence);
            }
        }
        avro_path_pop(&e->path);
        if (rc == STOP) break;
        rc = 0;
    }
    if (rc == 0 && m->has_required)
        for (size_t i = 0; i < m->n_fields && rc == 0; i++)
            if (m->fields[i].f->label == PROTO_REQUIRED && !(seen[i / 64] & (1ull << (i % 64))))
                rc = enc_error(e, "missing required field '%s'", m->fields[i].name);
    if (seen != small_seen) free(seen);
    if (oneof != small_oneof) free(oneof);
    return rc < 0 ? STOP : 0;
}

int json_proto_encode(const json_proto *p, json_lex *lx, buf *out, avro_json_errors *errs)
{
    enc e = {.lx = lx, .out = out, .errs = errs};
    if (errs) {
        errs->n = 0;
        errs->truncated = 0;
    }
    size_t start = out->len;
    json_lex_ws(lx);
    size_t value_at = json_lex_offset(lx);
    int depth = lx->depth;
    tok k = {.kind = json_lex_peek(lx)};
    if (k.kind != JSON_V_OBJECT) {
        if (read_token(&e, &k) == 0) mismatch(&e, "object", &k);
    } else {
        enc_message(&e, p->root);
    }
    if (lx->err) {
        out->len = start;
        return SLUICE_EPARSE;
    }
    if (e.rc == 0 && e.n_errors == 0) return 0;
    out->len = start;
    if (e.rc) return e.rc;
    if (e.stopped) {
        lx->p = lx->base + value_at;
        lx->depth = depth;
        if (json_lex_skip(lx)) return SLUICE_EPARSE;
    }
    return SLUICE_EINVAL;
}
