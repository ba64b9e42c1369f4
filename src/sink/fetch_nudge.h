/*
 * fetch_nudge.h — wakes librdkafka's broker threads when their fetching
 * stalled on a prefetch queue the consumer has since emptied.
 *
 * librdkafka (2.0.2 in Debian 12) decides whether to fetch a partition
 * again when its broker thread wakes. If the consumer queue is over
 * queued.max.messages.kbytes or queued.min.messages at that moment, the
 * partition is "not fetchable" and the thread sleeps until an op, a socket
 * event or its one-second serve timeout wakes it (librdkafka #2879; 2.1
 * added fetch.queue.backoff.ms, 1 s by default, for the same). Draining the
 * queue does not wake it, so a consumer faster than the queue limit allows
 * reads nothing for up to a second: measured with debug=fetch, 886 ms with
 * "queued.max.messages.kbytes exceeded" and an empty queue, 256 partitions.
 *
 * The nudge is a request that goes through each leader's broker thread and
 * changes no consumer state: ListOffsets for the stalled partitions
 * (rd_kafka_offsets_for_times at the latest offset). Sending it wakes the
 * thread, which decides again and fetches. It is synchronous in
 * librdkafka, so it runs on a thread of its own; the consumer thread only
 * hands over a partition list and never waits. While one nudge is out the
 * next is dropped.
 */
#ifndef SLUICE_SINK_FETCH_NUDGE_H
#define SLUICE_SINK_FETCH_NUDGE_H

#include <librdkafka/rdkafka.h>

typedef struct fetch_nudge fetch_nudge;

/* A nudging thread for consumer rk (which must outlive it). NULL when the
 * thread cannot be started: the consumer then works without it, stalls
 * and all. */
fetch_nudge *fetch_nudge_start(rd_kafka_t *rk);

/* Hand a list of (topic, partition) to nudge; takes it either way. Returns
 * 1 when it was taken for sending, 0 when a nudge is still out (the list
 * is dropped). */
int fetch_nudge_post(fetch_nudge *n, rd_kafka_topic_partition_list_t *parts);

/* Stops the thread (after the nudge in flight, which has a timeout) and frees. */
void fetch_nudge_stop(fetch_nudge *n);

#endif
