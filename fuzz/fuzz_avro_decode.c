/*
 * fuzz_avro_decode.c — libFuzzer target for the Avro binary → JSON decoder
 * (src/codec/avro_json_decode.c). The first byte picks one of the fixed schemas of
 * avro_fuzz_common.h; the rest is decoded in both styles. Must never crash;
 * the two styles must agree on success or failure; a failure must name an
 * offset; and when decoding succeeds, encoding the AVRO-style JSON back must
 * give exactly the input bytes, unless the input is a non-canonical encoding
 * the spec allows (multi-block or negative-count arrays and maps,
 * longer-than-needed varints) or a value JSON cannot tell apart (see the
 * list in avro_fuzz_common.h); only then is the round trip skipped. abort()
 * tells the fuzzer. Seeds: fuzz/corpus/avro_decode/.
 */
#include "avro_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_CAP (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const sluice_avro_node *schema = fuzz_schema(data[0]);
    const uint8_t *body = data + 1;
    size_t len = size - 1;

    buf avro_out, plain_out;
    buf_init(&avro_out, OUT_CAP);
    buf_init(&plain_out, OUT_CAP);
    sluice_error err = {0}, perr = {0};
    int rc = avro_json_decode(schema, body, len, AVRO_JSON_AVRO, &avro_out, &err);
    int prc = avro_json_decode(schema, body, len, AVRO_JSON_PLAIN, &plain_out, &perr);
    buf_free(&plain_out);
    if (rc != 0) {
        if (err.code != rc || strncmp(err.msg, "offset ", 7) != 0 || avro_out.len != 0) abort();
        /* Both styles read the same bytes the same way; only the output
         * size differs (wrappers), so only the cap may tell them apart. */
        if (prc == 0 && rc != SLUICE_ENOMEM) abort();
        buf_free(&avro_out);
        return 0;
    }
    if (prc != 0 && prc != SLUICE_ENOMEM) {
        fprintf(stderr, "AVRO decoded, PLAIN failed: %s\n", perr.msg);
        abort();
    }

    int why = fuzz_canonical(schema, body, len);
    if (why < 0) {
        fprintf(stderr, "decoder accepted bytes the reference reader cannot walk\n");
        abort();
    }

    json_error_t jerr;
    json_t *v = json_loadb((const char *)avro_out.data, avro_out.len,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v && strstr(jerr.text, "NUL byte in object key")) {
        /* A map key with U+0000 is valid JSON ("\u0000"), but jansson's
         * parser refuses it, so that value cannot come back through it. */
        buf_free(&avro_out);
        return 0;
    }
    if (!v) {
        fprintf(stderr, "decoder wrote invalid JSON: %s\n%.*s\n", jerr.text, (int)avro_out.len,
                (const char *)avro_out.data);
        abort();
    }
    buf again;
    buf_init(&again, OUT_CAP);
    avro_json_errors errs;
    int erc = avro_json_encode(schema, v, &again, &errs);
    if (why == 0) {
        if (erc != 0 || again.len != len || memcmp(again.data, body, len) != 0) {
            fprintf(stderr, "round trip differs (encode rc %d%s%s%s)\nJSON: %.*s\n", erc,
                    erc && errs.n ? ": " : "", erc && errs.n ? errs.items[0].path : "",
                    erc && errs.n ? errs.items[0].message : "", (int)avro_out.len,
                    (const char *)avro_out.data);
            abort();
        }
    }
    json_decref(v);
    buf_free(&again);
    buf_free(&avro_out);
    return 0;
}
