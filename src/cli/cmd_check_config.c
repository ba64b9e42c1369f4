/*
 * cmd_check_config.c — `sluice check-config -c FILE`: load and validate a
 * configuration without starting anything; print every error (file:line:col:
 * key: what) and exit 2, or print "FILE: ok" and exit 0. `--keys` prints the
 * reference of every key (the source of docs/CONFIG.md).
 */
#include "app/config.h"
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>

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
    app_config_free(&cfg);
    if (rc) return CLI_EXIT_USAGE;
    printf("%s: ok\n", path);
    return CLI_EXIT_OK;
}
