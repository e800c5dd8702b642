
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


static ngx_int_t ngx_http_mobispot_health_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);


ngx_int_t
ngx_http_mobispot_health(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    struct timespec                *start;
    ngx_http_mobispot_redis_cmd_t   cmd;

    static const char    *argv[] = { "PING" };
    static const size_t   argvlen[] = { sizeof("PING") - 1 };

    start = ngx_palloc(r->pool, sizeof(struct timespec));
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = start;
    (void) clock_gettime(CLOCK_MONOTONIC, start);

    cmd.argc = 1;
    cmd.argv = argv;
    cmd.argvlen = argvlen;

    /* no key */
    return ngx_http_mobispot_api_call(r, ctx, &cmd, 1, NULL,
                                      ngx_http_mobispot_health_done);
}


static ngx_int_t
ngx_http_mobispot_health_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    double            ms;
    yajl_gen          g;
    struct timespec   now, *start;

    start = ctx->data;

    if (replies[0].type != REDIS_REPLY_STATUS
        || replies[0].str.len != sizeof("PONG") - 1
        || ngx_strncmp(replies[0].str.data, "PONG", 4) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: redis answered PING with a %s reply",
                      mobispot_reply_type_name(replies[0].type));

        return ngx_http_mobispot_api_error(r, NGX_HTTP_BAD_GATEWAY,
                                           "redis_error",
                                           "the data store answered with "
                                           "an error");
    }

    (void) clock_gettime(CLOCK_MONOTONIC, &now);

    ms = (now.tv_sec - start->tv_sec) * 1000.0
         + (now.tv_nsec - start->tv_nsec) / 1000000.0;

    g = ngx_http_mobispot_api_gen(r);

    if (g == NULL || mobispot_json_health(g, ms) != MOBISPOT_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g);
}
