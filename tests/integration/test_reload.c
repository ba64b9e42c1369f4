/*
 * test_reload.c — SIGHUP reloads (docs/OPERATIONS.md, "Reloading") on the
 * real parts: the mock Kafka cluster in its own process, ClickHouse 18.16,
 * `sluice registry`, and `sluice sink` / `sluice ingest` as processes.
 *
 *  - A route added while events flow: the sink drains and starts again
 *    with both routes; every event of both topics is in ClickHouse (none
 *    lost), and the drain being clean, none twice (duplicates, which
 *    at-least-once would allow after an unclean drain, are reported).
 *  - A broken file: every error logged with its file:line, the reload
 *    counted as an error, the sink still consuming on the old
 *    configuration; a file that parses but cannot be applied (two routes
 *    on one topic) is refused the same way, and so is one only ClickHouse
 *    can refuse (exactly_once on a plain MergeTree: the new sink gives up
 *    and the old configuration's starts again); SIGTERM still drains,
 *    exit 0.
 *  - ingest's listener moved to another port, then a reload on the same
 *    port, while clients post without pause: no request the server
 *    accepted is dropped (the only transport error allowed is a refused
 *    connection to the old port after it closed, before the client moved;
 *    none at all across the same-port reload), and every event answered
 *    200 is in Kafka.
 */
#include "test.h"

#include "common/clock.h"
#include "ingest_env.h"
#include "sink_env.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------- */

/* Lines of a log containing needle. */
static int log_count(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle)) n++;
    fclose(f);
    return n;
}

/* Wait until the log has at least `want` lines containing needle. */
static int wait_log_count(const char *path, const char *needle, int want, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        if (log_count(path, needle) >= want) return 0;
        clock_sleep_ms(50);
    }
    return -1;
}

/* The last line of a log containing needle, into out. */
static int log_last(const char *path, const char *needle, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[8192];
    int found = -1;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle)) {
            snprintf(out, n, "%s", line);
            found = 0;
        }
    fclose(f);
    return found;
}

static int sha256_of(const char *path, char *out, size_t n)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char hex[80] = "";
    int ok = fscanf(p, "%64s", hex) == 1;
    pclose(p);
    if (!ok || strlen(hex) != 64) return -1;
    snprintf(out, n, "sha256:%s", hex);
    return 0;
}

/* A port nothing listens on just now (the kernel's pick for port 0). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* ---- the sink ------------------------------------------------------------------- */

static sink_env env;

static int setup(void)
{
    if (env.dir) return 0;
    return sink_env_start(&env, "sluice-reload", 1, 0);
}

static int produce_json(const char *topic, int id)
{
    char json[128];
    int n = snprintf(json, sizeof json, "{\"id\":%d,\"v\":\"%s-%d\"}", id, topic, id);
    char key[16];
    int kn = snprintf(key, sizeof key, "%d", id);
    return test_produce(env.prod, topic, -1, key, (size_t)kn, json, (size_t)n);
}

/* count() - uniqExact(id) of a table: rows that landed more than once. */
static double duplicates(const char *table)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count() - uniqExact(id) FROM %s", table);
    return sink_env_scalar(&env, sql);
}

#define ROUTE_A "    - topic: ra\n      table: ra\n      batch: {max_rows: 500, max_age: 200ms}\n"
#define ROUTE_B "    - topic: rb\n      table: rb\n      batch: {max_rows: 700, max_age: 300ms}\n"

static void test_sink_route_added_while_events_flow(void)
{
    CHECK_EQ(setup(), 0);
    enum { N = 9000, PARTS = 4 };
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "ra", PARTS), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "rb", PARTS), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE ra (id UInt64, v String) ENGINE = MergeTree "
                                "ORDER BY id"),
             0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE rb (id UInt64, v String) ENGINE = MergeTree "
                                "ORDER BY id"),
             0);
    char config[700], log[800];
    CHECK_EQ(sink_env_config(&env, "add-route",
                             "sink:\n  group_id: reload-add\n  routes:\n" ROUTE_A, config,
                             sizeof config),
             0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "add-route", 1, 60000), 0);
    snprintf(log, sizeof log, "%s/add-route.log", env.dir);

    /* Events flow into both topics; a third of the way, the route for rb
     * is added (and ra's batch changed), the reload running while the
     * rest is produced. */
    for (int i = 0; i < N; i++) {
        CHECK_EQ(produce_json("ra", i), 0);
        CHECK_EQ(produce_json("rb", i), 0);
        if (i == N / 3) {
            CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
            CHECK_EQ(sink_env_config(&env, "add-route",
                                     "sink:\n  group_id: reload-add\n  routes:\n"
                                     "    - topic: ra\n      table: ra\n"
                                     "      batch: {max_rows: 300, max_age: 100ms}\n" ROUTE_B,
                                     config, sizeof config),
                     0);
            CHECK_EQ(kill(sink.pid, SIGHUP), 0);
        }
        if (i % 1000 == 999) CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    }
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    CHECK_EQ(wait_log_count(log, "msg=\"configuration reloaded\"", 1, 120000), 0);
    char line[8192];
    CHECK_EQ(log_last(log, "msg=\"configuration reloaded\"", line, sizeof line), 0);
    CHECK_CONTAINS(line, "restarted=sink");

    /* Every event of both topics, once. */
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM ra", N, 180000), N);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM rb", N, 180000), N);
    CHECK_EQ(sink_env_scalar(&env, "SELECT min(id) + max(id) FROM ra"), N - 1);
    CHECK_EQ(sink_env_scalar(&env, "SELECT min(id) + max(id) FROM rb"), N - 1);
    double dup_a = duplicates("ra"), dup_b = duplicates("rb");
    fprintf(stderr,
            "reload with events flowing: ra %d events, %.0f duplicates; rb %d events, "
            "%.0f duplicates\n",
            N, dup_a, N, dup_b);
    /* The drain before the restart landed and committed everything it
     * consumed (it says so), so nothing is read twice. */
    CHECK_EQ(log_count(log, "stopped; everything consumed landed and was committed"), 1);
    CHECK_EQ(dup_a, 0);
    CHECK_EQ(dup_b, 0);

    double v = -1;
    CHECK_EQ(sink_env_metric(&sink, "sluice_config_reloads_total", "result=\"ok\"", &v), 0);
    CHECK_EQ(v, 1);
    char hash[80], want[100];
    CHECK_EQ(sha256_of(config, hash, sizeof hash), 0);
    snprintf(want, sizeof want, "hash=\"%s\"", hash);
    CHECK_EQ(sink_env_metric(&sink, "sluice_config_info", want, &v), 0);
    CHECK_EQ(v, 1);

    /* Offsets of both topics committed to the end. */
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 60000), 0);
    const char *topics[] = {"ra", "rb"};
    for (int t = 0; t < 2; t++) {
        int64_t low[PARTS], high[PARTS], committed[PARTS];
        CHECK_EQ(test_kafka_watermarks(&env.kafka, topics[t], low, high, PARTS), PARTS);
        CHECK_EQ(test_kafka_committed(&env.kafka, "reload-add", topics[t], committed, PARTS),
                 PARTS);
        for (int p = 0; p < PARTS; p++)
            CHECK_EQ(committed[p], high[p]);
        CHECK(test_kafka_nothing_dropped(&env.kafka, topics[t]));
    }
}

static void test_sink_broken_file_keeps_running(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "rc", 2), 0);
    CHECK_EQ(sink_env_sql(&env, "CREATE TABLE rc (id UInt64, v String) ENGINE = MergeTree "
                                "ORDER BY id"),
             0);
    const char *good = "sink:\n  group_id: reload-broken\n  routes:\n"
                       "    - topic: rc\n      table: rc\n      batch: {max_age: 200ms}\n";
    char config[700], log[800];
    CHECK_EQ(sink_env_config(&env, "broken", good, config, sizeof config), 0);
    test_proc sink;
    CHECK_EQ(sink_env_run_sink(&env, &sink, config, "broken", 1, 60000), 0);
    snprintf(log, sizeof log, "%s/broken.log", env.dir);
    for (int i = 0; i < 500; i++)
        CHECK_EQ(produce_json("rc", i), 0);
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT count() FROM rc", 500, 60000), 500);

    /* Two errors in the file: an unknown key and a wrong type, each on
     * its own line (the environment's sections come first: count them). */
    CHECK_EQ(sink_env_config(&env, "broken",
                             "sink:\n  group_id: reload-broken\n  routes:\n"
                             "    - topic: rc\n      table: rc\n      batch: {max_age: 200ms}\n"
                             "  writerz: 3\n"
                             "  memory_limit: lots\n",
                             config, sizeof config),
             0);
    int unknown_line = 0, type_line = 0, n = 0;
    FILE *f = fopen(config, "r");
    CHECK(f != NULL);
    char text[512];
    while (fgets(text, sizeof text, f)) {
        n++;
        if (strstr(text, "writerz")) unknown_line = n;
        if (strstr(text, "memory_limit: lots")) type_line = n;
    }
    fclose(f);
    CHECK(unknown_line > 0 && type_line > 0);
    CHECK_EQ(kill(sink.pid, SIGHUP), 0);
    CHECK_EQ(wait_log_count(log, "msg=\"reload refused", 1, 30000), 0);
    char where[800];
    snprintf(where, sizeof where, "%s:%d:", config, unknown_line);
    CHECK_EQ(log_count(log, where), 1);
    snprintf(where, sizeof where, "%s:%d:", config, type_line);
    CHECK_EQ(log_count(log, where), 1);
    CHECK_EQ(log_count(log, "sink.writerz"), 1);
    CHECK_EQ(log_count(log, "sink.memory_limit"), 1);
    double v = -1;
    CHECK_EQ(sink_env_metric(&sink, "sluice_config_reloads_total", "result=\"error\"", &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(sink_env_metric(&sink, "sluice_config_reloads_total", "result=\"ok\"", &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(sink_env_metric(&sink, "sluice_config_last_reload_successful", NULL, &v), 0);
    CHECK_EQ(v, 0);

    /* A file that parses but cannot be applied: refused the same way. */
    CHECK_EQ(sink_env_config(&env, "broken",
                             "sink:\n  group_id: reload-broken\n  routes:\n"
                             "    - topic: rc\n      table: rc\n"
                             "    - topic: rc\n      table: rc2\n",
                             config, sizeof config),
             0);
    CHECK_EQ(kill(sink.pid, SIGHUP), 0);
    CHECK_EQ(wait_log_count(log, "msg=\"reload refused", 2, 30000), 0);
    CHECK_EQ(log_count(log, "sink.routes[1].topic: 'rc' is already routed"), 1);
    CHECK_EQ(sink_env_metric(&sink, "sluice_config_reloads_total", "result=\"error\"", &v), 0);
    CHECK_EQ(v, 2);
    CHECK_EQ(log_count(log, "draining the sink"), 0);

    /* One that only ClickHouse can refuse: exactly_once on a plain
     * MergeTree. The sink has drained for it by then; it starts again on
     * the configuration it ran. */
    CHECK_EQ(sink_env_config(&env, "broken",
                             "sink:\n  group_id: reload-broken\n  routes:\n"
                             "    - topic: rc\n      table: rc\n      batch: {max_age: 200ms}\n"
                             "      delivery: exactly_once\n",
                             config, sizeof config),
             0);
    CHECK_EQ(kill(sink.pid, SIGHUP), 0);
    CHECK_EQ(wait_log_count(log, "msg=\"reload refused", 3, 120000), 0);
    CHECK_EQ(log_count(log, "starting it again on the previous one"), 1);
    CHECK_EQ(sink_env_metric(&sink, "sluice_config_reloads_total", "result=\"error\"", &v), 0);
    CHECK_EQ(v, 3);

    /* Still running on the first configuration. */
    CHECK(test_proc_alive(&sink));
    for (int i = 500; i < 1000; i++)
        CHECK_EQ(produce_json("rc", i), 0);
    CHECK_EQ(test_producer_flush(env.prod, 30000), 0);
    CHECK_EQ(sink_env_wait_for(&env, "SELECT uniqExact(id) FROM rc", 1000, 60000), 1000);

    /* The good file again: applied, nothing to restart (it is what runs). */
    CHECK_EQ(sink_env_config(&env, "broken", good, config, sizeof config), 0);
    CHECK_EQ(kill(sink.pid, SIGHUP), 0);
    CHECK_EQ(wait_log_count(log, "msg=\"configuration reloaded\"", 1, 30000), 0);
    CHECK_EQ(log_count(log, "restarted=nothing"), 1);
    CHECK_EQ(sink_env_metric(&sink, "sluice_config_last_reload_successful", NULL, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(test_proc_stop(&sink, SIGTERM, 60000), 0);
    CHECK(test_kafka_nothing_dropped(&env.kafka, "rc"));
}

/* ---- ingest ----------------------------------------------------------------------- */

enum { CLIENTS = 4, EVENTS_PER_REQUEST = 5, MAX_REQUESTS = 200000 };

static struct {
    pthread_mutex_t mu;
    char addr[64]; /* where clients post; moved by the test */
    _Atomic int stop;
    _Atomic int phase;       /* 1: moving to another port, 2: reload on the same port */
    _Atomic long accepted;   /* requests answered 200 */
    _Atomic long refused;    /* connections refused (the old port, before a client moved) */
    _Atomic long refused_p2; /* ... during phase 2: must stay 0 */
    _Atomic long dropped;    /* any other transport error: an accepted request lost */
    _Atomic long not_ok;     /* answered, not 200 */
    _Atomic int moved[CLIENTS];
    char last_error[256];
    /* per client: the requests answered 200 */
    unsigned char *ok[CLIENTS];
} cl;

static size_t discard(char *p, size_t size, size_t n, void *opaque)
{
    (void)p;
    (void)opaque;
    return size * n;
}

static void *client_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    char addr[64] = "", body[1024];
    for (int req = 0; req < MAX_REQUESTS && !atomic_load(&cl.stop);) {
        pthread_mutex_lock(&cl.mu);
        snprintf(addr, sizeof addr, "%s", cl.addr);
        pthread_mutex_unlock(&cl.mu);
        char url[128];
        snprintf(url, sizeof url, "http://%s/v1/topics/ev", addr);
        size_t len = 0;
        for (int e = 0; e < EVENTS_PER_REQUEST; e++)
            len += (size_t)snprintf(body + len, sizeof body - len, "{\"c\":%d,\"r\":%d,\"e\":%d}\n",
                                    id, req, e);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc == CURLE_COULDNT_CONNECT) {
            /* Never accepted: the old port closed; post again, to where
             * the test says the listener is now. */
            atomic_fetch_add(&cl.refused, 1);
            if (atomic_load(&cl.phase) == 2) atomic_fetch_add(&cl.refused_p2, 1);
            clock_sleep_ms(5);
            continue;
        }
        if (rc != CURLE_OK) {
            atomic_fetch_add(&cl.dropped, 1);
            pthread_mutex_lock(&cl.mu);
            snprintf(cl.last_error, sizeof cl.last_error, "client %d request %d: %s", id, req,
                     curl_easy_strerror(rc));
            pthread_mutex_unlock(&cl.mu);
            req++;
            continue;
        }
        if (status == 200) {
            cl.ok[id][req] = 1;
            atomic_fetch_add(&cl.accepted, 1);
            pthread_mutex_lock(&cl.mu);
            if (strcmp(addr, cl.addr) == 0 && atomic_load(&cl.phase) >= 1)
                atomic_store(&cl.moved[id], 1);
            pthread_mutex_unlock(&cl.mu);
        } else {
            atomic_fetch_add(&cl.not_ok, 1);
        }
        req++;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static int wait_accepted(long more, int timeout_ms)
{
    long want = atomic_load(&cl.accepted) + more;
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        if (atomic_load(&cl.accepted) >= want) return 0;
        clock_sleep_ms(20);
    }
    return -1;
}

typedef struct seen {
    unsigned char *count[CLIENTS]; /* per client and request: events read back */
    long other;
} seen;

static int collect(void *opaque, const rd_kafka_message_t *m)
{
    seen *s = opaque;
    int c, r, e;
    char text[128];
    snprintf(text, sizeof text, "%.*s", (int)m->len, (const char *)m->payload);
    if (sscanf(text, "{\"c\":%d,\"r\":%d,\"e\":%d}", &c, &r, &e) != 3 || c < 0 || c >= CLIENTS ||
        r < 0 || r >= MAX_REQUESTS) {
        s->other++;
        return 0;
    }
    if (s->count[c][r] < 255) s->count[c][r]++;
    return 0;
}

static void write_ingest_config(const ingest_env *e, const char *listen, const char *extra)
{
    char path[600];
    snprintf(path, sizeof path, "%s/ingest.yaml", e->dir);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f,
            "log: {level: info}\n"
            "metrics: {listen: 127.0.0.1:0}\n"
            "kafka: {brokers: \"%s\"}\n"
            "registry: {urls: [%s]}\n"
            "ingest:\n  listen: %s\n  topics:\n    - {name: ev, schema: none}\n%s",
            e->kafka.bootstrap, e->reg_url, listen, extra);
    fclose(f);
}

static void test_ingest_listener_change_drops_nothing(void)
{
    ingest_env e;
    CHECK_EQ(ingest_env_start(&e, "sluice-reload-ingest"), 0);
    CHECK_EQ(test_kafka_create_topic(&e.kafka, "ev", 3), 0);
    CHECK_EQ(ingest_env_run(&e, "ingest:\n  listen: 127.0.0.1:0\n"
                                "  topics:\n    - {name: ev, schema: none}\n"),
             0);
    char log[600], config[600];
    snprintf(log, sizeof log, "%s/ingest.log", e.dir);
    snprintf(config, sizeof config, "%s/ingest.yaml", e.dir);

    pthread_mutex_init(&cl.mu, NULL);
    snprintf(cl.addr, sizeof cl.addr, "%s", e.host_port);
    for (int i = 0; i < CLIENTS; i++) {
        cl.ok[i] = calloc(MAX_REQUESTS, 1);
        CHECK(cl.ok[i] != NULL);
    }
    pthread_t threads[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        CHECK_EQ(pthread_create(&threads[i], NULL, client_main, (void *)(intptr_t)i), 0);
    CHECK_EQ(wait_accepted(200, 60000), 0);

    /* 1. Another port. The new listener opens before the old one closes;
     * clients still on the old port find it refused and move. */
    int port = free_port();
    CHECK(port > 0);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    write_ingest_config(&e, listen, "  max_body_bytes: 2MiB\n");
    CHECK_EQ(kill(e.ingest.pid, SIGHUP), 0);
    CHECK_EQ(wait_log_count(log, "msg=\"configuration reloaded\"", 1, 60000), 0);
    pthread_mutex_lock(&cl.mu);
    snprintf(cl.addr, sizeof cl.addr, "%s", listen);
    atomic_store(&cl.phase, 1);
    pthread_mutex_unlock(&cl.mu);
    for (int i = 0; i < CLIENTS; i++)
        for (int waited = 0; !atomic_load(&cl.moved[i]) && waited < 60000; waited += 20)
            clock_sleep_ms(20);
    for (int i = 0; i < CLIENTS; i++)
        CHECK(atomic_load(&cl.moved[i]));
    CHECK_EQ(wait_accepted(200, 60000), 0);

    /* 2. The same port, another setting: the socket itself is handed
     * over, so no client sees anything at all. */
    atomic_store(&cl.phase, 2);
    write_ingest_config(&e, listen, "  max_body_bytes: 3MiB\n");
    CHECK_EQ(kill(e.ingest.pid, SIGHUP), 0);
    CHECK_EQ(wait_log_count(log, "msg=\"configuration reloaded\"", 2, 60000), 0);
    CHECK_EQ(wait_accepted(200, 60000), 0);
    atomic_store(&cl.stop, 1);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(threads[i], NULL);

    fprintf(stderr,
            "ingest reloads under load: %ld requests accepted, %ld connections refused by the "
            "closed old port (%ld during the same-port reload), %ld dropped, %ld not 200\n",
            atomic_load(&cl.accepted), atomic_load(&cl.refused), atomic_load(&cl.refused_p2),
            atomic_load(&cl.dropped), atomic_load(&cl.not_ok));
    if (atomic_load(&cl.dropped)) fprintf(stderr, "last: %s\n", cl.last_error);
    CHECK_EQ(atomic_load(&cl.dropped), 0);
    CHECK_EQ(atomic_load(&cl.not_ok), 0);
    CHECK_EQ(atomic_load(&cl.refused_p2), 0);
    CHECK_EQ(log_count(log, "socket=\"handed over\""), 1);

    /* Every event answered 200 is in Kafka (and nothing else is). */
    seen s = {0};
    for (int i = 0; i < CLIENTS; i++) {
        s.count[i] = calloc(MAX_REQUESTS, 1);
        CHECK(s.count[i] != NULL);
    }
    long n = test_consume_all(e.kafka.bootstrap, "ev", collect, &s, 60000);
    CHECK(n > 0);
    long missing = 0, extra = 0, acked = 0;
    for (int c = 0; c < CLIENTS; c++)
        for (int r = 0; r < MAX_REQUESTS; r++) {
            if (cl.ok[c][r]) {
                acked++;
                if (s.count[c][r] < EVENTS_PER_REQUEST) missing++;
            }
            if (s.count[c][r] > (cl.ok[c][r] ? EVENTS_PER_REQUEST : 0)) extra++;
        }
    fprintf(stderr,
            "read back %ld events: %ld requests acknowledged, %ld missing, %ld with "
            "events beyond those acknowledged\n",
            n, acked, missing, extra);
    CHECK_EQ(acked, atomic_load(&cl.accepted));
    CHECK_EQ(missing, 0);
    CHECK_EQ(extra, 0);
    CHECK_EQ(s.other, 0);
    CHECK(test_kafka_nothing_dropped(&e.kafka, "ev"));

    /* The metrics of the process, on its /metrics port. */
    char line[600];
    CHECK_EQ(log_last(log, "sub=metrics msg=listening", line, sizeof line), 0);
    const char *a = strstr(line, "addr=");
    CHECK(a != NULL);
    char url[128];
    snprintf(url, sizeof url, "http://%.*s/metrics", (int)strcspn(a + 5, " \n"), a + 5);
    CHECK_EQ(test_scrape_sum(url, "sluice_config_reloads_total", "result=\"ok\""), 2);
    char hash[80], want[100];
    CHECK_EQ(sha256_of(config, hash, sizeof hash), 0);
    snprintf(want, sizeof want, "hash=\"%s\"", hash);
    CHECK_EQ(test_scrape_sum(url, "sluice_config_info", want), 1);
    CHECK_EQ(test_scrape_sum(url, "sluice_config_info", NULL), 1);

    CHECK_EQ(ingest_env_stop_ingest(&e), 0);
    for (int i = 0; i < CLIENTS; i++) {
        free(cl.ok[i]);
        free(s.count[i]);
    }
    ingest_env_stop(&e);
}

static void test_cleanup(void)
{
    if (env.dir) sink_env_stop(&env);
}

TEST_MAIN(T(test_sink_route_added_while_events_flow), T(test_sink_broken_file_keeps_running),
          T(test_ingest_listener_change_drops_nothing), T(test_cleanup))
