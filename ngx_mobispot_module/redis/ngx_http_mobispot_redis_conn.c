
/*
 * Copyright (C) Mobispot
 *
 * The client's connection: connect, AUTH/SELECT, the connect timeout,
 * losses, and reconnects with backoff.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "redis/ngx_http_mobispot_redis.h"
#include "redis/ngx_http_mobispot_redis_int.h"


static void ngx_http_mobispot_redis_connect(
    ngx_http_mobispot_redis_client_t *client);
static void ngx_http_mobispot_redis_schedule(
    ngx_http_mobispot_redis_client_t *client);
static void ngx_http_mobispot_redis_reconnect_handler(ngx_event_t *ev);
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
    client->connect_timer.handler =
                              ngx_http_mobispot_redis_connect_timeout_handler;
    client->connect_timer.data = client;
    client->connect_timer.log = client->log;

    /* a pending reconnect must not hold back a graceful shutdown */
    client->reconnect_timer.handler = ngx_http_mobispot_redis_reconnect_handler;
    client->reconnect_timer.data = client;
    client->reconnect_timer.log = client->log;
    client->reconnect_timer.cancelable = 1;

    ngx_http_mobispot_redis_connect(client);
}


static void
ngx_http_mobispot_redis_connect(ngx_http_mobispot_redis_client_t *client)
{
    redisAsyncContext               *ac;
    ngx_http_mobispot_redis_conf_t  *conf;

    if (client->ac != NULL || client->exiting) {
        return;
    }

    conf = client->conf;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, client->log, 0,
                   "mobispot: connecting to redis %V", &conf->address);

    if (conf->port == 0) {
        ac = redisAsyncConnectUnix((const char *) conf->host.data);

    } else {
        ac = redisAsyncConnect((const char *) conf->host.data, conf->port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, client->log, 0,
                      "mobispot: redis %V: out of memory", &conf->address);
        ngx_http_mobispot_redis_failed(client);
        return;
    }

    if (ac->err) {
        ngx_log_error(ngx_http_mobispot_redis_fail_level(client),
                      client->log, 0,
                      "mobispot: cannot connect to redis %V: %s",
                      &conf->address, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_mobispot_redis_failed(client);
        return;
    }

    if (ngx_http_mobispot_redis_attach(ac, client->log) != NGX_OK) {
        redisAsyncFree(ac);
        ngx_http_mobispot_redis_failed(client);
        return;
    }

    ac->data = client;
    client->ac = ac;
    client->state = NGX_HTTP_MOBISPOT_REDIS_CONNECTING;

    /* both calls can only fail when a callback is already set */
    (void) redisAsyncSetDisconnectCallback(ac,
                                        ngx_http_mobispot_redis_on_disconnect);
    (void) redisAsyncSetConnectCallback(ac, ngx_http_mobispot_redis_on_connect);

    /*
     * AUTH and SELECT go first into hiredis's output buffer, so that they
     * precede every call taken while the connection is being made.
     */

    client->handshake = 0;

    if (conf->password.len) {
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

    ngx_add_timer(&client->connect_timer, conf->connect_timeout);
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

        if (client->ac == cac) {
            client->ac = NULL;
            client->state = NGX_HTTP_MOBISPOT_REDIS_DISCONNECTED;
            ngx_http_mobispot_redis_untracked(client);

            if (client->connect_timer.timer_set) {
                ngx_del_timer(&client->connect_timer);
            }
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

    if (rep == NULL || client->ac != ac) {
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
    if (client->connect_timer.timer_set) {
        ngx_del_timer(&client->connect_timer);
    }

    client->state = NGX_HTTP_MOBISPOT_REDIS_READY;
    client->backoff = client->conf->backoff_min;
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

    if (client->ac == ac) {
        /* lost by hiredis itself: EOF, I/O or protocol error */
        was_up = client->state == NGX_HTTP_MOBISPOT_REDIS_READY;

        client->ac = NULL;
        client->state = NGX_HTTP_MOBISPOT_REDIS_DISCONNECTED;
        ngx_http_mobispot_redis_untracked(client);

        if (client->connect_timer.timer_set) {
            ngx_del_timer(&client->connect_timer);
        }

        if (!client->exiting) {
            ngx_log_error(NGX_LOG_ERR, client->log, 0,
                          "mobispot: lost connection to redis %V: %s",
                          &client->conf->address,
                          ac->errstr[0] ? ac->errstr : "closed");
        }

        if (was_up && !client->reconnect_timer.timer_set) {

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

    ngx_http_mobispot_redis_schedule(client);
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
    ngx_http_mobispot_redis_schedule(client);
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

    if (client->connect_timer.timer_set) {
        ngx_del_timer(&client->connect_timer);
    }

    ac = client->ac;

    client->ac = NULL;
    client->state = NGX_HTTP_MOBISPOT_REDIS_DISCONNECTED;
    ngx_http_mobispot_redis_untracked(client);

    if (ac != NULL) {
        redisAsyncFree(ac);
    }

    ngx_http_mobispot_redis_schedule(client);
}


static void
ngx_http_mobispot_redis_schedule(ngx_http_mobispot_redis_client_t *client)
{
    ngx_msec_t  delay;

    if (client->exiting || client->reconnect_timer.timer_set) {
        return;
    }

    delay = mobispot_backoff_jitter(client->backoff, (unsigned) ngx_random());
    client->backoff = mobispot_backoff_next(client->backoff,
                                            client->conf->backoff_min,
                                            client->conf->backoff_max);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, client->log, 0,
                   "mobispot: redis reconnect in %M ms", delay);

    ngx_add_timer(&client->reconnect_timer, delay);
}


static void
ngx_http_mobispot_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_mobispot_redis_client_t *client = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_http_mobispot_redis_connect(client);
}


