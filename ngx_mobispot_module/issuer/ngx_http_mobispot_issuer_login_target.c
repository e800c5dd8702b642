
/*
 * Copyright (C) Mobispot
 *
 * Where a sign-in form's answer may end, besides the issuer itself: the
 * form posts to login, whose 303 goes to the parked authorize request,
 * whose redirect goes to the client's redirect URI; a browser holds every
 * redirect of a form's answer to the page's CSP form-action (Chromium
 * does), so the sign-in page of an app's authorize request lists the
 * origin of its redirect URI too, once Redis says that URI is one of the
 * client's: HMGET ms:{client:<client_id>} redirect_uris, with GET login
 * (its own round trip) and in POST login's first round trip (for the form
 * answered again after a wrong password).  A request whose URI is not
 * registered keeps form-action 'self' (authorize refuses it anyway).
 * GET login is here: the form, after that read when there is one.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_login.h"
#include "core/mobispot_spots.h"
#include "core/mobispot_uri.h"
#include "issuer/ngx_http_mobispot_issuer.h"


typedef struct {
    ngx_str_t                            cont;      /* checked, or empty */
    ngx_str_t                            key;       /* the client's */
    ngx_str_t                            uri;       /* cont's redirect_uri */
    ngx_str_t                           *action;    /* the form-action */
} ngx_http_mobispot_login_get_t;


static ngx_int_t ngx_http_mobispot_login_page(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);


/*
 * The read of the client's redirect URIs of cont (a checked parked
 * authorize request: "<prefix>authorize?<query>") into cmd, its key into
 * key, its redirect_uri into uri: NGX_OK; NGX_DECLINED when cont names no
 * client or no redirect URI (nothing to read)
 */

ngx_int_t
ngx_http_mobispot_issuer_target_cmd(ngx_http_request_t *r, ngx_str_t *cont,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_str_t *key, ngx_str_t *uri)
{
    u_char     *q;
    ngx_str_t   query, v[2];

    static const char  *names[] = { "client_id", "redirect_uri" };
    static ngx_str_t    hmget = ngx_string("HMGET");
    static ngx_str_t    uris = ngx_string("redirect_uris");

    if (cont == NULL || cont->len == 0) {
        return NGX_DECLINED;
    }

    q = ngx_strlchr(cont->data, cont->data + cont->len, '?');
    if (q == NULL) {
        return NGX_DECLINED;
    }

    query.data = q + 1;
    query.len = cont->data + cont->len - query.data;

    if (ngx_http_mobispot_issuer_fields(r, &query, names, v, 2,
                                        MOBISPOT_URI_MAX)
        != NGX_OK
        || v[0].data == NULL || v[1].data == NULL || v[1].len == 0
        || !mobispot_id_valid((char *) v[0].data, v[0].len))
    {
        return NGX_DECLINED;
    }

    if (ngx_http_mobispot_token_key(r, key, "ms:{client:%V}", &v[0])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    *uri = v[1];

    return ngx_http_mobispot_issuer_cmd(r, cmd, 3, &hmget, key, &uris);
}


/*
 * The form-action of the sign-in page from the HMGET's reply: "'self'
 * <the origin of uri>" into *action when uri is one of the client's
 * redirect URIs, else NULL ('self' alone)
 */

ngx_int_t
ngx_http_mobispot_issuer_target(ngx_http_request_t *r,
    ngx_http_mobispot_reply_t *reply, ngx_str_t *uri, ngx_str_t **action)
{
    ngx_str_t  *list;

    *action = NULL;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1) {
        return NGX_OK;
    }

    list = ngx_http_mobispot_reply_str(&reply->element[0]);

    if (list == NULL
        || mobispot_uri_listed((char *) list->data, list->len,
                               (char *) uri->data, uri->len)
           != MOBISPOT_OK)
    {
        return NGX_OK;
    }

    return ngx_http_mobispot_issuer_form_action(r, uri, action);
}


/* GET login[?continue=<a parked authorize request>] */

ngx_int_t
ngx_http_mobispot_issuer_login_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                             rc;
    ngx_str_t                             cont;
    ngx_http_mobispot_login_get_t        *lg;
    ngx_http_mobispot_api_keys_t         *declared;
    ngx_http_mobispot_redis_cmd_t        *cmd;
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    static const char  *names[] = { "continue" };

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    if (ngx_http_mobispot_issuer_fields(r, &r->args, names, &cont, 1,
                                        MOBISPOT_LOGIN_CONTINUE_MAX)
        != NGX_OK)
    {
        return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_BAD_REQUEST,
                                                   "The address of this "
                                                   "page is malformed.");
    }

    /* anything but the issuer's own authorize is ignored */

    if (cont.data
        && mobispot_continue_valid((char *) lcf->prefix.data,
                                   lcf->prefix.len, (char *) cont.data,
                                   cont.len)
           != MOBISPOT_OK)
    {
        ngx_str_null(&cont);
    }

    /* an app's request: the origin of its redirect URI, once registered */

    lg = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_login_get_t));
    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (lg == NULL || cmd == NULL || declared == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lg->cont = cont;

    rc = ngx_http_mobispot_issuer_target_cmd(r, &cont, cmd, &lg->key,
                                             &lg->uri);
    if (rc == NGX_DECLINED) {
        return ngx_http_mobispot_issuer_login_form(r, NGX_HTTP_OK, &cont,
                                                   NULL, NULL, NULL);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = lg;
    declared->read = &lg->key;
    declared->nread = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmd, 1, declared,
                                      ngx_http_mobispot_login_page);
}


/* GET login's form, with the form-action of its client's redirect URI */

static ngx_int_t
ngx_http_mobispot_login_page(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_login_get_t  *lg;

    lg = ctx->data;

    if (ngx_http_mobispot_issuer_target(r, &replies[0], &lg->uri,
                                        &lg->action)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_issuer_login_form(r, NGX_HTTP_OK, &lg->cont,
                                               NULL, NULL, lg->action);
}
