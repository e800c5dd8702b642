
/*
 * Copyright (C) Mobispot
 *
 * The redirect URIs of registered clients (OAuth 2.0 Security BCP,
 * RFC 9700 4.1: exact matching; RFC 8252 for native apps).  A URI is
 * taken when it is:
 *
 *  - 1 to 2048 bytes of the characters RFC 3986 allows in a URI (ASCII
 *    letters, digits, -._~:/?[]@!$&'()*+,;= and %HH): no blank, no
 *    control, no byte above 0x7e (an IRI is registered percent-encoded);
 *  - without a fragment ("#"), which a redirect URI must not have
 *    (RFC 6749 3.1.2);
 *  - absolute, its scheme in lower case, and one of:
 *      https://host[:port][/path][?query]   a host, no user information;
 *      http://127.0.0.1[:port]..., http://[::1][:port]...,
 *      http://localhost[:port]...           loopback only (RFC 8252 7.3);
 *      <scheme>:/path                       with MOBISPOT_URI_PRIVATE_USE
 *                                           only: a private-use scheme,
 *                                           a reverse domain name that
 *                                           holds a "." (RFC 8252 7.1),
 *                                           then one "/" (no authority).
 *
 * Returns NULL when it is taken, or the reason it is not (static text).
 */


#include <string.h>

#include "core/mobispot_core.h"
#include "core/mobispot_uri.h"


static int mobispot_uri_char(unsigned char c);
static int mobispot_uri_hex(unsigned char c);
static const char *mobispot_uri_authority(const char *p, const char *end,
    int loopback);


const char *
mobispot_redirect_uri_check(const char *s, size_t len, unsigned flags)
{
    size_t       i, n;
    const char  *p, *end, *colon;

    if (s == NULL || len == 0 || len > MOBISPOT_URI_MAX) {
        return "a URI of 1 to 2048 bytes";
    }

    for (i = 0; i < len; i++) {
        if (s[i] == '#') {
            return "a redirect URI has no fragment (#)";
        }

        if (!mobispot_uri_char((unsigned char) s[i])) {
            return "a URI of the characters of RFC 3986 only (no blank, "
                   "no control, non-ASCII percent-encoded)";
        }

        if (s[i] == '%'
            && (i + 2 >= len || !mobispot_uri_hex((unsigned char) s[i + 1])
                || !mobispot_uri_hex((unsigned char) s[i + 2])))
        {
            return "a % not followed by two hexadecimal digits";
        }
    }

    end = s + len;

    /* the scheme: a lower-case letter, then letters, digits, + - . */

    colon = memchr(s, ':', len);

    if (colon == NULL || colon == s || !(*s >= 'a' && *s <= 'z')) {
        return "an absolute URI: a scheme in lower case, then \":\"";
    }

    n = (size_t) (colon - s);

    for (p = s; p < colon; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '+' || *p == '-' || *p == '.'))
        {
            return "an absolute URI: a scheme in lower case, then \":\"";
        }
    }

    p = colon + 1;

    if (n == 5 && strncmp(s, "https", 5) == 0) {
        if (end - p < 2 || p[0] != '/' || p[1] != '/') {
            return "https://, then a host";
        }

        return mobispot_uri_authority(p + 2, end, 0);
    }

    if (n == 4 && strncmp(s, "http", 4) == 0) {
        if (end - p < 2 || p[0] != '/' || p[1] != '/') {
            return "http://, then a loopback host";
        }

        return mobispot_uri_authority(p + 2, end, 1);
    }

    if (!(flags & MOBISPOT_URI_PRIVATE_USE)) {
        return "https, or http on a loopback host (127.0.0.1, [::1], "
               "localhost); a private-use scheme is for public apps";
    }

    if (memchr(s, '.', n) == NULL) {
        return "a private-use scheme is a reverse domain name "
               "(com.example.app:/path)";
    }

    if (p >= end || p[0] != '/' || (end - p > 1 && p[1] == '/')) {
        return "a private-use URI is the scheme, then \":/\" and a path "
               "(com.example.app:/path)";
    }

    return NULL;
}


/*
 * The authority of an http(s) URI up to the path, query or end: a host
 * (a name of letters, digits, "-" and "."; or an IPv6 literal in
 * brackets) and an optional port of 1 to 65535; no user information.
 * loopback: the host must be 127.0.0.1, [::1] or localhost.
 */

static const char *
mobispot_uri_authority(const char *p, const char *end, int loopback)
{
    size_t       n;
    unsigned     port;
    const char  *host, *host_end, *q;

    host = p;

    while (p < end && *p != '/' && *p != '?') {
        if (*p == '@') {
            return "no user information (user@) in a redirect URI";
        }

        p++;
    }

    end = p;
    p = host;

    if (p < end && *p == '[') {
        for (p++; p < end && *p != ']'; p++) {
            if (!(mobispot_uri_hex((unsigned char) *p) || *p == ':'
                  || *p == '.'))
            {
                return "an IPv6 literal of hexadecimal digits and \":\"";
            }
        }

        if (p == end || p == host + 1) {
            return "an IPv6 literal of hexadecimal digits and \":\"";
        }

        p++;

    } else {
        while (p < end && *p != ':') {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            {
                return "a host name of letters, digits, \"-\" and \".\"";
            }

            p++;
        }
    }

    host_end = p;
    n = (size_t) (host_end - host);

    if (n == 0) {
        return "a URI with a host";
    }

    if (p < end) {
        /* ":" port */
        port = 0;

        for (q = p + 1; q < end; q++) {
            if (*q < '0' || *q > '9' || q - p > 5) {
                return "a port of 1 to 65535";
            }

            port = port * 10 + (unsigned) (*q - '0');
        }

        if (q == p + 1 || port == 0 || port > 65535) {
            return "a port of 1 to 65535";
        }
    }

    if (loopback
        && !(n == 9 && strncmp(host, "127.0.0.1", 9) == 0)
        && !(n == 5 && strncmp(host, "[::1]", 5) == 0)
        && !(n == 9 && strncmp(host, "localhost", 9) == 0))
    {
        return "http only on a loopback host (127.0.0.1, [::1], "
               "localhost): https otherwise";
    }

    return NULL;
}


/* RFC 3986 unreserved, reserved but "#", and "%" */

static int
mobispot_uri_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9'))
    {
        return 1;
    }

    return c != '\0' && strchr("-._~:/?[]@!$&'()*+,;=%", c) != NULL;
}


static int
mobispot_uri_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F');
}
