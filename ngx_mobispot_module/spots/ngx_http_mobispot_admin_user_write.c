
/*
 * Copyright (C) Mobispot
 *
 * The writes of the accounts, once a body has been checked
 * (ngx_http_mobispot_admin_user.c).  As the catalogue's writes
 * (ngx_http_mobispot_admin_write.c), two steps, the second sent only when
 * every reply of the first (every reply inside its EXEC too) says it was
 * done:
 *
 *   1. the account itself, atomically on its hash tag {user:<id>}: MULTI,
 *      HGET of the info's passports and HGET of its email (those that the
 *      write replaces), HDEL of the info's fields, HSET info <fields>
 *      email <lowercased> [password_hash <hash>], SET doc, EXEC; a DELETE:
 *      MULTI, HGET of the passports, HGET of the email, DEL doc, DEL info
 *      (its password's hash too), EXEC;
 *   2. the settlement's index of each network's passports,
 *      ms:passports:<network> (field: the user id, value: the user's
 *      "from/to" of that network): HSET for each network the account
 *      holds, HDEL for each that it held and no longer holds; and the
 *      sign-in's index of emails, ms:{email:<sha256 hex of the lowercased
 *      email>} (the account id): SET of the new one, DEL of the replaced
 *      one when it changed (or the account went).
 *
 * So a write that fails leaves either nothing, or the account without its
 * index (answered with an error: repeating the PUT or DELETE completes
 * it).  Every call declares the keys it reads and writes.  A password is
 * hashed in the thread pool before step 1 (ngx_http_mobispot_admin_hash()):
 * only its hash is sent to Redis.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "spots/ngx_http_mobispot_admin.h"


#define NGX_HTTP_MOBISPOT_KEY_USER_PASSPORTS  "ms:passports:"


static ngx_http_mobispot_redis_cmd_t *ngx_http_mobispot_user_cmds(
    ngx_http_request_t *r, ngx_http_mobispot_admin_t *ad, ngx_uint_t n,
    ngx_str_t **keys);
static ngx_int_t ngx_http_mobispot_user_entry(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmds,
    ngx_uint_t n, ngx_str_t *keys);
static ngx_int_t ngx_http_mobispot_user_entry_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_user_index(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_user_index_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_admin_t *ad, ngx_uint_t first,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_str_t *key);
static ngx_uint_t ngx_http_mobispot_user_holds(
    ngx_http_mobispot_account_t *ac, u_char *network, size_t len);


static ngx_str_t  ngx_http_mobispot_user_del = ngx_string("DEL");


/*
 * PUT admin/users/{id}: with a password, its hash made first in the thread
 * pool (ngx_http_mobispot_admin_hash(), which comes back here); then step
 * 1: MULTI, HGET info passports, HDEL info <the account's fields>, HSET
 * info <fields> [password_hash <hash>], SET doc, EXEC.  HDEL, not DEL: a
 * PUT without a password keeps the stored hash.
 */

ngx_int_t
ngx_http_mobispot_admin_user_write(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    size_t                         *argvlen, *dellen;
    ngx_str_t                      *keys;
    ngx_uint_t                      i, k;
    const char                    **argv, **del;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_account_t    *ac;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    static ngx_str_t  set = ngx_string("SET");

    static const char  *names[NGX_HTTP_MOBISPOT_USER_FIELDS] = {
        "passports", "company", "company_zones", "company_networks",
        "admin", "operator_of"
    };

    ad = ctx->data;
    ad->what = "account";
    ac = &ad->account;

    if (ac->password.len && ac->hash.len == 0) {
        return ngx_http_mobispot_admin_hash(r, ctx, &ac->password, &ac->hash,
                                            ngx_http_mobispot_admin_user_write);
    }

    k = 6 + 2 * NGX_HTTP_MOBISPOT_USER_FIELDS;
    argv = ngx_palloc(r->pool, k * sizeof(char *));
    argvlen = ngx_palloc(r->pool, k * sizeof(size_t));
    k = 2 + NGX_HTTP_MOBISPOT_USER_FIELDS;
    del = ngx_palloc(r->pool, k * sizeof(char *));
    dellen = ngx_palloc(r->pool, k * sizeof(size_t));
    cmds = ngx_http_mobispot_user_cmds(r, ad, 7, &keys);

    if (argv == NULL || argvlen == NULL || del == NULL || dellen == NULL
        || cmds == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "HSET";
    argvlen[0] = sizeof("HSET") - 1;
    del[0] = "HDEL";
    dellen[0] = sizeof("HDEL") - 1;
    argv[1] = del[1] = (char *) keys[0].data;
    argvlen[1] = dellen[1] = keys[0].len;

    k = 2;

    for (i = 0; i < NGX_HTTP_MOBISPOT_USER_FIELDS; i++) {
        del[2 + i] = names[i];
        dellen[2 + i] = ngx_strlen(names[i]);
        argv[k] = names[i];
        argvlen[k++] = ngx_strlen(names[i]);
        argv[k] = (char *) ac->info[i].data;
        argvlen[k++] = ac->info[i].len;
    }

    argv[k] = "email";
    argvlen[k++] = sizeof("email") - 1;
    argv[k] = (char *) ac->email.data;
    argvlen[k++] = ac->email.len;

    if (ac->hash.len) {
        argv[k] = NGX_HTTP_MOBISPOT_USER_PASSWORD_HASH;
        argvlen[k++] = sizeof(NGX_HTTP_MOBISPOT_USER_PASSWORD_HASH) - 1;
        argv[k] = (char *) ac->hash.data;
        argvlen[k++] = ac->hash.len;
    }

    cmds[3].argc = 2 + NGX_HTTP_MOBISPOT_USER_FIELDS;
    cmds[3].argv = del;
    cmds[3].argvlen = dellen;

    cmds[4].argc = (int) k;
    cmds[4].argv = argv;
    cmds[4].argvlen = argvlen;

    if (ngx_http_mobispot_admin_cmd(r, &cmds[5], 3, &set, &keys[1], &ad->doc)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_user_entry(r, ctx, cmds, 7, keys);
}


/*
 * DELETE admin/users/{id}, step 1: MULTI, HGET info passports, DEL doc,
 * DEL info, EXEC.
 */

ngx_int_t
ngx_http_mobispot_admin_user_remove(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_str_t                      *keys;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    ad = ctx->data;
    ad->what = "account";
    ad->deleted = 1;

    cmds = ngx_http_mobispot_user_cmds(r, ad, 6, &keys);

    if (cmds == NULL
        || ngx_http_mobispot_admin_cmd(r, &cmds[3], 2,
                                       &ngx_http_mobispot_user_del, &keys[1])
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[4], 2,
                                       &ngx_http_mobispot_user_del, &keys[0])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_user_entry(r, ctx, cmds, 6, keys);
}


/*
 * The n commands of step 1, and its keys: (*keys)[0] ms:{user:<id>}:info,
 * (*keys)[1] ms:{user:<id>}:doc.
 */

static ngx_http_mobispot_redis_cmd_t *
ngx_http_mobispot_user_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_admin_t *ad, ngx_uint_t n, ngx_str_t **keys)
{
    *keys = ngx_palloc(r->pool, 2 * sizeof(ngx_str_t));

    if (*keys == NULL
        || ngx_http_mobispot_spots_key(r, &(*keys)[0], "ms:{user:%V}:info",
                                       &ad->id)
           != NGX_OK
        || ngx_http_mobispot_spots_key(r, &(*keys)[1], "ms:{user:%V}:doc",
                                       &ad->id)
           != NGX_OK)
    {
        return NULL;
    }

    return ngx_palloc(r->pool, n * sizeof(ngx_http_mobispot_redis_cmd_t));
}


/*
 * Step 1 sent: around the caller's commands cmds[3..n-2], MULTI, HGET of
 * the info's passports and of its email (what the transaction replaces),
 * and EXEC.
 */

static ngx_int_t
ngx_http_mobispot_user_entry(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmds,
    ngx_uint_t n, ngx_str_t *keys)
{
    ngx_http_mobispot_api_keys_t  *declared;

    static ngx_str_t  multi = ngx_string("MULTI");
    static ngx_str_t  hget = ngx_string("HGET");
    static ngx_str_t  passports = ngx_string("passports");
    static ngx_str_t  email = ngx_string("email");
    static ngx_str_t  exec = ngx_string("EXEC");

    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (declared == NULL
        || ngx_http_mobispot_admin_cmd(r, &cmds[0], 1, &multi) != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[1], 3, &hget, &keys[0],
                                       &passports)
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[2], 3, &hget, &keys[0],
                                       &email)
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[n - 1], 1, &exec) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    declared->read = keys;
    declared->nread = 1;
    declared->written = keys;
    declared->nwritten = 2;

    return ngx_http_mobispot_api_call(r, ctx, cmds, n, declared,
                                      ngx_http_mobispot_user_entry_done);
}


/*
 * The replies of step 1: inside EXEC, the old passports (or nil), the old
 * email (or nil), then HDEL of the info's fields (PUT: 0 when the account
 * is new) or DEL doc and DEL info (DELETE: both 0 when there was none).
 */

static ngx_int_t
ngx_http_mobispot_user_entry_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_reply_t  *exec, *e;
    ngx_http_mobispot_admin_t  *ad;

    ad = ctx->data;

    exec = ngx_http_mobispot_admin_exec(replies, n);
    if (exec == NULL) {
        return ngx_http_mobispot_api_bad_reply(r, "an account write");
    }

    e = exec->element;

    if (e[0].type == REDIS_REPLY_STRING) {
        ad->account.old = e[0].str;
    }

    if (e[1].type == REDIS_REPLY_STRING) {
        ad->account.old_email = e[1].str;
    }

    if (ad->deleted) {
        if (e[2].integer == 0 && e[3].integer == 0) {
            return ngx_http_mobispot_admin_user_absent(r);
        }

    } else {
        ad->created = (e[2].type == REDIS_REPLY_INTEGER && e[2].integer == 0);
    }

    return ngx_http_mobispot_user_index(r, ctx);
}


/*
 * Step 2: HSET ms:passports:<network> <id> <from/to,...> for each network
 * the account holds (none after a DELETE), HDEL for each network of the
 * replaced passports that it no longer holds; SET ms:{email:<hash>} <id>
 * of its email (not after a DELETE), DEL of the replaced email's when it
 * is another.
 */

static ngx_int_t
ngx_http_mobispot_user_index(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    size_t                          len;
    ngx_str_t                      *keys;
    ngx_uint_t                      i, n, max;
    const char                     *p, *end, *item, *slash;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_account_t    *ac;
    ngx_http_mobispot_redis_cmd_t  *cmds;
    ngx_http_mobispot_api_keys_t   *declared;

    static ngx_str_t  hdel = ngx_string("HDEL");
    static ngx_str_t  set = ngx_string("SET");

    ad = ctx->data;
    ac = &ad->account;

    /*
     * at most one command a passport, new or old: the old field (as Redis
     * holds it, whatever it is) has at most one word in two bytes
     */

    max = ac->npassports + ac->old.len / 2 + 3;

    cmds = ngx_palloc(r->pool, max * sizeof(ngx_http_mobispot_redis_cmd_t));
    keys = ngx_palloc(r->pool, max * sizeof(ngx_str_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || keys == NULL || declared == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (i = 0; i < ac->npassports; i++) {
        if (i > 0
            && ngx_strcmp(ac->passports[i].network.data,
                          ac->passports[i - 1].network.data)
               == 0)
        {
            continue;
        }

        if (ngx_http_mobispot_user_index_cmd(r, ad, i, &cmds[n], &keys[n])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n++;
    }

    /* the old passports: "network/from/to", comma-separated */

    p = (const char *) ac->old.data;
    end = p + ac->old.len;

    while (mobispot_list_next(&p, end, &item, &len)) {
        slash = (const char *) ngx_strlchr((u_char *) item,
                                           (u_char *) item + len, '/');
        len = slash ? (size_t) (slash - item) : len;

        if (!mobispot_id_valid(item, len)
            || ngx_http_mobispot_user_holds(ac, (u_char *) item, len))
        {
            continue;
        }

        /* once a network */

        for (i = 0; i < n; i++) {
            if (keys[i].len == sizeof(NGX_HTTP_MOBISPOT_KEY_USER_PASSPORTS)
                               - 1 + len
                && ngx_strncmp(keys[i].data
                               + sizeof(NGX_HTTP_MOBISPOT_KEY_USER_PASSPORTS)
                               - 1, item, len)
                   == 0)
            {
                break;
            }
        }

        if (i < n) {
            continue;
        }

        if (ngx_http_mobispot_spots_key(r, &keys[n],
                                        NGX_HTTP_MOBISPOT_KEY_USER_PASSPORTS
                                        "%*s", len, item)
            != NGX_OK
            || ngx_http_mobispot_admin_cmd(r, &cmds[n], 3, &hdel, &keys[n],
                                           &ad->id)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n++;
    }

    if (!ad->deleted && ac->email.len) {
        if (ngx_http_mobispot_admin_user_email_key(r, &ac->email, &keys[n])
            != NGX_OK
            || ngx_http_mobispot_admin_cmd(r, &cmds[n], 3, &set, &keys[n],
                                           &ad->id)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n++;
    }

    if (ac->old_email.len
        && (ad->deleted || ac->old_email.len != ac->email.len
            || ngx_strncmp(ac->old_email.data, ac->email.data,
                           ac->email.len)
               != 0))
    {
        if (ngx_http_mobispot_admin_user_email_key(r, &ac->old_email, &keys[n])
            != NGX_OK
            || ngx_http_mobispot_admin_cmd(r, &cmds[n], 2,
                                           &ngx_http_mobispot_user_del,
                                           &keys[n])
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n++;
    }

    if (n == 0) {
        return ngx_http_mobispot_admin_answer(r, ad);
    }

    declared->written = keys;
    declared->nwritten = n;

    return ngx_http_mobispot_api_call(r, ctx, cmds, n, declared,
                                      ngx_http_mobispot_admin_index_done);
}


/*
 * HSET ms:passports:<network> <id> <from/to>[,<from/to>...]: the
 * passports of that network, from the account's passports[first] on
 * (they are sorted by network).
 */

static ngx_int_t
ngx_http_mobispot_user_index_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_admin_t *ad, ngx_uint_t first,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_str_t *key)
{
    u_char                        *p;
    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_http_mobispot_account_t   *ac;
    ngx_http_mobispot_passport_t  *pp;

    static ngx_str_t  hset = ngx_string("HSET");

    ac = &ad->account;
    pp = &ac->passports[first];

    value = ngx_palloc(r->pool, sizeof(ngx_str_t));
    p = ngx_pnalloc(r->pool,
                    ac->npassports * (2 * MOBISPOT_DATE_LEN + 2));

    if (value == NULL || p == NULL
        || ngx_http_mobispot_spots_key(r, key,
                                       NGX_HTTP_MOBISPOT_KEY_USER_PASSPORTS
                                       "%V", &pp->network)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    value->data = p;

    for (i = first; i < ac->npassports; i++) {
        if (ngx_strcmp(ac->passports[i].network.data, pp->network.data) != 0)
        {
            break;
        }

        if (i > first) {
            *p++ = ',';
        }

        p += mobispot_format_date(ac->passports[i].from, (char *) p);
        *p++ = '/';
        p += mobispot_format_date(ac->passports[i].to, (char *) p);
    }

    value->len = p - value->data;

    return ngx_http_mobispot_admin_cmd(r, cmd, 4, &hset, key, &ad->id, value);
}


/* whether the account, as written, holds a passport of the network */

static ngx_uint_t
ngx_http_mobispot_user_holds(ngx_http_mobispot_account_t *ac,
    u_char *network, size_t len)
{
    ngx_uint_t  i;

    for (i = 0; i < ac->npassports; i++) {
        if (ac->passports[i].network.len == len
            && ngx_strncmp(ac->passports[i].network.data, network, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* ms:{email:<SHA-256 hex of the (lowercased) email>}: the sign-in's index */

ngx_int_t
ngx_http_mobispot_admin_user_email_key(ngx_http_request_t *r, ngx_str_t *email,
    ngx_str_t *key)
{
    u_char  md[SHA256_DIGEST_LENGTH], hex[2 * SHA256_DIGEST_LENGTH];

    (void) SHA256(email->data, email->len, md);
    ngx_hex_dump(hex, md, sizeof(md));

    return ngx_http_mobispot_spots_key(r, key, "ms:{email:%*s}",
                                       sizeof(hex), hex);
}
