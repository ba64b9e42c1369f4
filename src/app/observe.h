/*
 * observe.h — the observability endpoint every long-running command
 * serves on metrics.listen: GET /metrics (Prometheus text), /healthz (the
 * process is alive) and /readyz (its dependencies are reachable, as the
 * command's check says: 200 "ready" or 503 with the reason).
 */
#ifndef SLUICE_APP_OBSERVE_H
#define SLUICE_APP_OBSERVE_H

#include <stddef.h>

#include <sluice/error.h>
#include <sluice/metrics.h>

typedef struct observe observe;

/* Returns 1 when ready; otherwise 0 with why filled. Called on an HTTP
 * thread: must be thread safe and quick (seconds at most). */
typedef int (*observe_ready_fn)(void *opaque, char *why, size_t why_len);

int observe_start(const char *listen, sluice_metrics *m, observe_ready_fn ready, void *opaque,
                  observe **out, sluice_error *err);
void observe_stop(observe *o);

#endif
