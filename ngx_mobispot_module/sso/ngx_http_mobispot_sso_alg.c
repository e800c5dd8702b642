
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
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "sso/ngx_http_mobispot_sso.h"


static void ngx_http_mobispot_sso_key_free(void *data);
static ngx_uint_t ngx_http_mobispot_sso_hmac_verify(
    ngx_http_mobispot_sso_key_t *key, const EVP_MD *md, const u_char *input,
    size_t len, const u_char *sig, size_t sig_len);
static u_char *ngx_http_mobispot_sso_ecdsa_der(const u_char *sig,
    size_t sig_len, int bits, u_char *der, size_t *der_len);


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
 * The key keeps pkey, and a verification context made for it once, until
 * pool goes: the configuration's pool for key files and JWKS files, the
 * key set's pool for Redis keys.  pkey is the key's from here on (freed
 * on failure too).
 */

ngx_int_t
ngx_http_mobispot_sso_key_keep(ngx_pool_t *pool,
    ngx_http_mobispot_sso_key_t *key, EVP_PKEY *pkey, jwt_alg_t alg)
{
    EVP_MD                             *md;
    EVP_PKEY_CTX                       *vctx;
    ngx_pool_cleanup_t                 *cln;
    ngx_http_mobispot_sso_key_t        *held;
    const ngx_http_mobispot_sso_alg_t  *a;

    a = ngx_http_mobispot_sso_alg(alg);

    /* the cleanup holds its own copy: keys live in arrays that move */

    cln = ngx_pool_cleanup_add(pool, sizeof(ngx_http_mobispot_sso_key_t));
    vctx = EVP_PKEY_CTX_new(pkey, NULL);

    /* fetched now: OpenSSL 3 would look the digest up at every use */

    md = (a != NULL) ? EVP_MD_fetch(NULL, EVP_MD_get0_name(a->md()), NULL)
                     : NULL;

    if (a == NULL || a->pkey == 0 || cln == NULL || vctx == NULL
        || md == NULL || EVP_PKEY_verify_init(vctx) != 1
        || (a->pkey == EVP_PKEY_RSA
            && EVP_PKEY_CTX_set_rsa_padding(vctx, RSA_PKCS1_PADDING) != 1)
        || EVP_PKEY_CTX_set_signature_md(vctx, md) != 1)
    {
        EVP_MD_free(md);
        EVP_PKEY_CTX_free(vctx);
        EVP_PKEY_free(pkey);

        if (cln != NULL) {
            cln->handler = NULL;
        }

        return NGX_ERROR;
    }

    key->pkey = pkey;
    key->vctx = vctx;
    key->md = md;

    held = cln->data;
    held->pkey = pkey;
    held->vctx = vctx;
    held->md = md;

    cln->handler = ngx_http_mobispot_sso_key_free;

    return NGX_OK;
}


static void
ngx_http_mobispot_sso_key_free(void *data)
{
    ngx_http_mobispot_sso_key_t *held = data;

    EVP_PKEY_CTX_free(held->vctx);
    EVP_PKEY_free(held->pkey);
    EVP_MD_free(held->md);
}


/*
 * Whether sig (decoded from base64url) signs input ("header.payload")
 * with key, by the key's own algorithm: HMAC for HS*, PKCS #1 v1.5 for
 * RS*, ECDSA for ES*, whose JOSE signature is r || s (RFC 7518 3.4) and
 * becomes DER for OpenSSL.  The digest is made here; the key's context,
 * set up once, checks it.
 */

ngx_uint_t
ngx_http_mobispot_sso_key_verify(ngx_http_mobispot_sso_key_t *key,
    const u_char *input, size_t len, const u_char *sig, size_t sig_len)
{
    size_t                              der_len;
    unsigned int                        dgst_len;
    const u_char                       *s;
    const ngx_http_mobispot_sso_alg_t  *a;
    u_char                              der[160];
    u_char                              dgst[EVP_MAX_MD_SIZE];

    a = ngx_http_mobispot_sso_alg(key->alg);
    if (a == NULL) {
        return 0;
    }

    if (a->pkey == 0) {
        return ngx_http_mobispot_sso_hmac_verify(key, a->md(), input, len,
                                                 sig, sig_len);
    }

    if (key->vctx == NULL || key->md == NULL) {
        return 0;
    }

    s = sig;

    if (a->pkey == EVP_PKEY_EC) {
        s = ngx_http_mobispot_sso_ecdsa_der(sig, sig_len, a->bits, der,
                                            &der_len);
        if (s == NULL) {
            return 0;
        }

        sig_len = der_len;
    }

    if (EVP_Digest(input, len, dgst, &dgst_len, key->md, NULL) != 1) {
        return 0;
    }

    return EVP_PKEY_verify(key->vctx, s, sig_len, dgst, dgst_len) == 1;
}


static ngx_uint_t
ngx_http_mobispot_sso_hmac_verify(ngx_http_mobispot_sso_key_t *key,
    const EVP_MD *md, const u_char *input, size_t len, const u_char *sig,
    size_t sig_len)
{
    unsigned int  mac_len;
    u_char        mac[EVP_MAX_MD_SIZE];

    if (HMAC(md, key->key, (int) key->key_len, input, len, mac, &mac_len)
        == NULL)
    {
        return 0;
    }

    return sig_len == mac_len && CRYPTO_memcmp(mac, sig, mac_len) == 0;
}


/* r || s, each of the curve's size, as a DER ECDSA-Sig-Value */

static u_char *
ngx_http_mobispot_sso_ecdsa_der(const u_char *sig, size_t sig_len, int bits,
    u_char *der, size_t *der_len)
{
    int         n;
    size_t      half;
    u_char     *p;
    BIGNUM     *r, *s;
    ECDSA_SIG  *es;

    half = ((size_t) bits + 7) / 8;

    if (sig_len != 2 * half) {
        return NULL;
    }

    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, (int) half, NULL);
    s = BN_bin2bn(sig + half, (int) half, NULL);

    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return NULL;
    }

    n = i2d_ECDSA_SIG(es, NULL);

    if (n <= 0 || (size_t) n > 160) {
        ECDSA_SIG_free(es);
        return NULL;
    }

    p = der;
    n = i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);

    if (n <= 0) {
        return NULL;
    }

    *der_len = (size_t) n;

    return der;
}
