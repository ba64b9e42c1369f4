/*
 * test_registry_compat.c — the seven compatibility levels (src/registry/
 * compat.c) over all three schema types, without HTTP.
 *
 * Every row of the shared rule tables (proto_compat_rules.h: one row per
 * Confluent Protobuf rule; json_schema_compat_rules.h: one per JSON Schema
 * rule) and a few Avro rows is an evolution v1 → v2 with two verdicts
 * written down: can v2 take what v1 accepted (backward) and the reverse
 * (forward). Every row runs under all seven levels and must give NONE →
 * yes, BACKWARD and BACKWARD_TRANSITIVE → backward, FORWARD(_TRANSITIVE) →
 * forward, FULL(_TRANSITIVE) → both, with the level, the version and the
 * rule in the reason. A three-version history then shows what only the
 * transitive levels see.
 */
#include "registry/compat.h"

#include "test.h"

#include "json_schema_compat_rules.h"
#include "proto_compat_rules.h"

struct evolution {
    reg_type type;
    const char *v1, *v2;
    int backward, forward;
    const char *rule; /* a piece of the reason when backward fails */
};

#define AREC(fields) "{\"type\":\"record\",\"name\":\"R\",\"fields\":[" fields "]}"

static const struct evolution avro_rows[] = {
    {REG_AVRO, AREC("{\"name\":\"a\",\"type\":\"int\"}"),
     AREC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\",\"default\":0}"), 1,
     1, NULL},
    {REG_AVRO, AREC("{\"name\":\"a\",\"type\":\"int\"}"),
     AREC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\"}"), 0, 1,
     "reader field 'b' has no default"},
    {REG_AVRO, AREC("{\"name\":\"a\",\"type\":\"int\"}"),
     AREC("{\"name\":\"a\",\"type\":\"long\"}"), 1, 0, NULL},
    /* a change of schema type is never compatible (v2 is AVRO "string") */
    {REG_JSON, "{\"type\":\"string\"}", NULL, 0, 0, "the schema type changed from JSON to AVRO"},
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

/* One evolution under all seven levels. */
static void check_levels(size_t row, const struct evolution *e)
{
    reg_schema *v1 = parse(e->type, e->v1);
    reg_schema *v2 = e->v2 ? parse(e->type, e->v2) : parse(REG_AVRO, "\"string\"");
    CHECK(v1 && v2);
    const reg_schema *history[] = {v1};
    int64_t versions[] = {1};
    for (int level = 0; level < REG_N_LEVELS; level++) {
        int b = level == REG_LEVEL_BACKWARD || level == REG_LEVEL_BACKWARD_TRANSITIVE ||
                level == REG_LEVEL_FULL || level == REG_LEVEL_FULL_TRANSITIVE;
        int f = level == REG_LEVEL_FORWARD || level == REG_LEVEL_FORWARD_TRANSITIVE ||
                level == REG_LEVEL_FULL || level == REG_LEVEL_FULL_TRANSITIVE;
        int want = (!b || e->backward) && (!f || e->forward);
        char reason[2048];
        sluice_error err;
        int got = reg_check_level(level, v2, history, versions, 1, reason, sizeof reason, &err);
        if (got != want)
            fprintf(stderr, "%s row %zu at %s: got %d, want %d: %s\n", reg_type_name(e->type), row,
                    reg_level_name(level), got, want, reason);
        CHECK_EQ(got, want);
        if (!got) {
            /* the reason names the level, the version and the direction */
            CHECK_CONTAINS(reason, reg_level_name(level));
            CHECK_CONTAINS(reason, "version 1");
            if (b && !e->backward) {
                CHECK_CONTAINS(reason, "the new schema cannot read data written with version 1");
                if (e->rule) CHECK_CONTAINS(reason, e->rule);
            } else {
                CHECK_CONTAINS(reason, "version 1 cannot read data written with the new schema");
            }
        }
    }
    reg_schema_free(v1);
    reg_schema_free(v2);
}

static void test_protobuf_rules_seven_levels(void)
{
    for (size_t i = 0; i < sizeof proto_rules / sizeof proto_rules[0]; i++) {
        const struct proto_compat_case *r = &proto_rules[i];
        struct evolution e = {REG_PROTOBUF,      r->original, r->update,
                              r->expect == NULL, r->reverse,  r->expect};
        check_levels(i, &e);
        if (test_failed_) return;
    }
}

static void test_json_rules_seven_levels(void)
{
    for (size_t i = 0; i < sizeof json_schema_rules / sizeof json_schema_rules[0]; i++) {
        const struct json_compat_case *r = &json_schema_rules[i];
        struct evolution e = {REG_JSON,          r->original, r->update,
                              r->expect == NULL, r->reverse,  r->expect};
        check_levels(i, &e);
        if (test_failed_) return;
    }
}

static void test_avro_and_type_change_seven_levels(void)
{
    for (size_t i = 0; i < sizeof avro_rows / sizeof avro_rows[0]; i++) {
        check_levels(i, &avro_rows[i]);
        if (test_failed_) return;
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
    reg_schema *j1 = parse(REG_JSON, CLOSED("\"a\":{\"type\":\"string\"}"));
    reg_schema *j2 = parse(REG_JSON, CLOSED("\"a\":{\"type\":\"string\"},\"b\":{}"));
    reg_schema *j3 = parse(REG_JSON, CLOSED("\"b\":{}"));
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

TEST_MAIN(T(test_protobuf_rules_seven_levels), T(test_json_rules_seven_levels),
          T(test_avro_and_type_change_seven_levels), T(test_transitive_history),
          T(test_level_names))
