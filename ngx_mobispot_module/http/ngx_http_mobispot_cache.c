
/*
 * Copyright (C) Mobispot
 *
 * The worker's cache of API answers.
 *
 * Which answers stay true: every Redis key is mapped by a hash to one of
 * NGX_HTTP_MOBISPOT_CACHE_SLOTS counters, and a counter goes up each time
 * Redis says that a key of its slot changed (or the cache is told that
 * anything may have).  An answer is stored with the counters of the keys
 * it was computed from as they were when the commands were sent; it is
 * served only while each counter is unchanged.  Two keys that share a
 * counter only cost an early miss, never a stale answer.  A counter that
 * moves between the send and the reply leaves the stored answer stale at
 * once: the reply may predate the change.
 *
 * Anything that may have been missed (a connection lost, FLUSHALL) moves
 * the epoch, which every entry carries, and frees every entry.  The Redis
 * client says so whenever it stops tracking, so an answer whose request
 * began under the current epoch (when tracking was on) is stored only if
 * the epoch has not moved since: that is the one test at store time.
 *
 * An entry is an answer, or a part of answers (nearby: a site's free
 * capacity over a window, ngx_http_mobispot_cache_put_part()); an answer
 * made with a part takes the part's counters among its own.
 *
 * Entries: a table of sets of two (a hash of the cache key picks the set;
 * the newcomer replaces the one of the set used less recently, so that two
 * entries used all the time, such as the parts of two sites of every
 * nearby, do not evict each other), each one allocation of
 * the worker's memory (ngx_alloc), bounded in number and size, and a time
 * limit (valid) after which an entry is not used even if nothing said it
 * changed.  Created in init_process, freed in exit_process; it holds no
 * pointer into a request pool, and an answer is copied into the request's
 * pool before it is sent.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_cache.h"
#include "http/ngx_http_mobispot_metrics.h"
#include "http/ngx_http_mobispot_sets.h"


#define NGX_HTTP_MOBISPOT_CACHE_SLOTS     16384
#define NGX_HTTP_MOBISPOT_CACHE_BODY_MAX  (32 * 1024)


typedef struct {
    uint32_t                            hash;
    ngx_uint_t                          epoch;
    ngx_msec_t                          expires;
    size_t                              key_len;
    size_t                              body_len;
    ngx_uint_t                          ndeps;

    /* followed by: deps[ndeps], the key, the body */
} ngx_http_mobispot_cache_entry_t;


struct ngx_http_mobispot_cache_s {
    ngx_log_t                          *log;
    ngx_uint_t                          epoch;
    ngx_msec_t                          valid;
    ngx_http_mobispot_sets_t            sets;
    ngx_http_mobispot_cache_entry_t   **entries;
    uint32_t                            gens[NGX_HTTP_MOBISPOT_CACHE_SLOTS];
};


#define ngx_http_mobispot_cache_deps(e)                                       \
    ((ngx_http_mobispot_cache_dep_t *) ((e) + 1))
#define ngx_http_mobispot_cache_key(e)                                        \
    ((u_char *) (ngx_http_mobispot_cache_deps(e) + (e)->ndeps))


static void ngx_http_mobispot_cache_flush(ngx_http_mobispot_cache_t *cache);
static ngx_uint_t ngx_http_mobispot_cache_free_way(void *data, ngx_uint_t i);
static ngx_http_mobispot_cache_entry_t **ngx_http_mobispot_cache_find(
    ngx_http_mobispot_cache_t *cache, ngx_str_t *key, uint32_t hash);
static ngx_int_t ngx_http_mobispot_cache_dep_add(
    ngx_http_mobispot_cache_req_t *req, ngx_http_mobispot_cache_dep_t *d);
static u_char *ngx_http_mobispot_cache_add(ngx_http_mobispot_cache_t *cache,
    ngx_str_t *key, uint32_t hash, ngx_uint_t epoch,
    ngx_http_mobispot_cache_dep_t *deps, ngx_uint_t ndeps, size_t len);


/* entries: a power of two */

ngx_http_mobispot_cache_t *
ngx_http_mobispot_cache_create(ngx_log_t *log, ngx_uint_t entries,
    ngx_msec_t valid)
{
    ngx_http_mobispot_cache_t  *cache;

    cache = ngx_calloc(sizeof(ngx_http_mobispot_cache_t), log);
    if (cache == NULL) {
        return NULL;
    }

    cache->entries = ngx_calloc(entries
                                * sizeof(ngx_http_mobispot_cache_entry_t *),
                                log);

    if (cache->entries == NULL
        || ngx_http_mobispot_sets_init(&cache->sets, entries, log) != NGX_OK)
    {
        ngx_free(cache->entries);
        ngx_free(cache);
        return NULL;
    }

    cache->log = log;
    cache->epoch = 1;
    cache->valid = valid;

    return cache;
}


void
ngx_http_mobispot_cache_destroy(ngx_http_mobispot_cache_t *cache)
{
    if (cache == NULL) {
        return;
    }

    ngx_http_mobispot_cache_flush(cache);

    ngx_free(cache->entries);
    ngx_http_mobispot_sets_free(&cache->sets);
    ngx_free(cache);
}


/* the Redis client's invalidation handler: a key changed, or (NULL) all */

void
ngx_http_mobispot_cache_invalidate(void *data, u_char *key, size_t len)
{
    ngx_http_mobispot_cache_t *cache = data;

    ngx_http_mobispot_metric_inc(
        ngx_http_mobispot_metrics_http.cache_invalidations);

    if (key == NULL) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, cache->log, 0,
                       "mobispot cache: everything invalidated");

        cache->epoch++;
        ngx_http_mobispot_cache_flush(cache);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, cache->log, 0,
                   "mobispot cache: invalidated \"%*s\"", len, key);

    cache->gens[ngx_murmur_hash2(key, len)
                & (NGX_HTTP_MOBISPOT_CACHE_SLOTS - 1)]++;
}


static void
ngx_http_mobispot_cache_flush(ngx_http_mobispot_cache_t *cache)
{
    ngx_uint_t  i;

    for (i = 0; i < cache->sets.nsets * cache->sets.ways; i++) {
        if (cache->entries[i] != NULL) {
            ngx_free(cache->entries[i]);
            cache->entries[i] = NULL;
        }
    }
}


/* the slot that holds the entry of this key, or NULL */

static ngx_http_mobispot_cache_entry_t **
ngx_http_mobispot_cache_find(ngx_http_mobispot_cache_t *cache, ngx_str_t *key,
    uint32_t hash)
{
    ngx_uint_t                        i, first;
    ngx_http_mobispot_cache_entry_t  *e;

    first = ngx_http_mobispot_sets_first(&cache->sets, hash);

    for (i = first; i < first + cache->sets.ways; i++) {
        e = cache->entries[i];

        if (e != NULL && e->hash == hash && e->key_len == key->len
            && ngx_memcmp(ngx_http_mobispot_cache_key(e), key->data, key->len)
               == 0)
        {
            return &cache->entries[i];
        }
    }

    return NULL;
}


/*
 * The stored answer of this key while it is true, or NULL.  With req, the
 * keys the answer was computed from become the request's too (an answer
 * made of this one is true as long as this one is).
 */

u_char *
ngx_http_mobispot_cache_get(ngx_http_mobispot_cache_t *cache, ngx_str_t *key,
    uint32_t hash, size_t *len, ngx_http_mobispot_cache_req_t *req)
{
    ngx_uint_t                        i;
    ngx_http_mobispot_cache_dep_t    *deps;
    ngx_http_mobispot_cache_entry_t  *e, **slot;

    slot = ngx_http_mobispot_cache_find(cache, key, hash);
    if (slot == NULL) {
        return NULL;
    }

    e = *slot;

    if (e->epoch != cache->epoch
        || (ngx_msec_int_t) (e->expires - ngx_current_msec) <= 0)
    {
        goto stale;
    }

    deps = ngx_http_mobispot_cache_deps(e);

    for (i = 0; i < e->ndeps; i++) {
        if (cache->gens[deps[i].slot] != deps[i].gen) {
            goto stale;
        }
    }

    for (i = 0; req != NULL && i < e->ndeps; i++) {
        if (ngx_http_mobispot_cache_dep_add(req, &deps[i]) != NGX_OK) {
            return NULL;
        }
    }

    ngx_http_mobispot_sets_used(&cache->sets, slot - cache->entries);

    *len = e->body_len;

    return ngx_http_mobispot_cache_key(e) + e->key_len;

stale:

    ngx_free(e);
    *slot = NULL;

    return NULL;
}


/* a request that missed: what it reads from now on is recorded */

ngx_int_t
ngx_http_mobispot_cache_begin(ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req, ngx_pool_t *pool)
{
    req->epoch = cache->epoch;

    return ngx_array_init(&req->deps, pool, 8,
                          sizeof(ngx_http_mobispot_cache_dep_t));
}


/* a key the answer is computed from, recorded when its command is sent */

ngx_int_t
ngx_http_mobispot_cache_dep(ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req, const char *key, size_t len)
{
    ngx_http_mobispot_cache_dep_t  d;

    ngx_http_mobispot_cache_counter(cache, key, len, &d);

    return ngx_http_mobispot_cache_dep_add(req, &d);
}


static ngx_int_t
ngx_http_mobispot_cache_dep_add(ngx_http_mobispot_cache_req_t *req,
    ngx_http_mobispot_cache_dep_t *d)
{
    ngx_uint_t                      i;
    ngx_http_mobispot_cache_dep_t  *dep;

    dep = req->deps.elts;

    for (i = 0; i < req->deps.nelts; i++) {
        if (dep[i].slot == d->slot) {
            /* the first value read is the one the answer may predate */
            return NGX_OK;
        }
    }

    dep = ngx_array_push(&req->deps);
    if (dep == NULL) {
        return NGX_ERROR;
    }

    *dep = *d;

    return NGX_OK;
}


/* the counter of a key, as it is now */

void
ngx_http_mobispot_cache_counter(ngx_http_mobispot_cache_t *cache,
    const char *key, size_t len, ngx_http_mobispot_cache_dep_t *dep)
{
    dep->slot = ngx_murmur_hash2((u_char *) key, len)
                & (NGX_HTTP_MOBISPOT_CACHE_SLOTS - 1);
    dep->gen = cache->gens[dep->slot];
}


ngx_uint_t
ngx_http_mobispot_cache_epoch(ngx_http_mobispot_cache_t *cache)
{
    return cache->epoch;
}


/*
 * Stores the answer (len bytes in the chain), unless something was
 * missed since the request began.
 */

void
ngx_http_mobispot_cache_put(ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req, ngx_chain_t *body, size_t len)
{
    u_char  *p;

    p = ngx_http_mobispot_cache_add(cache, &req->key, req->hash, req->epoch,
                                    req->deps.elts, req->deps.nelts, len);

    for ( /* void */ ; p != NULL && body; body = body->next) {
        p = ngx_cpymem(p, body->buf->pos, body->buf->last - body->buf->pos);
    }
}


/*
 * A part of an answer (what an answer is made of, kept for other answers
 * made of it too), with the counters of the keys it was computed from.
 */

void
ngx_http_mobispot_cache_put_part(ngx_http_mobispot_cache_t *cache,
    ngx_str_t *key, ngx_uint_t epoch, ngx_http_mobispot_cache_dep_t *deps,
    ngx_uint_t ndeps, void *data, size_t len)
{
    u_char  *p;

    p = ngx_http_mobispot_cache_add(cache, key,
                                    ngx_murmur_hash2(key->data, key->len),
                                    epoch, deps, ndeps, len);

    if (p != NULL) {
        ngx_memcpy(p, data, len);
    }
}


/*
 * A new entry in its slot, but for its body (len bytes at the pointer
 * returned), unless something was missed since the epoch given.
 */

static u_char *
ngx_http_mobispot_cache_add(ngx_http_mobispot_cache_t *cache, ngx_str_t *key,
    uint32_t hash, ngx_uint_t epoch, ngx_http_mobispot_cache_dep_t *deps,
    ngx_uint_t ndeps, size_t len)
{
    u_char                           *p;
    size_t                            size;
    ngx_http_mobispot_cache_entry_t  *e, **slot;

    if (epoch != cache->epoch || len > NGX_HTTP_MOBISPOT_CACHE_BODY_MAX) {
        return NULL;
    }

    size = sizeof(ngx_http_mobispot_cache_entry_t)
           + ndeps * sizeof(ngx_http_mobispot_cache_dep_t) + key->len + len;

    e = ngx_alloc(size, cache->log);
    if (e == NULL) {
        return NULL;
    }

    e->hash = hash;
    e->epoch = epoch;
    e->expires = ngx_current_msec + cache->valid;
    e->key_len = key->len;
    e->body_len = len;
    e->ndeps = ndeps;

    p = ngx_cpymem(ngx_http_mobispot_cache_deps(e), deps,
                   ndeps * sizeof(ngx_http_mobispot_cache_dep_t));
    p = ngx_cpymem(p, key->data, key->len);

    /*
     * The way: the entry of the same key (stored again), else an empty one,
     * else the one used less recently.
     */

    slot = ngx_http_mobispot_cache_find(cache, key, hash);

    if (slot == NULL) {
        slot = &cache->entries[ngx_http_mobispot_sets_victim(&cache->sets,
                                   ngx_http_mobispot_sets_first(&cache->sets,
                                                                hash),
                                   ngx_http_mobispot_cache_free_way, cache)];
    }

    if (*slot != NULL) {
        ngx_free(*slot);
    }

    *slot = e;
    ngx_http_mobispot_sets_used(&cache->sets, slot - cache->entries);

    return p;
}


static ngx_uint_t
ngx_http_mobispot_cache_free_way(void *data, ngx_uint_t i)
{
    ngx_http_mobispot_cache_t *cache = data;

    return cache->entries[i] == NULL;
}
