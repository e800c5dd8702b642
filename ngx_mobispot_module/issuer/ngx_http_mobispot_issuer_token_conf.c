
/*
 * Copyright (C) Mobispot
 *
 * The directives of the tokens the issuer mints:
 * mobispot_sso_token_lifetime and mobispot_sso_api_audience, and their
 * merge (the API's audience defaults to the issuer's URL + "/api").
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "issuer/ngx_http_mobispot_issuer.h"


/*
 * mobispot_sso_token_lifetime TIME: at most 12 h, the time a sign-out is
 * remembered (ms:sso:revoked, and the gateways' mobispot_jwt_max_lifetime
 * default): a token must never outlive its session's revocation
 */

char *
ngx_http_mobispot_issuer_lifetime_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_issuer_loc_conf_t *ilcf = conf;

    ngx_str_t  *value;

    if (ilcf->token_lifetime != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ilcf->token_lifetime = ngx_parse_time(&value[1], 1);

    if (ilcf->token_lifetime == (time_t) NGX_ERROR
        || ilcf->token_lifetime < 1
        || ilcf->token_lifetime > NGX_HTTP_MOBISPOT_ISSUER_LIFETIME_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_sso_token_lifetime\" takes a time of "
                           "1s to 12h (a sign-out is remembered 12 h), not "
                           "\"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * mobispot_sso_api_audience NAME: the "aud" of the access tokens of the
 * clients that are not site gateways.  A site id, or anything shaped like
 * one ([a-z0-9][a-z0-9_-]{0,63}), is refused: a site of that id, created
 * later, would let its gateway take the app's tokens (and the app's API
 * a site's); an audience with a character no site id holds (a URL: ":",
 * "/", ".") can never be one.
 */

char *
ngx_http_mobispot_issuer_audience_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_issuer_loc_conf_t *ilcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (ilcf->api_audience.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > NGX_HTTP_MOBISPOT_ISSUER_URL_MAX) {
        ngx_http_mobispot_emerg(cf, 0, "\"%V\" has %uz characters: it takes "
                                "1 to 512", &value[1], value[1].len);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= 0x20 || value[1].data[i] >= 0x7f
            || value[1].data[i] == '"' || value[1].data[i] == '\\')
        {
            ngx_http_mobispot_emerg(cf, 0, "\"%V\": it takes printable "
                                    "ASCII without blanks, quotes or "
                                    "backslashes", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_mobispot_issuer_site_like(&value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_sso_api_audience\" \"%V\" could be "
                           "a site id, whose gateway would then take the "
                           "app's tokens: use a name with a character no "
                           "site id has, such as a URL", &value[1]);
        return NGX_CONF_ERROR;
    }

    ilcf->api_audience = value[1];

    return NGX_CONF_OK;
}


/* whether a name is shaped as a site id: [a-z0-9][a-z0-9_-]{0,63} */

ngx_uint_t
ngx_http_mobispot_issuer_site_like(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > 64) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || (i > 0 && (c == '_' || c == '-'))))
        {
            return 0;
        }
    }

    return 1;
}


/* the tokens' settings; the API's audience is the issuer's URL + "/api" */

char *
ngx_http_mobispot_issuer_mint_merge(ngx_conf_t *cf,
    ngx_http_mobispot_issuer_loc_conf_t *prev,
    ngx_http_mobispot_issuer_loc_conf_t *conf)
{
    u_char  *p;

    ngx_conf_merge_sec_value(conf->token_lifetime, prev->token_lifetime,
                             NGX_HTTP_MOBISPOT_ISSUER_LIFETIME);

    if (conf->api_audience.data == NULL) {
        conf->api_audience = prev->api_audience;
    }

    if (conf->api_audience.data == NULL && conf->url.len) {
        p = ngx_pnalloc(cf->pool, conf->url.len + sizeof("/api"));
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->api_audience.len = ngx_sprintf(p, "%V/api%Z", &conf->url) - p
                                 - 1;
        conf->api_audience.data = p;
    }

    return NGX_CONF_OK;
}
