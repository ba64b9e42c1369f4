/*
 * observe.c — see observe.h. Two HTTP worker threads: scrapes and probes
 * are rare and cheap.
 */
#include "app/observe.h"

#include "common/httpd.h"
#include "common/metrics_scope.h"

#include <stdlib.h>
#include <string.h>

struct observe {
    httpd *http;
    sluice_metrics *m;
    sluice_metrics *scope; /* its own series, so a successor can take them (reload) */
    observe_ready_fn ready;
    void *opaque;
};

static void handle(void *opaque, const httpd_request *req, httpd_response *resp)
{
    observe *o = opaque;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        httpd_respond_printf(resp, 405, "text/plain", "method not allowed\n");
    } else if (strcmp(req->path, "/metrics") == 0) {
        char *text = NULL;
        size_t len = 0;
        if (sluice_metrics_render(o->m, &text, &len) == 0) {
            httpd_respond(resp, 200, "text/plain; version=0.0.4", text, len);
            free(text);
        } else {
            httpd_respond_printf(resp, 500, "text/plain", "out of memory\n");
        }
    } else if (strcmp(req->path, "/healthz") == 0) {
        httpd_respond_printf(resp, 200, "text/plain", "ok\n");
    } else if (strcmp(req->path, "/readyz") == 0) {
        char why[512] = "";
        if (!o->ready || o->ready(o->opaque, why, sizeof why))
            httpd_respond_printf(resp, 200, "text/plain", "ready\n");
        else
            httpd_respond_printf(resp, 503, "text/plain", "not ready: %s\n", why);
    } else {
        httpd_respond_printf(resp, 404, "text/plain",
                             "not found: try /metrics, /healthz, /readyz\n");
    }
}

static double process_rss(void *opaque)
{
    (void)opaque;
    return (double)sluice_process_rss_bytes();
}

int observe_start(const char *listen, sluice_metrics *m, observe_ready_fn ready, void *opaque,
                  observe **out, sluice_error *err)
{
    observe *o = calloc(1, sizeof *o);
    if (!o) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    o->m = m;
    o->ready = ready;
    o->opaque = opaque;
    httpd_config hc = {.listen = listen,
                       .max_body_bytes = 4096,
                       .threads = 2,
                       .max_connections = 64,
                       .handler = handle,
                       .opaque = o,
                       .name = "metrics"};
    int rc = httpd_start(&hc, &o->http, err);
    if (rc) {
        free(o);
        return rc;
    }
    /* Every process serving /metrics reports its resident set. */
    o->scope = metrics_scope_new(m);
    sluice_metrics_gauge_fn(o->scope, "sluice_process_resident_bytes", "Resident set size.", NULL,
                            process_rss, NULL);
    *out = o;
    return 0;
}

void observe_stop(observe *o)
{
    if (!o) return;
    httpd_stop(o->http);
    metrics_scope_free(o->scope);
    free(o);
}
