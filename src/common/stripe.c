/*
 * stripe.c — assigns each thread a stripe slot once (thread-local), round
 * robin so that the first STRIPE_COUNT threads never share a slot.
 */
#include "common/stripe.h"

static _Atomic unsigned next_index;
static _Thread_local unsigned my_index_plus_one;

unsigned stripe_index(void)
{
    if (!my_index_plus_one)
        my_index_plus_one =
            atomic_fetch_add_explicit(&next_index, 1, memory_order_relaxed) % STRIPE_COUNT + 1;
    return my_index_plus_one - 1;
}
