
/*
 * Copyright (C) Mobispot
 *
 * A token checked: shape, JOSE header, signature with the pinned key, claims
 * (mobispot_jwt.c and mobispot_claims.c), and the worker's cache of
 * accepted tokens, so that a token seen before costs no signature check.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "sso/ngx_http_mobispot_sso.h"


static void ngx_http_mobispot_sso_accepted(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx,
    ngx_http_mobispot_sso_cache_entry_t *e, uint32_t hash, ngx_str_t *token,
    size_t dot1, size_t dot2, yajl_val payload);
static ngx_int_t ngx_http_mobispot_sso_entry_token(
    ngx_http_mobispot_sso_cache_entry_t *e, ngx_str_t *token, ngx_log_t *log);
static ngx_uint_t ngx_http_mobispot_sso_refused(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *token, uint32_t hash,
    ngx_uint_t put);
static ngx_uint_t ngx_http_mobispot_sso_recheck(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx,
    ngx_http_mobispot_sso_cache_entry_t *e, ngx_str_t *token);
static ngx_uint_t ngx_http_mobispot_sso_signature(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, mobispot_jwt_header_t *h,
    ngx_str_t *token, size_t dot2, const char **reason);
static ngx_http_mobispot_sso_header_t *ngx_http_mobispot_sso_header_slot(
    ngx_http_request_t *r, ngx_str_t *token, size_t dot1);
static ngx_uint_t ngx_http_mobispot_sso_header_known(
    ngx_http_mobispot_sso_header_t *e, ngx_str_t *token, size_t dot1,
    mobispot_jwt_header_t *h);
static void ngx_http_mobispot_sso_header_keep(
    ngx_http_mobispot_sso_header_t *e, ngx_str_t *token, size_t dot1,
    mobispot_jwt_header_t *h);
static yajl_val ngx_http_mobispot_sso_segment(ngx_http_request_t *r,
    u_char *data, size_t len, const char **reason);
static void ngx_http_mobispot_sso_tree_cleanup(void *data);
static ngx_http_mobispot_sso_cache_entry_t *
    ngx_http_mobispot_sso_cache_get(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *token, uint32_t *hash,
    ngx_uint_t *hit);
static void ngx_http_mobispot_sso_cache_put(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf,
    ngx_http_mobispot_sso_ctx_t *ctx, ngx_http_mobispot_sso_cache_entry_t *e,
    uint32_t hash, ngx_str_t *token, size_t dot1, size_t dot2,
    yajl_val payload, time_t exp);


ngx_uint_t
ngx_http_mobispot_sso_verify(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx)
{
    ngx_str_t  token;

    if (ngx_http_mobispot_sso_token(r, lcf, &token) != NGX_OK) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mobispot: no sso token");
        return MOBISPOT_SSO_MISSING;
    }

    return ngx_http_mobispot_sso_verify_token(r, lcf, ctx, &token);
}


/*
 * One token checked with the location's keys and claim rules, wherever
 * it came from: the request (above), or a code's record (sso_callback.c).
 * The token's memory must live as long as the request.
 */

ngx_uint_t
ngx_http_mobispot_sso_verify_token(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx,
    ngx_str_t *tok)
{
    size_t                                dot1, dot2;
    uint32_t                              hash;
    yajl_val                              header, payload;
    ngx_str_t                             token;
    ngx_uint_t                            status, hit;
    const char                           *reason;
    mobispot_jwt_header_t                 h;
    ngx_http_mobispot_sso_header_t       *hdr;
    ngx_http_mobispot_sso_cache_entry_t  *e;

    reason = NULL;
    header = NULL;
    token = *tok;

    hash = 0;
    hit = 0;
    e = NULL;

    if (token.len <= lcf->max_size) {
        e = ngx_http_mobispot_sso_cache_get(r, lcf, &token, &hash, &hit);
    }

    if (hit == 2) {
        return ngx_http_mobispot_sso_recheck(r, lcf, ctx, e, &token);
    }

    if (e != NULL && ngx_http_mobispot_sso_refused(r, lcf, &token, hash, 0)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mobispot: sso token refused (bad_signature): "
                      "refused a moment ago with the same keys");
        return MOBISPOT_SSO_BAD_SIGNATURE;
    }

    if (hit) {
        ctx->segment.data = token.data + e->dot1 + 1;
        ctx->segment.len = e->dot2 - e->dot1 - 1;
        ctx->exp = e->exp;

        if (e->sid_len >= 0) {
            ctx->sid.data = ngx_pnalloc(r->pool, e->sid_len + 1);
            if (ctx->sid.data == NULL) {
                return MOBISPOT_SSO_UNAVAILABLE;
            }

            ngx_memcpy(ctx->sid.data, e->sid, e->sid_len);
            ctx->sid.len = e->sid_len;
        }

        ctx->entry = e;

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mobispot: sso token cached");

        return MOBISPOT_SSO_OK;
    }

    status = mobispot_jwt_shape((const char *) token.data, token.len,
                                lcf->max_size, &dot1, &dot2, &reason);
    if (status != MOBISPOT_SSO_OK) {
        goto refused;
    }

    hdr = ngx_http_mobispot_sso_header_slot(r, &token, dot1);

    if (hdr == NULL
        || !ngx_http_mobispot_sso_header_known(hdr, &token, dot1, &h))
    {

        header = ngx_http_mobispot_sso_segment(r, token.data, dot1, &reason);
        if (header == NULL) {
            status = MOBISPOT_SSO_MALFORMED;
            goto refused;
        }

        status = mobispot_jwt_header_check(header, &h, &reason);
        if (status != MOBISPOT_SSO_OK) {
            goto refused;
        }

        if (hdr) {
            ngx_http_mobispot_sso_header_keep(hdr, &token, dot1, &h);
        }
    }

    /* an ID token ("JWT") is not an access token (mobispot_jwt_typ) */

    ctx->typ = h.typ;

    if (!(h.typ & lcf->typ)) {
        status = MOBISPOT_SSO_MALFORMED;
        reason = ngx_http_mobispot_sso_typ_refused(h.typ);
        goto refused;
    }

    payload = ngx_http_mobispot_sso_segment(r, token.data + dot1 + 1,
                                            dot2 - dot1 - 1, &reason);
    if (payload == NULL) {
        status = MOBISPOT_SSO_MALFORMED;
        goto refused;
    }

    /* the cheap checks first: a stale token costs no signature check */

    status = mobispot_claims_check(payload, &lcf->claims,
                                   (long long) ngx_time(), &ctx->exp,
                                   &reason);
    if (status != MOBISPOT_SSO_OK) {
        goto refused;
    }

    status = ngx_http_mobispot_sso_signature(r, lcf, &h, &token, dot2,
                                             &reason);
    if (status != MOBISPOT_SSO_OK) {
        if (status == MOBISPOT_SSO_BAD_SIGNATURE && e != NULL) {
            (void) ngx_http_mobispot_sso_refused(r, lcf, &token, hash, 1);
        }

        goto refused;
    }

    ngx_http_mobispot_sso_accepted(r, lcf, ctx, e, hash, &token, dot1, dot2,
                                   payload);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mobispot: sso token accepted");

    return MOBISPOT_SSO_OK;

refused:

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: sso token refused (%s): %s",
                  mobispot_sso_status_name(status),
                  reason ? reason : "unknown");

    return status;
}


/*
 * A token that these keys verified for another location: no signature
 * check, but this location's claim rules (issuer, audience, lifetime,
 * times, zones) are checked again on its payload.  On success the entry
 * takes this location's rules, so that its next request is a plain hit.
 */

static ngx_uint_t
ngx_http_mobispot_sso_recheck(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx,
    ngx_http_mobispot_sso_cache_entry_t *e, ngx_str_t *token)
{
    yajl_val     payload;
    ngx_uint_t   status;
    const char  *reason;

    reason = NULL;
    ctx->typ = e->typ;

    if (!(e->typ & lcf->typ)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mobispot: sso token refused (malformed): %s",
                      ngx_http_mobispot_sso_typ_refused(e->typ));
        return MOBISPOT_SSO_MALFORMED;
    }

    payload = ngx_http_mobispot_sso_segment(r, token->data + e->dot1 + 1,
                                            e->dot2 - e->dot1 - 1, &reason);
    if (payload == NULL) {
        /* it parsed when it was first checked */
        return MOBISPOT_SSO_UNAVAILABLE;
    }

    status = mobispot_claims_check(payload, &lcf->claims,
                                   (long long) ngx_time(), &ctx->exp,
                                   &reason);
    if (status != MOBISPOT_SSO_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mobispot: sso token refused (%s): %s",
                      mobispot_sso_status_name(status),
                      reason ? reason : "unknown");
        return status;
    }

    ngx_http_mobispot_sso_accepted(r, lcf, ctx, e, e->hash, token, e->dot1,
                                   e->dot2, payload);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mobispot: sso token cached for other claim rules, "
                   "claims checked again");

    return MOBISPOT_SSO_OK;
}


/* an accepted token: its payload, segment and sid for the request, kept */

static void
ngx_http_mobispot_sso_accepted(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx,
    ngx_http_mobispot_sso_cache_entry_t *e, uint32_t hash, ngx_str_t *token,
    size_t dot1, size_t dot2, yajl_val payload)
{
    yajl_val  sid;

    ctx->payload = payload;
    ctx->segment.data = token->data + dot1 + 1;
    ctx->segment.len = dot2 - dot1 - 1;

    sid = mobispot_json_member(payload, "sid");

    if (sid != NULL && YAJL_IS_STRING(sid)
        && ngx_strlen(sid->u.string) <= NGX_HTTP_MOBISPOT_SSO_SID_MAX)
    {
        ctx->sid.data = (u_char *) sid->u.string;
        ctx->sid.len = ngx_strlen(sid->u.string);
    }

    if (e) {
        ngx_http_mobispot_sso_cache_put(r, lcf, ctx, e, hash, token, dot1,
                                        dot2, payload, (time_t) ctx->exp);
        ctx->entry = e;
    }
}


/*
 * The tokens refused for their signature with this location's keys, kept
 * NGX_HTTP_MOBISPOT_SSO_REFUSED_TTL seconds (direct-mapped, the whole
 * token compared): a client or an attacker that repeats a forged token
 * costs a hash and a comparison, not a public-key check.  A change of
 * keys empties it (ngx_http_mobispot_sso_cache_flush()), so a rotation
 * that makes such a token valid is seen at once.  put: remember the token;
 * otherwise: whether it is remembered.
 */

#define NGX_HTTP_MOBISPOT_SSO_REFUSED_TTL  60

static ngx_uint_t
ngx_http_mobispot_sso_refused(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *token, uint32_t hash,
    ngx_uint_t put)
{
    time_t                                now;
    ngx_http_mobispot_sso_main_conf_t    *mcf;
    ngx_http_mobispot_sso_cache_entry_t  *e;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);

    if (mcf->refused == NULL) {
        return 0;
    }

    e = &mcf->refused[hash & mcf->refused_mask];
    now = ngx_time();

    if (!put) {
        return e->token != NULL
               && e->hash == hash
               && e->len == token->len
               && e->keys == lcf->keys
               && e->exp > now
               && ngx_memcmp(e->token, token->data, token->len) == 0;
    }

    if (ngx_http_mobispot_sso_entry_token(e, token, r->connection->log)
        != NGX_OK)
    {
        return 0;
    }

    e->hash = hash;
    e->keys = lcf->keys;
    e->exp = now + NGX_HTTP_MOBISPOT_SSO_REFUSED_TTL;

    return 1;
}


/*
 * The signature, with a key chosen by the configuration: the token's kid
 * (an opaque string) selects among the keys that have one, a token
 * without kid among the keys without one; the token's alg must equal the
 * chosen key's algorithm exactly, and a key only serves its own
 * algorithm.  The check is OpenSSL's, on the key parsed when it was loaded
 * (ngx_http_mobispot_sso_key_verify()).
 */

static ngx_uint_t
ngx_http_mobispot_sso_signature(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, mobispot_jwt_header_t *h,
    ngx_str_t *token, size_t dot2, const char **reason)
{
    u_char                             *sig;
    size_t                              kid_len, sig_len;
    ngx_uint_t                          i, n, set, tried, kid_found;
    ngx_array_t                        *sets[2];
    ngx_http_mobispot_sso_key_t        *key;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    /* the configured keys, then the keys the issuer published in Redis */

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);

    sets[0] = lcf->keys;
    sets[1] = mcf->rkeys;

    if (sets[0] == NULL && sets[1] == NULL) {
        *reason = "no key configured";
        return MOBISPOT_SSO_BAD_SIGNATURE;
    }

    /* the signature, decoded once; it signs "header.payload" */

    sig = ngx_pnalloc(r->pool,
                      mobispot_b64url_decoded_max(token->len - dot2 - 1));
    if (sig == NULL) {
        *reason = "out of memory";
        return MOBISPOT_SSO_UNAVAILABLE;
    }

    if (mobispot_b64url_decode((const char *) token->data + dot2 + 1,
                               token->len - dot2 - 1, sig, &sig_len)
        != 0)
    {
        *reason = "signature not in canonical base64url";
        return MOBISPOT_SSO_MALFORMED;
    }

    kid_len = h->kid ? ngx_strlen(h->kid) : 0;
    tried = 0;
    kid_found = 0;
    key = NULL;
    n = 0;

    for (set = 0, i = 0; /* void */ ; i++) {

        if (i >= n) {
            while (set < 2 && (sets[set] == NULL || sets[set]->nelts == 0)) {
                set++;
            }

            if (set == 2) {
                break;
            }

            key = sets[set]->elts;
            n = sets[set]->nelts;
            set++;
            i = 0;
        }

        if (h->kid) {
            if (key[i].kid.len != kid_len
                || ngx_memcmp(key[i].kid.data, h->kid, kid_len) != 0)
            {
                continue;
            }

            kid_found = 1;

        } else if (key[i].kid.len) {
            continue;
        }

        if (ngx_strcmp(h->alg, key[i].alg_name) != 0) {
            continue;
        }

        tried++;

        if (!ngx_http_mobispot_sso_key_verify(&key[i], token->data, dot2,
                                              sig, sig_len))
        {
            continue;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mobispot: sso token verified with key from \"%V\"",
                       &key[i].file);

        return MOBISPOT_SSO_OK;
    }

    if (tried) {
        *reason = "signature does not verify";

    } else if (h->kid && !kid_found) {
        *reason = "unknown kid";

    } else {
        *reason = "alg does not match a configured key";
    }

    return MOBISPOT_SSO_BAD_SIGNATURE;
}


/*
 * The worker's headers read before: a header segment equal, byte for byte,
 * to one that passed the header check gives the same alg and kid without
 * being decoded and parsed again.  Only headers whose alg is one the
 * gateway knows are kept (a forged header costs its own parse, and may
 * take a slot; the next good token puts its header back).  Entries are
 * chosen by a hash of the segment; keys changing does not matter, since
 * the header's alg and kid are looked up among the keys at every check.
 */

/* the segment's slot (chosen by its hash), NULL for a long segment */

static ngx_http_mobispot_sso_header_t *
ngx_http_mobispot_sso_header_slot(ngx_http_request_t *r, ngx_str_t *token,
    size_t dot1)
{
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    if (dot1 > NGX_HTTP_MOBISPOT_SSO_HEADER_MAX) {
        return NULL;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);

    return &mcf->headers[ngx_murmur_hash2(token->data, dot1)
                         % NGX_HTTP_MOBISPOT_SSO_HEADERS];
}


static ngx_uint_t
ngx_http_mobispot_sso_header_known(ngx_http_mobispot_sso_header_t *e,
    ngx_str_t *token, size_t dot1, mobispot_jwt_header_t *h)
{
    if (e->len != dot1 || ngx_memcmp(e->segment, token->data, dot1) != 0) {
        return 0;
    }

    h->alg = e->alg;
    h->kid = e->has_kid ? e->kid : NULL;
    h->typ = e->typ;

    return 1;
}


static void
ngx_http_mobispot_sso_header_keep(ngx_http_mobispot_sso_header_t *e,
    ngx_str_t *token, size_t dot1, mobispot_jwt_header_t *h)
{
    size_t  alg_len, kid_len;

    alg_len = ngx_strlen(h->alg);
    kid_len = h->kid ? ngx_strlen(h->kid) : 0;

    /* an alg of the table fits e->alg; the header check bounds kid */

    if (ngx_http_mobispot_sso_alg_by_name((u_char *) h->alg, alg_len) == NULL
        || kid_len > MOBISPOT_JWT_KID_MAX)
    {
        return;
    }

    ngx_memcpy(e->segment, token->data, dot1);
    e->len = dot1;
    e->typ = h->typ;
    ngx_memcpy(e->alg, h->alg, alg_len + 1);
    e->has_kid = (h->kid != NULL);

    if (h->kid) {
        ngx_memcpy(e->kid, h->kid, kid_len + 1);
    }
}


/* decodes a base64url segment and parses it as a strict JSON object */

static yajl_val
ngx_http_mobispot_sso_segment(ngx_http_request_t *r, u_char *data,
    size_t len, const char **reason)
{
    u_char              *buf;
    size_t               n;
    yajl_val             v;
    ngx_pool_cleanup_t  *cln;

    buf = ngx_pnalloc(r->pool, mobispot_b64url_decoded_max(len) + 1);
    if (buf == NULL) {
        *reason = "out of memory";
        return NULL;
    }

    if (mobispot_b64url_decode((const char *) data, len, buf, &n) != 0) {
        *reason = "invalid base64url";
        return NULL;
    }

    buf[n] = '\0';

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        *reason = "out of memory";
        return NULL;
    }

    v = mobispot_jwt_json((const char *) buf, n, reason);
    if (v == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mobispot_sso_tree_cleanup;
    cln->data = v;

    return v;
}


static void
ngx_http_mobispot_sso_tree_cleanup(void *data)
{
    yajl_tree_free(data);
}


/* the token's slot in the worker's cache, and whether it is a hit */

static ngx_http_mobispot_sso_cache_entry_t *
ngx_http_mobispot_sso_cache_get(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_str_t *token, uint32_t *hash,
    ngx_uint_t *hit)
{
    time_t                                now;
    ngx_http_mobispot_sso_main_conf_t    *mcf;
    ngx_http_mobispot_sso_cache_entry_t  *e;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);

    if (mcf->cache == NULL) {
        return NULL;
    }

    *hash = ngx_murmur_hash2(token->data, token->len);
    e = &mcf->cache[*hash & mcf->cache_mask];
    now = ngx_time();

    /*
     * The entry is the token's and the key set's: a token whose signature
     * these keys verified needs no signature check again.  The claim rules
     * may be another location's: then *hit is 2, and the caller checks the
     * claims again against this location's rules (cheap: no signature).
     */

    *hit = 0;

    if (e->token != NULL
        && e->hash == *hash
        && e->len == token->len
        && e->keys == lcf->keys
        && CRYPTO_memcmp(e->token, token->data, token->len) == 0)
    {
        if (e->claims != &lcf->claims) {
            *hit = 2;

        } else if (e->exp > now - lcf->leeway
                   && e->not_before <= now + lcf->leeway)
        {
            *hit = 1;
        }
    }

    return e;
}


static void
ngx_http_mobispot_sso_cache_put(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf,
    ngx_http_mobispot_sso_ctx_t *ctx, ngx_http_mobispot_sso_cache_entry_t *e,
    uint32_t hash, ngx_str_t *token, size_t dot1, size_t dot2,
    yajl_val payload, time_t exp)
{
    long long   nbf, iat;

    nbf = 0;
    iat = 0;

    (void) mobispot_json_integer(mobispot_json_member(payload, "nbf"), &nbf);
    (void) mobispot_json_integer(mobispot_json_member(payload, "iat"), &iat);

    if (ngx_http_mobispot_sso_entry_token(e, token, r->connection->log)
        != NGX_OK)
    {
        return;
    }

    e->hash = hash;
    e->keys = lcf->keys;
    e->claims = &lcf->claims;
    e->typ = ctx->typ;
    e->exp = exp;
    e->not_before = (time_t) ngx_max(nbf, iat);
    e->dot1 = dot1;
    e->dot2 = dot2;

    e->site = NULL;

    if (ctx->sid.data) {
        ngx_memcpy(e->sid, ctx->sid.data, ctx->sid.len);
        e->sid_len = ctx->sid.len;

    } else {
        e->sid_len = -1;
    }
}


/* an entry's copy of the token, in the worker's memory (ngx_alloc) */

static ngx_int_t
ngx_http_mobispot_sso_entry_token(ngx_http_mobispot_sso_cache_entry_t *e,
    ngx_str_t *token, ngx_log_t *log)
{
    u_char  *p;

    if (e->token == NULL || e->size < token->len) {
        p = ngx_alloc(token->len, log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (e->token) {
            ngx_free(e->token);
        }

        e->token = p;
        e->size = token->len;
    }

    ngx_memcpy(e->token, token->data, token->len);
    e->len = token->len;

    return NGX_OK;
}


/* the keys changed: no cached token may skip the signature any more */

void
ngx_http_mobispot_sso_cache_flush(ngx_http_mobispot_sso_main_conf_t *mcf)
{
    ngx_uint_t  i;

    if (mcf->cache == NULL) {
        return;
    }

    /* a length of 0 matches no token: no entry may be a hit of any kind */

    for (i = 0; i <= mcf->cache_mask; i++) {
        mcf->cache[i].len = 0;
        mcf->cache[i].keys = NULL;
        mcf->cache[i].claims = NULL;
    }

    /* a new key may verify a token refused before */

    for (i = 0; mcf->refused && i <= mcf->refused_mask; i++) {
        mcf->refused[i].len = 0;
    }
}


/* the claims of an accepted token, parsed again after a cache hit */

yajl_val
ngx_http_mobispot_sso_payload(ngx_http_request_t *r,
    ngx_http_mobispot_sso_ctx_t *ctx)
{
    const char  *reason;

    if (ctx->payload == NULL && ctx->segment.len) {
        ctx->payload = ngx_http_mobispot_sso_segment(r, ctx->segment.data,
                                                     ctx->segment.len,
                                                     &reason);
    }

    return ctx->payload;
}
