/*
 * fuzz_config.c — libFuzzer target for the YAML config loader: arbitrary
 * bytes go to cfg_load_string against a nested table that uses every
 * cfg_kind (sections, a list of sections with its own section, a map, a
 * lone-scalar list, ranges, enums, required keys, YAML defaults). The loader
 * must never crash, read out of bounds, or leak, whatever it accepts; a
 * failed load must leave nothing allocated. Short inputs also go to the
 * size and duration parsers. Seeds: fuzz/corpus/config/.
 */
#include "common/config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct batch {
    int64_t rows;
    uint64_t bytes;
    int64_t age_ms;
} batch;

typedef struct route {
    char *topic;
    char *table;
    int format;
    int enabled;
    batch batch;
    cfg_strings tags;
} route;

typedef struct fuzz_cfg {
    cfg_strings brokers;
    cfg_map properties;
    struct {
        char *url;
        char *password;
        uint64_t cache;
        int64_t ttl_ms;
    } registry;
    int64_t threads;
    cfg_list routes;
} fuzz_cfg;

static const char *const formats[] = {"auto", "avro", "json", NULL};

static const cfg_key batch_keys[] = {
    {.name = "max_rows",
     .kind = CFG_INT,
     .offset = offsetof(batch, rows),
     .default_value = "10",
     .min = 1,
     .max = 1000000},
    {.name = "max_bytes",
     .kind = CFG_SIZE,
     .offset = offsetof(batch, bytes),
     .default_value = "1MiB",
     .min = 1,
     .max = INT64_MAX},
    {.name = "max_age",
     .kind = CFG_DURATION,
     .offset = offsetof(batch, age_ms),
     .default_value = "1.5s"},
    {0},
};

static const cfg_key route_keys[] = {
    {.name = "topic", .kind = CFG_STRING, .offset = offsetof(route, topic), .required = 1},
    {.name = "table",
     .kind = CFG_STRING,
     .offset = offsetof(route, table),
     .default_value = "${FUZZ_TABLE:-default.t}"},
    {.name = "format",
     .kind = CFG_ENUM,
     .offset = offsetof(route, format),
     .default_value = "auto",
     .enum_values = formats},
    {.name = "enabled",
     .kind = CFG_BOOL,
     .offset = offsetof(route, enabled),
     .default_value = "yes"},
    {.name = "batch",
     .kind = CFG_SECTION,
     .offset = offsetof(route, batch),
     .children = batch_keys},
    {.name = "tags",
     .kind = CFG_STRING_LIST,
     .offset = offsetof(route, tags),
     .default_value = "[a, b]"},
    {0},
};

static const cfg_key registry_keys[] = {
    {.name = "url",
     .kind = CFG_STRING,
     .offset = offsetof(fuzz_cfg, registry.url) - offsetof(fuzz_cfg, registry)},
    {.name = "password",
     .kind = CFG_STRING,
     .offset = offsetof(fuzz_cfg, registry.password) - offsetof(fuzz_cfg, registry)},
    {.name = "cache",
     .kind = CFG_SIZE,
     .offset = offsetof(fuzz_cfg, registry.cache) - offsetof(fuzz_cfg, registry),
     .default_value = "64MiB"},
    {.name = "ttl",
     .kind = CFG_DURATION,
     .offset = offsetof(fuzz_cfg, registry.ttl_ms) - offsetof(fuzz_cfg, registry),
     .default_value = "5m",
     .min = 0,
     .max = 86400000},
    {0},
};

static const cfg_key root_keys[] = {
    {.name = "brokers", .kind = CFG_STRING_LIST, .offset = offsetof(fuzz_cfg, brokers)},
    {.name = "properties", .kind = CFG_STRING_MAP, .offset = offsetof(fuzz_cfg, properties)},
    {.name = "registry",
     .kind = CFG_SECTION,
     .offset = offsetof(fuzz_cfg, registry),
     .children = registry_keys},
    {.name = "threads",
     .kind = CFG_INT,
     .offset = offsetof(fuzz_cfg, threads),
     .default_value = "4",
     .min = 1,
     .max = 64},
    {.name = "routes",
     .kind = CFG_SECTION_LIST,
     .offset = offsetof(fuzz_cfg, routes),
     .children = route_keys,
     .elem_size = sizeof(route)},
    {0},
};

static void count_error(void *opaque, const char *message)
{
    int *n = opaque;
    (*n)++;
    if (!message || !*message) abort(); /* every error has a message */
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("FUZZ_PW", "secret", 1);
    setenv("FUZZ_SIZE", "10MiB", 1);
    setenv("FUZZ_EMPTY", "", 1);
    unsetenv("FUZZ_TABLE");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    sluice_error err;
    int n_errors = 0;
    int rc = cfg_load_string((const char *)data, size, "fuzz.yaml", root_keys, &cfg, &err,
                             count_error, &n_errors);
    if (rc == 0 && n_errors != 0) abort();
    if (rc != 0 && (n_errors == 0 || n_errors > CFG_MAX_ERRORS)) abort();
    if (rc != 0 && (cfg.brokers.items || cfg.properties.keys || cfg.routes.items ||
                    cfg.registry.url || cfg.registry.password))
        abort(); /* a failed load frees what it filled */
    if (rc == 0) {
        for (size_t i = 0; i < cfg.routes.n; i++) {
            route *r = (route *)cfg.routes.items + i;
            if (!r->topic || !r->table || r->batch.rows < 1 || r->batch.rows > 1000000)
                abort(); /* required and ranged keys hold after a clean load */
        }
        if (cfg.threads < 1 || cfg.threads > 64) abort();
    }
    cfg_free(root_keys, &cfg);

    if (size < 64) {
        char text[64];
        memcpy(text, data, size);
        text[size] = '\0';
        uint64_t bytes;
        int64_t ms;
        if (cfg_parse_duration_ms(text, &ms) == 0 && ms < 0) abort();
        (void)cfg_parse_size(text, &bytes);
    }
    return 0;
}
