/*
 * test_config.c — the YAML config loader against a table shaped like
 * sluice.yaml (sections, a list of sections, a map, every cfg_kind): values,
 * defaults, ${VAR} substitution, every error class with its exact
 * file:line:col message, error collection, size/duration parsing, the alias
 * budget, cfg_free (run under ASan with detect_leaks=1) and cfg_describe.
 * Single-threaded; setenv() is called before loads only.
 */
#include "test.h"

#include "common/config.h"

#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

/* ---- the table under test ------------------------------------------------- */

typedef struct batch_cfg {
    int64_t max_rows;
    uint64_t max_bytes;
    int64_t max_age_ms;
} batch_cfg;

typedef struct route_cfg {
    char *topic;
    char *table;
    char *dlq_topic;
    int format;
    batch_cfg batch;
} route_cfg;

typedef struct test_cfg {
    struct {
        cfg_strings brokers;
        cfg_map properties;
    } kafka;
    struct {
        cfg_strings urls;
        struct {
            uint64_t max_bytes;
            int64_t ttl_ms;
        } cache;
    } registry;
    struct {
        char *url;
        char *user;
        char *password;
        int compress;
    } clickhouse;
    struct {
        char *listen;
        uint64_t max_body_bytes;
        int64_t threads;
    } ingest;
    struct {
        char *group_id;
        uint64_t memory_limit;
        int start_offset;
        cfg_list routes;
    } sink;
    struct {
        char *listen;
        int64_t max_series;
    } metrics;
} test_cfg;

static const char *const formats[] = {"auto", "avro", "json", NULL};
static const char *const offsets[] = {"earliest", "latest", NULL};

static const cfg_key batch_keys[] = {
    {.name = "max_rows",
     .kind = CFG_INT,
     .offset = offsetof(batch_cfg, max_rows),
     .default_value = "100000",
     .min = 1,
     .max = 10000000,
     .doc = "Rows that close a batch."},
    {.name = "max_bytes",
     .kind = CFG_SIZE,
     .offset = offsetof(batch_cfg, max_bytes),
     .default_value = "16MiB",
     .min = 1024,
     .max = 1LL << 32,
     .doc = "Bytes that close a batch."},
    {.name = "max_age",
     .kind = CFG_DURATION,
     .offset = offsetof(batch_cfg, max_age_ms),
     .default_value = "1s",
     .min = 1,
     .max = 3600000,
     .doc = "Age that closes a batch."},
    {0},
};

static const cfg_key route_keys[] = {
    {.name = "topic",
     .kind = CFG_STRING,
     .offset = offsetof(route_cfg, topic),
     .required = 1,
     .doc = "Kafka topic to read."},
    {.name = "table",
     .kind = CFG_STRING,
     .offset = offsetof(route_cfg, table),
     .required = 1,
     .doc = "ClickHouse table to write."},
    {.name = "dlq_topic",
     .kind = CFG_STRING,
     .offset = offsetof(route_cfg, dlq_topic),
     .doc = "Dead-letter topic."},
    {.name = "format",
     .kind = CFG_ENUM,
     .offset = offsetof(route_cfg, format),
     .default_value = "auto",
     .enum_values = formats,
     .doc = "Message format."},
    {.name = "batch",
     .kind = CFG_SECTION,
     .offset = offsetof(route_cfg, batch),
     .children = batch_keys,
     .doc = "When a batch closes."},
    {0},
};

static const cfg_key kafka_keys[] = {
    {.name = "brokers", .kind = CFG_STRING_LIST, .offset = 0, .doc = "Bootstrap brokers."},
    {.name = "properties",
     .kind = CFG_STRING_MAP,
     .offset = sizeof(cfg_strings),
     .doc = "librdkafka properties | passed through."},
    {0},
};

static const cfg_key cache_keys[] = {
    {.name = "max_bytes",
     .kind = CFG_SIZE,
     .offset = 0,
     .default_value = "64MiB",
     .doc = "Cache bound."},
    {.name = "ttl",
     .kind = CFG_DURATION,
     .offset = sizeof(uint64_t),
     .default_value = "5m",
     .doc = "Latest-metadata TTL."},
    {0},
};

#define SUB(section, member) (offsetof(test_cfg, member) - offsetof(test_cfg, section))

static const cfg_key registry_keys[] = {
    {.name = "urls",
     .kind = CFG_STRING_LIST,
     .offset = SUB(registry, registry.urls),
     .default_value = "http://127.0.0.1:8081",
     .doc = "Registry URLs, tried in order."},
    {.name = "cache",
     .kind = CFG_SECTION,
     .offset = SUB(registry, registry.cache),
     .children = cache_keys,
     .doc = "Client caches."},
    {0},
};

static const cfg_key clickhouse_keys[] = {
    {.name = "url",
     .kind = CFG_STRING,
     .offset = SUB(clickhouse, clickhouse.url),
     .default_value = "http://127.0.0.1:8123",
     .doc = "HTTP interface."},
    {.name = "user",
     .kind = CFG_STRING,
     .offset = SUB(clickhouse, clickhouse.user),
     .default_value = "default",
     .doc = "User."},
    {.name = "password",
     .kind = CFG_STRING,
     .offset = SUB(clickhouse, clickhouse.password),
     .doc = "Password; use ${VAR}."},
    {.name = "compress",
     .kind = CFG_BOOL,
     .offset = SUB(clickhouse, clickhouse.compress),
     .default_value = "true",
     .doc = "Compress inserts."},
    {0},
};

static const cfg_key ingest_keys[] = {
    {.name = "listen",
     .kind = CFG_STRING,
     .offset = SUB(ingest, ingest.listen),
     .default_value = "127.0.0.1:8080",
     .doc = "Listen address."},
    {.name = "max_body_bytes",
     .kind = CFG_SIZE,
     .offset = SUB(ingest, ingest.max_body_bytes),
     .default_value = "10MiB",
     .doc = "Largest request body."},
    {.name = "threads",
     .kind = CFG_INT,
     .offset = SUB(ingest, ingest.threads),
     .default_value = "4",
     .min = 1,
     .max = 64,
     .doc = "HTTP worker threads."},
    {0},
};

static const cfg_key sink_keys[] = {
    {.name = "group_id",
     .kind = CFG_STRING,
     .offset = SUB(sink, sink.group_id),
     .default_value = "sluice",
     .doc = "Consumer group."},
    {.name = "memory_limit",
     .kind = CFG_SIZE,
     .offset = SUB(sink, sink.memory_limit),
     .default_value = "256MiB",
     .doc = "Buffer bound."},
    {.name = "start_offset",
     .kind = CFG_ENUM,
     .offset = SUB(sink, sink.start_offset),
     .default_value = "earliest",
     .enum_values = offsets,
     .doc = "Where a new group starts."},
    {.name = "routes",
     .kind = CFG_SECTION_LIST,
     .offset = SUB(sink, sink.routes),
     .children = route_keys,
     .elem_size = sizeof(route_cfg),
     .doc = "Topic to table routes."},
    {0},
};

static const cfg_key metrics_keys[] = {
    {.name = "listen",
     .kind = CFG_STRING,
     .offset = SUB(metrics, metrics.listen),
     .default_value = "127.0.0.1:9100",
     .doc = "Metrics listen address."},
    {.name = "max_series",
     .kind = CFG_INT,
     .offset = SUB(metrics, metrics.max_series),
     .default_value = "10000",
     .min = 1,
     .max = 1000000,
     .doc = "Series bound."},
    {0},
};

static const cfg_key root_keys[] = {
    {.name = "kafka",
     .kind = CFG_SECTION,
     .offset = offsetof(test_cfg, kafka),
     .children = kafka_keys,
     .doc = "Kafka client."},
    {.name = "registry",
     .kind = CFG_SECTION,
     .offset = offsetof(test_cfg, registry),
     .children = registry_keys,
     .doc = "Schema Registry client."},
    {.name = "clickhouse",
     .kind = CFG_SECTION,
     .offset = offsetof(test_cfg, clickhouse),
     .children = clickhouse_keys,
     .doc = "ClickHouse."},
    {.name = "ingest",
     .kind = CFG_SECTION,
     .offset = offsetof(test_cfg, ingest),
     .children = ingest_keys,
     .doc = "Ingest gateway."},
    {.name = "sink",
     .kind = CFG_SECTION,
     .offset = offsetof(test_cfg, sink),
     .children = sink_keys,
     .doc = "Sink."},
    {.name = "metrics",
     .kind = CFG_SECTION,
     .offset = offsetof(test_cfg, metrics),
     .children = metrics_keys,
     .doc = "Metrics endpoint."},
    {0},
};

/* ---- helpers -------------------------------------------------------------- */

typedef struct errors {
    int n;
    char msgs[40][512];
} errors;

static void collect(void *opaque, const char *message)
{
    errors *e = opaque;
    if (e->n < 40) snprintf(e->msgs[e->n], sizeof e->msgs[0], "%s", message);
    e->n++;
}

static int load(const char *yaml, test_cfg *cfg, errors *e, sluice_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    memset(e, 0, sizeof *e);
    memset(err, 0, sizeof *err);
    return cfg_load_string(yaml, strlen(yaml), "t.yaml", root_keys, cfg, err, collect, e);
}

static route_cfg *route(test_cfg *cfg, size_t i)
{
    return (route_cfg *)cfg->sink.routes.items + i;
}

/* ---- tests ---------------------------------------------------------------- */

static const char *const full_yaml = "kafka:\n"
                                     "  brokers: [b1:9092, \"b2:9092\"]\n"
                                     "  properties:\n"
                                     "    acks: all\n"
                                     "    linger.ms: 5\n"
                                     "registry:\n"
                                     "  urls:\n"
                                     "    - http://r1:8081\n"
                                     "    - http://r2:8081\n"
                                     "  cache: {max_bytes: 1.5MiB, ttl: 1.5s}\n"
                                     "clickhouse:\n"
                                     "  url: http://ch:8123\n"
                                     "  user: writer\n"
                                     "  password: 'p w'\n"
                                     "  compress: off\n"
                                     "ingest:\n"
                                     "  listen: 0.0.0.0:80\n"
                                     "  max_body_bytes: 1GB\n"
                                     "  threads: 64\n"
                                     "sink:\n"
                                     "  group_id: g\n"
                                     "  memory_limit: 2GiB\n"
                                     "  start_offset: LATEST\n"
                                     "  routes:\n"
                                     "    - topic: events\n"
                                     "      table: default.events\n"
                                     "      dlq_topic: events.dlq\n"
                                     "      format: avro\n"
                                     "      batch: {max_rows: 5, max_bytes: 4KiB, max_age: 250ms}\n"
                                     "    - topic: clicks\n"
                                     "      table: default.clicks\n"
                                     "metrics:\n"
                                     "  listen: \"[::1]:9100\"\n"
                                     "  max_series: 7\n";

static void test_full_file(void)
{
    test_cfg cfg;
    errors e;
    sluice_error err;
    CHECK_EQ(load(full_yaml, &cfg, &e, &err), 0);
    CHECK_EQ(e.n, 0);
    CHECK_EQ(cfg.kafka.brokers.n, 2);
    CHECK_STR(cfg.kafka.brokers.items[0], "b1:9092");
    CHECK_STR(cfg.kafka.brokers.items[1], "b2:9092");
    CHECK_EQ(cfg.kafka.properties.n, 2);
    CHECK_STR(cfg.kafka.properties.keys[0], "acks");
    CHECK_STR(cfg.kafka.properties.values[0], "all");
    CHECK_STR(cfg.kafka.properties.keys[1], "linger.ms");
    CHECK_STR(cfg.kafka.properties.values[1], "5");
    CHECK_EQ(cfg.registry.urls.n, 2);
    CHECK_STR(cfg.registry.urls.items[1], "http://r2:8081");
    CHECK_EQ(cfg.registry.cache.max_bytes, 1572864);
    CHECK_EQ(cfg.registry.cache.ttl_ms, 1500);
    CHECK_STR(cfg.clickhouse.url, "http://ch:8123");
    CHECK_STR(cfg.clickhouse.user, "writer");
    CHECK_STR(cfg.clickhouse.password, "p w");
    CHECK_EQ(cfg.clickhouse.compress, 0);
    CHECK_STR(cfg.ingest.listen, "0.0.0.0:80");
    CHECK_EQ(cfg.ingest.max_body_bytes, 1000000000);
    CHECK_EQ(cfg.ingest.threads, 64);
    CHECK_STR(cfg.sink.group_id, "g");
    CHECK_EQ(cfg.sink.memory_limit, 2147483648ull);
    CHECK_EQ(cfg.sink.start_offset, 1);
    CHECK_EQ(cfg.sink.routes.n, 2);
    CHECK_STR(route(&cfg, 0)->topic, "events");
    CHECK_STR(route(&cfg, 0)->table, "default.events");
    CHECK_STR(route(&cfg, 0)->dlq_topic, "events.dlq");
    CHECK_EQ(route(&cfg, 0)->format, 1);
    CHECK_EQ(route(&cfg, 0)->batch.max_rows, 5);
    CHECK_EQ(route(&cfg, 0)->batch.max_bytes, 4096);
    CHECK_EQ(route(&cfg, 0)->batch.max_age_ms, 250);
    /* the second route's absent keys get their defaults */
    CHECK_STR(route(&cfg, 1)->topic, "clicks");
    CHECK(route(&cfg, 1)->dlq_topic == NULL);
    CHECK_EQ(route(&cfg, 1)->format, 0);
    CHECK_EQ(route(&cfg, 1)->batch.max_rows, 100000);
    CHECK_EQ(route(&cfg, 1)->batch.max_bytes, 16777216);
    CHECK_EQ(route(&cfg, 1)->batch.max_age_ms, 1000);
    CHECK_STR(cfg.metrics.listen, "[::1]:9100");
    CHECK_EQ(cfg.metrics.max_series, 7);
    cfg_free(root_keys, &cfg);
    CHECK(cfg.kafka.brokers.items == NULL && cfg.kafka.brokers.n == 0);
    CHECK(cfg.sink.routes.items == NULL && cfg.sink.routes.n == 0);
    CHECK(cfg.clickhouse.url == NULL);
}

static void check_defaults(const test_cfg *cfg)
{
    CHECK_EQ(cfg->kafka.brokers.n, 0);
    CHECK_EQ(cfg->kafka.properties.n, 0);
    CHECK_EQ(cfg->registry.urls.n, 1); /* a lone-scalar default is a list of one */
    CHECK_STR(cfg->registry.urls.items[0], "http://127.0.0.1:8081");
    CHECK_EQ(cfg->registry.cache.max_bytes, 67108864);
    CHECK_EQ(cfg->registry.cache.ttl_ms, 300000);
    CHECK_STR(cfg->clickhouse.url, "http://127.0.0.1:8123");
    CHECK_STR(cfg->clickhouse.user, "default");
    CHECK(cfg->clickhouse.password == NULL);
    CHECK_EQ(cfg->clickhouse.compress, 1);
    CHECK_STR(cfg->ingest.listen, "127.0.0.1:8080");
    CHECK_EQ(cfg->ingest.max_body_bytes, 10485760);
    CHECK_EQ(cfg->ingest.threads, 4);
    CHECK_STR(cfg->sink.group_id, "sluice");
    CHECK_EQ(cfg->sink.memory_limit, 268435456);
    CHECK_EQ(cfg->sink.start_offset, 0);
    CHECK_EQ(cfg->sink.routes.n, 0);
    CHECK_STR(cfg->metrics.listen, "127.0.0.1:9100");
    CHECK_EQ(cfg->metrics.max_series, 10000);
}

static void test_empty_file_is_all_defaults(void)
{
    static const char *const empties[] = {"", "\n# only a comment\n", "---\n", "~\n",
                                          "kafka:\nregistry: ~\nsink: {}\n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        test_cfg cfg;
        errors e;
        sluice_error err;
        CHECK_EQ(load(empties[i], &cfg, &e, &err), 0);
        CHECK_EQ(e.n, 0);
        int failed_before = test_failed_;
        check_defaults(&cfg);
        cfg_free(root_keys, &cfg);
        if (test_failed_ != failed_before) {
            fprintf(stderr, "  (input %zu)\n", i);
            return;
        }
    }
    test_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    sluice_error err;
    CHECK_EQ(cfg_load_defaults(root_keys, &cfg, &err), 0);
    check_defaults(&cfg);
    cfg_free(root_keys, &cfg);
}

/* Defaults go through the YAML parser: a bad one is reported, a list or a
 * section can have one. */
typedef struct small_cfg {
    cfg_strings tags;
    cfg_list routes;
    int64_t wait_ms;
} small_cfg;

static const cfg_key small_keys[] = {
    {.name = "tags",
     .kind = CFG_STRING_LIST,
     .offset = offsetof(small_cfg, tags),
     .default_value = "[a, 'b c']"},
    {.name = "routes",
     .kind = CFG_SECTION_LIST,
     .offset = offsetof(small_cfg, routes),
     .children = route_keys,
     .elem_size = sizeof(route_cfg),
     .default_value = "[{topic: t, table: x, batch: {max_rows: 9}}]"},
    {.name = "wait",
     .kind = CFG_DURATION,
     .offset = offsetof(small_cfg, wait_ms),
     .default_value = "2m"},
    {0},
};

static const cfg_key bad_default_keys[] = {
    {.name = "wait", .kind = CFG_DURATION, .offset = 0, .default_value = "soon"},
    {0},
};

static void test_defaults_use_the_parser(void)
{
    small_cfg cfg = {0};
    sluice_error err = {0};
    CHECK_EQ(cfg_load_defaults(small_keys, &cfg, &err), 0);
    CHECK_EQ(cfg.tags.n, 2);
    CHECK_STR(cfg.tags.items[1], "b c");
    CHECK_EQ(cfg.routes.n, 1);
    route_cfg *r = cfg.routes.items;
    CHECK_STR(r->topic, "t");
    CHECK_EQ(r->batch.max_rows, 9);
    CHECK_EQ(r->batch.max_age_ms, 1000);
    CHECK_EQ(cfg.wait_ms, 120000);
    cfg_free(small_keys, &cfg);

    int64_t wait = 0;
    CHECK_EQ(cfg_load_defaults(bad_default_keys, &wait, &err), SLUICE_ECONFIG);
    CHECK_STR(err.msg, "(defaults): wait: built-in default 'soon' is invalid: expected a "
                       "duration such as 250ms, 1s or 2m, got 'soon'");
}

static void test_env_substitution(void)
{
    setenv("SLUICE_TEST_PW", "s3cr$t", 1);
    setenv("SLUICE_TEST_SIZE", "2KiB", 1);
    setenv("SLUICE_TEST_EMPTY", "", 1);
    unsetenv("SLUICE_TEST_UNSET");
    test_cfg cfg;
    errors e;
    sluice_error err;
    CHECK_EQ(load("clickhouse:\n"
                  "  password: ${SLUICE_TEST_PW}\n"
                  "  user: \"${SLUICE_TEST_UNSET:-fallback} and ${SLUICE_TEST_EMPTY:-empty}\"\n"
                  "  url: http://h/$${NOT_A_VAR}/$x/$\n"
                  "ingest:\n"
                  "  max_body_bytes: ${SLUICE_TEST_SIZE}\n"
                  "  listen: pre-${SLUICE_TEST_EMPTY}-post${SLUICE_TEST_UNSET:-}\n"
                  "kafka:\n"
                  "  brokers: [\"${SLUICE_TEST_UNSET:-b:9092}\"]\n"
                  "  properties: {sasl.password: \"${SLUICE_TEST_PW}\"}\n",
                  &cfg, &e, &err),
             0);
    CHECK_STR(cfg.clickhouse.password, "s3cr$t"); /* a value is not substituted again */
    CHECK_STR(cfg.clickhouse.user, "fallback and empty");
    CHECK_STR(cfg.clickhouse.url, "http://h/${NOT_A_VAR}/$x/$");
    CHECK_EQ(cfg.ingest.max_body_bytes, 2048);
    CHECK_STR(cfg.ingest.listen, "pre--post");
    CHECK_STR(cfg.kafka.brokers.items[0], "b:9092");
    CHECK_STR(cfg.kafka.properties.values[0], "s3cr$t");
    cfg_free(root_keys, &cfg);

    CHECK_EQ(load("clickhouse:\n  password: ${SLUICE_TEST_UNSET}\n", &cfg, &e, &err),
             SLUICE_ECONFIG);
    CHECK_STR(err.msg, "t.yaml:2:13: clickhouse.password: environment variable SLUICE_TEST_UNSET "
                       "is not set (write ${SLUICE_TEST_UNSET:-fallback} for a default)");
    CHECK_EQ(load("clickhouse:\n  password: a${B\n", &cfg, &e, &err), SLUICE_ECONFIG);
    CHECK_STR(err.msg, "t.yaml:2:13: clickhouse.password: bad variable reference in 'a${B' "
                       "(write ${NAME}, ${NAME:-fallback} or $$ for a literal $)");
    CHECK_EQ(load("clickhouse:\n  password: ${A-B}\n", &cfg, &e, &err), SLUICE_ECONFIG);
    CHECK_CONTAINS(err.msg, "t.yaml:2:13: clickhouse.password: bad variable reference in '${A-B}'");
    /* a bad value from a variable names both */
    setenv("SLUICE_TEST_SIZE", "lots", 1);
    CHECK_EQ(load("ingest:\n  max_body_bytes: ${SLUICE_TEST_SIZE}\n", &cfg, &e, &err),
             SLUICE_ECONFIG);
    CHECK_STR(err.msg, "t.yaml:2:19: ingest.max_body_bytes: expected a size such as 64MiB, got "
                       "'lots' (from '${SLUICE_TEST_SIZE}')");
}

/* One error per case: exact text, line and column included. */
static void test_error_messages(void)
{
    static const struct {
        const char *yaml;
        const char *message;
    } cases[] = {
        {"kafka: {}\nregistyr:\n  urls: []\n",
         "t.yaml:2:1: registyr: unknown key (known here: kafka, registry, clickhouse, ingest, "
         "sink, metrics)"},
        {"sink:\n  routes:\n    - topic: a\n      table: b\n      batchh: {}\n",
         "t.yaml:5:7: sink.routes[0].batchh: unknown key (known here: topic, table, dlq_topic, "
         "format, batch)"},
        {"registry:\n  cache:\n    max_bytes: lots\n",
         "t.yaml:3:16: registry.cache.max_bytes: expected a size such as 64MiB, got 'lots'"},
        {"ingest:\n  listen:\n    host: a\n",
         "t.yaml:3:5: ingest.listen: expected a string, got a mapping"},
        {"ingest:\n  listen: [a, b]\n",
         "t.yaml:2:11: ingest.listen: expected a string, got a list"},
        {"kafka: 5\n", "t.yaml:1:8: kafka: expected a mapping, got '5'"},
        {"sink:\n  routes: {topic: a}\n",
         "t.yaml:2:11: sink.routes: expected a list of mappings, got a mapping"},
        {"sink:\n  routes: [a]\n", "t.yaml:2:12: sink.routes[0]: expected a mapping, got 'a'"},
        {"kafka:\n  properties: [a]\n",
         "t.yaml:2:15: kafka.properties: expected a mapping of names to values, got a list"},
        {"kafka:\n  properties:\n    acks: [all]\n",
         "t.yaml:3:11: kafka.properties.acks: expected a scalar value, got a list"},
        {"registry:\n  urls: [a, {b: c}]\n",
         "t.yaml:2:13: registry.urls[1]: expected a string, got a mapping"},
        {"registry:\n  urls: {a: b}\n",
         "t.yaml:2:9: registry.urls: expected a string or a list of strings, got a mapping"},
        {"ingest:\n  threads: 0\n",
         "t.yaml:2:12: ingest.threads: must be between 1 and 64, got '0'"},
        {"ingest:\n  threads: 4.5\n",
         "t.yaml:2:12: ingest.threads: expected an integer, got '4.5'"},
        {"ingest:\n  threads: 99999999999999999999\n",
         "t.yaml:2:12: ingest.threads: value out of range, got '99999999999999999999'"},
        {"clickhouse:\n  compress: maybe\n",
         "t.yaml:2:13: clickhouse.compress: expected true or false, got 'maybe'"},
        {"sink:\n  start_offset: middle\n",
         "t.yaml:2:17: sink.start_offset: expected one of earliest, latest, got 'middle'"},
        {"sink:\n  routes:\n    - {topic: a, table: b}\n    - topic: c\n      table: d\n      "
         "batch:\n"
         "        max_age: 2 days\n",
         "t.yaml:7:18: sink.routes[1].batch.max_age: expected a duration such as 250ms, 1s or 2m, "
         "got '2 days'"},
        {"sink:\n  routes:\n    - topic: a\n      table: b\n      batch: {max_bytes: 1KB}\n",
         "t.yaml:5:26: sink.routes[0].batch.max_bytes: must be between 1024 and 4294967296 bytes, "
         "got '1KB'"},
        {"sink:\n  routes:\n    - topic: a\n      table: b\n      batch: {max_age: 2h}\n",
         "t.yaml:5:24: sink.routes[0].batch.max_age: must be between 1ms and 3600000ms, got '2h'"},
        {"sink:\n  routes:\n    - topic: a\n      table: b\n    - topic: c\n      format: json\n",
         "t.yaml:5:7: sink.routes[1]: missing required key 'table'"},
        {"sink:\n  routes:\n    - topic: a\n      table:\n",
         "t.yaml:4:13: sink.routes[0]: missing required key 'table' (it has no value)"},
        {"ingest:\n  threads: 2\n  listen: a\n  threads: 3\n",
         "t.yaml:4:3: ingest.threads: duplicate key (first at line 2, column 3)"},
        {"kafka:\n  properties:\n    acks: 1\n    acks: all\n",
         "t.yaml:4:5: kafka.properties.acks: duplicate key (first at line 3, column 5)"},
        {"kafka:\n  brokers: [a\n",
         "t.yaml:3:1: kafka.brokers[0]: invalid YAML after this entry: did not find expected "
         "',' or ']' (while parsing a flow sequence at line 2, column 12)"},
        {"kafka:\n  brokers: a\n bad: b\n",
         "t.yaml:3:2: kafka: invalid YAML after this entry: did not find expected key (while "
         "parsing a block mapping at line 1, column 1)"},
        {"kafka:\n\tbrokers: a\n",
         "t.yaml:2:1: kafka: invalid YAML: found character that cannot start any token (while "
         "scanning for the next token at line 2, column 1)"},
        {"kafka: {}\n\xff\n",
         "t.yaml:2:1: kafka: invalid YAML after this entry: invalid leading UTF-8 octet"},
        {"- a\n- b\n", "t.yaml:1:1: expected a mapping of sections at the top level, got a list"},
        {"kafka: {}\n---\nkafka: {}\n",
         "t.yaml:2:1: only one YAML document is allowed (found a second one)"},
        {"clickhouse:\n  user: \"a\\0b\"\n",
         "t.yaml:2:9: clickhouse.user: value contains a NUL character"},
        {"? [a]\n: b\n", "t.yaml:1:3: expected a key name, got a list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_cfg cfg;
        errors e;
        sluice_error err;
        int rc = load(cases[i].yaml, &cfg, &e, &err);
        if (rc != SLUICE_ECONFIG || e.n != 1 || strcmp(e.msgs[0], cases[i].message) != 0) {
            fprintf(stderr, "case %zu: rc=%d errors=%d\n  got:      %s\n  expected: %s\n", i, rc,
                    e.n, e.msgs[0], cases[i].message);
        }
        CHECK_EQ(rc, SLUICE_ECONFIG);
        CHECK_EQ(e.n, 1);
        CHECK_STR(e.msgs[0], cases[i].message);
        CHECK_STR(err.msg, cases[i].message);
        CHECK_EQ(err.code, SLUICE_ECONFIG);
        /* a failed load leaves nothing allocated */
        CHECK(cfg.registry.urls.items == NULL && cfg.clickhouse.url == NULL &&
              cfg.sink.routes.items == NULL && cfg.kafka.properties.keys == NULL);
    }
}

static void test_missing_required_at_top_level(void)
{
    static const cfg_key keys[] = {
        {.name = "name", .kind = CFG_STRING, .offset = 0, .required = 1},
        {.name = "inner", .kind = CFG_SECTION, .offset = sizeof(char *), .children = route_keys},
        {0},
    };
    struct {
        char *name;
        route_cfg inner;
    } cfg = {0};
    errors e = {0};
    sluice_error err;
    CHECK_EQ(cfg_load_string("\n\nother: 1\n", 11, "x.yaml", keys, &cfg, &err, collect, &e),
             SLUICE_ECONFIG);
    CHECK_EQ(e.n, 4);
    CHECK_STR(e.msgs[0], "x.yaml:3:1: other: unknown key (known here: name, inner)");
    CHECK_STR(e.msgs[1], "x.yaml:3:1: missing required key 'name'");
    /* an absent section's required keys are reported where it would go */
    CHECK_STR(e.msgs[2], "x.yaml:3:1: inner: missing required key 'topic'");
    CHECK_STR(e.msgs[3], "x.yaml:3:1: inner: missing required key 'table'");
    memset(&e, 0, sizeof e);
    CHECK_EQ(cfg_load_string("", 0, "x.yaml", keys, &cfg, &err, collect, &e), SLUICE_ECONFIG);
    CHECK_STR(e.msgs[0], "x.yaml:1:1: missing required key 'name'");
}

static void test_errors_are_collected(void)
{
    test_cfg cfg;
    errors e;
    sluice_error err;
    CHECK_EQ(load("kafka:\n"
                  "  brokrs: [a]\n"
                  "ingest:\n"
                  "  threads: many\n"
                  "  max_body_bytes: -1\n"
                  "sink:\n"
                  "  routes:\n"
                  "    - topic: a\n"
                  "    - table: b\n"
                  "clickhouse:\n"
                  "  compress: yes\n",
                  &cfg, &e, &err),
             SLUICE_ECONFIG);
    CHECK_EQ(e.n, 5);
    CHECK_STR(e.msgs[0], "t.yaml:2:3: kafka.brokrs: unknown key (known here: brokers, properties)");
    CHECK_STR(e.msgs[1], "t.yaml:4:12: ingest.threads: expected an integer, got 'many'");
    CHECK_STR(e.msgs[2],
              "t.yaml:5:19: ingest.max_body_bytes: expected a size such as 64MiB, got '-1'");
    CHECK_STR(e.msgs[3], "t.yaml:8:7: sink.routes[0]: missing required key 'table'");
    CHECK_STR(e.msgs[4], "t.yaml:9:7: sink.routes[1]: missing required key 'topic'");
    CHECK_STR(err.msg, e.msgs[0]); /* err keeps the first */

    /* past CFG_MAX_ERRORS the rest are not reported */
    char yaml[4096];
    size_t w = (size_t)snprintf(yaml, sizeof yaml, "kafka:\n");
    for (int i = 0; i < 50; i++)
        w += (size_t)snprintf(yaml + w, sizeof yaml - w, "  unknown%d: x\n", i);
    CHECK_EQ(load(yaml, &cfg, &e, &err), SLUICE_ECONFIG);
    CHECK_EQ(e.n, CFG_MAX_ERRORS);
    CHECK_CONTAINS(e.msgs[CFG_MAX_ERRORS - 1], "t.yaml:33:3: kafka.unknown31: unknown key");
}

static void test_null_and_lone_scalar_values(void)
{
    test_cfg cfg;
    errors e;
    sluice_error err;
    CHECK_EQ(load("clickhouse:\n  url: ~\n  user: ''\nregistry:\n  urls: http://only:8081\n"
                  "kafka:\n  brokers:\n",
                  &cfg, &e, &err),
             0);
    CHECK_STR(cfg.clickhouse.url, "http://127.0.0.1:8123"); /* null: the default */
    CHECK_STR(cfg.clickhouse.user, "");                     /* quoted empty: empty */
    CHECK_EQ(cfg.registry.urls.n, 1);
    CHECK_STR(cfg.registry.urls.items[0], "http://only:8081");
    CHECK_EQ(cfg.kafka.brokers.n, 0);
    cfg_free(root_keys, &cfg);
}

static void test_file_loading(void)
{
    char path[] = "/tmp/sluice_test_config_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = "ingest:\n  threads: 8\n  bogus: 1\n";
    CHECK_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    test_cfg cfg = {0};
    errors e = {0};
    sluice_error err;
    CHECK_EQ(cfg_load_file(path, root_keys, &cfg, &err, collect, &e), SLUICE_ECONFIG);
    char expect[256];
    snprintf(expect, sizeof expect,
             "%s:3:3: ingest.bogus: unknown key (known here: listen, max_body_bytes, threads)",
             path);
    CHECK_STR(err.msg, expect);
    CHECK_EQ(e.n, 1);
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    text = "ingest:\n  threads: 8\n";
    CHECK_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    CHECK_EQ(cfg_load_file(path, root_keys, &cfg, &err, NULL, NULL), 0);
    CHECK_EQ(cfg.ingest.threads, 8);
    cfg_free(root_keys, &cfg);
    unlink(path);
    memset(&e, 0, sizeof e);
    CHECK_EQ(cfg_load_file(path, root_keys, &cfg, &err, collect, &e), SLUICE_ECONFIG);
    snprintf(expect, sizeof expect, "%s: cannot open: No such file or directory", path);
    CHECK_STR(err.msg, expect);
    CHECK_EQ(e.n, 1);
}

static void test_alias_expansion_is_bounded(void)
{
    /* one 16 KiB scalar named 3000 times would copy 48 MiB */
    size_t cap = 64 * 1024;
    char *yaml = malloc(cap);
    size_t w = (size_t)snprintf(yaml, cap, "kafka:\n  properties: {x: &big ");
    memset(yaml + w, 'a', 16384);
    w += 16384;
    w += (size_t)snprintf(yaml + w, cap - w, "}\nregistry:\n  urls: [");
    for (int i = 0; i < 3000; i++)
        w += (size_t)snprintf(yaml + w, cap - w, "*big,");
    w += (size_t)snprintf(yaml + w, cap - w, "x]\n");
    test_cfg cfg;
    errors e;
    sluice_error err;
    CHECK_EQ(load(yaml, &cfg, &e, &err), SLUICE_ECONFIG);
    CHECK_EQ(e.n, 1);
    CHECK_CONTAINS(e.msgs[0], ": registry.urls[");
    CHECK_CONTAINS(e.msgs[0], "document too large once its aliases are expanded");
    free(yaml);

    /* a few aliases are fine */
    CHECK_EQ(load("kafka:\n  brokers: [&b x:1]\nregistry:\n  urls: [*b, *b]\n", &cfg, &e, &err), 0);
    CHECK_EQ(cfg.registry.urls.n, 2);
    CHECK_STR(cfg.registry.urls.items[1], "x:1");
    cfg_free(root_keys, &cfg);
}

static void test_parse_size(void)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } good[] = {
        {"0", 0},
        {"512", 512},
        {"512B", 512},
        {"1K", 1000},
        {"1k", 1000},
        {"1KB", 1000},
        {"1kb", 1000},
        {"64KiB", 65536},
        {"64kib", 65536},
        {"10MiB", 10485760},
        {"10 MiB", 10485760},
        {"1.5MiB", 1572864},
        {"1.5MB", 1500000},
        {"2M", 2000000},
        {"1GiB", 1073741824},
        {"1G", 1000000000},
        {"3GB", 3000000000},
        {"1TiB", 1099511627776},
        {"2TB", 2000000000000},
        {"2t", 2000000000000},
        {"1.0", 1},
        {"0.5KiB", 512},
        {"1.0001KB", 1000},
        {"18446744073709551615", UINT64_MAX},
        {"16777215TiB", 18446742974197923840ull},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t v = 12345;
        int rc = cfg_parse_size(good[i].text, &v);
        if (rc != 0 || v != good[i].bytes)
            fprintf(stderr, "size '%s': rc=%d v=%llu\n", good[i].text, rc, (unsigned long long)v);
        CHECK_EQ(rc, 0);
        CHECK(v == good[i].bytes);
    }
    static const struct {
        const char *text;
        int rc;
    } bad[] = {
        {"", SLUICE_EINVAL},
        {"lots", SLUICE_EINVAL},
        {"-1", SLUICE_EINVAL},
        {"-1KiB", SLUICE_EINVAL},
        {"+1", SLUICE_EINVAL},
        {"1.5", SLUICE_EINVAL}, /* a fraction of a byte */
        {"1.5B", SLUICE_EINVAL},
        {"1.", SLUICE_EINVAL},
        {".5K", SLUICE_EINVAL},
        {"1 ", SLUICE_EINVAL},
        {" 1", SLUICE_EINVAL},
        {"1KiBs", SLUICE_EINVAL},
        {"1Ki", SLUICE_EINVAL},
        {"1PB", SLUICE_EINVAL},
        {"1e6", SLUICE_EINVAL},
        {"0x10", SLUICE_EINVAL},
        {"1,000", SLUICE_EINVAL},
        {"18446744073709551616", SLUICE_ERANGE},
        {"16777216TiB", SLUICE_ERANGE},
        {"99999999999999999999999KB", SLUICE_ERANGE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 7;
        int rc = cfg_parse_size(bad[i].text, &v);
        if (rc != bad[i].rc)
            fprintf(stderr, "size '%s': rc=%d, want %d\n", bad[i].text, rc, bad[i].rc);
        CHECK_EQ(rc, bad[i].rc);
        CHECK_EQ(v, 7); /* untouched on failure */
    }
}

static void test_parse_duration(void)
{
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        {"0", 0},
        {"250", 250},
        {"250ms", 250},
        {"1s", 1000},
        {"1.5s", 1500},
        {"0.25s", 250},
        {"2m", 120000},
        {"1.5m", 90000},
        {"1h", 3600000},
        {"0.001s", 1},
        {"10 s", 10000},
        {"1.0ms", 1},
        {"0.0001s", 0},
        {"9223372036854775807", INT64_MAX},
        {"2562047788015h", 9223372036854000000},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = 12345;
        int rc = cfg_parse_duration_ms(good[i].text, &v);
        if (rc != 0 || v != good[i].ms)
            fprintf(stderr, "duration '%s': rc=%d v=%lld\n", good[i].text, rc, (long long)v);
        CHECK_EQ(rc, 0);
        CHECK_EQ(v, good[i].ms);
    }
    static const struct {
        const char *text;
        int rc;
    } bad[] = {
        {"", SLUICE_EINVAL},
        {"soon", SLUICE_EINVAL},
        {"-1s", SLUICE_EINVAL},
        {"1.5", SLUICE_EINVAL},
        {"1.5ms", SLUICE_EINVAL},
        {"1.5.5s", SLUICE_EINVAL},
        {"1m30s", SLUICE_EINVAL},
        {"1d", SLUICE_EINVAL},
        {"1S", SLUICE_EINVAL},
        {"1us", SLUICE_EINVAL},
        {"s", SLUICE_EINVAL},
        {"1 ", SLUICE_EINVAL},
        {"9223372036854775808", SLUICE_ERANGE},
        {"2562047788016h", SLUICE_ERANGE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 7;
        int rc = cfg_parse_duration_ms(bad[i].text, &v);
        if (rc != bad[i].rc)
            fprintf(stderr, "duration '%s': rc=%d, want %d\n", bad[i].text, rc, bad[i].rc);
        CHECK_EQ(rc, bad[i].rc);
        CHECK_EQ(v, 7);
    }
}

static void test_describe(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    cfg_describe(f, sink_keys);
    fclose(f);
    CHECK_STR(
        text,
        "| key | type | default | description |\n"
        "| --- | --- | --- | --- |\n"
        "| `group_id` | string | `sluice` | Consumer group. |\n"
        "| `memory_limit` | size | `256MiB` | Buffer bound. |\n"
        "| `start_offset` | enum: earliest, latest | `earliest` | Where a new group starts. |\n"
        "| `routes` | section list |  | Topic to table routes. |\n"
        "| `routes[].topic` | string | required | Kafka topic to read. |\n"
        "| `routes[].table` | string | required | ClickHouse table to write. |\n"
        "| `routes[].dlq_topic` | string |  | Dead-letter topic. |\n"
        "| `routes[].format` | enum: auto, avro, json | `auto` | Message format. |\n"
        "| `routes[].batch` | section |  | When a batch closes. |\n"
        "| `routes[].batch.max_rows` | int (1..10000000) | `100000` | Rows that close a "
        "batch. |\n"
        "| `routes[].batch.max_bytes` | size (1024..4294967296 bytes) | `16MiB` | Bytes that "
        "close a batch. |\n"
        "| `routes[].batch.max_age` | duration (1..3600000 ms) | `1s` | Age that closes a "
        "batch. |\n");
    free(text);

    f = open_memstream(&text, &len);
    cfg_describe(f, root_keys);
    fclose(f);
    CHECK_CONTAINS(text, "| `sink.routes[].batch.max_age` | duration (1..3600000 ms) | `1s` |");
    CHECK_CONTAINS(text, "| `kafka.properties` | string map |  | librdkafka properties \\| passed "
                         "through. |\n");
    CHECK_CONTAINS(text, "| `registry.urls` | string list | `http://127.0.0.1:8081` |");
    CHECK_CONTAINS(text, "| `clickhouse.compress` | bool | `true` | Compress inserts. |\n");
    free(text);
}

/* What a reload compares: equal when only formatting differs; each kind of
 * change seen, at the section and at the key. */
static void test_equal(void)
{
    test_cfg a, b;
    errors e;
    sluice_error err;
    CHECK_EQ(load(full_yaml, &a, &e, &err), 0);
    CHECK_EQ(load(full_yaml, &b, &e, &err), 0);
    CHECK(cfg_equal(root_keys, &a, &b));
    CHECK(cfg_equal_at(root_keys, &a, &b, "sink"));
    CHECK(cfg_equal_at(root_keys, &a, &b, "ingest.listen"));
    CHECK(!cfg_equal_at(root_keys, &a, &b, "ingest.nope"));
    CHECK(!cfg_equal_at(root_keys, &a, &b, "ingest.listen.x"));
    cfg_free(root_keys, &b);

    /* Another file with the same values in another layout. */
    CHECK_EQ(load("kafka: {brokers: [b1:9092, b2:9092], properties: {acks: all, linger.ms: '5'}}\n"
                  "registry:\n  urls: [http://r1:8081, http://r2:8081]\n"
                  "  cache:\n    max_bytes: 1572864\n    ttl: 1500ms\n",
                  &b, &e, &err),
             0);
    CHECK(cfg_equal_at(root_keys, &a, &b, "kafka"));
    CHECK(cfg_equal_at(root_keys, &a, &b, "registry"));
    CHECK(!cfg_equal_at(root_keys, &a, &b, "clickhouse"));
    CHECK(!cfg_equal(root_keys, &a, &b));
    cfg_free(root_keys, &b);

    /* One route's batch age. */
    const char *at = strstr(full_yaml, "max_age: ");
    CHECK(at != NULL);
    char changed[4096];
    snprintf(changed, sizeof changed, "%.*smax_age: 9s%s", (int)(at - full_yaml), full_yaml,
             strchr(at, '}'));
    CHECK_EQ(load(changed, &b, &e, &err), 0);
    CHECK(cfg_equal_at(root_keys, &a, &b, "kafka"));
    CHECK(!cfg_equal_at(root_keys, &a, &b, "sink"));
    CHECK(cfg_equal_at(root_keys, &a, &b, "sink.group_id"));
    CHECK(!cfg_equal_at(root_keys, &a, &b, "sink.routes"));
    cfg_free(root_keys, &b);
    cfg_free(root_keys, &a);
}

TEST_MAIN(T(test_full_file), T(test_empty_file_is_all_defaults), T(test_defaults_use_the_parser),
          T(test_env_substitution), T(test_error_messages), T(test_missing_required_at_top_level),
          T(test_errors_are_collected), T(test_null_and_lone_scalar_values), T(test_file_loading),
          T(test_alias_expansion_is_bounded), T(test_parse_size), T(test_parse_duration),
          T(test_describe), T(test_equal))
