
/*
 * Copyright (C) Mobispot
 *
 * GET {prefix}authorize (and POST with a form body, as OIDC allows): the
 * authorization request (docs/sso.md, "authorize").  In order:
 *
 *  1. the parameters, read whole by core/mobispot_form.c; client_id and
 *     redirect_uri present;
 *  2. one round trip: HMGET ms:{client:<id>} kind redirect_uris site, and
 *     the session's HMGET when the browser has its cookie;
 *  3. the client known and the redirect_uri one of its redirect_uris, byte
 *     for byte.  Until here an error is an HTML page (400), never a
 *     redirect: the redirect_uri is not yet known to be the client's;
 *  4. from here an error goes to the client (the OAuth error response,
 *     with state and iss, RFC 9207): response_type=code, state (1 to 512
 *     bytes), code_challenge (S256, 43 characters) and
 *     code_challenge_method=S256, nonce (at most 512 bytes), scope (openid
 *     and offline_access, any other word is invalid_scope), response_mode
 *     (query or form_post; a site gateway: form_post always), prompt=none
 *     (no live session: login_required; other prompt values are ignored);
 *  5. a live session: the code (issuer_authorize_code.c); none: 303 to
 *     login?continue=<this request, rebuilt from its checked parameters>.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_login.h"
#include "core/mobispot_spots.h"
#include "core/mobispot_uri.h"
#include "issuer/ngx_http_mobispot_issuer_authorize.h"


static ngx_int_t ngx_http_mobispot_authorize(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_authorize_client(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static const char *ngx_http_mobispot_authorize_check(
    ngx_http_mobispot_authorize_t *az, const char **error);
static ngx_int_t ngx_http_mobispot_authorize_login(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az);
static ngx_uint_t ngx_http_mobispot_authorize_is(ngx_str_t *v,
    const char *text);


const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_issuer_authorize_routes[] =
{
    { ngx_string("authorize"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_authorize, 0, 0 },

    { ngx_string("authorize"), NGX_HTTP_POST,
      ngx_http_mobispot_authorize, 1, 0 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


const char  *ngx_http_mobispot_authorize_names[] = {
    "client_id", "redirect_uri", "response_type", "state",
    "code_challenge", "code_challenge_method", "nonce", "scope",
    "response_mode", "prompt"
};


static ngx_int_t
ngx_http_mobispot_authorize(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_str_t                       *text, *keys;
    ngx_uint_t                       n;
    ngx_http_mobispot_authorize_t   *az;
    ngx_http_mobispot_api_keys_t    *declared;
    ngx_http_mobispot_redis_cmd_t   *cmds;

    static ngx_str_t  hmget = ngx_string("HMGET");
    static ngx_str_t  kind = ngx_string("kind");
    static ngx_str_t  uris = ngx_string("redirect_uris");
    static ngx_str_t  site = ngx_string("site");

    az = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_authorize_t));
    if (az == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = az;

    if (r->method == NGX_HTTP_POST) {
        if (!ngx_http_mobispot_issuer_form_type(r)) {
            return ngx_http_mobispot_issuer_error_page(r,
                                       NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                       "An authorization request is sent as "
                                       "a form (application/x-www-form-"
                                       "urlencoded) or in the query.");
        }

        text = &ctx->body;

    } else {
        text = &r->args;
    }

    if (ngx_http_mobispot_issuer_fields(r, text,
                                        ngx_http_mobispot_authorize_names,
                                        az->p, NGX_HTTP_MOBISPOT_AZ_N,
                                        MOBISPOT_URI_MAX)
        != NGX_OK)
    {
        return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_BAD_REQUEST,
                                                   "The authorization "
                                                   "request is malformed "
                                                   "(a bad escape, a "
                                                   "parameter twice or too "
                                                   "long).");
    }

    if (!mobispot_id_valid((char *) az->p[NGX_HTTP_MOBISPOT_AZ_CLIENT_ID].data,
                           az->p[NGX_HTTP_MOBISPOT_AZ_CLIENT_ID].len)
        || az->p[NGX_HTTP_MOBISPOT_AZ_REDIRECT_URI].len == 0)
    {
        return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_BAD_REQUEST,
                                                   "The authorization "
                                                   "request needs a valid "
                                                   "client_id and its "
                                                   "redirect_uri.");
    }

    cmds = ngx_palloc(r->pool, 2 * sizeof(ngx_http_mobispot_redis_cmd_t));
    keys = ngx_palloc(r->pool, 2 * sizeof(ngx_str_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || keys == NULL || declared == NULL
        || ngx_http_mobispot_token_key(r, &az->client_key, "ms:{client:%V}",
                                       &az->p[NGX_HTTP_MOBISPOT_AZ_CLIENT_ID])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_issuer_cmd(r, &cmds[0], 5, &hmget, &az->client_key,
                                     &kind, &uris, &site)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys[0] = az->client_key;
    n = 1;

    if (ngx_http_mobispot_issuer_session_cookie(r, &az->sess) == NGX_OK) {
        if (ngx_http_mobispot_issuer_session_read(r, &az->sess, &cmds[1])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        az->cookie = 1;
        keys[1] = az->sess.key;
        n = 2;
    }

    declared->read = keys;
    declared->nread = n;

    return ngx_http_mobispot_api_call(r, ctx, cmds, n, declared,
                                      ngx_http_mobispot_authorize_client);
}


/* the client and the session are read */

static ngx_int_t
ngx_http_mobispot_authorize_client(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_str_t                      *uri;
    const char                     *error, *description;
    ngx_http_mobispot_reply_t      *e;
    ngx_http_mobispot_authorize_t  *az;

    az = ctx->data;
    uri = &az->p[NGX_HTTP_MOBISPOT_AZ_REDIRECT_URI];

    if (replies[0].type != REDIS_REPLY_ARRAY || replies[0].elements != 3) {
        return ngx_http_mobispot_api_bad_reply(r, "a client's read");
    }

    e = replies[0].element;

    if (e[0].type != REDIS_REPLY_STRING || e[1].type != REDIS_REPLY_STRING) {
        return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_BAD_REQUEST,
                                                   "This application is "
                                                   "not known to Mobispot "
                                                   "(client_id).");
    }

    if (mobispot_uri_listed((char *) e[1].str.data, e[1].str.len,
                            (char *) uri->data, uri->len)
        != MOBISPOT_OK)
    {
        return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_BAD_REQUEST,
                                                   "This redirect_uri is "
                                                   "not registered for the "
                                                   "application: the "
                                                   "request is refused.");
    }

    az->site_gateway = ngx_http_mobispot_authorize_is(&e[0].str,
                                                      "site_gateway");
    if (az->site_gateway && e[2].type == REDIS_REPLY_STRING) {
        az->site = e[2].str;
    }

    /* the client and its URI are good: errors go to the client now */

    description = ngx_http_mobispot_authorize_check(az, &error);
    if (description) {
        return ngx_http_mobispot_authorize_error(r, az, error, description);
    }

    if (az->cookie && n == 2
        && ngx_http_mobispot_issuer_session_check(r, &az->sess, &replies[1])
           == NGX_OK)
    {
        return ngx_http_mobispot_authorize_code(r, ctx);
    }

    if (ngx_http_mobispot_authorize_is(&az->p[NGX_HTTP_MOBISPOT_AZ_PROMPT],
                                       "none"))
    {
        return ngx_http_mobispot_authorize_error(r, az, "login_required",
                                                 "no live sign-in at "
                                                 "Mobispot");
    }

    return ngx_http_mobispot_authorize_login(r, az);
}


/*
 * The parameters past the client: NULL when good, else the error's
 * description (and *error its code); sets az->form_post
 */

static const char *
ngx_http_mobispot_authorize_check(ngx_http_mobispot_authorize_t *az,
    const char **error)
{
    unsigned    scopes;
    ngx_str_t  *p, *mode;

    p = az->p;
    mode = &p[NGX_HTTP_MOBISPOT_AZ_RESPONSE_MODE];

    *error = "invalid_request";

    if (mode->data == NULL) {
        az->form_post = az->site_gateway;

    } else if (ngx_http_mobispot_authorize_is(mode, "form_post")) {
        az->form_post = 1;

    } else if (ngx_http_mobispot_authorize_is(mode, "query")) {
        az->form_post = az->site_gateway;

        if (az->site_gateway) {
            return "a site gateway takes response_mode=form_post only";
        }

    } else {
        az->form_post = az->site_gateway;
        return "response_mode is query or form_post";
    }

    if (!ngx_http_mobispot_authorize_is(&p[NGX_HTTP_MOBISPOT_AZ_RESPONSE_TYPE],
                                        "code"))
    {
        *error = "unsupported_response_type";
        return "response_type=code only";
    }

    if (p[NGX_HTTP_MOBISPOT_AZ_STATE].len == 0
        || p[NGX_HTTP_MOBISPOT_AZ_STATE].len
           > NGX_HTTP_MOBISPOT_AUTHORIZE_STATE_MAX)
    {
        return "state is required (1 to 512 bytes)";
    }

    if (!ngx_http_mobispot_authorize_is(&p[NGX_HTTP_MOBISPOT_AZ_METHOD],
                                        "S256")
        || mobispot_pkce_challenge_valid(
               (char *) p[NGX_HTTP_MOBISPOT_AZ_CHALLENGE].data,
               p[NGX_HTTP_MOBISPOT_AZ_CHALLENGE].len)
           != MOBISPOT_OK)
    {
        return "PKCE is required: code_challenge (43 characters) with "
               "code_challenge_method=S256";
    }

    if (p[NGX_HTTP_MOBISPOT_AZ_NONCE].len
        > NGX_HTTP_MOBISPOT_AUTHORIZE_STATE_MAX)
    {
        return "nonce is too long (512 bytes at most)";
    }

    if (mobispot_scope_parse((char *) p[NGX_HTTP_MOBISPOT_AZ_SCOPE].data,
                             p[NGX_HTTP_MOBISPOT_AZ_SCOPE].len, &scopes)
        != MOBISPOT_OK)
    {
        *error = "invalid_scope";
        return "the scopes are openid and offline_access";
    }

    return NULL;
}


/* no live session: 303 to login?continue=<this request> */

static ngx_int_t
ngx_http_mobispot_authorize_login(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az)
{
    u_char                               *p;
    ngx_str_t                             query, cont, to;
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    if (ngx_http_mobispot_authorize_query(r, az, &query) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cont.len = lcf->prefix.len + sizeof("authorize?") - 1 + query.len;
    cont.data = ngx_pnalloc(r->pool, cont.len);
    to.data = ngx_pnalloc(r->pool, lcf->prefix.len + sizeof("login?continue=")
                                   + 3 * cont.len);

    if (cont.data == NULL || to.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(cont.data, "%Vauthorize?%V", &lcf->prefix, &query);

    if (mobispot_continue_valid((char *) lcf->prefix.data, lcf->prefix.len,
                                (char *) cont.data, cont.len)
        != MOBISPOT_OK)
    {
        return ngx_http_mobispot_authorize_error(r, az, "invalid_request",
                                                 "the request is too long "
                                                 "to be parked while you "
                                                 "sign in");
    }

    p = ngx_sprintf(to.data, "%Vlogin?continue=", &lcf->prefix);
    p += mobispot_url_encode((char *) cont.data, cont.len, (char *) p);
    to.len = p - to.data;

    return ngx_http_mobispot_issuer_see_other(r, &to);
}


static ngx_uint_t
ngx_http_mobispot_authorize_is(ngx_str_t *v, const char *text)
{
    size_t  len;

    len = ngx_strlen(text);

    return v->data && v->len == len && ngx_strncmp(v->data, text, len) == 0;
}
