/*
 * test_proto_compat.c — proto_schema_compatible (src/codec/proto_compat.c):
 * Confluent Schema Registry's Protobuf rules, one table row per difference
 * kind of its diff package, compatible and incompatible, plus the
 * wire-compatible scalar groups, maps, recursive messages and types that
 * come from references.
 *
 * A row is (original, update, expected): NULL means compatible, otherwise a
 * piece of the reason (the difference kind and its path). The registry asks
 * BACKWARD as (original = old, update = new) and FORWARD the other way;
 * the seven levels over these rows are in test_registry_compat.c.
 */
#include "codec/proto_compat.h"

#include "test.h"

struct compat_case {
    const char *original, *update, *expect;
};

#define P3(body) "syntax = \"proto3\";\npackage t;\n" body
#define P2(body) "syntax = \"proto2\";\npackage t;\n" body

static const struct compat_case rules[] = {
    /* identical */
    {P3("message M { int32 a = 1; }"), P3("message M { int32 a = 1; }"), NULL},
    /* PACKAGE_CHANGED */
    {P3("message M { int32 a = 1; }"), "syntax = \"proto3\"; package u; message M { int32 a = 1; }",
     "PACKAGE_CHANGED at #/: the package changed from 't' to 'u'"},
    /* MESSAGE_ADDED, MESSAGE_REMOVED, MESSAGE_MOVED */
    {P3("message M { int32 a = 1; }"), P3("message M { int32 a = 1; } message N {}"), NULL},
    {P3("message M { int32 a = 1; } message N {}"), P3("message M { int32 a = 1; }"),
     "MESSAGE_REMOVED at #/N: message t.N removed"},
    {P3("message M { int32 a = 1; } message N {}"), P3("message N {} message M { int32 a = 1; }"),
     NULL},
    /* nested message removed */
    {P3("message M { message In {} In i = 1; }"), P3("message M { }"), "MESSAGE_REMOVED at #/M/In"},
    /* ENUM_ADDED, ENUM_REMOVED, ENUM_CONST_ADDED/CHANGED/REMOVED: all compatible */
    {P3("message M {}"), P3("message M {} enum E { Z = 0; }"), NULL},
    {P3("message M {} enum E { Z = 0; }"), P3("message M {}"), NULL},
    {P3("enum E { Z = 0; } message M { E e = 1; }"),
     P3("enum E { Z = 0; O = 1; } message M { E e = 1; }"), NULL},
    {P3("enum E { Z = 0; O = 1; } message M { E e = 1; }"),
     P3("enum E { Z = 0; ONE = 1; } message M { E e = 1; }"), NULL},
    {P3("enum E { Z = 0; O = 1; } message M { E e = 1; }"),
     P3("enum E { Z = 0; } message M { E e = 1; }"), NULL},
    /* FIELD_ADDED, FIELD_REMOVED, FIELD_NAME_CHANGED */
    {P3("message M { int32 a = 1; }"), P3("message M { int32 a = 1; string b = 2; }"), NULL},
    {P3("message M { int32 a = 1; string b = 2; }"), P3("message M { int32 a = 1; }"), NULL},
    {P3("message M { int32 a = 1; }"), P3("message M { int32 renamed = 1; }"), NULL},
    /* FIELD_KIND_CHANGED */
    {P3("message M { int32 a = 1; }"), P3("message M { N a = 1; } message N {}"),
     "FIELD_KIND_CHANGED at #/M/1: the field changed from a scalar to a message"},
    {P3("message M { N a = 1; } message N {}"),
     P3("message M { map<string, int32> a = 1; } message N {}"),
     "FIELD_KIND_CHANGED at #/M/1: the field changed from a message to a map"},
    /* FIELD_SCALAR_KIND_CHANGED, and the wire-compatible groups */
    {P3("message M { int32 a = 1; }"), P3("message M { string a = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED at #/M/1: the field changed from int32 to string, which is not "
     "wire-compatible"},
    {P3("message M { int64 a = 1; }"), P3("message M { sint64 a = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED at #/M/1"},
    {P3("message M { float a = 1; }"), P3("message M { double a = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED"},
    {P3("message M { fixed32 a = 1; }"), P3("message M { fixed64 a = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED"},
    {P3("message M { fixed32 a = 1; }"), P3("message M { int32 a = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED"},
    {P3("message M { int32 a = 1; }"), P3("message M { uint64 a = 1; }"), NULL},
    {P3("message M { int32 a = 1; }"), P3("message M { bool a = 1; }"), NULL},
    {P3("enum E { Z = 0; } message M { int32 a = 1; }"),
     P3("enum E { Z = 0; } message M { E a = 1; }"), NULL},
    {P3("message M { sint32 a = 1; }"), P3("message M { sint64 a = 1; }"), NULL},
    {P3("message M { fixed64 a = 1; }"), P3("message M { sfixed64 a = 1; }"), NULL},
    {P3("message M { string a = 1; }"), P3("message M { bytes a = 1; }"), NULL},
    /* FIELD_NAMED_TYPE_CHANGED: another type, or the same type changed */
    {P3("message M { A f = 1; } message A {} message B {}"),
     P3("message M { B f = 1; } message A {} message B {}"),
     "FIELD_NAMED_TYPE_CHANGED at #/M/1: the field's message type changed from t.A to t.B"},
    /* FIELD_NUMERIC_LABEL_CHANGED (labels written on both sides: proto2) */
    {P2("message M { optional int32 a = 1; }"), P2("message M { repeated int32 a = 1; }"),
     "FIELD_NUMERIC_LABEL_CHANGED at #/M/1: the numeric field changed from optional to repeated"},
    /* FIELD_STRING_OR_BYTES_LABEL_CHANGED is compatible */
    {P2("message M { optional string a = 1; }"), P2("message M { repeated string a = 1; }"), NULL},
    /* proto3 without a written label on one side: labels are not compared */
    {P3("message M { int32 a = 1; }"), P3("message M { repeated int32 a = 1; }"), NULL},
    {P3("message M { optional int32 a = 1; }"), P3("message M { repeated int32 a = 1; }"),
     "FIELD_NUMERIC_LABEL_CHANGED"},
    /* REQUIRED_FIELD_ADDED, REQUIRED_FIELD_REMOVED */
    {P2("message M { optional int32 a = 1; }"),
     P2("message M { optional int32 a = 1; required int32 b = 2; }"),
     "REQUIRED_FIELD_ADDED at #/M/2: required field 2 (b) was added"},
    {P2("message M { optional int32 a = 1; required int32 b = 2; }"),
     P2("message M { optional int32 a = 1; }"),
     "REQUIRED_FIELD_REMOVED at #/M/2: required field 2 (b) was removed"},
    /* ONEOF_ADDED, ONEOF_REMOVED, ONEOF_FIELD_ADDED: compatible */
    {P3("message M { int32 a = 1; }"), P3("message M { int32 a = 1; oneof o { int32 b = 2; } }"),
     NULL},
    {P3("message M { int32 a = 1; oneof o { int32 b = 2; } }"), P3("message M { int32 a = 1; }"),
     NULL},
    {P3("message M { oneof o { int32 a = 1; } }"),
     P3("message M { oneof o { int32 a = 1; string b = 2; } }"), NULL},
    /* ONEOF_FIELD_REMOVED */
    {P3("message M { oneof o { int32 a = 1; string b = 2; } }"),
     P3("message M { oneof o { int32 a = 1; } }"),
     "ONEOF_FIELD_REMOVED at #/M/o/2: field 2 (b) removed from the oneof"},
    /* a field moved out of its oneof is relocated, not removed */
    {P3("message M { oneof o { int32 a = 1; string b = 2; } }"),
     P3("message M { oneof o { int32 a = 1; } string b = 2; }"), NULL},
    /* one field moved into a new oneof: compatible */
    {P3("message M { int32 a = 1; string b = 2; }"),
     P3("message M { oneof o { int32 a = 1; } string b = 2; }"), NULL},
    /* MULTIPLE_FIELDS_MOVED_TO_ONEOF */
    {P3("message M { int32 a = 1; string b = 2; }"),
     P3("message M { oneof o { int32 a = 1; string b = 2; } }"),
     "MULTIPLE_FIELDS_MOVED_TO_ONEOF at #/M/o: 2 existing fields were moved into oneof o"},
    /* FIELD_MOVED_TO_EXISTING_ONEOF */
    {P3("message M { int32 a = 1; oneof o { string b = 2; } }"),
     P3("message M { oneof o { int32 a = 1; string b = 2; } }"),
     "FIELD_MOVED_TO_EXISTING_ONEOF at #/M/o"},
    /* a field moved into a oneof keeps its type checked */
    {P3("message M { int32 a = 1; }"), P3("message M { oneof o { string a = 1; } }"),
     "FIELD_SCALAR_KIND_CHANGED at #/M/1"},
    /* maps: key and value compared as scalars/messages */
    {P3("message M { map<string, int32> m = 1; }"), P3("message M { map<string, int64> m = 1; }"),
     NULL},
    {P3("message M { map<string, int32> m = 1; }"), P3("message M { map<string, string> m = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED at #/M/1: the field changed from int32 to string"},
    /* nested changes are found where they are */
    {P3("message M { message In { int32 x = 1; } In i = 1; }"),
     P3("message M { message In { string x = 1; } In i = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED at #/M/In/1"},
    /* recursive messages terminate */
    {P3("message Node { int32 v = 1; Node next = 2; }"),
     P3("message Node { int32 v = 1; Node next = 2; string s = 3; }"), NULL},
    {P3("message Node { int32 v = 1; Node next = 2; }"),
     P3("message Node { string v = 1; Node next = 2; }"), "FIELD_SCALAR_KIND_CHANGED at #/Node/1"},
};

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
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
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
