
/*
 * Copyright (C) Mobispot
 *
 * The pure rules of the issuer's sign-in (see mobispot_login.h): no
 * nginx, no Redis, no clock.  Every function takes bytes with their
 * length (no NUL needed) and says MOBISPOT_OK or MOBISPOT_ERROR.
 */


#include <stdio.h>
#include <string.h>

#include "core/mobispot_core.h"
#include "core/mobispot_login.h"


static int mobispot_b64url_char(unsigned char c);
static int mobispot_uri_char(unsigned char c);


/* every byte of s is of the base64url alphabet (and s is not empty) */

int
mobispot_b64url_valid(const char *s, size_t len)
{
    size_t  i;

    if (len == 0) {
        return MOBISPOT_ERROR;
    }

    for (i = 0; i < len; i++) {
        if (!mobispot_b64url_char((unsigned char) s[i])) {
            return MOBISPOT_ERROR;
        }
    }

    return MOBISPOT_OK;
}


/* the central session's cookie: "<sid: 22>.<secret: 43>", base64url */

int
mobispot_session_cookie_valid(const char *s, size_t len)
{
    if (len != MOBISPOT_LOGIN_COOKIE_LEN
        || s[MOBISPOT_LOGIN_SID_LEN] != '.'
        || mobispot_b64url_valid(s, MOBISPOT_LOGIN_SID_LEN) != MOBISPOT_OK
        || mobispot_b64url_valid(s + MOBISPOT_LOGIN_SID_LEN + 1,
                                 MOBISPOT_LOGIN_SECRET_LEN)
           != MOBISPOT_OK)
    {
        return MOBISPOT_ERROR;
    }

    return MOBISPOT_OK;
}


/*
 * The wait after fails failures, seconds: none below threshold, then 1 s,
 * doubling at each failure, to MOBISPOT_LOGIN_DELAY_MAX.
 */

unsigned
mobispot_login_delay(unsigned long long fails, unsigned threshold)
{
    unsigned long long  n;

    if (threshold == 0 || fails < threshold) {
        return 0;
    }

    n = fails - threshold;

    if (n >= 10) {                      /* 2^10 s is over the cap already */
        return MOBISPOT_LOGIN_DELAY_MAX;
    }

    return (1u << n) < MOBISPOT_LOGIN_DELAY_MAX ? (1u << n)
                                                : MOBISPOT_LOGIN_DELAY_MAX;
}


/*
 * A "continue": the issuer's own "<prefix>authorize?" and a query of URI
 * characters only (no blank, no control, no quote, no angle bracket, no
 * backslash: nothing that could leave the path or the attribute it is
 * written in), at most MOBISPOT_LOGIN_CONTINUE_MAX bytes.  So it can only
 * lead to the issuer's authorize endpoint: no open redirect.
 */

int
mobispot_continue_valid(const char *prefix, size_t prefix_len,
    const char *s, size_t len)
{
    size_t  i, head;

    static const char  authorize[] = "authorize?";

    head = prefix_len + sizeof(authorize) - 1;

    if (len <= head || len > MOBISPOT_LOGIN_CONTINUE_MAX
        || prefix_len == 0 || prefix[0] != '/'
        || memcmp(s, prefix, prefix_len) != 0
        || memcmp(s + prefix_len, authorize, sizeof(authorize) - 1) != 0)
    {
        return MOBISPOT_ERROR;
    }

    for (i = head; i < len; i++) {
        if (!mobispot_uri_char((unsigned char) s[i]) || s[i] == '#') {
            return MOBISPOT_ERROR;
        }
    }

    return MOBISPOT_OK;
}


/* an S256 code_challenge: a SHA-256 in base64url, 43 characters */

int
mobispot_pkce_challenge_valid(const char *s, size_t len)
{
    if (len != MOBISPOT_LOGIN_SECRET_LEN) {
        return MOBISPOT_ERROR;
    }

    return mobispot_b64url_valid(s, len);
}


/*
 * A scope: words separated by one blank (RFC 6749 3.3), each "openid" or
 * "offline_access"; empty is none.  Any other word is refused.
 */

int
mobispot_scope_parse(const char *s, size_t len, unsigned *scopes)
{
    size_t       n;
    const char  *p, *end, *blank;

    *scopes = 0;
    p = s;
    end = s + len;

    while (p < end) {
        blank = memchr(p, ' ', end - p);
        n = (blank ? blank : end) - p;

        if (n == 6 && memcmp(p, "openid", 6) == 0) {
            *scopes |= MOBISPOT_SCOPE_OPENID;

        } else if (n == 14 && memcmp(p, "offline_access", 14) == 0) {
            *scopes |= MOBISPOT_SCOPE_OFFLINE;

        } else {
            return MOBISPOT_ERROR;      /* unknown, or two blanks */
        }

        if (blank == NULL) {
            return MOBISPOT_OK;
        }

        p = blank + 1;

        if (p == end) {
            return MOBISPOT_ERROR;      /* a trailing blank */
        }
    }

    return MOBISPOT_OK;
}


/* uri is, byte for byte, one of the blank-separated URIs of list */

int
mobispot_uri_listed(const char *list, size_t list_len, const char *uri,
    size_t len)
{
    size_t       n;
    const char  *p, *end, *blank;

    if (len == 0) {
        return MOBISPOT_ERROR;
    }

    p = list;
    end = list + list_len;

    while (p < end) {
        blank = memchr(p, ' ', end - p);
        n = (blank ? blank : end) - p;

        if (n == len && memcmp(p, uri, len) == 0) {
            return MOBISPOT_OK;
        }

        p += n + 1;
    }

    return MOBISPOT_ERROR;
}


/*
 * in percent-encoded into out (room for 3 * len bytes): every byte but
 * RFC 3986's unreserved ones; returns the length written
 */

size_t
mobispot_url_encode(const char *in, size_t len, char *out)
{
    char           *p;
    size_t          i;
    unsigned char   c;

    static const char  hex[] = "0123456789ABCDEF";

    p = out;

    for (i = 0; i < len; i++) {
        c = (unsigned char) in[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            *p++ = (char) c;
            continue;
        }

        *p++ = '%';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0x0f];
    }

    return p - out;
}


/*
 * The throttling's address of an IPv6 client (in6: its 16 bytes) into out
 * (room for MOBISPOT_LOGIN_ADDR6_LEN bytes): its /64, "xxxx:xxxx:xxxx:
 * xxxx::/64" (one end network holds a /64, and its host can take any
 * address in it), or the IPv4 address of an IPv4-mapped one
 * (::ffff:a.b.c.d, the same client as a.b.c.d); returns the length
 */

size_t
mobispot_login_addr6(const unsigned char *in6, char *out)
{
    size_t       i, n;
    static const unsigned char  mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };

    if (memcmp(in6, mapped, sizeof(mapped)) == 0) {
        return (size_t) snprintf(out, MOBISPOT_LOGIN_ADDR6_LEN,
                                 "%u.%u.%u.%u", in6[12], in6[13], in6[14],
                                 in6[15]);
    }

    n = 0;

    for (i = 0; i < 8; i += 2) {
        n += (size_t) snprintf(out + n, MOBISPOT_LOGIN_ADDR6_LEN - n,
                               "%02x%02x:", in6[i], in6[i + 1]);
    }

    memcpy(out + n, ":/64", 4);

    return n + 4;
}


static int
mobispot_b64url_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}


/* RFC 3986's unreserved, reserved and "%": nothing to escape in HTML */

static int
mobispot_uri_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f) {
        return 0;
    }

    return strchr("\"<>\\^`{|}'", c) == NULL;
}
