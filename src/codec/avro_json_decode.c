/*
 * avro_json_decode.c — Avro binary → JSON text by walking the writer's
 * schema (avro_json.h has the contract). It serves the dead-letter path,
 * the CLI and the cross-checks against avsc.
 *
 * It reads with a bounds check before every access, never trusts a length
 * or a block count further than the bytes that are left, and writes JSON
 * text into the caller's (capped) buffer, so its memory is bounded by that
 * cap. Doubles and floats are written as the shortest text that reads back
 * to the same bits; NaN and the infinities, which JSON cannot hold, as the
 * strings "NaN", "Infinity" and "-Infinity" (which the encoders accept
 * back).
 *
 * It accepts what the spec allows and our encoders never write
 * (longer-than-needed varints, several blocks, negative block counts with a
 * byte size, which must match), rejects what the spec forbids (booleans
 * other than 0/1, invalid UTF-8 in strings and map keys), and shows the
 * rest as it is: a uuid string that is not a UUID, a map key written twice
 * (both appear in the JSON object).
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

/* ===================================================================================== */
/* ---- decoder: Avro binary → JSON ------------------------------------------------------ */
/* ===================================================================================== */

/* How many records deep min_encoded_size looks; deeper it counts 0, which
 * keeps it a lower bound and its cost small. */
#define MIN_SIZE_DEPTH 4

typedef struct decoder {
    const uint8_t *data;
    size_t len, pos;
    avro_json_style style;
    buf *out;
    sluice_error *err;
    int rc;
    int depth;
    avro_path path;
} decoder;

static int dec_fail_at(decoder *d, size_t offset, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int dec_fail_at(decoder *d, size_t offset, int code, const char *fmt, ...)
{
    if (d->rc) return d->rc;
    char what[SLUICE_ERROR_MSG_MAX];
    char where[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    avro_path_render(&d->path, where, sizeof where);
    d->rc = code;
    sluice_error_set(d->err, code, "offset %zu, %s: %s", offset, where, what);
    return code;
}

#define dec_fail(d, offset, ...) dec_fail_at(d, offset, SLUICE_EINVAL, __VA_ARGS__)

static int dec_nomem(decoder *d)
{
    return dec_fail_at(d, d->pos, SLUICE_ENOMEM, "JSON output exceeds its cap of %zu bytes",
                       d->out->cap);
}

static int out_raw(decoder *d, const void *p, size_t n)
{
    return buf_append(d->out, p, n) ? dec_nomem(d) : 0;
}

static int out_str(decoder *d, const char *s)
{
    return out_raw(d, s, strlen(s));
}

static size_t left(const decoder *d)
{
    return d->len - d->pos;
}

/* A zigzag varint of at most 10 bytes whose bits fit in 64. Varints that
 * are longer than they need be (0x80 0x00 for 0) are accepted, as the spec
 * does not forbid them. */
static int read_long(decoder *d, int64_t *v)
{
    size_t start = d->pos;
    uint64_t u = 0;
    for (int shift = 0;; shift += 7) {
        if (shift == 70) return dec_fail(d, start, "varint longer than 10 bytes");
        if (d->pos >= d->len) return dec_fail(d, start, "truncated varint");
        uint8_t b = d->data[d->pos++];
        if (shift == 63 && (b & 0x7e)) return dec_fail(d, start, "varint does not fit in 64 bits");
        u |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
    }
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

/* A length (bytes, string): not negative, not past the input. */
static int read_length(decoder *d, const char *what, size_t *n)
{
    size_t start = d->pos;
    int64_t v = 0;
    if (read_long(d, &v)) return d->rc;
    if (v < 0) return dec_fail(d, start, "%s length %" PRId64 " is negative", what, v);
    if ((uint64_t)v > left(d))
        return dec_fail(d, start, "%s length %" PRId64 " exceeds the %zu bytes left", what, v,
                        left(d));
    *n = (size_t)v;
    return 0;
}

/* Strict UTF-8, as jansson's parser checks it: no overlong forms, no
 * surrogates, nothing past U+10FFFF. */
static bool valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF)
            k = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 3, cp = c & 0x07;
        else
            return false;
        if (n - i <= k) return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static int dec_string_body(decoder *d, size_t start, size_t n, const char *what)
{
    const uint8_t *s = d->data + d->pos;
    if (!valid_utf8(s, n)) return dec_fail(d, start, "%s is not valid UTF-8", what);
    d->pos += n;
    return buf_append_json_string(d->out, (const char *)s, n) ? dec_nomem(d) : 0;
}

/* Bytes as a JSON string whose code points 0-255 are the bytes: printable
 * ASCII as itself, everything else as \u00XX, so the text stays ASCII and
 * shows plainly which bytes were there. */
static int out_code_points(decoder *d, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t tmp[256];
    size_t k = 0;
    if (out_raw(d, "\"", 1)) return d->rc;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (k > sizeof tmp - 6) {
            if (out_raw(d, tmp, k)) return d->rc;
            k = 0;
        }
        if (c == '"' || c == '\\') {
            tmp[k++] = '\\';
            tmp[k++] = c;
        } else if (c >= 0x20 && c < 0x7f) {
            tmp[k++] = c;
        } else {
            memcpy(tmp + k, "\\u00", 4);
            tmp[k + 4] = (uint8_t)hex[c >> 4];
            tmp[k + 5] = (uint8_t)hex[c & 15];
            k += 6;
        }
    }
    if (out_raw(d, tmp, k)) return d->rc;
    return out_raw(d, "\"", 1);
}

static int dec_real(decoder *d, bool is_float)
{
    size_t need = is_float ? 4 : 8;
    if (left(d) < need)
        return dec_fail(d, d->pos, "truncated %s (%zu bytes, %zu left)",
                        is_float ? "float" : "double", need, left(d));
    uint64_t bits = 0;
    for (size_t i = 0; i < need; i++)
        bits |= (uint64_t)d->data[d->pos + i] << (8 * i);
    d->pos += need;
    double v;
    if (is_float) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        v = f;
    } else {
        memcpy(&v, &bits, sizeof v);
    }
    if (isnan(v)) return out_str(d, "\"NaN\"");
    if (isinf(v)) return out_str(d, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    char text[40];
    avro_format_real(v, is_float, text, sizeof text);
    return out_str(d, text);
}

/* The fewest bytes one value of t can take, to bound how many items a
 * block may claim against the input that is left. A lower bound: records
 * deeper than MIN_SIZE_DEPTH count 0. */
static size_t min_encoded_size(const sluice_avro_node *t, int depth)
{
    switch (t->type) {
    case SLUICE_AVRO_NULL:
        return 0;
    case SLUICE_AVRO_FLOAT:
        return 4;
    case SLUICE_AVRO_DOUBLE:
        return 8;
    case SLUICE_AVRO_FIXED:
        return t->size;
    case SLUICE_AVRO_RECORD: {
        if (depth >= MIN_SIZE_DEPTH) return 0;
        size_t sum = 0;
        for (size_t i = 0; i < t->n_fields; i++) {
            size_t f = min_encoded_size(t->fields[i].type, depth + 1);
            sum = f > SIZE_MAX - sum ? SIZE_MAX : sum + f;
        }
        return sum;
    }
    default:
        return 1; /* a varint, a length, a branch index or a block count */
    }
}

static int dec_value(decoder *d, const sluice_avro_node *t);

static int dec_enter(decoder *d)
{
    if (d->depth >= SLUICE_AVRO_MAX_DEPTH)
        return dec_fail(d, d->pos, "nested deeper than %d levels", SLUICE_AVRO_MAX_DEPTH);
    d->depth++;
    return 0;
}

/* Array items or map entries, in blocks: a count, items, ... , 0. A negative
 * count is followed by the block's size in bytes (spec, "Arrays"). */
static int dec_blocks(decoder *d, const sluice_avro_node *t)
{
    bool is_map = t->type == SLUICE_AVRO_MAP;
    const sluice_avro_node *item = is_map ? t->values : t->items;
    const char *kind = is_map ? "map" : "array";
    size_t item_min = min_encoded_size(item, 0) + (is_map ? 1 : 0);
    size_t index = 0;
    if (dec_enter(d) || out_raw(d, is_map ? "{" : "[", 1)) return d->rc;
    for (;;) {
        size_t start = d->pos;
        int64_t count;
        if (read_long(d, &count)) return d->rc;
        if (count == 0) break;
        int64_t size = -1;
        size_t body = 0;
        if (count < 0) {
            if (count == INT64_MIN)
                return dec_fail(d, start, "%s block count %" PRId64 " is out of range", kind,
                                count);
            count = -count;
            if (read_long(d, &size)) return d->rc;
            if (size < 0)
                return dec_fail(d, start, "%s block size %" PRId64 " is negative", kind, size);
            if ((uint64_t)size > left(d))
                return dec_fail(d, start, "%s block size %" PRId64 " exceeds the %zu bytes left",
                                kind, size, left(d));
            body = d->pos;
        }
        if (item_min > 0 && (uint64_t)count > left(d) / item_min)
            return dec_fail(
                d, start,
                "%s block of %" PRId64 " items needs at least %" PRIu64 " bytes, %zu left", kind,
                count,
                (uint64_t)count > UINT64_MAX / item_min ? UINT64_MAX : (uint64_t)count * item_min,
                left(d));
        /* Items that take no input still take output ("null", "{}" and a
         * comma): a count beyond what the output cap could hold is refused
         * before spending the time. */
        if (item_min == 0 && (uint64_t)count > (d->out->cap - d->out->len) / 3)
            return dec_fail_at(d, start, SLUICE_ENOMEM,
                               "%s block of %" PRId64 " empty items would exceed the output cap",
                               kind, count);
        for (int64_t i = 0; i < count; i++, index++) {
            if (index > 0 && out_raw(d, ",", 1)) return d->rc;
            if (is_map) {
                size_t kstart = d->pos, klen = 0;
                if (read_length(d, "map key", &klen)) return d->rc;
                const char *key = (const char *)d->data + d->pos;
                if (dec_string_body(d, kstart, klen, "map key") || out_raw(d, ":", 1)) return d->rc;
                avro_path_push(&d->path, AVRO_SEG_KEY, key, klen, 0);
            } else {
                avro_path_push(&d->path, AVRO_SEG_INDEX, NULL, 0, index);
            }
            int rc = dec_value(d, item);
            avro_path_pop(&d->path);
            if (rc) return rc;
        }
        if (size >= 0 && d->pos - body != (size_t)size)
            return dec_fail(d, start, "%s block size %" PRId64 " does not match its %zu bytes",
                            kind, size, d->pos - body);
    }
    d->depth--;
    return out_raw(d, is_map ? "}" : "]", 1);
}

static int dec_record(decoder *d, const sluice_avro_node *t)
{
    if (dec_enter(d) || out_raw(d, "{", 1)) return d->rc;
    for (size_t i = 0; i < t->n_fields; i++) {
        const sluice_avro_field *f = &t->fields[i];
        /* Field names are [A-Za-z_][A-Za-z0-9_]*: nothing to escape. */
        if ((i && out_raw(d, ",", 1)) || out_raw(d, "\"", 1) || out_str(d, f->name) ||
            out_raw(d, "\":", 2))
            return d->rc;
        avro_path_push(&d->path, AVRO_SEG_FIELD, f->name, AVRO_NAME_IS_CSTR, 0);
        int rc = dec_value(d, f->type);
        avro_path_pop(&d->path);
        if (rc) return rc;
    }
    d->depth--;
    return out_raw(d, "}", 1);
}

static int dec_union(decoder *d, const sluice_avro_node *t)
{
    size_t start = d->pos;
    int64_t idx;
    if (read_long(d, &idx)) return d->rc;
    if (idx < 0 || (uint64_t)idx >= t->n_branches)
        return dec_fail(d, start, "union branch %" PRId64 " out of range (%zu branches)", idx,
                        t->n_branches);
    const sluice_avro_node *b = t->branches[idx];
    if (d->style == AVRO_JSON_PLAIN || b->type == SLUICE_AVRO_NULL) return dec_value(d, b);
    if (out_raw(d, "{", 1) ||
        buf_append_json_string(d->out, avro_branch_name(b), strlen(avro_branch_name(b))))
        return d->rc ? d->rc : dec_nomem(d);
    if (out_raw(d, ":", 1) || dec_value(d, b)) return d->rc;
    return out_raw(d, "}", 1);
}

static int dec_value(decoder *d, const sluice_avro_node *t)
{
    size_t start = d->pos;
    int64_t v = 0;
    size_t n;
    char text[32];
    switch (t->type) {
    case SLUICE_AVRO_NULL:
        return out_raw(d, "null", 4);
    case SLUICE_AVRO_BOOLEAN:
        if (left(d) < 1) return dec_fail(d, start, "truncated boolean");
        if (d->data[d->pos] > 1)
            return dec_fail(d, start, "boolean byte 0x%02x is neither 0 nor 1", d->data[d->pos]);
        return out_str(d, d->data[d->pos++] ? "true" : "false");
    case SLUICE_AVRO_INT:
    case SLUICE_AVRO_LONG:
        if (read_long(d, &v)) return d->rc;
        if (t->type == SLUICE_AVRO_INT && (v < INT32_MIN || v > INT32_MAX))
            return dec_fail(d, start, "int %" PRId64 " does not fit in 32 bits", v);
        snprintf(text, sizeof text, "%" PRId64, v);
        return out_str(d, text);
    case SLUICE_AVRO_FLOAT:
    case SLUICE_AVRO_DOUBLE:
        return dec_real(d, t->type == SLUICE_AVRO_FLOAT);
    case SLUICE_AVRO_STRING:
        if (read_length(d, "string", &n)) return d->rc;
        return dec_string_body(d, start, n, "string");
    case SLUICE_AVRO_BYTES:
        if (read_length(d, "bytes", &n)) return d->rc;
        d->pos += n;
        return out_code_points(d, d->data + d->pos - n, n);
    case SLUICE_AVRO_FIXED:
        if (left(d) < t->size)
            return dec_fail(d, start, "truncated fixed %s (needs %zu bytes, %zu left)", t->fullname,
                            t->size, left(d));
        d->pos += t->size;
        return out_code_points(d, d->data + start, t->size);
    case SLUICE_AVRO_ENUM:
        if (read_long(d, &v)) return d->rc;
        if (v < 0 || (uint64_t)v >= t->n_symbols)
            return dec_fail(d, start, "enum index %" PRId64 " out of range (%zu symbols)", v,
                            t->n_symbols);
        /* Symbols are names: nothing to escape. */
        if (out_raw(d, "\"", 1) || out_str(d, t->symbols[v]) || out_raw(d, "\"", 1)) return d->rc;
        return 0;
    case SLUICE_AVRO_RECORD:
        return dec_record(d, t);
    case SLUICE_AVRO_ARRAY:
    case SLUICE_AVRO_MAP:
        return dec_blocks(d, t);
    case SLUICE_AVRO_UNION:
        return dec_union(d, t);
    }
    return dec_fail(d, start, "unknown schema type %d", (int)t->type);
}

int avro_json_decode(const sluice_avro_node *writer, const uint8_t *data, size_t len,
                     avro_json_style style, buf *out, sluice_error *err)
{
    if (!writer || !out || (!data && len))
        return sluice_error_set(err, SLUICE_EINVAL, "avro_json_decode: no schema, input or output");
    static const uint8_t nothing[1];
    decoder d = {.data = data ? data : nothing, .len = len, .style = style, .out = out, .err = err};
    size_t start = out->len;
    int rc = dec_value(&d, writer);
    if (rc == 0 && d.pos != d.len)
        rc = sluice_error_set(err, SLUICE_EINVAL, "offset %zu: %zu bytes left over after the value",
                              d.pos, d.len - d.pos);
    if (rc) {
        out->len = start;
        return rc;
    }
    return 0;
}
