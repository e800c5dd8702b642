
/*
 * Copyright (C) Mobispot
 *
 * Availability: GET {prefix}spots/{id}/availability (one round trip) and
 * GET {prefix}spots/nearby (two round trips: GEOSEARCH, then one pipelined
 * batch for all the candidates).  Free capacity is the capacity of a kind
 * less the bookings of each slot, in the site's opening hours, in its
 * time zone.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_spots.h"


/* the fields of ms:{site:<id>}:info an availability reads, in HMGET order */
#define NGX_HTTP_MOBISPOT_F_NAME      0
#define NGX_HTTP_MOBISPOT_F_TOWN      1
#define NGX_HTTP_MOBISPOT_F_TZ        2
#define NGX_HTTP_MOBISPOT_F_SLOT      3
#define NGX_HTTP_MOBISPOT_F_HOURS     4
#define NGX_HTTP_MOBISPOT_F_CLOSED    5
#define NGX_HTTP_MOBISPOT_F_NETWORKS  6
#define NGX_HTTP_MOBISPOT_F_CAP       7   /* + kind: cap:<kind> */
#define NGX_HTTP_MOBISPOT_FIELDS      (7 + MOBISPOT_KINDS)

/*
 * UTC days read for one site: 5 for "today", 9 for a 7-day window (8 days
 * it touches, and the day before, where its first slot may start)
 */
#define NGX_HTTP_MOBISPOT_DAYS_MAX    9

#define NGX_HTTP_MOBISPOT_CANDIDATES_MAX  200

/* the slots of a nearby window: a day of 15-minute slots and partial ones */
#define NGX_HTTP_MOBISPOT_NEARBY_SLOTS_MAX                                    \
    (MOBISPOT_NEARBY_WINDOW_MAX / (15 * 60) + 3)

/*
 * The slots of this window at most: 15-minute slots, the partial ones at
 * its ends and at a day end (a small array stays in the pool, no malloc())
 */
#define ngx_http_mobispot_nearby_slots_max(av)                                \
    ngx_min((size_t) (((av)->to - (av)->from) / (15 * 60) + 3),               \
            (size_t) NGX_HTTP_MOBISPOT_NEARBY_SLOTS_MAX)


typedef struct {
    uint16_t                    minute;
    int64_t                     count;
} ngx_http_mobispot_booked_t;


/* the commands of the second round trip of nearby, per site */
#define NGX_HTTP_MOBISPOT_READ_INFO     0   /* HMGET info */
#define NGX_HTTP_MOBISPOT_READ_DAY      1   /* HGETALL of a booked day */
#define NGX_HTTP_MOBISPOT_READ_SLOTS    2   /* HMGET of slots of a day */


typedef struct {
    ngx_uint_t                  site;
    ngx_uint_t                  what;
    ngx_uint_t                  day;       /* from day0 */
    uint16_t                   *minutes;   /* READ_SLOTS: the fields */
    ngx_uint_t                  nminutes;
} ngx_http_mobispot_cmd_map_t;


typedef struct {
    ngx_str_t                   id;
    ngx_str_t                   dist;       /* km, as GEOSEARCH says it */
    ngx_str_t                   f[NGX_HTTP_MOBISPOT_FIELDS];
    ngx_uint_t                  found;      /* the info hash exists */
    ngx_uint_t                  prepared;   /* info decoded (or cached) */
    mobispot_slot_t            *slots;      /* the window's, once known */
    size_t                      nslots;
    ngx_http_mobispot_booked_t *booked[NGX_HTTP_MOBISPOT_DAYS_MAX];
    ngx_uint_t                  nbooked[NGX_HTTP_MOBISPOT_DAYS_MAX];

    /* computed */
    ngx_http_mobispot_info_t    info;
    int64_t                     capacity;
    int64_t                     free;
    ngx_uint_t                  open;
    ngx_int_t                   entitled;   /* -1: not signed in */

    /* nearby: free and open kept in the answer cache (a "part") */
    ngx_str_t                   part;       /* its key; empty: not kept */
    ngx_http_mobispot_cache_dep_t *deps;    /* what it is computed from */
    ngx_uint_t                  ndeps;
    ngx_uint_t                  from_part;  /* free, open from the cache */
} ngx_http_mobispot_site_t;


/* a part: a site's free capacity and whether it is open, over a window */
typedef struct {
    int64_t                     free;
    ngx_uint_t                  open;
} ngx_http_mobispot_part_t;


typedef struct {
    int                         kind;
    int64_t                     from;
    int64_t                     to;
    int64_t                     day0;       /* first UTC day read */
    ngx_uint_t                  ndays;
    ngx_uint_t                  bad;

    /* availability */
    ngx_uint_t                  by_date;    /* 0: from/to, 1: date, 2: today */
    int64_t                     date;       /* local day */

    /* nearby */
    double                      lat;
    double                      lon;
    double                      radius;
    ngx_uint_t                  limit;
    ngx_uint_t                  all;
    ngx_str_t                   pass;
    ngx_uint_t                  signed_in;
    ngx_array_t                 passports;  /* ngx_str_t pairs */
    ngx_uint_t                  keep_passports;  /* to store as a part */
    ngx_http_mobispot_cache_dep_t passports_dep; /* their key, when sent */

    u_char                     *suffixes;   /* ":booked:desk:<date>" ... */
    size_t                      suffix_len;

    ngx_http_mobispot_site_t   *sites;
    ngx_uint_t                  nsites;

    /* nearby: the catalogue version read with GEOSEARCH; -1: none */
    int64_t                     version;

    /* nearby: parts are kept (the cache's epoch at the start), or 0 */
    ngx_uint_t                  part_epoch;
    ngx_http_mobispot_cache_dep_t version_dep;  /* ms:version, when sent */
    ngx_http_mobispot_cmd_map_t *map;      /* what each command reads */
    ngx_uint_t                  nmap;
} ngx_http_mobispot_avail_t;


static ngx_int_t ngx_http_mobispot_avail_window(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_arg_t *from,
    ngx_http_mobispot_arg_t *to, int64_t max);
static ngx_int_t ngx_http_mobispot_avail_kind(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_arg_t *kind);
static ngx_int_t ngx_http_mobispot_site_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    ngx_http_mobispot_redis_cmd_t *cmds);
static ngx_int_t ngx_http_mobispot_avail_suffixes(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);
static void ngx_http_mobispot_avail_days(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);
static u_char *ngx_http_mobispot_booked_key(u_char *p,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    ngx_uint_t d);
static void ngx_http_mobispot_window_days(ngx_http_mobispot_avail_t *av);
static void ngx_http_mobispot_site_reply(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    ngx_uint_t index, redisReply *reply);
static ngx_int_t ngx_http_mobispot_site_prepare(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site);
static int64_t ngx_http_mobispot_site_booked(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site, int64_t start);
static void ngx_http_mobispot_site_open(ngx_http_mobispot_site_t *site,
    mobispot_slot_t *slots, size_t n);
static size_t ngx_http_mobispot_site_slots(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site, mobispot_slot_t *slots, size_t max);
static void ngx_http_mobispot_site_window(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site, mobispot_slot_t *slots, size_t n);
static ngx_int_t ngx_http_mobispot_site_slot_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_uint_t index, mobispot_slot_t *slots,
    size_t n, ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t *ncmds);
static void ngx_http_mobispot_site_slots_reply(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_cmd_map_t *m,
    redisReply *reply);

static void ngx_http_mobispot_availability_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_availability_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static ngx_int_t ngx_http_mobispot_availability_send(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);

static void ngx_http_mobispot_nearby_geo_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_nearby_geo_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static void ngx_http_mobispot_nearby_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_nearby_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static ngx_int_t ngx_http_mobispot_nearby_send(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);
static ngx_int_t ngx_http_mobispot_nearby_part(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    mobispot_slot_t *slots, size_t n,
    ngx_http_mobispot_cache_t *cache, ngx_http_mobispot_cache_req_t *req);
static ngx_int_t ngx_http_mobispot_passports_part(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req);
static void ngx_http_mobispot_passports_keep(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);
static ngx_int_t ngx_http_mobispot_nearby_entitled(
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site);
static ngx_uint_t ngx_http_mobispot_list_has(u_char *list, size_t len,
    u_char *item, size_t item_len);
static ngx_int_t ngx_http_mobispot_gen_time(yajl_gen g, const char *key,
    int64_t utc, int32_t offset);
static ngx_int_t ngx_http_mobispot_gen_int(yajl_gen g, const char *key,
    int64_t n);


/* every capacity: the info of a site is cached whatever the kind asked */
static const char  *ngx_http_mobispot_info_fields[NGX_HTTP_MOBISPOT_FIELDS] =
{
    "name", "town", "tz", "slot", "hours", "closed", "networks",
    "cap:desk", "cap:meeting_room", "cap:conference_room", "cap:training_room"
};


static ngx_int_t
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

static ngx_int_t
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


/* HMGET of the info hash, then HGETALL of each UTC day of the window */

static ngx_int_t
ngx_http_mobispot_site_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    ngx_http_mobispot_redis_cmd_t *cmds)
{
    u_char       *p, *key;
    size_t       *argvlen, len;
    ngx_uint_t    i;
    const char  **argv;

    /* the key suffixes shared by every site of the request */

    if (av->suffixes == NULL) {
        if (ngx_http_mobispot_avail_suffixes(r, av) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    argv = ngx_palloc(r->pool, (2 + NGX_HTTP_MOBISPOT_FIELDS + 2 * av->ndays)
                               * sizeof(char *));
    argvlen = ngx_palloc(r->pool,
                         (2 + NGX_HTTP_MOBISPOT_FIELDS + 2 * av->ndays)
                         * sizeof(size_t));

    /* "ms:{site:" id "}:info", then "ms:{site:" id "}" suffix per day */
    len = (sizeof("ms:{site:}:info") - 1 + site->id.len)
          + av->ndays * (sizeof("ms:{site:}") - 1 + site->id.len
                         + av->suffix_len);
    key = ngx_pnalloc(r->pool, len);

    if (argv == NULL || argvlen == NULL || key == NULL) {
        return NGX_ERROR;
    }

    cmds[0].argc = 2 + NGX_HTTP_MOBISPOT_FIELDS;
    cmds[0].argv = argv;
    cmds[0].argvlen = argvlen;

    p = ngx_cpymem(key, "ms:{site:", sizeof("ms:{site:") - 1);
    p = ngx_cpymem(p, site->id.data, site->id.len);
    p = ngx_cpymem(p, "}:info", sizeof("}:info") - 1);

    argv[0] = "HMGET";
    argvlen[0] = 5;
    argv[1] = (char *) key;
    argvlen[1] = p - key;

    for (i = 0; i < NGX_HTTP_MOBISPOT_FIELDS; i++) {
        argv[2 + i] = ngx_http_mobispot_info_fields[i];
        argvlen[2 + i] = ngx_strlen(ngx_http_mobispot_info_fields[i]);
    }

    argv += 2 + NGX_HTTP_MOBISPOT_FIELDS;
    argvlen += 2 + NGX_HTTP_MOBISPOT_FIELDS;

    for (i = 0; i < av->ndays; i++) {
        key = p;

        p = ngx_http_mobispot_booked_key(p, av, site, i);

        argv[0] = "HGETALL";
        argvlen[0] = 7;
        argv[1] = (char *) key;
        argvlen[1] = p - key;

        cmds[1 + i].argc = 2;
        cmds[1 + i].argv = argv;
        cmds[1 + i].argvlen = argvlen;

        argv += 2;
        argvlen += 2;
    }

    return NGX_OK;
}


/* ":booked:<kind>:<UTC date>" for each day */

static ngx_int_t
ngx_http_mobispot_avail_suffixes(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av)
{
    u_char      *p;
    size_t       kind_len;
    ngx_uint_t   i;

    kind_len = ngx_strlen(mobispot_kind_names[av->kind]);

    av->suffix_len = sizeof(":booked::") - 1 + kind_len + MOBISPOT_DATE_LEN;
    av->suffixes = ngx_pnalloc(r->pool, av->ndays * av->suffix_len);

    if (av->suffixes == NULL) {
        return NGX_ERROR;
    }

    p = av->suffixes;

    for (i = 0; i < av->ndays; i++) {
        p = ngx_cpymem(p, ":booked:", sizeof(":booked:") - 1);
        p = ngx_cpymem(p, mobispot_kind_names[av->kind], kind_len);
        *p++ = ':';
        p += mobispot_format_date(av->day0 + i, (char *) p);
    }

    return NGX_OK;
}


/* ms:{site:<id>}:booked:<kind>:<date> of the d-th day read, at p */

static u_char *
ngx_http_mobispot_booked_key(u_char *p, ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site, ngx_uint_t d)
{
    p = ngx_cpymem(p, "ms:{site:", sizeof("ms:{site:") - 1);
    p = ngx_cpymem(p, site->id.data, site->id.len);
    *p++ = '}';

    return ngx_cpymem(p, av->suffixes + d * av->suffix_len, av->suffix_len);
}


/* index 0: the HMGET, 1..ndays: the booked hashes */

static void
ngx_http_mobispot_site_reply(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    ngx_uint_t index, redisReply *reply)
{
    size_t                       i, n;
    ngx_str_t                   *s;
    long long                    count;
    unsigned long                minute;
    ngx_http_mobispot_booked_t  *b;

    if (index == 0) {
        if (reply->type != REDIS_REPLY_ARRAY
            || reply->elements != NGX_HTTP_MOBISPOT_FIELDS)
        {
            av->bad = 1;
            return;
        }

        for (i = 0; i < NGX_HTTP_MOBISPOT_FIELDS; i++) {
            if (reply->element[i]->type == REDIS_REPLY_NIL) {
                continue;
            }

            s = ngx_http_mobispot_spots_copy_reply(r, reply->element[i]);
            if (s == NULL) {
                av->bad = 1;
                return;
            }

            site->f[i] = *s;
        }

        site->found = (site->f[NGX_HTTP_MOBISPOT_F_NAME].data != NULL);
        return;
    }

    index--;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        av->bad = 1;
        return;
    }

    n = reply->elements / 2;

    if (n == 0) {
        return;
    }

    b = ngx_palloc(r->pool, n * sizeof(ngx_http_mobispot_booked_t));
    if (b == NULL) {
        av->bad = 1;
        return;
    }

    site->booked[index] = b;
    site->nbooked[index] = 0;

    for (i = 0; i < n; i++) {
        if (reply->element[2 * i]->type != REDIS_REPLY_STRING
            || mobispot_parse_uint(reply->element[2 * i]->str,
                                   reply->element[2 * i]->len, 1439, &minute)
               != MOBISPOT_OK
            || mobispot_reply_integer(reply->element[2 * i + 1], &count)
               != MOBISPOT_OK)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mobispot: malformed booked hash of site \"%V\"",
                          &site->id);
            continue;
        }

        b[site->nbooked[index]].minute = (uint16_t) minute;
        b[site->nbooked[index]].count = count;
        site->nbooked[index]++;
    }
}


/* decodes the info fields: tz, slot length, hours, capacities */

static ngx_int_t
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


static int64_t
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

static size_t
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

static void
ngx_http_mobispot_site_open(ngx_http_mobispot_site_t *site,
    mobispot_slot_t *slots, size_t n)
{
    mobispot_slots_open(slots, n, &site->info.hours,
                        (char *) site->info.closed.data,
                        site->info.closed.len);
}


/* free and open of a site over the window of the request */

static void
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


/*
 * A site whose info is known (cached): HMGET of the booked fields of the
 * window's slots, one command per UTC day, instead of HGETALL of whole
 * days; nothing at all when the window is not within opening hours (the
 * site is then closed, whatever is booked).
 */

static ngx_int_t
ngx_http_mobispot_site_slot_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_uint_t index, mobispot_slot_t *slots,
    size_t n, ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t *ncmds)
{
    u_char                       *p, *key;
    size_t                        i, j, k, *argvlen;
    int64_t                       day;
    ngx_uint_t                    d;
    const char                  **argv;
    ngx_http_mobispot_site_t     *site;
    ngx_http_mobispot_cmd_map_t  *m;

    site = &av->sites[index];

    for (i = 0; i < n; i++) {
        if (!slots[i].open) {
            return NGX_OK;
        }
    }

    if (av->suffixes == NULL) {
        if (ngx_http_mobispot_avail_suffixes(r, av) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* the slots are in order: a run of slots per UTC day */

    for (i = 0; i < n; i = j) {
        day = mobispot_floor_div(slots[i].start, 86400);

        for (j = i + 1;
             j < n && mobispot_floor_div(slots[j].start, 86400) == day;
             j++)
        {
            /* void */
        }

        if (day < av->day0 || day >= av->day0 + (int64_t) av->ndays) {
            /* cannot be: the days read cover the window */
            continue;
        }

        d = (ngx_uint_t) (day - av->day0);

        argv = ngx_palloc(r->pool, (2 + j - i) * sizeof(char *));
        argvlen = ngx_palloc(r->pool, (2 + j - i) * sizeof(size_t));
        key = ngx_pnalloc(r->pool, sizeof("ms:{site:}") - 1 + site->id.len
                                   + av->suffix_len
                                   + (j - i) * sizeof("1439") - 1);
        m = &av->map[av->nmap];
        m->minutes = ngx_palloc(r->pool, (j - i) * sizeof(uint16_t));

        if (argv == NULL || argvlen == NULL || key == NULL
            || m->minutes == NULL)
        {
            return NGX_ERROR;
        }

        p = ngx_http_mobispot_booked_key(key, av, site, d);

        argv[0] = "HMGET";
        argvlen[0] = 5;
        argv[1] = (char *) key;
        argvlen[1] = p - key;

        for (k = 0; k < j - i; k++) {
            m->minutes[k] = (uint16_t) ((slots[i + k].start - day * 86400)
                                        / 60);
            argv[2 + k] = (char *) p;
            argvlen[2 + k] = ngx_sprintf(p, "%ui",
                                         (ngx_uint_t) m->minutes[k]) - p;
            p += argvlen[2 + k];
        }

        m->site = index;
        m->what = NGX_HTTP_MOBISPOT_READ_SLOTS;
        m->day = d;
        m->nminutes = j - i;

        cmds[*ncmds].argc = (int) (2 + j - i);
        cmds[*ncmds].argv = argv;
        cmds[*ncmds].argvlen = argvlen;

        (*ncmds)++;
        av->nmap++;
    }

    return NGX_OK;
}


/* the reply of the HMGET of a day's slots: a count or nil per slot */

static void
ngx_http_mobispot_site_slots_reply(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_cmd_map_t *m,
    redisReply *reply)
{
    size_t                       i;
    long long                    count;
    ngx_http_mobispot_site_t    *site;
    ngx_http_mobispot_booked_t  *b;

    site = &av->sites[m->site];

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != m->nminutes) {
        av->bad = 1;
        return;
    }

    b = ngx_palloc(r->pool, m->nminutes * sizeof(ngx_http_mobispot_booked_t));
    if (b == NULL) {
        av->bad = 1;
        return;
    }

    site->booked[m->day] = b;
    site->nbooked[m->day] = 0;

    for (i = 0; i < m->nminutes; i++) {
        if (reply->element[i]->type == REDIS_REPLY_NIL) {
            continue;
        }

        if (mobispot_reply_integer(reply->element[i], &count) != MOBISPOT_OK)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mobispot: malformed booked hash of site \"%V\"",
                          &site->id);
            continue;
        }

        b[site->nbooked[m->day]].minute = m->minutes[i];
        b[site->nbooked[m->day]].count = count;
        site->nbooked[m->day]++;
    }
}


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
 * The UTC days of a window's booked counts: those its slots start in.  Its
 * first slot may start up to a slot length before "from", on the UTC day
 * before, in a zone whose UTC offset is not a multiple of the slot length
 * (Asia/Kolkata, 60-minute slots: one runs from 23:30Z to 00:30Z).
 */

static void
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

static void
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

    return ngx_http_mobispot_api_redis(r, ctx, cmds, 1 + av->ndays,
                                       ngx_http_mobispot_availability_reply,
                                       ngx_http_mobispot_availability_done);
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


/*
 * {"site":"..","kind":"desk","time_zone":"..","capacity":N,"date":"..",
 *  "from":"..","to":"..","slots":[{"start","end","free"}]}: open slots
 */

static ngx_int_t
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
 * GET {prefix}spots/nearby?lat=&lon=&radius_km=&kind=&from=&to=&limit=&all=
 */

ngx_int_t
ngx_http_mobispot_nearby(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    u_char                          *p;
    int64_t                          now;
    ngx_int_t                        rc;
    ngx_str_t                        key;
    ngx_uint_t                       count;
    unsigned long                    limit;
    const char                     **argv;
    size_t                          *argvlen;
    ngx_http_mobispot_avail_t       *av;
    ngx_http_mobispot_redis_cmd_t   *cmd;
    int                              all;

    static const char    *version[] = { "GET",
                                        NGX_HTTP_MOBISPOT_KEY_VERSION };
    static const size_t   version_len[] = {
        sizeof("GET") - 1, sizeof(NGX_HTTP_MOBISPOT_KEY_VERSION) - 1 };

    ngx_http_mobispot_arg_t  args[] = {
        { "lat", ngx_null_string, 0 },
        { "lon", ngx_null_string, 0 },
        { "radius_km", ngx_null_string, 0 },
        { "kind", ngx_null_string, 0 },
        { "from", ngx_null_string, 0 },
        { "to", ngx_null_string, 0 },
        { "limit", ngx_null_string, 0 },
        { "all", ngx_null_string, 0 },
    };

    rc = ngx_http_mobispot_spots_args(r, args, 8);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    av = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_avail_t));
    if (av == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = av;

    if (!args[0].set || !args[1].set) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "missing_parameter",
                                             "lat and lon are required",
                                             "parameter",
                                             args[0].set ? "lon" : "lat");
    }

    if (mobispot_parse_double((char *) args[0].value.data, args[0].value.len,
                              &av->lat)
        != MOBISPOT_OK || !mobispot_valid_lat(av->lat))
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "lat must be a decimal number "
                                             "from -85.05112878 to "
                                             "85.05112878",
                                             "parameter", "lat");
    }

    if (mobispot_parse_double((char *) args[1].value.data, args[1].value.len,
                              &av->lon)
        != MOBISPOT_OK || !mobispot_valid_lon(av->lon))
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "lon must be a decimal number "
                                             "from -180 to 180",
                                             "parameter", "lon");
    }

    av->radius = 25.0;

    if (args[2].set
        && (mobispot_parse_double((char *) args[2].value.data,
                                  args[2].value.len, &av->radius)
            != MOBISPOT_OK || !mobispot_valid_radius(av->radius)))
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "radius_km must be a decimal "
                                             "number greater than 0 and at "
                                             "most 500",
                                             "parameter", "radius_km");
    }

    rc = ngx_http_mobispot_avail_kind(r, av, &args[3]);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    rc = ngx_http_mobispot_avail_window(r, av, &args[4], &args[5],
                                        MOBISPOT_NEARBY_WINDOW_MAX);
    if (rc != NGX_OK || r->header_sent) {
        return rc;
    }

    if (!args[4].set) {
        /* now to the next half-hour boundary plus one hour */
        now = ngx_time();
        av->from = now;
        av->to = (mobispot_floor_div(now + 1799, 1800)) * 1800 + 3600;
    }

    limit = MOBISPOT_LIMIT_DEFAULT;

    if (args[6].set
        && (mobispot_parse_uint((char *) args[6].value.data,
                                args[6].value.len, MOBISPOT_LIMIT_MAX, &limit)
            != MOBISPOT_OK || limit == 0))
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "limit must be an integer from "
                                             "1 to 100",
                                             "parameter", "limit");
    }

    all = 0;

    if (args[7].set
        && mobispot_parse_bool((char *) args[7].value.data, args[7].value.len,
                               &all)
           != MOBISPOT_OK)
    {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_parameter",
                                             "all must be true or false",
                                             "parameter", "all");
    }

    av->limit = limit;
    av->all = all;
    ngx_http_mobispot_window_days(av);

    av->signed_in = (ngx_http_mobispot_spots_pass(r, &av->pass) == NGX_OK);

    /*
     * The cache key: the normalized query (the numbers as Redis is sent
     * them) and the caller's passports, which "entitled" depends on.
     */

    key.data = ngx_pnalloc(r->pool, 5 * 32 + 4 * NGX_INT64_LEN
                                    + av->pass.len);
    if (key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key.len = ngx_sprintf(key.data, "nearby %.7f %.7f %.4f %d %L %L %ui %ui "
                          "%ui %V", av->lat, av->lon, av->radius, av->kind,
                          av->from, av->to, av->limit, av->all,
                          av->signed_in, &av->pass)
              - key.data;

    rc = ngx_http_mobispot_api_cached(r, ctx, &key);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ctx->cache != NULL) {
        /* each site's part too, while the version sent now is current */
        av->part_epoch = ngx_http_mobispot_cache_epoch(ctx->mcf->cache);
        ngx_http_mobispot_cache_counter(ctx->mcf->cache,
                                        NGX_HTTP_MOBISPOT_KEY_VERSION,
                                        sizeof(NGX_HTTP_MOBISPOT_KEY_VERSION)
                                        - 1,
                                        &av->version_dep);
    }

    /*
     * Candidates: the limit when every site is wanted, else three times
     * as many (at most 200), so that full sites can be skipped.
     */

    count = av->all ? av->limit
                    : ngx_min(3 * av->limit, NGX_HTTP_MOBISPOT_CANDIDATES_MAX);

    argv = ngx_palloc(r->pool, 13 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 13 * sizeof(size_t));
    p = ngx_pnalloc(r->pool, 4 * 32);
    cmd = ngx_palloc(r->pool, 2 * sizeof(ngx_http_mobispot_redis_cmd_t));

    if (argv == NULL || argvlen == NULL || p == NULL || cmd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "GEOSEARCH";
    argv[1] = NGX_HTTP_MOBISPOT_KEY_GEO;
    argv[2] = "FROMLONLAT";
    argv[3] = (char *) p;
    argvlen[3] = mobispot_format_coordinate((char *) p, 32, av->lon);
    p += 32;
    argv[4] = (char *) p;
    argvlen[4] = mobispot_format_coordinate((char *) p, 32, av->lat);
    p += 32;

    if (argvlen[3] == 0 || argvlen[4] == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[5] = "BYRADIUS";
    argv[6] = (char *) p;
    argvlen[6] = ngx_sprintf(p, "%.4f", av->radius) - p;
    p += 32;
    argv[7] = "km";
    argv[8] = "ASC";
    argv[9] = "COUNT";
    argv[10] = (char *) p;
    argvlen[10] = ngx_sprintf(p, "%ui", count) - p;
    argv[11] = "WITHDIST";

    argvlen[0] = 9;
    argvlen[1] = sizeof(NGX_HTTP_MOBISPOT_KEY_GEO) - 1;
    argvlen[2] = 10;
    argvlen[5] = 8;
    argvlen[7] = 2;
    argvlen[8] = 3;
    argvlen[9] = 5;
    argvlen[11] = 8;

    cmd[0].argc = 12;
    cmd[0].argv = argv;
    cmd[0].argvlen = argvlen;

    /* the catalogue version, for the worker's site info cache */

    cmd[1].argc = 2;
    cmd[1].argv = version;
    cmd[1].argvlen = version_len;

    return ngx_http_mobispot_api_redis(r, ctx, cmd, 2,
                                       ngx_http_mobispot_nearby_geo_reply,
                                       ngx_http_mobispot_nearby_geo_done);
}


/* [[member, distance], ...], then the catalogue version (or nil) */

static void
ngx_http_mobispot_nearby_geo_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    size_t                      i;
    long long                   version;
    ngx_str_t                  *id, *dist;
    redisReply                 *e;
    ngx_http_mobispot_avail_t  *av;

    av = ctx->data;

    if (index == 1) {
        av->version = -1;

        if (reply->type == REDIS_REPLY_NIL) {
            return;
        }

        if (mobispot_reply_integer(reply, &version) != MOBISPOT_OK
            || version < 0)
        {
            /* the answer does not need the cache: it is only not used */
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mobispot: \"" NGX_HTTP_MOBISPOT_KEY_VERSION
                          "\" is not a counter, site info not cached");
            return;
        }

        av->version = version;
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        av->bad = 1;
        return;
    }

    if (reply->elements == 0) {
        return;
    }

    av->sites = ngx_pcalloc(r->pool,
                            reply->elements * sizeof(ngx_http_mobispot_site_t));
    if (av->sites == NULL) {
        av->bad = 1;
        return;
    }

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) {
            av->bad = 1;
            return;
        }

        id = ngx_http_mobispot_spots_copy_reply(r, e->element[0]);
        dist = ngx_http_mobispot_spots_copy_reply(r, e->element[1]);

        if (id == NULL || dist == NULL) {
            av->bad = 1;
            return;
        }

        if (!mobispot_id_valid((char *) id->data, id->len)) {
            continue;
        }

        av->sites[av->nsites].id = *id;
        av->sites[av->nsites].dist = *dist;
        av->nsites++;
    }
}


static void
ngx_http_mobispot_nearby_geo_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    size_t                           k, max;
    ngx_int_t                        rc;
    ngx_uint_t                       i, n, n0, d;
    mobispot_slot_t                 *slots;
    ngx_http_mobispot_avail_t       *av;
    ngx_http_mobispot_site_t        *site;
    ngx_http_mobispot_redis_cmd_t   *cmds;
    ngx_http_mobispot_main_conf_t   *mcf;
    ngx_http_mobispot_spots_main_conf_t  *smcf;

    static const char    *passports[] = { "HGETALL",
                                          NGX_HTTP_MOBISPOT_KEY_PASSPORTS };
    static const size_t   passports_len[] = {
        sizeof("HGETALL") - 1, sizeof(NGX_HTTP_MOBISPOT_KEY_PASSPORTS) - 1 };

    av = ctx->data;

    if (ngx_http_mobispot_spots_call_failed(r, status, av->bad, "GEOSEARCH")) {
        return;
    }

    if (av->nsites == 0) {
        ngx_http_finalize_request(r, ngx_http_mobispot_nearby_send(r, av));
        return;
    }

    /*
     * The second and last round trip: every candidate in one batch.  A
     * site whose info the worker has under the version just read needs
     * only the booked fields of the window's slots; others need their
     * info and whole booked days.
     */

    n = av->nsites * (1 + av->ndays) + (av->signed_in ? 1 : 0);
    max = ngx_http_mobispot_nearby_slots_max(av);

    cmds = ngx_palloc(r->pool, n * sizeof(ngx_http_mobispot_redis_cmd_t));
    av->map = ngx_palloc(r->pool,
                         n * sizeof(ngx_http_mobispot_cmd_map_t));
    slots = ngx_palloc(r->pool, max * sizeof(mobispot_slot_t));

    if (cmds == NULL || av->map == NULL || slots == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);
    smcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_spots_module);

    ngx_http_mobispot_info_cache_version(smcf->info_cache, av->version);

    n = 0;

    for (i = 0; i < av->nsites; i++) {
        site = &av->sites[i];

        rc = ngx_http_mobispot_info_cache_get(smcf->info_cache, &site->id,
                                              av->version, r->pool,
                                              &site->info);

        if (rc == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (rc == NGX_OK) {
            site->found = 1;
            site->prepared = 1;
            site->capacity = site->info.cap[av->kind];

            /*
             * The slots say which part; whether they are open is needed
             * only if the part is not there.
             */

            k = mobispot_slots(site->info.tz, site->info.slot, av->from,
                               av->to, slots, max);

            if (av->part_epoch) {
                rc = ngx_http_mobispot_nearby_part(r, av, site, slots, k,
                                                   mcf->cache, ctx->cache);

                if (rc == NGX_ERROR) {
                    ngx_http_finalize_request(r,
                                              NGX_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

                if (rc == NGX_OK) {
                    /* no command for this site */
                    continue;
                }
            }

            ngx_http_mobispot_site_open(site, slots, k);

            /* kept for nearby_done(), which needs them again */

            site->slots = ngx_palloc(r->pool, k * sizeof(mobispot_slot_t));
            if (site->slots == NULL) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            ngx_memcpy(site->slots, slots, k * sizeof(mobispot_slot_t));
            site->nslots = k;

            n0 = n;

            if (ngx_http_mobispot_site_slot_cmds(r, av, i, slots, k, cmds, &n)
                != NGX_OK)
            {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            if (site->part.len == 0) {
                continue;
            }

            /* the part depends on the version and on the keys read now */

            site->deps = ngx_palloc(r->pool, (1 + n - n0)
                                     * sizeof(ngx_http_mobispot_cache_dep_t));
            if (site->deps == NULL) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            site->deps[0] = av->version_dep;
            site->ndeps = 1;

            for (d = n0; d < n; d++) {
                ngx_http_mobispot_cache_counter(mcf->cache, cmds[d].argv[1],
                                                cmds[d].argvlen[1],
                                                &site->deps[site->ndeps++]);
            }

            continue;
        }

        if (ngx_http_mobispot_site_cmds(r, av, site, &cmds[n]) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        for (d = 0; d < 1 + av->ndays; d++) {
            av->map[av->nmap].site = i;
            av->map[av->nmap].what = d ? NGX_HTTP_MOBISPOT_READ_DAY
                                       : NGX_HTTP_MOBISPOT_READ_INFO;
            av->map[av->nmap].day = d ? d - 1 : 0;
            av->nmap++;
        }

        n += 1 + av->ndays;
    }

    if (av->signed_in) {
        if (ngx_array_init(&av->passports, r->pool, 8, sizeof(ngx_str_t))
            != NGX_OK)
        {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        rc = NGX_DECLINED;

        if (av->part_epoch) {
            rc = ngx_http_mobispot_passports_part(r, av, mcf->cache,
                                                  ctx->cache);
            if (rc == NGX_ERROR) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            if (rc == NGX_DECLINED) {
                /* kept once read, under its key's counter as of now */
                av->keep_passports = 1;
                ngx_http_mobispot_cache_counter(mcf->cache, passports[1],
                                                passports_len[1],
                                                &av->passports_dep);
            }
        }

        if (rc == NGX_DECLINED) {
            cmds[n].argc = 2;
            cmds[n].argv = passports;
            cmds[n].argvlen = passports_len;
            n++;
        }
    }

    if (n == 0) {
        /* every candidate is cached and closed over the window */
        ngx_http_mobispot_nearby_done(r, ctx, NGX_HTTP_MOBISPOT_REDIS_OK);
        return;
    }

    rc = ngx_http_mobispot_api_redis(r, ctx, cmds, n,
                                     ngx_http_mobispot_nearby_reply,
                                     ngx_http_mobispot_nearby_done);

    /* NGX_DONE releases the reference of the first call */
    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_mobispot_nearby_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    size_t                        i;
    ngx_str_t                    *s, *e;
    ngx_http_mobispot_avail_t    *av;
    ngx_http_mobispot_cmd_map_t  *m;

    av = ctx->data;

    if (index < av->nmap) {
        m = &av->map[index];

        switch (m->what) {

        case NGX_HTTP_MOBISPOT_READ_SLOTS:
            ngx_http_mobispot_site_slots_reply(r, av, m, reply);
            return;

        case NGX_HTTP_MOBISPOT_READ_DAY:
            ngx_http_mobispot_site_reply(r, av, &av->sites[m->site],
                                         1 + m->day, reply);
            return;

        default: /* NGX_HTTP_MOBISPOT_READ_INFO */
            ngx_http_mobispot_site_reply(r, av, &av->sites[m->site], 0,
                                         reply);
            return;
        }
    }

    /* HGETALL of the passports of the networks */

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        av->bad = 1;
        return;
    }

    for (i = 0; i < reply->elements; i++) {
        s = ngx_http_mobispot_spots_copy_reply(r, reply->element[i]);
        e = ngx_array_push(&av->passports);

        if (s == NULL || e == NULL) {
            av->bad = 1;
            return;
        }

        *e = *s;
    }

    if (av->keep_passports) {
        ngx_http_mobispot_passports_keep(r, av);
    }
}


static void
ngx_http_mobispot_nearby_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    size_t                          max;
    ngx_uint_t                      i;
    mobispot_slot_t                *slots;
    ngx_http_mobispot_part_t        part;
    ngx_http_mobispot_avail_t      *av;
    ngx_http_mobispot_site_t       *site;
    ngx_http_mobispot_main_conf_t  *mcf;
    ngx_http_mobispot_spots_main_conf_t  *smcf;

    av = ctx->data;

    if (ngx_http_mobispot_spots_call_failed(r, status, av->bad, "nearby")) {
        return;
    }

    max = ngx_http_mobispot_nearby_slots_max(av);

    slots = ngx_palloc(r->pool, max * sizeof(mobispot_slot_t));
    if (slots == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);
    smcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_spots_module);

    for (i = 0; i < av->nsites; i++) {
        site = &av->sites[i];

        if (!site->found) {
            /* in the GEO index, deleted or not yet written: skipped */
            continue;
        }

        if (!site->prepared) {
            if (ngx_http_mobispot_site_prepare(r, av, site) != NGX_OK) {
                site->found = 0;
                continue;
            }

            ngx_http_mobispot_info_cache_put(smcf->info_cache, &site->id,
                                             av->version, &site->info);
        }

        if (!site->from_part) {
            if (site->slots == NULL) {
                site->slots = slots;
                site->nslots = ngx_http_mobispot_site_slots(av, site, slots,
                                                            max);
            }

            ngx_http_mobispot_site_window(av, site, site->slots,
                                          site->nslots);

            if (site->deps != NULL) {
                ngx_memzero(&part, sizeof(ngx_http_mobispot_part_t));
                part.free = site->free;
                part.open = site->open;

                ngx_http_mobispot_cache_put_part(mcf->cache, &site->part,
                                                 av->part_epoch, site->deps,
                                                 site->ndeps, &part,
                                                 sizeof(part));
            }
        }

        site->entitled = av->signed_in
                         ? ngx_http_mobispot_nearby_entitled(av, site) : -1;
    }

    ngx_http_finalize_request(r, ngx_http_mobispot_nearby_send(r, av));
}


/*
 * A site whose info is cached: its part (free and open of this kind over
 * the window's n slots), if the answer cache has it under the version just
 * read; the keys the part was computed from become the answer's (req, when
 * it will be stored).  NGX_DECLINED: not there; site->part is then the key
 * to store it under.
 *
 * The part is keyed by the slots, not by the window: free and open depend
 * only on which slots the window overlaps, so every window within the same
 * slots (the default one, which starts "now", for a whole slot) shares it.
 */

static ngx_int_t
ngx_http_mobispot_nearby_part(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    mobispot_slot_t *slots, size_t n, ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req)
{
    u_char                    *body;
    size_t                     len;
    int64_t                    first, last;
    ngx_http_mobispot_part_t   part;

    site->part.data = ngx_pnalloc(r->pool, site->id.len + 3 * NGX_INT64_LEN
                                           + 32);
    if (site->part.data == NULL) {
        return NGX_ERROR;
    }

    first = n ? slots[0].start : 0;
    last = n ? slots[n - 1].end : 0;

    site->part.len = ngx_sprintf(site->part.data, "part %V %d %L %L %uz",
                                 &site->id, av->kind, first, last, n)
                     - site->part.data;

    body = ngx_http_mobispot_cache_get(cache, &site->part,
                                       ngx_murmur_hash2(site->part.data,
                                                        site->part.len),
                                       &len, req);

    if (body == NULL || len != sizeof(ngx_http_mobispot_part_t)) {
        return NGX_DECLINED;
    }

    ngx_memcpy(&part, body, sizeof(ngx_http_mobispot_part_t));

    site->free = part.free;
    site->open = part.open;
    site->from_part = 1;

    return NGX_OK;
}


/* whether an item is in a list separated by commas or blanks */

static ngx_uint_t
ngx_http_mobispot_list_has(u_char *list, size_t len, u_char *item,
    size_t item_len)
{
    u_char  *p, *end, *start;

    p = list;
    end = list + len;

    while (p < end) {
        while (p < end && (*p == ',' || *p == ' ')) {
            p++;
        }

        start = p;

        while (p < end && *p != ',' && *p != ' ') {
            p++;
        }

        if ((size_t) (p - start) == item_len && item_len
            && ngx_strncmp(start, item, item_len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * The networks' passports (the HGETALL of ms:{networks}:passport), kept as
 * a part: each string as its length (a size_t) and its bytes, one after
 * the other.  It depends on that key alone.
 */

static ngx_str_t  ngx_http_mobispot_passports_key = ngx_string("passports");


static ngx_int_t
ngx_http_mobispot_passports_part(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req)
{
    u_char     *body, *p, *end;
    size_t      len, n;
    ngx_str_t  *e;

    body = ngx_http_mobispot_cache_get(cache, &ngx_http_mobispot_passports_key,
                  ngx_murmur_hash2(ngx_http_mobispot_passports_key.data,
                                   ngx_http_mobispot_passports_key.len),
                  &len, req);

    if (body == NULL) {
        return NGX_DECLINED;
    }

    /* the entry may be replaced before the answer is made: a copy */

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, body, len);
    end = p + len;

    while (p < end) {
        if ((size_t) (end - p) < sizeof(size_t)) {
            return NGX_ERROR;
        }

        ngx_memcpy(&n, p, sizeof(size_t));
        p += sizeof(size_t);

        if ((size_t) (end - p) < n) {
            return NGX_ERROR;
        }

        e = ngx_array_push(&av->passports);
        if (e == NULL) {
            return NGX_ERROR;
        }

        e->data = p;
        e->len = n;
        p += n;
    }

    return NGX_OK;
}


static void
ngx_http_mobispot_passports_keep(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av)
{
    u_char                         *blob, *p;
    size_t                          len;
    ngx_str_t                      *pp;
    ngx_uint_t                      i;
    ngx_http_mobispot_main_conf_t  *mcf;

    pp = av->passports.elts;
    len = 0;

    for (i = 0; i < av->passports.nelts; i++) {
        len += sizeof(size_t) + pp[i].len;
    }

    blob = ngx_pnalloc(r->pool, len);
    if (blob == NULL) {
        /* not kept: asked again next time */
        return;
    }

    p = blob;

    for (i = 0; i < av->passports.nelts; i++) {
        p = ngx_cpymem(p, &pp[i].len, sizeof(size_t));
        p = ngx_cpymem(p, pp[i].data, pp[i].len);
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);

    ngx_http_mobispot_cache_put_part(mcf->cache,
                                     &ngx_http_mobispot_passports_key,
                                     av->part_epoch, &av->passports_dep, 1,
                                     blob, len);
}


/* the caller's passport covers one of the site's networks */

static ngx_int_t
ngx_http_mobispot_nearby_entitled(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site)
{
    ngx_str_t   *pp, *nets;
    ngx_uint_t   i;

    pp = av->passports.elts;
    nets = &site->info.networks;

    for (i = 0; i + 1 < av->passports.nelts; i += 2) {
        if (ngx_http_mobispot_list_has(nets->data, nets->len, pp[i].data,
                                       pp[i].len)
            && ngx_http_mobispot_list_has(av->pass.data, av->pass.len,
                                          pp[i + 1].data, pp[i + 1].len))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * {"kind":"desk","from":"..","to":"..","sites":[{"id","name","town",
 *  "distance_km","free","open"[,"entitled"]}]}, nearest first
 */

static ngx_int_t
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
