
/*
 * Copyright (C) Mobispot
 *
 * auth_delay (nginx's core directive) for the refusals the module answers
 * itself: a 401 for a missing, bad or revoked token.  nginx delays only the
 * 401 an access handler returns to its phase engine; the module writes its
 * JSON (or redirect) answer on its own, so it asks for the same delay here.
 *
 * The delay is a timer on the connection's write event, marked delayed so
 * that nothing is written meanwhile; the read side watches for a client
 * that goes away (ngx_http_test_reading), and an extra turn of the event
 * loop is posted, as nginx does, so that a refusal never comes sooner than
 * an acceptance would.  When the timer fires the answer handler runs; a
 * write event that comes before it only re-arms the event.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_delay.h"


/*
 * NGX_DECLINED: no auth_delay in this location, answer now.  NGX_OK: answer
 * runs, as the request's write handler, once the delay is over; the caller
 * returns NGX_DONE (a content handler holds the request with count++ first).
 */

ngx_int_t
ngx_http_mobispot_auth_delay(ngx_http_request_t *r,
    ngx_http_event_handler_pt answer)
{
    ngx_event_t               *wev;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->auth_delay == 0) {
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: delaying the refusal for %M ms (auth_delay)",
                  clcf->auth_delay);

    if (r->connection->read->ready) {
        ngx_post_event(r->connection->read, &ngx_posted_events);

    } else if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        return NGX_DECLINED;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = answer;

    wev = r->connection->write;

    wev->delayed = 1;
    ngx_add_timer(wev, clcf->auth_delay);

    ngx_post_event(wev, &ngx_posted_next_events);

    return NGX_OK;
}


/*
 * For the answer handler: 1 while the delay runs (the event was not the
 * timer), and the handler returns; 0 when the refusal is to be sent now.
 */

ngx_uint_t
ngx_http_mobispot_auth_delaying(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    wev = r->connection->write;

    if (wev->timedout) {
        /* the delay is over: nginx's request handler saw it too */
        wev->timedout = 0;
        wev->delayed = 0;
        return 0;
    }

    if (!wev->delayed) {
        return 0;
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    return 1;
}
