/*
 * test_plan_json.c — the sink's JSON plan (src/codec/plan_json.c), which
 * encodes JSON messages into RowBinary straight from the text.
 *
 *  - Against the tree-based runner it replaced (tests/support/
 *    plan_json_tree.c, the oracle): 12 000 generated messages over four
 *    tables (every column kind the JSON plan writes, paths spelled flat and
 *    nested, explode with filter and derived columns), valid and mutated,
 *    must give the same rows byte for byte, or both fail.
 *  - Against the Avro plan: the same events as JSON and as Avro (encoded
 *    from that JSON by ingest's encoder) into one table give identical
 *    RowBinary.
 *  - The differences by design, with their expected results: an integer
 *    past int64 into UInt64, two spellings of one path (the better-ranked
 *    wins whatever the order), a bad value under a spelling that loses.
 */
#include "codec/ch_type.h"
#include "codec/json_avro.h"
#include "codec/plan.h"
#include "common/arena.h"

#include <sluice/avro.h>

#include <jansson.h>

#include "plan_json_tree.h"
#include "test.h"

typedef struct table {
    arena a;
    plan_column cols[32];
    size_t n;
} table;

static int col(table *t, const char *name, const char *type)
{
    const ch_type *ct;
    sluice_error err;
    if (ch_type_parse(type, &t->a, &ct, &err) != 0) {
        fprintf(stderr, "type %s: %s\n", type, err.msg);
        return -1;
    }
    t->cols[t->n++] = (plan_column){.name = name, .type = ct, .insertable = 1};
    return 0;
}

static uint64_t seed = 0x9E3779B97F4A7C15ULL;
static unsigned R(unsigned n)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return n ? (unsigned)(seed % n) : 0;
}

static void gen_scalar(buf *b, int mutate)
{
    static const char *v[] = {"1",
                              "-7",
                              "0",
                              "255",
                              "70000",
                              "3.25",
                              "-0.5",
                              "1e3",
                              "\"text\"",
                              "\"42\"",
                              "\"2024-02-29\"",
                              "\"2026-11-22 20:12:01\"",
                              "true",
                              "false",
                              "null",
                              "\"VIEW\"",
                              "\"CLICK\"",
                              "\"\"",
                              "\"a\\u00e9\\n\"",
                              "9223372036854775807"};
    static const char *bad[] = {"[1,2]", "{\"x\":1}", "\"NOPE\"", "-1", "1e30", "\"2024-13-01\""};
    if (mutate && R(4) == 0)
        buf_append_str(b, bad[R(sizeof bad / sizeof bad[0])]);
    else
        buf_append_str(b, v[R(sizeof v / sizeof v[0])]);
}

/* A message for the tables below: their paths, flat or nested, in any
 * order, with extra keys, sometimes missing, sometimes wrong. */
static void gen_message(buf *b, int mutate)
{
    const char *keys[] = {"id", "name", "score", "kind", "day", "ts", "flag", "n8"};
    int order[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int i = 7; i > 0; i--) {
        int j = (int)R((unsigned)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    /* good values per key; a mutated message also gets random ones */
    static const char *good[8][3] = {{"1", "-70000", "9223372036854775807"},
                                     {"\"text\"", "\"a\\u00e9\"", "\"\""},
                                     {"3.25", "null", "-1"},
                                     {"\"VIEW\"", "\"CLICK\"", "2"},
                                     {"\"2024-02-29\"", "19000", "\"1970-01-01\""},
                                     {"1700000000", "\"2026-11-22 20:12:01\"", "0"},
                                     {"true", "0", "1"},
                                     {"null", "-128", "127"}};
    buf_append_byte(b, '{');
    int first = 1;
    for (int k = 0; k < 8; k++) {
        if (R(6) == 0) continue;
        buf_printf(b, "%s\"%s\":", first ? "" : ",", keys[order[k]]);
        first = 0;
        if (mutate && R(3) == 0)
            gen_scalar(b, mutate);
        else
            buf_append_str(b, good[order[k]][R(3)]);
    }
    /* nested paths: user.name / user.age, either spelling */
    if (R(3)) {
        if (R(2))
            buf_printf(b, "%s\"user\":{\"name\":\"u%u\",\"age\":%u}", first ? "" : ",", R(100),
                       R(90));
        else
            buf_printf(b, "%s\"user.name\":\"u%u\",\"user.age\":%u", first ? "" : ",", R(100),
                       R(90));
        first = 0;
    }
    /* arrays: tags (Array(String)), nums (Array(Int32)), items for explode */
    if (R(3)) {
        buf_printf(b, "%s\"tags\":[", first ? "" : ",");
        first = 0;
        unsigned n = R(4);
        for (unsigned i = 0; i < n; i++)
            buf_printf(b, "%s\"t%u\"", i ? "," : "", R(9));
        buf_append_byte(b, ']');
    }
    if (R(2)) {
        buf_printf(b, "%s\"items\":[", first ? "" : ",");
        first = 0;
        unsigned n = R(4);
        for (unsigned i = 0; i < n; i++) {
            /* Nested-style items: sometimes null, a key missing or null, a
             * nested object, or (mutated) an item that is not an object */
            if (i) buf_append_byte(b, ',');
            if (R(12) == 0) {
                buf_append_str(b, mutate && R(2) ? "7" : "null");
                continue;
            }
            unsigned sku = R(8);
            if (sku == 0)
                buf_append_str(b, "{\"qty\":");
            else if (sku == 1)
                buf_append_str(b, "{\"sku\":null,\"qty\":");
            else
                buf_printf(b, "{\"sku\":\"s%u\",\"qty\":", R(50));
            if (mutate && R(5) == 0)
                buf_append_str(b, "\"many\"");
            else
                buf_printf(b, "%u", R(5));
            buf_printf(b, ",\"price\":%u.%u", R(100), R(10));
            unsigned meta = R(4);
            if (meta == 0) buf_printf(b, ",\"meta\":{\"color\":\"c%u\"}", R(5));
            if (meta == 1) buf_printf(b, ",\"meta.color\":\"d%u\"", R(5));
            if (meta == 2) buf_append_str(b, ",\"meta\":null");
            buf_append_byte(b, '}');
        }
        buf_append_byte(b, ']');
    }
    if (R(4) == 0) {
        buf_printf(b, "%s\"extra\":{\"deep\":[1,{\"x\":null}]}", first ? "" : ",");
        first = 0;
    }
    if (R(3) == 0) buf_printf(b, "%s\"attrs\":{\"a\":\"1\",\"b\":\"2\"}", first ? "" : ",");
    buf_append_byte(b, '}');
    if (mutate && R(20) == 0) b->len -= 1; /* cut short: not JSON */
    if (mutate && R(30) == 0) buf_append_str(b, " x");
}

/* Run both runners on one message; 1 if they disagree (printed). */
static int compare(const plan *p, plan_state *a, plan_state *b, const char *msg, size_t len,
                   const char *what)
{
    buf oa, ob;
    buf_init(&oa, 1 << 20);
    buf_init(&ob, 1 << 20);
    plan_result ra, rb;
    sluice_error ea = {0}, eb = {0};
    int ca = plan_run(p, a, (const uint8_t *)msg, len, 1800000000, &oa, &ra, &ea);
    int cb = plan_run_tree(p, b, (const uint8_t *)msg, len, 1800000000, &ob, &rb, &eb);
    int bad = 0;
    if ((ca == 0) != (cb == 0)) {
        fprintf(stderr, "%s: streaming rc %d (%s), tree rc %d (%s)\n  %.*s\n", what, ca, ea.msg, cb,
                eb.msg, (int)(len > 400 ? 400 : len), msg);
        bad = 1;
    } else if (ca == 0 && (ra.rows != rb.rows || ra.filtered != rb.filtered || oa.len != ob.len ||
                           (oa.len && memcmp(oa.data, ob.data, oa.len) != 0))) {
        fprintf(stderr, "%s: rows %zu/%zu, %zu/%zu bytes differ\n  %.*s\n", what, ra.rows, rb.rows,
                oa.len, ob.len, (int)(len > 400 ? 400 : len), msg);
        bad = 1;
    }
    buf_free(&oa);
    buf_free(&ob);
    return bad;
}

static void test_streaming_agrees_with_tree(void)
{
    table t[4] = {0};
    plan_options opt[4] = {{.route = "t0", .separator = '.'},
                           {.route = "t1", .separator = '.'},
                           {.route = "t2", .separator = '.'},
                           {.route = "t3", .separator = '.'}};
    for (int i = 0; i < 4; i++)
        arena_init(&t[i].a, 4096, SIZE_MAX);
    /* 0: scalars of every kind, with nulls and defaults */
    CHECK(!col(&t[0], "id", "Int64") && !col(&t[0], "name", "String") &&
          !col(&t[0], "score", "Nullable(Float64)") &&
          !col(&t[0], "kind", "Enum8('VIEW' = 1, 'CLICK' = 2)") && !col(&t[0], "day", "Date") &&
          !col(&t[0], "ts", "DateTime") && !col(&t[0], "flag", "UInt8") &&
          !col(&t[0], "n8", "Nullable(Int8)") && !col(&t[0], "user.name", "String") &&
          !col(&t[0], "user.age", "UInt16"));
    /* 1: arrays, maps and LowCardinality; a Nested group (items.*) filled
     * from an array of objects */
    CHECK(!col(&t[1], "tags", "Array(String)") && !col(&t[1], "attrs", "Map(String, String)") &&
          !col(&t[1], "name", "LowCardinality(String)") &&
          !col(&t[1], "items.sku", "Array(String)") && !col(&t[1], "id", "Nullable(String)") &&
          !col(&t[1], "items.qty", "Array(UInt8)") &&
          !col(&t[1], "items.meta.color", "Array(Nullable(String))"));
    /* 2: explode with a filter and derived columns */
    CHECK(!col(&t[2], "id", "Int64") && !col(&t[2], "items.sku", "String") &&
          !col(&t[2], "items.qty", "UInt8") && !col(&t[2], "total", "Float64") &&
          !col(&t[2], "n", "UInt32") && !col(&t[2], "who", "String"));
    opt[2].explode = "items";
    opt[2].filter = "items.qty > 0";
    plan_derived d2[] = {{"total", "items.qty * items.price"},
                         {"n", "index()"},
                         {"who", "concat(upper(user.name), '-', name)"}};
    opt[2].derived = d2;
    opt[2].n_derived = 3;
    /* 3: expressions over top-level fields only */
    CHECK(!col(&t[3], "id", "Nullable(Int64)") && !col(&t[3], "late", "UInt8") &&
          !col(&t[3], "up", "String"));
    plan_derived d3[] = {{"late", "score > 1.5"}, {"up", "upper(name)"}};
    opt[3].derived = d3;
    opt[3].n_derived = 2;
    opt[3].filter = "kind != 'CLICK'";
    int disagreed = 0, total = 0, ok_rows = 0, errors = 0;
    for (int k = 0; k < 4; k++) {
        plan *p = NULL;
        sluice_error err;
        CHECK_EQ(plan_compile_json(t[k].cols, t[k].n, &opt[k], &p, &err), 0);
        plan_state *a = plan_state_new(p), *b = plan_state_new(p);
        CHECK(a && b);
        for (int i = 0; i < 3000; i++) {
            buf m;
            buf_init(&m, SIZE_MAX);
            gen_message(&m, i >= 1000);
            char what[32];
            snprintf(what, sizeof what, "table %d, message %d", k, i);
            if (compare(p, a, b, (const char *)m.data, m.len, what) && disagreed++ > 5) {
                buf_free(&m);
                break;
            }
            buf out;
            buf_init(&out, 1 << 20);
            plan_result r;
            if (plan_run(p, a, m.data, m.len, 0, &out, &r, &err) == 0)
                ok_rows += (int)r.rows;
            else
                errors++;
            buf_free(&out);
            buf_free(&m);
            total++;
        }
        plan_state_free(a);
        plan_state_free(b);
        plan_free(p);
    }
    fprintf(stderr, "  %d messages compared: %d rows, %d messages refused, %d disagreed\n", total,
            ok_rows, errors, disagreed);
    CHECK_EQ(disagreed, 0);
    CHECK(total - errors > total / 2); /* most are good ... */
    CHECK(errors > total / 20);        /* ... and many are not */
    CHECK(ok_rows > total / 3);
    for (int i = 0; i < 4; i++)
        arena_free(&t[i].a);
}

/* The same events as JSON and as Avro into one table: identical rows. */
static void test_json_and_avro_plans_agree(void)
{
    const char *schema_text =
        "{\"type\":\"record\",\"name\":\"E\",\"fields\":["
        "{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"name\",\"type\":\"string\"},"
        "{\"name\":\"score\",\"type\":[\"null\",\"double\"],\"default\":null},"
        "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"K\",\"symbols\":[\"VIEW\","
        "\"CLICK\"]}},{\"name\":\"ts\",\"type\":\"long\"},{\"name\":\"flag\",\"type\":\"boolean\"},"
        "{\"name\":\"user\",\"type\":{\"type\":\"record\",\"name\":\"U\",\"fields\":["
        "{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"age\",\"type\":\"int\"}]}},"
        "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
        "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","
        "\"name\":\"I\",\"fields\":[{\"name\":\"sku\",\"type\":\"string\"},"
        "{\"name\":\"qty\",\"type\":\"int\"}]}}}]}";
    sluice_avro_schema *s = NULL;
    sluice_error err;
    CHECK_EQ(sluice_avro_schema_parse(schema_text, strlen(schema_text), &s, &err), 0);
    json_avro *enc = NULL;
    CHECK_EQ(json_avro_compile(sluice_avro_schema_root(s), &enc, &err), 0);
    table t = {0};
    arena_init(&t.a, 4096, SIZE_MAX);
    CHECK(!col(&t, "id", "Int64") && !col(&t, "name", "String") &&
          !col(&t, "score", "Nullable(Float64)") &&
          !col(&t, "kind", "Enum8('VIEW' = 1, 'CLICK' = 2)") && !col(&t, "ts", "DateTime") &&
          !col(&t, "flag", "UInt8") && !col(&t, "user.name", "String") &&
          !col(&t, "user.age", "UInt8") && !col(&t, "tags", "Array(String)") &&
          !col(&t, "items.sku", "Array(String)") && !col(&t, "items.qty", "Array(UInt32)"));
    plan_options opt = {.route = "r", .separator = '.'};
    plan *pj = NULL, *pa = NULL;
    CHECK_EQ(plan_compile_json(t.cols, t.n, &opt, &pj, &err), 0);
    CHECK_EQ(plan_compile_avro(sluice_avro_schema_root(s), NULL, t.cols, t.n, &opt, &pa, &err), 0);
    plan_state *sj = plan_state_new(pj), *sa = plan_state_new(pa);
    buf rj, ra, avro, text;
    buf_init(&rj, 1 << 24);
    buf_init(&ra, 1 << 24);
    buf_init(&avro, 1 << 20);
    buf_init(&text, 1 << 20);
    int events = 0;
    for (int i = 0; i < 2000; i++) {
        buf_reset(&text);
        buf_printf(&text,
                   "{\"id\":%d,\"name\":\"n%u\\u00e9\",\"score\":%s,\"kind\":\"%s\",\"ts\":%u,"
                   "\"flag\":%s,\"user\":{\"name\":\"u%u\",\"age\":%u},\"tags\":[",
                   (int)R(2000000) - 1000000, R(1000), R(3) ? "null" : "2.75",
                   R(2) ? "VIEW" : "CLICK", 1700000000 + R(100000000), R(2) ? "true" : "false",
                   R(50), R(120));
        unsigned n = R(4);
        for (unsigned k = 0; k < n; k++)
            buf_printf(&text, "%s\"t%u\"", k ? "," : "", R(9));
        buf_append_str(&text, "],\"items\":[");
        n = R(4);
        for (unsigned k = 0; k < n; k++)
            buf_printf(&text, "%s{\"sku\":\"s%u\",\"qty\":%u}", k ? "," : "", R(50), R(1000));
        buf_append_str(&text, "]}");
        json_lex lx;
        json_lex_init(&lx, (const char *)text.data, text.len);
        buf_reset(&avro);
        CHECK_EQ(json_avro_encode(enc, &lx, &avro, NULL), 0);
        json_lex_free(&lx);
        plan_result r1, r2;
        CHECK_EQ(plan_run(pj, sj, text.data, text.len, 0, &rj, &r1, &err), 0);
        CHECK_EQ(plan_run(pa, sa, avro.data, avro.len, 0, &ra, &r2, &err), 0);
        CHECK_EQ(r1.rows, 1);
        CHECK_EQ(r2.rows, 1);
        events++;
    }
    CHECK_EQ(rj.len, ra.len);
    CHECK(memcmp(rj.data, ra.data, rj.len) == 0);
    fprintf(stderr, "  %d events, %zu bytes of RowBinary, identical from JSON and from Avro\n",
            events, rj.len);
    buf_free(&rj);
    buf_free(&ra);
    buf_free(&avro);
    buf_free(&text);
    plan_state_free(sj);
    plan_state_free(sa);
    plan_free(pj);
    plan_free(pa);
    json_avro_free(enc);
    sluice_avro_schema_free(s);
    arena_free(&t.a);
}

static const char *run1(const plan *p, plan_state *st, const char *msg, buf *out)
{
    static char res[1024];
    plan_result r;
    sluice_error err = {0};
    buf_reset(out);
    if (plan_run(p, st, (const uint8_t *)msg, strlen(msg), 0, out, &r, &err) != 0) {
        snprintf(res, sizeof res, "ERROR %s", err.msg);
        return res;
    }
    size_t n = 0;
    for (size_t i = 0; i < out->len && n + 4 < sizeof res; i++)
        n += (size_t)snprintf(res + n, sizeof res - n, "%s%02x", i ? " " : "", out->data[i]);
    res[n] = '\0';
    return res;
}

static void test_by_design(void)
{
    table t = {0};
    arena_init(&t.a, 4096, SIZE_MAX);
    CHECK(!col(&t, "big", "UInt64") && !col(&t, "a.b", "UInt8"));
    plan_options opt = {.route = "r", .separator = '.'};
    plan *p = NULL;
    sluice_error err;
    CHECK_EQ(plan_compile_json(t.cols, t.n, &opt, &p, &err), 0);
    plan_state *st = plan_state_new(p);
    buf out;
    buf_init(&out, 1 << 20);
    /* An integer past int64 goes into UInt64 whole (the tree refused it). */
    CHECK_STR(run1(p, st, "{\"big\":18446744073709551615,\"a.b\":1}", &out),
              "ff ff ff ff ff ff ff ff 01");
    /* Two spellings: the literal key wins over the nested one, either order. */
    CHECK_STR(run1(p, st, "{\"big\":0,\"a\":{\"b\":2},\"a.b\":3}", &out),
              "00 00 00 00 00 00 00 00 03");
    CHECK_STR(run1(p, st, "{\"big\":0,\"a.b\":3,\"a\":{\"b\":2}}", &out),
              "00 00 00 00 00 00 00 00 03");
    /* A bad value under the spelling that loses does not fail the row... */
    CHECK_STR(run1(p, st, "{\"big\":0,\"a\":{\"b\":999},\"a.b\":4}", &out),
              "00 00 00 00 00 00 00 00 04");
    /* ... under the one that wins it does. */
    CHECK_STR(run1(p, st, "{\"big\":0,\"a.b\":999,\"a\":{\"b\":4}}", &out),
              "ERROR $.a.b: column a.b: 999 does not fit in UInt8");
    CHECK_STR(run1(p, st, "{\"big\":1,\"big\":2}", &out),
              "ERROR not JSON: duplicate key \"big\" in an object at line 1 column 10 (offset 9)");
    /* Duplicates among the plan's keys (one stamp per entry), among keys
     * it does not know (the reader's check), spelled with an escape, past
     * the reader's small set of 8, and one level down; the same key in
     * two different objects is not one. */
    CHECK_STR(run1(p, st, "{\"big\":1,\"b\\u0069g\":2}", &out),
              "ERROR not JSON: duplicate key \"big\" in an object at line 1 column 10 (offset 9)");
    CHECK_STR(run1(p, st, "{\"big\":1,\"x\":1,\"x\":2}", &out),
              "ERROR not JSON: duplicate key \"x\" in an object at line 1 column 16 (offset 15)");
    CHECK_STR(run1(p, st,
                   "{\"k1\":1,\"k2\":1,\"k3\":1,\"k4\":1,\"k5\":1,\"k6\":1,\"k7\":1,\"k8\":1,"
                   "\"k9\":1,\"big\":1,\"k3\":1}",
                   &out),
              "ERROR not JSON: duplicate key \"k3\" in an object at line 1 column 73 (offset 72)");
    CHECK_STR(run1(p, st, "{\"big\":1,\"a\":{\"b\":1,\"b\":2}}", &out),
              "ERROR not JSON: duplicate key \"b\" in an object at line 1 column 21 (offset 20)");
    CHECK_STR(run1(p, st, "{\"big\":5,\"a\":{\"b\":1,\"big\":2},\"z\":{\"b\":3,\"a\":1}}", &out),
              "05 00 00 00 00 00 00 00 01");
    /* an object of the plan's keys again in the next message is no repeat */
    CHECK_STR(run1(p, st, "{\"big\":6,\"a\":{\"b\":2}}", &out), "06 00 00 00 00 00 00 00 02");
    CHECK_STR(run1(p, st, "[1]", &out), "ERROR a JSON message must be an object");
    buf_free(&out);
    plan_state_free(st);
    plan_free(p);
    arena_free(&t.a);
}

/* A Nested group from a JSON array of objects: one element per item in
 * every column of the group, the element type's default where an item
 * lacks the key or is null; an item that is not an object, or a value
 * that does not fit, fails the row; the literal key still wins. */
static void test_nested_from_array_of_objects(void)
{
    table t = {0};
    arena_init(&t.a, 4096, SIZE_MAX);
    CHECK(!col(&t, "id", "UInt8") && !col(&t, "items.sku", "Array(String)") &&
          !col(&t, "items.qty", "Array(UInt8)") &&
          !col(&t, "items.note", "Array(Nullable(String))") && !col(&t, "one", "String"));
    plan_options opt = {.route = "r", .separator = '.'};
    plan *p = NULL;
    sluice_error err;
    CHECK_EQ(plan_compile_json(t.cols, t.n, &opt, &p, &err), 0);
    plan_state *st = plan_state_new(p);
    buf out;
    buf_init(&out, 1 << 20);
    /* id 1; sku ["a", "", ""]; qty [2, 3, 0]; note [NULL, "n", NULL]; one "" */
    CHECK_STR(
        run1(p, st,
             "{\"id\":1,\"items\":[{\"sku\":\"a\",\"qty\":2},{\"qty\":3,\"note\":\"n\"},null]}",
             &out),
        "01 03 01 61 00 00 03 02 03 00 03 01 00 01 6e 01 00");
    /* an empty array, and none at all: empty arrays either way */
    CHECK_STR(run1(p, st, "{\"id\":2,\"items\":[]}", &out), "02 00 00 00 00");
    CHECK_STR(run1(p, st, "{\"id\":2}", &out), "02 00 00 00 00");
    /* the items' keys spelled nested, and keys the plan does not know */
    CHECK_STR(run1(p, st, "{\"items\":[{\"x\":[1,{\"y\":2}],\"sku\":\"b\"}],\"id\":3}", &out),
              "03 01 01 62 01 00 01 01 00");
    /* the literal key is the better spelling */
    CHECK_STR(
        run1(p, st, "{\"id\":4,\"items\":[{\"sku\":\"a\"}],\"items.sku\":[\"z\",\"y\"]}", &out),
        "04 02 01 7a 01 79 01 00 01 01 00");
    /* a column that is not an Array takes nothing from inside the items */
    CHECK_STR(run1(p, st, "{\"id\":5,\"items\":[{\"sku\":\"a\",\"one\":\"x\"}]}", &out),
              "05 01 01 61 01 00 01 01 00");
    CHECK_STR(run1(p, st, "{\"id\":6,\"items\":[{\"sku\":\"a\"},7]}", &out),
              "ERROR $.items.sku: column items.sku: item 1 of the array is not an object");
    CHECK_STR(run1(p, st, "{\"id\":7,\"items\":[{\"qty\":300}]}", &out),
              "ERROR $.items.qty: column items.qty: 300 does not fit in UInt8");
    /* the state is clean for the next message */
    CHECK_STR(run1(p, st, "{\"id\":8,\"items\":[{\"sku\":\"c\",\"qty\":1}]}", &out),
              "08 01 01 63 01 01 01 01 00");
    buf_free(&out);
    plan_state_free(st);
    plan_free(p);
    arena_free(&t.a);
}

TEST_MAIN(T(test_streaming_agrees_with_tree), T(test_json_and_avro_plans_agree), T(test_by_design),
          T(test_nested_from_array_of_objects))
