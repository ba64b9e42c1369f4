/*
 * cli_config.h — shared start-up of the `-c FILE` commands (sink, ingest).
 */
#ifndef SLUICE_CLI_CONFIG_H
#define SLUICE_CLI_CONFIG_H

#include <stdio.h>

#include <sluice/metrics.h>
#include <sluice/sr.h>

#include "app/config.h"

/* Parse -c/-h, load cfg, apply logging, block SIGTERM/SIGINT. Returns -1
 * to go on (cfg loaded; free it with app_config_free), or the exit code
 * to return now (--help, bad usage, bad configuration). */
int cli_config_start(int argc, char **argv, void (*usage)(FILE *), app_config *cfg);
/* The same with -c optional: without it, the embedded defaults. */
int cli_config_start_optional(int argc, char **argv, void (*usage)(FILE *), app_config *cfg);

/* The process's one registry client when registry.urls is set (*out NULL
 * otherwise). 0, or -1 (logged as `who`). */
int cli_registry_client(const app_config *cfg, sluice_metrics *m, const char *who, sluice_sr **out);

#endif
