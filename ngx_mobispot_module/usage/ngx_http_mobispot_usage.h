
/*
 * Copyright (C) Mobispot
 *
 * Usage and the monthly settlement: GET {prefix}usage?site=|company=&month=
 * and GET {prefix}settlement?network=&month=, readers of the usage streams
 * that check-out writes.  A resource over the Spot API (its errors, query
 * parameters, commands and caller come from spots/).  The rules are in
 * docs/usage.md, the keys in docs/data-model.md.
 */


#ifndef _NGX_HTTP_MOBISPOT_USAGE_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_USAGE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_usage.h"
#include "spots/ngx_http_mobispot_admin.h"


/* the entries one XRANGE reads, and the commands of one round trip */
#define NGX_HTTP_MOBISPOT_USAGE_PAGE           1000
#define NGX_HTTP_MOBISPOT_USAGE_ROUND_STREAMS  8
#define NGX_HTTP_MOBISPOT_USAGE_ROUND_USERS    256

/* the most entries one answer reads (a month of every site it sums) */
#define NGX_HTTP_MOBISPOT_USAGE_ENTRIES_MAX    1000000

/* the records of usage?site= in one answer */
#define NGX_HTTP_MOBISPOT_USAGE_LIMIT_MAX      1000
#define NGX_HTTP_MOBISPOT_USAGE_LIMIT_DEFAULT  100

/* a month is closed this long after its end (a booking and its grace) */
#define NGX_HTTP_MOBISPOT_USAGE_CLOSE_DELAY    (2 * 86400)

/* the highest time or seconds a record may hold (2100-01-01) */
#define NGX_HTTP_MOBISPOT_USAGE_TIME_MAX       4102444800UL

/* a stream id, "<ms>-<seq>", and the exclusive start "(<id>" */
#define NGX_HTTP_MOBISPOT_STREAM_ID_MAX        41

/* the fields of a usage record, in the order of the contract */
#define NGX_HTTP_MOBISPOT_U_BOOKING            0
#define NGX_HTTP_MOBISPOT_U_SITE               1
#define NGX_HTTP_MOBISPOT_U_USER               2
#define NGX_HTTP_MOBISPOT_U_COMPANY            3
#define NGX_HTTP_MOBISPOT_U_NETWORK            4
#define NGX_HTTP_MOBISPOT_U_KIND               5
#define NGX_HTTP_MOBISPOT_U_RESOURCE           6
#define NGX_HTTP_MOBISPOT_U_FROM               7
#define NGX_HTTP_MOBISPOT_U_TO                 8
#define NGX_HTTP_MOBISPOT_U_CHECKIN            9
#define NGX_HTTP_MOBISPOT_U_CHECKOUT           10
#define NGX_HTTP_MOBISPOT_U_SECONDS            11
#define NGX_HTTP_MOBISPOT_U_END                12
#define NGX_HTTP_MOBISPOT_U_FIELDS             13

/* which entries a reading sums */
#define NGX_HTTP_MOBISPOT_USAGE_ALL            0
#define NGX_HTTP_MOBISPOT_USAGE_COMPANY        1
#define NGX_HTTP_MOBISPOT_USAGE_NETWORK        2

/* what a reply of a round is */
#define NGX_HTTP_MOBISPOT_ROUND_LIST           0
#define NGX_HTTP_MOBISPOT_ROUND_STREAM         1
#define NGX_HTTP_MOBISPOT_ROUND_USER           2


typedef struct ngx_http_mobispot_usage_s  ngx_http_mobispot_usage_t;

typedef ngx_int_t (*ngx_http_mobispot_usage_done_pt)(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u);


/* a usage record (its strings live as long as the reply, or copied) */
typedef struct {
    ngx_str_t                        id;
    ngx_str_t                        f[NGX_HTTP_MOBISPOT_U_FIELDS];
    int                              kind;
    int64_t                          seconds;
} ngx_http_mobispot_usage_rec_t;


typedef struct {
    int64_t                          seconds;
    ngx_uint_t                       entries;
} ngx_http_mobispot_usage_sum_t;


/* one site's stream of the month, and what was summed of it */
typedef struct {
    ngx_str_t                        site;
    ngx_str_t                        key;
    u_char                           start[NGX_HTTP_MOBISPOT_STREAM_ID_MAX
                                           + 1];
    size_t                           start_len;
    ngx_uint_t                       done;
    ngx_http_mobispot_usage_sum_t    all;
    ngx_http_mobispot_usage_sum_t    kinds[MOBISPOT_KINDS];
} ngx_http_mobispot_usage_site_t;


struct ngx_http_mobispot_usage_s {
    ngx_http_mobispot_api_ctx_t     *ctx;
    mobispot_month_t                 month;
    ngx_str_t                        month_s;
    ngx_uint_t                       closed;
    ngx_uint_t                       filter;
    ngx_str_t                        value;     /* the company or network */
    ngx_str_t                        user;      /* the caller, or empty */
    ngx_array_t                      sites;     /* usage_site_t, by id */
    ngx_uint_t                       entries;   /* read in all */

    /* usage?site=: a page of records after list_start */
    ngx_str_t                        list_start;
    ngx_str_t                        list_count; /* limit + 1 */
    ngx_uint_t                       limit;
    ngx_uint_t                       list;      /* to be read */
    ngx_array_t                      records;   /* usage_rec_t, copied */
    ngx_uint_t                       more;

    /* settlement: the accounts that confirm the passports' index */
    ngx_str_t                       *users;
    ngx_uint_t                       nusers;
    ngx_uint_t                       next_user;
    int64_t                          passport_days;
    ngx_uint_t                       passports;
    ngx_uint_t                       stale;     /* index entries: no day */
    int64_t                          price;     /* cents */
    ngx_str_t                        stored;    /* its key */

    /* the round trip under way: what each of its replies is */
    ngx_uint_t                      *round_type;
    ngx_uint_t                      *round_index;
    ngx_uint_t                       bad;
    const char                      *bad_what;
    ngx_uint_t                       too_many;
    ngx_uint_t                       forbidden;
    ngx_uint_t                       not_found;
    ngx_uint_t                       price_bad;
    ngx_uint_t                       csv;
    ngx_str_t                        answer;    /* stored, or computed */
    ngx_http_mobispot_usage_done_pt  done;
};


/* the reading (ngx_http_mobispot_usage_read.c) */

extern const char  *ngx_http_mobispot_usage_fields[];

ngx_http_mobispot_usage_t *ngx_http_mobispot_usage_create(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_usage_add_site(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_str_t *site);
void ngx_http_mobispot_usage_sort(ngx_http_mobispot_usage_t *u);
ngx_int_t ngx_http_mobispot_usage_next(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u);
ngx_int_t ngx_http_mobispot_usage_month(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_http_mobispot_arg_t *arg,
    ngx_int_t *rc);
ngx_int_t ngx_http_mobispot_usage_gen_sum(yajl_gen g,
    ngx_http_mobispot_usage_sum_t *sum);
ngx_int_t ngx_http_mobispot_usage_gen_kinds(yajl_gen g,
    ngx_http_mobispot_usage_sum_t *kinds);
ngx_int_t ngx_http_mobispot_usage_sites_reply(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, redisReply *reply);
ngx_int_t ngx_http_mobispot_usage_key(ngx_pool_t *pool, ngx_str_t *key,
    const char *fmt, ngx_str_t *one, ngx_str_t *two);


/* the routes */

ngx_int_t ngx_http_mobispot_usage_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_settlement_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);


#endif /* _NGX_HTTP_MOBISPOT_USAGE_H_INCLUDED_ */
