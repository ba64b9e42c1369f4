/*
 * prom_text.c — see prom_text.h. Hand-written: no Debian package parses the
 * exposition format in C, and the grammar is small.
 *
 * Each line is read through a cursor bounded by the line's end (a final
 * '\r' dropped), so no step can look past it: peek() answers '\0' at the
 * end, and a '\0' byte inside the input is never a valid character, so it
 * stops every loop the same way. Label bodies are checked against the
 * grammar (name="value" pairs, only \\, \" and \n escapes) before being
 * stored as written, which is what lets prom_label() stay simple.
 */
#include "app/prom_text.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cursor {
    const char *text;
    size_t pos, end, line_start;
    long line;
    char *err;
    size_t err_len;
} cursor;

static int at_end(const cursor *c)
{
    return c->pos >= c->end;
}

static char peek(const cursor *c)
{
    return at_end(c) ? '\0' : c->text[c->pos];
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static void skip_blanks(cursor *c)
{
    while (is_blank(peek(c)))
        c->pos++;
}

static int metric_name_char(char ch, int first)
{
    return isalpha((unsigned char)ch) || ch == '_' || ch == ':' ||
           (!first && isdigit((unsigned char)ch));
}

static int label_name_char(char ch, int first)
{
    return isalpha((unsigned char)ch) || ch == '_' || (!first && isdigit((unsigned char)ch));
}

/* Fill err with "line N: <message> (column C)"; returns PROM_MALFORMED. */
__attribute__((format(printf, 2, 3))) static int fail(cursor *c, const char *fmt, ...)
{
    if (!c->err_len) return PROM_MALFORMED;
    int k = snprintf(c->err, c->err_len, "line %ld: ", c->line);
    size_t used = k > 0 && (size_t)k < c->err_len ? (size_t)k : c->err_len - 1;
    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(c->err + used, c->err_len - used, fmt, ap);
    va_end(ap);
    used += k > 0 && (size_t)k < c->err_len - used ? (size_t)k : c->err_len - 1 - used;
    snprintf(c->err + used, c->err_len - used, " (column %zu)", c->pos - c->line_start + 1);
    return PROM_MALFORMED;
}

static int parse_name(cursor *c, prom_sample *s)
{
    if (!metric_name_char(peek(c), 1)) return fail(c, "expected a metric name");
    size_t k = 0;
    while (metric_name_char(peek(c), k == 0)) {
        if (k + 1 >= sizeof s->name)
            return fail(c, "metric name longer than %zu bytes", sizeof s->name - 1);
        s->name[k++] = c->text[c->pos++];
    }
    s->name[k] = '\0';
    return 0;
}

/* After '{': name="value" pairs up to '}', a trailing comma allowed. */
static int parse_labels(cursor *c, prom_sample *s)
{
    size_t start = c->pos;
    for (;;) {
        skip_blanks(c);
        if (peek(c) == '}') break;
        if (!label_name_char(peek(c), 1))
            return fail(c, "expected a label name or '}' in the labels of %s", s->name);
        while (label_name_char(peek(c), 0))
            c->pos++;
        if (peek(c) != '=') return fail(c, "expected '=' after a label name of %s", s->name);
        c->pos++;
        if (peek(c) != '"') return fail(c, "expected '\"' to open a label value of %s", s->name);
        c->pos++;
        for (;;) {
            if (at_end(c)) return fail(c, "unterminated label value of %s", s->name);
            char ch = c->text[c->pos];
            if (ch == '"') break;
            if (ch == '\0') return fail(c, "NUL byte in a label value of %s", s->name);
            if (ch == '\\') {
                c->pos++;
                if (at_end(c)) return fail(c, "unterminated label value of %s", s->name);
                ch = c->text[c->pos];
                if (ch != '\\' && ch != '"' && ch != 'n')
                    return fail(c, "bad escape in a label value of %s (want \\\\, \\\" or \\n)",
                                s->name);
            }
            c->pos++;
        }
        c->pos++; /* the closing quote */
        skip_blanks(c);
        if (peek(c) == ',')
            c->pos++;
        else if (peek(c) != '}')
            return fail(c, "expected ',' or '}' after a label value of %s", s->name);
    }
    size_t n = c->pos - start;
    if (n >= sizeof s->labels)
        return fail(c, "labels of %s longer than %zu bytes", s->name, sizeof s->labels - 1);
    memcpy(s->labels, c->text + start, n);
    s->labels[n] = '\0';
    c->pos++; /* '}' */
    return 0;
}

static int parse_value(cursor *c, prom_sample *s)
{
    if (!is_blank(peek(c))) return fail(c, "expected a space before the value of %s", s->name);
    skip_blanks(c);
    size_t start = c->pos;
    while (!at_end(c) && !is_blank(c->text[c->pos]))
        c->pos++;
    size_t n = c->pos - start;
    char num[64];
    if (n == 0) return fail(c, "missing the value of %s", s->name);
    if (n >= sizeof num)
        return fail(c, "value of %s longer than %zu bytes", s->name, sizeof num - 1);
    memcpy(num, c->text + start, n);
    num[n] = '\0';
    if (!strcmp(num, "+Inf"))
        s->value = INFINITY;
    else if (!strcmp(num, "-Inf"))
        s->value = -INFINITY;
    else if (!strcmp(num, "NaN"))
        s->value = NAN;
    else {
        char *stop = NULL;
        s->value = strtod(num, &stop);
        if (strlen(num) != n || *stop) {
            c->pos = start;
            for (size_t i = 0; i < n; i++) /* the message may reach a terminal */
                if (!isprint((unsigned char)num[i])) num[i] = '?';
            return fail(c, "value '%s' of %s is not a number", num, s->name);
        }
    }
    /* An optional timestamp (integer milliseconds), then nothing. */
    skip_blanks(c);
    if (at_end(c)) return 0;
    if (peek(c) == '-') c->pos++;
    size_t digits = c->pos;
    while (isdigit((unsigned char)peek(c)))
        c->pos++;
    if (c->pos == digits) return fail(c, "unexpected text after the value of %s", s->name);
    skip_blanks(c);
    if (!at_end(c)) return fail(c, "unexpected text after the timestamp of %s", s->name);
    return 0;
}

static int parse_sample(cursor *c, prom_sample *s)
{
    s->labels[0] = '\0';
    int rc = parse_name(c, s);
    if (!rc && peek(c) == '{') {
        c->pos++;
        rc = parse_labels(c, s);
    }
    return rc ? rc : parse_value(c, s);
}

long prom_parse(const char *text, size_t len, prom_sample *out, size_t max, char *err,
                size_t err_len)
{
    size_t n = 0, pos = 0;
    long line = 0;
    if (err_len) err[0] = '\0';
    while (pos < len) {
        line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        cursor c = {.text = text,
                    .pos = pos,
                    .end = end,
                    .line_start = pos,
                    .line = line,
                    .err = err,
                    .err_len = err_len};
        if (c.end > c.pos && text[c.end - 1] == '\r') c.end--;
        pos = nl ? end + 1 : len;
        skip_blanks(&c);
        if (at_end(&c) || peek(&c) == '#') continue;
        if (n == max) {
            if (err_len) snprintf(err, err_len, "line %ld: more than %zu samples", line, max);
            return PROM_TOO_MANY;
        }
        int rc = parse_sample(&c, &out[n]);
        if (rc) return rc;
        n++;
    }
    return (long)n;
}

int prom_label(const char *labels, const char *key, char *out, size_t out_len)
{
    size_t kl = strlen(key);
    const char *p = labels;
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p) return -1;
        const char *eq = strchr(p, '=');
        if (!eq || eq[1] != '"') return -1;
        int match = (size_t)(eq - p) == kl && !strncmp(p, key, kl);
        p = eq + 2;
        size_t o = 0;
        while (*p && *p != '"') {
            char ch = *p;
            if (ch == '\\' && p[1]) {
                p++;
                ch = *p == 'n' ? '\n' : *p;
            }
            if (match && o + 1 < out_len) out[o++] = ch;
            p++;
        }
        if (!*p) return -1;
        p++;
        if (match) {
            if (out_len) out[o] = '\0';
            return 0;
        }
    }
}
