/*
 * eo.h — exactly-once delivery: the intent a batch leaves in Kafka before
 * its INSERT, and the decision whether a route's table can have it.
 *
 * The mechanism (docs/ARCHITECTURE.md, "Exactly-once"): before a batch of
 * an exactly-once route is inserted, the writer commits, for every
 * partition in it, the batch's first offset of that partition together
 * with an intent in the commit's metadata — the whole composition of the
 * batch (every member partition's offset range), the time its derived
 * columns use, the reader schema and a hash of the table's columns. After
 * the INSERT it commits the end offsets with empty metadata. Whoever finds
 * an intent next to a committed offset (a restart after kill -9, the next
 * owner after a rebalance) reads the same ranges again, decodes them the
 * same way and inserts the same block, which the server ignores if the
 * first INSERT landed (ReplicatedMergeTree's block hashes).
 *
 * Everything here is pure: text in, text out; the unit tests and a fuzz
 * target drive it.
 */
#ifndef SLUICE_SINK_EO_H
#define SLUICE_SINK_EO_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#include "codec/plan.h"

/* Kafka's offset.metadata.max.bytes is 4096 by default; stay under it. */
#define EO_METADATA_MAX 4000
/* What the consumer lets an open batch's member list grow to: the header
 * takes at most ~120 bytes of the metadata. */
#define EO_MEMBERS_MAX_BYTES 3800

typedef struct eo_member {
    int32_t partition;
    int64_t first; /* the first offset of the partition in the batch */
    int64_t end;   /* one past its last */
} eo_member;

typedef struct eo_intent {
    uint64_t block;            /* random id of the batch (logs; insert_deduplication_token) */
    int64_t now_s;             /* what now() is for the batch's derived columns */
    int32_t reader_id;         /* the reader schema's id, -1 for none (JSON) */
    uint64_t cols_hash;        /* eo_columns_hash of the table's columns when decoded */
    uint64_t max_insert_bytes; /* where the writer cut the rows into INSERTs */
    eo_member *members;        /* sorted by partition, distinct */
    size_t n_members;
} eo_intent;

/* The metadata text: "sluice-eo1 b=<hex> t=<s> r=<id> h=<hex> m=<bytes>
 * p=<partition>:<first>+<count>,...". SLUICE_ERANGE if it is longer than
 * cap - 1 (it is NUL-terminated). */
int eo_intent_format(const eo_intent *in, char *out, size_t cap, size_t *len, sluice_error *err);

/* Parse metadata. Returns 0 with the intent (members into the caller's
 * array of `cap`), SLUICE_ENOTFOUND for metadata that is not an intent
 * (empty, or another tool's), SLUICE_EPARSE naming the place for an
 * intent that is damaged. */
int eo_intent_parse(const char *text, size_t len, eo_intent *out, eo_member *members, size_t cap,
                    sluice_error *err);

/* The member entry for `partition`, or NULL. */
const eo_member *eo_intent_member(const eo_intent *in, int32_t partition);

/* Bytes a member entry takes in the metadata at most, knowing its first
 * offset (the count is not known while the batch is open). */
size_t eo_member_bytes_max(int32_t partition, int64_t first);

/* FNV-1a over the insertable columns' names and types, in table order:
 * what a replay checks before trusting that it builds the same block. */
uint64_t eo_columns_hash(const plan_column *cols, size_t n);

/* What the sink knows of a route's table (ch_http's probe). */
typedef struct eo_table_facts {
    const char *version;      /* SELECT version() */
    const char *engine;       /* system.tables.engine */
    const char *engine_full;  /* system.tables.engine_full */
    const char *local_engine; /* for a Distributed table: its local table's engine, or NULL */
    int insert_deduplicate;   /* system.settings, with the sink's settings applied */
    int64_t dedup_window;     /* replicated_deduplication_window in effect (-1 unknown) */
    /* columns the server fills itself: name and DEFAULT/MATERIALIZED expression */
    const char *const *default_names;
    const char *const *default_exprs;
    const int *default_materialized; /* 1 MATERIALIZED, 0 DEFAULT */
    size_t n_defaults;
    /* the route's derived columns (sluice fills them, with the batch's now()) */
    const char *const *derived;
    size_t n_derived;
} eo_table_facts;

typedef struct eo_verdict {
    int exactly_once;
    char reason[512]; /* why, in a sentence for the startup log and check-config */
} eo_verdict;

void eo_decide(const eo_table_facts *f, eo_verdict *out);

/* Does a ClickHouse expression call a function whose value differs
 * between two INSERTs of the same rows (now(), rand(), hostName(), ...)?
 * Returns its name (static), or NULL. */
const char *eo_nondeterministic(const char *expr);

#endif
