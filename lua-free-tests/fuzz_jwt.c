/*
 * Copyright (C) Mobispot
 *
 * libFuzzer target: the gateway's token checks (shape, base64url, strict
 * JSON, header, claims, entitlement) on any bytes, as the module runs them
 * before libjwt sees a token: no out-of-bounds access, no leak, and what
 * passes the shape check has exactly two dots.
 */

#include <stdlib.h>
#include <string.h>

#include "core/mobispot_jwt.h"


static yajl_val
segment(const char *s, size_t len)
{
    size_t         n;
    yajl_val       v;
    const char    *reason;
    unsigned char *buf;

    buf = malloc(mobispot_b64url_decoded_max(len) + 1);
    if (buf == NULL) {
        return NULL;
    }

    if (mobispot_b64url_decode(s, len, buf, &n) != 0) {
        free(buf);
        return NULL;
    }

    buf[n] = '\0';
    v = mobispot_jwt_json((const char *) buf, n, &reason);
    free(buf);

    return v;
}


int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char                  *copy;
    size_t                 d1, d2, i, dots;
    yajl_val               h, p;
    long long              exp;
    const char            *reason;
    const char            *auds[] = {"namur"};
    const char            *nets[] = {"cowallonia", "swc"};
    const char            *pass[] = {"cowallonia-pass", NULL};
    mobispot_jwt_header_t  hdr;
    mobispot_claims_conf_t c;

    copy = malloc(size ? size : 1);
    memcpy(copy, data, size);

    if (mobispot_jwt_shape(copy, size, 8192, &d1, &d2, &reason)
        == MOBISPOT_SSO_OK) {
        for (i = 0, dots = 0; i < size; i++) {
            dots += (copy[i] == '.');
        }

        if (dots != 2 || d1 >= d2 || d2 >= size - 1) {
            abort();
        }

        h = segment(copy, d1);
        p = segment(copy + d1 + 1, d2 - d1 - 1);

        if (h != NULL) {
            (void) mobispot_jwt_header_check(h, &hdr, &reason);
            yajl_tree_free(h);
        }

        if (p != NULL) {
            memset(&c, 0, sizeof(c));
            c.issuer = "https://sso.mobispot.test";
            c.audiences = auds;
            c.naudiences = 1;
            c.leeway = 30;

            (void) mobispot_claims_check(p, &c, 1700000000LL, &exp, &reason);
            (void) mobispot_claims_entitled(p, nets, pass, 2, &reason);
            (void) mobispot_claims_zone(p, "wallonia", &reason);
            (void) mobispot_claims_zone(p, NULL, &reason);
            yajl_tree_free(p);
        }
    }

    /* the JSON parser alone, on the raw bytes */

    copy = realloc(copy, size + 1);
    copy[size] = '\0';
    p = mobispot_jwt_json(copy, size, &reason);
    if (p != NULL) {
        yajl_tree_free(p);
    }

    free(copy);
    return 0;
}
