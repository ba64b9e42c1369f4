/*
 * test_registry_types.c — `sluice registry` over real HTTP with all three
 * schema types: PROTOBUF and JSON registration, reads (schemaType on every
 * route, ?format=serialized), lookups, evolution with the rule named in the
 * 409, the base64 FileDescriptorProto form deduping with the .proto text,
 * references (stored, returned, must exist, referencedby, 42206 on delete,
 * cycles refused) for Protobuf, JSON Schema and Avro, subjects with '/'
 * sent percent-encoded, /mode (READONLY, IMPORT with explicit ids), and a
 * database written in format 1 (Avro only) migrated in place on open.
 */
#include "test.h"

#include "support.h"

#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>

#include "codec/proto_schema.h"

static char *tmp;
static char db[512];
static test_proc reg;
static char base[64];
static test_http_resp last;

#define CT "application/vnd.schemaregistry.v1+json"

static int start(const char *db_path)
{
    char log[600];
    snprintf(log, sizeof log, "%s/registry.log", tmp);
    uint16_t port;
    if (test_registry_start(&reg, db_path, 0, &port, log) != 0) return -1;
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)port);
    return 0;
}

static int setup(void)
{
    if (reg.pid > 0) return 0;
    if (!tmp) {
        tmp = test_tmpdir("sluice-registry-types");
        snprintf(db, sizeof db, "%s/registry.sqlite", tmp);
    }
    return start(db);
}

static long req(const char *method, const char *path, const char *body)
{
    free(last.body);
    memset(&last, 0, sizeof last);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", base, path);
    if (test_http(method, url, body, body ? CT : NULL, &last) != 0) return -1;
    return last.status;
}

/* {"schema": text, "schemaType": type, "references": refs (JSON text)} */
static char *body(const char *text, const char *type, const char *refs)
{
    static char *out;
    free(out);
    json_t *o = json_pack("{s:s}", "schema", text);
    if (type) json_object_set_new(o, "schemaType", json_string(type));
    if (refs) json_object_set_new(o, "references", json_loads(refs, 0, NULL));
    out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

static long id_of_last(void)
{
    json_t *j = json_loads(last.body ? last.body : "", 0, NULL);
    long id = (long)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    return id;
}

static const char *ORDER_PROTO = "syntax = \"proto3\";\n"
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

/* Debian's protoc 3.21.12 -o of ORDER_PROTO saved as order.proto, file[0]
 * in base64: the form python-confluent-kafka registers. */
static const char *ORDER_B64 =
    "CgtvcmRlci5wcm90bxIEc2hvcBofZ29vZ2xlL3Byb3RvYnVmL3RpbWVzdGFtcC5wcm90byLcAQoFT3JkZXISDgoCaWQY"
    "ASABKANSAmlkEioKAmF0GAIgASgLMhouZ29vZ2xlLnByb3RvYnVmLlRpbWVzdGFtcFICYXQSJgoFbGluZXMYAyADKAsy"
    "EC5zaG9wLk9yZGVyLkxpbmVSBWxpbmVzEicKBXN0YXRlGAQgASgOMhEuc2hvcC5PcmRlci5TdGF0ZVIFc3RhdGUaKgoE"
    "TGluZRIQCgNza3UYASABKAlSA3NrdRIQCgNxdHkYAiABKAVSA3F0eSIaCgVTdGF0ZRIHCgNORVcQABIICgRQQUlEEAFi"
    "BnByb3RvMw==";

static void test_protobuf(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(req("POST", "/subjects/orders-value/versions", body(ORDER_PROTO, "PROTOBUF", NULL)),
             200);
    long id = id_of_last();
    CHECK(id > 0);
    CHECK_EQ(req("GET", "/subjects/orders-value/versions/1", NULL), 200);
    CHECK_CONTAINS(last.body, "\"schemaType\":\"PROTOBUF\"");
    CHECK_CONTAINS(last.body, "message Order {");
    CHECK(strstr(last.body, "references") == NULL); /* none: left out, as Confluent does */
    char path[128];
    snprintf(path, sizeof path, "/schemas/ids/%ld", id);
    CHECK_EQ(req("GET", path, NULL), 200);
    CHECK_CONTAINS(last.body, "\"schemaType\":\"PROTOBUF\"");
    snprintf(path, sizeof path, "/schemas/ids/%ld/schema", id);
    CHECK_EQ(req("GET", path, NULL), 200);
    CHECK_STR(last.body, ORDER_PROTO); /* the text as registered */

    /* The same schema as protoc's base64 descriptor: same id, no new version. */
    CHECK_EQ(req("POST", "/subjects/orders-value/versions", body(ORDER_B64, "PROTOBUF", NULL)),
             200);
    CHECK_EQ(id_of_last(), id);
    CHECK_EQ(req("POST", "/subjects/orders-value", body(ORDER_B64, "PROTOBUF", NULL)), 200);
    CHECK_CONTAINS(last.body, "\"version\":1");
    /* Registered first as base64 elsewhere: it is served as .proto text. */
    CHECK_EQ(req("POST", "/subjects/b64-first/versions", body(ORDER_B64, "PROTOBUF", NULL)), 200);
    CHECK_EQ(id_of_last(), id);

    /* ?format=serialized: the base64 FileDescriptorProto, which parses back. */
    snprintf(path, sizeof path, "/schemas/ids/%ld?format=serialized", id);
    CHECK_EQ(req("GET", path, NULL), 200);
    json_t *j = json_loads(last.body, 0, NULL);
    const char *b64 = json_string_value(json_object_get(j, "schema"));
    CHECK(b64 && strchr(b64, ' ') == NULL);
    proto_schema *ps = NULL;
    sluice_error err;
    CHECK_EQ(proto_schema_parse(b64, strlen(b64), NULL, NULL, 0, &ps, &err), 0);
    CHECK(proto_schema_find_message(ps, "shop.Order.Line") != NULL);
    proto_schema_free(ps);
    json_decref(j);

    /* Lookup needs the type: as AVRO the text is no schema at all. */
    CHECK_EQ(req("POST", "/subjects/orders-value", body(ORDER_PROTO, NULL, NULL)), 422);
    CHECK_EQ(req("POST", "/subjects/orders-value", body(ORDER_PROTO, "PROTOBUF", NULL)), 200);
    CHECK_CONTAINS(last.body, "\"schemaType\":\"PROTOBUF\"");

    /* Evolution under BACKWARD (the default). */
    /* fields 2-4 removed and 5 added are compatible; a nested message
     * removed would not be (MESSAGE_REMOVED), so Line stays */
    const char *added = "syntax = \"proto3\"; package shop; message Order { int64 id = 1; string "
                        "note = 5; message Line { string sku = 1; int32 qty = 2; } }";
    const char *retyped = "syntax = \"proto3\"; package shop; message Order { string id = 1; "
                          "message Line { string sku = 1; int32 qty = 2; } }";
    CHECK_EQ(req("POST", "/subjects/orders-value/versions", body(added, "PROTOBUF", NULL)), 200);
    CHECK(id_of_last() > id);
    CHECK_EQ(req("POST", "/subjects/orders-value/versions", body(retyped, "PROTOBUF", NULL)), 409);
    CHECK_CONTAINS(last.body, "\"error_code\":409");
    CHECK_CONTAINS(last.body, "FIELD_SCALAR_KIND_CHANGED at #/Order/1: the field changed from "
                              "int64 to string");
    CHECK_EQ(req("POST", "/compatibility/subjects/orders-value/versions/latest?verbose=true",
                 body(retyped, "PROTOBUF", NULL)),
             200);
    CHECK_CONTAINS(last.body, "\"is_compatible\":false");
    CHECK_CONTAINS(last.body, "FIELD_SCALAR_KIND_CHANGED");
    /* Another type under the same subject is a change of type. */
    CHECK_EQ(req("POST", "/subjects/orders-value/versions", body("\"string\"", NULL, NULL)), 409);
    CHECK_CONTAINS(last.body, "the schema type changed from PROTOBUF to AVRO");
    /* Parse errors: 42201 with file, line and column. */
    CHECK_EQ(req("POST", "/subjects/orders-value/versions",
                 body("syntax = \"proto3\";\nmessage M {\n  Missing m = 1;\n}", "PROTOBUF", NULL)),
             422);
    CHECK_CONTAINS(last.body, "\"error_code\":42201");
    CHECK_CONTAINS(last.body, "schema.proto:3:3: \\\"Missing\\\" is not defined.");
}

static void test_json_schema(void)
{
    CHECK_EQ(setup(), 0);
    const char *v1 = "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},"
                     "\"required\":[\"id\"]}";
    const char *v1b = "{ \"required\": [\"id\"], \"properties\": { \"id\": { \"type\": "
                      "\"integer\" } }, \"type\": \"object\" }";
    CHECK_EQ(req("POST", "/subjects/clicks-value/versions", body(v1, "JSON", NULL)), 200);
    long id = id_of_last();
    CHECK_EQ(req("POST", "/subjects/clicks-value/versions", body(v1b, "JSON", NULL)), 200);
    CHECK_EQ(id_of_last(), id); /* formatting and key order do not matter */
    CHECK_EQ(req("GET", "/subjects/clicks-value/versions/latest", NULL), 200);
    CHECK_CONTAINS(last.body, "\"schemaType\":\"JSON\"");
    /* The same text as JSON and as AVRO would be two schemas: identity has the type. */
    CHECK_EQ(req("POST", "/subjects/types-a/versions", body("{\"type\":\"string\"}", NULL, NULL)),
             200);
    long avro = id_of_last();
    CHECK_EQ(req("POST", "/subjects/types-b/versions", body("{\"type\":\"string\"}", "JSON", NULL)),
             200);
    CHECK(id_of_last() != avro);

    /* An open content model: a new property breaks BACKWARD, not FORWARD. */
    const char *v2 = "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
                     "\"url\":{\"type\":\"string\"}},\"required\":[\"id\"]}";
    CHECK_EQ(req("POST", "/subjects/clicks-value/versions", body(v2, "JSON", NULL)), 409);
    CHECK_CONTAINS(last.body, "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL at #/properties/url");
    CHECK_EQ(req("PUT", "/config/clicks-value", "{\"compatibility\":\"FORWARD\"}"), 200);
    CHECK_EQ(req("POST", "/subjects/clicks-value/versions", body(v2, "JSON", NULL)), 200);
    CHECK_EQ(req("GET", "/subjects/clicks-value/versions", NULL), 200);
    CHECK_STR(last.body, "[1,2]");

    /* Invalid schemas name the keyword's JSON pointer. */
    CHECK_EQ(req("POST", "/subjects/clicks-value/versions",
                 body("{\"properties\":{\"a\":{\"type\":\"strin\"}}}", "JSON", NULL)),
             422);
    CHECK_CONTAINS(last.body, "Invalid JSON schema: #/properties/a/type: unknown type 'strin'");
    CHECK_EQ(req("POST", "/subjects/clicks-value/versions", body("{\"type\":", "JSON", NULL)), 422);
    CHECK_CONTAINS(last.body, "line 1 column");
}

static void test_references_and_encoded_subjects(void)
{
    CHECK_EQ(setup(), 0);
    const char *money = "syntax = \"proto3\"; package common; message Money { int64 units = 1; "
                        "string currency = 2; }";
    const char *price = "syntax = \"proto3\";\nimport \"common/money.proto\";\n"
                        "message Price { common.Money amount = 1; }";
    /* "common/money.proto" as a subject: the client sends it encoded. */
    CHECK_EQ(req("POST", "/subjects/common%2Fmoney.proto/versions", body(money, "PROTOBUF", NULL)),
             200);
    long money_id = id_of_last();
    CHECK_EQ(req("GET", "/subjects", NULL), 200);
    CHECK_CONTAINS(last.body, "\"common/money.proto\"");
    CHECK_EQ(req("GET", "/subjects/common%2Fmoney.proto/versions/1", NULL), 200);
    CHECK_CONTAINS(last.body, "\"subject\":\"common/money.proto\"");

    const char *refs = "[{\"name\":\"common/money.proto\",\"subject\":\"common/money.proto\","
                       "\"version\":1}]";
    /* Without the reference the import does not resolve. */
    CHECK_EQ(req("POST", "/subjects/prices-value/versions", body(price, "PROTOBUF", NULL)), 422);
    CHECK_CONTAINS(last.body, "import \\\"common/money.proto\\\" not found");
    CHECK_EQ(req("POST", "/subjects/prices-value/versions", body(price, "PROTOBUF", refs)), 200);
    long price_id = id_of_last();
    CHECK(price_id != money_id);
    CHECK_EQ(req("GET", "/subjects/prices-value/versions/1", NULL), 200);
    CHECK_CONTAINS(last.body, "\"references\":[{\"name\":\"common/money.proto\",\"subject\":"
                              "\"common/money.proto\",\"version\":1}]");
    char path[128];
    snprintf(path, sizeof path, "/schemas/ids/%ld", price_id);
    CHECK_EQ(req("GET", path, NULL), 200);
    CHECK_CONTAINS(last.body, "\"references\":[");
    CHECK_EQ(req("POST", "/subjects/prices-value", body(price, "PROTOBUF", refs)), 200);
    CHECK_CONTAINS(last.body, "\"version\":1");
    /* "version": -1 means the latest at registration, stored as its number */
    CHECK_EQ(req("POST", "/subjects/prices-latest/versions",
                 body(price, "PROTOBUF",
                      "[{\"name\":\"common/money.proto\",\"subject\":\"common/money.proto\","
                      "\"version\":-1}]")),
             200);
    CHECK_EQ(id_of_last(), price_id);

    /* Who references money v1; it cannot be deleted while they do. */
    CHECK_EQ(req("GET", "/subjects/common%2Fmoney.proto/versions/1/referencedby", NULL), 200);
    char want[64];
    snprintf(want, sizeof want, "[%ld]", price_id);
    CHECK_STR(last.body, want);
    CHECK_EQ(req("DELETE", "/subjects/common%2Fmoney.proto/versions/1", NULL), 422);
    CHECK_CONTAINS(last.body, "\"error_code\":42206");
    CHECK_EQ(req("DELETE", "/subjects/common%2Fmoney.proto", NULL), 422);
    CHECK_CONTAINS(last.body, "\"error_code\":42206");

    /* References to nothing, and bad reference lists. */
    CHECK_EQ(req("POST", "/subjects/prices-value/versions",
                 body(price, "PROTOBUF",
                      "[{\"name\":\"common/money.proto\",\"subject\":\"common/money.proto\","
                      "\"version\":7}]")),
             422);
    CHECK_CONTAINS(last.body, "reference 'common/money.proto': subject 'common/money.proto' has no "
                              "version 7");
    CHECK_EQ(req("POST", "/subjects/prices-value/versions",
                 body(price, "PROTOBUF", "[{\"name\":\"x\",\"subject\":\"y\"}]")),
             422);
    CHECK_CONTAINS(last.body, "references[0].version");

    /* The referencing subjects go; then the reference may. */
    CHECK_EQ(req("DELETE", "/subjects/prices-value", NULL), 200);
    CHECK_EQ(req("DELETE", "/subjects/prices-latest", NULL), 200);
    CHECK_EQ(req("GET", "/subjects/common%2Fmoney.proto/versions/1/referencedby", NULL), 200);
    CHECK_STR(last.body, "[]");
    CHECK_EQ(req("DELETE", "/subjects/common%2Fmoney.proto/versions/1", NULL), 200);

    /* JSON Schema: a $ref names the reference. */
    const char *address = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}";
    const char *customer = "{\"type\":\"object\",\"properties\":{\"home\":{\"$ref\":"
                           "\"address.json\"}}}";
    CHECK_EQ(req("POST", "/subjects/address/versions", body(address, "JSON", NULL)), 200);
    CHECK_EQ(req("POST", "/subjects/customer-value/versions",
                 body(customer, "JSON",
                      "[{\"name\":\"address.json\",\"subject\":\"address\",\"version\":1}]")),
             200);
    CHECK_EQ(req("POST", "/subjects/customer-bad/versions", body(customer, "JSON", NULL)), 422);
    CHECK_CONTAINS(last.body, "cannot resolve 'address.json'");

    /* Avro: named types from the referenced schema. */
    const char *addr_avro = "{\"type\":\"record\",\"name\":\"Address\",\"namespace\":\"com.x\","
                            "\"fields\":[{\"name\":\"city\",\"type\":\"string\"}]}";
    const char *order_avro = "{\"type\":\"record\",\"name\":\"Order\",\"namespace\":\"com.x\","
                             "\"fields\":[{\"name\":\"ship_to\",\"type\":\"com.x.Address\"}]}";
    const char *avro_refs = "[{\"name\":\"com.x.Address\",\"subject\":\"address-avro\","
                            "\"version\":1}]";
    CHECK_EQ(req("POST", "/subjects/address-avro/versions", body(addr_avro, NULL, NULL)), 200);
    CHECK_EQ(req("POST", "/subjects/order-avro/versions", body(order_avro, NULL, NULL)), 422);
    CHECK_CONTAINS(last.body, "com.x.Address");
    CHECK_EQ(req("POST", "/subjects/order-avro/versions", body(order_avro, NULL, avro_refs)), 200);
    CHECK_EQ(req("GET", "/subjects/order-avro/versions/1", NULL), 200);
    CHECK(strstr(last.body, "schemaType") == NULL);
    CHECK_CONTAINS(last.body, "\"references\":[{\"name\":\"com.x.Address\"");
    /* a field without a default added: BACKWARD refuses, through the reference */
    const char *order2 = "{\"type\":\"record\",\"name\":\"Order\",\"namespace\":\"com.x\","
                         "\"fields\":[{\"name\":\"ship_to\",\"type\":\"com.x.Address\"},"
                         "{\"name\":\"bill_to\",\"type\":\"com.x.Address\"}]}";
    CHECK_EQ(req("POST", "/subjects/order-avro/versions", body(order2, NULL, avro_refs)), 409);
    CHECK_CONTAINS(last.body, "'bill_to'");
}

/* A cycle cannot be made through the API (references must exist first);
 * it is made here in the file, as a damaged or hand-edited database would
 * have it, and must be refused, not followed forever. */
static void test_reference_cycle_in_the_file(void)
{
    CHECK_EQ(setup(), 0);
    const char *a = "syntax = \"proto3\"; package ca; message A {}";
    const char *b = "syntax = \"proto3\"; package cb; message B {}";
    CHECK_EQ(req("POST", "/subjects/cyc-a/versions", body(a, "PROTOBUF", NULL)), 200);
    long ida = id_of_last();
    CHECK_EQ(req("POST", "/subjects/cyc-b/versions", body(b, "PROTOBUF", NULL)), 200);
    long idb = id_of_last();
    sqlite3 *h = NULL;
    CHECK_EQ(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    char sql[512];
    snprintf(
        sql, sizeof sql,
        "UPDATE schemas SET refs='[{\"name\":\"b.proto\",\"subject\":\"cyc-b\",\"version\":1}]'"
        " WHERE id=%ld; UPDATE schemas SET refs='[{\"name\":\"a.proto\",\"subject\":\"cyc-a\","
        "\"version\":1}]' WHERE id=%ld;",
        ida, idb);
    CHECK_EQ(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    const char *c = "syntax = \"proto3\"; import \"a.proto\"; message C {}";
    CHECK_EQ(
        req("POST", "/subjects/cyc-c/versions",
            body(c, "PROTOBUF", "[{\"name\":\"a.proto\",\"subject\":\"cyc-a\",\"version\":1}]")),
        422);
    CHECK_CONTAINS(last.body, "reference cycle: cyc-a version 1 -> cyc-b version 1 -> cyc-a "
                              "version 1");
}

static void test_modes(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(req("GET", "/mode", NULL), 200);
    CHECK_STR(last.body, "{\"mode\":\"READWRITE\"}");
    CHECK_EQ(req("PUT", "/mode/ro-value", "{\"mode\":\"READONLY\"}"), 200);
    CHECK_STR(last.body, "{\"mode\":\"READONLY\"}");
    CHECK_EQ(req("POST", "/subjects/ro-value/versions", body("\"int\"", NULL, NULL)), 422);
    CHECK_CONTAINS(last.body, "\"error_code\":42205");
    CHECK_CONTAINS(last.body, "read-only");
    CHECK_EQ(req("GET", "/mode/ro-value", NULL), 200);
    CHECK_STR(last.body, "{\"mode\":\"READONLY\"}");
    CHECK_EQ(req("GET", "/mode/other-value", NULL), 404);
    CHECK_EQ(req("GET", "/mode/other-value?defaultToGlobal=true", NULL), 200);
    CHECK_STR(last.body, "{\"mode\":\"READWRITE\"}");
    CHECK_EQ(req("DELETE", "/mode/ro-value", NULL), 200);
    CHECK_EQ(req("POST", "/subjects/ro-value/versions", body("\"int\"", NULL, NULL)), 200);
    CHECK_EQ(req("PUT", "/mode", "{\"mode\":\"SOMETIMES\"}"), 422);
    CHECK_CONTAINS(last.body, "\"error_code\":42204");
    /* An id outside IMPORT mode is refused. */
    CHECK_EQ(
        req("POST", "/subjects/imp-value/versions", "{\"schema\":\"\\\"long\\\"\",\"id\":900}"),
        422);
    CHECK_CONTAINS(last.body, "\"error_code\":42205");
    /* IMPORT needs force while the registry holds schemas. */
    CHECK_EQ(req("PUT", "/mode", "{\"mode\":\"IMPORT\"}"), 422);
    CHECK_CONTAINS(last.body, "\"error_code\":42205");
    CHECK_EQ(req("PUT", "/mode?force=true", "{\"mode\":\"IMPORT\"}"), 200);
    CHECK_EQ(req("POST", "/subjects/imp-value/versions",
                 "{\"schema\":\"\\\"long\\\"\",\"id\":900,\"version\":7}"),
             200);
    CHECK_STR(last.body, "{\"id\":900}");
    CHECK_EQ(req("GET", "/subjects/imp-value/versions", NULL), 200);
    CHECK_STR(last.body, "[7]");
    CHECK_EQ(req("GET", "/schemas/ids/900", NULL), 200);
    /* an id that holds another schema cannot be overwritten */
    CHECK_EQ(
        req("POST", "/subjects/imp2-value/versions", "{\"schema\":\"\\\"double\\\"\",\"id\":900}"),
        422);
    CHECK_CONTAINS(last.body, "id 900 already holds another schema");
    CHECK_EQ(req("PUT", "/mode", "{\"mode\":\"READWRITE\"}"), 200);
    /* ids continue above the imported one, versions above the imported one */
    CHECK_EQ(req("POST", "/subjects/imp-value/versions", body("\"string\"", NULL, NULL)), 409);
    CHECK_EQ(req("PUT", "/config/imp-value", "{\"compatibility\":\"NONE\"}"), 200);
    CHECK_EQ(req("POST", "/subjects/imp-value/versions", body("\"string\"", NULL, NULL)), 200);
    CHECK_STR(last.body, "{\"id\":901}");
    CHECK_EQ(req("GET", "/subjects/imp-value/versions", NULL), 200);
    CHECK_STR(last.body, "[7,8]");
}

/* A database as sluice wrote it before schema types (format 1). */
static const char *V1_DDL =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE schemas(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  normalized TEXT NOT NULL UNIQUE, text TEXT NOT NULL, type TEXT NOT NULL);"
    "CREATE TABLE subjects(subject TEXT PRIMARY KEY, next_version INTEGER NOT NULL);"
    "CREATE TABLE versions(subject TEXT NOT NULL, version INTEGER NOT NULL,"
    "  schema_id INTEGER NOT NULL REFERENCES schemas(id), deleted INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(subject, version));"
    "CREATE INDEX versions_by_schema ON versions(schema_id);"
    "CREATE TABLE config(subject TEXT PRIMARY KEY, level TEXT NOT NULL);"
    "INSERT INTO meta VALUES('format','sluice-registry-1');"
    "INSERT INTO schemas(normalized, text, type) VALUES('\"int\"', '\"int\"', 'AVRO');"
    "INSERT INTO schemas(normalized, text, type) VALUES('\"long\"', ' \"long\" ', 'AVRO');"
    "INSERT INTO schemas(normalized, text, type) VALUES('\"string\"', '\"string\"', 'AVRO');"
    /* id 3 was the highest ever given; its row is gone (never happens in
     * format 1, but the counter must survive the rebuild anyway) */
    "DELETE FROM schemas WHERE id = 3;"
    "INSERT INTO subjects VALUES('old-value', 4);"
    "INSERT INTO versions VALUES('old-value', 1, 1, 0), ('old-value', 3, 2, 0);"
    "INSERT INTO versions VALUES('gone-value', 1, 1, 1);"
    "INSERT INTO subjects VALUES('gone-value', 2);"
    "INSERT INTO config VALUES('old-value', 'FORWARD');";

static void test_migrates_format_1(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    char old[600];
    snprintf(old, sizeof old, "%s/format1.sqlite", tmp);
    sqlite3 *h = NULL;
    CHECK_EQ(sqlite3_open(old, &h), SQLITE_OK);
    CHECK_EQ(sqlite3_exec(h, V1_DDL, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    CHECK_EQ(start(old), 0);
    CHECK_EQ(test_proc_wait_log(&reg, "database migrated", 5000, NULL, 0), 0);
    CHECK_EQ(req("GET", "/subjects", NULL), 200);
    CHECK_STR(last.body, "[\"old-value\"]");
    CHECK_EQ(req("GET", "/subjects/old-value/versions", NULL), 200);
    CHECK_STR(last.body, "[1,3]");
    CHECK_EQ(req("GET", "/subjects/old-value/versions/3/schema", NULL), 200);
    CHECK_STR(last.body, " \"long\" ");
    CHECK_EQ(req("GET", "/config/old-value", NULL), 200);
    CHECK_STR(last.body, "{\"compatibilityLevel\":\"FORWARD\"}");
    CHECK_EQ(req("GET", "/subjects/gone-value/versions/1?deleted=true", NULL), 200);
    /* the same schema again: same id, no new version */
    CHECK_EQ(req("POST", "/subjects/old-value/versions", body("\"long\"", NULL, NULL)), 200);
    CHECK_STR(last.body, "{\"id\":2}");
    /* new ids continue above the highest ever given; versions go on */
    CHECK_EQ(req("PUT", "/config/old-value", "{\"compatibility\":\"NONE\"}"), 200);
    CHECK_EQ(req("POST", "/subjects/old-value/versions", body("\"bytes\"", NULL, NULL)), 200);
    CHECK_STR(last.body, "{\"id\":4}");
    CHECK_EQ(req("GET", "/subjects/old-value/versions", NULL), 200);
    CHECK_STR(last.body, "[1,3,4]");
    /* and it now takes the new types */
    CHECK_EQ(req("POST", "/subjects/new-value/versions",
                 body("syntax = \"proto3\"; message N { int32 n = 1; }", "PROTOBUF", NULL)),
             200);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);

    CHECK_EQ(sqlite3_open(old, &h), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    CHECK_EQ(sqlite3_prepare_v2(h, "SELECT value FROM meta WHERE key='format'", -1, &st, NULL),
             SQLITE_OK);
    CHECK_EQ(sqlite3_step(st), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "sluice-registry-2");
    sqlite3_finalize(st);
    sqlite3_close(h);
    /* opening it again finds it current (no second migration) */
    CHECK_EQ(start(old), 0);
    CHECK_EQ(req("GET", "/subjects/old-value/versions", NULL), 200);
    CHECK_STR(last.body, "[1,3,4]");
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    CHECK(test_proc_wait_log(&reg, "database migrated", 0, NULL, 0) != 0);
}

static void test_cleanup(void)
{
    if (reg.pid > 0) CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    free(last.body);
    last.body = NULL;
    test_rmtree(tmp);
}

TEST_MAIN(T(test_protobuf), T(test_json_schema), T(test_references_and_encoded_subjects),
          T(test_reference_cycle_in_the_file), T(test_modes), T(test_migrates_format_1),
          T(test_cleanup))
