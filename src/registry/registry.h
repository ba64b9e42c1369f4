/*
 * registry.h — the Confluent-compatible Schema Registry server
 * (`sluice registry`, and embedded in `sluice run`).
 *
 * Threads: HTTP requests arrive on the httpd worker threads; each handler
 * runs its SQLite work under the store's own locking (store.c) and returns.
 * Storage is one SQLite file (WAL); everything survives a restart.
 */
#ifndef SLUICE_REGISTRY_H
#define SLUICE_REGISTRY_H

#include <stdint.h>

#include <sluice/error.h>
#include <sluice/metrics.h>

typedef struct registry_server registry_server;

typedef struct registry_config {
    const char *listen;      /* "127.0.0.1:8081"; port 0 = any free port */
    const char *db_path;     /* SQLite file, created if absent */
    unsigned threads;        /* HTTP worker threads (default 4) */
    sluice_metrics *metrics; /* where request counters go; NULL = the server makes its own */
} registry_config;

int registry_server_start(const registry_config *cfg, registry_server **out, sluice_error *err);
/* The port actually bound (useful when listen asked for port 0). */
uint16_t registry_server_port(const registry_server *s);
/* Stop accepting, finish running requests, close the database, free. */
void registry_server_stop(registry_server *s);

#endif
