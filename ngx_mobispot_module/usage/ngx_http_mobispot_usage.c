
/*
 * Copyright (C) Mobispot
 *
 * GET {prefix}usage?site=&month= (an admin, or an operator of the site)
 * and GET {prefix}usage?company=&month= (an admin): the hours of a month,
 * by kind, with a page of the site's records, or by site and kind for a
 * company.  docs/usage.md has the rules.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "usage/ngx_http_mobispot_usage.h"


#define NGX_HTTP_MOBISPOT_ARG_SITE     0
#define NGX_HTTP_MOBISPOT_ARG_COMPANY  1
#define NGX_HTTP_MOBISPOT_ARG_MONTH    2
#define NGX_HTTP_MOBISPOT_ARG_LIMIT    3
#define NGX_HTTP_MOBISPOT_ARG_AFTER    4
#define NGX_HTTP_MOBISPOT_ARGS         5


static ngx_int_t ngx_http_mobispot_usage_site(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_http_mobispot_arg_t *args);
static ngx_int_t ngx_http_mobispot_usage_company(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_http_mobispot_arg_t *args);
static ngx_int_t ngx_http_mobispot_usage_stream_id(ngx_str_t *id);
static ngx_int_t ngx_http_mobispot_usage_u64(u_char *p, u_char *last);
static void ngx_http_mobispot_usage_first_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_usage_first_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static ngx_int_t ngx_http_mobispot_usage_site_answer(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u);
static ngx_int_t ngx_http_mobispot_usage_company_answer(
    ngx_http_request_t *r, ngx_http_mobispot_usage_t *u);
static ngx_int_t ngx_http_mobispot_usage_gen_head(yajl_gen g,
    ngx_http_mobispot_usage_t *u, const char *name, ngx_str_t *value,
    ngx_http_mobispot_usage_sum_t *all, ngx_http_mobispot_usage_sum_t *kinds);
static ngx_int_t ngx_http_mobispot_usage_gen_record(yajl_gen g,
    ngx_http_mobispot_usage_rec_t *rec);


ngx_int_t
ngx_http_mobispot_usage_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_mobispot_usage_t  *u;

    ngx_http_mobispot_arg_t  args[NGX_HTTP_MOBISPOT_ARGS] = {
        { "site", ngx_null_string, 0 },
        { "company", ngx_null_string, 0 },
        { "month", ngx_null_string, 0 },
        { "limit", ngx_null_string, 0 },
        { "after", ngx_null_string, 0 }
    };

    rc = ngx_http_mobispot_spots_args(r, args, NGX_HTTP_MOBISPOT_ARGS);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    if (args[NGX_HTTP_MOBISPOT_ARG_SITE].set
        && args[NGX_HTTP_MOBISPOT_ARG_COMPANY].set)
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "conflicting_parameters",
                                             "site and company exclude "
                                             "each other", "parameter",
                                             "company");
    }

    if (!args[NGX_HTTP_MOBISPOT_ARG_SITE].set
        && !args[NGX_HTTP_MOBISPOT_ARG_COMPANY].set)
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "missing_parameter",
                                             "one of site or company is "
                                             "required", "parameter",
                                             "site");
    }

    /* a company's usage is the admin's: refused before anything is read */

    if (args[NGX_HTTP_MOBISPOT_ARG_COMPANY].set) {
        rc = ngx_http_mobispot_admin_allowed(r, ctx);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    u = ngx_http_mobispot_usage_create(r, ctx);
    if (u == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_usage_month(r, u,
                                      &args[NGX_HTTP_MOBISPOT_ARG_MONTH], &rc)
        != NGX_OK)
    {
        return rc;
    }

    if (args[NGX_HTTP_MOBISPOT_ARG_COMPANY].set) {
        return ngx_http_mobispot_usage_company(r, u, args);
    }

    return ngx_http_mobispot_usage_site(r, u, args);
}


static ngx_int_t
ngx_http_mobispot_usage_company(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_http_mobispot_arg_t *args)
{
    ngx_str_t                      *company, key;
    ngx_http_mobispot_redis_cmd_t   cmd;

    static ngx_str_t  smembers = ngx_string("SMEMBERS");

    company = &args[NGX_HTTP_MOBISPOT_ARG_COMPANY].value;

    if (!mobispot_id_valid((char *) company->data, company->len)) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "company must be a company id",
                                             "parameter", "company");
    }

    if (args[NGX_HTTP_MOBISPOT_ARG_LIMIT].set
        || args[NGX_HTTP_MOBISPOT_ARG_AFTER].set)
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_parameter",
                   "limit and after page the records of usage?site= only",
                   "parameter",
                   args[NGX_HTTP_MOBISPOT_ARG_LIMIT].set ? "limit" : "after");
    }

    u->filter = NGX_HTTP_MOBISPOT_USAGE_COMPANY;
    u->value = *company;
    u->done = ngx_http_mobispot_usage_company_answer;

    if (ngx_http_mobispot_usage_key(r->pool, &key, "ms:usage:sites:%V",
                                    &u->month_s, NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_admin_cmd(r, &cmd, 2, &smembers, &key) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_read(r, u->ctx, &cmd, 1,
                                      ngx_http_mobispot_usage_first_reply,
                                      ngx_http_mobispot_usage_first_done, u);
}


static ngx_int_t
ngx_http_mobispot_usage_site(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_http_mobispot_arg_t *args)
{
    u_char                         *p;
    ngx_int_t                       rc;
    ngx_str_t                      *site, *after, key;
    unsigned long                   limit;
    ngx_http_mobispot_redis_cmd_t   cmd;

    static ngx_str_t  hmget = ngx_string("HMGET");
    static ngx_str_t  operator_of = ngx_string("operator_of");

    site = &args[NGX_HTTP_MOBISPOT_ARG_SITE].value;
    after = &args[NGX_HTTP_MOBISPOT_ARG_AFTER].value;

    if (!mobispot_id_valid((char *) site->data, site->len)) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "site must be a site id",
                                             "parameter", "site");
    }

    limit = NGX_HTTP_MOBISPOT_USAGE_LIMIT_DEFAULT;

    if (args[NGX_HTTP_MOBISPOT_ARG_LIMIT].set
        && (mobispot_parse_uint(
                (char *) args[NGX_HTTP_MOBISPOT_ARG_LIMIT].value.data,
                args[NGX_HTTP_MOBISPOT_ARG_LIMIT].value.len,
                NGX_HTTP_MOBISPOT_USAGE_LIMIT_MAX, &limit)
            != MOBISPOT_OK
            || limit == 0))
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "limit must be an integer "
                                             "from 1 to 1000", "parameter",
                                             "limit");
    }

    if (args[NGX_HTTP_MOBISPOT_ARG_AFTER].set
        && ngx_http_mobispot_usage_stream_id(after) != NGX_OK)
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "after must be the next of a "
                                             "page (a record id)",
                                             "parameter", "after");
    }

    if (ngx_array_init(&u->records, r->pool, limit,
                       sizeof(ngx_http_mobispot_usage_rec_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mobispot_usage_add_site(r, u, site);
    if (rc != NGX_OK) {
        return rc;
    }

    u->limit = limit;
    u->list = 1;
    u->filter = NGX_HTTP_MOBISPOT_USAGE_ALL;
    u->done = ngx_http_mobispot_usage_site_answer;

    p = ngx_pnalloc(r->pool, NGX_HTTP_MOBISPOT_STREAM_ID_MAX + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->list_count.data = p;
    u->list_count.len = ngx_sprintf(p, "%ui", u->limit + 1) - p;

    if (args[NGX_HTTP_MOBISPOT_ARG_AFTER].set) {
        p += NGX_INT_T_LEN;
        u->list_start.data = p;
        u->list_start.len = ngx_sprintf(p, "(%V", after) - p;

    } else {
        ngx_str_set(&u->list_start, "-");
    }

    if (ngx_http_mobispot_admin_is(r, u->ctx)) {
        return ngx_http_mobispot_usage_next(r, u);
    }

    /* a site operator: the site is among its account's operator_of */

    if (ngx_http_mobispot_spots_caller(r, "usage needs a signed-in caller",
                                       &u->user, &rc)
        != NGX_OK)
    {
        return rc;
    }

    if (ngx_http_mobispot_usage_key(r->pool, &key, "ms:{user:%V}:info",
                                    &u->user, NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_admin_cmd(r, &cmd, 3, &hmget, &key, &operator_of)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_read(r, u->ctx, &cmd, 1,
                                      ngx_http_mobispot_usage_first_reply,
                                      ngx_http_mobispot_usage_first_done, u);
}


/*
 * "<ms>-<seq>", each a 64-bit unsigned integer, as Redis takes a stream
 * id; not the highest id of all, after which nothing can come (Redis
 * refuses an exclusive start there).
 */

static ngx_int_t
ngx_http_mobispot_usage_stream_id(ngx_str_t *id)
{
    u_char      *end, *dash;
    ngx_int_t    ms, seq;

    end = id->data + id->len;
    dash = ngx_strlchr(id->data, end, '-');

    if (dash == NULL) {
        return NGX_ERROR;
    }

    ms = ngx_http_mobispot_usage_u64(id->data, dash);
    seq = ngx_http_mobispot_usage_u64(dash + 1, end);

    if (ms == NGX_ERROR || seq == NGX_ERROR || (ms == 1 && seq == 1)) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* 1 to 20 digits up to 2^64 - 1: 1 for that highest value, else 0 */

static ngx_int_t
ngx_http_mobispot_usage_u64(u_char *p, u_char *last)
{
    int      rc;
    size_t   len;
    u_char  *q;

    static const u_char  max[] = "18446744073709551615";

    for (q = p; q < last; q++) {
        if (*q < '0' || *q > '9') {
            return NGX_ERROR;
        }
    }

    len = last - p;

    if (len == 0 || len > sizeof(max) - 1) {
        return NGX_ERROR;
    }

    if (len < sizeof(max) - 1) {
        return 0;
    }

    rc = ngx_memcmp(p, max, len);

    if (rc > 0) {
        return NGX_ERROR;
    }

    return rc == 0;
}


/*
 * The first round trip: the month's sites (usage?company=), or the
 * caller's operator_of (usage?site= for a caller who is not an admin).
 */

static void
ngx_http_mobispot_usage_first_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_usage_t *u = data;

    ngx_http_mobispot_usage_site_t  *s;

    if (u->filter == NGX_HTTP_MOBISPOT_USAGE_COMPANY) {
        if (ngx_http_mobispot_usage_sites_reply(r, u, reply) != NGX_OK) {
            u->bad = 1;
            u->bad_what = "SMEMBERS of the month's sites";
        }

        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1
        || (reply->element[0]->type != REDIS_REPLY_STRING
            && reply->element[0]->type != REDIS_REPLY_NIL))
    {
        u->bad = 1;
        u->bad_what = "HMGET of the caller's operator_of";
        return;
    }

    s = u->sites.elts;
    reply = reply->element[0];

    u->forbidden = reply->type == REDIS_REPLY_NIL
                   || !mobispot_list_has(reply->str, reply->len,
                                         (char *) s[0].site.data,
                                         s[0].site.len);
}


static void
ngx_http_mobispot_usage_first_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_usage_t *u = data;

    if (ngx_http_mobispot_spots_call_failed(r, status, u->bad, u->bad_what)) {
        return;
    }

    if (u->forbidden) {
        ngx_http_finalize_request(r,
            ngx_http_mobispot_spots_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                          "the usage of a site is for an "
                                          "admin or an operator of the "
                                          "site", "rule", "site_operator"));
        return;
    }

    ngx_http_finalize_request(r, ngx_http_mobispot_usage_next(r, u));
}


/* usage?site=: the month's sums by kind, and the page of records */

static ngx_int_t
ngx_http_mobispot_usage_site_answer(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u)
{
    yajl_gen                         g;
    ngx_uint_t                       i;
    ngx_http_mobispot_usage_rec_t   *rec;
    ngx_http_mobispot_usage_site_t  *s;

    g = ngx_http_mobispot_api_gen(r);
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s = u->sites.elts;
    rec = u->records.elts;

    if (ngx_http_mobispot_usage_gen_head(g, u, "site", &s[0].site, &s[0].all,
                                         s[0].kinds)
        != NGX_OK
        || mobispot_json_string(g, "records") != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < u->records.nelts; i++) {
        if (ngx_http_mobispot_usage_gen_record(g, &rec[i]) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (yajl_gen_array_close(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "next") != MOBISPOT_OK
        || (u->more && u->records.nelts
            ? yajl_gen_string(g, rec[u->records.nelts - 1].id.data,
                              rec[u->records.nelts - 1].id.len)
            : yajl_gen_null(g))
           != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g);
}


/* usage?company=: the month's sums, and each site's, by kind */

static ngx_int_t
ngx_http_mobispot_usage_company_answer(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u)
{
    yajl_gen                         g;
    ngx_uint_t                       i, k;
    ngx_http_mobispot_usage_sum_t    all, kinds[MOBISPOT_KINDS];
    ngx_http_mobispot_usage_site_t  *s;

    ngx_memzero(&all, sizeof(all));
    ngx_memzero(kinds, sizeof(kinds));

    s = u->sites.elts;

    for (i = 0; i < u->sites.nelts; i++) {
        all.seconds += s[i].all.seconds;
        all.entries += s[i].all.entries;

        for (k = 0; k < MOBISPOT_KINDS; k++) {
            kinds[k].seconds += s[i].kinds[k].seconds;
            kinds[k].entries += s[i].kinds[k].entries;
        }
    }

    g = ngx_http_mobispot_api_gen(r);
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_usage_gen_head(g, u, "company", &u->value, &all,
                                         kinds)
        != NGX_OK
        || mobispot_json_string(g, "sites") != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the sites where the company has records, by id */

    for (i = 0; i < u->sites.nelts; i++) {
        if (s[i].all.entries == 0) {
            continue;
        }

        if (yajl_gen_map_open(g) != yajl_gen_status_ok
            || mobispot_json_string(g, "site") != MOBISPOT_OK
            || yajl_gen_string(g, s[i].site.data, s[i].site.len)
               != yajl_gen_status_ok
            || ngx_http_mobispot_usage_gen_sum(g, &s[i].all) != NGX_OK
            || ngx_http_mobispot_usage_gen_kinds(g, s[i].kinds) != NGX_OK
            || yajl_gen_map_close(g) != yajl_gen_status_ok)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (yajl_gen_array_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g);
}


/* {"site"|"company":..,"month":..,"closed":..,sums,"kinds":{..}, (open) */

static ngx_int_t
ngx_http_mobispot_usage_gen_head(yajl_gen g, ngx_http_mobispot_usage_t *u,
    const char *name, ngx_str_t *value, ngx_http_mobispot_usage_sum_t *all,
    ngx_http_mobispot_usage_sum_t *kinds)
{
    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, name) != MOBISPOT_OK
        || yajl_gen_string(g, value->data, value->len) != yajl_gen_status_ok
        || mobispot_json_string(g, "month") != MOBISPOT_OK
        || yajl_gen_string(g, u->month_s.data, u->month_s.len)
           != yajl_gen_status_ok
        || mobispot_json_string(g, "closed") != MOBISPOT_OK
        || yajl_gen_bool(g, (int) u->closed) != yajl_gen_status_ok
        || ngx_http_mobispot_usage_gen_sum(g, all) != NGX_OK
        || ngx_http_mobispot_usage_gen_kinds(g, kinds) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a record as the stream holds it: "id", then each field; times as integers */

static ngx_int_t
ngx_http_mobispot_usage_gen_record(yajl_gen g,
    ngx_http_mobispot_usage_rec_t *rec)
{
    ngx_uint_t      k;
    unsigned long   v;

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "id") != MOBISPOT_OK
        || yajl_gen_string(g, rec->id.data, rec->id.len)
           != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    for (k = 0; k < NGX_HTTP_MOBISPOT_U_FIELDS; k++) {
        if (mobispot_json_string(g, ngx_http_mobispot_usage_fields[k])
            != MOBISPOT_OK)
        {
            return NGX_ERROR;
        }

        if (k >= NGX_HTTP_MOBISPOT_U_FROM && k <= NGX_HTTP_MOBISPOT_U_SECONDS)
        {
            /* checked when read */
            (void) mobispot_parse_uint((char *) rec->f[k].data,
                                       rec->f[k].len,
                                       NGX_HTTP_MOBISPOT_USAGE_TIME_MAX, &v);

            if (yajl_gen_integer(g, (long long) v) != yajl_gen_status_ok) {
                return NGX_ERROR;
            }

            continue;
        }

        if (yajl_gen_string(g, rec->f[k].data, rec->f[k].len)
            != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }
    }

    return yajl_gen_map_close(g) == yajl_gen_status_ok ? NGX_OK : NGX_ERROR;
}
