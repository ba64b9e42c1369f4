/*
 * test_sr_cache.c — the registry client's cache: hits, TTLs, the negative
 * cache, CLOCK eviction within entry and byte bounds, and single-flight.
 *
 * The fetch function here stands in for the HTTP request so that the tests
 * can control when a fetch finishes and count how often it runs; what is
 * under test is the cache's own locking and bookkeeping, which runs for real.
 * (The client over real HTTP is tested in tests/integration/test_sr_client.c.)
 */
#include "test.h"

#include "common/clock.h"
#include "sr/cache.h"

#include <pthread.h>
#include <stdatomic.h>

struct counting_fetch {
    _Atomic int calls;
    int32_t id;
    int rc; /* what to return */
    int64_t ttl_ms;
    int64_t delay_ms;  /* sleep before answering */
    _Atomic int *gate; /* if set: wait until *gate >= gate_target before answering */
    int gate_target;
    size_t text_len; /* size of the schema text to return */
};

static int counting_fetch_fn(void *p, sr_schema **value, int64_t *ttl_ms, sluice_error *err)
{
    struct counting_fetch *f = p;
    atomic_fetch_add(&f->calls, 1);
    if (f->gate)
        while (atomic_load(f->gate) < f->gate_target)
            clock_sleep_ms(1);
    clock_sleep_ms(f->delay_ms);
    if (f->rc) {
        sluice_error_set(err, f->rc, "fetch failed on purpose (%d)", f->rc);
        err->remote_code = 40403;
        return f->rc;
    }
    char text[4096];
    size_t n = f->text_len ? f->text_len : 5;
    if (n > sizeof text) n = sizeof text;
    memset(text, 'x', n);
    *value = sr_schema_new(f->id, 0, NULL, NULL, text, n);
    *ttl_ms = f->ttl_ms;
    return 0;
}

static sr_cache *new_cache(size_t entries, size_t bytes, int64_t neg_ttl)
{
    sr_cache_config cfg = {.max_entries = entries, .max_bytes = bytes, .negative_ttl_ms = neg_ttl};
    sr_cache *c = NULL;
    if (sr_cache_new(&cfg, &c) != 0) return NULL;
    return c;
}

static int get_id(sr_cache *c, int32_t key, struct counting_fetch *f, sr_outcome *o,
                  sluice_error *err)
{
    sr_schema *s = NULL;
    int rc = sr_cache_get(c, SR_KIND_ID, &key, sizeof key, 0, counting_fetch_fn, f, &s, o, err);
    if (rc == 0) sr_schema_release(s);
    return rc;
}

static void test_hit_after_fetch(void)
{
    sr_cache *c = new_cache(100, 1 << 20, 1000);
    CHECK(c);
    struct counting_fetch f = {.id = 7};
    sr_outcome o;
    sr_schema *s = NULL;
    int32_t key = 7;
    CHECK_EQ(sr_cache_get(c, SR_KIND_ID, &key, sizeof key, 0, counting_fetch_fn, &f, &s, &o, NULL),
             0);
    CHECK_EQ(o, SR_FETCHED);
    CHECK_EQ(s->pub.id, 7);
    sr_schema *s2 = NULL;
    CHECK_EQ(sr_cache_get(c, SR_KIND_ID, &key, sizeof key, 0, counting_fetch_fn, &f, &s2, &o, NULL),
             0);
    CHECK_EQ(o, SR_HIT);
    CHECK(s2 == s); /* the same shared object, not a copy */
    CHECK_EQ(atomic_load(&f.calls), 1);
    /* Same key bytes under another kind is another entry. */
    CHECK_EQ(
        sr_cache_get(c, SR_KIND_LATEST, &key, sizeof key, 0, counting_fetch_fn, &f, &s2, &o, NULL),
        0);
    CHECK_EQ(o, SR_FETCHED);
    sr_schema_release(s2);
    sr_schema_release(s);
    sr_schema_release(s);
    CHECK_EQ(atomic_load(&f.calls), 2);
    sr_cache_free(c);
}

static void test_ttl_expiry_refetches(void)
{
    sr_cache *c = new_cache(100, 1 << 20, 1000);
    struct counting_fetch f = {.id = 1, .ttl_ms = 40};
    sr_outcome o;
    CHECK_EQ(get_id(c, 1, &f, &o, NULL), 0);
    CHECK_EQ(get_id(c, 1, &f, &o, NULL), 0);
    CHECK_EQ(o, SR_HIT);
    clock_sleep_ms(120); /* three TTLs */
    CHECK_EQ(get_id(c, 1, &f, &o, NULL), 0);
    CHECK_EQ(o, SR_FETCHED);
    CHECK_EQ(atomic_load(&f.calls), 2);
    /* ttl < 0: served to the caller but never stored. */
    struct counting_fetch g = {.id = 2, .ttl_ms = -1};
    CHECK_EQ(get_id(c, 2, &g, &o, NULL), 0);
    CHECK_EQ(get_id(c, 2, &g, &o, NULL), 0);
    CHECK_EQ(o, SR_FETCHED);
    CHECK_EQ(atomic_load(&g.calls), 2);
    sr_cache_free(c);
}

static void test_negative_cache(void)
{
    sr_cache *c = new_cache(100, 1 << 20, 40);
    struct counting_fetch f = {.rc = SLUICE_ENOTFOUND};
    sr_outcome o;
    sluice_error err;
    CHECK_EQ(get_id(c, 9, &f, &o, &err), SLUICE_ENOTFOUND);
    CHECK_EQ(o, SR_FETCHED);
    CHECK_EQ(get_id(c, 9, &f, &o, &err), SLUICE_ENOTFOUND);
    CHECK_EQ(o, SR_NEGATIVE_HIT);
    CHECK_CONTAINS(err.msg, "fetch failed on purpose");
    CHECK_EQ(err.remote_code, 40403);
    CHECK_EQ(atomic_load(&f.calls), 1);
    clock_sleep_ms(120);
    f.rc = 0; /* the schema appeared in the meantime */
    CHECK_EQ(get_id(c, 9, &f, &o, &err), 0);
    CHECK_EQ(o, SR_FETCHED);
    CHECK_EQ(atomic_load(&f.calls), 2);
    /* Other errors (transport) are never cached. */
    struct counting_fetch g = {.rc = SLUICE_EIO};
    CHECK_EQ(get_id(c, 10, &g, &o, &err), SLUICE_EIO);
    CHECK_EQ(get_id(c, 10, &g, &o, &err), SLUICE_EIO);
    CHECK_EQ(o, SR_FETCHED);
    CHECK_EQ(atomic_load(&g.calls), 2);
    sr_cache_free(c);
}

static void test_negative_ttl_zero_disables(void)
{
    sr_cache *c = new_cache(100, 1 << 20, 0);
    struct counting_fetch f = {.rc = SLUICE_ENOTFOUND};
    sr_outcome o;
    CHECK_EQ(get_id(c, 9, &f, &o, NULL), SLUICE_ENOTFOUND);
    CHECK_EQ(get_id(c, 9, &f, &o, NULL), SLUICE_ENOTFOUND);
    CHECK_EQ(atomic_load(&f.calls), 2);
    sr_cache_free(c);
}

static void test_entry_bound_and_clock(void)
{
    sr_cache *c = new_cache(10, 1 << 20, 0);
    struct counting_fetch f = {.id = 1};
    sr_outcome o;
    for (int32_t k = 0; k < 10; k++)
        CHECK_EQ(get_id(c, k, &f, &o, NULL), 0);
    sr_cache_usage u;
    sr_cache_get_usage(c, &u);
    CHECK_EQ(u.entries, 10);
    CHECK_EQ(u.evictions, 0);
    /* Touch key 0, then add a new key: CLOCK gives key 0 a second chance
     * and evicts the oldest untouched one (key 1). */
    CHECK_EQ(get_id(c, 0, &f, &o, NULL), 0);
    CHECK_EQ(o, SR_HIT);
    CHECK_EQ(get_id(c, 100, &f, &o, NULL), 0);
    sr_cache_get_usage(c, &u);
    CHECK_EQ(u.entries, 10);
    CHECK_EQ(u.evictions, 1);
    CHECK_EQ(get_id(c, 0, &f, &o, NULL), 0);
    CHECK_EQ(o, SR_HIT);
    int calls = atomic_load(&f.calls);
    CHECK_EQ(get_id(c, 1, &f, &o, NULL), 0);
    CHECK_EQ(o, SR_FETCHED);
    CHECK_EQ(atomic_load(&f.calls), calls + 1);
    /* Many more keys: never more than the bound. */
    for (int32_t k = 1000; k < 1500; k++)
        CHECK_EQ(get_id(c, k, &f, &o, NULL), 0);
    sr_cache_get_usage(c, &u);
    CHECK_EQ(u.entries, 10);
    CHECK_EQ(u.evictions, 1 + 1 + 500);
    sr_cache_free(c);
}

static void test_byte_bound(void)
{
    /* 16 shards at this size: each holds max_bytes/16. */
    size_t max_bytes = 64 * 1024;
    sr_cache *c = new_cache(10000, max_bytes, 0);
    struct counting_fetch f = {.id = 1, .text_len = 1000};
    sr_outcome o;
    for (int32_t k = 0; k < 2000; k++)
        CHECK_EQ(get_id(c, k, &f, &o, NULL), 0);
    sr_cache_usage u;
    sr_cache_get_usage(c, &u);
    CHECK(u.bytes <= max_bytes);
    CHECK(u.entries > 10); /* it does cache within the bound */
    CHECK(u.entries < 2000);
    CHECK_EQ(u.evictions + u.entries, 2000);
    /* A value larger than a shard's share is served but not stored. */
    struct counting_fetch big = {.id = 2, .text_len = 4096};
    sr_cache *small = new_cache(10, 2048, 0);
    CHECK_EQ(get_id(small, 5, &big, &o, NULL), 0);
    CHECK_EQ(get_id(small, 5, &big, &o, NULL), 0);
    CHECK_EQ(o, SR_FETCHED);
    sr_cache_get_usage(small, &u);
    CHECK_EQ(u.entries, 0);
    CHECK_EQ(u.uncacheable, 2);
    sr_cache_free(small);
    sr_cache_free(c);
}

struct sf_thread {
    sr_cache *c;
    struct counting_fetch *f;
    _Atomic int *started;
    int32_t key;
    int rc;
    sr_outcome o;
    sluice_error err;
};

static void *sf_worker(void *p)
{
    struct sf_thread *t = p;
    atomic_fetch_add(t->started, 1);
    t->rc = get_id(t->c, t->key, t->f, &t->o, &t->err);
    return NULL;
}

static void run_concurrent_misses(int rc_wanted, int *calls, int *coalesced, int *fetched,
                                  int *errors_same)
{
    enum { N = 32 };
    sr_cache *c = new_cache(100, 1 << 20, 0);
    _Atomic int started = 0;
    /* The leader's fetch waits until every thread has started, then lingers
     * so that all of them reach the cache while it is in flight. */
    struct counting_fetch f = {
        .id = 3, .rc = rc_wanted, .gate = &started, .gate_target = N, .delay_ms = 100};
    struct sf_thread t[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        t[i] = (struct sf_thread){.c = c, .f = &f, .started = &started, .key = 42};
        pthread_create(&th[i], NULL, sf_worker, &t[i]);
    }
    *coalesced = *fetched = 0;
    *errors_same = 1;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        *coalesced += t[i].o == SR_COALESCED;
        *fetched += t[i].o == SR_FETCHED;
        if (t[i].rc != rc_wanted || (rc_wanted && !strstr(t[i].err.msg, "on purpose")))
            *errors_same = 0;
    }
    *calls = atomic_load(&f.calls);
    sr_cache_free(c);
}

static void test_single_flight_one_fetch(void)
{
    int calls, coalesced, fetched, same;
    run_concurrent_misses(0, &calls, &coalesced, &fetched, &same);
    CHECK_EQ(calls, 1);
    CHECK_EQ(fetched, 1);
    CHECK(coalesced >= 1);
    CHECK(same);
}

static void test_single_flight_shares_errors(void)
{
    int calls, coalesced, fetched, same;
    run_concurrent_misses(SLUICE_EIO, &calls, &coalesced, &fetched, &same);
    CHECK_EQ(calls, 1);
    CHECK_EQ(fetched, 1);
    CHECK(coalesced >= 1);
    CHECK(same); /* every waiter got the leader's error */
}

static void *blocked_miss(void *p)
{
    struct sf_thread *t = p;
    t->rc = get_id(t->c, t->key, t->f, &t->o, &t->err);
    return NULL;
}

static void test_hit_does_not_wait_behind_miss(void)
{
    sr_cache *c = new_cache(100, 1 << 20, 0);
    struct counting_fetch quick = {.id = 1};
    sr_outcome o;
    CHECK_EQ(get_id(c, 1, &quick, &o, NULL), 0); /* key 1 cached */
    /* A miss on key 2 whose fetch cannot finish until we open the gate. In
     * the same shard or not, the hit on key 1 must complete meanwhile. */
    _Atomic int gate = 0;
    struct counting_fetch slow = {.id = 2, .gate = &gate, .gate_target = 1};
    _Atomic int started = 0;
    struct sf_thread t = {.c = c, .f = &slow, .started = &started, .key = 2};
    pthread_t th;
    pthread_create(&th, NULL, blocked_miss, &t);
    while (atomic_load(&slow.calls) == 0)
        clock_sleep_ms(1);
    for (int i = 0; i < 1000; i++) {
        CHECK_EQ(get_id(c, 1, &quick, &o, NULL), 0);
        CHECK_EQ(o, SR_HIT);
    }
    /* And a miss for a third key is not serialised behind it either. */
    struct counting_fetch third = {.id = 3};
    CHECK_EQ(get_id(c, 3, &third, &o, NULL), 0);
    CHECK_EQ(o, SR_FETCHED);
    CHECK_EQ(atomic_load(&slow.calls), 1); /* still blocked: gate closed */
    atomic_store(&gate, 1);
    pthread_join(th, NULL);
    CHECK_EQ(t.rc, 0);
    sr_cache_free(c);
}

static void test_bypass_replaces(void)
{
    sr_cache *c = new_cache(100, 1 << 20, 0);
    struct counting_fetch f = {.id = 1};
    sr_outcome o;
    int32_t key = 5;
    CHECK_EQ(get_id(c, key, &f, &o, NULL), 0);
    f.id = 2; /* the registry's answer changed */
    sr_schema *s = NULL;
    CHECK_EQ(sr_cache_get(c, SR_KIND_ID, &key, sizeof key, 1, counting_fetch_fn, &f, &s, &o, NULL),
             0);
    CHECK_EQ(o, SR_FETCHED);
    CHECK_EQ(s->pub.id, 2);
    sr_schema_release(s);
    CHECK_EQ(sr_cache_get(c, SR_KIND_ID, &key, sizeof key, 0, counting_fetch_fn, &f, &s, &o, NULL),
             0);
    CHECK_EQ(o, SR_HIT);
    CHECK_EQ(s->pub.id, 2);
    sr_schema_release(s);
    sr_cache_usage u;
    sr_cache_get_usage(c, &u);
    CHECK_EQ(u.entries, 1);
    sr_cache_free(c);
}

static void test_clear_by_kind(void)
{
    sr_cache *c = new_cache(100, 1 << 20, 0);
    struct counting_fetch f = {.id = 1};
    sr_schema *s = sr_schema_new(1, 1, "s", NULL, "x", 1);
    for (int i = 0; i < 5; i++) {
        sr_cache_put(c, SR_KIND_ID, &i, sizeof i, s, 0);
        sr_cache_put(c, SR_KIND_LATEST, &i, sizeof i, s, 0);
    }
    sr_schema_release(s);
    sr_cache_usage u;
    sr_cache_get_usage(c, &u);
    CHECK_EQ(u.entries, 10);
    sr_cache_clear(c, SR_KIND_LATEST);
    sr_cache_get_usage(c, &u);
    CHECK_EQ(u.entries, 5);
    sr_outcome o;
    CHECK_EQ(get_id(c, 3, &f, &o, NULL), 0);
    CHECK_EQ(o, SR_HIT);
    sr_cache_clear(c, 0);
    sr_cache_get_usage(c, &u);
    CHECK_EQ(u.entries, 0);
    CHECK_EQ(u.bytes, 0);
    sr_cache_free(c);
}

TEST_MAIN(T(test_hit_after_fetch), T(test_ttl_expiry_refetches), T(test_negative_cache),
          T(test_negative_ttl_zero_disables), T(test_entry_bound_and_clock), T(test_byte_bound),
          T(test_single_flight_one_fetch), T(test_single_flight_shares_errors),
          T(test_hit_does_not_wait_behind_miss), T(test_bypass_replaces), T(test_clear_by_kind))
