/*
 * metrics.h — the one metrics registry, rendered as Prometheus text (0.0.4).
 *
 * Series are created once (get-or-create by name + label string, under the
 * registry's mutex) and then updated through their handle with relaxed
 * atomics: the hot path never takes a lock and never looks anything up.
 * Handles stay valid until the registry is freed.
 *
 * Bounded: a registry holds at most `max_series` series (set at creation; the
 * config key metrics.max_series). Past the bound, get-or-create returns a
 * shared detached series whose updates are dropped, counts the refusal in
 * sluice_metrics_series_dropped_total and logs once — a label explosion can
 * never grow memory without limit.
 *
 * Components whose counters are too hot for one shared atomic (the registry
 * client's cache hits, counted on every message by many threads) keep their
 * own striped counters and publish them with the *_fn variants, which are
 * called only when /metrics is rendered.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sluice_metrics sluice_metrics;
typedef struct sluice_counter sluice_counter;
typedef struct sluice_gauge sluice_gauge;
typedef struct sluice_histogram sluice_histogram;

sluice_metrics *sluice_metrics_new(size_t max_series);
void sluice_metrics_free(sluice_metrics *m);

/* `labels` is the Prometheus label body without braces, e.g.
 * `endpoint="register",status="200"`, or NULL/"" for none. The name must
 * match [a-zA-Z_:][a-zA-Z0-9_:]*; all series of one name share one type and
 * help text (a mismatch returns the detached series and logs an error). */
sluice_counter *sluice_metrics_counter(sluice_metrics *m, const char *name, const char *help,
                                       const char *labels);
sluice_gauge *sluice_metrics_gauge(sluice_metrics *m, const char *name, const char *help,
                                   const char *labels);
/* Buckets are upper bounds in increasing order; +Inf is implicit. */
sluice_histogram *sluice_metrics_histogram(sluice_metrics *m, const char *name, const char *help,
                                           const char *labels, const double *bounds,
                                           size_t n_bounds);

/* Values computed at render time. fn must be thread safe; it runs on the
 * thread that renders /metrics. Returns 0, or -1 if over the bound or on a
 * type mismatch. */
int sluice_metrics_counter_fn(sluice_metrics *m, const char *name, const char *help,
                              const char *labels, uint64_t (*fn)(void *opaque), void *opaque);
int sluice_metrics_gauge_fn(sluice_metrics *m, const char *name, const char *help,
                            const char *labels, double (*fn)(void *opaque), void *opaque);

void sluice_counter_add(sluice_counter *c, uint64_t n);
static inline void sluice_counter_inc(sluice_counter *c)
{
    sluice_counter_add(c, 1);
}
uint64_t sluice_counter_value(const sluice_counter *c);

void sluice_gauge_set(sluice_gauge *g, double v);
void sluice_gauge_add(sluice_gauge *g, double delta);
double sluice_gauge_value(const sluice_gauge *g);

void sluice_histogram_observe(sluice_histogram *h, double v);
uint64_t sluice_histogram_count(const sluice_histogram *h);

/* Escape a label value (backslash, double quote, newline) so it can stand
 * between the quotes of a `labels` string: subjects, topics and table names
 * come from users and may contain any of them. Writes at most dst_len bytes
 * including the NUL (truncating at a character boundary, never mid-escape)
 * and returns the length the whole escaped value needs, as snprintf does. */
size_t sluice_metrics_label_escape(char *dst, size_t dst_len, const char *value);

/* Render every series as Prometheus text into a malloc'd buffer (*out, *len;
 * NUL-terminated). Families appear in creation order with # HELP and # TYPE.
 * Returns 0 or SLUICE_ENOMEM. */
int sluice_metrics_render(sluice_metrics *m, char **out, size_t *len);

/* The process's resident set size in bytes, read from /proc/self/statm. */
uint64_t sluice_process_rss_bytes(void);

#ifdef __cplusplus
}
#endif
#endif
