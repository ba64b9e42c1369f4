/*
 * signals.c — see signals.h.
 */
#include "cli/signals.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

static sigset_t waited_set(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

void cli_block_signals(void)
{
    sigset_t set = waited_set();
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a peer closing a socket is an error return, not a death */
}

int cli_wait_for_signal(void)
{
    sigset_t set = waited_set();
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    return sig;
}

int cli_wait_for_signal_or(int (*stop)(void *), void *arg)
{
    sigset_t set = waited_set();
    for (;;) {
        struct timespec t = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &t);
        if (sig > 0) return sig;
        if (stop(arg)) return 0;
    }
}
