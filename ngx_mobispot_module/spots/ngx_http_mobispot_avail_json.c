
/*
 * Copyright (C) Mobispot
 *
 * The JSON answers of availability and nearby, made with the trusted
 * generator (ngx_http_mobispot_api_gen_trusted()): every string is a
 * validated id, a constant, a time formatted here, or a name or town that
 * the admin API parsed before storing it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_avail.h"


static ngx_int_t ngx_http_mobispot_gen_time(yajl_gen g, const char *key,
    int64_t utc, int32_t offset);
static ngx_int_t ngx_http_mobispot_gen_int(yajl_gen g, const char *key,
    int64_t n);


static ngx_int_t
ngx_http_mobispot_gen_time(yajl_gen g, const char *key, int64_t utc,
    int32_t offset)
{
    u_char  buf[MOBISPOT_RFC3339_LEN];

    (void) mobispot_format_rfc3339(utc, offset, (char *) buf);

    if (mobispot_json_string(g, key) != MOBISPOT_OK
        || yajl_gen_string(g, buf, MOBISPOT_RFC3339_LEN)
           != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* yajl_gen_integer() goes through sprintf(): ngx_sprintf() is cheaper */

static ngx_int_t
ngx_http_mobispot_gen_int(yajl_gen g, const char *key, int64_t n)
{
    u_char  buf[NGX_INT64_LEN], *p;

    p = ngx_sprintf(buf, "%L", n);

    if (mobispot_json_string(g, key) != MOBISPOT_OK
        || yajl_gen_number(g, (char *) buf, p - buf) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * {"site":"..","kind":"desk","time_zone":"..","capacity":N,"date":"..",
 *  "from":"..","to":"..","slots":[{"start","end","free"}]}: open slots
 */

ngx_int_t
ngx_http_mobispot_availability_send(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av)
{
    char                       date[MOBISPOT_DATE_LEN];
    u_char                     start[MOBISPOT_RFC3339_LEN];
    u_char                     end[MOBISPOT_RFC3339_LEN];
    u_char                     numbuf[NGX_INT64_LEN], *num;
    size_t                     i, n, max;
    int64_t                    free, start_utc;
    mobispot_date_cache_t      cache;
    unsigned                   slot;
    yajl_gen                   g;
    mobispot_slot_t           *slots;
    const mobispot_tz_t       *tz;
    ngx_http_mobispot_site_t  *site;

    site = &av->sites[0];

    if (ngx_http_mobispot_site_prepare(r, av, site) != NGX_OK) {
        return ngx_http_mobispot_spots_redis_error(r, "availability");
    }

    tz = site->info.tz;
    slot = site->info.slot;

    if (av->by_date == 2) {
        av->date = mobispot_floor_div(ngx_time()
                                      + mobispot_tz_offset(tz, ngx_time()),
                                      86400);
    }

    if (av->by_date) {
        av->from = mobispot_tz_local_to_utc(tz, av->date * 86400);
        av->to = mobispot_tz_local_to_utc(tz, (av->date + 1) * 86400);
    }

    max = (size_t) ((av->to - av->from) / (slot * 60)) + 2;

    slots = ngx_palloc(r->pool, max * sizeof(mobispot_slot_t));
    if (slots == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = ngx_http_mobispot_site_slots(av, site, slots, max);

    /* every string is a validated id, a constant or formatted here */

    g = ngx_http_mobispot_api_gen_trusted(r);
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "site") != MOBISPOT_OK
        || yajl_gen_string(g, site->id.data, site->id.len)
           != yajl_gen_status_ok
        || mobispot_json_key_string(g, "kind", mobispot_kind_names[av->kind])
           != MOBISPOT_OK
        || mobispot_json_key_string(g, "time_zone", tz->name)
           != MOBISPOT_OK
        || ngx_http_mobispot_gen_int(g, "slot_minutes", slot) != NGX_OK
        || ngx_http_mobispot_gen_int(g, "capacity", site->capacity) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (av->by_date) {
        (void) mobispot_format_date(av->date, date);

        if (mobispot_json_string(g, "date") != MOBISPOT_OK
            || yajl_gen_string(g, (u_char *) date, MOBISPOT_DATE_LEN)
               != yajl_gen_status_ok)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_mobispot_gen_time(g, "from", av->from,
                                   mobispot_tz_offset(tz, av->from))
        != NGX_OK
        || ngx_http_mobispot_gen_time(g, "to", av->to,
                                      mobispot_tz_offset(tz, av->to))
           != NGX_OK
        || mobispot_json_string(g, "slots") != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * Each instant is formatted once: the end of a slot is the start of
     * the next one, whose text is kept in "start" (valid while
     * "start_utc" says so); the date of a run of slots, once per day.
     */

    cache.days = INT64_MIN;
    start_utc = INT64_MIN;

    for (i = 0; i < n; i++) {
        if (!slots[i].open) {
            continue;
        }

        free = site->capacity
               - ngx_http_mobispot_site_booked(av, site, slots[i].start);

        if (free < 0) {
            free = 0;
        }

        if (start_utc != slots[i].start) {
            (void) mobispot_format_rfc3339_cached(slots[i].start,
                                                  slots[i].offset,
                                                  (char *) start, &cache);
        }

        (void) mobispot_format_rfc3339_cached(slots[i].end,
                                              slots[i].end_offset,
                                              (char *) end, &cache);

        num = ngx_sprintf(numbuf, "%L", free);

        if (yajl_gen_map_open(g) != yajl_gen_status_ok
            || yajl_gen_string(g, (u_char *) "start", sizeof("start") - 1)
               != yajl_gen_status_ok
            || yajl_gen_string(g, start, MOBISPOT_RFC3339_LEN)
               != yajl_gen_status_ok
            || yajl_gen_string(g, (u_char *) "end", sizeof("end") - 1)
               != yajl_gen_status_ok
            || yajl_gen_string(g, end, MOBISPOT_RFC3339_LEN)
               != yajl_gen_status_ok
            || yajl_gen_string(g, (u_char *) "free", sizeof("free") - 1)
               != yajl_gen_status_ok
            || yajl_gen_number(g, (char *) numbuf, num - numbuf)
               != yajl_gen_status_ok
            || yajl_gen_map_close(g) != yajl_gen_status_ok)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(start, end, MOBISPOT_RFC3339_LEN);
        start_utc = slots[i].end;
    }

    if (yajl_gen_array_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g);
}


/*
 * {"kind":"desk","from":"..","to":"..","sites":[{"id","name","town",
 *  "distance_km","free","open"[,"entitled"]}]}, nearest first
 */

ngx_int_t
ngx_http_mobispot_nearby_send(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av)
{
    yajl_gen                   g;
    ngx_uint_t                 i, sent;
    ngx_http_mobispot_site_t  *site;

    /*
     * Ids are validated, names and towns were checked by the admin API's
     * parser before they were stored: see ngx_http_mobispot_api_gen_trusted()
     */

    g = ngx_http_mobispot_api_gen_trusted(r);
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "kind", mobispot_kind_names[av->kind])
           != MOBISPOT_OK
        || ngx_http_mobispot_gen_time(g, "from", av->from, 0) != NGX_OK
        || ngx_http_mobispot_gen_time(g, "to", av->to, 0) != NGX_OK
        || mobispot_json_string(g, "sites") != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sent = 0;

    for (i = 0; i < av->nsites && sent < av->limit; i++) {
        site = &av->sites[i];

        if (!site->found || (!av->all && site->free <= 0)) {
            continue;
        }

        sent++;

        if (yajl_gen_map_open(g) != yajl_gen_status_ok
            || mobispot_json_string(g, "id") != MOBISPOT_OK
            || yajl_gen_string(g, site->id.data, site->id.len)
               != yajl_gen_status_ok
            || mobispot_json_string(g, "name") != MOBISPOT_OK
            || yajl_gen_string(g, site->info.name.data, site->info.name.len)
               != yajl_gen_status_ok
            || mobispot_json_string(g, "town") != MOBISPOT_OK
            || yajl_gen_string(g, site->info.town.data, site->info.town.len)
               != yajl_gen_status_ok
            || mobispot_json_string(g, "distance_km") != MOBISPOT_OK
            || yajl_gen_number(g, (char *) site->dist.data, site->dist.len)
               != yajl_gen_status_ok
            || ngx_http_mobispot_gen_int(g, "free", site->free) != NGX_OK
            || mobispot_json_string(g, "open") != MOBISPOT_OK
            || yajl_gen_bool(g, (int) site->open) != yajl_gen_status_ok)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (site->entitled >= 0
            && (mobispot_json_string(g, "entitled") != MOBISPOT_OK
                || yajl_gen_bool(g, (int) site->entitled)
                   != yajl_gen_status_ok))
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (yajl_gen_map_close(g) != yajl_gen_status_ok) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (yajl_gen_array_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g);
}
