/*
 * proto_compat_rules.h — the table of Confluent's Protobuf compatibility
 * rules the tests share: one row per difference kind of Confluent's
 * protobuf.diff package (and the wire-compatible scalar groups), with the
 * verdict in both directions. test_proto_compat.c checks each row's reason
 * and both verdicts; test_registry_compat.c runs every row under all seven
 * levels (BACKWARD asks `expect`, FORWARD asks `reverse`).
 */
#ifndef SLUICE_TEST_PROTO_COMPAT_RULES_H
#define SLUICE_TEST_PROTO_COMPAT_RULES_H

#include <stddef.h>

struct proto_compat_case {
    const char *original, *update;
    const char *expect; /* compatible(original, update): NULL yes, else a piece of the reason */
    int reverse;        /* compatible(update, original): 1 yes, 0 no */
};

#define P3(body) "syntax = \"proto3\";\npackage t;\n" body
#define P2(body) "syntax = \"proto2\";\npackage t;\n" body

static const struct proto_compat_case proto_rules[] = {
    /* identical */
    {P3("message M { int32 a = 1; }"), P3("message M { int32 a = 1; }"), NULL, 1},
    /* PACKAGE_CHANGED */
    {P3("message M { int32 a = 1; }"), "syntax = \"proto3\"; package u; message M { int32 a = 1; }",
     "PACKAGE_CHANGED at #/: the package changed from 't' to 'u'", 0},
    /* MESSAGE_ADDED, MESSAGE_REMOVED, MESSAGE_MOVED */
    {P3("message M { int32 a = 1; }"), P3("message M { int32 a = 1; } message N {}"), NULL, 0},
    {P3("message M { int32 a = 1; } message N {}"), P3("message M { int32 a = 1; }"),
     "MESSAGE_REMOVED at #/N: message t.N removed", 1},
    {P3("message M { int32 a = 1; } message N {}"), P3("message N {} message M { int32 a = 1; }"),
     NULL, 1},
    /* nested message removed */
    {P3("message M { message In {} In i = 1; }"), P3("message M { }"), "MESSAGE_REMOVED at #/M/In",
     1},
    /* ENUM_ADDED, ENUM_REMOVED, ENUM_CONST_ADDED/CHANGED/REMOVED: all compatible */
    {P3("message M {}"), P3("message M {} enum E { Z = 0; }"), NULL, 1},
    {P3("message M {} enum E { Z = 0; }"), P3("message M {}"), NULL, 1},
    {P3("enum E { Z = 0; } message M { E e = 1; }"),
     P3("enum E { Z = 0; O = 1; } message M { E e = 1; }"), NULL, 1},
    {P3("enum E { Z = 0; O = 1; } message M { E e = 1; }"),
     P3("enum E { Z = 0; ONE = 1; } message M { E e = 1; }"), NULL, 1},
    {P3("enum E { Z = 0; O = 1; } message M { E e = 1; }"),
     P3("enum E { Z = 0; } message M { E e = 1; }"), NULL, 1},
    /* FIELD_ADDED, FIELD_REMOVED, FIELD_NAME_CHANGED */
    {P3("message M { int32 a = 1; }"), P3("message M { int32 a = 1; string b = 2; }"), NULL, 1},
    {P3("message M { int32 a = 1; string b = 2; }"), P3("message M { int32 a = 1; }"), NULL, 1},
    {P3("message M { int32 a = 1; }"), P3("message M { int32 renamed = 1; }"), NULL, 1},
    /* FIELD_KIND_CHANGED */
    {P3("message M { int32 a = 1; }"), P3("message M { N a = 1; } message N {}"),
     "FIELD_KIND_CHANGED at #/M/1: the field changed from a scalar to a message", 0},
    {P3("message M { N a = 1; } message N {}"),
     P3("message M { map<string, int32> a = 1; } message N {}"),
     "FIELD_KIND_CHANGED at #/M/1: the field changed from a message to a map", 0},
    /* FIELD_SCALAR_KIND_CHANGED, and the wire-compatible groups */
    {P3("message M { int32 a = 1; }"), P3("message M { string a = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED at #/M/1: the field changed from int32 to string, which is not "
     "wire-compatible",
     0},
    {P3("message M { int64 a = 1; }"), P3("message M { sint64 a = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED at #/M/1", 0},
    {P3("message M { float a = 1; }"), P3("message M { double a = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED", 0},
    {P3("message M { fixed32 a = 1; }"), P3("message M { fixed64 a = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED", 0},
    {P3("message M { fixed32 a = 1; }"), P3("message M { int32 a = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED", 0},
    {P3("message M { int32 a = 1; }"), P3("message M { uint64 a = 1; }"), NULL, 1},
    {P3("message M { int32 a = 1; }"), P3("message M { bool a = 1; }"), NULL, 1},
    {P3("enum E { Z = 0; } message M { int32 a = 1; }"),
     P3("enum E { Z = 0; } message M { E a = 1; }"), NULL, 1},
    {P3("message M { sint32 a = 1; }"), P3("message M { sint64 a = 1; }"), NULL, 1},
    {P3("message M { fixed64 a = 1; }"), P3("message M { sfixed64 a = 1; }"), NULL, 1},
    {P3("message M { string a = 1; }"), P3("message M { bytes a = 1; }"), NULL, 1},
    /* FIELD_NAMED_TYPE_CHANGED: another type, or the same type changed */
    {P3("message M { A f = 1; } message A {} message B {}"),
     P3("message M { B f = 1; } message A {} message B {}"),
     "FIELD_NAMED_TYPE_CHANGED at #/M/1: the field's message type changed from t.A to t.B", 0},
    /* FIELD_NUMERIC_LABEL_CHANGED (labels written on both sides: proto2) */
    {P2("message M { optional int32 a = 1; }"), P2("message M { repeated int32 a = 1; }"),
     "FIELD_NUMERIC_LABEL_CHANGED at #/M/1: the numeric field changed from optional to repeated",
     0},
    /* FIELD_STRING_OR_BYTES_LABEL_CHANGED is compatible */
    {P2("message M { optional string a = 1; }"), P2("message M { repeated string a = 1; }"), NULL,
     1},
    /* proto3 without a written label on one side: labels are not compared */
    {P3("message M { int32 a = 1; }"), P3("message M { repeated int32 a = 1; }"), NULL, 1},
    {P3("message M { optional int32 a = 1; }"), P3("message M { repeated int32 a = 1; }"),
     "FIELD_NUMERIC_LABEL_CHANGED", 0},
    /* REQUIRED_FIELD_ADDED, REQUIRED_FIELD_REMOVED */
    {P2("message M { optional int32 a = 1; }"),
     P2("message M { optional int32 a = 1; required int32 b = 2; }"),
     "REQUIRED_FIELD_ADDED at #/M/2: required field 2 (b) was added", 0},
    {P2("message M { optional int32 a = 1; required int32 b = 2; }"),
     P2("message M { optional int32 a = 1; }"),
     "REQUIRED_FIELD_REMOVED at #/M/2: required field 2 (b) was removed", 0},
    /* ONEOF_ADDED, ONEOF_REMOVED, ONEOF_FIELD_ADDED: compatible */
    {P3("message M { int32 a = 1; }"), P3("message M { int32 a = 1; oneof o { int32 b = 2; } }"),
     NULL, 1},
    {P3("message M { int32 a = 1; oneof o { int32 b = 2; } }"), P3("message M { int32 a = 1; }"),
     NULL, 1},
    {P3("message M { oneof o { int32 a = 1; } }"),
     P3("message M { oneof o { int32 a = 1; string b = 2; } }"), NULL, 0},
    /* ONEOF_FIELD_REMOVED */
    {P3("message M { oneof o { int32 a = 1; string b = 2; } }"),
     P3("message M { oneof o { int32 a = 1; } }"),
     "ONEOF_FIELD_REMOVED at #/M/o/2: field 2 (b) removed from the oneof", 1},
    /* a field moved out of its oneof is relocated, not removed */
    {P3("message M { oneof o { int32 a = 1; string b = 2; } }"),
     P3("message M { oneof o { int32 a = 1; } string b = 2; }"), NULL, 0},
    /* one field moved into a new oneof: compatible */
    {P3("message M { int32 a = 1; string b = 2; }"),
     P3("message M { oneof o { int32 a = 1; } string b = 2; }"), NULL, 1},
    /* MULTIPLE_FIELDS_MOVED_TO_ONEOF */
    {P3("message M { int32 a = 1; string b = 2; }"),
     P3("message M { oneof o { int32 a = 1; string b = 2; } }"),
     "MULTIPLE_FIELDS_MOVED_TO_ONEOF at #/M/o: 2 existing fields were moved into oneof o", 1},
    /* FIELD_MOVED_TO_EXISTING_ONEOF */
    {P3("message M { int32 a = 1; oneof o { string b = 2; } }"),
     P3("message M { oneof o { int32 a = 1; string b = 2; } }"),
     "FIELD_MOVED_TO_EXISTING_ONEOF at #/M/o", 1},
    /* a field moved into a oneof keeps its type checked */
    {P3("message M { int32 a = 1; }"), P3("message M { oneof o { string a = 1; } }"),
     "FIELD_SCALAR_KIND_CHANGED at #/M/1", 0},
    /* maps: key and value compared as scalars/messages */
    {P3("message M { map<string, int32> m = 1; }"), P3("message M { map<string, int64> m = 1; }"),
     NULL, 1},
    {P3("message M { map<string, int32> m = 1; }"), P3("message M { map<string, string> m = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED at #/M/1: the field changed from int32 to string", 0},
    /* nested changes are found where they are */
    {P3("message M { message In { int32 x = 1; } In i = 1; }"),
     P3("message M { message In { string x = 1; } In i = 1; }"),
     "FIELD_SCALAR_KIND_CHANGED at #/M/In/1", 0},
    /* recursive messages terminate */
    {P3("message Node { int32 v = 1; Node next = 2; }"),
     P3("message Node { int32 v = 1; Node next = 2; string s = 3; }"), NULL, 1},
    {P3("message Node { int32 v = 1; Node next = 2; }"),
     P3("message Node { string v = 1; Node next = 2; }"), "FIELD_SCALAR_KIND_CHANGED at #/Node/1",
     0},
};

#endif
