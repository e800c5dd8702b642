
/*
 * Copyright (C) Mobispot
 *
 * The request body of the API's routes that read one.  A request body
 * filter collects the body, as nginx decodes it (Content-Length or
 * chunked), into one buffer of the request pool no larger than
 * mobispot_api_max_body, and hands nginx nothing to store: a body never
 * reaches a temporary file, and the bytes past the limit are dropped as
 * they arrive.  The route then sees its body in one buffer, or the client
 * gets a JSON 413.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_api.h"


typedef struct {
    ngx_buf_t                         *buf;
    ngx_uint_t                         too_large;
} ngx_http_mobispot_body_t;


static void ngx_http_mobispot_body_done(ngx_http_request_t *r);
static ngx_int_t ngx_http_mobispot_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_mobispot_body_too_large(ngx_http_request_t *r);


static ngx_http_request_body_filter_pt   ngx_http_next_request_body_filter;


ngx_int_t
ngx_http_mobispot_body_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_mobispot_body_filter;

    return NGX_OK;
}


/*
 * Reads the body of a route that takes one; returns what a content
 * handler returns.  A declared length over the limit is refused before a
 * byte of the body is read.
 */

ngx_int_t
ngx_http_mobispot_api_read_body(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    size_t                     size;
    ngx_int_t                  rc;
    ngx_http_mobispot_body_t  *body;

    if (r->headers_in.content_length_n > (off_t) ctx->lcf->api_max_body) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mobispot_body_too_large(r);
    }

    body = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_body_t));
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a known length needs no more; a chunked body may take the limit */

    size = r->headers_in.content_length_n >= 0
           ? (size_t) r->headers_in.content_length_n
           : ctx->lcf->api_max_body;

    body->buf = ngx_create_temp_buf(r->pool, size ? size : 1);
    if (body->buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->body_state = body;

    rc = ngx_http_read_client_request_body(r, ngx_http_mobispot_body_done);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            /* over client_max_body_size, found by nginx's chunked parser */
            return ngx_http_mobispot_body_too_large(r);
        }

        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_mobispot_body_done(ngx_http_request_t *r)
{
    ngx_chain_t                  *cl;
    ngx_http_mobispot_body_t     *body;
    ngx_http_mobispot_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);
    body = ctx->body_state;

    if (body->too_large) {
        ngx_http_finalize_request(r, ngx_http_mobispot_body_too_large(r));
        return;
    }

    ctx->body.data = body->buf->pos;
    ctx->body.len = body->buf->last - body->buf->pos;

    /* the same body where nginx keeps one, for the routes that look there */

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    body->buf->last_buf = 1;
    cl->buf = body->buf;
    cl->next = NULL;
    r->request_body->bufs = cl;

    ngx_http_finalize_request(r, ctx->route->handler(r, ctx));
}


static ngx_int_t
ngx_http_mobispot_body_too_large(ngx_http_request_t *r)
{
    return ngx_http_mobispot_api_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "body_too_large",
                                       "request body is too large");
}


/*
 * Every decoded part of the body is copied while it fits, then marked
 * read so that nginx reuses its buffer; only the end of the body (an empty
 * last buffer) goes on to nginx's own filters, which store nothing.
 */

static ngx_int_t
ngx_http_mobispot_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                        n;
    ngx_buf_t                    *b, *dst;
    ngx_chain_t                  *cl, *last;
    ngx_http_mobispot_body_t     *body;
    ngx_http_mobispot_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx == NULL || ctx->body_state == NULL) {
        return ngx_http_next_request_body_filter(r, in);
    }

    body = ctx->body_state;
    dst = body->buf;
    last = NULL;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        n = b->last - b->pos;

        if (n > (size_t) (dst->end - dst->last)) {
            body->too_large = 1;
        }

        if (!body->too_large) {
            dst->last = ngx_cpymem(dst->last, b->pos, n);
        }

        b->pos = b->last;

        if (b->last_buf) {
            last = cl;
        }
    }

    if (last == NULL) {
        return NGX_OK;
    }

    last->next = NULL;

    return ngx_http_next_request_body_filter(r, last);
}
