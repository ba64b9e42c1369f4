/*
 * fuzz_proto_wire.c — the Protobuf side of the sink's decode on arbitrary
 * bytes: the message-index reader (sluice_wire_read_protobuf in both
 * encodings, proto_frame_resolve in all three modes) and the Protobuf plan
 * (plan_proto_run.c) over a schema that has every shape the plan maps —
 * scalars of every type, enums, proto2-style presence, nested and
 * recursive messages, repeated messages into Nested columns, packed and
 * unpacked repeated fields, maps, oneofs, Timestamp and wrappers.
 *
 * The first byte picks the index mode; the rest is a frame's body (after
 * the 5-byte header the target writes itself). Each input is also run
 * straight through the root message's plan as Protobuf bytes, so the
 * decoder sees the bytes whether or not they frame well. Invariants: the
 * reader's path has 1..64 indexes and its payload lies inside the frame;
 * a failed run leaves the output as it was; a successful one wrote one
 * row; two tables with the same columns in opposite orders (straight
 * writes into the batch in one, scratch columns in the other) agree on
 * success or failure; nothing crashes, leaks or trips a sanitizer.
 */
#include "codec/ch_type.h"
#include "codec/plan.h"
#include "codec/proto_schema.h"
#include "codec/proto_wire.h"
#include "common/arena.h"

#include <sluice/wire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *SCHEMA =
    "syntax = \"proto3\";\n"
    "package fz;\n"
    "import \"google/protobuf/timestamp.proto\";\n"
    "import \"google/protobuf/wrappers.proto\";\n"
    "enum Kind { K0 = 0; K1 = 1; K300 = 300; }\n"
    "message Event {\n"
    "  message Item { string sku = 1; int32 qty = 2; repeated string tags = 3; "
    "optional double price = 4; Kind kind = 5; }\n"
    "  int64 id = 1; sint32 s = 2; uint64 u = 3; fixed32 f32 = 4; sfixed64 sf = 5;\n"
    "  float fl = 6; double db = 7; bool b = 8; string name = 9; bytes raw = 10;\n"
    "  Kind kind = 11; optional int32 opt = 12;\n"
    "  Event child = 13; repeated Item items = 14; repeated int32 xs = 15;\n"
    "  repeated fixed64 fs = 16; map<string, int64> m = 17;\n"
    "  oneof pick { string text = 18; int32 num = 19; Item item = 20; }\n"
    "  google.protobuf.Timestamp at = 21; google.protobuf.Int64Value w = 22;\n"
    "  google.protobuf.StringValue ws = 23; repeated google.protobuf.Timestamp ats = 24;\n"
    "  uint32 u32 = 536870911;\n"
    "}\n"
    "message Other { int32 o = 1; message Deep { Kind k = 1; } }\n";

static const char *COLUMNS[][2] = {
    {"id", "Int64"},
    {"s", "Int32"},
    {"u", "UInt64"},
    {"f32", "UInt32"},
    {"sf", "String"},
    {"fl", "Float32"},
    {"db", "Decimal(12, 3)"},
    {"b", "UInt8"},
    {"name", "Nullable(String)"},
    {"raw", "FixedString(4)"},
    {"kind", "Enum16('K0' = 1, 'K300' = 2)"},
    {"opt", "Nullable(Int32)"},
    {"child.id", "Nullable(Int64)"},
    {"child.child.name", "String"},
    {"items.sku", "Array(String)"},
    {"items.qty", "Array(UInt8)"},
    {"items.tags", "Array(Array(String))"},
    {"items.price", "Array(Nullable(Float64))"},
    {"items.kind", "Array(String)"},
    {"xs", "Array(Int16)"},
    {"fs", "Array(UInt64)"},
    {"m.keys", "Array(String)"},
    {"m.values", "Array(Int64)"},
    {"pick", "String"},
    {"text", "Nullable(String)"},
    {"num", "Int32"},
    {"item.sku", "Nullable(String)"},
    {"at", "DateTime"},
    {"w", "Nullable(Int64)"},
    {"ws", "String"},
    {"ats", "Array(DateTime64(3))"},
    {"u32", "UInt32"},
    {"k", "Enum8('K0' = 0, 'K1' = 1)"},
    {"o", "Int64"},
};
#define N_COLUMNS (sizeof COLUMNS / sizeof COLUMNS[0])

static proto_schema *schema;
static arena types;
static struct compiled {
    const proto_message *m;
    plan *p[2]; /* table order, reversed order */
    plan_state *st[2];
} plans[8];
static size_t n_plans;
static int ready;

static void compile_for(const proto_message *m)
{
    plan_column cols[2][N_COLUMNS];
    for (size_t i = 0; i < N_COLUMNS; i++) {
        const ch_type *t;
        sluice_error err;
        if (ch_type_parse(COLUMNS[i][1], &types, &t, &err) != 0) abort();
        cols[0][i] = (plan_column){.name = COLUMNS[i][0], .type = t, .insertable = 1};
        cols[1][N_COLUMNS - 1 - i] = cols[0][i];
    }
    plan_derived derived[] = {{"o", "coalesce(opt, 0) + 1"}};
    plan_options opt = {.route = "fuzz", .separator = '.'};
    if (strcmp(m->full_name, "fz.Event") == 0) {
        opt.filter = "b or id > 5";
        opt.derived = derived;
        opt.n_derived = 1;
    }
    struct compiled *c = &plans[n_plans];
    for (int k = 0; k < 2; k++) {
        sluice_error err;
        if (plan_compile_proto(m, cols[k], N_COLUMNS, &opt, &c->p[k], &err) != 0) {
            fprintf(stderr, "fuzz_proto_wire: %s: %s\n", m->full_name, err.msg);
            abort();
        }
        c->st[k] = plan_state_new(c->p[k]);
        if (!c->st[k]) abort();
    }
    c->m = m;
    n_plans++;
}

static void setup(void)
{
    sluice_error err;
    if (proto_schema_parse(SCHEMA, strlen(SCHEMA), "fz.proto", NULL, 0, &schema, &err) != 0) {
        fprintf(stderr, "fuzz_proto_wire: %s\n", err.msg);
        abort();
    }
    arena_init(&types, 4096, SIZE_MAX);
    compile_for(proto_schema_find_message(schema, "fz.Event"));
    compile_for(proto_schema_find_message(schema, "fz.Event.Item"));
    compile_for(proto_schema_find_message(schema, "fz.Other"));
    compile_for(proto_schema_find_message(schema, "fz.Other.Deep"));
    ready = 1;
}

static void run_plans(struct compiled *c, const uint8_t *msg, size_t len)
{
    int rc[2];
    for (int k = 0; k < 2; k++) {
        buf out;
        buf_init(&out, 1 << 22);
        buf_append(&out, "x", 1);
        plan_result res;
        sluice_error err;
        rc[k] = plan_run(c->p[k], c->st[k], msg, len, 1700000000, &out, &res, &err);
        if (rc[k] != 0 && out.len != 1) abort();
        if (rc[k] == 0 && res.rows + res.filtered != 1) abort();
        if (rc[k] == 0 && (out.len > 1) != (res.rows == 1)) abort();
        if (rc[k] != 0 && strncmp(err.msg, "offset ", 7) != 0 &&
            strstr(err.msg, "transform.") == NULL)
            abort(); /* decode errors name their offset */
        buf_free(&out);
    }
    if ((rc[0] == 0) != (rc[1] == 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) setup();
    if (size < 1 || size > 65536) return 0;
    int mode = data[0] % 3;
    uint8_t *frame = malloc(size + 4);
    if (!frame) return 0;
    frame[0] = 0, frame[1] = 0, frame[2] = 0, frame[3] = 0, frame[4] = 7;
    memcpy(frame + 5, data + 1, size - 1);
    size_t len = size + 4;

    for (int enc = 0; enc < 2; enc++) {
        int32_t id, idx[SLUICE_WIRE_MAX_INDEXES];
        size_t n = 0, plen = 0;
        const uint8_t *payload = NULL;
        sluice_error err;
        if (sluice_wire_read_protobuf(frame, len, (sluice_wire_index_encoding)enc, &id, idx, &n,
                                      &payload, &plen, &err) == 0) {
            if (id != 7 || n < 1 || n > SLUICE_WIRE_MAX_INDEXES || payload < frame + 6 ||
                payload + plen != frame + len)
                abort();
            /* Writing the path back and reading it again gives the path. */
            uint8_t arr[SLUICE_WIRE_MAX_INDEXES * 5 + 5];
            size_t w =
                sluice_wire_write_message_indexes(arr, idx, n, (sluice_wire_index_encoding)enc);
            uint8_t again[sizeof arr + 5] = {0, 0, 0, 0, 7};
            memcpy(again + 5, arr, w);
            int32_t idx2[SLUICE_WIRE_MAX_INDEXES];
            size_t n2 = 0;
            if (sluice_wire_read_protobuf(again, 5 + w, (sluice_wire_index_encoding)enc, &id, idx2,
                                          &n2, NULL, NULL, &err) != 0 ||
                n2 != n || memcmp(idx, idx2, n * sizeof *idx) != 0)
                abort();
        } else if (strncmp(err.msg, "offset ", 7) != 0) {
            abort();
        }
    }

    int32_t path[SLUICE_WIRE_MAX_INDEXES];
    size_t n_path = 0, at = 0;
    const proto_message *m = NULL;
    sluice_error err;
    if (proto_frame_resolve(proto_schema_root(schema), frame, len, (proto_index_mode)mode, path,
                            &n_path, &m, &at, &err) == 0) {
        if (!m || at <= 5 || at > len) abort();
        for (size_t i = 0; i < n_plans; i++)
            if (plans[i].m == m) run_plans(&plans[i], frame + at, len - at);
    }
    run_plans(&plans[0], data + 1, size - 1);
    free(frame);
    return 0;
}
