
/*
 * Copyright (C) Mobispot
 *
 * The pure parts of a site gateway's sign-in: the random state and PKCE
 * verifier (OpenSSL's generator), the S256 challenge of a verifier, the
 * state cookie's value, and whether a return_to may be followed.
 *
 * The state cookie's value is "<verifier>.<base64url(return_to)>": both
 * parts in the characters a cookie value may hold (RFC 6265 4.1.1), the
 * return_to read back exactly as it was written (canonical base64url).
 */


#include <string.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/mobispot_core.h"
#include "core/mobispot_jwt.h"
#include "core/mobispot_jwt_sign.h"
#include "core/mobispot_sso_state.h"


/* 256 random bits in base64url, NUL-terminated (out: 44 bytes) */

int
mobispot_sso_random(char *out, size_t size)
{
    unsigned char  raw[32];

    if (size < MOBISPOT_SSO_RANDOM_LEN + 1
        || RAND_bytes(raw, sizeof(raw)) != 1)
    {
        return MOBISPOT_ERROR;
    }

    mobispot_b64url_encode(raw, sizeof(raw), out);
    out[MOBISPOT_SSO_RANDOM_LEN] = '\0';

    return MOBISPOT_OK;
}


/* s is what mobispot_sso_random() makes: 43 characters of base64url */

int
mobispot_sso_random_check(const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len != MOBISPOT_SSO_RANDOM_LEN) {
        return MOBISPOT_ERROR;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return MOBISPOT_ERROR;
        }
    }

    return MOBISPOT_OK;
}


/*
 * code_challenge = BASE64URL(SHA256(ASCII(code_verifier))), RFC 7636 4.2;
 * the verifier is 43 to 128 of its unreserved characters (4.1).  out gets
 * 43 characters and a NUL.
 */

int
mobispot_pkce_s256(const char *verifier, size_t len, char *out, size_t size)
{
    size_t         i;
    unsigned char  c, md[SHA256_DIGEST_LENGTH];

    if (len < 43 || len > 128 || size < MOBISPOT_SSO_RANDOM_LEN + 1) {
        return MOBISPOT_ERROR;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) verifier[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
              || c == '~'))
        {
            return MOBISPOT_ERROR;
        }
    }

    (void) SHA256((const unsigned char *) verifier, len, md);

    mobispot_b64url_encode(md, sizeof(md), out);
    out[MOBISPOT_SSO_RANDOM_LEN] = '\0';

    return MOBISPOT_OK;
}


/*
 * The state cookie's value for a verifier (mobispot_sso_random()'s) and a
 * return_to of at most MOBISPOT_SSO_RETURN_MAX bytes; its length, or 0
 * when it does not fit in out.
 */

size_t
mobispot_sso_state_value(const char *verifier, const char *back, size_t len,
    char *out, size_t size)
{
    size_t  n;

    if (mobispot_sso_random_check(verifier, strlen(verifier)) != MOBISPOT_OK
        || len > MOBISPOT_SSO_RETURN_MAX)
    {
        return 0;
    }

    n = MOBISPOT_SSO_RANDOM_LEN + 1 + mobispot_b64url_encoded_len(len);

    if (n > size) {
        return 0;
    }

    memcpy(out, verifier, MOBISPOT_SSO_RANDOM_LEN);
    out[MOBISPOT_SSO_RANDOM_LEN] = '.';

    return MOBISPOT_SSO_RANDOM_LEN + 1
           + mobispot_b64url_encode((const unsigned char *) back, len,
                                    out + MOBISPOT_SSO_RANDOM_LEN + 1);
}


/*
 * The verifier (43 characters and a NUL) and the return_to (at most size
 * bytes, not NUL-terminated) of a state cookie's value; MOBISPOT_ERROR for
 * any other value.
 */

int
mobispot_sso_state_parse(const char *value, size_t len, char *verifier,
    char *back, size_t size, size_t *back_len)
{
    size_t          n;
    unsigned char   buf[MOBISPOT_SSO_RETURN_MAX + 3];

    if (len < MOBISPOT_SSO_RANDOM_LEN + 1 || len > MOBISPOT_SSO_STATE_VALUE_MAX
        || value[MOBISPOT_SSO_RANDOM_LEN] != '.'
        || mobispot_sso_random_check(value, MOBISPOT_SSO_RANDOM_LEN)
           != MOBISPOT_OK)
    {
        return MOBISPOT_ERROR;
    }

    value += MOBISPOT_SSO_RANDOM_LEN + 1;
    len -= MOBISPOT_SSO_RANDOM_LEN + 1;

    if (mobispot_b64url_decoded_max(len) > sizeof(buf)
        || mobispot_b64url_decode(value, len, buf, &n) != 0
        || n > MOBISPOT_SSO_RETURN_MAX || n > size)
    {
        return MOBISPOT_ERROR;
    }

    memcpy(verifier, value - MOBISPOT_SSO_RANDOM_LEN - 1,
           MOBISPOT_SSO_RANDOM_LEN);
    verifier[MOBISPOT_SSO_RANDOM_LEN] = '\0';

    memcpy(back, buf, n);
    *back_len = n;

    return MOBISPOT_OK;
}


/*
 * A return_to the callback may send the browser to: this site's origin,
 * then "/" and the rest, every byte a visible ASCII character (no blank,
 * control or byte above 0x7e that a Location header could not carry).
 */

int
mobispot_sso_return_ok(const char *back, size_t len, const char *origin,
    size_t origin_len)
{
    size_t  i;

    if (origin_len == 0 || len <= origin_len
        || memcmp(back, origin, origin_len) != 0 || back[origin_len] != '/')
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) back[i] <= 0x20 || (unsigned char) back[i] >= 0x7f)
        {
            return 0;
        }
    }

    return 1;
}
