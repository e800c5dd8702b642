
/*
 * Copyright (C) Mobispot
 *
 * A site gateway's side of the sign-in (mobispot_sso_state.c): the random
 * state and PKCE verifier, the verifier's S256 challenge (RFC 7636 4.2),
 * the short-lived state cookie that keeps the verifier and the return_to
 * between the redirect to authorize and the callback, and the rule of a
 * return_to.  No nginx: linked by lua-free-tests/test_sso_state.c too.
 */


#ifndef _MOBISPOT_SSO_STATE_H_INCLUDED_
#define _MOBISPOT_SSO_STATE_H_INCLUDED_


#include <stddef.h>


/* 32 random bytes in base64url without padding */
#define MOBISPOT_SSO_RANDOM_LEN    43

/* the state cookie: this prefix, then the state (docs/sso.md) */
#define MOBISPOT_SSO_STATE_COOKIE  "__Host-mobispot_state_"

/* a longer return_to is not kept: the callback then returns to "/" */
#define MOBISPOT_SSO_RETURN_MAX    1024

/* the state cookie's value at most: verifier, ".", base64url(return_to) */
#define MOBISPOT_SSO_STATE_VALUE_MAX                                         \
    (MOBISPOT_SSO_RANDOM_LEN + 1 + (MOBISPOT_SSO_RETURN_MAX + 2) / 3 * 4)


int mobispot_sso_random(char *out, size_t size);
int mobispot_sso_random_check(const char *s, size_t len);
int mobispot_pkce_s256(const char *verifier, size_t len, char *out,
    size_t size);
size_t mobispot_sso_state_value(const char *verifier, const char *back,
    size_t len, char *out, size_t size);
int mobispot_sso_state_parse(const char *value, size_t len, char *verifier,
    char *back, size_t size, size_t *back_len);
int mobispot_sso_return_ok(const char *back, size_t len, const char *origin,
    size_t origin_len);


#endif /* _MOBISPOT_SSO_STATE_H_INCLUDED_ */
