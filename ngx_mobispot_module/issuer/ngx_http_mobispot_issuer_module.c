
/*
 * Copyright (C) Mobispot
 *
 * The SSO issuer as an nginx module of its own: its directives, its
 * configuration (where nginx -t refuses an issuer without its URL, its
 * keys or Redis), the worker's life cycle (the key set published), and the
 * content handler of a location with mobispot_sso_issuer, which serves
 * its routes below the location's prefix.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_thread.h"
#include "issuer/ngx_http_mobispot_issuer.h"


static char *ngx_http_mobispot_issuer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_mobispot_issuer_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mobispot_issuer_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_mobispot_issuer_merge_srv_conf(ngx_conf_t *cf,
    void *parent, void *child);
static void *ngx_http_mobispot_issuer_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mobispot_issuer_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_mobispot_issuer_init_process(ngx_cycle_t *cycle);
static void ngx_http_mobispot_issuer_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_mobispot_issuer_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mobispot_issuer_discovery_get(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_issuer_jwks_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_issuer_document(ngx_http_request_t *r,
    ngx_str_t *doc, const char *cache_control, size_t cc_len);


/* mobispot_sso_session_lifetime: 5 minutes to 30 days */

static ngx_http_mobispot_conf_bounds_t
    ngx_http_mobispot_issuer_lifetime_post =
    ngx_http_mobispot_bounds(SEC, NGX_HTTP_MOBISPOT_SESSION_MIN,
                             NGX_HTTP_MOBISPOT_SESSION_MAX,
                             "must be between 5m and 30d");


static ngx_command_t  ngx_http_mobispot_issuer_commands[] = {

    { ngx_string("mobispot_sso_issuer"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mobispot_issuer,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_sso_issuer_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mobispot_issuer_url_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_sso_token_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mobispot_issuer_lifetime_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_sso_api_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mobispot_issuer_audience_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_sso_signing_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE2,
      ngx_http_mobispot_issuer_key_conf,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mobispot_sso_session_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_issuer_loc_conf_t, session_lifetime),
      &ngx_http_mobispot_issuer_lifetime_post },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mobispot_issuer_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_mobispot_issuer_metrics_init, /* postconfiguration */

    ngx_http_mobispot_issuer_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_mobispot_issuer_create_srv_conf, /* create server configuration */
    ngx_http_mobispot_issuer_merge_srv_conf,  /* merge server configuration */

    ngx_http_mobispot_issuer_create_loc_conf, /* create location conf. */
    ngx_http_mobispot_issuer_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_mobispot_issuer_module = {
    NGX_MODULE_V1,
    &ngx_http_mobispot_issuer_module_ctx,  /* module context */
    ngx_http_mobispot_issuer_commands,     /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_mobispot_issuer_init_process, /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_mobispot_issuer_exit_process, /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* the issuer's documents, made at configuration time */

static const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_issuer_doc_routes[] =
{
    { ngx_string(".well-known/openid-configuration"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_issuer_discovery_get, 0, 0 },

    { ngx_string("jwks"),
      NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_issuer_jwks_get, 0, 0 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


/*
 * The issuer's routes, below the location's prefix, each table in the
 * file of its endpoints: a pattern is a path matched exactly
 */

static const ngx_http_mobispot_api_route_t
    *ngx_http_mobispot_issuer_tables[] =
{
    ngx_http_mobispot_issuer_doc_routes,
    ngx_http_mobispot_issuer_login_routes,
    ngx_http_mobispot_issuer_authorize_routes,
    ngx_http_mobispot_issuer_logout_routes,
    ngx_http_mobispot_issuer_token_routes,
    ngx_http_mobispot_issuer_userinfo_routes,
    NULL
};


/*
 * mobispot_sso_issuer: in a prefix location whose name ends with "/"
 * (its routes are below it; a regex, exact or named location has no
 * prefix to serve them from)
 */

static char *
ngx_http_mobispot_issuer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mobispot_issuer_loc_conf_t *ilcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (ilcf->enabled != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->named || clcf->exact_match
#if (NGX_PCRE)
        || clcf->regex
#endif
        || clcf->name.len == 0 || clcf->name.data[clcf->name.len - 1] != '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_sso_issuer\" needs a prefix location "
                           "whose name ends with \"/\" (\"%V\" is not one)",
                           &clcf->name);
        return NGX_CONF_ERROR;
    }

    ilcf->enabled = 1;
    ilcf->prefix = clcf->name;
    ngx_http_mobispot_conf_where(cf, &ilcf->where);

    /*
     * the sign-in checks passwords in the thread pool, the token endpoint
     * client secrets, and it signs RS256 there
     */
    ngx_http_mobispot_thread_use(cf);
    clcf->handler = ngx_http_mobispot_issuer_handler;

    return NGX_CONF_OK;
}


static void *
ngx_http_mobispot_issuer_create_main_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     imcf->keys = NULL;
     *     imcf->jwks = { 0, NULL };
     *     imcf->jwks_where = { 0, NULL };
     */

    return ngx_pcalloc(cf->pool, sizeof(ngx_http_mobispot_issuer_main_conf_t));
}


static void *
ngx_http_mobispot_issuer_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_mobispot_issuer_srv_conf_t  *iscf;

    iscf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mobispot_issuer_srv_conf_t));
    if (iscf == NULL) {
        return NULL;
    }

    iscf->keys = NGX_CONF_UNSET_PTR;

    return iscf;
}


/* a server with its own keys does not inherit those of http */

static char *
ngx_http_mobispot_issuer_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_mobispot_issuer_srv_conf_t *prev = parent;
    ngx_http_mobispot_issuer_srv_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);

    return NGX_CONF_OK;
}


static void *
ngx_http_mobispot_issuer_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mobispot_issuer_loc_conf_t  *ilcf;

    ilcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mobispot_issuer_loc_conf_t));
    if (ilcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ilcf->prefix = { 0, NULL };
     *     ilcf->url = { 0, NULL };
     *     ilcf->keys = NULL;
     *     ilcf->discovery = { 0, NULL };
     *     ilcf->jwks = { 0, NULL };
     */

    ilcf->enabled = NGX_CONF_UNSET;
    ilcf->session_lifetime = NGX_CONF_UNSET;
    ilcf->token_lifetime = NGX_CONF_UNSET;

    return ilcf;
}


/*
 * An issuer location gets its URL, the server's keys and Redis, or nginx
 * -t refuses it; its answers are made here.  Every issuer location of the
 * nginx has the same keys: they are published in one Redis key.
 */

static char *
ngx_http_mobispot_issuer_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_mobispot_issuer_loc_conf_t *prev = parent;
    ngx_http_mobispot_issuer_loc_conf_t *conf = child;

    ngx_http_mobispot_main_conf_t         *mmcf;
    ngx_http_mobispot_issuer_srv_conf_t   *iscf;
    ngx_http_mobispot_issuer_main_conf_t  *imcf;

    /* not inherited: a location nested in the issuer's is its own */

    if (conf->enabled == NGX_CONF_UNSET) {
        conf->enabled = 0;
    }

    ngx_conf_merge_str_value(conf->url, prev->url, "");
    ngx_conf_merge_sec_value(conf->session_lifetime, prev->session_lifetime,
                             NGX_HTTP_MOBISPOT_SESSION_LIFETIME);

    if (ngx_http_mobispot_issuer_mint_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (!conf->enabled) {
        return NGX_CONF_OK;
    }

    if (conf->url.len == 0) {
        ngx_http_mobispot_conf_refuse(cf, &conf->where,
                                      "\"mobispot_sso_issuer\" in location "
                                      "\"%V\" needs "
                                      "\"mobispot_sso_issuer_url\" (the "
                                      "\"iss\" of its tokens)",
                                      &conf->prefix);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mobispot_issuer_url_check(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    iscf = ngx_http_conf_get_module_srv_conf(cf,
                                             ngx_http_mobispot_issuer_module);
    conf->keys = iscf->keys;

    if (conf->keys == NULL || conf->keys->nelts == 0) {
        ngx_http_mobispot_conf_refuse(cf, &conf->where,
                                      "\"mobispot_sso_issuer\" in location "
                                      "\"%V\" needs at least one "
                                      "\"mobispot_sso_signing_key\" in its "
                                      "server or http block (it signs its "
                                      "tokens)", &conf->prefix);
        return NGX_CONF_ERROR;
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);

    if (!mmcf->redis.configured) {
        ngx_http_mobispot_conf_refuse(cf, &conf->where,
                                      "\"mobispot_sso_issuer\" needs "
                                      "\"mobispot_redis\" in the http block "
                                      "(its keys are published there for the "
                                      "gateways, its sessions kept there)");
        return NGX_CONF_ERROR;
    }

    imcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_mobispot_issuer_module);

    if (imcf->keys != NULL && imcf->keys != conf->keys) {
        ngx_http_mobispot_conf_refuse(cf, &conf->where,
                                      "\"mobispot_sso_issuer\" in location "
                                      "\"%V\" has other signing keys than "
                                      "\"%V\": every issuer of an nginx "
                                      "signs with the same "
                                      "\"mobispot_sso_signing_key\" keys, "
                                      "published in one Redis key ("
                                      NGX_HTTP_MOBISPOT_ISSUER_KEY_JWKS ")",
                                      &conf->prefix, &imcf->jwks_where);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mobispot_issuer_jwks(cf, conf->keys, &conf->jwks) != NGX_OK
        || ngx_http_mobispot_issuer_discovery(cf, conf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (imcf->keys == NULL) {
        imcf->keys = conf->keys;
        imcf->jwks = conf->jwks;
        imcf->jwks_where = conf->prefix;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mobispot_issuer_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_issuer_metrics_init_process();

    return ngx_http_mobispot_issuer_publish_init(cycle);
}


static void
ngx_http_mobispot_issuer_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_mobispot_issuer_publish_exit(cycle);
}


/*
 * The route of the path below the prefix (exactly), run as the API runs
 * its routes (its context, its body, its Redis calls); 405 with Allow for a
 * method it does not take, 404 for no route.  The query string is read by
 * the endpoints that take parameters only: a cache-buster a client adds to
 * a document changes nothing.
 */

static ngx_int_t
ngx_http_mobispot_issuer_handler(ngx_http_request_t *r)
{
    ngx_str_t                                 path;
    ngx_uint_t                                i, allowed;
    ngx_http_mobispot_api_ctx_t              *ctx;
    ngx_http_mobispot_issuer_loc_conf_t      *lcf;
    const ngx_http_mobispot_api_route_t      *route;
    const ngx_http_mobispot_api_route_t     **table;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    ctx = ngx_http_mobispot_api_ctx_create(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_null(&path);

    if (r->uri.len >= lcf->prefix.len
        && ngx_strncmp(r->uri.data, lcf->prefix.data, lcf->prefix.len) == 0)
    {
        path.data = r->uri.data + lcf->prefix.len;
        path.len = r->uri.len - lcf->prefix.len;
    }

    ctx->path = path;
    allowed = 0;

    for (table = ngx_http_mobispot_issuer_tables; *table; table++) {
        for (i = 0; (*table)[i].handler; i++) {
            route = &(*table)[i];

            if (path.len != route->pattern.len
                || ngx_strncmp(path.data, route->pattern.data, path.len) != 0)
            {
                continue;
            }

            if (r->method & route->methods) {
                return ngx_http_mobispot_api_run(r, ctx, route);
            }

            allowed |= route->methods;
        }
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (allowed) {
        return ngx_http_mobispot_api_not_allowed(r, allowed);
    }

    return ngx_http_mobispot_api_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                       "no such route of the issuer");
}


static ngx_int_t
ngx_http_mobispot_issuer_discovery_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    static const char  cc[] = "public, max-age=3600";

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    return ngx_http_mobispot_issuer_document(r, &lcf->discovery, cc,
                                             sizeof(cc) - 1);
}


static ngx_int_t
ngx_http_mobispot_issuer_jwks_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    static const char  cc[] = "public, max-age=300";

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    return ngx_http_mobispot_issuer_document(r, &lcf->jwks, cc,
                                             sizeof(cc) - 1);
}


/* a document made at configuration time, sent as it is */

static ngx_int_t
ngx_http_mobispot_issuer_document(ngx_http_request_t *r, ngx_str_t *doc,
    const char *cache_control, size_t cc_len)
{
    ngx_buf_t    *b;
    ngx_chain_t   out;

    static ngx_str_t  json = ngx_string("application/json");

    if (ngx_http_mobispot_api_header(r, "Cache-Control",
                                     sizeof("Cache-Control") - 1,
                                     (u_char *) cache_control, cc_len)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = doc->data;
    b->last = doc->data + doc->len;
    b->memory = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_mobispot_send(r, NGX_HTTP_OK, &json, &out, doc->len);
}
