
/*
 * Copyright (C) Mobispot
 *
 * Book the nearest, its attempts: the candidates in distance order, each
 * through the checks and the script of a booking of a named site
 * (ngx_http_mobispot_booking_site()); a refusal of one of them comes back
 * here (from ngx_http_mobispot_booking_refuse()) and the next one is
 * tried.  Each attempt's script goes with the ZADD of its id to the
 * caller's index, and the ZREM of the id of the attempt before, in one
 * pipelined call; when none is free, 409 naming the sites tried and
 * skipped.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


/* bk names candidate i: its site, id, record and info */

ngx_int_t
ngx_http_mobispot_booking_near_site(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_uint_t i)
{
    ngx_http_mobispot_booking_near_t  *near;

    near = bk->near;
    bk->spot = near->sites[i];

    if (ngx_http_mobispot_spots_key(r, &bk->id, "%V.%V", &bk->spot,
                                    &near->hex)
        != NGX_OK
        || ngx_http_mobispot_spots_key(r, &bk->record,
                                       "ms:{site:%V}:booking:%V", &bk->spot,
                                       &bk->id)
           != NGX_OK
        || ngx_http_mobispot_spots_key(r, &bk->info, "ms:{site:%V}:info",
                                       &bk->spot)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The next candidate, through the checks and the script of a booking of
 * a named site; with the script go the index's ZREM of the id of the
 * attempt before (if any) and the ZADD of this one.
 */

ngx_int_t
ngx_http_mobispot_booking_near_try(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_uint_t                         i, k, n;
    ngx_http_mobispot_booking_t       *bk;
    ngx_http_mobispot_reply_t         *second;
    ngx_http_mobispot_booking_near_t  *near;

    bk = ctx->data;
    near = bk->near;

    if (near->next >= near->ncand) {
        near->trying = 0;
        return ngx_http_mobispot_booking_refuse(r, ctx, NGX_HTTP_CONFLICT,
                                                "no_capacity",
                                                "no site near is free for "
                                                "the whole window", NULL,
                                                NULL);
    }

    i = near->next;

    /* the replies of step 2 before this candidate's: 2 per candidate */
    k = 2 * i;
    second = near->second;

    near->rep[NGX_HTTP_MOBISPOT_R_INFO] = second[k + 1];
    near->rep[NGX_HTTP_MOBISPOT_R_ACCOUNT] =
                                near->first[NGX_HTTP_MOBISPOT_N_ACCOUNT];
    bk->passports = &near->first[NGX_HTTP_MOBISPOT_N_PASSPORTS];

    bk->pre = ngx_palloc(r->pool, 6 * sizeof(ngx_http_mobispot_redis_cmd_t));

    if (bk->pre == NULL
        || ngx_http_mobispot_booking_near_site(r, bk, i) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    bk->caller[0] = bk->idem;
    bk->caller[1] = bk->index;
    ngx_str_set(&bk->caller[2], NGX_HTTP_MOBISPOT_KEY_DUE);

    bk->npre = 0;

    /* the ids of the attempt before leave the index and the deadlines */

    if (near->nstale
        && (ngx_http_mobispot_booking_index_cmd(r, bk, NULL, "ZREM",
                                                near->stale, near->nstale,
                                                &bk->pre[bk->npre++])
            != NGX_OK
            || ngx_http_mobispot_booking_index_cmd(r, bk, &bk->caller[2],
                                                   "ZREM", near->stale,
                                                   near->nstale,
                                                   &bk->pre[bk->npre++])
               != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* this one's id in the index, its first deadline in the queue */

    if (ngx_http_mobispot_booking_index_cmd(r, bk, NULL, "ZADD", &bk->id, 1,
                                            &bk->pre[bk->npre++])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = ngx_http_mobispot_booking_due_cmds(r, bk, &bk->pre[bk->npre],
                                           &bk->pre[bk->npre + 1]);
    if (n == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    bk->npre += n;

    bk->conflicts = NULL;
    bk->nconflicts = 0;
    near->trying = 1;

    return ngx_http_mobispot_booking_site(r, ctx, near->rep);
}


/*
 * A refusal while a candidate is tried (ngx_http_mobispot_booking_refuse()
 * comes here): the candidate is skipped, or was tried (its script ran:
 * its id is in the index until the next attempt removes it), and the next
 * one is tried.
 */

ngx_int_t
ngx_http_mobispot_booking_near_refused(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t status, const char *code,
    const char *message, const char *member, const char *name)
{
    ngx_http_mobispot_booking_t       *bk;
    ngx_http_mobispot_booking_near_t  *near;

    bk = ctx->data;
    near = bk->near;

    if (bk->npre == 0) {
        /* the script was sent, with the ZREM of the stale ids and the
         * ZADD of its own */
        near->stale[0] = bk->id;
        near->nstale = 1;
    }

    if (ngx_strcmp(code, "no_capacity") == 0) {
        near->tried[near->next] = 1;

    } else {
        near->rule[near->next] = (member && ngx_strcmp(member, "rule") == 0)
                                 ? name : code;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mobispot: near: \"%V\" refused: %s %s", &bk->spot, code,
                   name ? name : "");

    bk->npre = 0;
    near->next++;

    return ngx_http_mobispot_booking_near_try(r, ctx);
}


/*
 * 409: {"error":{"code":"no_capacity","message":..,"tried":[site,...],
 *  "skipped":[{"spot":site,"rule":why},...]}}
 */

ngx_int_t
ngx_http_mobispot_booking_near_conflict(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk)
{
    yajl_gen                           g;
    ngx_uint_t                         i, pass;
    ngx_http_mobispot_booking_near_t  *near;

    near = bk->near;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: booking near refused: %ui candidates, none free",
                  near->ncand);

    g = ngx_http_mobispot_booking_error_gen(r, bk);
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* pass 0: the sites tried, pass 1: those skipped and why */

    for (pass = 0; pass < 2; pass++) {
        if (mobispot_json_string(g, pass ? "skipped" : "tried")
            != MOBISPOT_OK
            || yajl_gen_array_open(g) != yajl_gen_status_ok)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (i = 0; i < near->ncand; i++) {
            if (pass == 0 && near->tried[i]
                && yajl_gen_string(g, near->sites[i].data,
                                   near->sites[i].len)
                   != yajl_gen_status_ok)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (pass == 1 && near->rule[i]
                && (yajl_gen_map_open(g) != yajl_gen_status_ok
                    || ngx_http_mobispot_gen_str(g, "spot", &near->sites[i])
                       != NGX_OK
                    || mobispot_json_key_string(g, "rule", near->rule[i])
                       != MOBISPOT_OK
                    || yajl_gen_map_close(g) != yajl_gen_status_ok))
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        if (yajl_gen_array_close(g) != yajl_gen_status_ok) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (yajl_gen_map_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_CONFLICT, g);
}
