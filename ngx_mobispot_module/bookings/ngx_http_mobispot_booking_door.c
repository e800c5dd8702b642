
/*
 * Copyright (C) Mobispot
 *
 * Check-in at the site's door: with "mobispot_checkin on;" in a location
 * of the site's gateway (mobispot_sso on, mobispot_site ID), the first
 * request there of a signed-in subscriber who holds a booking at this
 * site, now, checks the booking in.  In the precontent phase, so after
 * the token's check:
 *
 *   1. ZRANGE of the caller's bookings that may be running now;
 *   2. HMGET of those at this site: the first one confirmed whose
 *      check-in is open now is taken;
 *   3. SADD of the month's usage index, then the move script's "checkin".
 *
 * The page is served whatever happens: a check-in that fails (Redis down)
 * is logged and left to the app.  The worker remembers a caller it has
 * looked at for a minute (one checked in: until the booking's end), so
 * that the door's other requests cost nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


#define NGX_HTTP_MOBISPOT_DOOR_IDS      20
#define NGX_HTTP_MOBISPOT_DOOR_MEMO     512
#define NGX_HTTP_MOBISPOT_DOOR_KEY      (MOBISPOT_USER_ID_MAX + 1           \
                                         + MOBISPOT_ID_MAX)
#define NGX_HTTP_MOBISPOT_DOOR_FORGET   60


typedef struct {
    time_t                           until;
    size_t                           len;
    u_char                           key[NGX_HTTP_MOBISPOT_DOOR_KEY];
} ngx_http_mobispot_door_memo_t;


typedef struct {
    ngx_str_t                        user;
    ngx_str_t                        site;
    ngx_uint_t                       step;
    ngx_uint_t                       done;
    ngx_uint_t                       reloaded;
    ngx_uint_t                       found;     /* a booking to check in */
    time_t                           until;     /* remembered until */
    time_t                           now;
    ngx_str_t                        ids[NGX_HTTP_MOBISPOT_DOOR_IDS];
    ngx_uint_t                       nids;
    ngx_str_t                        what;
    ngx_http_mobispot_booking_rec_t  rec;
    ngx_http_mobispot_move_t         mv;
} ngx_http_mobispot_door_ctx_t;


static ngx_int_t ngx_http_mobispot_door_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mobispot_door_var(ngx_http_request_t *r,
    ngx_uint_t index, ngx_str_t *value);
static ngx_int_t ngx_http_mobispot_door_send(ngx_http_request_t *r,
    ngx_http_mobispot_door_ctx_t *ctx);
static void ngx_http_mobispot_door_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_door_record(ngx_http_request_t *r,
    ngx_http_mobispot_door_ctx_t *ctx, redisReply *reply);
static void ngx_http_mobispot_door_done(ngx_http_request_t *r, void *data,
    ngx_int_t status);
static ngx_http_mobispot_door_memo_t *ngx_http_mobispot_door_memo(
    ngx_str_t *user, ngx_str_t *site, ngx_uint_t create);


static ngx_int_t                       ngx_http_mobispot_door_sub = -1;
static ngx_int_t                       ngx_http_mobispot_door_site = -1;
static ngx_http_mobispot_door_memo_t  *ngx_http_mobispot_door_memos;


ngx_int_t
ngx_http_mobispot_booking_door_init(ngx_conf_t *cf)
{
    ngx_str_t  name;

    if (ngx_http_mobispot_phase_handler(cf, NGX_HTTP_PRECONTENT_PHASE,
                                        ngx_http_mobispot_door_handler)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&name, "mobispot_sub");
    ngx_http_mobispot_door_sub = ngx_http_get_variable_index(cf, &name);

    ngx_str_set(&name, "mobispot_sso_site");
    ngx_http_mobispot_door_site = ngx_http_get_variable_index(cf, &name);

    if (ngx_http_mobispot_door_sub == NGX_ERROR
        || ngx_http_mobispot_door_site == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the worker's memory of the door goes with it */

void
ngx_http_mobispot_booking_door_exit(void)
{
    if (ngx_http_mobispot_door_memos != NULL) {
        ngx_free(ngx_http_mobispot_door_memos);
        ngx_http_mobispot_door_memos = NULL;
    }
}


static ngx_int_t
ngx_http_mobispot_door_handler(ngx_http_request_t *r)
{
    ngx_str_t                               user, site;
    ngx_http_mobispot_door_ctx_t           *ctx;
    ngx_http_mobispot_door_memo_t          *m;
    ngx_http_mobispot_bookings_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_bookings_module);

    if (!blcf->checkin || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_bookings_module);

    if (ctx != NULL) {
        return ctx->done ? NGX_DECLINED : NGX_AGAIN;
    }

    if (ngx_http_mobispot_door_var(r, ngx_http_mobispot_door_sub, &user)
        != NGX_OK
        || !mobispot_user_id_valid((char *) user.data, user.len)
        || ngx_http_mobispot_door_var(r, ngx_http_mobispot_door_site, &site)
           != NGX_OK
        || !mobispot_id_valid((char *) site.data, site.len))
    {
        /* nobody signed in, or no site: nothing to check in */
        return NGX_DECLINED;
    }

    m = ngx_http_mobispot_door_memo(&user, &site, 0);

    if (m != NULL && m->until > ngx_time()) {
        return NGX_DECLINED;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_door_ctx_t));
    if (ctx == NULL) {
        return NGX_DECLINED;
    }

    ctx->user = user;
    ctx->site = site;
    ctx->now = ngx_time();
    ctx->until = ctx->now + NGX_HTTP_MOBISPOT_DOOR_FORGET;
    ctx->step = 1;

    ngx_http_set_ctx(r, ctx, ngx_http_mobispot_bookings_module);

    if (ngx_http_mobispot_door_send(r, ctx) != NGX_OK) {
        ctx->done = 1;
        return NGX_DECLINED;
    }

    r->main->count++;

    /* notice a client that goes away while Redis is answering */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_mobispot_door_var(ngx_http_request_t *r, ngx_uint_t index,
    ngx_str_t *value)
{
    ngx_http_variable_value_t  *vv;

    vv = ngx_http_get_indexed_variable(r, index);

    if (vv == NULL || vv->not_found || vv->len == 0) {
        return NGX_DECLINED;
    }

    value->data = vv->data;
    value->len = vv->len;

    return NGX_OK;
}


/* the commands of the current step */

static ngx_int_t
ngx_http_mobispot_door_send(ngx_http_request_t *r,
    ngx_http_mobispot_door_ctx_t *ctx)
{
    u_char                                  *p;
    ngx_str_t                                key;
    ngx_uint_t                               i, n;
    const char                             **argv;
    size_t                                  *argvlen;
    ngx_http_mobispot_redis_cmd_t            cmds[NGX_HTTP_MOBISPOT_DOOR_IDS];
    ngx_http_mobispot_main_conf_t           *mmcf;
    ngx_http_mobispot_bookings_main_conf_t  *bmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);
    bmcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_bookings_module);

    if (mmcf->client == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    if (ctx->step == 1) {

        /* those that started up to a day ago, or open their check-in */

        argv = ngx_palloc(r->pool, 8 * sizeof(char *));
        argvlen = ngx_palloc(r->pool, 8 * sizeof(size_t));
        p = ngx_pnalloc(r->pool, sizeof("ms:{user:}:bookings") - 1
                                 + ctx->user.len + 2 * NGX_TIME_T_LEN);
        if (argv == NULL || argvlen == NULL || p == NULL) {
            return NGX_ERROR;
        }

        argv[0] = "ZRANGE";
        argvlen[0] = 6;
        argv[1] = (char *) p;
        argvlen[1] = ngx_sprintf(p, "ms:{user:%V}:bookings", &ctx->user) - p;
        p += argvlen[1];
        argv[2] = (char *) p;
        argvlen[2] = ngx_sprintf(p, "%T",
                                 (time_t) (ctx->now
                                       - NGX_HTTP_MOBISPOT_BOOKING_WINDOW_MAX))
                     - p;
        p += argvlen[2];
        argv[3] = (char *) p;
        argvlen[3] = ngx_sprintf(p, "%T", ctx->now + bmcf->grace) - p;
        argv[4] = "BYSCORE";
        argvlen[4] = 7;
        argv[5] = "LIMIT";
        argvlen[5] = 5;
        argv[6] = "0";
        argvlen[6] = 1;
        argv[7] = "20";
        argvlen[7] = 2;

        cmds[0].argc = 8;
        cmds[0].argv = argv;
        cmds[0].argvlen = argvlen;
        n = 1;

    } else if (ctx->step == 2) {

        for (i = 0; i < ctx->nids; i++) {
            key.len = sizeof("ms:{site:}:booking:") - 1 + ctx->site.len
                      + ctx->ids[i].len;
            key.data = ngx_pnalloc(r->pool, key.len);

            if (key.data == NULL
                || ngx_http_mobispot_booking_record_fields(r->pool, &key,
                                                           &cmds[i])
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            ngx_sprintf(key.data, "ms:{site:%V}:booking:%V", &ctx->site,
                        &ctx->ids[i]);
        }

        n = ctx->nids;

    } else {

        /* SADD usage index, then EVALSHA move (EVAL after NOSCRIPT) */

        if (ngx_http_mobispot_booking_usage_index(r->pool, &ctx->site,
                                                  ctx->now, &cmds[0])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_mobispot_booking_eval(r->pool,
                                           NGX_HTTP_MOBISPOT_SCRIPT_MOVE,
                                           ctx->mv.keys, ctx->mv.nkeys,
                                           ctx->mv.argv, ctx->mv.argvlen,
                                           NGX_HTTP_MOBISPOT_MOVE_ARGS,
                                           &cmds[1])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_mobispot_booking_eval_head(NGX_HTTP_MOBISPOT_SCRIPT_MOVE,
                                            ctx->reloaded, &cmds[1]);
        n = 2;
    }

    return ngx_http_mobispot_redis_call(r, mmcf->client, cmds, n,
                                        ngx_http_mobispot_door_reply,
                                        ngx_http_mobispot_door_done, ctx);
}


static void
ngx_http_mobispot_door_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_door_ctx_t *ctx = data;

    size_t       i, n;
    ngx_str_t    id, site;
    redisReply  *e;

    if (ctx->step == 1) {
        if (reply->type != REDIS_REPLY_ARRAY) {
            return;
        }

        for (i = 0; i < reply->elements; i++) {
            e = reply->element[i];

            if (ctx->nids == NGX_HTTP_MOBISPOT_DOOR_IDS
                || e->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            id.data = (u_char *) e->str;
            id.len = e->len;

            if (ngx_http_mobispot_booking_id_site(&id, &site) != NGX_OK
                || site.len != ctx->site.len
                || ngx_strncmp(site.data, ctx->site.data, site.len) != 0
                || ngx_http_mobispot_booking_copy(r->pool, &ctx->ids[ctx->nids],
                                              e)
                   != NGX_OK)
            {
                continue;
            }

            ctx->nids++;
        }

        return;
    }

    if (ctx->step == 2) {
        if (!ctx->found) {
            ngx_http_mobispot_door_record(r, ctx, reply);

            if (ctx->found) {
                ctx->rec.id = ctx->ids[index];
            }
        }

        return;
    }

    /* step 3: the script's answer (the SADD's is not needed) */

    if (index != 1) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR && reply->len >= 8
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        ngx_str_set(&ctx->what, "NOSCRIPT");
        return;
    }

    n = (reply->type == REDIS_REPLY_ARRAY) ? reply->elements : 0;

    if (n >= 1 && reply->element[0]->type == REDIS_REPLY_STRING) {
        (void) ngx_http_mobispot_booking_copy(r->pool, &ctx->what,
                                          reply->element[0]);

    } else if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_mobispot_fault(NGX_LOG_ERR, r->connection->log,
                                "mobispot: the check-in at the door failed: "
                                "%*s", ngx_min(reply->len, 200), reply->str);
    }
}


/*
 * A record of step 2: the caller's, confirmed, and its check-in open now
 * (the script checks all of it again); one checked in already is
 * remembered until its end.
 */

static void
ngx_http_mobispot_door_record(ngx_http_request_t *r,
    ngx_http_mobispot_door_ctx_t *ctx, redisReply *reply)
{
    time_t                                   from, to;
    ngx_str_t                               *f;
    ngx_uint_t                               i;
    ngx_http_mobispot_bookings_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_bookings_module);

    if (reply->type != REDIS_REPLY_ARRAY
        || reply->elements != NGX_HTTP_MOBISPOT_B_FIELDS)
    {
        return;
    }

    f = ctx->rec.f;

    for (i = 0; i < NGX_HTTP_MOBISPOT_B_FIELDS; i++) {
        if (ngx_http_mobispot_booking_copy(r->pool, &f[i], reply->element[i])
            != NGX_OK)
        {
            return;
        }
    }

    from = ngx_atotm(f[NGX_HTTP_MOBISPOT_B_FROM].data,
                     f[NGX_HTTP_MOBISPOT_B_FROM].len);
    to = ngx_atotm(f[NGX_HTTP_MOBISPOT_B_TO].data,
                   f[NGX_HTTP_MOBISPOT_B_TO].len);

    if (f[NGX_HTTP_MOBISPOT_B_USER].len != ctx->user.len
        || ngx_strncmp(f[NGX_HTTP_MOBISPOT_B_USER].data, ctx->user.data,
                       ctx->user.len)
           != 0
        || from == NGX_ERROR || to == NGX_ERROR
        || ctx->now < from - bmcf->grace || ctx->now >= to)
    {
        return;
    }

    if (f[NGX_HTTP_MOBISPOT_B_STATUS].len == sizeof("checked_in") - 1
        && ngx_strncmp(f[NGX_HTTP_MOBISPOT_B_STATUS].data, "checked_in",
                       sizeof("checked_in") - 1)
           == 0)
    {
        ctx->until = ngx_max(ctx->until, to);
        return;
    }

    if (f[NGX_HTTP_MOBISPOT_B_STATUS].len == sizeof("confirmed") - 1
        && ngx_strncmp(f[NGX_HTTP_MOBISPOT_B_STATUS].data, "confirmed",
                       sizeof("confirmed") - 1)
           == 0)
    {
        ctx->found = 1;
        ctx->until = ngx_max(ctx->until, to);
    }
}


static void
ngx_http_mobispot_door_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_door_ctx_t *ctx = data;

    ngx_uint_t                      more;
    ngx_http_mobispot_door_memo_t  *m;

    more = 0;

    if (status != NGX_HTTP_MOBISPOT_REDIS_OK) {
        ngx_http_mobispot_fault(NGX_LOG_WARN, r->connection->log,
                                "mobispot: no check-in at the door of "
                                "\"%V\": redis did not answer", &ctx->site);

    } else if (ctx->step == 1 && ctx->nids > 0) {
        ctx->step = 2;
        more = 1;

    } else if (ctx->step == 2 && ctx->found) {
        if (ngx_http_mobispot_booking_move_prepare(r->pool, &ctx->site,
                                             &ctx->rec,
                                             NGX_HTTP_MOBISPOT_MOVE_CHECKIN,
                                             &ctx->user, ctx->now, &ctx->mv)
            == NGX_OK)
        {
            ctx->step = 3;
            more = 1;
        }

    } else if (ctx->step == 3 && !ctx->reloaded && ctx->what.len == 8
               && ngx_strncmp(ctx->what.data, "NOSCRIPT", 8) == 0)
    {
        ctx->reloaded = 1;
        ngx_str_null(&ctx->what);
        more = 1;

    } else {
        if (ctx->step == 3 && ctx->what.len) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "mobispot: check-in at the door of \"%V\": "
                          "booking \"%V\" %V", &ctx->site, &ctx->rec.id,
                          &ctx->what);
        }

        m = ngx_http_mobispot_door_memo(&ctx->user, &ctx->site, 1);

        if (m != NULL) {
            m->until = ctx->until;
        }
    }

    if (more && ngx_http_mobispot_door_send(r, ctx) == NGX_OK) {
        return;
    }

    ctx->done = 1;

    r->main->count--;
    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}


/* the worker's memory of the callers it looked at, by caller and site */

static ngx_http_mobispot_door_memo_t *
ngx_http_mobispot_door_memo(ngx_str_t *user, ngx_str_t *site,
    ngx_uint_t create)
{
    u_char                         *p, key[NGX_HTTP_MOBISPOT_DOOR_KEY];
    size_t                          len;
    ngx_uint_t                      i;
    ngx_http_mobispot_door_memo_t  *m;

    if (user->len + 1 + site->len > NGX_HTTP_MOBISPOT_DOOR_KEY) {
        return NULL;
    }

    if (ngx_http_mobispot_door_memos == NULL) {
        if (!create) {
            return NULL;
        }

        ngx_http_mobispot_door_memos =
            ngx_calloc(NGX_HTTP_MOBISPOT_DOOR_MEMO
                       * sizeof(ngx_http_mobispot_door_memo_t),
                       ngx_cycle->log);

        if (ngx_http_mobispot_door_memos == NULL) {
            return NULL;
        }
    }

    p = ngx_cpymem(key, user->data, user->len);
    *p++ = '\n';
    p = ngx_cpymem(p, site->data, site->len);
    len = p - key;

    i = ngx_crc32_short(key, len) % NGX_HTTP_MOBISPOT_DOOR_MEMO;
    m = &ngx_http_mobispot_door_memos[i];

    if (m->len == len && ngx_memcmp(m->key, key, len) == 0) {
        return m;
    }

    if (!create) {
        return NULL;
    }

    /* another caller's place is taken over */

    ngx_memcpy(m->key, key, len);
    m->len = len;
    m->until = 0;

    return m;
}

