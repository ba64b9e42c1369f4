/*
 * fuzz_registry_request.c — the registry's REST handlers on arbitrary
 * request bodies and path pieces, without HTTP: the first byte picks the
 * route and method, an optional "\n"-terminated prefix becomes the subject
 * or version segment, the rest is the body (any schemaType, references,
 * ids). Runs against a real SQLite store in a temporary file, so schemas
 * registered by earlier inputs become references for later ones. Any crash, leak or sanitizer
 * report is a bug; every answer must have a status and a body.
 */
#include "registry/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static registry_api api;
static char db_path[64];

static void cleanup(void)
{
    store_close(api.store);
    sluice_metrics_free(api.metrics);
    unlink(db_path);
    char wal[80];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", db_path);
    unlink(wal);
}

static int setup(void)
{
    if (api.store) return 0;
    snprintf(db_path, sizeof db_path, "/tmp/sluice-fuzz-registry-%d.sqlite", (int)getpid());
    if (store_open(db_path, 1, &api.store, NULL) != 0) return -1;
    api.metrics = sluice_metrics_new(1000);
    atexit(cleanup);
    return 0;
}

static const struct {
    const char *method;
    const char *fmt; /* %s = the fuzzed segment */
} routes[] = {
    {"POST", "/subjects/%s/versions"},
    {"POST", "/subjects/%s"},
    {"POST", "/compatibility/subjects/s/versions/%s"},
    {"PUT", "/config/%s"},
    {"PUT", "/config"},
    {"GET", "/subjects/%s/versions/%s"},
    {"DELETE", "/subjects/%s"},
    {"DELETE", "/subjects/s/versions/%s"},
    {"GET", "/schemas/ids/%s"},
    {"GET", "/schemas/ids/%s/versions"},
    {"GET", "/subjects/%s/versions"},
    {"POST", "/subjects/s/versions"},
    {"PUT", "/mode/%s"},
    {"GET", "/subjects/%s/versions/1/referencedby"},
    {"DELETE", "/mode/%s"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || setup() != 0) return 0;
    size_t r = data[0] % (sizeof routes / sizeof routes[0]);
    const char *rest = (const char *)data + 1;
    size_t len = size - 1;
    char segment[64] = "s";
    const char *nl = memchr(rest, '\n', len < 63 ? len : 63);
    if (nl) {
        size_t n = (size_t)(nl - rest);
        memcpy(segment, rest, n);
        segment[n] = '\0';
        len -= n + 1;
        rest = nl + 1;
        if (memchr(segment, '\0', n) || segment[0] == '\0') snprintf(segment, sizeof segment, "s");
    }
    char path[256];
    snprintf(path, sizeof path, routes[r].fmt, segment, segment);
    char *body = malloc(len + 1);
    if (!body) return 0;
    memcpy(body, rest, len);
    body[len] = '\0';
    httpd_request req = {.method = routes[r].method, .path = path, .body = body, .body_len = len};
    httpd_response resp = {0};
    registry_api_handle(&api, &req, &resp);
    if (resp.status < 200 || resp.status > 599 || !resp.body) abort();
    free(resp.body);
    free(body);
    return 0;
}
