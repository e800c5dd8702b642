
/*
 * Copyright (C) Mobispot
 *
 * Reconnect delays: exponential growth with a cap, and "equal jitter" so
 * that the workers of many gateways do not all knock on a restarted Redis
 * at the same millisecond.
 */


#include "core/mobispot_core.h"


unsigned
mobispot_backoff_next(unsigned current, unsigned min, unsigned max)
{
    if (current < min) {
        return min;
    }

    if (current >= max / 2) {
        return max;
    }

    return current * 2;
}


/* a delay in [delay/2, delay], chosen by the random number given */

unsigned
mobispot_backoff_jitter(unsigned delay, unsigned random)
{
    unsigned  half;

    half = delay / 2;

    return delay - half + random % (half + 1);
}
