/*
 * avro_json.c — JSON ⇄ Avro binary by walking a parsed schema (see
 * avro_json.h for the contract, sluice/avro.h for the schema graph).
 *
 * Encoding (JSON → Avro) runs on the ingest hot path, once per event, on the
 * HTTP worker thread that parsed the request. It writes straight into the
 * caller's buffer and allocates nothing of its own per field: the path of
 * the value being encoded is a stack of pointers into the schema and the
 * JSON (rendered as "$.items[3].sku" only when an error is reported), and a
 * field default is parsed with jansson the first time it is needed in a call
 * and its bytes are then copied from where they were first written (a small
 * per-call table), so an array of a thousand records missing the same field
 * parses that default once.
 *
 * Union branches are chosen without trial encoding: a branch "fits" a JSON
 * value by a check that looks one level deep (an object fits a record when
 * its keys are fields of the record and every field without a default is
 * there). Trial encoding would make nested unions of records exponential
 * in the nesting depth on hostile input.
 *
 * Decoding (Avro → JSON) serves the DLQ, the CLI and the cross-checks. It
 * reads with a bounds check before every access, never trusts a length or a
 * block count further than the bytes that are left, and writes JSON text
 * into the caller's (capped) buffer, so its memory is bounded by that cap.
 *
 * Numbers: JSON numbers arrive as jansson doubles or 64-bit integers. A
 * decimal given as a JSON real therefore goes through a double and is exact
 * only as far as its shortest round-trip text is (15-17 significant digits);
 * a decimal given as a string is exact. Doubles and floats are written back
 * as the shortest text that reads back to the same bits; NaN and the
 * infinities, which JSON cannot hold, are written as the strings "NaN",
 * "Infinity" and "-Infinity" (and accepted back in that form).
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
 *     finer than the type's unit must be zero; integers pass unchecked;
 *   - the decoder accepts what the spec allows and our encoder never writes
 *     (longer-than-needed varints, several blocks, negative block counts
 *     with a byte size, which must match), rejects what the spec forbids
 *     (booleans other than 0/1, invalid UTF-8 in strings and map keys), and
 *     shows the rest as it is: a uuid string that is not a UUID, a map key
 *     written twice (both appear in the JSON object).
 *
 * Everything here is a pure function over caller-owned data: any thread.
 */
#include "codec/avro_json.h"

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

/* ---- paths ---------------------------------------------------------------------- */

/* One step of the path to the value being processed. Rendered only when an
 * error is reported; pushing one is a few stores. */
typedef enum seg_kind { SEG_FIELD, SEG_INDEX, SEG_KEY } seg_kind;

typedef struct path_seg {
    seg_kind kind;
    const char *name; /* FIELD, KEY */
    size_t len;       /* NAME_IS_CSTR: name is NUL-terminated (schema names) */
    size_t index;     /* INDEX */
} path_seg;

/* Every segment is pushed by a record, array or map, and those are limited
 * to SLUICE_AVRO_MAX_DEPTH levels, so this many always suffice. */
#define MAX_SEGS (SLUICE_AVRO_MAX_DEPTH + 4)
/* Schema names are NUL-terminated: their length is found only when a path
 * is rendered, not for every field walked. */
#define NAME_IS_CSTR SIZE_MAX
#define PATH_RENDER_CAP 2048
#define PATH_SHOWN_HEAD 40
#define NAME_SHOWN 64

typedef struct path_stack {
    path_seg segs[MAX_SEGS];
    int n;
} path_stack;

static void path_push(path_stack *p, seg_kind kind, const char *name, size_t len, size_t index)
{
    if (p->n < MAX_SEGS) p->segs[p->n] = (path_seg){kind, name, len, index};
    p->n++; /* counted even past the array, so pops stay balanced */
}

static void path_pop(path_stack *p)
{
    p->n--;
}

/* Renders "$.a.b[3][\"k\"]" into dst (cap bytes). Names and keys longer
 * than NAME_SHOWN are cut; a path longer than cap - 1 keeps its head and its
 * tail around "...". */
static void path_render(const path_stack *p, char *dst, size_t cap)
{
    char full[PATH_RENDER_CAP];
    size_t len = 1;
    full[0] = '$';
    full[1] = '\0';
    int shown = p->n < MAX_SEGS ? p->n : MAX_SEGS;
    for (int i = 0; i < shown && len < sizeof full - 1; i++) {
        const path_seg *s = &p->segs[i];
        int n;
        size_t nl = s->len == NAME_IS_CSTR ? strlen(s->name) : s->len;
        if (nl > NAME_SHOWN) nl = NAME_SHOWN;
        if (s->kind == SEG_FIELD)
            n = snprintf(full + len, sizeof full - len, ".%.*s", (int)nl, s->name);
        else if (s->kind == SEG_KEY)
            n = snprintf(full + len, sizeof full - len, "[\"%.*s\"]", (int)nl, s->name);
        else
            n = snprintf(full + len, sizeof full - len, "[%zu]", s->index);
        if (n < 0) break;
        len += (size_t)n;
        if (len > sizeof full - 1) len = sizeof full - 1;
    }
    if (len < cap) {
        memcpy(dst, full, len + 1);
        return;
    }
    size_t tail = cap - 1 - PATH_SHOWN_HEAD - 3;
    memcpy(dst, full, PATH_SHOWN_HEAD);
    memcpy(dst + PATH_SHOWN_HEAD, "...", 3);
    memcpy(dst + PATH_SHOWN_HEAD + 3, full + len - tail, tail);
    dst[cap - 1] = '\0';
}

/* ---- names for messages ------------------------------------------------------------ */

static const char *logical_name(sluice_avro_logical l)
{
    switch (l) {
    case SLUICE_AVRO_LOGICAL_DATE:
        return "date";
    case SLUICE_AVRO_LOGICAL_TIME_MILLIS:
        return "time-millis";
    case SLUICE_AVRO_LOGICAL_TIME_MICROS:
        return "time-micros";
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS:
        return "timestamp-millis";
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MICROS:
        return "timestamp-micros";
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
        return "local-timestamp-millis";
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS:
        return "local-timestamp-micros";
    case SLUICE_AVRO_LOGICAL_UUID:
        return "uuid";
    case SLUICE_AVRO_LOGICAL_DECIMAL:
        return "decimal";
    case SLUICE_AVRO_LOGICAL_DURATION:
        return "duration";
    case SLUICE_AVRO_LOGICAL_NONE:
        break;
    }
    return NULL;
}

/* The name a union branch goes by in Avro's JSON encoding: the primitive
 * name (also under a logical type), the fullname of a named type, or
 * "array"/"map". */
static const char *branch_name(const sluice_avro_node *t)
{
    if (t->type == SLUICE_AVRO_RECORD || t->type == SLUICE_AVRO_ENUM ||
        t->type == SLUICE_AVRO_FIXED)
        return t->fullname;
    return sluice_avro_type_name(t->type);
}

/* "int", "timestamp-millis", "record com.acme.User", "array", ... */
static void describe_type(const sluice_avro_node *t, char *dst, size_t cap)
{
    const char *l = logical_name(t->logical);
    if (t->type == SLUICE_AVRO_RECORD || t->type == SLUICE_AVRO_ENUM ||
        t->type == SLUICE_AVRO_FIXED) {
        if (l)
            snprintf(dst, cap, "%s (%s %s)", l, sluice_avro_type_name(t->type), t->fullname);
        else
            snprintf(dst, cap, "%s %s", sluice_avro_type_name(t->type), t->fullname);
    } else {
        snprintf(dst, cap, "%s", l ? l : sluice_avro_type_name(t->type));
    }
}

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

/* "[null, string, com.acme.Rec]", cut with "..." past cap. */
static void describe_union(const sluice_avro_node *t, char *dst, size_t cap)
{
    size_t len = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < t->n_branches; i++) {
        int n = snprintf(dst + len, cap - len, "%s%s", i ? ", " : "[", branch_name(t->branches[i]));
        if (n < 0 || (size_t)n >= cap - len) {
            if (cap > 5) strcpy(dst + cap - 5, "...]");
            return;
        }
        len += (size_t)n;
    }
    snprintf(dst + len, cap - len, "%s", t->n_branches ? "]" : "[]");
}

/* ---- text helpers shared by both directions ------------------------------------------ */

/* Shortest "%.Ng" text (N from lo to hi) that reads back to the same double;
 * for floats, the same float after rounding the double (which is how a JSON
 * parser, ours or JavaScript's, turns the text into a float). Always looks
 * like a real (has '.', 'e' or is special) so that JSON parsers keep it a
 * real: "-0" would come back as the integer 0. */
static void format_real(double d, bool as_float, char *dst, size_t cap)
{
    int lo = as_float ? 6 : 15, hi = as_float ? 9 : 17;
    for (int p = lo; p <= hi; p++) {
        snprintf(dst, cap, "%.*g", p, d);
        double back = strtod(dst, NULL);
        if (as_float ? (float)back == (float)d : back == d) break;
    }
    if (!strpbrk(dst, ".eEni")) {
        size_t n = strlen(dst);
        if (n + 3 <= cap) memcpy(dst + n, ".0", 3);
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* -?digits(.digits)?([eE][+-]?digits)? over exactly n bytes. */
static bool is_decimal_literal(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    size_t start = i;
    while (i < n && is_digit(s[i]))
        i++;
    if (i == start) return false;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == f) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t e = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == e) return false;
    }
    return i == n;
}

/* ===================================================================================== */
/* ---- encoder: JSON → Avro binary ------------------------------------------------------ */
/* ===================================================================================== */

#define DEFAULT_CACHE 64
/* Largest unscaled decimal the encoder converts, in bytes of magnitude
 * (about 616 decimal digits). The conversion is quadratic in the digits, so
 * the bound keeps one hostile value cheap; real schemas use precision <= 76. */
#define DECIMAL_MAX_BYTES 256

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
    path_stack path;
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
    path_render(&e->path, item->path, sizeof item->path);
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
            path_render(&e->path, item->path, sizeof item->path);
            snprintf(item->message, sizeof item->message,
                     "encoded value exceeds the output cap of %zu bytes", e->out->cap);
        }
    }
    return STOP;
}

static int mismatch(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    char want[160];
    describe_type(t, want, sizeof want);
    return enc_error(e, "expected %s, got %s", want, json_kind(v));
}

/* ---- writers ------------------------------------------------------------------------ */

static int put_raw(encoder *e, const void *p, size_t n)
{
    return buf_append(e->out, p, n) ? enc_nomem(e) : 0;
}

static int put_long(encoder *e, int64_t v)
{
    uint8_t tmp[10];
    uint64_t u = (uint64_t)v;
    uint64_t z = (u << 1) ^ (0 - (u >> 63)); /* zigzag */
    size_t n = 0;
    while (z > 0x7f) {
        tmp[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    tmp[n++] = (uint8_t)z;
    buf *b = e->out;
    if (b->alloc > b->len + n) { /* buf keeps one spare byte */
        memcpy(b->data + b->len, tmp, n);
        b->len += n;
        return 0;
    }
    return put_raw(e, tmp, n);
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

/* Number of code points of a UTF-8 string if each is at most U+00FF (the
 * string then stands for that many bytes), else -1. jansson strings are
 * valid UTF-8, so a lead byte C2/C3 is always followed by one continuation. */
static long long code_point_bytes(const char *s, size_t n)
{
    long long count = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80 || c == 0xC2 || c == 0xC3)
            count++;
        else if (c >= 0xC0)
            return -1;
    }
    return count;
}

/* Writes the bytes a code-point string stands for (count of them). */
static int put_code_points(encoder *e, const char *s, size_t n, size_t count)
{
    if (buf_reserve(e->out, count)) return enc_nomem(e);
    uint8_t *p = e->out->data + e->out->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80)
            *p++ = c;
        else if (c == 0xC2 || c == 0xC3)
            *p++ = (uint8_t)(((c & 0x03) << 6) | ((unsigned char)s[++i] & 0x3F));
    }
    e->out->len += count;
    return 0;
}

/* ---- ISO-8601 --------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Exactly `count` digits at s[at..]; false if there are not. */
static bool fixed_digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
    if (at + count > n) return false;
    int v = 0;
    for (size_t i = at; i < at + count; i++) {
        if (!is_digit(s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* YYYY-MM-DD at s[0..10) → days. NULL or the reason it is not one. */
static const char *parse_date(const char *s, size_t n, int64_t *days)
{
    int y, m, d;
    if (!fixed_digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !fixed_digits(s, n, 5, 2, &m) ||
        s[7] != '-' || !fixed_digits(s, n, 8, 2, &d))
        return "bad syntax";
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12) return "month out of range";
    int dim = mdays[m - 1] + (m == 2 && leap_year(y));
    if (d < 1 || d > dim) return "day out of range";
    *days = days_from_civil(y, m, d);
    return NULL;
}

/* HH:MM:SS[.f{1,9}] at s[0..) → seconds of the day and nanoseconds; *used
 * gets the length parsed. */
static const char *parse_clock(const char *s, size_t n, size_t *used, int64_t *sec, int64_t *nanos)
{
    int h, mi, se;
    if (!fixed_digits(s, n, 0, 2, &h) || n < 8 || s[2] != ':' || !fixed_digits(s, n, 3, 2, &mi) ||
        s[5] != ':' || !fixed_digits(s, n, 6, 2, &se))
        return "bad syntax";
    if (h > 23) return "hour out of range";
    if (mi > 59) return "minute out of range";
    if (se > 59) return "second out of range";
    size_t i = 8;
    int64_t ns = 0;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        while (i < n && is_digit(s[i])) {
            if (i - start >= 9) return "more than 9 fractional digits";
            ns = ns * 10 + (s[i] - '0');
            i++;
        }
        if (i == start) return "bad syntax";
        for (size_t k = i - start; k < 9; k++)
            ns *= 10;
    }
    *used = i;
    *sec = (int64_t)h * 3600 + mi * 60 + se;
    *nanos = ns;
    return NULL;
}

/* "" (none), "Z" or ±HH:MM, which must be all that is left. */
static const char *parse_zone(const char *s, size_t n, bool *has, int64_t *offset_sec)
{
    *has = n > 0;
    *offset_sec = 0;
    if (n == 0) return NULL;
    if (n == 1 && s[0] == 'Z') return NULL;
    int h, m;
    if (n != 6 || (s[0] != '+' && s[0] != '-') || !fixed_digits(s, n, 1, 2, &h) || s[3] != ':' ||
        !fixed_digits(s, n, 4, 2, &m))
        return "bad syntax";
    if (h > 23 || m > 59) return "offset out of range";
    *offset_sec = (s[0] == '-' ? -1 : 1) * ((int64_t)h * 3600 + m * 60);
    return NULL;
}

/* The ISO-8601 text a logical type accepts, for messages. */
static const char *iso_form(sluice_avro_logical l)
{
    switch (l) {
    case SLUICE_AVRO_LOGICAL_DATE:
        return "YYYY-MM-DD";
    case SLUICE_AVRO_LOGICAL_TIME_MILLIS:
    case SLUICE_AVRO_LOGICAL_TIME_MICROS:
        return "HH:MM:SS[.fff][Z|+HH:MM]";
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS:
        return "YYYY-MM-DDTHH:MM:SS[.fff], no offset";
    default:
        return "YYYY-MM-DDTHH:MM:SS[.fff]Z or +HH:MM";
    }
}

/* An ISO-8601 string for a date/time/timestamp logical type → its number.
 * Dates are days; times are units after midnight UTC (an offset shifts
 * them, wrapping round the day); timestamps need an offset (or Z) and local
 * timestamps must have none. Digits finer than the unit must be zero. */
static const char *parse_iso(sluice_avro_logical l, const char *s, size_t n, int64_t *out)
{
    int64_t days = 0, sec = 0, ns = 0, off = 0;
    size_t used = 0;
    bool zone = false;
    const char *why;
    bool millis = l == SLUICE_AVRO_LOGICAL_TIME_MILLIS ||
                  l == SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS ||
                  l == SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS;
    int64_t unit = millis ? 1000 : 1000000;
    switch (l) {
    case SLUICE_AVRO_LOGICAL_DATE:
        if (n != 10) return "bad syntax";
        if ((why = parse_date(s, n, &days))) return why;
        *out = days;
        return NULL;
    case SLUICE_AVRO_LOGICAL_TIME_MILLIS:
    case SLUICE_AVRO_LOGICAL_TIME_MICROS:
        if ((why = parse_clock(s, n, &used, &sec, &ns))) return why;
        if ((why = parse_zone(s + used, n - used, &zone, &off))) return why;
        sec = ((sec - off) % 86400 + 86400) % 86400;
        break;
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS:
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MICROS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS: {
        if (n < 11 || s[10] != 'T') return "bad syntax";
        if ((why = parse_date(s, n, &days))) return why;
        if ((why = parse_clock(s + 11, n - 11, &used, &sec, &ns))) return why;
        used += 11;
        if ((why = parse_zone(s + used, n - used, &zone, &off))) return why;
        bool local = l == SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS ||
                     l == SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS;
        if (local && zone) return "a local timestamp has no offset";
        if (!local && !zone) return "offset required (Z or +HH:MM)";
        sec = days * 86400 + sec - off;
        break;
    }
    default:
        return "not a date or time type";
    }
    int64_t per_unit = 1000000000 / unit;
    if (ns % per_unit) return millis ? "finer than milliseconds" : "finer than microseconds";
    *out = sec * unit + ns / per_unit;
    return NULL;
}

static bool is_iso_logical(sluice_avro_logical l)
{
    return l == SLUICE_AVRO_LOGICAL_DATE || l == SLUICE_AVRO_LOGICAL_TIME_MILLIS ||
           l == SLUICE_AVRO_LOGICAL_TIME_MICROS || l == SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS ||
           l == SLUICE_AVRO_LOGICAL_TIMESTAMP_MICROS ||
           l == SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS ||
           l == SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS;
}

/* ---- uuid ------------------------------------------------------------------------------- */

static bool is_uuid(const char *s, size_t n)
{
    if (n != 36) return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

/* ---- decimal ---------------------------------------------------------------------------- */

/* The magnitude of an unscaled decimal, little-endian base 256. */
typedef struct bignum {
    uint8_t b[DECIMAL_MAX_BYTES + 1];
    size_t len;
} bignum;

/* Encodes the decimal text s (a decimal literal) scaled to t's scale, as
 * minimal big-endian two's complement (bytes) or sign-extended to t's size
 * (fixed). */
static int enc_decimal_text(encoder *e, const sluice_avro_node *t, const char *s, size_t n)
{
    size_t i = 0;
    bool neg = false;
    if (s[i] == '-' || s[i] == '+') neg = s[i++] == '-';
    const char *int_d = s + i;
    size_t n_int = 0, n_frac = 0;
    while (i < n && is_digit(s[i]))
        i++, n_int++;
    const char *frac_d = s + i + 1;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, n_frac++;
    }
    long long exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (s[i] == '+' || s[i] == '-') eneg = s[i++] == '-';
        for (; i < n; i++) {
            exp = exp * 10 + (s[i] - '0');
            if (exp >= 1000000000)
                return enc_error(e, "'%.*s' has an exponent out of range", (int)(n > 40 ? 40 : n),
                                 s);
        }
        if (eneg) exp = -exp;
    }
    /* value = D * 10^(exp - n_frac) with D the digits; unscaled = value * 10^scale. */
    long long shift = exp - (long long)n_frac + t->scale;
    size_t n_digits = n_int + n_frac;
#define DIGIT(k) ((k) < n_int ? int_d[k] : frac_d[(k)-n_int])
    size_t first = 0; /* skip leading zeros */
    while (first < n_digits && DIGIT(first) == '0')
        first++;
    size_t last = n_digits; /* one past the last digit kept */
    if (shift < 0) {
        unsigned long long drop = (unsigned long long)-shift;
        for (size_t k = n_digits; k > first && drop > 0; k--, drop--) {
            if (DIGIT(k - 1) != '0')
                return enc_error(e, "'%.*s' cannot be represented exactly with scale %d",
                                 (int)(n > 40 ? 40 : n), s, t->scale);
            last = k - 1;
        }
        shift = 0;
    }
    if (last < first) last = first;
    unsigned long long digits = (unsigned long long)(last - first);
    if (digits > 0) digits += (unsigned long long)shift;
    if (digits > (unsigned long long)t->precision)
        return enc_error(e, "'%.*s' has %llu digits at scale %d, more than precision %d",
                         (int)(n > 40 ? 40 : n), s, digits, t->scale, t->precision);

    bignum m = {.len = 0};
    for (unsigned long long k = 0; k < digits; k++) {
        unsigned carry = (unsigned)(first + k < last ? DIGIT(first + k) - '0' : 0);
        for (size_t j = 0; j < m.len; j++) {
            unsigned v = m.b[j] * 10u + carry;
            m.b[j] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry) {
            if (m.len == DECIMAL_MAX_BYTES)
                return enc_error(e, "'%.*s' is too large for a decimal (at most %d bytes)",
                                 (int)(n > 40 ? 40 : n), s, DECIMAL_MAX_BYTES);
            m.b[m.len++] = (uint8_t)carry;
        }
    }
#undef DIGIT
    /* Two's complement in len + 1 bytes, then the fewest bytes that keep
     * the sign. */
    size_t w = m.len + 1;
    m.b[m.len] = 0;
    if (neg && m.len > 0) {
        unsigned carry = 1;
        for (size_t j = 0; j < w; j++) {
            unsigned v = (uint8_t)~m.b[j] + carry;
            m.b[j] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    uint8_t pad = (neg && m.len > 0) ? 0xFF : 0x00;
    while (w > 1 && m.b[w - 1] == pad && ((m.b[w - 2] & 0x80) == (pad & 0x80)))
        w--;
    if (t->type == SLUICE_AVRO_FIXED) {
        if (w > t->size)
            return enc_error(e, "'%.*s' does not fit in fixed %s (%zu bytes)",
                             (int)(n > 40 ? 40 : n), s, t->fullname, t->size);
        if (buf_reserve(e->out, t->size)) return enc_nomem(e);
        uint8_t *p = e->out->data + e->out->len;
        memset(p, pad, t->size - w);
        for (size_t j = 0; j < w; j++)
            p[t->size - 1 - j] = m.b[j];
        e->out->len += t->size;
        return 0;
    }
    if (put_long(e, (int64_t)w)) return STOP;
    if (buf_reserve(e->out, w)) return enc_nomem(e);
    uint8_t *p = e->out->data + e->out->len;
    for (size_t j = 0; j < w; j++)
        p[w - 1 - j] = m.b[j];
    e->out->len += w;
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
        format_real(json_real_value(v), false, text, sizeof text);
        return enc_decimal_text(e, t, text, strlen(text));
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (!e->in_default && is_decimal_literal(s, n)) return enc_decimal_text(e, t, s, n);
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
    long long count = code_point_bytes(s, n);
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
    } else if (json_is_string(v) && is_iso_logical(t->logical)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        const char *why = parse_iso(t->logical, s, n, &x);
        if (why)
            return enc_error(e, "'%.64s' is not a valid %s: %s (expected %s)", s,
                             logical_name(t->logical), why, iso_form(t->logical));
    } else {
        return mismatch(e, t, v);
    }
    if (t->type == SLUICE_AVRO_INT && (x < INT32_MIN || x > INT32_MAX))
        return enc_error(e, "%" PRId64 " does not fit in int (32-bit)", x);
    return put_long(e, x);
}

/* "NaN", "Infinity", "-Infinity": how a decoder writes the values JSON
 * cannot hold. Canonical quiet NaN bits. */
static bool special_real(const json_t *v, double *d)
{
    if (!json_is_string(v)) return false;
    const char *s = json_string_value(v);
    if (strcmp(s, "NaN") == 0) {
        uint64_t bits = 0x7ff8000000000000ULL;
        memcpy(d, &bits, sizeof *d);
    } else if (strcmp(s, "Infinity") == 0) {
        *d = HUGE_VAL;
    } else if (strcmp(s, "-Infinity") == 0) {
        *d = -HUGE_VAL;
    } else {
        return false;
    }
    return true;
}

/* Past FLT_MAX plus half an ulp a finite double would round to an infinite
 * float, and the conversion itself would be undefined. */
static bool float_overflow(double d)
{
    return isfinite(d) && fabs(d) >= 0x1.ffffffp127;
}

static int enc_real(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v))
        d = json_real_value(v);
    else if (special_real(v, &d)) {
        if (t->type == SLUICE_AVRO_FLOAT && isnan(d)) {
            uint32_t bits = 0x7fc00000u;
            return put_le(e, bits, 4);
        }
    } else
        return mismatch(e, t, v);
    if (t->type == SLUICE_AVRO_DOUBLE) return put_double(e, d);
    if (float_overflow(d)) {
        char text[40];
        format_real(d, false, text, sizeof text);
        return enc_error(e, "%s is out of range for float", text);
    }
    return put_float(e, (float)d);
}

static int enc_string(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    if (!json_is_string(v)) return mismatch(e, t, v);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (t->logical == SLUICE_AVRO_LOGICAL_UUID && !is_uuid(s, n))
        return enc_error(e, "'%.64s' is not a UUID (expected 8-4-4-4-12 hex digits)", s);
    if (put_long(e, (int64_t)n)) return STOP;
    return put_raw(e, s, n);
}

static long find_symbol(const sluice_avro_node *t, const char *s, size_t n)
{
    for (size_t i = 0; i < t->n_symbols; i++)
        if (strncmp(t->symbols[i], s, n) == 0 && t->symbols[i][n] == '\0') return (long)i;
    return -1;
}

static int enc_enum(encoder *e, const sluice_avro_node *t, const json_t *v)
{
    if (!json_is_string(v)) return mismatch(e, t, v);
    const char *s = json_string_value(v);
    long idx = find_symbol(t, s, json_string_length(v));
    if (idx >= 0) return put_long(e, idx);
    char list[160];
    size_t len = 0;
    list[0] = '\0';
    for (size_t i = 0; i < t->n_symbols; i++) {
        int k = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", t->symbols[i]);
        if (k < 0 || (size_t)k >= sizeof list - len) {
            strcpy(list + sizeof list - 6, ", ...");
            break;
        }
        len += (size_t)k;
    }
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
        path_push(&e->path, SEG_INDEX, NULL, 0, i);
        rc = enc_value(e, t->items, json_array_get(v, i));
        path_pop(&e->path);
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
        path_push(&e->path, SEG_KEY, key, klen, 0);
        rc = enc_value(e, t->values, json_object_iter_value(it));
        path_pop(&e->path);
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
        if (strncmp(t->fields[i].name, key, klen) == 0 && t->fields[i].name[klen] == '\0')
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
        path_push(&e->path, SEG_FIELD, f->name, NAME_IS_CSTR, 0);
        if (fv) {
            found++;
            rc = enc_value(e, f->type, fv);
        } else if (f->default_json) {
            rc = enc_default(e, f);
        } else {
            rc = enc_error(e, "missing required field (no default)");
        }
        path_pop(&e->path);
        if (rc) return STOP;
    }
    /* Keys that are not fields would be silently dropped: reject them. */
    if (json_object_size(v) > found) {
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            const char *key = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);
            if (is_field_name(t, key, klen)) continue;
            path_push(&e->path, SEG_FIELD, key, klen, 0);
            rc = enc_error(e, "unknown field, not in record %s", t->fullname);
            path_pop(&e->path);
            if (rc) return STOP;
        }
    }
    e->depth--;
    return 0;
}

/* ---- unions ---------------------------------------------------------------------------- */

/* The branch whose Avro-JSON name is key: a primitive name, "array",
 * "map", or a named type's fullname; failing that, a named type's short
 * name (so that [a.X, X] still finds X by its fullname "X"). -1 if none. */
static long branch_by_name(const sluice_avro_node *u, const char *key, size_t klen)
{
    for (size_t i = 0; i < u->n_branches; i++) {
        const char *name = branch_name(u->branches[i]);
        if (strncmp(name, key, klen) == 0 && name[klen] == '\0') return (long)i;
    }
    for (size_t i = 0; i < u->n_branches; i++) {
        const char *name = u->branches[i]->name;
        if (name && strncmp(name, key, klen) == 0 && name[klen] == '\0') return (long)i;
    }
    return -1;
}

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
        return json_is_integer(v) || (json_is_string(v) && is_iso_logical(t->logical));
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
            is_decimal_literal(json_string_value(v), json_string_length(v)))
            return true;
        {
            long long n = code_point_bytes(json_string_value(v), json_string_length(v));
            return t->type == SLUICE_AVRO_BYTES ? n >= 0 : n >= 0 && (size_t)n == t->size;
        }
    case SLUICE_AVRO_FLOAT:
        return json_is_integer(v) || (json_is_real(v) && !float_overflow(json_real_value(v)));
    case SLUICE_AVRO_ENUM:
        return json_is_string(v) &&
               find_symbol(t, json_string_value(v), json_string_length(v)) >= 0;
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
        return is_iso_logical(t->logical) &&
               !parse_iso(t->logical, json_string_value(v), json_string_length(v), &x) &&
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
        idx = branch_by_name(t, json_object_iter_key(it), json_object_iter_key_len(it));
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
        describe_union(t, names, sizeof names);
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
    path_stack path;
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
    path_render(&d->path, where, sizeof where);
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
    format_real(v, is_float, text, sizeof text);
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
                path_push(&d->path, SEG_KEY, key, klen, 0);
            } else {
                path_push(&d->path, SEG_INDEX, NULL, 0, index);
            }
            int rc = dec_value(d, item);
            path_pop(&d->path);
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
        path_push(&d->path, SEG_FIELD, f->name, NAME_IS_CSTR, 0);
        int rc = dec_value(d, f->type);
        path_pop(&d->path);
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
        buf_append_json_string(d->out, branch_name(b), strlen(branch_name(b))))
        return d->rc ? d->rc : dec_nomem(d);
    if (out_raw(d, ":", 1) || dec_value(d, b)) return d->rc;
    return out_raw(d, "}", 1);
}

static int dec_value(decoder *d, const sluice_avro_node *t)
{
    size_t start = d->pos;
    int64_t v;
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
