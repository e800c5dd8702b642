
/*
 * Copyright (C) Mobispot
 *
 * The arithmetic of usage and of the monthly settlement, without nginx:
 * UTC months, hours with two decimals, a price in exact cents, passports
 * prorated by the days of a month, and shares by the largest remainder
 * method.  Linked by the module and by lua-free-tests/test_usage.c; the
 * rules are in docs/usage.md.
 */


#ifndef _MOBISPOT_USAGE_H_INCLUDED_
#define _MOBISPOT_USAGE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define MOBISPOT_MONTH_LEN        7       /* YYYY-MM */

/* "12345.67": the hours of at most 10^12 seconds, and room to spare */
#define MOBISPOT_HOURS_LEN        24

/* the highest monthly price taken, in cents (the admin API's 100000 EUR) */
#define MOBISPOT_PRICE_CENTS_MAX  10000000


/* a UTC month: its first day and the day after its last, in epoch days */
typedef struct {
    int             year;
    int             month;
    int64_t         first;
    int64_t         next;
} mobispot_month_t;


int mobispot_month_parse(const char *s, size_t len, mobispot_month_t *m);
size_t mobispot_hours_format(int64_t seconds, char *buf);
int mobispot_price_cents(const char *s, size_t len, int64_t *cents);
int mobispot_passport_days(const char *passports, size_t len,
    const char *network, size_t network_len, const mobispot_month_t *m,
    int64_t *days, unsigned *count);
int mobispot_revenue_cents(int64_t price_cents, int64_t passport_days,
    int64_t month_days, int64_t *revenue);
int mobispot_shares(int64_t revenue, const int64_t *seconds, size_t n,
    int64_t *shares, int64_t *scratch);
size_t mobispot_csv_field(const char *s, size_t len, char *out);


#endif /* _MOBISPOT_USAGE_H_INCLUDED_ */
