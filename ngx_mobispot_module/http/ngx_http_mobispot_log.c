
/*
 * Copyright (C) Mobispot
 *
 * Log lines that a client can cause at every request (Redis down or
 * overloaded) are written at most once a second per worker and per kind,
 * each saying how many were left out since the last one; and what a client
 * chose (a JSON member name) is escaped before it reaches the log.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

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


/*
 * A client's text made safe for the error log: control characters, DEL,
 * backslash and double quote as \xHH, so that a name decoded from JSON
 * cannot start a line of its own.  NUL-terminated, from the pool; a
 * constant when memory is short.
 */

u_char *
ngx_http_mobispot_log_escape(ngx_pool_t *pool, const u_char *s, size_t len)
{
    u_char         *dst, *p;
    size_t          i;
    static u_char   hex[] = "0123456789abcdef";

    dst = ngx_pnalloc(pool, 4 * len + 1);
    if (dst == NULL) {
        return (u_char *) "(no memory)";
    }

    p = dst;

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\' || s[i] == '"') {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = hex[s[i] >> 4];
            *p++ = hex[s[i] & 0xf];
            continue;
        }

        *p++ = s[i];
    }

    *p = '\0';

    return dst;
}


/*
 * A fault of Redis that a request meets (an error reply, a reply of the
 * wrong type, no answer): it repeats at every request while Redis
 * misbehaves, so the worker writes one such line a second, whatever its
 * kind, with the number left out before it (docs/operations.md, "Error
 * log").  The line ends with that count.
 */

void ngx_cdecl
ngx_http_mobispot_fault(ngx_uint_t level, ngx_log_t *log, const char *fmt,
    ...)
{
    u_char                         *p, buf[NGX_MAX_ERROR_STR];
    va_list                         args;
    ngx_uint_t                      skipped;
    ngx_http_mobispot_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                              ngx_http_mobispot_module);

    if (mcf == NULL || !ngx_http_mobispot_log_limit(&mcf->fault_log,
                                                    &skipped))
    {
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf) - 64, fmt, args);
    va_end(args);

    ngx_log_error(level, log, 0, "%*s (%ui such lines left out)",
                  p - buf, buf, skipped);
}
