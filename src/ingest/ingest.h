/*
 * ingest.h — `sluice ingest`: HTTP → Kafka. Every event of a request is
 * validated and encoded (Avro with the latest schema of <topic>-value, or
 * JSON as it came), produced with librdkafka's idempotent producer
 * (acks=all), and the request is answered only once Kafka has acknowledged
 * every one of its events: 200, or an error and nothing to rely on.
 *
 * Threads: libmicrohttpd's workers run the handler (parse, validate, encode,
 * produce) and return at once, deferring the answer; one poll thread serves
 * librdkafka's delivery reports and completes each request when its last
 * report arrives. Nothing here ever waits on ClickHouse.
 *
 * Memory: request bodies and encoded events are counted against
 * ingest.max_inflight_bytes from the first byte until the answer is sent
 * (src/common/httpd.c); past it the answer is 429 with Retry-After.
 * librdkafka's own queue is sized above that bound, so producing never
 * blocks. Parse trees live only while a worker handles its request.
 */
#ifndef SLUICE_INGEST_INGEST_H
#define SLUICE_INGEST_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/metrics.h>
#include <sluice/sr.h>

#include "app/config.h"

typedef struct ingest ingest;

/* Start serving cfg->ingest.listen. brokers overrides cfg->kafka.brokers
 * (the embedded cluster of `sluice run`); sr may be NULL (no registry:
 * every topic is schemaless). */
/* Admission hook, asked for every request once its events are validated
 * and encoded and before any is produced: 0 admits, -1 refuses with a 429
 * whose message is `why` (`sluice run`'s embedded back pressure,
 * src/run/backlog.h). Runs on the HTTP worker threads. */
typedef int (*ingest_admit_fn)(void *opaque, const char *topic, size_t events, size_t bytes,
                               char *why, size_t why_len);

/* Wire-size hook: for each topic produced to in the last statistics
 * window (about a second; librdkafka's statistics), how many messages went
 * out and the bytes of the record batches that carried them — compressed,
 * batch headers included: what a broker's log holds for them. On the
 * producer's poll thread. (`sluice run`'s back pressure counts the
 * embedded broker's retention in these bytes.) */
typedef void (*ingest_wire_fn)(void *opaque, const char *topic, uint64_t messages, uint64_t bytes);

typedef struct ingest_options {
    const char *brokers;   /* NULL: kafka.brokers */
    ingest_admit_fn admit; /* NULL: none */
    void *admit_opaque;
    ingest_wire_fn wire; /* NULL: none (no statistics are asked for) */
    void *wire_opaque;
    /* The instance this one will replace (a reload), or NULL. When both
     * listen on the same ingest.listen, the new one does not listen until
     * ingest_take_over hands it the old one's socket. */
    ingest *replaces;
} ingest_options;

/* opt may be NULL. */
int ingest_start(const app_config *cfg, const ingest_options *opt, sluice_sr *sr, sluice_metrics *m,
                 ingest **out, sluice_error *err);
/* Reload: g (started with opt->replaces = old) takes new connections from
 * now on. On the same address the listening socket itself moves from old
 * to g, so connections arriving meanwhile wait in the kernel's backlog and
 * none is refused; on another address g listens already and old stops
 * listening. Either way old keeps answering what it has accepted, each
 * answer with `Connection: close`, until ingest_stop(old), which waits (up
 * to ingest.shutdown_timeout) for its requests and connections to end.
 * Returns 0; -1 if old could not give up its socket (nothing changed: stop
 * g); SLUICE_EINTERNAL if the socket was handed over but g could not serve
 * it (nothing listens any more: the caller should stop the process). */
int ingest_take_over(ingest *g, ingest *old, sluice_error *err);
uint16_t ingest_port(const ingest *g);
/* 1 when Kafka answers a metadata request (and the registry, if any, a
 * lookup); else 0 with why filled. */
int ingest_ready(ingest *g, char *why, size_t why_len);
/* Drain: stop accepting connections, answer new requests on open ones 503
 * (an instance replaced by ingest_take_over serves them instead, until its
 * connections close), wait (up to ingest.shutdown_timeout) for in-flight
 * requests' delivery reports, flush the producer, stop. Returns 0 if every
 * request was answered in time. */
int ingest_stop(ingest *g);

#endif
