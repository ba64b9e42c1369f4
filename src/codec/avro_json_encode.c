/*
 * avro_json_encode.c — JSON (a jansson tree) → Avro binary by walking a
 * parsed schema (avro_json.h has the contract, sluice/avro.h the graph).
 *
 * Not the hot path any more: ingest encodes with the streaming reader
 * (json_avro.c), which never builds a tree. This encoder remains for what a
 * tree is natural for — encoding schema defaults once when a plan is
 * compiled (json_avro.c), and the tests' oracle: the streaming encoder must
 * give byte-identical output or an error at the same path on every input
 * (tests/unit/test_json_avro.c, fuzz/fuzz_json_avro.c). The rules both
 * follow live in avro_text.c.
 *
 * It writes straight into the caller's buffer; the path of the value being
 * encoded is a stack of pointers (rendered only for an error); a field
 * default is parsed with jansson the first time it is needed in a call and
 * its bytes copied afterwards.
 *
 * Union branches are chosen without trial encoding: a branch "fits" a JSON
 * value by a check that looks one level deep (an object fits a record when
 * its keys are fields of the record and every field without a default is
 * there). Trial encoding would make nested unions of records exponential
 * in the nesting depth on hostile input.
 *
 * Numbers: JSON numbers arrive as jansson doubles or 64-bit integers. A
 * decimal given as a JSON real therefore goes through a double and is exact
 * only as far as its shortest round-trip text is (15-17 significant digits);
 * a decimal given as a string is exact. (The streaming encoder reads the
 * literal itself and is exact either way.)
 *
 * Decimal strings versus Avro's JSON encoding: Avro's JSON encoding writes a
 * decimal as its raw two's-complement bytes in a string of code points
 * 0-255. A decimal string such as "12.50" is also such a string, so a string
 * that reads as a decimal number (-?digits[.digits][e±digits]) is taken as
 * the number and any other string as raw bytes. Raw bytes that happen to be
 * ASCII digits are therefore read as a number; field defaults, which the
 * spec defines as raw bytes, are always read raw.
 *
 * Other choices, each tested in tests/unit/test_avro_json.c:
 *   - union, plain JSON: the first branch in declaration order that the
 *     value fits (an integer fits int only within 32 bits, a real fits
 *     float only within its range, a string fits an enum only as one of its
 *     symbols, fixed only at its size, bytes only with code points <= 255,
 *     a date/time/timestamp long or int as a valid ISO-8601 string). When
 *     nothing fits but exactly one branch takes that kind of JSON value,
 *     that branch is used so the error points inside it;
 *   - ISO-8601: dates are YYYY-MM-DD; times HH:MM:SS[.f] with an optional Z
 *     or ±HH:MM that shifts them to UTC, wrapping round the day; timestamps
 *     need Z or ±HH:MM; local timestamps must have none; fraction digits
 *     finer than the type's unit must be zero; integers pass unchecked.
 *
 * Pure functions over caller-owned data: any thread.
 */
#include "codec/avro_json.h"

#include "codec/avro_text.h"

#include <ctype.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names for messages ------------------------------------------------------------ */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "value";
}

/* ===================================================================================== */
/* ---- encoder: JSON → Avro binary ------------------------------------------------------ */
/* ===================================================================================== */

#define DEFAULT_CACHE 64

typedef struct default_slot {
    const sluice_avro_field *field;
    size_t off, len; /* where its bytes were first written in out */
} default_slot;

typedef struct encoder {
    buf *out;
    avro_json_errors *errs; /* may be NULL */
    int n_errors;
    int rc;         /* SLUICE_ENOMEM once out's cap is hit */
    int depth;      /* records, arrays and maps entered */
    int in_default; /* > 0 while encoding a schema default: spec rules apply */
    avro_path path;
    default_slot defaults[DEFAULT_CACHE];
    size_t n_defaults;
} encoder;

/* What every encode step returns: go on (0), or stop now because the
 * output is full or the error list is (STOP). A value error is recorded and
 * the walk goes on to find the next one. */
#define STOP (-1)

static int enc_error(encoder *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int enc_error(encoder *e, const char *fmt, ...)
{
    e->n_errors++;
    if (!e->errs) return STOP; /* nobody will read the rest */
    if (e->errs->n >= AVRO_JSON_MAX_ERRORS) {
        e->errs->truncated = 1;
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

static int enc_nomem(encoder *e)
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

static int mismatch(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    char want[160];
    avro_describe_type(t, want, sizeof want);
    return enc_error(e, "expected %s, got %s", want, json_kind(v));
}

/* ---- writers ------------------------------------------------------------------------ */

static int put_raw(encoder *e, const void *p, size_t n)
{
    return buf_append(e->out, p, n) ? enc_nomem(e) : 0;
}

static int put_long(encoder *e, int64_t v)
{
    return avro_put_long(e->out, v) ? enc_nomem(e) : 0;
}

static int put_le(encoder *e, uint64_t bits, size_t n)
{
    uint8_t tmp[8];
    for (size_t i = 0; i < n; i++)
        tmp[i] = (uint8_t)(bits >> (8 * i));
    return put_raw(e, tmp, n);
}

static int put_float(encoder *e, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return put_le(e, bits, 4);
}

static int put_double(encoder *e, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return put_le(e, bits, 8);
}

/* Writes the bytes a code-point string stands for (count of them). */
static int put_code_points(encoder *e, const char *s, size_t n, size_t count)
{
    if (buf_reserve(e->out, count)) return enc_nomem(e);
    avro_put_code_points(e->out->data + e->out->len, s, n);
    e->out->len += count;
    return 0;
}

/* A decimal literal scaled to t's scale (avro_text.c). */
static int enc_decimal_text(encoder *e, const sluice_avro_node *t, const char *s, size_t n)
{
    char why[160];
    int rc = avro_decimal_from_text(t, s, n, e->out, why, sizeof why);
    if (rc == SLUICE_ENOMEM) return enc_nomem(e);
    if (rc) return enc_error(e, "%s", why);
    return 0;
}

static int enc_raw_bytes(encoder *e, const sluice_avro_node *t, const json_t *v);

static int enc_decimal(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    char text[64];
    if (json_is_integer(v)) {
        int n = snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return enc_decimal_text(e, t, text, (size_t)n);
    }
    if (json_is_real(v)) {
        avro_format_real(json_real_value(v), false, text, sizeof text);
        return enc_decimal_text(e, t, text, strlen(text));
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (!e->in_default && avro_is_decimal_literal(s, n)) return enc_decimal_text(e, t, s, n);
        return enc_raw_bytes(e, t, v); /* Avro's JSON encoding: the raw bytes */
    }
    return mismatch(e, t, v);
}

/* ---- values ------------------------------------------------------------------------------ */

static int enc_value(encoder *e, const sluice_avro_node *t, const json_t *v);

/* bytes or fixed given as a string of code points 0-255. */
static int enc_raw_bytes(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    if (!json_is_string(v)) return mismatch(e, t, v);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    long long count = avro_code_point_bytes(s, n);
    if (count < 0)
        return enc_error(e,
                         "%s must be a string of code points 0-255, got a character above "
                         "\\u00ff",
                         t->type == SLUICE_AVRO_FIXED ? "fixed" : "bytes");
    if (t->type == SLUICE_AVRO_FIXED) {
        if ((unsigned long long)count != t->size)
            return enc_error(e, "fixed %s needs %zu bytes, got %lld", t->fullname, t->size, count);
    } else if (put_long(e, count)) {
        return STOP;
    }
    return put_code_points(e, s, n, (size_t)count);
}

static int enc_int_like(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    int64_t x;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_string(v) && avro_is_iso_logical(t->logical)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        const char *why = avro_iso_to_number(t->logical, s, n, &x);
        if (why)
            return enc_error(e, "'%.64s' is not a valid %s: %s (expected %s)", s,
                             avro_logical_name(t->logical), why, avro_iso_form(t->logical));
    } else {
        return mismatch(e, t, v);
    }
    if (t->type == SLUICE_AVRO_INT && (x < INT32_MIN || x > INT32_MAX))
        return enc_error(e, "%" PRId64 " does not fit in int (32-bit)", x);
    return put_long(e, x);
}

static int enc_real(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v))
        d = json_real_value(v);
    else if (json_is_string(v) &&
             avro_special_real(json_string_value(v), json_string_length(v), &d)) {
        if (t->type == SLUICE_AVRO_FLOAT && isnan(d)) {
            uint32_t bits = 0x7fc00000u;
            return put_le(e, bits, 4);
        }
    } else
        return mismatch(e, t, v);
    if (t->type == SLUICE_AVRO_DOUBLE) return put_double(e, d);
    if (avro_float_overflow(d)) {
        char text[40];
        avro_format_real(d, false, text, sizeof text);
        return enc_error(e, "%s is out of range for float", text);
    }
    return put_float(e, (float)d);
}

static int enc_string(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    if (!json_is_string(v)) return mismatch(e, t, v);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (t->logical == SLUICE_AVRO_LOGICAL_UUID && !avro_is_uuid(s, n))
        return enc_error(e, "'%.64s' is not a UUID (expected 8-4-4-4-12 hex digits)", s);
    if (put_long(e, (int64_t)n)) return STOP;
    return put_raw(e, s, n);
}

static int enc_enum(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    if (!json_is_string(v)) return mismatch(e, t, v);
    const char *s = json_string_value(v);
    long idx = avro_find_symbol(t, s, json_string_length(v));
    if (idx >= 0) return put_long(e, idx);
    char list[160];
    avro_symbol_list(t, list, sizeof list);
    return enc_error(e, "'%.64s' is not a symbol of enum %s (%s)", s, t->fullname, list);
}

static int enter(encoder *e)
{
    if (e->depth >= SLUICE_AVRO_MAX_DEPTH)
        return enc_error(e, "nested deeper than %d levels", SLUICE_AVRO_MAX_DEPTH) ? STOP : 1;
    e->depth++;
    return 0;
}

static int enc_array(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    if (!json_is_array(v)) return mismatch(e, t, v);
    int rc = enter(e);
    if (rc) return rc == STOP ? STOP : 0;
    size_t n = json_array_size(v);
    if (n > 0 && put_long(e, (int64_t)n)) return STOP;
    for (size_t i = 0; i < n; i++) {
        avro_path_push(&e->path, AVRO_SEG_INDEX, NULL, 0, i);
        rc = enc_value(e, t->items, json_array_get(v, i));
        avro_path_pop(&e->path);
        if (rc) return STOP;
    }
    e->depth--;
    return put_long(e, 0);
}

static int enc_map(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    if (!json_is_object(v)) return mismatch(e, t, v);
    int rc = enter(e);
    if (rc) return rc == STOP ? STOP : 0;
    size_t n = json_object_size(v);
    if (n > 0 && put_long(e, (int64_t)n)) return STOP;
    for (void *it = json_object_iter((json_t *)v); it;
         it = json_object_iter_next((json_t *)v, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        if (put_long(e, (int64_t)klen) || put_raw(e, key, klen)) return STOP;
        avro_path_push(&e->path, AVRO_SEG_KEY, key, klen, 0);
        rc = enc_value(e, t->values, json_object_iter_value(it));
        avro_path_pop(&e->path);
        if (rc) return STOP;
    }
    e->depth--;
    return put_long(e, 0);
}

/* A field missing from the JSON: its default, parsed the first time it is
 * needed in this call, copied from its first encoding afterwards. */
static int enc_default(encoder *e, const sluice_avro_field *f)
{
    for (size_t i = 0; i < e->n_defaults; i++) {
        default_slot *d = &e->defaults[i];
        if (d->field != f) continue;
        if (buf_reserve(e->out, d->len)) return enc_nomem(e);
        memcpy(e->out->data + e->out->len, e->out->data + d->off, d->len);
        e->out->len += d->len;
        return 0;
    }
    json_error_t jerr;
    json_t *v = json_loads(f->default_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v) return enc_error(e, "default of field '%s' is not valid JSON: %s", f->name, jerr.text);
    size_t start = e->out->len;
    int errors_before = e->n_errors;
    e->in_default++;
    int rc = enc_value(e, f->type, v);
    e->in_default--;
    json_decref(v);
    if (rc == 0 && e->n_errors == errors_before && e->n_defaults < DEFAULT_CACHE)
        e->defaults[e->n_defaults++] = (default_slot){f, start, e->out->len - start};
    return rc;
}

static bool is_field_name(const sluice_avro_node *t, const char *key, size_t klen)
{
    for (size_t i = 0; i < t->n_fields; i++)
        if (strlen(t->fields[i].name) == klen && memcmp(t->fields[i].name, key, klen) == 0)
            return true;
    return false;
}

static int enc_record(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    if (!json_is_object(v)) return mismatch(e, t, v);
    int rc = enter(e);
    if (rc) return rc == STOP ? STOP : 0;
    size_t found = 0;
    for (size_t i = 0; i < t->n_fields; i++) {
        const sluice_avro_field *f = &t->fields[i];
        json_t *fv = json_object_get(v, f->name);
        avro_path_push(&e->path, AVRO_SEG_FIELD, f->name, AVRO_NAME_IS_CSTR, 0);
        if (fv) {
            found++;
            rc = enc_value(e, f->type, fv);
        } else if (f->default_json) {
            rc = enc_default(e, f);
        } else {
            rc = enc_error(e, "missing required field (no default)");
        }
        avro_path_pop(&e->path);
        if (rc) return STOP;
    }
    /* Keys that are not fields would be silently dropped: reject them. */
    if (json_object_size(v) > found) {
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            const char *key = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);
            if (is_field_name(t, key, klen)) continue;
            avro_path_push(&e->path, AVRO_SEG_FIELD, key, klen, 0);
            rc = enc_error(e, "unknown field, not in record %s", t->fullname);
            avro_path_pop(&e->path);
            if (rc) return STOP;
        }
    }
    e->depth--;
    return 0;
}

/* ---- unions ---------------------------------------------------------------------------- */

static bool number_kind(const json_t *v)
{
    return json_is_integer(v) || json_is_real(v);
}

/* Could t take a JSON value of v's kind at all? Used only to find the one
 * branch to blame when no branch fits. */
static bool kind_accepts(const sluice_avro_node *t, const json_t *v)
{
    switch (t->type) {
    case SLUICE_AVRO_NULL:
        return json_is_null(v);
    case SLUICE_AVRO_BOOLEAN:
        return json_is_boolean(v);
    case SLUICE_AVRO_INT:
    case SLUICE_AVRO_LONG:
        return json_is_integer(v) || (json_is_string(v) && avro_is_iso_logical(t->logical));
    case SLUICE_AVRO_FLOAT:
    case SLUICE_AVRO_DOUBLE:
        return number_kind(v);
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_FIXED:
        return json_is_string(v) || (t->logical == SLUICE_AVRO_LOGICAL_DECIMAL && number_kind(v));
    case SLUICE_AVRO_STRING:
    case SLUICE_AVRO_ENUM:
        return json_is_string(v);
    case SLUICE_AVRO_ARRAY:
        return json_is_array(v);
    case SLUICE_AVRO_MAP:
    case SLUICE_AVRO_RECORD:
        return json_is_object(v);
    case SLUICE_AVRO_UNION:
        return false;
    }
    return false;
}

/* Does the plain JSON value v fit branch t? One level deep: a record fits
 * an object whose keys are all its fields and that has every field
 * without a default; a map or an array fits when each of its values is of
 * a JSON kind its value type takes. */
static bool fits(const sluice_avro_node *t, const json_t *v)
{
    switch (t->type) {
    case SLUICE_AVRO_INT:
        if (json_is_integer(v))
            return json_integer_value(v) >= INT32_MIN && json_integer_value(v) <= INT32_MAX;
        break;
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_FIXED:
        if (t->logical == SLUICE_AVRO_LOGICAL_DECIMAL && number_kind(v)) return true;
        if (!json_is_string(v)) return false;
        if (t->logical == SLUICE_AVRO_LOGICAL_DECIMAL &&
            avro_is_decimal_literal(json_string_value(v), json_string_length(v)))
            return true;
        {
            long long n = avro_code_point_bytes(json_string_value(v), json_string_length(v));
            return t->type == SLUICE_AVRO_BYTES ? n >= 0 : n >= 0 && (size_t)n == t->size;
        }
    case SLUICE_AVRO_FLOAT:
        return json_is_integer(v) || (json_is_real(v) && !avro_float_overflow(json_real_value(v)));
    case SLUICE_AVRO_ENUM:
        return json_is_string(v) &&
               avro_find_symbol(t, json_string_value(v), json_string_length(v)) >= 0;
    case SLUICE_AVRO_RECORD: {
        if (!json_is_object(v)) return false;
        size_t found = 0;
        for (size_t i = 0; i < t->n_fields; i++) {
            if (json_object_get(v, t->fields[i].name))
                found++;
            else if (!t->fields[i].default_json)
                return false;
        }
        return found == json_object_size(v);
    }
    case SLUICE_AVRO_MAP:
        if (!json_is_object(v)) return false;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it))
            if (!kind_accepts(t->values, json_object_iter_value(it))) return false;
        return true;
    case SLUICE_AVRO_ARRAY:
        if (!json_is_array(v)) return false;
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!kind_accepts(t->items, json_array_get(v, i))) return false;
        return true;
    default:
        break;
    }
    if ((t->type == SLUICE_AVRO_INT || t->type == SLUICE_AVRO_LONG) && json_is_string(v)) {
        int64_t x;
        return avro_is_iso_logical(t->logical) &&
               !avro_iso_to_number(t->logical, json_string_value(v), json_string_length(v), &x) &&
               (t->type == SLUICE_AVRO_LONG || (x >= INT32_MIN && x <= INT32_MAX));
    }
    return kind_accepts(t, v);
}

static int enc_union(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    if (t->n_branches == 0) return enc_error(e, "an empty union has no values");
    long idx = -1;
    if (e->in_default) {
        idx = 0; /* spec: a union's default is a value of its first branch */
    } else if (json_is_object(v) && json_object_size(v) == 1) {
        /* Avro's JSON encoding: {"branch name": value}. Takes precedence
         * over reading the object as a record or map. */
        void *it = json_object_iter((json_t *)v);
        idx = avro_branch_by_name(t, json_object_iter_key(it), json_object_iter_key_len(it));
        if (idx >= 0) {
            if (put_long(e, idx)) return STOP;
            return enc_value(e, t->branches[idx], json_object_iter_value(it));
        }
    }
    for (size_t i = 0; idx < 0 && i < t->n_branches; i++)
        if (fits(t->branches[i], v)) idx = (long)i;
    if (idx < 0) {
        /* Nothing fits. If exactly one branch takes this kind of JSON
         * value, encode with it so the error says what is wrong inside. */
        for (size_t i = 0; i < t->n_branches; i++) {
            if (!kind_accepts(t->branches[i], v)) continue;
            if (idx >= 0) {
                idx = -1;
                break;
            }
            idx = (long)i;
        }
    }
    if (idx < 0) {
        char names[200];
        avro_describe_union(t, names, sizeof names);
        return enc_error(e, "union %s has no branch for %s%s", names,
                         json_is_null(v) ? "JSON " : "a JSON ", json_kind(v));
    }
    if (put_long(e, idx)) return STOP;
    return enc_value(e, t->branches[idx], v);
}

static int enc_value(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    switch (t->type) {
    case SLUICE_AVRO_NULL:
        return json_is_null(v) ? 0 : mismatch(e, t, v);
    case SLUICE_AVRO_BOOLEAN:
        if (!json_is_boolean(v)) return mismatch(e, t, v);
        return put_raw(e, json_is_true(v) ? "\1" : "\0", 1);
    case SLUICE_AVRO_INT:
    case SLUICE_AVRO_LONG:
        return enc_int_like(e, t, v);
    case SLUICE_AVRO_FLOAT:
    case SLUICE_AVRO_DOUBLE:
        return enc_real(e, t, v);
    case SLUICE_AVRO_STRING:
        return enc_string(e, t, v);
    case SLUICE_AVRO_BYTES:
    case SLUICE_AVRO_FIXED:
        if (t->logical == SLUICE_AVRO_LOGICAL_DECIMAL) return enc_decimal(e, t, v);
        return enc_raw_bytes(e, t, v);
    case SLUICE_AVRO_ENUM:
        return enc_enum(e, t, v);
    case SLUICE_AVRO_ARRAY:
        return enc_array(e, t, v);
    case SLUICE_AVRO_MAP:
        return enc_map(e, t, v);
    case SLUICE_AVRO_RECORD:
        return enc_record(e, t, v);
    case SLUICE_AVRO_UNION:
        return enc_union(e, t, v);
    }
    return enc_error(e, "unknown schema type %d", (int)t->type);
}

int avro_json_encode(const sluice_avro_node *schema, const json_t *value, buf *out,
                     avro_json_errors *errs)
{
    if (errs) {
        errs->n = 0;
        errs->truncated = 0;
    }
    if (!schema || !value || !out) {
        if (errs) {
            errs->n = 1;
            strcpy(errs->items[0].path, "$");
            strcpy(errs->items[0].message, "avro_json_encode: no schema, value or output");
        }
        return SLUICE_EINVAL;
    }
    /* The encoder state is a few KiB; on the stack it costs nothing to set
     * up, and only its head needs zeroing. */
    encoder e;
    e.out = out;
    e.errs = errs;
    e.n_errors = 0;
    e.rc = 0;
    e.depth = 0;
    e.in_default = 0;
    e.path.n = 0;
    e.n_defaults = 0;
    size_t start = out->len;
    enc_value(&e, schema, value);
    if (e.rc == 0 && e.n_errors == 0) return 0;
    out->len = start;
    return e.rc ? e.rc : SLUICE_EINVAL;
}

int avro_json_encode_default(const sluice_avro_field *f, buf *out, avro_json_errors *errs)
{
    if (errs) {
        errs->n = 0;
        errs->truncated = 0;
    }
    encoder e;
    e.out = out;
    e.errs = errs;
    e.n_errors = 0;
    e.rc = 0;
    e.depth = 0;
    e.in_default = 0;
    e.path.n = 0;
    e.n_defaults = 0;
    size_t start = out->len;
    if (!f->default_json) {
        enc_error(&e, "field '%s' has no default", f->name);
    } else {
        avro_path_push(&e.path, AVRO_SEG_FIELD, f->name, AVRO_NAME_IS_CSTR, 0);
        enc_default(&e, f);
        avro_path_pop(&e.path);
    }
    if (e.rc == 0 && e.n_errors == 0) return 0;
    out->len = start;
    return e.rc ? e.rc : SLUICE_EINVAL;
}
