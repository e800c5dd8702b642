
/*
 * Copyright (C) Mobispot
 *
 * The SSO gateway's metrics (http/ngx_http_mobispot_metrics.h): its
 * verdicts by $mobispot_sso_status, counted in the log phase of the
 * requests it judged, and its token cache's hits and misses.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sso/ngx_http_mobispot_sso.h"
#include "http/ngx_http_mobispot_metrics.h"


static ngx_int_t ngx_http_mobispot_sso_metrics_log(ngx_http_request_t *r);


/* the worker's series */
static ngx_atomic_t  *ngx_http_mobispot_sso_verdicts[MOBISPOT_SSO_NSTATUS];
static ngx_atomic_t  *ngx_http_mobispot_sso_cache_hits;
static ngx_atomic_t  *ngx_http_mobispot_sso_cache_misses;


ngx_int_t
ngx_http_mobispot_sso_metrics_init(ngx_conf_t *cf)
{
    return ngx_http_mobispot_phase_handler(cf, NGX_HTTP_LOG_PHASE,
                                           ngx_http_mobispot_sso_metrics_log);
}


void
ngx_http_mobispot_sso_metrics_init_process(void)
{
    u_char      *p, labels[64];
    ngx_uint_t   i;

    for (i = 0; i < MOBISPOT_SSO_NSTATUS; i++) {
        p = ngx_snprintf(labels, sizeof(labels) - 1, "status=\"%s\"",
                         mobispot_sso_status_name((int) i));
        *p = '\0';

        ngx_http_mobispot_sso_verdicts[i] =
            ngx_http_mobispot_metric("mobispot_sso_verdicts_total",
                                     (char *) labels,
                                     NGX_HTTP_MOBISPOT_METRIC_COUNTER);
    }

    ngx_http_mobispot_sso_cache_hits = ngx_http_mobispot_metric(
                                           "mobispot_sso_token_cache_total",
                                           "result=\"hit\"",
                                           NGX_HTTP_MOBISPOT_METRIC_COUNTER);
    ngx_http_mobispot_sso_cache_misses = ngx_http_mobispot_metric(
                                             "mobispot_sso_token_cache_total",
                                             "result=\"miss\"",
                                             NGX_HTTP_MOBISPOT_METRIC_COUNTER);
}


/* a token looked up in the worker's cache: found (hit) or not */

void
ngx_http_mobispot_sso_metrics_cache(ngx_uint_t hit)
{
    if (hit) {
        ngx_http_mobispot_metric_inc(ngx_http_mobispot_sso_cache_hits);

    } else {
        ngx_http_mobispot_metric_inc(ngx_http_mobispot_sso_cache_misses);
    }
}


static ngx_int_t
ngx_http_mobispot_sso_metrics_log(ngx_http_request_t *r)
{
    ngx_http_mobispot_sso_ctx_t  *ctx;

    if (r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_sso_module);

    if (ctx == NULL || ctx->status >= MOBISPOT_SSO_NSTATUS) {
        return NGX_OK;
    }

    ngx_http_mobispot_metric_inc(ngx_http_mobispot_sso_verdicts[ctx->status]);

    return NGX_OK;
}
