
/*
 * Copyright (C) Mobispot
 *
 * Bookings as an nginx module of their own: the routes, registered with
 * the API router, and the scripts' SHA-1, made once at configuration.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


static ngx_int_t ngx_http_mobispot_bookings_preconfiguration(ngx_conf_t *cf);


static const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_bookings_routes[] =
{
    { ngx_string("bookings"),
      NGX_HTTP_POST,
      ngx_http_mobispot_booking_create,
      1, 0 },

    { ngx_string("bookings"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_booking_list,
      0, 0 },

    { ngx_string("bookings/{}"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_booking_get,
      0, 0 },

    { ngx_string("bookings/{}"),
      NGX_HTTP_DELETE,
      ngx_http_mobispot_booking_cancel,
      0, 0 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


static ngx_http_module_t  ngx_http_mobispot_bookings_module_ctx = {
    ngx_http_mobispot_bookings_preconfiguration, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_mobispot_bookings_module = {
    NGX_MODULE_V1,
    &ngx_http_mobispot_bookings_module_ctx, /* module context */
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
ngx_http_mobispot_bookings_preconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_mobispot_booking_scripts_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mobispot_api_add_routes(cf,
                                            ngx_http_mobispot_bookings_routes);
}
