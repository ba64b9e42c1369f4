/*
 * prom_text.h — a parser for the Prometheus text exposition format (0.0.4),
 * as `sluice top` reads it from /metrics: `name{label="value",...} value
 * [timestamp]` lines, `#` comments and blank lines.
 *
 * Bounded: fixed-size samples, at most `max` of them. The input need not be
 * NUL-terminated; nothing is read past len. A malformed line stops the parse
 * with its line number, column and what is wrong, so that a broken endpoint
 * is named rather than half-shown.
 */
#ifndef SLUICE_APP_PROM_TEXT_H
#define SLUICE_APP_PROM_TEXT_H

#include <stddef.h>

typedef struct prom_sample {
    char name[128];
    char labels[512]; /* the label body as written, without braces ("" if none) */
    double value;
} prom_sample;

enum {
    PROM_MALFORMED = -1, /* a line is not a sample, a comment or blank */
    PROM_TOO_MANY = -2,  /* more than max samples: out[0..max) hold the first max */
};

/* Parse text[0..len) into out[0..max). Returns the number of samples, or
 * PROM_MALFORMED / PROM_TOO_MANY with err filled ("line N: ..."). Lines after
 * the one that did not fit are not read. */
long prom_parse(const char *text, size_t len, prom_sample *out, size_t max, char *err,
                size_t err_len);

/* The value of label `key` in a label body (as prom_parse stores it),
 * unescaped and truncated to out_len, into out; 0 if found, -1 otherwise. */
int prom_label(const char *labels, const char *key, char *out, size_t out_len);

#endif
