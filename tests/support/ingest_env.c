/*
 * ingest_env.c — see ingest_env.h.
 */
#include "ingest_env.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ingest_env_start(ingest_env *e, const char *name)
{
    memset(e, 0, sizeof *e);
    e->dir = test_tmpdir(name);
    if (!e->dir || test_kafka_start(&e->kafka, 1, e->dir) != 0) return -1;
    char path[600], log[600];
    snprintf(path, sizeof path, "%s/registry.sqlite", e->dir);
    snprintf(log, sizeof log, "%s/registry.log", e->dir);
    uint16_t port;
    if (test_registry_start(&e->reg, path, 0, &port, log) != 0) return -1;
    snprintf(e->reg_url, sizeof e->reg_url, "http://127.0.0.1:%u", (unsigned)port);
    const char *urls[] = {e->reg_url};
    sluice_sr_config sc;
    sluice_sr_config_init(&sc);
    sc.urls = urls;
    sc.n_urls = 1;
    sluice_error err;
    return sluice_sr_new(&sc, &e->sr, &err);
}

int ingest_env_run(ingest_env *e, const char *ingest_yaml)
{
    char path[600], log[600];
    snprintf(path, sizeof path, "%s/ingest.yaml", e->dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f,
            "log: {level: info}\n"
            "metrics: {listen: 127.0.0.1:0}\n"
            "kafka: {brokers: \"%s\"}\n"
            "registry: {urls: [%s]}\n%s",
            e->kafka.bootstrap, e->reg_url, ingest_yaml);
    if (fclose(f) != 0) return -1;
    snprintf(log, sizeof log, "%s/ingest.log", e->dir);
    char *argv[] = {(char *)test_sluice_bin(), "ingest", "-c", path, NULL};
    if (test_proc_start(&e->ingest, argv, log) != 0) return -1;
    char line[512];
    if (test_proc_wait_log(&e->ingest, "sub=ingest msg=listening", 15000, line, sizeof line) != 0)
        return -1;
    const char *addr = strstr(line, "addr=");
    if (!addr) return -1;
    snprintf(e->host_port, sizeof e->host_port, "%.*s", (int)strcspn(addr + 5, " \n"), addr + 5);
    return 0;
}

int ingest_env_stop_ingest(ingest_env *e)
{
    return test_proc_stop(&e->ingest, SIGTERM, 30000);
}

void ingest_env_stop(ingest_env *e)
{
    if (e->ingest.pid > 0 && test_proc_alive(&e->ingest)) test_proc_stop(&e->ingest, SIGKILL, 5000);
    if (e->reg.pid > 0) test_proc_stop(&e->reg, SIGTERM, 10000);
    if (e->sr) sluice_sr_destroy(e->sr);
    test_kafka_stop(&e->kafka);
    if (e->dir) {
        test_rmtree(e->dir);
        free(e->dir);
    }
    memset(e, 0, sizeof *e);
}
