
/*
 * Copyright (C) Mobispot
 *
 * The arithmetic of usage and of the monthly settlement (docs/usage.md):
 * every figure is an integer (seconds, days, cents), every product is
 * exact, and each division is rounded once, by a rule written here.
 */


#include <string.h>

#include "core/mobispot_core.h"
#include "core/mobispot_spots.h"
#include "core/mobispot_usage.h"


static void mobispot_mul_div(uint64_t a, uint64_t b, uint64_t c,
    uint64_t *q, uint64_t *r);


/* "YYYY-MM", strict: a 4-digit year of the dates taken, a month 01..12 */

int
mobispot_month_parse(const char *s, size_t len, mobispot_month_t *m)
{
    char     date[MOBISPOT_DATE_LEN];
    int      y, mo, d;
    int64_t  first;

    if (len != MOBISPOT_MONTH_LEN) {
        return MOBISPOT_ERROR;
    }

    memcpy(date, s, MOBISPOT_MONTH_LEN);
    memcpy(date + MOBISPOT_MONTH_LEN, "-01", 3);

    if (mobispot_parse_date(date, MOBISPOT_DATE_LEN, &first) != MOBISPOT_OK) {
        return MOBISPOT_ERROR;
    }

    mobispot_civil_from_days(first, &y, &mo, &d);

    m->year = y;
    m->month = mo;
    m->first = first;
    m->next = (mo == 12) ? mobispot_days_from_civil(y + 1, 1, 1)
                         : mobispot_days_from_civil(y, mo + 1, 1);

    return MOBISPOT_OK;
}


/* hours with two decimals, rounded half up: 12600 s -> "3.50" */

size_t
mobispot_hours_format(int64_t seconds, char *buf)
{
    char      tmp[MOBISPOT_HOURS_LEN];
    size_t    n, len;
    uint64_t  hundredths;

    if (seconds < 0) {
        seconds = 0;
    }

    hundredths = ((uint64_t) seconds * 100 + 1800) / 3600;

    n = 0;
    tmp[n++] = (char) ('0' + hundredths % 10);
    hundredths /= 10;
    tmp[n++] = (char) ('0' + hundredths % 10);
    hundredths /= 10;
    tmp[n++] = '.';

    do {
        tmp[n++] = (char) ('0' + hundredths % 10);
        hundredths /= 10;
    } while (hundredths);

    for (len = 0; len < n; len++) {
        buf[len] = tmp[n - 1 - len];
    }

    return len;
}


/*
 * A JSON number (as the network document holds it: 250, 249.99, 2.5e2)
 * turned into cents exactly: MOBISPOT_ERROR for a negative price, one that
 * is not a whole number of cents (249.995), or one above
 * MOBISPOT_PRICE_CENTS_MAX.
 */

int
mobispot_price_cents(const char *s, size_t len, int64_t *cents)
{
    int       neg;
    size_t    i, frac;
    int64_t   v, scale, e;

    i = 0;
    v = 0;
    frac = 0;
    neg = 0;

    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }

    if (i == len || s[i] < '0' || s[i] > '9') {
        return MOBISPOT_ERROR;
    }

    /* digits, then the fraction's: at most 15 of them in all */

    for ( /* void */ ; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > 99999999999999LL) {
            return MOBISPOT_ERROR;
        }

        v = v * 10 + (s[i] - '0');
    }

    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (v > 99999999999999LL) {
                return MOBISPOT_ERROR;
            }

            v = v * 10 + (s[i] - '0');
            frac++;
        }

        if (frac == 0) {
            return MOBISPOT_ERROR;
        }
    }

    e = 0;

    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        scale = 1;

        if (i < len && (s[i] == '+' || s[i] == '-')) {
            scale = (s[i] == '-') ? -1 : 1;
            i++;
        }

        if (i == len) {
            return MOBISPOT_ERROR;
        }

        for ( /* void */ ; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (e > 1000) {
                return MOBISPOT_ERROR;
            }

            e = e * 10 + (s[i] - '0');
        }

        e *= scale;
    }

    if (i != len) {
        return MOBISPOT_ERROR;
    }

    if (v == 0) {
        *cents = 0;
        return MOBISPOT_OK;
    }

    if (neg) {
        return MOBISPOT_ERROR;
    }

    /* v * 10^(e - frac + 2) cents */

    scale = e - (int64_t) frac + 2;

    for ( /* void */ ; scale < 0; scale++) {
        if (v % 10 != 0) {
            return MOBISPOT_ERROR;
        }

        v /= 10;
    }

    for ( /* void */ ; scale > 0; scale--) {
        if (v > MOBISPOT_PRICE_CENTS_MAX) {
            return MOBISPOT_ERROR;
        }

        v *= 10;
    }

    if (v > MOBISPOT_PRICE_CENTS_MAX) {
        return MOBISPOT_ERROR;
    }

    *cents = v;

    return MOBISPOT_OK;
}


/*
 * The days of month m covered by the passports of one network in an
 * account's info field ("network/from/to,...": calendar days, both
 * included), added to *days; *count counts the passports with a day in
 * the month.  MOBISPOT_ERROR for a field that is not of that form.
 */

int
mobispot_passport_days(const char *passports, size_t len,
    const char *network, size_t network_len, const mobispot_month_t *m,
    int64_t *days, unsigned *count)
{
    size_t       n;
    int64_t      from, to;
    const char  *p, *end, *item, *slash;

    p = passports;
    end = passports + len;

    while (mobispot_list_next(&p, end, &item, &n)) {

        /* network/YYYY-MM-DD/YYYY-MM-DD */

        if (n < 2 * MOBISPOT_DATE_LEN + 3) {
            return MOBISPOT_ERROR;
        }

        slash = item + n - 2 * MOBISPOT_DATE_LEN - 2;

        if (*slash != '/' || item[n - MOBISPOT_DATE_LEN - 1] != '/'
            || !mobispot_id_valid(item, slash - item)
            || mobispot_parse_date(slash + 1, MOBISPOT_DATE_LEN, &from)
               != MOBISPOT_OK
            || mobispot_parse_date(item + n - MOBISPOT_DATE_LEN,
                                   MOBISPOT_DATE_LEN, &to)
               != MOBISPOT_OK
            || to < from)
        {
            return MOBISPOT_ERROR;
        }

        if ((size_t) (slash - item) != network_len
            || memcmp(item, network, network_len) != 0)
        {
            continue;
        }

        if (from < m->first) {
            from = m->first;
        }

        if (to > m->next - 1) {
            to = m->next - 1;
        }

        if (to >= from) {
            *days += to - from + 1;
            (*count)++;
        }
    }

    return MOBISPOT_OK;
}


/*
 * The revenue of a month: price x passport_days / month_days, the exact
 * rational rounded once to the cent, half up.
 */

int
mobispot_revenue_cents(int64_t price_cents, int64_t passport_days,
    int64_t month_days, int64_t *revenue)
{
    uint64_t  q, r;

    if (price_cents < 0 || passport_days < 0 || month_days <= 0) {
        return MOBISPOT_ERROR;
    }

    mobispot_mul_div((uint64_t) price_cents, (uint64_t) passport_days,
                     (uint64_t) month_days, &q, &r);

    if (q > (uint64_t) INT64_MAX - 1) {
        return MOBISPOT_ERROR;
    }

    if (2 * r >= (uint64_t) month_days) {
        q++;
    }

    *revenue = (int64_t) q;

    return MOBISPOT_OK;
}


/*
 * The revenue split pro rata of seconds, by the largest remainder method:
 * each share is revenue x seconds[i] / total rounded down, and the cents
 * left go one each to the largest remainders, ties to the lower index (the
 * caller orders the sites by id).  The shares add up to the revenue
 * exactly; with no seconds at all every share is 0 (MOBISPOT_ERROR: the
 * revenue is not allocated).  scratch holds n integers.
 */

int
mobispot_shares(int64_t revenue, const int64_t *seconds, size_t n,
    int64_t *shares, int64_t *scratch)
{
    size_t    i, best;
    int64_t   left;
    uint64_t  total, q, r;

    total = 0;

    for (i = 0; i < n; i++) {
        shares[i] = 0;

        if (seconds[i] < 0) {
            return MOBISPOT_ERROR;
        }

        total += (uint64_t) seconds[i];
    }

    if (total == 0 || revenue < 0 || total > (uint64_t) INT64_MAX) {
        return MOBISPOT_ERROR;
    }

    left = revenue;

    for (i = 0; i < n; i++) {
        mobispot_mul_div((uint64_t) revenue, (uint64_t) seconds[i], total,
                         &q, &r);

        shares[i] = (int64_t) q;
        scratch[i] = (int64_t) r;
        left -= (int64_t) q;
    }

    /* fewer cents are left than there are sites: each remainder < total */

    while (left > 0) {
        best = n;

        for (i = 0; i < n; i++) {
            if (scratch[i] >= 0 && (best == n || scratch[i] > scratch[best])) {
                best = i;
            }
        }

        if (best == n) {
            return MOBISPOT_ERROR;
        }

        shares[best]++;
        scratch[best] = -1;
        left--;
    }

    return MOBISPOT_OK;
}


/*
 * a x b / c and its remainder, exactly, for c > 0 and a quotient that
 * fits 64 bits: the product in two 64-bit halves, then a long division.
 */

static void
mobispot_mul_div(uint64_t a, uint64_t b, uint64_t c, uint64_t *q,
    uint64_t *r)
{
    int       i;
    uint64_t  hi, lo, a0, a1, b0, b1, p00, p01, p10, p11, mid, rem, quo;

    a0 = a & 0xffffffff;
    a1 = a >> 32;
    b0 = b & 0xffffffff;
    b1 = b >> 32;

    p00 = a0 * b0;
    p01 = a0 * b1;
    p10 = a1 * b0;
    p11 = a1 * b1;

    mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
    lo = (p00 & 0xffffffff) | (mid << 32);
    hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);

    rem = 0;
    quo = 0;

    for (i = 127; i >= 0; i--) {
        /* rem < c <= 2^63 before the shift: no bit is lost */
        rem = (rem << 1) | ((i >= 64 ? hi >> (i - 64) : lo >> i) & 1);
        quo <<= 1;

        if (rem >= c) {
            rem -= c;
            quo |= 1;
        }
    }

    *q = quo;
    *r = rem;
}


/*
 * One CSV field (RFC 4180): as it is, or in double quotes with its quotes
 * doubled when it holds a comma, a quote, CR or LF.  out holds 2 * len + 2
 * bytes.
 */

size_t
mobispot_csv_field(const char *s, size_t len, char *out)
{
    size_t  i, n;

    for (i = 0; i < len; i++) {
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') {
            break;
        }
    }

    if (i == len) {
        memcpy(out, s, len);
        return len;
    }

    n = 0;
    out[n++] = '"';

    for (i = 0; i < len; i++) {
        if (s[i] == '"') {
            out[n++] = '"';
        }

        out[n++] = s[i];
    }

    out[n++] = '"';

    return n;
}
