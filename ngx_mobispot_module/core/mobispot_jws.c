
/*
 * Copyright (C) Mobispot
 *
 * The compact JWS (RFC 7515 7.1), signed and verified with OpenSSL's EVP
 * on a key parsed once: HMAC for HS*, RSASSA-PKCS1-v1_5 for RS*, ECDSA for
 * ES*, whose JOSE signature is r || s (RFC 7518 3.4) where OpenSSL speaks
 * DER.  libjwt 1.10 takes the PEM text at every token and writes and
 * accepts no "typ" but "JWT", which an access token (RFC 9068) is not.
 */


#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "core/mobispot_core.h"
#include "core/mobispot_jwt.h"
#include "core/mobispot_jwt_sign.h"


typedef struct {
    const char            *name;
    int                    type;      /* EVP_PKEY_*, 0 for HMAC */
    size_t                 half;      /* ES*: the size of r and of s */
    const EVP_MD        *(*md)(void);
} mobispot_jws_alg_t;


static const mobispot_jws_alg_t *mobispot_jws_key_alg(
    const mobispot_jws_key_t *key, const char **reason);
static unsigned char *mobispot_jws_signature(const mobispot_jws_key_t *key,
    const mobispot_jws_alg_t *a, const char *input, size_t len,
    size_t *sig_len);
static unsigned char *mobispot_jws_hmac(const mobispot_jws_key_t *key,
    const mobispot_jws_alg_t *a, const char *input, size_t len,
    size_t *sig_len);


static const mobispot_jws_alg_t  mobispot_jws_algs[] = {
    { "HS256", 0, 0, EVP_sha256 },
    { "HS384", 0, 0, EVP_sha384 },
    { "HS512", 0, 0, EVP_sha512 },
    { "RS256", EVP_PKEY_RSA, 0, EVP_sha256 },
    { "RS384", EVP_PKEY_RSA, 0, EVP_sha384 },
    { "RS512", EVP_PKEY_RSA, 0, EVP_sha512 },
    { "ES256", EVP_PKEY_EC, 32, EVP_sha256 },
    { "ES384", EVP_PKEY_EC, 48, EVP_sha384 },
    { "ES512", EVP_PKEY_EC, 66, EVP_sha512 },
    { NULL, 0, 0, NULL }
};


/* the key's algorithm, when the key fits it */

static const mobispot_jws_alg_t *
mobispot_jws_key_alg(const mobispot_jws_key_t *key, const char **reason)
{
    const mobispot_jws_alg_t  *a;

    for (a = mobispot_jws_algs; a->name; a++) {
        if (key->alg && strcmp(key->alg, a->name) == 0) {
            break;
        }
    }

    if (a->name == NULL) {
        *reason = "not a JOSE algorithm of this module";
        return NULL;
    }

    if (a->type == 0) {
        if (key->secret == NULL || key->secret_len == 0) {
            *reason = "an HMAC algorithm needs a secret";
            return NULL;
        }

        return a;
    }

    if (key->pkey == NULL || EVP_PKEY_get_base_id(key->pkey) != a->type
        || (a->type == EVP_PKEY_RSA && EVP_PKEY_get_bits(key->pkey) < 2048)
        || (a->type == EVP_PKEY_EC
            && (size_t) (EVP_PKEY_get_bits(key->pkey) + 7) / 8 != a->half))
    {
        *reason = "the key does not fit the algorithm";
        return NULL;
    }

    return a;
}


/*
 * The issuer's token: a compact JWS of claims (JSON text) with the header
 * {"alg":..,"typ":typ,"kid":kid}, signed with pkey by its algorithm
 * (mobispot_jws_alg()): malloc()ed, NUL-ended.
 */

char *
mobispot_jws_sign(EVP_PKEY *pkey, const char *kid, const char *typ,
    const char *claims, size_t claims_len, size_t *len, const char **reason)
{
    mobispot_jws_key_t  key;

    memset(&key, 0, sizeof(mobispot_jws_key_t));

    key.alg = mobispot_jws_alg(pkey, reason);
    if (key.alg == NULL) {
        return NULL;
    }

    key.pkey = pkey;

    return mobispot_jws_compact(&key, kid, typ, claims, claims_len, len,
                                reason);
}


/* the same with any key of the table (typ or kid NULL: left out) */

char *
mobispot_jws_compact(const mobispot_jws_key_t *key, const char *kid,
    const char *typ, const char *claims, size_t claims_len, size_t *len,
    const char **reason)
{
    char                      *header, *out, *p;
    size_t                     header_len, sig_len, input_len, n;
    yajl_gen                   g;
    unsigned char             *sig;
    const mobispot_jws_alg_t  *a;

    a = mobispot_jws_key_alg(key, reason);
    if (a == NULL) {
        return NULL;
    }

    if (claims_len == 0 || claims_len > MOBISPOT_JWT_SIGN_MAX) {
        *reason = "claims empty or too large";
        return NULL;
    }

    g = mobispot_json_gen_alloc();
    if (g == NULL) {
        *reason = "out of memory";
        return NULL;
    }

    header = NULL;

    if (yajl_gen_map_open(g) == yajl_gen_status_ok
        && mobispot_json_key_string(g, "alg", a->name) == MOBISPOT_OK
        && (typ == NULL
            || mobispot_json_key_string(g, "typ", typ) == MOBISPOT_OK)
        && (kid == NULL
            || mobispot_json_key_string(g, "kid", kid) == MOBISPOT_OK)
        && yajl_gen_map_close(g) == yajl_gen_status_ok)
    {
        header = mobispot_json_take(g, &header_len);
    }

    yajl_gen_free(g);

    if (header == NULL) {
        *reason = "a header value is not UTF-8, or out of memory";
        return NULL;
    }

    input_len = mobispot_b64url_encoded_len(header_len) + 1
                + mobispot_b64url_encoded_len(claims_len);
    out = malloc(input_len + 1);

    if (out == NULL) {
        free(header);
        *reason = "out of memory";
        return NULL;
    }

    p = out + mobispot_b64url_encode((unsigned char *) header, header_len,
                                     out);
    *p++ = '.';
    mobispot_b64url_encode((const unsigned char *) claims, claims_len, p);
    free(header);

    sig = mobispot_jws_signature(key, a, out, input_len, &sig_len);

    /* then ".signature" */

    p = (sig == NULL) ? NULL
        : realloc(out, input_len + 1 + mobispot_b64url_encoded_len(sig_len)
                       + 1);

    if (p == NULL) {
        free(sig);
        free(out);
        *reason = "the signature failed";
        return NULL;
    }

    out = p;
    out[input_len] = '.';
    n = mobispot_b64url_encode(sig, sig_len, out + input_len + 1);
    free(sig);

    *len = input_len + 1 + n;

    return out;
}


/* the signature of input (malloc()ed), r || s for ES* */

static unsigned char *
mobispot_jws_signature(const mobispot_jws_key_t *key,
    const mobispot_jws_alg_t *a, const char *input, size_t len,
    size_t *sig_len)
{
    size_t                n;
    EVP_MD_CTX           *md;
    ECDSA_SIG            *es;
    EVP_PKEY_CTX         *pctx;
    unsigned char        *der, *sig;
    const BIGNUM         *r, *s;
    const unsigned char  *q;

    if (a->type == 0) {
        return mobispot_jws_hmac(key, a, input, len, sig_len);
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NULL;
    }

    der = NULL;

    if (EVP_DigestSignInit(md, &pctx, a->md(), NULL, key->pkey) != 1
        || (a->type == EVP_PKEY_RSA
            && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        || EVP_DigestSign(md, NULL, &n, (const unsigned char *) input, len)
           != 1
        || (der = malloc(n)) == NULL
        || EVP_DigestSign(md, der, &n, (const unsigned char *) input, len)
           != 1)
    {
        EVP_MD_CTX_free(md);
        free(der);
        return NULL;
    }

    EVP_MD_CTX_free(md);

    if (a->type == EVP_PKEY_RSA) {
        *sig_len = n;
        return der;
    }

    q = der;
    es = d2i_ECDSA_SIG(NULL, &q, (long) n);
    free(der);

    if (es == NULL) {
        return NULL;
    }

    ECDSA_SIG_get0(es, &r, &s);
    sig = malloc(2 * a->half);

    if (sig == NULL
        || BN_bn2binpad(r, sig, (int) a->half) != (int) a->half
        || BN_bn2binpad(s, sig + a->half, (int) a->half) != (int) a->half)
    {
        ECDSA_SIG_free(es);
        free(sig);
        return NULL;
    }

    ECDSA_SIG_free(es);
    *sig_len = 2 * a->half;

    return sig;
}


static unsigned char *
mobispot_jws_hmac(const mobispot_jws_key_t *key, const mobispot_jws_alg_t *a,
    const char *input, size_t len, size_t *sig_len)
{
    unsigned char  *mac;

    mac = malloc(EVP_MAX_MD_SIZE);
    if (mac == NULL) {
        return NULL;
    }

    if (EVP_Q_mac(NULL, "HMAC", NULL, EVP_MD_get0_name(a->md()), NULL,
                  key->secret, key->secret_len,
                  (const unsigned char *) input, len, mac, EVP_MAX_MD_SIZE,
                  sig_len)
        == NULL)
    {
        free(mac);
        return NULL;
    }

    return mac;
}


/*
 * Whether a compact JWS is signed by key, by the key's algorithm (the
 * token's header is not read: its checks are mobispot_jwt_header_check()'s
 * and the caller's).  MOBISPOT_OK, or MOBISPOT_ERROR with the reason.
 */

int
mobispot_jws_verify(const mobispot_jws_key_t *key, const char *token,
    size_t len, const char **reason)
{
    int                        ok;
    size_t                     dot1, dot2, sig_len, der_len, mac_len;
    EVP_MD_CTX                *md;
    EVP_PKEY_CTX              *pctx;
    unsigned char             *sig, *der, *mac;
    const mobispot_jws_alg_t  *a;
    unsigned char              buf[MOBISPOT_ECDSA_DER_MAX];

    a = mobispot_jws_key_alg(key, reason);
    if (a == NULL) {
        return MOBISPOT_ERROR;
    }

    if (mobispot_jwt_shape(token, len, MOBISPOT_JWT_SIGN_MAX * 2, &dot1,
                           &dot2, reason)
        != MOBISPOT_SSO_OK)
    {
        return MOBISPOT_ERROR;
    }

    sig = malloc(mobispot_b64url_decoded_max(len - dot2 - 1));

    if (sig == NULL
        || mobispot_b64url_decode(token + dot2 + 1, len - dot2 - 1, sig,
                                  &sig_len)
           != 0)
    {
        free(sig);
        *reason = "the signature is not base64url";
        return MOBISPOT_ERROR;
    }

    ok = 0;
    *reason = "the signature does not verify";

    if (a->type == 0) {
        mac = mobispot_jws_hmac(key, a, token, dot2, &mac_len);
        ok = mac != NULL && mac_len == sig_len
             && CRYPTO_memcmp(mac, sig, sig_len) == 0;
        free(mac);
        free(sig);

        return ok ? MOBISPOT_OK : MOBISPOT_ERROR;
    }

    der = sig;
    der_len = sig_len;

    if (a->type == EVP_PKEY_EC) {
        der = (sig_len == 2 * a->half
               && mobispot_ecdsa_der(sig, a->half, buf, sizeof(buf),
                                     &der_len)
                  == MOBISPOT_OK)
              ? buf : NULL;
    }

    md = EVP_MD_CTX_new();

    if (der != NULL && md != NULL
        && EVP_DigestVerifyInit(md, &pctx, a->md(), NULL, key->pkey) == 1
        && (a->type != EVP_PKEY_RSA
            || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1))
    {
        ok = EVP_DigestVerify(md, der, der_len,
                              (const unsigned char *) token, dot2)
             == 1;
    }

    EVP_MD_CTX_free(md);
    free(sig);

    return ok ? MOBISPOT_OK : MOBISPOT_ERROR;
}


/*
 * r || s, each half bytes, as a DER ECDSA-Sig-Value for OpenSSL, into der
 * (size bytes: MOBISPOT_ECDSA_DER_MAX is enough for P-521)
 */

int
mobispot_ecdsa_der(const unsigned char *sig, size_t half, unsigned char *der,
    size_t size, size_t *der_len)
{
    int             n;
    BIGNUM         *r, *s;
    ECDSA_SIG      *es;
    unsigned char  *p;

    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, (int) half, NULL);
    s = BN_bin2bn(sig + half, (int) half, NULL);

    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return MOBISPOT_ERROR;
    }

    n = i2d_ECDSA_SIG(es, NULL);

    if (n <= 0 || (size_t) n > size) {
        ECDSA_SIG_free(es);
        return MOBISPOT_ERROR;
    }

    p = der;
    n = i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);

    if (n <= 0) {
        return MOBISPOT_ERROR;
    }

    *der_len = (size_t) n;

    return MOBISPOT_OK;
}
