
/*
 * Copyright (C) Mobispot
 *
 * {prefix}logout, OpenID Connect RP-Initiated Logout 1.0 (docs/sso.md,
 * "Signing out"):
 *
 *     GET  logout?client_id=..&post_logout_redirect_uri=..&state=..
 *          a confirmation page: a form (CSRF token as the sign-in's) with
 *          one button, "Sign out"; nothing ends yet
 *     POST logout   the form: the session ends
 *
 * A cross-site page can make a browser GET the URL, not submit the form:
 * no forced sign-out.  id_token_hint is taken and not used (the
 * confirmation is always asked), so post_logout_redirect_uri needs
 * client_id, and must be, byte for byte, one of that client's
 * post_logout_redirect_uris (HMGET ms:{client:<id>}), else 400: no open
 * redirect.  The POST reads the client and the session in one round trip;
 * a live session of this cookie is then ended: DEL ms:{sess:<sid>} (its
 * refresh tokens with it), ZADD ms:sso:revoked <now + 12 h> <sid> and
 * PUBLISH ms:sso:revoked "<sid> <exp>" (the gateways refuse its tokens at
 * once); the cookie is cleared in every case, then 303 to the URI (with
 * state) or a "signed out" page.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_login.h"
#include "core/mobispot_spots.h"
#include "core/mobispot_uri.h"
#include "issuer/ngx_http_mobispot_issuer.h"


enum {
    NGX_HTTP_MOBISPOT_LO_CLIENT_ID = 0,
    NGX_HTTP_MOBISPOT_LO_URI,
    NGX_HTTP_MOBISPOT_LO_STATE,
    NGX_HTTP_MOBISPOT_LO_HINT,
    NGX_HTTP_MOBISPOT_LO_CSRF,
    NGX_HTTP_MOBISPOT_LO_N
};


typedef struct {
    ngx_str_t                            p[NGX_HTTP_MOBISPOT_LO_N];
    ngx_str_t                            client_key;
    ngx_uint_t                           cookie;
    ngx_http_mobispot_issuer_session_t   sess;
} ngx_http_mobispot_logout_t;


static ngx_int_t ngx_http_mobispot_logout(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_logout_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_logout_confirm(ngx_http_request_t *r,
    ngx_http_mobispot_logout_t *lo);
static ngx_int_t ngx_http_mobispot_logout_end(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_logout_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);


const ngx_http_mobispot_api_route_t
    ngx_http_mobispot_issuer_logout_routes[] =
{
    { ngx_string("logout"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_http_mobispot_logout, 0, 0 },

    { ngx_string("logout"), NGX_HTTP_POST,
      ngx_http_mobispot_logout, 1, 0 },

    { ngx_null_string, 0, NULL, 0, 0 }
};


static const char  *ngx_http_mobispot_logout_names[] = {
    "client_id", "post_logout_redirect_uri", "state", "id_token_hint", "csrf"
};


/* GET or POST logout: the parameters, then the client and the session */

static ngx_int_t
ngx_http_mobispot_logout(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_str_t                      *text, *keys, *p;
    ngx_uint_t                      n;
    ngx_http_mobispot_logout_t     *lo;
    ngx_http_mobispot_api_keys_t   *declared;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    static ngx_str_t  hget = ngx_string("HGET");
    static ngx_str_t  uris = ngx_string("post_logout_redirect_uris");

    lo = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_logout_t));
    if (lo == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = lo;
    p = lo->p;
    text = &r->args;

    if (r->method == NGX_HTTP_POST) {
        if (!ngx_http_mobispot_issuer_form_type(r)) {
            return ngx_http_mobispot_issuer_error_page(r,
                                       NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                       "Signing out takes a form "
                                       "(application/x-www-form-urlencoded)"
                                       " only.");
        }

        text = &ctx->body;
    }

    if (ngx_http_mobispot_issuer_fields(r, text,
                                        ngx_http_mobispot_logout_names, p,
                                        NGX_HTTP_MOBISPOT_LO_N,
                                        MOBISPOT_URI_MAX)
        != NGX_OK
        || p[NGX_HTTP_MOBISPOT_LO_STATE].len > 512)
    {
        return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_BAD_REQUEST,
                                                   "The sign-out request is "
                                                   "malformed.");
    }

    if (r->method == NGX_HTTP_POST
        && ngx_http_mobispot_issuer_csrf_ok(r, &p[NGX_HTTP_MOBISPOT_LO_CSRF])
           != NGX_OK)
    {
        return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_FORBIDDEN,
                                                   "This sign-out form has "
                                                   "expired: nothing was "
                                                   "done.");
    }

    if ((p[NGX_HTTP_MOBISPOT_LO_URI].data
         && p[NGX_HTTP_MOBISPOT_LO_CLIENT_ID].data == NULL)
        || (p[NGX_HTTP_MOBISPOT_LO_CLIENT_ID].data
            && !mobispot_id_valid(
                   (char *) p[NGX_HTTP_MOBISPOT_LO_CLIENT_ID].data,
                   p[NGX_HTTP_MOBISPOT_LO_CLIENT_ID].len)))
    {
        return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_BAD_REQUEST,
                                                   "A post_logout_redirect_"
                                                   "uri needs the client_id "
                                                   "of its application.");
    }

    cmds = ngx_palloc(r->pool, 2 * sizeof(ngx_http_mobispot_redis_cmd_t));
    keys = ngx_palloc(r->pool, 2 * sizeof(ngx_str_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || keys == NULL || declared == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    if (p[NGX_HTTP_MOBISPOT_LO_URI].data) {
        if (ngx_http_mobispot_token_key(r, &lo->client_key,
                                        "ms:{client:%V}",
                                        &p[NGX_HTTP_MOBISPOT_LO_CLIENT_ID])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_mobispot_issuer_cmd(r, &cmds[n], 3, &hget,
                                         &lo->client_key, &uris)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        keys[n++] = lo->client_key;
    }

    if (r->method == NGX_HTTP_POST
        && ngx_http_mobispot_issuer_session_cookie(r, &lo->sess) == NGX_OK)
    {
        if (ngx_http_mobispot_issuer_session_read(r, &lo->sess, &cmds[n])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        lo->cookie = 1;
        keys[n++] = lo->sess.key;
    }

    if (n == 0) {
        return ngx_http_mobispot_logout_read(r, ctx, NULL, 0);
    }

    declared->read = keys;
    declared->nread = n;

    return ngx_http_mobispot_api_call(r, ctx, cmds, n, declared,
                                      ngx_http_mobispot_logout_read);
}


/* the client's URIs (when a URI was given) and the session are read */

static ngx_int_t
ngx_http_mobispot_logout_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_str_t                   *uri, *list;
    ngx_uint_t                   i;
    ngx_http_mobispot_logout_t  *lo;

    lo = ctx->data;
    uri = &lo->p[NGX_HTTP_MOBISPOT_LO_URI];
    i = 0;

    if (uri->data) {
        list = ngx_http_mobispot_reply_str(&replies[i++]);

        if (list == NULL
            || mobispot_uri_listed((char *) list->data, list->len,
                                   (char *) uri->data, uri->len)
               != MOBISPOT_OK)
        {
            return ngx_http_mobispot_issuer_error_page(r,
                                       NGX_HTTP_BAD_REQUEST,
                                       "This post_logout_redirect_uri is "
                                       "not registered for the application:"
                                       " the request is refused.");
        }
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_mobispot_logout_confirm(r, lo);
    }

    if (lo->cookie && i < n
        && ngx_http_mobispot_issuer_session_check(r, &lo->sess, &replies[i])
           == NGX_OK)
    {
        return ngx_http_mobispot_logout_end(r, ctx);
    }

    return ngx_http_mobispot_logout_done(r, ctx, NULL, 0);
}


/* GET: the confirmation form */

static ngx_int_t
ngx_http_mobispot_logout_confirm(ngx_http_request_t *r,
    ngx_http_mobispot_logout_t *lo)
{
    u_char      *p;
    size_t       len;
    ngx_str_t    token, html[3], body, *action;
    ngx_uint_t   i;

    static const char  head[] =
        "<h1>Sign out of Mobispot</h1>\n"
        "<p>Sign out here and at every site of Mobispot's network?</p>\n"
        "<form method=\"post\" action=\"logout\">\n"
        "<input type=\"hidden\" name=\"csrf\" value=\"%V\">\n";
    static const char  input[] = "<input type=\"hidden\" name=\"%s\" "
                                 "value=\"%V\">\n";
    static const char  tail[] = "<button type=\"submit\">Sign out</button>\n"
                                "</form>\n";

    if (ngx_http_mobispot_issuer_csrf_new(r, &token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof(head) + token.len + sizeof(tail);

    for (i = 0; i < 3; i++) {
        if (ngx_http_mobispot_issuer_escape(r, &lo->p[i], &html[i])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len += sizeof(input) + 32 + html[i].len;
    }

    body.data = ngx_pnalloc(r->pool, len);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(body.data, head, &token);

    for (i = 0; i < 3; i++) {
        if (lo->p[i].data) {
            p = ngx_sprintf(p, input, ngx_http_mobispot_logout_names[i],
                            &html[i]);
        }
    }

    p = ngx_cpymem(p, tail, sizeof(tail) - 1);
    body.len = p - body.data;

    /*
     * the form's answer is a 303 to the post-logout URI (registered: read
     * above), and a browser holds the redirects of a form's answer to the
     * page's form-action too: 'self' and the URI's origin
     */

    action = NULL;

    if (lo->p[NGX_HTTP_MOBISPOT_LO_URI].data
        && ngx_http_mobispot_issuer_form_action(r,
                                         &lo->p[NGX_HTTP_MOBISPOT_LO_URI],
                                         &action)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_issuer_page(r, NGX_HTTP_OK, "Sign out", &body,
                                         action, 0);
}


/*
 * A live session ends: DEL ms:{sess:<sid>}, ZADD ms:sso:revoked <exp>
 * <sid>, PUBLISH ms:sso:revoked "<sid> <exp>" (exp: now + the longest
 * access token's life)
 */

static ngx_int_t
ngx_http_mobispot_logout_end(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    u_char                         *p;
    ngx_str_t                       exp, msg, *keys;
    ngx_http_mobispot_logout_t     *lo;
    ngx_http_mobispot_api_keys_t   *declared;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    static ngx_str_t  del = ngx_string("DEL");
    static ngx_str_t  zadd = ngx_string("ZADD");
    static ngx_str_t  publish = ngx_string("PUBLISH");
    static ngx_str_t  revoked = ngx_string(NGX_HTTP_MOBISPOT_ISSUER_REVOKED);

    lo = ctx->data;

    p = ngx_pnalloc(r->pool, 2 * NGX_TIME_T_LEN + 1 + lo->sess.sid.len);
    cmds = ngx_palloc(r->pool, 3 * sizeof(ngx_http_mobispot_redis_cmd_t));
    keys = ngx_palloc(r->pool, 2 * sizeof(ngx_str_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (p == NULL || cmds == NULL || keys == NULL || declared == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    exp.data = p;
    exp.len = ngx_sprintf(p, "%T",
                          ngx_time() + NGX_HTTP_MOBISPOT_ISSUER_AT_MAX)
              - p;
    msg.data = p + exp.len;
    msg.len = ngx_sprintf(msg.data, "%V %V", &lo->sess.sid, &exp) - msg.data;

    if (ngx_http_mobispot_issuer_cmd(r, &cmds[0], 2, &del, &lo->sess.key)
        != NGX_OK
        || ngx_http_mobispot_issuer_cmd(r, &cmds[1], 4, &zadd, &revoked,
                                        &exp, &lo->sess.sid)
           != NGX_OK
        || ngx_http_mobispot_issuer_cmd(r, &cmds[2], 3, &publish, &revoked,
                                        &msg)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys[0] = lo->sess.key;
    keys[1] = revoked;
    declared->written = keys;
    declared->nwritten = 2;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: \"%V\" signed out (session %V)", &lo->sess.sub,
                  &lo->sess.sid);

    return ngx_http_mobispot_api_call(r, ctx, cmds, 3, declared,
                                      ngx_http_mobispot_logout_done);
}


/* the cookie cleared; 303 to the registered URI, or the signed-out page */

static ngx_int_t
ngx_http_mobispot_logout_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    u_char                      *p;
    ngx_str_t                    to, *uri, *state, empty;
    ngx_http_mobispot_logout_t  *lo;

    static ngx_str_t  body = ngx_string(
        "<h1>You are signed out</h1>\n"
        "<p>You are signed out of Mobispot and of its sites.</p>\n");

    lo = ctx->data;
    uri = &lo->p[NGX_HTTP_MOBISPOT_LO_URI];
    state = &lo->p[NGX_HTTP_MOBISPOT_LO_STATE];

    if (n == 3 && replies[1].type == REDIS_REPLY_ERROR) {
        return ngx_http_mobispot_api_bad_reply(r, "a revocation");
    }

    ngx_str_set(&empty, "; Max-Age=0; Path=/; Secure; HttpOnly; "
                        "SameSite=Lax");

    if (ngx_http_mobispot_issuer_set_cookie(r,
                                            NGX_HTTP_MOBISPOT_SESSION_COOKIE,
                                            &empty, NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (uri->data == NULL) {
        return ngx_http_mobispot_issuer_page(r, NGX_HTTP_OK, "Signed out",
                                             &body, NULL, 0);
    }

    to.data = ngx_pnalloc(r->pool, uri->len + sizeof("?state=")
                                   + 3 * state->len);
    if (to.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(to.data, uri->data, uri->len);

    if (state->data) {
        p = ngx_sprintf(p, "%cstate=",
                        ngx_strlchr(uri->data, uri->data + uri->len, '?')
                        ? '&' : '?');
        p += mobispot_url_encode((char *) state->data, state->len,
                                 (char *) p);
    }

    to.len = p - to.data;

    return ngx_http_mobispot_issuer_see_other(r, &to);
}
