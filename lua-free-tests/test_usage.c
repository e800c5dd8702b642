/*
 * Copyright (C) Mobispot
 *
 * The arithmetic of usage and of the monthly settlement: months, hours,
 * exact cents, proration and the largest remainder method.
 */

#include "tap.h"
#include "core/mobispot_core.h"
#include "core/mobispot_spots.h"
#include "core/mobispot_usage.h"

static const char *
hours(int64_t seconds)
{
    static char buf[MOBISPOT_HOURS_LEN + 1];
    size_t      n;

    n = mobispot_hours_format(seconds, buf);
    buf[n] = '\0';
    return buf;
}

static int
price(const char *s, int64_t *cents)
{
    return mobispot_price_cents(s, strlen(s), cents);
}

static int64_t
days(const char *passports, const char *month, unsigned *count)
{
    int64_t          d = 0;
    mobispot_month_t m;

    *count = 0;
    if (mobispot_month_parse(month, strlen(month), &m) != MOBISPOT_OK
        || mobispot_passport_days(passports, strlen(passports), "cowallonia",
                                  10, &m, &d, count)
            != MOBISPOT_OK) {
        return -1;
    }
    return d;
}

int
main(void)
{
    char             csv[64];
    size_t           n;
    int64_t          c, rev, sh[4], scratch[4];
    unsigned         count;
    mobispot_month_t m;

    /* months */
    TAP_OK(mobispot_month_parse("2026-02", 7, &m) == MOBISPOT_OK
               && m.next - m.first == 28 && m.year == 2026 && m.month == 2,
           "2026-02 has 28 days");
    TAP_OK(mobispot_month_parse("2028-02", 7, &m) == MOBISPOT_OK
               && m.next - m.first == 29,
           "2028-02 has 29 days");
    TAP_OK(mobispot_month_parse("2026-12", 7, &m) == MOBISPOT_OK
               && m.next == mobispot_days_from_civil(2027, 1, 1)
               && m.first == mobispot_days_from_civil(2026, 12, 1),
           "December ends on the next year's first day");
    TAP_OK(mobispot_month_parse("2026-13", 7, &m) == MOBISPOT_ERROR,
           "month 13 refused");
    TAP_OK(mobispot_month_parse("2026-00", 7, &m) == MOBISPOT_ERROR,
           "month 00 refused");
    TAP_OK(mobispot_month_parse("2026-3", 6, &m) == MOBISPOT_ERROR,
           "one-digit month refused");
    TAP_OK(mobispot_month_parse("2026-03-01", 10, &m) == MOBISPOT_ERROR,
           "a date refused");
    TAP_OK(mobispot_month_parse("+026-03", 7, &m) == MOBISPOT_ERROR,
           "a sign refused");
    TAP_OK(mobispot_month_parse("1969-12", 7, &m) == MOBISPOT_ERROR,
           "a year before 1970 refused");

    /* hours */
    TAP_OK(strcmp(hours(36000), "10.00") == 0, "36000 s = 10.00 h");
    TAP_OK(strcmp(hours(12600), "3.50") == 0, "12600 s = 3.50 h");
    TAP_OK(strcmp(hours(0), "0.00") == 0, "0 s = 0.00 h");
    TAP_OK(strcmp(hours(18), "0.01") == 0, "18 s rounds half up to 0.01 h");
    TAP_OK(strcmp(hours(17), "0.00") == 0, "17 s rounds down to 0.00 h");
    TAP_OK(strcmp(hours(3599), "1.00") == 0, "3599 s = 1.00 h");

    /* prices */
    TAP_OK(price("250", &c) == MOBISPOT_OK && c == 25000, "250 = 25000 c");
    TAP_OK(price("249.99", &c) == MOBISPOT_OK && c == 24999, "249.99");
    TAP_OK(price("249.9", &c) == MOBISPOT_OK && c == 24990, "249.9");
    TAP_OK(price("2.5e2", &c) == MOBISPOT_OK && c == 25000, "2.5e2");
    TAP_OK(price("25000E-2", &c) == MOBISPOT_OK && c == 25000, "25000E-2");
    TAP_OK(price("0", &c) == MOBISPOT_OK && c == 0, "0");
    TAP_OK(price("-0", &c) == MOBISPOT_OK && c == 0, "-0 is 0");
    TAP_OK(price("100000", &c) == MOBISPOT_OK && c == 10000000, "the max");
    TAP_OK(price("100000.01", &c) == MOBISPOT_ERROR, "over the max");
    TAP_OK(price("249.995", &c) == MOBISPOT_ERROR, "not whole cents");
    TAP_OK(price("249.9900", &c) == MOBISPOT_OK && c == 24999,
           "trailing zeros of the fraction");
    TAP_OK(price("-1", &c) == MOBISPOT_ERROR, "negative");
    TAP_OK(price("1e999999", &c) == MOBISPOT_ERROR, "huge exponent");
    TAP_OK(price("1e-999999", &c) == MOBISPOT_ERROR, "tiny exponent");
    TAP_OK(price("99999999999999999999", &c) == MOBISPOT_ERROR, "20 digits");
    TAP_OK(price("1.", &c) == MOBISPOT_ERROR, "no fraction digit");
    TAP_OK(price("", &c) == MOBISPOT_ERROR, "empty");
    TAP_OK(price("12a", &c) == MOBISPOT_ERROR, "letters");
    TAP_OK(price("1e", &c) == MOBISPOT_ERROR, "no exponent digit");

    /* passports over a month */
    TAP_IS_INT(days("cowallonia/2026-01-01/2026-12-31", "2026-03", &count), 31,
               "a passport over the whole month");
    TAP_IS_INT(count, 1, "counted once");
    TAP_IS_INT(days("cowallonia/2026-03-17/2026-12-31", "2026-03", &count), 15,
               "from the 17th: 15 days, both ends included");
    TAP_IS_INT(days("cowallonia/2026-03-10/2026-03-10", "2026-03", &count), 1,
               "one day");
    TAP_IS_INT(days("cowallonia/2026-01-01/2026-02-28,"
                    "cowallonia/2026-04-01/2026-04-30",
                    "2026-03", &count),
               0, "none in the month");
    TAP_IS_INT(count, 0, "nothing counted");
    TAP_IS_INT(days("cowallonia/2026-01-01/2026-03-05,"
                    "swc/2026-01-01/2026-12-31,"
                    "cowallonia/2026-03-20/2027-01-01",
                    "2026-03", &count),
               17, "two passports of the network, another network skipped");
    TAP_IS_INT(count, 2, "two counted");
    TAP_IS_INT(days("", "2026-03", &count), 0, "no passport");
    TAP_IS_INT(days("cowallonia/2026-03-01", "2026-03", &count), -1,
               "malformed: no end");
    TAP_IS_INT(days("cowallonia/2026-03-31/2026-03-01", "2026-03", &count), -1,
               "malformed: end before start");
    TAP_IS_INT(days("cowallonia:2026-03-01/2026-03-31", "2026-03", &count), -1,
               "malformed: no slash");

    /* revenue: one rounding, half up */
    TAP_OK(mobispot_revenue_cents(25000, 31 + 31 + 15, 31, &rev) == MOBISPOT_OK,
           "revenue computed");
    TAP_IS_INT(rev, 62097, "250 EUR x 77/31 days = 620.97 (620.967..)");
    TAP_OK(mobispot_revenue_cents(100, 1, 2, &rev) == MOBISPOT_OK && rev == 50,
           "exact half");
    TAP_OK(mobispot_revenue_cents(1, 1, 2, &rev) == MOBISPOT_OK && rev == 1,
           "half a cent rounds up");
    TAP_OK(mobispot_revenue_cents(1, 1, 3, &rev) == MOBISPOT_OK && rev == 0,
           "a third of a cent rounds down");
    TAP_OK(mobispot_revenue_cents(MOBISPOT_PRICE_CENTS_MAX,
                                  INT64_C(1000000000000), 28, &rev)
                   == MOBISPOT_OK
               && rev == INT64_C(357142857142857143),
           "a product beyond 64 bits is exact");

    /* shares: largest remainder */
    {
        int64_t s3[3] = {36000, 72000, 12600}; /* 10 h, 20 h, 3.5 h */

        TAP_OK(mobispot_shares(62097, s3, 3, sh, scratch) == MOBISPOT_OK,
               "shares computed");
        /* 62097 x 36000 / 120600 = 18536.41, x 72000 = 37072.83,
         * x 12600 = 6487.76: floors add to 62095, 2 cents left:
         * to .83 and .76 */
        TAP_IS_INT(sh[0], 18536, "site 1");
        TAP_IS_INT(sh[1], 37073, "site 2: largest remainder");
        TAP_IS_INT(sh[2], 6488, "site 3: second largest remainder");
        TAP_IS_INT(sh[0] + sh[1] + sh[2], 62097, "they add up");
    }
    {
        int64_t s3[3] = {1, 1, 1};

        TAP_OK(mobispot_shares(100, s3, 3, sh, scratch) == MOBISPOT_OK
                   && sh[0] == 34 && sh[1] == 33 && sh[2] == 33,
               "a tie goes to the first site");
    }
    {
        int64_t s2[2] = {0, 0};

        TAP_OK(mobispot_shares(100, s2, 2, sh, scratch) == MOBISPOT_ERROR
                   && sh[0] == 0 && sh[1] == 0,
               "no seconds: nothing allocated");
    }
    {
        int64_t s2[2] = {INT64_C(1000000000000), 1};

        TAP_OK(mobispot_shares(INT64_C(1000000000000000), s2, 2, sh, scratch)
                       == MOBISPOT_OK
                   && sh[0] + sh[1] == INT64_C(1000000000000000)
                   && sh[1] == 1000,
               "large products stay exact");
    }

    /* CSV */
    n = mobispot_csv_field("cw-namur", 8, csv);
    TAP_OK(n == 8 && memcmp(csv, "cw-namur", 8) == 0, "a plain field");
    n = mobispot_csv_field("a,\"b\"", 5, csv);
    TAP_OK(n == 9 && memcmp(csv, "\"a,\"\"b\"\"\"", 9) == 0,
           "a field quoted, its quotes doubled");

    return tap_done();
}
