/*
 * fuzz_sr_response.c — every parser of registry answers, and the Confluent
 * frame reader, on arbitrary bytes. The first byte picks the parser and
 * the HTTP status; the rest is the body. Any crash, leak or sanitizer report
 * is a bug; a parse that succeeds must yield a consistent schema object.
 */
#include <sluice/wire.h>

#include "sr/response.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    sluice_error err;
    sr_schema *s = NULL;
    int32_t id = 0;
    switch (sel % 5) {
    case 0:
        if (sr_response_schema_by_id("GET f", 1, body, len, &s, &err) == 0) {
            if (!s || s->pub.id != 1 || strlen(s->pub.schema) > s->pub.schema_len) abort();
            for (size_t i = 0; i < s->pub.n_references; i++)
                if (!s->pub.references[i].name || !s->pub.references[i].subject[0]) abort();
            sr_schema_release(s);
        }
        break;
    case 1:
    case 2:
        if (sr_response_subject_version("GET f", body, len, sel % 5 == 2 ? "\"int\"" : NULL, &s,
                                        &err) == 0) {
            if (!s || !s->pub.subject || s->pub.version < 1 || s->pub.id < 0) abort();
            if (s->pub.n_references && !s->pub.references) abort();
            sr_schema_release(s);
        }
        break;
    case 3:
        if (sr_response_register("POST f", body, len, &id, &err) == 0 && id < 0) abort();
        if (sr_response_error("GET f", 400 + (sel >> 3), body, len, &err) >= 0)
            abort(); /* an error answer always maps to an error */
        break;
    case 4: {
        const uint8_t *payload;
        size_t plen;
        if (sluice_wire_read(body, len, &id, &payload, &plen, &err) == 0 &&
            (plen != len - 5 || payload != (const uint8_t *)body + 5 || id < 0))
            abort();
        break;
    }
    }
    return 0;
}
