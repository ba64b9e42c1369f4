/*
 * sink_int.h — the sink's runtime state, shared by its files:
 *   consumer.c  the consumer thread (owns the partition table, open batches,
 *               the pending list, pause/resume, offsets, rebalances);
 *   writer.c    the writer threads (own one batch at a time, their plan
 *               caches and ClickHouse connections);
 *   sink.c      start/stop, routes, metrics.
 * Which thread may touch what is written next to each field.
 */
#ifndef SLUICE_SINK_INT_H
#define SLUICE_SINK_INT_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "codec/plan.h"
#include "sink/batch.h"
#include "sink/ch_http.h"
#include "sink/dlq.h"
#include "sink/partition.h"
#include "sink/queue.h"
#include "sink/sink.h"

typedef struct route_rt {
    int index;
    const app_route_config *cfg;
    char *dlq_topic; /* resolved defaults; immutable after start */
    char *subject;
    plan_options opt;
    plan_derived *derived;
    /* the table's columns, fetched by the first writer that needs them;
     * guarded by mu; cols_gen bumps when they are re-read (after an ALTER) */
    pthread_mutex_t mu;
    arena cols_arena;
    plan_column *cols;
    size_t n_cols;
    _Atomic uint64_t cols_gen;
    /* consumer thread only */
    batch *open;
    /* metrics */
    sluice_counter *m_messages, *m_rows, *m_filtered, *m_dlq, *m_inserts, *m_insert_bytes,
        *m_retries, *m_errors_transient, *m_errors_data, *m_errors_config, *m_errors_decode;
    sluice_histogram *m_batch_rows, *m_batch_bytes, *m_insert_seconds;
} route_rt;

/* How sink.memory_limit is spent (docs/OPERATIONS.md, "Memory"). The
 * process's own baseline (code, libraries, connections, metrics) is set
 * aside first; the rest, R, is split:
 *   R/2  partition buffers: messages consumed and not yet landed (whether
 *        open, queued, or being inserted) — the pause/resume high marks;
 *   R/4  the writers' RowBinary buffers (each writer gets R/4/writers and
 *        sends what it has when its share is full);
 *   R/8  librdkafka's prefetch queue (queued.max.messages.kbytes) and fetch
 *        responses (fetch.max.bytes);
 *   R/8  slack for allocator overhead. */
#define SINK_BASELINE_BYTES ((uint64_t)24 << 20)

/* Where a row's time goes, batch by batch (consumer.c adds a landed
 * batch's stages, each weighted by its rows): open until it closes,
 * pending (the work queue full), queued (waiting for a writer), decode,
 * insert, dead letters, and the completion list back to the consumer. */
enum {
    STAGE_OPEN,
    STAGE_PENDING,
    STAGE_QUEUED,
    STAGE_DECODE,
    STAGE_INSERT,
    STAGE_DLQ,
    STAGE_COMPLETION,
    N_STAGES
};
/* What the writer threads do with their time, and the consumer thread. */
enum { WRITER_IDLE, WRITER_DECODE, WRITER_INSERT, WRITER_OTHER, N_WRITER_STATES };
enum { CONSUMER_POLL, CONSUMER_WORK, N_CONSUMER_STATES };

typedef struct sink_budget {
    uint64_t partitions;  /* all partition buffers together */
    uint64_t writer_rows; /* one writer's RowBinary buffer */
    uint64_t kafka_queue;
} sink_budget;

struct sink {
    const app_config *cfg;
    sink_budget budget;
    const char *brokers;
    char *ch_settings; /* clickhouse.settings as URL parameters */
    sluice_sr *sr;
    sluice_metrics *m;
    rd_kafka_t *consumer;
    dlq *dlq;
    route_rt *routes;
    size_t n_routes;
    work_queue q;

    /* consumer thread only */
    part_table parts;
    char *metrics_seen; /* per slot: series registered */
    size_t metrics_seen_len;
    batch *pending_head, *pending_tail; /* closed, waiting for room in the queue */
    uint64_t next_batch_id;
    size_t in_flight; /* batches handed out and not yet back */
    int64_t high_mark, low_mark;

    /* writers -> consumer: landed (or abandoned) batches */
    pthread_mutex_t done_mu;
    batch *done_head, *done_tail;

    /* rate limit (token buckets), shared by writers */
    pthread_mutex_t rl_mu;
    double rl_inserts, rl_rows;
    int64_t rl_last_ms;

    pthread_t consumer_thread;
    pthread_t *writers;
    size_t n_writers;
    _Atomic int stopping;       /* SIGTERM: stop fetching, drain */
    _Atomic int64_t give_up_ms; /* writers abandon retries after this (monotonic; 0 = never) */
    _Atomic int ready;
    _Atomic int consumer_done;
    int drain_result;

    sluice_counter *m_pauses, *m_resumes, *m_pause_calls, *m_resume_calls, *m_rebalances,
        *m_commit_errors, *m_refetched;
    /* time accounting (sink_int.h enums): row-microseconds per stage
     * (consumer thread writes), ns per writer state (writers add), ns per
     * consumer state; read by the metrics renderer */
    _Atomic uint64_t stage_row_us[N_STAGES];
    _Atomic uint64_t stage_rows;
    _Atomic uint64_t writer_ns[N_WRITER_STATES];
    _Atomic uint64_t consumer_ns[N_CONSUMER_STATES];
    struct time_series *time_series; /* sink.c: one per exported series */
};

/* consumer.c */
void *consumer_main(void *sink);
void sink_post_done(sink *s, batch *b); /* writer -> consumer */
void consumer_set_rebalance(rd_kafka_conf_t *conf, sink *s);

/* sink.c: the metrics series of a partition (first assignment only). */
void sink_partition_metrics(sink *s, part *p);

/* writer.c: a writer's state (owned by its thread once started) */
void *writer_new(sink *s, int index, sluice_error *err);
void *writer_main(void *writer);

#endif
