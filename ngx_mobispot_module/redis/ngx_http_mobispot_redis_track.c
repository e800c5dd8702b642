
/*
 * Copyright (C) Mobispot
 *
 * Client-side caching.  Redis (6 and later) remembers which keys a
 * connection with tracking on has read, and when one of them changes it
 * sends the key's name, once, to the connection the tracking redirects to:
 * here the bus, through its channel "__redis__:invalidate" (the tracker),
 * whose snapshot is the bus's CLIENT ID.  Once a key has been named, Redis
 * forgets it: a reader must read the key again to hear of its next change.
 *
 * The client's connection asks for tracking (CLIENT TRACKING on REDIRECT
 * <tracker id>) whenever it connects while the tracker is subscribed, and
 * whenever the tracker subscribes anew (with a new id).  It tells it
 * tracks only once Redis has said OK to the last such command.  Whenever
 * either connection goes, it no longer tracks and everything is taken as
 * changed: invalidations may have been sent to a tracker that is gone.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "redis/ngx_http_mobispot_redis.h"
#include "redis/ngx_http_mobispot_redis_int.h"


static void ngx_http_mobispot_redis_synced_handler(ngx_event_t *ev);
static void ngx_http_mobispot_redis_on_tracking(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mobispot_redis_tracker_id(void *data, redisReply *reply);
static void ngx_http_mobispot_redis_tracker_payload(void *data,
    redisReply *reply);
static void ngx_http_mobispot_redis_tracker_state(void *data, ngx_uint_t up);
static void ngx_http_mobispot_redis_invalidate_all(
    ngx_http_mobispot_redis_client_t *client);


/*
 * The answers of this worker are cached: every key the client reads is
 * tracked.  Without it, the client's tracking is OPTIN and only the
 * heartbeat's key is tracked (see redis_beat.c).
 */

ngx_int_t
ngx_http_mobispot_redis_track(ngx_http_mobispot_redis_client_t *client,
    ngx_http_mobispot_redis_invalidate_pt handler, void *data)
{
    client->invalidate = handler;
    client->invalidate_data = data;

    return ngx_http_mobispot_redis_bus(client) != NULL ? NGX_OK : NGX_ERROR;
}


/* the tracker: the bus's channel "__redis__:invalidate" */

ngx_int_t
ngx_http_mobispot_redis_tracker_add(ngx_http_mobispot_redis_client_t *client)
{
    ngx_http_mobispot_redis_sub_conf_t  sc;

    static const char    *id[] = { "CLIENT", "ID" };
    static const size_t   id_len[] = { sizeof("CLIENT") - 1,
                                       sizeof("ID") - 1 };

    client->synced.handler = ngx_http_mobispot_redis_synced_handler;
    client->synced.data = client;
    client->synced.log = client->log;

    ngx_memzero(&sc, sizeof(ngx_http_mobispot_redis_sub_conf_t));

    sc.channel = "__redis__:invalidate";
    sc.snapshot.argc = 2;
    sc.snapshot.argv = id;
    sc.snapshot.argvlen = id_len;
    sc.on_snapshot = ngx_http_mobispot_redis_tracker_id;
    sc.on_payload = ngx_http_mobispot_redis_tracker_payload;
    sc.on_state = ngx_http_mobispot_redis_tracker_state;
    sc.data = client;

    client->tracker = ngx_http_mobispot_redis_subscribe(client, &sc);

    return client->tracker != NULL ? NGX_OK : NGX_ERROR;
}


/*
 * Whether what is read from now on will be followed by an invalidation
 * when it changes.
 */

ngx_uint_t
ngx_http_mobispot_redis_tracking(ngx_http_mobispot_redis_client_t *client)
{
    return client != NULL && client->tracking && client->invalidate != NULL
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

    if (sub == NULL || !sub->up || sub->bus->link.ac == NULL
        || client->synced.posted)
    {
        return;
    }

    ngx_post_event(&client->synced, &ngx_posted_events);

    redisAsyncHandleRead(sub->bus->link.ac);
}


static void
ngx_http_mobispot_redis_synced_handler(ngx_event_t *ev)
{
    /* the turn is over: the next request reads the tracker again */
}


void
ngx_http_mobispot_redis_track_send(ngx_http_mobispot_redis_client_t *client)
{
    if (client->link.ac == NULL || client->tracker_id == 0) {
        return;
    }

    /* hiredis splits the format, not the arguments, at spaces */

    if (redisAsyncCommand(client->link.ac, ngx_http_mobispot_redis_on_tracking,
                          client,
                          client->invalidate != NULL
                          ? "CLIENT TRACKING on REDIRECT %lld"
                          : "CLIENT TRACKING on REDIRECT %lld OPTIN",
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

    if (rep == NULL || client->link.ac != ac) {
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


void
ngx_http_mobispot_redis_untracked(ngx_http_mobispot_redis_client_t *client)
{
    client->tracking = 0;

    ngx_http_mobispot_redis_invalidate_all(client);
}


static void
ngx_http_mobispot_redis_invalidate_all(
    ngx_http_mobispot_redis_client_t *client)
{
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

    if (reply->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < reply->elements; i++) {
            key = reply->element[i];

            if (key->type != REDIS_REPLY_STRING) {
                ngx_http_mobispot_redis_invalidate_all(client);
                return;
            }

            if (ngx_http_mobispot_redis_beat_heard(client->bus,
                                                   (u_char *) key->str,
                                                   key->len))
            {
                continue;
            }

            if (client->invalidate != NULL) {
                client->invalidate(client->invalidate_data,
                                   (u_char *) key->str, key->len);
            }
        }

        return;
    }

    if (reply->type != REDIS_REPLY_NIL) {
        ngx_log_error(NGX_LOG_ERR, client->log, 0,
                      "mobispot: redis %V: unexpected invalidation message",
                      &client->conf->address);
    }

    ngx_http_mobispot_redis_invalidate_all(client);
}

