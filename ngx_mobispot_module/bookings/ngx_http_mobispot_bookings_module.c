
/*
 * Copyright (C) Mobispot
 *
 * Bookings as an nginx module of their own: the routes, registered with
 * the API router, the scripts' SHA-1, made once at configuration, the
 * booking times, the check-in at the site's door, and the worker that
 * runs the bookings' deadlines.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


static ngx_int_t ngx_http_mobispot_bookings_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mobispot_bookings_postconfiguration(
    ngx_conf_t *cf);
static void *ngx_http_mobispot_bookings_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_mobispot_bookings_init_main_conf(ngx_conf_t *cf,
    void *conf);
static void *ngx_http_mobispot_bookings_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mobispot_bookings_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_mobispot_bookings_init_process(ngx_cycle_t *cycle);
static void ngx_http_mobispot_bookings_exit_process(ngx_cycle_t *cycle);


/* the times' bounds, checked as each is read (docs/bookings.md) */

static ngx_http_mobispot_conf_bounds_t  ngx_http_mobispot_hold_bounds =
    ngx_http_mobispot_bounds(SEC, 1, 3600, "must be 1s to 1h");

static ngx_http_mobispot_conf_bounds_t  ngx_http_mobispot_no_show_bounds =
    ngx_http_mobispot_bounds(SEC, 1, 4 * 3600, "must be 1s to 4h");

static ngx_http_mobispot_conf_bounds_t  ngx_http_mobispot_grace_bounds =
    ngx_http_mobispot_bounds(SEC, 0, 3600, "must be 0 to 1h");


static ngx_command_t  ngx_http_mobispot_bookings_commands[] = {

    { ngx_string("mobispot_bookings_hold"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_bookings_main_conf_t, hold),
      &ngx_http_mobispot_hold_bounds },

    { ngx_string("mobispot_bookings_no_show"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_bookings_main_conf_t, no_show),
      &ngx_http_mobispot_no_show_bounds },

    { ngx_string("mobispot_bookings_grace"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_bookings_main_conf_t, grace),
      &ngx_http_mobispot_grace_bounds },

    { ngx_string("mobispot_bookings_deadlines"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_bookings_main_conf_t, due),
      NULL },

    { ngx_string("mobispot_bookings_horizon"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_bookings_main_conf_t, horizon),
      &ngx_http_mobispot_hold_bounds },

    { ngx_string("mobispot_checkin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_bookings_loc_conf_t, checkin),
      NULL },

      ngx_null_command
};


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

    { ngx_string("bookings/{}/confirm"),
      NGX_HTTP_POST,
      ngx_http_mobispot_booking_confirm,
      0, 0 },

    { ngx_string("bookings/{}/checkin"),
      NGX_HTTP_POST,
      ngx_http_mobispot_booking_checkin,
      0, 0 },

    { ngx_string("bookings/{}/checkout"),
      NGX_HTTP_POST,
      ngx_http_mobispot_booking_checkout,
      0, 0 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


static ngx_http_module_t  ngx_http_mobispot_bookings_module_ctx = {
    ngx_http_mobispot_bookings_preconfiguration, /* preconfiguration */
    ngx_http_mobispot_bookings_postconfiguration, /* postconfiguration */

    ngx_http_mobispot_bookings_create_main_conf, /* create main conf */
    ngx_http_mobispot_bookings_init_main_conf, /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mobispot_bookings_create_loc_conf, /* create location conf */
    ngx_http_mobispot_bookings_merge_loc_conf /* merge location conf */
};


ngx_module_t  ngx_http_mobispot_bookings_module = {
    NGX_MODULE_V1,
    &ngx_http_mobispot_bookings_module_ctx, /* module context */
    ngx_http_mobispot_bookings_commands,   /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_mobispot_bookings_init_process, /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_mobispot_bookings_exit_process, /* exit process */
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


static ngx_int_t
ngx_http_mobispot_bookings_postconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_mobispot_booking_door_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mobispot_booking_metrics_init(cf);
}


static void *
ngx_http_mobispot_bookings_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mobispot_bookings_main_conf_t  *bmcf;

    bmcf = ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_mobispot_bookings_main_conf_t));
    if (bmcf == NULL) {
        return NULL;
    }

    bmcf->hold = NGX_CONF_UNSET;
    bmcf->no_show = NGX_CONF_UNSET;
    bmcf->grace = NGX_CONF_UNSET;
    bmcf->due = NGX_CONF_UNSET;
    bmcf->horizon = NGX_CONF_UNSET;

    return bmcf;
}


/*
 * The times must keep a booking's deadlines in order (a hold ends before
 * the no-show it would become): docs/bookings.md.
 */

static char *
ngx_http_mobispot_bookings_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_mobispot_bookings_main_conf_t  *bmcf = conf;

    ngx_conf_init_value(bmcf->hold, NGX_HTTP_MOBISPOT_BOOKING_HOLD);
    ngx_conf_init_value(bmcf->no_show, NGX_HTTP_MOBISPOT_BOOKING_NO_SHOW);
    ngx_conf_init_value(bmcf->grace, NGX_HTTP_MOBISPOT_BOOKING_GRACE);
    ngx_conf_init_value(bmcf->due, 1);
    ngx_conf_init_value(bmcf->horizon, NGX_HTTP_MOBISPOT_BOOKING_HORIZON);

    /* each time's own bounds are checked as it is read (the posts) */

    if (bmcf->no_show < bmcf->hold) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_bookings_no_show\" (%T s) must be at "
                           "least \"mobispot_bookings_hold\" (%T s): a hold "
                           "ends before the no-show it would become",
                           bmcf->no_show, bmcf->hold);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_mobispot_bookings_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mobispot_bookings_loc_conf_t  *blcf;

    blcf = ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_mobispot_bookings_loc_conf_t));
    if (blcf == NULL) {
        return NULL;
    }

    blcf->checkin = NGX_CONF_UNSET;

    return blcf;
}


static char *
ngx_http_mobispot_bookings_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_mobispot_bookings_loc_conf_t  *prev = parent;
    ngx_http_mobispot_bookings_loc_conf_t  *conf = child;

    ngx_conf_merge_value(conf->checkin, prev->checkin, 0);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mobispot_bookings_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_booking_metrics_init_process();

    return ngx_http_mobispot_booking_due_init(cycle);
}


static void
ngx_http_mobispot_bookings_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_booking_due_exit(cycle);
    ngx_http_mobispot_booking_door_exit();
}
