/*
 * brlock.c — init/destroy and the writer side of the big-reader lock
 * (brlock.h). Writers lock stripes in index order, so two writers cannot
 * deadlock.
 */
#include "common/brlock.h"

void brlock_init(brlock *b)
{
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    for (int i = 0; i < STRIPE_COUNT; i++)
        pthread_rwlock_init(&b->stripe[i].lock, &ra);
    pthread_rwlockattr_destroy(&ra);
}

void brlock_destroy(brlock *b)
{
    for (int i = 0; i < STRIPE_COUNT; i++)
        pthread_rwlock_destroy(&b->stripe[i].lock);
}

void brlock_write_lock(brlock *b)
{
    for (int i = 0; i < STRIPE_COUNT; i++)
        pthread_rwlock_wrlock(&b->stripe[i].lock);
}

void brlock_write_unlock(brlock *b)
{
    for (int i = STRIPE_COUNT - 1; i >= 0; i--)
        pthread_rwlock_unlock(&b->stripe[i].lock);
}
