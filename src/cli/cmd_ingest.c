/*
 * cmd_ingest.c — `sluice ingest -c sluice.yaml`: HTTP → Kafka until
 * SIGTERM/SIGINT, which drains (stop accepting, answer in-flight requests
 * once Kafka acknowledged them, flush the producer) and exits 0. SIGHUP
 * reloads the file (cli/service.c).
 */
#include "app/config.h"
#include "cli/cli.h"
#include "cli/cli_config.h"
#include "cli/service.h"

#include <stdio.h>

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sluice ingest -c FILE\n\n"
        "Accept events over HTTP on ingest.listen, validate and encode each one with\n"
        "its topic's schema, and produce them to Kafka; a request is answered 200 only\n"
        "once Kafka has acknowledged every event (docs/CONFIG.md: kafka, registry,\n"
        "ingest).\n\n"
        "  -c, --config FILE   configuration (required)\n"
        "  -h, --help          this help\n\n"
        "  POST /v1/topics/{topic}   application/json (object or array), application/x-ndjson\n"
        "  POST /topics/{topic}      Confluent REST Proxy v2 (vnd.kafka.avro.v2+json, json.v2)\n\n"
        "Serves /metrics, /healthz and /readyz on metrics.listen (and on ingest.listen).\n"
        "SIGHUP re-reads FILE and applies it without dropping accepted requests (an\n"
        "invalid file is logged and changes nothing). SIGTERM/SIGINT drain and exit 0.\n"
        "Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad usage or configuration.\n");
}

int cmd_ingest(int argc, char **argv)
{
    app_config cfg;
    cli_config_file file;
    int early = cli_config_start(argc, argv, usage, &cfg, &file);
    if (early >= 0) return early;
    return service_main(SERVICE_INGEST, file.path, &cfg, file.hash);
}
