/*
 * test_avro_to_json.c — sluice_avro_to_json (include/sluice/avro.h), the
 * library's public Avro → JSON decoder (src/codec/avro_to_json.c), using the
 * public headers only: both styles, the malloc'd result and its length,
 * bad arguments, malformed input naming offset and path, the output bound.
 * The bytes are written by hand from the Avro specification (zigzag
 * varints, union index before the value, one block per array).
 */
#include <sluice/avro.h>
#include <sluice/wire.h>

#include "test.h"

static const char *SCHEMA =
    "{\"type\":\"record\",\"name\":\"E\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\"},"
    "{\"name\":\"user\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}}]}";

/* id 42, user "ada" (union branch 1), tags ["x"]: */
static const unsigned char VALUE[] = {0x54, 0x02, 0x06, 'a', 'd', 'a', 0x02, 0x02, 'x', 0x00};

static sluice_avro_schema *parse(const char *text)
{
    sluice_avro_schema *s = NULL;
    sluice_error err = {0};
    if (sluice_avro_schema_parse(text, strlen(text), &s, &err) != 0)
        fprintf(stderr, "schema: %s\n", err.msg);
    return s;
}

static void test_plain_and_avro_styles(void)
{
    sluice_avro_schema *s = parse(SCHEMA);
    CHECK(s);
    char *json = NULL;
    size_t len = 0;
    sluice_error err = {0};
    CHECK_EQ(sluice_avro_to_json(sluice_avro_schema_root(s), VALUE, sizeof VALUE,
                                 SLUICE_AVRO_JSON_PLAIN, &json, &len, &err),
             0);
    CHECK_STR(json, "{\"id\":42,\"user\":\"ada\",\"tags\":[\"x\"]}");
    CHECK_EQ(len, strlen(json));
    free(json);
    CHECK_EQ(sluice_avro_to_json(sluice_avro_schema_root(s), VALUE, sizeof VALUE,
                                 SLUICE_AVRO_JSON_AVRO, &json, NULL, &err),
             0);
    CHECK_STR(json, "{\"id\":42,\"user\":{\"string\":\"ada\"},\"tags\":[\"x\"]}");
    free(json);
    sluice_avro_schema_free(s);
}

/* What a consumer of a Kafka topic does: strip the Confluent header, decode. */
static void test_framed_message(void)
{
    sluice_avro_schema *s = parse(SCHEMA);
    CHECK(s);
    unsigned char msg[SLUICE_WIRE_HEADER_SIZE + sizeof VALUE];
    sluice_wire_write_header(msg, 7);
    memcpy(msg + SLUICE_WIRE_HEADER_SIZE, VALUE, sizeof VALUE);
    int32_t id = 0;
    const uint8_t *payload = NULL;
    size_t n = 0;
    CHECK_EQ(sluice_wire_read(msg, sizeof msg, &id, &payload, &n, NULL), 0);
    CHECK_EQ(id, 7);
    char *json = NULL;
    CHECK_EQ(sluice_avro_to_json(sluice_avro_schema_root(s), payload, n, SLUICE_AVRO_JSON_PLAIN,
                                 &json, NULL, NULL),
             0);
    CHECK_STR(json, "{\"id\":42,\"user\":\"ada\",\"tags\":[\"x\"]}");
    free(json);
    sluice_avro_schema_free(s);
}

static void test_malformed_input(void)
{
    sluice_avro_schema *s = parse(SCHEMA);
    CHECK(s);
    const sluice_avro_node *root = sluice_avro_schema_root(s);
    char *json = (char *)"untouched";
    sluice_error err = {0};
    /* Cut inside "ada": the string claims 3 bytes, 1 is left. */
    CHECK_EQ(sluice_avro_to_json(root, VALUE, 4, SLUICE_AVRO_JSON_PLAIN, &json, NULL, &err),
             SLUICE_EINVAL);
    CHECK(json == NULL);
    CHECK_CONTAINS(err.msg, "offset 2");
    CHECK_CONTAINS(err.msg, "$.user");
    /* A byte after the value. */
    unsigned char longer[sizeof VALUE + 1];
    memcpy(longer, VALUE, sizeof VALUE);
    longer[sizeof VALUE] = 0;
    CHECK_EQ(
        sluice_avro_to_json(root, longer, sizeof longer, SLUICE_AVRO_JSON_PLAIN, &json, NULL, &err),
        SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "left over");
    /* Union branch 2 of a two-branch union. */
    const unsigned char bad_branch[] = {0x54, 0x04};
    CHECK_EQ(sluice_avro_to_json(root, bad_branch, sizeof bad_branch, SLUICE_AVRO_JSON_PLAIN, &json,
                                 NULL, &err),
             SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "$.user");
    sluice_avro_schema_free(s);
}

static void test_bad_arguments(void)
{
    sluice_avro_schema *s = parse(SCHEMA);
    CHECK(s);
    char *json = NULL;
    sluice_error err = {0};
    CHECK_EQ(
        sluice_avro_to_json(NULL, VALUE, sizeof VALUE, SLUICE_AVRO_JSON_PLAIN, &json, NULL, &err),
        SLUICE_EINVAL);
    CHECK_EQ(sluice_avro_to_json(sluice_avro_schema_root(s), NULL, 3, SLUICE_AVRO_JSON_PLAIN, &json,
                                 NULL, &err),
             SLUICE_EINVAL);
    CHECK_EQ(sluice_avro_to_json(sluice_avro_schema_root(s), VALUE, sizeof VALUE,
                                 (sluice_avro_json_style)7, &json, NULL, &err),
             SLUICE_EINVAL);
    CHECK_EQ(sluice_avro_to_json(sluice_avro_schema_root(s), VALUE, sizeof VALUE,
                                 SLUICE_AVRO_JSON_PLAIN, NULL, NULL, &err),
             SLUICE_EINVAL);
    sluice_avro_schema_free(s);
}

/* Five bytes claiming 16 M nulls would be 80 MB of "null,": past the bound. */
static void test_output_bound(void)
{
    sluice_avro_schema *s = parse("{\"type\":\"array\",\"items\":\"null\"}");
    CHECK(s);
    /* block count 16 000 000 = zigzag 32 000 000 = varint 0x80 0x90 0xa1 0x0f, then end. */
    const unsigned char bomb[] = {0x80, 0x90, 0xa1, 0x0f, 0x00};
    char *json = NULL;
    sluice_error err = {0};
    CHECK_EQ(sluice_avro_to_json(sluice_avro_schema_root(s), bomb, sizeof bomb,
                                 SLUICE_AVRO_JSON_PLAIN, &json, NULL, &err),
             SLUICE_ENOMEM);
    CHECK(json == NULL);
    CHECK_CONTAINS(err.msg, "would pass");
    /* Two nulls are fine. */
    const unsigned char two[] = {0x04, 0x00};
    CHECK_EQ(sluice_avro_to_json(sluice_avro_schema_root(s), two, sizeof two,
                                 SLUICE_AVRO_JSON_PLAIN, &json, NULL, &err),
             0);
    CHECK_STR(json, "[null,null]");
    free(json);
    sluice_avro_schema_free(s);
}

TEST_MAIN(T(test_plain_and_avro_styles), T(test_framed_message), T(test_malformed_input),
          T(test_bad_arguments), T(test_output_bound))
