
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
 * caller's index and the deadlines' queue (book the nearest: the ids it
 * left there), and its claim on the key is released (when it has one),
 * then the refusal is sent.
 */

ngx_int_t
ngx_http_mobispot_booking_refuse(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t status, const char *code,
    const char *message, const char *member, const char *name)
{
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;

    if (bk->near != NULL && bk->near->trying) {
        /* book the nearest: the next candidate */
        return ngx_http_mobispot_booking_near_refused(r, ctx, status, code,
                                                      message, member, name);
    }

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
 * ZREM from the caller's index and the deadlines' queue (unlist) of the
 * request's id (book the nearest: the ids its attempts left there), DEL
 * of a claim held
 */

static ngx_int_t
ngx_http_mobispot_booking_release(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t unlist)
{
    ngx_str_t                      *ids;
    ngx_uint_t                      n, nids;
    const char                    **argv;
    size_t                         *argvlen;
    ngx_http_mobispot_booking_t    *bk;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    bk = ctx->data;

    bk->caller[0] = bk->idem;
    bk->caller[1] = bk->index;
    ngx_str_set(&bk->caller[2], NGX_HTTP_MOBISPOT_KEY_DUE);

    ids = &bk->id;
    nids = unlist ? 1 : 0;

    if (bk->near != NULL && unlist) {
        ids = bk->near->stale;
        nids = bk->near->nstale;
    }

    cmds = ngx_palloc(r->pool, 3 * sizeof(ngx_http_mobispot_redis_cmd_t));
    argv = ngx_palloc(r->pool, 2 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 2 * sizeof(size_t));

    if (cmds == NULL || argv == NULL || argvlen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    if (nids
        && (ngx_http_mobispot_booking_index_cmd(r, bk, NULL, "ZREM", ids,
                                                nids, &cmds[n++])
            != NGX_OK
            || ngx_http_mobispot_booking_index_cmd(r, bk, &bk->caller[2],
                                                   "ZREM", ids, nids,
                                                   &cmds[n++])
               != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (bk->release) {
        argv[0] = "DEL";
        argvlen[0] = 3;
        argv[1] = (char *) bk->idem.data;
        argvlen[1] = bk->idem.len;

        cmds[n].argc = 2;
        cmds[n].argv = argv;
        cmds[n].argvlen = argvlen;
        n++;
    }

    if (n == 0) {
        return ngx_http_mobispot_booking_refused(r, ctx, NULL, 0);
    }

    bk->caller_keys.written = bk->caller;
    bk->caller_keys.nwritten = 3;

    return ngx_http_mobispot_api_call(r, ctx, cmds, n, &bk->caller_keys,
                                      ngx_http_mobispot_booking_refused);
}


static ngx_int_t
ngx_http_mobispot_booking_refused(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;

    if (bk->near != NULL && bk->status == NGX_HTTP_CONFLICT) {
        /* book the nearest: the sites tried and skipped */
        return ngx_http_mobispot_booking_near_conflict(r, bk);
    }

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

    g = ngx_http_mobispot_booking_error_gen(r, bk);

    if (g == NULL
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


/* {"error":{"code":..,"message":.., the members that follow left open */

yajl_gen
ngx_http_mobispot_booking_error_gen(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk)
{
    yajl_gen  g;

    ngx_http_mobispot_api_set_error(r, bk->code);

    g = ngx_http_mobispot_api_gen(r);

    if (g == NULL
        || yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "error") != MOBISPOT_OK
        || yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "code", bk->code) != MOBISPOT_OK
        || mobispot_json_key_string(g, "message", bk->message) != MOBISPOT_OK)
    {
        return NULL;
    }

    return g;
}
