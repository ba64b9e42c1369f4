/*
 * probe.h — the /readyz checks `sluice sink` and `sluice run` share: a
 * `SELECT 1` to ClickHouse on a connection of the probe's own (serialised:
 * /readyz requests arrive on several HTTP threads), and a lookup through
 * the registry client, where "subject not found" still means reachable.
 */
#ifndef SLUICE_CLI_PROBE_H
#define SLUICE_CLI_PROBE_H

#include <pthread.h>
#include <stddef.h>

#include <sluice/error.h>
#include <sluice/sr.h>

#include "app/config.h"
#include "sink/ch_http.h"

typedef struct ch_probe {
    ch_http *ch;
    pthread_mutex_t mu;
} ch_probe;

/* Connect-on-use client for cfg->clickhouse (2 s to connect, 5 s a query).
 * On failure *p is left closed. */
int ch_probe_open(ch_probe *p, const app_config *cfg, sluice_error *err);
/* 1 if ClickHouse answers; otherwise 0 with why filled ("clickhouse: ..."). */
int ch_probe_ready(ch_probe *p, char *why, size_t why_len);
/* Safe on a zeroed or already closed probe. */
void ch_probe_close(ch_probe *p);

/* 1 if the registry answers for subject; otherwise 0 with why filled. */
int sr_probe_ready(sluice_sr *sr, const char *subject, char *why, size_t why_len);

#endif
