/*
 * test_metrics.c — the metrics registry: exact Prometheus text for every
 * series kind, get-or-create identity, the max_series bound and its counter,
 * refusals (bad names, labels, type/help mismatches), exact sums under
 * concurrent updates, scopes (callback series unbound when a part stops,
 * bound again by its successor), and the process RSS reader. Single process; the
 * concurrency test uses plain pthreads.
 */
#include "test.h"

#include <sluice/log.h>
#include <sluice/metrics.h>

#include "common/metrics_scope.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define DROPPED_HEAD                                                                               \
    "# HELP sluice_metrics_series_dropped_total Series not created because the registry held "     \
    "metrics.max_series series.\n"                                                                 \
    "# TYPE sluice_metrics_series_dropped_total counter\n"

/* Log lines captured from the registry, to check what it reports and how often. */
static _Atomic int g_log_lines;
static char g_last_log[1024];

static void capture_log(sluice_log_level level, const char *line, void *opaque)
{
    (void)level;
    (void)opaque;
    atomic_fetch_add(&g_log_lines, 1);
    snprintf(g_last_log, sizeof g_last_log, "%s", line);
}

static void capture_logs(void)
{
    atomic_store(&g_log_lines, 0);
    g_last_log[0] = '\0';
    sluice_log_set_sink(capture_log, NULL);
}

static char *render(sluice_metrics *m)
{
    char *text = NULL;
    size_t len = 0;
    if (sluice_metrics_render(m, &text, &len) != 0) return NULL;
    if (strlen(text) != len) {
        free(text);
        return NULL;
    }
    return text;
}

static uint64_t answer_fn(void *opaque)
{
    return *(uint64_t *)opaque;
}

static double tenth_fn(void *opaque)
{
    (void)opaque;
    return 0.1;
}

static void test_render_every_kind(void)
{
    sluice_metrics *m = sluice_metrics_new(100);
    CHECK(m != NULL);
    sluice_counter *reg = sluice_metrics_counter(m, "sr_requests_total", "Registry requests.",
                                                 "endpoint=\"register\",status=\"200\"");
    sluice_counter *look = sluice_metrics_counter(m, "sr_requests_total", "Registry requests.",
                                                  "endpoint=\"lookup\",status=\"404\"");
    sluice_counter_add(reg, 3);
    sluice_counter_inc(look);
    sluice_gauge *q = sluice_metrics_gauge(m, "sink_queue_bytes", "Bytes queued.", NULL);
    sluice_gauge_set(q, 1.5);
    sluice_gauge_add(q, 2.0);
    sluice_gauge *neg = sluice_metrics_gauge(m, "sink_odd", "Odd values.", "v=\"neg\"");
    sluice_gauge *inf = sluice_metrics_gauge(m, "sink_odd", "Odd values.", "v=\"inf\"");
    sluice_gauge *nan = sluice_metrics_gauge(m, "sink_odd", "Odd values.", "v=\"nan\"");
    sluice_gauge *big = sluice_metrics_gauge(m, "sink_odd", "Odd values.", "v=\"big\"");
    sluice_gauge_set(neg, -3);
    sluice_gauge_set(inf, INFINITY);
    sluice_gauge_set(nan, NAN);
    sluice_gauge_set(big, 1e20);
    static const double bounds[] = {0.25, 0.5, 1};
    sluice_histogram *h = sluice_metrics_histogram(m, "sink_insert_seconds", "Insert latency.",
                                                   "table=\"t\"", bounds, 3);
    sluice_histogram_observe(h, 0.125);
    sluice_histogram_observe(h, 0.25); /* le is inclusive */
    sluice_histogram_observe(h, 0.75);
    sluice_histogram_observe(h, 2);
    sluice_histogram *bare =
        sluice_metrics_histogram(m, "sink_batch_rows", "Rows per batch.", NULL, bounds, 1);
    sluice_histogram_observe(bare, 0.5);
    uint64_t answer = 42;
    CHECK_EQ(sluice_metrics_counter_fn(m, "sr_cache_hits_total", "Cache hits.", "cache=\"id\"",
                                       answer_fn, &answer),
             0);
    CHECK_EQ(sluice_metrics_gauge_fn(m, "sr_ratio", "A ratio.", NULL, tenth_fn, NULL), 0);

    char *text = render(m);
    CHECK(text != NULL);
    CHECK_STR(text, DROPPED_HEAD "sluice_metrics_series_dropped_total 0\n"
                                 "# HELP sr_requests_total Registry requests.\n"
                                 "# TYPE sr_requests_total counter\n"
                                 "sr_requests_total{endpoint=\"register\",status=\"200\"} 3\n"
                                 "sr_requests_total{endpoint=\"lookup\",status=\"404\"} 1\n"
                                 "# HELP sink_queue_bytes Bytes queued.\n"
                                 "# TYPE sink_queue_bytes gauge\n"
                                 "sink_queue_bytes 3.5\n"
                                 "# HELP sink_odd Odd values.\n"
                                 "# TYPE sink_odd gauge\n"
                                 "sink_odd{v=\"neg\"} -3\n"
                                 "sink_odd{v=\"inf\"} +Inf\n"
                                 "sink_odd{v=\"nan\"} NaN\n"
                                 "sink_odd{v=\"big\"} 1e+20\n"
                                 "# HELP sink_insert_seconds Insert latency.\n"
                                 "# TYPE sink_insert_seconds histogram\n"
                                 "sink_insert_seconds_bucket{table=\"t\",le=\"0.25\"} 2\n"
                                 "sink_insert_seconds_bucket{table=\"t\",le=\"0.5\"} 2\n"
                                 "sink_insert_seconds_bucket{table=\"t\",le=\"1\"} 3\n"
                                 "sink_insert_seconds_bucket{table=\"t\",le=\"+Inf\"} 4\n"
                                 "sink_insert_seconds_sum{table=\"t\"} 3.125\n"
                                 "sink_insert_seconds_count{table=\"t\"} 4\n"
                                 "# HELP sink_batch_rows Rows per batch.\n"
                                 "# TYPE sink_batch_rows histogram\n"
                                 "sink_batch_rows_bucket{le=\"0.25\"} 0\n"
                                 "sink_batch_rows_bucket{le=\"+Inf\"} 1\n"
                                 "sink_batch_rows_sum 0.5\n"
                                 "sink_batch_rows_count 1\n"
                                 "# HELP sr_cache_hits_total Cache hits.\n"
                                 "# TYPE sr_cache_hits_total counter\n"
                                 "sr_cache_hits_total{cache=\"id\"} 42\n"
                                 "# HELP sr_ratio A ratio.\n"
                                 "# TYPE sr_ratio gauge\n"
                                 "sr_ratio 0.1\n");
    free(text);

    /* fn series are read at render time, not at registration */
    answer = 43;
    text = render(m);
    CHECK(text != NULL);
    CHECK_CONTAINS(text, "sr_cache_hits_total{cache=\"id\"} 43\n");
    free(text);

    CHECK_EQ(sluice_counter_value(reg), 3);
    CHECK(sluice_gauge_value(q) == 3.5);
    CHECK_EQ(sluice_histogram_count(h), 4);
    sluice_metrics_free(m);
}

static void test_help_is_escaped(void)
{
    sluice_metrics *m = sluice_metrics_new(10);
    sluice_counter_inc(sluice_metrics_counter(m, "x_total", "Line one\nback\\slash.", NULL));
    char *text = render(m);
    CHECK(text != NULL);
    CHECK_CONTAINS(text, "# HELP x_total Line one\\nback\\\\slash.\n# TYPE x_total counter\n"
                         "x_total 1\n");
    free(text);
    sluice_metrics_free(m);
}

static void test_label_escape(void)
{
    char out[64];
    CHECK_EQ(sluice_metrics_label_escape(out, sizeof out, "a\"b\\c\nd"), 10);
    CHECK_STR(out, "a\\\"b\\\\c\\nd");
    CHECK_EQ(sluice_metrics_label_escape(out, sizeof out, "plain"), 5);
    CHECK_STR(out, "plain");
    /* truncation never splits an escape: 'a' fits, '\"' (2 bytes) does not */
    CHECK_EQ(sluice_metrics_label_escape(out, 3, "a\"b"), 4);
    CHECK_STR(out, "a");
    CHECK_EQ(sluice_metrics_label_escape(NULL, 0, "\"\""), 4);

    /* an escaped value makes a valid series and renders as given */
    sluice_metrics *m = sluice_metrics_new(10);
    char labels[128], value[64];
    sluice_metrics_label_escape(value, sizeof value, "my \"sub\"");
    snprintf(labels, sizeof labels, "subject=\"%s\"", value);
    sluice_counter *c = sluice_metrics_counter(m, "sr_subject_total", "Per subject.", labels);
    sluice_counter_inc(c);
    CHECK_EQ(sluice_counter_value(c), 1);
    char *text = render(m);
    CHECK(text != NULL);
    CHECK_CONTAINS(text, "sr_subject_total{subject=\"my \\\"sub\\\"\"} 1\n");
    free(text);
    sluice_metrics_free(m);
}

static void test_get_or_create_returns_same_handle(void)
{
    sluice_metrics *m = sluice_metrics_new(10);
    sluice_counter *a = sluice_metrics_counter(m, "a_total", "A.", "k=\"1\"");
    sluice_counter *b = sluice_metrics_counter(m, "a_total", "A.", "k=\"1\"");
    sluice_counter *other = sluice_metrics_counter(m, "a_total", "A.", "k=\"2\"");
    CHECK(a == b);
    CHECK(a != other);
    sluice_gauge *g1 = sluice_metrics_gauge(m, "g", "G.", "");
    sluice_gauge *g2 = sluice_metrics_gauge(m, "g", "G.", NULL); /* NULL and "" are the same */
    CHECK(g1 == g2);
    static const double bounds[] = {1, 2};
    sluice_histogram *h1 = sluice_metrics_histogram(m, "h", "H.", NULL, bounds, 2);
    sluice_histogram *h2 = sluice_metrics_histogram(m, "h", "H.", NULL, bounds, 2);
    CHECK(h1 == h2);
    sluice_counter_add(a, 5);
    CHECK_EQ(sluice_counter_value(b), 5);
    /* a series with two label sets is two series, a family is one HELP/TYPE */
    char *text = render(m);
    CHECK(text != NULL);
    CHECK_CONTAINS(text,
                   "# TYPE a_total counter\na_total{k=\"1\"} 5\na_total{k=\"2\"} 0\n# HELP g");
    free(text);
    sluice_metrics_free(m);
}

static void test_max_series_bound(void)
{
    capture_logs();
    sluice_metrics *m = sluice_metrics_new(2);
    sluice_counter *a = sluice_metrics_counter(m, "a_total", "A.", "n=\"1\"");
    sluice_counter *b = sluice_metrics_counter(m, "a_total", "A.", "n=\"2\"");
    CHECK_EQ(atomic_load(&g_log_lines), 0);
    sluice_counter *c = sluice_metrics_counter(m, "a_total", "A.", "n=\"3\"");
    sluice_gauge *g = sluice_metrics_gauge(m, "g", "G.", NULL);
    CHECK(c != NULL && c != a && c != b);
    CHECK(g != NULL);
    sluice_counter_add(c, 7); /* dropped */
    sluice_gauge_set(g, 7);
    CHECK_EQ(sluice_counter_value(c), 0);
    CHECK(sluice_gauge_value(g) == 0.0);
    CHECK_EQ(atomic_load(&g_log_lines), 1); /* logged once, not per refusal */
    CHECK_CONTAINS(g_last_log, "metrics.max_series reached");
    CHECK_CONTAINS(g_last_log, "max_series=2");
    /* existing series are still found at the bound */
    CHECK(sluice_metrics_counter(m, "a_total", "A.", "n=\"1\"") == a);
    CHECK_EQ(sluice_metrics_gauge_fn(m, "fn_g", "F.", NULL, tenth_fn, NULL), -1);
    sluice_counter_inc(a);
    char *text = render(m);
    CHECK(text != NULL);
    CHECK_STR(text, DROPPED_HEAD "sluice_metrics_series_dropped_total 3\n"
                                 "# HELP a_total A.\n"
                                 "# TYPE a_total counter\n"
                                 "a_total{n=\"1\"} 1\n"
                                 "a_total{n=\"2\"} 0\n");
    free(text);
    sluice_metrics_free(m);
    sluice_log_set_sink(NULL, NULL);
}

static void test_refusals(void)
{
    capture_logs();
    sluice_metrics *m = sluice_metrics_new(100);
    sluice_counter *ok = sluice_metrics_counter(m, "x_total", "X.", NULL);
    sluice_counter_inc(ok);

    /* same name, another type or help: detached, logged */
    sluice_gauge *g = sluice_metrics_gauge(m, "x_total", "X.", NULL);
    sluice_gauge_set(g, 5);
    CHECK(sluice_gauge_value(g) == 0.0);
    CHECK_CONTAINS(g_last_log, "registered again with another type");
    sluice_counter *other_help = sluice_metrics_counter(m, "x_total", "Other.", "a=\"b\"");
    CHECK(other_help != ok);
    sluice_counter_inc(other_help);
    CHECK_EQ(sluice_counter_value(other_help), 0);
    /* the same series as a callback */
    CHECK_EQ(sluice_metrics_counter_fn(m, "x_total", "X.", NULL, answer_fn, NULL), -1);

    int before = atomic_load(&g_log_lines);
    static const char *const bad_names[] = {"", "1abc", "a-b", "a b", "é"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        sluice_counter *c = sluice_metrics_counter(m, bad_names[i], "Bad.", NULL);
        sluice_counter_inc(c);
        CHECK_EQ(sluice_counter_value(c), 0);
    }
    CHECK_EQ(atomic_load(&g_log_lines), before + 5);
    CHECK_CONTAINS(g_last_log, "invalid metric name");
    CHECK(sluice_metrics_counter(m, "ns:sub_total", "Colons are fine.", NULL) !=
          sluice_metrics_counter(m, "a-b", "Bad.", NULL));

    static const char *const bad_labels[] = {
        "a=\"1",      "a=1",      "a=\"1\",",  "=\"1\"",     "a=\"1\"b=\"2\"",
        "a=\"x\\y\"", "1a=\"x\"", "__a=\"x\"", "a=\"x\ny\"", "a = \"1\"",
    };
    for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
        sluice_counter *c = sluice_metrics_counter(m, "y_total", "Y.", bad_labels[i]);
        sluice_counter_inc(c);
        CHECK_EQ(sluice_counter_value(c), 0);
    }
    CHECK_CONTAINS(g_last_log, "invalid labels");
    sluice_counter *good =
        sluice_metrics_counter(m, "y_total", "Y.", "a=\"x\\\\y\\\"z\\n\",b=\"\"");
    sluice_counter_inc(good);
    CHECK_EQ(sluice_counter_value(good), 1);

    /* histograms: `le` is theirs; bounds must increase */
    static const double bounds[] = {1, 2};
    static const double unordered[] = {2, 1};
    sluice_histogram *h = sluice_metrics_histogram(m, "h", "H.", "le=\"1\"", bounds, 2);
    sluice_histogram_observe(h, 1);
    CHECK_EQ(sluice_histogram_count(h), 0);
    h = sluice_metrics_histogram(m, "h", "H.", NULL, unordered, 2);
    sluice_histogram_observe(h, 1);
    CHECK_EQ(sluice_histogram_count(h), 0);
    h = sluice_metrics_histogram(m, "h", "H.", NULL, bounds, 2);
    sluice_histogram_observe(h, 1);
    CHECK_EQ(sluice_histogram_count(h), 1);
    /* same series, other bounds: refused */
    sluice_histogram *h2 = sluice_metrics_histogram(m, "h", "H.", NULL, bounds, 1);
    CHECK(h2 != h);

    char *text = render(m);
    CHECK(text != NULL);
    CHECK(strstr(text, "# TYPE x_total gauge") == NULL);
    CHECK(strstr(text, "Other.") == NULL);
    CHECK(strstr(text, "y_total{a=\"1") == NULL);
    CHECK_CONTAINS(text, "x_total 1\n");
    CHECK_CONTAINS(text, "y_total{a=\"x\\\\y\\\"z\\n\",b=\"\"} 1\n");
    CHECK_CONTAINS(text, "sluice_metrics_series_dropped_total 0\n"); /* refusals are not drops */
    free(text);
    sluice_metrics_free(m);
    sluice_log_set_sink(NULL, NULL);
}

static void test_null_registry_is_detached(void)
{
    sluice_counter *c = sluice_metrics_counter(NULL, "a_total", "A.", NULL);
    CHECK(c != NULL);
    sluice_counter_inc(c);
    CHECK_EQ(sluice_counter_value(c), 0);
    sluice_histogram *h = sluice_metrics_histogram(NULL, "h", "H.", NULL, NULL, 0);
    sluice_histogram_observe(h, 1);
    CHECK_EQ(sluice_histogram_count(h), 0);
    CHECK_EQ(sluice_metrics_counter_fn(NULL, "a", "A.", NULL, answer_fn, NULL), -1);
    sluice_metrics_free(NULL);
}

#define THREADS 4
#define ITERS 200000

typedef struct worker {
    sluice_metrics *m;
    sluice_counter *c;
} worker;

static void *hammer(void *arg)
{
    worker *w = arg;
    /* every thread also does its own get-or-create of a shared series */
    sluice_counter *mine = sluice_metrics_counter(w->m, "shared_total", "Shared.", "k=\"v\"");
    sluice_gauge *g = sluice_metrics_gauge(w->m, "level", "Level.", NULL);
    static const double bounds[] = {10, 100};
    sluice_histogram *h = sluice_metrics_histogram(w->m, "lat", "Lat.", NULL, bounds, 2);
    for (int i = 0; i < ITERS; i++) {
        sluice_counter_inc(w->c);
        sluice_counter_add(mine, 2);
        sluice_gauge_add(g, 1.0);
        sluice_histogram_observe(h, (double)(i % 200));
    }
    return NULL;
}

static void test_concurrent_updates_sum_exactly(void)
{
    sluice_metrics *m = sluice_metrics_new(100);
    worker w = {m, sluice_metrics_counter(m, "hits_total", "Hits.", NULL)};
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, hammer, &w), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(sluice_counter_value(w.c), (uint64_t)THREADS * ITERS);
    CHECK_EQ(sluice_counter_value(sluice_metrics_counter(m, "shared_total", "Shared.", "k=\"v\"")),
             2ull * THREADS * ITERS);
    CHECK(sluice_gauge_value(sluice_metrics_gauge(m, "level", "Level.", NULL)) ==
          (double)THREADS * ITERS);
    static const double bounds[] = {10, 100};
    sluice_histogram *h = sluice_metrics_histogram(m, "lat", "Lat.", NULL, bounds, 2);
    CHECK_EQ(sluice_histogram_count(h), (uint64_t)THREADS * ITERS);
    /* per thread: i%200 in 0..10 -> 11 of every 200, 0..100 -> 101 of every 200 */
    char *text = render(m);
    CHECK(text != NULL);
    char expect[256];
    snprintf(expect, sizeof expect,
             "lat_bucket{le=\"10\"} %d\nlat_bucket{le=\"100\"} %d\nlat_bucket{le=\"+Inf\"} %d\n",
             THREADS * ITERS / 200 * 11, THREADS * ITERS / 200 * 101, THREADS * ITERS);
    CHECK_CONTAINS(text, expect);
    /* sum of 0..199 is 19900 per 200 observations; every partial sum is an
     * integer below 2^53, so the CAS-added double is exact */
    snprintf(expect, sizeof expect, "lat_sum %d\n", THREADS * (ITERS / 200) * 19900);
    CHECK_CONTAINS(text, expect);
    free(text);
    sluice_metrics_free(m);
}

static void test_process_rss(void)
{
    uint64_t rss = sluice_process_rss_bytes();
    long page = sysconf(_SC_PAGESIZE);
    CHECK(rss > 0);
    CHECK_EQ(rss % (uint64_t)page, 0);
    /* touching 32 MiB must show up */
    size_t n = 32u << 20;
    char *p = malloc(n);
    CHECK(p != NULL);
    for (size_t i = 0; i < n; i += 4096)
        ((volatile char *)p)[i] = 1; /* volatile: the optimiser may not drop it */
    uint64_t after = sluice_process_rss_bytes();
    CHECK_INT(after, >=, rss + n / 2);
    free(p);
}

static double one_fn(void *opaque)
{
    return *(double *)opaque;
}

/* A part replaced on reload: its callback series leave /metrics with its
 * scope, its successor binds them again (or takes them over while both
 * live), plain series are the registry's and keep their values, and the
 * old part's memory is never read after its scope is freed. */
static void test_scopes_unbind_and_rebind(void)
{
    sluice_metrics *m = sluice_metrics_new(100);
    CHECK(m != NULL);
    sluice_metrics *a = metrics_scope_new(m);
    CHECK(a != NULL);
    double *va = malloc(sizeof *va);
    *va = 1;
    CHECK_EQ(sluice_metrics_gauge_fn(a, "part_gauge", "G.", "p=\"0\"", one_fn, va), 0);
    sluice_counter *c = sluice_metrics_counter(a, "part_total", "C.", NULL);
    sluice_counter_add(c, 5);
    char *text = render(m);
    CHECK(text && strstr(text, "part_gauge{p=\"0\"} 1\n") && strstr(text, "part_total 5\n"));
    free(text);
    /* The same scope registering again is still a bug. */
    capture_logs();
    CHECK_EQ(sluice_metrics_gauge_fn(a, "part_gauge", "G.", "p=\"0\"", one_fn, va), -1);
    CHECK(strstr(g_last_log, "registered twice") != NULL);
    sluice_log_set_sink(NULL, NULL);

    /* A successor takes the series over while the first still lives. */
    sluice_metrics *b = metrics_scope_new(m);
    double vb = 2;
    CHECK_EQ(sluice_metrics_gauge_fn(b, "part_gauge", "G.", "p=\"0\"", one_fn, &vb), 0);
    text = render(m);
    CHECK(text && strstr(text, "part_gauge{p=\"0\"} 2\n"));
    free(text);
    /* Freeing the first unbinds nothing of the second's. */
    metrics_scope_free(a);
    free(va);
    text = render(m);
    CHECK(text && strstr(text, "part_gauge{p=\"0\"} 2\n"));
    free(text);
    /* The plain counter is the registry's: same handle, same value. */
    CHECK(sluice_metrics_counter(b, "part_total", "C.", NULL) == c);

    /* Freeing the second: the series is gone from the text, the family
     * header stays, the counter stays. */
    metrics_scope_free(b);
    text = render(m);
    CHECK(text && !strstr(text, "part_gauge{") && strstr(text, "part_total 5\n"));
    free(text);
    /* A third binds it again. */
    sluice_metrics *c3 = metrics_scope_new(m);
    double v3 = 3;
    CHECK_EQ(sluice_metrics_gauge_fn(c3, "part_gauge", "G.", "p=\"0\"", one_fn, &v3), 0);
    text = render(m);
    CHECK(text && strstr(text, "part_gauge{p=\"0\"} 3\n"));
    free(text);
    /* A scope of a scope is a scope of the registry. */
    sluice_metrics *nested = metrics_scope_new(c3);
    CHECK(nested != NULL);
    CHECK_EQ(sluice_metrics_gauge_fn(nested, "nested_gauge", "N.", NULL, one_fn, &v3), 0);
    metrics_scope_free(nested);
    text = render(m);
    CHECK(text && !strstr(text, "nested_gauge 3"));
    free(text);
    /* A closed scope refuses callbacks; its plain series still count. */
    metrics_scope_close(c3);
    text = render(m);
    CHECK(text && !strstr(text, "part_gauge{"));
    free(text);
    CHECK_EQ(sluice_metrics_gauge_fn(c3, "late_gauge", "L.", NULL, one_fn, &v3), -1);
    sluice_counter_inc(sluice_metrics_counter(c3, "part_total", "C.", NULL));
    CHECK_EQ(sluice_counter_value(c), 6);
    metrics_scope_free(c3);
    metrics_scope_free(NULL);
    CHECK(metrics_scope_new(NULL) == NULL);
    /* A plain fn series of the registry itself is not taken over. */
    CHECK_EQ(sluice_metrics_gauge_fn(m, "root_gauge", "R.", NULL, one_fn, &v3), 0);
    sluice_metrics *d = metrics_scope_new(m);
    capture_logs();
    CHECK_EQ(sluice_metrics_gauge_fn(d, "root_gauge", "R.", NULL, one_fn, &vb), -1);
    sluice_log_set_sink(NULL, NULL);
    metrics_scope_free(d);
    sluice_metrics_free(m);
}

TEST_MAIN(T(test_render_every_kind), T(test_help_is_escaped), T(test_label_escape),
          T(test_get_or_create_returns_same_handle), T(test_max_series_bound), T(test_refusals),
          T(test_null_registry_is_detached), T(test_concurrent_updates_sum_exactly),
          T(test_process_rss), T(test_scopes_unbind_and_rebind))
