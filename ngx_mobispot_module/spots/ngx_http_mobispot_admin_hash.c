
/*
 * Copyright (C) Mobispot
 *
 * Hashing what the admin API takes as a secret, an account's password and
 * a confidential client's secret, before its write: yescrypt
 * (core/mobispot_secret.c) in the location's thread pool, through the
 * runner (http/ngx_http_mobispot_thread.c), never on the event loop.
 *
 * The secret is copied into the task's own memory, which is wiped when
 * the task ends, whether its request is still there or not.  Nothing here
 * logs the secret nor its hash.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_secret.h"
#include "http/ngx_http_mobispot_thread.h"
#include "spots/ngx_http_mobispot_admin.h"


typedef struct {
    /* the work's: the secret in, the hash out */
    u_char                           secret[MOBISPOT_PASSWORD_MAX + 1];
    size_t                           len;
    char                             hash[MOBISPOT_SECRET_HASH_SIZE];
    ngx_int_t                        rc;

    /* the event loop's: where the hash goes, and what comes next */
    ngx_http_mobispot_api_ctx_t     *ctx;
    ngx_str_t                       *out;
    ngx_http_mobispot_admin_next_pt  next;
} ngx_http_mobispot_hash_t;


static void ngx_http_mobispot_hash_work(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_mobispot_hash_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_mobispot_hash_wipe(void *data);


/*
 * Hashes secret (at most MOBISPOT_PASSWORD_MAX bytes, checked by the
 * body's check) into *out, in r->pool, then returns next(r, ctx): NGX_DONE
 * at once, next running when the hash is made; or the answer of a task
 * that could not be posted.
 */

ngx_int_t
ngx_http_mobispot_admin_hash(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t *secret, ngx_str_t *out,
    ngx_http_mobispot_admin_next_pt next)
{
    ngx_http_mobispot_hash_t    *h;
    ngx_http_mobispot_thread_t  *t;

    if (secret->len > MOBISPOT_PASSWORD_MAX) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t = ngx_http_mobispot_thread_create(r, sizeof(ngx_http_mobispot_hash_t),
                                        ngx_http_mobispot_hash_wipe);
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = t->data;

    ngx_memcpy(h->secret, secret->data, secret->len);
    h->secret[secret->len] = '\0';
    h->len = secret->len;
    h->rc = NGX_ERROR;
    h->ctx = ctx;
    h->out = out;
    h->next = next;

    return ngx_http_mobispot_thread_post(r, t, ngx_http_mobispot_hash_work,
                                         ngx_http_mobispot_hash_done);
}


/* in a thread of the pool */

static void
ngx_http_mobispot_hash_work(void *data, ngx_log_t *log)
{
    ngx_http_mobispot_hash_t  *h = data;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, log, 0,
                   "mobispot: hashing a secret in a thread");

    if (mobispot_secret_hash((char *) h->secret, h->len, h->hash,
                             sizeof(h->hash))
        == MOBISPOT_OK)
    {
        h->rc = NGX_OK;
    }

    ngx_explicit_memzero(h->secret, sizeof(h->secret));
}


/* back on the event loop, the request still there */

static ngx_int_t
ngx_http_mobispot_hash_done(ngx_http_request_t *r, void *data)
{
    ngx_http_mobispot_hash_t  *h = data;

    size_t  len;

    if (h->rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: a secret could not be hashed "
                      "(libcrypt: no salt, or no memory)");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(h->hash);

    h->out->data = ngx_pnalloc(r->pool, len + 1);
    if (h->out->data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(h->out->data, h->hash, len + 1);
    h->out->len = len;

    return h->next(r, h->ctx);
}


/* the task's memory is freed: no copy of the secret is left in it */

static void
ngx_http_mobispot_hash_wipe(void *data)
{
    ngx_http_mobispot_hash_t  *h = data;

    ngx_explicit_memzero(h->secret, sizeof(h->secret));
}
