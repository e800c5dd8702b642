
/*
 * Copyright (C) Mobispot
 *
 * Site entitlement of the SSO gateway: the networks of the site this
 * gateway fronts (mobispot_site) and their passports are read from Redis
 * with the worker's client, kept per worker for mobispot_site_cache_ttl,
 * and an accepted token must cover one of those networks
 * (mobispot_claims_entitled()).
 *
 * Redis keys (docs/data-model.md):
 *   HMGET   ms:{site:<id>}:info networks zone  "cowallonia,swc", "wallonia"
 *   HGETALL ms:{networks}:passport           network id -> passport id
 *
 * A message on the channel ms:sso:sites (a site id, or "*" for all) makes
 * the workers read the site again before its next use: the writer of the
 * site catalogue publishes it after a change.
 *
 * When the worker's copy is older than the TTL, the request waits for
 * Redis (the access phase resumes in the call's done handler).  When Redis
 * cannot answer, a copy younger than TTL + mobispot_site_max_stale is
 * used; without one the request is refused as "unavailable" (fail closed).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sso/ngx_http_mobispot_sso.h"


static void ngx_http_mobispot_sso_site_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_sso_site_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static ngx_int_t ngx_http_mobispot_sso_site_store(ngx_http_request_t *r,
    ngx_http_mobispot_sso_site_t *site, ngx_http_mobispot_sso_ctx_t *ctx);
static void ngx_http_mobispot_sso_site_stale(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx,
    ngx_http_mobispot_sso_site_t *site);
static void ngx_http_mobispot_sso_site_decide(ngx_http_request_t *r,
    ngx_http_mobispot_sso_ctx_t *ctx, ngx_http_mobispot_sso_site_t *site);
static void ngx_http_mobispot_sso_sites_changed(void *data, u_char *msg,
    size_t len);
static void ngx_http_mobispot_sso_sites_snapshot(void *data,
    redisReply *reply);
static void ngx_http_mobispot_sso_sites_state(void *data, ngx_uint_t up);


/*
 * NGX_OK: decided (ctx->status is ok, not_entitled or unavailable);
 * NGX_AGAIN: waiting for Redis, the access phase is run again later.
 */

ngx_int_t
ngx_http_mobispot_sso_entitlement(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx)
{
    u_char                             *p;
    size_t                              len0[4], len1[2];
    ngx_int_t                           rc;
    const char                         *argv0[4], *argv1[2];
    ngx_http_mobispot_redis_cmd_t       cmds[2];
    ngx_http_mobispot_sso_site_t       *site;
    ngx_http_mobispot_main_conf_t      *mmcf;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);

    if (mcf->sites == NULL) {
        ctx->status = MOBISPOT_SSO_UNAVAILABLE;
        return NGX_OK;
    }

    site = &mcf->sites[lcf->site_index];

    if (site->fetched && !site->changed
        && ngx_time() - site->fetched < lcf->site_ttl)
    {
        ngx_http_mobispot_sso_site_decide(r, ctx, site);
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, sizeof("ms:{site:}:info") - 1 + site->id.len);
    if (p == NULL) {
        ctx->status = MOBISPOT_SSO_UNAVAILABLE;
        return NGX_OK;
    }

    /* the argument vectors are copied by hiredis when the call is made */

    argv0[0] = "HMGET";
    len0[0] = 5;
    argv0[1] = (const char *) p;
    len0[1] = ngx_sprintf(p, "ms:{site:%V}:info", &site->id) - p;
    argv0[2] = "networks";
    len0[2] = sizeof("networks") - 1;
    argv0[3] = "zone";
    len0[3] = sizeof("zone") - 1;

    argv1[0] = "HGETALL";
    len1[0] = 7;
    argv1[1] = "ms:{networks}:passport";
    len1[1] = sizeof("ms:{networks}:passport") - 1;

    cmds[0].argc = 4;
    cmds[0].argv = argv0;
    cmds[0].argvlen = len0;
    cmds[1].argc = 2;
    cmds[1].argv = argv1;
    cmds[1].argvlen = len1;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);

    rc = ngx_http_mobispot_redis_call(r, mmcf->client, cmds, 2,
                                      ngx_http_mobispot_sso_site_reply,
                                      ngx_http_mobispot_sso_site_done, ctx);

    if (rc == NGX_OK) {
        r->main->count++;

        /* notice a client that goes away while Redis is answering */
        r->read_event_handler = ngx_http_test_reading;
        r->write_event_handler = ngx_http_request_empty_handler;

        return NGX_AGAIN;
    }

    ngx_http_mobispot_sso_site_stale(r, lcf, ctx, site);

    return NGX_OK;
}


/* copies what the replies say into the request pool */

static void
ngx_http_mobispot_sso_site_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_sso_ctx_t *ctx = data;

    size_t       i;
    ngx_str_t   *s, *out;
    redisReply  *e;

    if (index == 0) {

        /* HMGET networks zone: each a string or nil */

        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
            return;
        }

        for (i = 0; i < 2; i++) {
            e = reply->element[i];
            out = (i == 0) ? &ctx->site_nets : &ctx->site_zone;

            if (e->type == REDIS_REPLY_NIL) {
                continue;
            }

            if (e->type != REDIS_REPLY_STRING) {
                return;
            }

            out->data = ngx_pnalloc(r->pool, e->len + 1);
            if (out->data == NULL) {
                return;
            }

            ngx_memcpy(out->data, e->str, e->len);
            out->len = e->len;
        }

        ctx->site_read = 1;

        return;
    }

    if (!ctx->site_read || reply->type != REDIS_REPLY_ARRAY
        || reply->elements % 2)
    {
        ctx->site_read = 0;
        return;
    }

    ctx->site_passports = ngx_array_create(r->pool, reply->elements + 1,
                                           sizeof(ngx_str_t));
    if (ctx->site_passports == NULL) {
        ctx->site_read = 0;
        return;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            ctx->site_read = 0;
            return;
        }

        s = ngx_array_push(ctx->site_passports);
        if (s == NULL) {
            ctx->site_read = 0;
            return;
        }

        s->len = reply->element[i]->len;
        s->data = ngx_pnalloc(r->pool, s->len + 1);
        if (s->data == NULL) {
            ctx->site_read = 0;
            return;
        }

        ngx_memcpy(s->data, reply->element[i]->str, s->len);
        s->data[s->len] = '\0';
    }
}


static void
ngx_http_mobispot_sso_site_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_sso_ctx_t *ctx = data;

    ngx_http_mobispot_sso_site_t       *site;
    ngx_http_mobispot_sso_loc_conf_t   *lcf;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_sso_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);
    site = &mcf->sites[lcf->site_index];

    ctx->entitlement_done = 1;

    if (status == NGX_HTTP_MOBISPOT_REDIS_OK && ctx->site_read
        && ctx->site_passports != NULL
        && ngx_http_mobispot_sso_site_store(r, site, ctx) == NGX_OK)
    {
        ngx_http_mobispot_sso_site_decide(r, ctx, site);

    } else {
        if (status == NGX_HTTP_MOBISPOT_REDIS_OK) {
            ngx_http_mobispot_fault(NGX_LOG_ERR, r->connection->log,
                                    "mobispot: unexpected redis replies for "
                                    "the networks of site \"%V\"",
                                    &site->id);
        }

        ngx_http_mobispot_sso_site_stale(r, lcf, ctx, site);
    }

    r->main->count--;
    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}


/* the passport of one network of the site, or NULL: pairs are id, passport */

static ngx_str_t *
ngx_http_mobispot_sso_site_passport(ngx_array_t *pairs, u_char *net,
    size_t len)
{
    ngx_str_t   *pair;
    ngx_uint_t   j;

    pair = pairs->elts;

    for (j = 0; j + 1 < pairs->nelts; j += 2) {
        if (pair[j].len == len && ngx_strncmp(pair[j].data, net, len) == 0) {
            return &pair[j + 1];
        }
    }

    return NULL;
}


/*
 * the worker's copy of the site: one allocation, arrays then strings;
 * it is sized by the site's networks as they are copied, one passport
 * per network of the site (a network may be listed more than once by a
 * writer other than the admin API, and each listing gets its own copy)
 */

static ngx_int_t
ngx_http_mobispot_sso_site_store(ngx_http_request_t *r,
    ngx_http_mobispot_sso_site_t *site, ngx_http_mobispot_sso_ctx_t *ctx)
{
    u_char       *p, *last, *start, *mem, *str;
    size_t        size;
    ngx_uint_t    n, i;
    ngx_str_t    *pass;
    const char  **nets, **passports;

    n = 0;

    if (ctx->site_nets.len) {
        n = 1;

        for (i = 0; i < ctx->site_nets.len; i++) {
            if (ctx->site_nets.data[i] == ',') {
                n++;
            }
        }
    }

    size = 2 * n * sizeof(char *) + ctx->site_nets.len + n
           + ctx->site_zone.len + 1;

    p = ctx->site_nets.data;
    last = p + ctx->site_nets.len;

    for (i = 0; i < n; i++) {
        start = p;

        while (p < last && *p != ',') {
            p++;
        }

        pass = ngx_http_mobispot_sso_site_passport(ctx->site_passports,
                                                   start, p - start);
        if (pass) {
            size += pass->len + 1;
        }

        p++;
    }

    mem = ngx_alloc(size + 1, r->connection->log);
    if (mem == NULL) {
        return NGX_ERROR;
    }

    nets = (const char **) mem;
    passports = nets + n;
    str = (u_char *) (passports + n);

    p = ctx->site_nets.data;
    last = p + ctx->site_nets.len;

    for (i = 0; i < n; i++) {
        start = p;

        while (p < last && *p != ',') {
            p++;
        }

        nets[i] = (const char *) str;
        str = ngx_cpymem(str, start, p - start);
        *str++ = '\0';

        passports[i] = NULL;

        pass = ngx_http_mobispot_sso_site_passport(ctx->site_passports,
                                                   start, p - start);
        if (pass) {
            passports[i] = (const char *) str;
            str = ngx_cpymem(str, pass->data, pass->len);
            *str++ = '\0';
        }

        p++;
    }

    site->zone = NULL;

    /* an empty zone (the catalogue writes one for a site without) is none */
    if (ctx->site_zone.len) {
        site->zone = (const char *) str;
        str = ngx_cpymem(str, ctx->site_zone.data, ctx->site_zone.len);
        *str++ = '\0';
    }

    if (site->mem) {
        ngx_free(site->mem);
    }

    site->mem = mem;
    site->nets = nets;
    site->passports = passports;
    site->n = n;
    site->fetched = ngx_time();
    site->changed = 0;
    site->gen++;

    if (n == 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mobispot: site \"%V\" has no networks in redis: "
                      "no token is entitled to it", &site->id);
    }

    return NGX_OK;
}


static void
ngx_http_mobispot_sso_site_stale(ngx_http_request_t *r,
    ngx_http_mobispot_sso_loc_conf_t *lcf, ngx_http_mobispot_sso_ctx_t *ctx,
    ngx_http_mobispot_sso_site_t *site)
{
    ngx_uint_t  skipped;

    static ngx_http_mobispot_log_limit_t  site_log;

    if (site->fetched
        && ngx_time() - site->fetched < lcf->site_ttl + lcf->site_max_stale)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mobispot: redis unavailable, stale networks of "
                       "site \"%V\" used", &site->id);

        ngx_http_mobispot_sso_site_decide(r, ctx, site);
        return;
    }

    /* at every request while Redis is down: once a second per worker */

    if (ngx_http_mobispot_log_limit(&site_log, &skipped)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mobispot: networks of site \"%V\" unknown and redis "
                      "unavailable: request refused (%ui such lines left "
                      "out)", &site->id, skipped);
    }

    ctx->status = MOBISPOT_SSO_UNAVAILABLE;
}


static void
ngx_http_mobispot_sso_site_decide(ngx_http_request_t *r,
    ngx_http_mobispot_sso_ctx_t *ctx, ngx_http_mobispot_sso_site_t *site)
{
    ngx_uint_t                            rc;
    yajl_val                              payload;
    const char                           *reason;
    ngx_http_mobispot_sso_cache_entry_t  *e;

    e = ctx->entry;
    reason = "decided earlier for this token";

    if (e && e->site == site && e->site_gen == site->gen) {
        /* a repeat token, the same copy of the site: the same answer */
        rc = e->site_rc;
        goto decided;
    }

    payload = ngx_http_mobispot_sso_payload(r, ctx);

    if (payload == NULL) {
        ctx->status = MOBISPOT_SSO_UNAVAILABLE;
        return;
    }

    reason = "";

    rc = mobispot_claims_entitled(payload, site->nets, site->passports,
                                  site->n, &reason);

    if (rc == MOBISPOT_SSO_OK) {
        rc = mobispot_claims_zone(payload, site->zone, &reason);
    }

    if (e) {
        e->site = site;
        e->site_gen = site->gen;
        e->site_rc = rc;
    }

decided:

    if (rc != MOBISPOT_SSO_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mobispot: sso token refused (%s): %s, site \"%V\"",
                      mobispot_sso_status_name(rc), reason, &site->id);

        ctx->status = rc;
    }
}


ngx_int_t
ngx_http_mobispot_sso_sites_init(ngx_cycle_t *cycle,
    ngx_http_mobispot_sso_main_conf_t *mcf)
{
    ngx_str_t                           *ids;
    ngx_uint_t                           i;
    ngx_http_mobispot_main_conf_t       *mmcf;
    ngx_http_mobispot_redis_sub_conf_t   sc;

    if (mcf->site_ids.nelts == 0) {
        return NGX_OK;
    }

    mcf->sites = ngx_calloc(mcf->site_ids.nelts
                            * sizeof(ngx_http_mobispot_sso_site_t),
                            cycle->log);
    if (mcf->sites == NULL) {
        return NGX_ERROR;
    }

    ids = mcf->site_ids.elts;

    for (i = 0; i < mcf->site_ids.nelts; i++) {
        mcf->sites[i].id = ids[i];
    }

    mmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_mobispot_module);

    ngx_memzero(&sc, sizeof(ngx_http_mobispot_redis_sub_conf_t));

    sc.channel = "ms:sso:sites";
    sc.on_snapshot = ngx_http_mobispot_sso_sites_snapshot;
    sc.on_message = ngx_http_mobispot_sso_sites_changed;
    sc.on_state = ngx_http_mobispot_sso_sites_state;
    sc.data = mcf;

    mcf->sites_sub = ngx_http_mobispot_redis_subscribe(mmcf->client, &sc);
    if (mcf->sites_sub == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "<site id>" or "*": the copies are read again before their next use */

static void
ngx_http_mobispot_sso_sites_changed(void *data, u_char *msg, size_t len)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = data;

    ngx_uint_t  i;

    for (i = 0; i < mcf->site_ids.nelts; i++) {
        if ((len == 1 && msg[0] == '*')
            || (mcf->sites[i].id.len == len
                && ngx_strncmp(mcf->sites[i].id.data, msg, len) == 0))
        {
            mcf->sites[i].changed = 1;
        }
    }
}


static void
ngx_http_mobispot_sso_sites_snapshot(void *data, redisReply *reply)
{
    /* no snapshot command */
}


/* a change may have been missed while the subscription was down */

static void
ngx_http_mobispot_sso_sites_state(void *data, ngx_uint_t up)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = data;

    ngx_uint_t  i;

    if (up) {
        for (i = 0; i < mcf->site_ids.nelts; i++) {
            mcf->sites[i].changed = 1;
        }
    }
}


void
ngx_http_mobispot_sso_sites_free(ngx_http_mobispot_sso_main_conf_t *mcf)
{
    ngx_uint_t  i;

    if (mcf->sites_sub) {
        ngx_http_mobispot_redis_unsubscribe(mcf->sites_sub);
        mcf->sites_sub = NULL;
    }

    if (mcf->sites == NULL) {
        return;
    }

    for (i = 0; i < mcf->site_ids.nelts; i++) {
        if (mcf->sites[i].mem) {
            ngx_free(mcf->sites[i].mem);
        }
    }

    ngx_free(mcf->sites);
    mcf->sites = NULL;
}
