/*
 * test_sr_tls.c — the registry client over TLS: server verification with a
 * CA file, refusal without it, and mutual TLS with a client certificate
 * (with and without a key passphrase). The certificates are made here with
 * the openssl command; the TLS server is the test fault proxy (sluice's own
 * httpd with GnuTLS) in front of a real `sluice registry`.
 */
#include "test.h"

#include <sluice/sr.h>

#include "fault_proxy.h"
#include "support.h"

#include <signal.h>
#include <stdlib.h>

static char *tmp;
static char reg_url[64];
static test_proc reg;

static int sh(const char *fmt, const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, dir, dir, dir, dir, dir, dir, dir, dir);
    return system(cmd);
}

static int make_certs(const char *d)
{
    /* An EC CA; a server certificate for 127.0.0.1; a client certificate
     * whose key is encrypted with the passphrase "pw". */
    const char *steps[] = {
        "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout ca.key -out ca.pem -days 2 -subj /CN=sluice-test-ca 2>/dev/null",
        "cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null",
        "cd %s && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile san.ext 2>/dev/null",
        "cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-keyout client.key -passout pass:pw -out client.csr -subj /CN=sluice-client 2>/dev/null",
        "cd %s && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out client.pem -days 2 2>/dev/null",
        "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout other.key -out other.pem -days 2 -subj /CN=not-our-ca 2>/dev/null",
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (sh(steps[i], d) != 0) return -1;
    return 0;
}

static int setup(void)
{
    if (tmp) return 0;
    tmp = test_tmpdir("sluice-sr-tls");
    if (make_certs(tmp) != 0) return -1;
    char db[600], log[600];
    snprintf(db, sizeof db, "%s/registry.sqlite", tmp);
    snprintf(log, sizeof log, "%s/registry.log", tmp);
    uint16_t port;
    if (test_registry_start(&reg, db, 0, &port, log) != 0) return -1;
    snprintf(reg_url, sizeof reg_url, "http://127.0.0.1:%u", (unsigned)port);
    return 0;
}

static char *path(const char *name)
{
    static char p[8][600];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/%s", tmp, name);
    return p[i];
}

static int try_register(fault_proxy *fp, const char *ca, const char *cert, const char *key,
                        const char *pass, sluice_error *err)
{
    const char *urls[] = {fault_proxy_url(fp)};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.urls = urls;
    cfg.n_urls = 1;
    cfg.max_retries = 0;
    cfg.ca_file = ca;
    cfg.cert_file = cert;
    cfg.key_file = key;
    cfg.key_password = pass;
    sluice_sr *sr = NULL;
    int rc = sluice_sr_new(&cfg, &sr, err);
    if (rc) return rc;
    int32_t id;
    rc = sluice_sr_register(sr, "tls-value", "\"string\"", NULL, &id, err);
    sluice_sr_destroy(sr);
    return rc;
}

static void test_server_verified_with_ca(void)
{
    CHECK_EQ(setup(), 0);
    fault_proxy *fp = fault_proxy_start_tls(reg_url, path("server.pem"), path("server.key"), NULL);
    CHECK(fp);
    CHECK(strncmp(fault_proxy_url(fp), "https://", 8) == 0);
    sluice_error err;
    CHECK_EQ(try_register(fp, path("ca.pem"), NULL, NULL, NULL, &err), 0);
    /* Without our CA the server's certificate does not verify. */
    CHECK_EQ(try_register(fp, NULL, NULL, NULL, NULL, &err), SLUICE_EIO);
    CHECK_CONTAINS(err.msg, "certificate");
    /* Nor with the wrong CA. */
    CHECK_EQ(try_register(fp, path("other.pem"), NULL, NULL, NULL, &err), SLUICE_EIO);
    fault_proxy_stop(fp);
}

static void test_mutual_tls(void)
{
    CHECK_EQ(setup(), 0);
    fault_proxy *fp =
        fault_proxy_start_tls(reg_url, path("server.pem"), path("server.key"), path("ca.pem"));
    CHECK(fp);
    sluice_error err;
    CHECK_EQ(try_register(fp, path("ca.pem"), path("client.pem"), path("client.key"), "pw", &err),
             0);
    /* No client certificate: the server refuses the request. */
    CHECK_EQ(try_register(fp, path("ca.pem"), NULL, NULL, NULL, &err), SLUICE_EAUTH);
    CHECK_EQ(err.remote_code, 403);
    /* A certificate from another CA is refused too. */
    CHECK_EQ(try_register(fp, path("ca.pem"), path("other.pem"), path("other.key"), NULL, &err),
             SLUICE_EAUTH);
    /* The right certificate with a wrong passphrase cannot be used at all. */
    CHECK(try_register(fp, path("ca.pem"), path("client.pem"), path("client.key"), "wrong", &err) !=
          0);
    fault_proxy_stop(fp);
}

static void test_cleanup(void)
{
    CHECK_EQ(setup(), 0);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    test_rmtree(tmp);
}

TEST_MAIN(T(test_server_verified_with_ca), T(test_mutual_tls), T(test_cleanup))
