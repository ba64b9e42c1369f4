/*
 * eo_replay.h — the consumer's side of exactly-once (eo.h): reading the
 * messages an intent names back into a batch.
 *
 * When the consumer is assigned a partition whose committed offset carries
 * an open intent, the batch it describes may or may not be in ClickHouse.
 * The member ranges are read again with a short-lived consumer of their
 * own (they may include partitions another process owns now), into a
 * batch that the writers insert like any other: the same messages, decoded
 * with the intent's reader schema and time, make the same block, which the
 * server ignores if the first INSERT landed.
 */
#ifndef SLUICE_SINK_EO_REPLAY_H
#define SLUICE_SINK_EO_REPLAY_H

#include <sluice/error.h>

#include "common/config.h"
#include "sink/batch.h"
#include "sink/eo.h"

typedef struct eo_replay_source {
    const char *brokers;
    const cfg_map *properties; /* kafka.properties */
    const char *group_id;      /* the sink's group: the reader uses "<group>.replay", never joins */
    const char *topic;
    int64_t timeout_ms; /* for reading every range */
} eo_replay_source;

/* Read every member range [first, end) of `in` into b (slots[i] and
 * gens[i]: member i's partition slot, BATCH_NOT_OURS for one owned by
 * another process, and its generation). Every member gets a range in b
 * whose end is the intent's, even with no message left in it. Returns 0
 * when every range was read whole; SLUICE_ENOTFOUND when some messages
 * are gone (retention deleted them: b has what is left, *missing how many
 * ranges were short); other codes when the ranges could not be read in
 * time (b is incomplete and must not be inserted). */
int eo_replay_read(const eo_replay_source *src, const eo_intent *in, const uint32_t *slots,
                   const uint32_t *gens, batch *b, size_t *missing, sluice_error *err);

#endif
