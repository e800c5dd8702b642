
/*
 * Copyright (C) Mobispot
 *
 * The writes of the admin API, once a body has been checked
 * (ngx_http_mobispot_admin.c).  Each write is two steps, the second sent
 * only when every reply of the first (every reply inside its EXEC too)
 * says it was done:
 *
 *   1. the entry itself, atomically on its own hash tag: MULTI, the
 *      site's info and doc (or the networks' two hashes), EXEC;
 *   2. the global indexes (ms:geo, ms:sites), then INCR ms:version, then
 *      PUBLISH ms:sso:sites (<id>, or * after a network write: every
 *      site's passports may have changed).
 *
 * So a write that fails leaves either nothing, or its entry without its
 * indexes (answered with an error: repeating the PUT or DELETE completes
 * it), and never indexes that a write which failed would have changed.  A
 * DELETE of a site that is not there ends after step 1 with a 404: no
 * INCR, no PUBLISH.  Every call declares the keys it writes, so that the
 * worker forgets its answers that depend on them before it answers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_admin.h"


static ngx_int_t ngx_http_mobispot_write_entry_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_write_index(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);


static ngx_str_t  ngx_http_mobispot_multi = ngx_string("MULTI");
static ngx_str_t  ngx_http_mobispot_exec = ngx_string("EXEC");
static ngx_str_t  ngx_http_mobispot_del = ngx_string("DEL");
static ngx_str_t  ngx_http_mobispot_set = ngx_string("SET");
static ngx_str_t  ngx_http_mobispot_hset = ngx_string("HSET");
static ngx_str_t  ngx_http_mobispot_geo = ngx_string(NGX_HTTP_MOBISPOT_KEY_GEO);
static ngx_str_t  ngx_http_mobispot_sites =
    ngx_string(NGX_HTTP_MOBISPOT_KEY_SITES);
static ngx_str_t  ngx_http_mobispot_version =
    ngx_string(NGX_HTTP_MOBISPOT_KEY_VERSION);
static ngx_str_t  ngx_http_mobispot_networks =
    ngx_string(NGX_HTTP_MOBISPOT_KEY_NETWORKS);
static ngx_str_t  ngx_http_mobispot_passports =
    ngx_string(NGX_HTTP_MOBISPOT_KEY_PASSPORTS);
static ngx_str_t  ngx_http_mobispot_all = ngx_string("*");


/*
 * PUT admin/sites/{id}, step 1: MULTI, DEL info, HSET info <fields>,
 * SET doc, EXEC.
 */

ngx_int_t
ngx_http_mobispot_admin_site_write(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    size_t                         *argvlen;
    ngx_int_t                       rc;
    ngx_str_t                      *info, *doc, *f, *values[10], *keys;
    ngx_str_t                      *list, *name;
    ngx_uint_t                      i, j, k;
    const char                    **argv;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t  *cmds;
    ngx_http_mobispot_api_keys_t   *declared;

    static const char  *names[] = {
        "name", "town", "tz", "slot", "hours", "closed", "networks", "lat",
        "lon", "zone"
    };

    ad = ctx->data;

    values[0] = &ad->name;
    values[1] = &ad->town;
    values[2] = &ad->tz;
    values[3] = &ad->slot;
    values[4] = &ad->hours;
    values[5] = &ad->closed;
    values[6] = &ad->networks;
    values[7] = &ad->lat;
    values[8] = &ad->lon;
    values[9] = &ad->zone;

    keys = ngx_palloc(r->pool, 2 * sizeof(ngx_str_t));
    if (keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    info = &keys[0];
    doc = &keys[1];

    rc = ngx_http_mobispot_spots_key(r, info, "ms:{site:%V}:info", &ad->id);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mobispot_spots_key(r, doc, "ms:{site:%V}:doc", &ad->id);
    if (rc != NGX_OK) {
        return rc;
    }

    cmds = ngx_palloc(r->pool, 5 * sizeof(ngx_http_mobispot_redis_cmd_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    k = 2 + 2 * (10 + 3 * MOBISPOT_KINDS - 2);
    argv = ngx_palloc(r->pool, k * sizeof(char *));
    argvlen = ngx_palloc(r->pool, k * sizeof(size_t));
    f = ngx_palloc(r->pool, MOBISPOT_KINDS * 5 * sizeof(ngx_str_t));

    if (cmds == NULL || declared == NULL || argv == NULL || argvlen == NULL
        || f == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * HSET info: 10 fields, a capacity per kind, and the room ids of each
     * kind of room (what a booking picks from), and those of them that are
     * for company accounts only
     */

    argv[0] = "HSET";
    argvlen[0] = 4;
    argv[1] = (char *) info->data;
    argvlen[1] = info->len;

    k = 2;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        argv[k] = names[i];
        argvlen[k++] = ngx_strlen(names[i]);
        argv[k] = (char *) values[i]->data;
        argvlen[k++] = values[i]->len;
    }

    for (i = 0; i < MOBISPOT_KINDS; i++) {
        f[2 * i].data = ngx_pnalloc(r->pool, 32);
        f[2 * i + 1].data = ngx_pnalloc(r->pool, NGX_INT64_LEN);

        if (f[2 * i].data == NULL || f[2 * i + 1].data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        f[2 * i].len = ngx_sprintf(f[2 * i].data, "cap:%s",
                                   mobispot_kind_names[i])
                       - f[2 * i].data;
        f[2 * i + 1].len = ngx_sprintf(f[2 * i + 1].data, "%L", ad->cap[i])
                           - f[2 * i + 1].data;

        argv[k] = (char *) f[2 * i].data;
        argvlen[k++] = f[2 * i].len;
        argv[k] = (char *) f[2 * i + 1].data;
        argvlen[k++] = f[2 * i + 1].len;

        if (i == MOBISPOT_KIND_DESK) {
            continue;
        }

        /* rooms:<kind>, then company_rooms:<kind> */

        for (j = 0; j < 2; j++) {
            list = j ? &ad->company_rooms[i] : &ad->rooms[i];
            name = &f[(2 + j) * MOBISPOT_KINDS + i];

            name->data = ngx_pnalloc(r->pool, 32);
            if (name->data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            name->len = ngx_sprintf(name->data, "%s:%s",
                                    j ? "company_rooms" : "rooms",
                                    mobispot_kind_names[i])
                        - name->data;

            argv[k] = (char *) name->data;
            argvlen[k++] = name->len;
            argv[k] = list->len ? (char *) list->data : "";
            argvlen[k++] = list->len;
        }
    }

    cmds[2].argc = (int) k;
    cmds[2].argv = argv;
    cmds[2].argvlen = argvlen;

    if (ngx_http_mobispot_admin_cmd(r, &cmds[0], 1, &ngx_http_mobispot_multi)
        != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[1], 2, &ngx_http_mobispot_del,
                                       info)
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[3], 3, &ngx_http_mobispot_set,
                                       doc, &ad->doc)
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[4], 1, &ngx_http_mobispot_exec)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    declared->written = keys;
    declared->nwritten = 2;

    /* the first reply inside EXEC, DEL info: 0 when the site is new */
    ad->kind = NGX_HTTP_MOBISPOT_WRITE_SITE;
    ad->what = "catalogue entry";
    ad->new_when = 0;

    return ngx_http_mobispot_api_call(r, ctx, cmds, 5, declared,
                                      ngx_http_mobispot_write_entry_done);
}


/* DELETE admin/sites/{id}, step 1: MULTI, DEL doc, DEL info, EXEC */

ngx_int_t
ngx_http_mobispot_admin_site_remove(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                      *keys;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t  *cmds;
    ngx_http_mobispot_api_keys_t   *declared;

    ad = ctx->data;

    keys = ngx_palloc(r->pool, 2 * sizeof(ngx_str_t));
    if (keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mobispot_spots_key(r, &keys[0], "ms:{site:%V}:doc",
                                     &ad->id);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mobispot_spots_key(r, &keys[1], "ms:{site:%V}:info",
                                     &ad->id);
    if (rc != NGX_OK) {
        return rc;
    }

    cmds = ngx_palloc(r->pool, 4 * sizeof(ngx_http_mobispot_redis_cmd_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || declared == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_admin_cmd(r, &cmds[0], 1,
                                       &ngx_http_mobispot_multi)
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[1], 2, &ngx_http_mobispot_del,
                                       &keys[0])
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[2], 2, &ngx_http_mobispot_del,
                                       &keys[1])
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[3], 1, &ngx_http_mobispot_exec)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    declared->written = keys;
    declared->nwritten = 2;

    ad->kind = NGX_HTTP_MOBISPOT_WRITE_DELETE;
    ad->what = "site";
    ad->deleted = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmds, 4, declared,
                                      ngx_http_mobispot_write_entry_done);
}


/*
 * PUT admin/networks/{id}, step 1: MULTI, HSET ms:{networks}:doc,
 * HSET ms:{networks}:passport, EXEC.
 */

ngx_int_t
ngx_http_mobispot_admin_network_write(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t  *cmds;
    ngx_http_mobispot_api_keys_t   *declared;

    static ngx_str_t  keys[] = {
        ngx_string(NGX_HTTP_MOBISPOT_KEY_NETWORKS),
        ngx_string(NGX_HTTP_MOBISPOT_KEY_PASSPORTS)
    };

    ad = ctx->data;

    cmds = ngx_palloc(r->pool, 4 * sizeof(ngx_http_mobispot_redis_cmd_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || declared == NULL
        || ngx_http_mobispot_admin_cmd(r, &cmds[0], 1,
                                       &ngx_http_mobispot_multi)
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[1], 4,
                                       &ngx_http_mobispot_hset,
                                       &ngx_http_mobispot_networks, &ad->id,
                                       &ad->doc)
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[2], 4,
                                       &ngx_http_mobispot_hset,
                                       &ngx_http_mobispot_passports, &ad->id,
                                       &ad->name)
           != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[3], 1, &ngx_http_mobispot_exec)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    declared->written = keys;
    declared->nwritten = 2;

    /* the first reply inside EXEC, HSET: 1 for a new field */
    ad->kind = NGX_HTTP_MOBISPOT_WRITE_NETWORK;
    ad->what = "catalogue entry";
    ad->new_when = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmds, 4, declared,
                                      ngx_http_mobispot_write_entry_done);
}


/*
 * The EXEC's array when the transaction ran and every command in it too;
 * NULL when a reply (MULTI, a QUEUED, EXEC, or one inside it) is an error
 * or EXEC was aborted.
 */

ngx_http_mobispot_reply_t *
ngx_http_mobispot_admin_exec(ngx_http_mobispot_reply_t *replies, ngx_uint_t n)
{
    ngx_http_mobispot_reply_t  *exec;

    if (ngx_http_mobispot_admin_failed(replies, n)) {
        return NULL;
    }

    exec = &replies[n - 1];

    if (exec->type != REDIS_REPLY_ARRAY || exec->elements != n - 2
        || ngx_http_mobispot_admin_failed(exec->element, exec->elements))
    {
        return NULL;
    }

    return exec;
}


/* whether one of the replies is an error */

ngx_uint_t
ngx_http_mobispot_admin_failed(ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (replies[i].type == REDIS_REPLY_ERROR) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_mobispot_write_entry_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_uint_t                  i, gone;
    ngx_http_mobispot_reply_t  *exec;
    ngx_http_mobispot_admin_t  *ad;

    ad = ctx->data;

    exec = ngx_http_mobispot_admin_exec(replies, n);
    if (exec == NULL) {
        return ngx_http_mobispot_api_bad_reply(r, "a catalogue write");
    }

    if (ad->kind == NGX_HTTP_MOBISPOT_WRITE_DELETE) {
        gone = 0;

        for (i = 0; i < exec->elements; i++) {
            gone += (exec->element[i].type == REDIS_REPLY_INTEGER
                     && exec->element[i].integer > 0);
        }

        if (!gone) {
            return ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND,
                                                 "unknown_site",
                                                 "no such site", "parameter",
                                                 "id");
        }

    } else {
        ad->created = (exec->element[0].type == REDIS_REPLY_INTEGER
                       && exec->element[0].integer == ad->new_when);
    }

    return ngx_http_mobispot_write_index(r, ctx);
}


/*
 * Step 2: the indexes of a site (added, or removed), then the catalogue
 * version and the gateways' notice.
 */

static ngx_int_t
ngx_http_mobispot_write_index(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_str_t                      *keys, *what;
    ngx_uint_t                      n;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t  *cmds;
    ngx_http_mobispot_api_keys_t   *declared;

    static ngx_str_t  geoadd = ngx_string("GEOADD");
    static ngx_str_t  zrem = ngx_string("ZREM");
    static ngx_str_t  hdel = ngx_string("HDEL");
    static ngx_str_t  incr = ngx_string("INCR");
    static ngx_str_t  publish = ngx_string("PUBLISH");
    static ngx_str_t  channel = ngx_string(NGX_HTTP_MOBISPOT_CHANNEL_SITES);

    ad = ctx->data;

    cmds = ngx_palloc(r->pool, 4 * sizeof(ngx_http_mobispot_redis_cmd_t));
    keys = ngx_palloc(r->pool, 3 * sizeof(ngx_str_t));
    declared = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));

    if (cmds == NULL || keys == NULL || declared == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    switch (ad->kind) {

    case NGX_HTTP_MOBISPOT_WRITE_SITE:
        if (ngx_http_mobispot_admin_cmd(r, &cmds[n++], 5, &geoadd,
                                        &ngx_http_mobispot_geo, &ad->lon,
                                        &ad->lat, &ad->id)
            != NGX_OK
            || ngx_http_mobispot_admin_cmd(r, &cmds[n++], 4,
                                           &ngx_http_mobispot_hset,
                                           &ngx_http_mobispot_sites, &ad->id,
                                           &ad->summary)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        break;

    case NGX_HTTP_MOBISPOT_WRITE_DELETE:
        if (ngx_http_mobispot_admin_cmd(r, &cmds[n++], 3, &zrem,
                                        &ngx_http_mobispot_geo, &ad->id)
            != NGX_OK
            || ngx_http_mobispot_admin_cmd(r, &cmds[n++], 3, &hdel,
                                           &ngx_http_mobispot_sites, &ad->id)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        break;

    default: /* NGX_HTTP_MOBISPOT_WRITE_NETWORK */
        break;
    }

    what = (ad->kind == NGX_HTTP_MOBISPOT_WRITE_NETWORK)
           ? &ngx_http_mobispot_all : &ad->id;

    if (ngx_http_mobispot_admin_cmd(r, &cmds[n++], 2, &incr,
                                    &ngx_http_mobispot_version)
        != NGX_OK
        || ngx_http_mobispot_admin_cmd(r, &cmds[n++], 3, &publish, &channel,
                                       what)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys[0] = ngx_http_mobispot_version;
    keys[1] = ngx_http_mobispot_geo;
    keys[2] = ngx_http_mobispot_sites;
    declared->written = keys;
    declared->nwritten = (ad->kind == NGX_HTTP_MOBISPOT_WRITE_NETWORK) ? 1 : 3;

    return ngx_http_mobispot_api_call(r, ctx, cmds, n, declared,
                                      ngx_http_mobispot_admin_index_done);
}


/* step 2's replies: the answer, once none is an error */

ngx_int_t
ngx_http_mobispot_admin_index_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    if (ngx_http_mobispot_admin_failed(replies, n)) {
        return ngx_http_mobispot_api_bad_reply(r, "an index write");
    }

    return ngx_http_mobispot_admin_answer(r, ctx->data);
}


/*
 * The answer to a write that is done: the entry as stored (201 when it is
 * new), or {"id":..,"deleted":true}.
 */

ngx_int_t
ngx_http_mobispot_admin_answer(ngx_http_request_t *r,
    ngx_http_mobispot_admin_t *ad)
{
    yajl_gen  g;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: %s \"%V\" %s", ad->what, &ad->id,
                  ad->deleted ? "deleted"
                              : (ad->created ? "created" : "updated"));

    if (!ad->deleted) {
        return ngx_http_mobispot_api_send_raw(r, ad->created ? NGX_HTTP_CREATED
                                                             : NGX_HTTP_OK,
                                              ad->doc.data, ad->doc.len);
    }

    g = ngx_http_mobispot_api_gen(r);

    if (g == NULL
        || yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "id") != MOBISPOT_OK
        || yajl_gen_string(g, ad->id.data, ad->id.len) != yajl_gen_status_ok
        || mobispot_json_string(g, "deleted") != MOBISPOT_OK
        || yajl_gen_bool(g, 1) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g);
}
