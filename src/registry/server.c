/*
 * server.c — `sluice registry` wiring: the SQLite store, the REST handlers
 * and the HTTP server, started and stopped together.
 *
 * Ownership: registry_server owns the httpd, the store and (when the caller
 * gave none) the metrics registry. The store gets one connection per HTTP
 * worker so a request never waits for a connection.
 */
#include "registry/registry.h"

#include "common/httpd.h"
#include "registry/api.h"
#include "registry/store.h"

#include <stdlib.h>

struct registry_server {
    httpd *http;
    registry_api api;
    sluice_metrics *own_metrics;
};

static double schema_count(void *opaque)
{
    registry_api *api = opaque;
    reg_conn *c = store_acquire(api->store);
    double n = (double)store_count_schemas(c);
    store_release(api->store, c);
    return n;
}

int registry_server_start(const registry_config *cfg, registry_server **out, sluice_error *err)
{
    registry_server *s = calloc(1, sizeof *s);
    if (!s) return sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
    unsigned threads = cfg->threads ? cfg->threads : 4;
    int rc = store_open(cfg->db_path, threads, &s->api.store, err);
    if (rc) {
        free(s);
        return rc;
    }
    s->api.metrics = cfg->metrics;
    if (!s->api.metrics) {
        s->own_metrics = sluice_metrics_new(10000);
        s->api.metrics = s->own_metrics;
    }
    sluice_metrics_gauge_fn(s->api.metrics, "sluice_registry_schemas",
                            "Distinct schemas (ids) stored by the registry", NULL, schema_count,
                            &s->api);
    httpd_config hc = {.listen = cfg->listen,
                       .max_body_bytes = 8u << 20, /* a schema larger than 8 MiB is not sane */
                       .threads = threads,
                       .max_connections = 1024,
                       .handler = registry_api_handle,
                       .opaque = &s->api,
                       .name = "registry"};
    rc = httpd_start(&hc, &s->http, err);
    if (rc) {
        store_close(s->api.store);
        sluice_metrics_free(s->own_metrics);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

uint16_t registry_server_port(const registry_server *s)
{
    return httpd_port(s->http);
}

void registry_server_stop(registry_server *s)
{
    if (!s) return;
    httpd_stop(s->http);
    store_close(s->api.store);
    sluice_metrics_free(s->own_metrics);
    free(s);
}
