
/*
 * Copyright (C) Mobispot
 *
 * The claim rules of the SSO gateway (RFC 7519 section 4.1, RFC 8725),
 * with the clock given by the caller.
 */


#include <string.h>

#include "core/mobispot_jwt.h"


static int mobispot_claims_time(yajl_val payload, const char *name,
    long long *value, int *present);
static int mobispot_claims_audience(yajl_val aud,
    const mobispot_claims_conf_t *conf, const char **reason);


/*
 * Checks, in order: required claims, exp (always required: an integer in
 * [0, MOBISPOT_JWT_TIME_MAX] that is still ahead of now - leeway), nbf and
 * iat (integers in range when present, not after now + leeway; with a
 * max_lifetime, iat required and exp - iat at most max_lifetime), iss and
 * aud (exact, case-sensitive), and the type of sub, sid and pass (strings
 * when present).  Returns a MOBISPOT_SSO_* status and sets *exp.
 */

int
mobispot_claims_check(yajl_val payload, const mobispot_claims_conf_t *conf,
    long long now, long long *exp, const char **reason)
{
    int          present;
    size_t       i;
    yajl_val     v;
    long long    t;
    const char  *names[] = { "sub", "sid", "pass", NULL };

    for (i = 0; i < conf->nrequire; i++) {
        if (mobispot_json_member(payload, conf->require[i]) == NULL) {
            *reason = "a required claim is missing";
            return MOBISPOT_SSO_MALFORMED;
        }
    }

    for (i = 0; names[i]; i++) {
        v = mobispot_json_member(payload, names[i]);

        if (v != NULL && !YAJL_IS_STRING(v)) {
            *reason = "sub, sid or pass is not a string";
            return MOBISPOT_SSO_MALFORMED;
        }
    }

    if (mobispot_claims_time(payload, "exp", exp, &present) != 0) {
        *reason = "exp is not an integer in range";
        return MOBISPOT_SSO_MALFORMED;
    }

    if (!present) {
        *reason = "exp is missing";
        return MOBISPOT_SSO_MALFORMED;
    }

    if (mobispot_claims_time(payload, "nbf", &t, &present) != 0) {
        *reason = "nbf is not an integer in range";
        return MOBISPOT_SSO_MALFORMED;
    }

    if (present && t > now + conf->leeway) {
        *reason = "token not yet valid (nbf)";
        return MOBISPOT_SSO_NOT_YET_VALID;
    }

    if (mobispot_claims_time(payload, "iat", &t, &present) != 0) {
        *reason = "iat is not an integer in range";
        return MOBISPOT_SSO_MALFORMED;
    }

    if (present && t > now + conf->leeway) {
        *reason = "token issued in the future (iat)";
        return MOBISPOT_SSO_NOT_YET_VALID;
    }

    /*
     * a bounded lifetime bounds how long a signed-out session must be
     * remembered: iat is then needed, and exp - iat is at most the bound
     */

    if (conf->max_lifetime) {
        if (!present) {
            *reason = "iat is missing (the token's lifetime is bounded)";
            return MOBISPOT_SSO_MALFORMED;
        }

        if (*exp - t > conf->max_lifetime) {
            *reason = "the token lives longer than the maximum lifetime";
            return MOBISPOT_SSO_MALFORMED;
        }
    }

    if (*exp <= now - conf->leeway) {
        *reason = "token expired";
        return MOBISPOT_SSO_EXPIRED;
    }

    if (conf->issuer) {
        v = mobispot_json_member(payload, "iss");

        if (v == NULL || !YAJL_IS_STRING(v)
            || strcmp(v->u.string, conf->issuer) != 0)
        {
            *reason = "wrong issuer";
            return MOBISPOT_SSO_WRONG_ISSUER;
        }
    }

    if (conf->naudiences) {
        return mobispot_claims_audience(mobispot_json_member(payload, "aud"),
                                        conf, reason);
    }

    return MOBISPOT_SSO_OK;
}


static int
mobispot_claims_time(yajl_val payload, const char *name, long long *value,
    int *present)
{
    yajl_val  v;

    v = mobispot_json_member(payload, name);

    if (v == NULL) {
        *present = 0;
        return 0;
    }

    *present = 1;

    if (mobispot_json_integer(v, value) != 0
        || *value < 0 || *value > MOBISPOT_JWT_TIME_MAX)
    {
        return -1;
    }

    return 0;
}


/* aud: a string, or an array of strings one of which is accepted */

static int
mobispot_claims_audience(yajl_val aud, const mobispot_claims_conf_t *conf,
    const char **reason)
{
    size_t       i, j;
    yajl_val     v;
    const char  *s;

    if (aud == NULL) {
        *reason = "aud is missing";
        return MOBISPOT_SSO_WRONG_AUDIENCE;
    }

    if (YAJL_IS_STRING(aud)) {
        s = aud->u.string;

        for (j = 0; j < conf->naudiences; j++) {
            if (strcmp(s, conf->audiences[j]) == 0) {
                return MOBISPOT_SSO_OK;
            }
        }

        *reason = "wrong audience";
        return MOBISPOT_SSO_WRONG_AUDIENCE;
    }

    if (!YAJL_IS_ARRAY(aud)) {
        *reason = "aud is neither a string nor an array";
        return MOBISPOT_SSO_MALFORMED;
    }

    for (i = 0; i < aud->u.array.len; i++) {
        if (!YAJL_IS_STRING(aud->u.array.values[i])) {
            *reason = "aud array holds a non-string";
            return MOBISPOT_SSO_MALFORMED;
        }
    }

    for (i = 0; i < aud->u.array.len; i++) {
        v = aud->u.array.values[i];
        s = v->u.string;

        for (j = 0; j < conf->naudiences; j++) {
            if (strcmp(s, conf->audiences[j]) == 0) {
                return MOBISPOT_SSO_OK;
            }
        }
    }

    *reason = "wrong audience";
    return MOBISPOT_SSO_WRONG_AUDIENCE;
}


/*
 * Site entitlement.  The site belongs to networks nets[0..n-1];
 * passports[i] is the passport of nets[i] (NULL when the network is
 * unknown).  A token is entitled when one of the site's networks is
 *
 *  - covered by its passport: the "pass" claim equals that network's
 *    passport, and
 *  - inside its limits: when the token has a "nets" claim (a company
 *    token limited to some networks), the network is listed there.
 *
 * A token without "pass" is entitled only through "nets".  A "nets" claim
 * that is not an array of strings refuses the token.
 */

int
mobispot_claims_entitled(yajl_val payload, const char **nets,
    const char **passports, size_t n, const char **reason)
{
    size_t       i, j;
    yajl_val     pass, limit, v;
    const char  *p;

    pass = mobispot_json_member(payload, "pass");
    limit = mobispot_json_member(payload, "nets");

    if (pass != NULL && !YAJL_IS_STRING(pass)) {
        *reason = "pass is not a string";
        return MOBISPOT_SSO_MALFORMED;
    }

    if (limit != NULL) {
        if (!YAJL_IS_ARRAY(limit)) {
            *reason = "nets is not an array";
            return MOBISPOT_SSO_MALFORMED;
        }

        for (j = 0; j < limit->u.array.len; j++) {
            if (!YAJL_IS_STRING(limit->u.array.values[j])) {
                *reason = "nets holds a non-string";
                return MOBISPOT_SSO_MALFORMED;
            }
        }
    }

    if (pass == NULL && limit == NULL) {
        *reason = "token has neither pass nor nets";
        return MOBISPOT_SSO_NOT_ENTITLED;
    }

    for (i = 0; i < n; i++) {

        if (pass != NULL) {
            p = passports[i];

            if (p == NULL || strcmp(p, pass->u.string) != 0) {
                continue;
            }
        }

        if (limit == NULL) {
            return MOBISPOT_SSO_OK;
        }

        for (j = 0; j < limit->u.array.len; j++) {
            v = limit->u.array.values[j];

            if (strcmp(v->u.string, nets[i]) == 0) {
                return MOBISPOT_SSO_OK;
            }
        }
    }

    *reason = "no network of the site is covered by the token";
    return MOBISPOT_SSO_NOT_ENTITLED;
}


/*
 * Zone limits: a token with a "zones" claim (an array of zone ids: a
 * company account piloting some geographic zones) is entitled only to
 * sites whose zone is listed; a site without a zone entitles no such
 * token.  A token without "zones" is not limited.
 */

int
mobispot_claims_zone(yajl_val payload, const char *zone, const char **reason)
{
    size_t    i;
    yajl_val  zones, v;

    zones = mobispot_json_member(payload, "zones");

    if (zones == NULL) {
        return MOBISPOT_SSO_OK;
    }

    if (!YAJL_IS_ARRAY(zones)) {
        *reason = "zones is not an array";
        return MOBISPOT_SSO_MALFORMED;
    }

    for (i = 0; i < zones->u.array.len; i++) {
        if (!YAJL_IS_STRING(zones->u.array.values[i])) {
            *reason = "zones holds a non-string";
            return MOBISPOT_SSO_MALFORMED;
        }
    }

    if (zone == NULL) {
        *reason = "the site has no zone and the token is zone-limited";
        return MOBISPOT_SSO_NOT_ENTITLED;
    }

    for (i = 0; i < zones->u.array.len; i++) {
        v = zones->u.array.values[i];

        if (strcmp(v->u.string, zone) == 0) {
            return MOBISPOT_SSO_OK;
        }
    }

    *reason = "the site's zone is outside the token's zones";
    return MOBISPOT_SSO_NOT_ENTITLED;
}
