/*
 * batch.h — a batch: copies of consecutive messages of one route, from one
 * or more partitions, on their way to one ClickHouse table.
 *
 * Ownership moves with the batch: the consumer thread creates and fills it
 * (the route's open batch), hands it to the work queue, one writer thread
 * owns it while inserting, and it comes back to the consumer thread on the
 * completion list, which frees it after releasing its partitions' bytes
 * and marking their offsets done. Nobody else touches it at any time, so it
 * has no lock.
 *
 * The message bytes live in the batch's arena (one allocation per chunk,
 * freed at once). For each partition the batch records one range of
 * offsets (messages of a partition arrive in order and a route has one open
 * batch at a time, so a partition's messages in a batch are contiguous).
 */
#ifndef SLUICE_SINK_BATCH_H
#define SLUICE_SINK_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"

typedef struct batch_msg {
    uint32_t part;     /* slot in the partition table (the consumer's) */
    int32_t partition; /* the Kafka partition, for writers and dead letters */
    int64_t offset;
    int64_t timestamp_ms;
    const uint8_t *key; /* NULL when the message had none */
    uint32_t key_len;
    const uint8_t *value;
    uint32_t value_len;
} batch_msg;

/* A replayed batch (exactly-once) also holds messages of partitions this
 * process does not own: their ranges have this slot. */
#define BATCH_NOT_OURS UINT32_MAX

typedef struct batch_range {
    uint32_t part;
    int32_t partition;
    uint32_t generation; /* the partition's assignment generation when consumed */
    int64_t first, last;
    int64_t end;    /* the offset to commit once landed: last + 1, or a replayed intent's end */
    uint64_t bytes; /* what these messages count against the partition's buffer */
} batch_range;

/* What an exactly-once batch carries besides its messages (eo.h). */
typedef struct batch_eo {
    int on;          /* the route is exactly-once */
    int replay;      /* rebuilt from an intent found in Kafka */
    uint64_t seq;    /* the route's turn number: INSERTs go in this order */
    uint32_t assign; /* the consumer's assignment number when it was made */
    uint64_t block;  /* the intent's id */
    int64_t now_s;   /* 0 until fixed (the writer fixes it for a new batch) */
    int32_t reader_id;
    uint64_t cols_hash;
    uint64_t max_insert_bytes;
    size_t members_bytes; /* what the member list may take in the intent, at most */
} batch_eo;

typedef struct batch {
    struct batch *next; /* work queue / completion list */
    uint64_t id;
    int route;
    arena a;
    batch_msg *msgs;
    size_t n_msgs, cap_msgs;
    batch_range *ranges;
    size_t n_ranges, cap_ranges;
    uint64_t bytes;    /* sum of the ranges' bytes */
    int64_t opened_ms; /* monotonic, for max_age */
    int landed;        /* set by the writer: every message is in ClickHouse or the DLQ */
    batch_eo eo;
    /* Where its time went (monotonic ns): closed and queued by the consumer
     * thread; popped, and the decode / insert / DLQ time inside the writer,
     * and posted back, by the writer. For the stage metrics. */
    int64_t t_closed, t_queued, t_popped, t_posted;
    int64_t decode_ns, insert_ns, dlq_ns;
    /* what the writer did, for metrics on the consumer side */
    uint64_t rows, dead_lettered, filtered;
} batch;

batch *batch_new(uint64_t id, int route, int64_t now_ms);
void batch_free(batch *b);

/* Copy one message in; returns the bytes it counts (0 on allocation
 * failure). part is BATCH_NOT_OURS for a replayed partition owned by
 * another process. */
uint64_t batch_add(batch *b, uint32_t part, int32_t partition, uint32_t generation, int64_t offset,
                   int64_t timestamp_ms, const void *key, size_t key_len, const void *value,
                   size_t value_len);

/* Order the messages by (partition, offset): what an exactly-once batch
 * inserts must not depend on how the partitions' messages interleaved. */
void batch_sort(batch *b);

#endif
