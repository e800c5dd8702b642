
/*
 * Copyright (C) Mobispot
 *
 * Sets of two ways for the workers' caches (see the header).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "http/ngx_http_mobispot_sets.h"


/* entries: 1, or an even number */

ngx_int_t
ngx_http_mobispot_sets_init(ngx_http_mobispot_sets_t *sets,
    ngx_uint_t entries, ngx_log_t *log)
{
    sets->ways = (entries > 1) ? 2 : 1;
    sets->nsets = entries / sets->ways;

    sets->victims = ngx_calloc(sets->nsets, log);
    if (sets->victims == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_mobispot_sets_free(ngx_http_mobispot_sets_t *sets)
{
    ngx_free(sets->victims);
    sets->victims = NULL;
}


/*
 * The entry to replace in the set that starts at first: the first way the
 * cache says is free (empty, or no longer of any use), else the way used
 * less recently.  The caller then stores there and calls
 * ngx_http_mobispot_sets_used().
 */

ngx_uint_t
ngx_http_mobispot_sets_victim(ngx_http_mobispot_sets_t *sets,
    ngx_uint_t first, ngx_http_mobispot_sets_free_pt is_free, void *data)
{
    ngx_uint_t  i;

    for (i = first; i < first + sets->ways; i++) {
        if (is_free(data, i)) {
            return i;
        }
    }

    return first + sets->victims[first / sets->ways];
}
