/*
 * mock_kafka.c — `sluice-mock-kafka`, the Kafka broker of sluice's tests: a
 * librdkafka mock cluster (rdkafka_mock.h) in a process of its own, so that
 * the processes under test (the sink, which tests kill -9) come and go while
 * the broker and what it stores survive them.
 *
 *   sluice-mock-kafka [--brokers N] [--topic NAME:PARTITIONS[:REPLICATION]]...
 *
 * It prints one line `bootstrap=127.0.0.1:PORT,...` (flushed), then reads
 * commands on stdin, one per line, and answers each with one line starting
 * `ok` or `error <reason>`:
 *
 *   topic NAME PARTITIONS [REPLICATION]   create a topic (replication 1 if left out)
 *   down ID | up ID                       broker ID (1..N, -1 all) refuses / accepts connections
 *   rtt ID MS                             delay every response of broker ID
 *   errors APIKEY ERRCODE [ERRCODE...]    the next requests of APIKEY fail with these
 *   clear APIKEY                          forget the errors pushed for APIKEY
 *   leader TOPIC PARTITION ID             move a partition's leadership (-1: none)
 *   coordinator group|transaction KEY ID  pin a group's (transaction's) coordinator
 *   watermarks TOPIC                      ok P:LOW:HIGH ... for every partition
 *   committed GROUP TOPIC                 ok P:OFFSET ... (-1001: nothing committed)
 *   quit                                  exit 0 (so do EOF on stdin and SIGTERM)
 *
 * API keys and error codes are numbers or names: Produce, Fetch, ListOffsets,
 * Metadata, OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat,
 * LeaveGroup, SyncGroup, InitProducerId...; any librdkafka error name with or
 * without its RD_KAFKA_RESP_ERR_ prefix (NOT_LEADER_FOR_PARTITION,
 * REQUEST_TIMED_OUT, _TRANSPORT to make the broker drop the connection...).
 *
 * What the mock of librdkafka 2.0.2 keeps (read in rdkafka_mock.c, measured
 * by tests/integration/test_mock_kafka.c): each partition's log is a list of
 * the record batches exactly as producers sent them, so compressed batches
 * count with their compressed size; after appending a batch it drops the
 * oldest batches while the log holds more than 5 MiB (5,242,880 bytes of
 * batches, 61-byte batch headers included) or more than 100,000 batches,
 * always keeping the newest batch. The count limit is never the one
 * reached: a batch is over 61 bytes, so 100,000 of them pass 5 MiB first
 * (measured: of 90,000 one-record batches of 73 bytes, 71,820 are kept).
 * Nothing is reported when data is dropped: the low watermark simply
 * moves. A no-loss test must therefore keep every partition under 5 MiB of
 * batches and check `watermarks` (low still 0). Measured: 1-record batches
 * of a 65,536-byte value without key or headers are 65,608 bytes on the
 * wire; 79 of them (5,183,032 bytes) are all kept, the 80th (5,248,640 in
 * all) drops the first. 16 MiB of compressible values sent with lz4 are all
 * kept.
 *
 * Two members of one group with different partition.assignment.strategy
 * make the mock fail an assertion and abort (rdkafka_mock_cgrp.c:348, exit
 * status 134): the tool is gone, and so is everything it stored. Group
 * timing (3 s first join, session.timeout.ms - 1 s per rebalance) is
 * described in tests/support/kafka.h.
 *
 * The listeners are bound by librdkafka to 127.0.0.1 (INADDR_LOOPBACK) on
 * ports the kernel picks; nothing here listens elsewhere.
 *
 * Threads: main reads stdin and signals and calls the mock API; librdkafka
 * runs the cluster on its own threads. Everything is owned by main.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define MAX_LINE 4096
#define MAX_WORDS 80
#define MAX_PUSHED_ERRORS 64
#define QUERY_TIMEOUT_MS 5000

static rd_kafka_t *cluster_rk;
static rd_kafka_mock_cluster_t *mcluster;
/* A plain consumer (no group) for metadata and watermark queries, made on
 * first use so a tool that is never asked costs no connection. */
static rd_kafka_t *query_rk;

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (fflush(stdout) != 0) exit(0); /* whoever asked is gone */
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

static const struct {
    const char *name;
    int16_t key;
} api_keys[] = {
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"DescribeGroups", 15},
    {"ListGroups", 16},
    {"ApiVersion", 18},
    {"ApiVersions", 18},
    {"CreateTopics", 19},
    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
};

static int parse_api_key(const char *s, int16_t *key)
{
    long v;
    if (parse_long(s, 0, 100, &v) == 0) {
        *key = (int16_t)v;
        return 0;
    }
    for (size_t i = 0; i < sizeof api_keys / sizeof api_keys[0]; i++)
        if (strcasecmp(s, api_keys[i].name) == 0 ||
            (strncasecmp(s, api_keys[i].name, strlen(api_keys[i].name)) == 0 &&
             strcasecmp(s + strlen(api_keys[i].name), "Request") == 0)) {
            *key = api_keys[i].key;
            return 0;
        }
    return -1;
}

/* librdkafka's own error table names every code, so every name it knows
 * works here, not just the few a test happened to need first. */
static int parse_error_code(const char *s, rd_kafka_resp_err_t *err)
{
    long v;
    if (parse_long(s, INT_MIN, INT_MAX, &v) == 0) {
        *err = (rd_kafka_resp_err_t)v;
        return 0;
    }
    if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0) s += 18;
    if (strcasecmp(s, "NOT_LEADER_OR_FOLLOWER") == 0) /* the name newer Kafka uses */
        s = "NOT_LEADER_FOR_PARTITION";
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++)
        if (descs[i].name && strcasecmp(descs[i].name, s) == 0) {
            *err = descs[i].code;
            return 0;
        }
    return -1;
}

static rd_kafka_t *new_consumer(const char *group, char *errstr, size_t n)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mcluster),
                          errstr, n) != RD_KAFKA_CONF_OK ||
        (group &&
         (rd_kafka_conf_set(conf, "group.id", group, errstr, n) != RD_KAFKA_CONF_OK ||
          rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, n) != RD_KAFKA_CONF_OK))) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, n);
    if (!rk) rd_kafka_conf_destroy(conf);
    return rk;
}

static rd_kafka_t *query_handle(void)
{
    char errstr[256];
    if (!query_rk && !(query_rk = new_consumer(NULL, errstr, sizeof errstr)))
        reply("error cannot create the query consumer: %s", errstr);
    return query_rk;
}

/* The topic's partition count from the cluster's metadata, or -1 (replied). */
static int partition_count(const char *topic)
{
    rd_kafka_t *rk = query_handle();
    if (!rk) return -1;
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, QUERY_TIMEOUT_MS);
    if (err) {
        reply("error metadata: %s", rd_kafka_err2str(err));
        return -1;
    }
    int n = -1;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0)
            n = md->topics[i].err ? -2 : md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (n == -1)
        reply("error unknown topic %s", topic);
    else if (n == -2)
        reply("error topic %s has a metadata error", topic);
    return n < 0 ? -1 : n;
}

static void cmd_watermarks(const char *topic)
{
    int n = partition_count(topic);
    if (n < 0) return;
    char out[MAX_LINE * 4] = "ok";
    size_t len = 2;
    for (int p = 0; p < n; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(query_rk, topic, p, &lo, &hi, QUERY_TIMEOUT_MS);
        if (err) {
            reply("error watermarks %s [%d]: %s", topic, p, rd_kafka_err2str(err));
            return;
        }
        len += (size_t)snprintf(out + len, sizeof out - len, " %d:%lld:%lld", p, (long long)lo,
                                (long long)hi);
        if (len >= sizeof out) {
            reply("error too many partitions");
            return;
        }
    }
    reply("%s", out);
}

/* A consumer with the group's id that never subscribes: OffsetFetch reads
 * the group's commits without joining, so the group under test is not
 * disturbed by a rebalance. */
static void cmd_committed(const char *group, const char *topic)
{
    int n = partition_count(topic);
    if (n < 0) return;
    char errstr[256];
    rd_kafka_t *rk = new_consumer(group, errstr, sizeof errstr);
    if (!rk) {
        reply("error cannot create a consumer for group %s: %s", group, errstr);
        return;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p);
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, parts, QUERY_TIMEOUT_MS);
    if (err) {
        reply("error committed %s %s: %s", group, topic, rd_kafka_err2str(err));
    } else {
        char out[MAX_LINE * 4] = "ok";
        size_t len = 2;
        for (int i = 0; i < parts->cnt && len < sizeof out; i++)
            len +=
                (size_t)snprintf(out + len, sizeof out - len, " %d:%lld",
                                 (int)parts->elems[i].partition, (long long)parts->elems[i].offset);
        if (len >= sizeof out)
            reply("error too many partitions");
        else
            reply("%s", out);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
}

static void reply_mock(rd_kafka_resp_err_t err)
{
    if (err)
        reply("error %s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
    else
        reply("ok");
}

static int create_topic(const char *name, long partitions, long replication)
{
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(mcluster, name, (int)partitions, (int)replication);
    if (err) fprintf(stderr, "sluice-mock-kafka: topic %s: %s\n", name, rd_kafka_err2str(err));
    return err ? -1 : 0;
}

/* Runs one command line; returns 1 when it was `quit`. */
static int run_command(char *line)
{
    char *w[MAX_WORDS];
    int n = 0;
    for (char *save, *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (n == MAX_WORDS) {
            reply("error too many words");
            return 0;
        }
        w[n++] = t;
    }
    if (n == 0) {
        reply("error empty command");
        return 0;
    }
    long a, b, c;
    const char *cmd = w[0];
    if (strcmp(cmd, "quit") == 0) {
        reply("ok");
        return 1;
    } else if (strcmp(cmd, "topic") == 0 && (n == 3 || n == 4)) {
        if (parse_long(w[2], 1, 100000, &a) || (n == 4 && parse_long(w[3], 1, 1000, &b)))
            reply("error usage: topic NAME PARTITIONS [REPLICATION]");
        else
            reply_mock(rd_kafka_mock_topic_create(mcluster, w[1], (int)a, n == 4 ? (int)b : 1));
    } else if ((strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) && n == 2) {
        if (parse_long(w[1], -1, INT32_MAX, &a))
            reply("error usage: %s BROKER_ID", cmd);
        else if (cmd[0] == 'd')
            reply_mock(rd_kafka_mock_broker_set_down(mcluster, (int32_t)a));
        else
            reply_mock(rd_kafka_mock_broker_set_up(mcluster, (int32_t)a));
    } else if (strcmp(cmd, "rtt") == 0 && n == 3) {
        if (parse_long(w[1], -1, INT32_MAX, &a) || parse_long(w[2], 0, INT_MAX, &b))
            reply("error usage: rtt BROKER_ID MS");
        else
            reply_mock(rd_kafka_mock_broker_set_rtt(mcluster, (int32_t)a, (int)b));
    } else if (strcmp(cmd, "errors") == 0 && n >= 3) {
        int16_t key;
        rd_kafka_resp_err_t errs[MAX_PUSHED_ERRORS];
        if (parse_api_key(w[1], &key)) {
            reply("error unknown API key %s", w[1]);
            return 0;
        }
        if (n - 2 > MAX_PUSHED_ERRORS) {
            reply("error at most %d errors at once", MAX_PUSHED_ERRORS);
            return 0;
        }
        for (int i = 2; i < n; i++)
            if (parse_error_code(w[i], &errs[i - 2])) {
                reply("error unknown error code %s", w[i]);
                return 0;
            }
        rd_kafka_mock_push_request_errors_array(mcluster, key, (size_t)(n - 2), errs);
        reply("ok");
    } else if (strcmp(cmd, "clear") == 0 && n == 2) {
        int16_t key;
        if (parse_api_key(w[1], &key)) {
            reply("error unknown API key %s", w[1]);
            return 0;
        }
        rd_kafka_mock_clear_request_errors(mcluster, key);
        reply("ok");
    } else if (strcmp(cmd, "leader") == 0 && n == 4) {
        if (parse_long(w[2], 0, INT32_MAX, &a) || parse_long(w[3], -1, INT32_MAX, &b))
            reply("error usage: leader TOPIC PARTITION BROKER_ID");
        else
            reply_mock(rd_kafka_mock_partition_set_leader(mcluster, w[1], (int32_t)a, (int32_t)b));
    } else if (strcmp(cmd, "coordinator") == 0 && n == 4) {
        if ((strcmp(w[1], "group") != 0 && strcmp(w[1], "transaction") != 0) ||
            parse_long(w[3], -1, INT32_MAX, &c))
            reply("error usage: coordinator group|transaction KEY BROKER_ID");
        else
            reply_mock(rd_kafka_mock_coordinator_set(mcluster, w[1], w[2], (int32_t)c));
    } else if (strcmp(cmd, "watermarks") == 0 && n == 2) {
        cmd_watermarks(w[1]);
    } else if (strcmp(cmd, "committed") == 0 && n == 3) {
        cmd_committed(w[1], w[2]);
    } else {
        reply("error unknown command or wrong arguments: %s (%d words)", cmd, n);
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: sluice-mock-kafka [--brokers N] [--topic NAME:PARTITIONS[:REPLICATION]]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long brokers = 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
            if (parse_long(argv[++i], 1, 64, &brokers)) usage();
        } else if (strcmp(argv[i], "--topic") != 0 || i + 1 >= argc) {
            usage();
        } else {
            i++; /* topics are created once the cluster exists */
        }

    /* Blocked before librdkafka starts its threads, so SIGTERM reaches only
     * the signalfd that main polls, and shutdown runs on main. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    int sfd = signalfd(-1, &stop, SFD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
    if (sfd < 0) {
        perror("sluice-mock-kafka: signalfd");
        return 1;
    }

    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    cluster_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!cluster_rk) {
        fprintf(stderr, "sluice-mock-kafka: %s\n", errstr);
        return 1;
    }
    mcluster = rd_kafka_mock_cluster_new(cluster_rk, (int)brokers);
    if (!mcluster) {
        fprintf(stderr, "sluice-mock-kafka: cannot create the mock cluster\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--topic") != 0) continue;
        char spec[512];
        snprintf(spec, sizeof spec, "%s", argv[++i]);
        char *p1 = strchr(spec, ':');
        char *p2 = p1 ? strchr(p1 + 1, ':') : NULL;
        long parts, repl = 1;
        if (!p1 || p1 == spec) usage();
        *p1 = '\0';
        if (p2) *p2 = '\0';
        if (parse_long(p1 + 1, 1, 100000, &parts) || (p2 && parse_long(p2 + 1, 1, 1000, &repl)))
            usage();
        if (create_topic(spec, parts, repl) != 0) return 1;
    }

    reply("bootstrap=%s", rd_kafka_mock_cluster_bootstraps(mcluster));

    char buf[MAX_LINE + 1];
    size_t len = 0;
    int quit = 0, eof = 0, discarding = 0;
    while (!quit && !eof) {
        struct pollfd fds[2] = {{0, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents & POLLIN) break;
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t r = read(0, buf + len, MAX_LINE - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            eof = 1;
            if (len == 0) break;
            buf[len++] = '\n'; /* a last line without newline still counts */
        } else {
            len += (size_t)r;
        }
        char *start = buf, *nl;
        while (!quit && (nl = memchr(start, '\n', len - (size_t)(start - buf)))) {
            *nl = '\0';
            if (discarding)
                discarding = 0; /* the rest of an overlong line, answered already */
            else
                quit = run_command(start);
            start = nl + 1;
        }
        len -= (size_t)(start - buf);
        memmove(buf, start, len);
        if (len == MAX_LINE) {
            if (!discarding) reply("error line longer than %d bytes", MAX_LINE);
            discarding = 1;
            len = 0;
        }
    }

    if (query_rk) rd_kafka_destroy(query_rk);
    rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(cluster_rk);
    return 0;
}
