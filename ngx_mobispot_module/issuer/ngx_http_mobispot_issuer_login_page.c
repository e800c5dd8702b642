
/*
 * Copyright (C) Mobispot
 *
 * The sign-in form (GET login, and again after wrong credentials): plain
 * HTML that works with a keyboard alone and without script (labels tied
 * to their fields, autocomplete=username / current-password, a visible
 * focus), and its CSRF protection: a double-submit token, 256 random bits
 * made for each form, sent both in the cookie __Host-mobispot_csrf
 * (SameSite=Strict, HttpOnly) and in a hidden field; POST login takes the
 * form only when both are there and equal (compared in constant time).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "core/mobispot_login.h"
#include "issuer/ngx_http_mobispot_issuer.h"


/*
 * The form, with status; cont: the parked authorize request (already
 * checked) or NULL; name: the sign-in name to show again, or NULL;
 * message: a line above the form, or NULL; action: the page's
 * form-action (issuer_login_target.c), or NULL for 'self'
 */

ngx_int_t
ngx_http_mobispot_issuer_login_form(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *cont, ngx_str_t *name, const char *message, ngx_str_t *action)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   token, body, cont_html, name_html, msg;

    static const char  h1[] = "<h1>Sign in to Mobispot</h1>\n";
    static const char  alert[] = "<p class=\"error\" role=\"alert\" "
                                 "id=\"problem\">";
    static const char  form[] =
        "<form method=\"post\" action=\"login\">\n"
        "<input type=\"hidden\" name=\"csrf\" value=\"";
    static const char  cont1[] = "\">\n<input type=\"hidden\" "
                                 "name=\"continue\" value=\"";
    static const char  user[] =
        "\">\n<label for=\"username\">Email or account id</label>\n"
        "<input id=\"username\" name=\"username\" type=\"text\" "
        "autocomplete=\"username\" autocapitalize=\"none\" "
        "spellcheck=\"false\" required autofocus value=\"";
    static const char  pass[] =
        "\">\n<label for=\"password\">Password</label>\n"
        "<input id=\"password\" name=\"password\" type=\"password\" "
        "autocomplete=\"current-password\" required>\n"
        "<button type=\"submit\">Sign in</button>\n</form>\n";

    if (ngx_http_mobispot_issuer_csrf_new(r, &token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_null(&cont_html);
    ngx_str_null(&name_html);
    ngx_str_null(&msg);

    if ((cont && cont->len
         && ngx_http_mobispot_issuer_escape(r, cont, &cont_html) != NGX_OK)
        || (name && name->len
            && ngx_http_mobispot_issuer_escape(r, name, &name_html)
               != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (message) {
        msg.data = (u_char *) message;
        msg.len = ngx_strlen(message);
    }

    len = sizeof(h1) + sizeof(alert) + msg.len + sizeof("</p>\n")
          + sizeof(form) + token.len + sizeof(cont1) + cont_html.len
          + sizeof(user) + name_html.len + sizeof(pass);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;
    p = ngx_cpymem(p, h1, sizeof(h1) - 1);

    if (msg.len) {
        p = ngx_sprintf(p, "%s%V</p>\n", alert, &msg);
    }

    p = ngx_cpymem(p, form, sizeof(form) - 1);
    p = ngx_cpymem(p, token.data, token.len);

    if (cont_html.len) {
        p = ngx_cpymem(p, cont1, sizeof(cont1) - 1);
        p = ngx_cpymem(p, cont_html.data, cont_html.len);
    }

    p = ngx_cpymem(p, user, sizeof(user) - 1);
    p = ngx_cpymem(p, name_html.data, name_html.len);
    p = ngx_cpymem(p, pass, sizeof(pass) - 1);
    body.len = p - body.data;

    return ngx_http_mobispot_issuer_page(r, status, "Sign in to Mobispot",
                                         &body, action, 0);
}


/* a new CSRF token, in its cookie (and in *token for the form's field) */

ngx_int_t
ngx_http_mobispot_issuer_csrf_new(ngx_http_request_t *r, ngx_str_t *token)
{
    if (ngx_http_mobispot_issuer_random(r, 32, token) != NGX_OK
        || ngx_http_mobispot_issuer_set_cookie(r,
                                               NGX_HTTP_MOBISPOT_CSRF_COOKIE,
                                               token,
                                               "; Path=/; Secure; HttpOnly; "
                                               "SameSite=Strict")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The form's "csrf" field is the __Host-mobispot_csrf cookie's value
 * (both present, of the token's length, equal in constant time)
 */

ngx_int_t
ngx_http_mobispot_issuer_csrf_ok(ngx_http_request_t *r, ngx_str_t *field)
{
    ngx_str_t  cookie;

    if (field->data == NULL || field->len != MOBISPOT_LOGIN_SECRET_LEN
        || ngx_http_mobispot_issuer_cookie(r, NGX_HTTP_MOBISPOT_CSRF_COOKIE,
                                           &cookie)
           != NGX_OK
        || cookie.len != MOBISPOT_LOGIN_SECRET_LEN
        || CRYPTO_memcmp(cookie.data, field->data, cookie.len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}
