
/*
 * Copyright (C) Mobispot
 *
 * A route's Redis call: the one path from commands to the route's answer.
 *
 * The route gives its commands, the keys they read and write (declared by
 * the route, never guessed from the commands), and a done handler.  The
 * replies are copied into the request pool as they come (a hiredis reply
 * lives only during its callback); once the last is in, a call that did
 * not end with its replies (connection lost, timeout, Redis unavailable)
 * is answered here, and otherwise the done handler gets every reply and
 * returns what a content handler returns.  The request is finalized here,
 * with that value, in every case.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <time.h>

#include "http/ngx_http_mobispot_api.h"
#include "http/ngx_http_mobispot_metrics.h"


typedef struct {
    ngx_http_mobispot_api_ctx_t     *ctx;
    ngx_http_mobispot_api_done_pt    done;
    ngx_http_mobispot_reply_t       *replies;
    ngx_uint_t                       n;
    ngx_uint_t                       failed;     /* out of memory */
} ngx_http_mobispot_call_t;


/* a call's own callbacks, behind the clock of $mobispot_redis_time */
typedef struct {
    ngx_http_mobispot_api_ctx_t       *ctx;
    ngx_http_mobispot_redis_reply_pt   on_reply;
    ngx_http_mobispot_redis_done_pt    on_done;
    void                              *data;
    struct timespec                    start;
} ngx_http_mobispot_call_timed_t;


static void ngx_http_mobispot_call_timed_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_call_timed_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static ngx_int_t ngx_http_mobispot_call_keys(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, const ngx_http_mobispot_api_keys_t *keys);
static void ngx_http_mobispot_call_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_call_done(ngx_http_request_t *r, void *data,
    ngx_int_t status);
static ngx_int_t ngx_http_mobispot_call_copy(ngx_pool_t *pool,
    ngx_http_mobispot_reply_t *dst, redisReply *src, ngx_uint_t depth);
static ngx_http_mobispot_api_keys_t *ngx_http_mobispot_api_first_keys(
    ngx_http_request_t *r, ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t n);


/*
 * Sends n commands for the request and goes asynchronous (NGX_DONE); when
 * Redis cannot take them, answers 503 at once.  done may itself call again
 * (a second round trip) and return NGX_DONE.
 */

ngx_int_t
ngx_http_mobispot_api_call(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmds,
    ngx_uint_t n, const ngx_http_mobispot_api_keys_t *keys,
    ngx_http_mobispot_api_done_pt done)
{
    ngx_http_mobispot_call_t  *call;

    call = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_call_t));
    if (call == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    call->replies = ngx_pcalloc(r->pool,
                                n * sizeof(ngx_http_mobispot_reply_t));
    if (call->replies == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    call->ctx = ctx;
    call->done = done;
    call->n = n;
    call->failed = 0;

    return ngx_http_mobispot_api_stream(r, ctx, cmds, n, keys,
                                        ngx_http_mobispot_call_reply,
                                        ngx_http_mobispot_call_done, call);
}


/*
 * The same without the copies, for the read routes whose replies are large
 * (GEOSEARCH, a day's bookings): on_reply reads each reply during its
 * callback, and on_done (with data) finalizes the request, answering a
 * failed call with ngx_http_mobispot_api_redis_failed().  The keys are
 * declared as for any call.
 */

ngx_int_t
ngx_http_mobispot_api_stream(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmds,
    ngx_uint_t n, const ngx_http_mobispot_api_keys_t *keys,
    ngx_http_mobispot_redis_reply_pt on_reply,
    ngx_http_mobispot_redis_done_pt on_done, void *data)
{
    ngx_int_t                        rc;
    ngx_uint_t                       skipped;
    ngx_http_mobispot_call_timed_t  *t;

    if (ngx_http_mobispot_call_keys(r, ctx, keys) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_call_timed_t));
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->ctx = ctx;
    t->on_reply = on_reply;
    t->on_done = on_done;
    t->data = data;
    (void) clock_gettime(CLOCK_MONOTONIC, &t->start);

    rc = ngx_http_mobispot_redis_call(r, ctx->mcf->client, cmds, n,
                                      ngx_http_mobispot_call_timed_reply,
                                      ngx_http_mobispot_call_timed_done, t);

    switch (rc) {

    case NGX_OK:
        r->main->count++;

        /* notice a client that goes away while Redis is answering */
        r->read_event_handler = ngx_http_test_reading;
        r->write_event_handler = ngx_http_request_empty_handler;

        return NGX_DONE;

    case NGX_DECLINED:
        ngx_http_mobispot_metric_inc(ngx_http_mobispot_metrics_http
            .redis_failed[NGX_HTTP_MOBISPOT_METRIC_UNAVAILABLE]);

        return ngx_http_mobispot_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "redis_unavailable",
                                           "the data store is not reachable");

    case NGX_BUSY:
        ngx_http_mobispot_metric_inc(ngx_http_mobispot_metrics_http
            .redis_failed[NGX_HTTP_MOBISPOT_METRIC_OVERLOADED]);

        if (ngx_http_mobispot_log_limit(&ctx->mcf->overload_log, &skipped)) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mobispot: too many redis commands in flight "
                          "(mobispot_redis_max_pending %ui), %ui such "
                          "refusals not logged before this one",
                          ctx->mcf->redis.max_pending, skipped);
        }

        return ngx_http_mobispot_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "overloaded",
                                           "too many requests in flight");

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/*
 * The one entry of the read routes: commands that each read the key named
 * by their first argument, streamed as ngx_http_mobispot_api_stream()
 * does, with those keys declared.
 */

ngx_int_t
ngx_http_mobispot_api_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmds,
    ngx_uint_t n, ngx_http_mobispot_redis_reply_pt on_reply,
    ngx_http_mobispot_redis_done_pt on_done, void *data)
{
    ngx_http_mobispot_api_keys_t  *keys;

    keys = ngx_http_mobispot_api_first_keys(r, cmds, n);
    if (keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_stream(r, ctx, cmds, n, keys, on_reply,
                                        on_done, data);
}


/*
 * The keys of commands that each name one key, as their first argument
 * (GET, HGETALL, HMGET, GEOSEARCH): the read routes, whose commands are
 * all of that kind, declare them so (ngx_http_mobispot_api_read()).
 * Never for EVAL/EVALSHA/FCALL, MULTI/EXEC or a command of several keys:
 * those routes list their keys.
 */

static ngx_http_mobispot_api_keys_t *
ngx_http_mobispot_api_first_keys(ngx_http_request_t *r,
    ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t n)
{
    ngx_uint_t                     i;
    ngx_http_mobispot_api_keys_t  *keys;

    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));
    if (keys == NULL) {
        return NULL;
    }

    keys->read = ngx_palloc(r->pool, n * sizeof(ngx_str_t));
    if (keys->read == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (cmds[i].argc < 2) {
            continue;
        }

        keys->read[keys->nread].data = (u_char *) cmds[i].argv[1];
        keys->read[keys->nread].len = cmds[i].argvlen[1];
        keys->nread++;
    }

    return keys;
}


/*
 * The declared keys.  Written ones: this worker forgets what it knew of
 * them before it answers, so that its next read sees the write even if
 * Redis's invalidation is still on its way.  Read ones, for an answer that
 * will be stored: what the answer is computed from, with the keys'
 * counters as they are now.  A call that declares no keys cannot have
 * its answer kept: nothing would say when it goes stale.
 */

static ngx_int_t
ngx_http_mobispot_call_keys(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, const ngx_http_mobispot_api_keys_t *keys)
{
    ngx_str_t   *key;
    ngx_uint_t   i;

    if (keys == NULL) {
        ctx->cache = NULL;
        return NGX_OK;
    }

    if (ctx->mcf->cache == NULL) {
        return NGX_OK;
    }

    if (keys->nwritten && ctx->written == NULL) {
        ctx->written = ngx_array_create(r->pool, keys->nwritten,
                                        sizeof(ngx_str_t));
        if (ctx->written == NULL) {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < keys->nwritten; i++) {
        key = ngx_array_push(ctx->written);
        if (key == NULL) {
            return NGX_ERROR;
        }

        *key = keys->written[i];
    }

    for (i = 0; i < keys->nread && ctx->cache != NULL; i++) {
        if (ngx_http_mobispot_cache_dep(ctx->mcf->cache, ctx->cache,
                                        (const char *) keys->read[i].data,
                                        keys->read[i].len)
            != NGX_OK)
        {
            ctx->cache = NULL;
        }
    }

    return NGX_OK;
}


static void
ngx_http_mobispot_call_timed_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_call_timed_t *t = data;

    if (t->on_reply != NULL) {
        t->on_reply(r, t->data, index, reply);
    }
}


/* the call is over: its time counted, then its own done */

static void
ngx_http_mobispot_call_timed_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_call_timed_t *t = data;

    int64_t          usec;
    struct timespec  now;

    (void) clock_gettime(CLOCK_MONOTONIC, &now);

    usec = (int64_t) (now.tv_sec - t->start.tv_sec) * 1000000
           + (now.tv_nsec - t->start.tv_nsec) / 1000;

    t->ctx->redis_usec += usec > 0 ? (uint64_t) usec : 0;
    t->ctx->redis_calls++;

    ngx_http_mobispot_metric_observe(ngx_http_mobispot_metrics_http.redis_time,
                                     usec > 0 ? (uint64_t) usec : 0);

    t->on_done(r, t->data, status);
}


static void
ngx_http_mobispot_call_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_call_t *call = data;

    if (index >= call->n || call->failed) {
        return;
    }

    if (ngx_http_mobispot_call_copy(r->pool, &call->replies[index], reply, 0)
        != NGX_OK)
    {
        call->failed = 1;
    }
}


static void
ngx_http_mobispot_call_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_call_t *call = data;

    ngx_int_t  rc;

    if (status != NGX_HTTP_MOBISPOT_REDIS_OK) {
        rc = ngx_http_mobispot_api_redis_failed(r, status);

    } else if (call->failed) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else {
        rc = call->done(r, call->ctx, call->replies, call->n);
    }

    /* NGX_DONE (a next round trip) releases this call's reference */
    ngx_http_finalize_request(r, rc);
}


/* arrays nest in replies of EXEC and of scripts; deeper ones are refused */

#define NGX_HTTP_MOBISPOT_REPLY_DEPTH  8

static ngx_int_t
ngx_http_mobispot_call_copy(ngx_pool_t *pool, ngx_http_mobispot_reply_t *dst,
    redisReply *src, ngx_uint_t depth)
{
    size_t  i;

    dst->type = src->type;
    dst->integer = src->integer;
    dst->elements = 0;
    dst->element = NULL;
    dst->str.len = 0;
    dst->str.data = NULL;

    switch (src->type) {

    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        dst->str.data = ngx_pnalloc(pool, src->len + 1);
        if (dst->str.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(dst->str.data, src->str, src->len);
        dst->str.data[src->len] = '\0';
        dst->str.len = src->len;

        return NGX_OK;

    case REDIS_REPLY_ARRAY:
        if (depth == NGX_HTTP_MOBISPOT_REPLY_DEPTH) {
            return NGX_ERROR;
        }

        if (src->elements == 0) {
            return NGX_OK;
        }

        dst->element = ngx_palloc(pool, src->elements
                                        * sizeof(ngx_http_mobispot_reply_t));
        if (dst->element == NULL) {
            return NGX_ERROR;
        }

        dst->elements = src->elements;

        for (i = 0; i < src->elements; i++) {
            if (ngx_http_mobispot_call_copy(pool, &dst->element[i],
                                            src->element[i], depth + 1)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    default:
        /* integer, nil */
        return NGX_OK;
    }
}


/* helpers for done handlers */

ngx_str_t *
ngx_http_mobispot_reply_str(ngx_http_mobispot_reply_t *reply)
{
    return reply->type == REDIS_REPLY_STRING ? &reply->str : NULL;
}


/*
 * A reply the route did not expect: logged at error (Redis or another
 * writer misbehaves, not the client), at most once a second per worker,
 * answered 502.
 */

ngx_int_t
ngx_http_mobispot_api_bad_reply(ngx_http_request_t *r, const char *what)
{
    return ngx_http_mobispot_api_refused(r, what, NULL);
}


/* the same, with the text of Redis's error reply (escaped, cut short) */

ngx_int_t
ngx_http_mobispot_api_refused(ngx_http_request_t *r, const char *what,
    ngx_str_t *error)
{
    if (error == NULL) {
        ngx_http_mobispot_fault(NGX_LOG_ERR, r->connection->log,
                                "mobispot: unexpected redis reply to %s",
                                what);

    } else {
        ngx_http_mobispot_fault(NGX_LOG_ERR, r->connection->log,
                                "mobispot: redis refused %s: \"%s\"", what,
                                ngx_http_mobispot_log_escape(r->pool,
                                    error->data, ngx_min(error->len, 200)));
    }

    return ngx_http_mobispot_api_error(r, NGX_HTTP_BAD_GATEWAY, "redis_error",
                                       "the data store answered with an "
                                       "error");
}
