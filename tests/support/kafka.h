/*
 * kafka.h — Kafka for tests and benchmarks: a broker in a process of its own
 * (tests/tools/mock_kafka.c, librdkafka's mock cluster, driven by commands
 * for fault injection), a producer that reports whether every message was
 * acknowledged, and a reader that takes a whole topic back.
 *
 * The broker outlives anything a test kills (the sink under test is
 * kill -9'ed; the broker and its data stay), and is itself stopped by
 * test_kafka_stop or, if a test dies first, by support.c's atexit handler.
 * Producers still alive at exit are purged and destroyed by an atexit
 * handler of kafka.c. All functions are for the test's main thread.
 *
 * What librdkafka 2.0.2's mock does that a test must allow for (each one
 * shown by tests/integration/test_mock_kafka.c):
 * - It keeps about 5 MiB per partition and silently drops older data
 *   (TEST_KAFKA_MOCK_PARTITION_BYTES): a test that proves nothing was lost
 *   stays below it and checks test_kafka_nothing_dropped.
 * - It checks producer sequence numbers only for transactional producers:
 *   a Produce response that is lost (timed out, connection dropped after
 *   the append) makes the idempotent producer's retry a duplicate. Errors
 *   pushed with `errors Produce ...` are answered before the append and
 *   duplicate nothing.
 * - A new group's first join takes 3 s, fixed in the mock. Every later
 *   rebalance waits session.timeout.ms - 1000 ms for the members, so group
 *   members in tests use session.timeout.ms=4000 (heartbeat.interval.ms=500):
 *   3 s a rebalance round instead of 44 s with the default 45 s. Not below
 *   about 3500: a member whose session is shorter than the 3 s first join
 *   is timed out before its group forms, and never gets partitions. A
 *   member killed with -9 is noticed after its session timeout.
 * - Members of one group must use the same partition.assignment.strategy:
 *   the mock takes the leader's first protocol and asserts that every
 *   member has it first too (a mismatch aborts the tool).
 */
#ifndef SLUICE_TEST_KAFKA_H
#define SLUICE_TEST_KAFKA_H

#include "support.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What librdkafka 2.0.2's mock keeps of each partition: record batches as
 * the producer sent them (compressed size, 61-byte batch headers included),
 * the oldest dropped while there are more than this many bytes of them, or
 * more than TEST_KAFKA_MOCK_PARTITION_BATCHES batches. The byte limit is
 * always the one reached: 100,000 batches of even the smallest size (over
 * 61 bytes each) are more than 5 MiB. */
#define TEST_KAFKA_MOCK_PARTITION_BYTES (5 * 1024 * 1024)
#define TEST_KAFKA_MOCK_PARTITION_BATCHES 100000

typedef struct test_kafka {
    test_proc proc;
    FILE *to_tool; /* the tool's stdin: one command a line */
    int from_tool; /* its stdout: one answer a line */
    int brokers;   /* broker ids are 1..brokers */
    char bootstrap[512];
    char log_path[600]; /* the tool's stderr (librdkafka's logs) */
} test_kafka;

/* Start $SLUICE_MOCK_KAFKA with `brokers` brokers, logging to
 * workdir/mock-kafka.log. 0, or -1 (the reason is printed). */
int test_kafka_start(test_kafka *k, int brokers, const char *workdir);
/* Send one command (see mock_kafka.c) and read its answer into reply (may
 * be NULL). 0 if the answer is `ok...`, -1 otherwise. */
int test_kafka_cmd(test_kafka *k, const char *cmd, char *reply, size_t n);
int test_kafka_create_topic(test_kafka *k, const char *topic, int partitions);
/* Every partition's low and high watermark, at most max_partitions of them;
 * returns the topic's partition count, or -1. */
int test_kafka_watermarks(test_kafka *k, const char *topic, int64_t *low, int64_t *high,
                          int max_partitions);
/* Every partition's low watermark is still 0: the broker lost nothing.
 * 1 if so, 0 if some partition dropped data, -1 if the query failed. */
int test_kafka_nothing_dropped(test_kafka *k, const char *topic);
/* The group's committed offset of every partition (-1001 for none), read
 * without joining the group; returns the partition count, or -1. */
int test_kafka_committed(test_kafka *k, const char *group, const char *topic, int64_t *offsets,
                         int max_partitions);
/* `quit`, then wait for the tool (SIGKILL after 10 s). Safe to call twice. */
void test_kafka_stop(test_kafka *k);

/* A librdkafka producer: acks=all, idempotent, linger.ms=5, compression
 * "lz4", "zstd", "gzip", "snappy" or "none" (NULL: none). Messages wait out a
 * broker outage (message.timeout.ms stays librdkafka's 300 s). */
typedef struct test_producer test_producer;
test_producer *test_producer_new(const char *bootstrap, const char *compression);
/* Same, with more librdkafka properties: NULL-terminated name, value...
 * (e.g. {"request.timeout.ms", "1000", NULL}); they override the above. */
test_producer *test_producer_new_conf(const char *bootstrap, const char *compression,
                                      const char *const *props);
/* Queue one message (copied) for partition, or the partitioner's choice for
 * -1; waits while the local queue is full. 0, or -1 if it cannot queue. */
int test_produce(test_producer *p, const char *topic, int32_t partition, const void *key,
                 size_t klen, const void *value, size_t vlen);
/* Same with headers: NULL-terminated name, value, name, value... strings. */
int test_produce_headers(test_producer *p, const char *topic, int32_t partition, const void *key,
                         size_t klen, const void *value, size_t vlen, const char *const *headers);
/* Wait up to timeout_ms for every queued message's delivery report. 0 when
 * all were acknowledged and no delivery failed since the previous flush;
 * -1 otherwise (unacknowledged messages stay queued for the next flush). */
int test_producer_flush(test_producer *p, int timeout_ms);
/* Messages acknowledged since the producer was made. */
long test_producer_acked(const test_producer *p);
void test_producer_free(test_producer *p);

/* Read a whole topic from the beginning (every partition assigned at
 * OFFSET_BEGINNING, no group join, no commit) until each partition reached
 * the high watermark it had when the call began; fn is called for every
 * message in partition order within a partition (headers available through
 * rd_kafka_message_headers). fn returns 0 to go on, anything else to stop.
 * Returns the number of messages, or -1 on timeout, error or a stop. */
typedef int (*test_message_fn)(void *opaque, const rd_kafka_message_t *m);
long test_consume_all(const char *bootstrap, const char *topic, test_message_fn fn, void *opaque,
                      int timeout_ms);

#endif
