/*
 * test_json_avro.c — the streaming JSON → Avro encoder (src/codec/json_avro.c)
 * and its tokenizer (src/codec/json_lex.c).
 *
 * Three kinds of test:
 *   - differential, against the tree encoder kept as the oracle
 *     (tests/support/avro_diff.h): 20 000 events generated from eight
 *     schemas that between them use every Avro type and logical type,
 *     valid ones and ones mutated into every kind of error (wrong types,
 *     unknown and missing fields, bad enum symbols, out-of-range numbers,
 *     bad dates and UUIDs, unions in both JSON encodings, fields in any
 *     order), each required to give the same bytes or the same errors;
 *     tests/unit/test_avro_json.c runs every one of its hand-written vectors
 *     through the same check;
 *   - the edges the issue names, with expected results written out: field
 *     order permutations, nesting at the limits and one past them, numbers
 *     at the edges of int64 and double, -0, 1e400, invalid UTF-8, lone
 *     surrogates, duplicate keys, 1 MiB strings;
 *   - the tokenizer alone: skipping, positions, ranges.
 */
#include "codec/json_avro.h"
#include "codec/json_lex.h"

#include <math.h>

#include "avro_diff.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------------------ */

static sluice_avro_schema *keep[64];
static int n_keep;

static const sluice_avro_node *S(const char *text)
{
    sluice_avro_schema *s = NULL;
    sluice_error err = {0};
    if (sluice_avro_schema_parse(text, strlen(text), &s, &err) != 0) {
        fprintf(stderr, "schema does not parse: %s\n  %s\n", err.msg, text);
        return NULL;
    }
    keep[n_keep++] = s;
    return sluice_avro_schema_root(s);
}

static json_avro *P(const sluice_avro_node *n)
{
    json_avro *p = NULL;
    sluice_error err = {0};
    if (!n || json_avro_compile(n, &p, &err) != 0) {
        fprintf(stderr, "does not compile: %s\n", err.msg);
        return NULL;
    }
    return p;
}

static char result[1 << 16];

/* Streaming-encode text: hex bytes, "ERROR: path: msg | ...", or
 * "PARSE line:col: msg". */
static const char *run_len(const json_avro *p, const char *text, size_t len)
{
    buf out;
    buf_init(&out, 1 << 24);
    avro_json_errors errs;
    json_lex lx;
    json_lex_init(&lx, text, len);
    int rc = json_avro_encode(p, &lx, &out, &errs);
    if (rc != 0 && out.len != 0) {
        snprintf(result, sizeof result, "(out not rolled back)");
        json_lex_free(&lx);
        buf_free(&out);
        return result;
    }
    if (rc == 0 || rc == SLUICE_EINVAL) {
        if (json_lex_end(&lx)) rc = SLUICE_EPARSE;
    }
    size_t n = 0;
    if (rc == 0) {
        for (size_t i = 0; i < out.len && n + 4 < sizeof result; i++)
            n += (size_t)snprintf(result + n, sizeof result - n, "%s%02x", i ? " " : "",
                                  out.data[i]);
        result[n] = '\0';
    } else if (rc == SLUICE_EPARSE) {
        size_t line, col;
        json_lex_where(&lx, lx.err_at, &line, &col);
        snprintf(result, sizeof result, "PARSE %zu:%zu: %s", line, col, lx.err_msg);
    } else {
        n = (size_t)snprintf(result, sizeof result, "ERROR:");
        for (int i = 0; i < errs.n && n < sizeof result; i++)
            n += (size_t)snprintf(result + n, sizeof result - n, "%s %s: %s", i ? " |" : "",
                                  errs.items[i].path, errs.items[i].message);
    }
    json_lex_free(&lx);
    buf_free(&out);
    return result;
}

static const char *run(const json_avro *p, const char *text)
{
    return run_len(p, text, strlen(text));
}

/* ---- schemas the generator walks ----------------------------------------------------- */

static const char *gen_schemas[] = {
    /* every primitive, nullable ones, defaults */
    "{\"type\":\"record\",\"name\":\"Prims\",\"fields\":["
    "{\"name\":\"b\",\"type\":\"boolean\"},{\"name\":\"i\",\"type\":\"int\"},"
    "{\"name\":\"l\",\"type\":\"long\"},{\"name\":\"f\",\"type\":\"float\"},"
    "{\"name\":\"d\",\"type\":\"double\"},{\"name\":\"s\",\"type\":\"string\"},"
    "{\"name\":\"y\",\"type\":\"bytes\"},{\"name\":\"n\",\"type\":\"null\"},"
    "{\"name\":\"ns\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"nl\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"dd\",\"type\":\"double\",\"default\":1.5},"
    "{\"name\":\"ds\",\"type\":\"string\",\"default\":\"x\\u00e9\"}]}",
    /* logical types */
    "{\"type\":\"record\",\"name\":\"Logical\",\"fields\":["
    "{\"name\":\"day\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
    "{\"name\":\"tm\",\"type\":{\"type\":\"int\",\"logicalType\":\"time-millis\"}},"
    "{\"name\":\"tu\",\"type\":{\"type\":\"long\",\"logicalType\":\"time-micros\"}},"
    "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"tsu\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
    "{\"name\":\"lts\",\"type\":{\"type\":\"long\",\"logicalType\":\"local-timestamp-millis\"}},"
    "{\"name\":\"id\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
    "{\"name\":\"amt\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":12,"
    "\"scale\":2}},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F8\",\"size\":8,"
    "\"logicalType\":\"decimal\",\"precision\":18,\"scale\":4}},"
    "{\"name\":\"opt_ts\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":"
    "\"timestamp-millis\"}],\"default\":null}]}",
    /* enums, fixed, nested records, arrays, maps */
    "{\"type\":\"record\",\"name\":\"Nest\",\"namespace\":\"t\",\"fields\":["
    "{\"name\":\"st\",\"type\":{\"type\":\"enum\",\"name\":\"St\",\"symbols\":[\"A\",\"B\",\"C\"]}}"
    ","
    "{\"name\":\"h\",\"type\":{\"type\":\"fixed\",\"name\":\"H4\",\"size\":4}},"
    "{\"name\":\"u\",\"type\":{\"type\":\"record\",\"name\":\"U\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"tags\",\"type\":{\"type\":\"array\","
    "\"items\":\"string\"},\"default\":[]}]}},"
    "{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"U\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"long\",\"string\"]}},"
    "{\"name\":\"mm\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\","
    "\"items\":\"int\"}},\"default\":{}}]}",
    /* unions of records and maps: the lookahead */
    "{\"type\":\"record\",\"name\":\"Uni\",\"fields\":["
    "{\"name\":\"p\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"A\",\"fields\":["
    "{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"z\",\"type\":\"string\",\"default\":\"\"}]},"
    "{\"type\":\"record\",\"name\":\"B\",\"fields\":[{\"name\":\"b\",\"type\":\"string\"}]},"
    "{\"type\":\"map\",\"values\":\"double\"}]},"
    "{\"name\":\"q\",\"type\":[\"int\",\"long\",\"float\",\"double\",\"string\",\"boolean\","
    "{\"type\":\"array\",\"items\":\"long\"}]},"
    "{\"name\":\"r\",\"type\":[{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\",\"Y\"]},"
    "\"string\"]},"
    "{\"name\":\"w\",\"type\":[\"null\",{\"type\":\"fixed\",\"name\":\"F2\",\"size\":2},\"bytes\"],"
    "\"default\":null}]}",
    /* recursion */
    "{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
    "{\"name\":\"next\",\"type\":[\"null\",\"Node\"],\"default\":null}]}",
    /* top-level non-records */
    "{\"type\":\"array\",\"items\":{\"type\":\"map\",\"values\":\"long\"}}",
    "[\"null\",\"string\",{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"k\","
    "\"type\":\"string\"}]}]",
    /* many fields: the hash index and the slots */
    "{\"type\":\"record\",\"name\":\"Wide\",\"fields\":["
    "{\"name\":\"f00\",\"type\":\"int\"},{\"name\":\"f01\",\"type\":\"int\"},"
    "{\"name\":\"f02\",\"type\":\"int\"},{\"name\":\"f03\",\"type\":\"int\"},"
    "{\"name\":\"f04\",\"type\":\"int\"},{\"name\":\"f05\",\"type\":\"int\"},"
    "{\"name\":\"f06\",\"type\":\"int\",\"default\":6},{\"name\":\"f07\",\"type\":\"int\"},"
    "{\"name\":\"f08\",\"type\":\"int\"},{\"name\":\"f09\",\"type\":\"int\"},"
    "{\"name\":\"f10\",\"type\":\"int\"},{\"name\":\"f11\",\"type\":\"int\"},"
    "{\"name\":\"f12\",\"type\":\"int\",\"default\":12},{\"name\":\"f13\",\"type\":\"int\"},"
    "{\"name\":\"f14\",\"type\":\"int\"},{\"name\":\"f15\",\"type\":\"int\"},"
    "{\"name\":\"f16\",\"type\":\"int\"},{\"name\":\"f17\",\"type\":\"int\"},"
    "{\"name\":\"f18\",\"type\":\"int\"},{\"name\":\"f19\",\"type\":\"int\"},"
    "{\"name\":\"sub\",\"type\":{\"type\":\"record\",\"name\":\"Sub\",\"fields\":["
    "{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"y\",\"type\":\"int\"},"
    "{\"name\":\"z\",\"type\":\"int\",\"default\":0}]}}]}",
};
#define N_GEN_SCHEMAS (sizeof gen_schemas / sizeof gen_schemas[0])

/* ---- the generator -------------------------------------------------------------------- */

static uint64_t seed = 0x2545F4914F6CDD1DULL;
static unsigned R(unsigned n)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return n ? (unsigned)(seed % n) : 0;
}

/* How often a generated value is deliberately wrong (per value, in 1000). */
static unsigned mutate_per_mille;

static void gen_value(buf *b, const sluice_avro_node *t, int depth);

static void gen_string_text(buf *b)
{
    static const char *pieces[] = {
        "a",    "Z",   "0",   " ",    "\\n",     "\\\"", "é",   "\\u00e9", "\\ud83d\\ude00",
        "日本", "\\/", "\\t", "\\\\", "\\u0000", "-",    "_x_", "😀",       "\\u20ac"};
    buf_append_byte(b, '"');
    unsigned n = R(12);
    for (unsigned i = 0; i < n; i++)
        buf_append_str(b, pieces[R(sizeof pieces / sizeof pieces[0])]);
    buf_append_byte(b, '"');
}

static void gen_wrong(buf *b)
{
    static const char *w[] = {"\"wrong\"", "12",        "-3.5",      "true", "null",       "[]",
                              "{}",        "[1,\"a\"]", "{\"q\":1}", "\"\"", "4294967296", "1e10"};
    buf_append_str(b, w[R(sizeof w / sizeof w[0])]);
}

static void gen_int(buf *b, int64_t lo, int64_t hi)
{
    static const int64_t edges[] = {
        0,         1,        -1, 127, 128, -129, INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1,
        INT64_MAX, INT64_MIN};
    int64_t v;
    if (R(5) == 0) {
        v = edges[R(sizeof edges / sizeof edges[0])];
        if (v < lo || v > hi) {
            if (R(1000) >= mutate_per_mille) v = lo > 0 ? lo : 0;
        }
    } else {
        v = (int64_t)R(100000) - 50000;
    }
    buf_printf(b, "%" PRId64, v);
}

static void gen_logical(buf *b, const sluice_avro_node *t)
{
    bool bad = R(1000) < mutate_per_mille;
    switch (t->logical) {
    case SLUICE_AVRO_LOGICAL_DATE:
        if (R(2))
            buf_printf(b, "\"%04u-%02u-%02u\"", 1900 + R(300), 1 + R(bad ? 14 : 12),
                       1 + R(bad ? 32 : 28));
        else
            gen_int(b, -100000, 100000);
        return;
    case SLUICE_AVRO_LOGICAL_TIME_MILLIS:
    case SLUICE_AVRO_LOGICAL_TIME_MICROS:
        if (R(2))
            buf_printf(b, "\"%02u:%02u:%02u%s%s\"", R(bad ? 26 : 24), R(60), R(60),
                       R(2) ? ".125" : "",
                       R(3) == 0 ? "+01:30"
                       : R(2)    ? "Z"
                                 : "");
        else
            gen_int(b, 0, 86399999);
        return;
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MILLIS:
    case SLUICE_AVRO_LOGICAL_TIMESTAMP_MICROS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS:
    case SLUICE_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS: {
        static const char *zones[] = {"Z", "+02:00", "-05:30", "", "z", "+0200"};
        static const char *fracs[] = {"", ".1", ".123", ".123456", ".1234567", ".123000"};
        if (R(3))
            buf_printf(b, "\"20%02u-%02u-%02uT%02u:%02u:%02u%s%s\"", R(99), 1 + R(12), 1 + R(28),
                       R(24), R(60), R(60), fracs[R(bad ? 6 : 3)], zones[R(bad ? 6 : 3)]);
        else
            gen_int(b, INT64_MIN, INT64_MAX);
        return;
    }
    case SLUICE_AVRO_LOGICAL_UUID:
        buf_printf(b, "\"%08x-%04x-%04x-%04x-%012x%s\"", R(1u << 31), R(65536), R(65536), R(65536),
                   R(1u << 31), bad ? "0" : "");
        return;
    case SLUICE_AVRO_LOGICAL_DECIMAL:
        switch (R(4)) {
        case 0:
            buf_printf(b, "%u.%0*u", R(100000), bad ? 3 : 2, R(100));
            return;
        case 1:
            buf_printf(b, "\"%s%u.%u\"", R(2) ? "-" : "", R(1000000), R(10));
            return;
        case 2:
            buf_printf(b, "%d", (int)R(2000000) - 1000000);
            return;
        default:
            buf_printf(b, "%ue%d", R(100), (int)R(6) - 3);
            return;
        }
    default:
        gen_wrong(b);
    }
}

static void gen_record(buf *b, const sluice_avro_node *t, int depth)
{
    size_t n = t->n_fields;
    size_t order[64];
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (R(3) == 0) /* shuffled */
        for (size_t i = n; i > 1; i--) {
            size_t j = R((unsigned)i), tmp = order[i - 1];
            order[i - 1] = order[j];
            order[j] = tmp;
        }
    buf_append_byte(b, '{');
    int first = 1;
    for (size_t k = 0; k < n; k++) {
        const sluice_avro_field *f = &t->fields[order[k]];
        bool omit = f->default_json ? R(3) == 0 : R(1000) < mutate_per_mille / 4;
        if (omit) continue;
        buf_printf(b, "%s\"%s\":", first ? "" : ",", f->name);
        first = 0;
        gen_value(b, f->type, depth + 1);
    }
    if (R(1000) < mutate_per_mille / 4) {
        buf_printf(b, "%s\"unknown_%u\":", first ? "" : ",", R(3));
        gen_wrong(b);
    }
    buf_append_byte(b, '}');
}

static void gen_value(buf *b, const sluice_avro_node *t, int depth)
{
    if (R(1000) < mutate_per_mille / 3 || depth > 12) {
        if (depth > 12 && t->type == SLUICE_AVRO_UNION) {
            buf_append_str(b, "null");
            return;
        }
        if (R(1000) < mutate_per_mille / 3) {
            gen_wrong(b);
            return;
        }
    }
    if (t->logical != SLUICE_AVRO_LOGICAL_NONE && t->logical != SLUICE_AVRO_LOGICAL_DURATION) {
        gen_logical(b, t);
        return;
    }
    switch (t->type) {
    case SLUICE_AVRO_NULL:
        buf_append_str(b, "null");
        return;
    case SLUICE_AVRO_BOOLEAN:
        buf_append_str(b, R(2) ? "true" : "false");
        return;
    case SLUICE_AVRO_INT:
        gen_int(b, INT32_MIN, INT32_MAX);
        return;
    case SLUICE_AVRO_LONG:
        gen_int(b, INT64_MIN, INT64_MAX);
        return;
    case SLUICE_AVRO_FLOAT:
    case SLUICE_AVRO_DOUBLE: {
        static const char *sp[] = {"\"NaN\"", "\"Infinity\"",          "\"-Infinity\"", "-0.0",
                                   "0",       "3.4028234663852886e38", "1e39",          "5e-324",
                                   "-1.25e-5"};
        if (R(4) == 0)
            buf_append_str(b, sp[R(sizeof sp / sizeof sp[0])]);
        else
            buf_printf(b, "%.*g", 1 + (int)R(15), ((double)R(2000000) - 1e6) / (1 + R(1000)));
        return;
    }
    case SLUICE_AVRO_STRING:
        gen_string_text(b);
        return;
    case SLUICE_AVRO_BYTES:
        buf_printf(b, "\"%s\\u00ff\\u0000%s\"", R(2) ? "ab" : "", R(20) ? "" : "\\u0100");
        return;
    case SLUICE_AVRO_FIXED: {
        size_t n = t->size + (R(1000) < mutate_per_mille ? 1 : 0);
        buf_append_byte(b, '"');
        for (size_t i = 0; i < n; i++)
            buf_append_str(b, R(2) ? "\\u00fe" : "q");
        buf_append_byte(b, '"');
        return;
    }
    case SLUICE_AVRO_ENUM:
        if (R(1000) < mutate_per_mille)
            buf_append_str(b, "\"NOPE\"");
        else
            buf_printf(b, "\"%s\"", t->symbols[R((unsigned)t->n_symbols)]);
        return;
    case SLUICE_AVRO_ARRAY: {
        unsigned n = R(4) == 0 ? 64 + R(100) : R(4);
        buf_append_byte(b, '[');
        for (unsigned i = 0; i < n; i++) {
            if (i) buf_append_byte(b, ',');
            gen_value(b, t->items, depth + 1);
        }
        buf_append_byte(b, ']');
        return;
    }
    case SLUICE_AVRO_MAP: {
        unsigned n = R(5);
        buf_append_byte(b, '{');
        for (unsigned i = 0; i < n; i++) {
            buf_printf(b, "%s\"k%u\":", i ? "," : "", i);
            gen_value(b, t->values, depth + 1);
        }
        buf_append_byte(b, '}');
        return;
    }
    case SLUICE_AVRO_RECORD:
        gen_record(b, t, depth);
        return;
    case SLUICE_AVRO_UNION: {
        const sluice_avro_node *br = t->branches[R((unsigned)t->n_branches)];
        if (R(4) == 0 && br->type != SLUICE_AVRO_NULL) { /* Avro's JSON encoding */
            buf_printf(b, "{\"%s\":",
                       br->type == SLUICE_AVRO_RECORD || br->type == SLUICE_AVRO_ENUM ||
                               br->type == SLUICE_AVRO_FIXED
                           ? br->fullname
                           : sluice_avro_type_name(br->type));
            gen_value(b, br, depth + 1);
            buf_append_byte(b, '}');
        } else {
            gen_value(b, br, depth + 1);
        }
        return;
    }
    }
}

/* Pretty-print a little: whitespace between tokens must not matter. */
static void sprinkle_whitespace(buf *b)
{
    if (R(4)) return;
    buf o;
    buf_init(&o, SIZE_MAX);
    int in_str = 0;
    for (size_t i = 0; i < b->len; i++) {
        char c = (char)b->data[i];
        buf_append_byte(&o, (uint8_t)c);
        if (in_str) {
            if (c == '\\')
                buf_append_byte(&o, b->data[++i]);
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') in_str = 1;
        if (c == ',' || c == ':' || c == '{' || c == '[') buf_append_str(&o, R(2) ? " " : "\n\t");
    }
    buf_free(b);
    *b = o;
}

static void test_differential_generated(void)
{
    int compared = 0, skipped = 0, disagreed = 0, valid = 0;
    for (size_t s = 0; s < N_GEN_SCHEMAS; s++) {
        const sluice_avro_node *schema = S(gen_schemas[s]);
        CHECK(schema);
        json_avro *plan = P(schema);
        CHECK(plan);
        for (int i = 0; i < 2500; i++) {
            mutate_per_mille = i < 1000 ? 0 : 60;
            buf b;
            buf_init(&b, SIZE_MAX);
            gen_value(&b, schema, 0);
            sprinkle_whitespace(&b);
            char why[2048];
            int v = avro_diff_check(schema, plan, (const char *)b.data, b.len, why, sizeof why);
            compared++;
            skipped += v == AVRO_DIFF_SKIPPED;
            if (v == AVRO_DIFF_AGREE && strncmp(run_len(plan, (char *)b.data, b.len), "ERROR", 5) &&
                strncmp(result, "PARSE", 5))
                valid++;
            if (v == AVRO_DIFF_DISAGREE && disagreed++ < 5)
                fprintf(stderr, "schema %zu, event %d: %s\n  %.*s\n", s, i, why,
                        (int)(b.len > 600 ? 600 : b.len), (char *)b.data);
            buf_free(&b);
        }
        json_avro_free(plan);
    }
    fprintf(stderr, "generated: %d compared, %d valid, %d skipped by design, %d disagreed\n",
            compared, valid, skipped, disagreed);
    CHECK_EQ(disagreed, 0);
    CHECK(valid > compared / 4);             /* the corpus is not all errors */
    CHECK(valid < compared - compared / 10); /* nor all valid */
    CHECK(skipped < compared / 20);
}

static void test_differential_page_event(void)
{
    /* The benchmark's event (bench/page_event.h's schema), as the bench
     * writes it and with its fields in reverse order. */
    const sluice_avro_node *schema =
        S("{\"type\":\"record\",\"name\":\"PageEvent\",\"fields\":["
          "{\"name\":\"event_id\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
          "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
          "{\"name\":\"user_id\",\"type\":[\"null\",\"string\"],\"default\":null},"
          "{\"name\":\"type\",\"type\":{\"type\":\"enum\",\"name\":\"Type\",\"symbols\":[\"VIEW\","
          "\"CLICK\"]}},{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{\"type\":"
          "\"record\",\"name\":\"Item\",\"fields\":[{\"name\":\"sku\",\"type\":\"string\"},"
          "{\"name\":\"qty\",\"type\":\"int\"}]}}},"
          "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"string\"}}]}");
    CHECK(schema);
    json_avro *plan = P(schema);
    CHECK(plan);
    const char *in_order =
        "{\"event_id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"ts\":\"2026-11-22T20:12:01."
        "123Z\",\"user_id\":\"u-1\",\"type\":\"CLICK\",\"items\":[{\"sku\":\"A\",\"qty\":2}],"
        "\"attrs\":{\"k\":\"v\"}}";
    const char *reversed =
        "{\"attrs\":{\"k\":\"v\"},\"items\":[{\"qty\":2,\"sku\":\"A\"}],\"type\":\"CLICK\","
        "\"user_id\":\"u-1\",\"ts\":\"2026-11-22T20:12:01.123Z\",\"event_id\":\"0f8fad5b-d9cb-"
        "469f-a165-70867728950e\"}";
    char a[4096];
    snprintf(a, sizeof a, "%s", run(plan, in_order));
    CHECK(strncmp(a, "ERROR", 5) != 0 && strncmp(a, "PARSE", 5) != 0);
    CHECK_STR(run(plan, reversed), a);
    char why[2048];
    CHECK_EQ(avro_diff_check(schema, plan, reversed, strlen(reversed), why, sizeof why),
             AVRO_DIFF_AGREE);
    json_avro_free(plan);
}

/* ---- field order ------------------------------------------------------------------------- */

static void test_field_order_permutations(void)
{
    const sluice_avro_node *s =
        S("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
          "{\"name\":\"b\",\"type\":\"string\"},{\"name\":\"c\",\"type\":[\"null\",\"long\"]},"
          "{\"name\":\"d\",\"type\":\"boolean\",\"default\":true},"
          "{\"name\":\"e\",\"type\":{\"type\":\"array\",\"items\":\"int\"}}]}");
    json_avro *p = P(s);
    CHECK(p);
    const char *parts[5] = {"\"a\":1", "\"b\":\"xy\"", "\"c\":7", "\"d\":false", "\"e\":[1,2]"};
    /* a=1 → 02; b → 04 78 79; c: branch 1, 7 → 02 0e; d false → 00; e → 04 02 04 00 */
    const char *want = "02 04 78 79 02 0e 00 04 02 04 00";
    int idx[5] = {0, 1, 2, 3, 4}, perms = 0;
    /* Heap's algorithm: all 120 orders. */
    int c[5] = {0};
    for (int i = 0; i < 5;) {
        char text[256];
        snprintf(text, sizeof text, "{%s,%s,%s,%s,%s}", parts[idx[0]], parts[idx[1]], parts[idx[2]],
                 parts[idx[3]], parts[idx[4]]);
        CHECK_STR(run(p, text), want);
        perms++;
        while (i < 5 && c[i] >= i) {
            c[i] = 0;
            i++;
        }
        if (i == 5) break;
        int j = i % 2 ? c[i] : 0, t = idx[j];
        idx[j] = idx[i];
        idx[i] = t;
        c[i]++;
        i = 0;
    }
    CHECK_EQ(perms, 120);
    /* Missing d (default true → 01), in another order. */
    CHECK_STR(run(p, "{\"e\":[1,2],\"c\":7,\"b\":\"xy\",\"a\":1}"),
              "02 04 78 79 02 0e 01 04 02 04 00");
    CHECK_STR(run(p, "{\"e\":[1,2],\"c\":7,\"b\":\"xy\"}"),
              "ERROR: $.a: missing required field (no default)");
    json_avro_free(p);
}

/* ---- nesting ------------------------------------------------------------------------------ */

static char *nested(const char *open, const char *inner, const char *close, int levels)
{
    buf b;
    buf_init(&b, SIZE_MAX);
    for (int i = 0; i < levels; i++)
        buf_append_str(&b, open);
    buf_append_str(&b, inner);
    for (int i = 0; i < levels; i++)
        buf_append_str(&b, close);
    return buf_detach(&b, NULL);
}

static void test_nesting_limits(void)
{
    /* Avro's limit: 64 levels of records, arrays and maps. */
    const sluice_avro_node *s = S("{\"type\":\"record\",\"name\":\"N\",\"fields\":["
                                  "{\"name\":\"n\",\"type\":[\"null\",\"N\"],\"default\":null}]}");
    json_avro *p = P(s);
    CHECK(p);
    char *at = nested("{\"n\":", "null", "}", 64);   /* 64 records */
    char *past = nested("{\"n\":", "null", "}", 65); /* 65 */
    CHECK(strncmp(run(p, at), "ERROR", 5) != 0);
    CHECK_CONTAINS(run(p, past), "nested deeper than 64 levels");
    char why[2048];
    CHECK_EQ(avro_diff_check(s, p, at, strlen(at), why, sizeof why), AVRO_DIFF_AGREE);
    CHECK_EQ(avro_diff_check(s, p, past, strlen(past), why, sizeof why), AVRO_DIFF_AGREE);
    free(at);
    free(past);
    json_avro_free(p);

    /* JSON's limit, 2048 levels (jansson's too), reached inside a value
     * that is skipped: an unknown field's. */
    const sluice_avro_node *r =
        S("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}");
    p = P(r);
    char *deep = nested("[", "1", "]", 2047), *deeper = nested("[", "1", "]", 2048);
    buf b;
    buf_init(&b, SIZE_MAX);
    buf_printf(&b, "{\"a\":1,\"x\":%s}", deep); /* 2048 levels with the object */
    CHECK_STR(run_len(p, (char *)b.data, b.len), "ERROR: $.x: unknown field, not in record R");
    buf_reset(&b);
    buf_printf(&b, "{\"a\":1,\"x\":%s}", deeper);
    CHECK_CONTAINS(run_len(p, (char *)b.data, b.len), "nested deeper than 2048 levels");
    CHECK_CONTAINS(result,
                   "PARSE 1:2059:"); /* the 2049th level: 11 bytes of object, 2047 brackets */
    CHECK_EQ(avro_diff_check(r, p, (char *)b.data, b.len, why, sizeof why), AVRO_DIFF_AGREE);
    buf_free(&b);
    free(deep);
    free(deeper);
    json_avro_free(p);
}

/* ---- numbers ------------------------------------------------------------------------------- */

static void test_numbers_at_the_edges(void)
{
    json_avro *l = P(S("\"long\"")), *i = P(S("\"int\"")), *d = P(S("\"double\""));
    json_avro *f = P(S("\"float\""));
    json_avro *dec = P(S("{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":30,"
                         "\"scale\":20}"));
    CHECK(l && i && d && f && dec);
    CHECK_STR(run(l, "9223372036854775807"), "fe ff ff ff ff ff ff ff ff 01");
    CHECK_STR(run(l, "-9223372036854775808"), "ff ff ff ff ff ff ff ff ff 01");
    CHECK_STR(run(l, "9223372036854775808"),
              "ERROR: $: 9223372036854775808 does not fit in long (64-bit)");
    CHECK_STR(run(l, "-9223372036854775809"),
              "ERROR: $: -9223372036854775809 does not fit in long (64-bit)");
    CHECK_STR(run(l, "1e2"), "ERROR: $: expected long, got number");
    CHECK_STR(run(l, "-0"), "00");
    CHECK_STR(run(i, "2147483647"), "fe ff ff ff 0f");
    CHECK_STR(run(i, "2147483648"), "ERROR: $: 2147483648 does not fit in int (32-bit)");
    CHECK_STR(run(i, "99999999999999999999"),
              "ERROR: $: 99999999999999999999 does not fit in int (32-bit)");
    /* Doubles: strtod's correctly rounded result, the bits little-endian. */
    CHECK_STR(run(d, "1.7976931348623157e308"), "ff ff ff ff ff ff ef 7f");
    CHECK_STR(run(d, "5e-324"), "01 00 00 00 00 00 00 00");
    CHECK_STR(run(d, "1e-400"), "00 00 00 00 00 00 00 00"); /* underflow is zero, as jansson */
    CHECK_STR(run(d, "-0.0"), "00 00 00 00 00 00 00 80");
    CHECK_STR(run(d, "-0"), "00 00 00 00 00 00 00 00"); /* an integer, as jansson reads it */
    CHECK_STR(run(d, "1e400"), "ERROR: $: 1e400 is out of range for double");
    CHECK_STR(run(d, "-1E+400"), "ERROR: $: -1E+400 is out of range for double");
    CHECK_STR(run(d, "18446744073709551616"), "00 00 00 00 00 00 f0 43"); /* 2^64 */
    CHECK_STR(run(d, "0.1"), "9a 99 99 99 99 99 b9 3f");
    CHECK_STR(run(f, "3.4028235e38"), "ff ff 7f 7f");
    CHECK_STR(run(f, "3.5e38"), "ERROR: $: 3.5e+38 is out of range for float");
    /* Decimals read the literal: exact past a double's 17 digits. */
    CHECK_STR(run(dec, "0.12345678901234567891"), "12 00 ab 54 a9 8c eb 1f 0a d3");
    CHECK_STR(run(dec, "1.000000000000000000001"),
              "ERROR: $: '1.000000000000000000001' cannot be represented exactly with scale 20");
    /* Malformed numbers are malformed JSON. */
    CHECK_CONTAINS(run(l, "01"), "PARSE 1:1: a number may not start with 0");
    CHECK_CONTAINS(run(l, "1."), "PARSE 1:3: a digit must follow the decimal point");
    CHECK_CONTAINS(run(l, "-"), "PARSE 1:1: expected a number");
    CHECK_CONTAINS(run(l, "1e"), "PARSE 1:3: a digit must follow the exponent");
    CHECK_CONTAINS(run(l, "+1"), "PARSE 1:1:");
    CHECK_CONTAINS(run(l, "1 2"), "PARSE 1:3: unexpected '2' after the value");
    json_avro_free(l);
    json_avro_free(i);
    json_avro_free(d);
    json_avro_free(f);
    json_avro_free(dec);
}

/* ---- strings -------------------------------------------------------------------------------- */

static void test_utf8_and_escapes(void)
{
    json_avro *s = P(S("\"string\""));
    CHECK(s);
    CHECK_STR(run(s, "\"\\ud83d\\ude00\""), "08 f0 9f 98 80"); /* a surrogate pair */
    CHECK_STR(run(s, "\"\xf0\x9f\x98\x80\""), "08 f0 9f 98 80");
    CHECK_STR(run(s, "\"\\u00e9\\n\\/\""), "08 c3 a9 0a 2f");
    CHECK_STR(run(s, "\"a\\u0000b\""), "06 61 00 62");
    CHECK_CONTAINS(run(s, "\"\\ud800\""), "PARSE 1:2: high surrogate \\uD800 without its low");
    CHECK_CONTAINS(run(s, "\"\\udc00\""), "PARSE 1:2: lone low surrogate \\uDC00");
    CHECK_CONTAINS(run(s, "\"\\ud800\\u0041\""), "high surrogate");
    CHECK_CONTAINS(run(s, "\"\\x\""), "PARSE 1:2: invalid escape \\x");
    CHECK_CONTAINS(run(s, "\"\\u12\""), "invalid \\u escape");
    CHECK_CONTAINS(run(s, "\"\xc0\x80\""), "PARSE 1:2: invalid UTF-8"); /* overlong NUL */
    CHECK_CONTAINS(run(s, "\"\xed\xa0\x80\""), "invalid UTF-8");        /* encoded surrogate */
    CHECK_CONTAINS(run(s, "\"\xf4\x90\x80\x80\""), "invalid UTF-8");    /* past U+10FFFF */
    CHECK_CONTAINS(run(s, "\"\xe2\x82\""), "invalid UTF-8");            /* cut short */
    CHECK_CONTAINS(run(s, "\"\xff\""), "invalid UTF-8");
    CHECK_CONTAINS(run(s, "\"a\tb\""), "PARSE 1:3: control character 0x09");
    CHECK_CONTAINS(run(s, "\"abc"), "PARSE 1:1: unterminated string");
    /* Every one of those agrees with the tree path's verdict. */
    const char *texts[] = {"\"\\ud800\"",      "\"\\udc00\"",          "\"\xc0\x80\"",
                           "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"",
                           "\"a\tb\"",         "\"\\ud83d\\ude00\""};
    const sluice_avro_node *sn = S("\"string\"");
    char why[2048];
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++)
        CHECK_EQ(avro_diff_check(sn, s, texts[k], strlen(texts[k]), why, sizeof why),
                 AVRO_DIFF_AGREE);
    json_avro_free(s);
}

static void test_mebibyte_strings(void)
{
    json_avro *s = P(S("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
                       "\"type\":\"string\"},{\"name\":\"b\",\"type\":\"string\"}]}"));
    CHECK(s);
    size_t n = 1 << 20;
    buf t;
    buf_init(&t, SIZE_MAX);
    buf_append_str(&t, "{\"b\":\"");
    for (size_t i = 0; i < n; i++)
        buf_append_byte(&t, (uint8_t)('a' + i % 26));
    buf_append_str(&t, "\",\"a\":\"");
    for (size_t i = 0; i < n / 2; i++)
        buf_append_str(&t, "\\n"); /* escaped: decoded through the scratch */
    buf_append_str(&t, "\"}");
    buf out;
    buf_init(&out, SIZE_MAX);
    json_lex lx;
    json_lex_init(&lx, (char *)t.data, t.len);
    CHECK_EQ(json_avro_encode(s, &lx, &out, NULL), 0);
    CHECK_EQ(json_lex_end(&lx), 0);
    /* a: 524288 newlines, zigzag 2^20 = 80 80 40; b: 2^20 letters, zigzag
     * 2^21 = 80 80 80 01. */
    CHECK_EQ(out.len, 3 + n / 2 + 4 + n);
    CHECK(out.data[0] == 0x80 && out.data[1] == 0x80 && out.data[2] == 0x40);
    CHECK(out.data[3] == '\n' && out.data[3 + n / 2 - 1] == '\n');
    const uint8_t *bl = out.data + 3 + n / 2;
    CHECK(bl[0] == 0x80 && bl[1] == 0x80 && bl[2] == 0x80 && bl[3] == 0x01);
    CHECK(bl[4] == 'a' && out.data[out.len - 1] == (uint8_t)('a' + (n - 1) % 26));
    json_lex_free(&lx);
    buf_free(&out);
    buf_free(&t);
    json_avro_free(s);
}

/* ---- duplicate keys ------------------------------------------------------------------------- */

static void test_duplicate_keys(void)
{
    const sluice_avro_node *r = S("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                                  "{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":"
                                  "{\"type\":\"map\",\"values\":\"int\"}}]}");
    json_avro *p = P(r);
    CHECK(p);
    /* Rule: a key repeated in one object is malformed JSON, wherever it is
     * (the tree path's jansson said the same). */
    CHECK_CONTAINS(run(p, "{\"a\":1,\"b\":{},\"a\":2}"), "PARSE 1:15: duplicate key \"a\"");
    CHECK_CONTAINS(run(p, "{\"b\":{},\"a\":1,\"b\":{}}"), "duplicate key \"b\"");
    CHECK_CONTAINS(run(p, "{\"a\":1,\"b\":{\"k\":1,\"k\":2}}"), "PARSE 1:19: duplicate key \"k\"");
    CHECK_CONTAINS(run(p, "{\"a\":1,\"b\":{},\"z\":1,\"z\":2}"), "duplicate key \"z\"");
    CHECK_CONTAINS(run(p, "{\"a\":1,\"b\":{},\"z\":{\"q\":1,\"q\":1}}"), "duplicate key \"q\"");
    CHECK_CONTAINS(run(p, "{\"a\":1,\"b\":{\"\\u006b\":1,\"k\":2}}"), "duplicate key \"k\"");
    CHECK_STR(run(p, "{\"a\":1,\"b\":{\"k\":1,\"K\":2}}"), "02 04 02 6b 02 02 4b 04 00");
    const char *texts[] = {"{\"a\":1,\"b\":{},\"a\":2}", "{\"a\":1,\"b\":{\"k\":1,\"k\":2}}",
                           "{\"a\":1,\"b\":{},\"z\":1,\"z\":2}",
                           "{\"a\":1,\"b\":{\"\\u006b\":1,\"k\":2}}"};
    char why[2048];
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++)
        CHECK_EQ(avro_diff_check(r, p, texts[k], strlen(texts[k]), why, sizeof why),
                 AVRO_DIFF_AGREE);
    json_avro_free(p);
}

static void test_many_errors_then_more_text(void)
{
    /* The error list fills at 16; the rest of the value is still read (and
     * a syntax error after it still makes the text malformed). */
    const sluice_avro_node *s = S("{\"type\":\"array\",\"items\":\"int\"}");
    json_avro *p = P(s);
    buf b;
    buf_init(&b, SIZE_MAX);
    buf_append_byte(&b, '[');
    for (int i = 0; i < 40; i++)
        buf_printf(&b, "%s\"x\"", i ? "," : "");
    buf_append_str(&b, "]");
    avro_json_errors errs;
    buf out;
    buf_init(&out, SIZE_MAX);
    json_lex lx;
    json_lex_init(&lx, (char *)b.data, b.len);
    CHECK_EQ(json_avro_encode(p, &lx, &out, &errs), SLUICE_EINVAL);
    CHECK_EQ(errs.n, AVRO_JSON_MAX_ERRORS);
    CHECK(errs.truncated);
    CHECK_EQ(json_lex_offset(&lx), b.len);
    CHECK_EQ(out.len, 0);
    json_lex_free(&lx);
    b.len--; /* drop the ']' */
    buf_append_str(&b, ",}");
    json_lex_init(&lx, (char *)b.data, b.len);
    CHECK_EQ(json_avro_encode(p, &lx, &out, &errs), SLUICE_EPARSE);
    json_lex_free(&lx);
    buf_free(&out);
    buf_free(&b);
    json_avro_free(p);
}

static void test_output_cap(void)
{
    json_avro *p = P(S("\"string\""));
    buf out;
    buf_init(&out, 8);
    avro_json_errors errs;
    json_lex lx;
    json_lex_init(&lx, "\"0123456789abcdef\"", 18);
    CHECK_EQ(json_avro_encode(p, &lx, &out, &errs), SLUICE_ENOMEM);
    CHECK_EQ(out.len, 0);
    CHECK_CONTAINS(errs.items[0].message, "exceeds the output cap of 8 bytes");
    json_lex_free(&lx);
    buf_free(&out);
    json_avro_free(p);
}

/* ---- the tokenizer ----------------------------------------------------------------------------
 */

static void test_lex_skip_and_positions(void)
{
    const char *text =
        "{\"a\": [1, 2.5e3, \"x\", true, false, null, {}],\n \"b\": {\"c\": []}}  \n";
    json_lex lx;
    json_lex_init(&lx, text, strlen(text));
    CHECK_EQ(json_lex_skip(&lx), 0);
    CHECK_EQ(json_lex_end(&lx), 0);
    json_lex_free(&lx);
    const char *bad[] = {"[1,]",       "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "[1 2]",
                         "tru",        "nul",        "{\"a\":1",  "[",     "\"",
                         "{\"a\":1}}", "[01]",       "[.5]",      "[-]",   ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_lex_init(&lx, bad[i], strlen(bad[i]));
        int rc = json_lex_skip(&lx);
        if (rc == 0) rc = json_lex_end(&lx);
        if (rc == 0) fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_EQ(rc, -1);
        CHECK(lx.err_msg[0] != '\0');
        /* jansson rejects every one of them too. */
        json_error_t je;
        CHECK(json_loadb(bad[i], strlen(bad[i]), JSON_DECODE_ANY, &je) == NULL);
        json_lex_free(&lx);
    }
    /* Line and column of an error three lines down. */
    const char *multi = "{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}";
    json_lex_init(&lx, multi, strlen(multi));
    CHECK_EQ(json_lex_skip(&lx), -1);
    size_t line, col;
    json_lex_where(&lx, lx.err_at, &line, &col);
    CHECK_EQ(line, 3);
    CHECK_EQ(col, 14);
    json_lex_free(&lx);
    /* A range: the second of two NDJSON lines. */
    const char *nd = "{\"a\":1}\n{\"a\":2} x\n";
    json_lex_init(&lx, nd, strlen(nd));
    json_lex_range(&lx, 8, 18);
    CHECK_EQ(json_lex_skip(&lx), 0);
    CHECK_EQ(json_lex_end(&lx), -1);
    json_lex_where(&lx, lx.err_at, &line, &col);
    CHECK_EQ(line, 2);
    CHECK_EQ(col, 9);
    json_lex_free(&lx);
}

static void test_lex_many_keys(void)
{
    /* 100 000 distinct keys, then one repeated at the end: the key table
     * grows and still finds it; then a small value reuses a trimmed one. */
    buf b;
    buf_init(&b, SIZE_MAX);
    buf_append_byte(&b, '{');
    for (int i = 0; i < 100000; i++)
        buf_printf(&b, "\"k%d\":%d,", i, i);
    buf_append_str(&b, "\"k77777\":0}");
    json_lex lx;
    json_lex_init(&lx, (char *)b.data, b.len);
    CHECK_EQ(json_lex_skip(&lx), -1);
    CHECK_CONTAINS(lx.err_msg, "duplicate key \"k77777\"");
    json_lex_free(&lx);
    json_lex_init(&lx, (char *)b.data, b.len - 12);
    b.data[b.len - 13] = '}'; /* replace the last comma: a valid object */
    CHECK_EQ(json_lex_skip(&lx), 0);
    CHECK(lx.keys.cap >= 200000);
    json_lex_reset_keys(&lx);
    CHECK_EQ(lx.keys.cap, 0); /* given back, not kept for every later value */
    json_lex_free(&lx);
    buf_free(&b);
}

static void test_cleanup(void)
{
    for (int i = 0; i < n_keep; i++)
        sluice_avro_schema_free(keep[i]);
    n_keep = 0;
    CHECK(1);
}

TEST_MAIN(T(test_differential_generated), T(test_differential_page_event),
          T(test_field_order_permutations), T(test_nesting_limits), T(test_numbers_at_the_edges),
          T(test_utf8_and_escapes), T(test_mebibyte_strings), T(test_duplicate_keys),
          T(test_many_errors_then_more_text), T(test_output_cap), T(test_lex_skip_and_positions),
          T(test_lex_many_keys), T(test_cleanup))
