
/*
 * Copyright (C) Mobispot
 *
 * mobispot-jwt: mint and inspect Mobispot SSO tokens, for ops, the demo and
 * the tests.  Signing and signature verification are libjwt's; the token
 * checks are the gateway's own (mobispot_jwt.c, mobispot_claims.c), so the
 * verdict printed here is the verdict of an nginx with the same key.
 *
 *   mobispot-jwt mint --key FILE --alg ALG [--kid KID] [--ttl SECONDS]
 *                     CLAIMS_JSON
 *   mobispot-jwt inspect [--key FILE --alg ALG] [--kid KID] [--iss ISS]
 *                        [--aud AUD] [--leeway SECONDS] TOKEN
 *
 * CLAIMS_JSON is a JSON object, or @FILE; mint adds "iat" (now) and "exp"
 * (now + ttl, 3600 by default) when they are absent.  An HMAC secret file
 * loses its trailing end of line, as in nginx.  inspect prints the header,
 * the claims and a verdict line "verdict: ok" or "verdict: STATUS (reason)";
 * its exit code is 0 for ok, 1 for a refused token, 2 for a usage error.
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jwt.h>
#include <yajl/yajl_gen.h>

#include "core/mobispot_jwt.h"


#define MOBISPOT_JWT_CLI_MAX_SIZE  65536


typedef struct {
    const char  *key_file;
    const char  *alg;
    const char  *kid;
    const char  *iss;
    const char  *aud;
    long         ttl;
    long         leeway;
} mobispot_cli_opts_t;


static int mobispot_cli_usage(void);
static char *mobispot_cli_read(const char *name, size_t *len);
static unsigned char *mobispot_cli_key(const char *file, jwt_alg_t alg,
    size_t *len);
static int mobispot_cli_mint(mobispot_cli_opts_t *o, const char *claims);
static int mobispot_cli_inspect(mobispot_cli_opts_t *o, const char *token);
static yajl_val mobispot_cli_segment(const char *data, size_t len,
    const char **reason);
static void mobispot_cli_print(const char *title, yajl_val v);


int
main(int argc, char **argv)
{
    int                   i;
    const char           *cmd, *arg;
    mobispot_cli_opts_t   o;

    memset(&o, 0, sizeof(o));
    o.ttl = 3600;

    if (argc < 3) {
        return mobispot_cli_usage();
    }

    cmd = argv[1];
    arg = NULL;

    for (i = 2; i < argc; i++) {
        if (argv[i][0] != '-' || argv[i][1] != '-') {
            if (arg != NULL) {
                return mobispot_cli_usage();
            }

            arg = argv[i];
            continue;
        }

        if (i + 1 >= argc) {
            return mobispot_cli_usage();
        }

        if (strcmp(argv[i], "--key") == 0) {
            o.key_file = argv[++i];

        } else if (strcmp(argv[i], "--alg") == 0) {
            o.alg = argv[++i];

        } else if (strcmp(argv[i], "--kid") == 0) {
            o.kid = argv[++i];

        } else if (strcmp(argv[i], "--iss") == 0) {
            o.iss = argv[++i];

        } else if (strcmp(argv[i], "--aud") == 0) {
            o.aud = argv[++i];

        } else if (strcmp(argv[i], "--ttl") == 0) {
            o.ttl = atol(argv[++i]);

        } else if (strcmp(argv[i], "--leeway") == 0) {
            o.leeway = atol(argv[++i]);

        } else {
            return mobispot_cli_usage();
        }
    }

    if (arg == NULL) {
        return mobispot_cli_usage();
    }

    if (strcmp(cmd, "mint") == 0) {
        return mobispot_cli_mint(&o, arg);
    }

    if (strcmp(cmd, "inspect") == 0) {
        return mobispot_cli_inspect(&o, arg);
    }

    return mobispot_cli_usage();
}


static int
mobispot_cli_usage(void)
{
    fprintf(stderr,
            "usage: mobispot-jwt mint --key FILE --alg ALG [--kid KID] "
            "[--ttl SECONDS] CLAIMS_JSON|@FILE\n"
            "       mobispot-jwt inspect [--key FILE --alg ALG] [--kid KID] "
            "[--iss ISS] [--aud AUD] [--leeway SECONDS] TOKEN\n");
    return 2;
}


static char *
mobispot_cli_read(const char *name, size_t *len)
{
    FILE    *f;
    char    *buf;
    size_t   n;

    f = fopen(name, "rb");
    if (f == NULL) {
        perror(name);
        return NULL;
    }

    buf = malloc(MOBISPOT_JWT_CLI_MAX_SIZE + 1);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }

    n = fread(buf, 1, MOBISPOT_JWT_CLI_MAX_SIZE + 1, f);
    fclose(f);

    if (n == 0 || n > MOBISPOT_JWT_CLI_MAX_SIZE) {
        fprintf(stderr, "%s: empty or larger than %d bytes\n", name,
                MOBISPOT_JWT_CLI_MAX_SIZE);
        free(buf);
        return NULL;
    }

    buf[n] = '\0';
    *len = n;

    return buf;
}


/* the key material as nginx uses it; an HMAC secret never is a PEM */

static unsigned char *
mobispot_cli_key(const char *file, jwt_alg_t alg, size_t *len)
{
    char  *key;

    key = mobispot_cli_read(file, len);
    if (key == NULL) {
        return NULL;
    }

    if (alg == JWT_ALG_HS256 || alg == JWT_ALG_HS384 || alg == JWT_ALG_HS512)
    {
        while (*len && (key[*len - 1] == '\n' || key[*len - 1] == '\r')) {
            key[--*len] = '\0';
        }

        if (strstr(key, "-----BEGIN") != NULL) {
            fprintf(stderr, "%s holds a PEM key: not an HMAC secret\n", file);
            free(key);
            return NULL;
        }
    }

    return (unsigned char *) key;
}


static int
mobispot_cli_mint(mobispot_cli_opts_t *o, const char *claims)
{
    int             rc;
    char           *json, *token;
    jwt_t          *jwt;
    size_t          len, klen;
    time_t          now;
    jwt_alg_t       alg;
    unsigned char  *key;

    if (o->key_file == NULL || o->alg == NULL) {
        return mobispot_cli_usage();
    }

    alg = jwt_str_alg(o->alg);

    if (alg == JWT_ALG_INVAL || alg == JWT_ALG_NONE
        || strcmp(jwt_alg_str(alg), o->alg) != 0)
    {
        fprintf(stderr, "unsupported alg \"%s\"\n", o->alg);
        return 2;
    }

    if (claims[0] == '@') {
        json = mobispot_cli_read(claims + 1, &len);
        if (json == NULL) {
            return 2;
        }

    } else {
        json = strdup(claims);
        if (json == NULL) {
            return 2;
        }
    }

    key = mobispot_cli_key(o->key_file, alg, &klen);
    if (key == NULL) {
        free(json);
        return 2;
    }

    rc = 2;
    token = NULL;
    jwt = NULL;
    now = time(NULL);

    if (jwt_new(&jwt) != 0 || jwt_add_grants_json(jwt, json) != 0) {
        fprintf(stderr, "claims are not a JSON object\n");
        goto done;
    }

    /* libjwt reports an absent grant with ENOENT */

    errno = 0;
    (void) jwt_get_grant_int(jwt, "iat");

    if (errno == ENOENT) {
        jwt_add_grant_int(jwt, "iat", (long) now);
    }

    errno = 0;
    (void) jwt_get_grant_int(jwt, "exp");

    if (errno == ENOENT) {
        jwt_add_grant_int(jwt, "exp", (long) now + o->ttl);
    }

    if (o->kid && jwt_add_header(jwt, "kid", o->kid) != 0) {
        goto done;
    }

    if (jwt_set_alg(jwt, alg, key, (int) klen) != 0) {
        fprintf(stderr, "cannot use the key for %s\n", o->alg);
        goto done;
    }

    token = jwt_encode_str(jwt);
    if (token == NULL) {
        fprintf(stderr, "signing failed (is %s a private key for %s?)\n",
                o->key_file, o->alg);
        goto done;
    }

    printf("%s\n", token);
    rc = 0;

done:

    free(token);
    jwt_free(jwt);
    free(key);
    free(json);

    return rc;
}


static int
mobispot_cli_inspect(mobispot_cli_opts_t *o, const char *token)
{
    int                     status;
    char                   *copy;
    jwt_t                  *jwt;
    size_t                  len, dot1, dot2, klen;
    yajl_val                header, payload;
    jwt_alg_t               alg;
    long long               exp;
    const char             *reason, *auds[1];
    unsigned char          *key;
    mobispot_jwt_header_t   h;
    mobispot_claims_conf_t  c;

    header = NULL;
    payload = NULL;
    key = NULL;
    reason = "";
    len = strlen(token);

    status = mobispot_jwt_shape(token, len, MOBISPOT_JWT_CLI_MAX_SIZE, &dot1,
                                &dot2, &reason);
    if (status != MOBISPOT_SSO_OK) {
        goto verdict;
    }

    header = mobispot_cli_segment(token, dot1, &reason);
    payload = mobispot_cli_segment(token + dot1 + 1, dot2 - dot1 - 1,
                                   &reason);

    mobispot_cli_print("header", header);
    mobispot_cli_print("claims", payload);

    if (header == NULL || payload == NULL) {
        status = MOBISPOT_SSO_MALFORMED;
        goto verdict;
    }

    status = mobispot_jwt_header_check(header, &h, &reason);
    if (status != MOBISPOT_SSO_OK) {
        goto verdict;
    }

    if (o->key_file == NULL || o->alg == NULL) {
        printf("verdict: not checked (no --key and --alg)\n");
        status = MOBISPOT_SSO_OK;
        goto done;
    }

    alg = jwt_str_alg(o->alg);

    if (alg == JWT_ALG_INVAL || alg == JWT_ALG_NONE
        || strcmp(jwt_alg_str(alg), o->alg) != 0)
    {
        fprintf(stderr, "unsupported alg \"%s\"\n", o->alg);
        status = -1;
        goto done;
    }

    if (strcmp(h.alg, o->alg) != 0) {
        status = MOBISPOT_SSO_BAD_SIGNATURE;
        reason = "alg does not match the key";
        goto verdict;
    }

    if ((h.kid == NULL) != (o->kid == NULL)
        || (h.kid && strcmp(h.kid, o->kid) != 0))
    {
        status = MOBISPOT_SSO_BAD_SIGNATURE;
        reason = "kid does not match the key";
        goto verdict;
    }

    key = mobispot_cli_key(o->key_file, alg, &klen);
    if (key == NULL) {
        status = -1;
        goto done;
    }

    copy = strdup(token);
    jwt = NULL;

    if (copy == NULL
        || jwt_decode(&jwt, copy, key, (int) klen) != 0
        || jwt == NULL
        || jwt_get_alg(jwt) != alg)
    {
        status = MOBISPOT_SSO_BAD_SIGNATURE;
        reason = "signature does not verify";
    }

    jwt_free(jwt);
    free(copy);

    if (status != MOBISPOT_SSO_OK) {
        goto verdict;
    }

    memset(&c, 0, sizeof(c));
    c.issuer = o->iss;
    c.leeway = o->leeway;

    if (o->aud) {
        auds[0] = o->aud;
        c.audiences = auds;
        c.naudiences = 1;
    }

    status = mobispot_claims_check(payload, &c, (long long) time(NULL), &exp,
                                   &reason);

verdict:

    if (status == MOBISPOT_SSO_OK) {
        printf("verdict: ok\n");

    } else {
        printf("verdict: %s (%s)\n", mobispot_sso_status_name(status),
               reason);
    }

done:

    if (header) {
        yajl_tree_free(header);
    }

    if (payload) {
        yajl_tree_free(payload);
    }

    free(key);

    return status == MOBISPOT_SSO_OK ? 0 : (status < 0 ? 2 : 1);
}


static yajl_val
mobispot_cli_segment(const char *data, size_t len, const char **reason)
{
    char      *buf;
    size_t     n;
    yajl_val   v;

    buf = malloc(mobispot_b64url_decoded_max(len) + 1);
    if (buf == NULL) {
        return NULL;
    }

    if (mobispot_b64url_decode(data, len, (unsigned char *) buf, &n) != 0) {
        *reason = "invalid base64url";
        free(buf);
        return NULL;
    }

    buf[n] = '\0';
    v = mobispot_jwt_json(buf, n, reason);
    free(buf);

    return v;
}


static void
mobispot_cli_print(const char *title, yajl_val v)
{
    size_t                len;
    yajl_gen              g;
    const unsigned char  *buf;

    if (v == NULL) {
        printf("%s: (not a JSON object)\n", title);
        return;
    }

    g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return;
    }

    yajl_gen_config(g, yajl_gen_beautify, 1);

    if (mobispot_json_value(g, v) == 0
        && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
    {
        printf("%s: %.*s", title, (int) len, buf);
    }

    yajl_gen_free(g);
}
