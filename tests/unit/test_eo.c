/*
 * test_eo.c — exactly-once's pure parts: intents written and read back
 * (and damaged ones refused with a place), the member-size bound the
 * consumer closes batches on, the decision per table (every branch with a
 * table ClickHouse could report), the search for server-side functions
 * whose value changes between INSERTs, the engine_full readers, and batch
 * determinism: the same offsets arriving in other interleavings make
 * byte-identical blocks.
 */
#include "test.h"

#include "codec/ch_type.h"
#include "codec/plan.h"
#include "sink/batch.h"
#include "sink/eo.h"
#include "sink/table_probe.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_intent_round_trip(void)
{
    eo_member m[3] = {{0, 10, 25}, {3, 0, 1}, {17, 123456789012LL, 123456789112LL}};
    eo_intent in = {.block = 0xdeadbeef01234567ULL,
                    .now_s = 1796600000,
                    .reader_id = 42,
                    .cols_hash = 0x0123456789abcdefULL,
                    .max_insert_bytes = 50331648,
                    .members = m,
                    .n_members = 3};
    char text[EO_METADATA_MAX];
    size_t len = 0;
    sluice_error err;
    CHECK_EQ(eo_intent_format(&in, text, sizeof text, &len, &err), 0);
    CHECK_EQ(len, strlen(text));
    CHECK_STR(text, "sluice-eo1 b=deadbeef01234567 t=1796600000 r=42 h=0123456789abcdef "
                    "m=50331648 p=0:10+15,3:0+1,17:123456789012+100");
    eo_member back[8];
    eo_intent out;
    CHECK_EQ(eo_intent_parse(text, len, &out, back, 8, &err), 0);
    CHECK_EQ(out.block, in.block);
    CHECK_EQ(out.now_s, in.now_s);
    CHECK_EQ(out.reader_id, 42);
    CHECK_EQ(out.cols_hash, in.cols_hash);
    CHECK_EQ(out.max_insert_bytes, in.max_insert_bytes);
    CHECK_EQ(out.n_members, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(back[i].partition, m[i].partition);
        CHECK_EQ(back[i].first, m[i].first);
        CHECK_EQ(back[i].end, m[i].end);
    }
    CHECK(eo_intent_member(&out, 3) == &back[1]);
    CHECK(eo_intent_member(&out, 17) == &back[2]);
    CHECK(eo_intent_member(&out, 4) == NULL);
    /* No reader schema (JSON) is -1. */
    in.reader_id = -1;
    CHECK_EQ(eo_intent_format(&in, text, sizeof text, &len, &err), 0);
    CHECK_EQ(eo_intent_parse(text, len, &out, back, 8, &err), 0);
    CHECK_EQ(out.reader_id, -1);
    /* Too long for the buffer: an error, never a cut intent. */
    CHECK_EQ(eo_intent_format(&in, text, 40, &len, &err), SLUICE_ERANGE);
    CHECK_CONTAINS(err.msg, "does not fit");
}

static void test_intent_refusals(void)
{
    eo_member back[4];
    eo_intent out;
    sluice_error err;
    /* Not ours: empty, or another tool's metadata. */
    CHECK_EQ(eo_intent_parse("", 0, &out, back, 4, &err), SLUICE_ENOTFOUND);
    CHECK_EQ(eo_intent_parse("kafka-connect", 13, &out, back, 4, &err), SLUICE_ENOTFOUND);
    static const struct {
        const char *text;
        const char *says;
    } bad[] = {
        {"sluice-eo1 ", "byte 11: expected 'b='"},
        {"sluice-eo1 b=xyz t=1", "byte 13: expected a hex number"},
        {"sluice-eo1 b=1 t=1 r=-2 h=1 m=1 p=0:0+1", "byte 22: number out of range"},
        {"sluice-eo1 b=1 t=1 r=1 h=1 m=1 p=", "expected a number"},
        {"sluice-eo1 b=1 t=1 r=1 h=1 m=1 p=0:5+0", "empty offset range"},
        {"sluice-eo1 b=1 t=1 r=1 h=1 m=1 p=3:0+1,3:1+1", "partitions out of order"},
        {"sluice-eo1 b=1 t=1 r=1 h=1 m=1 p=3:0+1,2:1+1", "partitions out of order"},
        {"sluice-eo1 b=1 t=1 r=1 h=1 m=1 p=0:0+1,", "expected a number"},
        {"sluice-eo1 b=1 t=1 r=1 h=1 m=1 p=0:0+1 ", "expected ','"},
        {"sluice-eo1 b=1 t=1 r=1 h=1 m=1 p=0:9223372036854775807+1", "number out of range"},
        {"sluice-eo1 b=1 t=1 r=1 h=1 m=1 p=0:0+1,1:0+1,2:0+1,3:0+1,4:0+1", "too many partitions"},
        {"sluice-eo1 b=10000000000000000 t=1", "number out of range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = eo_intent_parse(bad[i].text, strlen(bad[i].text), &out, back, 4, &err);
        if (rc != SLUICE_EPARSE) fprintf(stderr, "accepted: %s\n", bad[i].text);
        CHECK_EQ(rc, SLUICE_EPARSE);
        CHECK_CONTAINS(err.msg, bad[i].says);
    }
    /* Every prefix of a good intent is refused or read whole: no reads
     * past the end (ASan watches). */
    const char *good = "sluice-eo1 b=ff t=-5 r=7 h=a m=9 p=1:2+3,4:5+6";
    for (size_t n = 0; n <= strlen(good); n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, good, n);
        int rc = eo_intent_parse(copy, n, &out, back, 4, &err);
        CHECK(rc == 0 || rc == SLUICE_EPARSE || rc == SLUICE_ENOTFOUND);
        if (n == strlen(good)) {
            CHECK_EQ(rc, 0);
            CHECK_EQ(out.now_s, -5);
        }
        free(copy);
    }
}

static void test_member_bytes_bound(void)
{
    /* The consumer's estimate is never below what the intent takes. */
    eo_member m[200];
    size_t est = 0;
    for (int i = 0; i < 200; i++) {
        m[i] = (eo_member){i * 7, (int64_t)i * 1000003, (int64_t)i * 1000003 + 999999999};
        est += eo_member_bytes_max(m[i].partition, m[i].first);
        eo_intent in = {.block = UINT64_MAX,
                        .now_s = INT64_MAX,
                        .reader_id = INT32_MAX,
                        .cols_hash = UINT64_MAX,
                        .max_insert_bytes = UINT64_MAX,
                        .members = m,
                        .n_members = (size_t)i + 1};
        char text[16384];
        size_t len;
        sluice_error err;
        CHECK_EQ(eo_intent_format(&in, text, sizeof text, &len, &err), 0);
        size_t header = strlen("sluice-eo1 b= t= r= h= m= p=") + 16 + 19 + 10 + 16 + 20;
        CHECK(len <= header + est);
        /* and a batch the consumer would still extend fits the metadata */
        if (est + eo_member_bytes_max(INT32_MAX, INT64_MAX) <= EO_MEMBERS_MAX_BYTES)
            CHECK(len + eo_member_bytes_max(INT32_MAX, INT64_MAX) < EO_METADATA_MAX);
    }
}

static void test_nondeterministic(void)
{
    CHECK_STR(eo_nondeterministic("now()"), "now");
    CHECK_STR(eo_nondeterministic("toDate(now())"), "now");
    CHECK_STR(eo_nondeterministic("rand() % 10"), "rand");
    CHECK_STR(eo_nondeterministic("generateUUIDv4 ()"), "generateUUIDv4");
    CHECK_STR(eo_nondeterministic("concat(hostName(), 'x')"), "hostName");
    CHECK_STR(eo_nondeterministic("TODAY()"), "today");
    CHECK(eo_nondeterministic("toDate(ts)") == NULL);
    CHECK(eo_nondeterministic("cityHash64(user_id)") == NULL);
    CHECK(eo_nondeterministic("nowhere + 1") == NULL); /* a column, not a call */
    CHECK(eo_nondeterministic("snow()") == NULL);      /* another function */
    /* inside a string literal it is still flagged: wrong on the safe side */
    CHECK_STR(eo_nondeterministic("concat('now()', x)"), "now");
    CHECK(eo_nondeterministic("my_rand(x)") == NULL);
    CHECK(eo_nondeterministic(NULL) == NULL);
    CHECK(eo_nondeterministic("") == NULL);
}

static eo_table_facts facts(const char *version, const char *engine)
{
    return (eo_table_facts){
        .version = version, .engine = engine, .insert_deduplicate = 1, .dedup_window = 100};
}

static void test_decide(void)
{
    eo_verdict v;
    eo_table_facts f = facts("18.16.1", "ReplicatedMergeTree");
    eo_decide(&f, &v);
    CHECK(v.exactly_once);
    CHECK_CONTAINS(v.reason, "window 100 blocks");
    f.engine = "ReplicatedReplacingMergeTree";
    eo_decide(&f, &v);
    CHECK(v.exactly_once);

    f = facts("18.16.1", "MergeTree");
    f.dedup_window = 0;
    eo_decide(&f, &v);
    CHECK(!v.exactly_once);
    CHECK_CONTAINS(v.reason, "21.5");
    f = facts("23.8.2.7", "MergeTree");
    f.dedup_window = 0;
    eo_decide(&f, &v);
    CHECK(!v.exactly_once);
    CHECK_CONTAINS(v.reason, "non_replicated_deduplication_window = 0");
    f.dedup_window = 100;
    eo_decide(&f, &v);
    CHECK(v.exactly_once);

    f = facts("18.16.1", "ReplicatedMergeTree");
    f.insert_deduplicate = 0;
    eo_decide(&f, &v);
    CHECK(!v.exactly_once);
    CHECK_CONTAINS(v.reason, "insert_deduplicate is 0");
    f = facts("18.16.1", "ReplicatedMergeTree");
    f.dedup_window = 0;
    eo_decide(&f, &v);
    CHECK(!v.exactly_once);

    f = facts("18.16.1", "Memory");
    eo_decide(&f, &v);
    CHECK(!v.exactly_once);
    CHECK_CONTAINS(v.reason, "engine Memory");

    f = facts("18.16.1", "Distributed");
    f.engine_full = "Distributed(sluice, default, events_local)";
    f.local_engine = "ReplicatedMergeTree";
    eo_decide(&f, &v);
    CHECK(v.exactly_once);
    f.engine_full = "Distributed(sluice, default, events_local, rand())";
    eo_decide(&f, &v);
    CHECK(!v.exactly_once);
    CHECK_CONTAINS(v.reason, "shards by rand()");
    f.engine_full = "Distributed(sluice, default, events_local, cityHash64(user))";
    eo_decide(&f, &v);
    CHECK(v.exactly_once);
    f.local_engine = "MergeTree";
    eo_decide(&f, &v);
    CHECK(!v.exactly_once);
    CHECK_CONTAINS(v.reason, "local table is MergeTree");

    /* Columns the server fills at INSERT time. */
    const char *names[] = {"day", "inserted_at"};
    const char *exprs[] = {"toDate(ts)", "now()"};
    int mat[] = {1, 0};
    f = facts("18.16.1", "ReplicatedMergeTree");
    f.default_names = names;
    f.default_exprs = exprs;
    f.default_materialized = mat;
    f.n_defaults = 2;
    eo_decide(&f, &v);
    CHECK(!v.exactly_once);
    CHECK_CONTAINS(v.reason, "inserted_at DEFAULT now()");
    CHECK_CONTAINS(v.reason, "transform.columns");
    const char *derived[] = {"inserted_at"};
    f.derived = derived;
    f.n_derived = 1;
    eo_decide(&f, &v);
    CHECK(v.exactly_once);
    mat[1] = 1;
    eo_decide(&f, &v); /* MATERIALIZED cannot be filled by the client */
    CHECK(!v.exactly_once);
    CHECK_CONTAINS(v.reason, "MATERIALIZED now()");
}

static void test_engine_full_readers(void)
{
    const char *full = "ReplicatedMergeTree('/clickhouse/tables/{shard}/t', '{replica}') "
                       "ORDER BY id SETTINGS index_granularity = 8192, "
                       "replicated_deduplication_window = 1000, "
                       "replicated_deduplication_window_seconds = 3600";
    CHECK_EQ(table_probe_engine_setting(full, "replicated_deduplication_window"), 1000);
    CHECK_EQ(table_probe_engine_setting(full, "replicated_deduplication_window_seconds"), 3600);
    CHECK_EQ(table_probe_engine_setting(full, "non_replicated_deduplication_window"), -1);
    CHECK_EQ(table_probe_engine_setting("MergeTree ORDER BY id", "index_granularity"), -1);
    CHECK_EQ(table_probe_engine_setting(NULL, "x"), -1);
    char local[256];
    CHECK_EQ(table_probe_distributed_local("Distributed(sluice, default, events_local)", local,
                                           sizeof local),
             0);
    CHECK_STR(local, "default.events_local");
    CHECK_EQ(
        table_probe_distributed_local("Distributed('c', 'db', 't', rand())", local, sizeof local),
        0);
    CHECK_STR(local, "db.t");
    CHECK_EQ(table_probe_distributed_local("Distributed(c)", local, sizeof local), -1);
    CHECK_EQ(table_probe_distributed_local("MergeTree", local, sizeof local), -1);
}

static void test_columns_hash(void)
{
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    const ch_type *u64, *str;
    sluice_error err;
    CHECK_EQ(ch_type_parse("UInt64", &a, &u64, &err), 0);
    CHECK_EQ(ch_type_parse("String", &a, &str, &err), 0);
    plan_column c1[] = {{"id", u64, 0, 1, NULL, NULL}, {"name", str, 0, 1, NULL, NULL}};
    plan_column c2[] = {{"id", u64, 0, 1, NULL, NULL},
                        {"name", str, 0, 1, NULL, NULL},
                        {"extra", str, 1, 1, NULL, NULL}};
    plan_column c3[] = {{"id", str, 0, 1, NULL, NULL}, {"name", str, 0, 1, NULL, NULL}};
    plan_column c4[] = {{"id", u64, 0, 1, NULL, NULL},
                        {"name", str, 0, 1, NULL, NULL},
                        {"alias", str, 0, 0, NULL, NULL}};
    CHECK(eo_columns_hash(c1, 2) == eo_columns_hash(c1, 2));
    CHECK(eo_columns_hash(c1, 2) != eo_columns_hash(c2, 3)); /* a column added */
    CHECK(eo_columns_hash(c1, 2) != eo_columns_hash(c3, 2)); /* a type changed */
    CHECK(eo_columns_hash(c1, 2) == eo_columns_hash(c4, 3)); /* not insertable: not written */
    arena_free(&a);
}

/* The same messages, interleaved differently by partition, sorted: the
 * same order; encoded with the same plan and time: the same bytes. */
static void test_batch_determinism(void)
{
    arena a;
    arena_init(&a, 4096, SIZE_MAX);
    const ch_type *u64, *str, *dt;
    sluice_error err;
    CHECK_EQ(ch_type_parse("UInt64", &a, &u64, &err), 0);
    CHECK_EQ(ch_type_parse("String", &a, &str, &err), 0);
    CHECK_EQ(ch_type_parse("DateTime", &a, &dt, &err), 0);
    plan_column cols[] = {{"id", u64, 0, 1, NULL, NULL},
                          {"name", str, 0, 1, NULL, NULL},
                          {"at", dt, 0, 1, NULL, NULL}};
    plan_derived derived[] = {{"at", "now()"}};
    plan_options opt = {.separator = '.', .derived = derived, .n_derived = 1};
    plan *p;
    CHECK_EQ(plan_compile_json(cols, 3, &opt, &p, &err), 0);
    plan_state *st = plan_state_new(p);
    CHECK(st != NULL);

    enum { PARTS = 5, PER = 40 };
    buf out[3];
    uint64_t seed = 12345;
    for (int round = 0; round < 3; round++) {
        batch *b = batch_new(1, 0, 0);
        /* round 0: partition by partition; 1, 2: random interleavings */
        int next[PARTS] = {0};
        int left = PARTS * PER;
        while (left > 0) {
            int part;
            if (round == 0) {
                part = 0;
                while (next[part] == PER)
                    part++;
            } else {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                part = (int)((seed >> 33) % PARTS);
                if (next[part] == PER) continue;
            }
            char v[128];
            int off = next[part]++;
            int n = snprintf(v, sizeof v, "{\"id\":%d,\"name\":\"p%d-o%d\"}", part * 1000 + off,
                             part, off);
            CHECK(batch_add(b, (uint32_t)part, part, 1, 100 + off, 0, NULL, 0, v, (size_t)n) > 0);
            left--;
        }
        batch_sort(b);
        buf_init(&out[round], SIZE_MAX);
        for (size_t i = 0; i < b->n_msgs; i++) {
            plan_result res;
            CHECK_EQ(plan_run(p, st, b->msgs[i].value, b->msgs[i].value_len, 1796600000,
                              &out[round], &res, &err),
                     0);
        }
        CHECK_EQ(b->n_ranges, PARTS);
        for (size_t i = 0; i < b->n_ranges; i++) {
            CHECK_EQ(b->ranges[i].partition, (int32_t)i); /* sorted too */
            CHECK_EQ(b->ranges[i].first, 100);
            CHECK_EQ(b->ranges[i].end, 100 + PER);
        }
        batch_free(b);
    }
    CHECK(out[0].len > 0);
    CHECK_EQ(out[1].len, out[0].len);
    CHECK_EQ(out[2].len, out[0].len);
    CHECK(memcmp(out[0].data, out[1].data, out[0].len) == 0);
    CHECK(memcmp(out[0].data, out[2].data, out[0].len) == 0);
    for (int i = 0; i < 3; i++)
        buf_free(&out[i]);
    plan_state_free(st);
    plan_free(p);
    arena_free(&a);
}

TEST_MAIN(T(test_intent_round_trip), T(test_intent_refusals), T(test_member_bytes_bound),
          T(test_nondeterministic), T(test_decide), T(test_engine_full_readers),
          T(test_columns_hash), T(test_batch_determinism))
