/*
 * fuzz_plan.c — the codec's plan (Avro → RowBinary with resolution,
 * flattening, Nested arrays, maps, JSON-in-String, explode, filter, derived
 * columns) on arbitrary message bytes. The first byte picks one of a fixed
 * set of plans, compiled once; the rest is the message. Invariants checked:
 * a failed run leaves the output exactly as it was; a successful one
 * appended something only if it reported rows; nothing crashes, leaks or
 * trips a sanitizer. A plan over JSON messages gets the same bytes as text.
 */
#include "codec/ch_type.h"
#include "codec/plan.h"
#include "common/arena.h"

#include <sluice/avro.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC(name, fields) "{\"type\":\"record\",\"name\":\"" name "\",\"fields\":[" fields "]}"
#define F(n, t) "{\"name\":\"" n "\",\"type\":" t "}"

struct case_ {
    const char *writer;
    const char *reader; /* NULL: the writer */
    const char *columns[12][2];
    plan_options opt;
    plan_derived derived[3];
};

/* The schema tables read better as written than as clang-format would
 * break their string macros (and it does not reformat them stably). */
// clang-format off
static const char *ITEM = REC("I", F("sku", "\"string\"") "," F("qty", "\"int\"") "," F("price", "\"double\"") "," F("tags", "{\"type\":\"array\",\"items\":\"string\"}"));

static struct case_ cases[] = {
    {REC("E", F("id", "\"long\"") "," F("name", "[\"null\",\"string\"]") "," F("ts", "{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}") ","
             F("st", "{\"type\":\"enum\",\"name\":\"St\",\"symbols\":[\"A\",\"B\",\"C\"]}") "," F("amt", "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":10,\"scale\":2}") ","
             F("u", "{\"type\":\"string\",\"logicalType\":\"uuid\"}") "," F("d", "{\"type\":\"int\",\"logicalType\":\"date\"}") "," F("f", "\"float\"") "," F("b", "\"boolean\"")),
     NULL,
     {{"id", "UInt16"}, {"name", "Nullable(String)"}, {"ts", "DateTime"}, {"st", "Enum8('A' = 1, 'C' = 3)"}, {"amt", "Decimal(9, 2)"},
      {"u", "UUID"}, {"d", "Date"}, {"f", "Float32"}, {"b", "UInt8"}},
     {.route = "fuzz"}, {{0}}},
    {REC("E", F("user", REC("U", F("id", "\"long\"") "," F("geo", "[\"null\"," REC("G", F("cc", "\"string\"")) "]"))) ","
             F("xs", "{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"int\"}}") ","
             F("m", "{\"type\":\"map\",\"values\":\"long\"}") "," F("ctx", REC("C", F("a", "\"int\"") "," F("l", "{\"type\":\"array\",\"items\":\"string\"}")))),
     NULL,
     {{"user.id", "Int64"}, {"user.geo.cc", "Nullable(String)"}, {"xs", "Array(Array(Int32))"}, {"m.keys", "Array(String)"},
      {"m.values", "Array(Int64)"}, {"ctx", "String"}},
     {.route = "fuzz"}, {{0}}},
    {NULL, NULL, /* filled in below: orders with explode */
     {{"order", "Int64"}, {"items.sku", "String"}, {"items.tags", "Array(String)"}, {"total", "Float64"}, {"n", "UInt32"}, {"up", "String"}},
     {.route = "fuzz", .explode = "items", .filter = "items.qty > 0 and status != 'X'"},
     {{"total", "items.qty * items.price"}, {"n", "index()"}, {"up", "upper(items.sku)"}}},
    {REC("E", F("id", "\"int\"") "," F("gone", "\"string\"") "," F("st", "{\"type\":\"enum\",\"name\":\"St\",\"symbols\":[\"A\",\"OLD\"]}")),
     REC("E", F("id", "\"long\"") "," F("st", "{\"type\":\"enum\",\"name\":\"St\",\"symbols\":[\"A\",\"B\"],\"default\":\"B\"}") "," "{\"name\":\"src\",\"type\":\"string\",\"default\":\"web\"}"),
     {{"id", "Int64"}, {"st", "String"}, {"src", "LowCardinality(String)"}},
     {.route = "fuzz"}, {{0}}},
};
// clang-format on
#define N_CASES (sizeof cases / sizeof cases[0])

static struct compiled {
    plan *p;
    plan_state *st;
} compiled[N_CASES + 1];
static arena types;
static int ready;
/* Kept for the life of the process (plans point at schema nodes). */
static sluice_avro_schema *schemas[2 * N_CASES];
static size_t n_schemas;

static plan *compile_case(struct case_ *c, int json)
{
    plan_column cols[12];
    size_t n = 0;
    for (; n < 12 && c->columns[n][0]; n++) {
        cols[n] = (plan_column){.name = c->columns[n][0], .insertable = 1};
        if (ch_type_parse(c->columns[n][1], &types, &cols[n].type, NULL) != 0) abort();
    }
    c->opt.derived = c->derived;
    c->opt.n_derived = 0;
    while (c->opt.n_derived < 3 && c->derived[c->opt.n_derived].column)
        c->opt.n_derived++;
    plan *p = NULL;
    sluice_error err;
    if (json) {
        if (plan_compile_json(cols, n, &c->opt, &p, &err) != 0) abort();
        return p;
    }
    sluice_avro_schema *w = NULL, *r = NULL;
    if (sluice_avro_schema_parse(c->writer, strlen(c->writer), &w, &err) != 0 ||
        (c->reader && sluice_avro_schema_parse(c->reader, strlen(c->reader), &r, &err) != 0)) {
        fprintf(stderr, "fuzz_plan schema: %s\n", err.msg);
        abort();
    }
    if (plan_compile_avro(sluice_avro_schema_root(w), r ? sluice_avro_schema_root(r) : NULL, cols,
                          n, &c->opt, &p, &err) != 0) {
        fprintf(stderr, "fuzz_plan compile: %s\n", err.msg);
        abort();
    }
    schemas[n_schemas++] = w;
    if (r) schemas[n_schemas++] = r;
    return p;
}

static void setup(void)
{
    static char orders[2048];
    snprintf(
        orders, sizeof orders,
        REC("O",
            F("order", "\"long\"") "," F(
                "status",
                "\"string\"") ","
                              "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":%s}}"),
        ITEM);
    cases[2].writer = orders;
    arena_init(&types, 4096, SIZE_MAX);
    for (size_t i = 0; i < N_CASES; i++) {
        compiled[i].p = compile_case(&cases[i], 0);
        compiled[i].st = plan_state_new(compiled[i].p);
    }
    compiled[N_CASES].p = compile_case(&cases[2], 1); /* the orders route over JSON messages */
    compiled[N_CASES].st = plan_state_new(compiled[N_CASES].p);
    ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) setup();
    if (size < 1) return 0;
    struct compiled *c = &compiled[data[0] % (N_CASES + 1)];
    buf out;
    buf_init(&out, 1 << 20);
    buf_append(&out, "keep", 4); /* what was there before must survive a failure */
    plan_result res;
    sluice_error err;
    int rc = plan_run(c->p, c->st, data + 1, size - 1, 1700000000, &out, &res, &err);
    if (rc != 0 && (out.len != 4 || memcmp(out.data, "keep", 4) != 0)) abort();
    if (rc == 0 && res.rows == 0 && out.len != 4) abort();
    if (rc == 0 && res.rows > 0 && out.len <= 4) abort();
    buf_free(&out);
    return 0;
}
