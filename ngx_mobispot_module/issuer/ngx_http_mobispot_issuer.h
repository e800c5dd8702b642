
/*
 * Copyright (C) Mobispot
 *
 * The SSO issuer (ngx_http_mobispot_issuer_module), on Mobispot's central
 * gateway: its signing keys, the documents a location with
 * mobispot_sso_issuer serves below its prefix (OpenID Connect Discovery,
 * the JWKS), and the key set published in Redis for the gateways.  The
 * endpoints that sign tokens (token, authorize, login, logout) sign with
 * ngx_http_mobispot_issuer_signing_key() and core/mobispot_jwt_sign.h.
 */


#ifndef _NGX_HTTP_MOBISPOT_ISSUER_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_ISSUER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "http/ngx_http_mobispot_module.h"
#include "http/ngx_http_mobispot_api.h"
#include "core/mobispot_jwt.h"
#include "core/mobispot_jwt_sign.h"


/* the key set in Redis, read by mobispot_jwt_keys_redis, and its channel */
#define NGX_HTTP_MOBISPOT_ISSUER_KEY_JWKS    "ms:sso:jwks"
/* worker 0 listens here: a message makes it publish the key set again */
#define NGX_HTTP_MOBISPOT_ISSUER_CHANNEL     "ms:sso:issuer"

/* Cache-Control max-age of the documents, seconds (docs/sso.md) */
#define NGX_HTTP_MOBISPOT_ISSUER_JWKS_AGE       300
#define NGX_HTTP_MOBISPOT_ISSUER_DISCOVERY_AGE  3600

/* the central session (docs/sso.md, "The sign-in's keys in Redis") */
#define NGX_HTTP_MOBISPOT_SESSION_COOKIE     "__Host-mobispot_session"
#define NGX_HTTP_MOBISPOT_CSRF_COOKIE        "__Host-mobispot_csrf"
#define NGX_HTTP_MOBISPOT_SESSION_LIFETIME   (12 * 60 * 60)
#define NGX_HTTP_MOBISPOT_SESSION_MIN        (5 * 60)
#define NGX_HTTP_MOBISPOT_SESSION_MAX        (30 * 24 * 60 * 60)

/* revoked sids are kept as long as the longest access token's life */
#define NGX_HTTP_MOBISPOT_ISSUER_REVOKED     "ms:sso:revoked"
#define NGX_HTTP_MOBISPOT_ISSUER_AT_MAX      (12 * 60 * 60)

#define NGX_HTTP_MOBISPOT_ISSUER_KEY_MAX     16384
#define NGX_HTTP_MOBISPOT_ISSUER_URL_MAX     512


/* a signing key: a private key parsed once, for the life of the cycle */
typedef struct {
    ngx_str_t                          file;      /* as configured */
    ngx_str_t                          kid;       /* NUL-terminated */
    const char                        *alg;       /* "ES256" or "RS256" */
    EVP_PKEY                          *pkey;
} ngx_http_mobispot_issuer_key_t;


typedef struct {
    /* the keys in their order; the last one signs (docs/sso.md) */
    ngx_array_t                       *keys;
} ngx_http_mobispot_issuer_srv_conf_t;


typedef struct {
    ngx_flag_t                         enabled;   /* mobispot_sso_issuer */
    ngx_str_t                          prefix;    /* the location's name */
    ngx_http_mobispot_conf_where_t     where;     /* mobispot_sso_issuer's */
    ngx_str_t                          url;       /* mobispot_sso_issuer_url */
    ngx_array_t                       *keys;      /* the server's */
    time_t                             session_lifetime;

    /* the answers, made when the configuration is read */
    ngx_str_t                          discovery;
    ngx_str_t                          jwks;

    /* the tokens (issuer_mint.c) */
    time_t                             token_lifetime;
    ngx_str_t                          api_audience;  /* NUL-terminated */
} ngx_http_mobispot_issuer_loc_conf_t;


/*
 * A central session: its cookie's parts, then, once its hash is read and
 * checked, the account and the times (ngx_http_mobispot_issuer_session.c)
 */

typedef struct {
    ngx_str_t                          sid;       /* 22 characters */
    ngx_str_t                          secret;    /* 43 characters */
    ngx_str_t                          key;       /* ms:{sess:<sid>} */
    ngx_str_t                          sub;       /* the account id */
    time_t                             auth_time;
    time_t                             exp;
} ngx_http_mobispot_issuer_session_t;


/*
 * The sign-in's throttling (issuer_throttle.c): per account (the SHA-256
 * of the sign-in name as typed, lowercased) and per client address, a
 * counter of failures ms:{login:<who>}:fails and a wait
 * ms:{login:<who>}:wait while a delay runs; [0] the account, [1] the
 * address
 */

#define NGX_HTTP_MOBISPOT_THROTTLE_ACCOUNT   5    /* failures, then delays */
#define NGX_HTTP_MOBISPOT_THROTTLE_ADDRESS   20
#define NGX_HTTP_MOBISPOT_THROTTLE_KEEP      86400  /* s after the last */

typedef struct {
    ngx_str_t                          fails[2];
    ngx_str_t                          wait[2];
} ngx_http_mobispot_throttle_t;


typedef struct {
    /* the one key set of every issuer location: published in Redis */
    ngx_array_t                       *keys;
    ngx_str_t                          jwks;
    ngx_str_t                          jwks_where;  /* for nginx -t */
} ngx_http_mobispot_issuer_main_conf_t;


extern ngx_module_t  ngx_http_mobispot_issuer_module;

/* the route tables, each in the file of its endpoints */
extern const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_issuer_login_routes[];
extern const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_issuer_authorize_routes[];
extern const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_issuer_logout_routes[];


/* keys (issuer_keys.c) */
char *ngx_http_mobispot_issuer_key_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mobispot_issuer_jwks(ngx_conf_t *cf, ngx_array_t *keys,
    ngx_str_t *out);
ngx_http_mobispot_issuer_key_t *ngx_http_mobispot_issuer_signing_key(
    ngx_http_mobispot_issuer_loc_conf_t *lcf);
ngx_http_mobispot_issuer_key_t *ngx_http_mobispot_issuer_id_token_key(
    ngx_http_mobispot_issuer_loc_conf_t *lcf);

/* the issuer's URL and the discovery document (issuer_discovery.c) */
char *ngx_http_mobispot_issuer_url_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mobispot_issuer_url_check(ngx_conf_t *cf,
    ngx_http_mobispot_issuer_loc_conf_t *lcf);
ngx_int_t ngx_http_mobispot_issuer_discovery(ngx_conf_t *cf,
    ngx_http_mobispot_issuer_loc_conf_t *lcf);

/*
 * The mint (issuer_mint.c): the tokens of a sign-in for a client, made
 * from the account as it is now.  Strings in are NUL-terminated, in
 * r->pool; nonce and scope may be empty.  done gets rc NGX_OK with the
 * tokens in r->pool, or NGX_DECLINED when the account is gone (no token:
 * the caller refuses); it returns what a route handler returns.  The mint
 * takes ctx->data while it runs (set it back in done from m->data); it
 * returns what a route handler returns (NGX_DONE: under way).  Claims:
 * docs/sso.md, "The tokens' claims".
 */

#define NGX_HTTP_MOBISPOT_ISSUER_LIFETIME      600         /* 10m */
#define NGX_HTTP_MOBISPOT_ISSUER_LIFETIME_MAX  (12 * 3600)

typedef struct ngx_http_mobispot_issuer_mint_s
    ngx_http_mobispot_issuer_mint_t;

typedef ngx_int_t (*ngx_http_mobispot_issuer_minted_pt)(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx,
    ngx_http_mobispot_issuer_mint_t *m, ngx_int_t rc);

struct ngx_http_mobispot_issuer_mint_s {
    ngx_str_t                          sub;
    ngx_str_t                          sid;
    ngx_str_t                          client_id;
    ngx_str_t                          audience;  /* a site, or the API's */
    ngx_str_t                          scope;
    ngx_str_t                          nonce;
    time_t                             auth_time;
    ngx_uint_t                         want_id;   /* an ID token too */
    ngx_http_mobispot_issuer_minted_pt done;
    void                              *data;      /* the caller's */

    /* out */
    ngx_str_t                          access_token;
    ngx_str_t                          id_token;  /* empty: none */
    time_t                             expires_in;

    /* the mint's: the claims of the access token and of the ID token */
    ngx_str_t                          info_key;
    ngx_str_t                          claims[2];
};

ngx_int_t ngx_http_mobispot_issuer_mint(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_issuer_mint_t *m);
char *ngx_http_mobispot_issuer_lifetime_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_mobispot_issuer_audience_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
ngx_uint_t ngx_http_mobispot_issuer_site_like(ngx_str_t *name);
char *ngx_http_mobispot_issuer_mint_merge(ngx_conf_t *cf,
    ngx_http_mobispot_issuer_loc_conf_t *prev,
    ngx_http_mobispot_issuer_loc_conf_t *conf);

/* the token endpoint (issuer_token.c, issuer_client_auth.c, refresh) */
extern const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_issuer_token_routes[];
extern const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_issuer_userinfo_routes[];

/* the key set in Redis, written by worker 0 (issuer_publish.c) */
ngx_int_t ngx_http_mobispot_issuer_publish_init(ngx_cycle_t *cycle);
void ngx_http_mobispot_issuer_publish_exit(ngx_cycle_t *cycle);

/*
 * The central session (issuer_session.c): the cookie's parts (NGX_OK, or
 * NGX_DECLINED for none or a malformed one), the HMGET that reads its
 * hash, and the check of that reply (NGX_OK: a live session whose key is
 * the cookie's, sub/auth_time/exp set; NGX_DECLINED otherwise); a new one
 * (its 4 commands, MULTI HSET EXPIREAT EXEC, on its one tag) and its
 * cookie.
 */
ngx_int_t ngx_http_mobispot_issuer_session_cookie(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s);
ngx_int_t ngx_http_mobispot_issuer_session_read(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s,
    ngx_http_mobispot_redis_cmd_t *cmd);
ngx_int_t ngx_http_mobispot_issuer_session_check(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s, ngx_http_mobispot_reply_t *reply);
ngx_int_t ngx_http_mobispot_issuer_session_new(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s, ngx_str_t *sub, time_t lifetime,
    ngx_http_mobispot_redis_cmd_t *cmds);
ngx_int_t ngx_http_mobispot_issuer_session_set(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s, time_t lifetime);

/* a key of r->pool: prefix, a format of one %V, and its value (token.c) */
ngx_int_t ngx_http_mobispot_token_key(ngx_http_request_t *r, ngx_str_t *key,
    const char *prefix, ngx_str_t *value);

/* what the sign-in's files share (issuer_session.c) */
ngx_int_t ngx_http_mobispot_issuer_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_uint_t argc, ...);
ngx_int_t ngx_http_mobispot_issuer_random(ngx_http_request_t *r,
    size_t bytes, ngx_str_t *out);
ngx_int_t ngx_http_mobispot_issuer_sha256_hex(ngx_http_request_t *r,
    ngx_str_t *in, ngx_str_t *out);
ngx_int_t ngx_http_mobispot_issuer_cookie(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
ngx_int_t ngx_http_mobispot_issuer_set_cookie(ngx_http_request_t *r,
    const char *name, ngx_str_t *value, const char *attrs);

/* the throttling's commands and their replies (issuer_throttle.c) */
ngx_int_t ngx_http_mobispot_issuer_throttle_init(ngx_http_request_t *r,
    ngx_http_mobispot_throttle_t *th, ngx_str_t *name);
ngx_int_t ngx_http_mobispot_issuer_throttle_check(ngx_http_request_t *r,
    ngx_http_mobispot_throttle_t *th, ngx_http_mobispot_redis_cmd_t *cmds);
time_t ngx_http_mobispot_issuer_throttle_wait(
    ngx_http_mobispot_reply_t *replies);
ngx_int_t ngx_http_mobispot_issuer_throttle_fail(ngx_http_request_t *r,
    ngx_http_mobispot_throttle_t *th, ngx_http_mobispot_redis_cmd_t *cmds);
ngx_int_t ngx_http_mobispot_issuer_throttle_delays(ngx_http_request_t *r,
    ngx_http_mobispot_throttle_t *th, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n, ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t *ncmds);
ngx_int_t ngx_http_mobispot_issuer_throttle_clear(ngx_http_request_t *r,
    ngx_http_mobispot_throttle_t *th, ngx_http_mobispot_redis_cmd_t *cmd);
ngx_int_t ngx_http_mobispot_issuer_throttled(ngx_http_request_t *r,
    time_t wait);

/* the account of a sign-in name (issuer_account.c) */
#define NGX_HTTP_MOBISPOT_SHA256_LEN         32

ngx_int_t ngx_http_mobispot_issuer_account_index(ngx_http_request_t *r,
    ngx_str_t *email, ngx_http_mobispot_redis_cmd_t *cmd, ngx_str_t *key);
ngx_int_t ngx_http_mobispot_issuer_account_read(ngx_http_request_t *r,
    ngx_str_t *id, ngx_http_mobispot_redis_cmd_t *cmd, ngx_str_t *key);
ngx_str_t *ngx_http_mobispot_issuer_account_hash(
    ngx_http_mobispot_reply_t *reply, ngx_str_t *email);

/* the HTML answers (issuer_page.c) */
ngx_int_t ngx_http_mobispot_issuer_escape(ngx_http_request_t *r,
    ngx_str_t *in, ngx_str_t *out);
ngx_int_t ngx_http_mobispot_issuer_page(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *body,
    ngx_str_t *form_action, ngx_uint_t script);
void ngx_http_mobispot_issuer_form_source(ngx_str_t *uri, ngx_str_t *source);
ngx_int_t ngx_http_mobispot_issuer_form_action(ngx_http_request_t *r,
    ngx_str_t *uri, ngx_str_t **action);
ngx_int_t ngx_http_mobispot_issuer_error_page(ngx_http_request_t *r,
    ngx_uint_t status, const char *message);
ngx_int_t ngx_http_mobispot_issuer_see_other(ngx_http_request_t *r,
    ngx_str_t *location);
ngx_uint_t ngx_http_mobispot_issuer_form_type(ngx_http_request_t *r);
ngx_int_t ngx_http_mobispot_issuer_fields(ngx_http_request_t *r,
    ngx_str_t *text, const char **names, ngx_str_t *values, ngx_uint_t n,
    size_t max);

/* where a sign-in form's answer may end (issuer_login_target.c) */
ngx_int_t ngx_http_mobispot_issuer_target_cmd(ngx_http_request_t *r,
    ngx_str_t *cont, ngx_http_mobispot_redis_cmd_t *cmd, ngx_str_t *key,
    ngx_str_t *uri);
ngx_int_t ngx_http_mobispot_issuer_target(ngx_http_request_t *r,
    ngx_http_mobispot_reply_t *reply, ngx_str_t *uri, ngx_str_t **action);
ngx_int_t ngx_http_mobispot_issuer_login_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);

/* the sign-in form (issuer_login_page.c) */
ngx_int_t ngx_http_mobispot_issuer_login_form(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *cont, ngx_str_t *name,
    const char *message, ngx_str_t *action);
ngx_int_t ngx_http_mobispot_issuer_csrf_new(ngx_http_request_t *r,
    ngx_str_t *token);
ngx_int_t ngx_http_mobispot_issuer_csrf_ok(ngx_http_request_t *r,
    ngx_str_t *field);


/* metrics (issuer_metrics.c) */
ngx_int_t ngx_http_mobispot_issuer_metrics_init(ngx_conf_t *cf);
void ngx_http_mobispot_issuer_metrics_init_process(void);
void ngx_http_mobispot_issuer_metrics_token(ngx_uint_t refresh);
void ngx_http_mobispot_issuer_metrics_reuse(void);


#endif /* _NGX_HTTP_MOBISPOT_ISSUER_H_INCLUDED_ */
