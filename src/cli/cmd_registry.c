/*
 * cmd_registry.c — `sluice registry`: the Confluent-compatible Schema
 * Registry server on a SQLite file, until SIGTERM/SIGINT. Its settings are
 * flags, so SIGHUP (the systemd unit's ExecReload) has nothing to re-read:
 * it is logged and the server goes on. It keeps nothing in memory that a
 * reload could refresh (every request reads SQLite).
 */
#include "cli/cli.h"
#include "cli/signals.h"
#include "registry/registry.h"

#include <sluice/log.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(
        f, "usage: sluice registry [--listen ADDR] [--db FILE] [--threads N]\n"
           "                       [--log-level LEVEL] [--log-format logfmt|json]\n\n"
           "Serve the Confluent Schema Registry REST API (AVRO, PROTOBUF and JSON schemas, with\n"
           "references) from a SQLite file.\n\n"
           "  -l, --listen ADDR     host:port to listen on (default 127.0.0.1:8081; port 0 = any)\n"
           "  -d, --db FILE         SQLite database, created if absent (default registry.sqlite)\n"
           "  -t, --threads N       HTTP worker threads (default 4)\n"
           "      --log-level L     debug, info, warn, error (default info)\n"
           "      --log-format F    logfmt or json (default logfmt)\n"
           "  -h, --help            this help\n\n"
           "Prints `listening port=N` on stderr once ready. SIGHUP is logged and changes\n"
           "nothing (the settings are flags: restart to change them). SIGTERM/SIGINT finish\n"
           "running requests and exit 0. Exit codes: 0 clean shutdown, 1 runtime failure,\n"
           "2 bad usage.\n");
}

int cmd_registry(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"log-level", required_argument, NULL, 'L'},
                                         {"log-format", required_argument, NULL, 'F'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    registry_config cfg = {.listen = "127.0.0.1:8081", .db_path = "registry.sqlite", .threads = 4};
    int level = SLUICE_LOG_INFO, format = SLUICE_LOG_LOGFMT, c;
    char *end;
    while ((c = getopt_long(argc, argv, "l:d:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            cfg.listen = optarg;
            break;
        case 'd':
            cfg.db_path = optarg;
            break;
        case 't': {
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "sluice registry: --threads must be 1..256, got '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            cfg.threads = (unsigned)n;
            break;
        }
        case 'L':
            if ((level = sluice_log_level_parse(optarg)) < 0) {
                fprintf(stderr, "sluice registry: unknown --log-level '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'F':
            if ((format = sluice_log_format_parse(optarg)) < 0) {
                fprintf(stderr, "sluice registry: unknown --log-format '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    sluice_log_configure((sluice_log_level)level, (sluice_log_format)format);
    cli_block_signals();

    registry_server *server = NULL;
    sluice_error err;
    if (registry_server_start(&cfg, &server, &err) != 0) {
        sluice_log(SLUICE_LOG_ERROR, "registry", "cannot start", "error", err.msg, (char *)0);
        return err.code == SLUICE_EINVAL || err.code == SLUICE_ECONFIG ? CLI_EXIT_USAGE
                                                                       : CLI_EXIT_RUNTIME;
    }
    char port[16];
    snprintf(port, sizeof port, "%u", (unsigned)registry_server_port(server));
    sluice_log(SLUICE_LOG_INFO, "registry", "listening", "port", port, "db", cfg.db_path,
               (char *)0);
    int sig;
    while ((sig = cli_wait_for_signal()) == SIGHUP)
        sluice_log(SLUICE_LOG_INFO, "registry",
                   "SIGHUP: nothing to reload (settings are flags; restart to change them)",
                   (char *)0);
    sluice_log(SLUICE_LOG_INFO, "registry", "stopping", "signal", strsignal(sig), (char *)0);
    registry_server_stop(server);
    sluice_log(SLUICE_LOG_INFO, "registry", "stopped", (char *)0);
    return CLI_EXIT_OK;
}
