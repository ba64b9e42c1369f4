/*
 * test_expr.c — the transform expression language (src/codec/expr_parse.c,
 * expr_eval.c).
 *
 * Most cases are rows of one table: an expression, optional values for the
 * generic slots a, b and c, and the expected result rendered as text (see
 * render()) or the exact error message: "!C msg" a compile error, "!I msg"
 * / "!R msg" / "!M msg" an evaluation error with SLUICE_EINVAL / ERANGE /
 * ENOMEM. Every failing row is printed before the test fails. The rest
 * covers what a table cannot: NULL truth tables, the depth and length
 * bounds, scratch-buffer safety (meant to run under ASan: results that
 * moved with a realloc would be read after free), a missing or full
 * scratch buffer, and that names are resolved only at compile time.
 */
#include "codec/expr.h"

#include "test.h"

#include <math.h>

/* ------------------------------------------------------------------ */
/* The row the expressions see                                         */

#define TS_S INT64_C(1772600767) /* 2026-03-04T05:06:07Z */
#define DATE_DAYS 20516          /* 2026-03-04 */
#define LEAP_DAY 19782           /* 2024-02-29 */

enum { SLOT_A, SLOT_B, SLOT_C };

static const uint8_t DEC_12_50[] = {0x04, 0xe2}; /* 1250, scale 2 */
static const uint8_t DEC_NEG[] = {0xfb};         /* -5, scale 2 */
/* -123456789012345678901234567890, scale 3, as 16 bytes */
static const uint8_t DEC_BIG[] = {0xff, 0xff, 0xff, 0xfe, 0x71, 0x16, 0xf0, 0x09,
                                  0x3c, 0x8c, 0x1f, 0x11, 0xb1, 0xc0, 0xf5, 0x2e};

static const struct {
    const char *name;
    cvalue v;
} FIELDS[] = {
    {"a", {.kind = CV_NULL}},
    {"b", {.kind = CV_NULL}},
    {"c", {.kind = CV_NULL}},
    {"i", {.kind = CV_INT, .i = 42}},
    {"neg", {.kind = CV_INT, .i = -7}},
    {"zero", {.kind = CV_INT, .i = 0}},
    {"big", {.kind = CV_INT, .i = INT64_MAX}},
    {"small", {.kind = CV_INT, .i = INT64_MIN}},
    {"f", {.kind = CV_DOUBLE, .d = 1.5}},
    {"s", {.kind = CV_STRING, .s = "hello", .len = 5}},
    {"mixed", {.kind = CV_STRING, .s = "MiXeD \xc3\xa4", .len = 8}},
    {"e", {.kind = CV_ENUM, .s = "ACTIVE", .len = 6, .i = 1}},
    {"y",
     {.kind = CV_BYTES,
      .s = "\x00\xff"
           "Ab",
      .len = 4}},
    {"d", {.kind = CV_DECIMAL, .s = (const char *)DEC_12_50, .len = 2, .scale = 2}},
    {"nd", {.kind = CV_DECIMAL, .s = (const char *)DEC_NEG, .len = 1, .scale = 2}},
    {"bigd", {.kind = CV_DECIMAL, .s = (const char *)DEC_BIG, .len = 16, .scale = 3}},
    {"t", {.kind = CV_BOOL, .i = 1}},
    {"fl", {.kind = CV_BOOL, .i = 0}},
    {"n", {.kind = CV_NULL}},
    {"ts_s", {.kind = CV_INT, .unit = CV_UNIT_TS_S, .i = TS_S}},
    {"ts_ms", {.kind = CV_INT, .unit = CV_UNIT_TS_MS, .i = TS_S * 1000 + 89}},
    {"ts_us", {.kind = CV_INT, .unit = CV_UNIT_TS_US, .i = TS_S * 1000000 + 89123}},
    {"date", {.kind = CV_INT, .unit = CV_UNIT_DATE_DAYS, .i = DATE_DAYS}},
    {"tod_ms", {.kind = CV_INT, .unit = CV_UNIT_TIME_MS, .i = 45296789}},
    {"status", {.kind = CV_STRING, .s = "CANCELLED", .len = 9}},
    {"qty", {.kind = CV_INT, .i = 3}},
    {"price", {.kind = CV_DOUBLE, .d = 40.0}},
    {"items.qty", {.kind = CV_INT, .i = 2}},
    {"items.price", {.kind = CV_DOUBLE, .d = 9.99}},
    {"user.id", {.kind = CV_INT, .i = 1001}},
    {"odd name", {.kind = CV_STRING, .s = "x", .len = 1}},
    {"#index", {.kind = CV_INT, .i = 5}},
};
#define N_FIELDS (sizeof FIELDS / sizeof FIELDS[0])

static int resolve_calls;

static int resolve_all(void *ctx, const char *path)
{
    int with_index = ctx != NULL;
    resolve_calls++;
    for (size_t k = 0; k < N_FIELDS; k++) {
        if (strcmp(FIELDS[k].name, path) == 0) {
            if (!with_index && strcmp(path, "#index") == 0) return -1;
            return (int)k;
        }
    }
    return -1;
}

static int with_index_flag = 1;
static const expr_resolver RESOLVER = {resolve_all, &with_index_flag};
static const expr_resolver RESOLVER_NO_EXPLODE = {resolve_all, NULL};

/* ------------------------------------------------------------------ */
/* Rendering a result as the table writes it                           */

static void append_escaped(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = strlen(out);
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f)
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
    }
    out[o] = '\0';
}

static void render(const cvalue *v, char *out, size_t cap)
{
    static const char *const unit_prefix[] = {
        [CV_UNIT_NONE] = "",           [CV_UNIT_DATE_DAYS] = "date:", [CV_UNIT_TIME_MS] = "tod_ms:",
        [CV_UNIT_TIME_US] = "tod_us:", [CV_UNIT_TS_MS] = "ts_ms:",    [CV_UNIT_TS_US] = "ts_us:",
        [CV_UNIT_TS_S] = "ts_s:",
    };
    out[0] = '\0';
    switch (v->kind) {
    case CV_NULL:
        snprintf(out, cap, "NULL");
        return;
    case CV_BOOL:
        snprintf(out, cap, "%s", v->i ? "true" : "false");
        return;
    case CV_INT:
        snprintf(out, cap, "%s%" PRId64, unit_prefix[v->unit], v->i);
        return;
    case CV_DOUBLE:
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(out, cap, "d:%.*g", prec, v->d);
            if (strtod(out + 2, NULL) == v->d || isnan(v->d)) break;
        }
        return;
    case CV_STRING:
        snprintf(out, cap, "'");
        break;
    case CV_BYTES:
        snprintf(out, cap, "b'");
        break;
    case CV_ENUM:
        snprintf(out, cap, "enum'");
        break;
    case CV_DECIMAL:
        snprintf(out, cap, "decimal(%zu bytes, scale %d)", v->len, v->scale);
        return;
    }
    append_escaped(out, cap, v->s, v->len);
    strncat(out, "'", cap - strlen(out) - 1);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

typedef struct row {
    const char *text;
    const char *want;
    cvalue a, b, c;
} row;

/* clang-format off */
#define INT(x) {.kind = CV_INT, .i = (x)}
#define DBL(x) {.kind = CV_DOUBLE, .d = (x)}
#define STR(x) {.kind = CV_STRING, .s = (x), .len = sizeof(x) - 1}
#define BOOL(x) {.kind = CV_BOOL, .i = (x)}
#define TS(u, x) {.kind = CV_INT, .unit = (u), .i = (x)}
/* clang-format on */

static const int64_t NOW_S = TS_S;

/* Returns 1 and prints the row if it does not hold. */
static int run_row(const row *r, const expr_resolver *res)
{
    cvalue slots[N_FIELDS];
    for (size_t k = 0; k < N_FIELDS; k++)
        slots[k] = FIELDS[k].v;
    slots[SLOT_A] = r->a;
    slots[SLOT_B] = r->b;
    slots[SLOT_C] = r->c;

    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 24);
    buf scratch;
    buf_init(&scratch, 1 << 20);
    sluice_error err;
    sluice_error_clear(&err);
    const expr *e = NULL;
    char got[1024];
    int bad = 0;

    int rc = expr_compile(r->text, res, &a, &e, &err);
    if (rc) {
        snprintf(got, sizeof got, "!C %s", err.msg);
        bad = rc != SLUICE_EINVAL && rc != SLUICE_ENOMEM;
    } else {
        expr_ctx ctx = {.slots = slots, .now_s = NOW_S, .scratch = &scratch};
        cvalue v;
        rc = expr_eval(e, &ctx, &v, &err);
        if (rc)
            snprintf(got, sizeof got, "!%c %s",
                     rc == SLUICE_EINVAL   ? 'I'
                     : rc == SLUICE_ERANGE ? 'R'
                     : rc == SLUICE_ENOMEM ? 'M'
                                           : '?',
                     err.msg);
        else
            render(&v, got, sizeof got);
    }
    if (bad || strcmp(got, r->want) != 0) {
        fprintf(stderr, "  expr:     %s\n  got:      %s\n  expected: %s\n", r->text, got, r->want);
        bad = 1;
    }
    buf_free(&scratch);
    arena_free(&a);
    return bad;
}

static int run_rows(const row *rows, size_t n)
{
    int failures = 0;
    for (size_t k = 0; k < n; k++)
        failures += run_row(&rows[k], &RESOLVER);
    return failures;
}

#define RUN(rows) CHECK_EQ(run_rows(rows, sizeof rows / sizeof rows[0]), 0)

static void test_literals_and_fields(void)
{
    static const row rows[] = {
        {"42", "42"},
        {"-7", "-7"},
        {"1.5", "d:1.5"},
        {"2e3", "d:2000"},
        {"2E-1", "d:0.2"},
        {"-2.5e+1", "d:-25"},
        {"'text'", "'text'"},
        {"''", "''"},
        {"'it''s'", "'it's'"},
        {"'a\\'b'", "'a'b'"},
        {"'tab\\there'", "'tab\\x09here'"},
        {"'line\\n'", "'line\\x0a'"},
        {"'back\\\\slash'", "'back\\slash'"},
        {"'caf\xc3\xa9'", "'caf\\xc3\\xa9'"},
        {"true", "true"},
        {"FALSE", "false"},
        {"NuLl", "NULL"},
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"007", "7"},
        {"i", "42"},
        {"user.id", "1001"},
        {"items.qty", "2"},
        {"`odd name`", "'x'"},
        {"`i`", "42"},
        {"e", "enum'ACTIVE'"},
        {"y", "b'\\x00\\xffAb'"},
        {"a", "'slot a'", .a = STR("slot a")},
        {"  i\t\n", "42"},
    };
    RUN(rows);
}

static void test_arithmetic(void)
{
    static const row rows[] = {
        {"1 - 2 - 3", "-4"},
        {"2 + 3 * 4", "14"},
        {"(2 + 3) * 4", "20"},
        {"2 * 3 + 4", "10"},
        {"1 + 2 * 3 - 4 / 2", "d:5"},
        {"100 / 10 / 5", "d:2"},
        {"2 * 3 % 4", "2"},
        {"10 / 4", "d:2.5"},
        {"10 / 5", "d:2"},
        {"7 % 3", "1"},
        {"-7 % 3", "-1"},
        {"7 % -3", "1"},
        {"i + 1", "43"},
        {"i - -8", "50"},
        {"i * neg", "-294"},
        {"i + f", "d:43.5"},
        {"f * 2", "d:3"},
        {"- i", "-42"},
        {"-f", "d:-1.5"},
        {"- - 5", "5"},
        {"-(3)", "-3"},
        {"-i * 2", "-84"},
        {"d + 1", "d:13.5"},
        {"d * 2", "d:25"},
        {"nd * 2", "d:-0.1"},
        {"-d", "d:-12.5"},
        {"big + f", "d:9.223372036854776e+18"},
        {"n + 1", "NULL"},
        {"1 - n", "NULL"},
        {"n * n", "NULL"},
        {"-n", "NULL"},
        {"n / 0", "NULL"},
        {"n % 0", "NULL"},
        {"s + 1", "!I offset 2: cannot apply '+' to String and Int64 (use concat to join strings)"},
        {"t + 1", "!I offset 2: cannot apply '+' to Bool and Int64"},
        {"1 * y", "!I offset 2: cannot apply '*' to Int64 and Bytes"},
        {"-s", "!I offset 0: cannot negate String"},
        {"f % 2", "!I offset 2: '%' needs integers, got Float64 and Int64"},
        {"5 % d", "!I offset 2: '%' needs integers, got Int64 and Decimal"},
        {"1 / 0", "!I offset 2: division by zero"},
        {"1.0 / 0.0", "!I offset 4: division by zero"},
        {"f / -0.0", "!I offset 2: division by zero"},
        {"1 / zero", "!I offset 2: division by zero"},
        {"1 % 0", "!I offset 2: modulo by zero"},
        {"a * 2", "d:5", .a = {.kind = CV_DOUBLE, .d = 2.5, .is_float32 = 1}},
    };
    RUN(rows);
}

static void test_overflow(void)
{
    static const row rows[] = {
        {"big + 1", "!R offset 4: integer overflow in 9223372036854775807 + 1"},
        {"1 + big", "!R offset 2: integer overflow in 1 + 9223372036854775807"},
        {"small - 1", "!R offset 6: integer overflow in -9223372036854775808 - 1"},
        {"big * 2", "!R offset 4: integer overflow in 9223372036854775807 * 2"},
        {"small * -1", "!R offset 6: integer overflow in -9223372036854775808 * -1"},
        {"-small", "!R offset 0: integer overflow in -(-9223372036854775808)"},
        {"abs(small)", "!R offset 0: integer overflow in abs(-9223372036854775808)"},
        {"small % -1", "0"},
        {"small % 10", "-8"},
        {"small / -1", "d:9.223372036854776e+18"},
        {"big + 0", "9223372036854775807"},
        {"-9223372036854775807 - 1", "-9223372036854775808"},
        {"big - big", "0"},
        {"3037000500 * 3037000500", "!R offset 11: integer overflow in 3037000500 * 3037000500"},
        {"3037000499 * 3037000499", "9223372030926249001"},
        {"9223372036854775808",
         "!C offset 0: integer '9223372036854775808' is out of range for Int64"},
        {"-9223372036854775809",
         "!C offset 1: integer '9223372036854775809' is out of range for Int64"},
        {"99999999999999999999",
         "!C offset 0: integer '99999999999999999999' is out of range for Int64"},
        {"1e999", "!C offset 0: number '1e999' is out of range for Float64"},
    };
    RUN(rows);
}

static void test_comparisons(void)
{
    static const row rows[] = {
        {"1 = 1", "true"},
        {"1 == 2", "false"},
        {"1 != 2", "true"},
        {"1 <> 1", "false"},
        {"1 < 2", "true"},
        {"2 <= 2", "true"},
        {"3 > 2", "true"},
        {"2 >= 3", "false"},
        {"i = 42.0", "true"},
        {"f > 1", "true"},
        {"f < 2", "true"},
        {"f > i", "false"},
        {"s = 'hello'", "true"},
        {"s < 'help'", "true"},
        {"s > 'hell'", "true"},
        {"'B' < 'a'", "true"},
        {"'' < 'a'", "true"},
        {"e = 'ACTIVE'", "true"},
        {"e != 'active'", "true"},
        {"'ACTIVE' = e", "true"},
        {"e = e", "true"},
        {"y = 'x'", "false"},
        {"y < 'a'", "true"},
        {"t = true", "true"},
        {"t > fl", "true"},
        {"fl < t", "true"},
        {"d = 12.5", "true"},
        {"d = 12.50", "true"},
        {"d > 12", "true"},
        {"d = i", "false"},
        {"nd < 0", "true"},
        {"nd = -0.05", "true"},
        {"bigd < -1e26", "true"},
        {"d > nd", "true"},
        {"1 = n", "NULL"},
        {"n = n", "NULL"},
        {"n != 1", "NULL"},
        {"s < n", "NULL"},
        {"(1 = 1) = true", "true"},
        {"not 1 = 2", "true"},
        {"not i = 42", "false"},
        {"a = a", "false", .a = DBL(NAN)},
        {"a != a", "true", .a = DBL(NAN)},
        {"a < 1", "false", .a = DBL(NAN)},
        {"a >= 1", "false", .a = DBL(NAN)},
        {"i = a", "false", .a = DBL(NAN)},
        {"i != a", "true", .a = DBL(NAN)},
        {"a = a", "true", .a = DBL(INFINITY)},
        {"big < a", "true", .a = DBL(INFINITY)},
        {"s = 1", "!I offset 2: cannot compare String with Int64"},
        {"t = 1", "!I offset 2: cannot compare Bool with Int64"},
        {"e < 2", "!I offset 2: cannot compare Enum with Int64"},
        {"d = 'x'", "!I offset 2: cannot compare Decimal with String"},
        {"1 = 2 = 3",
         "!C offset 6: comparisons do not chain; use parentheses or AND to combine them"},
        {"1 < 2 < 3",
         "!C offset 6: comparisons do not chain; use parentheses or AND to combine them"},
        {"i is null is null",
         "!C offset 10: comparisons do not chain; use parentheses or AND to combine them"},
        {"i = 1 in (1)",
         "!C offset 6: comparisons do not chain; use parentheses or AND to combine them"},
    };
    RUN(rows);
}

/* An int64 against a double compares the exact values, where converting
 * the int to double would round (above 2^53) and call them equal. */
static void test_exact_int_float(void)
{
    static const row rows[] = {
        {"a = 9007199254740992.0", "false", .a = INT(9007199254740993)},
        {"a > 9007199254740992.0", "true", .a = INT(9007199254740993)},
        {"9007199254740992.0 < a", "true", .a = INT(9007199254740993)},
        {"a = 9007199254740992.0", "true", .a = INT(9007199254740992)},
        {"9007199254740993 = 9007199254740993.0", "false"}, /* the literal is 2^53 */
        {"9007199254740993 > 9007199254740993.0", "true"},
        {"9007199254740993.0 < 9007199254740993", "true"},
        {"big = 9223372036854775807.0", "false"}, /* the literal is 2^63 */
        {"big < 9223372036854775807.0", "true"},
        {"small = -9223372036854775808.0", "true"},
        {"small < -9223372036854775808.0", "false"},
        {"small > -1e19", "true"},
        {"big < 1e19", "true"},
        {"-1 < -0.5", "true"},
        {"-1 > -1.5", "true"},
        {"0 = -0.0", "true"},
        {"2 > 1.5", "true"},
        {"-2 < -1.5", "true"},
        {"a = a", "true", .a = INT(INT64_MAX - 1)},
        {"a < 9223372036854775807.0", "true", .a = INT(INT64_MAX - 1)},
        {"a in (9007199254740992.0, 1)", "false", .a = INT(9007199254740993)},
    };
    RUN(rows);
}

static void test_logic_truth_tables(void)
{
    /* a, b in {true, false, NULL}: AND, OR written out, not computed. */
    static const struct {
        int a, b; /* 1 true, 0 false, -1 NULL */
        const char *and_, *or_;
    } table[] = {
        {1, 1, "true", "true"},  {1, 0, "false", "true"},  {1, -1, "NULL", "true"},
        {0, 1, "false", "true"}, {0, 0, "false", "false"}, {0, -1, "false", "NULL"},
        {-1, 1, "NULL", "true"}, {-1, 0, "false", "NULL"}, {-1, -1, "NULL", "NULL"},
    };
    int failures = 0;
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        cvalue a = table[k].a < 0 ? cv_null() : cv_bool(table[k].a);
        cvalue b = table[k].b < 0 ? cv_null() : cv_bool(table[k].b);
        row r1 = {"a and b", table[k].and_, .a = a, .b = b};
        row r2 = {"a or b", table[k].or_, .a = a, .b = b};
        row r3 = {"a AND b AND true", table[k].and_, .a = a, .b = b};
        row r4 = {"a OR b OR false", table[k].or_, .a = a, .b = b};
        failures += run_row(&r1, &RESOLVER) + run_row(&r2, &RESOLVER) + run_row(&r3, &RESOLVER) +
                    run_row(&r4, &RESOLVER);
    }
    CHECK_EQ(failures, 0);

    static const row rows[] = {
        {"not a", "false", .a = BOOL(1)},
        {"not a", "true", .a = BOOL(0)},
        {"not a", "NULL"},
        {"not not true", "true"},
        {"true or true and false", "true"}, /* AND binds tighter than OR */
        {"false and true or true", "true"},
        {"not true and false", "false"}, /* NOT binds tighter than AND */
        {"not (true and false)", "true"},
        {"a or b and c", "true", .a = BOOL(1), .b = BOOL(0), .c = BOOL(0)},
        {"(a or b) and c", "false", .a = BOOL(1), .b = BOOL(0), .c = BOOL(0)},
        {"false and 1", "false"}, /* stops at false */
        {"true or 1", "true"},    /* stops at true */
        {"zero != 0 and 1 / zero > 1", "false"},
        {"zero = 0 or 1 / zero > 1", "true"},
        {"n and false", "false"},
        {"n or true", "true"},
        {"1 and true", "!I offset 2: AND needs true, false or NULL, got Int64"},
        {"true and true and 's'", "!I offset 5: AND needs true, false or NULL, got String"},
        {"false or 'x'", "!I offset 6: OR needs true, false or NULL, got String"},
        {"not 1", "!I offset 0: NOT needs true, false or NULL, got Int64"},
        {"n is null", "true"},
        {"n IS NOT NULL", "false"},
        {"i is null", "false"},
        {"i is not null", "true"},
        {"(n + 1) is null", "true"},
        {"not n is null", "false"},
        {"s is not null and s = 'hello'", "true"},
        {"i is 5", "!C offset 5: expected NULL or NOT NULL after IS, found '5'"},
        {"i is not 5", "!C offset 9: expected NULL or NOT NULL after IS, found '5'"},
    };
    RUN(rows);
}

static void test_in_lists(void)
{
    static const row rows[] = {
        {"i in (1, 42, 3)", "true"},
        {"i IN (1, 2)", "false"},
        {"i not in (1, 2)", "true"},
        {"i NOT IN (42)", "false"},
        {"i in (1, n)", "NULL"},
        {"i in (42, n)", "true"},
        {"i in (n, 42)", "true"},
        {"i not in (1, n)", "NULL"},
        {"i not in (42, n)", "false"},
        {"n in (1, 2)", "NULL"},
        {"n not in (1, 2)", "NULL"},
        {"s in ('a', 'hello')", "true"},
        {"e in ('PAUSED', 'ACTIVE')", "true"},
        {"i in (42.0)", "true"},
        {"i in (1 + 41)", "true"},
        {"not i in (1)", "true"},
        {"s in (1)", "!I offset 2: cannot compare String with Int64"},
        {"i in (42, 'x')", "true"}, /* stops at the first match */
        {"i in (1, 'x')", "!I offset 2: cannot compare Int64 with String"},
        {"i in ()", "!C offset 6: IN needs at least one value"},
        {"i in 1", "!C offset 5: expected '(' after IN, found '1'"},
        {"i in (1 2)", "!C offset 8: expected ',' or ')' in the IN list, found '2'"},
        {"i in (1,",
         "!C offset 8: expected a value, a field or a function, found the end of the expression"},
        {"i not 5", "!C offset 6: expected IN after NOT, found '5'"},
    };
    RUN(rows);
}

static void test_functions(void)
{
    static const row rows[] = {
        {"coalesce(n, 1)", "1"},
        {"coalesce(n, n)", "NULL"},
        {"coalesce(s, 'x')", "'hello'"},
        {"coalesce(n, n, upper(s))", "'HELLO'"},
        {"coalesce(i, 1 / zero)", "42"}, /* stops at the first non-NULL */
        {"upper(s)", "'HELLO'"},
        {"UPPER(s)", "'HELLO'"},
        {"lower('ABC')", "'abc'"},
        {"upper(mixed)", "'MIXED \\xc3\\xa4'"},
        {"lower(mixed)", "'mixed \\xc3\\xa4'"},
        {"lower('\xc3\x84Z')", "'\\xc3\\x84z'"},
        {"upper(e)", "'ACTIVE'"},
        {"upper(y)", "b'\\x00\\xffAB'"},
        {"upper('')", "''"},
        {"upper(n)", "NULL"},
        {"upper(i)", "!I offset 0: upper() needs a String, got Int64"},
        {"lower(t)", "!I offset 0: lower() needs a String, got Bool"},
        {"concat(s, '-', i)", "'hello-42'"},
        {"concat(f)", "'1.5'"},
        {"concat(t, fl)", "'truefalse'"},
        {"concat(s, n)", "NULL"},
        {"concat(n, 1 / zero)", "!I offset 12: division by zero"},
        {"concat(d, ' ', nd)", "'12.50 -0.05'"},
        {"concat(e, y)", "'ACTIVE\\x00\\xffAb'"},
        {"concat(ts_s)", "'2026-03-04T05:06:07Z'"},
        {"concat('')", "''"},
        {"concat(big, small)", "'9223372036854775807-9223372036854775808'"},
        {"concat(upper(s), lower('X'), i)", "'HELLOx42'"},
        {"concat(concat(s, s), concat(s))", "'hellohellohello'"},
        {"length(s)", "5"},
        {"length('')", "0"},
        {"length(mixed)", "8"},
        {"length(y)", "4"},
        {"length(e)", "6"},
        {"length(upper(s))", "5"},
        {"length(n)", "NULL"},
        {"length(i)", "!I offset 0: length() needs a String or Bytes, got Int64"},
        {"abs(neg)", "7"},
        {"abs(i)", "42"},
        {"abs(-1.5)", "d:1.5"},
        {"abs(nd)", "d:0.05"},
        {"abs(n)", "NULL"},
        {"abs(s)", "!I offset 0: abs() needs a number, got String"},
        {"abs(ts_s)", "!I offset 0: abs() needs a number, got timestamp (s)"},
        {"if(t, 1, 2)", "1"},
        {"if(fl, 1, 2)", "2"},
        {"if(n, 1, 2)", "2"},
        {"If(i > 40, 'big', 'small')", "'big'"},
        {"if(t, 1, 1 / zero)", "1"}, /* only the chosen branch runs */
        {"if(1, 2, 3)", "!I offset 0: if() needs true, false or NULL as its condition, got Int64"},
        {"now()", "ts_s:1772600767"},
        {"index()", "5"},
        {"index() + 1", "6"},
        {"coalesce()", "!C offset 0: coalesce() takes at least 1 argument, got 0"},
        {"concat()", "!C offset 0: concat() takes at least 1 argument, got 0"},
        {"upper(s, s)", "!C offset 0: upper() takes 1 argument, got 2"},
        {"upper()", "!C offset 0: upper() takes 1 argument, got 0"},
        {"i + length(s, 1)", "!C offset 4: length() takes 1 argument, got 2"},
        {"abs()", "!C offset 0: abs() takes 1 argument, got 0"},
        {"if(t, 1)", "!C offset 0: if() takes 3 arguments, got 2"},
        {"now(1)", "!C offset 0: now() takes no arguments, got 1"},
        {"index(1)", "!C offset 0: index() takes no arguments, got 1"},
        {"concat(s, 'x' i)", "!C offset 14: expected ')' after the arguments of concat, found 'i'"},
        {"upper(s",
         "!C offset 7: expected ')' after the arguments of upper, found the end of the expression"},
        {"foo(1)",
         "!C offset 0: unknown function 'foo' (functions: coalesce, upper, lower, concat, length, "
         "abs, if, cast, now, index)"},
        {"s.upper(1)",
         "!C offset 0: unknown function 's.upper' (functions: coalesce, upper, lower, concat, "
         "length, abs, if, cast, now, index)"},
        {"upper", "!C offset 0: unknown field 'upper'"},
    };
    RUN(rows);
}

static void test_casts(void)
{
    static const row rows[] = {
        {"cast(i AS String)", "'42'"},
        {"cast(neg AS String)", "'-7'"},
        {"cast(f AS String)", "'1.5'"},
        {"cast(0.1 AS String)", "'0.1'"},
        {"cast(0.1 + 0.2 AS String)", "'0.30000000000000004'"},
        {"cast(1e20 AS String)", "'1e+20'"},
        {"cast(2.0 AS String)", "'2'"},
        {"cast(t AS String)", "'true'"},
        {"cast(d AS String)", "'12.50'"},
        {"cast(nd AS String)", "'-0.05'"},
        {"cast(bigd AS String)", "'-123456789012345678901234567.890'"},
        {"cast(e AS String)", "'ACTIVE'"},
        {"cast(y AS String)", "'\\x00\\xffAb'"},
        {"cast(ts_s AS String)", "'2026-03-04T05:06:07Z'"},
        {"cast(ts_ms AS String)", "'2026-03-04T05:06:07.089Z'"},
        {"cast(ts_us AS String)", "'2026-03-04T05:06:07.089123Z'"},
        {"cast(date AS String)", "'2026-03-04'"},
        {"cast(tod_ms AS String)", "'12:34:56.789'"},
        {"cast(a AS String)", "'1969-12-31T23:59:59.999Z'", .a = TS(CV_UNIT_TS_MS, -1)},
        {"cast(a AS String)", "'2024-02-29'", .a = TS(CV_UNIT_DATE_DAYS, LEAP_DAY)},
        {"cast(a AS String)", "!R offset 0: time of day 86400000 is outside 00:00:00 to 23:59:59",
         .a = TS(CV_UNIT_TIME_MS, 86400000)},
        {"cast(n AS String)", "NULL"},
        {"cast('42' AS Int64)", "42"},
        {"cast('-42' AS Int64)", "-42"},
        {"cast('+7' AS Int64)", "7"},
        {"cast('9223372036854775807' AS Int64)", "9223372036854775807"},
        {"cast('-9223372036854775808' AS Int64)", "-9223372036854775808"},
        {"cast('12x' AS Int64)", "!I offset 0: cannot cast '12x' to Int64: not an integer"},
        {"cast(' 12' AS Int64)", "!I offset 0: cannot cast ' 12' to Int64: not an integer"},
        {"cast('' AS Int64)", "!I offset 0: cannot cast '' to Int64: not an integer"},
        {"cast('-' AS Int64)", "!I offset 0: cannot cast '-' to Int64: not an integer"},
        {"cast('1.5' AS Int64)", "!I offset 0: cannot cast '1.5' to Int64: not an integer"},
        {"cast('9223372036854775808' AS Int64)",
         "!R offset 0: cannot cast '9223372036854775808' to Int64: out of range"},
        {"cast('99999999999999999999x' AS Int64)",
         "!I offset 0: cannot cast '99999999999999999999x' to Int64: not an integer"},
        {"cast(1.9 AS Int64)", "1"},
        {"cast(-1.9 AS Int64)", "-1"},
        {"cast(1e19 AS Int64)", "!R offset 0: cannot cast 1e+19 to Int64: out of range"},
        {"cast(9223372036854775807.0 AS Int64)",
         "!R offset 0: cannot cast 9.223372036854776e+18 to Int64: out of range"},
        {"cast(-9223372036854775808.0 AS Int64)", "-9223372036854775808"},
        {"cast(a AS Int64)", "!R offset 0: cannot cast nan to Int64: out of range", .a = DBL(NAN)},
        {"cast(t AS Int64)", "1"},
        {"cast(d AS Int64)", "12"},
        {"cast(nd AS Int64)", "0"},
        {"cast(bigd AS Int64)",
         "!R offset 0: cannot cast -123456789012345678901234567.890 to Int64: out of range"},
        {"cast(ts_ms AS Int64)", "1772600767089"},
        {"cast(e AS Int64)", "!I offset 0: cannot cast 'ACTIVE' to Int64: not an integer"},
        {"cast(y AS Int64)", "!I offset 0: cannot cast Bytes to Int64"},
        {"cast(2147483647 AS Int32)", "2147483647"},
        {"cast(-2147483648 AS Int32)", "-2147483648"},
        {"cast(2147483648 AS Int32)",
         "!R offset 0: cannot cast 2147483648 to Int32: out of range (-2147483648 to 2147483647)"},
        {"cast('-2147483649' AS Int32)",
         "!R offset 0: cannot cast -2147483649 to Int32: out of range (-2147483648 to 2147483647)"},
        {"cast(-1 AS UInt64)",
         "!R offset 0: cannot cast -1 to UInt64: out of range (0 to 9223372036854775807 in "
         "expressions)"},
        {"cast('18446744073709551615' AS UInt64)",
         "!R offset 0: cannot cast '18446744073709551615' to UInt64: out of range"},
        {"cast(big AS UInt64)", "9223372036854775807"},
        {"cast('0' AS UInt64)", "0"},
        {"cast(i AS Float64)", "d:42"},
        {"cast('1.25' AS Float64)", "d:1.25"},
        {"cast('-1e3' AS Float64)", "d:-1000"},
        {"cast('.5' AS Float64)", "d:0.5"},
        {"cast('7' AS Float64)", "d:7"},
        {"cast(d AS Float64)", "d:12.5"},
        {"cast(bigd AS Float64)", "d:-1.2345678901234568e+26"},
        {"cast(t AS Float64)", "d:1"},
        {"cast('abc' AS Float64)", "!I offset 0: cannot cast 'abc' to Float64: not a number"},
        {"cast('inf' AS Float64)", "!I offset 0: cannot cast 'inf' to Float64: not a number"},
        {"cast('0x10' AS Float64)", "!I offset 0: cannot cast '0x10' to Float64: not a number"},
        {"cast(' 1' AS Float64)", "!I offset 0: cannot cast ' 1' to Float64: not a number"},
        {"cast('1e' AS Float64)", "!I offset 0: cannot cast '1e' to Float64: not a number"},
        {"cast('1e999' AS Float64)", "!R offset 0: cannot cast '1e999' to Float64: out of range"},
        {"cast(y AS Float64)", "!I offset 0: cannot cast Bytes to Float64"},
        {"cast(1 AS Bool)", "true"},
        {"cast(0 AS Bool)", "false"},
        {"cast(1.0 AS Bool)", "true"},
        {"cast('TRUE' AS Bool)", "true"},
        {"cast('0' AS Bool)", "false"},
        {"cast(2 AS Bool)", "!R offset 0: cannot cast 2 to Bool: only 0 and 1"},
        {"cast(0.5 AS Bool)", "!R offset 0: cannot cast 0.5 to Bool: only 0 and 1"},
        {"cast('no' AS Bool)",
         "!I offset 0: cannot cast 'no' to Bool: only 'true', 'false', '1' and '0'"},
        {"cast(ts_s AS Bool)", "!I offset 0: cannot cast timestamp (s) to Bool"},
        {"cast(i as int64)", "42"},
        {"cast(n AS Bool)", "NULL"},
        {"i + cast(s AS Int64)", "!I offset 4: cannot cast 'hello' to Int64: not an integer"},
        {"cast(i AS Int7)",
         "!C offset 10: unknown type 'Int7' in cast (Int64, Int32, UInt64, Float64, String, Bool)"},
        {"cast(i Int64)", "!C offset 7: expected AS after the value in cast, found 'Int64'"},
        {"cast(i AS 5)",
         "!C offset 10: expected a type after AS in cast (Int64, Int32, UInt64, Float64, String, "
         "Bool), found '5'"},
        {"cast(i AS Int64",
         "!C offset 15: expected ')' after the type in cast, found the end of the expression"},
        {"cast(i, Int64)", "!C offset 6: expected AS after the value in cast, found ','"},
    };
    RUN(rows);
}

static void test_timestamps(void)
{
    static const row rows[] = {
        {"ts_s = '2026-03-04T05:06:07Z'", "true"},
        {"ts_s = '2026-03-04 05:06:07'", "true"},
        {"ts_s = '2026-03-04t05:06:07z'", "true"},
        {"ts_s = '2026-03-04T07:06:07+02:00'", "true"},
        {"ts_s = '2026-03-04T00:06:07-05:00'", "true"},
        {"ts_s = '2026-03-04T07:06:07+0200'", "true"},
        {"ts_s = '2026-03-04T07:06:07+02'", "true"},
        {"ts_s = '2026-03-04T05:36:07+00:30'", "true"},
        {"ts_s = '2026-03-04T05:06:07.5Z'", "false"},
        {"ts_s < '2026-03-04T05:06:07.5Z'", "true"},
        {"ts_s > '2026-03-04'", "true"},
        {"ts_s < '2026-03-05'", "true"},
        {"ts_s > '2026-03-04T05:06Z'", "true"},
        {"ts_ms = '2026-03-04T05:06:07.089Z'", "true"},
        {"ts_ms = '2026-03-04T05:06:07,089Z'", "true"},
        {"ts_ms > '2026-03-04T05:06:07.088999999Z'", "true"},
        {"ts_ms < '2026-03-04T05:06:07.0890001Z'", "true"},
        {"ts_us = '2026-03-04T05:06:07.089123Z'", "true"},
        {"ts_us > '2026-03-04T05:06:07.089122999Z'", "true"},
        {"ts_us = '2026-03-04 07:06:07.089123+02:00'", "true"},
        {"ts_us > ts_ms", "true"},
        {"ts_ms > ts_s", "true"},
        {"ts_s < ts_us", "true"},
        {"a = ts_s", "true", .a = TS(CV_UNIT_TS_MS, TS_S * 1000)},
        {"a = ts_s", "true", .a = TS(CV_UNIT_TS_US, TS_S * 1000000)},
        {"date = '2026-03-04'", "true"},
        {"date = '2026-03-04T00:00:00Z'", "true"},
        {"date > '2026-03-03T23:59:59.999999999Z'", "true"},
        {"date < ts_s", "true"},
        {"date + 1 = '2026-03-05'", "true"},
        {"'2026-03-04T05:06:07Z' = ts_s", "true"},
        {"'2026-03-05' > ts_ms", "true"},
        {"ts_ms in ('2027-01-01', '2026-03-04T05:06:07.089Z')", "true"},
        {"ts_ms not in ('2027-01-01')", "true"},
        {"a = '1969-12-31T23:59:59.999Z'", "true", .a = TS(CV_UNIT_TS_MS, -1)},
        {"a < '1970-01-01'", "true", .a = TS(CV_UNIT_TS_US, -1)},
        {"a = '2024-02-29'", "true", .a = TS(CV_UNIT_DATE_DAYS, LEAP_DAY)},
        {"ts_s = a", "true", .a = STR("2026-03-04T05:06:07Z")}, /* read at run time */
        {"a = ts_s", "true", .a = STR("2026-03-04 06:06:07+01:00")},
        {"ts_s = now()", "true"},
        {"now() - 60 < ts_s", "true"},
        {"now() - 60", "ts_s:1772600707"},
        {"ts_ms + 1000", "ts_ms:1772600768089"},
        {"1 + ts_ms", "ts_ms:1772600767090"},
        {"ts_ms - ts_s", "89"},
        {"ts_s - ts_ms", "-89"},
        {"ts_us - ts_ms", "123"},
        {"date - date", "0"},
        {"ts_s - date", "18367"}, /* seconds since midnight */
        {"tod_ms = tod_ms", "true"},
        {"a > tod_ms", "true", .a = TS(CV_UNIT_TIME_US, 45296789001)},
        {"ts_s > 1700000000",
         "!I offset 5: cannot compare timestamp (s) with Int64 (compare a date or timestamp with "
         "another one or with an ISO-8601 string such as '2026-01-01T00:00:00Z')"},
        {"ts_s > 'yesterday'",
         "!I offset 5: cannot compare timestamp (s) with 'yesterday': not an ISO-8601 date or time "
         "('2026-01-01', '2026-01-01T10:00:00Z', '2026-01-01 10:00:00.5+02:00')"},
        {"ts_s > '2026-02-30'",
         "!I offset 5: cannot compare timestamp (s) with '2026-02-30': not an ISO-8601 date or "
         "time "
         "('2026-01-01', '2026-01-01T10:00:00Z', '2026-01-01 10:00:00.5+02:00')"},
        {"ts_s > '2025-02-29'",
         "!I offset 5: cannot compare timestamp (s) with '2025-02-29': not an ISO-8601 date or "
         "time "
         "('2026-01-01', '2026-01-01T10:00:00Z', '2026-01-01 10:00:00.5+02:00')"},
        {"ts_s > '2026-03-04T24:00:00Z'",
         "!I offset 5: cannot compare timestamp (s) with '2026-03-04T24:00:00Z': not an ISO-8601 "
         "date or time ('2026-01-01', '2026-01-01T10:00:00Z', '2026-01-01 10:00:00.5+02:00')"},
        {"ts_s > '2026-03-04T05:06:07.1234567891Z'",
         "!I offset 5: cannot compare timestamp (s) with '2026-03-04T05:06:07.1234567891Z': not an "
         "ISO-8601 date or time ('2026-01-01', '2026-01-01T10:00:00Z', '2026-01-01 "
         "10:00:00.5+02:00')"},
        {"ts_s > '2026-03-04T05:06:07+2:00'",
         "!I offset 5: cannot compare timestamp (s) with '2026-03-04T05:06:07+2:00': not an "
         "ISO-8601 date or time ('2026-01-01', '2026-01-01T10:00:00Z', '2026-01-01 "
         "10:00:00.5+02:00')"},
        {"ts_s * 2",
         "!I offset 5: cannot apply '*' to timestamp (s) and Int64 (a date or time takes + or - of "
         "an integer number of its units, or - of another one)"},
        {"ts_s + f",
         "!I offset 5: cannot apply '+' to timestamp (s) and Float64 (a date or time takes + or - "
         "of an integer number of its units, or - of another one)"},
        {"ts_s + ts_s",
         "!I offset 5: cannot apply '+' to timestamp (s) and timestamp (s) (a date or time takes + "
         "or - of an integer number of its units, or - of another one)"},
        {"ts_s - tod_ms",
         "!I offset 5: cannot apply '-' to timestamp (s) and time of day (ms) (a date or time "
         "takes + or - of an integer number of its units, or - of another one)"},
        {"a + 1", "!R offset 2: integer overflow in 9223372036854775807 + 1",
         .a = TS(CV_UNIT_TS_MS, INT64_MAX)},
        {"a - ts_ms",
         "!R offset 2: integer overflow subtracting timestamp (ms) 1772600767089 from timestamp "
         "(s) "
         "9223372036854775807",
         .a = TS(CV_UNIT_TS_S, INT64_MAX)},
        {"tod_ms > '12:00'", "!I offset 7: cannot compare time of day (ms) with String"},
        {"ts_s = tod_ms", "!I offset 5: cannot compare timestamp (s) with time of day (ms)"},
        {"-ts_s", "!I offset 0: cannot negate timestamp (s)"},
    };
    RUN(rows);
}

static void test_compile_errors(void)
{
    static const row rows[] = {
        {"", "!C offset 0: empty expression"},
        {"   ", "!C offset 0: empty expression"},
        {"usr.id", "!C offset 0: unknown field 'usr.id'"},
        {"i + usr.id", "!C offset 4: unknown field 'usr.id'"},
        {"`#index`", "!C offset 0: unknown field '#index'"},
        {"`a``b`", "!C offset 0: unknown field 'a`b'"},
        {"1 +",
         "!C offset 3: expected a value, a field or a function, found the end of the expression"},
        {"(1 + 2",
         "!C offset 6: expected ')' to close the '(' at offset 0, found the end of the expression"},
        {"1 + 2)", "!C offset 5: expected an operator or the end of the expression, found ')'"},
        {"i j", "!C offset 2: expected an operator or the end of the expression, found 'j'"},
        {"'abc", "!C offset 0: unterminated string literal"},
        {"i = 'abc\\", "!C offset 4: unterminated string literal"},
        {"'a\\qb'",
         "!C offset 2: unknown escape '\\q' in a string literal (known: \\\\ \\' \\n \\t)"},
        {"`abc", "!C offset 0: unterminated `quoted name`"},
        {"``", "!C offset 0: empty `` name"},
        {"a.", "!C offset 2: expected a name after '.' in 'a.'"},
        {"a..b", "!C offset 2: expected a name after '.' in 'a.'"},
        {"a.1", "!C offset 2: expected a name after '.' in 'a.'"},
        {"12abc", "!C offset 0: malformed number '12abc'"},
        {"1.2.3", "!C offset 0: malformed number '1.2.3'"},
        {"1.", "!C offset 0: malformed number '1.'"},
        {"1e", "!C offset 0: malformed number '1e'"},
        {"i # 2", "!C offset 2: unexpected character '#'"},
        {"i ! 2", "!C offset 2: unexpected '!' (use != or NOT)"},
        {"\"x\"",
         "!C offset 0: unexpected '\"' (strings take single quotes; `name` quotes a field)"},
        {"i \xff", "!C offset 2: unexpected character '\\xff'"},
        {"and", "!C offset 0: expected a value, a field or a function, found 'and'"},
        {"i = = 1", "!C offset 4: expected a value, a field or a function, found '='"},
        {"i = not t", "!C offset 4: expected a value, a field or a function, found 'not'"},
        {"+1", "!C offset 0: expected a value, a field or a function, found '+'"},
        {"()", "!C offset 1: expected a value, a field or a function, found ')'"},
        {"upper((s)",
         "!C offset 9: expected ')' after the arguments of upper, found the end of the expression"},
        {"'a very long string literal that goes on and on' i",
         "!C offset 49: expected an operator or the end of the expression, found 'i'"},
        {"i = 'a very long string literal that goes on and on and on'x",
         "!C offset 59: expected an operator or the end of the expression, found 'x'"},
        {"i + 'a very long string literal that goes on and on and on' x",
         "!C offset 60: expected an operator or the end of the expression, found 'x'"},
        {"x = 'a very long string literal that goes on and on and on'",
         "!C offset 0: unknown field 'x'"},
        {"'a very long string literal that goes on and on and on' + )",
         "!C offset 58: expected a value, a field or a function, found ')'"},
        {"('a very long string literal that goes on and on and on' + 1",
         "!C offset 60: expected ')' to close the '(' at offset 0, found the end of the "
         "expression"},
        {"concat('a very long string literal that goes on and on and on and on' ,, 1)",
         "!C offset 71: expected a value, a field or a function, found ','"},
        {"`a very long field name that goes on and on and on and on`",
         "!C offset 0: unknown field 'a very long field name that goes on and ...'"},
    };
    RUN(rows);
}

static void test_index_needs_explode(void)
{
    row r1 = {"index()", "!C offset 0: index() is only available on a route with explode"};
    row r2 = {"1 + index()", "!C offset 4: index() is only available on a route with explode"};
    row r3 = {"i + 1", "43"};
    CHECK_EQ(run_row(&r1, &RESOLVER_NO_EXPLODE), 0);
    CHECK_EQ(run_row(&r2, &RESOLVER_NO_EXPLODE), 0);
    CHECK_EQ(run_row(&r3, &RESOLVER_NO_EXPLODE), 0);
    /* No resolver at all: literals work, every field is unknown. */
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
    const expr *e;
    sluice_error err;
    CHECK_EQ(expr_compile("1 + 2", NULL, &a, &e, &err), 0);
    CHECK_EQ(expr_compile("i", NULL, &a, &e, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "offset 0: unknown field 'i'");
    arena_free(&a);
}

/* ------------------------------------------------------------------ */
/* Bounds                                                              */

static char *repeat(const char *head, const char *unit, int n, const char *mid, const char *tail,
                    int m)
{
    size_t len = strlen(head) + strlen(unit) * (size_t)n + strlen(mid) + strlen(tail) * (size_t)m;
    char *s = malloc(len + 1);
    strcpy(s, head);
    for (int k = 0; k < n; k++)
        strcat(s, unit);
    strcat(s, mid);
    for (int k = 0; k < m; k++)
        strcat(s, tail);
    return s;
}

static int compile_msg(const char *text, char *msg, size_t cap)
{
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 24);
    const expr *e;
    sluice_error err;
    sluice_error_clear(&err);
    int rc = expr_compile(text, &RESOLVER, &a, &e, &err);
    snprintf(msg, cap, "%s", rc ? err.msg : "");
    arena_free(&a);
    return rc;
}

static int eval_text(const char *text, char *got, size_t cap)
{
    cvalue slots[N_FIELDS];
    for (size_t k = 0; k < N_FIELDS; k++)
        slots[k] = FIELDS[k].v;
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 24);
    buf scratch;
    buf_init(&scratch, 1 << 20);
    const expr *e;
    sluice_error err;
    int rc = expr_compile(text, &RESOLVER, &a, &e, &err);
    if (rc == 0) {
        expr_ctx ctx = {.slots = slots, .now_s = NOW_S, .scratch = &scratch};
        cvalue v;
        rc = expr_eval(e, &ctx, &v, &err);
        if (rc == 0) render(&v, got, cap);
    }
    if (rc) snprintf(got, cap, "%s", err.msg);
    buf_free(&scratch);
    arena_free(&a);
    return rc;
}

static void test_depth_bound(void)
{
    char msg[SLUICE_ERROR_MSG_MAX], got[SLUICE_ERROR_MSG_MAX];
    /* 63 parentheses: 64 levels with the whole expression. */
    char *ok = repeat("", "(", 63, "i", ")", 63);
    CHECK_EQ(eval_text(ok, got, sizeof got), 0);
    CHECK_STR(got, "42");
    free(ok);
    char *deep = repeat("", "(", 64, "i", ")", 64);
    CHECK_EQ(compile_msg(deep, msg, sizeof msg), SLUICE_EINVAL);
    CHECK_STR(msg, "offset 64: expression nested deeper than 64 levels");
    free(deep);
    /* A stack-smashing depth is refused just the same, without recursion. */
    char *huge = repeat("", "(", 4000, "i", ")", 0);
    CHECK_EQ(compile_msg(huge, msg, sizeof msg), SLUICE_EINVAL);
    CHECK_STR(msg, "offset 64: expression nested deeper than 64 levels");
    free(huge);

    char *nots = repeat("", "not ", 70, "t", "", 0);
    CHECK_EQ(compile_msg(nots, msg, sizeof msg), SLUICE_EINVAL);
    CHECK_CONTAINS(msg, "nested deeper than 64 levels");
    free(nots);
    char *minus = repeat("", "- ", 70, "i", "", 0);
    CHECK_EQ(compile_msg(minus, msg, sizeof msg), SLUICE_EINVAL);
    CHECK_CONTAINS(msg, "nested deeper than 64 levels");
    free(minus);
    char *calls = repeat("", "upper(", 64, "s", ")", 64);
    CHECK_EQ(compile_msg(calls, msg, sizeof msg), SLUICE_EINVAL);
    CHECK_CONTAINS(msg, "nested deeper than 64 levels");
    free(calls);
    calls = repeat("", "upper(", 63, "s", ")", 63);
    CHECK_EQ(eval_text(calls, got, sizeof got), 0);
    CHECK_STR(got, "'HELLO'");
    free(calls);

    /* A chain of + is a left-deep tree: 63 additions make 64 levels. */
    char *sum = repeat("i", " + i", 63, "", "", 0);
    CHECK_EQ(eval_text(sum, got, sizeof got), 0);
    CHECK_STR(got, "2688");
    free(sum);
    sum = repeat("i", " + i", 64, "", "", 0);
    CHECK_EQ(compile_msg(sum, msg, sizeof msg), SLUICE_EINVAL);
    CHECK_STR(msg, "offset 254: expression nested deeper than 64 levels");
    free(sum);
    /* AND / OR chains are flat: 600 conditions are one level. */
    char *conds = repeat("t", " and t", 599, "", "", 0);
    CHECK_EQ(eval_text(conds, got, sizeof got), 0);
    CHECK_STR(got, "true");
    free(conds);
    conds = repeat("fl", " or fl", 599, " or t", "", 0);
    CHECK_EQ(eval_text(conds, got, sizeof got), 0);
    CHECK_STR(got, "true");
    free(conds);
}

static void test_length_bound(void)
{
    char msg[SLUICE_ERROR_MSG_MAX], got[SLUICE_ERROR_MSG_MAX];
    char *text = malloc(4098);
    memset(text, ' ', 4097);
    text[0] = '1';
    text[4096] = '\0'; /* 4096 bytes: accepted */
    CHECK_EQ(eval_text(text, got, sizeof got), 0);
    CHECK_STR(got, "1");
    text[4096] = ' ';
    text[4097] = '\0'; /* 4097 bytes */
    CHECK_EQ(compile_msg(text, msg, sizeof msg), SLUICE_EINVAL);
    CHECK_STR(msg, "offset 4096: expression longer than 4096 bytes");
    free(text);
}

/* ------------------------------------------------------------------ */
/* Scratch buffer                                                      */

static char long_a[1000], long_b[1500], long_c[2000];

static void fill_long_values(cvalue *slots)
{
    memset(long_a, 'x', sizeof long_a);
    memset(long_b, 'Y', sizeof long_b);
    memset(long_c, 'z', sizeof long_c);
    for (size_t k = 0; k < N_FIELDS; k++)
        slots[k] = FIELDS[k].v;
    slots[SLOT_A] = cv_string(long_a, sizeof long_a);
    slots[SLOT_B] = cv_string(long_b, sizeof long_b);
    slots[SLOT_C] = cv_string(long_c, sizeof long_c);
}

static int all_bytes(const char *s, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != c) return 0;
    return 1;
}

/* Each argument's result outgrows the buffer, so earlier results move with
 * every realloc; under ASan a stale pointer is a use after free. */
static void test_scratch_concat_of_functions(void)
{
    cvalue slots[N_FIELDS];
    fill_long_values(slots);
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
    buf scratch;
    buf_init(&scratch, 1 << 20);
    const expr *e;
    sluice_error err;
    CHECK_EQ(expr_compile("concat(upper(a), lower(b), upper(c))", &RESOLVER, &a, &e, &err), 0);
    expr_ctx ctx = {.slots = slots, .now_s = NOW_S, .scratch = &scratch};
    for (int round = 0; round < 3; round++) {
        buf_free(&scratch); /* start small every time: force the reallocs */
        buf_init(&scratch, 1 << 20);
        cvalue v;
        CHECK_EQ(expr_eval(e, &ctx, &v, &err), 0);
        CHECK_EQ(v.kind, CV_STRING);
        CHECK_EQ(v.len, 4500);
        CHECK(all_bytes(v.s, 1000, 'X'));
        CHECK(all_bytes(v.s + 1000, 1500, 'y'));
        CHECK(all_bytes(v.s + 2500, 2000, 'Z'));
        /* Only the result is left in scratch, at its start. */
        CHECK(v.s == (const char *)scratch.data);
        CHECK_EQ(scratch.len, 4500);
    }
    /* The slot values were never written. */
    CHECK(all_bytes(long_a, sizeof long_a, 'x'));
    CHECK(all_bytes(long_b, sizeof long_b, 'Y'));
    buf_free(&scratch);
    arena_free(&a);
}

static void test_scratch_held_operands(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"upper(a) = upper(lower(upper(a)))", "true"},
        {"lower(upper(a)) = a", "true"},
        {"upper(a) in (lower(b), upper(c), upper(lower(a)))", "true"},
        {"upper(a) not in (lower(b), upper(c))", "true"},
        {"upper(a) < lower(b)", "true"},
        {"length(concat(concat(a, b), upper(concat(c, a)), lower(b)))", "7000"},
        {"length(if(upper(a) = upper(a), concat(a, b), c))", "2500"},
        {"length(coalesce(n, concat(upper(b), c)))", "3500"},
        {"concat(upper(a), b) = concat(upper(a), b)", "true"},
        {"length(cast(length(concat(a, b, c)) AS String))", "4"},
    };
    cvalue slots[N_FIELDS];
    fill_long_values(slots);
    int failures = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        arena a;
        arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
        buf scratch;
        buf_init(&scratch, 1 << 20);
        const expr *e;
        sluice_error err;
        char got[SLUICE_ERROR_MSG_MAX] = "compile error";
        if (expr_compile(cases[k].text, &RESOLVER, &a, &e, &err) == 0) {
            expr_ctx ctx = {.slots = slots, .now_s = NOW_S, .scratch = &scratch};
            cvalue v;
            if (expr_eval(e, &ctx, &v, &err) == 0)
                render(&v, got, sizeof got);
            else
                snprintf(got, sizeof got, "%s", err.msg);
            /* Non-string results leave nothing behind. */
            if (scratch.len != 0 && v.kind != CV_STRING) {
                fprintf(stderr, "  %s left %zu bytes in scratch\n", cases[k].text, scratch.len);
                failures++;
            }
        }
        if (strcmp(got, cases[k].want) != 0) {
            fprintf(stderr, "  expr: %s\n  got: %s\n  expected: %s\n", cases[k].text, got,
                    cases[k].want);
            failures++;
        }
        buf_free(&scratch);
        arena_free(&a);
    }
    CHECK_EQ(failures, 0);
}

static void test_scratch_prefilled_and_reused(void)
{
    cvalue slots[N_FIELDS];
    for (size_t k = 0; k < N_FIELDS; k++)
        slots[k] = FIELDS[k].v;
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
    buf scratch;
    buf_init(&scratch, 1 << 20);
    CHECK_EQ(buf_append(&scratch, "0123456789", 10), 0);
    const expr *e, *f;
    sluice_error err;
    CHECK_EQ(expr_compile("concat(upper(s), '-', i)", &RESOLVER, &a, &e, &err), 0);
    CHECK_EQ(expr_compile("upper(s) = 'HELLO' and i + 1 > 0", &RESOLVER, &a, &f, &err), 0);
    expr_ctx ctx = {.slots = slots, .now_s = NOW_S, .scratch = &scratch};
    cvalue v;
    CHECK_EQ(expr_eval(e, &ctx, &v, &err), 0);
    CHECK_EQ(v.len, 8);
    CHECK(memcmp(v.s, "HELLO-42", 8) == 0);
    CHECK(v.s == (const char *)scratch.data + 10); /* after what the caller had */
    CHECK(memcmp(scratch.data, "0123456789", 10) == 0);
    CHECK_EQ(scratch.len, 18);
    /* A filter leaves scratch as it found it. */
    int keep = -1;
    CHECK_EQ(expr_eval_bool(f, &ctx, &keep, &err), 0);
    CHECK_EQ(keep, 1);
    CHECK_EQ(scratch.len, 18);
    /* Many rows with a reset between them: the buffer does not grow. */
    size_t alloc = 0;
    for (int k = 0; k < 1000; k++) {
        buf_reset(&scratch);
        CHECK_EQ(expr_eval(e, &ctx, &v, &err), 0);
        if (k == 0) alloc = scratch.alloc;
    }
    CHECK_EQ(scratch.alloc, alloc);
    buf_free(&scratch);
    arena_free(&a);
}

static void test_scratch_full_or_missing(void)
{
    cvalue slots[N_FIELDS];
    fill_long_values(slots);
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
    buf scratch;
    buf_init(&scratch, 100);
    const expr *e;
    sluice_error err;
    cvalue v;
    expr_ctx ctx = {.slots = slots, .now_s = NOW_S, .scratch = &scratch};
    CHECK_EQ(expr_compile("upper(a)", &RESOLVER, &a, &e, &err), 0);
    CHECK_EQ(expr_eval(e, &ctx, &v, &err), SLUICE_ENOMEM);
    CHECK_STR(err.msg, "offset 0: upper(): the scratch buffer is full (100 bytes)");
    CHECK_EQ(scratch.len, 0);
    CHECK_EQ(expr_compile("concat(s, a)", &RESOLVER, &a, &e, &err), 0);
    CHECK_EQ(expr_eval(e, &ctx, &v, &err), SLUICE_ENOMEM);
    CHECK_STR(err.msg, "offset 0: concat(): the scratch buffer is full (100 bytes)");
    CHECK_EQ(scratch.len, 0);

    /* No scratch buffer: what needs none still works. */
    expr_ctx bare = {.slots = slots, .now_s = NOW_S, .scratch = NULL};
    CHECK_EQ(expr_compile("upper(s)", &RESOLVER, &a, &e, &err), 0);
    CHECK_EQ(expr_eval(e, &bare, &v, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "offset 0: upper() needs a scratch buffer (expr_ctx.scratch)");
    CHECK_EQ(expr_compile("cast(i AS String)", &RESOLVER, &a, &e, &err), 0);
    CHECK_EQ(expr_eval(e, &bare, &v, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "offset 0: cast() needs a scratch buffer (expr_ctx.scratch)");
    CHECK_EQ(expr_compile("cast(s AS String) = 'hello' and i * 2 = 84", &RESOLVER, &a, &e, &err),
             0);
    CHECK_EQ(expr_eval(e, &bare, &v, &err), 0);
    CHECK_EQ(v.kind, CV_BOOL);
    CHECK_EQ(v.i, 1);
    buf_free(&scratch);
    arena_free(&a);
}

/* ------------------------------------------------------------------ */
/* Filters, compile-time resolution, reuse                             */

static void test_eval_bool(void)
{
    cvalue slots[N_FIELDS];
    for (size_t k = 0; k < N_FIELDS; k++)
        slots[k] = FIELDS[k].v;
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
    buf scratch;
    buf_init(&scratch, 1 << 20);
    expr_ctx ctx = {.slots = slots, .now_s = NOW_S, .scratch = &scratch};
    static const struct {
        const char *text;
        int keep;
    } cases[] = {
        {"i > 1", 1},
        {"i < 1", 0},
        {"n = 1", 0}, /* NULL drops the row */
        {"status != 'CANCELLED' and items.qty > 0", 0},
        {"status = 'CANCELLED' and items.qty > 0", 1},
        {"price * qty >= 100.0", 1},
        {"coalesce(n, true)", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const expr *e;
        sluice_error err;
        int keep = -1;
        CHECK_EQ(expr_compile(cases[k].text, &RESOLVER, &a, &e, &err), 0);
        CHECK_EQ(expr_eval_bool(e, &ctx, &keep, &err), 0);
        if (keep != cases[k].keep) fprintf(stderr, "  filter: %s\n", cases[k].text);
        CHECK_EQ(keep, cases[k].keep);
    }
    const expr *e;
    sluice_error err;
    int keep = -1;
    CHECK_EQ(expr_compile("i", &RESOLVER, &a, &e, &err), 0);
    CHECK_EQ(expr_eval_bool(e, &ctx, &keep, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "the expression gives Int64, not true, false or NULL");
    CHECK_EQ(expr_compile("upper(s)", &RESOLVER, &a, &e, &err), 0);
    CHECK_EQ(expr_eval_bool(e, &ctx, &keep, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "the expression gives String, not true, false or NULL");
    CHECK_EQ(expr_compile("1 / zero > 0", &RESOLVER, &a, &e, &err), 0);
    CHECK_EQ(expr_eval_bool(e, &ctx, &keep, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "offset 2: division by zero");
    buf_free(&scratch);
    arena_free(&a);
}

static void test_resolved_once_and_reused(void)
{
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
    buf scratch;
    buf_init(&scratch, 1 << 20);
    const expr *e;
    sluice_error err;
    resolve_calls = 0;
    CHECK_EQ(
        expr_compile("a * 2 + b > 10 and user.id = 1001 and index() >= 0", &RESOLVER, &a, &e, &err),
        0);
    CHECK_EQ(resolve_calls, 4);
    cvalue slots[N_FIELDS];
    for (size_t k = 0; k < N_FIELDS; k++)
        slots[k] = FIELDS[k].v;
    expr_ctx ctx = {.slots = slots, .now_s = NOW_S, .scratch = &scratch};
    int kept = 0;
    for (int64_t x = 0; x < 10; x++) {
        slots[SLOT_A] = cv_int(x, CV_UNIT_NONE);
        slots[SLOT_B] = x % 2 ? cv_null() : cv_double(0.5);
        int keep;
        CHECK_EQ(expr_eval_bool(e, &ctx, &keep, &err), 0);
        kept += keep;
    }
    /* x*2 + 0.5 > 10 for even x >= 6 (6, 8); odd x give NULL. */
    CHECK_EQ(kept, 2);
    CHECK_EQ(resolve_calls, 4); /* evaluation never looks a name up */
    buf_free(&scratch);
    arena_free(&a);
}

static void test_arena_bound(void)
{
    /* A compile that runs out of arena reports it instead of crashing. */
    arena a;
    arena_init(&a, 256, 600);
    const expr *e;
    sluice_error err;
    int rc = expr_compile("concat(s, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k')",
                          &RESOLVER, &a, &e, &err);
    CHECK_EQ(rc, SLUICE_ENOMEM);
    CHECK_CONTAINS(err.msg, "out of memory compiling the expression");
    arena_free(&a);
}

TEST_MAIN(T(test_literals_and_fields), T(test_arithmetic), T(test_overflow), T(test_comparisons),
          T(test_exact_int_float), T(test_logic_truth_tables), T(test_in_lists), T(test_functions),
          T(test_casts), T(test_timestamps), T(test_compile_errors), T(test_index_needs_explode),
          T(test_depth_bound), T(test_length_bound), T(test_scratch_concat_of_functions),
          T(test_scratch_held_operands), T(test_scratch_prefilled_and_reused),
          T(test_scratch_full_or_missing), T(test_eval_bool), T(test_resolved_once_and_reused),
          T(test_arena_bound))
