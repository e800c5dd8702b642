
/*
 * Copyright (C) Mobispot
 *
 * POST {prefix}bookings after its first round trip: a known key answered
 * (the first answer again, the booking itself when its answer is not kept
 * yet, 409 while in flight, 422 for another body), the window checked
 * against the site, the booking script run, the 201 sent and the answer
 * kept under the key after it.  A refusal first removes what the request
 * left (its claim on the key, its id in the caller's index), so that it
 * changes nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


static ngx_int_t ngx_http_mobispot_booking_window(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_site_t *site);
static ngx_int_t ngx_http_mobispot_booking_take(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_booking_taken(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_booking_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_booking_reread(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_booking_kept(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static void ngx_http_mobispot_booking_kept_late(redisAsyncContext *ac,
    void *reply, void *privdata);
static ngx_int_t ngx_http_mobispot_booking_sent(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static u_char *ngx_http_mobispot_booking_num(ngx_http_request_t *r,
    int64_t v, size_t *len);


ngx_int_t
ngx_http_mobispot_booking_claimed(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_int_t                     made;
    ngx_http_mobispot_reply_t    *idem, *user;
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;
    idem = &replies[NGX_HTTP_MOBISPOT_R_IDEM];
    user = &replies[NGX_HTTP_MOBISPOT_R_RECORD];

    ngx_http_mobispot_booking_passports_read(r, bk, replies);

    /* HGET of the record's user: the caller's when this booking exists */

    if (user->type != REDIS_REPLY_STRING && user->type != REDIS_REPLY_NIL) {
        return ngx_http_mobispot_spots_redis_error(r, "HGET booking");
    }

    made = (user->type == REDIS_REPLY_STRING
            && user->str.len == bk->user.len
            && ngx_memcmp(user->str.data, bk->user.data, bk->user.len) == 0);

    if (idem->type == REDIS_REPLY_STRING) {

        if (made
            && idem->str.len == 1 + bk->fingerprint.len
            && idem->str.data[0] == 'P'
            && ngx_memcmp(idem->str.data + 1, bk->fingerprint.data,
                          bk->fingerprint.len)
               == 0)
        {
            /*
             * booked by a try whose answer is not kept yet, or was lost
             * (the answer is written after the 201): the booking is the
             * answer
             */
            bk->replayed = 1;
            return ngx_http_mobispot_booking_read(r, ctx);
        }

        return ngx_http_mobispot_booking_known(r, ctx, idem);
    }

    if (idem->type != REDIS_REPLY_NIL) {
        return ngx_http_mobispot_spots_redis_error(r, "SET NX GET "
                                                   "(redis 7 needed)");
    }

    /* the key is ours until the lease ends */
    bk->release = 1;

    if (made) {
        /* made by an earlier try whose answer was lost */
        bk->replayed = 1;
        return ngx_http_mobispot_booking_read(r, ctx);
    }

    return ngx_http_mobispot_booking_site(r, ctx, replies);
}


/* "P<fingerprint>" while in flight, "D<fingerprint><status><body>" after */

ngx_int_t
ngx_http_mobispot_booking_known(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *idem)
{
    u_char                       *v;
    ngx_int_t                     status;
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;
    v = idem->str.data;

    if (idem->str.len < 1 + bk->fingerprint.len
        || (v[0] != 'P' && v[0] != 'D'))
    {
        return ngx_http_mobispot_spots_redis_error(r, "an idempotency key");
    }

    if (ngx_memcmp(v + 1, bk->fingerprint.data, bk->fingerprint.len) != 0) {
        /* the id in the index is this body's, which was never booked */
        return ngx_http_mobispot_booking_refuse(r, ctx,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "idempotency_key_reused",
                                                "this Idempotency-Key was "
                                                "used with another body",
                                                "header", "Idempotency-Key");
    }

    if (v[0] == 'P') {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_CONFLICT,
                                             "request_in_flight",
                                             "a request with this "
                                             "Idempotency-Key is still being "
                                             "answered: retry later",
                                             "header", "Idempotency-Key");
    }

    v += 1 + bk->fingerprint.len;

    if (idem->str.len < 1 + bk->fingerprint.len + 3
        || (status = ngx_atoi(v, 3)) == NGX_ERROR)
    {
        return ngx_http_mobispot_spots_redis_error(r, "an idempotency key");
    }

    if (status == NGX_HTTP_CREATED
        && ngx_http_mobispot_booking_location(r, ctx, &bk->id) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    bk->replayed = 1;

    return ngx_http_mobispot_api_send_raw(r, status, v + 3,
                                          idem->str.data + idem->str.len
                                          - (v + 3));
}


ngx_int_t
ngx_http_mobispot_booking_site(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies)
{
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    const char                   *rule, *message;
    ngx_http_mobispot_reply_t    *info;
    ngx_http_mobispot_avail_t     av;
    ngx_http_mobispot_site_t      site;
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;
    info = &replies[NGX_HTTP_MOBISPOT_R_INFO];

    if (info->type != REDIS_REPLY_ARRAY
        || info->elements != NGX_HTTP_MOBISPOT_FIELDS)
    {
        return ngx_http_mobispot_spots_redis_error(r, "HMGET info");
    }

    ngx_memzero(&site, sizeof(ngx_http_mobispot_site_t));
    ngx_memzero(&av, sizeof(ngx_http_mobispot_avail_t));
    site.id = bk->spot;
    av.kind = bk->kind;

    for (i = 0; i < NGX_HTTP_MOBISPOT_FIELDS; i++) {
        if (info->element[i].type == REDIS_REPLY_STRING) {
            site.f[i] = info->element[i].str;
        }
    }

    if (site.f[NGX_HTTP_MOBISPOT_F_TZ].data == NULL) {
        return ngx_http_mobispot_booking_refuse(r, ctx,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "unknown_spot",
                                                "no such site", "field",
                                                "spot");
    }

    if (ngx_http_mobispot_site_prepare(r, &av, &site) != NGX_OK) {
        return ngx_http_mobispot_spots_redis_error(r, "a site's info");
    }

    if (site.capacity <= 0) {
        return ngx_http_mobispot_booking_refuse(r, ctx,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "kind_not_offered",
                                                "the site has no resource of "
                                                "this kind", "field", "kind");
    }

    rc = ngx_http_mobispot_booking_entitle(r, bk, &site, replies, &rule,
                                           &message);
    if (rc == NGX_ERROR) {
        return ngx_http_mobispot_spots_redis_error(r, "HMGET account");
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mobispot_booking_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                                                "not_entitled", message,
                                                "rule", rule);
    }

    return ngx_http_mobispot_booking_window(r, ctx, &site);
}


/* the window: on the site's slots, open, not started before now's slot */

static ngx_int_t
ngx_http_mobispot_booking_window(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_site_t *site)
{
    size_t                        i, n;
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;

    n = mobispot_slots(site->info.tz, site->info.slot, bk->from, bk->to,
                       bk->slots, NGX_HTTP_MOBISPOT_BOOKING_SLOTS_MAX);

    if (n == 0 || bk->slots[0].start != bk->from
        || bk->slots[n - 1].end != bk->to)
    {
        return ngx_http_mobispot_booking_refuse(r, ctx,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "window_not_on_slots",
                                                "from and to must be slot "
                                                "boundaries of the site",
                                                "rule", "window_not_on_slots");
    }

    ngx_http_mobispot_site_open(site, bk->slots, n);

    for (i = 0; i < n; i++) {
        if (!bk->slots[i].open) {
            return ngx_http_mobispot_booking_refuse(r, ctx,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "outside_opening_hours",
                                                "the window is not within the "
                                                "site's opening hours",
                                                "rule",
                                                "outside_opening_hours");
        }
    }

    if (bk->slots[0].end <= bk->now) {
        return ngx_http_mobispot_booking_refuse(r, ctx,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "window_in_past",
                                                "the window starts before the "
                                                "current slot",
                                                "rule", "window_in_past");
    }

    bk->nslots = n;
    bk->slot = site->info.slot;
    bk->day0 = mobispot_floor_div(bk->slots[0].start, 86400);
    bk->ndays = (ngx_uint_t) (mobispot_floor_div(bk->slots[n - 1].start,
                                                 86400)
                              - bk->day0 + 1);

    return ngx_http_mobispot_booking_take(r, ctx);
}


static u_char *
ngx_http_mobispot_booking_num(ngx_http_request_t *r, int64_t v, size_t *len)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NULL;
    }

    *len = ngx_sprintf(p, "%L", v) - p;

    return p;
}


static ngx_int_t
ngx_http_mobispot_booking_take(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    int64_t                       day;
    ngx_int_t                     rc;
    ngx_uint_t                    i, k, argc, rooms;
    const char                  **argv;
    size_t                       *argvlen;
    ngx_http_mobispot_booking_t  *bk;

    static const char  *names[] = { "user", "spot", "kind", "from", "to",
                                    "status", "created_at", "day0", "ndays",
                                    "hold_until", "due_at", "slot",
                                    "network", "company" };

    bk = ctx->data;
    rooms = (bk->kind != MOBISPOT_KIND_DESK);

    bk->nkeys = 2 + bk->ndays * (rooms ? 2 : 1);
    bk->keys = ngx_palloc(r->pool, bk->nkeys * sizeof(ngx_str_t));

    argc = 7 + 2 * bk->nslots + 28;
    argv = ngx_palloc(r->pool, argc * sizeof(char *));
    argvlen = ngx_palloc(r->pool, argc * sizeof(size_t));

    if (bk->keys == NULL || argv == NULL || argvlen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    bk->keys[0] = bk->record;
    bk->keys[1] = bk->info;

    rc = ngx_http_mobispot_booking_day_keys(r, &bk->spot, bk->kind, bk->day0,
                                            bk->ndays, &bk->keys[2]);
    if (rc != NGX_OK) {
        return rc;
    }

    argv[0] = mobispot_kind_names[bk->kind];
    argvlen[0] = ngx_strlen(argv[0]);
    argv[1] = (char *) bk->resource.data;
    argvlen[1] = bk->resource.len;
    argv[2] = (char *) ngx_http_mobispot_booking_num(r, bk->ndays,
                                                     &argvlen[2]);
    argv[3] = (char *) ngx_http_mobispot_booking_num(r, bk->day0,
                                                     &argvlen[3]);
    /* the record lives as long as its days' counts */
    argv[4] = (char *) ngx_http_mobispot_booking_num(r,
                                                  (bk->day0 + bk->ndays + 90)
                                                  * 86400, &argvlen[4]);
    argv[5] = (char *) ngx_http_mobispot_booking_num(r, bk->nslots,
                                                     &argvlen[5]);

    /* entitled as a company: the rooms limited to companies are open */
    argv[6] = bk->company.len ? "1" : "0";
    argvlen[6] = 1;

    k = 7;

    for (i = 0; i < bk->nslots; i++) {
        day = mobispot_floor_div(bk->slots[i].start, 86400);
        argv[k] = (char *) ngx_http_mobispot_booking_num(r,
                                                         day - bk->day0 + 1,
                                                         &argvlen[k]);
        k++;
        argv[k] = (char *) ngx_http_mobispot_booking_num(r,
                                         (bk->slots[i].start - day * 86400)
                                         / 60, &argvlen[k]);
        k++;
    }

    for (i = 0; i < 14; i++) {
        argv[k + 2 * i] = names[i];
        argvlen[k + 2 * i] = ngx_strlen(names[i]);
    }

    argv[k + 1] = (char *) bk->user.data;
    argvlen[k + 1] = bk->user.len;
    argv[k + 3] = (char *) bk->spot.data;
    argvlen[k + 3] = bk->spot.len;
    argv[k + 5] = argv[0];
    argvlen[k + 5] = argvlen[0];
    argv[k + 7] = (char *) ngx_http_mobispot_booking_num(r, bk->from,
                                                         &argvlen[k + 7]);
    argv[k + 9] = (char *) ngx_http_mobispot_booking_num(r, bk->to,
                                                         &argvlen[k + 9]);
    argv[k + 11] = bk->hold ? "held" : "confirmed";
    argvlen[k + 11] = ngx_strlen(argv[k + 11]);
    argv[k + 13] = (char *) ngx_http_mobispot_booking_num(r, bk->now,
                                                          &argvlen[k + 13]);
    argv[k + 15] = argv[3];
    argvlen[k + 15] = argvlen[3];
    argv[k + 17] = argv[2];
    argvlen[k + 17] = argvlen[2];
    argv[k + 19] = bk->hold ? (char *) ngx_http_mobispot_booking_num(r,
                                                      bk->due, &argvlen[k + 19])
                            : "";
    argvlen[k + 19] = bk->hold ? argvlen[k + 19] : 0;
    argv[k + 21] = (char *) ngx_http_mobispot_booking_num(r, bk->due,
                                                          &argvlen[k + 21]);
    argv[k + 23] = (char *) ngx_http_mobispot_booking_num(r, bk->slot,
                                                          &argvlen[k + 23]);
    argv[k + 25] = bk->network.len ? (char *) bk->network.data : "";
    argvlen[k + 25] = bk->network.len;
    argv[k + 27] = bk->company.len ? (char *) bk->company.data : "";
    argvlen[k + 27] = bk->company.len;

    for (i = 0; i < argc; i++) {
        if (argv[i] == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_mobispot_booking_script(r, ctx, bk,
                                            NGX_HTTP_MOBISPOT_SCRIPT_BOOK,
                                            argv, argvlen, argc,
                                            ngx_http_mobispot_booking_taken);
}


static ngx_int_t
ngx_http_mobispot_booking_taken(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_str_t                       *f, *t, *what;
    ngx_uint_t                       i;
    ngx_http_mobispot_reply_t       *e;
    ngx_http_mobispot_booking_t     *bk;
    ngx_http_mobispot_booking_rec_t  rec;

    bk = ctx->data;

    if (replies[0].type == REDIS_REPLY_ERROR) {
        return ngx_http_mobispot_api_refused(r, "the booking script",
                                             &replies[0].str);
    }

    if (replies[0].type != REDIS_REPLY_ARRAY || replies[0].elements == 0
        || replies[0].element[0].type != REDIS_REPLY_STRING)
    {
        return ngx_http_mobispot_spots_redis_error(r, "the booking script");
    }

    e = replies[0].element;
    what = &e[0].str;

    if (what->len == 7 && ngx_strncmp(what->data, "created", 7) == 0
        && replies[0].elements == 2 && e[1].type == REDIS_REPLY_STRING)
    {
        ngx_memzero(&rec, sizeof(ngx_http_mobispot_booking_rec_t));
        rec.id = bk->id;
        f = rec.f;

        f[NGX_HTTP_MOBISPOT_B_USER] = bk->user;
        f[NGX_HTTP_MOBISPOT_B_SPOT] = bk->spot;
        f[NGX_HTTP_MOBISPOT_B_KIND].data =
                                    (u_char *) mobispot_kind_names[bk->kind];
        f[NGX_HTTP_MOBISPOT_B_KIND].len =
                                    ngx_strlen(mobispot_kind_names[bk->kind]);
        f[NGX_HTTP_MOBISPOT_B_RESOURCE] = e[1].str;
        f[NGX_HTTP_MOBISPOT_B_FROM].data =
                ngx_http_mobispot_booking_num(r, bk->from,
                                              &f[NGX_HTTP_MOBISPOT_B_FROM].len);
        f[NGX_HTTP_MOBISPOT_B_TO].data =
                ngx_http_mobispot_booking_num(r, bk->to,
                                              &f[NGX_HTTP_MOBISPOT_B_TO].len);
        f[NGX_HTTP_MOBISPOT_B_NETWORK] = bk->network;
        f[NGX_HTTP_MOBISPOT_B_COMPANY] = bk->company;
        t = &f[NGX_HTTP_MOBISPOT_B_CREATED];
        t->data = ngx_http_mobispot_booking_num(r, bk->now, &t->len);

        if (bk->hold) {
            ngx_str_set(&f[NGX_HTTP_MOBISPOT_B_STATUS], "held");
            t = &f[NGX_HTTP_MOBISPOT_B_HOLD];
            t->data = ngx_http_mobispot_booking_num(r, bk->due, &t->len);

        } else {
            ngx_str_set(&f[NGX_HTTP_MOBISPOT_B_STATUS], "confirmed");
        }

        if (f[NGX_HTTP_MOBISPOT_B_FROM].data == NULL
            || (bk->hold && f[NGX_HTTP_MOBISPOT_B_HOLD].data == NULL)
            || f[NGX_HTTP_MOBISPOT_B_TO].data == NULL
            || f[NGX_HTTP_MOBISPOT_B_CREATED].data == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mobispot_booking_made(r, ctx, &rec);
    }

    if (what->len == 7 && ngx_strncmp(what->data, "unknown", 7) == 0) {
        return ngx_http_mobispot_booking_refuse(r, ctx,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "unknown_resource",
                                                "the site has no such room "
                                                "of this kind", "field",
                                                "resource");
    }

    if (what->len == 12 && ngx_strncmp(what->data, "company_only", 12) == 0) {
        return ngx_http_mobispot_booking_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                                                "not_entitled",
                                                "these rooms are for company "
                                                "accounts", "rule",
                                                "company_only");
    }

    if (what->len == 8 && ngx_strncmp(what->data, "conflict", 8) == 0) {
        bk->nconflicts = replies[0].elements - 1;
        bk->conflicts = ngx_palloc(r->pool,
                                   bk->nconflicts * sizeof(ngx_uint_t));
        if (bk->conflicts == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (i = 0; i < bk->nconflicts; i++) {
            if (e[1 + i].type != REDIS_REPLY_INTEGER || e[1 + i].integer < 1
                || (size_t) e[1 + i].integer > bk->nslots)
            {
                return ngx_http_mobispot_spots_redis_error(r, "the booking "
                                                           "script");
            }

            bk->conflicts[i] = (ngx_uint_t) e[1 + i].integer - 1;
        }

        return ngx_http_mobispot_booking_refuse(r, ctx, NGX_HTTP_CONFLICT,
                                                "no_capacity",
                                                "these slots are taken",
                                                NULL, NULL);
    }

    if (what->len == 6 && ngx_strncmp(what->data, "exists", 6) == 0) {
        /*
         * made meanwhile by a try whose lease had ended: read it (its
         * write may have come after this connection's last one: the WAIT
         * that counts is the one after the answer is kept)
         */
        bk->waited = 0;

        return ngx_http_mobispot_booking_read(r, ctx);
    }

    return ngx_http_mobispot_spots_redis_error(r, "the booking script");
}


/* the caller's booking, made earlier: its record read, then answered */

static ngx_int_t
ngx_http_mobispot_booking_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_http_mobispot_booking_t    *bk;
    ngx_http_mobispot_redis_cmd_t  *cmd;

    bk = ctx->data;

    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));

    if (cmd == NULL
        || ngx_http_mobispot_booking_record_fields(r->pool, &bk->record, cmd)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_call(r, ctx, cmd, 1, NULL,
                                      ngx_http_mobispot_booking_reread);
}


static ngx_int_t
ngx_http_mobispot_booking_reread(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_booking_t     *bk;
    ngx_http_mobispot_booking_rec_t  rec;

    bk = ctx->data;

    if (ngx_http_mobispot_booking_record(&bk->id, &bk->user, &replies[0],
                                         &rec)
        != NGX_OK)
    {
        return ngx_http_mobispot_spots_redis_error(r, "HMGET booking");
    }

    return ngx_http_mobispot_booking_made(r, ctx, &rec);
}


/*
 * The caller's booking is in Redis (made now, or found: a record read is
 * the caller's, see ngx_http_mobispot_booking_record()): its answer kept
 * under the key, then sent.
 */

ngx_int_t
ngx_http_mobispot_booking_made(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_booking_rec_t *rec)
{
    u_char                         *p;
    ngx_int_t                       rc;
    const char                    **argv;
    size_t                         *argvlen;
    ngx_http_mobispot_booking_t    *bk;
    ngx_http_mobispot_redis_cmd_t  *cmd;

    bk = ctx->data;

    rc = ngx_http_mobispot_booking_send(r, NGX_HTTP_CREATED, rec,
                                        &bk->answer);
    if (rc != NGX_OK) {
        return rc;
    }

    cmd = ngx_palloc(r->pool, 2 * sizeof(ngx_http_mobispot_redis_cmd_t));
    argv = ngx_palloc(r->pool, 5 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 5 * sizeof(size_t));
    p = ngx_pnalloc(r->pool, 1 + bk->fingerprint.len + 3 + bk->answer.len);

    if (cmd == NULL || argv == NULL || argvlen == NULL || p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[1] = (char *) bk->idem.data;
    argvlen[1] = bk->idem.len;
    argv[2] = (char *) p;
    argvlen[2] = ngx_sprintf(p, "D%V201%V", &bk->fingerprint, &bk->answer)
                 - p;
    argv[3] = "EX";
    argvlen[3] = 2;
    argv[4] = NGX_HTTP_MOBISPOT_IDEM_TTL;
    argvlen[4] = sizeof(NGX_HTTP_MOBISPOT_IDEM_TTL) - 1;

    cmd->argc = 5;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    bk->caller_keys.written = &bk->idem;
    bk->caller_keys.nwritten = 1;

    /*
     * Found, not made by this script: WAIT after this write covers the
     * record's too (docs/bookings.md, "Durability").
     */

    if (ctx->mcf->wait_replicas && !bk->waited) {
        cmd[1] = ctx->mcf->wait;

        return ngx_http_mobispot_api_call(r, ctx, cmd, 2, &bk->caller_keys,
                                          ngx_http_mobispot_booking_kept);
    }

    /*
     * The booking is acknowledged (and replicated when asked): the answer
     * is written on the same connection, and the 201 sent without waiting
     * for it.  Lost, it is rebuilt from the record by a retry after the
     * lease (docs/bookings.md, "Idempotency").
     */

    if (ngx_http_mobispot_redis_send(ctx->mcf->client, cmd,
                                     ngx_http_mobispot_booking_kept_late,
                                     NULL)
        != NGX_OK)
    {
        ngx_http_mobispot_fault(NGX_LOG_WARN, r->connection->log,
                                "mobispot: the answer of booking \"%V\" "
                                "was not kept: redis not ready", &bk->id);
    }

    return ngx_http_mobispot_booking_sent(r, ctx);
}


static void
ngx_http_mobispot_booking_kept_late(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply  *rr = reply;

    if (rr == NULL || rr->type == REDIS_REPLY_ERROR) {
        ngx_http_mobispot_fault(NGX_LOG_WARN, ngx_cycle->log,
                                "mobispot: the answer of a booking was not "
                                "kept: %*s", rr == NULL ? (size_t) 15
                                : ngx_min(rr->len, 200),
                                rr == NULL ? "connection lost" : rr->str);
    }
}


static ngx_int_t
ngx_http_mobispot_booking_kept(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;

    if (n == 2 && !ngx_http_mobispot_booking_acked(r, ctx, &replies[1])) {
        /* the answer just kept goes: a retry must wait again */
        return ngx_http_mobispot_booking_unreplicated(r, ctx);
    }

    if (replies[0].type == REDIS_REPLY_ERROR) {
        /* booked all the same: a retry finds the record */
        ngx_http_mobispot_fault(NGX_LOG_ERR, r->connection->log,
                                "mobispot: the answer of booking \"%V\" was "
                                "not kept: %s", &bk->id,
                                ngx_http_mobispot_log_escape(r->pool,
                                    replies[0].str.data,
                                    ngx_min(replies[0].str.len, 200)));
    }

    return ngx_http_mobispot_booking_sent(r, ctx);
}


static ngx_int_t
ngx_http_mobispot_booking_sent(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;
    ctx->booking = bk->id;

    if (ngx_http_mobispot_booking_location(r, ctx, &bk->id) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send_raw(r, NGX_HTTP_CREATED,
                                          bk->answer.data, bk->answer.len);
}
