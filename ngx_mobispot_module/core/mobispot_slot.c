
/*
 * Copyright (C) Mobispot
 *
 * Slots and opening hours.  The slots of a site are aligned on local
 * midnight in its time zone; a local day has fewer or more slots on the
 * days its clocks change.  Opening hours are wall-clock intervals per
 * weekday, encoded in the info hash of a site as
 * "510-1080,1140-1320;...;" (seven groups, Monday first).
 */


#include <stdio.h>
#include <string.h>

#include "core/mobispot_spots.h"
#include "core/mobispot_core.h"


int
mobispot_slot_minutes_valid(long minutes)
{
    /* MOBISPOT_SLOT_MAX is the longest of these */
    return minutes == 15 || minutes == 20 || minutes == 30 || minutes == 60;
}


/* "HH:MM-HH:MM", 00:00 <= start < end <= 24:00 */

int
mobispot_hours_parse_interval(const char *s, size_t len,
    mobispot_interval_t *iv)
{
    int          i, v[4];
    const char  *p;

    if (len != 11 || s[2] != ':' || s[5] != '-' || s[8] != ':') {
        return MOBISPOT_ERROR;
    }

    for (i = 0; i < 4; i++) {
        p = s + i * 3;

        if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
            return MOBISPOT_ERROR;
        }

        v[i] = (p[0] - '0') * 10 + (p[1] - '0');
    }

    if (v[0] > 23 || v[1] > 59 || v[3] > 59 || v[2] > 24
        || (v[2] == 24 && v[3] != 0))
    {
        return MOBISPOT_ERROR;
    }

    iv->start = (uint16_t) (v[0] * 60 + v[1]);
    iv->end = (uint16_t) (v[2] * 60 + v[3]);

    return iv->start < iv->end ? MOBISPOT_OK : MOBISPOT_ERROR;
}


static int
mobispot_number(const char **pp, const char *end, unsigned max,
    unsigned *v)
{
    const char  *p = *pp;
    unsigned     n;

    if (p == end || *p < '0' || *p > '9') {
        return MOBISPOT_ERROR;
    }

    n = 0;

    while (p < end && *p >= '0' && *p <= '9') {
        n = n * 10 + (unsigned) (*p - '0');

        if (n > max) {
            return MOBISPOT_ERROR;
        }

        p++;
    }

    *pp = p;
    *v = n;

    return MOBISPOT_OK;
}


int
mobispot_hours_decode(const char *s, size_t len, mobispot_hours_t *h)
{
    unsigned     day, a, b;
    const char  *p, *end;

    memset(h, 0, sizeof(mobispot_hours_t));

    p = s;
    end = s + len;
    day = 0;

    while (p < end) {

        if (*p == ';') {
            if (++day == 7) {
                return MOBISPOT_ERROR;
            }

            p++;
            continue;
        }

        if (*p == ',') {
            p++;
        }

        if (mobispot_number(&p, end, 1440, &a) != MOBISPOT_OK
            || p == end || *p++ != '-'
            || mobispot_number(&p, end, 1440, &b) != MOBISPOT_OK
            || a >= b || h->n[day] == MOBISPOT_HOURS_MAX)
        {
            return MOBISPOT_ERROR;
        }

        h->iv[day][h->n[day]].start = (uint16_t) a;
        h->iv[day][h->n[day]].end = (uint16_t) b;
        h->n[day]++;
    }

    return MOBISPOT_OK;
}


/* returns the length written, or 0 when buf is too small */

size_t
mobispot_hours_encode(const mobispot_hours_t *h, char *buf, size_t size)
{
    int       n;
    char     *p, *end;
    unsigned  day, i;

    p = buf;
    end = buf + size;

    for (day = 0; day < 7; day++) {

        if (day > 0) {
            if (p == end) {
                return 0;
            }

            *p++ = ';';
        }

        for (i = 0; i < h->n[day]; i++) {
            if (end - p < 11) {
                return 0;
            }

            n = 0;

            if (i > 0) {
                *p++ = ',';
            }

            n = snprintf(p, (size_t) (end - p), "%u-%u",
                         (unsigned) h->iv[day][i].start,
                         (unsigned) h->iv[day][i].end);

            if (n <= 0 || n >= end - p) {
                return 0;
            }

            p += n;
        }
    }

    return (size_t) (p - buf);
}


/* whether a comma-separated list of dates holds the local day */

int
mobispot_closed_on(const char *closed, size_t len, int64_t local_day)
{
    char         date[MOBISPOT_DATE_LEN];
    const char  *p, *end;

    if (len < MOBISPOT_DATE_LEN) {
        return 0;
    }

    (void) mobispot_format_date(local_day, date);

    p = closed;
    end = closed + len;

    while (end - p >= MOBISPOT_DATE_LEN) {
        if (memcmp(p, date, MOBISPOT_DATE_LEN) == 0
            && (end - p == MOBISPOT_DATE_LEN || p[MOBISPOT_DATE_LEN] == ','))
        {
            return 1;
        }

        p = memchr(p, ',', (size_t) (end - p));
        if (p == NULL) {
            return 0;
        }

        p++;
    }

    return 0;
}


/*
 * The slots of a site that overlap [from, to), at most max of them, in
 * order.  Returns how many were written.
 */

size_t
mobispot_slots(const mobispot_tz_t *tz, unsigned slot_minutes, int64_t from,
    int64_t to, mobispot_slot_t *out, size_t max)
{
    size_t            n;
    int32_t           offset;
    uint8_t           wday;
    int64_t           day, day_start, day_end, s, e, len, next;
    mobispot_slot_t  *slot;

    if (from >= to || slot_minutes == 0) {
        return 0;
    }

    len = (int64_t) slot_minutes * 60;
    n = 0;

    day = mobispot_floor_div(from + mobispot_tz_offset(tz, from), 86400);
    day_start = mobispot_tz_local_to_utc(tz, day * 86400);

    /*
     * The offset is looked up again only at a change of offset (twice a
     * year in a zone with DST), not for each slot: "next" is the first
     * instant at which it may differ from "offset".
     */

    offset = mobispot_tz_offset(tz, day_start);
    next = mobispot_tz_next_change(tz, day_start);

    while (day_start < to) {
        day_end = mobispot_tz_local_to_utc(tz, (day + 1) * 86400);
        wday = (uint8_t) ((day % 7 + 10) % 7);

        /* the first slot that ends after from */

        s = day_start;

        if (from > day_start) {
            s += (from - day_start) / len * len;
        }

        for ( /* void */ ; s < day_end && s < to; s += len) {
            e = s + len;

            if (e > day_end) {
                e = day_end;
            }

            if (e <= from) {
                continue;
            }

            if (n == max) {
                return n;
            }

            if (s >= next) {
                offset = mobispot_tz_offset(tz, s);
                next = mobispot_tz_next_change(tz, s);
            }

            slot = &out[n++];

            slot->start = s;
            slot->end = e;
            slot->local_day = day;
            slot->offset = offset;
            slot->minute = (uint16_t) ((s + offset - day * 86400) / 60);
            slot->wday = wday;
            slot->open = 0;

            if (e >= next) {
                offset = mobispot_tz_offset(tz, e);
                next = mobispot_tz_next_change(tz, e);
            }

            slot->end_offset = offset;
        }

        day++;
        day_start = day_end;
    }

    return n;
}


/* marks the slots that are entirely within opening hours */

void
mobispot_slots_open(mobispot_slot_t *slots, size_t n,
    const mobispot_hours_t *h, const char *closed_list, size_t closed_len)
{
    int                         closed;
    size_t                      i;
    unsigned                    k, start, end;
    int64_t                     day;
    const mobispot_interval_t  *iv;

    day = INT64_MIN;
    closed = 0;

    for (i = 0; i < n; i++) {
        slots[i].open = 0;

        if (slots[i].local_day != day) {
            day = slots[i].local_day;
            closed = mobispot_closed_on(closed_list, closed_len, day);
        }

        if (closed) {
            continue;
        }

        start = slots[i].minute;
        end = start + (unsigned) ((slots[i].end - slots[i].start) / 60);

        for (k = 0; k < h->n[slots[i].wday]; k++) {
            iv = &h->iv[slots[i].wday][k];

            if (iv->start <= start && end <= iv->end) {
                slots[i].open = 1;
                break;
            }
        }
    }
}
