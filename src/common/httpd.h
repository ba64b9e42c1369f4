/*
 * httpd.h — the small HTTP server every sluice endpoint runs on (registry
 * API, ingest, /metrics, /healthz), wrapping libmicrohttpd.
 *
 * Threads: libmicrohttpd's internal thread pool (`threads` workers, epoll)
 * calls `handler` on a worker thread once the whole request body has arrived.
 * The handler fills a response and returns; it may block (the registry does
 * SQLite work there), so size `threads` for the expected concurrency. A
 * handler that waits on something else (ingest waits for Kafka's delivery
 * reports) instead defers: it calls httpd_defer, returns at once, and later
 * answers from any thread with httpd_complete; meanwhile the connection is
 * suspended and the worker serves others.
 *
 * In-flight bytes: with inflight_limit set, every request body is counted
 * against one budget from the moment it starts arriving (its Content-Length,
 * or chunk by chunk) until its answer has been sent; handlers add what they
 * allocate for the request with httpd_reserve. A request that would pass the
 * budget is answered 429 with Retry-After before its body is stored.
 *
 * Bounds: a body larger than max_body_bytes is answered 413 without calling
 * the handler and without buffering more than the bound; at most
 * max_connections connections are accepted at once. Listens only where told
 * (sluice's defaults are 127.0.0.1); port 0 picks a free port, readable back
 * with httpd_port().
 */
#ifndef SLUICE_COMMON_HTTPD_H
#define SLUICE_COMMON_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#include "common/buf.h"

typedef struct httpd httpd;

typedef struct httpd_request {
    const char *method;    /* "GET", "POST", ... */
    const char *path;      /* URL path, percent-decoded, without the query */
    const char *raw_path;  /* the same path as sent (still percent-encoded, already checked to
                            * decode), for routes whose segments may contain an encoded '/';
                            * may be NULL in hand-made requests */
    const char *raw_query; /* the query string as sent (not decoded), "" if none; may be NULL
                            * in hand-made requests */
    const char *body;      /* NUL-terminated for convenience; body_len excludes it */
    size_t body_len;
    void *internal; /* the MHD connection; use the accessors below */
    void *state;    /* httpd's per-request state (NULL in hand-made requests) */
} httpd_request;

#define HTTPD_MAX_RESPONSE_HEADERS 8

typedef struct httpd_response {
    int status;
    const char *content_type; /* static string */
    char *body;               /* malloc'd; the server frees it */
    size_t body_len;
    struct {
        const char *name; /* static string */
        char value[128];
    } headers[HTTPD_MAX_RESPONSE_HEADERS];
    int n_headers;
} httpd_response;

typedef void (*httpd_handler)(void *opaque, const httpd_request *req, httpd_response *resp);

typedef struct httpd_config {
    const char *listen; /* "127.0.0.1:8081", "[::1]:0", "0.0.0.0:80" */
    size_t max_body_bytes;
    unsigned threads;              /* worker threads, >= 1 */
    unsigned max_connections;      /* 0 = library default */
    unsigned connection_timeout_s; /* idle keep-alive connections are closed after this */
    httpd_handler handler;
    void *opaque;
    const char *name; /* for logs: "registry", "ingest", "metrics" */
    /* TLS (GnuTLS inside libmicrohttpd): serve HTTPS when cert and key are
     * set (PEM files). With client_ca_file set, every request must come
     * with a client certificate that verifies against it; others get 403. */
    const char *tls_cert_file;
    const char *tls_key_file;
    const char *tls_client_ca_file;
    uint64_t inflight_limit; /* bytes; 0 = no budget */
    unsigned retry_after_s;  /* Retry-After of the budget's 429s (default 1) */
    /* A socket already listening, served instead of binding `listen` (the
     * one httpd_hand_over took from the server this one replaces); 0 for
     * none. The server owns it from then on, also when the start fails. */
    int listen_fd;
} httpd_config;

int httpd_start(const httpd_config *cfg, httpd **out, sluice_error *err);
uint16_t httpd_port(const httpd *h);
/* Stops accepting, waits for running handlers, frees. NULL is fine. Every
 * deferred request must have been completed first. */
void httpd_stop(httpd *h);
/* Stop accepting new connections; open ones are still served. */
void httpd_quiesce(httpd *h);
/* The same, but the listening socket is kept open and returned for a new
 * server to serve (httpd_config.listen_fd): connections that arrive in
 * between wait in the kernel's backlog, so none is refused or reset. -1
 * if the server could not give it up. */
int httpd_hand_over(httpd *h);
/* Connections open now (being read, handled, deferred, or idle). */
unsigned httpd_connections(const httpd *h);
/* Bytes currently counted against the in-flight budget. */
uint64_t httpd_inflight_bytes(const httpd *h);

/* Deferred answers. In the handler: p = httpd_defer(req), return without
 * filling resp; later, from any thread, exactly once: httpd_complete(p, &r)
 * (which takes r's body). NULL if the request cannot be deferred (a request
 * built by hand); answer directly then. */
typedef struct httpd_pending httpd_pending;
httpd_pending *httpd_defer(const httpd_request *req);
void httpd_complete(httpd_pending *p, httpd_response *resp);

/* Count n more bytes against the in-flight budget until the request's
 * answer is sent: 0, or -1 (nothing counted) if that would pass it. */
int httpd_reserve(const httpd_request *req, uint64_t n);

/* Take the request body's buffer (req->body stays valid: it is out's
 * data), so that it can outlive the answer — ingest's messages point into
 * it until their delivery reports. Its bytes stay counted against the
 * in-flight budget only until the answer is sent. 0, or -1 for a request
 * built by hand (nothing taken). */
int httpd_take_body(const httpd_request *req, buf *out);

/* Header (case-insensitive) or query argument of the request; NULL if absent. */
const char *httpd_request_header(const httpd_request *req, const char *name);
const char *httpd_request_query(const httpd_request *req, const char *name);

/* Call fn for every request header (name as sent, value); stops early when
 * fn returns nonzero. Nothing for hand-made requests. */
void httpd_request_each_header(const httpd_request *req,
                               int (*fn)(void *opaque, const char *name, const char *value),
                               void *opaque);

/* Helpers that fill a response. They copy body; on allocation failure the
 * response becomes a bodyless 500. */
void httpd_respond(httpd_response *resp, int status, const char *content_type, const char *body,
                   size_t len);
void httpd_respond_printf(httpd_response *resp, int status, const char *content_type,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void httpd_add_header(httpd_response *resp, const char *name, const char *value);

/* Split "host:port" / "[v6]:port" into parts; port must be 0..65535. */
int httpd_parse_listen(const char *listen, char *host, size_t host_len, uint16_t *port,
                       sluice_error *err);

#endif
