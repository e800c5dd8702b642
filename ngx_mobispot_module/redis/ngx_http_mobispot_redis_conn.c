
/*
 * Copyright (C) Mobispot
 *
 * One connection and its reconnect cycle, shared by the client and every
 * subscriber (the link: connect, connect timer, backoff), and the client's
 * own connection on it: AUTH/SELECT, the connect timeout, losses.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "redis/ngx_http_mobispot_redis.h"
#include "redis/ngx_http_mobispot_redis_int.h"


static void ngx_http_mobispot_redis_connect(void *data);
static void ngx_http_mobispot_redis_link_reconnect_handler(ngx_event_t *ev);
static void ngx_http_mobispot_redis_connect_timeout_handler(ngx_event_t *ev);
static void ngx_http_mobispot_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_mobispot_redis_on_disconnect(
    const redisAsyncContext *ac, int status);
static void ngx_http_mobispot_redis_on_handshake(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_set_ready(
    ngx_http_mobispot_redis_client_t *client);
static void ngx_http_mobispot_redis_failed(
    ngx_http_mobispot_redis_client_t *client);
static ngx_uint_t ngx_http_mobispot_redis_fail_level(
    ngx_http_mobispot_redis_client_t *client);


/* the client's first connect, at worker start */

void
ngx_http_mobispot_redis_start(ngx_http_mobispot_redis_client_t *client)
{
    ngx_http_mobispot_redis_link_t  *link;

    link = &client->link;

    link->conf = client->conf;
    link->log = client->log;
    link->data = client;
    link->what = "";
    link->backoff = client->conf->backoff_min;
    link->connect_timeout = client->conf->connect_timeout;
    link->connect = ngx_http_mobispot_redis_connect;
    link->on_connect = ngx_http_mobispot_redis_on_connect;
    link->on_disconnect = ngx_http_mobispot_redis_on_disconnect;

    ngx_http_mobispot_redis_link_init(link,
                               ngx_http_mobispot_redis_connect_timeout_handler);

    ngx_http_mobispot_redis_connect(client);
}


static void
ngx_http_mobispot_redis_connect(void *data)
{
    ngx_http_mobispot_redis_client_t *client = data;

    redisAsyncContext                *ac;
    ngx_http_mobispot_redis_conf_t   *conf;

    if (client->link.ac != NULL || client->link.exiting) {
        return;
    }

    conf = client->conf;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, client->log, 0,
                   "mobispot: connecting to redis %V", &conf->address);

    if (ngx_http_mobispot_redis_link_open(&client->link,
                                     ngx_http_mobispot_redis_fail_level(client))
        != NGX_OK)
    {
        ngx_http_mobispot_redis_failed(client);
        return;
    }

    ac = client->link.ac;
    client->state = NGX_HTTP_MOBISPOT_REDIS_CONNECTING;

    /*
     * AUTH and SELECT go first into hiredis's output buffer, so that they
     * precede every call taken while the connection is being made.
     */

    client->handshake = 0;

    if (conf->user.len) {
        /* an ACL user (Redis 6): AUTH <user> <password> */
        if (redisAsyncCommand(ac, ngx_http_mobispot_redis_on_handshake, client,
                              "AUTH %b %b", conf->user.data, conf->user.len,
                              conf->password.data, conf->password.len)
            == REDIS_OK)
        {
            client->handshake++;
        }

    } else if (conf->password.len) {
        if (redisAsyncCommand(ac, ngx_http_mobispot_redis_on_handshake, client,
                              "AUTH %b", conf->password.data,
                              conf->password.len)
            == REDIS_OK)
        {
            client->handshake++;
        }
    }

    if (conf->db > 0) {
        if (redisAsyncCommand(ac, ngx_http_mobispot_redis_on_handshake, client,
                              "SELECT %d", (int) conf->db)
            == REDIS_OK)
        {
            client->handshake++;
        }
    }

    /* not part of the handshake: without it, nothing is cached */
    ngx_http_mobispot_redis_track_send(client);
}


static void
ngx_http_mobispot_redis_on_connect(const redisAsyncContext *cac, int status)
{
    ngx_http_mobispot_redis_client_t *client = cac->data;

    ngx_http_mobispot_redis_conf_t   *conf;

    conf = client->conf;

    if (status != REDIS_OK) {
        ngx_log_error(ngx_http_mobispot_redis_fail_level(client),
                      client->log, 0,
                      "mobispot: cannot connect to redis %V: %s",
                      &conf->address, cac->errstr);

        /*
         * hiredis frees the context when this returns, calling back the
         * commands it holds with NULL
         */

        if (ngx_http_mobispot_redis_link_gone(&client->link, cac)) {
            client->state = NGX_HTTP_MOBISPOT_REDIS_DISCONNECTED;
            ngx_http_mobispot_redis_untracked(client);
        }

        ngx_http_mobispot_redis_failed(client);
        return;
    }

    if (client->handshake == 0) {
        ngx_http_mobispot_redis_set_ready(client);
        return;
    }

    client->state = NGX_HTTP_MOBISPOT_REDIS_HANDSHAKE;
}


static void
ngx_http_mobispot_redis_on_handshake(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_client_t *client = privdata;

    char                              word[32];
    redisReply                       *rep = reply;

    if (rep == NULL || client->link.ac != ac) {
        /* the connection is going away: its disconnect handles the rest */
        return;
    }

    if (!mobispot_reply_is_status(rep, "OK")) {
        (void) mobispot_reply_error_word(rep, word, sizeof(word));
        ngx_log_error(NGX_LOG_ERR, client->log, 0,
                      "mobispot: redis %V refused AUTH or SELECT (%s reply %s)",
                      &client->conf->address,
                      mobispot_reply_type_name(rep->type), word);
        client->failures++;
        ngx_http_mobispot_redis_drop(client);
        return;
    }

    /* the connect callback has run: replies come after the connection */

    if (--client->handshake == 0) {
        ngx_http_mobispot_redis_set_ready(client);
    }
}


static void
ngx_http_mobispot_redis_set_ready(ngx_http_mobispot_redis_client_t *client)
{
    if (client->link.connect_timer.timer_set) {
        ngx_del_timer(&client->link.connect_timer);
    }

    client->state = NGX_HTTP_MOBISPOT_REDIS_READY;
    client->link.backoff = client->conf->backoff_min;
    client->failures = 0;

    ngx_log_error(NGX_LOG_INFO, client->log, 0,
                  "mobispot: connected to redis %V", &client->conf->address);
}


/*
 * A connection that was up is lost (Redis closed it: CLIENT KILL, a
 * timeout of its own, a restart; or an I/O or protocol error).  The first
 * such loss is not a failure: the connection is made again at once, and,
 * as at worker start, calls are taken and wait behind AUTH and SELECT
 * while it is made.  At most one such reconnect is made per backoff_min
 * (100 ms): a connection lost again sooner counts as a failed attempt and
 * the backoff applies (a server that accepts and closes at once is not
 * reconnected in a loop).
 */

static void
ngx_http_mobispot_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_mobispot_redis_client_t *client = ac->data;

    ngx_uint_t                        was_up;

    if (ngx_http_mobispot_redis_link_gone(&client->link, ac)) {
        /* lost by hiredis itself: EOF, I/O or protocol error */
        was_up = client->state == NGX_HTTP_MOBISPOT_REDIS_READY;

        client->state = NGX_HTTP_MOBISPOT_REDIS_DISCONNECTED;
        ngx_http_mobispot_redis_untracked(client);

        if (!client->link.exiting) {
            ngx_log_error(NGX_LOG_ERR, client->log, 0,
                          "mobispot: lost connection to redis %V: %s",
                          &client->conf->address,
                          ac->errstr[0] ? ac->errstr : "closed");
        }

        if (was_up && !client->link.reconnect_timer.timer_set) {

            if (!client->reconnected
                || ngx_current_msec - client->reconnected_at
                   >= client->conf->backoff_min)
            {
                if (ngx_exiting || ngx_terminate || ngx_quit) {
                    return;
                }

                client->reconnected = 1;
                client->reconnected_at = ngx_current_msec;

                /* hiredis frees the old context when this returns */
                ngx_http_mobispot_redis_connect(client);
                return;
            }

            client->failures++;
        }
    }

    ngx_http_mobispot_redis_link_schedule(&client->link);
}


static void
ngx_http_mobispot_redis_connect_timeout_handler(ngx_event_t *ev)
{
    ngx_http_mobispot_redis_client_t *client = ev->data;

    ngx_log_error(ngx_http_mobispot_redis_fail_level(client), client->log, 0,
                  "mobispot: connect to redis %V timed out after %M ms",
                  &client->conf->address, client->conf->connect_timeout);

    client->failures++;
    ngx_http_mobispot_redis_drop(client);
}


/*
 * During an outage a worker tries every 2 s or so: the first failure and
 * then one in 30 (about one a minute) are errors, the others are logged
 * at info level, so that an outage does not flood the error log.
 */

static ngx_uint_t
ngx_http_mobispot_redis_fail_level(ngx_http_mobispot_redis_client_t *client)
{
    return client->failures % 30 == 0 ? NGX_LOG_ERR : NGX_LOG_INFO;
}


/* an attempt to connect failed: calls fail fast until one succeeds */

static void
ngx_http_mobispot_redis_failed(ngx_http_mobispot_redis_client_t *client)
{
    client->failures++;
    ngx_http_mobispot_redis_link_schedule(&client->link);
}


/*
 * Tears the connection down now: every pending command is called back with
 * NULL (so every call ends as lost), and a reconnect is scheduled.  Inside a
 * hiredis callback the actual free is deferred by hiredis until the callback
 * returns.
 */

void
ngx_http_mobispot_redis_drop(ngx_http_mobispot_redis_client_t *client)
{
    redisAsyncContext  *ac;

    ac = ngx_http_mobispot_redis_link_detach(&client->link);

    client->state = NGX_HTTP_MOBISPOT_REDIS_DISCONNECTED;
    ngx_http_mobispot_redis_untracked(client);

    if (ac != NULL) {
        redisAsyncFree(ac);
    }

    ngx_http_mobispot_redis_link_schedule(&client->link);
}


/*
 * One connection and its reconnect cycle, for the client and for every
 * subscriber.  The owner sets conf, log, data, what, backoff,
 * connect_timeout and the callbacks, then calls link_init() with the
 * handler of its connect timer.
 */

void
ngx_http_mobispot_redis_link_init(ngx_http_mobispot_redis_link_t *link,
    ngx_event_handler_pt timeout_handler)
{
    link->connect_timer.handler = timeout_handler;
    link->connect_timer.data = link->data;
    link->connect_timer.log = link->log;

    /* a pending reconnect must not hold back a graceful shutdown */
    link->reconnect_timer.handler =
                               ngx_http_mobispot_redis_link_reconnect_handler;
    link->reconnect_timer.data = link;
    link->reconnect_timer.log = link->log;
    link->reconnect_timer.cancelable = 1;
}


/*
 * Starts a connect: the context, wrapped in an nginx connection, with the
 * owner's callbacks and the connect timer.  NGX_ERROR (logged at level):
 * nothing is held, and the owner decides when to try again.
 */

ngx_int_t
ngx_http_mobispot_redis_link_open(ngx_http_mobispot_redis_link_t *link,
    ngx_uint_t level)
{
    int                              on;
    redisAsyncContext               *ac;
    ngx_http_mobispot_redis_conf_t  *conf;

    conf = link->conf;

    if (conf->port == 0) {
        ac = redisAsyncConnectUnix((const char *) conf->host.data);

    } else {
        ac = redisAsyncConnect((const char *) conf->host.data, conf->port);
    }

    if (ac == NULL || ac->err) {
        ngx_log_error(level, link->log, 0,
                      "mobispot: cannot connect to redis %V%s: %s",
                      &conf->address, link->what,
                      ac ? ac->errstr : "out of memory");
        if (ac) {
            redisAsyncFree(ac);
        }

        return NGX_ERROR;
    }

    /* a silent peer is noticed in seconds, not hours */

    if (link->keepalive && conf->port != 0) {
        on = 1;
        (void) setsockopt(ac->c.fd, SOL_SOCKET, SO_KEEPALIVE, &on,
                          sizeof(int));
#ifdef TCP_KEEPIDLE
        on = 2;
        (void) setsockopt(ac->c.fd, IPPROTO_TCP, TCP_KEEPIDLE, &on,
                          sizeof(int));
        on = 1;
        (void) setsockopt(ac->c.fd, IPPROTO_TCP, TCP_KEEPINTVL, &on,
                          sizeof(int));
        on = 2;
        (void) setsockopt(ac->c.fd, IPPROTO_TCP, TCP_KEEPCNT, &on,
                          sizeof(int));
#endif
    }

    if (ngx_http_mobispot_redis_attach(ac, link->log) != NGX_OK) {
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    ac->data = link->data;
    link->ac = ac;

    /* both calls can only fail when a callback is already set */
    (void) redisAsyncSetDisconnectCallback(ac, link->on_disconnect);
    (void) redisAsyncSetConnectCallback(ac, link->on_connect);

    ngx_add_timer(&link->connect_timer, link->connect_timeout);

    return NGX_OK;
}


/*
 * hiredis lost ac, or its connect failed: whether it was the link's
 * current context (now forgotten, its connect timer stopped).
 */

ngx_uint_t
ngx_http_mobispot_redis_link_gone(ngx_http_mobispot_redis_link_t *link,
    const redisAsyncContext *ac)
{
    if (link->ac != ac) {
        return 0;
    }

    link->ac = NULL;

    if (link->connect_timer.timer_set) {
        ngx_del_timer(&link->connect_timer);
    }

    return 1;
}


/*
 * The link lets its context go: the owner frees it (redisAsyncFree) once
 * it has noted the loss.
 */

redisAsyncContext *
ngx_http_mobispot_redis_link_detach(ngx_http_mobispot_redis_link_t *link)
{
    redisAsyncContext  *ac;

    if (link->connect_timer.timer_set) {
        ngx_del_timer(&link->connect_timer);
    }

    ac = link->ac;
    link->ac = NULL;

    return ac;
}


/* the next attempt, after the backoff */

void
ngx_http_mobispot_redis_link_schedule(ngx_http_mobispot_redis_link_t *link)
{
    ngx_msec_t  delay;

    if (link->exiting || link->reconnect_timer.timer_set) {
        return;
    }

    delay = mobispot_backoff_jitter(link->backoff, (unsigned) ngx_random());
    link->backoff = mobispot_backoff_next(link->backoff,
                                          link->conf->backoff_min,
                                          link->conf->backoff_max);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, link->log, 0,
                   "mobispot: redis%s reconnect in %M ms", link->what, delay);

    ngx_add_timer(&link->reconnect_timer, delay);
}


/* the owner goes: no reconnect from now on */

void
ngx_http_mobispot_redis_link_stop(ngx_http_mobispot_redis_link_t *link)
{
    link->exiting = 1;

    if (link->reconnect_timer.timer_set) {
        ngx_del_timer(&link->reconnect_timer);
    }
}


static void
ngx_http_mobispot_redis_link_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_mobispot_redis_link_t  *link = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    link->connect(link->data);
}
