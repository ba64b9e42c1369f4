/*
 * decode_framed.c — an example program on the installed libsluice: read one
 * Confluent-framed Avro message (magic byte 0, 4-byte schema id, Avro
 * binary) from standard input and print its value as one line of JSON.
 *
 * The writer schema comes from a Schema Registry by the id in the frame
 * (--registry URL: sluice registry, Confluent's, Karapace, Redpanda), or
 * from a file (--schema FILE) when no registry is at hand. Build it against
 * an installed libsluice with pkg-config:
 *
 *   cc -std=c11 decode_framed.c -o decode_framed $(pkg-config --cflags --libs sluice)
 *   kcat -C -b BROKER -t events -c 1 -D '' -e | ./decode_framed --registry http://127.0.0.1:8081
 *
 * Exit codes: 0 decoded, 1 the message or schema could not be read or
 * decoded (the reason on stderr), 2 bad usage. tests/integration/
 * example_decode.sh builds and runs it against an install in a temporary
 * prefix, and against the Debian packages.
 */
#include <sluice/avro.h>
#include <sluice/error.h>
#include <sluice/sr.h>
#include <sluice/wire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT ((size_t)64 << 20)

/* The whole of f, up to MAX_INPUT bytes; NULL on error (message printed). */
static unsigned char *read_all(FILE *f, const char *what, size_t *len)
{
    size_t cap = 4096, n = 0;
    unsigned char *data = malloc(cap);
    while (data) {
        n += fread(data + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= MAX_INPUT) {
            fprintf(stderr, "decode_framed: %s is larger than %zu bytes\n", what, MAX_INPUT);
            free(data);
            return NULL;
        }
        unsigned char *bigger = realloc(data, cap * 2);
        if (!bigger) free(data);
        data = bigger;
        cap *= 2;
    }
    if (!data || ferror(f)) {
        fprintf(stderr, "decode_framed: cannot read %s\n", what);
        free(data);
        return NULL;
    }
    *len = n;
    return data;
}

static int usage(FILE *f)
{
    fprintf(f, "usage: decode_framed (--registry URL | --schema FILE) [--avro-json] < message\n");
    return f == stdout ? 0 : 2;
}

/* Parse the writer schema and print the payload as JSON. */
static int decode(const char *schema_text, size_t schema_len, const uint8_t *payload,
                  size_t payload_len, sluice_avro_json_style style)
{
    sluice_error err = {0};
    sluice_avro_schema *schema = NULL;
    if (sluice_avro_schema_parse(schema_text, schema_len, &schema, &err) != 0) {
        fprintf(stderr, "decode_framed: writer schema: %s\n", err.msg);
        return 1;
    }
    char *json = NULL;
    int rc = sluice_avro_to_json(sluice_avro_schema_root(schema), payload, payload_len, style,
                                 &json, NULL, &err);
    if (rc == 0)
        printf("%s\n", json);
    else
        fprintf(stderr, "decode_framed: %s: %s\n", sluice_strerror(rc), err.msg);
    free(json);
    sluice_avro_schema_free(schema);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *registry = NULL, *schema_file = NULL;
    sluice_avro_json_style style = SLUICE_AVRO_JSON_PLAIN;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--registry") == 0 && i + 1 < argc)
            registry = argv[++i];
        else if (strcmp(argv[i], "--schema") == 0 && i + 1 < argc)
            schema_file = argv[++i];
        else if (strcmp(argv[i], "--avro-json") == 0)
            style = SLUICE_AVRO_JSON_AVRO;
        else if (strcmp(argv[i], "--help") == 0)
            return usage(stdout);
        else
            return usage(stderr);
    }
    if (!registry == !schema_file) return usage(stderr);

    size_t len = 0;
    unsigned char *msg = read_all(stdin, "the message", &len);
    if (!msg) return 1;
    sluice_error err = {0};
    int32_t id = 0;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    int rc = 1;
    if (sluice_wire_read(msg, len, &id, &payload, &payload_len, &err) != 0) {
        fprintf(stderr, "decode_framed: %s\n", err.msg);
    } else if (registry) {
        /* One client per process; it caches the schema of every id it fetched. */
        sluice_sr_config cfg;
        sluice_sr_config_init(&cfg);
        cfg.urls = &registry;
        cfg.n_urls = 1;
        sluice_sr *sr = NULL;
        const sluice_sr_schema *writer = NULL;
        if (sluice_sr_new(&cfg, &sr, &err) != 0)
            fprintf(stderr, "decode_framed: registry client: %s\n", err.msg);
        else if (sluice_sr_get_by_id(sr, id, &writer, &err) != 0)
            fprintf(stderr, "decode_framed: schema id %d: %s\n", (int)id, err.msg);
        else
            rc = decode(writer->schema, writer->schema_len, payload, payload_len, style);
        if (writer) sluice_sr_schema_release(writer);
        sluice_sr_destroy(sr);
    } else {
        FILE *f = fopen(schema_file, "rb");
        size_t schema_len = 0;
        unsigned char *text = f ? read_all(f, schema_file, &schema_len) : NULL;
        if (!f) fprintf(stderr, "decode_framed: cannot open %s\n", schema_file);
        if (f) fclose(f);
        if (text) rc = decode((const char *)text, schema_len, payload, payload_len, style);
        free(text);
    }
    free(msg);
    return rc;
}
