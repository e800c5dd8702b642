
/*
 * Copyright (C) Mobispot
 *
 * The issuer's signing keys: mobispot_sso_signing_key FILE kid=KID, read
 * when the configuration is read (never by a worker), each a PEM private
 * key that OpenSSL parses once: EC on P-256 (ES256) or RSA of at least
 * 2048 bits (RS256).  The last key listed signs the access tokens, the
 * last RSA key listed the ID tokens; all of them are in the JWKS, so that
 * the tokens of an older key verify until they expire.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/pem.h>

#include "issuer/ngx_http_mobispot_issuer.h"


static char *ngx_http_mobispot_issuer_key_file(ngx_conf_t *cf,
    ngx_str_t *name, ngx_str_t *text);
static void ngx_http_mobispot_issuer_key_free(void *data);


/* mobispot_sso_signing_key FILE kid=KID */

char *
ngx_http_mobispot_issuer_key_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_issuer_srv_conf_t *iscf = conf;

    BIO                             *bio;
    u_char                          *p;
    ngx_str_t                       *value, kid, text;
    ngx_uint_t                       i;
    const char                      *reason;
    ngx_pool_cleanup_t              *cln;
    ngx_http_mobispot_issuer_key_t  *key, *k;

    value = cf->args->elts;

    if (value[2].len <= 4 || ngx_strncmp(value[2].data, "kid=", 4) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the second parameter must be kid=KID",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    kid.data = value[2].data + 4;
    kid.len = value[2].len - 4;

    /* the kid is an opaque string; printable ASCII keeps it out of trouble */

    if (kid.len > MOBISPOT_JWT_KID_MAX) {
        goto bad_kid;
    }

    for (p = kid.data; p < kid.data + kid.len; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
            goto bad_kid;
        }
    }

    if (iscf->keys == NGX_CONF_UNSET_PTR) {
        iscf->keys = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_http_mobispot_issuer_key_t));
        if (iscf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    k = iscf->keys->elts;

    for (i = 0; i < iscf->keys->nelts; i++) {
        if (k[i].kid.len == kid.len
            && ngx_strncmp(k[i].kid.data, kid.data, kid.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": kid \"%V\" is given twice (a token's "
                               "kid must name one key)", &cmd->name, &kid);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_mobispot_issuer_key_file(cf, &value[1], &text)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    key = ngx_array_push(iscf->keys);
    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (key == NULL || cln == NULL) {
        ngx_explicit_memzero(text.data, text.len);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_http_mobispot_issuer_key_t));
    key->file = value[1];
    key->kid = kid;

    /* value[2] is NUL-terminated by the configuration parser */

    bio = BIO_new_mem_buf(text.data, (int) text.len);
    key->pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);

    ngx_explicit_memzero(text.data, text.len);

    if (key->pkey == NULL) {
        iscf->keys->nelts--;
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is not a PEM private key (an "
                           "issuer signs: a public key cannot)",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_mobispot_issuer_key_free;
    cln->data = key->pkey;

    key->alg = mobispot_jws_alg(key->pkey, &reason);

    if (key->alg == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is %s: an issuer's key is EC on "
                           "P-256 (ES256) or RSA of at least 2048 bits "
                           "(RS256)", &cmd->name, &value[1], reason);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

bad_kid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\": kid \"%V\" must be 1 to %d printable ASCII "
                       "characters without blank, quote or backslash",
                       &cmd->name, &kid, MOBISPOT_JWT_KID_MAX);

    return NGX_CONF_ERROR;
}


/*
 * The key file's text.  A private key that any local user may read or
 * write is no longer the issuer's alone: refused (group access is the
 * administrator's choice, as Debian's ssl-cert group does for TLS keys).
 */

static char *
ngx_http_mobispot_issuer_key_file(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *text)
{
    ngx_str_t        full;
    ngx_uint_t       mode;
    ngx_file_info_t  fi;

    full = *name;

    if (full.len == 0 || ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        ngx_http_mobispot_emerg(cf, 0, "invalid key file \"%V\"", name);
        return NGX_CONF_ERROR;
    }

    if (ngx_file_info(full.data, &fi) == NGX_FILE_ERROR) {
        ngx_http_mobispot_emerg(cf, ngx_errno,
                                ngx_file_info_n " \"%V\" failed", &full);
        return NGX_CONF_ERROR;
    }

    mode = (ngx_uint_t) ngx_file_access(&fi);

    if (mode & 0007) {
        ngx_http_mobispot_emerg(cf, 0,
                                "the signing key \"%V\" may be read or "
                                "written by any user (mode 0%ui%ui%ui): "
                                "chmod o-rwx it", &full, (mode >> 6) & 7,
                                (mode >> 3) & 7, mode & 7);
        return NGX_CONF_ERROR;
    }

    return ngx_http_mobispot_conf_read_file(cf, cf->temp_pool, name,
                                            NGX_HTTP_MOBISPOT_ISSUER_KEY_MAX,
                                            "signing key", text);
}


static void
ngx_http_mobispot_issuer_key_free(void *data)
{
    EVP_PKEY_free(data);
}


/* {"keys":[...]}: every key's public JWK, in the configured order */

ngx_int_t
ngx_http_mobispot_issuer_jwks(ngx_conf_t *cf, ngx_array_t *keys,
    ngx_str_t *out)
{
    size_t                           len;
    yajl_gen                         g;
    ngx_uint_t                       i;
    const char                      *reason;
    const unsigned char             *buf;
    ngx_http_mobispot_issuer_key_t  *key;

    g = mobispot_json_gen_alloc();
    if (g == NULL) {
        return NGX_ERROR;
    }

    key = keys->elts;
    reason = "out of memory";

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "keys") != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        goto failed;
    }

    for (i = 0; i < keys->nelts; i++) {
        if (mobispot_jwk_gen(g, key[i].pkey, (char *) key[i].kid.data,
                             &reason)
            != MOBISPOT_OK)
        {
            goto failed;
        }
    }

    if (yajl_gen_array_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok
        || yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
    {
        goto failed;
    }

    out->data = ngx_pnalloc(cf->pool, len + 1);
    if (out->data == NULL) {
        goto failed;
    }

    ngx_memcpy(out->data, buf, len);
    out->data[len] = '\0';
    out->len = len;

    yajl_gen_free(g);

    return NGX_OK;

failed:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"mobispot_sso_issuer\": the JWKS of its "
                       "\"mobispot_sso_signing_key\" keys cannot be made: %s",
                       reason);
    yajl_gen_free(g);

    return NGX_ERROR;
}


/* the key that signs: the last one listed */

ngx_http_mobispot_issuer_key_t *
ngx_http_mobispot_issuer_signing_key(ngx_http_mobispot_issuer_loc_conf_t *lcf)
{
    ngx_http_mobispot_issuer_key_t  *key;

    if (lcf->keys == NULL || lcf->keys->nelts == 0) {
        return NULL;
    }

    key = lcf->keys->elts;

    return &key[lcf->keys->nelts - 1];
}


/*
 * The key that signs ID tokens: the last RSA key listed, else the signing
 * key.  RS256 is the ID token's algorithm of a client that registered no
 * other (OpenID Connect Core 15.1, Registration 2), and Discovery 1.0 3
 * wants it in id_token_signing_alg_values_supported: strict clients
 * (python3-authlib's OpenIDProviderMetadata) refuse a document without it.
 */

ngx_http_mobispot_issuer_key_t *
ngx_http_mobispot_issuer_id_token_key(ngx_http_mobispot_issuer_loc_conf_t *lcf)
{
    ngx_uint_t                       i;
    ngx_http_mobispot_issuer_key_t  *key;

    if (lcf->keys == NULL || lcf->keys->nelts == 0) {
        return NULL;
    }

    key = lcf->keys->elts;

    for (i = lcf->keys->nelts; i > 0; i--) {
        if (ngx_strcmp(key[i - 1].alg, "RS256") == 0) {
            return &key[i - 1];
        }
    }

    return &key[lcf->keys->nelts - 1];
}
