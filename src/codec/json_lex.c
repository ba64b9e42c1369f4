/*
 * json_lex.c — the cold half of the JSON reader (json_lex.h has the design
 * and the inline hot half): strings with escapes or UTF-8, numbers,
 * literals, containers, duplicate keys, skipping, errors and positions.
 *
 * Strings are validated byte by byte only past the inline fast path (ASCII
 * without escapes). A string with escapes is decoded into the reader's
 * scratch in runs: the bytes between escapes are copied with one memcpy.
 */
#include "codec/json_lex.h"

#include <errno.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Scratch cap: strings and numbers are at most the text's size; the cap
 * only stops a runaway (the text itself is bounded by the caller). */
#define SCRATCH_CAP ((size_t)1 << 32)
/* Arena for keys with escapes: bounded by the text, like the scratch. */
#define KEY_ARENA_CHUNK 4096

void json_lex_init(json_lex *lx, const char *text, size_t len)
{
    lx->base = lx->p = text;
    lx->end = lx->text_end = text + len;
    lx->depth = 0;
    lx->err = 0;
    lx->err_at = 0;
    lx->err_msg[0] = '\0';
    buf_init(&lx->scratch, SCRATCH_CAP);
    memset(&lx->keys, 0, sizeof lx->keys);
    arena_init(&lx->keys.copies, KEY_ARENA_CHUNK, SIZE_MAX);
}

void json_lex_free(json_lex *lx)
{
    buf_free(&lx->scratch);
    free(lx->keys.slots);
    arena_free(&lx->keys.copies);
    memset(&lx->keys, 0, sizeof lx->keys);
}

void json_lex_range(json_lex *lx, size_t from, size_t to)
{
    lx->p = lx->base + from;
    lx->end = lx->base + to;
    lx->depth = 0;
}

void json_lex_reset_keys(json_lex *lx)
{
    json_lex_keyset *k = &lx->keys;
    if (k->n == 0) return;
    /* A table grown for one big value (over 2048 keys, ~100 KiB) is given
     * back rather than cleared for every small value after it. */
    if (k->cap > 4096) {
        free(k->slots);
        k->slots = NULL;
        k->cap = 0;
    } else {
        memset(k->slots, 0, k->cap * sizeof *k->slots);
    }
    k->n = 0;
    k->serial = 0;
    arena_free(&k->copies);
    arena_init(&k->copies, KEY_ARENA_CHUNK, SIZE_MAX);
}

int json_lex_fail(json_lex *lx, size_t at, const char *fmt, ...)
{
    if (lx->err) return -1;
    lx->err = -1;
    lx->err_at = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err_msg, sizeof lx->err_msg, fmt, ap);
    va_end(ap);
    lx->p = lx->end; /* every later read fails at once */
    return -1;
}

void json_lex_where(const json_lex *lx, size_t at, size_t *line, size_t *column)
{
    size_t l = 1, last_nl = 0;
    size_t n = (size_t)(lx->text_end - lx->base);
    if (at > n) at = n;
    for (const char *q = lx->base, *stop = lx->base + at; q < stop;) {
        const char *nl = memchr(q, '\n', (size_t)(stop - q));
        if (!nl) break;
        l++;
        last_nl = (size_t)(nl - lx->base) + 1;
        q = nl + 1;
    }
    *line = l;
    *column = at - last_nl + 1;
}

/* What the byte at the reader's position is, for "expected X, found Y". */
static const char *found(const json_lex *lx)
{
    if (lx->p >= lx->end) return "the end of the input";
    static _Thread_local char one[4][24];
    static _Thread_local int k;
    char *s = one[k++ & 3];
    unsigned char c = (unsigned char)*lx->p;
    if (c >= 0x20 && c < 0x7f)
        snprintf(s, sizeof one[0], "'%c'", c);
    else
        snprintf(s, sizeof one[0], "byte 0x%02x", c);
    return s;
}

#define V(k) [k] = JSON_V_NUMBER
const unsigned char json_lex_first[256] = {
    ['{'] = JSON_V_OBJECT,
    ['['] = JSON_V_ARRAY,
    ['"'] = JSON_V_STRING,
    ['-'] = JSON_V_NUMBER,
    V('0'),
    V('1'),
    V('2'),
    V('3'),
    V('4'),
    V('5'),
    V('6'),
    V('7'),
    V('8'),
    V('9'),
    ['t'] = JSON_V_TRUE,
    ['f'] = JSON_V_FALSE,
    ['n'] = JSON_V_NULL,
};
#undef V

const char *json_kind_phrase(json_vkind k)
{
    switch (k) {
    case JSON_V_OBJECT:
        return "an object";
    case JSON_V_ARRAY:
        return "an array";
    case JSON_V_STRING:
        return "a string";
    case JSON_V_NUMBER:
        return "a number";
    case JSON_V_TRUE:
    case JSON_V_FALSE:
        return "a boolean";
    case JSON_V_NULL:
        return "null";
    default:
        return "nothing";
    }
}

/* ---- strings -------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at q (lead byte >= 0x80), or 0. The
 * table of RFC 3629, section 4: no overlong forms, no surrogates, nothing
 * past U+10FFFF. */
static size_t utf8_sequence(const unsigned char *q, const unsigned char *end)
{
    unsigned char c = q[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if ((size_t)(end - q) < n) return 0;
    if (q[1] < lo || q[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (q[i] < 0x80 || q[i] > 0xBF) return 0;
    return n;
}

static int hex4(const unsigned char *q, const unsigned char *end, unsigned *out)
{
    if (end - q < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = q[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One escape at q (q[0] == '\\') appended to the scratch; the bytes it
 * took, or 0 after recording an error. */
static size_t unescape(json_lex *lx, const unsigned char *q, const unsigned char *end)
{
    size_t at = (size_t)((const char *)q - lx->base);
    if (end - q < 2) return json_lex_fail(lx, at, "unterminated string"), 0;
    char c = (char)q[1], o[4];
    size_t used = 2, n = 1;
    switch (c) {
    case '"':
    case '\\':
    case '/':
        o[0] = c;
        break;
    case 'b':
        o[0] = '\b';
        break;
    case 'f':
        o[0] = '\f';
        break;
    case 'n':
        o[0] = '\n';
        break;
    case 'r':
        o[0] = '\r';
        break;
    case 't':
        o[0] = '\t';
        break;
    case 'u': {
        unsigned cp;
        if (hex4(q + 2, end, &cp)) return json_lex_fail(lx, at, "invalid \\u escape"), 0;
        used = 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return json_lex_fail(lx, at, "lone low surrogate \\u%04X", cp), 0;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (end - q < 12 || q[6] != '\\' || q[7] != 'u' || hex4(q + 8, end, &lo) ||
                lo < 0xDC00 || lo > 0xDFFF)
                return json_lex_fail(lx, at, "high surrogate \\u%04X without its low half", cp), 0;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            used = 12;
        }
        n = put_utf8(cp, o);
        break;
    }
    default:
        if (q[1] >= 0x20 && q[1] < 0x7f) return json_lex_fail(lx, at, "invalid escape \\%c", c), 0;
        return json_lex_fail(lx, at, "invalid escape"), 0;
    }
    if (buf_append(&lx->scratch, o, n)) return json_lex_fail(lx, at, "out of memory"), 0;
    return used;
}

/* 1 for the bytes a string may hold as they are (ASCII, not a control
 * character, not '"' or '\\'). */
static const unsigned char plain_byte[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0), /* 0x00-0x1f */
    1,      1,      0,      1,      1,      1,      1,      1,
    1,      1,      1,      1,      1,      1,      1,      1, /* 0x20-0x2f: '"' */
    R16(1), R16(1),                                            /* 0x30-0x4f */
    1,      1,      1,      1,      1,      1,      1,      1,
    1,      1,      1,      1,      0,      1,      1,      1, /* 0x50-0x5f: '\\' */
    R16(1), R16(1),                                            /* 0x60-0x7f */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
#undef R16
};

/* The first byte at or after q that ends a run of plain string bytes ('"',
 * '\\', a control character, a non-ASCII byte), or end. */
static inline const unsigned char *scan_plain(const unsigned char *q, const unsigned char *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        /* Signed compare: bytes >= 0x80 are negative, so "< 0x20" also
         * catches every non-ASCII byte. */
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask) return q + __builtin_ctz(mask);
        q += 16;
    }
#endif
    while (q < end && plain_byte[*q])
        q++;
    return q;
}

int json_lex_string(json_lex *lx, json_str *out)
{
    if (lx->err) return -1;
    if (json_lex_ws(lx) != '"')
        return json_lex_fail(lx, json_lex_offset(lx), "expected a string, found %s", found(lx));
    size_t open = json_lex_offset(lx);
    const unsigned char *start = (const unsigned char *)lx->p + 1, *q = start;
    const unsigned char *end = (const unsigned char *)lx->end;
    const unsigned char *run = start; /* first byte not yet copied (escaped strings) */
    bool escaped = false;
    for (;;) {
        q = scan_plain(q, end);
        if (q >= end) return json_lex_fail(lx, open, "unterminated string");
        unsigned char c = *q;
        if (c == '"') break;
        if (c == '\\') {
            if (!escaped) {
                escaped = true;
                buf_reset(&lx->scratch);
            }
            if (buf_append(&lx->scratch, run, (size_t)(q - run)))
                return json_lex_fail(lx, open, "out of memory");
            size_t used = unescape(lx, q, end);
            if (!used) return -1;
            q += used;
            run = q;
            continue;
        }
        if (c < 0x20)
            return json_lex_fail(lx, (size_t)((const char *)q - lx->base),
                                 "control character 0x%02x in a string (it must be escaped)", c);
        size_t n = utf8_sequence(q, end);
        if (!n)
            return json_lex_fail(lx, (size_t)((const char *)q - lx->base),
                                 "invalid UTF-8 in a string");
        q += n;
    }
    out->at = open;
    if (escaped) {
        if (buf_append(&lx->scratch, run, (size_t)(q - run)))
            return json_lex_fail(lx, open, "out of memory");
        out->s = (const char *)lx->scratch.data;
        out->len = lx->scratch.len;
    } else {
        out->s = (const char *)start;
        out->len = (size_t)(q - start);
    }
    lx->p = (const char *)q + 1;
    return 0;
}

/* ---- numbers and literals ---------------------------------------------------------- */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

int json_lex_number(json_lex *lx, json_num *out)
{
    if (lx->err) return -1;
    int c0 = json_lex_ws(lx);
    size_t at = json_lex_offset(lx);
    const unsigned char *q = (const unsigned char *)lx->p, *end = (const unsigned char *)lx->end;
    const unsigned char *start = q;
    bool neg = false;
    if (c0 == '-') {
        neg = true;
        q++;
    }
    if (q >= end || !is_digit(*q))
        return json_lex_fail(lx, at, "expected a number, found %s", found(lx));
    /* Integer digits accumulate as a magnitude; past int64 it is only
     * remembered that they did not fit. */
    uint64_t mag = 0;
    bool fits = true;
    if (*q == '0') {
        q++;
        if (q < end && is_digit(*q))
            return json_lex_fail(lx, at, "a number may not start with 0 followed by digits");
    } else {
        while (q < end && is_digit(*q)) {
            unsigned d = (unsigned)(*q - '0');
            if (mag > (UINT64_MAX - d) / 10)
                fits = false;
            else
                mag = mag * 10 + d;
            q++;
        }
    }
    bool is_int = true;
    if (q < end && *q == '.') {
        q++;
        if (q >= end || !is_digit(*q))
            return json_lex_fail(lx, (size_t)((const char *)q - lx->base),
                                 "a digit must follow the decimal point");
        while (q < end && is_digit(*q))
            q++;
        is_int = false;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-')) q++;
        if (q >= end || !is_digit(*q))
            return json_lex_fail(lx, (size_t)((const char *)q - lx->base),
                                 "a digit must follow the exponent");
        while (q < end && is_digit(*q))
            q++;
        is_int = false;
    }
    out->text = (const char *)start;
    out->len = (size_t)(q - start);
    out->at = at;
    out->is_int = is_int;
    out->int_ok = false;
    out->i = 0;
    if (is_int && fits) {
        if (!neg && mag <= (uint64_t)INT64_MAX) {
            out->i = (int64_t)mag;
            out->int_ok = true;
        } else if (neg && mag <= (uint64_t)INT64_MAX + 1) {
            out->i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
            out->int_ok = true;
        }
    }
    lx->p = (const char *)q;
    return 0;
}

/* Clinger's fast path: at most 15 significant digits (exact in a double)
 * and a power of ten that is exact too (10^22 is the last): one IEEE
 * multiplication or division rounds correctly. false if it does not apply. */
static bool fast_double(const json_num *n, double *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *s = n->text, *end = n->text + n->len;
    bool neg = *s == '-';
    if (neg) s++;
    uint64_t m = 0;
    int sig = 0, frac = 0;
    bool in_frac = false;
    for (; s < end && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.') {
            in_frac = true;
            continue;
        }
        if (m || *s != '0') sig++;
        if (sig > 15) return false;
        m = m * 10 + (uint64_t)(*s - '0');
        frac += in_frac;
    }
    int exp = 0;
    if (s < end) {
        s++;
        bool eneg = *s == '-';
        if (*s == '+' || *s == '-') s++;
        for (; s < end; s++) {
            exp = exp * 10 + (*s - '0');
            if (exp > 1000) return false;
        }
        if (eneg) exp = -exp;
    }
    exp -= frac;
    if (exp < -22 || exp > 22) return false;
    double d = (double)m;
    d = exp < 0 ? d / pow10[-exp] : d * pow10[exp];
    *out = neg ? -d : d;
    return true;
}

int json_num_double(json_lex *lx, const json_num *n, double *out)
{
    if (fast_double(n, out)) return 0;
    /* strtod needs a terminated string; the text may end at the number. */
    char small[64];
    char *s = small;
    if (n->len >= sizeof small) {
        buf_reset(&lx->scratch);
        if (buf_append(&lx->scratch, n->text, n->len) || buf_append_byte(&lx->scratch, 0)) {
            *out = 0;
            return -1;
        }
        s = (char *)lx->scratch.data;
    } else {
        memcpy(small, n->text, n->len);
        small[n->len] = '\0';
    }
    errno = 0;
    double d = strtod(s, NULL);
    *out = d;
    if (errno == ERANGE && isinf(d)) return -1;
    return 0;
}

json_vkind json_lex_literal(json_lex *lx)
{
    if (lx->err) return JSON_V_NONE;
    int c = json_lex_ws(lx);
    size_t left = (size_t)(lx->end - lx->p);
    if (c == 't' && left >= 4 && memcmp(lx->p, "true", 4) == 0) {
        lx->p += 4;
        return JSON_V_TRUE;
    }
    if (c == 'f' && left >= 5 && memcmp(lx->p, "false", 5) == 0) {
        lx->p += 5;
        return JSON_V_FALSE;
    }
    if (c == 'n' && left >= 4 && memcmp(lx->p, "null", 4) == 0) {
        lx->p += 4;
        return JSON_V_NULL;
    }
    json_lex_fail(lx, json_lex_offset(lx), "expected a value, found %s", found(lx));
    return JSON_V_NONE;
}

/* ---- containers ---------------------------------------------------------------------- */

static int enter(json_lex *lx)
{
    if (lx->depth >= JSON_LEX_MAX_DEPTH)
        return json_lex_fail(lx, json_lex_offset(lx), "nested deeper than %d levels",
                             JSON_LEX_MAX_DEPTH);
    lx->depth++;
    lx->p++;
    return 0;
}

int json_lex_open_object(json_lex *lx, json_lex_dups *d)
{
    if (lx->err) return -1;
    if (json_lex_ws(lx) != '{')
        return json_lex_fail(lx, json_lex_offset(lx), "expected an object, found %s", found(lx));
    if (enter(lx)) return -1;
    if (d) {
        d->serial = ++lx->keys.serial;
        d->n = 0;
    }
    return 0;
}

int json_lex_next_key(json_lex *lx, size_t *count, json_str *key)
{
    if (lx->err) return -1;
    int c = json_lex_ws(lx);
    if (c == '}' && *count == 0) {
        lx->p++;
        lx->depth--;
        return 0;
    }
    if (*count > 0) {
        if (c == '}') {
            lx->p++;
            lx->depth--;
            return 0;
        }
        if (c != ',')
            return json_lex_fail(lx, json_lex_offset(lx),
                                 "expected ',' or '}' in an object, found %s", found(lx));
        lx->p++;
        c = json_lex_ws(lx);
    }
    if (c != '"')
        return json_lex_fail(lx, json_lex_offset(lx), "expected a key (a string), found %s",
                             found(lx));
    if (json_lex_string(lx, key)) return -1;
    if (json_lex_ws(lx) != ':')
        return json_lex_fail(lx, json_lex_offset(lx), "expected ':' after a key, found %s",
                             found(lx));
    lx->p++;
    (*count)++;
    return 1;
}

int json_lex_open_array(json_lex *lx)
{
    if (lx->err) return -1;
    if (json_lex_ws(lx) != '[')
        return json_lex_fail(lx, json_lex_offset(lx), "expected an array, found %s", found(lx));
    return enter(lx);
}

int json_lex_next_item(json_lex *lx, size_t *count)
{
    if (lx->err) return -1;
    int c = json_lex_ws(lx);
    if (c == ']') {
        lx->p++;
        lx->depth--;
        return 0;
    }
    if (*count > 0) {
        if (c != ',')
            return json_lex_fail(lx, json_lex_offset(lx),
                                 "expected ',' or ']' in an array, found %s", found(lx));
        lx->p++;
        if (json_lex_peek(lx) == JSON_V_NONE)
            return json_lex_fail(lx, json_lex_offset(lx), "expected a value, found %s", found(lx));
    }
    (*count)++;
    return 1;
}

/* ---- duplicate keys ------------------------------------------------------------------- */

static uint32_t key_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h ? h : 1;
}

static int keyset_grow(json_lex_keyset *k)
{
    size_t ncap = k->cap ? k->cap * 2 : 64;
    json_key_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < k->cap; i++) {
        json_key_slot *s = &k->slots[i];
        if (!s->owner) continue;
        size_t j = (s->hash ^ s->owner * 2654435761u) & (ncap - 1);
        while (ns[j].owner)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(k->slots);
    k->slots = ns;
    k->cap = ncap;
    return 0;
}

/* The key table: 1 new (remembered), 0 duplicate (error recorded), -1. */
static int table_unique(json_lex *lx, uint32_t serial, const char *s, size_t len, size_t at,
                        const char **stable)
{
    json_lex_keyset *k = &lx->keys;
    if (len > UINT32_MAX) return json_lex_fail(lx, at, "key too long");
    if ((k->n + 1) * 2 > k->cap && keyset_grow(k)) return json_lex_fail(lx, at, "out of memory");
    uint32_t h = key_hash(s, len);
    size_t j = (h ^ serial * 2654435761u) & (k->cap - 1);
    for (; k->slots[j].owner; j = (j + 1) & (k->cap - 1)) {
        json_key_slot *slot = &k->slots[j];
        if (slot->owner == serial && slot->hash == h && slot->len == len &&
            memcmp(slot->key, s, len) == 0) {
            json_lex_fail(lx, at, "duplicate key \"%.*s\" in an object", (int)(len > 64 ? 64 : len),
                          s);
            return 0;
        }
    }
    const char *stored = s;
    if (stored < lx->base || stored >= lx->text_end) { /* in the scratch: keep a copy */
        stored = arena_strndup(&k->copies, s, len);
        if (!stored) return json_lex_fail(lx, at, "out of memory");
    }
    k->slots[j] = (json_key_slot){stored, (uint32_t)len, h, serial};
    k->n++;
    if (stable) *stable = stored;
    return 1;
}

int json_lex_key_unique(json_lex *lx, json_lex_dups *d, const json_str *key, const char **stable)
{
    /* A key with no escapes is a span of the text, which outlives the walk;
     * one decoded into the scratch is not, so it goes to the table. */
    bool in_text = key->s >= lx->base && key->s + key->len <= lx->text_end && key->len > 0;
    if (d->n >= 0 && d->n < JSON_LEX_DUPS_SMALL && (in_text || key->len == 0)) {
        for (int i = 0; i < d->n; i++)
            if (d->len[i] == key->len && memcmp(d->key[i], key->s, key->len) == 0) {
                json_lex_fail(lx, key->at, "duplicate key \"%.*s\" in an object",
                              (int)(key->len > 64 ? 64 : key->len), key->s);
                return 0;
            }
        d->key[d->n] = key->len ? key->s : "";
        d->len[d->n++] = (uint32_t)key->len;
        if (stable) *stable = d->key[d->n - 1];
        return 1;
    }
    if (d->n > 0) /* move the small set to the table */
        for (int i = 0; i < d->n; i++)
            if (table_unique(lx, d->serial, d->key[i], d->len[i], key->at, NULL) != 1) return -1;
    d->n = -1;
    return table_unique(lx, d->serial, key->s, key->len, key->at, stable);
}

/* ---- skipping ---------------------------------------------------------------------------- */

int json_lex_skip(json_lex *lx)
{
    json_str s;
    json_num n;
    size_t count = 0;
    int r;
    switch (json_lex_peek(lx)) {
    case JSON_V_OBJECT: {
        json_lex_dups d;
        if (json_lex_open_object(lx, &d)) return -1;
        while ((r = json_lex_next_key(lx, &count, &s)) == 1)
            if (json_lex_key_unique(lx, &d, &s, NULL) != 1 || json_lex_skip(lx)) return -1;
        return r;
    }
    case JSON_V_ARRAY:
        if (json_lex_open_array(lx)) return -1;
        while ((r = json_lex_next_item(lx, &count)) == 1)
            if (json_lex_skip(lx)) return -1;
        return r;
    case JSON_V_STRING:
        return json_lex_string(lx, &s);
    case JSON_V_NUMBER:
        return json_lex_number(lx, &n);
    case JSON_V_TRUE:
    case JSON_V_FALSE:
    case JSON_V_NULL:
        return json_lex_literal(lx) == JSON_V_NONE ? -1 : 0;
    default:
        if (lx->err) return -1;
        return json_lex_fail(lx, json_lex_offset(lx), "expected a value, found %s", found(lx));
    }
}

int json_lex_end(json_lex *lx)
{
    if (lx->err) return -1;
    if (json_lex_ws(lx) >= 0)
        return json_lex_fail(lx, json_lex_offset(lx), "unexpected %s after the value", found(lx));
    return 0;
}
