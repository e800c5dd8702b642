
/*
 * Copyright (C) Mobispot
 *
 * The subscriber: a connection of the worker in subscribe mode, its
 * handshake, snapshot and messages, and its reconnect cycle.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "redis/ngx_http_mobispot_redis.h"
#include "redis/ngx_http_mobispot_redis_int.h"


static void ngx_http_mobispot_redis_sub_connect(void *data);
static void ngx_http_mobispot_redis_sub_on_connect(
    const redisAsyncContext *ac, int status);
static void ngx_http_mobispot_redis_sub_on_disconnect(
    const redisAsyncContext *ac, int status);
static void ngx_http_mobispot_redis_sub_on_handshake(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_sub_on_snapshot(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_sub_on_message(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_sub_down(
    ngx_http_mobispot_redis_sub_t *sub);
static void ngx_http_mobispot_redis_sub_drop(
    ngx_http_mobispot_redis_sub_t *sub);
static void ngx_http_mobispot_redis_sub_timeout_handler(ngx_event_t *ev);


ngx_http_mobispot_redis_sub_t *
ngx_http_mobispot_redis_subscribe(ngx_cycle_t *cycle,
    ngx_http_mobispot_redis_conf_t *conf,
    ngx_http_mobispot_redis_sub_conf_t *sc)
{
    ngx_http_mobispot_redis_sub_t  *sub;

    sub = ngx_pcalloc(cycle->pool, sizeof(ngx_http_mobispot_redis_sub_t));
    if (sub == NULL) {
        return NULL;
    }

    sub->conf = conf;
    sub->sc = *sc;
    sub->log = cycle->log;

    sub->link.conf = conf;
    sub->link.log = cycle->log;
    sub->link.data = sub;
    sub->link.what = " for the subscription";
    sub->link.backoff = conf->backoff_min;
    /* the connect, then the handshake, the snapshot and the SUBSCRIBE */
    sub->link.connect_timeout = conf->connect_timeout + 2 * conf->timeout;
    sub->link.connect = ngx_http_mobispot_redis_sub_connect;
    sub->link.on_connect = ngx_http_mobispot_redis_sub_on_connect;
    sub->link.on_disconnect = ngx_http_mobispot_redis_sub_on_disconnect;
    sub->link.keepalive = 1;

    ngx_http_mobispot_redis_link_init(&sub->link,
                                   ngx_http_mobispot_redis_sub_timeout_handler);
    sub->link.connect_timer.cancelable = 1;

    ngx_http_mobispot_redis_sub_connect(sub);

    return sub;
}


void
ngx_http_mobispot_redis_unsubscribe(ngx_http_mobispot_redis_sub_t *sub)
{
    ngx_http_mobispot_redis_link_stop(&sub->link);

    ngx_http_mobispot_redis_sub_drop(sub);
}


/*
 * Takes the snapshot again: the connection is made anew at once (in
 * subscribe mode it cannot send the snapshot command).  Meant for a
 * message that says "changed" rather than carrying the change.
 */

void
ngx_http_mobispot_redis_resync(ngx_http_mobispot_redis_sub_t *sub)
{
    sub->link.backoff = 0;
    ngx_http_mobispot_redis_sub_drop(sub);
}


static void
ngx_http_mobispot_redis_sub_connect(void *data)
{
    ngx_http_mobispot_redis_sub_t  *sub = data;

    if (sub->link.ac != NULL || sub->link.exiting) {
        return;
    }

    if (ngx_http_mobispot_redis_link_open(&sub->link, NGX_LOG_ERR) != NGX_OK) {
        ngx_http_mobispot_redis_link_schedule(&sub->link);
    }
}


static void
ngx_http_mobispot_redis_sub_on_connect(const redisAsyncContext *cac,
    int status)
{
    ngx_http_mobispot_redis_sub_t *sub = cac->data;

    redisAsyncContext               *ac;
    ngx_http_mobispot_redis_conf_t  *conf;

    conf = sub->conf;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, sub->log, 0,
                      "mobispot: cannot connect to redis %V for the "
                      "subscription: %s", &conf->address, cac->errstr);

        (void) ngx_http_mobispot_redis_link_gone(&sub->link, cac);

        ngx_http_mobispot_redis_link_schedule(&sub->link);
        return;
    }

    ac = sub->link.ac;

    /* pipelined: each reply is checked in order, a failure drops it all */

    if (conf->password.len) {
        (void) redisAsyncCommand(ac, ngx_http_mobispot_redis_sub_on_handshake,
                                 sub, "AUTH %b", conf->password.data,
                                 conf->password.len);
    }

    if (conf->db > 0) {
        (void) redisAsyncCommand(ac, ngx_http_mobispot_redis_sub_on_handshake,
                                 sub, "SELECT %d", (int) conf->db);
    }

    if (sub->sc.snapshot.argc) {
        (void) redisAsyncCommandArgv(ac,
                                     ngx_http_mobispot_redis_sub_on_snapshot,
                                     sub, sub->sc.snapshot.argc,
                                     sub->sc.snapshot.argv,
                                     sub->sc.snapshot.argvlen);
    }

    (void) redisAsyncCommand(ac, ngx_http_mobispot_redis_sub_on_message, sub,
                             "SUBSCRIBE %s", sub->sc.channel);
}


static void
ngx_http_mobispot_redis_sub_on_handshake(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_sub_t *sub = privdata;

    if (reply == NULL || sub->link.ac != ac) {
        return;
    }

    if (!mobispot_reply_is_status(reply, "OK")) {
        ngx_log_error(NGX_LOG_ERR, sub->log, 0,
                      "mobispot: redis %V refused AUTH or SELECT on the "
                      "subscription", &sub->conf->address);
        ngx_http_mobispot_redis_sub_drop(sub);
    }
}


static void
ngx_http_mobispot_redis_sub_on_snapshot(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_sub_t *sub = privdata;

    redisReply  *rep = reply;

    if (rep == NULL || sub->link.ac != ac) {
        return;
    }

    if (rep->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, sub->log, 0,
                      "mobispot: redis %V: error reply to the snapshot of "
                      "\"%s\"", &sub->conf->address, sub->sc.channel);
        ngx_http_mobispot_redis_sub_drop(sub);
        return;
    }

    sub->sc.on_snapshot(sub->sc.data, rep);
}


static void
ngx_http_mobispot_redis_sub_on_message(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_sub_t *sub = privdata;

    redisReply  *rep = reply, *kind, *payload;

    if (rep == NULL || sub->link.ac != ac) {
        return;
    }

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3
        || rep->element[0]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_ERR, sub->log, 0,
                      "mobispot: redis %V: unexpected reply on the "
                      "subscription to \"%s\"", &sub->conf->address,
                      sub->sc.channel);
        ngx_http_mobispot_redis_sub_drop(sub);
        return;
    }

    kind = rep->element[0];
    payload = rep->element[2];

    if (kind->len == sizeof("subscribe") - 1
        && ngx_strncmp(kind->str, "subscribe", kind->len) == 0)
    {
        if (sub->link.connect_timer.timer_set) {
            ngx_del_timer(&sub->link.connect_timer);
        }

        sub->link.backoff = sub->conf->backoff_min;
        sub->up = 1;

        ngx_log_error(NGX_LOG_INFO, sub->log, 0,
                      "mobispot: subscribed to \"%s\" on redis %V",
                      sub->sc.channel, &sub->conf->address);

        sub->sc.on_state(sub->sc.data, 1);
        return;
    }

    if (kind->len != sizeof("message") - 1
        || ngx_strncmp(kind->str, "message", kind->len) != 0)
    {
        return;
    }

    if (sub->sc.on_payload != NULL) {
        sub->sc.on_payload(sub->sc.data, payload);

    } else if (payload->type == REDIS_REPLY_STRING) {
        sub->sc.on_message(sub->sc.data, (u_char *) payload->str,
                           payload->len);
    }
}


static void
ngx_http_mobispot_redis_sub_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_mobispot_redis_sub_t *sub = ac->data;

    if (ngx_http_mobispot_redis_link_gone(&sub->link, ac)) {

        if (!sub->link.exiting) {
            ngx_log_error(NGX_LOG_ERR, sub->log, 0,
                          "mobispot: lost the subscription to \"%s\" on "
                          "redis %V: %s", sub->sc.channel,
                          &sub->conf->address,
                          ac->errstr[0] ? ac->errstr : "closed");
        }

        ngx_http_mobispot_redis_sub_down(sub);
    }

    ngx_http_mobispot_redis_link_schedule(&sub->link);
}


static void
ngx_http_mobispot_redis_sub_down(ngx_http_mobispot_redis_sub_t *sub)
{
    if (sub->up) {
        sub->up = 0;
        sub->sc.on_state(sub->sc.data, 0);
    }
}


static void
ngx_http_mobispot_redis_sub_drop(ngx_http_mobispot_redis_sub_t *sub)
{
    redisAsyncContext  *ac;

    ac = ngx_http_mobispot_redis_link_detach(&sub->link);

    ngx_http_mobispot_redis_sub_down(sub);

    if (ac != NULL) {
        redisAsyncFree(ac);
    }

    ngx_http_mobispot_redis_link_schedule(&sub->link);
}


static void
ngx_http_mobispot_redis_sub_timeout_handler(ngx_event_t *ev)
{
    ngx_http_mobispot_redis_sub_t *sub = ev->data;

    ngx_log_error(NGX_LOG_ERR, sub->log, 0,
                  "mobispot: subscription to \"%s\" on redis %V not ready "
                  "after %M ms", sub->sc.channel, &sub->conf->address,
                  sub->conf->connect_timeout + 2 * sub->conf->timeout);

    ngx_http_mobispot_redis_sub_drop(sub);
}
