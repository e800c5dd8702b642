
/*
 * Copyright (C) Mobispot
 *
 * The heartbeat: whether the bus still hears Redis.  A TCP connection can
 * stay up while what Redis sends no longer arrives (a proxy or a firewall
 * that stopped forwarding one way, a peer gone without a word): key
 * invalidations, sign-outs and key changes would be missed in silence, and
 * cached answers would stay stale until they expire.
 *
 * Every mobispot_redis_heartbeat, the client reads a key of the worker's
 * own (ms:beat:<host>:<pid>), so that Redis tracks it, then writes it, so
 * that Redis sends its invalidation to the bus: the beat goes the way
 * every invalidation goes.  Redis queues the invalidation before it
 * answers the write: a beat whose write was answered but which the bus
 * has not heard when the next one is due means the bus is deaf (a Redis
 * that is slow to answer, paused or busy, delays the beat instead).  The
 * bus is then made anew, as if lost, so that every channel is told (the
 * answer cache empties and stops serving until tracking is back; a
 * revocation feed is taken as stale) and every snapshot is read again.  A
 * beat refused by Redis counts as not heard.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "redis/ngx_http_mobispot_redis.h"
#include "redis/ngx_http_mobispot_redis_int.h"


static void ngx_http_mobispot_redis_beat_handler(ngx_event_t *ev);
static ngx_uint_t ngx_http_mobispot_redis_beat_send(
    ngx_http_mobispot_redis_bus_t *bus);
static void ngx_http_mobispot_redis_beat_on_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_beat_on_set(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_beat_refused(
    ngx_http_mobispot_redis_bus_t *bus, redisReply *rep);


void
ngx_http_mobispot_redis_beat_init(ngx_http_mobispot_redis_bus_t *bus)
{
    u_char  *p;

    p = ngx_snprintf(bus->beat_key, sizeof(bus->beat_key) - NGX_INT_T_LEN - 1,
                     "ms:beat:%V", &ngx_cycle->hostname);
    p = ngx_sprintf(p, ":%P", ngx_pid);

    bus->beat_key_len = p - bus->beat_key;

    bus->beat.handler = ngx_http_mobispot_redis_beat_handler;
    bus->beat.data = bus;
    bus->beat.log = bus->log;
    bus->beat.cancelable = 1;
}


/* the bus is subscribed: beats from now on */

void
ngx_http_mobispot_redis_beat_start(ngx_http_mobispot_redis_bus_t *bus)
{
    bus->beat_due = 0;

    if (!bus->beat.timer_set && !bus->link.exiting) {
        ngx_add_timer(&bus->beat, bus->conf->heartbeat);
    }
}


/* an invalidation the bus received: whether it is the beat */

ngx_uint_t
ngx_http_mobispot_redis_beat_heard(ngx_http_mobispot_redis_bus_t *bus,
    u_char *key, size_t len)
{
    if (bus == NULL || len != bus->beat_key_len
        || ngx_memcmp(key, bus->beat_key, len) != 0)
    {
        return 0;
    }

    bus->beat_due = 0;

    return 1;
}


static void
ngx_http_mobispot_redis_beat_handler(ngx_event_t *ev)
{
    ngx_http_mobispot_redis_bus_t *bus = ev->data;

    if (bus->link.exiting || !bus->up) {
        /* beat_start() sets the timer again once subscribed */
        return;
    }

    if (bus->beat_due && bus->beat_unanswered) {

        /*
         * Redis has not answered it yet: not the bus's fault.  Past the
         * timeout of any call, the client's connection is stuck: it is
         * made anew, as a call's timeout does, even when every request
         * is answered from the cache and none would notice.
         */

        if (ngx_current_msec - bus->beat_sent_at >= bus->conf->timeout) {
            ngx_log_error(NGX_LOG_ERR, bus->log, 0,
                          "mobispot: redis %V did not answer the heartbeat "
                          "within %M ms", &bus->conf->address,
                          bus->conf->timeout);

            ngx_http_mobispot_redis_drop(bus->client);
        }

        ngx_add_timer(&bus->beat, bus->conf->heartbeat);
        return;
    }

    if (bus->beat_due) {
        ngx_log_error(NGX_LOG_ERR, bus->log, 0,
                      "mobispot: the subscriptions on redis %V heard no "
                      "heartbeat within %M ms: they are made anew",
                      &bus->conf->address, bus->conf->heartbeat);

        ngx_http_mobispot_redis_bus_drop(bus);
        return;
    }

    /* nothing is judged while the client cannot send it */

    bus->beat_due = ngx_http_mobispot_redis_beat_send(bus);
    bus->beat_sent_at = ngx_current_msec;

    ngx_add_timer(&bus->beat, bus->conf->heartbeat);
}


/*
 * GET then SET, back to back on the client's connection; with OPTIN
 * tracking (no answer cache), CLIENT CACHING yes makes the GET tracked.
 * The key expires by itself once its worker is gone.
 */

static ngx_uint_t
ngx_http_mobispot_redis_beat_send(ngx_http_mobispot_redis_bus_t *bus)
{
    u_char                            *p;
    ngx_uint_t                         i, n;
    redisCallbackFn                   *fn;
    ngx_http_mobispot_redis_cmd_t      cmds[3];
    ngx_http_mobispot_redis_client_t  *client;

    u_char         value[NGX_INT_T_LEN], ttl[NGX_INT_T_LEN];
    const char    *caching[3], *get[2], *set[5];
    size_t         caching_len[3], get_len[2], set_len[5];

    client = bus->client;

    if (!client->tracking) {
        return 0;
    }

    n = 0;

    if (client->invalidate == NULL) {
        caching[0] = "CLIENT";
        caching[1] = "CACHING";
        caching[2] = "yes";
        caching_len[0] = 6;
        caching_len[1] = 7;
        caching_len[2] = 3;

        cmds[n].argc = 3;
        cmds[n].argv = caching;
        cmds[n++].argvlen = caching_len;
    }

    get[0] = "GET";
    get[1] = (const char *) bus->beat_key;
    get_len[0] = 3;
    get_len[1] = bus->beat_key_len;

    cmds[n].argc = 2;
    cmds[n].argv = get;
    cmds[n++].argvlen = get_len;

    p = ngx_sprintf(value, "%ui", ++bus->beats);

    set[0] = "SET";
    set[1] = (const char *) bus->beat_key;
    set[2] = (const char *) value;
    set[3] = "PX";
    set_len[0] = 3;
    set_len[1] = bus->beat_key_len;
    set_len[2] = p - value;
    set_len[3] = 2;

    p = ngx_sprintf(ttl, "%M", 10 * bus->conf->heartbeat);

    set[4] = (const char *) ttl;
    set_len[4] = p - ttl;

    cmds[n].argc = 5;
    cmds[n].argv = set;
    cmds[n++].argvlen = set_len;

    for (i = 0; i < n; i++) {
        fn = (i == n - 1) ? ngx_http_mobispot_redis_beat_on_set
                          : ngx_http_mobispot_redis_beat_on_reply;

        if (ngx_http_mobispot_redis_send(client, &cmds[i], fn, bus) != NGX_OK)
        {
            /* what was sent comes back NULL: the connection is going */
            return 0;
        }
    }

    /* the SET, the last command: answered in order after every other */
    bus->beat_unanswered++;

    return 1;
}


static void
ngx_http_mobispot_redis_beat_on_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_bus_t *bus = privdata;

    redisReply  *rep = reply;

    if (rep != NULL && !bus->link.exiting && rep->type == REDIS_REPLY_ERROR) {
        ngx_http_mobispot_redis_beat_refused(bus, rep);
    }
}


/* the write is answered: its invalidation is on its way to the bus */

static void
ngx_http_mobispot_redis_beat_on_set(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_mobispot_redis_bus_t *bus = privdata;

    redisReply  *rep = reply;

    bus->beat_unanswered--;

    if (bus->link.exiting) {
        return;
    }

    if (rep == NULL) {
        /* the client's connection went: the beat is given up */
        bus->beat_due = 0;
        return;
    }

    if (rep->type == REDIS_REPLY_ERROR) {
        ngx_http_mobispot_redis_beat_refused(bus, rep);
    }

    /* once the last is answered, its beat is heard or due by the next */
}


/* the beat stays due: the bus is made anew at the next one */

static void
ngx_http_mobispot_redis_beat_refused(ngx_http_mobispot_redis_bus_t *bus,
    redisReply *rep)
{
    char  word[32];

    (void) mobispot_reply_error_word(rep, word, sizeof(word));

    ngx_log_error(NGX_LOG_ERR, bus->log, 0,
                  "mobispot: redis %V refused the heartbeat (%s)",
                  &bus->conf->address, word);
}
