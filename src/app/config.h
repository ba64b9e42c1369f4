/*
 * config.h (app) — the contract of sluice.yaml: one struct per section, and
 * the key tables that the common loader (src/common/config.h) fills it from.
 * Every key, its default and its doc live in config.c's tables; `sluice
 * check-config --keys` prints them and docs/CONFIG.md is generated from the
 * same output, so behaviour and reference cannot drift.
 *
 * Loaded once on the main thread at start-up; read-only afterwards.
 */
#ifndef SLUICE_APP_CONFIG_H
#define SLUICE_APP_CONFIG_H

#include <sluice/error.h>
#include <sluice/sr.h>

#include "common/config.h"

typedef struct app_log_config {
    int level;  /* sluice_log_level */
    int format; /* sluice_log_format */
} app_log_config;

typedef struct app_metrics_config {
    char *listen;
    int64_t max_series;
} app_metrics_config;

typedef struct app_tls_config {
    char *ca_file;
    char *cert_file;
    char *key_file;
    char *key_password;
} app_tls_config;

typedef struct app_registry_cache_config {
    int64_t max_entries;
    uint64_t max_bytes;
    int64_t latest_ttl_ms;
    int64_t negative_ttl_ms;
} app_registry_cache_config;

typedef struct app_registry_config {
    cfg_strings urls;
    char *username;
    char *password;
    char *bearer_token;
    app_tls_config tls;
    int64_t connect_timeout_ms;
    int64_t request_timeout_ms;
    int64_t max_retries;
    int64_t backoff_initial_ms;
    int64_t backoff_max_ms;
    uint64_t max_response_bytes;
    app_registry_cache_config cache;
} app_registry_config;

typedef struct app_config {
    app_log_config log;
    app_metrics_config metrics;
    app_registry_config registry;
} app_config;

extern const cfg_key app_config_keys[];

/* Load (path == NULL: defaults only). On failure every error has been passed
 * to on_error (if given) and err holds the first. */
int app_config_load(const char *path, app_config *cfg, sluice_error *err, cfg_error_fn on_error,
                    void *opaque);
void app_config_free(app_config *cfg);

/* The registry client settings of cfg (pointers into cfg; valid while it is). */
void app_config_sr(const app_config *cfg, sluice_sr_config *out);

/* Apply log.level / log.format to the process logger. */
void app_config_apply_log(const app_config *cfg);

#endif
