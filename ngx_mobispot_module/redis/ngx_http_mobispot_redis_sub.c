
/*
 * Copyright (C) Mobispot
 *
 * The bus: the worker's one connection in subscribe mode, carrying every
 * channel (key invalidations, sign-outs, catalogue and key changes), its
 * handshake, the snapshots, the messages dispatched to their channel, and
 * its reconnect cycle.
 *
 * A channel's snapshot is read on the bus itself, before the SUBSCRIBEs,
 * in the same write: Redis runs a client's commands back to back, so no
 * message published between the snapshot and the subscription is missed.
 * A channel that asks for its snapshot again (a message that says
 * "changed") has it read on the client's connection; if that cannot be
 * done, the bus is made anew, which reads every snapshot.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "redis/ngx_http_mobispot_redis.h"
#include "redis/ngx_http_mobispot_redis_int.h"


static ngx_http_mobispot_redis_bus_t *ngx_http_mobispot_redis_bus_create(
    ngx_http_mobispot_redis_client_t *client);
static void ngx_http_mobispot_redis_bus_start(ngx_event_t *ev);
static void ngx_http_mobispot_redis_bus_connect(void *data);
static void ngx_http_mobispot_redis_bus_on_connect(
    const redisAsyncContext *ac, int status);
static void ngx_http_mobispot_redis_bus_on_disconnect(
    const redisAsyncContext *ac, int status);
static void ngx_http_mobispot_redis_bus_on_handshake(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_bus_on_snapshot(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_sub_on_resync(redisAsyncContext *ac,
    void *reply, void *privdata);
static ngx_int_t ngx_http_mobispot_redis_sub_snapshot(
    ngx_http_mobispot_redis_sub_t *sub, redisReply *rep);
static void ngx_http_mobispot_redis_bus_on_message(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_bus_down(
    ngx_http_mobispot_redis_bus_t *bus);
static void ngx_http_mobispot_redis_bus_timeout_handler(ngx_event_t *ev);


ngx_http_mobispot_redis_sub_t *
ngx_http_mobispot_redis_subscribe(ngx_http_mobispot_redis_client_t *client,
    ngx_http_mobispot_redis_sub_conf_t *sc)
{
    ngx_http_mobispot_redis_bus_t  *bus;
    ngx_http_mobispot_redis_sub_t  *sub;

    bus = ngx_http_mobispot_redis_bus(client);
    if (bus == NULL) {
        return NULL;
    }

    sub = ngx_pcalloc(ngx_cycle->pool, sizeof(ngx_http_mobispot_redis_sub_t));
    if (sub == NULL) {
        return NULL;
    }

    sub->bus = bus;
    sub->sc = *sc;

    ngx_queue_insert_tail(&bus->channels, &sub->queue);

    /* a channel added to a bus already made: the bus is made anew */

    if (bus->link.ac != NULL) {
        ngx_http_mobispot_redis_bus_drop(bus);
    }

    return sub;
}


/* the worker's bus, made with its first channel: the tracker */

ngx_http_mobispot_redis_bus_t *
ngx_http_mobispot_redis_bus(ngx_http_mobispot_redis_client_t *client)
{
    if (client->bus != NULL) {
        return client->bus;
    }

    client->bus = ngx_http_mobispot_redis_bus_create(client);
    if (client->bus == NULL) {
        return NULL;
    }

    /* every bus carries the tracker: the heartbeat goes through it */

    if (ngx_http_mobispot_redis_tracker_add(client) != NGX_OK) {
        return NULL;
    }

    return client->bus;
}


void
ngx_http_mobispot_redis_unsubscribe(ngx_http_mobispot_redis_sub_t *sub)
{
    ngx_queue_remove(&sub->queue);

    if (ngx_queue_empty(&sub->bus->channels)) {
        ngx_http_mobispot_redis_bus_stop(sub->bus);
    }
}


/*
 * Reads the channel's snapshot again, on the client's connection (in
 * subscribe mode the bus cannot send it).  Meant for a message that says
 * "changed" rather than carrying the change.
 */

void
ngx_http_mobispot_redis_resync(ngx_http_mobispot_redis_sub_t *sub)
{
    ngx_http_mobispot_redis_bus_t  *bus;

    bus = sub->bus;

    if (sub->sc.snapshot.argc == 0 || !sub->up) {
        return;
    }

    if (ngx_http_mobispot_redis_send(bus->client, &sub->sc.snapshot,
                                     ngx_http_mobispot_redis_sub_on_resync,
                                     sub)
        != NGX_OK)
    {
        bus->link.backoff = 0;
        ngx_http_mobispot_redis_bus_drop(bus);
    }
}


static ngx_http_mobispot_redis_bus_t *
ngx_http_mobispot_redis_bus_create(ngx_http_mobispot_redis_client_t *client)
{
    ngx_http_mobispot_redis_bus_t   *bus;
    ngx_http_mobispot_redis_conf_t  *conf;

    bus = ngx_pcalloc(ngx_cycle->pool, sizeof(ngx_http_mobispot_redis_bus_t));
    if (bus == NULL) {
        return NULL;
    }

    conf = client->conf;

    bus->conf = conf;
    bus->log = client->log;
    bus->client = client;
    ngx_queue_init(&bus->channels);

    bus->link.conf = conf;
    bus->link.log = client->log;
    bus->link.data = bus;
    bus->link.what = " for the subscriptions";
    bus->link.backoff = conf->backoff_min;
    /* the connect, then the handshake, the snapshots and the SUBSCRIBEs */
    bus->link.connect_timeout = conf->connect_timeout + 2 * conf->timeout;
    bus->link.connect = ngx_http_mobispot_redis_bus_connect;
    bus->link.on_connect = ngx_http_mobispot_redis_bus_on_connect;
    bus->link.on_disconnect = ngx_http_mobispot_redis_bus_on_disconnect;
    bus->link.keepalive = 1;

    ngx_http_mobispot_redis_link_init(&bus->link,
                                   ngx_http_mobispot_redis_bus_timeout_handler);
    bus->link.connect_timer.cancelable = 1;

    ngx_http_mobispot_redis_beat_init(bus);

    /* connected once every channel of init_process is in */

    bus->start.handler = ngx_http_mobispot_redis_bus_start;
    bus->start.data = bus;
    bus->start.log = client->log;

    ngx_post_event(&bus->start, &ngx_posted_events);

    return bus;
}


static void
ngx_http_mobispot_redis_bus_start(ngx_event_t *ev)
{
    ngx_http_mobispot_redis_bus_connect(ev->data);
}


/* the worker goes, or the last channel did */

void
ngx_http_mobispot_redis_bus_stop(ngx_http_mobispot_redis_bus_t *bus)
{
    ngx_http_mobispot_redis_link_stop(&bus->link);

    if (bus->start.posted) {
        ngx_delete_posted_event(&bus->start);
    }

    if (bus->beat.timer_set) {
        ngx_del_timer(&bus->beat);
    }

    ngx_http_mobispot_redis_bus_drop(bus);
}


static void
ngx_http_mobispot_redis_bus_connect(void *data)
{
    ngx_http_mobispot_redis_bus_t  *bus = data;

    if (bus->link.ac != NULL || bus->link.exiting) {
        return;
    }

    if (ngx_http_mobispot_redis_link_open(&bus->link, NGX_LOG_ERR) != NGX_OK) {
        ngx_http_mobispot_redis_link_schedule(&bus->link);
    }
}


static void
ngx_http_mobispot_redis_bus_on_connect(const redisAsyncContext *cac,
    int status)
{
    ngx_http_mobispot_redis_bus_t *bus = cac->data;

    ngx_queue_t                     *q;
    redisAsyncContext               *ac;
    ngx_http_mobispot_redis_sub_t   *sub;
    ngx_http_mobispot_redis_conf_t  *conf;

    conf = bus->conf;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, bus->log, 0,
                      "mobispot: cannot connect to redis %V for the "
                      "subscriptions: %s", &conf->address, cac->errstr);

        (void) ngx_http_mobispot_redis_link_gone(&bus->link, cac);

        ngx_http_mobispot_redis_link_schedule(&bus->link);
        return;
    }

    ac = bus->link.ac;

    /* pipelined: each reply is checked in order, a failure drops it all */

    if (conf->user.len) {
        (void) redisAsyncCommand(ac, ngx_http_mobispot_redis_bus_on_handshake,
                                 bus, "AUTH %b %b", conf->user.data,
                                 conf->user.len, conf->password.data,
                                 conf->password.len);

    } else if (conf->password.len) {
        (void) redisAsyncCommand(ac, ngx_http_mobispot_redis_bus_on_handshake,
                                 bus, "AUTH %b", conf->password.data,
                                 conf->password.len);
    }

    if (conf->db > 0) {
        (void) redisAsyncCommand(ac, ngx_http_mobispot_redis_bus_on_handshake,
                                 bus, "SELECT %d", (int) conf->db);
    }

    for (q = ngx_queue_head(&bus->channels);
         q != ngx_queue_sentinel(&bus->channels);
         q = ngx_queue_next(q))
    {
        sub = ngx_queue_data(q, ngx_http_mobispot_redis_sub_t, queue);

        if (sub->sc.snapshot.argc) {
            (void) redisAsyncCommandArgv(ac,
                                        ngx_http_mobispot_redis_bus_on_snapshot,
                                        sub, sub->sc.snapshot.argc,
                                        sub->sc.snapshot.argv,
                                        sub->sc.snapshot.argvlen);
        }
    }

    bus->confirming = 0;

    for (q = ngx_queue_head(&bus->channels);
         q != ngx_queue_sentinel(&bus->channels);
         q = ngx_queue_next(q))
    {
        sub = ngx_queue_data(q, ngx_http_mobispot_redis_sub_t, queue);

        if (redisAsyncCommand(ac, ngx_http_mobispot_redis_bus_on_message, sub,
                              "SUBSCRIBE %s", sub->sc.channel)
            == REDIS_OK)
        {
            bus->confirming++;
        }
    }
}


static void
ngx_http_mobispot_redis_bus_on_handshake(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_bus_t *bus = privdata;

    if (reply == NULL || bus->link.ac != ac) {
        return;
    }

    if (!mobispot_reply_is_status(reply, "OK")) {
        ngx_log_error(NGX_LOG_ERR, bus->log, 0,
                      "mobispot: redis %V refused AUTH or SELECT on the "
                      "subscriptions", &bus->conf->address);
        ngx_http_mobispot_redis_bus_drop(bus);
    }
}


static void
ngx_http_mobispot_redis_bus_on_snapshot(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_sub_t *sub = privdata;

    if (reply == NULL || sub->bus->link.ac != ac) {
        return;
    }

    if (ngx_http_mobispot_redis_sub_snapshot(sub, reply) != NGX_OK) {
        ngx_http_mobispot_redis_bus_drop(sub->bus);
    }
}


/* a snapshot read again on the client's connection */

static void
ngx_http_mobispot_redis_sub_on_resync(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_sub_t *sub = privdata;

    ngx_http_mobispot_redis_bus_t  *bus;

    bus = sub->bus;

    if (bus->link.exiting) {
        return;
    }

    /* lost with the client's connection: the bus reads it afresh */

    if (reply == NULL || bus->client->link.ac != ac
        || ngx_http_mobispot_redis_sub_snapshot(sub, reply) != NGX_OK)
    {
        bus->link.backoff = 0;
        ngx_http_mobispot_redis_bus_drop(bus);
    }
}


static ngx_int_t
ngx_http_mobispot_redis_sub_snapshot(ngx_http_mobispot_redis_sub_t *sub,
    redisReply *rep)
{
    if (rep->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, sub->bus->log, 0,
                      "mobispot: redis %V: error reply to the snapshot of "
                      "\"%s\"", &sub->bus->conf->address, sub->sc.channel);
        return NGX_ERROR;
    }

    sub->sc.on_snapshot(sub->sc.data, rep);

    return NGX_OK;
}


static void
ngx_http_mobispot_redis_bus_on_message(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_sub_t *sub = privdata;

    redisReply                     *rep = reply, *kind, *payload;
    ngx_http_mobispot_redis_bus_t  *bus;

    bus = sub->bus;

    if (rep == NULL || bus->link.ac != ac) {
        return;
    }

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3
        || rep->element[0]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_ERR, bus->log, 0,
                      "mobispot: redis %V: unexpected reply on the "
                      "subscription to \"%s\"", &bus->conf->address,
                      sub->sc.channel);
        ngx_http_mobispot_redis_bus_drop(bus);
        return;
    }

    kind = rep->element[0];
    payload = rep->element[2];

    if (kind->len == sizeof("subscribe") - 1
        && ngx_strncmp(kind->str, "subscribe", kind->len) == 0)
    {
        sub->up = 1;

        ngx_log_error(NGX_LOG_INFO, bus->log, 0,
                      "mobispot: subscribed to \"%s\" on redis %V",
                      sub->sc.channel, &bus->conf->address);

        sub->sc.on_state(sub->sc.data, 1);

        if (--bus->confirming == 0) {
            if (bus->link.connect_timer.timer_set) {
                ngx_del_timer(&bus->link.connect_timer);
            }

            bus->link.backoff = bus->conf->backoff_min;
            bus->up = 1;

            ngx_http_mobispot_redis_beat_start(bus);
        }

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
ngx_http_mobispot_redis_bus_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_mobispot_redis_bus_t *bus = ac->data;

    if (ngx_http_mobispot_redis_link_gone(&bus->link, ac)) {

        if (!bus->link.exiting) {
            ngx_log_error(NGX_LOG_ERR, bus->log, 0,
                          "mobispot: lost the subscriptions on redis %V: %s",
                          &bus->conf->address,
                          ac->errstr[0] ? ac->errstr : "closed");
        }

        ngx_http_mobispot_redis_bus_down(bus);
    }

    ngx_http_mobispot_redis_link_schedule(&bus->link);
}


/* every channel is told, in the order they were subscribed */

static void
ngx_http_mobispot_redis_bus_down(ngx_http_mobispot_redis_bus_t *bus)
{
    ngx_queue_t                    *q;
    ngx_http_mobispot_redis_sub_t  *sub;

    bus->up = 0;
    bus->beat_due = 0;

    for (q = ngx_queue_head(&bus->channels);
         q != ngx_queue_sentinel(&bus->channels);
         q = ngx_queue_next(q))
    {
        sub = ngx_queue_data(q, ngx_http_mobispot_redis_sub_t, queue);

        if (sub->up) {
            sub->up = 0;
            sub->sc.on_state(sub->sc.data, 0);
        }
    }
}


/* tears the bus down now; it is made again after the backoff */

void
ngx_http_mobispot_redis_bus_drop(ngx_http_mobispot_redis_bus_t *bus)
{
    redisAsyncContext  *ac;

    ac = ngx_http_mobispot_redis_link_detach(&bus->link);

    ngx_http_mobispot_redis_bus_down(bus);

    if (ac != NULL) {
        redisAsyncFree(ac);
    }

    ngx_http_mobispot_redis_link_schedule(&bus->link);
}


static void
ngx_http_mobispot_redis_bus_timeout_handler(ngx_event_t *ev)
{
    ngx_http_mobispot_redis_bus_t *bus = ev->data;

    ngx_log_error(NGX_LOG_ERR, bus->log, 0,
                  "mobispot: subscriptions on redis %V not ready after %M ms",
                  &bus->conf->address,
                  bus->conf->connect_timeout + 2 * bus->conf->timeout);

    ngx_http_mobispot_redis_bus_drop(bus);
}


void
ngx_http_mobispot_redis_state(ngx_http_mobispot_redis_client_t *client,
    ngx_http_mobispot_redis_state_t *st)
{
    ngx_queue_t                    *q;
    ngx_http_mobispot_redis_sub_t  *sub;

    ngx_memzero(st, sizeof(ngx_http_mobispot_redis_state_t));

    st->ready = (client->state == NGX_HTTP_MOBISPOT_REDIS_READY);

    st->tracking = client->invalidate == NULL ? "off"
                   : ngx_http_mobispot_redis_tracking(client) ? "on" : "down";

    if (client->bus == NULL) {
        st->subscriptions = "none";
        return;
    }

    for (q = ngx_queue_head(&client->bus->channels);
         q != ngx_queue_sentinel(&client->bus->channels);
         q = ngx_queue_next(q))
    {
        sub = ngx_queue_data(q, ngx_http_mobispot_redis_sub_t, queue);

        st->channels++;
        st->channels_up += sub->up;
    }

    st->subscriptions = st->channels == 0 ? "none"
                        : (client->bus->up && st->channels_up == st->channels)
                          ? "up" : "down";
}
