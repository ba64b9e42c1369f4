/*
 * prom_text.h — a parser for the Prometheus text exposition format, as
 * `sluice top` reads it from /metrics: `name{label="value",...} number`
 * lines, `#` comments and blank lines. Bounded: at most `max` samples are
 * kept; a malformed line stops the parse with its line number and what is
 * wrong. The input need not be NUL-terminated; nothing is read past len.
 */
#ifndef SLUICE_APP_PROM_TEXT_H
#define SLUICE_APP_PROM_TEXT_H

#include <stddef.h>

typedef struct prom_sample {
    char name[128];
    char labels[256]; /* the label body as written, without braces ("" if none) */
    double value;
} prom_sample;

/* Parse text[0..len) into out[0..max). Returns the number of samples, or -1
 * with err filled ("line N: ...") on a malformed line or past max. */
long prom_parse(const char *text, size_t len, prom_sample *out, size_t max, char *err,
                size_t err_len);

/* The value of label `key` in a label body, unescaped, into out; 0 if
 * found, -1 otherwise. */
int prom_label(const char *labels, const char *key, char *out, size_t out_len);

#endif
