/*
 * fuzz_avro_schema.c — libFuzzer target for the Avro schema parser and the
 * resolution check. Any bytes: parse must return 0 or an error without
 * crashing, and a failure must carry its message; on success every derived
 * form must exist and the schema must be able to read itself (abort()
 * otherwise, so the fuzzer reports it). Seeds: fuzz/corpus/avro_schema/.
 */
#include <sluice/avro.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sluice_avro_schema *schema = NULL;
    sluice_error err = {0};
    int rc = sluice_avro_schema_parse((const char *)data, size, &schema, &err);
    if (rc != 0) {
        if (schema != NULL || err.code != rc || err.msg[0] == '\0') abort();
        return 0;
    }
    const sluice_avro_node *root = sluice_avro_schema_root(schema);
    const char *normalized = sluice_avro_schema_normalized(schema);
    const char *canonical = sluice_avro_schema_canonical(schema);
    if (!root || !normalized || !canonical) abort();
    (void)sluice_avro_schema_fingerprint(schema);

    if (sluice_avro_can_read(root, root, &err) != 0) {
        fprintf(stderr, "schema cannot read itself: %s\n", err.msg);
        abort();
    }

    /* The canonical form is a schema too. It need not parse back (it drops
     * a nested "namespace":"", which can change names), but when it does it
     * must obey the same invariants. */
    sluice_avro_schema *again = NULL;
    if (sluice_avro_schema_parse(canonical, strlen(canonical), &again, NULL) == 0) {
        const sluice_avro_node *r2 = sluice_avro_schema_root(again);
        if (sluice_avro_can_read(r2, r2, NULL) != 0) abort();
        sluice_avro_schema_free(again);
    }

    /* Named lookups agree with the graph. */
    if (root->fullname && sluice_avro_schema_named(schema, root->fullname) != root) abort();
    sluice_avro_schema_free(schema);
    return 0;
}
