
/*
 * Copyright (C) Mobispot
 *
 * The location's configuration: its directives (token sources, keys, JWKS,
 * lists of strings), and the merge, where nginx -t refuses what would
 * accept tokens meant for someone else.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sso/ngx_http_mobispot_sso.h"


static char *ngx_http_mobispot_sso_key_check(ngx_conf_t *cf,
    ngx_http_mobispot_sso_key_t *key);


void *
ngx_http_mobispot_sso_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mobispot_sso_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mobispot_sso_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->issuer = { 0, NULL };
     *     conf->login_url = { 0, NULL };
     *     conf->public_url = { 0, NULL };
     *     conf->authorize_url = { 0, NULL };
     *     conf->client_id = { 0, NULL };
     *     conf->redirect_uri = { 0, NULL };
     *     conf->cookie = { 0, NULL };
     *     conf->no_origin_logged = 0;
     *     conf->site = { 0, NULL };
     *     conf->claims = { 0 };
     *     conf->typ = 0;
     */

    conf->mode = NGX_CONF_UNSET_UINT;
    conf->sources = NGX_CONF_UNSET_PTR;
    conf->keys = NGX_CONF_UNSET_PTR;
    conf->audiences = NGX_CONF_UNSET_PTR;
    conf->require = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->max_size = NGX_CONF_UNSET_SIZE;
    conf->pass_token = NGX_CONF_UNSET;
    conf->callback = NGX_CONF_UNSET;
    conf->site_ttl = NGX_CONF_UNSET;
    conf->site_max_stale = NGX_CONF_UNSET;

    return conf;
}


/* mobispot_sso on | off | optional, and the line a merge's refusal names */

char *
ngx_http_mobispot_sso_mode_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_sso_loc_conf_t *lcf = conf;

    ngx_http_mobispot_conf_where(cf, &lcf->mode_where);

    return ngx_http_mobispot_conf_enum_slot(cf, cmd, conf);
}


/*
 * mobispot_jwt_typ: the kinds of token a location takes, by the header's
 * "typ" (RFC 9068 4): access tokens only unless told otherwise, so that
 * an ID token ("JWT") never passes for one (docs/security.md)
 */

ngx_conf_bitmask_t  ngx_http_mobispot_sso_typ_masks[] = {
    { ngx_string("at+jwt"), MOBISPOT_JWT_TYP_AT },
    { ngx_string("JWT"), MOBISPOT_JWT_TYP_JWT },
    { ngx_string("absent"), MOBISPOT_JWT_TYP_ABSENT },
    { ngx_null_string, 0 }
};


const char *
ngx_http_mobispot_sso_typ_refused(ngx_uint_t typ)
{
    switch (typ) {

    case MOBISPOT_JWT_TYP_JWT:
        return "typ JWT (an ID token) not taken here (mobispot_jwt_typ)";

    case MOBISPOT_JWT_TYP_ABSENT:
        return "no typ, not taken here (mobispot_jwt_typ)";

    default:
        return "typ at+jwt not taken here (mobispot_jwt_typ)";
    }
}


char *
ngx_http_mobispot_sso_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_mobispot_sso_loc_conf_t *prev = parent;
    ngx_http_mobispot_sso_loc_conf_t *conf = child;

    ngx_str_t                          *id;
    ngx_uint_t                          i, verifies;
    ngx_http_mobispot_conf_where_t     *where;
    ngx_http_mobispot_sso_source_t     *src;
    ngx_http_mobispot_main_conf_t      *mmcf;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    if (conf->mode == NGX_CONF_UNSET_UINT) {
        conf->mode_where = prev->mode_where;
    }

    ngx_conf_merge_uint_value(conf->mode, prev->mode,
                              NGX_HTTP_MOBISPOT_SSO_OFF);
    ngx_conf_merge_ptr_value(conf->sources, prev->sources, NULL);
    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_ptr_value(conf->require, prev->require, NULL);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_bitmask_value(conf->typ, prev->typ,
                                 (NGX_CONF_BITMASK_SET|MOBISPOT_JWT_TYP_AT));
    ngx_conf_merge_size_value(conf->max_size, prev->max_size,
                              NGX_HTTP_MOBISPOT_SSO_MAX_SIZE);
    ngx_conf_merge_str_value(conf->login_url, prev->login_url, "");
    ngx_conf_merge_str_value(conf->public_url, prev->public_url, "");
    ngx_conf_merge_value(conf->pass_token, prev->pass_token, 0);
    ngx_conf_merge_str_value(conf->authorize_url, prev->authorize_url, "");
    ngx_conf_merge_str_value(conf->client_id, prev->client_id, "");
    ngx_conf_merge_str_value(conf->redirect_uri, prev->redirect_uri, "");

    /* a location's own, never inherited */

    if (conf->callback == NGX_CONF_UNSET) {
        conf->callback = 0;
    }
    ngx_conf_merge_str_value(conf->site, prev->site, "");
    ngx_conf_merge_sec_value(conf->site_ttl, prev->site_ttl, 10);
    ngx_conf_merge_sec_value(conf->site_max_stale, prev->site_max_stale, 60);

    if (conf->sources == NULL) {
        conf->sources = ngx_array_create(cf->pool, 1,
                                     sizeof(ngx_http_mobispot_sso_source_t));
        if (conf->sources == NULL) {
            return NGX_CONF_ERROR;
        }

        src = ngx_array_push(conf->sources);
        if (src == NULL) {
            return NGX_CONF_ERROR;
        }

        src->type = NGX_HTTP_MOBISPOT_SSO_HEADER;
        ngx_str_null(&src->name);
    }

    mcf = ngx_http_conf_get_module_main_conf(cf,
                                             ngx_http_mobispot_sso_module);

    /* a callback checks the token it redeems as the location would */

    verifies = (conf->mode != NGX_HTTP_MOBISPOT_SSO_OFF || conf->callback);
    where = conf->callback ? &conf->callback_where : &conf->mode_where;

    if (ngx_http_mobispot_sso_flow_check(cf, conf, verifies) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (verifies
        && (conf->keys == NULL || conf->keys->nelts == 0)
        && !mcf->keys_redis)
    {
        ngx_http_mobispot_conf_refuse(cf, where,
                                      "\"%s\" needs at least one "
                                      "\"mobispot_jwt_key\" (or "
                                      "\"mobispot_jwt_jwks\", or "
                                      "\"mobispot_jwt_keys_redis on\"): "
                                      "no key to check a token with",
                                      ngx_http_mobispot_sso_name(conf));
        return NGX_CONF_ERROR;
    }

    /*
     * Every site trusts the same issuer's keys: without an audience of its
     * own, a gateway would take a token minted for any other site
     * (RFC 8725, section 3.9), and without the issuer one from anyone who
     * holds one of the keys.
     */

    if (verifies
        && (conf->issuer.len == 0 || conf->audiences == NULL
            || conf->audiences->nelts == 0))
    {
        ngx_http_mobispot_conf_refuse(cf, where,
                                      "\"%s\" needs \"mobispot_jwt_issuer\" "
                                      "and \"mobispot_jwt_audience\" (%s "
                                      "not set): without them a token "
                                      "minted for another site would be "
                                      "accepted",
                                      ngx_http_mobispot_sso_name(conf),
                                      conf->issuer.len == 0
                                      ? "\"mobispot_jwt_issuer\" is"
                                      : "\"mobispot_jwt_audience\" is");
        return NGX_CONF_ERROR;
    }

    if (conf->site.len && verifies) {

        /* entitlement: the site's networks come from Redis */

        mmcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_mobispot_module);

        if (!mmcf->redis.configured) {
            ngx_http_mobispot_conf_refuse(cf, where,
                                          "\"mobispot_site\" with \"%s\" "
                                          "needs \"mobispot_redis\" in the "
                                          "http block (the networks of site "
                                          "\"%V\" are read from Redis)",
                                          ngx_http_mobispot_sso_name(conf),
                                          &conf->site);
            return NGX_CONF_ERROR;
        }

        id = mcf->site_ids.elts;

        for (i = 0; i < mcf->site_ids.nelts; i++) {
            if (id[i].len == conf->site.len
                && ngx_strncmp(id[i].data, conf->site.data, id[i].len) == 0)
            {
                break;
            }
        }

        if (i == mcf->site_ids.nelts) {
            id = ngx_array_push(&mcf->site_ids);
            if (id == NULL) {
                return NGX_CONF_ERROR;
            }

            *id = conf->site;
        }

        conf->site_index = i;
    }

    /* the issuer string is NUL-terminated by ngx_conf_set_str_slot */

    conf->claims.issuer = conf->issuer.len ? (const char *) conf->issuer.data
                                           : NULL;
    conf->claims.leeway = conf->leeway;

    /* one bound for every location: the revocation zone remembers by it */

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_sso_module);
    conf->claims.max_lifetime = mcf->max_lifetime;

    if (conf->leeway > mcf->max_leeway) {
        mcf->max_leeway = conf->leeway;
    }

    if (conf->audiences) {
        conf->claims.audiences = conf->audiences->elts;
        conf->claims.naudiences = conf->audiences->nelts;
    }

    if (conf->require) {
        conf->claims.require = conf->require->elts;
        conf->claims.nrequire = conf->require->nelts;
    }

    return NGX_CONF_OK;
}


/* mobispot_sso_token header | cookie=NAME | arg=NAME ... */

char *
ngx_http_mobispot_sso_token_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_sso_loc_conf_t *lcf = conf;

    ngx_str_t                       *value;
    ngx_uint_t                       i;
    ngx_http_mobispot_sso_source_t  *src;

    if (lcf->sources != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    lcf->sources = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                    sizeof(ngx_http_mobispot_sso_source_t));
    if (lcf->sources == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        src = ngx_array_push(lcf->sources);
        if (src == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_str_null(&src->name);

        if (ngx_strcmp(value[i].data, "header") == 0) {
            src->type = NGX_HTTP_MOBISPOT_SSO_HEADER;
            continue;
        }

        if (ngx_strncmp(value[i].data, "cookie=", 7) == 0
            && value[i].len > 7)
        {
            src->type = NGX_HTTP_MOBISPOT_SSO_COOKIE;
            src->name.data = value[i].data + 7;
            src->name.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "arg=", 4) == 0 && value[i].len > 4) {
            src->type = NGX_HTTP_MOBISPOT_SSO_ARG;
            src->name.data = value[i].data + 4;
            src->name.len = value[i].len - 4;
            continue;
        }

        ngx_http_mobispot_emerg(cf, 0,
                                "invalid token source \"%V\": expected header, "
                                "cookie=NAME or arg=NAME", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* mobispot_jwt_key FILE alg=ALG [kid=KID] */

char *
ngx_http_mobispot_sso_key_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_sso_loc_conf_t *lcf = conf;

    char                               *rv;
    ngx_str_t                          *value, content, alg;
    ngx_uint_t                          i;
    ngx_http_mobispot_sso_key_t        *key, *other;
    const ngx_http_mobispot_sso_alg_t  *a;

    if (lcf->keys == NGX_CONF_UNSET_PTR) {
        lcf->keys = ngx_array_create(cf->pool, 2,
                                     sizeof(ngx_http_mobispot_sso_key_t));
        if (lcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    key = ngx_array_push(lcf->keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_http_mobispot_sso_key_t));

    value = cf->args->elts;
    ngx_str_null(&alg);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "alg=", 4) == 0) {
            alg.data = value[i].data + 4;
            alg.len = value[i].len - 4;
            continue;
        }

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0
            && value[i].len > 4
            && value[i].len - 4 <= MOBISPOT_JWT_KID_MAX)
        {
            key->kid.data = value[i].data + 4;
            key->kid.len = value[i].len - 4;
            continue;
        }

        ngx_http_mobispot_emerg(cf, 0,
                                "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    a = ngx_http_mobispot_sso_alg_by_name(alg.data, alg.len);

    if (a == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_jwt_key\" needs alg=HS256, HS384, "
                           "HS512, RS256, RS384, RS512, ES256, ES384 or "
                           "ES512 (exactly)");
        return NGX_CONF_ERROR;
    }

    key->alg = a->alg;
    key->alg_name = a->name;
    key->file = value[1];

    other = lcf->keys->elts;

    for (i = 0; i + 1 < lcf->keys->nelts; i++) {
        if (other[i].kid.len == key->kid.len
            && ngx_strncmp(other[i].kid.data, key->kid.data, key->kid.len)
               == 0
            && (key->kid.len || other[i].alg == key->alg))
        {
            ngx_http_mobispot_emerg(cf, 0,
                                    "duplicate \"mobispot_jwt_key\" for the "
                                    "same "
                                    "kid (or the same alg without kid)");
            return NGX_CONF_ERROR;
        }
    }

    rv = ngx_http_mobispot_conf_read_file(cf, cf->pool, &value[1],
                                          NGX_HTTP_MOBISPOT_SSO_KEY_MAX,
                                          "key file", &content);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    key->key = content.data;
    key->key_len = content.len;

    return ngx_http_mobispot_sso_key_check(cf, key);
}


/* mobispot_jwt_jwks FILE [alg=ALG] */

char *
ngx_http_mobispot_sso_jwks_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_sso_loc_conf_t *lcf = conf;

    char                         *rv;
    ngx_str_t                    *value, content;
    ngx_uint_t                    i, j;
    const char                   *alg, *err;
    ngx_array_t                  *keys;
    ngx_http_mobispot_sso_key_t  *key, *k, *other;

    value = cf->args->elts;
    alg = NULL;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "alg=", 4) != 0) {
            ngx_http_mobispot_emerg(cf, 0,
                                    "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        /* checked against the JWKS algorithms by the parser */
        alg = (const char *) value[2].data + 4;
    }

    rv = ngx_http_mobispot_conf_read_file(cf, cf->pool, &value[1],
                                          NGX_HTTP_MOBISPOT_SSO_KEY_MAX,
                                          "key file", &content);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    err = NULL;
    keys = ngx_http_mobispot_sso_jwks(cf->pool, cf->log, content.data,
                                      content.len, alg, &value[1], &err);
    if (keys == NULL) {
        ngx_http_mobispot_emerg(cf, 0,
                                "invalid JWKS in \"%V\": %s", &value[1], err);
        return NGX_CONF_ERROR;
    }

    if (keys->nelts == 0) {
        ngx_http_mobispot_emerg(cf, 0,
                                "no usable key in the JWKS \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (lcf->keys == NGX_CONF_UNSET_PTR) {
        lcf->keys = ngx_array_create(cf->pool, keys->nelts,
                                     sizeof(ngx_http_mobispot_sso_key_t));
        if (lcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    k = keys->elts;

    for (i = 0; i < keys->nelts; i++) {
        other = lcf->keys->elts;

        for (j = 0; j < lcf->keys->nelts; j++) {
            if (other[j].kid.len == k[i].kid.len
                && ngx_strncmp(other[j].kid.data, k[i].kid.data,
                               k[i].kid.len) == 0
                && (k[i].kid.len || other[j].alg == k[i].alg))
            {
                ngx_http_mobispot_emerg(cf, 0,
                                        "duplicate \"mobispot_jwt_key\" for "
                                        "the "
                                        "same kid (or the same alg without "
                                        "kid) "
                                        "in the JWKS \"%V\"", &value[1]);
                return NGX_CONF_ERROR;
            }
        }

        key = ngx_array_push(lcf->keys);
        if (key == NULL) {
            return NGX_CONF_ERROR;
        }

        *key = k[i];
    }

    return NGX_CONF_OK;
}


/*
 * An HMAC secret is never a PEM (a public key used as an HMAC secret is
 * the classic algorithm confusion) and is at least as long as the hash;
 * an RS or ES key is a PEM public key of the right type (and curve), as
 * OpenSSL reads it.  All this at configuration time.
 */

static char *
ngx_http_mobispot_sso_key_check(ngx_conf_t *cf,
    ngx_http_mobispot_sso_key_t *key)
{
    int                                 type, bits;
    BIO                                *bio;
    EVP_PKEY                           *pkey;
    u_char                             *p, *last;
    const ngx_http_mobispot_sso_alg_t  *a;

    a = ngx_http_mobispot_sso_alg(key->alg);

    last = key->key + key->key_len;

    if (a->min_secret) {

        /* a trailing end of line in the secret file is not the secret's */

        while (last > key->key && (last[-1] == LF || last[-1] == CR)) {
            last--;
        }

        key->key_len = last - key->key;
        *last = '\0';

        p = ngx_strlcasestrn(key->key, last, (u_char *) "-----BEGIN",
                             sizeof("-----BEGIN") - 1 - 1);
        if (p != NULL) {
            ngx_http_mobispot_emerg(cf, 0,
                                    "\"%V\" holds a PEM key: it cannot be an "
                                    "%s secret", &key->file, key->alg_name);
            return NGX_CONF_ERROR;
        }

        if (key->key_len < a->min_secret) {
            ngx_http_mobispot_emerg(cf, 0,
                                    "the %s secret in \"%V\" is shorter than "
                                    "%uz bytes", key->alg_name, &key->file,
                                    a->min_secret);
            return NGX_CONF_ERROR;
        }

        /* an HMAC context keyed once, freed with the cycle */

        if (ngx_http_mobispot_sso_key_keep(cf->pool, key, NULL, key->alg)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strlcasestrn(key->key, last, (u_char *) "PRIVATE KEY",
                         sizeof("PRIVATE KEY") - 1 - 1)
        != NULL)
    {
        ngx_http_mobispot_emerg(cf, 0,
                                "\"%V\" holds a private key: a gateway needs "
                                "the public key only", &key->file);
        return NGX_CONF_ERROR;
    }

    bio = BIO_new_mem_buf(key->key, (int) key->key_len);
    if (bio == NULL) {
        return NGX_CONF_ERROR;
    }

    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (pkey == NULL) {
        ngx_http_mobispot_emerg(cf, 0,
                                "\"%V\" is not a PEM public key "
                                "(\"-----BEGIN PUBLIC KEY-----\")", &key->file);
        return NGX_CONF_ERROR;
    }

    type = EVP_PKEY_base_id(pkey);
    bits = EVP_PKEY_bits(pkey);

    if (type != a->pkey) {
        ngx_http_mobispot_emerg(cf, 0,
                                "\"%V\" is not an %s key, as alg=%s wants",
                                &key->file,
                                (a->pkey == EVP_PKEY_RSA) ? "RSA" : "EC",
                                key->alg_name);
        goto failed;
    }

    if (type == EVP_PKEY_RSA && bits < a->bits) {
        ngx_http_mobispot_emerg(cf, 0,
                                "the RSA key in \"%V\" has %d bits, fewer than "
                                "%d", &key->file, bits, a->bits);
        goto failed;
    }

    if (type == EVP_PKEY_EC && bits != a->bits) {
        ngx_http_mobispot_emerg(cf, 0,
                                "the EC key in \"%V\" is on a %d-bit curve, "
                                "alg=%s wants %d", &key->file, bits,
                                key->alg_name, a->bits);
        goto failed;
    }

    /* kept, parsed and ready, for every verification: freed with the cycle */

    if (ngx_http_mobispot_sso_key_keep(cf->pool, key, pkey, key->alg)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

failed:

    EVP_PKEY_free(pkey);
    return NGX_CONF_ERROR;
}


/* directives that take one or more strings, kept NUL-terminated */

char *
ngx_http_mobispot_sso_strings_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    char         **s;
    ngx_str_t     *value;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(char *));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            return "has an empty value";
        }

        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        /* configuration arguments are NUL-terminated */
        *s = (char *) value[i].data;
    }

    return NGX_CONF_OK;
}
