/*
 * fault_proxy.h — an HTTP proxy for tests that puts faults between a client
 * and a real upstream server: answer the next N requests with a chosen
 * status, delay answers, count requests and remember the last
 * Authorization header. Everything it does not fault is forwarded to the
 * upstream (a real `sluice registry`, a real ClickHouse) with libcurl, so
 * the client under test talks to the real thing through a real socket.
 */
#ifndef SLUICE_TEST_FAULT_PROXY_H
#define SLUICE_TEST_FAULT_PROXY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fault_proxy fault_proxy;

fault_proxy *fault_proxy_start(const char *upstream_base_url);
/* The same serving HTTPS with cert/key (PEM files); with client_ca set,
 * requests without a client certificate signed by it get 403. */
fault_proxy *fault_proxy_start_tls(const char *upstream_base_url, const char *cert, const char *key,
                                   const char *client_ca);
void fault_proxy_stop(fault_proxy *p);
/* http://127.0.0.1:PORT (https:// when serving TLS) */
const char *fault_proxy_url(const fault_proxy *p);

/* Answer the next n requests with `status` (and a JSON error body). */
void fault_proxy_fail_next(fault_proxy *p, int n, int status);
/* Hold every answer for ms milliseconds before sending it. */
void fault_proxy_set_delay_ms(fault_proxy *p, int ms);
/* Serve one request at a time (with the delay above: at most 1000/ms
 * requests a second, however many clients) — a rate-limited upstream. */
void fault_proxy_set_serial(fault_proxy *p, int on);
uint64_t fault_proxy_requests(const fault_proxy *p);
/* Copy of the last Authorization header seen ("" if none). */
void fault_proxy_last_auth(fault_proxy *p, char *out, size_t n);

#endif
