/*
 * stripe.h — counters that many threads bump on a hot path.
 *
 * One shared atomic counter makes every increment fight over one cache line;
 * on a cache hit path that is the dominant cost. A striped counter gives each
 * thread (round-robin over STRIPE_COUNT padded slots) its own line; a read
 * sums the slots, which only the metrics renderer and stats calls do.
 */
#ifndef SLUICE_COMMON_STRIPE_H
#define SLUICE_COMMON_STRIPE_H

#include <stdatomic.h>
#include <stdint.h>

#define STRIPE_COUNT 16

typedef struct striped_counter {
    struct {
        _Alignas(64) _Atomic uint64_t v; /* each slot starts its own cache line */
        char pad[64 - sizeof(uint64_t)];
    } slot[STRIPE_COUNT];
} striped_counter;

/* This thread's slot index, assigned on first use. */
unsigned stripe_index(void);

static inline void striped_add(striped_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->slot[stripe_index()].v, n, memory_order_relaxed);
}

static inline uint64_t striped_sum(const striped_counter *c)
{
    uint64_t s = 0;
    for (int i = 0; i < STRIPE_COUNT; i++)
        s += atomic_load_explicit(&c->slot[i].v, memory_order_relaxed);
    return s;
}

#endif
