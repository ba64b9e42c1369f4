/*
 * prom_text.c — see prom_text.h. Hand-written: no Debian package parses the
 * exposition format in C, and the subset sluice emits is small.
 */
#include "app/prom_text.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_char(char c, int first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' || (!first && isdigit((unsigned char)c));
}

long prom_parse(const char *text, size_t len, prom_sample *out, size_t max, char *err,
                size_t err_len)
{
    size_t n = 0, pos = 0;
    long line = 0;
    while (pos < len) {
        line++;
        size_t end = pos, line_start = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t p = pos;
        pos = end < len ? end + 1 : end;
        while (p < end && (text[p] == ' ' || text[p] == '\t'))
            p++;
        if (p == end || text[p] == '#')
            continue;
        if (n == max) {
            snprintf(err, err_len, "line %ld: more than %zu samples", line, max);
            return -1;
        }
        prom_sample *s = &out[n];
        size_t k = 0;
        if (!name_char(text[p], 1)) {
            snprintf(err, err_len, "line %ld: expected a metric name at column %zu", line,
                     p - line_start + 1);
            return -1;
        }
        while (p < end && name_char(text[p], k == 0)) {
            if (k + 1 >= sizeof s->name) {
                snprintf(err, err_len, "line %ld: metric name longer than %zu bytes", line,
                         sizeof s->name - 1);
                return -1;
            }
            s->name[k++] = text[p++];
        }
        s->name[k] = '\0';
        s->labels[0] = '\0';
        if (p < end && text[p] == '{') {
            size_t start = ++p, lk = 0;
            int in_str = 0;
            while (p < end && (in_str || text[p] != '}')) {
                if (in_str && text[p] == '\\' && p + 1 < end)
                    p++;
                else if (text[p] == '"')
                    in_str = !in_str;
                p++;
            }
            if (p >= end) {
                snprintf(err, err_len, "line %ld: unterminated label set", line);
                return -1;
            }
            lk = p - start;
            if (lk >= sizeof s->labels) {
                snprintf(err, err_len, "line %ld: labels longer than %zu bytes", line,
                         sizeof s->labels - 1);
                return -1;
            }
            memcpy(s->labels, text + start, lk);
            s->labels[lk] = '\0';
            p++; /* '}' */
        }
        if (p >= end || (text[p] != ' ' && text[p] != '\t')) {
            snprintf(err, err_len, "line %ld: expected a space before the value of %s", line,
                     s->name);
            return -1;
        }
        while (p < end && (text[p] == ' ' || text[p] == '\t'))
            p++;
        char num[64];
        size_t nk = 0;
        while (p < end && text[p] != ' ' && text[p] != '\t' && text[p] != '\r') {
            if (nk + 1 >= sizeof num) {
                snprintf(err, err_len, "line %ld: value of %s too long", line, s->name);
                return -1;
            }
            num[nk++] = text[p++];
        }
        num[nk] = '\0';
        char *stop = NULL;
        if (!strcmp(num, "+Inf"))
            s->value = INFINITY;
        else if (!strcmp(num, "-Inf"))
            s->value = -INFINITY;
        else if (!strcmp(num, "NaN"))
            s->value = NAN;
        else {
            s->value = nk ? strtod(num, &stop) : 0;
            if (!nk || *stop) {
                snprintf(err, err_len, "line %ld: value '%s' of %s is not a number", line, num,
                         s->name);
                return -1;
            }
        }
        n++; /* an optional timestamp after the value is ignored */
    }
    return (long)n;
}

int prom_label(const char *labels, const char *key, char *out, size_t out_len)
{
    size_t kl = strlen(key);
    const char *p = labels;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *eq = strchr(p, '=');
        if (!eq || eq[1] != '"')
            return -1;
        int match = (size_t)(eq - p) == kl && !strncmp(p, key, kl);
        p = eq + 2;
        size_t o = 0;
        while (*p && *p != '"') {
            char c = *p;
            if (c == '\\' && p[1]) {
                p++;
                c = *p == 'n' ? '\n' : *p;
            }
            if (match && o + 1 < out_len)
                out[o++] = c;
            p++;
        }
        if (!*p)
            return -1;
        p++;
        if (match) {
            if (out_len)
                out[o] = '\0';
            return 0;
        }
    }
    return -1;
}
