
/*
 * Copyright (C) Mobispot
 *
 * A booking's life after it is made: DELETE bookings/{id} (cancel), POST
 * bookings/{id}/confirm (a hold made a booking), /checkin and /checkout.
 * Each is the record read, then the move script on the site's keys, which
 * checks the booking's state and time again and moves it on, atomically
 * (docs/bookings.md has the states and their times).  What a move needs,
 * its keys and arguments, is built here for the routes, the site's door
 * (ngx_http_mobispot_booking_door.c) and the deadlines' runner
 * (ngx_http_mobispot_booking_due.c) alike.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


typedef struct {
    ngx_str_t                        user;
    ngx_str_t                        id;
    ngx_str_t                        site;
    ngx_str_t                        record;
    ngx_uint_t                       move;
    ngx_http_mobispot_move_t         mv;
    ngx_http_mobispot_redis_cmd_t    cmd;    /* a check-in's SADD */
    ngx_http_mobispot_booking_t      bk;     /* the script's call */
    ngx_http_mobispot_booking_rec_t  rec;
} ngx_http_mobispot_booking_mv_t;


static ngx_int_t ngx_http_mobispot_booking_move_begin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t move);
static ngx_int_t ngx_http_mobispot_booking_move_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_booking_move_run(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_booking_moved(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_booking_move_refuse(ngx_http_request_t *r,
    ngx_uint_t move, ngx_str_t *what, ngx_str_t *state);
static u_char *ngx_http_mobispot_booking_key(ngx_pool_t *pool,
    ngx_str_t *key, size_t len, const char *fmt, ...);


static const char  *ngx_http_mobispot_move_names[] = {
    "cancel", "confirm", "checkin", "checkout", "due"
};


ngx_int_t
ngx_http_mobispot_booking_cancel(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    return ngx_http_mobispot_booking_move_begin(r, ctx,
                                                NGX_HTTP_MOBISPOT_MOVE_CANCEL);
}


ngx_int_t
ngx_http_mobispot_booking_confirm(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    return ngx_http_mobispot_booking_move_begin(r, ctx,
                                              NGX_HTTP_MOBISPOT_MOVE_CONFIRM);
}


ngx_int_t
ngx_http_mobispot_booking_checkin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    return ngx_http_mobispot_booking_move_begin(r, ctx,
                                              NGX_HTTP_MOBISPOT_MOVE_CHECKIN);
}


ngx_int_t
ngx_http_mobispot_booking_checkout(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    return ngx_http_mobispot_booking_move_begin(r, ctx,
                                             NGX_HTTP_MOBISPOT_MOVE_CHECKOUT);
}


/* the caller, the id, and the record's HMGET */

static ngx_int_t
ngx_http_mobispot_booking_move_begin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t move)
{
    ngx_int_t                        rc;
    ngx_http_mobispot_redis_cmd_t   *cmds;
    ngx_http_mobispot_booking_mv_t  *bm;

    bm = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_booking_mv_t));
    cmds = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));

    if (bm == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = bm;
    bm->move = move;

    if (ngx_http_mobispot_booking_caller(r, &bm->user, &rc) != NGX_OK) {
        return rc;
    }

    bm->id = ctx->params[0];

    if (ngx_http_mobispot_booking_id_site(&bm->id, &bm->site) != NGX_OK) {
        return ngx_http_mobispot_booking_move_refuse(r, move, NULL, NULL);
    }

    ctx->booking = bm->id;

    if (ngx_http_mobispot_booking_key(r->pool, &bm->record,
                                      bm->site.len + bm->id.len,
                                      "ms:{site:%V}:booking:%V", &bm->site,
                                      &bm->id)
        == NULL
        || ngx_http_mobispot_booking_record_fields(r->pool, &bm->record,
                                                   &cmds[0])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a caller's own data: never kept by the answer cache */
    return ngx_http_mobispot_api_call(r, ctx, cmds, 1, NULL,
                                      ngx_http_mobispot_booking_move_read);
}


static ngx_int_t
ngx_http_mobispot_booking_move_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_int_t                        rc;
    ngx_http_mobispot_booking_mv_t  *bm;

    bm = ctx->data;

    rc = ngx_http_mobispot_booking_record(&bm->id, &bm->user, &replies[0],
                                          &bm->rec);

    if (rc == NGX_DECLINED) {
        return ngx_http_mobispot_booking_move_refuse(r, bm->move, NULL, NULL);
    }

    if (rc != NGX_OK
        || ngx_http_mobispot_booking_move_prepare(r->pool, &bm->site,
                                                  &bm->rec, bm->move,
                                                  &bm->user, ngx_time(),
                                                  &bm->mv)
           != NGX_OK)
    {
        return ngx_http_mobispot_spots_redis_error(r, "a booking record");
    }

    /*
     * a check-in first adds the site to the month's usage index, before
     * the script can add a usage record: the index never misses a site
     * that has one
     */

    if (bm->move == NGX_HTTP_MOBISPOT_MOVE_CHECKIN) {

        if (ngx_http_mobispot_booking_usage_index(r->pool, &bm->site,
                                                  ngx_time(), &bm->cmd)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mobispot_api_call(r, ctx, &bm->cmd, 1, NULL,
                                          ngx_http_mobispot_booking_move_run);
    }

    return ngx_http_mobispot_booking_move_run(r, ctx, NULL, 0);
}


static ngx_int_t
ngx_http_mobispot_booking_move_run(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_booking_t     *bk;
    ngx_http_mobispot_booking_mv_t  *bm;

    bm = ctx->data;

    if (n == 1 && replies[0].type != REDIS_REPLY_INTEGER) {
        return ngx_http_mobispot_spots_redis_error(r, "SADD usage index");
    }

    bk = &bm->bk;
    bk->keys = bm->mv.keys;
    bk->nkeys = bm->mv.nkeys;
    bk->route = bm;

    /* the script's call keeps its state where the route's data is */
    ctx->data = bk;

    return ngx_http_mobispot_booking_script(r, ctx, bk,
                                            NGX_HTTP_MOBISPOT_SCRIPT_MOVE,
                                            bm->mv.argv, bm->mv.argvlen,
                                            NGX_HTTP_MOBISPOT_MOVE_ARGS,
                                            ngx_http_mobispot_booking_moved);
}


static ngx_int_t
ngx_http_mobispot_booking_moved(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_int_t                        rc;
    ngx_str_t                        what, state, *f;
    ngx_http_mobispot_booking_t     *bk;
    ngx_http_mobispot_booking_mv_t  *bm;

    bk = ctx->data;
    bm = bk->route;
    f = bm->rec.f;

    rc = ngx_http_mobispot_booking_move_reply(r->connection->log, &replies[0],
                                              &what, &state);
    if (rc != NGX_OK) {
        return ngx_http_mobispot_spots_redis_error(r, "the move script");
    }

    /* what the move made of the record, as the script wrote it */

    if (ngx_http_mobispot_booking_move_done(&what, bm->move, &bm->mv, f)
        != NGX_OK)
    {
        return ngx_http_mobispot_booking_move_refuse(r, bm->move, &what,
                                                     &state);
    }

    return ngx_http_mobispot_booking_send(r, NGX_HTTP_OK, &bm->rec, NULL);
}


/*
 * The script's answer: a word and, for some, a second one (the state a
 * refusal found, or the next deadline).
 */

ngx_int_t
ngx_http_mobispot_booking_move_reply(ngx_log_t *log,
    ngx_http_mobispot_reply_t *reply, ngx_str_t *what, ngx_str_t *second)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1
        || reply->elements > 2
        || reply->element[0].type != REDIS_REPLY_STRING
        || (reply->elements == 2
            && reply->element[1].type != REDIS_REPLY_STRING))
    {
        if (reply->type == REDIS_REPLY_ERROR) {
            ngx_http_mobispot_fault(NGX_LOG_ERR, log,
                                    "mobispot: the move script failed: %*s",
                                    ngx_min(reply->str.len, 200),
                                    reply->str.data);
        }

        return NGX_ERROR;
    }

    *what = reply->element[0].str;

    if (reply->elements == 2) {
        *second = reply->element[1].str;

    } else {
        ngx_str_null(second);
    }

    return NGX_OK;
}


#define ngx_http_mobispot_is(s, w)                                           \
    ((s)->len == sizeof(w) - 1 && ngx_strncmp((s)->data, w, (s)->len) == 0)


/*
 * A move done: the record's fields as the script left them (the answer
 * shows them), NGX_OK; a refusal: NGX_DECLINED.  "already" is a success
 * for a cancel and a confirm (sent again, they answer the booking), a
 * refusal for a check-in or a check-out (each is done once).
 */

ngx_int_t
ngx_http_mobispot_booking_move_done(ngx_str_t *what, ngx_uint_t move,
    ngx_http_mobispot_move_t *mv, ngx_str_t *f)
{
    ngx_str_t  *now;

    now = &mv->now;

    if (ngx_http_mobispot_is(what, "already")) {
        return (move == NGX_HTTP_MOBISPOT_MOVE_CANCEL
                || move == NGX_HTTP_MOBISPOT_MOVE_CONFIRM)
               ? NGX_OK : NGX_DECLINED;
    }

    if (ngx_http_mobispot_is(what, "cancelled")) {
        ngx_str_set(&f[NGX_HTTP_MOBISPOT_B_STATUS], "cancelled");

    } else if (ngx_http_mobispot_is(what, "confirmed")) {
        ngx_str_set(&f[NGX_HTTP_MOBISPOT_B_STATUS], "confirmed");

    } else if (ngx_http_mobispot_is(what, "checked_in")) {
        ngx_str_set(&f[NGX_HTTP_MOBISPOT_B_STATUS], "checked_in");
        f[NGX_HTTP_MOBISPOT_B_CHECKIN] = *now;

    } else if (ngx_http_mobispot_is(what, "done")) {
        ngx_str_set(&f[NGX_HTTP_MOBISPOT_B_STATUS], "done");
        f[NGX_HTTP_MOBISPOT_B_CHECKOUT] = *now;

    } else {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* each refusal of a move, a JSON error naming it */

static ngx_int_t
ngx_http_mobispot_booking_move_refuse(ngx_http_request_t *r,
    ngx_uint_t move, ngx_str_t *what, ngx_str_t *state)
{
    const char  *code, *msg;

    if (what == NULL || ngx_http_mobispot_is(what, "missing")) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND,
                                             "not_found",
                                             "no such booking of the caller",
                                             NULL, NULL);
    }

    if (ngx_http_mobispot_is(what, "started")) {
        code = "already_started";
        msg = "a booking can be cancelled only before it starts";

    } else if (ngx_http_mobispot_is(what, "already")) {
        code = (move == NGX_HTTP_MOBISPOT_MOVE_CHECKIN)
               ? "already_checked_in" : "already_checked_out";
        msg = (move == NGX_HTTP_MOBISPOT_MOVE_CHECKIN)
              ? "the booking is checked in already"
              : "the booking is checked out already";

    } else if (ngx_http_mobispot_is(what, "too_early")) {
        code = "checkin_too_early";
        msg = "check-in opens shortly before the booking starts";

    } else if (ngx_http_mobispot_is(what, "too_late")) {
        code = (move == NGX_HTTP_MOBISPOT_MOVE_CHECKIN)
               ? "checkin_too_late" : "checkout_too_late";
        msg = (move == NGX_HTTP_MOBISPOT_MOVE_CHECKIN)
              ? "the booking has ended"
              : "the booking was closed at its end";

    } else if (state != NULL && ngx_http_mobispot_is(state, "expired")) {
        code = "hold_expired";
        msg = "the hold ran out before it was confirmed";

    } else if (state != NULL && ngx_http_mobispot_is(state, "no_show")) {
        code = "no_show";
        msg = "the booking was released: nobody checked in";

    } else if (state != NULL && ngx_http_mobispot_is(state, "held")) {
        code = "not_confirmed";
        msg = "a hold must be confirmed first";

    } else if (state != NULL && ngx_http_mobispot_is(state, "confirmed")) {
        code = "not_checked_in";
        msg = "the booking is not checked in";

    } else {
        code = "wrong_state";
        msg = "the booking's state does not allow this";
    }

    return ngx_http_mobispot_spots_error(r, NGX_HTTP_CONFLICT, code, msg,
                                         "state",
                                         (state && state->len)
                                         ? (const char *) state->data
                                         : ngx_http_mobispot_move_names[move]);
}


/*
 * The keys and arguments of a move of the booking rec (at site), for the
 * caller (NULL: the deadlines' runner) at time now.
 */

ngx_int_t
ngx_http_mobispot_booking_move_prepare(ngx_pool_t *pool, ngx_str_t *site,
    ngx_http_mobispot_booking_rec_t *rec, ngx_uint_t move, ngx_str_t *caller,
    time_t now, ngx_http_mobispot_move_t *mv)
{
    int                                      kind;
    char                                     date[MOBISPOT_DATE_LEN];
    u_char                                  *p;
    ngx_int_t                                day0, ndays, cin;
    ngx_str_t                               *f;
    ngx_uint_t                               i, nd;
    ngx_http_mobispot_bookings_main_conf_t  *bmcf;

    bmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                           ngx_http_mobispot_bookings_module);
    f = rec->f;

    day0 = ngx_atoi(f[NGX_HTTP_MOBISPOT_B_DAY0].data,
                    f[NGX_HTTP_MOBISPOT_B_DAY0].len);
    ndays = ngx_atoi(f[NGX_HTTP_MOBISPOT_B_NDAYS].data,
                     f[NGX_HTTP_MOBISPOT_B_NDAYS].len);
    kind = mobispot_kind_parse((char *) f[NGX_HTTP_MOBISPOT_B_KIND].data,
                               f[NGX_HTTP_MOBISPOT_B_KIND].len);
    cin = ngx_atoi(f[NGX_HTTP_MOBISPOT_B_CHECKIN].data,
                   f[NGX_HTTP_MOBISPOT_B_CHECKIN].len);

    if (day0 == NGX_ERROR || ndays < 1 || ndays > 3 || kind < 0) {
        return NGX_ERROR;
    }

    nd = (ngx_uint_t) ndays;
    mv->nkeys = 2 + nd * (kind == MOBISPOT_KIND_DESK ? 1 : 2);
    mv->keys = ngx_palloc(pool, mv->nkeys * sizeof(ngx_str_t));
    p = ngx_pnalloc(pool, 4 * NGX_TIME_T_LEN);

    if (mv->keys == NULL || p == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mobispot_booking_key(pool, &mv->keys[0],
                                      site->len + rec->id.len,
                                      "ms:{site:%V}:booking:%V", site,
                                      &rec->id)
        == NULL)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < nd; i++) {
        (void) mobispot_format_date(day0 + (int64_t) i, date);

        if (ngx_http_mobispot_booking_key(pool, &mv->keys[1 + i],
                                          site->len + 64,
                                          "ms:{site:%V}:booked:%s:%*s",
                                          site, mobispot_kind_names[kind],
                                          (size_t) MOBISPOT_DATE_LEN, date)
            == NULL
            || (kind != MOBISPOT_KIND_DESK
                && ngx_http_mobispot_booking_key(pool, &mv->keys[1 + nd + i],
                                                 site->len + 64,
                                                 "ms:{site:%V}:rooms:%s:%*s",
                                                 site,
                                                 mobispot_kind_names[kind],
                                                 (size_t) MOBISPOT_DATE_LEN,
                                                 date)
                   == NULL))
        {
            return NGX_ERROR;
        }
    }

    /* the usage of the month of the check-in (of now, before one) */

    (void) mobispot_format_date(mobispot_floor_div(cin > 0 ? cin : now,
                                                   86400), date);

    if (ngx_http_mobispot_booking_key(pool, &mv->keys[mv->nkeys - 1],
                                      site->len + 32,
                                      "ms:{site:%V}:usage:%*s", site,
                                      (size_t) 7, date)
        == NULL)
    {
        return NGX_ERROR;
    }

    mv->argv[0] = ngx_http_mobispot_move_names[move];
    mv->argvlen[0] = ngx_strlen(mv->argv[0]);
    mv->argv[1] = caller ? (char *) caller->data : "";
    mv->argvlen[1] = caller ? caller->len : 0;

    mv->now.data = p;
    mv->now.len = ngx_sprintf(p, "%T", now) - p;
    mv->argv[2] = (char *) mv->now.data;
    mv->argvlen[2] = mv->now.len;
    p += mv->now.len;

    mv->argv[3] = (char *) rec->id.data;
    mv->argvlen[3] = rec->id.len;

    mv->argv[4] = (char *) p;
    mv->argvlen[4] = ngx_sprintf(p, "%T", bmcf->no_show) - p;
    p += mv->argvlen[4];
    mv->argv[5] = (char *) p;
    mv->argvlen[5] = ngx_sprintf(p, "%T", bmcf->grace) - p;

    return NGX_OK;
}


/* SADD ms:usage:sites:<YYYY-MM> <site>, the month of now */

ngx_int_t
ngx_http_mobispot_booking_usage_index(ngx_pool_t *pool, ngx_str_t *site,
    time_t now, ngx_http_mobispot_redis_cmd_t *cmd)
{
    char         date[MOBISPOT_DATE_LEN];
    ngx_str_t    key;
    const char **argv;
    size_t      *argvlen;

    argv = ngx_palloc(pool, 3 * sizeof(char *));
    argvlen = ngx_palloc(pool, 3 * sizeof(size_t));

    (void) mobispot_format_date(mobispot_floor_div(now, 86400), date);

    if (argv == NULL || argvlen == NULL
        || ngx_http_mobispot_booking_key(pool, &key, 32,
                                         "ms:usage:sites:%*s", (size_t) 7,
                                         date)
           == NULL)
    {
        return NGX_ERROR;
    }

    argv[0] = "SADD";
    argvlen[0] = 4;
    argv[1] = (char *) key.data;
    argvlen[1] = key.len;
    argv[2] = (char *) site->data;
    argvlen[2] = site->len;

    cmd->argc = 3;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}


/* a key of at most len bytes and the format's own, NUL-terminated */

static u_char *
ngx_http_mobispot_booking_key(ngx_pool_t *pool, ngx_str_t *key, size_t len,
    const char *fmt, ...)
{
    u_char   *p;
    size_t    n;
    va_list   args;

    n = len + ngx_strlen(fmt) + 1;

    key->data = ngx_pnalloc(pool, n);
    if (key->data == NULL) {
        return NULL;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(key->data, key->data + n - 1, fmt, args);
    va_end(args);

    *p = '\0';
    key->len = p - key->data;

    return key->data;
}
