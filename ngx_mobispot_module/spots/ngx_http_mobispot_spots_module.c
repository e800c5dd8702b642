
/*
 * Copyright (C) Mobispot
 *
 * The Spot API as an nginx module of its own: its directives, its routes
 * (registered with the API router), and the worker's site info cache.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_spots.h"


static ngx_int_t ngx_http_mobispot_spots_preconfiguration(ngx_conf_t *cf);
static void *ngx_http_mobispot_spots_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_mobispot_spots_init_main_conf(ngx_conf_t *cf,
    void *conf);
static ngx_int_t ngx_http_mobispot_spots_init_process(ngx_cycle_t *cycle);
static void ngx_http_mobispot_spots_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_mobispot_spots_commands[] = {

    { ngx_string("mobispot_time_zones"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_mobispot_time_zones,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


/* "spots/nearby" is preferred to "spots/{}": fewer parameters win */

static const ngx_http_mobispot_api_route_t  ngx_http_mobispot_spots_routes[] = {

    { ngx_string("spots/nearby"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_nearby,
      0, 0 },

    { ngx_string("spots/{}/availability"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_availability,
      0, 0 },

    { ngx_string("spots/{}"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_spot_get,
      0, 0 },

    { ngx_string("networks"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_networks_get,
      0, 0 },

    { ngx_string("admin/networks/{}"),
      NGX_HTTP_PUT,
      ngx_http_mobispot_admin_network_put,
      1, 1 },

    { ngx_string("admin/sites/{}"),
      NGX_HTTP_PUT,
      ngx_http_mobispot_admin_site_put,
      1, 1 },

    { ngx_string("admin/sites/{}"),
      NGX_HTTP_DELETE,
      ngx_http_mobispot_admin_site_delete,
      0, 1 },

    { ngx_string("admin/users/{}"),
      NGX_HTTP_PUT,
      ngx_http_mobispot_admin_user_put,
      1, 1 },

    { ngx_string("admin/users/{}"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_admin_user_get,
      0, 1 },

    { ngx_string("admin/users/{}"),
      NGX_HTTP_DELETE,
      ngx_http_mobispot_admin_user_delete,
      0, 1 },

    { ngx_string("admin/clients/{}"),
      NGX_HTTP_PUT,
      ngx_http_mobispot_admin_client_put,
      1, 1 },

    { ngx_string("admin/clients/{}"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_admin_client_get,
      0, 1 },

    { ngx_string("admin/clients/{}"),
      NGX_HTTP_DELETE,
      ngx_http_mobispot_admin_client_delete,
      0, 1 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


static ngx_http_module_t  ngx_http_mobispot_spots_module_ctx = {
    ngx_http_mobispot_spots_preconfiguration, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_mobispot_spots_create_main_conf, /* create main configuration */
    ngx_http_mobispot_spots_init_main_conf, /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_mobispot_spots_module = {
    NGX_MODULE_V1,
    &ngx_http_mobispot_spots_module_ctx,   /* module context */
    ngx_http_mobispot_spots_commands,      /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_mobispot_spots_init_process,  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_mobispot_spots_exit_process,  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_mobispot_spots_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_mobispot_api_add_routes(cf,
                                            ngx_http_mobispot_spots_routes);
}


static void *
ngx_http_mobispot_spots_create_main_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     smcf->time_zones = NULL;
     *     smcf->info_cache = NULL;
     */

    return ngx_pcalloc(cf->pool, sizeof(ngx_http_mobispot_spots_main_conf_t));
}


static char *
ngx_http_mobispot_spots_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_mobispot_spots_main_conf_t *smcf = conf;

    return ngx_http_mobispot_time_zones_default(cf, smcf);
}


static ngx_int_t
ngx_http_mobispot_spots_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_main_conf_t        *mcf;
    ngx_http_mobispot_spots_main_conf_t  *smcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mobispot_module);
    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_mobispot_spots_module);

    if (mcf == NULL || smcf == NULL || !mcf->api_used) {
        return NGX_OK;
    }

    smcf->info_cache = ngx_http_mobispot_info_cache_create(cycle->log);
    if (smcf->info_cache == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_mobispot_spots_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_spots_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_mobispot_spots_module);

    if (smcf == NULL) {
        return;
    }

    ngx_http_mobispot_info_cache_destroy(smcf->info_cache);
    smcf->info_cache = NULL;
}
