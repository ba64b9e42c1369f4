/*
 * cmd_sink.c — `sluice sink -c sluice.yaml`: Kafka → ClickHouse until
 * SIGTERM/SIGINT, which drains (stop fetching, let consumed messages land,
 * commit) and exits 0. SIGHUP reloads the file (cli/service.c).
 */
#include "app/config.h"
#include "cli/cli.h"
#include "cli/cli_config.h"
#include "cli/service.h"

#include <stdio.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice sink -c FILE\n\n"
               "Consume the routes' Kafka topics as consumer group sink.group_id and write them\n"
               "into ClickHouse (docs/CONFIG.md: kafka, registry, clickhouse, sink).\n\n"
               "  -c, --config FILE   configuration (required)\n"
               "  -h, --help          this help\n\n"
               "Serves /metrics, /healthz and /readyz on metrics.listen. SIGHUP re-reads FILE:\n"
               "when what the sink uses changed, it drains as on SIGTERM and starts again on\n"
               "the new configuration (its group rebalances); an invalid file is logged and\n"
               "changes nothing. SIGTERM/SIGINT drain and exit 0. Exit codes: 0 clean\n"
               "shutdown, 1 runtime failure, 2 bad usage or configuration.\n");
}

int cmd_sink(int argc, char **argv)
{
    app_config cfg;
    cli_config_file file;
    int early = cli_config_start(argc, argv, usage, &cfg, &file);
    if (early >= 0) return early;
    return service_main(SERVICE_SINK, file.path, &cfg, file.hash);
}
