/*
 * http.h — the registry client's transport: libcurl with connection reuse,
 * failover across several registry URLs and retries with backoff.
 *
 * Connection reuse: a pool of curl easy handles (each keeps its connections
 * alive); a request borrows one and gives it back. The pool's mutex is held
 * only to pop or push a handle, never across a request.
 *
 * Failover: the index of the URL currently believed healthy is shared by
 * all threads; a transport error, timeout or retryable status on it moves
 * every later request to the next URL. Within one request, the first pass
 * over the other URLs is immediate; further retries wait with full-jitter
 * backoff.
 */
#ifndef SLUICE_SR_HTTP_H
#define SLUICE_SR_HTTP_H

#include <sluice/sr.h>

#include <stdatomic.h>
#include <stddef.h>

typedef struct sr_http sr_http;

typedef struct sr_http_response {
    long status;
    char *body; /* malloc'd, NUL-terminated */
    size_t len;
} sr_http_response;

typedef struct sr_http_counters {
    _Atomic uint64_t requests_by_endpoint[6];
    _Atomic uint64_t retries;
    _Atomic uint64_t failovers;
} sr_http_counters;

int sr_http_new(const sluice_sr_config *cfg, sr_http_counters *counters, sr_http **out,
                sluice_error *err);
void sr_http_free(sr_http *h);

/* Send method path (already URL-escaped) with an optional JSON body. Returns
 * 0 once a response with a final status arrived (2xx or a non-retryable
 * 4xx; the caller reads resp->status) and SLUICE_EIO / SLUICE_ETIMEDOUT /
 * SLUICE_EREMOTE after every retry failed (err names the URL and the last
 * failure; remote_code is the last HTTP status, if any). The caller frees
 * resp->body with free(). */
int sr_http_request(sr_http *h, sluice_sr_endpoint ep, const char *method, const char *path,
                    const char *body, size_t body_len, sr_http_response *resp, sluice_error *err);

/* Percent-escape a subject for a URL path segment (malloc'd). */
char *sr_http_escape(const char *s);

#endif
