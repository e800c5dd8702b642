
/*
 * Copyright (C) Mobispot
 *
 * Log lines that a client can cause at every request (Redis down or
 * overloaded) are written at most once a second per worker and per kind,
 * each saying how many were left out since the last one.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "http/ngx_http_mobispot_module.h"


/*
 * Returns 1 when a line may be written now, with the number of lines left
 * out before it in *skipped; 0 when this one is left out.
 */

ngx_uint_t
ngx_http_mobispot_log_limit(ngx_http_mobispot_log_limit_t *limit,
    ngx_uint_t *skipped)
{
    time_t  now;

    now = ngx_time();

    if (limit->last == now) {
        limit->skipped++;
        return 0;
    }

    limit->last = now;
    *skipped = limit->skipped;
    limit->skipped = 0;

    return 1;
}
