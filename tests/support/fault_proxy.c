/*
 * fault_proxy.c — see fault_proxy.h. Runs on the common httpd (its worker
 * threads call proxy_handle); state shared with the test thread is atomic or
 * under the proxy's mutex.
 *
 * Withheld answers work on the connection's socket, which libmicrohttpd
 * hands out (MHD_CONNECTION_INFO_CONNECTION_FD; httpd_request.internal is
 * the MHD connection): HOLD waits in the handler for the client's side to
 * close (POLLRDHUP), DROP shuts the socket down before libmicrohttpd writes
 * the answer, so the client reads EOF and libmicrohttpd's write fails and
 * closes the connection. The handler blocks its worker thread meanwhile;
 * the proxy has 8.
 */
#include "fault_proxy.h"
#include "support.h"

#include "common/clock.h"
#include "common/httpd.h"

#include <curl/curl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct fault_proxy {
    httpd *server;
    char upstream[256];
    char url[64];
    _Atomic int fail_left;
    _Atomic int fail_status;
    _Atomic int delay_ms;
    _Atomic int serial;
    pthread_mutex_t serial_mu;
    _Atomic uint64_t requests;
    pthread_mutex_t mu;
    char last_auth[256];
    char match[128]; /* statement prefix; "" = every request (under mu) */
    _Atomic uint64_t matched;
    _Atomic int withhold_left;
    _Atomic int withhold_how;
    _Atomic int withhold_max_ms;
    _Atomic uint64_t withheld;
    _Atomic int withheld_status;
};

/* httpd_response.content_type must outlive the handler: keep a few
 * interned copies of the upstream's content types. */
static const char *strdup_static(const char *ct)
{
    static char types[8][128];
    static int n;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    const char *found = NULL;
    for (int i = 0; i < n && !found; i++)
        if (strcmp(types[i], ct) == 0) found = types[i];
    if (!found && n < 8) {
        snprintf(types[n], sizeof types[n], "%s", ct);
        found = types[n++];
    }
    pthread_mutex_unlock(&mu);
    return found ? found : "application/octet-stream";
}

static int request_matches(fault_proxy *p, const httpd_request *req)
{
    const char *stmt = httpd_request_query(req, "query");
    if (!stmt) stmt = req->body ? req->body : "";
    while (*stmt == ' ' || *stmt == '\t' || *stmt == '\n' || *stmt == '\r')
        stmt++;
    pthread_mutex_lock(&p->mu);
    int yes = strncasecmp(stmt, p->match, strlen(p->match)) == 0;
    pthread_mutex_unlock(&p->mu);
    return yes;
}

/* Take one of the pending withholds, if any. */
static int take_one(_Atomic int *left)
{
    int n = atomic_load(left);
    while (n > 0 && !atomic_compare_exchange_weak(left, &n, n - 1)) {
    }
    return n > 0;
}

/* Called once the upstream has answered a request whose answer is withheld. */
static void withhold(fault_proxy *p, const httpd_request *req, int upstream_status)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->internal, MHD_CONNECTION_INFO_CONNECTION_FD);
    int fd = ci ? ci->connect_fd : -1;
    atomic_store(&p->withheld_status, upstream_status);
    atomic_fetch_add(&p->withheld, 1);
    if (fd < 0) return;
    if (atomic_load(&p->withhold_how) == FAULT_PROXY_DROP) {
        shutdown(fd, SHUT_RDWR);
        return;
    }
    /* HOLD: until the client gives up (closes its side) or max_hold_ms. */
    int left_ms = atomic_load(&p->withhold_max_ms);
    while (left_ms > 0) {
        struct pollfd pfd = {fd, POLLRDHUP, 0};
        int step = left_ms < 100 ? left_ms : 100;
        if (poll(&pfd, 1, step) > 0) break;
        left_ms -= step;
    }
}

static void forward(fault_proxy *p, const httpd_request *req, httpd_response *resp,
                    int withhold_answer)
{
    /* httpd hands us the decoded path: escape it again, segment by segment. */
    char url[4096];
    size_t n = (size_t)snprintf(url, sizeof url, "%s", p->upstream);
    for (const unsigned char *q = (const unsigned char *)req->path; *q && n + 4 < sizeof url; q++) {
        if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
            strchr("-._~/", *q))
            url[n++] = (char)*q;
        else
            n += (size_t)snprintf(url + n, sizeof url - n, "%%%02X", *q);
    }
    url[n] = '\0';
    if (req->raw_query && *req->raw_query && n + 1 < sizeof url)
        snprintf(url + n, sizeof url - n, "?%s", req->raw_query);
    CURL *c = curl_easy_init();
    test_grow g = {NULL, 0};
    struct curl_slist *h = NULL;
    const char *ct = httpd_request_header(req, "Content-Type");
    char line[300];
    if (ct) {
        snprintf(line, sizeof line, "Content-Type: %s", ct);
        h = curl_slist_append(h, line);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* A POST or PUT is forwarded with its body even when empty, so that it
     * carries Content-Length: 0 (ClickHouse answers 411 without it). */
    if (req->body_len || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        char *ct_up = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct_up);
        if (withhold_answer) withhold(p, req, (int)status);
        httpd_respond(resp, (int)status,
                      ct_up && *ct_up ? strdup_static(ct_up) : "application/octet-stream",
                      g.p ? g.p : "", g.len);
    } else {
        if (withhold_answer) withhold(p, req, 0);
        httpd_respond_printf(resp, 502, "application/json",
                             "{\"error_code\":502,\"message\":\"upstream down\"}");
    }
    free(g.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void proxy_handle(void *opaque, const httpd_request *req, httpd_response *resp)
{
    fault_proxy *p = opaque;
    atomic_fetch_add(&p->requests, 1);
    int matches = request_matches(p, req);
    if (matches) atomic_fetch_add(&p->matched, 1);
    const char *auth = httpd_request_header(req, "Authorization");
    pthread_mutex_lock(&p->mu);
    snprintf(p->last_auth, sizeof p->last_auth, "%s", auth ? auth : "");
    pthread_mutex_unlock(&p->mu);

    int serial = atomic_load(&p->serial);
    if (serial) pthread_mutex_lock(&p->serial_mu);
    int delay = atomic_load(&p->delay_ms);
    if (delay > 0 && matches) clock_sleep_ms(delay);
    if (take_one(&p->fail_left)) {
        int status = atomic_load(&p->fail_status);
        httpd_respond_printf(resp, status, "application/json",
                             "{\"error_code\":%d,\"message\":\"injected fault\"}",
                             status == 500 ? 50001 : status);
    } else {
        forward(p, req, resp, matches && take_one(&p->withhold_left));
    }
    if (serial) pthread_mutex_unlock(&p->serial_mu);
}

fault_proxy *fault_proxy_start(const char *upstream_base_url)
{
    return fault_proxy_start_tls(upstream_base_url, NULL, NULL, NULL);
}

fault_proxy *fault_proxy_start_tls(const char *upstream_base_url, const char *cert, const char *key,
                                   const char *client_ca)
{
    fault_proxy *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->upstream, sizeof p->upstream, "%s", upstream_base_url);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->serial_mu, NULL);
    httpd_config cfg = {.listen = "127.0.0.1:0",
                        .max_body_bytes = 16 << 20,
                        .threads = 8,
                        .handler = proxy_handle,
                        .opaque = p,
                        .name = "fault-proxy",
                        .tls_cert_file = cert,
                        .tls_key_file = key,
                        .tls_client_ca_file = client_ca};
    sluice_error err;
    if (httpd_start(&cfg, &p->server, &err) != 0) {
        fprintf(stderr, "fault proxy: %s\n", err.msg);
        free(p);
        return NULL;
    }
    snprintf(p->url, sizeof p->url, "%s://127.0.0.1:%u", cert ? "https" : "http",
             (unsigned)httpd_port(p->server));
    return p;
}

void fault_proxy_stop(fault_proxy *p)
{
    if (!p) return;
    httpd_stop(p->server);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

const char *fault_proxy_url(const fault_proxy *p)
{
    return p->url;
}

void fault_proxy_fail_next(fault_proxy *p, int n, int status)
{
    atomic_store(&p->fail_status, status);
    atomic_store(&p->fail_left, n);
}

void fault_proxy_set_delay_ms(fault_proxy *p, int ms)
{
    atomic_store(&p->delay_ms, ms);
}

void fault_proxy_set_serial(fault_proxy *p, int on)
{
    atomic_store(&p->serial, on);
}

uint64_t fault_proxy_requests(const fault_proxy *p)
{
    return atomic_load(&((fault_proxy *)p)->requests);
}

void fault_proxy_last_auth(fault_proxy *p, char *out, size_t n)
{
    pthread_mutex_lock(&p->mu);
    snprintf(out, n, "%s", p->last_auth);
    pthread_mutex_unlock(&p->mu);
}

void fault_proxy_match(fault_proxy *p, const char *prefix)
{
    pthread_mutex_lock(&p->mu);
    snprintf(p->match, sizeof p->match, "%s", prefix ? prefix : "");
    atomic_store(&p->matched, 0);
    pthread_mutex_unlock(&p->mu);
}

uint64_t fault_proxy_matched(const fault_proxy *p)
{
    return atomic_load(&((fault_proxy *)p)->matched);
}

void fault_proxy_withhold_next(fault_proxy *p, int n, fault_proxy_withhold how, int max_hold_ms)
{
    atomic_store(&p->withhold_how, (int)how);
    atomic_store(&p->withhold_max_ms, max_hold_ms);
    atomic_store(&p->withhold_left, n);
}

uint64_t fault_proxy_withheld(const fault_proxy *p)
{
    return atomic_load(&((fault_proxy *)p)->withheld);
}

int fault_proxy_withheld_status(const fault_proxy *p)
{
    return atomic_load(&((fault_proxy *)p)->withheld_status);
}
