
/*
 * Copyright (C) Mobispot
 *
 * The SSO gateway's metrics (http/ngx_http_mobispot_metrics.h): its
 * verdicts by $mobispot_sso_status, counted in the log phase of the
 * requests it judged, and its token cache's hits and misses; and two
 * gauges told every second by each worker's tick: the sessions in the
 * revocation zone and whether it is full (one zone: every worker tells
 * the same), and the age of the worker's key set from Redis (worker="N").
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sso/ngx_http_mobispot_sso.h"
#include "http/ngx_http_mobispot_metrics.h"


static ngx_int_t ngx_http_mobispot_sso_metrics_log(ngx_http_request_t *r);
static void ngx_http_mobispot_sso_metrics_tick(ngx_event_t *ev);
static void ngx_http_mobispot_sso_metrics_gauges(
    ngx_http_mobispot_sso_main_conf_t *mcf);


/* the worker's series */
static ngx_atomic_t  *ngx_http_mobispot_sso_verdicts[MOBISPOT_SSO_NSTATUS];
static ngx_atomic_t  *ngx_http_mobispot_sso_cache_hits;
static ngx_atomic_t  *ngx_http_mobispot_sso_cache_misses;
static ngx_atomic_t  *ngx_http_mobispot_sso_revoked_gauge;
static ngx_atomic_t  *ngx_http_mobispot_sso_revoked_full;
static ngx_atomic_t  *ngx_http_mobispot_sso_keys_age;

static time_t         ngx_http_mobispot_sso_started;
static ngx_event_t    ngx_http_mobispot_sso_metrics_timer;
static ngx_connection_t  ngx_http_mobispot_sso_metrics_dummy;


ngx_int_t
ngx_http_mobispot_sso_metrics_init(ngx_conf_t *cf)
{
    return ngx_http_mobispot_phase_handler(cf, NGX_HTTP_LOG_PHASE,
                                           ngx_http_mobispot_sso_metrics_log);
}


void
ngx_http_mobispot_sso_metrics_init_process(ngx_cycle_t *cycle,
    ngx_http_mobispot_sso_main_conf_t *mcf)
{
    u_char      *p, labels[64];
    ngx_uint_t   i;
    ngx_event_t *ev;

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

    ngx_http_mobispot_sso_revoked_gauge = NULL;
    ngx_http_mobispot_sso_revoked_full = NULL;
    ngx_http_mobispot_sso_keys_age = NULL;

    if (mcf->revoke_zone != NULL) {
        ngx_http_mobispot_sso_revoked_gauge = ngx_http_mobispot_metric(
                                            "mobispot_sso_revoked_sessions",
                                            "",
                                            NGX_HTTP_MOBISPOT_METRIC_GAUGE);
        ngx_http_mobispot_sso_revoked_full = ngx_http_mobispot_metric(
                                             "mobispot_sso_revocation_full",
                                             "",
                                             NGX_HTTP_MOBISPOT_METRIC_GAUGE);
    }

    if (mcf->keys_redis) {
        p = ngx_snprintf(labels, sizeof(labels) - 1, "worker=\"%ui\"",
                         (ngx_uint_t) ngx_worker);
        *p = '\0';

        ngx_http_mobispot_sso_keys_age = ngx_http_mobispot_metric(
                                             "mobispot_sso_keys_age_seconds",
                                             (char *) labels,
                                             NGX_HTTP_MOBISPOT_METRIC_GAUGE);
    }

    if (ngx_http_mobispot_sso_revoked_gauge == NULL
        && ngx_http_mobispot_sso_keys_age == NULL)
    {
        return;
    }

    ngx_http_mobispot_sso_started = ngx_time();
    ngx_http_mobispot_sso_metrics_gauges(mcf);

    ev = &ngx_http_mobispot_sso_metrics_timer;
    ngx_memzero(ev, sizeof(ngx_event_t));
    ngx_http_mobispot_sso_metrics_dummy.fd = (ngx_socket_t) -1;
    ngx_http_mobispot_sso_metrics_dummy.data = mcf;
    ev->handler = ngx_http_mobispot_sso_metrics_tick;
    ev->data = &ngx_http_mobispot_sso_metrics_dummy;
    ev->log = cycle->log;
    ev->cancelable = 1;

    ngx_add_timer(ev, 1000);
}


void
ngx_http_mobispot_sso_metrics_exit_process(void)
{
    if (ngx_http_mobispot_sso_metrics_timer.timer_set) {
        ngx_del_timer(&ngx_http_mobispot_sso_metrics_timer);
    }
}


static void
ngx_http_mobispot_sso_metrics_tick(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    ngx_http_mobispot_sso_metrics_gauges(c->data);

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(ev, 1000);
    }
}


/* before its first read, a key set's age counts from the worker's start */

static void
ngx_http_mobispot_sso_metrics_gauges(ngx_http_mobispot_sso_main_conf_t *mcf)
{
    time_t      read;
    ngx_uint_t  count, full;

    if (ngx_http_mobispot_sso_revoked_gauge != NULL) {
        count = ngx_http_mobispot_sso_revoked_count(mcf, &full);

        ngx_http_mobispot_metric_set(ngx_http_mobispot_sso_revoked_gauge,
                                     count);
        ngx_http_mobispot_metric_set(ngx_http_mobispot_sso_revoked_full,
                                     full);
    }

    if (ngx_http_mobispot_sso_keys_age != NULL) {
        read = mcf->rkeys_read ? mcf->rkeys_read
                               : ngx_http_mobispot_sso_started;

        ngx_http_mobispot_metric_set(ngx_http_mobispot_sso_keys_age,
                                     ngx_time() - read);
    }
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
