/*
 * Copyright (C) Mobispot
 *
 * The nginx-independent SSO checks: token shape, base64url, strict JSON,
 * JOSE header rules and claim rules with a fixed clock.
 */

#include <string.h>

#include "tap.h"
#include "core/mobispot_jwt.h"


#define NOW 1700000000LL


static int
shape(const char *t, size_t max)
{
    size_t      d1, d2;
    const char *reason;

    return mobispot_jwt_shape(t, strlen(t), max, &d1, &d2, &reason);
}


static int
header(const char *json)
{
    int                   rc;
    yajl_val              v;
    const char           *reason;
    mobispot_jwt_header_t h;

    v = mobispot_jwt_json(json, strlen(json), &reason);
    if (v == NULL) {
        return -1;
    }

    rc = mobispot_jwt_header_check(v, &h, &reason);
    yajl_tree_free(v);

    return rc;
}


static int
claims(const char *json, const mobispot_claims_conf_t *conf)
{
    int         rc;
    yajl_val    v;
    long long   exp;
    const char *reason;

    v = mobispot_jwt_json(json, strlen(json), &reason);
    if (v == NULL) {
        return -1;
    }

    rc = mobispot_claims_check(v, conf, NOW, &exp, &reason);
    yajl_tree_free(v);

    return rc;
}


static int
zone(const char *json, const char *z)
{
    int         rc;
    yajl_val    v;
    const char *reason;

    v = mobispot_jwt_json(json, strlen(json), &reason);
    if (v == NULL) {
        return -1;
    }

    rc = mobispot_claims_zone(v, z, &reason);
    yajl_tree_free(v);

    return rc;
}


static int
entitled(const char *json)
{
    int         rc;
    yajl_val    v;
    const char *reason;
    const char *nets[] = {"cowallonia", "swc", "ghost"};
    const char *passports[] = {"cowallonia-pass", "swc-pass", NULL};

    v = mobispot_jwt_json(json, strlen(json), &reason);
    if (v == NULL) {
        return -1;
    }

    rc = mobispot_claims_entitled(v, nets, passports, 3, &reason);
    yajl_tree_free(v);

    return rc;
}


int
main(void)
{
    size_t                 n;
    unsigned char          buf[64];
    const char            *reason;
    const char            *auds[] = {"namur", "mons"};
    const char            *req[] = {"sid"};
    mobispot_claims_conf_t c;

    /* shape */

    TAP_IS_INT(shape("aGk.aGk.aGk", 100), MOBISPOT_SSO_OK, "three segments");
    TAP_IS_INT(shape("aGk.aGk", 100), MOBISPOT_SSO_MALFORMED, "two segments");
    TAP_IS_INT(shape("a.b.c.d", 100), MOBISPOT_SSO_MALFORMED, "four");
    TAP_IS_INT(shape("aGk..aGk", 100), MOBISPOT_SSO_MALFORMED, "empty payload");
    TAP_IS_INT(shape("aGk.aGk.", 100), MOBISPOT_SSO_MALFORMED,
               "empty signature");
    TAP_IS_INT(shape("aG+.aGk.aGk", 100), MOBISPOT_SSO_MALFORMED, "+");
    TAP_IS_INT(shape("aGk=.aGk.aGk", 100), MOBISPOT_SSO_MALFORMED, "padding");
    TAP_IS_INT(shape("aGk.aGk.a Gk", 100), MOBISPOT_SSO_MALFORMED, "space");
    TAP_IS_INT(shape("aGk.aGk.aGk", 10), MOBISPOT_SSO_MALFORMED, "too long");
    TAP_IS_INT(shape("", 10), MOBISPOT_SSO_MALFORMED, "empty");

    /* base64url */

    TAP_OK(mobispot_b64url_decode("aGk", 3, buf, &n) == 0 && n == 2
               && memcmp(buf, "hi", 2) == 0,
           "decodes hi");
    TAP_OK(mobispot_b64url_decode("aGl", 3, buf, &n) != 0,
           "non-zero unused bits refused");
    TAP_OK(mobispot_b64url_decode("a", 1, buf, &n) != 0, "length 1 mod 4");
    TAP_OK(mobispot_b64url_decode("_-8", 3, buf, &n) == 0 && n == 2
               && buf[0] == 0xff && buf[1] == 0xef,
           "url alphabet");
    TAP_OK(mobispot_b64url_decode("aGVsbG8", 7, buf, &n) == 0 && n == 5
               && memcmp(buf, "hello", 5) == 0,
           "a block and three left");
    TAP_OK(mobispot_b64url_decode("aGVsbG9z", 8, buf, &n) == 0 && n == 6
               && memcmp(buf, "hellos", 6) == 0,
           "whole blocks");
    TAP_OK(mobispot_b64url_decode("aGVsbG9", 7, buf, &n) != 0,
           "stray bits in the last of three");
    TAP_OK(mobispot_b64url_decode("aG+sbG8", 7, buf, &n) != 0,
           "'+' inside a block");
    TAP_OK(mobispot_b64url_decode("aGVsbG=", 7, buf, &n) != 0,
           "padding refused");
    TAP_OK(mobispot_b64url_decode("aGVs\xc3\xa9G8", 8, buf, &n) != 0,
           "a byte above 127");
    TAP_OK(mobispot_b64url_decode("", 0, buf, &n) == 0 && n == 0, "empty");

    /* strict JSON */

    TAP_OK(mobispot_jwt_json("[1]", 3, &reason) == NULL, "array refused");
    TAP_OK(mobispot_jwt_json("\"s\"", 3, &reason) == NULL, "string refused");
    TAP_OK(mobispot_jwt_json("{\"a\":1,\"a\":2}", 13, &reason) == NULL,
           "duplicate member refused");
    TAP_OK(mobispot_jwt_json("{\"o\":{\"b\":1,\"b\":1}}", 19, &reason) == NULL,
           "nested duplicate refused");
    TAP_OK(mobispot_jwt_json("{\"a\":\"x\\u0000y\"}", 16, &reason) == NULL,
           "escaped NUL refused");
    TAP_OK(mobispot_jwt_json("{\"a\":1", 6, &reason) == NULL, "truncated");
    TAP_OK(mobispot_jwt_json("/* c */{\"a\":1}", 15, &reason) == NULL,
           "comment before refused");
    TAP_OK(mobispot_jwt_json("{\"a\":1 // c\n}", 13, &reason) == NULL,
           "line comment refused");
    TAP_OK(mobispot_jwt_json("{\"a\":\"\xc0\xaf\"}", 10, &reason) == NULL,
           "overlong UTF-8 refused");
    TAP_OK(mobispot_jwt_json("{\"a\":\"\\ud800\"}", 14, &reason) == NULL,
           "lone surrogate escape refused");
    {
        yajl_val v = mobispot_jwt_json("{\"sub\":\"\xc3\xa9\"}", 12, &reason);

        TAP_OK(v != NULL, "valid UTF-8 accepted");
        yajl_tree_free(v);
    }

    /* header */

    TAP_IS_INT(header("{\"alg\":\"RS256\",\"kid\":\"k\"}"), MOBISPOT_SSO_OK,
               "good header");
    TAP_IS_INT(header("{\"alg\":\"none\"}"), MOBISPOT_SSO_BAD_SIGNATURE,
               "none");
    TAP_IS_INT(header("{\"alg\":\"nOnE\"}"), MOBISPOT_SSO_BAD_SIGNATURE,
               "nOnE");
    TAP_IS_INT(header("{\"kid\":\"k\"}"), MOBISPOT_SSO_MALFORMED, "no alg");
    TAP_IS_INT(header("{\"alg\":256}"), MOBISPOT_SSO_MALFORMED,
               "alg not a string");
    TAP_IS_INT(header("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}"),
               MOBISPOT_SSO_MALFORMED, "crit");
    TAP_IS_INT(header("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}"),
               MOBISPOT_SSO_OK, "typ at+jwt");
    TAP_IS_INT(header("{\"alg\":\"HS256\",\"kid\":7}"), MOBISPOT_SSO_MALFORMED,
               "kid not a string");
    TAP_IS_INT(header("{\"alg\":\"HS256\",\"alg\":\"none\"}"), -1,
               "duplicate alg");

    /* claims */

    memset(&c, 0, sizeof(c));

    TAP_IS_INT(claims("{\"exp\":1700000001}", &c), MOBISPOT_SSO_OK,
               "exp ahead");
    TAP_IS_INT(claims("{\"exp\":1700000000}", &c), MOBISPOT_SSO_EXPIRED,
               "exp == now is expired");
    TAP_IS_INT(claims("{}", &c), MOBISPOT_SSO_MALFORMED, "exp missing");
    TAP_IS_INT(claims("{\"exp\":\"1800000000\"}", &c), MOBISPOT_SSO_MALFORMED,
               "exp string");
    TAP_IS_INT(claims("{\"exp\":1800000000.5}", &c), MOBISPOT_SSO_MALFORMED,
               "exp float");
    TAP_IS_INT(claims("{\"exp\":1.8e9}", &c), MOBISPOT_SSO_MALFORMED,
               "exp exponent");
    TAP_IS_INT(claims("{\"exp\":99999999999999999999}", &c),
               MOBISPOT_SSO_MALFORMED, "exp overflow");
    TAP_IS_INT(claims("{\"exp\":253402300800}", &c), MOBISPOT_SSO_MALFORMED,
               "exp after year 9999");
    TAP_IS_INT(claims("{\"exp\":-1}", &c), MOBISPOT_SSO_MALFORMED,
               "negative exp");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"nbf\":1700000001}", &c),
               MOBISPOT_SSO_NOT_YET_VALID, "nbf ahead");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"iat\":1700000001}", &c),
               MOBISPOT_SSO_NOT_YET_VALID, "iat in the future");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"sub\":5}", &c),
               MOBISPOT_SSO_MALFORMED, "sub not a string");

    c.leeway = 30;

    TAP_IS_INT(claims("{\"exp\":1699999971}", &c), MOBISPOT_SSO_OK,
               "exp within leeway");
    TAP_IS_INT(claims("{\"exp\":1699999970}", &c), MOBISPOT_SSO_EXPIRED,
               "exp at the leeway edge");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"nbf\":1700000030}", &c),
               MOBISPOT_SSO_OK, "nbf within leeway");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"nbf\":1700000031}", &c),
               MOBISPOT_SSO_NOT_YET_VALID, "nbf past leeway");

    c.leeway = 0;
    c.max_lifetime = 3600;

    TAP_IS_INT(claims("{\"exp\":1700003600,\"iat\":1700000000}", &c),
               MOBISPOT_SSO_OK, "lifetime at the bound");
    TAP_IS_INT(claims("{\"exp\":1700003601,\"iat\":1700000000}", &c),
               MOBISPOT_SSO_MALFORMED, "lifetime past the bound");
    TAP_IS_INT(claims("{\"exp\":1700000100}", &c), MOBISPOT_SSO_MALFORMED,
               "a bounded lifetime needs iat");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"iat\":1799999000}", &c),
               MOBISPOT_SSO_NOT_YET_VALID, "iat ahead is checked first");

    c.max_lifetime = 0;
    c.issuer = "https://sso";
    c.audiences = auds;
    c.naudiences = 2;

    TAP_IS_INT(claims("{\"exp\":1800000000,\"iss\":\"https://sso\","
                      "\"aud\":\"mons\"}",
                      &c),
               MOBISPOT_SSO_OK, "iss, aud");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"iss\":\"https://SSO\","
                      "\"aud\":\"mons\"}",
                      &c),
               MOBISPOT_SSO_WRONG_ISSUER, "iss is case-sensitive");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"aud\":\"mons\"}", &c),
               MOBISPOT_SSO_WRONG_ISSUER, "iss missing");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"iss\":\"https://sso\","
                      "\"aud\":[\"liege\",\"namur\"]}",
                      &c),
               MOBISPOT_SSO_OK, "aud array");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"iss\":\"https://sso\","
                      "\"aud\":[\"liege\",\"tournai\"]}",
                      &c),
               MOBISPOT_SSO_WRONG_AUDIENCE, "aud array without this site");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"iss\":\"https://sso\"}", &c),
               MOBISPOT_SSO_WRONG_AUDIENCE, "aud missing");
    TAP_IS_INT(claims("{\"exp\":1800000000,\"iss\":\"https://sso\","
                      "\"aud\":[\"namur\",7]}",
                      &c),
               MOBISPOT_SSO_MALFORMED, "aud array with a number");

    c.require = req;
    c.nrequire = 1;

    TAP_IS_INT(claims("{\"exp\":1800000000,\"iss\":\"https://sso\","
                      "\"aud\":\"namur\"}",
                      &c),
               MOBISPOT_SSO_MALFORMED, "required sid missing");

    /* entitlement: site in networks cowallonia, swc and an unknown one */

    TAP_IS_INT(entitled("{\"pass\":\"cowallonia-pass\"}"), MOBISPOT_SSO_OK,
               "passport of one of the site's networks");
    TAP_IS_INT(entitled("{\"pass\":\"swc-pass\"}"), MOBISPOT_SSO_OK,
               "passport of the other network");
    TAP_IS_INT(entitled("{\"pass\":\"brussels-pass\"}"),
               MOBISPOT_SSO_NOT_ENTITLED, "passport of another network");
    TAP_IS_INT(entitled("{}"), MOBISPOT_SSO_NOT_ENTITLED, "no pass, no nets");
    TAP_IS_INT(entitled("{\"nets\":[\"swc\"]}"), MOBISPOT_SSO_OK,
               "company token limited to a network of the site");
    TAP_IS_INT(entitled("{\"nets\":[\"brussels\"]}"), MOBISPOT_SSO_NOT_ENTITLED,
               "company token limited elsewhere");
    TAP_IS_INT(entitled("{\"pass\":\"cowallonia-pass\","
                        "\"nets\":[\"swc\"]}"),
               MOBISPOT_SSO_NOT_ENTITLED,
               "passport network outside the token's limits");
    TAP_IS_INT(entitled("{\"pass\":\"swc-pass\",\"nets\":[\"swc\"]}"),
               MOBISPOT_SSO_OK, "passport network inside the limits");
    TAP_IS_INT(entitled("{\"nets\":\"swc\"}"), MOBISPOT_SSO_MALFORMED,
               "nets not an array");
    TAP_IS_INT(entitled("{\"nets\":[1]}"), MOBISPOT_SSO_MALFORMED,
               "nets with a number");
    TAP_IS_INT(entitled("{\"pass\":7}"), MOBISPOT_SSO_MALFORMED,
               "pass not a string");
    TAP_IS_INT(entitled("{\"nets\":[\"ghost\"]}"), MOBISPOT_SSO_OK,
               "limit-only token on a network without passport");

    /* zones */

    TAP_IS_INT(zone("{}", NULL), MOBISPOT_SSO_OK, "no zones: not limited");
    TAP_IS_INT(zone("{}", "wallonia"), MOBISPOT_SSO_OK,
               "no zones, a site with a zone");
    TAP_IS_INT(zone("{\"zones\":[\"wallonia\"]}", "wallonia"), MOBISPOT_SSO_OK,
               "site in the token's zones");
    TAP_IS_INT(zone("{\"zones\":[\"brussels\"]}", "wallonia"),
               MOBISPOT_SSO_NOT_ENTITLED, "site outside the token's zones");
    TAP_IS_INT(zone("{\"zones\":[\"wallonia\"]}", NULL),
               MOBISPOT_SSO_NOT_ENTITLED, "zone-limited, site without zone");
    TAP_IS_INT(zone("{\"zones\":\"wallonia\"}", "wallonia"),
               MOBISPOT_SSO_MALFORMED, "zones not an array");

    TAP_IS_STR(mobispot_sso_status_name(MOBISPOT_SSO_WRONG_AUDIENCE),
               "wrong_audience", "status names");

    return tap_done();
}
