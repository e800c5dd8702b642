
/*
 * Copyright (C) Mobispot
 *
 * GET {prefix}bookings/{id} and GET {prefix}bookings (the caller's,
 * those not yet ended, soonest first).  A booking that is not the
 * caller's is a 404, as one that does not exist.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


#define NGX_HTTP_MOBISPOT_LIST_MAX      100
#define NGX_HTTP_MOBISPOT_LIST_DEFAULT  20
#define NGX_HTTP_MOBISPOT_OFFSET_MAX    10000


typedef struct {
    ngx_str_t                    user;
    ngx_str_t                    id;
    ngx_str_t                    site;        /* the id's */
    ngx_str_t                    record;
    ngx_str_t                   *ids;         /* the listing's */
    ngx_uint_t                   nids;
    unsigned long                offset;
    unsigned long                limit;
    ngx_http_mobispot_booking_rec_t  rec;
} ngx_http_mobispot_booking_read_t;


static ngx_int_t ngx_http_mobispot_booking_begin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_api_done_pt done);
static ngx_int_t ngx_http_mobispot_booking_got(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_booking_listed(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_booking_list_send(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_booking_not_found(ngx_http_request_t *r);


static ngx_int_t
ngx_http_mobispot_booking_not_found(ngx_http_request_t *r)
{
    return ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "no such booking of the caller",
                                         NULL, NULL);
}


/* the caller, the id, and the record's HMGET */

static ngx_int_t
ngx_http_mobispot_booking_begin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_api_done_pt done)
{
    ngx_int_t                          rc;
    ngx_http_mobispot_redis_cmd_t     *cmd;
    ngx_http_mobispot_booking_read_t  *rd;

    rd = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_booking_read_t));
    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));

    if (rd == NULL || cmd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = rd;

    if (ngx_http_mobispot_booking_caller(r, &rd->user, &rc) != NGX_OK) {
        return rc;
    }

    rd->id = ctx->params[0];

    if (ngx_http_mobispot_booking_id_site(&rd->id, &rd->site) != NGX_OK) {
        return ngx_http_mobispot_booking_not_found(r);
    }

    ctx->booking = rd->id;

    rc = ngx_http_mobispot_spots_key(r, &rd->record, "ms:{site:%V}:booking:%V",
                                     &rd->site, &rd->id);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mobispot_booking_record_fields(r->pool, &rd->record, cmd)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a caller's own data: never kept by the answer cache */
    return ngx_http_mobispot_api_call(r, ctx, cmd, 1, NULL, done);
}


ngx_int_t
ngx_http_mobispot_booking_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    return ngx_http_mobispot_booking_begin(r, ctx,
                                           ngx_http_mobispot_booking_got);
}


static ngx_int_t
ngx_http_mobispot_booking_got(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_int_t                          rc;
    ngx_http_mobispot_booking_read_t  *rd;

    rd = ctx->data;

    rc = ngx_http_mobispot_booking_record(&rd->id, &rd->user, &replies[0],
                                          &rd->rec);

    if (rc == NGX_DECLINED) {
        return ngx_http_mobispot_booking_not_found(r);
    }

    if (rc != NGX_OK) {
        return ngx_http_mobispot_spots_redis_error(r, "HMGET booking");
    }

    return ngx_http_mobispot_booking_send(r, NGX_HTTP_OK, &rd->rec, NULL);
}


/* GET bookings?limit=&offset= */

ngx_int_t
ngx_http_mobispot_booking_list(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    u_char                            *p;
    ngx_int_t                          rc;
    ngx_uint_t                         i;
    ngx_str_t                          index;
    const char                       **argv;
    size_t                            *argvlen;
    ngx_http_mobispot_redis_cmd_t     *cmd;
    ngx_http_mobispot_booking_read_t  *rd;
    ngx_http_mobispot_arg_t            args[2];

    static const char  *names[] = { "limit", "offset" };
    static const unsigned long  max[] = { NGX_HTTP_MOBISPOT_LIST_MAX,
                                          NGX_HTTP_MOBISPOT_OFFSET_MAX };

    rd = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_booking_read_t));
    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));
    argv = ngx_palloc(r->pool, 8 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 8 * sizeof(size_t));
    p = ngx_pnalloc(r->pool, 4 * NGX_INT64_LEN);

    if (rd == NULL || cmd == NULL || argv == NULL || argvlen == NULL
        || p == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = rd;

    if (ngx_http_mobispot_booking_caller(r, &rd->user, &rc) != NGX_OK) {
        return rc;
    }

    ngx_memzero(args, sizeof(args));
    args[0].name = names[0];
    args[1].name = names[1];

    rc = ngx_http_mobispot_spots_args(r, args, 2);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    rd->limit = NGX_HTTP_MOBISPOT_LIST_DEFAULT;
    rd->offset = 0;

    for (i = 0; i < 2; i++) {
        if (args[i].set
            && (mobispot_parse_uint((char *) args[i].value.data,
                                    args[i].value.len, max[i],
                                    i ? &rd->offset : &rd->limit)
                != MOBISPOT_OK
                || (i == 0 && rd->limit == 0)))
        {
            return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                                 "invalid_parameter",
                                                 i ? "offset must be 0 to "
                                                     "10000"
                                                   : "limit must be 1 to 100",
                                                 "parameter", names[i]);
        }
    }

    rc = ngx_http_mobispot_spots_key(r, &index, "ms:{user:%V}:bookings",
                                     &rd->user);
    if (rc != NGX_OK) {
        return rc;
    }

    /* by start: those that started up to a day ago may not have ended */

    argv[0] = "ZRANGE";
    argvlen[0] = 6;
    argv[1] = (char *) index.data;
    argvlen[1] = index.len;
    argv[2] = (char *) p;
    argvlen[2] = ngx_sprintf(p, "%T",
                             ngx_time() - NGX_HTTP_MOBISPOT_BOOKING_WINDOW_MAX)
                 - p;
    p += argvlen[2];
    argv[3] = "+inf";
    argvlen[3] = 4;
    argv[4] = "BYSCORE";
    argvlen[4] = 7;
    argv[5] = "LIMIT";
    argvlen[5] = 5;
    argv[6] = (char *) p;
    argvlen[6] = ngx_sprintf(p, "%ul", rd->offset) - p;
    p += argvlen[6];
    argv[7] = (char *) p;
    argvlen[7] = ngx_sprintf(p, "%ul", rd->limit) - p;

    cmd->argc = 8;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return ngx_http_mobispot_api_call(r, ctx, cmd, 1, NULL,
                                      ngx_http_mobispot_booking_listed);
}


static ngx_int_t
ngx_http_mobispot_booking_listed(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_str_t                          site, key;
    ngx_uint_t                         i, k;
    ngx_http_mobispot_reply_t         *e;
    ngx_http_mobispot_redis_cmd_t     *cmds;
    ngx_http_mobispot_booking_read_t  *rd;

    rd = ctx->data;

    if (replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_mobispot_spots_redis_error(r, "ZRANGE bookings");
    }

    e = replies[0].element;

    rd->ids = ngx_palloc(r->pool, (replies[0].elements + 1)
                                  * sizeof(ngx_str_t));
    cmds = ngx_palloc(r->pool, (replies[0].elements + 1)
                               * sizeof(ngx_http_mobispot_redis_cmd_t));

    if (rd->ids == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    k = 0;

    for (i = 0; i < replies[0].elements; i++) {
        if (e[i].type != REDIS_REPLY_STRING
            || ngx_http_mobispot_booking_id_site(&e[i].str, &site) != NGX_OK)
        {
            continue;
        }

        if (ngx_http_mobispot_spots_key(r, &key, "ms:{site:%V}:booking:%V",
                                        &site, &e[i].str)
            != NGX_OK
            || ngx_http_mobispot_booking_record_fields(r->pool, &key, &cmds[k])
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rd->ids[k++] = e[i].str;
    }

    rd->nids = k;

    if (k == 0) {
        return ngx_http_mobispot_booking_list_send(r, ctx, NULL, 0);
    }

    return ngx_http_mobispot_api_call(r, ctx, cmds, k, NULL,
                                      ngx_http_mobispot_booking_list_send);
}


/*
 * {"bookings":[...],"next_offset":N}: an index entry whose record is gone
 * (expired, or a booking that was never made) is not listed; next_offset
 * is there when the page was full.
 */

static ngx_int_t
ngx_http_mobispot_booking_list_send(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    time_t                             now;
    yajl_gen                           g;
    ngx_int_t                          rc, to;
    ngx_uint_t                         i;
    ngx_http_mobispot_booking_rec_t    rec;
    ngx_http_mobispot_booking_read_t  *rd;

    rd = ctx->data;
    now = ngx_time();

    g = ngx_http_mobispot_api_gen(r);

    if (g == NULL
        || yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "bookings") != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        rd->id = rd->ids[i];

        rc = ngx_http_mobispot_booking_record(&rd->id, &rd->user, &replies[i],
                                              &rec);

        if (rc == NGX_DECLINED) {
            continue;
        }

        to = ngx_atoi(rec.f[NGX_HTTP_MOBISPOT_B_TO].data,
                      rec.f[NGX_HTTP_MOBISPOT_B_TO].len);

        if (rc != NGX_OK || to == NGX_ERROR) {
            return ngx_http_mobispot_spots_redis_error(r, "HMGET booking");
        }

        if (to <= now) {
            continue;
        }

        if (ngx_http_mobispot_booking_gen(g, &rec) != NGX_OK) {
            return ngx_http_mobispot_spots_redis_error(r, "a booking record");
        }
    }

    if (yajl_gen_array_close(g) != yajl_gen_status_ok
        || (rd->nids == rd->limit
            && (mobispot_json_string(g, "next_offset") != MOBISPOT_OK
                || yajl_gen_integer(g, (long long) (rd->offset + rd->limit))
                   != yajl_gen_status_ok))
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g);
}
