/*
 * producer.c — ingest's side of Kafka (ingest_int.h has the flow): the
 * idempotent acks=all producer, one produce call per event pointing into
 * the request's own buffers (librdkafka copies nothing: the request lives
 * until its last delivery report), the poll thread that receives the
 * reports, and the deadline.
 *
 * A request is counted down, not locked: `outstanding` starts at the
 * number of events plus one for the worker that is still producing, each
 * delivery report takes one off, and whoever takes the last one answers
 * and frees. A report writes its event's partition and offset (or error)
 * and then publishes `state` with a release store, so the answer, which
 * runs after the count reached zero (or under the deadline, reading
 * `state` with acquire), sees finished events whole. The only lock a
 * report may take is the list lock, once per request, when it finishes it.
 *
 * Threads: producer_send runs on an HTTP worker; on_delivery and expire on
 * the poll thread; g->answer (ingest_answer) is called on either (under list_mu).
 */
#include "ingest/ingest_int.h"

#include "app/kafka_conf.h"
#include "common/clock.h"

#include <sluice/log.h>

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- requests ---------------------------------------------------------------------------- */

ingest_req *req_new(ingest *g, int route)
{
    ingest_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->g = g;
    r->route = route;
    r->value_schema_id = r->key_schema_id = -1;
    r->start_ns = clock_mono_ns();
    buf_init(&r->payload, SIZE_MAX);
    buf_init(&r->keys, SIZE_MAX);
    buf_init(&r->body, SIZE_MAX);
    return r;
}

void req_free(ingest_req *r)
{
    if (!r) return;
    buf_free(&r->payload);
    buf_free(&r->keys);
    buf_free(&r->body);
    free(r->msgs);
    free(r);
}

ingest_msg *req_add(ingest_req *r)
{
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 8;
        ingest_msg *m = realloc(r->msgs, ncap * sizeof *m);
        if (!m) return NULL;
        r->msgs = m;
        r->cap = ncap;
    }
    ingest_msg *m = &r->msgs[r->n++];
    m->r = r;
    m->voff = m->koff = 0;
    m->vlen = m->klen = SIZE_MAX;
    m->partition = -1;
    m->offset = -1;
    m->err = RD_KAFKA_RESP_ERR_NO_ERROR;
    atomic_init(&m->state, MSG_PENDING);
    return m;
}

static void unlink_req(ingest *g, ingest_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else if (g->head == r)
        g->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else if (g->tail == r)
        g->tail = r->prev;
    r->prev = r->next = NULL;
}

/* The last reference is gone: answer if the deadline did not, free. */
static void finish(ingest_req *r)
{
    ingest *g = r->g;
    pthread_mutex_lock(&g->list_mu);
    if (!r->answered) {
        r->answered = 1;
        g->answer(r, false);
    }
    unlink_req(g, r);
    pthread_mutex_unlock(&g->list_mu);
    req_free(r);
    atomic_fetch_sub(&g->pending, 1);
}

static void release(ingest_req *r, size_t k)
{
    if (atomic_fetch_sub_explicit(&r->outstanding, k, memory_order_acq_rel) == k) finish(r);
}

static void fail_msg(ingest_msg *m, rd_kafka_resp_err_t e)
{
    ingest_req *r = m->r;
    m->err = e;
    if (atomic_fetch_add(&r->failed, 1) == 0) atomic_store(&r->first_err, (int)e);
    atomic_store_explicit(&m->state, MSG_FAILED, memory_order_release);
}

/* librdkafka's statistics (statistics.interval.ms, only with a wire-size
 * hook): per topic, the window's record batches — "batchsize" (bytes of
 * each batch as sent: compressed, headers included) and "batchcnt"
 * (messages in each) — summed, handed to the hook. A document that does not
 * parse, or a topic without batches in the window, says nothing. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    ingest *g = opaque;
    json_error_t je;
    json_t *doc = json_loadb(json, len, 0, &je);
    json_t *topics = doc ? json_object_get(doc, "topics") : NULL;
    const char *name;
    json_t *t;
    json_object_foreach(topics, name, t)
    {
        json_t *size = json_object_get(json_object_get(t, "batchsize"), "sum");
        json_t *cnt = json_object_get(json_object_get(t, "batchcnt"), "sum");
        if (json_is_integer(size) && json_is_integer(cnt) && json_integer_value(cnt) > 0 &&
            json_integer_value(size) > 0)
            g->wire(g->wire_opaque, name, (uint64_t)json_integer_value(cnt),
                    (uint64_t)json_integer_value(size));
    }
    json_decref(doc);
    return 0; /* librdkafka frees json */
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *km, void *opaque)
{
    (void)rk;
    (void)opaque;
    ingest_msg *m = km->_private;
    if (!m) return;
    if (km->err) {
        fail_msg(m, km->err);
    } else {
        m->partition = km->partition;
        m->offset = km->offset;
        atomic_store_explicit(&m->state, MSG_OK, memory_order_release);
    }
    release(m->r, 1);
}

/* On the poll thread: answer requests past their deadline (503); their
 * reports still come, and the last one frees them. */
static void expire(ingest *g)
{
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&g->list_mu);
    while (g->head && g->head->deadline_ms <= now) {
        ingest_req *r = g->head;
        unlink_req(g, r);
        if (!r->answered) {
            r->answered = 1;
            g->answer(r, true);
        }
    }
    pthread_mutex_unlock(&g->list_mu);
}

static void *poll_main(void *arg)
{
    ingest *g = arg;
    pthread_setname_np(pthread_self(), "ingest-poll");
    while (!atomic_load(&g->stop_poll)) {
        rd_kafka_poll(g->rk, 100);
        expire(g);
    }
    return NULL;
}

/* ---- producing ----------------------------------------------------------------------------- */

void producer_send(ingest *g, ingest_req *r, const char *topic, rd_kafka_headers_t *headers)
{
    size_t n = r->n;
    atomic_fetch_add(&g->pending, 1);
    atomic_init(&r->outstanding, n + 1); /* + the reference this worker holds */
    r->deadline_ms = clock_mono_ms() + g->cfg->ingest.delivery_timeout_ms;
    pthread_mutex_lock(&g->list_mu);
    r->prev = g->tail;
    if (g->tail)
        g->tail->next = r;
    else
        g->head = r;
    g->tail = r;
    pthread_mutex_unlock(&g->list_mu);
    size_t produced = 0;
    for (; produced < n; produced++) {
        ingest_msg *m = &r->msgs[produced];
        void *v = m->vlen == SIZE_MAX ? NULL : (void *)(r->values + m->voff);
        size_t vl = m->vlen == SIZE_MAX ? 0 : m->vlen;
        void *k = m->klen == SIZE_MAX ? NULL : r->keys.data + m->koff;
        size_t kl = m->klen == SIZE_MAX ? 0 : m->klen;
        rd_kafka_headers_t *h = headers ? rd_kafka_headers_copy(headers) : NULL;
        rd_kafka_resp_err_t e =
            rd_kafka_producev(g->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(m->partition),
                              RD_KAFKA_V_VALUE(v, vl), RD_KAFKA_V_KEY(k, kl), RD_KAFKA_V_OPAQUE(m),
                              RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (e) {
            if (h) rd_kafka_headers_destroy(h);
            for (size_t j = produced; j < n; j++)
                fail_msg(&r->msgs[j], e);
            break;
        }
    }
    release(r, 1 + (n - produced));
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

/* A cold producer makes its first events wait for the broker connection,
 * the topic metadata and (idempotence) a producer id: about 0.85 s against
 * the mock cluster, which every request arriving in that time pays
 * (bench_ingest saw it as a p99 of 0.9 s with 64 clients). So the
 * connection and metadata are set up before the server listens. Bounded:
 * Kafka being down must not keep ingest from starting. */
static void warm_up(ingest *g)
{
    const struct rd_kafka_metadata *md = NULL;
    int64_t t0 = clock_mono_ms();
    rd_kafka_resp_err_t e = rd_kafka_metadata(g->rk, 1, NULL, &md, 5000);
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)(clock_mono_ms() - t0));
    if (e) {
        sluice_log(SLUICE_LOG_WARN, "ingest", "kafka not reachable at start; serving anyway",
                   "error", rd_kafka_err2str(e), "waited_ms", ms, (char *)0);
        return;
    }
    rd_kafka_metadata_destroy(md);
    sluice_log(SLUICE_LOG_DEBUG, "ingest", "kafka metadata loaded", "ms", ms, (char *)0);
}

int producer_start(ingest *g, const char *brokers, sluice_error *err)
{
    const app_ingest_config *ic = &g->cfg->ingest;
    /* librdkafka's queue holds at most what the in-flight budget lets in,
     * so a produce call never finds it full. */
    char timeout[32], kbytes[32];
    snprintf(timeout, sizeof timeout, "%lld", (long long)ic->delivery_timeout_ms);
    uint64_t kb = ic->max_inflight_bytes / 1024 * 2 + 1024;
    snprintf(kbytes, sizeof kbytes, "%llu", (unsigned long long)(kb > 2097151 ? 2097151 : kb));
    const kafka_setting defaults[] = {
        {"partitioner", "murmur2_random"}, /* the Java client's choice */
        {"linger.ms", "5"},
        {"client.id", "sluice-ingest"},
        {"compression.codec", "lz4"},
        {"queue.buffering.max.messages", "10000000"},
        {"queue.buffering.max.kbytes", kbytes},
        /* After a broker outage, be back within a second of it (librdkafka's
         * 10 s default outlasts a request's delivery deadline, so the first
         * requests after the broker returned would still get 503s). */
        {"reconnect.backoff.max.ms", "1000"},
        /* Only with a wire-size hook (on_stats); the last entry, left out
         * otherwise. */
        {"statistics.interval.ms", "250"},
    };
    size_t n_defaults = sizeof defaults / sizeof defaults[0] - (g->wire ? 0 : 1);
    const kafka_setting forced[] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.timeout.ms", timeout},
    };
    rd_kafka_conf_t *conf =
        kafka_conf_new(brokers, &g->cfg->kafka.properties, forced, sizeof forced / sizeof forced[0],
                       defaults, n_defaults, err);
    if (!conf) return SLUICE_ECONFIG;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if (g->wire) {
        rd_kafka_conf_set_opaque(conf, g);
        rd_kafka_conf_set_stats_cb(conf, on_stats);
    }
    char why[512];
    g->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!g->rk) {
        rd_kafka_conf_destroy(conf);
        return sluice_error_set(err, SLUICE_ECONFIG, "kafka producer: %s", why);
    }
    pthread_mutex_init(&g->list_mu, NULL);
    warm_up(g);
    if (pthread_create(&g->poller, NULL, poll_main, g) != 0) {
        rd_kafka_destroy(g->rk);
        g->rk = NULL;
        return sluice_error_set(err, SLUICE_ENOMEM, "ingest: cannot start the poll thread");
    }
    return 0;
}

void producer_stop(ingest *g, bool purge)
{
    if (!g->rk) return;
    if (purge) {
        /* Out of time: fail what is left (its clients get 503 and retry). */
        rd_kafka_purge(g->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        while (atomic_load(&g->pending) > 0)
            clock_sleep_ms(10);
    }
    rd_kafka_flush(g->rk, 5000);
    atomic_store(&g->stop_poll, 1);
    pthread_join(g->poller, NULL);
    rd_kafka_destroy(g->rk);
    g->rk = NULL;
    pthread_mutex_destroy(&g->list_mu);
}

int producer_ready(ingest *g, char *why, size_t n)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(g->rk, 0, NULL, &md, 2000);
    if (e) {
        snprintf(why, n, "kafka: %s", rd_kafka_err2str(e));
        return 0;
    }
    rd_kafka_metadata_destroy(md);
    return 1;
}
