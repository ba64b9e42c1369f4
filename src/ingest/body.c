/*
 * body.c — see body.h. Three walkers over one json_lex: the JSON body (an
 * object or an array of them), the NDJSON body (lines as ranges of the
 * same text) and the REST Proxy envelope (scanned into spans).
 *
 * Every walker keeps reading after the first structural problem, skipping
 * (which validates) instead of visiting, so that a malformed byte anywhere
 * in the body still makes it a 400 for malformed JSON — the verdict a tree
 * parse of the whole body would have given first.
 */
#include "ingest/body.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static long syntax(json_lex *lx, ingest_body_error *err)
{
    size_t line, col;
    json_lex_where(lx, lx->err_at, &line, &col);
    err->syntax = true;
    snprintf(err->msg, sizeof err->msg, "malformed JSON at line %zu, column %zu (byte %zu): %s",
             line, col, lx->err_at, lx->err_msg);
    return -1;
}

/* The first structural problem (later ones are not reported). */
static void shape(ingest_body_error *err, bool *bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void shape(ingest_body_error *err, bool *bad, const char *fmt, ...)
{
    if (*bad) return;
    *bad = true;
    err->syntax = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

static long walk_json(json_lex *lx, size_t max_events, ingest_visit_fn visit, void *ctx,
                      ingest_body_error *err)
{
    bool bad = false;
    json_vkind k = json_lex_peek(lx);
    if (k == JSON_V_OBJECT) {
        visit(ctx, lx, 0);
        if (lx->err || json_lex_end(lx)) return syntax(lx, err);
        return 1;
    }
    if (k != JSON_V_ARRAY) {
        if (json_lex_skip(lx) || json_lex_end(lx)) return syntax(lx, err);
        shape(err, &bad, "the body must be a JSON object (one event) or an array of objects");
        return -1;
    }
    if (json_lex_open_array(lx)) return syntax(lx, err);
    size_t count = 0;
    int r;
    while ((r = json_lex_next_item(lx, &count)) == 1) {
        size_t i = count - 1;
        if (i >= max_events) shape(err, &bad, "more than %zu events in one request", max_events);
        k = json_lex_peek(lx);
        if (k != JSON_V_OBJECT)
            shape(err, &bad, "event %zu: expected a JSON object, got %s", i, json_kind_phrase(k));
        if (bad) {
            if (json_lex_skip(lx)) return syntax(lx, err);
            continue;
        }
        json_lex_reset_keys(lx);
        visit(ctx, lx, i);
        if (lx->err) return syntax(lx, err);
    }
    if (r < 0 || json_lex_end(lx)) return syntax(lx, err);
    if (count == 0) shape(err, &bad, "the body holds no events");
    return bad ? -1 : (long)count;
}

static long walk_ndjson(json_lex *lx, size_t max_events, ingest_visit_fn visit, void *ctx,
                        ingest_body_error *err)
{
    const char *body = lx->base;
    size_t len = (size_t)(lx->text_end - lx->base), n = 0;
    bool bad = false;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(body + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - body) : len, start = at;
        at = nl ? end + 1 : len;
        json_lex_range(lx, start, end);
        if (json_lex_ws(lx) < 0) continue; /* a blank line */
        if (n == max_events) shape(err, &bad, "more than %zu events in one request", max_events);
        if (json_lex_peek(lx) != JSON_V_OBJECT) {
            size_t line, col;
            json_lex_where(lx, start, &line, &col);
            shape(err, &bad, "line %zu (byte %zu): each line must be one JSON object", line, start);
        }
        if (bad) {
            json_lex_skip(lx);
        } else {
            json_lex_reset_keys(lx);
            visit(ctx, lx, n);
        }
        if (lx->err || json_lex_end(lx)) return syntax(lx, err);
        n++;
    }
    if (n == 0) shape(err, &bad, "the body holds no events");
    return bad ? -1 : (long)n;
}

long ingest_body_walk(json_lex *lx, ingest_body_kind kind, size_t max_events, ingest_visit_fn visit,
                      void *ctx, ingest_body_error *err)
{
    err->syntax = false;
    err->msg[0] = '\0';
    if (kind == INGEST_BODY_NDJSON) return walk_ndjson(lx, max_events, visit, ctx, err);
    return walk_json(lx, max_events, visit, ctx, err);
}

/* ---- REST Proxy ------------------------------------------------------------------ */

static bool key_is(const json_str *k, const char *name)
{
    size_t n = strlen(name);
    return k->len == n && memcmp(k->s, name, n) == 0;
}

/* The span of the value at lx (skipped, so validated). */
static int span(json_lex *lx, size_t *at, size_t *len)
{
    json_lex_ws(lx);
    *at = json_lex_offset(lx);
    if (json_lex_skip(lx)) return -1;
    *len = json_lex_offset(lx) - *at;
    return 0;
}

/* A non-negative int32 or null; 1 when it was something else (skipped). */
static int small_id(json_lex *lx, int32_t *out)
{
    json_vkind k = json_lex_peek(lx);
    if (k == JSON_V_NULL) return json_lex_literal(lx) == JSON_V_NONE ? -1 : 0;
    if (k != JSON_V_NUMBER) return json_lex_skip(lx) ? -1 : 1;
    json_num num;
    if (json_lex_number(lx, &num)) return -1;
    if (!num.int_ok || num.i < 0 || num.i > INT32_MAX) return 1;
    *out = (int32_t)num.i;
    return 0;
}

static int read_record(json_lex *lx, size_t i, ingest_rest_record *rec, ingest_body_error *err,
                       bool *bad)
{
    *rec = (ingest_rest_record){.partition = -1};
    json_lex_dups dups;
    if (json_lex_open_object(lx, &dups)) return -1;
    size_t count = 0;
    bool has_value = false;
    json_str key;
    int r;
    while ((r = json_lex_next_key(lx, &count, &key)) == 1) {
        if (json_lex_key_unique(lx, &dups, &key, NULL) != 1) return -1;
        if (key_is(&key, "value")) {
            has_value = true;
            rec->value_null = json_lex_peek(lx) == JSON_V_NULL;
            if (span(lx, &rec->value_at, &rec->value_len)) return -1;
        } else if (key_is(&key, "key")) {
            bool null = json_lex_peek(lx) == JSON_V_NULL;
            if (span(lx, &rec->key_at, &rec->key_len)) return -1;
            if (null) rec->key_len = 0;
        } else if (key_is(&key, "partition")) {
            int rc = small_id(lx, &rec->partition);
            if (rc < 0) return -1;
            if (rc) shape(err, bad, "record %zu: partition must be a non-negative integer", i);
        } else {
            shape(err, bad, "record %zu: unknown field \"%.*s\"", i,
                  (int)(key.len > 64 ? 64 : key.len), key.s);
            if (json_lex_skip(lx)) return -1;
        }
    }
    if (r < 0) return -1;
    if (!has_value) shape(err, bad, "record %zu: no \"value\"", i);
    return 0;
}

static int read_records(json_lex *lx, size_t max_events, ingest_rest *out, ingest_body_error *err,
                        bool *bad)
{
    if (json_lex_peek(lx) != JSON_V_ARRAY) {
        shape(err, bad, "\"records\" must be an array");
        return json_lex_skip(lx);
    }
    if (json_lex_open_array(lx)) return -1;
    size_t count = 0, cap = 0;
    int r;
    while ((r = json_lex_next_item(lx, &count)) == 1) {
        size_t i = count - 1;
        if (i >= max_events) shape(err, bad, "more than %zu records in one request", max_events);
        if (json_lex_peek(lx) != JSON_V_OBJECT)
            shape(err, bad, "record %zu: expected an object with \"value\"", i);
        if (*bad) {
            if (json_lex_skip(lx)) return -1;
            continue;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            ingest_rest_record *rs = realloc(out->records, ncap * sizeof *rs);
            if (!rs) return json_lex_fail(lx, json_lex_offset(lx), "out of memory");
            out->records = rs;
            cap = ncap;
        }
        if (read_record(lx, i, &out->records[out->n++], err, bad)) return -1;
    }
    return r < 0 ? -1 : 0;
}

/* A schema given as a string (decoded and copied) or null. */
static int schema_text(json_lex *lx, const char *name, char **out, size_t *len,
                       ingest_body_error *err, bool *bad)
{
    json_vkind k = json_lex_peek(lx);
    if (k == JSON_V_NULL) return json_lex_literal(lx) == JSON_V_NONE ? -1 : 0;
    if (k != JSON_V_STRING) {
        shape(err, bad, "%s must be a string holding the schema", name);
        return json_lex_skip(lx);
    }
    json_str s;
    if (json_lex_string(lx, &s)) return -1;
    free(*out);
    *out = malloc(s.len + 1);
    if (!*out) return json_lex_fail(lx, s.at, "out of memory");
    memcpy(*out, s.s, s.len);
    (*out)[s.len] = '\0';
    *len = s.len;
    return 0;
}

int ingest_rest_scan(json_lex *lx, size_t max_events, ingest_rest *out, ingest_body_error *err)
{
    memset(out, 0, sizeof *out);
    out->value_schema_id = out->key_schema_id = -1;
    err->syntax = false;
    err->msg[0] = '\0';
    bool bad = false, has_records = false;
    if (json_lex_peek(lx) != JSON_V_OBJECT) {
        if (json_lex_skip(lx) || json_lex_end(lx)) return (int)syntax(lx, err);
        shape(err, &bad, "the body must be a JSON object with \"records\"");
        return -1;
    }
    json_lex_dups dups;
    if (json_lex_open_object(lx, &dups)) return (int)syntax(lx, err);
    size_t count = 0;
    json_str key;
    int r;
    while ((r = json_lex_next_key(lx, &count, &key)) == 1) {
        if (json_lex_key_unique(lx, &dups, &key, NULL) != 1) return (int)syntax(lx, err);
        int rc = 0;
        if (key_is(&key, "records")) {
            has_records = true;
            rc = read_records(lx, max_events, out, err, &bad);
        } else if (key_is(&key, "value_schema_id") || key_is(&key, "key_schema_id")) {
            bool value = key.s[0] == 'v';
            rc = small_id(lx, value ? &out->value_schema_id : &out->key_schema_id);
            if (rc == 1) {
                shape(err, &bad, "%s must be a schema id (a non-negative integer)",
                      value ? "value_schema_id" : "key_schema_id");
                rc = 0;
            }
        } else if (key_is(&key, "value_schema")) {
            rc = schema_text(lx, "value_schema", &out->value_schema, &out->value_schema_len, err,
                             &bad);
        } else if (key_is(&key, "key_schema")) {
            rc = schema_text(lx, "key_schema", &out->key_schema, &out->key_schema_len, err, &bad);
        } else {
            shape(err, &bad, "unknown field \"%.*s\" in the request",
                  (int)(key.len > 64 ? 64 : key.len), key.s);
            rc = json_lex_skip(lx);
        }
        if (rc < 0) return (int)syntax(lx, err);
    }
    if (r < 0 || json_lex_end(lx)) return (int)syntax(lx, err);
    if (!has_records) shape(err, &bad, "\"records\" must be an array");
    return bad ? -1 : 0;
}

void ingest_rest_free(ingest_rest *r)
{
    free(r->records);
    free(r->value_schema);
    free(r->key_schema);
    memset(r, 0, sizeof *r);
    r->value_schema_id = r->key_schema_id = -1;
}

int ingest_find_member(json_lex *lx, size_t at, size_t len, const char *name, size_t *vat,
                       size_t *vlen)
{
    json_lex_range(lx, at, at + len);
    if (json_lex_open_object(lx, NULL)) return -1;
    size_t count = 0;
    json_str key;
    while (json_lex_next_key(lx, &count, &key) == 1) {
        if (key_is(&key, name)) return span(lx, vat, vlen);
        if (json_lex_skip(lx)) return -1;
    }
    return -1;
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
