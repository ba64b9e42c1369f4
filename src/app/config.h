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

typedef struct app_kafka_config {
    char *brokers;      /* bootstrap servers; NULL under `sluice run`: embedded cluster */
    cfg_map properties; /* passed to librdkafka as they are */
} app_kafka_config;

typedef struct app_clickhouse_config {
    char *url;
    cfg_strings urls; /* replicas, tried in turn; overrides url when given */
    char *user;
    char *password;
    char *ca_file;
    int64_t connect_timeout_ms;
    int64_t request_timeout_ms;
    cfg_map settings; /* ClickHouse settings sent with every statement */
} app_clickhouse_config;

typedef struct app_batch_config {
    int64_t max_rows;
    uint64_t max_bytes;
    int64_t max_age_ms;
    int close_caught_up;
} app_batch_config;

typedef struct app_transform_config {
    char *explode;
    char *filter;
    cfg_map columns; /* column -> expression */
} app_transform_config;

typedef struct app_route_config {
    char *topic;
    char *table;
    char *dlq_topic;             /* default: <topic>.dlq */
    char *subject;               /* reader schema subject; default: <topic>-value */
    char *flatten;               /* "." or "_" */
    int extra_fields;            /* 0 ignore, 1 reject */
    int delivery;                /* APP_DELIVERY_* */
    int protobuf_index_encoding; /* 0 auto, 1 zigzag, 2 plain (proto_index_mode's order) */
    int validate;                /* APP_VALIDATE_* (JSON Schema messages) */
    app_batch_config batch;
    app_transform_config transform;
} app_route_config;

enum { APP_DELIVERY_AUTO, APP_DELIVERY_EXACTLY_ONCE, APP_DELIVERY_AT_LEAST_ONCE };
enum { APP_VALIDATE_AUTO, APP_VALIDATE_ALWAYS, APP_VALIDATE_NEVER };

typedef struct app_sink_config {
    char *group_id;
    int auto_offset_reset; /* 0 earliest, 1 latest */
    uint64_t memory_limit;
    int64_t writers;
    uint64_t max_message_bytes;
    int64_t retry_initial_ms;
    int64_t retry_max_ms;
    int64_t commit_interval_ms;
    int64_t columns_refresh_ms;
    int64_t blocked_retry_ms;
    int64_t rebalance_timeout_ms;
    int64_t shutdown_timeout_ms;
    int64_t resume_percent; /* low mark as a percentage of the high mark */
    int64_t inserts_per_s;  /* 0: no limit */
    int64_t rows_per_s;
    cfg_list routes; /* app_route_config */
} app_sink_config;

/* Where a topic's events get their schema (ingest.topics[].schema). */
enum { APP_SCHEMA_REGISTRY, APP_SCHEMA_REQUEST, APP_SCHEMA_NONE };
/* ingest.topics[].protobuf_index_encoding (include/sluice/wire.h) */
enum { APP_INDEX_ZIGZAG, APP_INDEX_PLAIN };

typedef struct app_ingest_topic_config {
    char *name;
    int schemaless;              /* pass events through as JSON, never look up a schema */
    int schema;                  /* APP_SCHEMA_*; schemaless: true means APP_SCHEMA_NONE */
    char *key_field;             /* top-level field whose value becomes the message key */
    char *value_schema_file;     /* Avro schema registered as <name>-value at start */
    char *protobuf_message;      /* PROTOBUF subjects: the message events are (NULL: the first) */
    int protobuf_index_encoding; /* APP_INDEX_*: how the frame's message-index array is written */
} app_ingest_topic_config;

typedef struct app_ingest_token_config {
    char *token;
    cfg_strings topics; /* topics this token may write; "*" = all */
} app_ingest_token_config;

typedef struct app_ingest_tls_config {
    char *cert_file;
    char *key_file;
    char *client_ca_file;
} app_ingest_tls_config;

typedef struct app_ingest_config {
    char *listen;
    int64_t threads;
    int64_t max_connections;
    uint64_t max_body_bytes;
    uint64_t max_inflight_bytes;
    int64_t delivery_timeout_ms;
    int64_t retry_after_ms;
    int64_t idle_timeout_ms;
    int64_t schema_cache_entries;
    int64_t shutdown_timeout_ms;
    app_ingest_tls_config tls;
    cfg_list topics; /* app_ingest_topic_config; when non-empty, an allowlist */
    cfg_list tokens; /* app_ingest_token_config; when non-empty, bearer auth */
} app_ingest_config;

typedef struct app_run_config {
    char *data_dir;         /* the embedded registry's SQLite file lives here */
    char *registry_listen;  /* the embedded registry, when registry.urls is empty */
    int64_t brokers;        /* brokers of the embedded Kafka, when kafka.brokers is empty */
    int64_t partitions;     /* partitions of the topics created in the embedded Kafka */
    uint64_t backlog_limit; /* embedded Kafka: unconsumed bytes per partition before 429 */
} app_run_config;

typedef struct app_config {
    app_log_config log;
    app_metrics_config metrics;
    app_registry_config registry;
    app_kafka_config kafka;
    app_clickhouse_config clickhouse;
    app_ingest_config ingest;
    app_sink_config sink;
    app_run_config run;
} app_config;

extern const cfg_key app_config_keys[];

/* Load (path == NULL: defaults only). On failure every error has been passed
 * to on_error (if given) and err holds the first. */
int app_config_load(const char *path, app_config *cfg, sluice_error *err, cfg_error_fn on_error,
                    void *opaque);
/* "sha256:" and 64 hex digits, and the NUL. */
#define APP_CONFIG_HASH_LEN 72
/* The same, and the SHA-256 of the file's bytes as read ("none" without a
 * file), which /metrics shows as sluice_config_info{hash=...}. */
int app_config_load_hashed(const char *path, app_config *cfg, char hash[APP_CONFIG_HASH_LEN],
                           sluice_error *err, cfg_error_fn on_error, void *opaque);
void app_config_free(app_config *cfg);

/* The registry client settings of cfg (pointers into cfg; valid while it is). */
void app_config_sr(const app_config *cfg, sluice_sr_config *out);

/* A route's dead-letter topic: dlq_topic, or "<topic>.dlq" written into buf. */
const char *app_route_dlq_topic(const app_route_config *r, char *buf, size_t n);

/* Apply log.level / log.format to the process logger. */
void app_config_apply_log(const app_config *cfg);

#endif
