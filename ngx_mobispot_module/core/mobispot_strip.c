/*
 * Copyright (C) Mobispot
 *
 * Taking one named pair out of a Cookie header value ("a=1; tok=x; b=2")
 * or out of a query string ("a=1&tok=x&b=2"), so that the gateway never
 * forwards or echoes a token it read from there.  Names match as nginx
 * finds them ($cookie_NAME, $arg_NAME): without regard to case.
 */


#include <string.h>
#include <strings.h>

#include "core/mobispot_core.h"


static int
mobispot_strip_blank(char c)
{
    return c == ' ' || c == '\t';
}


/* the pair starts with NAME followed by '=' (or ends: a bare name) */

static int
mobispot_strip_match(const char *pair, size_t len, const char *name,
    size_t name_len)
{
    if (len < name_len || strncasecmp(pair, name, name_len) != 0) {
        return 0;
    }

    return len == name_len || pair[name_len] == '=';
}


/*
 * Copies the pairs of in (separated by sep) that are not named NAME to
 * out; joiner is written between two kept pairs, so out needs len bytes
 * plus (joiner_len - 1) per separator of in.  Returns the length written,
 * and *removed the number of pairs left out.
 */

static size_t
mobispot_strip(const char *in, size_t len, char sep, const char *joiner,
    size_t joiner_len, int trim, const char *name, size_t name_len,
    char *out, unsigned *removed)
{
    size_t       n, plen;
    const char  *p, *end, *start, *stop;

    n = 0;
    *removed = 0;
    p = in;
    end = in + len;

    while (p < end) {
        start = p;

        while (p < end && *p != sep) {
            p++;
        }

        stop = p;

        if (p < end) {
            p++;
        }

        if (trim) {
            while (start < stop && mobispot_strip_blank(*start)) {
                start++;
            }

            while (stop > start && mobispot_strip_blank(stop[-1])) {
                stop--;
            }
        }

        plen = stop - start;

        if (plen == 0) {
            continue;
        }

        if (mobispot_strip_match(start, plen, name, name_len)) {
            (*removed)++;
            continue;
        }

        if (n) {
            memcpy(out + n, joiner, joiner_len);
            n += joiner_len;
        }

        memcpy(out + n, start, plen);
        n += plen;
    }

    return n;
}


size_t
mobispot_cookie_strip(const char *in, size_t len, const char *name,
    size_t name_len, char *out, unsigned *removed)
{
    return mobispot_strip(in, len, ';', "; ", 2, 1, name, name_len, out,
                          removed);
}


size_t
mobispot_args_strip(const char *in, size_t len, const char *name,
    size_t name_len, char *out, unsigned *removed)
{
    return mobispot_strip(in, len, '&', "&", 1, 0, name, name_len, out,
                          removed);
}
