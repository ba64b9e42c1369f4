/*
 * cmd_check_config.c — `sluice check-config -c FILE`: load and validate a
 * configuration without starting anything; print every error (file:line:col:
 * key: what) and exit 2, or print "FILE: ok" and exit 0. `--keys` prints the
 * reference of every key (the source of docs/CONFIG.md).
 */
#include "app/config.h"
#include "cli/cli.h"

#include <sluice/avro.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "sink/ch_http.h"
#include "sink/eo.h"
#include "sink/table_probe.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice check-config -c FILE\n"
               "       sluice check-config --keys\n\n"
               "Validate FILE (unknown keys, wrong types, out-of-range values, missing\n"
               "required keys, unset ${ENV} variables) without starting anything.\n\n"
               "  -c, --config FILE   the configuration to check\n"
               "      --keys          print every key with its type, default and meaning\n"
               "  -h, --help          this help\n\n"
               "Exit codes: 0 valid, 2 invalid or bad usage.\n");
}

static void print_error(void *opaque, const char *message)
{
    (void)opaque;
    fprintf(stderr, "%s\n", message);
}

/* Every value_schema_file is an Avro schema (the registry is not asked:
 * nothing is started here). */
static int check_schema_files(const app_config *cfg)
{
    int bad = 0;
    const app_ingest_topic_config *t = cfg->ingest.topics.items;
    for (size_t i = 0; i < cfg->ingest.topics.n; i++) {
        const char *file = t[i].value_schema_file;
        if (!file) continue;
        FILE *f = fopen(file, "rb");
        if (!f) {
            fprintf(stderr, "ingest.topics[%zu].value_schema_file: %s: cannot open: %m\n", i, file);
            bad = 1;
            continue;
        }
        static char text[8 << 20];
        size_t n = fread(text, 1, sizeof text, f);
        fclose(f);
        sluice_avro_schema *s = NULL;
        sluice_error err;
        if (n == sizeof text) {
            fprintf(stderr, "ingest.topics[%zu].value_schema_file: %s: larger than 8 MiB\n", i,
                    file);
            bad = 1;
        } else if (sluice_avro_schema_parse(text, n, &s, &err) != 0) {
            fprintf(stderr, "ingest.topics[%zu].value_schema_file: %s: %s\n", i, file, err.msg);
            bad = 1;
        }
        sluice_avro_schema_free(s);
    }
    return bad;
}

/* How each ingest topic's events will be checked, so that a topic that
 * passes JSON through unchecked is never a surprise. */
static void explain_topics(const app_config *cfg)
{
    const app_ingest_topic_config *t = cfg->ingest.topics.items;
    const char *where = cfg->registry.urls.n ? ""
                                             : " (sluice run: its embedded registry; sluice "
                                               "ingest needs registry.urls)";
    for (size_t i = 0; i < cfg->ingest.topics.n; i++) {
        const char *name = t[i].name;
        if (t[i].schemaless || t[i].schema == APP_SCHEMA_NONE)
            printf("ingest topic %s: JSON passed through unchecked (schema: none)\n", name);
        else if (t[i].schema == APP_SCHEMA_REQUEST)
            printf("ingest topic %s: each request brings its schema (REST Proxy /topics/%s); "
                   "/v1 requests refused\n",
                   name, name);
        else if (t[i].value_schema_file)
            printf("ingest topic %s: Avro; %s registered as %s-value when ingest starts%s\n", name,
                   t[i].value_schema_file, name, where);
        else if (t[i].protobuf_message)
            printf("ingest topic %s: the latest schema of %s-value, which must be in the registry "
                   "when ingest starts%s; if it is PROTOBUF, events are %s messages (index %s)\n",
                   name, name, where, t[i].protobuf_message,
                   t[i].protobuf_index_encoding == APP_INDEX_PLAIN ? "plain" : "zig-zag");
        else
            printf("ingest topic %s: the latest schema of %s-value (Avro encoded, Protobuf "
                   "encoded, JSON Schema validated), which must be in the registry when ingest "
                   "starts%s\n",
                   name, name, where);
    }
    if (cfg->ingest.topics.n == 0 && cfg->registry.urls.n)
        printf("ingest: any topic; each needs a schema under <topic>-value (a topic without "
               "one is refused with 422)\n");
}

/* Each sink route's guarantee. The sink decides it at start from what
 * ClickHouse reports about the table; when the server answers now (one
 * short try), the same decision is shown here. 1 when a route demands
 * exactly_once of a table that cannot have it (the sink would not start). */
static int explain_routes(const app_config *cfg, FILE *out)
{
    const app_route_config *r = cfg->sink.routes.items;
    if (!cfg->sink.routes.n) return 0;
    char *settings = ch_settings_query(&cfg->clickhouse.settings);
    ch_http_config hc;
    ch_http_config_from(cfg, settings, &hc);
    hc.connect_timeout_ms = 1000;
    hc.request_timeout_ms = 3000;
    ch_http *ch = NULL;
    sluice_error err;
    int reachable = ch_http_new(&hc, &ch, &err) == 0, bad = 0;
    for (size_t i = 0; i < cfg->sink.routes.n; i++) {
        const char *asked = r[i].delivery == APP_DELIVERY_EXACTLY_ONCE    ? "exactly_once"
                            : r[i].delivery == APP_DELIVERY_AT_LEAST_ONCE ? "at_least_once"
                                                                          : "auto";
        if (r[i].delivery == APP_DELIVERY_AT_LEAST_ONCE) {
            fprintf(out, "sink route %s -> %s: at least once (delivery: at_least_once)\n",
                    r[i].topic, r[i].table);
            continue;
        }
        table_probe p;
        if (!reachable || table_probe_run(ch, &r[i], &p, &err) != 0) {
            reachable = 0;
            fprintf(out,
                    "sink route %s -> %s: delivery %s, decided when the sink starts from what "
                    "ClickHouse says of the table (not asked now: %s)\n",
                    r[i].topic, r[i].table, asked, err.msg);
            continue;
        }
        eo_verdict v;
        eo_decide(&p.facts, &v);
        table_probe_free(&p);
        if (!v.exactly_once && r[i].delivery == APP_DELIVERY_EXACTLY_ONCE) {
            fprintf(stderr,
                    "sink.routes[%zu].delivery: exactly_once, but %s (the sink would not "
                    "start)\n",
                    i, v.reason);
            bad = 1;
            continue;
        }
        fprintf(out, "sink route %s -> %s: %s (%s)\n", r[i].topic, r[i].table,
                v.exactly_once ? "exactly once" : "at least once", v.reason);
    }
    ch_http_free(ch);
    free(settings);
    return bad;
}

int cmd_check_config(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"keys", no_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int keys = 0, c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'k':
            keys = 1;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (keys) {
        cfg_describe(stdout, app_config_keys);
        return CLI_EXIT_OK;
    }
    if (!path || optind != argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    app_config cfg;
    sluice_error err;
    int rc = app_config_load(path, &cfg, &err, print_error, NULL);
    if (rc == 0) rc = check_schema_files(&cfg);
    if (rc) {
        app_config_free(&cfg);
        return CLI_EXIT_USAGE;
    }
    char *routes = NULL;
    size_t routes_len = 0;
    FILE *mem = open_memstream(&routes, &routes_len);
    rc = mem ? explain_routes(&cfg, mem) : 0;
    if (mem) fclose(mem);
    if (rc == 0) {
        printf("%s: ok\n", path);
        explain_topics(&cfg);
        fputs(routes ? routes : "", stdout);
    }
    free(routes);
    app_config_free(&cfg);
    return rc ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}
