
/*
 * Copyright (C) Mobispot
 *
 * Unit tests of the Spot API core: calendar, RFC 3339, POSIX TZ rules
 * (Europe/Brussels across its DST changes), slots, opening hours and
 * query parameters.  Prints TAP.
 */


#include <stdio.h>
#include <string.h>

#include "core/mobispot_spots.h"
#include "core/mobispot_core.h"
#include "tap.h"


#define ok(cond, name) TAP_OK(cond, "%s", name)


#define BRUSSELS "CET-1CEST,M3.5.0,M10.5.0/3"


static int64_t
utc(const char *s)
{
    int64_t t;

    if (mobispot_parse_rfc3339(s, strlen(s), &t) != MOBISPOT_OK) {
        return -1;
    }

    return t;
}


static void
test_calendar(void)
{
    int     y, m, d;
    char    buf[32];
    int64_t days, t;

    ok(mobispot_days_from_civil(1970, 1, 1) == 0, "epoch day 0");
    ok(mobispot_days_from_civil(2000, 3, 1) == 11017, "2000-03-01");
    mobispot_civil_from_days(20541, &y, &m, &d);
    ok(y == 2026 && m == 3 && d == 29, "civil from days 2026-03-29");

    ok(mobispot_parse_date("2026-02-29", 10, &days) == MOBISPOT_ERROR,
       "2026-02-29 refused");
    ok(mobispot_parse_date("2028-02-29", 10, &days) == MOBISPOT_OK,
       "2028-02-29 accepted");
    ok(mobispot_parse_date("2026-13-01", 10, &days) == MOBISPOT_ERROR,
       "month 13 refused");
    ok(mobispot_parse_date("2026-1-01x", 10, &days) == MOBISPOT_ERROR,
       "malformed date refused");
    ok(mobispot_parse_date("2026-01-011", 11, &days) == MOBISPOT_ERROR,
       "long date refused");
    ok(mobispot_parse_date("2100-12-31", 10, &days) == MOBISPOT_OK,
       "2100-12-31, the last date taken");
    ok(mobispot_parse_date("2101-01-01", 10, &days) == MOBISPOT_ERROR,
       "2101-01-01 refused");
    ok(mobispot_parse_date("9999-12-31", 10, &days) == MOBISPOT_ERROR,
       "9999-12-31 refused (its next day has a fifth digit)");
    ok(mobispot_parse_date("1969-12-31", 10, &days) == MOBISPOT_ERROR,
       "1969-12-31 refused");
    {
        char   cbuf[32];
        size_t n;

        n = mobispot_format_coordinate(cbuf, sizeof(cbuf), 85.05112878);
        ok(n && strcmp(cbuf, "85.0511287") == 0,
           "the latitude limit is written toward zero, not past it");
        n = mobispot_format_coordinate(cbuf, sizeof(cbuf), -85.05112878);
        ok(n && strcmp(cbuf, "-85.0511287") == 0, "and its negative");
        n = mobispot_format_coordinate(cbuf, sizeof(cbuf), 4.8661);
        ok(n && strcmp(cbuf, "4.8661000") == 0, "seven decimals");
        n = mobispot_format_coordinate(cbuf, sizeof(cbuf), -180.0);
        ok(n && strcmp(cbuf, "-180.0000000") == 0, "the longitude limit");
        ok(mobispot_format_coordinate(cbuf, 8, -180.0) == 0,
           "a buffer too small is refused");
    }

    ok(utc("1970-01-01T00:00:00Z") == 0, "rfc3339 epoch");
    ok(utc("2026-03-29T03:00:00+02:00") == utc("2026-03-29T01:00:00Z"),
       "rfc3339 offset");
    ok(utc("2026-03-29T01:00:00.123456Z") == utc("2026-03-29T01:00:00Z"),
       "rfc3339 fraction truncated");
    ok(mobispot_parse_rfc3339("2026-03-29T24:00:00Z", 20, &t) == MOBISPOT_ERROR,
       "rfc3339 hour 24 refused");
    ok(mobispot_parse_rfc3339("2026-03-29T10:00:00", 19, &t) == MOBISPOT_ERROR,
       "rfc3339 without offset refused");
    ok(mobispot_parse_rfc3339("2026-03-29T10:00:00+0200", 24, &t)
           == MOBISPOT_ERROR,
       "rfc3339 offset without colon refused");
    ok(mobispot_parse_rfc3339("2026-03-29T10:00:00.Z", 21, &t)
           == MOBISPOT_ERROR,
       "rfc3339 empty fraction refused");

    mobispot_format_rfc3339(utc("2026-03-29T01:00:00Z"), 7200, buf);
    ok(memcmp(buf, "2026-03-29T03:00:00+02:00", 25) == 0, "format rfc3339");
    mobispot_format_rfc3339(0, -16200, buf);
    ok(memcmp(buf, "1969-12-31T19:30:00-04:30", 25) == 0,
       "format rfc3339 negative offset");
}


static void
test_tz(void)
{
    size_t        len;
    const char   *rule;
    mobispot_tz_t tz;
    unsigned char tzif[64];

    ok(mobispot_tz_parse(BRUSSELS, strlen(BRUSSELS), &tz) == MOBISPOT_OK,
       "parse Brussels rule");
    ok(tz.std_offset == 3600 && tz.dst_offset == 7200 && tz.has_dst,
       "Brussels offsets");
    ok(tz.start.month == 3 && tz.start.week == 5 && tz.start.wday == 0
           && tz.start.time == 7200 && tz.end.time == 10800,
       "Brussels rules");

    /* 2026: last Sunday of March is the 29th, of October the 25th */
    ok(mobispot_tz_offset(&tz, utc("2026-03-29T00:59:59Z")) == 3600,
       "before spring forward: +01:00");
    ok(mobispot_tz_offset(&tz, utc("2026-03-29T01:00:00Z")) == 7200,
       "at spring forward: +02:00");
    ok(mobispot_tz_offset(&tz, utc("2026-10-25T00:59:59Z")) == 7200,
       "before fall back: +02:00");
    ok(mobispot_tz_offset(&tz, utc("2026-10-25T01:00:00Z")) == 3600,
       "at fall back: +01:00");
    ok(mobispot_tz_offset(&tz, utc("2027-03-28T01:00:00Z")) == 7200,
       "2027 spring forward on the 28th");
    ok(mobispot_tz_offset(&tz, utc("2026-01-15T12:00:00Z")) == 3600,
       "winter +01:00");

    ok(mobispot_tz_local_to_utc(&tz, utc("2026-03-29T00:00:00Z"))
           == utc("2026-03-28T23:00:00Z"),
       "local midnight of spring day");
    ok(mobispot_tz_local_to_utc(&tz, utc("2026-03-30T00:00:00Z"))
           == utc("2026-03-29T22:00:00Z"),
       "local midnight after spring day");
    ok(mobispot_tz_local_to_utc(&tz, utc("2026-10-25T02:30:00Z"))
           == utc("2026-10-25T00:30:00Z"),
       "overlap: earlier instant");
    ok(mobispot_tz_local_to_utc(&tz, utc("2026-03-29T02:30:00Z"))
           == utc("2026-03-29T01:30:00Z"),
       "gap: shifted forward");

    {
        int     same = 1;
        int64_t t;

        /* the table agrees with the rule, and the rule is used outside it */
        for (t = utc("1990-01-01T00:00:00Z"); t < utc("2150-01-01T00:00:00Z");
             t += 3 * 3600 + 7) {
            if (mobispot_tz_offset(&tz, t) != mobispot_tz_offset_rule(&tz, t)) {
                same = 0;
            }
        }

        ok(same, "transition table agrees with the rule 1990..2150");
    }

    ok(mobispot_tz_offset(&tz, utc("2099-10-25T00:59:59Z")) == 7200
           && mobispot_tz_offset(&tz, utc("2099-10-25T01:00:00Z")) == 3600,
       "last year of the table");
    ok(mobispot_tz_offset(&tz, utc("2100-03-28T00:59:59Z")) == 3600
           && mobispot_tz_offset(&tz, utc("2100-03-28T01:00:00Z")) == 7200,
       "beyond the table: 2100-03-28");
    ok(mobispot_tz_offset(&tz, utc("1999-03-28T01:00:00Z")) == 7200,
       "before the table: 1999-03-28");

    ok(mobispot_tz_parse("UTC0", 4, &tz) == MOBISPOT_OK && !tz.has_dst
           && tz.std_offset == 0,
       "UTC0");
    ok(mobispot_tz_parse("<-03>3", 6, &tz) == MOBISPOT_OK
           && tz.std_offset == -10800,
       "quoted name, west offset");
    ok(mobispot_tz_parse("AEST-10AEDT,M10.1.0,M4.1.0/3", 28, &tz)
           == MOBISPOT_OK,
       "Sydney rule");
    ok(mobispot_tz_offset(&tz, utc("2026-01-15T00:00:00Z")) == 39600,
       "southern summer +11:00");
    ok(mobispot_tz_offset(&tz, utc("2026-07-15T00:00:00Z")) == 36000,
       "southern winter +10:00");
    ok(mobispot_tz_parse("CET-1CEST,J60,J300", 18, &tz) == MOBISPOT_ERROR,
       "Julian rules refused");
    ok(mobispot_tz_parse("CET-1CEST,M13.5.0,M10.5.0", 25, &tz)
           == MOBISPOT_ERROR,
       "month 13 refused");
    ok(mobispot_tz_parse("C-1", 3, &tz) == MOBISPOT_ERROR,
       "short name refused");

    memset(tzif, 0, sizeof(tzif));
    memcpy(tzif, "TZif2", 5);
    memcpy(tzif + 44, "\nCET-1\n", 7);
    ok(mobispot_tz_tzif_footer(tzif, 51, &rule, &len) == MOBISPOT_OK && len == 5
           && memcmp(rule, "CET-1", 5) == 0,
       "TZif footer");
    memcpy(tzif, "TZif\0", 5);
    ok(mobispot_tz_tzif_footer(tzif, 51, &rule, &len) == MOBISPOT_ERROR,
       "TZif v1 refused");
}


static void
test_slots(void)
{
    int                    i, k, open, bad;
    char                   buf[128], a[32], b[32];
    size_t                 n, len;
    int64_t                day, t;
    mobispot_tz_t          tz;
    mobispot_hours_t       h, h2;
    mobispot_date_cache_t  cache;
    static mobispot_slot_t slots[512];
    mobispot_interval_t    iv;

    (void) mobispot_tz_parse(BRUSSELS, strlen(BRUSSELS), &tz);

    ok(mobispot_slot_minutes_valid(30) && !mobispot_slot_minutes_valid(25),
       "slot lengths");

    ok(mobispot_hours_parse_interval("08:30-18:00", 11, &iv) == MOBISPOT_OK
           && iv.start == 510 && iv.end == 1080,
       "interval parsed");
    ok(mobispot_hours_parse_interval("00:00-24:00", 11, &iv) == MOBISPOT_OK
           && iv.end == 1440,
       "whole day");
    ok(mobispot_hours_parse_interval("18:00-08:30", 11, &iv) == MOBISPOT_ERROR,
       "end before start refused");
    ok(mobispot_hours_parse_interval("08:60-18:00", 11, &iv) == MOBISPOT_ERROR,
       "minute 60 refused");
    ok(mobispot_hours_parse_interval("24:30-24:40", 11, &iv) == MOBISPOT_ERROR,
       "24:30 refused");
    ok(mobispot_hours_parse_interval("8:30-18:00", 10, &iv) == MOBISPOT_ERROR,
       "short form refused");

    ok(mobispot_hours_decode("510-1080;510-720,780-1080;;;;;600-660", 37, &h)
               == MOBISPOT_OK
           && h.n[0] == 1 && h.n[1] == 2 && h.n[2] == 0 && h.n[6] == 1
           && h.iv[1][1].start == 780,
       "hours decoded");
    len = mobispot_hours_encode(&h, buf, sizeof(buf));
    ok(len == 37
           && memcmp(buf, "510-1080;510-720,780-1080;;;;;600-660", 37) == 0,
       "hours encoded");
    ok(mobispot_hours_decode(buf, len, &h2) == MOBISPOT_OK
           && memcmp(&h, &h2, sizeof(h)) == 0,
       "hours round trip");
    ok(mobispot_hours_decode(";;;;;;;", 7, &h2) == MOBISPOT_ERROR,
       "eight days refused");
    ok(mobispot_hours_decode("1080-510", 8, &h2) == MOBISPOT_ERROR,
       "reversed interval refused");

    (void) mobispot_parse_date("2026-12-25", 10, &day);
    ok(mobispot_closed_on("2026-12-24,2026-12-25", 21, day),
       "closed date found");
    ok(!mobispot_closed_on("2026-12-24,2026-12-26", 21, day), "open date");
    ok(!mobispot_closed_on("", 0, day), "no closed dates");

    /* an ordinary day: 48 half-hour slots */
    n = mobispot_slots(&tz, 30, utc("2026-03-27T23:00:00Z"),
                       utc("2026-03-28T23:00:00Z"), slots, 128);
    ok(n == 48 && slots[0].minute == 0 && slots[47].minute == 1410,
       "48 slots on 2026-03-28");

    /* the spring-forward day has 46, the fall-back day 50 */
    n = mobispot_slots(&tz, 30, utc("2026-03-28T23:00:00Z"),
                       utc("2026-03-29T22:00:00Z"), slots, 128);
    ok(n == 46, "46 slots on 2026-03-29");
    ok(slots[4].minute == 180 && slots[4].offset == 7200,
       "after 01:30 comes 03:00 summer time");
    ok(slots[0].wday == 6, "2026-03-29 is a Sunday");

    n = mobispot_slots(&tz, 30, utc("2026-10-24T22:00:00Z"),
                       utc("2026-10-25T23:00:00Z"), slots, 128);
    ok(n == 50, "50 slots on 2026-10-25");
    ok(slots[4].minute == 120 && slots[6].minute == 120
           && slots[4].offset == 7200 && slots[6].offset == 3600,
       "02:00 twice on 2026-10-25");

    /* opening hours in local time on both sides of the change */
    (void) mobispot_hours_decode("540-1020;540-1020;540-1020;540-1020;"
                                 "540-1020;540-1020;540-1020",
                                 62, &h);

    n = mobispot_slots(&tz, 30, utc("2026-03-28T23:00:00Z"),
                       utc("2026-03-30T22:00:00Z"), slots, 128);
    mobispot_slots_open(slots, n, &h, "", 0);

    for (open = 0, i = 0; i < (int) n; i++) {
        open += slots[i].open;
    }

    ok(open == 32, "16 open slots a day across spring forward");

    for (i = 0; i < (int) n && !slots[i].open; i++) { /* void */
    }
    ok(slots[i].start == utc("2026-03-29T07:00:00Z"),
       "Sunday opens 09:00 CEST = 07:00Z");

    n = mobispot_slots(&tz, 30, utc("2026-10-24T22:00:00Z"),
                       utc("2026-10-25T23:00:00Z"), slots, 128);
    mobispot_slots_open(slots, n, &h, "", 0);

    for (i = 0; i < (int) n && !slots[i].open; i++) { /* void */
    }
    ok(slots[i].start == utc("2026-10-25T08:00:00Z"),
       "Sunday after fall back opens 09:00 CET = 08:00Z");

    mobispot_slots_open(slots, n, &h, "2026-10-25", 10);

    for (open = 0, i = 0; i < (int) n; i++) {
        open += slots[i].open;
    }

    ok(open == 0, "closed date closes every slot");

    /* a window inside a day, and a partial first slot */
    n = mobispot_slots(&tz, 30, utc("2026-06-01T08:10:00Z"),
                       utc("2026-06-01T09:00:00Z"), slots, 128);
    ok(n == 2 && slots[0].start == utc("2026-06-01T08:00:00Z"),
       "window overlaps two slots");
    ok(mobispot_slots(&tz, 30, 100, 100, slots, 128) == 0, "empty window");
    ok(mobispot_slots(&tz, 15, utc("2026-06-01T00:00:00Z"),
                      utc("2026-06-08T00:00:00Z"), slots, 128)
           == 128,
       "output bounded");

    /*
     * Offsets are looked up at changes only: each slot's start and end
     * offsets are what a lookup per instant says, on DST days, inside and
     * outside the precomputed table, for windows starting mid-slot.
     */
    for (bad = 0, k = 0; k < 6; k++) {
        static const char *from[] = {
            "2026-03-27T10:10:00Z", "2026-10-23T23:59:00Z",
            "1999-03-26T00:00:00Z", "2150-10-23T05:00:00Z",
            "2026-06-01T00:00:00Z", "2099-10-24T00:00:00Z"};

        n = mobispot_slots(&tz, k % 2 ? 20 : 15, utc(from[k]),
                           utc(from[k]) + 4 * 86400, slots, 512);

        for (i = 0; i < (int) n; i++) {
            bad += slots[i].offset != mobispot_tz_offset(&tz, slots[i].start)
                || slots[i].end_offset != mobispot_tz_offset(&tz, slots[i].end)
                || (i > 0 && slots[i].start != slots[i - 1].end);
        }

        bad += (int) n < 4 * 96 / (k % 2 ? 2 : 1) - 8;
    }
    ok(bad == 0, "slot offsets equal a lookup per instant");

    cache.days = INT64_MIN;
    for (bad = 0, t = utc("2026-10-24T20:00:00Z");
         t < utc("2026-10-26T04:00:00Z"); t += 1800) {
        (void) mobispot_format_rfc3339(t, mobispot_tz_offset(&tz, t), a);
        (void) mobispot_format_rfc3339_cached(t, mobispot_tz_offset(&tz, t), b,
                                              &cache);
        bad += memcmp(a, b, MOBISPOT_RFC3339_LEN) != 0;
    }
    ok(bad == 0, "cached date formatting across days and a change");

    ok(mobispot_tz_next_change(&tz, utc("2026-06-01T00:00:00Z"))
           == utc("2026-10-25T01:00:00Z"),
       "next change after June is the end of summer time");
}


static void
test_params(void)
{
    int           b;
    double        v;
    unsigned long u;

    ok(mobispot_kind_parse("desk", 4) == MOBISPOT_KIND_DESK, "kind desk");
    ok(mobispot_kind_parse("training_room", 13) == MOBISPOT_KIND_TRAINING_ROOM,
       "kind training_room");
    ok(mobispot_kind_parse("sofa", 4) == -1, "unknown kind");
    ok(mobispot_kind_parse("des", 3) == -1, "kind prefix refused");

    ok(mobispot_id_valid("cowallonia-namur", 16), "id valid");
    ok(!mobispot_id_valid("a{b}", 4), "id with braces refused");
    ok(!mobispot_id_valid("-a", 2), "id starting with dash refused");
    ok(!mobispot_id_valid("", 0), "empty id refused");
    ok(mobispot_user_id_valid("auth0|5f.x@y+z-1_A", 18), "user id valid");
    ok(!mobispot_user_id_valid("a{b}", 4), "user id with braces refused");
    ok(!mobispot_user_id_valid("a:b", 3), "user id with colon refused");
    ok(!mobispot_user_id_valid("a b", 3), "user id with blank refused");
    ok(!mobispot_user_id_valid(".a", 2), "user id starting with dot refused");
    ok(!mobispot_user_id_valid("", 0), "empty user id refused");
    ok(!mobispot_id_valid("Namur", 5), "upper case refused");

    ok(mobispot_parse_double("50.4669", 7, &v) == MOBISPOT_OK && v > 50.46
           && v < 50.47,
       "double parsed");
    ok(mobispot_parse_double("-4.5", 4, &v) == MOBISPOT_OK && v == -4.5,
       "negative double");
    ok(mobispot_parse_double("1e3", 3, &v) == MOBISPOT_ERROR,
       "exponent refused");
    ok(mobispot_parse_double("nan", 3, &v) == MOBISPOT_ERROR, "nan refused");
    ok(mobispot_parse_double("0x10", 4, &v) == MOBISPOT_ERROR, "hex refused");
    ok(mobispot_parse_double("1.", 2, &v) == MOBISPOT_ERROR,
       "trailing dot refused");
    ok(mobispot_parse_double(" 1", 2, &v) == MOBISPOT_ERROR, "blank refused");
    ok(mobispot_parse_double("", 0, &v) == MOBISPOT_ERROR, "empty refused");

    ok(mobispot_parse_uint("20", 2, 100, &u) == MOBISPOT_OK && u == 20,
       "uint parsed");
    ok(mobispot_parse_uint("101", 3, 100, &u) == MOBISPOT_ERROR,
       "uint above max refused");
    ok(mobispot_parse_uint("-1", 2, 100, &u) == MOBISPOT_ERROR,
       "negative uint refused");
    ok(mobispot_parse_uint("7", 1, 5, &u) == MOBISPOT_ERROR,
       "one digit above a small max refused");
    ok(mobispot_parse_uint("4294967295", 10, 4294967295UL, &u) == MOBISPOT_OK
           && u == 4294967295UL,
       "uint at 2^32 - 1 (the most a 32-bit long holds)");
    ok(mobispot_parse_uint("4294967296", 10, 4294967295UL, &u)
           == MOBISPOT_ERROR,
       "uint past 2^32 - 1 refused, not wrapped");
    ok(mobispot_parse_uint("9999999999", 10, 4294967295UL, &u)
           == MOBISPOT_ERROR,
       "ten nines refused, not wrapped");

    ok(mobispot_parse_bool("true", 4, &b) == MOBISPOT_OK && b, "bool true");
    ok(mobispot_parse_bool("yes", 3, &b) == MOBISPOT_ERROR, "bool yes refused");

    ok(mobispot_valid_lat(50.46) && !mobispot_valid_lat(90.0)
           && !mobispot_valid_lat(-86.0),
       "latitude range");
    ok(mobispot_valid_lon(-180.0) && !mobispot_valid_lon(180.5),
       "longitude range");
    ok(mobispot_valid_radius(0.1) && !mobispot_valid_radius(0.0)
           && !mobispot_valid_radius(-1.0) && mobispot_valid_radius(500.0)
           && !mobispot_valid_radius(500.1),
       "radius range");
}


int
main(void)
{
    test_calendar();
    test_tz();
    test_slots();
    test_params();

    return tap_done();
}
