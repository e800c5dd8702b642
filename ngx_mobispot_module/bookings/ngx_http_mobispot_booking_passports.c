
/*
 * Copyright (C) Mobispot
 *
 * The networks' passports a booking checks the caller's token against
 * (ms:{networks}:passport, network id -> passport id).  They change only
 * with a network's PUT, so POST bookings takes them from the answer
 * cache's part that nearby keeps (spots/ngx_http_mobispot_nearby_part.c),
 * true as long as Redis's client-side tracking says the key has not
 * changed; without the part, or without tracking, it asks Redis
 * (HGETALL) in its first round trip, and keeps what it read as the part.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


/*
 * From the part, or *cmd set to the HGETALL: bk->passports_at is then
 * the index its reply will have (at).
 */

ngx_int_t
ngx_http_mobispot_booking_passports(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_booking_t *bk,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_uint_t at)
{
    ngx_str_t                  *pp;
    ngx_uint_t                  i, n;
    ngx_http_mobispot_reply_t  *rep;
    ngx_http_mobispot_avail_t  *av;

    av = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_avail_t));
    if (av == NULL
        || ngx_array_init(&av->passports, r->pool, 8, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    bk->pav = av;

    if (ctx->mcf->cache != NULL) {
        /* the invalidations already here first */
        ngx_http_mobispot_redis_sync(ctx->mcf->client);

        if (ngx_http_mobispot_redis_tracking(ctx->mcf->client)) {
            av->part_epoch = ngx_http_mobispot_cache_epoch(ctx->mcf->cache);
        }
    }

    /* nearby's own choice: the part, or the HGETALL and keep it */

    n = at;

    if (ngx_http_mobispot_nearby_passports(r, ctx, av, cmd, &n) != NGX_OK) {
        return NGX_ERROR;
    }

    if (n != at) {
        bk->passports_at = at;
        return NGX_DECLINED;
    }

    /* the part, as the reply the entitlement reads */

    rep = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_reply_t));
    if (rep == NULL) {
        return NGX_ERROR;
    }

    rep->type = REDIS_REPLY_ARRAY;
    rep->elements = av->passports.nelts;
    rep->element = ngx_pcalloc(r->pool,
                               (rep->elements + 1)
                               * sizeof(ngx_http_mobispot_reply_t));
    if (rep->element == NULL) {
        return NGX_ERROR;
    }

    pp = av->passports.elts;

    for (i = 0; i < rep->elements; i++) {
        rep->element[i].type = REDIS_REPLY_STRING;
        rep->element[i].str = pp[i];
    }

    bk->passports = rep;
    bk->passports_at = 0;

    return NGX_OK;
}


/* the HGETALL's reply, when it was sent: the entitlement's, and the part */

void
ngx_http_mobispot_booking_passports_read(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_reply_t *replies)
{
    ngx_str_t                  *e;
    ngx_uint_t                  i;
    ngx_http_mobispot_reply_t  *rep;

    if (bk->passports_at == 0) {
        return;
    }

    rep = &replies[bk->passports_at];
    bk->passports = rep;

    if (!bk->pav->keep_passports || rep->type != REDIS_REPLY_ARRAY) {
        return;
    }

    for (i = 0; i < rep->elements; i++) {
        if (rep->element[i].type != REDIS_REPLY_STRING) {
            return;
        }
    }

    for (i = 0; i < rep->elements; i++) {
        e = ngx_array_push(&bk->pav->passports);
        if (e == NULL) {
            return;
        }

        *e = rep->element[i].str;
    }

    ngx_http_mobispot_passports_keep(r, bk->pav);
}
