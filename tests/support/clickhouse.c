/*
 * clickhouse.c — see clickhouse.h. Starts and stops servers through
 * scripts/clickhouse.sh so tests, benchmarks and `make run` share one way
 * of doing it; a cluster member is the same server plus a file in its
 * config.d/ (ClickHouse merges it into config.xml). Called from the test's
 * main thread; the query helpers from any thread.
 */
#include "clickhouse.h"

#include "support.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 8
static test_ch *started[MAX_SERVERS];
static int cleanup_registered;

static const char *script(void)
{
    static char path[600];
    const char *src = getenv("SLUICE_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/scripts/clickhouse.sh", src && *src ? src : ".");
    return path;
}

static void stop_all(void)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (started[i]) test_ch_stop(started[i]);
}

int test_ch_start(test_ch *ch, const char *dir)
{
    if (ch->running) return 0;
    if (dir != ch->dir) /* a restart passes the server's own directory */
        snprintf(ch->dir, sizeof ch->dir, "%s", dir);
    char cmd[1400];
    /* Keep the ports across restarts so clients configured with them (and
     * the other members of a cluster) reconnect. */
    if (ch->http_port && ch->tcp_port)
        snprintf(cmd, sizeof cmd, "%s start '%s' %u %u", script(), dir, (unsigned)ch->http_port,
                 (unsigned)ch->tcp_port);
    else if (ch->http_port)
        snprintf(cmd, sizeof cmd, "%s start '%s' %u", script(), dir, (unsigned)ch->http_port);
    else
        snprintf(cmd, sizeof cmd, "%s start '%s'", script(), dir);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[256] = "";
    while (fgets(line, sizeof line, p)) {
        char *q = strstr(line, "http_port=");
        if (q) ch->http_port = (uint16_t)atoi(q + 10);
        q = strstr(line, "tcp_port=");
        if (q) ch->tcp_port = (uint16_t)atoi(q + 9);
    }
    if (pclose(p) != 0 || ch->http_port == 0) {
        fprintf(stderr, "clickhouse did not start in %s\n", dir);
        return -1;
    }
    snprintf(ch->url, sizeof ch->url, "http://127.0.0.1:%u", (unsigned)ch->http_port);
    ch->running = 1;
    if (!cleanup_registered) {
        atexit(stop_all);
        cleanup_registered = 1;
    }
    for (int i = 0; i < MAX_SERVERS; i++)
        if (started[i] == ch) return 0;
    for (int i = 0; i < MAX_SERVERS; i++)
        if (!started[i]) {
            started[i] = ch;
            break;
        }
    return 0;
}

static void run_script(const char *verb, test_ch *ch)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s %s '%s' >/dev/null 2>&1", script(), verb, ch->dir);
    if (system(cmd) != 0) fprintf(stderr, "clickhouse.sh %s %s failed\n", verb, ch->dir);
}

void test_ch_stop(test_ch *ch)
{
    if (!ch->running) return;
    run_script("stop", ch);
    ch->running = 0;
}

static pid_t read_pid(const test_ch *ch)
{
    char path[600];
    snprintf(path, sizeof path, "%s/pid", ch->dir);
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (f) {
        if (fscanf(f, "%d", &pid) != 1) pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

/* The server is not our child (the script started it), so it cannot be
 * waited for: it is gone when kill(pid, 0) fails or it is a zombie
 * (a zombie holds no sockets or files any more). */
static int process_gone(pid_t pid)
{
    if (kill(pid, 0) != 0) return errno == ESRCH;
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *close_paren = strrchr(stat, ')');
    return close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
}

void test_ch_kill(test_ch *ch)
{
    if (!ch->running) return;
    pid_t pid = read_pid(ch);
    if (pid > 0 && kill(pid, SIGKILL) == 0) {
        for (int waited = 0; !process_gone(pid) && waited < 30000; waited += 10) {
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
        }
        if (!process_gone(pid)) fprintf(stderr, "clickhouse pid %d survived SIGKILL\n", (int)pid);
    } else {
        fprintf(stderr, "clickhouse in %s: no process to kill\n", ch->dir);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/pid", ch->dir);
    remove(path);
    ch->running = 0;
}

static long err_log_size(const test_ch *ch)
{
    char path[700];
    snprintf(path, sizeof path, "%s/log/clickhouse-server.err.log", ch->dir);
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* Did the start that wrote the error log past offset `from` fail on 18.16's
 * check of local parts against ZooKeeper (TOO_MANY_UNEXPECTED_DATA_PARTS)? */
static int refused_unexpected_parts(const test_ch *ch, long from)
{
    char path[700], line[4096];
    snprintf(path, sizeof path, "%s/log/clickhouse-server.err.log", ch->dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int found = 0;
    if (fseek(f, from, SEEK_SET) == 0)
        while (!found && fgets(line, sizeof line, f))
            found = strstr(line, "doesn't look like the set of parts in ZooKeeper") != NULL;
    fclose(f);
    return found;
}

int test_ch_restart(test_ch *ch)
{
    if (!ch->http_port) {
        fprintf(stderr, "test_ch_restart: %s was never started\n", ch->dir);
        return -1;
    }
    long from = err_log_size(ch);
    if (test_ch_start(ch, ch->dir) == 0) return 0;
    if (!refused_unexpected_parts(ch, from)) return -1;
    char path[700];
    snprintf(path, sizeof path, "%s/data/flags/force_restore_data", ch->dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    fclose(f);
    fprintf(stderr,
            "clickhouse in %s refused to start (unexpected parts: see its err.log); "
            "starting it again with flags/force_restore_data\n",
            ch->dir);
    ch->forced_restores++;
    return test_ch_start(ch, ch->dir);
}

static long post(const char *url, const void *body, size_t len, char **out)
{
    CURL *c = curl_easy_init();
    if (!c) return -1;
    test_grow g = {NULL, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (out)
        *out = g.p ? g.p : strdup("");
    else
        free(g.p);
    return status;
}

long test_ch_query(const test_ch *ch, const char *sql, char **out)
{
    char url[128];
    snprintf(url, sizeof url, "%s/?allow_experimental_low_cardinality_type=1", ch->url);
    return post(url, sql, strlen(sql), out);
}

long test_ch_insert(const test_ch *ch, const char *statement, const char *params, const void *data,
                    size_t len, char **out)
{
    char *esc = curl_easy_escape(NULL, statement, 0);
    if (!esc) return -1;
    char *url = NULL;
    int n = asprintf(&url, "%s/?query=%s%s%s", ch->url, esc, params && *params ? "&" : "",
                     params ? params : "");
    curl_free(esc);
    if (n < 0) return -1;
    long st = post(url, data, len, out);
    free(url);
    return st;
}

double test_ch_scalar(const test_ch *ch, const char *sql)
{
    char *out = NULL;
    long st = test_ch_query(ch, sql, &out);
    double v = st == 200 && out ? strtod(out, NULL) : -1;
    free(out);
    return v;
}

/* config.d/cluster.xml of member i (0-based) of c. */
static int write_cluster_config(const test_ch_cluster *c, int i, const test_zk *zk)
{
    const test_ch *ch = &c->server[i];
    char path[700];
    snprintf(path, sizeof path, "%s/config.d", ch->dir);
    if (mkdir(ch->dir, 0755) != 0 && errno != EEXIST) return -1;
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
    snprintf(path, sizeof path, "%s/config.d/cluster.xml", ch->dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f,
            "<?xml version=\"1.0\"?>\n"
            "<!-- written by tests/support/clickhouse.c: member r%d of a one-shard cluster -->\n"
            "<yandex>\n"
            "    <logger><level>information</level></logger>\n"
            "    <interserver_http_host>127.0.0.1</interserver_http_host>\n"
            "    <interserver_http_port>%u</interserver_http_port>\n"
            "    <zookeeper>\n"
            "        <node><host>127.0.0.1</host><port>%u</port></node>\n"
            "        <session_timeout_ms>%d</session_timeout_ms>\n"
            "    </zookeeper>\n"
            "    <macros><shard>1</shard><replica>r%d</replica></macros>\n"
            "    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>\n"
            "    <query_log><database>system</database><table>query_log</table></query_log>\n"
            "    <part_log><database>system</database><table>part_log</table></part_log>\n"
            "    <remote_servers>\n"
            "        <" TEST_CH_CLUSTER_NAME ">\n"
            "            <shard>\n"
            "                <internal_replication>true</internal_replication>\n",
            i + 1, (unsigned)ch->interserver_port, (unsigned)zk->port, TEST_ZK_SESSION_TIMEOUT_MS,
            i + 1);
    for (int j = 0; j < c->n; j++)
        fprintf(f, "                <replica><host>127.0.0.1</host><port>%u</port></replica>\n",
                (unsigned)c->server[j].tcp_port);
    fprintf(f, "            </shard>\n"
               "        </" TEST_CH_CLUSTER_NAME ">\n"
               "    </remote_servers>\n"
               "</yandex>\n");
    return fclose(f) == 0 ? 0 : -1;
}

int test_ch_cluster_start(test_ch_cluster *c, const char *dir, int n, const test_zk *zk)
{
    if (n < 1 || n > TEST_CH_CLUSTER_MAX || !zk->running) return -1;
    memset(c, 0, sizeof *c);
    c->n = n;
    /* Every member's native port goes into every member's <remote_servers>,
     * so all ports are chosen before the first server starts. */
    uint16_t ports[3 * TEST_CH_CLUSTER_MAX];
    if (test_free_ports(ports, 3 * n) != 0) return -1;
    for (int i = 0; i < n; i++) {
        test_ch *ch = &c->server[i];
        snprintf(ch->dir, sizeof ch->dir, "%s/ch%d", dir, i + 1);
        ch->http_port = ports[3 * i];
        ch->tcp_port = ports[3 * i + 1];
        ch->interserver_port = ports[3 * i + 2];
    }
    for (int i = 0; i < n; i++) {
        if (write_cluster_config(c, i, zk) != 0) {
            fprintf(stderr, "cannot write %s/config.d/cluster.xml\n", c->server[i].dir);
            test_ch_cluster_stop(c);
            return -1;
        }
        if (test_ch_start(&c->server[i], c->server[i].dir) != 0) {
            test_ch_cluster_stop(c);
            return -1;
        }
    }
    return 0;
}

void test_ch_cluster_stop(test_ch_cluster *c)
{
    for (int i = 0; i < c->n; i++)
        test_ch_stop(&c->server[i]);
}
