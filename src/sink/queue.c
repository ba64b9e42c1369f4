/*
 * queue.c — see queue.h. The mutex is held only to link or unlink a batch.
 */
#include "sink/queue.h"

#include <sluice/error.h>

void wq_init(work_queue *q, uint64_t max_bytes)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->head = q->tail = NULL;
    q->max_bytes = max_bytes;
    q->closed = 0;
    atomic_init(&q->m_depth, 0);
    atomic_init(&q->m_bytes, 0);
}

void wq_destroy(work_queue *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

int wq_try_push(work_queue *q, batch *b)
{
    pthread_mutex_lock(&q->mu);
    uint64_t bytes = atomic_load_explicit(&q->m_bytes, memory_order_relaxed);
    if (q->head && bytes + b->bytes > q->max_bytes) {
        pthread_mutex_unlock(&q->mu);
        return SLUICE_EFULL;
    }
    b->next = NULL;
    if (q->tail)
        q->tail->next = b;
    else
        q->head = b;
    q->tail = b;
    atomic_store_explicit(&q->m_bytes, bytes + b->bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&q->m_depth, 1, memory_order_relaxed);
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

batch *wq_pop(work_queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->closed)
        pthread_cond_wait(&q->cv, &q->mu);
    batch *b = q->head;
    if (b) {
        q->head = b->next;
        if (!q->head) q->tail = NULL;
        b->next = NULL;
        atomic_fetch_sub_explicit(&q->m_bytes, b->bytes, memory_order_relaxed);
        atomic_fetch_sub_explicit(&q->m_depth, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&q->mu);
    return b;
}

void wq_close(work_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}
