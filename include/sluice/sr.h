/*
 * sr.h — the Schema Registry client of libsluice.
 *
 * One client per process, shared by every thread and stage. The registry's
 * load is proportional to the number of distinct schemas, not to the number
 * of messages: every answer is cached; concurrent misses for the same key
 * make exactly one HTTP request (single-flight) and the other callers wait
 * for its result or its error; a hit never waits behind a miss for another
 * key, and hits take only a shard's read lock (many threads read at once).
 * No lock is held across HTTP.
 *
 * Caches (one byte budget and one entry budget for all, CLOCK eviction ≈ LRU):
 *   id                 -> schema            (immutable: never expires)
 *   (subject, version) -> schema            (immutable: never expires)
 *   (subject, type, references, schema) -> id, version (register / lookup)
 *   subject            -> latest metadata   (expires after latest_ttl_ms)
 * and a negative cache for 404s (40401, 40402, 40403) that expires after
 * negative_ttl_ms.
 *
 * Transport: libcurl, connections reused across calls; several URLs with
 * failover; retries with exponential backoff and full jitter on transport
 * errors, timeouts, 408, 429 and 5xx; basic auth or bearer token; TLS with a
 * CA file and an optional client certificate.
 *
 * Threads: every function may be called from any thread concurrently, except
 * sluice_sr_destroy (call it once, after every other call has returned).
 */
#ifndef SLUICE_SR_H
#define SLUICE_SR_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/metrics.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sluice_sr sluice_sr;

typedef struct sluice_sr_config {
    const char *const *urls; /* registry base URLs, tried in order on failure */
    size_t n_urls;
    const char *username; /* basic auth (with password), or NULL */
    const char *password;
    const char *bearer_token; /* Authorization: Bearer ..., or NULL */
    const char *ca_file;      /* TLS: CA bundle to verify the server */
    const char *cert_file;    /* TLS client certificate (PEM) and key */
    const char *key_file;
    const char *key_password;

    int64_t connect_timeout_ms; /* default 2000 */
    int64_t request_timeout_ms; /* whole request, default 10000 */
    int max_retries;            /* retries after the first attempt, default 4 */
    int64_t backoff_initial_ms; /* default 100 */
    int64_t backoff_max_ms;     /* default 5000 */

    size_t cache_max_entries;      /* default 10000 */
    size_t cache_max_bytes;        /* default 64 MiB */
    int64_t latest_ttl_ms;         /* default 60000; 0 = latest is never cached */
    int64_t negative_ttl_ms;       /* default 5000; 0 = 404s are never cached */
    size_t max_response_bytes;     /* default 16 MiB; larger answers are errors */
    unsigned max_idle_connections; /* idle curl handles kept for reuse, default 16 */

    sluice_metrics *metrics; /* optional: publish counters here; the client must outlive
                              * every later render of this registry */
} sluice_sr_config;

/* Fill cfg with the defaults above (no URLs). */
void sluice_sr_config_init(sluice_sr_config *cfg);

/* A schema reference (Confluent's "references"): the schema registered as
 * (subject, version), which this schema uses under `name` — an import path
 * for PROTOBUF ("google/protobuf/timestamp.proto"), a `$ref` URI for JSON,
 * a full type name for AVRO. version -1 means the latest. */
typedef struct sluice_sr_reference {
    const char *name;
    const char *subject;
    int32_t version;
} sluice_sr_reference;

/* An immutable, reference-counted schema as the registry answered it.
 * Fields not known for the call that produced it are 0/NULL (a schema
 * fetched by id has no subject and version). */
typedef struct sluice_sr_schema {
    int32_t id;
    int32_t version;
    const char *subject;
    const char *schema_type; /* "AVRO", "PROTOBUF" or "JSON" (registries omit it for AVRO) */
    const char *schema;      /* the schema text */
    size_t schema_len;
    /* What it references, in the registry's order (none: NULL, 0). The
     * referenced schemas themselves: sluice_sr_resolve_references. */
    const sluice_sr_reference *references;
    size_t n_references;
} sluice_sr_schema;

void sluice_sr_schema_retain(const sluice_sr_schema *s);
void sluice_sr_schema_release(const sluice_sr_schema *s);

int sluice_sr_new(const sluice_sr_config *cfg, sluice_sr **out, sluice_error *err);
void sluice_sr_destroy(sluice_sr *sr);

/* GET /schemas/ids/{id}. *out must be released. */
int sluice_sr_get_by_id(sluice_sr *sr, int32_t id, const sluice_sr_schema **out, sluice_error *err);
/* GET /subjects/{subject}/versions/latest, cached for latest_ttl_ms. */
int sluice_sr_get_latest(sluice_sr *sr, const char *subject, const sluice_sr_schema **out,
                         sluice_error *err);
/* GET /subjects/{subject}/versions/{version}. */
int sluice_sr_get_version(sluice_sr *sr, const char *subject, int32_t version,
                          const sluice_sr_schema **out, sluice_error *err);
/* POST /subjects/{subject}/versions: register (or find) schema under subject.
 * schema_type NULL means AVRO. */
int sluice_sr_register(sluice_sr *sr, const char *subject, const char *schema,
                       const char *schema_type, int32_t *id, sluice_error *err);
/* POST /subjects/{subject}: the id and version of schema under subject. */
int sluice_sr_lookup(sluice_sr *sr, const char *subject, const char *schema,
                     const sluice_sr_schema **out, sluice_error *err);

/* The same two with a schema type (NULL = AVRO) and references, as the
 * registry needs them for PROTOBUF and JSON schemas that import others.
 * Cached per (subject, type, references, text). */
int sluice_sr_register_refs(sluice_sr *sr, const char *subject, const char *schema,
                            const char *schema_type, const sluice_sr_reference *refs, size_t n_refs,
                            int32_t *id, sluice_error *err);
int sluice_sr_lookup_refs(sluice_sr *sr, const char *subject, const char *schema,
                          const char *schema_type, const sluice_sr_reference *refs, size_t n_refs,
                          const sluice_sr_schema **out, sluice_error *err);

/* Everything `schema` references, recursively: each referenced (subject,
 * version) is fetched with sluice_sr_get_version, so it is cached (versions
 * never expire) and concurrent resolutions share one request per schema
 * (single-flight). Dependencies come before the schemas that use them and
 * each appears once, so a parser can be handed the list in order. A cycle,
 * one name standing for two schemas, more than SLUICE_SR_MAX_REFERENCES
 * schemas or nesting deeper than SLUICE_SR_MAX_REFERENCE_DEPTH is
 * SLUICE_EINVAL naming the chain; a missing one is the registry's 404.
 * Free the result with sluice_sr_resolved_free. */
#define SLUICE_SR_MAX_REFERENCES 256
#define SLUICE_SR_MAX_REFERENCE_DEPTH 32
typedef struct sluice_sr_resolved {
    size_t n;
    const char *const *names;               /* the name each was referenced by */
    const sluice_sr_schema *const *schemas; /* with subject and version */
} sluice_sr_resolved;
int sluice_sr_resolve_references(sluice_sr *sr, const sluice_sr_schema *schema,
                                 sluice_sr_resolved **out, sluice_error *err);
void sluice_sr_resolved_free(sluice_sr_resolved *r);

/* Read the frame header of msg and fetch its writer schema by id. */
int sluice_sr_get_by_frame(sluice_sr *sr, const void *msg, size_t len, const sluice_sr_schema **out,
                           const uint8_t **payload, size_t *payload_len, sluice_error *err);

/* Re-read the latest metadata of every listed subject, bypassing the cache
 * (concurrent get_latest misses for the same subject join these requests).
 * results[i] gets subject i's outcome: code 0 and a schema (release it), or
 * the error. Every subject is tried; returns 0 if all succeeded, else the
 * number of failed subjects (> 0), or a negative code for a bad call. */
typedef struct sluice_sr_refresh_result {
    int code;
    sluice_error err;
    const sluice_sr_schema *schema;
} sluice_sr_refresh_result;
int sluice_sr_refresh_latest(sluice_sr *sr, const char *const *subjects, size_t n,
                             sluice_sr_refresh_result *results);
void sluice_sr_refresh_results_release(sluice_sr_refresh_result *results, size_t n);

/* Drop every cached latest entry / every cached entry of any kind. */
void sluice_sr_clear_latest(sluice_sr *sr);
void sluice_sr_clear_all(sluice_sr *sr);

typedef struct sluice_sr_stats {
    uint64_t requests;                /* HTTP requests sent (attempts, incl. retries) */
    uint64_t requests_by_endpoint[6]; /* indexed by sluice_sr_endpoint */
    uint64_t hits;                    /* answered from cache */
    uint64_t misses;                  /* a caller that led an HTTP fetch */
    uint64_t coalesced;               /* a caller that waited for another's fetch */
    uint64_t negative_hits;           /* answered by a cached 404 */
    uint64_t retries;
    uint64_t failovers;
    uint64_t evictions;
    uint64_t entries; /* current */
    uint64_t bytes;   /* current */
} sluice_sr_stats;

typedef enum sluice_sr_endpoint {
    SLUICE_SR_EP_SCHEMA_BY_ID,
    SLUICE_SR_EP_LATEST,
    SLUICE_SR_EP_VERSION,
    SLUICE_SR_EP_REGISTER,
    SLUICE_SR_EP_LOOKUP,
    SLUICE_SR_EP_OTHER,
} sluice_sr_endpoint;

void sluice_sr_get_stats(sluice_sr *sr, sluice_sr_stats *out);

#ifdef __cplusplus
}
#endif
#endif
