
/*
 * Copyright (C) Mobispot
 *
 * The one table of the signature algorithms a gateway accepts, for keys
 * from files, JWKS documents and Redis alike; the check that a public key
 * fits its algorithm; and the signature check itself, with OpenSSL's EVP
 * API on a key parsed once, when it is loaded (libjwt would read the PEM
 * text again for every token).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "core/mobispot_jwt_sign.h"
#include "sso/ngx_http_mobispot_sso.h"


static void ngx_http_mobispot_sso_key_free(void *data);
static ngx_int_t ngx_http_mobispot_sso_key_mac(
    ngx_http_mobispot_sso_key_t *held, u_char *secret, size_t len);
static ngx_uint_t ngx_http_mobispot_sso_hmac_verify(
    ngx_http_mobispot_sso_key_t *key, const u_char *input, size_t len,
    const u_char *sig, size_t sig_len);


static const ngx_http_mobispot_sso_alg_t  ngx_http_mobispot_sso_algs[] = {
    { "HS256", JWT_ALG_HS256, 32, 0, 0, EVP_sha256 },
    { "HS384", JWT_ALG_HS384, 48, 0, 0, EVP_sha384 },
    { "HS512", JWT_ALG_HS512, 64, 0, 0, EVP_sha512 },
    { "RS256", JWT_ALG_RS256, 0, EVP_PKEY_RSA, 2048, EVP_sha256 },
    { "RS384", JWT_ALG_RS384, 0, EVP_PKEY_RSA, 2048, EVP_sha384 },
    { "RS512", JWT_ALG_RS512, 0, EVP_PKEY_RSA, 2048, EVP_sha512 },
    { "ES256", JWT_ALG_ES256, 0, EVP_PKEY_EC, 256, EVP_sha256 },
    { "ES384", JWT_ALG_ES384, 0, EVP_PKEY_EC, 384, EVP_sha384 },
    { "ES512", JWT_ALG_ES512, 0, EVP_PKEY_EC, 521, EVP_sha512 },
    { NULL, JWT_ALG_NONE, 0, 0, 0, NULL }
};


/* by its exact name (NULL: not one the gateway accepts) */

const ngx_http_mobispot_sso_alg_t *
ngx_http_mobispot_sso_alg_by_name(const u_char *name, size_t len)
{
    const ngx_http_mobispot_sso_alg_t  *a;

    for (a = ngx_http_mobispot_sso_algs; a->name; a++) {
        if (len == ngx_strlen(a->name)
            && ngx_strncmp(name, a->name, len) == 0)
        {
            return a;
        }
    }

    return NULL;
}


const ngx_http_mobispot_sso_alg_t *
ngx_http_mobispot_sso_alg(jwt_alg_t alg)
{
    const ngx_http_mobispot_sso_alg_t  *a;

    for (a = ngx_http_mobispot_sso_algs; a->name; a++) {
        if (a->alg == alg) {
            return a;
        }
    }

    return NULL;
}


/* a public key fits an algorithm: type, RSA size, EC curve */

const char *
ngx_http_mobispot_sso_pkey_check(EVP_PKEY *pkey, jwt_alg_t alg)
{
    int                                 type, bits;
    const ngx_http_mobispot_sso_alg_t  *a;

    a = ngx_http_mobispot_sso_alg(alg);

    if (a == NULL || a->pkey == 0) {
        return "not a public-key algorithm";
    }

    type = EVP_PKEY_base_id(pkey);
    bits = EVP_PKEY_bits(pkey);

    if (type != a->pkey) {
        return (type == EVP_PKEY_RSA) ? "an RSA key for an EC algorithm"
                                      : "not an RSA key for an RSA algorithm";
    }

    if (type == EVP_PKEY_RSA && bits < a->bits) {
        return "an RSA key of fewer than 2048 bits";
    }

    if (type == EVP_PKEY_EC && bits != a->bits) {
        return "an EC key on another curve than the algorithm's";
    }

    return NULL;
}


/*
 * The key keeps what each check needs, made once, until pool goes (the
 * configuration's pool for key files and JWKS files, the key set's pool
 * for Redis keys): for RS* and ES*, pkey, a verification context made for
 * it and a digest context; for HS* (pkey NULL), an HMAC context keyed with
 * the secret.  A worker has one thread, so a key's contexts serve one
 * check at a time.  pkey is the key's from here on (freed on failure too).
 */

ngx_int_t
ngx_http_mobispot_sso_key_keep(ngx_pool_t *pool,
    ngx_http_mobispot_sso_key_t *key, EVP_PKEY *pkey, jwt_alg_t alg)
{
    ngx_pool_cleanup_t                 *cln;
    ngx_http_mobispot_sso_key_t        *held;
    const ngx_http_mobispot_sso_alg_t  *a;

    a = ngx_http_mobispot_sso_alg(alg);

    /* the cleanup holds its own copy: keys live in arrays that move */

    cln = ngx_pool_cleanup_add(pool, sizeof(ngx_http_mobispot_sso_key_t));
    if (cln == NULL) {
        EVP_PKEY_free(pkey);
        return NGX_ERROR;
    }

    held = cln->data;
    ngx_memzero(held, sizeof(ngx_http_mobispot_sso_key_t));
    held->pkey = pkey;
    cln->handler = ngx_http_mobispot_sso_key_free;

    if (a == NULL || (a->pkey == 0) != (pkey == NULL)) {
        return NGX_ERROR;
    }

    /* fetched now: OpenSSL 3 would look the digest up at every use */

    held->md = EVP_MD_fetch(NULL, EVP_MD_get0_name(a->md()), NULL);
    if (held->md == NULL) {
        return NGX_ERROR;
    }

    if (a->pkey == 0) {
        if (ngx_http_mobispot_sso_key_mac(held, key->key, key->key_len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        held->vctx = EVP_PKEY_CTX_new(pkey, NULL);
        held->dctx = EVP_MD_CTX_new();

        if (held->vctx == NULL || held->dctx == NULL
            || EVP_PKEY_verify_init(held->vctx) != 1
            || (a->pkey == EVP_PKEY_RSA
                && EVP_PKEY_CTX_set_rsa_padding(held->vctx,
                                                RSA_PKCS1_PADDING)
                   != 1)
            || EVP_PKEY_CTX_set_signature_md(held->vctx, held->md) != 1)
        {
            return NGX_ERROR;
        }
    }

    key->pkey = held->pkey;
    key->vctx = held->vctx;
    key->dctx = held->dctx;
    key->md = held->md;
    key->mac = held->mac;

    return NGX_OK;
}


/* an HMAC context keyed once with the secret, for the key's digest */

static ngx_int_t
ngx_http_mobispot_sso_key_mac(ngx_http_mobispot_sso_key_t *held,
    u_char *secret, size_t len)
{
    EVP_MAC     *mac;
    OSSL_PARAM   params[2];

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        return NGX_ERROR;
    }

    held->mac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (held->mac == NULL) {
        return NGX_ERROR;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(
                    OSSL_MAC_PARAM_DIGEST,
                    (char *) EVP_MD_get0_name(held->md), 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(held->mac, secret, len, params) != 1) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_mobispot_sso_key_free(void *data)
{
    ngx_http_mobispot_sso_key_t *held = data;

    EVP_MAC_CTX_free(held->mac);
    EVP_MD_CTX_free(held->dctx);
    EVP_PKEY_CTX_free(held->vctx);
    EVP_PKEY_free(held->pkey);
    EVP_MD_free(held->md);
}


/*
 * Whether sig (decoded from base64url) signs input ("header.payload")
 * with key, by the key's own algorithm: HMAC for HS*, PKCS #1 v1.5 for
 * RS*, ECDSA for ES*, whose JOSE signature is r || s (RFC 7518 3.4) and
 * becomes DER for OpenSSL.  The digest is made here, in the key's digest
 * context; the key's verification context, set up once, checks it.
 */

ngx_uint_t
ngx_http_mobispot_sso_key_verify(ngx_http_mobispot_sso_key_t *key,
    const u_char *input, size_t len, const u_char *sig, size_t sig_len)
{
    size_t                              der_len, half;
    unsigned int                        dgst_len;
    const u_char                       *s;
    const ngx_http_mobispot_sso_alg_t  *a;
    u_char                              der[MOBISPOT_ECDSA_DER_MAX];
    u_char                              dgst[EVP_MAX_MD_SIZE];

    a = ngx_http_mobispot_sso_alg(key->alg);
    if (a == NULL) {
        return 0;
    }

    if (a->pkey == 0) {
        return ngx_http_mobispot_sso_hmac_verify(key, input, len, sig,
                                                 sig_len);
    }

    if (key->vctx == NULL || key->dctx == NULL) {
        return 0;
    }

    s = sig;

    if (a->pkey == EVP_PKEY_EC) {
        half = ((size_t) a->bits + 7) / 8;

        if (sig_len != 2 * half
            || mobispot_ecdsa_der(sig, half, der, sizeof(der), &der_len)
               != MOBISPOT_OK)
        {
            return 0;
        }

        s = der;
        sig_len = der_len;
    }

    if (EVP_DigestInit_ex2(key->dctx, key->md, NULL) != 1
        || EVP_DigestUpdate(key->dctx, input, len) != 1
        || EVP_DigestFinal_ex(key->dctx, dgst, &dgst_len) != 1)
    {
        return 0;
    }

    return EVP_PKEY_verify(key->vctx, s, sig_len, dgst, dgst_len) == 1;
}


/* the key's HMAC context, keyed at load, started again with its key */

static ngx_uint_t
ngx_http_mobispot_sso_hmac_verify(ngx_http_mobispot_sso_key_t *key,
    const u_char *input, size_t len, const u_char *sig, size_t sig_len)
{
    size_t  mac_len;
    u_char  mac[EVP_MAX_MD_SIZE];

    if (key->mac == NULL
        || EVP_MAC_init(key->mac, NULL, 0, NULL) != 1
        || EVP_MAC_update(key->mac, input, len) != 1
        || EVP_MAC_final(key->mac, mac, &mac_len, sizeof(mac)) != 1)
    {
        return 0;
    }

    return sig_len == mac_len && CRYPTO_memcmp(mac, sig, mac_len) == 0;
}
