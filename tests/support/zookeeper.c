/*
 * zookeeper.c — see zookeeper.h. Called from the test's main thread.
 *
 * Why these settings (zoo.cfg, written at every start):
 *
 * - tickTime=500: ZooKeeper grants sessions of 2..20 ticks, so 1..10 s.
 *   ClickHouse asks for TEST_ZK_SESSION_TIMEOUT_MS (5 s). A ClickHouse
 *   restarted within that time of a kill -9 finds its old `is_active` node
 *   still there and retries its replication start-up 10 s later (18.16's
 *   ReplicatedMergeTreeRestartingThread); any timeout under ~9 s makes that
 *   first retry succeed, so 5 s costs nothing in recovery and leaves room
 *   for a stalled process on a busy 2-core machine before a healthy
 *   server's session expires (which would make its tables read-only for a
 *   moment and fail a test's INSERT).
 * - forceSync=no: no fsync per transaction. The tests never crash the
 *   machine or kill ZooKeeper, and replicated INSERTs make several
 *   ZooKeeper writes each; fsyncs on a disk shared with other builds would
 *   only add latency.
 * - admin.enableServer=false: ZooKeeper 3.8 otherwise opens an HTTP admin
 *   server on port 8080 of every interface.
 * - 4lw.commands.whitelist: 3.8 answers no four-letter word by default;
 *   `srvr` is how test_zk_start knows the server is serving.
 * - preAllocSize: transaction logs are preallocated in 64 MB steps by
 *   default; 4 MB is plenty here.
 *
 * The JVM gets a 256 MB heap cap and the serial collector (it uses about
 * 90 MB); log4j 1.2 writes DIR/zookeeper.log.
 */
#include "zookeeper.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZK_JAR "/usr/share/java/zookeeper.jar"
#define ZK_CLASSPATH ZK_JAR ":/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"

#define MAX_SERVERS 4
static test_zk *started[MAX_SERVERS];
static int cleanup_registered;

static void stop_all(void)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (started[i]) test_zk_stop(started[i]);
}

static void remember(test_zk *zk)
{
    if (!cleanup_registered) {
        atexit(stop_all);
        cleanup_registered = 1;
    }
    for (int i = 0; i < MAX_SERVERS; i++)
        if (started[i] == zk) return;
    for (int i = 0; i < MAX_SERVERS; i++)
        if (!started[i]) {
            started[i] = zk;
            return;
        }
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int rc = fputs(text, f) < 0 ? -1 : 0;
    return fclose(f) != 0 ? -1 : rc;
}

static int write_config(const test_zk *zk)
{
    char path[600], text[2048];
    snprintf(path, sizeof path, "%s/zoo.cfg", zk->dir);
    snprintf(text, sizeof text,
             "# written by tests/support/zookeeper.c (the reasons are there)\n"
             "tickTime=500\n"
             "dataDir=%s/data\n"
             "clientPort=%u\n"
             "clientPortAddress=127.0.0.1\n"
             "maxClientCnxns=0\n"
             "forceSync=no\n"
             "preAllocSize=4096\n"
             "admin.enableServer=false\n"
             "4lw.commands.whitelist=srvr,ruok\n",
             zk->dir, (unsigned)zk->port);
    if (write_file(path, text) != 0) return -1;
    snprintf(path, sizeof path, "%s/log4j.properties", zk->dir);
    snprintf(text, sizeof text,
             "log4j.rootLogger=INFO, FILE\n"
             "log4j.appender.FILE=org.apache.log4j.FileAppender\n"
             "log4j.appender.FILE.File=%s/zookeeper.log\n"
             "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n"
             "log4j.appender.FILE.layout.ConversionPattern=%%d{ISO8601} %%-5p [%%t] %%m%%n\n",
             zk->dir);
    return write_file(path, text);
}

int test_zk_four_letters(const test_zk *zk, const char *word, char *out, size_t n)
{
    out[0] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(zk->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    size_t len = 0;
    int rc = -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        send(fd, word, strlen(word), MSG_NOSIGNAL) == (ssize_t)strlen(word)) {
        /* The server answers and closes: read to EOF (2 s per read at most). */
        for (;;) {
            struct pollfd p = {fd, POLLIN, 0};
            int r = poll(&p, 1, 2000);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            ssize_t got = read(fd, out + len, n - 1 - len);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                rc = got == 0 && len > 0 ? 0 : -1;
                break;
            }
            len += (size_t)got;
            out[len] = '\0';
            if (len + 1 >= n) {
                rc = 0;
                break;
            }
        }
    }
    close(fd);
    return rc;
}

static void print_log_tail(const test_zk *zk)
{
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "tail -n 20 '%s/zookeeper.log' '%s' >&2", zk->dir, zk->proc.log_path);
    if (system(cmd) != 0) fprintf(stderr, "(no ZooKeeper log in %s)\n", zk->dir);
}

int test_zk_start(test_zk *zk, const char *dir)
{
    if (zk->running) return 0;
    if (access(ZK_JAR, R_OK) != 0) {
        fprintf(stderr, "%s missing: scripts/setup.sh installs Debian's zookeeper\n", ZK_JAR);
        return -1;
    }
    if (dir != zk->dir) snprintf(zk->dir, sizeof zk->dir, "%s", dir);
    char data[600];
    snprintf(data, sizeof data, "%s/data", zk->dir);
    if ((mkdir(zk->dir, 0755) != 0 && errno != EEXIST) ||
        (mkdir(data, 0755) != 0 && errno != EEXIST)) {
        fprintf(stderr, "zookeeper: cannot create %s: %s\n", data, strerror(errno));
        return -1;
    }
    if (!zk->port && test_free_ports(&zk->port, 1) != 0) return -1;
    if (write_config(zk) != 0) {
        fprintf(stderr, "zookeeper: cannot write the configuration in %s\n", zk->dir);
        return -1;
    }
    char log4j[600], cfg[600], log[600];
    snprintf(log4j, sizeof log4j, "-Dlog4j.configuration=file:%s/log4j.properties", zk->dir);
    snprintf(cfg, sizeof cfg, "%s/zoo.cfg", zk->dir);
    snprintf(log, sizeof log, "%s/stdout.log", zk->dir);
    char *argv[] = {"/usr/bin/java",
                    "-Xmx256m",
                    "-XX:+UseSerialGC",
                    "-Dzookeeper.jmx.log4j.disable=true",
                    log4j,
                    "-cp",
                    ZK_CLASSPATH,
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                    cfg,
                    NULL};
    if (test_proc_start(&zk->proc, argv, log) != 0) {
        fprintf(stderr, "zookeeper: cannot start /usr/bin/java\n");
        return -1;
    }
    zk->running = 1;
    remember(zk);
    /* Up to 60 s: a JVM starts in about a second, slower on a busy machine. */
    char answer[1024];
    for (int waited = 0; waited < 60000; waited += 100) {
        if (test_zk_four_letters(zk, "srvr", answer, sizeof answer) == 0 &&
            strstr(answer, "Mode: standalone"))
            return 0;
        if (!test_proc_alive(&zk->proc)) break;
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "zookeeper on port %u did not start serving; last log lines:\n",
            (unsigned)zk->port);
    print_log_tail(zk);
    test_zk_stop(zk);
    return -1;
}

void test_zk_stop(test_zk *zk)
{
    if (!zk->running) return;
    if (zk->proc.pid > 0) test_proc_stop(&zk->proc, SIGTERM, 10000);
    zk->running = 0;
}
