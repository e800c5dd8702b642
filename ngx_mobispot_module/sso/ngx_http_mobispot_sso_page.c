
/*
 * Copyright (C) Mobispot
 *
 * The small HTML pages a browser gets when the site's sign-in callback
 * refuses (sso_callback.c): a heading, one sentence of static text (and,
 * for the issuer's error answer, its plain code), a link to the site's
 * root.  Never a byte of the request in them; never cached.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sso/ngx_http_mobispot_sso.h"


static const char  ngx_http_mobispot_sso_page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width\">\n"
    "<title>Sign-in failed</title>\n</head>\n<body>\n<main>\n"
    "<h1>Sign-in failed</h1>\n<p>";

static const char  ngx_http_mobispot_sso_page_tail[] =
    "</p>\n<p><a href=\"/\">Back to the site</a></p>\n</main>\n</body>\n"
    "</html>\n";


/* the page; text is static and holds no markup */

ngx_int_t
ngx_http_mobispot_sso_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *text)
{
    return ngx_http_mobispot_sso_page_code(r, status, text, NULL);
}


/* the same with a code in it ([a-z_] only: the caller checked) */

ngx_int_t
ngx_http_mobispot_sso_page_code(ngx_http_request_t *r, ngx_uint_t status,
    const char *text, ngx_str_t *code)
{
    u_char       *p;
    size_t        len;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    static ngx_str_t  html = ngx_string("text/html; charset=utf-8");

    len = sizeof(ngx_http_mobispot_sso_page_head) - 1 + ngx_strlen(text)
          + sizeof(ngx_http_mobispot_sso_page_tail) - 1;

    if (code) {
        len += sizeof(" (<code></code>)") - 1 + code->len;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, ngx_http_mobispot_sso_page_head,
                   sizeof(ngx_http_mobispot_sso_page_head) - 1);
    p = ngx_cpymem(p, text, ngx_strlen(text));

    if (code) {
        p = ngx_sprintf(p, " (<code>%V</code>)", code);
    }

    p = ngx_cpymem(p, ngx_http_mobispot_sso_page_tail,
                   sizeof(ngx_http_mobispot_sso_page_tail) - 1);

    b->last = p;

    if (ngx_http_mobispot_sso_header(r, "Cache-Control",
                                     (u_char *) "no-store", 8, NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_mobispot_send(r, status, &html, &out, b->last - b->pos);
}


/* a refusal of the callback: logged (at info: the client's doing), shown */

ngx_int_t
ngx_http_mobispot_sso_cb_refuse(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason, const char *text)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: sso callback refused (%ui): %s", status, reason);

    return ngx_http_mobispot_sso_page(r, status, text);
}
