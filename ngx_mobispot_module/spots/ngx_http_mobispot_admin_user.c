
/*
 * Copyright (C) Mobispot
 *
 * The back office's accounts (docs/data-model.md, "Accounts"):
 *
 *     PUT    {prefix}admin/users/{id}   the body checked
 *                                       (ngx_http_mobispot_admin_user_check.c),
 *                                       the networks and sites it names
 *                                       checked against Redis, then the write
 *                                       (ngx_http_mobispot_admin_user_write.c)
 *     GET    {prefix}admin/users/{id}   the account as stored
 *     DELETE {prefix}admin/users/{id}
 *
 * The id is the user's token's "sub" (mobispot_user_id_valid()).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_admin.h"


static ngx_http_mobispot_admin_t *ngx_http_mobispot_user_begin(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx, ngx_int_t *rc);
static ngx_int_t ngx_http_mobispot_user_exist(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_account_t *ac);
static ngx_int_t ngx_http_mobispot_user_hmget(ngx_http_request_t *r,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_str_t *key,
    ngx_http_mobispot_named_t *named, ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_user_exist_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_user_unknown(ngx_http_mobispot_check_t *ck,
    ngx_http_mobispot_reply_t *reply, ngx_http_mobispot_account_t *ac,
    ngx_uint_t list);


/* the hashes that know the ids named, and what an unknown one is */

static const char  *ngx_http_mobispot_user_hashes[2] = {
    NGX_HTTP_MOBISPOT_KEY_PASSPORTS, NGX_HTTP_MOBISPOT_KEY_SITES
};

static const char  *ngx_http_mobispot_user_unknowns[2] = {
    "unknown network", "unknown site"
};


/* PUT {prefix}admin/users/{id} */

ngx_int_t
ngx_http_mobispot_admin_user_put(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_http_mobispot_admin_t    *ad;
    ngx_http_mobispot_account_t  *ac;

    ad = ngx_http_mobispot_admin_put_checked(r, ctx, mobispot_user_id_valid,
                                             "a user id is a token's sub: "
                                             "1 to 128 of [A-Za-z0-9._@|+-], "
                                             "the first a letter or a digit",
                                             ngx_http_mobispot_check_user,
                                             &rc);
    if (ad == NULL) {
        return rc;
    }

    ac = &ad->account;

    if (ac->nnamed[0] == 0 && ac->nnamed[1] == 0) {
        return ngx_http_mobispot_admin_user_email(r, ctx);
    }

    return ngx_http_mobispot_user_exist(r, ctx, ac);
}


/* GET {prefix}admin/users/{id}: the account as stored, one GET */

ngx_int_t
ngx_http_mobispot_admin_user_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                      *key;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t   cmd;

    static ngx_str_t  get = ngx_string("GET");

    ad = ngx_http_mobispot_user_begin(r, ctx, &rc);
    if (ad == NULL) {
        return rc;
    }

    key = ngx_palloc(r->pool, sizeof(ngx_str_t));

    if (key == NULL
        || ngx_http_mobispot_spots_key(r, key, "ms:{user:%V}:doc", &ad->id)
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmd, 2, &get, key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ad->absent = ngx_http_mobispot_admin_user_absent;

    return ngx_http_mobispot_admin_doc(r, ctx, &cmd, key);
}


/* DELETE {prefix}admin/users/{id} */

ngx_int_t
ngx_http_mobispot_admin_user_delete(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_mobispot_admin_t  *ad;

    ad = ngx_http_mobispot_user_begin(r, ctx, &rc);
    if (ad == NULL) {
        return rc;
    }

    return ngx_http_mobispot_admin_user_remove(r, ctx);
}


/*
 * The start of GET and DELETE: the state, and an id that cannot name a
 * key names no account (404).
 */

static ngx_http_mobispot_admin_t *
ngx_http_mobispot_user_begin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_int_t *rc)
{
    ngx_http_mobispot_admin_t  *ad;

    ad = ngx_http_mobispot_admin_begin(r, ctx, rc);
    if (ad == NULL) {
        return NULL;
    }

    if (!mobispot_user_id_valid((char *) ad->id.data, ad->id.len)) {
        *rc = ngx_http_mobispot_admin_user_absent(r);
        return NULL;
    }

    return ad;
}


/* the 404 of an account that is not there */

ngx_int_t
ngx_http_mobispot_admin_user_absent(ngx_http_request_t *r)
{
    return ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "no such account", "parameter",
                                         "id");
}


/*
 * The networks and sites an account names must exist: HMGET of the
 * networks' passports (the catalogue of networks) and of ms:sites, in one
 * round trip; then the write.
 */

static ngx_int_t
ngx_http_mobispot_user_exist(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_account_t *ac)
{
    ngx_uint_t                      i, n;
    ngx_str_t                      *read;
    ngx_http_mobispot_redis_cmd_t  *cmds;
    ngx_http_mobispot_api_keys_t   *keys;

    cmds = ngx_palloc(r->pool, 2 * sizeof(ngx_http_mobispot_redis_cmd_t));
    read = ngx_palloc(r->pool, 2 * sizeof(ngx_str_t));
    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || read == NULL || keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (i = 0; i < 2; i++) {
        if (ac->nnamed[i] == 0) {
            continue;
        }

        read[n].data = (u_char *) ngx_http_mobispot_user_hashes[i];
        read[n].len = ngx_strlen(ngx_http_mobispot_user_hashes[i]);

        if (ngx_http_mobispot_user_hmget(r, &cmds[n], &read[n],
                                         ac->named[i], ac->nnamed[i])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n++;
    }

    keys->read = read;
    keys->nread = n;

    return ngx_http_mobispot_api_call(r, ctx, cmds, n, keys,
                                      ngx_http_mobispot_user_exist_done);
}


/* HMGET key <the ids named> */

static ngx_int_t
ngx_http_mobispot_user_hmget(ngx_http_request_t *r,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_str_t *key,
    ngx_http_mobispot_named_t *named, ngx_uint_t n)
{
    size_t       *argvlen;
    ngx_uint_t    i;
    const char  **argv;

    argv = ngx_palloc(r->pool, (2 + n) * sizeof(char *));
    argvlen = ngx_palloc(r->pool, (2 + n) * sizeof(size_t));

    if (argv == NULL || argvlen == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "HMGET";
    argvlen[0] = sizeof("HMGET") - 1;
    argv[1] = (const char *) key->data;
    argvlen[1] = key->len;

    for (i = 0; i < n; i++) {
        argv[2 + i] = named[i].id;
        argvlen[2 + i] = ngx_strlen(named[i].id);
    }

    cmd->argc = (int) (2 + n);
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_user_exist_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_int_t                     rc;
    ngx_uint_t                    i, k;
    ngx_http_mobispot_check_t     ck;
    ngx_http_mobispot_admin_t    *ad;
    ngx_http_mobispot_account_t  *ac;

    ad = ctx->data;
    ac = &ad->account;

    ngx_memzero(&ck, sizeof(ngx_http_mobispot_check_t));
    ck.request = r;

    k = 0;
    rc = NGX_OK;

    for (i = 0; i < 2 && rc == NGX_OK; i++) {
        if (ac->nnamed[i]) {
            rc = ngx_http_mobispot_user_unknown(&ck, &replies[k++], ac, i);
        }
    }

    switch (rc) {

    case NGX_OK:
        return ngx_http_mobispot_admin_user_email(r, ctx);

    case NGX_DECLINED:
        return ngx_http_mobispot_check_send(&ck);

    default:
        return ngx_http_mobispot_api_bad_reply(r, "HMGET of the ids named");
    }
}


/*
 * Whether each id of the list has a value in the HMGET's reply: NGX_OK, or
 * NGX_DECLINED with the first unknown one in ck; NGX_ERROR: not a reply of
 * that HMGET.
 */

static ngx_int_t
ngx_http_mobispot_user_unknown(ngx_http_mobispot_check_t *ck,
    ngx_http_mobispot_reply_t *reply, ngx_http_mobispot_account_t *ac,
    ngx_uint_t list)
{
    ngx_uint_t                  i;
    const char                 *message;
    ngx_http_mobispot_named_t  *named;

    if (reply->type != REDIS_REPLY_ARRAY
        || reply->elements != ac->nnamed[list])
    {
        return NGX_ERROR;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i].type != REDIS_REPLY_STRING) {
            named = &ac->named[list][i];
            message = ngx_http_mobispot_user_unknowns[list];

            return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                message, named->field,
                                                named->index);
        }
    }

    return NGX_OK;
}
