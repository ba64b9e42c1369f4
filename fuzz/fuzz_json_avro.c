/*
 * fuzz_json_avro.c — libFuzzer target for ingest's streaming JSON → Avro
 * encoder (src/codec/json_avro.c) against the tree encoder it replaced
 * (src/codec/avro_json_encode.c), on arbitrary bytes and every schema of
 * avro_fuzz_common.h. The two must agree (tests/support/avro_diff.h): the
 * same bytes, the same errors, or both calling the text malformed; the
 * differences json_avro.h documents (numbers past int64 or a double's
 * digits) are recognised in the text and only run, not compared. Any
 * disagreement, crash or sanitizer report aborts. Seeds:
 * fuzz/corpus/json_avro/.
 */
#include "avro_diff.h"
#include "avro_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_avro *plans[FUZZ_N_SCHEMAS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_canonical; /* the other targets' check; not needed here */
    for (size_t i = 0; i < FUZZ_N_SCHEMAS; i++) {
        const sluice_avro_node *schema = fuzz_schema(i);
        if (!plans[i]) {
            sluice_error err = {0};
            if (json_avro_compile(schema, &plans[i], &err) != 0) {
                fprintf(stderr, "schema %zu does not compile: %s\n", i, err.msg);
                abort();
            }
        }
        char why[2048];
        if (avro_diff_check(schema, plans[i], (const char *)data, size, why, sizeof why) ==
            AVRO_DIFF_DISAGREE) {
            fprintf(stderr, "schema %zu: the encoders disagree: %s\n", i, why);
            abort();
        }
    }
    return 0;
}
