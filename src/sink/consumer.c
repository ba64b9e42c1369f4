/*
 * consumer.c — the sink's consumer thread.
 *
 * It alone talks to the Kafka consumer: polls messages, copies them into
 * the routes' open batches, closes batches on rows/bytes/age, hands them to
 * the work queue (or keeps them pending when it is full), takes landed
 * batches back, and turns all of that into, per poll-loop turn, at most one
 * pause call, one resume call and one offsets-store call. It never calls
 * ClickHouse and never waits on a writer, so a slow database shows up here
 * only as partitions crossing their high marks.
 *
 * Rebalances are eager (range/roundrobin): librdkafka 2.0.2 keeps a
 * partition's pause state across a rebalance and can lose an assign
 * offset when pause follows assign closely (librdkafka #1849, #2190), so on
 * assign every partition is resumed explicitly and pausing waits for
 * messages to arrive; on revoke, open batches are flushed, in-flight
 * batches get sink.rebalance_timeout to land, and what landed is committed
 * before the partitions go. Whatever is still in flight after that is read
 * again by the next owner (at-least-once).
 */
#include "sink/sink_int.h"

#include <sluice/log.h>

#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGES_PER_TURN 20000

/* ---- completions (writer -> consumer) ------------------------------------ */

void sink_post_done(sink *s, batch *b)
{
    pthread_mutex_lock(&s->done_mu);
    b->next = NULL;
    if (s->done_tail)
        s->done_tail->next = b;
    else
        s->done_head = b;
    s->done_tail = b;
    pthread_mutex_unlock(&s->done_mu);
}

typedef struct turn {
    rd_kafka_topic_partition_list_t *pause, *resume, *seek;
} turn;

static int route_of(const sink *s, const char *topic)
{
    for (size_t i = 0; i < s->n_routes; i++)
        if (strcmp(s->routes[i].cfg->topic, topic) == 0) return (int)i;
    return -1;
}

static void add_tp(rd_kafka_topic_partition_list_t *l, const sink *s, const part *p)
{
    rd_kafka_topic_partition_list_add(l, s->routes[p->route].cfg->topic, p->partition);
}

/* A landed batch's time, stage by stage, weighted by its rows. */
static void account(sink *s, const batch *b, int64_t now_ns)
{
    if (!b->rows) return;
    int64_t opened_ns = b->opened_ms * 1000000;
    int64_t other = (b->t_posted - b->t_popped) - b->decode_ns - b->insert_ns - b->dlq_ns;
    int64_t ns[N_STAGES] = {
        [STAGE_OPEN] = b->t_closed - opened_ns,
        [STAGE_PENDING] = b->t_queued - b->t_closed,
        [STAGE_QUEUED] = b->t_popped - b->t_queued,
        [STAGE_DECODE] = b->decode_ns + (other > 0 ? other : 0),
        [STAGE_INSERT] = b->insert_ns,
        [STAGE_DLQ] = b->dlq_ns,
        [STAGE_COMPLETION] = now_ns - b->t_posted,
    };
    for (int i = 0; i < N_STAGES; i++)
        if (ns[i] > 0)
            atomic_fetch_add_explicit(&s->stage_row_us[i], (uint64_t)(ns[i] / 1000) * b->rows,
                                      memory_order_relaxed);
    atomic_fetch_add_explicit(&s->stage_rows, b->rows, memory_order_relaxed);
}

/* Take back what the writers finished: offsets, bytes, resumes. */
static void drain_done(sink *s, turn *t)
{
    pthread_mutex_lock(&s->done_mu);
    batch *b = s->done_head;
    s->done_head = s->done_tail = NULL;
    pthread_mutex_unlock(&s->done_mu);
    int64_t now_ns = clock_mono_ns();
    while (b) {
        batch *next = b->next;
        s->in_flight--;
        if (b->landed) {
            account(s, b, now_ns);
            for (size_t i = 0; i < b->n_ranges; i++) {
                const batch_range *r = &b->ranges[i];
                part *p = s->parts.parts[r->part];
                /* A range from an earlier assignment moves nothing now. */
                if (!p->assigned || p->generation != r->generation) continue;
                if (part_note_landed(p, b->id, r->bytes) && t) {
                    add_tp(t->resume, s, p);
                    if (p->refetch_from >= 0) {
                        rd_kafka_topic_partition_list_add(t->seek, s->routes[p->route].cfg->topic,
                                                          p->partition)
                            ->offset = p->refetch_from;
                        p->refetch_from = -1;
                    }
                    sluice_counter_inc(s->m_resumes);
                }
            }
        }
        batch_free(b);
        b = next;
    }
}

/* Queue what is pending, oldest first, while there is room. */
static void flush_pending(sink *s)
{
    while (s->pending_head) {
        batch *b = s->pending_head;
        batch *next = b->next; /* the queue relinks b: read its successor first */
        b->t_queued = clock_mono_ns();
        if (wq_try_push(&s->q, b) != 0) break;
        s->pending_head = next;
        if (!next) s->pending_tail = NULL;
        s->in_flight++;
    }
}

static void close_batch(sink *s, route_rt *r)
{
    batch *b = r->open;
    if (!b) return;
    r->open = NULL;
    b->next = NULL;
    b->t_closed = clock_mono_ns();
    if (s->pending_tail)
        s->pending_tail->next = b;
    else
        s->pending_head = b;
    s->pending_tail = b;
}

static void close_all(sink *s)
{
    for (size_t i = 0; i < s->n_routes; i++)
        close_batch(s, &s->routes[i]);
}

static void close_aged(sink *s, int64_t now)
{
    for (size_t i = 0; i < s->n_routes; i++) {
        route_rt *r = &s->routes[i];
        if (r->open && now - r->open->opened_ms >= r->cfg->batch.max_age_ms) close_batch(s, r);
    }
}

/* One offsets_store call for every partition whose committable offset moved. */
static void store_offsets(sink *s)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    for (size_t i = 0; i < s->parts.n; i++) {
        part *p = s->parts.parts[i];
        if (!p->assigned || !p->commit_dirty) continue;
        if (!l) l = rd_kafka_topic_partition_list_new(16);
        rd_kafka_topic_partition_list_add(l, s->routes[p->route].cfg->topic, p->partition)->offset =
            p->commit_next;
        p->commit_dirty = 0;
    }
    if (!l) return;
    rd_kafka_resp_err_t e = rd_kafka_offsets_store(s->consumer, l);
    if (e) {
        sluice_counter_inc(s->m_commit_errors);
        sluice_log(SLUICE_LOG_WARN, "sink", "storing offsets failed", "error", rd_kafka_err2str(e),
                   (char *)0);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void commit_sync(sink *s, const char *why)
{
    store_offsets(s);
    rd_kafka_resp_err_t e = rd_kafka_commit(s->consumer, NULL, 0);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        sluice_counter_inc(s->m_commit_errors);
        sluice_log(SLUICE_LOG_WARN, "sink", "commit failed", "when", why, "error",
                   rd_kafka_err2str(e), (char *)0);
    }
}

static int all_landed(const sink *s)
{
    return !s->pending_head && s->in_flight == 0;
}

/* Wait (bounded) for every pending and in-flight batch to come back. */
static void wait_landed(sink *s, int64_t deadline)
{
    while (!all_landed(s) && clock_mono_ms() < deadline) {
        flush_pending(s);
        drain_done(s, NULL);
        store_offsets(s);
        clock_sleep_ms(5);
    }
    drain_done(s, NULL);
}

/* ---- rebalances ------------------------------------------------------------ */

static void on_assign(sink *s, rd_kafka_topic_partition_list_t *parts)
{
    int n = parts->cnt > 0 ? parts->cnt : 1;
    /* The partitions' share of the budget, split evenly (sink_int.h). */
    int64_t high = (int64_t)(s->budget.partitions / (uint64_t)n);
    if (high < 64 * 1024) high = 64 * 1024;
    s->high_mark = high;
    s->low_mark = high * s->cfg->sink.resume_percent / 100;
    if (s->low_mark >= high) s->low_mark = high - 1; /* "below the high mark": the naive policy */
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int route = route_of(s, tp->topic);
        int slot = route >= 0 ? part_slot(&s->parts, route, tp->partition) : -1;
        if (slot < 0) continue;
        part *p = s->parts.parts[slot];
        part_assign(p, s->high_mark, s->low_mark);
        sink_partition_metrics(s, p);
    }
    rd_kafka_assign(s->consumer, parts);
    /* librdkafka remembers pauses across rebalances: start every partition
     * of this assignment unpaused, as our state says. */
    rd_kafka_resume_partitions(s->consumer, parts);
    atomic_store(&s->ready, 1);
}

static void on_revoke(sink *s, rd_kafka_topic_partition_list_t *parts)
{
    /* Everything consumed so far: close it, let it land (bounded), commit. */
    close_all(s);
    int64_t wait = atomic_load(&s->stopping) ? 0 : s->cfg->sink.rebalance_timeout_ms;
    wait_landed(s, clock_mono_ms() + wait);
    commit_sync(s, "revoke");
    for (int i = 0; i < parts->cnt; i++) {
        int route = route_of(s, parts->elems[i].topic);
        int slot = part_find(&s->parts, route, parts->elems[i].partition);
        if (slot >= 0) part_revoke(s->parts.parts[slot]);
    }
    rd_kafka_assign(s->consumer, NULL);
    atomic_store(&s->ready, 0);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)rk;
    sink *s = opaque;
    sluice_counter_inc(s->m_rebalances);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        char n[16];
        snprintf(n, sizeof n, "%d", parts->cnt);
        on_assign(s, parts);
        sluice_log(SLUICE_LOG_INFO, "sink", "assigned", "partitions", n, (char *)0);
    } else {
        char n[16];
        snprintf(n, sizeof n, "%d", parts->cnt);
        sluice_log(SLUICE_LOG_INFO, "sink", "revoking", "partitions", n, (char *)0);
        on_revoke(s, parts);
    }
}

void consumer_set_rebalance(rd_kafka_conf_t *conf, sink *s)
{
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, s);
}

/* ---- messages ------------------------------------------------------------- */

static void take(sink *s, rd_kafka_message_t *m, turn *t, int64_t now)
{
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            sluice_log(SLUICE_LOG_WARN, "sink", "consumer error", "error",
                       rd_kafka_message_errstr(m), (char *)0);
        return;
    }
    int route = route_of(s, rd_kafka_topic_name(m->rkt));
    int slot = part_find(&s->parts, route, m->partition);
    if (slot < 0 || !s->parts.parts[slot]->assigned)
        return; /* a leftover of an earlier assignment */
    part *p = s->parts.parts[slot];
    if (p->paused) {
        /* Over its high mark: librdkafka still hands out what it fetched
         * before the pause took effect (a whole fetch response, several
         * times the high mark when it was compressed). Taking it would
         * break the partition's bound, so it is left and re-read from
         * here on resume. */
        if (p->refetch_from < 0) p->refetch_from = m->offset;
        sluice_counter_inc(s->m_refetched);
        return;
    }
    route_rt *r = &s->routes[route];
    if (!r->open && !(r->open = batch_new(++s->next_batch_id, route, now))) {
        sluice_log(SLUICE_LOG_ERROR, "sink", "out of memory", (char *)0);
        abort(); /* nothing committed past what landed: a restart re-reads */
    }
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    uint64_t bytes = batch_add(r->open, (uint32_t)slot, p->generation, m->offset, ts, m->key,
                               m->key_len, m->payload, m->len);
    if (!bytes) {
        sluice_log(SLUICE_LOG_ERROR, "sink", "out of memory", (char *)0);
        abort();
    }
    sluice_counter_inc(r->m_messages);
    if (part_note_consumed(p, r->open->id, m->offset, bytes)) {
        add_tp(t->pause, s, p);
        sluice_counter_inc(s->m_pauses);
    }
    if ((int64_t)r->open->n_msgs >= r->cfg->batch.max_rows ||
        r->open->bytes >= r->cfg->batch.max_bytes)
        close_batch(s, r);
}

static void apply(sink *s, turn *t)
{
    if (t->pause->cnt) {
        rd_kafka_pause_partitions(s->consumer, t->pause);
        sluice_counter_inc(s->m_pause_calls);
    }
    if (t->resume->cnt) {
        rd_kafka_resume_partitions(s->consumer, t->resume);
        sluice_counter_inc(s->m_resume_calls);
    }
    if (t->seek->cnt) {
        /* After the resume, which restarts fetching at the position after
         * the last message polled: back to the first one not taken. The
         * seek's version barrier makes librdkafka drop anything fetched
         * before it. Asynchronous; a failed seek is reported through the
         * list's per-partition errors. */
        rd_kafka_error_t *e = rd_kafka_seek_partitions(s->consumer, t->seek, 0);
        if (e) {
            sluice_log(SLUICE_LOG_ERROR, "sink", "seek failed", "error", rd_kafka_error_string(e),
                       (char *)0);
            rd_kafka_error_destroy(e);
        }
    }
}

/* Lag per partition: the broker's high watermark (as last fetched) minus
 * the next offset to commit. Once a second. */
static void update_lag(sink *s)
{
    for (size_t i = 0; i < s->parts.n; i++) {
        part *p = s->parts.parts[i];
        if (!p->assigned) continue;
        int64_t lo = 0, hi = 0;
        if (rd_kafka_get_watermark_offsets(s->consumer, s->routes[p->route].cfg->topic,
                                           p->partition, &lo, &hi) != 0 ||
            hi < 0)
            continue;
        int64_t at = p->commit_next >= 0 ? p->commit_next : lo;
        atomic_store_explicit(&p->m_lag, hi > at ? hi - at : 0, memory_order_relaxed);
    }
}

static void one_turn(sink *s, int64_t *last_lag)
{
    turn t = {rd_kafka_topic_partition_list_new(16), rd_kafka_topic_partition_list_new(16),
              rd_kafka_topic_partition_list_new(16)};
    int64_t now = clock_mono_ms();
    /* Short waits while batches are out, so landed ones are taken back
     * promptly; otherwise until the oldest open batch comes of age. */
    int timeout = s->in_flight || s->pending_head ? 10 : 100;
    for (size_t i = 0; i < s->n_routes; i++) {
        const route_rt *r = &s->routes[i];
        if (r->open) {
            int64_t left = r->open->opened_ms + r->cfg->batch.max_age_ms - now;
            if (left < timeout) timeout = left > 0 ? (int)left : 0;
        }
    }
    int64_t t0 = clock_mono_ns(), polling = 0;
    for (int n = 0; n < MAX_MESSAGES_PER_TURN && !atomic_load(&s->stopping); n++) {
        int64_t p0 = clock_mono_ns();
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->consumer, n == 0 ? timeout : 0);
        polling += clock_mono_ns() - p0;
        if (!m) break;
        take(s, m, &t, now);
        rd_kafka_message_destroy(m);
    }
    now = clock_mono_ms();
    close_aged(s, now);
    flush_pending(s);
    drain_done(s, &t);
    apply(s, &t);
    store_offsets(s);
    if (now - *last_lag >= 1000) {
        update_lag(s);
        *last_lag = now;
    }
    rd_kafka_topic_partition_list_destroy(t.pause);
    rd_kafka_topic_partition_list_destroy(t.resume);
    rd_kafka_topic_partition_list_destroy(t.seek);
    int64_t total = clock_mono_ns() - t0;
    atomic_fetch_add_explicit(&s->consumer_ns[CONSUMER_POLL], (uint64_t)polling,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&s->consumer_ns[CONSUMER_WORK], (uint64_t)(total - polling),
                              memory_order_relaxed);
}

/* SIGTERM: stop fetching, let what was consumed land, commit. */
static void drain(sink *s)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(s->consumer, &assigned) == 0 && assigned) {
        rd_kafka_pause_partitions(s->consumer, assigned);
        rd_kafka_topic_partition_list_destroy(assigned);
    }
    close_all(s);
    int64_t deadline = clock_mono_ms() + s->cfg->sink.shutdown_timeout_ms;
    atomic_store(&s->give_up_ms, deadline);
    wait_landed(s, deadline);
    s->drain_result = all_landed(s) ? 0 : 1;
    commit_sync(s, "shutdown");
}

void *consumer_main(void *arg)
{
    sink *s = arg;
    pthread_setname_np(pthread_self(), "sink-consumer");
    int64_t last_lag = 0;
    while (!atomic_load(&s->stopping))
        one_turn(s, &last_lag);
    drain(s);
    /* Leaves the group: the revoke callback runs here, with nothing left. */
    rd_kafka_consumer_close(s->consumer);
    atomic_store(&s->consumer_done, 1);
    return NULL;
}
