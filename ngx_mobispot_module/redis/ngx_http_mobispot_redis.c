
/*
 * Copyright (C) Mobispot
 *
 * The worker's Redis client: its life, its calls (the command queue, the
 * replies dispatched to their requests, the per-call timeouts).
 *
 * hiredis's async API is driven by nginx's event loop through the adapter
 * (redis_event.c); the connection itself is made, lost and made again in
 * redis_conn.c.  hiredis 0.14 has no timeouts: the connect timeout and the
 * per-call timeouts are nginx timers.
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
#include "redis/ngx_http_mobispot_redis_int.h"


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


static ngx_uint_t ngx_http_mobispot_redis_accepting(
    ngx_http_mobispot_redis_client_t *client);
static void ngx_http_mobispot_redis_on_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_call_timeout(ngx_event_t *ev);
static void ngx_http_mobispot_redis_call_cleanup(void *data);
static void ngx_http_mobispot_redis_call_detach(
    ngx_http_mobispot_redis_call_t *call);


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

    ngx_queue_init(&client->calls);

    ngx_http_mobispot_redis_start(client);

    return client;
}


void
ngx_http_mobispot_redis_client_destroy(ngx_http_mobispot_redis_client_t *client)
{
    ngx_queue_t                     *q;
    ngx_http_mobispot_redis_call_t  *call;

    ngx_http_mobispot_redis_link_stop(&client->link);

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

    if (client->bus != NULL) {
        ngx_http_mobispot_redis_bus_stop(client->bus);
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
    if (client == NULL || client->link.ac == NULL) {
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
    char                            *buf;
    size_t                           len;
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

    /*
     * The commands in the Redis protocol, formatted here in the request's
     * pool at once (hiredis's formatting grows its buffer piece by piece),
     * then handed to hiredis, which copies them to its output buffer.
     * hiredis 0.14 (__redisAsyncCommand) reads the byte after a command's
     * first argument to see whether another follows: for a command of one
     * word (MULTI, EXEC) that is the byte after the command, which its own
     * formatter leaves as a NUL; so is ours, or valgrind sees hiredis read
     * memory never written.
     */

    for (i = 0; i < n; i++) {
        len = mobispot_resp_len(cmds[i].argc, cmds[i].argv,
                                cmds[i].argvlen);

        /* + 1: the NUL that hiredis reads after a one-word command */

        buf = ngx_pnalloc(r->pool, len + 1);
        if (buf == NULL) {
            break;
        }

        (void) mobispot_resp_write(buf, cmds[i].argc, cmds[i].argv,
                                   cmds[i].argvlen);
        buf[len] = '\0';

        if (redisAsyncFormattedCommand(client->link.ac,
                                       ngx_http_mobispot_redis_on_reply, call,
                                       buf, len)
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


/*
 * A command of the worker's own (the heartbeat, a snapshot read again):
 * sent only on a ready connection, outside the calls and their limit.  fn
 * is called once, with NULL if the connection goes first; privdata must
 * live as long as the worker.
 */

ngx_int_t
ngx_http_mobispot_redis_send(ngx_http_mobispot_redis_client_t *client,
    ngx_http_mobispot_redis_cmd_t *cmd, redisCallbackFn *fn, void *privdata)
{
    int      rc;
    char    *buf;
    size_t   len;

    if (client->state != NGX_HTTP_MOBISPOT_REDIS_READY
        || client->link.ac == NULL)
    {
        return NGX_DECLINED;
    }

    len = mobispot_resp_len(cmd->argc, cmd->argv, cmd->argvlen);

    buf = ngx_alloc(len + 1, client->log);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    (void) mobispot_resp_write(buf, cmd->argc, cmd->argv, cmd->argvlen);
    buf[len] = '\0';

    rc = redisAsyncFormattedCommand(client->link.ac, fn, privdata, buf, len);

    ngx_free(buf);

    return (rc == REDIS_OK) ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_mobispot_redis_on_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_call_t  *call = privdata;

    ngx_uint_t                        index;
    const char                       *word;
    ngx_connection_t                 *c;
    const redisReply                 *denied;
    ngx_http_request_t               *r;
    ngx_http_mobispot_redis_client_t *client;

    /* the not-serving and ACL lines: at most once a second per worker */
    static time_t                     not_serving_last, denied_last;
    static ngx_uint_t                 not_serving_skipped, denied_skipped;

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

    } else if (call->status == NGX_HTTP_MOBISPOT_REDIS_OK
               && (denied = mobispot_reply_denied(reply)) != NULL)
    {
        /* a configuration fault, not the client's: its route never sees it */

        call->status = NGX_HTTP_MOBISPOT_REDIS_DENIED;

        if (denied_last == ngx_time()) {
            denied_skipped++;

        } else {
            ngx_log_error(NGX_LOG_ERR, client->log, 0,
                          "mobispot: redis %V refused a command by its ACL "
                          "(user \"%V\"): \"%*s\"; the request gets 502 "
                          "(%ui such lines left out)",
                          &client->conf->address, &client->conf->user,
                          (size_t) ngx_min(denied->len, 200), denied->str,
                          denied_skipped);

            denied_last = ngx_time();
            denied_skipped = 0;
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


