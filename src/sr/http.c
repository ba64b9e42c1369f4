/*
 * http.c — libcurl transport for the registry client (design in http.h).
 *
 * Ownership: sr_http owns the handle pool, the URL list copy and the shared
 * request headers. A borrowed easy handle belongs to one thread for the
 * length of one request. Threads: any; requests from many threads run in
 * parallel, each on its own handle.
 */
#include "sr/http.h"

#include "common/backoff.h"
#include "common/buf.h"
#include "common/clock.h"

#include <sluice/log.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sr_http {
    char **urls;
    size_t n_urls;
    _Atomic size_t active; /* index of the URL believed healthy */
    sluice_sr_config cfg;  /* timeouts, auth, TLS; strings point into owned copies below */
    char *username, *password, *ca_file, *cert_file, *key_file, *key_password;
    struct curl_slist *headers;
    sr_http_counters *counters;

    pthread_mutex_t pool_mu;
    CURL **pool;
    size_t pool_len;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_global_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void sr_http_free(sr_http *h)
{
    if (!h) return;
    for (size_t i = 0; i < h->pool_len; i++)
        curl_easy_cleanup(h->pool[i]);
    free(h->pool);
    for (size_t i = 0; i < h->n_urls; i++)
        free(h->urls[i]);
    free(h->urls);
    free(h->username);
    free(h->password);
    free(h->ca_file);
    free(h->cert_file);
    free(h->key_file);
    free(h->key_password);
    curl_slist_free_all(h->headers);
    pthread_mutex_destroy(&h->pool_mu);
    free(h);
}

int sr_http_new(const sluice_sr_config *cfg, sr_http_counters *counters, sr_http **out,
                sluice_error *err)
{
    pthread_once(&curl_once, curl_global_setup);
    if (cfg->n_urls == 0)
        return sluice_error_set(err, SLUICE_EINVAL, "registry client: no registry URL configured");
    sr_http *h = calloc(1, sizeof *h);
    if (!h) return sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
    pthread_mutex_init(&h->pool_mu, NULL);
    h->cfg = *cfg;
    h->counters = counters;
    h->urls = calloc(cfg->n_urls, sizeof *h->urls);
    h->pool = calloc(cfg->max_idle_connections ? cfg->max_idle_connections : 1, sizeof *h->pool);
    if (!h->urls || !h->pool) goto nomem;
    for (size_t i = 0; i < cfg->n_urls; i++) {
        const char *u = cfg->urls[i];
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
            sr_http_free(h);
            return sluice_error_set(err, SLUICE_EINVAL,
                                    "registry client: url '%s' must start with http:// or https://",
                                    u);
        }
        size_t n = strlen(u);
        while (n > 0 && u[n - 1] == '/') /* "http://x/" + "/subjects" must not give "//" */
            n--;
        h->urls[i] = strndup(u, n);
        if (!h->urls[i]) goto nomem;
        h->n_urls++;
    }
    h->username = dup_or_null(cfg->username);
    h->password = dup_or_null(cfg->password);
    h->ca_file = dup_or_null(cfg->ca_file);
    h->cert_file = dup_or_null(cfg->cert_file);
    h->key_file = dup_or_null(cfg->key_file);
    h->key_password = dup_or_null(cfg->key_password);
    h->headers = curl_slist_append(NULL, "Accept: application/vnd.schemaregistry.v1+json, "
                                         "application/vnd.schemaregistry+json, application/json");
    struct curl_slist *more =
        h->headers
            ? curl_slist_append(h->headers, "Content-Type: application/vnd.schemaregistry.v1+json")
            : NULL;
    if (!more) goto nomem;
    h->headers = more;
    if (cfg->bearer_token) {
        size_t n = strlen(cfg->bearer_token) + 32;
        char *line = malloc(n);
        if (!line) goto nomem;
        snprintf(line, n, "Authorization: Bearer %s", cfg->bearer_token);
        more = curl_slist_append(h->headers, line);
        free(line);
        if (!more) goto nomem;
        h->headers = more;
    }
    *out = h;
    return 0;
nomem:
    sr_http_free(h);
    return sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
}

static CURL *borrow_handle(sr_http *h)
{
    CURL *c = NULL;
    pthread_mutex_lock(&h->pool_mu);
    if (h->pool_len > 0) c = h->pool[--h->pool_len];
    pthread_mutex_unlock(&h->pool_mu);
    return c ? c : curl_easy_init();
}

static void return_handle(sr_http *h, CURL *c)
{
    size_t cap = h->cfg.max_idle_connections ? h->cfg.max_idle_connections : 1;
    pthread_mutex_lock(&h->pool_mu);
    if (h->pool_len < cap) {
        h->pool[h->pool_len++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&h->pool_mu);
    if (c) curl_easy_cleanup(c);
}

struct sink {
    buf body;
    int overflow;
};

static size_t write_body(char *p, size_t size, size_t n, void *opaque)
{
    struct sink *s = opaque;
    size_t len = size * n;
    if (buf_append(&s->body, p, len) != 0) {
        s->overflow = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    return len;
}

static void set_common_options(sr_http *h, CURL *c, struct sink *sink)
{
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->cfg.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->cfg.request_timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (h->username) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, h->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->password ? h->password : "");
    }
    if (h->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
    if (h->cert_file) curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert_file);
    if (h->key_file) curl_easy_setopt(c, CURLOPT_SSLKEY, h->key_file);
    if (h->key_password) curl_easy_setopt(c, CURLOPT_KEYPASSWD, h->key_password);
}

static int status_is_retryable(long status)
{
    return status == 408 || status == 429 || status >= 500;
}

/* One attempt against one URL. Returns 0 with a response (any status), or a
 * transport error code with `why` filled. */
static int attempt_once(sr_http *h, const char *url, const char *method, const char *path,
                        const char *body, size_t body_len, sr_http_response *resp,
                        long *retry_after_s, char *why, size_t why_len)
{
    CURL *c = borrow_handle(h);
    if (!c) {
        snprintf(why, why_len, "curl_easy_init failed");
        return SLUICE_ENOMEM;
    }
    curl_easy_reset(c); /* options only: the handle keeps its connections */
    struct sink sink = {.overflow = 0};
    buf_init(&sink.body, h->cfg.max_response_bytes);
    set_common_options(h, c, &sink);

    size_t ulen = strlen(url) + strlen(path) + 1;
    char *full = malloc(ulen);
    if (!full) {
        return_handle(h, c);
        snprintf(why, why_len, "out of memory");
        return SLUICE_ENOMEM;
    }
    snprintf(full, ulen, "%s%s", url, path);
    curl_easy_setopt(c, CURLOPT_URL, full);
    if (strcmp(method, "GET") != 0) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }

    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(c);
    int rc = 0;
    if (cc != CURLE_OK) {
        if (sink.overflow)
            snprintf(why, why_len, "%s: response larger than %zu bytes", url,
                     h->cfg.max_response_bytes);
        else
            snprintf(why, why_len, "%s: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
        rc = cc == CURLE_OPERATION_TIMEDOUT ? SLUICE_ETIMEDOUT
             : sink.overflow                ? SLUICE_ENOMEM
                                            : SLUICE_EIO;
        buf_free(&sink.body);
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_off_t ra = -1;
        if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            *retry_after_s = (long)ra;
        resp->body = buf_detach(&sink.body, &resp->len);
        if (!resp->body) {
            rc = SLUICE_ENOMEM;
            snprintf(why, why_len, "out of memory");
        }
    }
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    free(full);
    return_handle(h, c);
    return rc;
}

int sr_http_request(sr_http *h, sluice_sr_endpoint ep, const char *method, const char *path,
                    const char *body, size_t body_len, sr_http_response *resp, sluice_error *err)
{
    uint64_t rng = backoff_seed();
    size_t url_idx = atomic_load(&h->active) % h->n_urls;
    size_t urls_tried = 1;
    char why[SLUICE_ERROR_MSG_MAX] = "";
    int last_rc = SLUICE_EIO;
    long last_status = 0;

    memset(resp, 0, sizeof *resp);
    for (int attempt = 0; attempt <= h->cfg.max_retries; attempt++) {
        long retry_after_s = 0;
        atomic_fetch_add_explicit(&h->counters->requests_by_endpoint[ep], 1, memory_order_relaxed);
        int rc = attempt_once(h, h->urls[url_idx], method, path, body, body_len, resp,
                              &retry_after_s, why, sizeof why);
        if (rc == SLUICE_ENOMEM) /* out of memory or an over-long answer: retrying won't help */
            return sluice_error_set(err, SLUICE_ENOMEM, "registry %s %s: %s", method, path, why);
        if (rc == 0 && !status_is_retryable(resp->status)) return 0;
        if (rc == 0) {
            last_status = resp->status;
            snprintf(why, sizeof why, "%s: HTTP %ld: %.200s", h->urls[url_idx], resp->status,
                     resp->body ? resp->body : "");
            free(resp->body);
            memset(resp, 0, sizeof *resp);
            last_rc = SLUICE_EREMOTE;
        } else {
            last_rc = rc;
            last_status = 0;
        }
        if (attempt == h->cfg.max_retries) break;

        atomic_fetch_add_explicit(&h->counters->retries, 1, memory_order_relaxed);
        int fresh_url = 0;
        if (h->n_urls > 1) {
            size_t next = (url_idx + 1) % h->n_urls;
            size_t expected = url_idx;
            /* Only the first thread to see this URL fail moves everyone on. */
            if (atomic_compare_exchange_strong(&h->active, &expected, next)) {
                atomic_fetch_add_explicit(&h->counters->failovers, 1, memory_order_relaxed);
                sluice_log(SLUICE_LOG_WARN, "sr", "registry failover", "from", h->urls[url_idx],
                           "to", h->urls[next], "reason", why, (char *)0);
            }
            url_idx = next;
            fresh_url = urls_tried < h->n_urls;
            urls_tried++;
        }
        if (!fresh_url) {
            int64_t wait = backoff_delay_ms(attempt + 1, h->cfg.backoff_initial_ms,
                                            h->cfg.backoff_max_ms, &rng);
            if (retry_after_s > 0 && retry_after_s * 1000 > wait) wait = retry_after_s * 1000;
            if (wait > h->cfg.backoff_max_ms) wait = h->cfg.backoff_max_ms;
            clock_sleep_ms(wait);
        }
    }
    int rc =
        sluice_error_set(err, last_rc, "registry %s %s failed after %d attempt%s; last: %s", method,
                         path, h->cfg.max_retries + 1, h->cfg.max_retries ? "s" : "", why);
    if (err) err->remote_code = (int)last_status;
    return rc;
}

char *sr_http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1);
    if (!out) return NULL;
    char *p = out;
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        unsigned char ch = *q;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            *p++ = (char)ch;
        } else {
            *p++ = '%';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        }
    }
    *p = '\0';
    return out;
}
