
/*
 * Copyright (C) Mobispot
 *
 * GET {prefix}settlement?network=&month= (an admin route): a network's
 * passport revenue of a month, split between its sites pro rata of the
 * hours used there by its passport holders, to the cent, by the largest
 * remainder method.  A closed month's first figures are stored (SET NX)
 * and answered ever after.  JSON, or CSV with Accept: text/csv.  The rules
 * are in docs/usage.md.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_jwt.h"
#include "usage/ngx_http_mobispot_usage.h"


#define NGX_HTTP_MOBISPOT_S_DOC      0
#define NGX_HTTP_MOBISPOT_S_INDEX    1
#define NGX_HTTP_MOBISPOT_S_SITES    2
#define NGX_HTTP_MOBISPOT_S_STORED   3


static void ngx_http_mobispot_settlement_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_settlement_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static ngx_int_t ngx_http_mobispot_settlement_price(
    ngx_http_mobispot_usage_t *u, redisReply *reply);
static ngx_int_t ngx_http_mobispot_settlement_users(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, redisReply *reply);
static ngx_int_t ngx_http_mobispot_settlement_compute(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u);
static ngx_int_t ngx_http_mobispot_settlement_gen(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, yajl_gen g);
static ngx_int_t ngx_http_mobispot_settlement_stored(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_settlement_answer(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u);
static ngx_int_t ngx_http_mobispot_settlement_csv(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u);
static void ngx_http_mobispot_settlement_tree_free(void *data);


ngx_int_t
ngx_http_mobispot_settlement_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                      *network, key[4];
    ngx_uint_t                      n;
    ngx_http_mobispot_usage_t      *u;
    ngx_http_mobispot_redis_cmd_t   cmds[4];

    static ngx_str_t  hget = ngx_string("HGET");
    static ngx_str_t  hgetall = ngx_string("HGETALL");
    static ngx_str_t  smembers = ngx_string("SMEMBERS");
    static ngx_str_t  get = ngx_string("GET");

    ngx_http_mobispot_arg_t  args[2] = {
        { "network", ngx_null_string, 0 },
        { "month", ngx_null_string, 0 }
    };

    rc = ngx_http_mobispot_spots_args(r, args, 2);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    network = &args[0].value;

    if (!args[0].set) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "missing_parameter",
                                             "network is required",
                                             "parameter", "network");
    }

    if (!mobispot_id_valid((char *) network->data, network->len)) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "network must be a network id",
                                             "parameter", "network");
    }

    u = ngx_http_mobispot_usage_create(r, ctx);
    if (u == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_usage_month(r, u, &args[1], &rc)
        != NGX_OK)
    {
        return rc;
    }

    u->filter = NGX_HTTP_MOBISPOT_USAGE_NETWORK;
    u->value = *network;
    u->csv = ngx_http_mobispot_accepts(r, "text/csv");
    u->done = ngx_http_mobispot_settlement_compute;

    ngx_str_set(&key[NGX_HTTP_MOBISPOT_S_DOC], NGX_HTTP_MOBISPOT_KEY_NETWORKS);

    if (ngx_http_mobispot_usage_key(r->pool, &key[NGX_HTTP_MOBISPOT_S_INDEX],
                                    "ms:passports:%V", network, NULL)
        != NGX_OK
        || ngx_http_mobispot_usage_key(r->pool,
                                       &key[NGX_HTTP_MOBISPOT_S_SITES],
                                       "ms:usage:sites:%V", &u->month_s,
                                       NULL)
           != NGX_OK
        || ngx_http_mobispot_usage_key(r->pool, &u->stored,
                                       "ms:settlement:%V:%V", network,
                                       &u->month_s)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = u->closed ? 4 : 3;

    if (ngx_http_mobispot_admin_cmd(r, &cmds[0], 3, &hget,
                                    &key[NGX_HTTP_MOBISPOT_S_DOC], network)
        != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[1], 2, &hgetall,
                                       &key[NGX_HTTP_MOBISPOT_S_INDEX])
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[2], 2, &smembers,
                                       &key[NGX_HTTP_MOBISPOT_S_SITES])
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[3], 2, &get, &u->stored)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_read(r, ctx, cmds, n,
                                      ngx_http_mobispot_settlement_reply,
                                      ngx_http_mobispot_settlement_done, u);
}


static void
ngx_http_mobispot_settlement_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_usage_t *u = data;

    if (u->bad) {
        return;
    }

    switch (index) {

    case NGX_HTTP_MOBISPOT_S_DOC:
        if (reply->type == REDIS_REPLY_NIL) {
            u->not_found = 1;
            return;
        }

        if (reply->type != REDIS_REPLY_STRING) {
            break;
        }

        u->price_bad = ngx_http_mobispot_settlement_price(u, reply)
                       != NGX_OK;
        return;

    case NGX_HTTP_MOBISPOT_S_INDEX:
        if (ngx_http_mobispot_settlement_users(r, u, reply) != NGX_OK) {
            break;
        }

        return;

    case NGX_HTTP_MOBISPOT_S_SITES:
        if (ngx_http_mobispot_usage_sites_reply(r, u, reply) != NGX_OK) {
            break;
        }

        return;

    default:
        if (reply->type == REDIS_REPLY_NIL) {
            return;
        }

        if (reply->type != REDIS_REPLY_STRING) {
            break;
        }

        u->answer.len = reply->len;
        u->answer.data = ngx_pnalloc(r->pool, reply->len + 1);
        if (u->answer.data == NULL) {
            break;
        }

        ngx_memcpy(u->answer.data, reply->str, reply->len + 1);
        return;
    }

    u->bad = 1;
    u->bad_what = "the settlement's first round trip";
}


static void
ngx_http_mobispot_settlement_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_usage_t *u = data;

    ngx_int_t  rc;

    if (ngx_http_mobispot_spots_call_failed(r, status, u->bad, u->bad_what)) {
        return;
    }

    if (u->not_found) {
        rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND,
                                           "unknown_network",
                                           "no such network", "parameter",
                                           "network");

    } else if (u->answer.len) {
        /* the closed month's figures, as first computed */
        rc = ngx_http_mobispot_settlement_answer(r, u);

    } else if (u->price_bad) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: network \"%V\": its passport's "
                      "monthly_price_eur is not a price in whole cents",
                      &u->value);

        rc = ngx_http_mobispot_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "price_invalid",
                                         "the network's passport price is "
                                         "not a price in whole cents");

    } else {
        rc = ngx_http_mobispot_usage_next(r, u);
    }

    ngx_http_finalize_request(r, rc);
}


/* the network document's passport.monthly_price_eur, in exact cents */

static ngx_int_t
ngx_http_mobispot_settlement_price(ngx_http_mobispot_usage_t *u,
    redisReply *reply)
{
    ngx_int_t  rc;
    yajl_val   doc, v;

    doc = yajl_tree_parse(reply->str, NULL, 0);
    if (doc == NULL) {
        return NGX_ERROR;
    }

    v = mobispot_json_member(mobispot_json_member(doc, "passport"),
                             "monthly_price_eur");

    rc = (v != NULL && YAJL_IS_NUMBER(v)
          && mobispot_price_cents(v->u.number.r, ngx_strlen(v->u.number.r),
                                  &u->price)
             == MOBISPOT_OK)
         ? NGX_OK : NGX_ERROR;

    yajl_tree_free(doc);

    return rc;
}


/*
 * HGETALL ms:passports:<network>: the users whose accounts are then read
 * (their info keys); a field that is not a user id is skipped, logged.
 */

static ngx_int_t
ngx_http_mobispot_settlement_users(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, redisReply *reply)
{
    size_t       i;
    ngx_str_t    user;
    redisReply  *e;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        return NGX_ERROR;
    }

    u->users = ngx_palloc(r->pool,
                          (reply->elements / 2 + 1) * sizeof(ngx_str_t));
    if (u->users == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < reply->elements; i += 2) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_STRING
            || !mobispot_user_id_valid(e->str, e->len))
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mobispot: passports of \"%V\": a field that is "
                          "not a user id skipped", &u->value);
            u->stale++;
            continue;
        }

        user.data = (u_char *) e->str;
        user.len = e->len;

        if (ngx_http_mobispot_usage_key(r->pool, &u->users[u->nusers],
                                        "ms:{user:%V}:info", &user, NULL)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        u->nusers++;
    }

    return NGX_OK;
}


/*
 * Everything is read: the revenue, the shares, the JSON.  An open month
 * is answered as computed; a closed one is stored first, unless another
 * computation stored it already (SET NX GET): then that one is answered.
 */

static ngx_int_t
ngx_http_mobispot_settlement_compute(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u)
{
    yajl_gen                        g;
    size_t                          len;
    const unsigned char            *buf;
    ngx_http_mobispot_api_keys_t   *keys;
    ngx_http_mobispot_redis_cmd_t  *cmd;

    static ngx_str_t  set = ngx_string("SET");
    static ngx_str_t  nx = ngx_string("NX");
    static ngx_str_t  get = ngx_string("GET");

    g = ngx_http_mobispot_api_gen(r);
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_settlement_gen(r, u, g) != NGX_OK
        || yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->answer.data = ngx_pnalloc(r->pool, len + 1);
    if (u->answer.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(u->answer.data, buf, len);
    u->answer.data[len] = '\0';
    u->answer.len = len;

    if (!u->closed) {
        return ngx_http_mobispot_settlement_answer(r, u);
    }

    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));
    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmd == NULL || keys == NULL
        || ngx_http_mobispot_admin_cmd(r, cmd, 5, &set, &u->stored,
                                       &u->answer, &nx, &get)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys->read = &u->stored;
    keys->nread = 1;
    keys->written = &u->stored;
    keys->nwritten = 1;

    return ngx_http_mobispot_api_call(r, u->ctx, cmd, 1, keys,
                                      ngx_http_mobispot_settlement_stored);
}


static ngx_int_t
ngx_http_mobispot_settlement_stored(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_usage_t  *u;

    u = ctx->data;

    switch (replies[0].type) {

    case REDIS_REPLY_NIL:
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "mobispot: settlement of \"%V\" for %V stored",
                      &u->value, &u->month_s);
        break;

    case REDIS_REPLY_STRING:
        /* another computation stored it first: its figures stand */
        u->answer = replies[0].str;
        break;

    default:
        return ngx_http_mobispot_api_bad_reply(r, "SET of a settlement");
    }

    return ngx_http_mobispot_settlement_answer(r, u);
}


static ngx_int_t
ngx_http_mobispot_settlement_gen(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, yajl_gen g)
{
    char                             hours[MOBISPOT_HOURS_LEN];
    size_t                           len;
    int64_t                          revenue, total, *seconds, *shares;
    int64_t                         *scratch, allocated;
    ngx_uint_t                       i, n;
    ngx_http_mobispot_usage_site_t  *s, **sites;

    if (mobispot_revenue_cents(u->price, u->passport_days,
                               u->month.next - u->month.first, &revenue)
        != MOBISPOT_OK)
    {
        return NGX_ERROR;
    }

    /* the sites where the network's passports were used, by id */

    s = u->sites.elts;
    n = u->sites.nelts;

    sites = ngx_palloc(r->pool, (n + 1) * sizeof(void *));
    seconds = ngx_palloc(r->pool, 3 * (n + 1) * sizeof(int64_t));
    if (sites == NULL || seconds == NULL) {
        return NGX_ERROR;
    }

    shares = seconds + n + 1;
    scratch = shares + n + 1;

    for (i = 0, n = 0, total = 0; i < u->sites.nelts; i++) {
        if (s[i].all.entries) {
            sites[n] = &s[i];
            seconds[n++] = s[i].all.seconds;
            total += s[i].all.seconds;
        }
    }

    allocated = (mobispot_shares(revenue, seconds, n, shares, scratch)
                 == MOBISPOT_OK) ? revenue : 0;

    len = mobispot_hours_format(total, hours);

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "network") != MOBISPOT_OK
        || yajl_gen_string(g, u->value.data, u->value.len)
           != yajl_gen_status_ok
        || mobispot_json_string(g, "month") != MOBISPOT_OK
        || yajl_gen_string(g, u->month_s.data, u->month_s.len)
           != yajl_gen_status_ok
        || mobispot_json_string(g, "closed") != MOBISPOT_OK
        || yajl_gen_bool(g, (int) u->closed) != yajl_gen_status_ok
        || mobispot_json_string(g, "computed_at") != MOBISPOT_OK
        || yajl_gen_integer(g, (long long) ngx_time()) != yajl_gen_status_ok
        || mobispot_json_string(g, "price_cents") != MOBISPOT_OK
        || yajl_gen_integer(g, u->price) != yajl_gen_status_ok
        || mobispot_json_string(g, "days_in_month") != MOBISPOT_OK
        || yajl_gen_integer(g, u->month.next - u->month.first)
           != yajl_gen_status_ok
        || mobispot_json_string(g, "passports") != MOBISPOT_OK
        || yajl_gen_integer(g, (long long) u->passports)
           != yajl_gen_status_ok
        || mobispot_json_string(g, "passport_days") != MOBISPOT_OK
        || yajl_gen_integer(g, u->passport_days) != yajl_gen_status_ok
        || mobispot_json_string(g, "skipped_index_entries") != MOBISPOT_OK
        || yajl_gen_integer(g, (long long) u->stale) != yajl_gen_status_ok
        || mobispot_json_string(g, "revenue_cents") != MOBISPOT_OK
        || yajl_gen_integer(g, revenue) != yajl_gen_status_ok
        || mobispot_json_string(g, "allocated_cents") != MOBISPOT_OK
        || yajl_gen_integer(g, allocated) != yajl_gen_status_ok
        || mobispot_json_string(g, "unallocated_cents") != MOBISPOT_OK
        || yajl_gen_integer(g, revenue - allocated) != yajl_gen_status_ok
        || mobispot_json_string(g, "seconds") != MOBISPOT_OK
        || yajl_gen_integer(g, total) != yajl_gen_status_ok
        || mobispot_json_string(g, "hours") != MOBISPOT_OK
        || yajl_gen_number(g, hours, len) != yajl_gen_status_ok
        || mobispot_json_string(g, "sites") != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (yajl_gen_map_open(g) != yajl_gen_status_ok
            || mobispot_json_string(g, "site") != MOBISPOT_OK
            || yajl_gen_string(g, sites[i]->site.data, sites[i]->site.len)
               != yajl_gen_status_ok
            || ngx_http_mobispot_usage_gen_sum(g, &sites[i]->all) != NGX_OK
            || mobispot_json_string(g, "share_cents") != MOBISPOT_OK
            || yajl_gen_integer(g, shares[i]) != yajl_gen_status_ok
            || yajl_gen_map_close(g) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }
    }

    if (yajl_gen_array_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_settlement_answer(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u)
{
    if (u->csv) {
        return ngx_http_mobispot_settlement_csv(r, u);
    }

    return ngx_http_mobispot_api_send_raw(r, NGX_HTTP_OK, u->answer.data,
                                          u->answer.len);
}


/*
 * The CSV of the figures (u->answer, NUL-terminated): a header row, then
 * one row a site, CRLF after each (RFC 4180).
 */

static ngx_int_t
ngx_http_mobispot_settlement_csv(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u)
{
    u_char               *p, *out;
    size_t                i, len, size;
    yajl_val              doc, sites, site, id, seconds, share;
    ngx_pool_cleanup_t   *cln;

    static const char  header[] = "site,seconds,hours,share_cents\r\n";

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    doc = yajl_tree_parse((char *) u->answer.data, NULL, 0);
    if (doc == NULL) {
        return ngx_http_mobispot_api_bad_reply(r, "a stored settlement");
    }

    cln->handler = ngx_http_mobispot_settlement_tree_free;
    cln->data = doc;

    sites = mobispot_json_member(doc, "sites");
    if (sites == NULL || !YAJL_IS_ARRAY(sites)) {
        return ngx_http_mobispot_api_bad_reply(r, "a stored settlement");
    }

    /* a row: an id quoted at worst, two integers, hours */

    size = sizeof(header) + sites->u.array.len
                            * (2 * MOBISPOT_ID_MAX + 2 + 3 * NGX_INT64_LEN
                               + MOBISPOT_HOURS_LEN + 8);

    out = ngx_pnalloc(r->pool, size);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(out, header, sizeof(header) - 1);

    for (i = 0; i < sites->u.array.len; i++) {
        site = sites->u.array.values[i];
        id = mobispot_json_member(site, "site");
        seconds = mobispot_json_member(site, "seconds");
        share = mobispot_json_member(site, "share_cents");

        if (id == NULL || !YAJL_IS_STRING(id)
            || (len = ngx_strlen(id->u.string)) > MOBISPOT_ID_MAX
            || seconds == NULL || !YAJL_IS_INTEGER(seconds)
            || share == NULL || !YAJL_IS_INTEGER(share))
        {
            return ngx_http_mobispot_api_bad_reply(r, "a stored settlement");
        }

        p += mobispot_csv_field(id->u.string, len, (char *) p);
        p = ngx_sprintf(p, ",%L,", (int64_t) YAJL_GET_INTEGER(seconds));
        p += mobispot_hours_format(YAJL_GET_INTEGER(seconds), (char *) p);
        p = ngx_sprintf(p, ",%L\r\n", (int64_t) YAJL_GET_INTEGER(share));
    }

    ngx_str_set(&u->ctx->content_type, "text/csv; charset=utf-8");

    return ngx_http_mobispot_api_send_raw(r, NGX_HTTP_OK, out, p - out);
}


static void
ngx_http_mobispot_settlement_tree_free(void *data)
{
    yajl_tree_free(data);
}
