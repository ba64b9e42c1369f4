/*
 * bench_codec.c — the sink's decode cost: Avro binary → ClickHouse
 * RowBinary for the realistic page event (page_event.h), single-threaded,
 * CPU time of the running thread:
 *
 *   plan.plain      sluice's compiled plan, every field into its column
 *                   (nested array of records into Nested columns, map into
 *                   keys/values arrays, uuid, timestamp, enums, nullables);
 *   plan.transform  the same messages with explode(items) + filter
 *                   (items.qty > 1 and type != 'VIEW') + two derived columns;
 *   avro_c.generic  the peer: avro-c's generic reader (avro_value_read into
 *                   a generic value tree) walked into the same RowBinary with
 *                   the same leaf encoders, so the difference is the decode
 *                   path alone. Its output is compared byte for byte with
 *                   the plan's before timing, so both do the same work;
 *   proto.plain     the same events as Protobuf (page_event.proto below,
 *                   encoded from the same JSON by ingest's json_proto) through
 *                   the Protobuf plan into the same table: the same rows,
 *                   checked byte for byte against the Avro plan's before
 *                   timing, so the ratio is the cost of the format alone.
 *   json.scalar     the same events as JSON text (what make_event writes)
 *                   through the JSON plan (the streaming reader, no tree)
 *                   into the table's 13 scalar columns (a JSON path does
 *                   not reach into arrays of objects, so the Nested and map
 *                   columns are left out), checked byte for byte against
 *                   the Avro plan into the same columns, and that Avro
 *                   plan's cost beside it (avro.scalar).
 *   json.validate   the same JSON texts checked against the page event's
 *                   JSON Schema (draft-07, below) by the validator the sink
 *                   and ingest run before decoding a JSON Schema message.
 *   json.nested     the same with the Nested group as well (items.sku,
 *                   .qty, .price, .tags from the JSON array of objects),
 *                   checked byte for byte against the Avro plan, and its
 *                   cost beside it (avro.nested); only the map's keys and
 *                   values columns are left out.
 *
 * usage: bench_codec [--messages N] [--only plain|transform|peer|proto|json|validate]
 */
#include "codec/avro_json.h"
#include "codec/ch_type.h"
#include "codec/json_proto.h"
#include "codec/json_schema.h"
#include "codec/json_schema_validate.h"
#include "codec/plan.h"
#include "codec/proto_schema.h"
#include "common/arena.h"
#include "page_event.h"

#include <avro.h>
#include <string.h>
#include <time.h>

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static arena types;

static const ch_type *T(const char *text)
{
    const ch_type *t;
    sluice_error err;
    if (ch_type_parse(text, &types, &t, &err) != 0) {
        fprintf(stderr, "bench_codec: %s: %s\n", text, err.msg);
        exit(1);
    }
    return t;
}

#define ENUM_TYPE "Enum8('VIEW' = 1, 'CLICK' = 2, 'ADD_TO_CART' = 3, 'PURCHASE' = 4)"
#define ENUM_DEVICE "Enum8('DESKTOP' = 1, 'MOBILE' = 2, 'TABLET' = 3)"

/* The plain table, in the schema's field order. */
static const char *plain_cols[][2] = {
    {"event_id", "UUID"},
    {"ts", "DateTime"},
    {"user_id", "Nullable(String)"},
    {"session_id", "Nullable(String)"},
    {"type", ENUM_TYPE},
    {"url", "String"},
    {"referrer", "Nullable(String)"},
    {"duration_ms", "Int64"},
    {"count", "Int64"},
    {"amount", "Nullable(Float64)"},
    {"currency", "Nullable(String)"},
    {"device", ENUM_DEVICE},
    {"items.sku", "Array(String)"},
    {"items.qty", "Array(Int32)"},
    {"items.price", "Array(Float64)"},
    {"items.tags", "Array(Array(String))"},
    {"attrs.keys", "Array(String)"},
    {"attrs.values", "Array(String)"},
    {"consent", "UInt8"},
};
#define N_PLAIN (sizeof plain_cols / sizeof plain_cols[0])

static const char *lines_cols[][2] = {
    {"event_id", "UUID"},       {"ts", "DateTime"},
    {"type", ENUM_TYPE},        {"user_id", "Nullable(String)"},
    {"items.sku", "String"},    {"items.qty", "Int32"},
    {"items.price", "Float64"}, {"line_total", "Float64"},
    {"line_no", "UInt16"},
};
#define N_LINES (sizeof lines_cols / sizeof lines_cols[0])

static const ch_type *plain_types[N_PLAIN];

/* ---- the peer: avro-c generic value → RowBinary ------------------------- */

static void put_leaf(const ch_type *t, const cvalue *v, buf *out)
{
    if (ch_encode_value(t, v, out, NULL) != 0) {
        fprintf(stderr, "bench_codec: generic path: encode failed\n");
        exit(1);
    }
}

static void put_count(buf *out, size_t n)
{
    uint8_t tmp[10];
    size_t k = 0;
    do {
        tmp[k++] = (uint8_t)((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n >>= 7;
    } while (n);
    buf_append(out, tmp, k);
}

static cvalue string_of(avro_value_t *v)
{
    const char *s = "";
    size_t size = 0;
    avro_value_get_string(v, &s, &size);
    return cv_string(s, size ? size - 1 : 0); /* avro-c counts the NUL */
}

/* A [null, T] union: NULL, or T's value through `leaf`. */
static cvalue nullable_of(avro_value_t *v, cvalue (*leaf)(avro_value_t *))
{
    int disc = 0;
    avro_value_t branch;
    avro_value_get_discriminant(v, &disc);
    avro_value_get_current_branch(v, &branch);
    if (avro_value_get_type(&branch) == AVRO_NULL) return cv_null();
    return leaf(&branch);
}

static cvalue double_of(avro_value_t *v)
{
    double d = 0;
    avro_value_get_double(v, &d);
    return cv_double(d);
}

static void generic_row(avro_value_t *rec, const char *const *symbols_type,
                        const char *const *symbols_device, buf *out)
{
    avro_value_t f, e, sub;
    int32_t i32 = 0;
    int64_t i64 = 0;
    int en = 0, b = 0;
    cvalue v;
    size_t n = 0, k = 0;
    avro_value_get_by_index(rec, 0, &f, NULL);
    v = string_of(&f);
    put_leaf(plain_types[0], &v, out);
    avro_value_get_by_index(rec, 1, &f, NULL);
    avro_value_get_long(&f, &i64);
    v = cv_int(i64, CV_UNIT_TS_MS);
    put_leaf(plain_types[1], &v, out);
    for (int idx = 2; idx <= 3; idx++) {
        avro_value_get_by_index(rec, (size_t)idx, &f, NULL);
        v = nullable_of(&f, string_of);
        put_leaf(plain_types[idx], &v, out);
    }
    avro_value_get_by_index(rec, 4, &f, NULL);
    avro_value_get_enum(&f, &en);
    v = cv_string(symbols_type[en], strlen(symbols_type[en]));
    v.kind = CV_ENUM;
    put_leaf(plain_types[4], &v, out);
    avro_value_get_by_index(rec, 5, &f, NULL);
    v = string_of(&f);
    put_leaf(plain_types[5], &v, out);
    avro_value_get_by_index(rec, 6, &f, NULL);
    v = nullable_of(&f, string_of);
    put_leaf(plain_types[6], &v, out);
    for (int idx = 7; idx <= 8; idx++) {
        avro_value_get_by_index(rec, (size_t)idx, &f, NULL);
        avro_value_get_long(&f, &i64);
        v = cv_int(i64, CV_UNIT_NONE);
        put_leaf(plain_types[idx], &v, out);
    }
    avro_value_get_by_index(rec, 9, &f, NULL);
    v = nullable_of(&f, double_of);
    put_leaf(plain_types[9], &v, out);
    avro_value_get_by_index(rec, 10, &f, NULL);
    v = nullable_of(&f, string_of);
    put_leaf(plain_types[10], &v, out);
    avro_value_get_by_index(rec, 11, &f, NULL);
    avro_value_get_enum(&f, &en);
    v = cv_string(symbols_device[en], strlen(symbols_device[en]));
    v.kind = CV_ENUM;
    put_leaf(plain_types[11], &v, out);
    /* items: array of records into four Array columns, one field at a time. */
    avro_value_get_by_index(rec, 12, &f, NULL);
    avro_value_get_size(&f, &n);
    for (int field = 0; field < 4; field++) {
        put_count(out, n);
        for (k = 0; k < n; k++) {
            avro_value_get_by_index(&f, k, &e, NULL);
            avro_value_get_by_index(&e, (size_t)field, &sub, NULL);
            const ch_type *inner = plain_types[12 + field]->inner;
            if (field == 0) {
                v = string_of(&sub);
            } else if (field == 1) {
                avro_value_get_int(&sub, &i32);
                v = cv_int(i32, CV_UNIT_NONE);
            } else if (field == 2) {
                v = double_of(&sub);
            } else {
                size_t nt = 0;
                avro_value_get_size(&sub, &nt);
                put_count(out, nt);
                for (size_t t = 0; t < nt; t++) {
                    avro_value_t tag;
                    avro_value_get_by_index(&sub, t, &tag, NULL);
                    v = string_of(&tag);
                    put_leaf(inner->inner, &v, out);
                }
                continue;
            }
            put_leaf(inner, &v, out);
        }
    }
    /* attrs: keys, then values. */
    avro_value_get_by_index(rec, 13, &f, NULL);
    avro_value_get_size(&f, &n);
    for (int pass = 0; pass < 2; pass++) {
        put_count(out, n);
        for (k = 0; k < n; k++) {
            const char *key;
            avro_value_get_by_index(&f, k, &e, &key);
            v = pass == 0 ? cv_string(key, strlen(key)) : string_of(&e);
            put_leaf(plain_types[16 + pass]->inner, &v, out);
        }
    }
    avro_value_get_by_index(rec, 14, &f, NULL);
    avro_value_get_boolean(&f, &b);
    v = cv_bool(b);
    put_leaf(plain_types[18], &v, out);
}

/* ---- the same event as Protobuf --------------------------------------------- */

/* page_event.h's schema, field for field: nullable unions are proto3
 * `optional`, timestamp-millis a google.protobuf.Timestamp (the JSON's
 * RFC 3339 text), the array of records a repeated message, the map a map. */
static const char *proto_text =
    "syntax = \"proto3\";\n"
    "package com.acme.events;\n"
    "import \"google/protobuf/timestamp.proto\";\n"
    "enum Type { VIEW = 0; CLICK = 1; ADD_TO_CART = 2; PURCHASE = 3; }\n"
    "enum Device { DESKTOP = 0; MOBILE = 1; TABLET = 2; }\n"
    "message PageEvent {\n"
    "  message Item { string sku = 1; int32 qty = 2; double price = 3; repeated string tags = 4; "
    "}\n"
    "  string event_id = 1; google.protobuf.Timestamp ts = 2; optional string user_id = 3;\n"
    "  optional string session_id = 4; Type type = 5; string url = 6;\n"
    "  optional string referrer = 7; int64 duration_ms = 8; int64 count = 9;\n"
    "  optional double amount = 10; optional string currency = 11; Device device = 12;\n"
    "  repeated Item items = 13; map<string, string> attrs = 14; bool consent = 15;\n"
    "}\n";

/* ---- setup ----------------------------------------------------------------- */

static plan *make_plan(const sluice_avro_node *root, const char *cols[][2], size_t n,
                       const plan_options *opt)
{
    plan_column pc[32];
    for (size_t i = 0; i < n; i++)
        pc[i] = (plan_column){.name = cols[i][0], .type = T(cols[i][1]), .insertable = 1};
    plan *p;
    sluice_error err;
    if (plan_compile_avro(root, NULL, pc, n, opt, &p, &err) != 0) {
        fprintf(stderr, "bench_codec: plan: %s\n", err.msg);
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    long messages = 1000000;
    const char *only = NULL; /* "plain", "transform" or "peer": profile one path */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
            messages = atol(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
    }
#define RUNS(name) (!only || strcmp(only, name) == 0)
    arena_init(&types, 4096, SIZE_MAX);
    for (size_t i = 0; i < N_PLAIN; i++)
        plain_types[i] = T(plain_cols[i][1]);
    sluice_avro_schema *schema;
    sluice_error err;
    if (sluice_avro_schema_parse(schema_text, strlen(schema_text), &schema, &err) != 0) {
        fprintf(stderr, "bench_codec: schema: %s\n", err.msg);
        return 1;
    }
    const sluice_avro_node *root = sluice_avro_schema_root(schema);

    proto_schema *pschema;
    json_proto *to_proto;
    if (proto_schema_parse(proto_text, strlen(proto_text), "page_event.proto", NULL, 0, &pschema,
                           &err) != 0 ||
        json_proto_compile(proto_schema_find_message(pschema, "com.acme.events.PageEvent"),
                           &to_proto, &err) != 0) {
        fprintf(stderr, "bench_codec: proto schema: %s\n", err.msg);
        return 1;
    }

    /* DISTINCT messages, encoded once, in both formats. */
    buf msgs[DISTINCT], pmsgs[DISTINCT];
    char *texts[DISTINCT];
    size_t json_lens[DISTINCT];
    size_t avro_bytes = 0, proto_bytes = 0, json_bytes = 0;
    for (int i = 0; i < DISTINCT; i++) {
        char *text = make_event(i);
        json_error_t je;
        json_t *v = json_loads(text, 0, &je);
        avro_json_errors errs;
        buf_init(&msgs[i], 1 << 16);
        buf_init(&pmsgs[i], 1 << 16);
        json_lex lx;
        json_lex_init(&lx, text, strlen(text));
        if (!v || avro_json_encode(root, v, &msgs[i], &errs) != 0 ||
            json_proto_encode(to_proto, &lx, &pmsgs[i], &errs) != 0) {
            fprintf(stderr, "bench_codec: encoding event %d failed: %s %s\n", i,
                    errs.n ? errs.items[0].path : "", errs.n ? errs.items[0].message : "");
            return 1;
        }
        json_lex_free(&lx);
        avro_bytes += msgs[i].len;
        proto_bytes += pmsgs[i].len;
        json_decref(v);
        texts[i] = text;
        json_lens[i] = strlen(text);
        json_bytes += json_lens[i];
    }

    plan_options plain_opt = {.route = "bench"};
    plan *plain = make_plan(root, plain_cols, N_PLAIN, &plain_opt);
    plan_derived derived[] = {{"line_total", "items.qty * items.price"}, {"line_no", "index()"}};
    plan_options t_opt = {.route = "bench",
                          .explode = "items",
                          .filter = "items.qty > 1 and type != 'VIEW'",
                          .derived = derived,
                          .n_derived = 2};
    plan *transform = make_plan(root, lines_cols, N_LINES, &t_opt);
    plan_state *ps = plan_state_new(plain), *ts = plan_state_new(transform);
    plan *pplain;
    {
        plan_column pc[32];
        for (size_t i = 0; i < N_PLAIN; i++)
            pc[i] =
                (plan_column){.name = plain_cols[i][0], .type = plain_types[i], .insertable = 1};
        if (plan_compile_proto(proto_schema_find_message(pschema, "com.acme.events.PageEvent"), pc,
                               N_PLAIN, &plain_opt, &pplain, &err) != 0) {
            fprintf(stderr, "bench_codec: proto plan: %s\n", err.msg);
            return 1;
        }
    }
    plan_state *pps = plan_state_new(pplain);
    /* The scalar columns, by JSON plan and by Avro plan. */
    plan *jscalar, *ascalar;
    size_t n_scalar = 0;
    {
        plan_column pc[32];
        for (size_t i = 0; i < N_PLAIN; i++)
            if (!strchr(plain_cols[i][0], '.'))
                pc[n_scalar++] = (plan_column){
                    .name = plain_cols[i][0], .type = plain_types[i], .insertable = 1};
        if (plan_compile_json(pc, n_scalar, &plain_opt, &jscalar, &err) != 0 ||
            plan_compile_avro(root, NULL, pc, n_scalar, &plain_opt, &ascalar, &err) != 0) {
            fprintf(stderr, "bench_codec: scalar plans: %s\n", err.msg);
            return 1;
        }
    }
    plan_state *jss = plan_state_new(jscalar), *ass = plan_state_new(ascalar);
    /* ... and with the Nested group (all but the map's columns). */
    plan *jnested, *anested;
    size_t n_nested = 0;
    {
        plan_column pc[32];
        for (size_t i = 0; i < N_PLAIN; i++)
            if (strncmp(plain_cols[i][0], "attrs.", 6) != 0)
                pc[n_nested++] = (plan_column){
                    .name = plain_cols[i][0], .type = plain_types[i], .insertable = 1};
        if (plan_compile_json(pc, n_nested, &plain_opt, &jnested, &err) != 0 ||
            plan_compile_avro(root, NULL, pc, n_nested, &plain_opt, &anested, &err) != 0) {
            fprintf(stderr, "bench_codec: nested plans: %s\n", err.msg);
            return 1;
        }
    }
    plan_state *jns = plan_state_new(jnested), *ans = plan_state_new(anested);
    /* The JSON Schema validator. */
    static const char page_json_schema[] =
        "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
        "\"required\":[\"event_id\",\"ts\",\"type\",\"url\",\"device\"],\"properties\":{"
        "\"event_id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"ts\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"user_id\":{\"type\":[\"string\",\"null\"]},"
        "\"session_id\":{\"type\":[\"string\",\"null\"]},"
        "\"type\":{\"enum\":[\"VIEW\",\"CLICK\",\"ADD_TO_CART\",\"PURCHASE\"]},"
        "\"url\":{\"type\":\"string\"},\"referrer\":{\"type\":[\"string\",\"null\"]},"
        "\"duration_ms\":{\"type\":\"integer\",\"minimum\":0},"
        "\"count\":{\"type\":\"integer\"},\"amount\":{\"type\":[\"number\",\"null\"]},"
        "\"currency\":{\"type\":[\"string\",\"null\"]},"
        "\"device\":{\"enum\":[\"DESKTOP\",\"MOBILE\",\"TABLET\"]},"
        "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
        "\"sku\":{\"type\":\"string\"},\"qty\":{\"type\":\"integer\",\"minimum\":1},"
        "\"price\":{\"type\":\"number\"},"
        "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}},"
        "\"attrs\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
        "\"consent\":{\"type\":\"boolean\"}}}";
    json_schema *jschema = NULL;
    json_validator *jval = NULL;
    if (json_schema_parse(page_json_schema, strlen(page_json_schema), NULL, 0, &jschema, &err) !=
            0 ||
        json_validator_compile(jschema, &jval, &err) != 0) {
        fprintf(stderr, "bench_codec: JSON Schema: %s\n", err.msg);
        return 1;
    }

    /* The peer. */
    avro_schema_t aschema;
    if (avro_schema_from_json_length(schema_text, strlen(schema_text), &aschema) != 0) {
        fprintf(stderr, "bench_codec: avro-c: %s\n", avro_strerror());
        return 1;
    }
    avro_value_iface_t *iface = avro_generic_class_from_schema(aschema);
    avro_value_t value;
    avro_generic_value_new(iface, &value);
    avro_reader_t reader =
        avro_reader_memory(msgs[0].data ? (const char *)msgs[0].data : "", (int64_t)msgs[0].len);
    const char *sym_type[4], *sym_device[3];
    avro_schema_t ftype = avro_schema_record_field_get(aschema, "type");
    avro_schema_t fdevice = avro_schema_record_field_get(aschema, "device");
    for (int i = 0; i < 4; i++)
        sym_type[i] = avro_schema_enum_get(ftype, i);
    for (int i = 0; i < 3; i++)
        sym_device[i] = avro_schema_enum_get(fdevice, i);

    /* Same bytes from both paths, for every distinct message. */
    buf a, b;
    buf_init(&a, 64u << 20);
    buf_init(&b, 64u << 20);
    plan_result res;
    for (int i = 0; i < DISTINCT; i++) {
        buf_reset(&a);
        buf_reset(&b);
        if (plan_run(plain, ps, msgs[i].data, msgs[i].len, 0, &a, &res, &err) != 0) {
            fprintf(stderr, "bench_codec: plan run: %s\n", err.msg);
            return 1;
        }
        avro_reader_memory_set_source(reader, (const char *)msgs[i].data, (int64_t)msgs[i].len);
        avro_value_reset(&value);
        if (avro_value_read(reader, &value) != 0) {
            fprintf(stderr, "bench_codec: avro_value_read: %s\n", avro_strerror());
            return 1;
        }
        generic_row(&value, sym_type, sym_device, &b);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
            fprintf(stderr, "bench_codec: plan and generic path disagree on message %d\n", i);
            return 1;
        }
        buf_reset(&b);
        if (plan_run(pplain, pps, pmsgs[i].data, pmsgs[i].len, 0, &b, &res, &err) != 0) {
            fprintf(stderr, "bench_codec: proto plan run: %s\n", err.msg);
            return 1;
        }
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
            fprintf(stderr, "bench_codec: the Avro and Protobuf plans disagree on message %d\n", i);
            return 1;
        }
        buf_reset(&a);
        buf_reset(&b);
        if (plan_run(ascalar, ass, msgs[i].data, msgs[i].len, 0, &a, &res, &err) != 0 ||
            plan_run(jscalar, jss, (const uint8_t *)texts[i], json_lens[i], 0, &b, &res, &err) !=
                0) {
            fprintf(stderr, "bench_codec: scalar plan run: %s\n", err.msg);
            return 1;
        }
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
            fprintf(stderr, "bench_codec: the Avro and JSON plans disagree on message %d\n", i);
            return 1;
        }
        buf_reset(&a);
        buf_reset(&b);
        if (plan_run(anested, ans, msgs[i].data, msgs[i].len, 0, &a, &res, &err) != 0 ||
            plan_run(jnested, jns, (const uint8_t *)texts[i], json_lens[i], 0, &b, &res, &err) !=
                0) {
            fprintf(stderr, "bench_codec: nested plan run: %s\n", err.msg);
            return 1;
        }
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
            fprintf(stderr,
                    "bench_codec: the Avro and JSON plans disagree on message %d (with Nested)\n",
                    i);
            return 1;
        }
        {
            json_lex lx;
            json_lex_init(&lx, texts[i], json_lens[i]);
            avro_json_errors verrs = {0};
            int vrc = json_validator_run(jval, &lx, &verrs);
            json_lex_free(&lx);
            if (vrc != 0) {
                fprintf(stderr, "bench_codec: message %d does not validate: %s %s\n", i,
                        verrs.n ? verrs.items[0].path : "", verrs.n ? verrs.items[0].message : "");
                return 1;
            }
        }
    }

    /* plan, plain */
    size_t out_bytes = 0;
    double c0 = thread_cpu_s();
    for (long i = 0; RUNS("plain") && i < messages; i++) {
        buf_reset(&a);
        plan_run(plain, ps, msgs[i % DISTINCT].data, msgs[i % DISTINCT].len, 0, &a, &res, &err);
        out_bytes += a.len;
    }
    double plain_s = thread_cpu_s() - c0;

    /* plan, transform */
    size_t rows = 0, filtered = 0;
    c0 = thread_cpu_s();
    for (long i = 0; RUNS("transform") && i < messages; i++) {
        buf_reset(&a);
        plan_run(transform, ts, msgs[i % DISTINCT].data, msgs[i % DISTINCT].len, 1700000000, &a,
                 &res, &err);
        rows += res.rows;
        filtered += res.filtered;
    }
    double transform_s = thread_cpu_s() - c0;

    /* Protobuf plan, plain */
    size_t proto_out = 0;
    c0 = thread_cpu_s();
    for (long i = 0; RUNS("proto") && i < messages; i++) {
        buf_reset(&a);
        plan_run(pplain, pps, pmsgs[i % DISTINCT].data, pmsgs[i % DISTINCT].len, 0, &a, &res, &err);
        proto_out += a.len;
    }
    double proto_s = thread_cpu_s() - c0;

    /* The scalar columns: JSON plan, then Avro plan */
    c0 = thread_cpu_s();
    for (long i = 0; RUNS("json") && i < messages; i++) {
        buf_reset(&a);
        plan_run(jscalar, jss, (const uint8_t *)texts[i % DISTINCT], json_lens[i % DISTINCT], 0, &a,
                 &res, &err);
    }
    double json_s = thread_cpu_s() - c0;
    c0 = thread_cpu_s();
    for (long i = 0; RUNS("json") && i < messages; i++) {
        buf_reset(&a);
        plan_run(ascalar, ass, msgs[i % DISTINCT].data, msgs[i % DISTINCT].len, 0, &a, &res, &err);
    }
    double ascalar_s = thread_cpu_s() - c0;
    /* ... with the Nested group */
    c0 = thread_cpu_s();
    for (long i = 0; RUNS("json") && i < messages; i++) {
        buf_reset(&a);
        plan_run(jnested, jns, (const uint8_t *)texts[i % DISTINCT], json_lens[i % DISTINCT], 0, &a,
                 &res, &err);
    }
    double jnested_s = thread_cpu_s() - c0;
    c0 = thread_cpu_s();
    for (long i = 0; RUNS("json") && i < messages; i++) {
        buf_reset(&a);
        plan_run(anested, ans, msgs[i % DISTINCT].data, msgs[i % DISTINCT].len, 0, &a, &res, &err);
    }
    double anested_s = thread_cpu_s() - c0;
    /* ... and the validator over the same texts */
    c0 = thread_cpu_s();
    for (long i = 0; (RUNS("json") || RUNS("validate")) && i < messages; i++) {
        json_lex lx;
        json_lex_init(&lx, texts[i % DISTINCT], json_lens[i % DISTINCT]);
        avro_json_errors verrs = {0};
        json_validator_run(jval, &lx, &verrs);
        json_lex_free(&lx);
    }
    double validate_s = thread_cpu_s() - c0;

    /* peer */
    long peer_messages = messages / 4 > DISTINCT ? messages / 4 : DISTINCT;
    c0 = thread_cpu_s();
    for (long i = 0; RUNS("peer") && i < peer_messages; i++) {
        const buf *m = &msgs[i % DISTINCT];
        buf_reset(&b);
        avro_reader_memory_set_source(reader, (const char *)m->data, (int64_t)m->len);
        avro_value_reset(&value);
        avro_value_read(reader, &value);
        generic_row(&value, sym_type, sym_device, &b);
    }
    double peer_s = thread_cpu_s() - c0;

    double avg_avro = (double)avro_bytes / DISTINCT;
    double plain_ns = plain_s * 1e9 / (double)messages;
    double peer_ns = peer_s * 1e9 / (double)peer_messages;
    printf("codec.messages: %ld\n", messages);
    printf("codec.avro_bytes_per_message: %.1f\n", avg_avro);
    printf("codec.rowbinary_bytes_per_message: %.1f\n", (double)out_bytes / (double)messages);
    printf("codec.plan.plain.ns_per_message: %.1f\n", plain_ns);
    printf("codec.plan.plain.mb_per_s: %.1f\n", avg_avro * (double)messages / plain_s / 1e6);
    printf("codec.plan.transform.ns_per_message: %.1f\n", transform_s * 1e9 / (double)messages);
    printf("codec.plan.transform.rows_out: %zu\n", rows);
    printf("codec.plan.transform.rows_filtered: %zu\n", filtered);
    printf("codec.plan.transform.ns_per_output_row: %.1f\n",
           rows ? transform_s * 1e9 / (double)rows : 0);
    printf("codec.avro_c_generic.messages: %ld\n", peer_messages);
    printf("codec.avro_c_generic.ns_per_message: %.1f\n", peer_ns);
    printf("codec.avro_c_generic.mb_per_s: %.1f\n",
           avg_avro * (double)peer_messages / peer_s / 1e6);
    printf("codec.speedup_plan_vs_avro_c_generic: %.1fx\n", peer_ns / plain_ns);
    double proto_ns = proto_s * 1e9 / (double)messages;
    printf("codec.proto_bytes_per_message: %.1f\n", (double)proto_bytes / DISTINCT);
    printf("codec.proto.plain.ns_per_message: %.1f\n", proto_ns);
    printf("codec.proto.plain.mb_per_s: %.1f\n",
           (double)proto_bytes / DISTINCT * (double)messages / proto_s / 1e6);
    printf("codec.proto_vs_avro_cost: %.2fx\n", proto_ns / plain_ns);
    (void)proto_out;
    double json_ns = json_s * 1e9 / (double)messages;
    double ascalar_ns = ascalar_s * 1e9 / (double)messages;
    printf("codec.json_bytes_per_message: %.1f\n", (double)json_bytes / DISTINCT);
    printf("codec.json.scalar.columns: %zu\n", n_scalar);
    printf("codec.json.scalar.ns_per_message: %.1f\n", json_ns);
    printf("codec.json.scalar.mb_per_s: %.1f\n",
           (double)json_bytes / DISTINCT * (double)messages / json_s / 1e6);
    printf("codec.avro.scalar.ns_per_message: %.1f\n", ascalar_ns);
    printf("codec.json_vs_avro_scalar_cost: %.2fx\n", json_ns / ascalar_ns);
    double jnested_ns = jnested_s * 1e9 / (double)messages;
    double anested_ns = anested_s * 1e9 / (double)messages;
    printf("codec.json.nested.columns: %zu\n", n_nested);
    printf("codec.json.nested.ns_per_message: %.1f\n", jnested_ns);
    printf("codec.avro.nested.ns_per_message: %.1f\n", anested_ns);
    printf("codec.json_vs_avro_nested_cost: %.2fx\n", jnested_ns / anested_ns);
    printf("codec.json.validate.ns_per_message: %.1f\n", validate_s * 1e9 / (double)messages);

    avro_reader_free(reader);
    avro_value_decref(&value);
    avro_value_iface_decref(iface);
    avro_schema_decref(aschema);
    buf_free(&a);
    buf_free(&b);
    for (int i = 0; i < DISTINCT; i++) {
        buf_free(&msgs[i]);
        buf_free(&pmsgs[i]);
        free(texts[i]);
    }
    plan_state_free(jss);
    plan_state_free(ass);
    plan_state_free(jns);
    plan_state_free(ans);
    json_validator_free(jval);
    json_schema_free(jschema);
    plan_free(jnested);
    plan_free(anested);
    plan_free(jscalar);
    plan_free(ascalar);
    plan_state_free(pps);
    plan_free(pplain);
    json_proto_free(to_proto);
    proto_schema_free(pschema);
    plan_state_free(ps);
    plan_state_free(ts);
    plan_free(plain);
    plan_free(transform);
    sluice_avro_schema_free(schema);
    arena_free(&types);
    return 0;
}
