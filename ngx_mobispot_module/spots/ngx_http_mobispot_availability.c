
/*
 * Copyright (C) Mobispot
 *
 * GET {prefix}spots/{id}/availability: one round trip, the site's info
 * and its booked days, answered with its open slots and their free
 * capacity.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_avail.h"


static void ngx_http_mobispot_availability_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_availability_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);


/*
 * GET {prefix}spots/{id}/availability?date=YYYY-MM-DD&kind=desk
 * GET {prefix}spots/{id}/availability?from=...&to=...&kind=desk
 */

ngx_int_t
ngx_http_mobispot_availability(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    u_char                         *p;
    ngx_int_t                       rc;
    ngx_str_t                      *id, key;
    ngx_http_mobispot_avail_t      *av;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    ngx_http_mobispot_arg_t  args[] = {
        { "date", ngx_null_string, 0 },
        { "from", ngx_null_string, 0 },
        { "to", ngx_null_string, 0 },
        { "kind", ngx_null_string, 0 },
    };

    id = &ctx->params[0];

    if (!mobispot_id_valid((char *) id->data, id->len)) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND,
                                             "unknown_site", "no such site",
                                             "parameter", "id");
    }

    rc = ngx_http_mobispot_spots_args(r, args, 4);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    av = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_avail_t));
    if (av == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = av;

    rc = ngx_http_mobispot_avail_kind(r, av, &args[3]);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    if (args[0].set && (args[1].set || args[2].set)) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "date and from/to exclude each "
                                             "other",
                                             "parameter", "date");
    }

    if (args[0].set) {
        if (mobispot_parse_date((char *) args[0].value.data,
                                args[0].value.len, &av->date)
            != MOBISPOT_OK)
        {
            return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                                 "invalid_parameter",
                                                 "date must be a calendar "
                                                 "date YYYY-MM-DD from "
                                                 "1970-01-01 to 2100-12-31",
                                                 "parameter", "date");
        }

        av->by_date = 1;
        ngx_http_mobispot_avail_days(r, av);

    } else if (args[1].set || args[2].set) {
        rc = ngx_http_mobispot_avail_window(r, av, &args[1], &args[2],
                                            MOBISPOT_AVAIL_WINDOW_MAX);
        if (rc != NGX_OK || r->header_sent) {
            return rc;
        }

        ngx_http_mobispot_window_days(av);

    } else {
        /* today, in the site's time zone, known once the site is read */
        av->by_date = 2;
        ngx_http_mobispot_avail_days(r, av);
    }

    /*
     * The cache key: the site, the kind and the window; "today" is the
     * quarter of an hour since the epoch (a local day begins on a quarter
     * of an hour in every zone), and resolved when the site is read.
     */

    key.data = ngx_pnalloc(r->pool, id->len + 3 * NGX_INT64_LEN + 32);
    if (key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(key.data, "availability %V %d ", id, av->kind);

    switch (av->by_date) {

    case 1:
        p = ngx_sprintf(p, "date %L", av->date);
        break;

    case 2:
        p = ngx_sprintf(p, "today %T", ngx_time() / 900);
        break;

    default:
        p = ngx_sprintf(p, "window %L %L", av->from, av->to);
    }

    key.len = p - key.data;

    rc = ngx_http_mobispot_api_cached(r, ctx, &key);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    av->sites = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_site_t));
    cmds = ngx_palloc(r->pool,
                      (1 + av->ndays) * sizeof(ngx_http_mobispot_redis_cmd_t));

    if (av->sites == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    av->nsites = 1;
    av->sites[0].id = *id;

    if (ngx_http_mobispot_site_cmds(r, av, &av->sites[0], cmds) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_read(r, ctx, cmds, 1 + av->ndays,
                                      ngx_http_mobispot_availability_reply,
                                      ngx_http_mobispot_availability_done,
                                      ctx);
}


static void
ngx_http_mobispot_availability_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    ngx_http_mobispot_avail_t  *av;

    av = ctx->data;

    ngx_http_mobispot_site_reply(r, av, &av->sites[0], index, reply);
}


static void
ngx_http_mobispot_availability_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    ngx_http_mobispot_avail_t  *av;

    av = ctx->data;

    if (ngx_http_mobispot_spots_call_failed(r, status, av->bad,
                                            "availability"))
    {
        return;
    }

    if (!av->sites[0].found) {
        ngx_http_finalize_request(r,
            ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND,
                                          "unknown_site", "no such site",
                                          "parameter", "id"));
        return;
    }

    ngx_http_finalize_request(r, ngx_http_mobispot_availability_send(r, av));
}
