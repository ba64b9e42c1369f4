/*
 * expr.c — the transform expression language (see expr.h and
 * docs/TRANSFORMS.md): a tokenizer, a recursive-descent parser that builds
 * an immutable tree in the caller's arena, and a tree-walking evaluator.
 *
 * Compile. The text is read once, left to right, with one token of
 * lookahead. Precedence, loosest first: OR, AND, NOT, comparison (=, <,
 * IS NULL, IN; they do not chain), + -, * / %, unary minus, primaries.
 * AND and OR chains become one n-ary node, so a long chain of conditions is
 * flat. Field names are resolved to slots here, string literals that read
 * as ISO-8601 times are parsed here, so evaluation never looks at a name or
 * re-parses a literal. Two bounds keep hostile config harmless: the text is
 * at most EXPR_MAX_LEN bytes, and both the parser's recursion and the
 * height of the finished tree are at most EXPR_MAX_DEPTH, which is also
 * what bounds the evaluator's recursion. On a compile error the nodes made
 * so far stay in the arena; they go when the caller frees it.
 *
 * Evaluate. eval() walks the tree; nothing allocates. Strings that an
 * expression makes (upper, lower, concat, cast to String) are appended to
 * ctx->scratch, whose storage may move when it grows. The discipline that
 * keeps every pointer valid:
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
 * threads may have small stacks); the parser's levels are larger (about
 * 2 KiB unoptimised) but it runs once, when the configuration is loaded.
 *
 * Threads: a compiled tree is read-only and may be evaluated by any number
 * of threads at once, each with its own expr_ctx (and scratch buffer).
 * Compiling writes only into the caller's arena.
 */
#include "codec/expr.h"

#include "codec/iso8601.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    EXPR_MAX_LEN = 4096, /* bytes of expression text */
    EXPR_MAX_DEPTH = 64, /* parser recursion and tree height */
    SHOWN_MAX = 40,      /* bytes of a name or value quoted in a message */
    TEXT_TMP = 256,      /* a scalar's text: numbers, times, Decimal256 */
    DECIMAL_MAX_BYTES = 32,
};

/* ------------------------------------------------------------------ */
/* The tree                                                            */

typedef enum node_op {
    OP_LITERAL,
    OP_FIELD,
    OP_NEG,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_CMP,
    OP_AND,
    OP_OR,
    OP_NOT,
    OP_IS_NULL,
    OP_IS_NOT_NULL,
    OP_IN,
    OP_NOT_IN,
    OP_COALESCE,
    OP_UPPER,
    OP_LOWER,
    OP_CONCAT,
    OP_LENGTH,
    OP_ABS,
    OP_IF,
    OP_CAST,
    OP_NOW,
    OP_INDEX,
} node_op;

typedef enum cmp_op { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE } cmp_op;

typedef enum cast_type {
    CAST_INT64,
    CAST_INT32,
    CAST_UINT64,
    CAST_FLOAT64,
    CAST_STRING,
    CAST_BOOL,
} cast_type;

/* A point in time (or a time of day) as whole seconds and nanoseconds
 * (0..999999999): every unit and every ISO literal converts to it exactly. */
typedef struct tpoint {
    int64_t sec;
    int32_t nsec;
} tpoint;

struct expr {
    node_op op;
    int sub;    /* cmp_op of OP_CMP, cast_type of OP_CAST */
    int offset; /* where the node is in the text (a binary node: its operator) */
    int height; /* 1 for a leaf */
    int slot;   /* OP_FIELD, OP_INDEX */
    /* Operands. Binary nodes: a, b. OP_IN: a is the value, b the first
     * item. Functions, AND, OR: a is the first argument. Lists continue
     * through `next`. */
    const expr *a, *b;
    const expr *next;
    cvalue lit;       /* OP_LITERAL */
    bool lit_is_time; /* a string literal that reads as an ISO-8601 time */
    tpoint lit_time;
    const char *name; /* a function's name, for messages */
};

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

/* s quoted for a message: printable ASCII as is, other bytes as \xNN,
 * at most SHOWN_MAX bytes of input and then "...". */
static const char *show(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    dst[o++] = '\'';
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        if (i == SHOWN_MAX) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f) {
            dst[o++] = (char)ch;
        } else {
            snprintf(dst + o, cap - o, "\\x%02x", ch);
            o += 4;
        }
    }
    dst[o++] = '\'';
    dst[o] = '\0';
    return dst;
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

/* YYYY-MM-DD, then optionally (T|t|space)HH:MM[:SS[(.|,)1-9 digits]] and
 * an offset Z, ±HH, ±HHMM or ±HH:MM (none means UTC): iso8601.h's lenient
 * form. A fraction finer than a nanosecond is refused, since it could not
 * compare exactly. */
static int parse_iso_time(const char *s, size_t n, tpoint *out)
{
    iso8601 t;
    if (iso8601_parse(s, n, ISO8601_LENIENT, &t)) return -1;
    out->sec = iso8601_epoch_seconds(&t);
    out->nsec = t.nanos;
    return 0;
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
/* Tokens                                                              */

typedef enum tok_kind {
    T_END,
    T_INT,
    T_FLOAT,
    T_STRING,
    T_IDENT,  /* a bare (possibly dotted) name: a field or a function */
    T_QIDENT, /* a `backquoted` name: always a field */
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_PERCENT,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NOT,
    T_IS,
    T_NULL,
    T_IN,
    T_TRUE,
    T_FALSE,
    T_AS,
} tok_kind;

typedef struct token {
    tok_kind kind;
    size_t start, len; /* the token's bytes in the text */
    uint64_t u;        /* T_INT: magnitude, at most 2^63 (which only -N may use) */
    double d;          /* T_FLOAT */
    const char *str;   /* T_STRING, T_QIDENT: decoded, NUL-terminated, in the arena */
    size_t str_len;
} token;

typedef struct parser {
    const char *text;
    size_t len, pos; /* pos: where the token after `tok` starts */
    token tok;
    const expr_resolver *r;
    arena *a;
    sluice_error *err;
    int depth;
} parser;

static int perr(parser *p, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(parser *p, size_t offset, const char *fmt, ...)
{
    if (!p->err) return SLUICE_EINVAL;
    char msg[SLUICE_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sluice_error_set(p->err, SLUICE_EINVAL, "offset %zu: %s", offset, msg);
}

static int oom(parser *p)
{
    return sluice_error_set(p->err, SLUICE_ENOMEM,
                            "offset %zu: out of memory compiling the expression", p->tok.start);
}

/* What the current token is, for "found X". */
static const char *describe(const parser *p, char *dst, size_t cap)
{
    if (p->tok.kind == T_END) {
        snprintf(dst, cap, "the end of the expression");
        return dst;
    }
    return show(dst, cap, p->text + p->tok.start, p->tok.len);
}

static bool is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool ascii_ieq(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n && word[i]; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        char w = word[i];
        if (w >= 'A' && w <= 'Z') w = (char)(w - 'A' + 'a');
        if (c != w) return false;
    }
    return i == n && word[i] == '\0';
}

static const struct {
    const char *word;
    tok_kind kind;
} KEYWORDS[] = {
    {"and", T_AND}, {"or", T_OR},     {"not", T_NOT},     {"is", T_IS}, {"null", T_NULL},
    {"in", T_IN},   {"true", T_TRUE}, {"false", T_FALSE}, {"as", T_AS},
};

static int lex_number(parser *p, token *t)
{
    const char *s = p->text;
    size_t i = t->start;
    bool is_float = false;
    while (is_digit(s[i]))
        i++;
    if (s[i] == '.' && is_digit(s[i + 1])) {
        is_float = true;
        i++;
        while (is_digit(s[i]))
            i++;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-') j++;
        if (is_digit(s[j])) {
            is_float = true;
            i = j;
            while (is_digit(s[i]))
                i++;
        }
    }
    if (is_ident_char(s[i]) || s[i] == '.') {
        size_t end = i;
        while (is_ident_char(s[end]) || s[end] == '.')
            end++;
        char shown[SHOWN_MAX * 4 + 16];
        return perr(p, t->start, "malformed number %s",
                    show(shown, sizeof shown, s + t->start, end - t->start));
    }
    t->len = i - t->start;
    if (is_float) {
        /* The syntax was checked above, so strtod stops exactly at i; the
         * process runs in the C locale (sluice never calls setlocale). */
        char *end = NULL;
        errno = 0;
        t->d = strtod(s + t->start, &end);
        if (end != s + i || isinf(t->d)) {
            char shown[SHOWN_MAX * 4 + 16];
            return perr(p, t->start, "number %s is out of range for Float64",
                        show(shown, sizeof shown, s + t->start, t->len));
        }
        t->kind = T_FLOAT;
        return 0;
    }
    uint64_t u = 0;
    for (size_t k = t->start; k < i; k++) {
        unsigned digit = (unsigned)(s[k] - '0');
        if (u > (UINT64_C(1) << 63) / 10 || __builtin_add_overflow(u * 10, (uint64_t)digit, &u) ||
            u > (UINT64_C(1) << 63)) {
            char shown[SHOWN_MAX * 4 + 16];
            return perr(p, t->start, "integer %s is out of range for Int64",
                        show(shown, sizeof shown, s + t->start, t->len));
        }
    }
    t->u = u;
    t->kind = T_INT;
    return 0;
}

/* 'text': '' is a quote; \\ \' \n \t are escapes. Decoded into the arena
 * with its exact length (measured in a first pass). */
static int lex_string(parser *p, token *t)
{
    const char *s = p->text;
    size_t i = t->start + 1, n = 0;
    for (;;) {
        if (i >= p->len) return perr(p, t->start, "unterminated string literal");
        if (s[i] == '\'') {
            if (s[i + 1] != '\'') break;
            i += 2;
        } else if (s[i] == '\\') {
            char e = s[i + 1];
            if (e != '\\' && e != '\'' && e != 'n' && e != 't') {
                if (i + 1 >= p->len) return perr(p, t->start, "unterminated string literal");
                char shown[16];
                return perr(p, i, "unknown escape %s in a string literal (known: \\\\ \\' \\n \\t)",
                            show(shown, sizeof shown, s + i, 2));
            }
            i += 2;
        } else {
            i++;
        }
        n++;
    }
    t->len = i + 1 - t->start;
    char *out = arena_alloc(p->a, n + 1, 1);
    if (!out) return oom(p);
    size_t o = 0;
    for (size_t k = t->start + 1; k < i;) {
        if (s[k] == '\'') {
            out[o++] = '\'';
            k += 2;
        } else if (s[k] == '\\') {
            char e = s[k + 1];
            out[o++] = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            k += 2;
        } else {
            out[o++] = s[k++];
        }
    }
    out[o] = '\0';
    t->str = out;
    t->str_len = o;
    t->kind = T_STRING;
    return 0;
}

/* `any name`, with `` for a backquote. */
static int lex_quoted_name(parser *p, token *t)
{
    const char *s = p->text;
    size_t i = t->start + 1, n = 0;
    for (;;) {
        if (i >= p->len) return perr(p, t->start, "unterminated `quoted name`");
        if (s[i] == '`') {
            if (s[i + 1] != '`') break;
            i += 2;
        } else {
            i++;
        }
        n++;
    }
    if (n == 0) return perr(p, t->start, "empty `` name");
    t->len = i + 1 - t->start;
    char *out = arena_alloc(p->a, n + 1, 1);
    if (!out) return oom(p);
    size_t o = 0;
    for (size_t k = t->start + 1; k < i; k++) {
        out[o++] = s[k];
        if (s[k] == '`') k++;
    }
    out[o] = '\0';
    t->str = out;
    t->str_len = o;
    t->kind = T_QIDENT;
    return 0;
}

/* [A-Za-z_][A-Za-z0-9_]* joined by '.'; a single segment may be a keyword. */
static int lex_name(parser *p, token *t)
{
    const char *s = p->text;
    size_t i = t->start;
    bool dotted = false;
    for (;;) {
        while (is_ident_char(s[i]))
            i++;
        if (s[i] != '.') break;
        if (!is_ident_start(s[i + 1])) {
            char shown[SHOWN_MAX * 4 + 16];
            return perr(p, i + 1, "expected a name after '.' in %s",
                        show(shown, sizeof shown, s + t->start, i + 1 - t->start));
        }
        dotted = true;
        i++;
    }
    t->len = i - t->start;
    t->kind = T_IDENT;
    if (!dotted) {
        for (size_t k = 0; k < sizeof KEYWORDS / sizeof KEYWORDS[0]; k++) {
            if (ascii_ieq(s + t->start, t->len, KEYWORDS[k].word)) {
                t->kind = KEYWORDS[k].kind;
                break;
            }
        }
    }
    return 0;
}

/* Read the token at p->pos into p->tok. */
static int lex(parser *p)
{
    const char *s = p->text;
    size_t i = p->pos;
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
        i++;
    token t = {.kind = T_END, .start = i, .len = 1};
    char c = s[i];
    int rc = 0;
    if (c == '\0') {
        t.len = 0;
    } else if (is_digit(c)) {
        rc = lex_number(p, &t);
    } else if (c == '\'') {
        rc = lex_string(p, &t);
    } else if (c == '`') {
        rc = lex_quoted_name(p, &t);
    } else if (is_ident_start(c)) {
        rc = lex_name(p, &t);
    } else {
        char c2 = s[i + 1];
        switch (c) {
        case '(':
            t.kind = T_LPAREN;
            break;
        case ')':
            t.kind = T_RPAREN;
            break;
        case ',':
            t.kind = T_COMMA;
            break;
        case '+':
            t.kind = T_PLUS;
            break;
        case '-':
            t.kind = T_MINUS;
            break;
        case '*':
            t.kind = T_STAR;
            break;
        case '/':
            t.kind = T_SLASH;
            break;
        case '%':
            t.kind = T_PERCENT;
            break;
        case '=':
            t.kind = T_EQ;
            t.len = c2 == '=' ? 2 : 1;
            break;
        case '!':
            if (c2 != '=') return perr(p, i, "unexpected '!' (use != or NOT)");
            t.kind = T_NE;
            t.len = 2;
            break;
        case '<':
            t.kind = c2 == '=' ? T_LE : c2 == '>' ? T_NE : T_LT;
            t.len = c2 == '=' || c2 == '>' ? 2 : 1;
            break;
        case '>':
            t.kind = c2 == '=' ? T_GE : T_GT;
            t.len = c2 == '=' ? 2 : 1;
            break;
        case '"':
            return perr(p, i,
                        "unexpected '\"' (strings take single quotes; `name` quotes a field)");
        default: {
            char shown[16];
            return perr(p, i, "unexpected character %s", show(shown, sizeof shown, s + i, 1));
        }
        }
    }
    if (rc) return rc;
    p->tok = t;
    p->pos = t.start + t.len;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */

static int parse_expr(parser *p, expr **out);

static expr *new_node(parser *p, node_op op, size_t offset)
{
    expr *e = arena_calloc(p->a, 1, sizeof *e, alignof(expr));
    if (e) {
        e->op = op;
        e->offset = (int)offset;
        e->height = 1;
        e->slot = -1;
    }
    return e;
}

static int chain_height(const expr *e)
{
    int h = 0;
    for (; e; e = e->next)
        if (e->height > h) h = e->height;
    return h;
}

/* Fix the height of a node whose operands are in place; the tree's height
 * bounds the evaluator's recursion. */
static int finish(parser *p, expr *e)
{
    int ha = chain_height(e->a), hb = chain_height(e->b);
    e->height = 1 + (ha > hb ? ha : hb);
    if (e->height > EXPR_MAX_DEPTH)
        return perr(p, (size_t)e->offset, "expression nested deeper than %d levels",
                    EXPR_MAX_DEPTH);
    return 0;
}

static int enter(parser *p)
{
    if (++p->depth > EXPR_MAX_DEPTH)
        return perr(p, p->tok.start, "expression nested deeper than %d levels", EXPR_MAX_DEPTH);
    return 0;
}

static int expect(parser *p, tok_kind kind, const char *what)
{
    if (p->tok.kind != kind) {
        char found[SHOWN_MAX * 4 + 16];
        return perr(p, p->tok.start, "expected %s, found %s", what,
                    describe(p, found, sizeof found));
    }
    return lex(p);
}

static int make_literal(parser *p, size_t offset, cvalue v, expr **out)
{
    expr *e = new_node(p, OP_LITERAL, offset);
    if (!e) return oom(p);
    e->lit = v;
    if (v.kind == CV_STRING && parse_iso_time(v.s, v.len, &e->lit_time) == 0) e->lit_is_time = true;
    *out = e;
    return 0;
}

static int resolve_field(parser *p, expr **out)
{
    const token *t = &p->tok;
    const char *path;
    if (t->kind == T_QIDENT) {
        path = t->str;
    } else {
        path = arena_strndup(p->a, p->text + t->start, t->len);
        if (!path) return oom(p);
    }
    /* Names starting with '#' are the plan's own ("#index"); index() is the
     * way to reach them. */
    int slot = path[0] == '#' || !p->r || !p->r->resolve ? -1 : p->r->resolve(p->r->ctx, path);
    if (slot < 0) {
        char shown[SHOWN_MAX * 4 + 16];
        return perr(p, t->start, "unknown field %s", show(shown, sizeof shown, path, strlen(path)));
    }
    expr *e = new_node(p, OP_FIELD, t->start);
    if (!e) return oom(p);
    e->slot = slot;
    *out = e;
    return lex(p);
}

typedef struct func_def {
    const char *name;
    node_op op;
    int min_args, max_args; /* max -1: any number */
} func_def;

static const func_def FUNCS[] = {
    {"coalesce", OP_COALESCE, 1, -1},
    {"upper", OP_UPPER, 1, 1},
    {"lower", OP_LOWER, 1, 1},
    {"concat", OP_CONCAT, 1, -1},
    {"length", OP_LENGTH, 1, 1},
    {"abs", OP_ABS, 1, 1},
    {"if", OP_IF, 3, 3},
    {"now", OP_NOW, 0, 0},
    {"index", OP_INDEX, 0, 0},
    {"cast", OP_CAST, 1, 1},
};

static const struct {
    const char *name;
    cast_type type;
} CAST_TYPES[] = {
    {"Int64", CAST_INT64},     {"Int32", CAST_INT32},   {"UInt64", CAST_UINT64},
    {"Float64", CAST_FLOAT64}, {"String", CAST_STRING}, {"Bool", CAST_BOOL},
};
#define CAST_TYPE_LIST "Int64, Int32, UInt64, Float64, String, Bool"

/* cast( was read; the value, AS, the type name and ')' follow. */
static int parse_cast(parser *p, expr *e)
{
    expr *x;
    int rc = parse_expr(p, &x);
    if (rc) return rc;
    if (p->tok.kind != T_AS) {
        char found[SHOWN_MAX * 4 + 16];
        return perr(p, p->tok.start, "expected AS after the value in cast, found %s",
                    describe(p, found, sizeof found));
    }
    if ((rc = lex(p))) return rc;
    if (p->tok.kind != T_IDENT) {
        char found[SHOWN_MAX * 4 + 16];
        return perr(p, p->tok.start,
                    "expected a type after AS in cast (" CAST_TYPE_LIST "), found %s",
                    describe(p, found, sizeof found));
    }
    size_t k = 0, n_types = sizeof CAST_TYPES / sizeof CAST_TYPES[0];
    while (k < n_types && !ascii_ieq(p->text + p->tok.start, p->tok.len, CAST_TYPES[k].name))
        k++;
    if (k == n_types) {
        char shown[SHOWN_MAX * 4 + 16];
        return perr(p, p->tok.start, "unknown type %s in cast (" CAST_TYPE_LIST ")",
                    show(shown, sizeof shown, p->text + p->tok.start, p->tok.len));
    }
    e->sub = (int)CAST_TYPES[k].type;
    e->a = x;
    if ((rc = lex(p))) return rc;
    return expect(p, T_RPAREN, "')' after the type in cast");
}

static int parse_call(parser *p, expr **out)
{
    size_t name_at = p->tok.start, name_len = p->tok.len;
    size_t k = 0, n_funcs = sizeof FUNCS / sizeof FUNCS[0];
    while (k < n_funcs && !ascii_ieq(p->text + name_at, name_len, FUNCS[k].name))
        k++;
    if (k == n_funcs) {
        char shown[SHOWN_MAX * 4 + 16];
        return perr(p, name_at,
                    "unknown function %s (functions: coalesce, upper, lower, concat, length, "
                    "abs, if, cast, now, index)",
                    show(shown, sizeof shown, p->text + name_at, name_len));
    }
    const func_def *f = &FUNCS[k];
    expr *e = new_node(p, f->op, name_at);
    if (!e) return oom(p);
    e->name = f->name;
    int rc = lex(p);         /* the name */
    if (rc || (rc = lex(p))) /* the '(' */
        return rc;
    if (f->op == OP_CAST) {
        if ((rc = parse_cast(p, e)) || (rc = finish(p, e))) return rc;
        *out = e;
        return 0;
    }
    int n = 0;
    expr *tail = NULL;
    if (p->tok.kind != T_RPAREN) {
        for (;;) {
            expr *arg;
            if ((rc = parse_expr(p, &arg))) return rc;
            if (tail)
                tail->next = arg;
            else
                e->a = arg;
            tail = arg;
            n++;
            if (p->tok.kind == T_COMMA) {
                if ((rc = lex(p))) return rc;
                continue;
            }
            if (p->tok.kind == T_RPAREN) break;
            char found[SHOWN_MAX * 4 + 16];
            return perr(p, p->tok.start, "expected ')' after the arguments of %s, found %s",
                        f->name, describe(p, found, sizeof found));
        }
    }
    if ((rc = lex(p))) return rc;
    if (n < f->min_args || (f->max_args >= 0 && n > f->max_args)) {
        if (f->max_args == 0)
            return perr(p, name_at, "%s() takes no arguments, got %d", f->name, n);
        if (f->max_args < 0)
            return perr(p, name_at, "%s() takes at least %d argument%s, got %d", f->name,
                        f->min_args, f->min_args == 1 ? "" : "s", n);
        return perr(p, name_at, "%s() takes %d argument%s, got %d", f->name, f->max_args,
                    f->max_args == 1 ? "" : "s", n);
    }
    if (f->op == OP_INDEX) {
        e->slot = p->r && p->r->resolve ? p->r->resolve(p->r->ctx, "#index") : -1;
        if (e->slot < 0)
            return perr(p, name_at, "index() is only available on a route with explode");
    }
    if ((rc = finish(p, e))) return rc;
    *out = e;
    return 0;
}

static bool next_char_is(const parser *p, char c)
{
    size_t i = p->pos;
    while (p->text[i] == ' ' || p->text[i] == '\t' || p->text[i] == '\n' || p->text[i] == '\r')
        i++;
    return p->text[i] == c;
}

static int parse_primary(parser *p, expr **out)
{
    token t = p->tok;
    int rc;
    switch (t.kind) {
    case T_INT:
        if (t.u > (uint64_t)INT64_MAX) { /* only -9223372036854775808 may use 2^63 */
            char shown[SHOWN_MAX * 4 + 16];
            return perr(p, t.start, "integer %s is out of range for Int64",
                        show(shown, sizeof shown, p->text + t.start, t.len));
        }
        if ((rc = make_literal(p, t.start, cv_int((int64_t)t.u, CV_UNIT_NONE), out))) return rc;
        return lex(p);
    case T_FLOAT:
        if ((rc = make_literal(p, t.start, cv_double(t.d), out))) return rc;
        return lex(p);
    case T_STRING:
        if ((rc = make_literal(p, t.start, cv_string(t.str, t.str_len), out))) return rc;
        return lex(p);
    case T_TRUE:
    case T_FALSE:
        if ((rc = make_literal(p, t.start, cv_bool(t.kind == T_TRUE), out))) return rc;
        return lex(p);
    case T_NULL:
        if ((rc = make_literal(p, t.start, cv_null(), out))) return rc;
        return lex(p);
    case T_LPAREN: {
        if ((rc = lex(p)) || (rc = parse_expr(p, out))) return rc;
        if (p->tok.kind != T_RPAREN) {
            char found[SHOWN_MAX * 4 + 16];
            return perr(p, p->tok.start, "expected ')' to close the '(' at offset %zu, found %s",
                        t.start, describe(p, found, sizeof found));
        }
        return lex(p);
    }
    case T_IDENT:
        if (next_char_is(p, '(')) return parse_call(p, out);
        return resolve_field(p, out);
    case T_QIDENT:
        return resolve_field(p, out);
    default: {
        char found[SHOWN_MAX * 4 + 16];
        return perr(p, t.start, "expected a value, a field or a function, found %s",
                    describe(p, found, sizeof found));
    }
    }
}

static int parse_unary(parser *p, expr **out)
{
    if (p->tok.kind != T_MINUS) return parse_primary(p, out);
    size_t at = p->tok.start;
    int rc = lex(p);
    if (rc) return rc;
    /* -N is one literal, so INT64_MIN can be written. */
    if (p->tok.kind == T_INT) {
        int64_t v = p->tok.u == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)p->tok.u;
        if ((rc = make_literal(p, at, cv_int(v, CV_UNIT_NONE), out))) return rc;
        return lex(p);
    }
    if (p->tok.kind == T_FLOAT) {
        if ((rc = make_literal(p, at, cv_double(-p->tok.d), out))) return rc;
        return lex(p);
    }
    expr *x;
    if ((rc = enter(p)) || (rc = parse_unary(p, &x))) return rc;
    p->depth--;
    expr *e = new_node(p, OP_NEG, at);
    if (!e) return oom(p);
    e->a = x;
    if ((rc = finish(p, e))) return rc;
    *out = e;
    return 0;
}

static int binary(parser *p, node_op op, size_t at, expr *l, expr *r, expr **out)
{
    expr *e = new_node(p, op, at);
    if (!e) return oom(p);
    e->a = l;
    e->b = r;
    int rc = finish(p, e);
    if (rc) return rc;
    *out = e;
    return 0;
}

static int parse_mul(parser *p, expr **out)
{
    expr *l;
    int rc = parse_unary(p, &l);
    while (!rc) {
        tok_kind k = p->tok.kind;
        if (k != T_STAR && k != T_SLASH && k != T_PERCENT) break;
        size_t at = p->tok.start;
        expr *r;
        if ((rc = lex(p)) || (rc = parse_unary(p, &r))) break;
        rc = binary(p, k == T_STAR ? OP_MUL : k == T_SLASH ? OP_DIV : OP_MOD, at, l, r, &l);
    }
    *out = l;
    return rc;
}

static int parse_add(parser *p, expr **out)
{
    expr *l;
    int rc = parse_mul(p, &l);
    while (!rc) {
        tok_kind k = p->tok.kind;
        if (k != T_PLUS && k != T_MINUS) break;
        size_t at = p->tok.start;
        expr *r;
        if ((rc = lex(p)) || (rc = parse_mul(p, &r))) break;
        rc = binary(p, k == T_PLUS ? OP_ADD : OP_SUB, at, l, r, &l);
    }
    *out = l;
    return rc;
}

static bool is_comparison(tok_kind k)
{
    return k == T_EQ || k == T_NE || k == T_LT || k == T_LE || k == T_GT || k == T_GE ||
           k == T_IS || k == T_IN || k == T_NOT;
}

/* x IN ( a, b, ... ): the '(' is the current token. */
static int parse_in_list(parser *p, expr *e)
{
    int rc = expect(p, T_LPAREN, "'(' after IN");
    if (rc) return rc;
    if (p->tok.kind == T_RPAREN) return perr(p, p->tok.start, "IN needs at least one value");
    expr *tail = NULL;
    for (;;) {
        expr *item;
        if ((rc = parse_expr(p, &item))) return rc;
        if (tail)
            tail->next = item;
        else
            e->b = item;
        tail = item;
        if (p->tok.kind == T_RPAREN) return lex(p);
        if ((rc = expect(p, T_COMMA, "',' or ')' in the IN list"))) return rc;
    }
}

static int parse_cmp(parser *p, expr **out)
{
    expr *l;
    int rc = parse_add(p, &l);
    if (rc) return rc;
    tok_kind k = p->tok.kind;
    if (!is_comparison(k)) {
        *out = l;
        return 0;
    }
    size_t at = p->tok.start;
    expr *e;
    if ((rc = lex(p))) return rc;
    if (k == T_IS) {
        bool negated = p->tok.kind == T_NOT;
        if (negated && (rc = lex(p))) return rc;
        if (p->tok.kind != T_NULL) {
            char found[SHOWN_MAX * 4 + 16];
            return perr(p, p->tok.start, "expected NULL or NOT NULL after IS, found %s",
                        describe(p, found, sizeof found));
        }
        if ((rc = lex(p)) ||
            (rc = binary(p, negated ? OP_IS_NOT_NULL : OP_IS_NULL, at, l, NULL, &e)))
            return rc;
    } else if (k == T_IN || k == T_NOT) {
        if (k == T_NOT && p->tok.kind != T_IN) {
            char found[SHOWN_MAX * 4 + 16];
            return perr(p, p->tok.start, "expected IN after NOT, found %s",
                        describe(p, found, sizeof found));
        }
        if (k == T_NOT && (rc = lex(p))) return rc;
        if (!(e = new_node(p, k == T_NOT ? OP_NOT_IN : OP_IN, at))) return oom(p);
        e->a = l;
        if ((rc = parse_in_list(p, e)) || (rc = finish(p, e))) return rc;
    } else {
        expr *r;
        if ((rc = parse_add(p, &r)) || (rc = binary(p, OP_CMP, at, l, r, &e))) return rc;
        e->sub = k == T_EQ   ? CMP_EQ
                 : k == T_NE ? CMP_NE
                 : k == T_LT ? CMP_LT
                 : k == T_LE ? CMP_LE
                 : k == T_GT ? CMP_GT
                             : CMP_GE;
    }
    if (is_comparison(p->tok.kind))
        return perr(p, p->tok.start,
                    "comparisons do not chain; use parentheses or AND to combine them");
    *out = e;
    return 0;
}

static int parse_not(parser *p, expr **out)
{
    if (p->tok.kind != T_NOT) return parse_cmp(p, out);
    size_t at = p->tok.start;
    expr *x;
    int rc;
    if ((rc = lex(p)) || (rc = enter(p)) || (rc = parse_not(p, &x))) return rc;
    p->depth--;
    return binary(p, OP_NOT, at, x, NULL, out);
}

/* A chain of AND (or OR) becomes one node with its operands in a list. */
static int parse_chain(parser *p, tok_kind k, node_op op, int (*operand)(parser *, expr **),
                       expr **out)
{
    expr *first;
    int rc = operand(p, &first);
    if (rc || p->tok.kind != k) {
        *out = first;
        return rc;
    }
    expr *e = new_node(p, op, p->tok.start);
    if (!e) return oom(p);
    e->a = first;
    expr *tail = first;
    while (p->tok.kind == k) {
        expr *next;
        if ((rc = lex(p)) || (rc = operand(p, &next))) return rc;
        tail->next = next;
        tail = next;
    }
    if ((rc = finish(p, e))) return rc;
    *out = e;
    return 0;
}

static int parse_and(parser *p, expr **out)
{
    return parse_chain(p, T_AND, OP_AND, parse_not, out);
}

static int parse_or(parser *p, expr **out)
{
    return parse_chain(p, T_OR, OP_OR, parse_and, out);
}

/* Every nested expression (parentheses, arguments, IN items) comes through
 * here, which is what bounds the recursion. */
static int parse_expr(parser *p, expr **out)
{
    int rc = enter(p);
    if (rc || (rc = parse_or(p, out))) return rc;
    p->depth--;
    return 0;
}

int expr_compile(const char *text, const expr_resolver *r, arena *a, const expr **out,
                 sluice_error *err)
{
    if (!text || !a || !out)
        return sluice_error_set(err, SLUICE_EINVAL,
                                "expr_compile: text, arena and out are required");
    size_t len = strnlen(text, (size_t)EXPR_MAX_LEN + 1);
    if (len > EXPR_MAX_LEN)
        return sluice_error_set(err, SLUICE_EINVAL, "offset %d: expression longer than %d bytes",
                                EXPR_MAX_LEN, EXPR_MAX_LEN);
    parser p = {.text = text, .len = len, .r = r, .a = a, .err = err};
    int rc = lex(&p);
    if (rc) return rc;
    if (p.tok.kind == T_END) return perr(&p, 0, "empty expression");
    expr *root;
    if ((rc = parse_expr(&p, &root))) return rc;
    if (p.tok.kind != T_END) {
        char found[SHOWN_MAX * 4 + 16];
        return perr(&p, p.tok.start, "expected an operator or the end of the expression, found %s",
                    describe(&p, found, sizeof found));
    }
    *out = root;
    return 0;
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
    } else if (parse_iso_time(s->s, s->len, &b) != 0) {
        char shown[SHOWN_MAX * 4 + 16];
        return fail_at(err, SLUICE_EINVAL, at->offset,
                       "cannot compare %s with %s: not an ISO-8601 date or time "
                       "('2026-01-01', '2026-01-01T10:00:00Z', '2026-01-01 10:00:00.5+02:00')",
                       kind_name(t), show(shown, sizeof shown, s->s, s->len));
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
                           show(shown, sizeof shown, v->s, v->len), type);
        return fail_at(err, SLUICE_EINVAL, e->offset, "cannot cast %s to %s: not an integer",
                       show(shown, sizeof shown, v->s, v->len), type);
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
        return fail_at(err, range ? SLUICE_ERANGE : SLUICE_EINVAL, e->offset,
                       "cannot cast %s to Float64: %s", show(shown, sizeof shown, v->s, v->len),
                       range ? "out of range" : "not a number");
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
                       show(shown, sizeof shown, v->s, v->len));
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
