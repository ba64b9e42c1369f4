/*
 * cmd_run.c — `sluice run [-c sluice.yaml]`: the whole pipeline in one
 * process — ingest, sink and (when registry.urls is empty) the Schema
 * Registry — sharing one metrics registry, one registry client and one
 * /metrics endpoint.
 *
 * With no kafka.brokers an in-process librdkafka mock cluster stands in for
 * Kafka (src/run/embedded_kafka.h), with a loud warning: it is for trying
 * sluice out and keeps nothing across restarts. Because that cluster drops
 * a partition's oldest data past about 5 MiB, ingest then asks the backlog
 * guard (src/run/backlog.h) before producing and answers 429 rather than
 * accept what the broker would drop.
 *
 * Start order: Kafka, registry, sink, guard, ingest, /metrics. Stop order
 * is the reverse, each part draining what it holds: ingest answers its
 * in-flight requests, the sink lands its batches and commits, then the
 * registry and the cluster go. SIGHUP applies a new configuration to the
 * parts it changes. Both live in cli/service.c, shared with `sluice
 * ingest` and `sluice sink`.
 */
#include "app/config.h"
#include "cli/cli.h"
#include "cli/cli_config.h"
#include "cli/service.h"

#include <stdio.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice run [-c FILE]\n\n"
               "Run ingest (HTTP → Kafka), sink (Kafka → ClickHouse) and, when registry.urls is\n"
               "empty, the Schema Registry in one process. Without kafka.brokers an embedded,\n"
               "in-memory Kafka cluster is started: for trying sluice out only, not durable;\n"
               "ingest then answers 429 before a partition holds more than run.backlog_limit\n"
               "unconsumed bytes, because that cluster drops older data past about 5 MiB.\n"
               "Without -c everything runs on its defaults (docs/CONFIG.md).\n\n"
               "  -c, --config FILE   configuration (optional)\n"
               "  -h, --help          this help\n\n"
               "Serves /metrics, /healthz and /readyz on metrics.listen; `sluice top` shows them.\n"
               "SIGHUP re-reads FILE and applies it to the parts it changes (see sluice(1));\n"
               "an invalid file is logged and changes nothing. SIGTERM/SIGINT drain every\n"
               "part and exit 0. Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad\n"
               "usage or configuration.\n");
}

int cmd_run(int argc, char **argv)
{
    app_config cfg;
    cli_config_file file;
    int early = cli_config_start_optional(argc, argv, usage, &cfg, &file);
    if (early >= 0) return early;
    return service_main(SERVICE_RUN, file.path, &cfg, file.hash);
}
