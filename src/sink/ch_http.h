/*
 * ch_http.h — the sink's ClickHouse client over the HTTP interface
 * (libcurl, keep-alive).
 *
 * One ch_http per writer thread: it owns one curl handle and so one
 * kept-alive connection; nothing is shared between threads. Queries and
 * inserts are single attempts — retry policy belongs to the writer, which
 * asks ch_http_classify() what a failure means:
 *   CH_FAIL_TRANSIENT  retry with backoff (network, timeouts, 5xx without a
 *                      code, TOO_MANY_PARTS, MEMORY_LIMIT_EXCEEDED, ...);
 *   CH_FAIL_DATA       the data is bad (a row ClickHouse cannot parse or
 *                      store): split the batch and dead-letter the culprit;
 *   CH_FAIL_CONFIG     the target is wrong (unknown table or column, auth):
 *                      retry slowly and shout — dropping data is never the
 *                      answer to a misconfiguration.
 */
#ifndef SLUICE_SINK_CH_HTTP_H
#define SLUICE_SINK_CH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#include "codec/plan.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/config.h"

typedef struct ch_http ch_http;

typedef struct ch_http_config {
    const char *url; /* http://127.0.0.1:8123 */
    const char *user;
    const char *password;
    const char *ca_file; /* for https:// */
    int64_t connect_timeout_ms;
    int64_t request_timeout_ms;
    size_t max_response_bytes;
    /* ClickHouse settings for every statement, as URL parameters
     * ("insert_quorum=2&max_insert_block_size=1048576"), or NULL. */
    const char *settings;
} ch_http_config;

int ch_http_new(const ch_http_config *cfg, ch_http **out, sluice_error *err);
void ch_http_free(ch_http *c);

/* Run sql; the answer goes to out (may be NULL). On failure err names the
 * statement's first words and ClickHouse's message; err->remote_code is
 * ClickHouse's exception code (e.g. 60) or, without one, the HTTP status,
 * or 0 for a transport error. */
int ch_http_query(ch_http *c, const char *sql, buf *out, sluice_error *err);

/* INSERT INTO table columns FORMAT RowBinary, the rows as the body. */
int ch_http_insert(ch_http *c, const char *table, const char *columns, const uint8_t *rows,
                   size_t len, sluice_error *err);

/* SELECT version() */
int ch_http_version(ch_http *c, char *out, size_t n, sluice_error *err);

/* Run a SELECT that answers TabSeparated rows of n_fields fields each;
 * the fields, unescaped, go into a: fields[row * n_fields + i]. */
int ch_http_rows(ch_http *c, const char *sql, size_t n_fields, arena *a, char ***fields,
                 size_t *n_rows, sluice_error *err);

/* Append 'text' as a SQL string literal. */
int ch_sql_string(buf *b, const char *s, size_t n);
/* Append "database = <db or currentDatabase()> AND <name_column> = <name>"
 * for table "db.name" or "name". */
int ch_sql_table_where(buf *b, const char *table, const char *name_column);

/* The table's columns from system.columns, types parsed (into a), in table
 * order. table is "db.name" or "name" (database default). */
int ch_http_columns(ch_http *c, const char *table, arena *a, plan_column **cols, size_t *n,
                    sluice_error *err);

/* clickhouse.settings as URL parameters (escaped), for ch_http_config's
 * settings; NULL when out of memory. */
char *ch_settings_query(const cfg_map *settings);

typedef enum ch_fail {
    CH_FAIL_TRANSIENT,
    CH_FAIL_DATA,
    CH_FAIL_CONFIG,
} ch_fail;
ch_fail ch_http_classify(const sluice_error *err);

#endif
