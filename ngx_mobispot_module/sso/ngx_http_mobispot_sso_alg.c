
/*
 * Copyright (C) Mobispot
 *
 * The one table of the signature algorithms a gateway accepts, for keys
 * from files, JWKS documents and Redis alike, and the check that a public
 * key fits its algorithm.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jwt.h>
#include <openssl/evp.h>

#include "sso/ngx_http_mobispot_sso.h"


static const ngx_http_mobispot_sso_alg_t  ngx_http_mobispot_sso_algs[] = {
    { "HS256", JWT_ALG_HS256, 32, 0, 0 },
    { "HS384", JWT_ALG_HS384, 48, 0, 0 },
    { "HS512", JWT_ALG_HS512, 64, 0, 0 },
    { "RS256", JWT_ALG_RS256, 0, EVP_PKEY_RSA, 2048 },
    { "RS384", JWT_ALG_RS384, 0, EVP_PKEY_RSA, 2048 },
    { "RS512", JWT_ALG_RS512, 0, EVP_PKEY_RSA, 2048 },
    { "ES256", JWT_ALG_ES256, 0, EVP_PKEY_EC, 256 },
    { "ES384", JWT_ALG_ES384, 0, EVP_PKEY_EC, 384 },
    { "ES512", JWT_ALG_ES512, 0, EVP_PKEY_EC, 521 },
    { NULL, JWT_ALG_NONE, 0, 0, 0 }
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
