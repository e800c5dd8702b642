
/*
 * Copyright (C) Mobispot
 *
 * The issuer's key set in Redis, for the gateways (mobispot_jwt_keys_redis):
 * worker 0 of the issuer's nginx (or the one process, without a master)
 * writes it,
 *
 *     SET     ms:sso:jwks <the JWKS>
 *     PUBLISH ms:sso:jwks changed
 *
 * through the worker's Redis client (never blocking), whenever its bus
 * subscribes to ms:sso:issuer: at start, after a reload (new workers),
 * after every reconnection (a Redis restarted empty gets the keys back),
 * and on any message there (PUBLISH ms:sso:issuer publish, by hand).
 * While Redis is away it tries again with the client's backoff.  It does
 * not subscribe to ms:sso:jwks itself: a gateway's worker listens there,
 * and hiredis keeps one handler per channel.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "issuer/ngx_http_mobispot_issuer.h"


typedef struct {
    ngx_http_mobispot_redis_client_t  *client;
    ngx_http_mobispot_redis_conf_t    *conf;
    ngx_http_mobispot_redis_sub_t     *sub;
    ngx_str_t                         *jwks;
    ngx_event_t                        timer;
    ngx_msec_t                         backoff;
    ngx_uint_t                         sending;
    ngx_uint_t                         again;    /* asked while sending */
    ngx_uint_t                         failed;   /* logged, once */
    ngx_uint_t                         error;    /* 1: lost, 2: refused */
    char                               word[32]; /* the refusal's word */
    ngx_log_t                         *log;
} ngx_http_mobispot_issuer_pub_t;


static void ngx_http_mobispot_issuer_pub_state(void *data, ngx_uint_t up);
static void ngx_http_mobispot_issuer_pub_message(void *data, u_char *msg,
    size_t len);
static void ngx_http_mobispot_issuer_pub_timer(ngx_event_t *ev);
static void ngx_http_mobispot_issuer_pub_send(
    ngx_http_mobispot_issuer_pub_t *pb);
static void ngx_http_mobispot_issuer_pub_on_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_issuer_pub_retry(
    ngx_http_mobispot_issuer_pub_t *pb, const char *what);


static ngx_http_mobispot_issuer_pub_t  *ngx_http_mobispot_issuer_pub;


ngx_int_t
ngx_http_mobispot_issuer_publish_init(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_main_conf_t         *mmcf;
    ngx_http_mobispot_issuer_pub_t        *pb;
    ngx_http_mobispot_redis_sub_conf_t     sc;
    ngx_http_mobispot_issuer_main_conf_t  *imcf;

    imcf = ngx_http_cycle_get_module_main_conf(cycle,
                                             ngx_http_mobispot_issuer_module);

    if (!ngx_http_mobispot_worker_zero() || imcf == NULL
        || imcf->keys == NULL)
    {
        return NGX_OK;
    }

    mmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_mobispot_module);

    /* the configuration needs mobispot_redis: the client is made */

    pb = ngx_pcalloc(cycle->pool, sizeof(ngx_http_mobispot_issuer_pub_t));
    if (pb == NULL || mmcf->client == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&sc, sizeof(ngx_http_mobispot_redis_sub_conf_t));

    sc.channel = NGX_HTTP_MOBISPOT_ISSUER_CHANNEL;
    sc.on_message = ngx_http_mobispot_issuer_pub_message;
    sc.on_state = ngx_http_mobispot_issuer_pub_state;
    sc.data = pb;

    pb->client = mmcf->client;
    pb->conf = &mmcf->redis;
    pb->jwks = &imcf->jwks;
    pb->log = cycle->log;

    pb->timer.handler = ngx_http_mobispot_issuer_pub_timer;
    pb->timer.data = pb;
    pb->timer.log = cycle->log;
    pb->timer.cancelable = 1;

    pb->sub = ngx_http_mobispot_redis_subscribe(pb->client, &sc);
    if (pb->sub == NULL) {
        return NGX_ERROR;
    }

    ngx_http_mobispot_issuer_pub = pb;

    return NGX_OK;
}


void
ngx_http_mobispot_issuer_publish_exit(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_issuer_pub_t  *pb;

    pb = ngx_http_mobispot_issuer_pub;

    if (pb == NULL) {
        return;
    }

    if (pb->timer.timer_set) {
        ngx_del_timer(&pb->timer);
    }

    ngx_http_mobispot_issuer_pub = NULL;
}


/* subscribed (again): Redis may have been restarted empty, or flushed */

static void
ngx_http_mobispot_issuer_pub_state(void *data, ngx_uint_t up)
{
    ngx_http_mobispot_issuer_pub_t  *pb = data;

    if (up) {
        pb->backoff = 0;
        ngx_http_mobispot_issuer_pub_send(pb);
    }
}


static void
ngx_http_mobispot_issuer_pub_message(void *data, u_char *msg, size_t len)
{
    ngx_http_mobispot_issuer_pub_t  *pb = data;

    ngx_http_mobispot_issuer_pub_send(pb);
}


static void
ngx_http_mobispot_issuer_pub_timer(ngx_event_t *ev)
{
    ngx_http_mobispot_issuer_pub_send(ev->data);
}


/* SET then PUBLISH, sent together: Redis runs them in that order */

static void
ngx_http_mobispot_issuer_pub_send(ngx_http_mobispot_issuer_pub_t *pb)
{
    ngx_http_mobispot_redis_cmd_t  set, pub;

    const char  *set_argv[3], *pub_argv[3];
    size_t       set_len[3], pub_len[3];

    if (ngx_http_mobispot_issuer_pub != pb || ngx_exiting || ngx_terminate) {
        return;
    }

    if (pb->sending) {
        pb->again = 1;
        return;
    }

    if (pb->timer.timer_set) {
        ngx_del_timer(&pb->timer);
    }

    set_argv[0] = "SET";
    set_len[0] = 3;
    set_argv[1] = NGX_HTTP_MOBISPOT_ISSUER_KEY_JWKS;
    set_len[1] = sizeof(NGX_HTTP_MOBISPOT_ISSUER_KEY_JWKS) - 1;
    set_argv[2] = (const char *) pb->jwks->data;
    set_len[2] = pb->jwks->len;

    pub_argv[0] = "PUBLISH";
    pub_len[0] = 7;
    pub_argv[1] = NGX_HTTP_MOBISPOT_ISSUER_KEY_JWKS;
    pub_len[1] = sizeof(NGX_HTTP_MOBISPOT_ISSUER_KEY_JWKS) - 1;
    pub_argv[2] = "changed";
    pub_len[2] = 7;

    set.argc = 3;
    set.argv = set_argv;
    set.argvlen = set_len;
    pub.argc = 3;
    pub.argv = pub_argv;
    pub.argvlen = pub_len;

    /* hiredis copies the commands into its buffer */

    if (ngx_http_mobispot_redis_send(pb->client, &set,
                                     ngx_http_mobispot_issuer_pub_on_reply,
                                     pb)
        != NGX_OK)
    {
        ngx_http_mobispot_issuer_pub_retry(pb, NULL);
        return;
    }

    pb->sending = 2;
    pb->again = 0;

    if (ngx_http_mobispot_redis_send(pb->client, &pub,
                                     ngx_http_mobispot_issuer_pub_on_reply,
                                     pb)
        != NGX_OK)
    {
        /* the SET's reply comes, or the connection's loss */
        pb->sending = 1;
        pb->again = 1;
    }
}


/*
 * The reply of the SET ("OK") or of the PUBLISH (the number of listeners);
 * once both are in, success, or again after the backoff
 */

static void
ngx_http_mobispot_issuer_pub_on_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_issuer_pub_t  *pb = privdata;

    redisReply  *rep = reply;

    pb->sending--;

    if (ngx_http_mobispot_issuer_pub != pb) {
        return;
    }

    if (rep == NULL) {
        /* the connection went: the client logs it */
        pb->error = pb->error ? pb->error : 1;

    } else if (!mobispot_reply_is_status(rep, "OK")
               && rep->type != REDIS_REPLY_INTEGER)
    {
        /* the first word only: the reply is gone after this call */
        pb->error = 2;

        if (mobispot_reply_error_word(rep, pb->word, sizeof(pb->word)) == 0)
        {
            ngx_cpystrn((u_char *) pb->word, (u_char *) "a reply that is "
                        "not OK", sizeof(pb->word));
        }
    }

    if (pb->sending) {
        return;
    }

    if (pb->error) {
        ngx_http_mobispot_issuer_pub_retry(pb, pb->error == 2 ? pb->word
                                                              : NULL);
        pb->error = 0;
        return;
    }

    if (pb->failed) {
        ngx_log_error(NGX_LOG_NOTICE, pb->log, 0,
                      "mobispot: the issuer's keys are in redis %V "
                      "(" NGX_HTTP_MOBISPOT_ISSUER_KEY_JWKS ") again",
                      &pb->conf->address);
        pb->failed = 0;
    }

    pb->backoff = 0;

    if (pb->again && !pb->timer.timer_set) {
        ngx_http_mobispot_issuer_pub_send(pb);
    }
}


/*
 * again after the client's backoff (jittered), whatever else is under way;
 * a refusal is logged once, until a SET succeeds
 */

static void
ngx_http_mobispot_issuer_pub_retry(ngx_http_mobispot_issuer_pub_t *pb,
    const char *what)
{
    ngx_msec_t  delay;

    if (what != NULL && !pb->failed) {
        ngx_log_error(NGX_LOG_ERR, pb->log, 0,
                      "mobispot: redis %V refused the issuer's keys "
                      "(SET/PUBLISH " NGX_HTTP_MOBISPOT_ISSUER_KEY_JWKS
                      "): %s; trying again", &pb->conf->address, what);
        pb->failed = 1;
    }

    if (pb->timer.timer_set || ngx_exiting || ngx_terminate) {
        return;
    }

    pb->backoff = mobispot_backoff_next(pb->backoff, pb->conf->backoff_min,
                                        pb->conf->backoff_max);
    delay = mobispot_backoff_jitter(pb->backoff, (unsigned) ngx_random());

    ngx_add_timer(&pb->timer, delay ? delay : 1);
}
