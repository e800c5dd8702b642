
/*
 * Copyright (C) Mobispot
 *
 * What the files of redis/ share: the client's and the subscriber's
 * structures, the adapter, and the functions one file calls in another.
 * Nothing outside redis/ includes it.
 */


#ifndef _NGX_HTTP_MOBISPOT_REDIS_INT_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_REDIS_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "redis/ngx_http_mobispot_redis.h"


/*
 * One connection to Redis and its reconnect cycle, the same for the client
 * and for every subscriber (redis_conn.c): the connect, its timer, and the
 * backoff between attempts.  The owner (client or subscriber) is data: it
 * is hiredis's ac->data and the connect timer's data, and connect() is
 * called with it when the backoff is over.
 */

typedef struct {
    ngx_http_mobispot_redis_conf_t    *conf;
    ngx_log_t                         *log;
    void                              *data;      /* the owner */
    const char                        *what;      /* in log lines */

    redisAsyncContext                 *ac;
    ngx_msec_t                         backoff;
    ngx_msec_t                         connect_timeout;
    ngx_event_t                        connect_timer;
    ngx_event_t                        reconnect_timer;

    void                             (*connect)(void *data);
    redisConnectCallback              *on_connect;
    redisDisconnectCallback           *on_disconnect;

    unsigned                           keepalive:1;
    unsigned                           exiting:1;
} ngx_http_mobispot_redis_link_t;


typedef struct ngx_http_mobispot_redis_bus_s  ngx_http_mobispot_redis_bus_t;


/* the client's connection */
#define NGX_HTTP_MOBISPOT_REDIS_DISCONNECTED  0
#define NGX_HTTP_MOBISPOT_REDIS_CONNECTING    1
#define NGX_HTTP_MOBISPOT_REDIS_HANDSHAKE     2
#define NGX_HTTP_MOBISPOT_REDIS_READY         3


struct ngx_http_mobispot_redis_client_s {
    ngx_http_mobispot_redis_conf_t    *conf;
    ngx_log_t                         *log;

    ngx_http_mobispot_redis_link_t     link;
    ngx_uint_t                         state;
    ngx_uint_t                         handshake;   /* replies still due */
    ngx_uint_t                         failures;    /* attempts in a row */
    ngx_uint_t                         connects;    /* made, in all */

    ngx_uint_t                         pending;     /* commands in hiredis */
    ngx_queue_t                        calls;

    const char                        *not_serving; /* the last such word */

    ngx_msec_t                         reconnected_at; /* at once, last */

    ngx_http_mobispot_redis_bus_t     *bus;         /* NULL: none yet */

    /* client-side caching: see ngx_http_mobispot_redis_track() */
    ngx_http_mobispot_redis_sub_t     *tracker;     /* a channel of bus */
    long long                          tracker_id;    /* subscribed: id */
    long long                          tracker_next;  /* read, not yet */
    ngx_uint_t                         tracking_sent; /* in flight */
    ngx_http_mobispot_redis_invalidate_pt  invalidate;
    void                              *invalidate_data;
    ngx_event_t                        synced;  /* posted: read this turn */

    unsigned                           tracking:1;
    unsigned                           reconnected:1;
};


/*
 * The bus: the worker's one connection in subscribe mode, shared by every
 * channel (redis_sub.c).  While connecting, the connect timer covers the
 * whole handshake (connect, AUTH/SELECT, the snapshots, the SUBSCRIBE
 * confirmations).  The heartbeat (redis_beat.c) proves that what Redis
 * sends still reaches it.
 */

struct ngx_http_mobispot_redis_bus_s {
    ngx_http_mobispot_redis_conf_t      *conf;
    ngx_log_t                           *log;
    ngx_http_mobispot_redis_client_t    *client;

    ngx_http_mobispot_redis_link_t       link;
    ngx_queue_t                          channels;
    ngx_uint_t                           confirming;  /* SUBSCRIBEs due */
    ngx_event_t                          start;       /* posted */

    ngx_event_t                          beat;        /* its timer */
    ngx_uint_t                           beat_due;    /* sent, not heard */
    ngx_uint_t                           beat_unanswered;  /* SETs */
    ngx_msec_t                           beat_sent_at;
    ngx_uint_t                           beats;       /* sent, in all */
    u_char                               beat_key[64];
    size_t                               beat_key_len;

    unsigned                             up:1;
};


/* one channel of the bus */

struct ngx_http_mobispot_redis_sub_s {
    ngx_queue_t                          queue;       /* in the bus */
    ngx_http_mobispot_redis_bus_t       *bus;
    ngx_http_mobispot_redis_sub_conf_t   sc;

    unsigned                             up:1;
};


/* the adapter (redis_event.c): hiredis's socket as an nginx connection */
ngx_int_t ngx_http_mobispot_redis_attach(redisAsyncContext *ac,
    ngx_log_t *log);

/* one connection and its reconnects (redis_conn.c) */
void ngx_http_mobispot_redis_link_init(ngx_http_mobispot_redis_link_t *link,
    ngx_event_handler_pt timeout_handler);
ngx_int_t ngx_http_mobispot_redis_link_open(
    ngx_http_mobispot_redis_link_t *link, ngx_uint_t level);
ngx_uint_t ngx_http_mobispot_redis_link_gone(
    ngx_http_mobispot_redis_link_t *link, const redisAsyncContext *ac);
redisAsyncContext *ngx_http_mobispot_redis_link_detach(
    ngx_http_mobispot_redis_link_t *link);
void ngx_http_mobispot_redis_link_schedule(
    ngx_http_mobispot_redis_link_t *link);
void ngx_http_mobispot_redis_link_stop(ngx_http_mobispot_redis_link_t *link);

/* the client's connection (redis_conn.c) */
void ngx_http_mobispot_redis_start(ngx_http_mobispot_redis_client_t *client);
void ngx_http_mobispot_redis_drop(ngx_http_mobispot_redis_client_t *client);


/* the bus (redis_sub.c) */
ngx_http_mobispot_redis_bus_t *ngx_http_mobispot_redis_bus(
    ngx_http_mobispot_redis_client_t *client);
void ngx_http_mobispot_redis_bus_stop(ngx_http_mobispot_redis_bus_t *bus);
void ngx_http_mobispot_redis_bus_drop(ngx_http_mobispot_redis_bus_t *bus);

/* tracking (redis_track.c), on the client's connection */
ngx_int_t ngx_http_mobispot_redis_tracker_add(
    ngx_http_mobispot_redis_client_t *client);
void ngx_http_mobispot_redis_track_send(
    ngx_http_mobispot_redis_client_t *client);
void ngx_http_mobispot_redis_untracked(
    ngx_http_mobispot_redis_client_t *client);

/* the heartbeat (redis_beat.c) */
void ngx_http_mobispot_redis_beat_init(ngx_http_mobispot_redis_bus_t *bus);
void ngx_http_mobispot_redis_beat_start(ngx_http_mobispot_redis_bus_t *bus);
ngx_uint_t ngx_http_mobispot_redis_beat_heard(
    ngx_http_mobispot_redis_bus_t *bus, u_char *key, size_t len);


#endif /* _NGX_HTTP_MOBISPOT_REDIS_INT_H_INCLUDED_ */
