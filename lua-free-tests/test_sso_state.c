/*
 * Copyright (C) Mobispot
 *
 * A site gateway's sign-in: random values, the PKCE S256 challenge, the
 * state cookie's value and the rule of a return_to.
 */

#include "tap.h"
#include "core/mobispot_core.h"
#include "core/mobispot_sso_state.h"

#define ORIGIN "https://namur.example"

static int
ret_ok(const char *s)
{
    return mobispot_sso_return_ok(s, strlen(s), ORIGIN, strlen(ORIGIN));
}

int
main(void)
{
    char   a[64], b[64], ch[64], v[64], back[MOBISPOT_SSO_RETURN_MAX + 8];
    char   value[MOBISPOT_SSO_STATE_VALUE_MAX + 8], big[2048];
    size_t n, len;

    /* random values */
    TAP_OK(mobispot_sso_random(a, sizeof(a)) == MOBISPOT_OK, "random");
    TAP_OK(mobispot_sso_random(b, sizeof(b)) == MOBISPOT_OK, "random again");
    TAP_IS_INT((int) strlen(a), 43, "43 characters");
    TAP_OK(strcmp(a, b) != 0, "two differ");
    TAP_OK(mobispot_sso_random_check(a, 43) == MOBISPOT_OK, "checked");
    TAP_OK(mobispot_sso_random(a, 43) == MOBISPOT_ERROR, "no room for NUL");
    TAP_OK(mobispot_sso_random_check(a, 42) == MOBISPOT_ERROR, "42 chars");
    strcpy(b, a);
    b[5] = '+';
    TAP_OK(mobispot_sso_random_check(b, 43) == MOBISPOT_ERROR, "a '+'");
    b[5] = '=';
    TAP_OK(mobispot_sso_random_check(b, 43) == MOBISPOT_ERROR, "a '='");
    b[5] = '\0';
    TAP_OK(mobispot_sso_random_check(b, 43) == MOBISPOT_ERROR, "a NUL");

    /* RFC 7636 appendix B */
    TAP_OK(mobispot_pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", 43,
                              ch, sizeof(ch))
               == MOBISPOT_OK,
           "S256 of the RFC's verifier");
    TAP_IS_STR(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
               "the RFC's challenge");
    TAP_OK(mobispot_pkce_s256("short", 5, ch, sizeof(ch)) == MOBISPOT_ERROR,
           "a verifier under 43 characters");
    memset(big, 'a', 129);
    TAP_OK(mobispot_pkce_s256(big, 128, ch, sizeof(ch)) == MOBISPOT_OK,
           "128 characters");
    TAP_OK(mobispot_pkce_s256(big, 129, ch, sizeof(ch)) == MOBISPOT_ERROR,
           "129 characters");
    TAP_OK(mobispot_pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX/", 43,
                              ch, sizeof(ch))
               == MOBISPOT_ERROR,
           "a '/' in a verifier");
    TAP_OK(mobispot_pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", 43,
                              ch, 43)
               == MOBISPOT_ERROR,
           "no room");

    /* the state cookie's value, there and back */
    (void) mobispot_sso_random(v, sizeof(v));
    n = mobispot_sso_state_value(v, ORIGIN "/a?b=1;c", 28, value,
                                 sizeof(value));
    TAP_OK(n > 44 && value[43] == '.', "a value: verifier, '.'");
    TAP_OK(strchr(value, ';') == NULL
               || (size_t) (strchr(value, ';') - value) >= n,
           "no ';' in it");
    TAP_OK(mobispot_sso_state_parse(value, n, a, back, sizeof(back), &len)
               == MOBISPOT_OK,
           "parsed");
    TAP_IS_STR(a, v, "the verifier back");
    TAP_OK(len == 28 && memcmp(back, ORIGIN "/a?b=1;c", 28) == 0,
           "the return_to back");
    TAP_OK(mobispot_sso_state_parse(value, n - 1, a, back, sizeof(back), &len)
               == MOBISPOT_ERROR,
           "cut short: not canonical base64url");
    TAP_OK(mobispot_sso_state_parse(value, 43, a, back, sizeof(back), &len)
               == MOBISPOT_ERROR,
           "no '.'");
    TAP_OK(mobispot_sso_state_parse(value, 44, a, back, sizeof(back), &len)
                   == MOBISPOT_OK
               && len == 0,
           "an empty return_to");
    value[3] = '%';
    TAP_OK(mobispot_sso_state_parse(value, n, a, back, sizeof(back), &len)
               == MOBISPOT_ERROR,
           "a bad verifier");
    TAP_OK(mobispot_sso_state_parse("", 0, a, back, sizeof(back), &len)
               == MOBISPOT_ERROR,
           "empty");
    memset(big, 'A', sizeof(big));
    memcpy(big, v, 43);
    big[43] = '.';
    TAP_OK(
        mobispot_sso_state_parse(big, sizeof(big), a, back, sizeof(back), &len)
            == MOBISPOT_ERROR,
        "too long");
    memset(big, 'x', MOBISPOT_SSO_RETURN_MAX + 1);
    TAP_OK(mobispot_sso_state_value(v, big, MOBISPOT_SSO_RETURN_MAX, value,
                                    sizeof(value))
               > 0,
           "a return_to of the longest length");
    n = mobispot_sso_state_value(v, big, MOBISPOT_SSO_RETURN_MAX, value,
                                 sizeof(value));
    TAP_OK(
        n <= MOBISPOT_SSO_STATE_VALUE_MAX
            && mobispot_sso_state_parse(value, n, a, back, sizeof(back), &len)
                == MOBISPOT_OK
            && len == MOBISPOT_SSO_RETURN_MAX,
        "read back");
    TAP_OK(mobispot_sso_state_value(v, big, MOBISPOT_SSO_RETURN_MAX + 1, value,
                                    sizeof(value))
               == 0,
           "one byte more is not kept");
    TAP_OK(mobispot_sso_state_value("bad", "x", 1, value, sizeof(value)) == 0,
           "a bad verifier is not written");
    TAP_OK(mobispot_sso_state_value(v, "x", 1, value, 45) == 0, "no room");

    /* return_to */
    TAP_OK(ret_ok(ORIGIN "/"), "the site's root");
    TAP_OK(ret_ok(ORIGIN "/a/b?c=%20d"), "a path and query");
    TAP_OK(!ret_ok(ORIGIN), "no path");
    TAP_OK(!ret_ok(ORIGIN ".evil.example/"), "another host");
    TAP_OK(!ret_ok(ORIGIN ":8443/"), "another port");
    TAP_OK(!ret_ok(ORIGIN "@evil.example/"), "a user part");
    TAP_OK(!ret_ok("https://evil.example/"), "another site");
    TAP_OK(!ret_ok("/relative"), "relative");
    TAP_OK(!ret_ok(ORIGIN "/a b"), "a blank");
    TAP_OK(!ret_ok(ORIGIN "/a\r\nSet-Cookie: x=1"), "CR LF");
    TAP_OK(!ret_ok(ORIGIN "/caf\xc3\xa9"), "a byte above 0x7e");
    TAP_OK(mobispot_sso_return_ok("x", 1, "", 0) == 0, "no origin");

    return tap_done();
}
