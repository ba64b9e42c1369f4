/*
 * cli.h — what the subcommands of `sluice` share: exit codes and entry points.
 * Each cmd_*.c parses its own flags (getopt_long) and prints its own --help.
 */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

enum { CLI_EXIT_OK = 0, CLI_EXIT_RUNTIME = 1, CLI_EXIT_USAGE = 2 };

struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

int cmd_run(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_sink(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_ddl(int argc, char **argv);

#endif
