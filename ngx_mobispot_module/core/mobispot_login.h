
/*
 * Copyright (C) Mobispot
 *
 * The pure rules of the issuer's sign-in (mobispot_login.c): the central
 * session's cookie value, the delays of the sign-in's throttling, the
 * "continue" of a parked authorize request, the PKCE challenge, the
 * scopes, a registered URI in its blank-separated list, and a strict
 * percent-encoder.  Linked by the module (issuer/) and by
 * lua-free-tests/test_login.c; the rules are in docs/sso.md.
 */


#ifndef _MOBISPOT_LOGIN_H_INCLUDED_
#define _MOBISPOT_LOGIN_H_INCLUDED_


#include <stddef.h>


/* a sid: 128 bits, a secret or a code: 256 bits, base64url, no padding */
#define MOBISPOT_LOGIN_SID_LEN        22
#define MOBISPOT_LOGIN_SECRET_LEN     43

/* "<sid>.<secret>" */
#define MOBISPOT_LOGIN_COOKIE_LEN                                           \
    (MOBISPOT_LOGIN_SID_LEN + 1 + MOBISPOT_LOGIN_SECRET_LEN)

/* a parked authorize request: "<prefix>authorize?<its query>" */
#define MOBISPOT_LOGIN_CONTINUE_MAX   8192

/* the longest delay of the throttling, seconds (15 min) */
#define MOBISPOT_LOGIN_DELAY_MAX      900

/* the throttled address of an IPv6 client: "xxxx:xxxx:xxxx:xxxx::/64" */
#define MOBISPOT_LOGIN_ADDR6_LEN      24

/* scopes */
#define MOBISPOT_SCOPE_OPENID         0x01
#define MOBISPOT_SCOPE_OFFLINE        0x02


int mobispot_b64url_valid(const char *s, size_t len);
int mobispot_session_cookie_valid(const char *s, size_t len);
unsigned mobispot_login_delay(unsigned long long fails, unsigned threshold);
int mobispot_continue_valid(const char *prefix, size_t prefix_len,
    const char *s, size_t len);
int mobispot_pkce_challenge_valid(const char *s, size_t len);
int mobispot_scope_parse(const char *s, size_t len, unsigned *scopes);
int mobispot_uri_listed(const char *list, size_t list_len, const char *uri,
    size_t len);
size_t mobispot_url_encode(const char *in, size_t len, char *out);
size_t mobispot_login_addr6(const unsigned char *in6, char *out);


#endif /* _MOBISPOT_LOGIN_H_INCLUDED_ */
