/*
 * bench_sr.c — the registry client's figures, all in one run against a real
 * `sluice registry` process (load counted by the server's own /metrics):
 *
 *   1. N framed lookups over 10 distinct ids on 2 threads with one shared
 *      client, against a client-per-message baseline (the Argo Events
 *      pattern) on a smaller N: registry requests per message and the
 *      reduction.
 *   2. 64 threads miss the same cold id at once: requests made. The peer,
 *      Debian's python3-confluent-kafka SchemaRegistryClient (one shared
 *      client, 64 threads), does the same against the same server.
 *   3. Cached lookup cost (get_by_id hit + release) at 1 and 2 threads,
 *      threads sharing ids or not, and the same loop over one
 *      mutex-protected table (the design the client avoids) for comparison.
 *
 * usage: bench_sr [--lookups N] [--baseline N]
 * Prints one "key: value" line per figure (docs/BENCHMARKS.md quotes them).
 */
#include <sluice/sr.h>
#include <sluice/wire.h>

#include "common/clock.h"
#include "support.h"

#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static char reg_url[64];
static char metrics_url[96];

static double server_requests(const char *endpoint)
{
    char filter[96];
    snprintf(filter, sizeof filter, "endpoint=\"%s\"", endpoint);
    double v = test_scrape_sum(metrics_url, "sluice_registry_requests_total", filter);
    return v < 0 ? 0 : v;
}

static sluice_sr *new_client(void)
{
    const char *urls[] = {reg_url};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.urls = urls;
    cfg.n_urls = 1;
    sluice_sr *sr = NULL;
    sluice_error err;
    if (sluice_sr_new(&cfg, &sr, &err) != 0) {
        fprintf(stderr, "bench_sr: %s\n", err.msg);
        exit(1);
    }
    return sr;
}

static int32_t register_schema(sluice_sr *sr, int i)
{
    char subject[64], schema[256];
    snprintf(subject, sizeof subject, "bench-%d-value", i);
    snprintf(
        schema, sizeof schema,
        "{\"type\":\"record\",\"name\":\"E%d\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"}]}",
        i);
    int32_t id;
    sluice_error err;
    if (sluice_sr_register(sr, subject, schema, NULL, &id, &err) != 0) {
        fprintf(stderr, "bench_sr: register: %s\n", err.msg);
        exit(1);
    }
    return id;
}

/* ---- 1. framed lookups ------------------------------------------------- */

struct lookup_job {
    sluice_sr *sr;
    const uint8_t (*frames)[8];
    long n;
    long errors;
};

static void *lookup_worker(void *p)
{
    struct lookup_job *j = p;
    for (long i = 0; i < j->n; i++) {
        const sluice_sr_schema *s;
        const uint8_t *payload;
        size_t plen;
        if (sluice_sr_get_by_frame(j->sr, j->frames[i % 10], 8, &s, &payload, &plen, NULL) != 0)
            j->errors++;
        else
            sluice_sr_schema_release(s);
    }
    return NULL;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void bench_shared_vs_per_message(const int32_t ids[10], long lookups, long baseline)
{
    uint8_t frames[10][8];
    for (int i = 0; i < 10; i++) {
        sluice_wire_write_header(frames[i], ids[i]);
        memset(frames[i] + 5, 0, 3);
    }
    double before = server_requests("schemas_ids");
    sluice_sr *sr = new_client();
    struct lookup_job jobs[2] = {{sr, (const uint8_t(*)[8])frames, lookups / 2, 0},
                                 {sr, (const uint8_t(*)[8])frames, lookups - lookups / 2, 0}};
    pthread_t th[2];
    int64_t t0 = clock_mono_ns();
    double c0 = cpu_seconds();
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, lookup_worker, &jobs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double secs = (double)(clock_mono_ns() - t0) / 1e9;
    double cpu = cpu_seconds() - c0;
    double shared_requests = server_requests("schemas_ids") - before;
    sluice_sr_destroy(sr);

    before = server_requests("schemas_ids");
    int64_t b0 = clock_mono_ns();
    long berr = 0;
    for (long i = 0; i < baseline; i++) {
        sluice_sr *one = new_client(); /* what a per-message client does */
        const sluice_sr_schema *s;
        const uint8_t *payload;
        size_t plen;
        if (sluice_sr_get_by_frame(one, frames[i % 10], 8, &s, &payload, &plen, NULL) != 0)
            berr++;
        else
            sluice_sr_schema_release(s);
        sluice_sr_destroy(one);
    }
    double bsecs = (double)(clock_mono_ns() - b0) / 1e9;
    double baseline_requests = server_requests("schemas_ids") - before;
    double per_msg_shared = shared_requests / (double)lookups;
    double per_msg_baseline = baseline_requests / (double)baseline;

    printf("lookups.shared_client.messages: %ld\n", lookups);
    printf("lookups.shared_client.threads: 2\n");
    printf("lookups.shared_client.registry_requests: %.0f\n", shared_requests);
    printf("lookups.shared_client.errors: %ld\n", jobs[0].errors + jobs[1].errors);
    printf("lookups.shared_client.seconds: %.3f\n", secs);
    printf("lookups.shared_client.lookups_per_s: %.0f\n", (double)lookups / secs);
    printf("lookups.shared_client.cpu_ns_per_lookup: %.1f\n", cpu * 1e9 / (double)lookups);
    printf("lookups.client_per_message.messages: %ld\n", baseline);
    printf("lookups.client_per_message.registry_requests: %.0f\n", baseline_requests);
    printf("lookups.client_per_message.errors: %ld\n", berr);
    printf("lookups.client_per_message.lookups_per_s: %.0f\n", (double)baseline / bsecs);
    printf("lookups.requests_per_message.shared: %.9f\n", per_msg_shared);
    printf("lookups.requests_per_message.client_per_message: %.3f\n", per_msg_baseline);
    printf("lookups.reduction_factor: %.0fx\n",
           per_msg_shared > 0 ? per_msg_baseline / per_msg_shared : 0);
}

/* ---- 2. 64 threads, one cold id --------------------------------------- */

struct cold_job {
    sluice_sr *sr;
    int32_t id;
    pthread_barrier_t *barrier;
    int rc;
};

static void *cold_worker(void *p)
{
    struct cold_job *j = p;
    const sluice_sr_schema *s;
    pthread_barrier_wait(j->barrier);
    j->rc = sluice_sr_get_by_id(j->sr, j->id, &s, NULL);
    if (j->rc == 0) sluice_sr_schema_release(s);
    return NULL;
}

static void bench_cold_miss(sluice_sr *writer)
{
    enum { N = 64 };
    int32_t id = register_schema(writer, 1000);
    sluice_sr *sr = new_client();
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N);
    struct cold_job jobs[N];
    pthread_t th[N];
    double before = server_requests("schemas_ids");
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct cold_job){sr, id, &barrier, 0};
        pthread_create(&th[i], NULL, cold_worker, &jobs[i]);
    }
    int errors = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        errors += jobs[i].rc != 0;
    }
    double requests = server_requests("schemas_ids") - before;
    sluice_sr_stats st;
    sluice_sr_get_stats(sr, &st);
    printf("cold_miss.threads: %d\n", N);
    printf("cold_miss.sluice.registry_requests: %.0f\n", requests);
    printf("cold_miss.sluice.coalesced_waits: %llu\n", (unsigned long long)st.coalesced);
    printf("cold_miss.sluice.errors: %d\n", errors);
    pthread_barrier_destroy(&barrier);
    sluice_sr_destroy(sr);

    /* The peer, on another cold id of the same server. */
    int32_t peer_id = register_schema(writer, 1001);
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char script[512], idbuf[16], logpath[] = "/tmp/sluice-bench-peer-sr.log";
    snprintf(script, sizeof script, "%s/bench/peer_sr_python.py", src ? src : ".");
    snprintf(idbuf, sizeof idbuf, "%d", (int)peer_id);
    char *argv[] = {"/usr/bin/python3", script, reg_url, idbuf, "64", NULL};
    test_proc py;
    before = server_requests("schemas_ids");
    if (test_proc_start(&py, argv, logpath) != 0 || test_proc_wait(&py, 60000) != 0) {
        printf("cold_miss.python_confluent_kafka: failed, see %s\n", logpath);
        return;
    }
    requests = server_requests("schemas_ids") - before;
    char line[256] = "";
    if (test_proc_wait_log(&py, "errors=", 0, line, sizeof line) == 0)
        printf("cold_miss.python_confluent_kafka.%s", line);
    printf("cold_miss.python_confluent_kafka.registry_requests: %.0f\n", requests);
}

/* ---- 3. cached lookup cost -------------------------------------------- */

struct hit_job {
    sluice_sr *sr;
    const int32_t *ids;
    int n_ids;
    long n;
    double ns_per_op;
};

static void *hit_worker(void *p)
{
    struct hit_job *j = p;
    int64_t t0 = clock_mono_ns();
    for (long i = 0; i < j->n; i++) {
        const sluice_sr_schema *s;
        if (sluice_sr_get_by_id(j->sr, j->ids[i % j->n_ids], &s, NULL) == 0)
            sluice_sr_schema_release(s);
    }
    j->ns_per_op = (double)(clock_mono_ns() - t0) / (double)j->n;
    return NULL;
}

/* The design this client avoids, for comparison: one mutex around one
 * table, a reference taken per hit. Same ids, same loop. */
struct mutex_table {
    pthread_mutex_t mu;
    int32_t keys[16];
    _Atomic int refs[16];
};

struct mutex_job {
    struct mutex_table *t;
    const int32_t *ids;
    int n_ids;
    long n;
    double ns_per_op;
};

static void *mutex_worker(void *p)
{
    struct mutex_job *j = p;
    int64_t t0 = clock_mono_ns();
    for (long i = 0; i < j->n; i++) {
        int32_t key = j->ids[i % j->n_ids];
        pthread_mutex_lock(&j->t->mu);
        unsigned slot = (unsigned)key % 16;
        while (j->t->keys[slot] != key)
            slot = (slot + 1) % 16;
        atomic_fetch_add(&j->t->refs[slot], 1);
        pthread_mutex_unlock(&j->t->mu);
        atomic_fetch_sub(&j->t->refs[slot], 1);
    }
    j->ns_per_op = (double)(clock_mono_ns() - t0) / (double)j->n;
    return NULL;
}

static void bench_mutex_baseline(const int32_t ids[10], long n)
{
    struct mutex_table t;
    pthread_mutex_init(&t.mu, NULL);
    memset(t.keys, 0xff, sizeof t.keys);
    for (int i = 0; i < 10; i++) {
        unsigned slot = (unsigned)ids[i] % 16;
        while (t.keys[slot] != -1)
            slot = (slot + 1) % 16;
        t.keys[slot] = ids[i];
        atomic_init(&t.refs[slot], 1);
    }
    for (int threads = 1; threads <= 2; threads++) {
        struct mutex_job jobs[2];
        pthread_t th[2];
        int64_t t0 = clock_mono_ns();
        for (int i = 0; i < threads; i++) {
            jobs[i] = (struct mutex_job){&t, ids, 10, n, 0};
            pthread_create(&th[i], NULL, mutex_worker, &jobs[i]);
        }
        for (int i = 0; i < threads; i++)
            pthread_join(th[i], NULL);
        double secs = (double)(clock_mono_ns() - t0) / 1e9;
        printf("cached_lookup.single_mutex_baseline.threads_%d.ns_per_op_per_thread: %.1f\n",
               threads, jobs[0].ns_per_op);
        printf("cached_lookup.single_mutex_baseline.threads_%d.total_ops_per_s: %.0f\n", threads,
               (double)n * threads / secs);
    }
    pthread_mutex_destroy(&t.mu);
}

static void bench_hits(const int32_t ids[10], long n)
{
    sluice_sr *sr = new_client();
    for (int i = 0; i < 10; i++) { /* warm */
        const sluice_sr_schema *s;
        if (sluice_sr_get_by_id(sr, ids[i], &s, NULL) == 0) sluice_sr_schema_release(s);
    }
    /* "shared": both threads cycle over the same 10 ids; "disjoint": each
     * thread has its own 5 ids, so only shard locks may be shared. */
    for (int disjoint = 0; disjoint <= 1; disjoint++) {
        for (int threads = 1; threads <= 2; threads++) {
            struct hit_job jobs[2];
            pthread_t th[2];
            int64_t t0 = clock_mono_ns();
            for (int i = 0; i < threads; i++) {
                jobs[i] = disjoint ? (struct hit_job){sr, ids + 5 * i, 5, n, 0}
                                   : (struct hit_job){sr, ids, 10, n, 0};
                pthread_create(&th[i], NULL, hit_worker, &jobs[i]);
            }
            for (int i = 0; i < threads; i++)
                pthread_join(th[i], NULL);
            double secs = (double)(clock_mono_ns() - t0) / 1e9;
            const char *kind = disjoint ? "disjoint_ids" : "shared_ids";
            printf("cached_lookup.%s.threads_%d.ns_per_op_per_thread: %.1f\n", kind, threads,
                   jobs[0].ns_per_op);
            printf("cached_lookup.%s.threads_%d.total_ops_per_s: %.0f\n", kind, threads,
                   (double)n * threads / secs);
        }
    }
    sluice_sr_destroy(sr);
}

int main(int argc, char **argv)
{
    long lookups = 10000000, baseline = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--lookups") == 0)
            lookups = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--baseline") == 0)
            baseline = atol(argv[i + 1]);
    }
    char *tmp = test_tmpdir("sluice-bench-sr");
    char db[512], log[512];
    snprintf(db, sizeof db, "%s/registry.sqlite", tmp);
    snprintf(log, sizeof log, "%s/registry.log", tmp);
    test_proc reg;
    uint16_t port;
    if (test_registry_start(&reg, db, 0, &port, log) != 0) {
        fprintf(stderr, "bench_sr: cannot start sluice registry (%s)\n", log);
        return 1;
    }
    snprintf(reg_url, sizeof reg_url, "http://127.0.0.1:%u", (unsigned)port);
    snprintf(metrics_url, sizeof metrics_url, "%s/metrics", reg_url);

    sluice_sr *writer = new_client();
    int32_t ids[10];
    for (int i = 0; i < 10; i++)
        ids[i] = register_schema(writer, i);

    bench_shared_vs_per_message(ids, lookups, baseline);
    bench_cold_miss(writer);
    bench_hits(ids, lookups / 2);
    bench_mutex_baseline(ids, lookups / 2);
    sluice_sr_destroy(writer);

    test_proc_stop(&reg, SIGTERM, 5000);
    test_rmtree(tmp);
    return 0;
}
