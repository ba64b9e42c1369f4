/*
 * test_ddl_mapping.c — the schema → columns mapping of `sluice ddl` (src/codec/ddl.c,
 * ddl_avro.c, ddl_protobuf.c, ddl_json.c) and its CREATE TABLE text,
 * without a server: each case's columns are written out by hand from the
 * plans' rules (plan_compile.c, plan_proto_compile.c, plan_json.c; the
 * function itself also compiles the sink's plan against them, so a case
 * that passes here is one the sink accepts). The round trips through
 * ClickHouse and the sink are tests/integration/test_ddl.c and test_ddl_types.c.
 */
#include "codec/ddl.h"

#include "test.h"

/* "name type; name type; ..." of the columns for a schema text, and
 * "source: why; ..." of the fields left out. */
static char got[8192], skipped[4096];
static sluice_error err;

static int typed_columns(const char *type, const char *schema, const char *message, char sep,
                         const char *version)
{
    ddl_options opt = {.separator = sep, .message = message};
    if (ch_server_features(version, &opt.features, &err) != 0) return -100;
    ddl_columns cols;
    ddl_columns_init(&cols);
    int rc = ddl_columns_for_schema(type, schema, strlen(schema), NULL, 0, &opt, &cols, &err);
    got[0] = skipped[0] = '\0';
    for (size_t i = 0; rc == 0 && i < cols.n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s %s", i ? "; " : "",
                 cols.items[i].name, cols.items[i].type);
    for (size_t i = 0; rc == 0 && i < cols.n_skipped; i++)
        snprintf(skipped + strlen(skipped), sizeof skipped - strlen(skipped), "%s%s: %s",
                 i ? "; " : "", cols.skipped[i].source, cols.skipped[i].why);
    ddl_columns_free(&cols);
    return rc;
}

/* Avro and JSON schemas are written with ' for " (their names here have
 * neither), which keeps them readable and clang-format stable. */
static int quoted_columns(const char *type, const char *quoted, char sep, const char *version)
{
    char schema[8192];
    snprintf(schema, sizeof schema, "%s", quoted);
    for (char *q = schema; (q = strchr(q, '\'')); q++)
        *q = '"';
    return typed_columns(type, schema, NULL, sep, version);
}

static int columns(const char *quoted, char sep, const char *version)
{
    return quoted_columns(NULL, quoted, sep, version);
}

static void test_scalars_and_logical_types(void)
{
    const char *s =
        "{'type':'record','name':'R','fields':["
        "{'name':'b','type':'boolean'},{'name':'i','type':'int'},{'name':'l','type':'long'},"
        "{'name':'f','type':'float'},{'name':'d','type':'double'},{'name':'s','type':'string'},"
        "{'name':'y','type':'bytes'},"
        "{'name':'day','type':{'type':'int','logicalType':'date'}},"
        "{'name':'tm','type':{'type':'int','logicalType':'time-millis'}},"
        "{'name':'tu','type':{'type':'long','logicalType':'time-micros'}},"
        "{'name':'ms','type':{'type':'long','logicalType':'timestamp-millis'}},"
        "{'name':'us','type':{'type':'long','logicalType':'timestamp-micros'}},"
        "{'name':'u','type':{'type':'string','logicalType':'uuid'}},"
        "{'name':'dec','type':{'type':'bytes','logicalType':'decimal','precision':18,'scale':4}},"
        "{'name':'big','type':{'type':'bytes','logicalType':'decimal','precision':40,'scale':2}},"
        "{'name':'fx','type':{'type':'fixed','name':'F','size':16}}]}";
    CHECK_EQ(columns(s, '.', "18.16"), 0);
    CHECK_STR(got, "b UInt8; i Int32; l Int64; f Float32; d Float64; s String; y String; "
                   "day Date; tm Int32; tu Int64; ms DateTime; us DateTime; u UUID; "
                   "dec Decimal(18, 4); big String; fx FixedString(16)");
    CHECK_EQ(columns(s, '.', "23.8"), 0);
    CHECK_STR(got, "b Bool; i Int32; l Int64; f Float32; d Float64; s String; y String; "
                   "day Date; tm Int32; tu Int64; ms DateTime64(3); us DateTime64(6); u UUID; "
                   "dec Decimal(18, 4); big String; fx FixedString(16)");
}

static void test_enums(void)
{
    CHECK_EQ(columns("{'type':'record','name':'R','fields':[{'name':'e','type':"
                     "{'type':'enum','name':'E','symbols':['A','B_2']}}]}",
                     '.', "18.16"),
             0);
    CHECK_STR(got, "e Enum8('A' = 0, 'B_2' = 1)");
    /* 200 symbols: Enum16. */
    char schema[4096], *p = schema;
    p += sprintf(p, "{'type':'record','name':'R','fields':[{'name':'e','type':"
                    "{'type':'enum','name':'E','symbols':[");
    for (int i = 0; i < 200; i++)
        p += sprintf(p, "%s'S%d'", i ? "," : "", i);
    sprintf(p, "]}}]}");
    CHECK_EQ(columns(schema, '.', "18.16"), 0);
    CHECK(strncmp(got, "e Enum16('S0' = 0, 'S1' = 1,", 28) == 0);
    CHECK_CONTAINS(got, "'S199' = 199)");
}

static void test_unions(void)
{
    const char *s = "{'type':'record','name':'R','fields':["
                    "{'name':'a','type':['null','long']},"
                    "{'name':'b','type':['string','long']},"
                    "{'name':'c','type':['null','string','long']},"
                    "{'name':'d','type':['null',{'type':'array','items':'int'}]},"
                    "{'name':'e','type':['null',{'type':'enum','name':'E','symbols':['X']}]}]}";
    CHECK_EQ(columns(s, '.', "18.16"), 0);
    CHECK_STR(got, "a Nullable(Int64); b String; c Nullable(String); d Array(Int32); "
                   "e Nullable(Enum8('X' = 0))");
}

static void test_records_arrays_maps(void)
{
    const char *s =
        "{'type':'record','name':'R','fields':["
        "{'name':'user','type':{'type':'record','name':'U','fields':["
        "  {'name':'id','type':'long'},"
        "  {'name':'geo','type':['null',{'type':'record','name':'G','fields':["
        "    {'name':'lat','type':'double'},"
        "    {'name':'tags','type':{'type':'array','items':'string'}}]}]}]}},"
        "{'name':'items','type':{'type':'array','items':{'type':'record','name':'I','fields':["
        "  {'name':'sku','type':'string'},"
        "  {'name':'n','type':['null','int']},"
        "  {'name':'sub','type':{'type':'record','name':'S','fields':[{'name':'x','type':'int'}]}},"
        "  {'name':'xs','type':{'type':'array','items':'int'}}]}}},"
        "{'name':'m','type':{'type':'map','values':'U'}},"
        "{'name':'opt_items','type':{'type':'array','items':['null','I']}}]}";
    CHECK_EQ(columns(s, '.', "18.16"), 0);
    CHECK_STR(got, "user.id Int64; user.geo.lat Nullable(Float64); user.geo.tags Array(String); "
                   "items.sku Array(String); items.n Array(Nullable(Int32)); items.sub "
                   "Array(String); items.xs Array(Array(Int32)); m.keys Array(String); m.values "
                   "Array(String); opt_items Array(Nullable(String))");
    CHECK_EQ(columns(s, '_', "23.8"), 0);
    CHECK_STR(got, "user_id Int64; user_geo_lat Nullable(Float64); user_geo_tags Array(String); "
                   "items_sku Array(String); items_n Array(Nullable(Int32)); items_sub "
                   "Array(String); items_xs Array(Array(Int32)); m Map(String, String); "
                   "opt_items Array(Nullable(String))");
}

/* A record inside itself: the inner one is its JSON in a String column. */
static void test_recursion(void)
{
    const char *s = "{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},"
                    "{'name':'next','type':['null','Node']},"
                    "{'name':'kids','type':{'type':'array','items':'Node'}}]}";
    CHECK_EQ(columns(s, '.', "18.16"), 0);
    CHECK_STR(got, "v Int32; next Nullable(String); kids Array(String)");
}

static void test_errors(void)
{
    CHECK_EQ(columns("'string'", '.', "18.16"), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "the schema is string, not a record");
    /* With '_', a_b the field and a.b the sub-field are one column. */
    const char *clash = "{'type':'record','name':'R','fields':[{'name':'a_b','type':'int'},"
                        "{'name':'a','type':{'type':'record','name':'A','fields':["
                        "{'name':'b','type':'int'}]}}]}";
    CHECK_EQ(columns(clash, '_', "18.16"), SLUICE_ECONFLICT);
    CHECK_CONTAINS(err.msg, "$.a_b and $.a.b would both be column a_b");
    CHECK_EQ(columns(clash, '.', "18.16"), 0);
    CHECK_EQ(columns("{'type':'record'", '.', "18.16"), SLUICE_EINVAL);
    CHECK_EQ(typed_columns("XML", "<a/>", NULL, '.', "18.16"), SLUICE_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "schema type XML has no table mapping yet (known: AVRO, PROTOBUF, "
                            "JSON)");
}

/* ---- Protobuf ---- */

static const char *const PROTO_SCALARS =
    "syntax = \"proto3\";\n"
    "package t;\n"
    "import \"google/protobuf/timestamp.proto\";\n"
    "import \"google/protobuf/wrappers.proto\";\n"
    "enum Status { UNKNOWN = 0; NEW = 1; DONE = 2; }\n"
    "message Ev {\n"
    "  double d = 1; float f = 2; int32 i32 = 3; sint32 s32 = 4; sfixed32 sf32 = 5;\n"
    "  int64 i64 = 6; sint64 s64 = 7; sfixed64 sf64 = 8; uint32 u32 = 9; fixed32 fx32 = 10;\n"
    "  uint64 u64 = 11; fixed64 fx64 = 12; bool b = 13; string s = 14; bytes y = 15;\n"
    "  Status st = 16; google.protobuf.Timestamp at = 17; google.protobuf.Int64Value w = 18;\n"
    "  optional string opt = 19; repeated Status sts = 20; repeated google.protobuf.Timestamp "
    "ats = 21;\n"
    "}\n";

static void test_proto_scalars(void)
{
    CHECK_EQ(typed_columns("PROTOBUF", PROTO_SCALARS, NULL, '.', "18.16"), 0);
    CHECK_STR(got, "d Float64; f Float32; i32 Int32; s32 Int32; sf32 Int32; i64 Int64; s64 Int64; "
                   "sf64 Int64; u32 UInt32; fx32 UInt32; u64 UInt64; fx64 UInt64; b UInt8; "
                   "s String; y String; st Enum8('UNKNOWN' = 0, 'NEW' = 1, 'DONE' = 2); "
                   "at DateTime; w Nullable(Int64); opt Nullable(String); "
                   "sts Array(Enum8('UNKNOWN' = 0, 'NEW' = 1, 'DONE' = 2)); ats Array(DateTime)");
    CHECK_STR(skipped, "");
    CHECK_EQ(typed_columns("PROTOBUF", PROTO_SCALARS, NULL, '.', "23.8"), 0);
    CHECK_CONTAINS(got, "; b Bool; ");
    CHECK_CONTAINS(got, "; at DateTime64(9); ");
    CHECK_CONTAINS(got, "; ats Array(DateTime64(9))");
}

static const char *const PROTO_SHAPES =
    "syntax = \"proto3\";\n"
    "package t;\n"
    "message Order {\n"
    "  message Geo { string country = 1; repeated string tags = 2; }\n"
    "  message Line {\n"
    "    string sku = 1; uint32 qty = 2; repeated string tags = 3; Geo from = 4;\n"
    "    optional int32 n = 5; map<string, int32> m = 6; repeated Line sub = 7;\n"
    "    oneof pick { string a = 8; int32 b = 9; }\n"
    "  }\n"
    "  int64 id = 1;\n"
    "  Geo geo = 2;\n"
    "  repeated Line lines = 3;\n"
    "  map<string, int64> counts = 4;\n"
    "  repeated sint32 deltas = 5;\n"
    "  oneof contact { string email = 6; Geo addr = 7; }\n"
    "  Order parent = 8;\n"
    "  map<string, Geo> geos = 9;\n"
    "}\n";

static void test_proto_shapes(void)
{
    CHECK_EQ(typed_columns("PROTOBUF", PROTO_SHAPES, NULL, '.', "18.16"), 0);
    CHECK_STR(got, "id Int64; geo.country String; geo.tags Array(String); lines.sku Array(String); "
                   "lines.qty Array(UInt32); lines.tags Array(Array(String)); "
                   "lines.from.country Array(String); lines.from.tags Array(Array(String)); "
                   "lines.n Array(Nullable(Int32)); "
                   "lines.pick Array(Nullable(Enum8('a' = 1, 'b' = 2))); "
                   "lines.a Array(Nullable(String)); lines.b Array(Nullable(Int32)); "
                   "counts.keys Array(String); counts.values Array(Int64); deltas Array(Int32); "
                   "contact Nullable(Enum8('email' = 1, 'addr' = 2)); email Nullable(String); "
                   "addr.country Nullable(String); addr.tags Array(String)");
    CHECK_STR(skipped, "$.lines[].m: a map inside a repeated message; "
                       "$.lines[].sub: a repeated message inside a repeated message; "
                       "$.parent: message t.Order inside itself (recursive); "
                       "$.geos: a map whose values are messages (t.Order.Geo)");
    CHECK_EQ(typed_columns("PROTOBUF", PROTO_SHAPES, NULL, '_', "23.8"), 0);
    CHECK_CONTAINS(got, "id Int64; geo_country String; geo_tags Array(String); lines_sku "
                        "Array(String); ");
    CHECK_CONTAINS(got, "; counts Map(String, Int64); deltas Array(Int32); ");
    /* Another message of the file (a nested one, as a frame's index may name). */
    CHECK_EQ(typed_columns("PROTOBUF", PROTO_SHAPES, "t.Order.Geo", '.', "18.16"), 0);
    CHECK_STR(got, "country String; tags Array(String)");
    CHECK_EQ(typed_columns("PROTOBUF", PROTO_SHAPES, "t.Nope", '.', "18.16"), SLUICE_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "no message t.Nope in schema.proto");
}

static void test_proto2(void)
{
    const char *s = "syntax = \"proto2\";\n"
                    "package p;\n"
                    "message M {\n"
                    "  enum E { option allow_alias = true; A = 1; B = 2; BB = 2; }\n"
                    "  enum Wide { W0 = 0; W1 = 1000; }\n"
                    "  enum Huge { H0 = 0; H1 = 70000; }\n"
                    "  required int64 id = 1;\n"
                    "  optional string name = 2 [default = \"x\"];\n"
                    "  optional group G = 3 { optional int32 v = 1; }\n"
                    "  optional E e = 4;\n"
                    "  optional Wide wide = 5;\n"
                    "  optional Huge huge = 6;\n"
                    "  repeated int32 xs = 7 [packed = true];\n"
                    "}\n";
    CHECK_EQ(typed_columns("PROTOBUF", s, NULL, '.', "18.16"), 0);
    CHECK_STR(got, "id Int64; name String; e Enum8('A' = 1, 'B' = 2); "
                   "wide Enum16('W0' = 0, 'W1' = 1000); huge String; xs Array(Int32)");
    CHECK_STR(skipped, "$.g: a proto2 group"); /* protoc lowercases a group's field */
    CHECK_EQ(typed_columns("PROTOBUF", "syntax = \"proto3\"; message E {}", NULL, '.', "18.16"),
             SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "no field of message E can be a column");
    CHECK_EQ(typed_columns("PROTOBUF", "syntax = \"proto3\";", NULL, '.', "18.16"), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "defines no message");
    CHECK_EQ(typed_columns("PROTOBUF", "syntax = \"proto3\"; message {", NULL, '.', "18.16"),
             SLUICE_EINVAL);
}

/* ---- JSON Schema ---- */

static const char *const JSON_SHAPES =
    "{'type':'object','properties':{"
    "'id':{'type':'integer'},"
    "'name':{'type':'string'},"
    "'score':{'type':['number','null']},"
    "'ok':{'type':'boolean'},"
    "'at':{'type':'string','format':'date-time'},"
    "'day':{'type':'string','format':'date'},"
    "'uid':{'type':'string','format':'uuid'},"
    "'kind':{'enum':['a','b\\\\c',null]},"
    "'level':{'enum':[1,2,3]},"
    "'tags':{'type':'array','items':{'type':'string'}},"
    "'grid':{'type':['array','null'],'items':{'type':'array','items':{'type':['integer','null']}}},"
    "'geo':{'type':['object','null'],'properties':{'lat':{'type':'number'},"
    "  'city':{'type':'string'}}},"
    "'user':{'type':'object','properties':{'id':{'type':'integer','minimum':0,'maximum':1e19},"
    "  'ref':{'$ref':'#/definitions/ref'}}},"
    "'any':{'type':['string','integer','boolean']},"
    "'items':{'type':'array','items':{'type':['object','null'],'properties':{'sku':{'type':'string'"
    "},"
    "  'qty':{'type':'integer'},'note':{'type':['string','null']},"
    "  'tags':{'type':'array','items':{'type':'string'}},"
    "  'meta':{'type':'object','properties':{'c':{'type':'string'}}}}}},"
    "'boxes':{'type':'array','items':{'type':'object','properties':{'in':{'type':'array',"
    "  'items':{'type':'object','properties':{'x':{'type':'integer'}}}}}}},"
    "'attrs':{'type':'object','additionalProperties':{'type':'string'}},"
    "'free':{},"
    "'both':{'type':['string','object']}},"
    "'definitions':{'ref':{'type':'string','maxLength':5}}}";

static void test_json_shapes(void)
{
    CHECK_EQ(quoted_columns("JSON", JSON_SHAPES, '.', "18.16"), 0);
    CHECK_STR(got, "id Int64; name String; score Nullable(Float64); ok UInt8; at DateTime; "
                   "day Date; uid UUID; kind Nullable(Enum8('a' = 1, 'b\\\\c' = 2)); "
                   "level Int64; tags Array(String); grid Array(Array(Nullable(Int64))); "
                   "geo.lat Nullable(Float64); geo.city Nullable(String); user.id UInt64; "
                   "user.ref String; any String; items.sku Array(String); "
                   "items.qty Array(Int64); items.note Array(Nullable(String)); "
                   "items.tags Array(Array(String))");
    CHECK_STR(skipped,
              "$.items[].meta: objects with properties inside an array's items (the JSON plan "
              "gathers the objects of one array into a Nested group, not deeper); "
              "$.boxes[].in: objects with properties inside an array's items (the JSON plan "
              "gathers the objects of one array into a Nested group, not deeper); "
              "$.boxes: an array of objects none of whose properties can be a column; "
              "$.attrs: an object of any keys needs a Map column (ClickHouse 21.1+); "
              "$.free: any value (no type); "
              "$.both: a value that may be an object or an array or something else");
    CHECK_EQ(quoted_columns("JSON", JSON_SHAPES, '_', "23.8"), 0);
    CHECK_CONTAINS(got, "; ok Bool; at DateTime64(6); ");
    CHECK_CONTAINS(got, "; geo_lat Nullable(Float64); geo_city Nullable(String); user_id UInt64; ");
    CHECK_CONTAINS(got, "; attrs Map(String, String)");
}

static void test_json_errors(void)
{
    CHECK_EQ(quoted_columns("JSON",
                            "{'type':'object','properties':{'t':{'type':'array',"
                            "'uniqueItems':true}}}",
                            '.', "18.16"),
             SLUICE_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "the sink cannot validate messages with this schema: "
                            "#/properties/t/uniqueItems: keyword uniqueItems is not supported");
    CHECK_EQ(quoted_columns("JSON", "{'type':'string'}", '.', "18.16"), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "does not describe an object with properties");
    /* An object inside itself stops where it recurs. */
    CHECK_EQ(quoted_columns("JSON",
                            "{'type':'object','properties':{'n':{'type':'integer'},"
                            "'next':{'$ref':'#'}}}",
                            '.', "18.16"),
             0);
    CHECK_STR(got, "n Int64");
    CHECK_STR(skipped, "$.next: an object inside itself (recursive)");
    /* '_' flattening: a_b the property and a.b the nested one are one column. */
    CHECK_EQ(quoted_columns("JSON",
                            "{'type':'object','properties':{'a_b':{'type':'integer'},"
                            "'a':{'type':'object','properties':{'b':{'type':'string'}}}}}",
                            '_', "18.16"),
             SLUICE_ECONFLICT);
    CHECK_CONTAINS(err.msg, "$.a_b and $.a.b would both be column a_b");
}

static void test_create_table_text(void)
{
    ddl_columns cols;
    ddl_columns_init(&cols);
    CHECK_EQ(ddl_columns_add(&cols, "id", "Int64", NULL, NULL, NULL, "$.id", &err), 0);
    CHECK_EQ(ddl_columns_add(&cols, "it.a", "Array(String)", "it", "a", "String", "$.it[].a", &err),
             0);
    CHECK_EQ(ddl_columns_add(&cols, "we`ird", "String", NULL, NULL, NULL, "$.w", &err), 0);
    CHECK_EQ(ddl_columns_add(&cols, "it.b", "Array(Int8)", "it", "b", "Int8", "$.it[].b", &err), 0);
    CHECK_EQ(ddl_columns_add(&cols, "id", "Int64", NULL, NULL, NULL, "$.x", &err),
             SLUICE_ECONFLICT);
    buf out;
    buf_init(&out, 1 << 20);
    ddl_table_options t = {.table = "db.t",
                           .order_by = "id",
                           .partition_by = "id % 10",
                           .header = "hello",
                           .if_not_exists = 1};
    CHECK_EQ(ddl_create_table(&cols, &t, &out, &err), 0);
    CHECK_EQ(buf_append_byte(&out, 0), 0);
    CHECK_STR((char *)out.data,
              "-- hello\nCREATE TABLE IF NOT EXISTS `db`.`t`\n(\n    `id` Int64,\n"
              "    `it` Nested(`a` String, `b` Int8),\n    `we\\`ird` String\n)\n"
              "ENGINE = MergeTree\nPARTITION BY id % 10\nORDER BY id;\n");
    buf_reset(&out);
    ddl_table_options r = {.table = "t", .engine = "ReplicatedMergeTree('/t', '{replica}')"};
    CHECK_EQ(ddl_create_table(&cols, &r, &out, &err), 0);
    CHECK_EQ(buf_append_byte(&out, 0), 0);
    CHECK_CONTAINS((char *)out.data,
                   "ENGINE = ReplicatedMergeTree('/t', '{replica}')\nORDER BY tuple();\n");
    buf_reset(&out);
    ddl_table_options m = {.table = "t", .engine = "Memory", .partition_by = "id"};
    CHECK_EQ(ddl_create_table(&cols, &m, &out, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "PARTITION BY is for the MergeTree family, not engine Memory");
    CHECK_EQ(out.len, 0);
    /* Fields left out are listed as comments under the header. */
    CHECK_EQ(ddl_columns_skip(&cols, "$.a[].m", "a map inside a repeated message", &err), 0);
    CHECK_EQ(ddl_columns_skip(&cols, "$.we\nird", "any value (no type)", &err), 0);
    ddl_table_options k = {.table = "t", .header = "h"};
    CHECK_EQ(ddl_create_table(&cols, &k, &out, &err), 0);
    CHECK_EQ(buf_append_byte(&out, 0), 0);
    const char *want = "-- h\n-- 2 fields no column takes (the sink skips them):\n"
                       "--   $.a[].m: a map inside a repeated message\n"
                       "--   $.we?ird: any value (no type)\nCREATE TABLE `t`\n";
    CHECK(strncmp((char *)out.data, want, strlen(want)) == 0);
    buf_free(&out);
    ddl_columns_free(&cols);
}

TEST_MAIN(T(test_scalars_and_logical_types), T(test_enums), T(test_unions),
          T(test_records_arrays_maps), T(test_recursion), T(test_errors), T(test_proto_scalars),
          T(test_proto_shapes), T(test_proto2), T(test_json_shapes), T(test_json_errors),
          T(test_create_table_text))
