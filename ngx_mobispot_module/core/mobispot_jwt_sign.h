
/*
 * Copyright (C) Mobispot
 *
 * The issuer's side of a token, without nginx: the algorithm of a signing
 * key, the JWK of its public half, the claims of an access token
 * (RFC 9068) and the compact JWS that signs them.  Every function is pure:
 * its inputs in, a malloc()ed string out (free() it), no shared state but
 * the key, which OpenSSL lets threads use at once.  So an nginx thread
 * pool may run the signature (RS256 costs a millisecond or so).
 */


#ifndef _MOBISPOT_JWT_SIGN_H_INCLUDED_
#define _MOBISPOT_JWT_SIGN_H_INCLUDED_


#include <stddef.h>
#include <openssl/evp.h>
#include <yajl/yajl_gen.h>


/* the JOSE "typ" of an access token (RFC 9068 2.1) and of an ID token */
#define MOBISPOT_JWS_TYP_AT      "at+jwt"
#define MOBISPOT_JWS_TYP_ID      "JWT"

/* 128 random bits in base64url: 22 characters */
#define MOBISPOT_JWT_JTI_LEN     22

#define MOBISPOT_JWT_SIGN_MAX    (64 * 1024)

/* the size of r and of s in an ES256 signature */
#define MOBISPOT_JWS_P256_HALF   32


/*
 * The claims of an access token.  Strings are NUL-terminated; NULL (or
 * n 0 for an array with its pointer NULL) leaves a claim out.  An array
 * given with n 0 and a pointer not NULL is written empty: "nets":[] limits
 * a company account to no network.
 */

typedef struct {
    const char            *iss;
    const char            *sub;
    const char            *aud;         /* one audience, a string */
    const char            *sid;
    const char            *client_id;
    const char            *jti;         /* NULL: 128 random bits */
    const char            *scope;       /* NULL: none */
    long long              iat;
    long long              exp;

    /* entitlement, as the gateway reads it (docs/security.md) */
    const char            *pass;        /* the passport id */
    const char            *company;     /* the company account id */
    const char           **nets;        /* a company's networks */
    size_t                 nnets;
    const char           **zones;       /* a company's zones */
    size_t                 nzones;
    const char           **roles;       /* role names */
    size_t                 nroles;
} mobispot_at_claims_t;


const char *mobispot_jws_alg(EVP_PKEY *pkey, const char **reason);
int mobispot_jwk_gen(yajl_gen g, EVP_PKEY *pkey, const char *kid,
    const char **reason);

char *mobispot_at_claims(const mobispot_at_claims_t *c, size_t *len,
    const char **reason);
int mobispot_jwt_jti(char *out, size_t size);

/*
 * A key for mobispot_jws_compact() and mobispot_jws_verify(): alg one of
 * HS256/384/512 (secret), RS256/384/512, ES256/384/512 (pkey: a private
 * key to sign, a public or private one to verify); the key must fit alg
 * (RSA, or EC on the algorithm's curve).
 */

typedef struct {
    const char            *alg;
    EVP_PKEY              *pkey;
    const unsigned char   *secret;
    size_t                 secret_len;
} mobispot_jws_key_t;


char *mobispot_jws_sign(EVP_PKEY *pkey, const char *kid, const char *typ,
    const char *claims, size_t claims_len, size_t *len,
    const char **reason);
char *mobispot_jws_compact(const mobispot_jws_key_t *key, const char *kid,
    const char *typ, const char *claims, size_t claims_len, size_t *len,
    const char **reason);
int mobispot_jws_verify(const mobispot_jws_key_t *key, const char *token,
    size_t len, const char **reason);

/* a DER ECDSA-Sig-Value of P-521's r || s takes at most 139 bytes */
#define MOBISPOT_ECDSA_DER_MAX   160

int mobispot_ecdsa_der(const unsigned char *sig, size_t half,
    unsigned char *der, size_t size, size_t *der_len);

char *mobispot_json_take(yajl_gen g, size_t *len);
size_t mobispot_b64url_encoded_len(size_t len);
size_t mobispot_b64url_encode(const unsigned char *in, size_t len,
    char *out);


#endif /* _MOBISPOT_JWT_SIGN_H_INCLUDED_ */
