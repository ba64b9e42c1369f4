/*
 * cli_config.h — shared start-up of the `-c FILE` commands (ingest, sink,
 * run): flags, the configuration with every error printed, logging, and
 * the signals the main thread waits for.
 */
#ifndef SLUICE_CLI_CONFIG_H
#define SLUICE_CLI_CONFIG_H

#include <stdio.h>

#include "app/config.h"

/* Where the configuration came from, for reloads and /metrics. */
typedef struct cli_config_file {
    const char *path; /* the -c argument; NULL: the defaults */
    char hash[APP_CONFIG_HASH_LEN];
} cli_config_file;

/* Parse -c/-h, load cfg, apply logging, block SIGTERM/SIGINT/SIGHUP.
 * Returns -1 to go on (cfg loaded; free it with app_config_free), or the
 * exit code to return now (--help, bad usage, bad configuration). */
int cli_config_start(int argc, char **argv, void (*usage)(FILE *), app_config *cfg,
                     cli_config_file *file);
/* The same with -c optional: without it, the embedded defaults. */
int cli_config_start_optional(int argc, char **argv, void (*usage)(FILE *), app_config *cfg,
                              cli_config_file *file);

#endif
