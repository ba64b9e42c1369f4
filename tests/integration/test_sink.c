/*
 * test_sink.c — `sluice sink` as a process against the real parts: the
 * mock Kafka cluster (its own process), ClickHouse 18.16, `sluice
 * registry`.
 *
 *  - Avro over 8 partitions in three schema versions → every row exact,
 *    compared line by line with what was produced; offsets committed up to
 *    the high watermarks; SIGTERM exits 0; a restart re-inserts nothing.
 *  - A JSON topic and an explode + filter + derived route in one sink.
 *  - Poison messages mixed in (bad JSON, an unknown schema id, a value that
 *    does not fit its column, rows ClickHouse itself rejects) → exactly
 *    those in the DLQ with their reasons and coordinates; every good one
 *    lands.
 *  - JSON Schema messages that fail their schema: to the DLQ with the
 *    schema's complaint, or landed with `validate: never`.
 *  - A prefetch queue of 1 KiB (librdkafka's fetcher stops at every
 *    response): the sink wakes it, every row lands once.
 * Every test ends by checking that the broker dropped nothing (the mock
 * keeps only ~5 MiB per partition), or it would prove nothing.
 */
#include "test.h"

#include <sluice/wire.h>

#include "codec/avro_json.h"
#include "sink_env.h"
#include "common/clock.h"

#include <jansson.h>
#include <signal.h>

static sink_env env;

static int setup(void)
{
    if (env.dir) return 0;
    return sink_env_start(&env, "sluice-sink", 1, 1);
}

/* Encode `json` with `schema` (text) and frame it with `id`. */
static int framed(const char *schema, int32_t id, const char *json, buf *out)
{
    sluice_avro_schema *s;
    if (sluice_avro_schema_parse(schema, strlen(schema), &s, NULL) != 0) return -1;
    json_t *v = json_loads(json, 0, NULL);
    uint8_t hdr[5];
    sluice_wire_write_header(hdr, id);
    buf_reset(out);
    buf_append(out, hdr, 5);
    avro_json_errors errs;
    int rc = v ? avro_json_encode(sluice_avro_schema_root(s), v, out, &errs) : -1;
    json_decref(v);
    sluice_avro_schema_free(s);
    return rc;
}

#define V1                                                                                         \
    "{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"     \
    "{\"name\":\"customer\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"double\"}]}"
#define V2                                                                                         \
    "{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"     \
    "{\"name\":\"customer\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"double\"},"       \
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"default\":[]}]}"
#define V3                                                                                         \
    "{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"     \
    "{\"name\":\"customer\",\"type\":\"string\"},{\"name\":\"amount\",\"type\":\"double\"},"       \
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"default\":[]},"       \
    "{\"name\":\"country\",\"type\":[\"null\",\"string\"],\"default\":null}]}"

static void test_avro_versions_every_row_exact(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 12000, PARTS = 8 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "orders", PARTS), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE orders (id UInt64, customer String, amount Float64, "
                                "tags Array(String), country Nullable(String)) "
                                "ENGINE = MergeTree ORDER BY id"),
             0);
    const char *schemas[3] = {V1, V2, V3};
    int32_t ids[3];
    sluice_error err;
    for (int v = 0; v < 3; v++)
        CHECK_EQ(sluice_sr_register(env.sr, "orders-value", schemas[v], NULL, &ids[v], &err), 0);
    buf msg;
    buf_init(&msg, 1 << 16);
    for (int i = 0; i < N; i++) {
        int v = i % 3;
        char json[512];
        if (v == 0)
            snprintf(json, sizeof json, "{\"id\":%d,\"customer\":\"c%d\",\"amount\":%d.5}", i,
                     i % 97, i);
        else if (v == 1)
            snprintf(json, sizeof json,
                     "{\"id\":%d,\"customer\":\"c%d\",\"amount\":%d.5,\"tags\":[\"t%d\",\"x\"]}", i,
                     i % 97, i, i % 5);
        else
            snprintf(json, sizeof json,
                     "{\"id\":%d,\"customer\":\"c%d\",\"amount\":%d.5,\"tags\":[],"
                     "\"country\":{\"string\":\"DE\"}}",
                     i, i % 97, i);
        CHECK_EQ(framed(schemas[v], ids[v], json, &msg), 0);
        char key[16];
        int klen = snprintf(key, sizeof key, "%d", i);
        CHECK_EQ(test_produce(env.prod, "orders", -1, key, (size_t)klen, msg.data, msg.len), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    buf_free(&msg);

    char config[700];
    CHECK_EQ(sink_env_config(&env, "orders",
                             "sink:\n  group_id: orders-test\n  routes:\n"
                             "    - topic: orders\n      table: default.orders\n"
                             "      batch: {max_rows: 2000, max_age: 300ms}\n",
                             config, sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "orders-sink", 1, 30000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM orders", N, 120000), N);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0); /* drained, committed, exit 0 */

    /* Every row, exactly: v1 rows got v2's and v3's defaults. */
    char *text = NULL;
    CHECK_EQ(test_ch_query(&env.ch,
                           "SELECT id, customer, amount, toString(tags), toString(country) "
                           "FROM orders ORDER BY id FORMAT TabSeparated",
                           &text),
             200);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    for (int i = 0; i < N; i++, line = strtok_r(NULL, "\n", &save)) {
        char want[256];
        int v = i % 3;
        if (v == 0)
            snprintf(want, sizeof want, "%d\tc%d\t%d.5\t[]\t\\N", i, i % 97, i);
        else if (v == 1)
            snprintf(want, sizeof want, "%d\tc%d\t%d.5\t[\\'t%d\\',\\'x\\']\t\\N", i, i % 97, i,
                     i % 5);
        else
            snprintf(want, sizeof want, "%d\tc%d\t%d.5\t[]\tDE", i, i % 97, i);
        CHECK(line);
        if (strcmp(line, want) != 0)
            fprintf(stderr, "row %d: got '%s', want '%s'\n", i, line, want);
        CHECK_STR(line, want);
    }
    CHECK(line == NULL);
    free(text);

    /* Offsets committed up to the end of every partition. */
    int64_t low[PARTS], high[PARTS], committed[PARTS];
    CHECK_EQ(test_kafka_watermarks(&env.kafka, "orders", low, high, PARTS), PARTS);
    CHECK_EQ(test_kafka_committed(&env.kafka, "orders-test", "orders", committed, PARTS), PARTS);
    int64_t total = 0;
    for (int p = 0; p < PARTS; p++) {
        CHECK_EQ(committed[p], high[p]);
        total += high[p];
    }
    CHECK_EQ(total, N);
    /* A restart reads nothing again. */
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "orders-sink-2", 1, 30000), 0);
    clock_sleep_ms(2000);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM orders"), N);
    CHECK(test_kafka_nothing_dropped(&env.kafka, "orders"));
}

static void test_json_and_explode_routes(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "logs", 4), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "carts", 4), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE logs (ts DateTime, level String, msg String, "
                                "`http.status` UInt16) ENGINE = MergeTree ORDER BY ts"),
             0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE cart_lines (cart UInt64, `items.sku` String, "
                                "line UInt16, total Float64, shop String) "
                                "ENGINE = MergeTree ORDER BY (cart, line)"),
             0);
    enum { N = 2000 };
    for (int i = 0; i < N; i++) {
        char json[512];
        int n = snprintf(json, sizeof json,
                         "{\"ts\":%d,\"level\":\"%s\",\"msg\":\"m%d\",\"http\":{\"status\":%d}}",
                         1700000000 + i, i % 10 ? "info" : "error", i, 200 + i % 3);
        CHECK_EQ(test_produce(env.prod, "logs", -1, NULL, 0, json, (size_t)n), 0);
        n = snprintf(
            json, sizeof json,
            "{\"cart\":%d,\"shop\":\"s%d\",\"items\":[{\"sku\":\"a\",\"qty\":%d,\"price\":1.5},"
            "{\"sku\":\"b\",\"qty\":0,\"price\":9},{\"sku\":\"c\",\"qty\":2,\"price\":0.25}]}",
            i, i % 3, 1 + i % 4);
        CHECK_EQ(test_produce(env.prod, "carts", -1, NULL, 0, json, (size_t)n), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    char config[700];
    CHECK_EQ(sink_env_config(
                 &env, "multi",
                 "sink:\n  group_id: multi\n  routes:\n"
                 "    - topic: logs\n      table: logs\n      batch: {max_age: 200ms}\n"
                 "    - topic: carts\n      table: cart_lines\n      batch: {max_age: 200ms}\n"
                 "      transform:\n        explode: items\n"
                 "        filter: \"items.qty > 0\"\n"
                 "        columns:\n          line: \"index()\"\n"
                 "          total: \"items.qty * items.price\"\n"
                 "          shop: \"upper(shop)\"\n",
                 config, sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "multi-sink", 1, 30000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM logs", N, 60000), N);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM cart_lines", 2 * N, 60000), 2 * N);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
    CHECK_EQ(sink_env_scalar(&env, "SELECT sum(`http.status`) FROM logs"),
             200.0 * N + (N / 3) * 3 + (N % 3 > 1 ? 1 : 0)); /* 200 + i % 3 summed */
    CHECK_EQ(sink_env_scalar(&env, "SELECT countIf(level = 'error') FROM logs"), N / 10);
    CHECK_EQ(sink_env_scalar(&env, "SELECT min(ts) = toDateTime(1700000000) FROM logs"), 1);
    CHECK_EQ(sink_env_scalar(&env, "SELECT countIf(`items.sku` = 'b') FROM cart_lines"), 0);
    CHECK_EQ(
        sink_env_scalar(&env, "SELECT countIf(line = 2 AND `items.sku` = 'c') FROM cart_lines"), N);
    CHECK_EQ(sink_env_scalar(&env, "SELECT sum(total) FROM cart_lines WHERE `items.sku` = 'c'"),
             0.5 * N);
    CHECK_EQ(sink_env_scalar(&env, "SELECT countIf(shop IN ('S0', 'S1', 'S2')) FROM cart_lines"),
             2 * N);
    CHECK(test_kafka_nothing_dropped(&env.kafka, "logs"));
    CHECK(test_kafka_nothing_dropped(&env.kafka, "carts"));
}

/* DLQ messages, collected. */
typedef struct dead {
    int n;
    char reasons[64][300];
    int64_t offsets[64];
    int partitions[64];
    char values[64][64];
} dead;

static const char *header(const rd_kafka_message_t *m, const char *name, char *out, size_t n)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t len;
    out[0] = '\0';
    if (rd_kafka_message_headers(m, &h) == 0 && rd_kafka_header_get_last(h, name, &v, &len) == 0)
        snprintf(out, n, "%.*s", (int)len, (const char *)v);
    return out;
}

static int collect_dead(void *opaque, const rd_kafka_message_t *m)
{
    dead *d = opaque;
    if (d->n >= 64) return 0;
    char tmp[32];
    header(m, "sluice.error", d->reasons[d->n], sizeof d->reasons[d->n]);
    d->offsets[d->n] = atoll(header(m, "sluice.source.offset", tmp, sizeof tmp));
    d->partitions[d->n] = atoi(header(m, "sluice.source.partition", tmp, sizeof tmp));
    snprintf(d->values[d->n], sizeof d->values[d->n], "%.*s", (int)(m->len < 60 ? m->len : 60),
             (const char *)m->payload);
    d->n++;
    return 0;
}

static int has_reason(const dead *d, const char *value_prefix, const char *reason)
{
    for (int i = 0; i < d->n; i++)
        if (strncmp(d->values[i], value_prefix, strlen(value_prefix)) == 0 &&
            strstr(d->reasons[i], reason))
            return 1;
    return 0;
}

/* The sink's dead-lettered count once it reaches want (or after 10 s):
 * dead letters are written beside the INSERT that lands the rest. */
static double dlq_count(const test_proc *sink, double want)
{
    double dlq = -1;
    for (int i = 0; i < 100; i++) {
        sink_env_metric(sink, "sluice_sink_dlq_messages_total", NULL, &dlq);
        if (dlq >= want) break;
        clock_sleep_ms(100);
    }
    return dlq;
}

static void test_poison_to_dlq_good_rows_land(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "mixed", 4), 0);
    /* guard rejects id 999 inside ClickHouse itself: found by splitting. */
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE mixed (id UInt64, qty UInt8, "
                                "guard UInt8 MATERIALIZED throwIf(id = 999)) "
                                "ENGINE = MergeTree ORDER BY id"),
             0);
    enum { N = 3000 };
    int poison = 0;
    for (int i = 0; i < N; i++) {
        char v[128];
        int n;
        if (i == 100)
            n = snprintf(v, sizeof v, "not json at all %d", i);
        else if (i == 200)
            n = snprintf(v, sizeof v, "{\"id\":%d,\"qty\":300}", i); /* does not fit UInt8 */
        else if (i == 300) {
            uint8_t hdr[5];
            sluice_wire_write_header(hdr, 987654); /* no such schema */
            memcpy(v, hdr, 5);
            memcpy(v + 5, "\x02\x04", 2);
            n = 7;
        } else
            n = snprintf(v, sizeof v, "{\"id\":%d,\"qty\":%d}", i, i % 200);
        poison += i == 100 || i == 200 || i == 300 || i == 999;
        CHECK_EQ(test_produce(env.prod, "mixed", i % 4, NULL, 0, v, (size_t)n), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    char config[700];
    CHECK_EQ(sink_env_config(&env, "mixed",
                             "sink:\n  group_id: mixed\n  routes:\n"
                             "    - topic: mixed\n      table: mixed\n"
                             "      batch: {max_rows: 500, max_age: 200ms}\n",
                             config, sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "mixed-sink", 1, 30000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM mixed", N - poison, 60000), N - poison);
    CHECK_EQ(dlq_count(&sink, poison), poison);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM mixed WHERE id IN (100, 200, 300, 999)"),
             0);
    CHECK_EQ(sink_env_scalar(&env, "SELECT uniqExact(id) FROM mixed"), N - poison);

    dead d = {0};
    CHECK_EQ(test_consume_all(env.kafka.bootstrap, "mixed.dlq", collect_dead, &d, 30000), poison);
    CHECK(has_reason(&d, "not json", "not JSON"));
    CHECK(has_reason(&d, "{\"id\":200", "300 does not fit in UInt8"));
    CHECK(has_reason(&d, "", "unknown schema id 987654"));
    CHECK(has_reason(&d, "{\"id\":999", "clickhouse rejected the row"));
    for (int i = 0; i < d.n; i++) {
        /* Coordinates of the original message: produced to partition id % 4. */
        CHECK(d.partitions[i] >= 0 && d.partitions[i] < 4);
        CHECK(d.offsets[i] >= 0);
    }
    CHECK(test_kafka_nothing_dropped(&env.kafka, "mixed"));
}

/* A burst's last batch closes when the sink has read every partition to its
 * end, not at max_age: with max_age an hour, the rows land anyway, in one
 * INSERT, and the sink says why. */
static void test_caught_up_closes_the_batch(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "burst", 4), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE burst (id UInt64, msg String) "
                                "ENGINE = MergeTree ORDER BY id"),
             0);
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        char json[128];
        int n = snprintf(json, sizeof json, "{\"id\":%d,\"msg\":\"m%d\"}", i, i);
        CHECK_EQ(test_produce(env.prod, "burst", -1, NULL, 0, json, (size_t)n), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    char config[700];
    CHECK_EQ(sink_env_config(&env, "burst",
                             "sink:\n  group_id: burst\n  routes:\n"
                             "    - topic: burst\n      table: burst\n"
                             "      batch: {max_rows: 100000, max_age: 1h}\n",
                             config, sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "burst-sink", 1, 30000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM burst", N, 60000), N);
    double closes = -1, inserts = -1;
    CHECK_EQ(sink_env_metric(&sink, "sluice_sink_caught_up_closes_total", NULL, &closes), 0);
    CHECK_EQ(closes, 1);
    CHECK_EQ(sink_env_metric(&sink, "sluice_sink_inserts_total", NULL, &inserts), 0);
    CHECK_EQ(inserts, 1); /* every partition was read to its end before the batch closed */
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
    CHECK_EQ(sink_env_scalar(&env, "SELECT uniqExact(id) FROM burst"), N);
}

/* JSON Schema messages: by default (validate: auto, a Kafka of its own)
 * the sink checks each against its schema, and one that fails goes to the
 * DLQ with the schema's complaint even where the columns could take it;
 * validate: never lands what the columns can take. */
static void test_json_schema_validate(void)
{
    CHECK_EQ(setup(), 0);
    const char *schema = "{\"type\":\"object\",\"required\":[\"id\"],\"properties\":{"
                         "\"id\":{\"type\":\"integer\",\"maximum\":1000},"
                         "\"name\":{\"type\":\"string\"}}}";
    int32_t id = 0;
    sluice_error err;
    CHECK_EQ(sluice_sr_register_refs(env.sr, "js-value", schema, "JSON", NULL, 0, &id, &err), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "js", 2), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE js_checked (id Int64, name String) "
                                "ENGINE = MergeTree ORDER BY id"),
             0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE js_unchecked (id Int64, name String) "
                                "ENGINE = MergeTree ORDER BY id"),
             0);
    enum { N = 1000 };
    for (int i = 0; i <= N + 1; i++) {
        char v[128];
        sluice_wire_write_header((uint8_t *)v, id);
        int n;
        if (i == N) /* past the maximum */
            n = snprintf(v + 5, sizeof v - 5, "{\"id\":5000,\"name\":\"big\"}");
        else if (i == N + 1) /* no id */
            n = snprintf(v + 5, sizeof v - 5, "{\"name\":\"anonymous\"}");
        else
            n = snprintf(v + 5, sizeof v - 5, "{\"id\":%d,\"name\":\"n%d\"}", i, i);
        CHECK_EQ(test_produce(env.prod, "js", i % 2, NULL, 0, v, (size_t)n + 5), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    const char *routes[2] = {"    - {topic: js, table: js_checked, batch: {max_age: 200ms}}\n",
                             "    - {topic: js, table: js_unchecked, validate: never,\n"
                             "       dlq_topic: js.dlq2, batch: {max_age: 200ms}}\n"};
    for (int k = 0; k < 2; k++) {
        char yaml[512], config[700];
        snprintf(yaml, sizeof yaml, "sink:\n  group_id: js-%d\n  routes:\n%s", k, routes[k]);
        CHECK_EQ(
            sink_env_config(&env, k ? "js-unchecked" : "js-checked", yaml, config, sizeof config),
            0);
        test_proc sink;
        CHECK_EQ(
            sink_env_run_sink(&env, &sink, config, k ? "js-unchecked" : "js-checked", 1, 30000), 0);
        const char *count =
            k ? "SELECT count() FROM js_unchecked" : "SELECT count() FROM js_checked";
        int want = k ? N + 2 : N;
        CHECK_EQ(sink_env_wait_for(&env, count, want, 60000), want);
        CHECK_EQ(dlq_count(&sink, k ? 0 : 2), k ? 0 : 2);
        CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
        CHECK_EQ(sink_env_scalar(&env, count), want); /* nothing more came */
    }
    dead d = {0};
    CHECK_EQ(test_consume_all(env.kafka.bootstrap, "js.dlq", collect_dead, &d, 30000), 2);
    for (int i = 0; i < d.n; i++)
        CHECK_CONTAINS(d.reasons[i], "does not match its JSON Schema");
    /* unchecked, they land as the columns take them: 5000, and the default 0 */
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM js_unchecked WHERE id = 5000 AND "
                                   "name = 'big'"),
             1);
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM js_unchecked WHERE id = 0"), 2);
    CHECK(test_kafka_nothing_dropped(&env.kafka, "js"));
}

/* librdkafka 2.0 stops fetching while its queue is over
 * queued.max.messages.kbytes and looks again only when its broker thread
 * wakes for something else, up to a second later (fetch_nudge.h). With the
 * queue at 1 KiB every fetch response crosses it; the sink wakes the
 * fetcher once it has taken the queue's messages (sluice_sink_fetch_nudges_total)
 * and every row lands exactly once. */
static void test_fetch_stall_nudged(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "stall", 64), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE stall (id UInt64, msg String) "
                                "ENGINE = MergeTree ORDER BY id"),
             0);
    enum { N = 20000 };
    for (int i = 0; i < N; i++) {
        char json[128];
        int n = snprintf(json, sizeof json, "{\"id\":%d,\"msg\":\"message %d\"}", i, i);
        CHECK_EQ(test_produce(env.prod, "stall", i % 64, NULL, 0, json, (size_t)n), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    char config[700];
    env.kafka_extra = "  properties:\n    queued.max.messages.kbytes: \"1\"\n";
    int rc = sink_env_config(&env, "stall",
                             "sink:\n  group_id: stall\n  routes:\n"
                             "    - topic: stall\n      table: stall\n",
                             config, sizeof config);
    env.kafka_extra = NULL;
    CHECK_EQ(rc, 0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "stall-sink", 1, 30000), 0);
    int64_t t0 = clock_mono_ms();
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM stall", N, 120000), N);
    double nudges = -1;
    int mrc = sink_env_metric(&sink, "sluice_sink_fetch_nudges_total", NULL, &nudges);
    /* For a look only (tests do not judge time): without the nudges the
     * fetcher sleeps about a second per response round. */
    fprintf(stderr, "test_fetch_stall_nudged: landed %.1f s after assignment, %.0f nudges\n",
            (double)(clock_mono_ms() - t0) / 1e3, nudges);
    CHECK_EQ(mrc, 0);
    CHECK(nudges >= 1);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
    CHECK_EQ(sink_env_scalar(&env, "SELECT uniqExact(id) FROM stall"), N);
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM stall"), N);
    CHECK(test_kafka_nothing_dropped(&env.kafka, "stall"));
}

static void test_cleanup(void)
{
    sink_env_stop(&env);
}

TEST_MAIN(T(test_avro_versions_every_row_exact), T(test_json_and_explode_routes),
          T(test_poison_to_dlq_good_rows_land), T(test_caught_up_closes_the_batch),
          T(test_fetch_stall_nudged), T(test_json_schema_validate), T(test_cleanup))
