/*
 * api.h — the registry's REST handlers, separate from the HTTP server so
 * that the fuzz target (and unit tests) can drive them with hand-made
 * requests. Called on httpd worker threads; all state is in the store and
 * the metrics registry, both thread safe.
 */
#ifndef SLUICE_REGISTRY_API_H
#define SLUICE_REGISTRY_API_H

#include <sluice/metrics.h>

#include "common/httpd.h"
#include "registry/store.h"

typedef struct registry_api {
    reg_store *store;
    sluice_metrics *metrics;
} registry_api;

void registry_api_handle(void *api, const httpd_request *req, httpd_response *resp);

#endif
