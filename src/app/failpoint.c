/*
 * failpoint.c — see failpoint.h.
 */
#include "app/failpoint.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char armed[64];
static long target;
static _Atomic long hits;
static _Atomic int enabled;

static void load(void)
{
    const char *v = getenv("SLUICE_FAILPOINT");
    const char *colon = v ? strchr(v, ':') : NULL;
    if (!colon || (size_t)(colon - v) >= sizeof armed) return;
    memcpy(armed, v, (size_t)(colon - v));
    armed[colon - v] = '\0';
    target = strtol(colon + 1, NULL, 10);
    if (target > 0) atomic_store(&enabled, 1);
}

void failpoint(const char *name)
{
    pthread_once(&once, load);
    if (!atomic_load_explicit(&enabled, memory_order_relaxed) || strcmp(name, armed) != 0) return;
    if (atomic_fetch_add(&hits, 1) + 1 == target) {
        fprintf(stderr, "failpoint %s:%ld: SIGKILL\n", name, target);
        kill(getpid(), SIGKILL);
    }
}
