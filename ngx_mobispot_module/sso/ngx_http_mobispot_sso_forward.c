/*
 * Copyright (C) Mobispot
 *
 * What the gateway reads from a request and what it passes on or builds
 * from it: the token's sources (header, cookie, argument), the removal of
 * the token cookie and argument from what reaches the site's upstream
 * (unless mobispot_sso_pass_token on), and the sign-in redirect, whose
 * return_to is built from the configured public URL or server name, never
 * from the client's Host header.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sso/ngx_http_mobispot_sso.h"


/*
 * A token taken out of the request: kept in a pool cleanup (which an
 * internal redirect does not clear, unlike the module's context), so that
 * the location the request is redirected to still finds it.
 */

typedef struct {
    ngx_str_t    token;
    ngx_uint_t   type;
    ngx_str_t    name;
} ngx_http_mobispot_sso_kept_t;


static ngx_http_mobispot_sso_kept_t *ngx_http_mobispot_sso_kept(
    ngx_http_request_t *r);
static void ngx_http_mobispot_sso_kept_mark(void *data);
static ngx_int_t ngx_http_mobispot_sso_strip_cookie(ngx_http_request_t *r,
    ngx_str_t *name);
static ngx_int_t ngx_http_mobispot_sso_strip_cookie_header(
    ngx_http_request_t *r, ngx_table_elt_t *h, ngx_str_t *name);
static ngx_int_t ngx_http_mobispot_sso_strip_arg(ngx_http_request_t *r,
    ngx_str_t *name);
static ngx_int_t ngx_http_mobispot_sso_strip_value(ngx_http_request_t *r,
    ngx_str_t *value, ngx_str_t *name, ngx_uint_t cookie);


/* the Bearer token of an Authorization header, or NGX_DECLINED */

static ngx_int_t
ngx_http_mobispot_sso_bearer(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char           *p, *last;
    ngx_table_elt_t  *auth;

    auth = r->headers_in.authorization;

    if (auth == NULL || auth->value.len < sizeof("Bearer") - 1
        || ngx_strncasecmp(auth->value.data, (u_char *) "Bearer",
                           sizeof("Bearer") - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    p = auth->value.data + sizeof("Bearer") - 1;
    last = auth->value.data + auth->value.len;

    if (p < last && *p != ' ') {
        /* "BearerX": another scheme */
        return NGX_DECLINED;
    }

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && last[-1] == ' ') {
        last--;
    }

    token->data = p;
    token->len = last - p;

    return NGX_OK;
}


/*
 * Finds the token: in the configured sources, in order; the first one
 * present wins (its index in *index).  An Authorization header with
 * another scheme than Bearer is not ours and is passed over.  A token
 * already taken out of the request (before an internal redirect) is found
 * where it was.
 */

static ngx_int_t
ngx_http_mobispot_sso_find(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *token,
    ngx_uint_t *index)
{
    ngx_uint_t                       i;
    ngx_http_mobispot_sso_kept_t    *kept;
    ngx_http_mobispot_sso_source_t  *src;

    kept = ngx_http_mobispot_sso_kept(r);
    src = lcf->sources->elts;

    for (i = 0; i < lcf->sources->nelts; i++) {
        *index = i;

        if (kept && kept->type == src[i].type
            && kept->name.len == src[i].name.len
            && ngx_strncasecmp(kept->name.data, src[i].name.data,
                               kept->name.len)
               == 0)
        {
            *token = kept->token;
            return NGX_OK;
        }

        switch (src[i].type) {

        case NGX_HTTP_MOBISPOT_SSO_HEADER:
            if (ngx_http_mobispot_sso_bearer(r, token) == NGX_OK) {
                return NGX_OK;
            }

            break;

        case NGX_HTTP_MOBISPOT_SSO_COOKIE:
            if (ngx_http_mobispot_sso_cookie(r, &src[i].name, token)
                == NGX_OK)
            {
                return NGX_OK;
            }

            break;

        default: /* NGX_HTTP_MOBISPOT_SSO_ARG */
            if (ngx_http_arg(r, src[i].name.data, src[i].name.len, token)
                == NGX_OK)
            {
                return NGX_OK;
            }

            break;
        }
    }

    return NGX_DECLINED;
}


/* the first cookie of that name in the request's Cookie headers */

ngx_int_t
ngx_http_mobispot_sso_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
#if (nginx_version >= 1023000)
    if (ngx_http_parse_multi_header_lines(r, r->headers_in.cookie, name,
                                          value)
        != NULL)
    {
        return NGX_OK;
    }
#else
    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, name,
                                          value)
        != NGX_DECLINED)
    {
        return NGX_OK;
    }
#endif

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_mobispot_sso_token(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *token)
{
    ngx_uint_t  index;

    return ngx_http_mobispot_sso_find(r, lcf, token, &index);
}


/*
 * Takes the token cookies and arguments of the location's sources out of
 * the request, so that neither the upstream nor a log of the proxied
 * request sees them ($request, the request line as it came, still does:
 * docs/security.md).  The token found, if it came from one of them, is
 * kept for an internal redirect.  The Authorization header is left: it is
 * the client's own header to its API (docs/security.md).
 */

ngx_int_t
ngx_http_mobispot_sso_strip(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf)
{
    ngx_int_t                        rc;
    ngx_str_t                        token;
    ngx_uint_t                       i, index;
    ngx_pool_cleanup_t              *cln;
    ngx_http_mobispot_sso_kept_t    *kept;
    ngx_http_mobispot_sso_source_t  *src;

    if (lcf->pass_token) {
        return NGX_OK;
    }

    src = lcf->sources->elts;

    rc = ngx_http_mobispot_sso_find(r, lcf, &token, &index);

    if (rc == NGX_OK && src[index].type != NGX_HTTP_MOBISPOT_SSO_HEADER
        && ngx_http_mobispot_sso_kept(r) == NULL)
    {
        cln = ngx_pool_cleanup_add(r->pool,
                                   sizeof(ngx_http_mobispot_sso_kept_t));
        if (cln == NULL) {
            return NGX_ERROR;
        }

        kept = cln->data;
        kept->token = token;
        kept->type = src[index].type;
        kept->name = src[index].name;
        cln->handler = ngx_http_mobispot_sso_kept_mark;
    }

    for (i = 0; i < lcf->sources->nelts; i++) {

        switch (src[i].type) {

        case NGX_HTTP_MOBISPOT_SSO_COOKIE:
            rc = ngx_http_mobispot_sso_strip_cookie(r, &src[i].name);
            break;

        case NGX_HTTP_MOBISPOT_SSO_ARG:
            rc = ngx_http_mobispot_sso_strip_arg(r, &src[i].name);
            break;

        default:
            rc = NGX_OK;
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_http_mobispot_sso_kept_t *
ngx_http_mobispot_sso_kept(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_mobispot_sso_kept_mark) {
            return cln->data;
        }
    }

    return NULL;
}


/* only a mark: the kept token lives in the request's own buffers */

static void
ngx_http_mobispot_sso_kept_mark(void *data)
{
}


/* every Cookie header the request has */

static ngx_int_t
ngx_http_mobispot_sso_strip_cookie(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_int_t         rc, any;
    ngx_table_elt_t  *h;
#if (nginx_version < 1023000)
    ngx_uint_t        i;
    ngx_table_elt_t **hh;
#endif

    any = NGX_DECLINED;

#if (nginx_version >= 1023000)
    for (h = r->headers_in.cookie; h; h = h->next) {
#else
    hh = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = hh[i];
#endif
        rc = ngx_http_mobispot_sso_strip_cookie_header(r, h, name);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            any = NGX_OK;
        }
    }

    return any;
}


/*
 * A new value without the pairs named NAME (the old one stays in the
 * request's buffers, where the token found in it points): NGX_OK when
 * some were taken out, NGX_DECLINED when there were none.
 */

static ngx_int_t
ngx_http_mobispot_sso_strip_value(ngx_http_request_t *r, ngx_str_t *value,
    ngx_str_t *name, ngx_uint_t cookie)
{
    u_char    *p;
    size_t     len;
    unsigned   removed;

    if (value->len == 0) {
        return NGX_DECLINED;
    }

    /* a cookie value may grow: "a;b" is passed on as "a; b" */

    p = ngx_pnalloc(r->pool, cookie ? 2 * value->len : value->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (cookie) {
        len = mobispot_cookie_strip((const char *) value->data, value->len,
                                    (const char *) name->data, name->len,
                                    (char *) p, &removed);
    } else {
        len = mobispot_args_strip((const char *) value->data, value->len,
                                  (const char *) name->data, name->len,
                                  (char *) p, &removed);
    }

    if (removed == 0) {
        return NGX_DECLINED;
    }

    value->data = p;
    value->len = len;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mobispot: sso token %s \"%V\" not passed on",
                   cookie ? "cookie" : "argument", name);

    return NGX_OK;
}


/*
 * A Cookie header left with no cookie is sent empty: the list of request
 * headers cannot lose one.
 */

static ngx_int_t
ngx_http_mobispot_sso_strip_cookie_header(ngx_http_request_t *r,
    ngx_table_elt_t *h, ngx_str_t *name)
{
    return ngx_http_mobispot_sso_strip_value(r, &h->value, name, 1);
}


/*
 * The query string without the argument: the URI is then built again
 * from r->uri and r->args by the proxy (r->unparsed_uri, $request_uri, is
 * left as it came)
 */

static ngx_int_t
ngx_http_mobispot_sso_strip_arg(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_int_t  rc;

    rc = ngx_http_mobispot_sso_strip_value(r, &r->args, name, 0);

    if (rc == NGX_OK) {
        r->valid_unparsed_uri = 0;
    }

    return rc;
}


/*
 * 302 to mobispot_sso_login_url?return_to=<this URL>&site=<site id> (or
 * to the issuer's authorize, sso_authorize.c), or NGX_DECLINED when
 * this server has no public name to return to (the caller then answers
 * 401 as to an API client).
 */

ngx_int_t
ngx_http_mobispot_sso_redirect(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf)
{
    u_char           *p, *url, *back, *q, *end;
    size_t            len;
    ngx_int_t         rc;
    ngx_str_t         origin, path, query;
    ngx_uint_t        i;
    ngx_table_elt_t  *location;
    ngx_http_mobispot_sso_source_t  *src;

    rc = ngx_http_mobispot_sso_origin(r, lcf, &origin);
    if (rc != NGX_OK) {
        return rc;
    }

    /* the URI as the client sent it, less the token arguments */

    path = r->unparsed_uri;
    ngx_str_null(&query);

    end = r->unparsed_uri.data + r->unparsed_uri.len;
    q = ngx_strlchr(r->unparsed_uri.data, end, '?');

    if (q) {
        path.len = q - r->unparsed_uri.data;
        query.data = q + 1;
        query.len = end - query.data;
    }

    if (query.len && !lcf->pass_token) {
        src = lcf->sources->elts;

        for (i = 0; i < lcf->sources->nelts; i++) {
            if (src[i].type != NGX_HTTP_MOBISPOT_SSO_ARG) {
                continue;
            }

            if (ngx_http_mobispot_sso_strip_value(r, &query, &src[i].name, 0)
                == NGX_ERROR)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    len = origin.len + path.len + 1 + query.len;

    back = ngx_pnalloc(r->pool, len);
    if (back == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(back, origin.data, origin.len);
    p = ngx_cpymem(p, path.data, path.len);

    if (query.len) {
        *p++ = '?';
        p = ngx_cpymem(p, query.data, query.len);
    }

    len = p - back;

    if (lcf->authorize_url.len) {
        path.data = back;
        path.len = len;

        return ngx_http_mobispot_sso_authorize(r, lcf, &origin, &path);
    }

    url = ngx_pnalloc(r->pool, lcf->login_url.len
                               + sizeof("?return_to=&site=") - 1
                               + 3 * len + 3 * lcf->site.len);
    if (url == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(url, lcf->login_url.data, lcf->login_url.len);
    *p++ = ngx_strlchr(lcf->login_url.data,
                       lcf->login_url.data + lcf->login_url.len, '?')
           ? '&' : '?';
    p = ngx_cpymem(p, "return_to=", sizeof("return_to=") - 1);
    p = (u_char *) ngx_escape_uri(p, back, len, NGX_ESCAPE_URI_COMPONENT);

    if (lcf->site.len) {
        p = ngx_cpymem(p, "&site=", sizeof("&site=") - 1);
        p = (u_char *) ngx_escape_uri(p, lcf->site.data, lcf->site.len,
                                      NGX_ESCAPE_URI_COMPONENT);
    }

    if (ngx_http_mobispot_sso_header(r, "Location", url, p - url, &location)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_clear_location(r);
    r->headers_out.location = location;

    return NGX_HTTP_MOVED_TEMPORARILY;
}


/*
 * scheme://host[:port] of this site: mobispot_sso_public_url, or the
 * server's first name (not a wildcard, a regex or "_") with the scheme
 * and port the connection came on.  The Host header is never used: a
 * catch-all server would turn any domain into a return_to.
 */

ngx_int_t
ngx_http_mobispot_sso_origin(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *origin)
{
    u_char                    *p;
    in_port_t                  port, standard;
    ngx_str_t                  scheme, name;
    ngx_http_core_srv_conf_t  *cscf;

    if (lcf->public_url.len) {
        *origin = lcf->public_url;
        return NGX_OK;
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
    name = cscf->server_name;

    if (!ngx_http_mobispot_sso_public_name(&name)) {
        if (!lcf->no_origin_logged) {
            lcf->no_origin_logged = 1;

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mobispot: no sign-in redirect: the server has "
                          "no plain server_name and mobispot_sso_public_url "
                          "is not set; browsers get 401 (logged once per "
                          "worker)");
        }

        return NGX_DECLINED;
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https");
        standard = 443;
    } else
#endif
    {
        ngx_str_set(&scheme, "http");
        standard = 80;
    }

    if (ngx_connection_local_sockaddr(r->connection, NULL, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    port = ngx_inet_get_port(r->connection->local_sockaddr);

    p = ngx_pnalloc(r->pool, scheme.len + sizeof("://:65535") - 1 + name.len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    origin->data = p;
    p = ngx_sprintf(p, "%V://%V", &scheme, &name);

    if (port != standard) {
        p = ngx_sprintf(p, ":%ui", (ngx_uint_t) port);
    }

    origin->len = p - origin->data;

    return NGX_OK;
}


/* a name a browser can be sent back to: not "", "_", a wildcard or regex */

ngx_uint_t
ngx_http_mobispot_sso_public_name(ngx_str_t *name)
{
    if (name->len == 0 || name->data[0] == '~' || name->data[0] == '.'
        || (name->len == 1 && name->data[0] == '_')
        || ngx_strlchr(name->data, name->data + name->len, '*') != NULL)
    {
        return 0;
    }

    return 1;
}


/*
 * mobispot_sso_public_url http[s]://host[:port]: the origin the sign-in
 * redirect returns to; no path, query, fragment or user part.
 */

char *
ngx_http_mobispot_sso_public_url_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_sso_loc_conf_t *lcf = conf;

    u_char     *p, *last, *host;
    ngx_str_t  *value, url;

    if (lcf->public_url.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    url = value[1];

    if (url.len && url.data[url.len - 1] == '/') {
        url.len--;
    }

    p = url.data;
    last = p + url.len;

    if (url.len > sizeof("https://") - 1
        && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0)
    {
        host = p + 8;

    } else if (url.len > sizeof("http://") - 1
               && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0)
    {
        host = p + 7;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_sso_public_url\" must be "
                           "http://HOST[:PORT] or https://HOST[:PORT], "
                           "not \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (p = host; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '/' || *p == '?' || *p == '#'
            || *p == '@' || *p == '\\')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mobispot_sso_public_url\" takes an origin "
                               "only (no path, query, user or blank): "
                               "\"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    lcf->public_url = url;

    return NGX_CONF_OK;
}
