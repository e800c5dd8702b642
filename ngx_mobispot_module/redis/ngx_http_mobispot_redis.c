
/*
 * Copyright (C) Mobispot
 *
 * The worker's Redis client.
 *
 * hiredis's async API is driven by nginx's event loop through the adapter
 * below: the socket hiredis opens is wrapped in an nginx connection, and
 * hiredis's add/del read/write hooks become nginx events (level-triggered,
 * as hiredis expects).  hiredis 0.14 has no timeouts: the connect timeout
 * and the per-call timeouts are nginx timers.
 *
 * Lifetimes:
 *  - the client lives as long as the worker (created in init_process from
 *    the cycle pool, destroyed in exit_process);
 *  - a call is a small heap object handed to hiredis as privdata; hiredis
 *    calls back every command exactly once (with a reply, or with NULL when
 *    the connection goes away), and the call is freed after its last
 *    callback;
 *  - the request of a call may go first: a cleanup on the request pool then
 *    detaches it, and the replies that come later are dropped.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "redis/ngx_http_mobispot_redis.h"


#define NGX_HTTP_MOBISPOT_REDIS_DISCONNECTED  0
#define NGX_HTTP_MOBISPOT_REDIS_CONNECTING    1
#define NGX_HTTP_MOBISPOT_REDIS_HANDSHAKE     2
#define NGX_HTTP_MOBISPOT_REDIS_READY         3


struct ngx_http_mobispot_redis_client_s {
    ngx_http_mobispot_redis_conf_t    *conf;
    ngx_log_t                         *log;

    redisAsyncContext                 *ac;
    ngx_uint_t                         state;
    ngx_uint_t                         handshake;   /* replies still due */
    ngx_uint_t                         failures;    /* attempts in a row */

    ngx_uint_t                         pending;     /* commands in hiredis */
    ngx_queue_t                        calls;

    const char                        *not_serving; /* the last such word */

    ngx_msec_t                         backoff;
    ngx_event_t                        connect_timer;
    ngx_event_t                        reconnect_timer;

    /* client-side caching: see ngx_http_mobispot_redis_track() */
    ngx_http_mobispot_redis_sub_t     *tracker;
    long long                          tracker_id;    /* subscribed: id */
    long long                          tracker_next;  /* read, not yet */
    ngx_uint_t                         tracking_sent; /* in flight */
    ngx_http_mobispot_redis_invalidate_pt  invalidate;
    void                              *invalidate_data;
    ngx_event_t                        synced;  /* posted: read this turn */

    unsigned                           tracking:1;
    unsigned                           exiting:1;
};


typedef struct {
    ngx_queue_t                        queue;
    ngx_http_mobispot_redis_client_t  *client;

    ngx_http_request_t                *request;     /* NULL once detached */
    ngx_pool_cleanup_t                *cleanup;

    ngx_http_mobispot_redis_reply_pt   on_reply;
    ngx_http_mobispot_redis_done_pt    on_done;
    void                              *data;

    ngx_uint_t                         sent;
    ngx_uint_t                         received;
    ngx_int_t                          status;

    ngx_event_t                        timer;
} ngx_http_mobispot_redis_call_t;


static void ngx_http_mobispot_redis_connect(
    ngx_http_mobispot_redis_client_t *client);
static void ngx_http_mobispot_redis_drop(
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
static ngx_uint_t ngx_http_mobispot_redis_accepting(
    ngx_http_mobispot_redis_client_t *client);
static ngx_uint_t ngx_http_mobispot_redis_fail_level(
    ngx_http_mobispot_redis_client_t *client);

static ngx_int_t ngx_http_mobispot_redis_attach(redisAsyncContext *ac,
    ngx_log_t *log);
static void ngx_http_mobispot_redis_add_read(void *privdata);
static void ngx_http_mobispot_redis_del_read(void *privdata);
static void ngx_http_mobispot_redis_add_write(void *privdata);
static void ngx_http_mobispot_redis_del_write(void *privdata);
static void ngx_http_mobispot_redis_cleanup(void *privdata);
static void ngx_http_mobispot_redis_read_handler(ngx_event_t *ev);
static void ngx_http_mobispot_redis_write_handler(ngx_event_t *ev);

static void ngx_http_mobispot_redis_on_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_call_timeout(ngx_event_t *ev);
static void ngx_http_mobispot_redis_call_cleanup(void *data);
static void ngx_http_mobispot_redis_call_detach(
    ngx_http_mobispot_redis_call_t *call);

static void ngx_http_mobispot_redis_track_send(
    ngx_http_mobispot_redis_client_t *client);
static void ngx_http_mobispot_redis_untracked(
    ngx_http_mobispot_redis_client_t *client);


ngx_http_mobispot_redis_client_t *
ngx_http_mobispot_redis_client_create(ngx_cycle_t *cycle,
    ngx_http_mobispot_redis_conf_t *conf)
{
    ngx_http_mobispot_redis_client_t  *client;

    client = ngx_pcalloc(cycle->pool, sizeof(ngx_http_mobispot_redis_client_t));
    if (client == NULL) {
        return NULL;
    }

    client->conf = conf;
    client->log = cycle->log;
    client->state = NGX_HTTP_MOBISPOT_REDIS_DISCONNECTED;
    client->backoff = conf->backoff_min;

    ngx_queue_init(&client->calls);

    client->connect_timer.handler =
                              ngx_http_mobispot_redis_connect_timeout_handler;
    client->connect_timer.data = client;
    client->connect_timer.log = cycle->log;

    /* a pending reconnect must not hold back a graceful shutdown */
    client->reconnect_timer.handler = ngx_http_mobispot_redis_reconnect_handler;
    client->reconnect_timer.data = client;
    client->reconnect_timer.log = cycle->log;
    client->reconnect_timer.cancelable = 1;

    ngx_http_mobispot_redis_connect(client);

    return client;
}


void
ngx_http_mobispot_redis_client_destroy(ngx_http_mobispot_redis_client_t *client)
{
    ngx_queue_t                     *q;
    ngx_http_mobispot_redis_call_t  *call;

    client->exiting = 1;

    /* the worker is going: no request may be called back from now on */

    for (q = ngx_queue_head(&client->calls);
         q != ngx_queue_sentinel(&client->calls);
         q = ngx_queue_next(q))
    {
        call = ngx_queue_data(q, ngx_http_mobispot_redis_call_t, queue);
        ngx_http_mobispot_redis_call_detach(call);

        if (call->timer.timer_set) {
            ngx_del_timer(&call->timer);
        }
    }

    if (client->reconnect_timer.timer_set) {
        ngx_del_timer(&client->reconnect_timer);
    }

    if (client->tracker != NULL) {
        ngx_http_mobispot_redis_unsubscribe(client->tracker);
        client->tracker = NULL;
    }

    if (client->synced.posted) {
        ngx_delete_posted_event(&client->synced);
    }

    /* hiredis calls every pending command back with NULL: the calls go */
    ngx_http_mobispot_redis_drop(client);
}


/* why the last call that ended as not serving did: LOADING, BUSY, ... */

const char *
ngx_http_mobispot_redis_not_serving(ngx_http_mobispot_redis_client_t *client)
{
    if (client == NULL || client->not_serving == NULL) {
        return "not serving";
    }

    return client->not_serving;
}


ngx_uint_t
ngx_http_mobispot_redis_ready(ngx_http_mobispot_redis_client_t *client)
{
    return client != NULL
           && client->state == NGX_HTTP_MOBISPOT_REDIS_READY;
}


/*
 * Whether a call may be sent now.  While the first attempt to connect (at
 * worker start, as after a reload, or right after a lost connection) is
 * under way, calls are taken and wait in hiredis's buffer behind AUTH and
 * SELECT: a fresh worker does not answer 503 in its first milliseconds.
 * Once an attempt has failed, calls fail at once until one succeeds.
 */

static ngx_uint_t
ngx_http_mobispot_redis_accepting(ngx_http_mobispot_redis_client_t *client)
{
    if (client == NULL || client->ac == NULL) {
        return 0;
    }

    return client->state == NGX_HTTP_MOBISPOT_REDIS_READY
           || client->failures == 0;
}


/*
 * Sends n commands in one go (they reach Redis back to back, pipelined with
 * the other requests' commands).  NGX_OK: on_done will be called once, when
 * all replies are in, or on timeout, or when the connection is lost.
 * NGX_DECLINED: Redis is not connected now; NGX_BUSY: too many commands in
 * flight; NGX_ERROR: out of memory.  On anything but NGX_OK nothing was
 * sent and nothing will be called back.
 */

ngx_int_t
ngx_http_mobispot_redis_call(ngx_http_request_t *r,
    ngx_http_mobispot_redis_client_t *client,
    ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t n,
    ngx_http_mobispot_redis_reply_pt on_reply,
    ngx_http_mobispot_redis_done_pt on_done, void *data)
{
    ngx_uint_t                       i;
    ngx_pool_cleanup_t              *cln;
    ngx_http_mobispot_redis_call_t  *call;

    if (!ngx_http_mobispot_redis_accepting(client)) {
        return NGX_DECLINED;
    }

    if (n == 0 || client->pending + n > client->conf->max_pending) {
        return NGX_BUSY;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    call = ngx_calloc(sizeof(ngx_http_mobispot_redis_call_t),
                      r->connection->log);
    if (call == NULL) {
        return NGX_ERROR;
    }

    call->client = client;
    call->request = r;
    call->cleanup = cln;
    call->on_reply = on_reply;
    call->on_done = on_done;
    call->data = data;
    call->status = NGX_HTTP_MOBISPOT_REDIS_OK;

    for (i = 0; i < n; i++) {
        if (redisAsyncCommandArgv(client->ac, ngx_http_mobispot_redis_on_reply,
                                  call, cmds[i].argc, cmds[i].argv,
                                  cmds[i].argvlen)
            != REDIS_OK)
        {
            break;
        }

        call->sent++;
        client->pending++;
    }

    if (call->sent == 0) {
        ngx_free(call);
        return NGX_DECLINED;
    }

    if (call->sent < n) {
        /* the context is going away: the sent ones will come back NULL */
        call->status = NGX_HTTP_MOBISPOT_REDIS_LOST;
    }

    cln->handler = ngx_http_mobispot_redis_call_cleanup;
    cln->data = call;

    call->timer.handler = ngx_http_mobispot_redis_call_timeout;
    call->timer.data = call;
    call->timer.log = r->connection->log;
    ngx_add_timer(&call->timer, client->conf->timeout);

    ngx_queue_insert_tail(&client->calls, &call->queue);

    return NGX_OK;
}


static void
ngx_http_mobispot_redis_on_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_call_t  *call = privdata;

    ngx_uint_t                        index;
    const char                       *word;
    ngx_connection_t                 *c;
    ngx_http_request_t               *r;
    ngx_http_mobispot_redis_client_t *client;

    /* the not-serving line: at most once a second per worker */
    static time_t                     not_serving_last;
    static ngx_uint_t                 not_serving_skipped;

    client = call->client;
    client->pending--;
    index = call->received++;

    if (reply == NULL) {
        if (call->status == NGX_HTTP_MOBISPOT_REDIS_OK) {
            call->status = NGX_HTTP_MOBISPOT_REDIS_LOST;
        }

    } else if (call->status == NGX_HTTP_MOBISPOT_REDIS_OK
               && (word = mobispot_reply_not_serving(reply)) != NULL)
    {
        /* the call ends as unavailable: its route never sees the reply */

        call->status = NGX_HTTP_MOBISPOT_REDIS_NOT_SERVING;
        client->not_serving = word;

        if (not_serving_last == ngx_time()) {
            not_serving_skipped++;

        } else {
            ngx_log_error(NGX_LOG_WARN, client->log, 0,
                          "mobispot: redis %V is not serving (%s): requests "
                          "get 503 (%ui such lines left out)",
                          &client->conf->address, word, not_serving_skipped);

            not_serving_last = ngx_time();
            not_serving_skipped = 0;
        }

    } else if (call->request != NULL
               && call->status == NGX_HTTP_MOBISPOT_REDIS_OK
               && call->on_reply != NULL)
    {
        call->on_reply(call->request, call->data, index, reply);
    }

    if (call->received < call->sent) {
        return;
    }

    /* the last reply of the call */

    ngx_queue_remove(&call->queue);

    if (call->timer.timer_set) {
        ngx_del_timer(&call->timer);
    }

    r = call->request;

    if (r == NULL) {
        ngx_free(call);
        return;
    }

    ngx_http_mobispot_redis_call_detach(call);

    c = r->connection;
    call->on_done(r, call->data, call->status);
    ngx_free(call);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_mobispot_redis_call_timeout(ngx_event_t *ev)
{
    ngx_http_mobispot_redis_call_t  *call = ev->data;

    ngx_connection_t                 *c;
    ngx_http_request_t               *r;
    ngx_http_mobispot_redis_client_t *client;

    client = call->client;
    r = call->request;
    c = NULL;

    ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                  "mobispot: redis %V did not answer within %M ms",
                  &client->conf->address, client->conf->timeout);

    if (r != NULL) {
        call->status = NGX_HTTP_MOBISPOT_REDIS_TIMEOUT;
        ngx_http_mobispot_redis_call_detach(call);

        c = r->connection;
        call->on_done(r, call->data, NGX_HTTP_MOBISPOT_REDIS_TIMEOUT);
    }

    /*
     * Redis answers in order: whatever was sent after the late command is
     * stuck behind it.  The connection is dropped (its other calls end at
     * once as lost) and made anew; the call itself is freed by its last
     * NULL callback.  This happens for a call whose request went away too:
     * otherwise a stuck connection whose clients all gave up early would
     * never be noticed.
     */

    ngx_http_mobispot_redis_drop(client);

    if (c != NULL) {
        ngx_http_run_posted_requests(c);
    }
}


/* the request pool is being destroyed */

static void
ngx_http_mobispot_redis_call_cleanup(void *data)
{
    ngx_http_mobispot_redis_call_t  *call = data;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, call->timer.log, 0,
                   "mobispot: request gone while its redis call is pending");

    ngx_http_mobispot_redis_call_detach(call);
}


/*
 * The call no longer belongs to a request; its timer keeps running, now
 * logging to the worker's log, as the request's log goes with it.
 */

static void
ngx_http_mobispot_redis_call_detach(ngx_http_mobispot_redis_call_t *call)
{
    call->request = NULL;
    call->timer.log = call->client->log;

    if (call->cleanup != NULL) {
        call->cleanup->handler = NULL;
        call->cleanup = NULL;
    }
}


/* connection management */

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


static void
ngx_http_mobispot_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_mobispot_redis_client_t *client = ac->data;

    if (client->ac == ac) {
        /* lost by hiredis itself: EOF, I/O or protocol error */
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

static void
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


/* the adapter: hiredis's socket as an nginx connection */

static ngx_int_t
ngx_http_mobispot_redis_attach(redisAsyncContext *ac, ngx_log_t *log)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(ac->c.fd, log);
    if (c == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "mobispot: no free connection for redis");
        return NGX_ERROR;
    }

    c->data = ac;
    c->read->handler = ngx_http_mobispot_redis_read_handler;
    c->write->handler = ngx_http_mobispot_redis_write_handler;
    c->read->log = log;
    c->write->log = log;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_mobispot_redis_add_read;
    ac->ev.delRead = ngx_http_mobispot_redis_del_read;
    ac->ev.addWrite = ngx_http_mobispot_redis_add_write;
    ac->ev.delWrite = ngx_http_mobispot_redis_del_write;
    ac->ev.cleanup = ngx_http_mobispot_redis_cleanup;

    return NGX_OK;
}


static void
ngx_http_mobispot_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    /* the context may be freed in there, and c with it */
    redisAsyncHandleRead(c->data);
}


static void
ngx_http_mobispot_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    /* ready again once hiredis has written everything (del_write) */
    ev->ready = 0;

    redisAsyncHandleWrite(c->data);
}


static void
ngx_http_mobispot_redis_add_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "mobispot: cannot watch redis socket for reading");
        }
    }
}


static void
ngx_http_mobispot_redis_del_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


/*
 * Commands were queued.  When the socket took everything the last time
 * (write->ready), they are written at the end of this event loop
 * iteration, after the other ready events (so the commands of all the
 * requests of the iteration go in one write), without asking epoll
 * whether the socket is writable: that saves two epoll_ctl() calls and a
 * trip through epoll_wait() per batch.  Otherwise (connecting, or the
 * last write was partial) epoll says when to write.
 */

static void
ngx_http_mobispot_redis_add_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    redisAsyncContext  *ac;

    ac = c->data;

    if (c->write->ready && (ac->c.flags & REDIS_CONNECTED)) {
        if (!c->write->posted) {
            ngx_post_event(c->write, &ngx_posted_events);
        }

        return;
    }

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "mobispot: cannot watch redis socket for writing");
        }
    }
}


static void
ngx_http_mobispot_redis_del_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    /* hiredis wrote all it had: the next batch may be written at once */
    c->write->ready = 1;

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis is about to close the socket: give the nginx connection back */

static void
ngx_http_mobispot_redis_cleanup(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    ngx_free_connection(c);

    /* the socket is hiredis's: it closes it */
    c->fd = (ngx_socket_t) -1;
}


/*
 * The subscriber: its own connection and reconnect cycle, on the same
 * adapter.  While connecting, the connect timer covers the whole
 * handshake (connect, AUTH/SELECT, snapshot, SUBSCRIBE confirmation).
 */

struct ngx_http_mobispot_redis_sub_s {
    ngx_http_mobispot_redis_conf_t      *conf;
    ngx_http_mobispot_redis_sub_conf_t   sc;
    ngx_log_t                           *log;

    redisAsyncContext                   *ac;
    ngx_msec_t                           backoff;
    ngx_event_t                          connect_timer;
    ngx_event_t                          reconnect_timer;

    unsigned                             up:1;
    unsigned                             exiting:1;
};


static void ngx_http_mobispot_redis_sub_connect(
    ngx_http_mobispot_redis_sub_t *sub);
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
static void ngx_http_mobispot_redis_sub_schedule(
    ngx_http_mobispot_redis_sub_t *sub);
static void ngx_http_mobispot_redis_sub_reconnect_handler(ngx_event_t *ev);
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
    sub->backoff = conf->backoff_min;

    sub->connect_timer.handler = ngx_http_mobispot_redis_sub_timeout_handler;
    sub->connect_timer.data = sub;
    sub->connect_timer.log = cycle->log;
    sub->connect_timer.cancelable = 1;

    sub->reconnect_timer.handler =
                                ngx_http_mobispot_redis_sub_reconnect_handler;
    sub->reconnect_timer.data = sub;
    sub->reconnect_timer.log = cycle->log;
    sub->reconnect_timer.cancelable = 1;

    ngx_http_mobispot_redis_sub_connect(sub);

    return sub;
}


void
ngx_http_mobispot_redis_unsubscribe(ngx_http_mobispot_redis_sub_t *sub)
{
    sub->exiting = 1;

    if (sub->reconnect_timer.timer_set) {
        ngx_del_timer(&sub->reconnect_timer);
    }

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
    sub->backoff = 0;
    ngx_http_mobispot_redis_sub_drop(sub);
}


static void
ngx_http_mobispot_redis_sub_connect(ngx_http_mobispot_redis_sub_t *sub)
{
    int                              on;
    redisAsyncContext               *ac;
    ngx_http_mobispot_redis_conf_t  *conf;

    if (sub->ac != NULL || sub->exiting) {
        return;
    }

    conf = sub->conf;

    if (conf->port == 0) {
        ac = redisAsyncConnectUnix((const char *) conf->host.data);

    } else {
        ac = redisAsyncConnect((const char *) conf->host.data, conf->port);
    }

    if (ac == NULL || ac->err) {
        ngx_log_error(NGX_LOG_ERR, sub->log, 0,
                      "mobispot: cannot connect to redis %V for the "
                      "subscription: %s", &conf->address,
                      ac ? ac->errstr : "out of memory");
        if (ac) {
            redisAsyncFree(ac);
        }

        ngx_http_mobispot_redis_sub_schedule(sub);
        return;
    }

    /* a silent peer is noticed in seconds, not hours */

    if (conf->port != 0) {
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

    if (ngx_http_mobispot_redis_attach(ac, sub->log) != NGX_OK) {
        redisAsyncFree(ac);
        ngx_http_mobispot_redis_sub_schedule(sub);
        return;
    }

    ac->data = sub;
    sub->ac = ac;

    (void) redisAsyncSetDisconnectCallback(ac,
                                    ngx_http_mobispot_redis_sub_on_disconnect);
    (void) redisAsyncSetConnectCallback(ac,
                                    ngx_http_mobispot_redis_sub_on_connect);

    /* the connect, then the handshake, the snapshot and the SUBSCRIBE */
    ngx_add_timer(&sub->connect_timer, conf->connect_timeout
                                       + 2 * conf->timeout);
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

        if (sub->ac == cac) {
            sub->ac = NULL;

            if (sub->connect_timer.timer_set) {
                ngx_del_timer(&sub->connect_timer);
            }
        }

        ngx_http_mobispot_redis_sub_schedule(sub);
        return;
    }

    ac = sub->ac;

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

    if (reply == NULL || sub->ac != ac) {
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

    if (rep == NULL || sub->ac != ac) {
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

    if (rep == NULL || sub->ac != ac) {
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
        if (sub->connect_timer.timer_set) {
            ngx_del_timer(&sub->connect_timer);
        }

        sub->backoff = sub->conf->backoff_min;
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

    if (sub->ac == ac) {
        sub->ac = NULL;

        if (sub->connect_timer.timer_set) {
            ngx_del_timer(&sub->connect_timer);
        }

        if (!sub->exiting) {
            ngx_log_error(NGX_LOG_ERR, sub->log, 0,
                          "mobispot: lost the subscription to \"%s\" on "
                          "redis %V: %s", sub->sc.channel,
                          &sub->conf->address,
                          ac->errstr[0] ? ac->errstr : "closed");
        }

        ngx_http_mobispot_redis_sub_down(sub);
    }

    ngx_http_mobispot_redis_sub_schedule(sub);
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

    if (sub->connect_timer.timer_set) {
        ngx_del_timer(&sub->connect_timer);
    }

    ac = sub->ac;
    sub->ac = NULL;

    ngx_http_mobispot_redis_sub_down(sub);

    if (ac != NULL) {
        redisAsyncFree(ac);
    }

    ngx_http_mobispot_redis_sub_schedule(sub);
}


static void
ngx_http_mobispot_redis_sub_schedule(ngx_http_mobispot_redis_sub_t *sub)
{
    ngx_msec_t  delay;

    if (sub->exiting || sub->reconnect_timer.timer_set) {
        return;
    }

    delay = mobispot_backoff_jitter(sub->backoff, (unsigned) ngx_random());
    sub->backoff = mobispot_backoff_next(sub->backoff, sub->conf->backoff_min,
                                         sub->conf->backoff_max);

    ngx_add_timer(&sub->reconnect_timer, delay);
}


static void
ngx_http_mobispot_redis_sub_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_mobispot_redis_sub_t *sub = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_http_mobispot_redis_sub_connect(sub);
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


/*
 * Client-side caching.  Redis (6 and later) remembers which keys a
 * connection with tracking on has read, and when one of them changes it
 * sends the key's name, once, to the connection the tracking redirects to:
 * here the worker's tracker, a subscriber of "__redis__:invalidate" whose
 * CLIENT ID is read as its snapshot.  Once a key has been named, Redis
 * forgets it: a reader must read the key again to hear of its next change.
 *
 * The client's connection asks for tracking (CLIENT TRACKING on REDIRECT
 * <tracker id>) whenever it connects while the tracker is subscribed, and
 * whenever the tracker subscribes anew (with a new id).  It tells it
 * tracks only once Redis has said OK to the last such command.  Whenever
 * either connection goes, it no longer tracks and everything is taken as
 * changed: invalidations may have been sent to a tracker that is gone.
 */

static void ngx_http_mobispot_redis_synced_handler(ngx_event_t *ev);
static void ngx_http_mobispot_redis_on_tracking(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_tracker_id(void *data, redisReply *reply);
static void ngx_http_mobispot_redis_tracker_payload(void *data,
    redisReply *reply);
static void ngx_http_mobispot_redis_tracker_state(void *data, ngx_uint_t up);


ngx_int_t
ngx_http_mobispot_redis_track(ngx_http_mobispot_redis_client_t *client,
    ngx_cycle_t *cycle, ngx_http_mobispot_redis_invalidate_pt handler,
    void *data)
{
    ngx_http_mobispot_redis_sub_conf_t  sc;

    static const char    *id[] = { "CLIENT", "ID" };
    static const size_t   id_len[] = { sizeof("CLIENT") - 1,
                                       sizeof("ID") - 1 };

    client->invalidate = handler;
    client->invalidate_data = data;

    client->synced.handler = ngx_http_mobispot_redis_synced_handler;
    client->synced.data = client;
    client->synced.log = cycle->log;

    ngx_memzero(&sc, sizeof(ngx_http_mobispot_redis_sub_conf_t));

    sc.channel = "__redis__:invalidate";
    sc.snapshot.argc = 2;
    sc.snapshot.argv = id;
    sc.snapshot.argvlen = id_len;
    sc.on_snapshot = ngx_http_mobispot_redis_tracker_id;
    sc.on_payload = ngx_http_mobispot_redis_tracker_payload;
    sc.on_state = ngx_http_mobispot_redis_tracker_state;
    sc.data = client;

    client->tracker = ngx_http_mobispot_redis_subscribe(cycle, client->conf,
                                                        &sc);

    return client->tracker != NULL ? NGX_OK : NGX_ERROR;
}


/*
 * Whether what is read from now on will be followed by an invalidation
 * when it changes.
 */

ngx_uint_t
ngx_http_mobispot_redis_tracking(ngx_http_mobispot_redis_client_t *client)
{
    return client != NULL && client->tracking
           && client->state == NGX_HTTP_MOBISPOT_REDIS_READY;
}


/*
 * Applies the invalidations the tracker has received but not yet read.
 * Called before an answer is taken from a cache, so that a change whose
 * invalidation reached this host before the request did is not missed
 * because the event loop handles the request's socket before the
 * tracker's.  One read() (that usually finds nothing) per turn of the
 * event loop, not per request: the requests of one turn were read from
 * sockets that epoll reported ready at its start, and what the tracker
 * held then is read by the first of them.  A posted event marks the end
 * of the turn.
 */

void
ngx_http_mobispot_redis_sync(ngx_http_mobispot_redis_client_t *client)
{
    ngx_http_mobispot_redis_sub_t  *sub;

    sub = client->tracker;

    if (sub == NULL || !sub->up || sub->ac == NULL || client->synced.posted) {
        return;
    }

    ngx_post_event(&client->synced, &ngx_posted_events);

    redisAsyncHandleRead(sub->ac);
}


static void
ngx_http_mobispot_redis_synced_handler(ngx_event_t *ev)
{
    /* the turn is over: the next request reads the tracker again */
}


static void
ngx_http_mobispot_redis_track_send(ngx_http_mobispot_redis_client_t *client)
{
    if (client->ac == NULL || client->tracker_id == 0) {
        return;
    }

    if (redisAsyncCommand(client->ac, ngx_http_mobispot_redis_on_tracking,
                          client, "CLIENT TRACKING on REDIRECT %lld",
                          client->tracker_id)
        == REDIS_OK)
    {
        client->tracking_sent++;
    }
}


static void
ngx_http_mobispot_redis_on_tracking(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_client_t *client = privdata;

    char         word[32];
    redisReply  *rep = reply;

    client->tracking_sent--;

    if (rep == NULL || client->ac != ac) {
        return;
    }

    if (!mobispot_reply_is_status(rep, "OK")) {
        (void) mobispot_reply_error_word(rep, word, sizeof(word));
        ngx_log_error(NGX_LOG_ERR, client->log, 0,
                      "mobispot: redis %V refused CLIENT TRACKING (%s reply "
                      "%s): the API cache stays off until it accepts it",
                      &client->conf->address,
                      mobispot_reply_type_name(rep->type), word);
        return;
    }

    /* an older command's OK says nothing of the redirection now asked */

    if (client->tracking_sent == 0 && client->tracker_id != 0) {
        client->tracking = 1;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, client->log, 0,
                       "mobispot: redis tracking on, redirected to %L",
                       (int64_t) client->tracker_id);
    }
}


static void
ngx_http_mobispot_redis_untracked(ngx_http_mobispot_redis_client_t *client)
{
    client->tracking = 0;

    if (client->invalidate != NULL) {
        client->invalidate(client->invalidate_data, NULL, 0);
    }
}


static void
ngx_http_mobispot_redis_tracker_id(void *data, redisReply *reply)
{
    ngx_http_mobispot_redis_client_t *client = data;

    if (reply->type != REDIS_REPLY_INTEGER || reply->integer <= 0) {
        ngx_log_error(NGX_LOG_ERR, client->log, 0,
                      "mobispot: redis %V: unexpected reply to CLIENT ID",
                      &client->conf->address);
        client->tracker_next = 0;
        return;
    }

    client->tracker_next = reply->integer;
}


static void
ngx_http_mobispot_redis_tracker_state(void *data, ngx_uint_t up)
{
    ngx_http_mobispot_redis_client_t *client = data;

    if (up) {
        client->tracker_id = client->tracker_next;
        ngx_http_mobispot_redis_track_send(client);
        return;
    }

    client->tracker_id = 0;
    client->tracker_next = 0;
    ngx_http_mobispot_redis_untracked(client);
}


/* [key, ...]: these keys changed; nil: everything did (FLUSHALL/FLUSHDB) */

static void
ngx_http_mobispot_redis_tracker_payload(void *data, redisReply *reply)
{
    ngx_http_mobispot_redis_client_t *client = data;

    size_t       i;
    redisReply  *key;

    if (client->invalidate == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < reply->elements; i++) {
            key = reply->element[i];

            if (key->type != REDIS_REPLY_STRING) {
                client->invalidate(client->invalidate_data, NULL, 0);
                return;
            }

            client->invalidate(client->invalidate_data, (u_char *) key->str,
                               key->len);
        }

        return;
    }

    if (reply->type != REDIS_REPLY_NIL) {
        ngx_log_error(NGX_LOG_ERR, client->log, 0,
                      "mobispot: redis %V: unexpected invalidation message",
                      &client->conf->address);
    }

    client->invalidate(client->invalidate_data, NULL, 0);
}
