/*
 * test_proto_schema.c — the Protobuf schema parser (src/codec/proto_schema.cc)
 * as C code sees it: the model of proto3 and proto2 files (nested types,
 * enums, oneofs, maps, packed and unpacked repeated fields, proto3
 * `optional`, defaults), imports through caller-supplied dependencies and
 * through libprotobuf's built-in well-known types, the base64
 * FileDescriptorProto form (a vector Debian's protoc 3.21 wrote from the
 * same .proto, so it is an outside check of the decoding), the canonical
 * text both forms normalise to, message-index paths, and errors that name
 * file, line and column.
 */
#include "codec/proto_schema.h"

#include "test.h"

static const char *ORDER = "syntax = \"proto3\";\n"
                           "package shop;\n"
                           "import \"google/protobuf/timestamp.proto\";\n"
                           "message Order {\n"
                           "  int64 id = 1;\n"
                           "  google.protobuf.Timestamp at = 2;\n"
                           "  message Line { string sku = 1; int32 qty = 2; }\n"
                           "  repeated Line lines = 3;\n"
                           "  enum State { NEW = 0; PAID = 1; }\n"
                           "  State state = 4;\n"
                           "}\n";

/* protoc 3.21.12 -o order.pb order.proto (ORDER above), file[0], base64. */
static const char *ORDER_B64 =
    "CgtvcmRlci5wcm90bxIEc2hvcBofZ29vZ2xlL3Byb3RvYnVmL3RpbWVzdGFtcC5wcm90byLcAQoFT3JkZXISDgoCaWQY"
    "ASABKANSAmlkEioKAmF0GAIgASgLMhouZ29vZ2xlLnByb3RvYnVmLlRpbWVzdGFtcFICYXQSJgoFbGluZXMYAyADKAsy"
    "EC5zaG9wLk9yZGVyLkxpbmVSBWxpbmVzEicKBXN0YXRlGAQgASgOMhEuc2hvcC5PcmRlci5TdGF0ZVIFc3RhdGUaKgoE"
    "TGluZRIQCgNza3UYASABKAlSA3NrdRIQCgNxdHkYAiABKAVSA3F0eSIaCgVTdGF0ZRIHCgNORVcQABIICgRQQUlEEAFi"
    "BnByb3RvMw==";

static const proto_field *field(const proto_message *m, const char *name)
{
    for (size_t i = 0; i < m->n_fields; i++)
        if (strcmp(m->fields[i].name, name) == 0) return &m->fields[i];
    return NULL;
}

static proto_schema *parse(const char *text, const proto_source *deps, size_t n, sluice_error *err)
{
    proto_schema *s = NULL;
    if (proto_schema_parse(text, strlen(text), NULL, deps, n, &s, err) != 0) return NULL;
    return s;
}

static void test_proto3_model(void)
{
    sluice_error err;
    proto_schema *s = parse(ORDER, NULL, 0, &err);
    if (!s) fprintf(stderr, "%s\n", err.msg);
    CHECK(s);
    const proto_file *f = proto_schema_root(s);
    CHECK_STR(f->name, "schema.proto");
    CHECK_STR(f->package, "shop");
    CHECK_STR(f->syntax, "proto3");
    CHECK_EQ(f->n_messages, 1);
    CHECK_EQ(f->n_deps, 1);
    CHECK_STR(f->deps[0]->name, "google/protobuf/timestamp.proto");
    CHECK(f->deps[0]->builtin); /* nobody supplied it: libprotobuf's own copy */
    CHECK(f->deps[0]->ref_subject == NULL);

    const proto_message *order = &f->messages[0];
    CHECK_STR(order->full_name, "shop.Order");
    CHECK_EQ(order->n_fields, 4);
    CHECK_EQ(order->n_nested, 1);
    CHECK_EQ(order->n_enums, 1);
    const proto_field *id = field(order, "id"), *at = field(order, "at"),
                      *lines = field(order, "lines"), *state = field(order, "state");
    CHECK(id && at && lines && state);
    CHECK_EQ(id->number, 1);
    CHECK_EQ(id->type, PROTO_INT64);
    CHECK_EQ(proto_type_wire(id->type), PROTO_WIRE_VARINT);
    CHECK(!id->label_declared);
    CHECK(!id->has_presence); /* proto3 scalar without `optional` */
    CHECK_EQ(at->type, PROTO_MESSAGE);
    CHECK(at->has_presence);
    CHECK(at->message == proto_schema_find_message(s, "google.protobuf.Timestamp"));
    CHECK_STR(at->message->file->name, "google/protobuf/timestamp.proto");
    CHECK_EQ(at->message->n_fields, 2);
    CHECK_STR(at->message->fields[0].name, "seconds");
    CHECK_EQ(lines->label, PROTO_REPEATED);
    CHECK(lines->label_declared);
    CHECK(!lines->packed); /* messages are never packed */
    CHECK(lines->message == &order->nested[0]);
    CHECK_STR(lines->message->full_name, "shop.Order.Line");
    CHECK_EQ(state->type, PROTO_ENUM);
    CHECK(state->enum_type == &order->enums[0]);
    CHECK_EQ(state->enum_type->n_values, 2);
    CHECK_STR(state->enum_type->values[1].name, "PAID");
    CHECK_EQ(state->enum_type->values[1].number, 1);
    CHECK(!state->enum_type->closed);

    /* Message-index paths: [] and [0] are Order, [0,0] is Order.Line. */
    CHECK(proto_schema_message_at(s, NULL, 0, &err) == order);
    int32_t path[] = {0, 0};
    CHECK(proto_schema_message_at(s, path, 2, &err) == &order->nested[0]);
    int32_t bad[] = {0, 3};
    CHECK(proto_schema_message_at(s, bad, 2, &err) == NULL);
    CHECK_CONTAINS(err.msg, "message index 3 at position 1: shop.Order has 1 messages there");
    proto_schema_free(s);
}

static void test_oneof_map_packed_optional(void)
{
    const char *text = "syntax = \"proto3\";\n"
                       "message M {\n"
                       "  oneof choice { string a = 1; int32 b = 2; }\n"
                       "  map<string, int64> counts = 3;\n"
                       "  repeated int32 packed_ints = 4;\n"
                       "  repeated int32 plain_ints = 5 [packed = false];\n"
                       "  optional string nick = 6;\n"
                       "  int32 user_id = 7;\n"
                       "}\n";
    sluice_error err;
    proto_schema *s = parse(text, NULL, 0, &err);
    if (!s) fprintf(stderr, "%s\n", err.msg);
    CHECK(s);
    const proto_message *m = &proto_schema_root(s)->messages[0];
    CHECK_EQ(m->n_oneofs, 1); /* nick's synthetic oneof is not listed */
    CHECK_STR(m->oneofs[0].name, "choice");
    CHECK_EQ(m->oneofs[0].n_fields, 2);
    CHECK_STR(m->oneofs[0].fields[1]->name, "b");
    CHECK_EQ(field(m, "a")->oneof_index, 0);
    CHECK(field(m, "a")->has_presence);
    const proto_field *counts = field(m, "counts");
    CHECK_EQ(counts->label, PROTO_REPEATED);
    CHECK(!counts->label_declared);
    CHECK(counts->message && counts->message->map_entry);
    CHECK_EQ(counts->message->fields[0].type, PROTO_STRING);
    CHECK_EQ(counts->message->fields[1].type, PROTO_INT64);
    CHECK(field(m, "packed_ints")->packed);
    CHECK(!field(m, "plain_ints")->packed);
    const proto_field *nick = field(m, "nick");
    CHECK(nick->proto3_optional && nick->has_presence && nick->label_declared);
    CHECK_EQ(nick->oneof_index, -1);
    CHECK_STR(field(m, "user_id")->json_name, "userId");
    /* by_number is sorted */
    for (size_t i = 1; i < m->n_fields; i++)
        CHECK(m->by_number[i - 1]->number < m->by_number[i]->number);
    proto_schema_free(s);
}

static void test_proto2(void)
{
    const char *text = "syntax = \"proto2\";\n"
                       "package p2;\n"
                       "message Legacy {\n"
                       "  required int32 id = 1;\n"
                       "  optional string name = 2 [default = \"anon\"];\n"
                       "  repeated int32 unpacked = 3;\n"
                       "  repeated int32 packed = 4 [packed = true];\n"
                       "  enum Kind { A = 1; B = 2; }\n"
                       "  optional Kind kind = 5 [default = B];\n"
                       "}\n";
    sluice_error err;
    proto_schema *s = parse(text, NULL, 0, &err);
    if (!s) fprintf(stderr, "%s\n", err.msg);
    CHECK(s);
    const proto_message *m = &proto_schema_root(s)->messages[0];
    CHECK_STR(proto_schema_root(s)->syntax, "proto2");
    CHECK_EQ(field(m, "id")->label, PROTO_REQUIRED);
    CHECK(field(m, "id")->label_declared);
    CHECK_STR(field(m, "name")->default_value, "anon");
    CHECK(field(m, "name")->has_presence);
    CHECK(!field(m, "unpacked")->packed); /* proto2 default */
    CHECK(field(m, "packed")->packed);
    CHECK_STR(field(m, "kind")->default_value, "B");
    CHECK(field(m, "kind")->enum_type->closed);
    proto_schema_free(s);
}

static void test_base64_descriptor(void)
{
    sluice_error err;
    proto_schema *text = parse(ORDER, NULL, 0, &err);
    proto_schema *desc = parse(ORDER_B64, NULL, 0, &err);
    if (!desc) fprintf(stderr, "%s\n", err.msg);
    CHECK(text && desc);
    /* The descriptor keeps its own file name; both forms render alike. */
    CHECK_STR(proto_schema_root(desc)->name, "order.proto");
    CHECK_STR(proto_schema_canonical(desc), proto_schema_canonical(text));
    CHECK_CONTAINS(proto_schema_canonical(text), "message Order {");
    CHECK_CONTAINS(proto_schema_canonical(text), "import \"google/protobuf/timestamp.proto\";");
    const proto_message *m = proto_schema_find_message(desc, "shop.Order.Line");
    CHECK(m && m->n_fields == 2);
    /* The serialized form parses back to the same rendering. */
    proto_schema *again = parse(proto_schema_serialized_base64(text), NULL, 0, &err);
    CHECK(again);
    CHECK_STR(proto_schema_canonical(again), proto_schema_canonical(text));
    proto_schema_free(again);
    proto_schema_free(text);
    proto_schema_free(desc);
}

static void test_dependencies(void)
{
    const char *money = "syntax = \"proto3\"; package common; message Money { int64 units = 1; "
                        "string currency = 2; }";
    const char *root = "syntax = \"proto3\";\nimport \"common/money.proto\";\n"
                       "import \"google/protobuf/wrappers.proto\";\n"
                       "message Price { common.Money amount = 1; "
                       "google.protobuf.StringValue note = 2; }";
    proto_source deps[] = {{"common/money.proto", money, strlen(money), "money-value", 3}};
    sluice_error err;
    proto_schema *s = parse(root, deps, 1, &err);
    if (!s) fprintf(stderr, "%s\n", err.msg);
    CHECK(s);
    const proto_file *f = proto_schema_root(s);
    CHECK_EQ(f->n_deps, 2);
    CHECK_STR(f->deps[0]->ref_subject, "money-value");
    CHECK_EQ(f->deps[0]->ref_version, 3);
    CHECK(!f->deps[0]->builtin);
    CHECK(f->deps[1]->builtin);
    const proto_field *amount = &f->messages[0].fields[0];
    CHECK_STR(amount->message->full_name, "common.Money");
    CHECK_STR(f->messages[0].fields[1].message->full_name, "google.protobuf.StringValue");
    proto_schema_free(s);

    /* A supplied file wins over the built-in one of the same name. */
    const char *fake_ts = "syntax = \"proto3\"; package google.protobuf; message Timestamp { "
                          "int64 seconds = 1; }";
    proto_source ts[] = {
        {"google/protobuf/timestamp.proto", fake_ts, strlen(fake_ts), "google/protobuf/ts", 1}};
    s = parse(ORDER, ts, 1, &err);
    CHECK(s);
    const proto_message *t = proto_schema_find_message(s, "google.protobuf.Timestamp");
    CHECK(t && t->n_fields == 1 && !t->file->builtin);
    CHECK_STR(t->file->ref_subject, "google/protobuf/ts");
    proto_schema_free(s);
}

struct error_case {
    const char *text;
    const char *expect;
};

static void test_errors_name_the_place(void)
{
    static const struct error_case cases[] = {
        {"syntax = \"proto3\";\nmessage M {\n  int32 a = 1\n}\n",
         "schema.proto:4:1: Expected \";\"."},
        {"syntax = \"proto3\";\nmessage M {\n  Missing a = 1;\n}\n",
         "schema.proto:3:3: \"Missing\" is not defined."},
        {"syntax = \"proto3\";\nmessage M {\n  int32 a = 1;\n  int32 b = 1;\n}\n",
         "schema.proto:4:13: Field number 1 has already been used in \"M\" by field \"a\"."},
        {"syntax = \"proto3\";\nimport \"nowhere.proto\";\nmessage M {}\n",
         "schema.proto:2:1: import \"nowhere.proto\" not found: no reference has that name"},
        {"syntax = \"proto4\";", "schema.proto:1:10: Unrecognized syntax identifier \"proto4\""},
        {"syntax = \"proto3\";\nenum E { A = 1; }\n",
         "schema.proto:2:14: The first enum value must be zero in proto3."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sluice_error err;
        proto_schema *s = parse(cases[i].text, NULL, 0, &err);
        CHECK(s == NULL);
        CHECK_EQ(err.code, SLUICE_EINVAL);
        CHECK_CONTAINS(err.msg, cases[i].expect);
    }
}

static void test_import_errors(void)
{
    const char *a = "syntax = \"proto3\"; import \"b.proto\"; message A {}";
    const char *b = "syntax = \"proto3\"; import \"a.proto\"; message B {}";
    const char *broken = "syntax = \"proto3\";\nmessage X { int32 = 1; }";
    const char *root = "syntax = \"proto3\"; import \"a.proto\"; message R {}";
    proto_source deps[] = {{"a.proto", a, strlen(a), NULL, 0}, {"b.proto", b, strlen(b), NULL, 0}};
    sluice_error err;
    CHECK(parse(root, deps, 2, &err) == NULL);
    CHECK_CONTAINS(err.msg, "import cycle: a.proto -> b.proto -> a.proto");
    proto_source bad[] = {{"x.proto", broken, strlen(broken), "x-value", 1}};
    CHECK(parse("syntax = \"proto3\"; import \"x.proto\";", bad, 1, &err) == NULL);
    CHECK_CONTAINS(err.msg,
                   "import \"x.proto\" of schema.proto: x.proto:2:19: Expected field name.");
}

static void test_bounds_and_garbage(void)
{
    /* Nesting deeper than the parser's recursion should see is refused. */
    char deep[8192];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof deep - n, "syntax = \"proto3\";\n");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n, "message M%d {", i);
    for (int i = 0; i < 100; i++)
        deep[n++] = '}';
    deep[n] = '\0';
    sluice_error err;
    CHECK(parse(deep, NULL, 0, &err) == NULL);
    CHECK_CONTAINS(err.msg, "nested deeper than 64 levels");
    /* Braces in strings and comments do not count. */
    proto_schema *ok = parse("syntax = \"proto3\"; // {{{{\n/* {{{ */ message M { string s = 1 "
                             "[json_name = \"{{{\"]; }",
                             NULL, 0, &err);
    CHECK(ok != NULL);
    proto_schema_free(ok);
    /* Valid base64 of something that is not a descriptor is read as text. */
    CHECK(parse("AAAA", NULL, 0, &err) == NULL);
    CHECK_CONTAINS(err.msg, "schema.proto:1:1:");
    /* NUL bytes are text errors, not crashes. */
    proto_schema *s = NULL;
    CHECK(proto_schema_parse("message M {\0}", 13, NULL, NULL, 0, &s, &err) != 0);
    CHECK(s == NULL);
}

TEST_MAIN(T(test_proto3_model), T(test_oneof_map_packed_optional), T(test_proto2),
          T(test_base64_descriptor), T(test_dependencies), T(test_errors_name_the_place),
          T(test_import_errors), T(test_bounds_and_garbage))
