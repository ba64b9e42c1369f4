/*
 * bench_avro_json.c — the ingest hot path's codec cost: JSON text → Avro
 * binary for a realistic event of 15 fields (nullable strings, longs, an
 * ISO-8601 timestamp, enums, an array of records with an inner string
 * array, a map), single-threaded, in CPU time of the thread.
 *
 * Two ways, on the same events, their output compared byte for byte first:
 *   - streaming: json_lex + json_avro_encode, what ingest runs (no tree);
 *   - tree: jansson's parse, then avro_json_encode on the tree (what ingest
 *     ran before, and the tests' oracle), each half timed alone.
 * Beside them, the bare parse of libyajl (Debian's SAX parser, callbacks
 * that do nothing) — the ceiling of a library tokenizer, which is why the
 * reader is hand-written (src/codec/json_lex.h). The decoder (Avro → JSON,
 * DLQ/CLI path) is timed too.
 *
 * 1024 distinct events are generated once (deterministic) and cycled, so the
 * figures are not those of one input sitting in cache.
 *
 * usage: bench_avro_json [--events N]     (default 500000)
 * Prints one "key: value" line per figure.
 */
#include "codec/avro_json.h"
#include "codec/json_avro.h"

#include "common/clock.h"

#include <time.h>
#ifdef SLUICE_BENCH_YAJL
#include <yajl/yajl_parse.h>
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page_event.h"

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#ifdef SLUICE_BENCH_YAJL
/* Callbacks that only count: what a SAX parse costs before any work. */
static size_t yajl_tokens;
static int y_null(void *c)
{
    (void)c;
    yajl_tokens++;
    return 1;
}
static int y_bool(void *c, int b)
{
    (void)c, (void)b;
    yajl_tokens++;
    return 1;
}
static int y_number(void *c, const char *s, size_t n)
{
    (void)c, (void)s, (void)n;
    yajl_tokens++;
    return 1;
}
static int y_string(void *c, const unsigned char *s, size_t n)
{
    (void)c, (void)s, (void)n;
    yajl_tokens++;
    return 1;
}
static int y_mark(void *c)
{
    (void)c;
    yajl_tokens++;
    return 1;
}
static const yajl_callbacks ycb = {y_null, y_bool,   NULL,   NULL,   y_number, y_string,
                                   y_mark, y_string, y_mark, y_mark, y_mark};
#endif

int main(int argc, char **argv)
{
    long events = 500000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
            events = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_avro_json [--events N]\n");
            return 2;
        }
    }
    if (events < DISTINCT) events = DISTINCT;

    sluice_avro_schema *schema = NULL;
    sluice_error err;
    if (sluice_avro_schema_parse(schema_text, strlen(schema_text), &schema, &err) != 0) {
        fprintf(stderr, "bench_avro_json: schema: %s\n", err.msg);
        return 1;
    }
    const sluice_avro_node *root = sluice_avro_schema_root(schema);

    char *texts[DISTINCT];
    size_t lens[DISTINCT];
    json_t *values[DISTINCT];
    size_t json_bytes = 0, avro_bytes = 0;
    buf out;
    buf_init(&out, 1 << 20);
    for (int i = 0; i < DISTINCT; i++) {
        texts[i] = make_event(i);
        lens[i] = strlen(texts[i]);
        json_bytes += lens[i];
        json_error_t jerr;
        values[i] = json_loadb(texts[i], lens[i], 0, &jerr);
        avro_json_errors errs;
        buf_reset(&out);
        if (!values[i] || avro_json_encode(root, values[i], &out, &errs) != 0) {
            fprintf(stderr, "bench_avro_json: event %d does not encode: %s: %s\n%s\n", i,
                    errs.n ? errs.items[0].path : "", errs.n ? errs.items[0].message : "",
                    texts[i]);
            return 1;
        }
        avro_bytes += out.len;
    }
    double json_per_event = (double)json_bytes / DISTINCT;
    double avro_per_event = (double)avro_bytes / DISTINCT;

    /* The streaming encoder must give the tree's bytes on every event. */
    json_avro *plan = NULL;
    if (json_avro_compile(root, &plan, &err) != 0) {
        fprintf(stderr, "bench_avro_json: compile: %s\n", err.msg);
        return 1;
    }
    buf tree_out;
    buf_init(&tree_out, 1 << 20);
    json_lex lx;
    json_lex_init(&lx, texts[0], lens[0]);
    for (int i = 0; i < DISTINCT; i++) {
        buf_reset(&out);
        buf_reset(&tree_out);
        json_lex_free(&lx);
        json_lex_init(&lx, texts[i], lens[i]);
        if (json_avro_encode(plan, &lx, &out, NULL) != 0 ||
            avro_json_encode(root, values[i], &tree_out, NULL) != 0 || out.len != tree_out.len ||
            memcmp(out.data, tree_out.data, out.len) != 0) {
            fprintf(stderr, "bench_avro_json: event %d: streaming output differs\n", i);
            return 1;
        }
    }
    size_t sink = 0;

    /* streaming: lex + encode, one reader per event as ingest has one per
     * body (its scratch kept, as a worker keeps it) */
    int64_t t0 = cpu_ns();
    for (long n = 0; n < events; n++) {
        int i = (int)(n % DISTINCT);
        buf_reset(&out);
        lx.base = lx.p = texts[i];
        lx.end = lx.text_end = texts[i] + lens[i];
        json_lex_reset_keys(&lx);
        if (json_avro_encode(plan, &lx, &out, NULL) != 0) return 1;
        sink += out.len;
    }
    double stream_ns = (double)(cpu_ns() - t0) / (double)events;
    json_lex_free(&lx);

    double yajl_ns = 0;
#ifdef SLUICE_BENCH_YAJL
    t0 = cpu_ns();
    for (long n = 0; n < events; n++) {
        int i = (int)(n % DISTINCT);
        yajl_handle h = yajl_alloc(&ycb, NULL, NULL);
        if (yajl_parse(h, (const unsigned char *)texts[i], lens[i]) != yajl_status_ok ||
            yajl_complete_parse(h) != yajl_status_ok)
            return 1;
        yajl_free(h);
    }
    yajl_ns = (double)(cpu_ns() - t0) / (double)events;
    sink += yajl_tokens;
#endif

    /* jansson parse alone */
    t0 = cpu_ns();
    for (long n = 0; n < events; n++) {
        json_error_t jerr;
        json_t *v = json_loadb(texts[n % DISTINCT], lens[n % DISTINCT], 0, &jerr);
        sink += json_object_size(v);
        json_decref(v);
    }
    double parse_ns = (double)(cpu_ns() - t0) / (double)events;

    /* the tree encode alone, on parsed trees */
    t0 = cpu_ns();
    for (long n = 0; n < events; n++) {
        buf_reset(&out);
        if (avro_json_encode(root, values[n % DISTINCT], &out, NULL) != 0) return 1;
        sink += out.len;
    }
    double encode_ns = (double)(cpu_ns() - t0) / (double)events;

    /* decode (Avro → JSON text) of the encoded events */
    static uint8_t enc_store[DISTINCT][2048];
    size_t enc_len[DISTINCT];
    for (int i = 0; i < DISTINCT; i++) {
        buf_reset(&out);
        avro_json_encode(root, values[i], &out, NULL);
        if (out.len > sizeof enc_store[i]) return 1;
        memcpy(enc_store[i], out.data, out.len);
        enc_len[i] = out.len;
    }
    buf text;
    buf_init(&text, 1 << 20);
    t0 = cpu_ns();
    for (long n = 0; n < events; n++) {
        buf_reset(&text);
        if (avro_json_decode(root, enc_store[n % DISTINCT], enc_len[n % DISTINCT], AVRO_JSON_AVRO,
                             &text, &err) != 0) {
            fprintf(stderr, "bench_avro_json: decode: %s\n", err.msg);
            return 1;
        }
        sink += text.len;
    }
    double decode_ns = (double)(cpu_ns() - t0) / (double)events;

    printf("avro_json.events: %ld\n", events);
    printf("avro_json.distinct_events: %d\n", DISTINCT);
    printf("avro_json.fields_per_event: %zu\n", root->n_fields);
    printf("avro_json.json_bytes_per_event: %.1f\n", json_per_event);
    printf("avro_json.avro_bytes_per_event: %.1f\n", avro_per_event);
    printf("avro_json.streaming_ns_per_event: %.0f\n", stream_ns);
    printf("avro_json.streaming_json_mb_per_s: %.1f\n", json_per_event / stream_ns * 1e3);
    printf("avro_json.streaming_events_per_s: %.0f\n", 1e9 / stream_ns);
    printf("avro_json.streaming_speedup_over_tree: %.1f\n", (parse_ns + encode_ns) / stream_ns);
    if (yajl_ns > 0) {
        printf("avro_json.yajl_parse_only_ns_per_event: %.0f\n", yajl_ns);
        printf("avro_json.yajl_parse_only_json_mb_per_s: %.1f\n", json_per_event / yajl_ns * 1e3);
        printf("avro_json.streaming_over_yajl_parse_only: %.2f\n", stream_ns / yajl_ns);
    }
    printf("avro_json.parse_ns_per_event: %.0f\n", parse_ns);
    printf("avro_json.parse_json_mb_per_s: %.1f\n", json_per_event / parse_ns * 1e3);
    printf("avro_json.encode_ns_per_event: %.0f\n", encode_ns);
    printf("avro_json.encode_json_mb_per_s: %.1f\n", json_per_event / encode_ns * 1e3);
    printf("avro_json.encode_avro_mb_per_s: %.1f\n", avro_per_event / encode_ns * 1e3);
    printf("avro_json.parse_plus_encode_ns_per_event: %.0f\n", parse_ns + encode_ns);
    printf("avro_json.parse_plus_encode_events_per_s: %.0f\n", 1e9 / (parse_ns + encode_ns));
    printf("avro_json.parse_plus_encode_json_mb_per_s: %.1f\n",
           json_per_event / (parse_ns + encode_ns) * 1e3);
    printf("avro_json.encode_share_of_parse_plus_encode: %.2f\n",
           encode_ns / (parse_ns + encode_ns));
    printf("avro_json.decode_ns_per_event: %.0f\n", decode_ns);
    printf("avro_json.decode_avro_mb_per_s: %.1f\n", avro_per_event / decode_ns * 1e3);
    if (sink == 0) printf("(nothing)\n");

    for (int i = 0; i < DISTINCT; i++) {
        free(texts[i]);
        json_decref(values[i]);
    }
    buf_free(&out);
    buf_free(&tree_out);
    buf_free(&text);
    json_avro_free(plan);
    sluice_avro_schema_free(schema);
    return 0;
}
