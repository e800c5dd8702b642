
/*
 * Copyright (C) Mobispot
 *
 * What the files of the token endpoint share (issuer_token.c: the route,
 * its form, its answers; issuer_code.c: the authorization code grant;
 * issuer_client_auth.c: the client's authentication; issuer_refresh.c:
 * refresh tokens, their rotation and their reuse).  docs/sso.md, "The
 * token endpoint".
 */


#ifndef _NGX_HTTP_MOBISPOT_ISSUER_TOKEN_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_ISSUER_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "issuer/ngx_http_mobispot_issuer.h"


/* the limits of the form's values, in bytes (decoded) */
#define NGX_HTTP_MOBISPOT_TOKEN_CODE_MAX      128
#define NGX_HTTP_MOBISPOT_TOKEN_URI_MAX       2048
#define NGX_HTTP_MOBISPOT_TOKEN_SCOPE_MAX     512
#define NGX_HTTP_MOBISPOT_TOKEN_ID_MAX        64
#define NGX_HTTP_MOBISPOT_TOKEN_REFRESH_MAX   128

/* a sid: 128 bits in base64url */
#define NGX_HTTP_MOBISPOT_SID_LEN             22
/* a refresh token: <sid>.<256 random bits in base64url> */
#define NGX_HTTP_MOBISPOT_REFRESH_LEN         (22 + 1 + 43)

/* a rotated token's retry, for a client whose reply was lost: seconds */
#define NGX_HTTP_MOBISPOT_REFRESH_GRACE       30
/* how long a reuse revokes a sid: the longest life of a token */
#define NGX_HTTP_MOBISPOT_REVOKE_FOR          (12 * 3600)

#define NGX_HTTP_MOBISPOT_GRANT_CODE          1
#define NGX_HTTP_MOBISPOT_GRANT_REFRESH       2

#define NGX_HTTP_MOBISPOT_CLIENT_PUBLIC       1
#define NGX_HTTP_MOBISPOT_CLIENT_CONFIDENTIAL 2


typedef struct ngx_http_mobispot_token_s  ngx_http_mobispot_token_t;

typedef ngx_int_t (*ngx_http_mobispot_token_next_pt)(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk);


struct ngx_http_mobispot_token_s {
    /*
     * a helper that answered a refusal returns NGX_ABORT, the answer's
     * value kept here (what the handler returns)
     */
    ngx_int_t                          rc;

    ngx_uint_t                         grant;
    ngx_http_mobispot_token_next_pt    next;   /* after the client's check */

    /* the client: as presented, then as registered */
    ngx_str_t                          client_id;
    ngx_str_t                          secret;
    ngx_uint_t                         basic;      /* by Authorization */
    ngx_uint_t                         kind;
    ngx_str_t                          redirect_uris;
    ngx_str_t                          secret_hash;
    ngx_str_t                          client_key;

    /* the form's values, NUL-terminated */
    ngx_str_t                          code;
    ngx_str_t                          redirect_uri;
    ngx_str_t                          verifier;
    ngx_str_t                          refresh;
    ngx_str_t                          scope;      /* asked for (refresh) */
    ngx_uint_t                         scope_given;

    /* the grant */
    ngx_str_t                          code_key;   /* ms:{code:<hash>} */
    ngx_str_t                          code_json;
    ngx_str_t                          sess_key;   /* ms:{sess:<sid>} */
    ngx_str_t                          sid;
    ngx_str_t                          sub;
    ngx_str_t                          granted;    /* the scope granted */
    ngx_str_t                          nonce;
    time_t                             auth_time;

    /* a refresh token answered (empty: none) and its stored value */
    ngx_str_t                          new_refresh;
    ngx_str_t                          new_hash;   /* sha256 hex */

    ngx_http_mobispot_issuer_mint_t    mint;
};


/* issuer_token.c */
ngx_int_t ngx_http_mobispot_token_refuse(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_uint_t status, const char *error,
    const char *description);
ngx_int_t ngx_http_mobispot_token_error(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_uint_t status, const char *error,
    const char *description);
ngx_int_t ngx_http_mobispot_oauth_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *error, const char *description,
    ngx_str_t *www);
ngx_int_t ngx_http_mobispot_token_mint(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk);
ngx_int_t ngx_http_mobispot_token_answer(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk);
ngx_int_t ngx_http_mobispot_token_call(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t *args, ngx_uint_t argc,
    ngx_str_t *key, ngx_uint_t written, ngx_http_mobispot_api_done_pt done);
void ngx_http_mobispot_token_sha256_hex(u_char *in, size_t len, u_char *out);
ngx_uint_t ngx_http_mobispot_token_has_scope(ngx_str_t *scope,
    const char *word);

/* issuer_code.c */
ngx_int_t ngx_http_mobispot_token_code(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk);

/* issuer_client_auth.c */
ngx_int_t ngx_http_mobispot_token_client_form(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_str_t *form);
ngx_int_t ngx_http_mobispot_token_client(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk);

/* issuer_refresh.c */
ngx_int_t ngx_http_mobispot_token_refresh(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk);
ngx_int_t ngx_http_mobispot_token_new_refresh(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk);
ngx_int_t ngx_http_mobispot_token_store(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk);


#endif /* _NGX_HTTP_MOBISPOT_ISSUER_TOKEN_H_INCLUDED_ */
