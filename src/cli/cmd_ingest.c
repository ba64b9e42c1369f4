/*
 * cmd_ingest.c — `sluice ingest -c sluice.yaml`: HTTP → Kafka until
 * SIGTERM/SIGINT, which drains (stop accepting, answer in-flight requests
 * once Kafka acknowledged them, flush the producer) and exits 0.
 */
#include "app/config.h"
#include "app/observe.h"
#include "cli/cli.h"
#include "cli/cli_config.h"
#include "cli/signals.h"
#include "ingest/ingest.h"

#include <sluice/log.h>

#include <stdio.h>
#include <string.h>

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
        "SIGTERM/SIGINT drain and exit 0. Exit codes: 0 clean shutdown, 1 runtime\n"
        "failure, 2 bad usage or configuration.\n");
}

static int ready(void *opaque, char *why, size_t n)
{
    return ingest_ready(opaque, why, n);
}

int cmd_ingest(int argc, char **argv)
{
    app_config cfg;
    sluice_error err;
    int early = cli_config_start(argc, argv, usage, &cfg);
    if (early >= 0) return early;

    int exit_code = CLI_EXIT_RUNTIME;
    sluice_metrics *m = sluice_metrics_new((size_t)cfg.metrics.max_series);
    sluice_sr *sr = NULL;
    ingest *g = NULL;
    observe *obs = NULL;
    if (cli_registry_client(&cfg, m, "ingest", &sr) != 0) {
        exit_code = CLI_EXIT_USAGE;
        goto out;
    }
    if (ingest_start(&cfg, NULL, sr, m, &g, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, "ingest", "cannot start", "error", err.msg, (char *)0);
        exit_code = err.code == SLUICE_ECONFIG ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
        goto out;
    }
    if (observe_start(cfg.metrics.listen, m, ready, g, &obs, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, "ingest", "cannot serve metrics", "error", err.msg, (char *)0);
        goto out;
    }
    int sig = cli_wait_for_signal();
    sluice_log(SLUICE_LOG_INFO, "ingest", "draining", "signal", strsignal(sig), (char *)0);
    observe_stop(obs);
    obs = NULL;
    ingest_stop(g); /* requests it could not finish in time were answered 503 */
    g = NULL;
    exit_code = CLI_EXIT_OK;
out:
    observe_stop(obs);
    if (g) ingest_stop(g);
    sluice_sr_destroy(sr);
    sluice_metrics_free(m);
    app_config_free(&cfg);
    return exit_code;
}
