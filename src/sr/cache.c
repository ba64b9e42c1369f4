/*
 * cache.c — sharded cache with CLOCK eviction, TTLs, negative entries and
 * single-flight fetches (design and lock order in cache.h).
 *
 * Ownership: the cache owns its entries (and one reference to each value);
 * a flight owns one reference to its result until the last waiter has taken
 * its own. Threads: any; nothing here blocks while holding a lock except the
 * waiters, which sleep on a condition variable with the flight mutex
 * released by pthread_cond_wait.
 */
#include "sr/cache.h"

#include "common/brlock.h"
#include "common/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHARDS 16

typedef struct sr_entry {
    struct sr_entry *chain;       /* next in the hash bucket */
    struct sr_entry *prev, *next; /* the shard's clock ring */
    uint64_t hash;
    int64_t expires_ms; /* monotonic; 0 = never */
    sr_schema *value;   /* NULL for a negative entry */
    int neg_code;       /* negative: the error to replay */
    int neg_remote;
    size_t bytes;
    _Atomic unsigned char referenced;
    unsigned char kind;
    uint32_t klen;
    char *neg_msg; /* negative: points into key[] after the key */
    char key[];
} sr_entry;

typedef struct sr_flight {
    struct sr_flight *next;
    uint64_t hash;
    int kind;
    size_t klen;
    const char *key; /* the leader's key bytes; valid while the flight is listed */
    int done;
    int refs; /* leader + waiters; the last one out frees */
    int rc;
    sluice_error err;
    sr_schema *value;
    pthread_cond_t cond;
} sr_flight;

typedef struct sr_shard {
    _Alignas(64) sr_entry **buckets; /* own cache line: shards must not share */
    size_t mask;
    sr_entry *hand;
    size_t entries, bytes;
    size_t max_entries, max_bytes;
    pthread_mutex_t flight_mu;
    sr_flight *flights;
    _Atomic uint64_t evictions;
    _Atomic uint64_t uncacheable;
} sr_shard;

struct sr_cache {
    brlock table_lock; /* over every shard's table; see cache.h */
    sr_shard shards[MAX_SHARDS];
    unsigned n_shards;
    int64_t negative_ttl_ms;
};

/* FNV-1a over kind and key, then a final mix so the top bits (shard choice)
 * and the low bits (bucket choice) are both well spread. */
static uint64_t key_hash(int kind, const void *key, size_t klen)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;
    const unsigned char *p = key;
    for (size_t i = 0; i < klen; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static sr_shard *shard_for(sr_cache *c, uint64_t h)
{
    return &c->shards[(h >> 56) % c->n_shards];
}

static size_t round_up_pow2(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

int sr_cache_new(const sr_cache_config *cfg, sr_cache **out)
{
    /* Cache-line aligned: the brlock stripes and shards must not share lines. */
    size_t size = (sizeof(sr_cache) + 63) / 64 * 64;
    sr_cache *c = aligned_alloc(64, size);
    if (!c) return SLUICE_ENOMEM;
    memset(c, 0, size);
    size_t max_entries = cfg->max_entries ? cfg->max_entries : 1;
    /* Small caches use one shard so that their budget is not split into
     * slivers too small to hold anything. */
    c->n_shards = max_entries < 256 ? 1 : MAX_SHARDS;
    c->negative_ttl_ms = cfg->negative_ttl_ms;
    brlock_init(&c->table_lock);
    for (unsigned i = 0; i < c->n_shards; i++) {
        sr_shard *s = &c->shards[i];
        s->max_entries = max_entries / c->n_shards;
        s->max_bytes = cfg->max_bytes / c->n_shards;
        if (s->max_entries == 0) s->max_entries = 1;
        size_t nb = round_up_pow2(s->max_entries);
        s->buckets = calloc(nb, sizeof *s->buckets);
        if (!s->buckets) {
            c->n_shards = i;
            sr_cache_free(c);
            return SLUICE_ENOMEM;
        }
        s->mask = nb - 1;
        pthread_mutex_init(&s->flight_mu, NULL);
    }
    *out = c;
    return 0;
}

static void entry_free(sr_entry *e)
{
    sr_schema_release(e->value);
    free(e);
}

/* Unlink e from its bucket chain and the clock ring. Table lock held
 * exclusively. */
static void shard_unlink(sr_shard *s, sr_entry *e)
{
    sr_entry **pp = &s->buckets[e->hash & s->mask];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    if (e->next == e) {
        s->hand = NULL;
    } else {
        e->prev->next = e->next;
        e->next->prev = e->prev;
        if (s->hand == e) s->hand = e->next;
    }
    s->entries--;
    s->bytes -= e->bytes;
}

void sr_cache_free(sr_cache *c)
{
    if (!c) return;
    for (unsigned i = 0; i < c->n_shards; i++) {
        sr_shard *s = &c->shards[i];
        while (s->hand) {
            sr_entry *e = s->hand;
            shard_unlink(s, e);
            entry_free(e);
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->flight_mu);
    }
    brlock_destroy(&c->table_lock);
    free(c);
}

/* Table lock held (shared or exclusive). */
static sr_entry *shard_find(sr_shard *s, uint64_t h, int kind, const void *key, size_t klen)
{
    for (sr_entry *e = s->buckets[h & s->mask]; e; e = e->chain)
        if (e->hash == h && e->kind == kind && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    return NULL;
}

/* Evict one entry by CLOCK: clear referenced bits as the hand passes, take
 * the first entry found unreferenced. Two laps at most. Exclusive lock held. */
static int shard_evict_one(sr_shard *s)
{
    for (size_t steps = 0; s->hand && steps <= 2 * s->entries; steps++) {
        sr_entry *e = s->hand;
        if (atomic_exchange_explicit(&e->referenced, 0, memory_order_relaxed)) {
            s->hand = e->next;
            continue;
        }
        shard_unlink(s, e);
        entry_free(e);
        atomic_fetch_add_explicit(&s->evictions, 1, memory_order_relaxed);
        return 1;
    }
    return 0;
}

/* Insert e, replacing an entry with the same key, evicting to stay within
 * the bounds. Frees e (and counts it uncacheable) if it alone is over the
 * byte bound. Takes the table lock exclusively. */
static void shard_insert(sr_cache *c, sr_shard *s, sr_entry *e)
{
    if (e->bytes > s->max_bytes) {
        atomic_fetch_add_explicit(&s->uncacheable, 1, memory_order_relaxed);
        entry_free(e);
        return;
    }
    brlock_write_lock(&c->table_lock);
    sr_entry *old = shard_find(s, e->hash, e->kind, e->key, e->klen);
    if (old) {
        shard_unlink(s, old);
        entry_free(old);
    }
    while (s->entries + 1 > s->max_entries || s->bytes + e->bytes > s->max_bytes)
        if (!shard_evict_one(s)) break;
    size_t b = e->hash & s->mask;
    e->chain = s->buckets[b];
    s->buckets[b] = e;
    /* New entries go just behind the hand: the last place it will look. */
    if (!s->hand) {
        e->prev = e->next = e;
        s->hand = e;
    } else {
        e->next = s->hand;
        e->prev = s->hand->prev;
        s->hand->prev->next = e;
        s->hand->prev = e;
    }
    s->entries++;
    s->bytes += e->bytes;
    brlock_write_unlock(&c->table_lock);
}

static sr_entry *entry_new(uint64_t h, int kind, const void *key, size_t klen, int64_t ttl_ms,
                           const char *neg_msg)
{
    size_t mlen = neg_msg ? strlen(neg_msg) + 1 : 0;
    sr_entry *e = malloc(sizeof *e + klen + mlen);
    if (!e) return NULL;
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->kind = (unsigned char)kind;
    e->klen = (uint32_t)klen;
    memcpy(e->key, key, klen);
    if (neg_msg) {
        e->neg_msg = e->key + klen;
        memcpy(e->neg_msg, neg_msg, mlen);
    }
    e->expires_ms = ttl_ms > 0 ? clock_mono_ms() + ttl_ms : 0;
    e->bytes = sizeof *e + klen + mlen;
    return e;
}

void sr_cache_put(sr_cache *c, int kind, const void *key, size_t klen, sr_schema *value,
                  int64_t ttl_ms)
{
    if (ttl_ms < 0 || !value || klen > UINT32_MAX) return;
    uint64_t h = key_hash(kind, key, klen);
    sr_entry *e = entry_new(h, kind, key, klen, ttl_ms, NULL);
    if (!e) return; /* a cache that cannot grow just misses more */
    e->value = sr_schema_retain(value);
    e->bytes += value->bytes;
    shard_insert(c, shard_for(c, h), e);
}

static void put_negative(sr_cache *c, uint64_t h, int kind, const void *key, size_t klen,
                         const sluice_error *err)
{
    if (c->negative_ttl_ms <= 0 || klen > UINT32_MAX) return;
    sr_entry *e = entry_new(h, kind, key, klen, c->negative_ttl_ms, err->msg);
    if (!e) return;
    e->neg_code = err->code;
    e->neg_remote = err->remote_code;
    shard_insert(c, shard_for(c, h), e);
}

/* Look up under the shared lock. Returns 1 with the answer filled if a live
 * entry was found, 0 on a miss or an expired entry. */
static int shard_lookup(sr_cache *c, sr_shard *s, uint64_t h, int kind, const void *key,
                        size_t klen, sr_schema **out, int *rc, sr_outcome *outcome,
                        sluice_error *err)
{
    int found = 0;
    unsigned stripe = brlock_read_lock(&c->table_lock);
    sr_entry *e = shard_find(s, h, kind, key, klen);
    if (e && (e->expires_ms == 0 || e->expires_ms > clock_mono_ms())) {
        /* A plain store would do; skip it when already set so the line
         * stays shared between cores on repeated hits. */
        if (!atomic_load_explicit(&e->referenced, memory_order_relaxed))
            atomic_store_explicit(&e->referenced, 1, memory_order_relaxed);
        if (e->value) {
            *out = sr_schema_retain(e->value);
            *rc = 0;
            *outcome = SR_HIT;
        } else {
            *rc = sluice_error_set(err, e->neg_code, "%s", e->neg_msg);
            if (err) err->remote_code = e->neg_remote;
            *outcome = SR_NEGATIVE_HIT;
        }
        found = 1;
    }
    brlock_read_unlock(&c->table_lock, stripe);
    return found;
}

static sr_flight *find_flight(sr_shard *s, uint64_t h, int kind, const void *key, size_t klen)
{
    for (sr_flight *f = s->flights; f; f = f->next)
        if (f->hash == h && f->kind == kind && f->klen == klen && memcmp(f->key, key, klen) == 0)
            return f;
    return NULL;
}

static void flight_unref(sr_flight *f)
{
    if (--f->refs == 0) {
        sr_schema_release(f->value);
        pthread_cond_destroy(&f->cond);
        free(f);
    }
}

/* Wait for another caller's fetch and take a share of its outcome. Flight
 * mutex held on entry and exit. */
static int join_flight(sr_shard *s, sr_flight *f, sr_schema **out, sluice_error *err)
{
    f->refs++;
    while (!f->done)
        pthread_cond_wait(&f->cond, &s->flight_mu);
    int rc = f->rc;
    if (rc == 0) {
        *out = sr_schema_retain(f->value);
    } else if (err) {
        *err = f->err;
    }
    flight_unref(f);
    return rc;
}

int sr_cache_get(sr_cache *c, int kind, const void *key, size_t klen, int bypass, sr_fetch_fn fetch,
                 void *ctx, sr_schema **out, sr_outcome *outcome, sluice_error *err)
{
    uint64_t h = key_hash(kind, key, klen);
    sr_shard *s = shard_for(c, h);
    int rc;
    *out = NULL;

    if (!bypass && shard_lookup(c, s, h, kind, key, klen, out, &rc, outcome, err)) return rc;

    pthread_mutex_lock(&s->flight_mu);
    sr_flight *f = find_flight(s, h, kind, key, klen);
    if (f) {
        *outcome = SR_COALESCED;
        rc = join_flight(s, f, out, err);
        pthread_mutex_unlock(&s->flight_mu);
        return rc;
    }
    /* No flight: either nobody fetched yet, or a fetch completed after our
     * miss above (it inserts before it unlists the flight). Look again. */
    if (!bypass && shard_lookup(c, s, h, kind, key, klen, out, &rc, outcome, err)) {
        pthread_mutex_unlock(&s->flight_mu);
        return rc;
    }
    f = calloc(1, sizeof *f);
    if (!f) {
        pthread_mutex_unlock(&s->flight_mu);
        return sluice_error_set(err, SLUICE_ENOMEM, "registry cache: out of memory");
    }
    f->hash = h;
    f->kind = kind;
    f->key = key;
    f->klen = klen;
    f->refs = 1;
    pthread_cond_init(&f->cond, NULL);
    f->next = s->flights;
    s->flights = f;
    pthread_mutex_unlock(&s->flight_mu);

    /* The fetch runs with no lock held. */
    sr_schema *value = NULL;
    int64_t ttl_ms = 0;
    sluice_error ferr = {0};
    rc = fetch(ctx, &value, &ttl_ms, &ferr);
    if (rc == 0 && !value)
        rc = sluice_error_set(&ferr, SLUICE_EINTERNAL, "registry cache: fetch returned no value");
    if (rc == 0)
        sr_cache_put(c, kind, key, klen, value, ttl_ms);
    else if (rc == SLUICE_ENOTFOUND)
        put_negative(c, h, kind, key, klen, &ferr);

    pthread_mutex_lock(&s->flight_mu);
    for (sr_flight **pp = &s->flights; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    f->done = 1;
    f->rc = rc;
    f->err = ferr;
    f->value = rc == 0 ? sr_schema_retain(value) : NULL;
    pthread_cond_broadcast(&f->cond);
    flight_unref(f);
    pthread_mutex_unlock(&s->flight_mu);

    *outcome = SR_FETCHED;
    if (rc == 0)
        *out = value;
    else if (err)
        *err = ferr;
    return rc;
}

void sr_cache_clear(sr_cache *c, int kind)
{
    brlock_write_lock(&c->table_lock);
    for (unsigned i = 0; i < c->n_shards; i++) {
        sr_shard *s = &c->shards[i];
        size_t n = s->entries;
        for (size_t k = 0; k < n && s->hand; k++) {
            sr_entry *e = s->hand;
            if (kind == 0 || e->kind == kind) {
                shard_unlink(s, e);
                entry_free(e);
            } else {
                s->hand = e->next;
            }
        }
    }
    brlock_write_unlock(&c->table_lock);
}

void sr_cache_get_usage(sr_cache *c, sr_cache_usage *u)
{
    memset(u, 0, sizeof *u);
    unsigned stripe = brlock_read_lock(&c->table_lock);
    for (unsigned i = 0; i < c->n_shards; i++) {
        sr_shard *s = &c->shards[i];
        u->entries += s->entries;
        u->bytes += s->bytes;
        u->evictions += atomic_load_explicit(&s->evictions, memory_order_relaxed);
        u->uncacheable += atomic_load_explicit(&s->uncacheable, memory_order_relaxed);
    }
    brlock_read_unlock(&c->table_lock, stripe);
}
