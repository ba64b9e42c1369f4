/*
 * service.c — see service.h. One lifecycle for `sluice ingest`, `sink` and
 * `run`: which parts a command runs is its kind; how they start, reload
 * and stop is here, once.
 *
 * Parts, in start order (stop is the reverse): the embedded Kafka (`run`
 * without kafka.brokers, for the process's life), the embedded registry
 * (`run` without registry.urls), the registry client, the sink with its
 * ClickHouse probe, the backlog guard (`run` on the embedded Kafka),
 * ingest, and the /metrics endpoint. Each part keeps a reference to the
 * loaded configuration it was started from (`conf`): a reload that leaves
 * a part alone leaves it on its own configuration, which lives as long as
 * some part uses it.
 *
 * A reload (SIGHUP) reads and checks the whole file first; an invalid
 * file, or one that changes what only a restart can change, changes
 * nothing. Then it works out which parts the change touches (a part is
 * replaced when a section it reads changed, or a part it uses was
 * replaced) and applies it in an order that keeps every accepted event:
 *
 *   1. prepare what can live beside the running parts: a new embedded
 *      registry (new address), a new registry client, a new ClickHouse
 *      probe, a new backlog guard, a new ingest (its producer connected
 *      and its topics checked; listening already if its address changed),
 *      a new /metrics endpoint (new address). Any failure here undoes the
 *      new parts and the running ones never noticed;
 *   2. the sink, if touched: drained exactly as on SIGTERM (stop fetching,
 *      land what was consumed, commit, leave the group) and started again
 *      on the new configuration. If the new one cannot start, the old one
 *      is started again and the reload is refused;
 *   3. ingest, if touched: the new instance takes the listening socket
 *      over (same address) or the old one stops listening (new address);
 *      the old one answers everything it accepted, then drains;
 *   4. the replaced client, guard, registry, probe and endpoint stop.
 * So a sink reload is a rebalance of its group (its partitions are
 * revoked and assigned again), and a message consumed but not landed when
 * the drain times out is read again: at-least-once, as for a restart.
 */
#include "cli/service.h"

#include "app/observe.h"
#include "cli/cli.h"
#include "cli/probe.h"
#include "cli/signals.h"
#include "common/clock.h"
#include "common/metrics_scope.h"
#include "ingest/ingest.h"
#include "registry/registry.h"
#include "run/backlog.h"
#include "run/embedded_kafka.h"
#include "sink/sink.h"

#include <sluice/log.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The files a section names (certificates, keys, schemas): a reload
 * re-reads them, so a certificate renewed in place is a change even when
 * the configuration is not. */
enum { FILES_INGEST, FILES_REGISTRY, FILES_CLICKHOUSE, FILES_KAFKA, N_FILE_GROUPS };

/* One loaded configuration, shared by the parts started from it. Main
 * thread only. */
typedef struct conf {
    app_config cfg;
    char hash[APP_CONFIG_HASH_LEN];
    unsigned char files[N_FILE_GROUPS][32]; /* SHA-256 of each group's files' contents */
    int refs;
} conf;

/* Each file's name and contents (or that it cannot be read), hashed. */
static void digest_files(const char *const *paths, size_t n, unsigned char out[32])
{
    gnutls_hash_hd_t h;
    memset(out, 0, 32);
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) != 0) return;
    for (size_t i = 0; i < n; i++) {
        if (!paths[i]) continue;
        gnutls_hash(h, paths[i], strlen(paths[i]) + 1);
        FILE *f = fopen(paths[i], "rb");
        char chunk[8192];
        size_t got, total = 0;
        while (f && total < (64u << 20) && (got = fread(chunk, 1, sizeof chunk, f)) > 0) {
            gnutls_hash(h, chunk, got);
            total += got;
        }
        if (!f) gnutls_hash(h, "\0missing", 9);
        if (f) fclose(f);
    }
    gnutls_hash_deinit(h, out);
}

static void digest_conf(conf *c)
{
    const app_config *cfg = &c->cfg;
    const char *p[64];
    size_t n = 0;
    p[n++] = cfg->ingest.tls.cert_file;
    p[n++] = cfg->ingest.tls.key_file;
    p[n++] = cfg->ingest.tls.client_ca_file;
    const app_ingest_topic_config *t = cfg->ingest.topics.items;
    for (size_t i = 0; i < cfg->ingest.topics.n && n < 64; i++)
        p[n++] = t[i].value_schema_file;
    digest_files(p, n, c->files[FILES_INGEST]);
    const char *r[] = {cfg->registry.tls.ca_file, cfg->registry.tls.cert_file,
                       cfg->registry.tls.key_file};
    digest_files(r, 3, c->files[FILES_REGISTRY]);
    digest_files((const char *const *)&cfg->clickhouse.ca_file, 1, c->files[FILES_CLICKHOUSE]);
    /* librdkafka's file properties: ssl.ca.location, ssl.key.location, ... */
    n = 0;
    const cfg_map *props = &cfg->kafka.properties;
    for (size_t i = 0; i < props->n && n < 64; i++) {
        size_t len = strlen(props->keys[i]);
        if ((len > 9 && strcmp(props->keys[i] + len - 9, ".location") == 0) ||
            strstr(props->keys[i], "keytab"))
            p[n++] = props->values[i];
    }
    digest_files(p, n, c->files[FILES_KAFKA]);
}

static conf *conf_hold(conf *c)
{
    if (c) c->refs++;
    return c;
}

static void conf_drop(conf *c)
{
    if (c && --c->refs == 0) {
        app_config_free(&c->cfg);
        free(c);
    }
}

/* The parts that a reload may replace, each with its configuration. A
 * NULL member is a part not running. */
typedef struct parts {
    registry_server *reg; /* run: the embedded registry */
    sluice_metrics *reg_scope;
    conf *reg_conf;
    char registry_url[96];
    sluice_sr *sr;
    sluice_metrics *sr_scope;
    conf *sr_conf;
    sink *s;
    conf *s_conf;
    ch_probe *ch;
    backlog_guard *guard; /* run: on the embedded Kafka */
    sluice_metrics *guard_scope;
    conf *guard_conf;
    ingest *g;
    conf *g_conf;
    observe *obs;
} parts;

typedef struct service {
    service_kind kind;
    const char *who; /* "ingest", "sink" or "run" in logs */
    const char *path;
    sluice_metrics *m;
    conf *cur; /* the configuration running: the last one applied */
    embedded_kafka *kafka;
    const char *embedded_brokers; /* its bootstrap, or NULL */
    int fatal;                    /* the exit code when a part cannot go on; 0 while fine */

    /* The running parts; /readyz reads them under `lock`, the main thread
     * changes them under it exclusively. */
    pthread_rwlock_t lock;
    parts p;
    int sink_restarting;
    int stopping;
    char subject[512]; /* sink: the subject /readyz looks up */

    sluice_counter *reloads_ok, *reloads_error;
    sluice_gauge *last_reload_ok;
    sluice_metrics *info_scope; /* sluice_config_info{hash} of cur */
} service;

/* ---- readiness ---------------------------------------------------------------- */

static int ready_locked(service *svc, char *why, size_t n)
{
    parts *p = &svc->p;
    if (svc->stopping) {
        snprintf(why, n, "stopping");
        return 0;
    }
    if (svc->sink_restarting) {
        snprintf(why, n, "sink: restarting for a new configuration");
        return 0;
    }
    switch (svc->kind) {
    case SERVICE_INGEST:
        return ingest_ready(p->g, why, n);
    case SERVICE_SINK:
        /* a route ClickHouse refuses says why first (sink_blocked) */
        if (p->s && sink_blocked(p->s, why, n)) return 0;
        if (!p->s || !sink_ready(p->s)) {
            snprintf(why, n, "kafka: no partitions assigned yet");
            return 0;
        }
        return ch_probe_ready(p->ch, why, n) &&
               (!p->sr || sr_probe_ready(p->sr, svc->subject, why, n));
    case SERVICE_RUN:
        if (!ingest_ready(p->g, why, n)) return 0;
        if (p->s && sink_blocked(p->s, why, n)) return 0;
        if (p->s && !sink_ready(p->s)) {
            snprintf(why, n, "kafka: the sink has no partitions assigned yet");
            return 0;
        }
        return (!p->s || ch_probe_ready(p->ch, why, n)) &&
               sr_probe_ready(p->sr, "__sluice_readyz-value", why, n);
    }
    return 0;
}

static int ready(void *opaque, char *why, size_t n)
{
    service *svc = opaque;
    pthread_rwlock_rdlock(&svc->lock);
    int ok = ready_locked(svc, why, n);
    pthread_rwlock_unlock(&svc->lock);
    return ok;
}

/* ---- the parts, one by one ------------------------------------------------------- */

static int runs_ingest(const service *svc)
{
    return svc->kind != SERVICE_SINK;
}

/* `sluice sink` always runs its sink (it refuses to start without routes);
 * `sluice run` only when the configuration has routes. */
static int wants_sink(const service *svc, const app_config *cfg)
{
    return svc->kind == SERVICE_SINK || (svc->kind == SERVICE_RUN && cfg->sink.routes.n > 0);
}

static int embedded_registry(const service *svc, const app_config *cfg)
{
    return svc->kind == SERVICE_RUN && cfg->registry.urls.n == 0;
}

static int start_registry(service *svc, conf *c, parts *np, sluice_error *err)
{
    const app_config *cfg = &c->cfg;
    if (mkdir(cfg->run.data_dir, 0755) != 0 && errno != EEXIST)
        return sluice_error_set(err, SLUICE_ECONFIG, "run.data_dir: cannot create %s: %s",
                                cfg->run.data_dir, strerror(errno));
    char db[4096];
    snprintf(db, sizeof db, "%s/registry.sqlite", cfg->run.data_dir);
    np->reg_scope = metrics_scope_new(svc->m);
    registry_config rc = {
        .listen = cfg->run.registry_listen, .db_path = db, .metrics = np->reg_scope};
    int r = registry_server_start(&rc, &np->reg, err);
    if (r) {
        metrics_scope_free(np->reg_scope);
        np->reg_scope = NULL;
        return r;
    }
    np->reg_conf = conf_hold(c);
    snprintf(np->registry_url, sizeof np->registry_url, "http://127.0.0.1:%u",
             (unsigned)registry_server_port(np->reg));
    sluice_log(SLUICE_LOG_INFO, "run", "embedded Schema Registry serving", "url", np->registry_url,
               "db", db, (char *)0);
    return 0;
}

/* The registry client: registry.urls, or the embedded registry at url. */
static int start_sr(service *svc, conf *c, const char *url, parts *np, sluice_error *err)
{
    const app_config *cfg = &c->cfg;
    if (!cfg->registry.urls.n && !url) return 0; /* ingest/sink without a registry */
    sluice_sr_config sc;
    app_config_sr(cfg, &sc);
    const char *urls[1] = {url};
    if (url) {
        sc.urls = urls;
        sc.n_urls = 1;
    }
    np->sr_scope = metrics_scope_new(svc->m);
    sc.metrics = np->sr_scope;
    int rc = sluice_sr_new(&sc, &np->sr, err);
    if (rc) {
        metrics_scope_free(np->sr_scope);
        np->sr_scope = NULL;
        return SLUICE_ECONFIG;
    }
    np->sr_conf = conf_hold(c);
    return 0;
}

static void stop_sr(parts *p)
{
    metrics_scope_free(p->sr_scope); /* its callbacks read the client */
    sluice_sr_destroy(p->sr);
    conf_drop(p->sr_conf);
    p->sr = NULL;
    p->sr_scope = NULL;
    p->sr_conf = NULL;
}

static void stop_registry(parts *p)
{
    metrics_scope_free(p->reg_scope);
    registry_server_stop(p->reg);
    conf_drop(p->reg_conf);
    p->reg = NULL;
    p->reg_scope = NULL;
    p->reg_conf = NULL;
}

static int open_probe(conf *c, parts *np, sluice_error *err)
{
    np->ch = calloc(1, sizeof *np->ch);
    if (!np->ch) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    int rc = ch_probe_open(np->ch, &c->cfg, err);
    if (rc) {
        free(np->ch);
        np->ch = NULL;
    }
    return rc;
}

static void close_probe(parts *p)
{
    if (p->ch) ch_probe_close(p->ch);
    free(p->ch);
    p->ch = NULL;
}

static int start_guard(service *svc, conf *c, parts *np, sluice_error *err)
{
    const app_config *cfg = &c->cfg;
    np->guard_scope = metrics_scope_new(svc->m);
    int rc = backlog_guard_start(svc->embedded_brokers, cfg->sink.group_id, cfg->run.backlog_limit,
                                 np->guard_scope, &np->guard, err);
    if (rc) {
        metrics_scope_free(np->guard_scope);
        np->guard_scope = NULL;
        return rc;
    }
    np->guard_conf = conf_hold(c);
    return 0;
}

static void stop_guard(parts *p)
{
    metrics_scope_free(p->guard_scope);
    backlog_guard_stop(p->guard);
    conf_drop(p->guard_conf);
    p->guard = NULL;
    p->guard_scope = NULL;
    p->guard_conf = NULL;
}

static int start_sink(service *svc, conf *c, sluice_sr *sr, parts *np, sluice_error *err)
{
    int rc = sink_start(&c->cfg, svc->embedded_brokers, sr, svc->m, &np->s, err);
    if (rc == 0) np->s_conf = conf_hold(c);
    return rc;
}

static void stop_sink(parts *p)
{
    sink_stop(p->s); /* batches that did not land are read again: at-least-once */
    conf_drop(p->s_conf);
    p->s = NULL;
    p->s_conf = NULL;
}

static int start_ingest(service *svc, conf *c, sluice_sr *sr, backlog_guard *guard,
                        ingest *replaces, parts *np, sluice_error *err)
{
    ingest_options io = {.brokers = svc->embedded_brokers, .replaces = replaces};
    if (guard) {
        io.admit = backlog_guard_admit;
        io.admit_opaque = guard;
        io.wire = backlog_guard_wire;
        io.wire_opaque = guard;
    }
    int rc = ingest_start(&c->cfg, &io, sr, svc->m, &np->g, err);
    if (rc == 0) np->g_conf = conf_hold(c);
    return rc;
}

static void stop_ingest(parts *p)
{
    ingest_stop(p->g); /* requests it could not finish in time were answered 503 */
    conf_drop(p->g_conf);
    p->g = NULL;
    p->g_conf = NULL;
}

static void set_subject(service *svc, const app_config *cfg)
{
    svc->subject[0] = '\0';
    if (svc->kind != SERVICE_SINK || !cfg->sink.routes.n) return;
    const app_route_config *r0 = cfg->sink.routes.items;
    if (r0->subject)
        snprintf(svc->subject, sizeof svc->subject, "%s", r0->subject);
    else
        snprintf(svc->subject, sizeof svc->subject, "%s-value", r0->topic);
}

/* `sluice run` on the embedded cluster: the topics of ingest.topics, the
 * routes and their dead letters (creating one that exists does nothing). */
static int create_topics(embedded_kafka *k, const app_config *cfg, sluice_error *err)
{
    int n_parts = (int)cfg->run.partitions;
    const app_ingest_topic_config *it = cfg->ingest.topics.items;
    for (size_t i = 0; i < cfg->ingest.topics.n; i++)
        if (embedded_kafka_create_topic(k, it[i].name, n_parts, err)) return -1;
    const app_route_config *r = cfg->sink.routes.items;
    for (size_t i = 0; i < cfg->sink.routes.n; i++) {
        char dlq[512];
        if (embedded_kafka_create_topic(k, r[i].topic, n_parts, err) ||
            embedded_kafka_create_topic(k, app_route_dlq_topic(&r[i], dlq, sizeof dlq), n_parts,
                                        err))
            return -1;
    }
    return 0;
}

/* ---- configuration metrics -------------------------------------------------------- */

static double one(void *opaque)
{
    (void)opaque;
    return 1;
}

/* sluice_config_info{hash="..."} 1 for the configuration running: the old
 * hash's series leaves /metrics with its scope. */
static void publish_hash(service *svc, const char *hash)
{
    metrics_scope_free(svc->info_scope);
    svc->info_scope = metrics_scope_new(svc->m);
    char labels[128];
    snprintf(labels, sizeof labels, "hash=\"%s\"", hash);
    sluice_metrics_gauge_fn(svc->info_scope, "sluice_config_info",
                            "1 for the configuration running; hash is the SHA-256 of its file "
                            "(sha256sum FILE), or none without -c",
                            labels, one, NULL);
}

static void config_metrics(service *svc)
{
    const char *help = "SIGHUP reloads of the configuration file, by result (error: the file "
                       "was invalid or could not be applied, and nothing changed)";
    svc->reloads_ok =
        sluice_metrics_counter(svc->m, "sluice_config_reloads_total", help, "result=\"ok\"");
    svc->reloads_error =
        sluice_metrics_counter(svc->m, "sluice_config_reloads_total", help, "result=\"error\"");
    svc->last_reload_ok = sluice_metrics_gauge(
        svc->m, "sluice_config_last_reload_successful",
        "1 if the last reload was applied (or none was tried), 0 if refused", NULL);
    sluice_gauge_set(svc->last_reload_ok, 1);
    publish_hash(svc, svc->cur->hash);
}

/* ---- start and stop ----------------------------------------------------------------- */

static int exit_code_of(const sluice_error *err)
{
    return err->code == SLUICE_ECONFIG ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
}

static void log_running(service *svc)
{
    if (svc->kind != SERVICE_RUN) return;
    const app_config *cfg = &svc->cur->cfg;
    parts *p = &svc->p;
    char ingest_url[64];
    snprintf(ingest_url, sizeof ingest_url, "http://127.0.0.1:%u", (unsigned)ingest_port(p->g));
    sluice_log(SLUICE_LOG_INFO, "run", "running", "ingest", ingest_url, "metrics",
               cfg->metrics.listen, "registry",
               p->reg ? p->registry_url : cfg->registry.urls.items[0], "kafka",
               svc->embedded_brokers ? svc->embedded_brokers : cfg->kafka.brokers, "clickhouse",
               p->s ? cfg->clickhouse.url : "-", (char *)0);
}

/* Start every part on svc->cur, as the command always has. Returns -1 to
 * go on, or the exit code to return now (everything started is stopped
 * by service_stop). */
static int service_start(service *svc)
{
    conf *c = svc->cur;
    const app_config *cfg = &c->cfg;
    parts *p = &svc->p;
    sluice_error err;
    if (svc->kind == SERVICE_RUN && !cfg->kafka.brokers) {
        if (embedded_kafka_start((int)cfg->run.brokers, &svc->kafka, &err) != 0 ||
            create_topics(svc->kafka, cfg, &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, "run", "cannot start the embedded Kafka", "error", err.msg,
                       (char *)0);
            return CLI_EXIT_RUNTIME;
        }
        svc->embedded_brokers = embedded_kafka_bootstrap(svc->kafka);
        sluice_log(SLUICE_LOG_WARN, "run",
                   "NO kafka.brokers: using an EMBEDDED, IN-MEMORY Kafka cluster for trying "
                   "sluice out. It is NOT DURABLE: everything in it is lost when sluice stops, "
                   "and it keeps only about 5 MiB per partition (ingest answers 429 before "
                   "that). Set kafka.brokers for real use.",
                   "bootstrap", svc->embedded_brokers, (char *)0);
    }
    if (embedded_registry(svc, cfg) && start_registry(svc, c, p, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, "run", "cannot start the embedded registry", "error", err.msg,
                   (char *)0);
        return err.code == SLUICE_ECONFIG ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
    }
    if (start_sr(svc, c, p->reg ? p->registry_url : NULL, p, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, svc->who, "registry client", "error", err.msg, (char *)0);
        return CLI_EXIT_USAGE;
    }
    if (wants_sink(svc, cfg)) {
        if (start_sink(svc, c, p->sr, p, &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, svc->who,
                       svc->kind == SERVICE_RUN ? "cannot start the sink" : "cannot start", "error",
                       err.msg, (char *)0);
            return exit_code_of(&err);
        }
        set_subject(svc, cfg);
        if (open_probe(c, p, &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, svc->who,
                       svc->kind == SERVICE_RUN ? "clickhouse client" : "cannot serve metrics",
                       "error", err.msg, (char *)0);
            return CLI_EXIT_RUNTIME;
        }
    } else if (svc->kind == SERVICE_RUN) {
        sluice_log(SLUICE_LOG_WARN, "run",
                   "no sink.routes: events accepted by ingest stay in Kafka, nothing is "
                   "inserted into ClickHouse",
                   (char *)0);
    }
    if (runs_ingest(svc)) {
        if (svc->kafka && start_guard(svc, c, p, &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, "run", "cannot start the backlog guard", "error", err.msg,
                       (char *)0);
            return CLI_EXIT_RUNTIME;
        }
        if (start_ingest(svc, c, p->sr, p->guard, NULL, p, &err) != 0) {
            sluice_log(SLUICE_LOG_ERROR, svc->who,
                       svc->kind == SERVICE_RUN ? "cannot start ingest" : "cannot start", "error",
                       err.msg, (char *)0);
            return exit_code_of(&err);
        }
    }
    if (observe_start(cfg->metrics.listen, svc->m, ready, svc, &p->obs, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, svc->who, "cannot serve metrics", "error", err.msg, (char *)0);
        return CLI_EXIT_RUNTIME;
    }
    config_metrics(svc);
    log_running(svc);
    return -1;
}

/* Drain and stop everything, in reverse start order. `sluice sink` keeps
 * /metrics up while its sink drains (/readyz says it is stopping); the
 * others stop it first. */
static void service_stop(service *svc)
{
    pthread_rwlock_wrlock(&svc->lock);
    parts p = svc->p;
    memset(&svc->p, 0, sizeof svc->p);
    svc->stopping = 1;
    pthread_rwlock_unlock(&svc->lock);
    if (svc->kind != SERVICE_SINK) {
        observe_stop(p.obs);
        p.obs = NULL;
    }
    if (p.g) stop_ingest(&p);
    if (p.s) stop_sink(&p);
    observe_stop(p.obs);
    p.obs = NULL;
    if (p.guard) stop_guard(&p);
    close_probe(&p);
    stop_sr(&p);
    stop_registry(&p);
    embedded_kafka_stop(svc->kafka);
    svc->kafka = NULL;
}

/* ---- reload -------------------------------------------------------------------------- */

/* What a new configuration changes: the parts to replace. */
typedef struct plan {
    int reg, sr, sink, sink_wanted, probe, guard, ingest, obs;
} plan;

static int same(const app_config *a, const app_config *b, const char *path)
{
    return cfg_equal_at(app_config_keys, a, b, path);
}

/* A section and the contents of the files it names. */
static int same_with_files(const conf *a, const conf *b, const char *section, int files)
{
    return same(&a->cfg, &b->cfg, section) && memcmp(a->files[files], b->files[files], 32) == 0;
}

/* Keys a running process cannot take: the reload is refused, naming one. */
static const char *needs_restart(const service *svc, const app_config *a, const app_config *b)
{
    if (!same(a, b, "metrics.max_series")) return "metrics.max_series";
    if (svc->kind != SERVICE_RUN) return NULL;
    if (!a->kafka.brokers != !b->kafka.brokers) return "kafka.brokers (embedded Kafka or not)";
    if (!a->kafka.brokers && !same(a, b, "run.brokers")) return "run.brokers";
    if (!a->registry.urls.n != !b->registry.urls.n)
        return "registry.urls (embedded registry or not)";
    if (!a->registry.urls.n && !same(a, b, "run.data_dir")) return "run.data_dir";
    return NULL;
}

static plan make_plan(const service *svc, const conf *ca, const conf *cb)
{
    const app_config *a = &ca->cfg, *b = &cb->cfg;
    plan p = {0};
    int kafka = same_with_files(ca, cb, "kafka", FILES_KAFKA);
    int clickhouse = same_with_files(ca, cb, "clickhouse", FILES_CLICKHOUSE);
    p.reg = embedded_registry(svc, b) && !same(a, b, "run.registry_listen");
    p.sr = p.reg || !same_with_files(ca, cb, "registry", FILES_REGISTRY);
    p.sink_wanted = wants_sink(svc, b);
    int sink_running = svc->p.s != NULL;
    p.sink = p.sink_wanted != sink_running ||
             (p.sink_wanted && (p.sr || !kafka || !clickhouse || !same(a, b, "sink")));
    p.probe = p.sink_wanted && (!svc->p.ch || !clickhouse);
    if (runs_ingest(svc)) {
        p.guard = svc->kafka && (!same(a, b, "sink.group_id") || !same(a, b, "run.backlog_limit"));
        p.ingest = p.sr || p.guard || !kafka || !same_with_files(ca, cb, "ingest", FILES_INGEST);
    }
    p.obs = !same(a, b, "metrics.listen");
    return p;
}

static void describe_plan(const plan *p, char *out, size_t n)
{
    static const char *const names[] = {"registry", "registry client", "sink",   "",
                                        "probe",    "backlog guard",   "ingest", "metrics"};
    const int on[] = {p->reg, p->sr, p->sink, 0, p->probe, p->guard, p->ingest, p->obs};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++)
        if (on[i] && len < n)
            len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "", names[i]);
    if (!len) snprintf(out, n, "nothing");
}

/* Stop the new parts a refused reload prepared (np's sink, if any, is
 * stopped by the caller). */
static void undo(parts *np)
{
    observe_stop(np->obs);
    np->obs = NULL;
    if (np->g) stop_ingest(np);
    if (np->guard) stop_guard(np);
    close_probe(np);
    stop_sr(np);
    stop_registry(np);
}

static int prepare(service *svc, conf *next, const plan *pl, parts *np, sluice_error *err)
{
    const app_config *b = &next->cfg;
    parts *p = &svc->p;
    int rc = 0;
    if (pl->sink && pl->sink_wanted) rc = sink_check_config(b, svc->embedded_brokers, err);
    if (rc == 0 && svc->kafka) rc = create_topics(svc->kafka, b, err) ? SLUICE_EIO : 0;
    if (rc == 0 && pl->reg) rc = start_registry(svc, next, np, err);
    if (rc == 0 && pl->sr) {
        const char *url = pl->reg ? np->registry_url : p->reg ? p->registry_url : NULL;
        rc = start_sr(svc, next, url, np, err);
    }
    if (rc == 0 && pl->probe) rc = open_probe(next, np, err);
    if (rc == 0 && pl->guard) rc = start_guard(svc, next, np, err);
    if (rc == 0 && pl->ingest)
        rc = start_ingest(svc, next, pl->sr ? np->sr : p->sr, pl->guard ? np->guard : p->guard,
                          p->g, np, err);
    if (rc == 0 && pl->obs)
        rc = observe_start(b->metrics.listen, svc->m, ready, svc, &np->obs, err);
    if (rc) undo(np);
    return rc;
}

/* A sink decides each route's delivery (asking ClickHouse) before it
 * consumes, on a thread of its own: a reload waits for that, up to
 * sink.shutdown_timeout, so that a configuration ClickHouse refuses
 * (exactly_once on a table that cannot have it) is refused like an
 * invalid file. A sink still waiting for ClickHouse then is kept, and
 * retries as it would at start. */
static int wait_started(const sink *s, const app_config *cfg, sluice_error *err)
{
    char why[SLUICE_ERROR_MSG_MAX];
    for (int64_t waited = 0; waited <= cfg->sink.shutdown_timeout_ms; waited += 20) {
        if (sink_started(s)) return 0;
        if (sink_failed(s, why, sizeof why))
            return sluice_error_set(err, SLUICE_ECONFIG, "the sink cannot start: %s", why);
        clock_sleep_ms(20);
    }
    return 0;
}

/* Step 2: the sink drained and started on the new configuration (or
 * stopped, or started for the first time). On failure the old one is
 * started again. */
static int replace_sink(service *svc, conf *next, const plan *pl, parts *np, sluice_error *err)
{
    parts *p = &svc->p;
    conf *old_conf = conf_hold(p->s_conf);
    pthread_rwlock_wrlock(&svc->lock);
    svc->sink_restarting = 1;
    pthread_rwlock_unlock(&svc->lock);
    if (p->s) {
        sluice_log(SLUICE_LOG_INFO, svc->who, "draining the sink for the new configuration",
                   (char *)0);
        pthread_rwlock_wrlock(&svc->lock);
        parts old = {.s = p->s, .s_conf = p->s_conf};
        p->s = NULL;
        p->s_conf = NULL;
        pthread_rwlock_unlock(&svc->lock);
        stop_sink(&old);
    }
    int rc = 0;
    if (pl->sink_wanted) rc = start_sink(svc, next, pl->sr ? np->sr : p->sr, np, err);
    if (rc == 0 && np->s) rc = wait_started(np->s, &next->cfg, err);
    if (rc && np->s) stop_sink(np);
    if (rc && old_conf) {
        sluice_log(SLUICE_LOG_ERROR, svc->who,
                   "the sink cannot start on the new configuration; starting it again on the "
                   "previous one",
                   "error", err->msg, (char *)0);
        sluice_error again;
        parts back = {0};
        if (start_sink(svc, old_conf, p->sr, &back, &again) != 0)
            sluice_log(SLUICE_LOG_ERROR, svc->who, "the sink is not running", "error", again.msg,
                       (char *)0);
        np->s = back.s;
        np->s_conf = back.s_conf;
    }
    pthread_rwlock_wrlock(&svc->lock);
    p->s = np->s;
    p->s_conf = np->s_conf;
    np->s = NULL;
    np->s_conf = NULL;
    if (rc == 0) set_subject(svc, &next->cfg);
    svc->sink_restarting = 0;
    pthread_rwlock_unlock(&svc->lock);
    conf_drop(old_conf);
    return rc;
}

/* Swap a prepared part in under the lock; the replaced one ends up in np. */
#define SWAP(type, a, b)                                                                           \
    do {                                                                                           \
        type t_ = (a);                                                                             \
        (a) = (b);                                                                                 \
        (b) = t_;                                                                                  \
    } while (0)

static int apply(service *svc, conf *next, char *changed, size_t changed_len, sluice_error *err)
{
    const app_config *a = &svc->cur->cfg, *b = &next->cfg;
    const char *key = needs_restart(svc, a, b);
    if (key)
        return sluice_error_set(err, SLUICE_ECONFIG,
                                "%s changes only when the process restarts; restart it, or put "
                                "the old value back",
                                key);
    plan pl = make_plan(svc, svc->cur, next);
    describe_plan(&pl, changed, changed_len);
    parts np = {0};
    int rc = prepare(svc, next, &pl, &np, err);
    if (rc) return rc;
    parts *p = &svc->p;
    if (pl.sink) {
        rc = replace_sink(svc, next, &pl, &np, err);
        if (rc) {
            undo(&np);
            return rc;
        }
    }
    if (pl.ingest && p->g) {
        rc = ingest_take_over(np.g, p->g, err);
        if (rc) {
            if (rc == SLUICE_EINTERNAL) svc->fatal = CLI_EXIT_RUNTIME;
            sluice_log(SLUICE_LOG_ERROR, svc->who, "ingest could not take over", "error", err->msg,
                       (char *)0);
            /* The sink may be on the new configuration already: say so. */
            snprintf(changed, changed_len, "%s", pl.sink ? "sink only (ingest failed)" : "nothing");
            undo(&np);
            return rc == SLUICE_EINTERNAL ? rc : SLUICE_EIO;
        }
    }
    /* Commit: the prepared parts in, the replaced ones out. */
    pthread_rwlock_wrlock(&svc->lock);
    if (pl.ingest) {
        SWAP(ingest *, p->g, np.g);
        SWAP(conf *, p->g_conf, np.g_conf);
    }
    if (pl.probe || !pl.sink_wanted) {
        SWAP(ch_probe *, p->ch, np.ch);
    }
    if (pl.guard) {
        SWAP(backlog_guard *, p->guard, np.guard);
        SWAP(sluice_metrics *, p->guard_scope, np.guard_scope);
        SWAP(conf *, p->guard_conf, np.guard_conf);
    }
    if (pl.sr) {
        SWAP(sluice_sr *, p->sr, np.sr);
        SWAP(sluice_metrics *, p->sr_scope, np.sr_scope);
        SWAP(conf *, p->sr_conf, np.sr_conf);
    }
    if (pl.reg) {
        SWAP(registry_server *, p->reg, np.reg);
        SWAP(sluice_metrics *, p->reg_scope, np.reg_scope);
        SWAP(conf *, p->reg_conf, np.reg_conf);
        char url[sizeof p->registry_url];
        memcpy(url, p->registry_url, sizeof url);
        memcpy(p->registry_url, np.registry_url, sizeof url);
        memcpy(np.registry_url, url, sizeof url);
    }
    if (pl.obs) SWAP(observe *, p->obs, np.obs);
    pthread_rwlock_unlock(&svc->lock);
    /* The replaced ones, users before what they use: ingest drains (its
     * open connections answered), then the guard, the client, the
     * registry. */
    undo(&np);
    return 0;
}

static void log_config_error(void *opaque, const char *message)
{
    service *svc = opaque;
    sluice_log(SLUICE_LOG_ERROR, svc->who, "invalid configuration", "error", message, (char *)0);
}

static void reload_refused(service *svc, const char *why)
{
    sluice_counter_inc(svc->reloads_error);
    sluice_gauge_set(svc->last_reload_ok, 0);
    sluice_log(SLUICE_LOG_ERROR, svc->who,
               "reload refused: still running on the previous configuration", "reason", why, "hash",
               svc->cur->hash, (char *)0);
}

static void service_reload(service *svc)
{
    sluice_log(SLUICE_LOG_INFO, svc->who, "SIGHUP: reloading the configuration", "file",
               svc->path ? svc->path : "(none: defaults)", (char *)0);
    conf *next = calloc(1, sizeof *next);
    if (!next) {
        reload_refused(svc, "out of memory");
        return;
    }
    next->refs = 1;
    sluice_error err;
    if (app_config_load_hashed(svc->path, &next->cfg, next->hash, &err, log_config_error, svc) !=
        0) {
        app_config_free(&next->cfg);
        free(next);
        reload_refused(svc, "the file is invalid (every error is logged above)");
        return;
    }
    digest_conf(next);
    char changed[160];
    int rc = apply(svc, next, changed, sizeof changed, &err);
    if (rc) {
        conf_drop(next);
        reload_refused(svc, err.msg);
        return;
    }
    conf *old = svc->cur;
    svc->cur = next;
    conf_drop(old);
    app_config_apply_log(&next->cfg);
    publish_hash(svc, next->hash);
    sluice_counter_inc(svc->reloads_ok);
    sluice_gauge_set(svc->last_reload_ok, 1);
    sluice_log(SLUICE_LOG_INFO, svc->who, "configuration reloaded", "restarted", changed, "hash",
               next->hash, (char *)0);
    log_running(svc);
}

/* ---- main ---------------------------------------------------------------------------- */

/* The sink could not start after all (sink_failed): the process stops, as
 * it does when that happens at start. Main thread. */
static int sink_gave_up(void *opaque)
{
    const service *svc = opaque;
    return svc->p.s && sink_failed(svc->p.s, NULL, 0) != 0;
}

int service_main(service_kind kind, const char *path, app_config *cfg, const char *hash)
{
    static const char *const names[] = {"ingest", "sink", "run"};
    service svc = {.kind = kind, .who = names[kind], .path = path};
    pthread_rwlock_init(&svc.lock, NULL);
    svc.cur = calloc(1, sizeof *svc.cur);
    if (!svc.cur) {
        app_config_free(cfg);
        return CLI_EXIT_RUNTIME;
    }
    svc.cur->cfg = *cfg; /* the service owns it now */
    snprintf(svc.cur->hash, sizeof svc.cur->hash, "%s", hash);
    svc.cur->refs = 1;
    digest_conf(svc.cur);
    svc.m = sluice_metrics_new((size_t)svc.cur->cfg.metrics.max_series);

    int exit_code = service_start(&svc);
    if (exit_code < 0) {
        for (;;) {
            int sig = cli_wait_for_signal_or(sink_gave_up, &svc);
            if (sig == SIGHUP) {
                service_reload(&svc);
                if (!svc.fatal) continue;
                sluice_log(SLUICE_LOG_ERROR, svc.who, "cannot go on after the failed reload",
                           (char *)0);
            } else if (sig == 0) {
                /* The sink logged why it gave up, as at start. */
                svc.fatal = sink_failed(svc.p.s, NULL, 0) == 2 ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
            } else {
                sluice_log(SLUICE_LOG_INFO, svc.who, "draining", "signal", strsignal(sig),
                           (char *)0);
            }
            break;
        }
        exit_code = svc.fatal ? svc.fatal : CLI_EXIT_OK;
    }
    service_stop(&svc);
    metrics_scope_free(svc.info_scope);
    conf_drop(svc.cur);
    sluice_metrics_free(svc.m);
    pthread_rwlock_destroy(&svc.lock);
    return exit_code;
}
