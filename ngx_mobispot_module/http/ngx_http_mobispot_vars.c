
/*
 * Copyright (C) Mobispot
 *
 * The module's log variables, for log_format: what a request of the API
 * or of the issuer did, read from its context once it is answered.
 * Each one is bounded (no path, no query, no user input but a booking id
 * the route has checked) and is empty ("-" in an access log line) when
 * it does not apply.
 *
 *     $mobispot_route         the route's pattern: "spots/{}/availability"
 *     $mobispot_redis_time    ms waited on Redis, all round trips: "0.412"
 *     $mobispot_cache         HIT, MISS or BYPASS (the answer cache)
 *     $mobispot_cache_status  the same, by its first name
 *     $mobispot_booking       the booking's id, once the route knows it
 *     $mobispot_error         the code of the JSON error sent
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_api.h"


static ngx_int_t ngx_http_mobispot_var_route(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_var_redis_time(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_var_cache(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_var_booking(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_var_error(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_var_set(ngx_http_variable_value_t *v,
    u_char *data, size_t len);


static ngx_http_variable_t  ngx_http_mobispot_vars[] = {

    { ngx_string("mobispot_route"), NULL,
      ngx_http_mobispot_var_route, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mobispot_redis_time"), NULL,
      ngx_http_mobispot_var_redis_time, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mobispot_cache"), NULL,
      ngx_http_mobispot_var_cache, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mobispot_cache_status"), NULL,
      ngx_http_mobispot_var_cache, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mobispot_booking"), NULL,
      ngx_http_mobispot_var_booking, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mobispot_error"), NULL,
      ngx_http_mobispot_var_error, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_mobispot_vars_add(ngx_conf_t *cf)
{
    return ngx_http_mobispot_add_variables(cf, ngx_http_mobispot_vars);
}


/* the variables of a table ended by ngx_http_null_variable (every module's) */

ngx_int_t
ngx_http_mobispot_add_variables(ngx_conf_t *cf, ngx_http_variable_t *table)
{
    ngx_http_variable_t  *var, *v;

    for (v = table; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->set_handler = v->set_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* the code of the JSON error about to be sent, for $mobispot_error */

void
ngx_http_mobispot_api_set_error(ngx_http_request_t *r, const char *code)
{
    ngx_http_mobispot_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx != NULL) {
        ctx->error = code;
    }
}


static ngx_int_t
ngx_http_mobispot_var_route(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mobispot_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx == NULL || ctx->route == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_mobispot_var_set(v, ctx->route->pattern.data,
                                     ctx->route->pattern.len);
}


static ngx_int_t
ngx_http_mobispot_var_redis_time(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                       *p;
    ngx_http_mobispot_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx == NULL || ctx->redis_calls == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_mobispot_var_set(v, p,
               ngx_sprintf(p, "%uL.%03uL", ctx->redis_usec / 1000,
                           ctx->redis_usec % 1000)
               - p);
}


static ngx_int_t
ngx_http_mobispot_var_cache(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mobispot_api_ctx_t  *ctx;

    static ngx_str_t  names[] = {
        ngx_null_string,
        ngx_string("BYPASS"),
        ngx_string("MISS"),
        ngx_string("HIT")
    };

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx == NULL || ctx->cache_status == NGX_HTTP_MOBISPOT_CACHE_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_mobispot_var_set(v, names[ctx->cache_status].data,
                                     names[ctx->cache_status].len);
}


static ngx_int_t
ngx_http_mobispot_var_booking(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mobispot_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx == NULL || ctx->booking.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_mobispot_var_set(v, ctx->booking.data, ctx->booking.len);
}


static ngx_int_t
ngx_http_mobispot_var_error(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mobispot_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx == NULL || ctx->error == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_mobispot_var_set(v, (u_char *) ctx->error,
                                     ngx_strlen(ctx->error));
}


static ngx_int_t
ngx_http_mobispot_var_set(ngx_http_variable_value_t *v, u_char *data,
    size_t len)
{
    v->len = len;
    v->data = data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
