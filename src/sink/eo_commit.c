/*
 * eo_commit.c — turns and commits of exactly-once batches (eo_commit.h).
 */
#include "sink/eo_commit.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/eo.h"

void eo_turn_wait(route_rt *r, const batch *b)
{
    pthread_mutex_lock(&r->turn_mu);
    while (r->turn != b->eo.seq)
        pthread_cond_wait(&r->turn_cv, &r->turn_mu);
    pthread_mutex_unlock(&r->turn_mu);
}

void eo_turn_pass(route_rt *r, const batch *b)
{
    pthread_mutex_lock(&r->turn_mu);
    r->turn = b->eo.seq + 1;
    pthread_cond_broadcast(&r->turn_cv);
    pthread_mutex_unlock(&r->turn_mu);
}

int eo_stale(pipeline *pl, const batch *b)
{
    return atomic_load(&pl->eo.assign) != b->eo.assign;
}

int eo_batch_intent_text(const batch *b, char *out, size_t cap, sluice_error *err)
{
    eo_member *m = calloc(b->n_ranges ? b->n_ranges : 1, sizeof *m);
    if (!m) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < b->n_ranges; i++)
        m[i] = (eo_member){b->ranges[i].partition, b->ranges[i].first, b->ranges[i].end};
    eo_intent in = {.block = b->eo.block,
                    .now_s = b->eo.now_s,
                    .reader_id = b->eo.reader_id,
                    .cols_hash = b->eo.cols_hash,
                    .max_insert_bytes = b->eo.max_insert_bytes,
                    .members = m,
                    .n_members = b->n_ranges};
    size_t len;
    int rc = eo_intent_format(&in, out, cap, &len, err);
    free(m);
    return rc;
}

/* One synchronous commit of `l`, under the assignment check. */
static int commit(pipeline *pl, const batch *b, rd_kafka_topic_partition_list_t *l,
                  sluice_error *err)
{
    int rc = EO_COMMITTED;
    pthread_mutex_lock(&pl->eo.mu);
    if (eo_stale(pl, b)) {
        rc = EO_STALE;
    } else {
        rd_kafka_resp_err_t e = rd_kafka_commit(pl->eo.rk, l, 0);
        for (int i = 0; !e && i < l->cnt; i++)
            e = l->elems[i].err;
        if (e) {
            sluice_error_set(err, SLUICE_EIO, "commit: %s", rd_kafka_err2str(e));
            rc = EO_FAILED;
        }
    }
    pthread_mutex_unlock(&pl->eo.mu);
    return rc;
}

int eo_commit_intent(pipeline *pl, const route_rt *r, const batch *b, sluice_error *err)
{
    char text[EO_METADATA_MAX];
    if (eo_batch_intent_text(b, text, sizeof text, err) != 0) return EO_FAILED;
    size_t len = strlen(text);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)b->n_ranges);
    for (size_t i = 0; i < b->n_ranges; i++) {
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_add(l, r->cfg->topic, b->ranges[i].partition);
        tp->offset = b->ranges[i].first;
        tp->metadata = malloc(len);
        if (tp->metadata) memcpy(tp->metadata, text, len);
        tp->metadata_size = tp->metadata ? len : 0;
    }
    int rc = commit(pl, b, l, err);
    rd_kafka_topic_partition_list_destroy(l); /* frees the metadata copies */
    return rc;
}

int eo_commit_done(pipeline *pl, const route_rt *r, const batch *b, sluice_error *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)b->n_ranges);
    for (size_t i = 0; i < b->n_ranges; i++)
        if (b->ranges[i].part != BATCH_NOT_OURS)
            rd_kafka_topic_partition_list_add(l, r->cfg->topic, b->ranges[i].partition)->offset =
                b->ranges[i].end;
    int rc = l->cnt ? commit(pl, b, l, err) : EO_COMMITTED;
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}
