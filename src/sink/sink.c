/*
 * sink.c — `sluice sink` assembled (pipeline.h has the shape): the routes
 * resolved, the memory budget split, the work queue and the
 * acknowledgements created, the writers and the consumer started; and the
 * orderly stop — the consumer drains and commits, then the writers leave.
 * The sink-wide metrics (the queue, the time accounting) are registered
 * here; each stage registers its own.
 *
 * Threads: sink_start and sink_stop run on the caller's (main) thread.
 *
 * Metrics go through two scopes of the process's registry
 * (common/metrics_scope.h), so that a sink can be stopped and another
 * started in the same process (a reload): the stages' (pl->m; the
 * partitions' gauges read the consumer's table) are unbound when the
 * sink starts to stop, before the consumer frees that; sink.c's own (the queue and
 * time accounting, read from `pl`) stay until the sink is freed.
 */
#include "sink/sink.h"

#include <sluice/log.h>

#include "codec/expr.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "common/metrics_scope.h"
#include "sink/ch_http.h"
#include "sink/consumer.h"
#include "sink/delivery.h"
#include "sink/pipeline.h"
#include "sink/writer.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct time_series time_series;

struct sink {
    pipeline pl;
    char *brokers;
    consumer *consumer; /* set by the starter once every route's delivery is decided */
    writers *writers;
    time_series *time_series;  /* one per exported time series */
    sluice_metrics *own_scope; /* sink.c's series */
    pthread_t starter;
    int starter_running;
    _Atomic int started; /* the consumer runs */
    _Atomic int failed;  /* the starter gave up: fail_reason says why */
    char fail_reason[SLUICE_ERROR_MSG_MAX];
};

/* ---- metrics -------------------------------------------------------------- */

static double g_queue_depth(void *p)
{
    return (double)atomic_load(&((pipeline *)p)->q.m_depth);
}
static double g_queue_bytes(void *p)
{
    return (double)atomic_load(&((pipeline *)p)->q.m_bytes);
}
static double g_failovers(void *p)
{
    return (double)atomic_load(&((pipeline *)p)->ch_failovers);
}
static double g_memory_limit(void *p)
{
    return (double)((pipeline *)p)->cfg->sink.memory_limit;
}

/* Time accounting (pipeline.h): each series reads one atomic. */
struct time_series {
    _Atomic uint64_t *v;
    double scale; /* to seconds */
};

static double g_time(void *p)
{
    const time_series *t = p;
    return (double)atomic_load_explicit(t->v, memory_order_relaxed) * t->scale;
}

static double g_stage_rows(void *p)
{
    return (double)atomic_load_explicit(&((pipeline *)p)->times.stage_rows, memory_order_relaxed);
}

static void time_metrics(sink *s)
{
    static const char *stages[N_STAGES] = {"open",   "pending", "queued",    "decode",
                                           "insert", "dlq",     "completion"};
    static const char *wstates[N_WRITER_STATES] = {"idle", "decode", "insert", "other"};
    static const char *cstates[N_CONSUMER_STATES] = {"poll", "work"};
    char labels[64];
    s->time_series = calloc(N_STAGES + N_WRITER_STATES + N_CONSUMER_STATES, sizeof *s->time_series);
    if (!s->time_series) return; /* no time metrics; nothing else depends on them */
    for (int i = 0; i < N_STAGES; i++) {
        s->time_series[i] = (time_series){&s->pl.times.stage_row_us[i], 1e-6};
        snprintf(labels, sizeof labels, "stage=\"%s\"", stages[i]);
        sluice_metrics_gauge_fn(s->own_scope, "sluice_sink_stage_row_seconds",
                                "Rows x seconds that landed batches spent in each stage, since "
                                "start (divide by sluice_sink_stage_rows for a row's mean)",
                                labels, g_time, &s->time_series[i]);
    }
    sluice_metrics_gauge_fn(s->own_scope, "sluice_sink_stage_rows", "Rows of the batches accounted",
                            NULL, g_stage_rows, &s->pl);
    for (int i = 0; i < N_WRITER_STATES; i++) {
        s->time_series[N_STAGES + i] = (time_series){&s->pl.times.writer_ns[i], 1e-9};
        snprintf(labels, sizeof labels, "state=\"%s\"", wstates[i]);
        sluice_metrics_gauge_fn(s->own_scope, "sluice_sink_writer_seconds",
                                "Seconds the writer threads together spent in each state, since "
                                "start",
                                labels, g_time, &s->time_series[N_STAGES + i]);
    }
    for (int i = 0; i < N_CONSUMER_STATES; i++) {
        s->time_series[N_STAGES + N_WRITER_STATES + i] =
            (time_series){&s->pl.times.consumer_ns[i], 1e-9};
        snprintf(labels, sizeof labels, "state=\"%s\"", cstates[i]);
        sluice_metrics_gauge_fn(s->own_scope, "sluice_sink_consumer_seconds",
                                "Seconds the consumer thread spent polling librdkafka and working, "
                                "since start",
                                labels, g_time, &s->time_series[N_STAGES + N_WRITER_STATES + i]);
    }
}

static void sink_metrics(sink *s)
{
    sluice_metrics *m = s->own_scope;
    sluice_metrics_gauge_fn(m, "sluice_sink_queue_batches", "Batches waiting for a writer", NULL,
                            g_queue_depth, &s->pl);
    sluice_metrics_gauge_fn(m, "sluice_sink_queue_bytes", "Message bytes waiting for a writer",
                            NULL, g_queue_bytes, &s->pl);
    sluice_metrics_gauge_fn(m, "sluice_sink_memory_limit_bytes", "sink.memory_limit", NULL,
                            g_memory_limit, &s->pl);
    sluice_metrics_gauge_fn(m, "sluice_sink_clickhouse_failovers",
                            "Times a writer moved to the next of clickhouse.urls after a failure",
                            NULL, g_failovers, &s->pl);
    time_metrics(s);
}

/* ---- start / stop ------------------------------------------------------------ */

/* Decide every route's delivery (which needs ClickHouse: retried until it
 * answers or the sink stops), then start the consumer. On its own thread,
 * so that a ClickHouse that is down at start delays consuming, not the
 * process's start, its metrics and its signals. */
static void *starter_main(void *arg)
{
    sink *s = arg;
    pipeline *pl = &s->pl;
    pthread_setname_np(pthread_self(), "sink-start");
    char *settings = ch_settings_query(&pl->cfg->clickhouse.settings);
    ch_http_config hc;
    ch_http_config_from(pl->cfg, settings, &hc);
    ch_http *ch = NULL;
    sluice_error err;
    int rc = ch_http_new(&hc, &ch, &err);
    uint64_t rng = backoff_seed();
    for (size_t i = 0; rc == 0 && i < pl->n_routes; i++) {
        for (int attempt = 1; !atomic_load(&pl->stopping); attempt++) {
            route_rt *r = &pl->routes[i];
            rc = delivery_decide(r, ch, &err);
            if (rc == 0 && atomic_load(&r->blocked)) sink_route_problem(r, NULL);
            if (rc == 0 || rc == SLUICE_ECONFIG) break;
            int64_t ms = backoff_delay_ms(attempt, 200, 5000, &rng);
            if (rc == SLUICE_ENOTFOUND ||
                (rc == SLUICE_EREMOTE && ch_http_classify(&err) == CH_FAIL_CONFIG)) {
                /* no such table, an unknown setting, no access: /readyz
                 * says so and it is asked again slowly */
                sluice_counter_inc(r->m_errors_config);
                sink_route_problem(r, err.msg);
                ms = pl->cfg->sink.blocked_retry_ms;
            } else {
                sluice_log(attempt == 1 ? SLUICE_LOG_WARN : SLUICE_LOG_DEBUG, "sink",
                           "cannot ask ClickHouse what the table supports; retrying", "table",
                           r->cfg->table, "error", err.msg, (char *)0);
            }
            for (int64_t slept = 0; slept < ms && !atomic_load(&pl->stopping); slept += 50)
                clock_sleep_ms(50);
            rc = 0;
        }
        if (atomic_load(&pl->stopping)) break;
    }
    ch_http_free(ch);
    free(settings);
    if (rc == 0 && !atomic_load(&pl->stopping))
        rc = consumer_start(pl, s->brokers, &s->consumer, &err);
    if (rc) {
        snprintf(s->fail_reason, sizeof s->fail_reason, "%s", err.msg);
        sluice_log(SLUICE_LOG_ERROR, "sink", "cannot start", "error", err.msg, (char *)0);
        atomic_store(&s->failed, rc == SLUICE_ECONFIG ? 2 : 1);
        return NULL;
    }
    if (s->consumer) atomic_store(&s->started, 1);
    return NULL;
}

static void free_sink(sink *s)
{
    pipeline *pl = &s->pl;
    metrics_scope_free(pl->m);
    metrics_scope_free(s->own_scope);
    /* Batches nobody took: their offsets were never committed. */
    batch *b;
    while ((b = wq_pop(&pl->q)) != NULL)
        batch_free(b);
    acks_destroy(&pl->acks);
    pthread_mutex_destroy(&pl->eo.mu);
    free(s->brokers);
    for (size_t i = 0; i < pl->n_routes; i++)
        sink_route_free(&pl->routes[i]);
    free(pl->routes);
    wq_destroy(&pl->q);
    free(s->time_series);
    free(s);
}

/* Any expression that parses resolves here: fields are checked when the
 * plan is built against a schema, syntax and arity now. */
static int resolve_any_field(void *ctx, const char *path)
{
    const app_route_config *r = ctx;
    return strcmp(path, "#index") == 0 && !r->transform.explode ? -1 : 0;
}

static int check_expression(const app_route_config *r, size_t i, const char *what, const char *text,
                            sluice_error *err)
{
    if (!text) return 0;
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    expr_resolver res = {resolve_any_field, (void *)r};
    const expr *e;
    sluice_error why;
    int rc = expr_compile(text, &res, &a, &e, &why);
    arena_free(&a);
    if (rc == SLUICE_ENOMEM) return sluice_error_set(err, rc, "out of memory");
    if (rc)
        return sluice_error_set(err, SLUICE_ECONFIG, "sink.routes[%zu].transform.%s: %s", i, what,
                                why.msg);
    return 0;
}

int sink_check_config(const app_config *cfg, const char *brokers, sluice_error *err)
{
    const app_sink_config *sc = &cfg->sink;
    const app_route_config *routes = sc->routes.items;
    if (!brokers) brokers = cfg->kafka.brokers;
    if (!brokers)
        return sluice_error_set(err, SLUICE_ECONFIG, "kafka.brokers: needed by `sluice sink`");
    if (sc->routes.n == 0)
        return sluice_error_set(err, SLUICE_ECONFIG, "sink.routes: at least one route is needed");
    for (size_t i = 0; i < sc->routes.n; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(routes[i].topic, routes[k].topic) == 0)
                return sluice_error_set(err, SLUICE_ECONFIG,
                                        "sink.routes[%zu].topic: '%s' is already routed by "
                                        "sink.routes[%zu] (one route per topic)",
                                        i, routes[i].topic, k);
    for (size_t i = 0; i < sc->routes.n; i++) {
        route_rt r;
        memset(&r, 0, sizeof r);
        int rc = sink_route_setup(&r, (int)i, &routes[i], NULL, err);
        sink_route_free(&r);
        if (rc == 0)
            rc = check_expression(&routes[i], i, "filter", routes[i].transform.filter, err);
        const cfg_map *cols = &routes[i].transform.columns;
        for (size_t c = 0; rc == 0 && c < cols->n; c++) {
            char what[320];
            snprintf(what, sizeof what, "columns.%s", cols->keys[c]);
            rc = check_expression(&routes[i], i, what, cols->values[c], err);
        }
        if (rc) return rc;
    }
    return 0;
}

/*
 * glibc's allocator raises its mmap threshold to the size of the largest
 * block freed (up to 32 MiB) and keeps up to twice that free at the top of
 * each thread's heap, so after a few large batch, fetch and INSERT buffers
 * come and go, every arena (one per busy thread) holds megabytes nobody
 * uses — outside the budget. At the 48 MiB minimum with 4 writers the sink
 * peaked at 51-56 MiB that way. Fixed thresholds bound it: blocks from
 * R/64 up (256 KiB..4 MiB) are mapped and unmapped instead of kept. Small
 * thresholds cost CPU (at 256 KiB librdkafka's fetch and decompression
 * buffers are mapped too: page faults and unmaps), large ones memory (at
 * 1 and 4 MiB the 48 MiB case peaked at 42.7-48.1 MiB against 39.1-42.6 at
 * 256 KiB), hence the fraction of R (docs/OPERATIONS.md, Memory).
 * GLIBC_TUNABLES naming either threshold wins over this. Process-wide:
 * `sluice run`'s ingest shares the setting.
 */
static void bound_allocator_slack(uint64_t rest)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && (strstr(t, "malloc.mmap_threshold") || strstr(t, "malloc.trim_threshold"))) return;
    uint64_t th = rest / 64;
    if (th < (256u << 10)) th = 256u << 10;
    if (th > (4u << 20)) th = 4u << 20;
    mallopt(M_MMAP_THRESHOLD, (int)th);
    mallopt(M_TRIM_THRESHOLD, (int)(2 * th));
}

int sink_start(const app_config *cfg, const char *brokers, sluice_sr *sr, sluice_metrics *m,
               sink **out, sluice_error *err)
{
    const app_sink_config *sc = &cfg->sink;
    const app_route_config *routes = sc->routes.items;
    int embedded = brokers != NULL; /* sluice run's own cluster */
    if (!brokers) brokers = cfg->kafka.brokers;
    int rc = sink_check_config(cfg, brokers, err);
    if (rc) return rc;
    sink *s = calloc(1, sizeof *s);
    if (!s) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    pipeline *pl = &s->pl;
    pl->cfg = cfg;
    uint64_t rest =
        sc->memory_limit - SINK_BASELINE_BYTES; /* config ensures the limit exceeds it */
    pl->budget.partitions = rest / 2;
    pl->budget.writer_rows = rest / 4 / (uint64_t)sc->writers;
    if (pl->budget.writer_rows < (1u << 20)) pl->budget.writer_rows = 1u << 20;
    pl->budget.kafka_queue = rest / 8;
    bound_allocator_slack(rest);
    pl->sr = sr;
    pl->m = metrics_scope_new(m);
    s->own_scope = metrics_scope_new(m);
    pthread_mutex_init(&pl->eo.mu, NULL);
    /* `sluice run`'s embedded Kafka (brokers given): its backlog guard
     * counts a partition's unread bytes from the committed offset, so
     * commit five times a second unless configured otherwise. */
    pl->commit_interval_ms =
        embedded && cfg->sink.commit_interval_ms == 1000 ? 200 : cfg->sink.commit_interval_ms;
    s->brokers = strdup(brokers);
    /* The queue is part of the partition budget (what waits in it is
     * counted there); its own bound keeps most of it with the consumer,
     * where it can still be grouped into bigger batches. */
    wq_init(&pl->q, pl->budget.partitions / 2);
    acks_init(&pl->acks);
    pl->routes = calloc(sc->routes.n, sizeof *pl->routes);
    rc = pl->routes ? 0 : sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < sc->routes.n; i++) {
        rc = sink_route_setup(&pl->routes[i], (int)i, &routes[i], pl->m, err);
        pl->n_routes = i + 1;
        /* The embedded Kafka's topics are written only by this process's
         * ingest, which validates every JSON Schema event it accepts:
         * checking each again here cost about 1 us/row (BENCHMARKS, Sink §6). */
        int v = routes[i].validate;
        pl->routes[i].validate = v == APP_VALIDATE_ALWAYS || (v == APP_VALIDATE_AUTO && !embedded);
        if (rc == 0 && !pl->routes[i].validate)
            sluice_log(SLUICE_LOG_INFO, "sink", "JSON Schema messages are not validated again",
                       "topic", routes[i].topic, "why",
                       v == APP_VALIDATE_NEVER
                           ? "validate: never"
                           : "the embedded Kafka is written only by this process's ingest, "
                             "which validates every event",
                       (char *)0);
    }
    if (rc == 0 && !s->brokers) rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    if (rc == 0) sink_metrics(s);
    if (rc == 0) rc = writers_start(pl, brokers, &s->writers, err);
    if (rc == 0) {
        if (pthread_create(&s->starter, NULL, starter_main, s) != 0)
            rc = sluice_error_set(err, SLUICE_EINTERNAL, "cannot start a thread");
        else
            s->starter_running = 1;
    }
    if (rc) {
        wq_close(&pl->q);
        writers_stop(s->writers);
        free_sink(s);
        return rc;
    }
    char n[16];
    snprintf(n, sizeof n, "%zu", pl->n_routes);
    sluice_log(SLUICE_LOG_INFO, "sink", "started", "brokers", brokers, "group", sc->group_id,
               "routes", n, (char *)0);
    *out = s;
    return 0;
}

int sink_ready(const sink *s)
{
    return atomic_load(&s->started) && consumer_ready(s->consumer);
}

int sink_blocked(const sink *s, char *why, size_t n)
{
    for (size_t i = 0; i < s->pl.n_routes; i++)
        if (sink_route_blocked(&((sink *)s)->pl.routes[i], why, n)) return 1;
    return 0;
}

int sink_started(const sink *s)
{
    return atomic_load(&((sink *)s)->started);
}

int sink_failed(const sink *s, char *why, size_t n)
{
    int f = atomic_load(&((sink *)s)->failed);
    if (f && why) snprintf(why, n, "%s", s->fail_reason);
    return f;
}

int sink_route_delivery(const sink *s, size_t i, const char **topic, int *exactly_once,
                        const char **why)
{
    if (!atomic_load(&((sink *)s)->started) || i >= s->pl.n_routes) return -1;
    *topic = s->pl.routes[i].cfg->topic;
    *exactly_once = s->pl.routes[i].exactly_once;
    *why = s->pl.routes[i].delivery_reason;
    return 0;
}

int sink_stop(sink *s)
{
    if (!s) return 0;
    pipeline *pl = &s->pl;
    atomic_store(&pl->stopping, 1);
    if (s->starter_running) pthread_join(s->starter, NULL);
    /* The partitions' gauges read the consumer's table, which
     * consumer_stop frees once the consumer thread has drained; closed
     * now, the scope also refuses a partition assigned while it drains. */
    metrics_scope_close(pl->m);
    int result = s->consumer ? consumer_stop(s->consumer) : 1;
    /* Writers still retrying give up at the drain deadline; then they see
     * the closed queue and leave. */
    if (!atomic_load(&pl->give_up_ms)) atomic_store(&pl->give_up_ms, 1);
    wq_close(&pl->q);
    writers_stop(s->writers);
    sluice_log(SLUICE_LOG_INFO, "sink",
               result ? "stopped; some batches did not land (they will be read again)"
                      : "stopped; everything consumed landed and was committed",
               (char *)0);
    free_sink(s);
    return result;
}
