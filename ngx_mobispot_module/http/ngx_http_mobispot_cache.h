
/*
 * Copyright (C) Mobispot
 *
 * The worker's cache of API answers, kept true by Redis: an answer is
 * stored with the Redis keys it was computed from, and is served again
 * only while none of them has changed since it was read (Redis says so,
 * see ngx_http_mobispot_redis_track()).
 */


#ifndef _NGX_HTTP_MOBISPOT_CACHE_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* $mobispot_cache_status */
#define NGX_HTTP_MOBISPOT_CACHE_NONE    0   /* not a cacheable route */
#define NGX_HTTP_MOBISPOT_CACHE_BYPASS  1   /* cacheable, cache not usable */
#define NGX_HTTP_MOBISPOT_CACHE_MISS    2
#define NGX_HTTP_MOBISPOT_CACHE_HIT     3


#include "http/ngx_http_mobispot_module.h"


/* a key an answer was computed from: its counter, as it was when read */
typedef struct {
    uint32_t                    slot;
    uint32_t                    gen;
} ngx_http_mobispot_cache_dep_t;


/* what a request that missed will store, once it has its answer */
typedef struct {
    ngx_str_t                   key;
    uint32_t                    hash;
    ngx_uint_t                  epoch;
    ngx_array_t                 deps;      /* ngx_http_mobispot_cache_dep_t */
} ngx_http_mobispot_cache_req_t;


ngx_http_mobispot_cache_t *ngx_http_mobispot_cache_create(ngx_log_t *log,
    ngx_uint_t entries, ngx_msec_t valid);
void ngx_http_mobispot_cache_destroy(ngx_http_mobispot_cache_t *cache);

void ngx_http_mobispot_cache_invalidate(void *data, u_char *key,
    size_t len);

u_char *ngx_http_mobispot_cache_get(ngx_http_mobispot_cache_t *cache,
    ngx_str_t *key, uint32_t hash, size_t *len,
    ngx_http_mobispot_cache_req_t *req);
ngx_int_t ngx_http_mobispot_cache_begin(ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req, ngx_pool_t *pool);
ngx_int_t ngx_http_mobispot_cache_dep(ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req, const char *key, size_t len);
void ngx_http_mobispot_cache_put(ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req, ngx_chain_t *body, size_t len);

void ngx_http_mobispot_cache_counter(ngx_http_mobispot_cache_t *cache,
    const char *key, size_t len, ngx_http_mobispot_cache_dep_t *dep);
ngx_uint_t ngx_http_mobispot_cache_epoch(ngx_http_mobispot_cache_t *cache);
void ngx_http_mobispot_cache_put_part(ngx_http_mobispot_cache_t *cache,
    ngx_str_t *key, ngx_uint_t epoch, ngx_http_mobispot_cache_dep_t *deps,
    ngx_uint_t ndeps, void *data, size_t len);


#endif /* _NGX_HTTP_MOBISPOT_CACHE_H_INCLUDED_ */
