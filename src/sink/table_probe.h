/*
 * table_probe.h — what a route's ClickHouse table can do, asked of the
 * server rather than assumed: its version, the table's engine (and for a
 * Distributed table, the local table's), whether INSERTs are deduplicated
 * for the sink's connections and over how many blocks, and which columns
 * the server fills itself. eo_decide() turns the answer into the route's
 * delivery guarantee.
 */
#ifndef SLUICE_SINK_TABLE_PROBE_H
#define SLUICE_SINK_TABLE_PROBE_H

#include <sluice/error.h>

#include "app/config.h"
#include "common/arena.h"
#include "sink/ch_http.h"
#include "sink/eo.h"

typedef struct table_probe {
    arena a; /* everything the facts point at */
    eo_table_facts facts;
} table_probe;

/* Ask; on failure (unreachable server, unknown table) err says what. */
int table_probe_run(ch_http *c, const app_route_config *rc, table_probe *out, sluice_error *err);
void table_probe_free(table_probe *p);

/* The value of setting `name` in a table's engine_full ("... SETTINGS
 * index_granularity = 8192, replicated_deduplication_window = 10"), or
 * -1 when it is not there. */
int64_t table_probe_engine_setting(const char *engine_full, const char *name);

/* Distributed(cluster, db, table[, key]) -> "db.table" into out; 0 or -1. */
int table_probe_distributed_local(const char *engine_full, char *out, size_t n);

#endif
