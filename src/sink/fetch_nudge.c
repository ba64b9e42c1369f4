/*
 * fetch_nudge.c — see fetch_nudge.h.
 */
#include "sink/fetch_nudge.h"

#include <pthread.h>
#include <stdlib.h>

/* How long one ListOffsets may take before the nudge gives up on it; only
 * this thread waits for it. */
#define NUDGE_TIMEOUT_MS 1000

struct fetch_nudge {
    rd_kafka_t *rk;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rd_kafka_topic_partition_list_t *next; /* handed over, not yet taken (mu) */
    int busy;                              /* a list is handed over or being sent (mu) */
    int stop;                              /* mu */
};

static void *nudge_main(void *arg)
{
    fetch_nudge *n = arg;
    pthread_setname_np(pthread_self(), "sink-nudge");
    pthread_mutex_lock(&n->mu);
    for (;;) {
        while (!n->next && !n->stop)
            pthread_cond_wait(&n->cv, &n->mu);
        if (n->stop) break;
        rd_kafka_topic_partition_list_t *l = n->next;
        n->next = NULL;
        pthread_mutex_unlock(&n->mu);
        /* The answer is not needed: the request on its way through each
         * leader's broker thread is the point. Errors (a leader unknown,
         * the timeout) leave that broker asleep until the next nudge. */
        (void)rd_kafka_offsets_for_times(n->rk, l, NUDGE_TIMEOUT_MS);
        rd_kafka_topic_partition_list_destroy(l);
        pthread_mutex_lock(&n->mu);
        n->busy = 0;
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

fetch_nudge *fetch_nudge_start(rd_kafka_t *rk)
{
    fetch_nudge *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->rk = rk;
    if (pthread_mutex_init(&n->mu, NULL) != 0) {
        free(n);
        return NULL;
    }
    if (pthread_cond_init(&n->cv, NULL) != 0) {
        pthread_mutex_destroy(&n->mu);
        free(n);
        return NULL;
    }
    if (pthread_create(&n->thread, NULL, nudge_main, n) != 0) {
        pthread_cond_destroy(&n->cv);
        pthread_mutex_destroy(&n->mu);
        free(n);
        return NULL;
    }
    return n;
}

int fetch_nudge_post(fetch_nudge *n, rd_kafka_topic_partition_list_t *parts)
{
    pthread_mutex_lock(&n->mu);
    int take = !n->busy && !n->stop;
    if (take) {
        n->next = parts;
        n->busy = 1;
        pthread_cond_signal(&n->cv);
    }
    pthread_mutex_unlock(&n->mu);
    if (!take) rd_kafka_topic_partition_list_destroy(parts);
    return take;
}

void fetch_nudge_stop(fetch_nudge *n)
{
    if (!n) return;
    pthread_mutex_lock(&n->mu);
    n->stop = 1;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->thread, NULL);
    if (n->next) rd_kafka_topic_partition_list_destroy(n->next);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    free(n);
}
