
/*
 * Copyright (C) Mobispot
 *
 * The JSON API: one router below the location of mobispot_api, one JSON
 * error path, and the helpers the route handlers share.
 */


#ifndef _NGX_HTTP_MOBISPOT_API_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_module.h"
#include "http/ngx_http_mobispot_cache.h"


#define NGX_HTTP_MOBISPOT_API_MAX_PARAMS  4


typedef struct ngx_http_mobispot_api_route_s  ngx_http_mobispot_api_route_t;


/* the output of a generator of ngx_http_mobispot_api_gen_trusted() */
#define NGX_HTTP_MOBISPOT_OUT_SIZE  4096

typedef struct {
    ngx_pool_t                        *pool;
    ngx_chain_t                       *first;
    ngx_chain_t                      **last;
    ngx_buf_t                         *buf;       /* being filled */
    size_t                             len;
    ngx_uint_t                         failed;    /* out of memory */
} ngx_http_mobispot_api_out_t;


typedef struct {
    const ngx_http_mobispot_api_route_t *route;
    ngx_str_t                          path;      /* below the prefix */
    ngx_str_t                          params[NGX_HTTP_MOBISPOT_API_MAX_PARAMS];
    ngx_uint_t                         nparams;
    ngx_http_mobispot_main_conf_t     *mcf;
    ngx_http_mobispot_loc_conf_t      *lcf;
    void                              *data;      /* the route's own state */
    ngx_http_mobispot_api_out_t       *out;       /* the answer, or NULL */

    /* a cacheable answer that missed: stored when sent (200 only) */
    ngx_http_mobispot_cache_req_t     *cache;
    ngx_uint_t                         cache_status;

    /* a write: the keys it names (ngx_str_t), invalidated when it answers */
    ngx_array_t                       *written;

    /* the answer's Content-Type when not JSON (a CSV answer), or empty */
    ngx_str_t                          content_type;

    /* what the log variables tell (ngx_http_mobispot_vars.c) */
    const char                        *error;     /* the error code sent */
    ngx_str_t                          booking;   /* the booking's id */
    uint64_t                           redis_usec; /* waited on Redis */
    ngx_uint_t                         redis_calls;

    /* the request body of a route that reads one, in one buffer */
    ngx_str_t                          body;
    void                              *body_state; /* while it is read */
} ngx_http_mobispot_api_ctx_t;


/*
 * A route handler returns what a content handler returns: a status or the
 * result of sending the response, or NGX_DONE when it went asynchronous
 * (see ngx_http_mobispot_api_call()).
 */
typedef ngx_int_t (*ngx_http_mobispot_api_handler_pt)(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);


/*
 * A route, as a resource module registers it (in its preconfiguration,
 * with ngx_http_mobispot_api_add_routes()): "{}" in the pattern matches
 * one non-empty path segment, given to the handler in ctx->params.
 */

struct ngx_http_mobispot_api_route_s {
    ngx_str_t                          pattern;   /* "spots/{}/availability" */
    ngx_uint_t                         methods;   /* NGX_HTTP_GET|... */
    ngx_http_mobispot_api_handler_pt   handler;
    ngx_uint_t                         body;      /* reads a request body */
    ngx_uint_t                         admin;     /* an admin route */
};


/* a Redis reply, copied into the request pool (ngx_http_mobispot_call.c) */

typedef struct ngx_http_mobispot_reply_s  ngx_http_mobispot_reply_t;

struct ngx_http_mobispot_reply_s {
    int                                type;      /* REDIS_REPLY_* */
    long long                          integer;
    ngx_str_t                          str;       /* NUL-terminated */
    size_t                             elements;
    ngx_http_mobispot_reply_t         *element;
};


/*
 * The keys a call reads and writes, as its route declares them (for
 * EVALSHA, FCALL or MULTI/EXEC as for a plain command): a write makes the
 * worker forget what it knew of its keys; an answer that is kept depends
 * on the keys read.
 */

typedef struct {
    ngx_str_t                         *read;
    ngx_uint_t                         nread;
    ngx_str_t                         *written;
    ngx_uint_t                         nwritten;
} ngx_http_mobispot_api_keys_t;


/*
 * Called once all the replies of a call are in (n of them, in the order of
 * the commands), never when the call failed (that is answered for the
 * route).  Returns what a content handler returns: a status, the result of
 * sending the answer, or NGX_DONE after another ngx_http_mobispot_api_call().
 */

typedef ngx_int_t (*ngx_http_mobispot_api_done_pt)(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);


ngx_int_t ngx_http_mobispot_api_call(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmds,
    ngx_uint_t n, const ngx_http_mobispot_api_keys_t *keys,
    ngx_http_mobispot_api_done_pt done);
ngx_int_t ngx_http_mobispot_api_stream(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmds,
    ngx_uint_t n, const ngx_http_mobispot_api_keys_t *keys,
    ngx_http_mobispot_redis_reply_pt on_reply,
    ngx_http_mobispot_redis_done_pt on_done, void *data);
ngx_int_t ngx_http_mobispot_api_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmds,
    ngx_uint_t n, ngx_http_mobispot_redis_reply_pt on_reply,
    ngx_http_mobispot_redis_done_pt on_done, void *data);
ngx_str_t *ngx_http_mobispot_reply_str(ngx_http_mobispot_reply_t *reply);
ngx_int_t ngx_http_mobispot_api_refused(ngx_http_request_t *r,
    const char *what, ngx_str_t *error);
ngx_int_t ngx_http_mobispot_api_bad_reply(ngx_http_request_t *r,
    const char *what);


ngx_int_t ngx_http_mobispot_admin_allowed(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_uint_t ngx_http_mobispot_admin_is(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_api_add_routes(ngx_conf_t *cf,
    const ngx_http_mobispot_api_route_t *routes);
ngx_int_t ngx_http_mobispot_api_handler(ngx_http_request_t *r);
ngx_http_mobispot_api_ctx_t *ngx_http_mobispot_api_ctx_create(
    ngx_http_request_t *r);
ngx_int_t ngx_http_mobispot_api_run(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx,
    const ngx_http_mobispot_api_route_t *route);
ngx_int_t ngx_http_mobispot_api_not_allowed(ngx_http_request_t *r,
    ngx_uint_t allowed);
ngx_int_t ngx_http_mobispot_api_read_body(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_body_filter_init(ngx_conf_t *cf);

ngx_int_t ngx_http_mobispot_api_cached(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t *key);
ngx_int_t ngx_http_mobispot_api_redis_failed(ngx_http_request_t *r,
    ngx_int_t status);

yajl_gen ngx_http_mobispot_api_gen(ngx_http_request_t *r);
yajl_gen ngx_http_mobispot_api_gen_trusted(ngx_http_request_t *r);
ngx_int_t ngx_http_mobispot_api_send(ngx_http_request_t *r, ngx_uint_t status,
    yajl_gen g);
ngx_int_t ngx_http_mobispot_api_send_raw(ngx_http_request_t *r,
    ngx_uint_t status, u_char *data, size_t len);
ngx_int_t ngx_http_mobispot_api_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message);
ngx_int_t ngx_http_mobispot_api_header(ngx_http_request_t *r,
    const char *name, size_t name_len, u_char *value, size_t value_len);
ngx_int_t ngx_http_mobispot_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_chain_t *cl, off_t len);

void ngx_http_mobispot_api_set_error(ngx_http_request_t *r,
    const char *code);
ngx_int_t ngx_http_mobispot_vars_add(ngx_conf_t *cf);

ngx_uint_t ngx_http_mobispot_header_values(ngx_http_request_t *r,
    const char *name, ngx_str_t *values, ngx_uint_t max);
ngx_uint_t ngx_http_mobispot_accepts(ngx_http_request_t *r, const char *type);
ngx_int_t ngx_http_mobispot_health(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);


#endif /* _NGX_HTTP_MOBISPOT_API_H_INCLUDED_ */
