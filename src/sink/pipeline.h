/*
 * pipeline.h — what the stages of `sluice sink` share. The stages run one
 * way and never include each other:
 *
 *   consumer.c (one thread) ──batches──▶ queue.c ──▶ writer.c (N threads) ──INSERT──▶ ClickHouse
 *        ▲                                                  │
 *        └──────────── acks.c: landed batches back ─────────┘
 *
 * sink.c builds one pipeline, hands it to both stages and stops them. What
 * each field may be touched by is written next to it; everything not
 * marked is set before the threads start and read-only after.
 */
#ifndef SLUICE_SINK_PIPELINE_H
#define SLUICE_SINK_PIPELINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <sluice/metrics.h>
#include <sluice/sr.h>

#include "app/config.h"
#include "sink/acks.h"
#include "sink/queue.h"
#include "sink/route.h"

/* How sink.memory_limit is spent (docs/OPERATIONS.md, "Memory"). The
 * process's own baseline (code, libraries, connections, metrics) is set
 * aside first; the rest, R, is split:
 *   R/2  partition buffers: messages consumed and not yet landed (whether
 *        open, queued, or being inserted) — the pause/resume high marks;
 *   R/4  the writers' RowBinary buffers (each writer gets R/4/writers and
 *        sends what it has when its share is full);
 *   R/8  librdkafka's prefetch queue (queued.max.messages.kbytes) and fetch
 *        responses (fetch.max.bytes);
 *   R/8  slack for allocator overhead.
 * The baseline: an assigned, idle sink with 64 partitions and 4 writers is
 * 18 MiB resident; under load, connections, librdkafka's buffers and the
 * allocator add to it. 24 MiB left the 48 MiB minimum with 0.5 MiB to spare
 * in the worst of five runs of test_rss_sink's smallest-limit case. */
#define SINK_BASELINE_BYTES ((uint64_t)28 << 20)

typedef struct sink_budget {
    uint64_t partitions;  /* all partition buffers together */
    uint64_t writer_rows; /* one writer's RowBinary buffer */
    uint64_t kafka_queue;
} sink_budget;

/* Where a row's time goes, batch by batch (the consumer adds a landed
 * batch's stages, each weighted by its rows): open until it closes,
 * pending (the work queue full), queued (waiting for a writer), decode,
 * insert, dead letters, and the way back to the consumer. */
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

typedef struct sink_times {
    _Atomic uint64_t stage_row_us[N_STAGES]; /* row-microseconds (consumer adds) */
    _Atomic uint64_t stage_rows;
    _Atomic uint64_t writer_ns[N_WRITER_STATES]; /* writers add */
    _Atomic uint64_t consumer_ns[N_CONSUMER_STATES];
} sink_times;

/* Exactly-once routes commit their own offsets: writers commit intents and
 * end offsets through the consumer's handle (librdkafka's commit is thread
 * safe), under `mu`, and only for batches made in the current assignment —
 * the consumer bumps `assign` under the same mutex when partitions are
 * revoked, so a late batch can never move an offset its partition's next
 * owner has moved past. */
typedef struct eo_kafka {
    struct rd_kafka_s *rk; /* set by the consumer before its first batch */
    pthread_mutex_t mu;
    _Atomic uint32_t assign;
} eo_kafka;

typedef struct pipeline {
    const app_config *cfg;
    sink_budget budget;
    sluice_sr *sr; /* may be NULL */
    sluice_metrics *m;
    route_rt *routes; /* route.h says which fields are guarded */
    size_t n_routes;
    work_queue q;               /* consumer pushes, writers pop */
    acks acks;                  /* writers post, consumer takes */
    _Atomic int stopping;       /* SIGTERM: stop fetching, drain */
    _Atomic int64_t give_up_ms; /* writers abandon retries after this (monotonic; 0 = never) */
    sink_times times;
    eo_kafka eo;
    _Atomic uint64_t ch_failovers; /* writers' moves between clickhouse.urls */
    int64_t commit_interval_ms;    /* at-least-once routes' auto.commit.interval.ms */
} pipeline;

#endif
