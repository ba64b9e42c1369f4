/*
 * embedded_kafka.h — the in-process Kafka cluster of `sluice run` when no
 * kafka.brokers is configured: librdkafka's mock cluster (rdkafka_mock.h),
 * which speaks the real protocol on loopback ports, so ingest and sink use
 * it exactly as they would a broker.
 *
 * For trying sluice out only: it lives in memory, dies with the process,
 * and keeps only about 5 MiB of record batches per partition, dropping the
 * oldest silently (measured in tests/tools/mock_kafka.c). `sluice run`
 * therefore puts backlog.h's guard in front of ingest.
 *
 * Threads: librdkafka runs the cluster on its own threads; the functions
 * here are called from the main thread.
 */
#ifndef SLUICE_RUN_EMBEDDED_KAFKA_H
#define SLUICE_RUN_EMBEDDED_KAFKA_H

#include <sluice/error.h>

/* Bytes of record batches the mock keeps per partition before it drops. */
#define EMBEDDED_KAFKA_PARTITION_BYTES (5u * 1024 * 1024)

typedef struct embedded_kafka embedded_kafka;

int embedded_kafka_start(int brokers, embedded_kafka **out, sluice_error *err);
/* "127.0.0.1:PORT,..." — valid until embedded_kafka_stop. */
const char *embedded_kafka_bootstrap(const embedded_kafka *k);
/* Create a topic; one that exists already is left as it is. Topics nobody
 * created are auto-created by the mock on first use, with its default
 * partition count. */
int embedded_kafka_create_topic(embedded_kafka *k, const char *topic, int partitions,
                                sluice_error *err);
void embedded_kafka_stop(embedded_kafka *k);

#endif
