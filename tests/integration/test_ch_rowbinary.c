/*
 * test_ch_rowbinary.c — RowBinary encodings checked against a real
 * ClickHouse 18.16 server (Debian's clickhouse-server, started privately by
 * scripts/clickhouse.sh and stopped at exit, whatever happens).
 *
 * For every column type 18.16 has, rows are built with ch_encode_value or
 * ch_encode_json, POSTed as `INSERT INTO t FORMAT RowBinary`, and read back
 * twice: `FORMAT JSONEachRow`, compared value by value with the text the
 * encoded value must have (exact strings), and `FORMAT RowBinary`, compared
 * byte for byte with what was sent (the server writes back exactly the
 * bytes it understood). Defaults are checked against what the server fills
 * itself for a column left out of an INSERT, and every column type the
 * server reports in system.columns must parse back to its own spelling.
 *
 * What 18.16 shows differently from later servers, and so what the expected
 * texts below encode: 64-bit integers are quoted in JSON; NaN and
 * infinities print as null; the zero Date and DateTime print as 0000-00-00
 * (00:00:00); dates after 2106-02-07 (Date 49710 up to its maximum 65535,
 * 2149-06-06) and DateTime 4294967295 fall outside 18.16's date table and
 * print wrapped, so those are compared through toUInt16/toUInt32 (and
 * their bytes). DateTime64, Map and Bool do not exist in 18.16: their
 * layouts are unit-tested against ClickHouse's documentation only.
 */
#include "test.h"

#include "codec/ch_type.h"
#include "support.h"

#include <curl/curl.h>
#include <math.h>

static char *tmp;
static char server_dir[600];
static int server_up;
static char base_url[64];

static int run_script(const char *cmd, char *out_line, size_t n)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char script[600], log[700];
    snprintf(script, sizeof script, "%s/scripts/clickhouse.sh", src && *src ? src : ".");
    snprintf(log, sizeof log, "%s/clickhouse-%s.log", tmp, cmd);
    char *argv[] = {"/bin/bash", script, (char *)cmd, server_dir, NULL};
    test_proc p;
    if (test_proc_start(&p, argv, log) != 0) return -1;
    int status = test_proc_wait(&p, 90000);
    if (out_line) {
        FILE *f = fopen(log, "r");
        out_line[0] = '\0';
        if (f) {
            char line[512];
            while (fgets(line, sizeof line, f))
                if (strstr(line, "http_port=")) snprintf(out_line, n, "%s", line);
            fclose(f);
        }
    }
    if (status != 0) {
        fprintf(stderr, "clickhouse.sh %s exited with %d; see %s\n", cmd, status, log);
        return -1;
    }
    return 0;
}

static void stop_server(void)
{
    if (server_up) {
        run_script("stop", NULL, 0);
        server_up = 0;
    }
    test_rmtree(tmp);
}

static int setup(void)
{
    if (server_up) return 0;
    tmp = test_tmpdir("sluice-ch-rowbinary");
    if (!tmp) return -1;
    snprintf(server_dir, sizeof server_dir, "%s/clickhouse", tmp);
    atexit(stop_server);
    char line[512];
    server_up = 1; /* even a failed start may have left a server to stop */
    if (run_script("start", line, sizeof line) != 0) return -1;
    int port = 0;
    const char *p = strstr(line, "http_port=");
    if (!p || sscanf(p, "http_port=%d", &port) != 1 || port <= 0) return -1;
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d/", port);
    return 0;
}

/* ---- HTTP --------------------------------------------------------------- */

/* A query as the POST body; settings (may be NULL) go into the URL. The
 * answer body is returned (caller frees) when the status is 200. */
static char *query(const char *sql, const char *settings, size_t *len)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s%s", base_url, settings ? "?" : "", settings ? settings : "");
    test_http_resp r;
    if (test_http("POST", url, sql, "text/plain", &r) != 0) {
        fprintf(stderr, "query transport error: %s\n", sql);
        return NULL;
    }
    if (r.status != 200) {
        fprintf(stderr, "query failed (%ld): %s\n  %s\n", r.status, sql, r.body);
        free(r.body);
        return NULL;
    }
    if (len) *len = r.len;
    return r.body;
}

static int exec_sql(const char *sql, const char *settings)
{
    char *b = query(sql, settings, NULL);
    free(b);
    return b ? 0 : -1;
}

/* POST raw bytes (which may hold NULs) as the body of `sql`, the query
 * itself going into the URL. test_http takes a C string body, so this one
 * call uses libcurl directly. */
static int insert_bytes(const char *sql, const uint8_t *body, size_t len)
{
    CURL *c = curl_easy_init();
    if (!c) return -1;
    char *q = curl_easy_escape(c, sql, 0);
    char url[1024];
    snprintf(url, sizeof url, "%s?query=%s", base_url, q);
    curl_free(q);
    test_grow g = {NULL, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    long status = 0;
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (cc != CURLE_OK || status != 200) {
        fprintf(stderr, "INSERT failed (%s, HTTP %ld): %.*s\n", curl_easy_strerror(cc), status,
                (int)g.len, g.p ? g.p : "");
        free(g.p);
        return -1;
    }
    free(g.p);
    return 0;
}

/* ---- one table per type mapping ------------------------------------------ */

#define MAX_ROWS 40
#define LC_SETTING "allow_experimental_low_cardinality_type=1"

static struct {
    char type[256];
    const char *select_expr;
    const ch_type *t;
    arena a;
    buf body;  /* id + value per row: what is INSERTed */
    buf bytes; /* the values alone: what SELECT ... FORMAT RowBinary must give back */
    int n;
    char *expect[MAX_ROWS];
    int failed;
} cur;
static int table_no;

static void case_begin(const char *type, const char *select_expr)
{
    arena_free(&cur.a);
    buf_free(&cur.body);
    buf_free(&cur.bytes);
    for (int i = 0; i < cur.n; i++)
        free(cur.expect[i]);
    memset(&cur, 0, sizeof cur);
    snprintf(cur.type, sizeof cur.type, "%s", type);
    cur.select_expr = select_expr ? select_expr : "v";
    arena_init(&cur.a, ARENA_DEFAULT_CHUNK, 1 << 20);
    buf_init(&cur.body, 1 << 20);
    buf_init(&cur.bytes, 1 << 20);
    sluice_error err;
    if (ch_type_parse(type, &cur.a, &cur.t, &err) != 0) {
        fprintf(stderr, "parse %s: %s\n", type, err.msg);
        cur.failed = 1;
    }
}

static void add_row_id(void)
{
    uint32_t id = (uint32_t)cur.n;
    uint8_t b[4] = {(uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24)};
    buf_append(&cur.body, b, 4);
}

static void row_done(size_t before, const char *expect)
{
    buf_append(&cur.bytes, cur.body.data + before, cur.body.len - before);
    cur.expect[cur.n++] = strdup(expect);
}

/* One row from a cvalue; expect is the JSONEachRow text of the value. */
static void add(cvalue v, const char *expect)
{
    if (cur.failed || cur.n == MAX_ROWS) {
        cur.failed = 1;
        return;
    }
    add_row_id();
    size_t before = cur.body.len;
    sluice_error err;
    if (ch_encode_value(cur.t, &v, &cur.body, &err) != 0) {
        fprintf(stderr, "%s: encoding row %d (%s): %s\n", cur.type, cur.n, expect, err.msg);
        cur.failed = 1;
        return;
    }
    row_done(before, expect);
}

/* One row from a JSON text through ch_encode_json. */
static void add_json(const char *json, const char *expect)
{
    if (cur.failed || cur.n == MAX_ROWS) {
        cur.failed = 1;
        return;
    }
    json_error_t je;
    json_t *j = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) {
        fprintf(stderr, "bad test JSON %s: %s\n", json, je.text);
        cur.failed = 1;
        return;
    }
    add_row_id();
    size_t before = cur.body.len;
    sluice_error err;
    int rc = ch_encode_json(cur.t, j, &cur.body, &err);
    json_decref(j);
    if (rc != 0) {
        fprintf(stderr, "%s: encoding JSON row %d %s: %s\n", cur.type, cur.n, json, err.msg);
        cur.failed = 1;
        return;
    }
    row_done(before, expect);
}

static const char *printable(const char *s, size_t n)
{
    static char out[2048];
    size_t w = 0;
    for (size_t i = 0; i < n && w + 5 < sizeof out; i++) {
        unsigned char c = (unsigned char)s[i];
        w += (size_t)snprintf(out + w, sizeof out - w, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
    }
    out[w] = '\0';
    return out;
}

/* The type's canonical text must be the server's own spelling of it. */
static int check_server_spelling(const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = '%s' "
             "AND name = 'v' FORMAT TSVRaw",
             table);
    size_t len;
    char *type = query(sql, NULL, &len);
    if (!type) return -1;
    while (len && (type[len - 1] == '\n'))
        type[--len] = '\0';
    const ch_type *t;
    sluice_error err;
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
    int rc = 0;
    if (ch_type_parse(type, &a, &t, &err) != 0) {
        fprintf(stderr, "server type '%s' does not parse: %s\n", type, err.msg);
        rc = -1;
    } else if (strcmp(t->text, type) != 0) {
        fprintf(stderr, "server spells '%s', sluice '%s'\n", type, t->text);
        rc = -1;
    }
    arena_free(&a);
    free(type);
    return rc;
}

/* Create the table, insert, read back as JSONEachRow and RowBinary. */
static int case_run(void)
{
    if (cur.failed) return -1;
    char table[32], sql[1024];
    snprintf(table, sizeof table, "t%d", ++table_no);
    const char *settings = strstr(cur.type, "LowCardinality") ? LC_SETTING : NULL;
    snprintf(sql, sizeof sql, "CREATE TABLE %s (id UInt32, v %s) ENGINE = Memory", table, cur.type);
    if (exec_sql(sql, settings) != 0) return -1;
    if (check_server_spelling(table) != 0) return -1;
    snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT RowBinary", table);
    if (insert_bytes(sql, cur.body.data, cur.body.len) != 0) return -1;

    /* JSONEachRow, one {"v":X} line per row, in id order. */
    snprintf(sql, sizeof sql, "SELECT %s AS v FROM %s ORDER BY id FORMAT JSONEachRow",
             cur.select_expr, table);
    size_t len;
    char *json = query(sql, NULL, &len);
    if (!json) return -1;
    int bad = 0, row = 0;
    char *line = json, *end = json + len;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t ll = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (ll < 6 || memcmp(line, "{\"v\":", 5) != 0 || line[ll - 1] != '}') {
            fprintf(stderr, "%s: unexpected line %s\n", cur.type, printable(line, ll));
            bad = 1;
        } else if (row >= cur.n) {
            fprintf(stderr, "%s: more rows than inserted\n", cur.type);
            bad = 1;
        } else {
            const char *val = line + 5;
            size_t vl = ll - 6;
            if (strlen(cur.expect[row]) != vl || memcmp(cur.expect[row], val, vl) != 0) {
                fprintf(stderr, "%s row %d:\n  got:      %s\n", cur.type, row, printable(val, vl));
                fprintf(stderr, "  expected: %s\n",
                        printable(cur.expect[row], strlen(cur.expect[row])));
                bad = 1;
            }
        }
        row++;
        line += ll + 1;
    }
    free(json);
    if (row != cur.n) {
        fprintf(stderr, "%s: %d rows back, %d inserted\n", cur.type, row, cur.n);
        bad = 1;
    }

    /* RowBinary: byte for byte what was sent (the plain column only). */
    snprintf(sql, sizeof sql, "SELECT v FROM %s ORDER BY id FORMAT RowBinary", table);
    char *bin = query(sql, NULL, &len);
    if (!bin) return -1;
    if (len != cur.bytes.len || memcmp(bin, cur.bytes.data, len) != 0) {
        fprintf(stderr, "%s: RowBinary back differs (%zu bytes, sent %zu)\n", cur.type, len,
                cur.bytes.len);
        bad = 1;
    }
    free(bin);
    return bad ? -1 : 0;
}

static cvalue S(const char *s)
{
    return cv_string(s, strlen(s));
}

static cvalue I(int64_t i)
{
    return cv_int(i, CV_UNIT_NONE);
}

static cvalue D(double d)
{
    return cv_double(d);
}

static cvalue F32(float f)
{
    cvalue v = cv_double(f);
    v.is_float32 = 1;
    return v;
}

static cvalue BYTES(const char *s, size_t n)
{
    cvalue v = {.kind = CV_BYTES, .s = s, .len = n};
    return v;
}

static cvalue ENUM(const char *s)
{
    cvalue v = {.kind = CV_ENUM, .s = s, .len = strlen(s)};
    return v;
}

#define DEC(scale_, ...)                                                                           \
    ((cvalue){.kind = CV_DECIMAL,                                                                  \
              .scale = (scale_),                                                                   \
              .s = (const char *)(const uint8_t[]){__VA_ARGS__},                                   \
              .len = sizeof((const uint8_t[]){__VA_ARGS__})})

/* ---- the tests ------------------------------------------------------------ */

static void test_server_version(void)
{
    CHECK(setup() == 0);
    char *v = query("SELECT version()", NULL, NULL);
    CHECK(v != NULL);
    ch_features f;
    sluice_error err;
    int rc = ch_server_features(v, &f, &err);
    CHECK(strncmp(v, "18.16.", 6) == 0);
    free(v);
    CHECK_EQ(rc, 0);
    CHECK_EQ(f.datetime64, 0);
    CHECK_EQ(f.map, 0);
    CHECK_EQ(f.bool_type, 0);
    CHECK_EQ(f.low_cardinality_without_setting, 0);
    /* And 18.16 itself refuses what the features say it lacks. */
    CHECK(query("CREATE TABLE no_dt64 (v DateTime64(3)) ENGINE = Memory", NULL, NULL) == NULL);
    CHECK(query("CREATE TABLE no_map (v Map(String, UInt8)) ENGINE = Memory", NULL, NULL) == NULL);
    CHECK(query("CREATE TABLE no_bool (v Bool) ENGINE = Memory", NULL, NULL) == NULL);
    CHECK(query("CREATE TABLE no_lc (v LowCardinality(String)) ENGINE = Memory", NULL, NULL) ==
          NULL);
}

static void test_integers(void)
{
    CHECK(setup() == 0);
    case_begin("Int8", NULL);
    add(I(-128), "-128");
    add(I(127), "127");
    add(I(0), "0");
    add(S("-5"), "-5");
    add(cv_bool(1), "1");
    add(D(-7.0), "-7");
    add_json("100", "100");
    CHECK(case_run() == 0);

    case_begin("Int16", NULL);
    add(I(-32768), "-32768");
    add(I(32767), "32767");
    add(S("+12"), "12");
    CHECK(case_run() == 0);

    case_begin("Int32", NULL);
    add(I(INT32_MIN), "-2147483648");
    add(I(INT32_MAX), "2147483647");
    add(DEC(2, 0x04, 0xb0), "12");
    CHECK(case_run() == 0);

    case_begin("Int64", NULL);
    add(I(INT64_MIN), "\"-9223372036854775808\"");
    add(I(INT64_MAX), "\"9223372036854775807\"");
    add(S("-9223372036854775808"), "\"-9223372036854775808\"");
    add(cv_int(1795378321123LL, CV_UNIT_TS_MS), "\"1795378321123\"");
    add_json("-1", "\"-1\"");
    CHECK(case_run() == 0);

    case_begin("UInt8", NULL);
    add(I(0), "0");
    add(I(255), "255");
    add(S("200"), "200");
    CHECK(case_run() == 0);

    case_begin("UInt16", NULL);
    add(I(65535), "65535");
    add(D(258.0), "258");
    CHECK(case_run() == 0);

    case_begin("UInt32", NULL);
    add(I(4294967295LL), "4294967295");
    add(I(0), "0");
    CHECK(case_run() == 0);

    case_begin("UInt64", NULL);
    add(S("18446744073709551615"), "\"18446744073709551615\"");
    add(I(0), "\"0\"");
    add(D(9223372036854775808.0), "\"9223372036854775808\"");
    add(I(INT64_MAX), "\"9223372036854775807\"");
    CHECK(case_run() == 0);
}

static void test_floats(void)
{
    CHECK(setup() == 0);
    case_begin("Float32", NULL);
    add(F32(0.1f), "0.1");
    add(D(0.1), "0.1");
    add(D(-1.5), "-1.5");
    add(S("3.4028235e38"), "3.4028235e38");
    add(I(16777217), "16777216");
    add(D(NAN), "null");
    add(D(INFINITY), "null");
    add(S("-inf"), "null");
    add_json("0.25", "0.25");
    CHECK(case_run() == 0);

    case_begin("Float64", NULL);
    add(D(0.1), "0.1");
    add(D(1e300), "1e300");
    add(D(5e-324), "5e-324");
    add(D(0.30000000000000004), "0.30000000000000004");
    add(D(-0.0), "-0");
    add(D(NAN), "null");
    add(D(-INFINITY), "null");
    add(S("12.34"), "12.34");
    add(DEC(2, 0xfb, 0x2e), "-12.34");
    add(I(9007199254740993LL), "9007199254740992");
    add(cv_bool(1), "1");
    add_json("1e-7", "1e-7");
    CHECK(case_run() == 0);
}

static void test_strings(void)
{
    CHECK(setup() == 0);
    case_begin("String", NULL);
    add(S(""), "\"\"");
    add(cv_string("a\0b", 3), "\"a\\u0000b\"");
    add(S("ü€😀"), "\"ü€😀\"");
    add(S("q\"'\\/\n\t"), "\"q\\\"'\\\\\\/\\n\\t\"");
    add(BYTES("\x01\x02", 2), "\"\\u0001\\u0002\"");
    add(ENUM("PAUSED"), "\"PAUSED\"");
    add(cv_bool(0), "\"false\"");
    add(I(INT64_MIN), "\"-9223372036854775808\"");
    add(D(0.1), "\"0.1\"");
    add(D(1e21), "\"1e+21\"");
    add(F32(0.1f), "\"0.1\"");
    add(D(NAN), "\"nan\"");
    add(DEC(3, 0x05), "\"0.005\"");
    add_json("\"x\\u0000y\"", "\"x\\u0000y\"");
    add_json("42", "\"42\"");
    CHECK(case_run() == 0);

    case_begin("FixedString(4)", NULL);
    add(S("ab"), "\"ab\\u0000\\u0000\"");
    add(S("abcd"), "\"abcd\"");
    add(S(""), "\"\\u0000\\u0000\\u0000\\u0000\"");
    add(BYTES("\x00z\x00z", 4), "\"\\u0000z\\u0000z\"");
    add(S("ü"), "\"ü\\u0000\\u0000\"");
    CHECK(case_run() == 0);
}

static void test_dates(void)
{
    CHECK(setup() == 0);
    case_begin("Date", NULL);
    add(I(1), "\"1970-01-02\"");
    add(I(0), "\"0000-00-00\""); /* 18.16 prints the zero date this way */
    add(S("1970-01-01"), "\"0000-00-00\"");
    add(S("2026-11-22"), "\"2026-11-22\"");
    add(cv_int(20779, CV_UNIT_DATE_DAYS), "\"2026-11-22\"");
    add(cv_int(1795378321123LL, CV_UNIT_TS_MS), "\"2026-11-22\"");
    add(cv_int(1795378321123456LL, CV_UNIT_TS_US), "\"2026-11-22\"");
    add(cv_int(86399, CV_UNIT_TS_S), "\"0000-00-00\"");
    add(S("2026-11-22T23:30:00-02:00"), "\"2026-11-23\"");
    add(S("2024-02-29 12:00:00"), "\"2024-02-29\"");
    add(S("2106-02-07"), "\"2106-02-07\""); /* the last day 18.16 can print */
    add_json("\"2000-01-01\"", "\"2000-01-01\"");
    CHECK(case_run() == 0);

    /* The maximum, 2149-06-06 = day 65535, by number. */
    case_begin("Date", "toUInt16(v)");
    add(S("2149-06-06"), "65535");
    add(I(65535), "65535");
    add(S("2106-02-08"), "49711");
    add(I(0), "0");
    CHECK(case_run() == 0);

    case_begin("DateTime", NULL);
    add(I(1), "\"1970-01-01 00:00:01\"");
    add(I(0), "\"0000-00-00 00:00:00\"");
    add(S("2026-11-22 20:12:01"), "\"2026-11-22 20:12:01\"");
    add(S("2026-11-22T22:12:01+02:00"), "\"2026-11-22 20:12:01\"");
    add(S("2026-11-22T20:12:01.999999Z"), "\"2026-11-22 20:12:01\"");
    add(S("2026-11-22T18:42:01-0130"), "\"2026-11-22 20:12:01\"");
    add(cv_int(1795378321999LL, CV_UNIT_TS_MS), "\"2026-11-22 20:12:01\"");
    add(cv_int(1795378321999999LL, CV_UNIT_TS_US), "\"2026-11-22 20:12:01\"");
    add(cv_int(1795378321, CV_UNIT_TS_S), "\"2026-11-22 20:12:01\"");
    add(cv_int(20779, CV_UNIT_DATE_DAYS), "\"2026-11-22 00:00:00\"");
    add(S("2026-11-22"), "\"2026-11-22 00:00:00\"");
    add(S("2105-12-31 23:59:59"), "\"2105-12-31 23:59:59\"");
    add_json("1795378321", "\"2026-11-22 20:12:01\"");
    CHECK(case_run() == 0);

    /* The maximum, 2106-02-07 06:28:15 = 4294967295, by number. */
    case_begin("DateTime", "toUInt32(v)");
    add(I(4294967295LL), "4294967295");
    add(S("2106-02-07 06:28:15"), "4294967295");
    add(S("2106-02-07T07:28:15+01:00"), "4294967295");
    add(I(0), "0");
    CHECK(case_run() == 0);

    /* A column time zone changes how the server prints, not what sluice
     * stores: naive text is UTC (documented in ch_encode.c). */
    case_begin("DateTime('Europe/Berlin')", NULL);
    add(S("2026-11-22 20:12:01"), "\"2026-11-22 21:12:01\"");
    add(S("2026-07-01T12:00:00+02:00"), "\"2026-07-01 12:00:00\"");
    add(cv_int(1795378321, CV_UNIT_TS_S), "\"2026-11-22 21:12:01\"");
    CHECK(case_run() == 0);
}

static void test_uuid(void)
{
    CHECK(setup() == 0);
    case_begin("UUID", NULL);
    add(S("61f0c404-5cb3-11e7-907b-a6006ad3dba0"), "\"61f0c404-5cb3-11e7-907b-a6006ad3dba0\"");
    add(S("FFFFFFFF-FFFF-FFFF-8000-000000000001"), "\"ffffffff-ffff-ffff-8000-000000000001\"");
    add(S("80000000-0000-0000-ffff-ffffffffffff"), "\"80000000-0000-0000-ffff-ffffffffffff\"");
    add(S("00000000-0000-0000-0000-000000000000"), "\"00000000-0000-0000-0000-000000000000\"");
    add(BYTES("\x01\x23\x45\x67\x89\xab\xcd\xef\xfe\xdc\xba\x98\x76\x54\x32\x10", 16),
        "\"01234567-89ab-cdef-fedc-ba9876543210\"");
    add_json("\"00112233-4455-6677-8899-aabbccddeeff\"",
             "\"00112233-4455-6677-8899-aabbccddeeff\"");
    CHECK(case_run() == 0);

    /* The other way round: the server's own UUID, as RowBinary, is what
     * sluice writes for the same text. */
    char *bin =
        query("SELECT toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') FORMAT RowBinary", NULL, NULL);
    CHECK(bin != NULL);
    buf b;
    buf_init(&b, 64);
    cvalue v = S("61f0c404-5cb3-11e7-907b-a6006ad3dba0");
    CHECK_EQ(ch_encode_value(cur.t, &v, &b, NULL), 0);
    CHECK_EQ(b.len, 16);
    int same = memcmp(bin, b.data, 16) == 0;
    free(bin);
    buf_free(&b);
    CHECK(same);
}

static void test_enums(void)
{
    CHECK(setup() == 0);
    /* Declared out of order; the server reports them sorted by value. */
    case_begin("Enum8('a' = -1, 'b' = 2, 'x\\'y' = 5)", NULL);
    add(ENUM("b"), "\"b\"");
    add(S("x'y"), "\"x'y\"");
    add(I(-1), "\"a\"");
    add_json("\"a\"", "\"a\"");
    add_json("5", "\"x'y\"");
    CHECK(case_run() == 0);

    case_begin("Enum16('lo' = -32768, 'mid' = 300, 'hi' = 32767)", NULL);
    add(ENUM("lo"), "\"lo\"");
    add(ENUM("hi"), "\"hi\"");
    add(I(300), "\"mid\"");
    CHECK(case_run() == 0);
}

static void test_decimals(void)
{
    CHECK(setup() == 0);
    case_begin("Decimal(9, 2)", NULL);
    add(S("-9999999.99"), "-9999999.99");
    add(S("1234567.89"), "1234567.89");
    add(D(0.1), "0.10");
    add(I(-3), "-3.00");
    add(DEC(2, 0xfb, 0x2e), "-12.34");
    add(DEC(4, 0x30, 0x0c), "1.23"); /* 1.2300: zeros dropped exactly */
    add(S("1.5e2"), "150.00");
    add_json("\"-0.01\"", "-0.01");
    CHECK(case_run() == 0);

    case_begin("Decimal(5, 2)", NULL);
    add(S("999.99"), "999.99");
    add(S("-999.99"), "-999.99");
    CHECK(case_run() == 0);

    case_begin("Decimal64(4)", NULL);
    add(S("-99999999999999.9999"), "-99999999999999.9999");
    add(S("12345"), "12345.0000");
    add(I(-99999999999999), "-99999999999999.0000");
    add(DEC(2, 0x04, 0xd2), "12.3400");
    CHECK(case_run() == 0);

    case_begin("Decimal(38, 10)", NULL);
    add(S("-1.5"), "-1.5000000000");
    add(S("9999999999999999999999999999.9999999999"), "9999999999999999999999999999.9999999999");
    add(S("-9999999999999999999999999999.9999999999"), "-9999999999999999999999999999.9999999999");
    add(I(INT64_MIN), "-9223372036854775808.0000000000");
    CHECK(case_run() == 0);

    case_begin("Decimal(38, 0)", NULL);
    add(S("99999999999999999999999999999999999999"), "99999999999999999999999999999999999999");
    add(S("-99999999999999999999999999999999999999"), "-99999999999999999999999999999999999999");
    /* 17 bytes, the first only extending the sign: -2. */
    add(DEC(0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xfe),
        "-2");
    CHECK(case_run() == 0);
}

static void test_nullable(void)
{
    CHECK(setup() == 0);
    case_begin("Nullable(Int32)", NULL);
    add(cv_null(), "null");
    add(I(5), "5");
    add_json("null", "null");
    add_json("-7", "-7");
    CHECK(case_run() == 0);

    case_begin("Nullable(String)", NULL);
    add(cv_null(), "null");
    add(S(""), "\"\"");
    add(S("x"), "\"x\"");
    CHECK(case_run() == 0);

    case_begin("Nullable(Decimal(18, 4))", NULL);
    add(cv_null(), "null");
    add(S("-1.5"), "-1.5000");
    CHECK(case_run() == 0);

    case_begin("Nullable(UUID)", NULL);
    add(cv_null(), "null");
    add(S("61f0c404-5cb3-11e7-907b-a6006ad3dba0"), "\"61f0c404-5cb3-11e7-907b-a6006ad3dba0\"");
    CHECK(case_run() == 0);

    case_begin("Nullable(Enum8('on' = 1, 'off' = 0))", NULL);
    add(cv_null(), "null");
    add(ENUM("off"), "\"off\"");
    CHECK(case_run() == 0);

    case_begin("Nullable(FixedString(2))", NULL);
    add(cv_null(), "null");
    add(S("a"), "\"a\\u0000\"");
    CHECK(case_run() == 0);

    case_begin("Nullable(DateTime)", NULL);
    add(cv_null(), "null");
    add(S("2026-11-22 20:12:01"), "\"2026-11-22 20:12:01\"");
    CHECK(case_run() == 0);

    case_begin("Nullable(Float64)", NULL);
    add(cv_null(), "null");
    add(D(2.5), "2.5");
    CHECK(case_run() == 0);
}

static void test_arrays(void)
{
    CHECK(setup() == 0);
    case_begin("Array(Array(Nullable(Int8)))", NULL);
    add_json("[[1, null], [], [-128]]", "[[1,null],[],[-128]]");
    add_json("[]", "[]");
    add_json("[[null]]", "[[null]]");
    CHECK(case_run() == 0);

    case_begin("Array(Array(String))", NULL);
    add_json("[[\"x\"], [\"y\", \"\"]]", "[[\"x\"],[\"y\",\"\"]]");
    add_json("[[]]", "[[]]");
    CHECK(case_run() == 0);

    case_begin("Array(Nullable(String))", NULL);
    add_json("[\"a\", null, \"\"]", "[\"a\",null,\"\"]");
    CHECK(case_run() == 0);

    case_begin("Array(UInt64)", NULL);
    add_json("[0, 9223372036854775807, \"18446744073709551615\"]",
             "[\"0\",\"9223372036854775807\",\"18446744073709551615\"]");
    CHECK(case_run() == 0);

    case_begin("Array(Decimal(9, 2))", NULL);
    add_json("[1.5, \"-2\", 0]", "[1.50,-2.00,0.00]");
    CHECK(case_run() == 0);

    case_begin("Array(Date)", NULL);
    add_json("[\"2026-11-22\", 1]", "[\"2026-11-22\",\"1970-01-02\"]");
    CHECK(case_run() == 0);

    /* 200 elements: a two-byte LEB128 count. */
    char many[2000];
    size_t w = (size_t)sprintf(many, "[");
    for (int i = 0; i < 200; i++)
        w += (size_t)sprintf(many + w, "%s%d", i ? "," : "", i % 100);
    sprintf(many + w, "]");
    case_begin("Array(UInt8)", NULL);
    add_json(many, many); /* ClickHouse prints [0,1,...] exactly as written */
    CHECK(case_run() == 0);
}

static void test_low_cardinality(void)
{
    CHECK(setup() == 0);
    case_begin("LowCardinality(String)", NULL);
    add(S("a"), "\"a\"");
    add(S(""), "\"\"");
    add(S("a"), "\"a\"");
    add_json("\"b\"", "\"b\"");
    CHECK(case_run() == 0);

    case_begin("LowCardinality(Nullable(String))", NULL);
    add(cv_null(), "null");
    add(S("x"), "\"x\"");
    add(S("x"), "\"x\"");
    CHECK(case_run() == 0);

    case_begin("LowCardinality(UInt32)", NULL);
    add(I(7), "7");
    add(I(4294967295LL), "4294967295");
    CHECK(case_run() == 0);

    case_begin("Array(LowCardinality(String))", NULL);
    add_json("[\"p\", \"q\", \"p\"]", "[\"p\",\"q\",\"p\"]");
    CHECK(case_run() == 0);
}

/* ch_encode_default against what the server fills for an omitted column:
 * the same bytes (RowBinary) and so the same text. */
static void test_defaults(void)
{
    CHECK(setup() == 0);
    static const char *const types[] = {
        "Int8",
        "Int16",
        "Int32",
        "Int64",
        "UInt8",
        "UInt16",
        "UInt32",
        "UInt64",
        "Float32",
        "Float64",
        "String",
        "FixedString(3)",
        "Date",
        "DateTime",
        "DateTime('Europe/Berlin')",
        "UUID",
        "Enum8('b' = 2, 'a' = -1, 'c' = 5)", /* declared first is not the default */
        "Enum8('x' = 3, 'y' = 7)",
        "Enum16('x' = 1000, 'y' = -300)",
        "Decimal(9, 2)",
        "Decimal(18, 4)",
        "Decimal(38, 10)",
        "Nullable(Int32)",
        "Nullable(String)",
        "Nullable(Enum8('a' = 1))",
        "Array(String)",
        "Array(Array(Nullable(Int8)))",
        "LowCardinality(String)",
        "LowCardinality(Nullable(String))",
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char table[32], sql[512];
        snprintf(table, sizeof table, "d%zu", i);
        const char *settings = strstr(types[i], "LowCardinality") ? LC_SETTING : NULL;
        snprintf(sql, sizeof sql, "CREATE TABLE %s (id UInt32, v %s) ENGINE = Memory", table,
                 types[i]);
        CHECK(exec_sql(sql, settings) == 0);
        snprintf(sql, sizeof sql, "INSERT INTO %s (id) VALUES (1)", table);
        CHECK(exec_sql(sql, NULL) == 0);

        arena a;
        arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
        const ch_type *t;
        sluice_error err;
        CHECK_EQ(ch_type_parse(types[i], &a, &t, &err), 0);
        buf row, mine;
        buf_init(&row, 1 << 16);
        buf_init(&mine, 1 << 16);
        CHECK_EQ(ch_encode_default(t, &mine), 0);
        arena_free(&a);
        const uint8_t id2[4] = {2, 0, 0, 0};
        buf_append(&row, id2, 4);
        buf_append(&row, mine.data, mine.len);
        snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT RowBinary", table);
        int inserted = insert_bytes(sql, row.data, row.len);
        buf_free(&row);

        size_t len;
        snprintf(sql, sizeof sql, "SELECT v FROM %s WHERE id = 1 FORMAT RowBinary", table);
        char *server = query(sql, NULL, &len);
        int same = server && len == mine.len && memcmp(server, mine.data, len) == 0;
        if (!same)
            fprintf(stderr, "%s: server default is %zu bytes, sluice's %zu\n", types[i],
                    server ? len : 0, mine.len);
        free(server);
        size_t default_len = mine.len;
        buf_free(&mine);
        CHECK(inserted == 0);
        CHECK(same);

        /* Both rows read back identically. */
        snprintf(sql, sizeof sql, "SELECT v FROM %s ORDER BY id FORMAT RowBinary", table);
        char *both = query(sql, NULL, &len);
        CHECK(both != NULL);
        int twice = len == 2 * default_len && memcmp(both, both + default_len, default_len) == 0;
        free(both);
        CHECK(twice);
    }
    /* The default Enum8 is the smallest value, as the server says. */
    char *e = query("SELECT v FROM d16 WHERE id = 1 FORMAT TSVRaw", NULL, NULL);
    CHECK(e != NULL);
    int is_a = strcmp(e, "a\n") == 0;
    free(e);
    CHECK(is_a);
}

TEST_MAIN(T(test_server_version), T(test_integers), T(test_floats), T(test_strings), T(test_dates),
          T(test_uuid), T(test_enums), T(test_decimals), T(test_nullable), T(test_arrays),
          T(test_low_cardinality), T(test_defaults))
