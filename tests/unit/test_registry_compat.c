/*
 * test_registry_compat.c — the seven compatibility levels (src/registry/
 * compat.c) over all three schema types, without HTTP.
 *
 * Each row is an evolution v1 → v2 with two hand-written verdicts: can v2
 * read what v1 wrote (backward) and can v1 read what v2 writes (forward).
 * Every row runs under all seven levels and must give NONE → yes, BACKWARD
 * and BACKWARD_TRANSITIVE → backward, FORWARD(_TRANSITIVE) → forward,
 * FULL(_TRANSITIVE) → both. Rows cover one Confluent rule each for
 * Protobuf and JSON Schema (the full rule tables are in test_proto_compat.c
 * and test_json_schema_compat.c) and the Avro rules the registry always had.
 * A three-version history then shows what only the transitive levels see.
 */
#include "registry/compat.h"

#include "test.h"

struct evolution {
    reg_type type;
    const char *v1, *v2;
    int backward, forward;
    const char *rule; /* for messages; also a piece of the reason when a check fails */
};

#define P3(body) "syntax = \"proto3\"; package t; " body
#define JOBJ(props) "{\"type\":\"object\",\"properties\":{" props "}}"
#define JCLOSED(props)                                                                             \
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" props "}}"
#define AREC(fields) "{\"type\":\"record\",\"name\":\"R\",\"fields\":[" fields "]}"

static const struct evolution rows[] = {
    /* Protobuf */
    {REG_PROTOBUF, P3("message M { int32 a = 1; }"), P3("message M { int32 a = 1; string b = 2; }"),
     1, 1, "FIELD_ADDED / FIELD_REMOVED"},
    {REG_PROTOBUF, P3("message M { int32 a = 1; }"), P3("message M { string a = 1; }"), 0, 0,
     "FIELD_SCALAR_KIND_CHANGED"},
    {REG_PROTOBUF, P3("message M { int32 a = 1; }"), P3("message M { int64 a = 1; }"), 1, 1,
     "same scalar group"},
    {REG_PROTOBUF, P3("message M { int32 a = 1; } message N {}"), P3("message M { int32 a = 1; }"),
     0, 1, "MESSAGE_REMOVED (backward) / MESSAGE_ADDED (forward)"},
    {REG_PROTOBUF, P3("message M { oneof o { int32 a = 1; int32 b = 2; } }"),
     P3("message M { oneof o { int32 a = 1; } }"), 0, 1, "ONEOF_FIELD_REMOVED / ONEOF_FIELD_ADDED"},
    {REG_PROTOBUF, P3("message M { int32 a = 1; int32 b = 2; }"),
     P3("message M { oneof o { int32 a = 1; int32 b = 2; } }"), 0, 1,
     "MULTIPLE_FIELDS_MOVED_TO_ONEOF"},
    {REG_PROTOBUF, P3("message M { int32 a = 1; }"),
     "syntax = \"proto3\"; package u; message M { int32 a = 1; }", 0, 0, "PACKAGE_CHANGED"},
    {REG_PROTOBUF, "syntax = \"proto2\"; message M { optional int32 a = 1; }",
     "syntax = \"proto2\"; message M { optional int32 a = 1; required int32 b = 2; }", 0, 0,
     "REQUIRED_FIELD_ADDED / REQUIRED_FIELD_REMOVED"},
    {REG_PROTOBUF, P3("enum E { Z = 0; } message M { E e = 1; }"),
     P3("enum E { Z = 0; O = 1; } message M { E e = 1; }"), 1, 1, "ENUM_CONST_ADDED"},
    /* JSON Schema */
    {REG_JSON, JOBJ("\"a\":{\"type\":\"string\"}"),
     JOBJ("\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"string\"}"), 0, 1,
     "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL / PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL"},
    {REG_JSON, JCLOSED("\"a\":{\"type\":\"string\"}"),
     JCLOSED("\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"string\"}"), 1, 0,
     "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL / "
     "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"},
    {REG_JSON, "{\"type\":\"integer\"}", "{\"type\":\"number\"}", 1, 0,
     "TYPE_EXTENDED / TYPE_NARROWED"},
    {REG_JSON, "{\"type\":\"string\"}", "{\"type\":[\"string\",\"null\"]}", 1, 0,
     "SUM_TYPE_EXTENDED / TYPE_CHANGED"},
    {REG_JSON, JOBJ("\"a\":{\"type\":\"string\"}"),
     "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"a\"]}", 0,
     1, "REQUIRED_ATTRIBUTE_ADDED / REQUIRED_ATTRIBUTE_REMOVED"},
    {REG_JSON, JOBJ("\"a\":{\"type\":\"string\"}"), JCLOSED("\"a\":{\"type\":\"string\"}"), 0, 1,
     "ADDITIONAL_PROPERTIES_REMOVED / ADDITIONAL_PROPERTIES_ADDED"},
    {REG_JSON, "{\"enum\":[\"a\",\"b\"]}", "{\"enum\":[\"a\",\"b\",\"c\"]}", 1, 0,
     "ENUM_ARRAY_EXTENDED / ENUM_ARRAY_NARROWED"},
    {REG_JSON, "{\"type\":\"string\"}", "{\"type\":\"integer\"}", 0, 0, "TYPE_CHANGED"},
    /* Avro */
    {REG_AVRO, AREC("{\"name\":\"a\",\"type\":\"int\"}"),
     AREC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\",\"default\":0}"), 1,
     1, "field with a default"},
    {REG_AVRO, AREC("{\"name\":\"a\",\"type\":\"int\"}"),
     AREC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\"}"), 0, 1,
     "field without a default"},
    {REG_AVRO, AREC("{\"name\":\"a\",\"type\":\"int\"}"),
     AREC("{\"name\":\"a\",\"type\":\"long\"}"), 1, 0, "int promoted to long"},
    /* a change of type is never compatible */
    {REG_JSON, "{\"type\":\"string\"}", NULL, 0, 0, "schema type changed"},
};

static reg_schema *parse(reg_type type, const char *text)
{
    reg_schema *s = NULL;
    sluice_error err;
    if (reg_schema_parse(type, text, strlen(text), NULL, 0, &s, &err) != 0) {
        fprintf(stderr, "does not parse: %s\n  %s\n", err.msg, text);
        return NULL;
    }
    return s;
}

static void test_seven_levels(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct evolution *e = &rows[i];
        reg_schema *v1 = parse(e->type, e->v1);
        /* the last row: an AVRO v2 after a JSON v1 */
        reg_schema *v2 = e->v2 ? parse(e->type, e->v2) : parse(REG_AVRO, "\"string\"");
        CHECK(v1 && v2);
        const reg_schema *history[] = {v1};
        int64_t versions[] = {1};
        for (int level = 0; level < REG_N_LEVELS; level++) {
            int want = 1;
            if (level != REG_LEVEL_NONE) {
                int b = level == REG_LEVEL_BACKWARD || level == REG_LEVEL_BACKWARD_TRANSITIVE ||
                        level == REG_LEVEL_FULL || level == REG_LEVEL_FULL_TRANSITIVE;
                int f = level == REG_LEVEL_FORWARD || level == REG_LEVEL_FORWARD_TRANSITIVE ||
                        level == REG_LEVEL_FULL || level == REG_LEVEL_FULL_TRANSITIVE;
                want = (!b || e->backward) && (!f || e->forward);
            }
            char reason[2048];
            sluice_error err;
            int got = reg_check_level(level, v2, history, versions, 1, reason, sizeof reason, &err);
            if (got != want)
                fprintf(stderr, "row %zu (%s) at %s: got %d, want %d: %s\n", i, e->rule,
                        reg_level_name(level), got, want, reason);
            CHECK_EQ(got, want);
            if (!got) {
                /* the reason names the level, the version and the direction */
                CHECK_CONTAINS(reason, reg_level_name(level));
                CHECK_CONTAINS(reason, "version 1");
            }
        }
        reg_schema_free(v1);
        reg_schema_free(v2);
    }
}

/* v1 → v2 → v3 where v3 fits v2 but not v1: only transitive levels see v1. */
static void test_transitive_history(void)
{
    reg_schema *v1 = parse(REG_PROTOBUF, P3("message M { int32 a = 1; }"));
    reg_schema *v2 = parse(REG_PROTOBUF, P3("message M { }"));
    reg_schema *v3 = parse(REG_PROTOBUF, P3("message M { string a = 1; }"));
    CHECK(v1 && v2 && v3);
    const reg_schema *history[] = {v1, v2};
    int64_t versions[] = {1, 2};
    char reason[2048];
    static const int levels[] = {REG_LEVEL_BACKWARD, REG_LEVEL_FORWARD, REG_LEVEL_FULL};
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ(reg_check_level(levels[i], v3, history, versions, 2, reason, sizeof reason, NULL),
                 1);
        int t = reg_level_to_transitive(levels[i]);
        CHECK_EQ(reg_check_level(t, v3, history, versions, 2, reason, sizeof reason, NULL), 0);
        CHECK_CONTAINS(reason, "version 1");
        CHECK_CONTAINS(reason, "FIELD_SCALAR_KIND_CHANGED at #/M/1");
    }
    CHECK_EQ(reg_level_first_checked(REG_LEVEL_BACKWARD, 2), 1);
    CHECK_EQ(reg_level_first_checked(REG_LEVEL_FULL_TRANSITIVE, 2), 0);
    CHECK_EQ(reg_level_first_checked(REG_LEVEL_NONE, 2), 2);
    reg_schema_free(v1);
    reg_schema_free(v2);
    reg_schema_free(v3);

    /* the same for JSON Schema: a closed model that v2 opened */
    reg_schema *j1 = parse(REG_JSON, JCLOSED("\"a\":{\"type\":\"string\"}"));
    reg_schema *j2 = parse(REG_JSON, JCLOSED("\"a\":{\"type\":\"string\"},\"b\":{}"));
    reg_schema *j3 = parse(REG_JSON, JCLOSED("\"b\":{}"));
    CHECK(j1 && j2 && j3);
    const reg_schema *jh[] = {j1, j2};
    CHECK_EQ(reg_check_level(REG_LEVEL_FORWARD, j3, jh, versions, 2, reason, sizeof reason, NULL),
             1);
    CHECK_EQ(reg_check_level(REG_LEVEL_FORWARD_TRANSITIVE, j3, jh, versions, 2, reason,
                             sizeof reason, NULL),
             0);
    CHECK_CONTAINS(reason, "version 1 cannot read data written with the new schema");
    reg_schema_free(j1);
    reg_schema_free(j2);
    reg_schema_free(j3);
}

static void test_level_names(void)
{
    CHECK_EQ(reg_level_parse("full_transitive"), REG_LEVEL_FULL_TRANSITIVE);
    CHECK_EQ(reg_level_parse("Backward"), REG_LEVEL_BACKWARD);
    CHECK_EQ(reg_level_parse("SOMETIMES"), -1);
    CHECK_STR(reg_level_name(REG_LEVEL_FORWARD_TRANSITIVE), "FORWARD_TRANSITIVE");
    reg_type t;
    CHECK_EQ(reg_type_parse("PROTOBUF", &t), 0);
    CHECK_EQ(t, REG_PROTOBUF);
    CHECK_EQ(reg_type_parse(NULL, &t), 0);
    CHECK_EQ(t, REG_AVRO);
    CHECK_EQ(reg_type_parse("protobuf", &t), -1); /* Confluent's names are upper case */
}

TEST_MAIN(T(test_seven_levels), T(test_transitive_history), T(test_level_names))
