
/*
 * Copyright (C) Mobispot
 *
 * Usage and the monthly settlement as an nginx module of their own: the
 * routes, registered with the API router.  settlement is an admin route
 * (refused by the router unless mobispot_admin lets the caller in);
 * usage checks its caller itself: an admin, or a site's operator.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "usage/ngx_http_mobispot_usage.h"


static ngx_int_t ngx_http_mobispot_usage_preconfiguration(ngx_conf_t *cf);


static const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_usage_routes[] =
{
    { ngx_string("usage"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_usage_get,
      0, 0 },

    { ngx_string("settlement"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_settlement_get,
      0, 1 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


static ngx_http_module_t  ngx_http_mobispot_usage_module_ctx = {
    ngx_http_mobispot_usage_preconfiguration, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_mobispot_usage_module = {
    NGX_MODULE_V1,
    &ngx_http_mobispot_usage_module_ctx,   /* module context */
    NULL,                                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_mobispot_usage_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_mobispot_api_add_routes(cf,
                                            ngx_http_mobispot_usage_routes);
}
