
/*
 * Copyright (C) Mobispot
 *
 * Time zones and calendar arithmetic.
 *
 * A zone is its POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), as found in
 * the footer of its TZif file: the module reads the files of the zones
 * named by mobispot_time_zones at configuration time, never in a request.
 * The rule describes the zone's current law; it is applied to every year
 * (history before the rule is not modelled, see docs/data-model.md).
 * Only the "Mm.w.d" form of transition dates is supported: it is the form
 * every European and American zone uses.
 */


#include <string.h>

#include "core/mobispot_spots.h"
#include "core/mobispot_core.h"


static const char *mobispot_tz_name(const char *p, const char *end);
static const char *mobispot_tz_time(const char *p, const char *end,
    int max_hours, int32_t *secs);
static const char *mobispot_tz_rule(const char *p, const char *end,
    mobispot_tz_rule_t *rule);
static int64_t mobispot_tz_rule_day(const mobispot_tz_rule_t *rule, int year);
static int mobispot_digits(const char *s, int n);
static void mobispot_tz_table(mobispot_tz_t *tz);
static int mobispot_tz_index(const mobispot_tz_t *tz, int64_t utc);

/* the mean Gregorian year */
#define MOBISPOT_TZ_YEAR_SECONDS  31556952


int64_t
mobispot_floor_div(int64_t a, int64_t b)
{
    int64_t  q;

    q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }

    return q;
}


/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant) */

int64_t
mobispot_days_from_civil(int y, int m, int d)
{
    int64_t   era, yoe, doy, doe;

    y -= m <= 2;
    era = mobispot_floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


void
mobispot_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t  z, era, doe, yoe, doy, mp;

    z = days + 719468;
    era = mobispot_floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;

    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = (int) (yoe + era * 400 + (*m <= 2));
}


static int
mobispot_days_in_month(int y, int m)
{
    static const int  mdays[] = { 31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31 };

    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 29;
    }

    return mdays[m - 1];
}


/* n decimal digits, or -1 */

static int
mobispot_digits(const char *s, int n)
{
    int  i, v;

    v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        v = v * 10 + (s[i] - '0');
    }

    return v;
}


/* YYYY-MM-DD, a real calendar date, years 1970..9999 */

int
mobispot_parse_date(const char *s, size_t len, int64_t *days)
{
    int  y, m, d;

    if (len != MOBISPOT_DATE_LEN || s[4] != '-' || s[7] != '-') {
        return MOBISPOT_ERROR;
    }

    y = mobispot_digits(s, 4);
    m = mobispot_digits(s + 5, 2);
    d = mobispot_digits(s + 8, 2);

    if (y < MOBISPOT_YEAR_MIN || y > MOBISPOT_YEAR_MAX || m < 1 || m > 12
        || d < 1 || d > mobispot_days_in_month(y, m))
    {
        return MOBISPOT_ERROR;
    }

    *days = mobispot_days_from_civil(y, m, d);

    return MOBISPOT_OK;
}


/*
 * RFC 3339 date-time: YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|-hh:mm); "t"
 * and " " are accepted for "T", "z" for "Z".  Fractions are truncated.
 */

int
mobispot_parse_rfc3339(const char *s, size_t len, int64_t *t)
{
    int      hh, mm, ss, oh, om;
    size_t   i;
    int64_t  days, off;

    if (len < 20 || mobispot_parse_date(s, 10, &days) != MOBISPOT_OK) {
        return MOBISPOT_ERROR;
    }

    if (!(s[10] == 'T' || s[10] == 't' || s[10] == ' ')
        || s[13] != ':' || s[16] != ':')
    {
        return MOBISPOT_ERROR;
    }

    hh = mobispot_digits(s + 11, 2);
    mm = mobispot_digits(s + 14, 2);
    ss = mobispot_digits(s + 17, 2);

    /* a leap second is refused rather than folded */
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) {
        return MOBISPOT_ERROR;
    }

    i = 19;

    if (s[i] == '.') {
        i++;

        if (i == len || s[i] < '0' || s[i] > '9') {
            return MOBISPOT_ERROR;
        }

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }

    if (i == len) {
        return MOBISPOT_ERROR;
    }

    if (s[i] == 'Z' || s[i] == 'z') {
        if (i + 1 != len) {
            return MOBISPOT_ERROR;
        }

        off = 0;

    } else if (s[i] == '+' || s[i] == '-') {
        if (len - i != 6 || s[i + 3] != ':') {
            return MOBISPOT_ERROR;
        }

        oh = mobispot_digits(s + i + 1, 2);
        om = mobispot_digits(s + i + 4, 2);

        if (oh < 0 || oh > 23 || om < 0 || om > 59) {
            return MOBISPOT_ERROR;
        }

        off = (oh * 60 + om) * 60;

        if (s[i] == '-') {
            off = -off;
        }

    } else {
        return MOBISPOT_ERROR;
    }

    *t = days * 86400 + hh * 3600 + mm * 60 + ss - off;

    return MOBISPOT_OK;
}


size_t
mobispot_format_date(int64_t days, char *buf)
{
    int  y, m, d;

    mobispot_civil_from_days(days, &y, &m, &d);

    buf[0] = (char) ('0' + y / 1000 % 10);
    buf[1] = (char) ('0' + y / 100 % 10);
    buf[2] = (char) ('0' + y / 10 % 10);
    buf[3] = (char) ('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char) ('0' + m / 10);
    buf[6] = (char) ('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char) ('0' + d / 10);
    buf[9] = (char) ('0' + d % 10);

    return MOBISPOT_DATE_LEN;
}


/* the local time of utc at offset, as YYYY-MM-DDThh:mm:ss+hh:mm */

size_t
mobispot_format_rfc3339(int64_t utc, int32_t offset, char *buf)
{
    mobispot_date_cache_t  cache;

    cache.days = INT64_MIN;

    return mobispot_format_rfc3339_cached(utc, offset, buf, &cache);
}


/*
 * The same, with the date of the last call kept in a cache: a run of
 * slots of one day formats its date once.
 */

size_t
mobispot_format_rfc3339_cached(int64_t utc, int32_t offset, char *buf,
    mobispot_date_cache_t *cache)
{
    int      hh, mm, ss, a;
    int64_t  local, days, sod;

    local = utc + offset;
    days = mobispot_floor_div(local, 86400);
    sod = local - days * 86400;

    hh = (int) (sod / 3600);
    mm = (int) (sod / 60 % 60);
    ss = (int) (sod % 60);

    if (cache->days != days) {
        (void) mobispot_format_date(days, cache->date);
        cache->days = days;
    }

    memcpy(buf, cache->date, MOBISPOT_DATE_LEN);

    buf[10] = 'T';
    buf[11] = (char) ('0' + hh / 10);
    buf[12] = (char) ('0' + hh % 10);
    buf[13] = ':';
    buf[14] = (char) ('0' + mm / 10);
    buf[15] = (char) ('0' + mm % 10);
    buf[16] = ':';
    buf[17] = (char) ('0' + ss / 10);
    buf[18] = (char) ('0' + ss % 10);

    a = offset < 0 ? -offset : offset;

    buf[19] = offset < 0 ? '-' : '+';
    buf[20] = (char) ('0' + a / 36000);
    buf[21] = (char) ('0' + a / 3600 % 10);
    buf[22] = ':';
    buf[23] = (char) ('0' + a / 600 % 6);
    buf[24] = (char) ('0' + a / 60 % 10);

    return MOBISPOT_RFC3339_LEN;
}


/* the POSIX TZ string of a TZif v2+ file: its last line */

int
mobispot_tz_tzif_footer(const unsigned char *buf, size_t len,
    const char **rule, size_t *rule_len)
{
    size_t  end, start;

    if (len < 45 || memcmp(buf, "TZif", 4) != 0 || buf[4] < '2'
        || buf[len - 1] != '\n')
    {
        return MOBISPOT_ERROR;
    }

    end = len - 1;
    start = end;

    while (start > 0 && buf[start - 1] != '\n') {
        start--;
    }

    if (start == 0 || start == end) {
        return MOBISPOT_ERROR;
    }

    *rule = (const char *) buf + start;
    *rule_len = end - start;

    return MOBISPOT_OK;
}


static const char *
mobispot_tz_name(const char *p, const char *end)
{
    const char  *start;

    if (p < end && *p == '<') {
        p++;
        start = p;

        while (p < end && *p != '>') {
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
                  || (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
            {
                return NULL;
            }

            p++;
        }

        if (p == end || p - start < 3) {
            return NULL;
        }

        return p + 1;
    }

    start = p;

    while (p < end && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
    {
        p++;
    }

    return (p - start < 3) ? NULL : p;
}


/* [+-]hh[:mm[:ss]] into signed seconds */

static const char *
mobispot_tz_time(const char *p, const char *end, int max_hours,
    int32_t *secs)
{
    int  sign, part, v, i;

    sign = 1;

    if (p < end && (*p == '+' || *p == '-')) {
        sign = (*p == '-') ? -1 : 1;
        p++;
    }

    *secs = 0;

    for (part = 0; part < 3; part++) {

        if (part > 0) {
            if (p == end || *p != ':') {
                break;
            }

            p++;
        }

        v = 0;

        for (i = 0; p < end && *p >= '0' && *p <= '9' && i < 3; i++, p++) {
            v = v * 10 + (*p - '0');
        }

        if (i == 0 || (part == 0 && v > max_hours) || (part > 0 && v > 59)) {
            return NULL;
        }

        *secs += v * (part == 0 ? 3600 : (part == 1 ? 60 : 1));
    }

    *secs *= sign;

    return p;
}


/* ,Mm.w.d[/time] */

static const char *
mobispot_tz_rule(const char *p, const char *end, mobispot_tz_rule_t *rule)
{
    int  v[3], i;

    if (end - p < 6 || p[0] != ',' || p[1] != 'M') {
        return NULL;
    }

    p += 2;

    for (i = 0; i < 3; i++) {

        if (i > 0) {
            if (p == end || *p != '.') {
                return NULL;
            }

            p++;
        }

        if (p == end || *p < '0' || *p > '9') {
            return NULL;
        }

        v[i] = *p++ - '0';

        if (i == 0 && p < end && *p >= '0' && *p <= '9') {
            v[i] = v[i] * 10 + (*p++ - '0');
        }
    }

    if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6) {
        return NULL;
    }

    rule->month = v[0];
    rule->week = v[1];
    rule->wday = v[2];
    rule->time = 7200;

    if (p < end && *p == '/') {
        p = mobispot_tz_time(p + 1, end, 167, &rule->time);
    }

    return p;
}


int
mobispot_tz_parse(const char *s, size_t len, mobispot_tz_t *tz)
{
    int32_t      off;
    const char  *p, *end;

    p = s;
    end = s + len;

    memset(tz, 0, sizeof(mobispot_tz_t));

    p = mobispot_tz_name(p, end);
    if (p == NULL) {
        return MOBISPOT_ERROR;
    }

    p = mobispot_tz_time(p, end, 24, &off);
    if (p == NULL) {
        return MOBISPOT_ERROR;
    }

    /* POSIX counts west of Greenwich as positive */
    tz->std_offset = -off;
    tz->dst_offset = tz->std_offset;

    if (p == end) {
        return MOBISPOT_OK;
    }

    p = mobispot_tz_name(p, end);
    if (p == NULL) {
        return MOBISPOT_ERROR;
    }

    tz->has_dst = 1;
    tz->dst_offset = tz->std_offset + 3600;

    if (p < end && *p != ',') {
        p = mobispot_tz_time(p, end, 24, &off);
        if (p == NULL) {
            return MOBISPOT_ERROR;
        }

        tz->dst_offset = -off;
    }

    p = mobispot_tz_rule(p, end, &tz->start);
    if (p == NULL) {
        return MOBISPOT_ERROR;
    }

    p = mobispot_tz_rule(p, end, &tz->end);
    if (p == NULL || p != end) {
        return MOBISPOT_ERROR;
    }

    mobispot_tz_table(tz);

    return MOBISPOT_OK;
}


/* the transitions of the years most requests ask about, for a search */

static void
mobispot_tz_table(mobispot_tz_t *tz)
{
    int      y, i;
    int64_t  start, end;

    for (y = 0; y < MOBISPOT_TZ_YEARS; y++) {
        start = mobispot_tz_rule_day(&tz->start, MOBISPOT_TZ_YEAR_MIN + y)
                * 86400 + tz->start.time - tz->std_offset;
        end = mobispot_tz_rule_day(&tz->end, MOBISPOT_TZ_YEAR_MIN + y)
              * 86400 + tz->end.time - tz->dst_offset;

        i = 2 * y;

        if (start < end) {
            tz->trans[i] = start;
            tz->off[i] = tz->dst_offset;
            tz->trans[i + 1] = end;
            tz->off[i + 1] = tz->std_offset;

        } else {
            tz->trans[i] = end;
            tz->off[i] = tz->std_offset;
            tz->trans[i + 1] = start;
            tz->off[i + 1] = tz->dst_offset;
        }
    }
}


/* the local day (days since the epoch) on which a rule falls in a year */

static int64_t
mobispot_tz_rule_day(const mobispot_tz_rule_t *rule, int year)
{
    int      wday, mdays;
    int64_t  first, day;

    first = mobispot_days_from_civil(year, rule->month, 1);

    /* 1970-01-01 was a Thursday */
    wday = (int) ((first % 7 + 11) % 7);
    day = first + (rule->wday - wday + 7) % 7 + (rule->week - 1) * 7;

    mdays = mobispot_days_in_month(year, rule->month);

    while (day >= first + mdays) {
        day -= 7;
    }

    return day;
}


int32_t
mobispot_tz_offset(const mobispot_tz_t *tz, int64_t utc)
{
    int  i;

    if (!tz->has_dst) {
        return tz->std_offset;
    }

    if (utc < tz->trans[0] || utc >= tz->trans[2 * MOBISPOT_TZ_YEARS - 1]) {
        return mobispot_tz_offset_rule(tz, utc);
    }

    i = mobispot_tz_index(tz, utc);

    return tz->off[i];
}


/*
 * The last transition at or before utc, within the table: two a year, so
 * the year of utc gives the index give or take one.
 */

static int
mobispot_tz_index(const mobispot_tz_t *tz, int64_t utc)
{
    int  i;

    i = 2 * (int) ((utc - tz->trans[0]) / MOBISPOT_TZ_YEAR_SECONDS);

    if (i > 2 * MOBISPOT_TZ_YEARS - 1) {
        i = 2 * MOBISPOT_TZ_YEARS - 1;
    }

    while (i > 0 && tz->trans[i] > utc) {
        i--;
    }

    while (i < 2 * MOBISPOT_TZ_YEARS - 1 && tz->trans[i + 1] <= utc) {
        i++;
    }

    return i;
}


/*
 * The first instant after utc at which the offset may change: the next
 * transition of the table, or utc + 1 outside the table (the caller then
 * asks mobispot_tz_offset() again, which is exact, only slower).
 */

int64_t
mobispot_tz_next_change(const mobispot_tz_t *tz, int64_t utc)
{
    if (!tz->has_dst) {
        return INT64_MAX;
    }

    if (utc < tz->trans[0] || utc >= tz->trans[2 * MOBISPOT_TZ_YEARS - 1]) {
        return utc + 1;
    }

    return tz->trans[mobispot_tz_index(tz, utc) + 1];
}


/* the offset from the rule itself, for any year */

int32_t
mobispot_tz_offset_rule(const mobispot_tz_t *tz, int64_t utc)
{
    int      y, m, d;
    int64_t  start, end;

    if (!tz->has_dst) {
        return tz->std_offset;
    }

    mobispot_civil_from_days(mobispot_floor_div(utc + tz->std_offset, 86400),
                             &y, &m, &d);

    start = mobispot_tz_rule_day(&tz->start, y) * 86400 + tz->start.time
            - tz->std_offset;
    end = mobispot_tz_rule_day(&tz->end, y) * 86400 + tz->end.time
          - tz->dst_offset;

    if (start < end) {
        return (utc >= start && utc < end) ? tz->dst_offset : tz->std_offset;
    }

    /* southern hemisphere: DST spans the new year */
    return (utc >= end && utc < start) ? tz->std_offset : tz->dst_offset;
}


/*
 * The UTC instant of a local wall time.  In a gap (spring forward) the
 * wall time does not exist: it is read with the offset from before the
 * gap (02:30 becomes 03:30 summer time); in an overlap (fall back) the
 * earlier of the two instants is returned.
 */

int64_t
mobispot_tz_local_to_utc(const mobispot_tz_t *tz, int64_t local)
{
    int32_t  o1, o2;
    int64_t  u1, u2;

    o1 = mobispot_tz_offset(tz, local - tz->std_offset);
    o2 = mobispot_tz_offset(tz, local - tz->dst_offset);

    u1 = local - o1;
    u2 = local - o2;

    if (mobispot_tz_offset(tz, u1) == o1) {
        if (mobispot_tz_offset(tz, u2) == o2 && u2 < u1) {
            return u2;
        }

        return u1;
    }

    if (mobispot_tz_offset(tz, u2) == o2) {
        return u2;
    }

    /* a gap */
    return u1 < u2 ? u2 : u1;
}
