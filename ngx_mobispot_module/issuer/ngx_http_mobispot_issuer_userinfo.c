
/*
 * Copyright (C) Mobispot
 *
 * GET/POST userinfo (OIDC Core 5.3): the Bearer access token of this
 * issuer in the Authorization header (RFC 6750 2.1; not in a form nor a
 * query), checked with the issuer's own keys: its signature (the key of
 * its kid), typ at+jwt, iss, aud the API's audience
 * (mobispot_sso_api_audience: a site's token is not for this), exp; then
 * in one round trip
 *
 *   ZSCORE ms:sso:revoked <sid>       a signed-out session's
 *   EXISTS ms:{sess:<sid>}            the session still there
 *   GET    ms:{user:<sub>}:doc        the account: name, email
 *
 * Errors as RFC 6750 3 says: 401 with WWW-Authenticate: Bearer, and
 * error="invalid_token" for a token refused.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "issuer/ngx_http_mobispot_issuer_token.h"


#define NGX_HTTP_MOBISPOT_USERINFO_MAX  4096   /* a token's bytes */


typedef struct {
    ngx_str_t                          sub;
    ngx_str_t                          keys[3];
} ngx_http_mobispot_userinfo_t;


static ngx_int_t ngx_http_mobispot_userinfo(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_userinfo_check(ngx_http_request_t *r,
    ngx_str_t *token, ngx_http_mobispot_userinfo_t *ui, ngx_str_t *sid,
    const char **reason);
static yajl_val ngx_http_mobispot_userinfo_segment(ngx_http_request_t *r,
    u_char *data, size_t len);
static ngx_int_t ngx_http_mobispot_userinfo_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_userinfo_refuse(ngx_http_request_t *r,
    const char *error, const char *description);
static void ngx_http_mobispot_userinfo_free(void *data);


const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_issuer_userinfo_routes[] =
{
    { ngx_string("userinfo"), NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST,
      ngx_http_mobispot_userinfo, 0, 0 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


static ngx_int_t
ngx_http_mobispot_userinfo(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    u_char                         *sess;
    ngx_str_t                      *auth, token, sid;
    const char                     *reason;
    ngx_uint_t                      i, k;
    size_t                         *len;
    const char                    **argv;
    ngx_http_mobispot_api_keys_t   *keys;
    ngx_http_mobispot_redis_cmd_t  *cmds;
    ngx_http_mobispot_userinfo_t   *ui;

    static const char  *names[3] = { "ZSCORE", "EXISTS", "GET" };

    if (r->headers_in.authorization == NULL) {
        return ngx_http_mobispot_userinfo_refuse(r, NULL,
                                                 "a Bearer access token is "
                                                 "needed");
    }

    auth = &r->headers_in.authorization->value;

    if (auth->len <= 7
        || ngx_strncasecmp(auth->data, (u_char *) "Bearer ", 7) != 0)
    {
        return ngx_http_mobispot_userinfo_refuse(r, "invalid_request",
                                                 "the Authorization header "
                                                 "is not Bearer");
    }

    token.data = auth->data + 7;
    token.len = auth->len - 7;

    ui = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_userinfo_t));
    if (ui == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_userinfo_check(r, &token, ui, &sid, &reason)
        != NGX_OK)
    {
        if (reason == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mobispot_userinfo_refuse(r, "invalid_token", reason);
    }

    /* the keys: ms:sso:revoked, ms:{sess:<sid>}, ms:{user:<sub>}:doc */

    sess = ngx_pnalloc(r->pool, sid.len + ui->sub.len + 32);
    if (sess == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&ui->keys[0], "ms:sso:revoked");
    ui->keys[1].data = sess;
    ui->keys[1].len = ngx_sprintf(sess, "ms:{sess:%V}", &sid) - sess;
    ui->keys[2].data = sess + ui->keys[1].len;
    ui->keys[2].len = ngx_sprintf(ui->keys[2].data, "ms:{user:%V}:doc",
                                  &ui->sub)
                      - ui->keys[2].data;

    cmds = ngx_palloc(r->pool, 3 * sizeof(ngx_http_mobispot_redis_cmd_t));
    argv = ngx_palloc(r->pool, 7 * sizeof(char *));
    len = ngx_palloc(r->pool, 7 * sizeof(size_t));
    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));
    if (cmds == NULL || argv == NULL || len == NULL || keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* ZSCORE key sid, EXISTS key, GET key */

    argv[2] = (const char *) sid.data;
    len[2] = sid.len;

    for (i = 0; i < 3; i++) {
        k = (i == 0) ? 0 : 2 * i + 1;
        argv[k] = names[i];
        len[k] = ngx_strlen(names[i]);
        argv[k + 1] = (const char *) ui->keys[i].data;
        len[k + 1] = ui->keys[i].len;
        cmds[i].argc = (i == 0) ? 3 : 2;
        cmds[i].argv = &argv[k];
        cmds[i].argvlen = &len[k];
    }

    keys->read = ui->keys;
    keys->nread = 3;

    ctx->data = ui;

    return ngx_http_mobispot_api_call(r, ctx, cmds, 3, keys,
                                      ngx_http_mobispot_userinfo_read);
}


/*
 * The token, as the gateway checks one (core/mobispot_jwt.c), with the
 * issuer's own keys.  NGX_ERROR with *reason for a refused token, without
 * (reason NULL) for a failure of ours.
 */

static ngx_int_t
ngx_http_mobispot_userinfo_check(ngx_http_request_t *r, ngx_str_t *token,
    ngx_http_mobispot_userinfo_t *ui, ngx_str_t *sid, const char **reason)
{
    size_t                                dot1, dot2;
    yajl_val                              header, payload, v;
    long long                             exp;
    ngx_uint_t                            i;
    const char                           *aud[1];
    mobispot_jws_key_t                    jk;
    mobispot_jwt_header_t                 h;
    mobispot_claims_conf_t                cc;
    ngx_http_mobispot_issuer_key_t       *key;
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    static const char  *require[] = { "sub", "sid", "iat" };

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    if (mobispot_jwt_shape((const char *) token->data, token->len,
                           NGX_HTTP_MOBISPOT_USERINFO_MAX, &dot1, &dot2,
                           reason)
        != MOBISPOT_SSO_OK)
    {
        return NGX_ERROR;
    }

    header = ngx_http_mobispot_userinfo_segment(r, token->data, dot1);
    if (header == NULL
        || mobispot_jwt_header_check(header, &h, reason) != MOBISPOT_SSO_OK)
    {
        *reason = "the token's header is malformed";
        return NGX_ERROR;
    }

    if (h.typ != MOBISPOT_JWT_TYP_AT || h.kid == NULL) {
        *reason = "not an access token of this issuer (typ, kid)";
        return NGX_ERROR;
    }

    key = lcf->keys->elts;

    for (i = 0; i < lcf->keys->nelts; i++) {
        if (ngx_strcmp(key[i].kid.data, h.kid) == 0
            && ngx_strcmp(key[i].alg, h.alg) == 0)
        {
            break;
        }
    }

    if (i == lcf->keys->nelts) {
        *reason = "no key of this issuer has the token's kid and alg";
        return NGX_ERROR;
    }

    ngx_memzero(&jk, sizeof(mobispot_jws_key_t));
    jk.alg = key[i].alg;
    jk.pkey = key[i].pkey;

    if (mobispot_jws_verify(&jk, (const char *) token->data, token->len,
                            reason)
        != MOBISPOT_OK)
    {
        *reason = "the token's signature is wrong";
        return NGX_ERROR;
    }

    payload = ngx_http_mobispot_userinfo_segment(r, token->data + dot1 + 1,
                                                 dot2 - dot1 - 1);
    if (payload == NULL) {
        *reason = "the token's claims are malformed";
        return NGX_ERROR;
    }

    ngx_memzero(&cc, sizeof(mobispot_claims_conf_t));
    aud[0] = (const char *) lcf->api_audience.data;
    cc.issuer = (const char *) lcf->url.data;
    cc.audiences = aud;
    cc.naudiences = 1;
    cc.require = require;
    cc.nrequire = 3;
    cc.max_lifetime = NGX_HTTP_MOBISPOT_ISSUER_LIFETIME_MAX;

    if (mobispot_claims_check(payload, &cc, (long long) ngx_time(), &exp,
                              reason)
        != MOBISPOT_SSO_OK)
    {
        return NGX_ERROR;
    }

    v = mobispot_json_member(payload, "sub");
    ui->sub.data = (u_char *) v->u.string;
    ui->sub.len = ngx_strlen(v->u.string);

    v = mobispot_json_member(payload, "sid");
    sid->data = (u_char *) v->u.string;
    sid->len = ngx_strlen(v->u.string);

    /* neither breaks a key: ids of the data model (data-model.md) */

    for (i = 0; i < ui->sub.len; i++) {
        if (ui->sub.data[i] == '{' || ui->sub.data[i] == '}'
            || ui->sub.data[i] == ':' || ui->sub.data[i] <= ' ')
        {
            *reason = "the token's sub is not an account id";
            return NGX_ERROR;
        }
    }

    if (sid->len != NGX_HTTP_MOBISPOT_SID_LEN || ui->sub.len == 0
        || ui->sub.len > 128)
    {
        *reason = "the token's sid or sub is not this issuer's";
        return NGX_ERROR;
    }

    for (i = 0; i < sid->len; i++) {
        if (sid->data[i] == '{' || sid->data[i] == '}'
            || sid->data[i] == ':' || sid->data[i] <= ' ')
        {
            *reason = "the token's sid is not this issuer's";
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a base64url segment parsed as a strict JSON object, freed with r */

static yajl_val
ngx_http_mobispot_userinfo_segment(ngx_http_request_t *r, u_char *data,
    size_t len)
{
    u_char              *buf;
    size_t               n;
    yajl_val             v;
    const char          *reason;
    ngx_pool_cleanup_t  *cln;

    buf = ngx_pnalloc(r->pool, mobispot_b64url_decoded_max(len) + 1);
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (buf == NULL || cln == NULL
        || mobispot_b64url_decode((const char *) data, len, buf, &n) != 0)
    {
        return NULL;
    }

    buf[n] = '\0';

    v = mobispot_jwt_json((const char *) buf, n, &reason);
    if (v == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mobispot_userinfo_free;
    cln->data = v;

    return v;
}


static void
ngx_http_mobispot_userinfo_free(void *data)
{
    yajl_tree_free(data);
}


static ngx_int_t
ngx_http_mobispot_userinfo_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_userinfo_t *ui = ctx->data;

    yajl_gen     g;
    yajl_val     doc, v;
    ngx_str_t   *json;
    ngx_uint_t   i, ok;
    const char  *reason;

    static const char  *members[2] = { "name", "email" };

    if (replies[0].type != REDIS_REPLY_NIL) {
        return ngx_http_mobispot_userinfo_refuse(r, "invalid_token",
                                                 "the session was signed "
                                                 "out");
    }

    if (replies[1].type != REDIS_REPLY_INTEGER) {
        return ngx_http_mobispot_api_bad_reply(r, "EXISTS of a session");
    }

    if (replies[1].integer != 1) {
        return ngx_http_mobispot_userinfo_refuse(r, "invalid_token",
                                                 "the session has ended");
    }

    if (replies[2].type == REDIS_REPLY_NIL) {
        return ngx_http_mobispot_userinfo_refuse(r, "invalid_token",
                                                 "the account no longer "
                                                 "exists");
    }

    json = ngx_http_mobispot_reply_str(&replies[2]);
    if (json == NULL) {
        return ngx_http_mobispot_api_bad_reply(r, "GET of an account");
    }

    doc = mobispot_jwt_json((const char *) json->data, json->len, &reason);
    if (doc == NULL) {
        return ngx_http_mobispot_api_bad_reply(r, "GET of an account");
    }

    g = ngx_http_mobispot_api_gen(r);

    ok = g != NULL
         && yajl_gen_map_open(g) == yajl_gen_status_ok
         && yajl_gen_string(g, (const unsigned char *) "sub", 3)
            == yajl_gen_status_ok
         && yajl_gen_string(g, ui->sub.data, ui->sub.len)
            == yajl_gen_status_ok;

    for (i = 0; ok && i < 2; i++) {
        v = mobispot_json_member(doc, members[i]);

        if (v == NULL || !YAJL_IS_STRING(v)) {
            continue;
        }

        ok = yajl_gen_string(g, (const unsigned char *) members[i],
                             ngx_strlen(members[i]))
             == yajl_gen_status_ok
             && yajl_gen_string(g, (const unsigned char *) v->u.string,
                                ngx_strlen(v->u.string))
                == yajl_gen_status_ok;
    }

    yajl_tree_free(doc);

    if (!ok || yajl_gen_map_close(g) != yajl_gen_status_ok) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g);
}


/*
 * RFC 6750 3: 401 and WWW-Authenticate: Bearer, with error= when the
 * request had a token (error NULL: none was given); 400 for a request
 * that is not Bearer
 */

static ngx_int_t
ngx_http_mobispot_userinfo_refuse(ngx_http_request_t *r, const char *error,
    const char *description)
{
    ngx_str_t   www;
    ngx_uint_t  status;

    www.data = ngx_pnalloc(r->pool, sizeof("Bearer realm=\"mobispot\", "
                                           "error=\"invalid_request\""));
    if (www.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (error == NULL) {
        www.len = ngx_sprintf(www.data, "Bearer realm=\"mobispot\"")
                  - www.data;

    } else {
        www.len = ngx_sprintf(www.data,
                              "Bearer realm=\"mobispot\", error=\"%s\"",
                              error)
                  - www.data;
    }

    status = (error != NULL && ngx_strcmp(error, "invalid_request") == 0)
             ? NGX_HTTP_BAD_REQUEST : NGX_HTTP_UNAUTHORIZED;

    return ngx_http_mobispot_oauth_error(r, status,
                                         error ? error : "invalid_token",
                                         description, &www);
}
