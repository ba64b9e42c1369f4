/*
 * test_sr_parse.c — Confluent framing, registry answer parsing and the
 * backoff schedule: the pure pieces under the registry client.
 */
#include "test.h"

#include <sluice/wire.h>

#include "common/backoff.h"
#include "sr/http.h"
#include "sr/response.h"

static void test_wire_round_trip(void)
{
    uint8_t msg[8];
    sluice_wire_write_header(msg, 0x01020304);
    CHECK_EQ(msg[0], 0);
    CHECK_EQ(msg[1], 1);
    CHECK_EQ(msg[4], 4);
    msg[5] = 'a';
    msg[6] = 'b';
    int32_t id = -1;
    const uint8_t *payload = NULL;
    size_t plen = 0;
    CHECK_EQ(sluice_wire_read(msg, 7, &id, &payload, &plen, NULL), 0);
    CHECK_EQ(id, 0x01020304);
    CHECK(payload == msg + 5);
    CHECK_EQ(plen, 2);
    /* A header with an empty payload is valid (Avro null / empty record). */
    CHECK_EQ(sluice_wire_read(msg, 5, &id, &payload, &plen, NULL), 0);
    CHECK_EQ(plen, 0);
    CHECK(sluice_wire_is_framed(msg, 5));
    CHECK(!sluice_wire_is_framed(msg, 4));
}

static void test_wire_errors(void)
{
    sluice_error err;
    int32_t id;
    const uint8_t *payload;
    size_t plen;
    uint8_t shortmsg[3] = {0, 0, 0};
    CHECK_EQ(sluice_wire_read(shortmsg, 3, &id, &payload, &plen, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "frame too short: 3 bytes, need 5");
    CHECK_EQ(sluice_wire_read(NULL, 0, &id, &payload, &plen, &err), SLUICE_EINVAL);
    const char *json = "{\"a\":1}";
    CHECK_EQ(sluice_wire_read(json, 7, &id, &payload, &plen, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "bad magic byte 0x7b at offset 0 (not a Confluent-framed message)");
    uint8_t neg[5] = {0, 0x80, 0, 0, 1};
    CHECK_EQ(sluice_wire_read(neg, 5, &id, &payload, &plen, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "negative schema id");
}

static void test_response_schema_by_id(void)
{
    sr_schema *s = NULL;
    sluice_error err;
    const char *ok = "{\"schema\":\"\\\"string\\\"\"}";
    CHECK_EQ(sr_response_schema_by_id("GET /schemas/ids/3", 3, ok, strlen(ok), &s, &err), 0);
    CHECK_EQ(s->pub.id, 3);
    CHECK_STR(s->pub.schema, "\"string\"");
    CHECK_STR(s->pub.schema_type, "AVRO");
    CHECK(s->pub.subject == NULL);
    sr_schema_release(s);

    const char *typed = "{\"schema\":\"{}\",\"schemaType\":\"JSON\"}";
    CHECK_EQ(sr_response_schema_by_id("GET x", 3, typed, strlen(typed), &s, &err), 0);
    CHECK_STR(s->pub.schema_type, "JSON");
    sr_schema_release(s);

    const char *missing = "{\"id\":3}";
    CHECK_EQ(sr_response_schema_by_id("GET /schemas/ids/3", 3, missing, strlen(missing), &s, &err),
             SLUICE_EPARSE);
    CHECK_STR(err.msg, "registry answer to GET /schemas/ids/3: field 'schema' missing");
    const char *wrongtype = "{\"schema\":5}";
    CHECK_EQ(sr_response_schema_by_id("GET y", 3, wrongtype, strlen(wrongtype), &s, &err),
             SLUICE_EPARSE);
    CHECK_STR(err.msg, "registry answer to GET y: field 'schema' is not a string");
    const char *badtype = "{\"schema\":\"x\",\"schemaType\":[]}";
    CHECK_EQ(sr_response_schema_by_id("GET y", 3, badtype, strlen(badtype), &s, &err),
             SLUICE_EPARSE);
    CHECK_CONTAINS(err.msg, "'schemaType' is not a string");
    const char *notjson = "<html>proxy error</html>";
    CHECK_EQ(sr_response_schema_by_id("GET z", 3, notjson, strlen(notjson), &s, &err),
             SLUICE_EPARSE);
    CHECK_CONTAINS(err.msg, "registry answer to GET z is not JSON");
    CHECK_CONTAINS(err.msg, "line 1");
    CHECK_EQ(sr_response_schema_by_id("GET z", 3, "[1]", 3, &s, &err), SLUICE_EPARSE);
    CHECK_CONTAINS(err.msg, "expected a JSON object");
    const char *dup = "{\"schema\":\"a\",\"schema\":\"b\"}";
    CHECK_EQ(sr_response_schema_by_id("GET d", 3, dup, strlen(dup), &s, &err), SLUICE_EPARSE);
}

static void test_response_subject_version(void)
{
    sr_schema *s = NULL;
    sluice_error err;
    const char *ok =
        "{\"subject\":\"t-value\",\"version\":2,\"id\":11,\"schema\":\"\\\"long\\\"\"}";
    CHECK_EQ(sr_response_subject_version("GET l", ok, strlen(ok), NULL, &s, &err), 0);
    CHECK_STR(s->pub.subject, "t-value");
    CHECK_EQ(s->pub.version, 2);
    CHECK_EQ(s->pub.id, 11);
    CHECK_STR(s->pub.schema, "\"long\"");
    sr_schema_release(s);

    /* Lookup answers may leave out the schema: the caller's text stands in. */
    const char *noschema = "{\"subject\":\"t\",\"version\":1,\"id\":4}";
    CHECK_EQ(sr_response_subject_version("POST l", noschema, strlen(noschema), "\"int\"", &s, &err),
             0);
    CHECK_STR(s->pub.schema, "\"int\"");
    sr_schema_release(s);
    CHECK_EQ(sr_response_subject_version("GET l", noschema, strlen(noschema), NULL, &s, &err),
             SLUICE_EPARSE);
    CHECK_CONTAINS(err.msg, "field 'schema' missing");

    const char *badver = "{\"subject\":\"t\",\"version\":0,\"id\":4,\"schema\":\"x\"}";
    CHECK_EQ(sr_response_subject_version("GET v", badver, strlen(badver), NULL, &s, &err),
             SLUICE_EPARSE);
    CHECK_STR(err.msg, "registry answer to GET v: field 'version' out of range: 0");
    const char *bigid = "{\"subject\":\"t\",\"version\":1,\"id\":4294967296,\"schema\":\"x\"}";
    CHECK_EQ(sr_response_subject_version("GET v", bigid, strlen(bigid), NULL, &s, &err),
             SLUICE_EPARSE);
    CHECK_CONTAINS(err.msg, "field 'id' out of range: 4294967296");
    const char *strid = "{\"subject\":\"t\",\"version\":1,\"id\":\"4\",\"schema\":\"x\"}";
    CHECK_EQ(sr_response_subject_version("GET v", strid, strlen(strid), NULL, &s, &err),
             SLUICE_EPARSE);
    CHECK_CONTAINS(err.msg, "field 'id' is not an integer");
    const char *nosubj = "{\"version\":1,\"id\":4,\"schema\":\"x\"}";
    CHECK_EQ(sr_response_subject_version("GET v", nosubj, strlen(nosubj), NULL, &s, &err),
             SLUICE_EPARSE);
    CHECK_CONTAINS(err.msg, "field 'subject' missing");
}

/* "references" and "schemaType" in answers: copied into the schema,
 * checked field by field. */
static void test_response_references(void)
{
    sr_schema *s = NULL;
    sluice_error err;
    const char *ok = "{\"subject\":\"p-value\",\"version\":3,\"id\":9,\"schemaType\":"
                     "\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\",\"references\":["
                     "{\"name\":\"google/protobuf/timestamp.proto\",\"subject\":"
                     "\"google/protobuf/timestamp.proto\",\"version\":1},"
                     "{\"name\":\"a.proto\",\"subject\":\"a\",\"version\":-1}]}";
    CHECK_EQ(sr_response_subject_version("GET p", ok, strlen(ok), NULL, &s, &err), 0);
    CHECK_STR(s->pub.schema_type, "PROTOBUF");
    CHECK_EQ(s->pub.n_references, 2);
    CHECK_STR(s->pub.references[0].name, "google/protobuf/timestamp.proto");
    CHECK_STR(s->pub.references[0].subject, "google/protobuf/timestamp.proto");
    CHECK_EQ(s->pub.references[0].version, 1);
    CHECK_STR(s->pub.references[1].subject, "a");
    CHECK_EQ(s->pub.references[1].version, -1);
    CHECK_STR(s->pub.schema, "syntax = \"proto3\";");
    sr_schema_release(s);

    const char *by_id = "{\"schema\":\"{}\",\"schemaType\":\"JSON\",\"references\":[{\"name\":"
                        "\"x.json\",\"subject\":\"x\",\"version\":2}]}";
    CHECK_EQ(sr_response_schema_by_id("GET i", 5, by_id, strlen(by_id), &s, &err), 0);
    CHECK_EQ(s->pub.n_references, 1);
    CHECK_STR(s->pub.references[0].name, "x.json");
    sr_schema_release(s);

    static const char *const bad[] = {
        "{\"schema\":\"{}\",\"references\":{}}",
        "{\"schema\":\"{}\",\"references\":[{\"name\":\"a\",\"subject\":\"s\"}]}",
        "{\"schema\":\"{}\",\"references\":[{\"name\":\"a\",\"subject\":\"s\",\"version\":0}]}",
        "{\"schema\":\"{}\",\"references\":[{\"name\":1,\"subject\":\"s\",\"version\":1}]}",
        "{\"schema\":\"{}\",\"references\":[{\"name\":\"a\",\"subject\":\"\",\"version\":1}]}",
        "{\"schema\":\"{}\",\"references\":[7]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = NULL;
        CHECK_EQ(sr_response_schema_by_id("GET i", 5, bad[i], strlen(bad[i]), &s, &err),
                 SLUICE_EPARSE);
        CHECK(s == NULL);
        CHECK_CONTAINS(err.msg, "registry answer to GET i");
        CHECK_CONTAINS(err.msg, "references");
    }
}

static void test_response_register(void)
{
    int32_t id = 0;
    sluice_error err;
    CHECK_EQ(sr_response_register("POST r", "{\"id\":17}", 9, &id, &err), 0);
    CHECK_EQ(id, 17);
    CHECK_EQ(sr_response_register("POST r", "{\"id\":-1}", 9, &id, &err), SLUICE_EPARSE);
    CHECK_EQ(sr_response_register("POST r", "{}", 2, &id, &err), SLUICE_EPARSE);
    CHECK_STR(err.msg, "registry answer to POST r: field 'id' missing");
    CHECK_EQ(sr_response_register("POST r", "", 0, &id, &err), SLUICE_EPARSE);
}

static void test_response_errors(void)
{
    sluice_error err;
    const char *nf = "{\"error_code\":40401,\"message\":\"Subject 'x' not found.\"}";
    CHECK_EQ(sr_response_error("GET /subjects/x/versions/latest", 404, nf, strlen(nf), &err),
             SLUICE_ENOTFOUND);
    CHECK_EQ(err.remote_code, 40401);
    CHECK_STR(err.msg, "registry answered GET /subjects/x/versions/latest with HTTP 404 "
                       "(error_code 40401): Subject 'x' not found.");
    const char *inc = "{\"error_code\":409,\"message\":\"incompatible\"}";
    CHECK_EQ(sr_response_error("POST r", 409, inc, strlen(inc), &err), SLUICE_ECONFLICT);
    const char *inv = "{\"error_code\":42201,\"message\":\"Invalid schema\"}";
    CHECK_EQ(sr_response_error("POST r", 422, inv, strlen(inv), &err), SLUICE_EINVAL);
    CHECK_EQ(err.remote_code, 42201);
    CHECK_EQ(sr_response_error("GET a", 401, "", 0, &err), SLUICE_EAUTH);
    CHECK_EQ(err.remote_code, 401);
    CHECK_CONTAINS(err.msg, "(no message)");
    CHECK_EQ(sr_response_error("GET a", 400, "plain text", 10, &err), SLUICE_EREMOTE);
    CHECK_CONTAINS(err.msg, "plain text");
}

static void test_backoff_schedule(void)
{
    CHECK_EQ(backoff_ceiling_ms(0, 100, 5000), 0);
    CHECK_EQ(backoff_ceiling_ms(1, 100, 5000), 100);
    CHECK_EQ(backoff_ceiling_ms(2, 100, 5000), 200);
    CHECK_EQ(backoff_ceiling_ms(4, 100, 5000), 800);
    CHECK_EQ(backoff_ceiling_ms(7, 100, 5000), 5000);
    CHECK_EQ(backoff_ceiling_ms(1000, 100, 5000), 5000);
    uint64_t rng = 12345;
    int64_t lo = INT64_MAX, hi = -1;
    for (int i = 0; i < 2000; i++) {
        int64_t d = backoff_delay_ms(3, 100, 5000, &rng);
        CHECK(d >= 0 && d <= 400);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    /* Full jitter: the draws cover the whole range, not a fixed delay. */
    CHECK(lo < 40);
    CHECK(hi > 360);
}

static void test_escape(void)
{
    char *e = sr_http_escape("orders-value");
    CHECK_STR(e, "orders-value");
    free(e);
    e = sr_http_escape("a b/c?d%");
    CHECK_STR(e, "a%20b%2Fc%3Fd%25");
    free(e);
}

TEST_MAIN(T(test_wire_round_trip), T(test_wire_errors), T(test_response_schema_by_id),
          T(test_response_subject_version), T(test_response_references), T(test_response_register),
          T(test_response_errors), T(test_backoff_schedule), T(test_escape))
