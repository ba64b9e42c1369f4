/*
 * dlq.h — the dead-letter producer: messages that can never be written
 * (undecodable, unknown schema, rejected by ClickHouse row by row) go to the
 * route's dead-letter topic with headers saying why, before their offsets
 * may be committed.
 *
 * One idempotent producer (acks=all) shared by the writer threads
 * (librdkafka producers are thread safe) and one thread that serves its
 * delivery reports. dlq_send blocks its writer until every message of the
 * call is acknowledged or has failed: a DLQ that cannot be written holds the
 * batch, and so its partitions, rather than dropping data.
 */
#ifndef SLUICE_SINK_DLQ_H
#define SLUICE_SINK_DLQ_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include <sluice/error.h>

typedef struct dlq dlq;

typedef struct dlq_msg {
    const char *topic; /* the dead-letter topic */
    const void *key;
    size_t key_len;
    const void *value; /* the original message, byte for byte */
    size_t value_len;
    const char *reason;       /* sluice.error */
    const char *source_topic; /* sluice.source.topic / .partition / .offset */
    int32_t source_partition;
    int64_t source_offset;
    int32_t schema_id; /* sluice.schema.id, or -1 */
} dlq_msg;

/* Takes ownership of conf. */
int dlq_new(rd_kafka_conf_t *conf, dlq **out, sluice_error *err);
void dlq_free(dlq *d);
int dlq_send(dlq *d, const dlq_msg *msgs, size_t n, sluice_error *err);

#endif
