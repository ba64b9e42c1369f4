/*
 * bench_avro_json.c — the ingest hot path's codec cost: JSON → Avro binary
 * (avro_json_encode) for a realistic event of 15 fields (nullable strings,
 * longs, an ISO-8601 timestamp, enums, an array of records with an inner
 * string array, a map), single-threaded. jansson's parse of the request
 * text is timed separately from our encode, because ingest pays both and
 * only the second is ours. The decoder (Avro → JSON, DLQ/CLI path) is timed
 * too.
 *
 * 1024 distinct events are generated once (deterministic) and cycled, so the
 * figures are not those of one input sitting in cache.
 *
 * usage: bench_avro_json [--events N]     (default 500000)
 * Prints one "key: value" line per figure.
 */
#include "codec/avro_json.h"

#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page_event.h"

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

    /* jansson parse alone */
    int64_t t0 = clock_mono_ns();
    size_t sink = 0;
    for (long n = 0; n < events; n++) {
        json_error_t jerr;
        json_t *v = json_loadb(texts[n % DISTINCT], lens[n % DISTINCT], 0, &jerr);
        sink += json_object_size(v);
        json_decref(v);
    }
    double parse_ns = (double)(clock_mono_ns() - t0) / (double)events;

    /* our encode alone, on parsed trees */
    t0 = clock_mono_ns();
    for (long n = 0; n < events; n++) {
        buf_reset(&out);
        if (avro_json_encode(root, values[n % DISTINCT], &out, NULL) != 0) return 1;
        sink += out.len;
    }
    double encode_ns = (double)(clock_mono_ns() - t0) / (double)events;

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
    t0 = clock_mono_ns();
    for (long n = 0; n < events; n++) {
        buf_reset(&text);
        if (avro_json_decode(root, enc_store[n % DISTINCT], enc_len[n % DISTINCT], AVRO_JSON_AVRO,
                             &text, &err) != 0) {
            fprintf(stderr, "bench_avro_json: decode: %s\n", err.msg);
            return 1;
        }
        sink += text.len;
    }
    double decode_ns = (double)(clock_mono_ns() - t0) / (double)events;

    printf("avro_json.events: %ld\n", events);
    printf("avro_json.distinct_events: %d\n", DISTINCT);
    printf("avro_json.fields_per_event: %zu\n", root->n_fields);
    printf("avro_json.json_bytes_per_event: %.1f\n", json_per_event);
    printf("avro_json.avro_bytes_per_event: %.1f\n", avro_per_event);
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
    buf_free(&text);
    sluice_avro_schema_free(schema);
    return 0;
}
