/*
 * eo_commit.h — the writer's side of exactly-once (eo.h): a route's turn,
 * and the two commits around an INSERT.
 *
 * For an exactly-once route, only one batch at a time commits and
 * inserts, in the order the consumer queued them (batch.eo.seq): a
 * partition's committed offset and intent then always describe the one
 * batch that may be in ClickHouse without its end committed. Decoding is
 * not serialised: writers decode in parallel and wait for their turn only
 * to commit and insert.
 */
#ifndef SLUICE_SINK_EO_COMMIT_H
#define SLUICE_SINK_EO_COMMIT_H

#include <sluice/error.h>

#include "sink/batch.h"
#include "sink/pipeline.h"

/* Block until it is batch b's turn on its route. */
void eo_turn_wait(route_rt *r, const batch *b);
/* Hand the turn to the next batch. */
void eo_turn_pass(route_rt *r, const batch *b);

/* Was b made in an assignment that has since been revoked? */
int eo_stale(pipeline *pl, const batch *b);

enum { EO_COMMITTED = 0, EO_STALE = 1, EO_FAILED = 2 };

/* Commit, for every partition of b, its first offset with b's intent as
 * metadata. EO_STALE when b's assignment is gone (nothing committed),
 * EO_FAILED with err when Kafka refused (retry). */
int eo_commit_intent(pipeline *pl, const route_rt *r, const batch *b, sluice_error *err);
/* Commit the end offsets of b's partitions that this process owns, with
 * empty metadata. */
int eo_commit_done(pipeline *pl, const route_rt *r, const batch *b, sluice_error *err);

/* The intent of b as eo_intent_format writes it (members from its ranges). */
int eo_batch_intent_text(const batch *b, char *out, size_t cap, sluice_error *err);

#endif
