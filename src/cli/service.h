/*
 * service.h — the life of the long-running commands that read sluice.yaml
 * (`sluice ingest`, `sluice sink`, `sluice run`): start their parts in
 * order, serve until SIGTERM/SIGINT and then drain them in reverse, and on
 * SIGHUP re-read the file and apply it (docs/OPERATIONS.md, "Reloading").
 *
 * Threads: everything here runs on the main thread, which alone waits for
 * signals (signals.h); /readyz is answered on the metrics server's threads
 * and reads the parts under the service's lock.
 */
#ifndef SLUICE_CLI_SERVICE_H
#define SLUICE_CLI_SERVICE_H

#include "app/config.h"

typedef enum service_kind { SERVICE_INGEST, SERVICE_SINK, SERVICE_RUN } service_kind;

/* Run the command on cfg, loaded from path (NULL: the defaults) whose
 * bytes hash to `hash`, until SIGTERM or SIGINT; cfg is the service's from
 * here on (it frees it). Returns the exit code (cli.h). */
int service_main(service_kind kind, const char *path, app_config *cfg, const char *hash);

#endif
