/*
 * expr_parse.c — compiling the transform expression language (expr.h,
 * docs/TRANSFORMS.md; the tree it builds is in expr_int.h, and
 * expr_eval.c walks it): a tokenizer and a recursive-descent parser that
 * builds an immutable tree in the caller's arena.
 *
 * The text is read once, left to right, with one token of lookahead.
 * Precedence, loosest first: OR, AND, NOT, comparison (=, <, IS NULL, IN;
 * they do not chain), + -, * / %, unary minus, primaries. AND and OR
 * chains become one n-ary node, so a long chain of conditions is flat.
 * Field names are resolved to slots here, string literals that read as
 * ISO-8601 times are parsed here, so evaluation never looks at a name or
 * re-parses a literal. Two bounds keep hostile config harmless: the text
 * is at most EXPR_MAX_LEN bytes, and both the parser's recursion and the
 * height of the finished tree are at most EXPR_MAX_DEPTH, which is also
 * what bounds the evaluator's recursion. On a compile error the nodes
 * made so far stay in the arena; they go when the caller frees it.
 *
 * Stack: the parser's levels are larger than the evaluator's (about 2 KiB
 * unoptimised) but it runs once, when the configuration is loaded.
 *
 * Threads: compiling writes only into the caller's arena.
 */
#include "codec/expr_int.h"

#include "codec/iso8601.h"

#include <errno.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Messages                                                            */

/* s quoted for a message: printable ASCII as is, other bytes as \xNN,
 * at most SHOWN_MAX bytes of input and then "...". */
const char *expr_show(char *dst, size_t cap, const char *s, size_t n)
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

/* YYYY-MM-DD, then optionally (T|t|space)HH:MM[:SS[(.|,)1-9 digits]] and
 * an offset Z, ±HH, ±HHMM or ±HH:MM (none means UTC): iso8601.h's lenient
 * form. A fraction finer than a nanosecond is refused, since it could not
 * compare exactly. */
int expr_parse_iso_time(const char *s, size_t n, tpoint *out)
{
    iso8601 t;
    if (iso8601_parse(s, n, ISO8601_LENIENT, &t)) return -1;
    out->sec = iso8601_epoch_seconds(&t);
    out->nsec = t.nanos;
    return 0;
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
    return expr_show(dst, cap, p->text + p->tok.start, p->tok.len);
}

static bool is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
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
                    expr_show(shown, sizeof shown, s + t->start, end - t->start));
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
                        expr_show(shown, sizeof shown, s + t->start, t->len));
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
                        expr_show(shown, sizeof shown, s + t->start, t->len));
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
                            expr_show(shown, sizeof shown, s + i, 2));
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
                        expr_show(shown, sizeof shown, s + t->start, i + 1 - t->start));
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
            return perr(p, i, "unexpected character %s", expr_show(shown, sizeof shown, s + i, 1));
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
    if (v.kind == CV_STRING && expr_parse_iso_time(v.s, v.len, &e->lit_time) == 0)
        e->lit_is_time = true;
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
        return perr(p, t->start, "unknown field %s",
                    expr_show(shown, sizeof shown, path, strlen(path)));
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
                    expr_show(shown, sizeof shown, p->text + p->tok.start, p->tok.len));
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
                    expr_show(shown, sizeof shown, p->text + name_at, name_len));
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
                        expr_show(shown, sizeof shown, p->text + t.start, t.len));
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
