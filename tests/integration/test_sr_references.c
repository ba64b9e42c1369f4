/*
 * test_sr_references.c — the registry client with schema types and
 * references against a real `sluice registry` over HTTP: register and look
 * up PROTOBUF and JSON schemas with references (subjects with '/' in them),
 * read them back with schemaType and references, resolve references
 * recursively in dependency order, hit the cache the second time, make one
 * HTTP request per referenced schema when 32 threads resolve at once
 * (single-flight), and refuse a cycle planted in the registry's file.
 *
 * Registry load is counted by the server's own /metrics.
 */
#include "test.h"

#include <sluice/sr.h>

#include "codec/proto_schema.h"
#include "support.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>

static char *tmp;
static char db[512];
static test_proc reg;
static char url[64];

static int setup(void)
{
    if (reg.pid > 0) return 0;
    tmp = test_tmpdir("sluice-sr-references");
    char log[600];
    snprintf(db, sizeof db, "%s/registry.sqlite", tmp);
    snprintf(log, sizeof log, "%s/registry.log", tmp);
    uint16_t port;
    if (test_registry_start(&reg, db, 0, &port, log) != 0) return -1;
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)port);
    return 0;
}

static sluice_sr *client(void)
{
    const char *urls[] = {url};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.urls = urls;
    cfg.n_urls = 1;
    sluice_sr *sr = NULL;
    return sluice_sr_new(&cfg, &sr, NULL) == 0 ? sr : NULL;
}

static double server_requests(const char *endpoint)
{
    char murl[128], filter[96];
    snprintf(murl, sizeof murl, "%s/metrics", url);
    snprintf(filter, sizeof filter, "endpoint=\"%s\"", endpoint);
    double v = test_scrape_sum(murl, "sluice_registry_requests_total", filter);
    return v < 0 ? 0 : v;
}

/* units.proto <- money.proto <- price.proto (root), plus a well-known type. */
static const char *UNITS = "syntax = \"proto3\"; package common; message Units { int64 n = 1; }";
static const char *MONEY = "syntax = \"proto3\"; package common; import \"common/units.proto\"; "
                           "message Money { Units units = 1; string currency = 2; }";
static const char *PRICE = "syntax = \"proto3\"; package shop; import \"common/money.proto\"; "
                           "import \"google/protobuf/timestamp.proto\"; "
                           "message Price { common.Money amount = 1; "
                           "google.protobuf.Timestamp at = 2; }";

static int32_t price_id;

static void test_register_lookup_read(void)
{
    CHECK_EQ(setup(), 0);
    sluice_sr *sr = client();
    CHECK(sr);
    sluice_error err;
    int32_t units_id, money_id;
    CHECK_EQ(sluice_sr_register_refs(sr, "common/units.proto", UNITS, "PROTOBUF", NULL, 0,
                                     &units_id, &err),
             0);
    sluice_sr_reference to_units[] = {{"common/units.proto", "common/units.proto", 1}};
    CHECK_EQ(sluice_sr_register_refs(sr, "common/money.proto", MONEY, "PROTOBUF", to_units, 1,
                                     &money_id, &err),
             0);
    /* without its reference the import cannot resolve: the registry's 42201 */
    int32_t id;
    CHECK_EQ(sluice_sr_register_refs(sr, "prices-value", PRICE, "PROTOBUF", NULL, 0, &id, &err),
             SLUICE_EINVAL);
    CHECK_EQ(err.remote_code, 42201);
    CHECK_CONTAINS(err.msg, "import \"common/money.proto\" not found");
    sluice_sr_reference to_money[] = {{"common/money.proto", "common/money.proto", 1}};
    CHECK_EQ(sluice_sr_register_refs(sr, "prices-value", PRICE, "PROTOBUF", to_money, 1, &price_id,
                                     &err),
             0);
    CHECK(price_id != money_id && money_id != units_id);

    /* look up: the same text and references give the id and version */
    const sluice_sr_schema *s = NULL;
    CHECK_EQ(sluice_sr_lookup_refs(sr, "prices-value", PRICE, "PROTOBUF", to_money, 1, &s, &err),
             0);
    CHECK_EQ(s->id, price_id);
    CHECK_EQ(s->version, 1);
    CHECK_STR(s->schema_type, "PROTOBUF");
    sluice_sr_schema_release(s);

    /* read back: type and references travel with the schema */
    CHECK_EQ(sluice_sr_get_by_id(sr, price_id, &s, &err), 0);
    CHECK_STR(s->schema_type, "PROTOBUF");
    CHECK_EQ(s->n_references, 1);
    CHECK_STR(s->references[0].name, "common/money.proto");
    CHECK_STR(s->references[0].subject, "common/money.proto");
    CHECK_EQ(s->references[0].version, 1);
    sluice_sr_schema_release(s);
    CHECK_EQ(sluice_sr_get_latest(sr, "common/money.proto", &s, &err), 0);
    CHECK_EQ(s->id, money_id);
    CHECK_EQ(s->n_references, 1);
    sluice_sr_schema_release(s);

    /* JSON Schema with a reference, through the same calls */
    const char *addr = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}";
    const char *cust = "{\"type\":\"object\",\"properties\":{\"home\":{\"$ref\":\"addr.json\"}}}";
    int32_t addr_id, cust_id;
    CHECK_EQ(sluice_sr_register_refs(sr, "addr", addr, "JSON", NULL, 0, &addr_id, &err), 0);
    sluice_sr_reference to_addr[] = {{"addr.json", "addr", 1}};
    CHECK_EQ(
        sluice_sr_register_refs(sr, "customers-value", cust, "JSON", to_addr, 1, &cust_id, &err),
        0);
    CHECK_EQ(sluice_sr_get_version(sr, "customers-value", 1, &s, &err), 0);
    CHECK_STR(s->schema_type, "JSON");
    CHECK_EQ(s->n_references, 1);
    sluice_sr_schema_release(s);

    /* a bad reference is refused before any request */
    sluice_sr_reference bad[] = {{"x", "", 1}};
    CHECK_EQ(sluice_sr_register_refs(sr, "x", cust, "JSON", bad, 1, &id, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "reference 0 needs");
    sluice_sr_destroy(sr);
}

static void test_resolve_in_order_and_cached(void)
{
    CHECK_EQ(setup(), 0);
    sluice_sr *sr = client();
    CHECK(sr);
    sluice_error err;
    const sluice_sr_schema *root = NULL;
    CHECK_EQ(sluice_sr_get_by_id(sr, price_id, &root, &err), 0);
    double before = server_requests("subjects_versions_get");
    sluice_sr_resolved *res = NULL;
    CHECK_EQ(sluice_sr_resolve_references(sr, root, &res, &err), 0);
    /* dependencies first: units, then money */
    CHECK_EQ(res->n, 2);
    CHECK_STR(res->names[0], "common/units.proto");
    CHECK_STR(res->schemas[0]->subject, "common/units.proto");
    CHECK_STR(res->names[1], "common/money.proto");
    CHECK_EQ(res->schemas[1]->version, 1);
    CHECK_EQ(server_requests("subjects_versions_get"), before + 2);

    /* what was resolved parses the root (the WKT comes from libprotobuf) */
    proto_source src[2];
    for (size_t i = 0; i < res->n; i++)
        src[i] = (proto_source){res->names[i], res->schemas[i]->schema, res->schemas[i]->schema_len,
                                res->schemas[i]->subject, res->schemas[i]->version};
    proto_schema *ps = NULL;
    CHECK_EQ(proto_schema_parse(root->schema, root->schema_len, NULL, src, res->n, &ps, &err), 0);
    const proto_message *m = proto_schema_find_message(ps, "shop.Price");
    CHECK(m && m->fields[0].message && m->fields[0].message->fields[0].message);
    CHECK_STR(m->fields[0].message->fields[0].message->full_name, "common.Units");
    proto_schema_free(ps);
    sluice_sr_resolved_free(res);

    /* again: every referenced version comes from the cache */
    CHECK_EQ(sluice_sr_resolve_references(sr, root, &res, &err), 0);
    CHECK_EQ(res->n, 2);
    sluice_sr_resolved_free(res);
    CHECK_EQ(server_requests("subjects_versions_get"), before + 2);
    sluice_sr_schema_release(root);
    sluice_sr_destroy(sr);
}

struct resolver_thread {
    sluice_sr *sr;
    const sluice_sr_schema *root;
    pthread_barrier_t *barrier;
    int rc;
    size_t n;
};

static void *resolve_worker(void *p)
{
    struct resolver_thread *t = p;
    pthread_barrier_wait(t->barrier);
    sluice_sr_resolved *res = NULL;
    t->rc = sluice_sr_resolve_references(t->sr, t->root, &res, NULL);
    if (t->rc == 0) t->n = res->n;
    sluice_sr_resolved_free(res);
    return NULL;
}

static void test_32_threads_resolve_once(void)
{
    CHECK_EQ(setup(), 0);
    sluice_sr *sr = client();
    CHECK(sr);
    const sluice_sr_schema *root = NULL;
    CHECK_EQ(sluice_sr_get_by_id(sr, price_id, &root, NULL), 0);
    double before = server_requests("subjects_versions_get");
    enum { N = 32 };
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N);
    struct resolver_thread t[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        t[i] = (struct resolver_thread){.sr = sr, .root = root, .barrier = &barrier};
        pthread_create(&th[i], NULL, resolve_worker, &t[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < N; i++) {
        CHECK_EQ(t[i].rc, 0);
        CHECK_EQ(t[i].n, 2);
    }
    /* one request per referenced schema, whatever the number of threads */
    CHECK_EQ(server_requests("subjects_versions_get"), before + 2);
    sluice_sr_stats st;
    sluice_sr_get_stats(sr, &st);
    CHECK_EQ(st.misses, 1 + 2); /* the root by id, then the two versions */
    sluice_sr_schema_release(root);
    sluice_sr_destroy(sr);
}

/* Two schemas made to reference each other in the registry's file: the
 * client follows the chain and stops at the repeat. */
static void test_cycle_is_refused(void)
{
    CHECK_EQ(setup(), 0);
    sluice_sr *sr = client();
    CHECK(sr);
    sluice_error err;
    int32_t a, b;
    CHECK_EQ(sluice_sr_register_refs(sr, "cyc-a", "syntax = \"proto3\"; message A {}", "PROTOBUF",
                                     NULL, 0, &a, &err),
             0);
    CHECK_EQ(sluice_sr_register_refs(sr, "cyc-b", "syntax = \"proto3\"; message B {}", "PROTOBUF",
                                     NULL, 0, &b, &err),
             0);
    sqlite3 *h = NULL;
    CHECK_EQ(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    char sql[400];
    snprintf(
        sql, sizeof sql,
        "UPDATE schemas SET refs='[{\"name\":\"b.proto\",\"subject\":\"cyc-b\",\"version\":1}]'"
        " WHERE id=%d; UPDATE schemas SET refs='[{\"name\":\"a.proto\",\"subject\":\"cyc-a\","
        "\"version\":1}]' WHERE id=%d;",
        (int)a, (int)b);
    CHECK_EQ(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    const sluice_sr_schema *s = NULL;
    CHECK_EQ(sluice_sr_get_version(sr, "cyc-a", 1, &s, &err), 0);
    sluice_sr_resolved *res = NULL;
    CHECK_EQ(sluice_sr_resolve_references(sr, s, &res, &err), SLUICE_EINVAL);
    CHECK(res == NULL);
    CHECK_CONTAINS(err.msg, "reference cycle: cyc-b version 1 -> cyc-a version 1");
    sluice_sr_schema_release(s);
    sluice_sr_destroy(sr);
}

static void test_cleanup(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    test_rmtree(tmp);
    free(tmp);
}

TEST_MAIN(T(test_register_lookup_read), T(test_resolve_in_order_and_cached),
          T(test_32_threads_resolve_once), T(test_cycle_is_refused), T(test_cleanup))
