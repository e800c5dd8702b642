
/*
 * Copyright (C) Mobispot
 *
 * The answers of the JSON API: Redis calls on behalf of a route, the
 * worker's cached answers, JSON generation into the request pool, and one
 * error shape, {"error":{"code":"...","message":"..."}}, with the right
 * status.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_api.h"
#include "http/ngx_http_mobispot_metrics.h"


static void ngx_http_mobispot_api_gen_cleanup(void *data);
static void *ngx_http_mobispot_api_yajl_malloc(void *ctx, size_t size);
static void *ngx_http_mobispot_api_yajl_realloc(void *ctx, void *ptr,
    size_t size);
static void ngx_http_mobispot_api_yajl_free(void *ctx, void *ptr);
static void ngx_http_mobispot_api_print(void *ctx, const char *str,
    size_t len);
static ngx_int_t ngx_http_mobispot_api_answer(ngx_http_request_t *r,
    ngx_uint_t status, ngx_chain_t *cl, size_t len);
static ngx_int_t ngx_http_mobispot_api_output(ngx_http_request_t *r,
    ngx_uint_t status, ngx_chain_t *cl, size_t len);


/* the answer for a call that did not end with its replies */

#define NGX_HTTP_MOBISPOT_NOT_SERVING  "the data store is not serving for now ("

ngx_int_t
ngx_http_mobispot_api_redis_failed(ngx_http_request_t *r, ngx_int_t status)
{
    u_char                         *message;
    const char                     *word;
    ngx_http_mobispot_main_conf_t  *mcf;

    ngx_http_mobispot_metric_inc(ngx_http_mobispot_metrics_http.redis_failed[
        status == NGX_HTTP_MOBISPOT_REDIS_TIMEOUT
        ? NGX_HTTP_MOBISPOT_METRIC_TIMEOUT
        : status == NGX_HTTP_MOBISPOT_REDIS_NOT_SERVING
          ? NGX_HTTP_MOBISPOT_METRIC_NOT_SERVING
          : status == NGX_HTTP_MOBISPOT_REDIS_DENIED
            ? NGX_HTTP_MOBISPOT_METRIC_DENIED
            : NGX_HTTP_MOBISPOT_METRIC_LOST]);

    if (status == NGX_HTTP_MOBISPOT_REDIS_TIMEOUT) {
        return ngx_http_mobispot_api_error(r, NGX_HTTP_GATEWAY_TIME_OUT,
                                           "redis_timeout",
                                           "the data store did not answer "
                                           "in time");
    }

    if (status == NGX_HTTP_MOBISPOT_REDIS_DENIED) {
        return ngx_http_mobispot_api_error(r, NGX_HTTP_BAD_GATEWAY,
                                           "redis_denied",
                                           "the data store's access rules "
                                           "do not allow this here");
    }

    if (status == NGX_HTTP_MOBISPOT_REDIS_NOT_SERVING) {

        /* say why: LOADING, BUSY, MASTERDOWN or READONLY */

        mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);
        word = ngx_http_mobispot_redis_not_serving(mcf->client);

        message = ngx_pnalloc(r->pool,
                              sizeof(NGX_HTTP_MOBISPOT_NOT_SERVING) + 16);
        if (message == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *ngx_snprintf(message, sizeof(NGX_HTTP_MOBISPOT_NOT_SERVING) + 15,
                      NGX_HTTP_MOBISPOT_NOT_SERVING "%s)", word) = '\0';

        return ngx_http_mobispot_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "redis_unavailable",
                                           (char *) message);
    }

    return ngx_http_mobispot_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "redis_unavailable",
                                       "the connection to the data store "
                                       "was lost");
}


/*
 * The worker's cache of answers, for a route whose answer is determined by
 * the key (built by the route from its normalized parameters) and by the
 * Redis keys its commands name (their first argument).  NGX_DECLINED: not
 * served from the cache; the request goes on to Redis and, when the cache
 * is usable, its answer is stored when it is sent.  Otherwise the cached
 * answer was sent and this is what the route handler returns.
 */

ngx_int_t
ngx_http_mobispot_api_cached(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t *key)
{
    u_char                         *body, *p;
    size_t                          len;
    uint32_t                        hash;
    ngx_buf_t                      *b;
    ngx_chain_t                     out;
    ngx_http_mobispot_cache_req_t  *req;

    ctx->cache_status = NGX_HTTP_MOBISPOT_CACHE_BYPASS;

    if (ctx->mcf->cache == NULL) {
        return NGX_DECLINED;
    }

    /* the invalidations already here are applied first */

    ngx_http_mobispot_redis_sync(ctx->mcf->client);

    if (!ngx_http_mobispot_redis_tracking(ctx->mcf->client)) {
        return NGX_DECLINED;
    }

    hash = ngx_murmur_hash2(key->data, key->len);

    body = ngx_http_mobispot_cache_get(ctx->mcf->cache, key, hash, &len,
                                       NULL);

    if (body == NULL) {
        ctx->cache_status = NGX_HTTP_MOBISPOT_CACHE_MISS;

        req = ngx_palloc(r->pool, sizeof(ngx_http_mobispot_cache_req_t));

        if (req == NULL
            || ngx_http_mobispot_cache_begin(ctx->mcf->cache, req, r->pool)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        req->key = *key;
        req->hash = hash;
        ctx->cache = req;

        return NGX_DECLINED;
    }

    ctx->cache_status = NGX_HTTP_MOBISPOT_CACHE_HIT;

    /* the entry may go before the response is written: a copy is sent */

    p = ngx_pnalloc(r->pool, len);
    b = ngx_calloc_buf(r->pool);

    if (p == NULL || b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = p;
    b->last = ngx_cpymem(p, body, len);
    b->memory = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_mobispot_api_output(r, NGX_HTTP_OK, &out, len);
}


/* a JSON generator that lives, with its buffer, as long as the request */

yajl_gen
ngx_http_mobispot_api_gen(ngx_http_request_t *r)
{
    yajl_gen             g;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    g = mobispot_json_gen_alloc();
    if (g == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mobispot_api_gen_cleanup;
    cln->data = g;

    return g;
}


/*
 * The generator of an answer whose strings are all produced by the module
 * (constants, numbers, times) or were validated before they were stored:
 * identifiers checked against [a-z0-9_-], names and towns parsed by yajl
 * (which checks UTF-8) in the admin API before they were written to
 * Redis.  It does not check UTF-8 again (a pass over every string).
 * Anything that can echo client input as it came (error messages,
 * parameter names) keeps ngx_http_mobispot_api_gen(), which checks.
 *
 * It also costs no malloc(): yajl allocates from the request pool, and
 * prints straight into a chain of nginx buffers (ctx->out) that
 * ngx_http_mobispot_api_send() sends, instead of a buffer of its own that
 * grows by realloc().
 */

yajl_gen
ngx_http_mobispot_api_gen_trusted(ngx_http_request_t *r)
{
    yajl_gen                      g;
    yajl_alloc_funcs              afs;
    ngx_http_mobispot_api_ctx_t  *ctx;
    ngx_http_mobispot_api_out_t  *out;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    out = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_out_t));
    if (ctx == NULL || out == NULL) {
        return NULL;
    }

    out->pool = r->pool;
    out->last = &out->first;

    afs.malloc = ngx_http_mobispot_api_yajl_malloc;
    afs.realloc = ngx_http_mobispot_api_yajl_realloc;
    afs.free = ngx_http_mobispot_api_yajl_free;
    afs.ctx = r->pool;

    g = yajl_gen_alloc(&afs);
    if (g == NULL) {
        return NULL;
    }

    if (!yajl_gen_config(g, yajl_gen_print_callback,
                         ngx_http_mobispot_api_print, out))
    {
        return NULL;
    }

    ctx->out = out;

    return g;
}


/* yajl's allocations in the request pool: each with its size before it */

static void *
ngx_http_mobispot_api_yajl_malloc(void *ctx, size_t size)
{
    size_t  *p;

    p = ngx_palloc(ctx, sizeof(size_t) + size);
    if (p == NULL) {
        return NULL;
    }

    *p = size;

    return p + 1;
}


static void *
ngx_http_mobispot_api_yajl_realloc(void *ctx, void *ptr, size_t size)
{
    void  *p;

    p = ngx_http_mobispot_api_yajl_malloc(ctx, size);

    if (p != NULL && ptr != NULL) {
        ngx_memcpy(p, ptr, ngx_min(size, ((size_t *) ptr)[-1]));
    }

    return p;
}


static void
ngx_http_mobispot_api_yajl_free(void *ctx, void *ptr)
{
    /* the pool frees it with the request */
}


/* yajl's output, appended to a chain of buffers of the request pool */

static void
ngx_http_mobispot_api_print(void *ctx, const char *str, size_t len)
{
    ngx_http_mobispot_api_out_t *out = ctx;

    size_t        n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    out->len += len;
    b = out->buf;

    /* the usual case: a few bytes, and room for them */

    if (b != NULL && len <= (size_t) (b->end - b->last)) {
        if (len == 1) {
            *b->last++ = (u_char) *str;

        } else {
            b->last = ngx_cpymem(b->last, str, len);
        }

        return;
    }

    while (len) {
        b = out->buf;

        if (b == NULL || b->last == b->end) {
            b = ngx_create_temp_buf(out->pool,
                                    ngx_max(len, NGX_HTTP_MOBISPOT_OUT_SIZE));
            cl = ngx_alloc_chain_link(out->pool);

            if (b == NULL || cl == NULL) {
                out->failed = 1;
                return;
            }

            cl->buf = b;
            cl->next = NULL;
            *out->last = cl;
            out->last = &cl->next;
            out->buf = b;
        }

        n = ngx_min(len, (size_t) (b->end - b->last));

        if (n == 1) {
            *b->last++ = (u_char) *str;

        } else {
            b->last = ngx_cpymem(b->last, str, n);
        }

        str += n;
        len -= n;
    }
}


static void
ngx_http_mobispot_api_gen_cleanup(void *data)
{
    yajl_gen_free(data);
}


ngx_int_t
ngx_http_mobispot_api_send(ngx_http_request_t *r, ngx_uint_t status,
    yajl_gen g)
{
    size_t                         len;
    const unsigned char           *buf;
    ngx_http_mobispot_api_ctx_t   *ctx;

    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
        /* the generator's buffer lives until the request pool goes */
        return ngx_http_mobispot_api_send_raw(r, status, (u_char *) buf, len);
    }

    /* a generator of ngx_http_mobispot_api_gen_trusted() */

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx == NULL || ctx->out == NULL || ctx->out->failed
        || ctx->out->first == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_answer(r, status, ctx->out->first,
                                        ctx->out->len);
}


/* an answer already in JSON; data must live as long as the request */

ngx_int_t
ngx_http_mobispot_api_send_raw(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (b == NULL || cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;

    cl->buf = b;
    cl->next = NULL;

    return ngx_http_mobispot_api_answer(r, status, cl, len);
}


/* the answer is stored first when the request missed the cache */

static ngx_int_t
ngx_http_mobispot_api_answer(ngx_http_request_t *r, ngx_uint_t status,
    ngx_chain_t *cl, size_t len)
{
    ngx_str_t                    *key;
    ngx_uint_t                    i;
    ngx_http_mobispot_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx != NULL && ctx->written != NULL) {
        key = ctx->written->elts;

        for (i = 0; i < ctx->written->nelts; i++) {
            ngx_http_mobispot_cache_invalidate(ctx->mcf->cache, key[i].data,
                                               key[i].len);
        }

        ctx->written = NULL;
    }

    if (ctx != NULL && ctx->cache != NULL) {
        /* refused if tracking was lost meanwhile (the epoch moved) */

        if (status == NGX_HTTP_OK) {
            ngx_http_mobispot_cache_put(ctx->mcf->cache, ctx->cache, cl, len);
        }

        ctx->cache = NULL;
    }

    return ngx_http_mobispot_api_output(r, status, cl, len);
}


/* the headers of every answer, then the body (len bytes in cl) */

static ngx_int_t
ngx_http_mobispot_api_output(ngx_http_request_t *r, ngx_uint_t status,
    ngx_chain_t *cl, size_t len)
{
    u_char                        *p;
    ngx_str_t                     *type;
    ngx_http_mobispot_api_ctx_t   *ctx;
    ngx_http_mobispot_loc_conf_t  *lcf;

    static ngx_str_t  json = ngx_string("application/json");

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    type = (ctx != NULL && ctx->content_type.len && status == NGX_HTTP_OK)
           ? &ctx->content_type : &json;

    if (ngx_http_mobispot_api_header(r, "Cache-Control",
                                     sizeof("Cache-Control") - 1,
                                     (u_char *) "no-store",
                                     sizeof("no-store") - 1)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the data store is down, overloaded or late: the app may try again */

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE
        || status == NGX_HTTP_GATEWAY_TIME_OUT)
    {
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_module);

        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_mobispot_api_header(r, "Retry-After",
                                         sizeof("Retry-After") - 1, p,
                                         ngx_sprintf(p, "%T",
                                                     lcf->api_retry_after)
                                         - p)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_mobispot_send(r, status, type, cl, len);
}


ngx_int_t
ngx_http_mobispot_api_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    yajl_gen  g;

    ngx_http_mobispot_api_set_error(r, code);

    g = ngx_http_mobispot_api_gen(r);

    if (g == NULL || mobispot_json_error(g, code, message) != MOBISPOT_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, status, g);
}


ngx_int_t
ngx_http_mobispot_api_header(ngx_http_request_t *r, const char *name,
    size_t name_len, u_char *value, size_t value_len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = name_len;
    h->value.data = value;
    h->value.len = value_len;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}
