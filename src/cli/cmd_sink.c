/*
 * cmd_sink.c — `sluice sink -c sluice.yaml`: Kafka → ClickHouse until
 * SIGTERM/SIGINT, which drains (stop fetching, let consumed messages land,
 * commit) and exits 0.
 */
#include "app/config.h"
#include "app/observe.h"
#include "cli/cli.h"
#include "cli/cli_config.h"
#include "cli/probe.h"
#include "cli/signals.h"
#include "sink/sink.h"

#include <sluice/log.h>

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice sink -c FILE\n\n"
               "Consume the routes' Kafka topics as consumer group sink.group_id and write them\n"
               "into ClickHouse (docs/CONFIG.md: kafka, registry, clickhouse, sink).\n\n"
               "  -c, --config FILE   configuration (required)\n"
               "  -h, --help          this help\n\n"
               "Serves /metrics, /healthz and /readyz on metrics.listen. SIGTERM/SIGINT drain\n"
               "and exit 0. Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad usage or\n"
               "configuration.\n");
}

struct readiness {
    sink *s;
    sluice_sr *sr;
    ch_probe ch;
    const char *subject;
};

static int ready(void *opaque, char *why, size_t n)
{
    struct readiness *r = opaque;
    if (sink_blocked(r->s, why, n)) return 0;
    if (!sink_ready(r->s)) {
        snprintf(why, n, "kafka: no partitions assigned yet");
        return 0;
    }
    return ch_probe_ready(&r->ch, why, n) && (!r->sr || sr_probe_ready(r->sr, r->subject, why, n));
}

static int sink_gave_up(void *s)
{
    return sink_failed(s, NULL, 0) != 0;
}

int cmd_sink(int argc, char **argv)
{
    app_config cfg;
    sluice_error err;
    int early = cli_config_start(argc, argv, usage, &cfg);
    if (early >= 0) return early;

    int exit_code = CLI_EXIT_RUNTIME;
    sluice_metrics *m = sluice_metrics_new((size_t)cfg.metrics.max_series);
    sluice_sr *sr = NULL;
    sink *s = NULL;
    observe *obs = NULL;
    struct readiness rd = {.subject = NULL};
    if (cli_registry_client(&cfg, m, "sink", &sr) != 0) {
        exit_code = CLI_EXIT_USAGE;
        goto out;
    }
    if (sink_start(&cfg, NULL, sr, m, &s, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, "sink", "cannot start", "error", err.msg, (char *)0);
        exit_code = err.code == SLUICE_ECONFIG ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
        goto out;
    }
    rd.s = s;
    rd.sr = sr;
    rd.subject = NULL;
    if (cfg.sink.routes.n) {
        static char subject[512];
        const app_route_config *r0 = cfg.sink.routes.items;
        snprintf(subject, sizeof subject, "%s-value", r0->topic);
        rd.subject = r0->subject ? r0->subject : subject;
    }
    if (ch_probe_open(&rd.ch, &cfg, &err) != 0 ||
        observe_start(cfg.metrics.listen, m, ready, &rd, &obs, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, "sink", "cannot serve metrics", "error", err.msg, (char *)0);
        sink_stop(s);
        s = NULL;
        goto out;
    }
    int sig = cli_wait_for_signal_or(sink_gave_up, s);
    if (sig == 0) {
        /* sink_failed logged why */
        exit_code = sink_failed(s, NULL, 0) == 2 ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
        goto out;
    }
    sluice_log(SLUICE_LOG_INFO, "sink", "draining", "signal", strsignal(sig), (char *)0);
    int drained = sink_stop(s);
    s = NULL;
    exit_code = CLI_EXIT_OK;
    (void)drained; /* undrained batches are re-read on restart: still a clean exit */
out:
    observe_stop(obs);
    ch_probe_close(&rd.ch);
    if (s) sink_stop(s);
    sluice_sr_destroy(sr);
    sluice_metrics_free(m);
    app_config_free(&cfg);
    return exit_code;
}
