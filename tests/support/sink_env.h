/*
 * sink_env.h — the world a sink test runs in, all real: librdkafka's mock
 * cluster in its own process (sluice-mock-kafka), a private ClickHouse
 * server, `sluice registry`, a producer, and `sluice sink` itself started
 * as a process (so it can be SIGTERMed, kill -9ed and restarted).
 */
#ifndef SLUICE_TEST_SINK_ENV_H
#define SLUICE_TEST_SINK_ENV_H

#include <sluice/sr.h>

#include "clickhouse.h"
#include "kafka.h"
#include "support.h"

typedef struct sink_env {
    char *dir;
    test_kafka kafka;
    test_ch ch; /* the server, or unused when replicated */
    /* sink_env_start_replicated: ZooKeeper and a shard of replicas */
    test_zk zk;
    test_ch_cluster cluster;
    int replicated;
    test_proc reg;
    char reg_url[64];
    sluice_sr *sr;
    test_producer *prod;
    /* YAML lines written under `kafka:` after brokers (e.g. properties for
     * group timing); NULL for none. */
    const char *kafka_extra;
} sink_env;

/* Start Kafka (brokers), ClickHouse, and (if registry) the registry. */
int sink_env_start(sink_env *e, const char *name, int brokers, int registry);
/* The same with ZooKeeper and `replicas` ClickHouse servers as one shard
 * (clickhouse.h, test_ch_cluster_start); statements and the sink's
 * configuration go to the first. */
int sink_env_start_replicated(sink_env *e, const char *name, int brokers, int registry,
                              int replicas);
/* The server statements go to. */
test_ch *sink_env_ch(sink_env *e);
void sink_env_stop(sink_env *e);

/* Run a ClickHouse statement; 0 on success (the error is printed). */
int sink_env_sql(sink_env *e, const char *sql);
double sink_env_scalar(sink_env *e, const char *sql);

/* Write <dir>/<name>.yaml: kafka, clickhouse, registry and metrics sections
 * for this environment, then `sink_yaml` (the sink: section) verbatim.
 * The path is written to path_out. */
int sink_env_config(sink_env *e, const char *name, const char *sink_yaml, char *path_out, size_t n);
/* The same with ClickHouse reached at ch_url (a proxy in front of it). */
int sink_env_config_via(sink_env *e, const char *name, const char *ch_url, const char *sink_yaml,
                        char *path_out, size_t n);

/* Start `sluice sink -c config` with its log in <dir>/<log>.log; wait until
 * it logs "assigned" (up to timeout_ms) when wait_assigned. */
int sink_env_run_sink(sink_env *e, test_proc *p, const char *config, const char *log,
                      int wait_assigned, int timeout_ms);

/* Poll `sql` until it returns at least want (or timeout); the last value. */
double sink_env_wait_for(sink_env *e, const char *sql, double want, int timeout_ms);

/* Resident set size of a process, in bytes (0 if it is gone). */
uint64_t sink_env_rss(pid_t pid);

/* The sink's /metrics port, from its log ("sub=metrics msg=listening"). */
int sink_env_metric(const test_proc *p, const char *name, const char *filter, double *value);

#endif
