/*
 * expr_eval.c — evaluating a compiled transform expression (expr.h; the
 * tree is in expr_int.h, built by expr_parse.c): a tree walk that
 * allocates nothing.
 *
 * Strings that an expression makes (upper, lower, concat, cast to String)
 * are appended to ctx->scratch, whose storage may move when it grows. The
 * discipline that keeps every pointer valid:
 *   - a node's evaluation only appends to scratch, above the length it found
 *     (its mark); when it returns, scratch holds exactly its result's bytes
 *     above the mark, or nothing (settle()). So a child's string result is
 *     always at [mark, len) and its parent may reuse those bytes in place
 *     (upper() rewrites them, concat() simply keeps them);
 *   - a parent that holds one child's string while evaluating another
 *     (comparison, IN) keeps it as an offset into scratch across the call
 *     and turns it back into a pointer afterwards (hold()/restore());
 *   - copying a value that lies inside scratch into scratch goes through
 *     scratch_append(), which re-derives the source after the buffer grows.
 * What expr_eval returns may point into scratch: it is valid until the next
 * append to scratch (a later expr_eval on the same buffer included) or its
 * reset. Slots must not point into scratch.
 *
 * Numbers. Integers are int64 with every +, -, *, unary minus and abs()
 * checked (__builtin_*_overflow); a float anywhere makes the operation
 * double; / is always double; % is integers only (INT64_MIN % -1 is 0, as
 * mathematics says, not the trap the CPU would give). Comparisons of an
 * int64 with a double are exact (no rounding of the int to double).
 * CV_DECIMAL becomes the nearest double for arithmetic and comparison, and
 * is exact for cast to String and to the integer types.
 *
 * Stack: one level of the evaluator's recursion takes under 1 KiB, so an
 * evaluation needs at most about 64 KiB even at the depth bound (writer
 * threads may have small stacks).
 *
 * Threads: a compiled tree is read-only and may be evaluated by any number
 * of threads at once, each with its own expr_ctx (and scratch buffer).
 */
#include "codec/expr_int.h"

#include "codec/iso8601.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Messages                                                            */

static int fail_at(sluice_error *err, int code, int offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(sluice_error *err, int code, int offset, const char *fmt, ...)
{
    if (!err) return code;
    char msg[SLUICE_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sluice_error_set(err, code, "offset %d: %s", offset, msg);
}

static const char *kind_name(const cvalue *v)
{
    switch (v->kind) {
    case CV_NULL:
        return "NULL";
    case CV_BOOL:
        return "Bool";
    case CV_INT:
        switch (v->unit) {
        case CV_UNIT_NONE:
            return "Int64";
        case CV_UNIT_DATE_DAYS:
            return "date";
        case CV_UNIT_TIME_MS:
            return "time of day (ms)";
        case CV_UNIT_TIME_US:
            return "time of day (us)";
        case CV_UNIT_TS_MS:
            return "timestamp (ms)";
        case CV_UNIT_TS_US:
            return "timestamp (us)";
        case CV_UNIT_TS_S:
            return "timestamp (s)";
        }
        return "Int64";
    case CV_DOUBLE:
        return v->is_float32 ? "Float32" : "Float64";
    case CV_STRING:
        return "String";
    case CV_BYTES:
        return "Bytes";
    case CV_ENUM:
        return "Enum";
    case CV_DECIMAL:
        return "Decimal";
    }
    return "unknown";
}

static bool has_bytes(const cvalue *v)
{
    return v->kind == CV_STRING || v->kind == CV_BYTES || v->kind == CV_ENUM ||
           v->kind == CV_DECIMAL;
}

static bool is_text(const cvalue *v)
{
    return v->kind == CV_STRING || v->kind == CV_BYTES || v->kind == CV_ENUM;
}

typedef enum unit_family { FAM_NONE, FAM_POINT, FAM_TIME_OF_DAY } unit_family;

static unit_family family_of(cv_unit u)
{
    switch (u) {
    case CV_UNIT_NONE:
        return FAM_NONE;
    case CV_UNIT_TIME_MS:
    case CV_UNIT_TIME_US:
        return FAM_TIME_OF_DAY;
    case CV_UNIT_DATE_DAYS:
    case CV_UNIT_TS_MS:
    case CV_UNIT_TS_US:
    case CV_UNIT_TS_S:
        return FAM_POINT;
    }
    return FAM_NONE;
}

/* Nanoseconds in one tick of the unit; every ratio between two units of a
 * family is an integer. */
static int64_t unit_ns(cv_unit u)
{
    switch (u) {
    case CV_UNIT_DATE_DAYS:
        return INT64_C(86400000000000);
    case CV_UNIT_TS_S:
        return INT64_C(1000000000);
    case CV_UNIT_TS_MS:
    case CV_UNIT_TIME_MS:
        return INT64_C(1000000);
    case CV_UNIT_TS_US:
    case CV_UNIT_TIME_US:
        return INT64_C(1000);
    case CV_UNIT_NONE:
        break;
    }
    return 1;
}

static int64_t floor_div(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        q -= 1;
        r += b;
    }
    *rem = r;
    return q;
}

static int to_tpoint(const expr *at, const cvalue *v, tpoint *out, sluice_error *err)
{
    if (v->unit == CV_UNIT_DATE_DAYS) {
        if (__builtin_mul_overflow(v->i, (int64_t)86400, &out->sec))
            return fail_at(err, SLUICE_ERANGE, at->offset, "date %" PRId64 " is out of range",
                           v->i);
        out->nsec = 0;
        return 0;
    }
    int64_t per_sec = INT64_C(1000000000) / unit_ns(v->unit), rem;
    out->sec = floor_div(v->i, per_sec, &rem);
    out->nsec = (int32_t)(rem * unit_ns(v->unit));
    return 0;
}

static int tpoint_cmp(tpoint a, tpoint b)
{
    if (a.sec != b.sec) return a.sec < b.sec ? -1 : 1;
    return a.nsec < b.nsec ? -1 : a.nsec > b.nsec;
}

/* ------------------------------------------------------------------ */
/* Scratch discipline (see the top of the file)                        */

static bool in_scratch_from(const buf *s, const char *ptr, size_t mark)
{
    if (!s || !s->data || !ptr) return false;
    uintptr_t p = (uintptr_t)ptr, base = (uintptr_t)s->data;
    return p >= base + mark && p < base + s->len;
}

/* Offset of a string value held in scratch, or SIZE_MAX. */
static size_t hold(const expr_ctx *c, const cvalue *v)
{
    if (!has_bytes(v) || v->len == 0 || !in_scratch_from(c->scratch, v->s, 0)) return SIZE_MAX;
    return (size_t)((uintptr_t)v->s - (uintptr_t)c->scratch->data);
}

static void restore(const expr_ctx *c, cvalue *v, size_t off)
{
    if (off != SIZE_MAX) v->s = (const char *)c->scratch->data + off;
}

/* After a node's evaluation: leave scratch holding its result's bytes right
 * at the mark, and nothing else of what it appended. */
static void settle(buf *s, size_t mark, cvalue *v, int rc)
{
    if (rc == 0 && has_bytes(v) && v->len > 0 && in_scratch_from(s, v->s, mark)) {
        size_t off = (size_t)((uintptr_t)v->s - (uintptr_t)s->data);
        if (off != mark) memmove(s->data + mark, s->data + off, v->len);
        v->s = (const char *)s->data + mark;
        s->len = mark + v->len;
    } else {
        s->len = mark;
    }
}

static int need_scratch(const expr *e, const expr_ctx *c, sluice_error *err)
{
    if (c->scratch) return 0;
    return fail_at(err, SLUICE_EINVAL, e->offset, "%s() needs a scratch buffer (expr_ctx.scratch)",
                   e->name);
}

static int scratch_append(const expr *e, const expr_ctx *c, const char *src, size_t n,
                          sluice_error *err)
{
    buf *s = c->scratch;
    if (n == 0) return 0;
    size_t off =
        in_scratch_from(s, src, 0) ? (size_t)((uintptr_t)src - (uintptr_t)s->data) : SIZE_MAX;
    if (buf_reserve(s, n))
        return fail_at(err, SLUICE_ENOMEM, e->offset,
                       "%s(): the scratch buffer is full (%zu bytes)", e->name, s->cap);
    if (off != SIZE_MAX) src = (const char *)s->data + off;
    memcpy(s->data + s->len, src, n);
    s->len += n;
    return 0;
}

static cvalue text_value(cv_kind kind, const char *s, size_t n)
{
    cvalue v = {.kind = kind, .s = n ? s : "", .len = n};
    return v;
}

/* ------------------------------------------------------------------ */
/* Conversions                                                         */

/* The magnitude of a decimal's unscaled value, big endian, and its sign. */
static int decimal_magnitude(const expr *at, const cvalue *v, uint8_t *mag, size_t *n, bool *neg,
                             sluice_error *err)
{
    if (v->len > DECIMAL_MAX_BYTES)
        return fail_at(err, SLUICE_ERANGE, at->offset, "a Decimal of %zu bytes is wider than %d",
                       v->len, DECIMAL_MAX_BYTES);
    const uint8_t *b = (const uint8_t *)v->s;
    *n = v->len;
    *neg = v->len > 0 && (b[0] & 0x80);
    for (size_t i = 0; i < v->len; i++)
        mag[i] = *neg ? (uint8_t)~b[i] : b[i];
    if (*neg) { /* two's complement: invert (done) and add one */
        for (size_t i = v->len; i-- > 0;)
            if (++mag[i] != 0) break;
    }
    return 0;
}

/* The exact decimal text of a CV_DECIMAL: "-12.50" for unscaled -1250,
 * scale 2. out has TEXT_TMP bytes. */
static int decimal_text(const expr *at, const cvalue *v, char *out, size_t *out_len,
                        sluice_error *err)
{
    uint8_t mag[DECIMAL_MAX_BYTES];
    size_t n;
    bool neg;
    int rc = decimal_magnitude(at, v, mag, &n, &neg, err);
    if (rc) return rc;
    if (v->scale < -76 || v->scale > 76)
        return fail_at(err, SLUICE_ERANGE, at->offset, "Decimal scale %d is out of range",
                       v->scale);
    char digits[80]; /* 2^256 has 78 digits */
    size_t nd = 0;
    size_t first = 0; /* leading zero bytes need no more division */
    for (;;) {
        while (first < n && mag[first] == 0)
            first++;
        if (first == n) break;
        unsigned rem = 0;
        for (size_t i = first; i < n; i++) {
            unsigned cur = rem * 256 + mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = (char)('0' + rem);
    }
    if (nd == 0) digits[nd++] = '0';
    size_t o = 0;
    if (neg) out[o++] = '-';
    int scale = v->scale;
    if (scale <= 0) {
        for (size_t i = nd; i-- > 0;)
            out[o++] = digits[i];
        for (int z = 0; z < -scale && !(nd == 1 && digits[0] == '0'); z++)
            out[o++] = '0';
    } else {
        size_t sc = (size_t)scale;
        if (nd <= sc) {
            out[o++] = '0';
            out[o++] = '.';
            for (size_t z = nd; z < sc; z++)
                out[o++] = '0';
            for (size_t i = nd; i-- > 0;)
                out[o++] = digits[i];
        } else {
            for (size_t i = nd; i-- > 0;) {
                out[o++] = digits[i];
                if (i == sc) out[o++] = '.';
            }
        }
    }
    out[o] = '\0';
    *out_len = o;
    return 0;
}

/* The nearest double: exact division when the unscaled value and 10^scale
 * are both exact doubles, otherwise the decimal text through strtod (which
 * rounds correctly). */
static int decimal_to_double(const expr *at, const cvalue *v, double *out, sluice_error *err)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    uint8_t mag[DECIMAL_MAX_BYTES];
    size_t n;
    bool neg;
    int rc = decimal_magnitude(at, v, mag, &n, &neg, err);
    if (rc) return rc;
    size_t first = 0;
    while (first < n && mag[first] == 0)
        first++;
    if (n - first <= 8 && v->scale >= 0 && v->scale <= 22) {
        uint64_t u = 0;
        for (size_t i = first; i < n; i++)
            u = u << 8 | mag[i];
        if (u <= (UINT64_C(1) << 53)) {
            double d = (double)u / pow10[v->scale];
            *out = neg ? -d : d;
            return 0;
        }
    }
    char text[TEXT_TMP];
    size_t len;
    if ((rc = decimal_text(at, v, text, &len, err))) return rc;
    *out = strtod(text, NULL);
    return 0;
}

/* [+-]digits, nothing else, within int64. */
static int parse_int_strict(const char *s, size_t n, int64_t *out, bool *range)
{
    *range = false;
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i == n) return -1;
    uint64_t u = 0, limit = neg ? UINT64_C(1) << 63 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (!is_digit(s[i])) {
            *range = false;
            return -1;
        }
        unsigned digit = (unsigned)(s[i] - '0');
        if (u > (limit - digit) / 10)
            *range = true; /* keep scanning: '99999999999999999999x' is not a number at all */
        else
            u = u * 10 + digit;
    }
    if (*range) return -1;
    *out = neg ? (u == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)u) : (int64_t)u;
    return 0;
}

/* [+-](digits[.digits]|.digits)[(e|E)[+-]digits], nothing else. */
static int parse_float_strict(const char *s, size_t n, double *out, bool *range)
{
    *range = false;
    size_t i = 0, mant = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    while (i < n && is_digit(s[i]))
        i++, mant++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, mant++;
    }
    if (mant == 0) return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t exp_digits = 0;
        while (i < n && is_digit(s[i]))
            i++, exp_digits++;
        if (exp_digits == 0) return -1;
    }
    if (i != n || n >= TEXT_TMP) return -1;
    char tmp[TEXT_TMP];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    if (isinf(*out)) {
        *range = true;
        return -1;
    }
    return 0;
}

/* Decimal text of v into out (at least 21 bytes); snprintf costs more than
 * the rest of a typical derived column together. */
static size_t format_int(int64_t v, char *out)
{
    char rev[20];
    size_t n = 0, o = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        rev[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) out[o++] = '-';
    while (n)
        out[o++] = rev[--n];
    out[o] = '\0';
    return o;
}

/* Shortest text that reads back as the same double. */
static size_t format_double(double d, char *out, size_t cap)
{
    if (isnan(d)) return (size_t)snprintf(out, cap, "nan");
    if (isinf(d)) return (size_t)snprintf(out, cap, d > 0 ? "inf" : "-inf");
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d) break;
    }
    return (size_t)n;
}

/* ISO-8601 text of a date, timestamp (UTC, 'Z') or time of day. */
static int format_time(const expr *at, const cvalue *v, char *out, size_t *n, sluice_error *err)
{
    const int64_t day_limit = INT64_C(1) << 40;
    if (v->unit == CV_UNIT_DATE_DAYS) {
        if (v->i > day_limit || v->i < -day_limit)
            return fail_at(err, SLUICE_ERANGE, at->offset, "date %" PRId64 " is out of range",
                           v->i);
        int64_t y;
        unsigned m, d;
        iso8601_civil_from_days(v->i, &y, &m, &d);
        *n = (size_t)snprintf(out, TEXT_TMP, "%s%04" PRId64 "-%02u-%02u", y < 0 ? "-" : "",
                              y < 0 ? -y : y, m, d);
        return 0;
    }
    tpoint t;
    int rc = to_tpoint(at, v, &t, err);
    if (rc) return rc;
    int64_t sod, days = floor_div(t.sec, 86400, &sod);
    char frac[16] = "";
    if (v->unit == CV_UNIT_TS_MS || v->unit == CV_UNIT_TIME_MS)
        snprintf(frac, sizeof frac, ".%03d", (int)(t.nsec / 1000000));
    else if (v->unit == CV_UNIT_TS_US || v->unit == CV_UNIT_TIME_US)
        snprintf(frac, sizeof frac, ".%06d", (int)(t.nsec / 1000));
    int h = (int)(sod / 3600), mi = (int)(sod / 60 % 60), s = (int)(sod % 60);
    if (family_of(v->unit) == FAM_TIME_OF_DAY) {
        if (days != 0)
            return fail_at(err, SLUICE_ERANGE, at->offset,
                           "time of day %" PRId64 " is outside 00:00:00 to 23:59:59", v->i);
        *n = (size_t)snprintf(out, TEXT_TMP, "%02d:%02d:%02d%s", h, mi, s, frac);
        return 0;
    }
    int64_t y;
    unsigned m, d;
    iso8601_civil_from_days(days, &y, &m, &d);
    *n = (size_t)snprintf(out, TEXT_TMP, "%s%04" PRId64 "-%02u-%02uT%02d:%02d:%02d%sZ",
                          y < 0 ? "-" : "", y < 0 ? -y : y, m, d, h, mi, s, frac);
    return 0;
}

/* The text of a scalar as cast(x AS String) writes it: v's own bytes for
 * String, Enum (its symbol) and Bytes, otherwise written into tmp
 * (TEXT_TMP bytes). */
static int value_text(const expr *at, const cvalue *v, char *tmp, const char **p, size_t *n,
                      sluice_error *err)
{
    *p = tmp;
    switch (v->kind) {
    case CV_STRING:
    case CV_BYTES:
    case CV_ENUM:
        *p = v->s;
        *n = v->len;
        return 0;
    case CV_BOOL:
        *n = (size_t)snprintf(tmp, TEXT_TMP, "%s", v->i ? "true" : "false");
        return 0;
    case CV_INT:
        if (v->unit != CV_UNIT_NONE) return format_time(at, v, tmp, n, err);
        *n = format_int(v->i, tmp);
        return 0;
    case CV_DOUBLE:
        *n = format_double(v->d, tmp, TEXT_TMP);
        return 0;
    case CV_DECIMAL:
        return decimal_text(at, v, tmp, n, err);
    case CV_NULL:
        break;
    }
    *n = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                          */

static int eval_settled(const expr *e, const expr_ctx *c, cvalue *out, sluice_error *err);

/* Evaluate a child. Leaves (the most common children) are read here
 * without a call; they append nothing, so they need no settling. */
static inline int eval(const expr *e, const expr_ctx *c, cvalue *out, sluice_error *err)
{
    if (e->op == OP_FIELD) {
        *out = c->slots[e->slot];
        return 0;
    }
    if (e->op == OP_LITERAL) {
        *out = e->lit;
        return 0;
    }
    return eval_settled(e, c, out, err);
}

static const char *op_text(node_op op)
{
    switch (op) {
    case OP_ADD:
        return "+";
    case OP_SUB:
        return "-";
    case OP_MUL:
        return "*";
    case OP_DIV:
        return "/";
    case OP_MOD:
        return "%";
    default:
        return "?";
    }
}

static int int_overflow_error(const expr *e, int64_t a, int64_t b, sluice_error *err)
{
    return fail_at(err, SLUICE_ERANGE, e->offset, "integer overflow in %" PRId64 " %s %" PRId64, a,
                   op_text(e->op), b);
}

typedef enum num_class { NC_BAD, NC_INT, NC_FLOAT, NC_TIME } num_class;

static num_class num_class_of(const cvalue *v)
{
    switch (v->kind) {
    case CV_INT:
        return v->unit == CV_UNIT_NONE ? NC_INT : NC_TIME;
    case CV_DOUBLE:
    case CV_DECIMAL:
        return NC_FLOAT;
    default:
        return NC_BAD;
    }
}

static int as_double(const expr *at, const cvalue *v, double *out, sluice_error *err)
{
    if (v->kind == CV_DECIMAL) return decimal_to_double(at, v, out, err);
    *out = v->kind == CV_DOUBLE ? v->d : (double)v->i;
    return 0;
}

/* Timestamps take + and - of a number of their ticks, and - of another
 * time of the same family (giving ticks of the finer unit). */
static int time_arith(const expr *e, const cvalue *l, const cvalue *r, cvalue *out,
                      sluice_error *err)
{
    num_class lc = num_class_of(l), rc = num_class_of(r);
    int64_t res;
    if (lc == NC_TIME && rc == NC_INT && (e->op == OP_ADD || e->op == OP_SUB)) {
        bool ovf = e->op == OP_ADD ? __builtin_add_overflow(l->i, r->i, &res)
                                   : __builtin_sub_overflow(l->i, r->i, &res);
        if (ovf) return int_overflow_error(e, l->i, r->i, err);
        *out = cv_int(res, l->unit);
        return 0;
    }
    if (lc == NC_INT && rc == NC_TIME && e->op == OP_ADD) {
        if (__builtin_add_overflow(l->i, r->i, &res)) return int_overflow_error(e, l->i, r->i, err);
        *out = cv_int(res, r->unit);
        return 0;
    }
    if (lc == NC_TIME && rc == NC_TIME && e->op == OP_SUB &&
        family_of(l->unit) == family_of(r->unit)) {
        int64_t nl = unit_ns(l->unit), nr = unit_ns(r->unit);
        int64_t a = l->i, b = r->i;
        if ((nl > nr && __builtin_mul_overflow(a, nl / nr, &a)) ||
            (nr > nl && __builtin_mul_overflow(b, nr / nl, &b)) ||
            __builtin_sub_overflow(a, b, &res))
            return fail_at(err, SLUICE_ERANGE, e->offset,
                           "integer overflow subtracting %s %" PRId64 " from %s %" PRId64,
                           kind_name(r), r->i, kind_name(l), l->i);
        *out = cv_int(res, CV_UNIT_NONE);
        return 0;
    }
    return fail_at(err, SLUICE_EINVAL, e->offset,
                   "cannot apply '%s' to %s and %s (a date or time takes + or - of an integer "
                   "number of its units, or - of another one)",
                   op_text(e->op), kind_name(l), kind_name(r));
}

static int arith(const expr *e, const cvalue *l, const cvalue *r, cvalue *out, sluice_error *err)
{
    num_class lc = num_class_of(l), rc = num_class_of(r);
    if (lc == NC_BAD || rc == NC_BAD) {
        const char *hint = (l->kind == CV_STRING || r->kind == CV_STRING) && e->op == OP_ADD
                               ? " (use concat to join strings)"
                               : "";
        return fail_at(err, SLUICE_EINVAL, e->offset, "cannot apply '%s' to %s and %s%s",
                       op_text(e->op), kind_name(l), kind_name(r), hint);
    }
    if (lc == NC_TIME || rc == NC_TIME) return time_arith(e, l, r, out, err);
    if (e->op == OP_MOD) {
        if (lc != NC_INT || rc != NC_INT)
            return fail_at(err, SLUICE_EINVAL, e->offset, "'%%' needs integers, got %s and %s",
                           kind_name(l), kind_name(r));
        if (r->i == 0) return fail_at(err, SLUICE_EINVAL, e->offset, "modulo by zero");
        /* INT64_MIN % -1 is 0; the CPU would trap on it. */
        *out = cv_int(r->i == -1 ? 0 : l->i % r->i, CV_UNIT_NONE);
        return 0;
    }
    if (lc == NC_INT && rc == NC_INT && e->op != OP_DIV) {
        int64_t res;
        bool ovf = e->op == OP_ADD   ? __builtin_add_overflow(l->i, r->i, &res)
                   : e->op == OP_SUB ? __builtin_sub_overflow(l->i, r->i, &res)
                                     : __builtin_mul_overflow(l->i, r->i, &res);
        if (ovf) return int_overflow_error(e, l->i, r->i, err);
        *out = cv_int(res, CV_UNIT_NONE);
        return 0;
    }
    double a, b;
    int rc2;
    if ((rc2 = as_double(e, l, &a, err)) || (rc2 = as_double(e, r, &b, err))) return rc2;
    double res;
    switch (e->op) {
    case OP_ADD:
        res = a + b;
        break;
    case OP_SUB:
        res = a - b;
        break;
    case OP_MUL:
        res = a * b;
        break;
    default:
        if (b == 0) return fail_at(err, SLUICE_EINVAL, e->offset, "division by zero");
        res = a / b;
        break;
    }
    *out = cv_double(res);
    return 0;
}

/* -1, 0, 1; 2 when unordered (NaN). Exact: the int is never rounded. */
static int cmp_int_double(int64_t i, double d)
{
    if (isnan(d)) return 2;
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    double t = trunc(d); /* |t| <= 2^63 and integral, so exactly an int64 */
    int64_t ti = (int64_t)t;
    if (i != ti) return i < ti ? -1 : 1;
    return d > t ? -1 : d < t ? 1 : 0;
}

static int cmp_double(double a, double b)
{
    if (isnan(a) || isnan(b)) return 2;
    return a < b ? -1 : a > b;
}

static int cmp_bytes(const cvalue *a, const cvalue *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->s, b->s, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
}

static int cmp_numbers(const expr *at, const cvalue *a, const cvalue *b, int *ord,
                       sluice_error *err)
{
    if (a->kind == CV_INT && b->kind == CV_INT) {
        *ord = a->i < b->i ? -1 : a->i > b->i;
        return 0;
    }
    double da, db;
    int rc;
    if (a->kind == CV_INT) {
        if ((rc = as_double(at, b, &db, err))) return rc;
        *ord = cmp_int_double(a->i, db);
        return 0;
    }
    if ((rc = as_double(at, a, &da, err))) return rc;
    if (b->kind == CV_INT) {
        int o = cmp_int_double(b->i, da);
        *ord = o == 2 ? 2 : -o;
        return 0;
    }
    if ((rc = as_double(at, b, &db, err))) return rc;
    *ord = cmp_double(da, db);
    return 0;
}

/* A date or timestamp against text: the literal's time read at compile
 * time, or a runtime string read now. */
static int cmp_time_text(const expr *at, const cvalue *t, const cvalue *s, const expr *s_node,
                         int *ord, sluice_error *err)
{
    tpoint a = {0}, b = {0};
    int rc = to_tpoint(at, t, &a, err);
    if (rc) return rc;
    if (s_node && s_node->op == OP_LITERAL && s_node->lit_is_time) {
        b = s_node->lit_time;
    } else if (expr_parse_iso_time(s->s, s->len, &b) != 0) {
        char shown[SHOWN_MAX * 4 + 16];
        return fail_at(err, SLUICE_EINVAL, at->offset,
                       "cannot compare %s with %s: not an ISO-8601 date or time "
                       "('2026-01-01', '2026-01-01T10:00:00Z', '2026-01-01 10:00:00.5+02:00')",
                       kind_name(t), expr_show(shown, sizeof shown, s->s, s->len));
    }
    *ord = tpoint_cmp(a, b);
    return 0;
}

typedef enum value_class { VC_NUM, VC_TEXT, VC_BOOL, VC_POINT, VC_TIME_OF_DAY } value_class;

static value_class class_of(const cvalue *v)
{
    switch (v->kind) {
    case CV_BOOL:
        return VC_BOOL;
    case CV_INT:
        return family_of(v->unit) == FAM_NONE    ? VC_NUM
               : family_of(v->unit) == FAM_POINT ? VC_POINT
                                                 : VC_TIME_OF_DAY;
    case CV_STRING:
    case CV_BYTES:
    case CV_ENUM:
        return VC_TEXT;
    default:
        return VC_NUM;
    }
}

/* Three-way comparison of two non-NULL values (ln, rn: their nodes, for
 * literal times); comparing kinds that do not compare is an error. */
static int compare(const expr *at, const cvalue *l, const expr *ln, const cvalue *r, const expr *rn,
                   int *ord, sluice_error *err)
{
    if (l->kind == r->kind && l->unit == r->unit) { /* the common case, without classifying */
        if (l->kind == CV_INT) {
            *ord = l->i < r->i ? -1 : l->i > r->i;
            return 0;
        }
        if (l->kind == CV_STRING) {
            *ord = cmp_bytes(l, r);
            return 0;
        }
    }
    value_class a = class_of(l), b = class_of(r);
    if (a == VC_NUM && b == VC_NUM) return cmp_numbers(at, l, r, ord, err);
    if (a == VC_TEXT && b == VC_TEXT) {
        *ord = cmp_bytes(l, r);
        return 0;
    }
    if (a == VC_BOOL && b == VC_BOOL) {
        *ord = l->i < r->i ? -1 : l->i > r->i;
        return 0;
    }
    if ((a == VC_POINT && b == VC_POINT) || (a == VC_TIME_OF_DAY && b == VC_TIME_OF_DAY)) {
        tpoint x = {0}, y = {0};
        int rc;
        if ((rc = to_tpoint(at, l, &x, err)) || (rc = to_tpoint(at, r, &y, err))) return rc;
        *ord = tpoint_cmp(x, y);
        return 0;
    }
    if (a == VC_POINT && b == VC_TEXT) return cmp_time_text(at, l, r, rn, ord, err);
    if (a == VC_TEXT && b == VC_POINT) {
        int rc = cmp_time_text(at, r, l, ln, ord, err);
        if (rc == 0) *ord = -*ord;
        return rc;
    }
    const char *hint = (a == VC_POINT || b == VC_POINT) && (a == VC_NUM || b == VC_NUM)
                           ? " (compare a date or timestamp with another one or with an ISO-8601 "
                             "string such as '2026-01-01T00:00:00Z')"
                           : "";
    return fail_at(err, SLUICE_EINVAL, at->offset, "cannot compare %s with %s%s", kind_name(l),
                   kind_name(r), hint);
}

static bool cmp_holds(cmp_op op, int ord)
{
    switch (op) {
    case CMP_EQ:
        return ord == 0;
    case CMP_NE:
        return ord != 0;
    case CMP_LT:
        return ord == -1;
    case CMP_LE:
        return ord == -1 || ord == 0;
    case CMP_GT:
        return ord == 1;
    case CMP_GE:
        return ord == 1 || ord == 0;
    }
    return false;
}

static int eval_cmp(const expr *e, const expr_ctx *c, cvalue *out, sluice_error *err)
{
    cvalue l, r;
    int rc = eval(e->a, c, &l, err);
    if (rc) return rc;
    size_t held = hold(c, &l);
    if ((rc = eval(e->b, c, &r, err))) return rc;
    restore(c, &l, held);
    if (l.kind == CV_NULL || r.kind == CV_NULL) {
        *out = cv_null();
        return 0;
    }
    int ord;
    if ((rc = compare(e, &l, e->a, &r, e->b, &ord, err))) return rc;
    *out = cv_bool(cmp_holds((cmp_op)e->sub, ord));
    return 0;
}

static int eval_in(const expr *e, const expr_ctx *c, cvalue *out, sluice_error *err)
{
    cvalue x;
    int rc = eval(e->a, c, &x, err);
    if (rc) return rc;
    if (x.kind == CV_NULL) {
        *out = cv_null();
        return 0;
    }
    size_t held = hold(c, &x), after_x = c->scratch ? c->scratch->len : 0;
    bool found = false, saw_null = false;
    for (const expr *item = e->b; item && !found; item = item->next) {
        cvalue v;
        if ((rc = eval(item, c, &v, err))) return rc;
        restore(c, &x, held);
        if (v.kind == CV_NULL) {
            saw_null = true;
        } else {
            int ord;
            if ((rc = compare(e, &x, e->a, &v, item, &ord, err))) return rc;
            found = ord == 0;
        }
        if (c->scratch) c->scratch->len = after_x;
    }
    if (!found && saw_null)
        *out = cv_null();
    else
        *out = cv_bool(found == (e->op == OP_IN));
    return 0;
}

/* AND / OR over a list, three-valued, stopping at the first operand that
 * decides (false for AND, true for OR). */
static int eval_logic(const expr *e, const expr_ctx *c, cvalue *out, sluice_error *err)
{
    bool decisive = e->op == OP_OR, saw_null = false;
    for (const expr *x = e->a; x; x = x->next) {
        cvalue v;
        int rc = eval(x, c, &v, err);
        if (rc) return rc;
        if (v.kind == CV_NULL) {
            saw_null = true;
        } else if (v.kind == CV_BOOL) {
            if ((v.i != 0) == decisive) {
                *out = cv_bool(decisive);
                return 0;
            }
        } else {
            return fail_at(err, SLUICE_EINVAL, e->offset, "%s needs true, false or NULL, got %s",
                           e->op == OP_OR ? "OR" : "AND", kind_name(&v));
        }
    }
    *out = saw_null ? cv_null() : cv_bool(!decisive);
    return 0;
}

static int eval_neg(const expr *e, const cvalue *v, cvalue *out, sluice_error *err)
{
    num_class k = num_class_of(v);
    if (k == NC_INT) {
        if (v->i == INT64_MIN)
            return fail_at(err, SLUICE_ERANGE, e->offset, "integer overflow in -(%" PRId64 ")",
                           v->i);
        *out = cv_int(-v->i, CV_UNIT_NONE);
        return 0;
    }
    if (k == NC_FLOAT) {
        double d;
        int rc = as_double(e, v, &d, err);
        if (rc) return rc;
        *out = cv_double(-d);
        return 0;
    }
    return fail_at(err, SLUICE_EINVAL, e->offset, "cannot negate %s", kind_name(v));
}

static int eval_abs(const expr *e, const cvalue *v, cvalue *out, sluice_error *err)
{
    num_class k = num_class_of(v);
    if (k == NC_INT) {
        if (v->i == INT64_MIN)
            return fail_at(err, SLUICE_ERANGE, e->offset, "integer overflow in abs(%" PRId64 ")",
                           v->i);
        *out = cv_int(v->i < 0 ? -v->i : v->i, CV_UNIT_NONE);
        return 0;
    }
    if (k == NC_FLOAT) {
        double d;
        int rc = as_double(e, v, &d, err);
        if (rc) return rc;
        *out = cv_double(fabs(d));
        return 0;
    }
    return fail_at(err, SLUICE_EINVAL, e->offset, "abs() needs a number, got %s", kind_name(v));
}

/* upper() / lower(): the argument's bytes end up at the mark (either left
 * there by the argument's own evaluation or copied there) and are rewritten
 * in place. */
static int eval_case(const expr *e, const expr_ctx *c, cvalue *out, sluice_error *err)
{
    int rc = need_scratch(e, c, err);
    if (rc) return rc;
    buf *s = c->scratch;
    size_t mark = s->len;
    cvalue v;
    if ((rc = eval(e->a, c, &v, err))) return rc;
    if (v.kind == CV_NULL) {
        *out = v;
        return 0;
    }
    if (!is_text(&v))
        return fail_at(err, SLUICE_EINVAL, e->offset, "%s() needs a String, got %s", e->name,
                       kind_name(&v));
    cv_kind kind = v.kind == CV_BYTES ? CV_BYTES : CV_STRING;
    if (v.len == 0) {
        *out = text_value(kind, "", 0);
        return 0;
    }
    if (!in_scratch_from(s, v.s, mark) && (rc = scratch_append(e, c, v.s, v.len, err))) return rc;
    if (s->len != mark + v.len)
        return fail_at(err, SLUICE_EINTERNAL, e->offset, "%s(): scratch out of step", e->name);
    uint8_t *p = s->data + mark;
    bool up = e->op == OP_UPPER;
    for (size_t i = 0; i < v.len; i++) {
        if (up && p[i] >= 'a' && p[i] <= 'z')
            p[i] = (uint8_t)(p[i] - 'a' + 'A');
        else if (!up && p[i] >= 'A' && p[i] <= 'Z')
            p[i] = (uint8_t)(p[i] - 'A' + 'a');
    }
    *out = text_value(kind, (const char *)p, v.len);
    return 0;
}

/* concat(): each argument's text lands right after the previous one's,
 * either because the argument's evaluation left it there or by a copy. */
static int eval_concat(const expr *e, const expr_ctx *c, cvalue *out, sluice_error *err)
{
    int rc = need_scratch(e, c, err);
    if (rc) return rc;
    buf *s = c->scratch;
    size_t start = s->len;
    bool saw_null = false;
    for (const expr *x = e->a; x; x = x->next) {
        size_t cur = s->len;
        cvalue v;
        if ((rc = eval(x, c, &v, err))) return rc;
        if (v.kind == CV_NULL) {
            saw_null = true;
            continue;
        }
        if (is_text(&v) && v.len > 0 && in_scratch_from(s, v.s, cur))
            continue; /* already in place */
        char tmp[TEXT_TMP];
        const char *p;
        size_t n;
        if ((rc = value_text(x, &v, tmp, &p, &n, err)) || (rc = scratch_append(e, c, p, n, err)))
            return rc;
    }
    if (saw_null) {
        *out = cv_null();
        return 0;
    }
    *out = text_value(CV_STRING, (const char *)s->data + start, s->len - start);
    return 0;
}

static int cast_to_int(const expr *e, const cvalue *v, const char *type, int64_t *out,
                       sluice_error *err)
{
    char shown[SHOWN_MAX * 4 + 16];
    switch (v->kind) {
    case CV_BOOL:
    case CV_INT:
        *out = v->i;
        return 0;
    case CV_DOUBLE: {
        char num[TEXT_TMP];
        if (isfinite(v->d) && v->d >= -9223372036854775808.0 && v->d < 9223372036854775808.0) {
            *out = (int64_t)v->d; /* truncates toward zero */
            return 0;
        }
        format_double(v->d, num, sizeof num);
        return fail_at(err, SLUICE_ERANGE, e->offset, "cannot cast %s to %s: out of range", num,
                       type);
    }
    case CV_DECIMAL: {
        char text[TEXT_TMP];
        size_t n;
        int rc = decimal_text(e, v, text, &n, err);
        if (rc) return rc;
        char *dot = strchr(text, '.');
        bool range;
        if (parse_int_strict(text, dot ? (size_t)(dot - text) : n, out, &range) != 0)
            return fail_at(err, SLUICE_ERANGE, e->offset, "cannot cast %s to %s: out of range",
                           text, type);
        return 0;
    }
    case CV_STRING:
    case CV_ENUM: {
        bool range;
        if (parse_int_strict(v->s, v->len, out, &range) == 0) return 0;
        if (range)
            return fail_at(err, SLUICE_ERANGE, e->offset, "cannot cast %s to %s: out of range",
                           expr_show(shown, sizeof shown, v->s, v->len), type);
        return fail_at(err, SLUICE_EINVAL, e->offset, "cannot cast %s to %s: not an integer",
                       expr_show(shown, sizeof shown, v->s, v->len), type);
    }
    default:
        return fail_at(err, SLUICE_EINVAL, e->offset, "cannot cast %s to %s", kind_name(v), type);
    }
}

static int cast_to_double(const expr *e, const cvalue *v, double *out, sluice_error *err)
{
    char shown[SHOWN_MAX * 4 + 16];
    switch (v->kind) {
    case CV_BOOL:
    case CV_INT:
        *out = (double)v->i;
        return 0;
    case CV_DOUBLE:
        *out = v->d;
        return 0;
    case CV_DECIMAL:
        return decimal_to_double(e, v, out, err);
    case CV_STRING:
    case CV_ENUM: {
        bool range;
        if (parse_float_strict(v->s, v->len, out, &range) == 0) return 0;
        return fail_at(
            err, range ? SLUICE_ERANGE : SLUICE_EINVAL, e->offset, "cannot cast %s to Float64: %s",
            expr_show(shown, sizeof shown, v->s, v->len), range ? "out of range" : "not a number");
    }
    default:
        return fail_at(err, SLUICE_EINVAL, e->offset, "cannot cast %s to Float64", kind_name(v));
    }
}

static int cast_to_bool(const expr *e, const cvalue *v, int *out, sluice_error *err)
{
    char shown[SHOWN_MAX * 4 + 16];
    double d = 2;
    switch (v->kind) {
    case CV_BOOL:
        *out = (int)v->i;
        return 0;
    case CV_INT:
        if (v->unit != CV_UNIT_NONE) break;
        if (v->i == 0 || v->i == 1) {
            *out = (int)v->i;
            return 0;
        }
        return fail_at(err, SLUICE_ERANGE, e->offset,
                       "cannot cast %" PRId64 " to Bool: only 0 and 1", v->i);
    case CV_DOUBLE:
    case CV_DECIMAL: {
        int rc = as_double(e, v, &d, err);
        if (rc) return rc;
        if (d == 0 || d == 1) {
            *out = d == 1;
            return 0;
        }
        char num[TEXT_TMP];
        format_double(d, num, sizeof num);
        return fail_at(err, SLUICE_ERANGE, e->offset, "cannot cast %s to Bool: only 0 and 1", num);
    }
    case CV_STRING:
    case CV_ENUM:
        if (ascii_ieq(v->s, v->len, "true") || ascii_ieq(v->s, v->len, "1")) {
            *out = 1;
            return 0;
        }
        if (ascii_ieq(v->s, v->len, "false") || ascii_ieq(v->s, v->len, "0")) {
            *out = 0;
            return 0;
        }
        return fail_at(err, SLUICE_EINVAL, e->offset,
                       "cannot cast %s to Bool: only 'true', 'false', '1' and '0'",
                       expr_show(shown, sizeof shown, v->s, v->len));
    default:
        break;
    }
    return fail_at(err, SLUICE_EINVAL, e->offset, "cannot cast %s to Bool", kind_name(v));
}

static int eval_cast(const expr *e, const expr_ctx *c, cvalue *out, sluice_error *err)
{
    size_t mark = c->scratch ? c->scratch->len : 0;
    cvalue v;
    int rc = eval(e->a, c, &v, err);
    if (rc) return rc;
    if (v.kind == CV_NULL) {
        *out = v;
        return 0;
    }
    switch ((cast_type)e->sub) {
    case CAST_INT64:
    case CAST_INT32:
    case CAST_UINT64: {
        const char *type = e->sub == CAST_INT64   ? "Int64"
                           : e->sub == CAST_INT32 ? "Int32"
                                                  : "UInt64";
        int64_t i = 0;
        if ((rc = cast_to_int(e, &v, type, &i, err))) return rc;
        if (e->sub == CAST_INT32 && (i < INT32_MIN || i > INT32_MAX))
            return fail_at(err, SLUICE_ERANGE, e->offset,
                           "cannot cast %" PRId64 " to Int32: out of range (-2147483648 to "
                           "2147483647)",
                           i);
        /* A cvalue holds int64, so UInt64 results stop at INT64_MAX. */
        if (e->sub == CAST_UINT64 && i < 0)
            return fail_at(err, SLUICE_ERANGE, e->offset,
                           "cannot cast %" PRId64 " to UInt64: out of range (0 to "
                           "9223372036854775807 in expressions)",
                           i);
        *out = cv_int(i, CV_UNIT_NONE);
        return 0;
    }
    case CAST_FLOAT64: {
        double d = 0;
        if ((rc = cast_to_double(e, &v, &d, err))) return rc;
        *out = cv_double(d);
        return 0;
    }
    case CAST_BOOL: {
        int b = 0;
        if ((rc = cast_to_bool(e, &v, &b, err))) return rc;
        *out = cv_bool(b);
        return 0;
    }
    case CAST_STRING: {
        if (is_text(&v)) {
            *out = text_value(CV_STRING, v.s, v.len);
            return 0;
        }
        char tmp[TEXT_TMP];
        const char *p;
        size_t n;
        if ((rc = value_text(e, &v, tmp, &p, &n, err)) || (rc = need_scratch(e, c, err)) ||
            (rc = scratch_append(e, c, p, n, err)))
            return rc;
        *out = text_value(CV_STRING, (const char *)c->scratch->data + mark, n);
        return 0;
    }
    }
    return fail_at(err, SLUICE_EINTERNAL, e->offset, "unknown cast");
}

static int eval_node(const expr *e, const expr_ctx *c, cvalue *out, sluice_error *err)
{
    cvalue v;
    int rc;
    switch (e->op) {
    case OP_LITERAL:
        *out = e->lit;
        return 0;
    case OP_FIELD:
    case OP_INDEX:
        *out = c->slots[e->slot];
        return 0;
    case OP_NOW:
        *out = cv_int(c->now_s, CV_UNIT_TS_S);
        return 0;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD: {
        cvalue r;
        if ((rc = eval(e->a, c, &v, err))) return rc;
        size_t held = hold(c, &v); /* only a message would read it, but keep it valid */
        if ((rc = eval(e->b, c, &r, err))) return rc;
        restore(c, &v, held);
        if (v.kind == CV_NULL || r.kind == CV_NULL) {
            *out = cv_null();
            return 0;
        }
        return arith(e, &v, &r, out, err);
    }
    case OP_NEG:
    case OP_ABS:
        if ((rc = eval(e->a, c, &v, err))) return rc;
        if (v.kind == CV_NULL) {
            *out = v;
            return 0;
        }
        return e->op == OP_NEG ? eval_neg(e, &v, out, err) : eval_abs(e, &v, out, err);
    case OP_CMP:
        return eval_cmp(e, c, out, err);
    case OP_AND:
    case OP_OR:
        return eval_logic(e, c, out, err);
    case OP_NOT:
        if ((rc = eval(e->a, c, &v, err))) return rc;
        if (v.kind == CV_NULL || v.kind == CV_BOOL) {
            *out = v.kind == CV_NULL ? v : cv_bool(!v.i);
            return 0;
        }
        return fail_at(err, SLUICE_EINVAL, e->offset, "NOT needs true, false or NULL, got %s",
                       kind_name(&v));
    case OP_IS_NULL:
    case OP_IS_NOT_NULL:
        if ((rc = eval(e->a, c, &v, err))) return rc;
        *out = cv_bool((v.kind == CV_NULL) == (e->op == OP_IS_NULL));
        return 0;
    case OP_IN:
    case OP_NOT_IN:
        return eval_in(e, c, out, err);
    case OP_COALESCE:
        for (const expr *x = e->a; x; x = x->next) {
            if ((rc = eval(x, c, out, err))) return rc;
            if (out->kind != CV_NULL) return 0;
        }
        return 0;
    case OP_UPPER:
    case OP_LOWER:
        return eval_case(e, c, out, err);
    case OP_CONCAT:
        return eval_concat(e, c, out, err);
    case OP_LENGTH:
        if ((rc = eval(e->a, c, &v, err))) return rc;
        if (v.kind == CV_NULL) {
            *out = v;
            return 0;
        }
        if (!is_text(&v))
            return fail_at(err, SLUICE_EINVAL, e->offset,
                           "length() needs a String or Bytes, got %s", kind_name(&v));
        *out = cv_int((int64_t)v.len, CV_UNIT_NONE);
        return 0;
    case OP_IF:
        if ((rc = eval(e->a, c, &v, err))) return rc;
        if (v.kind != CV_NULL && v.kind != CV_BOOL)
            return fail_at(err, SLUICE_EINVAL, e->offset,
                           "if() needs true, false or NULL as its condition, got %s",
                           kind_name(&v));
        return eval(v.kind == CV_BOOL && v.i ? e->a->next : e->a->next->next, c, out, err);
    case OP_CAST:
        return eval_cast(e, c, out, err);
    }
    return fail_at(err, SLUICE_EINTERNAL, e->offset, "unknown expression node");
}

static int eval_settled(const expr *e, const expr_ctx *c, cvalue *out, sluice_error *err)
{
    buf *s = c->scratch;
    size_t mark = s ? s->len : 0;
    int rc = eval_node(e, c, out, err);
    if (s) settle(s, mark, out, rc);
    return rc;
}

int expr_eval(const expr *e, const expr_ctx *ctx, cvalue *out, sluice_error *err)
{
    if (!e || !ctx || !out)
        return sluice_error_set(err, SLUICE_EINVAL,
                                "expr_eval: expression, context and out are required");
    return eval(e, ctx, out, err);
}

int expr_eval_bool(const expr *e, const expr_ctx *ctx, int *keep, sluice_error *err)
{
    cvalue v;
    int rc = expr_eval(e, ctx, &v, err);
    if (rc) return rc;
    if (v.kind == CV_NULL || v.kind == CV_BOOL) {
        *keep = v.kind == CV_BOOL && v.i;
        return 0;
    }
    return sluice_error_set(err, SLUICE_EINVAL, "the expression gives %s, not true, false or NULL",
                            kind_name(&v));
}
