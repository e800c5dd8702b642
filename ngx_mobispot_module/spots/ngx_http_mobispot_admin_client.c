
/*
 * Copyright (C) Mobispot
 *
 * The issuer's client registry (docs/data-model.md, "Clients"):
 *
 *     PUT    {prefix}admin/clients/{id}   the body checked (..._check.c),
 *                                         then round trip 0 when needed,
 *                                         the secret's hash, the write
 *     GET    {prefix}admin/clients/{id}   the client as stored
 *     DELETE {prefix}admin/clients/{id}
 *
 * A client is one hash, ms:{client:<id>}: its document as stored (doc,
 * never the secret), and the fields the issuer reads (kind, name,
 * redirect_uris, post_logout_redirect_uris, site, secret_hash).  Round
 * trip 0, pipelined, only when needed: HGET ms:sites <site> (a site
 * gateway's site must exist), HEXISTS ms:{client:<id>} secret_hash (a
 * confidential client that sends no secret must have one).  The write is
 * one MULTI/EXEC on the client's own tag: HDEL of the fields its kind does
 * not have (site, secret_hash), HSET of the others.  A secret is hashed
 * in the thread pool before the write (ngx_http_mobispot_admin_hash()).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_admin.h"


static ngx_http_mobispot_admin_t *ngx_http_mobispot_client_begin(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t **key,
    ngx_int_t *rc);
static ngx_int_t ngx_http_mobispot_client_key(ngx_http_request_t *r,
    ngx_http_mobispot_admin_t *ad, ngx_str_t **key);
static ngx_int_t ngx_http_mobispot_client_exist(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_client_exist_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_client_write(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_client_write_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_client_delete_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_client_absent(ngx_http_request_t *r);


static ngx_str_t  ngx_http_mobispot_client_hashed = ngx_string("secret_hash");


/* PUT {prefix}admin/clients/{id} */

ngx_int_t
ngx_http_mobispot_admin_client_put(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_http_mobispot_admin_t   *ad;
    ngx_http_mobispot_client_t  *cl;

    ad = ngx_http_mobispot_admin_put_checked(r, ctx, mobispot_id_valid,
                                             "a client id is 1 to 64 of "
                                             "[a-z0-9_-], the first a letter "
                                             "or a digit",
                                             ngx_http_mobispot_check_client,
                                             &rc);
    if (ad == NULL) {
        return rc;
    }

    ad->what = "client";
    cl = &ad->client;

    if (cl->kind == NGX_HTTP_MOBISPOT_CLIENT_SITE_GATEWAY
        || (cl->kind == NGX_HTTP_MOBISPOT_CLIENT_CONFIDENTIAL
            && cl->secret.len == 0))
    {
        return ngx_http_mobispot_client_exist(r, ctx);
    }

    return ngx_http_mobispot_client_write(r, ctx);
}


/* GET {prefix}admin/clients/{id}: HGET ms:{client:<id>} doc */

ngx_int_t
ngx_http_mobispot_admin_client_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                      *key;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t   cmd;

    static ngx_str_t  hget = ngx_string("HGET");
    static ngx_str_t  doc = ngx_string("doc");

    ad = ngx_http_mobispot_client_begin(r, ctx, &key, &rc);
    if (ad == NULL) {
        return rc;
    }

    if (ngx_http_mobispot_admin_cmd(r, &cmd, 3, &hget, key, &doc) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_admin_doc(r, ctx, &cmd, key);
}


/* DELETE {prefix}admin/clients/{id}: DEL ms:{client:<id>} */

ngx_int_t
ngx_http_mobispot_admin_client_delete(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                      *key;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t   cmd;
    ngx_http_mobispot_api_keys_t   *keys;

    static ngx_str_t  del = ngx_string("DEL");

    ad = ngx_http_mobispot_client_begin(r, ctx, &key, &rc);
    if (ad == NULL) {
        return rc;
    }

    ad->deleted = 1;

    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (keys == NULL
        || ngx_http_mobispot_admin_cmd(r, &cmd, 2, &del, key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys->written = key;
    keys->nwritten = 1;

    return ngx_http_mobispot_api_call(r, ctx, &cmd, 1, keys,
                                      ngx_http_mobispot_client_delete_done);
}


static ngx_int_t
ngx_http_mobispot_client_delete_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    if (replies[0].type != REDIS_REPLY_INTEGER) {
        return ngx_http_mobispot_api_bad_reply(r, "DEL of a client");
    }

    if (replies[0].integer == 0) {
        return ngx_http_mobispot_client_absent(r);
    }

    return ngx_http_mobispot_admin_answer(r, ctx->data);
}


/*
 * The start of GET and DELETE: the state and the client's key; an id that
 * cannot name a key is a 404.
 */

static ngx_http_mobispot_admin_t *
ngx_http_mobispot_client_begin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t **key, ngx_int_t *rc)
{
    ngx_http_mobispot_admin_t  *ad;

    ad = ngx_http_mobispot_admin_begin(r, ctx, rc);
    if (ad == NULL) {
        return NULL;
    }

    ad->what = "client";
    ad->absent = ngx_http_mobispot_client_absent;

    if (!mobispot_id_valid((char *) ad->id.data, ad->id.len)) {
        *rc = ngx_http_mobispot_client_absent(r);
        return NULL;
    }

    if (ngx_http_mobispot_client_key(r, ad, key) != NGX_OK) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    return ad;
}


static ngx_int_t
ngx_http_mobispot_client_absent(ngx_http_request_t *r)
{
    return ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "no such client", "parameter", "id");
}


/* ms:{client:<id>}, in r->pool */

static ngx_int_t
ngx_http_mobispot_client_key(ngx_http_request_t *r,
    ngx_http_mobispot_admin_t *ad, ngx_str_t **key)
{
    *key = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (*key == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_mobispot_spots_key(r, *key, "ms:{client:%V}", &ad->id);
}


/*
 * Round trip 0: HGET ms:sites <site> (a site gateway), HEXISTS
 * ms:{client:<id>} secret_hash (a confidential client without a secret in
 * the body), pipelined.
 */

static ngx_int_t
ngx_http_mobispot_client_exist(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_str_t                      *read, *key;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_client_t     *cl;
    ngx_http_mobispot_redis_cmd_t  *cmd;
    ngx_http_mobispot_api_keys_t   *keys;

    static ngx_str_t  hget = ngx_string("HGET");
    static ngx_str_t  hexists = ngx_string("HEXISTS");
    static ngx_str_t  sites = ngx_string(NGX_HTTP_MOBISPOT_KEY_SITES);

    ad = ctx->data;
    cl = &ad->client;

    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));
    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));
    read = ngx_palloc(r->pool, sizeof(ngx_str_t));

    if (cmd == NULL || keys == NULL || read == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* one command: a site gateway has no secret */

    if (cl->kind == NGX_HTTP_MOBISPOT_CLIENT_SITE_GATEWAY) {
        *read = sites;

        if (ngx_http_mobispot_admin_cmd(r, cmd, 3, &hget, &sites, &cl->site)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else {
        if (ngx_http_mobispot_client_key(r, ad, &key) != NGX_OK
            || ngx_http_mobispot_admin_cmd(r, cmd, 3, &hexists, key,
                                           &ngx_http_mobispot_client_hashed)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *read = *key;
    }

    keys->read = read;
    keys->nread = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmd, 1, keys,
                                      ngx_http_mobispot_client_exist_done);
}


static ngx_int_t
ngx_http_mobispot_client_exist_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_check_t    ck;
    ngx_http_mobispot_admin_t   *ad;
    ngx_http_mobispot_client_t  *cl;

    ad = ctx->data;
    cl = &ad->client;

    ngx_memzero(&ck, sizeof(ngx_http_mobispot_check_t));
    ck.request = r;

    if (cl->kind == NGX_HTTP_MOBISPOT_CLIENT_SITE_GATEWAY) {
        if (replies[0].type == REDIS_REPLY_NIL) {
            (void) ngx_http_mobispot_check_fail(&ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "unknown site", "site");
            return ngx_http_mobispot_check_send(&ck);
        }

        if (replies[0].type != REDIS_REPLY_STRING) {
            return ngx_http_mobispot_api_bad_reply(r, "HGET of the site");
        }

    } else {
        if (replies[0].type != REDIS_REPLY_INTEGER) {
            return ngx_http_mobispot_api_bad_reply(r, "HEXISTS of a secret");
        }

        if (replies[0].integer == 0) {
            (void) ngx_http_mobispot_check_fail(&ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "a confidential client needs "
                                                "a secret: none is stored",
                                                "secret");
            return ngx_http_mobispot_check_send(&ck);
        }
    }

    return ngx_http_mobispot_client_write(r, ctx);
}


/*
 * The write, once a secret is hashed (ngx_http_mobispot_admin_hash()
 * comes back here): MULTI, [HDEL key <the fields of other kinds>], HSET
 * key doc .. kind .. name .. redirect_uris .. post_logout_redirect_uris ..
 * [site ..] [secret_hash ..], EXEC.
 */

static ngx_int_t
ngx_http_mobispot_client_write(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    size_t                         *argvlen, *dellen;
    ngx_str_t                      *key, *v[5];
    ngx_uint_t                      i, k, d, nv, ncmds;
    const char                    **argv, **del;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_client_t     *cl;
    ngx_http_mobispot_redis_cmd_t  *cmds;
    ngx_http_mobispot_api_keys_t   *keys;

    static ngx_str_t  multi = ngx_string("MULTI");
    static ngx_str_t  exec = ngx_string("EXEC");

    static const char  *names[7] = {
        "doc", "kind", "name", "redirect_uris", "post_logout_redirect_uris",
        "site", "secret_hash"
    };

    ad = ctx->data;
    cl = &ad->client;

    if (cl->secret.len && cl->hash.len == 0) {
        return ngx_http_mobispot_admin_hash(r, ctx, &cl->secret, &cl->hash,
                                            ngx_http_mobispot_client_write);
    }

    v[0] = &ad->doc;
    v[1] = &cl->kind_name;
    v[2] = &cl->name;
    v[3] = &cl->redirect;
    v[4] = &cl->logout;
    nv = 5;

    argv = ngx_palloc(r->pool, (2 + 2 * (nv + 2)) * sizeof(char *));
    argvlen = ngx_palloc(r->pool, (2 + 2 * (nv + 2)) * sizeof(size_t));
    del = ngx_palloc(r->pool, 4 * sizeof(char *));
    dellen = ngx_palloc(r->pool, 4 * sizeof(size_t));
    cmds = ngx_palloc(r->pool, 4 * sizeof(ngx_http_mobispot_redis_cmd_t));
    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (argv == NULL || argvlen == NULL || del == NULL || dellen == NULL
        || cmds == NULL || keys == NULL
        || ngx_http_mobispot_client_key(r, ad, &key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "HSET";
    argvlen[0] = sizeof("HSET") - 1;
    del[0] = "HDEL";
    dellen[0] = sizeof("HDEL") - 1;
    argv[1] = del[1] = (const char *) key->data;
    argvlen[1] = dellen[1] = key->len;

    k = 2;

    for (i = 0; i < nv; i++) {
        argv[k] = names[i];
        argvlen[k++] = ngx_strlen(names[i]);
        argv[k] = (const char *) v[i]->data;
        argvlen[k++] = v[i]->len;
    }

    /* the fields of other kinds go; a kept secret stays */

    d = 2;

    if (cl->kind == NGX_HTTP_MOBISPOT_CLIENT_SITE_GATEWAY) {
        argv[k] = names[5];
        argvlen[k++] = ngx_strlen(names[5]);
        argv[k] = (const char *) cl->site.data;
        argvlen[k++] = cl->site.len;

    } else {
        del[d] = names[5];
        dellen[d++] = ngx_strlen(names[5]);
    }

    if (cl->hash.len) {
        argv[k] = names[6];
        argvlen[k++] = ngx_strlen(names[6]);
        argv[k] = (const char *) cl->hash.data;
        argvlen[k++] = cl->hash.len;

    } else if (cl->kind != NGX_HTTP_MOBISPOT_CLIENT_CONFIDENTIAL) {
        del[d] = names[6];
        dellen[d++] = ngx_strlen(names[6]);
    }

    ncmds = 0;

    if (ngx_http_mobispot_admin_cmd(r, &cmds[ncmds++], 1, &multi) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (d > 2) {
        cmds[ncmds].argc = (int) d;
        cmds[ncmds].argv = del;
        cmds[ncmds++].argvlen = dellen;
    }

    cmds[ncmds].argc = (int) k;
    cmds[ncmds].argv = argv;
    cmds[ncmds++].argvlen = argvlen;

    if (ngx_http_mobispot_admin_cmd(r, &cmds[ncmds++], 1, &exec) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* HSET's reply: how many fields were new; all of them for a new client */
    ad->new_when = (long long) (k - 2) / 2;

    keys->written = key;
    keys->nwritten = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmds, ncmds, keys,
                                      ngx_http_mobispot_client_write_done);
}


static ngx_int_t
ngx_http_mobispot_client_write_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_reply_t  *exec, *hset;
    ngx_http_mobispot_admin_t  *ad;

    ad = ctx->data;

    exec = ngx_http_mobispot_admin_exec(replies, n);
    if (exec == NULL) {
        return ngx_http_mobispot_api_bad_reply(r, "a client write");
    }

    hset = &exec->element[exec->elements - 1];

    ad->created = (hset->type == REDIS_REPLY_INTEGER
                   && hset->integer == ad->new_when);

    return ngx_http_mobispot_admin_answer(r, ad);
}
