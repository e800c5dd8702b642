
/*
 * Copyright (C) Mobispot
 *
 * The SSO gateway module (ngx_http_mobispot_sso_module): types shared by
 * its files.
 */


#ifndef _NGX_HTTP_MOBISPOT_SSO_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_SSO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jwt.h>
#include <openssl/evp.h>

#include "http/ngx_http_mobispot_module.h"
#include "http/ngx_http_mobispot_api.h"
#include "core/mobispot_jwt.h"


#define NGX_HTTP_MOBISPOT_SSO_OFF        0
#define NGX_HTTP_MOBISPOT_SSO_ON         1
#define NGX_HTTP_MOBISPOT_SSO_OPTIONAL   2

#define NGX_HTTP_MOBISPOT_SSO_HEADER     1
#define NGX_HTTP_MOBISPOT_SSO_COOKIE     2
#define NGX_HTTP_MOBISPOT_SSO_ARG        3

#define NGX_HTTP_MOBISPOT_SSO_KEY_MAX    65536
#define NGX_HTTP_MOBISPOT_SSO_MAX_SIZE   8192
#define NGX_HTTP_MOBISPOT_SSO_CACHE_SIZE 1024
#define NGX_HTTP_MOBISPOT_SSO_SID_MAX    255


typedef struct {
    ngx_uint_t                     type;
    ngx_str_t                      name;      /* cookie or argument */
} ngx_http_mobispot_sso_source_t;


typedef struct {
    jwt_alg_t                      alg;
    const char                    *alg_name;  /* "RS256" */
    ngx_str_t                      kid;       /* empty: none */
    u_char                        *key;       /* file text, NUL-terminated */
    size_t                         key_len;
    EVP_PKEY                      *pkey;      /* RS*, ES*: parsed once */
    EVP_PKEY_CTX                  *vctx;      /* and ready to verify */
    EVP_MD                        *md;        /* fetched once */
    EVP_MD_CTX                    *dctx;      /* RS*, ES*: digests */
    EVP_MAC_CTX                   *mac;       /* HS*: keyed once */
    ngx_str_t                      file;      /* for logs */
} ngx_http_mobispot_sso_key_t;


/*
 * The worker's cache of verified tokens: a token string, exactly, that
 * passed every check with a set of keys and a set of claim rules of this
 * configuration, with its validity window.  Direct-mapped: a new entry
 * replaces the one in its slot.  A hit with the same keys and rules, inside
 * the window (leeway included), costs a hash and a comparison; the payload
 * is then parsed only if a variable asks for a claim.
 */

typedef struct {
    uint32_t                       hash;
    time_t                         exp;
    time_t                         not_before;  /* max(nbf, iat), or 0 */
    void                          *keys;      /* the keys that verified */
    void                          *claims;    /* the rules that held */
    size_t                         dot1;
    size_t                         dot2;
    u_char                        *token;     /* ngx_alloc()ed */
    size_t                         size;      /* of token's memory */
    size_t                         len;       /* 0: matches nothing */
    ngx_uint_t                     typ;       /* MOBISPOT_JWT_TYP_* */
    ngx_int_t                      sid_len;   /* -1: no usable sid */
    u_char                         sid[NGX_HTTP_MOBISPOT_SSO_SID_MAX];

    /* the entitlement decided for this token with a copy of a site */
    void                          *site;      /* NULL: none */
    ngx_uint_t                     site_gen;
    ngx_uint_t                     site_rc;
} ngx_http_mobispot_sso_cache_entry_t;


/*
 * A site's networks and their passports, as last read from Redis by this
 * worker: one allocation (ngx_alloc) holding the arrays and the strings.
 */

typedef struct {
    ngx_str_t                      id;        /* mobispot_site, conf memory */
    time_t                         fetched;   /* 0: never */
    ngx_uint_t                     changed;   /* read again before use */
    ngx_uint_t                     gen;       /* bumped by every read */
    const char                   **nets;
    const char                   **passports; /* NULL: unknown network */
    ngx_uint_t                     n;
    const char                    *zone;      /* NULL: none */
    void                          *mem;
} ngx_http_mobispot_sso_site_t;


typedef struct ngx_http_mobispot_sso_revoked_sh_s
    ngx_http_mobispot_sso_revoked_sh_t;


/*
 * A JOSE header segment that passed mobispot_jwt_header_check(), with
 * what the check read from it: an issuer signs every token with the same
 * few headers, so a worker reads each once (sso_verify.c)
 */

#define NGX_HTTP_MOBISPOT_SSO_HEADERS      8
#define NGX_HTTP_MOBISPOT_SSO_HEADER_MAX   256

typedef struct {
    size_t                         len;       /* 0: empty */
    u_char                         segment[NGX_HTTP_MOBISPOT_SSO_HEADER_MAX];
    char                           alg[8];    /* "RS256": the table's */
    char                           kid[MOBISPOT_JWT_KID_MAX + 1];
    unsigned                       typ;       /* MOBISPOT_JWT_TYP_* */
    unsigned                       has_kid:1;
} ngx_http_mobispot_sso_header_t;


typedef struct {
    ngx_uint_t                     cache_size;
    ngx_http_mobispot_sso_cache_entry_t  *cache;  /* per worker */
    ngx_uint_t                     cache_mask;
    /* tokens refused for their signature, a short while (sso_verify.c) */
    ngx_http_mobispot_sso_cache_entry_t  *refused;
    ngx_uint_t                     refused_mask;
    ngx_http_mobispot_sso_header_t headers[NGX_HTTP_MOBISPOT_SSO_HEADERS];

    ngx_array_t                    site_ids;  /* of ngx_str_t, conf time */
    ngx_http_mobispot_sso_site_t  *sites;     /* per worker, same order */
    ngx_http_mobispot_redis_sub_t *sites_sub;  /* change notifications */

    /* single sign-out */
    ngx_flag_t                     revocation;
    size_t                         revocation_zone_size;
    time_t                         revocation_max_stale;
    time_t                         max_lifetime;  /* of a token: exp - iat */
    time_t                         max_leeway;    /* of every location */
    ngx_shm_zone_t                *revoke_zone;
    ngx_slab_pool_t               *revoke_shpool;
    ngx_http_mobispot_sso_revoked_sh_t  *revoke_sh;
    ngx_http_mobispot_redis_sub_t *revoke_sub;  /* per worker */
    ngx_event_t                    revoke_timer;
    unsigned                       revoke_up:1;
    unsigned                       revoke_snapshot:1;

    /* keys published by the issuer in Redis */
    ngx_flag_t                     keys_redis;
    ngx_array_t                   *rkeys;     /* per worker, or NULL */
    ngx_pool_t                    *rkeys_pool;
    ngx_http_mobispot_redis_sub_t *rkeys_sub;
    ngx_log_t                     *rkeys_log;
    time_t                         rkeys_read;  /* last read, or 0 */
    unsigned                       rkeys_up:1;  /* its channel heard */
} ngx_http_mobispot_sso_main_conf_t;


typedef struct {
    ngx_uint_t                     mode;
    ngx_http_mobispot_conf_where_t mode_where;  /* mobispot_sso's line */
    ngx_array_t                   *sources;   /* of ..._sso_source_t */
    ngx_array_t                   *keys;      /* of ..._sso_key_t */
    ngx_str_t                      issuer;
    ngx_array_t                   *audiences; /* of char * */
    ngx_array_t                   *require;   /* of char * */
    time_t                         leeway;
    ngx_uint_t                     typ;       /* accepted: TYP_* bits */
    size_t                         max_size;
    ngx_str_t                      login_url;
    ngx_str_t                      public_url;  /* scheme://host[:port] */

    /* the module's own sign-in: authorize, then mobispot_sso_callback */
    ngx_str_t                      authorize_url;
    ngx_str_t                      client_id;
    ngx_str_t                      redirect_uri;
    ngx_flag_t                     callback;  /* mobispot_sso_callback */
    ngx_http_mobispot_conf_where_t callback_where;
    ngx_str_t                      cookie;    /* the token cookie's name */
    ngx_flag_t                     pass_token;
    ngx_uint_t                     no_origin_logged;  /* per worker */
    ngx_str_t                      site;
    ngx_uint_t                     site_index;  /* in site_ids */
    time_t                         site_ttl;
    time_t                         site_max_stale;
    mobispot_claims_conf_t         claims;
} ngx_http_mobispot_sso_loc_conf_t;


typedef struct {
    ngx_uint_t                     status;    /* MOBISPOT_SSO_* */
    yajl_val                       payload;   /* parsed when needed */
    ngx_str_t                      segment;   /* the payload, base64url */
    long long                      exp;
    ngx_uint_t                     typ;       /* the header's: TYP_* */
    ngx_str_t                      sid;       /* data NULL: none usable */

    /* the token's cache entry, only while the handler runs synchronously */
    ngx_http_mobispot_sso_cache_entry_t  *entry;

    /* site entitlement */
    unsigned                       entitlement_done:1;
    unsigned                       site_read:1;   /* the replies came */
    ngx_str_t                      site_nets;     /* "a,b", copied */
    ngx_str_t                      site_zone;     /* data NULL: none */
    ngx_array_t                   *site_passports; /* ngx_str_t pairs */
} ngx_http_mobispot_sso_ctx_t;



extern ngx_module_t  ngx_http_mobispot_sso_module;


/*
 * the access phase's parts: verification and the token cache (sso_verify.c),
 * refusals (sso_refuse.c), variables (sso_vars.c), the location's
 * configuration and directives (sso_conf.c)
 */
ngx_uint_t ngx_http_mobispot_sso_verify(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx);
ngx_uint_t ngx_http_mobispot_sso_verify_token(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx,
    ngx_str_t *token);
ngx_int_t ngx_http_mobispot_sso_deny(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_uint_t status);
ngx_int_t ngx_http_mobispot_sso_add_variables(ngx_conf_t *cf);
char *ngx_http_mobispot_sso_key_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
extern ngx_conf_bitmask_t  ngx_http_mobispot_sso_typ_masks[];

const char *ngx_http_mobispot_sso_typ_refused(ngx_uint_t typ);

char *ngx_http_mobispot_sso_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
char *ngx_http_mobispot_sso_token_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_mobispot_sso_jwks_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_mobispot_sso_strings_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
void *ngx_http_mobispot_sso_create_loc_conf(ngx_conf_t *cf);

/* the token's sources and what is passed on (sso_forward.c) */
ngx_int_t ngx_http_mobispot_sso_token(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *token);
ngx_int_t ngx_http_mobispot_sso_strip(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf);
ngx_int_t ngx_http_mobispot_sso_redirect(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf);
ngx_uint_t ngx_http_mobispot_sso_public_name(ngx_str_t *name);
ngx_int_t ngx_http_mobispot_sso_origin(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *origin);
ngx_int_t ngx_http_mobispot_sso_cookie(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);

/* the redirect to the issuer's authorize and its checks (sso_authorize.c) */
ngx_int_t ngx_http_mobispot_sso_authorize(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *origin,
    ngx_str_t *back);
ngx_int_t ngx_http_mobispot_sso_send_to(ngx_http_request_t *r,
    ngx_uint_t status, u_char *url, size_t len);
char *ngx_http_mobispot_sso_url_post(ngx_conf_t *cf, void *post,
    void *data);
char *ngx_http_mobispot_sso_client_id_post(ngx_conf_t *cf, void *post,
    void *data);
char *ngx_http_mobispot_sso_flow_check(ngx_conf_t *cf,
    ngx_http_mobispot_sso_loc_conf_t *conf, ngx_uint_t verifies);

/* the callback (sso_callback.c) and its pages (sso_page.c) */
char *ngx_http_mobispot_sso_callback_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
/* the directive a location's refusal names: the callback's or mobispot_sso */
#define ngx_http_mobispot_sso_name(conf)                                     \
    ((conf)->callback == 1 ? "mobispot_sso_callback" : "mobispot_sso")

char *ngx_http_mobispot_sso_mode_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mobispot_sso_page(ngx_http_request_t *r,
    ngx_uint_t status, const char *text);
ngx_int_t ngx_http_mobispot_sso_page_code(ngx_http_request_t *r,
    ngx_uint_t status, const char *text, ngx_str_t *code);
ngx_int_t ngx_http_mobispot_sso_cb_refuse(ngx_http_request_t *r,
    ngx_uint_t status, const char *reason, const char *text);
char *ngx_http_mobispot_sso_public_url_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_mobispot_sso_header(ngx_http_request_t *r,
    const char *name, u_char *value, size_t len, ngx_table_elt_t **out);

ngx_int_t ngx_http_mobispot_sso_entitlement(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx);
yajl_val ngx_http_mobispot_sso_payload(ngx_http_request_t *r,
    ngx_http_mobispot_sso_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_sso_sites_init(ngx_cycle_t *cycle,
    ngx_http_mobispot_sso_main_conf_t *mcf);
void ngx_http_mobispot_sso_sites_free(ngx_http_mobispot_sso_main_conf_t *mcf);

/* the algorithms (sso_alg.c) */
typedef struct {
    const char                    *name;
    jwt_alg_t                      alg;
    size_t                         min_secret;  /* HS*: bytes */
    int                            pkey;        /* RS*, ES*: EVP_PKEY_* */
    int                            bits;        /* RSA: at least; EC: curve */
    const EVP_MD                *(*md)(void);
} ngx_http_mobispot_sso_alg_t;

const ngx_http_mobispot_sso_alg_t *ngx_http_mobispot_sso_alg_by_name(
    const u_char *name, size_t len);
const ngx_http_mobispot_sso_alg_t *ngx_http_mobispot_sso_alg(jwt_alg_t alg);
const char *ngx_http_mobispot_sso_pkey_check(EVP_PKEY *pkey, jwt_alg_t alg);
ngx_int_t ngx_http_mobispot_sso_key_keep(ngx_pool_t *pool,
    ngx_http_mobispot_sso_key_t *key, EVP_PKEY *pkey, jwt_alg_t alg);
ngx_uint_t ngx_http_mobispot_sso_key_verify(ngx_http_mobispot_sso_key_t *key,
    const u_char *input, size_t len, const u_char *sig, size_t sig_len);

ngx_array_t *ngx_http_mobispot_sso_jwks(ngx_pool_t *pool, ngx_log_t *log,
    u_char *doc, size_t len, const char *alg, ngx_str_t *source,
    const char **err);

void ngx_http_mobispot_sso_cache_flush(
    ngx_http_mobispot_sso_main_conf_t *mcf);
ngx_int_t ngx_http_mobispot_sso_rkeys_init_process(ngx_cycle_t *cycle,
    ngx_http_mobispot_sso_main_conf_t *mcf);
void ngx_http_mobispot_sso_rkeys_exit_process(
    ngx_http_mobispot_sso_main_conf_t *mcf);
/* metrics (sso_metrics.c) */
ngx_int_t ngx_http_mobispot_sso_metrics_init(ngx_conf_t *cf);
void ngx_http_mobispot_sso_metrics_init_process(ngx_cycle_t *cycle,
    ngx_http_mobispot_sso_main_conf_t *mcf);
void ngx_http_mobispot_sso_metrics_exit_process(void);
void ngx_http_mobispot_sso_metrics_cache(ngx_uint_t hit);

ngx_int_t ngx_http_mobispot_sso_rkeys_health(ngx_http_request_t *r,
    yajl_gen g, ngx_uint_t *degraded, void *data);

char *ngx_http_mobispot_sso_revoke_conf(ngx_conf_t *cf,
    ngx_http_mobispot_sso_main_conf_t *mcf);
ngx_uint_t ngx_http_mobispot_sso_revoked(ngx_http_request_t *r,
    ngx_http_mobispot_sso_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_sso_revoke_init_process(ngx_cycle_t *cycle,
    ngx_http_mobispot_sso_main_conf_t *mcf);
ngx_uint_t ngx_http_mobispot_sso_revoked_count(
    ngx_http_mobispot_sso_main_conf_t *mcf, ngx_uint_t *full);
void ngx_http_mobispot_sso_revoke_exit_process(
    ngx_http_mobispot_sso_main_conf_t *mcf);


#endif /* _NGX_HTTP_MOBISPOT_SSO_H_INCLUDED_ */
