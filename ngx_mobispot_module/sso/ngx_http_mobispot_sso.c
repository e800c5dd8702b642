
/*
 * Copyright (C) Mobispot
 *
 * The SSO gateway: a second HTTP module of the .so whose access-phase
 * handler verifies the Mobispot token of a request, exposes the identity
 * in $mobispot_* variables, and refuses (401/403 JSON), or sends a browser
 * to sign in (302), when the token does not hold.
 *
 * The algorithm comes from the configured key, never from the token; the
 * token's shape, header and claims are checked by mobispot_jwt.c and
 * mobispot_claims.c before OpenSSL verifies the signature with the pinned
 * key (sso_alg.c).
 *
 * This file holds the module, its directives and its life cycle, and the
 * access-phase handler; the handler's parts are in sso_verify.c (the
 * token and the token cache), sso_refuse.c (the answers that refuse),
 * sso_vars.c (the variables), sso_conf.c (the location's configuration),
 * sso_alg.c (the algorithms), and the feeds in sso_jwks.c, sso_site.c and
 * sso_revoke.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sso/ngx_http_mobispot_sso.h"


static ngx_int_t ngx_http_mobispot_sso_handler(ngx_http_request_t *r);


static ngx_int_t ngx_http_mobispot_sso_init_process(ngx_cycle_t *cycle);
static void ngx_http_mobispot_sso_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_mobispot_sso_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_mobispot_sso_init_main_conf(ngx_conf_t *cf,
    void *conf);

static ngx_int_t ngx_http_mobispot_sso_init(ngx_conf_t *cf);


static ngx_http_mobispot_conf_bounds_t  ngx_http_mobispot_sso_size_bounds =
    ngx_http_mobispot_bounds(SIZE, 16, 65536,
                             "must be between 16 and 65536 bytes");

static ngx_http_mobispot_conf_bounds_t  ngx_http_mobispot_sso_life_bounds =
    ngx_http_mobispot_bounds(SEC, 1, 30 * 86400,
                             "must be between 1s and 30d");

static ngx_http_mobispot_conf_bounds_t  ngx_http_mobispot_sso_cache_bounds =
    ngx_http_mobispot_bounds(NUM, 0, 1048576, "must be at most 1048576");


static ngx_conf_post_t  ngx_http_mobispot_sso_url_check =
    { ngx_http_mobispot_sso_url_post };

static ngx_conf_post_t  ngx_http_mobispot_sso_client_id_check =
    { ngx_http_mobispot_sso_client_id_post };


static ngx_conf_enum_t  ngx_http_mobispot_sso_modes[] = {
    { ngx_string("off"), NGX_HTTP_MOBISPOT_SSO_OFF },
    { ngx_string("on"), NGX_HTTP_MOBISPOT_SSO_ON },
    { ngx_string("optional"), NGX_HTTP_MOBISPOT_SSO_OPTIONAL },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_mobispot_sso_commands[] = {

    { ngx_string("mobispot_sso"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mobispot_sso_mode_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, mode),
      &ngx_http_mobispot_sso_modes },

    { ngx_string("mobispot_sso_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mobispot_sso_token_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_jwt_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23,
      ngx_http_mobispot_sso_key_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_jwt_jwks"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_mobispot_sso_jwks_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_jwt_keys_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_main_conf_t, keys_redis),
      NULL },

    { ngx_string("mobispot_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, issuer),
      NULL },

    { ngx_string("mobispot_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mobispot_sso_strings_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, audiences),
      NULL },

    { ngx_string("mobispot_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, leeway),
      NULL },

    { ngx_string("mobispot_jwt_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mobispot_sso_strings_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, require),
      NULL },

    { ngx_string("mobispot_jwt_typ"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mobispot_conf_bitmask_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, typ),
      &ngx_http_mobispot_sso_typ_masks },

    { ngx_string("mobispot_jwt_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, max_size),
      &ngx_http_mobispot_sso_size_bounds },

    { ngx_string("mobispot_sso_login_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, login_url),
      NULL },

    { ngx_string("mobispot_sso_authorize_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, authorize_url),
      &ngx_http_mobispot_sso_url_check },

    { ngx_string("mobispot_sso_client_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, client_id),
      &ngx_http_mobispot_sso_client_id_check },

    { ngx_string("mobispot_sso_redirect_uri"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, redirect_uri),
      &ngx_http_mobispot_sso_url_check },

    { ngx_string("mobispot_sso_callback"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mobispot_sso_callback_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_sso_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mobispot_sso_public_url_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_sso_pass_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, pass_token),
      NULL },

    { ngx_string("mobispot_sso_cache_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_main_conf_t, cache_size),
      &ngx_http_mobispot_sso_cache_bounds },

    { ngx_string("mobispot_sso_revocation"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_main_conf_t, revocation),
      NULL },

    { ngx_string("mobispot_sso_revocation_zone_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_main_conf_t, revocation_zone_size),
      NULL },

    { ngx_string("mobispot_jwt_max_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_main_conf_t, max_lifetime),
      &ngx_http_mobispot_sso_life_bounds },

    { ngx_string("mobispot_sso_revocation_max_stale"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_main_conf_t, revocation_max_stale),
      NULL },

    { ngx_string("mobispot_site"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, site),
      NULL },

    { ngx_string("mobispot_site_cache_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, site_ttl),
      NULL },

    { ngx_string("mobispot_site_max_stale"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, site_max_stale),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mobispot_sso_module_ctx = {
    ngx_http_mobispot_sso_add_variables,   /* preconfiguration */
    ngx_http_mobispot_sso_init,            /* postconfiguration */

    ngx_http_mobispot_sso_create_main_conf, /* create main configuration */
    ngx_http_mobispot_sso_init_main_conf,  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mobispot_sso_create_loc_conf, /* create location configuration */
    ngx_http_mobispot_sso_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_mobispot_sso_module = {
    NGX_MODULE_V1,
    &ngx_http_mobispot_sso_module_ctx,     /* module context */
    ngx_http_mobispot_sso_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_mobispot_sso_init_process,    /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_mobispot_sso_exit_process,    /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_mobispot_sso_handler(ngx_http_request_t *r)
{
    ngx_http_core_loc_conf_t           *clcf;
    ngx_http_mobispot_sso_ctx_t        *ctx;
    ngx_http_mobispot_sso_loc_conf_t   *lcf;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_sso_module);

    /* the callback is where a browser without a token comes to get one */

    if (lcf->mode == NGX_HTTP_MOBISPOT_SSO_OFF || lcf->callback) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_sso_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_sso_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_mobispot_sso_module);

        ctx->status = ngx_http_mobispot_sso_verify(r, lcf, ctx);

        mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);

        if (ctx->status == MOBISPOT_SSO_OK && mcf->revoke_zone) {
            ctx->status = ngx_http_mobispot_sso_revoked(r, ctx);
        }

        /* the token cookie and argument do not reach the upstream */

        if (ngx_http_mobispot_sso_strip(r, lcf) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx->status == MOBISPOT_SSO_OK && lcf->site.len
        && !ctx->entitlement_done)
    {
        if (ngx_http_mobispot_sso_entitlement(r, lcf, ctx) == NGX_AGAIN) {
            /* resumed by the Redis call; the cache entry may change */
            ctx->entry = NULL;
            return NGX_DONE;
        }

        ctx->entitlement_done = 1;
    }

    ctx->entry = NULL;

    if (lcf->mode == NGX_HTTP_MOBISPOT_SSO_OPTIONAL) {
        return NGX_DECLINED;
    }

    if (ctx->status == MOBISPOT_SSO_OK) {
        return NGX_OK;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->satisfy == NGX_HTTP_SATISFY_ANY) {
        /* another access module may still let the request in */
        return (ctx->status == MOBISPOT_SSO_NOT_ENTITLED)
               ? NGX_HTTP_FORBIDDEN : NGX_HTTP_UNAUTHORIZED;
    }

    return ngx_http_mobispot_sso_deny(r, lcf, ctx->status);
}


static ngx_int_t
ngx_http_mobispot_sso_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                          n;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_mobispot_sso_module);

    if (mcf == NULL) {
        return NGX_OK;
    }

    ngx_http_mobispot_sso_metrics_init_process(cycle, mcf);

    if (ngx_http_mobispot_sso_sites_init(cycle, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mobispot_sso_revoke_init_process(cycle, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mobispot_sso_rkeys_init_process(cycle, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (mcf->cache_size == 0) {
        return NGX_OK;
    }

    for (n = 1; n < mcf->cache_size; n <<= 1) { /* void */ }

    mcf->cache = ngx_calloc(n * sizeof(ngx_http_mobispot_sso_cache_entry_t),
                            cycle->log);
    if (mcf->cache == NULL) {
        return NGX_ERROR;
    }

    mcf->cache_mask = n - 1;

    /* the refused tokens: an eighth as many, at least 16 */

    n = ngx_max(n / 8, 16);

    mcf->refused = ngx_calloc(n * sizeof(ngx_http_mobispot_sso_cache_entry_t),
                              cycle->log);
    if (mcf->refused == NULL) {
        return NGX_ERROR;
    }

    mcf->refused_mask = n - 1;

    return NGX_OK;
}


static void
ngx_http_mobispot_sso_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                          i;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_mobispot_sso_module);

    if (mcf == NULL) {
        return;
    }

    ngx_http_mobispot_sso_metrics_exit_process();
    ngx_http_mobispot_sso_sites_free(mcf);
    ngx_http_mobispot_sso_revoke_exit_process(mcf);
    ngx_http_mobispot_sso_rkeys_exit_process(mcf);

    if (mcf->cache != NULL) {
        for (i = 0; i <= mcf->cache_mask; i++) {
            if (mcf->cache[i].token) {
                ngx_free(mcf->cache[i].token);
            }
        }

        ngx_free(mcf->cache);
        mcf->cache = NULL;
    }

    if (mcf->refused != NULL) {
        for (i = 0; i <= mcf->refused_mask; i++) {
            if (mcf->refused[i].token) {
                ngx_free(mcf->refused[i].token);
            }
        }

        ngx_free(mcf->refused);
        mcf->refused = NULL;
    }
}


static void *
ngx_http_mobispot_sso_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mobispot_sso_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->cache_size = NGX_CONF_UNSET_UINT;
    mcf->revocation = NGX_CONF_UNSET;
    mcf->keys_redis = NGX_CONF_UNSET;
    mcf->revocation_zone_size = NGX_CONF_UNSET_SIZE;
    mcf->revocation_max_stale = NGX_CONF_UNSET;
    mcf->max_lifetime = NGX_CONF_UNSET;

    if (ngx_array_init(&mcf->site_ids, cf->pool, 2, sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NULL;
    }

    return mcf;
}


static char *
ngx_http_mobispot_sso_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = conf;

    ngx_http_mobispot_main_conf_t  *mmcf;

    ngx_conf_init_uint_value(mcf->cache_size,
                             NGX_HTTP_MOBISPOT_SSO_CACHE_SIZE);
    ngx_conf_init_value(mcf->revocation, 0);
    ngx_conf_init_value(mcf->keys_redis, 0);
    ngx_conf_init_size_value(mcf->revocation_zone_size, 1024 * 1024);
    ngx_conf_init_value(mcf->revocation_max_stale, 5);
    ngx_conf_init_value(mcf->max_lifetime, 12 * 3600);

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);

    if (mcf->keys_redis && !mmcf->redis.configured) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_jwt_keys_redis\" needs "
                           "\"mobispot_redis\"");
        return NGX_CONF_ERROR;
    }

    if (mcf->keys_redis
        && ngx_http_mobispot_api_add_health(cf, "sso_keys",
                                            ngx_http_mobispot_sso_rkeys_health,
                                            mcf)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (mcf->revocation) {

        if (!mmcf->redis.configured) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mobispot_sso_revocation\" needs "
                               "\"mobispot_redis\"");
            return NGX_CONF_ERROR;
        }

        if (mcf->revocation_zone_size < 8 * ngx_pagesize) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mobispot_sso_revocation_zone_size\" "
                               "%uz must be at least %uz (8 memory pages)",
                               mcf->revocation_zone_size, 8 * ngx_pagesize);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_mobispot_sso_revoke_conf(cf, mcf) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mobispot_sso_init(ngx_conf_t *cf)
{
    if (ngx_http_mobispot_phase_handler(cf, NGX_HTTP_ACCESS_PHASE,
                                        ngx_http_mobispot_sso_handler)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_mobispot_sso_metrics_init(cf);
}


