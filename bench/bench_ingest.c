/*
 * bench_ingest.c — `sluice ingest` driven by wrk, against the raw produce
 * ceiling, in one run; all real: the mock Kafka cluster in its own process,
 * `sluice registry`, ClickHouse 18.16 for the sink in part 3.
 *
 *  1. wrk (Debian's) with a Lua script POSTing NDJSON batches of 1, 100 and
 *     1000 page events (bench/page_event.h: 15 fields, nested records,
 *     arrays, a map, enums, unions) to /v1/topics/pages: every event is
 *     validated and encoded to Avro with the latest schema of pages-value,
 *     produced idempotently with acks=all, and the 200 waits for every
 *     delivery report. Events/s, p50/p99/p99.9 latency (wrk's), non-2xx
 *     answers, CPU µs per event and peak RSS of the ingest process.
 *  2. Peer, same run: kcat -P producing the same events already encoded
 *     (Confluent-framed Avro, lz4, idempotent) — the raw produce ceiling.
 *  3. Part 1's 100-event run again with `sluice sink` reading the topic and
 *     ClickHouse stopped: the ingest figures must not move.
 *  4. Single events at a fixed rate (half the most wrk got through), from
 *     an open-loop client: latency counted from when each request was due.
 *  0. First, the codec alone: bench_avro_json (next to this program) on the
 *     same page events — the streaming reader against jansson's parse and
 *     the tree encoder, ns per event and MB/s.
 *
 * wrk, kcat and the ingest process share the machine's cores; the mock
 * broker keeps ~5 MiB per partition and drops older data, which does not
 * matter here (nothing is read back for correctness; test_ingest and
 * tests/compat do that).
 *
 * usage: bench_ingest [--seconds S] [--events N] (needs SLUICE_BIN,
 * SLUICE_SOURCE_DIR and SLUICE_MOCK_KAFKA, as bench/run.sh sets them)
 */
#include "page_event.h"

#include <stdbool.h>

#include "codec/avro_json.h"
#include "common/clock.h"
#include "sink_env.h"

#include <sluice/avro.h>
#include <sluice/sr.h>
#include <sluice/wire.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static sink_env env;
static int seconds = 10;
static long kcat_events = 300000;
static test_proc ingest;
static char ingest_url[128];

#define BODIES 16

static const char *lua =
    "local bodies = {}\n"
    "local i = 0\n"
    "function init(args)\n"
    "  for k = 0, tonumber(args[2]) - 1 do\n"
    "    local f = assert(io.open(args[1] .. '.' .. k, 'rb'))\n"
    "    bodies[#bodies + 1] = f:read('*a')\n"
    "    f:close()\n"
    "  end\n"
    "  wrk.method = 'POST'\n"
    "  wrk.headers['Content-Type'] = 'application/x-ndjson'\n"
    "end\n"
    "function request()\n"
    "  i = i % #bodies + 1\n"
    "  return wrk.format(nil, nil, nil, bodies[i])\n"
    "end\n"
    "function done(summary, latency, requests)\n"
    "  io.write(string.format('requests: %d\\n', summary.requests))\n"
    "  io.write(string.format('duration_us: %d\\n', summary.duration))\n"
    "  io.write(string.format('status_errors: %d\\n', summary.errors.status))\n"
    "  io.write(string.format('socket_errors: %d\\n', summary.errors.connect + "
    "summary.errors.read + summary.errors.write + summary.errors.timeout))\n"
    "  io.write(string.format('p50_us: %d\\n', latency:percentile(50)))\n"
    "  io.write(string.format('p99_us: %d\\n', latency:percentile(99)))\n"
    "  io.write(string.format('p999_us: %d\\n', latency:percentile(99.9)))\n"
    "end\n";

static double now_s(void)
{
    return (double)clock_mono_ms() / 1000.0;
}

static double proc_cpu_s(pid_t pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0;
    char *p = strrchr(line, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static uint64_t proc_hwm(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_ingest: %s\n", what);
    if (ingest.pid > 0) test_proc_stop(&ingest, SIGKILL, 5000);
    sink_env_stop(&env);
    exit(1);
}

static void start_ingest(void)
{
    char path[600], log[600];
    snprintf(path, sizeof path, "%s/ingest.yaml", env.dir);
    FILE *f = fopen(path, "w");
    if (!f) die("cannot write the ingest config");
    fprintf(f,
            "log: {level: info}\n"
            "metrics: {listen: 127.0.0.1:0}\n"
            "kafka: {brokers: \"%s\"}\n"
            "registry: {urls: [%s]}\n"
            "ingest:\n  listen: 127.0.0.1:0\n  topics:\n    - {name: pages}\n",
            env.kafka.bootstrap, env.reg_url);
    fclose(f);
    snprintf(log, sizeof log, "%s/ingest.log", env.dir);
    char *argv[] = {(char *)test_sluice_bin(), "ingest", "-c", path, NULL};
    if (test_proc_start(&ingest, argv, log) != 0) die("cannot start sluice ingest");
    char line[512];
    if (test_proc_wait_log(&ingest, "msg=listening", 10000, line, sizeof line) != 0)
        die("sluice ingest did not start listening");
    const char *addr = strstr(line, "addr=");
    if (!addr) die("no address in the listening line");
    snprintf(ingest_url, sizeof ingest_url, "http://%.*s/v1/topics/pages",
             (int)strcspn(addr + 5, " \n"), addr + 5);
}

/* Write BODIES request bodies of `batch` events each to <dir>/body-<batch>.k. */
static void write_bodies(int batch, char *prefix, size_t n)
{
    snprintf(prefix, n, "%s/body-%d", env.dir, batch);
    for (int k = 0; k < BODIES; k++) {
        char path[700];
        snprintf(path, sizeof path, "%s.%d", prefix, k);
        FILE *f = fopen(path, "w");
        if (!f) die("cannot write a body");
        for (int i = 0; i < batch; i++) {
            char *e = make_event(k * batch + i);
            fprintf(f, "%s\n", e);
            free(e);
        }
        fclose(f);
    }
}

typedef struct wrk_result {
    double requests, duration_us, status_errors, socket_errors, p50, p99, p999;
} wrk_result;

static double run_wrk(const char *label, int batch, int conns)
{
    char prefix[600], script[600], out[600], cmd[2400];
    write_bodies(batch, prefix, sizeof prefix);
    snprintf(script, sizeof script, "%s/post.lua", env.dir);
    FILE *f = fopen(script, "w");
    if (!f || fputs(lua, f) < 0 || fclose(f) != 0) die("cannot write the Lua script");
    snprintf(out, sizeof out, "%s/wrk-%d.out", env.dir, batch);
    snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d%ds --timeout 30s -s %s '%s' -- %s %d > %s 2>&1",
             conns, seconds, script, ingest_url, prefix, BODIES, out);
    double cpu0 = proc_cpu_s(ingest.pid);
    if (system(cmd) != 0) die("wrk failed");
    double cpu = proc_cpu_s(ingest.pid) - cpu0;
    wrk_result r = {0};
    f = fopen(out, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "requests: %lf", &r.requests);
        sscanf(line, "duration_us: %lf", &r.duration_us);
        sscanf(line, "status_errors: %lf", &r.status_errors);
        sscanf(line, "socket_errors: %lf", &r.socket_errors);
        sscanf(line, "p50_us: %lf", &r.p50);
        sscanf(line, "p99_us: %lf", &r.p99);
        sscanf(line, "p999_us: %lf", &r.p999);
    }
    if (f) fclose(f);
    if (r.requests == 0 || r.duration_us == 0) die("wrk printed no figures");
    double ev = r.requests * batch, secs = r.duration_us / 1e6;
    printf("%s, %d events/request, %d connections: %.0f events/s (%.0f requests/s), latency "
           "p50 %.2f ms p99 %.2f ms p99.9 %.2f ms, CPU %.2f us/event, ingest peak RSS %.1f MiB, "
           "non-2xx %.0f, socket errors %.0f\n",
           label, batch, conns, ev / secs, r.requests / secs, r.p50 / 1000, r.p99 / 1000,
           r.p999 / 1000, cpu * 1e6 / ev, (double)proc_hwm(ingest.pid) / (1 << 20), r.status_errors,
           r.socket_errors);
    fflush(stdout);
    return r.requests / secs;
}

/* ---- open loop: a fixed request rate, latency from the planned send -------------------- */

/* wrk keeps a fixed number of requests outstanding, so its latencies are
 * those of a closed loop and hide queueing. This sends requests at a fixed
 * rate whatever the answers do, over `conns` keep-alive connections, and
 * measures each from the moment it was due (not when a connection was free
 * to send it), so a stall shows in every request it delayed. */
typedef struct ol_conn {
    int fd;
    bool busy;
    double due; /* when its current request was due */
    char in[4096];
    size_t in_len;
} ol_conn;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double q)
{
    if (n == 0) return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* A whole answer in c->in: its status, or 0 if more is to come. */
static int ol_answer(ol_conn *c)
{
    c->in[c->in_len < sizeof c->in ? c->in_len : sizeof c->in - 1] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end) return 0;
    const char *cl = strcasestr(c->in, "\r\nContent-Length:");
    size_t body = cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
    size_t need = (size_t)(end + 4 - c->in) + body;
    if (c->in_len < need) return 0;
    int status = atoi(c->in + 9);
    memmove(c->in, c->in + need, c->in_len - need);
    c->in_len -= need;
    return status;
}

static void open_loop(int batch, double rate, int conns)
{
    char prefix[600];
    write_bodies(batch, prefix, sizeof prefix);
    const char *hostport = ingest_url + 7; /* "127.0.0.1:PORT/v1/topics/pages" */
    unsigned port = (unsigned)atoi(strchr(hostport, ':') + 1);
    char *reqs[BODIES];
    size_t req_len[BODIES];
    for (int k = 0; k < BODIES; k++) {
        char path[700];
        snprintf(path, sizeof path, "%s.%d", prefix, k);
        FILE *f = fopen(path, "r");
        if (!f) die("body");
        char body[1 << 20];
        size_t n = fread(body, 1, sizeof body, f);
        fclose(f);
        reqs[k] = malloc(n + 256);
        req_len[k] = (size_t)snprintf(reqs[k], 256,
                                      "POST /v1/topics/pages HTTP/1.1\r\nHost: bench\r\n"
                                      "Content-Type: application/x-ndjson\r\n"
                                      "Content-Length: %zu\r\n\r\n",
                                      n);
        memcpy(reqs[k] + req_len[k], body, n);
        req_len[k] += n;
    }
    int ep = epoll_create1(0);
    ol_conn *cs = calloc((size_t)conns, sizeof *cs);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    for (int i = 0; i < conns; i++) {
        cs[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(cs[i].fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("open loop: connect");
        fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    size_t total = (size_t)(rate * seconds), sent = 0, done = 0, non2xx = 0;
    double *lat = malloc(total * sizeof *lat);
    double cpu0 = proc_cpu_s(ingest.pid);
    double t0 = (double)clock_mono_ns() / 1e9 + 0.05, late_max = 0;
    while (done < total) {
        double now = (double)clock_mono_ns() / 1e9;
        /* Send what is due, on free connections (what finds none waits,
         * its clock already running). */
        for (int i = 0; i < conns && sent < total; i++) {
            double due = t0 + (double)sent / rate;
            if (due > now) break;
            if (cs[i].busy) continue;
            const char *r = reqs[sent % BODIES];
            size_t len = req_len[sent % BODIES], off = 0;
            while (off < len) {
                ssize_t w = send(cs[i].fd, r + off, len - off, MSG_NOSIGNAL);
                if (w > 0)
                    off += (size_t)w;
                else if (w < 0 && errno != EAGAIN)
                    die("open loop: send");
            }
            cs[i].busy = true;
            cs[i].due = due;
            if (now - due > late_max) late_max = now - due;
            sent++;
        }
        double next_due = sent < total ? t0 + (double)sent / rate : now + 0.01;
        int wait_ms = (int)((next_due - now) * 1000);
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, wait_ms < 0 ? 0 : wait_ms > 10 ? 10 : wait_ms);
        for (int k = 0; k < n; k++) {
            ol_conn *c = &cs[evs[k].data.u32];
            ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                die("open loop: the server closed a connection");
            }
            c->in_len += (size_t)r;
            int status = ol_answer(c);
            if (status && c->busy) {
                lat[done++] = (double)clock_mono_ns() / 1e9 - c->due;
                non2xx += status / 100 != 2;
                c->busy = false;
            }
        }
    }
    double wall = (double)clock_mono_ns() / 1e9 - t0;
    double cpu = proc_cpu_s(ingest.pid) - cpu0;
    qsort(lat, done, sizeof *lat, cmp_double);
    printf("ingest open loop, %d events/request, %.0f requests/s offered over %d connections: "
           "%.0f requests/s done, latency from the planned send p50 %.2f ms p99 %.2f ms p99.9 "
           "%.2f ms max %.2f ms, CPU %.2f us/event, non-2xx %zu\n",
           batch, rate, conns, (double)done / wall, pct(lat, done, 0.5) * 1e3,
           pct(lat, done, 0.99) * 1e3, pct(lat, done, 0.999) * 1e3, lat[done - 1] * 1e3,
           cpu * 1e6 / (double)(done * (size_t)batch), non2xx);
    for (int i = 0; i < conns; i++)
        close(cs[i].fd);
    close(ep);
    free(cs);
    free(lat);
    for (int k = 0; k < BODIES; k++)
        free(reqs[k]);
}

/* The same events, Avro-encoded and framed, produced by kcat -P from its
 * stdin (file arguments would each become one message). */
static double peer_kcat(int32_t id)
{
    sluice_avro_schema *s;
    if (sluice_avro_schema_parse(schema_text, strlen(schema_text), &s, NULL) != 0) die("schema");
    char path[600];
    snprintf(path, sizeof path, "%s/kcat-input", env.dir);
    FILE *f = fopen(path, "w");
    if (!f) die("cannot write kcat's input");
    static const char delim[] = "|SLUICE|";
    buf msg;
    buf_init(&msg, 4096);
    uint64_t bytes = 0;
    for (long i = 0; i < kcat_events; i++) {
        char *e = make_event((int)(i % (BODIES * 1000)));
        json_t *v = json_loads(e, 0, NULL);
        free(e);
        uint8_t hdr[5];
        sluice_wire_write_header(hdr, id);
        buf_reset(&msg);
        buf_append(&msg, hdr, 5);
        avro_json_errors errs;
        if (!v || avro_json_encode(sluice_avro_schema_root(s), v, &msg, &errs) != 0)
            die("an event does not encode");
        json_decref(v);
        if (memmem(msg.data, msg.len, delim, sizeof delim - 1))
            die("an encoded event contains kcat's delimiter");
        fwrite(msg.data, 1, msg.len, f);
        fputs(delim, f);
        bytes += msg.len;
    }
    fclose(f);
    buf_free(&msg);
    sluice_avro_schema_free(s);
    if (test_kafka_create_topic(&env.kafka, "pages_kcat", 16) != 0) die("topic");
    char cmd[1600];
    snprintf(cmd, sizeof cmd,
             "kcat -P -q -b '%s' -t pages_kcat -D '%s' -z lz4 -X enable.idempotence=true "
             "-X acks=all -X linger.ms=5 < %s",
             env.kafka.bootstrap, delim, path);
    struct rusage a, b;
    getrusage(RUSAGE_CHILDREN, &a);
    double t0 = now_s();
    if (system(cmd) != 0) die("kcat -P failed");
    double wall = now_s() - t0;
    getrusage(RUSAGE_CHILDREN, &b);
    double cpu = (double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec) +
                 (double)(b.ru_utime.tv_usec - a.ru_utime.tv_usec) / 1e6 +
                 (double)(b.ru_stime.tv_sec - a.ru_stime.tv_sec) +
                 (double)(b.ru_stime.tv_usec - a.ru_stime.tv_usec) / 1e6;
    int64_t low[16], high[16];
    int parts = test_kafka_watermarks(&env.kafka, "pages_kcat", low, high, 16);
    int64_t total = 0;
    for (int p = 0; p < parts; p++)
        total += high[p];
    printf("peer kcat -P (pre-encoded Avro, %.0f B/event, lz4, idempotent, acks=all): %.0f "
           "events/s, CPU %.2f us/event, %lld of %ld acknowledged by the broker\n",
           (double)bytes / (double)kcat_events, (double)kcat_events / wall,
           cpu * 1e6 / (double)kcat_events, (long long)total, kcat_events);
    fflush(stdout);
    return (double)kcat_events / wall;
}

/* Part 0: the codec micro-benchmark, a program of its own, run here so one
 * run prints every figure the ingest section of BENCHMARKS.md quotes. */
static void codec_figures(void)
{
    char self[600], cmd[800];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return;
    *slash = '\0';
    snprintf(cmd, sizeof cmd, "'%s/bench_avro_json' --events 300000", self);
    FILE *p = popen(cmd, "r");
    char line[256];
    while (p && fgets(line, sizeof line, p))
        if (strstr(line, "streaming_") || strstr(line, "yajl_") || strstr(line, "parse_plus") ||
            strstr(line, "json_bytes"))
            printf("codec %s", line);
    if (p) pclose(p);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--events") && i + 1 < argc)
            kcat_events = atol(argv[++i]);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    codec_figures();
    if (sink_env_start(&env, "sluice-bench-ingest", 1, 1) != 0)
        die("cannot start Kafka, ClickHouse and the registry");
    if (test_kafka_create_topic(&env.kafka, "pages", 16) != 0) die("topic");
    int32_t id;
    sluice_error err;
    if (sluice_sr_register(env.sr, "pages-value", schema_text, NULL, &id, &err) != 0)
        die("cannot register the schema");
    start_ingest();
    printf("ingest: %s, %d s per run, wrk -t2\n", ingest_url, seconds);

    double max1 = run_wrk("ingest", 1, 64);
    double max1_256 = run_wrk("ingest", 1, 256);
    if (max1_256 > max1) max1 = max1_256;
    double ev100 = run_wrk("ingest", 100, 32) * 100;
    double ev1000 = run_wrk("ingest", 1000, 8) * 1000;
    /* Single events at half of the most wrk got through: the latency a
     * service sees when ingest is busy but not saturated. */
    open_loop(1, max1 / 2, 256);
    double ceiling = peer_kcat(id);
    printf("ratio to the kcat -P ceiling: %.2f at 100 events/request, %.2f at 1000\n",
           ev100 / ceiling, ev1000 / ceiling);

    /* 3. A sink reads the topic while ClickHouse is down. */
    if (sink_env_sql(&env, "CREATE TABLE pages (event_id UUID, ts DateTime, user_id "
                           "Nullable(String), session_id Nullable(String), type String, url "
                           "String, referrer Nullable(String), duration_ms Int64, count Int64, "
                           "amount Nullable(Float64), currency Nullable(String), device String, "
                           "`items.sku` Array(String), `items.qty` Array(Int32), `items.price` "
                           "Array(Float64), `items.tags` Array(Array(String)), `attrs.keys` "
                           "Array(String), `attrs.values` Array(String), consent UInt8) "
                           "ENGINE = MergeTree ORDER BY ts") != 0)
        die("table");
    char config[700];
    env.kafka_extra = "  properties:\n    session.timeout.ms: \"6000\"\n";
    if (sink_env_config(&env, "sink",
                        "sink:\n  group_id: bench\n  memory_limit: 64MiB\n"
                        "  routes:\n    - topic: pages\n      table: pages\n",
                        config, sizeof config) != 0)
        die("sink config");
    test_proc sink;
    if (sink_env_run_sink(&env, &sink, config, "sink", 1, 60000) != 0)
        die("the sink did not get its partitions");
    if (sink_env_wait_for(&env, "SELECT count() FROM pages", 1, 60000) < 1)
        die("the sink inserted nothing");
    test_ch_stop(&env.ch);
    clock_sleep_ms(2000);
    run_wrk("ingest, sink running, ClickHouse stopped", 100, 32);
    double paused = 0, retries = 0;
    sink_env_metric(&sink, "sluice_sink_partition_paused", NULL, &paused);
    sink_env_metric(&sink, "sluice_sink_insert_retries_total", NULL, &retries);
    printf("meanwhile the sink: %.0f insert retries, %.0f of 16 partitions paused, RSS %.1f MiB\n",
           retries, paused, (double)sink_env_rss(sink.pid) / (1 << 20));
    test_proc_stop(&sink, SIGKILL, 10000);
    if (test_proc_stop(&ingest, SIGTERM, 30000) != 0) die("ingest did not exit 0 on SIGTERM");
    sink_env_stop(&env);
    return 0;
}
