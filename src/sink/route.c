/*
 * route.c — a route resolved from its configuration (see route.h): the
 * dead-letter topic and reader subject defaults, the plan options, the
 * metrics. Runs on the main thread at start and stop.
 */
#include "sink/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double latency_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,    2.5,   5,    10,  30};
static const double row_buckets[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
static const double byte_buckets[] = {1024, 16384, 131072, 1048576, 8388608, 67108864};

static double g_exactly_once(void *p)
{
    return (double)atomic_load(&((route_rt *)p)->exactly_once_m);
}

static void route_metrics(route_rt *r, sluice_metrics *m)
{
    char topic[256], table[256], labels[600];
    sluice_metrics_label_escape(topic, sizeof topic, r->cfg->topic);
    sluice_metrics_label_escape(table, sizeof table, r->cfg->table);
    snprintf(labels, sizeof labels, "topic=\"%s\",table=\"%s\"", topic, table);
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
    r->m_intents =
        sluice_metrics_counter(m, "sluice_sink_eo_intents_total",
                               "Exactly-once intents committed to Kafka before an INSERT", labels);
    r->m_replays = sluice_metrics_counter(
        m, "sluice_sink_eo_replayed_batches_total",
        "Batches rebuilt from an intent found in Kafka and inserted again (the server ignores "
        "the block if the first INSERT landed)",
        labels);
    r->m_replay_rows = sluice_metrics_counter(m, "sluice_sink_eo_replayed_rows_total",
                                              "Rows in replayed batches", labels);
    r->m_replay_changed = sluice_metrics_counter(
        m, "sluice_sink_eo_replays_changed_total",
        "Replays whose table columns changed since the intent: the block may differ and be "
        "stored twice",
        labels);
    r->m_replay_failed = sluice_metrics_counter(
        m, "sluice_sink_eo_replay_failures_total",
        "Intents whose messages could not be read again (deleted by retention): read from the "
        "intent's start at least once",
        labels);
    r->m_stale = sluice_metrics_counter(
        m, "sluice_sink_eo_stale_batches_total",
        "Exactly-once batches given up because their partitions were reassigned before they "
        "landed (the next owner replays their intent)",
        labels);
    sluice_metrics_gauge_fn(m, "sluice_sink_route_exactly_once",
                            "1 when the route runs exactly-once, 0 at-least-once", labels,
                            g_exactly_once, r);
    r->m_insert_seconds = sluice_metrics_histogram(
        m, "sluice_sink_insert_seconds", "Latency of successful INSERTs", labels, latency_buckets,
        sizeof latency_buckets / sizeof latency_buckets[0]);
}

int sink_route_setup(route_rt *r, int index, const app_route_config *c, sluice_metrics *m,
                     sluice_error *err)
{
    r->index = index;
    r->cfg = c;
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->turn_mu, NULL);
    pthread_cond_init(&r->turn_cv, NULL);
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
    route_metrics(r, m);
    return 0;
}

void sink_route_free(route_rt *r)
{
    free(r->dlq_topic);
    free(r->subject);
    free((char *)r->opt.route);
    free(r->derived);
    arena_free(&r->cols_arena);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->turn_mu);
    pthread_cond_destroy(&r->turn_cv);
}
