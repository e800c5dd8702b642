
/*
 * Copyright (C) Mobispot
 *
 * The authorization request as authorize reads it
 * (ngx_http_mobispot_issuer_authorize.c), and the answers made of it: the
 * code, the redirects and the form_post page
 * (ngx_http_mobispot_issuer_authorize_code.c).
 */


#ifndef _NGX_HTTP_MOBISPOT_ISSUER_AUTHORIZE_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_ISSUER_AUTHORIZE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "issuer/ngx_http_mobispot_issuer.h"


/* state and nonce: at most, in bytes */
#define NGX_HTTP_MOBISPOT_AUTHORIZE_STATE_MAX  512

/* a code lives 60 s, and is redeemed once */
#define NGX_HTTP_MOBISPOT_CODE_TTL             "60000"


/* the request's parameters, in this order */
enum {
    NGX_HTTP_MOBISPOT_AZ_CLIENT_ID = 0,
    NGX_HTTP_MOBISPOT_AZ_REDIRECT_URI,
    NGX_HTTP_MOBISPOT_AZ_RESPONSE_TYPE,
    NGX_HTTP_MOBISPOT_AZ_STATE,
    NGX_HTTP_MOBISPOT_AZ_CHALLENGE,
    NGX_HTTP_MOBISPOT_AZ_METHOD,
    NGX_HTTP_MOBISPOT_AZ_NONCE,
    NGX_HTTP_MOBISPOT_AZ_SCOPE,
    NGX_HTTP_MOBISPOT_AZ_RESPONSE_MODE,
    NGX_HTTP_MOBISPOT_AZ_PROMPT,
    NGX_HTTP_MOBISPOT_AZ_N
};


typedef struct {
    ngx_str_t                            p[NGX_HTTP_MOBISPOT_AZ_N];
    ngx_str_t                            client_key;   /* ms:{client:<id>} */
    ngx_str_t                            site;         /* a gateway's */
    ngx_uint_t                           site_gateway;
    ngx_uint_t                           form_post;
    ngx_uint_t                           cookie;       /* has one */
    ngx_http_mobispot_issuer_session_t   sess;
    ngx_str_t                            code;
    /* a site gateway's access token, minted before its code is stored */
    ngx_str_t                            token;
    ngx_http_mobispot_issuer_mint_t      mint;
} ngx_http_mobispot_authorize_t;


extern const char  *ngx_http_mobispot_authorize_names[];


ngx_int_t ngx_http_mobispot_authorize_code(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_authorize_error(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az, const char *error,
    const char *description);
ngx_int_t ngx_http_mobispot_authorize_query(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az, ngx_str_t *out);


#endif /* _NGX_HTTP_MOBISPOT_ISSUER_AUTHORIZE_H_INCLUDED_ */
