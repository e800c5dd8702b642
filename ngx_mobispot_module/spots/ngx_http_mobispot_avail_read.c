
/*
 * Copyright (C) Mobispot
 *
 * A site's Redis reads for availability and nearby: the commands (HMGET
 * of its info hash; HGETALL of each UTC day of the window for
 * availability; for nearby, once the info is known, HMGET of the booked
 * fields of the window's slots) and the decoding of their replies; and
 * the GEOSEARCH of the nearest sites (nearby, book the nearest).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_avail.h"


static ngx_int_t ngx_http_mobispot_avail_suffixes(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av);
static u_char *ngx_http_mobispot_booked_key(u_char *p,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    ngx_uint_t d);


/* every capacity: the info of a site is cached whatever the kind asked */
static const char  *ngx_http_mobispot_info_fields[NGX_HTTP_MOBISPOT_FIELDS] =
{
    "name", "town", "tz", "slot", "hours", "closed", "networks",
    "cap:desk", "cap:meeting_room", "cap:conference_room", "cap:training_room",
    "zone"
};


/* HMGET of the info hash of a site */

ngx_int_t
ngx_http_mobispot_site_info_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_site_t *site, ngx_http_mobispot_redis_cmd_t *cmd)
{
    u_char       *p, *key;
    size_t       *argvlen;
    ngx_uint_t    i;
    const char  **argv;

    argv = ngx_palloc(r->pool, (2 + NGX_HTTP_MOBISPOT_FIELDS) * sizeof(char *));
    argvlen = ngx_palloc(r->pool,
                         (2 + NGX_HTTP_MOBISPOT_FIELDS) * sizeof(size_t));
    key = ngx_pnalloc(r->pool, sizeof("ms:{site:}:info") - 1 + site->id.len);

    if (argv == NULL || argvlen == NULL || key == NULL) {
        return NGX_ERROR;
    }

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

    cmd->argc = 2 + NGX_HTTP_MOBISPOT_FIELDS;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}


/* HMGET of the info hash, then HGETALL of each UTC day of the window */

ngx_int_t
ngx_http_mobispot_site_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    ngx_http_mobispot_redis_cmd_t *cmds)
{
    u_char       *p, *key;
    size_t       *argvlen;
    ngx_uint_t    i;
    const char  **argv;

    /* the key suffixes shared by every site of the request */

    if (av->suffixes == NULL) {
        if (ngx_http_mobispot_avail_suffixes(r, av) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_mobispot_site_info_cmd(r, site, &cmds[0]) != NGX_OK) {
        return NGX_ERROR;
    }

    /* "ms:{site:" id "}" suffix per day */

    argv = ngx_palloc(r->pool, 2 * av->ndays * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 2 * av->ndays * sizeof(size_t));
    p = ngx_pnalloc(r->pool, av->ndays * (sizeof("ms:{site:}") - 1
                                          + site->id.len + av->suffix_len));

    if (argv == NULL || argvlen == NULL || p == NULL) {
        return NGX_ERROR;
    }

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

void
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


/*
 * A site whose info is known (cached): HMGET of the booked fields of the
 * window's slots, one command per UTC day, instead of HGETALL of whole
 * days; nothing at all when the window is not within opening hours (the
 * site is then closed, whatever is booked).
 */

ngx_int_t
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

void
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


/*
 * GEOSEARCH ms:geo FROMLONLAT lon lat BYRADIUS r km ASC COUNT n WITHDIST:
 * the sites nearest first (also what "book the nearest" tries)
 */

ngx_int_t
ngx_http_mobispot_geosearch_cmd(ngx_http_request_t *r, double lat,
    double lon, double radius, ngx_uint_t count,
    ngx_http_mobispot_redis_cmd_t *cmd)
{
    u_char       *p;
    const char  **argv;
    size_t       *argvlen;

    argv = ngx_palloc(r->pool, 12 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 12 * sizeof(size_t));
    p = ngx_pnalloc(r->pool, 4 * 32);

    if (argv == NULL || argvlen == NULL || p == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "GEOSEARCH";
    argv[1] = NGX_HTTP_MOBISPOT_KEY_GEO;
    argv[2] = "FROMLONLAT";
    argv[3] = (char *) p;
    argvlen[3] = mobispot_format_coordinate((char *) p, 32, lon);
    p += 32;
    argv[4] = (char *) p;
    argvlen[4] = mobispot_format_coordinate((char *) p, 32, lat);
    p += 32;

    if (argvlen[3] == 0 || argvlen[4] == 0) {
        return NGX_ERROR;
    }

    argv[5] = "BYRADIUS";
    argv[6] = (char *) p;
    argvlen[6] = ngx_sprintf(p, "%.4f", radius) - p;
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

    cmd->argc = 12;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}
