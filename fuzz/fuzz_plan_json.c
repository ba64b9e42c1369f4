/*
 * fuzz_plan_json.c — the sink's streaming JSON plan (src/codec/plan_json.c)
 * against the tree-based runner kept as the tests' oracle
 * (tests/support/plan_json_tree.c), on arbitrary bytes, over three tables
 * (scalars with flat and nested paths; arrays, maps and a Nested group
 * gathered from an array of objects; explode with a filter, derived
 * columns and a Nested group inside the exploded items). Both must accept the same messages with
 * the same rows, byte for byte, or both refuse; the differences by design (numbers jansson cannot
 * hold, \u0000 in a key, a raw NUL) are recognised in the input and only run. Any disagreement,
 * crash or sanitizer report aborts. Seeds: fuzz/corpus/plan_json/.
 */
#include "codec/ch_type.h"
#include "codec/plan.h"
#include "common/arena.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_json_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_TABLES 3
static arena a;
static plan *plans[N_TABLES];
static plan_state *st_a[N_TABLES], *st_b[N_TABLES];

static const char *tables[N_TABLES][12][2] = {
    {{"id", "Int64"},
     {"name", "String"},
     {"score", "Nullable(Float64)"},
     {"kind", "Enum8('VIEW' = 1, 'CLICK' = 2)"},
     {"day", "Date"},
     {"ts", "DateTime"},
     {"u.name", "String"},
     {"u.age", "UInt8"},
     {"big", "UInt64"},
     {NULL, NULL}},
    {{"tags", "Array(String)"},
     {"m", "Map(String, Int32)"},
     {"lc", "LowCardinality(String)"},
     {"xs", "Array(Array(UInt8))"},
     {"id", "Nullable(String)"},
     {"g.a", "Array(String)"},
     {"g.b", "Array(Nullable(Int32))"},
     {"g.c.d", "Array(UInt8)"},
     {NULL, NULL}},
    {{"id", "Int64"},
     {"it.sku", "String"},
     {"it.qty", "UInt8"},
     {"total", "Float64"},
     {"n", "UInt32"},
     {"it.parts.x", "Array(UInt16)"},
     {NULL, NULL}},
};

static void setup(void)
{
    arena_init(&a, 4096, SIZE_MAX);
    for (int k = 0; k < N_TABLES; k++) {
        plan_column cols[12];
        size_t n = 0;
        for (; tables[k][n][0]; n++) {
            const ch_type *t;
            sluice_error err;
            if (ch_type_parse(tables[k][n][1], &a, &t, &err) != 0) abort();
            cols[n] = (plan_column){.name = tables[k][n][0], .type = t, .insertable = 1};
        }
        static plan_derived d[] = {{"total", "it.qty * 2.5"}, {"n", "index()"}};
        plan_options opt = {.route = "fuzz", .separator = '.'};
        if (k == 2) {
            opt.explode = "it";
            opt.filter = "it.qty > 0";
            opt.derived = d;
            opt.n_derived = 2;
        }
        sluice_error err;
        if (plan_compile_json(cols, n, &opt, &plans[k], &err) != 0) {
            fprintf(stderr, "table %d: %s\n", k, err.msg);
            abort();
        }
        st_a[k] = plan_state_new(plans[k]);
        st_b[k] = plan_state_new(plans[k]);
    }
}

/* Inputs where the two differ by design, told by what jansson says of
 * them: numbers it cannot hold (past int64, past a double's range), a key
 * holding \u0000 (which it refuses), a raw NUL (which it may read as the
 * end after a number). */
static int by_design(const uint8_t *s, size_t n)
{
    if (memchr(s, '\0', n)) return 1;
    json_error_t je;
    json_t *v = json_loadb((const char *)s, n, JSON_REJECT_DUPLICATES, &je);
    if (v) {
        json_decref(v);
        return 0;
    }
    return strstr(je.text, "too big") || strstr(je.text, "overflow") ||
           strstr(je.text, "NUL byte in object key");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!plans[0]) setup();
    int compare = !by_design(data, size);
    for (int k = 0; k < N_TABLES; k++) {
        buf oa, ob;
        buf_init(&oa, 1 << 22);
        buf_init(&ob, 1 << 22);
        plan_result ra, rb;
        sluice_error ea = {0}, eb = {0};
        int ca = plan_run(plans[k], st_a[k], data, size, 0, &oa, &ra, &ea);
        int cb = plan_run_tree(plans[k], st_b[k], data, size, 0, &ob, &rb, &eb);
        if (ca != 0 && (oa.len != 0 || ea.msg[0] == '\0')) abort(); /* nothing kept, a reason */
        if (compare && ((ca == 0) != (cb == 0))) {
            fprintf(stderr, "table %d: streaming rc %d (%s), tree rc %d (%s)\n", k, ca, ea.msg, cb,
                    eb.msg);
            abort();
        }
        if (compare && ca == 0 &&
            (ra.rows != rb.rows || oa.len != ob.len ||
             (oa.len && memcmp(oa.data, ob.data, oa.len) != 0))) {
            fprintf(stderr, "table %d: rows %zu/%zu, bytes %zu/%zu differ\n", k, ra.rows, rb.rows,
                    oa.len, ob.len);
            abort();
        }
        buf_free(&oa);
        buf_free(&ob);
    }
    return 0;
}
