/*
 * test_plan_proto_clickhouse.c — the Protobuf plan end to end, on frames a
 * producer no one here wrote: Debian's python3-confluent-kafka 1.7.0
 * ProtobufSerializer (tests/compat/proto_produce.py) registers its schema
 * and references in a real `sluice registry` and frames 2 × N messages of
 * two message types of one file. This side does what the sink will do per
 * message: the schema by the frame's id (the shared client), its
 * references resolved and parsed once, the message type from the
 * message-index array (detected: the client writes [0] as 0x00 and [1] in
 * plain varints), one plan per (id, message) over the live table's
 * columns, RowBinary INSERTed into a real ClickHouse (18.16), and every
 * column read back with toString() and compared with what the producer
 * was told to write (both sides compute it from the message number).
 *
 * Needs /usr/bin/python3 with python3-confluent-kafka and python3-protobuf,
 * /usr/bin/protoc and clickhouse-server (scripts/setup.sh); their absence
 * is a failure, not a skip.
 */
#include "test.h"

#include <sluice/sr.h>
#include <sluice/wire.h>

#include "clickhouse.h"
#include "kafka.h"
#include "codec/plan.h"
#include "codec/proto_schema.h"
#include "codec/proto_wire.h"
#include "sink/ch_http.h"
#include "support.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How TabSeparatedRaw prints a NULL on this server (18.16). */
#define NULL_TEXT "\xe1\xb4\xba\xe1\xb5\x81\xe1\xb4\xb8\xe1\xb4\xb8"
#define N 200

static test_ch ch;
static ch_http *http;
/* kept for the second test: the frames python wrote, the registry */
static char *tmp;
static char frames_path[600], reg_url[64];
static test_proc reg;

static int sql(const char *q)
{
    sluice_error err;
    if (ch_http_query(http, q, NULL, &err) != 0) {
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

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* What the sink caches per schema id: the parsed schema. */
typedef struct cached {
    int32_t id;
    proto_schema *ps;
} cached;

static proto_schema *schema_for(sluice_sr *sr, int32_t id, cached *cache, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        if (cache[i].id == id) return cache[i].ps;
    const sluice_sr_schema *s = NULL;
    sluice_sr_resolved *res = NULL;
    sluice_error err;
    proto_schema *ps = NULL;
    if (sluice_sr_get_by_id(sr, id, &s, &err) != 0 ||
        sluice_sr_resolve_references(sr, s, &res, &err) != 0) {
        fprintf(stderr, "schema %d: %s\n", (int)id, err.msg);
    } else {
        proto_source deps[16];
        for (size_t i = 0; i < res->n && i < 16; i++)
            deps[i] =
                (proto_source){res->names[i], res->schemas[i]->schema, res->schemas[i]->schema_len,
                               res->schemas[i]->subject, res->schemas[i]->version};
        if (proto_schema_parse(s->schema, s->schema_len, NULL, deps, res->n, &ps, &err) != 0)
            fprintf(stderr, "schema %d: %s\n", (int)id, err.msg);
    }
    sluice_sr_resolved_free(res);
    sluice_sr_schema_release(s);
    if (ps) cache[(*n)++] = (cached){id, ps};
    return ps;
}

static plan *plan_for(const proto_message *m, const char *table, arena *a)
{
    plan_column *cols;
    size_t n;
    sluice_error err;
    if (ch_http_columns(http, table, a, &cols, &n, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    plan_options opt = {.route = table};
    plan *p = NULL;
    if (plan_compile_proto(m, cols, n, &opt, &p, &err) != 0) fprintf(stderr, "%s\n", err.msg);
    return p;
}

static void fmt_time(int64_t secs, const char *f, char *out, size_t n)
{
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, f, &tm);
}

/* The row proto_produce.py's event(i) becomes, as toString() prints it. */
static void expected_event(int i, char *out, size_t cap)
{
    static const char *status[] = {"STATUS_UNKNOWN", "NEW", "PAID", "SHIPPED"};
    char at[32], geo[128], lines[1024] = "", qty[256] = "", price[256] = "", tags[512] = "";
    char akeys[128] = "", avals[128] = "", deltas[64], coupon[32], score[32], email[32], phone[32];
    fmt_time(1700000000LL + i * 3601, "%Y-%m-%d %H:%M:%S", at, sizeof at);
    if (i % 3 == 0)
        snprintf(geo, sizeof geo, "\t0\t%s", NULL_TEXT); /* absent: defaults, NULL */
    else if (i % 2)
        snprintf(geo, sizeof geo, "C%d\t%d.5\t-%d.25", i % 5, i, i);
    else
        snprintf(geo, sizeof geo, "C%d\t%d.5\t0", i % 5, i); /* present: lon is 0 */
    for (int k = 0; k < i % 4; k++) {
        char one[64];
        snprintf(one, sizeof one, "%s'S%d-%d'", k ? "," : "", i, k);
        strcat(lines, one);
        snprintf(one, sizeof one, "%s%d", k ? "," : "", k + 1);
        strcat(qty, one);
        double p = (k + 1) * 1.25;
        snprintf(one, sizeof one, "%s%g", k ? "," : "", p);
        strcat(price, one);
        strcat(tags, k ? ",[" : "[");
        for (int t = 0; t < k; t++) {
            snprintf(one, sizeof one, "%s't%d'", t ? "," : "", k);
            strcat(tags, one);
        }
        strcat(tags, "]");
    }
    for (int j = 0; j < i % 3; j++) {
        char one[32];
        snprintf(one, sizeof one, "%s'a%d'", j ? "," : "", j);
        strcat(akeys, one);
        snprintf(one, sizeof one, "%s'v%d'", j ? "," : "", i);
        strcat(avals, one);
    }
    if (i % 2)
        snprintf(deltas, sizeof deltas, "[%d,%d]", -i, i);
    else
        snprintf(deltas, sizeof deltas, "[]");
    if (i % 5)
        snprintf(coupon, sizeof coupon, "%s", NULL_TEXT);
    else if (i % 10)
        snprintf(coupon, sizeof coupon, "C%d", i);
    else
        coupon[0] = '\0'; /* set to "": not NULL */
    if (i % 2)
        snprintf(score, sizeof score, "%d", i * 7);
    else
        snprintf(score, sizeof score, "%s", i % 4 == 0 ? "0" : NULL_TEXT);
    if (i % 3 == 0)
        snprintf(email, sizeof email, "e%d@x", i);
    else
        snprintf(email, sizeof email, "%s", NULL_TEXT);
    if (i % 3 == 1)
        snprintf(phone, sizeof phone, "+%d", i);
    else
        snprintf(phone, sizeof phone, "%s", NULL_TEXT);
    unsigned long long big = 18446744073709551615ull - (unsigned)i;
    snprintf(out, cap,
             "%d\tu%d\t%s\t%s\t%s\t[%s]\t[%s]\t[%s]\t[%s]\t[%s]\t[%s]\t%s\t%s\t%s\t%s\t%s\t%s\t"
             "%d\t%d.5\t%llu\t%02X%s",
             i * 1000 - 5, i, status[i % 4], at, geo, lines, qty, price, tags, akeys, avals, deltas,
             coupon, score,
             i % 3 == 0   ? "email"
             : i % 3 == 1 ? "phone"
                          : "",
             email, phone, i % 2 == 0, i, big, i % 256, "FF");
}

static void expected_ping(int i, char *out, size_t cap)
{
    char at[40];
    fmt_time(1700000000LL + i, "%Y-%m-%dT%H:%M:%S", at, sizeof at);
    int nanos = (i % 3) * 1000000 + (i % 2) * 7;
    char frac[16] = "";
    if (nanos % 1000000 == 0 && nanos)
        snprintf(frac, sizeof frac, ".%03d", nanos / 1000000);
    else if (nanos)
        snprintf(frac, sizeof frac, ".%09d", nanos);
    snprintf(out, cap, "%d\t%s%sZ\t%s", i, at, frac, "1");
}

static void test_python_frames_land_exactly(void)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    CHECK(src);
    if (access("/usr/bin/python3", X_OK) != 0 || access("/usr/bin/protoc", X_OK) != 0) {
        fprintf(stderr, "python3 or protoc missing: run scripts/setup.sh\n");
        CHECK(0);
    }
    tmp = test_tmpdir("sluice-plan-proto-ch");
    char dir[600], db[600], log[600], out[600], pylog[600], work[600], script[600], n_text[16];
    snprintf(dir, sizeof dir, "%s/clickhouse", tmp);
    snprintf(db, sizeof db, "%s/registry.sqlite", tmp);
    snprintf(log, sizeof log, "%s/registry.log", tmp);
    snprintf(out, sizeof out, "%s/frames.txt", tmp);
    snprintf(pylog, sizeof pylog, "%s/python.log", tmp);
    snprintf(work, sizeof work, "%s/work", tmp);
    snprintf(script, sizeof script, "%s/tests/compat/proto_produce.py", src);
    snprintf(n_text, sizeof n_text, "%d", N);
    CHECK_EQ(test_ch_start(&ch, dir), 0);
    ch_http_config cfg = {.url = ch.url};
    sluice_error err;
    CHECK_EQ(ch_http_new(&cfg, &http, &err), 0);
    uint16_t port;
    CHECK_EQ(test_registry_start(&reg, db, 0, &port, log), 0);
    char *url = reg_url;
    snprintf(reg_url, sizeof reg_url, "http://127.0.0.1:%u", (unsigned)port);
    snprintf(frames_path, sizeof frames_path, "%s", out);
    char *argv[] = {"/usr/bin/python3", script, url, work, out, n_text, NULL};
    test_proc py;
    CHECK_EQ(test_proc_start(&py, argv, pylog), 0);
    int status = test_proc_wait(&py, 180000);
    if (status != 0) fprintf(stderr, "python exited %d (log: %s)\n", status, pylog);
    CHECK_EQ(status, 0);

    CHECK_EQ(sql("CREATE TABLE events (id Int64, user String, "
                 "status Enum8('STATUS_UNKNOWN' = 0, 'NEW' = 1, 'PAID' = 2, 'SHIPPED' = 3), "
                 "at DateTime, `geo.country` String, `geo.lat` Float64, "
                 "`geo.lon` Nullable(Float64), `lines.sku` Array(String), "
                 "`lines.qty` Array(UInt32), `lines.price` Array(Float64), "
                 "`lines.tags` Array(Array(String)), `attrs.keys` Array(String), "
                 "`attrs.values` Array(String), deltas Array(Int32), coupon Nullable(String), "
                 "score Nullable(Int64), contact String, email Nullable(String), "
                 "phone Nullable(String), gift UInt8, ratio Float32, big UInt64, blob String) "
                 "ENGINE = MergeTree ORDER BY id"),
             0);
    CHECK_EQ(sql("CREATE TABLE pings (id Int64, at String, seen UInt8 DEFAULT 1) "
                 "ENGINE = MergeTree ORDER BY id"),
             0);

    const char *urls[] = {url};
    sluice_sr_config scfg;
    sluice_sr_config_init(&scfg);
    scfg.urls = urls;
    scfg.n_urls = 1;
    sluice_sr *sr = NULL;
    CHECK_EQ(sluice_sr_new(&scfg, &sr, &err), 0);
    cached cache[4];
    size_t n_cache = 0;
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    plan *plans[2] = {NULL, NULL};
    plan_state *states[2] = {NULL, NULL};
    const proto_message *types[2] = {NULL, NULL};
    buf rows[2];
    buf_init(&rows[0], 16u << 20);
    buf_init(&rows[1], 16u << 20);
    FILE *fp = fopen(out, "r");
    CHECK(fp);
    char line[8192], topic[16], hex[8000];
    int frames = 0, plain_ones = 0;
    while (fgets(line, sizeof line, fp)) {
        CHECK_EQ(sscanf(line, "%15s %7999s", topic, hex), 2);
        uint8_t frame[4096];
        size_t len = unhex(hex, frame, sizeof frame);
        int32_t id;
        CHECK_EQ(sluice_wire_read(frame, len, &id, NULL, NULL, &err), 0);
        proto_schema *ps = schema_for(sr, id, cache, &n_cache);
        CHECK(ps);
        int32_t path[SLUICE_WIRE_MAX_INDEXES];
        size_t n_path = 0, at = 0;
        const proto_message *m = NULL;
        if (proto_frame_resolve(proto_schema_root(ps), frame, len, PROTO_INDEX_AUTO, path, &n_path,
                                &m, &at, &err) != 0)
            fprintf(stderr, "%s\n", err.msg);
        CHECK(m);
        int k = strcmp(topic, "pings") == 0;
        CHECK_STR(m->full_name, k ? "shop.Ping" : "shop.Event");
        if (k) {
            /* 1.7.0 writes [1] as plain 01 01; read as zig-zag it is refused. */
            CHECK(len > 6 && frame[5] == 0x01 && frame[6] == 0x01);
            const proto_message *wrong = NULL;
            CHECK_EQ(proto_frame_resolve(proto_schema_root(ps), frame, len, PROTO_INDEX_ZIGZAG,
                                         path, &n_path, &wrong, &at, &err),
                     SLUICE_EINVAL);
            CHECK_STR(err.msg, "offset 5: message-index count -1 is negative (zig-zag)");
            CHECK_EQ(proto_frame_resolve(proto_schema_root(ps), frame, len, PROTO_INDEX_PLAIN, path,
                                         &n_path, &m, &at, &err),
                     0);
            plain_ones++;
        } else {
            CHECK(frame[5] == 0x00);
        }
        if (!plans[k]) {
            types[k] = m;
            plans[k] = plan_for(m, k ? "default.pings" : "default.events", &a);
            CHECK(plans[k]);
            states[k] = plan_state_new(plans[k]);
        }
        CHECK(types[k] == m); /* one plan per (schema id, message) */
        plan_result res;
        if (plan_run(plans[k], states[k], frame + at, len - at, 0, &rows[k], &res, &err) != 0)
            fprintf(stderr, "%s: %s\n", topic, err.msg);
        CHECK_EQ(res.rows, 1);
        frames++;
    }
    fclose(fp);
    CHECK_EQ(frames, 2 * N);
    CHECK_EQ(plain_ones, N);
    CHECK_EQ(n_cache, 1); /* both types come from one registered schema */
    CHECK(strstr(plan_columns_sql(plans[1]), "seen") == NULL);
    CHECK_EQ(ch_http_insert(http, "default.events", plan_columns_sql(plans[0]), rows[0].data,
                            rows[0].len, &err),
             0);
    CHECK_EQ(ch_http_insert(http, "default.pings", plan_columns_sql(plans[1]), rows[1].data,
                            rows[1].len, &err),
             0);

    /* A map's entries come in the serializer's order, which Protobuf leaves
     * open (python's is its hash order): keys are compared sorted. */
    char *text = query_text(
        "SELECT toString(id), user, toString(status), toString(at), `geo.country`, "
        "toString(`geo.lat`), toString(`geo.lon`), toString(`lines.sku`), "
        "toString(`lines.qty`), toString(`lines.price`), toString(`lines.tags`), "
        "toString(arraySort(`attrs.keys`)), toString(`attrs.values`), toString(deltas), "
        "toString(coupon), toString(score), contact, toString(email), toString(phone), "
        "toString(gift), toString(ratio), toString(big), hex(blob) FROM events ORDER BY id "
        "FORMAT TabSeparatedRaw");
    CHECK(text);
    char *save = NULL, want[4096];
    int i = 0;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), i++) {
        CHECK(i < N);
        expected_event(i, want, sizeof want);
        if (strcmp(l, want) != 0) fprintf(stderr, "event %d\n  got:  %s\n  want: %s\n", i, l, want);
        CHECK_STR(l, want);
    }
    CHECK_EQ(i, N);
    free(text);
    text = query_text("SELECT toString(id), at, toString(seen) FROM pings ORDER BY id FORMAT "
                      "TabSeparatedRaw");
    CHECK(text);
    i = 0;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), i++) {
        CHECK(i < N);
        expected_ping(i, want, sizeof want);
        CHECK_STR(l, want);
    }
    CHECK_EQ(i, N);
    free(text);
    /* And a sum the server computes. */
    long long sum_id = 0;
    for (int k = 0; k < N; k++)
        sum_id += k * 1000 - 5;
    CHECK_EQ((long long)test_ch_scalar(&ch, "SELECT sum(id) FROM events"), sum_id);

    for (int k = 0; k < 2; k++) {
        plan_state_free(states[k]);
        plan_free(plans[k]);
        buf_free(&rows[k]);
    }
    for (size_t k = 0; k < n_cache; k++)
        proto_schema_free(cache[k].ps);
    arena_free(&a);
    sluice_sr_destroy(sr);
}

/* The same frames through `sluice sink` (librdkafka's mock cluster in its
 * own process, routes with protobuf_index_encoding: auto): the tables it
 * fills hold exactly what the plans above inserted, row for row. And JSON
 * Schema: frames of a JSON subject land after validation; one that breaks
 * its schema and one that is not JSON go to the dead-letter topic. */
static void test_sink_reads_protobuf_and_json_schema(void)
{
    CHECK(tmp != NULL);
    char kdir[700];
    snprintf(kdir, sizeof kdir, "%s/kafka", tmp);
    mkdir(kdir, 0755);
    test_kafka kafka;
    CHECK_EQ(test_kafka_start(&kafka, 1, kdir), 0);
    CHECK_EQ(test_kafka_create_topic(&kafka, "events", 4), 0);
    CHECK_EQ(test_kafka_create_topic(&kafka, "pings", 4), 0);
    CHECK_EQ(test_kafka_create_topic(&kafka, "jsonev", 2), 0);
    test_producer *prod = test_producer_new(kafka.bootstrap, "lz4");
    CHECK(prod != NULL);
    FILE *fp = fopen(frames_path, "r");
    CHECK(fp);
    char line[8192], topic[16], hex[8000];
    int frames = 0;
    while (fgets(line, sizeof line, fp)) {
        CHECK_EQ(sscanf(line, "%15s %7999s", topic, hex), 2);
        uint8_t frame[4096];
        size_t len = unhex(hex, frame, sizeof frame);
        CHECK_EQ(test_produce(prod, topic, -1, NULL, 0, frame, len), 0);
        frames++;
    }
    fclose(fp);
    CHECK_EQ(frames, 2 * N);

    /* JSON Schema frames: registered as sluice ingest would, framed by hand. */
    const char *urls[] = {reg_url};
    sluice_sr_config scfg;
    sluice_sr_config_init(&scfg);
    scfg.urls = urls;
    scfg.n_urls = 1;
    sluice_sr *sr = NULL;
    sluice_error err;
    CHECK_EQ(sluice_sr_new(&scfg, &sr, &err), 0);
    const char *js = "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
                     "\"name\":{\"type\":\"string\",\"maxLength\":8}},"
                     "\"required\":[\"id\",\"name\"]}";
    int32_t jid = 0;
    CHECK_EQ(sluice_sr_register_refs(sr, "jsonev-value", js, "JSON", NULL, 0, &jid, &err), 0);
    for (int i = 0; i < 100; i++) {
        char body[128];
        int n = i == 40   ? snprintf(body, sizeof body, "{\"id\":%d,\"name\":\"far too long\"}", i)
                : i == 41 ? snprintf(body, sizeof body, "{\"id\":%d,", i)
                          : snprintf(body, sizeof body, "{\"id\":%d,\"name\":\"n%d\"}", i, i);
        uint8_t frame[256];
        sluice_wire_write_header(frame, jid);
        memcpy(frame + SLUICE_WIRE_HEADER_SIZE, body, (size_t)n);
        size_t flen = SLUICE_WIRE_HEADER_SIZE + (size_t)n;
        CHECK_EQ(test_produce(prod, "jsonev", -1, NULL, 0, frame, flen), 0);
    }
    CHECK_EQ(test_producer_flush(prod, 30000), 0);
    sluice_sr_destroy(sr);

    CHECK_EQ(sql("CREATE TABLE events_s AS events"), 0);
    CHECK_EQ(sql("CREATE TABLE pings_s AS pings"), 0);
    CHECK_EQ(sql("CREATE TABLE jsonev (id Int64, name String) ENGINE = MergeTree ORDER BY id"), 0);
    char config[700], slog[700];
    snprintf(config, sizeof config, "%s/sink.yaml", tmp);
    snprintf(slog, sizeof slog, "%s/sink.log", tmp);
    FILE *f = fopen(config, "w");
    CHECK(f != NULL);
    fprintf(f,
            "metrics:\n  listen: 127.0.0.1:0\nkafka:\n  brokers: \"%s\"\n"
            "clickhouse:\n  url: %s\nregistry:\n  urls: [%s]\n"
            "sink:\n  group_id: types\n  routes:\n"
            "    - {topic: events, table: events_s}\n"
            "    - {topic: pings, table: pings_s, protobuf_index_encoding: auto}\n"
            "    - {topic: jsonev, table: jsonev}\n",
            kafka.bootstrap, ch.url, reg_url);
    fclose(f);
    char *argv[] = {(char *)test_sluice_bin(), "sink", "-c", config, NULL};
    test_proc s;
    CHECK_EQ(test_proc_start(&s, argv, slog), 0);
    int waited = 0;
    while (waited < 120000 && (test_ch_scalar(&ch, "SELECT count() FROM events_s") < N ||
                               test_ch_scalar(&ch, "SELECT count() FROM pings_s") < N ||
                               test_ch_scalar(&ch, "SELECT count() FROM jsonev") < 98)) {
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
        waited += 200;
    }
    static const char *same[][2] = {{"events", "events_s"}, {"pings", "pings_s"}};
    for (int k = 0; k < 2; k++) {
        char q[256];
        snprintf(q, sizeof q, "SELECT * FROM %s ORDER BY id FORMAT TabSeparated", same[k][0]);
        char *want = query_text(q);
        snprintf(q, sizeof q, "SELECT * FROM %s ORDER BY id FORMAT TabSeparated", same[k][1]);
        char *got = query_text(q);
        CHECK(want && got);
        CHECK(strlen(want) > 100);
        if (want && got) CHECK_STR(got, want);
        free(want);
        free(got);
    }
    CHECK_EQ(test_ch_scalar(&ch, "SELECT count() FROM jsonev"), 98);
    CHECK_EQ(test_ch_scalar(&ch, "SELECT count() FROM jsonev WHERE name = concat('n', "
                                 "toString(id)) AND id NOT IN (40, 41)"),
             98);
    double dlq = 0;
    CHECK_EQ(test_proc_wait_log(&s, "sub=metrics msg=listening", 0, line, sizeof line), 0);
    const char *q = strstr(line, "addr=");
    CHECK(q != NULL);
    char murl[128];
    snprintf(murl, sizeof murl, "http://%.*s/metrics", (int)strcspn(q + 5, " \n"), q + 5);
    /* the rows are inserted before the dead letters are sent */
    for (int i = 0; i < 300 && dlq < 2; i++) {
        dlq = test_scrape_sum(murl, "sluice_sink_dlq_messages_total", "topic=\"jsonev\"");
        if (dlq < 2) {
            struct timespec ts = {0, 100 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    CHECK_EQ(dlq, 2);
    CHECK_EQ(test_scrape_sum(murl, "sluice_sink_dlq_messages_total", "topic=\"events\""), 0);
    CHECK_EQ(test_proc_stop(&s, SIGTERM, 30000), 0);
    test_producer_free(prod);
    test_kafka_stop(&kafka);
}

static void test_cleanup(void)
{
    ch_http_free(http);
    if (reg.pid > 0) CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    test_ch_stop(&ch);
    if (tmp) test_rmtree(tmp);
    free(tmp);
}

TEST_MAIN(T(test_python_frames_land_exactly), T(test_sink_reads_protobuf_and_json_schema),
          T(test_cleanup))
