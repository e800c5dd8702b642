
/*
 * Copyright (C) Mobispot
 *
 * Who may book a site (docs/bookings.md, "Who may book"): the caller's
 * account (HMGET ms:{user:<sub>}:info, read in the booking's first round
 * trip, outside its atomic step) and the token's passports decide, in
 * this order: no account; a passport of one of the site's networks, in
 * the token and valid in the account on every local day the window
 * touches; a company account whose limits admit the site; else a refusal
 * naming the most telling rule.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


#define NGX_HTTP_MOBISPOT_PASS_NONE    0   /* no passport of the network */
#define NGX_HTTP_MOBISPOT_PASS_DATES   1   /* one, not over the window */
#define NGX_HTTP_MOBISPOT_PASS_VALID   2   /* valid on every day */


static ngx_uint_t ngx_http_mobispot_booking_pass_token(ngx_str_t *pass,
    ngx_str_t *network, ngx_http_mobispot_reply_t *passports);
static ngx_uint_t ngx_http_mobispot_booking_pass_days(ngx_str_t *held,
    ngx_str_t *network, int64_t first, int64_t last);
static ngx_uint_t ngx_http_mobispot_booking_company_admits(
    ngx_http_mobispot_reply_t *a, ngx_str_t *zone, ngx_str_t *networks);


static const char  *ngx_http_mobispot_account_fields[] = {
    "passports", "company", "company_zones", "company_networks"
};


/* HMGET ms:{user:<sub>}:info passports company company_zones ... */

ngx_int_t
ngx_http_mobispot_booking_account_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_redis_cmd_t *cmd)
{
    if (ngx_http_mobispot_spots_key(r, &bk->account, "ms:{user:%V}:info",
                                    &bk->user)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_mobispot_booking_hmget(r->pool, &bk->account,
                                           ngx_http_mobispot_account_fields,
                                           NGX_HTTP_MOBISPOT_A_FIELDS, cmd);
}


/* HGETALL ms:{networks}:passport: a network's passport id */

void
ngx_http_mobispot_booking_passports_cmd(ngx_http_mobispot_redis_cmd_t *cmd)
{
    static const char    *argv[] = { "HGETALL",
                                     NGX_HTTP_MOBISPOT_KEY_PASSPORTS };
    static const size_t   argvlen[] = {
        sizeof("HGETALL") - 1, sizeof(NGX_HTTP_MOBISPOT_KEY_PASSPORTS) - 1 };

    cmd->argc = 2;
    cmd->argv = argv;
    cmd->argvlen = argvlen;
}


/*
 * 1: the caller has no account (every field is written at each PUT, so
 * a nil "passports" means none), 0: it has one, NGX_ERROR: not a reply
 * of that HMGET.
 */

ngx_int_t
ngx_http_mobispot_booking_no_account(ngx_http_mobispot_reply_t *account)
{
    ngx_uint_t  i;

    if (account->type != REDIS_REPLY_ARRAY
        || account->elements != NGX_HTTP_MOBISPOT_A_FIELDS)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_MOBISPOT_A_FIELDS; i++) {
        if (account->element[i].type != REDIS_REPLY_STRING
            && account->element[i].type != REDIS_REPLY_NIL)
        {
            return NGX_ERROR;
        }
    }

    return account->element[NGX_HTTP_MOBISPOT_A_PASSPORTS].type
           == REDIS_REPLY_NIL;
}


/*
 * The site's entitlement: NGX_OK (bk->network or bk->company set),
 * NGX_DECLINED (*rule and *message say why), NGX_ERROR (a reply that is
 * not what was asked).  replies are step 1's, in the NGX_HTTP_MOBISPOT_R_
 * order: the account, the networks' passports; the site's zone is in its
 * info.
 */

ngx_int_t
ngx_http_mobispot_booking_entitle(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_site_t *site,
    ngx_http_mobispot_reply_t *replies, const char **rule,
    const char **message)
{
    int64_t                     first, last, t;
    ngx_int_t                   none;
    ngx_str_t                   pass, network, zone, *held;
    ngx_uint_t                  dates, state;
    const char                 *p, *end;
    ngx_http_mobispot_reply_t  *a, *passports;

    a = &replies[NGX_HTTP_MOBISPOT_R_ACCOUNT];
    passports = bk->passports;

    ngx_str_null(&bk->network);
    ngx_str_null(&bk->company);

    none = ngx_http_mobispot_booking_no_account(a);

    if (none == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (none) {
        *rule = "account";
        *message = "the caller has no account";
        return NGX_DECLINED;
    }

    /* the local days the window touches at the site, both included */

    first = mobispot_floor_div(bk->from
                               + mobispot_tz_offset(site->info.tz, bk->from),
                               86400);
    t = bk->to - 1;
    last = mobispot_floor_div(t + mobispot_tz_offset(site->info.tz, t), 86400);

    if (ngx_http_mobispot_spots_pass(r, &pass) != NGX_OK) {
        pass.len = 0;
    }

    held = &a->element[NGX_HTTP_MOBISPOT_A_PASSPORTS].str;
    dates = 0;

    /* a passport: the site's networks in the site's order */

    p = (const char *) site->info.networks.data;
    end = p + site->info.networks.len;

    while (mobispot_list_next(&p, end, (const char **) &network.data,
                              &network.len))
    {
        state = ngx_http_mobispot_booking_pass_days(held, &network, first,
                                                    last);

        if (state == NGX_HTTP_MOBISPOT_PASS_DATES) {
            dates = 1;
        }

        if (state == NGX_HTTP_MOBISPOT_PASS_VALID
            && ngx_http_mobispot_booking_pass_token(&pass, &network,
                                                    passports))
        {
            bk->network = network;
            return NGX_OK;
        }
    }

    /* a company account, not limited, or limited to the site's zone or to
     * one of its networks */

    if (a->element[NGX_HTTP_MOBISPOT_A_COMPANY].type == REDIS_REPLY_STRING
        && a->element[NGX_HTTP_MOBISPOT_A_COMPANY].str.len)
    {
        zone = site->f[NGX_HTTP_MOBISPOT_F_ZONE];

        if (ngx_http_mobispot_booking_company_admits(a, &zone,
                                                     &site->info.networks))
        {
            bk->company = a->element[NGX_HTTP_MOBISPOT_A_COMPANY].str;
            return NGX_OK;
        }

        if (!dates) {
            *rule = "company_limits";
            *message = "the caller's company account is limited to other "
                       "zones and networks";
            return NGX_DECLINED;
        }
    }

    if (dates) {
        *rule = "passport_dates";
        *message = "the caller's passport of this site's network is not "
                   "valid on every day of the booking";
        return NGX_DECLINED;
    }

    *rule = "passport";
    *message = "the caller's passports do not cover this site's networks";

    return NGX_DECLINED;
}


/* whether the token's passports hold the network's passport id */

static ngx_uint_t
ngx_http_mobispot_booking_pass_token(ngx_str_t *pass, ngx_str_t *network,
    ngx_http_mobispot_reply_t *passports)
{
    ngx_uint_t                  i;
    ngx_http_mobispot_reply_t  *e;

    if (pass->len == 0 || passports->type != REDIS_REPLY_ARRAY) {
        return 0;
    }

    e = passports->element;

    for (i = 0; i + 1 < passports->elements; i += 2) {
        if (e[i].type == REDIS_REPLY_STRING
            && e[i + 1].type == REDIS_REPLY_STRING
            && e[i].str.len == network->len
            && ngx_memcmp(e[i].str.data, network->data, network->len) == 0)
        {
            return mobispot_list_has((char *) pass->data, pass->len,
                                     (char *) e[i + 1].str.data,
                                     e[i + 1].str.len);
        }
    }

    return 0;
}


/*
 * The account's passports of a network ("network/from/to,..."; from and
 * to are days, both included) over the local days first to last: each day
 * must fall in one of them (two passports of a network never overlap, so
 * a window across their junction is covered by both).
 */

static ngx_uint_t
ngx_http_mobispot_booking_pass_days(ngx_str_t *held, ngx_str_t *network,
    int64_t first, int64_t last)
{
    size_t       len;
    int64_t      from, to;
    ngx_uint_t   found, covered;
    const char  *p, *end, *item;

    found = 0;
    covered = 0;

    p = (const char *) held->data;
    end = p + held->len;

    while (mobispot_list_next(&p, end, &item, &len)) {
        /* "<network>/YYYY-MM-DD/YYYY-MM-DD" */

        if (len != network->len + 2 * (1 + MOBISPOT_DATE_LEN)
            || ngx_memcmp(item, network->data, network->len) != 0
            || item[network->len] != '/'
            || item[network->len + 1 + MOBISPOT_DATE_LEN] != '/'
            || mobispot_parse_date(item + network->len + 1,
                                   MOBISPOT_DATE_LEN, &from)
               != MOBISPOT_OK
            || mobispot_parse_date(item + len - MOBISPOT_DATE_LEN,
                                   MOBISPOT_DATE_LEN, &to)
               != MOBISPOT_OK)
        {
            continue;
        }

        found = 1;

        if (from <= first && first <= to) {
            covered |= 1;
        }

        if (from <= last && last <= to) {
            covered |= 2;
        }
    }

    if (covered == 3) {
        return NGX_HTTP_MOBISPOT_PASS_VALID;
    }

    return found ? NGX_HTTP_MOBISPOT_PASS_DATES : NGX_HTTP_MOBISPOT_PASS_NONE;
}


/* a company not limited, or limited to the site's zone or a network */

static ngx_uint_t
ngx_http_mobispot_booking_company_admits(ngx_http_mobispot_reply_t *a,
    ngx_str_t *zone, ngx_str_t *networks)
{
    size_t       len;
    ngx_str_t    zones, nets;
    const char  *p, *end, *w;

    ngx_str_null(&zones);
    ngx_str_null(&nets);

    if (a->element[NGX_HTTP_MOBISPOT_A_ZONES].type == REDIS_REPLY_STRING) {
        zones = a->element[NGX_HTTP_MOBISPOT_A_ZONES].str;
    }

    if (a->element[NGX_HTTP_MOBISPOT_A_NETWORKS].type == REDIS_REPLY_STRING) {
        nets = a->element[NGX_HTTP_MOBISPOT_A_NETWORKS].str;
    }

    if (zones.len == 0 && nets.len == 0) {
        return 1;
    }

    if (zone->len
        && mobispot_list_has((char *) zones.data, zones.len,
                             (char *) zone->data, zone->len))
    {
        return 1;
    }

    p = (const char *) networks->data;
    end = p + networks->len;

    while (mobispot_list_next(&p, end, &w, &len)) {
        if (mobispot_list_has((char *) nets.data, nets.len, w, len)) {
            return 1;
        }
    }

    return 0;
}
