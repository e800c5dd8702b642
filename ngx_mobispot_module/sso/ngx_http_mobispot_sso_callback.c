
/*
 * Copyright (C) Mobispot
 *
 * mobispot_sso_callback: the site's end of the module's own sign-in.  The
 * issuer's form_post brings code, state and iss (or error and state); the
 * state names the state cookie that sso_authorize.c set, which holds the
 * PKCE verifier and the return_to.  Everything that needs no Redis is
 * checked first, so that a request refused early leaves the code usable;
 * then the code is redeemed once, GETDEL ms:{code:<sha256 hex>}, its
 * record checked (client, redirect URI, challenge), and its token checked
 * as the verifier checks this location's tokens (sso_verify.c: keys,
 * issuer, audience, typ; revocation, entitlement).  Then the site's token
 * cookie is set, the state cookie cleared, and the browser sent (303) to
 * its return_to.  Refusals are small HTML pages (sso_page.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/mobispot_sso_state.h"
#include "sso/ngx_http_mobispot_sso.h"


#define NGX_HTTP_MOBISPOT_SSO_CODE_MAX   128
#define NGX_HTTP_MOBISPOT_SSO_FIELD_MAX  256
#define NGX_HTTP_MOBISPOT_SSO_COOKIE_MAX 4096


typedef struct {
    ngx_http_mobispot_sso_ctx_t    sso;       /* the token's check */
    ngx_str_t                      state;
    ngx_str_t                      back;      /* where to return */
    ngx_str_t                      token;
    char                           challenge[MOBISPOT_SSO_RANDOM_LEN + 1];
    ngx_str_t                      key;       /* ms:{code:...} */
    unsigned                       entitling:1;
} ngx_http_mobispot_sso_cb_t;


static ngx_int_t ngx_http_mobispot_sso_callback_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_mobispot_sso_callback_post(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_sso_callback_error(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_mobispot_sso_callback_state(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_cb_t *cb);
static ngx_int_t ngx_http_mobispot_sso_callback_redeem(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t *code);
static ngx_int_t ngx_http_mobispot_sso_callback_redeemed(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx,
    ngx_http_mobispot_reply_t *replies, ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_sso_callback_record(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_cb_t *cb,
    ngx_str_t *json);
static ngx_int_t ngx_http_mobispot_sso_callback_finish(ngx_http_request_t *r,
    ngx_http_mobispot_sso_cb_t *cb);
static ngx_int_t ngx_http_mobispot_sso_form_field(ngx_str_t *body,
    const char *name, ngx_pool_t *pool, size_t max, ngx_str_t *out);
static void ngx_http_mobispot_sso_tree_free(void *data);


static const ngx_http_mobispot_api_route_t  ngx_http_mobispot_sso_cb_route = {
    ngx_string(""), NGX_HTTP_POST, ngx_http_mobispot_sso_callback_post, 1, 0
};


/* mobispot_sso_callback: this location is the callback (content handler) */

char *
ngx_http_mobispot_sso_callback_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_sso_loc_conf_t *lcf = conf;

    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_mobispot_main_conf_t  *mmcf;

    if (lcf->callback != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    lcf->callback = 1;
    ngx_http_mobispot_conf_where(cf, &lcf->callback_where);

    /* its body is read as the API reads one (the body filter) */

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);
    mmcf->api_used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mobispot_sso_callback_handler;

    return NGX_CONF_OK;
}


/*
 * POST with a form body only (405 with Allow, 415); the body is read as
 * the API reads one (mobispot_api_max_body).  The handler runs again when
 * the site's entitlement was read from Redis (sso_site.c resumes the
 * request's phases): it then finishes.
 */

static ngx_int_t
ngx_http_mobispot_sso_callback_handler(ngx_http_request_t *r)
{
    u_char                       *p;
    size_t                        len;
    ngx_table_elt_t              *ct;
    ngx_http_mobispot_sso_cb_t   *cb;
    ngx_http_mobispot_api_ctx_t  *ctx;

    static const char  form[] = "application/x-www-form-urlencoded";

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx != NULL && ctx->data != NULL) {
        cb = ctx->data;

        if (cb->entitling) {
            cb->entitling = 0;
            return ngx_http_mobispot_sso_callback_finish(r, cb);
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!(r->method & NGX_HTTP_POST)) {
        if (ngx_http_discard_request_body(r) != NGX_OK
            || ngx_http_mobispot_sso_header(r, "Allow", (u_char *) "POST", 4,
                                            NULL)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mobispot_sso_page(r, NGX_HTTP_NOT_ALLOWED,
                                          "The sign-in callback takes the "
                                          "issuer's form (POST) only.");
    }

    ct = r->headers_in.content_type;
    len = sizeof(form) - 1;

    if (ct != NULL && ct->value.len >= len) {
        p = ct->value.data;

        if (ngx_strncasecmp(p, (u_char *) form, len) != 0
            || (ct->value.len > len && p[len] != ';' && p[len] != ' '))
        {
            ct = NULL;
        }

    } else {
        ct = NULL;
    }

    if (ct == NULL) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mobispot_sso_page(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                          "The sign-in callback takes an "
                                          "application/x-www-form-urlencoded "
                                          "form only.");
    }

    ctx = ngx_http_mobispot_api_ctx_create(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_run(r, ctx, &ngx_http_mobispot_sso_cb_route);
}


/* the form: error, or code, state and iss; checked before Redis */

static ngx_int_t
ngx_http_mobispot_sso_callback_post(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                          rc;
    ngx_str_t                          code, iss;
    ngx_http_mobispot_sso_cb_t        *cb;
    ngx_http_mobispot_sso_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_sso_module);

    if (mobispot_form_check((char *) ctx->body.data, ctx->body.len)
        != MOBISPOT_FORM_OK)
    {
        return ngx_http_mobispot_sso_cb_refuse(r, NGX_HTTP_BAD_REQUEST,
                                             "a malformed form",
                                             "The sign-in answer is not a "
                                             "well-formed form.");
    }

    rc = ngx_http_mobispot_sso_callback_error(r, &ctx->body);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    cb = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_sso_cb_t));
    if (cb == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_sso_form_field(&ctx->body, "code", r->pool,
                                         NGX_HTTP_MOBISPOT_SSO_CODE_MAX,
                                         &code)
        != NGX_OK
        || mobispot_sso_random_check((char *) code.data, code.len)
           != MOBISPOT_OK)
    {
        return ngx_http_mobispot_sso_cb_refuse(r, NGX_HTTP_BAD_REQUEST,
                                             "no code, or a malformed one",
                                             "The sign-in answer has no "
                                             "usable code.");
    }

    if (ngx_http_mobispot_sso_form_field(&ctx->body, "iss", r->pool,
                                         NGX_HTTP_MOBISPOT_SSO_FIELD_MAX,
                                         &iss)
        != NGX_OK
        || iss.len != lcf->issuer.len
        || ngx_strncmp(iss.data, lcf->issuer.data, iss.len) != 0)
    {
        /* RFC 9207: a code from another issuer is never redeemed here */
        return ngx_http_mobispot_sso_cb_refuse(r, NGX_HTTP_BAD_REQUEST,
                                             "iss missing or another "
                                             "issuer's",
                                             "The sign-in answer does not "
                                             "come from this site's "
                                             "sign-in service.");
    }

    if (ngx_http_mobispot_sso_form_field(&ctx->body, "state", r->pool,
                                         NGX_HTTP_MOBISPOT_SSO_FIELD_MAX,
                                         &cb->state)
        != NGX_OK
        || mobispot_sso_random_check((char *) cb->state.data, cb->state.len)
           != MOBISPOT_OK)
    {
        return ngx_http_mobispot_sso_cb_refuse(r, NGX_HTTP_BAD_REQUEST,
                                             "no state, or a malformed one",
                                             "The sign-in answer has no "
                                             "usable state.");
    }

    rc = ngx_http_mobispot_sso_callback_state(r, lcf, cb);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ctx->data = cb;

    return ngx_http_mobispot_sso_callback_redeem(r, ctx, &code);
}


/*
 * The issuer's error answer (RFC 6749 4.1.2.1): a page that names it (its
 * code only when it is plain: [a-z_], never other text of the request),
 * NGX_DECLINED without one.  403 for access_denied, 400 otherwise.
 */

static ngx_int_t
ngx_http_mobispot_sso_callback_error(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    ngx_int_t     rc;
    ngx_str_t     error;
    ngx_uint_t    status;
    const char   *why;

    rc = ngx_http_mobispot_sso_form_field(body, "error", r->pool, 64, &error);

    if (rc == NGX_DECLINED) {
        return NGX_DECLINED;
    }

    if (rc != NGX_OK || error.len == 0) {
        return ngx_http_mobispot_sso_cb_refuse(r, NGX_HTTP_BAD_REQUEST,
                                             "a malformed error",
                                             "The sign-in did not succeed.");
    }

    for (p = error.data; p < error.data + error.len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || *p == '_')) {
            ngx_str_set(&error, "unknown");
            break;
        }
    }

    status = NGX_HTTP_BAD_REQUEST;
    why = "The sign-in did not succeed.";

    if (error.len == sizeof("access_denied") - 1
        && ngx_strncmp(error.data, "access_denied", error.len) == 0)
    {
        status = NGX_HTTP_FORBIDDEN;
        why = "The sign-in was refused.";
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: sso callback: the issuer answered \"%V\"",
                  &error);

    return ngx_http_mobispot_sso_page_code(r, status, why, &error);
}


/*
 * The state cookie of this state (one per sign-in): its verifier and
 * return_to.  Without it the sign-in did not start in this browser, or
 * took longer than the cookie lives: refused (no login CSRF).  Returns
 * NGX_DECLINED to go on, or what the handler returns (a refusal sent).
 */

static ngx_int_t
ngx_http_mobispot_sso_callback_state(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_cb_t *cb)
{
    u_char     *p;
    size_t      len;
    ngx_int_t   rc;
    ngx_str_t   name, value, origin;
    char        verifier[MOBISPOT_SSO_RANDOM_LEN + 1];

    name.len = sizeof(MOBISPOT_SSO_STATE_COOKIE) - 1 + cb->state.len;
    name.data = ngx_pnalloc(r->pool, name.len);
    if (name.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ngx_cpymem(name.data, MOBISPOT_SSO_STATE_COOKIE,
                          sizeof(MOBISPOT_SSO_STATE_COOKIE) - 1),
               cb->state.data, cb->state.len);

    cb->back.data = ngx_pnalloc(r->pool, MOBISPOT_SSO_RETURN_MAX);
    if (cb->back.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_sso_cookie(r, &name, &value) != NGX_OK
        || mobispot_sso_state_parse((char *) value.data, value.len, verifier,
                                    (char *) cb->back.data,
                                    MOBISPOT_SSO_RETURN_MAX, &len)
           != MOBISPOT_OK)
    {
        return ngx_http_mobispot_sso_cb_refuse(r, NGX_HTTP_FORBIDDEN,
                                             "no state cookie for the state",
                                             "This sign-in was not started "
                                             "in this browser, or it took "
                                             "too long. Please start "
                                             "again.");
    }

    cb->back.len = len;

    if (mobispot_pkce_s256(verifier, MOBISPOT_SSO_RANDOM_LEN, cb->challenge,
                           sizeof(cb->challenge))
        != MOBISPOT_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* only under this site's origin; otherwise its root */

    rc = ngx_http_mobispot_sso_origin(r, lcf, &origin);

    if (rc == NGX_OK
        && mobispot_sso_return_ok((char *) cb->back.data, cb->back.len,
                                  (char *) origin.data, origin.len))
    {
        return NGX_DECLINED;
    }

    if (rc == NGX_OK) {
        p = ngx_pnalloc(r->pool, origin.len + 1);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *ngx_cpymem(p, origin.data, origin.len) = '/';
        cb->back.data = p;
        cb->back.len = origin.len + 1;

        return NGX_DECLINED;
    }

    if (rc != NGX_DECLINED) {
        return rc;
    }

    ngx_str_set(&cb->back, "/");

    return NGX_DECLINED;
}


/* GETDEL ms:{code:<sha256 hex of the code>}: once, atomically */

static ngx_int_t
ngx_http_mobispot_sso_callback_redeem(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t *code)
{
    u_char                         *p;
    size_t                          lens[2];
    const char                     *argv[2];
    ngx_http_mobispot_sso_cb_t     *cb;
    ngx_http_mobispot_redis_cmd_t   cmd;
    ngx_http_mobispot_api_keys_t    keys;
    u_char                          md[SHA256_DIGEST_LENGTH];

    cb = ctx->data;

    (void) SHA256(code->data, code->len, md);

    cb->key.len = sizeof("ms:{code:}") - 1 + 2 * SHA256_DIGEST_LENGTH;
    cb->key.data = ngx_pnalloc(r->pool, cb->key.len);
    if (cb->key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(cb->key.data, "ms:{code:", sizeof("ms:{code:") - 1);
    p = ngx_hex_dump(p, md, sizeof(md));
    *p = '}';

    argv[0] = "GETDEL";
    lens[0] = sizeof("GETDEL") - 1;
    argv[1] = (const char *) cb->key.data;
    lens[1] = cb->key.len;

    cmd.argc = 2;
    cmd.argv = argv;
    cmd.argvlen = lens;

    keys.read = &cb->key;
    keys.nread = 1;
    keys.written = &cb->key;
    keys.nwritten = 1;

    return ngx_http_mobispot_api_call(r, ctx, &cmd, 1, &keys,
                                      ngx_http_mobispot_sso_callback_redeemed);
}


static ngx_int_t
ngx_http_mobispot_sso_callback_redeemed(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_int_t                           rc;
    ngx_uint_t                          status;
    ngx_http_mobispot_sso_cb_t         *cb;
    ngx_http_mobispot_sso_loc_conf_t   *lcf;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    cb = ctx->data;
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_sso_module);

    if (replies[0].type == REDIS_REPLY_NIL) {
        return ngx_http_mobispot_sso_cb_refuse(r, NGX_HTTP_BAD_REQUEST,
                                             "the code is unknown, expired "
                                             "or used already",
                                             "This sign-in has expired or "
                                             "was used already. Please "
                                             "start again.");
    }

    if (replies[0].type != REDIS_REPLY_STRING) {
        return ngx_http_mobispot_api_bad_reply(r, "GETDEL of a code");
    }

    rc = ngx_http_mobispot_sso_callback_record(r, lcf, cb, &replies[0].str);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* the token as this location's verifier checks it */

    status = ngx_http_mobispot_sso_verify_token(r, lcf, &cb->sso, &cb->token);

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);

    if (status == MOBISPOT_SSO_OK && mcf->revoke_zone) {
        status = ngx_http_mobispot_sso_revoked(r, &cb->sso);
    }

    cb->sso.status = status;

    if (status == MOBISPOT_SSO_OK && lcf->site.len) {
        if (ngx_http_mobispot_sso_entitlement(r, lcf, &cb->sso) == NGX_AGAIN)
        {
            /*
             * resumed by the Redis call, which runs the phases, and so
             * this handler, again; its reference is released there, as
             * the access phase's is, and this call's by NGX_DONE
             */
            r->main->count++;
            cb->sso.entry = NULL;
            cb->entitling = 1;
            return NGX_DONE;
        }
    }

    return ngx_http_mobispot_sso_callback_finish(r, cb);
}


/*
 * The code's record (docs/sso.md): issued to this client, for this
 * redirect URI, for this browser's verifier, and with a token.  Returns
 * NGX_DECLINED to go on, or what the handler returns (a refusal sent).
 */

static ngx_int_t
ngx_http_mobispot_sso_callback_record(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_cb_t *cb,
    ngx_str_t *json)
{
    size_t               len;
    yajl_val             doc, v;
    const char          *reason, *why;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    reason = NULL;
    doc = mobispot_jwt_json((char *) json->data, json->len, &reason);

    if (doc == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: sso callback: the code's record is not "
                      "JSON: %s", reason ? reason : "unknown");
        return ngx_http_mobispot_sso_page(r, NGX_HTTP_BAD_GATEWAY,
                                          "The sign-in service answered "
                                          "something this site cannot "
                                          "read.");
    }

    cln->handler = ngx_http_mobispot_sso_tree_free;
    cln->data = doc;

    why = NULL;

    v = mobispot_json_member(doc, "client");

    if (v == NULL || !YAJL_IS_STRING(v)
        || ngx_strlen(v->u.string) != lcf->client_id.len
        || ngx_strncmp(v->u.string, lcf->client_id.data, lcf->client_id.len)
           != 0)
    {
        why = "the code was issued to another client";
        goto refused;
    }

    v = mobispot_json_member(doc, "redirect_uri");

    if (v == NULL || !YAJL_IS_STRING(v)
        || ngx_strlen(v->u.string) != lcf->redirect_uri.len
        || ngx_strncmp(v->u.string, lcf->redirect_uri.data,
                       lcf->redirect_uri.len)
           != 0)
    {
        why = "the code was issued for another redirect_uri";
        goto refused;
    }

    v = mobispot_json_member(doc, "challenge");

    if (v == NULL || !YAJL_IS_STRING(v)
        || ngx_strlen(v->u.string) != MOBISPOT_SSO_RANDOM_LEN
        || CRYPTO_memcmp(v->u.string, cb->challenge, MOBISPOT_SSO_RANDOM_LEN)
           != 0)
    {
        why = "the PKCE verifier does not match the code's challenge";
        goto refused;
    }

    v = mobispot_json_member(doc, "token");

    if (v == NULL || !YAJL_IS_STRING(v) || v->u.string[0] == '\0') {
        why = "the code's record has no token";
        goto refused;
    }

    len = ngx_strlen(v->u.string);

    cb->token.data = ngx_pnalloc(r->pool, len);
    if (cb->token.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(cb->token.data, v->u.string, len);
    cb->token.len = len;

    return NGX_DECLINED;

refused:

    return ngx_http_mobispot_sso_cb_refuse(r, NGX_HTTP_BAD_REQUEST, why,
                                         "This sign-in was not meant for "
                                         "this site. Please start again.");
}


/*
 * The token held: its cookie (the first cookie= of mobispot_sso_token),
 * Max-Age its remaining life; the state cookie cleared; 303 to return_to.
 */

static ngx_int_t
ngx_http_mobispot_sso_callback_finish(ngx_http_request_t *r,
    ngx_http_mobispot_sso_cb_t *cb)
{
    u_char                            *p, *cookie;
    size_t                             len;
    time_t                             age;
    ngx_http_mobispot_sso_loc_conf_t  *lcf;

    static const char  *texts[] = {
        "Your sign-in does not give access to this site.",
        "The sign-in service is unavailable. Please try again later."
    };

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_sso_module);

    cb->sso.entry = NULL;
    age = (time_t) cb->sso.exp - ngx_time();

    if (cb->sso.status == MOBISPOT_SSO_OK && age <= 0) {
        cb->sso.status = MOBISPOT_SSO_EXPIRED;
    }

    switch (cb->sso.status) {

    case MOBISPOT_SSO_OK:
        break;

    case MOBISPOT_SSO_NOT_ENTITLED:
        return ngx_http_mobispot_sso_page(r, NGX_HTTP_FORBIDDEN, texts[0]);

    case MOBISPOT_SSO_UNAVAILABLE:
        return ngx_http_mobispot_sso_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          texts[1]);

    default:
        return ngx_http_mobispot_sso_cb_refuse(r, NGX_HTTP_FORBIDDEN,
                                             "the code's token is not "
                                             "taken here",
                                             "Your sign-in is not valid "
                                             "for this site. Please start "
                                             "again.");
    }

    len = lcf->cookie.len + 1 + cb->token.len
          + sizeof("; Path=/; Max-Age=; Secure; HttpOnly; SameSite=Lax") - 1
          + NGX_TIME_T_LEN;

    /*
     * browsers keep cookies of 4096 bytes (RFC 6265 6.1): a longer one
     * would be dropped, and the browser sent to sign in again, and again
     */

    if (len > NGX_HTTP_MOBISPOT_SSO_COOKIE_MAX) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: sso callback: a token of %uz bytes does "
                      "not fit in a cookie", cb->token.len);
        return ngx_http_mobispot_sso_page(r, NGX_HTTP_BAD_GATEWAY,
                                          "The sign-in service answered "
                                          "something this site cannot "
                                          "keep.");
    }

    cookie = ngx_pnalloc(r->pool, len);
    if (cookie == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(cookie, "%V=%V; Path=/; Max-Age=%T; Secure; HttpOnly; "
                    "SameSite=Lax", &lcf->cookie, &cb->token, age);

    if (ngx_http_mobispot_sso_header(r, "Set-Cookie", cookie, p - cookie,
                                     NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof(MOBISPOT_SSO_STATE_COOKIE) - 1 + cb->state.len
          + sizeof("=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=None")
          - 1;

    cookie = ngx_pnalloc(r->pool, len);
    if (cookie == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(cookie, MOBISPOT_SSO_STATE_COOKIE "%V=; Path=/; "
                    "Max-Age=0; Secure; HttpOnly; SameSite=None", &cb->state);

    if (ngx_http_mobispot_sso_header(r, "Set-Cookie", cookie, p - cookie,
                                     NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: sso callback: signed in, token cookie set for "
                  "%T s", age);

    return ngx_http_mobispot_sso_send_to(r, NGX_HTTP_SEE_OTHER, cb->back.data,
                                         cb->back.len);
}


/*
 * A field of the form (checked whole already), decoded into the pool:
 * NGX_OK, NGX_DECLINED when absent, NGX_ERROR when twice, too long or
 * empty.
 */

static ngx_int_t
ngx_http_mobispot_sso_form_field(ngx_str_t *body, const char *name,
    ngx_pool_t *pool, size_t max, ngx_str_t *out)
{
    int     rc;
    size_t  len;

    out->data = ngx_pnalloc(pool, max + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    rc = mobispot_form_get((char *) body->data, body->len, name,
                           (char *) out->data, max + 1, &len);

    if (rc == MOBISPOT_FORM_ABSENT) {
        return NGX_DECLINED;
    }

    if (rc != MOBISPOT_FORM_OK || len == 0 || len > max) {
        return NGX_ERROR;
    }

    out->len = len;

    return NGX_OK;
}


static void
ngx_http_mobispot_sso_tree_free(void *data)
{
    yajl_tree_free(data);
}
