
/*
 * Copyright (C) Mobispot
 *
 * The refusals of POST {prefix}bookings after its first round trip, the
 * 409 that lists the slots taken, and the 503 of a booking write that too
 * few replicas acknowledged (any booking script's).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


static ngx_int_t ngx_http_mobispot_booking_release(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t unlist);
static ngx_int_t ngx_http_mobispot_booking_refused(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_booking_conflicts(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk);


/*
 * A refusal after the first round trip: the request's id leaves the
 * caller's index and the deadlines' queue, and its claim on the key is
 * released (when it has one), then the refusal is sent.
 */

ngx_int_t
ngx_http_mobispot_booking_refuse(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t status, const char *code,
    const char *message, const char *member, const char *name)
{
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;

    bk->status = status;
    bk->code = code;
    bk->message = message;
    bk->member = member;
    bk->name = name;

    return ngx_http_mobispot_booking_release(r, ctx, 1);
}


/*
 * A script wrote (or found an earlier write), but WAIT counted fewer
 * replicas than mobispot_redis_wait asks: 503, and the write is not known
 * to survive a failover.  What was written stays, and so does the
 * booking's id in the caller's index, so that the same request sent again
 * finds it and waits again; a POST's claim on its key is released, so that
 * the retry is not 409 request_in_flight.
 */

ngx_int_t
ngx_http_mobispot_booking_unreplicated(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;

    bk->status = NGX_HTTP_SERVICE_UNAVAILABLE;
    bk->code = "replicas_timeout";
    bk->message = "too few replicas acknowledged the write in time: it may "
                  "have been made; send the same request again";
    bk->member = NULL;
    bk->name = NULL;
    bk->conflicts = NULL;

    if (!bk->release) {
        return ngx_http_mobispot_booking_refused(r, ctx, NULL, 0);
    }

    return ngx_http_mobispot_booking_release(r, ctx, 0);
}


/*
 * ZREM of the id from the caller's index and the deadlines' queue
 * (unlist), DEL of a claim held
 */

static ngx_int_t
ngx_http_mobispot_booking_release(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t unlist)
{
    ngx_uint_t                      n;
    const char                    **argv;
    size_t                         *argvlen;
    ngx_http_mobispot_booking_t    *bk;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    bk = ctx->data;

    cmds = ngx_palloc(r->pool, 3 * sizeof(ngx_http_mobispot_redis_cmd_t));
    argv = ngx_palloc(r->pool, 8 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 8 * sizeof(size_t));

    if (cmds == NULL || argv == NULL || argvlen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "ZREM";
    argvlen[0] = 4;
    argv[1] = (char *) bk->index.data;
    argvlen[1] = bk->index.len;
    argv[2] = (char *) bk->id.data;
    argvlen[2] = bk->id.len;
    argv[3] = "ZREM";
    argvlen[3] = 4;
    argv[4] = NGX_HTTP_MOBISPOT_KEY_DUE;
    argvlen[4] = sizeof(NGX_HTTP_MOBISPOT_KEY_DUE) - 1;
    argv[5] = argv[2];
    argvlen[5] = argvlen[2];
    argv[6] = "DEL";
    argvlen[6] = 3;
    argv[7] = (char *) bk->idem.data;
    argvlen[7] = bk->idem.len;

    cmds[0].argc = 3;
    cmds[0].argv = argv;
    cmds[0].argvlen = argvlen;
    cmds[1].argc = 3;
    cmds[1].argv = &argv[3];
    cmds[1].argvlen = &argvlen[3];
    cmds[2].argc = 2;
    cmds[2].argv = &argv[6];
    cmds[2].argvlen = &argvlen[6];

    n = (unlist ? 2 : 0) + (bk->release ? 1 : 0);

    bk->caller_keys.written = bk->caller;
    bk->caller_keys.nwritten = 3;

    return ngx_http_mobispot_api_call(r, ctx, unlist ? cmds : &cmds[2], n,
                                      &bk->caller_keys,
                                      ngx_http_mobispot_booking_refused);
}


static ngx_int_t
ngx_http_mobispot_booking_refused(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;

    if (bk->conflicts) {
        return ngx_http_mobispot_booking_conflicts(r, bk);
    }

    return ngx_http_mobispot_spots_error(r, bk->status, bk->code,
                                         bk->message, bk->member, bk->name);
}


/* 409: {"error":{"code":"no_capacity",...,"conflicts":[{"from","to"}]}} */

static ngx_int_t
ngx_http_mobispot_booking_conflicts(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk)
{
    char              buf[MOBISPOT_RFC3339_LEN + 1];
    size_t            len;
    yajl_gen          g;
    ngx_uint_t        i;
    mobispot_slot_t  *s;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: booking at \"%V\" refused: %ui slots taken",
                  &bk->spot, bk->nconflicts);

    g = ngx_http_mobispot_api_gen(r);

    if (g == NULL
        || yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "error") != MOBISPOT_OK
        || yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "code", bk->code) != MOBISPOT_OK
        || mobispot_json_key_string(g, "message", bk->message) != MOBISPOT_OK
        || mobispot_json_string(g, "conflicts") != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < bk->nconflicts; i++) {
        s = &bk->slots[bk->conflicts[i]];

        if (yajl_gen_map_open(g) != yajl_gen_status_ok) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = mobispot_format_rfc3339(s->start, 0, buf);

        if (mobispot_json_string(g, "from") != MOBISPOT_OK
            || yajl_gen_string(g, (u_char *) buf, len) != yajl_gen_status_ok)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = mobispot_format_rfc3339(s->end, 0, buf);

        if (mobispot_json_string(g, "to") != MOBISPOT_OK
            || yajl_gen_string(g, (u_char *) buf, len) != yajl_gen_status_ok
            || yajl_gen_map_close(g) != yajl_gen_status_ok)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (yajl_gen_array_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_CONFLICT, g);
}
