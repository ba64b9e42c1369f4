/*
 * brlock.h — a "big-reader" lock: many readers that must not share a cache
 * line, and rare writers.
 *
 * A plain rwlock makes every reader do an atomic add on one shared word, so
 * readers on different cores ping-pong that line even though they never wait
 * for each other. Here each thread read-locks only its own stripe (one
 * rwlock per stripe_index(), each on its own cache line), so concurrent
 * readers touch disjoint lines; a writer takes every stripe in order. Use it
 * where reads outnumber writes by orders of magnitude (the registry client's
 * cache: a write is an insert after an HTTP fetch). Writers prefer over
 * readers so an insert is never starved by a stream of hits.
 */
#ifndef SLUICE_COMMON_BRLOCK_H
#define SLUICE_COMMON_BRLOCK_H

#include <pthread.h>

#include "common/stripe.h"

typedef struct brlock {
    struct {
        _Alignas(64) pthread_rwlock_t lock;
    } stripe[STRIPE_COUNT];
} brlock;

void brlock_init(brlock *b);
void brlock_destroy(brlock *b);
void brlock_write_lock(brlock *b);
void brlock_write_unlock(brlock *b);

/* Returns the stripe to pass to brlock_read_unlock. */
static inline unsigned brlock_read_lock(brlock *b)
{
    unsigned i = stripe_index();
    pthread_rwlock_rdlock(&b->stripe[i].lock);
    return i;
}

static inline void brlock_read_unlock(brlock *b, unsigned stripe)
{
    pthread_rwlock_unlock(&b->stripe[stripe].lock);
}

#endif
