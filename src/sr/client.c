/*
 * client.c — the public Schema Registry client (include/sluice/sr.h).
 *
 * Each public call builds a cache key and a fetch context and asks the cache
 * (cache.c) for the value; the cache decides between a hit, joining another
 * caller's fetch, or leading a fetch, which runs one of the fetch_* functions
 * below with no lock held: an HTTP request (http.c) and a parse
 * (response.c). Fetches also fill the caches they can answer for other calls
 * ("cross-population": a latest answer carries the id's schema and the
 * version's), so a sink that learns a subject's latest never asks for its id.
 *
 * Ownership: sluice_sr owns the cache, the transport and its counters.
 * Threads: any number, concurrently; see sr.h.
 */
#include <sluice/sr.h>
#include <sluice/wire.h>

#include "common/buf.h"
#include "common/stripe.h"
#include "sr/cache.h"
#include "sr/http.h"
#include "sr/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SR_KIND_LOOKUP = 5 }; /* key: subject \0 type \0 text -> id + version */

struct ep_series {
    sluice_sr *sr;
    int ep;
};

struct sluice_sr {
    sr_cache *cache;
    sr_http *http;
    sr_http_counters http_counters;
    sluice_sr_config cfg;
    striped_counter hits, misses, coalesced, negative_hits;
    struct ep_series series[6];
};

static const char *const endpoint_names[6] = {
    "schemas_ids", "subjects_versions_latest", "subjects_versions", "register", "lookup", "other"};

void sluice_sr_config_init(sluice_sr_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->connect_timeout_ms = 2000;
    cfg->request_timeout_ms = 10000;
    cfg->max_retries = 4;
    cfg->backoff_initial_ms = 100;
    cfg->backoff_max_ms = 5000;
    cfg->cache_max_entries = 10000;
    cfg->cache_max_bytes = 64u << 20;
    cfg->latest_ttl_ms = 60000;
    cfg->negative_ttl_ms = 5000;
    cfg->max_response_bytes = 16u << 20;
    cfg->max_idle_connections = 16;
}

/* ---- metrics ---------------------------------------------------------- */

static uint64_t m_hits(void *p)
{
    return striped_sum(&((sluice_sr *)p)->hits);
}
static uint64_t m_misses(void *p)
{
    return striped_sum(&((sluice_sr *)p)->misses);
}
static uint64_t m_coalesced(void *p)
{
    return striped_sum(&((sluice_sr *)p)->coalesced);
}
static uint64_t m_negative(void *p)
{
    return striped_sum(&((sluice_sr *)p)->negative_hits);
}
static uint64_t m_retries(void *p)
{
    return atomic_load(&((sluice_sr *)p)->http_counters.retries);
}
static uint64_t m_failovers(void *p)
{
    return atomic_load(&((sluice_sr *)p)->http_counters.failovers);
}
static uint64_t m_requests(void *p)
{
    struct ep_series *s = p;
    return atomic_load(&s->sr->http_counters.requests_by_endpoint[s->ep]);
}
static uint64_t m_evictions(void *p)
{
    sr_cache_usage u;
    sr_cache_get_usage(((sluice_sr *)p)->cache, &u);
    return u.evictions;
}
static double m_entries(void *p)
{
    sr_cache_usage u;
    sr_cache_get_usage(((sluice_sr *)p)->cache, &u);
    return (double)u.entries;
}
static double m_bytes(void *p)
{
    sr_cache_usage u;
    sr_cache_get_usage(((sluice_sr *)p)->cache, &u);
    return (double)u.bytes;
}

static void publish_metrics(sluice_sr *sr, sluice_metrics *m)
{
    for (int ep = 0; ep < 6; ep++) {
        char labels[64];
        snprintf(labels, sizeof labels, "endpoint=\"%s\"", endpoint_names[ep]);
        sr->series[ep] = (struct ep_series){sr, ep};
        sluice_metrics_counter_fn(m, "sluice_sr_requests_total",
                                  "HTTP requests the registry client sent, retries included",
                                  labels, m_requests, &sr->series[ep]);
    }
    sluice_metrics_counter_fn(m, "sluice_sr_cache_hits_total",
                              "Registry client calls answered from its cache", NULL, m_hits, sr);
    sluice_metrics_counter_fn(m, "sluice_sr_cache_misses_total",
                              "Registry client calls that led a fetch", NULL, m_misses, sr);
    sluice_metrics_counter_fn(m, "sluice_sr_coalesced_waits_total",
                              "Registry client calls that waited for another caller's fetch", NULL,
                              m_coalesced, sr);
    sluice_metrics_counter_fn(m, "sluice_sr_negative_hits_total",
                              "Registry client calls answered by a cached not-found", NULL,
                              m_negative, sr);
    sluice_metrics_counter_fn(m, "sluice_sr_retries_total", "Registry requests retried", NULL,
                              m_retries, sr);
    sluice_metrics_counter_fn(m, "sluice_sr_failovers_total",
                              "Times the registry client moved to the next registry URL", NULL,
                              m_failovers, sr);
    sluice_metrics_counter_fn(m, "sluice_sr_cache_evictions_total",
                              "Registry cache entries evicted to stay within bounds", NULL,
                              m_evictions, sr);
    sluice_metrics_gauge_fn(m, "sluice_sr_cache_entries", "Entries in the registry cache", NULL,
                            m_entries, sr);
    sluice_metrics_gauge_fn(m, "sluice_sr_cache_bytes", "Bytes held by the registry cache", NULL,
                            m_bytes, sr);
}

/* ---- life cycle ------------------------------------------------------- */

int sluice_sr_new(const sluice_sr_config *cfg, sluice_sr **out, sluice_error *err)
{
    if (cfg->cache_max_entries == 0 || cfg->cache_max_bytes == 0)
        return sluice_error_set(err, SLUICE_EINVAL,
                                "registry client: cache bounds must be greater than zero");
    if (cfg->max_retries < 0 || cfg->connect_timeout_ms <= 0 || cfg->request_timeout_ms <= 0)
        return sluice_error_set(err, SLUICE_EINVAL,
                                "registry client: retries must be >= 0 and timeouts > 0");
    /* aligned_alloc, not calloc: the striped counters inside must start on
     * cache-line boundaries or neighbouring slots share a line. */
    size_t size = (sizeof(sluice_sr) + 63) / 64 * 64;
    sluice_sr *sr = aligned_alloc(64, size);
    if (sr) memset(sr, 0, size);
    if (!sr) return sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
    sr->cfg = *cfg;
    sr->cfg.urls = NULL; /* owned by sr_http from here on */
    sr_cache_config cc = {.max_entries = cfg->cache_max_entries,
                          .max_bytes = cfg->cache_max_bytes,
                          .negative_ttl_ms = cfg->negative_ttl_ms};
    int rc = sr_cache_new(&cc, &sr->cache);
    if (rc) {
        free(sr);
        return sluice_error_set(err, rc, "registry client: out of memory");
    }
    rc = sr_http_new(cfg, &sr->http_counters, &sr->http, err);
    if (rc) {
        sr_cache_free(sr->cache);
        free(sr);
        return rc;
    }
    if (cfg->metrics) publish_metrics(sr, cfg->metrics);
    *out = sr;
    return 0;
}

void sluice_sr_destroy(sluice_sr *sr)
{
    if (!sr) return;
    sr_http_free(sr->http);
    sr_cache_free(sr->cache);
    free(sr);
}

/* ---- fetches (run by the single-flight leader, no lock held) ----------- */

struct fetch {
    sluice_sr *sr;
    const char *subject;
    int32_t id;
    int32_t version;
    const char *schema;
    const char *type;
    const sluice_sr_reference *refs; /* register / lookup */
    size_t n_refs;
};

/* Issue the request; on an error status turn the body into the error. */
static int request(sluice_sr *sr, sluice_sr_endpoint ep, const char *method, const char *path,
                   const char *body, size_t body_len, sr_http_response *resp, char *what,
                   size_t what_len, sluice_error *err)
{
    snprintf(what, what_len, "%s %s", method, path);
    int rc = sr_http_request(sr->http, ep, method, path, body, body_len, resp, err);
    if (rc) return rc;
    if (resp->status < 200 || resp->status >= 300) {
        rc = sr_response_error(what, resp->status, resp->body, resp->len, err);
        free(resp->body);
        resp->body = NULL;
    }
    return rc;
}

static void cache_version(sluice_sr *sr, sr_schema *s)
{
    buf key;
    buf_init(&key, SIZE_MAX);
    if (buf_printf(&key, "%s%c%d", s->pub.subject, 0, (int)s->pub.version) == 0)
        sr_cache_put(sr->cache, SR_KIND_VERSION, key.data, key.len, s, 0);
    buf_free(&key);
}

/* The id entry holds a subject-less copy: one id may live under many
 * subjects, and a by-id answer must not claim one of them. */
static void cache_id(sluice_sr *sr, const sr_schema *s)
{
    sr_schema *copy = sr_schema_new_refs(s->pub.id, 0, NULL, s->pub.schema_type, s->pub.schema,
                                         s->pub.schema_len, s->pub.references, s->pub.n_references);
    if (copy) {
        sr_cache_put(sr->cache, SR_KIND_ID, &copy->pub.id, sizeof copy->pub.id, copy, 0);
        sr_schema_release(copy);
    }
}

static int fetch_by_id(void *p, sr_schema **value, int64_t *ttl_ms, sluice_error *err)
{
    struct fetch *f = p;
    char path[64], what[96];
    snprintf(path, sizeof path, "/schemas/ids/%d", (int)f->id);
    sr_http_response resp;
    int rc = request(f->sr, SLUICE_SR_EP_SCHEMA_BY_ID, "GET", path, NULL, 0, &resp, what,
                     sizeof what, err);
    if (rc) return rc;
    rc = sr_response_schema_by_id(what, f->id, resp.body, resp.len, value, err);
    free(resp.body);
    *ttl_ms = 0;
    return rc;
}

static int fetch_subject_version(void *p, sr_schema **value, int64_t *ttl_ms, sluice_error *err)
{
    struct fetch *f = p;
    char *esc = sr_http_escape(f->subject);
    if (!esc) return sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
    buf path;
    buf_init(&path, SIZE_MAX);
    int rc;
    if (f->version > 0)
        rc = buf_printf(&path, "/subjects/%s/versions/%d", esc, (int)f->version);
    else
        rc = buf_printf(&path, "/subjects/%s/versions/latest", esc);
    free(esc);
    if (rc) {
        buf_free(&path);
        return sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
    }
    char what[SLUICE_ERROR_MSG_MAX / 2];
    sr_http_response resp;
    sluice_sr_endpoint ep = f->version > 0 ? SLUICE_SR_EP_VERSION : SLUICE_SR_EP_LATEST;
    rc = request(f->sr, ep, "GET", (char *)path.data, NULL, 0, &resp, what, sizeof what, err);
    buf_free(&path);
    if (rc) return rc;
    rc = sr_response_subject_version(what, resp.body, resp.len, NULL, value, err);
    free(resp.body);
    if (rc) return rc;
    if (f->version > 0 && (*value)->pub.version != f->version) {
        sr_schema_release(*value);
        return sluice_error_set(err, SLUICE_EPARSE,
                                "registry answer to %s: asked for version %d, got %d", what,
                                (int)f->version, (int)(*value)->pub.version);
    }
    cache_id(f->sr, *value);
    if (f->version <= 0) {
        cache_version(f->sr, *value);
        *ttl_ms = f->sr->cfg.latest_ttl_ms > 0 ? f->sr->cfg.latest_ttl_ms : -1;
    } else {
        *ttl_ms = 0;
    }
    return 0;
}

/* {"schema": text[, "schemaType": type][, "references": [...]]} */
static int schema_body(const struct fetch *f, buf *b)
{
    int rc = buf_append_str(b, "{\"schema\":");
    rc = rc ? rc : buf_append_json_string(b, f->schema, strlen(f->schema));
    if (!rc && f->type && strcmp(f->type, "AVRO") != 0) {
        rc = buf_append_str(b, ",\"schemaType\":");
        rc = rc ? rc : buf_append_json_string(b, f->type, strlen(f->type));
    }
    if (!rc && f->n_refs) {
        rc = buf_append_str(b, ",\"references\":[");
        for (size_t i = 0; !rc && i < f->n_refs; i++) {
            const sluice_sr_reference *r = &f->refs[i];
            rc = buf_append_str(b, i ? ",{\"name\":" : "{\"name\":");
            rc = rc ? rc : buf_append_json_string(b, r->name, strlen(r->name));
            rc = rc ? rc : buf_append_str(b, ",\"subject\":");
            rc = rc ? rc : buf_append_json_string(b, r->subject, strlen(r->subject));
            rc = rc ? rc : buf_printf(b, ",\"version\":%d}", (int)r->version);
        }
        rc = rc ? rc : buf_append_byte(b, ']');
    }
    return rc ? rc : buf_append_byte(b, '}');
}

static int post_schema(struct fetch *f, sluice_sr_endpoint ep, sr_http_response *resp, char *what,
                       size_t what_len, sluice_error *err)
{
    char *esc = sr_http_escape(f->subject);
    buf path, body;
    buf_init(&path, SIZE_MAX);
    buf_init(&body, SIZE_MAX);
    int rc = esc ? 0 : SLUICE_ENOMEM;
    if (!rc)
        rc = ep == SLUICE_SR_EP_REGISTER ? buf_printf(&path, "/subjects/%s/versions", esc)
                                         : buf_printf(&path, "/subjects/%s", esc);
    if (!rc) rc = schema_body(f, &body);
    free(esc);
    if (rc)
        rc = sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
    else
        rc = request(f->sr, ep, "POST", (char *)path.data, (char *)body.data, body.len, resp, what,
                     what_len, err);
    buf_free(&path);
    buf_free(&body);
    return rc;
}

static int fetch_register(void *p, sr_schema **value, int64_t *ttl_ms, sluice_error *err)
{
    struct fetch *f = p;
    char what[SLUICE_ERROR_MSG_MAX / 2];
    sr_http_response resp;
    int rc = post_schema(f, SLUICE_SR_EP_REGISTER, &resp, what, sizeof what, err);
    if (rc) return rc;
    int32_t id;
    rc = sr_response_register(what, resp.body, resp.len, &id, err);
    free(resp.body);
    if (rc) return rc;
    *value = sr_schema_new_refs(id, 0, f->subject, f->type, f->schema, strlen(f->schema), f->refs,
                                f->n_refs);
    *ttl_ms = 0;
    return *value ? 0 : sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
}

static int fetch_lookup(void *p, sr_schema **value, int64_t *ttl_ms, sluice_error *err)
{
    struct fetch *f = p;
    char what[SLUICE_ERROR_MSG_MAX / 2];
    sr_http_response resp;
    int rc = post_schema(f, SLUICE_SR_EP_LOOKUP, &resp, what, sizeof what, err);
    if (rc) return rc;
    rc = sr_response_subject_version(what, resp.body, resp.len, f->schema, value, err);
    free(resp.body);
    if (rc) return rc;
    cache_id(f->sr, *value);
    cache_version(f->sr, *value);
    *ttl_ms = 0;
    return 0;
}

/* ---- public calls ------------------------------------------------------ */

static void count(sluice_sr *sr, sr_outcome o)
{
    switch (o) {
    case SR_HIT:
        striped_add(&sr->hits, 1);
        break;
    case SR_NEGATIVE_HIT:
        striped_add(&sr->negative_hits, 1);
        break;
    case SR_FETCHED:
        striped_add(&sr->misses, 1);
        break;
    case SR_COALESCED:
        striped_add(&sr->coalesced, 1);
        break;
    }
}

static int get(sluice_sr *sr, int kind, const void *key, size_t klen, int bypass, sr_fetch_fn fn,
               struct fetch *f, const sluice_sr_schema **out, sluice_error *err)
{
    sr_schema *s = NULL;
    sr_outcome o = SR_FETCHED;
    int rc = sr_cache_get(sr->cache, kind, key, klen, bypass, fn, f, &s, &o, err);
    count(sr, o);
    *out = rc == 0 ? &s->pub : NULL;
    return rc;
}

static int check_subject(const char *subject, sluice_error *err)
{
    if (!subject || !*subject)
        return sluice_error_set(err, SLUICE_EINVAL, "registry client: empty subject");
    return 0;
}

int sluice_sr_get_by_id(sluice_sr *sr, int32_t id, const sluice_sr_schema **out, sluice_error *err)
{
    if (id < 0)
        return sluice_error_set(err, SLUICE_EINVAL, "registry client: negative schema id %d",
                                (int)id);
    struct fetch f = {.sr = sr, .id = id};
    return get(sr, SR_KIND_ID, &id, sizeof id, 0, fetch_by_id, &f, out, err);
}

static int get_latest(sluice_sr *sr, const char *subject, int bypass, const sluice_sr_schema **out,
                      sluice_error *err)
{
    int rc = check_subject(subject, err);
    if (rc) return rc;
    struct fetch f = {.sr = sr, .subject = subject};
    return get(sr, SR_KIND_LATEST, subject, strlen(subject), bypass, fetch_subject_version, &f, out,
               err);
}

int sluice_sr_get_latest(sluice_sr *sr, const char *subject, const sluice_sr_schema **out,
                         sluice_error *err)
{
    return get_latest(sr, subject, 0, out, err);
}

int sluice_sr_get_version(sluice_sr *sr, const char *subject, int32_t version,
                          const sluice_sr_schema **out, sluice_error *err)
{
    int rc = check_subject(subject, err);
    if (rc) return rc;
    if (version <= 0)
        return sluice_error_set(err, SLUICE_EINVAL, "registry client: invalid version %d",
                                (int)version);
    buf key;
    buf_init(&key, SIZE_MAX);
    if (buf_printf(&key, "%s%c%d", subject, 0, (int)version)) {
        buf_free(&key);
        return sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
    }
    struct fetch f = {.sr = sr, .subject = subject, .version = version};
    rc = get(sr, SR_KIND_VERSION, key.data, key.len, 0, fetch_subject_version, &f, out, err);
    buf_free(&key);
    return rc;
}

/* subject \0 type \0 references \0 schema, references as name \x1f subject
 * \x1f version \x1e each (names and subjects hold no control bytes the
 * registry would accept, so the key is unambiguous). */
static int schema_key(buf *key, const char *subject, const char *type,
                      const sluice_sr_reference *refs, size_t n_refs, const char *schema)
{
    int rc = buf_append(key, subject, strlen(subject) + 1);
    rc = rc ? rc : buf_append(key, type, strlen(type) + 1);
    for (size_t i = 0; !rc && i < n_refs; i++)
        rc = buf_printf(key, "%s\x1f%s\x1f%d\x1e", refs[i].name, refs[i].subject,
                        (int)refs[i].version);
    rc = rc ? rc : buf_append_byte(key, 0);
    return rc ? rc : buf_append_str(key, schema);
}

static int check_refs(const sluice_sr_reference *refs, size_t n_refs, sluice_error *err)
{
    if (n_refs && !refs)
        return sluice_error_set(err, SLUICE_EINVAL, "registry client: references missing");
    if (n_refs > SLUICE_SR_MAX_REFERENCES)
        return sluice_error_set(err, SLUICE_EINVAL, "registry client: more than %d references",
                                SLUICE_SR_MAX_REFERENCES);
    for (size_t i = 0; i < n_refs; i++)
        if (!refs[i].name || !refs[i].subject || !*refs[i].subject ||
            (refs[i].version < 1 && refs[i].version != -1))
            return sluice_error_set(err, SLUICE_EINVAL,
                                    "registry client: reference %zu needs a name, a subject and a "
                                    "version (>= 1, or -1 for the latest)",
                                    i);
    return 0;
}

static int by_schema(sluice_sr *sr, int kind, sr_fetch_fn fn, const char *subject,
                     const char *schema, const char *type, const sluice_sr_reference *refs,
                     size_t n_refs, const sluice_sr_schema **out, sluice_error *err)
{
    int rc = check_subject(subject, err);
    if (rc) return rc;
    if (!schema) return sluice_error_set(err, SLUICE_EINVAL, "registry client: no schema given");
    if ((rc = check_refs(refs, n_refs, err))) return rc;
    type = type ? type : "AVRO";
    buf key;
    buf_init(&key, SIZE_MAX);
    if (schema_key(&key, subject, type, refs, n_refs, schema)) {
        buf_free(&key);
        return sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
    }
    struct fetch f = {.sr = sr,
                      .subject = subject,
                      .schema = schema,
                      .type = type,
                      .refs = refs,
                      .n_refs = n_refs};
    rc = get(sr, kind, key.data, key.len, 0, fn, &f, out, err);
    if (rc == 0 && kind == SR_KIND_LOOKUP) /* a lookup also answers a later register */
        sr_cache_put(sr->cache, SR_KIND_SCHEMA, key.data, key.len, sr_schema_from_pub(*out), 0);
    buf_free(&key);
    return rc;
}

int sluice_sr_register_refs(sluice_sr *sr, const char *subject, const char *schema,
                            const char *schema_type, const sluice_sr_reference *refs, size_t n_refs,
                            int32_t *id, sluice_error *err)
{
    const sluice_sr_schema *s;
    int rc = by_schema(sr, SR_KIND_SCHEMA, fetch_register, subject, schema, schema_type, refs,
                       n_refs, &s, err);
    if (rc == 0) {
        *id = s->id;
        sluice_sr_schema_release(s);
    }
    return rc;
}

int sluice_sr_register(sluice_sr *sr, const char *subject, const char *schema,
                       const char *schema_type, int32_t *id, sluice_error *err)
{
    return sluice_sr_register_refs(sr, subject, schema, schema_type, NULL, 0, id, err);
}

int sluice_sr_lookup_refs(sluice_sr *sr, const char *subject, const char *schema,
                          const char *schema_type, const sluice_sr_reference *refs, size_t n_refs,
                          const sluice_sr_schema **out, sluice_error *err)
{
    return by_schema(sr, SR_KIND_LOOKUP, fetch_lookup, subject, schema, schema_type, refs, n_refs,
                     out, err);
}

int sluice_sr_lookup(sluice_sr *sr, const char *subject, const char *schema,
                     const sluice_sr_schema **out, sluice_error *err)
{
    return sluice_sr_lookup_refs(sr, subject, schema, NULL, NULL, 0, out, err);
}

/* ---- references ------------------------------------------------------------ */

struct resolver {
    sluice_sr *sr;
    const char **names;
    const sluice_sr_schema **schemas;
    size_t n;
    const sluice_sr_schema *stack[SLUICE_SR_MAX_REFERENCE_DEPTH];
    size_t depth;
    sluice_error *err;
};

static int cycle(struct resolver *r, const sluice_sr_schema *s)
{
    char chain[384] = "";
    size_t used = 0;
    for (size_t i = 0; i < r->depth && used < sizeof chain; i++)
        used += (size_t)snprintf(chain + used, sizeof chain - used, "%s version %d -> ",
                                 r->stack[i]->subject, (int)r->stack[i]->version);
    return sluice_error_set(r->err, SLUICE_EINVAL,
                            "registry client: reference cycle: %s%s version %d", chain, s->subject,
                            (int)s->version);
}

static int resolve(struct resolver *r, const sluice_sr_schema *s);

static int resolve_one(struct resolver *r, const sluice_sr_reference *ref)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->names[i], ref->name) == 0) {
            const sluice_sr_schema *had = r->schemas[i];
            if (strcmp(had->subject, ref->subject) == 0 &&
                (ref->version == -1 || had->version == ref->version))
                return 0; /* reached twice (a diamond): resolved once */
            return sluice_error_set(r->err, SLUICE_EINVAL,
                                    "registry client: reference name '%s' stands for subject '%s' "
                                    "version %d and subject '%s' version %d",
                                    ref->name, had->subject, (int)had->version, ref->subject,
                                    (int)ref->version);
        }
    if (r->n == SLUICE_SR_MAX_REFERENCES || r->depth == SLUICE_SR_MAX_REFERENCE_DEPTH)
        return sluice_error_set(r->err, SLUICE_EINVAL,
                                "registry client: more than %d referenced schemas or deeper than "
                                "%d",
                                SLUICE_SR_MAX_REFERENCES, SLUICE_SR_MAX_REFERENCE_DEPTH);
    const sluice_sr_schema *dep = NULL;
    int rc = ref->version == -1
                 ? sluice_sr_get_latest(r->sr, ref->subject, &dep, r->err)
                 : sluice_sr_get_version(r->sr, ref->subject, ref->version, &dep, r->err);
    if (rc) {
        sluice_error_prefix(r->err, "reference '%s': ", ref->name);
        return rc;
    }
    for (size_t i = 0; i < r->depth; i++)
        if (strcmp(r->stack[i]->subject, dep->subject) == 0 &&
            r->stack[i]->version == dep->version) {
            rc = cycle(r, dep);
            sluice_sr_schema_release(dep);
            return rc;
        }
    r->stack[r->depth++] = dep;
    rc = resolve(r, dep);
    r->depth--;
    char *name = rc ? NULL : strdup(ref->name);
    if (!rc && !name)
        rc = sluice_error_set(r->err, SLUICE_ENOMEM, "registry client: out of memory");
    if (rc) {
        sluice_sr_schema_release(dep);
        return rc;
    }
    r->names[r->n] = name;
    r->schemas[r->n++] = dep;
    return 0;
}

static int resolve(struct resolver *r, const sluice_sr_schema *s)
{
    for (size_t i = 0; i < s->n_references; i++) {
        int rc = resolve_one(r, &s->references[i]);
        if (rc) return rc;
    }
    return 0;
}

int sluice_sr_resolve_references(sluice_sr *sr, const sluice_sr_schema *schema,
                                 sluice_sr_resolved **out, sluice_error *err)
{
    *out = NULL;
    sluice_sr_resolved *res = calloc(1, sizeof *res);
    const char **names = calloc(SLUICE_SR_MAX_REFERENCES, sizeof *names);
    const sluice_sr_schema **schemas = calloc(SLUICE_SR_MAX_REFERENCES, sizeof *schemas);
    if (!res || !names || !schemas) {
        free(res);
        free(names);
        free(schemas);
        return sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
    }
    res->names = names;
    res->schemas = schemas;
    struct resolver r = {.sr = sr, .names = names, .schemas = schemas, .err = err};
    int rc = resolve(&r, schema);
    res->n = r.n;
    if (rc) {
        sluice_sr_resolved_free(res);
        return rc;
    }
    *out = res;
    return 0;
}

void sluice_sr_resolved_free(sluice_sr_resolved *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free((char *)r->names[i]);
        sluice_sr_schema_release(r->schemas[i]);
    }
    free((void *)r->names);
    free((void *)r->schemas);
    free(r);
}

int sluice_sr_get_by_frame(sluice_sr *sr, const void *msg, size_t len, const sluice_sr_schema **out,
                           const uint8_t **payload, size_t *payload_len, sluice_error *err)
{
    int32_t id;
    int rc = sluice_wire_read(msg, len, &id, payload, payload_len, err);
    return rc ? rc : sluice_sr_get_by_id(sr, id, out, err);
}

int sluice_sr_refresh_latest(sluice_sr *sr, const char *const *subjects, size_t n,
                             sluice_sr_refresh_result *results)
{
    if (n && (!subjects || !results)) return SLUICE_EINVAL;
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        sluice_sr_refresh_result *r = &results[i];
        sluice_error_clear(&r->err);
        r->schema = NULL;
        r->code = get_latest(sr, subjects[i], 1, &r->schema, &r->err);
        failed += r->code != 0;
    }
    return failed;
}

void sluice_sr_refresh_results_release(sluice_sr_refresh_result *results, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sluice_sr_schema_release(results[i].schema);
        results[i].schema = NULL;
    }
}

void sluice_sr_clear_latest(sluice_sr *sr)
{
    sr_cache_clear(sr->cache, SR_KIND_LATEST);
}

void sluice_sr_clear_all(sluice_sr *sr)
{
    sr_cache_clear(sr->cache, 0);
}

void sluice_sr_get_stats(sluice_sr *sr, sluice_sr_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int ep = 0; ep < 6; ep++) {
        out->requests_by_endpoint[ep] = atomic_load(&sr->http_counters.requests_by_endpoint[ep]);
        out->requests += out->requests_by_endpoint[ep];
    }
    out->hits = striped_sum(&sr->hits);
    out->misses = striped_sum(&sr->misses);
    out->coalesced = striped_sum(&sr->coalesced);
    out->negative_hits = striped_sum(&sr->negative_hits);
    out->retries = atomic_load(&sr->http_counters.retries);
    out->failovers = atomic_load(&sr->http_counters.failovers);
    sr_cache_usage u;
    sr_cache_get_usage(sr->cache, &u);
    out->evictions = u.evictions;
    out->entries = u.entries;
    out->bytes = u.bytes;
}
