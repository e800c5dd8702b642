
/*
 * Copyright (C) Mobispot
 *
 * The admin API of the catalogue:
 *
 *     PUT    {prefix}admin/networks/{id}
 *     PUT    {prefix}admin/sites/{id}
 *     DELETE {prefix}admin/sites/{id}
 *
 * Bodies are parsed with yajl and checked field by field before anything
 * is written: a wrong type is a 400, a value out of range or unknown
 * (time zone, network) a 422, each naming the field.  The writes are in
 * ngx_http_mobispot_admin_write.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_admin.h"


#define NGX_HTTP_MOBISPOT_NETWORKS_MAX   16
#define NGX_HTTP_MOBISPOT_RESOURCES_MAX  64
#define NGX_HTTP_MOBISPOT_AMENITIES_MAX  32
#define NGX_HTTP_MOBISPOT_CLOSED_MAX     366


static yajl_val ngx_http_mobispot_admin_body(ngx_http_request_t *r,
    ngx_http_mobispot_check_t *ck);
static ngx_http_mobispot_admin_t *ngx_http_mobispot_admin_begin(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx, ngx_int_t *rc);
static ngx_http_mobispot_admin_t *ngx_http_mobispot_admin_put_begin(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx,
    ngx_http_mobispot_check_t *ck, const char *id_rule, yajl_val *body,
    ngx_int_t *rc);
static void ngx_http_mobispot_admin_tree_cleanup(void *data);
static ngx_int_t ngx_http_mobispot_check_fail(ngx_http_mobispot_check_t *ck,
    ngx_uint_t status, const char *message, const char *fmt, ...);
static ngx_int_t ngx_http_mobispot_check_send(ngx_http_mobispot_check_t *ck);
static ngx_int_t ngx_http_mobispot_check_keys(ngx_http_mobispot_check_t *ck,
    yajl_val obj, const char *prefix, const char **known);
static yajl_val ngx_http_mobispot_member(yajl_val obj, const char *key);
static ngx_int_t ngx_http_mobispot_check_string(ngx_http_mobispot_check_t *ck,
    yajl_val v, const char *field, size_t max, ngx_str_t *out);
static ngx_int_t ngx_http_mobispot_check_array(ngx_http_mobispot_check_t *ck,
    yajl_val v, const char *field, const char *not_array, size_t min,
    size_t max, const char *bad_size);
static ngx_int_t ngx_http_mobispot_check_coordinate(
    ngx_http_mobispot_check_t *ck, yajl_val body, const char *field,
    int (*valid)(double), const char *range, double *out);
static ngx_int_t ngx_http_mobispot_check_int(ngx_http_mobispot_check_t *ck,
    yajl_val v, const char *field, int64_t min, int64_t max, int64_t *out);
static ngx_int_t ngx_http_mobispot_check_site(ngx_http_mobispot_check_t *ck,
    yajl_val body, ngx_http_mobispot_admin_t *ad, yajl_gen doc);
static ngx_int_t ngx_http_mobispot_check_hours(ngx_http_mobispot_check_t *ck,
    yajl_val v, ngx_http_mobispot_admin_t *ad, yajl_gen doc);
static ngx_int_t ngx_http_mobispot_check_resources(
    ngx_http_mobispot_check_t *ck, yajl_val v, ngx_http_mobispot_admin_t *ad,
    yajl_gen doc);
static ngx_int_t ngx_http_mobispot_gen_str(yajl_gen g, const char *key,
    ngx_str_t *value);
static ngx_int_t ngx_http_mobispot_gen_copy(ngx_http_request_t *r,
    yajl_gen g, ngx_str_t *out);

static ngx_int_t ngx_http_mobispot_admin_nets_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);


static const char  *ngx_http_mobispot_days[7] = {
    "mon", "tue", "wed", "thu", "fri", "sat", "sun"
};


static void
ngx_http_mobispot_admin_tree_cleanup(void *data)
{
    yajl_tree_free(data);
}


/* the body as a JSON object, or NULL with ck filled in */

static yajl_val
ngx_http_mobispot_admin_body(ngx_http_request_t *r,
    ngx_http_mobispot_check_t *ck)
{
    u_char                 *p;
    size_t                  len;
    yajl_val                v;
    ngx_buf_t              *b;
    ngx_pool_cleanup_t     *cln;
    mobispot_json_fault_t   fault;

    len = 0;
    b = NULL;

    if (r->request_body && r->request_body->bufs) {
        b = r->request_body->bufs->buf;
        len = b->last - b->pos;
    }

    if (len == 0) {
        (void) ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "the request needs a JSON body",
                                            NULL);
        ck->code = "malformed_json";
        return NULL;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (p == NULL || cln == NULL) {
        return NULL;
    }

    ngx_memcpy(p, b->pos, len);
    p[len] = '\0';

    /*
     * Only strict JSON goes on to yajl, which takes comments, "\u0000"
     * (that C strings then cut short), lone surrogate escapes and UTF-8
     * that RFC 3629 forbids.  A fault in the content of a string value is
     * the value's (422 naming its member), any other one the body's.
     */

    if (mobispot_json_check_fault((char *) p, len, &fault) != MOBISPOT_OK) {
        if (fault.in_string && fault.member != NULL) {
            (void) ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                fault.reason, "%*s",
                                                fault.member_len,
                                                fault.member);
            return NULL;
        }

        (void) ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            fault.reason, NULL);
        ck->code = "malformed_json";
        return NULL;
    }

    v = yajl_tree_parse((char *) p, NULL, 0);

    if (v == NULL) {
        (void) ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "the body is not valid JSON",
                                            NULL);
        ck->code = "malformed_json";
        return NULL;
    }

    cln->handler = ngx_http_mobispot_admin_tree_cleanup;
    cln->data = v;

    if (!YAJL_IS_OBJECT(v)) {
        (void) ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "the body must be a JSON object",
                                            NULL);
        return NULL;
    }

    return v;
}


/* records the first error; 400 invalid_field or 422 invalid_value */

static ngx_int_t
ngx_http_mobispot_check_fail(ngx_http_mobispot_check_t *ck, ngx_uint_t status,
    const char *message, const char *fmt, ...)
{
    u_char   *p, *end;
    size_t    n;
    va_list   args;

    ck->status = status;
    ck->code = (status == NGX_HTTP_BAD_REQUEST) ? "invalid_field"
                                                : "invalid_value";
    ck->message = message;
    ck->field = NULL;

    if (fmt == NULL) {
        return NGX_DECLINED;
    }

    ck->field = ngx_pnalloc(ck->request->pool, 128);
    if (ck->field == NULL) {
        return NGX_DECLINED;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(ck->field, ck->field + 127, fmt, args);
    va_end(args);

    /* a name cut short ends at a whole character: it is sent as JSON */

    end = p;

    for (p = ck->field; p < end; p += n) {
        n = mobispot_utf8_char(p, end - p);

        if (n == 0 || *p == '\0') {
            break;
        }
    }

    *p = '\0';

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mobispot_check_send(ngx_http_mobispot_check_t *ck)
{
    if (ck->message == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_spots_error(ck->request, ck->status, ck->code,
                                         ck->message,
                                         ck->field ? "field" : NULL,
                                         (char *) ck->field);
}


static yajl_val
ngx_http_mobispot_member(yajl_val obj, const char *key)
{
    size_t  i;

    for (i = 0; i < obj->u.object.len; i++) {
        if (ngx_strcmp(obj->u.object.keys[i], key) == 0) {
            return obj->u.object.values[i];
        }
    }

    return NULL;
}


/* unknown or repeated members are refused: they are typos */

static ngx_int_t
ngx_http_mobispot_check_keys(ngx_http_mobispot_check_t *ck, yajl_val obj,
    const char *prefix, const char **known)
{
    size_t       i, j;
    const char **k;

    for (i = 0; i < obj->u.object.len; i++) {
        for (k = known; *k; k++) {
            if (ngx_strcmp(obj->u.object.keys[i], *k) == 0) {
                break;
            }
        }

        if (*k == NULL) {
            return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                "unknown field", "%s%s%Z",
                                                prefix,
                                                obj->u.object.keys[i]);
        }

        for (j = 0; j < i; j++) {
            if (ngx_strcmp(obj->u.object.keys[i], obj->u.object.keys[j])
                == 0)
            {
                return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                    "field given twice",
                                                    "%s%s%Z", prefix,
                                                    obj->u.object.keys[i]);
            }
        }
    }

    return NGX_OK;
}


/* a string of 1..max characters (well-formed: the body was checked) */

static ngx_int_t
ngx_http_mobispot_check_string(ngx_http_mobispot_check_t *ck, yajl_val v,
    const char *field, size_t max, ngx_str_t *out)
{
    if (v == NULL) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "missing field", "%s", field);
    }

    if (!YAJL_IS_STRING(v)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "must be a string", "%s", field);
    }

    out->data = (u_char *) v->u.string;
    out->len = ngx_strlen(v->u.string);

    /* max is in characters, as OpenAPI's maxLength */

    if (out->len == 0 || mobispot_utf8_length(v->u.string, out->len) > max) {
        return ngx_http_mobispot_check_fail(ck,
                                            NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "empty or too long", "%s", field);
    }

    return NGX_OK;
}


/*
 * An array of min to max values; a missing one, or another type, is a 400
 * (the message not_array), a size out of bounds a 422 (bad_size).
 */

static ngx_int_t
ngx_http_mobispot_check_array(ngx_http_mobispot_check_t *ck, yajl_val v,
    const char *field, const char *not_array, size_t min, size_t max,
    const char *bad_size)
{
    if (v == NULL || !YAJL_IS_ARRAY(v)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            v ? not_array : "missing field",
                                            "%s", field);
    }

    if (v->u.array.len < min || v->u.array.len > max) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            bad_size, "%s", field);
    }

    return NGX_OK;
}


/* a member that is a number (400 otherwise) that valid() takes (422) */

static ngx_int_t
ngx_http_mobispot_check_coordinate(ngx_http_mobispot_check_t *ck,
    yajl_val body, const char *field, int (*valid)(double),
    const char *range, double *out)
{
    yajl_val  v;

    v = ngx_http_mobispot_member(body, field);

    if (v == NULL || !YAJL_IS_NUMBER(v) || !YAJL_IS_DOUBLE(v)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            v ? "must be a number"
                                              : "missing field",
                                            "%s", field);
    }

    *out = YAJL_GET_DOUBLE(v);

    if (!valid(*out)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            range, "%s", field);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_check_int(ngx_http_mobispot_check_t *ck, yajl_val v,
    const char *field, int64_t min, int64_t max, int64_t *out)
{
    if (v == NULL) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "missing field", "%s", field);
    }

    if (!YAJL_IS_INTEGER(v) || ngx_strchr(v->u.number.r, '.')
        || ngx_strchr(v->u.number.r, 'e') || ngx_strchr(v->u.number.r, 'E'))
    {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "must be an integer", "%s",
                                            field);
    }

    if (YAJL_GET_INTEGER(v) < min || YAJL_GET_INTEGER(v) > max) {
        return ngx_http_mobispot_check_fail(ck,
                                            NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "out of range", "%s", field);
    }

    *out = YAJL_GET_INTEGER(v);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_gen_str(yajl_gen g, const char *key, ngx_str_t *value)
{
    if (mobispot_json_string(g, key) != MOBISPOT_OK
        || yajl_gen_string(g, value->data, value->len) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_gen_copy(ngx_http_request_t *r, yajl_gen g, ngx_str_t *out)
{
    size_t                len;
    const unsigned char  *buf;

    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, buf, len);
    out->len = len;

    return NGX_OK;
}


/*
 * Checks a site body and generates, as it goes, the site document as
 * stored (doc) and the fields of the info hash (ad).  NGX_DECLINED: ck
 * holds the error; NGX_ERROR: out of memory.
 */

static ngx_int_t
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

    if (ngx_http_mobispot_check_string(ck, ngx_http_mobispot_member(body,
                                                                    "name"),
                                       "name", 200, &ad->name) != NGX_OK
        || ngx_http_mobispot_check_string(ck,
                                          ngx_http_mobispot_member(body,
                                                                   "town"),
                                          "town", 100, &ad->town) != NGX_OK
        || ngx_http_mobispot_check_string(ck,
                                          ngx_http_mobispot_member(body,
                                                                   "address"),
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
                                       ngx_http_mobispot_member(body,
                                                                "time_zone"),
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

    v = ngx_http_mobispot_member(body, "networks");

    if (ngx_http_mobispot_check_array(ck, v, "networks",
                                      "must be an array of network ids", 0,
                                      NGX_HTTP_MOBISPOT_NETWORKS_MAX,
                                      "more than 16 networks")
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ad->nets = v;
    len = 0;

    if (mobispot_json_string(doc, "networks") != MOBISPOT_OK
        || yajl_gen_array_open(doc) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < v->u.array.len; i++) {
        e = v->u.array.values[i];

        if (!YAJL_IS_STRING(e)) {
            return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                "must be a string",
                                                "networks[%uz]%Z", i);
        }

        if (!mobispot_id_valid(e->u.string, ngx_strlen(e->u.string))) {
            return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "not a valid network id",
                                                "networks[%uz]%Z", i);
        }

        for (j = 0; j < i; j++) {
            if (ngx_strcmp(e->u.string, v->u.array.values[j]->u.string) == 0)
            {
                return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "network given twice",
                                                "networks[%uz]%Z", i);
            }
        }

        if (mobispot_json_string(doc, e->u.string) != MOBISPOT_OK) {
            return NGX_ERROR;
        }

        len += ngx_strlen(e->u.string) + 1;
    }

    if (yajl_gen_array_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    ad->networks.data = ngx_pnalloc(r->pool, len + 1);
    if (ad->networks.data == NULL) {
        return NGX_ERROR;
    }

    p = ad->networks.data;

    for (i = 0; i < v->u.array.len; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, v->u.array.values[i]->u.string,
                       ngx_strlen(v->u.array.values[i]->u.string));
    }

    ad->networks.len = p - ad->networks.data;

    /*
     * zone: optional, an id; the SSO gateway refuses a company token
     * limited to zones at a site outside them (and at a site without one)
     */

    v = ngx_http_mobispot_member(body, "zone");

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

    v = ngx_http_mobispot_member(body, "amenities");

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
    v = ngx_http_mobispot_member(body, "slot_minutes");

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
                                       ngx_http_mobispot_member(body,
                                                            "opening_hours"),
                                       ad, doc);
    if (rc != NGX_OK) {
        return rc;
    }

    /* closed dates: optional, sorted and deduplicated in the document */

    v = ngx_http_mobispot_member(body, "closed_dates");
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
                                           ngx_http_mobispot_member(body,
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
        day = ngx_http_mobispot_member(v, ngx_http_mobispot_days[d]);

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
    static const char  *known_room[] = { "kind", "id", "name", "seats", NULL };

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
                                           ngx_http_mobispot_member(e, "kind"),
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
                                            ngx_http_mobispot_member(e,
                                                                "capacity"),
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
                                           ngx_http_mobispot_member(e, "id"),
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
            x = ngx_http_mobispot_member(v->u.array.values[j], "id");

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
                                           ngx_http_mobispot_member(e, "name"),
                                           (char *) field, 100, &s)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        ngx_sprintf(p, "seats%Z");

        if (ngx_http_mobispot_check_int(ck,
                                        ngx_http_mobispot_member(e, "seats"),
                                        (char *) field, 1, 1000, &n)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        ad->cap[kind]++;

        if (ngx_http_mobispot_gen_str(doc, "id", &id) != NGX_OK
            || ngx_http_mobispot_gen_str(doc, "name", &s) != NGX_OK
            || mobispot_json_string(doc, "seats") != MOBISPOT_OK
            || yajl_gen_integer(doc, n) != yajl_gen_status_ok
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


/* a command from its arguments, copied into r->pool as ngx_str_t * */

ngx_int_t
ngx_http_mobispot_admin_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_uint_t argc, ...)
{
    va_list        args;
    size_t        *argvlen;
    ngx_str_t     *s;
    ngx_uint_t     i;
    const char   **argv;

    argv = ngx_palloc(r->pool, argc * sizeof(char *));
    argvlen = ngx_palloc(r->pool, argc * sizeof(size_t));

    if (argv == NULL || argvlen == NULL) {
        return NGX_ERROR;
    }

    va_start(args, argc);

    for (i = 0; i < argc; i++) {
        s = va_arg(args, ngx_str_t *);
        argv[i] = (const char *) s->data;
        argvlen[i] = s->len;
    }

    va_end(args);

    cmd->argc = (int) argc;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}


/*
 * The start of an admin write: the role check, and the state of the
 * request with the id of the route (not checked yet).  Returns the state,
 * or NULL with *rc set to what the handler returns (an answer was sent, or
 * the request failed).
 */

static ngx_http_mobispot_admin_t *
ngx_http_mobispot_admin_begin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_int_t *rc)
{
    ngx_http_mobispot_admin_t  *ad;

    /* the router has checked the caller (mobispot_admin) */

    *rc = NGX_OK;

    ad = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_admin_t));
    if (ad == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    ctx->data = ad;
    ad->id = ctx->params[0];

    return ad;
}


/*
 * The start of an admin PUT: as above, then the id checked and the body
 * parsed.
 */

static ngx_http_mobispot_admin_t *
ngx_http_mobispot_admin_put_begin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_check_t *ck,
    const char *id_rule, yajl_val *body, ngx_int_t *rc)
{
    ngx_http_mobispot_admin_t  *ad;

    ad = ngx_http_mobispot_admin_begin(r, ctx, rc);
    if (ad == NULL) {
        return NULL;
    }

    if (!mobispot_id_valid((char *) ad->id.data, ad->id.len)) {
        *rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_id", id_rule,
                                            "parameter", "id");
        return NULL;
    }

    *body = ngx_http_mobispot_admin_body(r, ck);
    if (*body == NULL) {
        *rc = ngx_http_mobispot_check_send(ck);
        return NULL;
    }

    return ad;
}


/* PUT {prefix}admin/sites/{id} */

ngx_int_t
ngx_http_mobispot_admin_site_put(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    size_t                          i;
    yajl_gen                        doc, sum;
    yajl_val                        body;
    ngx_int_t                       rc;
    const char                    **argv;
    size_t                         *argvlen;
    ngx_http_mobispot_check_t       ck;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t   cmd;

    static ngx_str_t  passports = ngx_string(NGX_HTTP_MOBISPOT_KEY_PASSPORTS);
    static const ngx_http_mobispot_api_keys_t  keys = { &passports, 1,
                                                        NULL, 0 };

    ngx_memzero(&ck, sizeof(ngx_http_mobispot_check_t));
    ck.request = r;

    ad = ngx_http_mobispot_admin_put_begin(r, ctx, &ck,
                                           "a site id matches "
                                           "[a-z0-9][a-z0-9_-]{0,63}",
                                           &body, &rc);
    if (ad == NULL) {
        return rc;
    }

    doc = ngx_http_mobispot_api_gen(r);
    sum = ngx_http_mobispot_api_gen(r);

    if (doc == NULL || sum == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mobispot_check_site(&ck, body, ad, doc);

    if (rc == NGX_DECLINED) {
        return ngx_http_mobispot_check_send(&ck);
    }

    if (rc != NGX_OK || ngx_http_mobispot_gen_copy(r, doc, &ad->doc) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the summary in ms:sites: {"name","town","networks":[..]} */

    if (yajl_gen_map_open(sum) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(sum, "name", &ad->name) != NGX_OK
        || ngx_http_mobispot_gen_str(sum, "town", &ad->town) != NGX_OK
        || mobispot_json_string(sum, "networks") != MOBISPOT_OK
        || yajl_gen_array_open(sum) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < ad->nets->u.array.len; i++) {
        if (mobispot_json_string(sum, ad->nets->u.array.values[i]->u.string)
            != MOBISPOT_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (yajl_gen_array_close(sum) != yajl_gen_status_ok
        || yajl_gen_map_close(sum) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_copy(r, sum, &ad->summary) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ad->nets->u.array.len == 0) {
        return ngx_http_mobispot_admin_site_write(r, ctx);
    }

    /* the networks must exist: one HMGET, then the write */

    argv = ngx_palloc(r->pool, (2 + ad->nets->u.array.len) * sizeof(char *));
    argvlen = ngx_palloc(r->pool,
                         (2 + ad->nets->u.array.len) * sizeof(size_t));

    if (argv == NULL || argvlen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "HMGET";
    argvlen[0] = sizeof("HMGET") - 1;
    argv[1] = NGX_HTTP_MOBISPOT_KEY_PASSPORTS;
    argvlen[1] = sizeof(NGX_HTTP_MOBISPOT_KEY_PASSPORTS) - 1;

    for (i = 0; i < ad->nets->u.array.len; i++) {
        argv[2 + i] = ad->nets->u.array.values[i]->u.string;
        argvlen[2 + i] = ngx_strlen(argv[2 + i]);
    }

    cmd.argc = (int) (2 + ad->nets->u.array.len);
    cmd.argv = argv;
    cmd.argvlen = argvlen;

    return ngx_http_mobispot_api_call(r, ctx, &cmd, 1, &keys,
                                      ngx_http_mobispot_admin_nets_done);
}


/* the networks named by a site exist: one passport each */

static ngx_int_t
ngx_http_mobispot_admin_nets_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    u_char                     *field;
    size_t                      i;
    ngx_http_mobispot_admin_t  *ad;

    ad = ctx->data;

    if (replies[0].type != REDIS_REPLY_ARRAY
        || replies[0].elements != ad->nets->u.array.len)
    {
        return ngx_http_mobispot_api_bad_reply(r, "HMGET of networks");
    }

    for (i = 0; i < replies[0].elements; i++) {
        if (replies[0].element[i].type == REDIS_REPLY_STRING) {
            continue;
        }

        field = ngx_pnalloc(r->pool, 32);
        if (field == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(field, "networks[%uz]%Z", i);

        return ngx_http_mobispot_spots_error(r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                             "invalid_value",
                                             "unknown network", "field",
                                             (char *) field);
    }

    return ngx_http_mobispot_admin_site_write(r, ctx);
}


/* DELETE {prefix}admin/sites/{id} */

ngx_int_t
ngx_http_mobispot_admin_site_delete(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_mobispot_admin_t  *ad;

    ad = ngx_http_mobispot_admin_begin(r, ctx, &rc);
    if (ad == NULL) {
        return rc;
    }

    if (!mobispot_id_valid((char *) ad->id.data, ad->id.len)) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND,
                                             "unknown_site", "no such site",
                                             "parameter", "id");
    }

    return ngx_http_mobispot_admin_site_remove(r, ctx);
}


/*
 * PUT {prefix}admin/networks/{id}
 * {"name":"CoWallonia","passport":{"id":"cowallonia-pass",
 *  "name":"CoWallonia pass","monthly_price_eur":250}}
 */

ngx_int_t
ngx_http_mobispot_admin_network_put(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    double                          price;
    yajl_gen                        doc;
    yajl_val                        body, pass, v;
    ngx_int_t                       rc;
    ngx_str_t                       name, pid, pname, price_s;
    ngx_http_mobispot_check_t       ck;
    ngx_http_mobispot_admin_t      *ad;

    static const char  *known[] = { "name", "passport", NULL };
    static const char  *known_pass[] = { "id", "name", "monthly_price_eur",
                                         NULL };

    ngx_memzero(&ck, sizeof(ngx_http_mobispot_check_t));
    ck.request = r;

    ad = ngx_http_mobispot_admin_put_begin(r, ctx, &ck,
                                           "a network id matches "
                                           "[a-z0-9][a-z0-9_-]{0,63}",
                                           &body, &rc);
    if (ad == NULL) {
        return rc;
    }

    if (ngx_http_mobispot_check_keys(&ck, body, "", known) != NGX_OK
        || ngx_http_mobispot_check_string(&ck,
                                          ngx_http_mobispot_member(body,
                                                                   "name"),
                                          "name", 200, &name) != NGX_OK)
    {
        return ngx_http_mobispot_check_send(&ck);
    }

    pass = ngx_http_mobispot_member(body, "passport");

    if (pass == NULL || !YAJL_IS_OBJECT(pass)) {
        (void) ngx_http_mobispot_check_fail(&ck, NGX_HTTP_BAD_REQUEST,
                                            pass ? "must be an object"
                                                 : "missing field",
                                            "passport");
        return ngx_http_mobispot_check_send(&ck);
    }

    if (ngx_http_mobispot_check_keys(&ck, pass, "passport.", known_pass)
        != NGX_OK
        || ngx_http_mobispot_check_string(&ck,
                                          ngx_http_mobispot_member(pass, "id"),
                                          "passport.id", 64, &pid) != NGX_OK
        || ngx_http_mobispot_check_string(&ck,
                                          ngx_http_mobispot_member(pass,
                                                                   "name"),
                                          "passport.name", 200, &pname)
           != NGX_OK)
    {
        return ngx_http_mobispot_check_send(&ck);
    }

    if (!mobispot_id_valid((char *) pid.data, pid.len)) {
        (void) ngx_http_mobispot_check_fail(&ck,
                                            NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "not a valid passport id",
                                            "passport.id");
        return ngx_http_mobispot_check_send(&ck);
    }

    v = ngx_http_mobispot_member(pass, "monthly_price_eur");

    if (v == NULL || !YAJL_IS_NUMBER(v) || !YAJL_IS_DOUBLE(v)) {
        (void) ngx_http_mobispot_check_fail(&ck, NGX_HTTP_BAD_REQUEST,
                                            v ? "must be a number"
                                              : "missing field",
                                            "passport.monthly_price_eur");
        return ngx_http_mobispot_check_send(&ck);
    }

    price = YAJL_GET_DOUBLE(v);

    if (!(price >= 0.0 && price <= 100000.0)) {
        (void) ngx_http_mobispot_check_fail(&ck,
                                            NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "must be within 0..100000",
                                            "passport.monthly_price_eur");
        return ngx_http_mobispot_check_send(&ck);
    }

    price_s.data = (u_char *) v->u.number.r;
    price_s.len = ngx_strlen(v->u.number.r);

    doc = ngx_http_mobispot_api_gen(r);

    if (doc == NULL
        || yajl_gen_map_open(doc) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(doc, "id", &ad->id) != NGX_OK
        || ngx_http_mobispot_gen_str(doc, "name", &name) != NGX_OK
        || mobispot_json_string(doc, "passport") != MOBISPOT_OK
        || yajl_gen_map_open(doc) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(doc, "id", &pid) != NGX_OK
        || ngx_http_mobispot_gen_str(doc, "name", &pname) != NGX_OK
        || mobispot_json_string(doc, "monthly_price_eur") != MOBISPOT_OK
        || yajl_gen_number(doc, (char *) price_s.data, price_s.len)
           != yajl_gen_status_ok
        || yajl_gen_map_close(doc) != yajl_gen_status_ok
        || yajl_gen_map_close(doc) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_copy(r, doc, &ad->doc) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* pid lives in the parse tree: copy it for the command */
    ad->name.data = ngx_pstrdup(r->pool, &pid);
    ad->name.len = pid.len;

    if (ad->name.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_admin_network_write(r, ctx);
}
