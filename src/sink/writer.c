/*
 * writer.c — the sink's writer threads.
 *
 * A writer takes one batch at a time off the work queue and owns it until it
 * hands it back (sink_post_done). For each message it finds the plan —
 * Confluent-framed messages by writer schema id (through the shared
 * registry client, which caches), JSON messages by route — and runs it into
 * the rows of one INSERT per column list. It then INSERTs them, retrying
 * transient failures forever with full-jitter backoff (the batch keeps its
 * memory while it waits, so back pressure reaches Kafka through the
 * partition buffers). When ClickHouse rejects the data itself, the rows are
 * split in halves by message until the culprit is alone; it goes to the
 * dead-letter topic with the reason, the rest lands. Undecodable messages go
 * there too. Only then is the batch "landed" and its offsets may move.
 *
 * Owned by the thread: its ClickHouse connection, its plan cache (plans and
 * their states are never shared between writers, so running them takes no
 * lock), its row buffers. Shared: the registry client, the DLQ producer,
 * the routes' column lists (under the route's mutex), the rate limiter.
 */
#include "sink/writer.h"

#include "app/kafka_conf.h"
#include "sink/batch.h"
#include "sink/ch_http.h"
#include "sink/dlq.h"
#include "sink/eo.h"
#include "sink/eo_commit.h"
#include "sink/plan_cache.h"

#include <sluice/avro.h>
#include <sluice/log.h>
#include <sluice/wire.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "app/failpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS 8

/* The rows for one INSERT (one column list), and which message made which. */
typedef struct group {
    const plan *p; /* its column list; the plan lives while the batch does */
    int route;
    buf rows;
    size_t *msg;   /* batch message index */
    size_t *start; /* where its rows begin in `rows` */
    size_t *n_rows;
    size_t n, cap;
} group;

/* What the writer threads share: the dead-letter producer (thread safe),
 * the rate limiter (its own mutex), their threads. */
struct writers {
    pipeline *pl;
    dlq *dlq;
    char *ch_settings; /* clickhouse.settings as URL parameters */
    pthread_mutex_t rl_mu;
    double rl_inserts, rl_rows;
    int64_t rl_last_ms;
    pthread_t *threads;
    size_t n;
};

typedef struct writer {
    writers *pool;
    pipeline *s;
    int index;
    ch_http *ch;
    plan_cache plans;
    group groups[MAX_GROUPS];
    size_t n_groups;
    dlq_msg *dlq;
    size_t n_dlq, cap_dlq;
    arena reasons; /* dead-letter reasons of the current batch */
    uint64_t rng;
    size_t rows_cap; /* one INSERT's rows at most, for the current batch */
    /* exactly-once, for the current batch: its turn taken, its intent committed */
    int eo_entered, eo_intent_done;
} writer;

enum { LANDED = 0, ABANDON = 1, REPLAN = 2 };

static int give_up(const pipeline *s)
{
    int64_t t = atomic_load(&s->give_up_ms);
    return t && clock_mono_ms() >= t;
}

/* Wait before retry `attempt`; returns 1 when it is time to give up. */
static int backoff_wait(writer *w, int attempt)
{
    const app_sink_config *c = &w->s->cfg->sink;
    int64_t ms = backoff_delay_ms(attempt, c->retry_initial_ms, c->retry_max_ms, &w->rng);
    for (int64_t slept = 0; slept < ms; slept += 50) {
        if (give_up(w->s)) return 1;
        clock_sleep_ms(ms - slept < 50 ? ms - slept : 50);
    }
    return give_up(w->s);
}

/* While ClickHouse refuses the route for a reason retrying will not fix:
 * one slow probe every sink.blocked_retry. Returns 1 when it is time to
 * give up. */
static int blocked_wait(writer *w)
{
    int64_t ms = w->s->cfg->sink.blocked_retry_ms;
    for (int64_t slept = 0; slept < ms; slept += 50) {
        if (give_up(w->s)) return 1;
        clock_sleep_ms(ms - slept < 50 ? ms - slept : 50);
    }
    return give_up(w->s);
}

/* ---- dead letters ---------------------------------------------------------- */

static void dead_letter(writer *w, const batch *b, size_t i, int32_t schema_id, const char *reason)
{
    if (w->n_dlq == w->cap_dlq) {
        size_t cap = w->cap_dlq ? 2 * w->cap_dlq : 64;
        dlq_msg *q = realloc(w->dlq, cap * sizeof *q);
        if (!q) {
            /* Cannot even remember it: give the batch up (it will be read
             * again) rather than lose the message. */
            sluice_log(SLUICE_LOG_ERROR, "sink", "out of memory recording a dead letter",
                       (char *)0);
            abort();
        }
        w->dlq = q;
        w->cap_dlq = cap;
    }
    const batch_msg *m = &b->msgs[i];
    const route_rt *r = &w->s->routes[b->route];
    char *why = arena_strdup(&w->reasons, reason);
    w->dlq[w->n_dlq++] = (dlq_msg){.topic = r->dlq_topic,
                                   .key = m->key,
                                   .key_len = m->key_len,
                                   .value = m->value,
                                   .value_len = m->value_len,
                                   .reason = why ? why : "(reason lost: out of memory)",
                                   .source_topic = r->cfg->topic,
                                   .source_partition = m->partition,
                                   .source_offset = m->offset,
                                   .schema_id = schema_id};
}

/* ---- table columns ----------------------------------------------------------- */

/* The route's columns, read from system.columns once, again after
 * `refresh` (ClickHouse refused an INSERT) and every sink.columns_refresh
 * (an ALTER TABLE is picked up without a restart). Plans are recompiled
 * only when the columns changed. Retries until it works or it is time to
 * give up. */
static int route_columns(writer *w, route_rt *r, int refresh)
{
    pthread_mutex_lock(&r->mu);
    int64_t now = clock_mono_ms();
    if (r->cols && !refresh && now - r->cols_read_ms < w->s->cfg->sink.columns_refresh_ms) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    int rc = ABANDON;
    for (int attempt = 1;; attempt++) {
        arena a;
        arena_init(&a, 8192, 16u << 20);
        plan_column *cols;
        size_t n;
        sluice_error err;
        if (ch_http_columns(w->ch, r->cfg->table, &a, &cols, &n, &err) == 0) {
            uint64_t hash = eo_columns_hash(cols, n);
            r->cols_read_ms = clock_mono_ms();
            if (r->cols && hash == r->cols_hash) {
                arena_free(&a); /* the same columns: plans stay */
            } else {
                if (r->cols)
                    sluice_log(SLUICE_LOG_INFO, "sink",
                               "the table's columns changed; plans are compiled again", "table",
                               r->cfg->table, (char *)0);
                arena_free(&r->cols_arena);
                r->cols_arena = a;
                r->cols = cols;
                r->n_cols = n;
                r->cols_hash = hash;
                atomic_fetch_add(&r->cols_gen, 1);
            }
            rc = 0;
            break;
        }
        arena_free(&a);
        /* An old list is still good to decode with while the server is
         * unreachable: only a table never read must wait. */
        if (r->cols && !refresh && err.code != SLUICE_ENOTFOUND &&
            ch_http_classify(&err) == CH_FAIL_TRANSIENT) {
            r->cols_read_ms = clock_mono_ms();
            rc = 0;
            break;
        }
        sluice_log(attempt == 1 ? SLUICE_LOG_ERROR : SLUICE_LOG_DEBUG, "sink",
                   "cannot read the table's columns; retrying", "route", r->cfg->topic, "table",
                   r->cfg->table, "error", err.msg, (char *)0);
        if (err.code == SLUICE_ENOTFOUND || ch_http_classify(&err) == CH_FAIL_CONFIG) {
            /* no such table, no right to read it: the route is blocked */
            pthread_mutex_unlock(&r->mu);
            sink_route_problem(r, err.msg);
            int stop = blocked_wait(w);
            pthread_mutex_lock(&r->mu);
            if (stop) break;
        } else if (backoff_wait(w, attempt)) {
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---- plans ------------------------------------------------------------------------ */

enum { PLAN_GIVE_UP = 100 };

/* The plan for message m (plan_cache.h): PLAN_READY with *out and where
 * its bytes begin, PLAN_UNDECODABLE with why, or PLAN_GIVE_UP when the
 * registry stays unreachable until shutdown (not the message's fault: the
 * batch holds its partitions meanwhile). */
static int plan_for(writer *w, route_rt *r, const batch_msg *m, int32_t pin, uint64_t batch_tick,
                    plan_entry **out, size_t *payload_at, int32_t *schema_id, char *why,
                    size_t why_len)
{
    *schema_id = -1;
    *payload_at = 0;
    if (!sluice_wire_is_framed(m->value, m->value_len))
        return plan_cache_json(&w->plans, r, batch_tick, out, why, why_len);
    const uint8_t *p;
    size_t plen;
    sluice_wire_read(m->value, m->value_len, schema_id, &p, &plen, NULL);
    for (int attempt = 1;; attempt++) {
        sluice_error err;
        int rc = plan_cache_framed(&w->plans, r, m->value, m->value_len, pin, batch_tick, out,
                                   payload_at, why, why_len, &err);
        if (rc != PLAN_RETRY) return rc;
        sluice_log(SLUICE_LOG_WARN, "sink", "schema registry unavailable; retrying", "error",
                   err.msg, (char *)0);
        if (backoff_wait(w, attempt)) return PLAN_GIVE_UP;
    }
}

/* ---- exactly-once ------------------------------------------------------------------- */

/* Wait for the batch's turn on its route and, before its first INSERT,
 * commit its intent (a replayed batch's intent is in Kafka already). */
static int eo_enter(writer *w, const batch *b, int inserting)
{
    route_rt *r = &w->s->routes[b->route];
    if (!w->eo_entered) {
        eo_turn_wait(r, b);
        w->eo_entered = 1;
    }
    if (!inserting || w->eo_intent_done || b->eo.replay) return LANDED;
    for (int attempt = 1;; attempt++) {
        sluice_error err;
        int rc = eo_commit_intent(w->s, r, b, &err);
        if (rc == EO_COMMITTED) failpoint("eo_after_intent"); /* intent, no INSERT yet */
        if (rc == EO_COMMITTED) {
            w->eo_intent_done = 1;
            sluice_counter_inc(r->m_intents);
            return LANDED;
        }
        if (rc == EO_STALE) {
            sluice_counter_inc(r->m_stale);
            return ABANDON;
        }
        sluice_log(SLUICE_LOG_WARN, "sink", "cannot commit the batch's intent; retrying", "route",
                   r->cfg->topic, "error", err.msg, (char *)0);
        if (backoff_wait(w, attempt)) return ABANDON;
    }
}

/* After everything of the batch is in ClickHouse or the DLQ: move its
 * partitions' committed offsets past it (in its turn). */
static int eo_finish(writer *w, batch *b)
{
    route_rt *r = &w->s->routes[b->route];
    eo_enter(w, b, 0);
    for (int attempt = 1;; attempt++) {
        sluice_error err;
        int rc = eo_commit_done(w->s, r, b, &err);
        if (rc == EO_COMMITTED) return LANDED;
        if (rc == EO_STALE) {
            sluice_counter_inc(r->m_stale);
            return ABANDON;
        }
        sluice_log(SLUICE_LOG_WARN, "sink", "cannot commit a landed batch's offsets; retrying",
                   "route", r->cfg->topic, "error", err.msg, (char *)0);
        if (backoff_wait(w, attempt)) return ABANDON;
    }
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Fix what makes the batch's block the same on a replay: message order,
 * the time, the reader schema, the columns, where INSERTs are cut. A
 * replayed batch takes them from its intent. */
static int eo_prepare(writer *w, batch *b)
{
    pipeline *s = w->s;
    route_rt *r = &s->routes[b->route];
    batch_sort(b);
    pthread_mutex_lock(&r->mu);
    uint64_t cols_hash = r->cols_hash;
    pthread_mutex_unlock(&r->mu);
    if (b->eo.replay) {
        if (b->eo.cols_hash != cols_hash) {
            sluice_counter_inc(r->m_replay_changed);
            sluice_log(SLUICE_LOG_WARN, "sink",
                       "the table's columns changed since this batch was first inserted: the "
                       "replayed block may differ and be stored twice",
                       "table", r->cfg->table, (char *)0);
        }
        w->rows_cap = b->eo.max_insert_bytes < s->budget.writer_rows ? b->eo.max_insert_bytes
                                                                     : s->budget.writer_rows;
        if (b->eo.max_insert_bytes > s->budget.writer_rows)
            sluice_log(SLUICE_LOG_WARN, "sink",
                       "replaying a batch cut by a larger writer budget: if its rows exceed this "
                       "process's, its INSERTs are cut elsewhere and may be stored twice",
                       "table", r->cfg->table, (char *)0);
        return LANDED;
    }
    b->eo.block = splitmix(&w->rng);
    b->eo.now_s = clock_wall_ms() / 1000;
    b->eo.cols_hash = cols_hash;
    b->eo.max_insert_bytes = s->budget.writer_rows;
    b->eo.reader_id = -1;
    int framed = 0;
    for (size_t i = 0; i < b->n_msgs && !framed; i++)
        framed = sluice_wire_is_framed(b->msgs[i].value, b->msgs[i].value_len);
    if (framed && s->sr) {
        for (int attempt = 1;; attempt++) {
            const sluice_sr_schema *latest = NULL;
            sluice_error err;
            int rc = sluice_sr_get_latest(s->sr, r->subject, &latest, &err);
            if (rc == 0) b->eo.reader_id = latest->id;
            sluice_sr_schema_release(latest);
            if (rc == 0 || rc == SLUICE_ENOTFOUND) break;
            sluice_log(SLUICE_LOG_WARN, "sink", "schema registry unavailable; retrying", "error",
                       err.msg, (char *)0);
            if (backoff_wait(w, attempt)) return ABANDON;
        }
    }
    return LANDED;
}

/* ---- groups and INSERTs ----------------------------------------------------------- */

static group *group_for(writer *w, const plan *p, int route)
{
    const char *cols = plan_columns_sql(p);
    for (size_t i = 0; i < w->n_groups; i++)
        if (w->groups[i].route == route && strcmp(plan_columns_sql(w->groups[i].p), cols) == 0)
            return &w->groups[i];
    if (w->n_groups == MAX_GROUPS) return NULL;
    group *g = &w->groups[w->n_groups++];
    g->p = p;
    g->route = route;
    buf_reset(&g->rows);
    g->rows.cap = w->rows_cap;
    g->n = 0;
    return g;
}

static int group_note(group *g, size_t msg, size_t start, size_t n_rows)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 256;
        size_t *a = realloc(g->msg, cap * sizeof *a);
        size_t *b = a ? realloc(g->start, cap * sizeof *b) : NULL;
        size_t *c = b ? realloc(g->n_rows, cap * sizeof *c) : NULL;
        if (a) g->msg = a;
        if (b) g->start = b;
        if (!c) return SLUICE_ENOMEM;
        g->n_rows = c;
        g->cap = cap;
    }
    g->msg[g->n] = msg;
    g->start[g->n] = start;
    g->n_rows[g->n] = n_rows;
    g->n++;
    return 0;
}

static void rate_limit(writer *w, size_t rows)
{
    writers *s = w->pool;
    const app_sink_config *c = &s->pl->cfg->sink;
    if (!c->inserts_per_s && !c->rows_per_s) return;
    for (;;) {
        pthread_mutex_lock(&s->rl_mu);
        int64_t now = clock_mono_ms();
        double dt = (double)(now - s->rl_last_ms) / 1000.0;
        s->rl_last_ms = now;
        /* Buckets hold at most one second of tokens. */
        if (c->inserts_per_s) {
            s->rl_inserts += dt * (double)c->inserts_per_s;
            if (s->rl_inserts > (double)c->inserts_per_s) s->rl_inserts = (double)c->inserts_per_s;
        }
        if (c->rows_per_s) {
            s->rl_rows += dt * (double)c->rows_per_s;
            if (s->rl_rows > (double)c->rows_per_s) s->rl_rows = (double)c->rows_per_s;
        }
        int ok =
            (!c->inserts_per_s || s->rl_inserts >= 1.0) &&
            (!c->rows_per_s || s->rl_rows >= (double)rows ||
             s->rl_rows >=
                 (double)
                     c->rows_per_s); /* a batch above a second's worth waits for a full bucket */
        if (ok) {
            if (c->inserts_per_s) s->rl_inserts -= 1.0;
            if (c->rows_per_s) s->rl_rows -= (double)rows;
        }
        pthread_mutex_unlock(&s->rl_mu);
        if (ok || give_up(w->s)) return;
        clock_sleep_ms(20);
    }
}

/* INSERT the rows of messages [from, to) of g; on a data error, split. */
static int insert_range(writer *w, const batch *b, group *g, size_t from, size_t to, int depth)
{
    route_rt *r = &w->s->routes[g->route];
    size_t begin = g->start[from], end = to < g->n ? g->start[to] : g->rows.len;
    size_t rows = 0;
    for (size_t i = from; i < to; i++)
        rows += g->n_rows[i];
    if (end == begin) return LANDED;
    if (b->eo.on) {
        int e = eo_enter(w, b, 1);
        if (e != LANDED) return e;
    }
    for (int attempt = 1;; attempt++) {
        rate_limit(w, rows);
        sluice_error err;
        int64_t t0 = clock_mono_ns();
        int rc = ch_http_insert(w->ch, r->cfg->table, plan_columns_sql(g->p), g->rows.data + begin,
                                end - begin, &err);
        if (rc == 0) {
            sluice_histogram_observe(r->m_insert_seconds, (double)(clock_mono_ns() - t0) / 1e9);
            sluice_counter_inc(r->m_inserts);
            sluice_counter_add(r->m_insert_bytes, end - begin);
            sluice_counter_add(r->m_rows, rows);
            if (atomic_load(&r->blocked)) sink_route_problem(r, NULL);
            if (b->eo.on) failpoint("eo_after_insert"); /* landed, end not committed */
            return LANDED;
        }
        ch_fail kind = ch_http_classify(&err);
        if (kind == CH_FAIL_DATA) {
            sluice_counter_inc(r->m_errors_data);
            if (to - from == 1) {
                char why[SLUICE_ERROR_MSG_MAX + 64];
                snprintf(why, sizeof why, "clickhouse rejected the row: %s", err.msg);
                dead_letter(w, b, g->msg[from], -1, why);
                return LANDED;
            }
            /* Halve by message until the culprit is alone; depth is bounded
             * by log2 of the batch. */
            size_t mid = from + (to - from) / 2;
            int a = insert_range(w, b, g, from, mid, depth + 1);
            return a != LANDED ? a : insert_range(w, b, g, mid, to, depth + 1);
        }
        if (kind == CH_FAIL_CONFIG) {
            sluice_counter_inc(r->m_errors_config);
            /* The table may have changed under us (ALTER): re-read its
             * columns; if they changed, decode the batch again with fresh
             * plans. If not, the route is blocked until someone fixes the
             * table, the settings or the credentials: say so once, fail
             * /readyz, and probe slowly. */
            uint64_t gen = atomic_load(&r->cols_gen);
            if (route_columns(w, r, 1) != 0) return ABANDON;
            if (atomic_load(&r->cols_gen) != gen) return REPLAN;
            sink_route_problem(r, err.msg);
            if (blocked_wait(w)) return ABANDON;
            continue;
        }
        if (b->eo.on && eo_stale(w->s, b)) {
            /* Its partitions went to another owner, who replays its intent. */
            sluice_counter_inc(r->m_stale);
            return ABANDON;
        }
        sluice_counter_inc(r->m_errors_transient);
        sluice_counter_inc(r->m_retries);
        sluice_log(attempt == 1 ? SLUICE_LOG_WARN : SLUICE_LOG_DEBUG, "sink",
                   "INSERT failed; retrying", "table", r->cfg->table, "error", err.msg, (char *)0);
        if (backoff_wait(w, attempt)) return ABANDON;
    }
}

/* ---- one batch ---------------------------------------------------------------------- */

static int decode_batch(writer *w, batch *b, uint64_t batch_tick)
{
    pipeline *s = w->s;
    route_rt *r = &s->routes[b->route];
    int64_t now_s = b->eo.on ? b->eo.now_s : clock_wall_ms() / 1000;
    int32_t pin = b->eo.on ? b->eo.reader_id : READER_LATEST;
    for (size_t i = 0; i < b->n_msgs; i++) {
        const batch_msg *m = &b->msgs[i];
        char why[SLUICE_ERROR_MSG_MAX];
        int32_t schema_id = -1;
        plan_entry *e;
        const uint8_t *payload = m->value;
        size_t len = m->value_len;
        if (len > s->cfg->sink.max_message_bytes) {
            snprintf(why, sizeof why, "message of %zu bytes is larger than sink.max_message_bytes",
                     len);
            dead_letter(w, b, i, -1, why);
            sluice_counter_inc(r->m_errors_decode);
            continue;
        }
        size_t at;
        int prc = plan_for(w, r, m, pin, batch_tick, &e, &at, &schema_id, why, sizeof why);
        if (prc == PLAN_GIVE_UP) return ABANDON;
        if (prc == PLAN_UNDECODABLE) {
            dead_letter(w, b, i, schema_id, why);
            sluice_counter_inc(r->m_errors_decode);
            continue;
        }
        payload = m->value + at;
        len = m->value_len - at;
        if (!e->error && r->validate &&
            plan_entry_validate(e, payload, len, why, sizeof why) != 0) {
            dead_letter(w, b, i, schema_id, why);
            sluice_counter_inc(r->m_errors_decode);
            continue;
        }
        if (e->error) {
            snprintf(why, sizeof why, "%s", e->error);
            dead_letter(w, b, i, schema_id, why);
            sluice_counter_inc(r->m_errors_decode);
            continue;
        }
        group *g = group_for(w, e->p, b->route);
        if (!g) return ABANDON;
        for (int tries = 0;; tries++) {
            size_t start = g->rows.len;
            plan_result res;
            sluice_error err;
            int rc = plan_run(e->p, e->st, payload, len, now_s, &g->rows, &res, &err);
            if (rc == 0) {
                if (res.rows && group_note(g, i, start, res.rows) != 0) return ABANDON;
                b->rows += res.rows;
                b->filtered += res.filtered;
                sluice_counter_add(r->m_filtered, res.filtered);
                break;
            }
            if (rc == SLUICE_ENOMEM && tries == 0 && g->n > 0) {
                /* The group's rows reached their bound: INSERT what is
                 * there now and decode this message into an empty buffer. */
                int64_t t0 = clock_mono_ns();
                int ins = insert_range(w, b, g, 0, g->n, 0);
                b->insert_ns += clock_mono_ns() - t0;
                if (ins != LANDED) return ins;
                buf_reset(&g->rows);
                g->n = 0;
                continue;
            }
            snprintf(why, sizeof why, "%s", err.msg);
            dead_letter(w, b, i, schema_id, why);
            sluice_counter_inc(r->m_errors_decode);
            break;
        }
    }
    for (size_t k = 0; k < w->n_groups; k++) {
        group *g = &w->groups[k];
        if (g->n) {
            int64_t t0 = clock_mono_ns();
            int rc = insert_range(w, b, g, 0, g->n, 0);
            b->insert_ns += clock_mono_ns() - t0;
            if (rc != LANDED) return rc;
        }
    }
    return LANDED;
}

static int send_dead_letters(writer *w)
{
    for (int attempt = 1; w->n_dlq; attempt++) {
        sluice_error err;
        if (dlq_send(w->pool->dlq, w->dlq, w->n_dlq, &err) == 0) return LANDED;
        /* A DLQ that cannot be written holds the batch: nothing is dropped. */
        sluice_log(SLUICE_LOG_ERROR, "sink", "dead-letter topic unavailable; retrying", "error",
                   err.msg, (char *)0);
        if (backoff_wait(w, attempt)) return ABANDON;
    }
    return LANDED;
}

static void process(writer *w, batch *b)
{
    route_rt *r = &w->s->routes[b->route];
    uint64_t batch_tick = plan_cache_batch(&w->plans);
    w->rows_cap = w->s->budget.writer_rows;
    w->eo_entered = w->eo_intent_done = 0;
    int rc = route_columns(w, r, 0);
    if (rc == LANDED && b->eo.on) {
        if (eo_stale(w->s, b)) {
            sluice_counter_inc(r->m_stale);
            rc = ABANDON;
        } else {
            rc = eo_prepare(w, b);
        }
    }
    for (int replans = 0; rc == LANDED; replans++) {
        w->n_groups = 0;
        w->n_dlq = 0;
        arena_free(&w->reasons);
        b->rows = b->filtered = 0;
        int64_t t0 = clock_mono_ns(), ins0 = b->insert_ns;
        rc = decode_batch(w, b, batch_tick);
        b->decode_ns += clock_mono_ns() - t0 - (b->insert_ns - ins0);
        if (rc != REPLAN) break;
        if (replans > 0 && backoff_wait(w, replans)) /* the table keeps refusing: slow down */
            rc = ABANDON;
        else
            rc = LANDED;
    }
    int64_t t0 = clock_mono_ns();
    if (rc == LANDED) rc = send_dead_letters(w);
    b->dlq_ns = clock_mono_ns() - t0;
    if (b->eo.on) {
        if (rc == LANDED) rc = eo_finish(w, b);
        if (!w->eo_entered) eo_turn_wait(r, b); /* turns pass in order, landed or not */
        eo_turn_pass(r, b);
        w->eo_entered = w->eo_intent_done = 0;
        if (rc == LANDED && b->eo.replay) {
            sluice_counter_inc(r->m_replays);
            sluice_counter_add(r->m_replay_rows, b->rows);
        }
    }
    if (rc == LANDED) {
        b->landed = 1;
        b->dead_lettered = w->n_dlq;
        sluice_counter_add(r->m_dlq, w->n_dlq);
        sluice_histogram_observe(r->m_batch_rows, (double)b->rows);
        sluice_histogram_observe(r->m_batch_bytes, (double)b->bytes);
    }
    w->n_dlq = 0;
    arena_free(&w->reasons);
    pipeline *s = w->s;
    b->t_posted = clock_mono_ns();
    int64_t busy = b->t_posted - b->t_popped;
    atomic_fetch_add_explicit(&s->times.writer_ns[WRITER_DECODE], (uint64_t)b->decode_ns,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&s->times.writer_ns[WRITER_INSERT], (uint64_t)b->insert_ns,
                              memory_order_relaxed);
    int64_t other = busy - b->decode_ns - b->insert_ns;
    if (other > 0)
        atomic_fetch_add_explicit(&s->times.writer_ns[WRITER_OTHER], (uint64_t)other,
                                  memory_order_relaxed);
    acks_post(&s->acks, b);
}

static writer *writer_new(writers *pool, int index, sluice_error *err)
{
    pipeline *s = pool->pl;
    writer *w = calloc(1, sizeof *w);
    if (!w) {
        sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
        return NULL;
    }
    w->pool = pool;
    w->s = s;
    w->index = index;
    w->rng = backoff_seed();
    plan_cache_init(&w->plans, s->sr);
    arena_init(&w->reasons, 4096, SIZE_MAX);
    /* One INSERT's rows: past this writer's share of the budget, the rows
     * so far are sent and decoding continues into the emptied buffer. A
     * batch whose messages need several column lists (a schema change in
     * mid-batch) has one buffer each; that brief overshoot is what the
     * budget's slack is for. */
    for (int i = 0; i < MAX_GROUPS; i++)
        buf_init(&w->groups[i].rows, s->budget.writer_rows);
    ch_http_config hc;
    ch_http_config_from(s->cfg, pool->ch_settings, &hc);
    hc.failovers = &s->ch_failovers;
    if (ch_http_new(&hc, &w->ch, err) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

static void *writer_main(void *arg)
{
    writer *w = arg;
    char name[16];
    snprintf(name, sizeof name, "sink-writer-%d", w->index);
    pthread_setname_np(pthread_self(), name);
    batch *b;
    int64_t idle0 = clock_mono_ns();
    while ((b = wq_pop(&w->s->q)) != NULL) {
        b->t_popped = clock_mono_ns();
        atomic_fetch_add_explicit(&w->s->times.writer_ns[WRITER_IDLE],
                                  (uint64_t)(b->t_popped - idle0), memory_order_relaxed);
        process(w, b);
        idle0 = clock_mono_ns();
    }
    plan_cache_free(&w->plans);
    for (int i = 0; i < MAX_GROUPS; i++) {
        buf_free(&w->groups[i].rows);
        free(w->groups[i].msg);
        free(w->groups[i].start);
        free(w->groups[i].n_rows);
    }
    free(w->dlq);
    arena_free(&w->reasons);
    ch_http_free(w->ch);
    free(w);
    return NULL;
}

/* ---- the pool -------------------------------------------------------------------- */

static void pool_free(writers *p)
{
    dlq_free(p->dlq);
    pthread_mutex_destroy(&p->rl_mu);
    free(p->threads);
    free(p->ch_settings);
    free(p);
}

int writers_start(pipeline *pl, const char *brokers, writers **out, sluice_error *err)
{
    *out = NULL;
    const app_config *cfg = pl->cfg;
    writers *p = calloc(1, sizeof *p);
    if (!p) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    p->pl = pl;
    pthread_mutex_init(&p->rl_mu, NULL);
    p->ch_settings = ch_settings_query(&cfg->clickhouse.settings);
    p->threads = calloc((size_t)cfg->sink.writers, sizeof *p->threads);
    if (!p->ch_settings || !p->threads) {
        pool_free(p);
        return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    }
    const kafka_setting dflt[] = {{"linger.ms", "5"}, {"client.id", "sluice-sink-dlq"}};
    const kafka_setting force[] = {{"enable.idempotence", "true"}, {"acks", "all"}};
    rd_kafka_conf_t *conf = kafka_conf_new(brokers, &cfg->kafka.properties, force, 2, dflt, 2, err);
    int rc = conf ? dlq_new(conf, &p->dlq, err) : SLUICE_ECONFIG;
    for (int64_t i = 0; rc == 0 && i < cfg->sink.writers; i++) {
        writer *w = writer_new(p, (int)i, err);
        if (!w || pthread_create(&p->threads[i], NULL, writer_main, w) != 0) {
            rc = w ? sluice_error_set(err, SLUICE_EINTERNAL, "cannot start a writer thread")
                   : err->code;
            free(w);
            break;
        }
        p->n++;
    }
    if (rc) {
        wq_close(&pl->q);
        writers_stop(p);
        return rc;
    }
    *out = p;
    return 0;
}

void writers_stop(writers *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pool_free(p);
}
