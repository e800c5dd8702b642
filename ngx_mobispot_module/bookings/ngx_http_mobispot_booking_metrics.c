
/*
 * Copyright (C) Mobispot
 *
 * The bookings' metrics (http/ngx_http_mobispot_metrics.h):
 * mobispot_bookings_total by event.  The requests' events are read in the
 * log phase from what POST bookings and DELETE bookings/{id} answered
 * (made, made by an earlier try and answered again, refused for want of
 * capacity, cancelled); the deadlines' runner counts the holds that
 * expired and the no-shows as it ends them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"
#include "http/ngx_http_mobispot_metrics.h"


static ngx_int_t ngx_http_mobispot_booking_metrics_log(ngx_http_request_t *r);


#define ngx_http_mobispot_booked_is(s, w)                                    \
    ((s)->len == sizeof(w) - 1 && ngx_strncmp((s)->data, w, (s)->len) == 0)


static ngx_atomic_t  *ngx_http_mobispot_booked[NGX_HTTP_MOBISPOT_BOOKED_EVENTS];


ngx_int_t
ngx_http_mobispot_booking_metrics_init(ngx_conf_t *cf)
{
    return ngx_http_mobispot_phase_handler(
               cf, NGX_HTTP_LOG_PHASE, ngx_http_mobispot_booking_metrics_log);
}


void
ngx_http_mobispot_booking_metrics_init_process(void)
{
    ngx_uint_t  i;

    static const char  *events[] = {
        "event=\"created\"", "event=\"conflict\"", "event=\"replayed\"",
        "event=\"cancelled\"", "event=\"no_show\"", "event=\"hold_expired\""
    };

    for (i = 0; i < NGX_HTTP_MOBISPOT_BOOKED_EVENTS; i++) {
        ngx_http_mobispot_booked[i] = ngx_http_mobispot_metric(
                                          "mobispot_bookings_total",
                                          events[i],
                                          NGX_HTTP_MOBISPOT_METRIC_COUNTER);
    }
}


void
ngx_http_mobispot_booking_count(ngx_uint_t event)
{
    ngx_http_mobispot_metric_inc(ngx_http_mobispot_booked[event]);
}


static ngx_int_t
ngx_http_mobispot_booking_metrics_log(ngx_http_request_t *r)
{
    ngx_uint_t                    status;
    ngx_http_mobispot_api_ctx_t  *ctx;
    ngx_http_mobispot_booking_t  *bk;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    if (ctx == NULL || ctx->route == NULL || r != r->main
        || ctx->route->pattern.data[0] != 'b')
    {
        return NGX_OK;
    }

    status = r->headers_out.status;

    if (r->method == NGX_HTTP_POST
        && ngx_http_mobispot_booked_is(&ctx->route->pattern, "bookings"))
    {
        bk = ctx->data;

        if (status == NGX_HTTP_CREATED && bk != NULL) {
            ngx_http_mobispot_booking_count(
                bk->replayed ? NGX_HTTP_MOBISPOT_BOOKED_REPLAYED
                             : NGX_HTTP_MOBISPOT_BOOKED_CREATED);

        } else if (ctx->error != NULL
                   && ngx_strcmp(ctx->error, "no_capacity") == 0)
        {
            ngx_http_mobispot_booking_count(NGX_HTTP_MOBISPOT_BOOKED_CONFLICT);
        }

        return NGX_OK;
    }

    if (r->method == NGX_HTTP_DELETE && status == NGX_HTTP_OK
        && ngx_http_mobispot_booked_is(&ctx->route->pattern, "bookings/{}"))
    {
        ngx_http_mobispot_booking_count(NGX_HTTP_MOBISPOT_BOOKED_CANCELLED);
    }

    return NGX_OK;
}
