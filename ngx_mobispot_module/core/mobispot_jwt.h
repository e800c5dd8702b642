
/*
 * Copyright (C) Mobispot
 *
 * The nginx-independent part of the SSO gateway: the token shape check,
 * base64url, strict JSON parsing (no duplicate members), the JOSE header
 * rules and the claim rules with an injectable clock.  libjwt is used by
 * the module only for the signature, with the key pinned by the
 * configuration; everything a token says is checked here first.
 */


#ifndef _MOBISPOT_JWT_H_INCLUDED_
#define _MOBISPOT_JWT_H_INCLUDED_


#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>


/* the outcome of a verification, also $mobispot_sso_status */

#define MOBISPOT_SSO_OK              0
#define MOBISPOT_SSO_MISSING         1
#define MOBISPOT_SSO_MALFORMED       2
#define MOBISPOT_SSO_BAD_SIGNATURE   3
#define MOBISPOT_SSO_EXPIRED         4
#define MOBISPOT_SSO_NOT_YET_VALID   5
#define MOBISPOT_SSO_WRONG_ISSUER    6
#define MOBISPOT_SSO_WRONG_AUDIENCE  7
#define MOBISPOT_SSO_NOT_ENTITLED    8
#define MOBISPOT_SSO_REVOKED         9
#define MOBISPOT_SSO_UNAVAILABLE     10
#define MOBISPOT_SSO_NSTATUS         11


/* 9999-12-31T23:59:59Z: the largest exp, nbf or iat accepted */
#define MOBISPOT_JWT_TIME_MAX        253402300799LL

#define MOBISPOT_JWT_KID_MAX         256
#define MOBISPOT_JWT_JSON_DEPTH      16


/*
 * The header's "typ" (RFC 9068 4, RFC 8725 3.11): one of these, each a
 * bit, so that a location's accepted kinds are a mask (mobispot_jwt_typ)
 */
#define MOBISPOT_JWT_TYP_ABSENT      0x02
#define MOBISPOT_JWT_TYP_JWT         0x04   /* "JWT": an ID token's */
#define MOBISPOT_JWT_TYP_AT          0x08   /* "at+jwt": an access token */


typedef struct {
    const char      *alg;        /* into the parsed header */
    const char      *kid;        /* NULL when absent */
    unsigned         typ;        /* MOBISPOT_JWT_TYP_* */
} mobispot_jwt_header_t;


typedef struct {
    const char      *issuer;     /* NULL: not checked */
    const char     **audiences;  /* accepted audiences, any of them */
    size_t           naudiences; /* 0: not checked */
    const char     **require;    /* claims that must be present */
    size_t           nrequire;
    long long        leeway;     /* seconds */
    long long        max_lifetime;  /* exp - iat, seconds; 0: unchecked */
} mobispot_claims_conf_t;


const char *mobispot_sso_status_name(int status);

int mobispot_jwt_shape(const char *token, size_t len, size_t max,
    size_t *dot1, size_t *dot2, const char **reason);

size_t mobispot_b64url_decoded_max(size_t len);
int mobispot_b64url_decode(const char *in, size_t len, unsigned char *out,
    size_t *outlen);

yajl_val mobispot_jwt_json(const char *text, size_t len, const char **reason);

int mobispot_jwt_header_check(yajl_val header, mobispot_jwt_header_t *h,
    const char **reason);

int mobispot_claims_check(yajl_val payload,
    const mobispot_claims_conf_t *conf, long long now, long long *exp,
    const char **reason);

int mobispot_claims_entitled(yajl_val payload, const char **nets,
    const char **passports, size_t n, const char **reason);
int mobispot_claims_zone(yajl_val payload, const char *zone,
    const char **reason);

yajl_val mobispot_json_member(yajl_val object, const char *name);
int mobispot_json_integer(yajl_val v, long long *value);
int mobispot_json_value(yajl_gen g, yajl_val v);


#endif /* _MOBISPOT_JWT_H_INCLUDED_ */
