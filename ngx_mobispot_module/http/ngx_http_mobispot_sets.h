
/*
 * Copyright (C) Mobispot
 *
 * The placement shared by the workers' caches (the answer cache, the site
 * info cache): a table of entries in sets of two ways, a hash picks the
 * set, and a newcomer takes a free way or else the one of its set used
 * less recently, so that two entries used all the time (the parts of two
 * sites of every nearby) do not evict each other.  The caches keep their
 * own entries; this keeps which way of each set goes next.
 */


#ifndef _NGX_HTTP_MOBISPOT_SETS_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_SETS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    ngx_uint_t                  nsets;
    ngx_uint_t                  ways;       /* 2, or 1 for a single entry */
    u_char                     *victims;    /* per set: the way to replace */
} ngx_http_mobispot_sets_t;


/* whether entry i of the cache may be taken before any other of its set */
typedef ngx_uint_t (*ngx_http_mobispot_sets_free_pt)(void *data,
    ngx_uint_t i);


ngx_int_t ngx_http_mobispot_sets_init(ngx_http_mobispot_sets_t *sets,
    ngx_uint_t entries, ngx_log_t *log);
void ngx_http_mobispot_sets_free(ngx_http_mobispot_sets_t *sets);
ngx_uint_t ngx_http_mobispot_sets_victim(ngx_http_mobispot_sets_t *sets,
    ngx_uint_t first, ngx_http_mobispot_sets_free_pt is_free, void *data);


/* the index of the first entry of the set of this hash */

static ngx_inline ngx_uint_t
ngx_http_mobispot_sets_first(ngx_http_mobispot_sets_t *sets, ngx_uint_t hash)
{
    return (hash % sets->nsets) * sets->ways;
}


/* entry i was used: the other way of its set is the one to replace next */

static ngx_inline void
ngx_http_mobispot_sets_used(ngx_http_mobispot_sets_t *sets, ngx_uint_t i)
{
    sets->victims[i / sets->ways] = (u_char) ((i + 1) % sets->ways);
}


#endif /* _NGX_HTTP_MOBISPOT_SETS_H_INCLUDED_ */
