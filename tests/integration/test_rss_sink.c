/*
 * test_rss_sink.c — the sink's memory stays under sink.memory_limit whatever
 * the backlog, measured as the resident set of the `sluice sink` process,
 * sampled every 100 ms:
 *
 *  1. ClickHouse stopped for 30 s mid-stream while producers keep going
 *     (a backlog several times the limit): partitions pause, INSERTs retry,
 *     RSS stays under the limit; when ClickHouse comes back every row lands.
 *  2. ClickHouse rate-limited to one INSERT a second (a proxy in front of
 *     the real server serves one request at a time, each held a second)
 *     with a growing backlog: RSS stays under the limit throughout.
 *  3. The smallest limit (48 MiB) with 4 writers and 64 partitions, every
 *     INSERT held 300 ms: the allocator's slack (sink.c,
 *     bound_allocator_slack) is part of the RSS too, and must fit.
 *
 * RSS only means something in an uninstrumented build (ASan's shadow memory
 * and quarantine would dominate it), so `make test` runs tests named
 * test_rss_* in the optimised build and the rest under ASan.
 *
 * The backlog is made of compressible JSON: the mock broker counts the
 * compressed batches against its 5 MiB per partition, so it holds many
 * times the sink's limit without dropping — which the end of each test
 * checks, or it would prove nothing.
 */
#include "test.h"

#include "common/clock.h"
#include "fault_proxy.h"
#include "sink_env.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#define LIMIT_MIB 64
static sink_env env;

static int setup(void)
{
    if (env.dir) return 0;
    return sink_env_start(&env, "sluice-rss", 1, 0);
}

/* A producer thread: JSON events of ~1 KiB with ids from `next`, as fast as
 * it can or at `per_s`, until `stop`. */
typedef struct feeder {
    test_producer *p;
    const char *topic;
    _Atomic long next;
    _Atomic int stop;
    long per_s;
    int failed;
} feeder;

static int produce_one(feeder *f, long id)
{
    static const char pad[] = "the quick brown fox jumps over the lazy dog, the quick brown fox ";
    char v[1200];
    int n = snprintf(v, sizeof v, "{\"id\":%ld,\"note\":\"%s%s%s%s%s%s%s%s%s%s%s%s\"}", id, pad,
                     pad, pad, pad, pad, pad, pad, pad, pad, pad, pad, pad);
    return test_produce(f->p, f->topic, -1, NULL, 0, v, (size_t)n);
}

static void *feed(void *arg)
{
    feeder *f = arg;
    int64_t t0 = clock_mono_ms();
    while (!atomic_load(&f->stop)) {
        long id = atomic_fetch_add(&f->next, 1);
        if (produce_one(f, id) != 0) f->failed = 1;
        if (f->per_s && id % 100 == 0) {
            int64_t due = t0 + id * 1000 / f->per_s;
            int64_t now = clock_mono_ms();
            if (due > now) clock_sleep_ms(due - now);
        }
    }
    return NULL;
}

static uint64_t sample_for(pid_t pid, int ms)
{
    uint64_t max = 0;
    for (int t = 0; t < ms; t += 100) {
        uint64_t rss = sink_env_rss(pid);
        if (rss > max) max = rss;
        clock_sleep_ms(100);
    }
    return max;
}

/* Feed `topic` at per_s events a second for 20 s while sampling the sink's
 * RSS; the events produced (all flushed) into *total, the peak RSS back. */
static uint64_t feed_for_20s(const test_proc *sink, const char *topic, long per_s, long *total)
{
    feeder fd = {.p = env.prod, .topic = topic, .per_s = per_s};
    pthread_t th;
    pthread_create(&th, NULL, feed, &fd);
    uint64_t max_rss = sample_for(sink->pid, 20000);
    atomic_store(&fd.stop, 1);
    pthread_join(th, NULL);
    *total = test_producer_flush(env.prod, 60000) == 0 ? atomic_load(&fd.next) : -1;
    return max_rss;
}

static void test_clickhouse_outage_memory_flat(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "outage", 64),
             0); /* many partitions: each one's first fetch is several times its high mark */
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE outage (id UInt64, note String) "
                                "ENGINE = MergeTree ORDER BY id"),
             0);
    char config[700];
    CHECK_EQ(sink_env_config(&env, "outage",
                             "sink:\n  group_id: outage\n  memory_limit: "
                             "64MiB"
                             "\n"
                             "  retry_initial: 50ms\n  retry_max: 1s\n"
                             "  routes:\n    - topic: outage\n      table: outage\n"
                             "      batch: {max_rows: 20000, max_bytes: 4MiB, max_age: 200ms}\n",
                             config, sizeof config),
             0);
    feeder f = {.p = env.prod, .topic = "outage"};
    for (long i = 0; i < 20000; i++)
        CHECK_EQ(produce_one(&f, atomic_fetch_add(&f.next, 1)), 0);
    CHECK_EQ(test_producer_flush(env.prod, 60000), 0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "outage-sink", 1, 30000), 0);
    CHECK(sink_env_wait_for(&env, "SELECT count() FROM outage", 5000, 60000) >= 5000);

    /* ClickHouse goes away for 30 s; producers keep going. */
    test_ch_stop(&env.ch);
    /* ~10 MiB/s for 30 s: about five times the limit, and (compressed) well
     * within what the mock broker keeps per partition. */
    f.per_s = 10000;
    pthread_t th;
    pthread_create(&th, NULL, feed, &f);
    uint64_t max_rss = sample_for(sink.pid, 30000);
    atomic_store(&f.stop, 1);
    pthread_join(th, NULL);
    CHECK_EQ(test_producer_flush(env.prod, 60000), 0);
    CHECK(!f.failed);
    long total = atomic_load(&f.next);
    fprintf(stderr, "outage: produced %ld events (~%ld MiB), sink max RSS %.1f MiB, limit %d MiB\n",
            total, total * 1050 / (1 << 20), (double)max_rss / (1 << 20), LIMIT_MIB);
    CHECK(total * 1050 > 3L * LIMIT_MIB * (1 << 20)); /* the backlog is several times the limit */
    CHECK(max_rss > 0);
    CHECK(max_rss < (uint64_t)LIMIT_MIB << 20);
    double pauses = 0, retries = 0;
    CHECK_EQ(sink_env_metric(&sink, "sluice_sink_partition_pauses_total", NULL, &pauses), 0);
    CHECK_EQ(sink_env_metric(&sink, "sluice_sink_insert_retries_total", NULL, &retries), 0);
    CHECK(pauses > 0);
    CHECK(retries > 0);

    /* ClickHouse is back: everything lands, nothing twice. */
    CHECK_EQ(test_ch_start(&env.ch, env.ch.dir), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM outage", (double)total, 240000),
             (double)total);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 60000), 0);
    fprintf(stderr, "outage: %.0f rows for %ld events (duplicates: %.0f)\n",
            sink_env_scalar(&env, "SELECT count() FROM outage"), total,
            sink_env_scalar(&env, "SELECT count() FROM outage") - (double)total);
    CHECK(test_kafka_nothing_dropped(&env.kafka, "outage"));
}

static void test_rate_limited_clickhouse_memory_flat(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "slow", 16), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE slow (id UInt64, note String) "
                                "ENGINE = MergeTree ORDER BY id"),
             0);
    fault_proxy *fp = fault_proxy_start(env.ch.url);
    CHECK(fp);
    fault_proxy_set_delay_ms(fp, 1000);
    fault_proxy_set_serial(fp, 1); /* one INSERT a second, however many writers */
    char config[700];
    CHECK_EQ(sink_env_config_via(&env, "slow", fault_proxy_url(fp),
                                 "sink:\n  group_id: slow\n  memory_limit: 64MiB\n  writers: 2\n"
                                 "  routes:\n    - topic: slow\n      table: slow\n"
                                 "      batch: {max_rows: 5000, max_bytes: 2MiB, max_age: 200ms}\n",
                                 config, sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "slow-sink", 1, 30000), 0);
    long total = 0;
    uint64_t max_rss = feed_for_20s(&sink, "slow", 10000, &total); /* ~10 MiB/s of events */
    CHECK(total > 0);
    double landed = sink_env_scalar(&env, "SELECT count() FROM slow");
    fprintf(stderr,
            "rate-limited: produced %ld events, %.0f landed during the 20 s, sink max RSS "
            "%.1f MiB, limit %d MiB\n",
            total, landed, (double)max_rss / (1 << 20), LIMIT_MIB);
    CHECK(landed < (double)total / 2); /* the backlog really grew */
    CHECK(max_rss < (uint64_t)LIMIT_MIB << 20);
    fault_proxy_set_serial(fp, 0);
    fault_proxy_set_delay_ms(fp, 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM slow", (double)total, 240000),
             (double)total);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 60000), 0);
    fault_proxy_stop(fp);
    CHECK(test_kafka_nothing_dropped(&env.kafka, "slow"));
}

static void test_smallest_limit_four_writers(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "small", 64), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE small (id UInt64, note String) "
                                "ENGINE = MergeTree ORDER BY id"),
             0);
    fault_proxy *fp = fault_proxy_start(env.ch.url);
    CHECK(fp);
    fault_proxy_match(fp, "INSERT");
    fault_proxy_set_delay_ms(fp, 300);
    char config[700];
    CHECK_EQ(sink_env_config_via(&env, "small", fault_proxy_url(fp),
                                 "sink:\n  group_id: small\n  memory_limit: 48MiB\n  writers: 4\n"
                                 "  routes:\n    - topic: small\n      table: small\n",
                                 config, sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "small-sink", 1, 30000), 0);
    clock_sleep_ms(1000);
    fprintf(stderr, "smallest limit: sink RSS when assigned and idle %.1f MiB\n",
            (double)sink_env_rss(sink.pid) / (1 << 20));
    long total = 0;
    uint64_t max_rss = feed_for_20s(&sink, "small", 20000, &total);
    CHECK(total > 0);
    double landed = sink_env_scalar(&env, "SELECT count() FROM small");
    fprintf(stderr,
            "smallest limit: produced %ld events, %.0f landed during the 20 s, sink max RSS "
            "%.1f MiB, limit 48 MiB\n",
            total, landed, (double)max_rss / (1 << 20));
    CHECK(landed < (double)total); /* INSERTs were the bottleneck */
    CHECK(max_rss < (uint64_t)48 << 20);
    fault_proxy_set_delay_ms(fp, 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM small", (double)total, 240000),
             (double)total);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 60000), 0);
    fault_proxy_stop(fp);
    CHECK(test_kafka_nothing_dropped(&env.kafka, "small"));
}

static void test_cleanup(void)
{
    sink_env_stop(&env);
}

TEST_MAIN(T(test_clickhouse_outage_memory_flat), T(test_rate_limited_clickhouse_memory_flat),
          T(test_smallest_limit_four_writers), T(test_cleanup))
