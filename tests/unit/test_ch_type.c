/*
 * test_ch_type.c — the ClickHouse type parser (every supported type, nesting,
 * spacing, enum quoting, every rejection with its message and offset), the
 * server feature table, and byte-exact RowBinary encodings for every type
 * and every kind of value it accepts, with every range and kind error.
 *
 * Expected bytes are written out by hand (little-endian integers, IEEE
 * floats, LEB128 lengths); the few layouts that an 18.16 server cannot
 * check (DateTime64, Map, Bool) follow ClickHouse's documentation, cited
 * where they are tested. The layouts an 18.16 server can check are also
 * round-tripped through a real server in tests/integration/test_ch_rowbinary.c.
 */
#include "test.h"

#include "codec/ch_type.h"

#include <float.h>
#include <math.h>

static arena A;
static int arena_ready;

static const ch_type *parse_ok(const char *text)
{
    if (!arena_ready) {
        arena_init(&A, ARENA_DEFAULT_CHUNK, 1 << 24);
        arena_ready = 1;
    }
    const ch_type *t = NULL;
    sluice_error err = {0};
    if (ch_type_parse(text, &A, &t, &err) != 0) {
        fprintf(stderr, "parse '%s': %s\n", text, err.msg);
        return NULL;
    }
    return t;
}

/* Bytes as "01 ff 7f" for readable comparisons. */
static const char *hex(const uint8_t *p, size_t n)
{
    static char s[4096];
    size_t w = 0;
    s[0] = '\0';
    for (size_t i = 0; i < n && w + 4 < sizeof s; i++)
        w += (size_t)sprintf(s + w, i ? " %02x" : "%02x", p[i]);
    return s;
}

/* Every encoding goes into a buffer that already holds one marker byte, so
 * the tests also see that nothing before the value is touched and that a
 * failed encoding leaves exactly the marker. */
static buf out;
static sluice_error err;
static int rc_;

static const char *encode_hex(const ch_type *t, cvalue v)
{
    buf_free(&out);
    buf_init(&out, 1 << 20);
    buf_append_byte(&out, 0xAA);
    memset(&err, 0, sizeof err);
    rc_ = ch_encode_value(t, &v, &out, &err);
    if (out.len == 0 || out.data[0] != 0xAA) return "(marker byte lost)";
    return hex(out.data + 1, out.len - 1);
}

#define ENC_OK(type, value, expect)                                                                \
    do {                                                                                           \
        const ch_type *ty_ = parse_ok(type);                                                       \
        CHECK(ty_ != NULL);                                                                        \
        const char *hx_ = encode_hex(ty_, value);                                                  \
        if (rc_ != 0) fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, type, err.msg);       \
        CHECK_EQ(rc_, 0);                                                                          \
        CHECK_STR(hx_, expect);                                                                    \
    } while (0)

#define ENC_ERR(type, value, code_, fragment)                                                      \
    do {                                                                                           \
        const ch_type *ty_ = parse_ok(type);                                                       \
        CHECK(ty_ != NULL);                                                                        \
        const char *hx_ = encode_hex(ty_, value);                                                  \
        CHECK_EQ(rc_, code_);                                                                      \
        CHECK_EQ(err.code, code_);                                                                 \
        CHECK_CONTAINS(err.msg, fragment);                                                         \
        CHECK_STR(hx_, ""); /* only the marker remains */                                          \
    } while (0)

#define PARSE_ERR(text, code_, message)                                                            \
    do {                                                                                           \
        const ch_type *ty_ = NULL;                                                                 \
        sluice_error e_ = {0};                                                                     \
        if (!arena_ready) parse_ok("UInt8");                                                       \
        CHECK_EQ(ch_type_parse(text, &A, &ty_, &e_), code_);                                       \
        CHECK_EQ(e_.code, code_);                                                                  \
        CHECK_CONTAINS(e_.msg, message);                                                           \
        CHECK(ty_ == NULL);                                                                        \
    } while (0)

static cvalue S(const char *s)
{
    return cv_string(s, strlen(s));
}

static cvalue BYTES(const char *s, size_t n)
{
    cvalue v = {.kind = CV_BYTES, .s = s, .len = n};
    return v;
}

static cvalue ENUM(const char *s)
{
    cvalue v = {.kind = CV_ENUM, .s = s, .len = strlen(s)};
    return v;
}

static cvalue I(int64_t i)
{
    return cv_int(i, CV_UNIT_NONE);
}

static cvalue D(double d)
{
    return cv_double(d);
}

static cvalue F32(float f)
{
    cvalue v = cv_double(f);
    v.is_float32 = 1;
    return v;
}

/* A CV_DECIMAL from big-endian two's complement bytes. */
#define DEC(scale_, ...)                                                                           \
    ((cvalue){.kind = CV_DECIMAL,                                                                  \
              .scale = (scale_),                                                                   \
              .s = (const char *)(const uint8_t[]){__VA_ARGS__},                                   \
              .len = sizeof((const uint8_t[]){__VA_ARGS__})})

/* ---- parser ------------------------------------------------------------ */

static void test_parse_simple_types(void)
{
    static const struct {
        const char *text;
        ch_kind kind;
    } cases[] = {
        {"Int8", CH_INT8},       {"Int16", CH_INT16},       {"Int32", CH_INT32},
        {"Int64", CH_INT64},     {"UInt8", CH_UINT8},       {"UInt16", CH_UINT16},
        {"UInt32", CH_UINT32},   {"UInt64", CH_UINT64},     {"Float32", CH_FLOAT32},
        {"Float64", CH_FLOAT64}, {"Bool", CH_BOOL},         {"String", CH_STRING},
        {"Date", CH_DATE},       {"DateTime", CH_DATETIME}, {"UUID", CH_UUID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ch_type *t = parse_ok(cases[i].text);
        CHECK(t != NULL);
        CHECK_EQ(t->kind, cases[i].kind);
        CHECK_STR(t->text, cases[i].text);
        CHECK(t->inner == NULL && t->timezone == NULL && t->n_enum == 0);
    }
}

static void test_parse_parameterised(void)
{
    const ch_type *t = parse_ok("FixedString(16)");
    CHECK(t && t->kind == CH_FIXED_STRING);
    CHECK_EQ(t->fixed_len, 16);
    CHECK_STR(t->text, "FixedString(16)");
    CHECK((t = parse_ok("FixedString(16777215)")) && t->fixed_len == 16777215);

    t = parse_ok("DateTime('UTC')");
    CHECK(t && t->kind == CH_DATETIME);
    CHECK_STR(t->timezone, "UTC");
    CHECK_STR(t->text, "DateTime('UTC')");

    t = parse_ok("DateTime64(3, 'Europe/Berlin')");
    CHECK(t && t->kind == CH_DATETIME64);
    CHECK_EQ(t->precision, 3);
    CHECK_STR(t->timezone, "Europe/Berlin");
    CHECK_STR(t->text, "DateTime64(3, 'Europe/Berlin')");
    t = parse_ok("DateTime64(9)");
    CHECK(t && t->kind == CH_DATETIME64 && t->precision == 9 && t->timezone == NULL);
    CHECK_STR(t->text, "DateTime64(9)");
    CHECK((t = parse_ok("DateTime64(0)")) && t->precision == 0);

    /* Storage width follows precision: <= 9 Int32, <= 18 Int64, <= 38 Int128. */
    static const struct {
        const char *text;
        ch_kind kind;
        int precision, scale;
        const char *canonical;
    } dec[] = {
        {"Decimal(9, 2)", CH_DECIMAL32, 9, 2, "Decimal(9, 2)"},
        {"Decimal(1, 0)", CH_DECIMAL32, 1, 0, "Decimal(1, 0)"},
        {"Decimal(10, 0)", CH_DECIMAL64, 10, 0, "Decimal(10, 0)"},
        {"Decimal(18, 4)", CH_DECIMAL64, 18, 4, "Decimal(18, 4)"},
        {"Decimal(19, 1)", CH_DECIMAL128, 19, 1, "Decimal(19, 1)"},
        {"Decimal(38, 38)", CH_DECIMAL128, 38, 38, "Decimal(38, 38)"},
        {"Decimal32(3)", CH_DECIMAL32, 9, 3, "Decimal(9, 3)"},
        {"Decimal64(4)", CH_DECIMAL64, 18, 4, "Decimal(18, 4)"},
        {"Decimal128(10)", CH_DECIMAL128, 38, 10, "Decimal(38, 10)"},
        {"Decimal32(0)", CH_DECIMAL32, 9, 0, "Decimal(9, 0)"},
    };
    for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++) {
        t = parse_ok(dec[i].text);
        CHECK(t != NULL);
        CHECK_EQ(t->kind, dec[i].kind);
        CHECK_EQ(t->precision, dec[i].precision);
        CHECK_EQ(t->scale, dec[i].scale);
        CHECK_STR(t->text, dec[i].canonical);
    }
}

static void test_parse_enum(void)
{
    const ch_type *t = parse_ok("Enum8('a' = 1, 'b\\'c' = -2)");
    CHECK(t && t->kind == CH_ENUM8);
    CHECK_EQ(t->n_enum, 2);
    CHECK_STR(t->enum_names[0], "a");
    CHECK_STR(t->enum_names[1], "b'c");
    CHECK_EQ(t->enum_values[0], 1);
    CHECK_EQ(t->enum_values[1], -2);
    CHECK_STR(t->text, "Enum8('a' = 1, 'b\\'c' = -2)");

    /* Declaration order is kept (system.columns prints sorted by value). */
    t = parse_ok("Enum16('z' = 32767, 'y' = -32768, '' = 0)");
    CHECK(t && t->kind == CH_ENUM16 && t->n_enum == 3);
    CHECK_STR(t->enum_names[0], "z");
    CHECK_STR(t->enum_names[2], "");
    CHECK_EQ(t->enum_values[0], 32767);
    CHECK_EQ(t->enum_values[1], -32768);
    CHECK_STR(t->text, "Enum16('z' = 32767, 'y' = -32768, '' = 0)");

    /* Escapes: backslash, doubled quote, control characters, \x; the
     * canonical text escapes the way ClickHouse prints them. */
    t = parse_ok("Enum8('back\\\\slash' = 1, 'it''s' = 2, 'tab\\there' = 3, '\\x41\\x62' = 4, "
                 "'nl\\n' = 5, 'q\\\"' = 6, 'ü €' = +7)");
    CHECK(t && t->n_enum == 7);
    CHECK_STR(t->enum_names[0], "back\\slash");
    CHECK_STR(t->enum_names[1], "it's");
    CHECK_STR(t->enum_names[2], "tab\there");
    CHECK_STR(t->enum_names[3], "Ab");
    CHECK_STR(t->enum_names[4], "nl\n");
    CHECK_STR(t->enum_names[5], "q\"");
    CHECK_STR(t->enum_names[6], "ü €");
    CHECK_STR(t->text, "Enum8('back\\\\slash' = 1, 'it\\'s' = 2, 'tab\\there' = 3, 'Ab' = 4, "
                       "'nl\\n' = 5, 'q\"' = 6, 'ü €' = 7)");
    /* The canonical text parses to the same enum. */
    const ch_type *again = parse_ok(t->text);
    CHECK(again && again->n_enum == 7);
    for (size_t i = 0; i < 7; i++) {
        CHECK_STR(again->enum_names[i], t->enum_names[i]);
        CHECK_EQ(again->enum_values[i], t->enum_values[i]);
    }

    /* Many items (the item arrays grow). */
    char big[8192];
    size_t w = (size_t)sprintf(big, "Enum16(");
    for (int i = 0; i < 300; i++)
        w += (size_t)sprintf(big + w, "%s'v%d' = %d", i ? ", " : "", i, i * 7 - 1000);
    sprintf(big + w, ")");
    t = parse_ok(big);
    CHECK(t && t->n_enum == 300);
    CHECK_STR(t->enum_names[299], "v299");
    CHECK_EQ(t->enum_values[299], 299 * 7 - 1000);
    CHECK_STR(t->text, big);
}

static void test_parse_nesting(void)
{
    const ch_type *t = parse_ok("Nullable(String)");
    CHECK(t && t->kind == CH_NULLABLE && t->inner->kind == CH_STRING);
    CHECK_STR(t->text, "Nullable(String)");

    t = parse_ok("Array(Array(Nullable(Int8)))");
    CHECK(t && t->kind == CH_ARRAY && t->inner->kind == CH_ARRAY &&
          t->inner->inner->kind == CH_NULLABLE && t->inner->inner->inner->kind == CH_INT8);
    CHECK_STR(t->text, "Array(Array(Nullable(Int8)))");
    CHECK_STR(t->inner->text, "Array(Nullable(Int8))");

    t = parse_ok("LowCardinality(Nullable(String))");
    CHECK(t && t->kind == CH_LOW_CARDINALITY && t->inner->kind == CH_NULLABLE);
    CHECK_STR(t->text, "LowCardinality(Nullable(String))");

    t = parse_ok("Map(String, Array(UInt64))");
    CHECK(t && t->kind == CH_MAP && t->inner->kind == CH_STRING && t->inner2->kind == CH_ARRAY);
    CHECK_STR(t->text, "Map(String, Array(UInt64))");

    static const char *const ok[] = {
        "Array(LowCardinality(String))",
        "Map(LowCardinality(String), Nullable(Float64))",
        "Array(Map(UInt32, Map(String, Enum8('a' = 1))))",
        "Map(Enum16('x' = 1), Decimal(9, 2))",
        "Map(UUID, Array(Nullable(DateTime64(6, 'UTC'))))",
        "Map(Date, DateTime('UTC'))",
        "Map(FixedString(2), Bool)",
        "Nullable(Decimal(38, 10))",
        "Nullable(Enum16('a' = -1))",
        "Nullable(FixedString(3))",
        "Nullable(UUID)",
        "Nullable(DateTime64(3))",
        "LowCardinality(FixedString(2))",
        "LowCardinality(UInt64)",
        "LowCardinality(Float32)",
        "LowCardinality(Date)",
        "LowCardinality(DateTime('UTC'))",
        "LowCardinality(UUID)",
        "LowCardinality(Nullable(Int32))",
        "Array(Nullable(Decimal(18, 3)))",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        t = parse_ok(ok[i]);
        CHECK(t != NULL);
        CHECK_STR(t->text, ok[i]);
    }

    /* 32 levels are fine; the 33rd is refused (stack safety). */
    char deep[512];
    size_t w = 0;
    for (int i = 0; i < 31; i++)
        w += (size_t)sprintf(deep + w, "Array(");
    w += (size_t)sprintf(deep + w, "UInt8");
    for (int i = 0; i < 31; i++)
        deep[w++] = ')';
    deep[w] = '\0';
    CHECK(parse_ok(deep) != NULL);
}

static void test_parse_spacing(void)
{
    static const struct {
        const char *in, *canonical;
    } cases[] = {
        {" Nullable ( String ) ", "Nullable(String)"},
        {"Decimal( 9 , 2 )", "Decimal(9, 2)"},
        {"Decimal(9,2)", "Decimal(9, 2)"},
        {"Map(String,UInt64)", "Map(String, UInt64)"},
        {"Enum8( 'a'=1 ,'b' = 2 )", "Enum8('a' = 1, 'b' = 2)"},
        {"Enum8('a' =-1)", "Enum8('a' = -1)"},
        {"DateTime64( 3 ,'UTC')", "DateTime64(3, 'UTC')"},
        {"DateTime ( 'UTC' )", "DateTime('UTC')"},
        {"\tArray(\n\tArray( Int8 )\r\n)\n", "Array(Array(Int8))"},
        {"FixedString( 4 )", "FixedString(4)"},
        {"LowCardinality( Nullable( String ))", "LowCardinality(Nullable(String))"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ch_type *t = parse_ok(cases[i].in);
        CHECK(t != NULL);
        CHECK_STR(t->text, cases[i].canonical);
    }
}

static void test_parse_rejections(void)
{
    /* Syntax. */
    PARSE_ERR("", SLUICE_EINVAL, "offset 0: expected a type name in ''");
    PARSE_ERR("   ", SLUICE_EINVAL, "offset 3: expected a type name in '   '");
    PARSE_ERR("(String)", SLUICE_EINVAL, "offset 0: expected a type name");
    PARSE_ERR("Nullable(String", SLUICE_EINVAL, "offset 15: expected ')' in 'Nullable(String'");
    PARSE_ERR("Nullable(String))", SLUICE_EINVAL,
              "offset 16: unexpected text after the type in 'Nullable(String))'");
    PARSE_ERR("UInt8 UInt8", SLUICE_EINVAL, "offset 6: unexpected text after the type");
    PARSE_ERR("Nullable", SLUICE_EINVAL, "offset 8: expected '('");
    PARSE_ERR("Nullable()", SLUICE_EINVAL, "offset 9: expected a type name");
    PARSE_ERR("Array(Int8, Int8)", SLUICE_EINVAL, "offset 10: expected ')'");
    PARSE_ERR("String(5)", SLUICE_EINVAL, "offset 6: String takes no arguments");
    PARSE_ERR("UUID()", SLUICE_EINVAL, "offset 4: UUID takes no arguments");

    /* Unsupported types are named, with the list of what sluice writes. */
    PARSE_ERR("Tuple(UInt8, String)", SLUICE_EUNSUPPORTED,
              "offset 0: unsupported ClickHouse type 'Tuple(UInt8, String)' (column types sluice "
              "can write: Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float32, "
              "Float64, Bool, String, FixedString(N), Date, DateTime, DateTime64(P), UUID, Enum8, "
              "Enum16, Decimal(P, S), Nullable(T), Array(T), Map(K, V), LowCardinality(T))");
    PARSE_ERR("Array(Tuple(UInt8, String))", SLUICE_EUNSUPPORTED,
              "offset 6: unsupported ClickHouse type 'Tuple(UInt8, String)'");
    PARSE_ERR("Map(String, AggregateFunction(uniq, String))", SLUICE_EUNSUPPORTED,
              "offset 12: unsupported ClickHouse type 'AggregateFunction(uniq, String)'");
    PARSE_ERR("Nullable(Foo('a)', 1))", SLUICE_EUNSUPPORTED,
              "offset 9: unsupported ClickHouse type 'Foo('a)', 1)'");
    static const char *const unsupported[] = {
        "Int128",
        "UInt128",
        "Int256",
        "UInt256",
        "IPv4",
        "IPv6",
        "Nothing",
        "Date32",
        "Nested(a UInt8)",
        "SimpleAggregateFunction(sum, UInt64)",
        "Object('json')",
        "JSON",
        "Point",
        "Decimal256(2)",
        "IntervalSecond",
        "nullable(String)",
        "string",
    };
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "offset 0: unsupported ClickHouse type '%s' (", unsupported[i]);
        PARSE_ERR(unsupported[i], SLUICE_EUNSUPPORTED, want);
    }

    /* Decimal. */
    PARSE_ERR("Decimal(76, 2)", SLUICE_EUNSUPPORTED,
              "offset 8: unsupported ClickHouse type 'Decimal(76, 2)' (Decimal256");
    PARSE_ERR("Decimal(39, 0)", SLUICE_EUNSUPPORTED, "'Decimal(39, 0)' (Decimal256");
    PARSE_ERR("Decimal(77, 2)", SLUICE_EINVAL, "offset 8: Decimal precision must be 1..76");
    PARSE_ERR("Decimal(0, 0)", SLUICE_EINVAL, "offset 8: Decimal precision must be 1..76");
    PARSE_ERR("Decimal(9, 10)", SLUICE_EINVAL,
              "offset 11: Decimal scale 10 is larger than its precision 9 in 'Decimal(9, 10)'");
    PARSE_ERR("Decimal32(10)", SLUICE_EINVAL,
              "offset 10: Decimal scale 10 is larger than its precision 9");
    PARSE_ERR("Decimal64(19)", SLUICE_EINVAL, "Decimal scale 19 is larger than its precision 18");
    PARSE_ERR("Decimal128(39)", SLUICE_EINVAL, "Decimal scale 39 is larger than its precision 38");
    PARSE_ERR("Decimal(9)", SLUICE_EINVAL, "offset 9: expected ','");
    PARSE_ERR("Decimal(-1, 0)", SLUICE_EINVAL,
              "offset 8: expected Decimal precision (an unsigned integer)");
    PARSE_ERR("Decimal(99999999999999999999, 0)", SLUICE_EINVAL,
              "offset 8: Decimal precision is larger than 1000");

    /* FixedString. */
    PARSE_ERR("FixedString(0)", SLUICE_EINVAL, "offset 12: FixedString length must be positive");
    PARSE_ERR("FixedString()", SLUICE_EINVAL,
              "offset 12: expected FixedString length (an unsigned integer)");
    PARSE_ERR("FixedString(-1)", SLUICE_EINVAL, "offset 12: expected FixedString length");
    PARSE_ERR("FixedString(16777216)", SLUICE_EINVAL,
              "offset 12: FixedString length is larger than 16777215");
    PARSE_ERR("FixedString", SLUICE_EINVAL, "offset 11: expected '('");

    /* DateTime, DateTime64. */
    PARSE_ERR("DateTime64(10)", SLUICE_EINVAL, "offset 11: DateTime64 precision is larger than 9");
    PARSE_ERR("DateTime64", SLUICE_EINVAL, "offset 10: expected '('");
    PARSE_ERR("DateTime64()", SLUICE_EINVAL, "offset 11: expected DateTime64 precision");
    PARSE_ERR("DateTime64(3, UTC)", SLUICE_EINVAL, "offset 14: expected a quoted string");
    PARSE_ERR("DateTime(3)", SLUICE_EINVAL, "offset 9: expected a quoted string");
    PARSE_ERR("DateTime('')", SLUICE_EINVAL, "offset 11: empty time zone name");
    PARSE_ERR("DateTime('UTC'", SLUICE_EINVAL, "offset 14: expected ')'");
    PARSE_ERR("DateTime('UTC", SLUICE_EINVAL, "offset 9: unterminated quoted string");

    /* Enum. */
    PARSE_ERR("Enum8()", SLUICE_EINVAL, "offset 6: an Enum needs at least one value");
    PARSE_ERR("Enum8", SLUICE_EINVAL, "offset 5: expected '('");
    PARSE_ERR("Enum8('a' = 128)", SLUICE_EINVAL,
              "offset 12: value 128 of 'a' does not fit in Enum8 in 'Enum8('a' = 128)'");
    PARSE_ERR("Enum8('a' = -129)", SLUICE_EINVAL, "value -129 of 'a' does not fit in Enum8");
    PARSE_ERR("Enum16('a' = 32768)", SLUICE_EINVAL, "value 32768 of 'a' does not fit in Enum16");
    PARSE_ERR("Enum16('a' = -32769)", SLUICE_EINVAL, "value -32769 of 'a' does not fit in Enum16");
    PARSE_ERR("Enum16('a' = 99999999999)", SLUICE_EINVAL,
              "offset 13: Enum value is larger than 100000");
    PARSE_ERR("Enum8('a' = 1, 'a' = 2)", SLUICE_EINVAL, "offset 15: duplicate Enum name 'a'");
    PARSE_ERR("Enum8('a' = 1, 'b' = 1)", SLUICE_EINVAL,
              "offset 21: duplicate Enum value 1 ('a' and 'b')");
    PARSE_ERR("Enum8('a')", SLUICE_EINVAL, "offset 9: expected '='");
    PARSE_ERR("Enum8('a = 1)", SLUICE_EINVAL, "offset 6: unterminated quoted string");
    PARSE_ERR("Enum8('a\\0' = 1)", SLUICE_EINVAL,
              "offset 8: a NUL byte in a quoted string is not supported");
    PARSE_ERR("Enum8('\\x4' = 1)", SLUICE_EINVAL, "offset 7: bad \\x escape");
    PARSE_ERR("Enum8('\\", SLUICE_EINVAL, "offset 6: unterminated quoted string");
    PARSE_ERR("Enum8(a = 1)", SLUICE_EINVAL, "offset 6: expected a quoted string");
    PARSE_ERR("Enum8('a' = 1 'b' = 2)", SLUICE_EINVAL, "offset 14: expected ',' or ')'");
    PARSE_ERR("Enum8('a' = x)", SLUICE_EINVAL, "offset 12: expected Enum value");
    PARSE_ERR("Enum8('a' = 1,)", SLUICE_EINVAL, "offset 14: expected a quoted string");

    /* What may nest in what (as an 18.16 server answers). */
    PARSE_ERR("Nullable(Array(Int8))", SLUICE_EINVAL,
              "offset 9: Array(Int8) cannot be inside Nullable in 'Nullable(Array(Int8))'");
    PARSE_ERR("Nullable(Nullable(Int8))", SLUICE_EINVAL,
              "offset 9: Nullable(Int8) cannot be inside Nullable");
    PARSE_ERR("Nullable(LowCardinality(String))", SLUICE_EINVAL,
              "offset 9: LowCardinality(String) cannot be inside Nullable");
    PARSE_ERR("Nullable(Map(String, UInt8))", SLUICE_EINVAL,
              "Map(String, UInt8) cannot be inside Nullable");
    PARSE_ERR("LowCardinality(Decimal(9, 2))", SLUICE_EINVAL,
              "offset 15: Decimal(9, 2) cannot be inside LowCardinality (numbers, String, "
              "FixedString, Date, DateTime, UUID and Nullable of those only)");
    PARSE_ERR("LowCardinality(Array(String))", SLUICE_EINVAL,
              "Array(String) cannot be inside LowCardinality");
    PARSE_ERR("LowCardinality(Enum8('a' = 1))", SLUICE_EINVAL,
              "Enum8('a' = 1) cannot be inside LowCardinality");
    PARSE_ERR("LowCardinality(LowCardinality(String))", SLUICE_EINVAL,
              "LowCardinality(String) cannot be inside LowCardinality");
    PARSE_ERR("LowCardinality(DateTime64(3))", SLUICE_EINVAL,
              "DateTime64(3) cannot be inside LowCardinality");
    PARSE_ERR("LowCardinality(Nullable(Decimal(9, 2)))", SLUICE_EINVAL,
              "Nullable(Decimal(9, 2)) cannot be inside LowCardinality");
    PARSE_ERR("Map(Nullable(String), UInt8)", SLUICE_EINVAL,
              "offset 4: Nullable(String) cannot be inside a Map key");
    PARSE_ERR("Map(Float64, UInt8)", SLUICE_EINVAL, "Float64 cannot be inside a Map key");
    PARSE_ERR("Map(Array(String), UInt8)", SLUICE_EINVAL,
              "Array(String) cannot be inside a Map key");
    PARSE_ERR("Map(LowCardinality(Nullable(String)), UInt8)", SLUICE_EINVAL,
              "LowCardinality(Nullable(String)) cannot be inside a Map key");
    PARSE_ERR("Map(String)", SLUICE_EINVAL, "offset 10: expected ','");

    /* Depth: 33 levels. */
    char deep[512];
    size_t w = 0;
    for (int i = 0; i < 32; i++)
        w += (size_t)sprintf(deep + w, "Array(");
    w += (size_t)sprintf(deep + w, "UInt8");
    for (int i = 0; i < 32; i++)
        deep[w++] = ')';
    deep[w] = '\0';
    PARSE_ERR(deep, SLUICE_EINVAL, "offset 192: type nested deeper than 32 levels");

    /* Arguments and memory. */
    const ch_type *t = NULL;
    sluice_error e = {0};
    CHECK_EQ(ch_type_parse(NULL, &A, &t, &e), SLUICE_EINVAL);
    CHECK_CONTAINS(e.msg, "NULL argument");
    arena tiny;
    arena_init(&tiny, 64, 32); /* cap below one chunk: every allocation fails */
    CHECK_EQ(ch_type_parse("Nullable(String)", &tiny, &t, &e), SLUICE_ENOMEM);
    CHECK_CONTAINS(e.msg, "out of memory parsing ClickHouse type 'Nullable(String)'");
    CHECK(t == NULL);
    arena_free(&tiny);
}

/* ---- server features ---------------------------------------------------- */

static void test_server_features(void)
{
    static const struct {
        const char *version;
        int dt64, map, boolean, lc;
    } cases[] = {
        {"18.16.1", 0, 0, 0, 0},     {"18.14.19", 0, 0, 0, 0},   {"19.1.6", 0, 0, 0, 1},
        {"19.17.10.1", 0, 0, 0, 1},  {"20.1.2.4", 1, 0, 0, 1},   {"20.12.8.5", 1, 0, 0, 1},
        {"21.1.2.15", 1, 1, 0, 1},   {"21.8.10.19", 1, 1, 0, 1}, {"21.11.11.1", 1, 1, 0, 1},
        {"21.12.2.17", 1, 1, 1, 1},  {"22.3.20.29", 1, 1, 1, 1}, {"23.8.2.7", 1, 1, 1, 1},
        {"24.3.1.2672", 1, 1, 1, 1}, {"18.16.1\n", 0, 0, 0, 0},  {"23.8", 1, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ch_features f;
        memset(&f, 0x55, sizeof f);
        sluice_error e = {0};
        CHECK_EQ(ch_server_features(cases[i].version, &f, &e), 0);
        CHECK_EQ(f.datetime64, cases[i].dt64);
        CHECK_EQ(f.map, cases[i].map);
        CHECK_EQ(f.bool_type, cases[i].boolean);
        CHECK_EQ(f.low_cardinality_without_setting, cases[i].lc);
    }
    static const char *const bad[] = {"",          "abc",       "18",         "18.16.1-lts",
                                      "1.2.3.4.5", "18..16",    ".18.16",     "18.16.",
                                      "v23.8.2.7", " 23.8.2.7", "23.8.2.7 x", "99999999999.1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ch_features f;
        sluice_error e = {0};
        CHECK_EQ(ch_server_features(bad[i], &f, &e), SLUICE_EINVAL);
        char want[96];
        snprintf(want, sizeof want, "'%s' is not a ClickHouse version", bad[i]);
        CHECK_CONTAINS(e.msg, want);
    }
    ch_features f;
    CHECK_EQ(ch_server_features(NULL, &f, NULL), SLUICE_EINVAL);
}

/* ---- encodings: integers ------------------------------------------------ */

static void test_encode_integers(void)
{
    /* Bounds of every width, both signs. */
    ENC_OK("Int8", I(-128), "80");
    ENC_OK("Int8", I(127), "7f");
    ENC_OK("Int16", I(-32768), "00 80");
    ENC_OK("Int16", I(32767), "ff 7f");
    ENC_OK("Int32", I(INT32_MIN), "00 00 00 80");
    ENC_OK("Int32", I(INT32_MAX), "ff ff ff 7f");
    ENC_OK("Int64", I(INT64_MIN), "00 00 00 00 00 00 00 80");
    ENC_OK("Int64", I(INT64_MAX), "ff ff ff ff ff ff ff 7f");
    ENC_OK("Int64", I(-1), "ff ff ff ff ff ff ff ff");
    ENC_OK("UInt8", I(0), "00");
    ENC_OK("UInt8", I(255), "ff");
    ENC_OK("UInt16", I(65535), "ff ff");
    ENC_OK("UInt32", I(4294967295LL), "ff ff ff ff");
    ENC_OK("UInt64", I(INT64_MAX), "ff ff ff ff ff ff ff 7f");
    ENC_ERR("Int8", I(128), SLUICE_ERANGE, "128 does not fit in Int8");
    ENC_ERR("Int8", I(-129), SLUICE_ERANGE, "-129 does not fit in Int8");
    ENC_ERR("Int16", I(32768), SLUICE_ERANGE, "32768 does not fit in Int16");
    ENC_ERR("Int16", I(-32769), SLUICE_ERANGE, "-32769 does not fit in Int16");
    ENC_ERR("Int32", I(2147483648LL), SLUICE_ERANGE, "2147483648 does not fit in Int32");
    ENC_ERR("Int32", I(-2147483649LL), SLUICE_ERANGE, "-2147483649 does not fit in Int32");
    ENC_ERR("UInt8", I(300), SLUICE_ERANGE, "300 does not fit in UInt8");
    ENC_ERR("UInt8", I(-1), SLUICE_ERANGE, "-1 does not fit in UInt8");
    ENC_ERR("UInt16", I(65536), SLUICE_ERANGE, "65536 does not fit in UInt16");
    ENC_ERR("UInt32", I(4294967296LL), SLUICE_ERANGE, "4294967296 does not fit in UInt32");
    ENC_ERR("UInt64", I(-1), SLUICE_ERANGE, "-1 does not fit in UInt64");

    /* A unit does not change an integer column's value. */
    ENC_OK("Int64", cv_int(1795378321123LL, CV_UNIT_TS_MS), "e3 16 e3 04 a2 01 00 00");

    /* Booleans. */
    ENC_OK("UInt8", cv_bool(1), "01");
    ENC_OK("Int64", cv_bool(0), "00 00 00 00 00 00 00 00");

    /* Floats: integral and in range only. */
    ENC_OK("Int32", D(123.0), "7b 00 00 00");
    ENC_OK("Int32", D(-0.0), "00 00 00 00");
    ENC_OK("Int64", D(-9223372036854775808.0), "00 00 00 00 00 00 00 80");
    ENC_OK("UInt64", D(18446744073709549568.0), "00 f8 ff ff ff ff ff ff");
    ENC_OK("UInt64", D(9223372036854775808.0), "00 00 00 00 00 00 00 80");
    ENC_OK("Int16", F32(-7.0f), "f9 ff");
    ENC_ERR("Int32", D(1.5), SLUICE_ERANGE, "1.5 is not an integer for Int32");
    ENC_ERR("Int64", D(9223372036854775808.0), SLUICE_ERANGE,
            "9.223372036854776e+18 does not fit in Int64");
    ENC_ERR("UInt64", D(18446744073709551616.0), SLUICE_ERANGE,
            "1.8446744073709552e+19 does not fit in UInt64");
    ENC_ERR("UInt8", D(256.0), SLUICE_ERANGE, "256 does not fit in UInt8");
    ENC_ERR("UInt8", D(-1.0), SLUICE_ERANGE, "-1 does not fit in UInt8");
    ENC_ERR("Int32", D(NAN), SLUICE_ERANGE, "nan does not fit in Int32");
    ENC_ERR("Int32", D(-INFINITY), SLUICE_ERANGE, "-inf does not fit in Int32");
    ENC_ERR("Int64", D(1e300), SLUICE_ERANGE, "1e+300 does not fit in Int64");

    /* Strings: strict, whole-string integers. */
    ENC_OK("Int32", S("123"), "7b 00 00 00");
    ENC_OK("Int32", S("-123"), "85 ff ff ff");
    ENC_OK("Int32", S("+5"), "05 00 00 00");
    ENC_OK("Int32", S("007"), "07 00 00 00");
    ENC_OK("UInt64", S("18446744073709551615"), "ff ff ff ff ff ff ff ff");
    ENC_OK("Int64", S("-9223372036854775808"), "00 00 00 00 00 00 00 80");
    ENC_ERR("Int32", S("abc"), SLUICE_EINVAL, "string 'abc' is not a number for Int32");
    ENC_ERR("Int32", S(""), SLUICE_EINVAL, "string '' is not a number for Int32");
    ENC_ERR("Int32", S("-"), SLUICE_EINVAL, "string '-' is not a number for Int32");
    ENC_ERR("Int32", S(" 1"), SLUICE_EINVAL, "string ' 1' is not a number for Int32");
    ENC_ERR("Int32", S("1 "), SLUICE_EINVAL, "string '1 ' is not a number for Int32");
    ENC_ERR("Int32", S("1.0"), SLUICE_EINVAL, "string '1.0' is not a number for Int32");
    ENC_ERR("Int32", S("1e3"), SLUICE_EINVAL, "string '1e3' is not a number for Int32");
    ENC_ERR("Int32", S("0x10"), SLUICE_EINVAL, "string '0x10' is not a number for Int32");
    ENC_ERR("Int32",
            cv_string("1\0"
                      "2",
                      3),
            SLUICE_EINVAL, "string '1\\x002' is not a number for Int32");
    ENC_ERR("UInt64", S("18446744073709551616"), SLUICE_ERANGE,
            "string '18446744073709551616' does not fit in UInt64");
    ENC_ERR("Int64", S("99999999999999999999999999999999999999999999"), SLUICE_ERANGE,
            "does not fit in Int64");
    ENC_ERR("UInt8", S("-1"), SLUICE_ERANGE, "string '-1' does not fit in UInt8");

    /* Decimals: exact only. 12.00 (1200, scale 2) is 12; 12.34 is not an integer. */
    ENC_OK("Int32", DEC(2, 0x04, 0xb0), "0c 00 00 00");
    ENC_OK("Int8", DEC(0, 0x80), "80");
    ENC_ERR("Int32", DEC(2, 0x04, 0xd2), SLUICE_ERANGE,
            "decimal 12.34 is not an integer for Int32");
    ENC_ERR("Int8", DEC(0, 0x00, 0x80), SLUICE_ERANGE, "decimal 128 does not fit in Int8");
    ENC_ERR("Int64",
            DEC(0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff),
            SLUICE_ERANGE, "does not fit in Int64");

    /* Kinds that do not convert. */
    ENC_ERR("Int32", BYTES("\x01", 1), SLUICE_EINVAL, "bytes cannot be written to Int32");
    ENC_ERR("Int32", ENUM("A"), SLUICE_EINVAL, "an enum symbol cannot be written to Int32");
    ENC_ERR("Int32", cv_null(), SLUICE_EINVAL, "NULL cannot be written to non-Nullable Int32");
}

/* ---- floats ------------------------------------------------------------- */

static void test_encode_floats(void)
{
    ENC_OK("Float64", D(0.1), "9a 99 99 99 99 99 b9 3f");
    ENC_OK("Float32", D(0.1), "cd cc cc 3d");
    ENC_OK("Float32", F32(0.1f), "cd cc cc 3d");
    ENC_OK("Float64", D(-0.0), "00 00 00 00 00 00 00 80");
    ENC_OK("Float64", D(NAN), "00 00 00 00 00 00 f8 7f");
    ENC_OK("Float32", D(NAN), "00 00 c0 7f");
    ENC_OK("Float64", D(-INFINITY), "00 00 00 00 00 00 f0 ff");
    ENC_OK("Float32", D(INFINITY), "00 00 80 7f");
    ENC_OK("Float64", D(5e-324), "01 00 00 00 00 00 00 00");
    ENC_OK("Float32", D(FLT_MAX), "ff ff 7f 7f");
    ENC_ERR("Float32", D(1e39), SLUICE_ERANGE, "1e+39 does not fit in Float32");
    ENC_ERR("Float32", D(-3.5e38), SLUICE_ERANGE, "-3.5e+38 does not fit in Float32");

    /* Integers and booleans. 2^53 + 1 and 2^24 + 1 round to nearest even. */
    ENC_OK("Float64", I(1000), "00 00 00 00 00 40 8f 40");
    ENC_OK("Float32", I(1000), "00 00 7a 44");
    ENC_OK("Float64", I(9007199254740993LL), "00 00 00 00 00 00 40 43");
    ENC_OK("Float32", I(16777217), "00 00 80 4b");
    ENC_OK("Float64", cv_bool(1), "00 00 00 00 00 00 f0 3f");
    ENC_OK("Float32", cv_bool(1), "00 00 80 3f");

    /* Strings: strict syntax, then strtod/strtof. */
    ENC_OK("Float64", S("12.34"), "ae 47 e1 7a 14 ae 28 40");
    ENC_OK("Float32", S("12.34"), "a4 70 45 41");
    ENC_OK("Float64", S("-7"), "00 00 00 00 00 00 1c c0");
    ENC_OK("Float64", S("1e3"), "00 00 00 00 00 40 8f 40");
    ENC_OK("Float64", S(".5"), "00 00 00 00 00 00 e0 3f");
    ENC_OK("Float64", S("5."), "00 00 00 00 00 00 14 40");
    ENC_OK("Float64", S("nan"), "00 00 00 00 00 00 f8 7f");
    ENC_OK("Float64", S("-inf"), "00 00 00 00 00 00 f0 ff");
    ENC_OK("Float32", S("+Infinity"), "00 00 80 7f");
    /* The shortest text of FLT_MAX reads as a double just above it. */
    ENC_OK("Float32", S("3.4028235e38"), "ff ff 7f 7f");
    ENC_ERR("Float64", S("abc"), SLUICE_EINVAL, "string 'abc' is not a number for Float64");
    ENC_ERR("Float64", S("0x10"), SLUICE_EINVAL, "string '0x10' is not a number for Float64");
    ENC_ERR("Float64", S("1.5x"), SLUICE_EINVAL, "string '1.5x' is not a number for Float64");
    ENC_ERR("Float64", S(" 1.5"), SLUICE_EINVAL, "not a number for Float64");
    ENC_ERR("Float64", S("1e"), SLUICE_EINVAL, "not a number for Float64");
    ENC_ERR("Float64", S("."), SLUICE_EINVAL, "not a number for Float64");
    ENC_ERR("Float64", S("nanx"), SLUICE_EINVAL, "not a number for Float64");
    ENC_ERR("Float64", S(""), SLUICE_EINVAL, "string '' is not a number for Float64");
    ENC_ERR("Float32", S("1e39"), SLUICE_ERANGE, "string '1e39' does not fit in Float32");
    ENC_ERR("Float64", S("-1e999"), SLUICE_ERANGE, "string '-1e999' does not fit in Float64");
    ENC_OK("Float64", S("1e-999"), "00 00 00 00 00 00 00 00"); /* underflow rounds to 0 */

    /* Decimals: rounded once (through their exact text). 12.34 and -1.5. */
    ENC_OK("Float64", DEC(2, 0x04, 0xd2), "ae 47 e1 7a 14 ae 28 40");
    ENC_OK("Float32", DEC(2, 0x04, 0xd2), "a4 70 45 41");
    ENC_OK("Float64", DEC(1, 0xf1), "00 00 00 00 00 00 f8 bf");

    ENC_ERR("Float64", BYTES("x", 1), SLUICE_EINVAL, "bytes cannot be written to Float64");
    ENC_ERR("Float32", ENUM("A"), SLUICE_EINVAL, "an enum symbol cannot be written to Float32");
    ENC_ERR("Float64", cv_null(), SLUICE_EINVAL, "NULL cannot be written to non-Nullable Float64");
}

/* Bool (ClickHouse 21.12+; no 18.16 server to check): "Bool — stored as
 * UInt8, 0 or 1", https://clickhouse.com/docs/en/sql-reference/data-types/boolean
 * and the RowBinary section of https://clickhouse.com/docs/en/interfaces/formats#rowbinary. */
static void test_encode_bool(void)
{
    ENC_OK("Bool", cv_bool(1), "01");
    ENC_OK("Bool", cv_bool(0), "00");
    ENC_OK("Bool", I(1), "01");
    ENC_OK("Bool", I(0), "00");
    ENC_OK("Bool", D(1.0), "01");
    ENC_OK("Bool", D(0.0), "00");
    ENC_OK("Bool", S("true"), "01");
    ENC_OK("Bool", S("FALSE"), "00");
    ENC_OK("Bool", S("1"), "01");
    ENC_OK("Bool", S("0"), "00");
    ENC_ERR("Bool", I(2), SLUICE_ERANGE, "2 does not fit in Bool");
    ENC_ERR("Bool", D(0.5), SLUICE_ERANGE, "0.5 does not fit in Bool");
    ENC_ERR("Bool", S("yes"), SLUICE_EINVAL, "string 'yes' is not true, false, 1 or 0 for Bool");
    ENC_ERR("Bool", BYTES("\x01", 1), SLUICE_EINVAL, "bytes cannot be written to Bool");
    ENC_ERR("Bool", cv_null(), SLUICE_EINVAL, "NULL cannot be written to non-Nullable Bool");
}

/* ---- decimals ------------------------------------------------------------ */

static void test_encode_decimals(void)
{
    /* Widths: Decimal(9,2) Int32, Decimal(18,4) Int64, Decimal(38,x) Int128. */
    ENC_OK("Decimal(9, 2)", S("1234567.89"), "15 cd 5b 07");
    ENC_OK("Decimal(9, 2)", S("-0.5"), "ce ff ff ff");
    ENC_OK("Decimal(9, 2)", S("12"), "b0 04 00 00");
    ENC_OK("Decimal(9, 2)", S("1.2e1"), "b0 04 00 00");
    ENC_OK("Decimal(9, 2)", S("1.230"), "7b 00 00 00");
    ENC_OK("Decimal(9, 2)", S("123e-2"), "7b 00 00 00");
    ENC_OK("Decimal(9, 2)", S("1e-2"), "01 00 00 00");
    ENC_OK("Decimal(9, 2)", S("0.000"), "00 00 00 00");
    ENC_OK("Decimal(9, 2)", S("-9999999.99"), "01 36 65 c4");
    ENC_OK("Decimal(9, 2)", S("+.5"), "32 00 00 00");
    ENC_OK("Decimal(9, 2)", S("0e999999999"), "00 00 00 00");
    ENC_OK("Decimal(9, 2)", S("000000000000000000000000000000000000000000001"), "64 00 00 00");
    ENC_OK("Decimal(18, 4)", S("12345"), "90 b2 5b 07 00 00 00 00");
    ENC_OK("Decimal64(4)", S("-1"), "f0 d8 ff ff ff ff ff ff");
    ENC_OK("Decimal(38, 0)", S("99999999999999999999999999999999999999"),
           "ff ff ff ff 3f 22 8a 09 7a c4 86 5a a8 4c 3b 4b");
    ENC_OK("Decimal(38, 0)", S("-99999999999999999999999999999999999999"),
           "01 00 00 00 c0 dd 75 f6 85 3b 79 a5 57 b3 c4 b4");
    ENC_OK("Decimal(38, 10)", S("-1.5"), "00 2a ee 81 fc ff ff ff ff ff ff ff ff ff ff ff");

    ENC_ERR("Decimal(9, 2)", S("1.234"), SLUICE_ERANGE,
            "string '1.234' has more than 2 fractional digits for Decimal(9, 2) (no rounding)");
    ENC_ERR("Decimal(9, 2)", S("1e-3"), SLUICE_ERANGE, "has more than 2 fractional digits");
    ENC_ERR("Decimal(9, 2)", S("12345678.9"), SLUICE_ERANGE,
            "string '12345678.9' does not fit in Decimal(9, 2)");
    ENC_ERR("Decimal(9, 2)", S("1e8"), SLUICE_ERANGE, "string '1e8' does not fit in Decimal(9, 2)");
    ENC_ERR("Decimal(9, 2)", S("1e999999999"), SLUICE_ERANGE, "does not fit in Decimal(9, 2)");
    ENC_ERR("Decimal(38, 0)", S("100000000000000000000000000000000000000"), SLUICE_ERANGE,
            "does not fit in Decimal(38, 0)");
    ENC_ERR("Decimal(38, 0)", S("-100000000000000000000000000000000000000"), SLUICE_ERANGE,
            "does not fit in Decimal(38, 0)");
    ENC_ERR("Decimal(9, 2)", S("abc"), SLUICE_EINVAL,
            "string 'abc' is not a decimal number for Decimal(9, 2)");
    ENC_ERR("Decimal(9, 2)", S("1.2.3"), SLUICE_EINVAL, "is not a decimal number");
    ENC_ERR("Decimal(9, 2)", S("1e"), SLUICE_EINVAL, "is not a decimal number");
    ENC_ERR("Decimal(9, 2)", S("."), SLUICE_EINVAL, "is not a decimal number");
    ENC_ERR("Decimal(9, 2)", S("nan"), SLUICE_EINVAL, "is not a decimal number");
    ENC_ERR("Decimal(9, 2)", S(""), SLUICE_EINVAL, "is not a decimal number");

    /* Integers and booleans scale up; precision is checked. */
    ENC_OK("Decimal(9, 2)", I(-1), "9c ff ff ff");
    ENC_OK("Decimal(9, 2)", I(9999999), "9c c9 9a 3b");
    ENC_OK("Decimal(9, 2)", cv_bool(1), "64 00 00 00");
    ENC_OK("Decimal(38, 19)", I(INT64_MIN), "00 00 00 00 00 00 00 00 00 00 0c bb 7d 6e 9c ba");
    ENC_ERR("Decimal(9, 2)", I(10000000), SLUICE_ERANGE, "10000000 does not fit in Decimal(9, 2)");
    ENC_ERR("Decimal(38, 38)", I(1), SLUICE_ERANGE, "1 does not fit in Decimal(38, 38)");
    ENC_OK("Decimal(38, 38)", I(0), "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");

    /* Doubles go through their shortest text, then exact rescaling. */
    ENC_OK("Decimal(9, 2)", D(0.1), "0a 00 00 00");
    ENC_OK("Decimal(9, 2)", D(-12.5), "1e fb ff ff");
    ENC_OK("Decimal(18, 4)", D(1e10), "00 40 7a 10 f3 5a 00 00");
    ENC_OK("Decimal(9, 1)", F32(0.1f), "01 00 00 00");
    ENC_ERR("Decimal(9, 2)", D(1.005), SLUICE_ERANGE, "1.005 has more than 2 fractional digits");
    ENC_ERR("Decimal(9, 2)", D(0.30000000000000004), SLUICE_ERANGE,
            "0.30000000000000004 has more than 2 fractional digits");
    ENC_ERR("Decimal(9, 2)", D(1e300), SLUICE_ERANGE, "1e+300 does not fit in Decimal(9, 2)");
    ENC_ERR("Decimal(9, 2)", D(NAN), SLUICE_ERANGE, "nan does not fit in Decimal(9, 2)");
    ENC_ERR("Decimal(9, 2)", D(INFINITY), SLUICE_ERANGE, "inf does not fit in Decimal(9, 2)");

    /* Avro decimals: big-endian two's complement, rescaled exactly. */
    ENC_OK("Decimal(9, 2)", DEC(2, 0x04, 0xd2), "d2 04 00 00");              /* 12.34 */
    ENC_OK("Decimal(9, 2)", DEC(2, 0xfb, 0x2e), "2e fb ff ff");              /* -12.34 */
    ENC_OK("Decimal(18, 4)", DEC(2, 0x04, 0xd2), "08 e2 01 00 00 00 00 00"); /* 123400 */
    ENC_OK("Decimal(9, 1)", DEC(3, 0x04, 0xb0), "0c 00 00 00");              /* 1.200 -> 12 */
    ENC_OK("Decimal(9, 2)", DEC(2), "00 00 00 00");                          /* no bytes: 0 */
    ENC_OK("Decimal(38, 0)",
           DEC(0, 0x4b, 0x3b, 0x4c, 0xa8, 0x5a, 0x86, 0xc4, 0x7a, 0x09, 0x8a, 0x22, 0x3f, 0xff,
               0xff, 0xff, 0xff),
           "ff ff ff ff 3f 22 8a 09 7a c4 86 5a a8 4c 3b 4b");
    /* 17 and 20 bytes whose extra leading bytes only extend the sign. */
    ENC_OK("Decimal(38, 0)",
           DEC(0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
               0xff, 0xff, 0xff, 0xfe),
           "fe ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff");
    ENC_OK("Decimal(9, 0)",
           DEC(0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
               0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05),
           "05 00 00 00");
    ENC_ERR("Decimal(38, 0)",
            DEC(0, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00),
            SLUICE_ERANGE, "decimal of 17 bytes, scale 0 does not fit in Decimal(38, 0)");
    /* 0x7f ff .. ff (2^127 - 1) has 39 digits. */
    ENC_ERR("Decimal(38, 0)",
            DEC(0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff),
            SLUICE_ERANGE,
            "decimal 170141183460469231731687303715884105727 does not fit in Decimal(38, 0)");
    ENC_ERR("Decimal(9, 1)", DEC(2, 0x04, 0xd2), SLUICE_ERANGE,
            "decimal 12.34 has more than 1 fractional digits for Decimal(9, 1)");
    ENC_ERR("Decimal(4, 2)", DEC(2, 0x27, 0x10), SLUICE_ERANGE,
            "decimal 100.00 does not fit in Decimal(4, 2)");
    ENC_ERR("Decimal(9, 2)", DEC(-1, 0x01), SLUICE_ERANGE, "does not fit in Decimal(9, 2)");

    ENC_ERR("Decimal(9, 2)", BYTES("\x01", 1), SLUICE_EINVAL,
            "bytes cannot be written to Decimal(9, 2)");
    ENC_ERR("Decimal(9, 2)", ENUM("A"), SLUICE_EINVAL, "an enum symbol cannot be written");
    ENC_ERR("Decimal(9, 2)", cv_null(), SLUICE_EINVAL, "NULL cannot be written to non-Nullable");
}

/* ---- strings ------------------------------------------------------------- */

static void test_encode_strings(void)
{
    ENC_OK("String", S(""), "00");
    ENC_OK("String", S("hi"), "02 68 69");
    ENC_OK("String", cv_string("a\0b", 3), "03 61 00 62");
    ENC_OK("String", S("ü'\""), "04 c3 bc 27 22");
    ENC_OK("String", BYTES("\xff\x00", 2), "02 ff 00");
    ENC_OK("String", ENUM("PAUSED"), "06 50 41 55 53 45 44");
    ENC_OK("String", cv_bool(1), "04 74 72 75 65");
    ENC_OK("String", cv_bool(0), "05 66 61 6c 73 65");
    ENC_OK("String", I(-5), "02 2d 35");
    ENC_OK("String", I(INT64_MIN),
           "14 2d 39 32 32 33 33 37 32 30 33 36 38 35 34 37 37 35 38 30 38");
    /* Doubles: the shortest text that reads back to the same bits. */
    ENC_OK("String", D(0.1), "03 30 2e 31"); /* 0.1 */
    ENC_OK("String", D(0.30000000000000004),
           "13 30 2e 33 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 34"); /* 0.30000000000000004 */
    ENC_OK("String", D(1e21), "05 31 65 2b 32 31");                        /* 1e+21 */
    ENC_OK("String", D(5e-324), "06 35 65 2d 33 32 34");                   /* 5e-324 */
    ENC_OK("String", D(123.0), "03 31 32 33");
    ENC_OK("String", D(-0.0), "02 2d 30");
    ENC_OK("String", D(NAN), "03 6e 61 6e");
    ENC_OK("String", D(-INFINITY), "04 2d 69 6e 66");
    ENC_OK("String", D(123456789012345678.0),
           "16 31 2e 32 33 34 35 36 37 38 39 30 31 32 33 34 35 36 38 65 2b 31 37");
    /* A value that came from an Avro float prints as the float it was. */
    ENC_OK("String", F32(0.1f), "03 30 2e 31");
    ENC_OK("String", D((double)0.1f),
           "13 30 2e 31 30 30 30 30 30 30 30 31 34 39 30 31 31 36 31 32");
    /* Decimals keep their scale. */
    ENC_OK("String", DEC(2, 0xfb, 0x2e), "06 2d 31 32 2e 33 34"); /* -12.34 */
    ENC_OK("String", DEC(3, 0x05), "05 30 2e 30 30 35");          /* 0.005 */
    ENC_OK("String", DEC(0, 0xff), "02 2d 31");                   /* -1 */
    /* A 200-byte string: two-byte LEB128 length. */
    char long_s[200];
    memset(long_s, 'x', sizeof long_s);
    const ch_type *t = parse_ok("String");
    CHECK(t);
    cvalue v = cv_string(long_s, sizeof long_s);
    encode_hex(t, v);
    CHECK_EQ(rc_, 0);
    CHECK_EQ(out.len, 1 + 2 + 200);
    CHECK_EQ(out.data[1], 0xc8);
    CHECK_EQ(out.data[2], 0x01);
    CHECK(memcmp(out.data + 3, long_s, 200) == 0);
    ENC_ERR("String", cv_null(), SLUICE_EINVAL, "NULL cannot be written to non-Nullable String");
    ENC_ERR("String", DEC(61, 0x01), SLUICE_ERANGE, "does not fit in String");
}

static void test_encode_fixed_string(void)
{
    ENC_OK("FixedString(4)", S("ab"), "61 62 00 00");
    ENC_OK("FixedString(4)", S(""), "00 00 00 00");
    ENC_OK("FixedString(4)", BYTES("\x01\x02\x03\x04", 4), "01 02 03 04");
    ENC_OK("FixedString(1)", cv_string("\0", 1), "00");
    ENC_ERR("FixedString(4)", S("abcde"), SLUICE_ERANGE,
            "string 'abcde' (5 bytes) does not fit in FixedString(4)");
    ENC_ERR("FixedString(2)", BYTES("\x01\x02\x03", 3), SLUICE_ERANGE,
            "3 bytes (3 bytes) does not fit in FixedString(2)");
    ENC_ERR("FixedString(4)", I(1), SLUICE_EINVAL,
            "an integer cannot be written to FixedString(4)");
    ENC_ERR("FixedString(4)", ENUM("A"), SLUICE_EINVAL, "an enum symbol cannot be written");
    ENC_ERR("FixedString(4)", cv_null(), SLUICE_EINVAL, "NULL cannot be written to non-Nullable");
}

/* ---- dates and times ----------------------------------------------------- */

static void test_encode_date(void)
{
    ENC_OK("Date", I(0), "00 00");
    ENC_OK("Date", I(65535), "ff ff"); /* 2149-06-06 */
    ENC_OK("Date", cv_int(20779, CV_UNIT_DATE_DAYS), "2b 51");
    ENC_OK("Date", cv_int(86399, CV_UNIT_TS_S), "00 00");
    ENC_OK("Date", cv_int(86400, CV_UNIT_TS_S), "01 00");
    ENC_OK("Date", cv_int(1795378321123LL, CV_UNIT_TS_MS), "2b 51");
    ENC_OK("Date", cv_int(1795378321123456LL, CV_UNIT_TS_US), "2b 51");
    ENC_OK("Date", S("1970-01-01"), "00 00");
    ENC_OK("Date", S("2026-11-22"), "2b 51");
    ENC_OK("Date", S("2149-06-06"), "ff ff");
    ENC_OK("Date", S("2024-02-29"), "46 4d");
    ENC_OK("Date", S("2026-11-22 20:12:01"), "2b 51");
    ENC_OK("Date", S("2026-11-22T23:30:00-02:00"), "2c 51"); /* 01:30 UTC the next day */
    ENC_OK("Date", S("2026-11-22T01:00:00+02:00"), "2a 51"); /* 23:00 UTC the day before */
    ENC_ERR("Date", I(65536), SLUICE_ERANGE, "65536 does not fit in Date");
    ENC_ERR("Date", I(-1), SLUICE_ERANGE, "-1 does not fit in Date");
    /* Floor division: one millisecond before the epoch is day -1. */
    ENC_ERR("Date", cv_int(-1, CV_UNIT_TS_MS), SLUICE_ERANGE, "-1 does not fit in Date");
    ENC_ERR("Date", S("2149-06-07"), SLUICE_ERANGE, "string '2149-06-07' does not fit in Date");
    ENC_ERR("Date", S("1969-12-31"), SLUICE_ERANGE, "string '1969-12-31' does not fit in Date");
    ENC_ERR("Date", S("2026-02-29"), SLUICE_EINVAL,
            "string '2026-02-29' is not an ISO-8601 date or date-time for Date");
    ENC_ERR("Date", S("2100-02-29"), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", S("2026-13-01"), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", S("2026-04-31"), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", S("2026-00-10"), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", S("2026-11-00"), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", S("2026-11-22 "), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", S("2026-11-22Z"), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", S("26-11-22"), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", S("2026/11/22"), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", S("20261122"), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", S("2026-1-22"), SLUICE_EINVAL, "is not an ISO-8601 date");
    ENC_ERR("Date", cv_int(5, CV_UNIT_TIME_MS), SLUICE_EINVAL,
            "a time of day cannot be written to Date");
    ENC_ERR("Date", D(1.0), SLUICE_EINVAL, "a floating-point number cannot be written to Date");
    ENC_ERR("Date", cv_bool(1), SLUICE_EINVAL, "a boolean cannot be written to Date");
    ENC_ERR("Date", cv_null(), SLUICE_EINVAL, "NULL cannot be written to non-Nullable Date");
}

static void test_encode_datetime(void)
{
    ENC_OK("DateTime", I(0), "00 00 00 00");
    ENC_OK("DateTime", I(4294967295LL), "ff ff ff ff");
    ENC_OK("DateTime", cv_int(1795378321, CV_UNIT_TS_S), "91 4c 03 6b");
    ENC_OK("DateTime", cv_int(1795378321999LL, CV_UNIT_TS_MS), "91 4c 03 6b");
    ENC_OK("DateTime", cv_int(1795378321999999LL, CV_UNIT_TS_US), "91 4c 03 6b");
    ENC_OK("DateTime", cv_int(1, CV_UNIT_DATE_DAYS), "80 51 01 00");
    ENC_OK("DateTime", S("2026-11-22 20:12:01"), "91 4c 03 6b");
    ENC_OK("DateTime", S("2026-11-22T20:12:01Z"), "91 4c 03 6b");
    ENC_OK("DateTime", S("2026-11-22t20:12:01z"), "91 4c 03 6b");
    ENC_OK("DateTime", S("2026-11-22T20:12:01.999999Z"), "91 4c 03 6b"); /* floored */
    ENC_OK("DateTime", S("2026-11-22T20:12:01,5"), "91 4c 03 6b");
    ENC_OK("DateTime", S("2026-11-22T22:12:01+02:00"), "91 4c 03 6b");
    ENC_OK("DateTime", S("2026-11-22T22:12:01+0200"), "91 4c 03 6b");
    ENC_OK("DateTime", S("2026-11-22T22:12:01+02"), "91 4c 03 6b");
    ENC_OK("DateTime", S("2026-11-22T18:42:01-01:30"), "91 4c 03 6b");
    ENC_OK("DateTime", S("2026-11-22T20:12"), "90 4c 03 6b");
    ENC_OK("DateTime", S("2026-11-22"), "80 30 02 6b");
    ENC_OK("DateTime", S("1970-01-01 00:00:00"), "00 00 00 00");
    ENC_OK("DateTime", S("2106-02-07 06:28:15"), "ff ff ff ff");
    /* Naive text is UTC whatever the column's time zone. */
    ENC_OK("DateTime('Europe/Berlin')", S("2026-11-22 20:12:01"), "91 4c 03 6b");
    ENC_OK("DateTime('Europe/Berlin')", S("2026-11-22 21:12:01+01:00"), "91 4c 03 6b");

    ENC_ERR("DateTime", I(4294967296LL), SLUICE_ERANGE, "4294967296 does not fit in DateTime");
    ENC_ERR("DateTime", I(-1), SLUICE_ERANGE, "-1 does not fit in DateTime");
    ENC_ERR("DateTime", cv_int(-1, CV_UNIT_TS_MS), SLUICE_ERANGE, "-1 does not fit in DateTime");
    ENC_ERR("DateTime", cv_int(-1, CV_UNIT_TS_US), SLUICE_ERANGE, "does not fit in DateTime");
    ENC_ERR("DateTime", cv_int(INT64_MAX, CV_UNIT_DATE_DAYS), SLUICE_ERANGE,
            "9223372036854775807 does not fit in DateTime");
    ENC_ERR("DateTime", S("2106-02-07 06:28:16"), SLUICE_ERANGE,
            "string '2106-02-07 06:28:16' does not fit in DateTime");
    ENC_ERR("DateTime", S("1970-01-01T00:30:00+01:00"), SLUICE_ERANGE, "does not fit in DateTime");
    static const char *const bad[] = {
        "2026-11-22 20:12:60",
        "2026-11-22 24:00:00",
        "2026-11-22 20:60:00",
        "2026-11-22T20:12:01+",
        "2026-11-22T20:12:01+02:",
        "2026-11-22T20:12:01+2",
        "2026-11-22T20:12:01.Z",
        "2026-11-22T20:12:01Zx",
        "2026-11-22T20",
        "2026-11-22T20:1",
        "2026-11-22T20:12:01+24:00",
        "2026-11-22T20:12:01+02:60",
        "2026-11-22_20:12:01",
        "2026-11-22T20:12:01 Z",
        "",
        "now",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "string '%s' is not an ISO-8601 date or date-time for DateTime",
                 bad[i]);
        ENC_ERR("DateTime", S(bad[i]), SLUICE_EINVAL, want);
    }
    ENC_ERR("DateTime", cv_int(5, CV_UNIT_TIME_US), SLUICE_EINVAL,
            "a time of day cannot be written to DateTime");
    ENC_ERR("DateTime", D(1.0), SLUICE_EINVAL, "a floating-point number cannot be written");
    ENC_ERR("DateTime", BYTES("x", 1), SLUICE_EINVAL, "bytes cannot be written to DateTime");
}

/* DateTime64 (ClickHouse 20.1+; no 18.16 server to check): "Int64 — ticks
 * since the epoch, tick size 10^-precision seconds" in
 * https://clickhouse.com/docs/en/sql-reference/data-types/datetime64 and the
 * RowBinary section of https://clickhouse.com/docs/en/interfaces/formats#rowbinary
 * (DateTime64 is written as Int64 little endian). */
static void test_encode_datetime64(void)
{
    ENC_OK("DateTime64(3)", cv_int(1795378321123LL, CV_UNIT_TS_MS), "e3 16 e3 04 a2 01 00 00");
    ENC_OK("DateTime64(3)", cv_int(1795378321123999LL, CV_UNIT_TS_US), "e3 16 e3 04 a2 01 00 00");
    ENC_OK("DateTime64(3)", cv_int(-1, CV_UNIT_TS_US), "ff ff ff ff ff ff ff ff"); /* floor */
    ENC_OK("DateTime64(3)", cv_int(2, CV_UNIT_TS_S), "d0 07 00 00 00 00 00 00");
    ENC_OK("DateTime64(3)", cv_int(1, CV_UNIT_DATE_DAYS), "00 5c 26 05 00 00 00 00");
    ENC_OK("DateTime64(3)", I(1795378321123LL), "e3 16 e3 04 a2 01 00 00"); /* bare: ticks */
    ENC_OK("DateTime64(0)", cv_int(-1500, CV_UNIT_TS_MS), "fe ff ff ff ff ff ff ff");
    ENC_OK("DateTime64(6)", cv_int(1500, CV_UNIT_TS_MS), "60 e3 16 00 00 00 00 00");
    ENC_OK("DateTime64(9)", cv_int(1, CV_UNIT_TS_US), "e8 03 00 00 00 00 00 00");
    ENC_OK("DateTime64(3)", S("2026-11-22T20:12:01.123456Z"), "e3 16 e3 04 a2 01 00 00");
    ENC_OK("DateTime64(3)", S("2026-11-22 20:12:01.123"), "e3 16 e3 04 a2 01 00 00");
    ENC_OK("DateTime64(9)", S("2026-11-22T20:12:01.123456789Z"), "15 37 00 1c 12 77 ea 18");
    ENC_OK("DateTime64(9)", S("2026-11-22T20:12:01.1234567891234Z"), "15 37 00 1c 12 77 ea 18");
    ENC_OK("DateTime64(3)", S("1969-12-31T23:59:59.5Z"), "0c fe ff ff ff ff ff ff"); /* -500 */
    ENC_OK("DateTime64(3, 'Asia/Tokyo')", S("2026-11-23T05:12:01.123+09:00"),
           "e3 16 e3 04 a2 01 00 00");
    ENC_ERR("DateTime64(9)", cv_int(INT64_MAX / 1000, CV_UNIT_TS_S), SLUICE_ERANGE,
            "9223372036854775 does not fit in DateTime64(9)");
    ENC_ERR("DateTime64(9)", S("9999-12-31"), SLUICE_ERANGE,
            "string '9999-12-31' does not fit in DateTime64(9)");
    ENC_ERR("DateTime64(3)", S("2026-11-22T20:12:01.Z"), SLUICE_EINVAL,
            "is not an ISO-8601 date or date-time for DateTime64(3)");
    ENC_ERR("DateTime64(3)", cv_int(1, CV_UNIT_TIME_MS), SLUICE_EINVAL,
            "a time of day cannot be written to DateTime64(3)");
    ENC_ERR("DateTime64(3)", D(1.5), SLUICE_EINVAL, "a floating-point number cannot be written");
}

/* ---- UUID, enums ------------------------------------------------------------ */

static void test_encode_uuid(void)
{
    /* Layout checked against an 18.16 server (test_ch_rowbinary.c): each
     * 8-byte half of the text's bytes, reversed. */
    ENC_OK("UUID", S("61f0c404-5cb3-11e7-907b-a6006ad3dba0"),
           "e7 11 b3 5c 04 c4 f0 61 a0 db d3 6a 00 a6 7b 90");
    ENC_OK("UUID", S("61F0C404-5CB3-11E7-907B-A6006AD3DBA0"),
           "e7 11 b3 5c 04 c4 f0 61 a0 db d3 6a 00 a6 7b 90");
    ENC_OK("UUID", S("00000000-0000-0000-0000-000000000000"),
           "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
    ENC_OK("UUID", S("ffffffff-ffff-ffff-8000-000000000001"),
           "ff ff ff ff ff ff ff ff 01 00 00 00 00 00 00 80");
    ENC_OK("UUID", BYTES("\x61\xf0\xc4\x04\x5c\xb3\x11\xe7\x90\x7b\xa6\x00\x6a\xd3\xdb\xa0", 16),
           "e7 11 b3 5c 04 c4 f0 61 a0 db d3 6a 00 a6 7b 90");
    ENC_ERR("UUID", S("61f0c404-5cb3-11e7-907b-a6006ad3dba"), SLUICE_EINVAL,
            "string '61f0c404-5cb3-11e7-907b-a6006ad3dba' is not a UUID (8-4-4-4-12 hex digits) "
            "for UUID");
    ENC_ERR("UUID", S("61f0c404-5cb3-11e7-907b-a6006ad3dba0f"), SLUICE_EINVAL, "is not a UUID");
    ENC_ERR("UUID", S("61f0c4045cb311e7907ba6006ad3dba0"), SLUICE_EINVAL, "is not a UUID");
    ENC_ERR("UUID", S("61f0c404+5cb3-11e7-907b-a6006ad3dba0"), SLUICE_EINVAL, "is not a UUID");
    ENC_ERR("UUID", S("g1f0c404-5cb3-11e7-907b-a6006ad3dba0"), SLUICE_EINVAL, "is not a UUID");
    ENC_ERR("UUID", S("61f0c404-5cb3-11e7-907b-a6006ad3dba-"), SLUICE_EINVAL, "is not a UUID");
    ENC_ERR("UUID", BYTES("0123456789abcde", 15), SLUICE_EINVAL,
            "15 bytes are not a UUID (16 bytes)");
    ENC_ERR("UUID", I(1), SLUICE_EINVAL, "an integer cannot be written to UUID");
    ENC_ERR("UUID", cv_null(), SLUICE_EINVAL, "NULL cannot be written to non-Nullable UUID");
}

static void test_encode_enum(void)
{
    const char *e8 = "Enum8('A' = 1, 'B' = 2, 'neg' = -128, 'it\\'s' = 127)";
    ENC_OK(e8, ENUM("A"), "01");
    ENC_OK(e8, ENUM("neg"), "80");
    ENC_OK(e8, S("B"), "02");
    ENC_OK(e8, S("it's"), "7f");
    ENC_OK(e8, I(-128), "80");
    ENC_OK(e8, I(2), "02");
    ENC_ERR("Enum8('A' = 1, 'B' = 2)", ENUM("PAUSED"), SLUICE_ERANGE,
            "'PAUSED' is not a value of Enum8('A' = 1, 'B' = 2)");
    ENC_ERR("Enum8('A' = 1, 'B' = 2)", S("a"), SLUICE_ERANGE,
            "'a' is not a value of Enum8('A' = 1, 'B' = 2)");
    ENC_ERR("Enum8('A' = 1, 'B' = 2)", S("AB"), SLUICE_ERANGE, "'AB' is not a value");
    ENC_ERR("Enum8('AB' = 1)", S("A"), SLUICE_ERANGE, "'A' is not a value");
    ENC_ERR("Enum8('A' = 1)", cv_string("A\0", 2), SLUICE_ERANGE, "'A\\x00' is not a value");
    ENC_ERR("Enum8('A' = 1, 'B' = 2)", I(3), SLUICE_ERANGE,
            "3 is not a value of Enum8('A' = 1, 'B' = 2)");
    ENC_ERR("Enum8('A' = 1, 'B' = 2)", I(257), SLUICE_ERANGE, "257 is not a value");
    ENC_OK("Enum16('x' = -300, 'y' = 1000)", ENUM("x"), "d4 fe");
    ENC_OK("Enum16('x' = -300, 'y' = 1000)", I(1000), "e8 03");
    ENC_OK("Enum16('x' = -300, 'y' = 1000)", S("y"), "e8 03");
    ENC_ERR("Enum16('x' = -300)", I(65236), SLUICE_ERANGE, "65236 is not a value");
    ENC_ERR(e8, D(1.0), SLUICE_EINVAL, "a floating-point number cannot be written to Enum8(");
    ENC_ERR(e8, cv_bool(1), SLUICE_EINVAL, "a boolean cannot be written to Enum8(");
    ENC_ERR(e8, BYTES("A", 1), SLUICE_EINVAL, "bytes cannot be written to Enum8(");
    ENC_ERR(e8, cv_null(), SLUICE_EINVAL, "NULL cannot be written to non-Nullable Enum8(");
}

/* ---- wrappers -------------------------------------------------------------- */

static void test_encode_wrappers(void)
{
    ENC_OK("Nullable(String)", cv_null(), "01");
    ENC_OK("Nullable(String)", S("hi"), "00 02 68 69");
    ENC_OK("Nullable(Int32)", I(-1), "00 ff ff ff ff");
    ENC_OK("Nullable(Decimal(9, 2))", S("1.5"), "00 96 00 00 00");
    ENC_OK("Nullable(UUID)", cv_null(), "01");
    ENC_OK("Nullable(Enum8('a' = 1))", ENUM("a"), "00 01");
    /* An inner error leaves no flag byte behind. */
    ENC_ERR("Nullable(UInt8)", I(300), SLUICE_ERANGE, "300 does not fit in UInt8");
    ENC_ERR("Nullable(Date)", S("x"), SLUICE_EINVAL, "string 'x' is not an ISO-8601");
    /* LowCardinality(T) is T. */
    ENC_OK("LowCardinality(String)", S("abc"), "03 61 62 63");
    ENC_OK("LowCardinality(Nullable(String))", cv_null(), "01");
    ENC_OK("LowCardinality(Nullable(String))", S(""), "00 00");
    ENC_OK("LowCardinality(UInt16)", I(258), "02 01");
    ENC_OK("LowCardinality(FixedString(2))", S("a"), "61 00");
    ENC_ERR("LowCardinality(String)", cv_null(), SLUICE_EINVAL,
            "NULL cannot be written to non-Nullable String");
    /* Arrays and maps are not scalars. */
    ENC_ERR("Array(Int8)", I(1), SLUICE_EINVAL,
            "Array(Int8) is not a scalar: write the count and encode the elements (an integer "
            "cannot be written to it)");
    ENC_ERR("Map(String, UInt8)", S("a"), SLUICE_EINVAL, "Map(String, UInt8) is not a scalar");
    ENC_ERR("Array(Int8)", cv_null(), SLUICE_EINVAL,
            "NULL cannot be written to non-Nullable Array(Int8)");
}

static void test_encode_memory_bound(void)
{
    const ch_type *s = parse_ok("String");
    const ch_type *n = parse_ok("Nullable(Int64)");
    const ch_type *fs = parse_ok("FixedString(100)");
    CHECK(s && n && fs);
    buf b;
    buf_init(&b, 8); /* room for 7 bytes (buf keeps one spare) */
    sluice_error e = {0};
    buf_append(&b, "abc", 3);
    cvalue v = S("hello");
    CHECK_EQ(ch_encode_value(s, &v, &b, &e), SLUICE_ENOMEM);
    CHECK_CONTAINS(e.msg, "output buffer full writing String");
    CHECK_EQ(b.len, 3);
    v = I(5);
    CHECK_EQ(ch_encode_value(n, &v, &b, &e), SLUICE_ENOMEM); /* flag fits, value does not */
    CHECK_EQ(b.len, 3);
    v = S("x");
    CHECK_EQ(ch_encode_value(fs, &v, &b, &e), SLUICE_ENOMEM);
    CHECK_EQ(b.len, 3);
    CHECK_EQ(ch_encode_default(fs, &b), SLUICE_ENOMEM);
    CHECK_EQ(b.len, 3);
    v = S("ab");
    CHECK_EQ(ch_encode_value(s, &v, &b, &e), 0);
    CHECK_STR(hex(b.data, b.len), "61 62 63 02 61 62");
    json_t *j = json_loads("[1, 2, 3, 4, 5]", 0, NULL);
    CHECK(j != NULL);
    const ch_type *arr = parse_ok("Array(Int8)");
    CHECK_EQ(ch_encode_json(arr, j, &b, &e), SLUICE_ENOMEM);
    CHECK_EQ(b.len, 6);
    json_decref(j);
    buf_free(&b);
    CHECK_EQ(ch_encode_value(NULL, &v, &b, &e), SLUICE_EINVAL);
    CHECK_EQ(ch_encode_json(s, NULL, &b, &e), SLUICE_EINVAL);
    CHECK_EQ(ch_encode_default(NULL, &b), SLUICE_EINVAL);
}

/* ---- defaults ------------------------------------------------------------- */

static const char *default_hex(const char *type)
{
    const ch_type *t = parse_ok(type);
    if (!t) return "(parse failed)";
    buf_free(&out);
    buf_init(&out, 1 << 20);
    if (ch_encode_default(t, &out) != 0) return "(failed)";
    return hex(out.data, out.len);
}

static void test_encode_default(void)
{
    static const struct {
        const char *type, *bytes;
    } cases[] = {
        {"Int8", "00"},
        {"UInt16", "00 00"},
        {"Int32", "00 00 00 00"},
        {"UInt64", "00 00 00 00 00 00 00 00"},
        {"Float32", "00 00 00 00"},
        {"Float64", "00 00 00 00 00 00 00 00"},
        {"Bool", "00"},
        {"String", "00"},
        {"FixedString(3)", "00 00 00"},
        {"Date", "00 00"},
        {"DateTime('UTC')", "00 00 00 00"},
        {"DateTime64(3)", "00 00 00 00 00 00 00 00"},
        {"UUID", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"},
        {"Decimal(9, 2)", "00 00 00 00"},
        {"Decimal(18, 2)", "00 00 00 00 00 00 00 00"},
        {"Decimal(38, 2)", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"},
        /* The smallest value, as the 18.16 server fills it (not the first
         * declared): see test_ch_rowbinary.c. */
        {"Enum8('b' = 2, 'a' = -1, 'c' = 5)", "ff"},
        {"Enum8('a' = 1)", "01"},
        {"Enum16('x' = 1000, 'y' = -300)", "d4 fe"},
        {"Nullable(Int64)", "01"},
        {"Array(Array(String))", "00"},
        {"Map(String, UInt64)", "00"},
        {"LowCardinality(String)", "00"},
        {"LowCardinality(Nullable(String))", "01"},
        {"LowCardinality(FixedString(2))", "00 00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_STR(default_hex(cases[i].type), cases[i].bytes);
}

/* ---- JSON ------------------------------------------------------------------ */

static const char *json_hex(const char *type, const char *json)
{
    const ch_type *t = parse_ok(type);
    json_error_t je;
    json_t *j = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!t || !j) {
        json_decref(j);
        rc_ = -999;
        return "(setup failed)";
    }
    buf_free(&out);
    buf_init(&out, 1 << 20);
    buf_append_byte(&out, 0xAA);
    memset(&err, 0, sizeof err);
    rc_ = ch_encode_json(t, j, &out, &err);
    json_decref(j);
    return hex(out.data + 1, out.len - 1);
}

#define JSON_OK(type, json, expect)                                                                \
    do {                                                                                           \
        const char *hx_ = json_hex(type, json);                                                    \
        if (rc_ != 0) fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, err.msg);                 \
        CHECK_EQ(rc_, 0);                                                                          \
        CHECK_STR(hx_, expect);                                                                    \
    } while (0)

#define JSON_ERR(type, json, code_, message)                                                       \
    do {                                                                                           \
        const char *hx_ = json_hex(type, json);                                                    \
        CHECK_EQ(rc_, code_);                                                                      \
        CHECK_CONTAINS(err.msg, message);                                                          \
        CHECK_STR(hx_, "");                                                                        \
    } while (0)

static void test_encode_json(void)
{
    /* Scalars as ch_encode_value takes them. */
    JSON_OK("UInt8", "200", "c8");
    JSON_OK("Int64", "-9223372036854775808", "00 00 00 00 00 00 00 80");
    JSON_OK("Float64", "1.5", "00 00 00 00 00 00 f8 3f");
    JSON_OK("Int32", "2.0", "02 00 00 00");
    JSON_OK("Int32", "\"7\"", "07 00 00 00");
    JSON_OK("String", "\"a\\u0000b\"", "03 61 00 62");
    JSON_OK("String", "12", "02 31 32");
    JSON_OK("String", "0.5", "03 30 2e 35");
    JSON_OK("String", "true", "04 74 72 75 65");
    JSON_OK("Bool", "false", "00");
    JSON_OK("UInt8", "true", "01");
    JSON_OK("Nullable(String)", "null", "01");
    JSON_OK("Nullable(String)", "\"x\"", "00 01 78");
    JSON_OK("LowCardinality(Nullable(String))", "null", "01");
    JSON_OK("Date", "\"2026-11-22\"", "2b 51");
    JSON_OK("DateTime", "1795378321", "91 4c 03 6b");
    JSON_OK("Decimal(9, 2)", "\"1.25\"", "7d 00 00 00");
    JSON_OK("Decimal(9, 2)", "1.25", "7d 00 00 00");
    JSON_OK("Enum8('a' = 1, 'b' = 2)", "\"b\"", "02");
    JSON_OK("UUID", "\"61f0c404-5cb3-11e7-907b-a6006ad3dba0\"",
            "e7 11 b3 5c 04 c4 f0 61 a0 db d3 6a 00 a6 7b 90");

    /* Arrays, nested twice, with NULLs and empties. */
    JSON_OK("Array(Int8)", "[]", "00");
    JSON_OK("Array(Int8)", "[1, -1]", "02 01 ff");
    JSON_OK("Array(Array(Nullable(Int8)))", "[[1, null], [], [-128]]",
            "03 02 00 01 01 00 01 00 80");
    JSON_OK("Array(Nullable(String))", "[\"a\", null, \"\"]", "03 00 01 61 01 00 00");
    JSON_OK("Array(LowCardinality(String))", "[\"ab\"]", "01 02 61 62");
    char many[8000];
    size_t w = (size_t)sprintf(many, "[");
    for (int i = 0; i < 200; i++)
        w += (size_t)sprintf(many + w, "%s0", i ? "," : "");
    sprintf(many + w, "]");
    const char *h = json_hex("Array(UInt8)", many);
    CHECK_EQ(rc_, 0);
    CHECK(strncmp(h, "c8 01 00 00", 11) == 0); /* LEB128 200 = c8 01 */
    CHECK_EQ(out.len, 1 + 2 + 200);

    /* Maps (ClickHouse 21.1+; no 18.16 server to check): "Map(K, V) —
     * LEB128 count, then key and value of each pair", RowBinary section of
     * https://clickhouse.com/docs/en/interfaces/formats#rowbinary. */
    JSON_OK("Map(String, UInt64)", "{}", "00");
    JSON_OK("Map(String, UInt64)", "{\"a\": 1, \"b\": 2}",
            "02 01 61 01 00 00 00 00 00 00 00 01 62 02 00 00 00 00 00 00 00");
    JSON_OK("Map(UInt16, Array(Nullable(Int8)))", "{\"258\": [null, 3]}", "01 02 01 02 01 00 03");
    JSON_OK("Map(LowCardinality(String), Map(String, String))", "{\"k\": {\"x\": \"y\"}}",
            "01 01 6b 01 01 78 01 79");
    JSON_OK("Map(Enum8('a' = 1), Bool)", "{\"a\": true}", "01 01 01");

    /* Errors name the path inside the value; nothing is left written. */
    JSON_ERR("Array(UInt8)", "[1, 2, 300]", SLUICE_ERANGE, "[2]: 300 does not fit in UInt8");
    JSON_ERR("Array(Array(UInt8))", "[[1], [2, -1]]", SLUICE_ERANGE,
             "[1][1]: -1 does not fit in UInt8");
    JSON_ERR("Map(String, UInt8)", "{\"a\": 1, \"b\": 256}", SLUICE_ERANGE,
             "['b']: 256 does not fit in UInt8");
    JSON_ERR("Map(String, Array(UInt8))", "{\"a\": [0, 1.5]}", SLUICE_ERANGE,
             "['a'][1]: 1.5 is not an integer for UInt8");
    JSON_ERR("Array(Map(String, UInt8))", "[{}, {\"x\": \"y\"}]", SLUICE_EINVAL,
             "[1]['x']: string 'y' is not a number for UInt8");
    JSON_ERR("Map(UInt8, String)", "{\"300\": \"x\"}", SLUICE_ERANGE,
             "['300']: string '300' does not fit in UInt8");
    JSON_ERR("Map(UInt8, String)", "{\"k\": \"x\"}", SLUICE_EINVAL,
             "['k']: string 'k' is not a number for UInt8");
    JSON_ERR("UInt8", "300", SLUICE_ERANGE, "300 does not fit in UInt8");
    JSON_ERR("String", "{\"a\": 1}", SLUICE_EINVAL, "a JSON object cannot be written to String");
    JSON_ERR("String", "[1]", SLUICE_EINVAL, "a JSON array cannot be written to String");
    JSON_ERR("Nullable(Int8)", "[1]", SLUICE_EINVAL,
             "a JSON array cannot be written to Nullable(Int8)");
    JSON_ERR("Array(Int8)", "null", SLUICE_EINVAL, "null cannot be written to Array(Int8)");
    JSON_ERR("Array(Int8)", "{}", SLUICE_EINVAL, "a JSON object cannot be written to Array(Int8)");
    JSON_ERR("Map(String, Int8)", "[]", SLUICE_EINVAL,
             "a JSON array cannot be written to Map(String, Int8)");
    JSON_ERR("Map(String, Int8)", "\"x\"", SLUICE_EINVAL,
             "a JSON scalar cannot be written to Map(String, Int8)");
    JSON_ERR("Array(String)", "[\"a\", null]", SLUICE_EINVAL,
             "[1]: NULL cannot be written to non-Nullable String");
    JSON_ERR("String", "null", SLUICE_EINVAL, "NULL cannot be written to non-Nullable String");
}

TEST_MAIN(T(test_parse_simple_types), T(test_parse_parameterised), T(test_parse_enum),
          T(test_parse_nesting), T(test_parse_spacing), T(test_parse_rejections),
          T(test_server_features), T(test_encode_integers), T(test_encode_floats),
          T(test_encode_bool), T(test_encode_decimals), T(test_encode_strings),
          T(test_encode_fixed_string), T(test_encode_date), T(test_encode_datetime),
          T(test_encode_datetime64), T(test_encode_uuid), T(test_encode_enum),
          T(test_encode_wrappers), T(test_encode_memory_bound), T(test_encode_default),
          T(test_encode_json))
