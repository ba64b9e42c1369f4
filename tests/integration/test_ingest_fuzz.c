/*
 * test_ingest_fuzz.c — a live fuzz loop against `sluice ingest` (built with
 * ASan+UBSan under `make test`), over raw TCP so nothing tidies the
 * requests: random and mutated bodies (JSON, NDJSON, REST Proxy v2), wrong
 * and missing content types, random methods, paths and headers, chunked
 * bodies (valid and broken), Content-Length too short or too long, and
 * slow clients trickling a request a byte at a time throughout.
 *
 * What must hold:
 *  - every answer is a well-formed HTTP status, never a 500;
 *  - the process survives, /healthz answers, a valid request still gets
 *    200, and SIGTERM exits 0 (an ASan or UBSan report aborts it, which
 *    shows up as a non-zero exit or a dead process);
 *  - exactly the events acknowledged with 200 are in Kafka: the topics'
 *    message counts equal the sum of the "accepted" counts and REST Proxy
 *    offsets answered (a rejected request writes nothing).
 *
 * SLUICE_FUZZ_SEED and SLUICE_FUZZ_ITER override the seed (printed) and
 * the number of requests.
 */
#include "test.h"

#include "common/buf.h"
#include "common/clock.h"
#include "ingest_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static ingest_env env;
static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static unsigned pick(unsigned n)
{
    return (unsigned)(next() % n);
}

#define SCHEMA                                                                                     \
    "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"         \
    "{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"tags\",\"type\":{\"type\":"               \
    "\"array\",\"items\":\"string\"},\"default\":[]},{\"name\":\"score\",\"type\":"                \
    "[\"null\",\"double\"],\"default\":null}]}"

static const char *seeds[][3] = {
    /* path, content type, body */
    {"/v1/topics/fz", "application/json", "{\"id\":1,\"name\":\"a\",\"x\":[1,2,{\"y\":null}]}"},
    {"/v1/topics/fz", "application/json", "[{\"id\":1},{\"id\":2,\"s\":\"\\u00e9\\n\"},3,\"x\"]"},
    {"/v1/topics/fz", "application/x-ndjson", "{\"id\":1}\n{\"id\":2}\n\n{\"id\":3}\n"},
    {"/v1/topics/fa", "application/json", "{\"id\":7,\"name\":\"n\",\"tags\":[\"a\",\"b\"]}"},
    {"/v1/topics/fa", "application/x-ndjson",
     "{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"name\":\"b\",\"score\":1.5}\n"},
    {"/topics/fa", "application/vnd.kafka.avro.v2+json",
     "{\"value_schema_id\":%ID%,\"records\":[{\"value\":{\"id\":1,\"name\":\"r\",\"tags\":[],"
     "\"score\":{\"double\":2.5}}},{\"key\":\"k\",\"value\":{\"id\":2,\"name\":\"s\",\"tags\":["
     "\"t\"],"
     "\"score\":null},\"partition\":1}]}"},
    {"/topics/fz", "application/vnd.kafka.json.v2+json",
     "{\"records\":[{\"value\":{\"a\":1}},{\"key\":\"k\",\"value\":[1,2]}]}"},
};
#define N_SEEDS (sizeof seeds / sizeof seeds[0])

static const char *paths[] = {
    "/v1/topics/fz",   "/v1/topics/fa",       "/topics/fa", "/topics/fz", "/v1/topics/nope",
    "/v1/topics/",     "/v1/topics/fz/extra", "/topics/",   "/",          "/healthz",
    "/v1/topics/%66z", "/v1/topics/fz?x=1"};
static const char *ctypes[] = {"application/json",
                               "application/x-ndjson",
                               "application/vnd.kafka.avro.v2+json",
                               "application/vnd.kafka.json.v2+json",
                               "text/plain",
                               "application/json; charset=utf-8",
                               "application/json;;;",
                               "",
                               "\x01"};
static const char *methods[] = {"POST", "POST", "POST",   "POST",    "POST",   "POST",
                                "GET",  "PUT",  "DELETE", "P\x7fST", "OPTIONS"};

static void buf_insert(buf *b, size_t at, const void *p, size_t n)
{
    if (!n || at > b->len || buf_reserve(b, n) != 0) return;
    memmove(b->data + at + n, b->data + at, b->len - at);
    memcpy(b->data + at, p, n);
    b->len += n;
}

static void mutate(buf *b)
{
    int rounds = 1 + (int)pick(4);
    for (int r = 0; r < rounds; r++) {
        size_t len = b->len;
        switch (pick(9)) {
        case 0: /* flip a byte */
            if (len) b->data[pick((unsigned)len)] ^= (uint8_t)(1 + pick(255));
            break;
        case 1: /* truncate */
            if (len) b->len = pick((unsigned)len);
            break;
        case 2: { /* insert random bytes */
            size_t at = len ? pick((unsigned)len + 1) : 0, n = 1 + pick(8);
            uint8_t tmp[8];
            for (size_t i = 0; i < n; i++)
                tmp[i] = (uint8_t)next();
            buf_insert(b, at, tmp, n);
            break;
        }
        case 3: { /* duplicate a region */
            if (!len) break;
            size_t a = pick((unsigned)len), n = 1 + pick((unsigned)(len - a));
            buf tmp;
            buf_init(&tmp, SIZE_MAX);
            buf_append(&tmp, b->data + a, n);
            buf_insert(b, pick((unsigned)len + 1), tmp.data, tmp.len);
            buf_free(&tmp);
            break;
        }
        case 4: { /* an interesting token */
            static const char *tok[] = {"99999999999999999999999",
                                        "-0",
                                        "1e999",
                                        "\"\\ud800\"",
                                        "\xff\xfe",
                                        "null",
                                        "{}",
                                        "[]",
                                        "\"\\u0000\"",
                                        ",",
                                        "\n",
                                        "{\"id\":",
                                        "\"id\"",
                                        "\xc3\x28",
                                        "true"};
            const char *t = tok[pick(sizeof tok / sizeof tok[0])];
            buf_insert(b, len ? pick((unsigned)len + 1) : 0, t, strlen(t));
            break;
        }
        case 5: { /* deep nesting */
            buf n;
            buf_init(&n, SIZE_MAX);
            unsigned depth = 100 + pick(3000);
            for (unsigned i = 0; i < depth; i++)
                buf_append(&n, "[", 1);
            buf_insert(b, len ? pick((unsigned)len + 1) : 0, n.data, n.len);
            buf_free(&n);
            break;
        }
        case 6: { /* many copies (NDJSON lines) */
            buf one;
            buf_init(&one, SIZE_MAX);
            buf_append(&one, b->data, len);
            for (unsigned i = 0, n = pick(50); i < n && b->len < 40000; i++)
                buf_append(b, one.data, one.len);
            buf_free(&one);
            break;
        }
        case 7: /* empty */
            b->len = 0;
            break;
        default: /* leave it */
            break;
        }
    }
}

static int connect_ingest(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    const char *colon = strrchr(env.host_port, ':');
    a.sin_port = htons((uint16_t)atoi(colon + 1));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return -1; /* the server may close early (413, 400): fine */
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read until EOF or timeout; returns bytes read. */
static size_t read_all(int fd, buf *out, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    char tmp[16384];
    for (;;) {
        int left = (int)(deadline - clock_mono_ms());
        if (left <= 0) break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0) break;
        ssize_t r = recv(fd, tmp, sizeof tmp, 0);
        if (r <= 0) break;
        buf_append(out, tmp, (size_t)r);
    }
    buf_append(out, "", 1); /* NUL-terminated for sscanf, not counted */
    out->len--;
    return out->len;
}

typedef struct tally {
    long responses, no_answer, by_class[6], status_500, malformed;
    long accepted_fz, accepted_fa;
} tally;

/* Every "HTTP/1.x NNN" answer in the stream: count it, and add what a 200
 * acknowledged to the topic's expected count. */
static void account(tally *t, const buf *in, const char *path)
{
    const char *s = (const char *)in->data, *end = s + in->len;
    if (in->len == 0) {
        t->no_answer++;
        return;
    }
    int fa = strstr(path, "/fa") != NULL;
    while (s < end) {
        const char *h = memmem(s, (size_t)(end - s), "HTTP/1.", 7);
        if (!h) {
            if (s == (const char *)in->data) t->malformed++;
            break;
        }
        int status = 0;
        if (end - h < 12 || sscanf(h + 9, "%3d", &status) != 1 || status < 100 || status > 599) {
            t->malformed++;
            break;
        }
        t->responses++;
        t->by_class[status / 100]++;
        if (status == 500) t->status_500++;
        const char *body = memmem(h, (size_t)(end - h), "\r\n\r\n", 4);
        const char *next_h = body ? memmem(body, (size_t)(end - body), "HTTP/1.", 7) : NULL;
        if (status == 200 && body) {
            body += 4;
            long n = 0;
            if (sscanf(body, "{\"accepted\":%ld", &n) == 1) {
                /* /v1/... */
            } else if (strstr(body, "\"offsets\":[")) { /* REST Proxy v2 */
                const char *lim = next_h ? next_h : end;
                for (const char *q = body; (q = memmem(q, (size_t)(lim - q), "\"partition\":", 12));
                     q += 12)
                    n++;
            }
            if (fa)
                t->accepted_fa += n;
            else
                t->accepted_fz += n;
        }
        if (!body || !next_h) break;
        s = next_h;
    }
}

/* Slow clients: valid requests sent a byte at a time over the whole loop. */
#define SLOW 6
static struct {
    int fd;
    buf req;
    size_t sent;
} slow[SLOW];

static void slow_start(void)
{
    for (int i = 0; i < SLOW; i++) {
        const char *body = "{\"id\":1,\"slow\":true}\n{\"id\":2,\"slow\":true}\n";
        buf_init(&slow[i].req, SIZE_MAX);
        buf_printf(&slow[i].req,
                   "POST /v1/topics/fz HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson"
                   "\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                   strlen(body), body);
        slow[i].fd = connect_ingest();
        slow[i].sent = 0;
    }
}

static void slow_step(void)
{
    for (int i = 0; i < SLOW; i++)
        if (slow[i].fd >= 0 && slow[i].sent < slow[i].req.len) {
            if (send_all(slow[i].fd, slow[i].req.data + slow[i].sent, 1) == 0) slow[i].sent++;
        }
}

static void slow_finish(tally *t)
{
    for (int i = 0; i < SLOW; i++) {
        if (slow[i].fd < 0) continue;
        send_all(slow[i].fd, slow[i].req.data + slow[i].sent, slow[i].req.len - slow[i].sent);
        buf in;
        buf_init(&in, SIZE_MAX);
        read_all(slow[i].fd, &in, 15000);
        account(t, &in, "/v1/topics/fz");
        buf_free(&in);
        close(slow[i].fd);
        buf_free(&slow[i].req);
    }
}

static long topic_count(const char *topic)
{
    int64_t low[8], high[8];
    int n = test_kafka_watermarks(&env.kafka, topic, low, high, 8);
    if (n < 0) return -1;
    long total = 0;
    for (int i = 0; i < n; i++)
        total += (long)(high[i] - low[i]);
    return total;
}

static void test_live_fuzz_loop(void)
{
    CHECK_EQ(ingest_env_start(&env, "sluice-ingest-fuzz"), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "fz", 4), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "fa", 4), 0);
    int32_t id = 0;
    sluice_error err;
    CHECK_EQ(sluice_sr_register(env.sr, "fa-value", SCHEMA, NULL, &id, &err), 0);
    CHECK_EQ(ingest_env_run(&env, "ingest:\n  listen: 127.0.0.1:0\n  max_body_bytes: 64KiB\n"
                                  "  max_inflight_bytes: 8MiB\n  delivery_timeout: 10s\n"
                                  "  topics:\n    - {name: fz, schemaless: true}\n"
                                  "    - {name: fa, key_field: name}\n"),
             0);

    const char *s = getenv("SLUICE_FUZZ_SEED");
    rng = s && *s ? strtoull(s, NULL, 0) : 0x5EED5EED12345ULL;
    if (!rng) rng = 1;
    s = getenv("SLUICE_FUZZ_ITER");
    long iters = s && *s ? atol(s) : 2500;
    fprintf(stderr, "fuzz: seed 0x%llx, %ld requests\n", (unsigned long long)rng, iters);

    tally t = {0};
    slow_start();
    char idtext[16];
    snprintf(idtext, sizeof idtext, "%d", (int)id);
    for (long it = 0; it < iters; it++) {
        if (it % 4 == 0) slow_step();
        unsigned si = pick(N_SEEDS);
        const char *path = pick(4) ? seeds[si][0] : paths[pick(sizeof paths / sizeof paths[0])];
        const char *ctype = pick(6) ? seeds[si][1] : ctypes[pick(sizeof ctypes / sizeof ctypes[0])];
        const char *method = methods[pick(sizeof methods / sizeof methods[0])];
        buf body;
        buf_init(&body, SIZE_MAX);
        const char *seed = seeds[si][2], *mark = strstr(seed, "%ID%");
        if (mark) {
            buf_append(&body, seed, (size_t)(mark - seed));
            buf_append(&body, idtext, strlen(idtext));
            buf_append(&body, mark + 4, strlen(mark + 4));
        } else {
            buf_append(&body, seed, strlen(seed));
        }
        if (pick(3)) /* a third stay valid, the rest are mutated */
            mutate(&body);
        if (pick(40) == 0) /* over max_body_bytes */
            while (body.len < 70000)
                buf_append(&body, "{\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n",
                           54);

        buf req;
        buf_init(&req, SIZE_MAX);
        buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method,
                   path);
        if (*ctype || pick(2)) buf_printf(&req, "Content-Type: %s\r\n", ctype);
        for (unsigned h = 0, nh = pick(4); h < nh; h++) {
            switch (pick(5)) {
            case 0:
                buf_printf(&req, "X-Sluice-Key: k%u\r\n", pick(100));
                break;
            case 1:
                buf_printf(&req, "X-Sluice-Header-h%u: v%u\r\n", pick(9), pick(9));
                break;
            case 2:
                buf_printf(&req, "Authorization: Bearer %x\r\n", pick(1u << 30));
                break;
            case 3: {
                buf_printf(&req, "X-Long: ");
                for (unsigned k = 0, n = pick(9000); k < n; k++)
                    buf_append(&req, "a", 1);
                buf_printf(&req, "\r\n");
                break;
            }
            default:
                buf_printf(&req, "%c%c: \x01\r\n", 'A' + pick(26), 'a' + pick(26));
                break;
            }
        }
        int complete = 1;
        unsigned framing = pick(20);
        if (framing < 14) {
            buf_printf(&req, "Content-Length: %zu\r\n\r\n", body.len);
            buf_append(&req, body.data, body.len);
        } else if (framing < 17) { /* chunked, valid */
            buf_printf(&req, "Transfer-Encoding: chunked\r\n\r\n");
            size_t off = 0;
            while (off < body.len) {
                size_t n = 1 + pick(64);
                if (n > body.len - off) n = body.len - off;
                buf_printf(&req, "%zx\r\n", n);
                buf_append(&req, body.data + off, n);
                buf_printf(&req, "\r\n");
                off += n;
            }
            buf_printf(&req, "0\r\n\r\n");
        } else if (framing == 17) { /* chunked, broken */
            buf_printf(&req, "Transfer-Encoding: chunked\r\n\r\n%s\r\n",
                       pick(2) ? "zz" : "ffffffffffffffffff");
            buf_append(&req, body.data, body.len);
            complete = 0;
        } else if (framing == 18) { /* Content-Length larger than the body */
            buf_printf(&req, "Content-Length: %zu\r\n\r\n", body.len + 1 + pick(100));
            buf_append(&req, body.data, body.len);
            complete = 0;
        } else { /* Content-Length smaller: the rest is garbage after it */
            size_t cl = body.len ? pick((unsigned)body.len) : 0;
            buf_printf(&req, "Content-Length: %zu\r\n\r\n", cl);
            buf_append(&req, body.data, body.len);
        }
        int64_t t0 = clock_mono_ms();
        int fd = connect_ingest();
        CHECK(fd >= 0);
        if (fd < 0) {
            buf_free(&req);
            buf_free(&body);
            break;
        }
        send_all(fd, req.data, req.len);
        buf in;
        buf_init(&in, SIZE_MAX);
        read_all(fd, &in, complete ? 15000 : 300);
        close(fd);
        if (clock_mono_ms() - t0 > 1000)
            fprintf(stderr, "fuzz: request %ld (%s %s, framing %u, %zu bytes) took %lld ms\n", it,
                    method, path, framing, req.len, (long long)(clock_mono_ms() - t0));
        if (getenv("SLUICE_FUZZ_DUMP") && clock_mono_ms() - t0 > 1000)
            fprintf(stderr, "--- request\n%.*s\n--- answer\n%.*s\n---\n", (int)req.len,
                    (char *)req.data, (int)in.len, (char *)in.data);
        if (complete || in.len) account(&t, &in, path);
        if (getenv("SLUICE_FUZZ_DUMP")) {
            usleep(500000);
            long fz = topic_count("fz"), fa = topic_count("fa"), slow_n = 0;
            for (int i = 0; i < SLOW; i++)
                slow_n += slow[i].sent == slow[i].req.len ? 2 : 0;
            if (fz != t.accepted_fz + slow_n || fa != t.accepted_fa) {
                fprintf(stderr,
                        "MISMATCH at %ld (%s %s framing %u): fz +%ld, fa +%ld; answer %.12s\n", it,
                        method, path, framing, fz - t.accepted_fz - slow_n, fa - t.accepted_fa,
                        in.len > 9 ? (char *)in.data + 9 : "-");
                t.accepted_fz = fz - slow_n;
                t.accepted_fa = fa;
            }
        }
        buf_free(&in);
        buf_free(&req);
        buf_free(&body);
    }
    slow_finish(&t);

    fprintf(stderr,
            "fuzz: %ld answers (2xx %ld, 4xx %ld, 5xx %ld), %ld without an answer, %ld malformed; "
            "acknowledged fz %ld, fa %ld\n",
            t.responses, t.by_class[2], t.by_class[4], t.by_class[5], t.no_answer, t.malformed,
            t.accepted_fz, t.accepted_fa);
    CHECK_EQ(t.status_500, 0);
    CHECK_EQ(t.malformed, 0);
    CHECK(t.by_class[2] > 50); /* the loop did reach the produce path */
    CHECK(t.by_class[4] > 50); /* ... and the rejections */
    CHECK(test_proc_alive(&env.ingest));

    /* Still serving, and only what was acknowledged is in Kafka. */
    test_http_resp r;
    char url[128];
    snprintf(url, sizeof url, "http://%s/healthz", env.host_port);
    CHECK_EQ(test_http("GET", url, NULL, NULL, &r), 0);
    CHECK_EQ(r.status, 200);
    free(r.body);
    snprintf(url, sizeof url, "http://%s/v1/topics/fa", env.host_port);
    CHECK_EQ(test_http("POST", url, "{\"id\":99,\"name\":\"after\"}", "application/json", &r), 0);
    CHECK_EQ(r.status, 200);
    free(r.body);
    t.accepted_fa++;
    CHECK_EQ(ingest_env_stop_ingest(&env), 0); /* flushed; no sanitizer report */
    long fz = topic_count("fz"), fa = topic_count("fa");
    fprintf(stderr, "fuzz: Kafka has fz %ld, fa %ld\n", fz, fa);
    CHECK_EQ(fz, t.accepted_fz);
    CHECK_EQ(fa, t.accepted_fa);
    CHECK(test_kafka_nothing_dropped(&env.kafka, "fz"));
    CHECK(test_kafka_nothing_dropped(&env.kafka, "fa"));
    ingest_env_stop(&env);
}

TEST_MAIN(T(test_live_fuzz_loop))
