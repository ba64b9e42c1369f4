/*
 * test_registry_api.c — `sluice registry` over real HTTP: every route with
 * its status code and exact body, registration and evolution, every
 * compatibility level with a compatible and an incompatible change,
 * dedupe across subjects, soft/permanent deletes, restart persistence, bad
 * bodies, and the per-endpoint request counters in /metrics.
 */
#include "test.h"

#include "support.h"

#include <signal.h>

static char *tmp;
static char db[512];
static test_proc reg;
static char base[64];
static long last_id; /* the highest id registered so far (set by the restart test) */

#define CT "application/vnd.schemaregistry.v1+json"

static int start(void)
{
    char log[512];
    snprintf(log, sizeof log, "%s/registry.log", tmp);
    uint16_t port;
    if (test_registry_start(&reg, db, 0, &port, log) != 0) return -1;
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)port);
    return 0;
}

static int setup(void)
{
    if (reg.pid > 0) return 0;
    if (!tmp) {
        tmp = test_tmpdir("sluice-registry-api");
        snprintf(db, sizeof db, "%s/registry.sqlite", tmp);
    }
    return start();
}

/* Request and keep the answer in `last` (freed on the next call). */
static test_http_resp last;

static long req(const char *method, const char *path, const char *body)
{
    free(last.body);
    memset(&last, 0, sizeof last);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", base, path);
    if (test_http(method, url, body, body ? CT : NULL, &last) != 0) return -1;
    return last.status;
}

/* {"schema": <schema as a JSON string>} */
static char *schema_body(const char *schema)
{
    static char out[8192];
    char *p = out;
    p += sprintf(p, "{\"schema\":\"");
    for (const char *s = schema; *s; s++) {
        if (*s == '"' || *s == '\\') *p++ = '\\';
        *p++ = *s;
    }
    sprintf(p, "\"}");
    return out;
}

#define REC(fields) "{\"type\":\"record\",\"name\":\"R\",\"fields\":[" fields "]}"
static const char *S1 = REC("{\"name\":\"a\",\"type\":\"int\"}");
static const char *S2 =
    REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"string\",\"default\":\"x\"}");
static const char *S3 = REC(
    "{\"name\":\"a\",\"type\":\"long\"},{\"name\":\"b\",\"type\":\"string\",\"default\":\"x\"}");

static void test_root_types_health(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(req("GET", "/", NULL), 200);
    CHECK_STR(last.body, "{}");
    CHECK_EQ(req("GET", "/schemas/types", NULL), 200);
    CHECK_STR(last.body, "[\"JSON\",\"PROTOBUF\",\"AVRO\"]");
    CHECK_EQ(req("GET", "/healthz", NULL), 200);
    CHECK_EQ(req("GET", "/no/such/path", NULL), 404);
    CHECK_STR(last.body, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}");
    CHECK_EQ(req("PUT", "/subjects", "{}"), 405);
    CHECK_EQ(req("POST", "/schemas/types", "{}"), 405);
}

static void test_register_read_lookup(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(req("POST", "/subjects/orders-value/versions", schema_body(S1)), 200);
    CHECK_STR(last.body, "{\"id\":1}");
    /* Same schema, different formatting: same id, no new version. */
    const char *S1b = "{ \"fields\": [ {\"type\": \"int\", \"name\": \"a\"} ], \"name\":\"R\", "
                      "\"type\":\"record\" }";
    CHECK_EQ(req("POST", "/subjects/orders-value/versions", schema_body(S1b)), 200);
    CHECK_STR(last.body, "{\"id\":1}");
    CHECK_EQ(req("GET", "/subjects/orders-value/versions", NULL), 200);
    CHECK_STR(last.body, "[1]");
    CHECK_EQ(req("GET", "/schemas/ids/1", NULL), 200);
    CHECK_CONTAINS(last.body, "\"schema\":\"{\\\"type\\\":\\\"record\\\"");
    CHECK_EQ(req("GET", "/schemas/ids/1/schema", NULL), 200);
    CHECK_STR(last.body, S1); /* the text first registered, verbatim */
    CHECK_EQ(req("GET", "/subjects/orders-value/versions/1", NULL), 200);
    CHECK_CONTAINS(last.body, "\"subject\":\"orders-value\"");
    CHECK_CONTAINS(last.body, "\"version\":1");
    CHECK_CONTAINS(last.body, "\"id\":1");
    CHECK_EQ(req("GET", "/subjects/orders-value/versions/latest/schema", NULL), 200);
    CHECK_STR(last.body, S1);
    CHECK_EQ(req("GET", "/subjects/orders-value/versions/-1", NULL), 200);
    CHECK_CONTAINS(last.body, "\"version\":1");

    /* Lookup. */
    CHECK_EQ(req("POST", "/subjects/orders-value", schema_body(S1b)), 200);
    CHECK_CONTAINS(last.body, "\"id\":1");
    CHECK_CONTAINS(last.body, "\"version\":1");
    CHECK_EQ(req("POST", "/subjects/orders-value", schema_body(S2)), 404);
    CHECK_STR(last.body, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
    CHECK_EQ(req("POST", "/subjects/nobody", schema_body(S1)), 404);
    CHECK_CONTAINS(last.body, "40401");

    /* The same schema under another subject: same id, its own version 1. */
    CHECK_EQ(req("POST", "/subjects/other-value/versions", schema_body(S1)), 200);
    CHECK_STR(last.body, "{\"id\":1}");
    CHECK_EQ(req("GET", "/schemas/ids/1/versions", NULL), 200);
    CHECK_STR(last.body, "[{\"subject\":\"orders-value\",\"version\":1},{\"subject\":\"other-"
                         "value\",\"version\":1}]");
    CHECK_EQ(req("GET", "/subjects", NULL), 200);
    CHECK_STR(last.body, "[\"orders-value\",\"other-value\"]");

    /* Evolve (BACKWARD by default: new field with a default). */
    CHECK_EQ(req("POST", "/subjects/orders-value/versions", schema_body(S2)), 200);
    CHECK_STR(last.body, "{\"id\":2}");
    CHECK_EQ(req("GET", "/subjects/orders-value/versions", NULL), 200);
    CHECK_STR(last.body, "[1,2]");
    CHECK_EQ(req("GET", "/subjects/orders-value/versions/latest", NULL), 200);
    CHECK_CONTAINS(last.body, "\"version\":2");
    CHECK_CONTAINS(last.body, "\"id\":2");
}

static void test_not_found_and_invalid(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(req("GET", "/schemas/ids/999", NULL), 404);
    CHECK_STR(last.body, "{\"error_code\":40403,\"message\":\"Schema 999 not found\"}");
    CHECK_EQ(req("GET", "/schemas/ids/abc", NULL), 404);
    CHECK_EQ(req("GET", "/subjects/nope/versions", NULL), 404);
    CHECK_STR(last.body, "{\"error_code\":40401,\"message\":\"Subject 'nope' not found.\"}");
    CHECK_EQ(req("GET", "/subjects/nope/versions/1", NULL), 404);
    CHECK_CONTAINS(last.body, "40401");
    CHECK_EQ(req("POST", "/subjects/inv-value/versions", schema_body(S1)), 200);
    CHECK_EQ(req("GET", "/subjects/inv-value/versions/7", NULL), 404);
    CHECK_STR(last.body, "{\"error_code\":40402,\"message\":\"Version 7 not found.\"}");
    CHECK_EQ(req("GET", "/subjects/inv-value/versions/zero", NULL), 422);
    CHECK_CONTAINS(last.body, "\"error_code\":42202");
    CHECK_EQ(req("GET", "/subjects/inv-value/versions/0", NULL), 422);

    /* Invalid schemas: 422 with the parser's reason. */
    CHECK_EQ(req("POST", "/subjects/inv-value/versions", schema_body("{\"type\":\"strin\"}")), 422);
    CHECK_CONTAINS(last.body, "\"error_code\":42201");
    CHECK_CONTAINS(last.body, "strin");
    CHECK_EQ(req("POST", "/subjects/inv-value/versions",
                 schema_body(
                     REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"a\",\"type\":\"int\"}"))),
             422);
    CHECK_CONTAINS(last.body, "duplicate");
    CHECK_EQ(req("POST", "/subjects/inv-value/versions", "{\"schemaType\":\"AVRO\"}"), 422);
    CHECK_CONTAINS(last.body, "no \\\"schema\\\" string");
    /* "int" is no .proto file; the parser's place and message come back */
    CHECK_EQ(req("POST", "/subjects/inv-value/versions",
                 "{\"schema\":\"\\\"int\\\"\",\"schemaType\":\"PROTOBUF\"}"),
             422);
    CHECK_CONTAINS(last.body, "\"error_code\":42201");
    CHECK_CONTAINS(last.body, "Invalid PROTOBUF schema: schema.proto:1:1: Expected top-level");
    CHECK_EQ(req("POST", "/subjects/inv-value/versions",
                 "{\"schema\":\"\\\"int\\\"\",\"schemaType\":\"XML\"}"),
             422);
    CHECK_CONTAINS(last.body, "Invalid schema type XML");
    CHECK_EQ(req("POST", "/subjects/inv-value/versions",
                 "{\"schema\":\"\\\"int\\\"\",\"references\":[{\"name\":\"x\",\"subject\":\"y\","
                 "\"version\":1}]}"),
             422);
    CHECK_CONTAINS(last.body, "reference 'x': subject 'y' has no version 1");
    /* Malformed JSON: 400 naming where. */
    CHECK_EQ(req("POST", "/subjects/inv-value/versions", "{\"schema\": "), 400);
    CHECK_CONTAINS(last.body, "Malformed JSON request body");
    CHECK_CONTAINS(last.body, "line 1");
    CHECK_EQ(req("POST", "/subjects/inv-value/versions", "[1,2]"), 400);
    /* Nothing above created a version. */
    CHECK_EQ(req("GET", "/subjects/inv-value/versions", NULL), 200);
    CHECK_STR(last.body, "[1]");
}

/* Register `next` after `first` under a fresh subject at `level`. */
static long evolve(const char *subject, const char *level, const char *first, const char *next)
{
    char path[256], body[128];
    snprintf(path, sizeof path, "/config/%s", subject);
    snprintf(body, sizeof body, "{\"compatibility\":\"%s\"}", level);
    if (req("PUT", path, body) != 200) return -1;
    snprintf(path, sizeof path, "/subjects/%s/versions", subject);
    if (req("POST", path, schema_body(first)) != 200) return -1;
    return req("POST", path, schema_body(next));
}

static void test_compatibility_levels(void)
{
    CHECK_EQ(setup(), 0);
    /* Field added without default: old data cannot be read by the new
     * schema (not BACKWARD) but the old schema reads new data (FORWARD). */
    const char *A = REC("{\"name\":\"a\",\"type\":\"int\"}");
    const char *A_plus_b =
        REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\"}");
    const char *A_plus_bd =
        REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\",\"default\":0}");
    const char *A_string = REC("{\"name\":\"a\",\"type\":\"string\"}");

    CHECK_EQ(evolve("c-b1", "BACKWARD", A, A_plus_bd), 200);
    CHECK_EQ(evolve("c-b2", "BACKWARD", A, A_plus_b), 409);
    CHECK_CONTAINS(last.body, "\"error_code\":409");
    CHECK_CONTAINS(last.body, "incompatible with an earlier schema for subject \\\"c-b2\\\"");
    CHECK_CONTAINS(last.body, "'b'");
    CHECK_EQ(evolve("c-f1", "FORWARD", A, A_plus_b), 200);
    CHECK_EQ(evolve("c-f2", "FORWARD", A, A_string), 409);
    CHECK_EQ(evolve("c-u1", "FULL", A, A_plus_bd), 200);
    CHECK_EQ(evolve("c-u2", "FULL", A, A_plus_b), 409);
    CHECK_EQ(evolve("c-n1", "NONE", A, A_string), 200);
    /* int -> long: BACKWARD yes (long reads int), FORWARD no. */
    const char *A_long = REC("{\"name\":\"a\",\"type\":\"long\"}");
    CHECK_EQ(evolve("c-p1", "BACKWARD", A, A_long), 200);
    CHECK_EQ(evolve("c-p2", "FORWARD", A, A_long), 409);

    /* Transitive: v1 -> v2 fine, v3 compatible with v2 only. */
    const char *T1 = REC("{\"name\":\"a\",\"type\":\"int\"}");
    const char *T2 =
        REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\",\"default\":1}");
    const char *T3 = REC("{\"name\":\"b\",\"type\":\"int\"}"); /* needs b from the writer */
    CHECK_EQ(evolve("c-t1", "BACKWARD", T1, T2), 200);
    CHECK_EQ(req("POST", "/subjects/c-t1/versions", schema_body(T3)), 200); /* vs latest only */
    CHECK_EQ(evolve("c-t2", "BACKWARD_TRANSITIVE", T1, T2), 200);
    CHECK_EQ(req("POST", "/subjects/c-t2/versions", schema_body(T3)), 409); /* vs v1 too */
    CHECK_CONTAINS(last.body, "version 1");
    CHECK_EQ(evolve("c-t3", "FORWARD_TRANSITIVE", T1, T2), 200);
    CHECK_EQ(evolve("c-t4", "FULL_TRANSITIVE", T1, T2), 200);

    /* The compatibility endpoint answers without registering. */
    CHECK_EQ(req("POST", "/compatibility/subjects/c-b1/versions/latest", schema_body(A_string)),
             200);
    CHECK_STR(last.body, "{\"is_compatible\":false}");
    CHECK_EQ(req("POST", "/compatibility/subjects/c-b1/versions/latest?verbose=true",
                 schema_body(A_string)),
             200);
    CHECK_CONTAINS(last.body, "\"is_compatible\":false,\"messages\":[");
    CHECK_EQ(req("POST", "/compatibility/subjects/c-b1/versions/1", schema_body(A_plus_bd)), 200);
    CHECK_STR(last.body, "{\"is_compatible\":true}");
    CHECK_EQ(req("POST", "/compatibility/subjects/c-t1/versions", schema_body(T1)), 200);
    CHECK_STR(last.body, "{\"is_compatible\":false}"); /* vs all: T1 can't read T3's data */
    CHECK_EQ(req("POST", "/compatibility/subjects/nope/versions/latest", schema_body(A)), 404);
    CHECK_CONTAINS(last.body, "40401");
    CHECK_EQ(req("POST", "/compatibility/subjects/c-b1/versions/9", schema_body(A)), 404);
    CHECK_CONTAINS(last.body, "40402");
    CHECK_EQ(req("GET", "/subjects/c-b2/versions", NULL), 200);
    CHECK_STR(last.body, "[1]"); /* the rejected schema left nothing behind */
}

static void test_config_routes(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(req("GET", "/config", NULL), 200);
    CHECK_STR(last.body, "{\"compatibilityLevel\":\"BACKWARD\"}");
    CHECK_EQ(req("PUT", "/config", "{\"compatibility\":\"full\"}"), 200);
    CHECK_STR(last.body, "{\"compatibility\":\"FULL\"}");
    CHECK_EQ(req("GET", "/config", NULL), 200);
    CHECK_STR(last.body, "{\"compatibilityLevel\":\"FULL\"}");
    CHECK_EQ(req("PUT", "/config", "{\"compatibility\":\"SOMETIMES\"}"), 422);
    CHECK_CONTAINS(last.body, "\"error_code\":42203");
    CHECK_EQ(req("GET", "/config/cfg-value", NULL), 404);
    CHECK_CONTAINS(last.body, "40408");
    CHECK_EQ(req("GET", "/config/cfg-value?defaultToGlobal=true", NULL), 200);
    CHECK_STR(last.body, "{\"compatibilityLevel\":\"FULL\"}");
    CHECK_EQ(req("PUT", "/config/cfg-value", "{\"compatibility\":\"NONE\"}"), 200);
    CHECK_EQ(req("GET", "/config/cfg-value", NULL), 200);
    CHECK_STR(last.body, "{\"compatibilityLevel\":\"NONE\"}");
    CHECK_EQ(req("DELETE", "/config/cfg-value", NULL), 200);
    CHECK_STR(last.body, "{\"compatibilityLevel\":\"NONE\"}");
    CHECK_EQ(req("GET", "/config/cfg-value", NULL), 404);
    /* The global level now governs: FULL. */
    const char *A = REC("{\"name\":\"a\",\"type\":\"int\"}");
    const char *B = REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\"}");
    CHECK_EQ(req("POST", "/subjects/cfg-value/versions", schema_body(A)), 200);
    CHECK_EQ(req("POST", "/subjects/cfg-value/versions", schema_body(B)), 409);
    CHECK_EQ(req("PUT", "/config", "{\"compatibility\":\"BACKWARD\"}"), 200);
}

static void test_deletes(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(req("POST", "/subjects/del-value/versions", schema_body(S1)), 200);
    CHECK_EQ(req("POST", "/subjects/del-value/versions", schema_body(S2)), 200);
    /* Confluent answers 40405/40407 with HTTP 404, like every 404xx. */
    CHECK_EQ(req("DELETE", "/subjects/del-value?permanent=true", NULL), 404);
    CHECK_CONTAINS(last.body, "\"error_code\":40405");
    CHECK_EQ(req("DELETE", "/subjects/del-value/versions/2?permanent=true", NULL), 404);
    CHECK_CONTAINS(last.body, "\"error_code\":40407");
    CHECK_EQ(req("DELETE", "/subjects/del-value/versions/2", NULL), 200);
    CHECK_STR(last.body, "2");
    CHECK_EQ(req("GET", "/subjects/del-value/versions", NULL), 200);
    CHECK_STR(last.body, "[1]");
    CHECK_EQ(req("GET", "/subjects/del-value/versions?deleted=true", NULL), 200);
    CHECK_STR(last.body, "[1,2]");
    CHECK_EQ(req("GET", "/subjects/del-value/versions/2", NULL), 404);
    CHECK_EQ(req("GET", "/subjects/del-value/versions/2?deleted=true", NULL), 200);
    CHECK_EQ(req("DELETE", "/subjects/del-value/versions/2", NULL), 404);
    CHECK_EQ(req("DELETE", "/subjects/del-value/versions/2?permanent=true", NULL), 200);
    /* Versions are never reused: the next registration is version 3. */
    CHECK_EQ(req("POST", "/subjects/del-value/versions", schema_body(S2)), 200);
    CHECK_EQ(req("GET", "/subjects/del-value/versions", NULL), 200);
    CHECK_STR(last.body, "[1,3]");

    CHECK_EQ(req("DELETE", "/subjects/del-value", NULL), 200);
    CHECK_STR(last.body, "[1,3]");
    CHECK_EQ(req("DELETE", "/subjects/del-value", NULL), 404);
    CHECK_CONTAINS(last.body, "\"error_code\":40404");
    CHECK_EQ(req("GET", "/subjects/del-value/versions", NULL), 404);
    CHECK_EQ(req("GET", "/subjects?deleted=true", NULL), 200);
    CHECK_CONTAINS(last.body, "\"del-value\"");
    CHECK_EQ(req("GET", "/subjects", NULL), 200);
    CHECK(strstr(last.body, "del-value") == NULL);
    CHECK_EQ(req("DELETE", "/subjects/del-value?permanent=true", NULL), 200);
    CHECK_STR(last.body, "[1,3]");
    CHECK_EQ(req("DELETE", "/subjects/del-value", NULL), 404);
    CHECK_CONTAINS(last.body, "\"error_code\":40401");
    /* Ids stay: the schema text is still reachable by id. */
    CHECK_EQ(req("GET", "/schemas/ids/2", NULL), 200);
}

static void test_restart_keeps_everything(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(req("POST", "/subjects/keep-value/versions", schema_body(S1)), 200);
    CHECK_EQ(req("POST", "/subjects/keep-value/versions", schema_body(S3)), 200);
    long id_before = strtol(strchr(last.body, ':') + 1, NULL, 10);
    CHECK_EQ(req("PUT", "/config/keep-value", "{\"compatibility\":\"FORWARD_TRANSITIVE\"}"), 200);
    CHECK(id_before > 2);
    CHECK_EQ(req("GET", "/subjects", NULL), 200);
    char *subjects = strdup(last.body);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    CHECK_EQ(start(), 0);
    CHECK_EQ(req("GET", "/subjects", NULL), 200);
    CHECK_STR(last.body, subjects);
    free(subjects);
    CHECK_EQ(req("GET", "/config/keep-value", NULL), 200);
    CHECK_STR(last.body, "{\"compatibilityLevel\":\"FORWARD_TRANSITIVE\"}");
    CHECK_EQ(req("GET", "/subjects/keep-value/versions/latest", NULL), 200);
    CHECK_CONTAINS(last.body, "\"version\":2");
    /* A new schema gets the next id, not a reused one. */
    CHECK_EQ(req("POST", "/subjects/fresh-value/versions", schema_body("\"string\"")), 200);
    char want[32];
    snprintf(want, sizeof want, "{\"id\":%ld}", id_before + 1);
    CHECK_STR(last.body, want);
    last_id = id_before + 1;
}

static void test_metrics_count_requests(void)
{
    CHECK_EQ(setup(), 0);
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", base);
    double before =
        test_scrape_sum(url, "sluice_registry_requests_total", "endpoint=\"schemas_ids\"");
    if (before < 0) /* no such series yet: counters start with the process */
        before = 0;
    double before404 = test_scrape_sum(url, "sluice_registry_requests_total",
                                       "endpoint=\"schemas_ids\",status=\"404\"");
    for (int i = 0; i < 5; i++)
        CHECK_EQ(req("GET", "/schemas/ids/1", NULL), 200);
    CHECK_EQ(req("GET", "/schemas/ids/4242", NULL), 404);
    CHECK_EQ(test_scrape_sum(url, "sluice_registry_requests_total", "endpoint=\"schemas_ids\""),
             before + 6);
    CHECK_EQ(test_scrape_sum(url, "sluice_registry_requests_total",
                             "endpoint=\"schemas_ids\",status=\"404\""),
             (before404 < 0 ? 0 : before404) + 1);
    CHECK_EQ(req("GET", "/metrics", NULL), 200);
    CHECK_CONTAINS(last.body, "# TYPE sluice_registry_requests_total counter");
    char gauge[64];
    snprintf(gauge, sizeof gauge, "sluice_registry_schemas %ld\n", last_id);
    CHECK(last_id > 0);
    CHECK_CONTAINS(last.body, gauge); /* ids are dense: count == highest id */
}

static void test_not_a_registry_db(void)
{
    char path[600], log[600];
    snprintf(path, sizeof path, "%s/garbage.sqlite", tmp);
    snprintf(log, sizeof log, "%s/garbage.log", tmp);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("this is not a database, it is a text file of some length......\n", f);
    fclose(f);
    test_proc bad;
    char *argv[] = {
        (char *)test_sluice_bin(), "registry", "--listen", "127.0.0.1:0", "--db", path, NULL};
    CHECK_EQ(test_proc_start(&bad, argv, log), 0);
    CHECK_EQ(test_proc_wait(&bad, 10000), 1);
    CHECK_EQ(test_proc_wait_log(&bad, "garbage.sqlite", 0, NULL, 0), 0);
    CHECK_EQ(test_proc_wait_log(&bad, "not a database", 0, NULL, 0), 0);
}

static void test_cleanup(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    free(last.body);
    last.body = NULL;
    test_rmtree(tmp);
}

TEST_MAIN(T(test_root_types_health), T(test_register_read_lookup), T(test_not_found_and_invalid),
          T(test_compatibility_levels), T(test_config_routes), T(test_deletes),
          T(test_restart_keeps_everything), T(test_metrics_count_requests),
          T(test_not_a_registry_db), T(test_cleanup))
