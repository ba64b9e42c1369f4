/*
 * test_sink_faults.c — at-least-once under the faults the sink must survive,
 * every one real: `sluice sink` processes killed with SIGKILL mid-insert,
 * three mock brokers with fetch errors, leader moves, a broker down and up,
 * slow round trips and a moved group coordinator, and group members joining
 * and leaving while rows flow.
 *
 * Every test ends with: every id that was produced is in ClickHouse
 * (uniqExact(id) = N, so nothing was lost), the duplicates counted and
 * printed (at-least-once allows them after a kill), the committed offsets at
 * the high watermarks after a final SIGTERM (exit 0), and the broker's log
 * start offsets still 0 (the mock keeps only ~5 MiB a partition; had it
 * dropped something the test would prove nothing).
 *
 * Group timing: session.timeout.ms=4000 (see kafka.h) so that a killed
 * member is noticed in 4 s and a rebalance round takes ~3 s.
 */
#include "test.h"

#include "common/clock.h"
#include "fault_proxy.h"
#include "sink_env.h"

#include <signal.h>

static sink_env env;

static int setup(void)
{
    if (env.dir) return 0;
    int rc = sink_env_start(&env, "sluice-sink-faults", 3, 0);
    env.kafka_extra = "  properties:\n    session.timeout.ms: \"4000\"\n"
                      "    heartbeat.interval.ms: \"500\"\n";
    return rc;
}

/* Produce ids [from, to) as JSON to `topic`, keyed by id. */
static int produce_range(const char *topic, int from, int to)
{
    for (int i = from; i < to; i++) {
        char json[256], key[16];
        int n =
            snprintf(json, sizeof json,
                     "{\"id\":%d,\"name\":\"event-%d\",\"value\":%d.25,\"tags\":[\"a%d\",\"b\"]}",
                     i, i, i % 1000, i % 7);
        int k = snprintf(key, sizeof key, "%d", i);
        if (test_produce(env.prod, topic, -1, key, (size_t)k, json, (size_t)n) != 0) return -1;
    }
    return 0;
}

static int create_table(const char *table)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (id UInt64, name String, value Float64, tags Array(String)) "
             "ENGINE = MergeTree ORDER BY id",
             table);
    return sink_env_sql(&env, sql);
}

/* The end of every test: every id there, duplicates printed, offsets
 * committed to the end, the broker lost nothing. */
static void check_complete(const char *topic, const char *table, const char *group, int n,
                           int parts)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT uniqExact(id) FROM %s", table);
    CHECK_EQ(sink_env_wait_for(&env, sql, n, 120000), n);
    snprintf(sql, sizeof sql, "SELECT count() FROM %s WHERE id >= %d", table, n);
    CHECK_EQ(sink_env_scalar(&env, sql), 0); /* nothing invented */
    snprintf(sql, sizeof sql, "SELECT count() FROM %s", table);
    double rows = sink_env_scalar(&env, sql);
    CHECK(rows >= n);
    fprintf(stderr, "  %s: %d ids, %.0f rows, %.0f duplicates (%.2f%%)\n", table, n, rows, rows - n,
            100.0 * (rows - n) / n);
    snprintf(sql, sizeof sql,
             "SELECT count() FROM %s WHERE name != concat('event-', toString(id)) "
             "OR value != (id %% 1000) + 0.25 OR length(tags) != 2",
             table);
    CHECK_EQ(sink_env_scalar(&env, sql), 0); /* every row intact */

    int64_t low[64], high[64], committed[64];
    CHECK_EQ(test_kafka_watermarks(&env.kafka, topic, low, high, 64), parts);
    CHECK_EQ(test_kafka_committed(&env.kafka, group, topic, committed, 64), parts);
    int64_t total = 0;
    for (int p = 0; p < parts; p++) {
        CHECK_EQ(committed[p], high[p]);
        total += high[p];
    }
    CHECK(total >= n); /* the mock may keep a producer retry twice */
    CHECK_EQ(test_kafka_nothing_dropped(&env.kafka, topic), 1);
}

/* Five sinks killed with SIGKILL while inserting, each one as soon as the
 * table has grown by a step since it started (so every kill lands mid-run,
 * with batches in flight and stored offsets not yet committed), with more
 * events produced between kills. A sixth sink finishes and SIGTERMs. */
static void test_kill9_five_times(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 60000, PARTS = 8, KILLS = 5, STEP = 6000 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "k9", PARTS), 0);
    CHECK_EQ(create_table("k9"), 0);
    /* Slow ClickHouse down a little so a sink's life spans many batches. */
    fault_proxy *px = fault_proxy_start(env.ch.url);
    CHECK(px != NULL);
    fault_proxy_set_delay_ms(px, 20);
    char config[700];
    CHECK_EQ(sink_env_config_via(&env, "k9", fault_proxy_url(px),
                                 "sink:\n  group_id: k9\n  writers: 3\n  routes:\n"
                                 "    - topic: k9\n      table: k9\n"
                                 "      batch: {max_rows: 300, max_age: 50ms}\n",
                                 config, sizeof config),
             0);
    CHECK_EQ(produce_range("k9", 0, N / 2), 0);
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    int produced = N / 2;
    for (int k = 0; k < KILLS; k++) {
        test_proc sink;
        char log[32];
        snprintf(log, sizeof log, "k9-sink-%d", k);
        double before = sink_env_scalar(&env, "SELECT count() FROM k9");
        CHECK_EQ(sink_env_run_sink(&env, &sink, config, log, 1, 60000), 0);
        double now = sink_env_wait_for(&env, "SELECT count() FROM k9", before + STEP, 60000);
        CHECK(now >= before + STEP);
        CHECK_EQ(test_proc_stop(&sink, SIGKILL, 5000), 128 + SIGKILL);
        fprintf(stderr, "  kill %d: %.0f rows when killed\n", k + 1, now);
        if (produced < N) {
            int to = produced + N / 2 / KILLS;
            CHECK_EQ(produce_range("k9", produced, to < N ? to : N), 0);
            CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
            produced = to < N ? to : N;
        }
    }
    CHECK_EQ(produced, N);
    /* The rows already in cannot all be N yet: the kills interrupted work. */
    CHECK(sink_env_scalar(&env, "SELECT uniqExact(id) FROM k9") < N);
    test_proc last;
    CHECK_EQ(sink_env_run_sink(&env, &last, config, "k9-sink-last", 1, 60000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM k9", N, 120000), N);
    CHECK_EQ(test_proc_stop(&last, SIGTERM, 30000), 0);
    check_complete("k9", "k9", "k9", N, PARTS);
    fault_proxy_stop(px);
}

/* Three brokers, partitions led by all of them, and the broker misbehaving
 * while the sink inserts: fetch errors, leaders moved, the group
 * coordinator moved, a broker down for 3 s and back, 300 ms round trips. */
static void test_broker_faults(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 48000, PARTS = 6, ROUNDS = 6 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "bf", PARTS), 0);
    CHECK_EQ(create_table("bf"), 0);
    char config[700];
    CHECK_EQ(sink_env_config(&env, "bf",
                             "sink:\n  group_id: bf\n  routes:\n"
                             "    - topic: bf\n      table: bf\n"
                             "      batch: {max_rows: 500, max_age: 100ms}\n",
                             config, sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "bf-sink", 1, 60000), 0);
    const char *faults[ROUNDS][3] = {
        {"errors Fetch NOT_LEADER_FOR_PARTITION NOT_LEADER_FOR_PARTITION UNKNOWN_TOPIC_OR_PART "
         "REQUEST_TIMED_OUT NOT_LEADER_FOR_PARTITION",
         NULL, NULL},
        {"leader bf 0 2", "leader bf 1 3", "leader bf 2 1"},
        {"coordinator group bf 2", NULL, NULL},
        {"down 3", NULL, NULL},
        {"rtt 1 300", "rtt 2 300", NULL},
        {"errors OffsetCommit REQUEST_TIMED_OUT COORDINATOR_NOT_AVAILABLE NOT_COORDINATOR",
         "errors Fetch KAFKA_STORAGE_ERROR NOT_LEADER_FOR_PARTITION", NULL},
    };
    for (int r = 0; r < ROUNDS; r++) {
        for (int f = 0; f < 3 && faults[r][f]; f++) {
            char reply[256];
            CHECK_EQ(test_kafka_cmd(&env.kafka, faults[r][f], reply, sizeof reply), 0);
        }
        CHECK_EQ(produce_range("bf", r * (N / ROUNDS), (r + 1) * (N / ROUNDS)), 0);
        clock_sleep_ms(3000);
        if (r == 3) CHECK_EQ(test_kafka_cmd(&env.kafka, "up 3", NULL, 0), 0);
        if (r == 4) {
            CHECK_EQ(test_kafka_cmd(&env.kafka, "rtt 1 0", NULL, 0), 0);
            CHECK_EQ(test_kafka_cmd(&env.kafka, "rtt 2 0", NULL, 0), 0);
        }
        CHECK(test_proc_alive(&sink));
    }
    CHECK_EQ(test_producer_flush(env.prod, 60000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM bf", N, 120000), N);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
    check_complete("bf", "bf", "bf", N, PARTS);
}

/* Four writers with INSERTs in flight at once, and ClickHouse (through a
 * proxy) failing some of them with 503 while the others land: nothing is
 * lost, and — sampled every 50 ms while it runs — no partition's committed
 * offset ever passes a row that is not in ClickHouse. Message o of
 * partition p carries id o * PARTS + p, so "every row below the committed
 * offset" is one query per partition. */
static void test_concurrent_inserts_one_fails(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 40000, PARTS = 4 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "ci", PARTS), 0);
    CHECK_EQ(create_table("ci"), 0);
    for (int i = 0; i < N; i++) {
        char json[256];
        int n =
            snprintf(json, sizeof json,
                     "{\"id\":%d,\"name\":\"event-%d\",\"value\":%d.25,\"tags\":[\"a%d\",\"b\"]}",
                     i, i, i % 1000, i % 7);
        CHECK_EQ(test_produce(env.prod, "ci", i % PARTS, NULL, 0, json, (size_t)n), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 60000), 0);
    fault_proxy *px = fault_proxy_start(env.ch.url);
    CHECK(px != NULL);
    fault_proxy_set_delay_ms(px, 30); /* INSERTs overlap */
    char config[700];
    CHECK_EQ(sink_env_config_via(&env, "ci", fault_proxy_url(px),
                                 "sink:\n  group_id: ci\n  writers: 4\n  retry_initial: 20ms\n"
                                 "  commit_interval: 50ms\n  routes:\n"
                                 "    - topic: ci\n      table: ci\n"
                                 "      batch: {max_rows: 200, max_age: 20ms}\n",
                                 config, sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "ci-sink", 1, 60000), 0);
    int samples = 0, failed_batches = 0;
    for (int round = 0; round < 400; round++) {
        if (round % 20 == 5) {
            fault_proxy_fail_next(px, 2, 503);
            failed_batches += 2;
        }
        int64_t committed[PARTS];
        CHECK_EQ(test_kafka_committed(&env.kafka, "ci", "ci", committed, PARTS), PARTS);
        int done = 1;
        for (int p = 0; p < PARTS; p++) {
            if (committed[p] <= 0) {
                done = 0;
                continue;
            }
            char sql[256];
            snprintf(sql, sizeof sql,
                     "SELECT uniqExact(id) FROM ci WHERE id %% %d = %d AND intDiv(id, %d) < %lld",
                     PARTS, p, PARTS, (long long)committed[p]);
            double in = sink_env_scalar(&env, sql);
            if (in != (double)committed[p])
                fprintf(stderr, "  partition %d committed %lld with %.0f rows below it\n", p,
                        (long long)committed[p], in);
            CHECK_EQ(in, (double)committed[p]);
            samples++;
            done &= committed[p] == N / PARTS;
        }
        if (done) break;
        clock_sleep_ms(50);
    }
    fprintf(stderr, "  %d samples of committed offsets, %d INSERTs failed on purpose\n", samples,
            failed_batches);
    CHECK(samples > 20);
    double retries = 0;
    CHECK_EQ(sink_env_metric(&sink, "sluice_sink_insert_retries_total", NULL, &retries), 0);
    CHECK(retries >= 1);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM ci", N, 120000), N);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
    check_complete("ci", "ci", "ci", N, PARTS);
    fault_proxy_stop(px);
}

/* Members come and go while rows flow: a second sink joins (rebalance), the
 * first is SIGTERMed (it drains and hands over), a third joins, the second
 * is killed with SIGKILL (noticed after its session timeout). */
static void test_members_join_and_leave(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 40000, PARTS = 12, CHUNK = N / 5 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "jl", PARTS), 0);
    CHECK_EQ(create_table("jl"), 0);
    char config[700];
    CHECK_EQ(sink_env_config(&env, "jl",
                             "sink:\n  group_id: jl\n  routes:\n"
                             "    - topic: jl\n      table: jl\n"
                             "      batch: {max_rows: 400, max_age: 100ms}\n",
                             config, sizeof config),
             0);
    test_proc a, b, c;
    CHECK_EQ(sink_env_run_sink(&env, &a, config, "jl-a", 1, 60000), 0);
    CHECK_EQ(produce_range("jl", 0, CHUNK), 0);
    CHECK_EQ(sink_env_run_sink(&env, &b, config, "jl-b", 1, 60000), 0);
    CHECK_EQ(produce_range("jl", CHUNK, 2 * CHUNK), 0);
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    /* Both own partitions now: a rebalance happened with rows in flight. */
    CHECK_EQ(test_proc_wait_log(&a, "msg=revoking", 30000, NULL, 0), 0);
    CHECK_EQ(test_proc_stop(&a, SIGTERM, 30000), 0);
    CHECK_EQ(produce_range("jl", 2 * CHUNK, 3 * CHUNK), 0);
    CHECK_EQ(sink_env_run_sink(&env, &c, config, "jl-c", 0, 0), 0);
    CHECK_EQ(produce_range("jl", 3 * CHUNK, 4 * CHUNK), 0);
    CHECK_EQ(test_proc_wait_log(&c, "msg=assigned", 60000, NULL, 0), 0);
    CHECK_EQ(test_proc_stop(&b, SIGKILL, 5000), 128 + SIGKILL);
    CHECK_EQ(produce_range("jl", 4 * CHUNK, N), 0);
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    /* c takes over b's partitions once b's session times out. */
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM jl", N, 120000), N);
    CHECK_EQ(test_proc_stop(&c, SIGTERM, 30000), 0);
    check_complete("jl", "jl", "jl", N, PARTS);
}

static void test_cleanup(void)
{
    sink_env_stop(&env);
}

TEST_MAIN(T(test_kill9_five_times), T(test_broker_faults), T(test_concurrent_inserts_one_fails),
          T(test_members_join_and_leave), T(test_cleanup))
