/*
 * ingest.c — `sluice ingest`'s HTTP edge (ingest.h says what ingest does;
 * ingest_int.h how its three parts divide a request): routes, bearer
 * tokens, topics, content types, the in-flight budget, deferring the
 * answer, and turning outcomes into status codes and bodies — v1's
 * {"accepted":N} / {"error":..,"errors":[..]} and REST Proxy v2's
 * {"offsets":[..]} / {"error_code":..,"message":..}. Metrics, start, stop.
 *
 * A request's life: the handler (an MHD worker) checks route, auth, topic
 * and content type; route.c encodes every event; if all are good and the
 * admission hook and the budget agree, the answer is deferred and
 * producer.c produces them; the last delivery report calls ingest_answer,
 * which answers and lets the connection go.
 */
#include "ingest/ingest_int.h"

#include "common/clock.h"
#include "common/metrics_scope.h"
#include "ingest/body.h"

#include <sluice/log.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_KAFKA_HEADERS 16

static const char *const route_names[N_ROUTES] = {"v1", "restproxy", "other"};
static const int statuses[] = {200, 400, 401, 403, 404, 405, 413, 415, 422, 429, 500, 503};
#define N_STATUSES (sizeof statuses / sizeof statuses[0])

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

/* ---- answering ------------------------------------------------------------ */

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

static void retry_after(ingest *g, httpd_response *resp)
{
    char v[24];
    snprintf(v, sizeof v, "%lld", (long long)((g->cfg->ingest.retry_after_ms + 999) / 1000));
    httpd_add_header(resp, "Retry-After", v);
}

/* REST Proxy's answer: every record's partition and offset, or its error. */
static void rest_answer(ingest_req *r, const rd_kafka_resp_err_t *errs, buf *b)
{
    buf_append_str(b, "{\"key_schema_id\":");
    r->key_schema_id >= 0 ? buf_printf(b, "%d", (int)r->key_schema_id) : buf_append_str(b, "null");
    buf_append_str(b, ",\"value_schema_id\":");
    r->value_schema_id >= 0 ? buf_printf(b, "%d", (int)r->value_schema_id)
                            : buf_append_str(b, "null");
    buf_append_str(b, ",\"offsets\":[");
    for (size_t i = 0; i < r->n; i++) {
        if (errs[i]) {
            const char *why = rd_kafka_err2str(errs[i]);
            buf_printf(b, "%s{\"partition\":null,\"offset\":null,\"error_code\":%d,\"error\":",
                       i ? "," : "", status_of_delivery(errs[i]) == 503 ? 50003 : 50002);
            buf_append_json_string(b, why, strlen(why));
            buf_append_byte(b, '}');
        } else {
            buf_printf(b, "%s{\"partition\":%d,\"offset\":%lld,\"error_code\":null,\"error\":null}",
                       i ? "," : "", (int)r->msgs[i].partition, (long long)r->msgs[i].offset);
        }
    }
    buf_append_str(b, "]}");
}

void ingest_answer(ingest_req *r, bool timed_out)
{
    ingest *g = r->g;
    httpd_response resp = {0};
    /* Each event's outcome: what its report said, or (deadline) nothing
     * yet, which counts as not acknowledged. */
    rd_kafka_resp_err_t small[64];
    rd_kafka_resp_err_t *errs = r->n <= 64 ? small : calloc(r->n, sizeof *errs);
    size_t failed = 0;
    rd_kafka_resp_err_t first = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (size_t i = 0; i < r->n; i++) {
        int st = atomic_load_explicit(&r->msgs[i].state, memory_order_acquire);
        rd_kafka_resp_err_t e = st == MSG_OK       ? RD_KAFKA_RESP_ERR_NO_ERROR
                                : st == MSG_FAILED ? r->msgs[i].err
                                                   : RD_KAFKA_RESP_ERR__MSG_TIMED_OUT;
        if (errs) errs[i] = e;
        if (e && failed++ == 0) first = e;
    }
    int status = timed_out ? 503 : failed ? status_of_delivery(first) : 200;
    if (failed) sluice_counter_add(g->m_delivery_errors, failed);
    if (r->route == ROUTE_REST && errs) {
        buf b;
        buf_init(&b, SIZE_MAX);
        rest_answer(r, errs, &b);
        httpd_respond(&resp, status, "application/vnd.kafka.v2+json", (const char *)b.data, b.len);
        buf_free(&b);
        if (status == 429 || status == 503) retry_after(g, &resp);
        count(g, r->route, status);
    } else if (status == 200) {
        httpd_respond_printf(&resp, 200, "application/json", "{\"accepted\":%zu}", r->n);
        count(g, r->route, 200);
    } else {
        char msg[320];
        snprintf(msg, sizeof msg,
                 "kafka did not acknowledge %zu of %zu events (%s); nothing of "
                 "this request may be relied on, retry it",
                 failed, r->n, rd_kafka_err2str(first));
        respond_error(g, &resp, r->route, status, 0, msg);
    }
    if (errs != small) free(errs);
    if (status == 200) {
        sluice_counter_add(g->m_events, r->n);
        sluice_counter_add(g->m_bytes, r->payload.len + r->keys.len);
    }
    sluice_histogram_observe(g->m_latency, (double)(clock_mono_ns() - r->start_ns) / 1e9);
    if (atomic_load(&g->retiring)) httpd_add_header(&resp, "Connection", "close");
    httpd_complete(r->pending, &resp);
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

/* The 422 for events that do not match: every event's errors listed. */
static void respond_invalid(ingest *g, httpd_response *resp, int route, const route_refusal *why)
{
    buf out;
    buf_init(&out, SIZE_MAX);
    if (route == ROUTE_REST)
        buf_append_str(&out, "{\"error_code\":42203,\"message\":");
    else
        buf_append_str(&out, "{\"error\":");
    buf_append_json_string(&out, why->msg, strlen(why->msg));
    buf_append_str(&out, ",\"errors\":[");
    buf_append(&out, why->errors.data, why->errors.len);
    buf_append_str(&out, "]}");
    httpd_respond(resp, 422, "application/json", (const char *)out.data, out.len);
    count(g, route, 422);
    buf_free(&out);
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

    ingest_req *r = req_new(g, route);
    if (!r) {
        respond_error(g, resp, route, 500, 50001, "out of memory");
        return;
    }
    route_input in = {
        .route = route,
        .topic = topic,
        .tc = tc,
        .kind = kind,
        .req = req,
        .header_key = route == ROUTE_V1 ? httpd_request_header(req, "X-Sluice-Key") : NULL,
    };
    route_refusal why;
    buf_init(&why.errors, SIZE_MAX);
    if (route_encode(g, &in, r, &why) != 0) {
        if (why.bad_events) {
            sluice_counter_add(g->m_invalid, why.bad_events);
            respond_invalid(g, resp, route, &why);
        } else {
            respond_error(g, resp, route, why.status, why.rest_code, why.msg);
        }
        buf_free(&why.errors);
        req_free(r);
        return;
    }
    buf_free(&why.errors);

    size_t n = r->n, bytes = r->payload.len + r->keys.len;
    if (g->admit) {
        char reason[512];
        if (g->admit(g->admit_opaque, topic, n, bytes, reason, sizeof reason)) {
            req_free(r);
            respond_error(g, resp, route, 429, 42901, reason);
            return;
        }
    }
    /* Encoded bytes count against the in-flight budget like the body. */
    if (httpd_reserve(req, bytes + n * sizeof(ingest_msg)) != 0) {
        req_free(r);
        respond_error(g, resp, route, 429, 42900, "too many bytes in flight; retry later");
        return;
    }
    r->pending = httpd_defer(req);
    if (!r->pending) {
        req_free(r);
        respond_error(g, resp, route, 500, 50001, "request cannot wait for kafka");
        return;
    }
    header_collect hc = {NULL, 0};
    if (route == ROUTE_V1) httpd_request_each_header(req, collect_header, &hc);
    producer_send(g, r, topic, hc.hdrs);
    if (hc.hdrs) rd_kafka_headers_destroy(hc.hdrs);
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
        if (sluice_metrics_render(g->registry, &text, &len) != 0) {
            httpd_respond(resp, 500, "text/plain", "metrics unavailable\n", 20);
        } else {
            resp->status = 200;
            resp->content_type = "text/plain; version=0.0.4";
            resp->body = text;
            resp->body_len = len;
        }
    }
}

static void route_request(ingest *g, const httpd_request *req, httpd_response *resp);

/* A replaced instance (ingest_take_over) still answers on the connections
 * it accepted, and closes each after its answer: the client's next request
 * opens a connection to the instance that replaced it. */
static void handler(void *opaque, const httpd_request *req, httpd_response *resp)
{
    ingest *g = opaque;
    route_request(g, req, resp);
    if (resp->status && atomic_load(&g->retiring) && !atomic_load(&g->stopping))
        httpd_add_header(resp, "Connection", "close");
}

static void route_request(ingest *g, const httpd_request *req, httpd_response *resp)
{
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
    /* A scope, so that this instance's callback series can be unbound
     * before it is freed and a successor's bound (metrics_scope.h). */
    g->m = metrics_scope_new(m);
    g->registry = m;
    if (opt) {
        g->admit = opt->admit;
        g->admit_opaque = opt->admit_opaque;
        g->wire = opt->wire;
        g->wire_opaque = opt->wire_opaque;
    }
    if (route_init(g) != 0) {
        metrics_scope_free(g->m);
        free(g);
        return sluice_error_set(err, SLUICE_ENOMEM, "ingest: out of memory");
    }
    int rc = route_check_topics(g, err);
    g->answer = ingest_answer;
    if (rc == 0) rc = producer_start(g, brokers, err);
    if (rc) {
        route_free(g);
        metrics_scope_free(g->m);
        free(g);
        return rc;
    }
    register_metrics(g);

    g->http_cfg = (httpd_config){
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
    const ingest *prev = opt ? opt->replaces : NULL;
    if (!prev || strcmp(prev->cfg->ingest.listen, ic->listen) != 0)
        rc = httpd_start(&g->http_cfg, &g->http, err);
    if (rc) {
        metrics_scope_free(g->m);
        producer_stop(g, false);
        route_free(g);
        free(g);
        return rc;
    }
    sluice_log(SLUICE_LOG_INFO, "ingest", "started", "brokers", brokers, "registry",
               sr ? "yes" : "no", (char *)0);
    *out = g;
    return 0;
}

int ingest_take_over(ingest *g, ingest *old, sluice_error *err)
{
    if (!g->http) {
        int fd = httpd_hand_over(old->http);
        if (fd < 0)
            return sluice_error_set(err, SLUICE_EIO,
                                    "ingest: the running server could not hand over its socket");
        atomic_store(&old->retiring, 1);
        g->http_cfg.listen_fd = fd;
        int rc = httpd_start(&g->http_cfg, &g->http, err);
        if (rc)
            return sluice_error_set(err, SLUICE_EINTERNAL,
                                    "ingest: the listening socket was handed over but the new "
                                    "server cannot serve it (%s); nothing listens on %s any more",
                                    err->msg, g->cfg->ingest.listen);
    } else {
        atomic_store(&old->retiring, 1);
        httpd_quiesce(old->http);
    }
    sluice_log(SLUICE_LOG_INFO, "ingest", "took over from the previous configuration", "listen",
               g->cfg->ingest.listen, (char *)0);
    return 0;
}

uint16_t ingest_port(const ingest *g)
{
    return httpd_port(g->http);
}

int ingest_ready(ingest *g, char *why, size_t n)
{
    if (!producer_ready(g, why, n)) return 0;
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
    /* A replaced instance serves its open connections until they close
     * (each answer closes its connection); only then are latecomers 503. */
    int retiring = atomic_load(&g->retiring);
    if (!retiring) atomic_store(&g->stopping, 1);
    httpd_quiesce(g->http);
    int64_t deadline = clock_mono_ms() + g->cfg->ingest.shutdown_timeout_ms;
    while ((atomic_load(&g->pending) > 0 || (retiring && httpd_connections(g->http) > 0)) &&
           clock_mono_ms() < deadline)
        clock_sleep_ms(10);
    atomic_store(&g->stopping, 1);
    while (atomic_load(&g->pending) > 0 && clock_mono_ms() < deadline)
        clock_sleep_ms(10);
    int clean = atomic_load(&g->pending) == 0;
    /* The gauges read the producer and the server: unbound before either goes. */
    metrics_scope_free(g->m);
    producer_stop(g, !clean);
    httpd_stop(g->http);
    route_free(g);
    sluice_log(SLUICE_LOG_INFO, "ingest", "stopped", "clean", clean ? "yes" : "no", (char *)0);
    free(g);
    return clean ? 0 : -1;
}
