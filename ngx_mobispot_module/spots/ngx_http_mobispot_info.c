
/*
 * Copyright (C) Mobispot
 *
 * The worker's cache of decoded site info hashes (ms:{site:<id>}:info),
 * used by GET spots/nearby so that a candidate whose info is known costs
 * no HMGET of its info and no decoding.  An entry is valid for one value
 * of the catalogue version (ms:version), which every admin write bumps
 * after its EXEC and which nearby reads in its first round trip: an entry
 * read under another version is not used, so an admin change is seen by
 * the next request.
 *
 * The cache is created in init_process in the worker's memory (ngx_alloc)
 * and freed in exit_process; it holds no pointer into a request pool, and
 * what it hands out is copied into the request's pool.  It is bounded:
 * NGX_HTTP_MOBISPOT_INFO_CACHE_SIZE entries, in sets of two picked by a
 * hash of the site id; a site new to its set takes an empty entry, or one
 * of an older version, or else the one used less recently (two sites of
 * the same answer never evict each other).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_spots.h"
#include "http/ngx_http_mobispot_sets.h"


#define NGX_HTTP_MOBISPOT_INFO_CACHE_SIZE  1024
#define NGX_HTTP_MOBISPOT_ID_MAX           64


typedef struct {
    u_char                      id[NGX_HTTP_MOBISPOT_ID_MAX];
    size_t                      id_len;     /* 0: empty */
    int64_t                     version;
    ngx_http_mobispot_info_t    info;       /* strings point into text */
    u_char                     *text;       /* ngx_alloc() */
} ngx_http_mobispot_info_entry_t;


struct ngx_http_mobispot_info_cache_s {
    int64_t                         version;    /* the highest seen */
    ngx_log_t                      *log;
    ngx_http_mobispot_sets_t        sets;
    ngx_http_mobispot_info_entry_t  entries[NGX_HTTP_MOBISPOT_INFO_CACHE_SIZE];
};


static ngx_http_mobispot_info_entry_t *ngx_http_mobispot_info_entry(
    ngx_http_mobispot_info_cache_t *cache, ngx_str_t *id, ngx_uint_t put);
static ngx_uint_t ngx_http_mobispot_info_free_way(void *data, ngx_uint_t i);
static void ngx_http_mobispot_info_clear(ngx_http_mobispot_info_entry_t *e);
static size_t ngx_http_mobispot_info_text_len(ngx_http_mobispot_info_t *info);
static void ngx_http_mobispot_info_copy(ngx_http_mobispot_info_t *dst,
    ngx_http_mobispot_info_t *src, u_char *text);
static u_char *ngx_http_mobispot_info_str(ngx_str_t *dst, ngx_str_t *src,
    u_char *p);


ngx_http_mobispot_info_cache_t *
ngx_http_mobispot_info_cache_create(ngx_log_t *log)
{
    ngx_http_mobispot_info_cache_t  *cache;

    cache = ngx_calloc(sizeof(ngx_http_mobispot_info_cache_t), log);
    if (cache == NULL) {
        return NULL;
    }

    if (ngx_http_mobispot_sets_init(&cache->sets,
                                    NGX_HTTP_MOBISPOT_INFO_CACHE_SIZE, log)
        != NGX_OK)
    {
        ngx_free(cache);
        return NULL;
    }

    cache->version = -1;
    cache->log = log;

    return cache;
}


void
ngx_http_mobispot_info_cache_destroy(ngx_http_mobispot_info_cache_t *cache)
{
    ngx_uint_t  i;

    if (cache == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_MOBISPOT_INFO_CACHE_SIZE; i++) {
        ngx_http_mobispot_info_clear(&cache->entries[i]);
    }

    ngx_http_mobispot_sets_free(&cache->sets);
    ngx_free(cache);
}


/*
 * The version a request read.  The version only grows; one lower than
 * seen before means the data set was replaced (FLUSHALL and a reload):
 * every entry goes, so that a version number reached again cannot
 * revive an entry of the old data.
 */

void
ngx_http_mobispot_info_cache_version(ngx_http_mobispot_info_cache_t *cache,
    int64_t version)
{
    ngx_uint_t  i;

    if (cache == NULL || version < 0) {
        return;
    }

    if (version < cache->version) {
        ngx_log_error(NGX_LOG_NOTICE, cache->log, 0,
                      "mobispot: catalogue version went back from %L to %L, "
                      "site info cache emptied", cache->version, version);

        for (i = 0; i < NGX_HTTP_MOBISPOT_INFO_CACHE_SIZE; i++) {
            ngx_http_mobispot_info_clear(&cache->entries[i]);
        }
    }

    cache->version = version;
}


/*
 * NGX_OK: the info of the site under this version, copied into the pool;
 * NGX_DECLINED: not cached (or under another version); NGX_ERROR: no memory
 */

ngx_int_t
ngx_http_mobispot_info_cache_get(ngx_http_mobispot_info_cache_t *cache,
    ngx_str_t *id, int64_t version, ngx_pool_t *pool,
    ngx_http_mobispot_info_t *info)
{
    u_char                          *text;
    ngx_http_mobispot_info_entry_t  *e;

    if (cache == NULL || version < 0) {
        return NGX_DECLINED;
    }

    e = ngx_http_mobispot_info_entry(cache, id, 0);

    if (e == NULL || e->version != version) {
        return NGX_DECLINED;
    }

    text = ngx_pnalloc(pool, ngx_http_mobispot_info_text_len(&e->info));
    if (text == NULL) {
        return NGX_ERROR;
    }

    ngx_http_mobispot_info_copy(info, &e->info, text);

    return NGX_OK;
}


/* keeps a copy of the info of a site, read under this version */

void
ngx_http_mobispot_info_cache_put(ngx_http_mobispot_info_cache_t *cache,
    ngx_str_t *id, int64_t version, ngx_http_mobispot_info_t *info)
{
    u_char                          *text;
    ngx_http_mobispot_info_entry_t  *e;

    if (cache == NULL || version < 0 || version != cache->version
        || id->len > NGX_HTTP_MOBISPOT_ID_MAX)
    {
        /* a request that read an older version than another one did */
        return;
    }

    text = ngx_alloc(ngx_http_mobispot_info_text_len(info), cache->log);
    if (text == NULL) {
        return;
    }

    e = ngx_http_mobispot_info_entry(cache, id, 1);

    ngx_http_mobispot_info_clear(e);

    ngx_memcpy(e->id, id->data, id->len);
    e->id_len = id->len;
    e->version = version;
    e->text = text;

    ngx_http_mobispot_info_copy(&e->info, info, text);
}


/*
 * The entry of the site in its set, which becomes the one used most
 * recently; not there: NULL, or with put, the entry to replace.
 */

static ngx_http_mobispot_info_entry_t *
ngx_http_mobispot_info_entry(ngx_http_mobispot_info_cache_t *cache,
    ngx_str_t *id, ngx_uint_t put)
{
    ngx_uint_t                       i, first;
    ngx_http_mobispot_info_entry_t  *e;

    first = ngx_http_mobispot_sets_first(&cache->sets,
                                         ngx_hash_key(id->data, id->len));

    for (i = first; i < first + cache->sets.ways; i++) {
        e = &cache->entries[i];

        if (e->id_len == id->len && ngx_memcmp(e->id, id->data, id->len) == 0)
        {
            goto found;
        }
    }

    if (!put) {
        return NULL;
    }

    i = ngx_http_mobispot_sets_victim(&cache->sets, first,
                                      ngx_http_mobispot_info_free_way, cache);

found:

    ngx_http_mobispot_sets_used(&cache->sets, i);

    return &cache->entries[i];
}


/* empty, or of an older version of the catalogue */

static ngx_uint_t
ngx_http_mobispot_info_free_way(void *data, ngx_uint_t i)
{
    ngx_http_mobispot_info_cache_t *cache = data;

    return cache->entries[i].id_len == 0
           || cache->entries[i].version != cache->version;
}


static void
ngx_http_mobispot_info_clear(ngx_http_mobispot_info_entry_t *e)
{
    if (e->text != NULL) {
        ngx_free(e->text);
        e->text = NULL;
    }

    e->id_len = 0;
    e->version = -1;
}


static size_t
ngx_http_mobispot_info_text_len(ngx_http_mobispot_info_t *info)
{
    /* at least one byte: ngx_alloc(0) may return NULL */

    return info->name.len + info->town.len + info->closed.len
           + info->networks.len + 1;
}


/* the decoded fields as they are, the strings into text */

static void
ngx_http_mobispot_info_copy(ngx_http_mobispot_info_t *dst,
    ngx_http_mobispot_info_t *src, u_char *text)
{
    u_char  *p;

    *dst = *src;

    p = text;
    p = ngx_http_mobispot_info_str(&dst->name, &src->name, p);
    p = ngx_http_mobispot_info_str(&dst->town, &src->town, p);
    p = ngx_http_mobispot_info_str(&dst->closed, &src->closed, p);
    (void) ngx_http_mobispot_info_str(&dst->networks, &src->networks, p);
}


static u_char *
ngx_http_mobispot_info_str(ngx_str_t *dst, ngx_str_t *src, u_char *p)
{
    dst->len = src->len;
    dst->data = p;

    if (src->len == 0) {
        return p;
    }

    return ngx_cpymem(p, src->data, src->len);
}
