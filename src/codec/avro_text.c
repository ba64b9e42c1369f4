/*
 * avro_text.c — see avro_text.h. Moved here from the tree encoder (avro_json_encode.c) when the
 * streaming encoder (json_avro.c) arrived, so that both encoders share one
 * copy of every rule that decides what text an Avro value accepts.
 */
#include "codec/avro_text.h"

#include "codec/iso8601.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- paths ----------------------------------------------------------------------------- */

#define PATH_RENDER_CAP 2048
#define PATH_SHOWN_HEAD 40
#define NAME_SHOWN 64

void avro_path_render(const avro_path *p, char *dst, size_t cap)
{
    char full[PATH_RENDER_CAP];
    size_t len = 1;
    full[0] = '$';
    full[1] = '\0';
    int shown = p->n < AVRO_PATH_MAX_SEGS ? p->n : AVRO_PATH_MAX_SEGS;
    for (int i = 0; i < shown && len < sizeof full - 1; i++) {
        const avro_path_seg *s = &p->segs[i];
        int n;
        size_t nl = s->len == AVRO_NAME_IS_CSTR ? strlen(s->name) : s->len;
        if (nl > NAME_SHOWN) nl = NAME_SHOWN;
        if (s->kind == AVRO_SEG_FIELD)
            n = snprintf(full + len, sizeof full - len, ".%.*s", (int)nl, s->name);
        else if (s->kind == AVRO_SEG_KEY)
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

const char *avro_logical_name(sluice_avro_logical l)
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

const char *avro_branch_name(const sluice_avro_node *t)
{
    if (t->type == SLUICE_AVRO_RECORD || t->type == SLUICE_AVRO_ENUM ||
        t->type == SLUICE_AVRO_FIXED)
        return t->fullname;
    return sluice_avro_type_name(t->type);
}

void avro_describe_type(const sluice_avro_node *t, char *dst, size_t cap)
{
    const char *l = avro_logical_name(t->logical);
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

void avro_describe_union(const sluice_avro_node *t, char *dst, size_t cap)
{
    size_t len = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < t->n_branches; i++) {
        int n = snprintf(dst + len, cap - len, "%s%s", i ? ", " : "[",
                         avro_branch_name(t->branches[i]));
        if (n < 0 || (size_t)n >= cap - len) {
            if (cap > 5) strcpy(dst + cap - 5, "...]");
            return;
        }
        len += (size_t)n;
    }
    snprintf(dst + len, cap - len, "%s", t->n_branches ? "]" : "[]");
}

long avro_branch_by_name(const sluice_avro_node *u, const char *key, size_t klen)
{
    /* Lengths first: key may hold NULs (\u0000), names never do. */
    for (size_t i = 0; i < u->n_branches; i++) {
        const char *name = avro_branch_name(u->branches[i]);
        if (strlen(name) == klen && memcmp(name, key, klen) == 0) return (long)i;
    }
    for (size_t i = 0; i < u->n_branches; i++) {
        const char *name = u->branches[i]->name;
        if (name && strlen(name) == klen && memcmp(name, key, klen) == 0) return (long)i;
    }
    return -1;
}

/* ---- numbers ------------------------------------------------------------------------- */

void avro_format_real(double d, bool as_float, char *dst, size_t cap)
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

bool avro_is_decimal_literal(const char *s, size_t n)
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

bool avro_special_real(const char *s, size_t n, double *d)
{
    if (n == 3 && memcmp(s, "NaN", 3) == 0) {
        uint64_t bits = 0x7ff8000000000000ULL; /* the canonical quiet NaN */
        memcpy(d, &bits, sizeof *d);
    } else if (n == 8 && memcmp(s, "Infinity", 8) == 0) {
        *d = HUGE_VAL;
    } else if (n == 9 && memcmp(s, "-Infinity", 9) == 0) {
        *d = -HUGE_VAL;
    } else {
        return false;
    }
    return true;
}

bool avro_float_overflow(double d)
{
    return isfinite(d) && fabs(d) >= 0x1.ffffffp127;
}

/* The magnitude of an unscaled decimal, little-endian base 256. */
typedef struct bignum {
    uint8_t b[AVRO_DECIMAL_MAX_BYTES + 1];
    size_t len;
} bignum;

static int why_fail(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why_fail(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

int avro_decimal_from_text(const sluice_avro_node *t, const char *s, size_t n, buf *out, char *why,
                           size_t why_cap)
{
    int shown = (int)(n > 40 ? 40 : n);
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
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
        if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        for (; i < n; i++) {
            exp = exp * 10 + (s[i] - '0');
            if (exp >= 1000000000)
                return why_fail(why, why_cap, "'%.*s' has an exponent out of range", shown, s);
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
                return why_fail(why, why_cap, "'%.*s' cannot be represented exactly with scale %d",
                                shown, s, t->scale);
            last = k - 1;
        }
        shift = 0;
    }
    if (last < first) last = first;
    unsigned long long digits = (unsigned long long)(last - first);
    if (digits > 0) digits += (unsigned long long)shift;
    if (digits > (unsigned long long)t->precision)
        return why_fail(why, why_cap, "'%.*s' has %llu digits at scale %d, more than precision %d",
                        shown, s, digits, t->scale, t->precision);

    bignum m = {.len = 0};
    for (unsigned long long k = 0; k < digits; k++) {
        unsigned carry = (unsigned)(first + k < last ? DIGIT(first + k) - '0' : 0);
        for (size_t j = 0; j < m.len; j++) {
            unsigned v = m.b[j] * 10u + carry;
            m.b[j] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry) {
            if (m.len == AVRO_DECIMAL_MAX_BYTES)
                return why_fail(why, why_cap,
                                "'%.*s' is too large for a decimal (at most %d bytes)", shown, s,
                                AVRO_DECIMAL_MAX_BYTES);
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
            return why_fail(why, why_cap, "'%.*s' does not fit in fixed %s (%zu bytes)", shown, s,
                            t->fullname, t->size);
        if (buf_reserve(out, t->size)) return SLUICE_ENOMEM;
        uint8_t *p = out->data + out->len;
        memset(p, pad, t->size - w);
        for (size_t j = 0; j < w; j++)
            p[t->size - 1 - j] = m.b[j];
        out->len += t->size;
        return 0;
    }
    if (avro_put_long(out, (int64_t)w) || buf_reserve(out, w)) return SLUICE_ENOMEM;
    uint8_t *p = out->data + out->len;
    for (size_t j = 0; j < w; j++)
        p[w - 1 - j] = m.b[j];
    out->len += w;
    return 0;
}

/* ---- strings -------------------------------------------------------------------------- */

bool avro_is_iso_logical(sluice_avro_logical l)
{
    return l == SLUICE_AVRO_LOGICAL_DATE || l == SLUICE_AVRO_LOGICAL_TIME_MILLIS ||
           l == SLUICE_AVRO_LOGICAL_TIME_MICROS || l == SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS ||
           l == SLUICE_AVRO_LOGICAL_TIMESTAMP_MICROS ||
           l == SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS ||
           l == SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS;
}

const char *avro_iso_form(sluice_avro_logical l)
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

/* Dates are days; times are units after midnight UTC (an offset shifts
 * them, wrapping round the day); timestamps need an offset (or Z) and local
 * timestamps must have none. Digits finer than the unit must be zero. */
const char *avro_iso_to_number(sluice_avro_logical l, const char *s, size_t n, int64_t *out)
{
    iso8601 t;
    const char *why;
    bool millis = l == SLUICE_AVRO_LOGICAL_TIME_MILLIS ||
                  l == SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS ||
                  l == SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS;
    int64_t unit = millis ? 1000 : 1000000, sec;
    switch (l) {
    case SLUICE_AVRO_LOGICAL_DATE:
        if (n != 10) return "bad syntax";
        if ((why = iso8601_parse(s, n, 0, &t))) return why;
        *out = t.days;
        return NULL;
    case SLUICE_AVRO_LOGICAL_TIME_MILLIS:
    case SLUICE_AVRO_LOGICAL_TIME_MICROS:
        if ((why = iso8601_parse_time(s, n, &t))) return why;
        sec = ((t.sec_of_day - t.offset_sec) % 86400 + 86400) % 86400;
        break;
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS:
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MICROS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS: {
        if (n < 11 || s[10] != 'T') return "bad syntax";
        if ((why = iso8601_parse(s, n, 0, &t))) return why;
        bool local = l == SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS ||
                     l == SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS;
        if (local && t.has_zone) return "a local timestamp has no offset";
        if (!local && !t.has_zone) return "offset required (Z or +HH:MM)";
        sec = iso8601_epoch_seconds(&t);
        break;
    }
    default:
        return "not a date or time type";
    }
    int64_t per_unit = 1000000000 / unit;
    if (t.nanos % per_unit) return millis ? "finer than milliseconds" : "finer than microseconds";
    *out = sec * unit + t.nanos / per_unit;
    return NULL;
}

bool avro_is_uuid(const char *s, size_t n)
{
    /* 1: a hex digit; 2: '-'. The dashes sit at 8, 13, 18 and 23. */
    static const unsigned char cls[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
        ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
        ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['-'] = 2};
    if (n != 36) return false;
    const unsigned char *u = (const unsigned char *)s;
    unsigned bad = (cls[u[8]] ^ 2) | (cls[u[13]] ^ 2) | (cls[u[18]] ^ 2) | (cls[u[23]] ^ 2);
    static const unsigned char hex_at[32] = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11,
                                             12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25,
                                             26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
    for (size_t i = 0; i < 32; i++)
        bad |= cls[u[hex_at[i]]] ^ 1;
    return bad == 0;
}

long long avro_code_point_bytes(const char *s, size_t n)
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

void avro_put_code_points(uint8_t *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80)
            *p++ = c;
        else if (c == 0xC2 || c == 0xC3)
            *p++ = (uint8_t)(((c & 0x03) << 6) | ((unsigned char)s[++i] & 0x3F));
    }
}

long avro_find_symbol(const sluice_avro_node *t, const char *s, size_t n)
{
    for (size_t i = 0; i < t->n_symbols; i++) /* s may hold NULs, symbols never do */
        if (strlen(t->symbols[i]) == n && memcmp(t->symbols[i], s, n) == 0) return (long)i;
    return -1;
}

void avro_symbol_list(const sluice_avro_node *t, char *list, size_t cap)
{
    size_t len = 0;
    list[0] = '\0';
    for (size_t i = 0; i < t->n_symbols; i++) {
        int k = snprintf(list + len, cap - len, "%s%s", i ? ", " : "", t->symbols[i]);
        if (k < 0 || (size_t)k >= cap - len) {
            if (cap > 6) strcpy(list + cap - 6, ", ...");
            break;
        }
        len += (size_t)k;
    }
}
