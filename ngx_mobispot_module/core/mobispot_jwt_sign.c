
/*
 * Copyright (C) Mobispot
 *
 * The issuer's keys (ES256 on P-256, RS256 with RSA of at least 2048
 * bits), their JWKs (RFC 7517, 7518 6), base64url, and the claims of an
 * access token (RFC 9068 2.2).  The JWS itself is in mobispot_jws.c.
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include "core/mobispot_core.h"
#include "core/mobispot_jwt_sign.h"




static int mobispot_jwk_bn(yajl_gen g, const char *name, EVP_PKEY *pkey,
    const char *param, size_t pad);
static int mobispot_json_strings(yajl_gen g, const char *name,
    const char **v, size_t n);


static const char  mobispot_b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


size_t
mobispot_b64url_encoded_len(size_t len)
{
    return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}


/* unpadded base64url (RFC 7515 2); out holds the encoded length and a NUL */

size_t
mobispot_b64url_encode(const unsigned char *in, size_t len, char *out)
{
    char    *p;
    size_t   i;

    p = out;

    for (i = 0; i + 2 < len; i += 3) {
        *p++ = mobispot_b64url_chars[in[i] >> 2];
        *p++ = mobispot_b64url_chars[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        *p++ = mobispot_b64url_chars[(in[i + 1] & 0x0f) << 2
                                     | in[i + 2] >> 6];
        *p++ = mobispot_b64url_chars[in[i + 2] & 0x3f];
    }

    if (len - i == 1) {
        *p++ = mobispot_b64url_chars[in[i] >> 2];
        *p++ = mobispot_b64url_chars[(in[i] & 0x03) << 4];

    } else if (len - i == 2) {
        *p++ = mobispot_b64url_chars[in[i] >> 2];
        *p++ = mobispot_b64url_chars[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        *p++ = mobispot_b64url_chars[(in[i + 1] & 0x0f) << 2];
    }

    *p = '\0';

    return (size_t) (p - out);
}


/*
 * The JOSE algorithm a key signs with: "ES256" for an EC key on P-256,
 * "RS256" for an RSA key (PKCS #1, not RSA-PSS) of at least 2048 bits;
 * NULL for anything else, with the reason.
 */

const char *
mobispot_jws_alg(EVP_PKEY *pkey, const char **reason)
{
    char    group[64];
    size_t  len;

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(pkey) < 2048) {
            *reason = "an RSA key of fewer than 2048 bits";
            return NULL;
        }

        return "RS256";

    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(pkey,
                                           OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), &len)
            != 1
            || strcmp(group, SN_X9_62_prime256v1) != 0)
        {
            *reason = "an EC key on another curve than P-256";
            return NULL;
        }

        return "ES256";

    default:
        *reason = "neither an EC P-256 nor an RSA key";
        return NULL;
    }
}


/*
 * The public JWK of a signing key, as one object of a JWKS: kty, use,
 * alg, kid, then n and e (RSA) or crv, x and y (EC), in base64url without
 * padding; x and y have the curve's full 32 bytes (RFC 7518 6.2.1.2).
 */

int
mobispot_jwk_gen(yajl_gen g, EVP_PKEY *pkey, const char *kid,
    const char **reason)
{
    int          rsa;
    const char  *alg;

    alg = mobispot_jws_alg(pkey, reason);
    if (alg == NULL) {
        return MOBISPOT_ERROR;
    }

    rsa = (alg[0] == 'R');

    *reason = "out of memory or invalid UTF-8";

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "kty", rsa ? "RSA" : "EC")
           != MOBISPOT_OK
        || mobispot_json_key_string(g, "use", "sig") != MOBISPOT_OK
        || mobispot_json_key_string(g, "alg", alg) != MOBISPOT_OK
        || mobispot_json_key_string(g, "kid", kid) != MOBISPOT_OK)
    {
        return MOBISPOT_ERROR;
    }

    if (rsa) {
        if (mobispot_jwk_bn(g, "n", pkey, OSSL_PKEY_PARAM_RSA_N, 0)
            != MOBISPOT_OK
            || mobispot_jwk_bn(g, "e", pkey, OSSL_PKEY_PARAM_RSA_E, 0)
               != MOBISPOT_OK)
        {
            *reason = "the RSA key's modulus or exponent";
            return MOBISPOT_ERROR;
        }

    } else {
        if (mobispot_json_key_string(g, "crv", "P-256") != MOBISPOT_OK
            || mobispot_jwk_bn(g, "x", pkey, OSSL_PKEY_PARAM_EC_PUB_X,
                               MOBISPOT_JWS_P256_HALF)
               != MOBISPOT_OK
            || mobispot_jwk_bn(g, "y", pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
                               MOBISPOT_JWS_P256_HALF)
               != MOBISPOT_OK)
        {
            *reason = "the EC key's point";
            return MOBISPOT_ERROR;
        }
    }

    if (yajl_gen_map_close(g) != yajl_gen_status_ok) {
        return MOBISPOT_ERROR;
    }

    return MOBISPOT_OK;
}


/* a key's number in base64url: its own length, or pad bytes */

static int
mobispot_jwk_bn(yajl_gen g, const char *name, EVP_PKEY *pkey,
    const char *param, size_t pad)
{
    int             n, rc;
    char           *text;
    BIGNUM         *bn;
    unsigned char  *bin;

    bn = NULL;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
        return MOBISPOT_ERROR;
    }

    n = pad ? (int) pad : BN_num_bytes(bn);
    bin = malloc(n ? n : 1);
    text = malloc(mobispot_b64url_encoded_len(n) + 1);

    rc = MOBISPOT_ERROR;

    if (bin != NULL && text != NULL && BN_bn2binpad(bn, bin, n) == n) {
        mobispot_b64url_encode(bin, n, text);

        if (mobispot_json_key_string(g, name, text) == MOBISPOT_OK) {
            rc = MOBISPOT_OK;
        }
    }

    free(bin);
    free(text);
    BN_free(bn);

    return rc;
}


/* a jti: 128 bits from OpenSSL's generator, in base64url (out: 23 bytes) */

int
mobispot_jwt_jti(char *out, size_t size)
{
    unsigned char  raw[16];

    if (size < MOBISPOT_JWT_JTI_LEN + 1 || RAND_bytes(raw, sizeof(raw)) != 1)
    {
        return MOBISPOT_ERROR;
    }

    mobispot_b64url_encode(raw, sizeof(raw), out);

    return MOBISPOT_OK;
}


/*
 * The claims of an access token as compact JSON (malloc()ed, NUL-ended):
 * iss, sub, aud (one string), sid, client_id, jti, iat, exp, then scope,
 * pass, company, nets, zones, roles when given.  iss, sub, aud, sid and
 * client_id are needed, exp must be after iat; a string that is not
 * UTF-8 is refused.
 */

char *
mobispot_at_claims(const mobispot_at_claims_t *c, size_t *len,
    const char **reason)
{
    char         jti[MOBISPOT_JWT_JTI_LEN + 1];
    char        *out;
    yajl_gen     g;
    const char  *id;

    if (c->iss == NULL || c->sub == NULL || c->aud == NULL || c->sid == NULL
        || c->client_id == NULL)
    {
        *reason = "iss, sub, aud, sid and client_id are needed";
        return NULL;
    }

    if (c->iat <= 0 || c->exp <= c->iat) {
        *reason = "exp must come after iat";
        return NULL;
    }

    id = c->jti;

    if (id == NULL) {
        if (mobispot_jwt_jti(jti, sizeof(jti)) != MOBISPOT_OK) {
            *reason = "no random bytes for the jti";
            return NULL;
        }

        id = jti;
    }

    g = mobispot_json_gen_alloc();
    if (g == NULL) {
        *reason = "out of memory";
        return NULL;
    }

    *reason = "a claim is not UTF-8, or out of memory";

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "iss", c->iss) != MOBISPOT_OK
        || mobispot_json_key_string(g, "sub", c->sub) != MOBISPOT_OK
        || mobispot_json_key_string(g, "aud", c->aud) != MOBISPOT_OK
        || mobispot_json_key_string(g, "sid", c->sid) != MOBISPOT_OK
        || mobispot_json_key_string(g, "client_id", c->client_id)
           != MOBISPOT_OK
        || mobispot_json_key_string(g, "jti", id) != MOBISPOT_OK
        || mobispot_json_string(g, "iat") != MOBISPOT_OK
        || yajl_gen_integer(g, c->iat) != yajl_gen_status_ok
        || mobispot_json_string(g, "exp") != MOBISPOT_OK
        || yajl_gen_integer(g, c->exp) != yajl_gen_status_ok
        || (c->scope
            && mobispot_json_key_string(g, "scope", c->scope)
               != MOBISPOT_OK)
        || (c->pass
            && mobispot_json_key_string(g, "pass", c->pass) != MOBISPOT_OK)
        || (c->company
            && mobispot_json_key_string(g, "company", c->company)
               != MOBISPOT_OK)
        || mobispot_json_strings(g, "nets", c->nets, c->nnets)
           != MOBISPOT_OK
        || mobispot_json_strings(g, "zones", c->zones, c->nzones)
           != MOBISPOT_OK
        || mobispot_json_strings(g, "roles", c->roles, c->nroles)
           != MOBISPOT_OK
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        yajl_gen_free(g);
        return NULL;
    }

    out = mobispot_json_take(g, len);
    yajl_gen_free(g);

    if (out == NULL) {
        *reason = "out of memory";
    }

    return out;
}


/* "name": [...], or nothing when v is NULL */

static int
mobispot_json_strings(yajl_gen g, const char *name, const char **v,
    size_t n)
{
    size_t  i;

    if (v == NULL) {
        return MOBISPOT_OK;
    }

    if (mobispot_json_string(g, name) != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        return MOBISPOT_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (v[i] == NULL || mobispot_json_string(g, v[i]) != MOBISPOT_OK) {
            return MOBISPOT_ERROR;
        }
    }

    return yajl_gen_array_close(g) == yajl_gen_status_ok
           ? MOBISPOT_OK : MOBISPOT_ERROR;
}


/* the generator's text, copied into malloc()ed memory */

char *
mobispot_json_take(yajl_gen g, size_t *len)
{
    char                 *out;
    size_t                n;
    const unsigned char  *buf;

    if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok) {
        return NULL;
    }

    out = malloc(n + 1);
    if (out == NULL) {
        return NULL;
    }

    memcpy(out, buf, n);
    out[n] = '\0';
    *len = n;

    return out;
}

