
/*
 * Copyright (C) Mobispot
 *
 * The module's own sign-in, the site's side of its start: a browser
 * without a usable token is sent to the issuer's authorize endpoint
 * (authorization code, PKCE S256, response_mode=form_post) with a new
 * state, and a short-lived state cookie of the site keeps what the
 * callback needs (sso_callback.c): the PKCE verifier and the return_to.
 * Also the checks nginx -t makes of the flow's directives.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_uri.h"
#include "core/mobispot_sso_state.h"
#include "sso/ngx_http_mobispot_sso.h"


static char *ngx_http_mobispot_sso_callback_path(ngx_conf_t *cf,
    ngx_http_mobispot_sso_loc_conf_t *conf);


/* the state cookie lives as long as a sign-in may take */
#define NGX_HTTP_MOBISPOT_SSO_STATE_AGE  600


/*
 * 302 to authorize?response_type=code&client_id=..&redirect_uri=..
 * &scope=openid&state=..&code_challenge=..&code_challenge_method=S256
 * &response_mode=form_post, with the state cookie
 * __Host-mobispot_state_<state>=<verifier>.<base64url(return_to)>
 * (Secure; HttpOnly; SameSite=None: the callback is a cross-site POST).
 * One cookie per state: two tabs that sign in at once each find their own.
 */

ngx_int_t
ngx_http_mobispot_sso_authorize(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *origin,
    ngx_str_t *back)
{
    u_char           *p, *url, *cookie;
    size_t            len;
    ngx_str_t         to;
    char              state[MOBISPOT_SSO_RANDOM_LEN + 1];
    char              verifier[MOBISPOT_SSO_RANDOM_LEN + 1];
    char              challenge[MOBISPOT_SSO_RANDOM_LEN + 1];

    if (mobispot_sso_random(state, sizeof(state)) != MOBISPOT_OK
        || mobispot_sso_random(verifier, sizeof(verifier)) != MOBISPOT_OK
        || mobispot_pkce_s256(verifier, MOBISPOT_SSO_RANDOM_LEN, challenge,
                              sizeof(challenge))
           != MOBISPOT_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: no random bytes for a sign-in's state");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a return_to the callback would not follow is not kept */

    to = *back;

    if (!mobispot_sso_return_ok((char *) to.data, to.len,
                                (char *) origin->data, origin->len)
        || to.len > MOBISPOT_SSO_RETURN_MAX)
    {
        to.len = 0;
    }

    len = sizeof(MOBISPOT_SSO_STATE_COOKIE) - 1 + MOBISPOT_SSO_RANDOM_LEN
          + 1 + MOBISPOT_SSO_STATE_VALUE_MAX
          + sizeof("; Path=/; Max-Age=600; Secure; HttpOnly; SameSite=None")
          - 1;

    cookie = ngx_pnalloc(r->pool, len);
    if (cookie == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(cookie, MOBISPOT_SSO_STATE_COOKIE "%s=", state);
    p += mobispot_sso_state_value(verifier, (char *) to.data, to.len,
                                  (char *) p, MOBISPOT_SSO_STATE_VALUE_MAX);
    p = ngx_sprintf(p, "; Path=/; Max-Age=%d; Secure; HttpOnly; "
                    "SameSite=None", NGX_HTTP_MOBISPOT_SSO_STATE_AGE);

    if (ngx_http_mobispot_sso_header(r, "Set-Cookie", cookie, p - cookie,
                                     NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = lcf->authorize_url.len
          + sizeof("?response_type=code&client_id=&redirect_uri="
                   "&scope=openid&state=&code_challenge="
                   "&code_challenge_method=S256&response_mode=form_post") - 1
          + 3 * lcf->client_id.len + 3 * lcf->redirect_uri.len
          + 2 * MOBISPOT_SSO_RANDOM_LEN;

    url = ngx_pnalloc(r->pool, len);
    if (url == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(url, lcf->authorize_url.data, lcf->authorize_url.len);
    *p++ = ngx_strlchr(lcf->authorize_url.data,
                       lcf->authorize_url.data + lcf->authorize_url.len, '?')
           ? '&' : '?';
    p = ngx_cpymem(p, "response_type=code&client_id=",
                   sizeof("response_type=code&client_id=") - 1);
    p = (u_char *) ngx_escape_uri(p, lcf->client_id.data, lcf->client_id.len,
                                  NGX_ESCAPE_URI_COMPONENT);
    p = ngx_cpymem(p, "&redirect_uri=", sizeof("&redirect_uri=") - 1);
    p = (u_char *) ngx_escape_uri(p, lcf->redirect_uri.data,
                                  lcf->redirect_uri.len,
                                  NGX_ESCAPE_URI_COMPONENT);
    p = ngx_sprintf(p, "&scope=openid&state=%s&code_challenge=%s"
                    "&code_challenge_method=S256&response_mode=form_post",
                    state, challenge);

    return ngx_http_mobispot_sso_send_to(r, NGX_HTTP_MOVED_TEMPORARILY, url,
                                         p - url);
}


/* a redirect of the sign-in: Location, never cached; the status, or 500 */

ngx_int_t
ngx_http_mobispot_sso_send_to(ngx_http_request_t *r, ngx_uint_t status,
    u_char *url, size_t len)
{
    ngx_table_elt_t  *location;

    if (ngx_http_mobispot_sso_header(r, "Location", url, len, &location)
        != NGX_OK
        || ngx_http_mobispot_sso_header(r, "Cache-Control",
                                        (u_char *) "no-store", 8, NULL)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clear_location(r);
    r->headers_out.location = location;

    return status;
}


/*
 * nginx -t: the flow's directives come together and make sense.  One way
 * to sign in (mobispot_sso_login_url or mobispot_sso_authorize_url); the
 * authorize URL, client id and redirect URI all three or none (the URLs,
 * https or http on loopback as RFC 8252 allows, and the client id are
 * checked as they are read, by their posts); a callback with all
 * three, and with a token cookie to set (the first cookie= of
 * mobispot_sso_token, in conf->cookie); the verifier's issuer, audience
 * and keys are checked by the caller for a callback as for mobispot_sso.
 */

char *
ngx_http_mobispot_sso_flow_check(ngx_conf_t *cf,
    ngx_http_mobispot_sso_loc_conf_t *conf, ngx_uint_t verifies)
{
    ngx_uint_t                       i, n;
    ngx_http_mobispot_main_conf_t   *mmcf;
    ngx_http_mobispot_sso_source_t  *src;
    ngx_http_mobispot_conf_where_t  *where;

    where = conf->callback == 1 ? &conf->callback_where : &conf->mode_where;

    if (conf->login_url.len && conf->authorize_url.len) {
        ngx_http_mobispot_conf_refuse(cf, where,
                                      "\"mobispot_sso_login_url\" and "
                                      "\"mobispot_sso_authorize_url\" are two "
                                      "ways to sign in: choose one");
        return NGX_CONF_ERROR;
    }

    if (!verifies) {
        return NGX_CONF_OK;
    }

    n = (conf->authorize_url.len != 0) + (conf->client_id.len != 0)
        + (conf->redirect_uri.len != 0);

    if ((n != 0 && n != 3) || (conf->callback && n != 3)) {
        ngx_http_mobispot_conf_refuse(cf, where,
                                      "%s\"mobispot_sso_authorize_url\", "
                                      "\"mobispot_sso_client_id\" and "
                                      "\"mobispot_sso_redirect_uri\" go "
                                      "together (%ui of 3 set)",
                                      conf->callback
                                      ? "\"mobispot_sso_callback\" needs "
                                        "them: " : "", n);
        return NGX_CONF_ERROR;
    }

    /* the URLs and the client id are checked as they are read (the posts) */

    if (n == 0 || !conf->callback) {
        return NGX_CONF_OK;
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);

    if (!mmcf->redis.configured) {
        ngx_http_mobispot_conf_refuse(cf, where,
                                      "\"mobispot_sso_callback\" needs "
                                      "\"mobispot_redis\" in the http block "
                                      "(the codes are redeemed there)");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mobispot_sso_callback_path(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    src = conf->sources->elts;

    for (i = 0; i < conf->sources->nelts; i++) {
        if (src[i].type == NGX_HTTP_MOBISPOT_SSO_COOKIE) {
            conf->cookie = src[i].name;
            return NGX_CONF_OK;
        }
    }

    ngx_http_mobispot_conf_refuse(cf, where,
                                  "\"mobispot_sso_callback\" needs the token "
                                  "cookie it sets: \"mobispot_sso_token "
                                  "cookie=NAME\" (as the protected "
                                  "locations read it)");

    return NGX_CONF_ERROR;
}


/*
 * The callback's location serves the redirect URI's path: "location =" of
 * that path, or a prefix of it (a regular expression or a named location
 * is not checked).  A callback the issuer never posts to is refused.
 */

static char *
ngx_http_mobispot_sso_callback_path(ngx_conf_t *cf,
    ngx_http_mobispot_sso_loc_conf_t *conf)
{
    u_char                    *p, *last;
    ngx_str_t                  path;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf == NULL || clcf->named
#if (NGX_PCRE)
        || clcf->regex
#endif
        || clcf->name.len == 0)
    {
        return NGX_CONF_OK;
    }

    /* scheme://authority, checked by mobispot_redirect_uri_check() */

    p = conf->redirect_uri.data;
    last = p + conf->redirect_uri.len;

    p = ngx_strlchr(p, last, ':');
    p = (p && last - p > 3) ? ngx_strlchr(p + 3, last, '/') : NULL;

    if (p == NULL) {
        ngx_str_set(&path, "/");

    } else {
        path.data = p;
        path.len = last - p;

        p = ngx_strlchr(path.data, last, '?');

        if (p) {
            path.len = p - path.data;
        }
    }

    if (clcf->exact_match
        ? (clcf->name.len == path.len
           && ngx_strncmp(clcf->name.data, path.data, path.len) == 0)
        : (clcf->name.len <= path.len
           && ngx_strncmp(clcf->name.data, path.data, clcf->name.len) == 0))
    {
        return NGX_CONF_OK;
    }

    ngx_http_mobispot_conf_refuse(cf, &conf->callback_where,
                                  "\"mobispot_sso_callback\" in location "
                                  "\"%V\" is not where "
                                  "\"mobispot_sso_redirect_uri\" points "
                                  "(\"%V\")", &clcf->name, &path);

    return NGX_CONF_ERROR;
}


/*
 * The posts of mobispot_sso_authorize_url and mobispot_sso_redirect_uri,
 * checked as they are read: https URLs (http on loopback only)
 */

char *
ngx_http_mobispot_sso_url_post(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *url = data;

    ngx_str_t   *value;
    const char  *err;

    err = mobispot_redirect_uri_check((const char *) url->data, url->len, 0);

    if (err != NULL) {
        value = cf->args->elts;
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be an https URL (http on loopback "
                           "only): \"%V\": %s", &value[0], url, err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the post of mobispot_sso_client_id: visible ASCII, as a form sends it */

char *
ngx_http_mobispot_sso_client_id_post(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *id = data;

    u_char  *p;

    for (p = id->data; p < id->data + id->len; p++) {
        if (*p <= 0x20 || *p >= 0x7f) {
            ngx_http_mobispot_emerg(cf, 0, "\"%V\" takes visible ASCII "
                                    "characters only", id);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}
