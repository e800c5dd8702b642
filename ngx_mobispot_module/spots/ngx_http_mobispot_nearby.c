
/*
 * Copyright (C) Mobispot
 *
 * GET {prefix}spots/nearby: GEOSEARCH (and the catalogue version), then
 * the candidates in rounds of at most "limit" sites, nearest first: the
 * info the worker does not have, then the booked slots, each a pipelined
 * call; what the worker has (site info, parts, passports) is not asked
 * again.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_avail.h"


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


static void ngx_http_mobispot_nearby_geo_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_nearby_geo_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static void ngx_http_mobispot_nearby_round_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static ngx_int_t ngx_http_mobispot_nearby_round(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
static ngx_int_t ngx_http_mobispot_nearby_info_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_redis_cmd_t *cmds,
    ngx_uint_t *n);
static ngx_int_t ngx_http_mobispot_nearby_slots_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t *n);
static void ngx_http_mobispot_nearby_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);


/*
 * GET {prefix}spots/nearby?lat=&lon=&radius_km=&kind=&from=&to=&limit=&all=
 */

ngx_int_t
ngx_http_mobispot_nearby(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    int64_t                          now;
    ngx_int_t                        rc;
    ngx_str_t                        key;
    ngx_uint_t                       count;
    unsigned long                    limit;
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

    cmd = ngx_palloc(r->pool, 2 * sizeof(ngx_http_mobispot_redis_cmd_t));

    if (cmd == NULL
        || ngx_http_mobispot_geosearch_cmd(r, av->lat, av->lon, av->radius,
                                           count, &cmd[0])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the catalogue version, for the worker's site info cache */

    cmd[1].argc = 2;
    cmd[1].argv = version;
    cmd[1].argvlen = version_len;

    return ngx_http_mobispot_api_read(r, ctx, cmd, 2,
                                      ngx_http_mobispot_nearby_geo_reply,
                                      ngx_http_mobispot_nearby_geo_done, ctx);
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


/*
 * After GEOSEARCH: the candidates are read in rounds of at most "limit"
 * sites, nearest first, until "limit" of them are listed (or all are
 * read): a round asks the info of the sites whose info the worker does not
 * have under the version just read, then the booked fields of the window's
 * slots of those that are open over it and whose part is not cached.  So a
 * miss needs one command per site and round at most, and a site that is
 * closed over the window needs no booked read at all.
 */

static void
ngx_http_mobispot_nearby_geo_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    ngx_http_mobispot_avail_t            *av;
    ngx_http_mobispot_spots_main_conf_t  *smcf;

    av = ctx->data;

    if (ngx_http_mobispot_spots_call_failed(r, status, av->bad, "GEOSEARCH")) {
        return;
    }

    if (av->nsites == 0) {
        ngx_http_finalize_request(r, ngx_http_mobispot_nearby_send(r, av));
        return;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_spots_module);

    ngx_http_mobispot_info_cache_version(smcf->info_cache, av->version);

    if (av->signed_in
        && ngx_array_init(&av->passports, r->pool, 8, sizeof(ngx_str_t))
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    av->round = NGX_HTTP_MOBISPOT_ROUND_NEXT;

    /* NGX_DONE (a round was sent) releases the reference of the first call */
    ngx_http_finalize_request(r, ngx_http_mobispot_nearby_round(r, ctx));
}


static void
ngx_http_mobispot_nearby_round_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    ngx_http_mobispot_avail_t  *av;

    av = ctx->data;

    if (ngx_http_mobispot_spots_call_failed(r, status, av->bad, "nearby")) {
        return;
    }

    ngx_http_finalize_request(r, ngx_http_mobispot_nearby_round(r, ctx));
}


/*
 * The next step: the next round's commands sent (NGX_DONE), or the answer
 * once enough sites are listed; what the route handler would return.
 */

static ngx_int_t
ngx_http_mobispot_nearby_round(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_uint_t                      n, max;
    ngx_http_mobispot_avail_t      *av;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    av = ctx->data;

    for ( ;; ) {

        if (av->round == NGX_HTTP_MOBISPOT_ROUND_NEXT) {
            if (av->listed >= av->limit || av->last == av->nsites) {
                return ngx_http_mobispot_nearby_send(r, av);
            }

            av->first = av->last;
            av->last = ngx_min(av->nsites, av->first + av->limit);
            av->round = NGX_HTTP_MOBISPOT_ROUND_INFO;
        }

        if (av->round == NGX_HTTP_MOBISPOT_ROUND_DONE) {
            ngx_http_mobispot_nearby_listed(r, av);
            av->round = NGX_HTTP_MOBISPOT_ROUND_NEXT;
            continue;
        }

        /* a command per site and UTC day of the window, and the passports */

        max = (av->last - av->first) * av->ndays + 1;

        cmds = ngx_palloc(r->pool, max * sizeof(ngx_http_mobispot_redis_cmd_t));
        av->map = ngx_palloc(r->pool,
                             max * sizeof(ngx_http_mobispot_cmd_map_t));

        if (cmds == NULL || av->map == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        av->nmap = 0;
        n = 0;

        if (av->round == NGX_HTTP_MOBISPOT_ROUND_INFO) {
            if (ngx_http_mobispot_nearby_info_cmds(r, av, cmds, &n) != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            av->round = NGX_HTTP_MOBISPOT_ROUND_SLOTS;

        } else {
            if (ngx_http_mobispot_nearby_slots_cmds(r, ctx, av, cmds, &n)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            av->round = NGX_HTTP_MOBISPOT_ROUND_DONE;
        }

        if (av->signed_in && !av->passports_asked) {
            av->passports_asked = 1;

            if (ngx_http_mobispot_nearby_passports(r, ctx, av, &cmds[n], &n)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        if (n == 0) {
            /* every site of the round known, or closed, or in a part */
            continue;
        }

        return ngx_http_mobispot_api_read(r, ctx, cmds, n,
                                          ngx_http_mobispot_nearby_reply,
                                          ngx_http_mobispot_nearby_round_done,
                                          ctx);
    }
}


/*
 * The round's sites whose info the worker has under the version read with
 * GEOSEARCH are known; an HMGET of the info of each of the others.
 */

static ngx_int_t
ngx_http_mobispot_nearby_info_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_redis_cmd_t *cmds,
    ngx_uint_t *n)
{
    ngx_int_t                             rc;
    ngx_uint_t                            i;
    ngx_http_mobispot_site_t             *site;
    ngx_http_mobispot_main_conf_t        *mcf;
    ngx_http_mobispot_spots_main_conf_t  *smcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);
    smcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_spots_module);

    for (i = av->first; i < av->last; i++) {
        site = &av->sites[i];

        rc = ngx_http_mobispot_info_cache_get(smcf->info_cache, &site->id,
                                              av->version, r->pool,
                                              &site->info);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            site->found = 1;
            site->prepared = 1;
            site->capacity = site->info.cap[av->kind];
            continue;
        }

        if (ngx_http_mobispot_site_info_cmd(r, site, &cmds[*n]) != NGX_OK) {
            return NGX_ERROR;
        }

        if (av->part_epoch) {
            /* a part computed from it depends on it as it is now */
            ngx_http_mobispot_cache_counter(mcf->cache, cmds[*n].argv[1],
                                            cmds[*n].argvlen[1],
                                            &site->info_dep);
        }

        av->map[av->nmap].site = i;
        av->map[av->nmap].what = NGX_HTTP_MOBISPOT_READ_INFO;
        av->map[av->nmap].day = 0;
        av->nmap++;

        (*n)++;
    }

    return NGX_OK;
}


/*
 * The round's sites, their info known: the part of each (free and open
 * over the window's slots) when the answer cache has it, else the booked
 * fields of its slots when it is open over the window.
 */

static ngx_int_t
ngx_http_mobispot_nearby_slots_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t *n)
{
    size_t                                k, max;
    ngx_int_t                             rc;
    ngx_uint_t                            i, n0, d, fresh;
    mobispot_slot_t                      *slots;
    ngx_http_mobispot_site_t             *site;
    ngx_http_mobispot_main_conf_t        *mcf;
    ngx_http_mobispot_spots_main_conf_t  *smcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);
    smcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_spots_module);

    max = ngx_http_mobispot_nearby_slots_max(av);

    slots = ngx_palloc(r->pool, max * sizeof(mobispot_slot_t));
    if (slots == NULL) {
        return NGX_ERROR;
    }

    for (i = av->first; i < av->last; i++) {
        site = &av->sites[i];

        if (!site->found) {
            /* in the GEO index, deleted or not yet written: skipped */
            continue;
        }

        /*
         * Its info read in this round's first step: its part depends on
         * its info hash too (a part of a site whose info is cached depends
         * on the version under which it is cached).
         */

        fresh = !site->prepared;

        if (fresh) {
            if (ngx_http_mobispot_site_prepare(r, av, site) != NGX_OK) {
                site->found = 0;
                continue;
            }

            ngx_http_mobispot_info_cache_put(smcf->info_cache, &site->id,
                                             av->version, &site->info);
        }

        /*
         * The slots say which part; whether they are open is needed only
         * if the part is not there.
         */

        k = mobispot_slots(site->info.tz, site->info.slot, av->from, av->to,
                           slots, max);

        if (av->part_epoch) {
            rc = ngx_http_mobispot_nearby_part(r, av, site, slots, k,
                                               mcf->cache, ctx->cache);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_OK) {
                /* no command for this site */
                continue;
            }
        }

        ngx_http_mobispot_site_open(site, slots, k);

        /* kept for nearby_listed(), which needs them again */

        site->slots = ngx_palloc(r->pool, k * sizeof(mobispot_slot_t));
        if (site->slots == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(site->slots, slots, k * sizeof(mobispot_slot_t));
        site->nslots = k;

        n0 = *n;

        if (ngx_http_mobispot_site_slot_cmds(r, av, i, slots, k, cmds, n)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (site->part.len == 0) {
            continue;
        }

        /* the part depends on the version and on the keys read now */

        site->deps = ngx_palloc(r->pool, (2 + *n - n0)
                                 * sizeof(ngx_http_mobispot_cache_dep_t));
        if (site->deps == NULL) {
            return NGX_ERROR;
        }

        site->deps[0] = av->version_dep;
        site->ndeps = 1;

        if (fresh) {
            site->deps[site->ndeps++] = site->info_dep;
        }

        for (d = n0; d < *n; d++) {
            ngx_http_mobispot_cache_counter(mcf->cache, cmds[d].argv[1],
                                            cmds[d].argvlen[1],
                                            &site->deps[site->ndeps++]);
        }
    }

    return NGX_OK;
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

        if (m->what == NGX_HTTP_MOBISPOT_READ_SLOTS) {
            ngx_http_mobispot_site_slots_reply(r, av, m, reply);
            return;
        }

        /* NGX_HTTP_MOBISPOT_READ_INFO */
        ngx_http_mobispot_site_reply(r, av, &av->sites[m->site], 0, reply);
        return;
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
