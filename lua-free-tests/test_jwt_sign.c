/*
 * Copyright (C) Mobispot
 *
 * The issuer's signing core (core/mobispot_jwt_sign.c): keys, JWKs,
 * access token claims and compact JWS, for ES256 and RS256.  Every token
 * signed here is verified twice: by libjwt with the public key, and by the
 * gateway's own rules (core/mobispot_jwt.c: shape, header, claims); a
 * tampered token fails.
 */

#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tap.h"
#include "core/mobispot_jwt.h"
#include "core/mobispot_jwt_sign.h"


#define NOW 1700000000LL


/* the public key as PEM text (malloc()ed), as a gateway has it */

static char *
public_pem(EVP_PKEY *pkey)
{
    BIO  *bio;
    char *data, *out;
    long  n;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
        BIO_free(bio);
        return NULL;
    }

    n = BIO_get_mem_data(bio, &data);
    out = malloc(n + 1);
    memcpy(out, data, n);
    out[n] = '\0';
    BIO_free(bio);

    return out;
}


/* libjwt's verdict: 0 when it verifies the token with the public key */

static int
libjwt_verify(EVP_PKEY *pkey, const char *token, jwt_alg_t alg)
{
    int    rc;
    char  *pem;
    jwt_t *jwt;

    pem = public_pem(pkey);
    jwt = NULL;

    rc = jwt_decode(&jwt, token, (unsigned char *) pem, (int) strlen(pem));

    if (rc == 0 && jwt_get_alg(jwt) != alg) {
        rc = -1;
    }

    jwt_free(jwt);
    free(pem);

    return rc;
}


/* a segment of the token, decoded and parsed as the gateway does */

static yajl_val
segment(const char *token, size_t from, size_t to)
{
    size_t         n;
    yajl_val       v;
    const char    *reason;
    unsigned char *buf;

    buf = malloc(mobispot_b64url_decoded_max(to - from) + 1);

    if (mobispot_b64url_decode(token + from, to - from, buf, &n) != 0) {
        free(buf);
        return NULL;
    }

    buf[n] = '\0';
    v = mobispot_jwt_json((char *) buf, n, &reason);
    free(buf);

    return v;
}


/* the gateway's checks, signature aside: shape, header, claims */

static int
gateway_rules(const char *token, const char *alg, const char *kid, unsigned typ)
{
    int                    rc;
    size_t                 d1, d2;
    yajl_val               header, payload;
    long long              exp;
    const char            *reason, *aud[1];
    mobispot_jwt_header_t  h;
    mobispot_claims_conf_t conf;

    if (mobispot_jwt_shape(token, strlen(token), 8192, &d1, &d2, &reason)
        != MOBISPOT_SSO_OK) {
        return -1;
    }

    header = segment(token, 0, d1);
    payload = segment(token, d1 + 1, d2);
    rc = -1;

    if (header == NULL || payload == NULL
        || mobispot_jwt_header_check(header, &h, &reason) != MOBISPOT_SSO_OK
        || strcmp(h.alg, alg) != 0 || h.kid == NULL || strcmp(h.kid, kid) != 0
        || h.typ != typ) {
        goto done;
    }

    aud[0] = "namur";
    memset(&conf, 0, sizeof(conf));
    conf.issuer = "https://sso.mobispot.test";
    conf.audiences = aud;
    conf.naudiences = 1;
    conf.max_lifetime = 3600;

    rc = mobispot_claims_check(payload, &conf, NOW + 10, &exp, &reason);

done:

    if (header) {
        yajl_tree_free(header);
    }

    if (payload) {
        yajl_tree_free(payload);
    }

    return rc;
}


/* the claims every case starts from */

static void
claims_base(mobispot_at_claims_t *c, const char *client_id, long long ttl)
{
    memset(c, 0, sizeof(mobispot_at_claims_t));
    c->iss = "https://sso.mobispot.test";
    c->sub = "alice";
    c->aud = "namur";
    c->sid = "sess-1";
    c->client_id = client_id;
    c->iat = NOW;
    c->exp = NOW + ttl;
}


static char *
claims_text(size_t *len)
{
    const char          *reason;
    mobispot_at_claims_t c;

    static const char *nets[] = {"cowallonia", "swc"};
    static const char *roles[] = {"admin"};

    claims_base(&c, "site-namur", 900);
    c.pass = "cowallonia-pass";
    c.company = "acme";
    c.nets = nets;
    c.nnets = 2;
    c.zones = nets;
    c.nzones = 0;
    c.roles = roles;
    c.nroles = 1;

    return mobispot_at_claims(&c, len, &reason);
}


/* the module's own check of the signature (core/mobispot_jws.c) */

static int
own_verify(EVP_PKEY *pkey, const char *alg, const char *token)
{
    const char        *reason;
    mobispot_jws_key_t key;

    memset(&key, 0, sizeof(key));
    key.alg = alg;
    key.pkey = pkey;

    return mobispot_jws_verify(&key, token, strlen(token), &reason);
}


/*
 * the verdicts on the token with one character changed at i: libjwt's
 * (bit 0) and the module's (bit 1); 3 when both refuse it
 */

static int
tampered(EVP_PKEY *pkey, const char *alg, const char *token, size_t i,
         jwt_alg_t jalg)
{
    int   rc;
    char *bad;

    bad = strdup(token);
    bad[i] = (bad[i] == 'A') ? 'B' : 'A';
    rc = (libjwt_verify(pkey, bad, jalg) != 0)
        | (own_verify(pkey, alg, bad) != 0) << 1;
    free(bad);

    return rc;
}


static void
sign_and_verify(EVP_PKEY *pkey, const char *alg, jwt_alg_t jalg)
{
    char       *claims, *tok, *idt, *dot;
    size_t      clen, len, ilen;
    const char *reason;

    claims = claims_text(&clen);
    TAP_OK(claims != NULL, "%s: claims built", alg);

    tok = mobispot_jws_sign(pkey, "k-2026", MOBISPOT_JWS_TYP_AT, claims, clen,
                            &len, &reason);
    TAP_OK(tok != NULL && strlen(tok) == len, "%s: access token signed", alg);

    TAP_IS_INT(gateway_rules(tok, alg, "k-2026", MOBISPOT_JWT_TYP_AT),
               MOBISPOT_SSO_OK,
               "%s: shape, header (at+jwt, kid) and claims "
               "pass the gateway's rules",
               alg);

    dot = strrchr(tok, '.');

    if (alg[0] == 'E') {
        TAP_IS_INT(strlen(dot + 1), 86, "ES256: r || s is 64 bytes");
    }

    /*
     * libjwt 1.10 refuses any typ but "JWT": the same claims signed as an
     * ID token's header prove the signature; the access token's own
     * signature must fail libjwt only because of its typ
     */

    TAP_IS_INT(own_verify(pkey, alg, tok), 0,
               "%s: the module verifies the access token's signature", alg);
    TAP_OK(own_verify(pkey, alg[0] == 'E' ? "ES384" : "RS512", tok) != 0,
           "%s: not with another algorithm", alg);
    TAP_OK(libjwt_verify(pkey, tok, jalg) != 0,
           "%s: libjwt 1.10 refuses typ at+jwt", alg);

    idt = mobispot_jws_sign(pkey, "k-2026", MOBISPOT_JWS_TYP_ID, claims, clen,
                            &ilen, &reason);
    TAP_IS_INT(libjwt_verify(pkey, idt, jalg), 0,
               "%s: libjwt verifies the signature with the public key", alg);
    TAP_IS_INT(own_verify(pkey, alg, idt), 0,
               "%s: the module verifies the ID token's signature", alg);
    TAP_IS_INT(gateway_rules(idt, alg, "k-2026", MOBISPOT_JWT_TYP_JWT),
               MOBISPOT_SSO_OK, "%s: typ JWT told apart", alg);

    /* tampered: a payload byte, then a signature byte */

    TAP_IS_INT(tampered(pkey, alg, idt, strchr(idt, '.') - idt + 3, jalg), 3,
               "%s: a tampered payload fails both", alg);
    TAP_IS_INT(tampered(pkey, alg, idt, strrchr(idt, '.') - idt + 5, jalg), 3,
               "%s: a tampered signature fails both", alg);
    TAP_IS_INT(tampered(pkey, alg, tok, 3, jalg), 3,
               "%s: a tampered access token header fails both", alg);

    free(idt);
    free(tok);
    free(claims);
}


static void
jwk(EVP_PKEY *pkey, const char *kty, const char **members)
{
    size_t               n, i;
    yajl_gen             g;
    yajl_val             v, m;
    const char          *reason;
    const unsigned char *buf;

    g = yajl_gen_alloc(NULL);
    TAP_IS_INT(mobispot_jwk_gen(g, pkey, "k-1", &reason), 0, "%s: JWK written",
               kty);
    yajl_gen_get_buf(g, &buf, &n);

    v = mobispot_jwt_json((const char *) buf, n, &reason);
    TAP_OK(v != NULL, "%s: the JWK is one strict JSON object", kty);

    for (i = 0; members[i]; i += 2) {
        m = mobispot_json_member(v, members[i]);

        if (members[i + 1][0] == '#') {
            TAP_IS_INT(m && YAJL_IS_STRING(m) ? strlen(m->u.string) : 0,
                       atoi(members[i + 1] + 1), "%s: %s has %s characters",
                       kty, members[i], members[i + 1] + 1);
        } else {
            TAP_IS_STR(m && YAJL_IS_STRING(m) ? m->u.string : "",
                       members[i + 1], "%s: %s", kty, members[i]);
        }
    }

    TAP_OK(mobispot_json_member(v, "d") == NULL, "%s: no private member", kty);

    yajl_tree_free(v);
    yajl_gen_free(g);
}


static void
refused_keys(void)
{
    EVP_PKEY   *k;
    const char *reason;

    k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    TAP_OK(mobispot_jws_alg(k, &reason) == NULL, "EC P-384 refused: %s",
           reason);
    EVP_PKEY_free(k);

    k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
    TAP_OK(mobispot_jws_alg(k, &reason) == NULL, "RSA 1024 refused: %s",
           reason);
    EVP_PKEY_free(k);

    k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    TAP_OK(mobispot_jws_alg(k, &reason) == NULL, "Ed25519 refused: %s", reason);
    EVP_PKEY_free(k);
}


static void
claims_rules(void)
{
    char                *s, jti1[32], jti2[32];
    size_t               len;
    const char          *reason;
    mobispot_at_claims_t c;

    claims_base(&c, "app", 60);
    c.jti = "fixed";

    s = mobispot_at_claims(&c, &len, &reason);
    TAP_IS_STR(s,
               "{\"iss\":\"https://sso.mobispot.test\",\"sub\":\"alice\","
               "\"aud\":\"namur\",\"sid\":\"sess-1\",\"client_id\":\"app\","
               "\"jti\":\"fixed\",\"iat\":1700000000,\"exp\":1700000060}",
               "the minimal claims, in order, the URL unescaped");
    free(s);

    c.exp = NOW;
    TAP_OK(mobispot_at_claims(&c, &len, &reason) == NULL,
           "exp not after iat refused");
    c.exp = NOW + 60;

    c.sid = NULL;
    TAP_OK(mobispot_at_claims(&c, &len, &reason) == NULL, "no sid refused");
    c.sid = "sess-1";

    c.sub = "al\xffice";
    TAP_OK(mobispot_at_claims(&c, &len, &reason) == NULL,
           "a sub that is not UTF-8 refused");
    c.sub = "alice";

    TAP_IS_INT(mobispot_jwt_jti(jti1, sizeof(jti1)), 0, "jti made");
    TAP_IS_INT(mobispot_jwt_jti(jti2, sizeof(jti2)), 0, "another jti made");
    TAP_IS_INT(strlen(jti1), MOBISPOT_JWT_JTI_LEN, "a jti is 22 characters");
    TAP_OK(strcmp(jti1, jti2) != 0, "two jti differ");
    TAP_OK(mobispot_jwt_jti(jti1, 22) != 0, "a jti needs 23 bytes");

    c.jti = NULL;
    s = mobispot_at_claims(&c, &len, &reason);
    TAP_OK(s != NULL && strstr(s, "\"jti\":\"") != NULL
               && strstr(s, "\"jti\":\"fixed\"") == NULL,
           "a random jti when none is given");
    free(s);
}


/* HS256 through the same compact JWS (the CLI mints with it) */

static void
hmac(void)
{
    int                rc;
    char              *tok;
    jwt_t             *jwt;
    size_t             len;
    const char        *reason;
    mobispot_jws_key_t key;

    static const char secret[] = "0123456789abcdef0123456789abcdef";

    memset(&key, 0, sizeof(key));
    key.alg = "HS256";
    key.secret = (const unsigned char *) secret;
    key.secret_len = 32;

    tok = mobispot_jws_compact(&key, NULL, "JWT", "{\"sub\":\"a\"}", 11, &len,
                               &reason);
    jwt = NULL;
    rc = jwt_decode(&jwt, tok, key.secret, 32);
    TAP_IS_INT(rc, 0, "HS256: libjwt verifies the HMAC");
    jwt_free(jwt);
    free(tok);

    tok = mobispot_jws_compact(&key, "h1", MOBISPOT_JWS_TYP_AT,
                               "{\"sub\":\"a\"}", 11, &len, &reason);
    TAP_IS_INT(mobispot_jws_verify(&key, tok, len, &reason), 0,
               "HS256: the module verifies its at+jwt token");
    key.secret_len = 31;
    TAP_OK(mobispot_jws_verify(&key, tok, len, &reason) != 0,
           "HS256: not with another secret");
    free(tok);

    key.secret = NULL;
    TAP_OK(mobispot_jws_compact(&key, NULL, NULL, "{}", 2, &len, &reason)
               == NULL,
           "HS256 without a secret refused");
}


static void
b64url(void)
{
    char out[16];

    TAP_IS_INT(mobispot_b64url_encode((unsigned char *) "", 0, out), 0,
               "b64url of nothing");
    mobispot_b64url_encode((unsigned char *) "f", 1, out);
    TAP_IS_STR(out, "Zg", "b64url f");
    mobispot_b64url_encode((unsigned char *) "fo", 2, out);
    TAP_IS_STR(out, "Zm8", "b64url fo");
    mobispot_b64url_encode((unsigned char *) "foo", 3, out);
    TAP_IS_STR(out, "Zm9v", "b64url foo");
    mobispot_b64url_encode((unsigned char *) "\xfb\xff\xbf", 3, out);
    TAP_IS_STR(out, "-_-_", "b64url uses - and _");
    TAP_IS_INT(mobispot_b64url_encoded_len(5), 7, "b64url length of 5");
}


int
main(void)
{
    EVP_PKEY *ec, *rsa;

    static const char *ec_members[] = {"kty",   "EC",  "use", "sig", "alg",
                                       "ES256", "kid", "k-1", "crv", "P-256",
                                       "x",     "#43", "y",   "#43", NULL};

    static const char *rsa_members[] = {"kty",   "RSA",  "use", "sig", "alg",
                                        "RS256", "kid",  "k-1", "n",   "#342",
                                        "e",     "AQAB", NULL};

    const char *reason;

    b64url();
    hmac();

    ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);

    TAP_IS_STR(mobispot_jws_alg(ec, &reason), "ES256", "EC P-256 is ES256");
    TAP_IS_STR(mobispot_jws_alg(rsa, &reason), "RS256", "RSA 2048 is RS256");

    sign_and_verify(ec, "ES256", JWT_ALG_ES256);
    sign_and_verify(rsa, "RS256", JWT_ALG_RS256);

    jwk(ec, "EC", ec_members);
    jwk(rsa, "RSA", rsa_members);

    refused_keys();
    claims_rules();

    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);

    return tap_done();
}
