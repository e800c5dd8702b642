
/*
 * Copyright (C) Mobispot
 *
 * The Spot API: the site catalogue, its admin routes, availability and
 * nearby search.  The Redis keys are described in docs/data-model.md.
 */


#ifndef _NGX_HTTP_MOBISPOT_SPOTS_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_SPOTS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <yajl/yajl_tree.h>

#include "core/mobispot_spots.h"
#include "http/ngx_http_mobispot_api.h"


typedef struct ngx_http_mobispot_info_cache_s
    ngx_http_mobispot_info_cache_t;


#ifndef NGX_HTTP_UNPROCESSABLE_ENTITY
#define NGX_HTTP_UNPROCESSABLE_ENTITY  422
#endif

#define NGX_HTTP_MOBISPOT_ZONEINFO  "/usr/share/zoneinfo/"

/* key names: see docs/data-model.md */
#define NGX_HTTP_MOBISPOT_KEY_GEO        "ms:geo"
#define NGX_HTTP_MOBISPOT_KEY_SITES      "ms:sites"
#define NGX_HTTP_MOBISPOT_KEY_NETWORKS   "ms:{networks}:doc"
#define NGX_HTTP_MOBISPOT_KEY_PASSPORTS  "ms:{networks}:passport"
#define NGX_HTTP_MOBISPOT_KEY_VERSION    "ms:version"

/*
 * The longest key ngx_http_mobispot_spots_key() builds, in bytes: an id is
 * at most MOBISPOT_ID_MAX (64) bytes, so "ms:{site:<id>}:info" is at most
 * 79; a key that would be longer is refused, never cut short.
 */
#define NGX_HTTP_MOBISPOT_KEY_MAX        255

/* site changes, for the SSO gateways (docs/sso.md) */
#define NGX_HTTP_MOBISPOT_CHANNEL_SITES  "ms:sso:sites"


/* the Spot API's own nginx module (ngx_http_mobispot_spots_module.c) */
typedef struct {
    /* ngx_http_mobispot_tz_t, from mobispot_time_zones */
    ngx_array_t                      *time_zones;

    /* the worker's site info cache, made in init_process */
    ngx_http_mobispot_info_cache_t   *info_cache;
} ngx_http_mobispot_spots_main_conf_t;


extern ngx_module_t  ngx_http_mobispot_spots_module;


/* a zone loaded by mobispot_time_zones */
typedef struct {
    ngx_str_t                  name;
    mobispot_tz_t              tz;
} ngx_http_mobispot_tz_t;


/* one query parameter a route knows */
typedef struct {
    const char                *name;
    ngx_str_t                  value;     /* unescaped */
    ngx_uint_t                 set;
} ngx_http_mobispot_arg_t;


/* a site's info hash, decoded */
typedef struct {
    const mobispot_tz_t       *tz;
    unsigned                   slot;      /* minutes */
    mobispot_hours_t           hours;
    int64_t                    cap[MOBISPOT_KINDS];
    ngx_str_t                  name;
    ngx_str_t                  town;
    ngx_str_t                  closed;
    ngx_str_t                  networks;
} ngx_http_mobispot_info_t;


/* the worker's cache of site info (ngx_http_mobispot_info.c) */

ngx_http_mobispot_info_cache_t *ngx_http_mobispot_info_cache_create(
    ngx_log_t *log);
void ngx_http_mobispot_info_cache_destroy(
    ngx_http_mobispot_info_cache_t *cache);
void ngx_http_mobispot_info_cache_version(
    ngx_http_mobispot_info_cache_t *cache, int64_t version);
ngx_int_t ngx_http_mobispot_info_cache_get(
    ngx_http_mobispot_info_cache_t *cache, ngx_str_t *id, int64_t version,
    ngx_pool_t *pool, ngx_http_mobispot_info_t *info);
void ngx_http_mobispot_info_cache_put(ngx_http_mobispot_info_cache_t *cache,
    ngx_str_t *id, int64_t version, ngx_http_mobispot_info_t *info);


/* configuration (ngx_http_mobispot_time_zones.c) */

char *ngx_http_mobispot_time_zones(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mobispot_time_zones_default(ngx_conf_t *cf,
    ngx_http_mobispot_spots_main_conf_t *smcf);
const mobispot_tz_t *ngx_http_mobispot_tz_find(
    ngx_http_mobispot_spots_main_conf_t *smcf, u_char *name, size_t len);


/* helpers shared by the Spot API routes (ngx_http_mobispot_spots.c) */

ngx_int_t ngx_http_mobispot_spots_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message,
    const char *member, const char *name);
ngx_int_t ngx_http_mobispot_spots_args(ngx_http_request_t *r,
    ngx_http_mobispot_arg_t *args, ngx_uint_t n);
ngx_int_t ngx_http_mobispot_spots_gen_value(yajl_gen g, yajl_val v);
ngx_str_t *ngx_http_mobispot_spots_copy_reply(ngx_http_request_t *r,
    redisReply *reply);
ngx_int_t ngx_http_mobispot_spots_pass(ngx_http_request_t *r,
    ngx_str_t *pass);
ngx_int_t ngx_http_mobispot_spots_caller(ngx_http_request_t *r,
    const char *message, ngx_str_t *user, ngx_int_t *rc);
ngx_uint_t ngx_http_mobispot_spots_call_failed(ngx_http_request_t *r,
    ngx_int_t status, ngx_uint_t bad, const char *what);
ngx_int_t ngx_http_mobispot_spots_redis_error(ngx_http_request_t *r,
    const char *what);

ngx_int_t ngx_http_mobispot_spots_key(ngx_http_request_t *r, ngx_str_t *key,
    const char *fmt, ...);


/*
 * routes: ngx_http_mobispot_reads.c, ngx_http_mobispot_availability.c,
 * ngx_http_mobispot_nearby.c, ngx_http_mobispot_admin_network.c,
 * ngx_http_mobispot_admin_site.c and ngx_http_mobispot_admin_user.c
 */

ngx_int_t ngx_http_mobispot_spot_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_networks_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_availability(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_nearby(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_network_put(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_site_put(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_site_delete(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_user_put(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_user_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_user_delete(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_client_put(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_client_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_client_delete(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);


#endif /* _NGX_HTTP_MOBISPOT_SPOTS_H_INCLUDED_ */
