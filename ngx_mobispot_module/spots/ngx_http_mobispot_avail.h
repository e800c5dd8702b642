
/*
 * Copyright (C) Mobispot
 *
 * Availability and nearby, shared by their files: GET {prefix}spots/{id}/
 * availability (one round trip, ngx_http_mobispot_availability.c) and
 * GET {prefix}spots/nearby (GEOSEARCH, then the candidates in rounds,
 * ngx_http_mobispot_nearby.c).  Free
 * capacity is the capacity of a kind less the bookings of each slot, in
 * the site's opening hours, in its time zone (ngx_http_mobispot_avail.c);
 * a site's Redis reads are in ngx_http_mobispot_avail_read.c, the answers
 * in ngx_http_mobispot_avail_json.c, nearby's parts and entitlement in
 * ngx_http_mobispot_nearby_part.c.
 */


#ifndef _NGX_HTTP_MOBISPOT_AVAIL_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_AVAIL_H_INCLUDED_


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
#define NGX_HTTP_MOBISPOT_F_ZONE      (7 + MOBISPOT_KINDS)
#define NGX_HTTP_MOBISPOT_FIELDS      (8 + MOBISPOT_KINDS)

/*
 * UTC days read for one site: 5 for "today", 9 for a 7-day window (8 days
 * it touches, and the day before, where its first slot may start)
 */
#define NGX_HTTP_MOBISPOT_DAYS_MAX    9


typedef struct {
    uint16_t                    minute;
    int64_t                     count;
} ngx_http_mobispot_booked_t;


/* what a command of a nearby round reads, per site */
#define NGX_HTTP_MOBISPOT_READ_INFO     0   /* HMGET info */
#define NGX_HTTP_MOBISPOT_READ_SLOTS    1   /* HMGET of slots of a day */

/* the step of a nearby round (ngx_http_mobispot_nearby.c) */
#define NGX_HTTP_MOBISPOT_ROUND_NEXT    0   /* to start, or to answer */
#define NGX_HTTP_MOBISPOT_ROUND_INFO    1   /* the info to read */
#define NGX_HTTP_MOBISPOT_ROUND_SLOTS   2   /* the booked slots to read */
#define NGX_HTTP_MOBISPOT_ROUND_DONE    3   /* all read: sites listed */


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
    ngx_http_mobispot_cache_dep_t info_dep; /* its info, when read */
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

    /* nearby: the round, its sites (first to last - 1), those listed */
    ngx_uint_t                  round;
    ngx_uint_t                  first;
    ngx_uint_t                  last;
    ngx_uint_t                  listed;
    ngx_uint_t                  passports_asked;
} ngx_http_mobispot_avail_t;


/* the window and its days, free capacity (ngx_http_mobispot_avail.c) */

ngx_int_t ngx_http_mobispot_avail_kind(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_arg_t *kind);
ngx_int_t ngx_http_mobispot_avail_window(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_arg_t *from,
    ngx_http_mobispot_arg_t *to, int64_t max);
void ngx_http_mobispot_window_days(ngx_http_mobispot_avail_t *av);
void ngx_http_mobispot_avail_days(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);
ngx_int_t ngx_http_mobispot_site_prepare(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site);
int64_t ngx_http_mobispot_site_booked(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site, int64_t start);
size_t ngx_http_mobispot_site_slots(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site, mobispot_slot_t *slots, size_t max);
void ngx_http_mobispot_site_open(ngx_http_mobispot_site_t *site,
    mobispot_slot_t *slots, size_t n);
void ngx_http_mobispot_site_window(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site, mobispot_slot_t *slots, size_t n);


/* a site's reads (ngx_http_mobispot_avail_read.c) */

ngx_int_t ngx_http_mobispot_site_info_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_site_t *site, ngx_http_mobispot_redis_cmd_t *cmd);
ngx_int_t ngx_http_mobispot_site_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    ngx_http_mobispot_redis_cmd_t *cmds);
void ngx_http_mobispot_site_reply(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    ngx_uint_t index, redisReply *reply);
ngx_int_t ngx_http_mobispot_site_slot_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_uint_t index, mobispot_slot_t *slots,
    size_t n, ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t *ncmds);
void ngx_http_mobispot_site_slots_reply(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_cmd_map_t *m,
    redisReply *reply);


/* the answers (ngx_http_mobispot_avail_json.c) */

ngx_int_t ngx_http_mobispot_availability_send(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);
ngx_int_t ngx_http_mobispot_nearby_send(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);


/* nearby's parts and entitlement (ngx_http_mobispot_nearby_part.c) */

ngx_int_t ngx_http_mobispot_nearby_part(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    mobispot_slot_t *slots, size_t n,
    ngx_http_mobispot_cache_t *cache, ngx_http_mobispot_cache_req_t *req);
ngx_int_t ngx_http_mobispot_passports_part(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req);
void ngx_http_mobispot_passports_keep(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);
ngx_int_t ngx_http_mobispot_nearby_entitled(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site);
ngx_int_t ngx_http_mobispot_nearby_passports(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_uint_t *n);
void ngx_http_mobispot_nearby_listed(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);


/* the nearest sites (ngx_http_mobispot_avail_read.c) */

ngx_int_t ngx_http_mobispot_geosearch_cmd(ngx_http_request_t *r, double lat,
    double lon, double radius, ngx_uint_t count,
    ngx_http_mobispot_redis_cmd_t *cmd);


#endif /* _NGX_HTTP_MOBISPOT_AVAIL_H_INCLUDED_ */
