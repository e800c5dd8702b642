
/*
 * Copyright (C) Mobispot
 *
 * JSON Web Key Sets (RFC 7517) for the SSO gateway: RSA and EC public keys
 * of a JWKS document become verification keys (parsed once, ready for
 * OpenSSL's verification), each pinned to one algorithm: the JWK's "alg",
 * or the one given by the configuration.  Used for mobispot_jwt_jwks files
 * (at configuration time) and for the key set the issuer publishes in
 * Redis (in a worker, from memory: no I/O).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "sso/ngx_http_mobispot_sso.h"


static EVP_PKEY *ngx_http_mobispot_sso_jwk_pkey(yajl_val jwk,
    const char **err);
static BIGNUM *ngx_http_mobispot_sso_jwk_bn(yajl_val jwk, const char *name,
    u_char *buf, size_t *len);


/*
 * The keys of a JWKS document, allocated in pool.  Keys that cannot be
 * used (other kty, "use" other than "sig", no algorithm, a bad key) are
 * skipped with a warning; a document that is not a JWKS is an error.
 * alg: the algorithm for keys without "alg" (NULL: such keys are skipped).
 */

ngx_array_t *
ngx_http_mobispot_sso_jwks(ngx_pool_t *pool, ngx_log_t *log, u_char *doc,
    size_t len, const char *alg, ngx_str_t *source, const char **err)
{
    u_char                             *text, *p;
    size_t                              i;
    yajl_val                            root, keys, jwk, v;
    EVP_PKEY                           *pkey;
    ngx_array_t                        *out;
    const char                         *name, *kerr, *reason;
    ngx_http_mobispot_sso_key_t        *key;
    const ngx_http_mobispot_sso_alg_t  *a;

    text = ngx_pnalloc(pool, len + 1);
    if (text == NULL) {
        *err = "out of memory";
        return NULL;
    }

    ngx_memcpy(text, doc, len);
    text[len] = '\0';

    root = mobispot_jwt_json((const char *) text, len, &reason);
    if (root == NULL) {
        *err = "not a JSON object without duplicate members";
        return NULL;
    }

    keys = mobispot_json_member(root, "keys");

    if (keys == NULL || !YAJL_IS_ARRAY(keys)) {
        yajl_tree_free(root);
        *err = "no \"keys\" array";
        return NULL;
    }

    out = ngx_array_create(pool, keys->u.array.len + 1,
                           sizeof(ngx_http_mobispot_sso_key_t));
    if (out == NULL) {
        yajl_tree_free(root);
        *err = "out of memory";
        return NULL;
    }

    for (i = 0; i < keys->u.array.len; i++) {
        jwk = keys->u.array.values[i];

        v = mobispot_json_member(jwk, "use");
        if (v != NULL && (!YAJL_IS_STRING(v)
                          || ngx_strcmp(v->u.string, "sig") != 0))
        {
            continue;
        }

        v = mobispot_json_member(jwk, "alg");
        name = (v && YAJL_IS_STRING(v)) ? v->u.string : alg;

        if (name == NULL) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "mobispot: key %uz of the JWKS \"%V\" has no "
                          "\"alg\" and none is configured: skipped", i,
                          source);
            continue;
        }

        a = ngx_http_mobispot_sso_alg_by_name((u_char *) name,
                                              ngx_strlen(name));

        if (a == NULL || a->pkey == 0) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "mobispot: key %uz of the JWKS \"%V\": alg \"%s\" "
                          "is not RS256/384/512 or ES256/384/512: skipped",
                          i, source, name);
            continue;
        }

        kerr = NULL;
        pkey = ngx_http_mobispot_sso_jwk_pkey(jwk, &kerr);

        if (pkey != NULL) {
            kerr = ngx_http_mobispot_sso_pkey_check(pkey, a->alg);
        }

        if (kerr != NULL) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "mobispot: key %uz of the JWKS \"%V\": %s: "
                          "skipped", i, source, kerr);
            if (pkey) {
                EVP_PKEY_free(pkey);
            }

            continue;
        }

        key = ngx_array_push(out);
        if (key == NULL) {
            EVP_PKEY_free(pkey);
            yajl_tree_free(root);
            *err = "out of memory";
            return NULL;
        }

        ngx_memzero(key, sizeof(ngx_http_mobispot_sso_key_t));

        /* kept, parsed, for every verification: freed with the pool */

        if (ngx_http_mobispot_sso_key_keep(pool, key, pkey, a->alg)
            != NGX_OK)
        {
            yajl_tree_free(root);
            *err = "cannot keep a key for verification";
            return NULL;
        }

        key->alg = a->alg;
        key->alg_name = a->name;
        key->file = *source;

        v = mobispot_json_member(jwk, "kid");

        if (v != NULL && YAJL_IS_STRING(v)) {
            key->kid.len = ngx_strlen(v->u.string);

            if (key->kid.len == 0 || key->kid.len > MOBISPOT_JWT_KID_MAX) {
                out->nelts--;
                continue;
            }

            p = ngx_pnalloc(pool, key->kid.len);
            if (p == NULL) {
                yajl_tree_free(root);
                *err = "out of memory";
                return NULL;
            }

            ngx_memcpy(p, v->u.string, key->kid.len);
            key->kid.data = p;
        }
    }

    yajl_tree_free(root);

    return out;
}


static EVP_PKEY *
ngx_http_mobispot_sso_jwk_pkey(yajl_val jwk, const char **err)
{
    int              nid_bits;
    size_t           xlen, ylen, size;
    BIGNUM          *n, *e;
    yajl_val         kty, crv;
    EVP_PKEY        *pkey;
    const char      *group;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;
    u_char           x[80], y[80], pub[1 + 2 * 66], buf[1024];

    kty = mobispot_json_member(jwk, "kty");

    if (kty == NULL || !YAJL_IS_STRING(kty)) {
        *err = "no kty";
        return NULL;
    }

    pkey = NULL;
    params = NULL;
    ctx = NULL;
    n = NULL;
    e = NULL;

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL) {
        *err = "out of memory";
        return NULL;
    }

    if (ngx_strcmp(kty->u.string, "RSA") == 0) {
        size = sizeof(buf);
        n = ngx_http_mobispot_sso_jwk_bn(jwk, "n", buf, &size);
        size = sizeof(buf);
        e = ngx_http_mobispot_sso_jwk_bn(jwk, "e", buf, &size);

        if (n == NULL || e == NULL
            || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
            || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        {
            *err = "bad RSA n or e";
            goto done;
        }

        ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);

    } else if (ngx_strcmp(kty->u.string, "EC") == 0) {
        crv = mobispot_json_member(jwk, "crv");

        if (crv == NULL || !YAJL_IS_STRING(crv)) {
            *err = "no crv";
            goto done;
        }

        if (ngx_strcmp(crv->u.string, "P-256") == 0) {
            group = "prime256v1";
            nid_bits = 32;

        } else if (ngx_strcmp(crv->u.string, "P-384") == 0) {
            group = "secp384r1";
            nid_bits = 48;

        } else if (ngx_strcmp(crv->u.string, "P-521") == 0) {
            group = "secp521r1";
            nid_bits = 66;

        } else {
            *err = "unsupported crv";
            goto done;
        }

        xlen = sizeof(x);
        ylen = sizeof(y);

        if (mobispot_json_member(jwk, "x") == NULL
            || mobispot_json_member(jwk, "y") == NULL
            || !YAJL_IS_STRING(mobispot_json_member(jwk, "x"))
            || !YAJL_IS_STRING(mobispot_json_member(jwk, "y"))
            || ngx_strlen(mobispot_json_member(jwk, "x")->u.string) > 100
            || ngx_strlen(mobispot_json_member(jwk, "y")->u.string) > 100
            || mobispot_b64url_decode(mobispot_json_member(jwk, "x")->u.string,
                    ngx_strlen(mobispot_json_member(jwk, "x")->u.string),
                    x, &xlen) != 0
            || mobispot_b64url_decode(mobispot_json_member(jwk, "y")->u.string,
                    ngx_strlen(mobispot_json_member(jwk, "y")->u.string),
                    y, &ylen) != 0
            || xlen != (size_t) nid_bits || ylen != (size_t) nid_bits)
        {
            *err = "bad EC x or y";
            goto done;
        }

        pub[0] = 0x04;
        ngx_memcpy(pub + 1, x, xlen);
        ngx_memcpy(pub + 1 + xlen, y, ylen);

        if (!OSSL_PARAM_BLD_push_utf8_string(bld,
                                             OSSL_PKEY_PARAM_GROUP_NAME,
                                             group, 0)
            || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                                 pub, 1 + xlen + ylen))
        {
            *err = "out of memory";
            goto done;
        }

        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

    } else {
        *err = "kty is neither RSA nor EC";
        goto done;
    }

    params = OSSL_PARAM_BLD_to_param(bld);

    if (ctx == NULL || params == NULL
        || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
        *err = "not a valid public key";
        pkey = NULL;
    }

done:

    if (ctx) {
        EVP_PKEY_CTX_free(ctx);
    }

    if (params) {
        OSSL_PARAM_free(params);
    }

    if (n) {
        BN_free(n);
    }

    if (e) {
        BN_free(e);
    }

    OSSL_PARAM_BLD_free(bld);

    return pkey;
}


static BIGNUM *
ngx_http_mobispot_sso_jwk_bn(yajl_val jwk, const char *name, u_char *buf,
    size_t *len)
{
    size_t    slen;
    yajl_val  v;

    v = mobispot_json_member(jwk, name);

    if (v == NULL || !YAJL_IS_STRING(v)) {
        return NULL;
    }

    slen = ngx_strlen(v->u.string);

    if (slen == 0 || mobispot_b64url_decoded_max(slen) > *len
        || mobispot_b64url_decode(v->u.string, slen, buf, len) != 0)
    {
        return NULL;
    }

    return BN_bin2bn(buf, (int) *len, NULL);
}


/*
 * Keys published by the issuer in Redis (mobispot_jwt_keys_redis): the
 * JWKS document at ms:sso:jwks (every key with its "alg").  Each worker
 * reads it when its subscriber (re)connects; a message on the channel
 * ms:sso:jwks (any content) makes it read the document again, so keys
 * rotate on every gateway within moments, without reload.  The set lives
 * in its own pool, replaced as a whole; cached tokens are forgotten when
 * it changes.
 */

#define NGX_HTTP_MOBISPOT_SSO_JWKS_KEY  "ms:sso:jwks"


static void ngx_http_mobispot_sso_rkeys_snapshot(void *data,
    redisReply *reply);
static void ngx_http_mobispot_sso_rkeys_message(void *data, u_char *msg,
    size_t len);
static void ngx_http_mobispot_sso_rkeys_state(void *data, ngx_uint_t up);
static void ngx_http_mobispot_sso_rkeys_set(
    ngx_http_mobispot_sso_main_conf_t *mcf, ngx_array_t *keys,
    ngx_pool_t *pool);


ngx_int_t
ngx_http_mobispot_sso_rkeys_init_process(ngx_cycle_t *cycle,
    ngx_http_mobispot_sso_main_conf_t *mcf)
{
    ngx_http_mobispot_main_conf_t       *mmcf;
    ngx_http_mobispot_redis_sub_conf_t   sc;

    static const char  *argv[] = { "GET", NGX_HTTP_MOBISPOT_SSO_JWKS_KEY };
    static size_t       argvlen[] = { 3,
                                      sizeof(NGX_HTTP_MOBISPOT_SSO_JWKS_KEY)
                                      - 1 };

    if (!mcf->keys_redis) {
        return NGX_OK;
    }

    mmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_mobispot_module);

    ngx_memzero(&sc, sizeof(ngx_http_mobispot_redis_sub_conf_t));

    sc.channel = NGX_HTTP_MOBISPOT_SSO_JWKS_KEY;
    sc.snapshot.argc = 2;
    sc.snapshot.argv = argv;
    sc.snapshot.argvlen = argvlen;
    sc.on_snapshot = ngx_http_mobispot_sso_rkeys_snapshot;
    sc.on_message = ngx_http_mobispot_sso_rkeys_message;
    sc.on_state = ngx_http_mobispot_sso_rkeys_state;
    sc.data = mcf;

    mcf->rkeys_log = cycle->log;
    mcf->rkeys_sub = ngx_http_mobispot_redis_subscribe(mmcf->client, &sc);
    if (mcf->rkeys_sub == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_mobispot_sso_rkeys_exit_process(
    ngx_http_mobispot_sso_main_conf_t *mcf)
{
    if (mcf->rkeys_sub) {
        ngx_http_mobispot_redis_unsubscribe(mcf->rkeys_sub);
        mcf->rkeys_sub = NULL;
    }

    ngx_http_mobispot_sso_rkeys_set(mcf, NULL, NULL);
}


static void
ngx_http_mobispot_sso_rkeys_snapshot(void *data, redisReply *reply)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = data;

    ngx_str_t     source;
    ngx_pool_t   *pool;
    const char   *err;
    ngx_array_t  *keys;

    ngx_str_set(&source, "redis " NGX_HTTP_MOBISPOT_SSO_JWKS_KEY);

    mcf->rkeys_read = ngx_time();

    if (reply->type == REDIS_REPLY_NIL) {
        ngx_log_error(NGX_LOG_WARN, mcf->rkeys_log, 0,
                      "mobispot: no key set at \""
                      NGX_HTTP_MOBISPOT_SSO_JWKS_KEY "\" in redis");
        ngx_http_mobispot_sso_rkeys_set(mcf, NULL, NULL);
        return;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        ngx_log_error(NGX_LOG_ERR, mcf->rkeys_log, 0,
                      "mobispot: \"" NGX_HTTP_MOBISPOT_SSO_JWKS_KEY "\" "
                      "in redis is not a string: keys kept");
        return;
    }

    pool = ngx_create_pool(4096, mcf->rkeys_log);
    if (pool == NULL) {
        return;
    }

    err = NULL;
    keys = ngx_http_mobispot_sso_jwks(pool, mcf->rkeys_log,
                                      (u_char *) reply->str, reply->len,
                                      NULL, &source, &err);
    if (keys == NULL) {
        ngx_log_error(NGX_LOG_ERR, mcf->rkeys_log, 0,
                      "mobispot: invalid JWKS at \""
                      NGX_HTTP_MOBISPOT_SSO_JWKS_KEY "\" in redis (%s): "
                      "keys kept", err);
        ngx_destroy_pool(pool);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, mcf->rkeys_log, 0,
                  "mobispot: %ui keys loaded from redis", keys->nelts);

    ngx_http_mobispot_sso_rkeys_set(mcf, keys, pool);
}


static void
ngx_http_mobispot_sso_rkeys_message(void *data, u_char *msg, size_t len)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = data;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, mcf->rkeys_log, 0,
                   "mobispot: key set changed in redis");

    ngx_http_mobispot_redis_resync(mcf->rkeys_sub);
}


static void
ngx_http_mobispot_sso_rkeys_state(void *data, ngx_uint_t up)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = data;

    /* the last set read stays in use while Redis is away */

    mcf->rkeys_up = up ? 1 : 0;
}


/*
 * GET health: {"state":..,"keys":N,"read_s":S}: "ok" (a key set read, its
 * channel heard), "none" (no usable set: tokens are refused unless a key
 * file has their key) or "stale" (the channel is lost: a rotation would
 * not be heard; the set in use is kept); S: seconds since Redis was last
 * read (-1: never).  Degraded unless "ok".
 */

ngx_int_t
ngx_http_mobispot_sso_rkeys_health(ngx_http_request_t *r, yajl_gen g,
    ngx_uint_t *degraded, void *data)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = data;

    ngx_uint_t   n;
    const char  *state;

    n = mcf->rkeys ? mcf->rkeys->nelts : 0;

    state = n == 0 ? "none" : mcf->rkeys_up ? "ok" : "stale";
    *degraded = (n == 0 || !mcf->rkeys_up);

    if (g == NULL) {
        return NGX_OK;
    }

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "state", state) != MOBISPOT_OK
        || mobispot_json_string(g, "keys") != MOBISPOT_OK
        || yajl_gen_integer(g, n) != yajl_gen_status_ok
        || mobispot_json_string(g, "read_s") != MOBISPOT_OK
        || yajl_gen_integer(g, mcf->rkeys_read
                               ? (long long) (ngx_time() - mcf->rkeys_read)
                               : -1)
           != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_mobispot_sso_rkeys_set(ngx_http_mobispot_sso_main_conf_t *mcf,
    ngx_array_t *keys, ngx_pool_t *pool)
{
    /*
     * Signatures are verified synchronously: no request holds a key of
     * the old set across events, so the old pool can go now.
     */

    if (mcf->rkeys_pool) {
        ngx_destroy_pool(mcf->rkeys_pool);
    }

    mcf->rkeys = keys;
    mcf->rkeys_pool = pool;

    ngx_http_mobispot_sso_cache_flush(mcf);
}
