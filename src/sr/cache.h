/*
 * cache.h — the registry client's cache: sharded, bounded, with TTLs, a
 * negative cache and single-flight fetches.
 *
 * Keys are (kind, bytes). Values are sr_schema references. Each shard has
 *   - a read/write lock over its hash table: lookups take it shared, so hits
 *     from many threads proceed together; only inserts/evictions take it
 *     exclusively, for the few hundred nanoseconds an insert lasts;
 *   - a mutex over its in-flight fetches (single-flight), never held while
 *     fetching: the first caller to miss a key becomes the leader and
 *     fetches with no lock held; later callers for the same key wait on the
 *     flight's condition variable and share its result or its error.
 * Lock order: flight mutex, then table lock (a waiter re-checks the table
 * while holding the flight mutex, so a fetch that finishes between its miss
 * and its wait is never repeated). The leader inserts into the table before
 * it publishes the flight's result, with neither lock held across the other.
 *
 * Bounds: entries and bytes, split evenly across shards; eviction is CLOCK
 * (a hit sets a referenced bit with a relaxed store — no write lock on the
 * hit path — and the hand skips referenced entries once), an approximation
 * of LRU that keeps hits read-only.
 */
#ifndef SLUICE_SR_CACHE_H
#define SLUICE_SR_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#include "sr/schema_obj.h"

typedef struct sr_cache sr_cache;

enum sr_kind {
    SR_KIND_ID = 1,      /* key: int32 id */
    SR_KIND_VERSION = 2, /* key: subject \0 version */
    SR_KIND_SCHEMA = 3,  /* key: subject \0 type \0 schema text (register/lookup) */
    SR_KIND_LATEST = 4,  /* key: subject */
};

typedef enum sr_outcome {
    SR_HIT,          /* answered from the table */
    SR_NEGATIVE_HIT, /* answered by a cached not-found */
    SR_FETCHED,      /* this caller led the fetch */
    SR_COALESCED,    /* this caller waited for another caller's fetch */
} sr_outcome;

/* A fetch returns 0 with *value (one reference, handed to the cache) and
 * *ttl_ms (0 = never expires, < 0 = do not cache), or an error. A
 * SLUICE_ENOTFOUND error is cached as a negative entry for negative_ttl_ms. */
typedef int (*sr_fetch_fn)(void *ctx, sr_schema **value, int64_t *ttl_ms, sluice_error *err);

typedef struct sr_cache_config {
    size_t max_entries;
    size_t max_bytes;
    int64_t negative_ttl_ms;
} sr_cache_config;

int sr_cache_new(const sr_cache_config *cfg, sr_cache **out);
void sr_cache_free(sr_cache *c);

/* Look (kind, key) up; on a miss (or always, with bypass) fetch it through
 * single-flight. On success *out holds one reference for the caller. */
int sr_cache_get(sr_cache *c, int kind, const void *key, size_t klen, int bypass, sr_fetch_fn fetch,
                 void *ctx, sr_schema **out, sr_outcome *outcome, sluice_error *err);

/* Insert or replace (kind, key) -> value (the cache takes its own reference). */
void sr_cache_put(sr_cache *c, int kind, const void *key, size_t klen, sr_schema *value,
                  int64_t ttl_ms);

/* Remove every entry of one kind, or of all kinds when kind == 0. */
void sr_cache_clear(sr_cache *c, int kind);

typedef struct sr_cache_usage {
    uint64_t entries, bytes, evictions, uncacheable;
} sr_cache_usage;
void sr_cache_get_usage(sr_cache *c, sr_cache_usage *u);

#endif
