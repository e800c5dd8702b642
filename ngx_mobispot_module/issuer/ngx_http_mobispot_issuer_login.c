
/*
 * Copyright (C) Mobispot
 *
 * The issuer's sign-in (docs/sso.md, "Signing in"):
 *
 *     GET  {prefix}login[?continue=..]   the form (issuer_login_page.c)
 *     POST {prefix}login                 the credentials
 *     GET  {prefix}signed-in             "you are signed in"
 *
 * POST login takes application/x-www-form-urlencoded only (415), a form
 * that core/mobispot_form.c reads whole (400), whose "csrf" is the CSRF
 * cookie's (403); then, in order: round trip 1, the throttling's two PTTL
 * the account's HMGET ms:{user:<id>}:info password_hash email, and for
 * an email the GET of its index (issuer_account.c; the HMGET then in
 * round trip 2) (429 while a wait runs); the password checked in the
 * thread pool against that hash, or against mobispot_secret_dummy when
 * there is none (the same cost);
 * then a success creates the session (DEL of the account's throttling,
 * MULTI HSET EXPIREAT EXEC of ms:{sess:<sid>}), sets its cookie and sends
 * 303 to "continue" or to signed-in; a failure counts (MULTI INCR EXPIRE
 * EXEC for the account, then for the address; SET wait PX when a delay
 * starts) and answers the form again, 401, with one message for every
 * wrong part.  The password and the body that held it are wiped when the
 * request ends; neither is logged.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_login.h"
#include "core/mobispot_secret.h"
#include "core/mobispot_spots.h"
#include "http/ngx_http_mobispot_thread.h"
#include "issuer/ngx_http_mobispot_issuer.h"


/* a sign-in name: an account id or an email address */
#define NGX_HTTP_MOBISPOT_LOGIN_NAME_MAX  254


typedef struct {
    ngx_http_mobispot_throttle_t         th;
    ngx_str_t                            name;      /* as typed */
    ngx_str_t                            lower;     /* lowercased */
    ngx_uint_t                           by_id;     /* reply of its info */
    ngx_uint_t                           by_email;  /* of its email's */
    ngx_str_t                            id;        /* an account id */
    ngx_str_t                            password;
    ngx_str_t                            cont;      /* checked, or empty */
    ngx_uint_t                           by_client; /* its redirect URIs */
    ngx_str_t                            uri;       /* cont's redirect_uri */
    ngx_str_t                           *action;    /* the form-action */
    ngx_str_t                            key;       /* read in Redis */
    ngx_http_mobispot_issuer_session_t   sess;
} ngx_http_mobispot_login_t;


typedef struct {
    /* the work's */
    char                                 password[MOBISPOT_PASSWORD_MAX + 1];
    size_t                               len;
    char                                 hash[MOBISPOT_SECRET_HASH_SIZE];
    ngx_uint_t                           ok;

    /* the event loop's */
    ngx_http_mobispot_api_ctx_t         *ctx;
} ngx_http_mobispot_login_check_t;


static ngx_int_t ngx_http_mobispot_login_post(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_login_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_login_t *lg);
static ngx_int_t ngx_http_mobispot_login_account(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_login_info(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_login_verify(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *reply,
    ngx_str_t *email);
static void ngx_http_mobispot_login_work(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_mobispot_login_checked(ngx_http_request_t *r,
    void *data);
static ngx_int_t ngx_http_mobispot_login_success(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_login_created(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_login_failure(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_login_counted(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_login_wrong(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_signed_in(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static void ngx_http_mobispot_login_wipe(void *data);
static void ngx_http_mobispot_login_check_wipe(void *data);


const ngx_http_mobispot_api_route_t  ngx_http_mobispot_issuer_login_routes[] =
{
    { ngx_string("login"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_issuer_login_get, 0, 0 },

    { ngx_string("login"), NGX_HTTP_POST,
      ngx_http_mobispot_login_post, 1, 0 },

    { ngx_string("signed-in"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_signed_in, 0, 0 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


static const char  ngx_http_mobispot_login_wrong_msg[] =
    "The sign-in name or the password is not right.";


/* POST login */

static ngx_int_t
ngx_http_mobispot_login_post(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                       keys[5];
    ngx_pool_cleanup_t             *cln;
    ngx_http_mobispot_login_t      *lg;
    ngx_http_mobispot_api_keys_t   *declared;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    lg = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_login_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (lg == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = lg;
    cln->handler = ngx_http_mobispot_login_wipe;
    cln->data = ctx;

    if (!ngx_http_mobispot_issuer_form_type(r)) {
        return ngx_http_mobispot_issuer_error_page(r,
                                       NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                       "The sign-in takes a form "
                                       "(application/x-www-form-urlencoded)"
                                       " only.");
    }

    rc = ngx_http_mobispot_login_read(r, ctx, lg);
    if (rc != NGX_OK) {
        return rc;
    }

    cmds = ngx_palloc(r->pool, 5 * sizeof(ngx_http_mobispot_redis_cmd_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || declared == NULL
        || ngx_http_mobispot_issuer_throttle_check(r, &lg->th, cmds)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys[0] = lg->th.wait[0];
    keys[1] = lg->th.wait[1];
    declared->nread = 2;

    /* the id as typed, and an email's index */

    if (lg->id.len) {
        if (ngx_http_mobispot_issuer_account_read(r, &lg->id, &cmds[2],
                                                  &keys[2])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        lg->by_id = declared->nread++;
    }

    if (ngx_strlchr(lg->lower.data, lg->lower.data + lg->lower.len, '@')) {
        if (ngx_http_mobispot_issuer_account_index(r, &lg->lower,
                                            &cmds[declared->nread],
                                            &keys[declared->nread])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        lg->by_email = declared->nread++;
    }

    /* the form answered again: the form-action of an app's request */

    rc = ngx_http_mobispot_issuer_target_cmd(r, &lg->cont,
                                             &cmds[declared->nread],
                                             &keys[declared->nread],
                                             &lg->uri);
    if (rc == NGX_OK) {
        lg->by_client = declared->nread++;

    } else if (rc != NGX_DECLINED) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    declared->read = ngx_palloc(r->pool, sizeof(keys));
    if (declared->read == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(declared->read, keys, sizeof(keys));

    return ngx_http_mobispot_api_call(r, ctx, cmds, declared->nread,
                                      declared,
                                      ngx_http_mobispot_login_account);
}


/*
 * The form's fields: csrf, username, password, continue; NGX_OK, or the
 * answer already sent for a bad form (400), a bad CSRF token (403) or a
 * missing name or password (the form again, 400)
 */

static ngx_int_t
ngx_http_mobispot_login_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_login_t *lg)
{
    ngx_str_t                             f[4];
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    static const char  *names[] = {
        "csrf", "username", "password", "continue"
    };

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    ngx_memzero(f, sizeof(f));

    if (ngx_http_mobispot_issuer_fields(r, &ctx->body, names, f, 4,
                                        MOBISPOT_LOGIN_CONTINUE_MAX)
        != NGX_OK
        || f[1].len > NGX_HTTP_MOBISPOT_LOGIN_NAME_MAX
        || f[2].len > MOBISPOT_PASSWORD_MAX)
    {
        if (f[2].data) {
            ngx_explicit_memzero(f[2].data, f[2].len);
        }

        return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_BAD_REQUEST,
                                                   "The sign-in form could "
                                                   "not be read.");
    }

    lg->password = f[2];

    if (ngx_http_mobispot_issuer_csrf_ok(r, &f[0]) != NGX_OK) {
        return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_FORBIDDEN,
                                                   "This sign-in form has "
                                                   "expired: open the "
                                                   "sign-in page again.");
    }

    if (f[3].data
        && mobispot_continue_valid((char *) lcf->prefix.data,
                                   lcf->prefix.len, (char *) f[3].data,
                                   f[3].len)
           == MOBISPOT_OK)
    {
        lg->cont = f[3];
    }

    if (f[1].len == 0 || f[2].len == 0) {
        return ngx_http_mobispot_issuer_login_form(r, NGX_HTTP_BAD_REQUEST,
                                                   &lg->cont, &f[1],
                                                   "Enter your sign-in name "
                                                   "and your password.",
                                                   NULL);
    }

    lg->name = f[1];

    /* an account id is lowercase: the name is taken in any case */

    lg->lower.data = ngx_pnalloc(r->pool, f[1].len + 1);
    if (lg->lower.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_strlow(lg->lower.data, f[1].data, f[1].len);
    lg->lower.len = f[1].len;
    lg->lower.data[lg->lower.len] = '\0';

    if (mobispot_user_id_valid((char *) f[1].data, f[1].len)) {
        lg->id = f[1];
    }

    if (ngx_http_mobispot_issuer_throttle_init(r, &lg->th, &f[1]) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/*
 * Round trip 1's replies: a wait running is 429; an email's index gives
 * the account id, whose info is read then (round trip 2); otherwise the
 * info was read already
 */

static ngx_int_t
ngx_http_mobispot_login_account(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    time_t                          wait;
    ngx_str_t                      *id;
    ngx_http_mobispot_login_t      *lg;
    ngx_http_mobispot_api_keys_t   *declared;
    ngx_http_mobispot_redis_cmd_t  *cmd;

    lg = ctx->data;

    if (lg->by_client
        && ngx_http_mobispot_issuer_target(r, &replies[lg->by_client],
                                           &lg->uri, &lg->action)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    wait = ngx_http_mobispot_issuer_throttle_wait(replies);
    if (wait > 0) {
        return ngx_http_mobispot_issuer_throttled(r, wait);
    }

    /* an account of that id with a password first, then of that email */

    if (lg->by_id
        && ngx_http_mobispot_issuer_account_hash(&replies[lg->by_id], NULL))
    {
        return ngx_http_mobispot_login_verify(r, ctx, &replies[lg->by_id],
                                              NULL);
    }

    id = lg->by_email ? ngx_http_mobispot_reply_str(&replies[lg->by_email])
                      : NULL;

    if (id == NULL || !mobispot_user_id_valid((char *) id->data, id->len)) {
        return ngx_http_mobispot_login_verify(r, ctx, NULL, NULL);
    }
    lg->id = *id;

    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmd == NULL || declared == NULL
        || ngx_http_mobispot_issuer_account_read(r, &lg->id, cmd, &lg->key)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    declared->read = &lg->key;
    declared->nread = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmd, 1, declared,
                                      ngx_http_mobispot_login_info);
}


static ngx_int_t
ngx_http_mobispot_login_info(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_login_t  *lg;

    lg = ctx->data;

    return ngx_http_mobispot_login_verify(r, ctx, &replies[0], &lg->lower);
}


/*
 * The password checked in the thread pool: against the account's hash
 * (reply: the info's HMGET; email: the email it must have, found by it),
 * or the dummy when there is none
 */

static ngx_int_t
ngx_http_mobispot_login_verify(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *reply,
    ngx_str_t *email)
{
    ngx_str_t                        *hash;
    ngx_pool_cleanup_t               *cln;
    ngx_http_mobispot_login_t        *lg;
    ngx_http_mobispot_thread_t       *t;
    ngx_http_mobispot_login_check_t  *ck;

    lg = ctx->data;

    /* its own cleanup (below) wipes the password */

    t = ngx_http_mobispot_thread_create(r,
                                        sizeof(ngx_http_mobispot_login_check_t),
                                        NULL);
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(t->pool, 0);
    if (cln == NULL) {
        ngx_http_mobispot_thread_destroy(t);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ck = t->data;
    cln->handler = ngx_http_mobispot_login_check_wipe;
    cln->data = ck;

    ngx_memcpy(ck->password, lg->password.data, lg->password.len);
    ck->password[lg->password.len] = '\0';
    ck->len = lg->password.len;
    ck->ctx = ctx;

    hash = ngx_http_mobispot_issuer_account_hash(reply, email);

    if (hash != NULL) {
        ngx_memcpy(ck->hash, hash->data, hash->len);
        ck->hash[hash->len] = '\0';

    } else {
        /* no such account, or no password: the same work, no success */
        ngx_cpystrn((u_char *) ck->hash, (u_char *) mobispot_secret_dummy,
                    sizeof(ck->hash));
        lg->id.len = 0;
    }

    return ngx_http_mobispot_thread_post(r, t, ngx_http_mobispot_login_work,
                                         ngx_http_mobispot_login_checked);
}


/* in a thread of the pool */

static void
ngx_http_mobispot_login_work(void *data, ngx_log_t *log)
{
    ngx_http_mobispot_login_check_t  *ck = data;

    ck->ok = mobispot_secret_verify(ck->password, ck->len, ck->hash);

    ngx_explicit_memzero(ck->password, sizeof(ck->password));
}


/* back on the event loop, the request still there */

static ngx_int_t
ngx_http_mobispot_login_checked(ngx_http_request_t *r, void *data)
{
    ngx_http_mobispot_login_check_t  *ck = data;

    ngx_http_mobispot_login_t  *lg;

    lg = ck->ctx->data;

    if (ck->ok && lg->id.len) {
        return ngx_http_mobispot_login_success(r, ck->ctx);
    }

    return ngx_http_mobispot_login_failure(r, ck->ctx);
}


/*
 * The password is right: DEL the account's throttling, then MULTI, HSET,
 * EXPIREAT, EXEC of the new session
 */

static ngx_int_t
ngx_http_mobispot_login_success(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_str_t                            *keys;
    ngx_http_mobispot_login_t            *lg;
    ngx_http_mobispot_api_keys_t         *declared;
    ngx_http_mobispot_redis_cmd_t        *cmds;
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    lg = ctx->data;
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    cmds = ngx_palloc(r->pool, 5 * sizeof(ngx_http_mobispot_redis_cmd_t));
    keys = ngx_palloc(r->pool, 3 * sizeof(ngx_str_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || keys == NULL || declared == NULL
        || ngx_http_mobispot_issuer_throttle_clear(r, &lg->th, &cmds[0])
           != NGX_OK
        || ngx_http_mobispot_issuer_session_new(r, &lg->sess, &lg->id,
                                                lcf->session_lifetime,
                                                &cmds[1])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys[0] = lg->th.fails[0];
    keys[1] = lg->th.wait[0];
    keys[2] = lg->sess.key;
    declared->written = keys;
    declared->nwritten = 3;

    return ngx_http_mobispot_api_call(r, ctx, cmds, 5, declared,
                                      ngx_http_mobispot_login_created);
}


/* the session is written: its cookie, and 303 to continue or signed-in */

static ngx_int_t
ngx_http_mobispot_login_created(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_str_t                             to;
    ngx_http_mobispot_login_t            *lg;
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    lg = ctx->data;
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    if (n != 5 || replies[4].type != REDIS_REPLY_ARRAY
        || replies[4].elements != 2
        || replies[4].element[0].type != REDIS_REPLY_INTEGER
        || replies[4].element[1].type != REDIS_REPLY_INTEGER
        || replies[4].element[1].integer != 1)
    {
        return ngx_http_mobispot_api_bad_reply(r, "a session's write");
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: \"%V\" signed in (session %V)", &lg->id,
                  &lg->sess.sid);

    if (ngx_http_mobispot_issuer_session_set(r, &lg->sess,
                                             lcf->session_lifetime)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (lg->cont.len) {
        return ngx_http_mobispot_issuer_see_other(r, &lg->cont);
    }

    to.data = ngx_pnalloc(r->pool, lcf->prefix.len + sizeof("signed-in"));
    if (to.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    to.len = ngx_sprintf(to.data, "%Vsigned-in", &lcf->prefix) - to.data;

    return ngx_http_mobispot_issuer_see_other(r, &to);
}


/* a failure: counted for the account and the address */

static ngx_int_t
ngx_http_mobispot_login_failure(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_http_mobispot_login_t      *lg;
    ngx_http_mobispot_api_keys_t   *declared;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    lg = ctx->data;

    cmds = ngx_palloc(r->pool, 8 * sizeof(ngx_http_mobispot_redis_cmd_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || declared == NULL
        || ngx_http_mobispot_issuer_throttle_fail(r, &lg->th, cmds)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    declared->written = lg->th.fails;
    declared->nwritten = 2;

    return ngx_http_mobispot_api_call(r, ctx, cmds, 8, declared,
                                      ngx_http_mobispot_login_counted);
}


/* the counts: a delay starts for each over its threshold */

static ngx_int_t
ngx_http_mobispot_login_counted(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_uint_t                      ncmds;
    ngx_http_mobispot_login_t      *lg;
    ngx_http_mobispot_api_keys_t   *declared;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    lg = ctx->data;

    cmds = ngx_palloc(r->pool, 2 * sizeof(ngx_http_mobispot_redis_cmd_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || declared == NULL
        || ngx_http_mobispot_issuer_throttle_delays(r, &lg->th, replies, n,
                                                    cmds, &ncmds)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ncmds == 0) {
        return ngx_http_mobispot_login_wrong(r, ctx, NULL, 0);
    }

    declared->written = lg->th.wait;
    declared->nwritten = 2;

    return ngx_http_mobispot_api_call(r, ctx, cmds, ncmds, declared,
                                      ngx_http_mobispot_login_wrong);
}


/* the form again, 401: one message, whatever was wrong */

static ngx_int_t
ngx_http_mobispot_login_wrong(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_login_t  *lg;

    lg = ctx->data;

    /* the name as typed is not logged: a password is typed there too */

    if (lg->id.len) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mobispot: sign-in refused (wrong password): account "
                      "\"%V\"", &lg->id);

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mobispot: sign-in refused (no such account, or no "
                      "password)");
    }

    return ngx_http_mobispot_issuer_login_form(r, NGX_HTTP_UNAUTHORIZED,
                                           &lg->cont, &lg->name,
                                           ngx_http_mobispot_login_wrong_msg,
                                           lg->action);
}


/* GET signed-in */

static ngx_int_t
ngx_http_mobispot_signed_in(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    static ngx_str_t  body = ngx_string(
        "<h1>You are signed in</h1>\n"
        "<p>You are signed in at Mobispot: the sites of Mobispot's "
        "network now recognise you.</p>\n");

    return ngx_http_mobispot_issuer_page(r, NGX_HTTP_OK, "Signed in", &body,
                                         NULL, 0);
}


/* the request ends: its body and the password decoded from it wiped */

static void
ngx_http_mobispot_login_wipe(void *data)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    ngx_http_mobispot_login_t  *lg;

    lg = ctx->data;

    if (ctx->body.data) {
        ngx_explicit_memzero(ctx->body.data, ctx->body.len);
    }

    if (lg && lg->password.data) {
        ngx_explicit_memzero(lg->password.data, lg->password.len);
    }
}


/* the task's memory is freed: no copy of the password is left in it */

static void
ngx_http_mobispot_login_check_wipe(void *data)
{
    ngx_http_mobispot_login_check_t  *ck = data;

    ngx_explicit_memzero(ck->password, sizeof(ck->password));
}
