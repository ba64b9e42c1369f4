/*
 * consumer.c — the sink's consumer stage (consumer.h): one thread.
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
#include "sink/consumer.h"

#include "app/kafka_conf.h"
#include "sink/batch.h"
#include "sink/eo.h"
#include "sink/eo_replay.h"
#include "sink/fetch_nudge.h"
#include "sink/partition.h"

#include <sluice/log.h>

#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGES_PER_TURN 20000
/* Messages taken from librdkafka per rd_kafka_consume_batch_queue call. */
#define POLL_BATCH 512
/* A partition is nudged (fetch_nudge.h) when it is assigned, not paused and
 * not read to its end, the consumer queue gave nothing this turn and no
 * message came for NUDGE_QUIET_MS; at most every NUDGE_EVERY_MS. A broker
 * that fetches answers within a few ms on loopback (fetch.min.bytes 1:
 * a partition with messages left is answered at once). */
#define NUDGE_QUIET_MS 20
#define NUDGE_EVERY_MS 50

/* Per route: how far the consumer is from the end of its partitions. */
typedef struct route_end {
    int live;              /* assigned partitions */
    int behind;            /* of those, not at their end (partition.h, at_end) */
    int64_t last_close_ms; /* the last batch closed because the route was caught up */
} route_end;

struct consumer {
    pipeline *pl;
    rd_kafka_t *rk;
    char *brokers;
    uint64_t *next_seq; /* per route: the exactly-once turn of the next batch queued */
    route_end *ends;    /* per route */
    pthread_t thread;
    /* consumer thread only */
    part_table parts;
    batch **open;       /* per route: the batch being filled */
    char *metrics_seen; /* per slot: series registered */
    size_t metrics_seen_len;
    batch *pending_head, *pending_tail; /* closed, waiting for room in the queue */
    uint64_t next_batch_id;
    size_t in_flight; /* batches handed out and not yet back */
    int64_t high_mark, low_mark;
    int drain_result;
    _Atomic int ready;
    /* librdkafka's consumer queue, served in batches (one_turn). A
     * rebalance that arrives during a batch call is kept here and handled
     * after the messages polled with it (rebalance_cb). */
    rd_kafka_queue_t *queue;
    int in_batch_call;
    rd_kafka_resp_err_t deferred_err;
    rd_kafka_topic_partition_list_t *deferred;
    fetch_nudge *nudge;                 /* NULL if its thread could not start */
    int64_t last_msg_ms, last_nudge_ms; /* consumer thread */
    sluice_counter *m_nudges;
    sluice_counter *m_pauses, *m_resumes, *m_pause_calls, *m_resume_calls, *m_rebalances,
        *m_commit_errors, *m_refetched, *m_caught_up_closes;
};

/* ---- metrics ------------------------------------------------------------------ */

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
static void partition_metrics(consumer *s, part *p)
{
    /* Series are registered once per (topic, partition) and read the
     * partition's atomic mirrors through a stable pointer. */
    char topic[256], labels[400];
    sluice_metrics_label_escape(topic, sizeof topic, s->pl->routes[p->route].cfg->topic);
    snprintf(labels, sizeof labels, "topic=\"%s\",partition=\"%d\"", topic, (int)p->partition);
    /* get-or-create would refuse a second fn series of the same name and
     * labels: a re-assigned partition already has its series. */
    sluice_metrics_gauge_fn(s->pl->m, "sluice_sink_partition_buffered_bytes",
                            "Bytes of consumed messages not yet in ClickHouse or the DLQ", labels,
                            g_buffered, p);
    sluice_metrics_gauge_fn(s->pl->m, "sluice_sink_partition_paused",
                            "1 while the partition is paused for back pressure", labels, g_paused,
                            p);
    sluice_metrics_gauge_fn(s->pl->m, "sluice_sink_partition_lag",
                            "High watermark minus the next offset to commit", labels, g_lag, p);
    sluice_metrics_gauge_fn(s->pl->m, "sluice_sink_partition_committed_offset",
                            "The next offset sluice will commit (-1: none yet)", labels,
                            g_committed, p);
}

typedef struct turn {
    rd_kafka_topic_partition_list_t *pause, *resume, *seek;
    /* The route of the last message's topic handle, within one batch call:
     * the messages it returned are all alive until taken, so equal handles
     * are one topic (a strcmp per message was the consumer thread's top
     * symbol). */
    const rd_kafka_topic_t *rkt;
    int route;
} turn;

static int route_of(const consumer *s, const char *topic)
{
    for (size_t i = 0; i < s->pl->n_routes; i++)
        if (strcmp(s->pl->routes[i].cfg->topic, topic) == 0) return (int)i;
    return -1;
}

static void add_tp(rd_kafka_topic_partition_list_t *l, const consumer *s, const part *p)
{
    rd_kafka_topic_partition_list_add(l, s->pl->routes[p->route].cfg->topic, p->partition);
}

/* A landed batch's time, stage by stage, weighted by its rows. */
static void account(consumer *s, const batch *b, int64_t now_ns)
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
            atomic_fetch_add_explicit(&s->pl->times.stage_row_us[i],
                                      (uint64_t)(ns[i] / 1000) * b->rows, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->pl->times.stage_rows, b->rows, memory_order_relaxed);
}

/* Take back what the writers finished: offsets, bytes, resumes. */
static void drain_done(consumer *s, turn *t)
{
    batch *b = acks_take(&s->pl->acks);
    int64_t now_ns = clock_mono_ns();
    while (b) {
        batch *next = b->next;
        s->in_flight--;
        if (b->landed) {
            account(s, b, now_ns);
            for (size_t i = 0; i < b->n_ranges; i++) {
                const batch_range *r = &b->ranges[i];
                if (r->part == BATCH_NOT_OURS) continue; /* a replayed partition of another owner */
                part *p = s->parts.parts[r->part];
                /* A range from an earlier assignment moves nothing now. */
                if (!p->assigned || p->generation != r->generation) continue;
                if (part_note_landed(p, b->id, r->bytes) && t) {
                    add_tp(t->resume, s, p);
                    if (p->refetch_from >= 0) {
                        rd_kafka_topic_partition_list_add(
                            t->seek, s->pl->routes[p->route].cfg->topic, p->partition)
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
static void flush_pending(consumer *s)
{
    while (s->pending_head) {
        batch *b = s->pending_head;
        batch *next = b->next; /* the queue relinks b: read its successor first */
        b->t_queued = clock_mono_ns();
        /* Turns follow the queue's order, which is the order writers take
         * batches in: the batch whose turn it is has always been taken. */
        b->eo.seq = s->next_seq[b->route];
        if (wq_try_push(&s->pl->q, b) != 0) break;
        s->next_seq[b->route]++;
        s->pending_head = next;
        if (!next) s->pending_tail = NULL;
        s->in_flight++;
    }
}

static void close_batch(consumer *s, int route)
{
    batch *b = s->open[route];
    if (!b) return;
    s->open[route] = NULL;
    b->next = NULL;
    b->t_closed = clock_mono_ns();
    if (s->pending_tail)
        s->pending_tail->next = b;
    else
        s->pending_head = b;
    s->pending_tail = b;
}

static void close_all(consumer *s)
{
    for (size_t i = 0; i < s->pl->n_routes; i++)
        close_batch(s, (int)i);
}

static void close_aged(consumer *s, int64_t now)
{
    for (size_t i = 0; i < s->pl->n_routes; i++) {
        const batch *b = s->open[i];
        if (b && now - b->opened_ms >= s->pl->routes[i].cfg->batch.max_age_ms)
            close_batch(s, (int)i);
    }
}

/* A route whose every assigned partition is at its end has nothing more to
 * add to its open batch for now: close it instead of waiting for max_age,
 * so a burst's last rows (a drained backlog, the end of a load) land at
 * once. At most once per max_age per route, so a trickle — caught up after
 * every message — still makes about one INSERT per max_age, not one per
 * message, and ClickHouse's parts stay as few as before. librdkafka reports
 * each end offset once: a partition sought back after a pause to an end it
 * had already reported is found at its end by quiet_turn instead. */
static int caught_up(const consumer *s, size_t route)
{
    const route_end *e = &s->ends[route];
    return s->pl->routes[route].cfg->batch.close_caught_up && e->live > 0 && e->behind == 0;
}

static void close_caught_up(consumer *s, int64_t now)
{
    for (size_t i = 0; i < s->pl->n_routes; i++) {
        route_end *e = &s->ends[i];
        if (s->open[i] && caught_up(s, i) &&
            now - e->last_close_ms >= s->pl->routes[i].cfg->batch.max_age_ms) {
            close_batch(s, (int)i);
            e->last_close_ms = now;
            sluice_counter_inc(s->m_caught_up_closes);
        }
    }
}

/* Recount every route's partitions at their end (after an assignment
 * changed). */
static void count_ends(consumer *s)
{
    for (size_t i = 0; i < s->pl->n_routes; i++)
        s->ends[i].live = s->ends[i].behind = 0;
    for (size_t i = 0; i < s->parts.n; i++) {
        const part *p = s->parts.parts[i];
        if (!p->assigned) continue;
        s->ends[p->route].live++;
        if (!p->at_end) s->ends[p->route].behind++;
    }
}

/* A message (or the end) of partition p came: it is behind, or at its end. */
static void note_end(consumer *s, part *p, int at_end)
{
    if (p->at_end == at_end) return;
    p->at_end = at_end;
    s->ends[p->route].behind += at_end ? -1 : 1;
}

/* One offsets_store call for every partition whose committable offset moved. */
static void store_offsets(consumer *s)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    for (size_t i = 0; i < s->parts.n; i++) {
        part *p = s->parts.parts[i];
        if (!p->assigned || !p->commit_dirty) continue;
        p->commit_dirty = 0;
        if (s->pl->routes[p->route].exactly_once) continue; /* its writers commit */
        if (!l) l = rd_kafka_topic_partition_list_new(16);
        rd_kafka_topic_partition_list_add(l, s->pl->routes[p->route].cfg->topic, p->partition)
            ->offset = p->commit_next;
    }
    if (!l) return;
    rd_kafka_resp_err_t e = rd_kafka_offsets_store(s->rk, l);
    if (e) {
        sluice_counter_inc(s->m_commit_errors);
        sluice_log(SLUICE_LOG_WARN, "sink", "storing offsets failed", "error", rd_kafka_err2str(e),
                   (char *)0);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void commit_sync(consumer *s, const char *why)
{
    store_offsets(s);
    rd_kafka_resp_err_t e = rd_kafka_commit(s->rk, NULL, 0);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        sluice_counter_inc(s->m_commit_errors);
        sluice_log(SLUICE_LOG_WARN, "sink", "commit failed", "when", why, "error",
                   rd_kafka_err2str(e), (char *)0);
    }
}

static int all_landed(const consumer *s)
{
    return !s->pending_head && s->in_flight == 0;
}

/* Wait (bounded) for every pending and in-flight batch to come back. */
static void wait_landed(consumer *s, int64_t deadline)
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

/* ---- exactly-once: intents found on assignment ------------------------------------ */

/* Is this member of the intent still open here: assigned to us, and its
 * committed offset still the member's first, with this very intent next to
 * it? `committed` holds the committed offsets of the exactly-once
 * partitions just assigned (eo_assign), so a member found there is ours.
 * A member whose partition has moved on since (its own owner replayed
 * the intent and committed past it, then went on consuming) is read for
 * the replay like another process's member, and neither committed nor
 * restarted: taking it as ours would move its committed offset back to
 * the intent's end and read everything after it a second time (what
 * test_two_sinks_one_killed caught: an intent replayed by a second owner
 * of one of its members, after the first had moved that member on). */
static int member_open_here(const rd_kafka_topic_partition_list_t *committed, const char *topic,
                            const eo_member *m, const char *text, size_t len)
{
    for (int k = 0; k < committed->cnt; k++) {
        const rd_kafka_topic_partition_t *c = &committed->elems[k];
        if (c->partition == m->partition && strcmp(c->topic, topic) == 0)
            return !c->err && c->offset == m->first && c->metadata_size == len &&
                   memcmp(c->metadata, text, len) == 0;
    }
    return 0;
}

/* Rebuild the batch an intent describes and queue it ahead of everything
 * read from now on; the members still open here (member_open_here) start
 * after it. */
static void eo_replay_intent(consumer *s, int route, rd_kafka_topic_partition_list_t *parts,
                             const rd_kafka_topic_partition_list_t *committed, const char *text,
                             size_t len)
{
    route_rt *r = &s->pl->routes[route];
    eo_member members[512];
    eo_intent in;
    sluice_error err;
    int prc = eo_intent_parse(text, len, &in, members, sizeof members / sizeof members[0], &err);
    if (prc == SLUICE_ENOTFOUND) return;
    if (prc != 0) {
        sluice_log(SLUICE_LOG_ERROR, "sink", "a committed intent cannot be read; ignoring it",
                   "topic", r->cfg->topic, "error", err.msg, (char *)0);
        return;
    }
    uint32_t slots[512], gens[512];
    for (size_t i = 0; i < in.n_members; i++) {
        slots[i] = BATCH_NOT_OURS;
        gens[i] = 0;
        if (!member_open_here(committed, r->cfg->topic, &in.members[i], text, len)) continue;
        int slot = part_find(&s->parts, route, in.members[i].partition);
        if (slot >= 0) {
            slots[i] = (uint32_t)slot;
            gens[i] = s->parts.parts[slot]->generation;
        }
    }
    batch *b = batch_new(++s->next_batch_id, route, clock_mono_ms());
    if (!b) {
        sluice_log(SLUICE_LOG_ERROR, "sink", "out of memory", (char *)0);
        abort();
    }
    b->eo = (batch_eo){.on = 1,
                       .replay = 1,
                       .assign = atomic_load(&s->pl->eo.assign),
                       .block = in.block,
                       .now_s = in.now_s,
                       .reader_id = in.reader_id,
                       .cols_hash = in.cols_hash,
                       .max_insert_bytes = in.max_insert_bytes};
    const app_config *cfg = s->pl->cfg;
    eo_replay_source src = {.brokers = s->brokers,
                            .properties = &cfg->kafka.properties,
                            .group_id = cfg->sink.group_id,
                            .topic = r->cfg->topic,
                            .timeout_ms = 60000};
    size_t missing = 0;
    int rc = eo_replay_read(&src, &in, slots, gens, b, &missing, &err);
    char block[24];
    snprintf(block, sizeof block, "%016llx", (unsigned long long)in.block);
    if (rc != 0 && rc != SLUICE_ENOTFOUND) {
        /* Not read: the owned members start at the intent's first offsets
         * instead, at least once. */
        sluice_counter_inc(r->m_replay_failed);
        sluice_log(SLUICE_LOG_ERROR, "sink",
                   "cannot read an intent's messages again; its partitions start at its first "
                   "offsets (at least once)",
                   "topic", r->cfg->topic, "block", block, "error", err.msg, (char *)0);
        batch_free(b);
        return;
    }
    if (rc == SLUICE_ENOTFOUND) {
        sluice_counter_inc(r->m_replay_failed);
        sluice_log(SLUICE_LOG_ERROR, "sink",
                   "an intent's messages are partly gone from Kafka; replaying what is left",
                   "topic", r->cfg->topic, "block", block, "error", err.msg, (char *)0);
    }
    char n[32];
    snprintf(n, sizeof n, "%zu", b->n_msgs);
    sluice_log(SLUICE_LOG_INFO, "sink", "replaying an intent found in Kafka", "topic",
               r->cfg->topic, "block", block, "messages", n, (char *)0);
    for (size_t i = 0; i < b->n_ranges; i++) {
        const batch_range *br = &b->ranges[i];
        if (br->part == BATCH_NOT_OURS) continue;
        part_note_consumed(s->parts.parts[br->part], b->id, br->end - 1, br->bytes);
        for (int k = 0; k < parts->cnt; k++)
            if (parts->elems[k].partition == br->partition &&
                strcmp(parts->elems[k].topic, r->cfg->topic) == 0)
                parts->elems[k].offset = br->end;
    }
    /* Ahead of everything pending: its turn comes first. */
    b->t_closed = clock_mono_ns();
    b->next = s->pending_head;
    s->pending_head = b;
    if (!s->pending_tail) s->pending_tail = b;
}

/* Read the committed offsets of the exactly-once partitions just assigned;
 * every open intent among them is replayed (once, however many of its
 * members are here). */
static void eo_assign(consumer *s, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(parts->cnt + 1);
    for (int i = 0; i < parts->cnt; i++) {
        int route = route_of(s, parts->elems[i].topic);
        if (route >= 0 && s->pl->routes[route].exactly_once)
            rd_kafka_topic_partition_list_add(q, parts->elems[i].topic, parts->elems[i].partition);
    }
    for (int attempt = 1; q->cnt > 0; attempt++) {
        rd_kafka_resp_err_t e = rd_kafka_committed(s->rk, q, 10000);
        if (!e) break;
        sluice_log(SLUICE_LOG_WARN, "sink", "cannot read committed offsets; retrying", "error",
                   rd_kafka_err2str(e), (char *)0);
        if (atomic_load(&s->pl->stopping)) {
            /* Nothing will be consumed: the partitions start nowhere. */
            rd_kafka_topic_partition_list_destroy(q);
            return;
        }
        clock_sleep_ms(attempt < 10 ? 100 * attempt : 1000);
    }
    for (int i = 0; i < q->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &q->elems[i];
        if (tp->err || !tp->metadata || !tp->metadata_size || tp->offset < 0) continue;
        /* An intent is open when the committed offset is its first offset
         * of this partition; the same intent on several members is one
         * replay. */
        int seen = 0;
        for (int k = 0; k < i && !seen; k++)
            seen = q->elems[k].metadata_size == tp->metadata_size &&
                   strcmp(q->elems[k].topic, tp->topic) == 0 &&
                   memcmp(q->elems[k].metadata, tp->metadata, tp->metadata_size) == 0;
        if (seen) continue;
        eo_member members[512];
        eo_intent in;
        sluice_error err;
        if (eo_intent_parse(tp->metadata, tp->metadata_size, &in, members,
                            sizeof members / sizeof members[0], &err) != 0)
            continue;
        const eo_member *me = eo_intent_member(&in, tp->partition);
        if (!me || me->first != tp->offset) continue; /* moved by someone else since */
        eo_replay_intent(s, route_of(s, tp->topic), parts, q, tp->metadata, tp->metadata_size);
    }
    rd_kafka_topic_partition_list_destroy(q);
}

static void on_assign(consumer *s, rd_kafka_topic_partition_list_t *parts)
{
    int n = parts->cnt > 0 ? parts->cnt : 1;
    /* The partitions' share of the budget, split evenly (pipeline.h, sink_budget). */
    int64_t high = (int64_t)(s->pl->budget.partitions / (uint64_t)n);
    if (high < 64 * 1024) high = 64 * 1024;
    s->high_mark = high;
    s->low_mark = high * s->pl->cfg->sink.resume_percent / 100;
    if (s->low_mark >= high) s->low_mark = high - 1; /* "below the high mark": the naive policy */
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int route = route_of(s, tp->topic);
        int slot = route >= 0 ? part_slot(&s->parts, route, tp->partition) : -1;
        if (slot < 0) continue;
        part *p = s->parts.parts[slot];
        part_assign(p, s->high_mark, s->low_mark);
        /* Series are registered the first time a slot is assigned: a
         * partition assigned again already has them (they read its slot). */
        if ((size_t)slot >= s->metrics_seen_len) {
            size_t len = (size_t)slot + 64;
            char *seen = realloc(s->metrics_seen, len);
            if (seen) {
                memset(seen + s->metrics_seen_len, 0, len - s->metrics_seen_len);
                s->metrics_seen = seen;
                s->metrics_seen_len = len;
            }
        }
        if ((size_t)slot < s->metrics_seen_len && !s->metrics_seen[slot]) {
            partition_metrics(s, p);
            s->metrics_seen[slot] = 1;
        }
    }
    count_ends(s);
    eo_assign(s, parts);
    rd_kafka_assign(s->rk, parts);
    /* librdkafka remembers pauses across rebalances: start every partition
     * of this assignment unpaused, as our state says. */
    rd_kafka_resume_partitions(s->rk, parts);
    atomic_store(&s->ready, 1);
}

static void on_revoke(consumer *s, rd_kafka_topic_partition_list_t *parts)
{
    /* Everything consumed so far: close it, let it land (bounded), commit. */
    close_all(s);
    int64_t wait = atomic_load(&s->pl->stopping) ? 0 : s->pl->cfg->sink.rebalance_timeout_ms;
    wait_landed(s, clock_mono_ms() + wait);
    commit_sync(s, "revoke");
    /* Exactly-once batches still out belong to this assignment: from now
     * on they commit nothing (the next owner replays their intents). */
    pthread_mutex_lock(&s->pl->eo.mu);
    atomic_fetch_add(&s->pl->eo.assign, 1);
    pthread_mutex_unlock(&s->pl->eo.mu);
    for (int i = 0; i < parts->cnt; i++) {
        int route = route_of(s, parts->elems[i].topic);
        int slot = part_find(&s->parts, route, parts->elems[i].partition);
        if (slot >= 0) part_revoke(s->parts.parts[slot]);
    }
    count_ends(s);
    rd_kafka_assign(s->rk, NULL);
    atomic_store(&s->ready, 0);
}

static void rebalance(consumer *s, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts)
{
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

/* Called by librdkafka while it serves the consumer queue. Inside a batch
 * call (one_turn), messages polled before this event in the same call are
 * still in the caller's array, not yet taken: handling a revocation now
 * would close the batches without them, and they would then be taken
 * after it (into a later assignment of the same partition, out of order).
 * So the event is kept and handled once those messages are taken, which
 * librdkafka allows: until the application calls assign or unassign, the
 * group waits for it and the old assignment keeps its fetchers, so every
 * message in the array belongs to the assignment being revoked, and so
 * does any the call still takes after this event. The call is not
 * stopped: librdkafka 2.0.2's batch call goes on after a served callback,
 * and rd_kafka_yield's thread flag would make it drop the next message op
 * it dequeues (it breaks out without returning it). Only the queue is
 * woken (rd_kafka_queue_yield), so that a call waiting on an empty queue
 * returns now rather than at its timeout. Outside a batch call (consumer
 * close, the exactly-once replay's own polls) the event is handled here. */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)rk;
    consumer *s = opaque;
    if (!s->in_batch_call || s->deferred) {
        rebalance(s, err, parts);
        return;
    }
    s->deferred = rd_kafka_topic_partition_list_copy(parts);
    s->deferred_err = err;
    if (!s->deferred) {
        sluice_log(SLUICE_LOG_ERROR, "sink", "out of memory", (char *)0);
        abort(); /* nothing committed past what landed: a restart re-reads */
    }
    rd_kafka_queue_yield(s->queue);
}

static void handle_deferred(consumer *s)
{
    if (!s->deferred) return;
    rd_kafka_topic_partition_list_t *parts = s->deferred;
    s->deferred = NULL;
    rebalance(s, s->deferred_err, parts);
    rd_kafka_topic_partition_list_destroy(parts);
}

/* ---- messages ------------------------------------------------------------- */

static void take(consumer *s, rd_kafka_message_t *m, turn *t, int64_t now)
{
    if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        sluice_log(SLUICE_LOG_WARN, "sink", "consumer error", "error", rd_kafka_message_errstr(m),
                   (char *)0);
        return;
    }
    if (m->rkt != t->rkt) {
        t->rkt = m->rkt;
        t->route = m->rkt ? route_of(s, rd_kafka_topic_name(m->rkt)) : -1;
    }
    int route = t->route;
    int slot = part_find(&s->parts, route, m->partition);
    if (slot < 0 || !s->parts.parts[slot]->assigned)
        return; /* a leftover of an earlier assignment */
    part *p = s->parts.parts[slot];
    /* The end is reported after the partition's last message, in order. */
    note_end(s, p, m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF);
    if (m->err) return;
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
    route_rt *r = &s->pl->routes[route];
    batch **open = &s->open[route];
    if (!*open && !(*open = batch_new(++s->next_batch_id, route, now))) {
        sluice_log(SLUICE_LOG_ERROR, "sink", "out of memory", (char *)0);
        abort(); /* nothing committed past what landed: a restart re-reads */
    }
    if (r->exactly_once && !(*open)->eo.on) {
        (*open)->eo.on = 1;
        (*open)->eo.assign = atomic_load(&s->pl->eo.assign);
    }
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    size_t ranges_before = (*open)->n_ranges;
    uint64_t bytes = batch_add(*open, (uint32_t)slot, p->partition, p->generation, m->offset, ts,
                               m->key, m->key_len, m->payload, m->len);
    if ((*open)->eo.on && (*open)->n_ranges > ranges_before)
        (*open)->eo.members_bytes += eo_member_bytes_max(p->partition, m->offset);
    if (!bytes) {
        sluice_log(SLUICE_LOG_ERROR, "sink", "out of memory", (char *)0);
        abort();
    }
    sluice_counter_inc(r->m_messages);
    p->next_offset = m->offset + 1;
    if (part_note_consumed(p, (*open)->id, m->offset, bytes)) {
        add_tp(t->pause, s, p);
        sluice_counter_inc(s->m_pauses);
    }
    /* An exactly-once batch also closes before its intent could outgrow
     * Kafka's commit metadata (one more partition must still fit). */
    if ((int64_t)(*open)->n_msgs >= r->cfg->batch.max_rows ||
        (*open)->bytes >= r->cfg->batch.max_bytes ||
        ((*open)->eo.on && (*open)->eo.members_bytes + eo_member_bytes_max(INT32_MAX, INT64_MAX) >
                               EO_MEMBERS_MAX_BYTES))
        close_batch(s, route);
}

static void apply(consumer *s, turn *t)
{
    if (t->pause->cnt) {
        rd_kafka_pause_partitions(s->rk, t->pause);
        sluice_counter_inc(s->m_pause_calls);
    }
    if (t->resume->cnt) {
        rd_kafka_resume_partitions(s->rk, t->resume);
        sluice_counter_inc(s->m_resume_calls);
    }
    if (t->seek->cnt) {
        /* After the resume, which restarts fetching at the position after
         * the last message polled: back to the first one not taken. The
         * seek's version barrier makes librdkafka drop anything fetched
         * before it. Asynchronous; a failed seek is reported through the
         * list's per-partition errors. */
        rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, t->seek, 0);
        if (e) {
            sluice_log(SLUICE_LOG_ERROR, "sink", "seek failed", "error", rd_kafka_error_string(e),
                       (char *)0);
            rd_kafka_error_destroy(e);
        }
    }
}

/* Lag per partition: the broker's high watermark (as last fetched) minus
 * the next offset to commit. Once a second. */
static void update_lag(consumer *s)
{
    for (size_t i = 0; i < s->parts.n; i++) {
        part *p = s->parts.parts[i];
        if (!p->assigned) continue;
        int64_t lo = 0, hi = 0;
        if (rd_kafka_get_watermark_offsets(s->rk, s->pl->routes[p->route].cfg->topic, p->partition,
                                           &lo, &hi) != 0 ||
            hi < 0)
            continue;
        int64_t at = p->commit_next >= 0 ? p->commit_next : lo;
        atomic_store_explicit(&p->m_lag, hi > at ? hi - at : 0, memory_order_relaxed);
    }
}

/* A quiet turn (nothing polled, no message for NUDGE_QUIET_MS), at most
 * every NUDGE_EVERY_MS, looks at the partitions not known to be at their
 * end that are not paused:
 *  - Taken up to the high watermark librdkafka last saw (cached, no
 *    request): at its end. librdkafka reports an end offset once, so a
 *    partition sought back after a pause to an end it had reported would
 *    otherwise stay "behind" and its route's last batch wait out max_age.
 *  - The rest have messages left and none came: librdkafka's fetcher may be
 *    asleep on a queue limit it was over when it last looked
 *    (fetch_nudge.h), so their brokers are woken. */
static void quiet_turn(consumer *s, int64_t now)
{
    if (now - s->last_msg_ms < NUDGE_QUIET_MS || now - s->last_nudge_ms < NUDGE_EVERY_MS) return;
    s->last_nudge_ms = now;
    rd_kafka_topic_partition_list_t *l = NULL;
    for (size_t i = 0; i < s->parts.n; i++) {
        part *p = s->parts.parts[i];
        if (!p->assigned || p->paused || p->at_end) continue;
        const char *topic = s->pl->routes[p->route].cfg->topic;
        int64_t lo = -1, hi = -1;
        if (p->next_offset >= 0 &&
            rd_kafka_get_watermark_offsets(s->rk, topic, p->partition, &lo, &hi) == 0 && hi >= 0 &&
            p->next_offset >= hi) {
            note_end(s, p, 1);
            continue;
        }
        if (!s->nudge) continue;
        if (!l && !(l = rd_kafka_topic_partition_list_new(16))) return;
        /* The latest offset: any answer will do, the request is the point. */
        rd_kafka_topic_partition_list_add(l, topic, p->partition)->offset = RD_KAFKA_OFFSET_END;
    }
    if (l && fetch_nudge_post(s->nudge, l)) sluice_counter_inc(s->m_nudges);
}

static void one_turn(consumer *s, int64_t *last_lag)
{
    turn t = {rd_kafka_topic_partition_list_new(16), rd_kafka_topic_partition_list_new(16),
              rd_kafka_topic_partition_list_new(16)};
    int64_t now = clock_mono_ms();
    /* Short waits while batches are out, so landed ones are taken back
     * promptly; otherwise until the oldest open batch comes of age. */
    int timeout = s->in_flight || s->pending_head ? 10 : 100;
    for (size_t i = 0; i < s->pl->n_routes; i++) {
        const route_rt *r = &s->pl->routes[i];
        if (s->open[i]) {
            int64_t left = s->open[i]->opened_ms + r->cfg->batch.max_age_ms - now;
            if (caught_up(s, i)) {
                int64_t early = s->ends[i].last_close_ms + r->cfg->batch.max_age_ms - now;
                if (early < left) left = early;
            }
            if (left < timeout) timeout = left > 0 ? (int)left : 0;
        }
    }
    /* Messages are taken in batches of POLL_BATCH: rd_kafka_consumer_poll
     * reads the clock two or three times per message and makes a timed
     * wait per call (10 % of the consumer thread at 800 k messages/s,
     * perf). Only the first call of a turn waits, for one message; the
     * ones after it take what is queued and count as work. */
    int64_t t0 = clock_mono_ns(), polling = 0;
    int quiet = 1;
    rd_kafka_message_t *ms[POLL_BATCH];
    for (int n = 0; n < MAX_MESSAGES_PER_TURN && !atomic_load(&s->pl->stopping);) {
        s->in_batch_call = 1;
        ssize_t got;
        if (n == 0) {
            int64_t p0 = clock_mono_ns();
            got = rd_kafka_consume_batch_queue(s->queue, timeout, ms, 1);
            polling = clock_mono_ns() - p0;
        } else {
            got = rd_kafka_consume_batch_queue(s->queue, 0, ms, POLL_BATCH);
        }
        s->in_batch_call = 0;
        if (got > 0) quiet = 0;
        t.rkt = NULL;
        t.route = -1;
        for (ssize_t i = 0; i < got; i++) {
            take(s, ms[i], &t, now);
            rd_kafka_message_destroy(ms[i]);
        }
        if (s->deferred) {
            handle_deferred(s);
            break;
        }
        if (got <= 0 || (n > 0 && got < POLL_BATCH)) break;
        n += (int)got;
    }
    now = clock_mono_ms();
    if (quiet)
        quiet_turn(s, now);
    else
        s->last_msg_ms = now;
    close_aged(s, now);
    close_caught_up(s, now);
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
    atomic_fetch_add_explicit(&s->pl->times.consumer_ns[CONSUMER_POLL], (uint64_t)polling,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&s->pl->times.consumer_ns[CONSUMER_WORK], (uint64_t)(total - polling),
                              memory_order_relaxed);
}

/* SIGTERM: stop fetching, let what was consumed land, commit. */
static void drain(consumer *s)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(s->rk, &assigned) == 0 && assigned) {
        rd_kafka_pause_partitions(s->rk, assigned);
        rd_kafka_topic_partition_list_destroy(assigned);
    }
    close_all(s);
    int64_t deadline = clock_mono_ms() + s->pl->cfg->sink.shutdown_timeout_ms;
    atomic_store(&s->pl->give_up_ms, deadline);
    wait_landed(s, deadline);
    s->drain_result = all_landed(s) ? 0 : 1;
    commit_sync(s, "shutdown");
}

static void *consumer_main(void *arg)
{
    consumer *s = arg;
    pthread_setname_np(pthread_self(), "sink-consumer");
    int64_t last_lag = 0;
    while (!atomic_load(&s->pl->stopping))
        one_turn(s, &last_lag);
    drain(s);
    fetch_nudge_stop(s->nudge); /* before the close: no ListOffsets in flight through it */
    s->nudge = NULL;
    /* Leaves the group: the revoke callback runs here, with nothing left. */
    rd_kafka_consumer_close(s->rk);
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------- */

static void consumer_metrics(consumer *s)
{
    sluice_metrics *m = s->pl->m;
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
    s->m_nudges = sluice_metrics_counter(
        m, "sluice_sink_fetch_nudges_total",
        "Wake-ups sent to librdkafka's broker threads after a quiet turn with messages left "
        "(its fetcher sleeps up to 1 s once its queue was over the limit)",
        NULL);
    s->m_caught_up_closes = sluice_metrics_counter(
        m, "sluice_sink_caught_up_closes_total",
        "Batches closed before max_age because every partition of their route was read to its "
        "end",
        NULL);
}

static void consumer_free(consumer *s)
{
    if (s->deferred) rd_kafka_topic_partition_list_destroy(s->deferred);
    fetch_nudge_stop(s->nudge);
    if (s->queue) rd_kafka_queue_destroy(s->queue);
    if (s->rk) rd_kafka_destroy(s->rk);
    while (s->pending_head) {
        batch *b = s->pending_head;
        s->pending_head = b->next;
        batch_free(b);
    }
    for (size_t i = 0; s->open && i < s->pl->n_routes; i++)
        batch_free(s->open[i]);
    free(s->open);
    free(s->next_seq);
    free(s->ends);
    free(s->brokers);
    part_table_free(&s->parts);
    free(s->metrics_seen);
    free(s);
}

int consumer_start(pipeline *pl, const char *brokers, consumer **out, sluice_error *err)
{
    *out = NULL;
    consumer *s = calloc(1, sizeof *s);
    if (!s) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    s->pl = pl;
    s->open = calloc(pl->n_routes ? pl->n_routes : 1, sizeof *s->open);
    s->next_seq = calloc(pl->n_routes ? pl->n_routes : 1, sizeof *s->next_seq);
    s->ends = calloc(pl->n_routes ? pl->n_routes : 1, sizeof *s->ends);
    s->brokers = strdup(brokers);
    if (!s->open || !s->next_seq || !s->ends || !s->brokers) {
        free(s->open);
        free(s->next_seq);
        free(s->ends);
        free(s->brokers);
        free(s);
        return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    }
    const app_sink_config *sc = &pl->cfg->sink;
    const app_config *cfg = pl->cfg;
    int rc = 0;
    /* The consumer: librdkafka's prefetch queue and fetch responses share
     * their part of the budget, K, sized so that fetching does not stall:
     *  - librdkafka 2.0 (Debian 12's) decides whether to fetch a partition
     *    again right after queuing a response. If the consumer queue then
     *    holds more than queued.max.messages.kbytes, or more messages than
     *    queued.min.messages (100,000 by default), it stops fetching until
     *    its broker thread wakes for something else: up to a second
     *    (librdkafka #2879; 2.1 added fetch.queue.backoff.ms). Responses
     *    are counted decompressed there. Seen with debug=fetch in the
     *    benchmark: "queued.min.messages exceeded", then no fetch for
     *    0.84 s, with responses of K/8. Responses are kept to K/32
     *    compressed and the queue gets K/2, so a response's messages stay
     *    well under both limits while the consumer thread drains the
     *    queue; at most about K/2 plus one decompressed response is held.
     *    K/32 rather than K/16: the broker thread's arena is what a
     *    response costs, decompression and glibc's retained free chunks
     *    included, and at the 48 MiB minimum (K = 2.5 MiB) it peaked at
     *    5 MiB with 64 KiB responses, 8 with 96 KiB, 9-10 with 128-256
     *    KiB (smaps and malloc_info of test_rss_sink's smallest-limit
     *    case), which took the sink to 48.4 MiB once. The benchmark's
     *    rows/s at the default limit did not change between K/16 and
     *    K/32 (docs/BENCHMARKS.md, Sink §2).
     *  - fetch.wait.max.ms 100 (librdkafka's default is 500): a fetch in
     *    which every partition is at its end is held that long by the
     *    broker, and partitions resumed meanwhile wait for the next one.
     * Measured in docs/BENCHMARKS.md (Sink, section 1). A small queue also
     * means pausing (which discards a partition's prefetched messages) has
     * little to throw away. */
    char queued_kb[32], fetch_max[32], commit_ms[32];
    snprintf(commit_ms, sizeof commit_ms, "%lld", (long long)pl->commit_interval_ms);
    uint64_t q = pl->budget.kafka_queue / 2 / 1024, f = pl->budget.kafka_queue / 32;
    snprintf(queued_kb, sizeof queued_kb, "%llu",
             (unsigned long long)(q < 512     ? 512
                                  : q > 65536 ? 65536
                                              : q));
    /* A response is at most fetch.max.bytes compressed, and librdkafka
     * holds it decompressed: with compressible messages (10x for repetitive
     * JSON) a 1 MiB floor alone took the 48 MiB minimum over its limit, and
     * a 256 KiB one did once (above); the floor is 64 KiB.
     * librdkafka wants fetch.max.bytes >= message.max.bytes, so the
     * consumer's message.max.bytes (which only bounds what a handle
     * produces; this one produces nothing) follows it down; a record batch
     * larger than a fetch is still returned whole, as Kafka does. */
    uint64_t fb = f < (64u << 10) ? (64u << 10) : f > (32u << 20) ? (32u << 20) : f;
    char part_max[32];
    snprintf(fetch_max, sizeof fetch_max, "%llu", (unsigned long long)fb);
    snprintf(part_max, sizeof part_max, "%llu",
             (unsigned long long)(fb < (1u << 20) ? fb : (1u << 20)));
    const kafka_setting defaults[] = {
        {"queued.max.messages.kbytes", queued_kb},
        {"fetch.max.bytes", fetch_max},
        {"message.max.bytes", fetch_max},
        {"max.partition.fetch.bytes", part_max},
        {"fetch.wait.max.ms", "100"},
        {"partition.assignment.strategy", "range,roundrobin"},
        {"session.timeout.ms", "30000"},
        /* Stored offsets go to the broker every sink.commit_interval: after
         * a kill -9 the next owner re-reads at most about that much. */
        {"auto.commit.interval.ms", commit_ms},
        {"client.id", "sluice-sink"},
    };
    const kafka_setting forced[] = {
        {"group.id", sc->group_id},
        {"auto.offset.reset", sc->auto_offset_reset ? "latest" : "earliest"},
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", "true"},
        /* The end of a partition is how a route knows it is caught up
         * (close_caught_up). */
        {"enable.partition.eof", "true"},
    };
    if (rc == 0) {
        rd_kafka_conf_t *conf = kafka_conf_new(brokers, &cfg->kafka.properties, forced,
                                               sizeof forced / sizeof forced[0], defaults,
                                               sizeof defaults / sizeof defaults[0], err);
        if (!conf) {
            rc = SLUICE_ECONFIG;
        } else {
            rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
            rd_kafka_conf_set_opaque(conf, s);
            char why[512];
            s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
            if (!s->rk) rc = sluice_error_set(err, SLUICE_ECONFIG, "kafka consumer: %s", why);
            pl->eo.rk = s->rk; /* writers of exactly-once routes commit through it */
        }
    }
    if (rc == 0) {
        rd_kafka_poll_set_consumer(s->rk);
        if (!(s->queue = rd_kafka_queue_get_consumer(s->rk)))
            rc = sluice_error_set(err, SLUICE_EINTERNAL, "kafka: no consumer queue");
    }
    if (rc == 0) {
        rd_kafka_topic_partition_list_t *topics =
            rd_kafka_topic_partition_list_new((int)pl->n_routes);
        for (size_t i = 0; i < pl->n_routes; i++)
            rd_kafka_topic_partition_list_add(topics, pl->routes[i].cfg->topic,
                                              RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (e)
            rc = sluice_error_set(err, SLUICE_ECONFIG, "kafka subscribe: %s", rd_kafka_err2str(e));
    }
    if (rc == 0) {
        consumer_metrics(s);
        /* Without it the sink still works, with librdkafka's stalls. */
        if (!(s->nudge = fetch_nudge_start(s->rk)))
            sluice_log(SLUICE_LOG_WARN, "sink", "cannot start the fetch nudge thread", (char *)0);
    }
    if (rc == 0 && pthread_create(&s->thread, NULL, consumer_main, s) != 0)
        rc = sluice_error_set(err, SLUICE_EINTERNAL, "cannot start the consumer thread");
    if (rc) {
        consumer_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int consumer_ready(const consumer *c)
{
    return atomic_load(&((consumer *)c)->ready);
}

int consumer_stop(consumer *c)
{
    if (!c) return 0;
    pthread_join(c->thread, NULL);
    int result = c->drain_result;
    consumer_free(c);
    return result;
}
