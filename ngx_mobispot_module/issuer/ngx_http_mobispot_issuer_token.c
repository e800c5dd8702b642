
/*
 * Copyright (C) Mobispot
 *
 * POST token (RFC 6749 3.2, docs/sso.md "The token endpoint"): the form
 * (application/x-www-form-urlencoded only, read strictly by
 * core/mobispot_form.c), the client's authentication
 * (issuer_client_auth.c), then the grant: an authorization code with its
 * PKCE verifier (issuer_code.c) or a refresh token (issuer_refresh.c);
 * the tokens minted (issuer_mint.c) and answered here.  Answers
 * JSON with Cache-Control: no-store; errors as RFC 6749 5.2 says.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "core/mobispot_core.h"
#include "issuer/ngx_http_mobispot_issuer_token.h"


static ngx_int_t ngx_http_mobispot_token_post(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_token_form(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_str_t *form);
static ngx_int_t ngx_http_mobispot_token_minted(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_issuer_mint_t *m,
    ngx_int_t rc);
static ngx_uint_t ngx_http_mobispot_token_verifier_ok(ngx_str_t *v);


const ngx_http_mobispot_api_route_t  ngx_http_mobispot_issuer_token_routes[] =
{
    { ngx_string("token"), NGX_HTTP_POST,
      ngx_http_mobispot_token_post, 1, 0 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


static ngx_int_t
ngx_http_mobispot_token_post(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    u_char                      *p;
    ngx_str_t                   *ct;
    ngx_int_t                    rc;
    ngx_http_mobispot_token_t   *tk;

    static const char  form[] = "application/x-www-form-urlencoded";

    tk = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_token_t));
    if (tk == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = tk;

    /* the media type, with parameters (charset) or not */

    ct = r->headers_in.content_type ? &r->headers_in.content_type->value
                                    : NULL;

    p = NULL;

    if (ct != NULL && ct->len >= sizeof(form) - 1
        && ngx_strncasecmp(ct->data, (u_char *) form, sizeof(form) - 1) == 0)
    {
        /* then nothing, or parameters after blanks and a ";" */

        for (p = ct->data + sizeof(form) - 1;
             p < ct->data + ct->len && (*p == ' ' || *p == '\t');
             p++)
        {
            /* void */
        }

        if (p < ct->data + ct->len && *p != ';') {
            p = NULL;
        }
    }

    if (p == NULL) {
        return ngx_http_mobispot_token_error(r, tk,
                                             NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                             "invalid_request",
                                             "the body must be application/"
                                             "x-www-form-urlencoded");
    }

    rc = ngx_http_mobispot_token_form(r, tk, &ctx->body);
    if (rc != NGX_OK) {
        return rc == NGX_ABORT ? tk->rc : rc;
    }

    tk->next = tk->grant == NGX_HTTP_MOBISPOT_GRANT_CODE
               ? ngx_http_mobispot_token_code
               : ngx_http_mobispot_token_refresh;

    return ngx_http_mobispot_token_client(r, ctx, tk);
}


/*
 * One field of the form into out (NUL-terminated, in r->pool): NGX_OK,
 * NGX_DECLINED when absent, or the refusal's answer
 */

static ngx_int_t
ngx_http_mobispot_token_field(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_str_t *form, const char *name,
    size_t max, ngx_str_t *out)
{
    int      rc;
    u_char  *buf, *msg;
    size_t   len;

    buf = ngx_pnalloc(r->pool, max + 1);
    msg = ngx_pnalloc(r->pool, 128);
    if (buf == NULL || msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = mobispot_form_get((const char *) form->data, form->len, name,
                           (char *) buf, max + 1, &len);

    switch (rc) {

    case MOBISPOT_FORM_OK:
        out->data = buf;
        out->len = len;
        buf[len] = '\0';
        return NGX_OK;

    case MOBISPOT_FORM_ABSENT:
        return NGX_DECLINED;

    case MOBISPOT_FORM_TWICE:
        ngx_sprintf(msg, "the parameter %s is given twice%Z", name);
        break;

    case MOBISPOT_FORM_LONG:
        ngx_sprintf(msg, "the parameter %s is over %uz bytes%Z", name, max);
        break;

    default:
        ngx_sprintf(msg, "the parameter %s is malformed%Z", name);
        break;
    }

    return ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                          "invalid_request", (char *) msg);
}


#define ngx_token_field(name, max, out, required)                            \
    rc = ngx_http_mobispot_token_field(r, tk, form, name, max, out);         \
    if (rc == NGX_DECLINED && (required)) {                                  \
        return ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,   \
                                              "invalid_request",             \
                                              "the parameter " name          \
                                              " is missing");                \
    }                                                                        \
    if (rc != NGX_OK && rc != NGX_DECLINED) {                                \
        return rc;                                                           \
    }


/* the form, checked whole, then the fields of its grant */

static ngx_int_t
ngx_http_mobispot_token_form(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_str_t *form)
{
    ngx_int_t  rc;
    ngx_str_t  grant;

    if (mobispot_form_check((const char *) form->data, form->len)
        != MOBISPOT_FORM_OK)
    {
        return ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                              "invalid_request",
                                              "the form is malformed (an "
                                              "escape, a control character "
                                              "or bytes that are not UTF-8)");
    }

    ngx_token_field("grant_type", 32, &grant, 1);

    if (grant.len == sizeof("authorization_code") - 1
        && ngx_strcmp(grant.data, "authorization_code") == 0)
    {
        tk->grant = NGX_HTTP_MOBISPOT_GRANT_CODE;

    } else if (grant.len == sizeof("refresh_token") - 1
               && ngx_strcmp(grant.data, "refresh_token") == 0)
    {
        tk->grant = NGX_HTTP_MOBISPOT_GRANT_REFRESH;

    } else {
        return ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                              "unsupported_grant_type",
                                              "grant_type is "
                                              "authorization_code or "
                                              "refresh_token");
    }

    rc = ngx_http_mobispot_token_client_form(r, tk, form);
    if (rc != NGX_OK) {
        return rc;
    }

    if (tk->grant == NGX_HTTP_MOBISPOT_GRANT_REFRESH) {
        ngx_token_field("refresh_token", NGX_HTTP_MOBISPOT_TOKEN_REFRESH_MAX,
                        &tk->refresh, 1);
        ngx_token_field("scope", NGX_HTTP_MOBISPOT_TOKEN_SCOPE_MAX,
                        &tk->scope, 0);
        tk->scope_given = (rc == NGX_OK && tk->scope.len > 0);

        return NGX_OK;
    }

    ngx_token_field("code", NGX_HTTP_MOBISPOT_TOKEN_CODE_MAX, &tk->code, 1);
    ngx_token_field("redirect_uri", NGX_HTTP_MOBISPOT_TOKEN_URI_MAX,
                    &tk->redirect_uri, 1);
    ngx_token_field("code_verifier", 128, &tk->verifier, 1);

    if (tk->code.len == 0) {
        return ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                              "invalid_request",
                                              "the code is empty");
    }

    if (!ngx_http_mobispot_token_verifier_ok(&tk->verifier)) {
        return ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                              "invalid_request",
                                              "code_verifier takes 43 to 128 "
                                              "of A-Z a-z 0-9 - . _ ~ "
                                              "(RFC 7636 4.1)");
    }

    return NGX_OK;
}

#undef ngx_token_field


static ngx_uint_t
ngx_http_mobispot_token_verifier_ok(ngx_str_t *v)
{
    u_char      c;
    ngx_uint_t  i;

    if (v->len < 43 || v->len > 128) {
        return 0;
    }

    for (i = 0; i < v->len; i++) {
        c = v->data[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
              || c == '~'))
        {
            return 0;
        }
    }

    return 1;
}


/* 3. the tokens of the grant: for the app's API, an ID token for openid */

ngx_int_t
ngx_http_mobispot_token_mint(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk)
{
    ngx_http_mobispot_issuer_mint_t      *m;
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    m = &tk->mint;
    m->sub = tk->sub;
    m->sid = tk->sid;
    m->client_id = tk->client_id;
    m->audience = lcf->api_audience;
    m->scope = tk->granted;
    m->nonce = tk->nonce;
    m->auth_time = tk->auth_time;
    m->want_id = ngx_http_mobispot_token_has_scope(&tk->granted, "openid");
    m->done = ngx_http_mobispot_token_minted;
    m->data = tk;

    return ngx_http_mobispot_issuer_mint(r, ctx, m);
}


static ngx_int_t
ngx_http_mobispot_token_minted(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_issuer_mint_t *m,
    ngx_int_t rc)
{
    ngx_http_mobispot_token_t *tk = m->data;

    ctx->data = tk;

    if (rc == NGX_DECLINED) {
        return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "the account no longer exists");
    }

    if (tk->grant == NGX_HTTP_MOBISPOT_GRANT_REFRESH) {
        /* the rotation stored the new refresh token already */
        return ngx_http_mobispot_token_answer(r, tk);
    }

    /* 4. the session still there, the refresh token stored */

    return ngx_http_mobispot_token_store(r, ctx, tk);
}


/* the answer of a grant (RFC 6749 5.1, OIDC Core 3.1.3.3) */

ngx_int_t
ngx_http_mobispot_token_answer(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk)
{
    yajl_gen                          g;
    ngx_uint_t                        ok;
    ngx_http_mobispot_issuer_mint_t  *m;

    m = &tk->mint;

    g = ngx_http_mobispot_api_gen(r);
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

#define ngx_token_str(s, l)                                                   \
    (yajl_gen_string(g, (const unsigned char *) (s), l) == yajl_gen_status_ok)

    ok = yajl_gen_map_open(g) == yajl_gen_status_ok
         && ngx_token_str("access_token", 12)
         && ngx_token_str(m->access_token.data, m->access_token.len)
         && ngx_token_str("token_type", 10) && ngx_token_str("Bearer", 6)
         && ngx_token_str("expires_in", 10)
         && yajl_gen_integer(g, m->expires_in) == yajl_gen_status_ok
         && ngx_token_str("scope", 5)
         && ngx_token_str(m->scope.data, m->scope.len)
         && (m->id_token.len == 0
             || (ngx_token_str("id_token", 8)
                 && ngx_token_str(m->id_token.data, m->id_token.len)))
         && (tk->new_refresh.len == 0
             || (ngx_token_str("refresh_token", 13)
                 && ngx_token_str(tk->new_refresh.data, tk->new_refresh.len)))
         && yajl_gen_map_close(g) == yajl_gen_status_ok;

#undef ngx_token_str

    if (!ok
        || ngx_http_mobispot_api_header(r, "Pragma", sizeof("Pragma") - 1,
                                        (u_char *) "no-cache",
                                        sizeof("no-cache") - 1)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mobispot_issuer_metrics_token(
        tk->grant == NGX_HTTP_MOBISPOT_GRANT_REFRESH);

    return ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g);
}


/* the same, from a helper: NGX_ABORT, what to return in tk->rc */

ngx_int_t
ngx_http_mobispot_token_refuse(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_uint_t status, const char *error,
    const char *description)
{
    tk->rc = ngx_http_mobispot_token_error(r, tk, status, error, description);

    return NGX_ABORT;
}


/*
 * An error of RFC 6749 5.2: {"error":..,"error_description":..}, with
 * Cache-Control: no-store; invalid_client is 401 with WWW-Authenticate
 */

ngx_int_t
ngx_http_mobispot_token_error(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_uint_t status, const char *error,
    const char *description)
{
    ngx_str_t  www;

    ngx_str_set(&www, "Basic realm=\"mobispot\"");

    return ngx_http_mobispot_oauth_error(r, status, error, description,
                                         status == NGX_HTTP_UNAUTHORIZED
                                         ? &www : NULL);
}


/* the error body of OAuth (token, userinfo), and its WWW-Authenticate */

ngx_int_t
ngx_http_mobispot_oauth_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *description, ngx_str_t *www)
{
    yajl_gen  g;

    g = ngx_http_mobispot_api_gen(r);
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || yajl_gen_string(g, (const unsigned char *) "error", 5)
           != yajl_gen_status_ok
        || yajl_gen_string(g, (const unsigned char *) error, ngx_strlen(error))
           != yajl_gen_status_ok
        || yajl_gen_string(g, (const unsigned char *) "error_description",
                           17)
           != yajl_gen_status_ok
        || yajl_gen_string(g, (const unsigned char *) description,
                           ngx_strlen(description))
           != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* $mobispot_error, as for the API's errors */
    ngx_http_mobispot_api_set_error(r, error);

    if (www != NULL
        && ngx_http_mobispot_api_header(r, "WWW-Authenticate",
                                        sizeof("WWW-Authenticate") - 1,
                                        www->data, www->len)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, status, g);
}


/* helpers of the token's files */

/*
 * One command of argc arguments, which reads (and, written, writes) the
 * one key it names, sent as ngx_http_mobispot_api_call() does
 */

ngx_int_t
ngx_http_mobispot_token_call(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t *args, ngx_uint_t argc,
    ngx_str_t *key, ngx_uint_t written, ngx_http_mobispot_api_done_pt done)
{
    size_t                         *len;
    ngx_uint_t                      i;
    const char                    **argv;
    ngx_http_mobispot_api_keys_t   *keys;
    ngx_http_mobispot_redis_cmd_t  *cmd;

    cmd = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_redis_cmd_t));
    argv = ngx_palloc(r->pool, argc * sizeof(char *));
    len = ngx_palloc(r->pool, argc * sizeof(size_t));
    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));
    if (cmd == NULL || argv == NULL || len == NULL || keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < argc; i++) {
        argv[i] = (const char *) args[i].data;
        len[i] = args[i].len;
    }

    cmd->argc = argc;
    cmd->argv = argv;
    cmd->argvlen = len;

    keys->read = key;
    keys->nread = 1;

    if (written) {
        keys->written = key;
        keys->nwritten = 1;
    }

    return ngx_http_mobispot_api_call(r, ctx, cmd, 1, keys, done);
}


ngx_int_t
ngx_http_mobispot_token_key(ngx_http_request_t *r, ngx_str_t *key,
    const char *prefix, ngx_str_t *value)
{
    size_t  size;

    size = ngx_strlen(prefix) + value->len + 1;

    key->data = ngx_pnalloc(r->pool, size);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    key->len = ngx_snprintf(key->data, size - 1, prefix, value) - key->data;
    key->data[key->len] = '\0';

    return NGX_OK;
}


/* out: 64 bytes, no NUL */

void
ngx_http_mobispot_token_sha256_hex(u_char *in, size_t len, u_char *out)
{
    u_char  digest[SHA256_DIGEST_LENGTH];

    SHA256(in, len, digest);
    ngx_hex_dump(out, digest, sizeof(digest));
}


/* whether a blank-separated scope holds a word */

ngx_uint_t
ngx_http_mobispot_token_has_scope(ngx_str_t *scope, const char *word)
{
    u_char  *p, *last, *e;
    size_t   n;

    n = ngx_strlen(word);
    p = scope->data;
    last = p + scope->len;

    while (p < last) {
        e = ngx_strlchr(p, last, ' ');
        if (e == NULL) {
            e = last;
        }

        if ((size_t) (e - p) == n && ngx_strncmp(p, word, n) == 0) {
            return 1;
        }

        p = e + 1;
    }

    return 0;
}
