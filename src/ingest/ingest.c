/*
 * ingest.c — see ingest.h.
 *
 * A request's life: the handler (an MHD worker) checks route, auth, topic
 * and content type, parses the body (body.c), resolves the schema (the
 * shared registry client; compiled schemas cached here by id), encodes
 * every event into one buffer — all of them, collecting every error, before
 * anything is produced (all-or-nothing) — then produces each event with a
 * pointer into that buffer (no copy) and defers the answer. The poll thread
 * receives the delivery reports; the last one builds the answer, completes
 * the request and frees it. A request holds one extra reference while its
 * worker is still producing, so it cannot complete under the worker's feet.
 */
#include "ingest/ingest.h"

#include "app/kafka_conf.h"
#include "codec/avro_json.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/httpd.h"
#include "ingest/body.h"

#include <sluice/avro.h>
#include <sluice/log.h>
#include <sluice/wire.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ERRORS_LISTED 1000
#define MAX_KAFKA_HEADERS 16

enum { ROUTE_V1, ROUTE_REST, ROUTE_OTHER, N_ROUTES };
static const char *const route_names[N_ROUTES] = {"v1", "restproxy", "other"};
static const int statuses[] = {200, 400, 401, 403, 404, 405, 413, 415, 422, 429, 500, 503};
#define N_STATUSES (sizeof statuses / sizeof statuses[0])

typedef struct ingest_req ingest_req;

typedef struct schema_entry {
    int32_t id;
    sluice_avro_schema *schema;
} schema_entry;

struct ingest {
    const app_config *cfg;
    sluice_sr *sr;
    rd_kafka_t *rk;
    httpd *http;
    pthread_t poller;
    atomic_int stop_poll;
    atomic_int stopping;
    atomic_long pending; /* requests produced and not yet freed */
    /* Requests waiting for delivery reports, oldest first (every one has the
     * same timeout, so this is deadline order). Answering happens under
     * this lock, whether by the last delivery report or by the deadline. */
    pthread_mutex_t list_mu;
    ingest_req *head, *tail;

    pthread_rwlock_t sc_lock;
    schema_entry *sc;
    size_t sc_n, sc_cap;

    sluice_metrics *m;
    sluice_counter *m_requests[N_ROUTES][N_STATUSES];
    sluice_counter *m_events, *m_bytes, *m_invalid, *m_delivery_errors;
    sluice_histogram *m_latency;

    ingest_admit_fn admit; /* set before the server starts; read-only after */
    void *admit_opaque;
};

typedef struct msg_ref {
    ingest_req *r;
    size_t idx;
} msg_ref;

struct ingest_req {
    ingest *g;
    httpd_pending *pending;
    int route;
    size_t n;
    atomic_size_t outstanding;
    pthread_mutex_t mu; /* guards the error fields below */
    size_t failed;
    rd_kafka_resp_err_t first_err;
    int32_t value_schema_id, key_schema_id;
    msg_ref *refs;
    int32_t *partitions; /* delivered coordinates (REST Proxy answers) */
    int64_t *offsets;
    rd_kafka_resp_err_t *errs;
    buf payload; /* every encoded value, back to back */
    buf keys;
    size_t *voff, *vlen, *koff, *klen; /* vlen/klen SIZE_MAX: null */
    int64_t start_ns;
    int64_t deadline_ms;
    int answered; /* under list_mu */
    ingest_req *prev, *next;
};

/* ---- small helpers -------------------------------------------------------- */

static int status_index(int status)
{
    for (size_t i = 0; i < N_STATUSES; i++)
        if (statuses[i] == status) return (int)i;
    return status >= 500 ? 10 : 1; /* others: counted as 500 or 400 */
}

static void count(ingest *g, int route, int status)
{
    sluice_counter_inc(g->m_requests[route][status_index(status)]);
}

static int valid_topic(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 249 || strcmp(t, ".") == 0 || strcmp(t, "..") == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* {"error":msg} (v1) or {"error_code":code,"message":msg} (REST Proxy). */
static void respond_error(ingest *g, httpd_response *resp, int route, int status, int rest_code,
                          const char *msg)
{
    buf b;
    buf_init(&b, SIZE_MAX);
    if (route == ROUTE_REST) {
        buf_printf(&b, "{\"error_code\":%d,\"message\":", rest_code ? rest_code : status);
        buf_append_json_string(&b, msg, strlen(msg));
    } else {
        buf_append_str(&b, "{\"error\":");
        buf_append_json_string(&b, msg, strlen(msg));
    }
    buf_append_byte(&b, '}');
    httpd_respond(resp, status, "application/json", (const char *)b.data, b.len);
    buf_free(&b);
    if (status == 429 || status == 503) {
        char v[24];
        snprintf(v, sizeof v, "%lld", (long long)((g->cfg->ingest.retry_after_ms + 999) / 1000));
        httpd_add_header(resp, "Retry-After", v);
    }
    count(g, route, status);
}

static const app_ingest_topic_config *topic_config(const ingest *g, const char *topic)
{
    const app_ingest_topic_config *t = g->cfg->ingest.topics.items;
    for (size_t i = 0; i < g->cfg->ingest.topics.n; i++)
        if (strcmp(t[i].name, topic) == 0) return &t[i];
    return NULL;
}

static int consttime_eq(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char d = na != nb;
    for (size_t i = 0; i < na; i++)
        d |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
    return d == 0;
}

/* 0 allowed, 401 no/unknown token, 403 token without this topic. */
static int authorize(const ingest *g, const httpd_request *req, const char *topic)
{
    const cfg_list *tokens = &g->cfg->ingest.tokens;
    if (tokens->n == 0) return 0;
    const char *h = httpd_request_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return 401;
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    const app_ingest_token_config *t = tokens->items;
    for (size_t i = 0; i < tokens->n; i++) {
        if (!consttime_eq(tok, t[i].token)) continue;
        for (size_t k = 0; k < t[i].topics.n; k++)
            if (strcmp(t[i].topics.items[k], "*") == 0 || strcmp(t[i].topics.items[k], topic) == 0)
                return 0;
        return 403;
    }
    return 401;
}

/* ---- compiled schemas ----------------------------------------------------- */

/* The compiled schema of registry id `id` (text given), cached; NULL with
 * err set if the text does not compile. Bounded: when full, the cache is
 * emptied and refilled (schemas are few; ingest.schema_cache_entries). The
 * returned schema stays valid while the caller holds the read lock. */
static const sluice_avro_node *schema_lookup_locked(ingest *g, int32_t id)
{
    for (size_t i = 0; i < g->sc_n; i++)
        if (g->sc[i].id == id) return sluice_avro_schema_root(g->sc[i].schema);
    return NULL;
}

static int schema_add(ingest *g, int32_t id, const char *text, size_t len, char *err, size_t n)
{
    sluice_avro_schema *s = NULL;
    sluice_error e;
    if (sluice_avro_schema_parse(text, len, &s, &e) != 0) {
        snprintf(err, n, "schema %d does not compile: %.300s", (int)id, e.msg);
        return -1;
    }
    pthread_rwlock_wrlock(&g->sc_lock);
    if (schema_lookup_locked(g, id)) {
        pthread_rwlock_unlock(&g->sc_lock);
        sluice_avro_schema_free(s);
        return 0;
    }
    if (g->sc_n == (size_t)g->cfg->ingest.schema_cache_entries) {
        for (size_t i = 0; i < g->sc_n; i++)
            sluice_avro_schema_free(g->sc[i].schema);
        g->sc_n = 0;
    }
    g->sc[g->sc_n++] = (schema_entry){id, s};
    pthread_rwlock_unlock(&g->sc_lock);
    return 0;
}

/* ---- finishing a request -------------------------------------------------- */

static int status_of_delivery(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        return 413;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        return 404;
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return 400;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return 429;
    default:
        return 503;
    }
}

static void req_free(ingest_req *r)
{
    buf_free(&r->payload);
    buf_free(&r->keys);
    free(r->refs);
    free(r->partitions);
    free(r->offsets);
    free(r->errs);
    free(r->voff);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void unlink_req(ingest *g, ingest_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else if (g->head == r)
        g->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else if (g->tail == r)
        g->tail = r->prev;
    r->prev = r->next = NULL;
}

/* Build and send the answer; with list_mu held. timed_out: the deadline
 * passed before every delivery report came (the reports still free r). */
static void respond(ingest_req *r, int timed_out)
{
    ingest *g = r->g;
    httpd_response resp = {0};
    int status = 200;
    if (timed_out) {
        /* Whatever has no report yet counts as not acknowledged. */
        status = 503;
        pthread_mutex_lock(&r->mu);
        if (!r->failed) r->first_err = RD_KAFKA_RESP_ERR__MSG_TIMED_OUT;
        for (size_t i = 0; i < r->n; i++)
            if (!r->errs[i] && r->offsets[i] < 0) {
                r->errs[i] = RD_KAFKA_RESP_ERR__MSG_TIMED_OUT;
                r->failed++;
            }
        pthread_mutex_unlock(&r->mu);
    } else if (r->failed) {
        status = status_of_delivery(r->first_err);
    }
    if (r->failed) sluice_counter_add(g->m_delivery_errors, r->failed);
    if (r->route == ROUTE_REST) {
        buf b;
        buf_init(&b, SIZE_MAX);
        buf_append_str(&b, "{\"key_schema_id\":");
        r->key_schema_id >= 0 ? buf_printf(&b, "%d", (int)r->key_schema_id)
                              : buf_append_str(&b, "null");
        buf_append_str(&b, ",\"value_schema_id\":");
        r->value_schema_id >= 0 ? buf_printf(&b, "%d", (int)r->value_schema_id)
                                : buf_append_str(&b, "null");
        buf_append_str(&b, ",\"offsets\":[");
        for (size_t i = 0; i < r->n; i++) {
            if (r->errs[i]) {
                const char *why = rd_kafka_err2str(r->errs[i]);
                buf_printf(&b, "%s{\"partition\":null,\"offset\":null,\"error_code\":%d,\"error\":",
                           i ? "," : "", status_of_delivery(r->errs[i]) == 503 ? 50003 : 50002);
                buf_append_json_string(&b, why, strlen(why));
                buf_append_byte(&b, '}');
            } else {
                buf_printf(
                    &b, "%s{\"partition\":%d,\"offset\":%lld,\"error_code\":null,\"error\":null}",
                    i ? "," : "", (int)r->partitions[i], (long long)r->offsets[i]);
            }
        }
        buf_append_str(&b, "]}");
        httpd_respond(&resp, status, "application/vnd.kafka.v2+json", (const char *)b.data, b.len);
        buf_free(&b);
        count(g, r->route, status);
    } else if (status == 200) {
        httpd_respond_printf(&resp, 200, "application/json", "{\"accepted\":%zu}", r->n);
        count(g, r->route, 200);
    } else {
        char msg[320];
        snprintf(msg, sizeof msg,
                 "kafka did not acknowledge %zu of %zu events (%s); nothing of "
                 "this request may be relied on, retry it",
                 r->failed, r->n, rd_kafka_err2str(r->first_err));
        respond_error(g, &resp, r->route, status, 0, msg);
    }
    if (status == 200 || r->route == ROUTE_REST) {
        if (resp.status == 429 || resp.status == 503) {
            char v[24];
            snprintf(v, sizeof v, "%lld",
                     (long long)((g->cfg->ingest.retry_after_ms + 999) / 1000));
            httpd_add_header(&resp, "Retry-After", v);
        }
    }
    if (status == 200) {
        sluice_counter_add(g->m_events, r->n);
        sluice_counter_add(g->m_bytes, r->payload.len + r->keys.len);
    }
    sluice_histogram_observe(g->m_latency, (double)(clock_mono_ns() - r->start_ns) / 1e9);
    r->answered = 1;
    httpd_complete(r->pending, &resp);
}

/* The last reference is gone: answer if the deadline did not, free. */
static void finish(ingest_req *r)
{
    ingest *g = r->g;
    pthread_mutex_lock(&g->list_mu);
    if (!r->answered) respond(r, 0);
    unlink_req(g, r);
    pthread_mutex_unlock(&g->list_mu);
    req_free(r);
    atomic_fetch_sub(&g->pending, 1);
}

/* On the poll thread: answer 503 to requests past their deadline. */
static void expire(ingest *g)
{
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&g->list_mu);
    while (g->head && g->head->deadline_ms <= now) {
        ingest_req *r = g->head;
        unlink_req(g, r);
        if (!r->answered) respond(r, 1);
    }
    pthread_mutex_unlock(&g->list_mu);
}

static void release(ingest_req *r, size_t k)
{
    if (atomic_fetch_sub(&r->outstanding, k) == k) finish(r);
}

static void record_failure(ingest_req *r, size_t idx, rd_kafka_resp_err_t e)
{
    pthread_mutex_lock(&r->mu);
    if (!r->failed) r->first_err = e;
    r->failed++;
    r->errs[idx] = e;
    pthread_mutex_unlock(&r->mu);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    msg_ref *ref = m->_private;
    if (!ref) return;
    ingest_req *r = ref->r;
    if (m->err) {
        record_failure(r, ref->idx, m->err);
    } else {
        r->partitions[ref->idx] = m->partition;
        r->offsets[ref->idx] = m->offset;
    }
    release(r, 1);
}

static void *poll_main(void *arg)
{
    ingest *g = arg;
    while (!atomic_load(&g->stop_poll)) {
        rd_kafka_poll(g->rk, 100);
        expire(g);
    }
    return NULL;
}

/* ---- encoding --------------------------------------------------------------- */

typedef struct encoder {
    const sluice_avro_node *schema; /* NULL: JSON */
    int32_t id;
} encoder;

/* Append one encoded value to out: Confluent-framed Avro, or JSON (the
 * event's own bytes when it has them). 0, or -1 with errs filled. */
static int encode_value(const encoder *enc, const json_t *v, const char *raw, size_t raw_len,
                        buf *out, avro_json_errors *errs)
{
    errs->n = 0;
    errs->truncated = 0;
    if (!enc->schema) {
        if (raw) return buf_append(out, raw, raw_len);
        size_t need = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
        if (need == 0 || buf_reserve(out, need) != 0) return -1;
        json_dumpb(v, (char *)out->data + out->len, need, JSON_COMPACT | JSON_ENCODE_ANY);
        out->len += need;
        return 0;
    }
    uint8_t hdr[5];
    sluice_wire_write_header(hdr, enc->id);
    size_t start = out->len;
    if (buf_append(out, hdr, 5) != 0) return -1;
    if (avro_json_encode(enc->schema, v, out, errs) != 0) {
        out->len = start;
        return -1;
    }
    return 0;
}

static void add_errors(buf *eb, size_t *listed, size_t idx, const avro_json_errors *errs,
                       const char *fallback)
{
    if (errs->n == 0) {
        if (*listed >= MAX_ERRORS_LISTED) return;
        buf_printf(eb, "%s{\"index\":%zu,\"path\":\"$\",\"message\":", *listed ? "," : "", idx);
        buf_append_json_string(eb, fallback, strlen(fallback));
        buf_append_byte(eb, '}');
        (*listed)++;
        return;
    }
    for (int i = 0; i < errs->n && *listed < MAX_ERRORS_LISTED; i++, (*listed)++) {
        buf_printf(eb, "%s{\"index\":%zu,\"path\":", *listed ? "," : "", idx);
        buf_append_json_string(eb, errs->items[i].path, strlen(errs->items[i].path));
        buf_append_str(eb, ",\"message\":");
        buf_append_json_string(eb, errs->items[i].message, strlen(errs->items[i].message));
        buf_append_byte(eb, '}');
    }
}

/* The schema to encode with: *enc->schema NULL for JSON. Returns 0, or an
 * HTTP status with msg filled. Holds g->sc_lock for reading on success when
 * enc->schema is set (the caller unlocks). */
static int resolve_schema(ingest *g, const char *subject, int32_t id, const char *text,
                          encoder *enc, int *rest_code, char *msg, size_t n)
{
    sluice_error err;
    const sluice_sr_schema *s = NULL;
    enc->schema = NULL;
    enc->id = -1;
    if (!g->sr) {
        snprintf(msg, n, "no schema registry is configured (registry.urls)");
        return 500;
    }
    if (id >= 0) {
        if (sluice_sr_get_by_id(g->sr, id, &s, &err) != 0) {
            *rest_code = err.code == SLUICE_ENOTFOUND ? 40403 : 50002;
            snprintf(msg, n, "schema id %d: %.300s", (int)id, err.msg);
            return err.code == SLUICE_ENOTFOUND ? 422 : 503;
        }
    } else if (text) {
        if (sluice_sr_register(g->sr, subject, text, NULL, &id, &err) != 0) {
            *rest_code = err.code == SLUICE_EINVAL ? 42201 : 50002;
            snprintf(msg, n, "registering the schema under %.100s: %.300s", subject, err.msg);
            return err.code == SLUICE_EIO || err.code == SLUICE_ETIMEDOUT ? 503 : 422;
        }
    } else {
        int rc = sluice_sr_get_latest(g->sr, subject, &s, &err);
        if (rc == SLUICE_ENOTFOUND) return 0; /* no schema: JSON as it came */
        if (rc != 0) {
            snprintf(msg, n, "schema registry: %.300s", err.msg);
            return 503;
        }
    }
    if (s) {
        id = s->id;
        if (s->schema_type && strcasecmp(s->schema_type, "AVRO") != 0) {
            snprintf(msg, n, "subject %s has a %s schema; sluice encodes Avro only", subject,
                     s->schema_type);
            sluice_sr_schema_release(s);
            return 422;
        }
    }
    pthread_rwlock_rdlock(&g->sc_lock);
    enc->schema = schema_lookup_locked(g, id);
    if (!enc->schema) {
        pthread_rwlock_unlock(&g->sc_lock);
        const char *t = s ? s->schema : text;
        size_t tl = s ? s->schema_len : strlen(text);
        int rc = schema_add(g, id, t, tl, msg, n);
        sluice_sr_schema_release(s);
        if (rc != 0) return 422;
        pthread_rwlock_rdlock(&g->sc_lock);
        enc->schema = schema_lookup_locked(g, id);
        if (!enc->schema) { /* evicted in between: the cache is far too small */
            pthread_rwlock_unlock(&g->sc_lock);
            snprintf(msg, n, "schema cache thrashing; raise ingest.schema_cache_entries");
            return 503;
        }
    } else {
        sluice_sr_schema_release(s);
    }
    enc->id = id;
    return 0;
}

/* ---- the handler ---------------------------------------------------------- */

typedef struct header_collect {
    rd_kafka_headers_t *hdrs;
    int n;
} header_collect;

static int collect_header(void *opaque, const char *name, const char *value)
{
    header_collect *c = opaque;
    static const char prefix[] = "X-Sluice-Header-";
    if (strncasecmp(name, prefix, sizeof prefix - 1) != 0 || !name[sizeof prefix - 1]) return 0;
    if (c->n == MAX_KAFKA_HEADERS) return 1;
    if (!c->hdrs) c->hdrs = rd_kafka_headers_new(4);
    rd_kafka_header_add(c->hdrs, name + sizeof prefix - 1, -1, value, -1);
    c->n++;
    return 0;
}

static void key_of(const app_ingest_topic_config *tc, const char *header_key, const ingest_event *e,
                   buf *keys, size_t *off, size_t *len)
{
    *off = keys->len;
    *len = SIZE_MAX;
    if (header_key) {
        if (buf_append_str(keys, header_key) == 0) *len = keys->len - *off;
        return;
    }
    if (!tc || !tc->key_field || !json_is_object(e->value)) return;
    json_t *k = json_object_get(e->value, tc->key_field);
    if (!k || json_is_null(k)) return;
    if (json_is_string(k)) {
        if (buf_append(keys, json_string_value(k), json_string_length(k)) == 0)
            *len = json_string_length(k);
        return;
    }
    char *t = json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY);
    if (t && buf_append_str(keys, t) == 0) *len = keys->len - *off;
    free(t);
}

static void handle_produce(ingest *g, const httpd_request *req, httpd_response *resp, int route,
                           const char *topic)
{
    char msg[512];
    if (!valid_topic(topic)) {
        respond_error(g, resp, route, 400, 40000, "invalid topic name (1-249 of [a-zA-Z0-9._-])");
        return;
    }
    if (atomic_load(&g->stopping)) {
        respond_error(g, resp, route, 503, 50003, "shutting down");
        httpd_add_header(resp, "Connection", "close");
        return;
    }
    int auth = authorize(g, req, topic);
    if (auth == 401) {
        respond_error(g, resp, route, 401, 40101, "a valid bearer token is required");
        httpd_add_header(resp, "WWW-Authenticate", "Bearer");
        return;
    }
    if (auth == 403) {
        snprintf(msg, sizeof msg, "this token may not write topic %s", topic);
        respond_error(g, resp, route, 403, 40301, msg);
        return;
    }
    const app_ingest_topic_config *tc = topic_config(g, topic);
    if (g->cfg->ingest.topics.n && !tc) {
        snprintf(msg, sizeof msg, "topic %s is not configured for ingest", topic);
        respond_error(g, resp, route, 404, 40401, msg);
        return;
    }
    const char *ct = httpd_request_header(req, "Content-Type");
    int kind = ingest_body_kind_of(ct, route == ROUTE_REST);
    if (kind < 0) {
        snprintf(msg, sizeof msg, "unsupported content type %s; use %s", ct ? ct : "(none)",
                 route == ROUTE_REST ? "application/vnd.kafka.avro.v2+json or "
                                       "application/vnd.kafka.json.v2+json"
                                     : "application/json or application/x-ndjson");
        respond_error(g, resp, route, 415, 41500, msg);
        return;
    }
    ingest_batch b;
    if (ingest_parse_body(req->body, req->body_len, (ingest_body_kind)kind, SIZE_MAX / 64, &b, msg,
                          sizeof msg) != 0) {
        respond_error(g, resp, route, route == ROUTE_REST ? 422 : 400, 42206, msg);
        return;
    }

    /* Schemas: value, and (REST Avro) key. */
    encoder venc = {NULL, -1}, kenc = {NULL, -1};
    int locked = 0, rest_code = 42201, st = 0;
    char subject[300];
    snprintf(subject, sizeof subject, "%s-value", topic);
    if (kind == INGEST_BODY_REST_AVRO) {
        if (b.value_schema_id < 0 && !b.value_schema) {
            respond_error(g, resp, route, 422, 42202,
                          "request does not include a value schema "
                          "(value_schema or value_schema_id)");
            ingest_batch_free(&b);
            return;
        }
        st = resolve_schema(g, subject, b.value_schema_id, b.value_schema, &venc, &rest_code, msg,
                            sizeof msg);
        locked = st == 0 && venc.schema;
        int has_keys = 0;
        for (size_t i = 0; i < b.n; i++)
            has_keys |= b.events[i].key != NULL;
        if (st == 0 && has_keys) {
            if (b.key_schema_id < 0 && !b.key_schema) {
                st = 422;
                rest_code = 42201;
                snprintf(msg, sizeof msg, "request includes keys but no key schema");
            } else {
                /* The lock is a read lock: holding it twice is allowed. */
                snprintf(subject, sizeof subject, "%s-key", topic);
                st = resolve_schema(g, subject, b.key_schema_id, b.key_schema, &kenc, &rest_code,
                                    msg, sizeof msg);
                if (st == 0 && kenc.schema) locked++;
            }
        }
    } else if (kind != INGEST_BODY_REST_JSON && g->sr && !(tc && tc->schemaless)) {
        st = resolve_schema(g, subject, -1, NULL, &venc, &rest_code, msg, sizeof msg);
        locked = st == 0 && venc.schema;
    }
    if (st) {
        while (locked--)
            pthread_rwlock_unlock(&g->sc_lock);
        respond_error(g, resp, route, st, rest_code, msg);
        ingest_batch_free(&b);
        return;
    }

    /* Encode every event, collecting every error, before producing any. */
    ingest_req *r = calloc(1, sizeof *r);
    size_t n = b.n;
    if (r) {
        r->refs = calloc(n ? n : 1, sizeof *r->refs);
        r->partitions = calloc(n ? n : 1, sizeof *r->partitions);
        r->offsets = calloc(n ? n : 1, sizeof *r->offsets);
        r->errs = calloc(n ? n : 1, sizeof *r->errs);
        r->voff = calloc(4 * (n ? n : 1), sizeof *r->voff);
    }
    if (!r || !r->refs || !r->partitions || !r->offsets || !r->errs || !r->voff) {
        if (r) {
            free(r->refs);
            free(r->partitions);
            free(r->offsets);
            free(r->errs);
            free(r->voff);
            free(r);
        }
        while (locked--)
            pthread_rwlock_unlock(&g->sc_lock);
        ingest_batch_free(&b);
        respond_error(g, resp, route, 500, 50001, "out of memory");
        return;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->g = g;
    r->route = route;
    r->n = n;
    r->vlen = r->voff + n;
    r->koff = r->voff + 2 * n;
    r->klen = r->voff + 3 * n;
    r->start_ns = clock_mono_ns();
    r->value_schema_id = route == ROUTE_REST ? venc.id : -1;
    r->key_schema_id = route == ROUTE_REST ? kenc.id : -1;
    buf_init(&r->payload, SIZE_MAX);
    buf_init(&r->keys, SIZE_MAX);
    const char *header_key = route == ROUTE_V1 ? httpd_request_header(req, "X-Sluice-Key") : NULL;

    buf eb;
    buf_init(&eb, SIZE_MAX);
    size_t listed = 0, bad = 0;
    avro_json_errors errs;
    for (size_t i = 0; i < n; i++) {
        const ingest_event *e = &b.events[i];
        r->voff[i] = r->payload.len;
        if (json_is_null(e->value) && kind == INGEST_BODY_REST_JSON) {
            r->vlen[i] = SIZE_MAX; /* a tombstone */
        } else if (encode_value(&venc, e->value, venc.schema ? NULL : e->raw, e->raw_len,
                                &r->payload, &errs) != 0) {
            bad++;
            add_errors(&eb, &listed, i, &errs, "cannot encode the event");
            continue;
        } else {
            r->vlen[i] = r->payload.len - r->voff[i];
        }
        if (route == ROUTE_REST) {
            r->koff[i] = r->keys.len;
            r->klen[i] = SIZE_MAX;
            if (e->key) {
                encoder kjson = {NULL, -1};
                if (encode_value(kenc.schema ? &kenc : &kjson, e->key, NULL, 0, &r->keys, &errs) !=
                    0) {
                    bad++;
                    add_errors(&eb, &listed, i, &errs, "cannot encode the key");
                    continue;
                }
                r->klen[i] = r->keys.len - r->koff[i];
            }
        } else {
            key_of(tc, header_key, e, &r->keys, &r->koff[i], &r->klen[i]);
        }
    }
    while (locked--)
        pthread_rwlock_unlock(&g->sc_lock);
    int32_t *parts = calloc(n ? n : 1, sizeof *parts);
    for (size_t i = 0; parts && i < n; i++)
        parts[i] = b.events[i].partition;
    ingest_batch_free(&b);

    if (bad || !parts) {
        sluice_counter_add(g->m_invalid, bad);
        buf out;
        buf_init(&out, SIZE_MAX);
        snprintf(msg, sizeof msg,
                 "%zu of %zu events do not match the schema%s; nothing was written", bad, n,
                 venc.schema ? "" : " or cannot be encoded");
        if (route == ROUTE_REST)
            buf_printf(&out, "{\"error_code\":42203,\"message\":");
        else
            buf_append_str(&out, "{\"error\":");
        buf_append_json_string(&out, msg, strlen(msg));
        buf_append_str(&out, ",\"errors\":[");
        buf_append(&out, eb.data, eb.len);
        buf_append_str(&out, "]}");
        httpd_respond(resp, parts ? 422 : 500, "application/json", (const char *)out.data, out.len);
        count(g, route, parts ? 422 : 500);
        buf_free(&out);
        buf_free(&eb);
        free(parts);
        req_free(r);
        return;
    }
    buf_free(&eb);

    if (g->admit) {
        char why[512];
        if (g->admit(g->admit_opaque, topic, n, r->payload.len + r->keys.len, why, sizeof why)) {
            free(parts);
            req_free(r);
            respond_error(g, resp, route, 429, 42901, why);
            return;
        }
    }
    /* Encoded bytes count against the in-flight budget like the body. */
    if (httpd_reserve(req, r->payload.len + r->keys.len + n * sizeof(msg_ref) * 8) != 0) {
        free(parts);
        req_free(r);
        respond_error(g, resp, route, 429, 42900, "too many bytes in flight; retry later");
        return;
    }
    r->pending = httpd_defer(req);
    if (!r->pending) {
        free(parts);
        req_free(r);
        respond_error(g, resp, route, 500, 50001, "request cannot wait for kafka");
        return;
    }
    header_collect hc = {NULL, 0};
    if (route == ROUTE_V1) httpd_request_each_header(req, collect_header, &hc);

    atomic_fetch_add(&g->pending, 1);
    atomic_init(&r->outstanding, n + 1); /* + the reference this worker holds */
    for (size_t i = 0; i < n; i++)
        r->offsets[i] = -1;
    r->deadline_ms = clock_mono_ms() + g->cfg->ingest.delivery_timeout_ms;
    pthread_mutex_lock(&g->list_mu);
    r->prev = g->tail;
    if (g->tail)
        g->tail->next = r;
    else
        g->head = r;
    g->tail = r;
    pthread_mutex_unlock(&g->list_mu);
    size_t produced = 0;
    for (; produced < n; produced++) {
        size_t i = produced;
        r->refs[i] = (msg_ref){r, i};
        void *v = r->vlen[i] == SIZE_MAX ? NULL : r->payload.data + r->voff[i];
        size_t vl = r->vlen[i] == SIZE_MAX ? 0 : r->vlen[i];
        void *k = r->klen[i] == SIZE_MAX ? NULL : r->keys.data + r->koff[i];
        size_t kl = r->klen[i] == SIZE_MAX ? 0 : r->klen[i];
        rd_kafka_headers_t *h = hc.hdrs ? rd_kafka_headers_copy(hc.hdrs) : NULL;
        rd_kafka_resp_err_t e = rd_kafka_producev(
            g->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(parts[i]), RD_KAFKA_V_VALUE(v, vl),
            RD_KAFKA_V_KEY(k, kl), RD_KAFKA_V_OPAQUE(&r->refs[i]), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_END);
        if (e) {
            if (h) rd_kafka_headers_destroy(h);
            for (size_t j = i; j < n; j++)
                record_failure(r, j, e);
            break;
        }
    }
    if (hc.hdrs) rd_kafka_headers_destroy(hc.hdrs);
    free(parts);
    release(r, 1 + (n - produced));
}

static void handle_health(ingest *g, const httpd_request *req, httpd_response *resp)
{
    if (strcmp(req->path, "/healthz") == 0) {
        httpd_respond(resp, 200, "text/plain", "ok\n", 3);
    } else if (strcmp(req->path, "/readyz") == 0) {
        char why[256];
        if (ingest_ready(g, why, sizeof why))
            httpd_respond(resp, 200, "text/plain", "ready\n", 6);
        else
            httpd_respond_printf(resp, 503, "text/plain", "not ready: %s\n", why);
    } else {
        char *text = NULL;
        size_t len = 0;
        if (sluice_metrics_render(g->m, &text, &len) != 0) {
            httpd_respond(resp, 500, "text/plain", "metrics unavailable\n", 20);
        } else {
            resp->status = 200;
            resp->content_type = "text/plain; version=0.0.4";
            resp->body = text;
            resp->body_len = len;
        }
    }
}

static void handler(void *opaque, const httpd_request *req, httpd_response *resp)
{
    ingest *g = opaque;
    const char *topic = NULL;
    int route = ROUTE_OTHER;
    if (strncmp(req->path, "/v1/topics/", 11) == 0) {
        route = ROUTE_V1;
        topic = req->path + 11;
    } else if (strncmp(req->path, "/topics/", 8) == 0) {
        route = ROUTE_REST;
        topic = req->path + 8;
    }
    if (topic) {
        if (strcmp(req->method, "POST") != 0) {
            respond_error(g, resp, route, 405, 40500, "use POST");
            httpd_add_header(resp, "Allow", "POST");
            return;
        }
        handle_produce(g, req, resp, route, topic);
        return;
    }
    if (strcmp(req->path, "/healthz") == 0 || strcmp(req->path, "/readyz") == 0 ||
        strcmp(req->path, "/metrics") == 0) {
        if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
            respond_error(g, resp, ROUTE_OTHER, 405, 40500, "use GET");
            httpd_add_header(resp, "Allow", "GET");
            return;
        }
        handle_health(g, req, resp);
        return;
    }
    respond_error(g, resp, ROUTE_OTHER, 404, 40400,
                  "not found; POST /v1/topics/{topic} or /topics/{topic}");
}

/* ---- lifecycle ------------------------------------------------------------ */

static double inflight_bytes(void *opaque)
{
    return (double)httpd_inflight_bytes(((ingest *)opaque)->http);
}

static double inflight_limit(void *opaque)
{
    return (double)((ingest *)opaque)->cfg->ingest.max_inflight_bytes;
}

static double queue_messages(void *opaque)
{
    return (double)rd_kafka_outq_len(((ingest *)opaque)->rk);
}

static double pending_requests(void *opaque)
{
    return (double)atomic_load(&((ingest *)opaque)->pending);
}

static void register_metrics(ingest *g)
{
    sluice_metrics *m = g->m;
    for (int r = 0; r < N_ROUTES; r++)
        for (size_t s = 0; s < N_STATUSES; s++) {
            char labels[64];
            snprintf(labels, sizeof labels, "route=\"%s\",status=\"%d\"", route_names[r],
                     statuses[s]);
            g->m_requests[r][s] = sluice_metrics_counter(
                m, "sluice_ingest_requests_total",
                "Requests answered by the ingest handler, by route and status.", labels);
        }
    g->m_events = sluice_metrics_counter(m, "sluice_ingest_events_total",
                                         "Events acknowledged by Kafka and answered 200.", NULL);
    g->m_bytes = sluice_metrics_counter(m, "sluice_ingest_bytes_total",
                                        "Encoded bytes (values and keys) of those events.", NULL);
    g->m_invalid = sluice_metrics_counter(m, "sluice_ingest_invalid_events_total",
                                          "Events rejected by schema validation.", NULL);
    g->m_delivery_errors = sluice_metrics_counter(
        m, "sluice_ingest_delivery_errors_total",
        "Events Kafka did not acknowledge (their requests were answered with an error).", NULL);
    static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25,  0.5,    1,     2.5,  5,     10,   30};
    g->m_latency = sluice_metrics_histogram(
        m, "sluice_ingest_request_seconds",
        "Time from a request's body being parsed to its answer (Kafka's acknowledgement).", NULL,
        bounds, sizeof bounds / sizeof bounds[0]);
    sluice_metrics_gauge_fn(m, "sluice_ingest_inflight_bytes",
                            "Request bodies and encoded events not yet answered.", NULL,
                            inflight_bytes, g);
    sluice_metrics_gauge_fn(m, "sluice_ingest_inflight_limit_bytes", "ingest.max_inflight_bytes.",
                            NULL, inflight_limit, g);
    sluice_metrics_gauge_fn(m, "sluice_ingest_producer_queue_messages",
                            "Messages in librdkafka's producer queue (not yet acknowledged).", NULL,
                            queue_messages, g);
    sluice_metrics_gauge_fn(m, "sluice_ingest_pending_requests",
                            "Requests waiting for Kafka's acknowledgements.", NULL,
                            pending_requests, g);
}

int ingest_start(const app_config *cfg, const ingest_options *opt, sluice_sr *sr, sluice_metrics *m,
                 ingest **out, sluice_error *err)
{
    *out = NULL;
    const char *brokers = opt ? opt->brokers : NULL;
    if (!brokers) brokers = cfg->kafka.brokers;
    if (!brokers)
        return sluice_error_set(err, SLUICE_ECONFIG, "kafka.brokers: needed by `sluice ingest`");
    const app_ingest_config *ic = &cfg->ingest;
    ingest *g = calloc(1, sizeof *g);
    if (!g) return sluice_error_set(err, SLUICE_ENOMEM, "ingest: out of memory");
    g->cfg = cfg;
    g->sr = sr;
    g->m = m;
    if (opt) {
        g->admit = opt->admit;
        g->admit_opaque = opt->admit_opaque;
    }
    pthread_rwlock_init(&g->sc_lock, NULL);
    pthread_mutex_init(&g->list_mu, NULL);
    g->sc = calloc((size_t)ic->schema_cache_entries, sizeof *g->sc);
    if (!g->sc) {
        free(g);
        return sluice_error_set(err, SLUICE_ENOMEM, "ingest: out of memory");
    }

    /* librdkafka's queue holds at most what the in-flight budget lets in,
     * so a produce call never finds it full. */
    char timeout[32], kbytes[32];
    snprintf(timeout, sizeof timeout, "%lld", (long long)ic->delivery_timeout_ms);
    uint64_t kb = ic->max_inflight_bytes / 1024 * 2 + 1024;
    snprintf(kbytes, sizeof kbytes, "%llu", (unsigned long long)(kb > 2097151 ? 2097151 : kb));
    const kafka_setting defaults[] = {
        {"partitioner", "murmur2_random"}, /* the Java client's choice */
        {"linger.ms", "5"},
        {"client.id", "sluice-ingest"},
        {"compression.codec", "lz4"},
        {"queue.buffering.max.messages", "10000000"},
        {"queue.buffering.max.kbytes", kbytes},
    };
    const kafka_setting forced[] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.timeout.ms", timeout},
    };
    rd_kafka_conf_t *conf =
        kafka_conf_new(brokers, &cfg->kafka.properties, forced, sizeof forced / sizeof forced[0],
                       defaults, sizeof defaults / sizeof defaults[0], err);
    if (!conf) {
        free(g->sc);
        free(g);
        return SLUICE_ECONFIG;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char why[512];
    g->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!g->rk) {
        rd_kafka_conf_destroy(conf);
        free(g->sc);
        free(g);
        return sluice_error_set(err, SLUICE_ECONFIG, "kafka producer: %s", why);
    }
    register_metrics(g);
    pthread_create(&g->poller, NULL, poll_main, g);

    httpd_config hc = {
        .listen = ic->listen,
        .max_body_bytes = ic->max_body_bytes,
        .threads = (unsigned)ic->threads,
        .max_connections = (unsigned)ic->max_connections,
        .connection_timeout_s = (unsigned)((ic->idle_timeout_ms + 999) / 1000),
        .handler = handler,
        .opaque = g,
        .name = "ingest",
        .tls_cert_file = ic->tls.cert_file,
        .tls_key_file = ic->tls.key_file,
        .tls_client_ca_file = ic->tls.client_ca_file,
        .inflight_limit = ic->max_inflight_bytes,
        .retry_after_s = (unsigned)((ic->retry_after_ms + 999) / 1000),
    };
    int rc = httpd_start(&hc, &g->http, err);
    if (rc) {
        atomic_store(&g->stop_poll, 1);
        pthread_join(g->poller, NULL);
        rd_kafka_destroy(g->rk);
        free(g->sc);
        free(g);
        return rc;
    }
    char threads[16];
    snprintf(threads, sizeof threads, "%lld", (long long)ic->threads);
    sluice_log(SLUICE_LOG_INFO, "ingest", "started", "brokers", brokers, "registry",
               sr ? "yes" : "no", (char *)0);
    *out = g;
    return 0;
}

uint16_t ingest_port(const ingest *g)
{
    return httpd_port(g->http);
}

int ingest_ready(ingest *g, char *why, size_t n)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(g->rk, 0, NULL, &md, 2000);
    if (e) {
        snprintf(why, n, "kafka: %s", rd_kafka_err2str(e));
        return 0;
    }
    rd_kafka_metadata_destroy(md);
    if (g->sr) {
        const sluice_sr_schema *s = NULL;
        sluice_error err;
        int rc = sluice_sr_get_latest(g->sr, "sluice-readyz-probe-value", &s, &err);
        sluice_sr_schema_release(s);
        if (rc && rc != SLUICE_ENOTFOUND) {
            snprintf(why, n, "registry: %s", err.msg);
            return 0;
        }
    }
    return 1;
}

int ingest_stop(ingest *g)
{
    if (!g) return 0;
    atomic_store(&g->stopping, 1);
    httpd_quiesce(g->http);
    int64_t deadline = clock_mono_ms() + g->cfg->ingest.shutdown_timeout_ms;
    while (atomic_load(&g->pending) > 0 && clock_mono_ms() < deadline)
        clock_sleep_ms(10);
    int clean = atomic_load(&g->pending) == 0;
    if (!clean) {
        /* Out of time: fail what is left (its clients get 503 and retry). */
        rd_kafka_purge(g->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        while (atomic_load(&g->pending) > 0)
            clock_sleep_ms(10);
    }
    rd_kafka_flush(g->rk, 5000);
    atomic_store(&g->stop_poll, 1);
    pthread_join(g->poller, NULL);
    httpd_stop(g->http);
    rd_kafka_destroy(g->rk);
    for (size_t i = 0; i < g->sc_n; i++)
        sluice_avro_schema_free(g->sc[i].schema);
    free(g->sc);
    pthread_rwlock_destroy(&g->sc_lock);
    pthread_mutex_destroy(&g->list_mu);
    sluice_log(SLUICE_LOG_INFO, "ingest", "stopped", "clean", clean ? "yes" : "no", (char *)0);
    free(g);
    return clean ? 0 : -1;
}
