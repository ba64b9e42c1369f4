/*
 * ch_encode.c — one value (a cvalue or a JSON value) into the RowBinary
 * bytes of a ClickHouse column type; the layout is in ch_type.h.
 *
 * This is the sink's per-field hot path, called by writer threads on their
 * own batch buffer: nothing here allocates (apart from `out` growing),
 * locks or reads global state. Numbers are converted exactly or refused:
 * an integer that does not fit, a float with a fraction going into an
 * integer, a decimal with more fractional digits than the column's scale
 * (unless they are zeros) are errors naming the value and the type, never a
 * wrap or a silent rounding. Decimal arithmetic is done in __int128 (gcc and
 * clang have it), which holds every Decimal128 value.
 *
 * Text → number uses strtod/strtof after a strict syntax check of its own,
 * so the only locale dependence is the decimal point: sluice never calls
 * setlocale, so it is the C locale's '.'.
 *
 * Time zones: a naive ISO-8601 string ("2026-11-22 20:12:01") is taken as
 * UTC whatever the column's time zone, and the process TZ is never read; an
 * explicit offset ("+02:00", "Z") is honoured. A DateTime('Europe/Berlin')
 * column stores UTC seconds anyway, so only naive strings are affected.
 */
#include "codec/ch_type.h"
#include "codec/iso8601.h"
#include "codec/json_lex.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/* ---- output helpers ---------------------------------------------------- */

static int put_le(buf *out, uint64_t v, int width)
{
    uint8_t b[8];
    for (int i = 0; i < width; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return buf_append(out, b, (size_t)width);
}

static int put_leb128(buf *out, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        b[n++] = v ? (uint8_t)(c | 0x80) : c;
    } while (v);
    return buf_append(out, b, n);
}

static int put_string(buf *out, const void *s, size_t len)
{
    int rc = put_leb128(out, len);
    return rc ? rc : buf_append(out, s, len);
}

static int oom(sluice_error *err, const ch_type *t)
{
    return sluice_error_set(err, SLUICE_ENOMEM, "output buffer full writing %s", t->text);
}

/* ---- decimal text ------------------------------------------------------ */

/* 10^0 .. 10^38: every power a Decimal128 scale or precision can need. */
static const i128 pow10_i128[39] = {
    (i128)1LL,
    (i128)10LL,
    (i128)100LL,
    (i128)1000LL,
    (i128)10000LL,
    (i128)100000LL,
    (i128)1000000LL,
    (i128)10000000LL,
    (i128)100000000LL,
    (i128)1000000000LL,
    (i128)10000000000LL,
    (i128)100000000000LL,
    (i128)1000000000000LL,
    (i128)10000000000000LL,
    (i128)100000000000000LL,
    (i128)1000000000000000LL,
    (i128)10000000000000000LL,
    (i128)100000000000000000LL,
    (i128)1000000000000000000LL,
    (i128)1000000000000000000LL * 10,
    (i128)1000000000000000000LL * 100,
    (i128)1000000000000000000LL * 1000,
    (i128)1000000000000000000LL * 10000,
    (i128)1000000000000000000LL * 100000,
    (i128)1000000000000000000LL * 1000000,
    (i128)1000000000000000000LL * 10000000,
    (i128)1000000000000000000LL * 100000000,
    (i128)1000000000000000000LL * 1000000000,
    (i128)1000000000000000000LL * 10000000000LL,
    (i128)1000000000000000000LL * 100000000000LL,
    (i128)1000000000000000000LL * 1000000000000LL,
    (i128)1000000000000000000LL * 10000000000000LL,
    (i128)1000000000000000000LL * 100000000000000LL,
    (i128)1000000000000000000LL * 1000000000000000LL,
    (i128)1000000000000000000LL * 10000000000000000LL,
    (i128)1000000000000000000LL * 100000000000000000LL,
    (i128)1000000000000000000LL * 1000000000000000000LL,
    (i128)1000000000000000000LL * 1000000000000000000LL * 10,
    (i128)1000000000000000000LL * 1000000000000000000LL * 100,
};

/* v / 10^scale as decimal text ("-12.340"); dst needs 44 + scale bytes. */
static size_t format_decimal(i128 v, int scale, char *dst)
{
    char digits[80]; /* 39 digits, or scale + 1 (callers keep scale <= 60) */
    size_t nd = 0;
    u128 u = v < 0 ? (u128)0 - (u128)v : (u128)v;
    do {
        digits[nd++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (nd <= (size_t)scale) /* at least one digit before the point */
        digits[nd++] = '0';
    size_t n = 0;
    if (v < 0) dst[n++] = '-';
    while (nd > 0) {
        if (nd == (size_t)scale) dst[n++] = '.';
        dst[n++] = digits[--nd];
    }
    dst[n] = '\0';
    return n;
}

/* Shortest text that reads back as the same double (or float, for a value
 * that came from an Avro float): the first precision that round-trips.
 * NaN and infinities as ClickHouse spells them. dst needs 32 bytes. */
static size_t format_double(double d, int is_float32, char *dst)
{
    if (isnan(d)) return (size_t)sprintf(dst, "nan");
    if (isinf(d)) return (size_t)sprintf(dst, d < 0 ? "-inf" : "inf");
    if (is_float32 && fabs(d) <= FLT_MAX) {
        float f = (float)d;
        for (int prec = 1; prec <= 9; prec++) {
            int n = snprintf(dst, 32, "%.*g", prec, (double)f);
            if (strtof(dst, NULL) == f) return (size_t)n;
        }
    }
    /* Most doubles that came from decimal text need at most 15 digits;
     * random bit patterns need 16 or 17. Testing 15 first saves most of
     * the scan for the latter. */
    int n = snprintf(dst, 32, "%.15g", d);
    if (strtod(dst, NULL) != d) {
        n = snprintf(dst, 32, "%.16g", d);
        if (strtod(dst, NULL) != d) n = snprintf(dst, 32, "%.17g", d);
        return (size_t)n;
    }
    for (int prec = 1; prec < 15; prec++) {
        n = snprintf(dst, 32, "%.*g", prec, d);
        if (strtod(dst, NULL) == d) return (size_t)n;
    }
    return (size_t)snprintf(dst, 32, "%.15g", d);
}

/* ---- describing values in messages ------------------------------------ */

/* A quoted, printable preview of text for messages ('abc', with \xNN for
 * anything else, cut at 60 bytes). */
static void preview(const char *s, size_t len, char *dst, size_t cap)
{
    size_t n = 0;
    dst[n++] = '\'';
    for (size_t i = 0; i < len && n + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 60) {
            n += (size_t)snprintf(dst + n, cap - n, "...");
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\')
            dst[n++] = (char)c;
        else
            n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", c);
    }
    dst[n++] = '\'';
    dst[n] = '\0';
}

static int cv_decimal_to_i128(const cvalue *v, i128 *out);

/* The value as a message names it: 300, 1.5, string 'abc', ... */
static const char *describe(const cvalue *v, char *dst, size_t cap)
{
    char tmp[120];
    switch (v->kind) {
    case CV_NULL:
        snprintf(dst, cap, "NULL");
        break;
    case CV_BOOL:
        snprintf(dst, cap, "%s", v->i ? "true" : "false");
        break;
    case CV_INT:
        snprintf(dst, cap, "%lld", (long long)v->i);
        break;
    case CV_DOUBLE:
        format_double(v->d, v->is_float32, tmp);
        snprintf(dst, cap, "%s", tmp);
        break;
    case CV_STRING:
        preview(v->s, v->len, tmp, sizeof tmp);
        snprintf(dst, cap, "string %s", tmp);
        break;
    case CV_BYTES:
        snprintf(dst, cap, "%zu bytes", v->len);
        break;
    case CV_ENUM:
        preview(v->s, v->len, tmp, sizeof tmp);
        snprintf(dst, cap, "enum symbol %s", tmp);
        break;
    case CV_DECIMAL: {
        i128 d;
        if (v->scale >= 0 && v->scale <= 60 && cv_decimal_to_i128(v, &d) == 0) {
            format_decimal(d, v->scale, tmp);
            snprintf(dst, cap, "decimal %s", tmp);
        } else {
            snprintf(dst, cap, "decimal of %zu bytes, scale %d", v->len, v->scale);
        }
        break;
    }
    default:
        snprintf(dst, cap, "value of kind %d", (int)v->kind);
        break;
    }
    return dst;
}

static int fail_range(sluice_error *err, const ch_type *t, const cvalue *v)
{
    char d[160];
    return sluice_error_set(err, SLUICE_ERANGE, "%s does not fit in %s", describe(v, d, sizeof d),
                            t->text);
}

static const char *kind_name(cv_kind k)
{
    switch (k) {
    case CV_NULL:
        return "NULL";
    case CV_BOOL:
        return "a boolean";
    case CV_INT:
        return "an integer";
    case CV_DOUBLE:
        return "a floating-point number";
    case CV_STRING:
        return "a string";
    case CV_BYTES:
        return "bytes";
    case CV_ENUM:
        return "an enum symbol";
    case CV_DECIMAL:
        return "a decimal";
    }
    return "a value of unknown kind";
}

static int fail_kind(sluice_error *err, const ch_type *t, const cvalue *v)
{
    if (v->kind == CV_NULL)
        return sluice_error_set(err, SLUICE_EINVAL, "NULL cannot be written to non-Nullable %s",
                                t->text);
    return sluice_error_set(err, SLUICE_EINVAL, "%s cannot be written to %s", kind_name(v->kind),
                            t->text);
}

static int fail_not_number(sluice_error *err, const ch_type *t, const cvalue *v, const char *what)
{
    char p[120];
    preview(v->s, v->len, p, sizeof p);
    return sluice_error_set(err, SLUICE_EINVAL, "string %s is not %s for %s", p, what, t->text);
}

/* ---- numbers ----------------------------------------------------------- */

/* Avro decimal bytes: big-endian two's complement. More than 16 bytes is
 * fine when the extra leading bytes only extend the sign. */
static int cv_decimal_to_i128(const cvalue *v, i128 *out)
{
    const uint8_t *b = (const uint8_t *)v->s;
    size_t len = v->len;
    if (len == 0) {
        *out = 0;
        return 0;
    }
    if (len > 16) {
        uint8_t ext = (b[len - 16] & 0x80) ? 0xff : 0x00;
        for (size_t i = 0; i < len - 16; i++)
            if (b[i] != ext) return -1;
        b += len - 16;
        len = 16;
    }
    u128 u = (b[0] & 0x80) ? ~(u128)0 : 0;
    for (size_t i = 0; i < len; i++)
        u = (u << 8) | b[i];
    *out = (i128)u;
    return 0;
}

enum { RESCALE_OK = 0, RESCALE_FRACTION = 1, RESCALE_OVERFLOW = 2 };

/* v / 10^from as an unscaled value of scale `to` and at most `precision`
 * digits; exact or an error. */
static int decimal_rescale(i128 v, int from, int to, int precision, i128 *out)
{
    if (from > to) {
        int k = from - to;
        if (k > 38) return v == 0 ? (*out = 0, RESCALE_OK) : RESCALE_FRACTION;
        if (v % pow10_i128[k] != 0) return RESCALE_FRACTION;
        v /= pow10_i128[k];
    } else if (to > from) {
        int k = to - from;
        if (v != 0) {
            if (k > precision) return RESCALE_OVERFLOW;
            i128 lim = pow10_i128[precision - k];
            if (v >= lim || v <= -lim) return RESCALE_OVERFLOW;
        }
        if (v != 0) v *= pow10_i128[k];
    }
    if (v >= pow10_i128[precision] || v <= -pow10_i128[precision]) return RESCALE_OVERFLOW;
    *out = v;
    return RESCALE_OK;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Decimal text ("-12.5", "1e3", "0.000") as an unscaled value of `scale`
 * and at most `precision` (<= 38) digits. Returns -1 if it is not a
 * number, else a RESCALE_* code. */
static int parse_decimal_text(const char *s, size_t len, int scale, int precision, i128 *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    size_t int_start = i;
    while (i < len && is_digit(s[i]))
        i++;
    size_t int_end = i, frac_start = i, frac_end = i;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        frac_end = i;
    }
    if (int_end == int_start && frac_end == frac_start) return -1;
    long long exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        if (i >= len || !is_digit(s[i])) return -1;
        while (i < len && is_digit(s[i])) {
            if (exp < 1000000) exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (eneg) exp = -exp;
    }
    if (i != len) return -1;
    /* Digits D (integer then fraction part); value = D * 10^k at scale. */
    size_t n_int = int_end - int_start, n_frac = frac_end - frac_start, n = n_int + n_frac;
    long long k = exp - (long long)n_frac + scale;
#define DIGIT(j) ((j) < n_int ? s[int_start + (j)] : s[frac_start + (j)-n_int])
    size_t keep = n;
    if (k < 0) {
        size_t drop = (unsigned long long)-k > n ? n : (size_t)-k;
        for (size_t j = n - drop; j < n; j++)
            if (DIGIT(j) != '0') return RESCALE_FRACTION;
        keep = n - drop;
        k = 0;
    }
    i128 v = 0;
    for (size_t j = 0; j < keep; j++) {
        if (v >= pow10_i128[37]) return RESCALE_OVERFLOW;
        v = v * 10 + (DIGIT(j) - '0');
    }
#undef DIGIT
    if (v != 0 && k > 0) {
        if (k > precision) return RESCALE_OVERFLOW;
        if (v >= pow10_i128[precision - k]) return RESCALE_OVERFLOW;
        v *= pow10_i128[k];
    }
    if (v >= pow10_i128[precision]) return RESCALE_OVERFLOW;
    *out = neg ? -v : v;
    return RESCALE_OK;
}

/* Strict number syntax for strtod: sign, digits, fraction, exponent, or
 * nan/inf/infinity (any case). No spaces, no hex, nothing after. Returns
 * -1 for bad syntax, 1 when finite text overflows the type, else 0. */
static int parse_double_text(const char *s, size_t len, double *out, int as_float)
{
    char tmp[512];
    if (len == 0 || len >= sizeof tmp) return -1;
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    const char *word = s + i;
    size_t wl = len - i;
    int is_word = 0;
    if ((wl == 3 && strncasecmp(word, "nan", 3) == 0) ||
        (wl == 3 && strncasecmp(word, "inf", 3) == 0) ||
        (wl == 8 && strncasecmp(word, "infinity", 8) == 0)) {
        is_word = 1; /* strtod reads these */
    } else {
        size_t digits = 0;
        while (i < len && is_digit(s[i]))
            i++, digits++;
        if (i < len && s[i] == '.') {
            i++;
            while (i < len && is_digit(s[i]))
                i++, digits++;
        }
        if (!digits) return -1;
        if (i < len && (s[i] == 'e' || s[i] == 'E')) {
            i++;
            if (i < len && (s[i] == '-' || s[i] == '+')) i++;
            if (i >= len || !is_digit(s[i])) return -1;
            while (i < len && is_digit(s[i]))
                i++;
        }
        if (i != len) return -1;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    *out = as_float ? (double)strtof(tmp, NULL) : strtod(tmp, NULL);
    return !is_word && isinf(*out) ? 1 : 0;
}

/* Strict integer syntax: optional sign, digits. *out saturates beyond
 * +-10^30 (still out of every column's range). */
static int parse_int_text(const char *s, size_t len, i128 *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    if (i >= len) return -1;
    i128 v = 0;
    for (; i < len; i++) {
        if (!is_digit(s[i])) return -1;
        if (v < pow10_i128[30]) v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static int int_range(ch_kind k, i128 *lo, i128 *hi, int *width)
{
    switch (k) {
    case CH_INT8:
        *lo = INT8_MIN, *hi = INT8_MAX, *width = 1;
        return 1;
    case CH_INT16:
        *lo = INT16_MIN, *hi = INT16_MAX, *width = 2;
        return 1;
    case CH_INT32:
        *lo = INT32_MIN, *hi = INT32_MAX, *width = 4;
        return 1;
    case CH_INT64:
        *lo = INT64_MIN, *hi = INT64_MAX, *width = 8;
        return 1;
    case CH_UINT8:
        *lo = 0, *hi = UINT8_MAX, *width = 1;
        return 1;
    case CH_UINT16:
        *lo = 0, *hi = UINT16_MAX, *width = 2;
        return 1;
    case CH_UINT32:
        *lo = 0, *hi = UINT32_MAX, *width = 4;
        return 1;
    case CH_UINT64:
        *lo = 0, *hi = UINT64_MAX, *width = 8;
        return 1;
    default:
        return 0;
    }
}

static int encode_integer(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    i128 lo = 0, hi = 0, x;
    int width = 0;
    if (!int_range(t->kind, &lo, &hi, &width))
        return sluice_error_set(err, SLUICE_EINTERNAL, "%s is not an integer type", t->text);
    switch (v->kind) {
    case CV_INT:
    case CV_BOOL:
        x = v->i;
        break;
    case CV_DOUBLE: {
        char d[160];
        if (!isfinite(v->d) || v->d != trunc(v->d)) {
            if (isfinite(v->d))
                return sluice_error_set(err, SLUICE_ERANGE, "%s is not an integer for %s",
                                        describe(v, d, sizeof d), t->text);
            return fail_range(err, t, v);
        }
        /* |d| < 2^64 before the conversion, which is undefined past it. */
        if (fabs(v->d) >= 18446744073709551616.0) return fail_range(err, t, v);
        x = v->d < 0 ? -(i128)(uint64_t)(-v->d) : (i128)(uint64_t)v->d;
        break;
    }
    case CV_STRING:
        if (parse_int_text(v->s, v->len, &x)) return fail_not_number(err, t, v, "a number");
        break;
    case CV_DECIMAL: {
        i128 d;
        if (v->scale < 0 || cv_decimal_to_i128(v, &d) != 0) return fail_range(err, t, v);
        int why = decimal_rescale(d, v->scale, 0, 38, &x);
        if (why == RESCALE_FRACTION) {
            char s[160];
            return sluice_error_set(err, SLUICE_ERANGE, "%s is not an integer for %s",
                                    describe(v, s, sizeof s), t->text);
        }
        if (why != RESCALE_OK) return fail_range(err, t, v);
        break;
    }
    default:
        return fail_kind(err, t, v);
    }
    if (x < lo || x > hi) return fail_range(err, t, v);
    return put_le(out, (uint64_t)(u128)x, width) ? oom(err, t) : 0;
}

static int encode_float(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    int is32 = t->kind == CH_FLOAT32;
    double d;
    switch (v->kind) {
    case CV_INT:
    case CV_BOOL:
        d = (double)v->i;
        break;
    case CV_DOUBLE:
        d = v->d;
        break;
    case CV_STRING: {
        int rc = parse_double_text(v->s, v->len, &d, is32);
        if (rc < 0) return fail_not_number(err, t, v, "a number");
        if (rc > 0) return fail_range(err, t, v);
        break;
    }
    case CV_DECIMAL: {
        /* Through text, so strtod rounds the exact value once. */
        i128 x;
        char text[120];
        if (v->scale < 0 || v->scale > 60 || cv_decimal_to_i128(v, &x) != 0)
            return fail_range(err, t, v);
        format_decimal(x, v->scale, text);
        d = is32 ? (double)strtof(text, NULL) : strtod(text, NULL);
        break;
    }
    default:
        return fail_kind(err, t, v);
    }
    if (!is32) {
        uint64_t bits;
        memcpy(&bits, &d, 8);
        return put_le(out, bits, 8) ? oom(err, t) : 0;
    }
    /* Values between FLT_MAX and the midpoint to the next power of two round
     * to FLT_MAX; beyond that a finite double has no float. */
    if (isfinite(d) && fabs(d) >= 0x1.ffffffp127) return fail_range(err, t, v);
    float f = v->kind == CV_INT ? (float)v->i : (float)d;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    return put_le(out, bits, 4) ? oom(err, t) : 0;
}

static int encode_bool(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    int b;
    switch (v->kind) {
    case CV_BOOL:
        b = v->i != 0;
        break;
    case CV_INT:
        if (v->i != 0 && v->i != 1) return fail_range(err, t, v);
        b = (int)v->i;
        break;
    case CV_DOUBLE:
        if (v->d != 0.0 && v->d != 1.0) return fail_range(err, t, v);
        b = v->d == 1.0;
        break;
    case CV_STRING:
        if ((v->len == 4 && strncasecmp(v->s, "true", 4) == 0) || (v->len == 1 && v->s[0] == '1'))
            b = 1;
        else if ((v->len == 5 && strncasecmp(v->s, "false", 5) == 0) ||
                 (v->len == 1 && v->s[0] == '0'))
            b = 0;
        else
            return fail_not_number(err, t, v, "true, false, 1 or 0");
        break;
    default:
        return fail_kind(err, t, v);
    }
    return buf_append_byte(out, (uint8_t)b) ? oom(err, t) : 0;
}

static int fail_rescale(sluice_error *err, const ch_type *t, const cvalue *v, int why)
{
    char d[160];
    describe(v, d, sizeof d);
    if (why == RESCALE_FRACTION)
        return sluice_error_set(err, SLUICE_ERANGE,
                                "%s has more than %d fractional digits for %s (no rounding)", d,
                                t->scale, t->text);
    return sluice_error_set(err, SLUICE_ERANGE, "%s does not fit in %s", d, t->text);
}

static int encode_decimal(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    i128 x;
    int why;
    switch (v->kind) {
    case CV_INT:
    case CV_BOOL:
        why = decimal_rescale(v->i, 0, t->scale, t->precision, &x);
        break;
    case CV_DOUBLE: {
        if (!isfinite(v->d)) return fail_range(err, t, v);
        char text[32];
        size_t n = format_double(v->d, v->is_float32, text);
        why = parse_decimal_text(text, n, t->scale, t->precision, &x);
        break;
    }
    case CV_STRING:
        why = parse_decimal_text(v->s, v->len, t->scale, t->precision, &x);
        if (why < 0) return fail_not_number(err, t, v, "a decimal number");
        break;
    case CV_DECIMAL: {
        i128 d;
        if (v->scale < 0 || cv_decimal_to_i128(v, &d) != 0) return fail_range(err, t, v);
        why = decimal_rescale(d, v->scale, t->scale, t->precision, &x);
        break;
    }
    default:
        return fail_kind(err, t, v);
    }
    if (why != RESCALE_OK) return fail_rescale(err, t, v, why);
    int rc;
    if (t->kind == CH_DECIMAL32)
        rc = put_le(out, (uint64_t)(u128)x, 4);
    else if (t->kind == CH_DECIMAL64)
        rc = put_le(out, (uint64_t)(u128)x, 8);
    else if (!(rc = put_le(out, (uint64_t)(u128)x, 8)))
        rc = put_le(out, (uint64_t)((u128)x >> 64), 8);
    return rc ? oom(err, t) : 0;
}

/* ---- strings ----------------------------------------------------------- */

static int encode_string(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    char text[128];
    size_t n;
    switch (v->kind) {
    case CV_STRING:
    case CV_BYTES:
    case CV_ENUM:
        return put_string(out, v->s, v->len) ? oom(err, t) : 0;
    case CV_BOOL:
        n = (size_t)sprintf(text, "%s", v->i ? "true" : "false");
        break;
    case CV_INT:
        n = (size_t)sprintf(text, "%lld", (long long)v->i);
        break;
    case CV_DOUBLE:
        n = format_double(v->d, v->is_float32, text);
        break;
    case CV_DECIMAL: {
        i128 x;
        if (v->scale < 0 || v->scale > 60 || cv_decimal_to_i128(v, &x) != 0)
            return fail_range(err, t, v);
        n = format_decimal(x, v->scale, text);
        break;
    }
    default:
        return fail_kind(err, t, v);
    }
    return put_string(out, text, n) ? oom(err, t) : 0;
}

static int encode_fixed_string(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    if (v->kind != CV_STRING && v->kind != CV_BYTES) return fail_kind(err, t, v);
    if (v->len > t->fixed_len) {
        char d[160];
        return sluice_error_set(err, SLUICE_ERANGE, "%s (%zu bytes) does not fit in %s",
                                describe(v, d, sizeof d), v->len, t->text);
    }
    if (buf_reserve(out, t->fixed_len)) return oom(err, t);
    memcpy(out->data + out->len, v->s, v->len);
    memset(out->data + out->len + v->len, 0, t->fixed_len - v->len);
    out->len += t->fixed_len;
    return 0;
}

static int encode_uuid(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    uint8_t be[16]; /* RFC 4122 order: as the text reads */
    if (v->kind == CV_BYTES) {
        if (v->len != 16)
            return sluice_error_set(err, SLUICE_EINVAL, "%zu bytes are not a UUID (16 bytes)",
                                    v->len);
        memcpy(be, v->s, 16);
    } else if (v->kind == CV_STRING) {
        /* Table-driven: this runs once per row for uuid columns. */
        static const int8_t hex[256] = {
            ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
            ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
            ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
            ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16}; /* value + 1; 0 = not hex */
        static const uint8_t digit_at[32] = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11,
                                             12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25,
                                             26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
        const unsigned char *q = (const unsigned char *)v->s;
        int ok = v->len == 36 && q[8] == '-' && q[13] == '-' && q[18] == '-' && q[23] == '-';
        for (int i = 0; ok && i < 16; i++) {
            int hi = hex[q[digit_at[2 * i]]], lo = hex[q[digit_at[2 * i + 1]]];
            ok = hi && lo;
            if (ok) be[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
        }
        if (!ok) return fail_not_number(err, t, v, "a UUID (8-4-4-4-12 hex digits)");
    } else {
        return fail_kind(err, t, v);
    }
    /* ClickHouse keeps a UUID as two UInt64 halves and writes each little
     * endian, the half spelled first in the text first. So each 8-byte half
     * of the RFC 4122 bytes is reversed in place. An 18.16 server answers
     * 61f0c404-5cb3-11e7-907b-a6006ad3dba0 in RowBinary as
     * e7 11 b3 5c 04 c4 f0 61 a0 db d3 6a 00 a6 7b 90 (test_ch_rowbinary.c
     * checks it both ways). */
    uint8_t le[16];
    for (int i = 0; i < 8; i++) {
        le[i] = be[7 - i];
        le[8 + i] = be[15 - i];
    }
    return buf_append(out, le, 16) ? oom(err, t) : 0;
}

static int name_matches(const char *name, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (name[i] == '\0' || name[i] != s[i]) return 0;
    return name[len] == '\0';
}

static int encode_enum(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    size_t i;
    if (v->kind == CV_ENUM || v->kind == CV_STRING) {
        for (i = 0; i < t->n_enum; i++)
            if (name_matches(t->enum_names[i], v->s, v->len)) break;
    } else if (v->kind == CV_INT) {
        for (i = 0; i < t->n_enum; i++)
            if (t->enum_values[i] == v->i) break;
    } else {
        return fail_kind(err, t, v);
    }
    if (i == t->n_enum) {
        char p[120];
        if (v->kind == CV_INT)
            snprintf(p, sizeof p, "%lld", (long long)v->i);
        else
            preview(v->s, v->len, p, sizeof p);
        return sluice_error_set(err, SLUICE_ERANGE, "%s is not a value of %s", p, t->text);
    }
    return put_le(out, (uint64_t)(int64_t)t->enum_values[i], t->kind == CH_ENUM8 ? 1 : 2)
               ? oom(err, t)
               : 0;
}

/* ---- dates and times --------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t pow10_i64(int k)
{
    int64_t p = 1;
    while (k-- > 0)
        p *= 10;
    return p;
}

/* An integer of unit `from_digits` (0 = seconds, 3 = ms, 6 = us) as ticks
 * of 10^-to_digits seconds, floored; -1 on overflow. */
static int rescale_time(int64_t v, int from_digits, int to_digits, int64_t *out)
{
    if (to_digits >= from_digits)
        return __builtin_mul_overflow(v, pow10_i64(to_digits - from_digits), out) ? -1 : 0;
    *out = floor_div(v, pow10_i64(from_digits - to_digits));
    return 0;
}

/* The value as ticks of 10^-digits seconds since the epoch (digits 0 for
 * DateTime, P for DateTime64(P)). A bare integer is already in ticks. */
static int time_ticks(const ch_type *t, const cvalue *v, int digits, int64_t *out,
                      sluice_error *err)
{
    if (v->kind == CV_STRING) {
        iso8601 tm;
        if (iso8601_parse(v->s, v->len, ISO8601_LENIENT | ISO8601_LONG_FRACTION, &tm))
            return fail_not_number(err, t, v, "an ISO-8601 date or date-time");
        int64_t secs = iso8601_epoch_seconds(&tm);
        int32_t ns = tm.nanos;
        int64_t ticks;
        if (__builtin_mul_overflow(secs, pow10_i64(digits), &ticks) ||
            __builtin_add_overflow(ticks, ns / pow10_i64(9 - digits), out))
            return fail_range(err, t, v);
        return 0;
    }
    if (v->kind != CV_INT) return fail_kind(err, t, v);
    int rc = 0;
    switch (v->unit) {
    case CV_UNIT_NONE:
        *out = v->i;
        break;
    case CV_UNIT_TS_S:
        rc = rescale_time(v->i, 0, digits, out);
        break;
    case CV_UNIT_TS_MS:
        rc = rescale_time(v->i, 3, digits, out);
        break;
    case CV_UNIT_TS_US:
        rc = rescale_time(v->i, 6, digits, out);
        break;
    case CV_UNIT_DATE_DAYS: {
        int64_t s;
        rc =
            __builtin_mul_overflow(v->i, (int64_t)86400, &s) ? -1 : rescale_time(s, 0, digits, out);
        break;
    }
    default:
        return sluice_error_set(err, SLUICE_EINVAL, "a time of day cannot be written to %s",
                                t->text);
    }
    return rc ? fail_range(err, t, v) : 0;
}

static int encode_date(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    int64_t days;
    if (v->kind == CV_INT && (v->unit == CV_UNIT_NONE || v->unit == CV_UNIT_DATE_DAYS)) {
        days = v->i;
    } else {
        int64_t secs;
        int rc = time_ticks(t, v, 0, &secs, err);
        if (rc) return rc;
        days = floor_div(secs, 86400);
    }
    if (days < 0 || days > UINT16_MAX) return fail_range(err, t, v);
    return put_le(out, (uint64_t)days, 2) ? oom(err, t) : 0;
}

static int encode_datetime(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    int64_t secs;
    int rc = time_ticks(t, v, 0, &secs, err);
    if (rc) return rc;
    if (secs < 0 || secs > UINT32_MAX) return fail_range(err, t, v);
    return put_le(out, (uint64_t)secs, 4) ? oom(err, t) : 0;
}

static int encode_datetime64(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    int64_t ticks = 0;
    int rc = time_ticks(t, v, t->precision, &ticks, err);
    if (rc) return rc;
    return put_le(out, (uint64_t)ticks, 8) ? oom(err, t) : 0;
}

/* ---- dispatch ---------------------------------------------------------- */

static int encode_any(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    if (t->kind == CH_LOW_CARDINALITY) t = t->inner;
    if (t->kind == CH_NULLABLE) {
        if (v->kind == CV_NULL) return buf_append_byte(out, 1) ? oom(err, t) : 0;
        if (buf_append_byte(out, 0)) return oom(err, t);
        t = t->inner;
    } else if (v->kind == CV_NULL) {
        return fail_kind(err, t, v);
    }
    switch (t->kind) {
    case CH_INT8:
    case CH_INT16:
    case CH_INT32:
    case CH_INT64:
    case CH_UINT8:
    case CH_UINT16:
    case CH_UINT32:
    case CH_UINT64:
        return encode_integer(t, v, out, err);
    case CH_FLOAT32:
    case CH_FLOAT64:
        return encode_float(t, v, out, err);
    case CH_BOOL:
        return encode_bool(t, v, out, err);
    case CH_STRING:
        return encode_string(t, v, out, err);
    case CH_FIXED_STRING:
        return encode_fixed_string(t, v, out, err);
    case CH_DATE:
        return encode_date(t, v, out, err);
    case CH_DATETIME:
        return encode_datetime(t, v, out, err);
    case CH_DATETIME64:
        return encode_datetime64(t, v, out, err);
    case CH_UUID:
        return encode_uuid(t, v, out, err);
    case CH_ENUM8:
    case CH_ENUM16:
        return encode_enum(t, v, out, err);
    case CH_DECIMAL32:
    case CH_DECIMAL64:
    case CH_DECIMAL128:
        return encode_decimal(t, v, out, err);
    case CH_ARRAY:
    case CH_MAP:
        return sluice_error_set(err, SLUICE_EINVAL,
                                "%s is not a scalar: write the count and encode the elements "
                                "(%s cannot be written to it)",
                                t->text, kind_name(v->kind));
    default:
        return sluice_error_set(err, SLUICE_EINTERNAL, "%s cannot be nested here", t->text);
    }
}

int ch_encode_value(const ch_type *t, const cvalue *v, buf *out, sluice_error *err)
{
    if (!t || !v || !out)
        return sluice_error_set(err, SLUICE_EINVAL, "ch_encode_value: NULL argument");
    size_t len0 = out->len;
    int rc = encode_any(t, v, out, err);
    if (rc) out->len = len0;
    return rc;
}

/* ---- defaults ---------------------------------------------------------- */

static int append_zeros(buf *out, size_t n)
{
    if (buf_reserve(out, n)) return SLUICE_ENOMEM;
    memset(out->data + out->len, 0, n);
    out->len += n;
    return 0;
}

/* ClickHouse sorts an enum's items by value and its default is the first,
 * i.e. the smallest value (an 18.16 server fills Enum8('b' = 2, 'a' = -1)
 * with 'a'; see test_ch_rowbinary.c), not the first declared. */
static int16_t enum_default(const ch_type *t)
{
    int16_t m = t->enum_values[0];
    for (size_t i = 1; i < t->n_enum; i++)
        if (t->enum_values[i] < m) m = t->enum_values[i];
    return m;
}

static int encode_default(const ch_type *t, buf *out)
{
    switch (t->kind) {
    case CH_INT8:
    case CH_UINT8:
    case CH_BOOL:
        return append_zeros(out, 1);
    case CH_INT16:
    case CH_UINT16:
    case CH_DATE:
        return append_zeros(out, 2);
    case CH_INT32:
    case CH_UINT32:
    case CH_FLOAT32:
    case CH_DATETIME:
    case CH_DECIMAL32:
        return append_zeros(out, 4);
    case CH_INT64:
    case CH_UINT64:
    case CH_FLOAT64:
    case CH_DATETIME64:
    case CH_DECIMAL64:
        return append_zeros(out, 8);
    case CH_UUID:
    case CH_DECIMAL128:
        return append_zeros(out, 16);
    case CH_FIXED_STRING:
        return append_zeros(out, t->fixed_len);
    case CH_STRING:
    case CH_ARRAY:
    case CH_MAP:
        return append_zeros(out, 1); /* length/count 0 */
    case CH_ENUM8:
    case CH_ENUM16:
        return put_le(out, (uint64_t)(int64_t)enum_default(t), t->kind == CH_ENUM8 ? 1 : 2);
    case CH_NULLABLE:
        return buf_append_byte(out, 1);
    case CH_LOW_CARDINALITY:
        return encode_default(t->inner, out);
    }
    return SLUICE_EINTERNAL;
}

int ch_encode_default(const ch_type *t, buf *out)
{
    if (!t || !out) return SLUICE_EINVAL;
    size_t len0 = out->len;
    int rc = encode_default(t, out);
    if (rc) out->len = len0;
    return rc;
}

/* ---- JSON -------------------------------------------------------------- */

/* has_path: whether err->msg already starts with a path, so an outer level
 * prepends "[i]" instead of "[i]: ". */
typedef struct json_ctx {
    sluice_error *err;
    int has_path;
} json_ctx;

static void json_path_prefix(json_ctx *c, const char *step)
{
    sluice_error_prefix(c->err, "%s%s", step, c->has_path ? "" : ": ");
    c->has_path = 1;
}

static const char *json_kind_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a JSON object";
    case JSON_ARRAY:
        return "a JSON array";
    default:
        return "a JSON scalar";
    }
}

static int encode_json(const ch_type *t, const json_t *v, buf *out, json_ctx *c)
{
    if (t->kind == CH_LOW_CARDINALITY) t = t->inner;
    if (t->kind == CH_ARRAY) {
        if (!json_is_array(v))
            return sluice_error_set(c->err, SLUICE_EINVAL, "%s cannot be written to %s",
                                    json_is_null(v) ? "null" : json_kind_name(v), t->text);
        size_t n = json_array_size(v);
        if (put_leb128(out, n)) return oom(c->err, t);
        for (size_t i = 0; i < n; i++) {
            int rc = encode_json(t->inner, json_array_get(v, i), out, c);
            if (rc) {
                char step[32];
                snprintf(step, sizeof step, "[%zu]", i);
                json_path_prefix(c, step);
                return rc;
            }
        }
        return 0;
    }
    if (t->kind == CH_MAP) {
        if (!json_is_object(v))
            return sluice_error_set(c->err, SLUICE_EINVAL, "%s cannot be written to %s",
                                    json_is_null(v) ? "null" : json_kind_name(v), t->text);
        if (put_leb128(out, json_object_size(v))) return oom(c->err, t);
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            const char *key = json_object_iter_key(it);
            size_t key_len = json_object_iter_key_len(it);
            cvalue kv = cv_string(key, key_len);
            int rc = encode_any(t->inner, &kv, out, c->err);
            if (!rc) rc = encode_json(t->inner2, json_object_iter_value(it), out, c);
            if (rc) {
                char p[300], step[310];
                preview(key, key_len, p, sizeof p);
                snprintf(step, sizeof step, "[%s]", p);
                json_path_prefix(c, step);
                return rc;
            }
        }
        return 0;
    }
    cvalue cv;
    switch (json_typeof(v)) {
    case JSON_NULL:
        cv = cv_null();
        break;
    case JSON_TRUE:
        cv = cv_bool(1);
        break;
    case JSON_FALSE:
        cv = cv_bool(0);
        break;
    case JSON_INTEGER:
        cv = cv_int(json_integer_value(v), CV_UNIT_NONE);
        break;
    case JSON_REAL:
        cv = cv_double(json_real_value(v));
        break;
    case JSON_STRING:
        cv = cv_string(json_string_value(v), json_string_length(v));
        break;
    default:
        return sluice_error_set(c->err, SLUICE_EINVAL, "%s cannot be written to %s",
                                json_kind_name(v), t->text);
    }
    return encode_any(t, &cv, out, c->err);
}

int ch_encode_json(const ch_type *t, const json_t *v, buf *out, sluice_error *err)
{
    if (!t || !v || !out)
        return sluice_error_set(err, SLUICE_EINVAL, "ch_encode_json: NULL argument");
    json_ctx c = {.err = err};
    size_t len0 = out->len;
    int rc = encode_json(t, v, out, &c);
    if (rc) out->len = len0;
    return rc;
}

/* ---- JSON text, streamed ------------------------------------------------------------ */

/* The value at the reader as a cvalue: integers within int64 as CV_INT, an
 * integer literal past it as its text (CV_STRING: an integer column parses
 * it exactly, UInt64 included), reals as CV_DOUBLE. */
static int json_scalar(json_lex *lx, cvalue *cv, sluice_error *err)
{
    json_str s;
    json_num n;
    switch (json_lex_peek(lx)) {
    case JSON_V_STRING:
        if (json_lex_string(lx, &s)) return SLUICE_EPARSE;
        *cv = cv_string(s.s, s.len);
        return 0;
    case JSON_V_NUMBER:
        if (json_lex_number(lx, &n)) return SLUICE_EPARSE;
        if (n.int_ok) {
            *cv = cv_int(n.i, CV_UNIT_NONE);
        } else if (n.is_int) {
            *cv = cv_string(n.text, n.len);
        } else {
            double d;
            if (json_num_double(lx, &n, &d))
                return sluice_error_set(err, SLUICE_EINVAL, "%.*s is out of range for a double",
                                        (int)(n.len > 40 ? 40 : n.len), n.text);
            *cv = cv_double(d);
        }
        return 0;
    case JSON_V_TRUE:
    case JSON_V_FALSE:
    case JSON_V_NULL: {
        json_vkind k = json_lex_literal(lx);
        if (k == JSON_V_NONE) return SLUICE_EPARSE;
        *cv = k == JSON_V_NULL ? cv_null() : cv_bool(k == JSON_V_TRUE);
        return 0;
    }
    default:
        json_lex_skip(lx); /* records the syntax error */
        return SLUICE_EPARSE;
    }
}

/* The count of an Array or Map, once known: one byte was reserved at pos
 * (LEB128 of less than 128); a larger count moves what follows. */
static int fix_count(buf *out, size_t pos, size_t count)
{
    uint8_t tmp[10];
    size_t n = 0;
    uint64_t v = count;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    if (n > 1) {
        if (buf_reserve(out, n - 1)) return SLUICE_ENOMEM;
        memmove(out->data + pos + n, out->data + pos + 1, out->len - pos - 1);
        out->len += n - 1;
    }
    memcpy(out->data + pos, tmp, n);
    return 0;
}

static int encode_json_text(const ch_type *t, json_lex *lx, buf *out, json_ctx *c, int depth)
{
    if (t->kind == CH_LOW_CARDINALITY) t = t->inner;
    json_vkind k = json_lex_peek(lx);
    if (depth > 64) return sluice_error_set(c->err, SLUICE_EINVAL, "nested too deeply");
    if (t->kind == CH_ARRAY || t->kind == CH_MAP) {
        int array = t->kind == CH_ARRAY;
        if (k != (array ? JSON_V_ARRAY : JSON_V_OBJECT)) {
            if (k == JSON_V_NONE) return json_lex_skip(lx), SLUICE_EPARSE;
            return sluice_error_set(c->err, SLUICE_EINVAL, "%s cannot be written to %s",
                                    k == JSON_V_NULL     ? "null"
                                    : k == JSON_V_OBJECT ? "a JSON object"
                                    : k == JSON_V_ARRAY  ? "a JSON array"
                                                         : "a JSON scalar",
                                    t->text);
        }
        json_lex_dups dups;
        if (array ? json_lex_open_array(lx) : json_lex_open_object(lx, &dups)) return SLUICE_EPARSE;
        size_t pos = out->len, count = 0;
        if (buf_append_byte(out, 0)) return oom(c->err, t);
        for (;;) {
            json_str key;
            int r = array ? json_lex_next_item(lx, &count) : json_lex_next_key(lx, &count, &key);
            if (r < 0) return SLUICE_EPARSE;
            if (r == 0) break;
            int rc = 0;
            char step[310];
            if (array) {
                snprintf(step, sizeof step, "[%zu]", count - 1);
            } else {
                if (json_lex_key_unique(lx, &dups, &key, NULL) != 1) return SLUICE_EPARSE;
                char pv[300];
                preview(key.s, key.len, pv, sizeof pv);
                snprintf(step, sizeof step, "[%s]", pv);
                cvalue kv = cv_string(key.s, key.len);
                rc = encode_any(t->inner, &kv, out, c->err);
            }
            if (!rc) rc = encode_json_text(array ? t->inner : t->inner2, lx, out, c, depth + 1);
            if (rc) {
                if (rc != SLUICE_EPARSE) json_path_prefix(c, step);
                return rc;
            }
        }
        return fix_count(out, pos, count) ? oom(c->err, t) : 0;
    }
    if (k == JSON_V_OBJECT || k == JSON_V_ARRAY)
        return sluice_error_set(c->err, SLUICE_EINVAL, "%s cannot be written to %s",
                                k == JSON_V_OBJECT ? "a JSON object" : "a JSON array", t->text);
    cvalue cv;
    int rc = json_scalar(lx, &cv, c->err);
    if (rc) return rc;
    return encode_any(t, &cv, out, c->err);
}

int ch_encode_json_text(const ch_type *t, json_lex *lx, buf *out, sluice_error *err)
{
    json_ctx c = {.err = err};
    size_t len0 = out->len;
    int rc = encode_json_text(t, lx, out, &c, 0);
    if (rc) out->len = len0;
    if (rc == SLUICE_EPARSE) sluice_error_set(err, SLUICE_EPARSE, "%s", lx->err_msg);
    return rc;
}
