/*
 * test_avro_json.c — JSON ⇄ Avro binary (src/codec/avro_json_encode.c,
 * avro_json_decode.c).
 *
 * Expected bytes are written by hand from the Avro 1.11 specification
 * (zigzag varints, little-endian IEEE floats, length-prefixed bytes, one
 * block per array/map, union index then value), not produced by our own
 * encoder. The epoch arithmetic behind the date/time vectors was done with
 * Python's datetime module and is noted beside each one. The cross-check
 * against an implementation we did not write (avsc) is
 * tests/integration/test_avro_json_avsc.c.
 *
 * Covered: every type and logical type both ways, every encoder error with
 * its message and path, defaults, union selection in plain JSON and in
 * Avro's JSON encoding, unknown fields, rollback of `out`, every decoder
 * error, each prefix of valid encodings, depth bombs and huge claimed
 * lengths.
 */
#include "codec/avro_json.h"

#include <math.h>

#include "avro_diff.h"
#include "test.h"

/* Every enc() below also runs the streaming encoder (json_avro.c) on the
 * same text and counts where it disagrees with this one (avro_diff.h);
 * test_streaming_agrees, at the end, requires that it never did. */
static int diff_compared, diff_disagreed, diff_skipped;

static void diff_one(const sluice_avro_node *schema, const char *json)
{
    json_avro *plan = NULL;
    sluice_error err = {0};
    if (json_avro_compile(schema, &plan, &err) != 0) {
        fprintf(stderr, "streaming: schema does not compile: %s\n", err.msg);
        diff_disagreed++;
        return;
    }
    char why[2048];
    int v = avro_diff_check(schema, plan, json, strlen(json), why, sizeof why);
    json_avro_free(plan);
    diff_compared++;
    if (v == AVRO_DIFF_SKIPPED) diff_skipped++;
    if (v == AVRO_DIFF_DISAGREE) {
        diff_disagreed++;
        fprintf(stderr, "streaming disagrees on %.300s\n  %s\n", json, why);
    }
}

/* ---- helpers -------------------------------------------------------------------- */

#define MAX_SCHEMAS 256
static sluice_avro_schema *schemas[MAX_SCHEMAS];
static int n_schemas;

/* Parses a schema kept until the end of the run; NULL (and a message) on failure. */
static const sluice_avro_node *S(const char *text)
{
    sluice_avro_schema *s = NULL;
    sluice_error err = {0};
    if (sluice_avro_schema_parse(text, strlen(text), &s, &err) != 0) {
        fprintf(stderr, "schema does not parse: %s\n  %s\n", err.msg, text);
        return NULL;
    }
    if (n_schemas < MAX_SCHEMAS) schemas[n_schemas++] = s;
    return sluice_avro_schema_root(s);
}

static json_t *J(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v) fprintf(stderr, "test JSON does not parse: %s\n  %s\n", jerr.text, text);
    return v;
}

static char hex_out[4096];

/* Encodes json against schema; returns the bytes as "02 0a ..." or
 * "ERROR n: path: message | path: message" (static). */
static const char *enc(const sluice_avro_node *schema, const char *json)
{
    if (!schema) return "(no schema)";
    json_t *v = J(json);
    if (!v) return "(bad test JSON)";
    diff_one(schema, json);
    buf out;
    buf_init(&out, 1 << 20);
    avro_json_errors errs;
    int rc = avro_json_encode(schema, v, &out, &errs);
    json_decref(v);
    size_t len = 0;
    if (rc == 0) {
        for (size_t i = 0; i < out.len && len + 4 < sizeof hex_out; i++)
            len += (size_t)snprintf(hex_out + len, sizeof hex_out - len, "%s%02x", i ? " " : "",
                                    out.data[i]);
        hex_out[len] = '\0';
        if (errs.n != 0) snprintf(hex_out, sizeof hex_out, "(success but %d errors)", errs.n);
    } else {
        len = (size_t)snprintf(hex_out, sizeof hex_out, "ERROR %d%s:", rc,
                               errs.truncated ? " truncated" : "");
        for (int i = 0; i < errs.n && len < sizeof hex_out; i++)
            len += (size_t)snprintf(hex_out + len, sizeof hex_out - len, "%s %s: %s", i ? " |" : "",
                                    errs.items[i].path, errs.items[i].message);
        if (out.len != 0) snprintf(hex_out, sizeof hex_out, "(error but out not rolled back)");
    }
    buf_free(&out);
    return hex_out;
}

static char dec_out[1 << 16];

/* Decodes hex ("02 0a") against schema; returns the JSON text or
 * "ERROR n: message" (static). */
static const char *dec_bytes(const sluice_avro_node *schema, const uint8_t *data, size_t n,
                             avro_json_style style)
{
    if (!schema) return "(no schema)";
    buf out;
    buf_init(&out, sizeof dec_out - 1);
    sluice_error err = {0};
    int rc = avro_json_decode(schema, data, n, style, &out, &err);
    if (rc == 0) {
        memcpy(dec_out, out.data ? (char *)out.data : "", out.len);
        dec_out[out.len] = '\0';
    } else {
        snprintf(dec_out, sizeof dec_out, "ERROR %d: %s", rc, err.msg);
        if (err.code != rc || out.len != 0)
            snprintf(dec_out, sizeof dec_out, "(error %d but err.code %d, out.len %zu)", rc,
                     err.code, out.len);
    }
    buf_free(&out);
    return dec_out;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex && n < cap) {
        while (*hex == ' ')
            hex++;
        if (!*hex) break;
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

static const char *dec(const sluice_avro_node *schema, const char *hex, avro_json_style style)
{
    uint8_t data[4096];
    size_t n = unhex(hex, data, sizeof data);
    return dec_bytes(schema, data, n, style);
}

#define PLAIN AVRO_JSON_PLAIN
#define AVRO AVRO_JSON_AVRO

/* ---- primitives ----------------------------------------------------------------- */

static void test_null_boolean(void)
{
    const sluice_avro_node *n = S("\"null\""), *b = S("\"boolean\"");
    CHECK_STR(enc(n, "null"), "");
    CHECK_STR(enc(b, "true"), "01");
    CHECK_STR(enc(b, "false"), "00");
    CHECK_STR(dec(n, "", AVRO), "null");
    CHECK_STR(dec(b, "01", AVRO), "true");
    CHECK_STR(dec(b, "00", PLAIN), "false");
    CHECK_STR(enc(n, "0"), "ERROR -1: $: expected null, got integer");
    CHECK_STR(enc(b, "1"), "ERROR -1: $: expected boolean, got integer");
    CHECK_STR(enc(b, "\"true\""), "ERROR -1: $: expected boolean, got string");
}

static void test_int_long(void)
{
    const sluice_avro_node *i = S("\"int\""), *l = S("\"long\"");
    /* zigzag: 0→0, -1→1, 1→2, -64→127, 64→128 = 80 01 */
    CHECK_STR(enc(i, "0"), "00");
    CHECK_STR(enc(i, "-1"), "01");
    CHECK_STR(enc(i, "1"), "02");
    CHECK_STR(enc(i, "-64"), "7f");
    CHECK_STR(enc(i, "64"), "80 01");
    CHECK_STR(enc(i, "2147483647"), "fe ff ff ff 0f");
    CHECK_STR(enc(i, "-2147483648"), "ff ff ff ff 0f");
    CHECK_STR(enc(l, "-1"), "01");
    CHECK_STR(enc(l, "64"), "80 01");
    CHECK_STR(enc(l, "-65"), "81 01");
    CHECK_STR(enc(l, "150"), "ac 02");
    CHECK_STR(enc(l, "9223372036854775807"), "fe ff ff ff ff ff ff ff ff 01");
    CHECK_STR(enc(l, "-9223372036854775808"), "ff ff ff ff ff ff ff ff ff 01");

    CHECK_STR(dec(l, "fe ff ff ff ff ff ff ff ff 01", AVRO), "9223372036854775807");
    CHECK_STR(dec(l, "ff ff ff ff ff ff ff ff ff 01", AVRO), "-9223372036854775808");
    CHECK_STR(dec(i, "ff ff ff ff 0f", AVRO), "-2147483648");
    CHECK_STR(dec(l, "81 01", AVRO), "-65");
    /* A longer-than-needed varint is still a varint (the spec allows it). */
    CHECK_STR(dec(l, "80 80 00", AVRO), "0");

    CHECK_STR(enc(i, "3000000000"), "ERROR -1: $: 3000000000 does not fit in int (32-bit)");
    CHECK_STR(enc(i, "-2147483649"), "ERROR -1: $: -2147483649 does not fit in int (32-bit)");
    CHECK_STR(enc(i, "1.5"), "ERROR -1: $: expected int, got number");
    CHECK_STR(enc(l, "\"5\""), "ERROR -1: $: expected long, got string");
    CHECK_STR(enc(l, "2.0"), "ERROR -1: $: expected long, got number");
}

static void test_float_double(void)
{
    const sluice_avro_node *f = S("\"float\""), *d = S("\"double\"");
    /* IEEE 754 little-endian: 1.5f = 0x3fc00000, -2.0f = 0xc0000000,
     * 1.0 = 0x3ff0000000000000, -0.5 = 0xbfe0000000000000. */
    CHECK_STR(enc(f, "1.5"), "00 00 c0 3f");
    CHECK_STR(enc(f, "-2"), "00 00 00 c0");
    CHECK_STR(enc(f, "0.1"), "cd cc cc 3d");
    CHECK_STR(enc(d, "1"), "00 00 00 00 00 00 f0 3f");
    CHECK_STR(enc(d, "-0.5"), "00 00 00 00 00 00 e0 bf");
    CHECK_STR(enc(d, "0.1"), "9a 99 99 99 99 99 b9 3f");
    CHECK_STR(enc(d, "-0.0"), "00 00 00 00 00 00 00 80");
    CHECK_STR(enc(d, "\"NaN\""), "00 00 00 00 00 00 f8 7f");
    CHECK_STR(enc(d, "\"Infinity\""), "00 00 00 00 00 00 f0 7f");
    CHECK_STR(enc(d, "\"-Infinity\""), "00 00 00 00 00 00 f0 ff");
    CHECK_STR(enc(f, "\"NaN\""), "00 00 c0 7f");
    CHECK_STR(enc(f, "\"-Infinity\""), "00 00 80 ff");
    CHECK_STR(enc(f, "1e39"), "ERROR -1: $: 1e+39 is out of range for float");
    CHECK_STR(enc(f, "3.4028235e38"), "ff ff 7f 7f"); /* FLT_MAX */
    CHECK_STR(enc(d, "\"1.5\""), "ERROR -1: $: expected double, got string");
    CHECK_STR(enc(d, "true"), "ERROR -1: $: expected double, got boolean");

    /* Shortest text that reads back to the same bits, always a JSON real. */
    CHECK_STR(dec(d, "9a 99 99 99 99 99 b9 3f", AVRO), "0.1");
    CHECK_STR(dec(d, "00 00 00 00 00 00 f0 3f", AVRO), "1.0");
    CHECK_STR(dec(d, "00 00 00 00 00 00 00 80", AVRO), "-0.0");
    CHECK_STR(dec(d, "55 55 55 55 55 55 d5 3f", AVRO),
              "0.3333333333333333"); /* 1/3: 16 digits suffice */
    CHECK_STR(dec(d, "01 00 00 00 00 00 00 00", AVRO),
              "4.94065645841247e-324"); /* the smallest subnormal */
    CHECK_STR(dec(d, "00 00 00 00 00 00 f8 7f", AVRO), "\"NaN\"");
    CHECK_STR(dec(d, "00 00 00 00 00 00 f0 ff", PLAIN), "\"-Infinity\"");
    CHECK_STR(dec(f, "cd cc cc 3d", AVRO), "0.1");
    CHECK_STR(dec(f, "00 00 c0 3f", AVRO), "1.5");
    CHECK_STR(dec(f, "ff ff 7f 7f", AVRO), "3.4028235e+38"); /* FLT_MAX, 8 digits */
    CHECK_STR(dec(f, "00 00 80 7f", AVRO), "\"Infinity\"");

    /* Every decoded double reads back to its bits. */
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int k = 0; k < 2000; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, 8);
        if (!isfinite(v)) continue;
        uint8_t b[8];
        for (int j = 0; j < 8; j++)
            b[j] = (uint8_t)(x >> (8 * j));
        const char *text = dec_bytes(d, b, 8, AVRO);
        double back = strtod(text, NULL);
        CHECK(memcmp(&back, &v, 8) == 0);
        CHECK(strlen(text) <= 24);
        float fv;
        memcpy(&fv, b, 4);
        if (!isfinite(fv)) continue;
        text = dec_bytes(f, b, 4, AVRO);
        CHECK((float)strtod(text, NULL) == fv);
    }
}

static void test_bytes_string(void)
{
    const sluice_avro_node *b = S("\"bytes\""), *s = S("\"string\"");
    CHECK_STR(enc(s, "\"foo\""), "06 66 6f 6f");
    CHECK_STR(enc(s, "\"\""), "00");
    CHECK_STR(enc(s, "\"\\u00e9\""), "04 c3 a9");        /* é in UTF-8 */
    CHECK_STR(enc(s, "\"a\\u0000b\""), "06 61 00 62");   /* NUL kept */
    CHECK_STR(enc(b, "\"\\u0000\\u00ff\""), "04 00 ff"); /* code points are bytes */
    CHECK_STR(enc(b, "\"A\\u0080\""), "04 41 80");
    CHECK_STR(enc(b, "\"\\u0100\""),
              "ERROR -1: $: bytes must be a string of code points 0-255, got a character "
              "above \\u00ff");
    CHECK_STR(enc(s, "5"), "ERROR -1: $: expected string, got integer");
    CHECK_STR(enc(b, "[1]"), "ERROR -1: $: expected bytes, got array");

    CHECK_STR(dec(s, "06 66 6f 6f", AVRO), "\"foo\"");
    CHECK_STR(dec(s, "04 c3 a9", AVRO), "\"\xc3\xa9\"");
    CHECK_STR(dec(s, "08 22 5c 0a 01", AVRO), "\"\\\"\\\\\\n\\u0001\"");
    /* bytes: printable ASCII as is, the rest as \u00XX */
    CHECK_STR(dec(b, "0a 00 ff 22 5c 7f", AVRO), "\"\\u0000\\u00ff\\\"\\\\\\u007f\"");
    CHECK_STR(dec(b, "00", PLAIN), "\"\"");
}

static void test_enum_fixed(void)
{
    const sluice_avro_node *e =
        S("{\"type\":\"enum\",\"name\":\"Status\",\"symbols\":[\"ACTIVE\",\"CLOSED\",\"GONE\"]}");
    const sluice_avro_node *f = S("{\"type\":\"fixed\",\"name\":\"Id\",\"size\":3}");
    CHECK_STR(enc(e, "\"ACTIVE\""), "00");
    CHECK_STR(enc(e, "\"GONE\""), "04");
    CHECK_STR(enc(e, "\"PAUSED\""),
              "ERROR -1: $: 'PAUSED' is not a symbol of enum Status (ACTIVE, CLOSED, GONE)");
    CHECK_STR(enc(e, "\"ACTIV\""),
              "ERROR -1: $: 'ACTIV' is not a symbol of enum Status (ACTIVE, CLOSED, GONE)");
    CHECK_STR(enc(e, "1"), "ERROR -1: $: expected enum Status, got integer");
    CHECK_STR(enc(f, "\"abc\""), "61 62 63");
    CHECK_STR(enc(f, "\"\\u0000\\u00ff\\u0001\""), "00 ff 01");
    CHECK_STR(enc(f, "\"ab\""), "ERROR -1: $: fixed Id needs 3 bytes, got 2");
    CHECK_STR(dec(e, "02", AVRO), "\"CLOSED\"");
    CHECK_STR(dec(f, "61 00 ff", AVRO), "\"a\\u0000\\u00ff\"");
}

static void test_array_map(void)
{
    const sluice_avro_node *a = S("{\"type\":\"array\",\"items\":\"long\"}");
    const sluice_avro_node *m = S("{\"type\":\"map\",\"values\":\"long\"}");
    /* One block with a positive count, then the 0 terminator. */
    CHECK_STR(enc(a, "[1,2]"), "04 02 04 00");
    CHECK_STR(enc(a, "[]"), "00");
    CHECK_STR(enc(m, "{\"a\":1}"), "02 02 61 02 00");
    CHECK_STR(enc(m, "{\"a\":1,\"bc\":-1}"), "04 02 61 02 04 62 63 01 00");
    CHECK_STR(enc(m, "{}"), "00");
    CHECK_STR(enc(a, "[1,\"x\",3,true]"),
              "ERROR -1: $[1]: expected long, got string | $[3]: expected long, got boolean");
    CHECK_STR(enc(m, "{\"k\":\"v\"}"), "ERROR -1: $[\"k\"]: expected long, got string");
    CHECK_STR(enc(a, "{}"), "ERROR -1: $: expected array, got object");
    CHECK_STR(enc(m, "[]"), "ERROR -1: $: expected map, got array");

    CHECK_STR(dec(a, "04 02 04 00", AVRO), "[1,2]");
    CHECK_STR(dec(a, "00", AVRO), "[]");
    CHECK_STR(dec(m, "04 02 61 02 04 62 63 01 00", AVRO), "{\"a\":1,\"bc\":-1}");
    /* Several blocks, and a negative count followed by the block's byte
     * size (spec, "Arrays": -2 items in 2 bytes). */
    CHECK_STR(dec(a, "02 02 02 04 00", AVRO), "[1,2]");
    CHECK_STR(dec(a, "03 04 02 04 02 06 00", AVRO), "[1,2,3]");
    CHECK_STR(dec(m, "01 06 02 61 02 00", AVRO), "{\"a\":1}");
}

static void test_record(void)
{
    const sluice_avro_node *r = S("{\"type\":\"record\",\"name\":\"Event\",\"fields\":["
                                  "{\"name\":\"a\",\"type\":\"long\"},"
                                  "{\"name\":\"b\",\"type\":\"string\"}]}");
    /* Fields in schema order, whatever the JSON order. */
    CHECK_STR(enc(r, "{\"a\":1,\"b\":\"x\"}"), "02 02 78");
    CHECK_STR(enc(r, "{\"b\":\"x\",\"a\":1}"), "02 02 78");
    CHECK_STR(dec(r, "02 02 78", AVRO), "{\"a\":1,\"b\":\"x\"}");
    CHECK_STR(enc(r, "{\"a\":1}"), "ERROR -1: $.b: missing required field (no default)");
    CHECK_STR(enc(r, "{\"a\":1,\"b\":\"x\",\"extra\":2}"),
              "ERROR -1: $.extra: unknown field, not in record Event");
    CHECK_STR(enc(r, "{\"a\":\"1\",\"zz\":0}"),
              "ERROR -1: $.a: expected long, got string | $.b: missing required field (no "
              "default) | $.zz: unknown field, not in record Event");
    CHECK_STR(enc(r, "[]"), "ERROR -1: $: expected record Event, got array");
}

/* The header's examples, each with its path. */
static void test_error_paths(void)
{
    const sluice_avro_node *r =
        S("{\"type\":\"record\",\"name\":\"Order\",\"fields\":["
          "{\"name\":\"user\",\"type\":{\"type\":\"record\",\"name\":\"User\",\"fields\":["
          "  {\"name\":\"age\",\"type\":\"int\"}]}},"
          "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","
          "  \"name\":\"Item\",\"fields\":[{\"name\":\"sku\",\"type\":\"string\"}]}}},"
          "{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"Status\","
          "  \"symbols\":[\"ACTIVE\",\"CLOSED\"]}},"
          "{\"name\":\"count\",\"type\":\"int\"},"
          "{\"name\":\"id\",\"type\":{\"type\":\"fixed\",\"name\":\"Id\",\"size\":16}},"
          "{\"name\":\"payload\",\"type\":[\"null\",\"string\",{\"type\":\"record\",\"name\":"
          "  \"Rec\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}]},"
          "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"int\"}}]}");
    CHECK_STR(enc(r, "{\"user\":{\"age\":\"x\"},"
                     "\"items\":[{\"sku\":\"a\"},{\"sku\":\"b\"},{\"sku\":\"c\"},{}],"
                     "\"status\":\"PAUSED\",\"count\":3000000000,"
                     "\"id\":\"0123456789abcde\",\"payload\":[1],\"attrs\":{\"k\\\"1\":true}}"),
              "ERROR -1: $.user.age: expected int, got string"
              " | $.items[3].sku: missing required field (no default)"
              " | $.status: 'PAUSED' is not a symbol of enum Status (ACTIVE, CLOSED)"
              " | $.count: 3000000000 does not fit in int (32-bit)"
              " | $.id: fixed Id needs 16 bytes, got 15"
              " | $.payload: union [null, string, Rec] has no branch for a JSON array"
              " | $.attrs[\"k\"1\"]: expected int, got boolean");
}

static void test_error_list_bound(void)
{
    const sluice_avro_node *a = S("{\"type\":\"array\",\"items\":\"int\"}");
    char json[512] = "[";
    for (int i = 0; i < 40; i++)
        strcat(json, i ? ",\"x\"" : "\"x\"");
    strcat(json, "]");
    json_t *v = J(json);
    CHECK(v != NULL);
    buf out;
    buf_init(&out, 1024);
    avro_json_errors errs;
    CHECK_EQ(avro_json_encode(a, v, &out, &errs), SLUICE_EINVAL);
    CHECK_EQ(errs.n, AVRO_JSON_MAX_ERRORS);
    CHECK_EQ(errs.truncated, 1);
    CHECK_STR(errs.items[15].path, "$[15]");
    CHECK_EQ(out.len, 0);
    /* errs may be NULL: the call still fails and rolls back. */
    CHECK_EQ(avro_json_encode(a, v, &out, NULL), SLUICE_EINVAL);
    CHECK_EQ(out.len, 0);
    json_decref(v);
    buf_free(&out);
}

static void test_rollback(void)
{
    const sluice_avro_node *r = S("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                                  "{\"name\":\"s\",\"type\":\"string\"},"
                                  "{\"name\":\"n\",\"type\":\"int\"}]}");
    buf out;
    buf_init(&out, 64);
    CHECK_EQ(buf_append(&out, "XYZ", 3), 0);
    json_t *bad = J("{\"s\":\"hello\",\"n\":\"oops\"}");
    avro_json_errors errs;
    CHECK_EQ(avro_json_encode(r, bad, &out, &errs), SLUICE_EINVAL);
    CHECK_EQ(out.len, 3);
    CHECK(memcmp(out.data, "XYZ", 3) == 0);
    json_decref(bad);

    /* Appends after what was there. */
    json_t *good = J("{\"s\":\"hi\",\"n\":1}");
    CHECK_EQ(avro_json_encode(r, good, &out, &errs), 0);
    CHECK_EQ(out.len, 7);
    CHECK(memcmp(out.data, "XYZ\x04hi\x02", 7) == 0);
    json_decref(good);

    /* The cap: SLUICE_ENOMEM, rolled back, and said where. */
    json_t *big = J("{\"s\":\"0123456789012345678901234567890123456789012345678901234567890\","
                    "\"n\":1}");
    CHECK_EQ(avro_json_encode(r, big, &out, &errs), SLUICE_ENOMEM);
    CHECK_EQ(out.len, 7);
    CHECK_EQ(errs.n, 1);
    CHECK_STR(errs.items[0].path, "$.s");
    CHECK_CONTAINS(errs.items[0].message, "exceeds the output cap of 64 bytes");
    json_decref(big);
    buf_free(&out);

    /* Decode rolls back too. */
    buf_init(&out, 1024);
    CHECK_EQ(buf_append(&out, "XYZ", 3), 0);
    const uint8_t bytes[] = {0x04, 'h', 'i', 0x80};
    sluice_error err = {0};
    CHECK_EQ(avro_json_decode(r, bytes, sizeof bytes, AVRO_JSON_AVRO, &out, &err), SLUICE_EINVAL);
    CHECK_EQ(out.len, 3);
    CHECK_STR(err.msg, "offset 3, $.n: truncated varint");
    buf_free(&out);

    /* The decoder's output cap. */
    buf_init(&out, 16);
    const uint8_t longer[] = {0x1e, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
                              'i',  'j', 'k', 'l', 'm', 'n', 'o', 0x02};
    CHECK_EQ(avro_json_decode(r, longer, sizeof longer, AVRO_JSON_AVRO, &out, &err), SLUICE_ENOMEM);
    CHECK_STR(err.msg, "offset 16, $.s: JSON output exceeds its cap of 16 bytes");
    CHECK_EQ(out.len, 0);
    buf_free(&out);
}

/* ---- logical types -------------------------------------------------------------- */

static void test_logical_dates(void)
{
    const sluice_avro_node *date = S("{\"type\":\"int\",\"logicalType\":\"date\"}");
    const sluice_avro_node *tm = S("{\"type\":\"int\",\"logicalType\":\"time-millis\"}");
    const sluice_avro_node *tu = S("{\"type\":\"long\",\"logicalType\":\"time-micros\"}");
    const sluice_avro_node *tsm = S("{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}");
    const sluice_avro_node *tsu = S("{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}");
    const sluice_avro_node *lts =
        S("{\"type\":\"long\",\"logicalType\":\"local-timestamp-millis\"}");
    const sluice_avro_node *ltu =
        S("{\"type\":\"long\",\"logicalType\":\"local-timestamp-micros\"}");

    /* Integers pass through as the underlying type. */
    CHECK_STR(enc(date, "20779"), "d6 c4 02");
    CHECK_STR(enc(tsm, "-1"), "01");
    /* date(2026,11,22) - date(1970,1,1) = 20779 days → zigzag 41558 = d6 c4 02 */
    CHECK_STR(enc(date, "\"2026-11-22\""), "d6 c4 02");
    CHECK_STR(enc(date, "\"1969-12-31\""), "01");       /* -1 */
    CHECK_STR(enc(date, "\"2000-02-29\""), "90 ac 01"); /* 11016, leap day */
    CHECK_STR(enc(date, "\"1970-01-01\""), "00");
    /* 12:34:56.789 = 45296789 ms → aa b2 99 2b */
    CHECK_STR(enc(tm, "\"12:34:56.789\""), "aa b2 99 2b");
    CHECK_STR(enc(tm, "\"12:34:56.789Z\""), "aa b2 99 2b");
    /* 01:30+02:00 is 23:30 UTC the day before: 84600000 ms */
    CHECK_STR(enc(tm, "\"01:30:00+02:00\""), "80 93 d7 50");
    /* 12:34:56.789012 = 45296789012 us */
    CHECK_STR(enc(tu, "\"12:34:56.789012\""), "a8 98 b1 be d1 02");
    /* 2026-11-22T20:12:01.123Z = 1795378321123 ms */
    CHECK_STR(enc(tsm, "\"2026-11-22T20:12:01.123Z\""), "c6 db 98 ce c0 68");
    CHECK_STR(enc(tsm, "\"2026-11-22T20:12:01.123000Z\""), "c6 db 98 ce c0 68");
    /* 2026-11-22T20:12:01-05:30 = 1795398121000 ms */
    CHECK_STR(enc(tsm, "\"2026-11-22T20:12:01-05:30\""), "d0 d8 89 e1 c0 68");
    CHECK_STR(enc(tsm, "\"1969-12-31T23:59:59.999Z\""), "01");
    /* 2026-11-22T20:12:01.123456+02:00 = 1795371121123456 us */
    CHECK_STR(enc(tsu, "\"2026-11-22T20:12:01.123456+02:00\""), "80 82 d1 9e ad b8 b0 06");
    /* local 2026-01-02T03:04:05.006 = 1767323045006 ms */
    CHECK_STR(enc(lts, "\"2026-01-02T03:04:05.006\""), "9c b2 cc ca ef 66");
    CHECK_STR(enc(ltu, "\"1970-01-01T00:00:00.000001\""), "02");

    CHECK_STR(enc(date, "\"2026-02-29\""),
              "ERROR -1: $: '2026-02-29' is not a valid date: day out of range (expected "
              "YYYY-MM-DD)");
    CHECK_STR(enc(date, "\"2026-13-01\""),
              "ERROR -1: $: '2026-13-01' is not a valid date: month out of range (expected "
              "YYYY-MM-DD)");
    CHECK_STR(enc(date, "\"2026-1-01\""),
              "ERROR -1: $: '2026-1-01' is not a valid date: bad syntax (expected YYYY-MM-DD)");
    CHECK_STR(enc(date, "\"2026-01-01T00:00:00Z\""),
              "ERROR -1: $: '2026-01-01T00:00:00Z' is not a valid date: bad syntax (expected "
              "YYYY-MM-DD)");
    CHECK_STR(enc(tsm, "\"2026-11-22T20:12:01\""),
              "ERROR -1: $: '2026-11-22T20:12:01' is not a valid timestamp-millis: offset "
              "required (Z or +HH:MM) (expected YYYY-MM-DDTHH:MM:SS[.fff]Z or +HH:MM)");
    CHECK_STR(enc(tsm, "\"2026-11-22T20:12:01.1234Z\""),
              "ERROR -1: $: '2026-11-22T20:12:01.1234Z' is not a valid timestamp-millis: finer "
              "than milliseconds (expected YYYY-MM-DDTHH:MM:SS[.fff]Z or +HH:MM)");
    CHECK_STR(enc(tsu, "\"2026-11-22T20:12:01.1234567Z\""),
              "ERROR -1: $: '2026-11-22T20:12:01.1234567Z' is not a valid timestamp-micros: "
              "finer than microseconds (expected YYYY-MM-DDTHH:MM:SS[.fff]Z or +HH:MM)");
    CHECK_STR(enc(tsm, "\"2026-11-22T24:00:00Z\""),
              "ERROR -1: $: '2026-11-22T24:00:00Z' is not a valid timestamp-millis: hour out "
              "of range (expected YYYY-MM-DDTHH:MM:SS[.fff]Z or +HH:MM)");
    CHECK_STR(enc(tsm, "\"2026-11-22T20:60:00Z\""),
              "ERROR -1: $: '2026-11-22T20:60:00Z' is not a valid timestamp-millis: minute out "
              "of range (expected YYYY-MM-DDTHH:MM:SS[.fff]Z or +HH:MM)");
    CHECK_STR(enc(tsm, "\"2026-11-22T20:00:60Z\""),
              "ERROR -1: $: '2026-11-22T20:00:60Z' is not a valid timestamp-millis: second out "
              "of range (expected YYYY-MM-DDTHH:MM:SS[.fff]Z or +HH:MM)");
    CHECK_STR(enc(tsm, "\"2026-11-22T20:00:00+24:00\""),
              "ERROR -1: $: '2026-11-22T20:00:00+24:00' is not a valid timestamp-millis: offset "
              "out of range (expected YYYY-MM-DDTHH:MM:SS[.fff]Z or +HH:MM)");
    CHECK_STR(enc(tsm, "\"2026-11-22 20:00:00Z\""),
              "ERROR -1: $: '2026-11-22 20:00:00Z' is not a valid timestamp-millis: bad syntax "
              "(expected YYYY-MM-DDTHH:MM:SS[.fff]Z or +HH:MM)");
    CHECK_STR(enc(tsm, "\"2026-11-22T20:00:00.Z\""),
              "ERROR -1: $: '2026-11-22T20:00:00.Z' is not a valid timestamp-millis: bad syntax "
              "(expected YYYY-MM-DDTHH:MM:SS[.fff]Z or +HH:MM)");
    CHECK_STR(enc(lts, "\"2026-01-02T03:04:05Z\""),
              "ERROR -1: $: '2026-01-02T03:04:05Z' is not a valid local-timestamp-millis: a "
              "local timestamp has no offset (expected YYYY-MM-DDTHH:MM:SS[.fff], no offset)");
    CHECK_STR(enc(tm, "\"25:00:00\""),
              "ERROR -1: $: '25:00:00' is not a valid time-millis: hour out of range (expected "
              "HH:MM:SS[.fff][Z|+HH:MM])");
    CHECK_STR(enc(tsm, "true"), "ERROR -1: $: expected timestamp-millis, got boolean");
    CHECK_STR(enc(date, "\"9999-12-31\""), "c0 82 e6 02"); /* 2932896 days */

    /* Decoding gives the numbers. */
    CHECK_STR(dec(tsm, "c6 db 98 ce c0 68", AVRO), "1795378321123");
    CHECK_STR(dec(date, "d6 c4 02", PLAIN), "20779");
}

static void test_logical_uuid(void)
{
    const sluice_avro_node *u = S("{\"type\":\"string\",\"logicalType\":\"uuid\"}");
    CHECK_STR(enc(u, "\"123e4567-e89b-12d3-a456-426614174000\""),
              "48 31 32 33 65 34 35 36 37 2d 65 38 39 62 2d 31 32 64 33 2d 61 34 35 36 2d 34 32 "
              "36 36 31 34 31 37 34 30 30 30");
    CHECK_STR(enc(u, "\"123E4567-E89B-12D3-A456-426614174000\""),
              "48 31 32 33 45 34 35 36 37 2d 45 38 39 42 2d 31 32 44 33 2d 41 34 35 36 2d 34 32 "
              "36 36 31 34 31 37 34 30 30 30");
    CHECK_STR(enc(u, "\"123e4567e89b12d3a456426614174000\""),
              "ERROR -1: $: '123e4567e89b12d3a456426614174000' is not a UUID (expected 8-4-4-4-12 "
              "hex digits)");
    CHECK_STR(enc(u, "\"123e4567-e89b-12d3-a456-42661417400g\""),
              "ERROR -1: $: '123e4567-e89b-12d3-a456-42661417400g' is not a UUID (expected "
              "8-4-4-4-12 hex digits)");
    CHECK_STR(enc(u, "7"), "ERROR -1: $: expected uuid, got integer");
}

static void test_logical_decimal(void)
{
    const sluice_avro_node *d2 =
        S("{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}");
    const sluice_avro_node *d0 =
        S("{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":30,\"scale\":0}");
    const sluice_avro_node *f4 = S("{\"type\":\"fixed\",\"name\":\"Money\",\"size\":4,"
                                   "\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}");
    /* Unscaled value in big-endian two's complement, as few bytes as keep
     * the sign: 1234 = 04 d2; 128 = 00 80; -128 = 80; -129 = ff 7f. */
    CHECK_STR(enc(d2, "\"12.34\""), "04 04 d2");
    CHECK_STR(enc(d2, "12.34"), "04 04 d2");
    CHECK_STR(enc(d2, "12.5"), "04 04 e2");
    CHECK_STR(enc(d2, "\"12.5\""), "04 04 e2");
    CHECK_STR(enc(d2, "12"), "04 04 b0"); /* 1200 */
    CHECK_STR(enc(d2, "\"0.01\""), "02 01");
    CHECK_STR(enc(d2, "0.1"), "02 0a"); /* through a double, exact at 15 digits */
    CHECK_STR(enc(d0, "0"), "02 00");
    CHECK_STR(enc(d0, "\"-0\""), "02 00");
    CHECK_STR(enc(d0, "\"-1\""), "02 ff");
    CHECK_STR(enc(d0, "127"), "02 7f");
    CHECK_STR(enc(d0, "128"), "04 00 80");
    CHECK_STR(enc(d0, "-128"), "02 80");
    CHECK_STR(enc(d0, "-129"), "04 ff 7f");
    CHECK_STR(enc(d0, "\"1.5e2\""), "04 00 96");
    CHECK_STR(enc(d0, "\"+150\""), "04 00 96");
    CHECK_STR(enc(d0, "\"1500e-1\""), "04 00 96");
    CHECK_STR(enc(d0, "\"0.000\""), "02 00");
    /* 10^20 = 0x56bc75e2d63100000 (9 bytes) */
    CHECK_STR(enc(d0, "\"100000000000000000000\""), "12 05 6b c7 5e 2d 63 10 00 00");
    CHECK_STR(enc(d0, "\"-100000000000000000000\""), "12 fa 94 38 a1 d2 9c f0 00 00");
    CHECK_STR(enc(d0, "-9223372036854775808"), "10 80 00 00 00 00 00 00 00");
    /* fixed: sign-extended to the size */
    CHECK_STR(enc(f4, "\"-1.00\""), "ff ff ff 9c");
    CHECK_STR(enc(f4, "\"1.00\""), "00 00 00 64");
    CHECK_STR(enc(f4, "\"9999999.99\""), "3b 9a c9 ff");
    /* Avro's JSON encoding: raw two's-complement bytes as code points. */
    CHECK_STR(enc(d2, "\"\\u0004\\u00d2\""), "04 04 d2");
    CHECK_STR(enc(f4, "\"\\u00ff\\u00ff\\u00ff\\u009c\""), "ff ff ff 9c");
    CHECK_STR(enc(d2, "\"\""), "00");

    CHECK_STR(enc(d2, "\"12.345\""),
              "ERROR -1: $: '12.345' cannot be represented exactly with scale 2");
    CHECK_STR(enc(d2, "12.345"),
              "ERROR -1: $: '12.345' cannot be represented exactly with scale 2");
    CHECK_STR(enc(d2, "\"12.340\""), "04 04 d2"); /* trailing zeros are exact */
    CHECK_STR(enc(d2, "\"10000000.00\""),
              "ERROR -1: $: '10000000.00' has 10 digits at scale 2, more than precision 9");
    CHECK_STR(enc(d0, "\"1e30\""),
              "ERROR -1: $: '1e30' has 31 digits at scale 0, more than precision 30");
    CHECK_STR(enc(d0, "\"1e999999999999\""),
              "ERROR -1: $: '1e999999999999' has an exponent out of range");
    CHECK_STR(enc(d0, "\"0e999999999\""), "02 00");
    CHECK_STR(enc(d0, "\"1e-999999999\""),
              "ERROR -1: $: '1e-999999999' cannot be represented exactly with scale 0");
    CHECK_STR(enc(d2, "true"), "ERROR -1: $: expected decimal, got boolean");
    CHECK_STR(enc(f4, "\"\\u00ff\""), "ERROR -1: $: fixed Money needs 4 bytes, got 1");

    /* Decoding gives Avro's JSON encoding of the bytes. */
    CHECK_STR(dec(d2, "04 04 d2", AVRO), "\"\\u0004\\u00d2\"");
    CHECK_STR(dec(f4, "ff ff ff 9c", AVRO), "\"\\u00ff\\u00ff\\u00ff\\u009c\"");
}

static void test_decimal_huge_precision(void)
{
    /* A schema may allow more digits than the encoder converts; the bound
     * is an error, not a slow path. */
    const sluice_avro_node *big =
        S("{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":100000,\"scale\":0}");
    char json[1200];
    json[0] = '"';
    json[1] = '1';
    memset(json + 2, '0', 1000);
    strcpy(json + 1002, "\"");
    CHECK_STR(enc(big, json),
              "ERROR -1: $: '1000000000000000000000000000000000000000' is too large for a "
              "decimal (at most 256 bytes)");
    /* 600 digits fit: 10^599 has 1990 bits, so 249 bytes with the sign. */
    json[601] = '"';
    json[602] = '\0';
    const char *r = enc(big, json);
    CHECK(strncmp(r, "ERROR", 5) != 0);
    CHECK_EQ(strlen(r), (2 + 249) * 3 - 1); /* length 249 = f2 03, then 249 bytes */
    CHECK(strncmp(r, "f2 03 ", 6) == 0);
}

static void test_duration_plain_fixed(void)
{
    const sluice_avro_node *d = S("{\"type\":\"fixed\",\"name\":\"D\",\"size\":12,"
                                  "\"logicalType\":\"duration\"}");
    CHECK_STR(enc(d, "\"\\u0001\\u0000\\u0000\\u0000\\u0002\\u0000\\u0000\\u0000\\u0003\\u0000"
                     "\\u0000\\u0000\""),
              "01 00 00 00 02 00 00 00 03 00 00 00");
}

/* ---- defaults -------------------------------------------------------------------- */

static void test_defaults(void)
{
    const sluice_avro_node *r =
        S("{\"type\":\"record\",\"name\":\"D\",\"fields\":["
          "{\"name\":\"n\",\"type\":\"null\",\"default\":null},"
          "{\"name\":\"b\",\"type\":\"boolean\",\"default\":true},"
          "{\"name\":\"i\",\"type\":\"int\",\"default\":-1},"
          "{\"name\":\"l\",\"type\":\"long\",\"default\":64},"
          "{\"name\":\"f\",\"type\":\"float\",\"default\":1.5},"
          "{\"name\":\"d\",\"type\":\"double\",\"default\":1},"
          "{\"name\":\"by\",\"type\":\"bytes\",\"default\":\"\\u00ff\"},"
          "{\"name\":\"s\",\"type\":\"string\",\"default\":\"foo\"},"
          "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]},"
          "  \"default\":\"B\"},"
          "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},"
          "  \"default\":\"ab\"},"
          "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"int\"},\"default\":[1,2]},"
          "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"int\"},\"default\":{\"k\":1}},"
          "{\"name\":\"r\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"fields\":["
          "  {\"name\":\"x\",\"type\":\"int\",\"default\":7},{\"name\":\"y\",\"type\":\"int\"}]},"
          "  \"default\":{\"y\":3}},"
          "{\"name\":\"u1\",\"type\":[\"null\",\"string\"],\"default\":null},"
          "{\"name\":\"u2\",\"type\":[\"string\",\"null\"],\"default\":\"x\"},"
          "{\"name\":\"u3\",\"type\":[\"long\",\"int\"],\"default\":5},"
          "{\"name\":\"dec\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\","
          "  \"precision\":5,\"scale\":2},\"default\":\"12\"}]}");
    CHECK_STR(enc(r, "{}"), "01 01 80 01 00 00 c0 3f 00 00 00 00 00 00 f0 3f 02 ff 06 66 6f 6f "
                            "02 61 62 04 02 04 00 02 02 6b 02 00 0e 06 00 00 02 78 00 0a "
                            "04 31 32");
    /* A default is only for a missing field: explicit values win, and an
     * explicit null is not "missing". */
    CHECK_STR(enc(r, "{\"i\":2,\"u2\":null,\"dec\":\"1.00\"}"),
              "01 04 80 01 00 00 c0 3f 00 00 00 00 00 00 f0 3f 02 ff 06 66 6f 6f "
              "02 61 62 04 02 04 00 02 02 6b 02 00 0e 06 00 02 00 0a 02 64");
    CHECK_STR(enc(r, "{\"s\":null}"), "ERROR -1: $.s: expected string, got null");
}

/* A default used many times in one call is parsed once and copied. The
 * bytes must be the same each time, after other output. */
static void test_default_repeated(void)
{
    const sluice_avro_node *a =
        S("{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"R\",\"fields\":["
          "{\"name\":\"id\",\"type\":\"int\"},"
          "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"},"
          "  \"default\":[\"a\",\"bc\"]}]}}");
    CHECK_STR(enc(a, "[{\"id\":1},{\"id\":2,\"tags\":[]},{\"id\":3},{\"id\":4}]"),
              "08 02 04 02 61 04 62 63 00 04 00 06 04 02 61 04 62 63 00 08 04 02 61 04 62 63 00 "
              "00");
}

/* ---- unions ------------------------------------------------------------------------ */

static void test_union_plain(void)
{
    const sluice_avro_node *u = S("[\"null\",\"int\",\"string\"]");
    CHECK_STR(enc(u, "null"), "00");
    CHECK_STR(enc(u, "5"), "02 0a");
    CHECK_STR(enc(u, "\"x\""), "04 02 78");
    CHECK_STR(enc(u, "true"), "ERROR -1: $: union [null, int, string] has no branch for a JSON "
                              "boolean");
    /* An integer too big for int goes to the first branch it fits. */
    const sluice_avro_node *il = S("[\"int\",\"long\"]");
    CHECK_STR(enc(il, "3000000000"), "02 80 f8 82 ad 16");
    CHECK_STR(enc(il, "1"), "00 02");
    const sluice_avro_node *ld = S("[\"long\",\"double\"]");
    CHECK_STR(enc(ld, "1.5"), "02 00 00 00 00 00 00 f8 3f");
    CHECK_STR(enc(ld, "2"), "00 04");
    const sluice_avro_node *fl = S("[\"float\",\"long\"]"); /* declaration order */
    CHECK_STR(enc(fl, "2"), "00 00 00 00 40");
    /* A real too big for a float is not a float. */
    const sluice_avro_node *fd = S("[\"null\",\"float\",\"double\"]");
    CHECK_STR(enc(fd, "1e300"), "04 9c 75 00 88 3c e4 37 7e");
    CHECK_STR(enc(fd, "1e30"), "02 ca f2 49 71");
    /* bytes take strings of code points 0-255 only. */
    const sluice_avro_node *bs = S("[\"bytes\",\"string\"]");
    CHECK_STR(enc(bs, "\"\\u00e9\""), "00 02 e9");
    CHECK_STR(enc(bs, "\"\\u2603\""), "02 06 e2 98 83");
    /* enum: only its symbols; fixed: only its size. */
    const sluice_avro_node *es =
        S("[{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]},\"string\"]");
    CHECK_STR(enc(es, "\"B\""), "00 02");
    CHECK_STR(enc(es, "\"Z\""), "02 02 5a");
    const sluice_avro_node *fs = S("[{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},\"string\"]");
    CHECK_STR(enc(fs, "\"ab\""), "00 61 62");
    CHECK_STR(enc(fs, "\"abc\""), "02 06 61 62 63");
    /* record if its fields fit, else map. */
    const sluice_avro_node *rm = S(
        "[{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
        "{\"name\":\"o\",\"type\":\"int\",\"default\":0}]},{\"type\":\"map\",\"values\":\"int\"}]");
    CHECK_STR(enc(rm, "{\"a\":1}"), "00 02 00");
    CHECK_STR(enc(rm, "{\"a\":1,\"o\":2}"), "00 02 04");
    CHECK_STR(enc(rm, "{\"b\":1}"), "02 02 02 62 02 00");
    CHECK_STR(enc(rm, "{}"), "02 00");
    /* A map fits only if its values are of a kind its value type takes. */
    const sluice_avro_node *mr =
        S("[{\"type\":\"map\",\"values\":\"string\"},{\"type\":\"record\",\"name\":\"R\","
          "\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}]");
    CHECK_STR(enc(mr, "{\"x\":7}"), "02 0e");
    CHECK_STR(enc(mr, "{\"x\":\"7\"}"), "00 02 02 78 02 37 00");
    const sluice_avro_node *arr = S("[\"null\",{\"type\":\"array\",\"items\":\"int\"}]");
    CHECK_STR(enc(arr, "[1]"), "02 02 02 00");
    /* Nullable timestamp: an ISO string fits the long branch. */
    const sluice_avro_node *ts =
        S("[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}]");
    CHECK_STR(enc(ts, "\"1970-01-01T00:00:00.001Z\""), "02 02");
    CHECK_STR(enc(ts, "7"), "02 0e");
    /* Nullable decimal: numbers and decimal strings fit. */
    const sluice_avro_node *dn = S("[\"null\",{\"type\":\"bytes\",\"logicalType\":\"decimal\","
                                   "\"precision\":4,\"scale\":1}]");
    CHECK_STR(enc(dn, "1.5"), "02 02 0f");
    CHECK_STR(enc(dn, "\"-1.5\""), "02 02 f1");
}

static void test_union_errors(void)
{
    /* No branch fits and one branch takes objects: its own error, inside. */
    const sluice_avro_node *nr = S("[\"null\",{\"type\":\"record\",\"name\":\"Rec\",\"fields\":["
                                   "{\"name\":\"x\",\"type\":\"int\"}]}]");
    CHECK_STR(enc(nr, "{\"x\":1,\"y\":2}"), "ERROR -1: $.y: unknown field, not in record Rec");
    CHECK_STR(enc(nr, "{}"), "ERROR -1: $.x: missing required field (no default)");
    CHECK_STR(enc(nr, "{\"x\":\"1\"}"), "ERROR -1: $.x: expected int, got string");
    /* Two candidates: the union's own message. */
    const sluice_avro_node *two =
        S("[\"null\",\"string\",{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\","
          "\"type\":\"int\"}]},{\"type\":\"record\",\"name\":\"B\",\"fields\":[{\"name\":\"y\","
          "\"type\":\"int\"}]}]");
    CHECK_STR(enc(two, "{\"z\":1}"),
              "ERROR -1: $: union [null, string, A, B] has no branch for a JSON object");
    CHECK_STR(enc(two, "[]"),
              "ERROR -1: $: union [null, string, A, B] has no branch for a JSON array");
    const sluice_avro_node *nn = S("[\"string\",\"int\"]");
    CHECK_STR(enc(nn, "null"), "ERROR -1: $: union [string, int] has no branch for JSON null");
    /* An int branch alone takes integers: the range error is precise. */
    const sluice_avro_node *ni = S("[\"null\",\"int\"]");
    CHECK_STR(enc(ni, "3000000000"), "ERROR -1: $: 3000000000 does not fit in int (32-bit)");
    const sluice_avro_node *ne =
        S("[\"null\",{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}]");
    CHECK_STR(enc(ne, "\"Q\""), "ERROR -1: $: 'Q' is not a symbol of enum E (A)");
}

static void test_union_avro_json(void)
{
    const sluice_avro_node *u =
        S("[\"null\",\"int\",\"string\",\"bytes\","
          "{\"type\":\"record\",\"name\":\"Rec\",\"namespace\":\"com.acme\",\"fields\":["
          "  {\"name\":\"x\",\"type\":\"int\"}]},"
          "{\"type\":\"array\",\"items\":\"int\"},{\"type\":\"map\",\"values\":\"string\"}]");
    CHECK_STR(enc(u, "{\"int\":5}"), "02 0a");
    CHECK_STR(enc(u, "{\"string\":\"x\"}"), "04 02 78");
    CHECK_STR(enc(u, "{\"bytes\":\"x\"}"), "06 02 78");
    CHECK_STR(enc(u, "{\"null\":null}"), "00");
    CHECK_STR(enc(u, "{\"com.acme.Rec\":{\"x\":1}}"), "08 02");
    CHECK_STR(enc(u, "{\"Rec\":{\"x\":1}}"), "08 02");
    CHECK_STR(enc(u, "{\"array\":[1]}"), "0a 02 02 00");
    CHECK_STR(enc(u, "{\"map\":{\"k\":\"v\"}}"), "0c 02 02 6b 02 76 00");
    /* The wrapper wins over reading the object as a map or record; a key
     * that names no branch is plain JSON. */
    CHECK_STR(enc(u, "{\"k\":\"v\"}"), "0c 02 02 6b 02 76 00");
    CHECK_STR(enc(u, "{\"x\":1}"), "08 02");
    CHECK_STR(enc(u, "{\"int\":\"5\"}"), "ERROR -1: $: expected int, got string");

    /* Decoding: AVRO wraps every non-null branch with its name (fullname
     * for named types); PLAIN leaves it bare. */
    CHECK_STR(dec(u, "00", AVRO), "null");
    CHECK_STR(dec(u, "02 0a", AVRO), "{\"int\":5}");
    CHECK_STR(dec(u, "02 0a", PLAIN), "5");
    CHECK_STR(dec(u, "08 02", AVRO), "{\"com.acme.Rec\":{\"x\":1}}");
    CHECK_STR(dec(u, "08 02", PLAIN), "{\"x\":1}");
    CHECK_STR(dec(u, "0a 02 02 00", AVRO), "{\"array\":[1]}");
    CHECK_STR(dec(u, "0c 02 02 6b 02 76 00", AVRO), "{\"map\":{\"k\":\"v\"}}");
    CHECK_STR(dec(u, "06 02 78", AVRO), "{\"bytes\":\"x\"}");
    /* A fullname beats a short name: in [a.X, X], "X" is the second. */
    const sluice_avro_node *xx =
        S("[{\"type\":\"record\",\"name\":\"X\",\"namespace\":\"a\",\"fields\":[]},"
          "{\"type\":\"record\",\"name\":\"X\",\"fields\":[{\"name\":\"v\",\"type\":"
          "\"int\"}]}]");
    CHECK_STR(enc(xx, "{\"X\":{\"v\":1}}"), "02 02");
    CHECK_STR(enc(xx, "{\"a.X\":{}}"), "00");
    CHECK_STR(dec(xx, "02 02", AVRO), "{\"X\":{\"v\":1}}");
    const sluice_avro_node *lt =
        S("[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}]");
    CHECK_STR(dec(lt, "02 02", AVRO), "{\"long\":1}");
}

/* ---- round trips through both directions ----------------------------------------------- */

static void test_round_trip_event(void)
{
    const sluice_avro_node *r =
        S("{\"type\":\"record\",\"name\":\"Event\",\"namespace\":\"ev\",\"fields\":["
          "{\"name\":\"id\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
          "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
          "{\"name\":\"user\",\"type\":[\"null\",\"string\"]},"
          "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"A\","
          "  \"B\"]}},"
          "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","
          "  \"name\":\"Item\",\"fields\":[{\"name\":\"sku\",\"type\":\"string\"},"
          "  {\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}}]}}},"
          "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"double\"]}},"
          "{\"name\":\"next\",\"type\":[\"null\",\"Event\"]}]}");
    const char *json =
        "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"ts\":1700000000000000,"
        "\"user\":{\"string\":\"bob\"},\"kind\":\"B\",\"items\":[{\"sku\":\"x\",\"tags\":[\"a\","
        "\"b\"]},{\"sku\":\"y\",\"tags\":[]}],\"attrs\":{\"p\":{\"double\":0.25},\"q\":null},"
        "\"next\":{\"ev.Event\":{\"id\":\"123e4567-e89b-12d3-a456-426614174001\",\"ts\":-1,"
        "\"user\":null,\"kind\":\"A\",\"items\":[],\"attrs\":{},\"next\":null}}}";
    const char *hex = enc(r, json);
    CHECK(strncmp(hex, "ERROR", 5) != 0);
    char saved[4096];
    snprintf(saved, sizeof saved, "%s", hex);
    CHECK_STR(dec(r, saved, AVRO), json);
    CHECK_STR(dec(r, saved, PLAIN),
              "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"ts\":1700000000000000,"
              "\"user\":\"bob\",\"kind\":\"B\",\"items\":[{\"sku\":\"x\",\"tags\":[\"a\","
              "\"b\"]},{\"sku\":\"y\",\"tags\":[]}],\"attrs\":{\"p\":0.25,\"q\":null},"
              "\"next\":{\"id\":\"123e4567-e89b-12d3-a456-426614174001\",\"ts\":-1,"
              "\"user\":null,\"kind\":\"A\",\"items\":[],\"attrs\":{},\"next\":null}}");
    /* The plain rendering encodes to the same bytes. */
    static char plain[sizeof dec_out];
    snprintf(plain, sizeof plain, "%s", dec_out);
    CHECK_STR(enc(r, plain), saved);
}

/* ---- decoder errors ---------------------------------------------------------------- */

static void test_decode_errors(void)
{
    const sluice_avro_node *l = S("\"long\""), *i = S("\"int\""), *s = S("\"string\"");
    const sluice_avro_node *b = S("\"boolean\""), *by = S("\"bytes\"");
    const sluice_avro_node *u = S("[\"null\",\"int\",\"string\"]");
    const sluice_avro_node *e = S("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}");
    const sluice_avro_node *f = S("{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}");
    const sluice_avro_node *a = S("{\"type\":\"array\",\"items\":\"long\"}");
    const sluice_avro_node *m = S("{\"type\":\"map\",\"values\":\"long\"}");
    const sluice_avro_node *r = S("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                                  "{\"name\":\"name\",\"type\":\"string\"},"
                                  "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{"
                                  "\"type\":\"record\",\"name\":\"I\",\"fields\":[{\"name\":"
                                  "\"qty\",\"type\":\"int\"}]}}}]}");
    const sluice_avro_node *fl = S("\"float\""), *d = S("\"double\"");

    CHECK_STR(dec(l, "", AVRO), "ERROR -1: offset 0, $: truncated varint");
    CHECK_STR(dec(l, "80", AVRO), "ERROR -1: offset 0, $: truncated varint");
    CHECK_STR(dec(l, "80 80 80 80 80 80 80 80 80 80 00", AVRO),
              "ERROR -1: offset 0, $: varint longer than 10 bytes");
    CHECK_STR(dec(l, "ff ff ff ff ff ff ff ff ff 02", AVRO),
              "ERROR -1: offset 0, $: varint does not fit in 64 bits");
    CHECK_STR(dec(i, "80 80 80 80 10", AVRO),
              "ERROR -1: offset 0, $: int 2147483648 does not fit in 32 bits");
    CHECK_STR(dec(l, "02 00", AVRO), "ERROR -1: offset 1: 1 bytes left over after the value");
    CHECK_STR(dec(s, "05 61 62", AVRO), "ERROR -1: offset 0, $: string length -3 is negative");
    CHECK_STR(dec(s, "06 61 62", AVRO),
              "ERROR -1: offset 0, $: string length 3 exceeds the 2 bytes left");
    CHECK_STR(dec(s, "04 c3 28", AVRO), "ERROR -1: offset 0, $: string is not valid UTF-8");
    CHECK_STR(dec(s, "06 ed a0 80", AVRO), "ERROR -1: offset 0, $: string is not valid UTF-8");
    CHECK_STR(dec(s, "04 c0 80", AVRO), "ERROR -1: offset 0, $: string is not valid UTF-8");
    CHECK_STR(dec(s, "08 f4 90 80 80", AVRO), "ERROR -1: offset 0, $: string is not valid UTF-8");
    CHECK_STR(dec(s, "08 f0 9f 98 80", AVRO), "\"\xf0\x9f\x98\x80\"");
    CHECK_STR(dec(by, "fe ff ff ff ff ff ff ff ff 01", AVRO),
              "ERROR -1: offset 0, $: bytes length 9223372036854775807 exceeds the 0 bytes left");
    CHECK_STR(dec(b, "02", AVRO), "ERROR -1: offset 0, $: boolean byte 0x02 is neither 0 nor 1");
    CHECK_STR(dec(b, "", AVRO), "ERROR -1: offset 0, $: truncated boolean");
    CHECK_STR(dec(fl, "00 00 80", AVRO),
              "ERROR -1: offset 0, $: truncated float (4 bytes, 3 left)");
    CHECK_STR(dec(d, "00", AVRO), "ERROR -1: offset 0, $: truncated double (8 bytes, 1 left)");
    CHECK_STR(dec(u, "0a", AVRO),
              "ERROR -1: offset 0, $: union branch 5 out of range (3 branches)");
    CHECK_STR(dec(u, "01", AVRO),
              "ERROR -1: offset 0, $: union branch -1 out of range (3 branches)");
    CHECK_STR(dec(e, "04", AVRO), "ERROR -1: offset 0, $: enum index 2 out of range (2 symbols)");
    CHECK_STR(dec(e, "01", AVRO), "ERROR -1: offset 0, $: enum index -1 out of range (2 symbols)");
    CHECK_STR(dec(f, "01 02 03", AVRO),
              "ERROR -1: offset 0, $: truncated fixed F (needs 4 bytes, 3 left)");
    /* Paths and offsets inside. */
    CHECK_STR(dec(r, "02 61 06 02 04 80", AVRO),
              "ERROR -1: offset 5, $.items[2].qty: truncated varint");
    CHECK_STR(dec(r, "05", AVRO), "ERROR -1: offset 0, $.name: string length -3 is negative");
    CHECK_STR(dec(m, "02 02 6b 80", AVRO), "ERROR -1: offset 3, $[\"k\"]: truncated varint");
    CHECK_STR(dec(m, "02 03 6b 00 00", AVRO),
              "ERROR -1: offset 1, $: map key length -2 is negative");
    /* Block counts against what is left: at least one byte per long. */
    CHECK_STR(dec(a, "08 02 04 00", AVRO),
              "ERROR -1: offset 0, $: array block of 4 items needs at least 4 bytes, 3 left");
    CHECK_STR(dec(a, "fe ff ff ff ff ff ff ff ff 01", AVRO),
              "ERROR -1: offset 0, $: array block of 9223372036854775807 items needs at least "
              "9223372036854775807 bytes, 0 left");
    CHECK_STR(dec(m, "80 80 80 80 08 00", AVRO),
              "ERROR -1: offset 0, $: map block of 1073741824 items needs at least 2147483648 "
              "bytes, 1 left");
    /* Negative counts: the byte size is checked too. */
    CHECK_STR(dec(a, "03 05 02 04 00", AVRO),
              "ERROR -1: offset 0, $: array block size -3 is negative");
    CHECK_STR(dec(a, "03 0a 02 04 00", AVRO),
              "ERROR -1: offset 0, $: array block size 5 exceeds the 3 bytes left");
    CHECK_STR(dec(a, "03 02 02 04 00", AVRO),
              "ERROR -1: offset 0, $: array block size 1 does not match its 2 bytes");
    CHECK_STR(dec(a, "ff ff ff ff ff ff ff ff ff 01 00", AVRO),
              "ERROR -1: offset 0, $: array block count -9223372036854775808 is out of range");
    CHECK_STR(dec(a, "02 02", AVRO), "ERROR -1: offset 2, $: truncated varint");
}

/* What the spec allows but our encoder never writes is read; what it does
 * not forbid is shown as it is. */
static void test_decode_lenient(void)
{
    const sluice_avro_node *m = S("{\"type\":\"map\",\"values\":\"long\"}");
    CHECK_STR(dec(m, "04 02 61 02 02 61 04 00", AVRO), "{\"a\":1,\"a\":2}");
    const sluice_avro_node *u = S("{\"type\":\"string\",\"logicalType\":\"uuid\"}");
    CHECK_STR(dec(u, "06 61 62 63", AVRO), "\"abc\"");
    const sluice_avro_node *i = S("\"int\"");
    CHECK_STR(dec(i, "ff ff ff ff 0f", PLAIN), "-2147483648");
    CHECK_STR(dec(i, "81 80 80 80 80 80 80 80 80 00", PLAIN), "-1"); /* 10 bytes, top zero */
}

/* Items that take no bytes cannot be bounded by the input; the output cap
 * bounds them, checked before the loop. */
static void test_decode_empty_items(void)
{
    const sluice_avro_node *a = S("{\"type\":\"array\",\"items\":\"null\"}");
    CHECK_STR(dec(a, "06 00", AVRO), "[null,null,null]");
    CHECK_STR(dec(a, "fe ff ff ff ff ff ff ff ff 01 00", AVRO),
              "ERROR -2: offset 0, $: array block of 9223372036854775807 empty items would "
              "exceed the output cap");
    const sluice_avro_node *er =
        S("{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"E\",\"fields\":[]}}");
    CHECK_STR(dec(er, "04 00", PLAIN), "[{},{}]");
}

/* Every proper prefix of a valid encoding fails cleanly; the whole succeeds
 * and gives the same text as the encoder's input. */
static void test_decode_prefixes(void)
{
    static const struct {
        const char *schema, *json;
    } cases[] = {
        {"\"long\"", "-9223372036854775808"},
        {"\"double\"", "0.1"},
        {"\"string\"", "\"h\\u00e9llo\""},
        {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}", "\"abc\""},
        {"[\"null\",\"string\",{\"type\":\"array\",\"items\":\"int\"}]", "{\"array\":[1,-2,300]}"},
        {"{\"type\":\"map\",\"values\":[\"null\",\"float\"]}",
         "{\"a\":{\"float\":1.5},\"b\":null}"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"boolean\"},"
         "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\",\"Y\"]}},"
         "{\"name\":\"l\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":"
         "\"I\",\"fields\":[{\"name\":\"t\",\"type\":{\"type\":\"array\",\"items\":\"string\"}}]}}}"
         ","
         "{\"name\":\"n\",\"type\":[\"null\",\"R\"]}]}",
         "{\"a\":true,\"e\":\"Y\",\"l\":[{\"t\":[\"p\",\"q\"]},{\"t\":[]}],\"n\":{\"R\":{\"a\":"
         "false,"
         "\"e\":\"X\",\"l\":[],\"n\":null}}}"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const sluice_avro_node *t = S(cases[c].schema);
        CHECK(t != NULL);
        json_t *v = J(cases[c].json);
        CHECK(v != NULL);
        buf bytes;
        buf_init(&bytes, 4096);
        CHECK_EQ(avro_json_encode(t, v, &bytes, NULL), 0);
        json_decref(v);
        for (size_t n = 0; n < bytes.len; n++) {
            const char *r = dec_bytes(t, bytes.data, n, AVRO);
            if (strncmp(r, "ERROR -1: offset ", 17) != 0) {
                fprintf(stderr, "case %zu prefix %zu/%zu: %s\n", c, n, bytes.len, r);
                buf_free(&bytes);
                CHECK(0);
            }
        }
        const char *full = dec_bytes(t, bytes.data, bytes.len, AVRO);
        /* Same JSON once parsed (the float's text may differ). */
        json_t *a = J(full), *b = J(cases[c].json);
        int same = a && b && json_equal(a, b);
        json_decref(a);
        json_decref(b);
        if (!same) fprintf(stderr, "case %zu: decoded %s\n", c, full);
        /* One garbage byte after the value. */
        uint8_t tail[4096];
        memcpy(tail, bytes.data, bytes.len);
        tail[bytes.len] = 0x42;
        const char *extra = dec_bytes(t, tail, bytes.len + 1, AVRO);
        char want[64];
        snprintf(want, sizeof want, "ERROR -1: offset %zu: 1 bytes left over after the value",
                 bytes.len);
        buf_free(&bytes);
        CHECK(same);
        CHECK_STR(extra, want);
    }
}

/* Random bytes against a schema with every type: never a crash (ASan runs
 * this), and either an error with an offset or valid JSON. */
static void test_decode_garbage(void)
{
    const sluice_avro_node *t =
        S("{\"type\":\"record\",\"name\":\"G\",\"fields\":["
          "{\"name\":\"a\",\"type\":[\"null\",\"boolean\",\"int\",\"long\",\"float\",\"double\","
          "  \"bytes\",\"string\",{\"type\":\"array\",\"items\":\"G\"},"
          "  {\"type\":\"map\",\"values\":\"G\"},{\"type\":\"enum\",\"name\":\"E\",\"symbols\":"
          "  [\"A\",\"B\"]},{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},\"G\"]}]}");
    CHECK(t != NULL);
    uint64_t x = 42;
    int ok = 0, failed = 0;
    for (int k = 0; k < 20000; k++) {
        uint8_t data[32];
        size_t n = (size_t)(k % 32);
        for (size_t j = 0; j < n; j++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            data[j] = (uint8_t)(x >> 56);
            if (j % 2 == 0) data[j] &= 0x1f; /* small branch indexes and lengths, to get deeper */
        }
        const char *r = dec_bytes(t, data, n, k % 2 ? AVRO : PLAIN);
        if (strncmp(r, "ERROR -1: offset ", 17) == 0) {
            failed++;
            continue;
        }
        json_error_t jerr;
        json_t *v = json_loads(r, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!v) fprintf(stderr, "invalid JSON from decode: %s (%s)\n", r, jerr.text);
        CHECK(v != NULL);
        json_decref(v);
        ok++;
    }
    CHECK(ok > 100);
    CHECK(failed > 100);
}

/* ---- depth ----------------------------------------------------------------------------- */

static void test_depth_bombs(void)
{
    const sluice_avro_node *t = S("{\"type\":\"record\",\"name\":\"N\",\"fields\":["
                                  "{\"name\":\"kids\",\"type\":{\"type\":\"array\",\"items\":"
                                  "\"N\"}}]}");
    CHECK(t != NULL);
    /* 31 levels of record+array = 62: fine. */
    char json[8192] = "";
    for (int i = 0; i < 31; i++)
        strcat(json, "{\"kids\":[");
    for (int i = 0; i < 31; i++)
        strcat(json, i ? "]}" : "]}");
    const char *r = enc(t, json);
    CHECK(strncmp(r, "ERROR", 5) != 0);
    /* 200 levels: an error naming the depth, not a crash. */
    json[0] = '\0';
    for (int i = 0; i < 200; i++)
        strcat(json, "{\"kids\":[");
    for (int i = 0; i < 200; i++)
        strcat(json, "]}");
    r = enc(t, json);
    CHECK_CONTAINS(r, "ERROR -1: $.kids[0].kids[0].kids[0].kids[0].kids[0...");
    CHECK_CONTAINS(r, ".kids[0]: nested deeper than 64 levels");

    /* Decoding: each level is "02" (one item) and the innermost "00". */
    uint8_t data[400];
    memset(data, 0x02, 200);
    memset(data + 200, 0x00, 200);
    r = dec_bytes(t, data, 400, AVRO);
    CHECK_CONTAINS(r, "ERROR -1: offset 32, $.kids[0]");
    CHECK_CONTAINS(r, "nested deeper than 64 levels");
    /* A record that contains itself with nothing in between has no finite
     * value; the bound stops the walk there too. */
    const sluice_avro_node *self = S("{\"type\":\"record\",\"name\":\"S\",\"fields\":["
                                     "{\"name\":\"s\",\"type\":\"S\"}]}");
    CHECK_CONTAINS(dec(self, "", AVRO), "nested deeper than 64 levels");
    CHECK_CONTAINS(enc(self, "{\"s\":{\"s\":{}}}"), "$.s.s.s: missing required field");
}

static void test_bad_arguments(void)
{
    buf out;
    buf_init(&out, 64);
    avro_json_errors errs;
    json_t *v = json_null();
    CHECK_EQ(avro_json_encode(NULL, v, &out, &errs), SLUICE_EINVAL);
    CHECK_EQ(errs.n, 1);
    sluice_error err = {0};
    CHECK_EQ(avro_json_decode(NULL, NULL, 0, AVRO_JSON_AVRO, &out, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "no schema");
    buf_free(&out);
}

static void test_streaming_agrees(void)
{
    fprintf(stderr, "streaming encoder: %d texts compared, %d skipped by design, %d disagreed\n",
            diff_compared, diff_skipped, diff_disagreed);
    CHECK(diff_compared > 150);
    CHECK_EQ(diff_disagreed, 0);
}

static void test_cleanup(void)
{
    for (int i = 0; i < n_schemas; i++)
        sluice_avro_schema_free(schemas[i]);
    n_schemas = 0;
    CHECK(1);
}

TEST_MAIN(T(test_null_boolean), T(test_int_long), T(test_float_double), T(test_bytes_string),
          T(test_enum_fixed), T(test_array_map), T(test_record), T(test_error_paths),
          T(test_error_list_bound), T(test_rollback), T(test_logical_dates), T(test_logical_uuid),
          T(test_logical_decimal), T(test_decimal_huge_precision), T(test_duration_plain_fixed),
          T(test_defaults), T(test_default_repeated), T(test_union_plain), T(test_union_errors),
          T(test_union_avro_json), T(test_round_trip_event), T(test_decode_errors),
          T(test_decode_lenient), T(test_decode_empty_items), T(test_decode_prefixes),
          T(test_decode_garbage), T(test_depth_bombs), T(test_bad_arguments),
          T(test_streaming_agrees), T(test_cleanup))
