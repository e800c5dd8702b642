
/*
 * Copyright (C) Mobispot
 *
 * The issuer's identifier, mobispot_sso_issuer_url (the "iss" of its
 * tokens), and its OpenID Connect Discovery 1.0 document, made once when
 * the configuration is read.  A client finds the document at the issuer
 * URL followed by /.well-known/openid-configuration, so the URL's path is
 * the issuer location's prefix: nginx -t refuses them apart.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "issuer/ngx_http_mobispot_issuer.h"


static ngx_uint_t ngx_http_mobispot_issuer_loopback(u_char *host,
    size_t len);
static ngx_uint_t ngx_http_mobispot_issuer_alnum(u_char c);
static ngx_int_t ngx_http_mobispot_issuer_gen_url(yajl_gen g,
    const char *name, ngx_str_t *base, const char *endpoint);
static ngx_int_t ngx_http_mobispot_issuer_gen_list(yajl_gen g,
    const char *name, const char **values);


static const char  *ngx_http_mobispot_issuer_response_types[] = {
    "code", NULL
};

static const char  *ngx_http_mobispot_issuer_response_modes[] = {
    "query", "form_post", NULL
};

static const char  *ngx_http_mobispot_issuer_grant_types[] = {
    "authorization_code", "refresh_token", NULL
};

static const char  *ngx_http_mobispot_issuer_pkce[] = { "S256", NULL };

static const char  *ngx_http_mobispot_issuer_subjects[] = { "public", NULL };

static const char  *ngx_http_mobispot_issuer_auth_methods[] = {
    "none", "client_secret_basic", "client_secret_post", NULL
};

static const char  *ngx_http_mobispot_issuer_scopes[] = {
    "openid", "offline_access", NULL
};

static const char  *ngx_http_mobispot_issuer_claims[] = {
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "jti",
    "client_id", "pass", "company", "nets", "zones", "roles", NULL
};


/*
 * mobispot_sso_issuer_url https://HOST[:PORT][/PATH]: http only for a
 * loopback host (a test, or a TLS terminator on the same machine that
 * forwards to it would still publish https); no user part, query,
 * fragment, or trailing slash; the path in unreserved characters and "/".
 */

char *
ngx_http_mobispot_issuer_url_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_issuer_loc_conf_t *ilcf = conf;

    u_char     *p, *host, *end;
    ngx_str_t  *value, url;
    ngx_int_t   port;
    ngx_uint_t  https;

    if (ilcf->url.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    url = value[1];
    end = url.data + url.len;

    if (url.len > NGX_HTTP_MOBISPOT_ISSUER_URL_MAX) {
        goto invalid;
    }

    if (url.len > 8 && ngx_strncmp(url.data, "https://", 8) == 0) {
        https = 1;
        host = url.data + 8;

    } else if (url.len > 7 && ngx_strncmp(url.data, "http://", 7) == 0) {
        https = 0;
        host = url.data + 7;

    } else {
        goto invalid;
    }

    /* the host: a name, an IPv4 address or [IPv6] */

    p = host;

    if (*p == '[') {
        while (p < end && *p != ']') {
            if (!(ngx_http_mobispot_issuer_alnum(*p) || *p == ':' || *p == '.'
                  || *p == '['))
            {
                goto invalid;
            }

            p++;
        }

        if (p == end || p - host < 3) {
            goto invalid;
        }

        p++;

    } else {
        while (p < end
               && (ngx_http_mobispot_issuer_alnum(*p) || *p == '-'
                   || *p == '.'))
        {
            p++;
        }

        if (p == host) {
            goto invalid;
        }
    }

    if (!https && !ngx_http_mobispot_issuer_loopback(host, p - host)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is not https: plain http is only "
                           "for a loopback host (127.0.0.1, [::1], "
                           "localhost)", &cmd->name, &url);
        return NGX_CONF_ERROR;
    }

    if (p < end && *p == ':') {
        host = ++p;

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }

        port = (p > host && p - host <= 5) ? ngx_atoi(host, p - host)
                                           : NGX_ERROR;

        if (port < 1 || port > 65535) {
            goto invalid;
        }
    }

    /* the path: empty, or "/" segments; never ending with "/" */

    if (p < end && (*p != '/' || end[-1] == '/')) {
        goto invalid;
    }

    for ( /* void */ ; p < end; p++) {
        if (!(ngx_http_mobispot_issuer_alnum(*p) || *p == '/' || *p == '-'
              || *p == '.'
              || *p == '_' || *p == '~'))
        {
            goto invalid;
        }
    }

    ilcf->url = url;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\": \"%V\" is not an issuer URL: https://HOST"
                       "[:PORT][/PATH], without user, query, fragment or "
                       "trailing \"/\"", &cmd->name, &url);

    return NGX_CONF_ERROR;
}


static ngx_uint_t
ngx_http_mobispot_issuer_alnum(u_char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}


static ngx_uint_t
ngx_http_mobispot_issuer_loopback(u_char *host, size_t len)
{
    if ((len == 9 && ngx_strncasecmp(host, (u_char *) "localhost", 9) == 0)
        || (len == 5 && ngx_strncmp(host, "[::1]", 5) == 0))
    {
        return 1;
    }

    return len >= 7 && ngx_strncmp(host, "127.", 4) == 0
           && ngx_inet_addr(host, len) != INADDR_NONE;
}


/*
 * The issuer URL's path is the location's prefix less its last "/": the
 * discovery document is where clients look for it, and the endpoints'
 * URLs are the issuer's URL and their names.
 */

char *
ngx_http_mobispot_issuer_url_check(ngx_conf_t *cf,
    ngx_http_mobispot_issuer_loc_conf_t *lcf)
{
    u_char     *path, *end;
    ngx_str_t   want;

    end = lcf->url.data + lcf->url.len;
    path = ngx_strlchr(lcf->url.data + 8, end, '/');

    if (path == NULL) {
        path = end;
    }

    want = lcf->prefix;
    want.len--;

    if ((size_t) (end - path) != want.len
        || ngx_strncmp(path, want.data, want.len) != 0)
    {
        ngx_http_mobispot_conf_refuse(cf, &lcf->where,
                                      "the path of \"mobispot_sso_issuer_url "
                                      "%V\" must be \"%V\", the prefix of "
                                      "the location of \"mobispot_sso_issuer\" "
                                      "without its last \"/\": clients look "
                                      "for the discovery document at the "
                                      "issuer's URL + "
                                      "/.well-known/openid-configuration",
                                      &lcf->url, &want);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the document, in lcf->discovery (configuration memory) */

ngx_int_t
ngx_http_mobispot_issuer_discovery(ngx_conf_t *cf,
    ngx_http_mobispot_issuer_loc_conf_t *lcf)
{
    size_t                           len;
    yajl_gen                         g;
    ngx_uint_t                       i, j, n;
    const char                      *algs[3];
    const unsigned char             *buf;
    ngx_http_mobispot_issuer_key_t  *key;

    /*
     * the algorithms of the keys, the ID tokens' first (RS256 when an RSA
     * key is listed: Discovery 1.0 3 wants it), then the signing key's
     */

    key = lcf->keys->elts;
    algs[0] = ngx_http_mobispot_issuer_id_token_key(lcf)->alg;
    n = 1;

    for (i = lcf->keys->nelts; i > 0 && n < 2; i--) {
        for (j = 0; j < n; j++) {
            if (ngx_strcmp(algs[j], key[i - 1].alg) == 0) {
                break;
            }
        }

        if (j == n) {
            algs[n++] = key[i - 1].alg;
        }
    }

    algs[n] = NULL;

    g = mobispot_json_gen_alloc();
    if (g == NULL) {
        return NGX_ERROR;
    }

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "issuer") != MOBISPOT_OK
        || yajl_gen_string(g, lcf->url.data, lcf->url.len)
           != yajl_gen_status_ok
        || ngx_http_mobispot_issuer_gen_url(g, "authorization_endpoint",
                                            &lcf->url, "/authorize")
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_url(g, "token_endpoint", &lcf->url,
                                            "/token")
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_url(g, "userinfo_endpoint",
                                            &lcf->url, "/userinfo")
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_url(g, "jwks_uri", &lcf->url,
                                            "/jwks")
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_url(g, "end_session_endpoint",
                                            &lcf->url, "/logout")
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_list(g, "response_types_supported",
                                       ngx_http_mobispot_issuer_response_types)
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_list(g, "response_modes_supported",
                                       ngx_http_mobispot_issuer_response_modes)
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_list(g, "grant_types_supported",
                                           ngx_http_mobispot_issuer_grant_types)
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_list(g,
                                        "code_challenge_methods_supported",
                                        ngx_http_mobispot_issuer_pkce)
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_list(g, "subject_types_supported",
                                             ngx_http_mobispot_issuer_subjects)
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_list(g,
                                     "id_token_signing_alg_values_supported",
                                     algs)
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_list(g,
                                     "token_endpoint_auth_methods_supported",
                                     ngx_http_mobispot_issuer_auth_methods)
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_list(g, "scopes_supported",
                                             ngx_http_mobispot_issuer_scopes)
           != NGX_OK
        || ngx_http_mobispot_issuer_gen_list(g, "claims_supported",
                                             ngx_http_mobispot_issuer_claims)
           != NGX_OK
        || yajl_gen_map_close(g) != yajl_gen_status_ok
        || yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
    {
        yajl_gen_free(g);
        ngx_http_mobispot_conf_refuse(cf, &lcf->where,
                                      "\"mobispot_sso_issuer\": the discovery "
                                      "document of \"%V\" cannot be made "
                                      "(out of memory)", &lcf->url);
        return NGX_ERROR;
    }

    lcf->discovery.data = ngx_pnalloc(cf->pool, len);
    if (lcf->discovery.data == NULL) {
        yajl_gen_free(g);
        return NGX_ERROR;
    }

    ngx_memcpy(lcf->discovery.data, buf, len);
    lcf->discovery.len = len;

    yajl_gen_free(g);

    return NGX_OK;
}


/* "name": "<base><endpoint>" */

static ngx_int_t
ngx_http_mobispot_issuer_gen_url(yajl_gen g, const char *name,
    ngx_str_t *base, const char *endpoint)
{
    u_char  *p;
    size_t   len;
    u_char   buf[NGX_HTTP_MOBISPOT_ISSUER_URL_MAX + 32];

    len = ngx_strlen(endpoint);

    if (base->len + len > sizeof(buf)) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(buf, base->data, base->len);
    p = ngx_cpymem(p, endpoint, len);

    if (mobispot_json_string(g, name) != MOBISPOT_OK
        || yajl_gen_string(g, buf, p - buf) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "name": [values...] */

static ngx_int_t
ngx_http_mobispot_issuer_gen_list(yajl_gen g, const char *name,
    const char **values)
{
    if (mobispot_json_string(g, name) != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    for ( /* void */ ; *values; values++) {
        if (mobispot_json_string(g, *values) != MOBISPOT_OK) {
            return NGX_ERROR;
        }
    }

    return yajl_gen_array_close(g) == yajl_gen_status_ok ? NGX_OK : NGX_ERROR;
}
