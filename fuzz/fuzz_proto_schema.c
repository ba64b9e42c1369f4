/*
 * fuzz_proto_schema.c — libFuzzer target for the Protobuf schema parser
 * (src/codec/proto_schema.cc, libprotobuf behind a C interface) and the
 * compatibility walk over its model (proto_compat.c).
 *
 * Input: the root schema text, optionally followed by a NUL byte and the
 * text of a dependency that the root may import as "dep.proto" (either may
 * be .proto text or base64 of a FileDescriptorProto). Parsing must return
 * 0 or an error with a message, never crash. On success: the canonical
 * text parses again (with the same dependency) to the same canonical text;
 * the base64 form parses; the schema is compatible with itself; the
 * message-index lookup is bounds-checked. Seeds: fuzz/corpus/proto_schema/.
 */
#include "codec/proto_compat.h"
#include "codec/proto_schema.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t root_len = nul ? (size_t)(nul - data) : size;
    proto_source dep = {"dep.proto", NULL, 0, "dep-subject", 1};
    size_t n_deps = 0;
    if (nul) {
        dep.text = (const char *)nul + 1;
        dep.len = size - root_len - 1;
        n_deps = 1;
    }
    proto_schema *s = NULL;
    sluice_error err = {0};
    int rc = proto_schema_parse(text, root_len, NULL, &dep, n_deps, &s, &err);
    if (rc != 0) {
        if (s != NULL || err.code != rc || err.msg[0] == '\0') {
            fprintf(stderr, "parse failed badly: rc %d, err.code %d, message '%s'\n", rc, err.code,
                    err.msg);
            abort();
        }
        return 0;
    }
    const char *canonical = proto_schema_canonical(s);
    const char *b64 = proto_schema_serialized_base64(s);
    if (!canonical || !b64 || !proto_schema_root(s)) abort();

    proto_schema *again = NULL;
    if (proto_schema_parse(canonical, strlen(canonical), NULL, &dep, n_deps, &again, &err) != 0) {
        fprintf(stderr, "canonical text does not parse again: %s\n%s\n", err.msg, canonical);
        abort();
    }
    if (strcmp(proto_schema_canonical(again), canonical) != 0) {
        fprintf(stderr, "canonical text is not stable:\n%s\n---\n%s\n", canonical,
                proto_schema_canonical(again));
        abort();
    }
    proto_schema *from_b64 = NULL;
    if (proto_schema_parse(b64, strlen(b64), NULL, &dep, n_deps, &from_b64, &err) != 0) {
        fprintf(stderr, "base64 form does not parse again: %s\n", err.msg);
        abort();
    }
    char reason[512];
    if (proto_schema_compatible(s, again, reason, sizeof reason, &err) != 1) {
        fprintf(stderr, "a schema is not compatible with itself: %s\n", reason);
        abort();
    }
    int32_t path[3] = {(int32_t)(size % 3), (int32_t)(size % 5) - 1, 0};
    (void)proto_schema_message_at(s, path, (size_t)(size % 4), NULL);
    proto_schema_free(from_b64);
    proto_schema_free(again);
    proto_schema_free(s);
    return 0;
}
