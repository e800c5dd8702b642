
/*
 * Copyright (C) Mobispot
 *
 * What the booking routes share: the caller, a booking's id and keys, its
 * JSON, and its Location.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bookings/ngx_http_mobispot_bookings.h"


const char  *ngx_http_mobispot_booking_fields[] = {
    "user", "spot", "kind", "resource", "from", "to", "status",
    "created_at", "day0", "ndays", "hold_until", "due_at", "checkin_at",
    "checkout_at", "slot", "network", "company"
};


/* the caller (ngx_http_mobispot_spots_caller()), as bookings name it */

ngx_int_t
ngx_http_mobispot_booking_caller(ngx_http_request_t *r, ngx_str_t *user,
    ngx_int_t *rc)
{
    return ngx_http_mobispot_spots_caller(r, "bookings need a signed-in "
                                          "caller", user, rc);
}


void
ngx_http_mobispot_booking_hex(u_char *dst, const u_char *src, size_t n)
{
    size_t  i;

    static const u_char  hex[] = "0123456789abcdef";

    for (i = 0; i < n; i++) {
        dst[2 * i] = hex[src[i] >> 4];
        dst[2 * i + 1] = hex[src[i] & 0xf];
    }
}


/* "<site>.<24 hex digits>": the site's id, or NGX_DECLINED */

ngx_int_t
ngx_http_mobispot_booking_id_site(ngx_str_t *id, ngx_str_t *site)
{
    size_t  i, n;

    n = NGX_HTTP_MOBISPOT_BOOKING_HEX;

    if (id->len < n + 2 || id->data[id->len - n - 1] != '.') {
        return NGX_DECLINED;
    }

    for (i = id->len - n; i < id->len; i++) {
        if (!((id->data[i] >= '0' && id->data[i] <= '9')
              || (id->data[i] >= 'a' && id->data[i] <= 'f')))
        {
            return NGX_DECLINED;
        }
    }

    site->data = id->data;
    site->len = id->len - n - 1;

    return mobispot_id_valid((char *) site->data, site->len) ? NGX_OK
                                                              : NGX_DECLINED;
}


/*
 * The keys of a window's days: ndays booked counts, then, for a room
 * kind, ndays room maps (keys has room for both).
 */

ngx_int_t
ngx_http_mobispot_booking_day_keys(ngx_http_request_t *r, ngx_str_t *site,
    int kind, int64_t day0, ngx_uint_t ndays, ngx_str_t *keys)
{
    char        date[MOBISPOT_DATE_LEN];
    ngx_int_t   rc;
    ngx_uint_t  i;

    for (i = 0; i < ndays; i++) {
        (void) mobispot_format_date(day0 + (int64_t) i, date);

        rc = ngx_http_mobispot_spots_key(r, &keys[i],
                                         "ms:{site:%V}:booked:%s:%*s", site,
                                         mobispot_kind_names[kind],
                                         (size_t) MOBISPOT_DATE_LEN, date);
        if (rc != NGX_OK) {
            return rc;
        }

        if (kind == MOBISPOT_KIND_DESK) {
            continue;
        }

        rc = ngx_http_mobispot_spots_key(r, &keys[ndays + i],
                                         "ms:{site:%V}:rooms:%s:%*s", site,
                                         mobispot_kind_names[kind],
                                         (size_t) MOBISPOT_DATE_LEN, date);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_booking_gen_time(yajl_gen g, const char *key, ngx_str_t *v)
{
    char     buf[MOBISPOT_RFC3339_LEN + 1];
    size_t   len;
    int64_t  t;

    if (v->len == 0 || v->len > 12 || ngx_atoi(v->data, v->len) == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    t = (int64_t) ngx_atoi(v->data, v->len);
    len = mobispot_format_rfc3339(t, 0, buf);

    if (mobispot_json_string(g, key) != MOBISPOT_OK
        || yajl_gen_string(g, (u_char *) buf, len) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a string member, null when empty (or absent: a record made before it) */

static ngx_int_t
ngx_http_mobispot_booking_gen_opt(yajl_gen g, const char *key, ngx_str_t *v)
{
    if (mobispot_json_string(g, key) != MOBISPOT_OK) {
        return NGX_ERROR;
    }

    if (v->len == 0) {
        return yajl_gen_null(g) == yajl_gen_status_ok ? NGX_OK : NGX_ERROR;
    }

    return yajl_gen_string(g, v->data, v->len) == yajl_gen_status_ok
           ? NGX_OK : NGX_ERROR;
}


/* a booking's JSON: every member from its record (times in UTC) */

ngx_int_t
ngx_http_mobispot_booking_gen(yajl_gen g, ngx_http_mobispot_booking_rec_t *rec)
{
    ngx_str_t  *f;

    f = rec->f;

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(g, "id", &rec->id) != NGX_OK
        || ngx_http_mobispot_gen_str(g, "spot", &f[NGX_HTTP_MOBISPOT_B_SPOT])
           != NGX_OK
        || ngx_http_mobispot_gen_str(g, "kind", &f[NGX_HTTP_MOBISPOT_B_KIND])
           != NGX_OK
        || ngx_http_mobispot_booking_gen_opt(g, "resource",
                                             &f[NGX_HTTP_MOBISPOT_B_RESOURCE])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mobispot_booking_gen_opt(g, "network",
                                          &f[NGX_HTTP_MOBISPOT_B_NETWORK])
        != NGX_OK
        || ngx_http_mobispot_booking_gen_opt(g, "company",
                                             &f[NGX_HTTP_MOBISPOT_B_COMPANY])
           != NGX_OK
        || ngx_http_mobispot_booking_gen_time(g, "from",
                                              &f[NGX_HTTP_MOBISPOT_B_FROM])
           != NGX_OK
        || ngx_http_mobispot_booking_gen_time(g, "to",
                                              &f[NGX_HTTP_MOBISPOT_B_TO])
           != NGX_OK
        || ngx_http_mobispot_gen_str(g, "status",
                                     &f[NGX_HTTP_MOBISPOT_B_STATUS])
           != NGX_OK
        || ngx_http_mobispot_booking_gen_time(g, "created_at",
                                              &f[NGX_HTTP_MOBISPOT_B_CREATED])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the times of its life, once they are set */

    if ((f[NGX_HTTP_MOBISPOT_B_STATUS].len == 4
         && ngx_strncmp(f[NGX_HTTP_MOBISPOT_B_STATUS].data, "held", 4) == 0
         && ngx_http_mobispot_booking_gen_time(g, "hold_until",
                                               &f[NGX_HTTP_MOBISPOT_B_HOLD])
            != NGX_OK)
        || (f[NGX_HTTP_MOBISPOT_B_CHECKIN].len
            && ngx_http_mobispot_booking_gen_time(g, "checked_in_at",
                                             &f[NGX_HTTP_MOBISPOT_B_CHECKIN])
               != NGX_OK)
        || (f[NGX_HTTP_MOBISPOT_B_CHECKOUT].len
            && ngx_http_mobispot_booking_gen_time(g, "checked_out_at",
                                            &f[NGX_HTTP_MOBISPOT_B_CHECKOUT])
               != NGX_OK)
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* sends a booking; out, if not NULL, gets the body sent */

ngx_int_t
ngx_http_mobispot_booking_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_mobispot_booking_rec_t *rec, ngx_str_t *out)
{
    size_t                len;
    yajl_gen              g;
    const unsigned char  *buf;

    g = ngx_http_mobispot_api_gen(r);

    if (g == NULL
        || ngx_http_mobispot_booking_gen(g, rec) != NGX_OK
        || yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: booking \"%V\" has a bad record in redis",
                      &rec->id);
        return ngx_http_mobispot_api_error(r, NGX_HTTP_BAD_GATEWAY,
                                           "redis_error",
                                           "the data store holds a bad "
                                           "booking record");
    }

    if (out) {
        out->data = (u_char *) buf;
        out->len = len;
        return NGX_OK;
    }

    return ngx_http_mobispot_api_send_raw(r, status, (u_char *) buf, len);
}


/* Location: the request's prefix, "bookings/", the id */

ngx_int_t
ngx_http_mobispot_booking_location(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t *id)
{
    u_char  *p, *v;
    size_t   prefix;

    prefix = 0;

    if (r->uri.len >= ctx->path.len) {
        prefix = r->uri.len - ctx->path.len;
    }

    v = ngx_pnalloc(r->pool, prefix + sizeof("bookings/") - 1 + id->len);
    if (v == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(v, r->uri.data, prefix);
    p = ngx_cpymem(p, "bookings/", sizeof("bookings/") - 1);
    p = ngx_cpymem(p, id->data, id->len);

    return ngx_http_mobispot_api_header(r, "Location", sizeof("Location") - 1,
                                        v, p - v);
}


/* HMGET of a booking's record, its fields in the NGX_HTTP_MOBISPOT_B_ order */

ngx_int_t
ngx_http_mobispot_booking_record_fields(ngx_pool_t *pool,
    ngx_str_t *key, ngx_http_mobispot_redis_cmd_t *cmd)
{
    return ngx_http_mobispot_booking_hmget(pool, key,
                                           ngx_http_mobispot_booking_fields,
                                           NGX_HTTP_MOBISPOT_B_FIELDS, cmd);
}


/* HMGET key field ... */

ngx_int_t
ngx_http_mobispot_booking_hmget(ngx_pool_t *pool, ngx_str_t *key,
    const char **fields, ngx_uint_t n, ngx_http_mobispot_redis_cmd_t *cmd)
{
    ngx_uint_t    i;
    const char  **argv;
    size_t       *argvlen;

    argv = ngx_palloc(pool, (2 + n) * sizeof(char *));
    argvlen = ngx_palloc(pool, (2 + n) * sizeof(size_t));

    if (argv == NULL || argvlen == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "HMGET";
    argvlen[0] = 5;
    argv[1] = (char *) key->data;
    argvlen[1] = key->len;

    for (i = 0; i < n; i++) {
        argv[2 + i] = fields[i];
        argvlen[2 + i] = ngx_strlen(fields[i]);
    }

    cmd->argc = (int) (2 + n);
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}


/*
 * A record from its HMGET reply: NGX_DECLINED when there is none, or it
 * is not user's; NGX_ERROR when it is not a record.
 */

ngx_int_t
ngx_http_mobispot_booking_record(ngx_str_t *id, ngx_str_t *user,
    ngx_http_mobispot_reply_t *reply,
    ngx_http_mobispot_booking_rec_t *rec)
{
    ngx_uint_t                  i;
    ngx_http_mobispot_reply_t  *e;

    if (reply->type != REDIS_REPLY_ARRAY
        || reply->elements != NGX_HTTP_MOBISPOT_B_FIELDS)
    {
        return NGX_ERROR;
    }

    e = reply->element;

    if (e[NGX_HTTP_MOBISPOT_B_USER].type != REDIS_REPLY_STRING
        || e[NGX_HTTP_MOBISPOT_B_USER].str.len != user->len
        || ngx_memcmp(e[NGX_HTTP_MOBISPOT_B_USER].str.data, user->data,
                      user->len)
           != 0)
    {
        return NGX_DECLINED;
    }

    rec->id = *id;

    for (i = 0; i < NGX_HTTP_MOBISPOT_B_FIELDS; i++) {
        if (e[i].type == REDIS_REPLY_STRING) {
            rec->f[i] = e[i].str;

        } else {
            ngx_str_null(&rec->f[i]);
        }
    }

    return NGX_OK;
}


/*
 * The caller's index (key NULL), or another sorted set of booking ids:
 * ZADD key <from> <id>, or ZREM key <id> ...
 */

ngx_int_t
ngx_http_mobispot_booking_index_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_str_t *key, const char *op,
    ngx_str_t *ids, ngx_uint_t n, ngx_http_mobispot_redis_cmd_t *cmd)
{
    u_char       *p;
    ngx_uint_t    i, k;
    const char  **argv;
    size_t       *argvlen;

    argv = ngx_palloc(r->pool, (3 + n) * sizeof(char *));
    argvlen = ngx_palloc(r->pool, (3 + n) * sizeof(size_t));
    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);

    if (argv == NULL || argvlen == NULL || p == NULL) {
        return NGX_ERROR;
    }

    if (key == NULL) {
        key = &bk->index;
    }

    argv[0] = op;
    argvlen[0] = 4;
    argv[1] = (char *) key->data;
    argvlen[1] = key->len;
    k = 2;

    if (op[1] == 'A') {
        argv[k] = (char *) p;
        argvlen[k++] = ngx_sprintf(p, "%L", bk->from) - p;
    }

    for (i = 0; i < n; i++) {
        argv[k] = (char *) ids[i].data;
        argvlen[k++] = ids[i].len;
    }

    cmd->argc = (int) k;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}


/* a string of a hiredis reply, NUL-terminated, into pool; nil: null */

ngx_int_t
ngx_http_mobispot_booking_copy(ngx_pool_t *pool, ngx_str_t *dst,
    redisReply *e)
{
    if (e->type == REDIS_REPLY_NIL) {
        ngx_str_null(dst);
        return NGX_OK;
    }

    if (e->type != REDIS_REPLY_STRING) {
        return NGX_ERROR;
    }

    dst->data = ngx_pnalloc(pool, e->len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, e->str, e->len);
    dst->data[e->len] = '\0';
    dst->len = e->len;

    return NGX_OK;
}
