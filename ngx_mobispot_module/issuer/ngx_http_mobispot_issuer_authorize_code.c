
/*
 * Copyright (C) Mobispot
 *
 * What authorize answers once the request is checked
 * (ngx_http_mobispot_issuer_authorize.c):
 *
 *  - a code: 256 random bits; Redis holds its SHA-256 only,
 *    SET ms:{code:<sha256 hex>} <the authorization's JSON> NX PX 60000
 *    (docs/sso.md: client, redirect_uri, challenge, sid, sub, scope,
 *    auth_time, nonce; "token" for a site gateway: the access token
 *    minted for its site first, ngx_http_mobispot_authorize_mint());
 *  - the answer, to the registered redirect_uri: in query mode a 303 to
 *    redirect_uri?code=..&state=..&iss=.. (RFC 9207's iss), in form_post
 *    mode a 200 page whose form posts them there by itself (a script
 *    named by its hash in the CSP; a button inside <noscript>);
 *  - the OAuth error response the same way: error, error_description,
 *    state (when the request had one), iss.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_login.h"
#include "issuer/ngx_http_mobispot_issuer_authorize.h"


#define NGX_HTTP_MOBISPOT_AZ_ANSWER_MAX  4


static ngx_int_t ngx_http_mobispot_authorize_token(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az, yajl_gen g);
static ngx_int_t ngx_http_mobispot_authorize_mint(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_authorize_t *az);
static ngx_int_t ngx_http_mobispot_authorize_minted(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_issuer_mint_t *m,
    ngx_int_t rc);
static ngx_int_t ngx_http_mobispot_authorize_cstr(ngx_http_request_t *r,
    ngx_str_t *src, ngx_str_t *dst);
static ngx_int_t ngx_http_mobispot_authorize_stored(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_authorize_answer(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az, const char **names, ngx_str_t *values,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_authorize_form_post(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az, const char **names, ngx_str_t *values,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_authorize_member(yajl_gen g,
    const char *name, ngx_str_t *value);


/* a live session: the code, stored, then the answer */

ngx_int_t
ngx_http_mobispot_authorize_code(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    size_t                          len;
    yajl_gen                        g;
    ngx_str_t                       hash, *key, json, *p;
    const unsigned char            *buf;
    ngx_http_mobispot_api_keys_t   *declared;
    ngx_http_mobispot_redis_cmd_t  *cmd;
    ngx_http_mobispot_authorize_t  *az;

    static ngx_str_t  set = ngx_string("SET");
    static ngx_str_t  nx = ngx_string("NX");
    static ngx_str_t  px = ngx_string("PX");
    static ngx_str_t  ttl = ngx_string(NGX_HTTP_MOBISPOT_CODE_TTL);

    az = ctx->data;
    p = az->p;

    if (az->site_gateway && az->token.len == 0) {
        /* its token first: the site's callback cannot sign one */
        return ngx_http_mobispot_authorize_mint(r, ctx, az);
    }

    key = ngx_palloc(r->pool, sizeof(ngx_str_t));
    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));
    g = ngx_http_mobispot_api_gen(r);

    if (key == NULL || cmd == NULL || declared == NULL || g == NULL
        || ngx_http_mobispot_issuer_random(r, 32, &az->code) != NGX_OK
        || ngx_http_mobispot_issuer_sha256_hex(r, &az->code, &hash) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key->data = ngx_pnalloc(r->pool, sizeof("ms:{code:}") + hash.len);
    if (key->data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key->len = ngx_sprintf(key->data, "ms:{code:%V}%Z", &hash) - key->data
               - 1;

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || ngx_http_mobispot_authorize_member(g, "client",
                                     &p[NGX_HTTP_MOBISPOT_AZ_CLIENT_ID])
           != NGX_OK
        || ngx_http_mobispot_authorize_member(g, "redirect_uri",
                                     &p[NGX_HTTP_MOBISPOT_AZ_REDIRECT_URI])
           != NGX_OK
        || ngx_http_mobispot_authorize_member(g, "challenge",
                                     &p[NGX_HTTP_MOBISPOT_AZ_CHALLENGE])
           != NGX_OK
        || ngx_http_mobispot_authorize_member(g, "sid", &az->sess.sid) != NGX_OK
        || ngx_http_mobispot_authorize_member(g, "sub", &az->sess.sub) != NGX_OK
        || ngx_http_mobispot_authorize_member(g, "scope",
                                     &p[NGX_HTTP_MOBISPOT_AZ_SCOPE])
           != NGX_OK
        || yajl_gen_string(g, (u_char *) "auth_time", sizeof("auth_time") - 1)
           != yajl_gen_status_ok
        || yajl_gen_integer(g, (long long) az->sess.auth_time)
           != yajl_gen_status_ok
        || (p[NGX_HTTP_MOBISPOT_AZ_NONCE].data
            && ngx_http_mobispot_authorize_member(g, "nonce",
                                         &p[NGX_HTTP_MOBISPOT_AZ_NONCE])
               != NGX_OK)
        || ngx_http_mobispot_authorize_token(r, az, g) != NGX_OK
        || yajl_gen_map_close(g) != yajl_gen_status_ok
        || yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json.data = (u_char *) buf;
    json.len = len;

    if (ngx_http_mobispot_issuer_cmd(r, cmd, 6, &set, key, &json, &nx, &px,
                                     &ttl)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    declared->written = key;
    declared->nwritten = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmd, 1, declared,
                                      ngx_http_mobispot_authorize_stored);
}


/*
 * A site gateway's access token: a site's callback redeems the code
 * straight from Redis and has no key to sign with, so the code record of
 * a site gateway carries "token", the access token the mint signed for
 * the site (audience: the client's site; docs/sso.md)
 */

static ngx_int_t
ngx_http_mobispot_authorize_token(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az, yajl_gen g)
{
    if (!az->site_gateway) {
        return NGX_OK;
    }

    return ngx_http_mobispot_authorize_member(g, "token", &az->token);
}


/* the mint of a site gateway's token (issuer_mint.c), then the code */

static ngx_int_t
ngx_http_mobispot_authorize_mint(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_authorize_t *az)
{
    ngx_str_t                        none;
    ngx_http_mobispot_issuer_mint_t *m;

    m = &az->mint;
    ngx_memzero(m, sizeof(ngx_http_mobispot_issuer_mint_t));
    ngx_str_null(&none);

    if (ngx_http_mobispot_authorize_cstr(r, &az->sess.sub, &m->sub) != NGX_OK
        || ngx_http_mobispot_authorize_cstr(r, &az->sess.sid, &m->sid)
           != NGX_OK
        || ngx_http_mobispot_authorize_cstr(r,
               &az->p[NGX_HTTP_MOBISPOT_AZ_CLIENT_ID], &m->client_id)
           != NGX_OK
        || ngx_http_mobispot_authorize_cstr(r, &az->site, &m->audience)
           != NGX_OK
        || ngx_http_mobispot_authorize_cstr(r,
               az->p[NGX_HTTP_MOBISPOT_AZ_SCOPE].data
               ? &az->p[NGX_HTTP_MOBISPOT_AZ_SCOPE] : &none, &m->scope)
           != NGX_OK
        || ngx_http_mobispot_authorize_cstr(r,
               az->p[NGX_HTTP_MOBISPOT_AZ_NONCE].data
               ? &az->p[NGX_HTTP_MOBISPOT_AZ_NONCE] : &none, &m->nonce)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m->auth_time = az->sess.auth_time;
    m->want_id = 0;
    m->done = ngx_http_mobispot_authorize_minted;
    m->data = az;

    return ngx_http_mobispot_issuer_mint(r, ctx, m);
}


static ngx_int_t
ngx_http_mobispot_authorize_minted(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_issuer_mint_t *m,
    ngx_int_t rc)
{
    ngx_http_mobispot_authorize_t  *az;

    az = m->data;
    ctx->data = az;

    if (rc == NGX_DECLINED || m->access_token.len == 0) {
        /* the account is gone since the sign-in: no token for it */
        return ngx_http_mobispot_authorize_error(r, az, "access_denied",
                                                 "the account cannot sign "
                                                 "in");
    }

    az->token = m->access_token;

    return ngx_http_mobispot_authorize_code(r, ctx);
}


/* a NUL-terminated copy, as the mint takes its strings */

static ngx_int_t
ngx_http_mobispot_authorize_cstr(ngx_http_request_t *r, ngx_str_t *src,
    ngx_str_t *dst)
{
    dst->data = ngx_pnalloc(r->pool, src->len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src->data, src->len);
    dst->data[src->len] = '\0';
    dst->len = src->len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_authorize_stored(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_str_t                             values[3];
    ngx_http_mobispot_authorize_t        *az;
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    static const char  *names[] = { "code", "state", "iss" };

    az = ctx->data;
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    if (replies[0].type != REDIS_REPLY_STATUS) {
        /* nil: a code of 256 random bits that is already there */
        return ngx_http_mobispot_api_bad_reply(r, "a code's write");
    }

    values[0] = az->code;
    values[1] = az->p[NGX_HTTP_MOBISPOT_AZ_STATE];
    values[2] = lcf->url;

    return ngx_http_mobispot_authorize_answer(r, az, names, values, 3);
}


/* the OAuth error response, to the client's registered redirect_uri */

ngx_int_t
ngx_http_mobispot_authorize_error(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az, const char *error,
    const char *description)
{
    ngx_str_t                             values[4];
    ngx_uint_t                            n;
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    static const char  *names[] = {
        "error", "error_description", "iss", "state"
    };

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    values[0].data = (u_char *) error;
    values[0].len = ngx_strlen(error);
    values[1].data = (u_char *) description;
    values[1].len = ngx_strlen(description);
    values[2] = lcf->url;
    n = 3;

    if (az->p[NGX_HTTP_MOBISPOT_AZ_STATE].len
        && az->p[NGX_HTTP_MOBISPOT_AZ_STATE].len
           <= NGX_HTTP_MOBISPOT_AUTHORIZE_STATE_MAX)
    {
        values[n++] = az->p[NGX_HTTP_MOBISPOT_AZ_STATE];
    }

    return ngx_http_mobispot_authorize_answer(r, az, names, values, n);
}


/* the request's parameters as a query, each value percent-encoded */

ngx_int_t
ngx_http_mobispot_authorize_query(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az, ngx_str_t *out)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   i;

    len = 0;

    for (i = 0; i < NGX_HTTP_MOBISPOT_AZ_N; i++) {
        len += ngx_strlen(ngx_http_mobispot_authorize_names[i]) + 2
               + 3 * az->p[i].len;
    }

    out->data = ngx_pnalloc(r->pool, len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (i = 0; i < NGX_HTTP_MOBISPOT_AZ_N; i++) {
        if (az->p[i].data == NULL) {
            continue;
        }

        if (p != out->data) {
            *p++ = '&';
        }

        p = ngx_sprintf(p, "%s=", ngx_http_mobispot_authorize_names[i]);
        p += mobispot_url_encode((char *) az->p[i].data, az->p[i].len,
                                 (char *) p);
    }

    out->len = p - out->data;

    return NGX_OK;
}


/* names=values to the redirect_uri, in the request's response mode */

static ngx_int_t
ngx_http_mobispot_authorize_answer(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az, const char **names, ngx_str_t *values,
    ngx_uint_t n)
{
    u_char      *p;
    size_t       len;
    ngx_str_t    to, *uri;
    ngx_uint_t   i;

    if (az->form_post) {
        return ngx_http_mobispot_authorize_form_post(r, az, names, values, n);
    }

    uri = &az->p[NGX_HTTP_MOBISPOT_AZ_REDIRECT_URI];
    len = uri->len;

    for (i = 0; i < n; i++) {
        len += 2 + ngx_strlen(names[i]) + 3 * values[i].len;
    }

    to.data = ngx_pnalloc(r->pool, len);
    if (to.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(to.data, uri->data, uri->len);

    for (i = 0; i < n; i++) {
        *p++ = (i == 0 && ngx_strlchr(uri->data, uri->data + uri->len, '?')
                          == NULL)
               ? '?' : '&';
        p = ngx_sprintf(p, "%s=", names[i]);
        p += mobispot_url_encode((char *) values[i].data, values[i].len,
                                 (char *) p);
    }

    to.len = p - to.data;

    return ngx_http_mobispot_issuer_see_other(r, &to);
}


/* the page whose form posts names=values to the redirect_uri */

static ngx_int_t
ngx_http_mobispot_authorize_form_post(ngx_http_request_t *r,
    ngx_http_mobispot_authorize_t *az, const char **names, ngx_str_t *values,
    ngx_uint_t n)
{
    u_char      *p;
    size_t       len;
    ngx_str_t    action, html[NGX_HTTP_MOBISPOT_AZ_ANSWER_MAX], body, origin;
    ngx_uint_t   i;

    static const char  head[] = "<h1>Signing you in</h1>\n"
                                "<form method=\"post\" action=\"";
    static const char  input[] = "<input type=\"hidden\" name=\"%s\" "
                                 "value=\"%V\">\n";
    static const char  tail[] =
        "<noscript>\n<p>Your browser does not run scripts: press the "
        "button to go on to the site.</p>\n"
        "<button type=\"submit\">Continue</button>\n</noscript>\n</form>\n";

    if (ngx_http_mobispot_issuer_escape(r,
                                     &az->p[NGX_HTTP_MOBISPOT_AZ_REDIRECT_URI],
                                     &action)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof(head) + action.len + sizeof("\">\n") + sizeof(tail);

    for (i = 0; i < n && i < NGX_HTTP_MOBISPOT_AZ_ANSWER_MAX; i++) {
        if (ngx_http_mobispot_issuer_escape(r, &values[i], &html[i])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len += sizeof(input) + ngx_strlen(names[i]) + html[i].len;
    }

    body.data = ngx_pnalloc(r->pool, len);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(body.data, "%s%V\">\n", head, &action);

    for (i = 0; i < n && i < NGX_HTTP_MOBISPOT_AZ_ANSWER_MAX; i++) {
        p = ngx_sprintf(p, input, names[i], &html[i]);
    }

    p = ngx_cpymem(p, tail, sizeof(tail) - 1);
    body.len = p - body.data;

    ngx_http_mobispot_issuer_form_source(
        &az->p[NGX_HTTP_MOBISPOT_AZ_REDIRECT_URI], &origin);

    return ngx_http_mobispot_issuer_page(r, NGX_HTTP_OK, "Signing you in",
                                         &body, &origin, 1);
}


static ngx_int_t
ngx_http_mobispot_authorize_member(yajl_gen g, const char *name,
    ngx_str_t *value)
{
    if (yajl_gen_string(g, (u_char *) name, ngx_strlen(name))
        != yajl_gen_status_ok
        || yajl_gen_string(g, value->data ? value->data : (u_char *) "",
                           value->len)
           != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
