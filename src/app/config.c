/*
 * config.c (app) — the key tables of sluice.yaml. Each table is one section;
 * the order here is the order of docs/CONFIG.md. Defaults are written as
 * they would be in YAML and go through the same parser as the file.
 */
#include "app/config.h"

#include <sluice/log.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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
    {"max_entries", CFG_INT, K(app_registry_cache_config, max_entries), 0, "10000", .min = 1,
     .max = 100000000,
     .doc = "Most entries (ids, versions, latest, register/lookup answers) the client caches."},
    {"max_bytes", CFG_SIZE, K(app_registry_cache_config, max_bytes), 0, "64MiB", .min = 4096,
     .max = INT64_MAX, .doc = "Most bytes the client's cache holds."},
    {"latest_ttl", CFG_DURATION, K(app_registry_cache_config, latest_ttl_ms), 0, "60s", .min = 0,
     .max = INT64_MAX,
     .doc = "How long a subject's latest version is trusted before it is re-read; 0 disables "
            "caching it."},
    {"negative_ttl", CFG_DURATION, K(app_registry_cache_config, negative_ttl_ms), 0, "5s", .min = 0,
     .max = INT64_MAX,
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
     .min = 1, .max = 3600000,
     .doc = "Ceiling of the first retry's random wait (doubles each retry)."},
    {"backoff_max", CFG_DURATION, K(app_registry_config, backoff_max_ms), 0, "5s", .min = 1,
     .max = 3600000, .doc = "Largest wait between retries."},
    {"max_response_bytes", CFG_SIZE, K(app_registry_config, max_response_bytes), 0, "16MiB",
     .min = 1024, .max = INT64_MAX, .doc = "Largest registry answer accepted."},
    {"cache", CFG_SECTION, K(app_registry_config, cache), 0, NULL, .children = registry_cache_keys,
     .doc = "Bounds and lifetimes of the client's cache."},
    {NULL},
};

static const cfg_key kafka_keys[] = {
    {"brokers", CFG_STRING, K(app_kafka_config, brokers), 0, NULL,
     .doc = "Bootstrap servers (host:port,...). Left out under `sluice run`: an embedded "
            "in-process cluster, for trying sluice out only (not durable)."},
    {"properties", CFG_STRING_MAP, K(app_kafka_config, properties), 0, NULL,
     .doc = "Any librdkafka property (security.protocol, sasl.*, ssl.*, ...), passed as is to "
            "every Kafka client sluice creates; sluice's own settings cannot be overridden."},
    {NULL},
};

static const cfg_key clickhouse_keys[] = {
    {"url", CFG_STRING, K(app_clickhouse_config, url), 0, "http://127.0.0.1:8123",
     .doc = "ClickHouse HTTP interface (http:// or https://)."},
    {"urls", CFG_STRING_LIST, K(app_clickhouse_config, urls), 0, NULL,
     .doc = "Several servers holding the same tables (the replicas of a shard): each connection "
            "uses one and moves to the next when it fails (unreachable, timed out, read-only, "
            "ZooKeeper trouble). Replaces url when given."},
    {"user", CFG_STRING, K(app_clickhouse_config, user), 0, "default", .doc = "User name."},
    {"password", CFG_STRING, K(app_clickhouse_config, password), 0, NULL,
     .doc = "Password. Use ${ENV} substitution."},
    {"ca_file", CFG_STRING, K(app_clickhouse_config, ca_file), 0, NULL,
     .doc = "CA bundle (PEM) for https:// URLs."},
    {"connect_timeout", CFG_DURATION, K(app_clickhouse_config, connect_timeout_ms), 0, "5s",
     .min = 1, .max = 600000, .doc = "Time allowed to connect."},
    {"request_timeout", CFG_DURATION, K(app_clickhouse_config, request_timeout_ms), 0, "60s",
     .min = 1, .max = 3600000, .doc = "Time allowed for one INSERT or query."},
    {"settings", CFG_STRING_MAP, K(app_clickhouse_config, settings), 0, NULL,
     .doc = "ClickHouse settings sent with every statement, e.g. insert_quorum: 2."},
    {NULL},
};

static const cfg_key batch_keys[] = {
    {"max_rows", CFG_INT, K(app_batch_config, max_rows), 0, "100000", .min = 1, .max = 100000000,
     .doc = "A batch closes at this many messages."},
    {"max_bytes", CFG_SIZE, K(app_batch_config, max_bytes), 0, "16MiB", .min = 1024,
     .max = (int64_t)1 << 40, .doc = "... or at this many message bytes."},
    {"max_age", CFG_DURATION, K(app_batch_config, max_age_ms), 0, "1s", .min = 1, .max = 3600000,
     .doc = "... or this long after its first message."},
    {"close_caught_up", CFG_BOOL, K(app_batch_config, close_caught_up), 0, "true",
     .doc = "... or as soon as the sink has read every message there is on the route's "
            "partitions, at most once per max_age (a burst's last rows land without waiting for "
            "max_age; a trickle still makes one INSERT per max_age or so)."},
    {NULL},
};

static const cfg_key transform_keys[] = {
    {"explode", CFG_STRING, K(app_transform_config, explode), 0, NULL,
     .doc = "An array field: one row per element (docs/TRANSFORMS.md)."},
    {"filter", CFG_STRING, K(app_transform_config, filter), 0, NULL,
     .doc = "Rows for which this expression is not true are dropped."},
    {"columns", CFG_STRING_MAP, K(app_transform_config, columns), 0, NULL,
     .doc = "Derived columns: column name -> expression."},
    {NULL},
};

static const char *const extra_fields_values[] = {"ignore", "reject", NULL};

static const char *const delivery_values[] = {"auto", "exactly_once", "at_least_once", NULL};
static const char *const read_index_values[] = {"auto", "zigzag", "plain", NULL};
static const char *const validate_values[] = {"auto", "always", "never", NULL};

static const cfg_key route_keys[] = {
    {"topic", CFG_STRING, K(app_route_config, topic), 1, NULL, .doc = "Kafka topic to read."},
    {"table", CFG_STRING, K(app_route_config, table), 1, NULL,
     .doc = "ClickHouse table to write (db.table or table)."},
    {"dlq_topic", CFG_STRING, K(app_route_config, dlq_topic), 0, NULL,
     .doc = "Dead-letter topic for messages that can never be written; default <topic>.dlq."},
    {"subject", CFG_STRING, K(app_route_config, subject), 0, NULL,
     .doc = "Registry subject whose latest schema reads Avro messages; default <topic>-value."},
    {"flatten", CFG_STRING, K(app_route_config, flatten), 0, ".",
     .doc = "Separator joining nested field names into column names: \".\" or \"_\"."},
    {"extra_fields", CFG_ENUM, K(app_route_config, extra_fields), 0, "ignore",
     .enum_values = extra_fields_values,
     .doc = "Fields without a column: ignore them, or reject the schema (its messages go to the "
            "DLQ)."},
    {"protobuf_index_encoding", CFG_ENUM, K(app_route_config, protobuf_index_encoding), 0, "auto",
     .enum_values = read_index_values,
     .doc = "How Protobuf frames write their message-index array: zigzag (Confluent's clients, "
            "python-confluent-kafka 1.8.2 and later), plain (older python clients), or auto: "
            "told apart per message where the bytes and the schema allow it (a frame both "
            "readings fit goes to the DLQ naming both)."},
    {"validate", CFG_ENUM, K(app_route_config, validate), 0, "auto", .enum_values = validate_values,
     .doc = "JSON Schema messages: always checks each against its schema before decoding (one "
            "that fails goes to the DLQ with the schema's complaint); never lands what the "
            "columns can take unchecked, for topics whose producers validate (sluice ingest "
            "does; Confluent's serializers with json.fail.invalid.schema=true, which is not their "
            "default), about 1 us/row less; auto is always, "
            "except in `sluice run` with its embedded Kafka, whose topics only its own ingest "
            "writes."},
    {"delivery", CFG_ENUM, K(app_route_config, delivery), 0, "auto", .enum_values = delivery_values,
     .doc = "exactly_once: every message lands once, through an intent committed to Kafka before "
            "each INSERT and a table that ignores a repeated block (a Replicated*MergeTree; "
            "docs/ARCHITECTURE.md, Exactly-once); the sink refuses to start if the table cannot. "
            "at_least_once: a crash re-inserts what landed since the last commit. auto: "
            "exactly_once where the table allows it, else at_least_once, said at start."},
    {"batch", CFG_SECTION, K(app_route_config, batch), 0, NULL, .children = batch_keys,
     .doc = "When a batch closes."},
    {"transform", CFG_SECTION, K(app_route_config, transform), 0, NULL, .children = transform_keys,
     .doc = "Explode, filter and derived columns."},
    {NULL},
};

static const char *const offset_reset_values[] = {"earliest", "latest", NULL};

static const cfg_key sink_keys[] = {
    {"group_id", CFG_STRING, K(app_sink_config, group_id), 0, "sluice",
     .doc = "Kafka consumer group; several `sluice sink` processes share its partitions."},
    {"auto_offset_reset", CFG_ENUM, K(app_sink_config, auto_offset_reset), 0, "earliest",
     .enum_values = offset_reset_values,
     .doc = "Where a new group starts: earliest (as Kafka Connect sinks do) or latest."},
    {"memory_limit", CFG_SIZE, K(app_sink_config, memory_limit), 0, "256MiB", .min = 48 << 20,
     .max = (int64_t)1 << 40,
     .doc = "What the sink process may use (its resident set): 28 MiB are set aside for the "
            "process itself, the rest is split between partition buffers, writers' rows and "
            "librdkafka's queue (docs/OPERATIONS.md, Memory)."},
    {"writers", CFG_INT, K(app_sink_config, writers), 0, "2", .min = 1, .max = 64,
     .doc = "Writer threads (decode + INSERT); the consumer thread never calls ClickHouse."},
    {"max_message_bytes", CFG_SIZE, K(app_sink_config, max_message_bytes), 0, "8MiB", .min = 1024,
     .max = (int64_t)1 << 31, .doc = "Larger messages go to the DLQ."},
    {"retry_initial", CFG_DURATION, K(app_sink_config, retry_initial_ms), 0, "100ms", .min = 1,
     .max = 3600000, .doc = "First INSERT retry's wait ceiling (full jitter, doubling)."},
    {"retry_max", CFG_DURATION, K(app_sink_config, retry_max_ms), 0, "30s", .min = 1,
     .max = 3600000, .doc = "Longest wait between INSERT retries (retries never give up)."},
    {"commit_interval", CFG_DURATION, K(app_sink_config, commit_interval_ms), 0, "1s", .min = 10,
     .max = 3600000,
     .doc = "How often at-least-once routes commit the offsets of what landed "
            "(auto.commit.interval.ms): after a kill -9 the next owner re-inserts at most about "
            "this much. `sluice run` with its embedded Kafka uses 200ms unless set otherwise "
            "(its back pressure counts from the committed offset). Exactly-once routes commit "
            "after every batch."},
    {"columns_refresh", CFG_DURATION, K(app_sink_config, columns_refresh_ms), 0, "30s", .min = 100,
     .max = 86400000,
     .doc = "How often a route's table columns are read again, so that an ALTER TABLE … ADD or "
            "DROP COLUMN is picked up without a restart (an INSERT the table refuses re-reads "
            "them at once)."},
    {"blocked_retry", CFG_DURATION, K(app_sink_config, blocked_retry_ms), 0, "30s", .min = 10,
     .max = 3600000,
     .doc = "While ClickHouse refuses a route for a reason retrying will not fix (unknown table, "
            "column or setting, type mismatch, authentication), the batch is tried again this "
            "often; /readyz fails with ClickHouse's message meanwhile. Nothing is dropped."},
    {"rebalance_timeout", CFG_DURATION, K(app_sink_config, rebalance_timeout_ms), 0, "10s",
     .min = 0, .max = 3600000,
     .doc = "On a rebalance, how long to wait for in-flight batches of revoked partitions."},
    {"shutdown_timeout", CFG_DURATION, K(app_sink_config, shutdown_timeout_ms), 0, "30s", .min = 0,
     .max = 3600000, .doc = "On SIGTERM, how long to wait for batches to land."},
    {"resume_percent", CFG_INT, K(app_sink_config, resume_percent), 0, "50", .min = 1, .max = 100,
     .doc = "A paused partition resumes when its buffer falls below this percentage of its high "
            "mark (hysteresis; 100 = no hysteresis, for comparison only)."},
    {"inserts_per_s", CFG_INT, K(app_sink_config, inserts_per_s), 0, "0", .min = 0, .max = 1000000,
     .doc = "Rate limit on INSERTs (token bucket); 0 = none."},
    {"rows_per_s", CFG_INT, K(app_sink_config, rows_per_s), 0, "0", .min = 0,
     .max = (int64_t)1 << 40, .doc = "Rate limit on rows; 0 = none."},
    {"routes", CFG_SECTION_LIST, K(app_sink_config, routes), 0, NULL, .children = route_keys,
     .elem_size = sizeof(app_route_config), .doc = "Topic → table routes."},
    {NULL},
};

static const char *const topic_schema_values[] = {"registry", "request", "none", NULL};
static const char *const index_encoding_values[] = {"zigzag", "plain", NULL};

static const cfg_key ingest_topic_keys[] = {
    {"name", CFG_STRING, K(app_ingest_topic_config, name), 1, NULL, .doc = "Kafka topic."},
    {"schema", CFG_ENUM, K(app_ingest_topic_config, schema), 0, "registry",
     .enum_values = topic_schema_values,
     .doc = "Where the topic's events get their schema. registry: /v1 events are validated and "
            "encoded with the latest schema of <topic>-value, which must exist when ingest "
            "starts (or come from value_schema_file), else ingest does not start. request: each "
            "request names its schema (REST Proxy's value_schema or value_schema_id); /v1 "
            "requests are refused. none: JSON is passed through unchecked."},
    {"schemaless", CFG_BOOL, K(app_ingest_topic_config, schemaless), 0, "false",
     .doc = "The same as schema: none (kept from earlier versions)."},
    {"value_schema_file", CFG_STRING, K(app_ingest_topic_config, value_schema_file), 0, NULL,
     .doc = "An Avro schema file (a relative path is relative to the configuration file's "
            "directory) that ingest "
            "registers as <topic>-value when it starts: nothing if the registry already has "
            "it, a new version if it differs (the subject's compatibility level decides)."},
    {"key_field", CFG_STRING, K(app_ingest_topic_config, key_field), 0, NULL,
     .doc = "Top-level field whose value becomes the message key (strings as they are, other "
            "values as JSON text); the X-Sluice-Key header wins over it."},
    {"protobuf_message", CFG_STRING, K(app_ingest_topic_config, protobuf_message), 0, NULL,
     .doc = "For a PROTOBUF subject: the message type events are encoded as, by full name "
            "(\"shop.Order\", \"shop.Order.Line\"), which must be defined in the subject's own "
            ".proto file; by default its first message. The frame's message-index array names "
            "it."},
    {"protobuf_index_encoding", CFG_ENUM, K(app_ingest_topic_config, protobuf_index_encoding), 0,
     "zigzag", .enum_values = index_encoding_values,
     .doc = "How the frame's message-index array is written: zigzag (Confluent's Java, Go and "
            ".NET clients, python-confluent-kafka 1.8.2 and later) or plain (the older python "
            "clients' \"deprecated format\"). The first message is the byte 0x00 either way, "
            "which every client reads."},
    {NULL},
};

static const cfg_key ingest_token_keys[] = {
    {"token", CFG_STRING, K(app_ingest_token_config, token), 1, NULL,
     .doc = "Bearer token (use ${ENV} substitution)."},
    {"topics", CFG_STRING_LIST, K(app_ingest_token_config, topics), 1, NULL,
     .doc = "Topics the token may write; \"*\" for all."},
    {NULL},
};

static const cfg_key ingest_tls_keys[] = {
    {"cert_file", CFG_STRING, K(app_ingest_tls_config, cert_file), 0, NULL,
     .doc = "Server certificate (PEM): serve HTTPS."},
    {"key_file", CFG_STRING, K(app_ingest_tls_config, key_file), 0, NULL,
     .doc = "Its private key (PEM)."},
    {"client_ca_file", CFG_STRING, K(app_ingest_tls_config, client_ca_file), 0, NULL,
     .doc = "Require client certificates signed by this CA (PEM)."},
    {NULL},
};

static const cfg_key ingest_keys[] = {
    {"listen", CFG_STRING, K(app_ingest_config, listen), 0, "127.0.0.1:8080",
     .doc = "Address of the HTTP ingest endpoint."},
    {"threads", CFG_INT, K(app_ingest_config, threads), 0, "4", .min = 1, .max = 256,
     .doc = "HTTP worker threads (requests waiting for Kafka do not hold one)."},
    {"max_connections", CFG_INT, K(app_ingest_config, max_connections), 0, "1024", .min = 1,
     .max = 1000000, .doc = "Open connections accepted at once."},
    {"max_body_bytes", CFG_SIZE, K(app_ingest_config, max_body_bytes), 0, "10MiB", .min = 1024,
     .max = (int64_t)1 << 31, .doc = "Larger request bodies get 413."},
    {"max_inflight_bytes", CFG_SIZE, K(app_ingest_config, max_inflight_bytes), 0, "256MiB",
     .min = 1 << 20, .max = (int64_t)1 << 40,
     .doc = "Request bodies plus encoded events not yet acknowledged by Kafka; past it, 429 "
            "with Retry-After."},
    {"delivery_timeout", CFG_DURATION, K(app_ingest_config, delivery_timeout_ms), 0, "30s",
     .min = 100, .max = 3600000,
     .doc = "How long an event may wait for Kafka's acknowledgement (librdkafka's "
            "message.timeout.ms); then the request gets 503."},
    {"retry_after", CFG_DURATION, K(app_ingest_config, retry_after_ms), 0, "1s", .min = 1000,
     .max = 3600000, .doc = "Retry-After sent with 429 and 503 (whole seconds)."},
    {"idle_timeout", CFG_DURATION, K(app_ingest_config, idle_timeout_ms), 0, "60s", .min = 1000,
     .max = 3600000, .doc = "Idle keep-alive connections are closed after this."},
    {"schema_cache_entries", CFG_INT, K(app_ingest_config, schema_cache_entries), 0, "256",
     .min = 1, .max = 1000000, .doc = "Compiled schemas kept (by registry id)."},
    {"shutdown_timeout", CFG_DURATION, K(app_ingest_config, shutdown_timeout_ms), 0, "30s",
     .min = 0, .max = 3600000,
     .doc = "On SIGTERM, how long to wait for in-flight requests' acknowledgements."},
    {"tls", CFG_SECTION, K(app_ingest_config, tls), 0, NULL, .children = ingest_tls_keys,
     .doc = "HTTPS (GnuTLS through libmicrohttpd)."},
    {"topics", CFG_SECTION_LIST, K(app_ingest_config, topics), 0, NULL,
     .children = ingest_topic_keys, .elem_size = sizeof(app_ingest_topic_config),
     .doc = "Per-topic settings; when any are listed, other topics get 404."},
    {"tokens", CFG_SECTION_LIST, K(app_ingest_config, tokens), 0, NULL,
     .children = ingest_token_keys, .elem_size = sizeof(app_ingest_token_config),
     .doc = "Bearer tokens and the topics each may write; when any are listed, requests "
            "without a valid one get 401, with one not allowed the topic 403."},
    {NULL},
};

static const cfg_key run_keys[] = {
    {"data_dir", CFG_STRING, K(app_run_config, data_dir), 0, "data",
     .doc = "Directory of the embedded registry's SQLite file (created if absent)."},
    {"registry_listen", CFG_STRING, K(app_run_config, registry_listen), 0, "127.0.0.1:8081",
     .doc = "Address of the embedded Schema Registry, started when registry.urls is empty "
            "(port 0: any free port)."},
    {"brokers", CFG_INT, K(app_run_config, brokers), 0, "1", .min = 1, .max = 16,
     .doc = "Brokers of the embedded Kafka cluster, started when kafka.brokers is empty."},
    {"partitions", CFG_INT, K(app_run_config, partitions), 0, "4", .min = 1, .max = 1024,
     .doc = "Partitions of each topic `sluice run` creates in the embedded Kafka (ingest.topics, "
            "sink route topics and their DLQs)."},
    {"backlog_limit", CFG_SIZE, K(app_run_config, backlog_limit), 0, "4MiB", .min = 65536,
     .max = 5242880,
     .doc = "Embedded Kafka only: estimated unconsumed bytes of one partition past which ingest "
            "answers 429, counted as the broker keeps them (compressed record batches, measured "
            "by ingest's producer). The embedded cluster keeps about 5 MiB per partition and "
            "drops older data silently; this keeps ingest from accepting what it would drop."},
    {NULL},
};

const cfg_key app_config_keys[] = {
    {"log", CFG_SECTION, K(app_config, log), 0, NULL, .children = log_keys, .doc = "Logging."},
    {"metrics", CFG_SECTION, K(app_config, metrics), 0, NULL, .children = metrics_keys,
     .doc = "Prometheus metrics and health endpoints."},
    {"registry", CFG_SECTION, K(app_config, registry), 0, NULL, .children = registry_keys,
     .doc = "The Schema Registry client (one per process, shared by every stage)."},
    {"kafka", CFG_SECTION, K(app_config, kafka), 0, NULL, .children = kafka_keys, .doc = "Kafka."},
    {"clickhouse", CFG_SECTION, K(app_config, clickhouse), 0, NULL, .children = clickhouse_keys,
     .doc = "ClickHouse."},
    {"ingest", CFG_SECTION, K(app_config, ingest), 0, NULL, .children = ingest_keys,
     .doc = "`sluice ingest`: HTTP → Kafka."},
    {"sink", CFG_SECTION, K(app_config, sink), 0, NULL, .children = sink_keys,
     .doc = "`sluice sink`: Kafka → ClickHouse."},
    {"run", CFG_SECTION, K(app_config, run), 0, NULL, .children = run_keys,
     .doc = "`sluice run`: the embedded parts used when kafka.brokers or registry.urls is empty."},
    {NULL},
};

/* Files a configuration names are found next to it, wherever sluice was
 * started from (a service's working directory is rarely the config's). */
static int relative_to(const char *config_path, char **file, sluice_error *err)
{
    if (!*file || (*file)[0] == '/') return 0;
    const char *slash = strrchr(config_path, '/');
    if (!slash) return 0;
    size_t dir = (size_t)(slash - config_path) + 1, n = strlen(*file);
    char *joined = malloc(dir + n + 1);
    if (!joined) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    memcpy(joined, config_path, dir);
    memcpy(joined + dir, *file, n + 1);
    free(*file);
    *file = joined;
    return 0;
}

int app_config_load(const char *path, app_config *cfg, sluice_error *err, cfg_error_fn on_error,
                    void *opaque)
{
    char hash[APP_CONFIG_HASH_LEN];
    return app_config_load_hashed(path, cfg, hash, err, on_error, opaque);
}

int app_config_load_hashed(const char *path, app_config *cfg, char hash[APP_CONFIG_HASH_LEN],
                           sluice_error *err, cfg_error_fn on_error, void *opaque)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(hash, APP_CONFIG_HASH_LEN, "none");
    if (!path) return cfg_load_defaults(app_config_keys, cfg, err);
    char *text;
    size_t len;
    int rc = cfg_read_file(path, &text, &len, err, on_error, opaque);
    if (rc) return rc;
    /* The bytes loaded are the bytes hashed: `sha256sum FILE` tells an
     * operator whether the file on disk is the one running. */
    unsigned char digest[32];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, text, len, digest) == 0) {
        char *p = hash + snprintf(hash, APP_CONFIG_HASH_LEN, "sha256:");
        for (size_t i = 0; i < sizeof digest; i++)
            p += snprintf(p, 3, "%02x", digest[i]);
    }
    rc = cfg_load_string(text, len, path, app_config_keys, cfg, err, on_error, opaque);
    free(text);
    app_ingest_topic_config *t = cfg->ingest.topics.items;
    for (size_t i = 0; rc == 0 && i < cfg->ingest.topics.n; i++)
        rc = relative_to(path, &t[i].value_schema_file, err);
    return rc;
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

const char *app_route_dlq_topic(const app_route_config *r, char *buf, size_t n)
{
    if (r->dlq_topic) return r->dlq_topic;
    snprintf(buf, n, "%s.dlq", r->topic);
    return buf;
}

void app_config_apply_log(const app_config *cfg)
{
    sluice_log_configure((sluice_log_level)cfg->log.level, (sluice_log_format)cfg->log.format);
}
