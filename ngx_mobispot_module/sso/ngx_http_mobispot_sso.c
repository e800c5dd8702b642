
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
 * mobispot_claims.c before libjwt verifies the signature with the pinned
 * key.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sso/ngx_http_mobispot_sso.h"


static ngx_int_t ngx_http_mobispot_sso_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_mobispot_sso_verify(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx);
static ngx_uint_t ngx_http_mobispot_sso_signature(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, mobispot_jwt_header_t *h,
    ngx_str_t *token, const char **reason);
static yajl_val ngx_http_mobispot_sso_segment(ngx_http_request_t *r,
    u_char *data, size_t len, const char **reason);
static void ngx_http_mobispot_sso_tree_cleanup(void *data);
static ngx_int_t ngx_http_mobispot_sso_refuse(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_uint_t status);
static ngx_uint_t ngx_http_mobispot_sso_is_browser(ngx_http_request_t *r);

static ngx_int_t ngx_http_mobispot_sso_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_sso_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_sso_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_sso_roles_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_sso_claim_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, const char *name);

static ngx_http_mobispot_sso_cache_entry_t *
    ngx_http_mobispot_sso_cache_get(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *token, uint32_t *hash,
    ngx_uint_t *hit);
static void ngx_http_mobispot_sso_cache_put(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf,
    ngx_http_mobispot_sso_ctx_t *ctx, ngx_http_mobispot_sso_cache_entry_t *e,
    uint32_t hash, ngx_str_t *token, size_t dot1, size_t dot2,
    yajl_val payload, time_t exp);
static ngx_int_t ngx_http_mobispot_sso_init_process(ngx_cycle_t *cycle);
static void ngx_http_mobispot_sso_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_mobispot_sso_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_mobispot_sso_init_main_conf(ngx_conf_t *cf,
    void *conf);

static ngx_int_t ngx_http_mobispot_sso_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_mobispot_sso_init(ngx_conf_t *cf);
static void *ngx_http_mobispot_sso_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mobispot_sso_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_mobispot_sso_token_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mobispot_sso_key_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mobispot_sso_jwks_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mobispot_sso_key_check(ngx_conf_t *cf,
    ngx_http_mobispot_sso_key_t *key);
static char *ngx_http_mobispot_sso_strings_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mobispot_sso_read_file(ngx_conf_t *cf,
    ngx_str_t *name, ngx_str_t *out);


static ngx_conf_enum_t  ngx_http_mobispot_sso_modes[] = {
    { ngx_string("off"), NGX_HTTP_MOBISPOT_SSO_OFF },
    { ngx_string("on"), NGX_HTTP_MOBISPOT_SSO_ON },
    { ngx_string("optional"), NGX_HTTP_MOBISPOT_SSO_OPTIONAL },
    { ngx_null_string, 0 }
};


static const struct {
    const char                    *name;
    jwt_alg_t                      alg;
    size_t                         min_secret;  /* HS*: bytes */
    int                            pkey;        /* RS*, ES*: EVP_PKEY_* */
    int                            bits;        /* ES*: curve size */
} ngx_http_mobispot_sso_algs[] = {
    { "HS256", JWT_ALG_HS256, 32, 0, 0 },
    { "HS384", JWT_ALG_HS384, 48, 0, 0 },
    { "HS512", JWT_ALG_HS512, 64, 0, 0 },
    { "RS256", JWT_ALG_RS256, 0, EVP_PKEY_RSA, 0 },
    { "RS384", JWT_ALG_RS384, 0, EVP_PKEY_RSA, 0 },
    { "RS512", JWT_ALG_RS512, 0, EVP_PKEY_RSA, 0 },
    { "ES256", JWT_ALG_ES256, 0, EVP_PKEY_EC, 256 },
    { "ES384", JWT_ALG_ES384, 0, EVP_PKEY_EC, 384 },
    { "ES512", JWT_ALG_ES512, 0, EVP_PKEY_EC, 521 },
    { NULL, JWT_ALG_NONE, 0, 0, 0 }
};


/* messages of the JSON errors and of WWW-Authenticate, by status */

static const char  *ngx_http_mobispot_sso_messages[MOBISPOT_SSO_NSTATUS] = {
    "ok",
    "no token",
    "the token is malformed",
    "the token signature does not verify with a trusted key",
    "the token has expired",
    "the token is not valid yet",
    "the token was issued by another issuer",
    "the token is for another audience",
    "the token does not give access to this site",
    "the session was signed out",
    "the sign-in service is unavailable"
};


static ngx_command_t  ngx_http_mobispot_sso_commands[] = {

    { ngx_string("mobispot_sso"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
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

    { ngx_string("mobispot_jwt_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, max_size),
      NULL },

    { ngx_string("mobispot_sso_login_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mobispot_sso_loc_conf_t, login_url),
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
      NULL },

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
      NULL },

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


/*
 * The identity variables are changeable: the configuration may "set" them
 * (the Spot API's tests stand in for a signed-in caller that way); a
 * client never can.
 */

static ngx_http_variable_t  ngx_http_mobispot_sso_vars[] = {

    { ngx_string("mobispot_sso_status"), NULL,
      ngx_http_mobispot_sso_status_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mobispot_sub"), NULL,
      ngx_http_mobispot_sso_claim_variable, (uintptr_t) "sub",
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_CHANGEABLE, 0 },

    { ngx_string("mobispot_sid"), NULL,
      ngx_http_mobispot_sso_claim_variable, (uintptr_t) "sid",
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_CHANGEABLE, 0 },

    { ngx_string("mobispot_pass"), NULL,
      ngx_http_mobispot_sso_claim_variable, (uintptr_t) "pass",
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_CHANGEABLE, 0 },

    { ngx_string("mobispot_roles"), NULL,
      ngx_http_mobispot_sso_roles_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_CHANGEABLE, 0 },

    { ngx_string("mobispot_claim_"), NULL,
      ngx_http_mobispot_sso_prefix_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_mobispot_sso_handler(ngx_http_request_t *r)
{
    ngx_http_core_loc_conf_t           *clcf;
    ngx_http_mobispot_sso_ctx_t        *ctx;
    ngx_http_mobispot_sso_loc_conf_t   *lcf;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_sso_module);

    if (lcf->mode == NGX_HTTP_MOBISPOT_SSO_OFF) {
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

    ngx_http_finalize_request(r, ngx_http_mobispot_sso_refuse(r, lcf,
                                                              ctx->status));
    return NGX_DONE;
}


static ngx_uint_t
ngx_http_mobispot_sso_verify(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx)
{
    size_t                                dot1, dot2;
    uint32_t                              hash;
    yajl_val                              header, payload, sid;
    ngx_str_t                             token;
    ngx_uint_t                            status, hit;
    const char                           *reason;
    mobispot_jwt_header_t                 h;
    ngx_http_mobispot_sso_cache_entry_t  *e;

    reason = NULL;
    header = NULL;

    if (ngx_http_mobispot_sso_token(r, lcf, &token) != NGX_OK) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mobispot: no sso token");
        return MOBISPOT_SSO_MISSING;
    }

    hash = 0;
    hit = 0;
    e = NULL;

    if (token.len <= lcf->max_size) {
        e = ngx_http_mobispot_sso_cache_get(r, lcf, &token, &hash, &hit);
    }

    if (hit) {
        ctx->segment.data = token.data + e->dot1 + 1;
        ctx->segment.len = e->dot2 - e->dot1 - 1;
        ctx->exp = e->exp;

        if (e->sid_len >= 0) {
            ctx->sid.data = ngx_pnalloc(r->pool, e->sid_len + 1);
            if (ctx->sid.data == NULL) {
                return MOBISPOT_SSO_UNAVAILABLE;
            }

            ngx_memcpy(ctx->sid.data, e->sid, e->sid_len);
            ctx->sid.len = e->sid_len;
        }

        ctx->entry = e;

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mobispot: sso token cached");

        return MOBISPOT_SSO_OK;
    }

    status = mobispot_jwt_shape((const char *) token.data, token.len,
                                lcf->max_size, &dot1, &dot2, &reason);
    if (status != MOBISPOT_SSO_OK) {
        goto refused;
    }

    header = ngx_http_mobispot_sso_segment(r, token.data, dot1, &reason);
    if (header == NULL) {
        status = MOBISPOT_SSO_MALFORMED;
        goto refused;
    }

    status = mobispot_jwt_header_check(header, &h, &reason);
    if (status != MOBISPOT_SSO_OK) {
        goto refused;
    }

    payload = ngx_http_mobispot_sso_segment(r, token.data + dot1 + 1,
                                            dot2 - dot1 - 1, &reason);
    if (payload == NULL) {
        status = MOBISPOT_SSO_MALFORMED;
        goto refused;
    }

    /* the cheap checks first: a stale token costs no signature check */

    status = mobispot_claims_check(payload, &lcf->claims,
                                   (long long) ngx_time(), &ctx->exp,
                                   &reason);
    if (status != MOBISPOT_SSO_OK) {
        goto refused;
    }

    status = ngx_http_mobispot_sso_signature(r, lcf, &h, &token, &reason);
    if (status != MOBISPOT_SSO_OK) {
        goto refused;
    }

    ctx->payload = payload;
    ctx->segment.data = token.data + dot1 + 1;
    ctx->segment.len = dot2 - dot1 - 1;

    sid = mobispot_json_member(payload, "sid");

    if (sid != NULL && YAJL_IS_STRING(sid)
        && ngx_strlen(sid->u.string) <= NGX_HTTP_MOBISPOT_SSO_SID_MAX)
    {
        ctx->sid.data = (u_char *) sid->u.string;
        ctx->sid.len = ngx_strlen(sid->u.string);
    }

    if (e) {
        ngx_http_mobispot_sso_cache_put(r, lcf, ctx, e, hash, &token, dot1,
                                        dot2, payload, (time_t) ctx->exp);
        ctx->entry = e;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mobispot: sso token accepted");

    return MOBISPOT_SSO_OK;

refused:

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: sso token refused (%s): %s",
                  mobispot_sso_status_name(status),
                  reason ? reason : "unknown");

    return status;
}


/*
 * The signature, with a key chosen by the configuration: the token's kid
 * (an opaque string) selects among the keys that have one, a token
 * without kid among the keys without one; the token's alg must equal the
 * chosen key's algorithm exactly.  libjwt is never called without a key,
 * and the key it gets only serves its own algorithm.
 */

static ngx_uint_t
ngx_http_mobispot_sso_signature(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, mobispot_jwt_header_t *h,
    ngx_str_t *token, const char **reason)
{
    int                                 rc;
    u_char                             *s;
    jwt_t                              *jwt;
    size_t                              kid_len;
    ngx_uint_t                          i, n, set, tried, kid_found;
    jwt_alg_t                           alg;
    ngx_array_t                        *sets[2];
    ngx_http_mobispot_sso_key_t        *key;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    /* the configured keys, then the keys the issuer published in Redis */

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);

    sets[0] = lcf->keys;
    sets[1] = mcf->rkeys;

    if (sets[0] == NULL && sets[1] == NULL) {
        *reason = "no key configured";
        return MOBISPOT_SSO_BAD_SIGNATURE;
    }

    s = ngx_pnalloc(r->pool, token->len + 1);
    if (s == NULL) {
        *reason = "out of memory";
        return MOBISPOT_SSO_UNAVAILABLE;
    }

    ngx_memcpy(s, token->data, token->len);
    s[token->len] = '\0';

    kid_len = h->kid ? ngx_strlen(h->kid) : 0;
    tried = 0;
    kid_found = 0;
    key = NULL;
    n = 0;

    for (set = 0, i = 0; /* void */ ; i++) {

        if (i >= n) {
            while (set < 2 && (sets[set] == NULL || sets[set]->nelts == 0)) {
                set++;
            }

            if (set == 2) {
                break;
            }

            key = sets[set]->elts;
            n = sets[set]->nelts;
            set++;
            i = 0;
        }

        if (h->kid) {
            if (key[i].kid.len != kid_len
                || ngx_memcmp(key[i].kid.data, h->kid, kid_len) != 0)
            {
                continue;
            }

            kid_found = 1;

        } else if (key[i].kid.len) {
            continue;
        }

        if (ngx_strcmp(h->alg, key[i].alg_name) != 0) {
            continue;
        }

        tried++;
        jwt = NULL;

        rc = jwt_decode(&jwt, (const char *) s, key[i].key,
                        (int) key[i].key_len);

        if (rc != 0 || jwt == NULL) {
            if (jwt) {
                jwt_free(jwt);
            }

            continue;
        }

        alg = jwt_get_alg(jwt);
        jwt_free(jwt);

        if (alg != key[i].alg) {
            continue;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mobispot: sso token verified with key from \"%V\"",
                       &key[i].file);

        return MOBISPOT_SSO_OK;
    }

    if (tried) {
        *reason = "signature does not verify";

    } else if (h->kid && !kid_found) {
        *reason = "unknown kid";

    } else {
        *reason = "alg does not match a configured key";
    }

    return MOBISPOT_SSO_BAD_SIGNATURE;
}


/* decodes a base64url segment and parses it as a strict JSON object */

static yajl_val
ngx_http_mobispot_sso_segment(ngx_http_request_t *r, u_char *data,
    size_t len, const char **reason)
{
    u_char              *buf;
    size_t               n;
    yajl_val             v;
    ngx_pool_cleanup_t  *cln;

    buf = ngx_pnalloc(r->pool, mobispot_b64url_decoded_max(len) + 1);
    if (buf == NULL) {
        *reason = "out of memory";
        return NULL;
    }

    if (mobispot_b64url_decode((const char *) data, len, buf, &n) != 0) {
        *reason = "invalid base64url";
        return NULL;
    }

    buf[n] = '\0';

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        *reason = "out of memory";
        return NULL;
    }

    v = mobispot_jwt_json((const char *) buf, n, reason);
    if (v == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mobispot_sso_tree_cleanup;
    cln->data = v;

    return v;
}


static void
ngx_http_mobispot_sso_tree_cleanup(void *data)
{
    yajl_tree_free(data);
}


/* the answer to a request that the gateway does not let in */

static ngx_int_t
ngx_http_mobispot_sso_refuse(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_uint_t status)
{
    u_char       *p;
    size_t        len;
    ngx_int_t     rc;
    ngx_str_t     realm;
    const char   *msg;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    msg = ngx_http_mobispot_sso_messages[status];

    if (status == MOBISPOT_SSO_NOT_ENTITLED) {
        return ngx_http_mobispot_api_error(r, NGX_HTTP_FORBIDDEN,
                                           "not_entitled", msg);
    }

    if (status == MOBISPOT_SSO_UNAVAILABLE) {
        return ngx_http_mobispot_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "sso_unavailable", msg);
    }

    if (lcf->login_url.len && ngx_http_mobispot_sso_is_browser(r)) {
        rc = ngx_http_mobispot_sso_redirect(r, lcf);

        if (rc != NGX_DECLINED) {
            return rc;
        }

        /* no public name to return to: answered as an API client */
    }

    /* RFC 6750 section 3 */

    if (lcf->site.len) {
        realm = lcf->site;

    } else {
        ngx_str_set(&realm, "mobispot");
    }

    len = sizeof("Bearer realm=\"\", error=\"invalid_token\", "
                 "error_description=\"\"") - 1
          + realm.len + ngx_strlen(msg);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (status == MOBISPOT_SSO_MISSING) {
        len = ngx_sprintf(p, "Bearer realm=\"%V\"", &realm) - p;

    } else {
        len = ngx_sprintf(p, "Bearer realm=\"%V\", error=\"invalid_token\", "
                          "error_description=\"%s\"", &realm, msg)
              - p;
    }

    if (ngx_http_mobispot_sso_header(r, "WWW-Authenticate", p, len, NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_error(r, NGX_HTTP_UNAUTHORIZED,
                                       mobispot_sso_status_name(status),
                                       msg);
}


/* a browser is a client that accepts text/html */

static ngx_uint_t
ngx_http_mobispot_sso_is_browser(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Accept") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Accept",
                               sizeof("Accept") - 1)
               == 0
            && ngx_strlcasestrn(h[i].value.data,
                                h[i].value.data + h[i].value.len,
                                (u_char *) "text/html",
                                sizeof("text/html") - 1 - 1)
               != NULL)
        {
            return 1;
        }
    }

    return 0;
}


/* a response header; with out, the element (for headers_out.location) */

ngx_int_t
ngx_http_mobispot_sso_header(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len, ngx_table_elt_t **out)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    if (out) {
        *out = h;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_sso_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char                   *name;
    ngx_http_mobispot_sso_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_sso_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    name = mobispot_sso_status_name(ctx->status);

    v->data = (u_char *) name;
    v->len = ngx_strlen(name);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_sso_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_mobispot_sso_claim_value(r, v, (const char *) data);
}


static ngx_int_t
ngx_http_mobispot_sso_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t  *var = (ngx_str_t *) data;

    u_char  *name;
    size_t   len;

    len = var->len - (sizeof("mobispot_claim_") - 1);

    name = ngx_pnalloc(r->pool, len + 1);
    if (name == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(name, var->data + sizeof("mobispot_claim_") - 1, len);
    name[len] = '\0';

    return ngx_http_mobispot_sso_claim_value(r, v, (const char *) name);
}


/* a role name: not empty, no blank, comma or control character */

static ngx_uint_t
ngx_http_mobispot_sso_role_name(u_char *s)
{
    if (*s == '\0') {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if (*s <= 0x20 || *s == 0x7f || *s == ',') {
            return 0;
        }
    }

    return 1;
}


/*
 * $mobispot_roles: the "roles" claim as a list separated by blanks (an
 * array of strings, or one string naming one role); empty (but found: the
 * caller is signed in) when there is none, or when a role is not a string
 * or holds a blank, a comma or a control character.  So the
 * string "user admin" is no list: it names no role and grants none
 * (docs/security.md).
 */

static ngx_int_t
ngx_http_mobispot_sso_roles_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                       *p, *s;
    size_t                        len, i;
    yajl_val                      roles, e;
    ngx_http_mobispot_sso_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_sso_module);

    if (ctx == NULL || ctx->status != MOBISPOT_SSO_OK) {
        return NGX_OK;
    }

    /* a signed-in caller: no role (or roles not well formed) is empty */

    v->data = (u_char *) "";
    v->len = 0;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    roles = mobispot_json_member(ngx_http_mobispot_sso_payload(r, ctx),
                                 "roles");

    if (roles == NULL) {
        return NGX_OK;
    }

    if (YAJL_IS_STRING(roles)) {
        if (ngx_http_mobispot_sso_role_name((u_char *) roles->u.string)) {
            v->data = (u_char *) roles->u.string;
            v->len = ngx_strlen(v->data);
        }

        return NGX_OK;
    }

    if (!YAJL_IS_ARRAY(roles)) {
        return NGX_OK;
    }

    len = 0;

    for (i = 0; i < roles->u.array.len; i++) {
        e = roles->u.array.values[i];

        if (!YAJL_IS_STRING(e)) {
            return NGX_OK;
        }

        s = (u_char *) e->u.string;

        if (!ngx_http_mobispot_sso_role_name(s)) {
            return NGX_OK;
        }

        len += ngx_strlen(s) + 1;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;

    for (i = 0; i < roles->u.array.len; i++) {
        if (i) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, roles->u.array.values[i]->u.string,
                       ngx_strlen(roles->u.array.values[i]->u.string));
    }

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * A claim of a verified token as a variable: strings as they are (not
 * found when they hold a control character, so that a value can never
 * split a header), numbers as written, booleans as true/false, arrays and
 * objects as JSON; null or absent: not found.
 */

static ngx_int_t
ngx_http_mobispot_sso_claim_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, const char *name)
{
    u_char                       *p;
    size_t                        len, i;
    yajl_gen                      g;
    yajl_val                      val;
    const char                   *s;
    const unsigned char          *buf;
    ngx_http_mobispot_sso_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_sso_module);

    if (ctx == NULL || ctx->status != MOBISPOT_SSO_OK) {
        return NGX_OK;
    }

    val = mobispot_json_member(ngx_http_mobispot_sso_payload(r, ctx), name);

    if (val == NULL || YAJL_IS_NULL(val)) {
        return NGX_OK;
    }

    if (YAJL_IS_STRING(val)) {
        s = val->u.string;
        len = ngx_strlen(s);

        for (i = 0; i < len; i++) {
            if ((u_char) s[i] < 0x20 || s[i] == 0x7f) {
                return NGX_OK;
            }
        }

        p = (u_char *) s;

    } else if (YAJL_IS_NUMBER(val)) {
        p = (u_char *) val->u.number.r;
        len = ngx_strlen(p);

    } else if (YAJL_IS_TRUE(val)) {
        p = (u_char *) "true";
        len = 4;

    } else if (YAJL_IS_FALSE(val)) {
        p = (u_char *) "false";
        len = 5;

    } else {
        g = ngx_http_mobispot_api_gen(r);
        if (g == NULL) {
            return NGX_ERROR;
        }

        if (mobispot_json_value(g, val) != 0
            || yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }

        p = (u_char *) buf;
    }

    v->data = p;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* the token's slot in the worker's cache, and whether it is a hit */

static ngx_http_mobispot_sso_cache_entry_t *
ngx_http_mobispot_sso_cache_get(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *token, uint32_t *hash,
    ngx_uint_t *hit)
{
    time_t                                now;
    ngx_http_mobispot_sso_main_conf_t    *mcf;
    ngx_http_mobispot_sso_cache_entry_t  *e;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);

    if (mcf->cache == NULL) {
        return NULL;
    }

    *hash = ngx_murmur_hash2(token->data, token->len);
    e = &mcf->cache[*hash & mcf->cache_mask];
    now = ngx_time();

    *hit = e->token != NULL
           && e->hash == *hash
           && e->len == token->len
           && e->keys == lcf->keys
           && e->claims == &lcf->claims
           && e->exp > now - lcf->leeway
           && e->not_before <= now + lcf->leeway
           && CRYPTO_memcmp(e->token, token->data, token->len) == 0;

    return e;
}


static void
ngx_http_mobispot_sso_cache_put(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf,
    ngx_http_mobispot_sso_ctx_t *ctx, ngx_http_mobispot_sso_cache_entry_t *e,
    uint32_t hash, ngx_str_t *token, size_t dot1, size_t dot2,
    yajl_val payload, time_t exp)
{
    u_char     *p;
    long long   nbf, iat;

    nbf = 0;
    iat = 0;

    (void) mobispot_json_integer(mobispot_json_member(payload, "nbf"), &nbf);
    (void) mobispot_json_integer(mobispot_json_member(payload, "iat"), &iat);

    if (e->token == NULL || e->len < token->len) {
        p = ngx_alloc(token->len, r->connection->log);
        if (p == NULL) {
            return;
        }

        if (e->token) {
            ngx_free(e->token);
        }

        e->token = p;
    }

    ngx_memcpy(e->token, token->data, token->len);
    e->len = token->len;
    e->hash = hash;
    e->keys = lcf->keys;
    e->claims = &lcf->claims;
    e->exp = exp;
    e->not_before = (time_t) ngx_max(nbf, iat);
    e->dot1 = dot1;
    e->dot2 = dot2;

    e->site = NULL;

    if (ctx->sid.data) {
        ngx_memcpy(e->sid, ctx->sid.data, ctx->sid.len);
        e->sid_len = ctx->sid.len;

    } else {
        e->sid_len = -1;
    }
}


/* the keys changed: no cached token may skip the signature any more */

void
ngx_http_mobispot_sso_cache_flush(ngx_http_mobispot_sso_main_conf_t *mcf)
{
    ngx_uint_t  i;

    if (mcf->cache == NULL) {
        return;
    }

    for (i = 0; i <= mcf->cache_mask; i++) {
        mcf->cache[i].keys = NULL;
        mcf->cache[i].claims = NULL;
    }
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

    ngx_http_mobispot_sso_sites_free(mcf);
    ngx_http_mobispot_sso_revoke_exit_process(mcf);
    ngx_http_mobispot_sso_rkeys_exit_process(mcf);

    if (mcf->cache == NULL) {
        return;
    }

    for (i = 0; i <= mcf->cache_mask; i++) {
        if (mcf->cache[i].token) {
            ngx_free(mcf->cache[i].token);
        }
    }

    ngx_free(mcf->cache);
    mcf->cache = NULL;
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

    if (mcf->max_lifetime < 1 || mcf->max_lifetime > 30 * 86400) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_jwt_max_lifetime\" must be between "
                           "1s and 30d");
        return NGX_CONF_ERROR;
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);

    if (mcf->keys_redis && !mmcf->redis.configured) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_jwt_keys_redis\" needs "
                           "\"mobispot_redis\"");
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
                               "\"mobispot_sso_revocation_zone_size\" must "
                               "be at least %uz", 8 * ngx_pagesize);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_mobispot_sso_revoke_conf(cf, mcf) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (mcf->cache_size > 1048576) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_sso_cache_size\" must be at most "
                           "1048576");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the claims of an accepted token, parsed again after a cache hit */

yajl_val
ngx_http_mobispot_sso_payload(ngx_http_request_t *r,
    ngx_http_mobispot_sso_ctx_t *ctx)
{
    const char  *reason;

    if (ctx->payload == NULL && ctx->segment.len) {
        ctx->payload = ngx_http_mobispot_sso_segment(r, ctx->segment.data,
                                                     ctx->segment.len,
                                                     &reason);
    }

    return ctx->payload;
}


static ngx_int_t
ngx_http_mobispot_sso_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_mobispot_sso_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_sso_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_mobispot_sso_handler;

    return NGX_OK;
}


static void *
ngx_http_mobispot_sso_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mobispot_sso_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mobispot_sso_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->issuer = { 0, NULL };
     *     conf->login_url = { 0, NULL };
     *     conf->public_url = { 0, NULL };
     *     conf->no_origin_logged = 0;
     *     conf->site = { 0, NULL };
     *     conf->claims = { 0 };
     */

    conf->mode = NGX_CONF_UNSET_UINT;
    conf->sources = NGX_CONF_UNSET_PTR;
    conf->keys = NGX_CONF_UNSET_PTR;
    conf->audiences = NGX_CONF_UNSET_PTR;
    conf->require = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->max_size = NGX_CONF_UNSET_SIZE;
    conf->pass_token = NGX_CONF_UNSET;
    conf->site_ttl = NGX_CONF_UNSET;
    conf->site_max_stale = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_mobispot_sso_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_mobispot_sso_loc_conf_t *prev = parent;
    ngx_http_mobispot_sso_loc_conf_t *conf = child;

    ngx_str_t                          *id;
    ngx_uint_t                          i;
    ngx_http_mobispot_sso_source_t     *src;
    ngx_http_mobispot_main_conf_t      *mmcf;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    ngx_conf_merge_uint_value(conf->mode, prev->mode,
                              NGX_HTTP_MOBISPOT_SSO_OFF);
    ngx_conf_merge_ptr_value(conf->sources, prev->sources, NULL);
    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_ptr_value(conf->require, prev->require, NULL);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_size_value(conf->max_size, prev->max_size,
                              NGX_HTTP_MOBISPOT_SSO_MAX_SIZE);
    ngx_conf_merge_str_value(conf->login_url, prev->login_url, "");
    ngx_conf_merge_str_value(conf->public_url, prev->public_url, "");
    ngx_conf_merge_value(conf->pass_token, prev->pass_token, 0);
    ngx_conf_merge_str_value(conf->site, prev->site, "");
    ngx_conf_merge_sec_value(conf->site_ttl, prev->site_ttl, 10);
    ngx_conf_merge_sec_value(conf->site_max_stale, prev->site_max_stale, 60);

    if (conf->sources == NULL) {
        conf->sources = ngx_array_create(cf->pool, 1,
                                     sizeof(ngx_http_mobispot_sso_source_t));
        if (conf->sources == NULL) {
            return NGX_CONF_ERROR;
        }

        src = ngx_array_push(conf->sources);
        if (src == NULL) {
            return NGX_CONF_ERROR;
        }

        src->type = NGX_HTTP_MOBISPOT_SSO_HEADER;
        ngx_str_null(&src->name);
    }

    if (conf->max_size < 16 || conf->max_size > 65536) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_jwt_max_size\" must be between "
                           "16 and 65536 bytes");
        return NGX_CONF_ERROR;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf,
                                             ngx_http_mobispot_sso_module);

    if (conf->mode != NGX_HTTP_MOBISPOT_SSO_OFF
        && (conf->keys == NULL || conf->keys->nelts == 0)
        && !mcf->keys_redis)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_sso\" needs at least one "
                           "\"mobispot_jwt_key\" (or \"mobispot_jwt_jwks\", "
                           "or \"mobispot_jwt_keys_redis on\")");
        return NGX_CONF_ERROR;
    }

    /*
     * Every site trusts the same issuer's keys: without an audience of its
     * own, a gateway would take a token minted for any other site
     * (RFC 8725, section 3.9), and without the issuer one from anyone who
     * holds one of the keys.
     */

    if (conf->mode != NGX_HTTP_MOBISPOT_SSO_OFF
        && (conf->issuer.len == 0 || conf->audiences == NULL
            || conf->audiences->nelts == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_sso\" needs \"mobispot_jwt_issuer\" "
                           "and \"mobispot_jwt_audience\": without them a "
                           "token minted for another site would be "
                           "accepted");
        return NGX_CONF_ERROR;
    }

    if (conf->site.len && conf->mode != NGX_HTTP_MOBISPOT_SSO_OFF) {

        /* entitlement: the site's networks come from Redis */

        mmcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_mobispot_module);

        if (!mmcf->redis.configured) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mobispot_site\" with \"mobispot_sso\" "
                               "needs \"mobispot_redis\" in the http block "
                               "(the site's networks are read from Redis)");
            return NGX_CONF_ERROR;
        }

        id = mcf->site_ids.elts;

        for (i = 0; i < mcf->site_ids.nelts; i++) {
            if (id[i].len == conf->site.len
                && ngx_strncmp(id[i].data, conf->site.data, id[i].len) == 0)
            {
                break;
            }
        }

        if (i == mcf->site_ids.nelts) {
            id = ngx_array_push(&mcf->site_ids);
            if (id == NULL) {
                return NGX_CONF_ERROR;
            }

            *id = conf->site;
        }

        conf->site_index = i;
    }

    /* the issuer string is NUL-terminated by ngx_conf_set_str_slot */

    conf->claims.issuer = conf->issuer.len ? (const char *) conf->issuer.data
                                           : NULL;
    conf->claims.leeway = conf->leeway;

    /* one bound for every location: the revocation zone remembers by it */

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_sso_module);
    conf->claims.max_lifetime = mcf->max_lifetime;

    if (conf->leeway > mcf->max_leeway) {
        mcf->max_leeway = conf->leeway;
    }

    if (conf->audiences) {
        conf->claims.audiences = conf->audiences->elts;
        conf->claims.naudiences = conf->audiences->nelts;
    }

    if (conf->require) {
        conf->claims.require = conf->require->elts;
        conf->claims.nrequire = conf->require->nelts;
    }

    return NGX_CONF_OK;
}


/* mobispot_sso_token header | cookie=NAME | arg=NAME ... */

static char *
ngx_http_mobispot_sso_token_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_sso_loc_conf_t *lcf = conf;

    ngx_str_t                       *value;
    ngx_uint_t                       i;
    ngx_http_mobispot_sso_source_t  *src;

    if (lcf->sources != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    lcf->sources = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                    sizeof(ngx_http_mobispot_sso_source_t));
    if (lcf->sources == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        src = ngx_array_push(lcf->sources);
        if (src == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_str_null(&src->name);

        if (ngx_strcmp(value[i].data, "header") == 0) {
            src->type = NGX_HTTP_MOBISPOT_SSO_HEADER;
            continue;
        }

        if (ngx_strncmp(value[i].data, "cookie=", 7) == 0
            && value[i].len > 7)
        {
            src->type = NGX_HTTP_MOBISPOT_SSO_COOKIE;
            src->name.data = value[i].data + 7;
            src->name.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "arg=", 4) == 0 && value[i].len > 4) {
            src->type = NGX_HTTP_MOBISPOT_SSO_ARG;
            src->name.data = value[i].data + 4;
            src->name.len = value[i].len - 4;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid token source \"%V\": expected header, "
                           "cookie=NAME or arg=NAME", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* mobispot_jwt_key FILE alg=ALG [kid=KID] */

static char *
ngx_http_mobispot_sso_key_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_sso_loc_conf_t *lcf = conf;

    char                         *rv;
    ngx_str_t                    *value, content, alg;
    ngx_uint_t                    i, j;
    ngx_http_mobispot_sso_key_t  *key, *other;

    if (lcf->keys == NGX_CONF_UNSET_PTR) {
        lcf->keys = ngx_array_create(cf->pool, 2,
                                     sizeof(ngx_http_mobispot_sso_key_t));
        if (lcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    key = ngx_array_push(lcf->keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_http_mobispot_sso_key_t));

    value = cf->args->elts;
    ngx_str_null(&alg);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "alg=", 4) == 0) {
            alg.data = value[i].data + 4;
            alg.len = value[i].len - 4;
            continue;
        }

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0
            && value[i].len > 4
            && value[i].len - 4 <= MOBISPOT_JWT_KID_MAX)
        {
            key->kid.data = value[i].data + 4;
            key->kid.len = value[i].len - 4;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    for (j = 0; ngx_http_mobispot_sso_algs[j].name; j++) {
        if (alg.len == ngx_strlen(ngx_http_mobispot_sso_algs[j].name)
            && ngx_strncmp(alg.data, ngx_http_mobispot_sso_algs[j].name,
                           alg.len)
               == 0)
        {
            break;
        }
    }

    if (ngx_http_mobispot_sso_algs[j].name == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_jwt_key\" needs alg=HS256, HS384, "
                           "HS512, RS256, RS384, RS512, ES256, ES384 or "
                           "ES512 (exactly)");
        return NGX_CONF_ERROR;
    }

    key->alg = ngx_http_mobispot_sso_algs[j].alg;
    key->alg_name = ngx_http_mobispot_sso_algs[j].name;
    key->file = value[1];

    other = lcf->keys->elts;

    for (i = 0; i + 1 < lcf->keys->nelts; i++) {
        if (other[i].kid.len == key->kid.len
            && ngx_strncmp(other[i].kid.data, key->kid.data, key->kid.len)
               == 0
            && (key->kid.len || other[i].alg == key->alg))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate \"mobispot_jwt_key\" for the same "
                               "kid (or the same alg without kid)");
            return NGX_CONF_ERROR;
        }
    }

    rv = ngx_http_mobispot_sso_read_file(cf, &value[1], &content);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    key->key = content.data;
    key->key_len = content.len;

    return ngx_http_mobispot_sso_key_check(cf, key);
}


/* mobispot_jwt_jwks FILE [alg=ALG] */

static char *
ngx_http_mobispot_sso_jwks_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_sso_loc_conf_t *lcf = conf;

    char                         *rv;
    ngx_str_t                    *value, content;
    ngx_uint_t                    i, j;
    const char                   *alg, *err;
    ngx_array_t                  *keys;
    ngx_http_mobispot_sso_key_t  *key, *k, *other;

    value = cf->args->elts;
    alg = NULL;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "alg=", 4) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        /* checked against the JWKS algorithms by the parser */
        alg = (const char *) value[2].data + 4;
    }

    rv = ngx_http_mobispot_sso_read_file(cf, &value[1], &content);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    err = NULL;
    keys = ngx_http_mobispot_sso_jwks(cf->pool, cf->log, content.data,
                                      content.len, alg, &value[1], &err);
    if (keys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid JWKS in \"%V\": %s", &value[1], err);
        return NGX_CONF_ERROR;
    }

    if (keys->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no usable key in the JWKS \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (lcf->keys == NGX_CONF_UNSET_PTR) {
        lcf->keys = ngx_array_create(cf->pool, keys->nelts,
                                     sizeof(ngx_http_mobispot_sso_key_t));
        if (lcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    k = keys->elts;

    for (i = 0; i < keys->nelts; i++) {
        other = lcf->keys->elts;

        for (j = 0; j < lcf->keys->nelts; j++) {
            if (other[j].kid.len == k[i].kid.len
                && ngx_strncmp(other[j].kid.data, k[i].kid.data,
                               k[i].kid.len) == 0
                && (k[i].kid.len || other[j].alg == k[i].alg))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate \"mobispot_jwt_key\" for the "
                                   "same kid (or the same alg without kid) "
                                   "in the JWKS \"%V\"", &value[1]);
                return NGX_CONF_ERROR;
            }
        }

        key = ngx_array_push(lcf->keys);
        if (key == NULL) {
            return NGX_CONF_ERROR;
        }

        *key = k[i];
    }

    return NGX_CONF_OK;
}


/*
 * An HMAC secret is never a PEM (a public key used as an HMAC secret is
 * the classic algorithm confusion) and is at least as long as the hash;
 * an RS or ES key is a PEM public key of the right type (and curve), as
 * OpenSSL reads it.  All this at configuration time.
 */

static char *
ngx_http_mobispot_sso_key_check(ngx_conf_t *cf,
    ngx_http_mobispot_sso_key_t *key)
{
    int          type, bits;
    BIO         *bio;
    EVP_PKEY    *pkey;
    u_char      *p, *last;
    ngx_uint_t   j;

    for (j = 0; ngx_http_mobispot_sso_algs[j].alg != key->alg; j++) {
        /* void */
    }

    last = key->key + key->key_len;

    if (ngx_http_mobispot_sso_algs[j].min_secret) {

        /* a trailing end of line in the secret file is not the secret's */

        while (last > key->key && (last[-1] == LF || last[-1] == CR)) {
            last--;
        }

        key->key_len = last - key->key;
        *last = '\0';

        p = ngx_strlcasestrn(key->key, last, (u_char *) "-----BEGIN",
                             sizeof("-----BEGIN") - 1 - 1);
        if (p != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" holds a PEM key: it cannot be an "
                               "%s secret", &key->file, key->alg_name);
            return NGX_CONF_ERROR;
        }

        if (key->key_len < ngx_http_mobispot_sso_algs[j].min_secret) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the %s secret in \"%V\" is shorter than "
                               "%uz bytes", key->alg_name, &key->file,
                               ngx_http_mobispot_sso_algs[j].min_secret);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strlcasestrn(key->key, last, (u_char *) "PRIVATE KEY",
                         sizeof("PRIVATE KEY") - 1 - 1)
        != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" holds a private key: a gateway needs "
                           "the public key only", &key->file);
        return NGX_CONF_ERROR;
    }

    bio = BIO_new_mem_buf(key->key, (int) key->key_len);
    if (bio == NULL) {
        return NGX_CONF_ERROR;
    }

    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (pkey == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not a PEM public key "
                           "(\"-----BEGIN PUBLIC KEY-----\")", &key->file);
        return NGX_CONF_ERROR;
    }

    type = EVP_PKEY_base_id(pkey);
    bits = EVP_PKEY_bits(pkey);
    EVP_PKEY_free(pkey);

    if (type != ngx_http_mobispot_sso_algs[j].pkey) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not an %s key, as alg=%s wants",
                           &key->file,
                           (ngx_http_mobispot_sso_algs[j].pkey
                            == EVP_PKEY_RSA) ? "RSA" : "EC",
                           key->alg_name);
        return NGX_CONF_ERROR;
    }

    if (type == EVP_PKEY_RSA && bits < 2048) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the RSA key in \"%V\" has %d bits, fewer than "
                           "2048", &key->file, bits);
        return NGX_CONF_ERROR;
    }

    if (type == EVP_PKEY_EC && bits != ngx_http_mobispot_sso_algs[j].bits) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the EC key in \"%V\" is on a %d-bit curve, "
                           "alg=%s wants %d", &key->file, bits,
                           key->alg_name, ngx_http_mobispot_sso_algs[j].bits);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* directives that take one or more strings, kept NUL-terminated */

static char *
ngx_http_mobispot_sso_strings_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    char         **s;
    ngx_str_t     *value;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(char *));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            return "has an empty value";
        }

        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        /* configuration arguments are NUL-terminated */
        *s = (char *) value[i].data;
    }

    return NGX_CONF_OK;
}


/* reads a whole key file into cf->pool, NUL-terminated */

static char *
ngx_http_mobispot_sso_read_file(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *out)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_str_t        full;
    ngx_file_info_t  fi;

    full = *name;

    if (full.len == 0 || ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        return "has an invalid file name";
    }

    fd = ngx_open_file(full.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &full);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", &full);
        goto failed;
    }

    if (ngx_file_size(&fi) == 0
        || ngx_file_size(&fi) > NGX_HTTP_MOBISPOT_SSO_KEY_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "key file \"%V\" is empty or larger than %d bytes",
                           &full, NGX_HTTP_MOBISPOT_SSO_KEY_MAX);
        goto failed;
    }

    out->len = (size_t) ngx_file_size(&fi);
    out->data = ngx_pnalloc(cf->pool, out->len + 1);
    if (out->data == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, out->data, out->len);

    if (n < 0 || (size_t) n != out->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &full);
        goto failed;
    }

    out->data[out->len] = '\0';

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &full);
    }

    return NGX_CONF_OK;

failed:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &full);
    }

    return NGX_CONF_ERROR;
}
