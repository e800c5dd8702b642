
/*
 * Copyright (C) Mobispot
 *
 * The bookings' deadlines: a hold that runs out, a booking nobody checked
 * in to (a no-show), a checked-in booking whose end has passed.  Each
 * booking's next deadline is in one sorted set, ms:due (member: the id,
 * score: the time); a new one is announced on the channel ms:due.  Worker
 * 0 of each nginx keeps one timer, set to the earliest deadline it knows:
 *
 *   - on every (re)subscription to the channel (a start, a reload, a gap
 *     in pub/sub), it reads the earliest deadline again: nothing missed
 *     while it was not listening is lost;
 *   - a deadline announced sooner than its timer brings the timer forward
 *     (a POST announces one within mobispot_bookings_horizon);
 *   - it reads the earliest again at least once per horizon, which finds
 *     a deadline further ahead before it comes, announced or not;
 *   - when the timer fires, it takes the deadlines that have come (in
 *     batches), reads each booking's record and runs the move script's
 *     "due" on the site's keys, which checks the state and the time again
 *     and does what is due, once (a second runner, in another nginx, finds
 *     nothing left to do); then the booking's next deadline replaces the
 *     one handled, unless someone changed it meanwhile (the due script).
 *
 * No sweep: the timer fires when a deadline has come, or once per horizon
 * for one read of the earliest (two commands, every five minutes by
 * default).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


#define NGX_HTTP_MOBISPOT_DUE_BATCH  32

#define NGX_HTTP_MOBISPOT_DUE_IDLE     0
#define NGX_HTTP_MOBISPOT_DUE_READING  1
#define NGX_HTTP_MOBISPOT_DUE_PASSING  2


typedef struct {
    ngx_http_mobispot_redis_client_t  *client;
    ngx_http_mobispot_redis_sub_t     *sub;
    ngx_event_t                        timer;
    time_t                             at;      /* the timer's; 0: none */
    time_t                             seen;    /* announced while busy */
    ngx_uint_t                         state;
    time_t                             horizon;
    ngx_log_t                         *log;

    /* the pass: the deadlines that have come, one after the other */
    ngx_pool_t                        *pool;
    ngx_str_t                          ids[NGX_HTTP_MOBISPOT_DUE_BATCH];
    ngx_str_t                          scores[NGX_HTTP_MOBISPOT_DUE_BATCH];
    ngx_uint_t                         n;
    ngx_uint_t                         i;
    ngx_str_t                          site;
    ngx_str_t                          next;
    ngx_http_mobispot_booking_rec_t    rec;
    ngx_http_mobispot_move_t           mv;
    ngx_http_mobispot_redis_cmd_t      cmd;
    ngx_uint_t                         script;
    ngx_uint_t                         reloaded;
} ngx_http_mobispot_due_t;


static void ngx_http_mobispot_due_state(void *data, ngx_uint_t up);
static void ngx_http_mobispot_due_message(void *data, u_char *msg,
    size_t len);
static void ngx_http_mobispot_due_arm(ngx_http_mobispot_due_t *d, time_t t);
static void ngx_http_mobispot_due_read(ngx_http_mobispot_due_t *d);
static void ngx_http_mobispot_due_on_read(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_mobispot_due_timer(ngx_event_t *ev);
static void ngx_http_mobispot_due_pass(ngx_http_mobispot_due_t *d);
static void ngx_http_mobispot_due_on_batch(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_due_item(ngx_http_mobispot_due_t *d);
static void ngx_http_mobispot_due_on_record(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_due_script(ngx_http_mobispot_due_t *d,
    ngx_uint_t script, ngx_str_t *keys, ngx_uint_t nkeys, const char **args,
    size_t *argslen, ngx_uint_t nargs);
static void ngx_http_mobispot_due_send(ngx_http_mobispot_due_t *d);
static void ngx_http_mobispot_due_on_script(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_due_replace(ngx_http_mobispot_due_t *d);
static void ngx_http_mobispot_due_end(ngx_http_mobispot_due_t *d);
static void ngx_http_mobispot_due_ask(ngx_http_mobispot_due_t *d,
    redisCallbackFn *fn);
static void ngx_http_mobispot_due_fail(ngx_http_mobispot_due_t *d,
    const char *what);


static ngx_http_mobispot_due_t  *ngx_http_mobispot_due;


/*
 * worker 0 of an nginx that serves the API runs the deadlines (or the one
 * process, without a master)
 */

ngx_int_t
ngx_http_mobispot_booking_due_init(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_due_t                 *d;
    ngx_http_mobispot_main_conf_t           *mmcf;
    ngx_http_mobispot_redis_sub_conf_t       sc;
    ngx_http_mobispot_bookings_main_conf_t  *bmcf;

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || ngx_worker != 0)
    {
        return NGX_OK;
    }

    mmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_mobispot_module);
    bmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                           ngx_http_mobispot_bookings_module);

    if (mmcf == NULL || bmcf == NULL || mmcf->client == NULL
        || !mmcf->api_used || !bmcf->due)
    {
        return NGX_OK;
    }

    d = ngx_pcalloc(cycle->pool, sizeof(ngx_http_mobispot_due_t));
    if (d == NULL) {
        return NGX_ERROR;
    }

    d->client = mmcf->client;
    d->horizon = bmcf->horizon;
    d->log = cycle->log;
    d->timer.handler = ngx_http_mobispot_due_timer;
    d->timer.data = d;
    d->timer.log = cycle->log;
    d->timer.cancelable = 1;

    ngx_memzero(&sc, sizeof(ngx_http_mobispot_redis_sub_conf_t));

    sc.channel = NGX_HTTP_MOBISPOT_KEY_DUE;
    sc.on_message = ngx_http_mobispot_due_message;
    sc.on_state = ngx_http_mobispot_due_state;
    sc.data = d;

    d->sub = ngx_http_mobispot_redis_subscribe(d->client, &sc);
    if (d->sub == NULL) {
        return NGX_ERROR;
    }

    ngx_http_mobispot_due = d;

    return NGX_OK;
}


void
ngx_http_mobispot_booking_due_exit(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_due_t  *d;

    d = ngx_http_mobispot_due;

    if (d == NULL) {
        return;
    }

    if (d->timer.timer_set) {
        ngx_del_timer(&d->timer);
    }

    ngx_http_mobispot_due = NULL;
}


/* subscribed again: what was announced meanwhile is read from the set */

static void
ngx_http_mobispot_due_state(void *data, ngx_uint_t up)
{
    ngx_http_mobispot_due_t  *d = data;

    if (up) {
        ngx_http_mobispot_due_read(d);
    }
}


static void
ngx_http_mobispot_due_message(void *data, u_char *msg, size_t len)
{
    ngx_http_mobispot_due_t  *d = data;

    time_t  t;

    t = ngx_atotm(msg, len);

    if (t == NGX_ERROR || t == 0) {
        ngx_log_error(NGX_LOG_WARN, d->log, 0,
                      "mobispot: \"%*s\" on channel " NGX_HTTP_MOBISPOT_KEY_DUE
                      " is not a time: ignored", ngx_min(len, 32), msg);
        return;
    }

    if (d->state != NGX_HTTP_MOBISPOT_DUE_IDLE) {
        if (d->seen == 0 || t < d->seen) {
            d->seen = t;
        }

        return;
    }

    ngx_http_mobispot_due_arm(d, t);
}


/* the timer at t, unless it is set sooner already */

static void
ngx_http_mobispot_due_arm(ngx_http_mobispot_due_t *d, time_t t)
{
    time_t  now;

    if (t <= 0 || ngx_http_mobispot_due != d) {
        return;
    }

    if (d->timer.timer_set) {
        if (d->at <= t) {
            return;
        }

        ngx_del_timer(&d->timer);
    }

    now = ngx_time();
    d->at = t;

    /* a deadline is a second: the timer fires once that second has come */
    ngx_add_timer(&d->timer, t > now ? (ngx_msec_t) (t - now) * 1000 + 5 : 1);
}


/* ZRANGE ms:due 0 0 WITHSCORES: the earliest deadline */

static void
ngx_http_mobispot_due_read(ngx_http_mobispot_due_t *d)
{
    ngx_http_mobispot_redis_cmd_t  cmd;

    static const char  *argv[] = { "ZRANGE", NGX_HTTP_MOBISPOT_KEY_DUE, "0",
                                   "0", "WITHSCORES" };
    static const size_t  argvlen[] = { 6, sizeof(NGX_HTTP_MOBISPOT_KEY_DUE)
                                          - 1, 1, 1, 10 };

    if (d->state != NGX_HTTP_MOBISPOT_DUE_IDLE) {
        return;
    }

    cmd.argc = 5;
    cmd.argv = argv;
    cmd.argvlen = argvlen;

    if (ngx_http_mobispot_redis_send(d->client, &cmd,
                                     ngx_http_mobispot_due_on_read, d)
        != NGX_OK)
    {
        /* not connected yet: try again in a second */
        ngx_http_mobispot_due_arm(d, ngx_time() + 1);
        return;
    }

    d->state = NGX_HTTP_MOBISPOT_DUE_READING;
}


static void
ngx_http_mobispot_due_on_read(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_due_t  *d = privdata;

    time_t       t, seen;
    redisReply  *rep = reply;

    d->state = NGX_HTTP_MOBISPOT_DUE_IDLE;
    seen = d->seen;
    d->seen = 0;

    if (rep == NULL) {
        /* the connection went: the client logs it */
        ngx_http_mobispot_due_fail(d, NULL);
        return;
    }

    if (rep->type != REDIS_REPLY_ARRAY
        || (rep->elements != 0 && rep->elements != 2))
    {
        ngx_http_mobispot_due_fail(d, "ZRANGE " NGX_HTTP_MOBISPOT_KEY_DUE);
        return;
    }

    ngx_http_mobispot_due_arm(d, seen);
    ngx_http_mobispot_due_arm(d, ngx_time() + d->horizon);

    if (rep->elements == 2) {
        t = (rep->element[1]->type == REDIS_REPLY_STRING)
            ? ngx_atotm((u_char *) rep->element[1]->str,
                        rep->element[1]->len)
            : NGX_ERROR;

        /* a score written by hand, not a time: taken as due now */
        ngx_http_mobispot_due_arm(d, t == NGX_ERROR ? ngx_time() : t);
    }
}


static void
ngx_http_mobispot_due_timer(ngx_event_t *ev)
{
    ngx_http_mobispot_due_t  *d = ev->data;

    d->at = 0;

    if (d->state == NGX_HTTP_MOBISPOT_DUE_IDLE) {
        ngx_http_mobispot_due_pass(d);
    }
}


/* ZRANGE ms:due -inf <now> BYSCORE LIMIT 0 32 WITHSCORES */

static void
ngx_http_mobispot_due_pass(ngx_http_mobispot_due_t *d)
{
    u_char                         *p;
    const char                    **argv;
    size_t                         *argvlen;

    d->pool = ngx_create_pool(4096, d->log);
    if (d->pool == NULL) {
        ngx_http_mobispot_due_fail(d, "a pool");
        return;
    }

    d->state = NGX_HTTP_MOBISPOT_DUE_PASSING;
    d->n = 0;
    d->i = 0;

    argv = ngx_palloc(d->pool, 9 * sizeof(char *));
    argvlen = ngx_palloc(d->pool, 9 * sizeof(size_t));
    p = ngx_pnalloc(d->pool, NGX_TIME_T_LEN + NGX_INT_T_LEN);

    if (argv == NULL || argvlen == NULL || p == NULL) {
        ngx_http_mobispot_due_fail(d, "a pool");
        return;
    }

    argv[0] = "ZRANGE";
    argv[1] = NGX_HTTP_MOBISPOT_KEY_DUE;
    argv[2] = "-inf";
    argv[3] = (char *) p;
    argvlen[3] = ngx_sprintf(p, "%T", ngx_time()) - p;
    p += argvlen[3];
    argv[4] = "BYSCORE";
    argv[5] = "LIMIT";
    argv[6] = "0";
    argv[7] = (char *) p;
    argvlen[7] = ngx_sprintf(p, "%d", NGX_HTTP_MOBISPOT_DUE_BATCH) - p;
    argv[8] = "WITHSCORES";

    argvlen[0] = 6;
    argvlen[1] = sizeof(NGX_HTTP_MOBISPOT_KEY_DUE) - 1;
    argvlen[2] = 4;
    argvlen[4] = 7;
    argvlen[5] = 5;
    argvlen[6] = 1;
    argvlen[8] = 10;

    d->cmd.argc = 9;
    d->cmd.argv = argv;
    d->cmd.argvlen = argvlen;

    ngx_http_mobispot_due_ask(d, ngx_http_mobispot_due_on_batch);
}


static void
ngx_http_mobispot_due_on_batch(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_due_t  *d = privdata;

    size_t       i;
    redisReply  *rep = reply;

    if (rep == NULL) {
        ngx_http_mobispot_due_fail(d, NULL);
        return;
    }

    if (rep->type != REDIS_REPLY_ARRAY
        || rep->elements % 2 != 0
        || rep->elements > 2 * NGX_HTTP_MOBISPOT_DUE_BATCH)
    {
        ngx_http_mobispot_due_fail(d, "ZRANGE " NGX_HTTP_MOBISPOT_KEY_DUE);
        return;
    }

    for (i = 0; i < rep->elements; i += 2) {
        if (ngx_http_mobispot_booking_copy(d->pool, &d->ids[d->n],
                                       rep->element[i])
            != NGX_OK
            || ngx_http_mobispot_booking_copy(d->pool, &d->scores[d->n],
                                          rep->element[i + 1])
               != NGX_OK)
        {
            ngx_http_mobispot_due_fail(d, "ZRANGE " NGX_HTTP_MOBISPOT_KEY_DUE);
            return;
        }

        d->n++;
    }

    ngx_http_mobispot_due_item(d);
}


/* the next deadline of the pass: its booking's record first */

static void
ngx_http_mobispot_due_item(ngx_http_mobispot_due_t *d)
{
    ngx_str_t  key;

    if (d->i == d->n) {
        ngx_http_mobispot_due_end(d);
        return;
    }

    d->rec.id = d->ids[d->i];
    ngx_str_null(&d->next);

    if (ngx_http_mobispot_booking_id_site(&d->rec.id, &d->site) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, d->log, 0,
                      "mobispot: \"%V\" in " NGX_HTTP_MOBISPOT_KEY_DUE
                      " is not a booking id: removed", &d->rec.id);

        ngx_http_mobispot_due_replace(d);
        return;
    }

    key.len = sizeof("ms:{site:}:booking:") - 1 + d->site.len + d->rec.id.len;
    key.data = ngx_pnalloc(d->pool, key.len);

    if (key.data == NULL
        || ngx_http_mobispot_booking_record_fields(d->pool, &key, &d->cmd)
           != NGX_OK)
    {
        ngx_http_mobispot_due_fail(d, "a pool");
        return;
    }

    ngx_sprintf(key.data, "ms:{site:%V}:booking:%V", &d->site, &d->rec.id);

    ngx_http_mobispot_due_ask(d, ngx_http_mobispot_due_on_record);
}


static void
ngx_http_mobispot_due_on_record(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_due_t  *d = privdata;

    size_t       i;
    redisReply  *rep = reply;

    if (rep == NULL) {
        ngx_http_mobispot_due_fail(d, NULL);
        return;
    }

    if (rep->type != REDIS_REPLY_ARRAY
        || rep->elements != NGX_HTTP_MOBISPOT_B_FIELDS)
    {
        ngx_http_mobispot_due_fail(d, "HMGET booking");
        return;
    }

    for (i = 0; i < NGX_HTTP_MOBISPOT_B_FIELDS; i++) {
        if (ngx_http_mobispot_booking_copy(d->pool, &d->rec.f[i],
                                       rep->element[i])
            != NGX_OK)
        {
            ngx_http_mobispot_due_fail(d, "HMGET booking");
            return;
        }
    }

    if (d->rec.f[NGX_HTTP_MOBISPOT_B_USER].data == NULL) {
        /* no such booking (refused, or expired): nothing is due */
        ngx_http_mobispot_due_replace(d);
        return;
    }

    if (ngx_http_mobispot_booking_move_prepare(d->pool, &d->site, &d->rec,
                                               NGX_HTTP_MOBISPOT_MOVE_DUE,
                                               NULL, ngx_time(), &d->mv)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, d->log, 0,
                      "mobispot: booking \"%V\" has a bad record in redis: "
                      "its deadline is dropped", &d->rec.id);

        ngx_http_mobispot_due_replace(d);
        return;
    }

    ngx_http_mobispot_due_script(d, NGX_HTTP_MOBISPOT_SCRIPT_MOVE,
                                 d->mv.keys, d->mv.nkeys, d->mv.argv,
                                 d->mv.argvlen, NGX_HTTP_MOBISPOT_MOVE_ARGS);
}


/* EVALSHA <script> nkeys keys... args... (EVAL once after NOSCRIPT) */

static void
ngx_http_mobispot_due_script(ngx_http_mobispot_due_t *d, ngx_uint_t script,
    ngx_str_t *keys, ngx_uint_t nkeys, const char **args, size_t *argslen,
    ngx_uint_t nargs)
{
    if (ngx_http_mobispot_booking_eval(d->pool, script, keys, nkeys, args,
                                       argslen, nargs, &d->cmd)
        != NGX_OK)
    {
        ngx_http_mobispot_due_fail(d, "a pool");
        return;
    }

    d->script = script;
    d->reloaded = 0;

    ngx_http_mobispot_due_send(d);
}


static void
ngx_http_mobispot_due_send(ngx_http_mobispot_due_t *d)
{
    ngx_http_mobispot_booking_eval_head(d->script, d->reloaded, &d->cmd);

    ngx_http_mobispot_due_ask(d, ngx_http_mobispot_due_on_script);
}


static void
ngx_http_mobispot_due_on_script(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_due_t  *d = privdata;

    ngx_str_t                   what, second;
    redisReply                 *rep = reply;
    ngx_http_mobispot_reply_t   copy, elts[2];

    if (rep == NULL) {
        ngx_http_mobispot_due_fail(d, NULL);
        return;
    }

    if (rep->type == REDIS_REPLY_ERROR && !d->reloaded
        && rep->len >= 8 && ngx_strncmp(rep->str, "NOSCRIPT", 8) == 0)
    {
        d->reloaded = 1;
        ngx_http_mobispot_due_send(d);
        return;
    }

    if (d->script == NGX_HTTP_MOBISPOT_SCRIPT_DUE) {
        if (rep->type != REDIS_REPLY_INTEGER) {
            ngx_http_mobispot_due_fail(d, "the deadlines' script");
            return;
        }

        d->i++;
        ngx_http_mobispot_due_item(d);
        return;
    }

    /* the move's answer, in the shape the routes read */

    ngx_memzero(&copy, sizeof(ngx_http_mobispot_reply_t));
    ngx_memzero(elts, sizeof(elts));
    copy.type = rep->type;
    copy.str.data = (u_char *) rep->str;
    copy.str.len = rep->len;

    if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1
        && rep->elements <= 2)
    {
        copy.elements = rep->elements;
        copy.element = elts;

        elts[0].type = rep->element[0]->type;
        elts[0].str.data = (u_char *) rep->element[0]->str;
        elts[0].str.len = rep->element[0]->len;

        if (rep->elements == 2) {
            elts[1].type = rep->element[1]->type;
            elts[1].str.data = (u_char *) rep->element[1]->str;
            elts[1].str.len = rep->element[1]->len;
        }
    }

    if (ngx_http_mobispot_booking_move_reply(d->log, &copy, &what, &second)
        != NGX_OK)
    {
        ngx_http_mobispot_due_fail(d, "the move script");
        return;
    }

    if (what.len == 7 && ngx_strncmp(what.data, "not_due", 7) == 0) {
        if (ngx_http_mobispot_booking_copy(d->pool, &d->next, rep->element[1])
            != NGX_OK)
        {
            ngx_http_mobispot_due_fail(d, "the move script");
            return;
        }

    } else if (!(what.len == 5 && ngx_strncmp(what.data, "final", 5) == 0)) {
        ngx_log_error(NGX_LOG_INFO, d->log, 0,
                      "mobispot: booking \"%V\": %V", &d->rec.id, &what);

        if (what.len == 7 && ngx_strncmp(what.data, "expired", 7) == 0) {
            ngx_http_mobispot_booking_count(
                NGX_HTTP_MOBISPOT_BOOKED_HOLD_EXPIRED);

        } else if (what.len == 7
                   && ngx_strncmp(what.data, "no_show", 7) == 0)
        {
            ngx_http_mobispot_booking_count(NGX_HTTP_MOBISPOT_BOOKED_NO_SHOW);
        }
    }

    ngx_http_mobispot_due_replace(d);
}


/* the deadline handled gives way to the booking's next one, if any */

static void
ngx_http_mobispot_due_replace(ngx_http_mobispot_due_t *d)
{
    ngx_str_t    key;
    const char  *args[3];
    size_t       argslen[3];

    ngx_str_set(&key, NGX_HTTP_MOBISPOT_KEY_DUE);

    args[0] = (char *) d->ids[d->i].data;
    argslen[0] = d->ids[d->i].len;
    args[1] = (char *) d->scores[d->i].data;
    argslen[1] = d->scores[d->i].len;
    args[2] = d->next.data ? (char *) d->next.data : "";
    argslen[2] = d->next.len;

    ngx_http_mobispot_due_script(d, NGX_HTTP_MOBISPOT_SCRIPT_DUE, &key, 1,
                                 args, argslen, 3);
}


/* a pass over: a full batch goes on at once, else the earliest is read */

static void
ngx_http_mobispot_due_end(ngx_http_mobispot_due_t *d)
{
    ngx_uint_t  full;

    full = (d->n == NGX_HTTP_MOBISPOT_DUE_BATCH);

    ngx_destroy_pool(d->pool);
    d->pool = NULL;
    d->state = NGX_HTTP_MOBISPOT_DUE_IDLE;

    if (full) {
        ngx_http_mobispot_due_pass(d);
        return;
    }

    ngx_http_mobispot_due_arm(d, d->seen);
    d->seen = 0;

    ngx_http_mobispot_due_read(d);
}


/* d->cmd sent, its reply to fn; not sent: the pass stops (due_fail) */

static void
ngx_http_mobispot_due_ask(ngx_http_mobispot_due_t *d, redisCallbackFn *fn)
{
    if (ngx_http_mobispot_redis_send(d->client, &d->cmd, fn, d) != NGX_OK) {
        ngx_http_mobispot_due_fail(d, NULL);
    }
}


/*
 * Redis lost or refusing: the pass stops and starts again in a second
 * (what NULL: the connection went, which its client logs already)
 */

static void
ngx_http_mobispot_due_fail(ngx_http_mobispot_due_t *d, const char *what)
{
    if (what != NULL) {
        ngx_log_error(NGX_LOG_ERR, d->log, 0,
                      "mobispot: the bookings' deadlines: %s failed, tried "
                      "again in a second", what);
    }

    if (d->pool != NULL) {
        ngx_destroy_pool(d->pool);
        d->pool = NULL;
    }

    d->state = NGX_HTTP_MOBISPOT_DUE_IDLE;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (d->seen) {
        ngx_http_mobispot_due_arm(d, d->seen);
        d->seen = 0;
    }

    ngx_http_mobispot_due_arm(d, ngx_time() + 1);
}

