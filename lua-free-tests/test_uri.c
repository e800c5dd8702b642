/*
 * Copyright (C) Mobispot
 *
 * The redirect URIs a client may register.
 */

#include "tap.h"
#include "core/mobispot_uri.h"

static const char *
check(const char *s, unsigned flags)
{
    return mobispot_redirect_uri_check(s, strlen(s), flags);
}

#define TAKEN(s, f)   TAP_OK(check(s, f) == NULL, "taken: %s", s)
#define REFUSED(s, f) TAP_OK(check(s, f) != NULL, "refused: %s", s)

int
main(void)
{
    char long_uri[MOBISPOT_URI_MAX + 2];
    int  pu = MOBISPOT_URI_PRIVATE_USE;

    TAKEN("https://namur.cowallonia.be/sso/callback", 0);
    TAKEN("https://namur.cowallonia.be", 0);
    TAKEN("https://namur.cowallonia.be:8443/cb?x=1&y=%2F", 0);
    TAKEN("https://[2001:db8::1]:443/cb", 0);
    TAKEN("https://192.0.2.1/cb", 0);
    TAKEN("https://x/a/b;c=d/(e)*+,!$'~", 0);
    TAKEN("http://127.0.0.1/cb", 0);
    TAKEN("http://127.0.0.1:51004/cb", 0);
    TAKEN("http://[::1]:8080/cb", 0);
    TAKEN("http://localhost:3000/", 0);
    TAKEN("com.example.app:/cb", pu);
    TAKEN("be.mobispot.app:/oauth2redirect/mobispot", pu);

    REFUSED("", 0);
    REFUSED("/cb", 0);
    REFUSED("//namur.cowallonia.be/cb", 0);
    REFUSED("namur.cowallonia.be/cb", 0);
    REFUSED("HTTPS://namur.cowallonia.be/cb", 0);
    REFUSED("https:namur.cowallonia.be", 0);
    REFUSED("https:/namur.cowallonia.be", 0);
    REFUSED("https://", 0);
    REFUSED("https:///cb", 0);
    REFUSED("https://:443/cb", 0);
    REFUSED("https://namur.cowallonia.be/cb#frag", 0);
    REFUSED("https://namur.cowallonia.be/cb#", 0);
    REFUSED("https://user@namur.cowallonia.be/cb", 0);
    REFUSED("https://user:pw@namur.cowallonia.be/cb", 0);
    REFUSED("https://evil.example@namur.cowallonia.be", 0);
    REFUSED("https://namur.cowallonia.be:0/cb", 0);
    REFUSED("https://namur.cowallonia.be:65536/cb", 0);
    REFUSED("https://namur.cowallonia.be:/cb", 0);
    REFUSED("https://namur.cowallonia.be:443443/cb", 0);
    REFUSED("https://namur.cowallonia.be:44x/cb", 0);
    REFUSED("https://nam_ur.be/cb", 0);
    REFUSED("https://[::1/cb", 0);
    REFUSED("https://[]/cb", 0);
    REFUSED("https://[::g]/cb", 0);
    REFUSED("https://namur.cowallonia.be/c b", 0);
    REFUSED("https://namur.cowallonia.be/c\tb", 0);
    REFUSED("https://namur.cowallonia.be/c\nb", 0);
    REFUSED("https://namur.cowallonia.be/c\\b", 0);
    REFUSED("https://namur.cowallonia.be/c\"b", 0);
    REFUSED("https://namur.cowallonia.be/<script>", 0);
    REFUSED("https://namur.cowallonia.be/{x}", 0);
    REFUSED("https://namur.cowallonia.be/caf\xc3\xa9", 0);
    REFUSED("https://namur.cowallonia.be/%zz", 0);
    REFUSED("https://namur.cowallonia.be/%4", 0);
    REFUSED("https://namur.cowallonia.be/%", 0);
    TAP_OK(mobispot_redirect_uri_check("https://x/\0y", 12, 0) != NULL,
           "refused: a NUL inside");
    REFUSED("http://namur.cowallonia.be/cb", 0);
    REFUSED("http://127.0.0.2/cb", 0);
    REFUSED("http://127.0.0.1.evil.example/cb", 0);
    REFUSED("http://localhost.evil.example/cb", 0);
    REFUSED("http://[::2]/cb", 0);
    REFUSED("http://LOCALHOST/cb", 0);
    REFUSED("com.example.app:/cb", 0);
    REFUSED("com.example.app://cb", pu);
    REFUSED("com.example.app:cb", pu);
    REFUSED("com.example.app:", pu);
    REFUSED("myapp:/cb", pu);
    REFUSED("javascript:alert(1)", pu);
    REFUSED("data:text/html,x", pu);
    REFUSED("file:///etc/passwd", pu);
    REFUSED("Com.example.app:/cb", pu);
    REFUSED("1com.example.app:/cb", pu);
    REFUSED("com.exa_mple.app:/cb", pu);

    memset(long_uri, 'a', sizeof(long_uri));
    memcpy(long_uri, "https://x/", 10);
    long_uri[MOBISPOT_URI_MAX] = '\0';
    TAP_OK(check(long_uri, 0) == NULL, "a URI of 2048 bytes is taken");
    long_uri[MOBISPOT_URI_MAX] = 'a';
    long_uri[MOBISPOT_URI_MAX + 1] = '\0';
    TAP_OK(check(long_uri, 0) != NULL, "one of 2049 bytes is not");
    TAP_OK(mobispot_redirect_uri_check(NULL, 0, 0) != NULL, "NULL is not");

    return tap_done();
}
