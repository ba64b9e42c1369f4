/*
 * clock.c — the one sleeping helper; the rest of clock.h is inline.
 */
#include "common/clock.h"

#include <errno.h>

void clock_sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec req = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&req, &req) != 0 && errno == EINTR) {
    }
}
