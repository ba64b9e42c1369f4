/*
 * probe.c — see probe.h.
 */
#include "cli/probe.h"

#include <stdio.h>

int ch_probe_open(ch_probe *p, const app_config *cfg, sluice_error *err)
{
    p->ch = NULL;
    pthread_mutex_init(&p->mu, NULL);
    ch_http_config hc;
    ch_http_config_from(cfg, NULL, &hc);
    hc.connect_timeout_ms = 2000;
    hc.request_timeout_ms = 5000;
    int rc = ch_http_new(&hc, &p->ch, err);
    if (rc) pthread_mutex_destroy(&p->mu);
    return rc;
}

int ch_probe_ready(ch_probe *p, char *why, size_t why_len)
{
    sluice_error err;
    pthread_mutex_lock(&p->mu);
    int rc = ch_http_query(p->ch, "SELECT 1", NULL, &err);
    pthread_mutex_unlock(&p->mu);
    if (rc) {
        snprintf(why, why_len, "clickhouse: %s", err.msg);
        return 0;
    }
    return 1;
}

void ch_probe_close(ch_probe *p)
{
    if (!p->ch) return;
    ch_http_free(p->ch);
    p->ch = NULL;
    pthread_mutex_destroy(&p->mu);
}

int sr_probe_ready(sluice_sr *sr, const char *subject, char *why, size_t why_len)
{
    const sluice_sr_schema *s = NULL;
    sluice_error err;
    int rc = sluice_sr_get_latest(sr, subject, &s, &err);
    sluice_sr_schema_release(s);
    if (rc && rc != SLUICE_ENOTFOUND) {
        snprintf(why, why_len, "registry: %s", err.msg);
        return 0;
    }
    return 1;
}
