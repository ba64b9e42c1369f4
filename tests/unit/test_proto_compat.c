/*
 * test_proto_compat.c — proto_schema_compatible (src/codec/proto_compat.c):
 * Confluent Schema Registry's Protobuf rules, one table row per difference
 * kind of its diff package, compatible and incompatible, plus the
 * wire-compatible scalar groups, maps, recursive messages and types that
 * come from references.
 *
 * The rows are in proto_compat_rules.h: (original, update, expected,
 * reverse) — expected NULL means compatible, otherwise a piece of the
 * reason (the difference kind and its path); reverse is the verdict with
 * the two swapped. The registry asks BACKWARD as (original = old, update =
 * new) and FORWARD the other way; the seven levels over these rows are in
 * test_registry_compat.c.
 */
#include "codec/proto_compat.h"

#include "test.h"

#include "proto_compat_rules.h"

static proto_schema *parse(const char *text, const proto_source *deps, size_t n)
{
    proto_schema *s = NULL;
    sluice_error err;
    if (proto_schema_parse(text, strlen(text), NULL, deps, n, &s, &err) != 0) {
        fprintf(stderr, "does not parse: %s\n  %s\n", err.msg, text);
        return NULL;
    }
    return s;
}

static void test_rules_table(void)
{
    const struct proto_compat_case *rules = proto_rules;
    for (size_t i = 0; i < sizeof proto_rules / sizeof proto_rules[0]; i++) {
        proto_schema *o = parse(rules[i].original, NULL, 0);
        proto_schema *u = parse(rules[i].update, NULL, 0);
        CHECK(o && u);
        char reason[1024];
        sluice_error err;
        int rc = proto_schema_compatible(o, u, reason, sizeof reason, &err);
        if (rc != (rules[i].expect == NULL) ||
            (rules[i].expect && !strstr(reason, rules[i].expect)))
            fprintf(stderr, "row %zu: rc %d, reason \"%s\", expected %s\n", i, rc, reason,
                    rules[i].expect ? rules[i].expect : "compatible");
        CHECK_EQ(rc, rules[i].expect == NULL);
        if (rules[i].expect) CHECK_CONTAINS(reason, rules[i].expect);
        /* and the other way round */
        rc = proto_schema_compatible(u, o, reason, sizeof reason, &err);
        if (rc != rules[i].reverse)
            fprintf(stderr, "row %zu reversed: rc %d, reason \"%s\"\n", i, rc, reason);
        CHECK_EQ(rc, rules[i].reverse);
        proto_schema_free(o);
        proto_schema_free(u);
    }
}

/* Types from references: the same subject version is not compared again;
 * another version of the reference is, and an incompatible change there
 * makes the field incompatible. */
static void test_referenced_types(void)
{
    const char *money1 = "syntax = \"proto3\"; package c; message Money { int64 units = 1; }";
    const char *money2 = "syntax = \"proto3\"; package c; message Money { string units = 1; }";
    const char *root = P3("import \"money.proto\"; message Price { c.Money amount = 1; }");
    proto_source v1[] = {{"money.proto", money1, strlen(money1), "money", 1}};
    proto_source v2[] = {{"money.proto", money2, strlen(money2), "money", 2}};
    proto_source v2_as_v1[] = {{"money.proto", money2, strlen(money2), "money", 1}};
    proto_schema *a = parse(root, v1, 1), *b = parse(root, v2, 1), *c = parse(root, v2_as_v1, 1);
    CHECK(a && b && c);
    char reason[1024];
    CHECK_EQ(proto_schema_compatible(a, b, reason, sizeof reason, NULL), 0);
    CHECK_CONTAINS(reason, "FIELD_SCALAR_KIND_CHANGED at #/Money/1");
    CHECK_CONTAINS(reason, "FIELD_NAMED_TYPE_CHANGED at #/Price/1: message type Money changed "
                           "incompatibly");
    /* Same subject and version: Confluent trusts it without comparing. */
    CHECK_EQ(proto_schema_compatible(a, c, reason, sizeof reason, NULL), 1);
    proto_schema_free(a);
    proto_schema_free(b);
    proto_schema_free(c);
}

/* Well-known types resolve on both sides and compare equal. */
static void test_well_known_types(void)
{
    proto_schema *a = parse(P3("import \"google/protobuf/timestamp.proto\"; message E { "
                               "google.protobuf.Timestamp at = 1; }"),
                            NULL, 0);
    proto_schema *b = parse(P3("import \"google/protobuf/timestamp.proto\"; message E { "
                               "google.protobuf.Timestamp at = 1; string s = 2; }"),
                            NULL, 0);
    proto_schema *c = parse(P3("import \"google/protobuf/duration.proto\"; message E { "
                               "google.protobuf.Duration at = 1; }"),
                            NULL, 0);
    CHECK(a && b && c);
    char reason[512];
    CHECK_EQ(proto_schema_compatible(a, b, reason, sizeof reason, NULL), 1);
    CHECK_EQ(proto_schema_compatible(b, a, reason, sizeof reason, NULL), 1);
    CHECK_EQ(proto_schema_compatible(a, c, reason, sizeof reason, NULL), 0);
    CHECK_CONTAINS(reason, "FIELD_NAMED_TYPE_CHANGED at #/E/1: the field's message type changed "
                           "from google.protobuf.Timestamp to google.protobuf.Duration");
    proto_schema_free(a);
    proto_schema_free(b);
    proto_schema_free(c);
}

/* Many incompatibilities: the reason lists the first few, bounded. */
static void test_reason_is_bounded(void)
{
    char o[4096] = P3("message M {"), u[4096] = P3("message M {");
    for (int i = 1; i <= 40; i++) {
        char f[64];
        snprintf(f, sizeof f, " int32 f%d = %d;", i, i);
        strcat(o, f);
        snprintf(f, sizeof f, " string f%d = %d;", i, i);
        strcat(u, f);
    }
    strcat(o, "}");
    strcat(u, "}");
    proto_schema *a = parse(o, NULL, 0), *b = parse(u, NULL, 0);
    CHECK(a && b);
    char reason[300];
    CHECK_EQ(proto_schema_compatible(a, b, reason, sizeof reason, NULL), 0);
    CHECK(strlen(reason) < sizeof reason);
    CHECK_CONTAINS(reason, "FIELD_SCALAR_KIND_CHANGED at #/M/1");
    proto_schema_free(a);
    proto_schema_free(b);
}

TEST_MAIN(T(test_rules_table), T(test_referenced_types), T(test_well_known_types),
          T(test_reason_is_bounded))
