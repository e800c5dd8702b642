
/*
 * Copyright (C) Mobispot
 *
 * GET {prefix}health: a PING through the worker's Redis connection, the
 * module's version, the state of the worker's other connections (tracking,
 * the subscriptions), and the parts other modules add (the SSO gateway's
 * revocation zone and key set): any degraded part makes the status
 * "degraded" (still 200: the API answers).
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
    double                            ms;
    yajl_gen                          g;
    ngx_uint_t                        i, degraded, any;
    struct timespec                   now, *start;
    mobispot_health_t                 h;
    ngx_http_mobispot_main_conf_t    *mcf;
    ngx_http_mobispot_redis_state_t   st;
    ngx_http_mobispot_health_part_t  *part;

    start = ctx->data;

    if (replies[0].type != REDIS_REPLY_STATUS
        || replies[0].str.len != sizeof("PONG") - 1
        || ngx_strncmp(replies[0].str.data, "PONG", 4) != 0)
    {
        ngx_http_mobispot_fault(NGX_LOG_ERR, r->connection->log,
                                "mobispot: redis answered PING with a %s "
                                "reply", mobispot_reply_type_name(
                                             replies[0].type));

        return ngx_http_mobispot_api_error(r, NGX_HTTP_BAD_GATEWAY,
                                           "redis_error",
                                           "the data store answered with "
                                           "an error");
    }

    (void) clock_gettime(CLOCK_MONOTONIC, &now);

    ms = (now.tv_sec - start->tv_sec) * 1000.0
         + (now.tv_nsec - start->tv_nsec) / 1000000.0;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);
    part = mcf->health.elts;

    /*
     * the subscriptions are told, not judged: the parts that need them
     * (sign-outs, the key set) say when their loss matters
     */

    ngx_http_mobispot_redis_state(mcf->client, &st);
    any = 0;

    for (i = 0; i < mcf->health.nelts; i++) {
        degraded = 0;

        if (part[i].handler(r, NULL, &degraded, part[i].data) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        any |= degraded;
    }

    g = ngx_http_mobispot_api_gen(r);

    h.status = any ? "degraded" : "ok";
    h.version = NGX_HTTP_MOBISPOT_VERSION;
    h.latency_ms = ms;
    h.tracking = st.tracking;
    h.subscriptions = st.subscriptions;
    h.channels = st.channels;
    h.channels_up = st.channels_up;

    if (g == NULL || mobispot_json_health(g, &h) != MOBISPOT_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < mcf->health.nelts; i++) {
        if (mobispot_json_string(g, part[i].name) != MOBISPOT_OK
            || part[i].handler(r, g, &degraded, part[i].data) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (yajl_gen_map_close(g) != yajl_gen_status_ok) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g);
}


ngx_int_t
ngx_http_mobispot_api_add_health(ngx_conf_t *cf, const char *name,
    ngx_http_mobispot_health_pt handler, void *data)
{
    ngx_http_mobispot_main_conf_t    *mcf;
    ngx_http_mobispot_health_part_t  *part;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);

    part = ngx_array_push(&mcf->health);
    if (part == NULL) {
        return NGX_ERROR;
    }

    part->name = name;
    part->handler = handler;
    part->data = data;

    return NGX_OK;
}
