/*
 * test_ingest_tls.c — `sluice ingest` over HTTPS (GnuTLS through
 * libmicrohttpd), with libcurl as the client:
 *  - ingest.tls.cert_file/key_file: a client trusting the CA gets 200; one
 *    that does not refuses the server; plain HTTP to the port gets nothing;
 *  - ingest.tls.client_ca_file: a request without a client certificate, or
 *    with one from another CA, gets 403 (the handshake completes, the
 *    request is refused before it is read); one signed by the CA gets 200;
 *  - only the acknowledged events are in Kafka;
 *  - a certificate renewed in place (same file names, another CA) is
 *    served after a SIGHUP, which restarts ingest on it.
 * Certificates are made here with the openssl command.
 */
#include "test.h"

#include "ingest_env.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdlib.h>

static ingest_env env;
static const char *trusted_ca = "ca.pem"; /* what post() trusts */

static int sh(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof full, "cd '%s' && %s 2>/dev/null", env.dir, cmd);
    return system(full);
}

static int make_certs(void)
{
    const char *steps[] = {
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout ca.key -out ca.pem -days 2 -subj /CN=sluice-ingest-ca",
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout server.key -out server.csr -subj /CN=127.0.0.1",
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile san.ext",
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout client.key "
        "-passout pass:pw -out client.csr -subj /CN=producer",
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out client.pem -days 2",
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout other.key -out other.pem -days 2 -subj /CN=not-our-ca",
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (sh(steps[i]) != 0) return -1;
    return 0;
}

/* POST one event; the HTTP status, or -(curl error). */
static long post(const char *scheme, int with_ca, const char *cert, const char *key,
                 const char *pass)
{
    char url[160], path[700], cpath[700], kpath[700];
    snprintf(url, sizeof url, "%s://%s/v1/topics/secure", scheme, env.host_port);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    test_grow body = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"id\":1,\"over\":\"tls\"}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    if (with_ca) {
        snprintf(path, sizeof path, "%s/%s", env.dir, trusted_ca);
        curl_easy_setopt(c, CURLOPT_CAINFO, path);
    }
    if (cert) {
        snprintf(cpath, sizeof cpath, "%s/%s", env.dir, cert);
        snprintf(kpath, sizeof kpath, "%s/%s", env.dir, key);
        curl_easy_setopt(c, CURLOPT_SSLCERT, cpath);
        curl_easy_setopt(c, CURLOPT_SSLKEY, kpath);
        if (pass) curl_easy_setopt(c, CURLOPT_KEYPASSWD, pass);
    }
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == 200 && (!body.p || !strstr(body.p, "{\"accepted\":1}")))
        status = -999; /* a 200 must say what it took */
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(body.p);
    return rc == CURLE_OK ? status : -(long)rc;
}

static long secure_count(void)
{
    int64_t low[2], high[2];
    int n = test_kafka_watermarks(&env.kafka, "secure", low, high, 2);
    long t = 0;
    for (int i = 0; i < n; i++)
        t += (long)(high[i] - low[i]);
    return n < 0 ? -1 : t;
}

static void test_https_and_mutual_tls(void)
{
    CHECK_EQ(ingest_env_start(&env, "sluice-ingest-tls"), 0);
    CHECK_EQ(make_certs(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "secure", 2), 0);
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "ingest:\n  listen: 127.0.0.1:0\n"
             "  tls: {cert_file: %s/server.pem, key_file: %s/server.key}\n"
             "  topics:\n    - {name: secure, schemaless: true}\n",
             env.dir, env.dir);
    CHECK_EQ(ingest_env_run(&env, yaml), 0);

    CHECK_EQ(post("https", 1, NULL, NULL, NULL), 200);
    CHECK_EQ(post("https", 0, NULL, NULL, NULL), -(long)CURLE_PEER_FAILED_VERIFICATION);
    CHECK(post("http", 0, NULL, NULL, NULL) < 0); /* plain HTTP: no answer */
    CHECK_EQ(ingest_env_stop_ingest(&env), 0);

    /* Client certificates required. */
    snprintf(yaml, sizeof yaml,
             "ingest:\n  listen: 127.0.0.1:0\n"
             "  tls: {cert_file: %s/server.pem, key_file: %s/server.key, "
             "client_ca_file: %s/ca.pem}\n"
             "  topics:\n    - {name: secure, schemaless: true}\n",
             env.dir, env.dir, env.dir);
    CHECK_EQ(ingest_env_run(&env, yaml), 0);
    long no_cert = post("https", 1, NULL, NULL, NULL);
    fprintf(stderr, "mTLS without a client certificate: %ld\n", no_cert);
    CHECK_EQ(no_cert, 403); /* the handshake completes; the request is refused */
    long other = post("https", 1, "other.pem", "other.key", NULL);
    fprintf(stderr, "mTLS with a certificate from another CA: %ld\n", other);
    CHECK(other == 403 || other < 0);
    CHECK_EQ(post("https", 1, "client.pem", "client.key", "pw"), 200);
    CHECK_EQ(ingest_env_stop_ingest(&env), 0);

    CHECK_EQ(secure_count(), 2); /* the two 200s, nothing else */
    ingest_env_stop(&env);
}

static void test_certificate_renewed_in_place_by_reload(void)
{
    CHECK_EQ(ingest_env_start(&env, "sluice-ingest-tls-reload"), 0);
    CHECK_EQ(make_certs(), 0);
    CHECK_EQ(test_kafka_create_topic(&env.kafka, "secure", 2), 0);
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "ingest:\n  listen: 127.0.0.1:0\n"
             "  tls: {cert_file: %s/server.pem, key_file: %s/server.key}\n"
             "  topics:\n    - {name: secure, schemaless: true}\n",
             env.dir, env.dir);
    CHECK_EQ(ingest_env_run(&env, yaml), 0);
    trusted_ca = "ca.pem";
    CHECK_EQ(post("https", 1, NULL, NULL, NULL), 200);

    /* Another CA signs a new certificate, written over the old files; the
     * configuration itself does not change. */
    CHECK_EQ(sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                "-keyout ca2.key -out ca2.pem -days 2 -subj /CN=sluice-ingest-ca-2"),
             0);
    CHECK_EQ(sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                "-keyout server2.key -out server2.csr -subj /CN=127.0.0.1 && "
                "openssl x509 -req -in server2.csr -CA ca2.pem -CAkey ca2.key -CAcreateserial "
                "-out server2.pem -days 2 -extfile san.ext && "
                "cp server2.pem server.pem && cp server2.key server.key"),
             0);
    CHECK_EQ(kill(env.ingest.pid, SIGHUP), 0);
    char line[512];
    CHECK_EQ(
        test_proc_wait_log(&env.ingest, "msg=\"configuration reloaded\"", 30000, line, sizeof line),
        0);
    CHECK(strstr(line, "restarted=ingest") != NULL);
    trusted_ca = "ca2.pem";
    CHECK_EQ(post("https", 1, NULL, NULL, NULL), 200);
    trusted_ca = "ca.pem";
    CHECK_EQ(post("https", 1, NULL, NULL, NULL), -(long)CURLE_PEER_FAILED_VERIFICATION);
    CHECK_EQ(ingest_env_stop_ingest(&env), 0);
    CHECK_EQ(secure_count(), 2);
    ingest_env_stop(&env);
}

TEST_MAIN(T(test_https_and_mutual_tls), T(test_certificate_renewed_in_place_by_reload))
