/*
 * body.c — see body.h.
 */
#include "ingest/body.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PARSE_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void trim(const char **p, size_t *len)
{
    while (*len && is_space(**p)) {
        (*p)++;
        (*len)--;
    }
    while (*len && is_space((*p)[*len - 1]))
        (*len)--;
}

static int add_root(ingest_batch *b, json_t *root, size_t *cap)
{
    if (b->n_roots == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        json_t **r = realloc(b->roots, ncap * sizeof *r);
        if (!r) return -1;
        b->roots = r;
        *cap = ncap;
    }
    b->roots[b->n_roots++] = root;
    return 0;
}

static int reserve_events(ingest_batch *b, size_t *cap, size_t want)
{
    if (want <= *cap) return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < want)
        ncap *= 2;
    ingest_event *e = realloc(b->events, ncap * sizeof *e);
    if (!e) return -1;
    b->events = e;
    *cap = ncap;
    return 0;
}

static ingest_event event_of(json_t *v, const char *raw, size_t raw_len)
{
    return (ingest_event){.value = v, .key = NULL, .raw = raw, .raw_len = raw_len, .partition = -1};
}

/* jansson's error, placed in the body: `base_line` lines and `base_byte`
 * bytes precede the text that was parsed. */
static int syntax_error(char *err, size_t n, const json_error_t *je, size_t base_line,
                        size_t base_byte)
{
    return fail(err, n, "malformed JSON at line %zu, column %d (byte %zu): %s",
                base_line + (size_t)(je->line > 0 ? je->line : 1), je->column > 0 ? je->column : 1,
                base_byte + (size_t)je->position, je->text);
}

static int parse_json(const char *body, size_t len, size_t max_events, ingest_batch *b, char *err,
                      size_t n)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, PARSE_FLAGS, &je);
    if (!root) return syntax_error(err, n, &je, 0, 0);
    size_t roots_cap = 0, ev_cap = 0;
    if (add_root(b, root, &roots_cap) != 0) {
        json_decref(root);
        return fail(err, n, "out of memory");
    }
    if (json_is_object(root)) {
        const char *raw = body;
        size_t raw_len = len;
        trim(&raw, &raw_len);
        if (reserve_events(b, &ev_cap, 1) != 0) return fail(err, n, "out of memory");
        b->events[b->n++] = event_of(root, raw, raw_len);
        return 0;
    }
    if (!json_is_array(root))
        return fail(err, n, "the body must be a JSON object (one event) or an array of objects");
    size_t count = json_array_size(root);
    if (count > max_events)
        return fail(err, n, "%zu events in one request; at most %zu", count, max_events);
    if (reserve_events(b, &ev_cap, count) != 0) return fail(err, n, "out of memory");
    for (size_t i = 0; i < count; i++) {
        json_t *v = json_array_get(root, i);
        if (!json_is_object(v))
            return fail(err, n, "event %zu: expected a JSON object, got %s", i,
                        json_is_array(v)     ? "an array"
                        : json_is_string(v)  ? "a string"
                        : json_is_null(v)    ? "null"
                        : json_is_boolean(v) ? "a boolean"
                                             : "a number");
        b->events[b->n++] = event_of(v, NULL, 0);
    }
    return 0;
}

static int parse_ndjson(const char *body, size_t len, size_t max_events, ingest_batch *b, char *err,
                        size_t n)
{
    size_t roots_cap = 0, ev_cap = 0, line_no = 0;
    for (size_t at = 0; at < len; line_no++) {
        const char *nl = memchr(body + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - body) : len;
        const char *line = body + at;
        size_t line_len = end - at, start = at;
        at = nl ? end + 1 : len;
        trim(&line, &line_len);
        if (line_len == 0) continue;
        if (b->n == max_events)
            return fail(err, n, "more than %zu events in one request", max_events);
        json_error_t je;
        json_t *v = json_loadb(line, line_len, PARSE_FLAGS, &je);
        if (!v) return syntax_error(err, n, &je, line_no, (size_t)(line - body));
        if (add_root(b, v, &roots_cap) != 0) {
            json_decref(v);
            return fail(err, n, "out of memory");
        }
        if (!json_is_object(v))
            return fail(err, n, "line %zu (byte %zu): each line must be one JSON object",
                        line_no + 1, start);
        if (reserve_events(b, &ev_cap, b->n + 1) != 0) return fail(err, n, "out of memory");
        b->events[b->n++] = event_of(v, line, line_len);
    }
    return 0;
}

static int schema_id_of(json_t *root, const char *name, int32_t *out, char *err, size_t n)
{
    json_t *v = json_object_get(root, name);
    *out = -1;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
        return fail(err, n, "%s must be a schema id (a non-negative integer)", name);
    *out = (int32_t)json_integer_value(v);
    return 0;
}

static int schema_text_of(json_t *root, const char *name, const char **out, char *err, size_t n)
{
    json_t *v = json_object_get(root, name);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return fail(err, n, "%s must be a string holding the schema", name);
    *out = json_string_value(v);
    return 0;
}

static int parse_rest(const char *body, size_t len, size_t max_events, ingest_batch *b, char *err,
                      size_t n)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, PARSE_FLAGS, &je);
    if (!root) return syntax_error(err, n, &je, 0, 0);
    size_t roots_cap = 0;
    if (add_root(b, root, &roots_cap) != 0) {
        json_decref(root);
        return fail(err, n, "out of memory");
    }
    if (!json_is_object(root))
        return fail(err, n, "the body must be a JSON object with \"records\"");
    if (schema_id_of(root, "value_schema_id", &b->value_schema_id, err, n) ||
        schema_id_of(root, "key_schema_id", &b->key_schema_id, err, n) ||
        schema_text_of(root, "value_schema", &b->value_schema, err, n) ||
        schema_text_of(root, "key_schema", &b->key_schema, err, n))
        return -1;
    const char *known[] = {"records", "value_schema", "value_schema_id", "key_schema",
                           "key_schema_id"};
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok |= strcmp(k, known[i]) == 0;
        if (!ok) return fail(err, n, "unknown field \"%s\" in the request", k);
    }
    json_t *records = json_object_get(root, "records");
    if (!json_is_array(records)) return fail(err, n, "\"records\" must be an array");
    size_t count = json_array_size(records), cap = 0;
    if (count > max_events)
        return fail(err, n, "%zu records in one request; at most %zu", count, max_events);
    if (reserve_events(b, &cap, count) != 0) return fail(err, n, "out of memory");
    for (size_t i = 0; i < count; i++) {
        json_t *r = json_array_get(records, i);
        if (!json_is_object(r))
            return fail(err, n, "record %zu: expected an object with \"value\"", i);
        ingest_event e = event_of(NULL, NULL, 0);
        json_object_foreach(r, k, v)
        {
            if (strcmp(k, "value") == 0) {
                e.value = v;
            } else if (strcmp(k, "key") == 0) {
                e.key = json_is_null(v) ? NULL : v;
            } else if (strcmp(k, "partition") == 0) {
                if (json_is_null(v)) continue;
                if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                    json_integer_value(v) > INT32_MAX)
                    return fail(err, n, "record %zu: partition must be a non-negative integer", i);
                e.partition = (int32_t)json_integer_value(v);
            } else {
                return fail(err, n, "record %zu: unknown field \"%s\"", i, k);
            }
        }
        if (!e.value) return fail(err, n, "record %zu: no \"value\"", i);
        b->events[b->n++] = e;
    }
    return 0;
}

int ingest_parse_body(const char *body, size_t len, ingest_body_kind kind, size_t max_events,
                      ingest_batch *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->value_schema_id = out->key_schema_id = -1;
    int rc;
    switch (kind) {
    case INGEST_BODY_JSON:
        rc = parse_json(body, len, max_events, out, err, err_len);
        break;
    case INGEST_BODY_NDJSON:
        rc = parse_ndjson(body, len, max_events, out, err, err_len);
        break;
    case INGEST_BODY_REST_JSON:
    case INGEST_BODY_REST_AVRO:
        rc = parse_rest(body, len, max_events, out, err, err_len);
        break;
    default:
        rc = fail(err, err_len, "unknown body kind");
    }
    if (rc == 0 && out->n == 0 && kind != INGEST_BODY_REST_JSON && kind != INGEST_BODY_REST_AVRO)
        rc = fail(err, err_len, "the body holds no events");
    if (rc != 0) ingest_batch_free(out);
    return rc;
}

void ingest_batch_free(ingest_batch *b)
{
    for (size_t i = 0; i < b->n_roots; i++)
        json_decref(b->roots[i]);
    free(b->roots);
    free(b->events);
    memset(b, 0, sizeof *b);
    b->value_schema_id = b->key_schema_id = -1;
}

static int media_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n) != 0) return 0;
    const char *p = ct + n;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '\0' || *p == ';';
}

int ingest_body_kind_of(const char *ct, int rest_proxy)
{
    if (!ct) return -1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (rest_proxy) {
        if (media_is(ct, "application/vnd.kafka.avro.v2+json")) return INGEST_BODY_REST_AVRO;
        if (media_is(ct, "application/vnd.kafka.json.v2+json")) return INGEST_BODY_REST_JSON;
        return -1;
    }
    if (media_is(ct, "application/json")) return INGEST_BODY_JSON;
    if (media_is(ct, "application/x-ndjson") || media_is(ct, "application/jsonlines") ||
        media_is(ct, "application/jsonl"))
        return INGEST_BODY_NDJSON;
    return -1;
}
