
/*
 * Copyright (C) Mobispot
 *
 * Request headers that nginx does not keep a pointer to: every header of
 * a name (the routes count them: one Idempotency-Key, not two), and
 * whether an Accept header lists a media type; and the one way every
 * answer of the module is sent: its status, length and type, then its
 * body.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_api.h"


/*
 * The number of request headers named name (case-insensitive); the first
 * max of their values are put in values.
 */

ngx_uint_t
ngx_http_mobispot_header_values(ngx_http_request_t *r, const char *name,
    ngx_str_t *values, ngx_uint_t max)
{
    size_t            len;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    n = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            if (n < max) {
                values[n] = h[i].value;
            }

            n++;
        }
    }

    return n;
}


/*
 * Whether an Accept header lists the media type (an item of a comma
 * separated list, its parameters and q not weighed: "text/csv;q=0.9").
 */

#define NGX_HTTP_MOBISPOT_ACCEPT_MAX  8

ngx_uint_t
ngx_http_mobispot_accepts(ngx_http_request_t *r, const char *type)
{
    u_char      *p, *end, *item, *last;
    size_t       len;
    ngx_str_t    values[NGX_HTTP_MOBISPOT_ACCEPT_MAX];
    ngx_uint_t   i, n;

    len = ngx_strlen(type);
    n = ngx_http_mobispot_header_values(r, "Accept", values,
                                        NGX_HTTP_MOBISPOT_ACCEPT_MAX);

    for (i = 0; i < n && i < NGX_HTTP_MOBISPOT_ACCEPT_MAX; i++) {
        p = values[i].data;
        end = p + values[i].len;

        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
                p++;
            }

            item = p;

            while (p < end && *p != ',' && *p != ';') {
                p++;
            }

            for (last = p; last > item && (last[-1] == ' ' || last[-1] == '\t');
                 last--)
            {
                /* void */
            }

            if ((size_t) (last - item) == len
                && ngx_strncasecmp(item, (u_char *) type, len) == 0)
            {
                return 1;
            }

            while (p < end && *p != ',') {
                p++;
            }
        }
    }

    return 0;
}


/*
 * An answer: the status, len bytes of the media type type in the chain cl
 * (the caller's other headers pushed already), sent as nginx's own
 * handlers send theirs
 */

ngx_int_t
ngx_http_mobispot_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_chain_t *cl, off_t len)
{
    u_char       *semi;
    ngx_int_t     rc;
    ngx_chain_t  *last;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type = *type;

    /* the type without its parameters, as ngx_http_set_content_type() */
    semi = ngx_strlchr(type->data, type->data + type->len, ';');
    r->headers_out.content_type_len = semi ? (size_t) (semi - type->data)
                                           : type->len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    for (last = cl; last->next; last = last->next) { /* void */ }

    last->buf->last_buf = (r == r->main) ? 1 : 0;
    last->buf->last_in_chain = 1;

    return ngx_http_output_filter(r, cl);
}
