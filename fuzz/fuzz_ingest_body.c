/*
 * fuzz_ingest_body.c — ingest's request-body parser on arbitrary bytes: the
 * first byte picks the body kind (JSON, NDJSON, REST Proxy JSON/Avro) and
 * an event limit, the rest is the body. Any crash, leak or sanitizer report
 * is a bug; a parse that succeeds must give events that point inside the
 * body and a batch that frees cleanly.
 */
#include "ingest/body.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    ingest_body_kind kind = (ingest_body_kind)(data[0] % 4);
    size_t max_events = (size_t)(data[0] >> 2) + 1;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    ingest_batch b;
    char err[256];
    if (ingest_parse_body(body, len, kind, max_events, &b, err, sizeof err) == 0) {
        if (b.n > max_events) abort();
        for (size_t i = 0; i < b.n; i++) {
            const ingest_event *e = &b.events[i];
            if (!e->value) abort();
            if (e->raw && (e->raw < body || e->raw + e->raw_len > body + len)) abort();
        }
        ingest_batch_free(&b);
    } else if (!memchr(err, '\0', sizeof err) || err[0] == '\0') {
        abort(); /* every failure says why */
    }
    return 0;
}
