/*
 * route.h — one route of the sink at run time (a topic going into a table):
 * what its configuration resolves to (dead-letter topic, reader subject,
 * plan options), the table's columns as last read, and its metrics.
 *
 * Threads: set up by sink.c before the stages start. The columns are read
 * by the first writer that needs them and re-read after an ALTER, under
 * `mu` (which is never held across I/O by anyone else: a writer reading
 * the columns holds it so that the others wait for the same answer instead
 * of asking ClickHouse again); `cols_gen` moves when they change, so plans
 * compiled against older columns are recompiled. Everything else is
 * read-only once the stages run.
 */
#ifndef SLUICE_SINK_ROUTE_H
#define SLUICE_SINK_ROUTE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/metrics.h>

#include "app/config.h"
#include "codec/plan.h"
#include "common/arena.h"

typedef struct route_rt {
    int index;
    const app_route_config *cfg;
    char *dlq_topic; /* resolved defaults */
    char *subject;
    plan_options opt;
    plan_derived *derived;
    /* the table's columns (see above) */
    pthread_mutex_t mu;
    arena cols_arena;
    plan_column *cols;
    size_t n_cols;
    _Atomic uint64_t cols_gen;
    uint64_t cols_hash;   /* eo_columns_hash of cols, under mu */
    int64_t cols_read_ms; /* when they were read (monotonic), under mu */
    /* ClickHouse refuses the route for a reason retrying will not fix
     * (ch_fail CH_FAIL_CONFIG): its message, under mu ("" when fine);
     * `blocked` mirrors it for /readyz and the gauge */
    char problem[512];
    _Atomic int blocked;
    /* delivery: decided once at start (sink.c) from the table's probe,
     * read-only after the consumer starts */
    int exactly_once;
    char delivery_reason[512];
    /* JSON Schema messages are checked against their schema before they
     * are decoded (route.validate, resolved at start in sink.c) */
    int validate;
    /* exactly-once: INSERTs and commits of this route go one batch at a
     * time, in the order the consumer queued them (batch.eo.seq) */
    pthread_mutex_t turn_mu;
    pthread_cond_t turn_cv;
    uint64_t turn;              /* the seq whose turn it is */
    _Atomic int exactly_once_m; /* for the gauge */
    /* metrics */
    sluice_counter *m_messages, *m_rows, *m_filtered, *m_dlq, *m_inserts, *m_insert_bytes,
        *m_retries, *m_errors_transient, *m_errors_data, *m_errors_config, *m_errors_decode;
    sluice_histogram *m_batch_rows, *m_batch_bytes, *m_insert_seconds;
    sluice_counter *m_replays, *m_replay_rows, *m_replay_changed, *m_replay_failed, *m_intents,
        *m_stale;
} route_rt;

/* Resolve route `index` of the configuration; its metrics go to m. */
int sink_route_setup(route_rt *r, int index, const app_route_config *c, sluice_metrics *m,
                     sluice_error *err);
void sink_route_free(route_rt *r);

/* Record or clear the route's problem (a writer's view of ClickHouse's
 * answer); logs when it changes. */
void sink_route_problem(route_rt *r, const char *message);
/* Copy the problem into why (returns 1), or 0 when the route is fine. */
int sink_route_blocked(route_rt *r, char *why, size_t n);

#endif
