
/*
 * Copyright (C) Mobispot
 *
 * The module: its directives, configuration and worker life cycle.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_module.h"
#include "http/ngx_http_mobispot_api.h"
#include "http/ngx_http_mobispot_metrics.h"
#include "http/ngx_http_mobispot_thread.h"


#define NGX_HTTP_MOBISPOT_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_MOBISPOT_REDIS_BACKOFF_MAX  2000


static void *ngx_http_mobispot_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_mobispot_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_mobispot_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mobispot_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_mobispot_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mobispot_init_process(ngx_cycle_t *cycle);
static void ngx_http_mobispot_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_mobispot_api_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_mobispot_preconfiguration(ngx_conf_t *cf);
static char *ngx_http_mobispot_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/*
 * The bounds of the values, checked as each directive is read.  A body is
 * held in memory while a route reads it: its limit keeps that bounded.
 */

static ngx_http_mobispot_conf_bounds_t  ngx_http_mobispot_api_max_body_post =
    ngx_http_mobispot_bounds(SIZE, 1, NGX_HTTP_MOBISPOT_API_MAX_BODY,
                             "must be from 1 to 1m");

static ngx_http_mobispot_conf_bounds_t  ngx_http_mobispot_max_pending_bounds =
    ngx_http_mobispot_bounds(NUM, 1, 1000000,
                             "must be between 1 and 1000000");

static ngx_http_mobispot_conf_bounds_t  ngx_http_mobispot_timeout_bounds =
    ngx_http_mobispot_bounds(MSEC, 1, NGX_MAX_INT32_VALUE,
                             "must be greater than 0");

static ngx_http_mobispot_conf_bounds_t  ngx_http_mobispot_heartbeat_bounds =
    ngx_http_mobispot_bounds(MSEC, 100, NGX_MAX_INT32_VALUE,
                             "must be at least 100ms");


static ngx_command_t  ngx_http_mobispot_commands[] = {

    { ngx_string("mobispot_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1234,
      ngx_http_mobispot_redis_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_redis_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_main_conf_t, redis.connect_timeout),
      &ngx_http_mobispot_timeout_bounds },

    { ngx_string("mobispot_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_main_conf_t, redis.timeout),
      &ngx_http_mobispot_timeout_bounds },

    { ngx_string("mobispot_redis_heartbeat"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_main_conf_t, redis.heartbeat),
      &ngx_http_mobispot_heartbeat_bounds },

    { ngx_string("mobispot_redis_max_pending"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_main_conf_t, redis.max_pending),
      &ngx_http_mobispot_max_pending_bounds },

    { ngx_string("mobispot_redis_wait"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_mobispot_redis_wait,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_mobispot_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_api_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_loc_conf_t, api_max_body),
      &ngx_http_mobispot_api_max_body_post },

    { ngx_string("mobispot_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_mobispot_metrics_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_metrics_zone_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_mobispot_metrics_zone_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_api_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_mobispot_api_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_api_retry_after"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_loc_conf_t, api_retry_after),
      NULL },

    { ngx_string("mobispot_admin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mobispot_admin_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mobispot_thread_pool,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mobispot_module_ctx = {
    ngx_http_mobispot_preconfiguration,    /* preconfiguration */
    ngx_http_mobispot_postconfiguration,   /* postconfiguration */

    ngx_http_mobispot_create_main_conf,    /* create main configuration */
    ngx_http_mobispot_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mobispot_create_loc_conf,     /* create location configuration */
    ngx_http_mobispot_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_mobispot_module = {
    NGX_MODULE_V1,
    &ngx_http_mobispot_module_ctx,         /* module context */
    ngx_http_mobispot_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_mobispot_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_mobispot_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_mobispot_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mobispot_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mobispot_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->redis.address = { 0, NULL };
     *     mcf->redis.host = { 0, NULL };
     *     mcf->redis.user = { 0, NULL };
     *     mcf->redis.password = { 0, NULL };
     *     mcf->redis.port = 0;
     *     mcf->redis.db = 0;
     *     mcf->redis.configured = 0;
     *     mcf->client = NULL;
     *     mcf->api_used = 0;
     *     mcf->cache = NULL;
     *     mcf->wait_replicas = 0;
     *     mcf->wait = { 0, NULL, NULL };
     */

    if (ngx_array_init(&mcf->routes, cf->pool, 16,
                       sizeof(ngx_http_mobispot_api_route_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&mcf->health, cf->pool, 2,
                       sizeof(ngx_http_mobispot_health_part_t))
        != NGX_OK)
    {
        return NULL;
    }

    mcf->cache_enabled = NGX_CONF_UNSET;
    mcf->metrics_size = NGX_CONF_UNSET_SIZE;
    mcf->cache_entries = NGX_CONF_UNSET_UINT;
    mcf->cache_valid = NGX_CONF_UNSET_MSEC;

    mcf->redis.connect_timeout = NGX_CONF_UNSET_MSEC;
    mcf->redis.timeout = NGX_CONF_UNSET_MSEC;
    mcf->redis.heartbeat = NGX_CONF_UNSET_MSEC;
    mcf->redis.max_pending = NGX_CONF_UNSET_UINT;
    mcf->wait_timeout = NGX_CONF_UNSET_MSEC;

    return mcf;
}


static char *
ngx_http_mobispot_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_mobispot_main_conf_t *mcf = conf;

    ngx_conf_init_msec_value(mcf->redis.connect_timeout, 1000);
    ngx_conf_init_msec_value(mcf->redis.timeout, 1000);
    ngx_conf_init_msec_value(mcf->redis.heartbeat, 1000);
    ngx_conf_init_uint_value(mcf->redis.max_pending, 4096);

    ngx_conf_init_value(mcf->cache_enabled, 1);
    ngx_conf_init_uint_value(mcf->cache_entries, 1024);
    ngx_conf_init_msec_value(mcf->cache_valid, 60000);

    mcf->redis.backoff_min = NGX_HTTP_MOBISPOT_REDIS_BACKOFF_MIN;
    mcf->redis.backoff_max = NGX_HTTP_MOBISPOT_REDIS_BACKOFF_MAX;

    return ngx_http_mobispot_redis_wait_check(cf, mcf);
}


static void *
ngx_http_mobispot_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mobispot_loc_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mobispot_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     lcf->api_prefix = { 0, NULL };
     *     lcf->admin_role = { 0, NULL };
     *     lcf->thread_used = 0;
     */

    lcf->api = NGX_CONF_UNSET;
    lcf->api_max_body = NGX_CONF_UNSET_SIZE;
    lcf->api_retry_after = NGX_CONF_UNSET;
    lcf->metrics = NGX_CONF_UNSET_UINT;
    lcf->admin = NGX_CONF_UNSET_UINT;
    lcf->thread_pool = NGX_CONF_UNSET_PTR;

    return lcf;
}


static char *
ngx_http_mobispot_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mobispot_loc_conf_t *prev = parent;
    ngx_http_mobispot_loc_conf_t *conf = child;

    /* mobispot_api is not inherited: it names the location it is in */
    ngx_conf_init_value(conf->api, 0);

    ngx_conf_merge_size_value(conf->api_max_body, prev->api_max_body,
                              64 * 1024);
    ngx_conf_merge_sec_value(conf->api_retry_after, prev->api_retry_after, 1);

    /* closed unless the configuration says who may use them */

    if (conf->admin == NGX_CONF_UNSET_UINT) {
        conf->admin = prev->admin;
        conf->admin_role = prev->admin_role;
    }

    if (conf->admin == NGX_CONF_UNSET_UINT) {
        conf->admin = NGX_HTTP_MOBISPOT_ADMIN_OFF;
    }

    /* after the admin rule: the routes that hash need a pool */
    return ngx_http_mobispot_thread_merge(cf, prev, conf);
}


static ngx_int_t
ngx_http_mobispot_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_mobispot_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);

    if (mcf->api_used && !mcf->redis.configured) {
        ngx_http_mobispot_conf_refuse(cf, &mcf->api_where,
                                      "\"mobispot_api\" requires "
                                      "\"mobispot_redis\" in the http block "
                                      "(its routes read Redis)");
        return NGX_ERROR;
    }

    if (mcf->api_used && ngx_http_mobispot_body_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mobispot_metrics_init(cf);
}


static ngx_int_t
ngx_http_mobispot_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mobispot_module);

    if (mcf == NULL) {
        return NGX_OK;
    }

    if (mcf->redis.configured) {
        mcf->client = ngx_http_mobispot_redis_client_create(cycle,
                                                            &mcf->redis);
        if (mcf->client == NULL) {
            return NGX_ERROR;
        }
    }

    /* the metrics' series, with the client's gauges when there is one */

    if (ngx_http_mobispot_metrics_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!mcf->redis.configured) {
        return NGX_OK;
    }

    if (!mcf->api_used || !mcf->cache_enabled) {
        return NGX_OK;
    }

    mcf->cache = ngx_http_mobispot_cache_create(cycle->log, mcf->cache_entries,
                                                mcf->cache_valid);
    if (mcf->cache == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mobispot_redis_track(mcf->client,
                                      ngx_http_mobispot_cache_invalidate,
                                      mcf->cache)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Whether this process runs what one process of an nginx does for all:
 * worker 0, or the one process without a master
 */

ngx_uint_t
ngx_http_mobispot_worker_zero(void)
{
    return (ngx_process == NGX_PROCESS_WORKER
            || ngx_process == NGX_PROCESS_SINGLE)
           && ngx_worker == 0;
}


static void
ngx_http_mobispot_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mobispot_module);

    if (mcf == NULL) {
        return;
    }

    ngx_http_mobispot_metrics_exit_process(cycle);

    /* the client tells the cache it is going: the cache goes after it */

    if (mcf->client != NULL) {
        ngx_http_mobispot_redis_client_destroy(mcf->client);
        mcf->client = NULL;
    }

    ngx_http_mobispot_cache_destroy(mcf->cache);
    mcf->cache = NULL;
}


/*
 * mobispot_api [base=/prefix/]: routes are matched below the location's
 * prefix, or below base= (so that a location such as /api/v1/admin/ can
 * hold a part of the API with its own access rules, and a regex location
 * can hold it at all).
 */

static char *
ngx_http_mobispot_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mobispot_loc_conf_t *lcf = conf;

    ngx_str_t                      *value, base;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_mobispot_main_conf_t  *mcf;

    if (lcf->api != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    value = cf->args->elts;

    if (clcf->named) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_api\" cannot be used in a named "
                           "location");
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 2) {
        if (ngx_strncmp(value[1].data, "base=", 5) != 0) {
            ngx_http_mobispot_emerg(cf, 0, "invalid parameter \"%V\", it "
                                    "takes base=/PATH", &value[1]);
            return NGX_CONF_ERROR;
        }

        base.data = value[1].data + 5;
        base.len = value[1].len - 5;

        if (base.len == 0 || base.data[0] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mobispot_api\" base must be a path that "
                               "starts with \"/\", not \"%V\"", &base);
            return NGX_CONF_ERROR;
        }

        /* a prefix location outside its base could never match a route */

        if (!clcf->regex
            && (clcf->name.len < base.len
                || ngx_strncmp(clcf->name.data, base.data, base.len) != 0))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mobispot_api\" base \"%V\" is not a "
                               "prefix of the location \"%V\"",
                               &base, &clcf->name);
            return NGX_CONF_ERROR;
        }

        lcf->api_prefix = base;

    } else {
#if (NGX_PCRE)
        if (clcf->regex) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mobispot_api\" in a regex location needs "
                               "base=: routes are matched below a prefix");
            return NGX_CONF_ERROR;
        }
#endif

        lcf->api_prefix = clcf->name;
    }

    lcf->api = 1;

    clcf->handler = ngx_http_mobispot_api_handler;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);
    if (!mcf->api_used) {
        ngx_http_mobispot_conf_where(cf, &mcf->api_where);
    }

    mcf->api_used = 1;

    return NGX_CONF_OK;
}


/* mobispot_api_cache on | off [entries=N] [valid=time] */

static char *
ngx_http_mobispot_api_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mobispot_main_conf_t *mcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (mcf->cache_enabled != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        mcf->cache_enabled = 0;

        if (cf->args->nelts > 2) {
            return "takes no parameters after \"off\"";
        }

        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "on") != 0) {
        ngx_http_mobispot_emerg(cf, 0,
                                "invalid value \"%V\", it must be \"on\" "
                                "or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    mcf->cache_enabled = 1;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "entries=", 8) == 0) {
            n = ngx_atoi(value[i].data + 8, value[i].len - 8);

            /* a power of two: the slot is a mask of the hash */

            if (n == NGX_ERROR || n < 1 || n > 1048576 || (n & (n - 1))) {
                ngx_http_mobispot_emerg(cf, 0, "invalid \"%V\": entries must "
                                        "be a power of two from 1 to "
                                        "1048576", &value[i]);
                return NGX_CONF_ERROR;
            }

            mcf->cache_entries = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "valid=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR || n <= 0) {
                ngx_http_mobispot_emerg(cf, 0, "invalid \"%V\": valid must be "
                                        "a time greater than 0", &value[i]);
                return NGX_CONF_ERROR;
            }

            mcf->cache_valid = (ngx_msec_t) n;
            continue;
        }

        ngx_http_mobispot_emerg(cf, 0, "invalid parameter \"%V\", it takes "
                                "entries=N and valid=TIME", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the operational routes of every API location */

static const ngx_http_mobispot_api_route_t  ngx_http_mobispot_routes[] = {

    { ngx_string("health"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_health,
      0, 0 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


static ngx_int_t
ngx_http_mobispot_preconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_mobispot_api_add_routes(cf, ngx_http_mobispot_routes)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_mobispot_vars_add(cf);
}
