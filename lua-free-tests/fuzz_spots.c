/*
 * Copyright (C) Mobispot
 *
 * libFuzzer target: the parsers of the Spot API core (dates, RFC 3339,
 * opening hours, POSIX TZ rules, numbers, ids) on any bytes must not read
 * out of bounds, and what they accept must be self-consistent.
 */

#include <stdlib.h>
#include <string.h>

#include "core/mobispot_spots.h"
#include "core/mobispot_core.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    int                 k;
    char               *s, buf[256];
    size_t              n, len;
    double              d;
    int64_t             t, u, day;
    mobispot_tz_t       tz;
    mobispot_hours_t    h, h2;
    mobispot_slot_t     slots[64];
    mobispot_interval_t iv;

    /* an exact-size heap copy, so that ASan sees any over-read */
    s = malloc(size ? size : 1);
    memcpy(s, data, size);

    (void) mobispot_parse_date(s, size, &day);
    (void) mobispot_parse_double(s, size, &d);
    (void) mobispot_id_valid(s, size);
    (void) mobispot_user_id_valid(s, size);
    (void) mobispot_kind_parse(s, size);
    (void) mobispot_closed_on(s, size, 20000);

    /* what parses formats back the same, within years 1970..9999 */
    if (mobispot_parse_rfc3339(s, size, &t) == MOBISPOT_OK && t >= 86400
        && t < 253402128000LL) {
        mobispot_format_rfc3339(t, 0, buf);

        if (mobispot_parse_rfc3339(buf, MOBISPOT_RFC3339_LEN, &u) != MOBISPOT_OK
            || u != t) {
            abort();
        }
    }

    if (mobispot_hours_parse_interval(s, size, &iv) == MOBISPOT_OK
        && !(iv.start < iv.end && iv.end <= 1440)) {
        abort();
    }

    if (mobispot_hours_decode(s, size, &h) == MOBISPOT_OK) {
        len = mobispot_hours_encode(&h, buf, sizeof(buf));

        if (len
            && (mobispot_hours_decode(buf, len, &h2) != MOBISPOT_OK
                || memcmp(&h, &h2, sizeof(h)) != 0)) {
            abort();
        }
    }

    if (mobispot_tz_parse(s, size, &tz) == MOBISPOT_OK) {
        for (k = 0; k < 4; k++) {
            t = 1700000000 + k * 7919 * 3600;

            if (mobispot_tz_offset(&tz, t) != mobispot_tz_offset_rule(&tz, t)) {
                abort();
            }
        }

        n = mobispot_slots(&tz, 30, 1700000000, 1700000000 + 86400, slots, 64);

        if (n > 64) {
            abort();
        }
    }

    free(s);
    return 0;
}
