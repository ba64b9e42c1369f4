/*
 * test_ddl_types.c — `sluice ddl` for PROTOBUF and JSON subjects, round
 * trip against the real parts, as tests/integration/test_ddl.c does for
 * Avro: each subject is registered in `sluice registry` with a reference
 * to another subject, its CREATE TABLE printed by the binary (with '.' and
 * with '_' flattening) and run by ClickHouse 18.16, then `sluice sink` (a
 * process, the mock Kafka cluster) writes framed messages into those
 * tables and every column of every row is compared with what was
 * produced:
 *   - Protobuf (--message shop.Order, the file's second message, so the
 *     frames carry the index [1]): every scalar kind, an enum with a
 *     negative number, a Timestamp as DateTime, a message from the
 *     referenced file flattened, a repeated message as a Nested group
 *     (with a repeated scalar, a message and a proto3 optional inside), a
 *     map as keys/values, packed sint32s, proto3 optional, a wrapper, a
 *     oneof with a message member and its own column; a map inside the
 *     repeated message is listed as not mapped and skipped by the sink;
 *   - JSON Schema (frames of JSON text after the 5-byte header, validated
 *     by the sink first): integer, number and string with null, boolean,
 *     date-time, date, uuid, an enum with null, an integer enum, arrays,
 *     a nullable array of arrays of nullable integers, a nullable object
 *     flattened, an object from the referenced subject's document, several
 *     scalar types as text; absent properties as defaults and NULLs; an
 *     array of objects into a Nested group, and a property of any value
 *     listed as not mapped;
 *   - the columns ClickHouse made (system.columns) are the ones printed.
 */
#include "test.h"

#include <sluice/wire.h>

#include "codec/json_lex.h"
#include "codec/json_proto.h"
#include "codec/proto_schema.h"
#include "sink_env.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static sink_env env;

enum { N = 240 };

/* ---- helpers ------------------------------------------------------------------------- */

/* Run `sluice ddl ARGS`; stdout into *out (malloc'd), stderr into errtext.
 * Returns the exit status. */
static int run_ddl(const char *args, char **out, char *errtext, size_t en)
{
    char errpath[600], cmd[2048];
    snprintf(errpath, sizeof errpath, "%s/ddl.err", env.dir);
    snprintf(cmd, sizeof cmd, "%s ddl %s 2>%s", test_sluice_bin(), args, errpath);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 1 << 16;
    char *text = malloc(cap);
    size_t n = fread(text, 1, cap - 1, p);
    text[n] = '\0';
    int st = pclose(p);
    *out = text;
    FILE *e = fopen(errpath, "r");
    size_t m = e ? fread(errtext, 1, en - 1, e) : 0;
    errtext[m] = '\0';
    if (e) fclose(e);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The statement for `subject` into `table` (flatten sep), run by ClickHouse. */
static void create_from_ddl(const char *subject, const char *table, char sep, const char *more,
                            const char *must_contain)
{
    char args[1024], errtext[2048];
    char *sql = NULL;
    snprintf(args, sizeof args,
             "--registry %s --subject %s --table default.%s --flatten %c --order-by id "
             "--clickhouse-version 18.16 %s",
             env.reg_url, subject, table, sep, more);
    int rc = run_ddl(args, &sql, errtext, sizeof errtext);
    if (rc != 0) fprintf(stderr, "sluice ddl %s: %s\n", args, errtext);
    CHECK_EQ(rc, 0);
    printf("%s", sql);
    if (must_contain) CHECK_CONTAINS(sql, must_contain);
    CHECK_EQ(sink_env_sql(&env, sql), 0);
    free(sql);
}

/* system.columns of a table is exactly want ("name type" per entry, with
 * the '.' separator; sep '_' replaces it in the names). */
static void check_columns(const char *table, const char *const *want, size_t n, char sep)
{
    char q[512], expect[8192] = "";
    snprintf(q, sizeof q,
             "SELECT name, type FROM system.columns WHERE database = 'default' AND table = '%s' "
             "FORMAT TabSeparatedRaw",
             table);
    for (size_t i = 0; i < n; i++) {
        char line[512];
        snprintf(line, sizeof line, "%s\n", want[i]);
        char *space = strchr(line, ' ');
        *space = '\t';
        for (char *c = line; c < space; c++)
            if (*c == '.') *c = sep;
        strcat(expect, line);
    }
    char *cols = NULL;
    CHECK_EQ(test_ch_query(&env.ch, q, &cols), 200);
    CHECK_STR(cols, expect);
    free(cols);
}

/* Every row of `select` (ORDER BY id, TabSeparated) equals tsv[i]. */
static void check_rows(const char *select, char tsv[][2048])
{
    char *text = NULL;
    CHECK_EQ(test_ch_query(&env.ch, select, &text), 200);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    for (int i = 0; i < N; i++, line = strtok_r(NULL, "\n", &save)) {
        CHECK(line != NULL);
        if (!line) break;
        if (strcmp(line, tsv[i]) != 0)
            fprintf(stderr, "row %d\n  got:  %s\n  want: %s\n", i, line, tsv[i]);
        CHECK_STR(line, tsv[i]);
    }
    CHECK(line == NULL);
    free(text);
}

/* A SELECT of the columns (names with '.', no other dots), for a table
 * flattened with sep. */
static void select_of(const char *columns, const char *table, char sep, char *out, size_t n)
{
    char cols[2048];
    snprintf(cols, sizeof cols, "%s", columns);
    for (char *c = cols; *c; c++)
        if (*c == '.') *c = sep;
    snprintf(out, n, "SELECT %s FROM %s ORDER BY id FORMAT TabSeparated", cols, table);
}

/* Days since 1970-01-01 as YYYY-MM-DD (H. Hinnant's civil_from_days). */
static void civil(int days, char *out, size_t n)
{
    long z = days + 719468, era = z / 146097, doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    snprintf(out, n, "%04ld-%02ld-%02ld", yoe + era * 400 + (m <= 2), m, d);
}

static void rfc3339(long long secs, int frac_digits, long frac, char *out, size_t n)
{
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac_digits)
        snprintf(out, n, "%s.%0*ldZ", base, frac_digits, frac);
    else
        snprintf(out, n, "%sZ", base);
}

#define APPEND(buf, ...) snprintf(buf + strlen(buf), sizeof buf - strlen(buf), __VA_ARGS__)

/* ---- Protobuf --------------------------------------------------------------------------- */

static const char *const GEO_PROTO = "syntax = \"proto3\";\n"
                                     "package geo;\n"
                                     "message Point { double lat = 1; float lon = 2; }\n";

static const char *const ORDER_PROTO =
    "syntax = \"proto3\";\n"
    "package shop;\n"
    "import \"google/protobuf/timestamp.proto\";\n"
    "import \"google/protobuf/wrappers.proto\";\n"
    "import \"shop/geo.proto\";\n"
    "message Ping { int64 id = 1; }\n"
    "message Order {\n"
    "  enum Status { STATUS_UNKNOWN = 0; NEW = 1; PAID = 2; SHIPPED = -3; }\n"
    "  int64 id = 1;\n"
    "  string user = 2;\n"
    "  Status status = 3;\n"
    "  google.protobuf.Timestamp at = 4;\n"
    "  geo.Point where = 5;\n"
    "  message Line {\n"
    "    string sku = 1;\n"
    "    uint32 qty = 2;\n"
    "    repeated string tags = 3;\n"
    "    geo.Point from = 4;\n"
    "    optional double discount = 5;\n"
    "    map<string, string> notes = 6;\n"
    "  }\n"
    "  repeated Line lines = 6;\n"
    "  map<string, int64> counts = 7;\n"
    "  repeated sint32 deltas = 8;\n"
    "  optional string coupon = 9;\n"
    "  google.protobuf.Int64Value score = 10;\n"
    "  oneof contact { string email = 11; geo.Point pin = 12; }\n"
    "  bool gift = 13;\n"
    "  uint64 big = 14;\n"
    "  bytes blob = 15;\n"
    "  fixed32 f32 = 16;\n"
    "  sfixed64 sf64 = 17;\n"
    "  float ratio = 18;\n"
    "}\n";

/* What `sluice ddl ... --message shop.Order --clickhouse-version 18.16`
 * makes of ORDER_PROTO, as system.columns lists it (ClickHouse lists an
 * enum's values by value). */
static const char *const PROTO_COLUMNS[] = {
    "id Int64",
    "user String",
    "status Enum8('SHIPPED' = -3, 'STATUS_UNKNOWN' = 0, 'NEW' = 1, 'PAID' = 2)",
    "at DateTime",
    "where.lat Float64",
    "where.lon Float32",
    "lines.sku Array(String)",
    "lines.qty Array(UInt32)",
    "lines.tags Array(Array(String))",
    "lines.from.lat Array(Float64)",
    "lines.from.lon Array(Float32)",
    "lines.discount Array(Nullable(Float64))",
    "counts.keys Array(String)",
    "counts.values Array(Int64)",
    "deltas Array(Int32)",
    "coupon Nullable(String)",
    "score Nullable(Int64)",
    "contact Nullable(Enum8('email' = 1, 'pin' = 2))",
    "email Nullable(String)",
    "pin.lat Nullable(Float64)",
    "pin.lon Nullable(Float32)",
    "gift UInt8",
    "big UInt64",
    "blob String",
    "f32 UInt32",
    "sf64 Int64",
    "ratio Float32",
};

static const char *const PROTO_SELECT =
    "id, user, status, toUnixTimestamp(at), `where.lat`, `where.lon`, `lines.sku`, `lines.qty`, "
    "`lines.tags`, `lines.from.lat`, `lines.from.lon`, `lines.discount`, `counts.keys`, "
    "`counts.values`, deltas, coupon, score, contact, email, `pin.lat`, `pin.lon`, gift, big, "
    "hex(blob), f32, sf64, ratio";

/* Order i as proto3 JSON (what json_proto encodes) and as the SELECT's row. */
static void order_row(int i, char *json, size_t jn, char *tsv, size_t tn)
{
    static const char *status[] = {"STATUS_UNKNOWN", "NEW", "PAID", "SHIPPED"};
    static const char *b64[] = {"AP8=", "Af8=", "Av8="}; /* [i % 3, 0xFF] */
    char at[48], where_j[64] = "", where_t[32], lines_j[512] = "", sku[128] = "", qty[64] = "",
                 tags[128] = "", flat[64] = "", flon[64] = "", disc[64] = "";
    long long secs = 1700000000LL + i * 3601LL;
    rfc3339(secs, 6, (long)i, at, sizeof at);
    if (i % 3) {
        snprintf(where_j, sizeof where_j, "\"where\":{\"lat\":%d.5,\"lon\":-0.25},", i);
        snprintf(where_t, sizeof where_t, "%d.5\t-0.25", i);
    } else {
        snprintf(where_t, sizeof where_t, "0\t0");
    }
    for (int k = 0; k < i % 3; k++) {
        APPEND(lines_j, "%s{\"sku\":\"S%d-%d\",\"qty\":%d,\"tags\":[", k ? "," : "", i, k, k + 1);
        APPEND(tags, "%s[", k ? "," : "");
        for (int t = 0; t < k; t++) {
            APPEND(lines_j, "%s\"t%d\"", t ? "," : "", t);
            APPEND(tags, "%s't%d'", t ? "," : "", t);
        }
        APPEND(lines_j, "],\"notes\":{\"n\":\"skipped\"}");
        APPEND(tags, "]");
        if (k % 2) {
            APPEND(lines_j, ",\"from\":{\"lat\":%d,\"lon\":1.5},\"discount\":0.5", k);
            APPEND(flat, "%s%d", k ? "," : "", k);
            APPEND(flon, "%s1.5", k ? "," : "");
            APPEND(disc, "%s0.5", k ? "," : "");
        } else {
            APPEND(flat, "%s0", k ? "," : "");
            APPEND(flon, "%s0", k ? "," : "");
            APPEND(disc, "%sNULL", k ? "," : "");
        }
        APPEND(lines_j, "}");
        APPEND(sku, "%s'S%d-%d'", k ? "," : "", i, k);
        APPEND(qty, "%s%d", k ? "," : "", k + 1);
    }
    char counts_j[64] = "", counts_t[64] = "[]\t[]", deltas_j[48] = "", deltas_t[32] = "[]";
    if (i % 4) {
        snprintf(counts_j, sizeof counts_j, "\"counts\":{\"a\":\"1\",\"b\":%d},", -i);
        snprintf(counts_t, sizeof counts_t, "['a','b']\t[1,%d]", -i);
    }
    if (i % 2) {
        snprintf(deltas_j, sizeof deltas_j, "\"deltas\":[%d,%d],", -i, i);
        snprintf(deltas_t, sizeof deltas_t, "[%d,%d]", -i, i);
    }
    char coupon_j[32] = "", coupon_t[16] = "\\N", score_j[32] = "", score_t[16] = "\\N";
    if (i % 5 == 0) {
        snprintf(coupon_j, sizeof coupon_j, "\"coupon\":\"%s\",", i % 10 ? "C" : "");
        snprintf(coupon_t, sizeof coupon_t, "%s", i % 10 ? "C" : "");
    }
    if (i % 2) {
        snprintf(score_j, sizeof score_j, "\"score\":%d,", i * 7);
        snprintf(score_t, sizeof score_t, "%d", i * 7);
    } else if (i % 4 == 0) {
        snprintf(score_j, sizeof score_j, "\"score\":0,");
        snprintf(score_t, sizeof score_t, "0");
    }
    char contact_j[64] = "", contact_t[64] = "\\N\t\\N\t\\N\t\\N";
    if (i % 3 == 0) {
        snprintf(contact_j, sizeof contact_j, "\"email\":\"e%d@x\",", i);
        snprintf(contact_t, sizeof contact_t, "email\te%d@x\t\\N\t\\N", i);
    } else if (i % 3 == 1) {
        snprintf(contact_j, sizeof contact_j, "\"pin\":{\"lat\":%d,\"lon\":2.5},", i);
        snprintf(contact_t, sizeof contact_t, "pin\t\\N\t%d\t2.5", i);
    }
    snprintf(json, jn,
             "{\"id\":\"%d\",\"user\":\"u%d\",\"status\":\"%s\",\"at\":\"%s\",%s\"lines\":[%s],"
             "%s%s%s%s%s\"gift\":%s,\"big\":\"%llu\",\"blob\":\"%s\",\"f32\":%d,"
             "\"sf64\":\"%lld\",\"ratio\":%d.5}",
             i * 1000 - 5, i, status[i % 4], at, where_j, lines_j, counts_j, deltas_j, coupon_j,
             score_j, contact_j, i % 2 ? "false" : "true", 18446744073709551615ULL - (unsigned)i,
             b64[i % 3], i * 3, -100000000000LL * i, i);
    snprintf(tsv, tn,
             "%d\tu%d\t%s\t%lld\t%s\t[%s]\t[%s]\t[%s]\t[%s]\t[%s]\t[%s]\t%s\t%s\t%s\t%s\t%s\t%d\t"
             "%llu\t%02XFF\t%d\t%lld\t%d.5",
             i * 1000 - 5, i, status[i % 4], secs, where_t, sku, qty, tags, flat, flon, disc,
             counts_t, deltas_t, coupon_t, score_t, contact_t, i % 2 ? 0 : 1,
             18446744073709551615ULL - (unsigned)i, i % 3, i * 3, -100000000000LL * i, i);
}

/* The environment the first test starts and the second uses (a failed
 * start must fail the second, not crash it). */
static int env_up;

static void test_ddl_protobuf_round_trip(void)
{
    CHECK_EQ(sink_env_start(&env, "sluice-ddl-types", 1, 1), 0);
    env_up = 1;
    sluice_error err;
    int32_t geo_id = 0, id = 0;
    CHECK_EQ(
        sluice_sr_register_refs(env.sr, "ddl-geo", GEO_PROTO, "PROTOBUF", NULL, 0, &geo_id, &err),
        0);
    sluice_sr_reference ref = {"shop/geo.proto", "ddl-geo", 1};
    CHECK_EQ(
        sluice_sr_register_refs(env.sr, "ddlp-value", ORDER_PROTO, "PROTOBUF", &ref, 1, &id, &err),
        0);

    /* The statements, from the binary, into ClickHouse: the map inside the
     * repeated message is named as not mapped. */
    create_from_ddl("ddlp-value", "ddlp", '.', "--message shop.Order",
                    "--   $.lines[].notes: a map inside a repeated message\n");
    create_from_ddl("ddlp-value", "ddlp_flat", '_', "--message shop.Order", "`lines_sku` Array");
    check_columns("ddlp", PROTO_COLUMNS, sizeof PROTO_COLUMNS / sizeof PROTO_COLUMNS[0], '.');
    check_columns("ddlp_flat", PROTO_COLUMNS, sizeof PROTO_COLUMNS / sizeof PROTO_COLUMNS[0], '_');
    /* Without --message: the file's first message, Ping. */
    char args[1024], errtext[1024], *out = NULL;
    snprintf(args, sizeof args, "--registry %s --subject ddlp-value", env.reg_url);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 0);
    CHECK_CONTAINS(out, "message shop.Ping, columns as");
    CHECK_CONTAINS(out, "CREATE TABLE `ddlp`\n(\n    `id` Int64\n)");
    free(out);
    snprintf(args, sizeof args, "--registry %s --subject ddlp-value --message shop.Nope",
             env.reg_url);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 1);
    CHECK_CONTAINS(errtext, "no message shop.Nope in ");
    free(out);
    /* From files: a .proto is Protobuf by its name, JSON needs --schema-type. */
    char path[700];
    snprintf(path, sizeof path, "%s/geo.proto", env.dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(GEO_PROTO, f);
    fclose(f);
    snprintf(args, sizeof args, "--schema %s --table g --clickhouse-version 18.16", path);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 0);
    CHECK_CONTAINS(out, "message geo.Point, columns as");
    CHECK_CONTAINS(out, "`lat` Float64,\n    `lon` Float32\n");
    free(out);
    snprintf(path, sizeof path, "%s/p.json", env.dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":[\"integer\",\"null\"]}}}", f);
    fclose(f);
    snprintf(args, sizeof args, "--schema %s --schema-type JSON --table j", path);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 0);
    CHECK_CONTAINS(out, "`n` Nullable(Int64)\n");
    free(out);
    snprintf(args, sizeof args, "--schema %s --schema-type XML --table j", path);
    CHECK_EQ(run_ddl(args, &out, errtext, sizeof errtext), 2);
    CHECK_CONTAINS(errtext, "--schema-type must be AVRO, PROTOBUF or JSON");
    free(out);

    /* Frames of shop.Order (index [1], zig-zag: 02 02) into two topics. */
    proto_source dep = {"shop/geo.proto", GEO_PROTO, strlen(GEO_PROTO), NULL, 0};
    proto_schema *ps = NULL;
    CHECK_EQ(proto_schema_parse(ORDER_PROTO, strlen(ORDER_PROTO), NULL, &dep, 1, &ps, &err), 0);
    json_proto *jp = NULL;
    CHECK_EQ(json_proto_compile(proto_schema_find_message(ps, "shop.Order"), &jp, &err), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "ddlp", 2), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "ddlp_flat", 2), 0);
    static char tsv[N][2048];
    buf msg;
    buf_init(&msg, 1 << 16);
    for (int i = 0; i < N; i++) {
        char json[4096];
        order_row(i, json, sizeof json, tsv[i], sizeof tsv[i]);
        buf_reset(&msg);
        uint8_t hdr[SLUICE_WIRE_HEADER_SIZE + 8];
        sluice_wire_write_header(hdr, id);
        int32_t index = 1;
        size_t hn = SLUICE_WIRE_HEADER_SIZE +
                    sluice_wire_write_message_indexes(hdr + SLUICE_WIRE_HEADER_SIZE, &index, 1,
                                                      SLUICE_WIRE_INDEX_ZIGZAG);
        buf_append(&msg, hdr, hn);
        json_lex lx;
        json_lex_init(&lx, json, strlen(json));
        avro_json_errors errs = {0};
        int rc = json_proto_encode(jp, &lx, &msg, &errs);
        if (rc)
            fprintf(stderr, "order %d: %s: %s\n%s\n", i, errs.items[0].path, errs.items[0].message,
                    json);
        json_lex_free(&lx);
        CHECK_EQ(rc, 0);
        CHECK_EQ(test_produce(env.prod, "ddlp", -1, NULL, 0, msg.data, msg.len), 0);
        CHECK_EQ(test_produce(env.prod, "ddlp_flat", -1, NULL, 0, msg.data, msg.len), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    buf_free(&msg);
    json_proto_free(jp);
    proto_schema_free(ps);

    char config[700];
    CHECK_EQ(sink_env_config(&env, "ddlp",
                             "sink:\n  group_id: ddlp-test\n  routes:\n"
                             "    - {topic: ddlp, table: default.ddlp, batch: {max_age: 200ms}}\n"
                             "    - {topic: ddlp_flat, table: default.ddlp_flat, flatten: _,\n"
                             "       batch: {max_age: 200ms}}\n",
                             config, sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "ddlp-sink", 1, 30000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM ddlp", N, 120000), N);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM ddlp_flat", N, 120000), N);
    double dlq = -1;
    CHECK_EQ(sink_env_metric(&sink, "sluice_sink_dlq_messages_total", NULL, &dlq), 0);
    CHECK_EQ(dlq, 0);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
    char select[4096];
    select_of(PROTO_SELECT, "ddlp", '.', select, sizeof select);
    check_rows(select, tsv);
    select_of(PROTO_SELECT, "ddlp_flat", '_', select, sizeof select);
    check_rows(select, tsv);
    CHECK_EQ(test_kafka_nothing_dropped(&env.kafka, "ddlp"), 1);
}

/* ---- JSON Schema --------------------------------------------------------------------------- */

static const char *const ADDRESS_JSON =
    "{\"$id\": \"https://example.com/address.json\", \"type\": \"object\", \"required\": "
    "[\"zip\"], \"properties\": {\"zip\": {\"type\": \"string\", \"minLength\": 5}, "
    "\"city\": {\"type\": [\"string\", \"null\"]}}}";

static const char *const VISIT_JSON =
    "{\"$schema\": \"http://json-schema.org/draft-07/schema#\", \"title\": \"Visit\", "
    "\"type\": \"object\", \"required\": [\"id\", \"at\"], \"properties\": {"
    "\"id\": {\"type\": \"integer\"},"
    "\"user\": {\"type\": [\"string\", \"null\"]},"
    "\"score\": {\"type\": [\"number\", \"null\"]},"
    "\"ok\": {\"type\": \"boolean\"},"
    "\"at\": {\"type\": \"string\", \"format\": \"date-time\"},"
    "\"day\": {\"type\": \"string\", \"format\": \"date\"},"
    "\"uid\": {\"type\": \"string\", \"format\": \"uuid\"},"
    "\"kind\": {\"enum\": [\"view\", \"click\", null]},"
    "\"level\": {\"type\": \"integer\", \"enum\": [1, 2, 3]},"
    "\"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
    "\"grid\": {\"type\": [\"array\", \"null\"], \"items\": {\"type\": \"array\", \"items\": "
    "{\"type\": [\"integer\", \"null\"]}}},"
    "\"geo\": {\"type\": [\"object\", \"null\"], \"properties\": {\"lat\": {\"type\": "
    "\"number\"}, \"lon\": {\"type\": \"number\"}}},"
    "\"home\": {\"$ref\": \"https://example.com/address.json\"},"
    "\"any\": {\"type\": [\"string\", \"integer\", \"boolean\"]},"
    "\"items\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": "
    "{\"sku\": {\"type\": \"string\"}, \"qty\": {\"type\": [\"integer\", \"null\"]}}}},"
    "\"extra\": {}}}";

static const char *const JSON_COLUMNS[] = {
    "id Int64",
    "user Nullable(String)",
    "score Nullable(Float64)",
    "ok UInt8",
    "at DateTime",
    "day Date",
    "uid UUID",
    "kind Nullable(Enum8('view' = 1, 'click' = 2))",
    "level Int64",
    "tags Array(String)",
    "grid Array(Array(Nullable(Int64)))",
    "geo.lat Nullable(Float64)",
    "geo.lon Nullable(Float64)",
    "home.zip String",
    "home.city Nullable(String)",
    "any String",
    "items.sku Array(String)",
    "items.qty Array(Nullable(Int64))",
};

static const char *const JSON_SELECT = "id, user, score, ok, toUnixTimestamp(at), day, uid, kind, "
                                       "level, tags, grid, `geo.lat`, `geo.lon`, `home.zip`, "
                                       "`home.city`, any, `items.sku`, `items.qty`";

/* Visit i as JSON text and as the SELECT's row: properties present, null
 * or absent by turns. */
static void visit_row(int i, char *json_out, size_t jn, char *tsv_out, size_t tn)
{
    char at[48], day[16], json[2048], tsv[2048];
    long long secs = 1700000000LL + i * 61LL;
    rfc3339(secs, i % 2 ? 3 : 0, (long)i, at, sizeof at);
    civil(19000 + i, day, sizeof day);
    snprintf(json, sizeof json, "{\"id\":%d,\"at\":\"%s\"", i, at);
    snprintf(tsv, sizeof tsv, "%d", i);
    /* user: a string, null or absent */
    if (i % 3 == 0) APPEND(json, ",\"user\":\"u%d\"", i), APPEND(tsv, "\tu%d", i);
    if (i % 3 == 1) APPEND(json, ",\"user\":null"), APPEND(tsv, "\t\\N");
    if (i % 3 == 2) APPEND(tsv, "\t\\N");
    if (i % 4 == 0) APPEND(json, ",\"score\":%d.25", i), APPEND(tsv, "\t%d.25", i);
    if (i % 4 == 1) APPEND(json, ",\"score\":%d", i), APPEND(tsv, "\t%d", i);
    if (i % 4 >= 2) APPEND(json, ",\"score\":null"), APPEND(tsv, "\t\\N");
    if (i % 5) APPEND(json, ",\"ok\":%s", i % 2 ? "true" : "false");
    APPEND(tsv, "\t%d\t%lld", i % 5 && i % 2, secs);
    if (i % 6) APPEND(json, ",\"day\":\"%s\"", day);
    APPEND(tsv, "\t%s", i % 6 ? day : "0000-00-00");
    if (i % 7) APPEND(json, ",\"uid\":\"00000000-0000-4000-8000-%012d\"", i);
    if (i % 7)
        APPEND(tsv, "\t00000000-0000-4000-8000-%012d", i);
    else
        APPEND(tsv, "\t00000000-0000-0000-0000-000000000000");
    if (i % 3 == 0) APPEND(json, ",\"kind\":\"%s\"", i % 2 ? "click" : "view");
    if (i % 3 == 1) APPEND(json, ",\"kind\":null");
    APPEND(tsv, "\t%s", i % 3 ? "\\N" : i % 2 ? "click" : "view");
    if (i % 4) APPEND(json, ",\"level\":%d", i % 4);
    APPEND(tsv, "\t%d", i % 4);
    if (i % 2) APPEND(json, ",\"tags\":[\"a\",\"b%d\"]", i);
    APPEND(tsv, i % 2 ? "\t['a','b%d']" : "\t[]", i);
    if (i % 3 == 0) APPEND(json, ",\"grid\":[[%d,null],[]]", i), APPEND(tsv, "\t[[%d,NULL],[]]", i);
    if (i % 3 == 1) APPEND(json, ",\"grid\":null"), APPEND(tsv, "\t[]");
    if (i % 3 == 2) APPEND(tsv, "\t[]");
    if (i % 4 == 0) APPEND(json, ",\"geo\":{\"lat\":%d.5,\"lon\":-1}", i);
    if (i % 4 == 1) APPEND(json, ",\"geo\":{\"lat\":0.5}");
    if (i % 4 == 2) APPEND(json, ",\"geo\":null");
    if (i % 4 == 0) APPEND(tsv, "\t%d.5\t-1", i);
    if (i % 4 == 1) APPEND(tsv, "\t0.5\t\\N");
    if (i % 4 >= 2) APPEND(tsv, "\t\\N\t\\N");
    if (i % 5 == 0) APPEND(json, ",\"home\":{\"zip\":\"%05d\",\"city\":\"c%d\"}", 10000 + i, i);
    if (i % 5 == 1) APPEND(json, ",\"home\":{\"zip\":\"%05d\"}", 10000 + i);
    if (i % 5 == 0) APPEND(tsv, "\t%05d\tc%d", 10000 + i, i);
    if (i % 5 == 1) APPEND(tsv, "\t%05d\t\\N", 10000 + i);
    if (i % 5 >= 2) APPEND(tsv, "\t\t\\N");
    if (i % 4 == 0) APPEND(json, ",\"any\":\"s%d\"", i), APPEND(tsv, "\ts%d", i);
    if (i % 4 == 1) APPEND(json, ",\"any\":%d", i), APPEND(tsv, "\t%d", i);
    if (i % 4 == 2) APPEND(json, ",\"any\":true"), APPEND(tsv, "\ttrue");
    if (i % 4 == 3) APPEND(tsv, "\t");
    /* a Nested group from the array of objects: an item without qty, and
     * qty null, give NULL; no array gives empty arrays */
    if (i % 3 == 0) APPEND(json, ",\"items\":[{\"sku\":\"k%d\",\"qty\":%d},{\"sku\":\"z\"}]", i, i);
    if (i % 3 == 1) APPEND(json, ",\"items\":[{\"qty\":null,\"sku\":\"y\"}]");
    if (i % 3 == 0) APPEND(tsv, "\t['k%d','z']\t[%d,NULL]", i, i);
    if (i % 3 == 1) APPEND(tsv, "\t['y']\t[NULL]");
    if (i % 3 == 2) APPEND(tsv, "\t[]\t[]");
    /* left out of the table: the sink skips it */
    APPEND(json, ",\"extra\":{\"x\":[1,{}]}}");
    snprintf(json_out, jn, "%s", json);
    snprintf(tsv_out, tn, "%s", tsv);
}

static void test_ddl_json_round_trip(void)
{
    CHECK(env_up);
    sluice_error err;
    int32_t addr_id = 0, id = 0;
    CHECK_EQ(sluice_sr_register_refs(env.sr, "ddl-address", ADDRESS_JSON, "JSON", NULL, 0, &addr_id,
                                     &err),
             0);
    sluice_sr_reference ref = {"https://example.com/address.json", "ddl-address", 1};
    CHECK_EQ(sluice_sr_register_refs(env.sr, "ddlj-value", VISIT_JSON, "JSON", &ref, 1, &id, &err),
             0);
    create_from_ddl("ddlj-value", "ddlj", '.', "",
                    "-- 1 field no column takes (the sink skips it):\n"
                    "--   $.extra: any value (no type)\n");
    create_from_ddl("ddlj-value", "ddlj_flat", '_', "", "`geo_lat` Nullable(Float64)");
    check_columns("ddlj", JSON_COLUMNS, sizeof JSON_COLUMNS / sizeof JSON_COLUMNS[0], '.');
    check_columns("ddlj_flat", JSON_COLUMNS, sizeof JSON_COLUMNS / sizeof JSON_COLUMNS[0], '_');

    CHECK_EQ(test_kafka_create_topic(&env.kafka, "ddlj", 2), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "ddlj_flat", 2), 0);
    static char tsv[N][2048];
    for (int i = 0; i < N; i++) {
        char json[2048];
        visit_row(i, json, sizeof json, tsv[i], sizeof tsv[i]);
        uint8_t frame[2100];
        sluice_wire_write_header(frame, id);
        size_t n = strlen(json);
        memcpy(frame + SLUICE_WIRE_HEADER_SIZE, json, n);
        CHECK_EQ(test_produce(env.prod, "ddlj", -1, NULL, 0, frame, SLUICE_WIRE_HEADER_SIZE + n),
                 0);
        CHECK_EQ(
            test_produce(env.prod, "ddlj_flat", -1, NULL, 0, frame, SLUICE_WIRE_HEADER_SIZE + n),
            0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    char config[700];
    CHECK_EQ(sink_env_config(&env, "ddlj",
                             "sink:\n  group_id: ddlj-test\n  routes:\n"
                             "    - {topic: ddlj, table: default.ddlj, batch: {max_age: 200ms}}\n"
                             "    - {topic: ddlj_flat, table: default.ddlj_flat, flatten: _,\n"
                             "       batch: {max_age: 200ms}}\n",
                             config, sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "ddlj-sink", 1, 30000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM ddlj", N, 120000), N);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM ddlj_flat", N, 120000), N);
    double dlq = -1;
    CHECK_EQ(sink_env_metric(&sink, "sluice_sink_dlq_messages_total", NULL, &dlq), 0);
    CHECK_EQ(dlq, 0);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 30000), 0);
    char select[4096];
    select_of(JSON_SELECT, "ddlj", '.', select, sizeof select);
    check_rows(select, tsv);
    select_of(JSON_SELECT, "ddlj_flat", '_', select, sizeof select);
    check_rows(select, tsv);
    CHECK_EQ(test_kafka_nothing_dropped(&env.kafka, "ddlj"), 1);
    sink_env_stop(&env);
}

TEST_MAIN(T(test_ddl_protobuf_round_trip), T(test_ddl_json_round_trip))
