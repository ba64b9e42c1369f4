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
 * registry and the cluster go.
 */
#include "app/config.h"
#include "app/observe.h"
#include "cli/cli.h"
#include "cli/cli_config.h"
#include "cli/probe.h"
#include "cli/signals.h"
#include "ingest/ingest.h"
#include "registry/registry.h"
#include "run/backlog.h"
#include "run/embedded_kafka.h"
#include "sink/sink.h"

#include <sluice/log.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
               "SIGTERM/SIGINT drain every part and exit 0. Exit codes: 0 clean shutdown,\n"
               "1 runtime failure, 2 bad usage or configuration.\n");
}

struct readiness {
    ingest *g;
    sink *s; /* NULL without sink routes */
    sluice_sr *sr;
    ch_probe ch; /* opened with the sink */
};

static int ready(void *opaque, char *why, size_t n)
{
    struct readiness *r = opaque;
    if (!ingest_ready(r->g, why, n)) return 0;
    if (r->s && sink_blocked(r->s, why, n)) return 0;
    if (r->s && !sink_ready(r->s)) {
        snprintf(why, n, "kafka: the sink has no partitions assigned yet");
        return 0;
    }
    return (!r->s || ch_probe_ready(&r->ch, why, n)) &&
           sr_probe_ready(r->sr, "__sluice_readyz-value", why, n);
}

static int create_topics(embedded_kafka *k, const app_config *cfg, sluice_error *err)
{
    int parts = (int)cfg->run.partitions;
    const app_ingest_topic_config *it = cfg->ingest.topics.items;
    for (size_t i = 0; i < cfg->ingest.topics.n; i++)
        if (embedded_kafka_create_topic(k, it[i].name, parts, err)) return -1;
    const app_route_config *r = cfg->sink.routes.items;
    for (size_t i = 0; i < cfg->sink.routes.n; i++) {
        char dlq[512];
        if (embedded_kafka_create_topic(k, r[i].topic, parts, err) ||
            embedded_kafka_create_topic(k, app_route_dlq_topic(&r[i], dlq, sizeof dlq), parts, err))
            return -1;
    }
    return 0;
}

static int sink_gave_up(void *s)
{
    return s && sink_failed(s, NULL, 0) != 0;
}

int cmd_run(int argc, char **argv)
{
    app_config cfg;
    sluice_error err;
    int early = cli_config_start_optional(argc, argv, usage, &cfg);
    if (early >= 0) return early;

    int exit_code = CLI_EXIT_RUNTIME;
    sluice_metrics *m = sluice_metrics_new((size_t)cfg.metrics.max_series);
    embedded_kafka *kafka = NULL;
    registry_server *reg = NULL;
    sluice_sr *sr = NULL;
    sink *s = NULL;
    backlog_guard *guard = NULL;
    ingest *g = NULL;
    observe *obs = NULL;
    struct readiness rd = {0};
    const char *brokers = cfg.kafka.brokers;
    char registry_url[96] = "";

    if (!brokers) {
        if (embedded_kafka_start((int)cfg.run.brokers, &kafka, &err) != 0 ||
            create_topics(kafka, &cfg, &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, "run", "cannot start the embedded Kafka", "error", err.msg,
                       (char *)0);
            goto out;
        }
        brokers = embedded_kafka_bootstrap(kafka);
        /* The backlog guard counts a partition's unread bytes from the
         * sink's committed offset: commit five times a second (unless
         * configured otherwise) so that it trails what has landed by little
         * and ingest answers 429 only when the sink really falls behind. */
        if (cfg.sink.commit_interval_ms == 1000) cfg.sink.commit_interval_ms = 200;
        sluice_log(SLUICE_LOG_WARN, "run",
                   "NO kafka.brokers: using an EMBEDDED, IN-MEMORY Kafka cluster for trying "
                   "sluice out. It is NOT DURABLE: everything in it is lost when sluice stops, "
                   "and it keeps only about 5 MiB per partition (ingest answers 429 before "
                   "that). Set kafka.brokers for real use.",
                   "bootstrap", brokers, (char *)0);
    }

    if (!cfg.registry.urls.n) {
        if (mkdir(cfg.run.data_dir, 0755) != 0 && errno != EEXIST) {
            sluice_log(SLUICE_LOG_ERROR, "run", "cannot create run.data_dir", "dir",
                       cfg.run.data_dir, "error", strerror(errno), (char *)0);
            exit_code = CLI_EXIT_USAGE;
            goto out;
        }
        char db[4096];
        snprintf(db, sizeof db, "%s/registry.sqlite", cfg.run.data_dir);
        registry_config rc = {.listen = cfg.run.registry_listen, .db_path = db, .metrics = m};
        if (registry_server_start(&rc, &reg, &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, "run", "cannot start the embedded registry", "error",
                       err.msg, (char *)0);
            goto out;
        }
        snprintf(registry_url, sizeof registry_url, "http://127.0.0.1:%u",
                 (unsigned)registry_server_port(reg));
        sluice_log(SLUICE_LOG_INFO, "run", "embedded Schema Registry serving", "url", registry_url,
                   "db", db, (char *)0);
    }
    {
        sluice_sr_config sc;
        app_config_sr(&cfg, &sc);
        const char *urls[1] = {registry_url};
        if (reg) {
            sc.urls = urls;
            sc.n_urls = 1;
        }
        sc.metrics = m;
        if (sluice_sr_new(&sc, &sr, &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, "run", "registry client", "error", err.msg, (char *)0);
            exit_code = CLI_EXIT_USAGE;
            goto out;
        }
    }

    if (cfg.sink.routes.n) {
        if (sink_start(&cfg, brokers, sr, m, &s, &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, "run", "cannot start the sink", "error", err.msg,
                       (char *)0);
            exit_code = err.code == SLUICE_ECONFIG ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
            goto out;
        }
        if (ch_probe_open(&rd.ch, &cfg, &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, "run", "clickhouse client", "error", err.msg, (char *)0);
            goto out;
        }
    } else {
        sluice_log(SLUICE_LOG_WARN, "run",
                   "no sink.routes: events accepted by ingest stay in Kafka, nothing is "
                   "inserted into ClickHouse",
                   (char *)0);
    }

    ingest_options io = {.brokers = brokers};
    if (kafka) {
        if (backlog_guard_start(brokers, cfg.sink.group_id, cfg.run.backlog_limit, m, &guard,
                                &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, "run", "cannot start the backlog guard", "error", err.msg,
                       (char *)0);
            goto out;
        }
        io.admit = backlog_guard_admit;
        io.admit_opaque = guard;
    }
    if (ingest_start(&cfg, &io, sr, m, &g, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, "run", "cannot start ingest", "error", err.msg, (char *)0);
        exit_code = err.code == SLUICE_ECONFIG ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
        goto out;
    }
    rd.g = g;
    rd.s = s;
    rd.sr = sr;
    if (observe_start(cfg.metrics.listen, m, ready, &rd, &obs, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, "run", "cannot serve metrics", "error", err.msg, (char *)0);
        goto out;
    }
    {
        char ingest_url[64];
        snprintf(ingest_url, sizeof ingest_url, "http://127.0.0.1:%u", (unsigned)ingest_port(g));
        sluice_log(SLUICE_LOG_INFO, "run", "running", "ingest", ingest_url, "metrics",
                   cfg.metrics.listen, "registry", reg ? registry_url : cfg.registry.urls.items[0],
                   "kafka", brokers, "clickhouse", s ? cfg.clickhouse.url : "-", (char *)0);
    }

    int sig = cli_wait_for_signal_or(sink_gave_up, s);
    if (sig == 0) {
        exit_code = sink_failed(s, NULL, 0) == 2 ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
        goto out;
    }
    sluice_log(SLUICE_LOG_INFO, "run", "draining", "signal", strsignal(sig), (char *)0);
    observe_stop(obs);
    obs = NULL;
    ingest_stop(g);
    g = NULL;
    if (s) sink_stop(s); /* undrained batches are re-read on restart: still a clean exit */
    s = NULL;
    exit_code = CLI_EXIT_OK;
out:
    observe_stop(obs);
    if (g) ingest_stop(g);
    if (s) sink_stop(s);
    backlog_guard_stop(guard);
    ch_probe_close(&rd.ch);
    sluice_sr_destroy(sr);
    registry_server_stop(reg);
    embedded_kafka_stop(kafka);
    sluice_metrics_free(m);
    app_config_free(&cfg);
    return exit_code;
}
