/*
 * acks.h — the one way back in the sink: writers post the batches they
 * finished (landed, or abandoned at shutdown), the consumer thread takes
 * them all at once each turn and turns them into offsets, released bytes
 * and resumed partitions. A batch on this list is owned by the list; taking
 * it makes the consumer its owner again (batch.h).
 *
 * The mutex is held only to link a batch or to take the whole list.
 */
#ifndef SLUICE_SINK_ACKS_H
#define SLUICE_SINK_ACKS_H

#include <pthread.h>

#include "sink/batch.h"

typedef struct acks {
    pthread_mutex_t mu;
    batch *head, *tail;
} acks;

void acks_init(acks *a);
/* Frees whatever was never taken. */
void acks_destroy(acks *a);
void acks_post(acks *a, batch *b);
/* Everything posted so far, oldest first (NULL if nothing). */
batch *acks_take(acks *a);

#endif
