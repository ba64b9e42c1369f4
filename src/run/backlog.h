/*
 * backlog.h — end-to-end back pressure for `sluice run`'s embedded Kafka.
 *
 * The embedded (mock) cluster keeps about 5 MiB of batches per partition
 * and drops older data silently. If ingest kept accepting while the sink
 * could not keep up (ClickHouse down, say), accepted events would vanish.
 * The guard estimates, per topic, the unconsumed bytes of its fullest
 * partition — (high watermark − the sink group's committed offset) × the
 * mean size of the events ingest produced to that topic — plus that
 * partition's part of what ingest admitted since, and refuses a request
 * (ingest answers 429) that would take it over `limit` bytes. The part is
 * twice the largest share one partition took of the topic's growth
 * between the last two polls (all of it until measured, or when one
 * partition took half or more): counting all of a 4-partition topic's
 * recent admissions against one partition refused two requests in three
 * at 300 k events/s while the sink kept up (docs/BENCHMARKS.md, One
 * process). Sizes are the log's: once ingest's producer has reported a
 * topic's record batches (backlog_guard_wire, from librdkafka's statistics
 * once a second: compressed bytes per message, batch headers included),
 * messages count at that size, the larger of the last two windows, and
 * recent admissions are scaled to it; until then at their encoded
 * (uncompressed) size. The estimate errs high: the committed offset trails
 * what the sink has landed (by sink.commit_interval, 200 ms in `sluice
 * run`), and admissions count until two polls after they were made.
 *
 * A topic nobody reads (no sink route) is never committed, so it fills to
 * the limit and then refuses: in embedded mode nothing is kept that the
 * broker would drop.
 *
 * Threads: backlog_guard_admit runs on ingest's HTTP workers (atomics and
 * a short lock only to add a topic); one guard thread polls the cluster
 * every 100 ms with its own Kafka handle (group.id of the sink; it never
 * joins the group). Memory: a fixed table of BACKLOG_MAX_TOPICS topics.
 */
#ifndef SLUICE_RUN_BACKLOG_H
#define SLUICE_RUN_BACKLOG_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/metrics.h>

#define BACKLOG_MAX_TOPICS 256

typedef struct backlog_guard backlog_guard;

int backlog_guard_start(const char *bootstrap, const char *group_id, uint64_t limit_bytes,
                        sluice_metrics *m, backlog_guard **out, sluice_error *err);

/* 0: go ahead (the bytes are counted); -1: refuse, with the reason in why.
 * Signature of ingest_admit_fn (ingest.h). */
int backlog_guard_admit(void *guard, const char *topic, size_t events, size_t bytes, char *why,
                        size_t why_len);

/* What the producer measured of a topic in its last statistics window:
 * messages and the bytes of the record batches that carried them. From
 * then on the estimate counts the log's bytes (compressed, batch headers
 * included, as the broker's retention does) instead of ingest's encoded
 * sizes. Signature of ingest_wire_fn (ingest.h). */
void backlog_guard_wire(void *guard, const char *topic, uint64_t messages, uint64_t bytes);

/* The largest current estimate over all topics, in bytes. */
uint64_t backlog_guard_max_bytes(backlog_guard *g);

void backlog_guard_stop(backlog_guard *g);

#endif
