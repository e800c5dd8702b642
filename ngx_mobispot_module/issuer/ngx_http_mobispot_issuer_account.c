
/*
 * Copyright (C) Mobispot
 *
 * The account of a sign-in name (docs/sso.md, "Signing in"): an account
 * id as typed (ids are case-sensitive), or an email in any case, found
 * through the admin API's index ms:{email:<SHA-256 hex of the lowercased
 * email>} (docs/data-model.md); then its info's password_hash and email,
 * read with one HMGET.  An index entry is taken only when the account's
 * own email is still that name: a stale entry finds nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_secret.h"
#include "core/mobispot_spots.h"
#include "issuer/ngx_http_mobispot_issuer.h"


/* GET ms:{email:<SHA-256 hex of email>} (email: lowercased) */

ngx_int_t
ngx_http_mobispot_issuer_account_index(ngx_http_request_t *r,
    ngx_str_t *email, ngx_http_mobispot_redis_cmd_t *cmd, ngx_str_t *key)
{
    ngx_str_t  hash;

    static ngx_str_t  get = ngx_string("GET");

    key->data = ngx_pnalloc(r->pool, sizeof("ms:{email:}")
                                     + 2 * NGX_HTTP_MOBISPOT_SHA256_LEN);

    if (key->data == NULL
        || ngx_http_mobispot_issuer_sha256_hex(r, email, &hash) != NGX_OK)
    {
        return NGX_ERROR;
    }

    key->len = ngx_sprintf(key->data, "ms:{email:%V}%Z", &hash) - key->data
               - 1;

    return ngx_http_mobispot_issuer_cmd(r, cmd, 2, &get, key);
}


/* HMGET ms:{user:<id>}:info password_hash email */

ngx_int_t
ngx_http_mobispot_issuer_account_read(ngx_http_request_t *r, ngx_str_t *id,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_str_t *key)
{
    static ngx_str_t  hmget = ngx_string("HMGET");
    static ngx_str_t  hash = ngx_string("password_hash");
    static ngx_str_t  email = ngx_string("email");

    key->data = ngx_pnalloc(r->pool, sizeof("ms:{user:}:info") + id->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    key->len = ngx_sprintf(key->data, "ms:{user:%V}:info%Z", id) - key->data
               - 1;

    return ngx_http_mobispot_issuer_cmd(r, cmd, 4, &hmget, key, &hash,
                                        &email);
}


/*
 * The HMGET's reply: the account's password hash, or NULL (no account, no
 * password, or, found by email, not that email any more)
 */

ngx_str_t *
ngx_http_mobispot_issuer_account_hash(ngx_http_mobispot_reply_t *reply,
    ngx_str_t *email)
{
    ngx_http_mobispot_reply_t  *e;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2)
    {
        return NULL;
    }

    e = reply->element;

    if (e[0].type != REDIS_REPLY_STRING
        || !mobispot_secret_is_hash((char *) e[0].str.data, e[0].str.len))
    {
        return NULL;
    }

    if (email
        && (e[1].type != REDIS_REPLY_STRING || e[1].str.len != email->len
            || ngx_strncmp(e[1].str.data, email->data, email->len) != 0))
    {
        return NULL;
    }

    return &e[0].str;
}
