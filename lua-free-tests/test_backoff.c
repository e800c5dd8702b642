/*
 * Copyright (C) Mobispot
 *
 * Reconnect delays.
 */

#include "tap.h"
#include "core/mobispot_core.h"

int
main(void)
{
    unsigned d, i, r, lo, hi;

    TAP_IS_INT(mobispot_backoff_next(0, 100, 2000), 100, "starts at min");
    TAP_IS_INT(mobispot_backoff_next(100, 100, 2000), 200, "doubles");
    TAP_IS_INT(mobispot_backoff_next(800, 100, 2000), 1600, "doubles again");
    TAP_IS_INT(mobispot_backoff_next(1600, 100, 2000), 2000, "capped");
    TAP_IS_INT(mobispot_backoff_next(2000, 100, 2000), 2000, "stays capped");
    TAP_IS_INT(mobispot_backoff_next(0xffffffffu, 100, 2000), 2000,
               "no overflow near UINT_MAX");

    d = 100;
    for (i = 0; i < 40; i++) {
        d = mobispot_backoff_next(d, 100, 2000);
    }
    TAP_IS_INT(d, 2000, "many failures stay at the cap");

    lo = 0xffffffffu;
    hi = 0;
    for (r = 0; r < 5000; r += 7) {
        d = mobispot_backoff_jitter(1000, r);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    TAP_IS_INT(lo, 500, "jitter never below half the delay");
    TAP_IS_INT(hi, 1000, "jitter never above the delay");
    TAP_IS_INT(mobispot_backoff_jitter(1, 12345), 1, "jitter of 1 ms");
    TAP_IS_INT(mobispot_backoff_jitter(0, 12345), 0, "jitter of 0 ms");

    return tap_done();
}
