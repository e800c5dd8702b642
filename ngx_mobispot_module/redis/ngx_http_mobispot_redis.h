
/*
 * Copyright (C) Mobispot
 *
 * The worker's Redis client: one persistent hiredis async connection per
 * worker, driven by nginx's event loop, shared (and so pipelined) by all
 * the requests of the worker.
 */


#ifndef _NGX_HTTP_MOBISPOT_REDIS_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


/* how a call ended, as given to its done handler */
#define NGX_HTTP_MOBISPOT_REDIS_OK           0
#define NGX_HTTP_MOBISPOT_REDIS_LOST         1  /* connection lost */
#define NGX_HTTP_MOBISPOT_REDIS_TIMEOUT      2
/* LOADING, BUSY, MASTERDOWN or READONLY: up, but not serving for now */
#define NGX_HTTP_MOBISPOT_REDIS_NOT_SERVING  3
/* NOPERM: the ACL of the connection's user refuses a command, key or channel */
#define NGX_HTTP_MOBISPOT_REDIS_DENIED       4


typedef struct {
    ngx_str_t                     address;   /* as configured, for logs */
    ngx_str_t                     host;      /* NUL-terminated IP or path */
    int                           port;      /* 0 for a unix socket */
    ngx_int_t                     db;
    ngx_str_t                     user;      /* empty: AUTH <password> */
    ngx_str_t                     password;  /* empty: no AUTH */
    ngx_msec_t                    connect_timeout;
    ngx_msec_t                    timeout;
    ngx_uint_t                    max_pending;
    ngx_msec_t                    backoff_min;
    ngx_msec_t                    backoff_max;
    ngx_msec_t                    heartbeat;  /* of the subscription */
    unsigned                      configured:1;
} ngx_http_mobispot_redis_conf_t;


typedef struct ngx_http_mobispot_redis_client_s
    ngx_http_mobispot_redis_client_t;


/* one Redis command: argv with lengths, as redisAsyncCommandArgv wants */
typedef struct {
    int                           argc;
    const char                  **argv;
    const size_t                 *argvlen;
} ngx_http_mobispot_redis_cmd_t;


/*
 * Called for each reply of a call, in order, while the reply is alive
 * (hiredis frees it afterwards): copy what is needed into r->pool.
 */
typedef void (*ngx_http_mobispot_redis_reply_pt)(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);

/*
 * Called once when the call is over (status above); never called once the
 * request is gone.  It owns the request: it must finalize it.
 */
typedef void (*ngx_http_mobispot_redis_done_pt)(ngx_http_request_t *r,
    void *data, ngx_int_t status);


ngx_http_mobispot_redis_client_t *ngx_http_mobispot_redis_client_create(
    ngx_cycle_t *cycle, ngx_http_mobispot_redis_conf_t *conf);
void ngx_http_mobispot_redis_client_destroy(
    ngx_http_mobispot_redis_client_t *client);

ngx_int_t ngx_http_mobispot_redis_call(ngx_http_request_t *r,
    ngx_http_mobispot_redis_client_t *client,
    ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t n,
    ngx_http_mobispot_redis_reply_pt on_reply,
    ngx_http_mobispot_redis_done_pt on_done, void *data);

/*
 * A command of the worker's own, with no request (the heartbeat, a
 * snapshot read again, the bookings' deadlines): sent only on a ready
 * connection, outside the calls and their limit; fn gets the reply, or
 * NULL when the connection goes first.
 */
ngx_int_t ngx_http_mobispot_redis_send(
    ngx_http_mobispot_redis_client_t *client,
    ngx_http_mobispot_redis_cmd_t *cmd, redisCallbackFn *fn, void *privdata);

ngx_uint_t ngx_http_mobispot_redis_ready(
    ngx_http_mobispot_redis_client_t *client);
const char *ngx_http_mobispot_redis_not_serving(
    ngx_http_mobispot_redis_client_t *client);


/*
 * The worker's connections as GET health tells them: the data connection
 * ready; tracking "on" (Redis tracks for the answer cache), "off" (not
 * asked: no answer cache) or "down" (asked, not on now); the bus (the
 * subscriptions' connection) "none" (no channel), "up" (every channel
 * subscribed) or "down", and its channels subscribed of those asked.
 */

typedef struct {
    ngx_uint_t                    ready;
    const char                   *tracking;
    const char                   *subscriptions;
    ngx_uint_t                    channels;
    ngx_uint_t                    channels_up;
} ngx_http_mobispot_redis_state_t;

void ngx_http_mobispot_redis_state(ngx_http_mobispot_redis_client_t *client,
    ngx_http_mobispot_redis_state_t *st);


/*
 * Channels.  All the channels of a worker share one connection in
 * subscribe mode, the bus, made when the first channel is subscribed (in
 * init_process) and connected once init_process is over.  On every
 * (re)connection it sends AUTH/SELECT as configured, then each channel's
 * snapshot command (its reply goes to on_snapshot), then SUBSCRIBE for
 * each channel; on_state(data, 1) is called when a channel's subscription
 * is confirmed, on_state(data, 0) when it is lost (the bus reconnects by
 * itself, with the client's backoff).  A heartbeat checks that the bus
 * still hears Redis; when it does not, the bus is made anew, as if lost.
 * Replies and messages live only during the callbacks.
 */

typedef struct ngx_http_mobispot_redis_sub_s  ngx_http_mobispot_redis_sub_t;

typedef void (*ngx_http_mobispot_redis_snapshot_pt)(void *data,
    redisReply *reply);
typedef void (*ngx_http_mobispot_redis_message_pt)(void *data, u_char *msg,
    size_t len);
typedef void (*ngx_http_mobispot_redis_state_pt)(void *data, ngx_uint_t up);

typedef struct {
    const char                           *channel;   /* NUL-terminated */
    ngx_http_mobispot_redis_cmd_t         snapshot;  /* argc 0: none */
    ngx_http_mobispot_redis_snapshot_pt   on_snapshot;
    ngx_http_mobispot_redis_message_pt    on_message;  /* string payloads */
    ngx_http_mobispot_redis_snapshot_pt   on_payload;  /* or any payload */
    ngx_http_mobispot_redis_state_pt      on_state;
    void                                 *data;
} ngx_http_mobispot_redis_sub_conf_t;


ngx_http_mobispot_redis_sub_t *ngx_http_mobispot_redis_subscribe(
    ngx_http_mobispot_redis_client_t *client,
    ngx_http_mobispot_redis_sub_conf_t *sc);
void ngx_http_mobispot_redis_unsubscribe(ngx_http_mobispot_redis_sub_t *sub);
void ngx_http_mobispot_redis_resync(ngx_http_mobispot_redis_sub_t *sub);


/*
 * Client-side caching (Redis's key tracking, RESP2 redirect mode): the bus
 * receives "__redis__:invalidate", and the client's connection runs CLIENT
 * TRACKING on REDIRECT <the bus's id>, so that
 * Redis names every key this connection has read once that key changes.
 * The handler is called with each such key, and with key NULL when
 * anything may have been missed (a connection lost, a flush): then every
 * key must be taken as changed.
 */

typedef void (*ngx_http_mobispot_redis_invalidate_pt)(void *data,
    u_char *key, size_t len);

ngx_int_t ngx_http_mobispot_redis_track(
    ngx_http_mobispot_redis_client_t *client,
    ngx_http_mobispot_redis_invalidate_pt handler, void *data);
ngx_uint_t ngx_http_mobispot_redis_tracking(
    ngx_http_mobispot_redis_client_t *client);
void ngx_http_mobispot_redis_sync(ngx_http_mobispot_redis_client_t *client);


#endif /* _NGX_HTTP_MOBISPOT_REDIS_H_INCLUDED_ */
