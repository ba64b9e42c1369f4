/*
 * test_sink_exactly_once.c — delivery: exactly_once against real parts:
 * Debian's ZooKeeper, two ClickHouse 18.16 servers as one shard of two
 * replicas (ReplicatedMergeTree, which ignores a repeated block), the
 * librdkafka mock cluster in its own process, and `sluice sink` processes
 * killed with SIGKILL — at random moments, and at the exact moments that
 * matter through failpoints (SLUICE_FAILPOINT: the process SIGKILLs itself
 * after an INSERT landed and before its end offsets were committed, or
 * after an intent was committed and before the INSERT).
 *
 * Every test ends with count() = uniqExact(id) = the ids produced (0
 * missing, 0 duplicates), the committed offsets at the high watermarks,
 * and the broker's log start offsets still 0. Events whose id is a
 * multiple of POISON_EVERY are not JSON: they go to the dead-letter topic
 * (at least once there), and their absence from the table is checked too.
 */
#include "test.h"

#include "codec/ch_type.h"
#include "common/arena.h"
#include "common/clock.h"
#include "fault_proxy.h"
#include "sink/eo.h"
#include "sink_env.h"

#include <librdkafka/rdkafka.h>

#include <signal.h>
#include <stdlib.h>

#define POISON_EVERY 997

static sink_env env;

static int setup(void)
{
    if (env.dir) return 0;
    int rc = sink_env_start_replicated(&env, "sluice-sink-eo", 1, 0, 2);
    env.kafka_extra = "  properties:\n    session.timeout.ms: \"4000\"\n"
                      "    heartbeat.interval.ms: \"500\"\n";
    return rc;
}

static int poison(int id)
{
    return id % POISON_EVERY == 0;
}

static int good_ids(int n)
{
    return n - (n + POISON_EVERY - 1) / POISON_EVERY;
}

static int produce_range(const char *topic, int from, int to)
{
    for (int i = from; i < to; i++) {
        char json[128], key[16];
        int n = poison(i) ? snprintf(json, sizeof json, "{\"id\":%d,broken", i)
                          : snprintf(json, sizeof json, "{\"id\":%d,\"v\":\"e%d\"}", i, i);
        int k = snprintf(key, sizeof key, "%d", i);
        if (test_produce(env.prod, topic, -1, key, (size_t)k, json, (size_t)n) != 0) return -1;
    }
    return test_producer_flush(env.prod, 60000);
}

static int create_replicated(const char *table)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s ON CLUSTER sluice (id UInt64, v String) ENGINE = "
             "ReplicatedMergeTree('/clickhouse/tables/{shard}/%s', '{replica}') ORDER BY id",
             table, table);
    return sink_env_sql(&env, sql);
}

static void write_config(const char *name, const char *topic, const char *extra_route,
                         const char *ch_url, char *path, size_t n)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "sink:\n  group_id: %s\n  writers: 2\n  routes:\n"
             "    - topic: %s\n      table: %s\n      delivery: exactly_once\n"
             "      batch: {max_rows: 2000, max_age: 50ms}\n%s",
             topic, topic, topic, extra_route ? extra_route : "");
    CHECK_EQ(
        sink_env_config_via(&env, name, ch_url ? ch_url : sink_env_ch(&env)->url, yaml, path, n),
        0);
}

/* Exactly the good ids, each once; offsets at the end; nothing dropped. */
static void check_exact(const char *topic, int n, int parts)
{
    char sql[256];
    int want = good_ids(n);
    snprintf(sql, sizeof sql, "SELECT uniqExact(id) FROM %s", topic);
    CHECK_EQ(sink_env_wait_for(&env, sql, want, 120000), want);
    snprintf(sql, sizeof sql, "SELECT count() FROM %s", topic);
    double rows = sink_env_scalar(&env, sql);
    fprintf(stderr, "  %s: %d good ids, %.0f rows, %.0f duplicates\n", topic, want, rows,
            rows - want);
    if (rows != want) { /* which rows: for the log of a failed run */
        char *out = NULL;
        snprintf(sql, sizeof sql,
                 "SELECT count(), min(id), max(id), groupArray(40)(id) FROM (SELECT id FROM %s "
                 "GROUP BY id HAVING count() > 1 ORDER BY id)",
                 topic);
        if (test_ch_query(sink_env_ch(&env), sql, &out) >= 0)
            fprintf(stderr, "  duplicated ids (count, min, max, first 40): %s", out);
        free(out);
    }
    CHECK_EQ(rows, want);
    snprintf(sql, sizeof sql,
             "SELECT count() FROM %s WHERE id %% %d = 0 OR id >= %d OR v != concat('e', "
             "toString(id))",
             topic, POISON_EVERY, n);
    CHECK_EQ(sink_env_scalar(&env, sql), 0);
    int64_t low[64], high[64], committed[64];
    CHECK_EQ(test_kafka_watermarks(&env.kafka, topic, low, high, 64), parts);
    CHECK_EQ(test_kafka_committed(&env.kafka, topic, topic, committed, 64), parts);
    for (int p = 0; p < parts; p++)
        CHECK_EQ(committed[p], high[p]);
    CHECK_EQ(test_kafka_nothing_dropped(&env.kafka, topic), 1);
}

static int run_sink(test_proc *p, const char *config, const char *log, const char *failpoint)
{
    if (failpoint) setenv("SLUICE_FAILPOINT", failpoint, 1);
    int rc = sink_env_run_sink(&env, p, config, log, 1, 120000);
    unsetenv("SLUICE_FAILPOINT");
    return rc;
}

/* The process dies (SIGKILL, by the failpoint) right after an INSERT
 * landed, before its end offsets are committed: the next sink finds the
 * intent, inserts the same block again, and the server ignores it. Then
 * the same right after an intent was committed and before its INSERT:
 * the replay is the first INSERT of that block. */
static void test_failpoints(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 20000, PARTS = 8 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "eofp", PARTS), 0);
    CHECK_EQ(create_replicated("eofp"), 0);
    CHECK_EQ(produce_range("eofp", 0, N), 0);
    char config[700];
    write_config("eofp", "eofp", NULL, NULL, config, sizeof config);
    static const char *points[] = {"eo_after_insert:3", "eo_after_intent:2", "eo_after_insert:1"};
    for (int k = 0; k < 3; k++) {
        test_proc s;
        char log[32];
        snprintf(log, sizeof log, "eofp-%d", k);
        CHECK_EQ(run_sink(&s, config, log, points[k]), 0);
        CHECK_EQ(test_proc_wait(&s, 60000), 128 + SIGKILL);
        CHECK_EQ(test_proc_wait_log(&s, "failpoint", 0, NULL, 0), 0);
        fprintf(stderr, "  %s: %.0f rows when it died\n", points[k],
                sink_env_scalar(&env, "SELECT count() FROM eofp"));
    }
    CHECK(sink_env_scalar(&env, "SELECT count() FROM eofp") < good_ids(N));
    test_proc last;
    CHECK_EQ(run_sink(&last, config, "eofp-last", NULL), 0);
    CHECK_EQ(test_proc_wait_log(&last, "replaying an intent found in Kafka", 30000, NULL, 0), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM eofp", good_ids(N), 120000),
             good_ids(N));
    double replays = 0;
    CHECK_EQ(sink_env_metric(&last, "sluice_sink_eo_replayed_batches_total", NULL, &replays), 0);
    CHECK(replays >= 1);
    double eo = 0;
    CHECK_EQ(sink_env_metric(&last, "sluice_sink_route_exactly_once", NULL, &eo), 0);
    CHECK_EQ(eo, 1);
    CHECK_EQ(test_proc_stop(&last, SIGTERM, 30000), 0);
    check_exact("eofp", N, PARTS);
}

/* 20 sinks killed with SIGKILL at random moments while they drain
 * 1,000,000 events (SLUICE_EO_EVENTS) over 32 partitions:
 * each is killed once the table has grown by a random 1.25-2.5 % of the
 * events since it started — a moment in the middle of its work, never
 * after it (a proxy holds each INSERT's answer 20 ms, so that the table
 * grows in steps smaller than that); a last one finishes. */
static void test_kill9_twenty_times(void)
{
    CHECK_EQ(setup(), 0);
    /* 1,000,000 events; fewer under the sanitizers (tests/CMakeLists.txt
     * runs the full size in the optimised build). */
    const char *env_n = getenv("SLUICE_EO_EVENTS");
    const int N = env_n && atoi(env_n) >= 100000 ? atoi(env_n) : 1000000;
    enum { PARTS = 32, KILLS = 20 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "eok9", PARTS), 0);
    CHECK_EQ(create_replicated("eok9"), 0);
    CHECK_EQ(produce_range("eok9", 0, N), 0);
    fault_proxy *px = fault_proxy_start(sink_env_ch(&env)->url);
    CHECK(px != NULL);
    fault_proxy_set_delay_ms(px, 20);
    char config[700];
    write_config("eok9", "eok9", NULL, fault_proxy_url(px), config, sizeof config);
    srand(20261207);
    /* Each sink is killed once `step` more rows are in; it lands more
     * before the kill (up to the 200 ms poll's worth and its batches in
     * flight), so a fast sink on the smaller topic of the sanitizer build
     * can reach the end before the last kills: those would test nothing,
     * so the loop ends there, and most kills must have found work left. */
    int with_work_left = 0;
    for (int k = 0; k < KILLS; k++) {
        test_proc s;
        char log[32];
        snprintf(log, sizeof log, "eok9-%d", k);
        double before = sink_env_scalar(&env, "SELECT count() FROM eok9");
        double step = N / 80 + rand() % (N / 80);
        CHECK_EQ(run_sink(&s, config, log, NULL), 0);
        double at = sink_env_wait_for(&env, "SELECT count() FROM eok9", before + step, 120000);
        CHECK_EQ(test_proc_stop(&s, SIGKILL, 5000), 128 + SIGKILL);
        fprintf(stderr, "  kill %d: %.0f rows\n", k + 1, at);
        CHECK(at >= before + step);
        if (at >= good_ids(N)) {
            fprintf(stderr, "  (that sink had landed everything; no more kills)\n");
            break;
        }
        with_work_left++;
    }
    CHECK(with_work_left >= KILLS * 3 / 4);
    test_proc last;
    CHECK_EQ(run_sink(&last, config, "eok9-last", NULL), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM eok9", good_ids(N), 300000),
             good_ids(N));
    CHECK_EQ(test_proc_stop(&last, SIGTERM, 30000), 0);
    check_exact("eok9", N, PARTS);
    fault_proxy_stop(px);
}

/* Two sinks in one group; one of them killed with SIGKILL at random
 * moments and started again, ten times, while the other keeps going:
 * partitions with open intents move to the survivor, which replays them. */
static void test_two_sinks_one_killed(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 200000, PARTS = 16, KILLS = 10, STEP = N / 2 / KILLS };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "eo2s", PARTS), 0);
    CHECK_EQ(create_replicated("eo2s"), 0);
    CHECK_EQ(produce_range("eo2s", 0, N / 2), 0);
    int produced = N / 2;
    char config[700];
    write_config("eo2s", "eo2s", NULL, NULL, config, sizeof config);
    test_proc steady;
    CHECK_EQ(run_sink(&steady, config, "eo2s-steady", NULL), 0);
    srand(14);
    for (int k = 0; k < KILLS; k++) {
        test_proc s;
        char log[32];
        snprintf(log, sizeof log, "eo2s-%d", k);
        CHECK_EQ(run_sink(&s, config, log, NULL), 0);
        clock_sleep_ms(300 + rand() % 2500);
        CHECK_EQ(test_proc_stop(&s, SIGKILL, 5000), 128 + SIGKILL);
        fprintf(stderr, "  kill %d: %.0f rows of %d produced\n", k + 1,
                sink_env_scalar(&env, "SELECT count() FROM eo2s"), produced);
        CHECK_EQ(produce_range("eo2s", produced, produced + STEP), 0);
        produced += STEP;
    }
    CHECK(test_proc_alive(&steady));
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM eo2s", good_ids(N), 300000),
             good_ids(N));
    CHECK_EQ(test_proc_stop(&steady, SIGTERM, 30000), 0);
    check_exact("eo2s", N, PARTS);
}

/* The ClickHouse server the sink writes to is killed with SIGKILL while
 * INSERTs run, and started again: the INSERTs that were cut are sent
 * again whole, and the blocks the server had committed are ignored. */
static void test_clickhouse_killed(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 300000, PARTS = 8 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "eochk", PARTS), 0);
    CHECK_EQ(create_replicated("eochk"), 0);
    CHECK_EQ(produce_range("eochk", 0, N), 0);
    char config[700];
    write_config("eochk", "eochk", NULL, NULL, config, sizeof config);
    test_proc s;
    CHECK_EQ(run_sink(&s, config, "eochk", NULL), 0);
    for (int k = 0; k < 2; k++) {
        double at = sink_env_wait_for(&env, "SELECT count() FROM eochk", (k + 1) * N / 4, 120000);
        CHECK(at < good_ids(N));
        test_ch_kill(sink_env_ch(&env));
        fprintf(stderr, "  clickhouse killed at %.0f rows\n", at);
        clock_sleep_ms(1000);
        CHECK_EQ(test_ch_restart(sink_env_ch(&env)), 0);
    }
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM eochk", good_ids(N), 300000),
             good_ids(N));
    double retries = 0;
    CHECK_EQ(sink_env_metric(&s, "sluice_sink_insert_retries_total", NULL, &retries), 0);
    CHECK(retries >= 1);
    CHECK_EQ(test_proc_stop(&s, SIGTERM, 30000), 0);
    check_exact("eochk", N, PARTS);
}

/* An INSERT whose answer never reaches the sink although the server
 * stored it — held past the sink's request timeout, and dropped — is
 * sent again and ignored. */
static void test_answer_withheld(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 60000, PARTS = 8 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "eowh", PARTS), 0);
    CHECK_EQ(create_replicated("eowh"), 0);
    CHECK_EQ(produce_range("eowh", 0, N), 0);
    fault_proxy *px = fault_proxy_start(sink_env_ch(&env)->url);
    CHECK(px != NULL);
    fault_proxy_match(px, "INSERT");
    fault_proxy_withhold_next(px, 3, FAULT_PROXY_HOLD, 10000);
    char yaml[1024], config[700];
    snprintf(yaml, sizeof yaml,
             "sink:\n  group_id: eowh\n  writers: 2\n  retry_initial: 50ms\n"
             "  routes:\n    - topic: eowh\n      table: eowh\n"
             "      delivery: exactly_once\n      batch: {max_rows: 2000, max_age: 50ms}\n");
    /* a request timeout the held answers outlast */
    env.clickhouse_extra = "  request_timeout: 2s\n";
    CHECK_EQ(sink_env_config_via(&env, "eowh", fault_proxy_url(px), yaml, config, sizeof config),
             0);
    env.clickhouse_extra = NULL;
    test_proc s;
    CHECK_EQ(run_sink(&s, config, "eowh", NULL), 0);
    for (int i = 0; i < 600 && fault_proxy_withheld(px) < 3; i++)
        clock_sleep_ms(100);
    CHECK_EQ(fault_proxy_withheld(px), 3);
    CHECK_EQ(fault_proxy_withheld_status(px), 200); /* the server stored them */
    fault_proxy_withhold_next(px, 2, FAULT_PROXY_DROP, 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM eowh", good_ids(N), 120000),
             good_ids(N));
    CHECK_EQ(fault_proxy_withheld(px), 5);
    CHECK_EQ(test_proc_stop(&s, SIGTERM, 30000), 0);
    check_exact("eowh", N, PARTS);
    fault_proxy_stop(px);
}

/* Two replicas in clickhouse.urls; the first is killed with SIGKILL
 * mid-stream: the writers move to the second, INSERTs that were cut are
 * sent again there (ignored where the first had stored them: the block
 * hashes are shared through ZooKeeper); the first comes back and catches
 * up. Both replicas hold exactly the good ids; so does a Distributed
 * table over them. */
static void test_replica_failover(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 300000, PARTS = 8 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "eorf", PARTS), 0);
    CHECK_EQ(create_replicated("eorf"), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE eorf_all ON CLUSTER sluice AS eorf ENGINE = "
                                "Distributed(sluice, default, eorf)"),
             0);
    CHECK_EQ(produce_range("eorf", 0, N), 0);
    test_ch *r1 = &env.cluster.server[0], *r2 = &env.cluster.server[1];
    char urls[256], config[700];
    snprintf(urls, sizeof urls, "  urls: [\"%s\", \"%s\"]\n", r1->url, r2->url);
    env.clickhouse_extra = urls;
    write_config("eorf", "eorf", NULL, NULL, config, sizeof config);
    env.clickhouse_extra = NULL;
    test_proc s;
    CHECK_EQ(run_sink(&s, config, "eorf", NULL), 0);
    double at = test_ch_scalar(r2, "SELECT count() FROM eorf");
    for (int i = 0; i < 600 && at < N / 3; i++) {
        clock_sleep_ms(100);
        at = test_ch_scalar(r2, "SELECT count() FROM eorf");
    }
    CHECK(at >= N / 3);
    CHECK(at < good_ids(N));
    test_ch_kill(r1);
    fprintf(stderr, "  replica 1 killed at %.0f rows\n", at);
    /* The writers go on through replica 2 until every offset is committed.
     * Replica 2 need not hold every row yet: a block replica 1 stored (and
     * registered in ZooKeeper) just before it died is ignored when sent to
     * replica 2 again, and reaches replica 2 once replica 1 is back. */
    int64_t low[16], high[16], committed[16];
    int done = 0;
    for (int i = 0; i < 1200 && !done; i++) {
        clock_sleep_ms(100);
        CHECK_EQ(test_kafka_watermarks(&env.kafka, "eorf", low, high, 16), PARTS);
        CHECK_EQ(test_kafka_committed(&env.kafka, "eorf", "eorf", committed, 16), PARTS);
        done = 1;
        for (int p = 0; p < PARTS; p++)
            done &= committed[p] == high[p];
    }
    double with_one = test_ch_scalar(r2, "SELECT count() FROM eorf"), failovers = 0;
    int metric = sink_env_metric(&s, "sluice_sink_clickhouse_failovers", NULL, &failovers);
    int restarted = test_ch_restart(r1); /* first: the next tests need the cluster whole */
    CHECK(done);
    fprintf(stderr, "  replica 2 holds %.0f rows with replica 1 down\n", with_one);
    CHECK_EQ(metric, 0);
    CHECK(failovers >= 1);
    CHECK_EQ(restarted, 0);
    CHECK_EQ(test_proc_stop(&s, SIGTERM, 30000), 0);
    /* both replicas converge (replication, not the sink) */
    for (int k = 0; k < 2; k++) {
        test_ch *rk = k ? r2 : r1;
        double caught = 0;
        for (int i = 0; i < 1200 && caught < good_ids(N); i++) {
            caught = test_ch_scalar(rk, "SELECT count() FROM eorf");
            if (caught < good_ids(N)) clock_sleep_ms(100);
        }
        CHECK_EQ(caught, good_ids(N));
    }
    CHECK_EQ(test_ch_scalar(r1, "SELECT uniqExact(id) FROM eorf"), good_ids(N));
    CHECK_EQ(test_ch_scalar(r1, "SELECT count() FROM eorf_all"), good_ids(N));
    CHECK_EQ(test_ch_scalar(r2, "SELECT count() FROM eorf_all"), good_ids(N));
    check_exact("eorf", N, PARTS);
}

/* A table that cannot deduplicate: with delivery left to auto the route
 * says at start why it runs at least once; demanding exactly_once stops
 * the sink with the reason (exit 2). */
static void test_table_that_cannot(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "eoplain", 2), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE eoplain (id UInt64, v String) ENGINE = MergeTree "
                                "ORDER BY id"),
             0);
    char config[700];
    CHECK_EQ(sink_env_config(&env, "eoplain-auto",
                             "sink:\n  group_id: eoplain\n  routes:\n"
                             "    - topic: eoplain\n      table: eoplain\n",
                             config, sizeof config),
             0);
    test_proc s;
    CHECK_EQ(run_sink(&s, config, "eoplain-auto", NULL), 0);
    char line[1024];
    CHECK_EQ(test_proc_wait_log(&s, "route delivers at least once", 0, line, sizeof line), 0);
    CHECK_CONTAINS(line, "MergeTree on ClickHouse 18.16");
    double eo = -1;
    CHECK_EQ(sink_env_metric(&s, "sluice_sink_route_exactly_once", NULL, &eo), 0);
    CHECK_EQ(eo, 0);
    CHECK_EQ(produce_range("eoplain", 1, 101), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM eoplain", 100, 60000), 100);
    CHECK_EQ(test_proc_stop(&s, SIGTERM, 30000), 0);

    CHECK_EQ(sink_env_config(&env, "eoplain-eo",
                             "sink:\n  group_id: eoplain\n  routes:\n"
                             "    - topic: eoplain\n      table: eoplain\n"
                             "      delivery: exactly_once\n",
                             config, sizeof config),
             0);
    CHECK_EQ(sink_env_run_sink(&env, &s, config, "eoplain-eo", 0, 0), 0);
    CHECK_EQ(test_proc_wait(&s, 60000), 2);
    CHECK_EQ(test_proc_wait_log(&s, "delivery: exactly_once, but", 0, line, sizeof line), 0);
    CHECK_CONTAINS(line, "eoplain");
}

/* Commit offsets (and metadata, NULL for none) for a group no member has
 * joined yet, as the dead owner of a batch would have left them. */
static int commit_for_group(const char *group, const char *topic, int n, const int64_t *offsets,
                            const char *const *metadata)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", env.kafka.bootstrap, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr)) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++) {
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, topic, p);
        tp->offset = offsets[p];
        if (metadata[p]) {
            tp->metadata_size = strlen(metadata[p]);
            tp->metadata = malloc(tp->metadata_size);
            memcpy(tp->metadata, metadata[p], tp->metadata_size);
        }
    }
    rd_kafka_resp_err_t e = rd_kafka_commit(rk, l, 0);
    for (int p = 0; !e && p < n; p++)
        e = l->elems[p].err;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return e ? -1 : 0;
}

/* An intent found on one partition names another partition too, which
 * has moved on since (its owner replayed the intent, committed past it
 * and went on consuming). The replay reads that member for the block but
 * must leave it alone: not commit its offset back to the intent's end,
 * nor start reading it there again (which stored a partition's later
 * rows twice in test_two_sinks_one_killed, now and then). */
static void test_replay_member_moved_on(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "eomv", 2), 0);
    CHECK_EQ(create_replicated("eomv"), 0);
    for (int i = 0; i < 200; i++) {
        char json[64], key[16];
        int n = snprintf(json, sizeof json, "{\"id\":%d,\"v\":\"e%d\"}", i, i);
        int k = snprintf(key, sizeof key, "%d", i);
        CHECK_EQ(test_produce(env.prod, "eomv", i / 100, key, (size_t)k, json, (size_t)n), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 60000), 0);
    /* Partition 0 is done up to its end; partition 1 still has the intent
     * open: ids 0..49 of partition 0 and 100..149 of partition 1. */
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    const ch_type *u64 = NULL, *str = NULL;
    sluice_error err;
    CHECK_EQ(ch_type_parse("UInt64", &a, &u64, &err), 0);
    CHECK_EQ(ch_type_parse("String", &a, &str, &err), 0);
    plan_column cols[2] = {{.name = "id", .type = u64, .insertable = 1},
                           {.name = "v", .type = str, .insertable = 1}};
    eo_member members[2] = {{0, 0, 50}, {1, 0, 50}};
    eo_intent in = {.block = 0x5eed,
                    .now_s = 1796000000,
                    .reader_id = -1,
                    .cols_hash = eo_columns_hash(cols, 2),
                    .max_insert_bytes = 1 << 20,
                    .members = members,
                    .n_members = 2};
    char text[EO_METADATA_MAX];
    size_t len = 0;
    CHECK_EQ(eo_intent_format(&in, text, sizeof text, &len, &err), 0);
    arena_free(&a);
    const int64_t offsets[2] = {100, 0};
    const char *metadata[2] = {NULL, text};
    CHECK_EQ(commit_for_group("eomv", "eomv", 2, offsets, metadata), 0);

    char config[700];
    write_config("eomv", "eomv", NULL, NULL, config, sizeof config);
    test_proc s;
    CHECK_EQ(run_sink(&s, config, "eomv", NULL), 0);
    CHECK_EQ(test_proc_wait_log(&s, "replaying an intent found in Kafka", 30000, NULL, 0), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM eomv WHERE id >= 100", 100, 60000), 100);
    CHECK_EQ(test_proc_stop(&s, SIGTERM, 30000), 0);
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM eomv"), 150);
    CHECK_EQ(sink_env_scalar(&env, "SELECT uniqExact(id) FROM eomv WHERE id < 50 OR id >= 100"),
             150);
    int64_t committed[2];
    CHECK_EQ(test_kafka_committed(&env.kafka, "eomv", "eomv", committed, 2), 2);
    CHECK_EQ(committed[0], 100);
    CHECK_EQ(committed[1], 100);
}

static void test_cleanup(void)
{
    sink_env_stop(&env);
}

TEST_MAIN(T(test_failpoints), T(test_table_that_cannot), T(test_answer_withheld),
          T(test_replica_failover), T(test_clickhouse_killed), T(test_two_sinks_one_killed),
          T(test_replay_member_moved_on), T(test_kill9_twenty_times), T(test_cleanup))
