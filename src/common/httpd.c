/*
 * httpd.c — the HTTP server wrapper behind src/common/httpd.h, on
 * libmicrohttpd.
 *
 * Ownership: an httpd owns its MHD daemon and a copy of its config; each
 * request owns a `request_state` (raw path, capped body buffer) created in
 * MHD's URI log callback and freed in its completion callback, so it is freed
 * even when the client goes away half-way.
 *
 * Threads: httpd_start/httpd_stop run on the owner's thread; everything else
 * here runs on MHD's pool threads, one connection per thread at a time, so a
 * request_state is never shared.
 *
 * Why the URI log callback: MHD hands the access handler a path already
 * decoded by its lenient unescaper (invalid %-sequences pass through, %00
 * silently truncates). We keep the raw URI it shows us first and decode the
 * path ourselves, strictly, so "/a%2" or "/a%00b" are a 400 and never reach
 * a handler as something else.
 *
 * Body bound: a body larger than max_body_bytes is never stored, and its
 * 413 must reach the client. Many clients (Python's urllib, most that do
 * not send Expect: 100-continue) write the whole body before they read a
 * byte; answering and closing while the body is still arriving makes the
 * kernel reset the connection, and such a client sees a broken pipe
 * instead of the 413. So the body is read and thrown away and the 413 sent
 * once it has all arrived, the connection kept: for a Content-Length up to
 * DRAIN_LIMIT past the bound, and for a chunked body until it ends or
 * passes DRAIN_LIMIT past the bound. Beyond that the 413 goes out at once
 * (Content-Length) or the connection is cut (chunked), so an endless
 * upload cannot hold a worker; a client that asked Expect: 100-continue
 * gets its 413 before it sends anything.
 */
#include "common/httpd.h"

#include "common/buf.h"

#include <sluice/log.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <stddef.h>
#include <unistd.h>

/* Bytes past max_body_bytes we are willing to read and throw away so that
 * an oversized upload gets a 413 it can read (see the top of this file). */
#define DRAIN_LIMIT (16u << 20)
#define DEFAULT_TIMEOUT_S 30

struct httpd {
    struct MHD_Daemon *daemon;
    httpd_handler handler;
    void *opaque;
    size_t max_body_bytes;
    uint16_t port;
    char name[32];
    char listen[160];                     /* with the port actually bound, for logs */
    char *tls_cert, *tls_key, *tls_trust; /* PEM texts, alive as long as the daemon */
    bool require_client_cert;
    uint64_t inflight_limit; /* 0: no budget */
    unsigned retry_after_s;
    _Atomic uint64_t inflight;
    bool quiesced; /* the listening socket is closed or handed over (owner's thread) */
};

/* Deferred answers: the handler thread, the MHD thread that resumes the
 * connection and the thread calling httpd_complete meet under `mu`.
 * `suspended` is set only once the connection really is suspended, so a
 * completion that comes first is queued by the handler's own call; one that
 * comes later resumes the connection, and MHD calls on_request again, which
 * queues it. The state is freed by on_completed, which MHD runs only after
 * the answer went out (never while suspended). */
struct httpd_pending {
    pthread_mutex_t mu;
    bool deferred, suspended, completed;
    httpd_response resp;
};

typedef struct request_state {
    httpd *h;
    struct MHD_Connection *conn;
    struct httpd_pending pending;
    uint64_t reserved; /* counted against h->inflight */
    bool over_budget;
    char *raw_path;  /* as sent, before decoding; the query is cut off */
    char *sent_path; /* a copy of raw_path kept undecoded (raw_path is decoded in place) */
    char *raw_query; /* after '?', as sent (not decoded); "" when none */
    bool started;    /* the access handler has seen the headers */
    bool chunked;    /* no Content-Length: the budget is taken chunk by chunk */
    bool too_large;
    bool drain_all; /* a declared length over the bound: read all of it, then 413 */
    size_t drained; /* bytes read and dropped after the bound was passed */
    buf body;
} request_state;

/* ---- listen address ------------------------------------------------------- */

int httpd_parse_listen(const char *listen, char *host, size_t host_len, uint16_t *port,
                       sluice_error *err)
{
    if (!listen || !*listen) return sluice_error_set(err, SLUICE_EINVAL, "listen address is empty");
    const char *host_start = listen, *host_end, *colon;
    if (*listen == '[') {
        host_start = listen + 1;
        host_end = strchr(host_start, ']');
        if (!host_end || host_end[1] != ':')
            return sluice_error_set(err, SLUICE_EINVAL, "listen address '%s': want [ipv6]:port",
                                    listen);
        colon = host_end + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            return sluice_error_set(err, SLUICE_EINVAL, "listen address '%s': want host:port",
                                    listen);
        host_end = colon;
        if (memchr(listen, ':', (size_t)(colon - listen)))
            return sluice_error_set(err, SLUICE_EINVAL,
                                    "listen address '%s': put an IPv6 address in brackets", listen);
    }
    size_t n = (size_t)(host_end - host_start);
    if (n == 0)
        return sluice_error_set(err, SLUICE_EINVAL, "listen address '%s': host is empty", listen);
    if (n >= host_len)
        return sluice_error_set(err, SLUICE_EINVAL, "listen address '%s': host too long", listen);
    const char *p = colon + 1;
    unsigned long v = 0;
    if (!*p)
        return sluice_error_set(err, SLUICE_EINVAL, "listen address '%s': port is empty", listen);
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || (v = v * 10 + (unsigned long)(*p - '0')) > 65535)
            return sluice_error_set(err, SLUICE_EINVAL,
                                    "listen address '%s': port must be 0..65535", listen);
    }
    memcpy(host, host_start, n);
    host[n] = '\0';
    *port = (uint16_t)v;
    return 0;
}

/* Numeric addresses directly; a name ("localhost") through the resolver. */
static int resolve_listen(const char *host, uint16_t port, struct sockaddr_storage *ss,
                          sluice_error *err)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res)
        return sluice_error_set(err, SLUICE_EINVAL, "listen host '%s': %s", host, gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    if (ss->ss_family == AF_INET)
        v4->sin_port = htons(port);
    else
        v6->sin6_port = htons(port);
    freeaddrinfo(res);
    return 0;
}

/* ---- request accessors and response helpers ------------------------------ */

/* A request without a connection is one a unit test built by hand to call a
 * handler directly: it simply has no headers or query arguments. */
const char *httpd_request_header(const httpd_request *req, const char *name)
{
    if (!req->internal) return NULL;
    return MHD_lookup_connection_value(req->internal, MHD_HEADER_KIND, name);
}

const char *httpd_request_query(const httpd_request *req, const char *name)
{
    if (!req->internal) return NULL;
    return MHD_lookup_connection_value(req->internal, MHD_GET_ARGUMENT_KIND, name);
}

struct each_header {
    int (*fn)(void *opaque, const char *name, const char *value);
    void *opaque;
};

static enum MHD_Result each_header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct each_header *e = cls;
    return e->fn(e->opaque, key, value ? value : "") ? MHD_NO : MHD_YES;
}

void httpd_request_each_header(const httpd_request *req,
                               int (*fn)(void *opaque, const char *name, const char *value),
                               void *opaque)
{
    if (!req->internal) return;
    struct each_header e = {fn, opaque};
    MHD_get_connection_values(req->internal, MHD_HEADER_KIND, each_header_cb, &e);
}

void httpd_respond(httpd_response *resp, int status, const char *content_type, const char *body,
                   size_t len)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->status = status;
    resp->content_type = content_type;
    if (len == 0) return;
    resp->body = malloc(len);
    if (!resp->body) {
        resp->status = 500;
        resp->content_type = NULL;
        return;
    }
    memcpy(resp->body, body, len);
    resp->body_len = len;
}

void httpd_respond_printf(httpd_response *resp, int status, const char *content_type,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    if (n < 0) {
        resp->status = 500;
        resp->content_type = NULL;
        return;
    }
    resp->status = status;
    resp->content_type = content_type;
    resp->body = text;
    resp->body_len = (size_t)n;
}

void httpd_add_header(httpd_response *resp, const char *name, const char *value)
{
    /* A CR or LF would let a value inject headers; such values are a bug. */
    if (resp->n_headers >= HTTPD_MAX_RESPONSE_HEADERS || strpbrk(value, "\r\n") ||
        strlen(value) >= sizeof resp->headers[0].value) {
        sluice_log(SLUICE_LOG_WARN, "httpd",
                   "response header dropped (too many, too long or CR/LF)", "name", name, NULL);
        return;
    }
    resp->headers[resp->n_headers].name = name;
    snprintf(resp->headers[resp->n_headers].value, sizeof resp->headers[0].value, "%s", value);
    resp->n_headers++;
}

/* ---- request plumbing ----------------------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode %XX in place. Fails on a malformed escape or an encoded NUL, which
 * would otherwise cut the path short in every later strcmp. */
static bool percent_decode_path(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        int hi = hex_value(r[1]), lo = hi < 0 ? -1 : hex_value(r[2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
        *w++ = (char)(hi * 16 + lo);
        r += 2;
    }
    *w = '\0';
    return true;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    httpd *h = cls;
    request_state *st = calloc(1, sizeof *st);
    if (!st) return NULL; /* the access handler answers 500 */
    st->h = h;
    st->conn = conn;
    pthread_mutex_init(&st->pending.mu, NULL);
    /* absolute-form ("http://host/path") is legal in a request line */
    const char *path = uri;
    const char *scheme = strstr(uri, "://");
    if (scheme && uri[0] != '/') {
        path = strchr(scheme + 3, '/');
        if (!path) path = "/";
    }
    size_t n = strcspn(path, "?#");
    st->raw_path = strndup(path, n);
    const char *q = path[n] == '?' ? path + n + 1 : "";
    st->raw_query = strndup(q, strcspn(q, "#"));
    /* + 1: buf keeps room for the NUL the handler gets after the body */
    buf_init(&st->body, h->max_body_bytes < SIZE_MAX ? h->max_body_bytes + 1 : SIZE_MAX);
    return st;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    request_state *st = *con_cls;
    if (!st) return;
    if (st->reserved) atomic_fetch_sub(&st->h->inflight, st->reserved);
    free(st->pending.resp.body);
    pthread_mutex_destroy(&st->pending.mu);
    buf_free(&st->body);
    free(st->raw_path);
    free(st->sent_path);
    free(st->raw_query);
    free(st);
    *con_cls = NULL;
}

static enum MHD_Result queue(struct MHD_Connection *conn, httpd_response *resp)
{
    struct MHD_Response *r;
    if (resp->body_len > 0) {
        r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
        if (r) resp->body = NULL; /* MHD frees it now */
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    free(resp->body);
    resp->body = NULL;
    if (!r) return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (int i = 0; i < resp->n_headers && i < HTTPD_MAX_RESPONSE_HEADERS; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result queue_error(struct MHD_Connection *conn, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result queue_error_v(struct MHD_Connection *conn, int status,
                                     unsigned retry_after_s, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Errors we answer ourselves use the registry's error shape, which every
 * sluice client already parses. */
static enum MHD_Result queue_error(struct MHD_Connection *conn, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result rc = queue_error_v(conn, status, 0, fmt, ap);
    va_end(ap);
    return rc;
}

static enum MHD_Result queue_error_retry(struct MHD_Connection *conn, int status,
                                         unsigned retry_after_s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result queue_error_retry(struct MHD_Connection *conn, int status,
                                         unsigned retry_after_s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result rc = queue_error_v(conn, status, retry_after_s, fmt, ap);
    va_end(ap);
    return rc;
}

static enum MHD_Result queue_busy(struct MHD_Connection *conn, const httpd *h)
{
    return queue_error_retry(conn, 429, h->retry_after_s,
                             "too many bytes in flight (limit %llu); retry later",
                             (unsigned long long)h->inflight_limit);
}

/* Count n more bytes of this request against the server's budget. */
static bool reserve(request_state *st, uint64_t n)
{
    httpd *h = st->h;
    if (!h->inflight_limit) return true;
    uint64_t cur = atomic_load(&h->inflight);
    do {
        if (cur + n > h->inflight_limit || cur + n < cur) return false;
    } while (!atomic_compare_exchange_weak(&h->inflight, &cur, cur + n));
    st->reserved += n;
    return true;
}

int httpd_take_body(const httpd_request *req, buf *out)
{
    request_state *st = req->state;
    if (!st || (const char *)st->body.data != req->body) return -1;
    buf_free(out);
    *out = st->body;
    buf_init(&st->body, 0);
    return 0;
}

int httpd_reserve(const httpd_request *req, uint64_t n)
{
    request_state *st = req->state;
    if (!st) return 0;
    return reserve(st, n) ? 0 : -1;
}

uint64_t httpd_inflight_bytes(const httpd *h)
{
    return h ? atomic_load(&h->inflight) : 0;
}

httpd_pending *httpd_defer(const httpd_request *req)
{
    request_state *st = req->state;
    if (!st) return NULL;
    st->pending.deferred = true;
    return &st->pending;
}

void httpd_complete(httpd_pending *p, httpd_response *resp)
{
    request_state *st = (request_state *)((char *)p - offsetof(request_state, pending));
    pthread_mutex_lock(&p->mu);
    p->resp = *resp;
    resp->body = NULL;
    p->completed = true;
    if (p->suspended) {
        p->suspended = false;
        MHD_resume_connection(st->conn);
    }
    pthread_mutex_unlock(&p->mu);
}

static enum MHD_Result queue_error_v(struct MHD_Connection *conn, int status,
                                     unsigned retry_after_s, const char *fmt, va_list ap)
{
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    buf b;
    buf_init(&b, 1024);
    buf_printf(&b, "{\"error_code\":%d,\"message\":", status);
    buf_append_json_string(&b, msg, strlen(msg));
    buf_append_byte(&b, '}');
    httpd_response resp = {.status = status, .content_type = "application/json"};
    resp.body = buf_detach(&b, &resp.body_len);
    if (!resp.body) resp.body_len = 0;
    if (retry_after_s) {
        char v[16];
        snprintf(v, sizeof v, "%u", retry_after_s);
        httpd_add_header(&resp, "Retry-After", v);
    }
    return queue(conn, &resp);
}

/* The request's Content-Length, or -1 if it has none (chunked) or it does
 * not fit in 63 bits. */
static long long content_length(struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl) return -1;
    unsigned long long v = 0;
    for (const char *p = cl; *p >= '0' && *p <= '9'; p++) {
        if (v > (~0ull >> 1) / 10 - 9) return (long long)(~0ull >> 1);
        v = v * 10 + (unsigned)(*p - '0');
    }
    return (long long)v;
}

/* The client waits for "100 Continue" before sending its body: a 413 now
 * costs it nothing. */
static bool expects_continue(struct MHD_Connection *conn)
{
    const char *e = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    return e && strcasecmp(e, "100-continue") == 0;
}

/* With a client CA configured, MHD asks for a certificate during the
 * handshake but does not insist; this is where we insist. */
static bool client_cert_verified(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session) return false;
    gnutls_session_t session = (gnutls_session_t)ci->tls_session;
    unsigned int n = 0;
    if (!gnutls_certificate_get_peers(session, &n) || n == 0) return false;
    unsigned int status = 0;
    return gnutls_certificate_verify_peers2(session, &status) == GNUTLS_E_SUCCESS && status == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)url; /* MHD's leniently decoded copy; we decode raw_path instead */
    (void)version;
    httpd *h = cls;
    request_state *st = *con_cls;
    if (!st || !st->raw_path || !st->raw_query) return queue_error(conn, 500, "out of memory");

    if (st->pending.deferred) {
        /* Called again after httpd_complete resumed the connection. */
        pthread_mutex_lock(&st->pending.mu);
        bool done = st->pending.completed;
        pthread_mutex_unlock(&st->pending.mu);
        return done ? queue(conn, &st->pending.resp) : MHD_YES;
    }

    if (!st->started) {
        st->started = true;
        if (h->require_client_cert && !client_cert_verified(conn))
            return queue_error(conn, 403,
                               "a client certificate signed by the configured CA is required");
        long long cl = content_length(conn);
        if (cl > 0 && (unsigned long long)cl > h->max_body_bytes) {
            if ((unsigned long long)cl - h->max_body_bytes > DRAIN_LIMIT || expects_continue(conn))
                return queue_error(conn, 413, "request body larger than %zu bytes",
                                   h->max_body_bytes);
            st->too_large = true; /* read it, drop it, then answer */
            st->drain_all = true;
            buf_free(&st->body);
            return MHD_YES;
        }
        /* The whole declared body is counted before any of it is read. */
        if (cl > 0 && !reserve(st, (uint64_t)cl)) return queue_busy(conn, h);
        /* The body's whole size at once, so it is not copied as it grows
         * (it is counted against the budget already; buf keeps a spare byte for the NUL). */
        if (cl > 0 && buf_reserve(&st->body, (size_t)cl) != 0)
            return queue_error(conn, 500, "out of memory");
        st->chunked = cl < 0;
        return MHD_YES;
    }

    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->chunked && !st->too_large && !st->over_budget && !reserve(st, n)) {
            st->over_budget = true;
            buf_free(&st->body);
        }
        if (!st->too_large && !st->over_budget && buf_append(&st->body, upload_data, n) != 0) {
            st->too_large = true;
            buf_free(&st->body);
        }
        if (st->too_large || st->over_budget) {
            st->drained += n;
            if (st->drained > DRAIN_LIMIT && !st->drain_all)
                return MHD_NO; /* cut the connection: not worth reading on */
        }
        return MHD_YES;
    }

    if (st->too_large)
        return queue_error(conn, 413, "request body larger than %zu bytes", h->max_body_bytes);
    if (st->over_budget) return queue_busy(conn, h);
    free(st->sent_path);
    st->sent_path = strdup(st->raw_path);
    if (!st->sent_path) return queue_error(conn, 500, "out of memory");
    if (!percent_decode_path(st->raw_path))
        return queue_error(conn, 400, "invalid percent-encoding in request path");

    size_t body_len = st->body.len;
    if (buf_reserve(&st->body, 0) != 0) return queue_error(conn, 500, "out of memory");
    st->body.data[body_len] = '\0';
    httpd_request req = {
        .method = method,
        .path = st->raw_path,
        .raw_path = st->sent_path,
        .raw_query = st->raw_query,
        .body = (const char *)st->body.data,
        .body_len = body_len,
        .internal = conn,
        .state = st,
    };
    httpd_response resp = {0};
    h->handler(h->opaque, &req, &resp);
    if (st->pending.deferred) {
        free(resp.body);
        pthread_mutex_lock(&st->pending.mu);
        if (st->pending.completed) {
            pthread_mutex_unlock(&st->pending.mu);
            return queue(conn, &st->pending.resp);
        }
        MHD_suspend_connection(conn);
        st->pending.suspended = true;
        pthread_mutex_unlock(&st->pending.mu);
        return MHD_YES;
    }
    if (resp.status < 100 || resp.status > 999) {
        free(resp.body);
        char status[16];
        snprintf(status, sizeof status, "%d", resp.status);
        sluice_log(SLUICE_LOG_ERROR, "httpd", "handler left no valid status; answering 500",
                   "server", h->name, "method", method, "path", st->raw_path, "status", status,
                   NULL);
        return queue_error(conn, 500, "internal error: handler gave no response");
    }
    return queue(conn, &resp);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    httpd *h = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sluice_log(SLUICE_LOG_WARN, "httpd", "libmicrohttpd", "server", h->name, "detail", msg, NULL);
}

/* ---- lifecycle ------------------------------------------------------------ */

static char *read_pem(const char *path, const char *what, const char *server, sluice_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sluice_error_set(err, SLUICE_ECONFIG, "httpd %s: cannot open %s %s", server, what, path);
        return NULL;
    }
    buf b;
    buf_init(&b, 1 << 20); /* a PEM bundle over 1 MiB is not a certificate */
    char chunk[4096];
    size_t got;
    int rc = 0;
    while (rc == 0 && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(&b, chunk, got);
    fclose(f);
    if (rc) {
        buf_free(&b);
        sluice_error_set(err, SLUICE_ECONFIG, "httpd %s: %s %s is larger than 1 MiB", server, what,
                         path);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

static void free_tls(httpd *h)
{
    free(h->tls_cert);
    free(h->tls_key);
    free(h->tls_trust);
}

static int load_tls(httpd *h, const httpd_config *cfg, sluice_error *err)
{
    if (!cfg->tls_cert_file || !cfg->tls_key_file)
        return sluice_error_set(err, SLUICE_ECONFIG,
                                "httpd %s: TLS needs both a certificate and a key file", h->name);
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return sluice_error_set(err, SLUICE_EUNSUPPORTED,
                                "httpd %s: this libmicrohttpd has no TLS support", h->name);
    h->tls_cert = read_pem(cfg->tls_cert_file, "certificate", h->name, err);
    h->tls_key = h->tls_cert ? read_pem(cfg->tls_key_file, "key", h->name, err) : NULL;
    if (!h->tls_key) return SLUICE_ECONFIG;
    if (cfg->tls_client_ca_file) {
        h->tls_trust = read_pem(cfg->tls_client_ca_file, "client CA", h->name, err);
        if (!h->tls_trust) return SLUICE_ECONFIG;
        h->require_client_cert = true;
    }
    return 0;
}

/* The address a handed-over socket listens on, for logs and the port. */
static int socket_address(int fd, struct sockaddr_storage *addr, char *host, size_t host_len,
                          uint16_t *port, sluice_error *err)
{
    socklen_t len = sizeof *addr;
    memset(addr, 0, sizeof *addr);
    if (getsockname(fd, (struct sockaddr *)addr, &len) != 0)
        return sluice_error_set(err, SLUICE_EIO, "httpd: handed-over socket: %s", strerror(errno));
    const void *a = addr->ss_family == AF_INET6
                        ? (const void *)&((struct sockaddr_in6 *)addr)->sin6_addr
                        : (const void *)&((struct sockaddr_in *)addr)->sin_addr;
    if (!inet_ntop(addr->ss_family, a, host, (socklen_t)host_len)) snprintf(host, host_len, "?");
    *port = ntohs(addr->ss_family == AF_INET6 ? ((struct sockaddr_in6 *)addr)->sin6_port
                                              : ((struct sockaddr_in *)addr)->sin_port);
    return 0;
}

int httpd_start(const httpd_config *cfg, httpd **out, sluice_error *err)
{
    *out = NULL;
    int handed = cfg->listen_fd > 0 ? cfg->listen_fd : -1;
    int rc = 0;
    if (!cfg->handler || cfg->threads < 1)
        rc = sluice_error_set(err, SLUICE_EINVAL, "httpd %s: need a handler and threads >= 1",
                              cfg->name ? cfg->name : "?");
    char host[128];
    uint16_t port = 0;
    struct sockaddr_storage addr;
    if (rc == 0 && handed >= 0) {
        rc = socket_address(handed, &addr, host, sizeof host, &port, err);
    } else if (rc == 0) {
        rc = httpd_parse_listen(cfg->listen, host, sizeof host, &port, err);
        if (rc == 0) rc = resolve_listen(host, port, &addr, err);
    }
    httpd *h = rc ? NULL : calloc(1, sizeof *h);
    if (!h) {
        if (handed >= 0) close(handed);
        return rc ? rc : sluice_error_set(err, SLUICE_ENOMEM, "httpd: out of memory");
    }
    h->handler = cfg->handler;
    h->opaque = cfg->opaque;
    h->max_body_bytes = cfg->max_body_bytes;
    h->inflight_limit = cfg->inflight_limit;
    h->retry_after_s = cfg->retry_after_s ? cfg->retry_after_s : 1;
    atomic_init(&h->inflight, 0);
    snprintf(h->name, sizeof h->name, "%s", cfg->name ? cfg->name : "httpd");

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
    if (addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;

    struct MHD_OptionItem opts[12];
    int n = 0;
    if (cfg->tls_cert_file || cfg->tls_key_file || cfg->tls_client_ca_file) {
        rc = load_tls(h, cfg, err);
        if (rc) {
            free_tls(h);
            free(h);
            if (handed >= 0) close(handed);
            return rc;
        }
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key};
        if (h->tls_trust)
            opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, h->tls_trust};
    }
    if (handed >= 0)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, handed, NULL};
    else
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &addr};
    if (cfg->threads > 1)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL};
    if (cfg->max_connections > 0)
        opts[n++] =
            (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL};
    /* MHD's own default is no timeout at all: an idle client would hold a
     * connection slot forever, so 0 here means DEFAULT_TIMEOUT_S instead. */
    unsigned timeout = cfg->connection_timeout_s ? cfg->connection_timeout_s : DEFAULT_TIMEOUT_S;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, timeout, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    /* The logger goes first: MHD only routes messages about later options
     * through it. */
    h->daemon = MHD_start_daemon(
        flags, handed >= 0 ? 0 : port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, h, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!h->daemon) {
        free_tls(h);
        free(h);
        if (handed >= 0) close(handed);
        return sluice_error_set(err, SLUICE_EIO, "httpd %s: cannot listen on %s",
                                cfg->name ? cfg->name : "httpd",
                                handed >= 0 ? "a handed-over socket" : cfg->listen);
    }
    if (handed < 0) {
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
        h->port = info ? info->port : port;
    } else {
        h->port = port;
    }

    char threads[16];
    if (addr.ss_family == AF_INET6)
        snprintf(h->listen, sizeof h->listen, "[%s]:%u", host, h->port);
    else
        snprintf(h->listen, sizeof h->listen, "%s:%u", host, h->port);
    snprintf(threads, sizeof threads, "%u", cfg->threads);
    sluice_log(SLUICE_LOG_INFO, h->name, "listening", "addr", h->listen, "threads", threads, "poll",
               (flags & MHD_USE_EPOLL) ? "epoll" : "poll", "socket",
               handed >= 0 ? "handed over" : "new", NULL);
    *out = h;
    return 0;
}

uint16_t httpd_port(const httpd *h)
{
    return h ? h->port : 0;
}

/* MHD would return the socket again from a second quiesce: only the
 * first one gives it up. Connections the kernel completed but nobody
 * accepted yet would be reset by the close; they are accepted and served
 * like the others first (a handler sees them as any late request), so
 * only one arriving in the instant between the last accept and the close
 * can still be reset. */
void httpd_quiesce(httpd *h)
{
    if (!h || h->quiesced) return;
    h->quiesced = true;
    MHD_socket fd = MHD_quiesce_daemon(h->daemon);
    if (fd == MHD_INVALID_SOCKET) return;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        close(fd);
        return;
    }
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int c = accept4(fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            break; /* EAGAIN: the queue is empty */
        }
        /* MHD closes the socket itself when it cannot take it. */
        (void)MHD_add_connection(h->daemon, c, (struct sockaddr *)&peer, len);
    }
    close(fd);
}

int httpd_hand_over(httpd *h)
{
    if (!h || h->quiesced) return -1;
    MHD_socket fd = MHD_quiesce_daemon(h->daemon);
    if (fd == MHD_INVALID_SOCKET) return -1;
    h->quiesced = true;
    sluice_log(SLUICE_LOG_INFO, h->name, "handing over the listening socket", "addr", h->listen,
               NULL);
    return fd;
}

unsigned httpd_connections(const httpd *h)
{
    if (!h) return 0;
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info ? info->num_connections : 0;
}

void httpd_stop(httpd *h)
{
    if (!h) return;
    MHD_stop_daemon(h->daemon);
    sluice_log(SLUICE_LOG_INFO, h->name, "stopped", "addr", h->listen, NULL);
    free_tls(h);
    free(h);
}
