/*
 * test_app_config.c — the sluice.yaml contract (src/app/config.c): defaults,
 * a full registry section with ${ENV} secrets, conversion into the registry
 * client's settings, and errors that name the key and line.
 */
#include "test.h"

#include "app/config.h"

#include <sluice/log.h>

static void test_defaults(void)
{
    app_config cfg;
    sluice_error err;
    CHECK_EQ(app_config_load(NULL, &cfg, &err, NULL, NULL), 0);
    CHECK_EQ(cfg.log.level, SLUICE_LOG_INFO);
    CHECK_EQ(cfg.log.format, SLUICE_LOG_LOGFMT);
    CHECK_STR(cfg.metrics.listen, "127.0.0.1:9100");
    CHECK_EQ(cfg.registry.urls.n, 0);
    CHECK_EQ(cfg.registry.cache.max_bytes, 64ull << 20);
    CHECK_EQ(cfg.registry.cache.max_entries, 10000);
    CHECK_EQ(cfg.registry.cache.latest_ttl_ms, 60000);
    CHECK_EQ(cfg.registry.cache.negative_ttl_ms, 5000);
    CHECK_EQ(cfg.registry.request_timeout_ms, 10000);
    sluice_sr_config sc;
    app_config_sr(&cfg, &sc);
    sluice_sr_config def;
    sluice_sr_config_init(&def);
    /* The YAML defaults and the library's defaults agree. */
    CHECK_EQ(sc.cache_max_bytes, def.cache_max_bytes);
    CHECK_EQ(sc.cache_max_entries, def.cache_max_entries);
    CHECK_EQ(sc.latest_ttl_ms, def.latest_ttl_ms);
    CHECK_EQ(sc.negative_ttl_ms, def.negative_ttl_ms);
    CHECK_EQ(sc.connect_timeout_ms, def.connect_timeout_ms);
    CHECK_EQ(sc.request_timeout_ms, def.request_timeout_ms);
    CHECK_EQ(sc.max_retries, def.max_retries);
    CHECK_EQ(sc.backoff_initial_ms, def.backoff_initial_ms);
    CHECK_EQ(sc.backoff_max_ms, def.backoff_max_ms);
    CHECK_EQ(sc.max_response_bytes, def.max_response_bytes);
    app_config_free(&cfg);
}

static void test_full_registry_section(void)
{
    setenv("SR_PASSWORD", "hunter2", 1);
    const char *yaml = "log:\n"
                       "  level: debug\n"
                       "  format: json\n"
                       "registry:\n"
                       "  urls: [http://a:8081, http://b:8081/]\n"
                       "  username: svc\n"
                       "  password: ${SR_PASSWORD}\n"
                       "  tls:\n"
                       "    ca_file: /etc/ssl/ca.pem\n"
                       "  max_retries: 7\n"
                       "  request_timeout: 1.5s\n"
                       "  cache:\n"
                       "    max_bytes: 8MiB\n"
                       "    latest_ttl: 0\n";
    app_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sluice_error err;
    CHECK_EQ(cfg_load_string(yaml, strlen(yaml), "t.yaml", app_config_keys, &cfg, &err, NULL, NULL),
             0);
    CHECK_EQ(cfg.log.level, SLUICE_LOG_DEBUG);
    CHECK_EQ(cfg.log.format, SLUICE_LOG_JSON);
    CHECK_EQ(cfg.registry.urls.n, 2);
    CHECK_STR(cfg.registry.urls.items[1], "http://b:8081/");
    CHECK_STR(cfg.registry.password, "hunter2");
    CHECK_STR(cfg.registry.tls.ca_file, "/etc/ssl/ca.pem");
    sluice_sr_config sc;
    app_config_sr(&cfg, &sc);
    CHECK_EQ(sc.n_urls, 2);
    CHECK_STR(sc.urls[0], "http://a:8081");
    CHECK_STR(sc.username, "svc");
    CHECK_STR(sc.password, "hunter2");
    CHECK_STR(sc.ca_file, "/etc/ssl/ca.pem");
    CHECK_EQ(sc.max_retries, 7);
    CHECK_EQ(sc.request_timeout_ms, 1500);
    CHECK_EQ(sc.cache_max_bytes, 8u << 20);
    CHECK_EQ(sc.latest_ttl_ms, 0);
    app_config_free(&cfg);
}

struct collected {
    char all[4096];
    int n;
};

static void collect(void *opaque, const char *msg)
{
    struct collected *c = opaque;
    c->n++;
    strncat(c->all, msg, sizeof c->all - strlen(c->all) - 2);
    strcat(c->all, "\n");
}

static void test_errors_name_key_and_line(void)
{
    unsetenv("SLUICE_TEST_UNSET");
    const char *yaml = "registry:\n"
                       "  urls: [http://a:8081]\n"
                       "  cache:\n"
                       "    max_byte: 8MiB\n"
                       "  max_retries: many\n"
                       "  password: ${SLUICE_TEST_UNSET}\n"
                       "log:\n"
                       "  level: loud\n";
    app_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sluice_error err;
    struct collected c = {.n = 0};
    CHECK_EQ(
        cfg_load_string(yaml, strlen(yaml), "bad.yaml", app_config_keys, &cfg, &err, collect, &c),
        SLUICE_ECONFIG);
    CHECK_EQ(c.n, 4);
    CHECK_CONTAINS(c.all, "bad.yaml:4:5: registry.cache.max_byte: unknown key");
    CHECK_CONTAINS(c.all, "bad.yaml:5:16: registry.max_retries:");
    CHECK_CONTAINS(c.all, "bad.yaml:6:13: registry.password:");
    CHECK_CONTAINS(c.all, "SLUICE_TEST_UNSET");
    CHECK_CONTAINS(c.all, "bad.yaml:8:10: log.level:");
    CHECK_CONTAINS(err.msg, "bad.yaml:4:5");
    app_config_free(&cfg);
}

TEST_MAIN(T(test_defaults), T(test_full_registry_section), T(test_errors_name_key_and_line))
