
/*
 * Copyright (C) Mobispot
 *
 * An account's email is its own: the sign-in finds an account by it
 * (ms:{email:<sha256 hex>}, docs/data-model.md), so PUT admin/users/{id}
 * refuses, 409 email_taken and nothing written, an email that another
 * account holds.  Before the write (ngx_http_mobispot_admin_user_write.c),
 * the body's email lowercased (the write stores it so):
 *
 *   1. GET ms:{email:<sha256 hex of the lowercased email>}: nil or this
 *      account's id: the write;
 *   2. another id: HGET ms:{user:<that id>}:info email; that account's
 *      email is this one: 409; it is not (an index left behind by a write
 *      that failed between its two steps): the write, whose second step
 *      points the index to this account.
 *
 * The check and the write are two calls on two hash tags: two PUTs of one
 * new email for two accounts at the same instant may both pass it (the
 * later index wins, docs/data-model.md says so); one at a time, as a back
 * office writes, never do.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_admin.h"


static ngx_int_t ngx_http_mobispot_user_email_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_user_owner_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_user_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmd,
    ngx_str_t *key, ngx_http_mobispot_api_done_pt done);


/* step 1: GET the index of the body's email */

ngx_int_t
ngx_http_mobispot_admin_user_email(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    u_char                         *email;
    ngx_str_t                      *key;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_account_t    *ac;
    ngx_http_mobispot_redis_cmd_t  *cmd;

    static ngx_str_t  get = ngx_string("GET");

    ad = ctx->data;
    ac = &ad->account;

    /* the sign-in takes an email in any case (of its ASCII letters) */

    email = ngx_pnalloc(r->pool, ac->email.len + 1);
    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));
    key = ngx_palloc(r->pool, sizeof(ngx_str_t));

    if (email == NULL || cmd == NULL || key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_strlow(email, ac->email.data, ac->email.len);
    ac->email.data = email;

    if (ngx_http_mobispot_admin_user_email_key(r, &ac->email, key) != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, cmd, 2, &get, key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_user_read(r, ctx, cmd, key,
                                       ngx_http_mobispot_user_email_done);
}


/* the index's account: none or this one, the write; another, step 2 */

static ngx_int_t
ngx_http_mobispot_user_email_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_str_t                      *key, *owner;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t  *cmd;

    static ngx_str_t  hget = ngx_string("HGET");
    static ngx_str_t  email = ngx_string("email");

    ad = ctx->data;

    if (replies[0].type == REDIS_REPLY_NIL) {
        return ngx_http_mobispot_admin_user_write(r, ctx);
    }

    if (replies[0].type != REDIS_REPLY_STRING) {
        return ngx_http_mobispot_api_bad_reply(r, "GET of the email's index");
    }

    owner = &replies[0].str;

    if ((owner->len == ad->id.len
         && ngx_strncmp(owner->data, ad->id.data, owner->len) == 0)
        || !mobispot_user_id_valid((const char *) owner->data, owner->len))
    {
        return ngx_http_mobispot_admin_user_write(r, ctx);
    }

    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));
    key = ngx_palloc(r->pool, sizeof(ngx_str_t));

    if (cmd == NULL || key == NULL
        || ngx_http_mobispot_spots_key(r, key, "ms:{user:%V}:info", owner)
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, cmd, 3, &hget, key, &email)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_user_read(r, ctx, cmd, key,
                                       ngx_http_mobispot_user_owner_done);
}


/* the other account's email: this one, 409; another or none, the write */

static ngx_int_t
ngx_http_mobispot_user_owner_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_str_t                     *held;
    ngx_http_mobispot_admin_t     *ad;
    ngx_http_mobispot_account_t   *ac;

    ad = ctx->data;
    ac = &ad->account;

    if (replies[0].type == REDIS_REPLY_STRING) {
        held = &replies[0].str;

        if (held->len == ac->email.len
            && ngx_strncmp(held->data, ac->email.data, held->len) == 0)
        {
            return ngx_http_mobispot_spots_error(r, NGX_HTTP_CONFLICT,
                                                 "email_taken",
                                                 "another account has "
                                                 "this email",
                                                 "field", "email");
        }

    } else if (replies[0].type != REDIS_REPLY_NIL) {
        return ngx_http_mobispot_api_bad_reply(r, "HGET of an account's "
                                                  "email");
    }

    return ngx_http_mobispot_admin_user_write(r, ctx);
}


/* one read command of key (declared read) and its callback */

static ngx_int_t
ngx_http_mobispot_user_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmd,
    ngx_str_t *key, ngx_http_mobispot_api_done_pt done)
{
    ngx_http_mobispot_api_keys_t  *keys;

    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));
    if (keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys->read = key;
    keys->nread = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmd, 1, keys, done);
}
