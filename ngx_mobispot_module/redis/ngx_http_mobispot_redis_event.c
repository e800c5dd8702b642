
/*
 * Copyright (C) Mobispot
 *
 * The adapter: hiredis's async API driven by nginx's event loop.  The
 * socket hiredis opens is wrapped in an nginx connection, and hiredis's
 * add/del read/write hooks become nginx events (level-triggered, as
 * hiredis expects).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "redis/ngx_http_mobispot_redis.h"
#include "redis/ngx_http_mobispot_redis_int.h"


static void ngx_http_mobispot_redis_add_read(void *privdata);
static void ngx_http_mobispot_redis_del_read(void *privdata);
static void ngx_http_mobispot_redis_add_write(void *privdata);
static void ngx_http_mobispot_redis_del_write(void *privdata);
static void ngx_http_mobispot_redis_cleanup(void *privdata);
static void ngx_http_mobispot_redis_read_handler(ngx_event_t *ev);
static void ngx_http_mobispot_redis_write_handler(ngx_event_t *ev);


ngx_int_t
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


