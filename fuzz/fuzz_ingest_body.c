/*
 * fuzz_ingest_body.c — ingest's request-body walkers (src/ingest/body.c)
 * on arbitrary bytes: the first byte picks the body kind (JSON, NDJSON,
 * REST Proxy JSON/Avro) and an event limit, the rest is the body. Any
 * crash, leak or sanitizer report is a bug. A walk that succeeds must have
 * visited exactly the events it counts (at most the limit), each an object
 * that the visitor consumed whole; a REST scan must give spans inside the
 * body; every failure must say why.
 */
#include "ingest/body.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct visits {
    size_t n, next;
} visits;

static void visit(void *ctx, json_lex *lx, size_t index)
{
    visits *v = ctx;
    if (index != v->next++) abort(); /* in order, none skipped */
    if (json_lex_peek(lx) != JSON_V_OBJECT) abort();
    json_lex_skip(lx);
    v->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    ingest_body_kind kind = (ingest_body_kind)(data[0] % 4);
    size_t max_events = (size_t)(data[0] >> 2) + 1;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    json_lex lx;
    json_lex_init(&lx, body, len);
    ingest_body_error err;
    if (kind == INGEST_BODY_JSON || kind == INGEST_BODY_NDJSON) {
        visits v = {0, 0};
        long n = ingest_body_walk(&lx, kind, max_events, visit, &v, &err);
        if (n >= 0 && ((size_t)n != v.n || (size_t)n > max_events || n == 0)) abort();
        if (n < 0 && err.msg[0] == '\0') abort();
    } else {
        ingest_rest rest;
        if (ingest_rest_scan(&lx, max_events, &rest, &err) == 0) {
            if (rest.n > max_events) abort();
            for (size_t i = 0; i < rest.n; i++) {
                const ingest_rest_record *r = &rest.records[i];
                if (r->value_at + r->value_len > len || r->key_at + r->key_len > len) abort();
            }
        } else if (err.msg[0] == '\0') {
            abort();
        }
        ingest_rest_free(&rest);
    }
    json_lex_free(&lx);
    return 0;
}
