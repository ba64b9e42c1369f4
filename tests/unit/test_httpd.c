/*
 * test_httpd.c — the HTTP server wrapper, spoken to over real loopback
 * sockets with libcurl: echo of method/path/query/headers/body, strict
 * percent-decoding, the body bound (Content-Length and chunked), keep-alive
 * reuse, handler-chosen and missing statuses, binding only where told
 * (127.0.0.1 and [::1]), and stopping with and without open connections.
 * The server runs on libmicrohttpd's threads; the test drives it from main.
 */
#include "test.h"

#include "common/httpd.h"

#include <curl/curl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_BODY 1024

static _Atomic int g_handler_calls;

static void handler(void *opaque, const httpd_request *req, httpd_response *resp)
{
    (void)opaque;
    atomic_fetch_add(&g_handler_calls, 1);
    if (strcmp(req->path, "/missing") == 0) {
        httpd_respond_printf(resp, 404, "application/json", "{\"error_code\":%d}", 40401);
        return;
    }
    if (strcmp(req->path, "/nostatus") == 0) {
        resp->body = strdup("lost"); /* must still be freed by the server */
        resp->body_len = 4;
        return;
    }
    if (strcmp(req->path, "/empty") == 0) {
        httpd_respond(resp, 204, NULL, NULL, 0);
        return;
    }
    const char *q = httpd_request_query(req, "q");
    const char *hdr = httpd_request_header(req, "x-test"); /* sent as X-Test */
    httpd_respond_printf(resp, 200, "text/plain",
                         "method=%s path=%s q=%s hdr=%s len=%zu nul=%d body=%s", req->method,
                         req->path, q ? q : "-", hdr ? hdr : "-", req->body_len,
                         req->body[req->body_len] == '\0', req->body);
    httpd_add_header(resp, "X-Served-By", "sluice-test");
    httpd_add_header(resp, "X-Bad", "a\r\nInjected: yes"); /* refused */
}

static httpd *start(const char *listen, sluice_error *err)
{
    httpd_config cfg = {
        .listen = listen,
        .max_body_bytes = MAX_BODY,
        .threads = 2,
        .max_connections = 16,
        .connection_timeout_s = 5,
        .handler = handler,
        .name = "test",
    };
    httpd *h = NULL;
    return httpd_start(&cfg, &h, err) == 0 ? h : NULL;
}

typedef struct reply {
    long status;
    char body[4096];
    size_t len;
    char headers[4096];
    size_t hlen;
} reply;

static size_t collect_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n;
    size_t room = sizeof r->body - 1 - r->len;
    size_t take = len < room ? len : room;
    memcpy(r->body + r->len, p, take);
    r->len += take;
    r->body[r->len] = '\0';
    return len;
}

static size_t collect_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n;
    size_t room = sizeof r->headers - 1 - r->hlen;
    size_t take = len < room ? len : room;
    memcpy(r->headers + r->hlen, p, take);
    r->hlen += take;
    r->headers[r->hlen] = '\0';
    return len;
}

/* A chunked upload of `left` bytes of 'x'. */
typedef struct upload {
    size_t left;
} upload;

static size_t read_upload(char *p, size_t size, size_t n, void *ud)
{
    upload *u = ud;
    size_t len = size * n;
    if (len > 700) len = 700; /* several chunks */
    if (len > u->left) len = u->left;
    memset(p, 'x', len);
    u->left -= len;
    return len;
}

/* One request on `curl` (reused across calls for keep-alive). */
static CURLcode perform(CURL *curl, const char *url, const char *post, long post_len,
                        struct curl_slist *headers, reply *r)
{
    memset(r, 0, sizeof *r);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    if (post) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, post_len);
    } else {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    return rc;
}

static void url_for(char *out, size_t len, const httpd *h, const char *path)
{
    snprintf(out, len, "http://127.0.0.1:%u%s", httpd_port(h), path);
}

static void test_parse_listen(void)
{
    char host[64];
    uint16_t port = 1;
    sluice_error err = {0};
    CHECK_EQ(httpd_parse_listen("127.0.0.1:8081", host, sizeof host, &port, &err), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_EQ(port, 8081);
    CHECK_EQ(httpd_parse_listen("[::1]:0", host, sizeof host, &port, &err), 0);
    CHECK_STR(host, "::1");
    CHECK_EQ(port, 0);
    CHECK_EQ(httpd_parse_listen("localhost:65535", host, sizeof host, &port, &err), 0);
    CHECK_STR(host, "localhost");
    CHECK_EQ(port, 65535);

    CHECK_EQ(httpd_parse_listen("127.0.0.1:65536", host, sizeof host, &port, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "listen address '127.0.0.1:65536': port must be 0..65535");
    CHECK_EQ(httpd_parse_listen("127.0.0.1", host, sizeof host, &port, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "want host:port");
    CHECK_EQ(httpd_parse_listen("::1:80", host, sizeof host, &port, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "put an IPv6 address in brackets");
    CHECK_EQ(httpd_parse_listen("[::1]80", host, sizeof host, &port, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "want [ipv6]:port");
    CHECK_EQ(httpd_parse_listen(":80", host, sizeof host, &port, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "host is empty");
    CHECK_EQ(httpd_parse_listen("1.2.3.4:", host, sizeof host, &port, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "port is empty");
    CHECK_EQ(httpd_parse_listen("1.2.3.4:8o", host, sizeof host, &port, &err), SLUICE_EINVAL);
    CHECK_EQ(httpd_parse_listen("127.0.0.1:80", host, 5, &port, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "host too long");
    CHECK_EQ(httpd_parse_listen("", host, sizeof host, &port, &err), SLUICE_EINVAL);
}

static void test_get_and_post_echo(void)
{
    sluice_error err = {0};
    httpd *h = start("127.0.0.1:0", &err);
    CHECK(h != NULL);
    CHECK(httpd_port(h) != 0);
    CURL *curl = curl_easy_init();
    char url[256];
    reply r;
    struct curl_slist *hdrs = curl_slist_append(NULL, "X-Test: yes please");

    url_for(url, sizeof url, h, "/echo/a%20b%2Fc?q=hello%20world&other=1");
    CHECK_EQ(perform(curl, url, NULL, 0, hdrs, &r), CURLE_OK);
    CHECK_EQ(r.status, 200);
    CHECK_STR(r.body, "method=GET path=/echo/a b/c q=hello world hdr=yes please len=0 nul=1 body=");
    CHECK_CONTAINS(r.headers, "Content-Type: text/plain\r\n");
    CHECK_CONTAINS(r.headers, "X-Served-By: sluice-test\r\n");
    CHECK(strstr(r.headers, "Injected") == NULL);

    url_for(url, sizeof url, h, "/v1/topics/events");
    CHECK_EQ(perform(curl, url, "{\"a\":1}", 7, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 200);
    CHECK_STR(r.body, "method=POST path=/v1/topics/events q=- hdr=- len=7 nul=1 body={\"a\":1}");

    /* exactly at the bound is accepted */
    char *big = malloc(MAX_BODY + 1);
    memset(big, 'y', MAX_BODY);
    big[MAX_BODY] = '\0';
    CHECK_EQ(perform(curl, url, big, MAX_BODY, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 200);
    CHECK_CONTAINS(r.body, "len=1024 nul=1 body=yyyy");
    free(big);

    url_for(url, sizeof url, h, "/empty");
    CHECK_EQ(perform(curl, url, NULL, 0, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 204);
    CHECK_EQ(r.len, 0);

    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    httpd_stop(h);
}

static void test_bad_percent_encoding_is_400(void)
{
    sluice_error err = {0};
    httpd *h = start("127.0.0.1:0", &err);
    CHECK(h != NULL);
    CURL *curl = curl_easy_init();
    char url[256];
    reply r;
    int calls = atomic_load(&g_handler_calls);
    static const char *const bad[] = {"/a%zz", "/a%2", "/a%00b", "/%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        url_for(url, sizeof url, h, bad[i]);
        CHECK_EQ(perform(curl, url, NULL, 0, NULL, &r), CURLE_OK);
        CHECK_EQ(r.status, 400);
        CHECK_STR(r.body, "{\"error_code\":400,\"message\":\"invalid percent-encoding in request "
                          "path\"}");
    }
    CHECK_EQ(atomic_load(&g_handler_calls), calls);
    /* '+' is not a space in a path; %2B is a plus */
    url_for(url, sizeof url, h, "/a+b%2Bc");
    CHECK_EQ(perform(curl, url, NULL, 0, NULL, &r), CURLE_OK);
    CHECK_CONTAINS(r.body, "path=/a+b+c ");
    curl_easy_cleanup(curl);
    httpd_stop(h);
}

static void test_oversized_body_is_413(void)
{
    sluice_error err = {0};
    httpd *h = start("127.0.0.1:0", &err);
    CHECK(h != NULL);
    CURL *curl = curl_easy_init();
    char url[256];
    reply r;
    url_for(url, sizeof url, h, "/v1/topics/big");
    int calls = atomic_load(&g_handler_calls);
    const char *expect = "{\"error_code\":413,\"message\":\"request body larger than 1024 bytes\"}";

    /* with Content-Length: refused before the body is read */
    size_t n = 64 * 1024;
    char *big = malloc(n);
    memset(big, 'z', n);
    CHECK_EQ(perform(curl, url, big, (long)n, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 413);
    CHECK_STR(r.body, expect);
    CHECK_CONTAINS(r.headers, "Content-Type: application/json\r\n");
    free(big);

    /* one byte over */
    char over[MAX_BODY + 1];
    memset(over, 'o', sizeof over);
    CHECK_EQ(perform(curl, url, over, (long)sizeof over, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 413);

    /* chunked: no length up front, refused once the bound is passed */
    upload u = {.left = 20000};
    struct curl_slist *hdrs = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    memset(&r, 0, sizeof r);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &u);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    CHECK_EQ(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    CHECK_EQ(r.status, 413);
    CHECK_STR(r.body, expect);

    /* a chunked body within the bound goes through */
    u.left = 1000;
    memset(&r, 0, sizeof r);
    CHECK_EQ(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    CHECK_EQ(r.status, 200);
    CHECK_CONTAINS(r.body, "method=POST path=/v1/topics/big q=- hdr=- len=1000 nul=1 body=xxx");

    CHECK_EQ(atomic_load(&g_handler_calls), calls + 1); /* only the last one */

    /* an endless chunked upload is not drained for ever: past the bound plus
     * 16 MiB the server drops the connection without calling the handler */
    u.left = 20u << 20;
    memset(&r, 0, sizeof r);
    CHECK(curl_easy_perform(curl) != CURLE_OK);
    CHECK_EQ(atomic_load(&g_handler_calls), calls + 1);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    httpd_stop(h);
}

/* The 413 for a declared length must come before any body is sent: a client
 * announcing 100 MB and sending nothing still gets its answer. */
static void test_content_length_refused_up_front(void)
{
    sluice_error err = {0};
    httpd *h = start("127.0.0.1:0", &err);
    CHECK(h != NULL);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(httpd_port(h))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const char *req = "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n";
    CHECK_EQ(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    char resp[2048];
    size_t got = 0;
    for (;;) {
        ssize_t n = recv(fd, resp + got, sizeof resp - 1 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
        resp[got] = '\0';
        if (strstr(resp, "bytes\"}")) break;
    }
    resp[got] = '\0';
    close(fd);
    CHECK_CONTAINS(resp, "HTTP/1.1 413 ");
    CHECK_CONTAINS(resp,
                   "{\"error_code\":413,\"message\":\"request body larger than 1024 bytes\"}");
    httpd_stop(h);
}

static void test_keep_alive_reuses_connection(void)
{
    sluice_error err = {0};
    httpd *h = start("127.0.0.1:0", &err);
    CHECK(h != NULL);
    CURL *curl = curl_easy_init();
    char url[256];
    reply r;
    long connects = -1;
    url_for(url, sizeof url, h, "/one");
    CHECK_EQ(perform(curl, url, NULL, 0, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 200);
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
    CHECK_EQ(connects, 1);
    CHECK(strstr(r.headers, "Connection: close") == NULL);
    url_for(url, sizeof url, h, "/two");
    CHECK_EQ(perform(curl, url, "abc", 3, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 200);
    CHECK_CONTAINS(r.body, "path=/two ");
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
    CHECK_EQ(connects, 0);
    url_for(url, sizeof url, h, "/missing");
    CHECK_EQ(perform(curl, url, NULL, 0, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 404);
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
    CHECK_EQ(connects, 0); /* an error status keeps the connection too */
    /* stop with the keep-alive connection still open must not hang */
    httpd_stop(h);
    curl_easy_cleanup(curl);
}

static void test_handler_statuses(void)
{
    sluice_error err = {0};
    httpd *h = start("127.0.0.1:0", &err);
    CHECK(h != NULL);
    CURL *curl = curl_easy_init();
    char url[256];
    reply r;
    url_for(url, sizeof url, h, "/missing");
    CHECK_EQ(perform(curl, url, NULL, 0, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 404);
    CHECK_STR(r.body, "{\"error_code\":40401}");
    CHECK_CONTAINS(r.headers, "Content-Type: application/json\r\n");
    url_for(url, sizeof url, h, "/nostatus");
    CHECK_EQ(perform(curl, url, NULL, 0, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 500);
    CHECK_STR(r.body,
              "{\"error_code\":500,\"message\":\"internal error: handler gave no response\"}");
    curl_easy_cleanup(curl);
    httpd_stop(h);
}

static int connect_to(int family, const char *addr, uint16_t port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        inet_pton(AF_INET, addr, &v4->sin_addr);
        len = sizeof *v4;
    } else {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        inet_pton(AF_INET6, addr, &v6->sin6_addr);
        len = sizeof *v6;
    }
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int rc = connect(fd, (struct sockaddr *)&ss, len);
    close(fd);
    return rc;
}

static void test_binds_only_where_told(void)
{
    sluice_error err = {0};
    httpd *h = start("127.0.0.1:0", &err);
    CHECK(h != NULL);
    uint16_t port = httpd_port(h);
    CHECK_EQ(connect_to(AF_INET, "127.0.0.1", port), 0);
    /* 127.0.0.2 is loopback too: reachable only if we had bound 0.0.0.0 */
    CHECK_EQ(connect_to(AF_INET, "127.0.0.2", port), -1);
    httpd_stop(h);

    h = start("[::1]:0", &err);
    CHECK(h != NULL);
    port = httpd_port(h);
    CHECK(port != 0);
    CHECK_EQ(connect_to(AF_INET6, "::1", port), 0);
    CHECK_EQ(connect_to(AF_INET, "127.0.0.1", port), -1);
    CURL *curl = curl_easy_init();
    char url[128];
    reply r;
    snprintf(url, sizeof url, "http://[::1]:%u/six", port);
    CHECK_EQ(perform(curl, url, NULL, 0, NULL, &r), CURLE_OK);
    CHECK_EQ(r.status, 200);
    CHECK_CONTAINS(r.body, "path=/six ");
    curl_easy_cleanup(curl);
    httpd_stop(h);

    /* a port in use is an error naming the address */
    h = start("127.0.0.1:0", &err);
    CHECK(h != NULL);
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%u", httpd_port(h));
    httpd *again = start(taken, &err);
    CHECK(again == NULL);
    CHECK_EQ(err.code, SLUICE_EIO);
    CHECK_CONTAINS(err.msg, "httpd test: cannot listen on 127.0.0.1:");
    httpd_stop(h);

    CHECK(start("nonsense", &err) == NULL);
    CHECK_EQ(err.code, SLUICE_EINVAL);
}

static void test_stop_while_idle(void)
{
    sluice_error err = {0};
    httpd *h = start("127.0.0.1:0", &err);
    CHECK(h != NULL);
    uint16_t port = httpd_port(h);
    httpd_stop(h);
    CHECK_EQ(connect_to(AF_INET, "127.0.0.1", port), -1);
    httpd_stop(NULL);
}

static void test_response_helpers(void)
{
    httpd_response resp = {0};
    httpd_respond(&resp, 201, "text/plain", "abc", 3);
    CHECK_EQ(resp.status, 201);
    CHECK_EQ(resp.body_len, 3);
    CHECK(memcmp(resp.body, "abc", 3) == 0);
    httpd_respond_printf(&resp, 202, "application/json", "{\"n\":%d}", 7); /* replaces */
    CHECK_EQ(resp.status, 202);
    CHECK_EQ(resp.body_len, 7);
    CHECK(memcmp(resp.body, "{\"n\":7}", 7) == 0);
    for (int i = 0; i < HTTPD_MAX_RESPONSE_HEADERS + 2; i++)
        httpd_add_header(&resp, "X-N", "v");
    CHECK_EQ(resp.n_headers, HTTPD_MAX_RESPONSE_HEADERS);
    free(resp.body);

    /* handlers can be unit-tested with a hand-made request */
    httpd_request req = {.method = "GET", .path = "/x", .body = "", .body_len = 0};
    CHECK(httpd_request_header(&req, "Host") == NULL);
    CHECK(httpd_request_query(&req, "q") == NULL);
}

TEST_MAIN(T(test_parse_listen), T(test_get_and_post_echo), T(test_bad_percent_encoding_is_400),
          T(test_oversized_body_is_413), T(test_content_length_refused_up_front),
          T(test_keep_alive_reuses_connection), T(test_handler_statuses),
          T(test_binds_only_where_told), T(test_stop_while_idle), T(test_response_helpers))
