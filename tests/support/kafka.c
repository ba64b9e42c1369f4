/*
 * kafka.c — see kafka.h. The broker is tests/tools/mock_kafka.c run as a
 * child with pipes on its stdin and stdout (test_proc_start_io); every
 * command is one line out and one line back. Producers and readers are
 * plain librdkafka clients of that broker, as the sink under test is.
 * Owned by the test's main thread; delivery reports run inside the
 * producer calls (rd_kafka_poll/flush), on that thread too.
 */
#include "kafka.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TOOL_START_TIMEOUT_MS 15000
/* `watermarks` and `committed` may wait 5 s per query on a broker that is
 * down; the answer always comes, so waiting long only matters on a hang. */
#define TOOL_REPLY_TIMEOUT_MS 60000
#define PRODUCE_QUEUE_WAIT_MS 60000
#define MAX_PRODUCERS 64

struct test_producer {
    rd_kafka_t *rk;
    long acked;
    long failed; /* delivery failures since the last flush */
};

static test_producer *producers[MAX_PRODUCERS];
static int producer_cleanup_registered;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int test_kafka_start(test_kafka *k, int brokers, const char *workdir)
{
    memset(k, 0, sizeof *k);
    k->from_tool = -1;
    k->brokers = brokers;
    const char *tool = getenv("SLUICE_MOCK_KAFKA");
    if (!tool || !*tool) tool = "./build/tests/tools/sluice-mock-kafka";
    char n[16];
    snprintf(n, sizeof n, "%d", brokers);
    snprintf(k->log_path, sizeof k->log_path, "%s/mock-kafka.log", workdir);
    char *argv[] = {(char *)tool, "--brokers", n, NULL};
    /* A write to a tool that died must fail, not kill the test; children
     * get SIGPIPE back (support.c resets it before exec). */
    signal(SIGPIPE, SIG_IGN);
    if (test_proc_start_io(&k->proc, argv, k->log_path, &k->to_tool, &k->from_tool) != 0) {
        fprintf(stderr, "cannot start %s\n", tool);
        return -1;
    }
    char line[600];
    if (test_read_line(k->from_tool, line, sizeof line, TOOL_START_TIMEOUT_MS) != 0 ||
        strncmp(line, "bootstrap=", 10) != 0) {
        fprintf(stderr, "%s did not print its bootstrap servers (got \"%s\"); see %s\n", tool, line,
                k->log_path);
        test_kafka_stop(k);
        return -1;
    }
    snprintf(k->bootstrap, sizeof k->bootstrap, "%.*s", (int)sizeof k->bootstrap - 1, line + 10);
    return 0;
}

int test_kafka_cmd(test_kafka *k, const char *cmd, char *reply, size_t n)
{
    char line[16384];
    if (!k->to_tool) {
        snprintf(line, sizeof line, "error the tool is not running");
    } else if (fprintf(k->to_tool, "%s\n", cmd) < 0 || fflush(k->to_tool) != 0) {
        snprintf(line, sizeof line, "error cannot write to the tool");
    } else if (test_read_line(k->from_tool, line, sizeof line, TOOL_REPLY_TIMEOUT_MS) != 0) {
        char partial[256];
        snprintf(partial, sizeof partial, "%.200s", line);
        snprintf(line, sizeof line, "error no answer from the tool (got \"%s\")", partial);
    }
    if (reply) snprintf(reply, n, "%s", line);
    if (strncmp(line, "ok", 2) == 0 && (line[2] == '\0' || line[2] == ' ')) return 0;
    fprintf(stderr, "mock kafka: %s -> %s\n", cmd, line);
    return -1;
}

int test_kafka_create_topic(test_kafka *k, const char *topic, int partitions)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "topic %s %d", topic, partitions);
    return test_kafka_cmd(k, cmd, NULL, 0);
}

int test_kafka_watermarks(test_kafka *k, const char *topic, int64_t *low, int64_t *high,
                          int max_partitions)
{
    char cmd[600], reply[16384];
    snprintf(cmd, sizeof cmd, "watermarks %s", topic);
    if (test_kafka_cmd(k, cmd, reply, sizeof reply) != 0) return -1;
    int count = 0;
    for (char *save, *t = strtok_r(reply + 2, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        int p;
        long long lo, hi;
        if (sscanf(t, "%d:%lld:%lld", &p, &lo, &hi) != 3 || p != count) return -1;
        if (p < max_partitions) {
            low[p] = lo;
            high[p] = hi;
        }
        count++;
    }
    return count;
}

int test_kafka_nothing_dropped(test_kafka *k, const char *topic)
{
    int64_t low[1024], high[1024];
    int n = test_kafka_watermarks(k, topic, low, high, 1024);
    if (n < 0 || n > 1024) return -1;
    for (int p = 0; p < n; p++)
        if (low[p] != 0) {
            fprintf(stderr, "mock kafka: %s [%d] dropped offsets %" PRId64 "..%" PRId64 "\n", topic,
                    p, (int64_t)0, low[p] - 1);
            return 0;
        }
    return 1;
}

int test_kafka_committed(test_kafka *k, const char *group, const char *topic, int64_t *offsets,
                         int max_partitions)
{
    char cmd[800], reply[16384];
    snprintf(cmd, sizeof cmd, "committed %s %s", group, topic);
    if (test_kafka_cmd(k, cmd, reply, sizeof reply) != 0) return -1;
    int count = 0;
    for (char *save, *t = strtok_r(reply + 2, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        int p;
        long long off;
        if (sscanf(t, "%d:%lld", &p, &off) != 2 || p != count) return -1;
        if (p < max_partitions) offsets[p] = off;
        count++;
    }
    return count;
}

void test_kafka_stop(test_kafka *k)
{
    if (k->to_tool) {
        fprintf(k->to_tool, "quit\n");
        fclose(k->to_tool); /* EOF, should `quit` not have got through */
        k->to_tool = NULL;
    }
    if (k->proc.pid > 0) test_proc_stop(&k->proc, 0, 10000);
    if (k->from_tool >= 0) {
        close(k->from_tool);
        k->from_tool = -1;
    }
}

/* ---- producer ---- */

static void producers_free_all(void)
{
    for (int i = 0; i < MAX_PRODUCERS; i++)
        if (producers[i]) test_producer_free(producers[i]);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    test_producer *p = opaque;
    if (!m->err) {
        p->acked++;
        return;
    }
    if (p->failed++ < 5)
        fprintf(stderr, "test producer: delivery to %s [%d] failed: %s\n",
                rd_kafka_topic_name(m->rkt), (int)m->partition, rd_kafka_err2str(m->err));
}

test_producer *test_producer_new(const char *bootstrap, const char *compression)
{
    return test_producer_new_conf(bootstrap, compression, NULL);
}

test_producer *test_producer_new_conf(const char *bootstrap, const char *compression,
                                      const char *const *extra)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[] = {"bootstrap.servers",
                           bootstrap,
                           "acks",
                           "all",
                           "enable.idempotence",
                           "true",
                           "linger.ms",
                           "5",
                           "compression.codec",
                           compression ? compression : "none",
                           NULL};
    for (int round = 0; round < 2; round++) {
        const char *const *kv = round == 0 ? props : extra;
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
            if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof errstr) !=
                RD_KAFKA_CONF_OK) {
                fprintf(stderr, "test producer: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return NULL;
            }
    }
    test_producer *p = calloc(1, sizeof *p);
    if (!p) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, p);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!p->rk) {
        fprintf(stderr, "test producer: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        free(p);
        return NULL;
    }
    if (!producer_cleanup_registered) {
        atexit(producers_free_all);
        producer_cleanup_registered = 1;
    }
    for (int i = 0; i < MAX_PRODUCERS; i++)
        if (!producers[i]) {
            producers[i] = p;
            break;
        }
    return p;
}

int test_produce_headers(test_producer *p, const char *topic, int32_t partition, const void *key,
                         size_t klen, const void *value, size_t vlen, const char *const *headers)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (headers) {
        hdrs = rd_kafka_headers_new(8);
        for (size_t i = 0; headers[i] && headers[i + 1]; i += 2)
            rd_kafka_header_add(hdrs, headers[i], -1, headers[i + 1], -1);
    }
    long deadline = now_ms() + PRODUCE_QUEUE_WAIT_MS;
    for (;;) {
        /* producev takes the headers only when it succeeds. */
        rd_kafka_resp_err_t err = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, klen),
            RD_KAFKA_V_VALUE((void *)value, vlen), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (!err) {
            rd_kafka_poll(p->rk, 0);
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || now_ms() > deadline) {
            fprintf(stderr, "test producer: cannot queue for %s [%d]: %s\n", topic, (int)partition,
                    rd_kafka_err2str(err));
            if (hdrs) rd_kafka_headers_destroy(hdrs);
            return -1;
        }
        rd_kafka_poll(p->rk, 10);
    }
}

int test_produce(test_producer *p, const char *topic, int32_t partition, const void *key,
                 size_t klen, const void *value, size_t vlen)
{
    return test_produce_headers(p, topic, partition, key, klen, value, vlen, NULL);
}

int test_producer_flush(test_producer *p, int timeout_ms)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);
    long failed = p->failed;
    p->failed = 0;
    if (err)
        fprintf(stderr, "test producer: flush: %s, %d message(s) not acknowledged\n",
                rd_kafka_err2str(err), rd_kafka_outq_len(p->rk));
    return err || failed ? -1 : 0;
}

long test_producer_acked(const test_producer *p)
{
    return p->acked;
}

void test_producer_free(test_producer *p)
{
    if (!p) return;
    for (int i = 0; i < MAX_PRODUCERS; i++)
        if (producers[i] == p) producers[i] = NULL;
    /* Whatever is still queued is dropped: a test that cared flushed. */
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(p->rk, 1000);
    rd_kafka_destroy(p->rk);
    free(p);
}

/* ---- reader ---- */

static rd_kafka_t *reader_new(const char *bootstrap)
{
    static unsigned serial;
    char group[96], errstr[512];
    /* assign() needs a group id; the group is never joined nor committed. */
    snprintf(group, sizeof group, "sluice-test-reader-%d-%u", (int)getpid(), serial++);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[][2] = {
        {"bootstrap.servers", bootstrap},  {"group.id", group},
        {"enable.auto.commit", "false"},   {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"}, {"check.crcs", "true"},
        {"fetch.wait.max.ms", "100"},
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            fprintf(stderr, "test reader: %s\n", errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "test reader: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static int partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (err) {
        fprintf(stderr, "test reader: metadata: %s\n", rd_kafka_err2str(err));
        return -1;
    }
    int n = -1;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err)
            n = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (n < 0) fprintf(stderr, "test reader: no topic %s\n", topic);
    return n;
}

/* Reads until every partition's next offset reached its end; -1 on
 * timeout or when fn stops. */
static long read_until(rd_kafka_t *rk, const char *topic, int n, const int64_t *end, int64_t *next,
                       test_message_fn fn, void *opaque, long deadline)
{
    long count = 0;
    for (;;) {
        int missing = 0;
        for (int p = 0; p < n; p++)
            missing += next[p] < end[p];
        if (!missing) return count;
        long left = deadline - now_ms();
        if (left <= 0) {
            for (int p = 0; p < n; p++)
                if (next[p] < end[p])
                    fprintf(stderr, "test reader: %s [%d] stopped at %" PRId64 " of %" PRId64 "\n",
                            topic, p, next[p], end[p]);
            return -1;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, left < 200 ? (int)left : 200);
        if (!m) continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "test reader: %s\n", rd_kafka_message_errstr(m));
        } else if (m->partition >= 0 && m->partition < n && m->offset >= next[m->partition] &&
                   m->offset < end[m->partition]) {
            next[m->partition] = m->offset + 1;
            count++;
            if (fn && fn(opaque, m) != 0) {
                rd_kafka_message_destroy(m);
                return -1;
            }
        }
        rd_kafka_message_destroy(m);
    }
}

long test_consume_all(const char *bootstrap, const char *topic, test_message_fn fn, void *opaque,
                      int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    rd_kafka_t *rk = reader_new(bootstrap);
    if (!rk) return -1;
    long result = -1;
    int64_t *next = NULL, *end = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    int n = partition_count(rk, topic, timeout_ms);
    if (n <= 0) goto out;
    next = calloc((size_t)n, sizeof *next);
    end = calloc((size_t)n, sizeof *end);
    parts = rd_kafka_topic_partition_list_new(n);
    if (!next || !end || !parts) goto out;
    for (int p = 0; p < n; p++) {
        long left = deadline - now_ms();
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &next[p], &end[p],
                                                                   left > 0 ? (int)left : 1);
        if (err) {
            fprintf(stderr, "test reader: watermarks of %s [%d]: %s\n", topic, p,
                    rd_kafka_err2str(err));
            goto out;
        }
        if (end[p] > next[p])
            rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
    if (err) {
        fprintf(stderr, "test reader: assign: %s\n", rd_kafka_err2str(err));
        goto out;
    }
    result = read_until(rk, topic, n, end, next, fn, opaque, deadline);
    rd_kafka_assign(rk, NULL);
out:
    if (parts) rd_kafka_topic_partition_list_destroy(parts);
    free(next);
    free(end);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return result;
}
