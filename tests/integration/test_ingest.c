/*
 * test_ingest.c — `sluice ingest` as a process over real HTTP (libcurl)
 * against the mock Kafka cluster (its own process) and `sluice registry`.
 *
 *  - Avro NDJSON: 1000 events validated and encoded with the latest schema
 *    of pages-value; read back from Kafka, each decodes (our decoder; avsc
 *    does the same in tests/compat) to the event sent, framed with the
 *    schema's id, keyed by key_field, in order per key.
 *  - Schemaless JSON: what is read back is byte-for-byte what was sent, with
 *    the X-Sluice-Key key and X-Sluice-Header-* headers.
 *  - Every error status with its body, and nothing produced for any of them
 *    (one bad event in a thousand → 422 naming it, topic untouched).
 *  - 413 for a body over the bound, read by Python's urllib (which writes
 *    the whole body first) and curl, with a Content-Length and chunked.
 *  - Confluent REST Proxy v2 requests as documented → REST Proxy's answers.
 *  - Broker down → 503 within the delivery timeout, nothing acknowledged
 *    that Kafka did not take; up again → 200.
 *  - Over the in-flight bound → 429 with Retry-After.
 *  - SIGTERM → exit 0.
 */
#include "test.h"

#include "codec/avro_json.h"
#include "common/clock.h"
#include "kafka.h"
#include "support.h"

#include <sluice/avro.h>
#include <sluice/sr.h>
#include <sluice/wire.h>

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>

static struct {
    char *dir;
    test_kafka kafka;
    test_proc reg, ingest;
    char reg_url[64];
    char url[64];
    sluice_sr *sr;
} env;

#define TOKEN "Authorization: Bearer secret-all"

#define PAGE_SCHEMA                                                                                \
    "{\"type\":\"record\",\"name\":\"Page\",\"fields\":["                                          \
    "{\"name\":\"user\",\"type\":\"string\"},{\"name\":\"url\",\"type\":\"string\"},"              \
    "{\"name\":\"ms\",\"type\":\"long\"},{\"name\":\"seq\",\"type\":\"int\"},"                     \
    "{\"name\":\"ref\",\"type\":[\"null\",\"string\"],\"default\":null},"                          \
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"VIEW\","      \
    "\"CLICK\"]}}]}"

static int setup(void)
{
    if (env.dir) return 0;
    env.dir = test_tmpdir("sluice-ingest");
    if (!env.dir || test_kafka_start(&env.kafka, 1, env.dir) != 0) return -1;
    char path[600], log[600];
    snprintf(path, sizeof path, "%s/registry.sqlite", env.dir);
    snprintf(log, sizeof log, "%s/registry.log", env.dir);
    uint16_t port;
    if (test_registry_start(&env.reg, path, 0, &port, log) != 0) return -1;
    snprintf(env.reg_url, sizeof env.reg_url, "http://127.0.0.1:%u", (unsigned)port);
    const char *urls[] = {env.reg_url};
    sluice_sr_config sc;
    sluice_sr_config_init(&sc);
    sc.urls = urls;
    sc.n_urls = 1;
    sluice_error err;
    if (sluice_sr_new(&sc, &env.sr, &err) != 0) return -1;
    /* pages is an Avro topic: its subject must exist before ingest starts. */
    int32_t id;
    if (sluice_sr_register(env.sr, "pages-value", PAGE_SCHEMA, NULL, &id, &err) != 0) return -1;
    const char *topics[] = {"pages", "logs", "rp", "rpj", "big", "down", "fromfile", "anyt"};
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
        if (test_kafka_create_topic(&env.kafka, topics[i], 4) != 0) return -1;
    snprintf(path, sizeof path, "%s/ingest.yaml", env.dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f,
            "log: {level: info}\n"
            "metrics: {listen: 127.0.0.1:0}\n"
            "kafka: {brokers: \"%s\"}\n"
            "registry: {urls: [%s]}\n"
            "ingest:\n"
            "  listen: 127.0.0.1:0\n"
            "  max_body_bytes: 256KiB\n"
            "  max_inflight_bytes: 1MiB\n"
            "  delivery_timeout: 3s\n"
            "  retry_after: 2s\n"
            "  topics:\n"
            "    - {name: pages, key_field: user}\n"
            "    - {name: logs, schemaless: true}\n"
            "    - {name: rp, schema: request}\n"
            "    - {name: rpj, schema: request}\n"
            "    - {name: big, schemaless: true}\n"
            "    - {name: down, schemaless: true}\n"
            "  tokens:\n"
            "    - {token: secret-all, topics: [\"*\"]}\n"
            "    - {token: secret-logs, topics: [logs]}\n",
            env.kafka.bootstrap, env.reg_url);
    fclose(f);
    snprintf(log, sizeof log, "%s/ingest.log", env.dir);
    char *argv[] = {(char *)test_sluice_bin(), "ingest", "-c", path, NULL};
    if (test_proc_start(&env.ingest, argv, log) != 0) return -1;
    char line[512];
    if (test_proc_wait_log(&env.ingest, "sub=ingest msg=listening", 10000, line, sizeof line) != 0)
        return -1;
    const char *addr = strstr(line, "addr=");
    if (!addr) return -1;
    snprintf(env.url, sizeof env.url, "http://%.*s", (int)strcspn(addr + 5, " "), addr + 5);
    return 0;
}

typedef struct resp {
    long status;
    char *body;
    size_t len;
    char retry_after[32];
} resp;

static size_t on_header(char *data, size_t size, size_t n, void *opaque)
{
    resp *r = opaque;
    size_t len = size * n;
    if (len > 13 && strncasecmp(data, "Retry-After: ", 13) == 0)
        snprintf(r->retry_after, sizeof r->retry_after, "%.*s", (int)strcspn(data + 13, "\r\n"),
                 data + 13);
    return len;
}

/* POST body to path with content type and extra headers (NULL-terminated). */
static int post(const char *path, const char *ct, const char *body, size_t len, resp *r,
                const char *const *headers)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    char url[256], cth[160];
    snprintf(url, sizeof url, "%s%s", env.url, path);
    struct curl_slist *h = NULL;
    if (ct) {
        snprintf(cth, sizeof cth, "Content-Type: %s", ct);
        h = curl_slist_append(h, cth);
    }
    for (int i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    test_grow g = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r->body = g.p ? g.p : strdup("");
    r->len = g.len;
    return rc == CURLE_OK ? 0 : -1;
}

static int64_t topic_total(const char *topic)
{
    int64_t low[16], high[16], total = 0;
    int n = test_kafka_watermarks(&env.kafka, topic, low, high, 16);
    for (int i = 0; i < n; i++)
        total += high[i];
    return n < 0 ? -1 : total;
}

typedef struct collected {
    sluice_avro_schema *schema;
    int32_t id;
    json_t *sent; /* array of the events sent, by seq */
    int bad;
    int last_seq[64]; /* per user: order per key */
    long n;
} collected;

static int check_page(void *opaque, const rd_kafka_message_t *m)
{
    collected *c = opaque;
    int32_t id;
    sluice_error err;
    const uint8_t *payload = NULL;
    size_t plen = 0;
    if (sluice_wire_read(m->payload, m->len, &id, &payload, &plen, &err) != 0 || id != c->id) {
        c->bad++;
        return 0;
    }
    buf out;
    buf_init(&out, 1 << 20);
    if (avro_json_decode(sluice_avro_schema_root(c->schema), payload, plen, AVRO_JSON_PLAIN, &out,
                         &err) != 0) {
        c->bad++;
        buf_free(&out);
        return 0;
    }
    json_t *got = json_loadb((const char *)out.data, out.len, 0, NULL);
    buf_free(&out);
    int seq = got ? (int)json_integer_value(json_object_get(got, "seq")) : -1;
    json_t *want = seq >= 0 ? json_array_get(c->sent, (size_t)seq) : NULL;
    if (!want || !json_equal(got, want)) c->bad++;
    /* the key is the user field; events of one user in the order sent */
    const char *user = json_string_value(json_object_get(got, "user"));
    if (!user || m->key_len != strlen(user) || memcmp(m->key, user, m->key_len) != 0) c->bad++;
    int u = user ? atoi(user + 1) : 0;
    if (u >= 0 && u < 64) {
        if (seq <= c->last_seq[u]) c->bad++;
        c->last_seq[u] = seq;
    }
    json_decref(got);
    c->n++;
    return 0;
}

static void test_avro_ndjson_round_trip(void)
{
    CHECK_EQ(setup(), 0);
    collected c = {0};
    sluice_error err;
    CHECK_EQ(sluice_sr_register(env.sr, "pages-value", PAGE_SCHEMA, NULL, &c.id, &err), 0);
    CHECK_EQ(sluice_avro_schema_parse(PAGE_SCHEMA, strlen(PAGE_SCHEMA), &c.schema, &err), 0);
    enum { N = 1000 };
    c.sent = json_array();
    buf body;
    buf_init(&body, 1 << 24);
    for (int i = 0; i < N; i++) {
        char line[512];
        int n = snprintf(line, sizeof line,
                         "{\"user\":\"u%d\",\"url\":\"/p/%d?q=\\u00e9\",\"ms\":%lld,\"seq\":%d,"
                         "\"ref\":%s,\"kind\":\"%s\"}\n",
                         i % 37, i, 1700000000000LL + i, i,
                         i % 3 ? "{\"string\":\"/home\"}" : "null", i % 2 ? "CLICK" : "VIEW");
        buf_append(&body, line, (size_t)n);
        json_t *v = json_loads(line, 0, NULL);
        if (i % 3) /* plain JSON decoding unwraps the union */
            json_object_set_new(v, "ref", json_string("/home"));
        json_array_append_new(c.sent, v);
    }
    for (int u = 0; u < 64; u++)
        c.last_seq[u] = -1;
    const char *hdrs[] = {TOKEN, NULL};
    resp r;
    CHECK_EQ(post("/v1/topics/pages", "application/x-ndjson", (const char *)body.data, body.len, &r,
                  hdrs),
             0);
    CHECK_EQ(r.status, 200);
    CHECK_STR(r.body, "{\"accepted\":1000}");
    free(r.body);
    /* Every event acknowledged before the 200: all there now. */
    CHECK_EQ(topic_total("pages"), N);
    CHECK_EQ(test_consume_all(env.kafka.bootstrap, "pages", check_page, &c, 30000), N);
    CHECK_EQ(c.bad, 0);
    CHECK_EQ(c.n, N);
    /* The same events as one JSON array: 200 again. */
    buf arr;
    buf_init(&arr, 1 << 24);
    buf_append_str(&arr, "[");
    for (int i = 0; i < 10; i++) {
        char *t = json_dumps(json_array_get(c.sent, (size_t)i), JSON_COMPACT);
        buf_printf(&arr, "%s%s", i ? "," : "", t);
        free(t);
    }
    buf_append_str(&arr, "]");
    CHECK_EQ(
        post("/v1/topics/pages", "application/json", (const char *)arr.data, arr.len, &r, hdrs), 0);
    CHECK_EQ(r.status, 200);
    CHECK_STR(r.body, "{\"accepted\":10}");
    free(r.body);
    CHECK_EQ(topic_total("pages"), N + 10);
    buf_free(&arr);
    buf_free(&body);
    json_decref(c.sent);
    sluice_avro_schema_free(c.schema);
}

typedef struct raw_collect {
    const char *want[4];
    int n, bad;
} raw_collect;

static int check_raw(void *opaque, const rd_kafka_message_t *m)
{
    raw_collect *c = opaque;
    /* one partition per key: the order is the order sent */
    if (c->n >= 4 || m->len != strlen(c->want[c->n]) || memcmp(m->payload, c->want[c->n], m->len))
        c->bad++;
    if (m->key_len != 4 || memcmp(m->key, "k-42", 4) != 0) c->bad++;
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t vl;
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, "Trace", &v, &vl) ||
        vl != 5 || memcmp(v, "abc12", 5) != 0)
        c->bad++;
    c->n++;
    return 0;
}

static void test_schemaless_byte_exact(void)
{
    CHECK_EQ(setup(), 0);
    const char *one = "{ \"level\" : \"info\",\"msg\":\"caf\\u00e9 \\\"quoted\\\"\", \"n\": 1.50 }";
    const char *nd = "{\"a\":1}\n\n{\"b\":[1,2,{\"c\":null}]}\r\n  {\"z\":\"end\"}  ";
    const char *hdrs[] = {"Authorization: Bearer secret-logs", "X-Sluice-Key: k-42",
                          "X-Sluice-Header-Trace: abc12", NULL};
    resp r;
    CHECK_EQ(post("/v1/topics/logs", "application/json; charset=utf-8", one, strlen(one), &r, hdrs),
             0);
    CHECK_EQ(r.status, 200);
    free(r.body);
    CHECK_EQ(post("/v1/topics/logs", "application/x-ndjson", nd, strlen(nd), &r, hdrs), 0);
    CHECK_EQ(r.status, 200);
    CHECK_STR(r.body, "{\"accepted\":3}");
    free(r.body);
    raw_collect c = {{"{ \"level\" : \"info\",\"msg\":\"caf\\u00e9 \\\"quoted\\\"\", \"n\": 1.50 }",
                      "{\"a\":1}", "{\"b\":[1,2,{\"c\":null}]}", "{\"z\":\"end\"}"},
                     0,
                     0};
    CHECK_EQ(test_consume_all(env.kafka.bootstrap, "logs", check_raw, &c, 30000), 4);
    CHECK_EQ(c.bad, 0);
}

static void expect(const char *path, const char *ct, const char *body, size_t len,
                   const char *const *hdrs, long status, const char *needle)
{
    resp r;
    /* A body refused before it is read (413) may cut the upload short:
     * what matters is the answer. */
    int rc = post(path, ct, body, len, &r, hdrs);
    CHECK(rc == 0 || r.status == status);
    if (r.status != status || !strstr(r.body, needle))
        fprintf(stderr, "  %s -> %ld %s (want %ld with '%s')\n", path, r.status, r.body, status,
                needle);
    CHECK_EQ(r.status, status);
    CHECK(strstr(r.body, needle) != NULL);
    free(r.body);
}

static void test_errors_write_nothing(void)
{
    CHECK_EQ(setup(), 0);
    const char *ok[] = {TOKEN, NULL};
    int64_t before = topic_total("pages");
    const char *ev =
        "{\"user\":\"u1\",\"url\":\"/\",\"ms\":1,\"seq\":1,\"ref\":null,\"kind\":\"VIEW\"}";
    expect("/v1/topics/pages", "text/plain", ev, strlen(ev), ok, 415, "unsupported content type");
    expect("/v1/topics/pages", "application/json", "{\"user\":\n\"u1\",]", 16, ok, 400,
           "line 2, column");
    expect("/v1/topics/pages", "application/x-ndjson", "{\"a\":1}\n{\"a\":\n", 15, ok, 400,
           "line 2, column 6 (byte 13)"); /* where the missing value should start */
    expect("/v1/topics/pages", "application/json", "42", 2, ok, 400, "JSON object");
    expect("/v1/topics/nope", "application/json", ev, strlen(ev), ok, 404, "not configured");
    expect("/v1/topics/bad%20name", "application/json", ev, strlen(ev), ok, 400, "invalid topic");
    expect("/v1/topics/pages", "application/json", ev, strlen(ev), NULL, 401, "bearer token");
    const char *wrong[] = {"Authorization: Bearer nope", NULL};
    expect("/v1/topics/pages", "application/json", ev, strlen(ev), wrong, 401, "bearer token");
    const char *logs_only[] = {"Authorization: Bearer secret-logs", NULL};
    expect("/v1/topics/pages", "application/json", ev, strlen(ev), logs_only, 403, "may not write");
    char *huge = malloc(300 * 1024);
    memset(huge, ' ', 300 * 1024);
    huge[0] = '{';
    huge[300 * 1024 - 1] = '}';
    expect("/v1/topics/logs", "application/json", huge, 300 * 1024, ok, 413, "larger than");
    free(huge);

    /* One bad event in a thousand: 422 naming it, and nothing produced. */
    buf body;
    buf_init(&body, 1 << 24);
    for (int i = 0; i < 1000; i++) {
        if (i == 517)
            buf_printf(&body,
                       "{\"user\":\"u1\",\"url\":\"/\",\"ms\":\"soon\",\"seq\":%d,"
                       "\"ref\":null,\"kind\":\"VIEW\"}\n",
                       i);
        else if (i == 900)
            buf_printf(&body,
                       "{\"user\":\"u1\",\"url\":\"/\",\"ms\":1,\"seq\":%d,"
                       "\"ref\":null,\"kind\":\"SCROLL\"}\n",
                       i);
        else
            buf_printf(&body,
                       "{\"user\":\"u1\",\"url\":\"/\",\"ms\":1,\"seq\":%d,"
                       "\"ref\":null,\"kind\":\"VIEW\"}\n",
                       i);
    }
    resp r;
    CHECK_EQ(
        post("/v1/topics/pages", "application/x-ndjson", (const char *)body.data, body.len, &r, ok),
        0);
    CHECK_EQ(r.status, 422);
    json_t *j = json_loads(r.body, 0, NULL);
    CHECK(j != NULL);
    json_t *errs = json_object_get(j, "errors");
    CHECK_EQ(json_array_size(errs), 2);
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(errs, 0), "index")), 517);
    CHECK_STR(json_string_value(json_object_get(json_array_get(errs, 0), "path")), "$.ms");
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(errs, 1), "index")), 900);
    CHECK(strstr(json_string_value(json_object_get(json_array_get(errs, 1), "message")), "SCROLL"));
    json_decref(j);
    free(r.body);
    buf_free(&body);
    CHECK_EQ(topic_total("pages"), before);
    CHECK_EQ(topic_total("logs"),
             5); /* test_schemaless_byte_exact's 4, test_413_every_client's 1 */
}

/* A client that writes its whole body before reading (Python's urllib, the
 * standard library of the language most event producers are scripted in)
 * must read the 413, for a body with a Content-Length and a chunked one. */
static const char *py_413 =
    "import sys, urllib.request, urllib.error\n"
    "url, token, size, chunked = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == 'c'\n"
    "body = b'{\"pad\":\"' + b'x' * (size - 10) + b'\"}'\n"
    "data = (body[i:i + 8192] for i in range(0, len(body), 8192)) if chunked else body\n"
    "req = urllib.request.Request(url, data=data, method='POST', headers={\n"
    "    'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token})\n"
    "try:\n"
    "    with urllib.request.urlopen(req, timeout=30) as r:\n"
    "        print(r.status, r.read().decode())\n"
    "except urllib.error.HTTPError as e:\n"
    "    print(e.code, e.read().decode())\n"
    "except Exception as e:\n"
    "    print('EXC', type(e).__name__, e)\n";

static int run_py_413(size_t size, int chunked, char *out, size_t cap)
{
    char script[600], cmd[1400];
    snprintf(script, sizeof script, "%s/ingest_413.py", env.dir);
    FILE *f = fopen(script, "w");
    if (!f) return -1;
    fputs(py_413, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 %s %s/v1/topics/logs secret-all %zu %s 2>&1", script,
             env.url, size, chunked ? "c" : "l");
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    return pclose(p) == 0 ? 0 : -1;
}

typedef struct chunk_src {
    size_t left;
} chunk_src;

static size_t read_chunk(char *dst, size_t size, size_t n, void *opaque)
{
    chunk_src *c = opaque;
    size_t k = size * n < c->left ? size * n : c->left;
    memset(dst, ' ', k);
    c->left -= k;
    return k;
}

static void test_413_every_client(void)
{
    CHECK_EQ(setup(), 0);
    int64_t before = topic_total("logs");
    char out[1024];
    /* max_body_bytes is 256 KiB; 8 MiB is more than loopback's socket
     * buffers hold, so the client is still writing when the bound is
     * passed (at 300 KiB the kernel takes it all and hides the problem). */
    for (int chunked = 0; chunked < 2; chunked++) {
        CHECK_EQ(run_py_413(8 << 20, chunked, out, sizeof out), 0);
        if (strncmp(out, "413 ", 4) != 0)
            fprintf(stderr, "  urllib, %s: %s\n", chunked ? "chunked" : "Content-Length", out);
        CHECK(strncmp(out, "413 ", 4) == 0);
        CHECK(strstr(out, "larger than 262144 bytes") != NULL);
    }
    /* curl, chunked (its Content-Length case is in test_errors_write_nothing). */
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof url, "%s/v1/topics/logs", env.url);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Transfer-Encoding: chunked");
    h = curl_slist_append(h, TOKEN);
    chunk_src src = {8 << 20};
    test_grow g = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_chunk);
    curl_easy_setopt(c, CURLOPT_READDATA, &src);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(g.p);
    CHECK_EQ(rc, CURLE_OK);
    CHECK_EQ(status, 413);
    /* A body just under the bound still goes through, on a connection
     * that has carried the refusals. */
    CHECK_EQ(run_py_413(200 * 1024, 0, out, sizeof out), 0);
    CHECK(strncmp(out, "200 ", 4) == 0);
    CHECK_EQ(topic_total("logs"), before + 1); /* nothing of the refused bodies */
}

/* A second ingest process on its own config; exit status (or -1 when it
 * is still running after the log line appeared: then *p is left running). */
static int start_other(const char *name, const char *yaml, test_proc *p, char *url, size_t n)
{
    char path[600], log[600];
    snprintf(path, sizeof path, "%s/%s.yaml", env.dir, name);
    snprintf(log, sizeof log, "%s/%s.log", env.dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -2;
    fprintf(f,
            "kafka: {brokers: \"%s\"}\nregistry: {urls: [%s]}\nmetrics: {listen: "
            "127.0.0.1:0}\n%s",
            env.kafka.bootstrap, env.reg_url, yaml);
    fclose(f);
    char *argv[] = {(char *)test_sluice_bin(), "ingest", "-c", path, NULL};
    if (test_proc_start(p, argv, log) != 0) return -2;
    char line[512];
    if (test_proc_wait_log(p, "sub=ingest msg=listening", 10000, line, sizeof line) == 0) {
        const char *addr = strstr(line, "addr=");
        snprintf(url, n, "http://%.*s", addr ? (int)strcspn(addr + 5, " ") : 0,
                 addr ? addr + 5 : "");
        return -1;
    }
    return test_proc_wait(p, 10000);
}

/* Issue 16: a topic is schemaless only when its config says so. */
static void test_no_silent_schemaless(void)
{
    CHECK_EQ(setup(), 0);
    test_proc p;
    char url[128], path[600];
    /* A configured topic whose subject does not exist: ingest refuses to
     * start (exit 2), naming the topic and the way out. */
    int st = start_other("nosub", "ingest:\n  listen: 127.0.0.1:0\n  topics: [{name: nosub}]\n", &p,
                         url, sizeof url);
    CHECK_EQ(st, 2);
    snprintf(path, sizeof path, "%s/nosub.log", env.dir);
    char log[8192] = "";
    FILE *lf = fopen(path, "r");
    CHECK(lf != NULL);
    size_t got = fread(log, 1, sizeof log - 1, lf);
    log[got] = '\0';
    fclose(lf);
    CHECK(strstr(log, "ingest.topics[0] (nosub): subject nosub-value has no schema") != NULL);
    CHECK(strstr(log, "schema: none") != NULL);
    /* value_schema_file: registered at start, then used. */
    snprintf(path, sizeof path, "%s/fromfile.avsc", env.dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("{\"type\":\"record\",\"name\":\"F\",\"fields\":[{\"name\":\"n\",\"type\":\"int\"}]}", f);
    fclose(f);
    char yaml[1200];
    snprintf(yaml, sizeof yaml,
             "ingest:\n  listen: 127.0.0.1:0\n  topics: [{name: fromfile, value_schema_file: "
             "\"%s\"}]\n",
             path);
    CHECK_EQ(start_other("fromfile", yaml, &p, url, sizeof url), -1);
    const sluice_sr_schema *latest = NULL;
    sluice_error err;
    CHECK_EQ(sluice_sr_get_latest(env.sr, "fromfile-value", &latest, &err), 0);
    CHECK(strstr(latest->schema, "\"F\"") != NULL);
    sluice_sr_schema_release(latest);
    char target[256];
    snprintf(target, sizeof target, "%s/v1/topics/fromfile", url);
    test_http_resp hr;
    CHECK_EQ(test_http("POST", target, "{\"n\":7}", "application/json", &hr), 0);
    CHECK_EQ(hr.status, 200);
    free(hr.body);
    CHECK_EQ(test_http("POST", target, "{\"n\":\"x\"}", "application/json", &hr), 0);
    CHECK_EQ(hr.status, 422); /* validated: it has a schema */
    free(hr.body);
    CHECK_EQ(test_proc_stop(&p, SIGTERM, 10000), 0);
    /* Any topic allowed (no topics list): one without a subject is a 422
     * that says how to accept it, not a silent pass-through. */
    CHECK_EQ(start_other("anyt", "ingest:\n  listen: 127.0.0.1:0\n", &p, url, sizeof url), -1);
    snprintf(target, sizeof target, "%s/v1/topics/anyt", url);
    CHECK_EQ(test_http("POST", target, "{\"a\":1}", "application/json", &hr), 0);
    CHECK_EQ(hr.status, 422);
    CHECK(strstr(hr.body, "subject anyt-value has no schema") != NULL);
    free(hr.body);
    CHECK_EQ(test_proc_stop(&p, SIGTERM, 10000), 0);
    CHECK_EQ(topic_total("anyt"), 0);
    CHECK_EQ(topic_total("fromfile"), 1);
}

static void test_rest_proxy_v2(void)
{
    CHECK_EQ(setup(), 0);
    const char *ok[] = {TOKEN, NULL};
    /* As in Confluent's REST Proxy documentation: a schema given inline. */
    const char *schema = "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"User\\\",\\\"fields\\\":"
                         "[{\\\"name\\\":\\\"name\\\",\\\"type\\\":\\\"string\\\"}]}";
    char body[1024];
    int n =
        snprintf(body, sizeof body,
                 "{\"value_schema\": \"%s\", \"records\": [{\"value\": {\"name\": \"testUser\"}},"
                 "{\"value\": {\"name\": \"other\"}, \"partition\": 2}]}",
                 schema);
    resp r;
    CHECK_EQ(post("/topics/rp", "application/vnd.kafka.avro.v2+json", body, (size_t)n, &r, ok), 0);
    CHECK_EQ(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    CHECK(j != NULL);
    CHECK(json_is_null(json_object_get(j, "key_schema_id")));
    json_int_t id = json_integer_value(json_object_get(j, "value_schema_id"));
    CHECK(id > 0);
    json_t *offs = json_object_get(j, "offsets");
    CHECK_EQ(json_array_size(offs), 2);
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(offs, 1), "partition")), 2);
    CHECK(json_is_null(json_object_get(json_array_get(offs, 0), "error_code")));
    json_decref(j);
    free(r.body);
    /* The schema is registered under rp-value; by id next time. */
    const sluice_sr_schema *s = NULL;
    sluice_error err;
    CHECK_EQ(sluice_sr_get_latest(env.sr, "rp-value", &s, &err), 0);
    CHECK_EQ(s->id, id);
    sluice_sr_schema_release(s);
    n = snprintf(body, sizeof body,
                 "{\"value_schema_id\": %lld, \"records\": [{\"value\": {\"name\": \"third\"}}]}",
                 (long long)id);
    CHECK_EQ(post("/topics/rp", "application/vnd.kafka.avro.v2+json", body, (size_t)n, &r, ok), 0);
    CHECK_EQ(r.status, 200);
    CHECK(strstr(r.body, "\"offsets\":[{\"partition\":"));
    free(r.body);
    CHECK_EQ(topic_total("rp"), 3);
    /* Keys without a key schema, a value that does not match: 422, REST Proxy's error shape. */
    n = snprintf(body, sizeof body,
                 "{\"value_schema_id\": %lld, \"records\": [{\"key\": \"k\", \"value\": {\"name\": "
                 "\"x\"}}]}",
                 (long long)id);
    expect("/topics/rp", "application/vnd.kafka.avro.v2+json", body, (size_t)n, ok, 422,
           "\"error_code\":42201");
    n = snprintf(body, sizeof body,
                 "{\"value_schema_id\": %lld, \"records\": [{\"value\": {\"name\": 5}}]}",
                 (long long)id);
    expect("/topics/rp", "application/vnd.kafka.avro.v2+json", body, (size_t)n, ok, 422,
           "\"error_code\":42203");
    CHECK_EQ(topic_total("rp"), 3);
    /* JSON embedded format: keys and values as JSON. */
    const char *jb = "{\"records\":[{\"key\":\"somekey\",\"value\":{\"foo\":\"bar\"}},"
                     "{\"value\":[\"foo\",\"bar\"],\"partition\":1},{\"value\":53.5}]}";
    CHECK_EQ(post("/topics/rpj", "application/vnd.kafka.json.v2+json", jb, strlen(jb), &r, ok), 0);
    CHECK_EQ(r.status, 200);
    CHECK(strstr(r.body, "\"value_schema_id\":null"));
    free(r.body);
    CHECK_EQ(topic_total("rpj"), 3);
    expect("/topics/rpj", "application/json", jb, strlen(jb), ok, 415, "vnd.kafka");
}

static void test_broker_down_503_then_up(void)
{
    CHECK_EQ(setup(), 0);
    const char *ok[] = {TOKEN, NULL};
    const char *ev = "{\"n\":1}";
    resp r;
    CHECK_EQ(post("/v1/topics/down", "application/json", ev, strlen(ev), &r, ok), 0);
    CHECK_EQ(r.status, 200);
    free(r.body);
    CHECK_EQ(test_kafka_cmd(&env.kafka, "down 1", NULL, 0), 0);
    int64_t t0 = clock_mono_ms();
    CHECK_EQ(post("/v1/topics/down", "application/json", "{\"n\":2}", 7, &r, ok), 0);
    int64_t took = clock_mono_ms() - t0;
    fprintf(stderr, "  broker down: %ld after %lld ms: %s\n", r.status, (long long)took, r.body);
    CHECK_EQ(r.status, 503);
    CHECK_STR(r.retry_after, "2");
    CHECK(strstr(r.body, "did not acknowledge 1 of 1"));
    free(r.body);
    CHECK_EQ(test_kafka_cmd(&env.kafka, "up 1", NULL, 0), 0);
    /* A client retries after Retry-After until the producer has reconnected
     * (the idempotent producer first recovers from the timed-out message). */
    int attempts = 0;
    do {
        if (attempts) clock_sleep_ms(1000);
        CHECK_EQ(post("/v1/topics/down", "application/json", "{\"n\":3}", 7, &r, ok), 0);
        free(r.body);
    } while (r.status == 503 && ++attempts < 30);
    fprintf(stderr, "  broker up: 200 after %d retries\n", attempts);
    CHECK_EQ(r.status, 200);
    /* n=2 was never acknowledged and must not have been written later. */
    clock_sleep_ms(1000);
    int64_t total = topic_total("down");
    /* n=1 and n=3 (a 503 may have been taken later: then it shows too, as a
     * duplicate the client's retry could not avoid — at least once). */
    CHECK(total >= 2);
    fprintf(stderr, "  topic holds %lld messages\n", (long long)total);
}

/* Over the in-flight bound (1 MiB): with the broker down, requests wait for
 * their acknowledgement and keep their bytes; the next one that would pass
 * the bound gets 429 with Retry-After, at once. */
static void test_inflight_bound_429(void)
{
    CHECK_EQ(setup(), 0);
    enum { SIZE = 200 * 1024, PARALLEL = 8 };
    char *body = malloc(SIZE);
    memset(body, ' ', SIZE);
    memcpy(body, "{\"pad\":\"", 8);
    memset(body + 8, 'x', SIZE - 10);
    body[SIZE - 2] = '"';
    body[SIZE - 1] = '}';
    CHECK_EQ(test_kafka_cmd(&env.kafka, "down 1", NULL, 0), 0);
    CURLM *multi = curl_multi_init();
    CURL *easy[PARALLEL];
    resp rs[PARALLEL];
    test_grow grow[PARALLEL];
    char url[256];
    snprintf(url, sizeof url, "%s/v1/topics/big", env.url);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, TOKEN);
    for (int i = 0; i < PARALLEL; i++) {
        memset(&rs[i], 0, sizeof rs[i]);
        memset(&grow[i], 0, sizeof grow[i]);
        easy[i] = curl_easy_init();
        curl_easy_setopt(easy[i], CURLOPT_URL, url);
        curl_easy_setopt(easy[i], CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(easy[i], CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)SIZE);
        curl_easy_setopt(easy[i], CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, test_curl_collect);
        curl_easy_setopt(easy[i], CURLOPT_WRITEDATA, &grow[i]);
        curl_easy_setopt(easy[i], CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(easy[i], CURLOPT_HEADERDATA, &rs[i]);
        curl_multi_add_handle(multi, easy[i]);
    }
    int running = 1;
    uint64_t peak_rss = 0;
    while (running) {
        curl_multi_perform(multi, &running);
        curl_multi_poll(multi, NULL, 0, 100, NULL);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/statm", (int)env.ingest.pid);
        FILE *f = fopen(path, "r");
        unsigned long sz = 0, res = 0;
        if (f && fscanf(f, "%lu %lu", &sz, &res) == 2 && res * 4096ul > peak_rss)
            peak_rss = res * 4096ul;
        if (f) fclose(f);
    }
    int n200 = 0, n429 = 0, n503 = 0;
    for (int i = 0; i < PARALLEL; i++) {
        curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &rs[i].status);
        if (rs[i].status == 429) {
            n429++;
            CHECK_STR(rs[i].retry_after, "2");
        }
        n200 += rs[i].status == 200;
        n503 += rs[i].status == 503;
        curl_multi_remove_handle(multi, easy[i]);
        curl_easy_cleanup(easy[i]);
        free(grow[i].p);
    }
    curl_multi_cleanup(multi);
    curl_slist_free_all(h);
    fprintf(stderr,
            "  %d parallel 200 KiB requests, broker down: %d x 503, %d x 429, %d x 200; "
            "peak RSS %.1f MiB\n",
            PARALLEL, n503, n429, n200, peak_rss / 1048576.0);
    /* 1 MiB holds at most five 200 KiB bodies: JSON events are produced from
     * the body itself, so a request takes its body and a few words per
     * event (with Avro it would be the body and the encoded events). */
    CHECK(n429 >= PARALLEL - 5);
    CHECK_EQ(n503 + n429, PARALLEL);
    CHECK_EQ(test_kafka_cmd(&env.kafka, "up 1", NULL, 0), 0);
    resp r;
    CHECK_EQ(
        post("/v1/topics/big", "application/json", body, SIZE, &r, (const char *[]){TOKEN, NULL}),
        0);
    CHECK_EQ(r.status, 200);
    free(r.body);
    free(body);
    clock_sleep_ms(1000);
    CHECK_EQ(topic_total("big"), 1);
}

static void test_sigterm_exits_0(void)
{
    CHECK_EQ(setup(), 0);
    char metrics[256];
    snprintf(metrics, sizeof metrics, "%s/metrics", env.url);
    CHECK(test_scrape_sum(metrics, "sluice_ingest_events_total", NULL) >= 1000);
    CHECK(test_scrape_sum(metrics, "sluice_ingest_requests_total", "status=\"422\"") >= 3);
    CHECK_EQ(test_proc_stop(&env.ingest, SIGTERM, 30000), 0);
}

static void test_cleanup(void)
{
    sluice_sr_destroy(env.sr);
    if (env.ingest.pid > 0) test_proc_stop(&env.ingest, SIGKILL, 1000);
    if (env.reg.pid > 0) test_proc_stop(&env.reg, SIGTERM, 10000);
    test_kafka_stop(&env.kafka);
    test_rmtree(env.dir);
    free(env.dir);
}

TEST_MAIN(T(test_avro_ndjson_round_trip), T(test_schemaless_byte_exact), T(test_413_every_client),
          T(test_no_silent_schemaless), T(test_errors_write_nothing), T(test_rest_proxy_v2),
          T(test_broker_down_503_then_up), T(test_inflight_bound_429), T(test_sigterm_exits_0),
          T(test_cleanup))
