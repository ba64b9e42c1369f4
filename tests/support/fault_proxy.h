/*
 * fault_proxy.h — an HTTP proxy for tests that puts faults between a client
 * and a real upstream server: answer the next N requests with a chosen
 * status, delay answers, withhold the answer of a request the upstream has
 * completed (the ambiguous outcome: "did my INSERT land?"), count requests
 * (all, or those whose ClickHouse statement starts with a prefix) and
 * remember the last Authorization header. Everything it does not fault is
 * forwarded to the upstream (a real `sluice registry`, a real ClickHouse)
 * with libcurl, so the client under test talks to the real thing through a
 * real socket.
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
/* Hold every matching request (fault_proxy_match; all of them by default)
 * ms milliseconds before forwarding it. */
void fault_proxy_set_delay_ms(fault_proxy *p, int ms);
/* Serve one request at a time (with the delay above: at most 1000/ms
 * requests a second, however many clients) — a rate-limited upstream. */
void fault_proxy_set_serial(fault_proxy *p, int on);
uint64_t fault_proxy_requests(const fault_proxy *p);

/* Requests whose statement starts with prefix (case-insensitive, leading
 * blanks skipped) are "matching": counted by fault_proxy_matched and
 * subject to fault_proxy_withhold_next. The statement is what ClickHouse's
 * HTTP interface runs: the `query` URL argument when there is one (the
 * sink's INSERTs: the data is the body), else the body. NULL or "" (the
 * default): every request matches. Counting starts at 0 again. */
void fault_proxy_match(fault_proxy *p, const char *prefix);
uint64_t fault_proxy_matched(const fault_proxy *p);

typedef enum {
    /* Keep the upstream's answer until the client closes the connection
     * (its timeout), at most max_hold_ms; then send it (to nobody). */
    FAULT_PROXY_HOLD,
    /* Close the connection without an answer (the client reads EOF). */
    FAULT_PROXY_DROP,
} fault_proxy_withhold;

/* The next n matching requests are forwarded and run to completion by the
 * upstream, then their answer is withheld as `how` says. */
void fault_proxy_withhold_next(fault_proxy *p, int n, fault_proxy_withhold how, int max_hold_ms);
/* Answers withheld so far, and the upstream's HTTP status for the last of
 * them (0 if the upstream could not be reached). */
uint64_t fault_proxy_withheld(const fault_proxy *p);
int fault_proxy_withheld_status(const fault_proxy *p);
/* Copy of the last Authorization header seen ("" if none). */
void fault_proxy_last_auth(fault_proxy *p, char *out, size_t n);

#endif
