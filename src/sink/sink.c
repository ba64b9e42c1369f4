/*
 * sink.c — `sluice sink` assembled: routes resolved from the configuration,
 * the Kafka consumer and dead-letter producer configured, metrics
 * registered, the consumer thread and the writer threads started; and the
 * orderly stop (drain, commit, join, free).
 *
 * Threads: sink_start and sink_stop run on the caller's (main) thread; see
 * sink_int.h for what each sink thread owns.
 */
#include "sink/sink_int.h"

#include <sluice/log.h>

#include "app/kafka_conf.h"
#include "codec/expr.h"
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- metrics -------------------------------------------------------------- */

static double g_buffered(void *p)
{
    return (double)atomic_load(&((part *)p)->m_buffered);
}
static double g_paused(void *p)
{
    return (double)atomic_load(&((part *)p)->m_paused);
}
static double g_lag(void *p)
{
    return (double)atomic_load(&((part *)p)->m_lag);
}
static double g_committed(void *p)
{
    return (double)atomic_load(&((part *)p)->m_committed);
}
static double g_queue_depth(void *p)
{
    return (double)atomic_load(&((sink *)p)->q.m_depth);
}
static double g_queue_bytes(void *p)
{
    return (double)atomic_load(&((sink *)p)->q.m_bytes);
}
static double g_memory_limit(void *p)
{
    return (double)((sink *)p)->cfg->sink.memory_limit;
}

void sink_partition_metrics(sink *s, part *p)
{
    /* Series are registered once per (topic, partition) and read the
     * partition's atomic mirrors through a stable pointer. */
    char topic[256], labels[400];
    sluice_metrics_label_escape(topic, sizeof topic, s->routes[p->route].cfg->topic);
    snprintf(labels, sizeof labels, "topic=\"%s\",partition=\"%d\"", topic, (int)p->partition);
    /* get-or-create would refuse a second fn series of the same name and
     * labels: a re-assigned partition already has its series. */
    sluice_metrics_gauge_fn(s->m, "sluice_sink_partition_buffered_bytes",
                            "Bytes of consumed messages not yet in ClickHouse or the DLQ", labels,
                            g_buffered, p);
    sluice_metrics_gauge_fn(s->m, "sluice_sink_partition_paused",
                            "1 while the partition is paused for back pressure", labels, g_paused,
                            p);
    sluice_metrics_gauge_fn(s->m, "sluice_sink_partition_lag",
                            "High watermark minus the next offset to commit", labels, g_lag, p);
    sluice_metrics_gauge_fn(s->m, "sluice_sink_partition_committed_offset",
                            "The next offset sluice will commit (-1: none yet)", labels,
                            g_committed, p);
}

static const double latency_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,    2.5,   5,    10,  30};
static const double row_buckets[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
static const double byte_buckets[] = {1024, 16384, 131072, 1048576, 8388608, 67108864};

static void route_metrics(sink *s, route_rt *r)
{
    char topic[256], table[256], labels[600];
    sluice_metrics_label_escape(topic, sizeof topic, r->cfg->topic);
    sluice_metrics_label_escape(table, sizeof table, r->cfg->table);
    snprintf(labels, sizeof labels, "topic=\"%s\",table=\"%s\"", topic, table);
    sluice_metrics *m = s->m;
    r->m_messages =
        sluice_metrics_counter(m, "sluice_sink_messages_total", "Messages consumed", labels);
    r->m_rows =
        sluice_metrics_counter(m, "sluice_sink_rows_inserted_total", "Rows in ClickHouse", labels);
    r->m_filtered = sluice_metrics_counter(m, "sluice_sink_rows_filtered_total",
                                           "Rows dropped by the route's filter", labels);
    r->m_dlq = sluice_metrics_counter(m, "sluice_sink_dlq_messages_total",
                                      "Messages sent to the dead-letter topic", labels);
    r->m_inserts =
        sluice_metrics_counter(m, "sluice_sink_inserts_total", "Successful INSERTs", labels);
    r->m_insert_bytes = sluice_metrics_counter(m, "sluice_sink_insert_bytes_total",
                                               "RowBinary bytes inserted", labels);
    r->m_retries = sluice_metrics_counter(m, "sluice_sink_insert_retries_total",
                                          "INSERTs retried after a transient failure", labels);
    char kl[700];
    snprintf(kl, sizeof kl, "%s,kind=\"transient\"", labels);
    r->m_errors_transient =
        sluice_metrics_counter(m, "sluice_sink_errors_total", "Errors by kind", kl);
    snprintf(kl, sizeof kl, "%s,kind=\"data\"", labels);
    r->m_errors_data = sluice_metrics_counter(m, "sluice_sink_errors_total", "Errors by kind", kl);
    snprintf(kl, sizeof kl, "%s,kind=\"config\"", labels);
    r->m_errors_config =
        sluice_metrics_counter(m, "sluice_sink_errors_total", "Errors by kind", kl);
    snprintf(kl, sizeof kl, "%s,kind=\"decode\"", labels);
    r->m_errors_decode =
        sluice_metrics_counter(m, "sluice_sink_errors_total", "Errors by kind", kl);
    r->m_batch_rows =
        sluice_metrics_histogram(m, "sluice_sink_batch_rows", "Rows per landed batch", labels,
                                 row_buckets, sizeof row_buckets / sizeof row_buckets[0]);
    r->m_batch_bytes = sluice_metrics_histogram(
        m, "sluice_sink_batch_bytes", "Message bytes per landed batch", labels, byte_buckets,
        sizeof byte_buckets / sizeof byte_buckets[0]);
    r->m_insert_seconds = sluice_metrics_histogram(
        m, "sluice_sink_insert_seconds", "Latency of successful INSERTs", labels, latency_buckets,
        sizeof latency_buckets / sizeof latency_buckets[0]);
}

/* Time accounting (sink_int.h): each series reads one atomic. */
typedef struct time_series {
    _Atomic uint64_t *v;
    double scale; /* to seconds */
} time_series;

static double g_time(void *p)
{
    const time_series *t = p;
    return (double)atomic_load_explicit(t->v, memory_order_relaxed) * t->scale;
}

static double g_stage_rows(void *p)
{
    return (double)atomic_load_explicit(&((sink *)p)->stage_rows, memory_order_relaxed);
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
        s->time_series[i] = (time_series){&s->stage_row_us[i], 1e-6};
        snprintf(labels, sizeof labels, "stage=\"%s\"", stages[i]);
        sluice_metrics_gauge_fn(s->m, "sluice_sink_stage_row_seconds",
                                "Rows x seconds that landed batches spent in each stage, since "
                                "start (divide by sluice_sink_stage_rows for a row's mean)",
                                labels, g_time, &s->time_series[i]);
    }
    sluice_metrics_gauge_fn(s->m, "sluice_sink_stage_rows", "Rows of the batches accounted",
                            NULL, g_stage_rows, s);
    for (int i = 0; i < N_WRITER_STATES; i++) {
        s->time_series[N_STAGES + i] = (time_series){&s->writer_ns[i], 1e-9};
        snprintf(labels, sizeof labels, "state=\"%s\"", wstates[i]);
        sluice_metrics_gauge_fn(s->m, "sluice_sink_writer_seconds",
                                "Seconds the writer threads together spent in each state, since "
                                "start",
                                labels, g_time, &s->time_series[N_STAGES + i]);
    }
    for (int i = 0; i < N_CONSUMER_STATES; i++) {
        s->time_series[N_STAGES + N_WRITER_STATES + i] =
            (time_series){&s->consumer_ns[i], 1e-9};
        snprintf(labels, sizeof labels, "state=\"%s\"", cstates[i]);
        sluice_metrics_gauge_fn(s->m, "sluice_sink_consumer_seconds",
                                "Seconds the consumer thread spent polling librdkafka and working, "
                                "since start",
                                labels, g_time, &s->time_series[N_STAGES + N_WRITER_STATES + i]);
    }
}

static void sink_metrics(sink *s)
{
    sluice_metrics *m = s->m;
    s->m_pauses = sluice_metrics_counter(m, "sluice_sink_partition_pauses_total",
                                         "Partitions paused at their high mark", NULL);
    s->m_resumes = sluice_metrics_counter(m, "sluice_sink_partition_resumes_total",
                                          "Partitions resumed below their low mark", NULL);
    s->m_pause_calls =
        sluice_metrics_counter(m, "sluice_sink_pause_calls_total",
                               "rd_kafka_pause_partitions calls (one per turn at most)", NULL);
    s->m_resume_calls = sluice_metrics_counter(m, "sluice_sink_resume_calls_total",
                                               "rd_kafka_resume_partitions calls", NULL);
    s->m_refetched = sluice_metrics_counter(
        m, "sluice_sink_refetched_messages_total",
        "Messages polled for a paused partition and left to be re-read on resume", NULL);
    s->m_rebalances = sluice_metrics_counter(m, "sluice_sink_rebalances_total",
                                             "Assignments and revocations", NULL);
    s->m_commit_errors = sluice_metrics_counter(m, "sluice_sink_commit_errors_total",
                                                "Offset store or commit failures", NULL);
    sluice_metrics_gauge_fn(m, "sluice_sink_queue_batches", "Batches waiting for a writer", NULL,
                            g_queue_depth, s);
    sluice_metrics_gauge_fn(m, "sluice_sink_queue_bytes", "Message bytes waiting for a writer",
                            NULL, g_queue_bytes, s);
    sluice_metrics_gauge_fn(m, "sluice_sink_memory_limit_bytes", "sink.memory_limit", NULL,
                            g_memory_limit, s);
    time_metrics(s);
}

/* ---- routes ---------------------------------------------------------------- */

static int setup_route(sink *s, route_rt *r, int index, const app_route_config *c,
                       sluice_error *err)
{
    r->index = index;
    r->cfg = c;
    pthread_mutex_init(&r->mu, NULL);
    arena_init(&r->cols_arena, 8192, SIZE_MAX);
    char tmp[512];
    r->dlq_topic = strdup(app_route_dlq_topic(c, tmp, sizeof tmp));
    snprintf(tmp, sizeof tmp, "%s-value", c->topic);
    r->subject = strdup(c->subject ? c->subject : tmp);
    if (!r->dlq_topic || !r->subject) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    char route[64];
    snprintf(route, sizeof route, "sink.routes[%d]", index);
    if (strcmp(c->flatten, ".") != 0 && strcmp(c->flatten, "_") != 0)
        return sluice_error_set(err, SLUICE_ECONFIG,
                                "%s.flatten: must be \".\" or \"_\", got \"%s\"", route,
                                c->flatten);
    if (strcmp(r->dlq_topic, c->topic) == 0)
        return sluice_error_set(
            err, SLUICE_ECONFIG,
            "%s.dlq_topic: the dead-letter topic cannot be the route's own topic", route);
    r->opt.route = strdup(route);
    r->opt.separator = c->flatten[0];
    r->opt.extra_fields = c->extra_fields ? PLAN_EXTRA_REJECT : PLAN_EXTRA_IGNORE;
    r->opt.explode = c->transform.explode;
    r->opt.filter = c->transform.filter;
    const cfg_map *cols = &c->transform.columns;
    if (cols->n) {
        r->derived = calloc(cols->n, sizeof *r->derived);
        if (!r->derived) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
        for (size_t i = 0; i < cols->n; i++)
            r->derived[i] = (plan_derived){cols->keys[i], cols->values[i]};
        r->opt.derived = r->derived;
        r->opt.n_derived = cols->n;
    }
    route_metrics(s, r);
    return 0;
}

static void free_route(route_rt *r)
{
    batch_free(r->open);
    free(r->dlq_topic);
    free(r->subject);
    free((char *)r->opt.route);
    free(r->derived);
    arena_free(&r->cols_arena);
    pthread_mutex_destroy(&r->mu);
}

/* clickhouse.settings as URL parameters (escaped). */
static char *settings_query(const cfg_map *m)
{
    buf b;
    buf_init(&b, 1 << 16);
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < m->n; i++) {
        if (i) buf_append_byte(&b, '&');
        for (int half = 0; half < 2; half++) {
            const char *t = half ? m->values[i] : m->keys[i];
            if (half) buf_append_byte(&b, '=');
            for (const unsigned char *q = (const unsigned char *)t; *q; q++) {
                if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                    (*q >= '0' && *q <= '9') || strchr("-_.~", *q)) {
                    buf_append_byte(&b, *q);
                } else {
                    buf_append_byte(&b, '%');
                    buf_append_byte(&b, (uint8_t)hex[*q >> 4]);
                    buf_append_byte(&b, (uint8_t)hex[*q & 15]);
                }
            }
        }
    }
    return buf_detach(&b, NULL);
}

/* ---- start / stop ------------------------------------------------------------ */

static void free_sink(sink *s)
{
    if (s->consumer) rd_kafka_destroy(s->consumer);
    dlq_free(s->dlq);
    while (s->pending_head) {
        batch *b = s->pending_head;
        s->pending_head = b->next;
        batch_free(b);
    }
    while (s->done_head) {
        batch *b = s->done_head;
        s->done_head = b->next;
        batch_free(b);
    }
    for (size_t i = 0; i < s->n_routes; i++)
        free_route(&s->routes[i]);
    free(s->routes);
    part_table_free(&s->parts);
    wq_destroy(&s->q);
    pthread_mutex_destroy(&s->done_mu);
    pthread_mutex_destroy(&s->rl_mu);
    free(s->writers);
    free(s->ch_settings);
    free(s->time_series);
    free(s);
}

int sink_start(const app_config *cfg, const char *brokers, sluice_sr *sr, sluice_metrics *m,
               sink **out, sluice_error *err)
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
    sink *s = calloc(1, sizeof *s);
    if (!s) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    s->cfg = cfg;
    uint64_t rest =
        sc->memory_limit - SINK_BASELINE_BYTES; /* config ensures the limit exceeds it */
    s->budget.partitions = rest / 2;
    s->budget.writer_rows = rest / 4 / (uint64_t)sc->writers;
    if (s->budget.writer_rows < (1u << 20)) s->budget.writer_rows = 1u << 20;
    s->budget.kafka_queue = rest / 8;
    s->brokers = brokers;
    s->sr = sr;
    s->m = m;
    pthread_mutex_init(&s->done_mu, NULL);
    pthread_mutex_init(&s->rl_mu, NULL);
    s->rl_last_ms = 0;
    /* The queue is part of the partition budget (what waits in it is
     * counted there); its own bound keeps most of it with the consumer,
     * where it can still be grouped into bigger batches. */
    wq_init(&s->q, s->budget.partitions / 2);
    s->ch_settings = settings_query(&cfg->clickhouse.settings);
    s->routes = calloc(sc->routes.n, sizeof *s->routes);
    int rc =
        s->routes && s->ch_settings ? 0 : sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < sc->routes.n; i++) {
        rc = setup_route(s, &s->routes[i], (int)i, &routes[i], err);
        s->n_routes = i + 1;
    }
    if (rc == 0) sink_metrics(s);

    /* The consumer: librdkafka's prefetch queue and fetch responses share
     * their part of the budget; a small queue also means pausing (which
     * discards a partition's prefetched messages) has little to throw away. */
    char queued_kb[32], fetch_max[32];
    uint64_t q = s->budget.kafka_queue / 2 / 1024, f = s->budget.kafka_queue / 2;
    snprintf(queued_kb, sizeof queued_kb, "%llu",
             (unsigned long long)(q < 512     ? 512
                                  : q > 65536 ? 65536
                                              : q));
    snprintf(fetch_max, sizeof fetch_max, "%llu",
             (unsigned long long)(f < (1u << 20)    ? (1u << 20)
                                  : f > (32u << 20) ? (32u << 20)
                                                    : f));
    const kafka_setting defaults[] = {
        {"queued.max.messages.kbytes", queued_kb},
        {"fetch.max.bytes", fetch_max},
        {"max.partition.fetch.bytes", "1048576"},
        {"partition.assignment.strategy", "range,roundrobin"},
        {"session.timeout.ms", "30000"},
        /* Stored offsets go to the broker once a second: after a kill -9 the
         * next owner re-reads at most about a second of landed rows. */
        {"auto.commit.interval.ms", "1000"},
        {"client.id", "sluice-sink"},
    };
    const kafka_setting forced[] = {
        {"group.id", sc->group_id},
        {"auto.offset.reset", sc->auto_offset_reset ? "latest" : "earliest"},
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", "true"},
        {"enable.partition.eof", "false"},
    };
    if (rc == 0) {
        rd_kafka_conf_t *conf = kafka_conf_new(brokers, &cfg->kafka.properties, forced,
                                               sizeof forced / sizeof forced[0], defaults,
                                               sizeof defaults / sizeof defaults[0], err);
        if (!conf) {
            rc = SLUICE_ECONFIG;
        } else {
            consumer_set_rebalance(conf, s);
            char why[512];
            s->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
            if (!s->consumer) rc = sluice_error_set(err, SLUICE_ECONFIG, "kafka consumer: %s", why);
        }
    }
    if (rc == 0) {
        const kafka_setting dflt[] = {{"linger.ms", "5"}, {"client.id", "sluice-sink-dlq"}};
        const kafka_setting force[] = {{"enable.idempotence", "true"}, {"acks", "all"}};
        rd_kafka_conf_t *conf =
            kafka_conf_new(brokers, &cfg->kafka.properties, force, 2, dflt, 2, err);
        rc = conf ? dlq_new(conf, &s->dlq, err) : SLUICE_ECONFIG;
    }
    if (rc == 0) {
        rd_kafka_poll_set_consumer(s->consumer);
        rd_kafka_topic_partition_list_t *topics =
            rd_kafka_topic_partition_list_new((int)s->n_routes);
        for (size_t i = 0; i < s->n_routes; i++)
            rd_kafka_topic_partition_list_add(topics, routes[i].topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(s->consumer, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (e)
            rc = sluice_error_set(err, SLUICE_ECONFIG, "kafka subscribe: %s", rd_kafka_err2str(e));
    }
    s->writers = rc == 0 ? calloc((size_t)sc->writers, sizeof *s->writers) : NULL;
    if (rc == 0 && !s->writers) rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (int64_t i = 0; rc == 0 && i < sc->writers; i++) {
        void *w = writer_new(s, (int)i, err);
        if (!w || pthread_create(&s->writers[i], NULL, writer_main, w) != 0) {
            rc = w ? sluice_error_set(err, SLUICE_EINTERNAL, "cannot start a writer thread")
                   : err->code;
            free(w);
            break;
        }
        s->n_writers++;
    }
    if (rc == 0 && pthread_create(&s->consumer_thread, NULL, consumer_main, s) != 0)
        rc = sluice_error_set(err, SLUICE_EINTERNAL, "cannot start the consumer thread");
    if (rc) {
        wq_close(&s->q);
        for (size_t i = 0; i < s->n_writers; i++)
            pthread_join(s->writers[i], NULL);
        free_sink(s);
        return rc;
    }
    char n[16];
    snprintf(n, sizeof n, "%zu", s->n_routes);
    sluice_log(SLUICE_LOG_INFO, "sink", "started", "brokers", brokers, "group", sc->group_id,
               "routes", n, (char *)0);
    *out = s;
    return 0;
}

int sink_ready(const sink *s)
{
    return atomic_load(&((sink *)s)->ready);
}

int sink_stop(sink *s)
{
    if (!s) return 0;
    atomic_store(&s->stopping, 1);
    pthread_join(s->consumer_thread, NULL);
    /* Writers still retrying give up at the drain deadline; then they see
     * the closed queue and leave. */
    if (!atomic_load(&s->give_up_ms)) atomic_store(&s->give_up_ms, 1);
    wq_close(&s->q);
    for (size_t i = 0; i < s->n_writers; i++)
        pthread_join(s->writers[i], NULL);
    /* Batches nobody took: their offsets were never committed. */
    batch *b;
    while ((b = wq_pop(&s->q)) != NULL)
        batch_free(b);
    int result = s->drain_result;
    sluice_log(SLUICE_LOG_INFO, "sink",
               result ? "stopped; some batches did not land (they will be read again)"
                      : "stopped; everything consumed landed and was committed",
               (char *)0);
    free_sink(s);
    return result;
}
