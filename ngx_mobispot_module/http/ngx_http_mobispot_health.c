
/*
 * Copyright (C) Mobispot
 *
 * GET {prefix}health: a PING through the worker's Redis connection.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <time.h>

#include "http/ngx_http_mobispot_api.h"


typedef struct {
    struct timespec   start;
    ngx_uint_t        pong;
    int               reply_type;
} ngx_http_mobispot_health_t;


static void ngx_http_mobispot_health_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_health_done(ngx_http_request_t *r, void *data,
    ngx_int_t status);


ngx_int_t
ngx_http_mobispot_health(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_http_mobispot_health_t     *hc;
    ngx_http_mobispot_redis_cmd_t   cmd;

    static const char    *argv[] = { "PING" };
    static const size_t   argvlen[] = { sizeof("PING") - 1 };

    hc = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_health_t));
    if (hc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = hc;
    (void) clock_gettime(CLOCK_MONOTONIC, &hc->start);

    cmd.argc = 1;
    cmd.argv = argv;
    cmd.argvlen = argvlen;

    return ngx_http_mobispot_api_redis(r, ctx, &cmd, 1,
                                       ngx_http_mobispot_health_reply,
                                       ngx_http_mobispot_health_done);
}


static void
ngx_http_mobispot_health_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    ngx_http_mobispot_health_t  *hc;

    hc = ctx->data;
    hc->pong = mobispot_reply_is_status(reply, "PONG");
    hc->reply_type = reply->type;
}


static void
ngx_http_mobispot_health_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    double                       ms;
    yajl_gen                     g;
    struct timespec              now;
    ngx_http_mobispot_health_t  *hc;

    hc = ctx->data;

    if (status != NGX_HTTP_MOBISPOT_REDIS_OK) {
        ngx_http_finalize_request(r,
                               ngx_http_mobispot_api_redis_failed(r, status));
        return;
    }

    if (!hc->pong) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: redis answered PING with a %s reply",
                      mobispot_reply_type_name(hc->reply_type));

        ngx_http_finalize_request(r,
            ngx_http_mobispot_api_error(r, NGX_HTTP_BAD_GATEWAY,
                                        "redis_error",
                                        "the data store answered with "
                                        "an error"));
        return;
    }

    (void) clock_gettime(CLOCK_MONOTONIC, &now);

    ms = (now.tv_sec - hc->start.tv_sec) * 1000.0
         + (now.tv_nsec - hc->start.tv_nsec) / 1000000.0;

    g = ngx_http_mobispot_api_gen(r);

    if (g == NULL || mobispot_json_health(g, ms) != MOBISPOT_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g));
}
