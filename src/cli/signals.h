/*
 * signals.h — how every long-running command waits for SIGTERM / SIGINT
 * (drain and exit) and SIGHUP (reload its configuration).
 *
 * cli_block_signals() runs first on the main thread, before any thread is
 * created, so that every thread inherits the blocked mask and the signals
 * are delivered only to cli_wait_for_signal()'s sigwait on the main thread:
 * no async-signal-safety concerns, no flag polling.
 */
#ifndef SLUICE_CLI_SIGNALS_H
#define SLUICE_CLI_SIGNALS_H

void cli_block_signals(void);
/* Blocks until SIGTERM, SIGINT or SIGHUP; returns the signal number. A
 * signal that arrives while the main thread is busy (a reload draining
 * the sink) waits, blocked, for the next call. */
int cli_wait_for_signal(void);
/* The same, but also returns 0 as soon as stop(arg) says so (checked
 * every 200 ms): a part of the process that gave up. */
int cli_wait_for_signal_or(int (*stop)(void *), void *arg);

#endif
