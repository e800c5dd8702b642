
/*
 * Copyright (C) Mobispot
 *
 * The check of a site body (PUT {prefix}admin/sites/{id}): each field in
 * turn, generating as it goes the site document as stored and the fields
 * of its info hash.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_admin.h"


#define NGX_HTTP_MOBISPOT_NETWORKS_MAX   16
#define NGX_HTTP_MOBISPOT_RESOURCES_MAX  64
#define NGX_HTTP_MOBISPOT_AMENITIES_MAX  32
#define NGX_HTTP_MOBISPOT_CLOSED_MAX     366


static ngx_int_t ngx_http_mobispot_check_hours(ngx_http_mobispot_check_t *ck,
    yajl_val v, ngx_http_mobispot_admin_t *ad, yajl_gen doc);
static ngx_int_t ngx_http_mobispot_check_resources(
    ngx_http_mobispot_check_t *ck, yajl_val v, ngx_http_mobispot_admin_t *ad,
    yajl_gen doc);
static ngx_int_t ngx_http_mobispot_check_room_list(
    ngx_http_mobispot_check_t *ck, ngx_str_t *list, ngx_str_t *id);


static const ngx_http_mobispot_ids_rule_t  ngx_http_mobispot_site_networks = {
    NGX_HTTP_MOBISPOT_NETWORKS_MAX,
    "must be an array of network ids",
    "more than 16 networks",
    "not a valid network id",
    "network given twice"
};


static const char  *ngx_http_mobispot_days[7] = {
    "mon", "tue", "wed", "thu", "fri", "sat", "sun"
};


/*
 * Checks a site body and generates, as it goes, the site document as
 * stored (doc) and the fields of the info hash (ad).  NGX_DECLINED: ck
 * holds the error; NGX_ERROR: out of memory.
 */

ngx_int_t
ngx_http_mobispot_check_site(ngx_http_mobispot_check_t *ck, yajl_val body,
    ngx_http_mobispot_admin_t *ad, yajl_gen doc)
{
    u_char             *p;
    size_t              i, j, len;
    double              lat, lon;
    int64_t             slot, days[NGX_HTTP_MOBISPOT_CLOSED_MAX];
    yajl_val            v, e;
    ngx_str_t           s;
    ngx_int_t           rc;
    ngx_http_request_t *r;

    static const char  *known[] = {
        "name", "town", "address", "latitude", "longitude", "time_zone",
        "networks", "zone", "amenities", "slot_minutes", "opening_hours",
        "closed_dates", "resources", NULL
    };

    r = ck->request;

    rc = ngx_http_mobispot_check_keys(ck, body, "", known);
    if (rc != NGX_OK) {
        return rc;
    }

    if (yajl_gen_map_open(doc) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(doc, "id", &ad->id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mobispot_check_string(ck, mobispot_json_member(body, "name"),
                                       "name", 200, &ad->name) != NGX_OK
        || ngx_http_mobispot_check_string(ck,
                                          mobispot_json_member(body, "town"),
                                          "town", 100, &ad->town) != NGX_OK
        || ngx_http_mobispot_check_string(ck,
                                          mobispot_json_member(body, "address"),
                                          "address", 300, &s) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_mobispot_gen_str(doc, "name", &ad->name) != NGX_OK
        || ngx_http_mobispot_gen_str(doc, "town", &ad->town) != NGX_OK
        || ngx_http_mobispot_gen_str(doc, "address", &s) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* coordinates */

    if (ngx_http_mobispot_check_coordinate(ck, body, "latitude",
                                           mobispot_valid_lat,
                                           "latitude must be within "
                                           "-85.05112878..85.05112878", &lat)
        != NGX_OK
        || ngx_http_mobispot_check_coordinate(ck, body, "longitude",
                                              mobispot_valid_lon,
                                              "longitude must be within "
                                              "-180..180", &lon)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, 64);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ad->lat.data = p;
    ad->lat.len = mobispot_format_coordinate((char *) p, 32, lat);
    ad->lon.data = p + 32;
    ad->lon.len = mobispot_format_coordinate((char *) p + 32, 32, lon);

    if (ad->lat.len == 0 || ad->lon.len == 0) {
        return NGX_ERROR;
    }

    if (mobispot_json_string(doc, "latitude") != MOBISPOT_OK
        || yajl_gen_number(doc, (char *) ad->lat.data, ad->lat.len)
           != yajl_gen_status_ok
        || mobispot_json_string(doc, "longitude") != MOBISPOT_OK
        || yajl_gen_number(doc, (char *) ad->lon.data, ad->lon.len)
           != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    /* time zone: one of mobispot_time_zones */

    if (ngx_http_mobispot_check_string(ck,
                                       mobispot_json_member(body, "time_zone"),
                                       "time_zone", MOBISPOT_TZ_NAME_MAX,
                                       &ad->tz)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_mobispot_tz_find(
            ngx_http_get_module_main_conf(r, ngx_http_mobispot_spots_module),
            ad->tz.data, ad->tz.len) == NULL)
    {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "unknown time zone (see "
                                            "mobispot_time_zones)",
                                            "time_zone");
    }

    if (ngx_http_mobispot_gen_str(doc, "time_zone", &ad->tz) != NGX_OK) {
        return NGX_ERROR;
    }

    /* networks: ids, checked against Redis before the write */

    v = mobispot_json_member(body, "networks");

    if (mobispot_json_string(doc, "networks") != MOBISPOT_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_mobispot_check_ids(ck, v, "networks",
                                     &ngx_http_mobispot_site_networks, doc,
                                     &ad->networks);
    if (rc != NGX_OK) {
        return rc;
    }

    ad->nets = v;

    /*
     * zone: optional, an id; the SSO gateway refuses a company token
     * limited to zones at a site outside them (and at a site without one)
     */

    v = mobispot_json_member(body, "zone");

    if (v != NULL) {
        if (!YAJL_IS_STRING(v)) {
            return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                "must be a string", "zone");
        }

        ad->zone.len = ngx_strlen(v->u.string);
        ad->zone.data = (u_char *) v->u.string;

        if (!mobispot_id_valid(v->u.string, ad->zone.len)) {
            return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "not a valid zone id", "zone");
        }

        if (ngx_http_mobispot_gen_str(doc, "zone", &ad->zone) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* amenities: optional short strings */

    v = mobispot_json_member(body, "amenities");

    if (mobispot_json_string(doc, "amenities") != MOBISPOT_OK
        || yajl_gen_array_open(doc) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    if (v != NULL) {
        if (ngx_http_mobispot_check_array(ck, v, "amenities",
                                          "must be an array of strings", 0,
                                          NGX_HTTP_MOBISPOT_AMENITIES_MAX,
                                          "more than 32 amenities")
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        for (i = 0; i < v->u.array.len; i++) {
            p = ngx_pnalloc(r->pool, 32);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(p, "amenities[%uz]%Z", i);

            if (ngx_http_mobispot_check_string(ck, v->u.array.values[i],
                                               (char *) p, 64, &s)
                != NGX_OK)
            {
                return NGX_DECLINED;
            }

            if (yajl_gen_string(doc, s.data, s.len) != yajl_gen_status_ok) {
                return NGX_ERROR;
            }
        }
    }

    if (yajl_gen_array_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    /* slot length */

    slot = 30;
    v = mobispot_json_member(body, "slot_minutes");

    if (v != NULL) {
        if (ngx_http_mobispot_check_int(ck, v, "slot_minutes", 1, 1440, &slot)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        if (!mobispot_slot_minutes_valid((long) slot)) {
            return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "slot_minutes must be 15, 20, "
                                                "30 or 60", "slot_minutes");
        }
    }

    p = ngx_pnalloc(r->pool, 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ad->slot.data = p;
    ad->slot.len = ngx_sprintf(p, "%L", slot) - p;

    if (mobispot_json_string(doc, "slot_minutes") != MOBISPOT_OK
        || yajl_gen_integer(doc, slot) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    /* opening hours */

    rc = ngx_http_mobispot_check_hours(ck,
                                       mobispot_json_member(body,
                                                            "opening_hours"),
                                       ad, doc);
    if (rc != NGX_OK) {
        return rc;
    }

    /* closed dates: optional, sorted and deduplicated in the document */

    v = mobispot_json_member(body, "closed_dates");
    len = 0;

    if (v != NULL) {
        if (ngx_http_mobispot_check_array(ck, v, "closed_dates",
                                          "must be an array of dates", 0,
                                          NGX_HTTP_MOBISPOT_CLOSED_MAX,
                                          "more than 366 dates")
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        for (i = 0; i < v->u.array.len; i++) {
            e = v->u.array.values[i];

            if (!YAJL_IS_STRING(e)) {
                return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                    "must be a string",
                                                    "closed_dates[%uz]%Z", i);
            }

            if (mobispot_parse_date(e->u.string, ngx_strlen(e->u.string),
                                    &days[len])
                != MOBISPOT_OK)
            {
                return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "must be a date YYYY-MM-DD "
                                                "from 1970 to 2100",
                                                "closed_dates[%uz]%Z", i);
            }

            for (j = 0; j < len && days[j] != days[len]; j++) {
                /* void */
            }

            if (j == len) {
                len++;
            }
        }
    }

    ad->closed.data = ngx_pnalloc(r->pool, len * (MOBISPOT_DATE_LEN + 1) + 1);
    if (ad->closed.data == NULL) {
        return NGX_ERROR;
    }

    p = ad->closed.data;

    if (mobispot_json_string(doc, "closed_dates") != MOBISPOT_OK
        || yajl_gen_array_open(doc) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < len; i++) {
        if (i) {
            *p++ = ',';
        }

        (void) mobispot_format_date(days[i], (char *) p);

        if (yajl_gen_string(doc, p, MOBISPOT_DATE_LEN) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }

        p += MOBISPOT_DATE_LEN;
    }

    ad->closed.len = p - ad->closed.data;

    if (yajl_gen_array_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    /* resources */

    rc = ngx_http_mobispot_check_resources(ck,
                                           mobispot_json_member(body,
                                                                "resources"),
                                           ad, doc);
    if (rc != NGX_OK) {
        return rc;
    }

    if (yajl_gen_map_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * "opening_hours": {"mon": ["08:30-12:00", "13:00-18:00"], ...}: local
 * wall-clock intervals, in order and apart; a missing day is closed
 */

static ngx_int_t
ngx_http_mobispot_check_hours(ngx_http_mobispot_check_t *ck, yajl_val v,
    ngx_http_mobispot_admin_t *ad, yajl_gen doc)
{
    size_t               i;
    u_char              *p;
    yajl_val             day, e;
    ngx_int_t            rc;
    ngx_uint_t           d;
    mobispot_hours_t     h;
    mobispot_interval_t  iv;

    if (v == NULL || !YAJL_IS_OBJECT(v)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            v ? "must be an object of "
                                                "weekdays"
                                              : "missing field",
                                            "opening_hours");
    }

    rc = ngx_http_mobispot_check_keys(ck, v, "opening_hours.",
                                      ngx_http_mobispot_days);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_memzero(&h, sizeof(mobispot_hours_t));

    if (mobispot_json_string(doc, "opening_hours") != MOBISPOT_OK
        || yajl_gen_map_open(doc) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    for (d = 0; d < 7; d++) {
        day = mobispot_json_member(v, ngx_http_mobispot_days[d]);

        if (mobispot_json_string(doc, ngx_http_mobispot_days[d])
            != MOBISPOT_OK
            || yajl_gen_array_open(doc) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }

        if (day != NULL && !YAJL_IS_ARRAY(day)) {
            return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                "must be an array of "
                                                "\"HH:MM-HH:MM\"",
                                                "opening_hours.%s%Z",
                                                ngx_http_mobispot_days[d]);
        }

        for (i = 0; day && i < day->u.array.len; i++) {
            e = day->u.array.values[i];

            if (!YAJL_IS_STRING(e)) {
                return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                    "must be a string",
                                                    "opening_hours.%s[%uz]%Z",
                                                    ngx_http_mobispot_days[d],
                                                    i);
            }

            if (mobispot_hours_parse_interval(e->u.string,
                                              ngx_strlen(e->u.string), &iv)
                != MOBISPOT_OK)
            {
                return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "must be \"HH:MM-HH:MM\", "
                                                "start before end",
                                                "opening_hours.%s[%uz]%Z",
                                                ngx_http_mobispot_days[d], i);
            }

            if (h.n[d] == MOBISPOT_HOURS_MAX
                || (h.n[d] > 0 && h.iv[d][h.n[d] - 1].end >= iv.start))
            {
                return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "at most 4 intervals a day, "
                                                "in order and apart",
                                                "opening_hours.%s[%uz]%Z",
                                                ngx_http_mobispot_days[d], i);
            }

            h.iv[d][h.n[d]++] = iv;

            if (yajl_gen_string(doc, (u_char *) e->u.string, 11)
                != yajl_gen_status_ok)
            {
                return NGX_ERROR;
            }
        }

        if (yajl_gen_array_close(doc) != yajl_gen_status_ok) {
            return NGX_ERROR;
        }
    }

    if (yajl_gen_map_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(ck->request->pool, 7 * MOBISPOT_HOURS_MAX * 10 + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ad->hours.data = p;
    ad->hours.len = mobispot_hours_encode(&h, (char *) p,
                                          7 * MOBISPOT_HOURS_MAX * 10 + 8);

    return ad->hours.len ? NGX_OK : NGX_ERROR;
}


/*
 * "resources": [{"kind":"desk","capacity":24},
 *               {"kind":"meeting_room","id":"r1","name":"..","seats":8}]
 */

static ngx_int_t
ngx_http_mobispot_check_resources(ngx_http_mobispot_check_t *ck, yajl_val v,
    ngx_http_mobispot_admin_t *ad, yajl_gen doc)
{
    int          kind;
    u_char       field[64], *p;
    size_t       i, j;
    int64_t      n;
    yajl_val     e, x;
    ngx_int_t    rc;
    ngx_str_t    s, id;

    static const char  *known_desk[] = { "kind", "capacity", NULL };
    static const char  *known_room[] = { "kind", "id", "name", "seats",
                                         "company_only", NULL };

    if (ngx_http_mobispot_check_array(ck, v, "resources", "must be an array",
                                      1, NGX_HTTP_MOBISPOT_RESOURCES_MAX,
                                      "a site has 1 to 64 resources")
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (mobispot_json_string(doc, "resources") != MOBISPOT_OK
        || yajl_gen_array_open(doc) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < v->u.array.len; i++) {
        e = v->u.array.values[i];

        if (!YAJL_IS_OBJECT(e)) {
            return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                "must be an object",
                                                "resources[%uz]%Z", i);
        }

        p = ngx_sprintf(field, "resources[%uz].kind%Z", i);

        if (ngx_http_mobispot_check_string(ck,
                                           mobispot_json_member(e, "kind"),
                                           (char *) field, 32, &s)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        kind = mobispot_kind_parse((char *) s.data, s.len);

        if (kind < 0) {
            return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "kind must be desk, "
                                                "meeting_room, "
                                                "conference_room or "
                                                "training_room",
                                                "%s", field);
        }

        p = ngx_sprintf(field, "resources[%uz].", i);
        *p = '\0';

        rc = ngx_http_mobispot_check_keys(ck, e, (char *) field,
                                          kind == MOBISPOT_KIND_DESK
                                          ? known_desk : known_room);
        if (rc != NGX_OK) {
            return rc;
        }

        if (yajl_gen_map_open(doc) != yajl_gen_status_ok
            || mobispot_json_key_string(doc, "kind",
                                        mobispot_kind_names[kind])
               != MOBISPOT_OK)
        {
            return NGX_ERROR;
        }

        if (kind == MOBISPOT_KIND_DESK) {
            if (ad->cap[MOBISPOT_KIND_DESK]) {
                return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "a site has one desk pool",
                                                "resources[%uz]%Z", i);
            }

            ngx_sprintf(p, "capacity%Z");

            if (ngx_http_mobispot_check_int(ck,
                                            mobispot_json_member(e, "capacity"),
                                            (char *) field, 1, 10000, &n)
                != NGX_OK)
            {
                return NGX_DECLINED;
            }

            ad->cap[MOBISPOT_KIND_DESK] = n;

            if (mobispot_json_string(doc, "capacity") != MOBISPOT_OK
                || yajl_gen_integer(doc, n) != yajl_gen_status_ok
                || yajl_gen_map_close(doc) != yajl_gen_status_ok)
            {
                return NGX_ERROR;
            }

            continue;
        }

        ngx_sprintf(p, "id%Z");

        if (ngx_http_mobispot_check_string(ck,
                                           mobispot_json_member(e, "id"),
                                           (char *) field, 64, &id)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        if (!mobispot_id_valid((char *) id.data, id.len)) {
            return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "not a valid room id",
                                                "%s", field);
        }

        for (j = 0; j < i; j++) {
            x = mobispot_json_member(v->u.array.values[j], "id");

            if (x && YAJL_IS_STRING(x)
                && ngx_strcmp(x->u.string, (char *) id.data) == 0)
            {
                return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "room id given twice",
                                                "%s", field);
            }
        }

        ngx_sprintf(p, "name%Z");

        if (ngx_http_mobispot_check_string(ck,
                                           mobispot_json_member(e, "name"),
                                           (char *) field, 100, &s)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        ngx_sprintf(p, "seats%Z");

        if (ngx_http_mobispot_check_int(ck,
                                        mobispot_json_member(e, "seats"),
                                        (char *) field, 1, 1000, &n)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        x = mobispot_json_member(e, "company_only");

        if (x != NULL && !YAJL_IS_TRUE(x) && !YAJL_IS_FALSE(x)) {
            return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                "must be true or false",
                                                "resources[%uz].company_only"
                                                "%Z", i);
        }

        ad->cap[kind]++;

        if (x != NULL && YAJL_IS_TRUE(x)
            && ngx_http_mobispot_check_room_list(ck, &ad->company_rooms[kind],
                                                 &id)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_mobispot_check_room_list(ck, &ad->rooms[kind], &id)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_mobispot_gen_str(doc, "id", &id) != NGX_OK
            || ngx_http_mobispot_gen_str(doc, "name", &s) != NGX_OK
            || mobispot_json_string(doc, "seats") != MOBISPOT_OK
            || yajl_gen_integer(doc, n) != yajl_gen_status_ok
            || (x != NULL && YAJL_IS_TRUE(x)
                && (mobispot_json_string(doc, "company_only") != MOBISPOT_OK
                    || yajl_gen_bool(doc, 1) != yajl_gen_status_ok))
            || yajl_gen_map_close(doc) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }
    }

    if (yajl_gen_array_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a room id added to a comma-separated list (room for all of a site's) */

static ngx_int_t
ngx_http_mobispot_check_room_list(ngx_http_mobispot_check_t *ck,
    ngx_str_t *list, ngx_str_t *id)
{
    if (list->data == NULL) {
        list->data = ngx_pnalloc(ck->request->pool,
                                 NGX_HTTP_MOBISPOT_RESOURCES_MAX
                                 * (MOBISPOT_ID_MAX + 1));
        if (list->data == NULL) {
            return NGX_ERROR;
        }

    } else {
        list->data[list->len++] = ',';
    }

    list->len = ngx_cpymem(list->data + list->len, id->data, id->len)
                - list->data;

    return NGX_OK;
}
