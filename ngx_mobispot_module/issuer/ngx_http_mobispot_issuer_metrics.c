
/*
 * Copyright (C) Mobispot
 *
 * The issuer's metrics (http/ngx_http_mobispot_metrics.h): its sign-ins
 * by result, read in the log phase from what POST login answered: 303
 * (signed in: ok), 401 (the form again: failed), 429 (a wait runs:
 * throttled).  A refusal before the credentials are looked at (a bad
 * form, a CSRF failure) is none of these.  The token endpoint counts as
 * it answers: tokens issued by grant, and rotated refresh tokens used
 * again (each revokes its session).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "issuer/ngx_http_mobispot_issuer.h"
#include "http/ngx_http_mobispot_metrics.h"


static ngx_int_t ngx_http_mobispot_issuer_metrics_log(ngx_http_request_t *r);


static ngx_atomic_t  *ngx_http_mobispot_issuer_logins[3];
static ngx_atomic_t  *ngx_http_mobispot_issuer_tokens[2];   /* by grant */
static ngx_atomic_t  *ngx_http_mobispot_issuer_reuse;


ngx_int_t
ngx_http_mobispot_issuer_metrics_init(ngx_conf_t *cf)
{
    return ngx_http_mobispot_phase_handler(
               cf, NGX_HTTP_LOG_PHASE, ngx_http_mobispot_issuer_metrics_log);
}


void
ngx_http_mobispot_issuer_metrics_init_process(void)
{
    ngx_uint_t  i;

    static const char  *results[] = {
        "result=\"ok\"", "result=\"failed\"", "result=\"throttled\""
    };

    for (i = 0; i < 3; i++) {
        ngx_http_mobispot_issuer_logins[i] =
            ngx_http_mobispot_metric("mobispot_issuer_logins_total",
                                     results[i],
                                     NGX_HTTP_MOBISPOT_METRIC_COUNTER);
    }

    ngx_http_mobispot_issuer_tokens[0] = ngx_http_mobispot_metric(
                                "mobispot_issuer_tokens_total",
                                "grant=\"authorization_code\"",
                                NGX_HTTP_MOBISPOT_METRIC_COUNTER);
    ngx_http_mobispot_issuer_tokens[1] = ngx_http_mobispot_metric(
                                "mobispot_issuer_tokens_total",
                                "grant=\"refresh_token\"",
                                NGX_HTTP_MOBISPOT_METRIC_COUNTER);
    ngx_http_mobispot_issuer_reuse = ngx_http_mobispot_metric(
                                "mobispot_issuer_refresh_reuse_total", "",
                                NGX_HTTP_MOBISPOT_METRIC_COUNTER);
}


/* a grant answered with its tokens: 0 a code, 1 a refresh token */

void
ngx_http_mobispot_issuer_metrics_token(ngx_uint_t refresh)
{
    ngx_http_mobispot_metric_inc(ngx_http_mobispot_issuer_tokens[refresh != 0]);
}


/* a rotated refresh token presented again: its session revoked */

void
ngx_http_mobispot_issuer_metrics_reuse(void)
{
    ngx_http_mobispot_metric_inc(ngx_http_mobispot_issuer_reuse);
}


static ngx_int_t
ngx_http_mobispot_issuer_metrics_log(ngx_http_request_t *r)
{
    ngx_http_mobispot_api_ctx_t          *ctx;
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    if (r != r->main || r->method != NGX_HTTP_POST) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx == NULL || ctx->route == NULL
        || ctx->route->pattern.len != sizeof("login") - 1
        || ngx_strncmp(ctx->route->pattern.data, "login", 5) != 0)
    {
        return NGX_OK;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    if (!lcf->enabled) {
        return NGX_OK;
    }

    switch (r->headers_out.status) {

    case NGX_HTTP_SEE_OTHER:
        ngx_http_mobispot_metric_inc(ngx_http_mobispot_issuer_logins[0]);
        break;

    case NGX_HTTP_UNAUTHORIZED:
        ngx_http_mobispot_metric_inc(ngx_http_mobispot_issuer_logins[1]);
        break;

    case NGX_HTTP_TOO_MANY_REQUESTS:
        ngx_http_mobispot_metric_inc(ngx_http_mobispot_issuer_logins[2]);
        break;
    }

    return NGX_OK;
}
