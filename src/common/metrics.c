/*
 * metrics.c — the metrics registry behind include/sluice/metrics.h.
 *
 * Ownership: the registry owns every family and series it creates; handles
 * handed out are pointers into those series and stay valid until
 * sluice_metrics_free(), which must run after every user has stopped.
 *
 * Threads: get-or-create (any thread) takes the registry mutex; it finds a
 * series through a chained hash keyed by name + labels, and appends new
 * families/series to singly linked lists with release stores. Updates (any
 * thread) are relaxed atomics on the series itself and take no lock.
 * Rendering (the /metrics thread) walks the lists with acquire loads and no
 * lock, so a slow *_fn callback never blocks a get-or-create, and a callback
 * may itself create series without deadlocking. Lists are append-only until
 * free, which is what makes the lock-free walk safe.
 *
 * Gauges and histogram sums are doubles kept as their bit patterns in
 * _Atomic uint64_t (C11 has no portable atomic double add), updated by a
 * compare-and-swap loop. Histogram buckets are stored per bucket (one
 * increment per observation) and made cumulative when rendered, so +Inf
 * and _count are computed from the same reads and always agree.
 *
 * Refusals (over max_series, bad name or labels, type/help mismatch) hand
 * out a detached series whose updates are ignored, so callers never check
 * for NULL on the hot path.
 *
 * Scopes (metrics_scope.h) let a part that is stopped and started again in
 * the same process (a reload) take its callback series with it: a scope is
 * a second handle on the same registry whose *_fn series are bound to it.
 * Freeing the scope unbinds them (they stop being rendered, so nothing is
 * ever called on freed memory), and registering one again from another
 * scope binds it anew. The binding (fn, opaque, owner) is guarded by
 * `fn_lock`: rendering holds it shared while it calls callbacks, binding
 * and unbinding hold it exclusively. So a callback must not register
 * callback series itself (plain series are fine).
 */
#include <sluice/metrics.h>

#include <sluice/error.h>
#include <sluice/log.h>

#include "common/buf.h"
#include "common/metrics_scope.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MAX_SERIES 10000
#define MAX_HISTOGRAM_BOUNDS 64
/* /metrics output never grows past this, whatever the series count. */
#define RENDER_CAP (64u << 20)
#define DROPPED_NAME "sluice_metrics_series_dropped_total"

typedef enum metric_type { TYPE_COUNTER, TYPE_GAUGE, TYPE_HISTOGRAM } metric_type;

static const char *const type_names[] = {"counter", "gauge", "histogram"};

struct sluice_counter {
    _Atomic uint64_t value;
    bool detached;
};

struct sluice_gauge {
    _Atomic uint64_t bits; /* a double's bit pattern */
    bool detached;
};

struct sluice_histogram {
    size_t n_bounds;
    double *bounds;
    _Atomic uint64_t *buckets; /* n_bounds + 1, the last one is +Inf; not cumulative */
    _Atomic uint64_t sum_bits;
    bool detached;
};

struct family;

typedef struct series {
    _Atomic(struct series *) next; /* creation order within the family */
    struct series *hash_next;      /* guarded by the registry mutex */
    struct family *family;
    uint64_t hash;
    char *labels; /* "" when none */
    /* Callback series: `is_fn` for life; the binding under fn_lock. */
    bool is_fn;
    uint64_t (*counter_fn)(void *opaque);
    double (*gauge_fn)(void *opaque);
    void *fn_opaque;
    const struct sluice_metrics *owner; /* the registry or scope that bound it; NULL: unbound */
    union {
        sluice_counter counter;
        sluice_gauge gauge;
        sluice_histogram histogram;
    } u;
} series;

typedef struct family {
    _Atomic(struct family *) next; /* creation order */
    char *name;
    char *help;
    metric_type type;
    _Atomic(series *) first;
    series *last;         /* guarded by the registry mutex */
    bool mismatch_logged; /* guarded by the registry mutex */
} family;

struct sluice_metrics {
    /* The registry itself, or (in a scope) the registry it is a handle
     * on; a scope uses no other field. */
    struct sluice_metrics *root;
    bool closed;              /* a scope: metrics_scope_close ran (under the root's fn_lock) */
    pthread_rwlock_t fn_lock; /* callback bindings (see the top of this file) */
    pthread_mutex_t mu;
    _Atomic(family *) first_family;
    family *last_family;
    series **table; /* hash buckets, n_buckets is a power of two */
    size_t n_buckets;
    size_t n_series;
    size_t max_series;
    _Atomic bool overflow_logged;
    sluice_counter *dropped;
    sluice_counter detached_counter;
    sluice_gauge detached_gauge;
    sluice_histogram detached_histogram;
};

/* For a NULL registry, so components can run without metrics configured. */
static sluice_counter g_detached_counter = {.detached = true};
static sluice_gauge g_detached_gauge = {.detached = true};
static sluice_histogram g_detached_histogram = {.detached = true};

static uint64_t double_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double bits_double(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t series_hash(const char *name, const char *labels)
{
    uint64_t h = fnv1a(0xcbf29ce484222325ull, name);
    h ^= 0xff; /* separator: "ab"+"c" must differ from "a"+"bc" */
    h *= 0x100000001b3ull;
    return fnv1a(h, labels);
}

/* ---- validation ---------------------------------------------------------- */

static bool valid_metric_name(const char *s)
{
    if (!s || !*s) return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(p != s && c >= '0' && c <= '9')) return false;
    }
    return true;
}

/* `labels` must be name="value"(,name="value")* with only \\, \" and \n
 * escapes inside values: anything else would corrupt the rendered text for
 * every other series too. Histograms may not use `le` themselves. */
static bool valid_labels(const char *s, bool histogram)
{
    const char *p = s;
    if (!*p) return true;
    for (;;) {
        const char *name = p;
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_')) return false;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
               (*p >= '0' && *p <= '9'))
            p++;
        size_t name_len = (size_t)(p - name);
        if (name_len >= 2 && name[0] == '_' && name[1] == '_')
            return false; /* reserved for Prometheus itself */
        if (histogram && name_len == 2 && name[0] == 'l' && name[1] == 'e') return false;
        if (*p++ != '=' || *p++ != '"') return false;
        for (;;) {
            if (*p == '\0' || *p == '\n') return false;
            if (*p == '"') break;
            if (*p == '\\') {
                p++;
                if (*p != '\\' && *p != '"' && *p != 'n') return false;
            }
            p++;
        }
        p++; /* closing quote */
        if (*p == '\0') return true;
        if (*p++ != ',') return false;
    }
}

static bool valid_bounds(const double *bounds, size_t n)
{
    if (n > MAX_HISTOGRAM_BOUNDS || (n > 0 && !bounds)) return false;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) return false;
    }
    return true;
}

size_t sluice_metrics_label_escape(char *dst, size_t dst_len, const char *value)
{
    size_t need = 0, w = 0;
    bool room = dst && dst_len > 0;
    for (const char *p = value ? value : ""; *p; p++) {
        char esc[2];
        size_t n = 1;
        esc[0] = *p;
        if (*p == '\\' || *p == '"') {
            esc[0] = '\\';
            esc[1] = *p;
            n = 2;
        } else if (*p == '\n') {
            esc[0] = '\\';
            esc[1] = 'n';
            n = 2;
        }
        need += n;
        if (room && w + n < dst_len) {
            memcpy(dst + w, esc, n);
            w += n;
        } else {
            room = false; /* never resume after a gap: no torn escapes */
        }
    }
    if (dst && dst_len > 0) dst[w] = '\0';
    return need;
}

/* ---- registry ------------------------------------------------------------ */

static void init_detached(sluice_metrics *m)
{
    m->detached_counter.detached = true;
    m->detached_gauge.detached = true;
    m->detached_histogram.detached = true;
}

sluice_metrics *sluice_metrics_new(size_t max_series)
{
    sluice_metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->max_series = max_series ? max_series : DEFAULT_MAX_SERIES;
    /* About one series per bucket at the bound; the bound is what caps it. */
    m->n_buckets = 64;
    while (m->n_buckets < m->max_series && m->n_buckets < (1u << 16))
        m->n_buckets <<= 1;
    m->root = m;
    m->table = calloc(m->n_buckets, sizeof *m->table);
    if (!m->table || pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m->table);
        free(m);
        return NULL;
    }
    if (pthread_rwlock_init(&m->fn_lock, NULL) != 0) {
        pthread_mutex_destroy(&m->mu);
        free(m->table);
        free(m);
        return NULL;
    }
    init_detached(m);
    /* The refusal counter exists from the start, so an alert on its rate
     * works before the first refusal; it does not count against the bound. */
    size_t bound = m->max_series;
    m->max_series = 1;
    m->dropped = sluice_metrics_counter(
        m, DROPPED_NAME, "Series not created because the registry held metrics.max_series series.",
        NULL);
    m->max_series = bound;
    m->n_series = 0;
    if (m->dropped == &m->detached_counter) {
        sluice_metrics_free(m);
        return NULL;
    }
    return m;
}

static void free_series(series *s)
{
    if (s->family->type == TYPE_HISTOGRAM) {
        free(s->u.histogram.bounds);
        free((void *)s->u.histogram.buckets);
    }
    free(s->labels);
    free(s);
}

void sluice_metrics_free(sluice_metrics *m)
{
    if (!m) return;
    if (m->root != m) {
        metrics_scope_free(m);
        return;
    }
    family *f = atomic_load(&m->first_family);
    while (f) {
        family *fn = atomic_load(&f->next);
        series *s = atomic_load(&f->first);
        while (s) {
            series *sn = atomic_load(&s->next);
            free_series(s);
            s = sn;
        }
        free(f->name);
        free(f->help);
        free(f);
        f = fn;
    }
    pthread_rwlock_destroy(&m->fn_lock);
    pthread_mutex_destroy(&m->mu);
    free(m->table);
    free(m);
}

sluice_metrics *metrics_scope_new(sluice_metrics *m)
{
    if (!m) return NULL;
    sluice_metrics *scope = calloc(1, sizeof *scope);
    if (scope) scope->root = m->root;
    return scope;
}

void metrics_scope_close(sluice_metrics *scope)
{
    if (!scope || scope->root == scope) return;
    sluice_metrics *m = scope->root;
    pthread_rwlock_wrlock(&m->fn_lock);
    scope->closed = true;
    for (family *f = atomic_load_explicit(&m->first_family, memory_order_acquire); f;
         f = atomic_load_explicit(&f->next, memory_order_acquire))
        for (series *s = atomic_load_explicit(&f->first, memory_order_acquire); s;
             s = atomic_load_explicit(&s->next, memory_order_acquire))
            if (s->is_fn && s->owner == scope) {
                s->owner = NULL;
                s->counter_fn = NULL;
                s->gauge_fn = NULL;
                s->fn_opaque = NULL;
            }
    pthread_rwlock_unlock(&m->fn_lock);
}

void metrics_scope_free(sluice_metrics *scope)
{
    if (!scope) return;
    if (scope->root == scope) {
        sluice_metrics_free(scope);
        return;
    }
    metrics_scope_close(scope);
    free(scope);
}

static family *find_family(sluice_metrics *m, const char *name)
{
    for (family *f = atomic_load_explicit(&m->first_family, memory_order_relaxed); f;
         f = atomic_load_explicit(&f->next, memory_order_relaxed))
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}

static series *find_series(sluice_metrics *m, uint64_t h, const char *name, const char *labels)
{
    for (series *s = m->table[h & (m->n_buckets - 1)]; s; s = s->hash_next)
        if (s->hash == h && strcmp(s->labels, labels) == 0 && strcmp(s->family->name, name) == 0)
            return s;
    return NULL;
}

/* Called with the mutex held. */
static family *get_family(sluice_metrics *m, const char *name, const char *help, metric_type type)
{
    family *f = find_family(m, name);
    if (f) {
        if (f->type != type || strcmp(f->help, help) != 0) {
            if (!f->mismatch_logged) {
                f->mismatch_logged = true;
                sluice_log(SLUICE_LOG_ERROR, "metrics",
                           "metric registered again with another type or help; updates dropped",
                           "name", name, "type", type_names[f->type], "new_type", type_names[type],
                           NULL);
            }
            return NULL;
        }
        return f;
    }
    f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->name = strdup(name);
    f->help = strdup(help);
    if (!f->name || !f->help) {
        free(f->name);
        free(f->help);
        free(f);
        return NULL;
    }
    f->type = type;
    if (m->last_family)
        atomic_store_explicit(&m->last_family->next, f, memory_order_release);
    else
        atomic_store_explicit(&m->first_family, f, memory_order_release);
    m->last_family = f;
    return f;
}

typedef struct create_args {
    const char *name;
    const char *help;
    const char *labels;
    metric_type type;
    const double *bounds;
    size_t n_bounds;
    uint64_t (*counter_fn)(void *);
    double (*gauge_fn)(void *);
    void *fn_opaque;
    const sluice_metrics *owner; /* fn series: the registry or scope registering it */
} create_args;

static series *new_series(const create_args *a, family *f, uint64_t h)
{
    series *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->family = f;
    s->hash = h;
    s->labels = strdup(a->labels);
    s->is_fn = a->counter_fn || a->gauge_fn;
    s->counter_fn = a->counter_fn;
    s->gauge_fn = a->gauge_fn;
    s->fn_opaque = a->fn_opaque;
    s->owner = s->is_fn ? a->owner : NULL;
    if (!s->labels) {
        free(s);
        return NULL;
    }
    if (a->type == TYPE_HISTOGRAM) {
        sluice_histogram *hg = &s->u.histogram;
        hg->n_bounds = a->n_bounds;
        hg->bounds = malloc((a->n_bounds ? a->n_bounds : 1) * sizeof *hg->bounds);
        hg->buckets = calloc(a->n_bounds + 1, sizeof *hg->buckets);
        if (!hg->bounds || !hg->buckets) {
            free(hg->bounds);
            free((void *)hg->buckets);
            free(s->labels);
            free(s);
            return NULL;
        }
        if (a->n_bounds) memcpy(hg->bounds, a->bounds, a->n_bounds * sizeof *hg->bounds);
        atomic_init(&hg->sum_bits, double_bits(0.0));
    } else if (a->type == TYPE_GAUGE) {
        atomic_init(&s->u.gauge.bits, double_bits(0.0));
    }
    return s;
}

static bool same_bounds(const sluice_histogram *h, const double *bounds, size_t n)
{
    return h->n_bounds == n && (n == 0 || memcmp(h->bounds, bounds, n * sizeof *bounds) == 0);
}

/* The shared get-or-create. Returns the series, or NULL for "hand out the
 * detached one" (the reason has been logged). *existed tells the fn variants
 * that the series was there already. */
static series *get_or_create(sluice_metrics *m, const create_args *a, bool *existed)
{
    *existed = false;
    if (!valid_metric_name(a->name)) {
        sluice_log(SLUICE_LOG_ERROR, "metrics", "invalid metric name; updates dropped", "name",
                   a->name ? a->name : "(null)", NULL);
        return NULL;
    }
    if (!valid_labels(a->labels, a->type == TYPE_HISTOGRAM)) {
        sluice_log(SLUICE_LOG_ERROR, "metrics",
                   "invalid labels (want name=\"value\",...; escape values with "
                   "sluice_metrics_label_escape); updates dropped",
                   "name", a->name, "labels", a->labels, NULL);
        return NULL;
    }
    if (a->type == TYPE_HISTOGRAM && !valid_bounds(a->bounds, a->n_bounds)) {
        sluice_log(SLUICE_LOG_ERROR, "metrics",
                   "histogram bounds must be finite and increasing (at most 64); updates dropped",
                   "name", a->name, NULL);
        return NULL;
    }

    uint64_t h = series_hash(a->name, a->labels);
    pthread_mutex_lock(&m->mu);
    series *s = find_series(m, h, a->name, a->labels);
    if (s) {
        bool same_kind =
            s->family->type == a->type && strcmp(s->family->help, a->help) == 0 &&
            s->is_fn == (a->counter_fn || a->gauge_fn) &&
            (a->type != TYPE_HISTOGRAM || same_bounds(&s->u.histogram, a->bounds, a->n_bounds));
        pthread_mutex_unlock(&m->mu);
        if (!same_kind) {
            sluice_log(SLUICE_LOG_ERROR, "metrics",
                       "series registered again with another type, help, bounds or source; "
                       "updates dropped",
                       "name", a->name, "labels", a->labels, NULL);
            return NULL;
        }
        *existed = true;
        return s;
    }
    if (m->n_series >= m->max_series) {
        pthread_mutex_unlock(&m->mu);
        sluice_counter_inc(m->dropped);
        bool was = atomic_exchange(&m->overflow_logged, true);
        if (!was) {
            char max[32];
            snprintf(max, sizeof max, "%zu", m->max_series);
            sluice_log(
                SLUICE_LOG_ERROR, "metrics",
                "metrics.max_series reached; new series are dropped (counted in " DROPPED_NAME ")",
                "max_series", max, "name", a->name, "labels", a->labels, NULL);
        }
        return NULL;
    }
    family *f = get_family(m, a->name, a->help, a->type);
    if (f) s = new_series(a, f, h);
    if (s) {
        s->hash_next = m->table[h & (m->n_buckets - 1)];
        m->table[h & (m->n_buckets - 1)] = s;
        if (f->last)
            atomic_store_explicit(&f->last->next, s, memory_order_release);
        else
            atomic_store_explicit(&f->first, s, memory_order_release);
        f->last = s;
        m->n_series++;
    }
    pthread_mutex_unlock(&m->mu);
    return s;
}

sluice_counter *sluice_metrics_counter(sluice_metrics *m, const char *name, const char *help,
                                       const char *labels)
{
    if (!m) return &g_detached_counter;
    m = m->root;
    create_args a = {.name = name,
                     .help = help ? help : "",
                     .labels = labels ? labels : "",
                     .type = TYPE_COUNTER};
    bool existed;
    series *s = get_or_create(m, &a, &existed);
    return s ? &s->u.counter : &m->detached_counter;
}

sluice_gauge *sluice_metrics_gauge(sluice_metrics *m, const char *name, const char *help,
                                   const char *labels)
{
    if (!m) return &g_detached_gauge;
    m = m->root;
    create_args a = {
        .name = name, .help = help ? help : "", .labels = labels ? labels : "", .type = TYPE_GAUGE};
    bool existed;
    series *s = get_or_create(m, &a, &existed);
    return s ? &s->u.gauge : &m->detached_gauge;
}

sluice_histogram *sluice_metrics_histogram(sluice_metrics *m, const char *name, const char *help,
                                           const char *labels, const double *bounds,
                                           size_t n_bounds)
{
    if (!m) return &g_detached_histogram;
    m = m->root;
    create_args a = {.name = name,
                     .help = help ? help : "",
                     .labels = labels ? labels : "",
                     .type = TYPE_HISTOGRAM,
                     .bounds = bounds,
                     .n_bounds = n_bounds};
    bool existed;
    series *s = get_or_create(m, &a, &existed);
    return s ? &s->u.histogram : &m->detached_histogram;
}

/* A second registration of the same fn series by the same registry or
 * scope is refused: two callbacks cannot both be the value, and silently
 * keeping either would hide a bug. An unbound series (its scope was freed)
 * is bound again; one bound to another scope is taken over (a part being
 * replaced by its successor, both alive for a moment). */
static int register_fn(sluice_metrics *m, create_args *a)
{
    if (!m || (!a->counter_fn && !a->gauge_fn)) return -1;
    a->owner = m;
    sluice_metrics *scope = m;
    m = m->root;
    /* Exclusive for the whole registration, so a scope being closed
     * (whose part may be freeing what the callback reads) never gets a
     * series bound after it closed. get_or_create takes `mu` inside. */
    pthread_rwlock_wrlock(&m->fn_lock);
    if (scope->closed) {
        pthread_rwlock_unlock(&m->fn_lock);
        return -1;
    }
    bool existed;
    series *s = get_or_create(m, a, &existed);
    bool ok = s != NULL, twice = false;
    if (s && existed) {
        bool scopes = s->owner != m && a->owner != m;
        if (s->owner == NULL || (scopes && s->owner != a->owner)) {
            s->counter_fn = a->counter_fn;
            s->gauge_fn = a->gauge_fn;
            s->fn_opaque = a->fn_opaque;
            s->owner = a->owner;
        } else {
            ok = false;
            twice = true;
        }
    }
    pthread_rwlock_unlock(&m->fn_lock);
    if (twice)
        sluice_log(SLUICE_LOG_ERROR, "metrics", "callback series registered twice", "name", a->name,
                   "labels", a->labels, NULL);
    return ok ? 0 : -1;
}

int sluice_metrics_counter_fn(sluice_metrics *m, const char *name, const char *help,
                              const char *labels, uint64_t (*fn)(void *opaque), void *opaque)
{
    create_args a = {.name = name,
                     .help = help ? help : "",
                     .labels = labels ? labels : "",
                     .type = TYPE_COUNTER,
                     .counter_fn = fn,
                     .fn_opaque = opaque};
    return register_fn(m, &a);
}

int sluice_metrics_gauge_fn(sluice_metrics *m, const char *name, const char *help,
                            const char *labels, double (*fn)(void *opaque), void *opaque)
{
    create_args a = {.name = name,
                     .help = help ? help : "",
                     .labels = labels ? labels : "",
                     .type = TYPE_GAUGE,
                     .gauge_fn = fn,
                     .fn_opaque = opaque};
    return register_fn(m, &a);
}

/* ---- updates (hot path: no lock, relaxed atomics) ------------------------ */

void sluice_counter_add(sluice_counter *c, uint64_t n)
{
    if (c && !c->detached) atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

uint64_t sluice_counter_value(const sluice_counter *c)
{
    return c ? atomic_load_explicit(&((sluice_counter *)c)->value, memory_order_relaxed) : 0;
}

void sluice_gauge_set(sluice_gauge *g, double v)
{
    if (g && !g->detached) atomic_store_explicit(&g->bits, double_bits(v), memory_order_relaxed);
}

static void atomic_add_double(_Atomic uint64_t *bits, double delta)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(bits, &old, double_bits(bits_double(old) + delta),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void sluice_gauge_add(sluice_gauge *g, double delta)
{
    if (g && !g->detached) atomic_add_double(&g->bits, delta);
}

double sluice_gauge_value(const sluice_gauge *g)
{
    if (!g) return 0.0;
    return bits_double(atomic_load_explicit(&((sluice_gauge *)g)->bits, memory_order_relaxed));
}

void sluice_histogram_observe(sluice_histogram *h, double v)
{
    if (!h || h->detached) return;
    /* First bound >= v; NaN compares false everywhere and lands in +Inf. */
    size_t lo = 0, hi = h->n_bounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v <= h->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    if (isnan(v)) lo = h->n_bounds;
    atomic_fetch_add_explicit(&h->buckets[lo], 1, memory_order_relaxed);
    atomic_add_double(&h->sum_bits, v);
}

uint64_t sluice_histogram_count(const sluice_histogram *h)
{
    if (!h || h->detached) return 0;
    uint64_t n = 0;
    for (size_t i = 0; i <= h->n_bounds; i++)
        n += atomic_load_explicit(&((sluice_histogram *)h)->buckets[i], memory_order_relaxed);
    return n;
}

/* ---- rendering ----------------------------------------------------------- */

/* Shortest text that reads back as the same double, in the spellings the
 * Prometheus text format accepts. */
static void format_double(char out[40], double v)
{
    if (isnan(v)) {
        strcpy(out, "NaN");
    } else if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, 40, "%.0f", v);
    } else {
        snprintf(out, 40, "%.15g", v);
        if (strtod(out, NULL) != v) snprintf(out, 40, "%.17g", v);
    }
}

static int render_help(buf *b, const family *f)
{
    int rc = buf_printf(b, "# HELP %s ", f->name);
    for (const char *p = f->help; *p && rc == 0; p++) {
        if (*p == '\\')
            rc = buf_append(b, "\\\\", 2);
        else if (*p == '\n')
            rc = buf_append(b, "\\n", 2);
        else
            rc = buf_append_byte(b, (uint8_t)*p);
    }
    return rc ? rc : buf_printf(b, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
}

/* name{labels} or name{labels,extra} or name{extra} or name. */
static int render_name(buf *b, const char *name, const char *suffix, const char *labels,
                       const char *extra)
{
    int rc = buf_printf(b, "%s%s", name, suffix);
    if (rc == 0 && (*labels || extra))
        rc = buf_printf(b, "{%s%s%s}", labels, *labels && extra ? "," : "", extra ? extra : "");
    return rc;
}

static int render_histogram(buf *b, const family *f, const series *s)
{
    const sluice_histogram *h = &s->u.histogram;
    uint64_t cumulative = 0;
    int rc = 0;
    for (size_t i = 0; i <= h->n_bounds && rc == 0; i++) {
        cumulative +=
            atomic_load_explicit(&((sluice_histogram *)h)->buckets[i], memory_order_relaxed);
        char bound[40], le[48];
        if (i < h->n_bounds)
            format_double(bound, h->bounds[i]);
        else
            strcpy(bound, "+Inf");
        snprintf(le, sizeof le, "le=\"%s\"", bound);
        rc = render_name(b, f->name, "_bucket", s->labels, le);
        if (rc == 0) rc = buf_printf(b, " %" PRIu64 "\n", cumulative);
    }
    char sum[40];
    format_double(sum, bits_double(atomic_load_explicit(&((sluice_histogram *)h)->sum_bits,
                                                        memory_order_relaxed)));
    if (rc == 0) rc = render_name(b, f->name, "_sum", s->labels, NULL);
    if (rc == 0) rc = buf_printf(b, " %s\n", sum);
    if (rc == 0) rc = render_name(b, f->name, "_count", s->labels, NULL);
    if (rc == 0) rc = buf_printf(b, " %" PRIu64 "\n", cumulative);
    return rc;
}

static int render_series(buf *b, const family *f, const series *s)
{
    if (f->type == TYPE_HISTOGRAM) return render_histogram(b, f, s);
    if (s->is_fn && !s->owner) return 0; /* unbound: its part has stopped */
    int rc = render_name(b, f->name, "", s->labels, NULL);
    if (rc) return rc;
    if (f->type == TYPE_COUNTER) {
        uint64_t v =
            s->counter_fn ? s->counter_fn(s->fn_opaque) : sluice_counter_value(&s->u.counter);
        return buf_printf(b, " %" PRIu64 "\n", v);
    }
    char v[40];
    format_double(v, s->gauge_fn ? s->gauge_fn(s->fn_opaque) : sluice_gauge_value(&s->u.gauge));
    return buf_printf(b, " %s\n", v);
}

int sluice_metrics_render(sluice_metrics *m, char **out, size_t *len)
{
    buf b;
    buf_init(&b, RENDER_CAP);
    int rc = 0;
    if (m) {
        m = m->root;
        pthread_rwlock_rdlock(&m->fn_lock);
        for (family *f = atomic_load_explicit(&m->first_family, memory_order_acquire); f && !rc;
             f = atomic_load_explicit(&f->next, memory_order_acquire)) {
            rc = render_help(&b, f);
            for (series *s = atomic_load_explicit(&f->first, memory_order_acquire); s && !rc;
                 s = atomic_load_explicit(&s->next, memory_order_acquire))
                rc = render_series(&b, f, s);
        }
        pthread_rwlock_unlock(&m->fn_lock);
    }
    char *text = rc ? NULL : buf_detach(&b, len);
    if (!text) {
        buf_free(&b);
        return SLUICE_ENOMEM;
    }
    *out = text;
    return 0;
}

uint64_t sluice_process_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long long size_pages = 0, resident_pages = 0;
    int n = fscanf(f, "%llu %llu", &size_pages, &resident_pages);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (n != 2 || page <= 0) return 0;
    return (uint64_t)resident_pages * (uint64_t)page;
}
