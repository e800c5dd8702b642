
/*
 * Copyright (C) Mobispot
 *
 * The window of an availability or nearby question and the UTC days it
 * reads, a site's decoded info, and its free capacity: the capacity of a
 * kind less the bookings of each slot, in the site's opening hours, in
 * its time zone.  Shared by both routes (ngx_http_mobispot_avail.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_avail.h"


ngx_int_t
ngx_http_mobispot_avail_kind(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_arg_t *kind)
{
    av->kind = MOBISPOT_KIND_DESK;

    if (!kind->set) {
        return NGX_OK;
    }

    av->kind = mobispot_kind_parse((char *) kind->value.data,
                                   kind->value.len);

    if (av->kind < 0) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "kind must be desk, "
                                             "meeting_room, conference_room "
                                             "or training_room",
                                             "parameter", "kind");
    }

    return NGX_OK;
}


/* from and to: both or none, RFC 3339, from < to, at most max apart */

ngx_int_t
ngx_http_mobispot_avail_window(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_arg_t *from,
    ngx_http_mobispot_arg_t *to, int64_t max)
{
    if (from->set
        && mobispot_parse_rfc3339((char *) from->value.data, from->value.len,
                                  &av->from)
           != MOBISPOT_OK)
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "from must be an RFC 3339 "
                                             "date-time from 1970 to 2100",
                                             "parameter", "from");
    }

    if (to->set
        && mobispot_parse_rfc3339((char *) to->value.data, to->value.len,
                                  &av->to)
           != MOBISPOT_OK)
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "to must be an RFC 3339 "
                                             "date-time from 1970 to 2100",
                                             "parameter", "to");
    }

    if (from->set != to->set) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "missing_parameter",
                                             "from and to go together",
                                             "parameter",
                                             from->set ? "to" : "from");
    }

    if (!from->set) {
        return NGX_OK;
    }

    if (av->from >= av->to) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "to must be later than from",
                                             "parameter", "to");
    }

    if (av->to - av->from > max) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             max == MOBISPOT_AVAIL_WINDOW_MAX
                                             ? "the window from-to is longer "
                                               "than 7 days"
                                             : "the window from-to is longer "
                                               "than 24 hours",
                                             "parameter", "to");
    }

    return NGX_OK;
}


/*
 * The UTC days of a window's booked counts: those its slots start in.  Its
 * first slot may start up to a slot length before "from", on the UTC day
 * before, in a zone whose UTC offset is not a multiple of the slot length
 * (Asia/Kolkata, 60-minute slots: one runs from 23:30Z to 00:30Z).
 */

void
ngx_http_mobispot_window_days(ngx_http_mobispot_avail_t *av)
{
    av->day0 = mobispot_floor_div(av->from - (MOBISPOT_SLOT_MAX - 1), 86400);
    av->ndays = (ngx_uint_t) (mobispot_floor_div(av->to - 1, 86400)
                              - av->day0 + 1);
}


/*
 * The UTC days a local day (a date, or today) can touch in any zone of
 * mobispot_time_zones: the site's zone is known only once it is read.
 * Two days for Europe/Brussels and UTC, the default.
 */

void
ngx_http_mobispot_avail_days(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av)
{
    time_t                          now;
    int64_t                         day, first, last, d;
    ngx_uint_t                      i;
    ngx_http_mobispot_tz_t               *z;
    ngx_http_mobispot_spots_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_spots_module);

    now = ngx_time();
    first = INT64_MAX;
    last = INT64_MIN;

    z = mcf->time_zones->elts;

    for (i = 0; i < mcf->time_zones->nelts; i++) {
        day = av->date;

        if (av->by_date == 2) {
            day = mobispot_floor_div(now + mobispot_tz_offset(&z[i].tz, now),
                                     86400);
        }

        d = mobispot_floor_div(mobispot_tz_local_to_utc(&z[i].tz,
                                                        day * 86400),
                               86400);
        first = ngx_min(first, d);

        d = mobispot_floor_div(mobispot_tz_local_to_utc(&z[i].tz,
                                                        (day + 1) * 86400)
                               - 1, 86400);
        last = ngx_max(last, d);
    }

    if (last - first + 1 > NGX_HTTP_MOBISPOT_DAYS_MAX) {
        /* zones from UTC-12 to UTC+14: cannot be */
        first = last - NGX_HTTP_MOBISPOT_DAYS_MAX + 1;
    }

    av->day0 = first;
    av->ndays = (ngx_uint_t) (last - first + 1);
}


/* decodes the info fields: tz, slot length, hours, capacities */

ngx_int_t
ngx_http_mobispot_site_prepare(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site)
{
    long long                  cap;
    ngx_str_t                 *f;
    ngx_uint_t                 k;
    redisReply                 fake;
    unsigned long              n;
    ngx_http_mobispot_info_t  *info;

    f = site->f;
    info = &site->info;

    info->tz = ngx_http_mobispot_tz_find(
                   ngx_http_get_module_main_conf(r,
                                                ngx_http_mobispot_spots_module),
                   f[NGX_HTTP_MOBISPOT_F_TZ].data,
                   f[NGX_HTTP_MOBISPOT_F_TZ].len);

    if (info->tz == NULL
        || mobispot_parse_uint((char *) f[NGX_HTTP_MOBISPOT_F_SLOT].data,
                               f[NGX_HTTP_MOBISPOT_F_SLOT].len, 60, &n)
           != MOBISPOT_OK
        || !mobispot_slot_minutes_valid((long) n)
        || mobispot_hours_decode((char *) f[NGX_HTTP_MOBISPOT_F_HOURS].data,
                                 f[NGX_HTTP_MOBISPOT_F_HOURS].len,
                                 &info->hours)
           != MOBISPOT_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: site \"%V\" has a bad info hash in redis "
                      "(time zone \"%V\" not in mobispot_time_zones?)",
                      &site->id, &f[NGX_HTTP_MOBISPOT_F_TZ]);
        return NGX_ERROR;
    }

    info->slot = (unsigned) n;
    info->name = f[NGX_HTTP_MOBISPOT_F_NAME];
    info->town = f[NGX_HTTP_MOBISPOT_F_TOWN];
    info->closed = f[NGX_HTTP_MOBISPOT_F_CLOSED];
    info->networks = f[NGX_HTTP_MOBISPOT_F_NETWORKS];

    for (k = 0; k < MOBISPOT_KINDS; k++) {
        info->cap[k] = 0;

        if (f[NGX_HTTP_MOBISPOT_F_CAP + k].data == NULL) {
            continue;
        }

        fake.type = REDIS_REPLY_STRING;
        fake.str = (char *) f[NGX_HTTP_MOBISPOT_F_CAP + k].data;
        fake.len = f[NGX_HTTP_MOBISPOT_F_CAP + k].len;

        if (mobispot_reply_integer(&fake, &cap) == MOBISPOT_OK && cap > 0) {
            info->cap[k] = cap;
        }
    }

    site->capacity = info->cap[av->kind];
    site->prepared = 1;

    return NGX_OK;
}


int64_t
ngx_http_mobispot_site_booked(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site, int64_t start)
{
    int64_t                      day;
    uint16_t                     minute;
    ngx_uint_t                   i, d;
    ngx_http_mobispot_booked_t  *b;

    day = mobispot_floor_div(start, 86400);

    if (day < av->day0 || day >= av->day0 + (int64_t) av->ndays) {
        return 0;
    }

    d = (ngx_uint_t) (day - av->day0);
    minute = (uint16_t) ((start - day * 86400) / 60);
    b = site->booked[d];

    for (i = 0; i < site->nbooked[d]; i++) {
        if (b[i].minute == minute) {
            return b[i].count;
        }
    }

    return 0;
}


/* the slots of a site over the window of the request, with "open" */

size_t
ngx_http_mobispot_site_slots(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site, mobispot_slot_t *slots, size_t max)
{
    size_t  n;

    n = mobispot_slots(site->info.tz, site->info.slot, av->from, av->to,
                       slots, max);

    ngx_http_mobispot_site_open(site, slots, n);

    return n;
}


/* "open" of each slot: its opening hours and closed dates */

void
ngx_http_mobispot_site_open(ngx_http_mobispot_site_t *site,
    mobispot_slot_t *slots, size_t n)
{
    mobispot_slots_open(slots, n, &site->info.hours,
                        (char *) site->info.closed.data,
                        site->info.closed.len);
}


/* free and open of a site over the window of the request */

void
ngx_http_mobispot_site_window(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site, mobispot_slot_t *slots, size_t n)
{
    size_t    i;
    int64_t   free;

    site->open = (n > 0);
    site->free = site->capacity;

    for (i = 0; i < n; i++) {
        if (!slots[i].open) {
            site->open = 0;
            break;
        }

        free = site->capacity
               - ngx_http_mobispot_site_booked(av, site, slots[i].start);

        if (free < site->free) {
            site->free = free;
        }
    }

    if (!site->open || site->free < 0) {
        site->free = 0;
    }
}
