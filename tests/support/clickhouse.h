/*
 * clickhouse.h — a private ClickHouse server for tests and benchmarks
 * (scripts/clickhouse.sh underneath: its own data directory, loopback, a free
 * port), plus queries over its HTTP interface.
 *
 * The server is stopped by test_ch_stop and, if a test dies first, by an
 * atexit handler; it never outlives the test process's cleanup.
 */
#ifndef SLUICE_TEST_CLICKHOUSE_H
#define SLUICE_TEST_CLICKHOUSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct test_ch {
    char dir[512];
    uint16_t http_port;
    char url[64]; /* http://127.0.0.1:PORT */
    int running;
} test_ch;

/* Start a server in dir (created); 0 or -1 (the reason is printed). */
int test_ch_start(test_ch *ch, const char *dir);
/* SIGTERM and wait (SIGKILL after 20 s). Safe to call twice. */
void test_ch_stop(test_ch *ch);

/* Run sql; *out (malloc'd, may be NULL) gets the body. Returns the HTTP
 * status, or -1 on a transport error. */
long test_ch_query(const test_ch *ch, const char *sql, char **out);
/* The first line of a query's answer as a number (e.g. SELECT count()). */
double test_ch_scalar(const test_ch *ch, const char *sql);

#endif
