
/*
 * Copyright (C) Mobispot
 *
 * The issuer's HTML answers: one page around a body (lang, charset, a
 * small style), with the headers every page of the issuer gets:
 *
 *     Cache-Control: no-store
 *     Content-Security-Policy: default-src 'none'; style-src 'sha256-..';
 *         form-action 'self'; frame-ancestors 'none'; base-uri 'none'
 *         (form_post: the form's target instead of 'self', and
 *         script-src 'sha256-..' of its one script; the sign-out's
 *         confirmation: 'self' and the origin of the post-logout URI its
 *         303 goes to, which a browser checks form-action against too)
 *     X-Content-Type-Options: nosniff
 *     Referrer-Policy: no-referrer
 *     X-Frame-Options: DENY
 *
 * an error page, a 303, HTML escaping, and the fields of a form's text
 * (core/mobispot_form.c: a text is taken whole or refused).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "core/mobispot_core.h"
#include "issuer/ngx_http_mobispot_issuer.h"


static ngx_int_t ngx_http_mobispot_page_headers(ngx_http_request_t *r,
    ngx_str_t *form_action, ngx_uint_t script);
static ngx_int_t ngx_http_mobispot_page_hash(ngx_http_request_t *r,
    const char *text, size_t len, ngx_str_t *out);


static const char  ngx_http_mobispot_page_style[] =
    "body{font:1rem/1.5 system-ui,sans-serif;margin:2rem auto;"
    "max-width:26rem;padding:0 1rem;color:#1c1c1c;background:#fff}"
    "label{display:block;font-weight:600;margin-top:1rem}"
    "input,button{font:inherit;width:100%;box-sizing:border-box;"
    "padding:.5rem;margin-top:.25rem;border:1px solid #555;"
    "border-radius:4px}"
    "button{margin-top:1.5rem;background:#1a5fb4;color:#fff;"
    "border-color:#1a5fb4;cursor:pointer}"
    ":focus{outline:3px solid #e66100;outline-offset:2px}"
    ".error{color:#a51d2d;font-weight:600}";

/* the form_post page's one script */
static const char  ngx_http_mobispot_page_script[] =
    "document.forms[0].submit();";


/*
 * An HTML page: title and body (already HTML) in the page; form_action:
 * the sources a form (and the redirects of its answer) may go to, or NULL
 * for the issuer itself; script: the
 * page has the form_post script
 */

ngx_int_t
ngx_http_mobispot_issuer_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *body, ngx_str_t *form_action,
    ngx_uint_t script)
{
    u_char       *p;
    size_t        len;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    static ngx_str_t   html = ngx_string("text/html; charset=utf-8");
    static const char  head[] =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        "<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n<title>";
    static const char  style[] = "</title>\n<style>";
    static const char  open[] = "</style>\n</head>\n<body>\n<main>\n";
    static const char  script_open[] = "<script>";
    static const char  script_close[] = "</script>\n";
    static const char  close[] = "</main>\n</body>\n</html>\n";

    len = sizeof(head) - 1 + ngx_strlen(title) + sizeof(style) - 1
          + sizeof(ngx_http_mobispot_page_style) - 1 + sizeof(open) - 1
          + body->len + sizeof(close) - 1;

    if (script) {
        len += sizeof(script_open) - 1
               + sizeof(ngx_http_mobispot_page_script) - 1
               + sizeof(script_close) - 1;
    }

    p = ngx_pnalloc(r->pool, len);
    b = ngx_calloc_buf(r->pool);

    if (p == NULL || b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = p;
    p = ngx_cpymem(p, head, sizeof(head) - 1);
    p = ngx_cpymem(p, title, ngx_strlen(title));
    p = ngx_cpymem(p, style, sizeof(style) - 1);
    p = ngx_cpymem(p, ngx_http_mobispot_page_style,
                   sizeof(ngx_http_mobispot_page_style) - 1);
    p = ngx_cpymem(p, open, sizeof(open) - 1);
    p = ngx_cpymem(p, body->data, body->len);

    if (script) {
        p = ngx_cpymem(p, script_open, sizeof(script_open) - 1);
        p = ngx_cpymem(p, ngx_http_mobispot_page_script,
                       sizeof(ngx_http_mobispot_page_script) - 1);
        p = ngx_cpymem(p, script_close, sizeof(script_close) - 1);
    }

    b->last = ngx_cpymem(p, close, sizeof(close) - 1);
    b->memory = 1;

    if (ngx_http_mobispot_page_headers(r, form_action, script) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_mobispot_send(r, status, &html, &out, b->last - b->pos);
}


/* a page with one message (plain text, escaped here) */

ngx_int_t
ngx_http_mobispot_issuer_error_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *message)
{
    u_char     *p;
    ngx_str_t   text, html, body;

    static const char  h1[] = "<h1>Mobispot sign-in</h1>\n"
                              "<p class=\"error\" role=\"alert\">";
    static const char  end[] = "</p>\n";

    text.data = (u_char *) message;
    text.len = ngx_strlen(message);

    if (ngx_http_mobispot_issuer_escape(r, &text, &html) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof(h1) - 1 + html.len + sizeof(end) - 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;
    p = ngx_cpymem(p, h1, sizeof(h1) - 1);
    p = ngx_cpymem(p, html.data, html.len);
    p = ngx_cpymem(p, end, sizeof(end) - 1);
    body.len = p - body.data;

    return ngx_http_mobispot_issuer_page(r, status, "Mobispot sign-in", &body,
                                         NULL, 0);
}


/* 303 See Other to location (made of URI characters only by the caller) */

ngx_int_t
ngx_http_mobispot_issuer_see_other(ngx_http_request_t *r,
    ngx_str_t *location)
{
    ngx_table_elt_t  *h;

    if (ngx_http_mobispot_api_header(r, "Cache-Control",
                                     sizeof("Cache-Control") - 1,
                                     (u_char *) "no-store",
                                     sizeof("no-store") - 1)
        != NGX_OK
        || ngx_http_mobispot_api_header(r, "Referrer-Policy",
                                        sizeof("Referrer-Policy") - 1,
                                        (u_char *) "no-referrer",
                                        sizeof("no-referrer") - 1)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value = *location;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    ngx_http_clear_location(r);
    r->headers_out.location = h;

    r->headers_out.status = NGX_HTTP_SEE_OTHER;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


/* in, escaped for HTML text and attribute values, into r->pool */

ngx_int_t
ngx_http_mobispot_issuer_escape(ngx_http_request_t *r, ngx_str_t *in,
    ngx_str_t *out)
{
    u_char      *p, c;
    size_t       i, len;
    const char  *e;

    len = 0;

    for (i = 0; i < in->len; i++) {
        c = in->data[i];
        len += (c == '&') ? 5 : (c == '<' || c == '>') ? 4
               : (c == '"' || c == '\'') ? 6 : 1;
    }

    out->data = ngx_pnalloc(r->pool, len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (i = 0; i < in->len; i++) {
        c = in->data[i];

        switch (c) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#x27;"; break;
        default: *p++ = c; continue;
        }

        p = ngx_cpymem(p, e, ngx_strlen(e));
    }

    *p = '\0';
    out->len = p - out->data;

    return NGX_OK;
}


/*
 * The n fields names[] of a form's text into values[] (r->pool,
 * NUL-terminated; data NULL for an absent field), each at most max bytes:
 * NGX_OK, or NGX_DECLINED for a malformed text, a field named twice or
 * too long
 */

ngx_int_t
ngx_http_mobispot_issuer_fields(ngx_http_request_t *r, ngx_str_t *text,
    const char **names, ngx_str_t *values, ngx_uint_t n, size_t max)
{
    int          rc;
    char        *buf;
    size_t       len;
    ngx_uint_t   i;

    if (mobispot_form_check((char *) text->data, text->len)
        != MOBISPOT_FORM_OK)
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        buf = ngx_pnalloc(r->pool, max + 1);
        if (buf == NULL) {
            return NGX_ERROR;
        }

        rc = mobispot_form_get((char *) text->data, text->len, names[i], buf,
                               max + 1, &len);

        if (rc == MOBISPOT_FORM_ABSENT) {
            ngx_str_null(&values[i]);
            continue;
        }

        if (rc != MOBISPOT_FORM_OK) {
            return NGX_DECLINED;
        }

        values[i].data = (u_char *) buf;
        values[i].len = len;
    }

    return NGX_OK;
}


/* Content-Type: application/x-www-form-urlencoded[; parameters] */

ngx_uint_t
ngx_http_mobispot_issuer_form_type(ngx_http_request_t *r)
{
    u_char     c;
    ngx_str_t  *type;

    static const char  form[] = "application/x-www-form-urlencoded";

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    type = &r->headers_in.content_type->value;

    if (type->len < sizeof(form) - 1
        || ngx_strncasecmp(type->data, (u_char *) form, sizeof(form) - 1)
           != 0)
    {
        return 0;
    }

    if (type->len == sizeof(form) - 1) {
        return 1;
    }

    c = type->data[sizeof(form) - 1];

    return c == ';' || c == ' ' || c == '\t';
}


/*
 * The CSP source of a URI a form goes to: "scheme://authority", or
 * "scheme:" for a private-use URI; 'none' when it holds a character that
 * would end the source (the form then posts nowhere: fail closed)
 */

void
ngx_http_mobispot_issuer_form_source(ngx_str_t *uri, ngx_str_t *origin)
{
    u_char  *p, *end, *colon;

    end = uri->data + uri->len;
    colon = ngx_strlchr(uri->data, end, ':');

    if (colon == NULL) {
        ngx_str_set(origin, "'none'");
        return;
    }

    p = colon + 1;

    if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
        for (p += 2; p < end; p++) {
            if (*p == '/' || *p == '?' || *p == '#') {
                break;
            }
        }
    }

    origin->data = uri->data;
    origin->len = p - uri->data;

    for (p = origin->data; p < origin->data + origin->len; p++) {
        if (*p == ';' || *p == ',' || *p == '\'' || *p <= ' ' || *p >= 0x7f)
        {
            ngx_str_set(origin, "'none'");
            return;
        }
    }
}


/*
 * The form-action of a page whose form's answer goes on to uri (after the
 * issuer's own redirects): "'self' <uri's source>" into *action, or NULL
 * ('self' alone) when uri has no source a CSP can hold
 */

ngx_int_t
ngx_http_mobispot_issuer_form_action(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_str_t **action)
{
    u_char     *p;
    ngx_str_t   source;

    *action = NULL;

    ngx_http_mobispot_issuer_form_source(uri, &source);

    if (source.data[0] == '\'') {
        return NGX_OK;
    }

    *action = ngx_palloc(r->pool, sizeof(ngx_str_t));
    p = ngx_pnalloc(r->pool, sizeof("'self' ") - 1 + source.len);

    if (*action == NULL || p == NULL) {
        return NGX_ERROR;
    }

    (*action)->data = p;
    (*action)->len = ngx_sprintf(p, "'self' %V", &source) - p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_page_headers(ngx_http_request_t *r, ngx_str_t *form_action,
    ngx_uint_t script)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   style_hash, script_hash;

    static const char  csp1[] = "default-src 'none'; style-src '";
    static const char  csp2[] = "'; frame-ancestors 'none'; base-uri 'none'"
                                "; form-action ";
    static const char  csp3[] = "; script-src '";

    if (ngx_http_mobispot_page_hash(r, ngx_http_mobispot_page_style,
                                    sizeof(ngx_http_mobispot_page_style) - 1,
                                    &style_hash)
        != NGX_OK
        || ngx_http_mobispot_page_hash(r, ngx_http_mobispot_page_script,
                                       sizeof(ngx_http_mobispot_page_script)
                                       - 1, &script_hash)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = sizeof(csp1) - 1 + style_hash.len + sizeof(csp2) - 1
          + (form_action ? form_action->len : sizeof("'self'") - 1)
          + sizeof(csp3) - 1 + script_hash.len + 1;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len = ngx_sprintf(p, "%s%V%s", csp1, &style_hash, csp2) - p;

    if (form_action) {
        len = ngx_sprintf(p + len, "%V", form_action) - p;

    } else {
        len = ngx_sprintf(p + len, "'self'") - p;
    }

    if (script) {
        len = ngx_sprintf(p + len, "%s%V'", csp3, &script_hash) - p;
    }

    if (ngx_http_mobispot_api_header(r, "Content-Security-Policy",
                                     sizeof("Content-Security-Policy") - 1,
                                     p, len)
        != NGX_OK
        || ngx_http_mobispot_api_header(r, "Cache-Control",
                                        sizeof("Cache-Control") - 1,
                                        (u_char *) "no-store",
                                        sizeof("no-store") - 1)
           != NGX_OK
        || ngx_http_mobispot_api_header(r, "X-Content-Type-Options",
                                        sizeof("X-Content-Type-Options") - 1,
                                        (u_char *) "nosniff",
                                        sizeof("nosniff") - 1)
           != NGX_OK
        || ngx_http_mobispot_api_header(r, "Referrer-Policy",
                                        sizeof("Referrer-Policy") - 1,
                                        (u_char *) "no-referrer",
                                        sizeof("no-referrer") - 1)
           != NGX_OK
        || ngx_http_mobispot_api_header(r, "X-Frame-Options",
                                        sizeof("X-Frame-Options") - 1,
                                        (u_char *) "DENY",
                                        sizeof("DENY") - 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "sha256-<base64 of the SHA-256 of text>", as CSP names an inline text */

static ngx_int_t
ngx_http_mobispot_page_hash(ngx_http_request_t *r, const char *text,
    size_t len, ngx_str_t *out)
{
    u_char     md[SHA256_DIGEST_LENGTH];
    ngx_str_t  src, b64;

    (void) SHA256((u_char *) text, len, md);

    out->data = ngx_pnalloc(r->pool, sizeof("sha256-") - 1
                                     + ngx_base64_encoded_length(sizeof(md)));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, "sha256-", sizeof("sha256-") - 1);

    src.data = md;
    src.len = sizeof(md);
    b64.data = out->data + sizeof("sha256-") - 1;

    ngx_encode_base64(&b64, &src);

    out->len = sizeof("sha256-") - 1 + b64.len;

    return NGX_OK;
}
