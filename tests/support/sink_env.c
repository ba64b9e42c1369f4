/*
 * sink_env.c — see sink_env.h. Used from a test's main thread.
 */
#include "sink_env.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

static int start(sink_env *e, const char *name, int brokers, int registry, int replicas)
{
    memset(e, 0, sizeof *e);
    e->dir = test_tmpdir(name);
    if (!e->dir) return -1;
    char path[700];
    snprintf(path, sizeof path, "%s/kafka", e->dir);
    mkdir(path, 0755);
    if (test_kafka_start(&e->kafka, brokers, path) != 0) return -1;
    if (replicas) {
        e->replicated = 1;
        snprintf(path, sizeof path, "%s/zookeeper", e->dir);
        if (test_zk_start(&e->zk, path) != 0) return -1;
        snprintf(path, sizeof path, "%s/clickhouse", e->dir);
        mkdir(path, 0755);
        if (test_ch_cluster_start(&e->cluster, path, replicas, &e->zk) != 0) return -1;
    } else {
        snprintf(path, sizeof path, "%s/clickhouse", e->dir);
        if (test_ch_start(&e->ch, path) != 0) return -1;
    }
    if (registry) {
        char db[700], log[700];
        snprintf(db, sizeof db, "%s/registry.sqlite", e->dir);
        snprintf(log, sizeof log, "%s/registry.log", e->dir);
        uint16_t port;
        if (test_registry_start(&e->reg, db, 0, &port, log) != 0) return -1;
        snprintf(e->reg_url, sizeof e->reg_url, "http://127.0.0.1:%u", (unsigned)port);
        const char *urls[] = {e->reg_url};
        sluice_sr_config cfg;
        sluice_sr_config_init(&cfg);
        cfg.urls = urls;
        cfg.n_urls = 1;
        sluice_error err;
        if (sluice_sr_new(&cfg, &e->sr, &err) != 0) return -1;
    }
    e->prod = test_producer_new(e->kafka.bootstrap, "lz4");
    return e->prod ? 0 : -1;
}

int sink_env_start(sink_env *e, const char *name, int brokers, int registry)
{
    return start(e, name, brokers, registry, 0);
}

int sink_env_start_replicated(sink_env *e, const char *name, int brokers, int registry,
                              int replicas)
{
    return start(e, name, brokers, registry, replicas);
}

test_ch *sink_env_ch(sink_env *e)
{
    return e->replicated ? &e->cluster.server[0] : &e->ch;
}

void sink_env_stop(sink_env *e)
{
    test_producer_free(e->prod);
    sluice_sr_destroy(e->sr);
    if (e->reg.pid > 0) test_proc_stop(&e->reg, SIGTERM, 10000);
    if (e->replicated) {
        test_ch_cluster_stop(&e->cluster);
        test_zk_stop(&e->zk);
    } else {
        test_ch_stop(&e->ch);
    }
    test_kafka_stop(&e->kafka);
    /* SLUICE_KEEP_DIR=1: leave the logs and configs for a look afterwards. */
    const char *keep = getenv("SLUICE_KEEP_DIR");
    if (keep && *keep == '1')
        fprintf(stderr, "kept %s\n", e->dir);
    else
        test_rmtree(e->dir);
    free(e->dir);
    memset(e, 0, sizeof *e);
}

int sink_env_sql(sink_env *e, const char *sql)
{
    char *out = NULL;
    long st = test_ch_query(sink_env_ch(e), sql, &out);
    if (st != 200) fprintf(stderr, "clickhouse: %s\n  -> %ld %s\n", sql, st, out ? out : "");
    free(out);
    return st == 200 ? 0 : -1;
}

double sink_env_scalar(sink_env *e, const char *sql)
{
    return test_ch_scalar(sink_env_ch(e), sql);
}

int sink_env_config(sink_env *e, const char *name, const char *sink_yaml, char *path_out, size_t n)
{
    return sink_env_config_via(e, name, sink_env_ch(e)->url, sink_yaml, path_out, n);
}

int sink_env_config_via(sink_env *e, const char *name, const char *ch_url, const char *sink_yaml,
                        char *path_out, size_t n)
{
    snprintf(path_out, n, "%s/%s.yaml", e->dir, name);
    FILE *f = fopen(path_out, "w");
    if (!f) return -1;
    fprintf(f,
            "log:\n  level: info\n"
            "metrics:\n  listen: 127.0.0.1:0\n"
            "kafka:\n  brokers: \"%s\"\n%s"
            "clickhouse:\n  url: %s\n%s",
            e->kafka.bootstrap, e->kafka_extra ? e->kafka_extra : "", ch_url,
            e->clickhouse_extra ? e->clickhouse_extra : "");
    if (e->reg_url[0])
        fprintf(f, "registry:\n  urls: [%s]\n  backoff_initial: 20ms\n  backoff_max: 500ms\n",
                e->reg_url);
    fputs(sink_yaml, f);
    return fclose(f) == 0 ? 0 : -1;
}

int sink_env_run_sink(sink_env *e, test_proc *p, const char *config, const char *log,
                      int wait_assigned, int timeout_ms)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.log", e->dir, log);
    char *argv[] = {(char *)test_sluice_bin(), "sink", "-c", (char *)config, NULL};
    if (test_proc_start(p, argv, path) != 0) return -1;
    if (!wait_assigned) return 0;
    return test_proc_wait_log(p, "msg=assigned", timeout_ms, NULL, 0);
}

double sink_env_wait_for(sink_env *e, const char *sql, double want, int timeout_ms)
{
    double v = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        v = sink_env_scalar(e, sql);
        if (v >= want) return v;
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
    }
    return v;
}

uint64_t sink_env_rss(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int ok = fscanf(f, "%lu %lu", &size, &resident) == 2;
    fclose(f);
    return ok ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

int sink_env_metric(const test_proc *p, const char *name, const char *filter, double *value)
{
    char line[512];
    test_proc copy = *p; /* only reads the log */
    if (test_proc_wait_log(&copy, "sub=metrics msg=listening", 0, line, sizeof line) != 0)
        return -1;
    const char *q = strstr(line, "addr=");
    if (!q) return -1;
    char url[128];
    int len = (int)strcspn(q + 5, " \n");
    snprintf(url, sizeof url, "http://%.*s/metrics", len, q + 5);
    double v = test_scrape_sum(url, name, filter);
    if (v < 0) return -1;
    *value = v;
    return 0;
}
