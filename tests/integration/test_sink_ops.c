/*
 * test_sink_ops.c — what an operator meets when ClickHouse's side changes
 * under a running sink, against real parts (librdkafka's mock cluster in
 * its own process, ClickHouse 18.16, `sluice sink` as a process):
 *
 * - a setting ClickHouse does not know in clickhouse.settings: /readyz 503
 *   with ClickHouse's own message, the config errors counted, and no retry
 *   storm (requests counted at a proxy in front of ClickHouse);
 * - a route whose table does not exist yet: blocked, then created, and the
 *   waiting events land without a restart;
 * - ALTER TABLE … ADD COLUMN mid-stream: the new column is filled from the
 *   next batches on, without a restart, and nothing is lost.
 */
#include "test.h"

#include "common/clock.h"
#include "fault_proxy.h"
#include "sink_env.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static sink_env env;

static int setup(void)
{
    if (env.dir) return 0;
    return sink_env_start(&env, "sluice-sink-ops", 1, 0);
}

static int produce(const char *topic, int from, int to)
{
    for (int i = from; i < to; i++) {
        char json[128];
        int n = snprintf(json, sizeof json, "{\"id\":%d,\"v\":\"e%d\",\"extra\":\"x%d\"}", i, i, i);
        if (test_produce(env.prod, topic, -1, NULL, 0, json, (size_t)n) != 0) return -1;
    }
    return test_producer_flush(env.prod, 30000);
}

/* GET /readyz of a sink: the status, and the body into why. */
static long readyz(const test_proc *p, char *why, size_t n)
{
    char line[512];
    test_proc copy = *p;
    if (test_proc_wait_log(&copy, "sub=metrics msg=listening", 0, line, sizeof line) != 0)
        return -1;
    const char *q = strstr(line, "addr=");
    if (!q) return -1;
    char url[128];
    snprintf(url, sizeof url, "http://%.*s/readyz", (int)strcspn(q + 5, " \n"), q + 5);
    test_http_resp r = {0};
    if (test_http("GET", url, NULL, NULL, &r) != 0) return -1;
    snprintf(why, n, "%s", r.body ? r.body : "");
    free(r.body);
    return r.status;
}

/* Poll /readyz until it answers `status` (or timeout); the last status. */
static long wait_readyz(const test_proc *p, long status, char *why, size_t n, int timeout_ms)
{
    long st = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        st = readyz(p, why, n);
        if (st == status) return st;
        clock_sleep_ms(200);
    }
    return st;
}

static void test_unknown_setting(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "opset", 2), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE opset (id UInt64, v String) ENGINE = MergeTree "
                                "ORDER BY id"),
             0);
    CHECK_EQ(produce("opset", 0, 100), 0);
    fault_proxy *px = fault_proxy_start(env.ch.url);
    CHECK(px != NULL);
    env.clickhouse_extra = "  settings:\n    no_such_setting_at_all: 1\n";
    char config[700];
    CHECK_EQ(sink_env_config_via(&env, "opset", fault_proxy_url(px),
                                 "sink:\n  group_id: opset\n  blocked_retry: 5s\n"
                                 "  routes:\n    - {topic: opset, table: opset}\n",
                                 config, sizeof config),
             0);
    env.clickhouse_extra = NULL;
    test_proc s;
    CHECK_EQ(sink_env_run_sink(&env, &s, config, "opset", 0, 0), 0);
    char why[1024];
    CHECK_EQ(wait_readyz(&s, 503, why, sizeof why, 30000), 503);
    CHECK_CONTAINS(why, "route opset -> opset");
    CHECK_CONTAINS(why, "no_such_setting_at_all"); /* ClickHouse's own message */
    double errors = 0;
    CHECK_EQ(sink_env_metric(&s, "sluice_sink_errors_total", "kind=\"config\"", &errors), 0);
    CHECK(errors >= 1);
    double blocked = 0;
    CHECK_EQ(sink_env_metric(&s, "sluice_sink_route_blocked", NULL, &blocked), 0);
    CHECK_EQ(blocked, 1);
    /* No retry storm: over 10 s, one probe each 5 s. */
    uint64_t before = fault_proxy_requests(px);
    clock_sleep_ms(10000);
    uint64_t during = fault_proxy_requests(px) - before;
    fprintf(stderr, "  requests to ClickHouse in 10 s while blocked: %llu\n",
            (unsigned long long)during);
    CHECK(during <= 3);
    CHECK_EQ(test_proc_wait_log(&s, "clickhouse refuses the route", 0, NULL, 0), 0);
    CHECK_EQ(test_proc_stop(&s, SIGTERM, 30000), 0);
    /* nothing was committed: the events wait in Kafka */
    int64_t committed[4];
    CHECK_EQ(test_kafka_committed(&env.kafka, "opset", "opset", committed, 4), 2);
    CHECK(committed[0] <= 0 && committed[1] <= 0);
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM opset"), 0);
    fault_proxy_stop(px);
}

static void test_table_created_later(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "oplate", 2), 0);
    CHECK_EQ(produce("oplate", 0, 500), 0);
    char config[700];
    CHECK_EQ(sink_env_config(&env, "oplate",
                             "sink:\n  group_id: oplate\n  blocked_retry: 500ms\n"
                             "  routes:\n    - {topic: oplate, table: oplate}\n",
                             config, sizeof config),
             0);
    test_proc s;
    CHECK_EQ(sink_env_run_sink(&env, &s, config, "oplate", 0, 0), 0);
    char why[1024];
    CHECK_EQ(wait_readyz(&s, 503, why, sizeof why, 30000), 503);
    CHECK_CONTAINS(why, "oplate");
    CHECK_CONTAINS(why, "table");
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE oplate (id UInt64, v String) ENGINE = MergeTree "
                                "ORDER BY id"),
             0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM oplate", 500, 60000), 500);
    CHECK_EQ(wait_readyz(&s, 200, why, sizeof why, 30000), 200);
    CHECK_EQ(test_proc_stop(&s, SIGTERM, 30000), 0);
}

static void test_alter_add_column_midstream(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "opalter", 4), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE opalter (id UInt64, v String) ENGINE = MergeTree "
                                "ORDER BY id"),
             0);
    char config[700];
    CHECK_EQ(sink_env_config(&env, "opalter",
                             "sink:\n  group_id: opalter\n  columns_refresh: 500ms\n"
                             "  routes:\n    - topic: opalter\n      table: opalter\n"
                             "      batch: {max_rows: 500, max_age: 50ms}\n",
                             config, sizeof config),
             0);
    test_proc s;
    CHECK_EQ(sink_env_run_sink(&env, &s, config, "opalter", 1, 60000), 0);
    CHECK_EQ(produce("opalter", 0, 5000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM opalter", 5000, 60000), 5000);
    CHECK_EQ(sink_env_sql(&env, "ALTER TABLE opalter ADD COLUMN extra String"), 0);
    /* give the periodic check a moment, then more events */
    clock_sleep_ms(1500);
    CHECK_EQ(produce("opalter", 5000, 10000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM opalter", 10000, 60000), 10000);
    CHECK_EQ(sink_env_scalar(&env, "SELECT uniqExact(id) FROM opalter"), 10000);
    /* every event after the ALTER has its new column filled */
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM opalter WHERE id >= 5000 AND extra = "
                                   "concat('x', toString(id))"),
             5000);
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM opalter WHERE id < 5000 AND extra != ''"),
             0);
    CHECK_EQ(test_proc_wait_log(&s, "the table's columns changed", 0, NULL, 0), 0);
    CHECK_EQ(test_proc_stop(&s, SIGTERM, 30000), 0);
}

static void test_cleanup(void)
{
    sink_env_stop(&env);
}

TEST_MAIN(T(test_unknown_setting), T(test_table_created_later), T(test_alter_add_column_midstream),
          T(test_cleanup))
