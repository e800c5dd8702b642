
/*
 * Copyright (C) Mobispot
 *
 * POST token, grant_type=authorization_code (docs/sso.md, "The token
 * endpoint"), in round trips:
 *
 *   1. GET  ms:{code:<sha256 hex of the code>}
 *      the client, the redirect URI and the PKCE challenge checked: a
 *      refusal changes nothing
 *   2. EVAL "GET == the value read ? DEL" on the code's key: the code
 *      redeems once (two redemptions racing: one wins)
 *   3. the mint (issuer_mint.c): the account, the tokens signed
 *   4. EVAL on ms:{sess:<sid>}: the session is still that user's, and the
 *      refresh token's hash stored (issuer_refresh.c)
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/mobispot_core.h"
#include "issuer/ngx_http_mobispot_issuer_token.h"


static ngx_int_t ngx_http_mobispot_token_code_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_token_code_check(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_str_t *json);
static ngx_int_t ngx_http_mobispot_token_code_taken(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_token_str(ngx_http_request_t *r,
    yajl_val doc, const char *name, ngx_str_t *out, ngx_uint_t optional);


/* redeems the code only if it is still the value that was checked */

static const char  ngx_http_mobispot_token_take_script[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  return redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 0\n";


/* 1. the code's record */

ngx_int_t
ngx_http_mobispot_token_code(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk)
{
    ngx_str_t  hash, args[2];
    u_char     hex[2 * SHA256_DIGEST_LENGTH];

    if (tk->kind != NGX_HTTP_MOBISPOT_CLIENT_PUBLIC
        && tk->kind != NGX_HTTP_MOBISPOT_CLIENT_CONFIDENTIAL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mobispot_token_sha256_hex(tk->code.data, tk->code.len, hex);
    hash.data = hex;
    hash.len = sizeof(hex);

    if (ngx_http_mobispot_token_key(r, &tk->code_key, "ms:{code:%V}", &hash)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&args[0], "GET");
    args[1] = tk->code_key;

    return ngx_http_mobispot_token_call(r, ctx, args, 2, &tk->code_key, 0,
                                        ngx_http_mobispot_token_code_read);
}


static ngx_int_t
ngx_http_mobispot_token_code_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_token_t *tk = ctx->data;

    ngx_int_t   rc;
    ngx_str_t  *json, args[5];

    if (replies[0].type == REDIS_REPLY_NIL) {
        return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "the code is unknown, expired "
                                             "or already redeemed");
    }

    json = ngx_http_mobispot_reply_str(&replies[0]);
    if (json == NULL) {
        return ngx_http_mobispot_api_bad_reply(r, "GET of a code");
    }

    rc = ngx_http_mobispot_token_code_check(r, tk, json);
    if (rc != NGX_OK) {
        return rc == NGX_ABORT ? tk->rc : rc;
    }

    /* 2. redeemed once */

    tk->code_json = *json;

    ngx_str_set(&args[0], "EVAL");
    args[1].data = (u_char *) ngx_http_mobispot_token_take_script;
    args[1].len = sizeof(ngx_http_mobispot_token_take_script) - 1;
    ngx_str_set(&args[2], "1");
    args[3] = tk->code_key;
    args[4] = *json;

    return ngx_http_mobispot_token_call(r, ctx, args, 5, &tk->code_key, 1,
                                        ngx_http_mobispot_token_code_taken);
}


/*
 * The code's JSON (docs/sso.md): this client's, for this redirect URI,
 * and its challenge BASE64URL(SHA256(code_verifier)) (RFC 7636 4.6).  A
 * site gateway's code (it holds a token) is never redeemed here: site
 * gateways are refused before (issuer_client_auth.c).
 */

static ngx_int_t
ngx_http_mobispot_token_code_check(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_str_t *json)
{
    yajl_val        doc, v;
    ngx_int_t       rc;
    ngx_str_t       client, uri, challenge;
    long long       auth_time;
    const char     *reason;
    unsigned char   digest[SHA256_DIGEST_LENGTH];
    char            want[64];

    doc = mobispot_jwt_json((const char *) json->data, json->len, &reason);
    if (doc == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: a code's record is not JSON: %s", reason);
        return ngx_http_mobispot_api_bad_reply(r, "GET of a code");
    }

    rc = NGX_OK;

    if (ngx_http_mobispot_token_str(r, doc, "client", &client, 0) != NGX_OK
        || ngx_http_mobispot_token_str(r, doc, "redirect_uri", &uri, 0)
           != NGX_OK
        || ngx_http_mobispot_token_str(r, doc, "challenge", &challenge, 0)
           != NGX_OK
        || ngx_http_mobispot_token_str(r, doc, "sid", &tk->sid, 0) != NGX_OK
        || ngx_http_mobispot_token_str(r, doc, "sub", &tk->sub, 0) != NGX_OK
        || ngx_http_mobispot_token_str(r, doc, "scope", &tk->granted, 1)
           != NGX_OK
        || ngx_http_mobispot_token_str(r, doc, "nonce", &tk->nonce, 1)
           != NGX_OK
        || (v = mobispot_json_member(doc, "auth_time")) == NULL
        || mobispot_json_integer(v, &auth_time) != MOBISPOT_OK
        || mobispot_json_member(doc, "token") != NULL)
    {
        yajl_tree_free(doc);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: a code's record lacks a member, or is a "
                      "site gateway's");
        return ngx_http_mobispot_api_bad_reply(r, "GET of a code");
    }

    yajl_tree_free(doc);

    tk->auth_time = (time_t) auth_time;

    SHA256(tk->verifier.data, tk->verifier.len, digest);
    mobispot_b64url_encode(digest, sizeof(digest), want);

    if (client.len != tk->client_id.len
        || ngx_strcmp(client.data, tk->client_id.data) != 0)
    {
        rc = ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                            "invalid_grant",
                                            "the code was not issued to this "
                                            "client");

    } else if (uri.len != tk->redirect_uri.len
               || ngx_strcmp(uri.data, tk->redirect_uri.data) != 0)
    {
        rc = ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                            "invalid_grant",
                                            "redirect_uri is not the one of "
                                            "the authorization");

    } else if (challenge.len != 43
               || CRYPTO_memcmp(challenge.data, want, 43) != 0)
    {
        rc = ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                            "invalid_grant",
                                            "code_verifier does not match "
                                            "the code_challenge");

    } else if (tk->sid.len != NGX_HTTP_MOBISPOT_SID_LEN
               || ngx_http_mobispot_token_key(r, &tk->sess_key,
                                              "ms:{sess:%V}", &tk->sid)
                  != NGX_OK)
    {
        return ngx_http_mobispot_api_bad_reply(r, "GET of a code");
    }

    return rc;
}


/* a string member into r->pool, NUL-terminated; optional: empty if absent */

static ngx_int_t
ngx_http_mobispot_token_str(ngx_http_request_t *r, yajl_val doc,
    const char *name, ngx_str_t *out, ngx_uint_t optional)
{
    size_t    len;
    yajl_val  v;

    v = mobispot_json_member(doc, name);

    if (v == NULL && optional) {
        ngx_str_set(out, "");
        return NGX_OK;
    }

    if (v == NULL || !YAJL_IS_STRING(v)) {
        return NGX_ERROR;
    }

    len = ngx_strlen(v->u.string);

    out->data = ngx_pnalloc(r->pool, len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, v->u.string, len + 1);
    out->len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_token_code_taken(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_token_t *tk = ctx->data;

    if (replies[0].type != REDIS_REPLY_INTEGER) {
        return ngx_http_mobispot_api_bad_reply(r, "the code's redemption");
    }

    if (replies[0].integer != 1) {
        return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "the code is already redeemed");
    }

    /* a refresh token: with offline_access, or for a public app */

    if (tk->kind == NGX_HTTP_MOBISPOT_CLIENT_PUBLIC
        || ngx_http_mobispot_token_has_scope(&tk->granted, "offline_access"))
    {
        if (ngx_http_mobispot_token_new_refresh(r, tk) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_mobispot_token_mint(r, ctx, tk);
}
