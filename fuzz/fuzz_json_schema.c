/*
 * fuzz_json_schema.c — libFuzzer target for the JSON Schema parser
 * (src/codec/json_schema.c) and Confluent's compatibility rules over its
 * graph (json_schema_compat.c).
 *
 * Input: the root document, optionally followed by a NUL byte and a second
 * document that `$ref`s may name as "other.json". Parsing must return 0 or
 * an error with a message, never crash or loop. On success: every `$ref`
 * leads to a schema; the normalised text parses again to the same
 * normalised text; the schema is compatible with itself; comparing it with
 * the other document (when that parses alone) terminates either way.
 * Seeds: fuzz/corpus/json_schema/.
 */
#include "codec/json_schema.h"
#include "codec/json_schema_compat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t root_len = nul ? (size_t)(nul - data) : size;
    json_schema_source other = {"other.json", NULL, 0};
    size_t n = 0;
    if (nul) {
        other.text = (const char *)nul + 1;
        other.len = size - root_len - 1;
        n = 1;
    }
    json_schema *s = NULL;
    sluice_error err = {0};
    int rc = json_schema_parse((const char *)data, root_len, &other, n, &s, &err);
    if (rc != 0) {
        if (s != NULL || err.code != rc || err.msg[0] == '\0') abort();
        return 0;
    }
    const json_schema_node *root = json_schema_root(s);
    if (!root || !json_schema_deref(root)) abort();
    const char *norm = json_schema_normalized(s);
    json_schema *again = NULL;
    if (json_schema_parse(norm, strlen(norm), &other, n, &again, &err) != 0) {
        fprintf(stderr, "normalised text does not parse again: %s\n", err.msg);
        abort();
    }
    if (strcmp(json_schema_normalized(again), norm) != 0) abort();
    char reason[512];
    int self = json_schema_compatible(s, again, reason, sizeof reason, &err);
    if (self == 0) {
        fprintf(stderr, "a schema is not compatible with itself: %s\n", reason);
        abort();
    }
    if (nul) {
        json_schema *o = NULL;
        if (json_schema_parse(other.text, other.len, NULL, 0, &o, NULL) == 0) {
            (void)json_schema_compatible(s, o, reason, sizeof reason, NULL);
            (void)json_schema_compatible(o, s, reason, sizeof reason, NULL);
            json_schema_free(o);
        }
    }
    json_schema_free(again);
    json_schema_free(s);
    return 0;
}
