/*
 * test_ddl_mapping.c — the schema → columns mapping of `sluice ddl` (src/codec/ddl.c,
 * ddl_avro.c) and its CREATE TABLE text, without a server: each case's
 * columns are written out by hand from plan_compile.c's rules (the function itself
 * also compiles the sink's plan against them, so a case that passes here is
 * one the sink accepts field for field). The round trip through ClickHouse
 * and the sink is tests/integration/test_ddl.c.
 */
#include "codec/ddl.h"

#include "test.h"

/* "name type; name type; ..." of the columns for an Avro schema text. */
static char got[8192];
static sluice_error err;

/* Schemas are written with ' for " (Avro names have neither), which keeps
 * them readable and clang-format stable. */
static int columns(const char *quoted, char sep, const char *version)
{
    char schema[8192];
    snprintf(schema, sizeof schema, "%s", quoted);
    for (char *q = schema; (q = strchr(q, '\'')); q++)
        *q = '"';
    ddl_options opt = {.separator = sep};
    if (ch_server_features(version, &opt.features, &err) != 0) return -100;
    ddl_columns cols;
    ddl_columns_init(&cols);
    int rc = ddl_columns_for_schema(NULL, schema, strlen(schema), &opt, &cols, &err);
    got[0] = '\0';
    for (size_t i = 0; rc == 0 && i < cols.n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s %s", i ? "; " : "",
                 cols.items[i].name, cols.items[i].type);
    ddl_columns_free(&cols);
    return rc;
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
    ddl_options opt = {.separator = '.'};
    ddl_columns cols;
    ddl_columns_init(&cols);
    CHECK_EQ(ddl_columns_for_schema("PROTOBUF", "syntax = \"proto3\";", 18, &opt, &cols, &err),
             SLUICE_EUNSUPPORTED);
    CHECK_CONTAINS(err.msg, "schema type PROTOBUF has no table mapping yet (known: AVRO)");
    ddl_columns_free(&cols);
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
    buf_free(&out);
    ddl_columns_free(&cols);
}

TEST_MAIN(T(test_scalars_and_logical_types), T(test_enums), T(test_unions),
          T(test_records_arrays_maps), T(test_recursion), T(test_errors), T(test_create_table_text))
