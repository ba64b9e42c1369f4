/*
 * fuzz_json_schema_validate.c — libFuzzer target for the JSON Schema
 * validator's compiler and its run (src/codec/json_schema_validate.c).
 *
 * Input: a schema document, then a NUL byte and a JSON value (without the
 * NUL, only the compiler runs). A schema that parses either compiles or is
 * refused with SLUICE_EUNSUPPORTED and a message naming a place ("#..." or
 * a document); compiling it twice gives the same verdict; the validator
 * then runs on the value and must answer 0, SLUICE_EINVAL with 1..16
 * errors each with a "$" path, or SLUICE_EPARSE with the reader's error
 * set — and a value it accepts must be JSON to jansson too (duplicate keys
 * refused by both). Nothing may crash, leak or loop.
 * Seeds: fuzz/corpus/json_schema_validate/.
 */
#include "codec/json_schema.h"
#include "codec/json_schema_validate.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t schema_len = nul ? (size_t)(nul - data) : size;
    json_schema *s = NULL;
    if (json_schema_parse((const char *)data, schema_len, NULL, 0, &s, NULL) != 0) return 0;
    json_validator *v = NULL, *again = NULL;
    sluice_error err = {0};
    int rc = json_validator_compile(s, &v, &err);
    int rc2 = json_validator_compile(s, &again, NULL);
    if (rc != rc2) abort();
    json_validator_free(again);
    if (rc != 0) {
        if (v || rc != SLUICE_EUNSUPPORTED || !strstr(err.msg, "#")) abort();
        json_schema_free(s);
        return 0;
    }
    if (nul) {
        const char *text = (const char *)nul + 1;
        size_t len = size - schema_len - 1;
        json_lex lx;
        json_lex_init(&lx, text, len);
        avro_json_errors errs;
        int r = json_validator_run(v, &lx, &errs);
        if (r == SLUICE_EINVAL) {
            if (errs.n < 1 || errs.n > AVRO_JSON_MAX_ERRORS) abort();
            for (int i = 0; i < errs.n; i++)
                if (errs.items[i].path[0] != '$' || !errs.items[i].message[0]) abort();
        } else if (r == SLUICE_EPARSE) {
            if (!lx.err) abort();
        } else if (r != 0) {
            abort();
        }
        if (r != SLUICE_EPARSE && json_lex_end(&lx) == 0) {
            /* The whole text was one value, read without a syntax error:
             * jansson takes it too (integers past int64 and reals past a
             * double aside, which the reader keeps as numbers on purpose:
             * json_lex.h). */
            json_error_t je;
            json_t *t = json_loadb(text, len,
                                   JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
            if (!t && !strstr(je.text, "too big") && !strstr(je.text, "overflow")) {
                fprintf(stderr, "the reader took what jansson refuses: %s\n", je.text);
                abort();
            }
            json_decref(t);
        }
        json_lex_free(&lx);
    }
    json_validator_free(v);
    json_schema_free(s);
    return 0;
}
