/*
 * test_sr_client.c — the registry client against a real `sluice registry`
 * process over real HTTP: register, evolve, compatibility rejections,
 * refresh after a new version, the negative cache, retries through injected
 * 5xx answers, timeouts, failover to a second registry when the first is
 * stopped, auth headers, and 64 threads missing one cold id at once.
 *
 * Registry load is counted by the server's own /metrics
 * (sluice_registry_requests_total), not only by the client's counters.
 */
#include "test.h"

#include <sluice/sr.h>
#include <sluice/wire.h>

#include "common/clock.h"
#include "fault_proxy.h"
#include "support.h"

#include <pthread.h>
#include <signal.h>

static char *tmp;
static test_proc reg;
static uint16_t reg_port;
static char reg_url[64];

static const char *V1 = "{\"type\":\"record\",\"name\":\"Event\",\"fields\":["
                        "{\"name\":\"id\",\"type\":\"long\"}]}";
static const char *V2 = "{\"type\":\"record\",\"name\":\"Event\",\"fields\":["
                        "{\"name\":\"id\",\"type\":\"long\"},"
                        "{\"name\":\"source\",\"type\":\"string\",\"default\":\"web\"}]}";
/* Removes nothing but changes id's type to string: not BACKWARD compatible. */
static const char *BAD = "{\"type\":\"record\",\"name\":\"Event\",\"fields\":["
                         "{\"name\":\"id\",\"type\":\"string\"}]}";

static int setup(void)
{
    if (reg.pid > 0) return 0;
    tmp = test_tmpdir("sluice-sr-client");
    char db[512], log[512];
    snprintf(db, sizeof db, "%s/registry.sqlite", tmp);
    snprintf(log, sizeof log, "%s/registry.log", tmp);
    if (test_registry_start(&reg, db, 0, &reg_port, log) != 0) return -1;
    snprintf(reg_url, sizeof reg_url, "http://127.0.0.1:%u", (unsigned)reg_port);
    return 0;
}

static sluice_sr *client_for(const char *const *urls, size_t n, sluice_sr_config *tweak)
{
    sluice_sr_config cfg;
    if (tweak)
        cfg = *tweak;
    else
        sluice_sr_config_init(&cfg);
    cfg.urls = urls;
    cfg.n_urls = n;
    sluice_sr *sr = NULL;
    sluice_error err;
    if (sluice_sr_new(&cfg, &sr, &err) != 0) {
        fprintf(stderr, "sluice_sr_new: %s\n", err.msg);
        return NULL;
    }
    return sr;
}

/* Requests the server counted for one endpoint. */
static double server_requests(const char *endpoint)
{
    char url[128], filter[96];
    snprintf(url, sizeof url, "%s/metrics", reg_url);
    snprintf(filter, sizeof filter, "endpoint=\"%s\"", endpoint);
    double v = test_scrape_sum(url, "sluice_registry_requests_total", filter);
    return v < 0 ? 0 : v;
}

static void test_register_and_read_back(void)
{
    CHECK_EQ(setup(), 0);
    const char *urls[] = {reg_url};
    sluice_sr *sr = client_for(urls, 1, NULL);
    CHECK(sr);
    sluice_error err;
    int32_t id = -1, id_again = -1;
    CHECK_EQ(sluice_sr_register(sr, "rb-value", V1, NULL, &id, &err), 0);
    CHECK(id >= 1);
    double reg_before = server_requests("register");
    CHECK_EQ(sluice_sr_register(sr, "rb-value", V1, NULL, &id_again, &err), 0);
    CHECK_EQ(id_again, id);
    CHECK_EQ(server_requests("register"), reg_before); /* answered from cache */

    const sluice_sr_schema *s = NULL;
    CHECK_EQ(sluice_sr_get_by_id(sr, id, &s, &err), 0);
    CHECK_EQ(s->id, id);
    CHECK_STR(s->schema_type, "AVRO");
    CHECK_CONTAINS(s->schema, "\"Event\"");
    CHECK(s->subject == NULL);
    sluice_sr_schema_release(s);

    CHECK_EQ(sluice_sr_get_latest(sr, "rb-value", &s, &err), 0);
    CHECK_EQ(s->id, id);
    CHECK_EQ(s->version, 1);
    CHECK_STR(s->subject, "rb-value");
    sluice_sr_schema_release(s);

    /* The latest answer filled (subject, 1): no request for it. */
    double ver_before = server_requests("subjects_versions_get");
    CHECK_EQ(sluice_sr_get_version(sr, "rb-value", 1, &s, &err), 0);
    CHECK_EQ(s->id, id);
    sluice_sr_schema_release(s);
    CHECK_EQ(server_requests("subjects_versions_get"), ver_before);

    CHECK_EQ(sluice_sr_lookup(sr, "rb-value", V1, &s, &err), 0);
    CHECK_EQ(s->id, id);
    CHECK_EQ(s->version, 1);
    sluice_sr_schema_release(s);

    /* Framed message -> writer schema. */
    uint8_t msg[7];
    sluice_wire_write_header(msg, id);
    msg[5] = 2;
    msg[6] = 4;
    const uint8_t *payload;
    size_t plen;
    CHECK_EQ(sluice_sr_get_by_frame(sr, msg, sizeof msg, &s, &payload, &plen, &err), 0);
    CHECK_EQ(s->id, id);
    CHECK_EQ(plen, 2);
    sluice_sr_schema_release(s);
    CHECK_EQ(sluice_sr_get_by_frame(sr, "{}", 2, &s, &payload, &plen, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "frame too short");

    sluice_sr_stats st;
    sluice_sr_get_stats(sr, &st);
    CHECK_EQ(st.requests_by_endpoint[SLUICE_SR_EP_REGISTER], 1);
    CHECK_EQ(st.requests_by_endpoint[SLUICE_SR_EP_SCHEMA_BY_ID], 1);
    CHECK_EQ(st.requests_by_endpoint[SLUICE_SR_EP_LATEST], 1);
    CHECK_EQ(st.requests_by_endpoint[SLUICE_SR_EP_VERSION], 0);
    CHECK_EQ(st.requests_by_endpoint[SLUICE_SR_EP_LOOKUP], 1);
    CHECK(st.hits >= 3);
    sluice_sr_destroy(sr);
}

static void test_evolve_refresh_and_reject(void)
{
    CHECK_EQ(setup(), 0);
    const char *urls[] = {reg_url};
    sluice_sr *sr = client_for(urls, 1, NULL);
    CHECK(sr);
    sluice_error err;
    int32_t id1, id2;
    CHECK_EQ(sluice_sr_register(sr, "ev-value", V1, NULL, &id1, &err), 0);
    const sluice_sr_schema *s;
    CHECK_EQ(sluice_sr_get_latest(sr, "ev-value", &s, &err), 0);
    CHECK_EQ(s->version, 1);
    sluice_sr_schema_release(s);

    CHECK_EQ(sluice_sr_register(sr, "ev-value", V2, NULL, &id2, &err), 0);
    CHECK(id2 != id1);
    /* Within the TTL the cached latest is still version 1 ... */
    CHECK_EQ(sluice_sr_get_latest(sr, "ev-value", &s, &err), 0);
    CHECK_EQ(s->version, 1);
    sluice_sr_schema_release(s);
    /* ... until an explicit refresh, which reports every subject. */
    CHECK_EQ(sluice_sr_register(sr, "ev2-value", V1, NULL, &id1, &err), 0);
    const char *subjects[] = {"ev-value", "no-such-subject", "ev2-value", ""};
    sluice_sr_refresh_result res[4];
    CHECK_EQ(sluice_sr_refresh_latest(sr, subjects, 4, res), 2);
    CHECK_EQ(res[0].code, 0);
    CHECK_EQ(res[0].schema->version, 2);
    CHECK_EQ(res[0].schema->id, id2);
    CHECK_EQ(res[1].code, SLUICE_ENOTFOUND);
    CHECK_EQ(res[1].err.remote_code, 40401);
    CHECK_CONTAINS(res[1].err.msg, "no-such-subject");
    CHECK_EQ(res[2].code, 0);
    CHECK_EQ(res[2].schema->version, 1);
    CHECK_EQ(res[3].code, SLUICE_EINVAL);
    sluice_sr_refresh_results_release(res, 4);
    CHECK_EQ(sluice_sr_get_latest(sr, "ev-value", &s, &err), 0);
    CHECK_EQ(s->version, 2);
    sluice_sr_schema_release(s);

    /* clear_latest drops it too: the next call asks the registry again. */
    sluice_sr_stats before, after;
    sluice_sr_get_stats(sr, &before);
    sluice_sr_clear_latest(sr);
    CHECK_EQ(sluice_sr_get_latest(sr, "ev-value", &s, &err), 0);
    sluice_sr_schema_release(s);
    sluice_sr_get_stats(sr, &after);
    CHECK_EQ(after.requests_by_endpoint[SLUICE_SR_EP_LATEST],
             before.requests_by_endpoint[SLUICE_SR_EP_LATEST] + 1);

    /* An incompatible schema is refused with the registry's reason. */
    int32_t id3 = -1;
    CHECK_EQ(sluice_sr_register(sr, "ev-value", BAD, NULL, &id3, &err), SLUICE_ECONFLICT);
    CHECK_EQ(err.remote_code, 409);
    CHECK_EQ(id3, -1);
    /* An invalid one with 42201. */
    CHECK_EQ(sluice_sr_register(sr, "ev-value", "{\"type\":\"nope\"}", NULL, &id3, &err),
             SLUICE_EINVAL);
    CHECK_EQ(err.remote_code, 42201);
    sluice_sr_destroy(sr);
}

static void test_negative_cache_over_http(void)
{
    CHECK_EQ(setup(), 0);
    const char *urls[] = {reg_url};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.negative_ttl_ms = 300;
    sluice_sr *sr = client_for(urls, 1, &cfg);
    CHECK(sr);
    sluice_error err;
    const sluice_sr_schema *s;
    double before = server_requests("subjects_versions_get");
    for (int i = 0; i < 50; i++) {
        CHECK_EQ(sluice_sr_get_latest(sr, "later-value", &s, &err), SLUICE_ENOTFOUND);
        CHECK_EQ(err.remote_code, 40401);
    }
    CHECK_EQ(server_requests("subjects_versions_get"), before + 1);
    sluice_sr_stats st;
    sluice_sr_get_stats(sr, &st);
    CHECK_EQ(st.negative_hits, 49);
    /* Unknown ids are remembered the same way. */
    CHECK_EQ(sluice_sr_get_by_id(sr, 999999, &s, &err), SLUICE_ENOTFOUND);
    CHECK_EQ(err.remote_code, 40403);
    /* The subject appears; after the negative TTL the client sees it. */
    int32_t id;
    sluice_sr *other = client_for(urls, 1, NULL);
    CHECK_EQ(sluice_sr_register(other, "later-value", V1, NULL, &id, &err), 0);
    sluice_sr_destroy(other);
    CHECK_EQ(sluice_sr_get_latest(sr, "later-value", &s, &err), SLUICE_ENOTFOUND);
    clock_sleep_ms(900); /* three negative TTLs */
    CHECK_EQ(sluice_sr_get_latest(sr, "later-value", &s, &err), 0);
    CHECK_EQ(s->id, id);
    sluice_sr_schema_release(s);
    sluice_sr_destroy(sr);
}

static void test_retries_on_5xx_and_429(void)
{
    CHECK_EQ(setup(), 0);
    fault_proxy *fp = fault_proxy_start(reg_url);
    CHECK(fp);
    const char *urls[] = {fault_proxy_url(fp)};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.backoff_initial_ms = 5;
    cfg.backoff_max_ms = 20;
    cfg.max_retries = 3;
    sluice_sr *sr = client_for(urls, 1, &cfg);
    CHECK(sr);
    sluice_error err;
    int32_t id;
    fault_proxy_fail_next(fp, 2, 503);
    CHECK_EQ(sluice_sr_register(sr, "retry-value", V1, NULL, &id, &err), 0);
    sluice_sr_stats st;
    sluice_sr_get_stats(sr, &st);
    CHECK_EQ(st.retries, 2);
    CHECK_EQ(fault_proxy_requests(fp), 3);

    fault_proxy_fail_next(fp, 1, 429);
    const sluice_sr_schema *s;
    CHECK_EQ(sluice_sr_get_by_id(sr, id, &s, &err), 0);
    sluice_sr_schema_release(s);
    sluice_sr_get_stats(sr, &st);
    CHECK_EQ(st.retries, 3);

    /* More failures than retries: the error names the attempts and status. */
    fault_proxy_fail_next(fp, 10, 500);
    CHECK_EQ(sluice_sr_get_latest(sr, "retry-value", &s, &err), SLUICE_EREMOTE);
    CHECK_EQ(err.remote_code, 500);
    CHECK_CONTAINS(err.msg, "failed after 4 attempts");
    CHECK_CONTAINS(err.msg, "HTTP 500");
    /* A 4xx other than 408/429 is final: no retry. */
    fault_proxy_fail_next(fp, 0, 500);
    uint64_t n = fault_proxy_requests(fp);
    CHECK_EQ(sluice_sr_get_version(sr, "retry-value", 7, &s, &err), SLUICE_ENOTFOUND);
    CHECK_EQ(err.remote_code, 40402);
    CHECK_EQ(fault_proxy_requests(fp), n + 1);
    sluice_sr_destroy(sr);
    fault_proxy_stop(fp);
}

static void test_timeout(void)
{
    CHECK_EQ(setup(), 0);
    fault_proxy *fp = fault_proxy_start(reg_url);
    CHECK(fp);
    const char *urls[] = {fault_proxy_url(fp)};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.request_timeout_ms = 200;
    cfg.max_retries = 1;
    cfg.backoff_initial_ms = 1;
    sluice_sr *sr = client_for(urls, 1, &cfg);
    CHECK(sr);
    fault_proxy_set_delay_ms(fp, 1000);
    const sluice_sr_schema *s;
    sluice_error err;
    CHECK_EQ(sluice_sr_get_by_id(sr, 1, &s, &err), SLUICE_ETIMEDOUT);
    CHECK_CONTAINS(err.msg, "failed after 2 attempts");
    fault_proxy_set_delay_ms(fp, 0);
    sluice_sr_destroy(sr);
    fault_proxy_stop(fp);
}

static void test_auth_headers(void)
{
    CHECK_EQ(setup(), 0);
    fault_proxy *fp = fault_proxy_start(reg_url);
    CHECK(fp);
    const char *urls[] = {fault_proxy_url(fp)};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.username = "alice";
    cfg.password = "s3cret";
    sluice_sr *sr = client_for(urls, 1, &cfg);
    CHECK(sr);
    int32_t id;
    sluice_error err;
    CHECK_EQ(sluice_sr_register(sr, "auth-value", V1, NULL, &id, &err), 0);
    char auth[256];
    fault_proxy_last_auth(fp, auth, sizeof auth);
    CHECK_STR(auth, "Basic YWxpY2U6czNjcmV0"); /* base64("alice:s3cret") */
    sluice_sr_destroy(sr);

    sluice_sr_config_init(&cfg);
    cfg.bearer_token = "tok-123";
    sr = client_for(urls, 1, &cfg);
    CHECK(sr);
    const sluice_sr_schema *s;
    CHECK_EQ(sluice_sr_get_by_id(sr, id, &s, &err), 0);
    sluice_sr_schema_release(s);
    fault_proxy_last_auth(fp, auth, sizeof auth);
    CHECK_STR(auth, "Bearer tok-123");
    sluice_sr_destroy(sr);
    fault_proxy_stop(fp);
}

static void test_failover_to_second_registry(void)
{
    CHECK_EQ(setup(), 0);
    /* Two registry processes on one SQLite file, as a leader and a follower
     * behind a load balancer would be: same ids, either can answer. */
    char db[512], log_a[512], log_b[512];
    snprintf(db, sizeof db, "%s/shared.sqlite", tmp);
    snprintf(log_a, sizeof log_a, "%s/a.log", tmp);
    snprintf(log_b, sizeof log_b, "%s/b.log", tmp);
    test_proc a, b;
    uint16_t pa, pb;
    CHECK_EQ(test_registry_start(&a, db, 0, &pa, log_a), 0);
    CHECK_EQ(test_registry_start(&b, db, 0, &pb, log_b), 0);
    char ua[64], ub[64];
    snprintf(ua, sizeof ua, "http://127.0.0.1:%u", (unsigned)pa);
    snprintf(ub, sizeof ub, "http://127.0.0.1:%u/", (unsigned)pb); /* trailing slash is fine */
    const char *urls[] = {ua, ub};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.backoff_initial_ms = 5;
    cfg.connect_timeout_ms = 500;
    sluice_sr *sr = client_for(urls, 2, &cfg);
    CHECK(sr);
    sluice_error err;
    int32_t id1, id2;
    CHECK_EQ(sluice_sr_register(sr, "fo-value", V1, NULL, &id1, &err), 0);
    sluice_sr_stats st;
    sluice_sr_get_stats(sr, &st);
    CHECK_EQ(st.failovers, 0);

    CHECK_EQ(test_proc_stop(&a, SIGTERM, 5000), 0); /* clean exit */
    CHECK_EQ(sluice_sr_register(sr, "fo-value", V2, NULL, &id2, &err), 0);
    CHECK(id2 != id1);
    const sluice_sr_schema *s;
    CHECK_EQ(sluice_sr_get_latest(sr, "fo-value", &s, &err), 0);
    CHECK_EQ(s->id, id2);
    CHECK_EQ(s->version, 2);
    sluice_sr_schema_release(s);
    sluice_sr_get_stats(sr, &st);
    CHECK_EQ(st.failovers, 1); /* moved once, then stayed on the healthy one */
    sluice_sr_destroy(sr);

    /* Both down: a transport error after the retries, naming a URL. */
    CHECK_EQ(test_proc_stop(&b, SIGTERM, 5000), 0);
    cfg.max_retries = 2;
    sr = client_for(urls, 2, &cfg);
    CHECK_EQ(sluice_sr_get_by_id(sr, id1, &s, &err), SLUICE_EIO);
    CHECK_CONTAINS(err.msg, "http://127.0.0.1:");
    CHECK_CONTAINS(err.msg, "failed after 3 attempts");
    sluice_sr_destroy(sr);
}

struct miss_thread {
    sluice_sr *sr;
    int32_t id;
    int rc;
    pthread_barrier_t *barrier;
};

static void *miss_worker(void *p)
{
    struct miss_thread *t = p;
    const sluice_sr_schema *s;
    pthread_barrier_wait(t->barrier);
    t->rc = sluice_sr_get_by_id(t->sr, t->id, &s, NULL);
    if (t->rc == 0) sluice_sr_schema_release(s);
    return NULL;
}

static void test_64_threads_one_cold_id(void)
{
    CHECK_EQ(setup(), 0);
    const char *urls[] = {reg_url};
    sluice_sr *writer = client_for(urls, 1, NULL);
    int32_t id;
    sluice_error err;
    CHECK_EQ(sluice_sr_register(writer, "cold-value", V2, NULL, &id, &err), 0);
    sluice_sr_destroy(writer);

    sluice_sr *sr = client_for(urls, 1, NULL);
    CHECK(sr);
    double before = server_requests("schemas_ids");
    enum { N = 64 };
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N);
    struct miss_thread t[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        t[i] = (struct miss_thread){.sr = sr, .id = id, .barrier = &barrier};
        pthread_create(&th[i], NULL, miss_worker, &t[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(t[i].rc, 0);
    }
    pthread_barrier_destroy(&barrier);
    CHECK_EQ(server_requests("schemas_ids"), before + 1);
    sluice_sr_stats st;
    sluice_sr_get_stats(sr, &st);
    CHECK_EQ(st.misses, 1);
    CHECK_EQ(st.hits + st.coalesced, N - 1);
    sluice_sr_destroy(sr);
}

static void test_counters_in_metrics_registry(void)
{
    CHECK_EQ(setup(), 0);
    const char *urls[] = {reg_url};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.metrics = sluice_metrics_new(1000);
    CHECK(cfg.metrics);
    sluice_sr *sr = client_for(urls, 1, &cfg);
    CHECK(sr);
    int32_t id;
    sluice_error err;
    CHECK_EQ(sluice_sr_register(sr, "metrics-value", V1, NULL, &id, &err), 0);
    const sluice_sr_schema *s;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(sluice_sr_get_by_id(sr, id, &s, &err), 0);
        sluice_sr_schema_release(s);
    }
    CHECK_EQ(sluice_sr_get_latest(sr, "absent-value", &s, &err), SLUICE_ENOTFOUND);
    CHECK_EQ(sluice_sr_get_latest(sr, "absent-value", &s, &err), SLUICE_ENOTFOUND);
    char *text = NULL;
    size_t len = 0;
    CHECK_EQ(sluice_metrics_render(cfg.metrics, &text, &len), 0);
    CHECK_EQ(test_metric(text, "sluice_sr_requests_total{endpoint=\"register\"}"), 1);
    CHECK_EQ(test_metric(text, "sluice_sr_requests_total{endpoint=\"schemas_ids\"}"), 1);
    CHECK_EQ(test_metric(text, "sluice_sr_requests_total{endpoint=\"subjects_versions_latest\"}"),
             1);
    CHECK_EQ(test_metric(text, "sluice_sr_cache_hits_total"), 2);
    CHECK_EQ(test_metric(text, "sluice_sr_cache_misses_total"), 3);
    CHECK_EQ(test_metric(text, "sluice_sr_negative_hits_total"), 1);
    CHECK_EQ(test_metric(text, "sluice_sr_coalesced_waits_total"), 0);
    CHECK_EQ(test_metric(text, "sluice_sr_retries_total"), 0);
    CHECK_EQ(test_metric(text, "sluice_sr_failovers_total"), 0);
    CHECK(test_metric(text, "sluice_sr_cache_entries") >= 3); /* register, id, negative latest */
    CHECK(test_metric(text, "sluice_sr_cache_bytes") > 0);
    free(text);
    sluice_sr_destroy(sr);
    sluice_metrics_free(cfg.metrics);
}

static void test_bad_config(void)
{
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    sluice_sr *sr = NULL;
    sluice_error err;
    CHECK_EQ(sluice_sr_new(&cfg, &sr, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "no registry URL");
    const char *urls[] = {"ftp://x"};
    cfg.urls = urls;
    cfg.n_urls = 1;
    CHECK_EQ(sluice_sr_new(&cfg, &sr, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "'ftp://x' must start with http:// or https://");
}

static void test_shutdown_registry(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 5000), 0);
    test_rmtree(tmp);
}

TEST_MAIN(T(test_register_and_read_back), T(test_evolve_refresh_and_reject),
          T(test_negative_cache_over_http), T(test_retries_on_5xx_and_429), T(test_timeout),
          T(test_auth_headers), T(test_failover_to_second_registry), T(test_64_threads_one_cold_id),
          T(test_counters_in_metrics_registry), T(test_bad_config), T(test_shutdown_registry))
