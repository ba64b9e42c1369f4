/*
 * test_plan_clickhouse.c — the codec end to end against a real ClickHouse
 * server and a real `sluice registry`:
 *
 *  1. a realistic event schema (every Avro type and logical type sluice maps,
 *     nested records, arrays of arrays, maps, arrays of records into Nested
 *     columns, a record into a JSON String column) → plan → RowBinary →
 *     INSERT; read back with toString() per column and compared value by
 *     value with what the events said;
 *  2. schema evolution through the registry: messages framed with v1 and v2
 *     of a subject, decoded with the subject's latest (v2) as the reader —
 *     v1 rows get v2's defaults;
 *  3. explode + filter + derived columns into an order-lines table;
 *  4. schemaless JSON messages through the JSON plan (a Nested group from
 *     an array of objects among them).
 */
#include "test.h"

#include <sluice/avro.h>
#include <sluice/sr.h>
#include <sluice/wire.h>

#include "clickhouse.h"
#include "codec/avro_json.h"
#include "codec/plan.h"
#include "sink/ch_http.h"
#include "support.h"

#include <jansson.h>
#include <signal.h>
#include <time.h>

static char *tmp;
static test_ch ch;
static ch_http *http;

static int setup(void)
{
    if (http) return 0;
    tmp = test_tmpdir("sluice-plan-ch");
    char dir[600];
    snprintf(dir, sizeof dir, "%s/clickhouse", tmp);
    if (test_ch_start(&ch, dir) != 0) return -1;
    ch_http_config cfg = {.url = ch.url, .settings = "allow_experimental_low_cardinality_type=1"};
    sluice_error err;
    if (ch_http_new(&cfg, &http, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int sql(const char *q)
{
    sluice_error err;
    if (ch_http_query(http, q, NULL, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Plan for writer/reader over the live table's columns. */
static plan *plan_for(const sluice_avro_node *w, const sluice_avro_node *r, const char *table,
                      arena *a, const plan_options *opt)
{
    plan_column *cols;
    size_t n;
    sluice_error err;
    if (ch_http_columns(http, table, a, &cols, &n, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    plan *p = NULL;
    int rc = w ? plan_compile_avro(w, r, cols, n, opt, &p, &err)
               : plan_compile_json(cols, n, opt, &p, &err);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    return p;
}

static int encode(const sluice_avro_node *schema, const char *json, buf *out)
{
    json_error_t je;
    json_t *v = json_loads(json, 0, &je);
    if (!v) {
        fprintf(stderr, "test JSON: %s\n", je.text);
        return -1;
    }
    avro_json_errors errs;
    int rc = avro_json_encode(schema, v, out, &errs);
    if (rc)
        fprintf(stderr, "encode: %s: %s\n", errs.n ? errs.items[0].path : "",
                errs.n ? errs.items[0].message : "");
    json_decref(v);
    return rc;
}

static int insert(const char *table, const plan *p, const buf *rows)
{
    sluice_error err;
    if (ch_http_insert(http, table, plan_columns_sql(p), rows->data, rows->len, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static char *query_text(const char *q)
{
    buf b;
    buf_init(&b, 64u << 20);
    sluice_error err;
    if (ch_http_query(http, q, &b, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

#define EVENT_SCHEMA                                                                               \
    "{\"type\":\"record\",\"name\":\"Event\",\"namespace\":\"t\",\"fields\":["                     \
    "{\"name\":\"id\",\"type\":\"long\"},"                                                         \
    "{\"name\":\"name\",\"type\":[\"null\",\"string\"]},"                                          \
    "{\"name\":\"score\",\"type\":\"double\"},"                                                    \
    "{\"name\":\"ratio\",\"type\":\"float\"},"                                                     \
    "{\"name\":\"small\",\"type\":\"int\"},"                                                       \
    "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"         \
    "{\"name\":\"day\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"                     \
    "{\"name\":\"uid\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"                  \
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"VIEW\","      \
    "\"CLICK\",\"BUY\"]}},"                                                                        \
    "{\"name\":\"amount\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":" \
    "12,\"scale\":2}},"                                                                            \
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"                      \
    "{\"name\":\"matrix\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":"   \
    "\"int\"}}},"                                                                                  \
    "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"                      \
    "{\"name\":\"user\",\"type\":{\"type\":\"record\",\"name\":\"User\",\"fields\":["              \
    "  "                                                                                           \
    "{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"email\",\"type\":[\"null\",\"string\"]}]}},"  \
    "{\"name\":\"ctx\",\"type\":{\"type\":\"record\",\"name\":\"Ctx\",\"fields\":["                \
    "  {\"name\":\"ip\",\"type\":\"string\"},{\"name\":\"port\",\"type\":\"int\"}]}},"             \
    "{\"name\":\"flag\",\"type\":\"boolean\"},"                                                    \
    "{\"name\":\"code\",\"type\":{\"type\":\"fixed\",\"name\":\"Code\",\"size\":4}},"              \
    "{\"name\":\"lc\",\"type\":\"string\"},"                                                       \
    "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":"    \
    "\"Item\",\"fields\":["                                                                        \
    "  {\"name\":\"sku\",\"type\":\"string\"},{\"name\":\"qty\",\"type\":\"int\"}]}}}"             \
    "]}"

/* How TabSeparatedRaw prints a NULL on this server (18.16). */
#define NULL_TEXT "\xe1\xb4\xba\xe1\xb5\x81\xe1\xb4\xb8\xe1\xb4\xb8"

static void test_every_mapping_round_trips(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(sql("CREATE TABLE events (id UInt64, name Nullable(String), score Float64, "
                 "ratio Float32, small Int8, ts DateTime, day Date, uid UUID, "
                 "kind Enum8('VIEW' = 1, 'CLICK' = 2, 'BUY' = 3), amount Decimal(12, 2), "
                 "tags Array(String), matrix Array(Array(Int32)), `attrs.keys` Array(String), "
                 "`attrs.values` Array(String), `user.id` UInt64, `user.email` Nullable(String), "
                 "ctx String, flag UInt8, code FixedString(4), lc LowCardinality(String), "
                 "`items.sku` Array(String), `items.qty` Array(UInt32), "
                 "loaded DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY id"),
             0);
    sluice_avro_schema *s = NULL;
    sluice_error err;
    CHECK_EQ(sluice_avro_schema_parse(EVENT_SCHEMA, strlen(EVENT_SCHEMA), &s, &err), 0);
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    plan_options opt = {.route = "test"};
    plan *p = plan_for(sluice_avro_schema_root(s), NULL, "default.events", &a, &opt);
    CHECK(p);
    /* `loaded` has a DEFAULT expression and no source: left to the server. */
    CHECK(strstr(plan_columns_sql(p), "loaded") == NULL);
    plan_state *st = plan_state_new(p);
    buf rows, msg;
    buf_init(&rows, 64u << 20);
    buf_init(&msg, 1 << 20);
    enum { N = 300 };
    char(*expected)[1024] = calloc(N, sizeof *expected);
    for (int i = 0; i < N; i++) {
        int64_t ts = 1700000000000LL + (int64_t)i * 3600123;
        int day = 19000 + i;
        char json[4096];
        snprintf(json, sizeof json,
                 "{\"id\":%d,\"name\":%s,\"score\":%d.25,\"ratio\":%d.5,\"small\":%d,"
                 "\"ts\":%lld,\"day\":%d,\"uid\":\"%08x-5cb3-11e7-907b-a6006ad3dba0\","
                 "\"kind\":\"%s\",\"amount\":\"%d.%02d\",\"tags\":[%s],"
                 "\"matrix\":[[%d,%d],[]],\"attrs\":{\"k%d\":\"v\"},"
                 "\"user\":{\"id\":%d,\"email\":%s},\"ctx\":{\"ip\":\"10.0.0.%d\",\"port\":%d},"
                 "\"flag\":%s,\"code\":\"c%03d\",\"lc\":\"region-%d\","
                 "\"items\":[{\"sku\":\"A%d\",\"qty\":%d},{\"sku\":\"B\",\"qty\":0}]}",
                 i, i % 3 ? "{\"string\":\"n\"}" : "null", i, i % 7, (i % 256) - 128, (long long)ts,
                 day, 0xf0000000u + (unsigned)i, (const char *[]){"VIEW", "CLICK", "BUY"}[i % 3],
                 -i * 3, 7, i % 2 ? "\"x\",\"y\"" : "", i, -i, i, i * 2,
                 i % 4 ? "{\"string\":\"u@x\"}" : "null", i % 250, 1000 + i,
                 i % 2 ? "true" : "false", i % 1000, i % 5, i, i + 1);
        buf_reset(&msg);
        CHECK_EQ(encode(sluice_avro_schema_root(s), json, &msg), 0);
        plan_result res;
        CHECK_EQ(plan_run(p, st, msg.data, msg.len, 0, &rows, &res, &err), 0);
        CHECK_EQ(res.rows, 1);
        time_t t = (time_t)(ts / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char when[32], date[16];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        time_t d = (time_t)day * 86400;
        gmtime_r(&d, &tm);
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
        snprintf(expected[i], sizeof expected[i],
                 "%d\t%s\t%d.25\t%d.5\t%d\t%s\t%s\t%08x-5cb3-11e7-907b-a6006ad3dba0\t%s\t%s%d.07\t"
                 "[%s]\t[[%d,%d],[]]\t['k%d']\t['v']\t%d\t%s\t{\"ip\":\"10.0.0.%d\",\"port\":%d}\t%"
                 "d\tc%03d\tregion-%d\t"
                 "['A%d','B']\t[%d,0]",
                 i, i % 3 ? "n" : NULL_TEXT, i, i % 7, (i % 256) - 128, when, date,
                 0xf0000000u + (unsigned)i, (const char *[]){"VIEW", "CLICK", "BUY"}[i % 3],
                 i ? "-" : "", i * 3, i % 2 ? "'x','y'" : "", i, -i, i, i * 2,
                 i % 4 ? "u@x" : NULL_TEXT, i % 250, 1000 + i, i % 2, i % 1000, i % 5, i, i + 1);
    }
    CHECK_EQ(insert("default.events", p, &rows), 0);
    char *text = query_text(
        "SELECT toString(id), toString(name), toString(score), toString(ratio), toString(small), "
        "toString(ts), toString(day), toString(uid), toString(kind), toString(amount), "
        "toString(tags), "
        "toString(matrix), toString(`attrs.keys`), toString(`attrs.values`), toString(`user.id`), "
        "toString(`user.email`), ctx, toString(flag), toString(code), toString(lc), "
        "toString(`items.sku`), toString(`items.qty`) FROM events ORDER BY id FORMAT "
        "TabSeparatedRaw");
    CHECK(text);
    char *save = NULL;
    int i = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
        CHECK(i < N);
        if (strcmp(line, expected[i]) != 0)
            fprintf(stderr, "row %d\n  got:  %s\n  want: %s\n", i, line, expected[i]);
        CHECK_STR(line, expected[i]);
    }
    CHECK_EQ(i, N);
    CHECK_EQ(
        test_ch_scalar(
            &ch, "SELECT count() FROM events WHERE loaded > toDateTime('2020-01-01 00:00:00')"),
        N);
    free(text);
    free(expected);
    buf_free(&rows);
    buf_free(&msg);
    plan_state_free(st);
    plan_free(p);
    arena_free(&a);
    sluice_avro_schema_free(s);
}

static void test_evolution_through_registry(void)
{
    CHECK_EQ(setup(), 0);
    char db[600], log[600];
    snprintf(db, sizeof db, "%s/registry.sqlite", tmp);
    snprintf(log, sizeof log, "%s/registry.log", tmp);
    test_proc reg;
    uint16_t port;
    CHECK_EQ(test_registry_start(&reg, db, 0, &port, log), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)port);
    const char *urls[] = {url};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.urls = urls;
    cfg.n_urls = 1;
    sluice_sr *sr;
    sluice_error err;
    CHECK_EQ(sluice_sr_new(&cfg, &sr, &err), 0);
    const char *v1 =
        "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"},"
        "{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"old\",\"type\":\"string\"}]}";
    const char *v2 =
        "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"
        "{\"name\":\"name\",\"type\":\"string\"},"
        "{\"name\":\"source\",\"type\":\"string\",\"default\":\"web\"},"
        "{\"name\":\"score\",\"type\":[\"null\",\"double\"],\"default\":null}]}";
    int32_t id1, id2;
    CHECK_EQ(sluice_sr_register(sr, "users-value", v1, NULL, &id1, &err), 0);
    CHECK_EQ(sluice_sr_register(sr, "users-value", v2, NULL, &id2, &err), 0);
    CHECK(id1 != id2);
    CHECK_EQ(
        sql("CREATE TABLE users (id Int64, name String, source String, score Nullable(Float64)) "
            "ENGINE = MergeTree ORDER BY id"),
        0);

    /* Messages as producers would frame them, half with each version. */
    buf frames[40];
    for (int i = 0; i < 40; i++) {
        buf_init(&frames[i], 4096);
        const char *text = i % 2 ? v2 : v1;
        sluice_avro_schema *ws;
        CHECK_EQ(sluice_avro_schema_parse(text, strlen(text), &ws, &err), 0);
        uint8_t hdr[5];
        sluice_wire_write_header(hdr, i % 2 ? id2 : id1);
        buf_append(&frames[i], hdr, 5);
        char json[256];
        if (i % 2)
            snprintf(json, sizeof json,
                     "{\"id\":%d,\"name\":\"n%d\",\"source\":\"app\",\"score\":{\"double\":%d.5}}",
                     i, i, i);
        else
            snprintf(json, sizeof json, "{\"id\":%d,\"name\":\"n%d\",\"old\":\"x\"}", i, i);
        CHECK_EQ(encode(sluice_avro_schema_root(ws), json, &frames[i]), 0);
        sluice_avro_schema_free(ws);
    }

    /* What the sink does: the reader is the subject's latest; one plan per writer id. */
    const sluice_sr_schema *latest;
    CHECK_EQ(sluice_sr_get_latest(sr, "users-value", &latest, &err), 0);
    CHECK_EQ(latest->id, id2);
    sluice_avro_schema *reader;
    CHECK_EQ(sluice_avro_schema_parse(latest->schema, latest->schema_len, &reader, &err), 0);
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    plan *plans[2] = {NULL, NULL};
    plan_state *states[2] = {NULL, NULL};
    sluice_avro_schema *writers[2] = {NULL, NULL};
    buf rows[2];
    buf_init(&rows[0], 1 << 20);
    buf_init(&rows[1], 1 << 20);
    plan_options opt = {.route = "users"};
    for (int i = 0; i < 40; i++) {
        const sluice_sr_schema *ws;
        const uint8_t *payload;
        size_t plen;
        CHECK_EQ(
            sluice_sr_get_by_frame(sr, frames[i].data, frames[i].len, &ws, &payload, &plen, &err),
            0);
        int k = ws->id == id2;
        if (!plans[k]) {
            CHECK_EQ(sluice_avro_schema_parse(ws->schema, ws->schema_len, &writers[k], &err), 0);
            plans[k] = plan_for(sluice_avro_schema_root(writers[k]),
                                sluice_avro_schema_root(reader), "default.users", &a, &opt);
            CHECK(plans[k]);
            states[k] = plan_state_new(plans[k]);
        }
        sluice_sr_schema_release(ws);
        plan_result res;
        CHECK_EQ(plan_run(plans[k], states[k], payload, plen, 0, &rows[k], &res, &err), 0);
    }
    /* Both writers decode to the reader's fields, so one column list. */
    CHECK_STR(plan_columns_sql(plans[0]), "(`id`, `name`, `source`, `score`)");
    CHECK_STR(plan_columns_sql(plans[1]), plan_columns_sql(plans[0]));
    CHECK_EQ(insert("default.users", plans[0], &rows[0]), 0);
    CHECK_EQ(insert("default.users", plans[1], &rows[1]), 0);
    char *text =
        query_text("SELECT id, name, source, score FROM users ORDER BY id FORMAT TabSeparated");
    CHECK(text);
    char want[4096] = "", line[128];
    for (int i = 0; i < 40; i++) {
        if (i % 2)
            snprintf(line, sizeof line, "%d\tn%d\tapp\t%d.5\n", i, i, i);
        else
            snprintf(line, sizeof line, "%d\tn%d\tweb\t\\N\n", i, i);
        strcat(want, line);
    }
    CHECK_STR(text, want);
    free(text);
    for (int k = 0; k < 2; k++) {
        plan_state_free(states[k]);
        plan_free(plans[k]);
        sluice_avro_schema_free(writers[k]);
        buf_free(&rows[k]);
    }
    for (int i = 0; i < 40; i++)
        buf_free(&frames[i]);
    arena_free(&a);
    sluice_avro_schema_free(reader);
    sluice_sr_schema_release(latest);
    sluice_sr_destroy(sr);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
}

static void test_explode_filter_derived_into_table(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(sql("CREATE TABLE lines (order_id Int64, `items.sku` String, line_no UInt16, "
                 "total Float64, customer LowCardinality(String), loaded DateTime) "
                 "ENGINE = MergeTree ORDER BY (order_id, line_no)"),
             0);
    const char *schema =
        "{\"type\":\"record\",\"name\":\"O\",\"fields\":[{\"name\":\"order_id\",\"type\":\"long\"},"
        "{\"name\":\"status\",\"type\":\"string\"},{\"name\":\"customer\",\"type\":\"string\"},"
        "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":"
        "\"I\","
        "\"fields\":[{\"name\":\"sku\",\"type\":\"string\"},{\"name\":\"qty\",\"type\":\"int\"},"
        "{\"name\":\"price\",\"type\":\"double\"}]}}}]}";
    sluice_avro_schema *s;
    sluice_error err;
    CHECK_EQ(sluice_avro_schema_parse(schema, strlen(schema), &s, &err), 0);
    plan_derived d[] = {{"line_no", "index()"},
                        {"total", "items.qty * items.price"},
                        {"customer", "upper(customer)"},
                        {"loaded", "now()"}};
    plan_options opt = {.route = "lines",
                        .explode = "items",
                        .filter = "status != 'CANCELLED' and items.qty > 0",
                        .derived = d,
                        .n_derived = 4};
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    plan *p = plan_for(sluice_avro_schema_root(s), NULL, "default.lines", &a, &opt);
    CHECK(p);
    plan_state *st = plan_state_new(p);
    buf rows, msg;
    buf_init(&rows, 1 << 20);
    buf_init(&msg, 1 << 16);
    size_t total_rows = 0, filtered = 0;
    for (int i = 0; i < 10; i++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"order_id\":%d,\"status\":\"%s\",\"customer\":\"acme%d\",\"items\":["
                 "{\"sku\":\"a\",\"qty\":%d,\"price\":2.5},{\"sku\":\"b\",\"qty\":0,\"price\":1.0},"
                 "{\"sku\":\"c\",\"qty\":1,\"price\":0.25}]}",
                 i, i == 3 ? "CANCELLED" : "PAID", i, i + 1);
        buf_reset(&msg);
        CHECK_EQ(encode(sluice_avro_schema_root(s), json, &msg), 0);
        plan_result res;
        CHECK_EQ(plan_run(p, st, msg.data, msg.len, 1700000000, &rows, &res, &err), 0);
        total_rows += res.rows;
        filtered += res.filtered;
    }
    CHECK_EQ(total_rows, 18); /* 9 orders x 2 kept lines */
    CHECK_EQ(filtered, 12);   /* 9 zero-qty lines + 3 lines of the cancelled order */
    CHECK_EQ(insert("default.lines", p, &rows), 0);
    char *text = query_text(
        "SELECT order_id, `items.sku`, line_no, total, customer, toString(loaded) "
        "FROM lines WHERE order_id IN (0, 9) ORDER BY order_id, line_no FORMAT TabSeparated");
    CHECK(text);
    CHECK_STR(text, "0\ta\t0\t2.5\tACME0\t2023-11-14 22:13:20\n"
                    "0\tc\t2\t0.25\tACME0\t2023-11-14 22:13:20\n"
                    "9\ta\t0\t25\tACME9\t2023-11-14 22:13:20\n"
                    "9\tc\t2\t0.25\tACME9\t2023-11-14 22:13:20\n");
    free(text);
    CHECK_EQ(test_ch_scalar(&ch, "SELECT count() FROM lines WHERE order_id = 3"), 0);
    buf_free(&rows);
    buf_free(&msg);
    plan_state_free(st);
    plan_free(p);
    arena_free(&a);
    sluice_avro_schema_free(s);
}

static void test_json_messages(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(sql("CREATE TABLE logs (ts DateTime, level Enum8('info' = 1, 'error' = 2), "
                 "msg String, `http.status` Nullable(UInt16), tags Array(String), "
                 "items Nested(sku String, qty UInt32)) "
                 "ENGINE = MergeTree ORDER BY ts"),
             0);
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    plan_options opt = {.route = "logs"};
    plan *p = plan_for(NULL, NULL, "default.logs", &a, &opt);
    CHECK(p);
    plan_state *st = plan_state_new(p);
    buf rows;
    buf_init(&rows, 1 << 20);
    const char *msgs[] = {
        "{\"ts\":\"2026-11-22T20:12:01Z\",\"level\":\"info\",\"msg\":\"hello\",\"http\":{"
        "\"status\":200},\"tags\":[\"a\"],\"items\":[{\"sku\":\"x1\",\"qty\":2},{\"sku\":\"x2\"}]}",
        "{\"ts\":1700000000,\"level\":\"error\",\"msg\":\"tab\\there\"}",
    };
    sluice_error err;
    for (int i = 0; i < 2; i++) {
        plan_result res;
        CHECK_EQ(plan_run(p, st, (const uint8_t *)msgs[i], strlen(msgs[i]), 0, &rows, &res, &err),
                 0);
    }
    CHECK_EQ(insert("default.logs", p, &rows), 0);
    char *text = query_text("SELECT toString(ts), level, msg, toString(`http.status`), "
                            "toString(tags), toString(`items.sku`), toString(`items.qty`) "
                            "FROM logs ORDER BY ts FORMAT TabSeparated");
    CHECK(text);
    /* TabSeparated escapes: the tab as \t, NULL as \N, quotes inside arrays
     * as \'. The Nested group comes from the array of objects, one element
     * per item (the missing qty as 0). */
    CHECK_STR(text,
              "2023-11-14 22:13:20\terror\ttab\\there\t\\N\t[]\t[]\t[]\n"
              "2026-11-22 20:12:01\tinfo\thello\t200\t[\\'a\\']\t[\\'x1\\',\\'x2\\']\t[2,0]\n");
    free(text);
    buf_free(&rows);
    plan_state_free(st);
    plan_free(p);
    arena_free(&a);
}

static void test_cleanup(void)
{
    CHECK_EQ(setup(), 0);
    ch_http_free(http);
    http = NULL;
    test_ch_stop(&ch);
    test_rmtree(tmp);
}

TEST_MAIN(T(test_every_mapping_round_trips), T(test_evolution_through_registry),
          T(test_explode_filter_derived_into_table), T(test_json_messages), T(test_cleanup))
