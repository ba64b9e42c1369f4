/*
 * ingest_int.h — what the three parts of `sluice ingest` share, inside
 * src/ingest/ only. A request flows one way through them:
 *
 *   ingest.c    the HTTP edge: routes, auth, content types, status codes
 *               and error bodies, the in-flight budget, deferring the
 *               answer, metrics, start and stop;
 *   route.c     the topic route: the subject's schema (registry client,
 *               compiled plans cached by id), the body walked and every
 *               event encoded into the request's buffers (all or nothing);
 *   producer.c  Kafka: librdkafka's idempotent producer, one produce per
 *               event pointing into the request's buffers, delivery
 *               reports, the deadline.
 *
 * and its acknowledgement flows back through one narrow call: when the
 * last delivery report of a request arrives (or its deadline passes) the
 * producer calls g->answer — ingest_answer() (ingest.c) — which builds the HTTP answer
 * from the per-event outcomes. The producer knows nothing of HTTP.
 *
 * Ownership: an ingest_req belongs to the worker thread that builds it
 * until producer_send(); from then on to the producer, which frees it
 * after its last delivery report. Per-event outcomes are written by the
 * poll thread and published with a release store of `state`; readers load
 * it with acquire, so the success path takes no lock per event.
 */
#ifndef SLUICE_INGEST_INT_H
#define SLUICE_INGEST_INT_H

#include "app/config.h"
#include "codec/json_avro.h"
#include "codec/json_proto.h"
#include "codec/json_schema_validate.h"
#include "codec/proto_schema.h"
#include "common/buf.h"
#include "common/httpd.h"
#include "ingest/ingest.h"

#include <librdkafka/rdkafka.h>
#include <sluice/wire.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

enum { ROUTE_V1, ROUTE_REST, ROUTE_OTHER, N_ROUTES };

typedef struct ingest_req ingest_req;

/* One event of a request. */
typedef enum msg_state { MSG_PENDING, MSG_OK, MSG_FAILED } msg_state;

typedef struct ingest_msg {
    ingest_req *r;
    size_t voff, vlen; /* value in the request's values base; vlen SIZE_MAX: null */
    size_t koff, klen; /* key in the request's keys; klen SIZE_MAX: none */
    int32_t partition; /* asked for (-1: the partitioner), then where it went */
    int64_t offset;
    rd_kafka_resp_err_t err;
    _Atomic int state; /* msg_state, stored last (release) by the poll thread */
} ingest_msg;

struct ingest_req {
    ingest *g;
    httpd_pending *pending; /* the deferred HTTP answer (the edge's) */
    int route;
    ingest_msg *msgs;
    size_t n, cap;
    atomic_size_t outstanding; /* reports still due, + 1 while the worker produces */
    atomic_size_t failed;
    _Atomic int first_err; /* rd_kafka_resp_err_t of the first failure */
    int32_t value_schema_id, key_schema_id;
    buf payload;           /* encoded values, back to back */
    buf keys;              /* keys, back to back */
    buf body;              /* the request body, when values point into it (JSON as sent) */
    const uint8_t *values; /* payload.data or body.data */
    int64_t start_ns;
    int64_t deadline_ms;
    int answered; /* under the producer's list lock */
    ingest_req *prev, *next;
};

/* A compiled schema of the route's cache (route.c), by the registry's
 * schemaType: Avro events are encoded, Protobuf events encoded for one
 * message type of the schema, JSON events validated. */
typedef enum schema_kind { SCHEMA_AVRO, SCHEMA_PROTOBUF, SCHEMA_JSON } schema_kind;

typedef struct schema_entry {
    int32_t id;
    schema_kind kind;
    char *message; /* PROTOBUF: the message asked for (NULL: the file's first) */
    /* AVRO */
    sluice_avro_schema *schema;
    json_avro *plan;
    /* PROTOBUF: the message's path in the file, for the frame's index array */
    proto_schema *proto;
    json_proto *proto_plan;
    int32_t path[SLUICE_WIRE_MAX_INDEXES];
    size_t n_path;
    /* JSON */
    json_schema *json;
    json_validator *validator;
} schema_entry;

struct ingest {
    const app_config *cfg;
    sluice_sr *sr;
    httpd *http; /* NULL until ingest_take_over when it waits for its predecessor's socket */
    atomic_int stopping;
    atomic_int retiring; /* replaced (reload): answers carry Connection: close */
    httpd_config http_cfg;

    /* producer.c */
    /* How a finished request is answered: set by ingest.c (ingest_answer)
     * before the producer starts, so the producer calls back up without
     * depending on the edge. */
    void (*answer)(ingest_req *r, bool timed_out);
    rd_kafka_t *rk;
    pthread_t poller;
    atomic_int stop_poll;
    atomic_long pending; /* requests produced and not yet freed */
    /* Requests waiting for delivery reports, oldest first (every one has the
     * same timeout, so this is deadline order). */
    pthread_mutex_t list_mu;
    ingest_req *head, *tail;

    /* route.c: compiled schemas by registry id */
    pthread_rwlock_t sc_lock;
    schema_entry *sc;
    size_t sc_n, sc_cap;

    /* ingest.c: metrics (m is this instance's scope, metrics_scope.h;
     * registry the process's, rendered on /metrics) */
    sluice_metrics *m, *registry;
    sluice_counter *m_requests[N_ROUTES][12];
    sluice_counter *m_events, *m_bytes, *m_invalid, *m_delivery_errors;
    sluice_histogram *m_latency;

    ingest_admit_fn admit; /* set before the server starts; read-only after */
    void *admit_opaque;
    ingest_wire_fn wire; /* likewise; called by the producer's statistics */
    void *wire_opaque;
};

/* ---- route.c ------------------------------------------------------------------------- */

typedef struct route_input {
    int route;
    const char *topic;
    const app_ingest_topic_config *tc; /* NULL: no per-topic config */
    int kind;                          /* ingest_body_kind */
    const httpd_request *req;
    const char *header_key; /* X-Sluice-Key, or NULL */
} route_input;

/* Why a request was refused before anything was produced. */
typedef struct route_refusal {
    int status;    /* HTTP status */
    int rest_code; /* Confluent REST Proxy error_code */
    char msg[512];
    buf errors; /* ,-separated {"index":..,"path":..,"message":..} items, or empty */
    size_t bad_events;
} route_refusal;

int route_init(ingest *g);
void route_free(ingest *g);
/* At start: every configured topic that is not schemaless has a schema —
 * registered from its value_schema_file, or already in the registry.
 * SLUICE_ECONFIG naming the topic otherwise. An unreachable registry is
 * only a warning (requests wait on it later). */
int route_check_topics(ingest *g, sluice_error *err);
/* Encode every event of the request's body into r (values, keys,
 * partitions). 0, or -1 with *why filled (r holds nothing to produce). */
int route_encode(ingest *g, const route_input *in, ingest_req *r, route_refusal *why);

/* ---- producer.c ---------------------------------------------------------------------- */

int producer_start(ingest *g, const char *brokers, sluice_error *err);
/* Purge what is queued (after shutdown_timeout), flush, stop the poll
 * thread, destroy the producer. */
void producer_stop(ingest *g, bool purge);
ingest_req *req_new(ingest *g, int route);
void req_free(ingest_req *r);
/* A slot for one more event; NULL when out of memory. */
ingest_msg *req_add(ingest_req *r);
/* Produce every event of r (deferred answer already set up); from here on
 * the producer owns r. headers (may be NULL) are copied per event. */
void producer_send(ingest *g, ingest_req *r, const char *topic, rd_kafka_headers_t *headers);
int producer_ready(ingest *g, char *why, size_t n);

/* ---- ingest.c ------------------------------------------------------------------------ */

/* The producer's call back into the edge (through g->answer): every event
 * of r has its report (or, timed_out, the deadline passed first). Builds
 * and sends the answer. */
void ingest_answer(ingest_req *r, bool timed_out);

#endif
