/*
 * acks.c — the writers' way back to the consumer (see acks.h).
 */
#include "sink/acks.h"

#include <stddef.h>

void acks_init(acks *a)
{
    pthread_mutex_init(&a->mu, NULL);
    a->head = a->tail = NULL;
}

void acks_destroy(acks *a)
{
    for (batch *b = a->head, *next; b; b = next) {
        next = b->next;
        batch_free(b);
    }
    a->head = a->tail = NULL;
    pthread_mutex_destroy(&a->mu);
}

void acks_post(acks *a, batch *b)
{
    pthread_mutex_lock(&a->mu);
    b->next = NULL;
    if (a->tail)
        a->tail->next = b;
    else
        a->head = b;
    a->tail = b;
    pthread_mutex_unlock(&a->mu);
}

batch *acks_take(acks *a)
{
    pthread_mutex_lock(&a->mu);
    batch *b = a->head;
    a->head = a->tail = NULL;
    pthread_mutex_unlock(&a->mu);
    return b;
}
