/*
 * test_plan.c — the codec's plan: Avro (and JSON) messages into ClickHouse
 * RowBinary rows, byte for byte.
 *
 * Messages are written here with a tiny Avro writer of the test's own (so a
 * test can write multi-block arrays or cut a message short), and expected
 * rows with a tiny RowBinary writer of its own; both follow the specs
 * directly and share no code with the plan. What ClickHouse itself makes of
 * the rows is tested against a real server in test_plan_clickhouse.c.
 */
#include "test.h"

#include "codec/ch_type.h"
#include "codec/plan.h"
#include "common/arena.h"

#include <sluice/avro.h>

/* ---- a byte builder for both encodings ---- */

typedef struct bytes {
    uint8_t b[4096];
    size_t n;
} bytes;

static void put(bytes *x, const void *p, size_t n)
{
    memcpy(x->b + x->n, p, n);
    x->n += n;
}
static void u8(bytes *x, uint8_t v)
{
    x->b[x->n++] = v;
}

/* Avro */
static void a_long(bytes *x, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z > 0x7f) {
        u8(x, (uint8_t)(z | 0x80));
        z >>= 7;
    }
    u8(x, (uint8_t)z);
}
static void a_str(bytes *x, const char *s)
{
    a_long(x, (int64_t)strlen(s));
    put(x, s, strlen(s));
}
static void a_double(bytes *x, double d)
{
    put(x, &d, 8);
} /* little-endian host */

/* RowBinary */
static void r_uleb(bytes *x, uint64_t v)
{
    while (v > 0x7f) {
        u8(x, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    u8(x, (uint8_t)v);
}
static void r_str(bytes *x, const char *s)
{
    r_uleb(x, strlen(s));
    put(x, s, strlen(s));
}
static void r_i64(bytes *x, int64_t v)
{
    put(x, &v, 8);
}
static void r_i32(bytes *x, int32_t v)
{
    put(x, &v, 4);
}
static void r_u32(bytes *x, uint32_t v)
{
    put(x, &v, 4);
}
static void r_u16(bytes *x, uint16_t v)
{
    put(x, &v, 2);
}
static void r_f64(bytes *x, double v)
{
    put(x, &v, 8);
}

/* ---- fixtures ---- */

typedef struct fixture {
    arena a;
    sluice_avro_schema *w, *r;
    plan_column cols[32];
    size_t n_cols;
    plan *p;
    plan_state *st;
    buf out;
    sluice_error err;
    plan_result res;
} fixture;

static int schema(fixture *f, const char *wjson, const char *rjson)
{
    if (sluice_avro_schema_parse(wjson, strlen(wjson), &f->w, &f->err) != 0) {
        fprintf(stderr, "writer: %s\n", f->err.msg);
        return -1;
    }
    if (rjson && sluice_avro_schema_parse(rjson, strlen(rjson), &f->r, &f->err) != 0) {
        fprintf(stderr, "reader: %s\n", f->err.msg);
        return -1;
    }
    return 0;
}

static int column(fixture *f, const char *name, const char *type)
{
    const ch_type *t;
    if (ch_type_parse(type, &f->a, &t, &f->err) != 0) {
        fprintf(stderr, "type %s: %s\n", type, f->err.msg);
        return -1;
    }
    f->cols[f->n_cols++] = (plan_column){.name = name, .type = t, .insertable = 1};
    return 0;
}

static void setup(fixture *f)
{
    memset(f, 0, sizeof *f);
    arena_init(&f->a, 4096, SIZE_MAX);
    buf_init(&f->out, 1 << 20);
}

static int compile(fixture *f, const plan_options *opt)
{
    plan_options dflt = {.route = "sink.routes[0]"};
    if (!opt) opt = &dflt;
    int rc = plan_compile_avro(sluice_avro_schema_root(f->w),
                               f->r ? sluice_avro_schema_root(f->r) : NULL, f->cols, f->n_cols, opt,
                               &f->p, &f->err);
    if (rc == 0) f->st = plan_state_new(f->p);
    return rc;
}

static int run(fixture *f, const bytes *msg)
{
    return plan_run(f->p, f->st, msg->b, msg->n, 1700000000, &f->out, &f->res, &f->err);
}

static int same(fixture *f, const bytes *want)
{
    if (f->out.len == want->n && memcmp(f->out.data, want->b, want->n) == 0) return 1;
    fprintf(stderr, "rows differ: got %zu bytes, want %zu\n  got: ", f->out.len, want->n);
    for (size_t i = 0; i < f->out.len; i++)
        fprintf(stderr, "%02x ", f->out.data[i]);
    fprintf(stderr, "\n want: ");
    for (size_t i = 0; i < want->n; i++)
        fprintf(stderr, "%02x ", want->b[i]);
    fprintf(stderr, "\n");
    return 0;
}

static void teardown(fixture *f)
{
    plan_state_free(f->st);
    plan_free(f->p);
    sluice_avro_schema_free(f->w);
    sluice_avro_schema_free(f->r);
    buf_free(&f->out);
    arena_free(&f->a);
}

#define REC(fields) "{\"type\":\"record\",\"name\":\"E\",\"fields\":[" fields "]}"
#define F(n, t) "{\"name\":\"" n "\",\"type\":" t "}"

/* ---- tests ---- */

static void test_flat_record_in_table_order(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(
        schema(&f,
               REC(F("id", "\"long\"") "," F("name", "\"string\"") "," F("score", "\"double\"")),
               NULL),
        0);
    /* Table order differs from writer order; `created` has no source. */
    CHECK_EQ(column(&f, "score", "Float64"), 0);
    CHECK_EQ(column(&f, "created", "DateTime"), 0);
    CHECK_EQ(column(&f, "id", "Int64"), 0);
    CHECK_EQ(column(&f, "name", "String"), 0);
    CHECK_EQ(compile(&f, NULL), 0);
    CHECK_STR(plan_columns_sql(f.p), "(`score`, `id`, `name`)");
    bytes m = {.n = 0}, want = {.n = 0};
    a_long(&m, -3);
    a_str(&m, "ada");
    a_double(&m, 2.5);
    r_f64(&want, 2.5);
    r_i64(&want, -3);
    r_str(&want, "ada");
    CHECK_EQ(run(&f, &m), 0);
    CHECK_EQ(f.res.rows, 1);
    CHECK(same(&f, &want));
    teardown(&f);
}

static void test_extra_fields_and_reject(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(
        schema(&f,
               REC(F("id", "\"long\"") "," F(
                   "debug", "{\"type\":\"array\",\"items\":\"string\"}") "," F("n", "\"int\"")),
               NULL),
        0);
    CHECK_EQ(column(&f, "id", "Int64"), 0);
    CHECK_EQ(column(&f, "n", "Int32"), 0);
    CHECK_EQ(compile(&f, NULL), 0);
    bytes m = {.n = 0}, want = {.n = 0};
    a_long(&m, 7);
    a_long(&m, 2); /* debug: one block of 2 strings, skipped */
    a_str(&m, "x");
    a_str(&m, "yy");
    a_long(&m, 0);
    a_long(&m, 9);
    r_i64(&want, 7);
    r_i32(&want, 9);
    CHECK_EQ(run(&f, &m), 0);
    CHECK(same(&f, &want));
    plan_free(f.p);
    plan_state_free(f.st);
    f.p = NULL;
    f.st = NULL;
    plan_options reject = {.route = "sink.routes[2]", .extra_fields = PLAN_EXTRA_REJECT};
    CHECK_EQ(compile(&f, &reject), SLUICE_EINVAL);
    CHECK_CONTAINS(f.err.msg, "sink.routes[2]: field $.debug has no column named debug");
    teardown(&f);
}

static void test_nullable_and_null_into_plain(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(
        schema(&f, REC(F("a", "[\"null\",\"string\"]") "," F("b", "[\"null\",\"long\"]")), NULL),
        0);
    CHECK_EQ(column(&f, "a", "Nullable(String)"), 0);
    CHECK_EQ(column(&f, "b", "UInt32"), 0); /* not Nullable: NULL becomes 0 */
    CHECK_EQ(compile(&f, NULL), 0);
    bytes m = {.n = 0}, want = {.n = 0};
    a_long(&m, 1);
    a_str(&m, "x");
    a_long(&m, 0); /* b = null */
    u8(&want, 0);
    r_str(&want, "x");
    r_u32(&want, 0);
    CHECK_EQ(run(&f, &m), 0);
    bytes m2 = {.n = 0};
    a_long(&m2, 0); /* a = null */
    a_long(&m2, 1);
    a_long(&m2, 77);
    u8(&want, 1);
    r_u32(&want, 77);
    CHECK_EQ(run(&f, &m2), 0);
    CHECK(same(&f, &want));
    teardown(&f);
}

static void test_flatten_nested_and_nullable_record(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(
        schema(&f,
               REC(F("user",
                     "{\"type\":\"record\",\"name\":\"U\",\"fields\":[" F("id", "\"long\"") "," F(
                         "geo", "[\"null\",{\"type\":\"record\",\"name\":\"G\",\"fields\":[" F(
                                    "cc", "\"string\"") "]}]") "]}")),
               NULL),
        0);
    CHECK_EQ(column(&f, "user_id", "Int64"), 0);
    CHECK_EQ(column(&f, "user_geo_cc", "Nullable(String)"), 0);
    plan_options opt = {.route = "r", .separator = '_'};
    CHECK_EQ(compile(&f, &opt), 0);
    bytes m = {.n = 0}, want = {.n = 0};
    a_long(&m, 5);
    a_long(&m, 1);
    a_str(&m, "DE");
    r_i64(&want, 5);
    u8(&want, 0);
    r_str(&want, "DE");
    CHECK_EQ(run(&f, &m), 0);
    bytes m2 = {.n = 0};
    a_long(&m2, 6);
    a_long(&m2, 0); /* geo = null: its columns are NULL */
    r_i64(&want, 6);
    u8(&want, 1);
    CHECK_EQ(run(&f, &m2), 0);
    CHECK(same(&f, &want));
    teardown(&f);
}

static void test_arrays_nested_and_multiblock(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(
        schema(
            &f,
            REC(F("xs", "{\"type\":\"array\",\"items\":\"int\"}") "," F(
                "m", "{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"string\"}}")),
            NULL),
        0);
    CHECK_EQ(column(&f, "xs", "Array(Int32)"), 0);
    CHECK_EQ(column(&f, "m", "Array(Array(String))"), 0);
    CHECK_EQ(compile(&f, NULL), 0);
    bytes m = {.n = 0}, want = {.n = 0};
    /* xs: two blocks (2 then 1 item), the second with a negative count and
     * its byte size, as the spec allows. 200 items in total would need a
     * 2-byte count: keep it small but multi-block. */
    a_long(&m, 2);
    a_long(&m, 10);
    a_long(&m, -20);
    a_long(&m, -1);
    a_long(&m, 1);
    a_long(&m, 30);
    a_long(&m, 0);
    /* m: [["a"], []] */
    a_long(&m, 2);
    a_long(&m, 1);
    a_str(&m, "a");
    a_long(&m, 0);
    a_long(&m, 0);
    a_long(&m, 0);
    r_uleb(&want, 3);
    r_i32(&want, 10);
    r_i32(&want, -20);
    r_i32(&want, 30);
    r_uleb(&want, 2);
    r_uleb(&want, 1);
    r_str(&want, "a");
    r_uleb(&want, 0);
    CHECK_EQ(run(&f, &m), 0);
    CHECK(same(&f, &want));
    teardown(&f);
}

static void test_array_count_needing_more_bytes(void)
{
    /* 100 items in blocks of 50 + 80 + ... : the first block's count (1 byte
     * LEB128) must be rewritten as a 2-byte count (130). */
    fixture f;
    setup(&f);
    CHECK_EQ(schema(&f, REC(F("xs", "{\"type\":\"array\",\"items\":\"boolean\"}")), NULL), 0);
    CHECK_EQ(column(&f, "xs", "Array(UInt8)"), 0);
    CHECK_EQ(compile(&f, NULL), 0);
    bytes m = {.n = 0}, want = {.n = 0};
    a_long(&m, 50);
    for (int i = 0; i < 50; i++)
        u8(&m, (uint8_t)(i & 1));
    a_long(&m, 80);
    for (int i = 0; i < 80; i++)
        u8(&m, 1);
    a_long(&m, 0);
    r_uleb(&want, 130);
    for (int i = 0; i < 50; i++)
        u8(&want, (uint8_t)(i & 1));
    for (int i = 0; i < 80; i++)
        u8(&want, 1);
    CHECK_EQ(run(&f, &m), 0);
    CHECK(same(&f, &want));
    teardown(&f);
}

static void test_array_of_records_into_nested_columns(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(
        schema(
            &f,
            REC(F("id", "\"long\"") "," F(
                "items",
                "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"I\",\"fields\":[" F(
                    "sku", "\"string\"") "," F("qty", "\"int\"") "]}}")),
            NULL),
        0);
    CHECK_EQ(column(&f, "id", "Int64"), 0);
    CHECK_EQ(column(&f, "items.sku", "Array(String)"), 0);
    CHECK_EQ(column(&f, "items.qty", "Array(UInt32)"), 0);
    CHECK_EQ(compile(&f, NULL), 0);
    bytes m = {.n = 0}, want = {.n = 0};
    a_long(&m, 1);
    a_long(&m, 2);
    a_str(&m, "A");
    a_long(&m, 3);
    a_str(&m, "B");
    a_long(&m, 4);
    a_long(&m, 0);
    r_i64(&want, 1);
    r_uleb(&want, 2);
    r_str(&want, "A");
    r_str(&want, "B");
    r_uleb(&want, 2);
    r_u32(&want, 3);
    r_u32(&want, 4);
    CHECK_EQ(run(&f, &m), 0);
    CHECK(same(&f, &want));
    teardown(&f);
}

static void test_map_into_keys_values_and_record_as_json(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(schema(&f,
                    REC(F("attrs", "{\"type\":\"map\",\"values\":\"long\"}") "," F(
                        "ctx", "{\"type\":\"record\",\"name\":\"C\",\"fields\":[" F(
                                   "ip", "\"string\"") "," F("port", "\"int\"") "]}")),
                    NULL),
             0);
    CHECK_EQ(column(&f, "attrs.keys", "Array(String)"), 0);
    CHECK_EQ(column(&f, "attrs.values", "Array(Int64)"), 0);
    CHECK_EQ(column(&f, "ctx", "String"), 0);
    CHECK_EQ(compile(&f, NULL), 0);
    bytes m = {.n = 0}, want = {.n = 0};
    a_long(&m, 2);
    a_str(&m, "a");
    a_long(&m, 1);
    a_str(&m, "b");
    a_long(&m, -2);
    a_long(&m, 0);
    a_str(&m, "10.0.0.1");
    a_long(&m, 443);
    r_uleb(&want, 2);
    r_str(&want, "a");
    r_str(&want, "b");
    r_uleb(&want, 2);
    r_i64(&want, 1);
    r_i64(&want, -2);
    r_str(&want, "{\"ip\":\"10.0.0.1\",\"port\":443}");
    CHECK_EQ(run(&f, &m), 0);
    CHECK(same(&f, &want));
    teardown(&f);
}

static void test_enums_and_logical_types(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(
        schema(
            &f,
            REC(F("s", "{\"type\":\"enum\",\"name\":\"S\",\"symbols\":[\"NEW\",\"PAID\"]}") "," F(
                "s2", "\"S\"") "," F("at", "{\"type\":\"long\",\"logicalType\":\"timestamp-"
                                           "millis\"}") "," F("day", "{\"type\":\"int\","
                                                                     "\"logicalType\":\"date\"}")),
            NULL),
        0);
    CHECK_EQ(column(&f, "s", "Enum8('PAID' = 5, 'NEW' = -1)"), 0);
    CHECK_EQ(column(&f, "s2", "String"), 0);
    CHECK_EQ(column(&f, "at", "DateTime"), 0);
    CHECK_EQ(column(&f, "day", "Date"), 0);
    CHECK_EQ(compile(&f, NULL), 0);
    bytes m = {.n = 0}, want = {.n = 0};
    a_long(&m, 1);
    a_long(&m, 0);
    a_long(&m, 1700000000999LL);
    a_long(&m, 19000);
    u8(&want, 5);
    r_str(&want, "NEW");
    r_u32(&want, 1700000000u);
    r_u16(&want, 19000);
    CHECK_EQ(run(&f, &m), 0);
    CHECK(same(&f, &want));
    teardown(&f);
}

static void test_schema_resolution(void)
{
    /* Writer v1 lacks `source` (reader default "web") and has `legacy`
     * (reader drops it); `n` is int in the writer and long in the reader;
     * the writer's enum has a symbol the reader lacks (reader default). */
    fixture f;
    setup(&f);
    const char *w = REC(F("n", "\"int\"") "," F("legacy", "\"string\"") "," F(
        "st", "{\"type\":\"enum\",\"name\":\"St\",\"symbols\":[\"A\",\"OLD\"]}"));
    const char *r = REC(F("n", "\"long\"") "," F(
        "st",
        "{\"type\":\"enum\",\"name\":\"St\",\"symbols\":[\"A\",\"B\",\"UNKNOWN\"],\"default\":"
        "\"UNKNOWN\"}") ","
                        "{\"name\":\"source\",\"type\":\"string\",\"default\":\"web\"}");
    CHECK_EQ(schema(&f, w, r), 0);
    CHECK_EQ(column(&f, "n", "Int64"), 0);
    CHECK_EQ(column(&f, "st", "String"), 0);
    CHECK_EQ(column(&f, "source", "String"), 0);
    CHECK_EQ(column(&f, "legacy", "String"), 0); /* the reader dropped it: not written */
    CHECK_EQ(compile(&f, NULL), 0);
    CHECK_STR(plan_columns_sql(f.p), "(`n`, `st`, `source`)");
    bytes m = {.n = 0}, want = {.n = 0};
    a_long(&m, 12);
    a_str(&m, "gone");
    a_long(&m, 1); /* OLD -> UNKNOWN */
    r_i64(&want, 12);
    r_str(&want, "UNKNOWN");
    r_str(&want, "web");
    CHECK_EQ(run(&f, &m), 0);
    CHECK(same(&f, &want));
    teardown(&f);
    /* A reader that cannot read the writer: a compile error saying why. */
    setup(&f);
    CHECK_EQ(schema(&f, REC(F("n", "\"string\"")), REC(F("n", "\"long\""))), 0);
    CHECK_EQ(column(&f, "n", "Int64"), 0);
    CHECK_EQ(compile(&f, NULL), SLUICE_EINVAL);
    CHECK_CONTAINS(f.err.msg, "cannot read this writer schema");
    teardown(&f);
}

static void test_explode_filter_derived(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(
        schema(
            &f,
            REC(F("order", "\"long\"") "," F("status", "\"string\"") "," F(
                "items",
                "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"I\",\"fields\":[" F(
                    "sku", "\"string\"") "," F("qty", "\"int\"") "," F("price",
                                                                       "\"double\"") "]}}")),
            NULL),
        0);
    CHECK_EQ(column(&f, "order", "Int64"), 0);
    CHECK_EQ(column(&f, "items.sku", "String"), 0);
    CHECK_EQ(column(&f, "line_total", "Float64"), 0);
    CHECK_EQ(column(&f, "line_no", "UInt16"), 0);
    CHECK_EQ(column(&f, "sku_upper", "String"), 0);
    plan_derived d[] = {{"line_total", "items.qty * items.price"},
                        {"line_no", "index()"},
                        {"sku_upper", "upper(items.sku)"}};
    plan_options opt = {.route = "sink.routes[1]",
                        .explode = "items",
                        .filter = "status != 'CANCELLED' and items.qty > 0",
                        .derived = d,
                        .n_derived = 3};
    CHECK_EQ(compile(&f, &opt), 0);
    CHECK_STR(plan_columns_sql(f.p),
              "(`order`, `items.sku`, `line_total`, `line_no`, `sku_upper`)");
    bytes m = {.n = 0}, want = {.n = 0};
    a_long(&m, 42);
    a_str(&m, "PAID");
    a_long(&m, 3);
    a_str(&m, "a1");
    a_long(&m, 2);
    a_double(&m, 1.5);
    a_str(&m, "b2");
    a_long(&m, 0); /* qty 0: filtered out */
    a_double(&m, 9.0);
    a_str(&m, "c3");
    a_long(&m, 4);
    a_double(&m, 0.25);
    a_long(&m, 0);
    r_i64(&want, 42);
    r_str(&want, "a1");
    r_f64(&want, 3.0);
    r_u16(&want, 0);
    r_str(&want, "A1");
    r_i64(&want, 42);
    r_str(&want, "c3");
    r_f64(&want, 1.0);
    r_u16(&want, 2);
    r_str(&want, "C3");
    CHECK_EQ(run(&f, &m), 0);
    CHECK_EQ(f.res.rows, 2);
    CHECK_EQ(f.res.filtered, 1);
    CHECK(same(&f, &want));
    /* A cancelled order: every row filtered, nothing written. */
    bytes m2 = {.n = 0};
    a_long(&m2, 43);
    a_str(&m2, "CANCELLED");
    a_long(&m2, 1);
    a_str(&m2, "z");
    a_long(&m2, 1);
    a_double(&m2, 1.0);
    a_long(&m2, 0);
    size_t before = f.out.len;
    CHECK_EQ(run(&f, &m2), 0);
    CHECK_EQ(f.res.rows, 0);
    CHECK_EQ(f.res.filtered, 1);
    CHECK_EQ(f.out.len, before);
    teardown(&f);
}

static void test_compile_errors_name_route_and_column(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(schema(&f,
                    REC(F("price", "\"string\"") "," F(
                        "ctx",
                        "{\"type\":\"record\",\"name\":\"C\",\"fields\":[" F("a", "\"int\"") "]}")),
                    NULL),
             0);
    CHECK_EQ(column(&f, "ctx", "Int32"), 0);
    CHECK_EQ(compile(&f, NULL), SLUICE_EINVAL);
    CHECK_CONTAINS(f.err.msg, "field $.ctx (record) cannot go into column ctx (Int32)");
    teardown(&f);

    setup(&f);
    CHECK_EQ(schema(&f, REC(F("qty", "\"int\"")), NULL), 0);
    CHECK_EQ(column(&f, "qty", "Int32"), 0);
    CHECK_EQ(column(&f, "total", "Int64"), 0);
    plan_derived d[] = {{"total", "qty * prise"}};
    plan_options opt = {.route = "sink.routes[0]", .derived = d, .n_derived = 1};
    CHECK_EQ(compile(&f, &opt), SLUICE_ECONFIG);
    CHECK_CONTAINS(f.err.msg,
                   "sink.routes[0]: transform.columns.total: offset 6: unknown field 'prise'");
    plan_derived d2[] = {{"nope", "qty"}};
    opt.derived = d2;
    CHECK_EQ(compile(&f, &opt), SLUICE_ECONFIG);
    CHECK_CONTAINS(f.err.msg, "transform.columns.nope: the table has no insertable column nope");
    plan_options ex = {.route = "sink.routes[3]", .explode = "qty"};
    CHECK_EQ(compile(&f, &ex), SLUICE_ECONFIG);
    CHECK_CONTAINS(f.err.msg, "sink.routes[3]: transform.explode: qty is not an array field");
    teardown(&f);
}

static void test_bad_messages_write_nothing(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(schema(&f,
                    REC(F("id", "\"long\"") "," F("tag",
                                                  "[\"null\",\"string\"]") "," F("n", "\"long\"")),
                    NULL),
             0);
    CHECK_EQ(column(&f, "id", "Int64"), 0);
    CHECK_EQ(column(&f, "tag", "Nullable(String)"), 0);
    CHECK_EQ(column(&f, "n", "UInt8"), 0);
    CHECK_EQ(compile(&f, NULL), 0);
    bytes good = {.n = 0};
    a_long(&good, 1);
    a_long(&good, 1);
    a_str(&good, "hello");
    a_long(&good, 200);
    CHECK_EQ(run(&f, &good), 0);
    size_t len = f.out.len;
    /* Every proper prefix of a good message is an error that writes nothing. */
    for (size_t cut = 0; cut < good.n; cut++) {
        bytes part = good;
        part.n = cut;
        CHECK_EQ(run(&f, &part), SLUICE_EINVAL);
        CHECK_CONTAINS(f.err.msg, "truncated input");
        CHECK_EQ(f.out.len, len);
    }
    bytes extra = good;
    u8(&extra, 0);
    CHECK_EQ(run(&f, &extra), SLUICE_EINVAL);
    CHECK_CONTAINS(f.err.msg, "1 bytes left over");
    bytes badunion = {.n = 0};
    a_long(&badunion, 1);
    a_long(&badunion, 5);
    CHECK_EQ(run(&f, &badunion), SLUICE_EINVAL);
    CHECK_CONTAINS(f.err.msg, "offset 2, $.tag: union branch 5 out of range (2 branches)");
    bytes big = {.n = 0};
    a_long(&big, 1);
    a_long(&big, 0);
    a_long(&big, 300);
    CHECK_EQ(run(&f, &big), SLUICE_ERANGE);
    CHECK_CONTAINS(f.err.msg, "$.n: column n:");
    CHECK_CONTAINS(f.err.msg, "300");
    bytes neglen = {.n = 0};
    a_long(&neglen, 1);
    a_long(&neglen, 1);
    a_long(&neglen, -4);
    CHECK_EQ(run(&f, &neglen), SLUICE_EINVAL);
    CHECK_CONTAINS(f.err.msg, "negative length");
    CHECK_EQ(f.out.len, len);
    teardown(&f);
}

static void test_json_plan(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ(column(&f, "id", "UInt64"), 0);
    CHECK_EQ(column(&f, "user.name", "String"), 0);
    CHECK_EQ(column(&f, "tags", "Array(String)"), 0);
    CHECK_EQ(column(&f, "score", "Nullable(Float64)"), 0);
    CHECK_EQ(column(&f, "day", "Date"), 0);
    plan_options opt = {.route = "sink.routes[4]"};
    CHECK_EQ(plan_compile_json(f.cols, f.n_cols, &opt, &f.p, &f.err), 0);
    f.st = plan_state_new(f.p);
    const char *msg = "{\"id\":\"18446744073709551615\",\"user\":{\"name\":\"ada\"},\"tags\":["
                      "\"x\",\"y\"],\"day\":\"2024-02-29\"}";
    bytes m = {.n = 0}, want = {.n = 0};
    put(&m, msg, strlen(msg));
    uint64_t maxu = UINT64_MAX;
    put(&want, &maxu, 8);
    r_str(&want, "ada");
    r_uleb(&want, 2);
    r_str(&want, "x");
    r_str(&want, "y");
    u8(&want, 1); /* score absent: NULL */
    r_u16(&want, 19782);
    CHECK_EQ(run(&f, &m), 0);
    CHECK(same(&f, &want));
    bytes bad = {.n = 0};
    put(&bad, "{\"id\": 1,", 9);
    size_t len = f.out.len;
    CHECK_EQ(run(&f, &bad), SLUICE_EINVAL);
    CHECK_CONTAINS(f.err.msg, "not JSON");
    bytes wrong = {.n = 0};
    put(&wrong, "{\"id\": -1}", 10);
    CHECK_EQ(run(&f, &wrong), SLUICE_ERANGE);
    CHECK_CONTAINS(f.err.msg, "column id");
    CHECK_EQ(f.out.len, len);
    teardown(&f);
}

TEST_MAIN(T(test_flat_record_in_table_order), T(test_extra_fields_and_reject),
          T(test_nullable_and_null_into_plain), T(test_flatten_nested_and_nullable_record),
          T(test_arrays_nested_and_multiblock), T(test_array_count_needing_more_bytes),
          T(test_array_of_records_into_nested_columns),
          T(test_map_into_keys_values_and_record_as_json), T(test_enums_and_logical_types),
          T(test_schema_resolution), T(test_explode_filter_derived),
          T(test_compile_errors_name_route_and_column), T(test_bad_messages_write_nothing),
          T(test_json_plan))
