/*
 * avro_diff.h — the differential check between ingest's two JSON → Avro
 * encoders: the streaming one the product runs (src/codec/json_avro.c) and
 * the tree one kept as the oracle (jansson + src/codec/avro_json_encode.c).
 *
 * On the same schema and JSON text they must agree: the same Avro bytes, or
 * both rejecting the value with the same set of "path: message" errors, or
 * both calling the text malformed. The differences json_avro.h documents
 * (numbers past int64 or double, decimal literals with more digits than a
 * double holds) are detected in the text and reported as "skipped" rather
 * than compared, so a caller can count them; they have their own tests.
 * A decimal error quotes the number as each encoder read it ('0.064' or
 * '64e-3'); those compare by value. Two jansson limits are not ours: a key
 * holding \u0000 (which it refuses) and a raw NUL byte after a number
 * (which it ignores).
 *
 * Header-only (static functions) so that unit tests and the libFuzzer
 * target fuzz/fuzz_json_avro.c share it without a library of their own.
 */
#ifndef SLUICE_TEST_AVRO_DIFF_H
#define SLUICE_TEST_AVRO_DIFF_H

#include "codec/avro_json.h"
#include "codec/avro_text.h"
#include "codec/json_avro.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { AVRO_DIFF_AGREE = 0, AVRO_DIFF_DISAGREE = 1, AVRO_DIFF_SKIPPED = 2 };

/* Does the text hold a number the two encoders read differently on
 * purpose? Integers past int64, reals with 16 or more significant digits
 * or an exponent past ±300 (conservative: such a real is compared only
 * where the tests write its expected bytes out). Strings are stepped over. */
static int avro_diff_special_numbers(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\') i++;
            continue;
        }
        if (!(s[i] == '-' || (s[i] >= '0' && s[i] <= '9'))) continue;
        size_t j = i, digits = 0, sig = 0;
        int real = 0, exp = 0, eneg = 0, lead = 1;
        if (s[j] == '-') j++;
        for (; j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.'); j++) {
            if (s[j] == '.') {
                real = 1;
                continue;
            }
            digits++;
            if (s[j] != '0') lead = 0;
            if (!lead) sig++;
        }
        if (j < n && (s[j] == 'e' || s[j] == 'E')) {
            real = 1;
            j++;
            if (j < n && (s[j] == '+' || s[j] == '-')) eneg = s[j++] == '-';
            for (; j < n && s[j] >= '0' && s[j] <= '9'; j++)
                if (exp < 100000) exp = exp * 10 + (s[j] - '0');
        }
        (void)eneg;
        if (real && (sig >= 16 || exp > 300)) return 1;
        if (!real) {
            char tmp[32];
            size_t len = j - i;
            if (len >= sizeof tmp) return 1;
            memcpy(tmp, s + i, len);
            tmp[len] = '\0';
            errno = 0;
            (void)strtoll(tmp, NULL, 10);
            if (errno == ERANGE) return 1;
        }
        (void)digits;
        i = j ? j - 1 : j;
    }
    return 0;
}

static int avro_diff_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A message that quotes a number first ("'0.064' cannot be represented
 * exactly with scale 2") quotes what each encoder read: the tree one a
 * double's shortest text, the streaming one the literal ("64e-3"). The
 * same value is the same message. */
static void avro_diff_message(const char *msg, char *dst, size_t cap)
{
    const char *close = msg[0] == '\'' ? strchr(msg + 1, '\'') : NULL;
    if (close && avro_is_decimal_literal(msg + 1, (size_t)(close - msg - 1))) {
        snprintf(dst, cap, "'%.17g'%s", strtod(msg + 1, NULL), close + 1);
        return;
    }
    snprintf(dst, cap, "%s", msg);
}

/* "path: message" of each error, sorted, joined by " | ". */
static void avro_diff_errors(const avro_json_errors *e, char *dst, size_t cap)
{
    char items[AVRO_JSON_MAX_ERRORS][520];
    char *ptrs[AVRO_JSON_MAX_ERRORS];
    for (int i = 0; i < e->n; i++) {
        char msg[260];
        avro_diff_message(e->items[i].message, msg, sizeof msg);
        snprintf(items[i], sizeof items[i], "%s: %s", e->items[i].path, msg);
        ptrs[i] = items[i];
    }
    qsort(ptrs, (size_t)e->n, sizeof ptrs[0], avro_diff_cmp_str);
    size_t len = 0;
    dst[0] = '\0';
    for (int i = 0; i < e->n && len < cap; i++)
        len += (size_t)snprintf(dst + len, cap - len, "%s%s", i ? " | " : "", ptrs[i]);
}

/* The streaming encoder over the whole text (one value, nothing after). */
static int avro_diff_stream(const json_avro *plan, const char *text, size_t len, buf *out,
                            avro_json_errors *errs)
{
    json_lex lx;
    json_lex_init(&lx, text, len);
    int rc = json_avro_encode(plan, &lx, out, errs);
    if ((rc == 0 || rc == SLUICE_EINVAL) && json_lex_end(&lx)) rc = SLUICE_EPARSE;
    json_lex_free(&lx);
    return rc;
}

/* Compare both encoders on one text. why gets a description when they
 * disagree. */
static int avro_diff_check(const sluice_avro_node *schema, const json_avro *plan, const char *text,
                           size_t len, char *why, size_t cap)
{
    buf a, b;
    buf_init(&a, 1 << 22);
    buf_init(&b, 1 << 22);
    avro_json_errors ea, eb;
    json_error_t jerr;
    json_t *v =
        json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    int ra = v ? avro_json_encode(schema, v, &a, &ea) : SLUICE_EPARSE;
    json_decref(v);
    int rb = avro_diff_stream(plan, text, len, &b, &eb);
    int verdict = AVRO_DIFF_AGREE;
    why[0] = '\0';
    if (memchr(text, '\0', len)) {
        /* jansson takes a raw NUL right after a number as the end of the
         * number ("[1\0]" parses); a raw NUL is never JSON, so the
         * streaming reader must refuse the text and the tree is not asked. */
        if (rb != SLUICE_EPARSE) {
            snprintf(why, cap, "a raw NUL byte, yet streaming rc %d", rb);
            verdict = AVRO_DIFF_DISAGREE;
        } else {
            verdict = AVRO_DIFF_SKIPPED;
        }
    } else if (avro_diff_special_numbers(text, len)) {
        verdict = AVRO_DIFF_SKIPPED;
    } else if (!v && strstr(jerr.text, "NUL byte in object key")) {
        verdict = AVRO_DIFF_SKIPPED; /* jansson's limit; keys may hold \u0000 here */
    } else if (ra != rb) {
        snprintf(why, cap, "tree rc %d%s%s, streaming rc %d%s%s", ra,
                 v ? "" : " (jansson: ", v ? "" : jerr.text, rb,
                 rb == SLUICE_EINVAL && eb.n ? " first: " : "",
                 rb == SLUICE_EINVAL && eb.n ? eb.items[0].message : "");
        verdict = AVRO_DIFF_DISAGREE;
    } else if (ra == 0 && (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))) {
        snprintf(why, cap, "bytes differ: tree %zu bytes, streaming %zu bytes", a.len, b.len);
        verdict = AVRO_DIFF_DISAGREE;
    } else if (ra == SLUICE_EINVAL && !ea.truncated && !eb.truncated) {
        static char sa[AVRO_JSON_MAX_ERRORS * 530], sb[AVRO_JSON_MAX_ERRORS * 530];
        avro_diff_errors(&ea, sa, sizeof sa);
        avro_diff_errors(&eb, sb, sizeof sb);
        if (strcmp(sa, sb) != 0) {
            snprintf(why, cap, "errors differ:\n    tree:      %.900s\n    streaming: %.900s", sa,
                     sb);
            verdict = AVRO_DIFF_DISAGREE;
        }
    }
    buf_free(&a);
    buf_free(&b);
    return verdict;
}

#endif
