/*
 * eo_replay.c — read an intent's ranges again (eo_replay.h). Runs on the
 * consumer thread, inside the assignment, before the partitions start.
 */
#include "sink/eo_replay.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/log.h>

#include "app/kafka_conf.h"
#include "common/clock.h"

static rd_kafka_t *reader_new(const eo_replay_source *src, sluice_error *err)
{
    char group[512];
    snprintf(group, sizeof group, "%s.replay", src->group_id);
    const kafka_setting forced[] = {
        {"group.id", group}, /* never joined, never committed: assign() only */
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"auto.offset.reset", "error"},
    };
    const kafka_setting defaults[] = {{"client.id", "sluice-sink-replay"}};
    rd_kafka_conf_t *conf = kafka_conf_new(src->brokers, src->properties, forced,
                                           sizeof forced / sizeof forced[0], defaults, 1, err);
    if (!conf) return NULL;
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!rk) {
        sluice_error_set(err, SLUICE_ECONFIG, "kafka replay reader: %s", why);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static size_t member_index(const eo_intent *in, int32_t partition)
{
    const eo_member *m = eo_intent_member(in, partition);
    return m ? (size_t)(m - in->members) : SIZE_MAX;
}

int eo_replay_read(const eo_replay_source *src, const eo_intent *in, const uint32_t *slots,
                   const uint32_t *gens, batch *b, size_t *missing, sluice_error *err)
{
    *missing = 0;
    rd_kafka_t *rk = reader_new(src, err);
    if (!rk) return err->code;
    size_t n = in->n_members, left = n;
    char *done = calloc(n ? n : 1, 1), *short_ = calloc(n ? n : 1, 1);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, src->topic, in->members[i].partition)->offset =
            in->members[i].first;
    int rc = done && short_ ? 0 : sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    rd_kafka_resp_err_t e = rc ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_assign(rk, l);
    if (e) rc = sluice_error_set(err, SLUICE_EIO, "replay assign: %s", rd_kafka_err2str(e));
    int64_t deadline = clock_mono_ms() + src->timeout_ms;
    while (rc == 0 && left > 0) {
        if (clock_mono_ms() > deadline) {
            rc = sluice_error_set(err, SLUICE_ETIMEDOUT,
                                  "replay: %zu of %zu ranges not read within %lld ms", left, n,
                                  (long long)src->timeout_ms);
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        size_t i = member_index(in, m->partition);
        if (i == SIZE_MAX || done[i]) {
            rd_kafka_message_destroy(m);
            continue;
        }
        const eo_member *mem = &in->members[i];
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* The log ends before the range does: nothing more will come. */
            if (m->offset < mem->end) short_[i] = 1;
            done[i] = 1;
            left--;
        } else if (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
                   m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
            /* The range's start is gone (retention): read what is left. */
            short_[i] = 1;
            int64_t lo = 0, hi = 0;
            if (rd_kafka_query_watermark_offsets(rk, src->topic, mem->partition, &lo, &hi, 5000) ==
                    0 &&
                lo < mem->end && lo > mem->first) {
                rd_kafka_topic_partition_list_t *s = rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(s, src->topic, mem->partition)->offset = lo;
                rd_kafka_error_t *se = rd_kafka_seek_partitions(rk, s, 5000);
                if (se) rd_kafka_error_destroy(se);
                rd_kafka_topic_partition_list_destroy(s);
            } else {
                done[i] = 1;
                left--;
            }
        } else if (m->err) {
            sluice_log(SLUICE_LOG_WARN, "sink", "replay read error", "error",
                       rd_kafka_message_errstr(m), (char *)0);
        } else if (m->offset >= mem->first && m->offset < mem->end) {
            rd_kafka_timestamp_type_t tt;
            int64_t ts = rd_kafka_message_timestamp(m, &tt);
            if (!batch_add(b, slots[i], m->partition, gens[i], m->offset, ts, m->key, m->key_len,
                           m->payload, m->len))
                rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
            if (m->offset + 1 >= mem->end) {
                done[i] = 1;
                left--;
            }
        } else if (m->offset >= mem->end) {
            done[i] = 1;
            left--;
        }
        rd_kafka_message_destroy(m);
    }
    /* Every member has its range, ending where the intent says. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const eo_member *mem = &in->members[i];
        batch_range *r = NULL;
        for (size_t k = 0; k < b->n_ranges && !r; k++)
            if (b->ranges[k].partition == mem->partition) r = &b->ranges[k];
        if (!r) {
            batch_range *grown = realloc(b->ranges, (b->n_ranges + 1) * sizeof *grown);
            if (!grown) {
                rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
                break;
            }
            b->ranges = grown;
            b->cap_ranges = b->n_ranges + 1;
            r = &b->ranges[b->n_ranges++];
            *r = (batch_range){.part = slots[i],
                               .partition = mem->partition,
                               .generation = gens[i],
                               .first = mem->first,
                               .last = mem->end - 1};
            short_[i] = 1;
        }
        r->first = mem->first;
        r->end = mem->end;
        if (short_[i]) (*missing)++;
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_assign(rk, NULL);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(done);
    free(short_);
    if (rc == 0 && *missing)
        rc = sluice_error_set(err, SLUICE_ENOTFOUND,
                              "%zu of %zu ranges are no longer whole in Kafka", *missing, n);
    return rc;
}
