/*
 * partition.h — the sink's per-partition state in one flat array.
 *
 * Owner: the consumer thread. It alone reads and writes the state fields;
 * writer threads never touch a partition (they report whole batches back).
 * The m_* fields are relaxed atomic copies for the metrics renderer, which
 * runs on the HTTP thread: that is the only sharing, and it takes no lock.
 *
 * Back pressure: a partition's buffered bytes (messages consumed and not yet
 * in ClickHouse or the DLQ) have a high and a low mark. Crossing the high
 * mark pauses the partition; only falling below the low mark resumes it
 * (hysteresis: a partition near its limit does not flap). part_note_* only
 * record transitions; the consumer thread issues one pause and one resume
 * call per poll-loop turn for all of them.
 *
 * Offsets: every message's offset must be done (landed or dead-lettered)
 * before the offset after it is committed. Each partition keeps a FIFO of
 * the batches that hold its messages, in offset order; a completed batch
 * marks its entry done and the committable offset advances over the done
 * prefix. Batches complete out of order; offsets never skip.
 */
#ifndef SLUICE_SINK_PARTITION_H
#define SLUICE_SINK_PARTITION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct part_seg {
    uint64_t batch_id;
    int64_t last; /* the last offset of this partition in that batch */
    int done;
} part_seg;

typedef struct part {
    int route;
    int32_t partition;
    uint32_t generation; /* bumped on every assign and revoke */
    int assigned;
    int paused;
    /* librdkafka said end of partition and no message came since: the
     * consumer has read everything there is (consumer.c, caught up). */
    int at_end;
    int64_t buffered; /* bytes held (consumer thread's count) */
    int64_t high_mark, low_mark;
    /* The first offset polled while paused and not taken (-1: none): the
     * partition is sought back there when it resumes. */
    int64_t refetch_from;
    /* The offset after the last message taken (-1: none since assigned). */
    int64_t next_offset;
    int64_t commit_next; /* next offset to commit; -1 before anything is done */
    int commit_dirty;    /* commit_next moved since the last store */
    part_seg *segs;      /* ring: head, count, cap */
    size_t head, count, cap;
    /* for metrics, written by the consumer thread, read by the renderer */
    _Atomic int64_t m_buffered;
    _Atomic int m_paused;
    _Atomic int64_t m_lag;
    _Atomic int64_t m_committed;
} part;

typedef struct part_index {
    int *slot; /* partition number -> slot, -1 for none */
    size_t len;
} part_index;

typedef struct part_table {
    part **parts; /* each allocated once and never moved: the metrics
                   * series of a partition point at it for good */
    size_t n, cap;
    part_index *by_route; /* per route: O(1) lookup on every message */
    size_t n_routes;
} part_table;

void part_table_free(part_table *t);
/* The slot of (route, partition), created if new. -1 on allocation failure. */
int part_slot(part_table *t, int route, int32_t partition);
int part_find(const part_table *t, int route, int32_t partition);

/* Fresh state for a newly assigned partition. */
void part_assign(part *p, int64_t high_mark, int64_t low_mark);
void part_revoke(part *p);

/* A message of `bytes` went into batch `batch_id`. Returns 1 when this
 * crosses the high mark (the caller adds the partition to this turn's pause
 * list). */
int part_note_consumed(part *p, uint64_t batch_id, int64_t offset, uint64_t bytes);

/* Batch batch_id finished for this partition (its messages landed or went
 * to the DLQ): mark it done, advance the committable offset over the done
 * prefix, release the bytes. Returns 1 when this falls below the low mark
 * of a paused partition (resume it). */
int part_note_landed(part *p, uint64_t batch_id, uint64_t bytes);

/* Nothing of this partition is in flight. */
int part_idle(const part *p);

#endif
