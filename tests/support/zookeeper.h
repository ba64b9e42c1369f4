/*
 * zookeeper.h — a private ZooKeeper for tests: Debian's `zookeeper` package
 * (its jars, run by pid with /usr/bin/java, never the system service),
 * standalone, on a free loopback port, with its data, configuration and
 * log in a directory of its own. The replicated-ClickHouse fixture
 * (clickhouse.h, test_ch_cluster_start) points its servers at it.
 *
 * Timing chosen for tests (tickTime 500 ms: sessions may last 1..10 s; the
 * ClickHouse side asks for TEST_ZK_SESSION_TIMEOUT_MS): see zookeeper.c.
 *
 * The server is stopped by test_zk_stop and, if a test dies first, by an
 * atexit handler (and by PR_SET_PDEATHSIG when the test process is killed).
 */
#ifndef SLUICE_TEST_ZOOKEEPER_H
#define SLUICE_TEST_ZOOKEEPER_H

#include "support.h"

#include <stddef.h>
#include <stdint.h>

/* The session timeout ClickHouse servers of the cluster fixture ask for. */
#define TEST_ZK_SESSION_TIMEOUT_MS 5000

typedef struct test_zk {
    char dir[512];
    uint16_t port; /* client port on 127.0.0.1 */
    test_proc proc;
    int running;
} test_zk;

/* Start a standalone server in dir (created; zoo.cfg, data/, zookeeper.log
 * inside) and wait until it answers `srvr` as a serving standalone server.
 * 0, or -1 with the reason printed. */
int test_zk_start(test_zk *zk, const char *dir);
/* SIGTERM, then SIGKILL after 10 s. Safe to call twice. */
void test_zk_stop(test_zk *zk);
/* Send a four-letter word ("srvr", "ruok") and read the whole answer into
 * out (NUL-terminated). 0, or -1 if the server did not answer. */
int test_zk_four_letters(const test_zk *zk, const char *word, char *out, size_t n);

#endif
