/*
 * test_plan_proto.c — the Protobuf plan (plan_proto_compile.c, plan_proto_run.c): wire bytes into
 * ClickHouse RowBinary rows, byte for byte, and the framing step that
 * finds the message type (proto_wire.c).
 *
 * Messages are written with a tiny Protobuf writer of the test's own,
 * following the encoding spec directly (so a test can repeat a field,
 * split a packed run, or cut a message short), and by Debian's protoc
 * (`protoc --encode`, from text format) where the test wants bytes no code
 * of ours wrote. Expected rows are written with a tiny RowBinary writer.
 * What ClickHouse makes of the rows is test_plan_proto_clickhouse.c's job.
 */
#include "test.h"

#include "codec/ch_type.h"
#include "codec/plan.h"
#include "codec/proto_schema.h"
#include "codec/proto_wire.h"
#include "common/arena.h"
#include "support.h"

#include <sluice/wire.h>

#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- bytes ---- */

typedef struct bytes {
    uint8_t b[8192];
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
static void varint(bytes *x, uint64_t v)
{
    while (v > 0x7f) {
        u8(x, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    u8(x, (uint8_t)v);
}

/* Protobuf */
static void tag(bytes *x, int num, int wire)
{
    varint(x, (uint64_t)num << 3 | (uint64_t)wire);
}
static void pb_varint(bytes *x, int num, uint64_t v)
{
    tag(x, num, 0);
    varint(x, v);
}
static void pb_sint(bytes *x, int num, int64_t v)
{
    pb_varint(x, num, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
static void pb_fixed32(bytes *x, int num, uint32_t v)
{
    tag(x, num, 5);
    put(x, &v, 4);
}
static void pb_fixed64(bytes *x, int num, uint64_t v)
{
    tag(x, num, 1);
    put(x, &v, 8);
}
static void pb_double(bytes *x, int num, double d)
{
    tag(x, num, 1);
    put(x, &d, 8);
}
static void pb_float(bytes *x, int num, float f)
{
    tag(x, num, 5);
    put(x, &f, 4);
}
static void pb_len(bytes *x, int num, const void *p, size_t n)
{
    tag(x, num, 2);
    varint(x, n);
    put(x, p, n);
}
static void pb_str(bytes *x, int num, const char *s)
{
    pb_len(x, num, s, strlen(s));
}
static void pb_msg(bytes *x, int num, const bytes *sub)
{
    pb_len(x, num, sub->b, sub->n);
}

/* RowBinary */
static void r_str(bytes *x, const char *s)
{
    varint(x, strlen(s));
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
static void r_f32(bytes *x, float v)
{
    put(x, &v, 4);
}

/* ---- fixture ---- */

typedef struct fixture {
    arena a;
    proto_schema *s;
    const proto_message *m;
    plan_column cols[48];
    size_t n_cols;
    plan *p;
    plan_state *st;
    buf out;
    sluice_error err;
    plan_result res;
    plan_options opt;
} fixture;

static fixture *fx_new(const char *proto, const char *message)
{
    fixture *f = calloc(1, sizeof *f);
    arena_init(&f->a, 4096, SIZE_MAX);
    buf_init(&f->out, 1 << 20);
    f->opt.route = "sink.routes[0]";
    f->opt.separator = '.';
    if (proto_schema_parse(proto, strlen(proto), "t.proto", NULL, 0, &f->s, &f->err) != 0) {
        fprintf(stderr, "schema: %s\n", f->err.msg);
        return f;
    }
    f->m = proto_schema_find_message(f->s, message);
    if (!f->m) fprintf(stderr, "no message %s\n", message);
    return f;
}

static void fx_free(fixture *f)
{
    plan_state_free(f->st);
    plan_free(f->p);
    proto_schema_free(f->s);
    buf_free(&f->out);
    arena_free(&f->a);
    free(f);
}

static int col(fixture *f, const char *name, const char *type)
{
    const ch_type *t;
    if (ch_type_parse(type, &f->a, &t, &f->err) != 0) {
        fprintf(stderr, "type %s: %s\n", type, f->err.msg);
        return -1;
    }
    f->cols[f->n_cols++] = (plan_column){.name = name, .type = t, .insertable = 1};
    return 0;
}

static int compile(fixture *f)
{
    if (!f->m) return -1;
    int rc = plan_compile_proto(f->m, f->cols, f->n_cols, &f->opt, &f->p, &f->err);
    if (rc) return rc;
    f->st = plan_state_new(f->p);
    return f->st ? 0 : -1;
}

static int run(fixture *f, const bytes *msg)
{
    return plan_run(f->p, f->st, msg->b, msg->n, 1700000000, &f->out, &f->res, &f->err);
}

/* The rows so far equal want; then forget them. */
static int same(fixture *f, const bytes *want)
{
    int ok = f->out.len == want->n && memcmp(f->out.data, want->b, want->n) == 0;
    if (!ok) {
        fprintf(stderr, "rows differ: got %zu bytes, want %zu\n  got: ", f->out.len, want->n);
        for (size_t i = 0; i < f->out.len; i++)
            fprintf(stderr, "%02x ", f->out.data[i]);
        fprintf(stderr, "\n want: ");
        for (size_t i = 0; i < want->n; i++)
            fprintf(stderr, "%02x ", want->b[i]);
        fprintf(stderr, "\n");
    }
    buf_reset(&f->out);
    return ok;
}

#define SCALARS                                                                                    \
    "syntax = \"proto3\";\npackage t;\n"                                                           \
    "enum Kind { VIEW = 0; CLICK = 1; BUY = 7; }\n"                                                \
    "message S {\n"                                                                                \
    "  int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4;\n"                            \
    "  sint32 s32 = 5; sint64 s64 = 6; fixed32 f32 = 7; fixed64 f64 = 8;\n"                        \
    "  sfixed32 sf32 = 9; sfixed64 sf64 = 10; float fl = 11; double db = 12;\n"                    \
    "  bool b = 13; string s = 14; bytes by = 15; Kind kind = 16;\n"                               \
    "}\n"

static int scalar_columns(fixture *f)
{
    return col(f, "i32", "Int32") || col(f, "i64", "Int64") || col(f, "u32", "UInt32") ||
           col(f, "u64", "UInt64") || col(f, "s32", "Int32") || col(f, "s64", "Int64") ||
           col(f, "f32", "UInt32") || col(f, "f64", "UInt64") || col(f, "sf32", "Int32") ||
           col(f, "sf64", "Int64") || col(f, "fl", "Float32") || col(f, "db", "Float64") ||
           col(f, "b", "UInt8") || col(f, "s", "String") || col(f, "by", "String") ||
           col(f, "kind", "Enum8('VIEW' = 1, 'CLICK' = 2, 'BUY' = 3)");
}

static void test_every_scalar_type(void)
{
    fixture *f = fx_new(SCALARS, "t.S");
    CHECK(scalar_columns(f) == 0);
    CHECK_EQ(compile(f), 0);
    CHECK_STR(plan_columns_sql(f->p), "(`i32`, `i64`, `u32`, `u64`, `s32`, `s64`, `f32`, `f64`, "
                                      "`sf32`, `sf64`, `fl`, `db`, `b`, `s`, `by`, `kind`)");
    bytes m = {0}, want = {0};
    pb_varint(&m, 1, (uint64_t)(int64_t)-5); /* int32 -5: ten bytes on the wire */
    pb_varint(&m, 2, (uint64_t)INT64_MIN);
    pb_varint(&m, 3, 4000000000u);
    pb_varint(&m, 4, UINT64_MAX);
    pb_sint(&m, 5, -70000);
    pb_sint(&m, 6, INT64_MAX);
    pb_fixed32(&m, 7, 0xdeadbeef);
    pb_fixed64(&m, 8, 0x0123456789abcdefull);
    pb_fixed32(&m, 9, (uint32_t)-3);
    pb_fixed64(&m, 10, (uint64_t)-4);
    pb_float(&m, 11, 1.5f);
    pb_double(&m, 12, -2.25);
    pb_varint(&m, 13, 1);
    pb_str(&m, 14, "héllo");
    pb_len(&m, 15, "\x00\xff", 2);
    pb_varint(&m, 16, 7);
    CHECK_EQ(run(f, &m), 0);
    CHECK_EQ(f->res.rows, 1);
    r_i32(&want, -5);
    r_i64(&want, INT64_MIN);
    r_u32(&want, 4000000000u);
    uint64_t u = UINT64_MAX;
    put(&want, &u, 8);
    r_i32(&want, -70000);
    r_i64(&want, INT64_MAX);
    r_u32(&want, 0xdeadbeef);
    u = 0x0123456789abcdefull;
    put(&want, &u, 8);
    r_i32(&want, -3);
    r_i64(&want, -4);
    r_f32(&want, 1.5f);
    r_f64(&want, -2.25);
    u8(&want, 1);
    r_str(&want, "héllo");
    varint(&want, 2);
    put(&want, "\x00\xff", 2);
    u8(&want, 3); /* BUY = 3 in the column */
    CHECK(same(f, &want));

    /* Every field absent: proto3's zeros, the enum's first value. */
    bytes empty = {0};
    CHECK_EQ(run(f, &empty), 0);
    want.n = 0;
    r_i32(&want, 0);
    r_i64(&want, 0);
    r_u32(&want, 0);
    r_i64(&want, 0);
    r_i32(&want, 0);
    r_i64(&want, 0);
    r_u32(&want, 0);
    r_i64(&want, 0);
    r_i32(&want, 0);
    r_i64(&want, 0);
    r_f32(&want, 0);
    r_f64(&want, 0);
    u8(&want, 0);
    r_str(&want, "");
    r_str(&want, "");
    u8(&want, 1); /* VIEW */
    CHECK(same(f, &want));
    fx_free(f);
}

/* The same values through the general encoder: other column types. */
static void test_conversions_and_fields_in_any_order(void)
{
    fixture *f = fx_new(SCALARS, "t.S");
    /* Table order differs from field order: scratch columns, same rows. */
    CHECK(col(f, "kind", "String") == 0 && col(f, "u64", "String") == 0 &&
          col(f, "i32", "Int64") == 0 && col(f, "s", "Nullable(String)") == 0 &&
          col(f, "db", "Decimal(10, 2)") == 0 && col(f, "b", "String") == 0 &&
          col(f, "u32", "Float64") == 0 && col(f, "fl", "Float64") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, want = {0};
    pb_varint(&m, 16, 1);
    pb_double(&m, 12, 12.5);
    pb_varint(&m, 4, 18446744073709551000ull);
    pb_str(&m, 14, "x");
    pb_varint(&m, 1, 2147483647);
    pb_varint(&m, 13, 5); /* any non-zero varint is true */
    pb_varint(&m, 3, 7);
    pb_float(&m, 11, 0.25f);
    CHECK_EQ(run(f, &m), 0);
    r_str(&want, "CLICK");
    r_str(&want, "18446744073709551000");
    r_i64(&want, 2147483647);
    u8(&want, 0);
    r_str(&want, "x");
    put(&want, &(int64_t){1250}, 8);
    r_str(&want, "true");
    r_f64(&want, 7);
    r_f64(&want, 0.25);
    CHECK(same(f, &want));
    /* An enum number the schema does not know: its number, as text. */
    bytes m2 = {0};
    pb_varint(&m2, 16, 42);
    CHECK_EQ(run(f, &m2), 0);
    want.n = 0;
    r_str(&want, "42");
    r_str(&want, "0");
    r_i64(&want, 0);
    u8(&want, 0); /* implicit presence: "" not NULL */
    r_str(&want, "");
    put(&want, &(int64_t){0}, 8);
    r_str(&want, "false");
    r_f64(&want, 0);
    r_f64(&want, 0);
    CHECK(same(f, &want));
    fx_free(f);
}

static void test_proto2_defaults_and_required(void)
{
    fixture *f = fx_new("syntax = \"proto2\";\npackage t;\n"
                        "enum Color { RED = 3; GREEN = 4; }\n"
                        "message P {\n"
                        "  optional int32 a = 1 [default = -7];\n"
                        "  optional string s = 2 [default = \"hi\"];\n"
                        "  optional Color c = 3 [default = GREEN];\n"
                        "  required int64 id = 4;\n"
                        "  optional int32 n = 5;\n"
                        "  optional bytes raw = 6 [default = \"a\\001b\"];\n"
                        "  optional double d = 7 [default = -inf];\n"
                        "  optional Color c2 = 8;\n"
                        "  optional sint32 z = 9 [default = -3];\n"
                        "}\n",
                        "t.P");
    CHECK(col(f, "a", "Int32") == 0 && col(f, "s", "String") == 0 && col(f, "c", "String") == 0 &&
          col(f, "id", "Int64") == 0 && col(f, "n", "Nullable(Int32)") == 0 &&
          col(f, "raw", "String") == 0 && col(f, "d", "Float64") == 0 &&
          col(f, "c2", "Enum8('RED' = 1, 'GREEN' = 2)") == 0 && col(f, "z", "Int32") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, want = {0};
    pb_varint(&m, 4, 9);
    CHECK_EQ(run(f, &m), 0);
    r_i32(&want, -7);
    r_str(&want, "hi");
    r_str(&want, "GREEN");
    r_i64(&want, 9);
    u8(&want, 1); /* NULL: proto2 optional has presence */
    varint(&want, 3);
    put(&want, "a\001b", 3);
    r_f64(&want, -INFINITY);
    u8(&want, 1); /* RED, the first value */
    r_i32(&want, -3);
    CHECK(same(f, &want));
    /* A set value, even the default's, is the value. */
    bytes m2 = {0};
    pb_varint(&m2, 4, 1);
    pb_varint(&m2, 5, 0);
    CHECK_EQ(run(f, &m2), 0);
    CHECK_EQ(f->out.data[4 + 3 + 6 + 8], 0); /* n's flag: not NULL */
    buf_reset(&f->out);
    bytes m3 = {0};
    pb_varint(&m3, 1, 5);
    CHECK_EQ(run(f, &m3), SLUICE_EINVAL);
    CHECK_STR(f->err.msg, "offset 2, $.id: required field is missing");
    CHECK_EQ(f->out.len, 0);
    fx_free(f);
}

static void test_proto3_presence_into_nullable(void)
{
    fixture *f = fx_new("syntax = \"proto3\";\npackage t;\n"
                        "message O { optional int32 o = 1; int32 plain = 2; string s = 3; "
                        "optional string os = 4; }\n",
                        "t.O");
    CHECK(col(f, "o", "Nullable(Int32)") == 0 && col(f, "plain", "Nullable(Int32)") == 0 &&
          col(f, "s", "Nullable(String)") == 0 &&
          col(f, "os", "LowCardinality(Nullable(String))") == 0);
    CHECK_EQ(compile(f), 0);
    bytes empty = {0}, want = {0};
    CHECK_EQ(run(f, &empty), 0);
    u8(&want, 1);
    u8(&want, 0);
    r_i32(&want, 0); /* implicit presence: absent is 0, not NULL */
    u8(&want, 0);
    r_str(&want, "");
    u8(&want, 1);
    CHECK(same(f, &want));
    bytes m = {0};
    pb_varint(&m, 1, 0);
    pb_str(&m, 4, "");
    CHECK_EQ(run(f, &m), 0);
    want.n = 0;
    u8(&want, 0);
    r_i32(&want, 0);
    u8(&want, 0);
    r_i32(&want, 0);
    u8(&want, 0);
    r_str(&want, "");
    u8(&want, 0);
    r_str(&want, "");
    CHECK(same(f, &want));
    fx_free(f);
}

static void test_unknown_fields_are_skipped(void)
{
    fixture *f = fx_new(SCALARS, "t.S");
    CHECK(col(f, "i32", "Int32") == 0 && col(f, "s", "String") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, want = {0}, sub = {0};
    pb_varint(&m, 100, 12345678901ull); /* unknown, every wire type */
    pb_fixed64(&m, 101, 1);
    pb_str(&m, 102, "skip me");
    pb_fixed32(&m, 103, 1);
    tag(&m, 104, 3); /* a group with a group inside */
    pb_varint(&m, 1, 99);
    tag(&m, 105, 3);
    pb_str(&m, 2, "x");
    tag(&m, 105, 4);
    tag(&m, 104, 4);
    pb_varint(&m, 1, 8);
    pb_double(&m, 12, 1.0); /* known, no column: skipped too */
    pb_varint(&m, 16, 3);
    pb_varint(&m, 536870911, 1); /* the largest field number */
    pb_str(&m, 14, "kept");
    (void)sub;
    CHECK_EQ(run(f, &m), 0);
    r_i32(&want, 8);
    r_str(&want, "kept");
    CHECK(same(f, &want));
    fx_free(f);
}

static void test_bad_bytes_name_offset_and_path(void)
{
    fixture *f = fx_new(SCALARS, "t.S");
    CHECK(scalar_columns(f) == 0);
    CHECK_EQ(compile(f), 0);
    static const struct {
        const char *bytes;
        size_t n;
        const char *msg;
    } cases[] = {
        {"\x0a\x01x", 3, "offset 0, $.i32: wire type LEN where int32 needs VARINT"},
        {"\x70\x01", 2, "offset 0, $.s: wire type VARINT where string needs LEN"},
        {"\x59\x00\x00\x00\x00", 5, "offset 0, $.fl: wire type I64 where float needs I32"},
        {"\x08\x80", 2, "offset 1, $.i32: truncated input"},
        {"\x72\x05"
         "ab",
         4, "offset 1, $.s: length runs past the end of the message"},
        {"\x0f\x01", 2, "offset 0, $: invalid wire type (6 or 7)"},
        {"\x00\x01", 2, "offset 0, $: invalid field number (0, or above 536870911)"},
        {"\xa4\x01", 2, "offset 0, $: end-group tag without its start group"},
        {"\xa3\x06\x08\x01", 4, "offset 0, $: truncated input"},
        {"\xa3\x06\xac\x06", 4, "offset 0, $: end-group tag without its start group"},
        {"\x3d\x01\x02", 3, "offset 1, $.f32: truncated input"},
        {"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12,
         "offset 1, $.i32: varint longer than 10 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bytes m = {0};
        put(&m, cases[i].bytes, cases[i].n);
        buf_append(&f->out, "keep", 4);
        CHECK_EQ(run(f, &m), SLUICE_EINVAL);
        CHECK_STR(f->err.msg, cases[i].msg);
        CHECK_EQ(f->out.len, 4); /* nothing of a failed message stays */
        buf_reset(&f->out);
    }
    /* Every prefix of a good message: a row or an error, never more. */
    bytes m = {0};
    pb_varint(&m, 1, (uint64_t)(int64_t)-5);
    pb_varint(&m, 4, UINT64_MAX);
    pb_fixed64(&m, 8, 7);
    pb_str(&m, 14, "héllo");
    pb_float(&m, 11, 1.5f);
    for (size_t n = 0; n <= m.n; n++) {
        bytes cut = {0};
        put(&cut, m.b, n);
        int rc = run(f, &cut);
        CHECK(rc == 0 || (rc == SLUICE_EINVAL && strncmp(f->err.msg, "offset ", 7) == 0));
        CHECK_EQ(f->res.rows, rc == 0 ? 1 : 0);
        buf_reset(&f->out);
    }
    fx_free(f);
}

static void test_repeated_packed_and_unpacked(void)
{
    fixture *f = fx_new("syntax = \"proto3\";\npackage t;\n"
                        "enum Kind { VIEW = 0; CLICK = 1; }\n"
                        "message R { repeated int32 xs = 1; repeated string tags = 2; "
                        "repeated double ds = 3; repeated sint64 zs = 4 [packed = false]; "
                        "repeated Kind ks = 5; repeated fixed32 fs = 6; }\n",
                        "t.R");
    CHECK(col(f, "xs", "Array(Int32)") == 0 && col(f, "tags", "Array(String)") == 0 &&
          col(f, "ds", "Array(Float64)") == 0 && col(f, "zs", "Array(Int64)") == 0 &&
          col(f, "ks", "Array(String)") == 0 && col(f, "fs", "Array(UInt32)") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, want = {0}, run1 = {0}, run2 = {0}, dd = {0};
    varint(&run1, 1);
    varint(&run1, 2);
    pb_len(&m, 1, run1.b, run1.n); /* packed [1, 2] */
    pb_str(&m, 2, "a");
    pb_varint(&m, 1, 3); /* unpacked 3, between other fields */
    pb_str(&m, 2, "b");
    varint(&run2, 300);
    pb_len(&m, 1, run2.b, run2.n); /* a second packed run */
    double d2[] = {1.5, 2.5};
    put(&dd, d2, sizeof d2);
    pb_len(&m, 3, dd.b, dd.n);
    pb_sint(&m, 4, -1);
    pb_sint(&m, 4, -2);
    bytes zs = {0};
    varint(&zs, 10); /* 5, packed although declared unpacked: accepted */
    pb_len(&m, 4, zs.b, zs.n);
    bytes ks = {0};
    varint(&ks, 0);
    varint(&ks, 1);
    pb_len(&m, 5, ks.b, ks.n);
    CHECK_EQ(run(f, &m), 0);
    varint(&want, 4);
    r_i32(&want, 1);
    r_i32(&want, 2);
    r_i32(&want, 3);
    r_i32(&want, 300);
    varint(&want, 2);
    r_str(&want, "a");
    r_str(&want, "b");
    varint(&want, 2);
    r_f64(&want, 1.5);
    r_f64(&want, 2.5);
    varint(&want, 3);
    r_i64(&want, -1);
    r_i64(&want, -2);
    r_i64(&want, 5);
    varint(&want, 2);
    r_str(&want, "VIEW");
    r_str(&want, "CLICK");
    varint(&want, 0);
    CHECK(same(f, &want));
    /* 200 values: the count takes two bytes, the values move once. */
    bytes big = {0}, vals = {0};
    for (int i = 0; i < 200; i++)
        varint(&vals, (uint64_t)i);
    pb_len(&big, 1, vals.b, vals.n);
    pb_fixed32(&big, 6, 9);
    CHECK_EQ(run(f, &big), 0);
    want.n = 0;
    varint(&want, 200);
    for (int i = 0; i < 200; i++)
        r_i32(&want, i);
    for (int i = 0; i < 4; i++)
        varint(&want, 0);
    varint(&want, 1);
    r_u32(&want, 9);
    CHECK(same(f, &want));
    /* A packed run of fixed-width values that is not whole. */
    bytes bad = {0};
    pb_len(&bad, 3, "12345678901", 11);
    CHECK_EQ(run(f, &bad), SLUICE_EINVAL);
    CHECK_STR(f->err.msg,
              "offset 0, $.ds: packed run of 11 bytes is not a whole number of 8-byte values");
    fx_free(f);
}

#define NESTED                                                                                     \
    "syntax = \"proto3\";\npackage t;\n"                                                           \
    "message Deep { bool z = 1; }\n"                                                               \
    "message Inner { int32 x = 1; string y = 2; Deep deep = 3; }\n"                                \
    "message Outer { int64 id = 1; Inner in = 2; Inner other = 3; Outer self = 4; }\n"

static void test_messages_flatten_and_merge(void)
{
    fixture *f = fx_new(NESTED, "t.Outer");
    CHECK(col(f, "id", "Int64") == 0 && col(f, "in.x", "Int32") == 0 &&
          col(f, "in.y", "Nullable(String)") == 0 && col(f, "in.deep.z", "UInt8") == 0 &&
          col(f, "other.x", "Nullable(Int32)") == 0 &&
          col(f, "other.deep.z", "Nullable(UInt8)") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, in = {0}, deep = {0}, want = {0};
    pb_varint(&deep, 1, 1);
    pb_varint(&in, 1, 5);
    pb_msg(&in, 3, &deep);
    pb_varint(&m, 1, 1);
    pb_msg(&m, 2, &in);
    CHECK_EQ(run(f, &m), 0);
    r_i64(&want, 1);
    r_i32(&want, 5);
    u8(&want, 0);
    r_str(&want, ""); /* in is present: y is its default, not NULL */
    u8(&want, 1);
    u8(&want, 1); /* other is absent: NULL below it */
    u8(&want, 1);
    CHECK(same(f, &want));
    /* Two occurrences merge; a scalar seen twice keeps the last value. */
    bytes m2 = {0}, a = {0}, b = {0};
    pb_varint(&a, 1, 1);
    pb_str(&a, 2, "first");
    pb_varint(&b, 1, 2);
    pb_msg(&m2, 2, &a);
    pb_varint(&m2, 1, 7);
    pb_msg(&m2, 2, &b);
    pb_varint(&m2, 1, 8);
    CHECK_EQ(run(f, &m2), 0);
    want.n = 0;
    r_i64(&want, 8);
    r_i32(&want, 2);
    u8(&want, 0);
    r_str(&want, "first");
    u8(&want, 0);
    u8(&want, 1);
    u8(&want, 1);
    CHECK(same(f, &want));
    fx_free(f);

    /* The other separator; a recursive message's own columns end at one level. */
    f = fx_new(NESTED, "t.Outer");
    f->opt.separator = '_';
    CHECK(col(f, "in_x", "Int64") == 0 && col(f, "self_id", "Int64") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m3 = {0}, self = {0};
    pb_varint(&self, 1, 77);
    pb_msg(&m3, 4, &self);
    CHECK_EQ(run(f, &m3), 0);
    want.n = 0;
    r_i64(&want, 0);
    r_i64(&want, 77);
    CHECK(same(f, &want));
    fx_free(f);
}

#define ORDER                                                                                      \
    "syntax = \"proto3\";\npackage t;\n"                                                           \
    "message Item { string sku = 1; int32 qty = 2; repeated string tags = 3; "                     \
    "optional double price = 4; }\n"                                                               \
    "message Order { int64 id = 1; repeated Item items = 2; string note = 3; "                     \
    "map<string, int64> counts = 4; map<int32, string> names = 5; }\n"

static void test_repeated_messages_into_nested_columns(void)
{
    fixture *f = fx_new(ORDER, "t.Order");
    CHECK(col(f, "id", "Int64") == 0 && col(f, "items.sku", "Array(String)") == 0 &&
          col(f, "items.qty", "Array(Int32)") == 0 &&
          col(f, "items.tags", "Array(Array(String))") == 0 &&
          col(f, "items.price", "Array(Nullable(Float64))") == 0 && col(f, "note", "String") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, i1 = {0}, i2 = {0}, want = {0};
    pb_str(&i1, 1, "a");
    pb_varint(&i1, 2, 2);
    pb_str(&i1, 3, "x");
    pb_str(&i1, 3, "y");
    pb_double(&i2, 4, 1.5);
    pb_str(&i2, 1, "b");
    pb_varint(&m, 1, 10);
    pb_msg(&m, 2, &i1);
    pb_str(&m, 3, "n");
    pb_msg(&m, 2, &i2);
    CHECK_EQ(run(f, &m), 0);
    r_i64(&want, 10);
    varint(&want, 2);
    r_str(&want, "a");
    r_str(&want, "b");
    varint(&want, 2);
    r_i32(&want, 2);
    r_i32(&want, 0);
    varint(&want, 2);
    varint(&want, 2);
    r_str(&want, "x");
    r_str(&want, "y");
    varint(&want, 0);
    varint(&want, 2);
    u8(&want, 1);
    u8(&want, 0);
    r_f64(&want, 1.5);
    r_str(&want, "n");
    CHECK(same(f, &want));
    bytes none = {0};
    CHECK_EQ(run(f, &none), 0);
    want.n = 0;
    r_i64(&want, 0);
    for (int i = 0; i < 4; i++)
        varint(&want, 0);
    r_str(&want, "");
    CHECK(same(f, &want));
    /* An item's field of the wrong wire type names the item. */
    bytes badi = {0}, bad = {0};
    pb_str(&badi, 2, "two");
    pb_msg(&bad, 2, &badi);
    CHECK_EQ(run(f, &bad), SLUICE_EINVAL);
    CHECK_STR(f->err.msg, "offset 2, $.items[].qty: wire type LEN where int32 needs VARINT");
    fx_free(f);
}

static void test_maps(void)
{
    fixture *f = fx_new(ORDER, "t.Order");
    CHECK(col(f, "counts.keys", "Array(String)") == 0 &&
          col(f, "counts.values", "Array(Int64)") == 0 &&
          col(f, "names", "Map(Int32, String)") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, e1 = {0}, e2 = {0}, e3 = {0}, want = {0};
    pb_str(&e1, 1, "a");
    pb_varint(&e1, 2, 3);
    pb_varint(&e2, 2, 4); /* value before key */
    pb_str(&e2, 1, "b");
    pb_str(&e3, 1, "c"); /* no value: 0 */
    pb_msg(&m, 4, &e1);
    pb_msg(&m, 4, &e2);
    pb_msg(&m, 4, &e3);
    bytes n1 = {0};
    pb_varint(&n1, 1, 7);
    pb_str(&n1, 2, "seven");
    pb_msg(&m, 5, &n1);
    CHECK_EQ(run(f, &m), 0);
    varint(&want, 3);
    r_str(&want, "a");
    r_str(&want, "b");
    r_str(&want, "c");
    varint(&want, 3);
    r_i64(&want, 3);
    r_i64(&want, 4);
    r_i64(&want, 0);
    varint(&want, 1);
    r_i32(&want, 7);
    r_str(&want, "seven");
    CHECK(same(f, &want));
    fx_free(f);
}

#define WELLKNOWN                                                                                  \
    "syntax = \"proto3\";\npackage t;\n"                                                           \
    "import \"google/protobuf/timestamp.proto\";\n"                                                \
    "import \"google/protobuf/wrappers.proto\";\n"                                                 \
    "message W {\n"                                                                                \
    "  google.protobuf.Timestamp at = 1; google.protobuf.Timestamp at2 = 2;\n"                     \
    "  google.protobuf.Timestamp at3 = 3; google.protobuf.Timestamp at4 = 4;\n"                    \
    "  google.protobuf.Int64Value n = 5; google.protobuf.StringValue s = 6;\n"                     \
    "  google.protobuf.BoolValue b = 7; google.protobuf.Timestamp missing = 8;\n"                  \
    "  google.protobuf.DoubleValue d = 9; repeated google.protobuf.Timestamp ats = 10;\n"          \
    "  google.protobuf.UInt64Value big = 11;\n"                                                    \
    "}\n"

static void test_timestamps_and_wrappers(void)
{
    fixture *f = fx_new(WELLKNOWN, "t.W");
    CHECK(col(f, "at", "DateTime") == 0 && col(f, "at2", "DateTime64(3)") == 0 &&
          col(f, "at3", "Date") == 0 && col(f, "at4", "String") == 0 &&
          col(f, "n", "Nullable(Int64)") == 0 && col(f, "s", "Nullable(String)") == 0 &&
          col(f, "b", "UInt8") == 0 && col(f, "missing", "Nullable(DateTime)") == 0 &&
          col(f, "d", "Nullable(Float64)") == 0 && col(f, "ats", "Array(DateTime)") == 0 &&
          col(f, "big", "UInt64") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, ts = {0}, want = {0}, empty = {0}, bv = {0}, dv = {0}, t2 = {0}, big = {0};
    pb_varint(&ts, 1, 1700000000);
    pb_varint(&ts, 2, 123456789);
    pb_msg(&m, 1, &ts);
    pb_msg(&m, 2, &ts);
    pb_msg(&m, 3, &ts);
    pb_msg(&m, 4, &ts);
    pb_msg(&m, 5, &empty); /* present, value 0 */
    pb_varint(&bv, 1, 1);
    pb_msg(&m, 7, &bv);
    pb_double(&dv, 1, 2.5);
    pb_msg(&m, 9, &dv);
    pb_varint(&t2, 1, 86400);
    pb_msg(&m, 10, &t2);
    pb_msg(&m, 10, &empty);
    pb_varint(&big, 1, UINT64_MAX);
    pb_msg(&m, 11, &big);
    CHECK_EQ(run(f, &m), 0);
    r_u32(&want, 1700000000);
    r_i64(&want, 1700000000123LL);
    r_u16(&want, 19675);
    r_str(&want, "2023-11-14T22:13:20.123456789Z");
    u8(&want, 0);
    r_i64(&want, 0);
    u8(&want, 1); /* s absent: NULL */
    u8(&want, 1);
    u8(&want, 1);
    u8(&want, 0);
    r_f64(&want, 2.5);
    varint(&want, 2);
    r_u32(&want, 86400);
    r_u32(&want, 0);
    uint64_t u = UINT64_MAX;
    put(&want, &u, 8);
    CHECK(same(f, &want));
    /* Out of range for the column, and nanos out of range. */
    bytes m2 = {0}, neg = {0};
    pb_varint(&neg, 1, (uint64_t)(int64_t)-1);
    pb_msg(&m2, 1, &neg);
    CHECK_EQ(run(f, &m2), SLUICE_ERANGE);
    CHECK_CONTAINS(f->err.msg, "offset 0, $.at: column at: ");
    bytes m3 = {0}, badn = {0};
    pb_varint(&badn, 2, 1000000000);
    pb_msg(&m3, 4, &badn);
    CHECK_EQ(run(f, &m3), SLUICE_EINVAL);
    CHECK_CONTAINS(f->err.msg, "$.at4: google.protobuf.Timestamp nanos 1000000000 out of range");
    bytes m4 = {0}, badw = {0};
    pb_str(&badw, 1, "x");
    pb_msg(&m4, 5, &badw);
    CHECK_EQ(run(f, &m4), SLUICE_EINVAL);
    CHECK_STR(f->err.msg, "offset 2, $.n: wire type LEN where field 1 of a wrapper needs VARINT");
    fx_free(f);
}

static void test_oneofs(void)
{
    fixture *f = fx_new("syntax = \"proto3\";\npackage t;\n"
                        "message Inner { int32 x = 1; }\n"
                        "message U { oneof choice { int32 num = 1; string text = 2; Inner in = 3; "
                        "bool flag = 5; } string other = 4; }\n",
                        "t.U");
    CHECK(col(f, "choice", "String") == 0 && col(f, "num", "Nullable(Int32)") == 0 &&
          col(f, "text", "Nullable(String)") == 0 && col(f, "in.x", "Nullable(Int32)") == 0 &&
          col(f, "other", "String") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, want = {0};
    pb_varint(&m, 1, 5);
    CHECK_EQ(run(f, &m), 0);
    r_str(&want, "num");
    u8(&want, 0);
    r_i32(&want, 5);
    u8(&want, 1);
    u8(&want, 1);
    r_str(&want, "");
    CHECK(same(f, &want));
    /* Two members: the last one wins and the first is cleared. */
    bytes m2 = {0};
    pb_str(&m2, 2, "t");
    pb_str(&m2, 4, "o");
    pb_varint(&m2, 1, 6);
    CHECK_EQ(run(f, &m2), 0);
    want.n = 0;
    r_str(&want, "num");
    u8(&want, 0);
    r_i32(&want, 6);
    u8(&want, 1);
    u8(&want, 1);
    r_str(&want, "o");
    CHECK(same(f, &want));
    /* A member without a column still names the case. */
    bytes m3 = {0};
    pb_varint(&m3, 5, 1);
    CHECK_EQ(run(f, &m3), 0);
    want.n = 0;
    r_str(&want, "flag");
    u8(&want, 1);
    u8(&want, 1);
    u8(&want, 1);
    r_str(&want, "");
    CHECK(same(f, &want));
    bytes empty = {0};
    CHECK_EQ(run(f, &empty), 0);
    want.n = 0;
    r_str(&want, "");
    u8(&want, 1);
    u8(&want, 1);
    u8(&want, 1);
    r_str(&want, "");
    CHECK(same(f, &want));
    bytes m4 = {0}, in = {0};
    pb_varint(&in, 1, 1);
    pb_msg(&m4, 3, &in);
    pb_varint(&m4, 1, 2);
    CHECK_EQ(run(f, &m4), SLUICE_EINVAL);
    CHECK_STR(f->err.msg, "offset 4, $.num: a second member of oneof choice after in (a message): "
                          "sluice does not merge a oneof's members");
    fx_free(f);
}

static void test_columns_that_cannot_take_a_field(void)
{
    static const struct {
        const char *schema, *message, *column, *type;
        const char *msg;
    } cases[] = {
        {NESTED, "t.Outer", "in", "Int32",
         "sink.routes[0]: field $.in (message t.Inner) cannot go into column in (Int32): use "
         "columns named in.sub-field"},
        {ORDER, "t.Order", "id", "Array(Int64)",
         "sink.routes[0]: field $.id (int64) cannot go into column id (Array(Int64))"},
        {ORDER, "t.Order", "items.tags", "Array(String)",
         "sink.routes[0]: field $.items[].tags (repeated) cannot go into column items.tags "
         "(Array(String)): it needs Array(Array(T))"},
        {ORDER, "t.Order", "items.qty", "Int32",
         "sink.routes[0]: field $.items[].qty (in a repeated message) cannot go into column "
         "items.qty (Int32): it needs an Array(T)"},
        {WELLKNOWN, "t.W", "at", "Int64",
         "sink.routes[0]: field $.at (google.protobuf.Timestamp) cannot go into column at "
         "(Int64): use Date, DateTime, DateTime64 or String"},
        {ORDER, "t.Order", "counts", "String",
         "sink.routes[0]: field $.counts (map) cannot go into column counts (String)"},
        {SCALARS, "t.S", "nothing", "String",
         "sink.routes[0]: no field of message t.S matches a column of the table"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture *f = fx_new(cases[i].schema, cases[i].message);
        CHECK(col(f, cases[i].column, cases[i].type) == 0);
        CHECK_EQ(compile(f), SLUICE_EINVAL);
        CHECK_STR(f->err.msg, cases[i].msg);
        fx_free(f);
    }
    fixture *f = fx_new(ORDER, "t.Order");
    f->opt.extra_fields = PLAN_EXTRA_REJECT;
    CHECK(col(f, "id", "Int64") == 0);
    CHECK_EQ(compile(f), SLUICE_EINVAL);
    CHECK_STR(f->err.msg,
              "sink.routes[0]: field $.items[].sku has no column named items.sku in the table");
    fx_free(f);
    f = fx_new(ORDER, "t.Order");
    f->opt.explode = "items";
    CHECK(col(f, "id", "Int64") == 0);
    CHECK_EQ(compile(f), SLUICE_ECONFIG);
    CHECK_CONTAINS(f->err.msg, "transform.explode: not supported for Protobuf messages");
    fx_free(f);
}

static void test_filter_and_derived_columns(void)
{
    fixture *f = fx_new(WELLKNOWN "message E { int32 qty = 1; string sku = 2; "
                                  "google.protobuf.Timestamp at = 3; W w = 4; }\n",
                        "t.E");
    CHECK(col(f, "sku", "String") == 0 && col(f, "double_qty", "Int64") == 0 &&
          col(f, "day", "Date") == 0 && col(f, "label", "String") == 0);
    plan_derived d[] = {{"double_qty", "qty * 2"},
                        {"day", "at"},
                        {"label", "concat(sku, '-', cast(w.n AS String))"}};
    f->opt.filter = "qty > 1";
    f->opt.derived = d;
    f->opt.n_derived = 3;
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, ts = {0}, w = {0}, n = {0}, want = {0};
    pb_varint(&m, 1, 3);
    pb_str(&m, 2, "ab");
    pb_varint(&ts, 1, 86400 * 3 + 5);
    pb_msg(&m, 3, &ts);
    pb_varint(&n, 1, 42);
    pb_msg(&w, 5, &n);
    pb_msg(&m, 4, &w);
    CHECK_EQ(run(f, &m), 0);
    CHECK_EQ(f->res.rows, 1);
    r_str(&want, "ab");
    r_i64(&want, 6);
    r_u16(&want, 3);
    r_str(&want, "ab-42");
    CHECK(same(f, &want));
    bytes m2 = {0};
    pb_varint(&m2, 1, 1);
    CHECK_EQ(run(f, &m2), 0);
    CHECK_EQ(f->res.rows, 0);
    CHECK_EQ(f->res.filtered, 1);
    CHECK_EQ(f->out.len, 0);
    fx_free(f);
    f = fx_new(ORDER, "t.Order");
    CHECK(col(f, "id", "Int64") == 0);
    f->opt.filter = "items.qty > 1";
    CHECK_EQ(compile(f), SLUICE_ECONFIG);
    CHECK_CONTAINS(f->err.msg, "transform.filter: offset 0: unknown field 'items.qty'");
    fx_free(f);
}

/* ---- bytes that protoc wrote ---- */

#define EVENT                                                                                      \
    "syntax = \"proto3\";\npackage shop;\n"                                                        \
    "import \"google/protobuf/timestamp.proto\";\n"                                                \
    "enum Status { UNKNOWN = 0; PAID = 1; SHIPPED = 2; }\n"                                        \
    "message Event {\n"                                                                            \
    "  message Line { string sku = 1; uint32 qty = 2; double price = 3; }\n"                       \
    "  int64 id = 1; string user = 2; Status status = 3;\n"                                        \
    "  google.protobuf.Timestamp at = 4; repeated Line lines = 5;\n"                               \
    "  map<string, string> attrs = 6; repeated sint32 deltas = 7; optional bool gift = 8;\n"       \
    "  bytes blob = 9; float ratio = 10;\n"                                                        \
    "}\n"

/* protoc --encode=TYPE on a text-format message; 0 and the bytes in *out. */
static int protoc_encode(const char *schema, const char *type, const char *text, bytes *out)
{
    char *dir = test_tmpdir("sluice-protoc");
    char path[600], cmd[2400];
    snprintf(path, sizeof path, "%s/schema.proto", dir);
    FILE *fp = fopen(path, "w");
    if (!fp) return -1;
    fputs(schema, fp);
    fclose(fp);
    snprintf(path, sizeof path, "%s/msg.txt", dir);
    fp = fopen(path, "w");
    if (!fp) return -1;
    fputs(text, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd,
             "protoc --encode=%s -I %s -I /usr/include %s/schema.proto < %s/msg.txt > %s/msg.bin",
             type, dir, dir, dir, dir);
    int rc = system(cmd);
    snprintf(path, sizeof path, "%s/msg.bin", dir);
    fp = rc == 0 ? fopen(path, "rb") : NULL;
    if (fp) {
        out->n = fread(out->b, 1, sizeof out->b, fp);
        fclose(fp);
    }
    test_rmtree(dir);
    free(dir);
    if (rc != 0 || !fp) fprintf(stderr, "protoc failed (%d): %s\n", rc, cmd);
    return rc == 0 && fp ? 0 : -1;
}

static void test_bytes_from_protoc(void)
{
    fixture *f = fx_new(EVENT, "shop.Event");
    CHECK(col(f, "id", "Int64") == 0 && col(f, "user", "String") == 0 &&
          col(f, "status", "Enum8('UNKNOWN' = 0, 'PAID' = 1, 'SHIPPED' = 2)") == 0 &&
          col(f, "at", "DateTime") == 0 && col(f, "lines.sku", "Array(String)") == 0 &&
          col(f, "lines.qty", "Array(UInt32)") == 0 &&
          col(f, "lines.price", "Array(Float64)") == 0 &&
          col(f, "attrs.keys", "Array(String)") == 0 &&
          col(f, "attrs.values", "Array(String)") == 0 && col(f, "deltas", "Array(Int32)") == 0 &&
          col(f, "gift", "Nullable(UInt8)") == 0 && col(f, "blob", "String") == 0 &&
          col(f, "ratio", "Float32") == 0);
    CHECK_EQ(compile(f), 0);
    bytes m = {0}, want = {0};
    CHECK_EQ(protoc_encode(EVENT, "shop.Event",
                           "id: -42 user: \"ada\" status: SHIPPED\n"
                           "at { seconds: 1700000000 nanos: 500 }\n"
                           "lines { sku: \"A-1\" qty: 2 price: 9.5 }\n"
                           "lines { sku: \"B-2\" qty: 300 }\n"
                           "attrs { key: \"k\" value: \"v\" }\n"
                           "attrs { key: \"x\" value: \"\" }\n"
                           "deltas: [-1, 0, 65]\n"
                           "blob: \"\\000\\377\" ratio: 0.5\n",
                           &m),
             0);
    CHECK_EQ(run(f, &m), 0);
    r_i64(&want, -42);
    r_str(&want, "ada");
    u8(&want, 2);
    r_u32(&want, 1700000000);
    varint(&want, 2);
    r_str(&want, "A-1");
    r_str(&want, "B-2");
    varint(&want, 2);
    r_u32(&want, 2);
    r_u32(&want, 300);
    varint(&want, 2);
    r_f64(&want, 9.5);
    r_f64(&want, 0);
    varint(&want, 2);
    r_str(&want, "k");
    r_str(&want, "x");
    varint(&want, 2);
    r_str(&want, "v");
    r_str(&want, "");
    varint(&want, 3);
    r_i32(&want, -1);
    r_i32(&want, 0);
    r_i32(&want, 65);
    u8(&want, 1); /* gift absent: NULL */
    varint(&want, 2);
    put(&want, "\x00\xff", 2);
    r_f32(&want, 0.5f);
    CHECK(same(f, &want));
    /* gift: false is present (proto3 optional), so not NULL */
    CHECK_EQ(protoc_encode(EVENT, "shop.Event", "gift: false", &m), 0);
    CHECK_EQ(run(f, &m), 0);
    want.n = 0;
    r_i64(&want, 0);
    r_str(&want, "");
    u8(&want, 0);
    r_u32(&want, 0);
    for (int i = 0; i < 6; i++)
        varint(&want, 0);
    u8(&want, 0);
    u8(&want, 0);
    r_str(&want, "");
    r_f32(&want, 0);
    CHECK(same(f, &want));
    fx_free(f);
}

/* ---- which message a frame names ---- */

static void test_message_index_resolution(void)
{
    const char *schema = "syntax = \"proto3\";\npackage r;\n"
                         "message A { message N0 { int32 x = 1; } message N1 { int32 y = 1; } "
                         "int32 a = 1; }\n"
                         "message B { int32 b = 1; }\n"
                         "message C { message CN { int32 z = 1; } int32 c = 1; }\n";
    proto_schema *ps = NULL;
    sluice_error err;
    CHECK_EQ(proto_schema_parse(schema, strlen(schema), "r.proto", NULL, 0, &ps, &err), 0);
    const proto_file *root = proto_schema_root(ps);
    static const struct {
        const char *arr; /* the array's bytes after the 5-byte header */
        size_t n;
        int mode;
        const char *message; /* NULL: an error containing `error` */
        const char *error;
    } cases[] = {
        {"\x00", 1, PROTO_INDEX_AUTO, "r.A", NULL},
        {"\x00", 1, PROTO_INDEX_PLAIN, "r.A", NULL},
        {"\x02\x02", 2, PROTO_INDEX_ZIGZAG, "r.B", NULL},
        {"\x02\x02\x08", 3, PROTO_INDEX_AUTO, "r.B", NULL},    /* plain [2, 8]: C has 1 nested */
        {"\x01\x01", 2, PROTO_INDEX_AUTO, "r.B", NULL},        /* odd count: plain */
        {"\x02\x00\x01", 3, PROTO_INDEX_AUTO, "r.A.N1", NULL}, /* zig-zag [0] is never 02 00 */
        {"\x04\x00\x02", 3, PROTO_INDEX_AUTO, "r.A.N1", NULL}, /* zig-zag [0, 1] */
        {"\x01\x02", 2, PROTO_INDEX_AUTO, "r.C", NULL},        /* plain [2] */
        {"\x02\x02\x00", 3, PROTO_INDEX_AUTO, NULL,
         "reads as [1] (r.B) in zig-zag varints and as "
         "[2, 0] (r.C.CN) in plain varints; set the "
         "route's message-index encoding"},
        {"\x02\x02\x00", 3, PROTO_INDEX_PLAIN, "r.C.CN", NULL},
        {"\x02\x06", 2, PROTO_INDEX_ZIGZAG, NULL,
         "offset 5: message-index path [3] names no message of r.proto (it has 3 top-level "
         "messages) (zig-zag message indexes)"},
        {"\x04\x00\x06", 3, PROTO_INDEX_ZIGZAG, NULL,
         "offset 5: message-index path [0, 3] names no message: r.A has 2 nested messages"},
        {"\x01\x05", 2, PROTO_INDEX_AUTO, NULL, "message-index path [5] names no message"},
        {"", 0, PROTO_INDEX_AUTO, NULL, "offset 5: the message-index array is missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t frame[32] = {0, 0, 0, 0, 9};
        memcpy(frame + 5, cases[i].arr, cases[i].n);
        int32_t path[SLUICE_WIRE_MAX_INDEXES];
        size_t n_path = 0, at = 0;
        const proto_message *m = NULL;
        int rc = proto_frame_resolve(root, frame, 5 + cases[i].n, (proto_index_mode)cases[i].mode,
                                     path, &n_path, &m, &at, &err);
        if (cases[i].message) {
            if (rc) fprintf(stderr, "case %zu: %s\n", i, err.msg);
            CHECK_EQ(rc, 0);
            CHECK_STR(m->full_name, cases[i].message);
            CHECK(at > 5 && at <= 5 + cases[i].n);
        } else {
            CHECK_EQ(rc, SLUICE_EINVAL);
            CHECK_CONTAINS(err.msg, cases[i].error);
        }
    }
    CHECK_EQ(proto_index_mode_parse("plain"), PROTO_INDEX_PLAIN);
    CHECK_EQ(proto_index_mode_parse("zigzag"), PROTO_INDEX_ZIGZAG);
    CHECK_EQ(proto_index_mode_parse("auto"), PROTO_INDEX_AUTO);
    CHECK_EQ(proto_index_mode_parse("Plain"), -1);
    proto_schema_free(ps);
}

/* Columns in field order, fields out of order: a field taken as absent
 * when a later number came first ("gap fill") that then turns up is
 * decoded again from the start, and its value wins. */
static void test_fields_after_their_turn(void)
{
    fixture *f = fx_new("syntax = \"proto3\";\npackage t;\n"
                        "message G { int32 a = 1; optional string b = 2; int64 c = 3; "
                        "string d = 4; }\n",
                        "t.G");
    CHECK(col(f, "a", "Int32") == 0 && col(f, "b", "Nullable(String)") == 0 &&
          col(f, "c", "Int64") == 0 && col(f, "d", "String") == 0);
    CHECK_EQ(compile(f), 0);
    bytes in_order = {0}, late = {0}, want = {0};
    pb_varint(&in_order, 3, 7); /* a and b absent: filled before c */
    pb_str(&in_order, 4, "x");
    CHECK_EQ(run(f, &in_order), 0);
    r_i32(&want, 0);
    u8(&want, 1);
    r_i64(&want, 7);
    r_str(&want, "x");
    CHECK(same(f, &want));
    pb_varint(&late, 3, 7);
    pb_str(&late, 2, "late"); /* after c: b was taken as absent, and is not */
    pb_varint(&late, 1, 5);
    CHECK_EQ(run(f, &late), 0);
    want.n = 0;
    r_i32(&want, 5);
    u8(&want, 0);
    r_str(&want, "late");
    r_i64(&want, 7);
    r_str(&want, "");
    CHECK(same(f, &want));
    fx_free(f);
}

TEST_MAIN(T(test_every_scalar_type), T(test_conversions_and_fields_in_any_order),
          T(test_proto2_defaults_and_required), T(test_proto3_presence_into_nullable),
          T(test_unknown_fields_are_skipped), T(test_bad_bytes_name_offset_and_path),
          T(test_repeated_packed_and_unpacked), T(test_messages_flatten_and_merge),
          T(test_repeated_messages_into_nested_columns), T(test_maps),
          T(test_timestamps_and_wrappers), T(test_oneofs), T(test_columns_that_cannot_take_a_field),
          T(test_filter_and_derived_columns), T(test_bytes_from_protoc),
          T(test_message_index_resolution), T(test_fields_after_their_turn))
