/*
 * dlq.c — see dlq.h. Each dlq_send call waits on its own small waiter,
 * passed to librdkafka as every message's opaque; the delivery-report
 * thread counts them down.
 */
#include "sink/dlq.h"

#include "common/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dlq {
    rd_kafka_t *rk;
    pthread_t poller;
    _Atomic int stop;
};

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
    size_t failed;
    char error[256];
} waiter;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    waiter *w = m->_private;
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    if (m->err) {
        w->failed++;
        snprintf(w->error, sizeof w->error, "%s", rd_kafka_err2str(m->err));
    }
    if (w->pending) w->pending--;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void *poll_main(void *p)
{
    dlq *d = p;
    pthread_setname_np(pthread_self(), "sink-dlq");
    while (!atomic_load(&d->stop))
        rd_kafka_poll(d->rk, 100);
    return NULL;
}

int dlq_new(rd_kafka_conf_t *conf, dlq **out, sluice_error *err)
{
    dlq *d = calloc(1, sizeof *d);
    if (!d) {
        rd_kafka_conf_destroy(conf);
        return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char why[512];
    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!d->rk) {
        free(d);
        return sluice_error_set(err, SLUICE_ECONFIG, "dead-letter producer: %s", why);
    }
    if (pthread_create(&d->poller, NULL, poll_main, d) != 0) {
        rd_kafka_destroy(d->rk);
        free(d);
        return sluice_error_set(err, SLUICE_EINTERNAL, "cannot start the dead-letter thread");
    }
    *out = d;
    return 0;
}

void dlq_free(dlq *d)
{
    if (!d) return;
    rd_kafka_flush(d->rk, 10000);
    atomic_store(&d->stop, 1);
    pthread_join(d->poller, NULL);
    rd_kafka_destroy(d->rk);
    free(d);
}

static rd_kafka_headers_t *headers_for(const dlq_msg *m)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(6);
    char num[32];
    rd_kafka_header_add(h, "sluice.error", -1, m->reason, -1);
    rd_kafka_header_add(h, "sluice.source.topic", -1, m->source_topic, -1);
    snprintf(num, sizeof num, "%d", (int)m->source_partition);
    rd_kafka_header_add(h, "sluice.source.partition", -1, num, -1);
    snprintf(num, sizeof num, "%lld", (long long)m->source_offset);
    rd_kafka_header_add(h, "sluice.source.offset", -1, num, -1);
    if (m->schema_id >= 0) {
        snprintf(num, sizeof num, "%d", (int)m->schema_id);
        rd_kafka_header_add(h, "sluice.schema.id", -1, num, -1);
    }
    snprintf(num, sizeof num, "%lld", (long long)clock_wall_ms());
    rd_kafka_header_add(h, "sluice.time", -1, num, -1);
    return h;
}

int dlq_send(dlq *d, const dlq_msg *msgs, size_t n, sluice_error *err)
{
    if (n == 0) return 0;
    waiter w = {.pending = 0, .failed = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    for (size_t i = 0; i < n; i++) {
        const dlq_msg *m = &msgs[i];
        rd_kafka_headers_t *h = headers_for(m);
        pthread_mutex_lock(&w.mu);
        w.pending++;
        pthread_mutex_unlock(&w.mu);
        rd_kafka_resp_err_t e;
        for (;;) {
            e = rd_kafka_producev(d->rk, RD_KAFKA_V_TOPIC(m->topic),
                                  RD_KAFKA_V_KEY(m->key, m->key_len),
                                  RD_KAFKA_V_VALUE((void *)m->value, m->value_len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                                  RD_KAFKA_V_OPAQUE(&w), RD_KAFKA_V_END);
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
            clock_sleep_ms(10); /* the poller drains reports meanwhile */
        }
        if (e) {
            rd_kafka_headers_destroy(h);
            pthread_mutex_lock(&w.mu);
            w.pending--;
            w.failed++;
            snprintf(w.error, sizeof w.error, "%s", rd_kafka_err2str(e));
            pthread_mutex_unlock(&w.mu);
        }
    }
    pthread_mutex_lock(&w.mu);
    while (w.pending > 0)
        pthread_cond_wait(&w.cv, &w.mu);
    size_t failed = w.failed;
    pthread_mutex_unlock(&w.mu);
    int rc = 0;
    if (failed)
        rc = sluice_error_set(err, SLUICE_EIO,
                              "dead-letter topic %s: %zu of %zu messages not "
                              "delivered: %s",
                              msgs[0].topic, failed, n, w.error);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return rc;
}
