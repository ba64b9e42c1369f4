/*
 * cli_config.c — the start every long-running `sluice CMD -c FILE` shares:
 * parse -c/-h, load and check the configuration (every error printed),
 * apply the log settings, block the signals the main thread waits for, and
 * create the process's one registry client when registry.urls is set.
 */
#include "cli/cli_config.h"

#include "cli/cli.h"
#include "cli/signals.h"

#include <sluice/log.h>

#include <getopt.h>

static void print_error(void *opaque, const char *message)
{
    (void)opaque;
    fprintf(stderr, "%s\n", message);
}

static int start(int argc, char **argv, void (*usage)(FILE *), app_config *cfg, int optional)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if ((!path && !optional) || optind != argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    sluice_error err;
    if (app_config_load(path, cfg, &err, print_error, NULL) != 0) {
        app_config_free(cfg);
        return CLI_EXIT_USAGE;
    }
    app_config_apply_log(cfg);
    cli_block_signals();
    return -1;
}

int cli_config_start(int argc, char **argv, void (*usage)(FILE *), app_config *cfg)
{
    return start(argc, argv, usage, cfg, 0);
}

int cli_config_start_optional(int argc, char **argv, void (*usage)(FILE *), app_config *cfg)
{
    return start(argc, argv, usage, cfg, 1);
}

int cli_registry_client(const app_config *cfg, sluice_metrics *m, const char *who, sluice_sr **out)
{
    *out = NULL;
    if (!cfg->registry.urls.n) return 0;
    sluice_sr_config sc;
    sluice_error err;
    app_config_sr(cfg, &sc);
    sc.metrics = m;
    if (sluice_sr_new(&sc, out, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, who, "registry client", "error", err.msg, (char *)0);
        return -1;
    }
    return 0;
}
