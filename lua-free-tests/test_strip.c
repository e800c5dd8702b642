/*
 * Copyright (C) Mobispot
 *
 * Taking the token's pair out of a Cookie value or a query string.
 */

#include "tap.h"
#include "core/mobispot_core.h"

static char     out[512];
static unsigned removed;

static const char *
cookie(const char *in, const char *name)
{
    size_t n;

    n = mobispot_cookie_strip(in, strlen(in), name, strlen(name), out,
                              &removed);
    out[n] = '\0';
    return out;
}

static const char *
args(const char *in, const char *name)
{
    size_t n;

    n = mobispot_args_strip(in, strlen(in), name, strlen(name), out, &removed);
    out[n] = '\0';
    return out;
}

int
main(void)
{
    TAP_IS_STR(cookie("a=1; ms_sso=x.y.z; b=2", "ms_sso"), "a=1; b=2",
               "the token cookie between two others");
    TAP_IS_INT(removed, 1, "one removed");
    TAP_IS_STR(cookie("ms_sso=x", "ms_sso"), "", "the only cookie");
    TAP_IS_STR(cookie("MS_SSO=x;ms_sso=y;a=1", "ms_sso"), "a=1",
               "every pair of the name, in any case");
    TAP_IS_INT(removed, 2, "two removed");
    TAP_IS_STR(cookie("ms_sso_2=x; xms_sso=y", "ms_sso"),
               "ms_sso_2=x; xms_sso=y", "longer names are other cookies");
    TAP_IS_INT(removed, 0, "none removed");
    TAP_IS_STR(cookie("a=1;b=2;;c", "ms_sso"), "a=1; b=2; c",
               "empty pairs dropped, the rest kept");
    TAP_IS_STR(cookie("", "ms_sso"), "", "an empty value");
    TAP_IS_STR(cookie("  ms_sso  ; a=1", "ms_sso"), "a=1", "a bare name");

    TAP_IS_STR(args("a=1&tok=x&b=2", "tok"), "a=1&b=2", "the argument");
    TAP_IS_STR(args("tok=x", "tok"), "", "the only argument");
    TAP_IS_STR(args("TOK=x&tok=y&tokens=3", "tok"), "tokens=3",
               "every argument of the name, in any case");
    TAP_IS_INT(removed, 2, "two removed");
    TAP_IS_STR(args("a=%20b&&c=", "tok"),
               "a=%20b&c=", "empty pairs dropped, values kept as they are");

    return tap_done();
}
