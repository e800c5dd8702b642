
/*
 * Copyright (C) Mobispot
 *
 * The answer to a request the gateway does not let in: a JSON 401 with
 * WWW-Authenticate (RFC 6750), a 403, a 503, or a browser sent to sign in.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_delay.h"
#include "sso/ngx_http_mobispot_sso.h"


static void ngx_http_mobispot_sso_delayed(ngx_http_request_t *r);
static ngx_int_t ngx_http_mobispot_sso_refuse(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_uint_t status);


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


/*
 * Ends the access phase of a request the gateway does not let in: the
 * refusal is sent now or, for a 401 to an API client in a location with
 * nginx's auth_delay, once that delay is over (nginx delays only the 401
 * an access handler returns; this one sends its own answer).  Not
 * delayed: 403 not_entitled, 503, and a browser's redirect to sign in.
 */

ngx_int_t
ngx_http_mobispot_sso_deny(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_uint_t status)
{
    if (status != MOBISPOT_SSO_NOT_ENTITLED
        && status != MOBISPOT_SSO_UNAVAILABLE
        && !((lcf->login_url.len || lcf->authorize_url.len)
             && ngx_http_mobispot_accepts(r, "text/html"))
        && ngx_http_mobispot_auth_delay(r, ngx_http_mobispot_sso_delayed)
           == NGX_OK)
    {
        return NGX_DONE;
    }

    ngx_http_finalize_request(r, ngx_http_mobispot_sso_refuse(r, lcf,
                                                              status));
    return NGX_DONE;
}


static void
ngx_http_mobispot_sso_delayed(ngx_http_request_t *r)
{
    ngx_http_mobispot_sso_ctx_t       *ctx;
    ngx_http_mobispot_sso_loc_conf_t  *lcf;

    if (ngx_http_mobispot_auth_delaying(r)) {
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_sso_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_sso_module);

    ngx_http_finalize_request(r, ngx_http_mobispot_sso_refuse(r, lcf,
                                                              ctx->status));
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

    if ((lcf->login_url.len || lcf->authorize_url.len)
        && ngx_http_mobispot_accepts(r, "text/html"))
    {
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
