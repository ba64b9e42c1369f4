/*
 * fuzz_json_to_avro.c — libFuzzer target for the JSON → Avro binary encoder
 * (src/codec/avro_json_encode.c). Any bytes: those that are not JSON are skipped;
 * JSON is encoded against every fixed schema of avro_fuzz_common.h. Must
 * never crash. A failure must report at least one error and leave the
 * output as it was; a success must decode (and the decoder must consume
 * every byte), the bytes must be canonical, and decoding then encoding again
 * must give the same bytes, except where the value is one JSON cannot tell
 * apart (a decimal whose raw bytes read as a number, see
 * avro_fuzz_common.h). abort() tells the fuzzer. Seeds:
 * fuzz/corpus/json_to_avro/.
 */
#include "avro_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_CAP (1u << 20)

static void check_schema(const sluice_avro_node *schema, const json_t *v)
{
    buf out;
    buf_init(&out, OUT_CAP);
    static const char mark[] = "prefix";
    if (buf_append(&out, mark, sizeof mark)) abort();
    avro_json_errors errs;
    int rc = avro_json_encode(schema, v, &out, &errs);
    if (rc != 0) {
        if ((rc != SLUICE_EINVAL && rc != SLUICE_ENOMEM) || errs.n < 1 || out.len != sizeof mark ||
            memcmp(out.data, mark, sizeof mark) != 0)
            abort();
        for (int i = 0; i < errs.n; i++)
            if (errs.items[i].path[0] != '$' || errs.items[i].message[0] == '\0') abort();
        buf_free(&out);
        return;
    }
    const uint8_t *bytes = out.data + sizeof mark;
    size_t len = out.len - sizeof mark;

    buf json;
    buf_init(&json, 8 * OUT_CAP);
    sluice_error err = {0};
    if (avro_json_decode(schema, bytes, len, AVRO_JSON_AVRO, &json, &err) != 0) {
        fprintf(stderr, "encoder output does not decode: %s\n", err.msg);
        abort();
    }
    /* The encoder writes one block per array/map, minimal varints, the
     * quiet NaN, distinct keys and only valid UUIDs: the one way its output
     * can fail the canonical check is a decimal whose bytes read as a
     * number, and only then is the round trip skipped. */
    int why = fuzz_canonical(schema, bytes, len);
    if (why < 0 || (why & ~CANON_DECIMAL_TEXT)) {
        fprintf(stderr, "encoder output is not canonical (reasons 0x%x)\n", (unsigned)why);
        abort();
    }
    if (why == 0) {
        json_error_t jerr;
        json_t *back =
            json_loadb((const char *)json.data, json.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!back) abort();
        buf again;
        buf_init(&again, OUT_CAP);
        if (avro_json_encode(schema, back, &again, NULL) != 0 || again.len != len ||
            memcmp(again.data, bytes, len) != 0) {
            fprintf(stderr, "decode/encode round trip differs\nJSON: %.*s\n", (int)json.len,
                    (const char *)json.data);
            abort();
        }
        buf_free(&again);
        json_decref(back);
    }
    buf_free(&json);
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v) return 0;
    for (size_t i = 0; i < FUZZ_N_SCHEMAS; i++)
        check_schema(fuzz_schema(i), v);
    json_decref(v);
    return 0;
}
