
/*
 * Copyright (C) Mobispot
 *
 * The reading of usage: a month's streams, page by page (XRANGE ... COUNT
 * 1000, the pages of several sites pipelined in one round trip), each
 * record checked and summed by site and kind, and, for the settlement, the
 * accounts that confirm the passports' index, in the same round trips.
 * Every reply is read in its callback: nothing of a page is kept but the
 * sums (and the records of the page that usage?site= lists).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "usage/ngx_http_mobispot_usage.h"


static void ngx_http_mobispot_usage_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_usage_done(ngx_http_request_t *r, void *data,
    ngx_int_t status);
static void ngx_http_mobispot_usage_page(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_uint_t type,
    ngx_http_mobispot_usage_site_t *s, redisReply *reply);
static ngx_int_t ngx_http_mobispot_usage_entry(redisReply *e,
    ngx_str_t *site, ngx_http_mobispot_usage_rec_t *rec);
static ngx_int_t ngx_http_mobispot_usage_copy(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_http_mobispot_usage_rec_t *rec);
static void ngx_http_mobispot_usage_account(ngx_http_mobispot_usage_t *u,
    redisReply *reply);
static int ngx_http_mobispot_usage_site_cmp(const void *one,
    const void *two);


const char  *ngx_http_mobispot_usage_fields[] = {
    "booking", "site", "user", "company", "network", "kind", "resource",
    "from", "to", "checkin", "checkout", "seconds", "end"
};


ngx_http_mobispot_usage_t *
ngx_http_mobispot_usage_create(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_http_mobispot_usage_t  *u;

    u = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_usage_t));
    if (u == NULL) {
        return NULL;
    }

    if (ngx_array_init(&u->sites, r->pool, 8,
                       sizeof(ngx_http_mobispot_usage_site_t))
        != NGX_OK)
    {
        return NULL;
    }

    u->ctx = ctx;
    ctx->data = u;

    return u;
}


/*
 * The month parameter: required, "YYYY-MM", not after the current UTC
 * month; closed once NGX_HTTP_MOBISPOT_USAGE_CLOSE_DELAY has passed since
 * its end.  NGX_OK, or NGX_DECLINED with the refusal sent and *rc what
 * the handler returns.
 */

ngx_int_t
ngx_http_mobispot_usage_month(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_http_mobispot_arg_t *arg,
    ngx_int_t *rc)
{
    time_t       now;
    const char  *code, *message;

    now = ngx_time();

    if (!arg->set) {
        code = "missing_parameter";
        message = "month is required (YYYY-MM)";

    } else if (mobispot_month_parse((char *) arg->value.data,
                                    arg->value.len, &u->month)
               != MOBISPOT_OK)
    {
        code = "invalid_parameter";
        message = "month must be a month, YYYY-MM";

    } else if (u->month.first * 86400 > (int64_t) now) {
        code = "month_in_future";
        message = "month has not begun";

    } else {
        u->month_s = arg->value;
        u->closed = (int64_t) now >= u->month.next * 86400
                                     + NGX_HTTP_MOBISPOT_USAGE_CLOSE_DELAY;
        return NGX_OK;
    }

    *rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST, code,
                                        message, "parameter", "month");

    return NGX_DECLINED;
}


/* a site whose stream of the month is to be read */

ngx_int_t
ngx_http_mobispot_usage_add_site(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_str_t *site)
{
    ngx_http_mobispot_usage_site_t  *s;

    s = ngx_array_push(&u->sites);
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(s, sizeof(ngx_http_mobispot_usage_site_t));

    s->site = *site;
    s->start[0] = '-';
    s->start_len = 1;

    return ngx_http_mobispot_usage_key(r->pool, &s->key,
                                       "ms:{site:%V}:usage:%V", site,
                                       &u->month_s);
}


/*
 * A key from a format of one or two "%V" and validated ids (bounded by
 * their rules: no key is ever too long), in the pool; nothing is sent, so
 * it may run in a reply's callback.
 */

ngx_int_t
ngx_http_mobispot_usage_key(ngx_pool_t *pool, ngx_str_t *key,
    const char *fmt, ngx_str_t *one, ngx_str_t *two)
{
    size_t  len;

    len = ngx_strlen(fmt) + one->len + (two ? two->len : 0);

    key->data = ngx_pnalloc(pool, len);
    if (key->data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key->len = (two ? ngx_sprintf(key->data, fmt, one, two)
                    : ngx_sprintf(key->data, fmt, one))
               - key->data;

    return NGX_OK;
}


void
ngx_http_mobispot_usage_sort(ngx_http_mobispot_usage_t *u)
{
    ngx_qsort(u->sites.elts, u->sites.nelts,
              sizeof(ngx_http_mobispot_usage_site_t),
              ngx_http_mobispot_usage_site_cmp);
}


static int
ngx_http_mobispot_usage_site_cmp(const void *one, const void *two)
{
    const ngx_http_mobispot_usage_site_t  *a = one, *b = two;

    ngx_int_t  rc;

    rc = ngx_memn2cmp(a->site.data, b->site.data, a->site.len, b->site.len);

    return rc < 0 ? -1 : (rc > 0 ? 1 : 0);
}


/*
 * The sites of a month, SMEMBERS ms:usage:sites:<month>: each a valid id
 * (another is logged and skipped: it cannot name a stream).
 */

ngx_int_t
ngx_http_mobispot_usage_sites_reply(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, redisReply *reply)
{
    size_t      i;
    ngx_str_t   site;
    redisReply  *e;

    if (reply->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_STRING
            || !mobispot_id_valid(e->str, e->len))
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mobispot: usage index of %V: a member that is "
                          "not a site id skipped", &u->month_s);
            continue;
        }

        site.len = e->len;
        site.data = ngx_pnalloc(r->pool, e->len);
        if (site.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(site.data, e->str, e->len);

        if (ngx_http_mobispot_usage_add_site(r, u, &site) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    ngx_http_mobispot_usage_sort(u);

    return NGX_OK;
}


/*
 * The next round trip: the accounts still to confirm (at most
 * NGX_HTTP_MOBISPOT_USAGE_ROUND_USERS), the page of records to list, then
 * the next page of each stream not read to its end (at most
 * NGX_HTTP_MOBISPOT_USAGE_ROUND_STREAMS).  Once all is read, u->done.
 */

ngx_int_t
ngx_http_mobispot_usage_next(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u)
{
    ngx_int_t                        rc;
    ngx_str_t                        start;
    ngx_uint_t                       i, n, max, streams;
    ngx_http_mobispot_usage_site_t  *s;
    ngx_http_mobispot_redis_cmd_t   *cmds;

    static ngx_str_t  xrange = ngx_string("XRANGE");
    static ngx_str_t  hmget = ngx_string("HMGET");
    static ngx_str_t  plus = ngx_string("+");
    static ngx_str_t  count = ngx_string("COUNT");
    static ngx_str_t  page = ngx_string("1000");
    static ngx_str_t  passports = ngx_string("passports");

    max = NGX_HTTP_MOBISPOT_USAGE_ROUND_USERS + 1
          + NGX_HTTP_MOBISPOT_USAGE_ROUND_STREAMS;

    cmds = ngx_palloc(r->pool, max * sizeof(ngx_http_mobispot_redis_cmd_t));
    u->round_type = ngx_palloc(r->pool, max * sizeof(ngx_uint_t));
    u->round_index = ngx_palloc(r->pool, max * sizeof(ngx_uint_t));

    if (cmds == NULL || u->round_type == NULL || u->round_index == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    while (u->next_user < u->nusers
           && n < NGX_HTTP_MOBISPOT_USAGE_ROUND_USERS)
    {
        if (ngx_http_mobispot_admin_cmd(r, &cmds[n], 3, &hmget,
                                        &u->users[u->next_user], &passports)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        u->round_type[n] = NGX_HTTP_MOBISPOT_ROUND_USER;
        u->round_index[n++] = u->next_user++;
    }

    s = u->sites.elts;

    if (u->list) {
        u->list = 0;

        if (ngx_http_mobispot_admin_cmd(r, &cmds[n], 6, &xrange, &s[0].key,
                                        &u->list_start, &plus, &count,
                                        &u->list_count)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        u->round_type[n] = NGX_HTTP_MOBISPOT_ROUND_LIST;
        u->round_index[n++] = 0;
    }

    streams = 0;

    for (i = 0; i < u->sites.nelts; i++) {
        if (s[i].done || streams == NGX_HTTP_MOBISPOT_USAGE_ROUND_STREAMS) {
            continue;
        }

        start.data = s[i].start;
        start.len = s[i].start_len;

        if (ngx_http_mobispot_admin_cmd(r, &cmds[n], 6, &xrange, &s[i].key,
                                        &start, &plus, &count, &page)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* the start is copied by hiredis when the command is formatted */

        u->round_type[n] = NGX_HTTP_MOBISPOT_ROUND_STREAM;
        u->round_index[n++] = i;
        streams++;
    }

    if (n == 0) {
        return u->done(r, u);
    }

    rc = ngx_http_mobispot_api_read(r, u->ctx, cmds, n,
                                    ngx_http_mobispot_usage_reply,
                                    ngx_http_mobispot_usage_done, u);

    return rc;
}


static void
ngx_http_mobispot_usage_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_usage_t *u = data;

    ngx_http_mobispot_usage_site_t  *s;

    if (u->bad || u->too_many) {
        return;
    }

    s = u->sites.elts;

    switch (u->round_type[index]) {

    case NGX_HTTP_MOBISPOT_ROUND_USER:
        ngx_http_mobispot_usage_account(u, reply);
        return;

    default:
        ngx_http_mobispot_usage_page(r, u, u->round_type[index],
                                     &s[u->round_index[index]], reply);
        return;
    }
}


static void
ngx_http_mobispot_usage_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_usage_t *u = data;

    if (ngx_http_mobispot_spots_call_failed(r, status, u->bad, u->bad_what)) {
        return;
    }

    if (u->too_many) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: usage of %V: more than %d entries to read",
                      &u->month_s, NGX_HTTP_MOBISPOT_USAGE_ENTRIES_MAX);

        ngx_http_finalize_request(r,
            ngx_http_mobispot_api_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        "usage_too_large",
                                        "the month has more usage records "
                                        "than one answer reads"));
        return;
    }

    ngx_http_finalize_request(r, ngx_http_mobispot_usage_next(r, u));
}


/*
 * A page of a stream: each entry checked; summed (a stream's page), or
 * kept (the records listed).  A page shorter than asked is the stream's
 * last.
 */

static void
ngx_http_mobispot_usage_page(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_uint_t type,
    ngx_http_mobispot_usage_site_t *s, redisReply *reply)
{
    size_t                          i;
    ngx_str_t                      *match;
    ngx_http_mobispot_usage_rec_t   rec;

    if (reply->type != REDIS_REPLY_ARRAY) {
        u->bad = 1;
        u->bad_what = "XRANGE of a usage stream";
        return;
    }

    for (i = 0; i < reply->elements; i++) {

        if (ngx_http_mobispot_usage_entry(reply->element[i], &s->site, &rec)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mobispot: a malformed usage record in \"%V\"",
                          &s->key);
            u->bad = 1;
            u->bad_what = "a usage record";
            return;
        }

        if (type == NGX_HTTP_MOBISPOT_ROUND_LIST) {
            if (u->records.nelts == u->limit) {
                u->more = 1;
                return;
            }

            if (ngx_http_mobispot_usage_copy(r, u, &rec) != NGX_OK) {
                u->bad = 1;
                u->bad_what = "a usage record (out of memory)";
                return;
            }

            continue;
        }

        if (++u->entries > NGX_HTTP_MOBISPOT_USAGE_ENTRIES_MAX) {
            u->too_many = 1;
            return;
        }

        match = (u->filter == NGX_HTTP_MOBISPOT_USAGE_COMPANY)
                ? &rec.f[NGX_HTTP_MOBISPOT_U_COMPANY]
                : &rec.f[NGX_HTTP_MOBISPOT_U_NETWORK];

        if (u->filter != NGX_HTTP_MOBISPOT_USAGE_ALL
            && (match->len != u->value.len
                || ngx_strncmp(match->data, u->value.data, match->len) != 0))
        {
            continue;
        }

        s->all.seconds += rec.seconds;
        s->all.entries++;
        s->kinds[rec.kind].seconds += rec.seconds;
        s->kinds[rec.kind].entries++;
    }

    if (type == NGX_HTTP_MOBISPOT_ROUND_LIST) {
        return;
    }

    if (reply->elements < NGX_HTTP_MOBISPOT_USAGE_PAGE) {
        s->done = 1;
        return;
    }

    /* the next page starts after the last id read (checked: <= 41 bytes) */

    s->start[0] = '(';
    ngx_memcpy(s->start + 1, rec.id.data, rec.id.len);
    s->start_len = rec.id.len + 1;
}


/*
 * An entry of XRANGE: [id, [field, value, ...]].  Every field of the
 * contract must be there once, its site the stream's, its kind known,
 * its times and seconds integers, its end "checkout" or "booking_end".
 */

static ngx_int_t
ngx_http_mobispot_usage_entry(redisReply *e, ngx_str_t *site,
    ngx_http_mobispot_usage_rec_t *rec)
{
    size_t          i, k, len;
    ngx_str_t      *f;
    redisReply     *id, *fields, *name, *value;
    unsigned long   v;

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) {
        return NGX_ERROR;
    }

    id = e->element[0];
    fields = e->element[1];

    if (id->type != REDIS_REPLY_STRING || id->len == 0
        || id->len > NGX_HTTP_MOBISPOT_STREAM_ID_MAX - 1
        || fields->type != REDIS_REPLY_ARRAY || fields->elements % 2)
    {
        return NGX_ERROR;
    }

    ngx_memzero(rec, sizeof(ngx_http_mobispot_usage_rec_t));

    rec->id.data = (u_char *) id->str;
    rec->id.len = id->len;

    for (i = 0; i < fields->elements; i += 2) {
        name = fields->element[i];
        value = fields->element[i + 1];

        if (name->type != REDIS_REPLY_STRING
            || value->type != REDIS_REPLY_STRING)
        {
            return NGX_ERROR;
        }

        for (k = 0; k < NGX_HTTP_MOBISPOT_U_FIELDS; k++) {
            len = ngx_strlen(ngx_http_mobispot_usage_fields[k]);

            if (name->len == len
                && ngx_strncmp(name->str, ngx_http_mobispot_usage_fields[k],
                               len) == 0)
            {
                break;
            }
        }

        /* a field the contract does not name is not read */

        if (k == NGX_HTTP_MOBISPOT_U_FIELDS) {
            continue;
        }

        if (rec->f[k].data != NULL) {
            return NGX_ERROR;
        }

        rec->f[k].data = (u_char *) value->str;
        rec->f[k].len = value->len;
    }

    for (k = 0; k < NGX_HTTP_MOBISPOT_U_FIELDS; k++) {
        if (rec->f[k].data == NULL) {
            return NGX_ERROR;
        }
    }

    f = rec->f;

    if (f[NGX_HTTP_MOBISPOT_U_BOOKING].len == 0
        || !mobispot_user_id_valid((char *) f[NGX_HTTP_MOBISPOT_U_USER].data,
                                   f[NGX_HTTP_MOBISPOT_U_USER].len)
        || f[NGX_HTTP_MOBISPOT_U_SITE].len != site->len
        || ngx_strncmp(f[NGX_HTTP_MOBISPOT_U_SITE].data, site->data,
                       site->len) != 0)
    {
        return NGX_ERROR;
    }

    rec->kind = mobispot_kind_parse((char *) f[NGX_HTTP_MOBISPOT_U_KIND].data,
                                    f[NGX_HTTP_MOBISPOT_U_KIND].len);
    if (rec->kind < 0) {
        return NGX_ERROR;
    }

    for (k = NGX_HTTP_MOBISPOT_U_FROM; k <= NGX_HTTP_MOBISPOT_U_SECONDS; k++) {
        if (mobispot_parse_uint((char *) f[k].data, f[k].len,
                                NGX_HTTP_MOBISPOT_USAGE_TIME_MAX, &v)
            != MOBISPOT_OK)
        {
            return NGX_ERROR;
        }

        if (k == NGX_HTTP_MOBISPOT_U_SECONDS) {
            rec->seconds = (int64_t) v;
        }
    }

    if (!((f[NGX_HTTP_MOBISPOT_U_END].len == 8
           && ngx_strncmp(f[NGX_HTTP_MOBISPOT_U_END].data, "checkout", 8)
              == 0)
          || (f[NGX_HTTP_MOBISPOT_U_END].len == 11
              && ngx_strncmp(f[NGX_HTTP_MOBISPOT_U_END].data, "booking_end",
                             11) == 0)))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a record listed by usage?site=, copied out of its reply */

static ngx_int_t
ngx_http_mobispot_usage_copy(ngx_http_request_t *r,
    ngx_http_mobispot_usage_t *u, ngx_http_mobispot_usage_rec_t *rec)
{
    ngx_uint_t                      k;
    ngx_http_mobispot_usage_rec_t  *copy;

    copy = ngx_array_push(&u->records);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    *copy = *rec;

    copy->id.data = ngx_pstrdup(r->pool, &rec->id);
    if (copy->id.data == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < NGX_HTTP_MOBISPOT_U_FIELDS; k++) {
        if (rec->f[k].len == 0) {
            copy->f[k].data = (u_char *) "";
            continue;
        }

        copy->f[k].data = ngx_pstrdup(r->pool, &rec->f[k]);
        if (copy->f[k].data == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * HMGET ms:{user:<u>}:info passports: nil, the account is gone (the index
 * entry is stale, skipped); otherwise its passports of the network count
 * by their days in the month.  An entry that counts no day is skipped
 * (u->stale counts both).
 */

static void
ngx_http_mobispot_usage_account(ngx_http_mobispot_usage_t *u,
    redisReply *reply)
{
    unsigned     count;
    redisReply  *v;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1) {
        u->bad = 1;
        u->bad_what = "HMGET of an account's passports";
        return;
    }

    v = reply->element[0];

    if (v->type == REDIS_REPLY_NIL) {
        u->stale++;
        return;
    }

    count = 0;

    if (v->type != REDIS_REPLY_STRING
        || mobispot_passport_days(v->str, v->len, (char *) u->value.data,
                                  u->value.len, &u->month,
                                  &u->passport_days, &count)
           != MOBISPOT_OK)
    {
        u->bad = 1;
        u->bad_what = "an account's passports";
        return;
    }

    if (count == 0) {
        u->stale++;
    }

    u->passports += count;
}


/* {"entries":N,"seconds":N,"hours":N.NN} members, in an open map */

ngx_int_t
ngx_http_mobispot_usage_gen_sum(yajl_gen g, ngx_http_mobispot_usage_sum_t *sum)
{
    char    hours[MOBISPOT_HOURS_LEN];
    size_t  len;

    len = mobispot_hours_format(sum->seconds, hours);

    if (mobispot_json_string(g, "entries") != MOBISPOT_OK
        || yajl_gen_integer(g, (long long) sum->entries) != yajl_gen_status_ok
        || mobispot_json_string(g, "seconds") != MOBISPOT_OK
        || yajl_gen_integer(g, (long long) sum->seconds) != yajl_gen_status_ok
        || mobispot_json_string(g, "hours") != MOBISPOT_OK
        || yajl_gen_number(g, hours, len) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "kinds":{"desk":{...},...}: every kind, in the order of the catalogue */

ngx_int_t
ngx_http_mobispot_usage_gen_kinds(yajl_gen g,
    ngx_http_mobispot_usage_sum_t *kinds)
{
    ngx_uint_t  k;

    if (mobispot_json_string(g, "kinds") != MOBISPOT_OK
        || yajl_gen_map_open(g) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    for (k = 0; k < MOBISPOT_KINDS; k++) {
        if (mobispot_json_string(g, mobispot_kind_names[k]) != MOBISPOT_OK
            || yajl_gen_map_open(g) != yajl_gen_status_ok
            || ngx_http_mobispot_usage_gen_sum(g, &kinds[k]) != NGX_OK
            || yajl_gen_map_close(g) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }
    }

    return yajl_gen_map_close(g) == yajl_gen_status_ok ? NGX_OK : NGX_ERROR;
}
