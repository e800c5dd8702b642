
/*
 * Copyright (C) Mobispot
 *
 * The client of a token request (RFC 6749 2.3, docs/sso.md "The token
 * endpoint"): client_secret_basic (the Authorization header),
 * client_secret_post (client_id and client_secret in the form), or none
 * (client_id alone: a public app).  One method only.  Its record:
 *
 *   HMGET ms:{client:<id>} kind redirect_uris secret_hash
 *
 * A public app sends no secret; a confidential client's secret is
 * checked against its yescrypt hash in the thread pool (a client without
 * a hash is refused); a site gateway is refused here: it redeems its codes
 * from Redis (its code holds the token already) and has no secret.
 * Nothing here logs a secret.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "core/mobispot_secret.h"
#include "http/ngx_http_mobispot_thread.h"
#include "issuer/ngx_http_mobispot_issuer_token.h"


typedef struct {
    /* the work's */
    u_char                           secret[MOBISPOT_CLIENT_SECRET_MAX + 1];
    size_t                           len;
    char                             hash[MOBISPOT_SECRET_HASH_SIZE];
    ngx_int_t                        rc;

    /* the event loop's */
    ngx_http_mobispot_api_ctx_t     *ctx;
    ngx_http_mobispot_token_t       *tk;
} ngx_http_mobispot_client_check_t;


static ngx_int_t ngx_http_mobispot_client_basic(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_str_t *value);
static ngx_int_t ngx_http_mobispot_client_part(ngx_http_request_t *r,
    u_char *p, size_t len, size_t max, ngx_str_t *out);
static ngx_int_t ngx_http_mobispot_client_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_client_secret(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk);
static void ngx_http_mobispot_client_work(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_mobispot_client_checked(ngx_http_request_t *r,
    void *data);
static void ngx_http_mobispot_client_wipe(void *data);


static ngx_int_t
ngx_http_mobispot_client_refuse(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, const char *description)
{
    return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_UNAUTHORIZED,
                                         "invalid_client", description);
}


static ngx_int_t
ngx_http_mobispot_client_abort(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, const char *description)
{
    return ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_UNAUTHORIZED,
                                          "invalid_client", description);
}


/* the client as presented: the Authorization header, or the form */

ngx_int_t
ngx_http_mobispot_token_client_form(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_str_t *form)
{
    int         rc[2];
    size_t      len[2];
    u_char     *buf[2];
    ngx_int_t   brc;
    ngx_uint_t  i;

    static const char  *names[2] = { "client_id", "client_secret" };
    static size_t       max[2] = { NGX_HTTP_MOBISPOT_TOKEN_ID_MAX,
                                   MOBISPOT_CLIENT_SECRET_MAX };

    for (i = 0; i < 2; i++) {
        buf[i] = ngx_pnalloc(r->pool, max[i] + 1);
        if (buf[i] == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc[i] = mobispot_form_get((const char *) form->data, form->len,
                                  names[i], (char *) buf[i], max[i] + 1,
                                  &len[i]);

        if (rc[i] == MOBISPOT_FORM_TWICE || rc[i] == MOBISPOT_FORM_BAD) {
            return ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                                  "invalid_request",
                                                  i ? "client_secret is given "
                                                      "twice or malformed"
                                                    : "client_id is given "
                                                      "twice or malformed");
        }

        if (rc[i] == MOBISPOT_FORM_LONG) {
            return ngx_http_mobispot_client_abort(r, tk,
                                                  i ? "no such client "
                                                      "secret"
                                                    : "no such client");
        }

        if (rc[i] == MOBISPOT_FORM_OK) {
            buf[i][len[i]] = '\0';
        }
    }

    if (r->headers_in.authorization != NULL) {
        if (rc[1] == MOBISPOT_FORM_OK) {
            return ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                                  "invalid_request",
                                                  "one client authentication "
                                                  "only: the Authorization "
                                                  "header or client_secret");
        }

        brc = ngx_http_mobispot_client_basic(r, tk,
                                       &r->headers_in.authorization->value);
        if (brc != NGX_OK) {
            return brc;
        }

        if (rc[0] == MOBISPOT_FORM_OK
            && (len[0] != tk->client_id.len
                || ngx_strncmp(buf[0], tk->client_id.data, len[0]) != 0))
        {
            return ngx_http_mobispot_token_refuse(r, tk, NGX_HTTP_BAD_REQUEST,
                                                  "invalid_request",
                                                  "client_id is not the "
                                                  "client of the "
                                                  "Authorization header");
        }

        return NGX_OK;
    }

    if (rc[0] != MOBISPOT_FORM_OK) {
        return ngx_http_mobispot_client_abort(r, tk,
                                              "no client authentication: "
                                              "client_id is missing");
    }

    tk->client_id.data = buf[0];
    tk->client_id.len = len[0];

    if (rc[1] == MOBISPOT_FORM_OK) {
        tk->secret.data = buf[1];
        tk->secret.len = len[1];
    }

    return NGX_OK;
}


/* "Basic " base64(urlencoded id ":" urlencoded secret) (RFC 6749 2.3.1) */

static ngx_int_t
ngx_http_mobispot_client_basic(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk, ngx_str_t *value)
{
    u_char     *colon;
    ngx_str_t   in, out;

    tk->basic = 1;

    if (value->len <= 6 || ngx_strncasecmp(value->data, (u_char *) "Basic ", 6)
                           != 0)
    {
        return ngx_http_mobispot_client_abort(r, tk,
                                              "the Authorization header is "
                                              "not Basic");
    }

    in.data = value->data + 6;
    in.len = value->len - 6;

    if (in.len > 4 * ((NGX_HTTP_MOBISPOT_TOKEN_ID_MAX * 3
                       + MOBISPOT_CLIENT_SECRET_MAX * 3 + 1 + 2) / 3 + 1))
    {
        return ngx_http_mobispot_client_abort(r, tk,
                                              "the Authorization header is "
                                              "too long");
    }

    out.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(in.len) + 1);
    if (out.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_decode_base64(&out, &in) != NGX_OK
        || (colon = ngx_strlchr(out.data, out.data + out.len, ':')) == NULL)
    {
        return ngx_http_mobispot_client_abort(r, tk,
                                              "the Authorization header is "
                                              "malformed");
    }

    if (ngx_http_mobispot_client_part(r, out.data, colon - out.data,
                                      NGX_HTTP_MOBISPOT_TOKEN_ID_MAX,
                                      &tk->client_id)
        != NGX_OK
        || ngx_http_mobispot_client_part(r, colon + 1,
                                         out.data + out.len - colon - 1,
                                         MOBISPOT_CLIENT_SECRET_MAX,
                                         &tk->secret)
           != NGX_OK
        || tk->client_id.len == 0)
    {
        return ngx_http_mobispot_client_abort(r, tk,
                                              "the Authorization header's "
                                              "client or secret is "
                                              "malformed");
    }

    return NGX_OK;
}


/* a part of the Basic credentials, form-urlencoded, decoded strictly */

static ngx_int_t
ngx_http_mobispot_client_part(ngx_http_request_t *r, u_char *p, size_t len,
    size_t max, ngx_str_t *out)
{
    u_char  *text;
    size_t   n;

    if (ngx_strlchr(p, p + len, '&') || ngx_strlchr(p, p + len, '=')) {
        return NGX_ERROR;
    }

    text = ngx_pnalloc(r->pool, len + 2);
    out->data = ngx_pnalloc(r->pool, max + 1);
    if (text == NULL || out->data == NULL) {
        return NGX_ERROR;
    }

    text[0] = 'v';
    text[1] = '=';
    ngx_memcpy(text + 2, p, len);

    if (mobispot_form_check((const char *) text, len + 2) != MOBISPOT_FORM_OK
        || mobispot_form_get((const char *) text, len + 2, "v",
                             (char *) out->data, max + 1, &n)
           != MOBISPOT_FORM_OK)
    {
        return NGX_ERROR;
    }

    out->data[n] = '\0';
    out->len = n;

    return NGX_OK;
}


/* the client's record */

ngx_int_t
ngx_http_mobispot_token_client(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk)
{
    ngx_str_t  args[5];

    if (!ngx_http_mobispot_issuer_site_like(&tk->client_id)) {
        /* no registered id has this shape: no need to ask */
        return ngx_http_mobispot_client_refuse(r, tk, "no such client");
    }

    if (ngx_http_mobispot_token_key(r, &tk->client_key, "ms:{client:%V}",
                                    &tk->client_id)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&args[0], "HMGET");
    args[1] = tk->client_key;
    ngx_str_set(&args[2], "kind");
    ngx_str_set(&args[3], "redirect_uris");
    ngx_str_set(&args[4], "secret_hash");

    return ngx_http_mobispot_token_call(r, ctx, args, 5, &tk->client_key, 0,
                                        ngx_http_mobispot_client_read);
}


static ngx_int_t
ngx_http_mobispot_client_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_token_t *tk = ctx->data;

    ngx_str_t                  *kind, *hash;
    ngx_http_mobispot_reply_t  *a;

    a = &replies[0];

    if (a->type != REDIS_REPLY_ARRAY || a->elements != 3) {
        return ngx_http_mobispot_api_bad_reply(r, "HMGET of a client");
    }

    kind = ngx_http_mobispot_reply_str(&a->element[0]);
    hash = ngx_http_mobispot_reply_str(&a->element[2]);

    if (kind == NULL) {
        return ngx_http_mobispot_client_refuse(r, tk, "no such client");
    }

    if (kind->len == sizeof("public_app") - 1
        && ngx_strcmp(kind->data, "public_app") == 0)
    {
        if (tk->secret.data != NULL) {
            return ngx_http_mobispot_client_refuse(r, tk,
                                                   "a public app has no "
                                                   "secret");
        }

        tk->kind = NGX_HTTP_MOBISPOT_CLIENT_PUBLIC;

        return tk->next(r, ctx, tk);
    }

    if (kind->len == sizeof("confidential") - 1
        && ngx_strcmp(kind->data, "confidential") == 0)
    {
        if (tk->secret.data == NULL) {
            return ngx_http_mobispot_client_refuse(r, tk,
                                                   "a confidential client "
                                                   "authenticates with its "
                                                   "secret");
        }

        if (hash == NULL || hash->len >= MOBISPOT_SECRET_HASH_SIZE) {
            return ngx_http_mobispot_client_refuse(r, tk,
                                                   "the client has no "
                                                   "secret");
        }

        tk->kind = NGX_HTTP_MOBISPOT_CLIENT_CONFIDENTIAL;
        tk->secret_hash = *hash;

        return ngx_http_mobispot_client_secret(r, ctx, tk);
    }

    /* a site gateway, or a kind this issuer does not know */

    return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                         "unauthorized_client",
                                         "a site gateway redeems its codes "
                                         "from Redis, not here");
}


/* the secret checked in the location's thread pool */

static ngx_int_t
ngx_http_mobispot_client_secret(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk)
{
    ngx_http_mobispot_thread_t        *t;
    ngx_http_mobispot_client_check_t  *c;

    if (tk->secret.len > MOBISPOT_CLIENT_SECRET_MAX) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t = ngx_http_mobispot_thread_create(r,
                                   sizeof(ngx_http_mobispot_client_check_t),
                                   ngx_http_mobispot_client_wipe);
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    c = t->data;
    ngx_memcpy(c->secret, tk->secret.data, tk->secret.len);
    c->secret[tk->secret.len] = '\0';
    c->len = tk->secret.len;
    ngx_memcpy(c->hash, tk->secret_hash.data, tk->secret_hash.len);
    c->hash[tk->secret_hash.len] = '\0';
    c->rc = NGX_ERROR;
    c->ctx = ctx;
    c->tk = tk;

    return ngx_http_mobispot_thread_post(r, t, ngx_http_mobispot_client_work,
                                         ngx_http_mobispot_client_checked);
}


static void
ngx_http_mobispot_client_work(void *data, ngx_log_t *log)
{
    ngx_http_mobispot_client_check_t  *c = data;

    /* 1: the secret of the hash */

    if (mobispot_secret_verify((char *) c->secret, c->len, c->hash) == 1) {
        c->rc = NGX_OK;
    }

    ngx_explicit_memzero(c->secret, sizeof(c->secret));
}


static ngx_int_t
ngx_http_mobispot_client_checked(ngx_http_request_t *r, void *data)
{
    ngx_http_mobispot_client_check_t  *c = data;

    if (c->rc != NGX_OK) {
        return ngx_http_mobispot_client_refuse(r, c->tk,
                                               "the client's secret is "
                                               "wrong");
    }

    return c->tk->next(r, c->ctx, c->tk);
}


static void
ngx_http_mobispot_client_wipe(void *data)
{
    ngx_http_mobispot_client_check_t  *c = data;

    ngx_explicit_memzero(c->secret, sizeof(c->secret));
}
