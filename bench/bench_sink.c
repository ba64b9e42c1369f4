/*
 * bench_sink.c — `sluice sink` against its peers on the same topic, in one
 * run, everything real: the mock Kafka cluster in its own process,
 * ClickHouse 18.16, `sluice registry`.
 *
 *  1. Throughput: a topic prefilled with N (default 1 M) page events, as
 *     JSON and as Avro (Confluent framing), drained into a MergeTree table.
 *     sluice: rows/s, CPU µs per row (the sink process, and ClickHouse's
 *     server CPU separately), peak RSS, INSERTs. Peers on the JSON topic:
 *       - kcat -C … | clickhouse-client --query 'INSERT … FORMAT JSONEachRow'
 *       - ClickHouse's own Kafka engine + a materialized view
 *       - python3-confluent-kafka + python3-clickhouse-driver
 *         (bench/peer_sink_python.py)
 *  2. RSS against backlog size with ClickHouse stalled (every INSERT held
 *     by a proxy): 100 k and 1 M events waiting.
 *  3. librdkafka pause/resume calls per million messages with a slow
 *     ClickHouse: hysteresis (resume at 50 % of the high mark) against the
 *     naive policy (resume as soon as below it, resume_percent 100).
 *  4. rows/s at 8 and 256 partitions.
 *  5. (SLUICE_BENCH_ONLY=eo) exactly-once against at-least-once.
 *  (SLUICE_BENCH_ONLY=slow runs section 3 alone, =parts section 4.)
 *  6. (SLUICE_BENCH_ONLY=types) the same events as Avro, Protobuf and
 *     JSON-Schema topics of the same size, alternating runs: rows/s and
 *     sink CPU per row of each, and the ratio to Avro.
 *  Beside part 1, in the same run, the ceilings: each stage alone (reading
 *  the topic with kcat -C; ClickHouse taking the same rows from a file in
 *  RowBinary, Native and JSONEachRow, into MergeTree and ENGINE = Null),
 *  and where a row's time goes inside the sink (its own accounting,
 *  sluice_sink_stage_row_seconds and the threads' busy/idle split).
 *
 * Every topic is checked at the end for data the mock broker dropped
 * (it keeps ~5 MiB per partition), and every table for N distinct events:
 * a figure from a run that lost data would mean nothing.
 *
 * usage: bench_sink [--events N] [--part1] (needs SLUICE_BIN, SLUICE_SOURCE_DIR and
 * SLUICE_MOCK_KAFKA, as bench/run.sh sets them)
 */
#include "codec/avro_json.h"
#include "codec/json_lex.h"
#include "codec/json_proto.h"
#include "codec/proto_schema.h"
#include "common/buf.h"
#include "common/clock.h"
#include "fault_proxy.h"
#include "sink_env.h"

#include <sluice/avro.h>
#include <sluice/sr.h>
#include <sluice/wire.h>

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sink_env env;
static long events = 1000000;

#define COLUMNS                                                                                    \
    "event_id String, ts DateTime, user_id Nullable(String), "                                     \
    "type Enum8('VIEW' = 1, 'CLICK' = 2, 'ADD_TO_CART' = 3, 'PURCHASE' = 4), url String, "         \
    "referrer Nullable(String), duration_ms UInt32, amount Nullable(Float64), device String, "     \
    "consent UInt8"

static const char *avro_schema =
    "{\"type\":\"record\",\"name\":\"PageEvent\",\"namespace\":\"com.acme\",\"fields\":["
    "{\"name\":\"event_id\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
    "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"user_id\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"type\",\"type\":{\"type\":\"enum\",\"name\":\"Type\",\"symbols\":[\"VIEW\","
    "\"CLICK\",\"ADD_TO_CART\",\"PURCHASE\"]}},"
    "{\"name\":\"url\",\"type\":\"string\"},"
    "{\"name\":\"referrer\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"duration_ms\",\"type\":\"int\"},"
    "{\"name\":\"amount\",\"type\":[\"null\",\"double\"],\"default\":null},"
    "{\"name\":\"device\",\"type\":\"string\"},"
    "{\"name\":\"consent\",\"type\":\"boolean\"}]}";

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* Event i as JSON (~330 bytes): ts as "YYYY-MM-DD hh:mm:ss", or as epoch
 * milliseconds for the Avro encoder (timestamp-millis). */
static int event_json(long i, int ts_millis, char *out, size_t n)
{
    static const char *types[] = {"VIEW", "CLICK", "ADD_TO_CART", "PURCHASE"};
    static const char *devices[] = {"DESKTOP", "MOBILE", "TABLET"};
    static const char *paths[] = {"p", "c", "search", "cart", "checkout"};
    uint64_t h = mix((uint64_t)i), g = mix(h);
    time_t ts = 1795000000 + i / 50;
    char when[40];
    if (ts_millis) {
        snprintf(when, sizeof when, "%lld", (long long)ts * 1000 + (long long)(h % 1000));
    } else {
        struct tm tm;
        gmtime_r(&ts, &tm);
        when[0] = '"';
        strftime(when + 1, sizeof when - 2, "%Y-%m-%d %H:%M:%S", &tm);
        strcat(when, "\"");
    }
    char user[32] = "null", ref[96] = "null", amount[32] = "null";
    if (h % 5) snprintf(user, sizeof user, "\"u%06u\"", (unsigned)(g % 200000));
    if (h % 3 == 0)
        snprintf(ref, sizeof ref, "\"https://www.example.org/search?q=item+%u\"",
                 (unsigned)(g % 5000));
    if (h % 4 == 3)
        snprintf(amount, sizeof amount, "%u.%02u", (unsigned)(g % 500), (unsigned)(h % 100));
    return snprintf(out, n,
                    "{\"event_id\":\"%08x-%04x-4%03x-a%03x-%012llx\",\"ts\":%s,\"user_id\":%s,"
                    "\"type\":\"%s\",\"url\":\"https://shop.example.com/%s/%u?utm_source=news"
                    "&utm_medium=email\",\"referrer\":%s,\"duration_ms\":%u,\"amount\":%s,"
                    "\"device\":\"%s\",\"consent\":%s}",
                    (unsigned)(h >> 32), (unsigned)(h >> 16) & 0xffff, (unsigned)h & 0xfff,
                    (unsigned)(g >> 52) & 0xfff, (unsigned long long)(i & 0xffffffffffffLL), when,
                    user, types[h % 4], paths[g % 5], (unsigned)(g % 100000), ref,
                    (unsigned)(h % 60000), amount, devices[g % 3],
                    ts_millis ? (h & 1 ? "true" : "false") : (h & 1 ? "1" : "0"));
}

static double now_s(void)
{
    return (double)clock_mono_ms() / 1000.0;
}

/* utime + stime of a process, in seconds (0 if it is gone). */
static double proc_cpu_s(pid_t pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0;
    char *p = strrchr(line, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Peak resident set (VmHWM) of a live process, in bytes. */
static uint64_t proc_hwm(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    uint64_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lu kB", (unsigned long *)&kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

static pid_t ch_pid(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/pid", sink_env_ch(&env)->dir);
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (f) {
        if (fscanf(f, "%d", &pid) != 1) pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

static int ch_tcp_port(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tcp_port", sink_env_ch(&env)->dir);
    FILE *f = fopen(path, "r");
    int port = 0;
    if (f) {
        if (fscanf(f, "%d", &port) != 1) port = 0;
        fclose(f);
    }
    return port;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_sink: %s\n", what);
    sink_env_stop(&env);
    exit(1);
}

static void create_table(const char *table)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (" COLUMNS ") ENGINE = MergeTree "
             "ORDER BY (type, ts)",
             table);
    if (sink_env_sql(&env, sql) != 0) die("cannot create a table");
}

/* The same columns in a ReplicatedMergeTree (one replica, ZooKeeper): a
 * table exactly-once can run on. */
static void create_replicated(const char *table)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (" COLUMNS ") ENGINE = ReplicatedMergeTree("
             "'/clickhouse/tables/{shard}/%s', '{replica}') ORDER BY (type, ts)",
             table, table);
    if (sink_env_sql(&env, sql) != 0) die("cannot create a table");
}

/* Topic with `parts` partitions and n events, JSON or Avro. */
static void prefill(const char *topic, int parts, long n, int avro)
{
    if (test_kafka_create_topic(&env.kafka, topic, parts) != 0) die("cannot create a topic");
    sluice_avro_schema *s = NULL;
    int32_t id = 0;
    if (avro) {
        char subject[160];
        snprintf(subject, sizeof subject, "%s-value", topic);
        sluice_error err;
        if (sluice_sr_register(env.sr, subject, avro_schema, NULL, &id, &err) != 0 ||
            sluice_avro_schema_parse(avro_schema, strlen(avro_schema), &s, NULL) != 0)
            die("cannot register the Avro schema");
    }
    /* Spread evenly by hand: librdkafka's sticky partitioner puts long runs
     * of keyless messages on one partition, past what the mock keeps. A
     * producer of its own that waits 100 ms to fill its batches: otherwise
     * the topic's record batches would be as small as the encoding here is
     * slow (Avro, encoded through jansson, came out at ~9 messages a batch
     * and the sink's fetches paid for it), which is not what a topic fed by
     * a busy producer looks like. */
    static const char *const props[] = {"linger.ms", "100", "batch.num.messages", "10000", NULL};
    test_producer *prod = test_producer_new_conf(env.kafka.bootstrap, "lz4", props);
    if (!prod) die("cannot create a producer");
    /* Encoded 65 536 at a time, then produced in one burst: encoding Avro
     * through jansson between produce calls would cut smaller record
     * batches than JSON's, and the mock broker hands out one record batch
     * per partition per fetch, so the sink's reading would pay for the
     * prefill's speed (measured: 0.27-1.1 M msgs/s over the same events). */
    enum { CHUNK = 65536 };
    size_t *ends = malloc(CHUNK * sizeof *ends);
    if (!ends) die("out of memory");
    double t0 = now_s();
    buf chunk;
    buf_init(&chunk, SIZE_MAX);
    uint64_t bytes = 0;
    for (long first = 0; first < n; first += CHUNK) {
        long count = n - first < CHUNK ? n - first : CHUNK;
        buf_reset(&chunk);
        for (long k = 0; k < count; k++) {
            char js[1024];
            int len = event_json(first + k, avro, js, sizeof js);
            if (avro) {
                json_t *v = json_loadb(js, (size_t)len, 0, NULL);
                uint8_t hdr[5];
                sluice_wire_write_header(hdr, id);
                buf_append(&chunk, hdr, 5);
                avro_json_errors errs;
                if (!v || avro_json_encode(sluice_avro_schema_root(s), v, &chunk, &errs) != 0)
                    die("an event does not encode");
                json_decref(v);
            } else {
                buf_append(&chunk, js, (size_t)len);
            }
            ends[k] = chunk.len;
        }
        for (long k = 0; k < count; k++) {
            size_t from = k ? ends[k - 1] : 0;
            long i = first + k;
            if (test_produce(prod, topic, (int32_t)(i % parts), NULL, 0, chunk.data + from,
                             ends[k] - from) != 0)
                die("produce failed");
        }
        bytes += chunk.len;
    }
    if (test_producer_flush(prod, 300000) != 0) die("prefill was not acknowledged");
    test_producer_free(prod);
    buf_free(&chunk);
    free(ends);
    sluice_avro_schema_free(s);
    printf("prefill %s: %ld %s events, %d partitions, %.1f MiB of values (%.0f B/event), "
           "%.1f s (lz4)\n",
           topic, n, avro ? "Avro" : "JSON", parts, (double)bytes / (1 << 20),
           (double)bytes / (double)n, now_s() - t0);
    fflush(stdout);
}

static void check_kept(const char *topic)
{
    if (test_kafka_nothing_dropped(&env.kafka, topic) != 1)
        die("the mock broker dropped data of a topic (over ~5 MiB per partition): "
            "figures would be meaningless");
}

/* Poll count() of table until n rows (or timeout): time of the first row
 * and of the last. Returns 0 when n rows arrived. */
static int wait_rows(const char *table, long n, int timeout_s, double *first, double *done)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count() FROM %s", table);
    double deadline = now_s() + timeout_s;
    *first = 0;
    while (now_s() < deadline) {
        double c = sink_env_scalar(&env, sql);
        if (c > 0 && *first == 0) *first = now_s();
        if (c >= (double)n) {
            *done = now_s();
            return 0;
        }
        clock_sleep_ms(100);
    }
    return -1;
}

static void check_distinct(const char *table, long n)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT uniqExact(event_id) FROM %s", table);
    double d = sink_env_scalar(&env, sql);
    if (d != (double)n) {
        fprintf(stderr, "bench_sink: %s has %.0f distinct events, want %ld\n", table, d, n);
        die("events missing");
    }
}

typedef struct sink_run {
    double rows_s, wall_s, cpu_us_row, ch_cpu_us_row;
    double consumed_s;  /* assignment -> every message consumed */
    double read_rows_s; /* messages/s between 10 % and 90 % consumed */
    double rows_s_99;   /* rows/s from assignment until 99 % had landed */
    uint64_t hwm;
    double inserts, pause_calls, resume_calls, pauses, rows, refetched, nudges;
    /* where the time went (the sink's own accounting) */
    double stage_ms[7], writer_s[4], consumer_s[2], busy_s;
} sink_run;

static const char *stage_names[7] = {"open",   "pending", "queued",    "decode",
                                     "insert", "dlq",     "completion"};
static const char *writer_states[4] = {"idle", "decode", "insert", "other"};

/* The sink's time accounting, read from its /metrics before it stops. */
static void read_breakdown(const test_proc *sink, sink_run *r)
{
    double rows = 0;
    sink_env_metric(sink, "sluice_sink_stage_rows", NULL, &rows);
    for (int i = 0; i < 7; i++) {
        char f[64];
        double v = 0;
        snprintf(f, sizeof f, "stage=\"%s\"", stage_names[i]);
        sink_env_metric(sink, "sluice_sink_stage_row_seconds", f, &v);
        r->stage_ms[i] = rows > 0 ? v / rows * 1e3 : 0;
    }
    for (int i = 0; i < 4; i++) {
        char f[64];
        snprintf(f, sizeof f, "state=\"%s\"", writer_states[i]);
        sink_env_metric(sink, "sluice_sink_writer_seconds", f, &r->writer_s[i]);
    }
    sink_env_metric(sink, "sluice_sink_consumer_seconds", "state=\"poll\"", &r->consumer_s[0]);
    sink_env_metric(sink, "sluice_sink_consumer_seconds", "state=\"work\"", &r->consumer_s[1]);
}

static void print_breakdown(const char *what, const sink_run *r)
{
    printf("  %s, where a row's time goes (mean ms per row):", what);
    for (int i = 0; i < 7; i++)
        printf(" %s %.1f", stage_names[i], r->stage_ms[i]);
    double wt = 0, ct = r->consumer_s[0] + r->consumer_s[1];
    for (int i = 0; i < 4; i++)
        wt += r->writer_s[i];
    printf("\n  %s, writer threads' time:", what);
    for (int i = 0; i < 4; i++)
        printf(" %s %.0f%%", writer_states[i], wt > 0 ? 100 * r->writer_s[i] / wt : 0);
    printf("; consumer thread: polling %.0f%%, working %.0f%%; %.0f partition pauses, %.0f "
           "messages re-fetched after a pause\n",
           ct > 0 ? 100 * r->consumer_s[0] / ct : 0, ct > 0 ? 100 * r->consumer_s[1] / ct : 0,
           r->pauses, r->refetched);
    fflush(stdout);
}

static void write_config(const char *name, const char *topic, const char *table, const char *extra,
                         const char *ch_url, char *config, size_t n)
{
    char yaml[2048];
    /* Experiments: more sink keys for every run (YAML lines under sink:). */
    const char *more = getenv("SLUICE_BENCH_SINK_KEYS");
    const char *delivery = getenv("SLUICE_BENCH_DELIVERY");
    /* ... and more route keys (YAML lines under the route, e.g.
     * "      batch: {max_bytes: 64MiB}\n"). */
    const char *route_more = getenv("SLUICE_BENCH_ROUTE_KEYS");
    snprintf(yaml, sizeof yaml,
             "sink:\n  group_id: %s\n%s%s"
             "  routes:\n    - topic: %s\n      table: %s\n      delivery: %s\n%s",
             name, extra ? extra : "", more ? more : "", topic, table, delivery ? delivery : "auto",
             route_more ? route_more : "");
    if (sink_env_config_via(&env, name, ch_url ? ch_url : sink_env_ch(&env)->url, yaml, config,
                            n) != 0)
        die("cannot write a config");
}

/* Run `sluice sink` over topic → table until n rows landed. */
/* Wait until ClickHouse merges nothing (at most 120 s): what one run's
 * INSERTs leave to merge would otherwise be counted as the next run's
 * server CPU, and take its cores. */
static void settle(void)
{
    for (int i = 0; i < 1200; i++) {
        if (sink_env_scalar(&env, "SELECT count() FROM system.merges") == 0) return;
        clock_sleep_ms(100);
    }
}

static sink_run run_sluice(const char *name, const char *topic, const char *table, long n,
                           const char *extra, const char *ch_url)
{
    sink_run r = {0};
    char config[700];
    write_config(name, topic, table, extra, ch_url, config, sizeof config);
    settle();
    double ch0 = proc_cpu_s(ch_pid());
    double t0 = now_s();
    test_proc sink;
    if (sink_env_run_sink(&env, &sink, config, name, 1, 60000) != 0)
        die("the sink did not get its partitions");
    double assigned = now_s(), first = 0, done = 0;
    /* Every 50 ms: the sink's consumed-messages counter and the table's
     * rows, so the run tells the rate at which the sink read the topic
     * (between 10 % and 90 % of it, no start or tail) apart from the time
     * the last batch took to come of age and land. */
    double t10 = 0, t90 = 0, tall = 0, t99 = 0;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count() FROM %s", table);
    for (double deadline = assigned + 900;;) {
        double consumed = 0, t = now_s();
        sink_env_metric(&sink, "sluice_sink_messages_total", NULL, &consumed);
        if (t10 == 0 && consumed >= 0.1 * (double)n) t10 = t;
        if (t90 == 0 && consumed >= 0.9 * (double)n) t90 = t;
        if (tall == 0 && consumed >= (double)n) tall = t;
        double c = sink_env_scalar(&env, sql);
        if (c > 0 && first == 0) first = now_s();
        if (t99 == 0 && c >= 0.99 * (double)n) t99 = now_s();
        if (c >= (double)n) {
            done = now_s();
            break;
        }
        if (t > deadline) die("the sink did not land every row");
        clock_sleep_ms(50);
    }
    r.consumed_s = tall > 0 ? tall - assigned : done - assigned;
    r.read_rows_s = t90 > t10 ? 0.8 * (double)n / (t90 - t10) : 0;
    r.rows_s_99 = t99 > assigned ? 0.99 * (double)n / (t99 - assigned) : 0;
    r.wall_s = done - t0;
    r.rows_s = (double)n / (done - assigned);
    r.cpu_us_row = proc_cpu_s(sink.pid) * 1e6 / (double)n;
    r.ch_cpu_us_row = (proc_cpu_s(ch_pid()) - ch0) * 1e6 / (double)n;
    r.hwm = proc_hwm(sink.pid);
    sink_env_metric(&sink, "sluice_sink_inserts_total", NULL, &r.inserts);
    sink_env_metric(&sink, "sluice_sink_pause_calls_total", NULL, &r.pause_calls);
    sink_env_metric(&sink, "sluice_sink_resume_calls_total", NULL, &r.resume_calls);
    sink_env_metric(&sink, "sluice_sink_partition_pauses_total", NULL, &r.pauses);
    sink_env_metric(&sink, "sluice_sink_rows_inserted_total", NULL, &r.rows);
    sink_env_metric(&sink, "sluice_sink_refetched_messages_total", NULL, &r.refetched);
    sink_env_metric(&sink, "sluice_sink_fetch_nudges_total", NULL, &r.nudges);
    read_breakdown(&sink, &r);
    if (test_proc_stop(&sink, SIGTERM, 60000) != 0) die("the sink did not exit 0 on SIGTERM");
    check_distinct(table, n);
    return r;
}

/* Run a shell command; wall seconds and the CPU seconds and peak RSS of
 * its processes (RUSAGE_CHILDREN, taken around it). */
static int run_shell(const char *cmd, double *wall, double *cpu, long *maxrss_kb)
{
    struct rusage a, b;
    getrusage(RUSAGE_CHILDREN, &a);
    double t0 = now_s();
    int rc = system(cmd);
    *wall = now_s() - t0;
    getrusage(RUSAGE_CHILDREN, &b);
    *cpu = (double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec) +
           (double)(b.ru_utime.tv_usec - a.ru_utime.tv_usec) / 1e6 +
           (double)(b.ru_stime.tv_sec - a.ru_stime.tv_sec) +
           (double)(b.ru_stime.tv_usec - a.ru_stime.tv_usec) / 1e6;
    *maxrss_kb = b.ru_maxrss;
    return rc;
}

static double peer_kcat(const char *topic, long n)
{
    create_table("peer_kcat");
    settle();
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "set -o pipefail; kcat -C -q -e -o beginning -b '%s' -t %s -f '%%s\\n' | "
             "clickhouse-client --host 127.0.0.1 --port %d "
             "--query 'INSERT INTO peer_kcat FORMAT JSONEachRow'",
             env.kafka.bootstrap, topic, ch_tcp_port());
    char wrapped[2200];
    snprintf(wrapped, sizeof wrapped, "bash -c \"%s\"", cmd);
    double ch0 = proc_cpu_s(ch_pid()), wall, cpu;
    long rss;
    if (run_shell(wrapped, &wall, &cpu, &rss) != 0)
        die("the kcat | clickhouse-client pipeline failed");
    double ch_cpu = proc_cpu_s(ch_pid()) - ch0;
    check_distinct("peer_kcat", n);
    printf("peer kcat|clickhouse-client JSONEachRow: %.0f rows/s, wall %.2f s, CPU %.2f us/row "
           "(kcat + client), ClickHouse server CPU %.2f us/row, peak RSS %.1f MiB (largest of "
           "the two), 1 INSERT\n",
           (double)n / wall, wall, cpu * 1e6 / (double)n, ch_cpu * 1e6 / (double)n,
           (double)rss / 1024);
    fflush(stdout);
    return (double)n / wall;
}

static void peer_kafka_engine(const char *topic, long n)
{
    create_table("peer_engine");
    settle();
    char sql[1400];
    snprintf(sql, sizeof sql,
             "CREATE TABLE peer_engine_queue (" COLUMNS ") ENGINE = Kafka('%s', '%s', "
             "'ch-engine', 'JSONEachRow')",
             env.kafka.bootstrap, topic);
    if (sink_env_sql(&env, sql) != 0) {
        printf("peer ClickHouse Kafka engine: could not be created (see above)\n");
        return;
    }
    double ch0 = proc_cpu_s(ch_pid()), t0 = now_s(), first, done;
    if (sink_env_sql(&env, "CREATE MATERIALIZED VIEW peer_engine_mv TO peer_engine AS "
                           "SELECT * FROM peer_engine_queue") != 0)
        die("cannot create the materialized view");
    int rc = wait_rows("peer_engine", n, 300, &first, &done);
    double ch_cpu = proc_cpu_s(ch_pid()) - ch0;
    sink_env_sql(&env, "DROP TABLE peer_engine_mv");
    sink_env_sql(&env, "DROP TABLE peer_engine_queue");
    if (rc != 0) {
        printf("peer ClickHouse Kafka engine: only %.0f of %ld rows after 300 s\n",
               sink_env_scalar(&env, "SELECT count() FROM peer_engine"), n);
        return;
    }
    /* The engine flushes every 7.5 s (stream_flush_interval_ms): rows
     * appear in a few large steps, so first -> last can be 0. */
    printf("peer ClickHouse Kafka engine + MV: %.0f rows/s (CREATE -> last row, its group join "
           "included), %.0f rows/s (first row -> last, if they differ), ClickHouse server CPU "
           "%.2f us/row (consume + parse + insert), %.0f distinct of %ld\n",
           (double)n / (done - t0), done > first ? (double)n / (done - first) : 0,
           ch_cpu * 1e6 / (double)n,
           sink_env_scalar(&env, "SELECT uniqExact(event_id) FROM peer_engine"), n);
    fflush(stdout);
}

static void peer_python(const char *topic, long n)
{
    create_table("peer_python");
    settle();
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char out[600], cmd[2048];
    snprintf(out, sizeof out, "%s/peer_python.out", env.dir);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/bench/peer_sink_python.py '%s' %s py-peer %d peer_python %ld "
             "> %s",
             src ? src : ".", env.kafka.bootstrap, topic, ch_tcp_port(), n, out);
    double ch0 = proc_cpu_s(ch_pid()), wall, cpu;
    long rss;
    if (run_shell(cmd, &wall, &cpu, &rss) != 0) die("the Python peer failed");
    double ch_cpu = proc_cpu_s(ch_pid()) - ch0;
    double first = 0, done = 0, inserts = 0;
    FILE *f = fopen(out, "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "first_message_s: %lf", &first);
        sscanf(line, "done_s: %lf", &done);
        sscanf(line, "inserts: %lf", &inserts);
    }
    if (f) fclose(f);
    check_distinct("peer_python", n);
    printf("peer python3-confluent-kafka + clickhouse-driver: %.0f rows/s (first message -> "
           "done), wall %.2f s, CPU %.2f us/row, ClickHouse server CPU %.2f us/row, peak RSS "
           "%.1f MiB, %.0f INSERTs\n",
           (double)n / (done - first), wall, cpu * 1e6 / (double)n, ch_cpu * 1e6 / (double)n,
           (double)rss / 1024, inserts);
    fflush(stdout);
}

static void print_sluice(const char *what, const sink_run *r, long n)
{
    printf("sluice sink %s: %.0f rows/s (assigned -> last row), wall %.2f s (start -> last row, "
           "3 s group join included), CPU %.2f us/row, ClickHouse server CPU %.2f us/row, peak "
           "RSS %.1f MiB, %.0f INSERTs (%.0f rows each)\n",
           what, r->rows_s, r->wall_s, r->cpu_us_row, r->ch_cpu_us_row, (double)r->hwm / (1 << 20),
           r->inserts, r->inserts ? (double)n / r->inserts : 0);
    printf("  %s, reading: every message consumed %.2f s after assignment (%.0f msgs/s), "
           "%.0f msgs/s between 10 %% and 90 %% of the topic; landing: %.0f rows/s until 99 %% "
           "had landed (the rest: the last batch, closed once every partition was read to its end, "
           "and its INSERT); %.0f fetch nudges\n",
           what, r->consumed_s, r->consumed_s > 0 ? (double)n / r->consumed_s : 0, r->read_rows_s,
           r->rows_s_99, r->nudges);
    fflush(stdout);
}

/* ---- ceilings: each stage alone, on the same machine, same run ---------------------------- */

typedef struct ceiling {
    double consume_rows_s, consume_us_row; /* kcat -C + the broker */
    double rb_rows_s, rb_us_row;           /* RowBinary from a file into MergeTree (server) */
    double null_rows_s, null_us_row;       /* the same into ENGINE = Null */
    double native_rows_s, native_us_row, native_null_us_row;
    double json_rows_s, json_us_row; /* JSONEachRow into MergeTree */
    double insert_us_row;            /* the cheapest MergeTree INSERT measured */
    const char *insert_how;
    double cpu_bound_rows_s; /* 2 cores / (consume + insert_us_row) */
} ceiling;

/* POST a file to ClickHouse's HTTP interface: wall seconds, server CPU. */
static int ch_post_file(const char *sql, const char *params, const char *file, double *wall,
                        double *server_cpu)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "curl -sS --fail -o /dev/null --data-binary @'%s' "
             "'%s/?%s%squery=%s'",
             file, sink_env_ch(&env)->url, params ? params : "", params ? "&" : "", sql);
    for (char *p = strstr(cmd, "query=") + 6; *p && *p != '\''; p++)
        if (*p == ' ') *p = '+';
    double ch0 = proc_cpu_s(ch_pid()), cpu;
    long rss;
    int rc = run_shell(cmd, wall, &cpu, &rss);
    *server_cpu = proc_cpu_s(ch_pid()) - ch0;
    return rc;
}

static void export_rows(const char *table, const char *format, const char *file)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "curl -sS --fail -o '%s' '%s/?query=SELECT+*+FROM+%s+FORMAT+%s'",
             file, env.ch.url, table, format);
    if (system(cmd) != 0) die("cannot export rows from ClickHouse");
}

static void insert_ceiling_with(const char *format, const char *engine, const char *params,
                                const char *file, long n, double *rows_s, double *us_row)
{
    char table[64], sql[1024];
    snprintf(table, sizeof table, "ceil_%s_%s", format, engine);
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", table);
    sink_env_sql(&env, sql);
    if (strcmp(engine, "Null") == 0)
        snprintf(sql, sizeof sql, "CREATE TABLE %s (" COLUMNS ") ENGINE = Null", table);
    else
        snprintf(sql, sizeof sql,
                 "CREATE TABLE %s (" COLUMNS ") ENGINE = MergeTree ORDER BY (type, ts)", table);
    if (sink_env_sql(&env, sql) != 0) die("cannot create a ceiling table");
    settle();
    snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT %s", table, format);
    double wall, cpu;
    if (ch_post_file(sql, params, file, &wall, &cpu) != 0) die("a ceiling INSERT failed");
    if (strcmp(engine, "Null") != 0) {
        char q[160];
        snprintf(q, sizeof q, "SELECT count() FROM %s", table);
        if (sink_env_scalar(&env, q) != (double)n) die("a ceiling INSERT lost rows");
    }
    *rows_s = (double)n / wall;
    *us_row = cpu * 1e6 / (double)n;
    printf("ceiling: INSERT %s from a file over HTTP into %s%s%s: %.0f rows/s, ClickHouse server "
           "CPU %.2f us/row\n",
           format, engine, params ? ", " : "", params ? params : "", *rows_s, *us_row);
    fflush(stdout);
}

static void insert_ceiling(const char *format, const char *engine, const char *file, long n,
                           double *rows_s, double *us_row)
{
    insert_ceiling_with(format, engine, NULL, file, n, rows_s, us_row);
}

/* Each stage alone: reading the topic (kcat -C to /dev/null, and the mock
 * broker serving it) and ClickHouse taking the same rows from a file —
 * exported from what the sink wrote — in RowBinary, Native and JSONEachRow,
 * into MergeTree and into ENGINE = Null (parsing only). */
static ceiling ceilings(const char *topic, const char *table, long n)
{
    ceiling c = {0};
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "kcat -C -q -e -o beginning -b '%s' -t %s -f '%%s\n' > /dev/null",
             env.kafka.bootstrap, topic);
    settle();
    double b0 = proc_cpu_s(env.kafka.proc.pid), wall, cpu;
    long rss;
    if (run_shell(cmd, &wall, &cpu, &rss) != 0) die("kcat -C failed");
    double broker = proc_cpu_s(env.kafka.proc.pid) - b0;
    c.consume_rows_s = (double)n / wall;
    c.consume_us_row = (cpu + broker) * 1e6 / (double)n;
    printf("ceiling: kcat -C of %s to /dev/null: %.0f rows/s, CPU %.2f us/row (kcat %.2f + "
           "broker %.2f)\n",
           topic, c.consume_rows_s, c.consume_us_row, cpu * 1e6 / (double)n,
           broker * 1e6 / (double)n);
    char rb[600], nat[600], js[600];
    snprintf(rb, sizeof rb, "%s/rows.rowbinary", env.dir);
    snprintf(nat, sizeof nat, "%s/rows.native", env.dir);
    snprintf(js, sizeof js, "%s/rows.json", env.dir);
    export_rows(table, "RowBinary", rb);
    export_rows(table, "Native", nat);
    export_rows(table, "JSONEachRow", js);
    insert_ceiling("RowBinary", "MergeTree", rb, n, &c.rb_rows_s, &c.rb_us_row);
    insert_ceiling("RowBinary", "Null", rb, n, &c.null_rows_s, &c.null_us_row);
    insert_ceiling("Native", "MergeTree", nat, n, &c.native_rows_s, &c.native_us_row);
    double nn_rows;
    insert_ceiling("Native", "Null", nat, n, &nn_rows, &c.native_null_us_row);
    insert_ceiling("JSONEachRow", "MergeTree", js, n, &c.json_rows_s, &c.json_us_row);
    /* Like for like: the Native file holds blocks of 65,536 rows (the
     * SELECT's block size), a RowBinary INSERT is cut into blocks of
     * max_insert_block_size (1,048,576) — the sort and the part written per
     * block differ. The same block size for both: */
    double eq_rows, eq_rb_us, eq_nat_us;
    insert_ceiling_with("RowBinary", "MergeTree", "max_insert_block_size=65536", rb, n, &eq_rows,
                        &eq_rb_us);
    insert_ceiling_with("Native", "MergeTree", "max_insert_block_size=65536", nat, n, &eq_rows,
                        &eq_nat_us);
    printf("ceiling: Native against RowBinary in blocks of 65,536 rows: %.2f of its server CPU "
           "per row\n",
           eq_nat_us / eq_rb_us);
    /* The ceiling takes the cheapest way ClickHouse took the rows into
     * MergeTree: a sink may send any format in any block size, and one
     * 1,048,576-row block costs the server about twice what 65,536-row
     * blocks do (the sort), so the 1 M-row RowBinary INSERT alone would
     * flatter the sink. */
    struct {
        double us;
        const char *how;
    } ins[4] = {{c.rb_us_row, "RowBinary"},
                {eq_rb_us, "RowBinary in blocks of 65,536"},
                {c.native_us_row, "Native"},
                {eq_nat_us, "Native in blocks of 65,536"}};
    c.insert_us_row = ins[0].us;
    c.insert_how = ins[0].how;
    for (int i = 1; i < 4; i++)
        if (ins[i].us < c.insert_us_row) {
            c.insert_us_row = ins[i].us;
            c.insert_how = ins[i].how;
        }
    c.cpu_bound_rows_s = 2e6 / (c.consume_us_row + c.insert_us_row);
    printf("ceiling: a sink that cost nothing itself, CPU-bound on 2 cores: %.0f rows/s (2 cores "
           "/ (%.2f us consume + %.2f us insert, the cheapest measured: %s))\n",
           c.cpu_bound_rows_s, c.consume_us_row, c.insert_us_row, c.insert_how);
    fflush(stdout);
    return c;
}

/* RSS with ClickHouse stalled: a proxy holds every INSERT for 20 s. */
static void rss_vs_backlog(const char *topic, long backlog)
{
    fault_proxy *fp = fault_proxy_start(env.ch.url);
    if (!fp) die("cannot start the proxy");
    /* INSERTs only: the sink's start-up questions (version, table, columns)
     * must be answered for it to subscribe. Longer than the sampling; the
     * proxy's stop waits it out. */
    fault_proxy_match(fp, "INSERT");
    fault_proxy_set_delay_ms(fp, 20000);
    char name[64], config[700];
    snprintf(name, sizeof name, "stall-%ld", backlog);
    write_config(name, topic, "stalled", "  memory_limit: 64MiB\n  shutdown_timeout: 0s\n",
                 fault_proxy_url(fp), config, sizeof config);
    test_proc sink;
    if (sink_env_run_sink(&env, &sink, config, name, 1, 60000) != 0)
        die("the stalled sink did not get its partitions");
    uint64_t max = 0;
    for (int t = 0; t < 150; t++) { /* 15 s, every 100 ms */
        uint64_t rss = sink_env_rss(sink.pid);
        if (rss > max) max = rss;
        clock_sleep_ms(100);
    }
    double buffered = 0, paused = 0, queue = 0;
    sink_env_metric(&sink, "sluice_sink_partition_buffered_bytes", NULL, &buffered);
    sink_env_metric(&sink, "sluice_sink_partition_paused", NULL, &paused);
    sink_env_metric(&sink, "sluice_sink_queue_bytes", NULL, &queue);
    test_proc_stop(&sink, SIGKILL, 10000);
    fault_proxy_stop(fp);
    printf("stalled ClickHouse, backlog %ld events (%.0f MiB): sink peak RSS %.1f MiB "
           "(memory_limit 64 MiB), partition buffers %.1f MiB, work queue %.1f MiB, %.0f "
           "partitions paused\n",
           backlog, (double)backlog * 330 / (1 << 20), (double)max / (1 << 20),
           buffered / (1 << 20), queue / (1 << 20), paused);
    fflush(stdout);
}

static void print_sluice(const char *what, const sink_run *r, long n);

/* Exactly-once against at-least-once: the same topic into the same kind of
 * table (ReplicatedMergeTree), the route's delivery the only difference,
 * alternating runs. */
static void eo_compare(void)
{
    prefill("ev_eo", 64, events, 0);
    double alo_rows = 0, eo_rows = 0, alo_cpu = 0, eo_cpu = 0;
    const int rounds = 2;
    for (int k = 0; k < rounds * 2; k++) {
        int eo = k % 2;
        char name[32], table[48];
        snprintf(name, sizeof name, "%s%d", eo ? "eo" : "alo", k / 2);
        snprintf(table, sizeof table, "%s_t", name);
        create_replicated(table);
        char extra[128];
        snprintf(extra, sizeof extra, "  writers: 2\n");
        /* the route's delivery, through write_config */
        setenv("SLUICE_BENCH_DELIVERY", eo ? "exactly_once" : "at_least_once", 1);
        sink_run r = run_sluice(name, "ev_eo", table, events, extra, NULL);
        unsetenv("SLUICE_BENCH_DELIVERY");
        print_sluice(eo ? "JSON into ReplicatedMergeTree, exactly-once"
                        : "JSON into ReplicatedMergeTree, at-least-once",
                     &r, events);
        if (eo) {
            eo_rows += r.rows_s / rounds;
            eo_cpu += r.cpu_us_row / rounds;
        } else {
            alo_rows += r.rows_s / rounds;
            alo_cpu += r.cpu_us_row / rounds;
        }
        char sql[128];
        snprintf(sql, sizeof sql, "DROP TABLE %s", table);
        sink_env_sql(&env, sql);
    }
    printf("exactly-once against at-least-once (mean of %d alternating runs each): rows/s %.0f vs "
           "%.0f = %.2f (aim >= 0.90), sink CPU per row %.2f vs %.2f us\n",
           rounds, eo_rows, alo_rows, eo_rows / alo_rows, eo_cpu, alo_cpu);
}

/* ---- 6. the three schema types ----------------------------------------------------------- */

/* The Avro schema's event, field for field: nullable unions are proto3
 * `optional`, timestamp-millis a google.protobuf.Timestamp; enums by name
 * into the same Enum8 column. */
static const char *proto_schema_text =
    "syntax = \"proto3\";\n"
    "package com.acme;\n"
    "import \"google/protobuf/timestamp.proto\";\n"
    "message PageEvent {\n"
    "  enum Type { VIEW = 0; CLICK = 1; ADD_TO_CART = 2; PURCHASE = 3; }\n"
    "  string event_id = 1;\n"
    "  google.protobuf.Timestamp ts = 2;\n"
    "  optional string user_id = 3;\n"
    "  Type type = 4;\n"
    "  string url = 5;\n"
    "  optional string referrer = 6;\n"
    "  uint32 duration_ms = 7;\n"
    "  optional double amount = 8;\n"
    "  string device = 9;\n"
    "  bool consent = 10;\n"
    "}\n";

static const char *json_schema_text =
    "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":\"PageEvent\","
    "\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"event_id\",\"ts\","
    "\"user_id\",\"type\",\"url\",\"referrer\",\"duration_ms\",\"amount\",\"device\","
    "\"consent\"],\"properties\":{"
    "\"event_id\":{\"type\":\"string\",\"format\":\"uuid\"},"
    "\"ts\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"user_id\":{\"type\":[\"string\",\"null\"]},"
    "\"type\":{\"enum\":[\"VIEW\",\"CLICK\",\"ADD_TO_CART\",\"PURCHASE\"]},"
    "\"url\":{\"type\":\"string\"},"
    "\"referrer\":{\"type\":[\"string\",\"null\"]},"
    "\"duration_ms\":{\"type\":\"integer\",\"minimum\":0},"
    "\"amount\":{\"type\":[\"number\",\"null\"]},"
    "\"device\":{\"type\":\"string\"},"
    "\"consent\":{\"type\":\"boolean\"}}}";

/* Event i as event_json writes it for Avro, with the timestamp as RFC 3339
 * text (what proto3's JSON mapping and JSON Schema's date-time take). */
static int event_json_rfc3339(long i, char *out, size_t n)
{
    char js[1024];
    int len = event_json(i, 1, js, sizeof js);
    const char *ts = strstr(js, "\"ts\":");
    if (len < 0 || !ts) return -1;
    char *end = NULL;
    long long ms = strtoll(ts + 5, &end, 10);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char when[48];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    return snprintf(out, n, "%.*s\"%s.%03lldZ\"%s", (int)(ts + 5 - js), js, when, ms % 1000, end);
}

enum { TY_AVRO, TY_PROTO, TY_JSON };
static const char *type_names[3] = {"Avro", "Protobuf", "JSON-Schema"};

/* Event i, framed in the topic's format, appended to out. */
static void encode_typed(long i, int kind, int32_t id, const sluice_avro_schema *avro,
                         const json_proto *jp, buf *out)
{
    char js[1024];
    int len =
        kind == TY_AVRO ? event_json(i, 1, js, sizeof js) : event_json_rfc3339(i, js, sizeof js);
    if (len < 0) die("an event does not format");
    uint8_t hdr[6];
    sluice_wire_write_header(hdr, id);
    hdr[5] = 0x00; /* Protobuf's message-index array [0] */
    buf_append(out, hdr, kind == TY_PROTO ? 6 : 5);
    avro_json_errors errs;
    if (kind == TY_AVRO) {
        json_t *v = json_loadb(js, (size_t)len, 0, NULL);
        if (!v || avro_json_encode(sluice_avro_schema_root(avro), v, out, &errs) != 0)
            die("an event does not encode as Avro");
        json_decref(v);
    } else if (kind == TY_PROTO) {
        json_lex lx;
        json_lex_init(&lx, js, (size_t)len);
        int rc = json_proto_encode(jp, &lx, out, &errs);
        json_lex_free(&lx);
        if (rc) die("an event does not encode as Protobuf");
    } else {
        buf_append(out, js, (size_t)len);
    }
}

/* A topic of n events in one of the three formats under the subject
 * <topic>-value. Events are encoded 65 536 at a time and then produced in
 * one burst, so the producer cuts record batches alike for every format
 * (section 1's prefill encodes Avro between produce calls, which makes
 * smaller record batches than a faster encoder does, and fetching those
 * costs the sink time that has nothing to do with the format). */
static void prefill_typed(const char *topic, int parts, long n, int kind)
{
    if (test_kafka_create_topic(&env.kafka, topic, parts) != 0) die("cannot create a topic");
    char subject[160];
    snprintf(subject, sizeof subject, "%s-value", topic);
    static const char *texts[3], *types[3] = {"AVRO", "PROTOBUF", "JSON"};
    texts[TY_AVRO] = avro_schema;
    texts[TY_PROTO] = proto_schema_text;
    texts[TY_JSON] = json_schema_text;
    sluice_error err;
    int32_t id = 0;
    if (sluice_sr_register_refs(env.sr, subject, texts[kind], types[kind], NULL, 0, &id, &err) != 0)
        die("cannot register the schema");
    sluice_avro_schema *avro = NULL;
    proto_schema *ps = NULL;
    json_proto *jp = NULL;
    if (kind == TY_AVRO && sluice_avro_schema_parse(avro_schema, strlen(avro_schema), &avro, &err))
        die("cannot parse the Avro schema");
    if (kind == TY_PROTO &&
        (proto_schema_parse(proto_schema_text, strlen(proto_schema_text), NULL, NULL, 0, &ps,
                            &err) != 0 ||
         json_proto_compile(proto_schema_find_message(ps, "com.acme.PageEvent"), &jp, &err) != 0))
        die("cannot compile the Protobuf schema");
    enum { CHUNK = 65536 };
    size_t *ends = malloc(CHUNK * sizeof *ends);
    if (!ends) die("out of memory");
    double t0 = now_s();
    buf chunk;
    buf_init(&chunk, SIZE_MAX);
    uint64_t bytes = 0;
    for (long first = 0; first < n; first += CHUNK) {
        long count = n - first < CHUNK ? n - first : CHUNK;
        buf_reset(&chunk);
        for (long k = 0; k < count; k++) {
            encode_typed(first + k, kind, id, avro, jp, &chunk);
            ends[k] = chunk.len;
        }
        for (long k = 0; k < count; k++) {
            size_t from = k ? ends[k - 1] : 0;
            long i = first + k;
            if (test_produce(env.prod, topic, (int32_t)(i % parts), NULL, 0, chunk.data + from,
                             ends[k] - from) != 0)
                die("produce failed");
        }
        bytes += chunk.len;
    }
    if (test_producer_flush(env.prod, 300000) != 0) die("prefill was not acknowledged");
    buf_free(&chunk);
    free(ends);
    sluice_avro_schema_free(avro);
    json_proto_free(jp);
    proto_schema_free(ps);
    printf("prefill %s: %ld %s events, %d partitions, %.1f MiB of values (%.0f B/event), "
           "%.1f s (lz4, encoded %d at a time)\n",
           topic, n, type_names[kind], parts, (double)bytes / (1 << 20), (double)bytes / (double)n,
           now_s() - t0, CHUNK);
    fflush(stdout);
}

/* A sum over every column of every row: tables of the same rows agree. */
static double table_fingerprint(const char *table)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT sum(sipHash64(concat(event_id, toString(ts), ifNull(user_id, '~'), "
             "toString(type), url, ifNull(referrer, '~'), toString(duration_ms), "
             "ifNull(toString(amount), '~'), device, toString(consent))) %% 1000000007) FROM %s",
             table);
    return sink_env_scalar(&env, sql);
}

/* Avro, Protobuf and JSON Schema: the same events, topics of the same
 * size, the same table; runs alternate so the machine's drift touches all
 * three alike, and every run's table must hold the rows the first Avro
 * run's did, column for column. */
static void types_compare(void)
{
    const char *const *names = type_names;
    static const char *topics[3] = {"ty_avro", "ty_proto", "ty_json"};
    for (int t = 0; t < 3; t++)
        prefill_typed(topics[t], 64, events, t);
    for (int t = 0; t < 3; t++)
        check_kept(topics[t]);
    const int rounds = 2;
    double rows_s[3] = {0}, cpu[3] = {0}, want = -1;
    for (int k = 0; k < rounds * 3; k++) {
        int t = k % 3;
        char name[32], table[48];
        snprintf(name, sizeof name, "ty%d_%d", t, k / 3);
        snprintf(table, sizeof table, "%s_t", name);
        create_table(table);
        sink_run r = run_sluice(name, topics[t], table, events, NULL, NULL);
        print_sluice(names[t], &r, events);
        print_breakdown(names[t], &r);
        double got = table_fingerprint(table);
        if (want < 0) want = got;
        if (got != want || got <= 0) die("a table's rows differ from the Avro run's");
        rows_s[t] += r.rows_s / rounds;
        cpu[t] += r.cpu_us_row / rounds;
        char sql[128];
        snprintf(sql, sizeof sql, "DROP TABLE %s", table);
        sink_env_sql(&env, sql);
    }
    for (int t = 0; t < 3; t++)
        printf("sink.types.%s: %.0f rows/s, %.2f us/row (mean of %d runs); against Avro: rows/s "
               "%.2fx, CPU per row %.2fx\n",
               names[t], rows_s[t], cpu[t], rounds, rows_s[t] / rows_s[0], cpu[t] / cpu[0]);
    printf("every run's table holds the same rows, column for column (fingerprint %.0f)\n", want);
}

/* 3. Pause/resume calls, slow ClickHouse (each INSERT held 300 ms), small
 * buffers: hysteresis against resume-as-soon-as-below. */
static void slow_clickhouse(void)
{
    fault_proxy *fp = fault_proxy_start(env.ch.url);
    if (!fp) die("cannot start the proxy");
    fault_proxy_match(fp, "INSERT");
    fault_proxy_set_delay_ms(fp, 300);
    const int pcts[2] = {50, 100};
    for (int k = 0; k < 2; k++) {
        char name[32], table[32], extra[256];
        snprintf(name, sizeof name, "pr%d", pcts[k]);
        snprintf(table, sizeof table, "pr%d_t", pcts[k]);
        create_table(table);
        snprintf(extra, sizeof extra, "  memory_limit: 48MiB\n  resume_percent: %d\n  writers: 4\n",
                 pcts[k]);
        char ext2[400];
        snprintf(ext2, sizeof ext2, "%s", extra);
        sink_run r = run_sluice(name, "ev_json", table, events, ext2, fault_proxy_url(fp));
        double per_m = 1e6 / (double)events;
        printf("slow ClickHouse (300 ms an INSERT), memory_limit 48 MiB, resume_percent %d: "
               "%.0f pause calls and %.0f resume calls per million messages (%.0f partition "
               "pauses), %.0f rows/s, peak RSS %.1f MiB\n",
               pcts[k], r.pause_calls * per_m, r.resume_calls * per_m, r.pauses * per_m, r.rows_s,
               (double)r.hwm / (1 << 20));
    }
    fault_proxy_stop(fp);
}

/* 4. Partition count. 8 partitions hold less before the mock drops data,
 * so this part uses a quarter of the events. */
static void partition_count(void)
{
    long quarter = events / 4;
    prefill("p8", 8, quarter, 0);
    prefill("p256", 256, quarter, 0);
    create_table("p8_t");
    create_table("p256_t");
    sink_run r8 = run_sluice("p8", "p8", "p8_t", quarter, NULL, NULL);
    print_sluice("JSON, 8 partitions", &r8, quarter);
    sink_run r256 = run_sluice("p256", "p256", "p256_t", quarter, NULL, NULL);
    print_sluice("JSON, 256 partitions", &r256, quarter);
    printf("256 partitions against 8: %.2f of the rows/s\n", r256.rows_s / r8.rows_s);
}

int main(int argc, char **argv)
{
    int part1_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--events") && i + 1 < argc) events = atol(argv[++i]);
        if (!strcmp(argv[i], "--part1")) part1_only = 1; /* throughput and ceilings only */
    }
    if (events < 1000) events = 1000;
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *only = getenv("SLUICE_BENCH_ONLY"); /* "json", "avro": part 1 for one format;
                                                     * "eo": exactly-once against at-least-once;
                                                     * "types": Avro, Protobuf, JSON Schema */
    int eo_only = only && !strcmp(only, "eo");
    if ((eo_only ? sink_env_start_replicated(&env, "sluice-bench-sink", 1, 1, 1)
                 : sink_env_start(&env, "sluice-bench-sink", 1, 1)) != 0)
        die("cannot start Kafka, ClickHouse and the registry");
    env.kafka_extra = "  properties:\n    session.timeout.ms: \"6000\"\n"
                      "    heartbeat.interval.ms: \"500\"\n";
    /* Experiments: more librdkafka properties for every sink run (YAML lines
     * under kafka.properties, e.g. "    fetch.error.backoff.ms: \"10\"\n"). */
    static char kprops[2048];
    if (getenv("SLUICE_BENCH_KAFKA_PROPERTIES")) {
        snprintf(kprops, sizeof kprops, "%s%s", env.kafka_extra,
                 getenv("SLUICE_BENCH_KAFKA_PROPERTIES"));
        env.kafka_extra = kprops;
    }
    printf("events: %ld\n", events);
    if (eo_only) {
        eo_compare();
        sink_env_stop(&env);
        return 0;
    }
    if (only && !strcmp(only, "slow")) { /* section 3 alone */
        prefill("ev_json", 64, events, 0);
        slow_clickhouse();
        sink_env_stop(&env);
        return 0;
    }
    if (only && !strcmp(only, "parts")) { /* section 4 alone */
        partition_count();
        check_kept("p8");
        check_kept("p256");
        sink_env_stop(&env);
        return 0;
    }
    if (only && !strcmp(only, "types")) {
        types_compare();
        sink_env_stop(&env);
        return 0;
    }

    /* 1. Throughput, JSON and Avro, and the peers on the JSON topic. 64
     * partitions keep each under the mock's 5 MiB (compressed). */
    sink_run rj = {0}, ra = {0};
    if (!only || !strcmp(only, "json")) {
        prefill("ev_json", 64, events, 0);
        create_table("ev_json_t");
        rj = run_sluice("json", "ev_json", "ev_json_t", events, NULL, NULL);
        print_sluice("JSON", &rj, events);
        print_breakdown("JSON", &rj);
    }
    if (!only || !strcmp(only, "avro")) {
        prefill("ev_avro", 64, events, 1);
        create_table("ev_avro_t");
        ra = run_sluice("avro", "ev_avro", "ev_avro_t", events, NULL, NULL);
        print_sluice("Avro", &ra, events);
        print_breakdown("Avro", &ra);
    }
    if (only) {
        sink_env_stop(&env);
        return 0;
    }
    ceiling c = ceilings("ev_json", "ev_json_t", events);
    printf("sluice against the CPU-bound ceiling: JSON %.2f, Avro %.2f\n",
           rj.rows_s / c.cpu_bound_rows_s, ra.rows_s / c.cpu_bound_rows_s);
    double kp = peer_kcat("ev_json", events);
    printf("sluice against the kcat | clickhouse-client pipeline: JSON %.2fx, Avro %.2fx\n",
           rj.rows_s / kp, ra.rows_s / kp);
    if (part1_only) {
        sink_env_stop(&env);
        return 0;
    }
    peer_kafka_engine("ev_json", events);
    peer_python("ev_json", events);
    printf("peer for Avro: none here — Debian's kcat 1.7.1 is built without Avro (libserdes), "
           "ClickHouse 18.16 has no AvroConfluent format and Debian has no python3-fastavro "
           "for confluent-kafka's AvroDeserializer\n");

    /* 2. RSS against backlog, ClickHouse stalled. */
    create_table("stalled");
    prefill("backlog_small", 16, events / 10, 0);
    rss_vs_backlog("backlog_small", events / 10);
    rss_vs_backlog("ev_json", events);

    slow_clickhouse();

    partition_count();

    const char *topics[] = {"ev_json", "ev_avro", "backlog_small", "p8", "p256"};
    for (int i = 0; i < 5; i++)
        check_kept(topics[i]);
    printf("broker kept every message of every topic (log start offsets 0)\n");
    sink_env_stop(&env);
    return 0;
}
