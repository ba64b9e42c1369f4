/*
 * route.c — ingest's topic route (ingest_int.h has the flow): find the
 * schema a topic's events are written with, walk the body once, and
 * encode every event into the request — all of them, collecting every
 * error, before anything is produced (all-or-nothing).
 *
 * Schemas: the latest of `<topic>-value` through the shared registry
 * client (its cache makes that a lookup, not a request), or the id / text
 * a REST Proxy body names. Each schema is parsed once, by its registry
 * schemaType, and compiled into what its events need: an Avro plan
 * (json_avro.h), a Protobuf encoder for one message of the file
 * (json_proto.h; the topic's protobuf_message, else the first) with the
 * references resolved through the client, or a JSON Schema validator
 * (json_schema_validate.h), likewise. Compiled schemas live in a small
 * cache keyed by (id, message) (ingest.schema_cache_entries; when full it
 * is emptied and refilled — schemas are few). Encoders hold the cache's
 * read lock while they use one, so a refill (write lock) never frees one
 * under them. A configured topic whose Protobuf or JSON schema cannot be
 * compiled (a keyword outside the JSON Schema subset, a message the file
 * does not define) stops ingest at start, naming both.
 *
 * Values: an Avro or Protobuf event is written as a Confluent frame (magic
 * byte, id, for Protobuf the message-index array in the topic's encoding,
 * body) into the request's payload buffer, straight from the JSON text; a
 * JSON-Schema event is validated and its text copied after the 5-byte
 * header. A JSON event of a topic without a schema (or REST Proxy's JSON)
 * is not copied at all: the request takes the body from the HTTP server
 * and each message points at its own bytes in it.
 *
 * Threads: HTTP workers, any number at once.
 */
#include "ingest/ingest_int.h"

#include "codec/avro_json.h"
#include "ingest/body.h"

#include <sluice/avro.h>
#include <sluice/log.h>
#include <sluice/wire.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ERRORS_LISTED 1000

/* ---- compiled schemas ------------------------------------------------------------------- */

int route_init(ingest *g)
{
    pthread_rwlock_init(&g->sc_lock, NULL);
    g->sc_cap = (size_t)g->cfg->ingest.schema_cache_entries;
    g->sc = calloc(g->sc_cap ? g->sc_cap : 1, sizeof *g->sc);
    return g->sc ? 0 : SLUICE_ENOMEM;
}

static void entry_free(schema_entry *e)
{
    json_avro_free(e->plan);
    sluice_avro_schema_free(e->schema);
    json_proto_free(e->proto_plan);
    proto_schema_free(e->proto);
    json_validator_free(e->validator);
    json_schema_free(e->json);
    free(e->message);
}

void route_free(ingest *g)
{
    for (size_t i = 0; i < g->sc_n; i++)
        entry_free(&g->sc[i]);
    free(g->sc);
    g->sc = NULL;
    pthread_rwlock_destroy(&g->sc_lock);
}

static bool same_message(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static const schema_entry *schema_lookup_locked(ingest *g, int32_t id, const char *message)
{
    for (size_t i = 0; i < g->sc_n; i++)
        if (g->sc[i].id == id && same_message(g->sc[i].message, message)) return &g->sc[i];
    return NULL;
}

static schema_kind kind_of(const sluice_sr_schema *s)
{
    if (!s || !s->schema_type || strcasecmp(s->schema_type, "AVRO") == 0) return SCHEMA_AVRO;
    return strcasecmp(s->schema_type, "PROTOBUF") == 0 ? SCHEMA_PROTOBUF : SCHEMA_JSON;
}

/* The message events of a PROTOBUF subject are encoded as: the one named
 * (it must be in the root file, which is what a message-index path can
 * name) or the file's first; its path for the frame. */
static int proto_message_for(schema_entry *e, const char *name, const proto_message **out,
                             char *err, size_t n)
{
    const proto_file *root = proto_schema_root(e->proto);
    const proto_message *m = NULL;
    if (!name) {
        if (root->n_messages == 0) {
            snprintf(err, n, "schema %d defines no message", (int)e->id);
            return -1;
        }
        m = &root->messages[0];
    } else if (!(m = proto_schema_find_message(e->proto, name)) || m->file != root) {
        snprintf(err, n, "schema %d: %s message %.200s%s", (int)e->id, m ? "the" : "no", name,
                 m ? " is defined in an imported file, not the schema's own (a frame's "
                     "message-index path cannot name it)"
                   : " (protobuf_message is a full name, e.g. \"shop.Order\")");
        return -1;
    }
    size_t depth = 0;
    for (const proto_message *x = m; x; x = x->parent)
        depth++;
    if (depth > SLUICE_WIRE_MAX_INDEXES) {
        snprintf(err, n, "schema %d: message %.200s nests deeper than %d", (int)e->id, m->full_name,
                 SLUICE_WIRE_MAX_INDEXES);
        return -1;
    }
    e->n_path = depth;
    for (const proto_message *x = m; x; x = x->parent)
        e->path[--depth] = (int32_t)x->index;
    *out = m;
    return 0;
}

/* Parse a PROTOBUF or JSON schema with its references (resolved through
 * the shared client, so each is fetched once) and compile its encoder or
 * validator. 0, or an HTTP status with err filled. */
static int compile_typed(ingest *g, const sluice_sr_schema *s, schema_entry *e, char *err, size_t n)
{
    sluice_error se;
    sluice_sr_resolved *res = NULL;
    if (sluice_sr_resolve_references(g->sr, s, &res, &se) != 0) {
        snprintf(err, n, "schema %d: its references: %.300s", (int)s->id, se.msg);
        return se.code == SLUICE_EIO || se.code == SLUICE_ETIMEDOUT ? 503 : 422;
    }
    int rc = 0;
    if (e->kind == SCHEMA_PROTOBUF) {
        proto_source *deps = calloc(res->n ? res->n : 1, sizeof *deps);
        for (size_t i = 0; deps && i < res->n; i++)
            deps[i] =
                (proto_source){res->names[i], res->schemas[i]->schema, res->schemas[i]->schema_len,
                               res->schemas[i]->subject, res->schemas[i]->version};
        const proto_message *m = NULL;
        if (!deps) {
            snprintf(err, n, "out of memory");
            rc = 500;
        } else if (proto_schema_parse(s->schema, s->schema_len, NULL, deps, res->n, &e->proto,
                                      &se) != 0) {
            snprintf(err, n, "schema %d does not compile: %.300s", (int)s->id, se.msg);
            rc = 422;
        } else if (proto_message_for(e, e->message, &m, err, n) != 0) {
            rc = 422; /* err says which message */
        } else if (json_proto_compile(m, &e->proto_plan, &se) != 0) {
            snprintf(err, n, "schema %d does not compile: %.300s", (int)s->id, se.msg);
            rc = 422;
        }
        free(deps);
    } else {
        json_schema_source *deps = calloc(res->n ? res->n : 1, sizeof *deps);
        for (size_t i = 0; deps && i < res->n; i++)
            deps[i] = (json_schema_source){res->names[i], res->schemas[i]->schema,
                                           res->schemas[i]->schema_len};
        if (!deps) {
            snprintf(err, n, "out of memory");
            rc = 500;
        } else if (json_schema_parse(s->schema, s->schema_len, deps, res->n, &e->json, &se) != 0 ||
                   json_validator_compile(e->json, &e->validator, &se) != 0) {
            snprintf(err, n, "schema %d does not compile: %.300s", (int)s->id, se.msg);
            rc = 422;
        }
        free(deps);
    }
    sluice_sr_resolved_free(res);
    return rc;
}

/* Compile schema `id` (s from the registry, or Avro text a REST Proxy
 * request brought) and add it to the cache. 0, or an HTTP status. */
static int schema_add(ingest *g, int32_t id, const sluice_sr_schema *s, const char *text,
                      size_t len, const char *message, char *err, size_t n)
{
    schema_entry e = {.id = id, .kind = kind_of(s)};
    sluice_error se;
    if (e.kind != SCHEMA_PROTOBUF) message = NULL; /* only Protobuf picks a message */
    if (message && !(e.message = strdup(message))) {
        snprintf(err, n, "out of memory");
        return 500;
    }
    int rc = 0;
    if (e.kind == SCHEMA_AVRO) {
        if (sluice_avro_schema_parse(s ? s->schema : text, s ? s->schema_len : len, &e.schema,
                                     &se) != 0 ||
            json_avro_compile(sluice_avro_schema_root(e.schema), &e.plan, &se) != 0) {
            snprintf(err, n, "schema %d does not compile: %.300s", (int)id, se.msg);
            rc = 422;
        }
    } else {
        rc = compile_typed(g, s, &e, err, n);
    }
    if (rc) {
        entry_free(&e);
        return rc;
    }
    pthread_rwlock_wrlock(&g->sc_lock);
    if (schema_lookup_locked(g, id, e.message)) {
        pthread_rwlock_unlock(&g->sc_lock);
        entry_free(&e);
        return 0;
    }
    if (g->sc_n == g->sc_cap) {
        for (size_t i = 0; i < g->sc_n; i++)
            entry_free(&g->sc[i]);
        g->sc_n = 0;
    }
    g->sc[g->sc_n++] = e;
    pthread_rwlock_unlock(&g->sc_lock);
    return 0;
}

/* The schema to encode with, into *out (NULL: none, JSON as it came).
 * `message`: a PROTOBUF subject's message (NULL: the first); `avro_only`
 * for REST Proxy's Avro bodies. Returns 0 — holding the cache's read lock
 * when *out is set, for the caller to release — or an HTTP status with msg
 * filled. */
static int resolve_schema(ingest *g, const char *subject, int32_t id, const char *text,
                          size_t text_len, const char *message, bool avro_only,
                          const schema_entry **out, int *rest_code, char *msg, size_t n)
{
    sluice_error err;
    const sluice_sr_schema *s = NULL;
    *out = NULL;
    if (!g->sr) {
        snprintf(msg, n, "no schema registry is configured (registry.urls)");
        return 500;
    }
    if (id >= 0) {
        if (sluice_sr_get_by_id(g->sr, id, &s, &err) != 0) {
            *rest_code = err.code == SLUICE_ENOTFOUND ? 40403 : 50002;
            snprintf(msg, n, "schema id %d: %.300s", (int)id, err.msg);
            return err.code == SLUICE_ENOTFOUND ? 422 : 503;
        }
    } else if (text) {
        if (sluice_sr_register(g->sr, subject, text, NULL, &id, &err) != 0) {
            *rest_code = err.code == SLUICE_EINVAL ? 42201 : 50002;
            snprintf(msg, n, "registering the schema under %.100s: %.300s", subject, err.msg);
            return err.code == SLUICE_EIO || err.code == SLUICE_ETIMEDOUT ? 503 : 422;
        }
    } else {
        int rc = sluice_sr_get_latest(g->sr, subject, &s, &err);
        if (rc == SLUICE_ENOTFOUND) {
            /* Never silently schemaless: only a topic configured so passes
             * JSON through unchecked. */
            *rest_code = 40401;
            snprintf(msg, n,
                     "subject %.200s has no schema in the registry; register one, or configure "
                     "the topic with schema: none to accept JSON unchecked",
                     subject);
            return 422;
        }
        if (rc != 0) {
            snprintf(msg, n, "schema registry: %.300s", err.msg);
            return 503;
        }
    }
    if (s) {
        id = s->id;
        if (avro_only && kind_of(s) != SCHEMA_AVRO) {
            snprintf(msg, n,
                     "schema %d of %s is %s; this endpoint (REST Proxy's Avro content type) "
                     "takes Avro schemas, POST /v1/topics/{topic} takes every type",
                     (int)id, subject, s->schema_type);
            sluice_sr_schema_release(s);
            return 422;
        }
        if (kind_of(s) != SCHEMA_PROTOBUF) message = NULL;
    }
    pthread_rwlock_rdlock(&g->sc_lock);
    *out = schema_lookup_locked(g, id, message);
    if (!*out) {
        pthread_rwlock_unlock(&g->sc_lock);
        int rc = schema_add(g, id, s, text, text_len, message, msg, n);
        sluice_sr_schema_release(s);
        if (rc != 0) return rc;
        pthread_rwlock_rdlock(&g->sc_lock);
        *out = schema_lookup_locked(g, id, message);
        if (!*out) { /* evicted in between: the cache is far too small */
            pthread_rwlock_unlock(&g->sc_lock);
            snprintf(msg, n, "schema cache thrashing; raise ingest.schema_cache_entries");
            return 503;
        }
    } else {
        sluice_sr_schema_release(s);
    }
    return 0;
}

/* ---- at start: every configured topic has its schema ------------------------------------ */

#define SCHEMA_FILE_MAX (8u << 20)

static int read_file(const char *path, char **text, size_t *len, sluice_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return sluice_error_set(err, SLUICE_ECONFIG, "%s: cannot open: %m", path);
    buf b;
    buf_init(&b, SCHEMA_FILE_MAX);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(&b, chunk, n);
    fclose(f);
    if (rc) {
        buf_free(&b);
        return sluice_error_set(err, SLUICE_ECONFIG, "%s: larger than %u bytes", path,
                                SCHEMA_FILE_MAX);
    }
    *text = buf_detach(&b, len);
    if (!*text) return sluice_error_set(err, SLUICE_ECONFIG, "%s: empty", path);
    return 0;
}

int route_check_topics(ingest *g, sluice_error *err)
{
    const app_ingest_topic_config *t = g->cfg->ingest.topics.items;
    for (size_t i = 0; i < g->cfg->ingest.topics.n; i++) {
        if (t[i].schemaless || t[i].schema != APP_SCHEMA_REGISTRY) continue;
        if (!g->sr)
            return sluice_error_set(err, SLUICE_ECONFIG,
                                    "ingest.topics[%zu] (%s): no registry (registry.urls) to "
                                    "hold its schema; set schema: none to pass JSON through "
                                    "unchecked",
                                    i, t[i].name);
        char subject[300];
        snprintf(subject, sizeof subject, "%s-value", t[i].name);
        sluice_error e;
        if (t[i].value_schema_file) {
            char *text = NULL;
            size_t len = 0;
            int32_t id;
            if (read_file(t[i].value_schema_file, &text, &len, &e) != 0)
                return sluice_error_set(err, SLUICE_ECONFIG,
                                        "ingest.topics[%zu].value_schema_file: %s", i, e.msg);
            int rc = sluice_sr_register(g->sr, subject, text, NULL, &id, &e);
            free(text);
            if (rc == SLUICE_EIO || rc == SLUICE_ETIMEDOUT) {
                sluice_log(SLUICE_LOG_WARN, "ingest", "registry unreachable; schema not registered",
                           "subject", subject, "error", e.msg, (char *)0);
                continue;
            }
            if (rc != 0)
                return sluice_error_set(err, SLUICE_ECONFIG,
                                        "ingest.topics[%zu].value_schema_file: registering %s as "
                                        "%s: %s",
                                        i, t[i].value_schema_file, subject, e.msg);
            char idtext[16];
            snprintf(idtext, sizeof idtext, "%d", (int)id);
            sluice_log(SLUICE_LOG_INFO, "ingest", "schema registered", "subject", subject, "id",
                       idtext, "file", t[i].value_schema_file, (char *)0);
            continue;
        }
        const sluice_sr_schema *s = NULL;
        int rc = sluice_sr_get_latest(g->sr, subject, &s, &e);
        if (rc == 0 && kind_of(s) != SCHEMA_AVRO) {
            /* Compiled now, so that a schema ingest cannot encode (a
             * keyword outside the JSON Schema subset, a protobuf_message
             * the file does not define) stops it at start, not per request. */
            char why[512];
            int st = schema_add(g, s->id, s, NULL, 0, t[i].protobuf_message, why, sizeof why);
            sluice_sr_schema_release(s);
            if (st == 422)
                return sluice_error_set(err, SLUICE_ECONFIG, "ingest.topics[%zu] (%s): %s", i,
                                        t[i].name, why);
            if (st != 0)
                sluice_log(SLUICE_LOG_WARN, "ingest", "schema not compiled at start", "subject",
                           subject, "error", why, (char *)0);
            continue;
        }
        sluice_sr_schema_release(s);
        if (rc == SLUICE_ENOTFOUND)
            return sluice_error_set(err, SLUICE_ECONFIG,
                                    "ingest.topics[%zu] (%s): subject %s has no schema in the "
                                    "registry; register one, set value_schema_file, set schema: "
                                    "request (REST Proxy requests bring theirs) or schema: none "
                                    "(JSON passed through unchecked)",
                                    i, t[i].name, subject);
        if (rc != 0) /* the registry may come up later; requests wait on it then */
            sluice_log(SLUICE_LOG_WARN, "ingest", "registry unreachable; schema not checked",
                       "subject", subject, "error", e.msg, (char *)0);
    }
    if (!g->sr)
        sluice_log(SLUICE_LOG_WARN, "ingest",
                   "no registry (registry.urls): every topic's JSON is passed through unchecked",
                   (char *)0);
    return 0;
}

/* ---- encoding ------------------------------------------------------------------------------ */

typedef struct encoder {
    ingest *g;
    const route_input *in;
    ingest_req *r;
    route_refusal *why;
    json_lex *lx;
    const schema_entry *value; /* NULL: JSON as it came */
    size_t header_koff;        /* the X-Sluice-Key, appended once */
    size_t listed;
    bool nomem;
} encoder;

static void list_error(encoder *c, size_t idx, const char *path, const char *message)
{
    route_refusal *w = c->why;
    if (c->listed >= MAX_ERRORS_LISTED) return;
    buf_printf(&w->errors, "%s{\"index\":%zu,\"path\":", c->listed ? "," : "", idx);
    buf_append_json_string(&w->errors, path, strlen(path));
    buf_append_str(&w->errors, ",\"message\":");
    buf_append_json_string(&w->errors, message, strlen(message));
    buf_append_byte(&w->errors, '}');
    c->listed++;
}

/* One value at lx, Confluent-framed, appended to out: Avro encoded with
 * the schema's plan; Protobuf encoded for the entry's message, the
 * message-index array after the id in the topic's encoding; JSON checked
 * by the validator and copied as sent. 0; -1 after listing its errors; -2
 * on a syntax error or no memory. */
static int encode_framed(encoder *c, const schema_entry *se, buf *out, size_t idx)
{
    uint8_t hdr[SLUICE_WIRE_HEADER_SIZE + SLUICE_WIRE_MAX_INDEXES * 5 + 5];
    sluice_wire_write_header(hdr, se->id);
    size_t start = out->len, hlen = SLUICE_WIRE_HEADER_SIZE;
    if (se->kind == SCHEMA_PROTOBUF) {
        const app_ingest_topic_config *tc = c->in->tc;
        sluice_wire_index_encoding enc = tc && tc->protobuf_index_encoding == APP_INDEX_PLAIN
                                             ? SLUICE_WIRE_INDEX_PLAIN
                                             : SLUICE_WIRE_INDEX_ZIGZAG;
        hlen += sluice_wire_write_message_indexes(hdr + hlen, se->path, se->n_path, enc);
    }
    if (buf_append(out, hdr, hlen)) {
        c->nomem = true;
        return -2;
    }
    avro_json_errors errs;
    int rc;
    if (se->kind == SCHEMA_AVRO) {
        rc = json_avro_encode(se->plan, c->lx, out, &errs);
    } else if (se->kind == SCHEMA_PROTOBUF) {
        rc = json_proto_encode(se->proto_plan, c->lx, out, &errs);
    } else {
        json_lex_ws(c->lx);
        size_t at = json_lex_offset(c->lx), len;
        rc = json_validator_run(se->validator, c->lx, &errs);
        if (rc == 0) {
            len = json_lex_offset(c->lx) - at;
            if (buf_append(out, c->lx->base + at, len)) rc = SLUICE_ENOMEM;
        }
    }
    if (rc == 0) return 0;
    out->len = start;
    if (rc == SLUICE_EPARSE) return -2;
    if (rc == SLUICE_ENOMEM) {
        c->nomem = true;
        return -2;
    }
    c->why->bad_events++;
    for (int i = 0; i < errs.n; i++)
        list_error(c, idx, errs.items[i].path, errs.items[i].message);
    if (errs.n == 0) list_error(c, idx, "$", "cannot encode the event");
    return -1;
}

/* The value at lx as it was sent: a span of the body (validated). */
static int json_span(encoder *c, size_t *at, size_t *len)
{
    json_lex_ws(c->lx);
    *at = json_lex_offset(c->lx);
    if (json_lex_skip(c->lx)) return -2;
    *len = json_lex_offset(c->lx) - *at;
    return 0;
}

/* The key of a v1 event: the X-Sluice-Key header, or the topic's
 * key_field (a string's text, any other value's JSON as sent), or none. */
static void v1_key(encoder *c, ingest_msg *m, size_t at, size_t len)
{
    const route_input *in = c->in;
    ingest_req *r = c->r;
    if (in->header_key) {
        m->koff = c->header_koff;
        m->klen = strlen(in->header_key);
        return;
    }
    if (!in->tc || !in->tc->key_field) return;
    json_lex *lx = c->lx;
    const char *p = lx->p, *end = lx->end;
    int depth = lx->depth;
    size_t vat, vlen;
    if (ingest_find_member(lx, at, len, in->tc->key_field, &vat, &vlen) == 0) {
        size_t off = r->keys.len;
        json_lex_range(lx, vat, vat + vlen);
        json_vkind k = json_lex_peek(lx);
        json_str str;
        int rc = 0;
        if (k == JSON_V_STRING && json_lex_string(lx, &str) == 0)
            rc = buf_append(&r->keys, str.s, str.len);
        else if (k != JSON_V_NULL) /* a null key is no key */
            rc = buf_append(&r->keys, lx->base + vat, vlen);
        if (rc) c->nomem = true;
        if (k != JSON_V_NULL && !rc) {
            m->koff = off;
            m->klen = r->keys.len - off;
        }
    }
    lx->p = p;
    lx->end = end;
    lx->depth = depth;
}

/* ingest_body_walk's visitor: one event of a JSON or NDJSON body. */
static void visit_event(void *ctx, json_lex *lx, size_t idx)
{
    encoder *c = ctx;
    ingest_req *r = c->r;
    ingest_msg *m = req_add(r);
    if (!m) {
        c->nomem = true;
        json_lex_skip(lx);
        return;
    }
    json_lex_ws(lx);
    size_t at = json_lex_offset(lx), len;
    if (c->value) {
        m->voff = r->payload.len;
        int rc = encode_framed(c, c->value, &r->payload, idx);
        if (rc == -2) return;
        if (rc == -1) {
            r->n--; /* nothing of a bad event is kept */
            return;
        }
        m->vlen = r->payload.len - m->voff;
        len = json_lex_offset(lx) - at;
    } else {
        if (json_span(c, &at, &len)) return;
        m->voff = at;
        m->vlen = len;
    }
    v1_key(c, m, at, len);
}

/* The body, for values that point into it: taken from the HTTP server
 * (no copy), or copied when the request was built by hand. */
static int keep_body(ingest_req *r, const httpd_request *req)
{
    if (httpd_take_body(req, &r->body) != 0 &&
        buf_append(&r->body, req->body, req->body_len + 1) != 0)
        return -1;
    r->values = r->body.data;
    return 0;
}

static int refuse(route_refusal *why, int status, int rest_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(route_refusal *why, int status, int rest_code, const char *fmt, ...)
{
    why->status = status;
    why->rest_code = rest_code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->msg, sizeof why->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* After the walk: a syntax or shape error, no memory, or bad events. */
static int verdict(encoder *c, long walked, const ingest_body_error *be)
{
    route_refusal *why = c->why;
    int body_status = c->in->route == ROUTE_REST ? 422 : 400;
    if (walked < 0 || c->lx->err) {
        buf_reset(&why->errors);
        why->bad_events = 0;
        return refuse(why, body_status, 42206, "%s", be->msg);
    }
    if (c->nomem) return refuse(why, 500, 50001, "out of memory");
    if (why->bad_events)
        return refuse(why, 422, c->in->route == ROUTE_REST ? 42203 : 0,
                      "%zu of %zu events do not match the schema%s; nothing was written",
                      why->bad_events, (size_t)walked, c->value ? "" : " or cannot be encoded");
    return 0;
}

static void skip_event(void *ctx, json_lex *lx, size_t idx)
{
    (void)ctx;
    (void)idx;
    json_lex_skip(lx);
}

/* A schema lookup failed: still, a malformed body is a 400 first, as it
 * would be had the schema been found. */
static int schema_failed(encoder *c, int status, int rest_code, const char *msg)
{
    ingest_body_error be;
    if (ingest_body_walk(c->lx, (ingest_body_kind)c->in->kind, SIZE_MAX / 64, skip_event, NULL,
                         &be) < 0 &&
        be.syntax)
        return refuse(c->why, 400, 42206, "%s", be.msg);
    return refuse(c->why, status, rest_code, "%s", msg);
}

static int encode_v1(encoder *c)
{
    ingest *g = c->g;
    const route_input *in = c->in;
    ingest_req *r = c->r;
    int locked = 0;
    if (in->tc && !in->tc->schemaless && in->tc->schema == APP_SCHEMA_REQUEST)
        return refuse(c->why, 422, 42202,
                      "topic %s takes its schema from each request: POST to /topics/%s with "
                      "value_schema or value_schema_id (Confluent REST Proxy v2)",
                      in->topic, in->topic);
    if (g->sr && !(in->tc && (in->tc->schemaless || in->tc->schema == APP_SCHEMA_NONE))) {
        char subject[300], msg[512];
        int rest_code = 42201;
        snprintf(subject, sizeof subject, "%s-value", in->topic);
        int st = resolve_schema(g, subject, -1, NULL, 0, in->tc ? in->tc->protobuf_message : NULL,
                                false, &c->value, &rest_code, msg, sizeof msg);
        if (st) return schema_failed(c, st, rest_code, msg);
        locked = c->value != NULL;
    }
    if (c->value) {
        r->values = NULL; /* set once the payload stops moving */
        /* Avro is smaller than its JSON: room for the whole body's worth
         * up front means the payload is rarely copied as it grows. */
        if (buf_reserve(&r->payload, in->req->body_len + 64)) c->nomem = true;
    } else if (keep_body(r, in->req)) {
        return refuse(c->why, 500, 50001, "out of memory");
    }
    if (in->header_key) {
        c->header_koff = r->keys.len;
        if (buf_append_str(&r->keys, in->header_key)) c->nomem = true;
    }
    ingest_body_error be;
    long walked =
        ingest_body_walk(c->lx, (ingest_body_kind)in->kind, SIZE_MAX / 64, visit_event, c, &be);
    if (locked) pthread_rwlock_unlock(&g->sc_lock);
    if (c->value) r->values = r->payload.data;
    return verdict(c, walked, &be);
}

static int encode_rest(encoder *c)
{
    ingest *g = c->g;
    const route_input *in = c->in;
    ingest_req *r = c->r;
    route_refusal *why = c->why;
    ingest_rest rest;
    ingest_body_error be;
    if (ingest_rest_scan(c->lx, SIZE_MAX / 64, &rest, &be) != 0) {
        ingest_rest_free(&rest);
        return refuse(why, 422, 42206, "%s", be.msg);
    }
    bool avro = in->kind == INGEST_BODY_REST_AVRO;
    const schema_entry *kenc = NULL;
    int locked = 0, st = 0, rest_code = 42201;
    char subject[300], msg[512];
    if (avro) {
        if (rest.value_schema_id < 0 && !rest.value_schema) {
            ingest_rest_free(&rest);
            return refuse(why, 422, 42202,
                          "request does not include a value schema (value_schema or "
                          "value_schema_id)");
        }
        snprintf(subject, sizeof subject, "%s-value", in->topic);
        st = resolve_schema(g, subject, rest.value_schema_id, rest.value_schema,
                            rest.value_schema_len, NULL, true, &c->value, &rest_code, msg,
                            sizeof msg);
        locked = st == 0 && c->value;
        bool has_keys = false;
        for (size_t i = 0; i < rest.n; i++)
            has_keys |= rest.records[i].key_len > 0;
        if (st == 0 && has_keys) {
            if (rest.key_schema_id < 0 && !rest.key_schema) {
                st = 422;
                rest_code = 42201;
                snprintf(msg, sizeof msg, "request includes keys but no key schema");
            } else {
                /* The lock is a read lock: holding it twice is allowed. */
                snprintf(subject, sizeof subject, "%s-key", in->topic);
                st = resolve_schema(g, subject, rest.key_schema_id, rest.key_schema,
                                    rest.key_schema_len, NULL, true, &kenc, &rest_code, msg,
                                    sizeof msg);
                if (st == 0 && kenc) locked++;
            }
        }
        if (st == 0 && !c->value) { /* a registry always has a schema for an id */
            st = 422;
            snprintf(msg, sizeof msg, "no value schema");
        }
    } else if (keep_body(r, in->req)) {
        st = 500;
        rest_code = 50001;
        snprintf(msg, sizeof msg, "out of memory");
    }
    r->value_schema_id = c->value ? c->value->id : -1;
    r->key_schema_id = kenc ? kenc->id : -1;
    for (size_t i = 0; st == 0 && i < rest.n && !c->nomem; i++) {
        const ingest_rest_record *rec = &rest.records[i];
        ingest_msg *m = req_add(r);
        if (!m) {
            c->nomem = true;
            break;
        }
        m->partition = rec->partition;
        bool bad = false;
        if (!avro) {
            if (!rec->value_null) {
                m->voff = rec->value_at;
                m->vlen = rec->value_len;
            }
        } else {
            json_lex_range(c->lx, rec->value_at, rec->value_at + rec->value_len);
            m->voff = r->payload.len;
            int rc = encode_framed(c, c->value, &r->payload, i);
            bad = rc == -1;
            if (rc == 0) m->vlen = r->payload.len - m->voff;
        }
        if (rec->key_len > 0 && !bad) {
            m->koff = r->keys.len;
            if (kenc) {
                json_lex_range(c->lx, rec->key_at, rec->key_at + rec->key_len);
                bad = encode_framed(c, kenc, &r->keys, i) == -1;
            } else if (buf_append(&r->keys, c->lx->base + rec->key_at, rec->key_len)) {
                c->nomem = true;
            }
            if (!bad) m->klen = r->keys.len - m->koff;
        }
        if (bad) r->n--;
    }
    while (locked--)
        pthread_rwlock_unlock(&g->sc_lock);
    size_t n = rest.n;
    ingest_rest_free(&rest);
    if (st) return refuse(why, st, rest_code, "%s", msg);
    if (avro) r->values = r->payload.data;
    return verdict(c, (long)n, &be);
}

int route_encode(ingest *g, const route_input *in, ingest_req *r, route_refusal *why)
{
    why->status = 0;
    why->rest_code = 0;
    why->msg[0] = '\0';
    why->bad_events = 0;
    buf_reset(&why->errors);
    json_lex lx;
    json_lex_init(&lx, in->req->body, in->req->body_len);
    encoder c = {.g = g, .in = in, .r = r, .why = why, .lx = &lx};
    int rc = in->kind == INGEST_BODY_REST_JSON || in->kind == INGEST_BODY_REST_AVRO
                 ? encode_rest(&c)
                 : encode_v1(&c);
    json_lex_free(&lx);
    return rc;
}
