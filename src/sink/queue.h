/*
 * queue.h — the bounded work queue between the consumer thread (one
 * producer) and the writer threads (many consumers), bounded in bytes.
 *
 * The consumer thread never blocks on it: wq_try_push fails when the queue
 * is full and the batch waits on the consumer's pending list, still counted
 * against its partitions' buffers — which is how a slow ClickHouse turns
 * into paused partitions instead of growing memory. A batch is always
 * accepted into an empty queue, so one batch larger than the bound still
 * flows.
 */
#ifndef SLUICE_SINK_QUEUE_H
#define SLUICE_SINK_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sink/batch.h"

typedef struct work_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *head, *tail;
    uint64_t max_bytes;
    int closed;
    /* mirrors for metrics */
    _Atomic uint64_t m_depth, m_bytes;
} work_queue;

void wq_init(work_queue *q, uint64_t max_bytes);
void wq_destroy(work_queue *q);
/* 0, or SLUICE_EFULL when the batch does not fit now. Never blocks. */
int wq_try_push(work_queue *q, batch *b);
/* Blocks until a batch arrives; NULL once the queue is closed and empty. */
batch *wq_pop(work_queue *q);
/* Wake every waiting writer; pops return what is left, then NULL. */
void wq_close(work_queue *q);

#endif
