
/*
 * Copyright (C) Mobispot
 *
 * Book the nearest: POST {prefix}bookings with "near" instead of "spot".
 *
 *   1. the key claimed, the caller's account, the networks' passports,
 *      GEOSEARCH of the candidates (nearest first) and the caller's index
 *      entries that start at "from" (an earlier try's), pipelined;
 *   2. each candidate's info (its zone too), and the record this request
 *      would have made there (and at the sites an earlier try named in
 *      the index): an existing one is the answer;
 *   3. the candidates in distance order, each through the same steps as a
 *      booking of a named site (ngx_http_mobispot_booking_site()): one
 *      that is closed, not entitled or without the kind is skipped, the
 *      script runs on the first other, and on a conflict the next one is
 *      tried.  Each attempt adds its id to the caller's index in the same
 *      pipelined call, just before its script (and removes the id of the
 *      attempt before), so a retry after a lost answer finds the site
 *      booked even if the candidates changed meanwhile.
 *
 * 201 with the booking made, or 409 no_capacity naming the sites tried
 * and skipped.  docs/bookings.md, "Book the nearest", has the rules.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"






static ngx_int_t ngx_http_mobispot_near_claimed(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_near_known(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *idem);
static ngx_int_t ngx_http_mobispot_near_sites(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_reply_t *replies);
static ngx_int_t ngx_http_mobispot_near_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_near_found(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);


/*
 * "near": {"lat": ..., "lon": ..., "radius_km": ...} (radius_km 25 when
 * absent), with the limits of GET spots/nearby; exactly one of "spot" and
 * "near", and no "resource" with "near" (a room is named at a site).
 */

ngx_int_t
ngx_http_mobispot_booking_near_body(ngx_http_mobispot_check_t *ck,
    yajl_val body, ngx_http_mobispot_booking_t *bk)
{
    yajl_val                           v;
    ngx_uint_t                         i;
    ngx_http_mobispot_booking_near_t  *near;

    static const char  *known[] = { "lat", "lon", "radius_km", NULL };
    static const char  *names[] = { "lat", "lon", "radius_km" };
    static const char  *ranges[] = {
        "lat must be a number from -85.05112878 to 85.05112878",
        "lon must be a number from -180 to 180",
        "radius_km must be a number greater than 0 and at most 500" };
    static int        (*valid[])(double) = {
        mobispot_valid_lat, mobispot_valid_lon, mobispot_valid_radius };

    v = mobispot_json_member(body, "near");

    if (v == NULL) {
        return NGX_OK;
    }

    if (mobispot_json_member(body, "spot") != NULL) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "a booking names a spot or asks "
                                            "for the nearest, not both",
                                            "near");
    }

    if (mobispot_json_member(body, "resource") != NULL) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "a room is named at a spot: no "
                                            "resource with near",
                                            "resource");
    }

    if (!YAJL_IS_OBJECT(v)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "must be an object", "near");
    }

    if (ngx_http_mobispot_check_keys(ck, v, "near.", known) != NGX_OK) {
        return NGX_DECLINED;
    }

    near = ngx_pcalloc(ck->request->pool,
                       sizeof(ngx_http_mobispot_booking_near_t));
    if (near == NULL) {
        return NGX_ERROR;
    }

    near->radius = 25.0;

    for (i = 0; i < 3; i++) {
        if (i == 2 && mobispot_json_member(v, "radius_km") == NULL) {
            break;
        }

        if (ngx_http_mobispot_check_coordinate(ck, v, names[i], valid[i],
                                               ranges[i],
                                               i == 0 ? &near->lat
                                               : i == 1 ? &near->lon
                                               : &near->radius)
            != NGX_OK)
        {
            /* the field named as the body has it */
            if (ck->field != NULL) {
                (void) ngx_sprintf(ck->field, "near.%s%Z", names[i]);
            }

            return NGX_DECLINED;
        }
    }

    bk->near = near;

    return NGX_OK;
}


/* step 1 (the key's and index's names are made, bk->id is the hex) */

ngx_int_t
ngx_http_mobispot_booking_near(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    u_char                            *p;
    const char                       **argv;
    size_t                            *argvlen;
    ngx_http_mobispot_booking_t       *bk;
    ngx_http_mobispot_redis_cmd_t     *cmds;
    ngx_http_mobispot_booking_near_t  *near;

    bk = ctx->data;
    near = bk->near;
    near->hex = bk->id;

    cmds = ngx_pcalloc(r->pool, NGX_HTTP_MOBISPOT_N_N
                                * sizeof(ngx_http_mobispot_redis_cmd_t));
    argv = ngx_palloc(r->pool, 8 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 8 * sizeof(size_t));
    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);

    if (cmds == NULL || argv == NULL || argvlen == NULL || p == NULL
        || ngx_http_mobispot_booking_claim_cmd(r, bk,
                                        &cmds[NGX_HTTP_MOBISPOT_N_IDEM])
           != NGX_OK
        || ngx_http_mobispot_booking_account_cmd(r, bk,
                                        &cmds[NGX_HTTP_MOBISPOT_N_ACCOUNT])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mobispot_booking_passports_cmd(
                                        &cmds[NGX_HTTP_MOBISPOT_N_PASSPORTS]);

    /* the candidates, nearest first, as GET spots/nearby asks for them */

    if (ngx_http_mobispot_geosearch_cmd(r, near->lat, near->lon,
                                        near->radius,
                                        NGX_HTTP_MOBISPOT_NEAR_COUNT,
                                        &cmds[NGX_HTTP_MOBISPOT_N_GEO])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* ZRANGE index from from BYSCORE LIMIT 0 n: an earlier try's entry */

    argv[0] = "ZRANGE";
    argv[1] = (char *) bk->index.data;
    argv[2] = (char *) p;
    argvlen[2] = ngx_sprintf(p, "%L", bk->from) - p;
    argv[3] = argv[2];
    argvlen[3] = argvlen[2];
    argv[4] = "BYSCORE";
    argv[5] = "LIMIT";
    argv[6] = "0";
    argv[7] = NGX_HTTP_MOBISPOT_NEAR_INDEXED_S;

    argvlen[0] = 6;
    argvlen[1] = bk->index.len;
    argvlen[4] = 7;
    argvlen[5] = 5;
    argvlen[6] = 1;
    argvlen[7] = sizeof(NGX_HTTP_MOBISPOT_NEAR_INDEXED_S) - 1;

    cmds[NGX_HTTP_MOBISPOT_N_INDEX].argc = 8;
    cmds[NGX_HTTP_MOBISPOT_N_INDEX].argv = argv;
    cmds[NGX_HTTP_MOBISPOT_N_INDEX].argvlen = argvlen;

    /* written: the key; read: the account and the index */

    near->read[0] = bk->account;
    near->read[1] = bk->index;
    near->keys.read = near->read;
    near->keys.nread = 2;
    near->keys.written = &bk->idem;
    near->keys.nwritten = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmds, NGX_HTTP_MOBISPOT_N_N,
                                      &near->keys,
                                      ngx_http_mobispot_near_claimed);
}


static ngx_int_t
ngx_http_mobispot_near_claimed(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_int_t                          none;
    ngx_http_mobispot_booking_t       *bk;
    ngx_http_mobispot_booking_near_t  *near;

    bk = ctx->data;
    near = bk->near;
    near->first = replies;

    if (replies[NGX_HTTP_MOBISPOT_N_IDEM].type == REDIS_REPLY_STRING) {
        return ngx_http_mobispot_near_known(r, ctx,
                                            &replies[NGX_HTTP_MOBISPOT_N_IDEM]);
    }

    if (replies[NGX_HTTP_MOBISPOT_N_IDEM].type != REDIS_REPLY_NIL) {
        return ngx_http_mobispot_spots_redis_error(r, "SET NX GET "
                                                   "(redis 7 needed)");
    }

    /* the key is ours until the lease ends */
    bk->release = 1;

    none = ngx_http_mobispot_booking_no_account(
                                     &replies[NGX_HTTP_MOBISPOT_N_ACCOUNT]);
    if (none == NGX_ERROR) {
        return ngx_http_mobispot_spots_redis_error(r, "HMGET account");
    }

    if (none) {
        return ngx_http_mobispot_booking_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                                                "not_entitled",
                                                "the caller has no account",
                                                "rule", "account");
    }

    if (ngx_http_mobispot_near_sites(r, bk, replies) != NGX_OK) {
        return ngx_http_mobispot_spots_redis_error(r, "GEOSEARCH");
    }

    return ngx_http_mobispot_near_read(r, ctx);
}


/*
 * A key already answered: the first answer names the site that was
 * booked, in its body's "id" (the Location); then as for any booking.
 */

static ngx_int_t
ngx_http_mobispot_near_known(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *idem)
{
    u_char                       *v;
    size_t                        skip;
    yajl_val                      doc, id;
    ngx_str_t                     s, site;
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;
    v = idem->str.data;
    skip = 1 + bk->fingerprint.len + 3;

    if (idem->str.len <= skip || v[0] != 'D'
        || ngx_memcmp(v + 1, bk->fingerprint.data, bk->fingerprint.len) != 0)
    {
        /* in flight, another body: nothing is named */
        return ngx_http_mobispot_booking_known(r, ctx, idem);
    }

    /* the reply is NUL-terminated: its body too */

    doc = yajl_tree_parse((char *) v + skip, NULL, 0);
    id = doc ? mobispot_json_member(doc, "id") : NULL;

    if (id == NULL || !YAJL_IS_STRING(id)) {
        yajl_tree_free(doc);
        return ngx_http_mobispot_spots_redis_error(r, "an idempotency key");
    }

    s.data = (u_char *) id->u.string;
    s.len = ngx_strlen(id->u.string);

    bk->id.data = ngx_pstrdup(r->pool, &s);
    bk->id.len = s.len;

    yajl_tree_free(doc);

    if (bk->id.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_booking_id_site(&bk->id, &site) != NGX_OK) {
        return ngx_http_mobispot_spots_redis_error(r, "an idempotency key");
    }

    ctx->booking = bk->id;

    return ngx_http_mobispot_booking_known(r, ctx, idem);
}


/*
 * The candidates, nearest first, then the sites of the index's entries of
 * this request (same hex) that are not among them.
 */

static ngx_int_t
ngx_http_mobispot_near_sites(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_reply_t *replies)
{
    size_t                             i, j, max;
    ngx_str_t                          site, *s;
    ngx_http_mobispot_reply_t         *geo, *index, *e;
    ngx_http_mobispot_booking_near_t  *near;

    near = bk->near;
    geo = &replies[NGX_HTTP_MOBISPOT_N_GEO];
    index = &replies[NGX_HTTP_MOBISPOT_N_INDEX];

    if (geo->type != REDIS_REPLY_ARRAY || index->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    max = geo->elements + index->elements;

    near->sites = ngx_palloc(r->pool, (max + 1) * sizeof(ngx_str_t));
    near->rule = ngx_pcalloc(r->pool, (max + 1) * sizeof(char *));
    near->tried = ngx_pcalloc(r->pool, (max + 1) * sizeof(ngx_uint_t));

    near->indexed = ngx_pcalloc(r->pool, (max + 1) * sizeof(ngx_uint_t));
    near->stale = ngx_palloc(r->pool, (max + 1) * sizeof(ngx_str_t));

    if (near->sites == NULL || near->rule == NULL || near->tried == NULL
        || near->indexed == NULL || near->stale == NULL)
    {
        return NGX_ERROR;
    }

    /* [[member, distance], ...] */

    for (i = 0; i < geo->elements; i++) {
        e = &geo->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
            || e->element[0].type != REDIS_REPLY_STRING)
        {
            return NGX_ERROR;
        }

        s = &e->element[0].str;

        if (mobispot_id_valid((char *) s->data, s->len)) {
            near->sites[near->nsites++] = *s;
        }
    }

    near->ncand = near->nsites;

    for (i = 0; i < index->elements; i++) {
        s = &index->element[i].str;

        if (index->element[i].type != REDIS_REPLY_STRING
            || ngx_http_mobispot_booking_id_site(s, &site) != NGX_OK
            || ngx_memcmp(s->data + site.len + 1, near->hex.data,
                          near->hex.len)
               != 0)
        {
            continue;
        }

        for (j = 0; j < near->nsites; j++) {
            if (near->sites[j].len == site.len
                && ngx_memcmp(near->sites[j].data, site.data, site.len) == 0)
            {
                break;
            }
        }

        if (j == near->nsites) {
            near->sites[near->nsites++] = site;
        }

        near->indexed[j] = 1;
    }

    return NGX_OK;
}


/*
 * Step 2: each candidate's info (its zone too), and the record of this
 * request at every site (candidates and the index's), pipelined.
 */

static ngx_int_t
ngx_http_mobispot_near_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_uint_t                         i, k;
    ngx_str_t                         *read;
    ngx_http_mobispot_site_t           site;
    ngx_http_mobispot_booking_t       *bk;
    ngx_http_mobispot_redis_cmd_t     *cmds;
    ngx_http_mobispot_booking_near_t  *near;
    ngx_http_mobispot_api_keys_t      *keys;

    bk = ctx->data;
    near = bk->near;

    if (near->nsites == 0) {
        return ngx_http_mobispot_booking_near_try(r, ctx);
    }

    cmds = ngx_pcalloc(r->pool, (near->ncand + near->nsites)
                                * sizeof(ngx_http_mobispot_redis_cmd_t));
    read = ngx_palloc(r->pool, near->nsites * sizeof(ngx_str_t));
    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || read == NULL || keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&site, sizeof(ngx_http_mobispot_site_t));
    k = 0;

    for (i = 0; i < near->nsites; i++) {
        if (ngx_http_mobispot_booking_near_site(r, bk, i) != NGX_OK
            || ngx_http_mobispot_booking_record_fields(r->pool, &bk->record,
                                                       &cmds[k++])
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        read[i] = bk->record;

        if (i >= near->ncand) {
            continue;
        }

        site.id = near->sites[i];

        if (ngx_http_mobispot_site_info_cmd(r, &site, &cmds[k++]) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    keys->read = read;
    keys->nread = near->nsites;

    return ngx_http_mobispot_api_call(r, ctx, cmds, k, keys,
                                      ngx_http_mobispot_near_found);
}


/* a record of this request is the answer; else the candidates are tried */

static ngx_int_t
ngx_http_mobispot_near_found(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_int_t                          rc;
    ngx_uint_t                         i, k;
    ngx_http_mobispot_booking_t       *bk;
    ngx_http_mobispot_booking_rec_t    rec;
    ngx_http_mobispot_booking_near_t  *near;

    bk = ctx->data;
    near = bk->near;
    near->second = replies;

    for (i = 0, k = 0; i < near->nsites; i++) {
        if (ngx_http_mobispot_booking_near_site(r, bk, i) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = ngx_http_mobispot_booking_record(&bk->id, &bk->user,
                                              &replies[k], &rec);
        if (rc == NGX_OK) {
            /* made by an earlier try whose answer was lost */
            return ngx_http_mobispot_booking_made(r, ctx, &rec);
        }

        if (rc == NGX_ERROR) {
            return ngx_http_mobispot_spots_redis_error(r, "HMGET booking");
        }

        if (near->indexed[i]) {
            /* an earlier try's entry, never booked: it leaves the index */
            near->stale[near->nstale++] = bk->id;
        }

        k += (i < near->ncand) ? 2 : 1;
    }

    near->next = 0;

    return ngx_http_mobispot_booking_near_try(r, ctx);
}


