/*
 * clickhouse.h — private ClickHouse servers for tests and benchmarks
 * (scripts/clickhouse.sh underneath: their own data directories, loopback,
 * free ports), plus queries over their HTTP interface.
 *
 * One server: test_ch_start. A replicated cluster: test_ch_cluster_start
 * starts N servers as one shard of N replicas, pointed at a ZooKeeper from
 * zookeeper.h, each with the macros {shard} and {replica} and the cluster
 * TEST_CH_CLUSTER_NAME in <remote_servers> (internal_replication on), so
 * that tables are made with
 *   ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/NAME', '{replica}') ORDER BY …
 *   ENGINE = Distributed(sluice, default, NAME)
 * and `ON CLUSTER sluice` DDL works.
 *
 * Servers are stopped by test_ch_stop / test_ch_cluster_stop and, if a test
 * dies first, by an atexit handler; they never outlive the test process's
 * clean-up. test_ch_kill / test_ch_restart kill -9 a server and start it
 * again on the same ports, data directory and configuration.
 */
#ifndef SLUICE_TEST_CLICKHOUSE_H
#define SLUICE_TEST_CLICKHOUSE_H

#include "zookeeper.h"

#include <stddef.h>
#include <stdint.h>

typedef struct test_ch {
    char dir[512];
    uint16_t http_port;
    char url[64]; /* http://127.0.0.1:PORT */
    int running;
    uint16_t tcp_port;         /* native protocol (kept across restarts) */
    uint16_t interserver_port; /* replication; 0 outside a cluster */
    int forced_restores;       /* restarts that needed flags/force_restore_data */
} test_ch;

/* Start a server in dir (created); 0 or -1 (the reason is printed). Ports
 * already in *ch (a restart) are kept. */
int test_ch_start(test_ch *ch, const char *dir);
/* SIGTERM and wait (SIGKILL after 20 s). Safe to call twice. */
void test_ch_stop(test_ch *ch);
/* SIGKILL at once and wait until the process is gone (its ports free). */
void test_ch_kill(test_ch *ch);
/* Start a stopped or killed server again: same directory, ports and
 * configuration. 0 when it answers /ping, or -1.
 *
 * A replica killed while it had parts on disk that ZooKeeper does not list
 * yet (a fetched or merged part between its rename and its ZooKeeper
 * commit) refuses to start when such parts hold more than
 * replicated_max_ratio_of_wrong_parts (0.5) of a table's rows — likely for
 * the small tables of tests. Then, as an operator would, this creates
 * data/flags/force_restore_data and starts it once more (the server moves
 * the unexpected parts to detached/ and fetches what it lacks), says so on
 * stderr and counts it in forced_restores. */
int test_ch_restart(test_ch *ch);

/* Run sql; *out (malloc'd, may be NULL) gets the body. Returns the HTTP
 * status, or -1 on a transport error. */
long test_ch_query(const test_ch *ch, const char *sql, char **out);
/* The first line of a query's answer as a number (e.g. SELECT count()). */
double test_ch_scalar(const test_ch *ch, const char *sql);
/* INSERT as the sink sends it: the statement (e.g. "INSERT INTO t FORMAT
 * TSV") in the URL, data as the body; params ("" or "a=1&b=2") are more
 * URL arguments — settings, query_id. HTTP status or -1; *out as above. */
long test_ch_insert(const test_ch *ch, const char *statement, const char *params, const void *data,
                    size_t len, char **out);

#define TEST_CH_CLUSTER_MAX 4
#define TEST_CH_CLUSTER_NAME "sluice"

typedef struct test_ch_cluster {
    int n;
    test_ch server[TEST_CH_CLUSTER_MAX]; /* server[i] has the macro replica "r<i+1>" */
} test_ch_cluster;

/* Start n servers in dir/ch1 … dir/chN (dir exists) as one shard of n
 * replicas using zk. Besides what test_ch_start writes, each gets
 * config.d/cluster.xml: <zookeeper> (session TEST_ZK_SESSION_TIMEOUT_MS),
 * <macros> shard=1 replica=rI, <remote_servers>, <distributed_ddl>, the
 * interserver port on 127.0.0.1, query_log and part_log (for what a test
 * wants to know about an INSERT) and log level "information" (ClickHouse
 * logs deduplicated blocks at that level). 0, or -1 with every started
 * server stopped again. */
int test_ch_cluster_start(test_ch_cluster *c, const char *dir, int n, const test_zk *zk);
void test_ch_cluster_stop(test_ch_cluster *c);

#endif
