/*
 * consumer.h — the sink's first stage: the Kafka consumer group, its one
 * thread, the per-partition buffers and the batches (consumer.c says how).
 * It pushes closed batches into the pipeline's work queue and takes landed
 * ones back from its acknowledgements; it never talks to ClickHouse.
 */
#ifndef SLUICE_SINK_CONSUMER_H
#define SLUICE_SINK_CONSUMER_H

#include <sluice/error.h>

#include "sink/pipeline.h"

typedef struct consumer consumer;

/* Create the consumer (group sink.group_id, the routes' topics), register
 * its metrics, start its thread. */
int consumer_start(pipeline *pl, const char *brokers, consumer **out, sluice_error *err);
/* Has it joined its group and got an assignment? */
int consumer_ready(const consumer *c);
/* Once pl->stopping is set: wait for its thread, which drains (lets what
 * it consumed land, up to sink.shutdown_timeout), commits and leaves the
 * group. Frees it. 0 when everything consumed landed and was committed. */
int consumer_stop(consumer *c);

#endif
