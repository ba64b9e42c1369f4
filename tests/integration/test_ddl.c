/*
 * test_ddl.c — `sluice ddl` round trip against the real parts: a subject
 * registered in `sluice registry`, its CREATE TABLE printed by the binary
 * and run by ClickHouse 18.16, then `sluice sink` (a process, the mock
 * Kafka cluster) writes framed Avro messages into that table and every row
 * is compared with what was produced, column by column:
 *   - '.' flattening: a nullable record flattened, arrays of records and a
 *     map as Nested groups, an enum, Date, DateTime from timestamp-millis,
 *     UUID, Decimal, FixedString, boolean, a several-branch union as text,
 *     arrays of arrays, Nullable inside arrays;
 *   - '_' flattening of the same subject into a second table through a
 *     second route: the same rows;
 *   - the columns ClickHouse made (system.columns) are the ones printed;
 *   - the command's failures: an unknown subject or version (exit 1 naming
 *     it), bad usage (exit 2), engine options.
 */
#include "test.h"

#include <sluice/wire.h>

#include "codec/avro_json.h"
#include "sink_env.h"

#include <jansson.h>
#include <signal.h>
#include <sys/wait.h>

static sink_env env;

#define SCHEMA                                                                                     \
    "{\"type\":\"record\",\"name\":\"Event\",\"namespace\":\"ex\",\"fields\":["                    \
    "{\"name\":\"id\",\"type\":\"long\"},"                                                         \
    "{\"name\":\"user\",\"type\":[\"null\",\"string\"],\"default\":null},"                         \
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"CLICK\","     \
    "\"VIEW\"]}},"                                                                                 \
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"                      \
    "{\"name\":\"counts\",\"type\":{\"type\":\"map\",\"values\":\"long\"}},"                       \
    "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"         \
    "{\"name\":\"day\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"                     \
    "{\"name\":\"uid\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"                  \
    "{\"name\":\"price\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\","                \
    "\"precision\":12,\"scale\":2}},"                                                              \
    "{\"name\":\"code\",\"type\":{\"type\":\"fixed\",\"name\":\"Code\",\"size\":4}},"              \
    "{\"name\":\"ok\",\"type\":\"boolean\"},"                                                      \
    "{\"name\":\"any\",\"type\":[\"null\",\"string\",\"long\"]},"                                  \
    "{\"name\":\"geo\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Geo\",\"fields\":["      \
    "{\"name\":\"lat\",\"type\":\"double\"},{\"name\":\"lon\",\"type\":\"float\"}]}]},"            \
    "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","             \
    "\"name\":\"Item\",\"fields\":[{\"name\":\"sku\",\"type\":\"string\"},"                        \
    "{\"name\":\"qty\",\"type\":\"int\"},{\"name\":\"note\",\"type\":[\"null\",\"string\"]}]}}},"  \
    "{\"name\":\"matrix\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"array\","             \
    "\"items\":\"int\"}}}]}"

/* What `sluice ddl ... --clickhouse-version 18.16` makes of SCHEMA, as
 * system.columns lists it ("name type" per line). */
static const char *const WANT_COLUMNS[] = {
    "id Int64",
    "user Nullable(String)",
    "kind Enum8('CLICK' = 0, 'VIEW' = 1)",
    "tags Array(String)",
    "counts.keys Array(String)",
    "counts.values Array(Int64)",
    "at DateTime",
    "day Date",
    "uid UUID",
    "price Decimal(12, 2)",
    "code FixedString(4)",
    "ok UInt8",
    "any Nullable(String)",
    "geo.lat Nullable(Float64)",
    "geo.lon Nullable(Float32)",
    "items.sku Array(String)",
    "items.qty Array(Int32)",
    "items.note Array(Nullable(String))",
    "matrix Array(Array(Int32))",
};

enum { N = 300 };

/* Days since 1970-01-01 as YYYY-MM-DD (H. Hinnant's civil_from_days). */
static void civil(int days, char *out, size_t n)
{
    long z = days + 719468, era = z / 146097, doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    snprintf(out, n, "%04ld-%02ld-%02ld", yoe + era * 400 + (m <= 2), m, d);
}

/* Row i as the producer's JSON and as ClickHouse's TabSeparated answer to
 * the SELECT in test_ddl_round_trip. */
static void row(int i, char *json, size_t jn, char *tsv, size_t tn)
{
    char user[32], user_tsv[32], any_json[48], any_tsv[32], geo_json[96], geo_tsv[48],
        items_json[512], items_tsv[700], date[16];
    snprintf(user, sizeof user, i % 3 ? "{\"string\":\"u%d\"}" : "null", i);
    snprintf(user_tsv, sizeof user_tsv, i % 3 ? "u%d" : "\\N", i);
    if (i % 3 == 0) {
        snprintf(any_json, sizeof any_json, "null");
        snprintf(any_tsv, sizeof any_tsv, "\\N");
    } else if (i % 3 == 1) {
        snprintf(any_json, sizeof any_json, "{\"string\":\"s%d\"}", i);
        snprintf(any_tsv, sizeof any_tsv, "s%d", i);
    } else {
        snprintf(any_json, sizeof any_json, "{\"long\":%d}", i);
        snprintf(any_tsv, sizeof any_tsv, "%d", i);
    }
    if (i % 2) {
        snprintf(geo_json, sizeof geo_json, "{\"ex.Geo\":{\"lat\":%d.5,\"lon\":-0.25}}", i);
        snprintf(geo_tsv, sizeof geo_tsv, "%d.5\t-0.25", i);
    } else {
        snprintf(geo_json, sizeof geo_json, "null");
        snprintf(geo_tsv, sizeof geo_tsv, "\\N\t\\N");
    }
    int n_items = i % 3;
    char skus[200] = "", qtys[200] = "", notes[200] = "";
    size_t ij = (size_t)snprintf(items_json, sizeof items_json, "[");
    for (int j = 0; j < n_items; j++) {
        ij += (size_t)snprintf(items_json + ij, sizeof items_json - ij,
                               "%s{\"sku\":\"k%d_%d\",\"qty\":%d,\"note\":%s}", j ? "," : "", i, j,
                               j, j % 2 ? "{\"string\":\"n\"}" : "null");
        snprintf(skus + strlen(skus), sizeof skus - strlen(skus), "%s'k%d_%d'", j ? "," : "", i, j);
        snprintf(qtys + strlen(qtys), sizeof qtys - strlen(qtys), "%s%d", j ? "," : "", j);
        snprintf(notes + strlen(notes), sizeof notes - strlen(notes), "%s%s", j ? "," : "",
                 j % 2 ? "'n'" : "NULL");
    }
    snprintf(items_json + ij, sizeof items_json - ij, "]");
    snprintf(items_tsv, sizeof items_tsv, "[%s]\t[%s]\t[%s]", skus, qtys, notes);
    civil(20000 + i, date, sizeof date);
    int tags = i % 4 != 0, counts = i % 5 != 0;
    snprintf(json, jn,
             "{\"id\":%d,\"user\":%s,\"kind\":\"%s\",\"tags\":%s,\"counts\":%s,"
             "\"at\":%lld,\"day\":%d,\"uid\":\"00000000-0000-4000-8000-%012d\","
             "\"price\":\"%d.%02d\",\"code\":\"c%03d\",\"ok\":%s,\"any\":%s,\"geo\":%s,"
             "\"items\":%s,\"matrix\":[[%d],[1,2]]}",
             i, user, i % 2 ? "VIEW" : "CLICK", tags ? "[\"t\",\"x\"]" : "[]",
             counts ? "{\"a\":1,\"b\":-2}" : "{}", 1795400000123LL + i * 1000LL, 20000 + i, i, i,
             i % 100, i % 1000, i % 2 ? "false" : "true", any_json, geo_json, items_json, i);
    snprintf(tsv, tn,
             "%d\t%s\t%s\t%s\t%s\t%s\t%lld\t%s\t00000000-0000-4000-8000-%012d\t%d.%02d\t"
             "c%03d\t%d\t%s\t%s\t%s\t[[%d],[1,2]]",
             i, user_tsv, i % 2 ? "VIEW" : "CLICK", tags ? "['t','x']" : "[]",
             counts ? "['a','b']" : "[]", counts ? "[1,-2]" : "[]", 1795400000LL + i, date, i, i,
             i % 100, i % 1000, i % 2 ? 0 : 1, any_tsv, geo_tsv, items_tsv, i);
}

/* Run `sluice ddl ARGS`; stdout into *out (malloc'd), stderr into err.
 * Returns the exit status. */
static int run_ddl(const char *args, char **out, char *errtext, size_t en)
{
    char errpath[600], cmd[2048];
    snprintf(errpath, sizeof errpath, "%s/ddl.err", env.dir);
    snprintf(cmd, sizeof cmd, "%s ddl %s 2>%s", test_sluice_bin(), args, errpath);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    n = fread(text, 1, cap - 1, p);
    text[n] = '\0';
    int st = pclose(p);
    *out = text;
    FILE *e = fopen(errpath, "r");
    size_t m = e ? fread(errtext, 1, en - 1, e) : 0;
    errtext[m] = '\0';
    if (e) fclose(e);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_ddl_round_trip(void)
{
    CHECK_EQ(sink_env_start(&env, "sluice-ddl", 1, 1), 0);
    int32_t id = 0;
    sluice_error err;
    CHECK_EQ(sluice_sr_register(env.sr, "ddl-value", SCHEMA, NULL, &id, &err), 0);

    /* The statements, from the binary, into ClickHouse. */
    char args[1024], errtext[2048];
    char *dot = NULL, *flat = NULL;
    snprintf(args, sizeof args,
             "--registry %s --subject ddl-value --table default.ddl_dot --order-by id "
             "--partition-by 'toYYYYMM(day)' --clickhouse-version 18.16",
             env.reg_url);
    CHECK_EQ(run_ddl(args, &dot, errtext, sizeof errtext), 0);
    printf("%s", dot);
    CHECK_CONTAINS(dot, "`items` Nested(`sku` String, `qty` Int32, `note` Nullable(String))");
    CHECK_CONTAINS(dot, "PARTITION BY toYYYYMM(day)\nORDER BY id;\n");
    snprintf(args, sizeof args,
             "--registry %s --subject ddl-value --version 1 --table default.ddl_flat "
             "--flatten _ --clickhouse-version 18.16",
             env.reg_url);
    CHECK_EQ(run_ddl(args, &flat, errtext, sizeof errtext), 0);
    CHECK_CONTAINS(flat, "`items_sku` Array(String)");
    CHECK_EQ(sink_env_sql(&env, dot), 0);
    CHECK_EQ(sink_env_sql(&env, flat), 0);
    free(dot);
    free(flat);

    /* The columns ClickHouse made are the ones the mapping promised. */
    char *cols = NULL;
    CHECK_EQ(test_ch_query(&env.ch,
                           "SELECT name, type FROM system.columns WHERE database = 'default' "
                           "AND table = 'ddl_dot' FORMAT TabSeparatedRaw",
                           &cols),
             200);
    char want[4096] = "";
    for (size_t i = 0; i < sizeof WANT_COLUMNS / sizeof WANT_COLUMNS[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s\n", WANT_COLUMNS[i]);
        *strchr(line, ' ') = '\t';
        strcat(want, line);
    }
    CHECK_STR(cols, want);
    free(cols);

    /* Framed Avro into two topics, read by two routes (one per table). */
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "ddl", 2), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "ddl_flat", 2), 0);
    sluice_avro_schema *s = NULL;
    CHECK_EQ(sluice_avro_schema_parse(SCHEMA, strlen(SCHEMA), &s, &err), 0);
    buf msg;
    buf_init(&msg, 1 << 16);
    static char tsv[N][2048];
    for (int i = 0; i < N; i++) {
        char json[4096];
        row(i, json, sizeof json, tsv[i], sizeof tsv[i]);
        json_error_t je;
        json_t *v = json_loads(json, 0, &je);
        if (!v) fprintf(stderr, "row %d: %s\n%s\n", i, je.text, json);
        CHECK(v);
        uint8_t hdr[SLUICE_WIRE_HEADER_SIZE];
        sluice_wire_write_header(hdr, id);
        buf_reset(&msg);
        buf_append(&msg, hdr, sizeof hdr);
        avro_json_errors errs;
        int rc = avro_json_encode(sluice_avro_schema_root(s), v, &msg, &errs);
        if (rc) fprintf(stderr, "row %d: %s: %s\n", i, errs.items[0].path, errs.items[0].message);
        json_decref(v);
        CHECK_EQ(rc, 0);
        CHECK_EQ(test_produce(env.prod, "ddl", -1, NULL, 0, msg.data, msg.len), 0);
        CHECK_EQ(test_produce(env.prod, "ddl_flat", -1, NULL, 0, msg.data, msg.len), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    buf_free(&msg);
    sluice_avro_schema_free(s);

    char config[700];
    CHECK_EQ(
        sink_env_config(&env, "ddl",
                        "sink:\n  group_id: ddl-test\n  routes:\n"
                        "    - {topic: ddl, table: default.ddl_dot, extra_fields: reject,\n"
                        "       batch: {max_age: 200ms}}\n"
                        "    - {topic: ddl_flat, table: default.ddl_flat, subject: ddl-value,\n"
                        "       flatten: _, extra_fields: reject, batch: {max_age: 200ms}}\n",
                        config, sizeof config),
        0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "ddl-sink", 1, 30000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM ddl_dot", N, 120000), N);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM ddl_flat", N, 120000), N);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM ddl_dot"), N);
    CHECK_EQ(sink_env_scalar(&env, "SELECT count() FROM ddl_flat"), N);

    const char *selects[2] = {
        "SELECT id, user, kind, tags, `counts.keys`, `counts.values`, toUnixTimestamp(at), day, "
        "uid, price, code, ok, any, `geo.lat`, `geo.lon`, `items.sku`, `items.qty`, "
        "`items.note`, matrix FROM ddl_dot ORDER BY id FORMAT TabSeparated",
        "SELECT id, user, kind, tags, counts_keys, counts_values, toUnixTimestamp(at), day, "
        "uid, price, code, ok, any, geo_lat, geo_lon, items_sku, items_qty, items_note, matrix "
        "FROM ddl_flat ORDER BY id FORMAT TabSeparated"};
    for (int t = 0; t < 2; t++) {
        char *text = NULL;
        CHECK_EQ(test_ch_query(&env.ch, selects[t], &text), 200);
        char *save = NULL, *line = strtok_r(text, "\n", &save);
        for (int i = 0; i < N; i++, line = strtok_r(NULL, "\n", &save))
            CHECK_STR(line, tsv[i]);
        CHECK(line == NULL);
        free(text);
    }
    CHECK_EQ(test_kafka_nothing_dropped(&env.kafka, "ddl"), 1);
    CHECK_EQ(test_kafka_nothing_dropped(&env.kafka, "ddl_flat"), 1);
}

static void test_ddl_failures(void)
{
    CHECK(env.dir);
    char args[1024], errtext[2048];
    char *out = NULL;
    snprintf(args, sizeof args, "--registry %s --subject nope-value", env.reg_url);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 1);
    CHECK_CONTAINS(errtext, "subject nope-value");
    CHECK_CONTAINS(errtext, "40401");
    CHECK_STR(out, "");
    free(out);
    snprintf(args, sizeof args, "--registry %s --subject ddl-value --version 9", env.reg_url);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 1);
    CHECK_CONTAINS(errtext, "40402");
    free(out);
    CHECK_EQ(run_ddl("--subject ddl-value", &out, errtext, sizeof errtext), 2);
    free(out);
    snprintf(args, sizeof args, "--registry %s --subject ddl-value --flatten /", env.reg_url);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 2);
    CHECK_CONTAINS(errtext, "--flatten must be . or _");
    free(out);
    snprintf(args, sizeof args, "--registry %s --subject ddl-value --engine Memory --order-by id",
             env.reg_url);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 2);
    CHECK_CONTAINS(errtext, "ORDER BY is for the MergeTree family, not engine Memory");
    free(out);
    /* The default table name is the topic's; Memory takes no ORDER BY; the
     * default server version is a current one (Map, Bool, DateTime64). */
    snprintf(args, sizeof args, "--registry %s --subject ddl-value --engine Memory", env.reg_url);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 0);
    CHECK_CONTAINS(out, "`counts` Map(String, Int64),\n    `at` DateTime64(3),");
    CHECK_CONTAINS(out, "`ok` Bool,");
    free(out);
    snprintf(args, sizeof args,
             "--registry %s --subject ddl-value --engine Memory --clickhouse-version 18.16",
             env.reg_url);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 0);
    CHECK_CONTAINS(out, "CREATE TABLE `ddl`\n");
    CHECK_CONTAINS(out, "ENGINE = Memory;\n");
    CHECK_EQ(sink_env_sql(&env, out), 0);
    free(out);
    sink_env_stop(&env);
}

TEST_MAIN(T(test_ddl_round_trip), T(test_ddl_failures))
