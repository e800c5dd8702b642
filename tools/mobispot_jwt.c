
/*
 * Copyright (C) Mobispot
 *
 * mobispot-jwt: mint and inspect Mobispot SSO tokens, for ops, the demo and
 * the tests.  libjwt reads the claims; signing and signature verification
 * are the issuer's own (mobispot_jws.c: libjwt 1.10 writes and accepts no
 * "typ" but "JWT"); the token checks are the gateway's own (mobispot_jwt.c,
 * mobispot_claims.c), so the verdict printed here is the verdict of an
 * nginx with the same key.
 *
 *   mobispot-jwt mint --key FILE --alg ALG [--kid KID] [--ttl SECONDS]
 *                     [--typ TYP] CLAIMS_JSON
 *   mobispot-jwt inspect [--key FILE --alg ALG] [--kid KID] [--iss ISS]
 *                        [--aud AUD] [--leeway SECONDS] [--typ TYP] TOKEN
 *
 * CLAIMS_JSON is a JSON object, or @FILE; mint adds "iat" (now) and "exp"
 * (now + ttl, 3600 by default) when they are absent, and writes the header
 * "typ" TYP (at+jwt by default: an access token; "-" writes none).
 * inspect takes the typ a gateway takes with "mobispot_jwt_typ TYP"
 * (at+jwt by default; "any" takes at+jwt, JWT and none).  An HMAC secret file
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
#include <openssl/pem.h>
#include <yajl/yajl_gen.h>

#include "core/mobispot_jwt.h"
#include "core/mobispot_jwt_sign.h"


#define MOBISPOT_JWT_CLI_MAX_SIZE 65536


typedef struct {
    const char *key_file;
    const char *alg;
    const char *kid;
    const char *iss;
    const char *aud;
    const char *typ;
    long        ttl;
    long        leeway;
} mobispot_cli_opts_t;


static int            mobispot_cli_usage(void);
static char          *mobispot_cli_read(const char *name, size_t *len);
static unsigned char *mobispot_cli_key(const char *file, jwt_alg_t alg,
                                       size_t *len);
static int mobispot_cli_jws_key(const char *file, const char *alg, int private,
                                mobispot_jws_key_t *key);
static int mobispot_cli_mint(mobispot_cli_opts_t *o, const char *claims);
static int mobispot_cli_inspect(mobispot_cli_opts_t *o, const char *token);
static yajl_val mobispot_cli_segment(const char *data, size_t len,
                                     const char **reason);
static void     mobispot_cli_print(const char *title, yajl_val v);


int
main(int argc, char **argv)
{
    int                 i;
    const char         *cmd, *arg;
    mobispot_cli_opts_t o;

    memset(&o, 0, sizeof(o));
    o.ttl = 3600;
    o.typ = MOBISPOT_JWS_TYP_AT;

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

        } else if (strcmp(argv[i], "--typ") == 0) {
            o.typ = argv[++i];

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
            "[--ttl SECONDS] [--typ TYP|-] CLAIMS_JSON|@FILE\n"
            "       mobispot-jwt inspect [--key FILE --alg ALG] [--kid KID] "
            "[--iss ISS] [--aud AUD] [--leeway SECONDS] [--typ TYP|any] "
            "TOKEN\n");
    return 2;
}


static char *
mobispot_cli_read(const char *name, size_t *len)
{
    FILE  *f;
    char  *buf;
    size_t n;

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
    char *key;

    key = mobispot_cli_read(file, len);
    if (key == NULL) {
        return NULL;
    }

    if (alg == JWT_ALG_HS256 || alg == JWT_ALG_HS384 || alg == JWT_ALG_HS512) {
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


/*
 * The key of --key for the core's JWS: an HMAC secret as nginx reads it,
 * or a PEM key (private to sign; a public or private one to verify)
 */

static int
mobispot_cli_jws_key(const char *file, const char *alg, int private,
                     mobispot_jws_key_t *key)
{
    BIO           *bio;
    size_t         len;
    unsigned char *text;

    memset(key, 0, sizeof(mobispot_jws_key_t));
    key->alg = alg;

    text = mobispot_cli_key(file, jwt_str_alg(alg), &len);
    if (text == NULL) {
        return -1;
    }

    if (alg[0] == 'H') {
        key->secret = text;
        key->secret_len = len;
        return 0;
    }

    bio = BIO_new_mem_buf(text, (int) len);

    if (bio != NULL) {
        key->pkey = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                            : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    }

    BIO_free(bio);
    free(text);

    if (key->pkey == NULL) {
        fprintf(stderr, "%s: not a PEM %s key\n", file,
                private ? "private" : "public");
        return -1;
    }

    return 0;
}


static int
mobispot_cli_mint(mobispot_cli_opts_t *o, const char *claims)
{
    int                rc;
    char              *json, *token, *grants;
    jwt_t             *jwt;
    size_t             len;
    time_t             now;
    jwt_alg_t          alg;
    const char        *reason;
    mobispot_jws_key_t key;

    if (o->key_file == NULL || o->alg == NULL) {
        return mobispot_cli_usage();
    }

    alg = jwt_str_alg(o->alg);

    if (alg == JWT_ALG_INVAL || alg == JWT_ALG_NONE
        || strcmp(jwt_alg_str(alg), o->alg) != 0) {
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

    if (mobispot_cli_jws_key(o->key_file, o->alg, 1, &key) != 0) {
        free(json);
        return 2;
    }

    rc = 2;
    token = NULL;
    grants = NULL;
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

    grants = jwt_get_grants_json(jwt, NULL);
    if (grants == NULL) {
        goto done;
    }

    token =
        mobispot_jws_compact(&key, o->kid, strcmp(o->typ, "-") ? o->typ : NULL,
                             grants, strlen(grants), &len, &reason);
    if (token == NULL) {
        fprintf(stderr, "signing failed (is %s a key for %s?): %s\n",
                o->key_file, o->alg, reason);
        goto done;
    }

    printf("%s\n", token);
    rc = 0;

done:

    free(token);
    free(grants);
    jwt_free(jwt);
    free((void *) key.secret);
    EVP_PKEY_free(key.pkey);
    free(json);

    return rc;
}


static int
mobispot_cli_inspect(mobispot_cli_opts_t *o, const char *token)
{
    int                    status;
    size_t                 len, dot1, dot2;
    unsigned               typ;
    yajl_val               header, payload;
    jwt_alg_t              alg;
    long long              exp;
    const char            *reason, *auds[1];
    mobispot_jws_key_t     key;
    mobispot_jwt_header_t  h;
    mobispot_claims_conf_t c;

    header = NULL;
    payload = NULL;
    memset(&key, 0, sizeof(mobispot_jws_key_t));
    reason = "";
    len = strlen(token);

    status = mobispot_jwt_shape(token, len, MOBISPOT_JWT_CLI_MAX_SIZE, &dot1,
                                &dot2, &reason);
    if (status != MOBISPOT_SSO_OK) {
        goto verdict;
    }

    header = mobispot_cli_segment(token, dot1, &reason);
    payload = mobispot_cli_segment(token + dot1 + 1, dot2 - dot1 - 1, &reason);

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

    /* the kinds of token a gateway with "mobispot_jwt_typ TYP" takes */

    typ = strcasecmp(o->typ, "any") == 0
        ? (MOBISPOT_JWT_TYP_AT | MOBISPOT_JWT_TYP_JWT | MOBISPOT_JWT_TYP_ABSENT)
        : strcasecmp(o->typ, "JWT") == 0    ? MOBISPOT_JWT_TYP_JWT
        : strcasecmp(o->typ, "absent") == 0 ? MOBISPOT_JWT_TYP_ABSENT
                                            : MOBISPOT_JWT_TYP_AT;

    if (!(h.typ & typ)) {
        status = MOBISPOT_SSO_MALFORMED;
        reason = "typ not taken (--typ; a gateway's mobispot_jwt_typ)";
        goto verdict;
    }

    if (o->key_file == NULL || o->alg == NULL) {
        printf("verdict: not checked (no --key and --alg)\n");
        status = MOBISPOT_SSO_OK;
        goto done;
    }

    alg = jwt_str_alg(o->alg);

    if (alg == JWT_ALG_INVAL || alg == JWT_ALG_NONE
        || strcmp(jwt_alg_str(alg), o->alg) != 0) {
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
        || (h.kid && strcmp(h.kid, o->kid) != 0)) {
        status = MOBISPOT_SSO_BAD_SIGNATURE;
        reason = "kid does not match the key";
        goto verdict;
    }

    if (mobispot_cli_jws_key(o->key_file, o->alg, 0, &key) != 0) {
        status = -1;
        goto done;
    }

    if (mobispot_jws_verify(&key, token, len, &reason) != 0) {
        status = MOBISPOT_SSO_BAD_SIGNATURE;
        reason = "signature does not verify";
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
        printf("verdict: %s (%s)\n", mobispot_sso_status_name(status), reason);
    }

done:

    if (header) {
        yajl_tree_free(header);
    }

    if (payload) {
        yajl_tree_free(payload);
    }

    free((void *) key.secret);
    EVP_PKEY_free(key.pkey);

    return status == MOBISPOT_SSO_OK ? 0 : (status < 0 ? 2 : 1);
}


static yajl_val
mobispot_cli_segment(const char *data, size_t len, const char **reason)
{
    char    *buf;
    size_t   n;
    yajl_val v;

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
    size_t               len;
    yajl_gen             g;
    const unsigned char *buf;

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
        && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
        printf("%s: %.*s", title, (int) len, buf);
    }

    yajl_gen_free(g);
}
