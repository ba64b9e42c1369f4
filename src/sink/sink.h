/*
 * sink.h — `sluice sink`: a Kafka consumer group writing routes of topics
 * into ClickHouse tables, with bounded memory, per-partition back pressure,
 * retries, a dead-letter topic, and offsets committed only behind what has
 * landed: exactly-once where the table allows it, else at-least-once. The design is in
 * docs/ARCHITECTURE.md.
 */
#ifndef SLUICE_SINK_H
#define SLUICE_SINK_H

#include <sluice/error.h>
#include <sluice/metrics.h>
#include <sluice/sr.h>

#include "app/config.h"

typedef struct sink sink;

/* Start the consumer and writer threads. cfg, sr and metrics must outlive
 * the sink; brokers overrides cfg->kafka.brokers (the embedded cluster of
 * `sluice run`); sr may be NULL (then Avro messages go to the DLQ). */
int sink_start(const app_config *cfg, const char *brokers, sluice_sr *sr, sluice_metrics *m,
               sink **out, sluice_error *err);

/* What sink_start checks of the configuration before it starts anything:
 * brokers, at least one route and one route per topic, each route's own
 * settings, and the syntax of its transform expressions (fields are
 * checked against the schema when a writer builds the plan). 0, or
 * SLUICE_ECONFIG with err naming the key. A reload runs it before it
 * stops the running sink. */
int sink_check_config(const app_config *cfg, const char *brokers, sluice_error *err);

/* Drain: stop fetching, let open batches land (up to sink.shutdown_timeout),
 * commit, stop the threads, free. Returns 0 when everything consumed landed
 * and was committed, 1 when the timeout left some uncommitted (it will be
 * read again: at-least-once). */
int sink_stop(sink *s);

/* Has the consumer joined its group and got an assignment? (/readyz) */
int sink_ready(const sink *s);

/* Is a route refused by ClickHouse for a reason retrying will not fix
 * (unknown table, column or setting, authentication)? 1 with the route
 * and ClickHouse's message in why. Its batches wait; nothing is dropped. */
int sink_blocked(const sink *s, char *why, size_t n);

/* Its consumer runs: every route's delivery was decided (asking
 * ClickHouse) and the consumer started. */
int sink_started(const sink *s);

/* The sink could not start after all (it decides each route's delivery
 * before consuming, asking ClickHouse; a route that demands exactly_once
 * on a table that cannot have it stops it): 2 for a configuration error,
 * 1 otherwise, with the reason in why; 0 while it is fine. */
int sink_failed(const sink *s, char *why, size_t n);

/* Route i's guarantee once decided (-1 before, or past the last route). */
int sink_route_delivery(const sink *s, size_t i, const char **topic, int *exactly_once,
                        const char **why);

#endif
