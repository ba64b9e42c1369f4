/*
 * config.c (app) — the key tables of sluice.yaml. Each table is one section;
 * the order here is the order of docs/CONFIG.md. Defaults are written as
 * they would be in YAML and go through the same parser as the file.
 */
#include "app/config.h"

#include <sluice/log.h>

#include <stddef.h>
#include <string.h>

#define K(struct_, member) offsetof(struct_, member)

static const char *const log_levels[] = {"debug", "info", "warn", "error", "off", NULL};
static const char *const log_formats[] = {"logfmt", "json", NULL};

static const cfg_key log_keys[] = {
    {"level", CFG_ENUM, K(app_log_config, level), 0, "info", .enum_values = log_levels,
     .doc = "Lowest level written: debug, info, warn, error or off."},
    {"format", CFG_ENUM, K(app_log_config, format), 0, "logfmt", .enum_values = log_formats,
     .doc = "Line format on stderr: logfmt or json (one JSON object per line)."},
    {NULL},
};

static const cfg_key metrics_keys[] = {
    {"listen", CFG_STRING, K(app_metrics_config, listen), 0, "127.0.0.1:9100",
     .doc = "Address of the /metrics, /healthz and /readyz endpoints."},
    {"max_series", CFG_INT, K(app_metrics_config, max_series), 0, "10000", .min = 100,
     .max = 10000000,
     .doc = "Most metric series the process keeps; past it new series are dropped and counted."},
    {NULL},
};

static const cfg_key registry_tls_keys[] = {
    {"ca_file", CFG_STRING, K(app_tls_config, ca_file), 0, NULL,
     .doc = "CA bundle (PEM) that verifies the registry's certificate."},
    {"cert_file", CFG_STRING, K(app_tls_config, cert_file), 0, NULL,
     .doc = "Client certificate (PEM) for mutual TLS."},
    {"key_file", CFG_STRING, K(app_tls_config, key_file), 0, NULL,
     .doc = "Private key (PEM) of the client certificate."},
    {"key_password", CFG_STRING, K(app_tls_config, key_password), 0, NULL,
     .doc = "Passphrase of key_file, if it has one. Use ${ENV} substitution."},
    {NULL},
};

static const cfg_key registry_cache_keys[] = {
    {"max_entries", CFG_INT, K(app_registry_cache_config, max_entries), 0,
     "10000", .min = 1, .max = 100000000,
     .doc = "Most entries (ids, versions, latest, register/lookup answers) the client caches."},
    {"max_bytes", CFG_SIZE, K(app_registry_cache_config, max_bytes), 0,
     "64MiB", .min = 4096, .max = INT64_MAX, .doc = "Most bytes the client's cache holds."},
    {"latest_ttl", CFG_DURATION, K(app_registry_cache_config, latest_ttl_ms), 0,
     "60s", .min = 0, .max = INT64_MAX,
     .doc = "How long a subject's latest version is trusted before it is re-read; 0 disables caching it."},
    {"negative_ttl", CFG_DURATION, K(app_registry_cache_config, negative_ttl_ms), 0,
     "5s", .min = 0, .max = INT64_MAX,
     .doc = "How long a 404 (unknown subject, version or id) is remembered; 0 disables."},
    {NULL},
};

static const cfg_key registry_keys[] = {
    {"urls", CFG_STRING_LIST, K(app_registry_config, urls), 0, NULL,
     .doc = "Schema Registry base URLs, tried in order on failure. Empty under `sluice run`: "
            "the embedded registry."},
    {"username", CFG_STRING, K(app_registry_config, username), 0, NULL,
     .doc = "Basic-auth user name."},
    {"password", CFG_STRING, K(app_registry_config, password), 0, NULL,
     .doc = "Basic-auth password. Use ${ENV} substitution."},
    {"bearer_token", CFG_STRING, K(app_registry_config, bearer_token), 0, NULL,
     .doc = "Sent as `Authorization: Bearer ...` instead of basic auth."},
    {"tls", CFG_SECTION, K(app_registry_config, tls), 0, NULL, .children = registry_tls_keys,
     .doc = "TLS settings for https:// URLs."},
    {"connect_timeout", CFG_DURATION, K(app_registry_config, connect_timeout_ms), 0, "2s", .min = 1,
     .max = 600000, .doc = "Time allowed to open a connection."},
    {"request_timeout", CFG_DURATION, K(app_registry_config, request_timeout_ms), 0, "10s",
     .min = 1, .max = 3600000, .doc = "Time allowed for one whole request."},
    {"max_retries", CFG_INT, K(app_registry_config, max_retries), 0, "4", .min = 0, .max = 100,
     .doc = "Retries after a transport error, timeout, 408, 429 or 5xx."},
    {"backoff_initial", CFG_DURATION, K(app_registry_config, backoff_initial_ms), 0, "100ms",
     .min = 1, .max = 3600000, .doc = "Ceiling of the first retry's random wait (doubles each retry)."},
    {"backoff_max", CFG_DURATION, K(app_registry_config, backoff_max_ms), 0, "5s", .min = 1,
     .max = 3600000, .doc = "Largest wait between retries."},
    {"max_response_bytes", CFG_SIZE, K(app_registry_config, max_response_bytes), 0, "16MiB",
     .min = 1024, .max = INT64_MAX, .doc = "Largest registry answer accepted."},
    {"cache", CFG_SECTION, K(app_registry_config, cache), 0, NULL, .children = registry_cache_keys,
     .doc = "Bounds and lifetimes of the client's cache."},
    {NULL},
};

const cfg_key app_config_keys[] = {
    {"log", CFG_SECTION, K(app_config, log), 0, NULL, .children = log_keys, .doc = "Logging."},
    {"metrics", CFG_SECTION, K(app_config, metrics), 0, NULL, .children = metrics_keys,
     .doc = "Prometheus metrics and health endpoints."},
    {"registry", CFG_SECTION, K(app_config, registry), 0, NULL, .children = registry_keys,
     .doc = "The Schema Registry client (one per process, shared by every stage)."},
    {NULL},
};

int app_config_load(const char *path, app_config *cfg, sluice_error *err, cfg_error_fn on_error,
                    void *opaque)
{
    memset(cfg, 0, sizeof *cfg);
    if (!path)
        return cfg_load_defaults(app_config_keys, cfg, err);
    return cfg_load_file(path, app_config_keys, cfg, err, on_error, opaque);
}

void app_config_free(app_config *cfg)
{
    cfg_free(app_config_keys, cfg);
}

void app_config_sr(const app_config *cfg, sluice_sr_config *out)
{
    const app_registry_config *r = &cfg->registry;
    sluice_sr_config_init(out);
    out->urls = (const char *const *)r->urls.items;
    out->n_urls = r->urls.n;
    out->username = r->username;
    out->password = r->password;
    out->bearer_token = r->bearer_token;
    out->ca_file = r->tls.ca_file;
    out->cert_file = r->tls.cert_file;
    out->key_file = r->tls.key_file;
    out->key_password = r->tls.key_password;
    out->connect_timeout_ms = r->connect_timeout_ms;
    out->request_timeout_ms = r->request_timeout_ms;
    out->max_retries = (int)r->max_retries;
    out->backoff_initial_ms = r->backoff_initial_ms;
    out->backoff_max_ms = r->backoff_max_ms;
    out->max_response_bytes = r->max_response_bytes;
    out->cache_max_entries = (size_t)r->cache.max_entries;
    out->cache_max_bytes = r->cache.max_bytes;
    out->latest_ttl_ms = r->cache.latest_ttl_ms;
    out->negative_ttl_ms = r->cache.negative_ttl_ms;
}

void app_config_apply_log(const app_config *cfg)
{
    sluice_log_configure((sluice_log_level)cfg->log.level, (sluice_log_format)cfg->log.format);
}
