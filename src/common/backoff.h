/*
 * backoff.h — exponential backoff with full jitter, shared by every retry
 * loop in sluice (registry client, ClickHouse writer, ...).
 *
 * Attempt n (1-based) waits a uniformly random time in [0, min(max, initial *
 * 2^(n-1))]: "full jitter", which spreads retries of many clients so that a
 * recovering server is not hit by all of them at once.
 */
#ifndef SLUICE_COMMON_BACKOFF_H
#define SLUICE_COMMON_BACKOFF_H

#include <stdint.h>

/* The upper bound of the wait before retry `attempt` (1-based), in ms. */
int64_t backoff_ceiling_ms(int attempt, int64_t initial_ms, int64_t max_ms);

/* A random wait in [0, ceiling]; `rng` is per-caller state (seed it once
 * with backoff_seed()). */
int64_t backoff_delay_ms(int attempt, int64_t initial_ms, int64_t max_ms, uint64_t *rng);

uint64_t backoff_seed(void);

#endif
