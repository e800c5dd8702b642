
/*
 * Copyright (C) Mobispot
 *
 * Token shape, base64url, strict JSON and the JOSE header rules
 * (RFC 7515, RFC 8725).
 */


#include <string.h>
#include <strings.h>

#include "core/mobispot_core.h"
#include "core/mobispot_jwt.h"


static int mobispot_json_unique(yajl_val v, int depth);


/* the value of each byte in the base64url alphabet (RFC 4648 5), or -1 */

static const signed char  mobispot_b64url_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};


static const char  *mobispot_sso_status_names[MOBISPOT_SSO_NSTATUS] = {
    "ok",
    "missing",
    "malformed",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "wrong_issuer",
    "wrong_audience",
    "not_entitled",
    "revoked",
    "unavailable"
};


const char *
mobispot_sso_status_name(int status)
{
    if (status < 0 || status >= MOBISPOT_SSO_NSTATUS) {
        return "unavailable";
    }

    return mobispot_sso_status_names[status];
}


/*
 * A compact JWS: three non-empty segments of base64url characters (no
 * padding) separated by exactly two dots, at most max bytes.  Checked
 * before anything decodes the token.
 */

int
mobispot_jwt_shape(const char *token, size_t len, size_t max, size_t *dot1,
    size_t *dot2, const char **reason)
{
    size_t  i, dots;

    if (len == 0) {
        *reason = "empty token";
        return MOBISPOT_SSO_MALFORMED;
    }

    if (len > max) {
        *reason = "token too large";
        return MOBISPOT_SSO_MALFORMED;
    }

    dots = 0;

    for (i = 0; i < len; i++) {

        if (token[i] == '.') {
            if (dots == 0) {
                *dot1 = i;

            } else if (dots == 1) {
                *dot2 = i;

            } else {
                *reason = "more than two dots";
                return MOBISPOT_SSO_MALFORMED;
            }

            dots++;
            continue;
        }

        if (mobispot_b64url_values[(unsigned char) token[i]] < 0) {
            *reason = "character outside base64url";
            return MOBISPOT_SSO_MALFORMED;
        }
    }

    if (dots != 2) {
        *reason = "not three segments";
        return MOBISPOT_SSO_MALFORMED;
    }

    if (*dot1 == 0 || *dot2 == *dot1 + 1 || *dot2 == len - 1) {
        *reason = "empty segment";
        return MOBISPOT_SSO_MALFORMED;
    }

    return MOBISPOT_SSO_OK;
}


size_t
mobispot_b64url_decoded_max(size_t len)
{
    return len / 4 * 3 + 3;
}


/*
 * Unpadded base64url; a length of 1 modulo 4 and non-zero unused bits are
 * refused, so that one text has exactly one encoding.
 */

int
mobispot_b64url_decode(const char *in, size_t len, unsigned char *out,
    size_t *outlen)
{
    int                   a, b, c, d;
    size_t                n, rest;
    const unsigned char  *p, *end;

    rest = len % 4;

    if (rest == 1) {
        return -1;
    }

    p = (const unsigned char *) in;
    end = p + (len - rest);
    n = 0;

    /* four characters make three bytes; any -1 makes the OR negative */

    while (p < end) {
        a = mobispot_b64url_values[p[0]];
        b = mobispot_b64url_values[p[1]];
        c = mobispot_b64url_values[p[2]];
        d = mobispot_b64url_values[p[3]];

        if ((a | b | c | d) < 0) {
            return -1;
        }

        out[n++] = (unsigned char) (a << 2 | b >> 4);
        out[n++] = (unsigned char) (b << 4 | c >> 2);
        out[n++] = (unsigned char) (c << 6 | d);
        p += 4;
    }

    /* two or three characters left: one or two bytes, no stray bits */

    if (rest) {
        a = mobispot_b64url_values[p[0]];
        b = mobispot_b64url_values[p[1]];
        c = (rest == 3) ? mobispot_b64url_values[p[2]] : 0;

        if ((a | b | c) < 0
            || (rest == 2 && (b & 0x0f) != 0)
            || (rest == 3 && (c & 0x03) != 0))
        {
            return -1;
        }

        out[n++] = (unsigned char) (a << 2 | b >> 4);

        if (rest == 3) {
            out[n++] = (unsigned char) (b << 4 | c >> 2);
        }
    }

    *outlen = n;

    return 0;
}


/*
 * Parses a JSON object; text must be NUL-terminated at len.  Text that is
 * not strict JSON (mobispot_json_check()), a value that is not an object,
 * or an object anywhere inside that holds the same member twice are
 * refused: whatever reads the document after this check (libjwt's JSON
 * parser too) cannot see another value.
 */

yajl_val
mobispot_jwt_json(const char *text, size_t len, const char **reason)
{
    char      err[128];
    yajl_val  v;

    /*
     * RFC 8259 and RFC 3629, as the admin API reads bodies: no comment, no
     * NUL (raw or escaped), no invalid UTF-8, no lone surrogate; yajl
     * alone lets them through
     */

    if (mobispot_json_check(text, len, reason) != MOBISPOT_OK) {
        return NULL;
    }

    v = yajl_tree_parse(text, err, sizeof(err));
    if (v == NULL) {
        *reason = "invalid JSON";
        return NULL;
    }

    if (!YAJL_IS_OBJECT(v)) {
        yajl_tree_free(v);
        *reason = "JSON is not an object";
        return NULL;
    }

    if (mobispot_json_unique(v, 0) != 0) {
        yajl_tree_free(v);
        *reason = "duplicate JSON member or nesting too deep";
        return NULL;
    }

    return v;
}


static int
mobispot_json_unique(yajl_val v, int depth)
{
    size_t  i, j;

    if (depth > MOBISPOT_JWT_JSON_DEPTH) {
        return -1;
    }

    if (YAJL_IS_OBJECT(v)) {
        for (i = 0; i < v->u.object.len; i++) {
            for (j = 0; j < i; j++) {
                if (strcmp(v->u.object.keys[i], v->u.object.keys[j]) == 0) {
                    return -1;
                }
            }

            if (mobispot_json_unique(v->u.object.values[i], depth + 1) != 0) {
                return -1;
            }
        }

        return 0;
    }

    if (YAJL_IS_ARRAY(v)) {
        for (i = 0; i < v->u.array.len; i++) {
            if (mobispot_json_unique(v->u.array.values[i], depth + 1) != 0) {
                return -1;
            }
        }
    }

    return 0;
}


/* a member of an object, through yajl's own lookup (NULL: none) */

yajl_val
mobispot_json_member(yajl_val object, const char *name)
{
    const char  *path[2];

    if (object == NULL || !YAJL_IS_OBJECT(object)) {
        return NULL;
    }

    path[0] = name;
    path[1] = NULL;

    return yajl_tree_get(object, path, yajl_t_any);
}


/* a JSON integer (no fraction, no exponent) that fits a long long */

int
mobispot_json_integer(yajl_val v, long long *value)
{
    if (v == NULL || !YAJL_IS_INTEGER(v)) {
        return -1;
    }

    *value = YAJL_GET_INTEGER(v);

    return 0;
}


/*
 * The JOSE header: "alg" a string other than "none" in any case; "typ",
 * when present, "JWT", or "at+jwt" or "application/at+jwt" (RFC 9068 4),
 * in any case, told apart in h->typ (whether the location takes that kind
 * is the caller's check); "kid", when present, a string of
 * at most MOBISPOT_JWT_KID_MAX bytes, used only as an opaque lookup key;
 * "crit" refused, as no extension is understood.  "jku", "x5u" and "jwk"
 * are ignored: keys only come from the configuration.
 */

int
mobispot_jwt_header_check(yajl_val header, mobispot_jwt_header_t *h,
    const char **reason)
{
    yajl_val     v;
    const char  *s;

    h->alg = NULL;
    h->kid = NULL;
    h->typ = 0;

    v = mobispot_json_member(header, "alg");
    if (v == NULL || !YAJL_IS_STRING(v)) {
        *reason = "header has no alg string";
        return MOBISPOT_SSO_MALFORMED;
    }

    s = v->u.string;

    if (strcasecmp(s, "none") == 0) {
        *reason = "alg none refused";
        return MOBISPOT_SSO_BAD_SIGNATURE;
    }

    h->alg = s;

    if (mobispot_json_member(header, "crit") != NULL) {
        *reason = "unsupported crit header";
        return MOBISPOT_SSO_MALFORMED;
    }

    h->typ = MOBISPOT_JWT_TYP_ABSENT;

    v = mobispot_json_member(header, "typ");
    if (v != NULL) {
        s = YAJL_IS_STRING(v) ? v->u.string : "";

        if (strcasecmp(s, "JWT") == 0) {
            h->typ = MOBISPOT_JWT_TYP_JWT;

        } else if (strcasecmp(s, "at+jwt") == 0
                   || strcasecmp(s, "application/at+jwt") == 0)
        {
            h->typ = MOBISPOT_JWT_TYP_AT;

        } else {
            *reason = "typ is neither at+jwt nor JWT";
            return MOBISPOT_SSO_MALFORMED;
        }
    }

    v = mobispot_json_member(header, "kid");
    if (v != NULL) {
        if (!YAJL_IS_STRING(v)
            || strlen(v->u.string) > MOBISPOT_JWT_KID_MAX)
        {
            *reason = "kid is not a short string";
            return MOBISPOT_SSO_MALFORMED;
        }

        h->kid = v->u.string;
    }

    return MOBISPOT_SSO_OK;
}


/* writes a parsed JSON value back as JSON */

int
mobispot_json_value(yajl_gen g, yajl_val v)
{
    size_t  i;

    if (YAJL_IS_STRING(v)) {
        return yajl_gen_string(g, (const unsigned char *) v->u.string,
                               strlen(v->u.string))
               == yajl_gen_status_ok ? 0 : -1;
    }

    if (YAJL_IS_NUMBER(v)) {
        return yajl_gen_number(g, v->u.number.r,
                               strlen(v->u.number.r))
               == yajl_gen_status_ok ? 0 : -1;
    }

    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        return yajl_gen_bool(g, YAJL_IS_TRUE(v)) == yajl_gen_status_ok
               ? 0 : -1;
    }

    if (YAJL_IS_NULL(v)) {
        return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
    }

    if (YAJL_IS_ARRAY(v)) {
        if (yajl_gen_array_open(g) != yajl_gen_status_ok) {
            return -1;
        }

        for (i = 0; i < v->u.array.len; i++) {
            if (mobispot_json_value(g, v->u.array.values[i]) != 0) {
                return -1;
            }
        }

        return yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -1;
    }

    if (yajl_gen_map_open(g) != yajl_gen_status_ok) {
        return -1;
    }

    for (i = 0; i < v->u.object.len; i++) {
        if (yajl_gen_string(g, (const unsigned char *) v->u.object.keys[i],
                            strlen(v->u.object.keys[i]))
            != yajl_gen_status_ok
            || mobispot_json_value(g, v->u.object.values[i]) != 0)
        {
            return -1;
        }
    }

    return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}
