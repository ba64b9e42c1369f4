/*
 * writer.h — the sink's second stage: `sink.writers` threads that take
 * batches off the pipeline's work queue, decode them with plans, INSERT
 * them into ClickHouse (retries, bisecting bad rows to the dead-letter
 * topic) and post each one back on the pipeline's acknowledgements
 * (writer.c says how). They never touch the Kafka consumer.
 */
#ifndef SLUICE_SINK_WRITER_H
#define SLUICE_SINK_WRITER_H

#include <sluice/error.h>

#include "sink/pipeline.h"

typedef struct writers writers;

/* Create the dead-letter producer and the writer threads. */
int writers_start(pipeline *pl, const char *brokers, writers **out, sluice_error *err);
/* Once the work queue is closed: wait for every thread to leave, free. */
void writers_stop(writers *w);

#endif
