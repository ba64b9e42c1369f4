/*
 * metrics_scope.h — a part's own handle on the process's metrics registry,
 * for parts that are stopped and started again in one process (a SIGHUP
 * reload replaces the sink, ingest, the registry client).
 *
 * A scope is a `sluice_metrics *` usable everywhere a registry is: plain
 * counters, gauges and histograms created through it are the registry's
 * (they outlive the scope and keep counting across a restart, as
 * Prometheus expects of a counter). Callback series (*_fn) registered
 * through it are bound to it: metrics_scope_free unbinds them, after which
 * they are no longer rendered and their callbacks never called again, so
 * the part may free what they read. A later registration of the same
 * series (the part's successor, from its own scope) binds it again; one
 * made while the old scope still holds it takes it over.
 *
 * Threads: any. metrics_scope_free waits for a /metrics render in progress.
 */
#ifndef SLUICE_COMMON_METRICS_SCOPE_H
#define SLUICE_COMMON_METRICS_SCOPE_H

#include <sluice/metrics.h>

/* A scope on m's registry (m may itself be a scope); NULL if m is NULL or
 * out of memory (the metrics functions take NULL: nothing is recorded). */
sluice_metrics *metrics_scope_new(sluice_metrics *m);
/* Unbind the scope's callback series; registrations through it are
 * refused from then on (another thread of the stopping part may still
 * try), while its plain series still work. NULL is fine. */
void metrics_scope_close(sluice_metrics *scope);
/* Close the scope and free it. NULL is fine. */
void metrics_scope_free(sluice_metrics *scope);

#endif
