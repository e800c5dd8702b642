/*
 * Copyright (C) Mobispot
 *
 * The pure rules of the issuer's sign-in (core/mobispot_login.c).
 */

#include "tap.h"
#include "core/mobispot_core.h"
#include "core/mobispot_login.h"

#define OK(x) ((x) == MOBISPOT_OK)

static int
cont(const char *s)
{
    return OK(mobispot_continue_valid("/sso/", 5, s, strlen(s)));
}

static int
scope(const char *s, unsigned *got)
{
    return OK(mobispot_scope_parse(s, strlen(s), got));
}

static int
listed(const char *list, const char *uri)
{
    return OK(mobispot_uri_listed(list, strlen(list), uri, strlen(uri)));
}

int
main(void)
{
    char        out[64], big[MOBISPOT_LOGIN_CONTINUE_MAX + 2];
    size_t      n;
    unsigned    s;
    const char *good = "AAAAAAAAAAAAAAAAAAAAAA."
                       "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    const char *chal = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    TAP_OK(OK(mobispot_session_cookie_valid(good, strlen(good))),
           "a cookie value: sid.secret");
    TAP_OK(!OK(mobispot_session_cookie_valid(good, strlen(good) - 1)),
           "a secret cut short is refused");
    TAP_OK(!OK(mobispot_session_cookie_valid("AAAAAAAAAAAAAAAAAAAAAA/"
                                             "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
                                             "BBBBBBBBBBBB",
                                             MOBISPOT_LOGIN_COOKIE_LEN)),
           "no dot, no cookie");
    TAP_OK(!OK(mobispot_session_cookie_valid("AAAAAAAAAAAAAAAAAAAAAA."
                                             "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
                                             "BBBBBBBBBBB=",
                                             MOBISPOT_LOGIN_COOKIE_LEN)),
           "padding is not base64url");
    TAP_OK(!OK(mobispot_b64url_valid("", 0)), "empty is not base64url");
    TAP_OK(!OK(mobispot_b64url_valid("ab+c", 4)), "+ is not base64url");

    {
        char                a6[MOBISPOT_LOGIN_ADDR6_LEN + 1];
        const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1,
                                      0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 7};
        const unsigned char v4[16] = {0, 0, 0,    0,    0,   0, 0,   0,
                                      0, 0, 0xff, 0xff, 203, 0, 113, 255};

        n = mobispot_login_addr6(v6, a6);
        a6[n] = '\0';
        TAP_IS_STR(a6, "2001:0db8:0000:0001::/64", "an IPv6 client: its /64");
        TAP_IS_INT(n, MOBISPOT_LOGIN_ADDR6_LEN, "of the documented length");
        n = mobispot_login_addr6(v4, a6);
        a6[n] = '\0';
        TAP_IS_STR(a6, "203.0.113.255", "an IPv4-mapped client: its IPv4");
    }

    TAP_IS_INT(mobispot_login_delay(0, 5), 0, "no failure: no delay");
    TAP_IS_INT(mobispot_login_delay(4, 5), 0, "4 failures: no delay");
    TAP_IS_INT(mobispot_login_delay(5, 5), 1, "the 5th: 1 s");
    TAP_IS_INT(mobispot_login_delay(6, 5), 2, "the 6th: 2 s");
    TAP_IS_INT(mobispot_login_delay(13, 5), 256, "the 13th: 256 s");
    TAP_IS_INT(mobispot_login_delay(14, 5), 512, "the 14th: 512 s");
    TAP_IS_INT(mobispot_login_delay(15, 5), 900, "the 15th: the cap");
    TAP_IS_INT(mobispot_login_delay(1ULL << 40, 5), 900, "huge: the cap");
    TAP_IS_INT(mobispot_login_delay(9, 0), 0, "threshold 0: never");

    TAP_OK(cont("/sso/authorize?client_id=a&state=b%20c"), "continue ok");
    TAP_OK(!cont("/sso/authorize?"), "continue: an empty query");
    TAP_OK(!cont("/sso/authorize"), "continue: no query");
    TAP_OK(!cont("/sso/token?x=1"), "continue: another endpoint");
    TAP_OK(!cont("https://evil.example/sso/authorize?x"), "continue: a URL");
    TAP_OK(!cont("//evil.example/sso/authorize?x"), "continue: //host");
    TAP_OK(!cont("/sso/authorize?a=\"><script>"), "continue: a quote");
    TAP_OK(!cont("/sso/authorize?a=b c"), "continue: a blank");
    TAP_OK(!cont("/sso/authorize?a=b\r\nX: y"), "continue: CR LF");
    TAP_OK(!cont("/sso/authorize?a=b#frag"), "continue: a fragment");
    TAP_OK(!cont("/sso/authorize?a=\xc3\xa9"), "continue: not ASCII");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "/sso/authorize?", 15);
    TAP_OK(!cont(big), "continue: too long");
    big[MOBISPOT_LOGIN_CONTINUE_MAX] = '\0';
    TAP_OK(cont(big), "continue: the longest");

    TAP_OK(OK(mobispot_pkce_challenge_valid(chal, strlen(chal))),
           "a challenge of 43");
    TAP_OK(!OK(mobispot_pkce_challenge_valid(chal, 42)), "42 is refused");
    TAP_OK(!OK(mobispot_pkce_challenge_valid("E9Melhoa2OwvFrEMTJguCHaoeK1t"
                                             "8URWbuGJSstw+cM",
                                             43)),
           "not base64url is refused");

    TAP_OK(scope("", &s) && s == 0, "no scope");
    TAP_OK(scope("openid", &s) && s == MOBISPOT_SCOPE_OPENID, "openid");
    TAP_OK(scope("openid offline_access", &s)
               && s == (MOBISPOT_SCOPE_OPENID | MOBISPOT_SCOPE_OFFLINE),
           "openid offline_access");
    TAP_OK(!scope("openid email", &s), "an unknown scope is refused");
    TAP_OK(!scope("openid  offline_access", &s), "two blanks are refused");
    TAP_OK(!scope("openid ", &s), "a trailing blank is refused");
    TAP_OK(!scope(" openid", &s), "a leading blank is refused");

    TAP_OK(listed("https://a/cb https://b/cb", "https://b/cb"), "listed");
    TAP_OK(listed("https://a/cb", "https://a/cb"), "listed alone");
    TAP_OK(!listed("https://a/cb https://b/cb", "https://a/c"), "a prefix");
    TAP_OK(!listed("https://a/cb", "https://a/cb/"), "a longer one");
    TAP_OK(!listed("https://a/cb https://b/cb", "https://a/cb https://b/cb"),
           "the whole list is no URI");
    TAP_OK(!listed("", ""), "nothing in nothing");
    TAP_OK(!listed("https://a/cb", "HTTPS://a/cb"), "byte for byte");

    n = mobispot_url_encode("a b&c=d/~é", 11, out);
    out[n] = '\0';
    TAP_IS_STR(out, "a%20b%26c%3Dd%2F~%C3%A9", "percent-encoded");

    return tap_done();
}
