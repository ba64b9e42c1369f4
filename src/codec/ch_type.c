/*
 * ch_type.c — the parser of ClickHouse type names (as system.columns prints
 * them) into ch_type trees, and what a server version can store.
 *
 * A hand-written recursive-descent parser: the grammar is tiny (a name,
 * optionally followed by a parenthesised argument list of types, unsigned
 * integers, quoted strings or `'name' = value` enum items) and the errors
 * must name the byte offset. Whitespace is allowed between any two tokens,
 * as ClickHouse's own parser allows it. Nesting is capped (CH_MAX_DEPTH) so
 * hostile text cannot exhaust the stack.
 *
 * Every node, name and canonical text is allocated in the caller's arena; a
 * parsed tree is immutable and may be read by any thread. The rules on what
 * may nest in what follow ClickHouse's (checked against an 18.16 server in
 * tests/integration/test_ch_rowbinary.c): nothing nests in Nullable but
 * scalars, LowCardinality takes numbers, String, FixedString, Date,
 * DateTime, UUID and Nullable of those, and a Map key is a type represented
 * by an integer or a string.
 *
 * Called by the sink's plan compiler (its own thread) once per column when a
 * table's schema is read; nothing here is on a per-row path.
 */
#include "codec/ch_type.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CH_MAX_DEPTH 32
/* ClickHouse's own limit on FixedString(N) (MAX_FIXEDSTRING_SIZE). */
#define CH_MAX_FIXED_STRING 0xFFFFFF
#define CH_MAX_ENUM_ITEMS 65536

#define CH_SUPPORTED_LIST                                                                          \
    "Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float32, Float64, Bool, String, "   \
    "FixedString(N), Date, DateTime, DateTime64(P), UUID, Enum8, Enum16, Decimal(P, S), "          \
    "Nullable(T), Array(T), Map(K, V), LowCardinality(T)"

typedef struct parser {
    const char *text;
    size_t len;
    size_t pos;
    arena *a;
    sluice_error *err;
    int depth;
} parser;

static int parse_type(parser *p, const ch_type **out);

/* Errors quote the whole text; a long one is cut so the offset stays readable. */
static int fail(parser *p, int code, size_t at, const char *what)
{
    int shown = p->len > 200 ? 200 : (int)p->len;
    return sluice_error_set(p->err, code, "offset %zu: %s in '%.*s%s'", at, what, shown, p->text,
                            p->len > 200 ? "..." : "");
}

static int fail_oom(parser *p)
{
    return sluice_error_set(p->err, SLUICE_ENOMEM, "out of memory parsing ClickHouse type '%.*s'",
                            p->len > 200 ? 200 : (int)p->len, p->text);
}

static void skip_space(parser *p)
{
    while (p->pos < p->len && (p->text[p->pos] == ' ' || p->text[p->pos] == '\t' ||
                               p->text[p->pos] == '\n' || p->text[p->pos] == '\r'))
        p->pos++;
}

static int peek(parser *p)
{
    skip_space(p);
    return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static int expect(parser *p, char c)
{
    if (peek(p) != (unsigned char)c) {
        char what[32];
        snprintf(what, sizeof what, "expected '%c'", c);
        return fail(p, SLUICE_EINVAL, p->pos, what);
    }
    p->pos++;
    return 0;
}

static int is_ident_start(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_ident_char(int c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* An unsigned decimal argument, capped at max (ClickHouse rejects the rest). */
static int parse_uint(parser *p, unsigned long max, const char *what, unsigned long *out)
{
    int c = peek(p);
    if (c < '0' || c > '9') {
        char msg[96];
        snprintf(msg, sizeof msg, "expected %s (an unsigned integer)", what);
        return fail(p, SLUICE_EINVAL, p->pos, msg);
    }
    size_t start = p->pos;
    unsigned long v = 0;
    while (p->pos < p->len && p->text[p->pos] >= '0' && p->text[p->pos] <= '9') {
        unsigned d = (unsigned)(p->text[p->pos] - '0');
        if (v > (max - d) / 10) {
            char msg[96];
            snprintf(msg, sizeof msg, "%s is larger than %lu", what, max);
            return fail(p, SLUICE_EINVAL, start, msg);
        }
        v = v * 10 + d;
        p->pos++;
    }
    *out = v;
    return 0;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A single-quoted literal with ClickHouse's escapes (\\ \' \n \t \r \b \f
 * \a \v \0 \xHH, and '' for a quote), decoded into the arena. Names carry no
 * length, so a decoded NUL byte is refused rather than silently cutting the
 * name short. */
static int parse_quoted(parser *p, const char **out)
{
    if (peek(p) != '\'') return fail(p, SLUICE_EINVAL, p->pos, "expected a quoted string");
    size_t start = p->pos++;
    /* The decoded text is never longer than the quoted one. */
    char *s = arena_alloc(p->a, p->len - start + 1, 1);
    if (!s) return fail_oom(p);
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len) return fail(p, SLUICE_EINVAL, start, "unterminated quoted string");
        char c = p->text[p->pos++];
        if (c == '\'') {
            if (p->pos < p->len && p->text[p->pos] == '\'') {
                s[n++] = '\'';
                p->pos++;
                continue;
            }
            break;
        }
        if (c != '\\') {
            s[n++] = c;
            continue;
        }
        if (p->pos >= p->len) return fail(p, SLUICE_EINVAL, start, "unterminated quoted string");
        size_t esc = p->pos - 1;
        char e = p->text[p->pos++];
        switch (e) {
        case 'n':
            c = '\n';
            break;
        case 't':
            c = '\t';
            break;
        case 'r':
            c = '\r';
            break;
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'a':
            c = '\a';
            break;
        case 'v':
            c = '\v';
            break;
        case '0':
            c = '\0';
            break;
        case 'x': {
            int hi = p->pos < p->len ? hex_value((unsigned char)p->text[p->pos]) : -1;
            int lo = p->pos + 1 < p->len ? hex_value((unsigned char)p->text[p->pos + 1]) : -1;
            if (hi < 0 || lo < 0)
                return fail(p, SLUICE_EINVAL, esc, "bad \\x escape (two hex digits expected)");
            c = (char)(hi * 16 + lo);
            p->pos += 2;
            break;
        }
        default:
            c = e;
            break; /* \\ \' and any other escaped character as itself */
        }
        if (c == '\0')
            return fail(p, SLUICE_EINVAL, esc, "a NUL byte in a quoted string is not supported");
        s[n++] = c;
    }
    s[n] = '\0';
    *out = s;
    return 0;
}

/* Canonical text: printf into the arena (measured first, so exact size). */
static const char *text_printf(parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *text_printf(parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = arena_alloc(p->a, (size_t)n + 1, 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Writes s quoted and escaped the way ClickHouse prints it into dst (when
 * given) and returns the length either way. */
static size_t quote_name(const char *s, char *dst)
{
    size_t n = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (dst) dst[n] = (ch);                                                                    \
        n++;                                                                                       \
    } while (0)
    PUT('\'');
    for (; *s; s++) {
        char e = 0;
        switch (*s) {
        case '\'':
            e = '\'';
            break;
        case '\\':
            e = '\\';
            break;
        case '\n':
            e = 'n';
            break;
        case '\t':
            e = 't';
            break;
        case '\r':
            e = 'r';
            break;
        case '\b':
            e = 'b';
            break;
        case '\f':
            e = 'f';
            break;
        default:
            break;
        }
        if (e) {
            PUT('\\');
            PUT(e);
        } else {
            PUT(*s);
        }
    }
    PUT('\'');
#undef PUT
    return n;
}

static ch_type *new_node(parser *p, ch_kind kind)
{
    ch_type *t = arena_calloc(p->a, 1, sizeof *t, _Alignof(ch_type));
    if (t) t->kind = kind;
    return t;
}

/* The extent of an unsupported type for its message: the name plus a
 * balanced argument list (quotes respected), or to the end of the text. */
static size_t unsupported_end(parser *p, size_t after_name)
{
    size_t i = after_name;
    while (i < p->len && (p->text[i] == ' ' || p->text[i] == '\t'))
        i++;
    if (i >= p->len || p->text[i] != '(') return after_name;
    int level = 0;
    int quoted = 0;
    for (; i < p->len; i++) {
        char c = p->text[i];
        if (quoted) {
            if (c == '\\' && i + 1 < p->len)
                i++;
            else if (c == '\'')
                quoted = 0;
        } else if (c == '\'') {
            quoted = 1;
        } else if (c == '(') {
            level++;
        } else if (c == ')' && --level == 0) {
            return i + 1;
        }
    }
    return p->len;
}

static int fail_unsupported(parser *p, size_t start, size_t end)
{
    return sluice_error_set(p->err, SLUICE_EUNSUPPORTED,
                            "offset %zu: unsupported ClickHouse type '%.*s' (column types sluice "
                            "can write: " CH_SUPPORTED_LIST ")",
                            start, (int)(end - start), p->text + start);
}

static int fail_nesting(parser *p, size_t at, const ch_type *inner, const char *outer)
{
    char msg[320];
    snprintf(msg, sizeof msg, "%.200s cannot be inside %s", inner->text, outer);
    return fail(p, SLUICE_EINVAL, at, msg);
}

/* ---- the type families ------------------------------------------------ */

static const struct {
    const char *name;
    ch_kind kind;
} simple_types[] = {
    {"Int8", CH_INT8},       {"Int16", CH_INT16},     {"Int32", CH_INT32},   {"Int64", CH_INT64},
    {"UInt8", CH_UINT8},     {"UInt16", CH_UINT16},   {"UInt32", CH_UINT32}, {"UInt64", CH_UINT64},
    {"Float32", CH_FLOAT32}, {"Float64", CH_FLOAT64}, {"Bool", CH_BOOL},     {"String", CH_STRING},
    {"Date", CH_DATE},       {"UUID", CH_UUID},
};

static int is_scalar_for_nullable(const ch_type *t)
{
    return t->kind != CH_NULLABLE && t->kind != CH_ARRAY && t->kind != CH_MAP &&
           t->kind != CH_LOW_CARDINALITY;
}

static int can_be_low_cardinality(const ch_type *t)
{
    if (t->kind == CH_NULLABLE) t = t->inner;
    switch (t->kind) {
    case CH_INT8:
    case CH_INT16:
    case CH_INT32:
    case CH_INT64:
    case CH_UINT8:
    case CH_UINT16:
    case CH_UINT32:
    case CH_UINT64:
    case CH_FLOAT32:
    case CH_FLOAT64:
    case CH_BOOL:
    case CH_STRING:
    case CH_FIXED_STRING:
    case CH_DATE:
    case CH_DATETIME:
    case CH_UUID:
        return 1;
    default:
        return 0;
    }
}

static int can_be_map_key(const ch_type *t)
{
    if (t->kind == CH_LOW_CARDINALITY)
        return t->inner->kind == CH_STRING || t->inner->kind == CH_FIXED_STRING;
    switch (t->kind) {
    case CH_INT8:
    case CH_INT16:
    case CH_INT32:
    case CH_INT64:
    case CH_UINT8:
    case CH_UINT16:
    case CH_UINT32:
    case CH_UINT64:
    case CH_BOOL:
    case CH_STRING:
    case CH_FIXED_STRING:
    case CH_DATE:
    case CH_DATETIME:
    case CH_UUID:
    case CH_ENUM8:
    case CH_ENUM16:
        return 1;
    default:
        return 0;
    }
}

/* Nullable(T), Array(T), LowCardinality(T). */
static int parse_wrapper(parser *p, ch_kind kind, const char *name, const ch_type **out)
{
    int rc = expect(p, '(');
    if (rc) return rc;
    skip_space(p);
    size_t inner_at = p->pos;
    const ch_type *inner;
    if ((rc = parse_type(p, &inner)) || (rc = expect(p, ')'))) return rc;
    if (kind == CH_NULLABLE && !is_scalar_for_nullable(inner))
        return fail_nesting(p, inner_at, inner, "Nullable");
    if (kind == CH_LOW_CARDINALITY && !can_be_low_cardinality(inner))
        return fail_nesting(p, inner_at, inner,
                            "LowCardinality (numbers, String, FixedString, Date, DateTime, UUID "
                            "and Nullable of those only)");
    ch_type *t = new_node(p, kind);
    if (!t || !(t->text = text_printf(p, "%s(%s)", name, inner->text))) return fail_oom(p);
    t->inner = inner;
    *out = t;
    return 0;
}

static int parse_map(parser *p, const ch_type **out)
{
    int rc = expect(p, '(');
    if (rc) return rc;
    skip_space(p);
    size_t key_at = p->pos;
    const ch_type *key, *value;
    if ((rc = parse_type(p, &key))) return rc;
    if (!can_be_map_key(key))
        return fail_nesting(p, key_at, key,
                            "a Map key (integers, String, FixedString, Date, "
                            "DateTime, UUID, Enum only)");
    if ((rc = expect(p, ',')) || (rc = parse_type(p, &value)) || (rc = expect(p, ')'))) return rc;
    ch_type *t = new_node(p, CH_MAP);
    if (!t || !(t->text = text_printf(p, "Map(%s, %s)", key->text, value->text)))
        return fail_oom(p);
    t->inner = key;
    t->inner2 = value;
    *out = t;
    return 0;
}

static int parse_fixed_string(parser *p, const ch_type **out)
{
    unsigned long n;
    int rc;
    if ((rc = expect(p, '('))) return rc;
    skip_space(p);
    size_t at = p->pos;
    if ((rc = parse_uint(p, CH_MAX_FIXED_STRING, "FixedString length", &n))) return rc;
    if (n == 0) return fail(p, SLUICE_EINVAL, at, "FixedString length must be positive");
    if ((rc = expect(p, ')'))) return rc;
    ch_type *t = new_node(p, CH_FIXED_STRING);
    if (!t || !(t->text = text_printf(p, "FixedString(%lu)", n))) return fail_oom(p);
    t->fixed_len = n;
    *out = t;
    return 0;
}

/* DateTime, DateTime('tz'), DateTime64(P), DateTime64(P, 'tz'). */
static int parse_datetime(parser *p, int is64, const ch_type **out)
{
    int rc;
    unsigned long precision = 0;
    const char *tz = NULL;
    if (is64 || peek(p) == '(') {
        if ((rc = expect(p, '('))) return rc;
        if (is64) {
            if ((rc = parse_uint(p, 9, "DateTime64 precision", &precision))) return rc;
            if (peek(p) == ',') {
                p->pos++;
                if ((rc = parse_quoted(p, &tz))) return rc;
            }
        } else if ((rc = parse_quoted(p, &tz))) {
            return rc;
        }
        if ((rc = expect(p, ')'))) return rc;
        if (tz && !*tz) return fail(p, SLUICE_EINVAL, p->pos - 1, "empty time zone name");
    }
    ch_type *t = new_node(p, is64 ? CH_DATETIME64 : CH_DATETIME);
    if (!t) return fail_oom(p);
    char qtz[300];
    if (tz && strlen(tz) < 100)
        qtz[quote_name(tz, qtz)] = '\0';
    else if (tz)
        return fail(p, SLUICE_EINVAL, p->pos - 1, "time zone name longer than 100 bytes");
    if (is64)
        t->text = tz ? text_printf(p, "DateTime64(%lu, %s)", precision, qtz)
                     : text_printf(p, "DateTime64(%lu)", precision);
    else
        t->text = tz ? text_printf(p, "DateTime(%s)", qtz) : "DateTime";
    if (!t->text) return fail_oom(p);
    t->precision = (int)precision;
    t->timezone = tz;
    *out = t;
    return 0;
}

/* Decimal(P, S); Decimal32/64/128(S) fix P at 9/18/38. The storage width
 * follows P as in ClickHouse: up to 9 digits Int32, 18 Int64, 38 Int128. */
static int parse_decimal(parser *p, int fixed_precision, const ch_type **out)
{
    int rc;
    unsigned long precision = (unsigned long)fixed_precision, scale;
    if ((rc = expect(p, '('))) return rc;
    skip_space(p);
    size_t at = p->pos;
    if (!fixed_precision) {
        if ((rc = parse_uint(p, 1000, "Decimal precision", &precision))) return rc;
        if (precision == 0 || precision > 76)
            return fail(p, SLUICE_EINVAL, at, "Decimal precision must be 1..76");
        if ((rc = expect(p, ','))) return rc;
        skip_space(p);
    }
    size_t scale_at = p->pos;
    if ((rc = parse_uint(p, 1000, "Decimal scale", &scale))) return rc;
    if (scale > precision) {
        char msg[96];
        snprintf(msg, sizeof msg, "Decimal scale %lu is larger than its precision %lu", scale,
                 precision);
        return fail(p, SLUICE_EINVAL, scale_at, msg);
    }
    if ((rc = expect(p, ')'))) return rc;
    if (precision > 38)
        return sluice_error_set(p->err, SLUICE_EUNSUPPORTED,
                                "offset %zu: unsupported ClickHouse type 'Decimal(%lu, %lu)' "
                                "(Decimal256; sluice writes up to Decimal128, precision 38)",
                                at, precision, scale);
    ch_type *t = new_node(p, precision <= 9    ? CH_DECIMAL32
                             : precision <= 18 ? CH_DECIMAL64
                                               : CH_DECIMAL128);
    if (!t || !(t->text = text_printf(p, "Decimal(%lu, %lu)", precision, scale)))
        return fail_oom(p);
    t->precision = (int)precision;
    t->scale = (int)scale;
    *out = t;
    return 0;
}

/* Enum8('a' = 1, 'b' = -2): names unique, values unique and in range. */
static int parse_enum(parser *p, int bits, const ch_type **out)
{
    int rc;
    if ((rc = expect(p, '('))) return rc;
    long lo = bits == 8 ? INT8_MIN : INT16_MIN, hi = bits == 8 ? INT8_MAX : INT16_MAX;
    /* Items go to a growing arena array; an enum is parsed once. */
    size_t cap = 8, n = 0;
    const char **names = arena_alloc(p->a, cap * sizeof *names, _Alignof(const char *));
    int16_t *values = arena_alloc(p->a, cap * sizeof *values, _Alignof(int16_t));
    if (!names || !values) return fail_oom(p);
    if (peek(p) == ')') return fail(p, SLUICE_EINVAL, p->pos, "an Enum needs at least one value");
    for (;;) {
        size_t item_at = (skip_space(p), p->pos);
        const char *name = NULL;
        if ((rc = parse_quoted(p, &name)) || (rc = expect(p, '='))) return rc;
        int c = peek(p);
        int neg = 0;
        size_t value_at = p->pos;
        if (c == '-' || c == '+') {
            neg = c == '-';
            p->pos++;
        }
        unsigned long mag;
        if ((rc = parse_uint(p, 100000, "Enum value", &mag))) return rc;
        long v = neg ? -(long)mag : (long)mag;
        if (v < lo || v > hi) {
            char msg[160];
            snprintf(msg, sizeof msg, "value %ld of '%.60s' does not fit in Enum%d", v, name, bits);
            return fail(p, SLUICE_EINVAL, value_at, msg);
        }
        for (size_t i = 0; i < n; i++) {
            char msg[200];
            if (strcmp(names[i], name) == 0) {
                snprintf(msg, sizeof msg, "duplicate Enum name '%.60s'", name);
                return fail(p, SLUICE_EINVAL, item_at, msg);
            }
            if (values[i] == v) {
                snprintf(msg, sizeof msg, "duplicate Enum value %ld ('%.60s' and '%.60s')", v,
                         names[i], name);
                return fail(p, SLUICE_EINVAL, value_at, msg);
            }
        }
        if (n == cap) {
            if (cap >= CH_MAX_ENUM_ITEMS)
                return fail(p, SLUICE_EINVAL, item_at, "too many Enum values");
            const char **nn = arena_alloc(p->a, 2 * cap * sizeof *nn, _Alignof(const char *));
            int16_t *nv = arena_alloc(p->a, 2 * cap * sizeof *nv, _Alignof(int16_t));
            if (!nn || !nv) return fail_oom(p);
            memcpy(nn, names, n * sizeof *nn);
            memcpy(nv, values, n * sizeof *nv);
            names = nn;
            values = nv;
            cap *= 2;
        }
        names[n] = name;
        values[n] = (int16_t)v;
        n++;
        c = peek(p);
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == ')') {
            p->pos++;
            break;
        }
        return fail(p, SLUICE_EINVAL, p->pos, "expected ',' or ')'");
    }
    /* Canonical text: Enum8('a' = 1, 'b' = -2), measured then written. */
    size_t len = 7; /* "EnumNN(" minus one digit for Enum8, plus ")" below */
    for (size_t i = 0; i < n; i++)
        len += quote_name(names[i], NULL) + 3 + 6 + 2; /* " = " value ", " */
    char *text = arena_alloc(p->a, len + 2, 1);
    if (!text) return fail_oom(p);
    size_t w = (size_t)sprintf(text, "Enum%d(", bits);
    for (size_t i = 0; i < n; i++) {
        if (i) w += (size_t)sprintf(text + w, ", ");
        w += quote_name(names[i], text + w);
        w += (size_t)sprintf(text + w, " = %d", values[i]);
    }
    text[w++] = ')';
    text[w] = '\0';
    ch_type *t = new_node(p, bits == 8 ? CH_ENUM8 : CH_ENUM16);
    if (!t) return fail_oom(p);
    t->enum_names = names;
    t->enum_values = values;
    t->n_enum = n;
    t->text = text;
    *out = t;
    return 0;
}

static int name_is(const parser *p, size_t start, size_t end, const char *name)
{
    size_t n = strlen(name);
    return end - start == n && memcmp(p->text + start, name, n) == 0;
}

static int parse_type(parser *p, const ch_type **out)
{
    skip_space(p);
    size_t start = p->pos;
    if (++p->depth > CH_MAX_DEPTH)
        return fail(p, SLUICE_EINVAL, start, "type nested deeper than 32 levels");
    if (p->pos >= p->len || !is_ident_start((unsigned char)p->text[p->pos]))
        return fail(p, SLUICE_EINVAL, start, "expected a type name");
    while (p->pos < p->len && is_ident_char((unsigned char)p->text[p->pos]))
        p->pos++;
    size_t end = p->pos;
    int rc;

    for (size_t i = 0; i < sizeof simple_types / sizeof simple_types[0]; i++) {
        if (!name_is(p, start, end, simple_types[i].name)) continue;
        if (peek(p) == '(') {
            char msg[64];
            snprintf(msg, sizeof msg, "%s takes no arguments", simple_types[i].name);
            return fail(p, SLUICE_EINVAL, p->pos, msg);
        }
        ch_type *t = new_node(p, simple_types[i].kind);
        if (!t) return fail_oom(p);
        t->text = simple_types[i].name; /* static storage outlives any arena */
        *out = t;
        rc = 0;
        goto done;
    }
    if (name_is(p, start, end, "Nullable"))
        rc = parse_wrapper(p, CH_NULLABLE, "Nullable", out);
    else if (name_is(p, start, end, "Array"))
        rc = parse_wrapper(p, CH_ARRAY, "Array", out);
    else if (name_is(p, start, end, "LowCardinality"))
        rc = parse_wrapper(p, CH_LOW_CARDINALITY, "LowCardinality", out);
    else if (name_is(p, start, end, "Map"))
        rc = parse_map(p, out);
    else if (name_is(p, start, end, "FixedString"))
        rc = parse_fixed_string(p, out);
    else if (name_is(p, start, end, "DateTime"))
        rc = parse_datetime(p, 0, out);
    else if (name_is(p, start, end, "DateTime64"))
        rc = parse_datetime(p, 1, out);
    else if (name_is(p, start, end, "Decimal"))
        rc = parse_decimal(p, 0, out);
    else if (name_is(p, start, end, "Decimal32"))
        rc = parse_decimal(p, 9, out);
    else if (name_is(p, start, end, "Decimal64"))
        rc = parse_decimal(p, 18, out);
    else if (name_is(p, start, end, "Decimal128"))
        rc = parse_decimal(p, 38, out);
    else if (name_is(p, start, end, "Enum8"))
        rc = parse_enum(p, 8, out);
    else if (name_is(p, start, end, "Enum16"))
        rc = parse_enum(p, 16, out);
    else
        rc = fail_unsupported(p, start, unsupported_end(p, end));
done:
    p->depth--;
    return rc;
}

int ch_type_parse(const char *text, arena *a, const ch_type **out, sluice_error *err)
{
    if (!text || !a || !out)
        return sluice_error_set(err, SLUICE_EINVAL, "ch_type_parse: NULL argument");
    parser p = {.text = text, .len = strlen(text), .a = a, .err = err};
    const ch_type *t;
    int rc = parse_type(&p, &t);
    if (rc) return rc;
    if (peek(&p) != -1) return fail(&p, SLUICE_EINVAL, p.pos, "unexpected text after the type");
    *out = t;
    return 0;
}

/* ---- server versions --------------------------------------------------- */

int ch_server_features(const char *version, ch_features *out, sluice_error *err)
{
    if (!version || !out)
        return sluice_error_set(err, SLUICE_EINVAL, "ch_server_features: NULL argument");
    /* "MAJOR.MINOR[.PATCH[.BUILD]]", as SELECT version() answers (a
     * trailing newline from an HTTP body is tolerated). */
    unsigned long part[4] = {0};
    int n = 0;
    const char *s = version;
    for (;;) {
        if (*s < '0' || *s > '9' || n == 4) goto bad;
        unsigned long v = 0;
        while (*s >= '0' && *s <= '9') {
            if (v > 100000000) goto bad;
            v = v * 10 + (unsigned long)(*s++ - '0');
        }
        part[n++] = v;
        if (*s != '.') break;
        s++;
    }
    while (*s == '\n' || *s == '\r' || *s == ' ')
        s++;
    if (*s || n < 2) goto bad;
    unsigned long major = part[0], minor = part[1];
#define AT_LEAST(M, m) (major > (M) || (major == (M) && minor >= (m)))
    out->datetime64 = AT_LEAST(20, 1);
    out->map = AT_LEAST(21, 1);
    out->bool_type = AT_LEAST(21, 12);
    out->low_cardinality_without_setting = major >= 19;
#undef AT_LEAST
    return 0;
bad:
    return sluice_error_set(err, SLUICE_EINVAL,
                            "'%.64s' is not a ClickHouse version (expected digits like 23.8.2.7)",
                            version);
}
