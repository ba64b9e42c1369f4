/*
 * backoff.c — exponential backoff with full jitter (see backoff.h). The RNG
 * is xorshift64*: statistical quality is irrelevant here, only that
 * concurrent callers do not draw the same sequence.
 */
#include "common/backoff.h"

#include "common/clock.h"

#include <pthread.h>
#include <stdatomic.h>

int64_t backoff_ceiling_ms(int attempt, int64_t initial_ms, int64_t max_ms)
{
    if (attempt < 1 || initial_ms <= 0) return 0;
    int64_t c = initial_ms;
    for (int i = 1; i < attempt && c < max_ms; i++)
        c = c > INT64_MAX / 2 ? INT64_MAX : c * 2;
    return c < max_ms ? c : max_ms;
}

static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

int64_t backoff_delay_ms(int attempt, int64_t initial_ms, int64_t max_ms, uint64_t *rng)
{
    int64_t ceiling = backoff_ceiling_ms(attempt, initial_ms, max_ms);
    if (ceiling <= 0) return 0;
    return (int64_t)(next_random(rng) % ((uint64_t)ceiling + 1));
}

uint64_t backoff_seed(void)
{
    static _Atomic uint64_t counter;
    uint64_t s = (uint64_t)clock_mono_ns() ^ ((uint64_t)pthread_self() << 1) ^
                 (atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15ULL);
    return s ? s : 1;
}
