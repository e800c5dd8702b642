
/*
 * Copyright (C) Mobispot
 *
 * The API router: the routes the resource modules register, matched below
 * the prefix of the location that holds mobispot_api (or below its base=).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_api.h"


static const ngx_http_mobispot_api_route_t *ngx_http_mobispot_api_route(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx,
    ngx_uint_t *allowed);
static ngx_uint_t ngx_http_mobispot_api_match(const ngx_str_t *pattern,
    ngx_str_t *path, ngx_http_mobispot_api_ctx_t *ctx);
static ngx_uint_t ngx_http_mobispot_api_params(const ngx_str_t *pattern);


/*
 * Called by a resource module in its preconfiguration: routes is an array
 * ended by a route without a handler, in memory that outlives the cycle
 * (static).  The routes are kept ordered by their number of parameters, so
 * that "spots/nearby" is preferred to "spots/{}" whatever the order in
 * which the modules register.
 */

ngx_int_t
ngx_http_mobispot_api_add_routes(ngx_conf_t *cf,
    const ngx_http_mobispot_api_route_t *routes)
{
    ngx_uint_t                            i, n;
    ngx_http_mobispot_main_conf_t        *mcf;
    const ngx_http_mobispot_api_route_t  *route, **elts, **slot;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);

    for (route = routes; route->handler; route++) {
        slot = ngx_array_push(&mcf->routes);
        if (slot == NULL) {
            return NGX_ERROR;
        }

        elts = mcf->routes.elts;
        n = ngx_http_mobispot_api_params(&route->pattern);

        /* after every route with as many parameters or fewer */

        for (i = mcf->routes.nelts - 1; i > 0; i--) {
            if (ngx_http_mobispot_api_params(&elts[i - 1]->pattern) <= n) {
                break;
            }

            elts[i] = elts[i - 1];
        }

        elts[i] = route;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_mobispot_api_params(const ngx_str_t *pattern)
{
    u_char      *p, *last;
    ngx_uint_t   n;

    n = 0;
    last = pattern->data + pattern->len;

    for (p = pattern->data; p + 1 < last; p++) {
        if (p[0] == '{' && p[1] == '}') {
            n++;
        }
    }

    return n;
}


static const struct {
    ngx_uint_t   method;
    ngx_str_t    name;
} ngx_http_mobispot_api_methods[] = {
    { NGX_HTTP_GET, ngx_string("GET") },
    { NGX_HTTP_HEAD, ngx_string("HEAD") },
    { NGX_HTTP_POST, ngx_string("POST") },
    { NGX_HTTP_PUT, ngx_string("PUT") },
    { NGX_HTTP_PATCH, ngx_string("PATCH") },
    { NGX_HTTP_DELETE, ngx_string("DELETE") },
    { 0, ngx_null_string }
};


/* the request's context of the API, made once by its content handler */

ngx_http_mobispot_api_ctx_t *
ngx_http_mobispot_api_ctx_create(ngx_http_request_t *r)
{
    ngx_http_mobispot_api_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_module);
    ctx->mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);

    ngx_http_set_ctx(r, ctx, ngx_http_mobispot_module);

    return ctx;
}


ngx_int_t
ngx_http_mobispot_api_handler(ngx_http_request_t *r)
{
    ngx_uint_t                            allowed;
    ngx_http_mobispot_api_ctx_t          *ctx;
    const ngx_http_mobispot_api_route_t  *route;

    ctx = ngx_http_mobispot_api_ctx_create(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    route = ngx_http_mobispot_api_route(r, ctx, &allowed);

    if (route == NULL) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (allowed) {
            return ngx_http_mobispot_api_not_allowed(r, allowed);
        }

        return ngx_http_mobispot_api_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                           "no such route");
    }

    return ngx_http_mobispot_api_run(r, ctx, route);
}


/*
 * A route found, by the router or by a content handler of its own (the
 * issuer's): the admin check, then the handler, after its body is read
 */

ngx_int_t
ngx_http_mobispot_api_run(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx,
    const ngx_http_mobispot_api_route_t *route)
{
    ngx_int_t  rc;

    ctx->route = route;

    if (route->admin) {
        rc = ngx_http_mobispot_admin_allowed(r, ctx);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (!route->body) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return route->handler(r, ctx);
    }

    return ngx_http_mobispot_api_read_body(r, ctx);
}


static const ngx_http_mobispot_api_route_t *
ngx_http_mobispot_api_route(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t *allowed)
{
    ngx_str_t                            *prefix;
    ngx_uint_t                            i;
    const ngx_http_mobispot_api_route_t  *route, **routes;

    *allowed = 0;
    prefix = &ctx->lcf->api_prefix;

    if (r->uri.len < prefix->len
        || ngx_strncmp(r->uri.data, prefix->data, prefix->len) != 0)
    {
        /* reached by an internal redirect from elsewhere */
        return NULL;
    }

    ctx->path.data = r->uri.data + prefix->len;
    ctx->path.len = r->uri.len - prefix->len;

    if (ctx->path.len && ctx->path.data[0] == '/') {
        ctx->path.data++;
        ctx->path.len--;
    }

    routes = ctx->mcf->routes.elts;

    for (i = 0; i < ctx->mcf->routes.nelts; i++) {
        route = routes[i];

        if (!ngx_http_mobispot_api_match(&route->pattern, &ctx->path, ctx)) {
            continue;
        }

        if (route->methods & r->method) {
            return route;
        }

        *allowed |= route->methods;
    }

    return NULL;
}


/*
 * Matches a path against a pattern segment by segment; "{}" matches one
 * non-empty segment, captured into ctx->params.
 */

static ngx_uint_t
ngx_http_mobispot_api_match(const ngx_str_t *pattern, ngx_str_t *path,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    u_char  *p, *pe, *s, *se, *seg;

    p = pattern->data;
    pe = p + pattern->len;
    s = path->data;
    se = s + path->len;

    ctx->nparams = 0;

    while (p < pe) {

        if (pe - p >= 2 && p[0] == '{' && p[1] == '}') {
            seg = s;

            while (s < se && *s != '/') {
                s++;
            }

            if (s == seg || ctx->nparams == NGX_HTTP_MOBISPOT_API_MAX_PARAMS) {
                return 0;
            }

            ctx->params[ctx->nparams].data = seg;
            ctx->params[ctx->nparams].len = s - seg;
            ctx->nparams++;

            p += 2;
            continue;
        }

        if (s == se || *s != *p) {
            return 0;
        }

        p++;
        s++;
    }

    return s == se;
}


/* 405 with the Allow header of the methods a route takes */

ngx_int_t
ngx_http_mobispot_api_not_allowed(ngx_http_request_t *r, ngx_uint_t allowed)
{
    u_char      *p, *value;
    size_t       len;
    ngx_uint_t   i;

    len = 0;

    for (i = 0; ngx_http_mobispot_api_methods[i].method; i++) {
        if (allowed & ngx_http_mobispot_api_methods[i].method) {
            len += ngx_http_mobispot_api_methods[i].name.len + 2;
        }
    }

    value = ngx_pnalloc(r->pool, len);
    if (value == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = value;

    for (i = 0; ngx_http_mobispot_api_methods[i].method; i++) {
        if (allowed & ngx_http_mobispot_api_methods[i].method) {
            if (p != value) {
                *p++ = ',';
                *p++ = ' ';
            }

            p = ngx_cpymem(p, ngx_http_mobispot_api_methods[i].name.data,
                           ngx_http_mobispot_api_methods[i].name.len);
        }
    }

    if (ngx_http_mobispot_api_header(r, "Allow", sizeof("Allow") - 1, value,
                                     p - value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_error(r, NGX_HTTP_NOT_ALLOWED,
                                       "method_not_allowed",
                                       "method not allowed on this route");
}
