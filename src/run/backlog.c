/*
 * backlog.c — see backlog.h.
 */
#include "run/backlog.h"

#include <sluice/log.h>

#include <librdkafka/rdkafka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 100
#define QUERY_TIMEOUT_MS 1000

typedef struct topic_state {
    char name[256];
    atomic_ullong admitted_bytes; /* cumulative, counted at admission */
    atomic_ullong admitted_events;
    atomic_ullong window_base;   /* admitted_bytes two polls ago */
    atomic_ullong backlog_bytes; /* fullest partition's estimate at the last poll */
    /* Of the topic's recent growth, the largest share one partition took
     * (per mille; 1000 until measured): recent admissions are counted
     * against the fullest partition at twice that share. */
    atomic_uint share_pm;
    /* What a message of the topic takes in the broker's log, × 16 (0 until
     * measured): the larger of the producer's last two statistics windows
     * (backlog_guard_wire). Until then, and without statistics, its size as
     * ingest encoded it (uncompressed), which errs high. */
    atomic_uint wire_x16, wire_last_x16;
    unsigned long long prev_snapshot; /* guard thread only */
    int64_t *prev_hi;                 /* guard thread only: per partition, at the last poll */
    int n_prev_hi;
    int warned_unread;            /* guard thread only */
    struct timespec unread_since; /* guard thread only; 0: read or empty */
} topic_state;

struct backlog_guard {
    uint64_t limit;
    rd_kafka_t *rk;
    char *group;
    pthread_t thread;
    atomic_int stop;
    pthread_mutex_t add_mu;
    atomic_size_t n;
    topic_state topics[BACKLOG_MAX_TOPICS];
    sluice_counter *m_refused;
};

static topic_state *find(backlog_guard *g, const char *topic)
{
    size_t n = atomic_load_explicit(&g->n, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        if (strcmp(g->topics[i].name, topic) == 0) return &g->topics[i];
    return NULL;
}

static topic_state *find_or_add(backlog_guard *g, const char *topic)
{
    topic_state *t = find(g, topic);
    if (t || strlen(topic) >= sizeof t->name) return t;
    pthread_mutex_lock(&g->add_mu);
    t = find(g, topic);
    size_t n = atomic_load(&g->n);
    if (!t && n < BACKLOG_MAX_TOPICS) {
        t = &g->topics[n];
        snprintf(t->name, sizeof t->name, "%s", topic);
        atomic_store(&t->share_pm, 1000);
        atomic_store_explicit(&g->n, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&g->add_mu);
    return t;
}

/* Bytes as ingest encoded them (uncompressed), in the log's bytes: scaled
 * by what a message takes there against what ingest encoded, once the
 * producer has measured it. */
static unsigned long long in_log_bytes(topic_state *t, unsigned long long encoded)
{
    unsigned w = atomic_load(&t->wire_x16);
    unsigned long long events = atomic_load(&t->admitted_events);
    unsigned long long admitted = atomic_load(&t->admitted_bytes);
    if (!w || !events || !admitted || !encoded) return encoded;
    return (unsigned long long)((double)encoded * (w / 16.0) /
                                ((double)admitted / (double)events)) +
           1;
}

/* The fullest partition's unconsumed bytes at the last poll, plus its
 * share of what was admitted since (twice the largest share a partition
 * took of the topic's last growth, all of it while unmeasured or uneven). */
static unsigned long long estimate(topic_state *t)
{
    unsigned long long admitted = atomic_load(&t->admitted_bytes);
    unsigned long long recent = admitted - atomic_load(&t->window_base);
    unsigned pm = atomic_load(&t->share_pm);
    if (pm < 500) recent = recent * 2 * (pm ? pm : 1) / 1000;
    return atomic_load(&t->backlog_bytes) + in_log_bytes(t, recent);
}

void backlog_guard_wire(void *guard, const char *topic, uint64_t messages, uint64_t bytes)
{
    backlog_guard *g = guard;
    topic_state *t = find_or_add(g, topic);
    if (!t || !messages) return;
    uint64_t x16 = (bytes * 16 + messages - 1) / messages;
    if (x16 > UINT32_MAX) x16 = UINT32_MAX;
    unsigned last = atomic_exchange(&t->wire_last_x16, (unsigned)x16);
    atomic_store(&t->wire_x16, (unsigned)x16 > last ? (unsigned)x16 : last);
}

int backlog_guard_admit(void *guard, const char *topic, size_t events, size_t bytes, char *why,
                        size_t why_len)
{
    backlog_guard *g = guard;
    topic_state *t = find_or_add(g, topic);
    if (!t) {
        snprintf(why, why_len, "embedded Kafka: more than %d topics in use", BACKLOG_MAX_TOPICS);
        sluice_counter_inc(g->m_refused);
        return -1;
    }
    unsigned long long est = estimate(t);
    /* A request is admitted into an empty topic whatever its size, or a
     * request larger than the limit could never be written. */
    if (est > 0 && est + in_log_bytes(t, bytes) > g->limit) {
        snprintf(why, why_len,
                 "embedded Kafka: topic %s has about %llu unconsumed bytes in a partition "
                 "(limit %llu) and drops data past it; the sink is behind, retry later",
                 topic, est, (unsigned long long)g->limit);
        sluice_counter_inc(g->m_refused);
        return -1;
    }
    atomic_fetch_add(&t->admitted_bytes, bytes);
    atomic_fetch_add(&t->admitted_events, events);
    return 0;
}

/* The fullest partition's unconsumed message count, or -1 on a query error. */
static long long worst_partition(backlog_guard *g, topic_state *t, int *unread)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(g->rk, t->name, NULL);
    if (!rkt) return -1;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(g->rk, 0, rkt, &md, QUERY_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (e || md->topic_cnt != 1 || md->topics[0].err) {
        if (!e) rd_kafka_metadata_destroy(md);
        return -1;
    }
    int parts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
    for (int p = 0; p < parts; p++)
        rd_kafka_topic_partition_list_add(l, t->name, p);
    long long worst = 0;
    if (rd_kafka_committed(g->rk, l, QUERY_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(l);
        return -1;
    }
    *unread = 1;
    if (t->n_prev_hi != parts) {
        int64_t *q = realloc(t->prev_hi, (size_t)(parts > 0 ? parts : 1) * sizeof *q);
        if (!q) {
            rd_kafka_topic_partition_list_destroy(l);
            return -1;
        }
        for (int i = 0; i < parts; i++)
            q[i] = -1;
        t->prev_hi = q;
        t->n_prev_hi = parts;
    }
    int64_t grew_total = 0, grew_max = 0;
    for (int i = 0; i < l->cnt; i++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(g->rk, t->name, l->elems[i].partition, &lo, &hi,
                                             QUERY_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            worst = -1;
            break;
        }
        if (t->prev_hi[i] >= 0 && hi > t->prev_hi[i]) {
            grew_total += hi - t->prev_hi[i];
            if (hi - t->prev_hi[i] > grew_max) grew_max = hi - t->prev_hi[i];
        }
        t->prev_hi[i] = hi;
        int64_t from = l->elems[i].offset >= 0 ? l->elems[i].offset : lo;
        if (l->elems[i].offset >= 0) *unread = 0;
        if (from < lo) from = lo;
        if (hi - from > worst) worst = hi - from;
    }
    rd_kafka_topic_partition_list_destroy(l);
    /* How evenly the topic grew since the last poll (keys hash unevenly; a
     * single key puts everything in one partition): enough growth to tell,
     * or the last measure stands. */
    if (worst >= 0 && grew_total >= 1000)
        atomic_store(&t->share_pm, (unsigned)(grew_max * 1000 / grew_total));
    return worst;
}

static void *guard_main(void *arg)
{
    backlog_guard *g = arg;
    while (!atomic_load(&g->stop)) {
        size_t n = atomic_load_explicit(&g->n, memory_order_acquire);
        for (size_t i = 0; i < n && !atomic_load(&g->stop); i++) {
            topic_state *t = &g->topics[i];
            unsigned long long snap = atomic_load(&t->admitted_bytes);
            unsigned long long events = atomic_load(&t->admitted_events);
            int unread = 0;
            long long msgs = events ? worst_partition(g, t, &unread) : 0;
            if (msgs < 0) continue; /* keep the last estimate and window: errs high */
            unsigned long long mean = events ? snap / events + 1 : 0;
            unsigned w = atomic_load(&t->wire_x16);
            if (w) mean = w / 16 + 1; /* the log's bytes, once measured */
            atomic_store(&t->backlog_bytes, (unsigned long long)msgs * mean);
            /* Admissions before the previous poll's snapshot are either in
             * the watermarks by now or failed; later ones still count. */
            atomic_store(&t->window_base, t->prev_snapshot);
            t->prev_snapshot = snap;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (!unread || msgs == 0)
                t->unread_since.tv_sec = 0;
            else if (!t->unread_since.tv_sec)
                t->unread_since = now;
            /* Nothing ever committed for 30 s while it holds data. */
            if (t->unread_since.tv_sec && now.tv_sec - t->unread_since.tv_sec >= 30 &&
                !t->warned_unread) {
                t->warned_unread = 1;
                sluice_log(SLUICE_LOG_WARN, "run",
                           "nothing of this topic has been committed by the sink group for 30 s "
                           "(no sink route reads it?): the embedded Kafka holds only about "
                           "run.backlog_limit of it per partition, then ingest answers 429",
                           "topic", t->name, (char *)0);
            }
        }
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

uint64_t backlog_guard_max_bytes(backlog_guard *g)
{
    uint64_t m = 0;
    size_t n = atomic_load_explicit(&g->n, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        topic_state *t = &g->topics[i];
        uint64_t v = estimate(t);
        if (v > m) m = v;
    }
    return m;
}

static double max_bytes_fn(void *opaque)
{
    return (double)backlog_guard_max_bytes(opaque);
}

static double limit_fn(void *opaque)
{
    return (double)((backlog_guard *)opaque)->limit;
}

int backlog_guard_start(const char *bootstrap, const char *group_id, uint64_t limit_bytes,
                        sluice_metrics *m, backlog_guard **out, sluice_error *err)
{
    *out = NULL;
    backlog_guard *g = calloc(1, sizeof *g);
    if (!g) return sluice_error_set(err, SLUICE_ENOMEM, "backlog guard: out of memory");
    g->limit = limit_bytes;
    pthread_mutex_init(&g->add_mu, NULL);
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "group.id", group_id, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "client.id", "sluice-run-backlog-guard", errstr, sizeof errstr)) {
        rd_kafka_conf_destroy(conf);
        free(g);
        return sluice_error_set(err, SLUICE_ECONFIG, "backlog guard: %s", errstr);
    }
    g->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!g->rk) {
        rd_kafka_conf_destroy(conf);
        free(g);
        return sluice_error_set(err, SLUICE_EIO, "backlog guard: %s", errstr);
    }
    g->m_refused = sluice_metrics_counter(
        m, "sluice_run_backlog_refusals_total",
        "Requests ingest refused (429) because a partition of the embedded Kafka neared its limit.",
        NULL);
    sluice_metrics_gauge_fn(m, "sluice_run_backlog_bytes",
                            "Largest estimated unconsumed bytes of one partition (embedded Kafka).",
                            NULL, max_bytes_fn, g);
    sluice_metrics_gauge_fn(m, "sluice_run_backlog_limit_bytes", "run.backlog_limit.", NULL,
                            limit_fn, g);
    if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
        rd_kafka_destroy(g->rk);
        free(g);
        return sluice_error_set(err, SLUICE_ENOMEM, "backlog guard: cannot start a thread");
    }
    *out = g;
    return 0;
}

void backlog_guard_stop(backlog_guard *g)
{
    if (!g) return;
    atomic_store(&g->stop, 1);
    pthread_join(g->thread, NULL);
    for (size_t i = 0; i < atomic_load(&g->n); i++)
        free(g->topics[i].prev_hi);
    rd_kafka_destroy(g->rk);
    pthread_mutex_destroy(&g->add_mu);
    free(g);
}
