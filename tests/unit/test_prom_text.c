/*
 * test_prom_text.c — the /metrics text parser of `sluice top`: what sluice
 * itself renders parses back to the same values; labels with escapes;
 * special values; every malformed line is refused with its line number and
 * column, without reading past the input (the inputs here are not
 * NUL-terminated copies, so ASan would see an overread); more samples than
 * room keep the first ones.
 */
#include "test.h"

#include "app/prom_text.h"

#include <sluice/metrics.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static prom_sample out[64];

/* Parse a heap copy without a terminating NUL. */
static long parse(const char *text, char *err, size_t n)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    long r = prom_parse(copy, len, out, 64, err, n);
    free(copy);
    return r;
}

static void test_round_trip_of_our_own_metrics(void)
{
    sluice_metrics *m = sluice_metrics_new(100);
    sluice_counter_add(sluice_metrics_counter(m, "a_total", "help", "route=\"v1\",status=\"200\""),
                       7);
    sluice_gauge_set(sluice_metrics_gauge(m, "b", "h", NULL), 2.5);
    static const double bounds[] = {0.01, 0.1};
    sluice_histogram *h = sluice_metrics_histogram(m, "c_seconds", "h", NULL, bounds, 2);
    sluice_histogram_observe(h, 0.05);
    char *text;
    size_t len;
    CHECK_EQ(sluice_metrics_render(m, &text, &len), 0);
    char err[128];
    long n = prom_parse(text, len, out, 64, err, sizeof err);
    CHECK(n >= 6);
    int seen_a = 0, seen_b = 0, seen_inf = 0;
    for (long i = 0; i < n; i++) {
        char v[32];
        if (!strcmp(out[i].name, "a_total")) {
            seen_a = out[i].value == 7;
            CHECK_EQ(prom_label(out[i].labels, "status", v, sizeof v), 0);
            CHECK_STR(v, "200");
        }
        if (!strcmp(out[i].name, "b")) seen_b = out[i].value == 2.5;
        if (!strcmp(out[i].name, "c_seconds_bucket") &&
            prom_label(out[i].labels, "le", v, sizeof v) == 0 && !strcmp(v, "+Inf"))
            seen_inf = out[i].value == 1;
    }
    CHECK(seen_a);
    CHECK(seen_b);
    CHECK(seen_inf);
    free(text);
    sluice_metrics_free(m);
}

static void test_labels_and_values(void)
{
    char err[128];
    long n = parse("# HELP x y\n\nx{a=\"q\\\"u,o}te\",b=\"2\"} 1e3\ny +Inf\nz NaN 1700000000\n"
                   "w{} -4\n",
                   err, sizeof err);
    CHECK_EQ(n, 4);
    CHECK(out[0].value == 1000);
    char v[32];
    CHECK_EQ(prom_label(out[0].labels, "a", v, sizeof v), 0);
    CHECK_STR(v, "q\"u,o}te");
    CHECK_EQ(prom_label(out[0].labels, "b", v, sizeof v), 0);
    CHECK_STR(v, "2");
    CHECK_EQ(prom_label(out[0].labels, "c", v, sizeof v), -1);
    CHECK(isinf(out[1].value));
    CHECK(isnan(out[2].value)); /* the timestamp is ignored */
    CHECK(out[3].value == -4 && out[3].labels[0] == '\0');
    CHECK_EQ(parse("", err, sizeof err), 0);
    CHECK_EQ(parse("x 1", err, sizeof err), 1); /* no final newline */
}

static void test_malformed_lines_are_refused_with_their_line(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"x 1\n9x 2\n", "line 2: expected a metric name (column 1)"},
        {"x 1\n  {a=\"1\"} 2\n", "line 2: expected a metric name (column 3)"},
        {"x{a=\"1\" 2\n", "line 1: expected ',' or '}' after a label value of x (column 9)"},
        {"x{a=\"}\n", "line 1: unterminated label value of x"},
        {"x{a=\"1\\\n", "line 1: unterminated label value of x"},
        {"x{a=\"\\t\"} 1\n", "line 1: bad escape in a label value of x"},
        {"x{a} 1\n", "line 1: expected '=' after a label name of x"},
        {"x{a=1} 1\n", "line 1: expected '\"' to open a label value of x"},
        {"x{=\"1\"} 1\n", "line 1: expected a label name or '}'"},
        {"x{,} 1\n", "line 1: expected a label name or '}'"},
        {"x{a=\"1\"b=\"2\"} 1\n", "line 1: expected ',' or '}'"},
        {"x{a=\"1\"} garbage\n", "line 1: value 'garbage' of x is not a number (column 10)"},
        {"x\n", "line 1: expected a space before the value of x"},
        {"x{a=\"1\"}2\n", "line 1: expected a space"},
        {"x 12abc\n", "line 1: value '12abc' of x is not a number"},
        {"x \n", "line 1: missing the value of x"},
        {"x 1 17x\n", "line 1: unexpected text after the timestamp of x (column 7)"},
        {"x 1 17 18\n", "line 1: unexpected text after the timestamp of x"},
        {"x 1 - \n", "line 1: unexpected text after the value of x"},
        {"\n\n# c\nx{a=\"1\"} one\n", "line 4: value 'one'"},
        {"x 1\x1b[2J\n", "line 1: value '1?[2J' of x is not a number"},
        {"x 1111111111111111111111111111111111111111111111111111111111111111111111\n",
         "line 1: value of x longer than 63 bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[160] = "";
        CHECK_EQ(parse(bad[i].text, err, sizeof err), PROM_MALFORMED);
        CHECK_CONTAINS(err, bad[i].want);
    }
    /* Bounds: a name over 127 bytes, labels over 511. */
    char longname[300];
    memset(longname, 'a', 200);
    strcpy(longname + 200, " 1\n");
    char err[160];
    CHECK_EQ(parse(longname, err, sizeof err), PROM_MALFORMED);
    CHECK_CONTAINS(err, "metric name longer than 127 bytes");
    char longlabels[700] = "x{a=\"";
    memset(longlabels + 5, 'v', 600);
    strcpy(longlabels + 605, "\"} 1\n");
    CHECK_EQ(parse(longlabels, err, sizeof err), PROM_MALFORMED);
    CHECK_CONTAINS(err, "labels of x longer than 511 bytes");
    /* A NUL byte is never part of a sample (the input has a length). */
    static const char nul[] = "x{a=\"b\0c\"} 1\n";
    CHECK_EQ(prom_parse(nul, sizeof nul - 1, out, 64, err, sizeof err), PROM_MALFORMED);
    CHECK_CONTAINS(err, "NUL byte in a label value of x");
    /* A message cut by a small buffer stays terminated. */
    char tiny[12];
    CHECK_EQ(parse("x{a} 1\n", tiny, sizeof tiny), PROM_MALFORMED);
    CHECK_STR(tiny, "line 1: exp");
}

/* More samples than room: the first max are kept and the caller told. */
static void test_too_many_samples_keeps_the_first(void)
{
    char many[64 * 8 + 16] = "";
    for (int i = 0; i < 65; i++) {
        char line[16];
        snprintf(line, sizeof line, "x %d\n", i);
        strcat(many, line);
    }
    char err[128];
    CHECK_EQ(parse(many, err, sizeof err), PROM_TOO_MANY);
    CHECK_CONTAINS(err, "line 65: more than 64 samples");
    CHECK(out[0].value == 0 && out[63].value == 63);
}

/* Every prefix of a valid exposition either parses or is refused: cutting a
 * line anywhere must not make the parser read past the end (ASan). */
static void test_every_prefix_is_safe(void)
{
    static const char text[] = "# TYPE a counter\na{b=\"x\\\"y\\n\",c=\"2\",} 1.5e3 1700000000\n"
                               "d_bucket{le=\"+Inf\"} 3\r\ne -Inf\n";
    char err[160];
    for (size_t len = 0; len <= sizeof text - 1; len++) {
        char *copy = malloc(len ? len : 1);
        memcpy(copy, text, len);
        long n = prom_parse(copy, len, out, 64, err, sizeof err);
        CHECK(n >= PROM_MALFORMED);
        free(copy);
    }
    CHECK_EQ(prom_parse(text, sizeof text - 1, out, 64, err, sizeof err), 3);
    char v[16];
    CHECK_EQ(prom_label(out[0].labels, "b", v, sizeof v), 0);
    CHECK_STR(v, "x\"y\n");
    CHECK_EQ(prom_label(out[0].labels, "c", v, sizeof v), 0);
    CHECK_STR(v, "2");
    CHECK_EQ(prom_label(out[0].labels, "b", v, 3), 0); /* truncated, terminated */
    CHECK_STR(v, "x\"");
    CHECK(out[1].value == 3 && isinf(out[2].value) && out[2].value < 0);
}

TEST_MAIN(T(test_round_trip_of_our_own_metrics), T(test_labels_and_values),
          T(test_malformed_lines_are_refused_with_their_line),
          T(test_too_many_samples_keeps_the_first), T(test_every_prefix_is_safe))
