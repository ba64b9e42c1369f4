/*
 * main.c — the `sluice` command: dispatches to one subcommand per file
 * (cmd_*.c). Exit codes (man/sluice.1, EXIT STATUS): 0 clean shutdown,
 * 2 bad usage or configuration, 1 runtime failure.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const struct cli_command commands[] = {
    {"run", "ingest, sink and registry in one process (embedded Kafka without brokers)", cmd_run},
    {"ingest", "accept events over HTTP into Kafka topics", cmd_ingest},
    {"sink", "consume Kafka topics into ClickHouse tables", cmd_sink},
    {"registry", "run the Confluent-compatible Schema Registry server", cmd_registry},
    {"top", "live view of a running sluice from its /metrics", cmd_top},
    {"check-config", "validate a sluice.yaml without starting anything", cmd_check_config},
    {"ddl", "print a CREATE TABLE for a registry subject, as the sink maps it", cmd_ddl},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun `sluice COMMAND --help` for the options of one command.\n"
               "Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad usage or configuration.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
