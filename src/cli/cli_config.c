/*
 * cli_config.c — the start every long-running `sluice CMD -c FILE` shares:
 * parse -c/-h, load and check the configuration (every error printed),
 * apply the log settings, block the signals the main thread waits for.
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

static int start(int argc, char **argv, void (*usage)(FILE *), app_config *cfg,
                 cli_config_file *file, int optional)
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
    file->path = path;
    if (app_config_load_hashed(path, cfg, file->hash, &err, print_error, NULL) != 0) {
        app_config_free(cfg);
        return CLI_EXIT_USAGE;
    }
    app_config_apply_log(cfg);
    cli_block_signals();
    return -1;
}

int cli_config_start(int argc, char **argv, void (*usage)(FILE *), app_config *cfg,
                     cli_config_file *file)
{
    return start(argc, argv, usage, cfg, file, 0);
}

int cli_config_start_optional(int argc, char **argv, void (*usage)(FILE *), app_config *cfg,
                              cli_config_file *file)
{
    return start(argc, argv, usage, cfg, file, 1);
}
