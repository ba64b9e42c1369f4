/*
 * test_mock_kafka.c — the Kafka test infrastructure itself: the
 * sluice-mock-kafka tool (tests/tools/mock_kafka.c) and the helpers of
 * tests/support/kafka.h that every Kafka test builds on.
 *
 * What it establishes, so that the sink's tests can rely on it: messages
 * come back byte-exact (keys, values, headers) under lz4 and zstd; a broker
 * that is down makes a flush fail and one that is up again lets it finish;
 * injected Produce errors are retried by the idempotent producer without a
 * duplicate, but a lost Produce response is not deduplicated by the mock;
 * committed offsets are readable without joining the group; the mock's
 * retention (5 MiB of record batches per partition, compressed size; its
 * batch-count limit never binds) is exactly what mock_kafka.c says; a
 * third-party client (kcat) talks to the same broker; and two members of
 * one group in two processes share and hand over partitions, eager and
 * cooperative-sticky.
 */
#include "test.h"

#include "kafka.h"
#include "support.h"

#include <signal.h>
#include <stdbool.h>

static char *tmp;

static void remove_workdir(void)
{
    test_rmtree(tmp);
}

static const char *workdir(void)
{
    if (!tmp) {
        tmp = test_tmpdir("sluice-mock-kafka");
        atexit(remove_workdir);
    }
    return tmp;
}

/* The bytes of message i of a run: sizes from 1 to 3000 bytes, every byte
 * value (zeros included), different for each codec. */
static size_t value_of(int i, int salt, unsigned char *out)
{
    size_t n = (size_t)((i * 37) % 3000 + 1);
    for (size_t j = 0; j < n; j++)
        out[j] = (unsigned char)(i * 131 + (int)j * 7 + salt);
    return n;
}

static const char *header(const rd_kafka_message_t *m, const char *name, size_t *len)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    if (rd_kafka_message_headers(m, &h) != 0 || rd_kafka_header_get_last(h, name, &v, len) != 0)
        return NULL;
    return v;
}

/* ---- what a reader checks ---- */

#define RUN_MESSAGES 400

typedef struct run_check {
    int salt;
    const char *codec; /* the "codec" header every message carries */
    int partitions;
    int seen[RUN_MESSAGES];
    long per_partition[16];
    int bad; /* messages that did not match, for the report */
} run_check;

static int check_message(void *opaque, const rd_kafka_message_t *m)
{
    run_check *c = opaque;
    size_t len;
    const char *iv = header(m, "i", &len);
    char num[16] = "";
    if (!iv || len >= sizeof num) {
        c->bad++;
        return 0;
    }
    memcpy(num, iv, len);
    int i = atoi(num);
    unsigned char want[3000];
    size_t wn = value_of(i, c->salt, want);
    char key[32];
    int kn = snprintf(key, sizeof key, "key-%d", i);
    const char *codec = header(m, "codec", &len);
    bool ok = i >= 0 && i < RUN_MESSAGES && m->len == wn && memcmp(m->payload, want, wn) == 0 &&
              m->key_len == (size_t)kn && memcmp(m->key, key, (size_t)kn) == 0 && codec &&
              len == strlen(c->codec) && memcmp(codec, c->codec, len) == 0;
    /* Even messages were sent to a fixed partition, odd ones to the
     * partitioner. */
    if (ok && i % 2 == 0 && m->partition != (i / 2) % c->partitions) ok = false;
    if (!ok) {
        if (c->bad++ < 5)
            fprintf(stderr, "message %d at %d/%lld does not match\n", i, (int)m->partition,
                    (long long)m->offset);
        return 0;
    }
    c->seen[i]++;
    c->per_partition[m->partition]++;
    return 0;
}

static int produce_run(test_producer *p, const char *topic, int partitions, int salt,
                       const char *codec_header)
{
    unsigned char v[3000];
    for (int i = 0; i < RUN_MESSAGES; i++) {
        char key[32], num[16];
        int kn = snprintf(key, sizeof key, "key-%d", i);
        snprintf(num, sizeof num, "%d", i);
        const char *hdrs[] = {"i", num, "codec", codec_header, NULL};
        size_t n = value_of(i, salt, v);
        int32_t part = i % 2 == 0 ? (i / 2) % partitions : -1;
        if (test_produce_headers(p, topic, part, key, (size_t)kn, v, n, hdrs) != 0) return -1;
    }
    return 0;
}

/* ---- tests ---- */

static void test_tool_commands(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 3, workdir()), 0);
    /* Three listeners, all on loopback. */
    int commas = 0;
    for (const char *s = k.bootstrap; *s; s++)
        commas += *s == ',';
    CHECK_EQ(commas, 2);
    CHECK(strncmp(k.bootstrap, "127.0.0.1:", 10) == 0);
    CHECK(strstr(k.bootstrap, ",127.0.0.1:") != NULL);

    char reply[512];
    CHECK_EQ(test_kafka_create_topic(&k, "cmds", 3), 0);
    CHECK_EQ(test_kafka_cmd(&k, "topic cmds 3", reply, sizeof reply), -1);
    CHECK_CONTAINS(reply, "error TOPIC_ALREADY_EXISTS");
    CHECK_EQ(test_kafka_cmd(&k, "watermarks cmds", reply, sizeof reply), 0);
    CHECK_STR(reply, "ok 0:0:0 1:0:0 2:0:0");
    CHECK_EQ(test_kafka_cmd(&k, "watermarks nosuch", reply, sizeof reply), -1);
    CHECK_STR(reply, "error unknown topic nosuch");
    CHECK_EQ(test_kafka_cmd(&k, "committed nobody cmds", reply, sizeof reply), 0);
    CHECK_STR(reply, "ok 0:-1001 1:-1001 2:-1001");

    CHECK_EQ(test_kafka_cmd(&k, "errors Produce NOT_LEADER_FOR_PARTITION 7 _TRANSPORT", reply,
                            sizeof reply),
             0);
    CHECK_EQ(test_kafka_cmd(&k, "clear 0", reply, sizeof reply), 0);
    CHECK_EQ(test_kafka_cmd(&k, "errors Bogus 1", reply, sizeof reply), -1);
    CHECK_STR(reply, "error unknown API key Bogus");
    CHECK_EQ(test_kafka_cmd(&k, "errors Fetch NO_SUCH_ERROR", reply, sizeof reply), -1);
    CHECK_STR(reply, "error unknown error code NO_SUCH_ERROR");
    CHECK_EQ(test_kafka_cmd(&k, "rtt 2 50", reply, sizeof reply), 0);
    CHECK_EQ(test_kafka_cmd(&k, "rtt -1 0", reply, sizeof reply), 0);
    CHECK_EQ(test_kafka_cmd(&k, "leader cmds 0 3", reply, sizeof reply), 0);
    CHECK_EQ(test_kafka_cmd(&k, "coordinator group g 2", reply, sizeof reply), 0);
    CHECK_EQ(test_kafka_cmd(&k, "down 9", reply, sizeof reply), -1);
    CHECK_CONTAINS(reply, "error ");
    CHECK_EQ(test_kafka_cmd(&k, "frobnicate", reply, sizeof reply), -1);
    CHECK_STR(reply, "error unknown command or wrong arguments: frobnicate (1 words)");
    CHECK_EQ(test_kafka_cmd(&k, "topic x notanumber", reply, sizeof reply), -1);
    CHECK_STR(reply, "error usage: topic NAME PARTITIONS [REPLICATION]");

    /* quit answers ok and exits 0 */
    CHECK_EQ(test_kafka_cmd(&k, "quit", reply, sizeof reply), 0);
    CHECK_EQ(test_proc_wait(&k.proc, 10000), 0);
    test_kafka_stop(&k);
}

static void test_tool_exits_on_eof_and_sigterm(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 1, workdir()), 0);
    fclose(k.to_tool);
    k.to_tool = NULL;
    CHECK_EQ(test_proc_wait(&k.proc, 10000), 0);
    test_kafka_stop(&k);

    CHECK_EQ(test_kafka_start(&k, 1, workdir()), 0);
    CHECK_EQ(test_proc_stop(&k.proc, SIGTERM, 10000), 0);
    test_kafka_stop(&k);
}

static void test_roundtrip_lz4_zstd(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 3, workdir()), 0);
    const int parts = 4;
    CHECK_EQ(test_kafka_create_topic(&k, "rt-lz4", parts), 0);
    CHECK_EQ(test_kafka_create_topic(&k, "rt-zstd", parts), 0);
    const char *codecs[] = {"lz4", "zstd"};
    const char *topics[] = {"rt-lz4", "rt-zstd"};
    for (int c = 0; c < 2; c++) {
        test_producer *p = test_producer_new(k.bootstrap, codecs[c]);
        CHECK(p != NULL);
        CHECK_EQ(produce_run(p, topics[c], parts, c, codecs[c]), 0);
        CHECK_EQ(test_producer_flush(p, 30000), 0);
        CHECK_EQ(test_producer_acked(p), RUN_MESSAGES);
        test_producer_free(p);

        static run_check check;
        memset(&check, 0, sizeof check);
        check.salt = c;
        check.codec = codecs[c];
        check.partitions = parts;
        CHECK_EQ(test_consume_all(k.bootstrap, topics[c], check_message, &check, 30000),
                 RUN_MESSAGES);
        CHECK_EQ(check.bad, 0);
        for (int i = 0; i < RUN_MESSAGES; i++)
            CHECK_EQ(check.seen[i], 1);

        int64_t low[8], high[8];
        CHECK_EQ(test_kafka_watermarks(&k, topics[c], low, high, 8), parts);
        for (int p2 = 0; p2 < parts; p2++) {
            CHECK_EQ(low[p2], 0);
            CHECK_EQ(high[p2], check.per_partition[p2]);
        }
        CHECK_EQ(test_kafka_nothing_dropped(&k, topics[c]), 1);
    }
    test_kafka_stop(&k);
}

static int count_only(void *opaque, const rd_kafka_message_t *m)
{
    (void)m;
    (*(long *)opaque)++;
    return 0;
}

static void test_broker_down_then_up(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 1, workdir()), 0);
    CHECK_EQ(test_kafka_create_topic(&k, "outage", 2), 0);
    test_producer *p = test_producer_new(k.bootstrap, "lz4");
    CHECK(p != NULL);
    CHECK_EQ(test_produce(p, "outage", 0, "a", 1, "before", 6), 0);
    CHECK_EQ(test_producer_flush(p, 30000), 0);

    CHECK_EQ(test_kafka_cmd(&k, "down 1", NULL, 0), 0);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(test_produce(p, "outage", i % 2, "b", 1, "during", 6), 0);
    CHECK_EQ(test_producer_flush(p, 2000), -1);
    CHECK_EQ(test_producer_acked(p), 1);
    /* While it is down the tool cannot read the broker either. */
    char reply[256];
    CHECK_EQ(test_kafka_cmd(&k, "watermarks outage", reply, sizeof reply), -1);
    CHECK_CONTAINS(reply, "error ");

    CHECK_EQ(test_kafka_cmd(&k, "up 1", NULL, 0), 0);
    CHECK_EQ(test_producer_flush(p, 60000), 0);
    CHECK_EQ(test_producer_acked(p), 11);
    test_producer_free(p);

    long n = 0;
    CHECK_EQ(test_consume_all(k.bootstrap, "outage", count_only, &n, 30000), 11);
    CHECK_EQ(n, 11);
    test_kafka_stop(&k);
}

static void test_produce_errors_retried_without_duplicates(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 3, workdir()), 0);
    const int parts = 4;
    CHECK_EQ(test_kafka_create_topic(&k, "retry", parts), 0);
    /* Retriable errors and a dropped connection on the next Produce
     * requests; none of them appends anything. */
    CHECK_EQ(test_kafka_cmd(&k,
                            "errors Produce NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT "
                            "NOT_ENOUGH_REPLICAS _TRANSPORT LEADER_NOT_AVAILABLE",
                            NULL, 0),
             0);
    test_producer *p = test_producer_new(k.bootstrap, "zstd");
    CHECK(p != NULL);
    CHECK_EQ(produce_run(p, "retry", parts, 1, "zstd"), 0);
    CHECK_EQ(test_producer_flush(p, 60000), 0);
    CHECK_EQ(test_producer_acked(p), RUN_MESSAGES);
    test_producer_free(p);

    static run_check check;
    memset(&check, 0, sizeof check);
    check.salt = 1;
    check.codec = "zstd";
    check.partitions = parts;
    CHECK_EQ(test_consume_all(k.bootstrap, "retry", check_message, &check, 30000), RUN_MESSAGES);
    CHECK_EQ(check.bad, 0);
    for (int i = 0; i < RUN_MESSAGES; i++)
        CHECK_EQ(check.seen[i], 1);
    test_kafka_stop(&k);
}

/* The case idempotence exists for: the broker appended a batch but the
 * producer never saw the answer (the broker's delay is longer than the
 * producer's socket.timeout.ms), so it sends the same batch again with the
 * same producer id, epoch and sequence. A real broker acknowledges the
 * copy without appending it; librdkafka 2.0.2's mock checks sequences only
 * for transactional producers and appends it again. So in tests a lost
 * Produce response duplicates messages, as at-least-once allows: nothing
 * is lost, and a test may count exactly only where no response was lost. */
typedef struct seen_values {
    int count[20];
    long other;
} seen_values;

static int count_values(void *opaque, const rd_kafka_message_t *m)
{
    seen_values *s = opaque;
    int i;
    char v[16];
    snprintf(v, sizeof v, "%.*s", (int)m->len, (const char *)m->payload);
    if (sscanf(v, "m%d", &i) == 1 && i >= 0 && i < 20)
        s->count[i]++;
    else
        s->other++;
    return 0;
}

static void test_lost_produce_response_duplicates_in_mock(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 1, workdir()), 0);
    CHECK_EQ(test_kafka_create_topic(&k, "lost", 1), 0);
    const char *props[] = {"socket.timeout.ms", "500", NULL};
    test_producer *p = test_producer_new_conf(k.bootstrap, "lz4", props);
    CHECK(p != NULL);
    CHECK_EQ(test_produce(p, "lost", 0, NULL, 0, "warm-up", 7), 0);
    CHECK_EQ(test_producer_flush(p, 30000), 0);

    /* librdkafka scans for timed-out requests once a second: a 3 s delay
     * is past the 500 ms timeout whatever the scan's phase. */
    CHECK_EQ(test_kafka_cmd(&k, "rtt 1 3000", NULL, 0), 0);
    for (int i = 0; i < 20; i++) {
        char v[16];
        int n = snprintf(v, sizeof v, "m%d", i);
        CHECK_EQ(test_produce(p, "lost", 0, NULL, 0, v, (size_t)n), 0);
    }
    CHECK_EQ(test_producer_flush(p, 4000), -1);
    CHECK_EQ(test_kafka_cmd(&k, "rtt 1 0", NULL, 0), 0);
    CHECK_EQ(test_producer_flush(p, 60000), 0);
    CHECK_EQ(test_producer_acked(p), 21);
    test_producer_free(p);

    int64_t low[1], high[1];
    CHECK_EQ(test_kafka_watermarks(&k, "lost", low, high, 1), 1);
    CHECK_EQ(low[0], 0);
    CHECK_INT(high[0], >, 21);
    seen_values seen = {{0}, 0};
    CHECK_EQ(test_consume_all(k.bootstrap, "lost", count_values, &seen, 30000), high[0]);
    CHECK_EQ(seen.other, 1); /* the warm-up */
    long copies = 0;
    for (int i = 0; i < 20; i++) {
        CHECK_INT(seen.count[i], >=, 1);
        copies += seen.count[i];
    }
    CHECK_EQ(copies, high[0] - 1);
    test_kafka_stop(&k);
}

static void test_committed_offsets(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 2, workdir()), 0);
    CHECK_EQ(test_kafka_create_topic(&k, "commits", 3), 0);
    test_producer *p = test_producer_new(k.bootstrap, NULL);
    CHECK(p != NULL);
    for (int i = 0; i < 30; i++)
        CHECK_EQ(test_produce(p, "commits", i % 3, NULL, 0, "x", 1), 0);
    CHECK_EQ(test_producer_flush(p, 30000), 0);
    test_producer_free(p);

    /* A consumer of group "g-commit" commits 7 and 3 for partitions 0 and 2
     * (assign, no subscribe: commits need no group membership). */
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    CHECK(rd_kafka_conf_set(conf, "bootstrap.servers", k.bootstrap, errstr, sizeof errstr) ==
          RD_KAFKA_CONF_OK);
    CHECK(rd_kafka_conf_set(conf, "group.id", "g-commit", errstr, sizeof errstr) ==
          RD_KAFKA_CONF_OK);
    CHECK(rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr) ==
          RD_KAFKA_CONF_OK);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    CHECK(c != NULL);
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(offs, "commits", 0)->offset = 7;
    rd_kafka_topic_partition_list_add(offs, "commits", 2)->offset = 3;
    rd_kafka_resp_err_t err = rd_kafka_commit(c, offs, 0);
    rd_kafka_topic_partition_list_destroy(offs);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    CHECK_EQ(err, 0);

    int64_t got[3];
    CHECK_EQ(test_kafka_committed(&k, "g-commit", "commits", got, 3), 3);
    CHECK_EQ(got[0], 7);
    CHECK_EQ(got[1], -1001);
    CHECK_EQ(got[2], 3);
    char reply[256];
    CHECK_EQ(test_kafka_cmd(&k, "committed g-commit commits", reply, sizeof reply), 0);
    CHECK_STR(reply, "ok 0:7 1:-1001 2:3");
    CHECK_EQ(test_kafka_committed(&k, "g-other", "commits", got, 3), 3);
    CHECK_EQ(got[0], -1001);
    test_kafka_stop(&k);
}

/* A record batch (v2) holding one record without key or headers: the 61
 * bytes of batch header, then the record: its varint length, attributes,
 * timestamp delta 0, offset delta 0, key length -1, value length, value,
 * header count 0. */
static size_t varint_len(long long v)
{
    unsigned long long z = ((unsigned long long)v << 1) ^ (unsigned long long)(v >> 63);
    size_t n = 1;
    while (z >= 0x80) {
        z >>= 7;
        n++;
    }
    return n;
}

static size_t one_record_batch_bytes(size_t value_len)
{
    size_t body = 1 + 1 + 1 + varint_len(-1) + varint_len((long long)value_len) + value_len + 1;
    return 61 + varint_len((long long)body) + body;
}

static void test_retention_is_5_mib_of_batches(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 1, workdir()), 0);
    CHECK_EQ(test_kafka_create_topic(&k, "keep", 1), 0);
    const size_t vlen = 65536;
    size_t batch = one_record_batch_bytes(vlen);
    CHECK_EQ(batch, 65608);
    long fit = (long)(TEST_KAFKA_MOCK_PARTITION_BYTES / batch); /* 79 */
    CHECK_EQ(fit, 79);

    unsigned char *v = malloc(vlen);
    CHECK(v != NULL);
    for (size_t j = 0; j < vlen; j++)
        v[j] = (unsigned char)(j * 2654435761u >> 13);
    /* One message, one flush: one batch each, of a size known exactly. */
    test_producer *p = test_producer_new(k.bootstrap, "none");
    CHECK(p != NULL);
    for (long i = 0; i < fit; i++) {
        CHECK_EQ(test_produce(p, "keep", 0, NULL, 0, v, vlen), 0);
        CHECK_EQ(test_producer_flush(p, 30000), 0);
    }
    int64_t low[1], high[1];
    CHECK_EQ(test_kafka_watermarks(&k, "keep", low, high, 1), 1);
    CHECK_EQ(low[0], 0);
    CHECK_EQ(high[0], fit);
    CHECK_EQ(test_kafka_nothing_dropped(&k, "keep"), 1);

    /* One more batch passes 5 MiB: the oldest goes, silently. */
    CHECK_EQ(test_produce(p, "keep", 0, NULL, 0, v, vlen), 0);
    CHECK_EQ(test_producer_flush(p, 30000), 0);
    CHECK_EQ(test_kafka_watermarks(&k, "keep", low, high, 1), 1);
    CHECK_EQ(low[0], 1);
    CHECK_EQ(high[0], fit + 1);
    CHECK_EQ(test_kafka_nothing_dropped(&k, "keep"), 0);
    long n = 0;
    CHECK_EQ(test_consume_all(k.bootstrap, "keep", count_only, &n, 30000), fit);
    test_producer_free(p);
    free(v);
    test_kafka_stop(&k);
}

/* The limit counts bytes as stored, that is compressed: 16 MiB of
 * compressible values take far less than 5 MiB under lz4 and all stay. */
static void test_retention_counts_compressed_bytes(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 1, workdir()), 0);
    CHECK_EQ(test_kafka_create_topic(&k, "keep-lz4", 1), 0);
    const size_t vlen = 65536;
    const long count = 256; /* 16 MiB of values */
    char *v = malloc(vlen);
    CHECK(v != NULL);
    test_producer *p = test_producer_new(k.bootstrap, "lz4");
    CHECK(p != NULL);
    for (long i = 0; i < count; i++) {
        /* Text that compresses well but is not the same in every message. */
        for (size_t j = 0; j < vlen; j++)
            v[j] = "abcdefghijklmnop"[(j / 64 + (size_t)i) % 16];
        CHECK_EQ(test_produce(p, "keep-lz4", 0, NULL, 0, v, vlen), 0);
    }
    CHECK_EQ(test_producer_flush(p, 60000), 0);
    test_producer_free(p);
    free(v);
    int64_t low[1], high[1];
    CHECK_EQ(test_kafka_watermarks(&k, "keep-lz4", low, high, 1), 1);
    CHECK_EQ(low[0], 0);
    CHECK_EQ(high[0], count);
    CHECK_EQ(test_kafka_nothing_dropped(&k, "keep-lz4"), 1);
    test_kafka_stop(&k);
}

/* The mock's other limit, 100,000 batches, is never the one that binds:
 * even the smallest batch (61-byte header and a record of a few bytes) is
 * over 52 bytes, so 5 MiB fill first. kcat sends 90,000 one-record batches
 * of a 5-digit value, 73 bytes each: the partition keeps 5 MiB / 73 of
 * them, not 90,000. */
static void test_retention_bytes_bind_before_batch_count(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 1, workdir()), 0);
    CHECK_EQ(test_kafka_create_topic(&k, "small", 1), 0);
    size_t batch = 61 + 1 + (1 + 1 + 1 + varint_len(-1) + varint_len(5) + 5 + 1);
    CHECK_EQ(batch, 73);
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "kcat -b '%s' -P -t small -p 0 -X batch.num.messages=1 -X linger.ms=0 "
             "2>%s/kcat-small.log",
             k.bootstrap, workdir());
    FILE *w = popen(cmd, "w");
    CHECK(w != NULL);
    for (int i = 10000; i < 100000; i++)
        fprintf(w, "%d\n", i);
    CHECK_EQ(pclose(w), 0);
    int64_t low[1], high[1];
    CHECK_EQ(test_kafka_watermarks(&k, "small", low, high, 1), 1);
    CHECK_EQ(high[0], 90000);
    CHECK_EQ(low[0], 90000 - (int64_t)(TEST_KAFKA_MOCK_PARTITION_BYTES / batch));
    CHECK_EQ(low[0], 18180);
    test_kafka_stop(&k);
}

/* kcat (librdkafka underneath too, but its own program and protocol use)
 * produces to and consumes from the tool's broker, and sees what our
 * producer wrote. */
static int read_kcat_line(void *opaque, const rd_kafka_message_t *m)
{
    char(*lines)[64] = opaque;
    if (m->offset < 0 || m->offset >= 4) return 1;
    snprintf(lines[m->offset], 64, "%.*s=%.*s", (int)m->key_len, (const char *)m->key, (int)m->len,
             (const char *)m->payload);
    return 0;
}

static void test_kcat_talks_to_the_tool(void)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 2, workdir()), 0);
    CHECK_EQ(test_kafka_create_topic(&k, "kcat", 1), 0);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "kcat -b '%s' -P -t kcat -p 0 -K : -z lz4 2>%s/kcat-p.log",
             k.bootstrap, workdir());
    FILE *w = popen(cmd, "w");
    CHECK(w != NULL);
    fputs("k1:first\nk2:second\nk3:third\n", w);
    CHECK_EQ(pclose(w), 0);

    /* Ours, read by kcat next. */
    test_producer *p = test_producer_new(k.bootstrap, "zstd");
    CHECK(p != NULL);
    CHECK_EQ(test_produce(p, "kcat", 0, "k4", 2, "fourth", 6), 0);
    CHECK_EQ(test_producer_flush(p, 30000), 0);
    test_producer_free(p);

    char lines[4][64] = {{0}};
    CHECK_EQ(test_consume_all(k.bootstrap, "kcat", read_kcat_line, lines, 30000), 4);
    CHECK_STR(lines[0], "k1=first");
    CHECK_STR(lines[2], "k3=third");
    CHECK_STR(lines[3], "k4=fourth");

    snprintf(cmd, sizeof cmd,
             "kcat -b '%s' -C -t kcat -o beginning -e -q -f '%%p/%%o %%k=%%s\\n' 2>%s/kcat-c.log",
             k.bootstrap, workdir());
    FILE *r = popen(cmd, "r");
    CHECK(r != NULL);
    char out[1024] = "";
    size_t got = fread(out, 1, sizeof out - 1, r);
    out[got] = '\0';
    CHECK_EQ(pclose(r), 0);
    CHECK_STR(out, "0/0 k1=first\n0/1 k2=second\n0/2 k3=third\n0/3 k4=fourth\n");
    test_kafka_stop(&k);
}

/* ---- consumer groups across processes ---- */

/* What the mock does with groups (rdkafka_mock_cgrp.c of 2.0.2, measured
 * here): a new group's first join waits a fixed 3 s; every later
 * rebalance waits session.timeout.ms - 1000 ms for members to (re)join, so
 * members of these tests use 4 s sessions (1 s would be below the 3 s first
 * join: the member times out before its group forms, forever). */
#define GROUP_SESSION_MS "4000"

typedef struct member_state {
    int assigned; /* partitions held now */
    int revokes;  /* revoke callbacks seen */
    int messages;
    int partitions_seen[8];
} member_state;

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    member_state *m = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (coop)
            rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
        else
            rd_kafka_assign(rk, parts);
    } else {
        m->revokes++;
        if (coop)
            rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
        else
            rd_kafka_assign(rk, NULL);
    }
    rd_kafka_topic_partition_list_t *now = NULL;
    if (rd_kafka_assignment(rk, &now) == 0) {
        m->assigned = now->cnt;
        rd_kafka_topic_partition_list_destroy(now);
    }
}

static rd_kafka_t *group_consumer(const char *bootstrap, const char *group, const char *strategy,
                                  member_state *m)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[] = {"bootstrap.servers",
                           bootstrap,
                           "group.id",
                           group,
                           "partition.assignment.strategy",
                           strategy,
                           "session.timeout.ms",
                           GROUP_SESSION_MS,
                           "heartbeat.interval.ms",
                           "500",
                           "auto.offset.reset",
                           "earliest",
                           "enable.auto.commit",
                           "false",
                           NULL};
    for (int i = 0; props[i]; i += 2)
        if (rd_kafka_conf_set(conf, props[i], props[i + 1], errstr, sizeof errstr)) {
            fprintf(stderr, "%s\n", errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, m);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Poll until the member holds `partitions` partitions and has read
 * `messages` messages; 0, or -1 after timeout_ms. */
static int poll_until(rd_kafka_t *rk, member_state *m, int partitions, int messages, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 100);
        if (msg) {
            if (!msg->err && msg->partition >= 0 && msg->partition < 8) {
                m->messages++;
                m->partitions_seen[msg->partition]++;
            }
            rd_kafka_message_destroy(msg);
        }
        if (m->assigned == partitions && m->messages >= messages) return 0;
    }
    fprintf(stderr, "member holds %d partitions (wanted %d), read %d messages (wanted %d)\n",
            m->assigned, partitions, m->messages, messages);
    return -1;
}

/* Two members of one group in two processes (kcat and this test) split a
 * 4-partition topic 2 and 2, each reads only its own partitions, and the
 * one left takes all 4 when the other leaves. Eager (range): the leave
 * revokes everything and assigns all again. Cooperative-sticky: nothing
 * this member held is ever revoked. */
static void group_across_processes(const char *strategy, bool cooperative)
{
    test_kafka k;
    CHECK_EQ(test_kafka_start(&k, 1, workdir()), 0);
    char topic[64], group[64], log[700], ready[128], xs[96];
    snprintf(topic, sizeof topic, "grp-%s", strategy);
    snprintf(group, sizeof group, "g-%s", strategy);
    CHECK_EQ(test_kafka_create_topic(&k, topic, 4), 0);

    snprintf(log, sizeof log, "%s/kcat-%s.log", workdir(), strategy);
    snprintf(xs, sizeof xs, "partition.assignment.strategy=%s", strategy);
    char *argv[] = {"/usr/bin/kcat",
                    "-b",
                    k.bootstrap,
                    "-G",
                    group,
                    topic,
                    "-X",
                    xs,
                    "-X",
                    "session.timeout.ms=" GROUP_SESSION_MS,
                    "-X",
                    "heartbeat.interval.ms=500",
                    "-X",
                    "auto.offset.reset=earliest",
                    "-f",
                    "got %p:%s\n",
                    "-u",
                    NULL};
    test_proc kcat;
    CHECK_EQ(test_proc_start(&kcat, argv, log), 0);
    snprintf(ready, sizeof ready, "Group %s rebalanced", group);
    CHECK_EQ(test_proc_wait_log(&kcat, ready, 30000, NULL, 0), 0);

    member_state me = {0};
    rd_kafka_t *rk = group_consumer(k.bootstrap, group, strategy, &me);
    CHECK(rk != NULL);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    CHECK_EQ(rd_kafka_subscribe(rk, sub), 0);
    rd_kafka_topic_partition_list_destroy(sub);
    CHECK_EQ(poll_until(rk, &me, 2, 0, 60000), 0);

    /* One message a partition: two for each member. */
    test_producer *p = test_producer_new(k.bootstrap, NULL);
    CHECK(p != NULL);
    for (int part = 0; part < 4; part++) {
        char v[16];
        int n = snprintf(v, sizeof v, "after-p%d", part);
        CHECK_EQ(test_produce(p, topic, part, NULL, 0, v, (size_t)n), 0);
    }
    CHECK_EQ(test_producer_flush(p, 30000), 0);
    test_producer_free(p);
    CHECK_EQ(poll_until(rk, &me, 2, 2, 30000), 0);
    for (int part = 0; part < 4; part++) {
        char want[32];
        snprintf(want, sizeof want, "got %d:after-p%d", part, part);
        if (me.partitions_seen[part] == 0)
            CHECK_EQ(test_proc_wait_log(&kcat, want, 30000, NULL, 0), 0);
        else
            CHECK_EQ(me.partitions_seen[part], 1);
    }
    int revokes_while_two = me.revokes;

    /* kcat leaves cleanly (SIGTERM closes its consumer): all 4 are ours. */
    CHECK_EQ(test_proc_stop(&kcat, SIGTERM, 20000), 0);
    CHECK_EQ(poll_until(rk, &me, 4, 2, 60000), 0);
    if (cooperative) {
        CHECK_EQ(revokes_while_two, 0);
        CHECK_EQ(me.revokes, 0);
    } else {
        CHECK_INT(me.revokes, >, revokes_while_two);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    test_kafka_stop(&k);
}

static void test_group_rebalance_range(void)
{
    group_across_processes("range", false);
}

static void test_group_rebalance_cooperative_sticky(void)
{
    group_across_processes("cooperative-sticky", true);
}

TEST_MAIN(T(test_tool_commands), T(test_tool_exits_on_eof_and_sigterm), T(test_roundtrip_lz4_zstd),
          T(test_broker_down_then_up), T(test_produce_errors_retried_without_duplicates),
          T(test_lost_produce_response_duplicates_in_mock), T(test_committed_offsets),
          T(test_retention_is_5_mib_of_batches), T(test_retention_counts_compressed_bytes),
          T(test_retention_bytes_bind_before_batch_count), T(test_kcat_talks_to_the_tool),
          T(test_group_rebalance_range), T(test_group_rebalance_cooperative_sticky))
